//! VirtualServices bound to `mesh`, for the sidecar of a client in one namespace.
//!
//! Istio on a sidecar: a VirtualService applies when it is bound to `mesh` (`gateways`
//! omitted or listing `mesh`), exported to the client's namespace, and names a Service
//! host. "No merge; the **oldest** VS (then name, namespace) owns the host".
//!
//! GAMMA HTTPRoutes become VirtualServices in Istio too (one per Service, with the
//! routes' creation time), so a Service with both is owned by the older of the two.
//! Switchyard compares the VirtualService's creation time with the oldest HTTPRoute
//! naming the Service; when neither has one (manifests not read back from a cluster),
//! the VirtualService wins.

use std::collections::BTreeMap;

use switchyard_bytecode::SourceKind;
use switchyard_bytecode::ir::{
    ActionIr, BackendIr, EntryIr, HostPattern, ListenerIr, PathIr, SourceIr, VhostIr,
};

use crate::diag::Diagnostics;
use crate::gateway_api::backends::ClusterNaming;
use crate::resources::istio::{VirtualService, visible};
use crate::resources::{Resources, Service};

use super::bind::{creation_order, vs_gateways};
use super::delegate::flatten;
use super::destination::{resolve_host, service_name};
use super::destination_rule::DestinationRules;
use super::lower::{Proxy, Scope, lower_rules};
use super::resolved_hosts;

/// Replaces, in `listeners` (the GAMMA program for `namespace`), the routes of every
/// Service owned by a mesh VirtualService.
pub fn apply_mesh_virtual_services(
    namespace: &str,
    resources: &Resources,
    naming: &ClusterNaming,
    diagnostics: &mut Diagnostics,
    listeners: &mut Vec<ListenerIr>,
) {
    // service key -> owning VirtualService
    let mut owners: BTreeMap<(String, String), &VirtualService> = BTreeMap::new();
    for vs in &resources.virtual_services {
        if vs.hosts.is_empty()
            || !vs_gateways(vs).iter().any(|g| g == "mesh")
            || !visible(&vs.export_to, &vs.meta.namespace, namespace)
        {
            continue;
        }
        for host in resolved_hosts(vs, &naming.cluster_domain) {
            let Some((ns, name)) = service_name(&host, &naming.cluster_domain) else {
                continue;
            };
            if resources.service(ns, name).is_none() {
                continue;
            }
            let slot = owners.entry((ns.to_string(), name.to_string())).or_insert(vs);
            if creation_order(&vs.meta, &slot.meta).is_lt() {
                *slot = vs;
            }
        }
    }
    let destination_rules = DestinationRules::new(resources, &naming.cluster_domain);
    for ((ns, name), vs) in owners {
        let Some(service) = resources.service(&ns, &name) else {
            continue;
        };
        if gamma_is_older(service, vs, resources) {
            continue;
        }
        let rules = flatten(vs, resources, diagnostics);
        for port in &service.ports {
            let proxy = Proxy {
                namespace: namespace.to_string(),
                labels: Vec::new(),
                gateway: "mesh".to_string(),
                listener_port: port.port,
            };
            let scope = Scope {
                resources,
                naming,
                proxy: &proxy,
                destination_rules: &destination_rules,
            };
            let entries: Vec<_> = lower_rules(&rules, &scope, diagnostics)
                .into_iter()
                .map(|(e, _)| e)
                .collect();
            let listener = listener_on(listeners, port.port);
            for host in service_hosts(service, namespace, &naming.cluster_domain) {
                match listener.vhosts.iter_mut().find(|v| v.host == host) {
                    Some(vhost) => vhost.entries = entries.clone(),
                    None => listener.vhosts.push(VhostIr {
                        host,
                        fallback: false,
                        entries: entries.clone(),
                    }),
                }
            }
        }
    }
}

