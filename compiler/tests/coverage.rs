//! `switchyard test --coverage`: crafted manifests and route tests where the reached
//! and unreached matches are known, on both front ends, through the binary; the
//! threshold's exit status; the plugin's own report of the deciding rule agrees with the
//! native evaluator's.

#[path = "support/binary.rs"]
#[allow(dead_code)]
mod binary;

use self::binary::{Scratch, line_of, switchyard, switchyard_in};

const MANIFESTS: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: example
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: web, namespace: infra}]
  hostnames: [shop.example.com]
  rules:
  - matches:
    - path: {type: Exact, value: /one}
    - path: {type: Exact, value: /uno}
    backendRefs: [{name: a, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /two}}]
    backendRefs: [{name: a, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /three}}]
    backendRefs: [{name: a, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: elsewhere}
spec:
  parentRefs: [{name: other-gateway, namespace: infra}]
  rules:
  - backendRefs: [{name: a, port: 80}]
";

/// Reaches /one (rule 0 match 0) and /two (rule 1); not /uno, /three, nor the route on
/// another Gateway.
const TESTS: &str = "target: {gateway: infra/web}
cases:
- name: one
  request: {host: shop.example.com, path: /one}
  expect: {backend: default/a}
- name: two
  request: {host: shop.example.com, path: /two/x}
  expect: {backend: default/a}
- name: two again
  request: {host: shop.example.com, path: /two}
  expect: {backend: default/a}
";

fn setup(scratch: &Scratch, tests: &str) -> (String, String) {
    (
        scratch.write("manifests.yaml", MANIFESTS),
        scratch.write("shop.test.yaml", tests),
    )
}

#[test]
fn unreached_matches_are_listed_with_file_and_line_and_why() {
    let scratch = Scratch::new("coverage-list");
    let (manifests, tests) = setup(&scratch, TESTS);
    let run = switchyard(&[
        "test",
        "--engine",
        "native",
        "--coverage",
        "-f",
        &manifests,
        &tests,
    ]);
    run.expect_code(0);
    let out = &run.stdout;
    assert!(out.starts_with("3 passed, 0 failed\n"), "{out}");
    assert!(
        out.contains("coverage: 2 of 5 matches (40.0%), 2 of 4 rules (50.0%)"),
        "{out}"
    );
    assert!(
        out.contains("deciding rules: the native engine's evaluator"),
        "{out}"
    );
    let unreached: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("not reached"))
        .skip(1)
        .collect();
    assert_eq!(
        unreached,
        [
            format!(
                "  {manifests}:{}: HTTPRoute default/shop rule 0 match 1",
                line_of(MANIFESTS, "value: /uno")
            ),
            format!(
                "  {manifests}:{}: HTTPRoute default/shop rule 2 match 0",
                line_of(MANIFESTS, "value: /three")
            ),
            format!(
                "  {manifests}:{}: HTTPRoute default/elsewhere rule 0 match 0 (in no tested target's program)",
                line_of(MANIFESTS, "- backendRefs")
            ),
        ],
        "{out}"
    );
}

#[test]
fn coverage_min_fails_the_run_below_the_threshold_only() {
    let scratch = Scratch::new("coverage-min");
    let (manifests, tests) = setup(&scratch, TESTS);
    let run = |min: &str| {
        switchyard(&[
            "test",
            "--engine",
            "native",
            "--coverage-min",
            min,
            "-f",
            &manifests,
            &tests,
        ])
    };
    let below = run("50");
    below.expect_code(1);
    assert!(
        below.stdout.contains("coverage 40.0% is below --coverage-min 50"),
        "{}",
        below.stdout
    );
    run("40").expect_code(0);
    run("0").expect_code(0);
    let bad = run("lots");
    bad.expect_code(2);
    assert!(bad.stderr.contains("--coverage-min \"lots\""), "{}", bad.stderr);
    // A failing case still fails the run when coverage is enough.
    let failing = scratch.write(
        "failing.test.yaml",
        &TESTS.replace(
            "{backend: default/a}\n- name: two again",
            "{backend: default/b}\n- name: two again",
        ),
    );
    let run = switchyard(&[
        "test",
        "--engine",
        "native",
        "--coverage-min",
        "10",
        "-f",
        &manifests,
        &failing,
    ]);
    run.expect_code(1);
    assert!(run.stdout.contains("2 passed, 1 failed"), "{}", run.stdout);
}

