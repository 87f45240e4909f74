//! `switchyard analyze` on crafted configurations with known shadowing, duplicates,
//! ties, VirtualService merges, dangling references and string prefixes, on both front
//! ends; its text, JSON and SARIF forms; its exit status; and that every witness, replayed
//! through `switchyard explain --request`, does what the finding says.

#[path = "support/binary.rs"]
#[allow(dead_code)]
mod binary;

use std::path::{Path, PathBuf};

use self::binary::{Scratch, switchyard_in};

use serde_json::Value;

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

const GATEWAY_API: &str = "examples/analysis/gateway-api.yaml";
const ISTIO: &str = "examples/analysis/istio.yaml";

/// The findings as JSON.
fn findings(files: &[&str], extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["analyze", "--format", "json", "--fail-on", "never"];
    for f in files {
        args.extend(["-f", f]);
    }
    args.extend(extra);
    let (code, out, err) = switchyard(&args);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).expect("valid JSON");
    json["findings"].as_array().unwrap().clone()
}

fn of_kind<'a>(findings: &'a [Value], kind: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["kind"] == kind).collect()
}

#[test]
fn regex_rule_after_a_catch_all_prefix_is_shadowed_with_a_witness() {
    let all = findings(&[GATEWAY_API], &[]);
    let shadowed = of_kind(&all, "shadowed-rule");
    assert_eq!(shadowed.len(), 1, "{all:#?}");
    let f = shadowed[0];
    assert_eq!(f["place"]["line"], 25);
    assert_eq!(f["place"]["what"], "HTTPRoute shop/storefront rule 1 match 0");
    assert_eq!(
        f["related"][0]["what"],
        "HTTPRoute shop/storefront rule 0 match 0"
    );
    assert!(
        f["witness"]["outcome"]
            .as_str()
            .unwrap()
            .starts_with("won by HTTPRoute shop/storefront rule 0 match 0"),
        "{f:#}"
    );
}

#[test]
fn equal_matches_of_two_routes_are_a_duplicate_and_a_creation_order_tie() {
    let all = findings(&[GATEWAY_API], &[]);
    let duplicate = of_kind(&all, "duplicate-match");
    assert_eq!(duplicate.len(), 1, "{all:#?}");
    assert_eq!(
        duplicate[0]["place"]["what"],
        "HTTPRoute shop/docs-b rule 0 match 0"
    );
    let tie = of_kind(&all, "creation-order-tie");
    assert_eq!(tie.len(), 1, "{all:#?}");
    let message = tie[0]["message"].as_str().unwrap();
    assert!(message.contains("neither has a creationTimestamp"), "{message}");
    assert!(message.contains("kubectl apply"), "{message}");
}

#[test]
fn tie_between_created_routes_names_the_older_one() {
    let all = findings(
        &[
            "corpus/switchyard/base",
            "corpus/switchyard/tie-break-creation-timestamp/manifests.yaml",
        ],
        &[],
    );
    let ties = of_kind(&all, "creation-order-tie");
    assert!(
        ties.iter().any(|t| t["message"]
            .as_str()
            .unwrap()
            .contains("sy/zz-old is older (2020-01-01T00:00:00Z < 2024-06-01T12:00:00Z)")),
        "{ties:#?}"
    );
}

