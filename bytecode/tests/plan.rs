//! The plan: what a proxy does with a request once the evaluator has decided.

mod common;

use common::*;
use switchyard_bytecode::Program;
use switchyard_bytecode::ir::{CorsIr, FilterIr};

/// `/` forwarding to cluster `app`, behind Gateway API's `HTTPCORSFilter`.
fn cors(policy: CorsIr) -> Program {
    let mut entry = to(prefix("/"), "app");
    entry.filters.push(FilterIr::Cors(policy));
    load(&on_port(vec![vhost("*", vec![entry])]))
}

fn foo_policy() -> CorsIr {
    CorsIr {
        allow_origins: vec!["https://www.foo.com".to_string()],
        allow_methods: vec!["GET".to_string()],
        max_age_seconds: 5,
        ..CorsIr::default()
    }
}

fn preflight(origin: &str) -> Req {
    get("example.com", "/")
        .method("OPTIONS")
        .header("origin", origin)
        .header("access-control-request-method", "GET")
}

fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
}

#[test]
fn cors_preflight_from_an_allowed_origin_is_answered_with_cors_headers() {
    let program = cors(foo_policy());
    let req = preflight("https://www.foo.com");
    let plan = program.plan(&req.eval(&program), &req.view());
    let reply = plan.reply.expect("the gateway answers the preflight");
    assert_eq!(reply.status, 200);
    assert_eq!(plan.cluster, None);
    assert_eq!(
        header(&reply.headers, "access-control-allow-origin"),
        Some("https://www.foo.com")
    );
}

/// HTTPCORSFilter.allowOrigins: "If the request `Origin` does not match the configured
/// allowed origins, the gateway returns 204/200 response but doesn't set the relevant
/// cross-origin response headers" (or 403). The preflight must not reach the backend.
#[test]
fn cors_preflight_from_an_origin_not_allowed_is_answered_by_the_gateway_without_cors_headers() {
    let program = cors(foo_policy());
    let req = preflight("https://foobar.com");
    let plan = program.plan(&req.eval(&program), &req.view());
    let reply = plan.reply.expect("the gateway answers the preflight");
    assert_eq!(reply.status, 200);
    assert_eq!(plan.cluster, None, "a preflight is never forwarded");
    assert!(reply.headers.is_empty(), "no CORS headers: {:?}", reply.headers);
    assert!(plan.response_headers.is_empty());
}

/// Only a preflight is the gateway's to answer: an ordinary request from an origin that
/// is not allowed goes to the backend, without CORS headers.
#[test]
fn cors_request_from_an_origin_not_allowed_is_forwarded_without_cors_headers() {
    let program = cors(foo_policy());
    let req = get("example.com", "/").header("origin", "https://foobar.com");
    let plan = program.plan(&req.eval(&program), &req.view());
    assert_eq!(plan.reply, None);
    assert_eq!(plan.cluster, Some("app"));
    assert!(plan.response_headers.is_empty());
    // An OPTIONS request without Access-Control-Request-Method is no preflight either.
    let req = get("example.com", "/")
        .method("OPTIONS")
        .header("origin", "https://foobar.com");
    let plan = program.plan(&req.eval(&program), &req.view());
    assert_eq!(plan.cluster, Some("app"));
}
