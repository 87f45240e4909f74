//! The route test file format (shared/spec/route-tests.md) as the parser reads it, and
//! the comparison of what an engine observed with what a case expects.

use switchyard_compiler::diag::Diagnostic;
use switchyard_compiler::routetest::check::{check, check_distribution};
use switchyard_compiler::routetest::engine::{Observed, ObservedBackend, UpstreamSeen};
use switchyard_compiler::routetest::file::{Expect, TestFile, TestTarget, parse_test_file};

const PATH: &str = "t.test.yaml";

fn parse(text: &str) -> TestFile {
    parse_test_file(PATH, text).unwrap_or_else(|d| panic!("{d}"))
}

fn refused(text: &str) -> Diagnostic {
    let d = parse_test_file(PATH, text).expect_err("the file should be refused");
    assert_eq!(d.location.file, PATH);
    d
}

fn line_of(text: &str, marker: &str) -> u32 {
    (text
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker:?} not in the text"))
        + 1) as u32
}

/// A file with target `ns/gw` and the given cases (YAML list items).
fn with_cases(cases: &str) -> String {
    format!("target: {{gateway: ns/gw}}\ncases:\n{cases}")
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

#[test]
fn request_fields_default_as_the_spec_says() {
    let file = parse(&with_cases("- name: bare\n  expect: {status: 404}\n"));
    assert_eq!(file.target, TestTarget::Gateway("ns/gw".into()));
    assert_eq!(file.cluster_domain, None);
    let case = &file.cases[0];
    assert_eq!((case.name.as_str(), case.line, case.repeat), ("bare", 3, 1));
    let r = &case.request;
    assert_eq!(
        (
            r.method.as_str(),
            r.scheme.as_str(),
            r.port,
            r.host.as_deref(),
            r.path.as_str()
        ),
        ("GET", "http", None, None, "/")
    );
    assert!(r.headers.is_empty());
    // A field `expect` leaves out is not checked.
    let e = &case.expect;
    assert_eq!(e.status, Some(404));
    assert!(e.backend.is_none() && e.port.is_none() && e.upstream.is_none() && e.backends.is_none());
    assert!(
        (e.tolerance - 0.05).abs() < 1e-12,
        "the default tolerance is the conformance one"
    );
}

#[test]
fn every_request_field_is_read() {
    let text = "\
target: {gateway: ns/gw}
clusterDomain: corp.internal
cases:
- name: full
  request:
    method: POST
    scheme: https
    port: 8443
    host: foo.example.com:8443
    path: /a%20b?x=1&y
    headers: {X-Upper: One, x-lower: two}
  expect: {status: 200, backend: ns/svc, port: 8080}
- name: pairs
  request:
    headers: [[X-Rep, a], [x-rep, b]]
  expect: {status: 200}
";
    let file = parse(text);
    assert_eq!(file.cluster_domain.as_deref(), Some("corp.internal"));
    let r = &file.cases[0].request;
    assert_eq!(
        (
            r.method.as_str(),
            r.scheme.as_str(),
            r.port,
            r.host.as_deref(),
            r.path.as_str()
        ),
        (
            "POST",
            "https",
            Some(8443),
            Some("foo.example.com:8443"),
            "/a%20b?x=1&y"
        )
    );
    // Header names are lowercased, values kept, order kept, repeats kept.
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    };
    assert_eq!(r.headers, pairs(&[("x-upper", "One"), ("x-lower", "two")]));
    assert_eq!(
        file.cases[1].request.headers,
        pairs(&[("x-rep", "a"), ("x-rep", "b")])
    );
    assert_eq!(file.cases[0].expect.backend, Some(Some("ns/svc".to_string())));
    assert_eq!(file.cases[0].expect.port, Some(8080));
}

#[test]
fn grpc_shorthand_sets_method_path_and_content_type() {
    let file = parse(&with_cases(
        "- name: g\n  request: {grpc: {service: pkg.Svc, method: Get}}\n  expect: {status: 200}\n",
    ));
    let r = &file.cases[0].request;
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/pkg.Svc/Get"));
    assert!(
        r.headers
            .contains(&("content-type".to_string(), "application/grpc".to_string()))
    );
    let d = refused(&with_cases(
        "- name: g\n  request: {path: /x, grpc: {service: s, method: m}}\n  expect: {status: 200}\n",
    ));
    assert!(d.message.contains("omit `method` and `path`"), "{d}");
}