#[test]
fn unresolved_backend_share_is_an_error_with_a_witness_that_gets_500() {
    let all = findings(&[GATEWAY_API], &[]);
    let unresolved = of_kind(&all, "unresolved-backend");
    assert_eq!(unresolved.len(), 1, "{all:#?}");
    let f = unresolved[0];
    assert_eq!(f["level"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("20.0% of its requests are answered 500")
    );
    assert!(f["message"].as_str().unwrap().contains("shop/checkout-v2"));
    assert!(
        f["witness"]["outcome"]
            .as_str()
            .unwrap()
            .ends_with("answered 500")
    );
}

#[test]
fn grpc_unresolved_backends_are_reported_as_answered_unavailable_with_a_503_witness() {
    let all = findings(
        &[
            "corpus/switchyard/base/manifests.yaml",
            "corpus/switchyard/grpc-routes/manifests.yaml",
        ],
        &[],
    );
    let unresolved = of_kind(&all, "unresolved-backend");
    // Rules 0-3 have unresolved references; 4 (weight 0) and 5 (no backendRefs) have
    // nothing to forward to.
    assert_eq!(unresolved.len(), 6, "{unresolved:#?}");
    let message = |i: usize| unresolved[i]["message"].as_str().unwrap().to_string();
    for f in &unresolved {
        let text = f["message"].as_str().unwrap();
        assert!(text.contains("GRPCRoute sy/unavailable"), "{text}");
        assert!(text.contains("answered UNAVAILABLE"), "{text}");
        let outcome = f["witness"]["outcome"].as_str().unwrap();
        assert!(outcome.ends_with("answered 503"), "{outcome}");
    }
    assert!(
        message(1).contains("backendRef Bucket sy/v1 does not resolve"),
        "{}",
        message(1)
    );
    assert!(message(3).contains("50.0% of its requests"), "{}", message(3));
    assert!(
        message(5).contains("has no backend with weight"),
        "{}",
        message(5)
    );
}

#[test]
fn route_whose_hostnames_miss_every_listener_routes_nothing() {
    let all = findings(&[GATEWAY_API], &[]);
    let nothing = of_kind(&all, "route-routes-nothing");
    assert_eq!(nothing.len(), 1, "{all:#?}");
    assert!(
        nothing[0]["message"]
            .as_str()
            .unwrap()
            .contains("NoMatchingListenerHostname")
    );
    assert_eq!(nothing[0]["place"]["line"], 54);
}

#[test]
fn istio_first_match_and_virtual_service_merge_shadow_later_rules() {
    let all = findings(&[ISTIO], &[]);
    let shadowed: Vec<&str> = of_kind(&all, "shadowed-rule")
        .iter()
        .map(|f| f["place"]["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        shadowed,
        vec![
            "VirtualService edge/store rule 1 match 0",
            "VirtualService edge/store-admin rule 0 match 0"
        ]
    );
    let merge = of_kind(&all, "virtualservice-merge");
    assert_eq!(merge.len(), 1, "{all:#?}");
    assert!(
        merge[0]["message"]
            .as_str()
            .unwrap()
            .contains("edge/store and edge/store-admin")
    );
}

#[test]
fn undefined_subset_is_a_dangling_reference() {
    let all = findings(&[ISTIO], &[]);
    let dangling = of_kind(&all, "dangling-reference");
    assert_eq!(dangling.len(), 1, "{all:#?}");
    let message = dangling[0]["message"].as_str().unwrap();
    // The compiler's own warning, which looks the DestinationRule up as Istio does for
    // the proxy's namespace.
    assert!(
        message.contains("subset v2 is not defined by DestinationRule edge/admin"),
        "{message}"
    );
}

#[test]
fn istio_string_prefix_that_ends_inside_a_segment_is_a_note_with_a_longer_path() {
    let all = findings(&[ISTIO], &[]);
    let notes = of_kind(&all, "istio-string-prefix");
    let cart = notes
        .iter()
        .find(|f| f["place"]["what"] == "VirtualService edge/store rule 0 match 0")
        .expect("the /cart prefix is reported");
    assert_eq!(cart["level"], "note");
    assert_eq!(cart["witness"]["request"], "GET http://store.example.com/cartx");
}

#[test]
fn clean_configuration_has_no_routing_findings() {
    // The quick start's only finding is its deliberately missing Service.
    let all = findings(&["examples/quickstart/manifests.yaml"], &[]);
    let kinds: Vec<&str> = all.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["unresolved-backend"]);
}

#[test]
fn http_and_grpc_routes_claiming_one_hostname_conflict() {
    let dir = Scratch::new("analyze");
    let manifests = dir.write(
        "conflict.yaml",
        "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: x
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: ns, creationTimestamp: \"2024-01-01T00:00:00Z\"}
spec:
  parentRefs: [{name: gw}]
  hostnames: [api.example.com]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: rpc, namespace: ns, creationTimestamp: \"2024-02-01T00:00:00Z\"}
spec:
  parentRefs: [{name: gw}]
  hostnames: [api.example.com]
  rules: [{backendRefs: [{name: rpc, port: 9000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: rpc, namespace: ns}
spec: {ports: [{port: 9000}]}
",
    );
    let all = findings(&[&manifests], &[]);
    let conflict = of_kind(&all, "hostname-conflict");
    assert_eq!(conflict.len(), 1, "{all:#?}");
    assert!(
        conflict[0]["message"]
            .as_str()
            .unwrap()
            .contains("GRPCRoute ns/rpc")
    );
}

#[test]
fn every_witness_replays_to_the_outcome_the_finding_states() {
    for (file, target) in [
        (GATEWAY_API, ["--gateway", "infra/web"]),
        (ISTIO, ["--istio-gateway", "edge/public"]),
    ] {
        for f in findings(&[file], &target) {
            let Some(witness) = f.get("witness").filter(|w| !w.is_null()) else {
                continue;
            };
            let mut args = vec![
                "explain", "-f", file, target[0], target[1], "-q", "--format", "json",
            ];
            let request = witness["request"].as_str().unwrap();
            args.extend(["--request", request]);
            let headers: Vec<String> = witness["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_string())
                .collect();
            for h in &headers {
                args.extend(["-H", h]);
            }
            let random = witness["random"].to_string();
            args.extend(["--random", &random]);
            let (code, out, err) = switchyard(&args);
            assert_eq!(code, 0, "{err}");
            let trace: Value = serde_json::from_str(&out).unwrap();
            let outcome = witness["outcome"].as_str().unwrap();
            match trace["decision"]["rule"]["source"].as_str() {
                Some(source) => assert!(
                    outcome.starts_with(&format!("won by {source};")),
                    "{outcome} vs {source}"
                ),
                None => assert!(outcome.starts_with("no rule matches"), "{outcome}"),
            }
        }
    }
}

#[test]
fn sarif_output_points_each_result_at_a_file_and_line() {
    let (code, out, err) = switchyard(&["analyze", "-f", GATEWAY_API, "-f", ISTIO, "--format", "sarif"]);
    assert_eq!(code, 1, "errors are present: {err}");
    let sarif: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "switchyard");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize], id);
        let physical = &r["locations"][0]["physicalLocation"];
        assert!(
            physical["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("examples/analysis/")
        );
        assert!(physical["region"]["startLine"].as_u64().unwrap() > 0, "{r:#}");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
    }
}

#[test]
fn fail_on_sets_the_exit_status_threshold() {
    // The Istio example has one error (the undefined subset).
    assert_eq!(switchyard(&["analyze", "-f", ISTIO]).0, 1);
    assert_eq!(switchyard(&["analyze", "-f", ISTIO, "--fail-on", "never"]).0, 0);
    // Only a warning and no error: passes by default, fails from `warning` on.
    let (code, _, _) = switchyard(&[
        "analyze",
        "-f",
        "corpus/switchyard/base",
        "-f",
        "corpus/switchyard/tie-break-creation-timestamp/manifests.yaml",
    ]);
    assert_eq!(code, 0);
    let (code, _, _) = switchyard(&[
        "analyze",
        "-f",
        "corpus/switchyard/base",
        "-f",
        "corpus/switchyard/tie-break-creation-timestamp/manifests.yaml",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(code, 1);
    let (code, _, err) = switchyard(&["analyze", "-f", ISTIO, "--fail-on", "sometimes"]);
    assert_eq!(code, 2);
    assert!(err.contains("--fail-on sometimes"), "{err}");
}

#[test]
fn output_is_the_same_whatever_the_file_order() {
    let a = switchyard(&["analyze", "-f", GATEWAY_API, "-f", ISTIO, "--format", "json"]).1;
    let b = switchyard(&["analyze", "-f", ISTIO, "-f", GATEWAY_API, "--format", "json"]).1;
    assert_eq!(a, b);
}

#[test]
fn newer_mesh_virtual_service_for_a_host_is_reported_as_ignored() {
    let all = findings(
        &["corpus/istio/base", "corpus/istio/mesh/manifests.yaml"],
        &["--mesh", "default"],
    );
    let merge = of_kind(&all, "virtualservice-merge");
    assert_eq!(merge.len(), 1, "{all:#?}");
    let message = merge[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("VirtualService default/reviews-newer is ignored by sidecars"),
        "{message}"
    );
    assert_eq!(
        merge[0]["related"][0]["what"],
        "VirtualService default/reviews rule 0 match 0"
    );
}

#[test]
fn virtual_service_naming_a_missing_gateway_is_a_dangling_reference() {
    let dir = Scratch::new("analyze");
    let manifests = dir.write(
        "missing-gateway.yaml",
        "\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [\"*/*\"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: typo, namespace: edge}
spec:
  hosts: [a.example.com]
  gateways: [pubic, mesh]
  http: [{route: [{destination: {host: a.edge.svc.cluster.local}}]}]
",
    );
    let all = findings(&[&manifests], &[]);
    let dangling = of_kind(&all, "dangling-reference");
    assert_eq!(dangling.len(), 1, "{all:#?}");
    let message = dangling[0]["message"].as_str().unwrap();
    assert!(
        message.contains("names Gateway edge/pubic, which is not in the inputs"),
        "{message}"
    );
}

/// docs/analyze.md shows the command's real output on the examples; this keeps it true.
#[test]
fn docs_page_shows_the_real_output() {
    let page = std::fs::read_to_string(root().join("docs/analyze.md")).unwrap();
    for file in [GATEWAY_API, ISTIO] {
        let (_, out, _) = switchyard(&["analyze", "-f", file]);
        let indented: String = out.lines().map(|l| format!("    {l}\n")).collect();
        assert!(
            page.contains(&indented),
            "docs/analyze.md is stale for {file}; now:\n{out}"
        );
    }
}