#[test]
fn json_coverage_is_part_of_the_test_report() {
    let scratch = Scratch::new("coverage-json");
    let (manifests, tests) = setup(&scratch, TESTS);
    let run = switchyard(&[
        "test",
        "--engine",
        "native",
        "--coverage-min",
        "90",
        "--format",
        "json",
        "-f",
        &manifests,
        &tests,
    ]);
    run.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["passed"], 3);
    let coverage = &report["coverage"];
    assert_eq!(
        coverage["matches"],
        serde_json::json!({"covered": 2, "total": 5, "percent": 40.0})
    );
    assert_eq!(coverage["rules"]["covered"], 2);
    assert_eq!(coverage["belowMin"], true);
    let entries = coverage["entries"].as_array().unwrap();
    let two = entries
        .iter()
        .find(|e| e["name"] == "shop" && e["rule"] == 1)
        .unwrap();
    assert_eq!(two["covered"], true);
    assert_eq!(two["line"], line_of(MANIFESTS, "value: /two") as u64);
    let cases: Vec<&str> = two["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cases, ["two", "two again"]);
    let elsewhere = entries.iter().find(|e| e["name"] == "elsewhere").unwrap();
    assert_eq!(
        (elsewhere["covered"].clone(), elsewhere["inProgram"].clone()),
        (false.into(), false.into())
    );
}

#[test]
fn the_plugin_reports_the_same_deciding_rules_as_the_native_evaluator() {
    let scratch = Scratch::new("coverage-wasm");
    let (manifests, tests) = setup(&scratch, TESTS);
    let json = |engine: &str| {
        let run = switchyard(&[
            "test",
            "--engine",
            engine,
            "--coverage",
            "--format",
            "json",
            "-f",
            &manifests,
            &tests,
        ]);
        run.expect_code(0);
        serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap()["coverage"].clone()
    };
    let (wasm, native) = (json("wasm"), json("native"));
    assert_eq!(
        wasm["decidingRules"],
        "the wasm plugin's own trace of each case's request (traceHeader)"
    );
    assert_eq!(wasm["entries"], native["entries"]);
}

#[test]
fn virtual_service_rules_are_covered_by_their_http_index() {
    let scratch = Scratch::new("coverage-istio");
    let manifests = scratch.write(
        "istio.yaml",
        "apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ['*/shop.example.com']
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/ingress]
  http:
  - match: [{uri: {prefix: /api}}, {headers: {x-api: {exact: '1'}}}]
    route: [{destination: {host: api}}]
  - route: [{destination: {host: web}}]
",
    );
    let tests = scratch.write(
        "istio.test.yaml",
        "target: {istioGateway: istio-system/ingress}
cases:
- name: api
  request: {host: shop.example.com, path: /api/v1}
  expect: {backend: default/api}
",
    );
    let run = switchyard(&[
        "test",
        "--engine",
        "native",
        "--coverage",
        "-f",
        &manifests,
        &tests,
    ]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("coverage: 1 of 3 matches (33.3%), 1 of 2 rules (50.0%)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "{manifests}:17: VirtualService default/shop rule 0 match 1\n"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "{manifests}:19: VirtualService default/shop rule 1 match 0\n"
        )),
        "{}",
        run.stdout
    );
}

/// `docs/coverage.md` shows the command's real output on the CI example, verbatim.
#[test]
fn the_docs_page_shows_what_coverage_prints_on_the_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let page = std::fs::read_to_string(root.join("docs/coverage.md")).unwrap();
    for (min, code) in [("--coverage", 0), ("--coverage-min=90", 1)] {
        let run = switchyard_in(
            Some(root),
            &[
                "test",
                min,
                "-f",
                "examples/ci/deploy",
                "examples/ci/deploy/payments.test.yaml",
            ],
        );
        run.expect_code(code);
        let shown: String = run.stdout.lines().map(|l| format!("    {l}\n")).collect();
        assert!(page.contains(&shown), "docs/coverage.md should show:\n{shown}");
    }
}
