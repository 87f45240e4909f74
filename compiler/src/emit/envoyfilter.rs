//! Istio EnvoyFilters (networking.istio.io/v1alpha3, istio.md section 9): one inserts the
//! wasm filter before the router with the program as raw bytes (for use without a
//! WasmPlugin), the other prepends the route that obeys the routing header to every
//! virtual host. Istio's own routes name fixed clusters and ignore the header, so the
//! route patch is needed with a WasmPlugin too (`route_only`). Both are scoped to the
//! program's listener ports, in the gateway context, or the sidecars' outbound one for
//! a mesh target.

use switchyard_bytecode::Program;

use super::yaml::{Node, yaml_map};
use super::{Metadata, Scope, envoy, selector_required};

#[derive(Debug, Clone, Default)]
pub struct EnvoyFilterOptions {
    /// The plugin module's path inside the proxy container.
    pub wasm_path: String,
    /// Workload labels; empty: the pods Istio deploys for a Gateway API Gateway, or
    /// every sidecar of the namespace for a mesh target.
    pub selector: Vec<(String, String)>,
    /// Only the route patch (the filter comes from a WasmPlugin).
    pub route_only: bool,
    /// Deliver the program in the compressed container.
    pub compress: bool,
    /// The plugin's `traceHeader`; `None`: traces off.
    pub trace_header: Option<String>,
}

/// Where the EnvoyFilter expects the module by default: mount it there.
pub const DEFAULT_WASM_PATH: &str = "/var/local/wasm/switchyard_plugin.wasm";
/// The label Istio puts on the pods it deploys for a Gateway API Gateway.
const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";
const HCM: &str = "envoy.filters.network.http_connection_manager";

pub fn envoyfilters(
    program: &Program,
    meta: &Metadata,
    options: &EnvoyFilterOptions,
) -> Result<Vec<Node>, String> {
    if options.selector.is_empty() {
        selector_required(&meta.scope)?;
    }
    let context = meta.scope.context();
    let ports: Vec<u32> = program.listener_ports().collect();
    // Istio's chain runs its fault filter before the router; a plugin that names delays
    // must come before it.
    let before = if program.features().delays {
        envoy::FAULT_FILTER
    } else {
        "envoy.filters.http.router"
    };
    let mut resources = Vec::new();
    if !options.route_only {
        let patches = ports
            .iter()
            .map(|&port| {
                yaml_map! {
                    "applyTo" => "HTTP_FILTER",
                    "match" => yaml_map! {
                        "context" => context,
                        "listener" => yaml_map! {
                            "portNumber" => port,
                            "filterChain" => yaml_map! {
                                "filter" => yaml_map! {
                                    "name" => HCM,
                                    "subFilter" => yaml_map! { "name" => before },
                                },
                            },
                        },
                    },
                    "patch" => yaml_map! {
                        "operation" => "INSERT_BEFORE",
                        "value" => envoy::wasm_filter(&envoy::delivered_program(program, options.compress), &options.wasm_path, options.trace_header.as_deref()),
                    },
                }
            })
            .collect();
        resources.push(resource(meta, "filter", options, patches));
    }
    // Each INSERT_FIRST goes before the routes already there, so the routes are
    // inserted last first to end up in match order.
    let routes = envoy::routing_routes(program);
    let patches = ports
        .iter()
        .flat_map(|&port| {
            routes.iter().rev().map(move |route| {
                yaml_map! {
                    "applyTo" => "HTTP_ROUTE",
                    "match" => yaml_map! {
                        "context" => context,
                        "routeConfiguration" => yaml_map! { "portNumber" => port },
                    },
                    "patch" => yaml_map! { "operation" => "INSERT_FIRST", "value" => route.clone() },
                }
            })
        })
        .collect();
    resources.push(resource(meta, "route", options, patches));
    Ok(resources)
}

fn resource(meta: &Metadata, suffix: &str, options: &EnvoyFilterOptions, patches: Vec<Node>) -> Node {
    let labels: Vec<(String, Node)> = match &meta.scope {
        _ if !options.selector.is_empty() => options
            .selector
            .iter()
            .map(|(k, v)| (k.clone(), Node::from(v)))
            .collect(),
        Scope::Gateway { name, .. } => vec![(GATEWAY_NAME_LABEL.to_string(), Node::from(name))],
        // Every sidecar of the namespace (an Istio Gateway target needs a selector).
        _ => Vec::new(),
    };
    let meta = Metadata {
        name: format!("{}-{suffix}", meta.name),
        ..meta.clone()
    };
    let mut spec = yaml_map! {};
    if !labels.is_empty() {
        spec.push("workloadSelector", yaml_map! { "labels" => Node::Map(labels) });
    }
    spec.push("configPatches", patches);
    yaml_map! {
        "apiVersion" => "networking.istio.io/v1alpha3",
        "kind" => "EnvoyFilter",
        "metadata" => meta.node(),
        "spec" => spec,
    }
}
