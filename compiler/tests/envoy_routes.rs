//! `switchyard emit envoy-routes` through a real Envoy: every route table written for the
//! corpus and the examples passes `envoy --mode validate`, and Envoy's own router with
//! those tables decides every route-test case as the plugin does (same status, same
//! cluster, same redirect Location, same upstream path and host), apart from the listed
//! differences, each with its reason. That is what makes the side-by-side benchmark
//! (`bench/`) a fair comparison: both configurations route the same way.
//!
//! The plugin's decisions come from the evaluator in-process (the native engine); the
//! corpus tests prove the plugin in Envoy decides as it does (`tests/envoy.rs`).
//! Envoy is found as in `tests/envoy.rs`; without it these tests print a notice and pass
//! unless `SWITCHYARD_REQUIRE_ENVOY=1`.

// Only the suite listing is used here.
#[allow(dead_code)]
#[path = "support/suites.rs"]
mod suites;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use switchyard_compiler::compile::{CompileOptions, Compiled, Target, compile};
use switchyard_compiler::emit::bootstrap::{BootstrapOptions, Listener, listener_name};
use switchyard_compiler::emit::envoy::clusters;
use switchyard_compiler::emit::envoy_routes::bootstrap::native_bootstrap;
use switchyard_compiler::emit::envoy_routes::{RouteTable, route_tables};
use switchyard_compiler::input::load_inputs;
use switchyard_compiler::routetest::check::check_distribution;
use switchyard_compiler::routetest::engine::{Engine, NativeEngine, Observed, SentRequest};
use switchyard_compiler::routetest::envoy::EnvoyEngine;
use switchyard_compiler::routetest::envoy::process::{WorkDir, find_envoy};
use switchyard_compiler::routetest::file::{Case, TestFile, TestTarget, parse_test_file};

use self::suites::{root, suites};

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
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
            None
        }
    }
}

/// One test file of one suite, compiled for its target, with its route tables (or why
/// Envoy's routes cannot express them).
struct Prepared {
    file: TestFile,
    compiled: Compiled,
    tables: Result<Vec<RouteTable>, String>,
}

/// Every test file below `corpus/` and `examples/`, compiled.
fn prepared() -> Vec<Prepared> {
    let mut all = Vec::new();
    for dir in ["corpus", "examples"] {
        for (manifests, tests) in suites(&root().join(dir)) {
            let documents = load_inputs(&manifests).unwrap_or_else(|d| panic!("{manifests:?}: {d:?}"));
            for test in tests {
                let text = std::fs::read_to_string(&test).unwrap();
                let file = parse_test_file(&test, &text).unwrap_or_else(|d| panic!("{d}"));
                let target = match &file.target {
                    TestTarget::Gateway(key) => Target::Gateway(Some(key.clone())),
                    TestTarget::Mesh { namespace } => Target::Mesh(namespace.clone()),
                    TestTarget::IstioGateway(key) => Target::IstioGateway(key.clone()),
                };
                let mut options = CompileOptions {
                    target,
                    ..CompileOptions::default()
                };
                if let Some(domain) = &file.cluster_domain {
                    options.cluster_domain = domain.clone();
                }
                let compiled = compile(&documents, &options).unwrap_or_else(|d| panic!("{test}: {d:?}"));
                let tables = route_tables(&compiled.ir);
                all.push(Prepared {
                    file,
                    compiled,
                    tables,
                });
            }
        }
    }
    all
}

/// The test engine's listener layout: one per program port, loopback, any free port.
fn options_for(tables: &[RouteTable], endpoints: &[String]) -> BootstrapOptions {
    BootstrapOptions {
        wasm_path: String::new(),
        listeners: tables
            .iter()
            .map(|t| Listener {
                name: listener_name(t.port),
                address: "127.0.0.1".into(),
                port: 0,
            })
            .collect(),
        endpoints: endpoints
            .iter()
            .zip(10001u16..)
            .map(|(c, port)| {
                let endpoint = switchyard_compiler::emit::endpoints::Endpoint {
                    host: "127.0.0.1".into(),
                    port,
                };
                (c.clone(), vec![endpoint])
            })
            .collect(),
        admin_address: "127.0.0.1".into(),
        admin_port: 0,
        proxy_protocol: false,
        observe_timeout: false,
        trace_header: None,
    }
}

fn validate(envoy: &Path, config: &Path) -> Result<(), String> {
    let run = Command::new(envoy)
        .args(["--mode", "validate", "-l", "error", "-c"])
        .arg(config)
        .output()
        .map_err(|e| e.to_string())?;
    if run.status.success() {
        Ok(())
    } else {
        Err(format!(
            "envoy --mode validate -c {} failed:\n{}{}",
            config.display(),
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        ))
    }
}

