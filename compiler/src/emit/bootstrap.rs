//! A standalone Envoy bootstrap: one listener per program listener port, each an HTTP
//! connection manager running the plugin then the router, with only the routing-header
//! route (a request the plugin did not route gets Envoy's 404); one cluster per cluster
//! name the program uses; an admin listener. `switchyard test --engine envoy` runs the
//! same bootstrap with loopback ports.

use switchyard_bytecode::Program;

use super::endpoints::Endpoints;
use super::envoy;
use super::yaml::{Node, yaml_map};

/// An Envoy listener running the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// `listener_PORT` for the program's listener on PORT ([`listener_name`]).
    pub name: String,
    pub address: String,
    /// The port Envoy binds (0: any free port; see the admin `/listeners`).
    pub port: u32,
}

#[derive(Debug, Clone)]
pub struct BootstrapOptions {
    /// The plugin module as Envoy will find it.
    pub wasm_path: String,
    pub listeners: Vec<Listener>,
    pub endpoints: Endpoints,
    pub admin_address: String,
    pub admin_port: u32,
    /// Expect a PROXY protocol header on every connection. The test engine binds
    /// loopback ports of its choosing and names the program's port as the destination
    /// there, so that the plugin's `destination.port` is the one the program knows.
    pub proxy_protocol: bool,
    /// Copy the request timeout the router is given (`x-envoy-upstream-rq-timeout-ms`,
    /// which it consumes) into [`OBSERVED_TIMEOUT`] just before the router, so the test
    /// engine's upstream can report it: the only timeout Envoy shows the upstream,
    /// `x-envoy-expected-rq-timeout-ms`, is the per-try timeout when that is shorter.
    pub observe_timeout: bool,
    /// The plugin's `traceHeader`: requests carrying it get a trace of their routing
    /// decision in the response header of that name. `None`: traces off.
    pub trace_header: Option<String>,
}

/// The header the test engine's observer fills with the router's request timeout.
pub const OBSERVED_TIMEOUT: &str = "x-switchyard-observed-timeout-ms";

impl BootstrapOptions {
    /// Every program listener bound on `address` at its own port.
    pub fn same_ports(program: &Program, address: &str) -> Vec<Listener> {
        program
            .listener_ports()
            .map(|port| Listener {
                name: listener_name(port),
                address: address.to_string(),
                port,
            })
            .collect()
    }
}

/// The listener name for a program port (the test engine finds bound ports by it).
pub fn listener_name(program_port: u32) -> String {
    format!("listener_{program_port}")
}

pub fn bootstrap(program: &Program, options: &BootstrapOptions) -> Node {
    let listeners: Vec<Node> = options
        .listeners
        .iter()
        .map(|l| listener(program, l, options))
        .collect();
    let clusters: Vec<Node> = envoy::clusters(program)
        .iter()
        .map(|name| cluster(name, options.endpoints.get(name).map_or(&[][..], Vec::as_slice)))
        .collect();
    yaml_map! {
        "admin" => yaml_map! { "address" => socket_address(&options.admin_address, options.admin_port) },
        "static_resources" => yaml_map! {
            "listeners" => listeners,
            "clusters" => clusters,
        },
    }
}

/// The plugin, the fault filter if the program delays requests, the test observer if
/// asked for, the router.
fn http_filters(program: &Program, options: &BootstrapOptions) -> Vec<Node> {
    let mut filters = vec![envoy::wasm_filter(
        program.as_bytes(),
        &options.wasm_path,
        options.trace_header.as_deref(),
    )];
    if program.features().delays {
        filters.push(envoy::fault_filter());
    }
    if options.observe_timeout {
        filters.push(timeout_observer());
    }
    filters.push(envoy::router_filter());
    filters
}

pub(crate) fn timeout_observer() -> Node {
    yaml_map! {
        "name" => "switchyard-test-observer",
        "typed_config" => yaml_map! {
            "@type" => "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
            "mutations" => yaml_map! {
                "request_mutations" => vec![yaml_map! {
                    "append" => yaml_map! {
                        "header" => yaml_map! {
                            "key" => OBSERVED_TIMEOUT,
                            "value" => "%REQ(x-envoy-upstream-rq-timeout-ms)%",
                        },
                        "append_action" => "OVERWRITE_IF_EXISTS_OR_ADD",
                    },
                }],
            },
        },
    }
}

pub(crate) fn socket_address(address: &str, port: u32) -> Node {
    yaml_map! { "socket_address" => yaml_map! { "address" => address, "port_value" => port } }
}

fn listener(program: &Program, listener: &Listener, options: &BootstrapOptions) -> Node {
    let name = &listener.name;
    let hcm = yaml_map! {
        "name" => "envoy.filters.network.http_connection_manager",
        "typed_config" => yaml_map! {
            "@type" => "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix" => name,
            // As Istio configures its proxies (BASE path normalization): the plugin
            // routes on the normalised path, as it will in the mesh.
            "normalize_path" => true,
            "route_config" => yaml_map! {
                "name" => envoy::PLUGIN_NAME,
                "virtual_hosts" => vec![yaml_map! {
                    "name" => envoy::PLUGIN_NAME,
                    "domains" => vec![Node::from("*")],
                    "routes" => envoy::routing_routes(program),
                }],
            },
            "http_filters" => http_filters(program, options),
        },
    };
    let mut node = yaml_map! {
        "name" => name,
        "address" => socket_address(&listener.address, listener.port),
    };
    if options.proxy_protocol {
        node.push(
            "listener_filters",
            vec![yaml_map! {
                "name" => "envoy.filters.listener.proxy_protocol",
                "typed_config" => yaml_map! {
                    "@type" => "type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol",
                },
            }],
        );
    }
    node.push("filter_chains", vec![yaml_map! { "filters" => vec![hcm] }]);
    node
}

/// STATIC when every endpoint is an IP literal, STRICT_DNS otherwise. A cluster given
/// no endpoint stays empty: Envoy answers 503 for it.
pub(crate) fn cluster(name: &str, endpoints: &[super::endpoints::Endpoint]) -> Node {
    let kind = if endpoints.iter().all(|e| e.is_ip()) {
        "STATIC"
    } else {
        "STRICT_DNS"
    };
    let lb_endpoints: Vec<Node> = endpoints
        .iter()
        .map(|e| yaml_map! { "endpoint" => yaml_map! { "address" => socket_address(&e.host, u32::from(e.port)) } })
        .collect();
    let mut load_assignment = yaml_map! { "cluster_name" => name };
    if !lb_endpoints.is_empty() {
        load_assignment.push("endpoints", vec![yaml_map! { "lb_endpoints" => lb_endpoints }]);
    }
    yaml_map! {
        "name" => name,
        "type" => kind,
        "connect_timeout" => "5s",
        "load_assignment" => load_assignment,
    }
}
