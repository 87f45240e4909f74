//! The request headers through which the plugin steers Envoy's router. Envoy consumes
//! them before the request goes upstream.

/// Overrides the route's timeout (`x-envoy-upstream-rq-timeout-ms`; 0 disables it).
pub const REQUEST_TIMEOUT: &str = "x-envoy-upstream-rq-timeout-ms";
/// Per-attempt timeout.
pub const PER_TRY_TIMEOUT: &str = "x-envoy-upstream-rq-per-try-timeout-ms";
/// Retry count.
pub const MAX_RETRIES: &str = "x-envoy-max-retries";
/// Retry conditions.
pub const RETRY_ON: &str = "x-envoy-retry-on";
/// Delay injected by Envoy's fault filter (configured with `header_delay`).
pub const FAULT_DELAY: &str = "x-envoy-fault-delay-request";
/// The status codes to retry on.
pub const RETRIABLE_CODES: &str = "x-envoy-retriable-status-codes";

/// The header naming mirror `slot`'s cluster; the emitted Envoy route has one mirror
/// policy per slot reading it (`cluster_header`).
pub fn mirror_header(routing_header: &str, slot: usize) -> String {
    format!("{routing_header}-mirror-{slot}")
}
