//! The real plugin `.wasm` in the wasmtime harness, with programs from the compiler:
//! what must hold whatever the routes are (configuration updates, hostile requests).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use switchyard_compiler::compile::{CompileOptions, compile};
use switchyard_compiler::input::load_inputs;
use switchyard_host_harness::{HttpRequest, Plugin, Vm, VmOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn plugin() -> &'static Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        let path = std::env::var_os("SWITCHYARD_WASM")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target/wasm32-wasip1/wasm/switchyard_plugin.wasm"));
        assert!(
            path.is_file(),
            "{} is missing: build it with `cargo build -p switchyard-plugin --target wasm32-wasip1 --profile wasm`",
            path.display()
        );
        Plugin::from_file(&path).expect("the plugin loads")
    })
}

fn quickstart_program() -> Vec<u8> {
    let manifests = root()
        .join("examples/quickstart/manifests.yaml")
        .to_string_lossy()
        .into_owned();
    let documents = load_inputs(&[manifests]).expect("the example loads");
    compile(&documents, &CompileOptions::default())
        .expect("the example compiles")
        .bytes
}

fn start(config: &[u8]) -> Vm {
    plugin()
        .start(VmOptions {
            plugin_config: config.to_vec(),
            root_id: "switchyard".into(),
            ..VmOptions::default()
        })
        .expect("the plugin starts")
}

fn request(authority: &str, path: &str, extra: &[(&str, &str)]) -> HttpRequest {
    let mut headers = vec![
        (":method".to_string(), "GET".to_string()),
        (":scheme".to_string(), "http".to_string()),
        (":authority".to_string(), authority.to_string()),
        (":path".to_string(), path.to_string()),
    ];
    headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    HttpRequest {
        headers,
        ..HttpRequest::default()
    }
}

fn routed_cluster(vm: &mut Vm, req: &HttpRequest) -> Option<String> {
    let exchange = vm.http_request(req).expect("the request completes");
    exchange
        .upstream_request?
        .into_iter()
        .find(|(n, _)| n == "x-switchyard-cluster")
        .map(|(_, v)| v)
}

#[test]
fn corrupted_update_is_refused_and_previous_program_keeps_serving() {
    let program = quickstart_program();
    let mut vm = start(&program);
    let frontend = Some("outbound|80||frontend.shop.svc.cluster.local".to_string());
    assert_eq!(
        routed_cluster(&mut vm, &request("shop.example.com", "/", &[])),
        frontend
    );

    let mut corrupted = program.clone();
    let last = corrupted.len() - 1;
    corrupted[last] ^= 0xFF;
    assert!(
        !vm.reconfigure(&corrupted).expect("configure runs"),
        "a damaged program must be refused"
    );
    let logs: Vec<String> = vm.logs().iter().map(|l| l.to_string()).collect();
    assert!(
        logs.iter()
            .any(|l| l.contains("configuration refused") && l.contains("keeping the previous program")),
        "{logs:?}"
    );
    assert_eq!(
        routed_cluster(&mut vm, &request("shop.example.com", "/", &[])),
        frontend
    );
}

#[test]
fn base64_json_configuration_is_accepted_like_raw_bytes() {
    let program = quickstart_program();
    let encoded = base64(&program);
    let mut vm = start(format!("{{\"bytecode\": \"{encoded}\"}}").as_bytes());
    assert_eq!(
        routed_cluster(&mut vm, &request("shop.example.com", "/healthz", &[])),
        Some("outbound|8080||health.shop.svc.cluster.local".to_string())
    );
}

#[test]
fn client_routing_header_never_picks_the_backend() {
    let mut vm = start(&quickstart_program());
    let spoofed = [(
        "x-switchyard-cluster",
        "outbound|8080||api-v2.shop.svc.cluster.local",
    )];
    // Routed: overwritten with the real choice.
    assert_eq!(
        routed_cluster(&mut vm, &request("shop.example.com", "/", &spoofed)),
        Some("outbound|80||frontend.shop.svc.cluster.local".to_string())
    );
    // Not routed: answered locally, nothing forwarded.
    let exchange = vm
        .http_request(&request("unknown.example.org", "/", &spoofed))
        .unwrap();
    assert_eq!(exchange.local_reply.map(|r| r.status), Some(404));
    assert!(exchange.upstream_request.is_none());
}

