//! The Switchyard compiler: Gateway API (and, later, Istio) manifests in, route bytecode
//! out. The `switchyard` binary in `main.rs` is a thin CLI over this library.

pub mod analyze;
pub mod cli;
pub mod compile;
pub mod convert;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod equivalence;
pub mod gateway_api;
pub mod input;
pub mod istio;
pub mod locate;
pub mod resources;
pub mod routetest;
pub mod rule_ref;
pub mod status;
pub mod trace;
