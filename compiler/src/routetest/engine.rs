//! Engines send one request through a compiled program and report what happened, in the
//! same terms whatever runs underneath: the evaluator in-process (`native`), the real
//! plugin `.wasm` in the wasmtime host (`wasm`), or a real Envoy (`envoy`, in
//! `super::envoy`).

use std::path::{Path, PathBuf};

use switchyard_bytecode::{Program, Request, Scratch, apply_header_ops};
#[cfg(feature = "wasm-engine")]
use switchyard_host_harness::{HttpRequest, Plugin, Vm, VmOptions};

/// A request as the client sends it.
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub port: u32,
    pub method: String,
    pub scheme: String,
    pub authority: String,
    pub path: String,
    /// Lowercase names.
    pub headers: Vec<(String, String)>,
    /// The TLS server name (SNI) of an HTTPS request; `None` for plaintext.
    pub sni: Option<String>,
}

impl SentRequest {
    /// The request as Envoy's connection manager hands it to the filters (its path
    /// normalised, see [`super::hcm`]); `None` when Envoy refuses it with 400.
    pub fn as_proxy_sees_it(&self) -> Option<std::borrow::Cow<'_, SentRequest>> {
        use std::borrow::Cow;
        match super::hcm::normalize_path(&self.path) {
            Ok(path) if path == self.path => Some(Cow::Borrowed(self)),
            Ok(path) => Some(Cow::Owned(SentRequest { path, ..self.clone() })),
            Err(super::hcm::Rejected) => None,
        }
    }

    /// The evaluator's view of the request, with the random draw that picks among
    /// weighted backends.
    pub fn view(&self, random: u64) -> Request<'_> {
        Request {
            port: self.port,
            authority: &self.authority,
            method: &self.method,
            path: &self.path,
            scheme: &self.scheme,
            headers: (&self.headers).into(),
            random,
            sni: self.sni.as_deref(),
        }
    }
}

/// What the client and the backends saw.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub status: u16,
    pub backend: Option<ObservedBackend>,
    /// The request as the backend received it (None when nothing was forwarded).
    pub upstream: Option<UpstreamSeen>,
    pub response_headers: Vec<(String, String)>,
    pub mirrors: Vec<String>,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedBackend {
    /// `namespace/name` of the Service, or the cluster itself when it stands for none.
    pub name: String,
    pub port: Option<u32>,
    pub cluster: String,
}

#[derive(Debug, Clone, Default)]
pub struct UpstreamSeen {
    pub method: String,
    pub authority: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

/// Envoy's answer to a request its connection manager refuses: 400, nothing forwarded.
fn refused() -> Observed {
    Observed {
        status: super::hcm::REJECTED_STATUS,
        ..Observed::default()
    }
}

/// One way of running requests.
pub trait Engine {
    fn send(&mut self, request: &SentRequest) -> Result<Observed, String>;

