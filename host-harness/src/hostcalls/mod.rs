//! The `env` functions of proxy-wasm ABI v0.2.1 the harness implements.
//!
//! Status rule (SDK 0.2.5 `src/hostcalls.rs`): every SDK wrapper panics on a
//! status it does not expect, and with `panic = "abort"` that is a trap. So
//! each function returns OK on success and only the error statuses Envoy
//! itself would return; the SDK then fails exactly where it would in Envoy.
//!
//! Imports not defined here (shared data, queues, HTTP and gRPC callouts,
//! `proxy_set_buffer_bytes`, `proxy_get_status`) are bound by
//! `Linker::define_unknown_imports_as_traps`, so a plugin that calls one
//! fails loudly with the import's name.

mod host;
mod http;

use wasmtime::Linker;

use crate::state::HostState;

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    host::add_to_linker(linker)?;
    http::add_to_linker(linker)?;
    Ok(())
}
