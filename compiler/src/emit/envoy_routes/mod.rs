//! `switchyard emit envoy-routes`: the Envoy v3 `RouteConfiguration` a control plane
//! (Istio, Envoy Gateway) would generate for the same routes, so that Envoy's own router
//! can be compared with the plugin on equal terms (`compiler/tests/envoy_routes.rs`
//! checks both decide alike; the benchmark in `bench/` measures them side by side).
//!
//! One table per listener port, named `http.PORT` as Istio names it; one virtual host
//! per host pattern, with domains `host` and `host:*` (`*.suffix` for a wildcard, `*`
//! for the catch-all); its routes are the program's entries in evaluation order, which
//! is also Envoy's (first match wins). Gateway API lets a request that no rule of its
//! most specific hostname matches fall back to the rules of a less specific one; Envoy
//! picks one virtual host and never falls back, so the fallback's routes are appended
//! to the more specific host's, as a control plane merging the routes would.
//!
//! What Envoy's route table cannot say is an error naming the resource, never dropped.

pub mod action;
pub mod bootstrap;
pub mod cli;
pub mod json;
pub mod route_match;

use switchyard_bytecode::ir::{EntryIr, HostPattern, ListenerIr, ProgramIr, VhostIr};

use self::action::{CORS_FILTER, Needs, route_fields};
use self::route_match::route_match;
use crate::emit::envoy;
use crate::emit::yaml::{Node, yaml_map};

/// One listener's route table and what the connection manager around it must provide.
#[derive(Debug, Clone)]
pub struct RouteTable {
    pub port: u32,
    pub config: Node,
    pub needs: Needs,
    /// What the program does on this listener that a route table leaves to the rest of
    /// Envoy's configuration.
    pub notes: Vec<String>,
}

impl RouteTable {
    /// The HTTP filters the table relies on, ending with the router: CORS and fault
    /// injection when a route configures them (Istio's gateways carry both).
    pub fn http_filters(&self) -> Vec<Node> {
        let mut filters = Vec::new();
        if self.needs.cors {
            filters.push(yaml_map! {
                "name" => CORS_FILTER,
                "typed_config" => yaml_map! {
                    "@type" => "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors",
                },
            });
        }
        if self.needs.fault {
            filters.push(yaml_map! {
                "name" => envoy::FAULT_FILTER,
                "typed_config" => yaml_map! {
                    "@type" => "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
                },
            });
        }
        filters.push(envoy::router_filter());
        filters
    }
}

/// The route table of every listener of the program, by port.
pub fn route_tables(ir: &ProgramIr) -> Result<Vec<RouteTable>, String> {
    let mut listeners: Vec<&ListenerIr> = ir.listeners.iter().collect();
    listeners.sort_by_key(|l| l.port);
    listeners
        .into_iter()
        .map(|l| route_table(l, ir.pass_unknown_hosts))
        .collect()
}

/// Istio's cluster for what a sidecar passes through to where the client sent it.
pub const PASSTHROUGH_CLUSTER: &str = "PassthroughCluster";

/// The virtual host Istio ends a sidecar's outbound route table with
/// (`outboundTrafficPolicy: ALLOW_ANY`): every other host goes to the passthrough cluster.
pub fn passthrough_vhost() -> Node {
    yaml_map! {
        "name" => "allow_any",
        "domains" => vec![Node::from("*")],
        "routes" => vec![yaml_map! {
            "match" => yaml_map! { "prefix" => "/" },
            "route" => yaml_map! { "cluster" => PASSTHROUGH_CLUSTER, "timeout" => "0s" },
        }],
    }
}

