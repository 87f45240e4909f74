//! The Envoy configuration fragments every emitted artifact shares: the wasm HTTP filter
//! that runs the plugin, and the route that obeys the header the plugin sets.

use switchyard_bytecode::{ISTIO_DEFAULT_RETRY, Program, Retry, default_retry_header};

use super::base64;
use super::yaml::{Node, yaml_map};

/// The filter name and the plugin's `root_id` (the plugin accepts any root id; one name
/// everywhere keeps logs and stats greppable).
pub const PLUGIN_NAME: &str = "switchyard";
/// The wasm HTTP filter.
pub const WASM_FILTER: &str = "envoy.filters.http.wasm";
const WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const BYTES_TYPE: &str = "type.googleapis.com/google.protobuf.BytesValue";
const STRING_TYPE: &str = "type.googleapis.com/google.protobuf.StringValue";
/// The only wasm runtime Envoy release builds ship.
const V8: &str = "envoy.wasm.runtime.v8";

/// The header naming mirror `slot`'s cluster. The plugin sets it (plugin/src/envoy.rs
/// `mirror_header`); keep the two in step.
pub fn mirror_header(routing_header: &str, slot: u32) -> String {
    format!("{routing_header}-mirror-{slot}")
}

/// The plugin's `traceHeader` as the plugin accepts it (plugin/src/config.rs): a
/// lowercase RFC 9110 token, not a pseudo-header.
pub fn check_trace_header(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--trace-header {name:?}: not a lowercase HTTP header name"
        ))
    }
}

/// The program as the attachments carry it: as written, or in the compressed container
/// (`switchyard_bytecode::compress`), which every loader also takes.
pub fn delivered_program(program: &Program, compress: bool) -> Vec<u8> {
    if compress {
        switchyard_bytecode::compress::compress(program.as_bytes())
    } else {
        program.as_bytes().to_vec()
    }
}

/// The plugin configuration as JSON: `{"bytecode": "<base64>", "traceHeader": "..."}`.
pub fn plugin_config_json(program_bytes: &[u8], trace_header: &str) -> String {
    format!(
        "{{\"bytecode\": \"{}\", \"traceHeader\": \"{trace_header}\"}}",
        base64::encode(program_bytes)
    )
}

/// The `envoy.filters.http.wasm` filter entry running the plugin from `wasm_path`, with
/// the program as raw bytes (`BytesValue`): the plugin takes raw bytecode as is. With a
/// `trace_header` (checked by [`check_trace_header`]) the configuration is the JSON form
/// instead, which turns request traces on.
/// FAIL_RELOAD: a VM that panics is rebuilt (with backoff) instead of failing every
/// later request.
pub fn wasm_filter(program_bytes: &[u8], wasm_path: &str, trace_header: Option<&str>) -> Node {
    let configuration = match trace_header {
        None => yaml_map! { "@type" => BYTES_TYPE, "value" => base64::encode(program_bytes) },
        Some(name) => yaml_map! {
            "@type" => STRING_TYPE,
            "value" => plugin_config_json(program_bytes, name),
        },
    };
    yaml_map! {
        "name" => PLUGIN_NAME,
        "typed_config" => yaml_map! {
            "@type" => WASM_TYPE,
            "config" => yaml_map! {
                "name" => PLUGIN_NAME,
                "root_id" => PLUGIN_NAME,
                "failure_policy" => "FAIL_RELOAD",
                "reload_config" => yaml_map! {
                    "backoff" => yaml_map! { "base_interval" => "0.1s", "max_interval" => "10s" },
                },
                "configuration" => configuration,
                "vm_config" => yaml_map! {
                    "vm_id" => PLUGIN_NAME,
                    "runtime" => V8,
                    "code" => yaml_map! { "local" => yaml_map! { "filename" => wasm_path } },
                },
            },
        },
    }
}

/// Envoy's fault filter, which applies the delay the plugin names in
/// `x-envoy-fault-delay-request` (`header_delay`); it must run after the plugin.
pub const FAULT_FILTER: &str = "envoy.filters.http.fault";
/// The delay the plugin asks the fault filter for (plugin/src/envoy.rs `FAULT_DELAY`).
pub const FAULT_DELAY_HEADER: &str = "x-envoy-fault-delay-request";
const FAULT_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";

