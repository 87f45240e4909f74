//! A standalone Envoy bootstrap that routes with the emitted route tables instead of
//! the plugin: the same listeners, clusters and admin as `emit envoy-bootstrap`, each
//! listener's connection manager holding its port's table inline and only the filters
//! the table needs. The test engine compares it with the plugin's bootstrap.

use super::{PASSTHROUGH_CLUSTER, RouteTable, passthrough_vhost};
use crate::emit::bootstrap::{
    BootstrapOptions, Listener, cluster, listener_name, socket_address, timeout_observer,
};
use crate::emit::yaml::{Node, yaml_map};

/// The bootstrap for `tables`. A listener whose name is no table's
/// ([`listener_name`]) gets an empty table: Envoy answers 404 there, as the program
/// does for a port it has no listener on.
pub fn native_bootstrap(tables: &[RouteTable], clusters: &[String], options: &BootstrapOptions) -> Node {
    let passthrough = tables.iter().any(|t| t.needs.passthrough);
    let listeners: Vec<Node> = options
        .listeners
        .iter()
        .map(|l| {
            listener(
                tables.iter().find(|t| listener_name(t.port) == l.name),
                l,
                options,
                passthrough,
            )
        })
        .collect();
    let mut names: Vec<&str> = clusters.iter().map(String::as_str).collect();
    if passthrough && !names.contains(&PASSTHROUGH_CLUSTER) {
        names.push(PASSTHROUGH_CLUSTER);
    }
    let clusters: Vec<Node> = names
        .iter()
        .map(|name| cluster(name, options.endpoints.get(*name).map_or(&[][..], Vec::as_slice)))
        .collect();
    yaml_map! {
        "admin" => yaml_map! { "address" => socket_address(&options.admin_address, options.admin_port) },
        "static_resources" => yaml_map! {
            "listeners" => listeners,
            "clusters" => clusters,
        },
    }
}

fn listener(
    table: Option<&RouteTable>,
    listener: &Listener,
    options: &BootstrapOptions,
    passthrough: bool,
) -> Node {
    // A port with no table: nothing routes there, but a sidecar passes it through.
    let unlisted = if passthrough {
        vec![passthrough_vhost()]
    } else {
        Vec::new()
    };
    let (route_config, mut filters) = match table {
        Some(table) => (table.config.clone(), table.http_filters()),
        None => (
            yaml_map! { "name" => "http.unlisted", "virtual_hosts" => Node::List(unlisted) },
            vec![crate::emit::envoy::router_filter()],
        ),
    };
    if options.observe_timeout {
        let router = filters.len() - 1;
        filters.insert(router, timeout_observer());
    }
    let hcm = yaml_map! {
        "name" => "envoy.filters.network.http_connection_manager",
        "typed_config" => yaml_map! {
            "@type" => "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix" => &listener.name,
            // As Istio configures it, and as the plugin's bootstrap does.
            "normalize_path" => true,
            "route_config" => route_config,
            "http_filters" => filters,
        },
    };
    let mut node = yaml_map! {
        "name" => &listener.name,
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
