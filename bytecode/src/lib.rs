//! Switchyard route bytecode.
//!
//! One crate for everything that must agree byte for byte between the compiler, the
//! proxy-wasm plugin and the test harness:
//! - [`format`]: the layout constants (magic, version, sections, opcodes);
//! - [`writer`]: [`ir::ProgramIr`] to bytes (used by the compiler);
//! - [`Program::from_bytes`]: the verifying loader (never panics);
//! - [`Program::evaluate`]: the pure evaluator (no I/O; reusable [`Scratch`]);
//! - [`listing`]: a numbered listing of a program, for `switchyard explain`.

mod bitset_regex;
pub mod checksum;
mod compiled_regex;
pub mod compress;
pub mod error;
pub mod eval;
pub mod format;
pub mod hash;
pub mod ir;
pub mod listing;
mod loader;
pub mod program;
mod regex_prefix;
pub mod wire;
pub mod writer;

pub use error::LoadError;
pub use eval::{
    Decision, HeaderEdit, HeaderOp, Headers, ISTIO_DEFAULT_RETRY, Observer, Outcome, Plan, Rejection, Reply,
    Request, Retry, Scratch, TRACE_LINE_MAX, Trace, apply_header_ops, default_retry_header,
};
pub use loader::MAX_REGEX_LEN;
pub use program::{BackendInfo, Program, ServiceInfo, SourceInfo, SourceKind};
pub use writer::{WriteError, write_program};
