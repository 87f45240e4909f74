//! `switchyard emit`: the Istio resources and the Envoy bootstrap as users get them from
//! the binary. The bootstrap itself is validated by Envoy in `tests/envoy.rs`; here the
//! EnvoyFilter's patches are checked to be those same validated fragments, and the
//! WasmPlugin's `pluginConfig` to be what the real plugin accepts.

#[path = "support/suites.rs"]
#[allow(dead_code)]
mod suites;

use std::process::{Command, Output};

use switchyard_compiler::input::{Node, Value, parse_documents};
use switchyard_compiler::routetest::engine::find_plugin;
use switchyard_host_harness::{HttpRequest, Plugin, VmOptions};

use self::suites::root;

const QUICKSTART: &str = "examples/quickstart/manifests.yaml";
const CONFORMANCE_BASE: &str = "corpus/gateway-api/base/manifests.yaml";
const MIRRORS: &str = "corpus/gateway-api/extended/httproute-request-multiple-mirrors/manifests.yaml";
const CONFORMANCE_GATEWAY: &str = "gateway-conformance-infra/same-namespace";

fn switchyard(args: &[&str], manifests: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    command.args(args).arg("-q");
    for manifest in manifests {
        command.arg("-f").arg(root().join(manifest));
    }
    command.output().unwrap()
}

