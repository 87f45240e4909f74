//! Benchmarks for Switchyard (issue #6), reported in `BENCHMARKS.md`.
//!
//! - `gen-config`: a seeded generator of large, realistic configurations in Gateway API
//!   or Istio form, with sample requests that are proven (by compiling and evaluating)
//!   to hit the first, middle and last rule of a virtual host, or none.
//! - `compile-bench`, `wasm-bench`: the compiler and plugin measurements.
//! - `envoy-bench`: Envoy side by side, its own router on the routes `switchyard emit
//!   envoy-routes` writes, the plugin, and no filter (the floor); CPU per request.

pub mod configs;
pub mod generate;
pub mod model;
pub mod render;
pub mod rng;
pub mod samples;
