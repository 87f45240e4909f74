//! Requests over TLS with a chosen SNI, for programs that check misdirected requests
//! (their listeners know HTTPS listener hostnames; `Program::features().sni`).
//!
//! The test client speaks plaintext HTTP/1.1; Envoy itself originates the TLS. Per
//! checking port P the bootstrap gains:
//! - `listener_P_tls`: the plugin's listener for P again, behind a TLS transport socket
//!   (a certificate made at start-up with the `openssl` command) and the TLS inspector,
//!   which records the SNI Envoy shows the plugin (`connection.requested_server_name`),
//!   on a loopback port picked before Envoy starts;
//! - `listener_P_sni`: a plaintext front listener whose only route sends everything to
//!   `switchyard_tls_P`, a cluster that connects to `listener_P_tls` over TLS with the
//!   SNI taken from the request header [`SNI_HEADER`] (`auto_sni` with
//!   `override_auto_sni_header`), after a PROXY protocol header that carries the front
//!   connection's addresses, so the plugin still sees P as `destination.port`.
//!
//! The front hop adds what any proxy adds (`x-forwarded-for`, `x-request-id`); the
//! engine hides [`SNI_HEADER`] from what the backend is reported to receive.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::emit::yaml::{Node, yaml_map};

/// The request header the front listener reads the SNI from.
pub const SNI_HEADER: &str = "x-switchyard-test-sni";

/// The front listener's name for program port `port`.
pub fn front_name(port: u32) -> String {
    format!("listener_{port}_sni")
}

fn tls_name(port: u32) -> String {
    format!("listener_{port}_tls")
}

fn cluster_name(port: u32) -> String {
    format!("switchyard_tls_{port}")
}

/// A self-signed certificate and key in `dir`, made with the `openssl` command.
pub fn certificate(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let (cert, key) = (dir.join("tls-cert.pem"), dir.join("tls-key.pem"));
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=switchyard-test"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .map_err(|e| {
            format!("requests with `sni` need a test certificate, made with the `openssl` command: {e}")
        })?;
    if !output.status.success() {
        return Err(format!(
            "openssl could not make the test certificate: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok((cert, key))
}

/// A loopback port free right now (the TLS listener's; its cluster must name it before
/// Envoy starts).
fn free_port() -> Result<u32, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free loopback port: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("no free loopback port: {e}"))?
        .port();
    Ok(u32::from(port))
}

/// Adds the TLS loop for each of `ports` to `bootstrap` (as `emit::bootstrap` writes
/// it, with a `listener_P` per program port).
pub fn add_loops(bootstrap: &mut Node, ports: &[u32], cert: &Path, key: &Path) -> Result<(), String> {
    for &port in ports {
        let tls_port = free_port()?;
        let plain = find_listener(bootstrap, &format!("listener_{port}"))
            .ok_or_else(|| format!("the bootstrap has no listener for port {port}"))?
            .clone();
        let tls = tls_listener(plain, port, tls_port, cert, key)?;
        let front = front_listener(port);
        let listeners = entry(bootstrap, &["static_resources", "listeners"]);
        if let Some(Node::List(items)) = listeners {
            items.push(tls);
            items.push(front);
        }
        if let Some(Node::List(items)) = entry(bootstrap, &["static_resources", "clusters"]) {
            items.push(loop_cluster(port, tls_port));
        }
    }
    Ok(())
}

/// The map entry at `path`.
fn entry<'n>(node: &'n mut Node, path: &[&str]) -> Option<&'n mut Node> {
    path.iter().try_fold(node, |node, key| match node {
        Node::Map(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    })
}

fn find_listener<'n>(bootstrap: &'n mut Node, name: &str) -> Option<&'n mut Node> {
    let Some(Node::List(items)) = entry(bootstrap, &["static_resources", "listeners"]) else {
        return None;
    };
    items
        .iter_mut()
        .find(|l| matches!(l, Node::Map(e) if e.iter().any(|(k, v)| k == "name" && *v == Node::from(name))))
}

