//! A wasmtime host for proxy-wasm ABI v0.2.1: runs a proxy-wasm HTTP filter
//! (Rust SDK 0.2.5, `wasm32-wasip1`) in tests, the way Envoy drives it,
//! without Envoy.
//!
//! ```no_run
//! use switchyard_host_harness::{HttpRequest, Plugin, VmOptions};
//!
//! # fn main() -> switchyard_host_harness::Result<()> {
//! // Compile once (per test binary), start a fresh VM per test.
//! let plugin = Plugin::from_file("target/wasm32-wasip1/wasm/switchyard_plugin.wasm".as_ref())?;
//! let mut vm = plugin.start(VmOptions {
//!     plugin_config: std::fs::read("routes.swb")?,
//!     ..VmOptions::default()
//! })?;
//! let exchange = vm.http_request(&HttpRequest {
//!     headers: vec![
//!         (":method".into(), "GET".into()),
//!         (":scheme".into(), "http".into()),
//!         (":authority".into(), "example.com".into()),
//!         (":path".into(), "/api/7".into()),
//!     ],
//!     ..HttpRequest::default()
//! })?;
//! println!("{:?} {:?}", exchange.upstream_request, exchange.local_reply);
//! for line in vm.logs() {
//!     println!("{line}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! What it models, from Envoy: keys lowercased, first value returned, `add`
//! appends, `replace` is remove-all-then-append, removing an absent header
//! is fine; maps are reachable only in the callbacks where Envoy holds them;
//! local replies are deferred until the callback returns; request-header
//! mutations (and the `clear_route_cache` foreign function) clear the route
//! cache. What it does not: shared data, queues, timers, HTTP/gRPC callouts,
//! trailers and response bodies (their imports trap if called).
//!
//! All state lives in each VM's `Store`, so tests run in parallel. A guest
//! trap never panics the host: it is an `Err` that names the callback and
//! carries the plugin's log, and the VM refuses further calls.

mod abi;
mod guest;
pub mod header_map;
mod headers;
mod hostcalls;
mod memory;
mod metrics;
mod state;
mod stream;
mod types;
mod vm;
mod wasi;

pub use types::{
    Action, HttpExchange, HttpRequest, LocalReply, LogLevel, LogLine, Metric, MetricKind, VmOptions,
};
pub use vm::{Plugin, Vm};
pub use wasmtime::Result;
