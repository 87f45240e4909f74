//! The envoy engine's requests over TLS: a case with an SNI, on a port whose program
//! checks misdirected requests, travels through Envoy's own TLS loop (a front listener
//! originating TLS with that SNI to the plugin's listener behind a test certificate), so
//! the plugin reads the SNI from `connection.requested_server_name` as in production.
//!
//! Needs Envoy as `tests/envoy.rs` finds it, and the `openssl` command for the
//! certificate; without Envoy the test prints a notice and passes, unless
//! `SWITCHYARD_REQUIRE_ENVOY=1`.

#[allow(dead_code)]
#[path = "support/suites.rs"]
mod suites;

use std::io::Write;
use std::path::PathBuf;

use switchyard_compiler::compile::{CompileOptions, Target, compile};
use switchyard_compiler::input::load_inputs;
use switchyard_compiler::routetest::engine::{Engine, SentRequest, find_plugin};
use switchyard_compiler::routetest::envoy::EnvoyEngine;
use switchyard_compiler::routetest::envoy::process::find_envoy;

use self::suites::root;

fn envoy(test: &str) -> Option<PathBuf> {
    let venv = root().join(".venv").join("bin").join("envoy");
    match find_envoy(None) {
        Ok(path) => Some(path),
        Err(_) if std::env::var_os("ENVOY").is_none() && venv.is_file() => Some(venv),
        Err(why) => {
            if std::env::var("SWITCHYARD_REQUIRE_ENVOY").as_deref() == Ok("1") {
                panic!("SWITCHYARD_REQUIRE_ENVOY=1 and Envoy is missing: {why}");
            }
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
            None
        }
    }
}

/// The Gateway of the misdirected-request conformance case: four HTTPS listeners on 443.
fn misdirected_program() -> Vec<u8> {
    let inputs: Vec<String> = [
        "corpus/gateway-api/base/manifests.yaml",
        "corpus/gateway-api/extended/httproute-https-listener-detect-misdirected-requests/manifests.yaml",
    ]
    .iter()
    .map(|p| root().join(p).to_string_lossy().into_owned())
    .collect();
    let options = CompileOptions {
        target: Target::Gateway(Some(
            "gateway-conformance-infra/same-namespace-with-https-listener".to_string(),
        )),
        ..CompileOptions::default()
    };
    compile(&load_inputs(&inputs).unwrap(), &options).unwrap().bytes
}

fn request(host: &str, sni: Option<&str>) -> SentRequest {
    SentRequest {
        port: 443,
        method: "GET".into(),
        scheme: "https".into(),
        authority: host.into(),
        path: "/detect-misdirected-requests".into(),
        headers: Vec::new(),
        sni: sni.map(str::to_string),
    }
}

#[test]
fn requests_with_sni_reach_the_plugin_over_tls_and_misdirection_is_answered_421() {
    let Some(envoy) = envoy("requests_with_sni_reach_the_plugin_over_tls_and_misdirection_is_answered_421")
    else {
        return;
    };
    let wasm = find_plugin(None).unwrap();
    let mut engine = EnvoyEngine::start(&misdirected_program(), &envoy, &wasm).unwrap();
    let bootstrap = std::fs::read_to_string(engine.dir().join("bootstrap.yaml")).unwrap();
    assert!(bootstrap.contains("listener_443_tls") && bootstrap.contains("listener_443_sni"));

    // Host and SNI select the same listener: forwarded, and the upstream sees a request
    // that arrived over TLS, without the harness's SNI header.
    let seen = engine.send(&request("example.org", Some("example.org"))).unwrap();
    assert_eq!(seen.status, 200);
    let upstream = seen.upstream.expect("forwarded");
    let header = |name: &str| {
        upstream
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("x-forwarded-proto"), Some("https"));
    assert_eq!(header("x-switchyard-test-sni"), None);

    // The Host belongs to another listener than the SNI's: 421 from the plugin.
    let seen = engine
        .send(&request("second-example.org", Some("example.org")))
        .unwrap();
    assert_eq!(seen.status, 421);
    assert!(seen.backend.is_none());

    // The same request without an SNI (plaintext) is not checked.
    let seen = engine.send(&request("second-example.org", None)).unwrap();
    assert_eq!(seen.status, 200);
}
