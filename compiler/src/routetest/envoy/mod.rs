//! The `envoy` engine: the requests go through a real Envoy running the plugin, to echo
//! upstreams on loopback. Per test file: echo servers, the bootstrap `switchyard emit
//! envoy-bootstrap` writes, Envoy, then every case. The bootstrap differs from the
//! emitted one only in what observation needs: loopback ports the OS picks, the PROXY
//! protocol (to present the program's port), a listener for ports the program lacks,
//! a header copying the router's timeout for the upstream to report, and for a sidecar's
//! program the passthrough a sidecar's own routes give requests the plugin passes on.

pub mod client;
pub mod echo;
pub mod http;
pub mod process;
pub mod tls;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use switchyard_bytecode::Program;

use self::client::{Client, admin_get};
use self::echo::{ECHO_HEADER, Record, Upstreams};
use self::process::{EnvoyProcess, WorkDir};
use super::engine::{Engine, Observed, PASSTHROUGH_CLUSTER, UpstreamSeen, backend_of, passthrough_backend};
use crate::emit::bootstrap::{BootstrapOptions, Listener, OBSERVED_TIMEOUT, bootstrap, listener_name};
use crate::emit::endpoints::Endpoint;
use crate::emit::envoy::clusters;
use crate::emit::yaml::Node;

/// Envoy sends mirrored copies without waiting for them; allow them this long to arrive.
const MIRROR_WAIT: Duration = Duration::from_secs(2);
/// An extra listener, running the same plugin, for a case that names a port the program
/// has no listener on: the PROXY line still carries that port, so the plugin decides as
/// it would on an Envoy listener the program does not know (the wasm engine's model).
/// A real gateway would refuse the connection instead.
const UNLISTED: &str = "listener_unlisted";

/// A running Envoy with its upstreams. Fields drop in order: connections, Envoy, then
/// the upstreams (whose connections end with Envoy), then the working directory.
#[derive(Debug)]
pub struct EnvoyEngine {
    program: Program,
    /// One client per port a case names: the program's listeners, then any other port
    /// (on the unlisted listener) when a case first names it.
    clients: Vec<(u32, Client)>,
    /// The listener for ports the program has no listener on.
    unlisted: SocketAddr,
    /// One client per port that checks the SNI, through the TLS loop (`tls`): requests
    /// with an SNI go there.
    tls_clients: Vec<(u32, Client)>,
    process: EnvoyProcess,
    upstreams: Upstreams,
    dir: WorkDir,
}

