//! HTTPRoute backendRef filters: URLRewrite and RequestRedirect on a backend
//! (HTTPRouteBackendURLRewrite, HTTPRouteBackendRequestRedirect) run only when that
//! backend is chosen, after the rule's filters; the CRD's validation of them; and the
//! format version a redirecting backend needs. The corpus (`corpus/switchyard/
//! backend-filters*/`) checks the same through every engine; these tests pin what the
//! route test format cannot say: which path each of several weighted backends receives.

use switchyard_bytecode::format::VERSION_MINOR;
use switchyard_bytecode::{Outcome, Program, Request, Scratch};
use switchyard_compiler::compile::{CompileOptions, compile};
use switchyard_compiler::diag::Severity;
use switchyard_compiler::input::load_texts;

const BASE: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: c
  listeners: [{name: http, port: 80, protocol: HTTP}]
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
";

fn route(kind: &str, rules: &str) -> String {
    format!(
        "{BASE}---\napiVersion: gateway.networking.k8s.io/v1\nkind: {kind}\nmetadata: {{name: r, namespace: ns}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules:\n{rules}"
    )
}

fn compile_text(text: &str) -> Result<Vec<u8>, Vec<String>> {
    let documents = load_texts(&[("m.yaml".to_string(), text.to_string())]).unwrap();
    compile(&documents, &CompileOptions::default())
        .map(|c| c.bytes)
        .map_err(|d| {
            d.0.iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| d.to_string())
                .collect()
        })
}

fn request(path: &str, random: u64) -> Request<'_> {
    Request {
        port: 80,
        authority: "x.example.com",
        method: "GET",
        path,
        scheme: "http",
        headers: Default::default(),
        random,
        sni: None,
    }
}

/// What `path` with `random` becomes: `cluster path` when forwarded, `status location`
/// when answered with a redirect, `status` otherwise.
fn outcome(program: &Program, path: &str, random: u64) -> String {
    let request = request(path, random);
    let decision = program.evaluate(&request, &mut Scratch::new());
    let plan = program.plan(&decision, &request);
    match decision.outcome {
        Outcome::Forward { cluster, .. } => {
            let service = cluster.split('|').next_back().unwrap_or(cluster);
            format!("{service} {}", plan.path.as_deref().unwrap_or(path))
        }
        Outcome::Redirect { status, .. } => {
            let reply = plan.reply.unwrap();
            let location = reply.headers.iter().find(|(n, _)| *n == "location").unwrap();
            format!("{status} {}", location.1)
        }
        Outcome::Reply { status, .. } => status.to_string(),
        Outcome::Pass => "pass".to_string(),
    }
}

// (No `\` line continuation: it would strip the first line's indentation.)
const SPLIT: &str = "  - matches: [{path: {type: PathPrefix, value: /p}}]
    backendRefs:
    - name: a
      port: 8080
      weight: 1
      filters:
      - {type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /one}}}
    - name: b
      port: 8080
      weight: 1
      filters:
      - {type: RequestRedirect, requestRedirect: {hostname: moved.example.com, path: {type: ReplaceFullPath, replaceFullPath: /two}}}
";

#[test]
fn each_weighted_backend_runs_only_its_own_filters() {
    let program = Program::from_bytes(&compile_text(&route("HTTPRoute", SPLIT)).unwrap()).unwrap();
    let shares: Vec<String> = (0..4)
        .map(|random| outcome(&program, "/p/x?q=1", random))
        .collect();
    assert_eq!(
        shares,
        [
            "a.ns.svc.cluster.local /one/x?q=1",
            "302 http://moved.example.com/two?q=1",
            "a.ns.svc.cluster.local /one/x?q=1",
            "302 http://moved.example.com/two?q=1",
        ]
    );
}

#[test]
fn a_redirecting_backend_needs_format_1_2_and_nothing_else_does() {
    let minor = |bytes: &[u8]| u16::from_le_bytes([bytes[10], bytes[11]]);
    let redirecting = compile_text(&route("HTTPRoute", SPLIT)).unwrap();
    assert_eq!(minor(&redirecting), 2);
    assert_eq!(VERSION_MINOR, 2);
    let rewriting_only = route(
        "HTTPRoute",
        "  - backendRefs:\n    - name: a\n      port: 8080\n      filters: [{type: URLRewrite, urlRewrite: {hostname: h.example.com}}]\n",
    );
    assert_eq!(minor(&compile_text(&rewriting_only).unwrap()), 0);
}

#[test]
fn a_backend_prefix_replacement_needs_exactly_one_path_prefix_match() {
    let two_matches = route(
        "HTTPRoute",
        "  - matches: [{path: {type: PathPrefix, value: /a}}, {path: {type: PathPrefix, value: /b}}]\n    backendRefs:\n    - name: a\n      port: 8080\n      filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /c}}}]\n",
    );
    let errors = compile_text(&two_matches).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("ReplacePrefixMatch needs exactly one match") && e.contains("m.yaml:")),
        "{errors:#?}"
    );
}

#[test]
fn redirect_and_rewrite_on_one_backend_is_an_error() {
    let both = route(
        "HTTPRoute",
        "  - backendRefs:\n    - name: a\n      port: 8080\n      filters:\n      - {type: URLRewrite, urlRewrite: {hostname: h.example.com}}\n      - {type: RequestRedirect, requestRedirect: {hostname: h.example.com}}\n",
    );
    let errors = compile_text(&both).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("RequestRedirect and URLRewrite cannot be used together")),
        "{errors:#?}"
    );
}

#[test]
fn grpcroute_backends_take_no_rewrite_or_redirect() {
    let grpc = route(
        "GRPCRoute",
        "  - backendRefs:\n    - name: a\n      port: 8080\n      filters: [{type: URLRewrite, urlRewrite: {hostname: h.example.com}}]\n",
    );
    let errors = compile_text(&grpc).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("URLRewrite is not supported as a backendRef filter")),
        "{errors:#?}"
    );
}
