//! The request headers through which the plugin steers Envoy's router. Envoy consumes
//! them before the request goes upstream.

/// Overrides the route's timeout (`x-envoy-upstream-rq-timeout-ms`; 0 disables it).
pub const REQUEST_TIMEOUT: &str = "x-envoy-upstream-rq-timeout-ms";
/// Per-attempt timeout.
pub const PER_TRY_TIMEOUT: &str = "x-envoy-upstream-rq-per-try-timeout-ms";
/// Retry count.
pub const MAX_RETRIES: &str = "x-envoy-max-retries";
/// Retry conditions on the HTTP response or connection.
pub const RETRY_ON: &str = "x-envoy-retry-on";
/// Retry conditions on the gRPC status. Envoy ignores these names in `x-envoy-retry-on`
/// (in a route's `retry_on` it accepts both kinds, which is how Istio writes them).
pub const RETRY_GRPC_ON: &str = "x-envoy-retry-grpc-on";
/// Delay injected by Envoy's fault filter (configured with `header_delay`).
pub const FAULT_DELAY: &str = "x-envoy-fault-delay-request";
/// The status codes to retry on.
pub const RETRIABLE_CODES: &str = "x-envoy-retriable-status-codes";

/// The conditions of a route-style `retry_on` list that Envoy reads from
/// `x-envoy-retry-grpc-on` rather than `x-envoy-retry-on`.
const GRPC_CONDITIONS: [&str; 5] = [
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

/// Splits a route-style `retry_on` list into its HTTP and its gRPC conditions, each
/// comma-separated (empty when there are none).
pub fn split_retry_on(retry_on: &str) -> (String, String) {
    let (mut http, mut grpc) = (String::new(), String::new());
    for condition in retry_on.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let list = if GRPC_CONDITIONS.contains(&condition) {
            &mut grpc
        } else {
            &mut http
        };
        if !list.is_empty() {
            list.push(',');
        }
        list.push_str(condition);
    }
    (http, grpc)
}

/// The header naming mirror `slot`'s cluster; the emitted Envoy route has one mirror
/// policy per slot reading it (`cluster_header`).
pub fn mirror_header(routing_header: &str, slot: usize) -> String {
    format!("{routing_header}-mirror-{slot}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_retry_conditions_go_to_their_own_header() {
        let (http, grpc) =
            split_retry_on("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
        assert_eq!(http, "connect-failure,refused-stream,retriable-status-codes");
        assert_eq!(grpc, "unavailable,cancelled");
        assert_eq!(split_retry_on("5xx"), ("5xx".to_string(), String::new()));
        assert_eq!(
            split_retry_on("deadline-exceeded"),
            (String::new(), "deadline-exceeded".to_string())
        );
    }
}