/// Every route table written for a corpus or example target loads in Envoy.
#[test]
fn emitted_route_tables_validate_in_envoy() {
    let Some(envoy) = envoy("emitted_route_tables_validate_in_envoy") else {
        return;
    };
    let dir = WorkDir::new().unwrap();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for (i, p) in prepared().iter().enumerate() {
        let Ok(tables) = &p.tables else { continue };
        let program = switchyard_bytecode::Program::from_bytes(&p.compiled.bytes).unwrap();
        // Files of one suite often share a target: validate each program once.
        if !seen.insert(p.compiled.bytes.clone()) {
            continue;
        }
        let config = native_bootstrap(
            tables,
            &clusters(&program),
            &options_for(tables, &clusters(&program)),
        );
        let path = dir.path.join(format!("native-{i}.yaml"));
        std::fs::write(&path, config.to_yaml()).unwrap();
        count += 1;
        if let Err(e) = validate(&envoy, &path) {
            failures.push(format!("{}: {e}", p.file.path));
        }
    }
    assert!(count > 20, "only {count} route tables validated");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The JSON `switchyard emit envoy-routes` prints is a RouteConfiguration Envoy loads.
#[test]
fn emit_envoy_routes_writes_json_envoy_loads() {
    let Some(envoy) = envoy("emit_envoy_routes_writes_json_envoy_loads") else {
        return;
    };
    let dir = WorkDir::new().unwrap();
    let output = dir.path.join("routes.json");
    let run = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["emit", "envoy-routes", "-q", "--gateway", "infra/web", "-f"])
        .arg(root().join("examples/quickstart/manifests.yaml"))
        .arg("-o")
        .arg(&output)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let routes: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(routes["name"], "http.80");
    assert_eq!(
        routes["virtual_hosts"][0]["domains"],
        serde_json::json!(["shop.example.com", "shop.example.com:*"])
    );
    let bootstrap = serde_json::json!({
        "static_resources": {
            "listeners": [{
                "name": "http",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": "http",
                        "route_config": routes,
                        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
                    },
                }]}],
            }],
            "clusters": clusters_json(&routes),
        },
    });
    let path = dir.path.join("bootstrap.json");
    std::fs::write(&path, bootstrap.to_string()).unwrap();
    validate(&envoy, &path).unwrap();
}

/// The clusters a route table names, each with one loopback endpoint.
fn clusters_json(routes: &serde_json::Value) -> serde_json::Value {
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("cluster", serde_json::Value::String(c)) => {
                            out.insert(c.clone());
                        }
                        ("weighted_clusters", w) => {
                            for c in w["clusters"].as_array().into_iter().flatten() {
                                out.extend(c["name"].as_str().map(str::to_string));
                            }
                        }
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut names = BTreeSet::new();
    walk(routes, &mut names);
    names
        .into_iter()
        .map(|name| {
            serde_json::json!({
                "name": name, "type": "STATIC", "connect_timeout": "1s",
                "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [{"endpoint": {
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": 9}}}}]}]},
            })
        })
        .collect()
}

/// A program with several listeners needs `--port`; the error names the ports.
#[test]
fn emit_envoy_routes_asks_for_a_port_when_there_are_several() {
    let run = |extra: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
        command.args(["emit", "envoy-routes", "-q", "--gateway", "sy/gw-allowed"]);
        for m in [
            "corpus/switchyard/base/manifests.yaml",
            "corpus/switchyard/allowed-routes/manifests.yaml",
        ] {
            command.arg("-f").arg(root().join(m));
        }
        command.args(extra).output().unwrap()
    };
    let without = run(&[]);
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert_eq!(without.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--port"), "{stderr}");
    assert!(without.stdout.is_empty());
    let port = stderr
        .split("ports ")
        .nth(1)
        .and_then(|s| s.split([',', ':']).next())
        .unwrap()
        .trim()
        .to_string();
    let with = run(&["--port", &port, "--compact"]);
    assert!(with.status.success(), "{}", String::from_utf8_lossy(&with.stderr));
    let text = String::from_utf8(with.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    let routes: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(routes["name"], format!("http.{port}"));
}

/// A difference between Envoy's router on the emitted routes and the plugin, known and
/// explained: the case (file substring, case name or any) and the field that differs.
struct Known {
    files: &'static str,
    case: Option<&'static str>,
    /// Every difference of such a case starts with one of these (`status`, `cluster`,
    /// ...), or `unsupported` when the routes cannot be emitted at all.
    fields: &'static [&'static str],
    reason: &'static str,
}

