//! The Switchyard compiler: Gateway API (and, later, Istio) manifests in, route bytecode
//! out. The `switchyard` binary in `main.rs` is a thin CLI over this library.

pub mod cli;
pub mod compile;
pub mod diag;
pub mod gateway_api;
pub mod input;
pub mod resources;
pub mod routetest;
