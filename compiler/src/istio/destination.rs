//! Destination hosts to Envoy cluster names.
//!
//! Istio (`BuildSubsetKey`, `pilot/pkg/model/service.go`): a cluster is
//! `outbound|<port>|<subset>|<fqdn>`. The port (`route.go` `GetDestinationCluster`) is
//! `destination.port.number`, else the service's (or ServiceEntry's) only port, else the
//! listener port.

use switchyard_bytecode::ir::{BackendIr, ServiceIr};

use crate::gateway_api::backends::{ClusterNaming, ISTIO_TEMPLATE};
use crate::resources::Resources;
use crate::resources::istio::Destination;

/// `ResolveShortnameToFQDN` (`pilot/pkg/model/config.go`): a name without a dot (and not
/// a wildcard) is a short name in `namespace`: `reviews` -> `reviews.NS.svc.DOMAIN`.
pub fn resolve_host(host: &str, namespace: &str, domain: &str) -> String {
    if host.contains('.') || host.contains('*') || host.parse::<std::net::IpAddr>().is_ok() {
        host.to_ascii_lowercase()
    } else {
        format!("{}.{namespace}.svc.{domain}", host.to_ascii_lowercase())
    }
}

/// `(namespace, name)` when `fqdn` is a Kubernetes service name `NAME.NS.svc.DOMAIN`.
pub fn service_name<'h>(fqdn: &'h str, domain: &str) -> Option<(&'h str, &'h str)> {
    let rest = fqdn.strip_suffix(domain)?.strip_suffix(".svc.")?;
    let (name, namespace) = rest.split_once('.')?;
    (!name.is_empty() && !namespace.is_empty() && !namespace.contains('.')).then_some((namespace, name))
}

/// The cluster a destination names, seen from a VirtualService in `namespace` on a
/// listener of `listener_port` of a proxy in `proxy_namespace` (which decides which
/// ServiceEntries it sees).
pub fn destination_backend(
    destination: &Destination,
    namespace: &str,
    proxy_namespace: &str,
    listener_port: u32,
    resources: &Resources,
    naming: &ClusterNaming,
) -> BackendIr {
    let fqdn = resolve_host(&destination.host, namespace, &naming.cluster_domain);
    let service = service_name(&fqdn, &naming.cluster_domain);
    let only_port = match service.and_then(|(ns, name)| resources.service(ns, name)) {
        Some(service) => match service.ports.as_slice() {
            [only] => Some(only.port),
            _ => None,
        },
        // Not a Kubernetes Service: a ServiceEntry visible here may declare the host
        // (the first by namespace/name, as the list is sorted).
        None => resources
            .service_entries
            .iter()
            .find(|e| {
                crate::resources::istio::visible(&e.export_to, &e.meta.namespace, proxy_namespace)
                    && e.declares(&fqdn, &naming.cluster_domain)
            })
            .and_then(|e| match e.ports.as_slice() {
                [only] => Some(only.number),
                _ => None,
            }),
    };
    let port = destination.port.or(only_port).unwrap_or(listener_port);
    let subset = destination.subset.as_deref().unwrap_or("");
    let cluster = match service {
        // A user-chosen template names services its own way; subsets have no place in
        // it, so they are appended to keep subsets apart.
        Some((ns, name)) if naming.template != ISTIO_TEMPLATE => {
            let base = naming.name(ns, name, port);
            if subset.is_empty() {
                base
            } else {
                format!("{base}|{subset}")
            }
        }
        _ => format!("outbound|{port}|{subset}|{fqdn}"),
    };
    BackendIr {
        weight: 1,
        cluster: Some(cluster),
        service: service.map(|(ns, name)| ServiceIr {
            namespace: ns.to_string(),
            name: name.to_string(),
            port,
        }),
        filters: Vec::new(),
        redirect: None,
    }
}

/// Istio's weights (`applyHTTPRouteDestination`): one destination gets everything
/// whatever its weight; with several, weight-0 (or unset) entries are dropped and the
/// rest split by weight. `Err` when no weight is left (Istio rejects the rule).
pub fn effective_weights(weights: &[Option<u32>]) -> Result<Vec<(usize, u32)>, String> {
    if weights.len() == 1 {
        return Ok(vec![(0, 100)]);
    }
    let kept: Vec<(usize, u32)> = weights
        .iter()
        .enumerate()
        .filter_map(|(i, w)| w.filter(|w| *w > 0).map(|w| (i, w)))
        .collect();
    if kept.is_empty() {
        return Err("several destinations without weights: the weights must add up to more than 0".into());
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_resolve_in_the_virtual_service_namespace() {
        assert_eq!(
            resolve_host("reviews", "default", "cluster.local"),
            "reviews.default.svc.cluster.local"
        );
        assert_eq!(
            resolve_host("reviews.prod", "default", "cluster.local"),
            "reviews.prod"
        );
        assert_eq!(
            resolve_host("*.example.com", "default", "cluster.local"),
            "*.example.com"
        );
    }

    #[test]
    fn service_names_are_recognised() {
        assert_eq!(
            service_name("a.b.svc.cluster.local", "cluster.local"),
            Some(("b", "a"))
        );
        assert_eq!(service_name("a.b.c.svc.cluster.local", "cluster.local"), None);
        assert_eq!(service_name("example.com", "cluster.local"), None);
    }

    #[test]
    fn single_destination_takes_everything_and_zero_weights_drop() {
        assert_eq!(effective_weights(&[Some(0)]), Ok(vec![(0, 100)]));
        assert_eq!(effective_weights(&[Some(2), Some(3)]), Ok(vec![(0, 2), (1, 3)]));
        assert_eq!(effective_weights(&[Some(0), Some(3)]), Ok(vec![(1, 3)]));
        assert!(effective_weights(&[None, None]).is_err());
    }
}