/// The route table for one listener; `pass_unknown_hosts` (a sidecar): hosts without
/// a virtual host go to Istio's passthrough cluster.
pub fn route_table(listener: &ListenerIr, pass_unknown_hosts: bool) -> Result<RouteTable, String> {
    let mut needs = Needs::default();
    let mut vhosts = Vec::new();
    for vhost in &listener.vhosts {
        let mut routes = Vec::new();
        for entry in entries_with_fallback(vhost, &listener.vhosts) {
            let route = route(entry, listener.port, &mut needs)
                .map_err(|why| format!("{}: {why}", source_name(entry)))?;
            routes.push(route);
        }
        vhosts.push(yaml_map! {
            "name" => format!("{}:{}", vhost.host, listener.port),
            "domains" => domains(&vhost.host),
            "routes" => routes,
        });
    }
    if pass_unknown_hosts && !listener.vhosts.iter().any(|v| v.host == HostPattern::Any) {
        vhosts.push(passthrough_vhost());
        needs.passthrough = true;
    }
    let mut config = yaml_map! { "name" => format!("http.{}", listener.port) };
    config.push("virtual_hosts", vhosts);
    if needs.unresolved {
        // The unresolved share's cluster does not exist on purpose.
        config.push("validate_clusters", false);
    }
    if needs.backend_headers {
        // A backendRef's header edits apply after the rule's, so they win.
        config.push("most_specific_header_mutations_wins", true);
    }
    let mut notes = Vec::new();
    if !listener.sni_hosts.is_empty() {
        notes.push(format!(
            "port {}: the program answers 421 to a request whose Host belongs to another HTTPS listener than its SNI; a route table cannot see the SNI (a control plane uses one filter chain per certificate for that)",
            listener.port
        ));
    }
    Ok(RouteTable {
        port: listener.port,
        config,
        needs,
        notes,
    })
}

/// The route table for `port`, or for the program's only listener.
pub fn route_table_for(ir: &ProgramIr, port: Option<u32>) -> Result<RouteTable, String> {
    let ports: Vec<String> = ir.listeners.iter().map(|l| l.port.to_string()).collect();
    let listener = match port {
        Some(port) => ir.listeners.iter().find(|l| l.port == port).ok_or_else(|| {
            format!(
                "the program has no listener on port {port} (ports: {})",
                ports.join(", ")
            )
        })?,
        None => match ir.listeners.as_slice() {
            [only] => only,
            [] => return Err("the program has no listener: no routes to write".to_string()),
            _ => {
                return Err(format!(
                    "the program listens on ports {}: choose one with --port (Envoy takes one route table per listener)",
                    ports.join(", ")
                ));
            }
        },
    };
    route_table(listener, ir.pass_unknown_hosts)
}

fn route(entry: &EntryIr, port: u32, needs: &mut Needs) -> Result<Node, String> {
    let mut route = yaml_map! { "name" => route_name(entry) };
    route.push("match", route_match(entry)?);
    for (key, value) in route_fields(entry, port, needs)? {
        route.push(&key, value);
    }
    Ok(route)
}

/// `KIND/NAMESPACE/NAME/rule/R/match/M`, the entry's source.
fn route_name(entry: &EntryIr) -> String {
    let s = &entry.source;
    format!(
        "{}/{}/{}/rule/{}/match/{}",
        s.kind.as_str().to_ascii_lowercase(),
        s.namespace,
        s.name,
        s.rule,
        s.match_index
    )
}

/// `HTTPRoute ns/name rule 1 match 0`, for errors.
fn source_name(entry: &EntryIr) -> String {
    let s = &entry.source;
    format!(
        "{} {}/{} rule {} match {}",
        s.kind.as_str(),
        s.namespace,
        s.name,
        s.rule,
        s.match_index
    )
}

/// Envoy strips no port by itself: `host:*` takes the host with any port. A suffix
/// wildcard cannot carry a second `*`; a connection manager with
/// `strip_any_host_port` (Istio's gateways set it) serves those with a port.
fn domains(host: &HostPattern) -> Vec<Node> {
    match host {
        HostPattern::Exact(name) => vec![Node::from(name), Node::from(format!("{name}:*"))],
        HostPattern::Wildcard(suffix) => vec![Node::from(format!("*{suffix}"))],
        HostPattern::Any => vec![Node::from("*")],
    }
}

