//! GRPCRoute: reading (the CRD's validation), lowering method matches to paths,
//! precedence, filters, backends, and the rule that an HTTPRoute and a GRPCRoute never
//! share a hostname on one listener. Routing is checked by evaluating the compiled
//! program.

use switchyard_bytecode::ir::{FilterIr, HeaderEditIr};
use switchyard_bytecode::{Outcome, Program, Request, Scratch, SourceKind};
use switchyard_compiler::compile::{CompileOptions, Compiled, compile};
use switchyard_compiler::diag::{Diagnostic, Diagnostics, Severity};
use switchyard_compiler::input::load_texts;
use switchyard_compiler::resources::{Resources, StringMatchType};

const BASE: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: c
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: web, port: 8080, protocol: HTTP, hostname: '*.example.com'}
  - name: http-only
    port: 9090
    protocol: HTTP
    allowedRoutes: {kinds: [{kind: HTTPRoute}]}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: ns}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: ns}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: c, namespace: ns}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: far, namespace: other}
spec: {ports: [{port: 8080}]}
";

/// A GRPCRoute `ns/name` (or `ns/name` created at `created`) with `spec` (YAML lines
/// indented by two spaces).
fn grpc_route(name: &str, created: Option<&str>, spec: &str) -> String {
    let created = created
        .map(|c| format!(", creationTimestamp: '{c}'"))
        .unwrap_or_default();
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {{name: {name}, namespace: ns{created}}}\nspec:\n{spec}"
    )
}

fn http_route(name: &str, created: Option<&str>, spec: &str) -> String {
    let created = created
        .map(|c| format!(", creationTimestamp: '{c}'"))
        .unwrap_or_default();
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: ns{created}}}\nspec:\n{spec}"
    )
}

/// One rule forwarding to Service `backend` for `matches` (a YAML flow list).
fn rule(matches: &str, backend: &str) -> String {
    format!("  - matches: {matches}\n    backendRefs: [{{name: {backend}, port: 8080}}]\n")
}

fn compiled(text: &str) -> Compiled {
    let documents = load_texts(&[("m.yaml".to_string(), text.to_string())]).unwrap();
    compile(&documents, &CompileOptions::default()).unwrap_or_else(|d| panic!("{:#?}", d.0))
}

fn read(text: &str) -> (Resources, Diagnostics) {
    let documents = load_texts(&[("m.yaml".to_string(), text.to_string())]).unwrap();
    Resources::from_documents(&documents)
}

/// The single error reading `spec` as a GRPCRoute gives.
fn read_error(spec: &str) -> Diagnostic {
    let (_, diagnostics) = read(&grpc_route("r", None, spec));
    let errors: Vec<Diagnostic> = diagnostics
        .0
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap()
}

fn warnings(compiled: &Compiled) -> Vec<&Diagnostic> {
    compiled
        .diagnostics
        .0
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect()
}

/// Where a gRPC call (`POST path`) to `host` on `port` goes: the Service name, or the
/// status the proxy answers.
fn call(program: &Program, port: u32, host: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .chain([("content-type".to_string(), "application/grpc".to_string())])
        .collect();
    let request = Request {
        port,
        authority: host,
        method: "POST",
        path,
        scheme: "http",
        headers: (&headers).into(),
        random: 0,
        sni: None,
    };
    match program.evaluate(&request, &mut Scratch::new()).outcome {
        Outcome::Forward { cluster, .. } => cluster
            .strip_prefix("outbound|8080||")
            .and_then(|c| c.split('.').next())
            .unwrap_or(cluster)
            .to_string(),
        Outcome::Reply { status, .. } => status.to_string(),
        Outcome::Redirect { status, .. } => format!("redirect {status}"),
        Outcome::Pass => "pass".to_string(),
    }
}

fn program(text: &str) -> Program {
    Program::from_bytes(&compiled(text).bytes).unwrap()
}

