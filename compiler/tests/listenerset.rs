//! ListenerSet (`apis/v1/listenerset_types.go`): listeners added to a Gateway that opts
//! in through `spec.allowedListeners`, merged after the Gateway's own, and routes that
//! attach with `parentRefs: {kind: ListenerSet}`.

use switchyard_bytecode::{Outcome, Program, Request, Scratch};
use switchyard_compiler::compile::{CompileOptions, Compiled, Target, compile};
use switchyard_compiler::diag::{Diagnostic, Diagnostics, Severity};
use switchyard_compiler::gateway_api::attach::{ListenerParent, merged_listeners};
use switchyard_compiler::input::load_texts;
use switchyard_compiler::resources::Resources;
use switchyard_compiler::resources::gateway_api::ListenersFrom;

/// Gateway `infra/gw` (listener `main` for main.example.com on port 80, allowing routes
/// from all namespaces) admitting ListenerSets per `allowed`, and Service `infra/svc`.
fn gateway(allowed: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: infra}}
spec:
  gatewayClassName: c
  listeners:
  - {{name: main, port: 80, protocol: HTTP, hostname: main.example.com, allowedRoutes: {{namespaces: {{from: All}}}}}}
{allowed}---
apiVersion: v1
kind: Service
metadata: {{name: svc, namespace: infra}}
spec: {{ports: [{{port: 8080}}]}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: teams, labels: {{listeners: allowed}}}}
"
    )
}

/// A ListenerSet `namespace/name` for `infra/gw` with `listeners` (YAML flow mappings).
fn set(namespace: &str, name: &str, created: Option<&str>, listeners: &[&str]) -> String {
    let created = created
        .map(|c| format!(", creationTimestamp: '{c}'"))
        .unwrap_or_default();
    let listeners: String = listeners.iter().map(|l| format!("  - {l}\n")).collect();
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: ListenerSet\nmetadata: {{name: {name}, namespace: {namespace}{created}}}\nspec:\n  parentRef: {{name: gw, namespace: infra}}\n  listeners:\n{listeners}"
    )
}

/// An HTTPRoute `namespace/name` with these parentRefs, forwarding `/` to infra/svc.
fn route(namespace: &str, name: &str, parent_refs: &str) -> String {
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  parentRefs: {parent_refs}\n  rules:\n  - backendRefs: [{{name: svc, namespace: infra, port: 8080}}]\n---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {{name: from-{namespace}-{name}, namespace: infra}}\nspec:\n  from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: {namespace}}}]\n  to: [{{group: '', kind: Service}}]\n"
    )
}

const ALL: &str = "  allowedListeners: {namespaces: {from: All}}\n";

fn read(text: &str) -> (Resources, Diagnostics) {
    let documents = load_texts(&[("m.yaml".to_string(), text.to_string())]).unwrap();
    Resources::from_documents(&documents)
}

fn compiled(text: &str) -> Compiled {
    let documents = load_texts(&[("m.yaml".to_string(), text.to_string())]).unwrap();
    let options = CompileOptions {
        target: Target::Gateway(Some("infra/gw".into())),
        ..CompileOptions::default()
    };
    compile(&documents, &options).unwrap_or_else(|d| panic!("{:#?}", d.0))
}

fn warnings(compiled: &Compiled) -> Vec<&Diagnostic> {
    compiled
        .diagnostics
        .0
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect()
}

/// The status of `GET /` to `host` on `port`: 200 when forwarded.
fn get(compiled: &Compiled, port: u32, host: &str) -> u16 {
    let program = Program::from_bytes(&compiled.bytes).unwrap();
    let request = Request {
        port,
        authority: host,
        method: "GET",
        path: "/",
        scheme: "http",
        headers: Default::default(),
        random: 0,
        sni: None,
    };
    match program.evaluate(&request, &mut Scratch::new()).outcome {
        Outcome::Forward { .. } => 200,
        Outcome::Reply { status, .. } => status,
        Outcome::Redirect { status, .. } => status,
        Outcome::Pass => 0,
    }
}