#[test]
fn hostile_requests_never_crash_the_filter() {
    let mut vm = start(&quickstart_program());
    let long_path = format!("/{}", "a/".repeat(5000));
    let cases: Vec<HttpRequest> = vec![
        HttpRequest::default(),
        request("", "", &[]),
        request("shop.example.com", &long_path, &[]),
        request(
            "shop.example.com:99999999999",
            "/api?%zz=%%&&==",
            &[("x-canary", "\u{0}")],
        ),
        request("[::1", "no-leading-slash", &[]),
        request("...", "//..//", &[("x-canary", "true"), ("x-canary", "false")]),
        request("shop.example.com", "/products?preview=%31", &[]),
    ];
    for case in &cases {
        let exchange = vm.http_request(case).expect("no trap");
        assert!(exchange.local_reply.is_some() || exchange.upstream_request.is_some());
    }
    assert!(!vm.is_failed());
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn each_rule_counts_its_hits_in_a_counter_named_after_its_source() {
    let mut vm = start(&quickstart_program());
    for _ in 0..3 {
        routed_cluster(&mut vm, &request("shop.example.com", "/healthz", &[]));
    }
    routed_cluster(&mut vm, &request("shop.example.com", "/", &[]));
    // No rule decided a 404: nothing is counted for it.
    vm.http_request(&request("unknown.example.org", "/", &[]))
        .unwrap();
    let metrics = vm.metrics();
    let count = |name: &str| metrics.iter().find(|m| m.name == name).map(|m| m.value);
    assert_eq!(
        count("switchyard_rule_hits.httproute.shop.storefront.rule_0.match_0"),
        Some(3)
    );
    assert_eq!(
        count("switchyard_rule_hits.httproute.shop.storefront.rule_4.match_0"),
        Some(1)
    );
    assert_eq!(
        metrics.len(),
        2,
        "counters are defined lazily, one per rule hit: {metrics:?}"
    );
}

fn trace_of(vm: &mut Vm, req: &HttpRequest) -> Option<String> {
    let exchange = vm.http_request(req).expect("the request completes");
    exchange
        .response_headers
        .into_iter()
        .find(|(n, _)| n == "x-trace-me")
        .map(|(_, v)| v)
}

#[test]
fn trace_header_when_configured_and_requested_returns_the_decision_path() {
    let encoded = base64(&quickstart_program());
    let mut vm =
        start(format!("{{\"bytecode\": \"{encoded}\", \"traceHeader\": \"x-trace-me\"}}").as_bytes());
    let trace = trace_of(
        &mut vm,
        &request("shop.example.com", "/api/items", &[("x-trace-me", "1")]),
    )
    .expect("a requested trace is answered");
    assert!(trace.starts_with("listener=80 vhost="), "{trace}");
    assert!(
        trace.contains("passed=#") && trace.contains("[header x-canary = \"true\"]"),
        "{trace}"
    );
    assert!(
        trace.contains(" won=#") && trace.contains("HTTPRoute shop/"),
        "{trace}"
    );
    assert!(trace.contains(" cluster=outbound|8080||api-v"), "{trace}");
    // A miss is traced too, on the proxy's own 404.
    let miss = trace_of(
        &mut vm,
        &request("unknown.example.org", "/", &[("x-trace-me", "1")]),
    )
    .unwrap();
    assert!(miss.ends_with("won=none status=404"), "{miss}");
    // Not asked: no trace.
    assert_eq!(
        trace_of(&mut vm, &request("shop.example.com", "/api/items", &[])),
        None
    );
}

#[test]
fn trace_header_is_ignored_unless_the_configuration_enables_it() {
    let mut vm = start(&quickstart_program());
    let exchange = vm
        .http_request(&request(
            "shop.example.com",
            "/",
            &[("x-switchyard-trace", "1"), ("x-trace-me", "1")],
        ))
        .unwrap();
    assert!(
        exchange
            .response_headers
            .iter()
            .all(|(n, _)| !n.contains("trace")),
        "{:?}",
        exchange.response_headers
    );
}

#[test]
fn plugin_trace_header_equals_explain_line_trace() {
    use switchyard_compiler::routetest::engine::SentRequest;
    let program_bytes = quickstart_program();
    let encoded = base64(&program_bytes);
    let mut vm =
        start(format!("{{\"bytecode\": \"{encoded}\", \"traceHeader\": \"x-trace-me\"}}").as_bytes());
    let program = switchyard_bytecode::Program::from_bytes(&program_bytes).unwrap();
    for (host, path) in [
        ("shop.example.com", "/healthz"),
        ("shop.example.com", "/?preview=1"),
        ("x.example.com", "/beta/1"),
    ] {
        let from_plugin = trace_of(&mut vm, &request(host, path, &[("x-trace-me", "1")])).unwrap();
        let sent = SentRequest {
            port: 80,
            method: "GET".into(),
            scheme: "http".into(),
            authority: host.into(),
            path: path.into(),
            headers: vec![("x-trace-me".into(), "1".into())],
            sni: None,
        };
        assert_eq!(
            from_plugin,
            switchyard_compiler::trace::trace_line(&program, &sent, 0),
            "{host}{path}"
        );
    }
}

/// A program with timeouts and retries on one rule and none on another, with or without
/// a header condition (on the rule without, so no retry policy has a majority and the
/// routing route carries none).
fn controls_program(header_condition: bool) -> Vec<u8> {
    let condition = if header_condition {
        "\n  - matches:\n    - headers: [{name: x-team, value: a}]\n      path: {type: PathPrefix, value: /team}\n    backendRefs: [{name: svc, port: 80}]"
    } else {
        ""
    };
    let manifests = format!(
        "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: ns}}
spec:
  gatewayClassName: x
  listeners: [{{name: http, port: 80, protocol: HTTP}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: ns}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches:
    - path: {{type: PathPrefix, value: /slow}}
    timeouts: {{request: 5s}}
    retry: {{attempts: 3, codes: [503]}}
    backendRefs: [{{name: svc, port: 80}}]{condition}
  - backendRefs: [{{name: svc, port: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: svc, namespace: ns}}
spec: {{ports: [{{port: 80}}]}}
"
    );
    compile_text(
        &format!("controls-{header_condition}"),
        &manifests,
        CompileOptions::default(),
    )
}

/// Compiles manifests given as text (through a file, as the CLI reads them).
fn compile_text(name: &str, manifests: &str, options: CompileOptions) -> Vec<u8> {
    let path = std::env::temp_dir().join(format!("switchyard-{name}-{}.yaml", std::process::id()));
    std::fs::write(&path, manifests).unwrap();
    let documents = load_inputs(&[path.display().to_string()]).expect("loads");
    let _ = std::fs::remove_file(&path);
    compile(&documents, &options).expect("compiles").bytes
}

#[test]
fn client_router_controls_never_reach_the_router() {
    let spoofed = [
        ("x-envoy-upstream-rq-timeout-ms", "1"),
        ("x-envoy-upstream-rq-per-try-timeout-ms", "1"),
        ("x-envoy-max-retries", "99"),
        ("x-envoy-retry-on", "5xx"),
        ("x-envoy-retriable-status-codes", "404"),
    ];
    for header_condition in [false, true] {
        let mut vm = start(&controls_program(header_condition));
        // A rule without timeout or retry: every control the client sent is gone.
        let exchange = vm
            .http_request(&request("a.example", "/other", &spoofed))
            .unwrap();
        let forwarded = exchange.upstream_request.expect("forwarded");
        for (name, _) in spoofed {
            assert!(
                forwarded.iter().all(|(n, _)| n != name),
                "{name} reached the router (header map fetched: {header_condition}): {forwarded:?}"
            );
        }
        // A rule with them: the program's values replace the client's.
        let exchange = vm.http_request(&request("a.example", "/slow", &spoofed)).unwrap();
        let forwarded = exchange.upstream_request.expect("forwarded");
        let value = |name: &str| forwarded.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(value("x-envoy-upstream-rq-timeout-ms"), Some("5000"));
        assert_eq!(value("x-envoy-max-retries"), Some("3"));
        assert_eq!(value("x-envoy-retriable-status-codes"), Some("503"));
        assert_eq!(value("x-envoy-upstream-rq-per-try-timeout-ms"), None);
    }
}

#[test]
fn router_controls_the_client_did_not_send_cost_no_host_call() {
    // The plugin reads the whole header map on every request (one host call, which also
    // carries the request line), so it knows what the client sent: on a rule without
    // timeout or retry only the routing header is written, whether or not the program
    // has header conditions.
    for header_condition in [false, true] {
        let bytes = controls_program(header_condition);
        let mut vm = start(&bytes);
        let exchange = vm.http_request(&request("a.example", "/other", &[])).unwrap();
        assert_eq!(exchange.request_header_writes, 1, "only the routing header");
    }
}

/// A disabled timeout (Gateway API `0s`, Istio's default) is what the routing route
/// already says (`timeout: 0s`, no per-try timeout), so the plugin writes no header for
/// it; a client's own timeout header is still removed.
#[test]
fn a_disabled_timeout_costs_no_header_write_and_still_drops_the_clients() {
    let manifests = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: x
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ns}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /open}}]
    timeouts: {request: 0s, backendRequest: 0s}
    backendRefs: [{name: svc, port: 80}]
  - timeouts: {request: 2s}
    backendRefs: [{name: svc, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ns}
spec: {ports: [{port: 80}]}
";
    let bytes = compile_text("timeout-zero", manifests, CompileOptions::default());
    let mut vm = start(&bytes);
    let exchange = vm.http_request(&request("a.example", "/open", &[])).unwrap();
    assert_eq!(exchange.request_header_writes, 1, "only the routing header");
    let spoofed = [
        ("x-envoy-upstream-rq-timeout-ms", "1"),
        ("x-envoy-upstream-rq-per-try-timeout-ms", "1"),
    ];
    let exchange = vm.http_request(&request("a.example", "/open", &spoofed)).unwrap();
    let forwarded = exchange.upstream_request.expect("forwarded");
    assert!(
        forwarded
            .iter()
            .all(|(n, _)| !n.starts_with("x-envoy-upstream-rq")),
        "{forwarded:?}"
    );
    // A rule with a real timeout still sets it.
    let exchange = vm.http_request(&request("a.example", "/other", &[])).unwrap();
    let forwarded = exchange.upstream_request.expect("forwarded");
    assert!(forwarded.contains(&("x-envoy-upstream-rq-timeout-ms".to_string(), "2000".to_string())));
}

