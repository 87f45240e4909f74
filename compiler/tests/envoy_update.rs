//! Configuration updates in a real Envoy: the listener (and the plugin's program in its
//! wasm filter) comes from a watched LDS file. A damaged program must be refused, with
//! the previous one still serving; a good one must take over.
//!
//! Runs when Envoy is found (`$ENVOY`, `PATH`, or `.venv/bin/envoy`); with
//! `SWITCHYARD_REQUIRE_ENVOY=1` (CI) a missing Envoy fails the test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use switchyard_bytecode::Program;
use switchyard_compiler::compile::{CompileOptions, compile};
use switchyard_compiler::emit::base64;
use switchyard_compiler::emit::bootstrap::{BootstrapOptions, Listener, bootstrap, listener_name};
use switchyard_compiler::emit::yaml::Node;
use switchyard_compiler::input::load_texts;
use switchyard_compiler::routetest::engine::find_plugin;
use switchyard_compiler::routetest::envoy::client::admin_get;
use switchyard_compiler::routetest::envoy::process::{EnvoyProcess, WorkDir, find_envoy};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn envoy() -> Option<PathBuf> {
    let venv = root().join(".venv/bin/envoy");
    match find_envoy(None) {
        Ok(path) => Some(path),
        Err(_) if std::env::var_os("ENVOY").is_none() && venv.is_file() => Some(venv),
        Err(why) => {
            assert!(
                std::env::var("SWITCHYARD_REQUIRE_ENVOY").as_deref() != Ok("1"),
                "SWITCHYARD_REQUIRE_ENVOY=1 and Envoy is missing: {why}"
            );
            let _ = writeln!(std::io::stderr(), "SKIPPED envoy_update: {why}");
            None
        }
    }
}

/// A program routing `host` to the frontend Service.
fn program_for(host: &str) -> Vec<u8> {
    let manifests = format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: ns}}