const SVC: &str = "pkg.v1.Svc";

// ---------------------------------------------------------------------------------------
// Method matches lowered to paths
// ---------------------------------------------------------------------------------------

#[test]
fn exact_service_and_method_match_only_that_call() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            &format!(
                "  parentRefs: [{{name: gw, sectionName: http}}]\n  rules:\n{}",
                rule(&format!("[{{method: {{service: {SVC}, method: Get}}}}]"), "a")
            ),
        ),
    ]
    .concat();
    let p = program(&text);
    assert_eq!(call(&p, 80, "x", "/pkg.v1.Svc/Get", &[]), "a");
    assert_eq!(call(&p, 80, "x", "/pkg.v1.Svc/Put", &[]), "404");
    assert_eq!(call(&p, 80, "x", "/pkg.v1.Svc/Getter", &[]), "404");
    assert_eq!(call(&p, 80, "x", "/pkg.v1.Svc/Get/x", &[]), "404");
    assert_eq!(call(&p, 80, "x", "/pkg.v1.svc/Get", &[]), "404", "case-sensitive");
}

#[test]
fn exact_service_only_matches_every_method_of_that_service() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            &format!(
                "  parentRefs: [{{name: gw, sectionName: http}}]\n  rules:\n{}",
                rule(&format!("[{{method: {{service: {SVC}}}}}]"), "b")
            ),
        ),
    ]
    .concat();
    let p = program(&text);
    assert_eq!(call(&p, 80, "x", "/pkg.v1.Svc/Get", &[]), "b");
    assert_eq!(call(&p, 80, "x", "/pkg.v1.Svc/Anything", &[]), "b");
    assert_eq!(
        call(&p, 80, "x", "/pkg.v1.SvcX/Get", &[]),
        "404",
        "not a string prefix"
    );
    assert_eq!(call(&p, 80, "x", "/pkg.v1/Svc", &[]), "404");
    assert_eq!(call(&p, 80, "x", "/other.Svc/Get", &[]), "404");
}

#[test]
fn exact_method_only_matches_that_method_of_any_service() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            &format!(
                "  parentRefs: [{{name: gw, sectionName: http}}]\n  rules:\n{}",
                rule("[{method: {method: Get}}]", "c")
            ),
        ),
    ]
    .concat();
    let p = program(&text);
    assert_eq!(call(&p, 80, "x", "/pkg.v1.Svc/Get", &[]), "c");
    assert_eq!(call(&p, 80, "x", "/other.Thing/Get", &[]), "c");
    assert_eq!(call(&p, 80, "x", "/pkg.v1.Svc/Getter", &[]), "404");
    assert_eq!(call(&p, 80, "x", "/Get", &[]), "404", "a service is required");
}

#[test]
fn regular_expression_sides_are_anchored_and_default_to_any() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            &format!(
                "  parentRefs: [{{name: gw, sectionName: http}}]\n  rules:\n{}{}",
                rule(
                    r#"[{method: {type: RegularExpression, service: 'pkg\.v[0-9]+\.Svc'}}]"#,
                    "a"
                ),
                rule("[{method: {type: RegularExpression, method: 'Get|Put'}}]", "b"),
            ),
        ),
    ]
    .concat();
    let p = program(&text);
    assert_eq!(call(&p, 80, "x", "/pkg.v2.Svc/Anything", &[]), "a");
    assert_eq!(call(&p, 80, "x", "/pkg.vx.Svc/Get", &[]), "b");
    assert_eq!(
        call(&p, 80, "x", "/other/Put", &[]),
        "b",
        "the alternation stays on the method side"
    );
    assert_eq!(call(&p, 80, "x", "/other/GetX", &[]), "404", "anchored");
    assert_eq!(call(&p, 80, "x", "/xpkg.v2.Svc/Delete", &[]), "404", "anchored");
}

