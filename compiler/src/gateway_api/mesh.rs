//! GAMMA: HTTPRoutes whose parentRef is a Service, compiled for the sidecar of a client
//! in one namespace.
//!
//! GAMMA (Gateway API for Mesh): a route in the Service's own namespace is a *producer*
//! route and applies to every client; a route in another namespace is a *consumer* route
//! and applies only to clients in the route's namespace. When a client's namespace has
//! consumer routes for a Service, they replace the producer routes for that client.
//! A Service with no route keeps its default: requests to it go to it.
//!
//! The requests a sidecar sees name the Service by its host names: `name` (from the
//! Service's own namespace only), `name.ns`, `name.ns.svc` and the FQDN, with or
//! without the port; the port itself selects the listener.

use std::collections::BTreeMap;

use switchyard_bytecode::SourceKind;
use switchyard_bytecode::ir::{
    ActionIr, BackendIr, EntryIr, HostPattern, ListenerIr, PathIr, ServiceIr, SourceIr, VhostIr,
};

use crate::diag::Diagnostics;
use crate::resources::{GrpcRoute, HttpRoute, ParentRef, Resources, Route, RouteMatch, Service};

use super::backends::ClusterNaming;
use super::grpc::lower_grpc_route;
use super::lower::{RouteLowering, lower_route_rules};
use super::precedence::{Precedence, RouteOrder};
use super::route_warning;

/// The routes and defaults a sidecar in `namespace` uses.
///
/// HTTPRoutes and GRPCRoutes attached to one Service share its names; their entries are
/// ordered by kind first (HTTPRoute entries, then GRPCRoute entries, as on a Gateway
/// listener), each kind by its own precedence.
pub fn compile_mesh(
    namespace: &str,
    resources: &Resources,
    naming: &ClusterNaming,
    diagnostics: &mut Diagnostics,
) -> Vec<ListenerIr> {
    // port -> host -> entries
    let mut ports: BTreeMap<u32, BTreeMap<HostPattern, Vec<(RouteOrder, EntryIr)>>> = BTreeMap::new();
    // Each route is lowered once, whatever the ports and names it serves.
    let mut lowered: BTreeMap<(&str, String), Vec<(RouteOrder, EntryIr)>> = BTreeMap::new();
    for service in &resources.services {
        let http = routes_for(service, namespace, &resources.http_routes);
        let grpc = routes_for(service, namespace, &resources.grpc_routes);
        for port in &service.ports {
            let hosts = service_hosts(service, namespace, &naming.cluster_domain);
            let on_port = |parent: &&ParentRef| parent.port.is_none_or(|p| p == port.port);
            let http_here: Vec<&HttpRoute> =
                http.iter().filter(|(_, p)| on_port(p)).map(|(r, _)| *r).collect();
            let grpc_here: Vec<&GrpcRoute> =
                grpc.iter().filter(|(_, p)| on_port(p)).map(|(r, _)| *r).collect();
            let listener = ports.entry(port.port).or_default();
            if http_here.is_empty() && grpc_here.is_empty() {
                for host in hosts {
                    listener
                        .entry(host)
                        .or_default()
                        .push(default_entry(service, port.port, naming));
                }
                continue;
            }
            let mut entries = Vec::new();
            for route in http_here {
                let route_entries = lowered
                    .entry((HttpRoute::KIND, route.meta.key()))
                    .or_insert_with(|| {
                        warn_hostnames(route, diagnostics);
                        let mut lowering = RouteLowering {
                            mesh: true,
                            ..RouteLowering::default()
                        };
                        lower_route_rules(route, resources, naming, diagnostics, &mut lowering);
                        lowering
                            .entries
                            .into_iter()
                            .map(|(p, e)| (RouteOrder::Http(p), e))
                            .collect()
                    });
                entries.extend(route_entries.iter().cloned());
            }
            for route in grpc_here {
                let route_entries = lowered
                    .entry((GrpcRoute::KIND, route.meta.key()))
                    .or_insert_with(|| {
                        warn_hostnames(route, diagnostics);
                        lower_grpc_route(route, resources, naming, diagnostics, true)
                            .into_iter()
                            .map(|(p, e)| (RouteOrder::Grpc(p), e))
                            .collect()
                    });
                entries.extend(route_entries.iter().cloned());
            }
            for host in hosts {
                listener.entry(host).or_default().extend(entries.iter().cloned());
            }
        }
    }
    ports
        .into_iter()
        .map(|(port, hosts)| ListenerIr {
            port,
            sni_hosts: Vec::new(),
            vhosts: hosts
                .into_iter()
                .map(|(host, mut entries)| {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    // A Service's routes are its whole table: no fallback to other hosts.
                    VhostIr {
                        host,
                        fallback: false,
                        entries: entries.into_iter().map(|(_, e)| e).collect(),
                    }
                })
                .collect(),
        })
        .collect()
}

