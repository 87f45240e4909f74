//! `switchyard check`: route status per parentRef, like a controller's Accepted and
//! ResolvedRefs conditions.

use std::process::Command;

const MANIFESTS: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: x
  listeners:
  - {name: web, port: 80, protocol: HTTP, hostname: \"*.example.com\"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: good, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: svc, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other-ns, namespace: apps}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules: [{backendRefs: [{name: svc, port: 80, namespace: infra}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: problems, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: nope}, {name: gw}, {name: missing}]
  hostnames: [foo.example.org]
  rules: [{backendRefs: [{name: ghost, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: infra}
spec: {ports: [{port: 80}]}
";

fn check_json() -> serde_json::Value {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("switchyard-status-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("m.yaml");
    std::fs::write(&file, MANIFESTS).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["check", "--format", "json", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn parent<'a>(report: &'a serde_json::Value, route: &str, index: usize) -> &'a serde_json::Value {
    let routes = report["routes"].as_array().unwrap();
    let route = routes
        .iter()
        .find(|r| r["name"] == route)
        .unwrap_or_else(|| panic!("{route} missing"));
    &route["parents"][index]
}

fn reason(v: &serde_json::Value, condition: &str) -> (bool, String) {
    (
        v[condition]["status"].as_bool().unwrap(),
        v[condition]["reason"].as_str().unwrap().to_string(),
    )
}

#[test]
fn accepted_route_with_resolved_refs_reports_both_true() {
    let report = check_json();
    let p = parent(&report, "good", 0);
    assert_eq!(reason(p, "accepted"), (true, "Accepted".into()));
    assert_eq!(reason(p, "resolvedRefs"), (true, "ResolvedRefs".into()));
}

#[test]
fn route_from_a_namespace_the_listener_does_not_allow_is_not_accepted() {
    let report = check_json();
    let p = parent(&report, "other-ns", 0);
    assert_eq!(reason(p, "accepted"), (false, "NotAllowedByListeners".into()));
    // Cross-namespace backend without a ReferenceGrant.
    assert_eq!(reason(p, "resolvedRefs"), (false, "RefNotPermitted".into()));
}

#[test]
fn each_parent_ref_gets_its_own_reason() {
    let report = check_json();
    assert_eq!(
        reason(parent(&report, "problems", 0), "accepted"),
        (false, "NoMatchingParent".into())
    );
    assert_eq!(
        reason(parent(&report, "problems", 1), "accepted"),
        (false, "NoMatchingListenerHostname".into())
    );
    let missing = parent(&report, "problems", 2);
    assert_eq!(reason(missing, "accepted"), (false, "NoMatchingParent".into()));
    assert!(
        missing["accepted"]["message"]
            .as_str()
            .unwrap()
            .contains("not in the inputs")
    );
    assert_eq!(reason(missing, "resolvedRefs"), (false, "BackendNotFound".into()));
}
