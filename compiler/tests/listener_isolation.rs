//! Listener isolation (Gateway API Extended `GatewayHTTPListenerIsolation`,
//! `gateway_types.go`): a request is served only by the routes of the most specific
//! listener on its port whose hostname matches its host.

use switchyard_bytecode::{Outcome, Program, Request, Scratch};
use switchyard_compiler::compile::{CompileOptions, Compiled, compile};
use switchyard_compiler::diag::Severity;
use switchyard_compiler::input::load_texts;

/// Listeners on port 80: none, `*.example.com`, `foo.example.com`; and `*.example.com`
/// on port 8080 alone.
const GATEWAY: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: c
  listeners:
  - {name: any, port: 80, protocol: HTTP}
  - {name: wild, port: 80, protocol: HTTP, hostname: '*.example.com'}
  - {name: foo, port: 80, protocol: HTTP, hostname: foo.example.com}
  - {name: other-port, port: 8080, protocol: HTTP, hostname: '*.example.com'}
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

fn route(name: &str, section: &str, hostnames: &str, path: &str, backend: &str) -> String {
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n  parentRefs: [{{name: gw, sectionName: {section}}}]\n  hostnames: {hostnames}\n  rules:\n  - matches: [{{path: {{value: {path}}}}}]\n    backendRefs: [{{name: {backend}, port: 8080}}]\n"
    )
}

fn compiled(routes: &[String]) -> Compiled {
    let text = [GATEWAY.to_string()]
        .into_iter()
        .chain(routes.iter().cloned())
        .collect::<String>();
    let documents = load_texts(&[("m.yaml".to_string(), text)]).unwrap();
    compile(&documents, &CompileOptions::default()).unwrap_or_else(|d| panic!("{:#?}", d.0))
}

/// Where `GET path` to `host` on `port` goes: the Service name, or the status.
fn get(compiled: &Compiled, port: u32, host: &str, path: &str) -> String {
    let program = Program::from_bytes(&compiled.bytes).unwrap();
    let request = Request {
        port,
        authority: host,
        method: "GET",
        path,
        scheme: "http",
        headers: Default::default(),
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

#[test]
fn a_less_specific_listener_does_not_serve_hosts_of_a_more_specific_one() {
    // Only the catch-all and the wildcard listener have routes; foo.example.com belongs
    // to listener `foo`, which has none: 404, not the wildcard listener's route.
    let c = compiled(&[
        route("any", "any", "[]", "/", "a"),
        route("wild", "wild", "[]", "/", "b"),
    ]);
    assert_eq!(get(&c, 80, "bar.example.com", "/"), "b");
    assert_eq!(get(&c, 80, "foo.example.com", "/"), "404");
    assert_eq!(get(&c, 80, "foo.example.com:80", "/"), "404");
    assert_eq!(
        get(&c, 80, "example.com", "/"),
        "a",
        "*.example.com does not match its bare suffix"
    );
    assert_eq!(get(&c, 80, "other.org", "/"), "a");
}

#[test]
fn no_fallback_from_a_listener_to_a_less_specific_listener() {
    // A request the wildcard listener's routes do not match gets 404, even though the
    // catch-all listener's route would match it.
    let c = compiled(&[
        route("any", "any", "[]", "/", "a"),
        route("wild", "wild", "[]", "/only-this", "b"),
    ]);
    assert_eq!(get(&c, 80, "bar.example.com", "/only-this"), "b");
    assert_eq!(get(&c, 80, "bar.example.com", "/else"), "404");
    assert_eq!(get(&c, 80, "other.org", "/else"), "a");
}

#[test]
fn route_hostnames_owned_by_a_more_specific_listener_are_dropped_with_a_note() {
    let c = compiled(&[route(
        "broad",
        "any",
        "[foo.example.com, '*.example.com', bar.org]",
        "/",
        "a",
    )]);
    assert_eq!(get(&c, 80, "bar.org", "/"), "a");
    assert_eq!(get(&c, 80, "foo.example.com", "/"), "404");
    assert_eq!(get(&c, 80, "x.example.com", "/"), "404");
    let notes: Vec<String> = c
        .diagnostics
        .0
        .iter()
        .filter(|d| d.severity == Severity::Note)
        .map(|d| d.message.clone())
        .collect();
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert!(
        notes[0].contains("foo.example.com") && notes[0].contains("\"foo\""),
        "{notes:?}"
    );
    assert!(
        notes[1].contains("*.example.com") && notes[1].contains("\"wild\""),
        "{notes:?}"
    );
    assert!(
        c.diagnostics.0.iter().all(|d| d.severity != Severity::Warning),
        "the route is still attached"
    );
}

#[test]
fn route_hostnames_of_one_listener_still_fall_back_longest_first() {
    // Within the wildcard listener, a request no rule of the exact route hostname matches
    // falls back to the rules of the wildcard route hostname (hostname precedence).
    let c = compiled(&[
        route("exact", "wild", "[bar.example.com]", "/exact", "a"),
        route("wide", "wild", "[]", "/", "b"),
    ]);
    assert_eq!(get(&c, 80, "bar.example.com", "/exact"), "a");
    assert_eq!(get(&c, 80, "bar.example.com", "/other"), "b");
    let vhost = c.ir.listeners[0]
        .vhosts
        .iter()
        .find(|v| v.host.to_string() == "bar.example.com")
        .unwrap();
    assert!(vhost.fallback);
}

#[test]
fn a_more_specific_listener_without_routes_still_owns_its_hosts_only() {
    // listener `foo` owns foo.example.com only: a.foo.example.com is the wildcard's.
    let c = compiled(&[route("wild", "wild", "[]", "/", "b")]);
    assert_eq!(get(&c, 80, "a.foo.example.com", "/"), "b");
    assert_eq!(get(&c, 80, "foo.example.com", "/"), "404");
}

#[test]
fn listeners_on_other_ports_are_separate() {
    let c = compiled(&[
        route("wild", "wild", "[]", "/", "b"),
        route("other", "other-port", "[]", "/", "a"),
    ]);
    // Port 8080 has no listener for foo.example.com other than the wildcard.
    assert_eq!(get(&c, 8080, "foo.example.com", "/"), "a");
    assert_eq!(get(&c, 80, "foo.example.com", "/"), "404");
}

#[test]
fn a_route_without_section_name_serves_each_host_through_its_owning_listener() {
    // Attached to all three port-80 listeners, the route serves every host, each through
    // the listener that owns it.
    let text = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: all, namespace: ns}\nspec:\n  parentRefs: [{name: gw, port: 80}]\n  rules:\n  - backendRefs: [{name: a, port: 8080}]\n";
    let c = compiled(&[text.to_string()]);
    for host in ["foo.example.com", "bar.example.com", "other.org"] {
        assert_eq!(get(&c, 80, host, "/"), "a", "{host}");
    }
    assert!(c.diagnostics.0.iter().all(|d| d.severity != Severity::Warning));
}
