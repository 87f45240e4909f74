//! The Switchyard compiler and native evaluator for JavaScript (browser and Node.js),
//! built with wasm-bindgen for `wasm32-unknown-unknown`: no wasmtime, no file system.
//!
//! ```js
//! const r = compile(yamlText, { gateway: "infra/web" }); // {ok, size, diagnostics, listing, targets, ...}
//! const d = evaluate({ host: "shop.example.com", path: "/api", headers: { "x-canary": "true" } });
//! ```
//!
//! The module keeps the last program compiled; `evaluate` runs requests against it. The
//! logic lives in [`playground`], plain Rust with JSON values.

pub mod playground;

use std::cell::RefCell;

use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::playground::Playground;

thread_local! {
    static PLAYGROUND: RefCell<Playground> = RefCell::new(Playground::new());
}

/// A JavaScript value as JSON (undefined and functions become null).
fn from_js(value: &JsValue) -> Value {
    if value.is_undefined() || value.is_null() {
        return Value::Null;
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

/// JSON as a plain JavaScript object.
fn to_js(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

/// Compiles manifests (YAML or JSON, many documents) for a target:
/// `{gateway: "ns/name"}`, `{istioGateway: "ns/name"}`, `{mesh: "ns"}`, or nothing for
/// the first Gateway. Returns `{ok, size, diagnostics, listing, targets, target,
/// defaultPort, routingHeader, ports}`; keeps the program for `evaluate`.
#[wasm_bindgen]
pub fn compile(yaml: &str, target: JsValue) -> JsValue {
    let result = PLAYGROUND.with(|p| p.borrow_mut().compile(yaml, &from_js(&target)));
    to_js(&result)
}

/// Sends a request `{method, scheme, host, port, path, headers, seed}` through the last
/// program compiled; returns the decision (status, backend, cluster, rewrites, header
/// edits, local reply, Location) and the rule that decided it.
#[wasm_bindgen]
pub fn evaluate(request: JsValue) -> JsValue {
    let result = PLAYGROUND.with(|p| p.borrow().evaluate(&from_js(&request)));
    to_js(&result)
}

/// The bytecode of the last successful compilation (what `switchyard compile` writes),
/// or undefined.
#[wasm_bindgen]
pub fn bytecode() -> Option<Vec<u8>> {
    PLAYGROUND.with(|p| p.borrow().bytecode().map(<[u8]>::to_vec))
}

/// Parses a route test file (as `switchyard test` reads them): `{ok, target, cases}`.
#[wasm_bindgen(js_name = parseTests)]
pub fn parse_tests(text: &str) -> JsValue {
    to_js(&Playground::parse_tests(text))
}

/// The version of this package.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