impl EnvoyEngine {
    /// Starts upstreams and Envoy (binary `envoy`, plugin module `wasm`) for a program.
    pub fn start(program_bytes: &[u8], envoy: &Path, wasm: &Path) -> Result<Self, String> {
        let wasm = std::fs::canonicalize(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
        let wasm_path = wasm.to_string_lossy().into_owned();
        Self::start_with(program_bytes, envoy, |program, options| {
            Ok(bootstrap(
                program,
                &BootstrapOptions {
                    wasm_path,
                    ..options.clone()
                },
            ))
        })
    }

    /// As [`EnvoyEngine::start`], with the bootstrap `config` makes from the program
    /// and the engine's listeners, upstreams and admin (its `wasm_path` is empty): the
    /// native-routes engine runs the same harness without the plugin.
    pub fn start_with(
        program_bytes: &[u8],
        envoy: &Path,
        config: impl FnOnce(&Program, &BootstrapOptions) -> Result<Node, String>,
    ) -> Result<Self, String> {
        let program = Program::from_bytes(program_bytes).map_err(|e| format!("program refused: {e}"))?;
        let mut names = clusters(&program);
        if program.passes_unknown_hosts() {
            names.push(PASSTHROUGH_CLUSTER.to_string());
        }
        let upstreams = Upstreams::start(&names).map_err(|e| format!("cannot start echo upstreams: {e}"))?;
        let endpoints = upstreams
            .addresses
            .iter()
            .map(|(cluster, address)| {
                let endpoint = Endpoint {
                    host: address.ip().to_string(),
                    port: address.port(),
                };
                (cluster.clone(), vec![endpoint])
            })
            .collect();
        let options = BootstrapOptions {
            wasm_path: String::new(),
            listeners: program
                .listener_ports()
                .map(listener_name)
                .chain([UNLISTED.to_string()])
                .map(|name| Listener {
                    name,
                    address: "127.0.0.1".to_string(),
                    port: 0,
                })
                .collect(),
            endpoints,
            admin_address: "127.0.0.1".to_string(),
            admin_port: 0,
            proxy_protocol: true,
            observe_timeout: true,
            trace_header: None,
        };
        let dir = WorkDir::new().map_err(|e| format!("cannot create a working directory: {e}"))?;
        let path = dir.path.join("bootstrap.yaml");
        let mut config = config(&program, &options)?;
        if program.passes_unknown_hosts() {
            add_passthrough(&mut config, &options)?;
        }
        // Requests with an SNI reach the ports that check it over TLS.
        let tls_ports: Vec<u32> = program
            .listener_ports()
            .filter(|&port| !program.tls_hostnames(port).is_empty())
            .collect();
        if !tls_ports.is_empty() {
            let (cert, key) = tls::certificate(&dir.path)?;
            tls::add_loops(&mut config, &tls_ports, &cert, &key)?;
        }
        std::fs::write(&path, config.to_yaml())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let process = EnvoyProcess::start(envoy, &path, &dir.path)?;
        let bound = bound_listeners(process.admin)?;
        let find = |name: &str| {
            bound
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, a)| *a)
                .ok_or_else(|| format!("Envoy did not bind {name}"))
        };
        let clients = program
            .listener_ports()
            .map(|port| Ok((port, Client::new(find(&listener_name(port))?, port))))
            .collect::<Result<Vec<_>, String>>()?;
        let tls_clients = tls_ports
            .iter()
            .map(|&port| Ok((port, Client::new(find(&tls::front_name(port))?, port))))
            .collect::<Result<Vec<_>, String>>()?;
        Ok(EnvoyEngine {
            program,
            clients,
            tls_clients,
            unlisted: find(UNLISTED)?,
            process,
            upstreams,
            dir,
        })
    }

    /// The working directory (bootstrap, logs).
    pub fn dir(&self) -> &Path {
        &self.dir.path
    }

    /// Sends an HTTP/1.1 request, written out byte by byte, to the listener of the
    /// program's `port`, and returns Envoy's answer.
    pub fn send_raw(&mut self, port: u32, message: &[u8], method: &str) -> Result<client::Response, String> {
        let (_, client) = self
            .clients
            .iter_mut()
            .find(|(p, _)| *p == port)
            .ok_or_else(|| format!("the program has no listener on port {port}"))?;
        client.send_message(message, method)
    }

    /// Envoy's process id (tests check that it is gone after drop).
    pub fn envoy_pid(&self) -> u32 {
        self.process.pid()
    }

    /// A page of Envoy's admin interface, e.g. `/stats/prometheus`.
    pub fn admin(&self, path: &str) -> Result<String, String> {
        match admin_get(self.process.admin, path) {
            Ok((200, body)) => Ok(body),
            Ok((status, _)) => Err(format!("Envoy admin {path} answered {status}")),
            Err(e) => Err(format!("Envoy admin {path}: {e}")),
        }
    }

    /// The mirrored copies of the request the upstream logged as `main`: later records
    /// with its `x-request-id` (Envoy copies the whole header map). The plugin names
    /// each mirror in a header the main request still carries, which says how many to
    /// wait for.
    fn mirrors_of(&self, main: &Record, first: usize) -> Vec<String> {
        let prefix = format!("{}-mirror-", self.program.routing_header());
        let wanted = main
            .headers
            .iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .count();
        let Some(id) = main.header("x-request-id").map(str::to_string) else {
            return Vec::new();
        };
        let wait = if wanted == 0 { Duration::ZERO } else { MIRROR_WAIT };
        let select =
            |r: &Record| r.seq >= first && r.seq != main.seq && r.header("x-request-id") == Some(&id);
        self.upstreams
            .log
            .wait_for(wait, select, wanted)
            .iter()
            .map(|r| backend_of(&self.program, &r.cluster).name)
            .collect()
    }
}

/// Listener name and bound address, from the admin interface.
fn bound_listeners(admin: SocketAddr) -> Result<Vec<(String, SocketAddr)>, String> {
    let (status, body) =
        admin_get(admin, "/listeners?format=json").map_err(|e| format!("Envoy admin /listeners: {e}"))?;
    if status != 200 {
        return Err(format!("Envoy admin /listeners answered {status}"));
    }
    let json: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("Envoy admin /listeners: {e}"))?;
    let statuses = json["listener_statuses"].as_array().cloned().unwrap_or_default();
    Ok(statuses
        .iter()
        .filter_map(|l| {
            let socket = &l["local_address"]["socket_address"];
            let ip: std::net::IpAddr = socket["address"].as_str()?.parse().ok()?;
            let port = u16::try_from(socket["port_value"].as_u64()?).ok()?;
            Some((l["name"].as_str()?.to_string(), SocketAddr::new(ip, port)))
        })
        .collect())
}

impl Engine for EnvoyEngine {
    fn deterministic(&self) -> bool {
        false
    }