const SET_LISTENER: &str = "{name: l, port: 80, protocol: HTTP, hostname: set.example.com, allowedRoutes: {namespaces: {from: All}}}";
const TO_SET: &str = "[{kind: ListenerSet, name: s, namespace: teams}]";

#[test]
fn gateway_admits_no_listener_sets_by_default() {
    let text = [
        gateway(""),
        set("teams", "s", None, &[SET_LISTENER]),
        route("teams", "r", TO_SET),
    ]
    .concat();
    let c = compiled(&text);
    assert_eq!(get(&c, 80, "set.example.com"), 404);
    let w = warnings(&c);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].resource.as_deref(), Some("ListenerSet teams/s"));
    assert_eq!(w[0].field.as_deref(), Some("spec.parentRef"));
    assert!(w[0].message.contains("NotAllowed"), "{}", w[0]);
}

#[test]
fn allowed_listeners_from_same_all_and_selector() {
    let cases = [
        ("  allowedListeners: {namespaces: {from: Same}}\n", "infra", 200),
        ("  allowedListeners: {namespaces: {from: Same}}\n", "teams", 404),
        ("  allowedListeners: {namespaces: {from: None}}\n", "infra", 404),
        (ALL, "teams", 200),
        (
            "  allowedListeners: {namespaces: {from: Selector, selector: {matchLabels: {listeners: allowed}}}}\n",
            "teams",
            200,
        ),
        (
            "  allowedListeners: {namespaces: {from: Selector, selector: {matchLabels: {listeners: allowed}}}}\n",
            "infra",
            404,
        ),
    ];
    for (allowed, namespace, status) in cases {
        let text = [
            gateway(allowed),
            set(namespace, "s", None, &[SET_LISTENER]),
            route(
                namespace,
                "r",
                &format!("[{{kind: ListenerSet, name: s, namespace: {namespace}}}]"),
            ),
        ]
        .concat();
        assert_eq!(
            get(&compiled(&text), 80, "set.example.com"),
            status,
            "{allowed} {namespace}"
        );
    }
}

#[test]
fn merged_listener_order_is_gateway_then_oldest_set_then_namespace_name() {
    let text = [
        gateway(ALL),
        set("teams", "b", None, &["{name: b, port: 81, protocol: HTTP}"]),
        set("teams", "a", None, &["{name: a, port: 82, protocol: HTTP}"]),
        set(
            "teams",
            "z",
            Some("2020-01-01T00:00:00Z"),
            &["{name: z, port: 83, protocol: HTTP}"],
        ),
        set(
            "infra",
            "y",
            Some("2021-01-01T00:00:00Z"),
            &["{name: y, port: 84, protocol: HTTP}"],
        ),
    ]
    .concat();
    let (resources, diagnostics) = read(&text);
    assert!(!diagnostics.has_errors(), "{:#?}", diagnostics.0);
    let merged = merged_listeners(&resources.gateways[0], &resources);
    let names: Vec<&str> = merged
        .listeners
        .iter()
        .map(|m| m.listener.name.as_str())
        .collect();
    assert_eq!(names, ["main", "z", "y", "a", "b"]);
    assert!(matches!(merged.listeners[0].parent, ListenerParent::Gateway(_)));
    assert!(merged.rejected.is_empty());
}

