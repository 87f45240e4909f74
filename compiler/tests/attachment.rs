//! Attaching routes to listeners, resolving backends and the warnings the compiler gives
//! about both (the reasons a controller would put in `Accepted`/`ResolvedRefs` status).

use switchyard_compiler::compile::{CompileOptions, Compiled, Target, compile};
use switchyard_compiler::diag::{Diagnostic, Severity};
use switchyard_compiler::gateway_api::attach::attach;
use switchyard_compiler::gateway_api::backends::ClusterNaming;
use switchyard_compiler::input::load_texts;
use switchyard_compiler::resources::Resources;

const GATEWAY: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: c
  listeners:
  - {name: tcp, port: 9000, protocol: TCP}
  - {name: web, port: 80, protocol: HTTP, hostname: '*.example.com'}
  - {name: alt, port: 8080, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ns}
spec:
  ports: [{port: 80}]
";

fn route(name: &str, namespace: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{spec}"
    )
}

fn resources(text: &str) -> Resources {
    let documents = load_texts(&[("m.yaml".to_string(), text.to_string())]).unwrap();
    let (resources, diagnostics) = Resources::from_documents(&documents);
    assert!(!diagnostics.has_errors(), "{:#?}", diagnostics.0);
    resources
}

fn compiled(text: &str) -> Compiled {
    let documents = load_texts(&[("m.yaml".to_string(), text.to_string())]).unwrap();
    compile(&documents, &CompileOptions::default()).unwrap_or_else(|d| panic!("{:#?}", d.0))
}

fn warnings(compiled: &Compiled) -> Vec<&Diagnostic> {
    compiled
        .diagnostics
        .0
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect()
}

#[test]
fn each_refused_parent_ref_gets_its_reason() {
    let backend = "  rules: [{backendRefs: [{name: svc, port: 80}]}]\n";
    let text = [
        GATEWAY.to_string(),
        route("ok", "ns", &format!("  parentRefs: [{{name: gw}}]\n{backend}")),
        route(
            "no-section",
            "ns",
            &format!("  parentRefs: [{{name: gw, sectionName: nope}}]\n{backend}"),
        ),
        route(
            "no-port",
            "ns",
            &format!("  parentRefs: [{{name: gw, port: 1234}}]\n{backend}"),
        ),
        route(
            "tcp-only",
            "ns",
            &format!("  parentRefs: [{{name: gw, sectionName: tcp}}]\n{backend}"),
        ),
        route(
            "other-ns",
            "elsewhere",
            &format!("  parentRefs: [{{name: gw, namespace: ns}}]\n{backend}"),
        ),
        route(
            "no-host",
            "ns",
            &format!("  parentRefs: [{{name: gw, sectionName: web}}]\n  hostnames: [example.org]\n{backend}"),
        ),
        // Not naming this Gateway: neither attached nor refused.
        route(
            "other-gw",
            "ns",
            &format!("  parentRefs: [{{name: gw2}}]\n{backend}"),
        ),
        route(
            "mesh",
            "ns",
            &format!("  parentRefs: [{{kind: Service, group: '', name: gw}}]\n{backend}"),
        ),
        route(
            "wrong-group",
            "ns",
            &format!("  parentRefs: [{{group: example.com, name: gw}}]\n{backend}"),
        ),
    ]
    .concat();
    let resources = resources(&text);
    let (attachments, rejections) = attach(&resources.gateways[0], &resources);
    let attached: Vec<(String, &str)> = attachments
        .iter()
        .map(|a| (a.route.meta.name.clone(), a.listener.name.as_str()))
        .collect();
    assert_eq!(
        attached,
        [("ok".to_string(), "web"), ("ok".to_string(), "alt")],
        "the TCP listener takes no HTTPRoute"
    );
    let refused: Vec<(String, usize, &str)> = rejections
        .iter()
        .map(|r| (r.route.clone(), r.parent_ref, r.reason))
        .collect();
    assert_eq!(
        refused,
        [
            ("elsewhere/other-ns".to_string(), 0, "NotAllowedByListeners"),
            ("ns/no-host".to_string(), 0, "NoMatchingListenerHostname"),
            ("ns/no-port".to_string(), 0, "NoMatchingParent"),
            ("ns/no-section".to_string(), 0, "NoMatchingParent"),
            ("ns/tcp-only".to_string(), 0, "NotAllowedByListeners"),
        ]
    );
    // The effective hostnames: the listener's where the route has none.
    let ok_web = &attachments[0];
    assert_eq!(ok_web.hostnames, [Some("*.example.com".to_string())]);
    assert_eq!(attachments[1].hostnames, [None]);
}

#[test]
fn compile_warns_about_each_refused_parent_ref_with_its_field() {
    let text = [
        GATEWAY.to_string(),
        route(
            "half",
            "ns",
            "  parentRefs:\n  - {name: gw, sectionName: alt}\n  - {name: gw, sectionName: nope}\n  rules: [{backendRefs: [{name: svc, port: 80}]}]\n",
        ),
    ]
    .concat();
    let compiled = compiled(&text);
    let warnings = warnings(&compiled);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = warnings[0];
    assert_eq!(w.resource.as_deref(), Some("HTTPRoute ns/half"));
    assert_eq!(w.field.as_deref(), Some("spec.parentRefs[1]"));
    assert!(
        w.message.contains("NoMatchingParent") && w.message.contains("ns/gw"),
        "{w}"
    );
    // Located at the route (its first line), the field naming the parentRef.
    assert_eq!((w.location.file.as_str(), w.location.line), ("m.yaml", 17));
    // The parentRef that did attach serves requests.
    assert_eq!(compiled.ir.listeners.len(), 2);
    let alt = compiled.ir.listeners.iter().find(|l| l.port == 8080).unwrap();
    assert_eq!(alt.vhosts[0].entries.len(), 1);
}