const KNOWN: &[Known] = &[
    Known {
        files: "httproute-https-listener-detect-misdirected-requests",
        case: None,
        fields: &["status", "cluster"],
        reason: "the program answers 421 when the Host belongs to another HTTPS listener than \
                 the TLS SNI chose; a route table does not see the SNI (a control plane \
                 splits filter chains per certificate instead); `emit envoy-routes` notes it",
    },
    Known {
        files: "switchyard/backend-filters-weighted/",
        case: None,
        fields: &["unsupported"],
        reason: "a redirect or a path rewrite on one of several weighted backends: Envoy's \
                 weighted clusters carry neither, so `emit envoy-routes` refuses the rule",
    },
    Known {
        files: "switchyard/query-params/",
        case: None,
        fields: &["cluster"],
        reason: "Envoy compares a query parameter's value as sent; the program compares it \
                 percent-decoded (`%20`, `%26`, `%2B`), so only the decoded form matches there",
    },
    Known {
        files: "switchyard/regex-matches/",
        case: Some("a query regex sees the percent-decoded value"),
        fields: &["cluster"],
        reason: "Envoy matches a query parameter's value as sent, the program percent-decoded",
    },
    Known {
        files: "switchyard/repeated-headers/",
        case: None,
        fields: &["cluster"],
        reason: "Envoy 1.40 matches each value of a repeated header on its own (one matching \
                 value is enough); the program matches the values joined with `,` (RFC 9110 \
                 §3.2.2), as Gateway API advises",
    },
];

/// The request a case sends (the test runner's rules: the default port is the first
/// HTTP listener's; no host means the proxy's IP address).
fn sent_request(case: &Case, default_port: u32) -> SentRequest {
    let request = &case.request;
    let port = request.port.unwrap_or(default_port);
    let default_scheme_port = if request.scheme == "https" { 443 } else { 80 };
    let authority = request.host.clone().unwrap_or_else(|| {
        if port == default_scheme_port {
            "127.0.0.1".to_string()
        } else {
            format!("127.0.0.1:{port}")
        }
    });
    SentRequest {
        port,
        method: request.method.clone(),
        scheme: request.scheme.clone(),
        authority,
        path: request.path.clone(),
        headers: request.headers.clone(),
        sni: request.sni.clone(),
    }
}

fn location(seen: &Observed) -> Option<&str> {
    seen.response_headers
        .iter()
        .find(|(n, _)| n == "location")
        .map(|(_, v)| v.as_str())
}

/// What differs between the plugin's and Envoy's handling of one request.
fn differences(plugin: &Observed, native: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    let mut compare = |field: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{field}: plugin {a}, envoy {b}"));
        }
    };
    compare("status", plugin.status.to_string(), native.status.to_string());
    let cluster = |o: &Observed| format!("{:?}", o.backend.as_ref().map(|b| b.cluster.clone()));
    compare("cluster", cluster(plugin), cluster(native));
    compare(
        "location",
        format!("{:?}", location(plugin)),
        format!("{:?}", location(native)),
    );
    if let (Some(a), Some(b)) = (&plugin.upstream, &native.upstream) {
        compare("upstream.path", a.path.clone(), b.path.clone());
        compare("upstream.host", a.authority.clone(), b.authority.clone());
    }
    out
}

/// How many times a distribution is drawn from Envoy before it counts as a difference.
const DISTRIBUTION_TRIES: usize = 3;

/// Runs one case on both engines; returns its differences.
fn run_case(
    case: &Case,
    program: &[u8],
    default_port: u32,
    plugin: &mut dyn Engine,
    native: &mut dyn Engine,
) -> Vec<String> {
    let sent = sent_request(case, default_port);
    if let Some(expected) = &case.expect.backends {
        // Weighted: the draws differ, the shares must not. Envoy draws its own numbers,
        // so a share strays past the tolerance now and then (500 draws at 70/30 about
        // once in a hundred runs): the check is repeated, as upstream conformance and
        // `switchyard test` on the envoy engine do.
        let mut found = Vec::new();
        for _ in 0..DISTRIBUTION_TRIES {
            let mut counts: Vec<(String, u32)> = Vec::new();
            for _ in 0..case.repeat {
                let seen = match native.send(&sent) {
                    Ok(seen) => seen,
                    Err(e) => return vec![format!("error: {e}")],
                };
                let name = seen
                    .backend
                    .map_or_else(|| format!("{} from the proxy", seen.status), |b| b.name);
                match counts.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, c)) => *c += 1,
                    None => counts.push((name, 1)),
                }
            }
            found = check_distribution(expected, case.expect.tolerance, &counts, case.repeat)
                .into_iter()
                .map(|f| format!("cluster: {f}"))
                .collect();
            if found.is_empty() {
                break;
            }
        }
        return found;
    }
    match (plugin.send(&sent), native.send(&sent)) {
        (Ok(a), Ok(b)) => {
            let found = differences(&a, &b);
            // A weighted rule: Envoy draws its own numbers. It differs only if the
            // plugin could never have chosen Envoy's cluster.
            let weighted = |f: &String| {
                f.starts_with("cluster:")
                    && b.backend
                        .as_ref()
                        .is_some_and(|chosen| possible_clusters(program, &sent).contains(&chosen.cluster))
            };
            found.into_iter().filter(|f| !weighted(f)).collect()
        }
        (Err(e), _) | (_, Err(e)) => vec![format!("error: {e}")],
    }
}