#[test]
fn a_set_listener_conflicting_with_an_earlier_listener_is_not_served() {
    let text = [
        gateway(ALL),
        // Same port and hostname as the Gateway's listener: HostnameConflict.
        set("teams", "s", None, &[
            "{name: dup, port: 80, protocol: HTTP, hostname: main.example.com, allowedRoutes: {namespaces: {from: All}}}",
            SET_LISTENER,
        ]),
        // The older set wins a conflict between sets.
        set("teams", "newer", Some("2024-01-01T00:00:00Z"), &[
            "{name: x, port: 80, protocol: HTTP, hostname: x.example.com, allowedRoutes: {namespaces: {from: All}}}",
        ]),
        set("teams", "older", Some("2020-01-01T00:00:00Z"), &[
            "{name: x, port: 80, protocol: HTTP, hostname: x.example.com}",
        ]),
        // Same port, other protocol: ProtocolConflict.
        set("teams", "tls", None, &["{name: t, port: 80, protocol: HTTPS, hostname: t.example.com}"]),
        route("teams", "on-dup", "[{kind: ListenerSet, name: s, namespace: teams, sectionName: dup}]"),
        route("teams", "on-l", "[{kind: ListenerSet, name: s, namespace: teams, sectionName: l}]"),
        route("teams", "on-newer", "[{kind: ListenerSet, name: newer, namespace: teams}]"),
        route("infra", "on-main", "[{name: gw}]"),
    ]
    .concat();
    let c = compiled(&text);
    let mut reasons: Vec<(Option<&str>, Option<&str>, &str)> = warnings(&c)
        .iter()
        .map(|w| {
            let reason = ["HostnameConflict", "ProtocolConflict", "NoMatchingParent"]
                .into_iter()
                .find(|r| w.message.contains(r))
                .unwrap_or("?");
            (w.resource.as_deref(), w.field.as_deref(), reason)
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            (
                Some("HTTPRoute teams/on-dup"),
                Some("spec.parentRefs[0]"),
                "NoMatchingParent"
            ),
            (
                Some("HTTPRoute teams/on-newer"),
                Some("spec.parentRefs[0]"),
                "NoMatchingParent"
            ),
            (
                Some("ListenerSet teams/newer"),
                Some("spec.listeners[0]"),
                "HostnameConflict"
            ),
            (
                Some("ListenerSet teams/s"),
                Some("spec.listeners[0]"),
                "HostnameConflict"
            ),
            (
                Some("ListenerSet teams/tls"),
                Some("spec.listeners[0]"),
                "ProtocolConflict"
            ),
        ]
    );
    // The Gateway's listener keeps its routes; the set's other listener works.
    assert_eq!(get(&c, 80, "main.example.com"), 200);
    assert_eq!(get(&c, 80, "set.example.com"), 200);
    // The older set's x listener is served (it has no route, so 404), the newer set's not.
    assert_eq!(get(&c, 80, "x.example.com"), 404);
}

#[test]
fn allowed_routes_same_on_a_set_listener_means_the_sets_namespace() {
    let same = "{name: l, port: 80, protocol: HTTP, hostname: set.example.com}";
    let text = [
        gateway(ALL),
        set("teams", "s", None, &[same]),
        route("infra", "from-gateway-ns", TO_SET),
    ]
    .concat();
    let c = compiled(&text);
    assert_eq!(get(&c, 80, "set.example.com"), 404);
    let w = warnings(&c);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(
        w[0].message.contains("NotAllowedByListeners") && w[0].message.contains("ListenerSet teams/s"),
        "{}",
        w[0]
    );
    let text = [
        gateway(ALL),
        set("teams", "s", None, &[same]),
        route("teams", "from-set-ns", TO_SET),
    ]
    .concat();
    assert_eq!(get(&compiled(&text), 80, "set.example.com"), 200);
}

#[test]
fn a_gateway_parent_ref_reaches_only_the_gateways_own_listeners() {
    let text = [
        gateway(ALL),
        set("teams", "s", None, &[SET_LISTENER]),
        route("infra", "whole-gateway", "[{name: gw}]"),
        route("infra", "set-section", "[{name: gw, sectionName: l}]"),
    ]
    .concat();
    let c = compiled(&text);
    assert_eq!(get(&c, 80, "main.example.com"), 200);
    assert_eq!(get(&c, 80, "set.example.com"), 404);
    let w = warnings(&c);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].resource.as_deref(), Some("HTTPRoute infra/set-section"));
    assert!(w[0].message.contains("NoMatchingParent"), "{}", w[0]);
}

