//! The real plugin `.wasm` and the TLS server name: it reads Envoy's
//! `connection.requested_server_name` only for programs that check misdirected
//! requests, and then answers 421 from it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use switchyard_compiler::compile::{CompileOptions, Target, compile};
use switchyard_compiler::input::load_inputs;
use switchyard_host_harness::{HttpRequest, Plugin, Vm, VmOptions};

const SNI_PROPERTY: &str = "connection.requested_server_name";

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

fn program(manifests: &[&str], target: Target) -> Vec<u8> {
    let paths: Vec<String> = manifests
        .iter()
        .map(|m| root().join(m).to_string_lossy().into_owned())
        .collect();
    let options = CompileOptions {
        target,
        ..CompileOptions::default()
    };
    compile(&load_inputs(&paths).unwrap(), &options).unwrap().bytes
}

fn start(program: &[u8]) -> Vm {
    plugin()
        .start(VmOptions {
            plugin_config: program.to_vec(),
            root_id: "switchyard".into(),
            ..VmOptions::default()
        })
        .expect("the plugin starts")
}

fn get(vm: &mut Vm, authority: &str, path: &str, sni: &str) -> u16 {
    vm.set_property(SNI_PROPERTY, sni.as_bytes());
    vm.set_property("destination.port", &443i64.to_le_bytes());
    let headers = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", authority),
        (":path", path),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    let exchange = vm
        .http_request(&HttpRequest {
            headers,
            ..HttpRequest::default()
        })
        .unwrap();
    match exchange.local_reply {
        Some(reply) => reply.status,
        None => 200,
    }
}

#[test]
fn plugin_reads_the_sni_and_answers_421_where_the_program_checks_it() {
    let mut vm = start(&program(
        &[
            "corpus/gateway-api/base/manifests.yaml",
            "corpus/gateway-api/extended/httproute-https-listener-detect-misdirected-requests/manifests.yaml",
        ],
        Target::Gateway(Some(
            "gateway-conformance-infra/same-namespace-with-https-listener".into(),
        )),
    ));
    let path = "/detect-misdirected-requests";
    assert_eq!(get(&mut vm, "example.org", path, "example.org"), 200);
    assert_eq!(get(&mut vm, "second-example.org", path, "example.org"), 421);
    // Envoy's property is empty on a plaintext connection: no check.
    assert_eq!(get(&mut vm, "second-example.org", path, ""), 200);
    assert!(vm.property_reads().iter().any(|p| p == SNI_PROPERTY));
}

#[test]
fn plugin_never_reads_the_sni_for_programs_that_do_not_check_it() {
    let mut vm = start(&program(
        &["examples/quickstart/manifests.yaml"],
        Target::Gateway(None),
    ));
    get(&mut vm, "shop.example.com", "/", "other.example");
    assert!(
        !vm.property_reads().iter().any(|p| p == SNI_PROPERTY),
        "{:?}",
        vm.property_reads()
    );
}

/// `explain` says why a request got 421: the same evaluation, seen by the tracer.
#[test]
fn explain_names_a_misdirected_request() {
    use switchyard_bytecode::Program;
    use switchyard_compiler::routetest::engine::SentRequest;
    use switchyard_compiler::trace::trace_request;

    let bytes = program(
        &[
            "corpus/gateway-api/base/manifests.yaml",
            "corpus/gateway-api/extended/httproute-https-listener-detect-misdirected-requests/manifests.yaml",
        ],
        Target::Gateway(Some(
            "gateway-conformance-infra/same-namespace-with-https-listener".into(),
        )),
    );
    let program = Program::from_bytes(&bytes).unwrap();
    let sent = SentRequest {
        port: 443,
        method: "GET".into(),
        scheme: "https".into(),
        authority: "second-example.org".into(),
        path: "/detect-misdirected-requests".into(),
        headers: Vec::new(),
        sni: Some("example.org".into()),
    };
    let text = trace_request(&program, None, &sent, 0).to_string();
    assert!(text.contains("(TLS server name example.org)"), "{text}");
    assert!(
        text.contains("misdirected: the Host belongs to another HTTPS listener"),
        "{text}"
    );
    assert!(
        text.contains("decision  reply 421 (misdirected request)"),
        "{text}"
    );
}
