//! Comparing what an engine observed with what a case expects. Every failure names the
//! field, the expected value and the actual one.

use super::engine::Observed;
use super::file::Expect;

/// Checks one observed exchange; returns one message per mismatch.
pub fn check(expect: &Expect, seen: &Observed, check_backend: bool) -> Vec<String> {
    let mut failures = Vec::new();
    let mut compare = |field: &str, expected: String, actual: String| {
        if expected != actual {
            failures.push(format!("{field}: expected {expected}, got {actual}"));
        }
    };
    if let Some(status) = expect.status {
        compare("status", status.to_string(), seen.status.to_string());
    }
    let backend_name = seen.backend.as_ref().map(|b| b.name.clone());
    if check_backend && let Some(backend) = &expect.backend {
        compare("backend", show(backend.as_deref()), show(backend_name.as_deref()));
    }
    if let Some(port) = expect.port {
        compare(
            "port",
            port.to_string(),
            show(
                seen.backend
                    .as_ref()
                    .and_then(|b| b.port)
                    .map(|p| p.to_string())
                    .as_deref(),
            ),
        );
    }
    if let Some(cluster) = &expect.cluster {
        compare(
            "cluster",
            cluster.clone(),
            show(seen.backend.as_ref().map(|b| b.cluster.as_str())),
        );
    }
    if let Some(subset) = &expect.subset {
        let actual = seen.backend.as_ref().and_then(|b| istio_subset(&b.cluster));
        compare("subset", subset.clone(), show(actual));
    }
    if let Some(up) = &expect.upstream {
        match &seen.upstream {
            None => {
                failures.push("upstream: expected a forwarded request, but nothing was forwarded".to_string())
            }
            Some(actual) => {
                let mut compare = |field: &str, expected: &Option<String>, actual: &str| {
                    if let Some(expected) = expected
                        && expected != actual
                    {
                        failures.push(format!("upstream.{field}: expected {expected:?}, got {actual:?}"));
                    }
                };
                compare("method", &up.method, &actual.method);
                compare("host", &up.host, &actual.authority);
                compare("path", &up.path, &actual.path);
                failures.extend(check_headers(
                    "upstream",
                    &up.headers,
                    &up.absent_headers,
                    &actual.headers,
                ));
            }
        }
    }
    if let Some(response) = &expect.response {
        failures.extend(check_headers(
            "response",
            &response.headers,
            &response.absent_headers,
            &seen.response_headers,
        ));
        if let Some(location) = &response.location {
            let actual = joined(&seen.response_headers, "location");
            if actual.as_deref() != Some(location.as_str()) {
                failures.push(format!(
                    "response.location: expected {location:?}, got {}",
                    show(actual.as_deref())
                ));
            }
        }
    }
    if let Some(mirrors) = &expect.mirrors {
        let (mut expected, mut actual) = (mirrors.clone(), seen.mirrors.clone());
        expected.sort();
        actual.sort();
        if expected != actual {
            failures.push(format!("mirrors: expected {expected:?}, got {actual:?}"));
        }
    }
    if let Some(timeout) = expect.timeout_ms
        && timeout != seen.timeout_ms
    {
        failures.push(format!("timeoutMs: expected {timeout}, got {}", seen.timeout_ms));
    }
    failures
}

fn show(value: Option<&str>) -> String {
    value.map_or_else(|| "null".to_string(), str::to_string)
}

/// All values of a header, joined with `,` as the spec says; names compare
/// case-insensitively.
fn joined(headers: &[(String, String)], name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn check_headers(
    what: &str,
    expected: &[(String, String)],
    absent: &[String],
    actual: &[(String, String)],
) -> Vec<String> {
    let mut failures = Vec::new();
    for (name, value) in expected {
        let got = joined(actual, name);
        if got.as_deref() != Some(value.as_str()) {
            failures.push(format!(
                "{what}.headers.{name}: expected {value:?}, got {}",
                got.map_or("absent".into(), |g| format!("{g:?}"))
            ));
        }
    }
    for name in absent {
        if let Some(got) = joined(actual, name) {
            failures.push(format!(
                "{what}.absentHeaders: expected {name} absent, got {got:?}"
            ));
        }
    }
    failures
}

/// The subset of an Istio cluster name `outbound|PORT|SUBSET|FQDN`.
fn istio_subset(cluster: &str) -> Option<&str> {
    let mut parts = cluster.split('|');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("outbound"), Some(_), Some(subset), Some(_)) => Some(subset),
        _ => None,
    }
}

/// Checks a weighted distribution: each listed backend's share of `total` is within
/// `tolerance` of the expected fraction, and no unlisted backend exceeds `tolerance`.
pub fn check_distribution(
    expected: &[(String, f64)],
    tolerance: f64,
    counts: &[(String, u32)],
    total: u32,
) -> Vec<String> {
    let share = |name: &str| {
        f64::from(counts.iter().find(|(n, _)| n == name).map_or(0, |(_, c)| *c)) / f64::from(total.max(1))
    };
    let mut failures = Vec::new();
    for (name, fraction) in expected {
        let actual = share(name);
        if (actual - fraction).abs() > tolerance + 1e-9 {
            failures.push(format!(
                "backends.{name}: expected {fraction:.3} ± {tolerance}, got {actual:.3}"
            ));
        }
    }
    for (name, _) in counts {
        if !expected.iter().any(|(n, _)| n == name) && share(name) > tolerance {
            failures.push(format!(
                "backends.{name}: expected no share, got {:.3}",
                share(name)
            ));
        }
    }
    failures
}