#[test]
fn other_targets_are_parsed() {
    let file =
        parse("target: {istioGateway: istio-system/ingress}\ncases:\n- name: a\n  expect: {status: 404}\n");
    assert_eq!(
        file.target,
        TestTarget::IstioGateway("istio-system/ingress".into())
    );
    let file = parse("target: {mesh: {namespace: shop}}\ncases:\n- name: a\n  expect: {status: 404}\n");
    assert_eq!(
        file.target,
        TestTarget::Mesh {
            namespace: "shop".into()
        }
    );
}

#[test]
fn unknown_keys_are_errors_naming_file_line_and_field() {
    let cases = [
        ("target: {gateway: ns/gw}\ncase:\n- name: a\n", "case:", "case"),
        (
            "target: {gateway: ns/gw, mesh2: x}\ncases:\n- name: a\n  expect: {status: 200}\n",
            "mesh2",
            "target.mesh2",
        ),
        (
            &with_cases(
                "- name: a\n  expect: {status: 200}\n- name: b\n  reqest: {path: /}\n  expect: {status: 200}\n",
            ),
            "reqest",
            "cases[1].reqest",
        ),
        (
            &with_cases("- name: a\n  request: {paht: /}\n  expect: {status: 200}\n"),
            "paht",
            "cases[0].request.paht",
        ),
        (
            &with_cases("- name: a\n  expect:\n    status: 200\n    bakend: ns/x\n"),
            "bakend",
            "cases[0].expect.bakend",
        ),
        (
            &with_cases("- name: a\n  expect:\n    upstream: {path: /, header: {a: b}}\n"),
            "upstream:",
            "cases[0].expect.upstream.header",
        ),
        (
            &with_cases("- name: a\n  expect:\n    response:\n      locaton: x\n"),
            "locaton",
            "cases[0].expect.response.locaton",
        ),
    ];
    for (text, marker, field) in cases {
        let d = refused(text);
        assert_eq!(d.field.as_deref(), Some(field), "{d}");
        assert_eq!(d.message, "unknown field", "{d}");
        assert_eq!(d.location.line, line_of(text, marker), "{d}");
        assert!(
            d.to_string().starts_with(&format!("{PATH}:{}:", d.location.line)),
            "{d}"
        );
    }
}

#[test]
fn contradictions_and_bad_values_are_errors() {
    let cases = [
        // status other than 200 with a backend
        (
            "- name: a\n  expect: {status: 404, backend: ns/svc}\n",
            "contradiction",
        ),
        (
            "- name: a\n  expect: {status: 500, backend: ns/svc}\n",
            "contradiction",
        ),
        // a distribution without repeat
        ("- name: a\n  expect: {backends: {ns/a: 1.0}}\n", "needs `repeat`"),
        // shares and tolerance between 0 and 1
        (
            "- name: a\n  repeat: 10\n  expect: {backends: {ns/a: 1.5}}\n",
            "between 0 and 1",
        ),
        (
            "- name: a\n  repeat: 10\n  expect: {backends: {ns/a: lots}}\n",
            "not a number",
        ),
        (
            "- name: a\n  repeat: 10\n  expect: {backends: {ns/a: 1}, tolerance: 2}\n",
            "between 0 and 1",
        ),
        // ranges
        (
            "- name: a\n  repeat: 0\n  expect: {status: 200}\n",
            "out of range",
        ),
        ("- name: a\n  expect: {status: 99}\n", "out of range"),
        ("- name: a\n  expect: {status: 600}\n", "out of range"),
        (
            "- name: a\n  request: {port: 0}\n  expect: {status: 200}\n",
            "out of range",
        ),
        // request shape
        (
            "- name: a\n  request: {scheme: ftp}\n  expect: {status: 200}\n",
            "not http or https",
        ),
        (
            "- name: a\n  request: {path: foo}\n  expect: {status: 200}\n",
            "must start with '/'",
        ),
        (
            "- name: a\n  request: {headers: [[only-name]]}\n  expect: {status: 200}\n",
            "[name, value]",
        ),
        // required fields
        ("- request: {path: /}\n  expect: {status: 200}\n", "required"),
        ("- name: a\n  request: {path: /}\n", "required"),
    ];
    for (case, message) in cases {
        let d = refused(&with_cases(case));
        assert!(d.message.contains(message), "{case}: {d}");
        assert!(
            d.location.line >= 3,
            "{case}: the error points into the case: {d}"
        );
    }
    // status 200 with backend null is allowed: the proxy itself answered 200.
    let file = parse(&with_cases("- name: a\n  expect: {status: 200, backend: null}\n"));
    assert_eq!(file.cases[0].expect.backend, Some(None));
}