/// The vhost's entries, then those of the vhosts it falls back to, in order.
fn entries_with_fallback<'a>(vhost: &'a VhostIr, all: &'a [VhostIr]) -> Vec<&'a EntryIr> {
    let mut entries: Vec<&EntryIr> = vhost.entries.iter().collect();
    let mut current = vhost;
    while current.fallback {
        let Some(next) = fallback_of(&current.host, all) else {
            break;
        };
        entries.extend(next.entries.iter());
        current = next;
    }
    entries
}

/// The next less specific vhost that serves every host `host` serves: the longest
/// wildcard suffix strictly shorter than the pattern's own, else the catch-all (the
/// order the bytecode writer links vhosts in).
fn fallback_of<'a>(host: &HostPattern, all: &'a [VhostIr]) -> Option<&'a VhostIr> {
    let name = match host {
        HostPattern::Exact(name) => name.as_str(),
        HostPattern::Wildcard(suffix) => suffix.get(1..).unwrap_or(""),
        HostPattern::Any => return None,
    };
    let find = |pattern: &HostPattern| all.iter().find(|v| &v.host == pattern);
    name.char_indices()
        .filter(|&(_, c)| c == '.')
        .filter_map(|(i, _)| find(&HostPattern::Wildcard(name[i..].to_string())))
        .chain(find(&HostPattern::Any))
        .next()
}

#[cfg(test)]
mod tests {
    use switchyard_bytecode::SourceKind;
    use switchyard_bytecode::ir::{ActionIr, PathIr, SourceIr};

    use super::*;

    fn entry(name: &str) -> EntryIr {
        EntryIr {
            path: PathIr::Prefix(Vec::new()),
            predicates: Vec::new(),
            filters: Vec::new(),
            action: ActionIr::Reply {
                status: 404,
                body: None,
            },
            source: SourceIr {
                kind: SourceKind::HttpRoute,
                namespace: "ns".into(),
                name: name.into(),
                rule: 0,
                match_index: 0,
            },
        }
    }

    fn vhost(host: &str, fallback: bool, name: &str) -> VhostIr {
        VhostIr {
            host: HostPattern::parse(host),
            fallback,
            entries: vec![entry(name)],
        }
    }

    /// Envoy never falls back to a less specific virtual host, so a Gateway API host's
    /// routes are followed by those of the wildcard and catch-all it falls back to.
    #[test]
    fn fallback_hosts_routes_follow_the_hosts_own() {
        let all = vec![
            vhost("a.b.example.com", true, "exact"),
            vhost("*.example.com", true, "wild"),
            vhost("*", false, "any"),
            vhost("*.com", false, "unrelated-shorter"),
        ];
        let names = |v: &VhostIr| -> Vec<String> {
            entries_with_fallback(v, &all)
                .iter()
                .map(|e| e.source.name.clone())
                .collect()
        };
        // `.example.com` is the longest shorter suffix, then `.com` (no fallback itself).
        assert_eq!(names(&all[0]), ["exact", "wild", "unrelated-shorter"]);
        assert_eq!(names(&all[2]), ["any"]);
        let istio = VhostIr {
            fallback: false,
            ..all[0].clone()
        };
        assert_eq!(names(&istio), ["exact"]);
    }

    #[test]
    fn domains_take_any_port_for_exact_names() {
        let text = |h: &str| json::to_json(&Node::List(domains(&HostPattern::parse(h))), false);
        assert_eq!(
            text("Shop.Example.com"),
            r#"["shop.example.com","shop.example.com:*"]"#
        );
        assert_eq!(text("*.example.com"), r#"["*.example.com"]"#);
        assert_eq!(text("*"), r#"["*"]"#);
    }
}