/// Every cluster the plugin sends `sent` to over many random draws.
fn possible_clusters(program: &[u8], sent: &SentRequest) -> BTreeSet<String> {
    (0..64u64)
        .filter_map(|seed| {
            let mut engine = NativeEngine::new(program, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1).ok()?;
            engine.send(sent).ok()?.backend.map(|b| b.cluster)
        })
        .collect()
}

fn seed_for(file: &str, case: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in file.bytes().chain([0]).chain(case.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Envoy's router on the emitted routes decides every corpus and example case as the
/// plugin does, apart from the known differences.
#[test]
fn native_routes_decide_like_the_plugin() {
    let Some(envoy) = envoy("native_routes_decide_like_the_plugin") else {
        return;
    };
    let queue = Mutex::new(prepared());
    let results: Mutex<Vec<(String, String, Vec<String>)>> = Mutex::new(Vec::new());
    let compared = Mutex::new(0usize);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let Some(p) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let tables = match &p.tables {
                        Ok(tables) => tables.clone(),
                        Err(why) => {
                            results.lock().unwrap().push((
                                p.file.path.clone(),
                                String::new(),
                                vec![format!("unsupported: {why}")],
                            ));
                            continue;
                        }
                    };
                    let mut native =
                        EnvoyEngine::start_with(&p.compiled.bytes, &envoy, |program, options| {
                            Ok(native_bootstrap(&tables, &clusters(program), options))
                        })
                        .unwrap_or_else(|e| panic!("{}: {e}", p.file.path));
                    for case in &p.file.cases {
                        let mut plugin =
                            NativeEngine::new(&p.compiled.bytes, seed_for(&p.file.path, &case.name)).unwrap();
                        let found = run_case(
                            case,
                            &p.compiled.bytes,
                            p.compiled.default_port,
                            &mut plugin,
                            &mut native,
                        );
                        *compared.lock().unwrap() += 1;
                        if !found.is_empty() {
                            results
                                .lock()
                                .unwrap()
                                .push((p.file.path.clone(), case.name.clone(), found));
                        }
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort();
    let mut used = vec![false; KNOWN.len()];
    let mut unexplained = Vec::new();
    for (file, case, found) in &results {
        let known = KNOWN.iter().position(|k| {
            file.contains(k.files)
                && k.case.is_none_or(|c| c == case)
                && found
                    .iter()
                    .all(|f| k.fields.iter().any(|field| f.starts_with(field)))
        });
        match known {
            Some(i) => {
                used[i] = true;
                eprintln!("known difference: {file}: {case}: {}", KNOWN[i].reason);
            }
            None => unexplained.push(format!("{file}: {case}\n    {}", found.join("\n    "))),
        }
    }
    for (k, used) in KNOWN.iter().zip(used) {
        if !used {
            unexplained.push(format!(
                "known difference {:?} {:?} no longer happens; remove it",
                k.files, k.case
            ));
        }
    }
    let compared = compared.into_inner().unwrap();
    eprintln!("{compared} cases compared; {} differ", results.len());
    assert!(compared > 100, "only {compared} cases compared");
    assert!(
        unexplained.is_empty(),
        "{} unexplained difference(s):\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}

/// A rule Envoy's route table cannot express is an error naming the resource, with exit
/// status 2 and no output, never a route silently left out.
#[test]
fn inexpressible_rule_is_an_error_naming_the_resource() {
    let manifests = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: x
  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: strip-host, namespace: shop}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {remove: [host]}
    backendRefs: [{name: web, port: 80}]
"#;
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["emit", "envoy-routes", "-q", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(manifests.as_bytes())
        .unwrap();
    let run = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(run.stdout.is_empty());
    assert!(
        stderr.contains("HTTPRoute shop/strip-host rule 0 match 0"),
        "{stderr}"
    );
    assert!(stderr.contains("\"host\""), "{stderr}");
}