#[test]
fn case_names_are_unique_within_a_file() {
    let text = with_cases(
        "- name: same\n  expect: {status: 200}\n- name: other\n  expect: {status: 200}\n- name: same\n  expect: {status: 404}\n",
    );
    let d = refused(&text);
    assert_eq!(d.location.line, 7);
    assert!(
        d.message.contains("\"same\"") && d.message.contains("line 3"),
        "{d}"
    );
}

#[test]
fn file_shape_errors() {
    let d = refused("cases:\n- name: a\n  expect: {status: 200}\n");
    assert_eq!(d.field.as_deref(), Some("target"));
    let d = refused(
        "target: {gateway: ns/gw, mesh: {namespace: x}}\ncases:\n- name: a\n  expect: {status: 200}\n",
    );
    assert!(d.message.contains("exactly one"), "{d}");
    for bad in ["gw", "/gw", "ns/", "a/b/c"] {
        let d = refused(&format!(
            "target: {{gateway: '{bad}'}}\ncases:\n- name: a\n  expect: {{status: 200}}\n"
        ));
        assert!(d.message.contains("not namespace/name"), "{bad}: {d}");
    }
    let d = refused("target: {gateway: ns/gw}\ncases: []\n");
    assert!(d.message.contains("no cases"), "{d}");
    let d = refused(
        "target: {gateway: ns/gw}\ncases:\n- name: a\n  expect: {status: 200}\n---\ntarget: {gateway: ns/gw}\n",
    );
    assert!(d.message.contains("exactly one YAML document"), "{d}");
    let d = refused("target: [\n");
    assert!(d.message.contains("invalid YAML"), "{d}");
}

// ---------------------------------------------------------------------------------------
// Checking observations
// ---------------------------------------------------------------------------------------

fn forwarded(service: &str, port: u32, cluster: &str) -> Observed {
    Observed {
        status: 200,
        backend: Some(ObservedBackend {
            name: service.to_string(),
            port: Some(port),
            cluster: cluster.to_string(),
        }),
        upstream: Some(UpstreamSeen {
            method: "GET".into(),
            authority: "foo.example.com".into(),
            path: "/a?b=1".into(),
            headers: vec![
                ("x-one".into(), "1".into()),
                ("x-rep".into(), "a".into()),
                ("X-Rep".into(), "b".into()),
            ],
        }),
        ..Observed::default()
    }
}

fn answered(status: u16) -> Observed {
    Observed {
        status,
        response_headers: vec![("location".into(), "https://x/".into())],
        ..Observed::default()
    }
}

fn expect(yaml_expect: &str) -> Expect {
    let file = parse(&with_cases(&format!("- name: c\n  expect: {yaml_expect}\n")));
    file.cases[0].expect.clone()
}

#[test]
fn a_matching_observation_has_no_failures() {
    let seen = forwarded("ns/svc", 8080, "outbound|8080||svc.ns.svc.cluster.local");
    let e = expect(
        "{status: 200, backend: ns/svc, port: 8080, cluster: 'outbound|8080||svc.ns.svc.cluster.local', upstream: {method: GET, host: foo.example.com, path: '/a?b=1', headers: {X-One: '1', x-rep: 'a,b'}, absentHeaders: [x-none]}}",
    );
    assert_eq!(check(&e, &seen, true), Vec::<String>::new());
    // Leaving a field out does not check it.
    assert!(check(&expect("{}"), &seen, true).is_empty());
}