/// Runs a command that must succeed; returns stdout.
fn emitted(args: &[&str], manifests: &[&str]) -> String {
    let out = switchyard(args, manifests);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail with status 2; returns stderr.
fn refused(args: &[&str], manifests: &[&str]) -> String {
    let out = switchyard(args, manifests);
    assert_eq!(out.status.code(), Some(2), "{args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn documents(text: &str) -> Vec<Node> {
    parse_documents(text, "<emitted>").unwrap_or_else(|d| panic!("emitted YAML does not parse: {d}\n{text}"))
}

/// A node as plain JSON: positions dropped, unquoted integers and booleans typed.
fn plain(node: &Node) -> serde_json::Value {
    match &node.value {
        Value::Null => serde_json::Value::Null,
        Value::Scalar { text, quoted } => match (quoted, text.as_str()) {
            (false, "true") => true.into(),
            (false, "false") => false.into(),
            (false, t) if t.parse::<i64>().is_ok() => t.parse::<i64>().unwrap().into(),
            _ => text.clone().into(),
        },
        Value::Seq(items) => items.iter().map(plain).collect(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.name.clone(), plain(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

fn compiled(args: &[&str], manifests: &[&str]) -> Vec<u8> {
    let mut full = vec!["compile", "-o", "-"];
    full.extend_from_slice(args);
    let out = switchyard(&full, manifests);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    } as u32;
    let bytes: Vec<u8> = text.bytes().filter(|&b| b != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let acc = chunk.iter().fold(0u32, |a, &c| a << 6 | value(c)) << (6 * (4 - chunk.len()));
        out.extend_from_slice(&acc.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn wasmplugin_targets_the_compiled_gateway_and_carries_the_program() {
    let text = emitted(
        &[
            "emit",
            "wasmplugin",
            "--url",
            "oci://ghcr.io/example/switchyard:1",
        ],
        &[QUICKSTART],
    );
    let docs = documents(&text);
    assert_eq!(docs.len(), 1);
    let doc = plain(&docs[0]);
    assert_eq!(doc["apiVersion"], "extensions.istio.io/v1alpha1");
    assert_eq!(doc["kind"], "WasmPlugin");
    assert_eq!(
        doc["metadata"],
        serde_json::json!({"name": "switchyard", "namespace": "infra"})
    );
    let spec = &doc["spec"];
    assert_eq!(
        spec["targetRefs"],
        serde_json::json!([{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "web"}])
    );
    assert_eq!(spec["url"], "oci://ghcr.io/example/switchyard:1");
    assert_eq!(spec["pluginName"], "switchyard");
    let bytecode = spec["pluginConfig"]["bytecode"].as_str().unwrap();
    assert_eq!(decode_base64(bytecode), compiled(&[], &[QUICKSTART]));
    assert_eq!(spec["pluginConfig"].as_object().unwrap().len(), 1);
}

#[test]
fn wasmplugin_options_are_written_and_checked() {
    let sha = "ab".repeat(32);
    let text = emitted(
        &[
            "emit",
            "wasmplugin",
            "--url",
            "https://example.org/switchyard.wasm",
            "--sha256",
            &sha,
            "--phase",
            "AUTHZ",
            "--priority",
            "10",
            "--fail-strategy",
            "FAIL_OPEN",
            "--selector",
            "istio=ingressgateway",
            "--name",
            "routes",
            "--namespace",
            "istio-ingress",
        ],
        &[QUICKSTART],
    );
    let doc = plain(&documents(&text)[0]);
    let spec = &doc["spec"];
    assert_eq!(doc["metadata"]["name"], "routes");
    assert_eq!(doc["metadata"]["namespace"], "istio-ingress");
    assert_eq!(
        spec["selector"],
        serde_json::json!({"matchLabels": {"istio": "ingressgateway"}})
    );
    assert!(spec.get("targetRefs").is_none());
    assert_eq!(spec["sha256"], sha.as_str());
    assert_eq!(spec["phase"], "AUTHZ");
    assert_eq!(spec["priority"], 10);
    assert_eq!(spec["failStrategy"], "FAIL_OPEN");
    let file = emitted(
        &[
            "emit",
            "wasmplugin",
            "--url",
            "file:///opt/switchyard.wasm",
            "--target-ref",
            "Gateway/other",
        ],
        &[QUICKSTART],
    );
    assert_eq!(
        plain(&documents(&file)[0])["spec"]["targetRefs"][0]["name"],
        "other"
    );

    for (args, message) in [
        (vec!["--url", "https://example.org/x.wasm"], "--sha256"),
        (vec!["--url", "http://example.org/x.wasm"], "file://"),
        (vec![], "--url is required"),
        (vec!["--url", "oci://x", "--sha256", "xyz"], "64 hexadecimal"),
        (vec!["--url", "oci://x", "--phase", "LATE"], "--phase"),
        (
            vec!["--url", "oci://x", "--fail-strategy", "FAIL_SOFT"],
            "--fail-strategy",
        ),
        (vec!["--url", "oci://x", "--priority", "high"], "--priority"),
        (
            vec![
                "--url",
                "oci://x",
                "--selector",
                "a=b",
                "--target-ref",
                "Gateway/g",
            ],
            "exclusive",
        ),
        (vec!["--url", "oci://x", "--selector", "novalue"], "KEY=VALUE"),
        (
            vec!["--url", "oci://x", "--target-ref", "a/b/c/d"],
            "[GROUP/]KIND/NAME",
        ),
    ] {
        let mut full = vec!["emit", "wasmplugin"];
        full.extend(args);
        let stderr = refused(&full, &[QUICKSTART]);
        assert!(stderr.contains(message), "{full:?}: {stderr}");
    }
}

/// Istio hands `pluginConfig` to the plugin as its JSON text; the real plugin must load
/// the program from exactly that and route with it, compressed or not.
#[test]
fn wasmplugin_config_is_what_the_plugin_accepts() {
    for compress in [false, true] {
        let mut args = vec!["emit", "wasmplugin", "--url", "oci://x"];
        if compress {
            args.push("--compress");
        }
        let text = emitted(&args, &[QUICKSTART]);
        let config = plain(&documents(&text)[0])["spec"]["pluginConfig"].clone();
        let program = decode_base64(config["bytecode"].as_str().unwrap());
        assert_eq!(program.starts_with(b"SWYDRTZ\0"), compress);
        plugin_routes_the_quickstart_health_check(config.to_string().into_bytes());
    }
    // A standalone bootstrap is no Kubernetes object: the option is refused, not ignored.
    let stderr = refused(
        &[
            "emit",
            "envoy-bootstrap",
            "--endpoint",
            "c=127.0.0.1:1",
            "--compress",
        ],
        &[QUICKSTART],
    );
    assert!(
        stderr.contains("--compress applies to wasmplugin and envoyfilter"),
        "{stderr}"
    );
    // Raw bytes too, as an EnvoyFilter's BytesValue delivers them.
    let raw = compiled(&["--compress"], &[QUICKSTART]);
    assert!(raw.starts_with(b"SWYDRTZ\0"));
    plugin_routes_the_quickstart_health_check(raw);
}

fn plugin_routes_the_quickstart_health_check(config: Vec<u8>) {
    let plugin = Plugin::from_file(&find_plugin(None).unwrap()).unwrap();
    let mut vm = plugin
        .start(VmOptions {
            plugin_config: config,
            root_id: "switchyard".into(),
            ..VmOptions::default()
        })
        .unwrap();
    let request = HttpRequest {
        headers: [
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "shop.example.com"),
            (":path", "/healthz"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect(),
        ..HttpRequest::default()
    };
    let exchange = vm.http_request(&request).unwrap();
    let forwarded = exchange.upstream_request.expect("the request is forwarded");
    assert!(
        forwarded
            .iter()
            .any(|(n, v)| n == "x-switchyard-cluster" && v == "outbound|8080||health.shop.svc.cluster.local"),
        "{forwarded:?}"
    );
}

fn route_of(doc: &serde_json::Value) -> &serde_json::Value {
    &doc["spec"]["configPatches"][0]["patch"]["value"]
}

#[test]
fn envoyfilters_insert_the_filter_and_the_route() {
    let text = emitted(&["emit", "envoyfilter"], &[QUICKSTART]);
    let docs: Vec<serde_json::Value> = documents(&text).iter().map(plain).collect();
    assert_eq!(docs.len(), 2, "{text}");
    let (filter, route) = (&docs[0], &docs[1]);
    for (doc, name) in [(filter, "switchyard-filter"), (route, "switchyard-route")] {
        assert_eq!(doc["apiVersion"], "networking.istio.io/v1alpha3");
        assert_eq!(doc["kind"], "EnvoyFilter");
        assert_eq!(
            doc["metadata"],
            serde_json::json!({"name": name, "namespace": "infra"})
        );
        assert_eq!(
            doc["spec"]["workloadSelector"],
            serde_json::json!({"labels": {"gateway.networking.k8s.io/gateway-name": "web"}})
        );
    }
    let patch = &filter["spec"]["configPatches"][0];
    assert_eq!(patch["applyTo"], "HTTP_FILTER");
    assert_eq!(patch["match"]["context"], "GATEWAY");
    assert_eq!(patch["match"]["listener"]["portNumber"], 80);
    assert_eq!(
        patch["match"]["listener"]["filterChain"]["filter"]["subFilter"]["name"],
        "envoy.filters.http.router"
    );
    assert_eq!(patch["patch"]["operation"], "INSERT_BEFORE");
    let config = &patch["patch"]["value"]["typed_config"]["config"];
    assert_eq!(
        config["configuration"]["@type"],
        "type.googleapis.com/google.protobuf.BytesValue"
    );
    assert_eq!(
        decode_base64(config["configuration"]["value"].as_str().unwrap()),
        compiled(&[], &[QUICKSTART])
    );
    assert_eq!(config["failure_policy"], "FAIL_RELOAD");
    assert_eq!(
        config["vm_config"]["code"]["local"]["filename"],
        "/var/local/wasm/switchyard_plugin.wasm"
    );

    let patch = &route["spec"]["configPatches"][0];
    assert_eq!(patch["applyTo"], "HTTP_ROUTE");
    assert_eq!(
        patch["match"],
        serde_json::json!({"context": "GATEWAY", "routeConfiguration": {"portNumber": 80}})
    );
    assert_eq!(patch["patch"]["operation"], "INSERT_FIRST");
    assert_eq!(
        route_of(route),
        &serde_json::json!({
            "name": "switchyard",
            "match": {"prefix": "/", "headers": [{"name": "x-switchyard-cluster", "present_match": true}]},
            "route": {"cluster_header": "x-switchyard-cluster", "timeout": "0s"},
            "request_headers_to_remove": ["x-switchyard-cluster"],
        })
    );

    let only = emitted(
        &[
            "emit",
            "envoyfilter",
            "--route-only",
            "--selector",
            "istio=ingressgateway",
            "--routing-header",
            "X-Route",
        ],
        &[QUICKSTART],
    );
    let docs: Vec<serde_json::Value> = documents(&only).iter().map(plain).collect();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["metadata"]["name"], "switchyard-route");
    assert_eq!(
        docs[0]["spec"]["workloadSelector"]["labels"],
        serde_json::json!({"istio": "ingressgateway"})
    );
    assert_eq!(route_of(&docs[0])["route"]["cluster_header"], "x-route");
    let stderr = refused(
        &["emit", "envoyfilter", "--target-ref", "Gateway/web"],
        &[QUICKSTART],
    );
    assert!(stderr.contains("--selector"), "{stderr}");
}

#[test]
fn mirrors_get_one_policy_per_slot() {
    let args = [
        "emit",
        "envoyfilter",
        "--route-only",
        "--gateway",
        CONFORMANCE_GATEWAY,
    ];
    let text = emitted(&args, &[CONFORMANCE_BASE, MIRRORS]);
    let doc = plain(&documents(&text)[0]);
    assert_eq!(
        route_of(&doc)["route"]["request_mirror_policies"],
        serde_json::json!([
            {"cluster_header": "x-switchyard-cluster-mirror-0"},
            {"cluster_header": "x-switchyard-cluster-mirror-1"},
        ])
    );
}

/// The EnvoyFilter patches are the bootstrap's filter and route, which Envoy validates
/// (tests/envoy.rs) and runs the corpus with.
#[test]
fn envoyfilter_patches_are_the_bootstrap_fragments() {
    let manifests = [CONFORMANCE_BASE, MIRRORS];
    let common = ["--gateway", CONFORMANCE_GATEWAY, "--wasm", "/m.wasm"];
    let filters = emitted(&[&["emit", "envoyfilter"][..], &common].concat(), &manifests);
    let filters: Vec<serde_json::Value> = documents(&filters).iter().map(plain).collect();
    let endpoint =
        "outbound|8080||infra-backend-v1.gateway-conformance-infra.svc.cluster.local=10.0.0.1:8080";
    let boot = emitted(
        &[&["emit", "envoy-bootstrap", "--endpoint", endpoint][..], &common].concat(),
        &manifests,
    );
    let boot = plain(&documents(&boot)[0]);
    let hcm = &boot["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"];
    assert_eq!(route_of(&filters[0]), &hcm["http_filters"][0]);
    // Each INSERT_FIRST goes before the routes already there: the patches come last
    // route first, so the routes end up in the bootstrap's order.
    let routes = &hcm["route_config"]["virtual_hosts"][0]["routes"];
    let patches = filters[1]["spec"]["configPatches"].as_array().unwrap();
    assert_eq!(patches.len(), 2);
    assert_eq!(patches[0]["patch"]["value"], routes[1]);
    assert_eq!(patches[1]["patch"]["value"], routes[0]);
}

#[test]
fn bootstrap_has_a_listener_per_port_and_a_cluster_per_backend() {
    let endpoint = "outbound|8080||health.shop.svc.cluster.local=10.0.0.7:8080";
    let text = emitted(
        &[
            "emit",
            "envoy-bootstrap",
            "--endpoint",
            endpoint,
            "--wasm",
            "/m.wasm",
            "--admin-port",
            "15000",
        ],
        &[QUICKSTART],
    );
    let boot = plain(&documents(&text)[0]);
    assert_eq!(boot["admin"]["address"]["socket_address"]["port_value"], 15000);
    let listeners = boot["static_resources"]["listeners"].as_array().unwrap();
    assert_eq!(listeners.len(), 1);
    assert_eq!(listeners[0]["name"], "listener_80");
    assert_eq!(listeners[0]["address"]["socket_address"]["port_value"], 80);
    let hcm = &listeners[0]["filter_chains"][0]["filters"][0]["typed_config"];
    let filters: Vec<&str> = hcm["http_filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(filters, ["switchyard", "envoy.filters.http.router"]);
    let config = &hcm["http_filters"][0]["typed_config"]["config"];
    assert_eq!(config["vm_config"]["runtime"], "envoy.wasm.runtime.v8");
    assert_eq!(config["vm_config"]["code"]["local"]["filename"], "/m.wasm");
    let routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
        .as_array()
        .unwrap();
    // The routing routes: keyed on the second routing header, with Istio's default
    // retry policy; keyed on the routing header, without a policy.
    assert_eq!(routes.len(), 2, "only the routing routes");
    let default_retry = "x-switchyard-cluster-default-retry";
    assert_eq!(routes[0]["match"]["headers"][0]["name"], default_retry);
    assert_eq!(routes[0]["route"]["cluster_header"], default_retry);
    assert_eq!(routes[0]["route"]["retry_policy"]["num_retries"], 2);
    assert_eq!(routes[0]["request_headers_to_remove"][0], default_retry);
    assert_eq!(routes[1]["match"]["headers"][0]["name"], "x-switchyard-cluster");
    assert!(routes[1]["route"].get("retry_policy").is_none());
    let clusters = boot["static_resources"]["clusters"].as_array().unwrap();
    let names: Vec<&str> = clusters.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "outbound|8080||api-v1.shop.svc.cluster.local",
            "outbound|8080||api-v2.shop.svc.cluster.local",
            "outbound|8080||health.shop.svc.cluster.local",
            "outbound|80||frontend-preview.shop.svc.cluster.local",
            "outbound|80||frontend.shop.svc.cluster.local",
            "outbound|80||legacy.shop.svc.cluster.local",
        ]
    );
    let health = &clusters[2];
    assert_eq!(health["type"], "STATIC");
    assert_eq!(
        health["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"],
        serde_json::json!({"address": "10.0.0.7", "port_value": 8080})
    );

    let stderr = refused(&["emit", "envoy-bootstrap", "--wasm", "/m.wasm"], &[QUICKSTART]);
    assert!(stderr.contains("--endpoint"), "{stderr}");
    let stderr = refused(
        &[
            "emit",
            "envoy-bootstrap",
            "--wasm",
            "/m.wasm",
            "--endpoint",
            "nope=10.0.0.1:1",
        ],
        &[QUICKSTART],
    );
    assert!(stderr.contains("no such cluster"), "{stderr}");
}

#[test]
fn endpoints_come_from_a_file_too() {
    let dir = std::env::temp_dir().join(format!("switchyard-emit-endpoints-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("endpoints.txt");
    std::fs::write(
        &file,
        "# cluster=host:port\n\noutbound|80||frontend.shop.svc.cluster.local=frontend.local:8080\n",
    )
    .unwrap();
    let text = emitted(
        &[
            "emit",
            "envoy-bootstrap",
            "--wasm",
            "/m.wasm",
            "--endpoints",
            file.to_str().unwrap(),
        ],
        &[QUICKSTART],
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let boot = plain(&documents(&text)[0]);
    let frontend = boot["static_resources"]["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "outbound|80||frontend.shop.svc.cluster.local")
        .unwrap()
        .clone();
    assert_eq!(frontend["type"], "STRICT_DNS", "a host name needs DNS");
}

#[test]
fn output_is_deterministic_and_written_atomically() {
    let dir = std::env::temp_dir().join(format!("switchyard-emit-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("filters.yaml");
    let args = ["emit", "envoyfilter", "-o", out.to_str().unwrap()];
    emitted(&args, &[QUICKSTART]);
    let first = std::fs::read(&out).unwrap();
    emitted(&args, &[QUICKSTART]);
    assert_eq!(std::fs::read(&out).unwrap(), first);
    assert_eq!(
        String::from_utf8(first).unwrap(),
        emitted(&["emit", "envoyfilter"], &[QUICKSTART])
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["filters.yaml"], "no temporary file is left behind");
    std::fs::remove_dir_all(&dir).unwrap();

    let stderr = refused(&["emit", "configmap"], &[QUICKSTART]);
    assert!(stderr.contains("unknown artifact"), "{stderr}");
    let help = emitted(&["emit", "--help"], &[]);
    for artifact in ["wasmplugin", "envoyfilter", "envoy-bootstrap"] {
        assert!(help.contains(artifact), "{artifact} missing from emit --help");
    }
}

/// A mesh target programs the namespace's sidecars for what they send; an Istio
/// Gateway target needs its pods' labels, which the program does not record.
#[test]
fn mesh_and_istio_gateway_targets_select_their_proxies() {
    let mesh = [
        "corpus/gateway-api/mesh/base/manifests.yaml",
        "corpus/gateway-api/mesh/mesh-basic/manifests.yaml",
    ];
    let target = ["--mesh", "gateway-conformance-mesh"];
    let plugin = emitted(
        &[&["emit", "wasmplugin", "--url", "oci://x"][..], &target].concat(),
        &mesh,
    );
    let plugin = plain(&documents(&plugin)[0]);
    assert_eq!(plugin["metadata"]["namespace"], "gateway-conformance-mesh");
    assert!(plugin["spec"].get("targetRefs").is_none() && plugin["spec"].get("selector").is_none());
    assert_eq!(plugin["spec"]["match"], serde_json::json!([{"mode": "CLIENT"}]));
    let filters = emitted(&[&["emit", "envoyfilter"][..], &target].concat(), &mesh);
    for doc in documents(&filters).iter().map(plain) {
        assert!(doc["spec"].get("workloadSelector").is_none(), "{doc}");
        assert_eq!(
            doc["spec"]["configPatches"][0]["match"]["context"],
            "SIDECAR_OUTBOUND"
        );
    }

    let istio = [
        "corpus/istio/base/manifests.yaml",
        "corpus/istio/policies/manifests.yaml",
    ];
    let target = ["--istio-gateway", "istio-system/ingress"];
    for artifact in [
        &["emit", "envoyfilter"][..],
        &["emit", "wasmplugin", "--url", "oci://x"],
    ] {
        let stderr = refused(&[artifact, &target].concat(), &istio);
        assert!(stderr.contains("--selector"), "{stderr}");
    }
    let filters = emitted(
        &[
            &["emit", "envoyfilter", "--selector", "istio=ingressgateway"][..],
            &target,
        ]
        .concat(),
        &istio,
    );
    let docs: Vec<serde_json::Value> = documents(&filters).iter().map(plain).collect();
    assert_eq!(docs[0]["metadata"]["namespace"], "istio-system");
    assert_eq!(
        docs[0]["spec"]["workloadSelector"]["labels"]["istio"],
        "ingressgateway"
    );
    assert_eq!(docs[0]["spec"]["configPatches"][0]["match"]["context"], "GATEWAY");
    // The program delays requests: the plugin goes before Istio's fault filter, and the
    // route configures that filter and drops the delay header it leaves behind.
    assert_eq!(
        docs[0]["spec"]["configPatches"][0]["match"]["listener"]["filterChain"]["filter"]["subFilter"]["name"],
        "envoy.filters.http.fault"
    );
    let route = route_of(&docs[1]);
    assert_eq!(
        route["typed_per_filter_config"]["envoy.filters.http.fault"]["delay"]["header_delay"],
        serde_json::json!({})
    );
    assert_eq!(
        route["request_headers_to_remove"],
        serde_json::json!(["x-switchyard-cluster", "x-envoy-fault-delay-request"])
    );
}

#[test]
fn trace_header_option_turns_traces_on_in_every_plugin_configuration() {
    // WasmPlugin: the plugin, given this pluginConfig, answers traces.
    let text = emitted(
        &[
            "emit",
            "wasmplugin",
            "--url",
            "oci://x",
            "--trace-header",
            "x-sy-trace",
        ],
        &[QUICKSTART],
    );
    let config = plain(&documents(&text)[0])["spec"]["pluginConfig"].clone();
    assert_eq!(config["traceHeader"], "x-sy-trace");
    let plugin = Plugin::from_file(&find_plugin(None).unwrap()).unwrap();
    let mut vm = plugin
        .start(VmOptions {
            plugin_config: config.to_string().into_bytes(),
            root_id: "switchyard".into(),
            ..VmOptions::default()
        })
        .unwrap();
    let request = HttpRequest {
        headers: [
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "shop.example.com"),
            (":path", "/healthz"),
            ("x-sy-trace", "1"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect(),
        ..HttpRequest::default()
    };
    let exchange = vm.http_request(&request).unwrap();
    assert!(
        exchange
            .response_headers
            .iter()
            .any(|(n, v)| n == "x-sy-trace" && v.contains("won=#0[HTTPRoute shop/storefront rule 0 match 0]")),
        "{:?}",
        exchange.response_headers
    );
    // EnvoyFilter: the JSON form as a StringValue; without the option, raw bytes.
    let with = emitted(
        &["emit", "envoyfilter", "--trace-header", "x-sy-trace"],
        &[QUICKSTART],
    );
    assert!(
        with.contains("google.protobuf.StringValue") && with.contains("traceHeader"),
        "{with}"
    );
    let without = emitted(&["emit", "envoyfilter"], &[QUICKSTART]);
    assert!(without.contains("google.protobuf.BytesValue") && !without.contains("traceHeader"));
    // A name the plugin would refuse is refused here first.
    let err = refused(
        &[
            "emit",
            "wasmplugin",
            "--url",
            "oci://x",
            "--trace-header",
            "X-Trace",
        ],
        &[QUICKSTART],
    );
    assert!(
        err.contains("--trace-header \"X-Trace\": not a lowercase HTTP header name"),
        "{err}"
    );
}

/// A route table large enough that its WasmPlugin and its filter EnvoyFilter are over
/// etcd's default 1.5 MiB: both are still written, with a warning naming each (not the
/// small route EnvoyFilter), and `-q` silences it.
#[test]
fn an_object_larger_than_etcd_stores_is_written_with_a_warning() {
    let dir = std::env::temp_dir().join(format!("switchyard-emit-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifests = dir.join("large.yaml");
    let mut text = String::from(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: big}\n\
         spec:\n  gatewayClassName: c\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n",
    );
    // 4 000 exact paths of 300 bytes each: about 1.2 MB of strings alone.
    for route in 0..400 {
        text.push_str(&format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n\
             metadata: {{name: r{route}, namespace: big}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules:\n"
        ));
        for rule in 0..10 {
            let path = format!("/{route}/{rule}/{}", "p".repeat(300));
            text.push_str(&format!(
                "  - matches: [{{path: {{type: Exact, value: {path}}}}}]\n    backendRefs: [{{name: svc, port: 80}}]\n"
            ));
        }
    }
    std::fs::write(&manifests, text).unwrap();
    let run = |artifact: &[&str], quiet: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
        command.arg("emit").args(artifact).arg("-f").arg(&manifests);
        if quiet {
            command.arg("-q");
        }
        command.output().unwrap()
    };
    let plugin = run(&["wasmplugin", "--url", "oci://example/switchyard:1"], false);
    assert!(
        plugin.status.success(),
        "{}",
        String::from_utf8_lossy(&plugin.stderr)
    );
    let stderr = String::from_utf8_lossy(&plugin.stderr);
    assert!(
        stderr.contains("warning: WasmPlugin big/switchyard is "),
        "{stderr}"
    );
    assert!(
        stderr.contains("over the 1572864 bytes etcd stores by default"),
        "{stderr}"
    );
    assert!(plugin.stdout.len() > 1_572_864);
    let filters = run(&["envoyfilter"], false);
    assert!(filters.status.success());
    let stderr = String::from_utf8_lossy(&filters.stderr);
    assert!(
        stderr.contains("warning: EnvoyFilter big/switchyard-filter is "),
        "{stderr}"
    );
    assert!(!stderr.contains("switchyard-route"), "{stderr}");
    let quiet = run(&["wasmplugin", "--url", "oci://example/switchyard:1"], true);
    assert!(quiet.status.success());
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}