#[test]
fn compile_warns_once_per_unresolved_backend_with_its_reason() {
    let text = [
        GATEWAY.to_string(),
        route(
            "backends",
            "ns",
            "  parentRefs: [{name: gw}]\n  rules:\n  - backendRefs:\n    - {name: svc, port: 80}\n    - {name: svc, port: 81}\n    - {name: ghost, port: 80}\n    - {name: svc, namespace: other, port: 80}\n    - {name: bucket, kind: Bucket, group: storage.example.com}\n",
        ),
    ]
    .concat();
    let compiled = compiled(&text);
    let reasons: Vec<(Option<&str>, bool)> = warnings(&compiled)
        .iter()
        .map(|w| (w.field.as_deref(), w.message.contains("answered 500")))
        .collect();
    // Attached to two listeners, yet each backend is reported once.
    assert_eq!(
        reasons,
        [
            (Some("spec.rules[0].backendRefs[1]"), true),
            (Some("spec.rules[0].backendRefs[2]"), true),
            (Some("spec.rules[0].backendRefs[3]"), true),
            (Some("spec.rules[0].backendRefs[4]"), true),
        ]
    );
    let messages: Vec<&str> = warnings(&compiled).iter().map(|w| w.message.as_str()).collect();
    assert!(messages[0].contains("BackendNotFound"), "{messages:?}");
    assert!(messages[1].contains("BackendNotFound"), "{messages:?}");
    assert!(messages[2].contains("RefNotPermitted"), "{messages:?}");
    assert!(messages[3].contains("InvalidKind"), "{messages:?}");
}

#[test]
fn two_parent_refs_to_one_listener_give_one_entry() {
    let text = [
        GATEWAY.to_string(),
        route(
            "twice",
            "ns",
            "  parentRefs:\n  - {name: gw, sectionName: alt}\n  - {name: gw, port: 8080}\n  rules: [{backendRefs: [{name: svc, port: 80}]}]\n",
        ),
    ]
    .concat();
    let compiled = compiled(&text);
    assert!(warnings(&compiled).is_empty());
    let alt = compiled.ir.listeners.iter().find(|l| l.port == 8080).unwrap();
    assert_eq!(alt.vhosts.len(), 1);
    assert_eq!(alt.vhosts[0].entries.len(), 1);
}

#[test]
fn the_default_request_port_is_the_first_http_listener() {
    let compiled = compiled(GATEWAY);
    assert_eq!(
        compiled.default_port, 80,
        "the TCP listener listed first is skipped"
    );
    // Every HTTP listener port is in the program, even without routes; TCP ones are not.
    let ports: Vec<u32> = compiled.ir.listeners.iter().map(|l| l.port).collect();
    assert_eq!(ports, [80, 8080]);
    assert_eq!(compiled.ir.target, "gateway ns/gw");
}

#[test]
fn compile_options_reach_the_program() {
    let documents = load_texts(&[("m.yaml".to_string(), GATEWAY.to_string())]).unwrap();
    let options = CompileOptions {
        target: Target::Gateway(Some("ns/gw".into())),
        routing_header: "X-Chosen-Cluster".into(),
        ..CompileOptions::default()
    };
    let compiled = compile(&documents, &options).unwrap();
    assert_eq!(compiled.ir.routing_header, "x-chosen-cluster");
    // A template missing a placeholder fails the compilation with a command-line error.
    let options = CompileOptions {
        cluster_template: Some("{name}.{namespace}".into()),
        ..CompileOptions::default()
    };
    let errors = compile(&documents, &options).unwrap_err();
    let error = errors.0.iter().find(|d| d.severity == Severity::Error).unwrap();
    assert_eq!(error.location.file, "<command line>");
    assert!(error.message.contains("{port}"), "{error}");
}

#[test]
fn cluster_name_templates() {
    let naming = ClusterNaming {
        template: "outbound|{port}||{name}.{namespace}.svc.{domain}".into(),
        cluster_domain: "cluster.local".into(),
    };
    assert_eq!(
        naming.name("ns", "web", 8080),
        "outbound|8080||web.ns.svc.cluster.local"
    );
    let naming = ClusterNaming {
        template: "{domain}/{namespace}/{name}/{port}/{port}".into(),
        cluster_domain: "corp".into(),
    };
    assert_eq!(naming.name("a", "b", 1), "corp/a/b/1/1");
    assert!(ClusterNaming::validate_template("{namespace}-{name}-{port}").is_ok());
    assert!(ClusterNaming::validate_template("{namespace}.{name}:{port}@{domain}").is_ok());
    for (bad, needle) in [
        ("{namespace}-{name}", "{port}"),
        ("{name}-{port}", "{namespace}"),
        ("{namespace}-{port}", "{name}"),
        ("{namespace}-{name}-{port}-{zone}", "unknown placeholder"),
        ("{namespace}-{name}-{port}}", "unknown placeholder"),
        ("{{namespace}-{name}-{port}", "unknown placeholder"),
    ] {
        let message = ClusterNaming::validate_template(bad).unwrap_err();
        assert!(message.contains(needle), "{bad}: {message}");
    }
}