#[test]
fn a_rule_without_matches_takes_every_call() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            "  parentRefs: [{name: gw, sectionName: http}]\n  rules:\n  - backendRefs: [{name: a, port: 8080}]\n",
        ),
    ]
    .concat();
    let p = program(&text);
    assert_eq!(call(&p, 80, "x", "/any.Service/Any", &[]), "a");
    assert_eq!(call(&p, 80, "x", "/", &[]), "a");
}

#[test]
fn grpc_header_matches_are_anded_and_case_insensitive_by_name() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            &format!(
                "  parentRefs: [{{name: gw, sectionName: http}}]\n  rules:\n{}",
                rule(
                    "[{headers: [{name: Version, value: two}, {name: color, type: RegularExpression, value: 'bl.*'}]}]",
                    "a"
                )
            ),
        ),
    ]
    .concat();
    let p = program(&text);
    assert_eq!(
        call(&p, 80, "x", "/s/m", &[("version", "two"), ("color", "blue")]),
        "a"
    );
    assert_eq!(call(&p, 80, "x", "/s/m", &[("version", "two")]), "404");
    assert_eq!(
        call(&p, 80, "x", "/s/m", &[("version", "two"), ("color", "red")]),
        "404"
    );
}

// ---------------------------------------------------------------------------------------
// Precedence (grpcroute_types.go: service characters, method characters, headers,
// oldest route, namespace/name, rule order)
// ---------------------------------------------------------------------------------------

/// Two routes on listener `http`, each with one rule.
fn two_routes(first: (&str, Option<&str>, &str, &str), second: (&str, Option<&str>, &str, &str)) -> Program {
    let route = |(name, created, matches, backend): (&str, Option<&str>, &str, &str)| {
        grpc_route(
            name,
            created,
            &format!(
                "  parentRefs: [{{name: gw, sectionName: http}}]\n  rules:\n{}",
                rule(matches, backend)
            ),
        )
    };
    program(&[BASE.to_string(), route(first), route(second)].concat())
}

#[test]
fn grpc_more_characters_in_the_matching_service_win() {
    let p = two_routes(
        (
            "older",
            Some("2020-01-01T00:00:00Z"),
            "[{method: {method: AVeryLongMethodName}}]",
            "a",
        ),
        ("newer", None, "[{method: {service: pkg.v1.Svc}}]", "b"),
    );
    assert_eq!(
        call(&p, 80, "x", "/pkg.v1.Svc/AVeryLongMethodName", &[]),
        "b",
        "service characters count before method characters"
    );
    let p = two_routes(
        (
            "older",
            Some("2020-01-01T00:00:00Z"),
            "[{method: {type: RegularExpression, service: 'p.*'}}]",
            "a",
        ),
        (
            "newer",
            None,
            r"[{method: {type: RegularExpression, service: 'pkg\.v1\..*'}}]",
            "b",
        ),
    );
    assert_eq!(
        call(&p, 80, "x", "/pkg.v1.Svc/Get", &[]),
        "b",
        "among patterns, the longer one"
    );
    assert_eq!(call(&p, 80, "x", "/pkg.v2.Svc/Get", &[]), "a");
}

#[test]
fn grpc_more_characters_in_the_matching_method_win() {
    let p = two_routes(
        (
            "older",
            Some("2020-01-01T00:00:00Z"),
            "[{method: {service: pkg.v1.Svc}}]",
            "a",
        ),
        (
            "newer",
            None,
            "[{method: {service: pkg.v1.Svc, method: Get}}]",
            "b",
        ),
    );
    assert_eq!(call(&p, 80, "x", "/pkg.v1.Svc/Get", &[]), "b");
    assert_eq!(call(&p, 80, "x", "/pkg.v1.Svc/Put", &[]), "a");
}