spec: {{gatewayClassName: x, listeners: [{{name: http, port: 80, protocol: HTTP}}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: ns}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: [{host}]
  rules: [{{backendRefs: [{{name: frontend, port: 80}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: frontend, namespace: ns}}
spec: {{ports: [{{port: 80}}]}}
"
    );
    let documents = load_texts(&[("m.yaml".to_string(), manifests)]).unwrap();
    compile(&documents, &CompileOptions::default()).unwrap().bytes
}

fn map_get<'a>(node: &'a mut Node, key: &str) -> &'a mut Node {
    match node {
        Node::Map(entries) => &mut entries.iter_mut().find(|(k, _)| k == key).unwrap().1,
        _ => panic!("not a map at {key}"),
    }
}

/// Replaces every BytesValue `value` (the plugin configuration) under `node`.
fn set_program(node: &mut Node, encoded: &str) {
    match node {
        Node::Map(entries) => {
            let bytes_value = entries.iter().any(|(k, v)| {
                k == "@type" && *v == Node::from("type.googleapis.com/google.protobuf.BytesValue")
            });
            for (key, value) in entries.iter_mut() {
                if bytes_value && key == "value" {
                    *value = Node::from(encoded);
                } else {
                    set_program(value, encoded);
                }
            }
        }
        Node::List(items) => items.iter_mut().for_each(|item| set_program(item, encoded)),
        _ => {}
    }
}

/// The LDS file: the bootstrap's listener, with `program` (possibly damaged) in it.
fn lds(listener: &Node, program: &[u8]) -> String {
    let mut listener = listener.clone();
    set_program(&mut listener, &base64::encode(program));
    if let Node::Map(entries) = &mut listener {
        entries.insert(
            0,
            (
                "@type".into(),
                Node::from("type.googleapis.com/envoy.config.listener.v3.Listener"),
            ),
        );
    }
    Node::Map(vec![("resources".into(), Node::List(vec![listener]))]).to_yaml()
}

/// Writes beside, then renames, so Envoy's watch sees one whole file.
fn publish(dir: &Path, text: &str) {
    let temporary = dir.join("lds.tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, dir.join("lds.yaml")).unwrap();
}

fn status(port: u16, host: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET / HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split(' ').nth(1)?.parse().ok()
}

fn stat(admin: std::net::SocketAddr, name: &str) -> u64 {
    let (_, body) = admin_get(admin, &format!("/stats?filter=^{name}$")).unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn damaged_program_update_is_refused_and_the_previous_program_keeps_serving() {
    let Some(envoy) = envoy() else { return };
    let wasm = find_plugin(None).unwrap();
    let first = program_for("one.example.com");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = WorkDir::new().unwrap();
    let options = BootstrapOptions {
        wasm_path: std::fs::canonicalize(&wasm)
            .unwrap()
            .to_string_lossy()
            .into_owned(),
        listeners: vec![Listener {
            name: listener_name(80),
            address: "127.0.0.1".into(),
            port: u32::from(port),
        }],
        endpoints: Default::default(),
        admin_address: "127.0.0.1".into(),
        admin_port: 0,
        proxy_protocol: false,
        observe_timeout: false,
        trace_header: None,
    };
    let mut config = bootstrap(&Program::from_bytes(&first).unwrap(), &options);
    let statics = map_get(&mut config, "static_resources");
    let listener = match std::mem::replace(map_get(statics, "listeners"), Node::List(Vec::new())) {
        Node::List(mut listeners) => listeners.remove(0),
        _ => panic!("no listeners"),
    };
    let lds_path = dir.path.join("lds.yaml");
    // Dynamic resources need a node identity.
    config.push(
        "node",
        Node::Map(vec![
            ("id".into(), Node::from("switchyard-test")),
            ("cluster".into(), Node::from("switchyard-test")),
        ]),
    );
    config.push(
        "dynamic_resources",
        Node::Map(vec![(
            "lds_config".into(),
            Node::Map(vec![
                ("resource_api_version".into(), Node::from("V3")),
                (
                    "path_config_source".into(),
                    Node::Map(vec![
                        ("path".into(), Node::from(lds_path.to_string_lossy().into_owned())),
                        (
                            "watched_directory".into(),
                            Node::Map(vec![(
                                "path".into(),
                                Node::from(dir.path.to_string_lossy().into_owned()),
                            )]),
                        ),
                    ]),
                ),
            ]),
        )]),
    );
    publish(&dir.path, &lds(&listener, &first));
    let config_path = dir.path.join("envoy.yaml");
    std::fs::write(&config_path, config.to_yaml()).unwrap();
    let envoy = EnvoyProcess::start(&envoy, &config_path, &dir.path).unwrap();

    // The first program: one.example.com routes (to a cluster with no endpoints: 503),
    // any other host gets the plugin's 404.
    wait_for("the first program", || {
        status(port, "one.example.com") == Some(503)
    });
    assert_eq!(status(port, "two.example.com"), Some(404));
    let rejected = stat(envoy.admin, "listener_manager.lds.update_rejected");

    // A damaged program: refused (the plugin's on_configure fails, so does the update).
    let mut damaged = program_for("two.example.com");
    let last = damaged.len() - 1;
    damaged[last] ^= 0xFF;
    publish(&dir.path, &lds(&listener, &damaged));
    wait_for("the rejected update", || {
        stat(envoy.admin, "listener_manager.lds.update_rejected") > rejected
    });
    assert_eq!(
        status(port, "one.example.com"),
        Some(503),
        "the previous program keeps serving"
    );
    assert_eq!(status(port, "two.example.com"), Some(404));

    // A good program takes over.
    publish(&dir.path, &lds(&listener, &program_for("two.example.com")));
    wait_for("the second program", || {
        status(port, "two.example.com") == Some(503)
    });
    assert_eq!(status(port, "one.example.com"), Some(404));
}