/// ServiceEntry hosts on the sidecar of a client in `namespace`. Istio gives each host an
/// entry declares (exported to the namespace, not a Kubernetes Service) a virtual host on
/// each of the entry's HTTP ports, routed to `outbound|PORT||HOST`, or by the oldest
/// VirtualService bound to `mesh` that names the host. (Without this, requests for the
/// host pass through, and such a VirtualService's timeouts or retries would be lost.)
pub fn apply_mesh_service_entries(
    namespace: &str,
    resources: &Resources,
    naming: &ClusterNaming,
    diagnostics: &mut Diagnostics,
    listeners: &mut Vec<ListenerIr>,
) {
    let domain = &naming.cluster_domain;
    let destination_rules = DestinationRules::new(resources, domain);
    for entry in &resources.service_entries {
        if !visible(&entry.export_to, &entry.meta.namespace, namespace) {
            continue;
        }
        for host in &entry.hosts {
            let fqdn = resolve_host(host, &entry.meta.namespace, domain);
            if service_name(&fqdn, domain).is_some_and(|(ns, name)| resources.service(ns, name).is_some()) {
                continue;
            }
            let owner = resources
                .virtual_services
                .iter()
                .filter(|vs| {
                    vs_gateways(vs).iter().any(|g| g == "mesh")
                        && visible(&vs.export_to, &vs.meta.namespace, namespace)
                        && resolved_hosts(vs, domain).contains(&fqdn)
                })
                .min_by(|a, b| creation_order(&a.meta, &b.meta));
            let rules = owner.map(|vs| flatten(vs, resources, diagnostics));
            for port in entry.ports.iter().filter(|p| p.carries_http()).map(|p| p.number) {
                let entries = match &rules {
                    Some(rules) => {
                        let proxy = Proxy {
                            namespace: namespace.to_string(),
                            labels: Vec::new(),
                            gateway: "mesh".to_string(),
                            listener_port: port,
                        };
                        let scope = Scope {
                            resources,
                            naming,
                            proxy: &proxy,
                            destination_rules: &destination_rules,
                        };
                        lower_rules(rules, &scope, diagnostics)
                            .into_iter()
                            .map(|(e, _)| e)
                            .collect()
                    }
                    None => vec![entry_route(entry, &fqdn, port)],
                };
                let listener = listener_on(listeners, port);
                let pattern = HostPattern::parse(&fqdn);
                if !listener.vhosts.iter().any(|v| v.host == pattern) {
                    listener.vhosts.push(VhostIr {
                        host: pattern,
                        fallback: false,
                        entries,
                    });
                }
            }
        }
    }
}

/// A ServiceEntry host no VirtualService routes: every request to it goes to its cluster.
fn entry_route(entry: &crate::resources::istio::ServiceEntry, fqdn: &str, port: u32) -> EntryIr {
    EntryIr {
        path: PathIr::Prefix(Vec::new()),
        predicates: Vec::new(),
        filters: Vec::new(),
        action: ActionIr::Forward(vec![BackendIr {
            weight: 1,
            cluster: Some(format!("outbound|{port}||{fqdn}")),
            service: None,
            filters: Vec::new(),
            redirect: None,
        }]),
        source: SourceIr {
            kind: SourceKind::VirtualService,
            namespace: entry.meta.namespace.clone(),
            name: format!("(default route of ServiceEntry {})", entry.meta.name),
            rule: 0,
            match_index: 0,
        },
    }
}

/// The listener on `port`, added (in port order) when there is none.
fn listener_on(listeners: &mut Vec<ListenerIr>, port: u32) -> &mut ListenerIr {
    if !listeners.iter().any(|l| l.port == port) {
        listeners.push(ListenerIr {
            port,
            vhosts: Vec::new(),
            sni_hosts: Vec::new(),
        });
        listeners.sort_by_key(|l| l.port);
    }
    let i = listeners.iter().position(|l| l.port == port).unwrap_or(0);
    &mut listeners[i]
}

/// Whether an HTTPRoute naming `service` as its parent is older than `vs`.
fn gamma_is_older(service: &Service, vs: &VirtualService, resources: &Resources) -> bool {
    let Some(vs_time) = &vs.meta.creation_timestamp else {
        return false;
    };
    resources.http_routes.iter().any(|route| {
        route.parent_refs.iter().any(|p| {
            p.group.is_empty()
                && p.kind == "Service"
                && p.name == service.meta.name
                && p.namespace.as_deref().unwrap_or(&route.meta.namespace) == service.meta.namespace
        }) && route
            .meta
            .creation_timestamp
            .as_ref()
            .is_some_and(|t| t < vs_time)
    })
}

/// The names a client in `namespace` uses for `service` (as for GAMMA routes).
fn service_hosts(service: &Service, namespace: &str, domain: &str) -> Vec<HostPattern> {
    let (name, ns) = (&service.meta.name, &service.meta.namespace);
    let mut hosts = vec![
        HostPattern::Exact(format!("{name}.{ns}")),
        HostPattern::Exact(format!("{name}.{ns}.svc")),
        HostPattern::Exact(format!("{name}.{ns}.svc.{domain}")),
    ];
    if ns == namespace {
        hosts.insert(0, HostPattern::Exact(name.clone()));
    }
    hosts
}