/// A program of VirtualServices where some routes keep Istio's default retry policy and
/// three set their own: 3 retries on `5xx,unavailable`, none (`attempts: 0`), and 2 on
/// `5xx` (same count as the default, other conditions).
fn istio_retry_program() -> Vec<u8> {
    let manifests = "\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ['*/*']
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example]
  gateways: [istio-system/ingress]
  http:
  - match: [{uri: {prefix: /own}}]
    retries: {attempts: 3, retryOn: '5xx,unavailable'}
    route: [{destination: {host: svc}}]
  - match: [{uri: {prefix: /none}}]
    retries: {attempts: 0}
    route: [{destination: {host: svc}}]
  - match: [{uri: {prefix: /same-count}}]
    retries: {attempts: 2, retryOn: 5xx}
    route: [{destination: {host: svc}}]
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: svc}}]
  - match: [{uri: {prefix: /b}}]
    route: [{destination: {host: svc}}]
  - match: [{uri: {prefix: /c}}]
    route: [{destination: {host: svc}}]
  - route: [{destination: {host: svc}}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: default}
spec: {ports: [{name: http, port: 80}]}
";
    let options = CompileOptions {
        target: switchyard_compiler::compile::Target::IstioGateway("istio-system/ingress".into()),
        ..CompileOptions::default()
    };
    compile_text("istio-retry", manifests, options)
}

