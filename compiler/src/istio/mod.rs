//! Istio semantics: Gateway, VirtualService and DestinationRule compiled for one proxy,
//! either the gateway proxy selected by an Istio Gateway or a sidecar (`mesh`).
//!
//! The model (`docs/istio.md`): one vhost per (port, host), "no route in the chosen
//! vhost -> 404; no fallback to a less specific vhost"; within a vhost, routes in
//! `http[]` then `match[]` order, first match wins.

pub mod bind;
pub mod cors;
pub mod delegate;
pub mod destination;
pub mod destination_rule;
pub mod lower;
pub mod merge;
pub mod mesh;

use std::collections::BTreeMap;
use std::rc::Rc;

use switchyard_bytecode::SourceKind;
use switchyard_bytecode::ir::{ActionIr, EntryIr, ListenerIr, PathIr, PortDerivation, RedirectIr, SourceIr};

use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::gateway_api::backends::ClusterNaming;
use crate::resources::Resources;
use crate::resources::istio::{IstioGateway, VirtualService};

use self::bind::{intersect_hosts, served_gateways, virtual_services_for_gateway};
use self::delegate::flatten;
use self::destination::resolve_host;
use self::destination_rule::DestinationRules;
use self::lower::{Proxy, Scope, lower_rules};
use self::merge::PortRoutes;

/// The program's listeners for the proxy that Istio Gateway `key` (`ns/name` or `name`
/// in `default`) selects, and the port a test request uses by default.
pub fn compile_istio_gateway(
    key: &str,
    resources: &Resources,
    naming: &ClusterNaming,
    diagnostics: &mut Diagnostics,
) -> Result<(String, Vec<ListenerIr>, u32), String> {
    let key = if key.contains('/') {
        key.to_string()
    } else {
        format!("default/{key}")
    };
    let Some(target) = resources.istio_gateways.iter().find(|g| g.meta.key() == key) else {
        let known: Vec<String> = resources.istio_gateways.iter().map(|g| g.meta.key()).collect();
        return Err(format!(
            "no Istio Gateway {key} in the inputs (found: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    // The proxy runs beside the target Gateway: its namespace decides `exportTo`
    // visibility and `sourceNamespace`, its labels are the selector's.
    let proxy_namespace = target.meta.namespace.clone();
    let mut ports: BTreeMap<u32, PortRoutes> = BTreeMap::new();
    let mut cache: BTreeMap<(String, String, u32), Rc<Vec<lower::Lowered>>> = BTreeMap::new();
    let destination_rules = DestinationRules::new(resources, &naming.cluster_domain);
    for gateway in served_gateways(target, resources) {
        let gateway_key = gateway.meta.key();
        let bound = virtual_services_for_gateway(&gateway_key, &proxy_namespace, resources);
        for server in gateway.servers.iter().filter(|s| s.serves_http()) {
            let routes_here = ports.entry(server.port).or_default();
            for vs in &bound {
                let hosts = resolved_hosts(vs, &naming.cluster_domain);
                let shared =
                    intersect_hosts(&server.hosts, &hosts, &vs.meta.namespace, &gateway.meta.namespace);
                if shared.is_empty() {
                    continue;
                }
                let routes = cache
                    .entry((gateway_key.clone(), vs.meta.key(), server.port))
                    .or_insert_with(|| {
                        let proxy = Proxy {
                            namespace: proxy_namespace.clone(),
                            labels: target.selector.clone(),
                            gateway: gateway_key.clone(),
                            listener_port: server.port,
                        };
                        let scope = Scope {
                            resources,
                            naming,
                            proxy: &proxy,
                            destination_rules: &destination_rules,
                        };
                        let rules = flatten(vs, resources, diagnostics);
                        let mut lowered = lower_rules(&rules, &scope, diagnostics);
                        lowered.shrink_to_fit();
                        Rc::new(lowered)
                    });
                for host in &shared {
                    routes_here.append(host, &vs.meta.key(), routes, server.https_redirect);
                }
            }
            if server.https_redirect {
                for host in &server.hosts {
                    routes_here.require_tls(&host.host);
                }
            }
        }
    }
    // The vhosts take the cached routes: moved where one host uses them.
    drop(cache);
    let listeners = ports
        .into_iter()
        .map(|(port, routes)| ListenerIr {
            port,
            vhosts: routes.into_vhosts(|| https_redirect_entry(target)),
            // Istio selects one route table per HTTPS server by SNI rather than
            // answering 421 (docs/istio.md, known differences).
            sni_hosts: Vec::new(),
        })
        .collect();
    let default_port = target
        .servers
        .iter()
        .find(|s| s.serves_http())
        .or(target.servers.first())
        .map_or(80, |s| s.port);
    Ok((format!("istio-gateway {key}"), listeners, default_port))
}

/// The VirtualService's hosts, short names resolved in its namespace.
pub fn resolved_hosts(vs: &VirtualService, domain: &str) -> Vec<String> {
    vs.hosts
        .iter()
        .map(|h| resolve_host(h, &vs.meta.namespace, domain))
        .collect()
}

/// Envoy `require_tls: ALL` on a plaintext server: every request is redirected to
/// `https` with a 301, keeping the authority and path.
fn https_redirect_entry(gateway: &IstioGateway) -> EntryIr {
    EntryIr {
        path: PathIr::StringPrefix(String::new()),
        predicates: Vec::new(),
        filters: Vec::new(),
        action: ActionIr::Redirect(RedirectIr {
            status: 301,
            scheme: Some("https".to_string()),
            host: None,
            port: None,
            derive: PortDerivation::KeepAuthority,
        }),
        source: SourceIr {
            kind: SourceKind::VirtualService,
            namespace: gateway.meta.namespace.clone(),
            name: format!("(httpsRedirect of Gateway {})", gateway.meta.name),
            rule: 0,
            match_index: 0,
        },
    }
}

/// A warning about a VirtualService field.
pub(crate) fn vs_warning(vs: &VirtualService, field: &str, message: String) -> Diagnostic {
    let location = Location {
        file: vs.meta.file.clone(),
        line: vs.meta.line,
        column: 0,
    };
    let mut d = Diagnostic::error(location, message)
        .with_resource(format!("VirtualService {}", vs.meta.key()))
        .with_field(field);
    d.severity = Severity::Warning;
    d
}