fn warn_hostnames<R: Route>(route: &R, diagnostics: &mut Diagnostics) {
    if !route.hostnames().is_empty() {
        diagnostics.push(route_warning(
            route,
            "spec.hostnames".into(),
            "ignored for a Service parentRef (GAMMA routes match the Service's own names)".into(),
        ));
    }
}

/// The routes (with the parentRef naming the Service) that apply to `service` for a
/// client in `namespace`: its consumer routes from that namespace if any, else its
/// producer routes.
fn routes_for<'r, R: Route>(
    service: &Service,
    namespace: &str,
    routes: &'r [R],
) -> Vec<(&'r R, &'r ParentRef)> {
    let refs = |route: &'r R| {
        route.parent_refs().iter().filter(move |parent| {
            let ns = parent.namespace.as_deref().unwrap_or(&route.meta().namespace);
            parent.group.is_empty()
                && parent.kind == "Service"
                && parent.name == service.meta.name
                && ns == service.meta.namespace
        })
    };
    let consumer: Vec<_> = routes
        .iter()
        .filter(|r| r.meta().namespace == namespace && r.meta().namespace != service.meta.namespace)
        .flat_map(|r| refs(r).map(move |p| (r, p)))
        .collect();
    if !consumer.is_empty() {
        return consumer;
    }
    routes
        .iter()
        .filter(|r| r.meta().namespace == service.meta.namespace)
        .flat_map(|r| refs(r).map(move |p| (r, p)))
        .collect()
}

/// The names a client in `namespace` may use for `service`.
fn service_hosts(service: &Service, namespace: &str, domain: &str) -> Vec<HostPattern> {
    let (name, ns) = (&service.meta.name, &service.meta.namespace);
    let mut hosts = vec![
        HostPattern::Exact(format!("{name}.{ns}")),
        HostPattern::Exact(format!("{name}.{ns}.svc")),
        HostPattern::Exact(format!("{name}.{ns}.svc.{domain}")),
    ];
    // A short name resolves in the client's own namespace (DNS search path).
    if ns == namespace {
        hosts.insert(0, HostPattern::Exact(name.clone()));
    }
    hosts
}

/// A Service without routes: every request to it goes to it.
fn default_entry(service: &Service, port: u32, naming: &ClusterNaming) -> (RouteOrder, EntryIr) {
    let (name, ns) = (&service.meta.name, &service.meta.namespace);
    let entry = EntryIr {
        path: PathIr::Prefix(Vec::new()),
        predicates: Vec::new(),
        filters: Vec::new(),
        action: ActionIr::Forward(vec![BackendIr {
            weight: 1,
            cluster: Some(naming.name(ns, name, port)),
            service: Some(ServiceIr {
                namespace: ns.clone(),
                name: name.clone(),
                port,
            }),
            filters: Vec::new(),
            redirect: None,
        }]),
        source: SourceIr {
            kind: SourceKind::HttpRoute,
            namespace: ns.clone(),
            name: format!("(default route of Service {name})"),
            rule: 0,
            match_index: 0,
        },
    };
    let precedence = Precedence::of(&RouteMatch::default(), None, String::new(), 0, 0);
    (RouteOrder::Http(precedence), entry)
}