/// The plugin's listener for `port`, renamed, on `tls_port`, terminating TLS.
fn tls_listener(
    mut listener: Node,
    port: u32,
    tls_port: u32,
    cert: &Path,
    key: &Path,
) -> Result<Node, String> {
    let bad = || format!("unexpected bootstrap shape for listener_{port}");
    *entry(&mut listener, &["name"]).ok_or_else(bad)? = Node::from(tls_name(port));
    *entry(&mut listener, &["address", "socket_address", "port_value"]).ok_or_else(bad)? =
        Node::from(tls_port);
    match entry(&mut listener, &["listener_filters"]) {
        Some(Node::List(filters)) => filters.push(tls_inspector()),
        _ => listener.push("listener_filters", vec![tls_inspector()]),
    }
    let Some(Node::List(chains)) = entry(&mut listener, &["filter_chains"]) else {
        return Err(bad());
    };
    let chain = chains.first_mut().ok_or_else(bad)?;
    chain.push(
        "transport_socket",
        yaml_map! {
            "name" => "envoy.transport_sockets.tls",
            "typed_config" => yaml_map! {
                "@type" => "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                "common_tls_context" => yaml_map! {
                    "tls_certificates" => vec![yaml_map! {
                        "certificate_chain" => yaml_map! { "filename" => cert.to_string_lossy().into_owned() },
                        "private_key" => yaml_map! { "filename" => key.to_string_lossy().into_owned() },
                    }],
                },
            },
        },
    );
    // The front hop says `x-forwarded-proto: http`; the request reached this listener
    // over TLS, so its scheme is https.
    let Some(Node::List(filters)) = entry(chain, &["filters"]) else {
        return Err(bad());
    };
    let hcm = filters.first_mut().ok_or_else(bad)?;
    let config = entry(hcm, &["typed_config"]).ok_or_else(bad)?;
    config.push(
        "scheme_header_transformation",
        yaml_map! { "scheme_to_overwrite" => "https" },
    );
    Ok(listener)
}

fn tls_inspector() -> Node {
    yaml_map! {
        "name" => "envoy.filters.listener.tls_inspector",
        "typed_config" => yaml_map! {
            "@type" => "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
        },
    }
}

/// Plaintext, PROXY protocol in; every request to the TLS loop cluster.
fn front_listener(port: u32) -> Node {
    let name = front_name(port);
    let hcm = yaml_map! {
        "name" => "envoy.filters.network.http_connection_manager",
        "typed_config" => yaml_map! {
            "@type" => "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix" => name.clone(),
            "route_config" => yaml_map! {
                "name" => name.clone(),
                "virtual_hosts" => vec![yaml_map! {
                    "name" => name.clone(),
                    "domains" => vec![Node::from("*")],
                    "routes" => vec![yaml_map! {
                        "match" => yaml_map! { "prefix" => "/" },
                        "route" => yaml_map! { "cluster" => cluster_name(port), "timeout" => "0s" },
                    }],
                }],
            },
            "http_filters" => vec![yaml_map! {
                "name" => "envoy.filters.http.router",
                "typed_config" => yaml_map! {
                    "@type" => "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                    "suppress_envoy_headers" => true,
                },
            }],
        },
    };
    yaml_map! {
        "name" => name,
        "address" => yaml_map! { "socket_address" => yaml_map! { "address" => "127.0.0.1", "port_value" => 0u32 } },
        "listener_filters" => vec![yaml_map! {
            "name" => "envoy.filters.listener.proxy_protocol",
            "typed_config" => yaml_map! {
                "@type" => "type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol",
            },
        }],
        "filter_chains" => vec![yaml_map! { "filters" => vec![hcm] }],
    }
}

/// TLS to the loop listener with the SNI from [`SNI_HEADER`], after a PROXY header with
/// the front connection's addresses. Connections are pooled per SNI.
fn loop_cluster(port: u32, tls_port: u32) -> Node {
    let name = cluster_name(port);
    yaml_map! {
        "name" => name.clone(),
        "type" => "STATIC",
        "connect_timeout" => "5s",
        "load_assignment" => yaml_map! {
            "cluster_name" => name,
            "endpoints" => vec![yaml_map! {
                "lb_endpoints" => vec![yaml_map! {
                    "endpoint" => yaml_map! {
                        "address" => yaml_map! { "socket_address" => yaml_map! { "address" => "127.0.0.1", "port_value" => tls_port } },
                    },
                }],
            }],
        },
        "typed_extension_protocol_options" => yaml_map! {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" => yaml_map! {
                "@type" => "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "upstream_http_protocol_options" => yaml_map! {
                    "auto_sni" => true,
                    "override_auto_sni_header" => SNI_HEADER,
                },
                "explicit_http_config" => yaml_map! { "http_protocol_options" => Node::Map(Vec::new()) },
            },
        },
        "transport_socket" => yaml_map! {
            "name" => "envoy.transport_sockets.upstream_proxy_protocol",
            "typed_config" => yaml_map! {
                "@type" => "type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport",
                "config" => yaml_map! { "version" => "V1" },
                "transport_socket" => yaml_map! {
                    "name" => "envoy.transport_sockets.tls",
                    "typed_config" => yaml_map! {
                        "@type" => "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                    },
                },
            },
        },
    }
}
