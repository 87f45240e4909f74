//! `switchyard explain --request` and `--test FILE --case NAME`: the request trace names
//! the listener and vhost, every rule passed over with the condition that failed and the
//! request's value, and the winner with its file and line; on both front ends.

#[path = "support/binary.rs"]
#[allow(dead_code)]
mod binary;

use std::path::{Path, PathBuf};

use self::binary::{Scratch, switchyard_in};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs `switchyard` from the repository root; returns (exit status, stdout, stderr).
fn switchyard(args: &[&str]) -> (i32, String, String) {
    let run = switchyard_in(Some(&root()), args);
    (run.code, run.stdout, run.stderr)
}

const QUICKSTART: &str = "examples/quickstart/manifests.yaml";

#[test]
fn trace_lists_rules_passed_over_with_the_failing_condition_and_the_request_value() {
    let (code, out, err) = switchyard(&[
        "explain",
        "-f",
        QUICKSTART,
        "--request",
        "GET http://shop.example.com/api/items?x=1",
        "-H",
        "X-Canary: false",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("listener  :80"), "{out}");
    assert!(
        out.contains("vhost     0 shop.example.com (hostname shop.example.com equals"),
        "{out}"
    );
    assert!(
        out.contains("passed over: path = /healthz; request has \"/api/items\""),
        "{out}"
    );
    assert!(
        out.contains("passed over: header x-canary = \"true\"; request has \"false\""),
        "{out}"
    );
    assert!(
        out.contains(
            "rule      HTTPRoute shop/storefront rule 2 match 0 at examples/quickstart/manifests.yaml:40"
        ),
        "{out}"
    );
    assert!(
        out.contains("weight 90 (90.0%) outbound|8080||api-v1.shop.svc.cluster.local"),
        "{out}"
    );
    // Rules after the winner are not part of the path to the decision.
    assert!(!out.contains("rule 3 match 0"), "{out}");
}

#[test]
fn trace_of_a_miss_says_no_rule_matched() {
    let (code, out, _) = switchyard(&[
        "explain",
        "-f",
        QUICKSTART,
        "--request",
        "http://nowhere.test/",
        "-q",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("decision  reply 404 (no rule matched)"), "{out}");
}

#[test]
fn trace_json_carries_the_decision_and_source() {
    let (code, out, err) = switchyard(&[
        "explain",
        "-f",
        QUICKSTART,
        "--request",
        "https://shop.example.com:80/healthz",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(json["listener"], 80);
    assert_eq!(json["decision"]["kind"], "forward");
    assert_eq!(json["decision"]["service"], "shop/health:8080");
    assert_eq!(
        json["decision"]["rule"]["location"],
        "examples/quickstart/manifests.yaml:31"
    );
}

#[test]
fn trace_of_a_route_test_case_uses_its_target_and_request() {
    let (code, out, err) = switchyard(&[
        "explain",
        "-f",
        QUICKSTART,
        "--test",
        "examples/quickstart/quickstart.test.yaml",
        "--case",
        "canary header picks v2",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("x-canary: true"), "{out}");
    assert!(
        out.contains("forward to outbound|8080||api-v2.shop.svc.cluster.local"),
        "{out}"
    );
    let (code, _, err) = switchyard(&[
        "explain",
        "-f",
        QUICKSTART,
        "--test",
        "examples/quickstart/quickstart.test.yaml",
        "--case",
        "no such case",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no case named \"no such case\""), "{err}");
}

#[test]
fn trace_through_istio_virtual_service_points_at_the_match_line() {
    let dir = Scratch::new("explain");
    let manifests = dir.write(
        "istio.yaml",
        "\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: web}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [\"*/shop.example.com\"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: web}
spec:
  hosts: [shop.example.com]
  gateways: [gw]
  http:
  - match:
    - uri: {prefix: /api}
      headers:
        x-user: {exact: admin}
    route: [{destination: {host: admin.web.svc.cluster.local}}]
  - match:
    - uri: {prefix: /api}
    route: [{destination: {host: api.web.svc.cluster.local}}]
",
    );
    let (code, out, err) = switchyard(&[
        "explain",
        "-f",
        &manifests,
        "--istio-gateway",
        "web/gw",
        "--request",
        "http://shop.example.com/apiary",
        "-H",
        "x-user: bob",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("request has \"bob\""), "{out}");
    assert!(out.contains("VirtualService web/shop rule 1 match 0"), "{out}");
    assert!(out.contains("istio.yaml:23"), "{out}");
}

#[test]
fn malformed_request_is_refused_with_exit_2() {
    let (code, _, err) = switchyard(&["explain", "-f", QUICKSTART, "--request", "GET /relative"]);
    assert_eq!(code, 2);
    assert!(err.contains("not an absolute URL"), "{err}");
}

#[test]
fn line_format_is_the_plugin_debug_header_form() {
    let (code, out, err) = switchyard(&[
        "explain",
        "-f",
        QUICKSTART,
        "--request",
        "http://shop.example.com/api/items",
        "-H",
        "x-canary: false",
        "--format",
        "line",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "listener=80 vhost=0:shop.example.com passed=#2[header x-canary = \"true\"] \
         won=#3[HTTPRoute shop/storefront rule 2 match 0] cluster=outbound|8080||api-v1.shop.svc.cluster.local\n"
    );
}

#[test]
fn delegated_rule_is_named_and_located_in_the_delegate() {
    let (code, out, err) = switchyard(&[
        "explain",
        "-f",
        "corpus/istio/base",
        "-f",
        "corpus/istio/delegate/manifests.yaml",
        "--istio-gateway",
        "istio-system/ingress",
        "--request",
        "http://delegate.example.com/reviews/1",
        "-H",
        "x-canary: 1",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    // The delegate's third rule (index 2), at its own line, not the root's rule 0.
    assert!(
        out.contains("rule      VirtualService prod/reviews-routes rule 2 match 0 at corpus/istio/delegate/manifests.yaml:26"),
        "{out}"
    );
}

/// docs/explain.md shows the command's real output; this keeps it true.
#[test]
fn docs_page_shows_the_real_output() {
    let page = std::fs::read_to_string(root().join("docs/explain.md")).unwrap();
    for args in [
        &[
            "explain",
            "-f",
            QUICKSTART,
            "--request",
            "GET http://shop.example.com/api/items?x=1",
            "-H",
            "x-canary: false",
            "-q",
        ][..],
        &[
            "explain",
            "-f",
            QUICKSTART,
            "--format",
            "line",
            "--request",
            "http://shop.example.com/api/items",
            "-H",
            "x-canary: false",
            "-q",
        ],
    ] {
        let (_, out, _) = switchyard(args);
        let indented: String = out.lines().map(|l| format!("    {l}\n")).collect();
        assert!(
            page.contains(&indented),
            "docs/explain.md is stale for {args:?}; now:\n{out}"
        );
    }
}