#[test]
fn a_set_parent_ref_selects_by_section_name_and_port() {
    let listeners = [
        "{name: l, port: 80, protocol: HTTP, hostname: set.example.com, allowedRoutes: {namespaces: {from: All}}}",
        "{name: other, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}",
    ];
    let by_port = [
        gateway(ALL),
        set("teams", "s", None, &listeners),
        route(
            "teams",
            "r",
            "[{kind: ListenerSet, name: s, namespace: teams, port: 8080}]",
        ),
    ]
    .concat();
    let c = compiled(&by_port);
    assert_eq!(get(&c, 8080, "anything"), 200);
    assert_eq!(get(&c, 80, "set.example.com"), 404);
    // The set's own names: `main` is the Gateway's listener, not the set's.
    let wrong_section = [
        gateway(ALL),
        set("teams", "s", None, &listeners),
        route(
            "teams",
            "r",
            "[{kind: ListenerSet, name: s, namespace: teams, sectionName: main}]",
        ),
    ]
    .concat();
    let c = compiled(&wrong_section);
    assert_eq!(get(&c, 80, "main.example.com"), 404);
    assert!(warnings(&c)[0].message.contains("NoMatchingParent"));
}

#[test]
fn set_listeners_are_isolated_from_the_gateways() {
    // The Gateway's catch-all listener does not serve the set listener's host.
    let text = [
        gateway(ALL).replace("hostname: main.example.com, ", ""),
        set("teams", "s", None, &[SET_LISTENER]),
        route("infra", "gw", "[{name: gw}]"),
    ]
    .concat();
    let c = compiled(&text);
    assert_eq!(get(&c, 80, "other.example.com"), 200);
    assert_eq!(get(&c, 80, "set.example.com"), 404);
}

#[test]
fn listener_set_is_read_and_validated() {
    let (resources, d) = read(&set("teams", "s", None, &[SET_LISTENER]));
    assert!(!d.has_errors(), "{:#?}", d.0);
    let s = &resources.listener_sets[0];
    assert_eq!(s.parent.kind, "Gateway", "kind defaults to Gateway");
    assert_eq!(s.parent.group, "gateway.networking.k8s.io");
    assert_eq!(s.parent_namespace(), "infra");
    assert_eq!(s.listeners[0].hostname.as_deref(), Some("set.example.com"));

    let errors = |text: &str| -> Vec<Diagnostic> {
        read(text)
            .1
            .0
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect()
    };
    let e = errors(&set("teams", "s", None, &[]));
    assert!(e[0].message.contains("1 to 64 listeners"), "{e:#?}");
    let e = errors(&set("teams", "s", None, &[SET_LISTENER, SET_LISTENER]));
    assert!(e[0].message.contains("used twice"), "{e:#?}");
    let e = errors(&set(
        "teams",
        "s",
        None,
        &[
            "{name: a, port: 80, protocol: HTTP, hostname: h.example.com}",
            "{name: b, port: 80, protocol: HTTP, hostname: h.example.com}",
        ],
    ));
    assert!(
        e[0].message.contains("same port, protocol and hostname"),
        "{e:#?}"
    );
    let e = errors(&set(
        "teams",
        "s",
        None,
        &["{name: a, port: 80, protocol: HTTP, hostname: 'Bad_Host'}"],
    ));
    assert!(e[0].message.contains("not a valid hostname"), "{e:#?}");
}

#[test]
fn gateway_allowed_listeners_are_read() {
    let read_from = |allowed: &str| {
        let (resources, d) = read(&gateway(allowed));
        (resources.gateways.first().map(|g| g.allowed_listeners.clone()), d)
    };
    assert_eq!(read_from("").0, Some(ListenersFrom::None));
    assert_eq!(read_from("  allowedListeners: {}\n").0, Some(ListenersFrom::None));
    assert_eq!(read_from(ALL).0, Some(ListenersFrom::All));
    let (_, d) = read_from("  allowedListeners: {namespaces: {from: Elsewhere}}\n");
    assert!(
        d.0.iter()
            .any(|d| d.severity == Severity::Error && d.message.contains("Elsewhere"))
    );
    let (_, d) = read_from("  allowedListeners: {namespaces: {from: Selector}}\n");
    assert!(
        d.0.iter()
            .any(|d| d.severity == Severity::Error && d.message.contains("required"))
    );
}