#[test]
fn grpc_more_characters_in_the_matching_method_beat_more_header_matches() {
    let p = two_routes(
        (
            "a-headers",
            Some("2020-01-01T00:00:00Z"),
            "[{method: {service: s}, headers: [{name: x, value: '1'}, {name: y, value: '2'}]}]",
            "a",
        ),
        ("b-method", None, "[{method: {service: s, method: m}}]", "b"),
    );
    assert_eq!(call(&p, 80, "x", "/s/m", &[("x", "1"), ("y", "2")]), "b");
}

#[test]
fn grpc_more_header_matches_win_among_equal_methods() {
    let p = two_routes(
        (
            "a-plain",
            Some("2020-01-01T00:00:00Z"),
            "[{method: {service: s, method: m}}]",
            "a",
        ),
        (
            "b-header",
            None,
            "[{method: {service: s, method: m}, headers: [{name: x, value: '1'}]}]",
            "b",
        ),
    );
    assert_eq!(call(&p, 80, "x", "/s/m", &[("x", "1")]), "b");
    assert_eq!(call(&p, 80, "x", "/s/m", &[]), "a");
}

#[test]
fn grpc_oldest_route_then_namespace_name_break_ties() {
    let same = "[{method: {service: s, method: m}}]";
    let p = two_routes(
        ("z-old", Some("2020-01-01T00:00:00Z"), same, "a"),
        ("a-new", Some("2024-01-01T00:00:00Z"), same, "b"),
    );
    assert_eq!(call(&p, 80, "x", "/s/m", &[]), "a");
    let p = two_routes(("z", None, same, "a"), ("a", None, same, "b"));
    assert_eq!(call(&p, 80, "x", "/s/m", &[]), "b");
}

#[test]
fn grpc_first_rule_wins_within_a_route() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            &format!(
                "  parentRefs: [{{name: gw, sectionName: http}}]\n  rules:\n{}{}",
                rule("[{method: {service: s}}]", "a"),
                rule("[{method: {service: s}}]", "b")
            ),
        ),
    ]
    .concat();
    assert_eq!(call(&program(&text), 80, "x", "/s/m", &[]), "a");
}

#[test]
fn grpc_regex_method_match_ranks_after_a_match_without_method() {
    let p = two_routes(
        (
            "a-regex",
            Some("2020-01-01T00:00:00Z"),
            "[{method: {type: RegularExpression, service: 's.*', method: 'm.*'}}]",
            "a",
        ),
        ("b-all", None, "[{headers: [{name: x, value: '1'}]}]", "b"),
    );
    assert_eq!(call(&p, 80, "x", "/s/m", &[("x", "1")]), "b");
    assert_eq!(call(&p, 80, "x", "/s/m", &[]), "a");
}

// ---------------------------------------------------------------------------------------
// Hostnames, listeners and HTTPRoutes
// ---------------------------------------------------------------------------------------

#[test]
fn grpc_route_hostnames_intersect_the_listeners() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            "  parentRefs: [{name: gw, sectionName: web}]\n  hostnames: [foo.example.com, foo.example.org]\n  rules:\n  - backendRefs: [{name: a, port: 8080}]\n",
        ),
    ]
    .concat();
    let p = program(&text);
    assert_eq!(call(&p, 8080, "foo.example.com", "/s/m", &[]), "a");
    assert_eq!(call(&p, 8080, "foo.example.com:8080", "/s/m", &[]), "a");
    assert_eq!(call(&p, 8080, "bar.example.com", "/s/m", &[]), "404");
    assert_eq!(call(&p, 8080, "foo.example.org", "/s/m", &[]), "404");
}

