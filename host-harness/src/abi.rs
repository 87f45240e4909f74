//! Numeric constants of proxy-wasm ABI v0.2.1 and of WASI preview 1.
//!
//! They are plain `u32` constants rather than enums because they cross the
//! wasm boundary as raw `i32`s: a guest may pass any value, and the host must
//! compare against the known ones without a fallible conversion first.
//! Source: proxy-wasm/spec `abi-versions/v0.2.1/README.md` and the Rust SDK
//! 0.2.5 `src/types.rs`.

/// `proxy_status_t`: what every hostcall returns.
pub mod status {
    pub const OK: u32 = 0;
    pub const NOT_FOUND: u32 = 1;
    pub const BAD_ARGUMENT: u32 = 2;
    pub const SERIALIZATION_FAILURE: u32 = 3;
    pub const INVALID_MEMORY_ACCESS: u32 = 6;
    pub const UNIMPLEMENTED: u32 = 12;
}

/// `proxy_map_type_t`.
pub mod map {
    pub const REQUEST_HEADERS: u32 = 0;
    pub const RESPONSE_HEADERS: u32 = 2;
    /// The highest map type the ABI defines (HTTP call response trailers).
    /// Anything above is refused with BAD_ARGUMENT, as cpp-host does.
    pub const MAX: u32 = 7;
}

/// `proxy_buffer_type_t`.
pub mod buffer {
    pub const HTTP_REQUEST_BODY: u32 = 0;
    pub const VM_CONFIGURATION: u32 = 6;
    pub const PLUGIN_CONFIGURATION: u32 = 7;
    /// The highest buffer type the ABI defines (foreign-function call data).
    pub const MAX: u32 = 8;
}

/// `proxy_stream_type_t`.
pub mod stream {
    pub const UPSTREAM: u32 = 3;
    /// The highest valid value.
    pub const MAX: u32 = 3;
}

/// `proxy_action_t`.
pub mod action {
    pub const CONTINUE: u32 = 0;
}

/// `proxy_log_level_t`: trace is 0, critical is 5 (see `LogLevel`).
pub mod log_level {
    pub const TRACE: u32 = 0;
}

/// `proxy_metric_type_t`.
pub mod metric {
    pub const COUNTER: u32 = 0;
    pub const GAUGE: u32 = 1;
    pub const HISTOGRAM: u32 = 2;
}

/// The root context id the harness gives the plugin, as Envoy's first root.
pub const ROOT_CONTEXT_ID: u32 = 1;

/// WASI preview 1 `errno` values the stubs return.
pub mod errno {
    pub const SUCCESS: u32 = 0;
    pub const BADF: u32 = 8;
    pub const FAULT: u32 = 21;
    pub const INVAL: u32 = 28;
}

/// WASI preview 1 clock ids.
pub mod clock {
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME: u32 = 2;
    pub const THREAD_CPUTIME: u32 = 3;
}