    /// Whether the engine's random draws are seeded per case (weighted choices repeat
    /// exactly). A real Envoy's plugin seeds itself from the clock.
    fn deterministic(&self) -> bool {
        true
    }
}

/// The backend a cluster name stands for, as the program records it.
pub use crate::emit::envoy_routes::PASSTHROUGH_CLUSTER;

/// What receives a request the program passed to the proxy's own routes
/// ([`switchyard_bytecode::Outcome::Pass`]): on a sidecar, the host the client named,
/// through Istio's passthrough cluster. The route test format names such a backend by
/// its host.
pub(crate) fn passthrough_backend(authority: &str) -> ObservedBackend {
    ObservedBackend {
        name: switchyard_bytecode::eval::normalize_host(authority).to_string(),
        port: None,
        cluster: PASSTHROUGH_CLUSTER.to_string(),
    }
}

/// The backend a cluster stands for: `namespace/name` of its Kubernetes Service; for
/// any other host (a ServiceEntry's, an external name), the route test format's "the
/// host itself", read from Istio's `outbound|PORT|SUBSET|HOST`; else the cluster.
pub(crate) fn backend_of(program: &Program, cluster: &str) -> ObservedBackend {
    let info = program.backend_by_cluster(cluster);
    let service = info.and_then(|b| b.service);
    let host = || match cluster.split('|').collect::<Vec<_>>()[..] {
        ["outbound", _, _, host] if !host.is_empty() => host.to_string(),
        _ => cluster.to_string(),
    };
    ObservedBackend {
        name: service.map_or_else(host, |s| format!("{}/{}", s.namespace, s.name)),
        port: service.map(|s| s.port),
        cluster: cluster.to_string(),
    }
}

/// The simulated backend answers every forwarded request with 200.
const BACKEND_STATUS: u16 = 200;

/// The evaluator library, in-process.
#[derive(Debug)]
pub struct NativeEngine {
    program: Program,
    scratch: Scratch,
    random: u64,
}

impl NativeEngine {
    pub fn new(program_bytes: &[u8], seed: u64) -> Result<Self, String> {
        let program = Program::from_bytes(program_bytes).map_err(|e| format!("program refused: {e}"))?;
        Ok(NativeEngine {
            program,
            scratch: Scratch::new(),
            random: seed | 1,
        })
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: the same generator family the plugin uses.
        let mut x = self.random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl Engine for NativeEngine {
    fn send(&mut self, sent: &SentRequest) -> Result<Observed, String> {
        let Some(sent) = sent.as_proxy_sees_it() else {
            return Ok(refused());
        };
        let sent = sent.as_ref();
        let random = self.next_random();
        let request = sent.view(random);
        let decision = self.program.evaluate(&request, &mut self.scratch);
        let plan = self.program.plan(&decision, &request);
        // What the proxy does with the plan, as the plugin makes Envoy do it.
        let mut response_headers = Vec::new();
        let mut observed = match (&plan.reply, plan.cluster) {
            (Some(reply), _) => {
                response_headers.extend(reply.headers.iter().map(|(n, v)| (n.to_string(), v.clone())));
                Observed {
                    status: reply.status,
                    ..Observed::default()
                }
            }
            (None, Some(cluster)) => {
                let routing_header = self.program.routing_header();
                let mut headers: Vec<(String, String)> = sent
                    .headers
                    .iter()
                    .filter(|(n, _)| n != routing_header)
                    .cloned()
                    .collect();
                apply_header_ops(&mut headers, &plan.request_headers);
                Observed {
                    status: BACKEND_STATUS,
                    backend: Some(backend_of(&self.program, cluster)),
                    upstream: Some(UpstreamSeen {
                        method: sent.method.clone(),
                        authority: plan.authority.clone().unwrap_or_else(|| sent.authority.clone()),
                        path: plan.path.clone().unwrap_or_else(|| sent.path.clone()),
                        headers,
                    }),
                    mirrors: plan
                        .mirrors
                        .iter()
                        .map(|m| backend_of(&self.program, m.cluster).name)
                        .collect(),
                    timeout_ms: plan.request_timeout_ms.map_or(0, u64::from),
                    ..Observed::default()
                }
            }
            (None, None) if decision.outcome == switchyard_bytecode::Outcome::Pass => {
                // The sidecar's own routes pass it through, unedited (the plugin only
                // removed the routing headers a client may have sent).
                let routing_header = self.program.routing_header();
                Observed {
                    status: BACKEND_STATUS,
                    backend: Some(passthrough_backend(&sent.authority)),
                    upstream: Some(UpstreamSeen {
                        method: sent.method.clone(),
                        authority: sent.authority.clone(),
                        path: sent.path.clone(),
                        headers: sent
                            .headers
                            .iter()
                            .filter(|(n, _)| n != routing_header)
                            .cloned()
                            .collect(),
                    }),
                    ..Observed::default()
                }
            }
            (None, None) => return Err("the plan neither forwards nor replies".to_string()),
        };
        apply_header_ops(&mut response_headers, &plan.response_headers);
        if plan.reply.is_some() && is_grpc(sent) {
            // Envoy answers a gRPC request's local reply the gRPC way: HTTP 200,
            // content-type application/grpc and the mapped grpc-status (the host harness
            // models the same, in `grpc_local_reply_headers`).
            let grpc_status = grpc_status_for_http(observed.status);
            observed.status = 200;
            response_headers.retain(|(n, _)| n != "content-type" && n != "grpc-status");
            response_headers.push(("content-type".into(), "application/grpc".into()));
            response_headers.push(("grpc-status".into(), grpc_status.to_string()));
        }
        observed.response_headers = response_headers;
        Ok(observed)
    }
}

fn is_grpc(sent: &SentRequest) -> bool {
    sent.headers
        .iter()
        .any(|(n, v)| n == "content-type" && v.starts_with("application/grpc"))
}

/// Envoy's HTTP-to-gRPC status mapping (`Grpc::Utility::httpToGrpcStatus`).
fn grpc_status_for_http(status: u16) -> u32 {
    match status {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502..=504 => 14,
        _ => 2,
    }
}

/// The real plugin `.wasm`, run by the wasmtime host harness.
#[cfg(feature = "wasm-engine")]
pub struct WasmEngine {
    vm: Vm,
    program: Program,
}

#[cfg(feature = "wasm-engine")]
impl core::fmt::Debug for WasmEngine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WasmEngine").finish_non_exhaustive()
    }
}

#[cfg(feature = "wasm-engine")]
impl WasmEngine {
    pub fn new(plugin: &Plugin, program_bytes: &[u8], seed: u64) -> Result<Self, String> {
        let program = Program::from_bytes(program_bytes).map_err(|e| format!("program refused: {e}"))?;
        let vm = plugin
            .start(VmOptions {
                plugin_config: program_bytes.to_vec(),
                root_id: "switchyard".to_string(),
                now_nanos: seed,
                random_seed: seed,
                ..VmOptions::default()
            })
            .map_err(|e| format!("plugin did not start: {e:#}"))?;
        Ok(WasmEngine { vm, program })
    }
}

#[cfg(feature = "wasm-engine")]
impl Engine for WasmEngine {
    fn send(&mut self, sent: &SentRequest) -> Result<Observed, String> {
        let Some(sent) = sent.as_proxy_sees_it() else {
            return Ok(refused());
        };
        let sent = sent.as_ref();
        let mut headers = vec![
            (":method".to_string(), sent.method.clone()),
            (":scheme".to_string(), sent.scheme.clone()),
            (":authority".to_string(), sent.authority.clone()),
            (":path".to_string(), sent.path.clone()),
        ];
        headers.extend(sent.headers.iter().cloned());
        // Envoy exposes the listener port as property `destination.port`, an i64 LE.
        self.vm
            .set_property("destination.port", &i64::from(sent.port).to_le_bytes());
        // Envoy's `connection.requested_server_name` is the SNI, empty on plaintext.
        self.vm.set_property(
            "connection.requested_server_name",
            sent.sni.as_deref().unwrap_or("").as_bytes(),
        );
        let request = HttpRequest {
            headers,
            ..HttpRequest::default()
        };
        let exchange = self
            .vm
            .http_request(&request)
            .map_err(|e| format!("plugin failed: {e:#}"))?;
        let response_status = exchange
            .response_headers
            .iter()
            .find(|(n, _)| n == ":status")
            .and_then(|(_, v)| v.parse::<u16>().ok());
        let response_headers: Vec<(String, String)> = exchange
            .response_headers
            .into_iter()
            .filter(|(n, _)| !n.starts_with(':'))
            .collect();
        if let Some(reply) = exchange.local_reply {
            // The status the client receives: Envoy answers a gRPC request's local reply
            // with HTTP 200 and a grpc-status, which the harness models.
            let status = response_status.unwrap_or(reply.status);
            return Ok(Observed {
                status,
                response_headers,
                ..Observed::default()
            });
        }
        let Some(forwarded) = exchange.upstream_request else {
            return Err("the plugin neither answered nor let the request through".to_string());
        };
        let routing_header = self.program.routing_header();
        // The cluster is named in one of the two routing headers, each keying a routing
        // route (the second one, for Istio's default retry policy).
        let default_retry = switchyard_bytecode::default_retry_header(routing_header);
        let value = |name: &str| forwarded.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let cluster = match value(routing_header).or_else(|| value(&default_retry)) {
            Some(cluster) => cluster,
            // Envoy's route keyed on the routing header does not match; a sidecar's own
            // routes pass the request through (the plugin decided `Pass`).
            None if self.program.passes_unknown_hosts() => PASSTHROUGH_CLUSTER.to_string(),
            // Nothing else routes it: Envoy's 404.
            None => {
                return Ok(Observed {
                    status: 404,
                    response_headers,
                    ..Observed::default()
                });
            }
        };
        // Headers Envoy's router consumes: the routing header, the mirror headers and the
        // x-envoy-* controls never reach the upstream.
        let mirror_prefix = format!("{routing_header}-mirror-");
        let mut mirrors = Vec::new();
        let mut headers = Vec::new();
        for (name, v) in &forwarded {
            if name.starts_with(&mirror_prefix) {
                mirrors.push(backend_of(&self.program, v).name);
            } else if !name.starts_with(':')
                && name != routing_header
                && *name != default_retry
                && !ROUTER_CONTROLS.contains(&name.as_str())
            {
                headers.push((name.clone(), v.clone()));
            }
        }
        let backend = if cluster == PASSTHROUGH_CLUSTER {
            passthrough_backend(&value(":authority").unwrap_or_default())
        } else {
            backend_of(&self.program, &cluster)
        };
        Ok(Observed {
            status: BACKEND_STATUS,
            backend: Some(backend),
            upstream: Some(UpstreamSeen {
                method: value(":method").unwrap_or_default(),
                authority: value(":authority").unwrap_or_default(),
                path: value(":path").unwrap_or_default(),
                headers,
            }),
            response_headers,
            mirrors,
            timeout_ms: value(REQUEST_TIMEOUT).and_then(|t| t.parse().ok()).unwrap_or(0),
        })
    }
}

/// The request headers Envoy's router reads and removes (see the plugin's `envoy` module).
#[cfg(feature = "wasm-engine")]
const ROUTER_CONTROLS: [&str; 7] = [
    "x-envoy-fault-delay-request",
    REQUEST_TIMEOUT,
    "x-envoy-upstream-rq-per-try-timeout-ms",
    "x-envoy-max-retries",
    "x-envoy-retry-on",
    "x-envoy-retry-grpc-on",
    "x-envoy-retriable-status-codes",
];
#[cfg(feature = "wasm-engine")]
const REQUEST_TIMEOUT: &str = "x-envoy-upstream-rq-timeout-ms";

/// The plugin module's file name after `cargo build -p switchyard-plugin --target wasm32-wasip1 --profile wasm`.
pub const PLUGIN_FILE: &str = "switchyard_plugin.wasm";
/// The documented build command.
pub const PLUGIN_BUILD: &str = "cargo build -p switchyard-plugin --target wasm32-wasip1 --profile wasm";

/// Finds the plugin module: `--wasm`, then `$SWITCHYARD_WASM`, then beside the binary,
/// then the workspace's wasm build output relative to the binary (target/<profile>/).
pub fn find_plugin(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(format!("--wasm {}: no such file", path.display()))
        };
    }
    if let Some(path) = std::env::var_os("SWITCHYARD_WASM") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("$SWITCHYARD_WASM={}: no such file", path.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate the switchyard binary: {e}"))?;
    let mut candidates = Vec::new();
    for dir in exe.ancestors().skip(1).take(3) {
        candidates.push(dir.join(PLUGIN_FILE));
        candidates.push(dir.join("wasm32-wasip1").join("wasm").join(PLUGIN_FILE));
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        format!("the plugin module {PLUGIN_FILE} was not found beside the binary; build it with `{PLUGIN_BUILD}`, or pass --wasm PATH")
    })
}