#[test]
fn listener_kinds_must_list_grpcroute_and_default_kinds_include_it() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            "  parentRefs: [{name: gw}]\n  rules:\n  - backendRefs: [{name: a, port: 8080}]\n",
        ),
    ]
    .concat();
    let all = compiled(&text);
    assert!(warnings(&all).is_empty(), "{:#?}", warnings(&all));
    let p = Program::from_bytes(&all.bytes).unwrap();
    assert_eq!(
        call(&p, 80, "x", "/s/m", &[]),
        "a",
        "HTTP listener, default kinds"
    );
    assert_eq!(call(&p, 8080, "a.example.com", "/s/m", &[]), "a");
    assert_eq!(call(&p, 9090, "x", "/s/m", &[]), "404", "kinds: [HTTPRoute] only");
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            "  parentRefs: [{name: gw, sectionName: http-only}]\n  rules:\n  - backendRefs: [{name: a, port: 8080}]\n",
        ),
    ]
    .concat();
    let refused = compiled(&text);
    let w = warnings(&refused);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].resource.as_deref(), Some("GRPCRoute ns/r"));
    assert!(w[0].message.contains("NotAllowedByListeners"), "{}", w[0]);
}

/// An HTTPRoute and a GRPCRoute on listener `web` with the given hostnames and ages.
fn http_and_grpc(http: (&str, Option<&str>, &str), grpc: (&str, Option<&str>, &str)) -> Compiled {
    compiled(
        &[
            BASE.to_string(),
            http_route(
                http.0,
                http.1,
                &format!(
                    "  parentRefs: [{{name: gw, sectionName: web}}]\n  hostnames: {}\n  rules:\n  - backendRefs: [{{name: a, port: 8080}}]\n",
                    http.2
                ),
            ),
            grpc_route(
                grpc.0,
                grpc.1,
                &format!(
                    "  parentRefs: [{{name: gw, sectionName: web}}]\n  hostnames: {}\n  rules:\n  - backendRefs: [{{name: b, port: 8080}}]\n",
                    grpc.2
                ),
            ),
        ]
        .concat(),
    )
}

#[test]
fn http_and_grpc_routes_with_intersecting_hostnames_keep_the_older_route() {
    let compiled = http_and_grpc(
        ("h", Some("2021-01-01T00:00:00Z"), "[foo.example.com]"),
        ("g", Some("2020-01-01T00:00:00Z"), "['*.example.com']"),
    );
    let w = warnings(&compiled);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].resource.as_deref(), Some("HTTPRoute ns/h"));
    assert_eq!(w[0].field.as_deref(), Some("spec.parentRefs[0]"));
    assert!(
        w[0].message.contains("HostnameConflict") && w[0].message.contains("GRPCRoute ns/g"),
        "{}",
        w[0]
    );
    let p = Program::from_bytes(&compiled.bytes).unwrap();
    assert_eq!(
        call(&p, 8080, "foo.example.com", "/s/m", &[]),
        "b",
        "the HTTPRoute is not attached"
    );

    let compiled = http_and_grpc(
        ("h", Some("2020-01-01T00:00:00Z"), "[foo.example.com]"),
        ("g", Some("2021-01-01T00:00:00Z"), "['*.example.com']"),
    );
    let w = warnings(&compiled);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].resource.as_deref(), Some("GRPCRoute ns/g"));
    let p = Program::from_bytes(&compiled.bytes).unwrap();
    assert_eq!(call(&p, 8080, "foo.example.com", "/s/m", &[]), "a");
    assert_eq!(
        call(&p, 8080, "bar.example.com", "/s/m", &[]),
        "404",
        "the GRPCRoute is not attached"
    );
}

#[test]
fn http_and_grpc_conflict_without_timestamps_keeps_the_first_by_namespace_name() {
    let compiled = http_and_grpc(
        ("b-http", None, "[foo.example.com]"),
        ("a-grpc", None, "[foo.example.com]"),
    );
    let w = warnings(&compiled);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].resource.as_deref(), Some("HTTPRoute ns/b-http"));
}

#[test]
fn http_and_grpc_routes_with_disjoint_hostnames_share_a_listener() {
    let compiled = http_and_grpc(("h", None, "[web.example.com]"), ("g", None, "[api.example.com]"));
    assert!(warnings(&compiled).is_empty(), "{:#?}", warnings(&compiled));
    let p = Program::from_bytes(&compiled.bytes).unwrap();
    assert_eq!(call(&p, 8080, "web.example.com", "/s/m", &[]), "a");
    assert_eq!(call(&p, 8080, "api.example.com", "/s/m", &[]), "b");
}