#[test]
fn each_mismatch_names_field_expected_and_actual() {
    let seen = forwarded("ns/svc", 8080, "c1");
    let failures = check(
        &expect(
            "{status: 200, backend: ns/other, port: 9090, cluster: c2, upstream: {path: /b, headers: {x-one: '2', x-missing: v}, absentHeaders: [x-one]}}",
        ),
        &seen,
        true,
    );
    assert_eq!(
        failures,
        [
            "backend: expected ns/other, got ns/svc",
            "port: expected 9090, got 8080",
            "cluster: expected c2, got c1",
            "upstream.path: expected \"/b\", got \"/a?b=1\"",
            "upstream.headers.x-one: expected \"2\", got \"1\"",
            "upstream.headers.x-missing: expected \"v\", got absent",
            "upstream.absentHeaders: expected x-one absent, got \"1\"",
        ]
    );
    // backend: null is a check.
    let failures = check(&expect("{backend: null}"), &seen, true);
    assert_eq!(failures, ["backend: expected null, got ns/svc"]);
    // A local answer where a backend was expected.
    let failures = check(&expect("{status: 200, backend: ns/svc}"), &answered(404), true);
    assert_eq!(
        failures,
        [
            "status: expected 200, got 404",
            "backend: expected ns/svc, got null"
        ]
    );
    let failures = check(&expect("{upstream: {path: /}}"), &answered(500), true);
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].starts_with("upstream: expected a forwarded request"),
        "{failures:?}"
    );
    // The backend is not compared one request at a time when a distribution is checked.
    assert!(check(&expect("{backend: ns/other}"), &seen, false).is_empty());
}

#[test]
fn response_location_and_headers_compare_exactly() {
    let seen = answered(302);
    assert!(
        check(
            &expect("{status: 302, response: {location: 'https://x/'}}"),
            &seen,
            true
        )
        .is_empty()
    );
    let failures = check(
        &expect("{status: 301, response: {location: 'https://x', headers: {Location: 'https://x/'}}}"),
        &seen,
        true,
    );
    assert_eq!(
        failures,
        [
            "status: expected 301, got 302",
            "response.location: expected \"https://x\", got https://x/",
        ]
    );
}

#[test]
fn distributions_check_each_share_and_unlisted_backends() {
    let counts =
        |v: &[(&str, u32)]| -> Vec<(String, u32)> { v.iter().map(|(n, c)| (n.to_string(), *c)).collect() };
    let expected =
        |v: &[(&str, f64)]| -> Vec<(String, f64)> { v.iter().map(|(n, f)| (n.to_string(), *f)).collect() };
    // Within tolerance.
    assert!(
        check_distribution(
            &expected(&[("a", 0.7), ("b", 0.3)]),
            0.05,
            &counts(&[("a", 72), ("b", 28)]),
            100
        )
        .is_empty()
    );
    // Exactly at the tolerance passes; beyond fails with the numbers.
    assert!(
        check_distribution(
            &expected(&[("a", 0.5), ("b", 0.5)]),
            0.1,
            &counts(&[("a", 60), ("b", 40)]),
            100
        )
        .is_empty()
    );
    let failures = check_distribution(
        &expected(&[("a", 0.7), ("b", 0.3)]),
        0.05,
        &counts(&[("a", 80), ("b", 20)]),
        100,
    );
    assert_eq!(
        failures,
        [
            "backends.a: expected 0.700 ± 0.05, got 0.800",
            "backends.b: expected 0.300 ± 0.05, got 0.200",
        ]
    );
    // A backend the case does not list may not take more than the tolerance.
    let failures = check_distribution(
        &expected(&[("a", 0.9)]),
        0.05,
        &counts(&[("a", 90), ("c", 10)]),
        100,
    );
    assert_eq!(failures, ["backends.c: expected no share, got 0.100"]);
    // Tolerance 0: exact.
    assert!(
        check_distribution(
            &expected(&[("a", 1.0), ("b", 0.0)]),
            0.0,
            &counts(&[("a", 50)]),
            50
        )
        .is_empty()
    );
    assert_eq!(
        check_distribution(&expected(&[("a", 1.0)]), 0.0, &counts(&[("a", 49), ("b", 1)]), 50).len(),
        2
    );
}
