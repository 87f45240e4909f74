//! Upstream endpoints for the standalone bootstrap: `CLUSTER=HOST:PORT`, from
//! `--endpoint` or a file of such lines (`#` comments and blank lines allowed).

use std::collections::BTreeMap;

/// One upstream address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// An IP literal (IPv6 without brackets) or a DNS name.
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// Whether `host` is an IP literal (a STATIC cluster can take it; a name needs DNS).
    pub fn is_ip(&self) -> bool {
        self.host.parse::<std::net::IpAddr>().is_ok()
    }
}

/// Endpoints by cluster name, sorted, so the bootstrap is deterministic.
pub type Endpoints = BTreeMap<String, Vec<Endpoint>>;

/// Parses `CLUSTER=HOST:PORT`. The cluster is split at the last `=` (Istio cluster
/// names hold `|` and `.`, never `=`); `[v6]:PORT` for IPv6.
pub fn parse(text: &str) -> Result<(String, Endpoint), String> {
    let bad = || format!("endpoint {text:?}: expected CLUSTER=HOST:PORT");
    let (cluster, address) = text.rsplit_once('=').ok_or_else(bad)?;
    let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port: u16 = port.parse().map_err(|_| bad())?;
    if cluster.is_empty() || host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((
        cluster.to_string(),
        Endpoint {
            host: host.to_string(),
            port,
        },
    ))
}

/// Reads a file of `CLUSTER=HOST:PORT` lines.
pub fn read_file(path: &str) -> Result<Vec<(String, Endpoint)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    text.lines()
        .enumerate()
        .map(|(i, line)| (i, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| parse(line).map_err(|e| format!("{path}:{}: {e}", i + 1)))
        .collect()
}

/// Groups endpoints by cluster; refuses a cluster the program never routes to (a typo
/// would otherwise leave the real cluster empty).
pub fn group(known: &[String], list: Vec<(String, Endpoint)>) -> Result<Endpoints, String> {
    let mut grouped = Endpoints::new();
    for (cluster, endpoint) in list {
        if !known.contains(&cluster) {
            return Err(format!(
                "endpoint for {cluster:?}: the program has no such cluster (it has: {})",
                known.join(", ")
            ));
        }
        grouped.entry(cluster).or_default().push(endpoint);
    }
    Ok(grouped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let (cluster, e) = parse("outbound|80||a.b.svc.cluster.local=10.0.0.1:8080").unwrap();
        assert_eq!(cluster, "outbound|80||a.b.svc.cluster.local");
        assert_eq!((e.host.as_str(), e.port, e.is_ip()), ("10.0.0.1", 8080, true));
        let (_, e) = parse("c=[::1]:80").unwrap();
        assert_eq!((e.host.as_str(), e.is_ip()), ("::1", true));
        let (_, e) = parse("c=backend.local:80").unwrap();
        assert!(!e.is_ip());
        for bad in ["c", "c=host", "=h:1", "c=h:0", "c=h:x", "c=:80"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_clusters_are_refused() {
        let known = vec!["a".to_string()];
        let e = Endpoint {
            host: "127.0.0.1".into(),
            port: 1,
        };
        assert!(group(&known, vec![("a".into(), e.clone())]).is_ok());
        assert!(
            group(&known, vec![("b".into(), e)])
                .unwrap_err()
                .contains("no such cluster")
        );
    }
}
