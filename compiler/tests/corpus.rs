//! The route-test corpus (`corpus/`) and the examples (`examples/`), run through
//! `switchyard test`'s library on the native and the wasm engine: the same files must
//! pass on both. (`tests/envoy.rs` runs them through a real Envoy.)

#[path = "support/suites.rs"]
mod suites;

use switchyard_compiler::routetest::EngineKind;

use self::suites::{root, run_suites};

#[test]
fn gateway_api_corpus_passes_on_native_engine() {
    run_suites(&root().join("corpus"), EngineKind::Native, None, 1);
}

#[test]
fn gateway_api_corpus_passes_on_wasm_engine() {
    run_suites(&root().join("corpus"), EngineKind::Wasm, None, 1);
}

#[test]
fn examples_pass_on_native_engine() {
    run_suites(&root().join("examples"), EngineKind::Native, None, 1);
}

#[test]
fn examples_pass_on_wasm_engine() {
    run_suites(&root().join("examples"), EngineKind::Wasm, None, 1);
}