const ROUTING: &str = "x-switchyard-cluster";
const DEFAULT_RETRY: &str = "x-switchyard-cluster-default-retry";
const CLUSTER: &str = "outbound|80||svc.default.svc.cluster.local";

/// Istio's default retry policy is the own policy of the routing route keyed on the
/// second routing header: a request with it names its cluster there, one header write
/// and no retry header, and a client's value of either routing header or of any retry
/// header is removed; a request with another policy names it in the routing header,
/// takes the route without a policy and carries its policy in full, its gRPC conditions
/// in `x-envoy-retry-grpc-on` (Envoy ignores them in `x-envoy-retry-on`); a route
/// without retries carries none.
#[test]
fn istios_default_retry_costs_no_header_and_any_other_policy_is_given_in_full() {
    let bytes = istio_retry_program();
    let mut vm = start(&bytes);
    let spoofed = [
        ("x-envoy-max-retries", "9"),
        ("x-envoy-retry-on", "5xx"),
        ("x-envoy-retry-grpc-on", "internal"),
        (ROUTING, "evil"),
        (DEFAULT_RETRY, "evil"),
    ];
    let forwarded = |vm: &mut Vm, path: &str, extra: &[(&str, &str)]| {
        let exchange = vm.http_request(&request("a.example", path, extra)).unwrap();
        let writes = exchange.request_header_writes;
        (exchange.upstream_request.expect("forwarded"), writes)
    };
    let value = |headers: &[(String, String)], name: &str| {
        headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    };
    let (headers, writes) = forwarded(&mut vm, "/a", &[]);
    assert_eq!(writes, 1, "only the second routing header: {headers:?}");
    assert_eq!(value(&headers, DEFAULT_RETRY).as_deref(), Some(CLUSTER));
    assert_eq!(value(&headers, ROUTING), None);
    let (headers, _) = forwarded(&mut vm, "/b", &spoofed);
    assert_eq!(value(&headers, DEFAULT_RETRY).as_deref(), Some(CLUSTER));
    for (name, _) in &spoofed[..4] {
        assert_eq!(value(&headers, name), None, "{name} reached the router");
    }
    let (headers, _) = forwarded(&mut vm, "/own", &spoofed);
    assert_eq!(value(&headers, ROUTING).as_deref(), Some(CLUSTER));
    assert_eq!(
        value(&headers, DEFAULT_RETRY),
        None,
        "the client's value reached the router"
    );
    assert_eq!(value(&headers, "x-envoy-max-retries").as_deref(), Some("3"));
    assert_eq!(value(&headers, "x-envoy-retry-on").as_deref(), Some("5xx"));
    assert_eq!(
        value(&headers, "x-envoy-retry-grpc-on").as_deref(),
        Some("unavailable")
    );
    let (headers, _) = forwarded(&mut vm, "/none", &spoofed);
    assert_eq!(value(&headers, ROUTING).as_deref(), Some(CLUSTER));
    assert_eq!(value(&headers, DEFAULT_RETRY), None);
    for name in ["x-envoy-max-retries", "x-envoy-retry-on", "x-envoy-retry-grpc-on"] {
        assert_eq!(value(&headers, name), None, "{name} on a route without retries");
    }
    let (headers, _) = forwarded(&mut vm, "/same-count", &[]);
    assert_eq!(value(&headers, ROUTING).as_deref(), Some(CLUSTER));
    assert_eq!(value(&headers, "x-envoy-retry-on").as_deref(), Some("5xx"));
    // A program without retries removes a client's second routing header too, so that
    // no client can pick the retrying route.
    let mut vm = start(&controls_program(false));
    let exchange = vm
        .http_request(&request("a.example", "/other", &[(DEFAULT_RETRY, "evil")]))
        .unwrap();
    let forwarded = exchange.upstream_request.expect("forwarded");
    assert!(forwarded.iter().all(|(n, _)| n != DEFAULT_RETRY), "{forwarded:?}");
}
