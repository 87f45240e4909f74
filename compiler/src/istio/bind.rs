//! Which Istio Gateways a proxy serves, and which VirtualServices bind to them.

use crate::resources::Resources;
use crate::resources::istio::{IstioGateway, ServerHost, VirtualService, visible};

/// "The proxy selected by that Gateway's selector": every Gateway with the same selector
/// is served by the same pods, so by the same proxy. Ordered as Istio merges them
/// (creation time, then name, then namespace).
pub fn served_gateways<'r>(target: &IstioGateway, resources: &'r Resources) -> Vec<&'r IstioGateway> {
    let mut wanted = target.selector.clone();
    wanted.sort();
    let mut served: Vec<&IstioGateway> = resources
        .istio_gateways
        .iter()
        .filter(|g| {
            let mut selector = g.selector.clone();
            selector.sort();
            selector == wanted
        })
        .collect();
    served.sort_by(|a, b| creation_order(&a.meta, &b.meta));
    served
}

/// `sortConfigByCreationTime`: creation time, then name, then namespace.
pub fn creation_order(a: &crate::resources::Meta, b: &crate::resources::Meta) -> std::cmp::Ordering {
    (&a.creation_timestamp, &a.name, &a.namespace).cmp(&(&b.creation_timestamp, &b.name, &b.namespace))
}

/// A `gateways` entry as `namespace/name` (or `mesh`): "`<gateway namespace>/<gateway
/// name>`; a gateway without a namespace is in the VirtualService's namespace"; the
/// legacy `name.namespace.svc.cluster.local` form names `namespace/name`.
pub fn gateway_key(reference: &str, vs_namespace: &str) -> String {
    if reference == "mesh" || reference.contains('/') {
        return reference.to_string();
    }
    match reference.split_once('.') {
        Some((name, rest)) => {
            let namespace = rest.split('.').next().unwrap_or(vs_namespace);
            format!("{namespace}/{name}")
        }
        None => format!("{vs_namespace}/{reference}"),
    }
}

/// The gateways a VirtualService binds to; "omitted = `mesh`".
pub fn vs_gateways(vs: &VirtualService) -> Vec<String> {
    if vs.gateways.is_empty() {
        return vec!["mesh".to_string()];
    }
    vs.gateways
        .iter()
        .map(|g| gateway_key(g, &vs.meta.namespace))
        .collect()
}

/// `VirtualServicesForGateway` (`pilot/pkg/model/push_context.go`): the VirtualServices
/// naming `gateway` that a proxy in `proxy_namespace` sees. Order: exported only to
/// their own namespace (the proxy's), then explicitly to the proxy's namespace, then
/// public; creation time within each group.
pub fn virtual_services_for_gateway<'r>(
    gateway: &str,
    proxy_namespace: &str,
    resources: &'r Resources,
) -> Vec<&'r VirtualService> {
    let mut bound: Vec<&VirtualService> = resources
        .virtual_services
        .iter()
        .filter(|vs| !vs.hosts.is_empty() && vs_gateways(vs).iter().any(|g| g == gateway))
        .collect();
    bound.sort_by(|a, b| creation_order(&a.meta, &b.meta));
    let mut out: Vec<&VirtualService> = Vec::new();
    let classes: [&dyn Fn(&VirtualService) -> bool; 3] = [
        &|vs| vs.export_to.iter().any(|e| e == ".") && vs.meta.namespace == proxy_namespace,
        &|vs| vs.export_to.iter().any(|e| e == proxy_namespace),
        &|vs| vs.export_to.iter().any(|e| e == "*"),
    ];
    for class in classes {
        for vs in &bound {
            if class(vs) && !out.iter().any(|o| std::ptr::eq(*o, *vs)) {
                out.push(vs);
            }
        }
    }
    debug_assert!(
        out.iter()
            .all(|vs| visible(&vs.export_to, &vs.meta.namespace, proxy_namespace))
    );
    out
}

/// Whether `pattern` (`*`, `*.suffix` or a name) covers `name` (which may itself be a
/// wildcard). "`*.foo.com` matches `a.b.foo.com`, not `foo.com`".
fn covers(pattern: &str, name: &str) -> bool {
    if pattern == "*" || pattern == name {
        return true;
    }
    let Some(suffix) = pattern.strip_prefix('*') else {
        return false;
    };
    // `*.a.foo.com` is covered by `*.foo.com` as `x.a.foo.com` would be.
    let body = name.strip_prefix('*').unwrap_or(name);
    body.len() > suffix.len() && body.ends_with(suffix)
}

/// `NamesForNamespace(server.Hosts, vs.Namespace).Intersection(vs.Hosts)`: the server
/// hosts this VirtualService's namespace may use, intersected with the VirtualService's
/// (resolved) hosts, keeping the more specific of each intersecting pair.
pub fn intersect_hosts(
    server_hosts: &[ServerHost],
    vs_hosts: &[String],
    vs_namespace: &str,
    gateway_namespace: &str,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for server in server_hosts
        .iter()
        .filter(|h| h.admits(vs_namespace, gateway_namespace))
    {
        for host in vs_hosts {
            let kept = if covers(&server.host, host) {
                host.clone()
            } else if covers(host, &server.host) {
                server.host.clone()
            } else {
                continue;
            };
            if !out.contains(&kept) {
                out.push(kept);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> Vec<ServerHost> {
        list.iter().map(|h| ServerHost::parse(h)).collect()
    }

    #[test]
    fn gateway_reference_forms() {
        assert_eq!(gateway_key("gw", "app"), "app/gw");
        assert_eq!(gateway_key("istio-system/gw", "app"), "istio-system/gw");
        assert_eq!(
            gateway_key("gw.istio-system.svc.cluster.local", "app"),
            "istio-system/gw"
        );
        assert_eq!(gateway_key("mesh", "app"), "mesh");
    }

    #[test]
    fn wildcards_need_one_more_label() {
        assert!(covers("*.foo.com", "a.b.foo.com"));
        assert!(!covers("*.foo.com", "foo.com"));
        assert!(covers("*", "foo.com"));
        assert!(covers("*.com", "*.foo.com"));
    }

    #[test]
    fn server_namespace_restricts_binding() {
        let server = hosts(&["prod/*.example.com", "./own.example.com"]);
        let vs = vec!["a.example.com".to_string(), "own.example.com".to_string()];
        assert_eq!(
            intersect_hosts(&server, &vs, "prod", "gw"),
            vec!["a.example.com", "own.example.com"]
        );
        assert_eq!(intersect_hosts(&server, &vs, "gw", "gw"), vec!["own.example.com"]);
        assert!(intersect_hosts(&server, &vs, "other", "gw").is_empty());
    }
}