#[test]
fn http_and_grpc_routes_on_different_listeners_do_not_conflict() {
    let text = [
        BASE.to_string(),
        http_route(
            "h",
            None,
            "  parentRefs: [{name: gw, sectionName: http}]\n  rules:\n  - backendRefs: [{name: a, port: 8080}]\n",
        ),
        grpc_route(
            "g",
            None,
            "  parentRefs: [{name: gw, sectionName: web}]\n  rules:\n  - backendRefs: [{name: b, port: 8080}]\n",
        ),
    ]
    .concat();
    let compiled = compiled(&text);
    assert!(warnings(&compiled).is_empty(), "{:#?}", warnings(&compiled));
}

// ---------------------------------------------------------------------------------------
// Backends and filters
// ---------------------------------------------------------------------------------------

#[test]
fn grpc_unresolved_backend_share_is_answered_503_for_unavailable() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            "  parentRefs: [{name: gw, sectionName: http}]\n  rules:\n  - backendRefs:\n    - {name: a, port: 8080, weight: 3}\n    - {name: ghost, port: 8080, weight: 1}\n",
        ),
    ]
    .concat();
    let compiled = compiled(&text);
    let w = warnings(&compiled);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].field.as_deref(), Some("spec.rules[0].backendRefs[1]"));
    assert!(w[0].message.contains("BackendNotFound"), "{}", w[0]);
    let p = Program::from_bytes(&compiled.bytes).unwrap();
    let mut outcomes = Vec::new();
    for random in 0..4 {
        let request = Request {
            port: 80,
            authority: "x",
            method: "POST",
            path: "/s/m",
            scheme: "http",
            headers: Default::default(),
            random,
            sni: None,
        };
        outcomes.push(match p.evaluate(&request, &mut Scratch::new()).outcome {
            Outcome::Forward { .. } => 200,
            Outcome::Reply { status, .. } => status,
            Outcome::Redirect { status, .. } => status,
            Outcome::Pass => 0,
        });
    }
    // 503 reaches a gRPC client as UNAVAILABLE (HTTPRoute's 500 would be UNKNOWN).
    assert_eq!(outcomes, [200, 200, 200, 503]);
    assert!(w[0].message.contains("answered UNAVAILABLE"), "{}", w[0]);
}

#[test]
fn grpc_rule_without_backends_or_weight_answers_503() {
    for backends in ["", "    backendRefs: [{name: a, port: 8080, weight: 0}]\n"] {
        let text = [
            BASE.to_string(),
            grpc_route(
                "r",
                None,
                &format!("  parentRefs: [{{name: gw, sectionName: http}}]\n  rules:\n  - matches: [{{method: {{service: s}}}}]\n{backends}"),
            ),
        ]
        .concat();
        let p = Program::from_bytes(&compiled(&text).bytes).unwrap();
        assert_eq!(call(&p, 80, "x", "/s/m", &[]), "503", "{backends:?}");
    }
}

#[test]
fn grpc_cross_namespace_backend_needs_a_grant_from_grpcroute() {
    let route = grpc_route(
        "r",
        None,
        "  parentRefs: [{name: gw, sectionName: http}]\n  rules:\n  - backendRefs: [{name: far, namespace: other, port: 8080}]\n",
    );
    let grant = |kind: &str| {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {{name: g, namespace: other}}\nspec:\n  from: [{{group: gateway.networking.k8s.io, kind: {kind}, namespace: ns}}]\n  to: [{{group: '', kind: Service}}]\n"
        )
    };
    let p = program(&[BASE.to_string(), route.clone()].concat());
    assert_eq!(call(&p, 80, "x", "/s/m", &[]), "503", "no grant");
    let p = program(&[BASE.to_string(), route.clone(), grant("HTTPRoute")].concat());
    assert_eq!(call(&p, 80, "x", "/s/m", &[]), "503", "a grant for HTTPRoutes");
    let p = program(&[BASE.to_string(), route, grant("GRPCRoute")].concat());
    assert_eq!(call(&p, 80, "x", "/s/m", &[]), "far");
}