    fn send(&mut self, sent: &super::engine::SentRequest) -> Result<Observed, String> {
        if !self.clients.iter().any(|(port, _)| *port == sent.port) {
            self.clients
                .push((sent.port, Client::new(self.unlisted, sent.port)));
        }
        // With an SNI, on a port that checks it: through the TLS loop, which takes the
        // SNI from a header and gives the request its https scheme back. Elsewhere the
        // SNI cannot change the decision, and the request goes in plaintext.
        let tls = sent.sni.as_ref().and_then(|sni| {
            Some((
                sni,
                self.tls_clients.iter_mut().find(|(port, _)| *port == sent.port)?,
            ))
        });
        let (client, through) = match tls {
            Some((sni, (_, client))) => {
                let mut through = sent.clone();
                through.scheme = "http".to_string();
                through.headers.push((tls::SNI_HEADER.to_string(), sni.clone()));
                (client, std::borrow::Cow::Owned(through))
            }
            None => match self.clients.iter_mut().find(|(port, _)| *port == sent.port) {
                Some((_, client)) => (client, std::borrow::Cow::Borrowed(sent)),
                None => return Err(format!("no connection for port {}", sent.port)),
            },
        };
        let first = self.upstreams.log.len();
        let response = client
            .send(&through)
            .map_err(|e| format!("{e}\n{}", self.process.log_tail()))?;
        let echoed = response
            .headers
            .iter()
            .find(|(n, _)| n == ECHO_HEADER)
            .and_then(|(_, v)| v.parse::<usize>().ok());
        let response_headers: Vec<(String, String)> = response
            .headers
            .into_iter()
            .filter(|(n, _)| n != ECHO_HEADER)
            .collect();
        let Some(main) = echoed.and_then(|seq| self.upstreams.log.get(seq)) else {
            // No upstream answered: Envoy or the plugin replied itself.
            return Ok(Observed {
                status: response.status,
                response_headers,
                ..Observed::default()
            });
        };
        let backend = if main.cluster == PASSTHROUGH_CLUSTER {
            passthrough_backend(&main.authority)
        } else {
            backend_of(&self.program, &main.cluster)
        };
        Ok(Observed {
            status: response.status,
            backend: Some(backend),
            mirrors: self.mirrors_of(&main, first),
            // The route says `timeout: 0s`; the header the router consumed overrides it.
            timeout_ms: main
                .header(OBSERVED_TIMEOUT)
                .and_then(|t| t.parse().ok())
                .unwrap_or(0),
            upstream: Some(UpstreamSeen {
                method: main.method.clone(),
                authority: main.authority.clone(),
                path: main.path.clone(),
                // The observer's and the TLS loop's headers are the harness's, not the
                // proxy's.
                headers: main
                    .headers
                    .iter()
                    .filter(|(n, _)| n != OBSERVED_TIMEOUT && n != tls::SNI_HEADER)
                    .cloned()
                    .collect(),
            }),
            response_headers,
        })
    }
}

/// A sidecar's own routes behind the plugin's: what the plugin passes on (no routing
/// header) goes to Istio's passthrough cluster, here an echo upstream that reports the
/// host the client named. Appended to every listener's routes, after the routing route.
fn add_passthrough(config: &mut Node, options: &BootstrapOptions) -> Result<(), String> {
    let endpoints = options
        .endpoints
        .get(PASSTHROUGH_CLUSTER)
        .ok_or("no upstream for the passthrough cluster")?;
    let Node::Map(root) = config else {
        return Err("the bootstrap is not a map".into());
    };
    let resources = root
        .iter_mut()
        .find(|(k, _)| k == "static_resources")
        .map(|(_, v)| v)
        .ok_or("the bootstrap has no static_resources")?;
    let Node::Map(resources) = resources else {
        return Err("static_resources is not a map".into());
    };
    // A configuration of Istio-like native routes brings its own passthrough (its
    // `allow_any` virtual host and cluster): nothing to add.
    let has_cluster = resources.iter().any(|(k, v)| {
        k == "clusters"
            && matches!(v, Node::List(clusters) if clusters.iter().any(|c| matches!(c, Node::Map(e) if e.iter().any(|(k, v)| k == "name" && *v == Node::from(PASSTHROUGH_CLUSTER)))))
    });
    if has_cluster {
        return Ok(());
    }
    for (key, value) in resources.iter_mut() {
        match (key.as_str(), value) {
            ("clusters", Node::List(clusters)) => {
                clusters.push(crate::emit::bootstrap::cluster(PASSTHROUGH_CLUSTER, endpoints));
            }
            ("listeners", Node::List(listeners)) => {
                for listener in listeners.iter_mut() {
                    for routes in route_lists(listener) {
                        routes.push(crate::emit::yaml::yaml_map! {
                            "match" => crate::emit::yaml::yaml_map! { "prefix" => "/" },
                            "route" => crate::emit::yaml::yaml_map! {
                                "cluster" => PASSTHROUGH_CLUSTER,
                                "timeout" => "0s",
                            },
                        });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every `routes` list below `node` (a listener's virtual hosts).
fn route_lists(node: &mut Node) -> Vec<&mut Vec<Node>> {
    match node {
        Node::Map(entries) => entries
            .iter_mut()
            .flat_map(|(key, value)| match (key.as_str(), value) {
                ("routes", Node::List(routes)) => vec![routes],
                (_, value) => route_lists(value),
            })
            .collect(),
        Node::List(items) => items.iter_mut().flat_map(route_lists).collect(),
        _ => Vec::new(),
    }
}