/// The fault configuration that obeys the delay header for every request that has it.
pub fn header_delay() -> Node {
    yaml_map! {
        "@type" => FAULT_TYPE,
        "delay" => yaml_map! {
            "header_delay" => yaml_map! {},
            "percentage" => yaml_map! { "numerator" => 100u32, "denominator" => "HUNDRED" },
        },
    }
}

/// The fault filter entry, for chains that do not have one (the standalone bootstrap).
pub fn fault_filter() -> Node {
    yaml_map! { "name" => FAULT_FILTER, "typed_config" => header_delay() }
}

/// Envoy's router, the last HTTP filter.
pub fn router_filter() -> Node {
    yaml_map! {
        "name" => "envoy.filters.http.router",
        "typed_config" => yaml_map! {
            "@type" => "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
        },
    }
}

/// The routes that send a request to the cluster the plugin named in the routing
/// header, in match order. They match only when the header is present, so a request the
/// plugin did not route (it always sets or answers) falls through to whatever follows,
/// or to 404. `timeout: 0s` because the plugin carries the program's timeouts in
/// `x-envoy-upstream-rq-timeout-ms`; Envoy's default 15 s would otherwise apply. One
/// mirror policy per slot the program can fill reads the slot's header; Envoy does not
/// shadow when that header is absent. The mirror headers cannot be removed here: the
/// router applies `request_headers_to_remove` before it reads them, and would then
/// mirror nothing (Envoy 1.40, checked), so the upstream sees them. With delays, the
/// route configures the fault filter (a chain's own fault filter, as Istio's, is
/// configured per route and would ignore the header otherwise) and removes the delay
/// header, which the fault filter has read by then but leaves in place.
///
/// Two routes, whatever the program. A request with Istio's default retry policy (what a
/// VirtualService route without `retries` gets; [`ISTIO_DEFAULT_RETRY`]) names its
/// cluster in the second routing header ([`default_retry_header`]) and takes the first
/// route, which has that policy as its own; every other request names it in the routing
/// header and takes the second route, which has no policy, bringing its own in headers
/// (Envoy merges retry headers into a route's policy rather than replacing it, so they
/// must meet none). One header write either way, and since the routes do not depend on
/// the program, a new program never needs new routes.
pub fn routing_routes(program: &Program) -> Vec<Node> {
    let default_retry = default_retry_header(program.routing_header());
    vec![
        routing_route(program, &default_retry, Some(ISTIO_DEFAULT_RETRY)),
        routing_route(program, program.routing_header(), None),
    ]
}

fn routing_route(program: &Program, header: &str, retry: Option<Retry<'_>>) -> Node {
    let routing_header = program.routing_header();
    let mut action = yaml_map! {
        "cluster_header" => header,
        "timeout" => "0s",
    };
    let mirrors: Vec<Node> = (0..program.features().max_mirrors)
        .map(|slot| yaml_map! { "cluster_header" => mirror_header(routing_header, slot) })
        .collect();
    if !mirrors.is_empty() {
        action.push("request_mirror_policies", mirrors);
    }
    if let Some(retry) = retry {
        let mut policy = yaml_map! {
            "retry_on" => retry.retry_on,
            "num_retries" => retry.attempts,
        };
        if let Some(codes) = retry.codes {
            let codes: Vec<Node> = codes
                .split(',')
                .filter_map(|c| c.trim().parse::<i64>().ok())
                .map(Node::Int)
                .collect();
            policy.push("retriable_status_codes", codes);
        }
        action.push("retry_policy", policy);
    }
    let mut route = yaml_map! {
        "name" => PLUGIN_NAME,
        "match" => yaml_map! {
            "prefix" => "/",
            "headers" => vec![yaml_map! { "name" => header, "present_match" => true }],
        },
        "route" => action,
    };
    let mut remove = vec![Node::from(header)];
    if program.features().delays {
        remove.push(Node::from(FAULT_DELAY_HEADER));
        route.push(
            "typed_per_filter_config",
            yaml_map! { FAULT_FILTER => header_delay() },
        );
    }
    route.push("request_headers_to_remove", remove);
    route
}

/// The distinct cluster names the program can route or mirror to, sorted.
pub fn clusters(program: &Program) -> Vec<String> {
    let mut names: Vec<String> = (0..program.backend_count())
        .filter_map(|i| program.backend(i).cluster.map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}