#[test]
fn grpc_filters_lower_in_order_and_backend_filters_stay_with_their_backend() {
    let text = [
        BASE.to_string(),
        grpc_route(
            "r",
            None,
            "  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Set, value: '1'}], remove: [x-gone]}
    - type: RequestMirror
      requestMirror: {backendRef: {name: c, port: 8080}}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-resp, value: v}]}
    backendRefs:
    - name: a
      port: 8080
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {set: [{name: x-backend, value: a}]}
",
        ),
    ]
    .concat();
    let compiled = compiled(&text);
    let entry = &compiled.ir.listeners[0].vhosts[0].entries[0];
    assert_eq!(entry.source.kind, SourceKind::GrpcRoute);
    let kinds: Vec<&str> = entry
        .filters
        .iter()
        .map(|f| match f {
            FilterIr::RequestHeader(HeaderEditIr::Set(..)) => "request set",
            FilterIr::RequestHeader(HeaderEditIr::Remove(..)) => "request remove",
            FilterIr::Mirror { .. } => "mirror",
            FilterIr::ResponseHeader(HeaderEditIr::Add(..)) => "response add",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["request set", "request remove", "mirror", "response add"]);
    let switchyard_bytecode::ir::ActionIr::Forward(backends) = &entry.action else {
        panic!("{:?}", entry.action)
    };
    assert_eq!(
        backends[0].filters,
        [FilterIr::RequestHeader(HeaderEditIr::Set(
            "x-backend".into(),
            "a".into()
        ))]
    );
}

// ---------------------------------------------------------------------------------------
// Reading: the CRD's validation
// ---------------------------------------------------------------------------------------

#[test]
fn grpcroute_is_read_with_its_defaults() {
    let text = grpc_route(
        "r",
        None,
        "  parentRefs: [{name: gw}]
  hostnames: ['*.example.com']
  rules:
  - name: first
    matches:
    - method: {service: pkg.Svc, method: ''}
      headers: [{name: X-A, value: '1'}, {name: x-a, value: '2'}]
    backendRefs: [{name: a, port: 8080}]
  - backendRefs: [{name: b, port: 8080}]
",
    );
    let (resources, diagnostics) = read(&text);
    assert!(!diagnostics.has_errors(), "{:#?}", diagnostics.0);
    let route = &resources.grpc_routes[0];
    assert_eq!(route.hostnames, ["*.example.com"]);
    let m = &route.rules[0].matches[0];
    let method = m.method.as_ref().unwrap();
    assert_eq!(method.kind, StringMatchType::Exact, "type defaults to Exact");
    assert_eq!(method.service.as_deref(), Some("pkg.Svc"));
    assert_eq!(method.method, None, "an empty method matches any");
    assert_eq!(
        m.headers.len(),
        1,
        "only the first of equivalent header names counts"
    );
    assert_eq!(
        (m.headers[0].name.as_str(), m.headers[0].value.as_str()),
        ("x-a", "1")
    );
    let default = &route.rules[1].matches;
    assert_eq!(default.len(), 1, "no matches: one match for every call");
    assert!(default[0].method.is_none() && default[0].headers.is_empty());
}

#[test]
fn method_match_needs_a_service_or_a_method() {
    let e = read_error("  rules:\n  - matches: [{method: {type: Exact}}]\n");
    assert!(e.message.contains("one or both of `service` and `method`"), "{e}");
    assert_eq!(e.field.as_deref(), Some("spec.rules[0].matches[0].method"));
    let e = read_error("  rules:\n  - matches: [{method: {service: '', method: ''}}]\n");
    assert!(e.message.contains("one or both"), "{e}");
}

