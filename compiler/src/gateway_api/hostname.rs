//! Listener and route hostnames: which requests a route attached to a listener serves.

/// The hostnames a route serves on a listener; `None` stands for "any host".
///
/// Gateway API (`HTTPRouteSpec.hostnames`): "If a hostname is specified by both the
/// Listener and HTTPRoute, there must be at least one intersecting hostname for the
/// HTTPRoute to be attached to the Listener." A route without hostnames inherits the
/// listener's; where both are set, the more specific of each intersecting pair is what
/// the route serves (listener `*.foo.example.com` + route `*.example.com` serves
/// `*.foo.example.com`). An empty result means the route does not attach.
pub fn effective_hostnames(listener: Option<&str>, route: &[String]) -> Vec<Option<String>> {
    match (listener, route.is_empty()) {
        (None, true) => vec![None],
        (None, false) => dedup(route.iter().map(|h| Some(h.clone())).collect()),
        (Some(l), true) => vec![Some(l.to_string())],
        (Some(l), false) => dedup(route.iter().filter_map(|h| intersect(l, h)).map(Some).collect()),
    }
}

fn dedup(mut hosts: Vec<Option<String>>) -> Vec<Option<String>> {
    let mut seen = Vec::new();
    hosts.retain(|h| {
        let fresh = !seen.contains(h);
        if fresh {
            seen.push(h.clone());
        }
        fresh
    });
    hosts
}

/// Whether some request host matches both patterns (`None`: any host). Gateway API
/// (`GRPCRouteSpec.hostnames`): an HTTPRoute and a GRPCRoute conflict on a listener when
/// "the intersection of the hostnames of A and B is non-empty".
pub fn intersects(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => intersect(a, b).is_some(),
        _ => true,
    }
}

/// Whether every host that `inner` matches is also matched by `outer` (`None`: any
/// host): `*.example.com` includes `a.example.com` and `*.a.example.com`, not
/// `example.com`.
pub fn includes(outer: Option<&str>, inner: Option<&str>) -> bool {
    match (outer, inner) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(outer), Some(inner)) => {
            outer == inner
                || outer
                    .strip_prefix("*.")
                    .is_some_and(|suffix| covers(suffix, inner))
        }
    }
}

/// Whether wildcard `*.suffix` covers `name` (which may itself be a wildcard): it must
/// end in `.suffix` with at least one label before it. `*.example.com` covers
/// `a.b.example.com` and `*.foo.example.com`, never `example.com`.
fn covers(wildcard_suffix: &str, name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    name.len() > wildcard_suffix.len() + 1
        && name.ends_with(wildcard_suffix)
        && name.as_bytes()[name.len() - wildcard_suffix.len() - 1] == b'.'
}

/// The more specific of two intersecting hostnames, or `None` if they do not intersect.
fn intersect(a: &str, b: &str) -> Option<String> {
    if a == b {
        return Some(a.to_string());
    }
    match (a.strip_prefix("*."), b.strip_prefix("*.")) {
        (Some(sa), _) if covers(sa, b) => Some(b.to_string()),
        (_, Some(sb)) if covers(sb, a) => Some(a.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eff(listener: Option<&str>, route: &[&str]) -> Vec<Option<String>> {
        effective_hostnames(listener, &route.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn some(names: &[&str]) -> Vec<Option<String>> {
        names.iter().map(|n| Some(n.to_string())).collect()
    }

    #[test]
    fn route_without_hostnames_inherits_the_listeners() {
        assert_eq!(eff(Some("foo.com"), &[]), some(&["foo.com"]));
        assert_eq!(eff(None, &[]), vec![None]);
    }

    #[test]
    fn intersection_keeps_the_more_specific_hostname() {
        assert_eq!(
            eff(Some("*.example.com"), &["foo.example.com"]),
            some(&["foo.example.com"])
        );
        assert_eq!(
            eff(Some("foo.example.com"), &["*.example.com"]),
            some(&["foo.example.com"])
        );
        assert_eq!(
            eff(Some("*.foo.example.com"), &["*.example.com"]),
            some(&["*.foo.example.com"])
        );
        assert_eq!(
            eff(Some("*.example.com"), &["*.foo.example.com"]),
            some(&["*.foo.example.com"])
        );
    }

    #[test]
    fn non_intersecting_hostnames_are_dropped() {
        assert_eq!(
            eff(Some("*.example.com"), &["example.com", "foo.net"]),
            Vec::<Option<String>>::new()
        );
        assert_eq!(eff(Some("foo.com"), &["bar.com", "foo.com"]), some(&["foo.com"]));
    }

    #[test]
    fn includes_is_the_subset_relation_of_host_sets() {
        assert!(includes(None, Some("*.example.com")));
        assert!(includes(None, None));
        assert!(!includes(Some("*.example.com"), None));
        assert!(includes(Some("*.example.com"), Some("*.foo.example.com")));
        assert!(includes(Some("*.example.com"), Some("a.b.example.com")));
        assert!(includes(Some("foo.com"), Some("foo.com")));
        assert!(!includes(Some("*.foo.example.com"), Some("*.example.com")));
        assert!(!includes(Some("*.example.com"), Some("example.com")));
        assert!(!includes(Some("a.example.com"), Some("*.example.com")));
    }

    #[test]
    fn intersects_when_one_pattern_includes_the_other() {
        assert!(intersects(None, Some("foo.com")));
        assert!(intersects(Some("*.example.com"), Some("a.example.com")));
        assert!(intersects(Some("*.foo.example.com"), Some("*.example.com")));
        assert!(!intersects(Some("*.example.com"), Some("example.com")));
        assert!(!intersects(Some("a.com"), Some("b.com")));
    }

    #[test]
    fn wildcard_matches_any_depth_but_not_the_bare_suffix() {
        assert!(covers("example.com", "a.b.example.com"));
        assert!(!covers("example.com", "example.com"));
        assert!(!covers("example.com", "badexample.com"));
    }
}