#[test]
fn exact_method_match_values_follow_the_crd_patterns() {
    let e = read_error("  rules:\n  - matches: [{method: {service: pkg/Svc, method: Get}}]\n");
    assert_eq!(
        e.field.as_deref(),
        Some("spec.rules[0].matches[0].method.service")
    );
    assert!(e.message.contains("valid characters"), "{e}");
    let e = read_error("  rules:\n  - matches: [{method: {service: pkg.Svc, method: Get/Put}}]\n");
    assert_eq!(e.field.as_deref(), Some("spec.rules[0].matches[0].method.method"));
    let e = read_error("  rules:\n  - matches: [{method: {method: 'Get.*'}}]\n");
    assert_eq!(e.field.as_deref(), Some("spec.rules[0].matches[0].method.method"));
    // The same values are fine as regular expressions.
    let (_, d) = read(&grpc_route(
        "r",
        None,
        "  rules:\n  - matches: [{method: {type: RegularExpression, method: 'Get.*'}}]\n",
    ));
    assert!(!d.has_errors(), "{:#?}", d.0);
}

#[test]
fn invalid_method_regex_and_unknown_match_type_are_refused() {
    let e = read_error("  rules:\n  - matches: [{method: {type: RegularExpression, service: 'a(b'}}]\n");
    assert!(e.message.contains("invalid regular expression"), "{e}");
    let e = read_error("  rules:\n  - matches: [{method: {type: Prefix, service: a}}]\n");
    assert!(e.message.contains("unsupported method match type"), "{e}");
}

#[test]
fn grpcroute_filters_are_header_modifiers_and_mirrors_only() {
    let e = read_error(
        "  rules:\n  - filters:\n    - type: URLRewrite\n      urlRewrite: {hostname: a.example.com}\n",
    );
    assert!(e.message.contains("not a GRPCRoute filter"), "{e}");
    assert_eq!(e.field.as_deref(), Some("spec.rules[0].filters[0]"));
    let e = read_error(
        "  rules:\n  - filters:\n    - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: a, value: b}]}}\n    - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: c, value: d}]}}\n",
    );
    assert!(e.message.contains("only once"), "{e}");
}

#[test]
fn grpcroute_limits_and_unsupported_fields() {
    let rules: String = (0..17)
        .map(|_| "  - backendRefs: [{name: a, port: 8080}]\n")
        .collect();
    let e = read_error(&format!("  rules:\n{rules}"));
    assert!(e.message.contains("at most 16 rules"), "{e}");
    let headers: String = (0..17).map(|i| format!("{{name: h{i}, value: v}}, ")).collect();
    let e = read_error(&format!("  rules:\n  - matches: [{{headers: [{headers}]}}]\n"));
    assert!(e.message.contains("at most 16 header matches"), "{e}");
    let matches: String = (0..65).map(|_| "{method: {service: s}}, ").collect();
    let e = read_error(&format!("  rules:\n  - matches: [{matches}]\n"));
    assert!(e.message.contains("at most 64 matches per rule"), "{e}");
    let e = read_error("  rules:\n  - sessionPersistence: {type: Cookie}\n");
    assert!(e.message.contains("not supported"), "{e}");
    let e = read_error("  rules:\n  - matches: [{path: {value: /x}}]\n");
    assert!(e.message.contains("unknown field"), "{e}");
}

#[test]
fn grpcroute_v1_is_served_and_other_versions_are_skipped() {
    let text = grpc_route("r", None, "  rules: []\n").replace("/v1\n", "/v1alpha2\n");
    let (resources, diagnostics) = read(&text);
    assert!(resources.grpc_routes.is_empty());
    assert!(
        diagnostics.0[0].message.contains("not a served version"),
        "{:#?}",
        diagnostics.0
    );
}
