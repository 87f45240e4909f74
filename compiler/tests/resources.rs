//! Reading Gateway API and core resources: validation as the CRDs' schemas and CEL rules
//! would do it, the defaults the API server would fill in, and diagnostics that name the
//! file, line, resource and field.

use switchyard_compiler::diag::{Diagnostic, Diagnostics, Severity};
use switchyard_compiler::input::load_texts;
use switchyard_compiler::resources::gateway_api::{LabelSelector, NamespacesFrom};
use switchyard_compiler::resources::{PathType, Resources, StringMatchType};

const FILE: &str = "m.yaml";

fn read(text: &str) -> (Resources, Diagnostics) {
    let documents =
        load_texts(&[(FILE.to_string(), text.to_string())]).unwrap_or_else(|d| panic!("not YAML: {d:?}"));
    Resources::from_documents(&documents)
}

fn read_ok(text: &str) -> Resources {
    let (resources, diagnostics) = read(text);
    assert!(
        !diagnostics.has_errors(),
        "unexpected errors: {:#?}",
        diagnostics.0
    );
    resources
}

fn errors(text: &str) -> Vec<Diagnostic> {
    let (_, diagnostics) = read(text);
    diagnostics
        .0
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

/// The single error `text` produces.
fn error(text: &str) -> Diagnostic {
    let mut all = errors(text);
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    all.remove(0)
}

fn line_of(text: &str, marker: &str) -> u32 {
    (text
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker:?} not in the text"))
        + 1) as u32
}

/// An HTTPRoute `ns/r` with `rules` (YAML lines indented under `rules:`).
fn route(rules: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: ns}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules:\n{rules}"
    )
}

/// An HTTPRoute with one rule holding one match whose path is `path`.
fn route_with_path(kind: &str, value: &str) -> String {
    route(&format!(
        "  - matches:\n    - path: {{type: {kind}, value: '{value}'}}\n    backendRefs: [{{name: s, port: 80}}]\n"
    ))
}

// ---------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------

#[test]
fn exact_and_prefix_path_values_follow_the_crd_rules() {
    let valid = [
        "/",
        "/a-b_c.d~e",
        "/caf%C3%A9",
        "/a%20b",
        "/a;b=c,d",
        "/user@host:8080",
        "/x!$&()*+",
        "/it's",
        "/trailing/",
        "/.well-known/x",
    ];
    for kind in ["Exact", "PathPrefix"] {
        for value in valid {
            let resources = read_ok(&route_with_path(kind, &value.replace('\'', "''")));
            assert_eq!(resources.http_routes[0].rules[0].matches[0].path.value, value);
        }
    }
    let long = format!("/{}", "a".repeat(1024));
    let invalid = [
        ("abc", "must start with '/'"),
        ("", "must start with '/'"),
        ("/a//b", "'//'"),
        ("/a/./b", "'/./'"),
        ("/a/../b", "'/../'"),
        ("/a%2fb", "'%2f'"),
        ("/a%2Fb", "'%2F'"),
        ("/a#b", "'#'"),
        ("/a/..", "must not end"),
        ("/a/.", "must not end"),
        (long.as_str(), "1024"),
        // The CRD's character pattern ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$
        ("/a?b=1", "%XX"),
        ("/a b", "%XX"),
        ("/[]", "%XX"),
        ("/^", "%XX"),
        ("/caf\u{e9}", "%XX"),
        ("/a%zz", "%XX"),
        ("/a%4", "%XX"),
        ("/a\"b", "%XX"),
    ];
    for kind in ["Exact", "PathPrefix"] {
        for (value, message) in invalid {
            let text = route_with_path(kind, value);
            let d = error(&text);
            assert_eq!(d.location.file, FILE);
            assert_eq!(
                d.location.line,
                line_of(&text, "- path:"),
                "{kind} {value:?}: {d}"
            );
            assert_eq!(d.resource.as_deref(), Some("HTTPRoute ns/r"), "{d}");
            assert_eq!(d.field.as_deref(), Some("spec.rules[0].matches[0].path"), "{d}");
            assert!(d.message.contains(message), "{kind} {value:?}: {d}");
        }
    }
}

#[test]
fn regular_expression_paths_are_checked_as_regexes_not_as_paths() {
    // Characters a literal path may not hold are fine in a regex.
    for pattern in ["/items/[0-9]+", "^/a b$", "/(x|y)?"] {
        let resources = read_ok(&route_with_path("RegularExpression", pattern));
        let path = &resources.http_routes[0].rules[0].matches[0].path;
        assert_eq!(
            (path.kind, path.value.as_str()),
            (PathType::RegularExpression, pattern)
        );
    }
    let d = error(&route_with_path("RegularExpression", "/a("));
    assert!(d.message.contains("invalid regular expression"), "{d}");
    assert_eq!(d.field.as_deref(), Some("spec.rules[0].matches[0].path"));
    let d = error(&route_with_path("Prefix", "/a"));
    assert!(d.message.contains("unsupported path match type"), "{d}");
}

#[test]
fn path_defaults_are_prefix_slash() {
    let text = route(
        "  - backendRefs: [{name: s, port: 80}]\n  - matches:\n    - headers: [{name: x, value: y}]\n    - path: {type: Exact}\n    - path: {value: /p}\n",
    );
    let resources = read_ok(&text);
    let rules = &resources.http_routes[0].rules;
    // A rule without matches gets one PathPrefix / match.
    assert_eq!(rules[0].matches.len(), 1);
    assert_eq!(rules[0].matches[0].path.kind, PathType::PathPrefix);
    assert_eq!(rules[0].matches[0].path.value, "/");
    // A match without a path matches PathPrefix /.
    assert_eq!(rules[1].matches[0].path.kind, PathType::PathPrefix);
    assert_eq!(rules[1].matches[0].path.value, "/");
    // A path without value is "/", without type PathPrefix.
    assert_eq!(rules[1].matches[1].path.kind, PathType::Exact);
    assert_eq!(rules[1].matches[1].path.value, "/");
    assert_eq!(rules[1].matches[2].path.kind, PathType::PathPrefix);
    assert_eq!(rules[1].matches[2].path.value, "/p");
    // A header match's type defaults to Exact.
    assert_eq!(rules[1].matches[0].headers[0].kind, StringMatchType::Exact);
}

#[test]
fn a_route_without_rules_gets_one_catch_all_rule_without_backends() {
    let text = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{name: gw}]\n";
    let resources = read_ok(text);
    let route = &resources.http_routes[0];
    assert_eq!(route.meta.namespace, "default");
    assert_eq!(route.rules.len(), 1);
    assert_eq!(route.rules[0].matches.len(), 1);
    assert_eq!(route.rules[0].matches[0].path.value, "/");
    assert!(route.rules[0].backend_refs.is_empty());
    let parent = &route.parent_refs[0];
    assert_eq!(
        (
            parent.group.as_str(),
            parent.kind.as_str(),
            parent.namespace.as_deref()
        ),
        ("gateway.networking.k8s.io", "Gateway", None)
    );
}

// ---------------------------------------------------------------------------------------
// Headers, query parameters, methods
// ---------------------------------------------------------------------------------------

#[test]
fn header_names_are_tokens_lowercased_and_deduplicated() {
    let text = route(
        "  - matches:\n    - headers:\n      - {name: X-One, value: a}\n      - {name: x-one, value: b}\n      - {name: X-Two, value: c, type: RegularExpression}\n    backendRefs: [{name: s, port: 80}]\n",
    );
    let resources = read_ok(&text);
    let headers = &resources.http_routes[0].rules[0].matches[0].headers;
    let seen: Vec<(&str, &str)> = headers
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_str()))
        .collect();
    assert_eq!(
        seen,
        [("x-one", "a"), ("x-two", "c")],
        "the first of equivalent names counts"
    );
    for bad in ["bad name", "x:y", "\"\""] {
        let text = route(&format!(
            "  - matches:\n    - headers: [{{name: {bad}, value: v}}]\n    backendRefs: [{{name: s, port: 80}}]\n"
        ));
        let d = error(&text);
        assert!(d.message.contains("not a valid header name"), "{bad}: {d}");
        assert_eq!(d.field.as_deref(), Some("spec.rules[0].matches[0].headers[0]"));
    }
    let d = error(&route(
        "  - matches:\n    - headers: [{name: x, value: v, type: Prefix}]\n    backendRefs: [{name: s, port: 80}]\n",
    ));
    assert!(d.message.contains("unsupported match type"), "{d}");
    // An Exact value is not a regex: "(" is a plain character there.
    let resources = read_ok(&route(
        "  - matches:\n    - headers: [{name: x, value: '('}]\n    backendRefs: [{name: s, port: 80}]\n",
    ));
    assert_eq!(resources.http_routes[0].rules[0].matches[0].headers[0].value, "(");
}

#[test]
fn query_param_names_are_case_sensitive_and_the_first_of_equal_names_counts() {
    let text = route(
        "  - matches:\n    - queryParams:\n      - {name: q, value: a}\n      - {name: Q, value: b}\n      - {name: q, value: c}\n    backendRefs: [{name: s, port: 80}]\n",
    );
    let resources = read_ok(&text);
    let query = &resources.http_routes[0].rules[0].matches[0].query_params;
    let seen: Vec<(&str, &str)> = query
        .iter()
        .map(|q| (q.name.as_str(), q.value.as_str()))
        .collect();
    assert_eq!(seen, [("q", "a"), ("Q", "b")]);
    let d = error(&route(
        "  - matches:\n    - queryParams: [{name: q, value: '[', type: RegularExpression}]\n    backendRefs: [{name: s, port: 80}]\n",
    ));
    assert_eq!(
        d.field.as_deref(),
        Some("spec.rules[0].matches[0].queryParams[0]")
    );
    assert!(d.message.contains("invalid regular expression"), "{d}");
}

#[test]
fn methods_are_the_gateway_api_method_names() {
    for method in [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ] {
        let text = route(&format!(
            "  - matches: [{{method: {method}}}]\n    backendRefs: [{{name: s, port: 80}}]\n"
        ));
        assert_eq!(
            read_ok(&text).http_routes[0].rules[0].matches[0]
                .method
                .as_deref(),
            Some(method)
        );
    }
    for method in ["get", "PURGE", "\"\""] {
        let text = route(&format!(
            "  - matches: [{{method: {method}}}]\n    backendRefs: [{{name: s, port: 80}}]\n"
        ));
        let d = error(&text);
        assert_eq!(d.field.as_deref(), Some("spec.rules[0].matches[0].method"), "{d}");
    }
}

// ---------------------------------------------------------------------------------------
// Limits and ranges
// ---------------------------------------------------------------------------------------

#[test]
fn rule_match_and_header_counts_are_limited_as_in_the_crd() {
    let rule = "  - backendRefs: [{name: s, port: 80}]\n";
    read_ok(&route(&rule.repeat(16)));
    assert!(error(&route(&rule.repeat(17))).message.contains("16 rules"));

    let matches = |n: usize| format!("  - matches:\n{}", "    - path: {value: /x}\n".repeat(n));
    read_ok(&route(&matches(64)));
    assert!(error(&route(&matches(65))).message.contains("64 matches"));
    // 128 per route in total: two rules of 64 pass, a third match over fails.
    read_ok(&route(&format!("{}{}", matches(64), matches(64))));
    assert!(
        error(&route(&format!("{}{}{}", matches(64), matches(64), matches(1))))
            .message
            .contains("128 matches")
    );

    let headers = |n: usize| {
        let list: Vec<String> = (0..n).map(|i| format!("{{name: h{i}, value: v}}")).collect();
        route(&format!("  - matches:\n    - headers: [{}]\n", list.join(", ")))
    };
    read_ok(&headers(16));
    assert!(error(&headers(17)).message.contains("16 header"));
}

#[test]
fn backend_weights_and_ports_are_range_checked() {
    let backend = |fields: &str| route(&format!("  - backendRefs:\n    - {{name: s, {fields}}}\n"));
    let ok = read_ok(&backend("port: 80"));
    let b = &ok.http_routes[0].rules[0].backend_refs[0];
    assert_eq!(
        (b.weight, b.kind.as_str(), b.group.as_str(), b.port),
        (1, "Service", "", Some(80))
    );
    read_ok(&backend("port: 65535, weight: 1000000"));
    read_ok(&backend("port: 1, weight: 0"));
    for (fields, field, message) in [
        ("port: 0", "port", "out of range"),
        ("port: 65536", "port", "out of range"),
        ("port: 80, weight: 1000001", "weight", "out of range"),
        ("port: 80, weight: -1", "weight", "out of range"),
        ("port: http", "port", "expected an integer"),
        ("port: 80, weight: 0.5", "weight", "expected an integer"),
    ] {
        let d = error(&backend(fields));
        assert_eq!(
            d.field.as_deref(),
            Some(format!("spec.rules[0].backendRefs[0].{field}").as_str()),
            "{fields}: {d}"
        );
        assert!(d.message.contains(message), "{fields}: {d}");
    }
    // A Service needs a port; another kind does not.
    let d = error(&backend("weight: 1"));
    assert_eq!(d.field.as_deref(), Some("spec.rules[0].backendRefs[0]"));
    read_ok(&backend("kind: Bucket, group: storage.example.com"));
}

// ---------------------------------------------------------------------------------------
// Hostnames
// ---------------------------------------------------------------------------------------

#[test]
fn hostnames_are_lowercase_rfc1123_with_an_optional_leading_wildcard() {
    let with_hostname = |h: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: ns}}\nspec:\n  hostnames: ['{h}']\n"
        )
    };
    for good in [
        "foo.example.com",
        "*.example.com",
        "localhost",
        "a-b.c0m",
        "*.com",
        "x1.y2",
    ] {
        assert_eq!(read_ok(&with_hostname(good)).http_routes[0].hostnames, [good]);
    }
    let long_label = format!("{}.com", "a".repeat(64));
    for bad in [
        "Foo.example.com",
        "*.*.example.com",
        "foo.*.com",
        "*",
        "*example.com",
        "1.2.3.4",
        "::1",
        "-foo.com",
        "foo-.com",
        "foo_bar.com",
        "foo..com",
        "foo.com.",
        long_label.as_str(),
    ] {
        let d = error(&with_hostname(bad));
        assert!(d.message.contains("not a valid hostname"), "{bad}: {d}");
        assert_eq!(d.field.as_deref(), Some("spec.hostnames[0]"), "{bad}");
    }
    // Listener hostnames follow the same rules.
    let gateway = |h: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: ns}}\nspec:\n  gatewayClassName: c\n  listeners:\n  - {{name: l, port: 80, protocol: HTTP, hostname: '{h}'}}\n"
        )
    };
    assert_eq!(
        read_ok(&gateway("*.example.com")).gateways[0].listeners[0]
            .hostname
            .as_deref(),
        Some("*.example.com")
    );
    let d = error(&gateway("EXAMPLE.com"));
    assert_eq!(d.field.as_deref(), Some("spec.listeners[0].hostname"));
}

// ---------------------------------------------------------------------------------------
// Gateways and listeners
// ---------------------------------------------------------------------------------------

const GATEWAY: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: c
  listeners:
";

#[test]
fn listeners_are_read_with_their_allowed_routes() {
    let text = format!(
        "{GATEWAY}  - {{name: a, port: 80, protocol: HTTP}}\n  - name: b\n    port: 8080\n    protocol: HTTPS\n    allowedRoutes:\n      namespaces:\n        from: Selector\n        selector:\n          matchLabels: {{team: x}}\n          matchExpressions: [{{key: env, operator: In, values: [prod]}}]\n      kinds: [{{kind: HTTPRoute}}]\n  - {{name: c, port: 9000, protocol: TCP, allowedRoutes: {{namespaces: {{from: All}}}}}}\n"
    );
    let resources = read_ok(&text);
    let listeners = &resources.gateways[0].listeners;
    assert_eq!(listeners.len(), 3);
    assert_eq!(listeners[0].allowed_routes.from, NamespacesFrom::Same);
    assert!(listeners[0].allowed_routes.kinds.is_empty());
    let NamespacesFrom::Selector(selector) = &listeners[1].allowed_routes.from else {
        panic!("{:?}", listeners[1].allowed_routes.from);
    };
    assert_eq!(selector.match_labels, [("team".to_string(), "x".to_string())]);
    assert_eq!(
        listeners[1].allowed_routes.kinds,
        [("gateway.networking.k8s.io".to_string(), "HTTPRoute".to_string())]
    );
    assert_eq!(listeners[2].allowed_routes.from, NamespacesFrom::All);
    assert_eq!((listeners[2].port, listeners[2].protocol.as_str()), (9000, "TCP"));
}

#[test]
fn listener_errors_name_the_listener_field() {
    let cases = [
        (
            "  - {name: a, port: 80, protocol: HTTP}\n  - {name: a, port: 81, protocol: HTTP}\n",
            "spec.listeners[1]",
            "used twice",
        ),
        ("  - {name: a, protocol: HTTP}\n", "spec.listeners[0]", "port"),
        (
            "  - {name: a, port: 70000, protocol: HTTP}\n",
            "spec.listeners[0].port",
            "out of range",
        ),
        (
            "  - {name: a, port: 80}\n",
            "spec.listeners[0].protocol",
            "required",
        ),
        (
            "  - {port: 80, protocol: HTTP}\n",
            "spec.listeners[0].name",
            "required",
        ),
        (
            "  - {name: a, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Some}}}\n",
            "spec.listeners[0].allowedRoutes.namespaces",
            "Some",
        ),
        (
            "  - {name: a, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector}}}\n",
            "spec.listeners[0].allowedRoutes.namespaces.selector",
            "required",
        ),
        (
            "  - {name: a, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchExpressions: [{key: k, operator: Equals}]}}}}\n",
            "spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[0]",
            "operator",
        ),
        (
            "  - {name: a, port: 80, protocol: HTTP, portt: 1}\n",
            "spec.listeners[0].portt",
            "unknown field",
        ),
    ];
    for (listeners, field, message) in cases {
        let d = error(&format!("{GATEWAY}{listeners}"));
        assert_eq!(d.resource.as_deref(), Some("Gateway ns/gw"), "{d}");
        assert_eq!(d.field.as_deref(), Some(field), "{listeners}: {d}");
        assert!(d.message.contains(message), "{listeners}: {d}");
    }
}

// ---------------------------------------------------------------------------------------
// Label selectors and namespaces
// ---------------------------------------------------------------------------------------

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn expression(key: &str, op: &str, values: &[&str]) -> (String, String, Vec<String>) {
    (
        key.to_string(),
        op.to_string(),
        values.iter().map(|v| v.to_string()).collect(),
    )
}

#[test]
fn label_selectors_follow_kubernetes_semantics() {
    let team_a = labels(&[("team", "a"), ("env", "prod")]);
    let unlabelled = labels(&[]);
    let empty = LabelSelector::default();
    assert!(
        empty.matches(&team_a) && empty.matches(&unlabelled),
        "an empty selector selects everything"
    );

    let by_label = LabelSelector {
        match_labels: labels(&[("team", "a")]),
        match_expressions: vec![],
    };
    assert!(by_label.matches(&team_a));
    assert!(!by_label.matches(&unlabelled));
    assert!(!by_label.matches(&labels(&[("team", "b")])));

    let check = |op: &str, values: &[&str], on: &[(String, String)]| {
        LabelSelector {
            match_labels: vec![],
            match_expressions: vec![expression("team", op, values)],
        }
        .matches(on)
    };
    assert!(check("In", &["a", "b"], &team_a));
    assert!(!check("In", &["b"], &team_a));
    assert!(!check("In", &["a"], &unlabelled), "In needs the label");
    assert!(check("NotIn", &["b"], &team_a));
    assert!(!check("NotIn", &["a"], &team_a));
    assert!(
        check("NotIn", &["a"], &unlabelled),
        "NotIn holds without the label"
    );
    assert!(check("Exists", &[], &team_a));
    assert!(!check("Exists", &[], &unlabelled));
    assert!(check("DoesNotExist", &[], &unlabelled));
    assert!(!check("DoesNotExist", &[], &team_a));

    // Labels and expressions are ANDed.
    let both = LabelSelector {
        match_labels: labels(&[("team", "a")]),
        match_expressions: vec![expression("env", "In", &["dev"])],
    };
    assert!(!both.matches(&team_a));
}

#[test]
fn every_namespace_has_its_metadata_name_label() {
    let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: blue\n  labels: {team: blue}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: own\n  labels: {kubernetes.io/metadata.name: own}\n";
    let resources = read_ok(text);
    let blue = resources.namespace_labels("blue");
    assert!(blue.contains(&("team".to_string(), "blue".to_string())));
    assert!(blue.contains(&("kubernetes.io/metadata.name".to_string(), "blue".to_string())));
    // Not declared at all: only the name label.
    assert_eq!(
        resources.namespace_labels("ghost"),
        labels(&[("kubernetes.io/metadata.name", "ghost")])
    );
    // Declared with the label already: not duplicated.
    assert_eq!(resources.namespace_labels("own").len(), 1);
    // Namespaces are cluster-scoped: a namespace in their metadata is ignored.
    assert_eq!(resources.namespaces[0].meta.key(), "blue");
}

// ---------------------------------------------------------------------------------------
// Kinds, versions, duplicates, object shape
// ---------------------------------------------------------------------------------------

#[test]
fn kinds_that_do_not_route_and_unserved_versions_are_skipped_with_a_note() {
    let text = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: ns}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: ns}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: HTTPRoute
metadata: {name: old, namespace: ns}
spec: {this: is not read}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: g, namespace: ns}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: istio, namespace: ns}
";
    let (resources, diagnostics) = read(text);
    assert!(!diagnostics.has_errors(), "{:#?}", diagnostics.0);
    assert!(resources.gateways.is_empty() && resources.http_routes.is_empty());
    let notes: Vec<(Option<&str>, u32)> = diagnostics
        .0
        .iter()
        .map(|d| {
            assert_eq!(d.severity, Severity::Note, "{d}");
            (d.resource.as_deref(), d.location.line)
        })
        .collect();
    assert_eq!(
        notes,
        [
            (Some("Deployment ns/d"), 1),
            (Some("ConfigMap ns/c"), 5),
            (Some("HTTPRoute ns/old"), 9),
            (Some("TLSRoute ns/g"), 14),
            (Some("Sidecar ns/istio"), 18),
        ]
    );
    assert!(
        diagnostics.0[2].message.contains("not a served version"),
        "{}",
        diagnostics.0[2]
    );
}

#[test]
fn v1beta1_gateway_api_kinds_are_read() {
    let text = "\
apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: c
  listeners: [{name: l, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: {name: r, namespace: ns}
spec: {}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: ns}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: other}]
  to: [{group: '', kind: Service}]
";
    let resources = read_ok(text);
    assert_eq!(
        (
            resources.gateways.len(),
            resources.http_routes.len(),
            resources.reference_grants.len()
        ),
        (1, 1, 1)
    );
    assert_eq!(resources.reference_grants[0].to[0].2, None);
}

#[test]
fn the_same_object_twice_is_an_error_whatever_its_version() {
    let first = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: ns}\nspec: {}\n";
    let second = first.replace("/v1\n", "/v1beta1\n");
    let text = format!("{first}---\n{second}");
    let d = error(&text);
    assert_eq!(d.location.line, 6);
    assert_eq!(d.resource.as_deref(), Some("HTTPRoute ns/r"));
    assert!(d.message.contains("defined twice; first at m.yaml:1"), "{d}");
    // Same name, other kind or other namespace: fine.
    let other_ns = first.replace("namespace: ns", "namespace: ns2");
    let service =
        "apiVersion: v1\nkind: Service\nmetadata: {name: r, namespace: ns}\nspec: {ports: [{port: 80}]}\n";
    read_ok(&format!("{first}---\n{other_ns}---\n{service}"));
}

#[test]
fn documents_that_are_not_objects_are_errors() {
    let d = error("just a string\n");
    assert!(d.message.contains("expected a Kubernetes object"), "{d}");
    let d = error("kind: Service\nmetadata: {name: x}\n");
    assert!(d.message.contains("apiVersion and kind are required"), "{d}");
    let d = error("apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\n");
    assert_eq!(d.field.as_deref(), Some("metadata.name"));
    let d = error("apiVersion: v1\nkind: Service\nmetadata: {name: ''}\n");
    assert_eq!(d.field.as_deref(), Some("metadata.name"));
    let d = error("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n");
    assert_eq!(d.field.as_deref(), Some("spec"), "{d}");
}

#[test]
fn metadata_is_read_with_defaults() {
    let text = "\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r
  labels: {app: web}
  creationTimestamp: 2024-01-02T03:04:05Z
spec: {}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: s
  namespace: apps
  creationTimestamp: null
spec: {}
";
    let resources = read_ok(text);
    let r = &resources.http_routes[1];
    assert_eq!(r.meta.key(), "default/r");
    assert_eq!(r.meta.creation_timestamp.as_deref(), Some("2024-01-02T03:04:05Z"));
    assert_eq!(r.meta.labels, labels(&[("app", "web")]));
    assert_eq!((r.meta.file.as_str(), r.meta.line), (FILE, 1));
    let s = &resources.http_routes[0];
    assert_eq!(s.meta.key(), "apps/s");
    assert_eq!(
        s.meta.creation_timestamp, None,
        "creationTimestamp: null is no timestamp"
    );
    assert_eq!(s.meta.line, 9);
}

#[test]
fn resources_are_sorted_by_namespace_and_name() {
    let route = |ns: &str, name: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{}}\n"
        )
    };
    let text = [route("b", "a"), route("a", "z"), route("a", "b")].join("---\n");
    let keys: Vec<String> = read_ok(&text).http_routes.iter().map(|r| r.meta.key()).collect();
    assert_eq!(keys, ["a/b", "a/z", "b/a"]);
}

// ---------------------------------------------------------------------------------------
// Unknown fields everywhere, with the key's line
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_fields_are_errors_at_the_key() {
    let cases = [
        (route("  - backendRefs: [{name: s, port: 80}]\n  rulez: []\n"), "rulez:", "spec.rulez"),
        (
            route("  - matchez: []\n    backendRefs: [{name: s, port: 80}]\n"),
            "matchez",
            "spec.rules[0].matchez",
        ),
        (
            route("  - matches:\n    - pathh: {value: /}\n"),
            "pathh",
            "spec.rules[0].matches[0].pathh",
        ),
        (
            route("  - matches:\n    - path: {value: /, typ: Exact}\n"),
            "typ:",
            "spec.rules[0].matches[0].path.typ",
        ),
        (
            route("  - backendRefs:\n    - name: s\n      port: 80\n      weigth: 2\n"),
            "weigth",
            "spec.rules[0].backendRefs[0].weigth",
        ),
        (
            route("  - backendRefs: [{name: s, port: 80}]\n")
                .replace("[{name: gw}]", "[{name: gw, sectionname: x}]"),
            "sectionname",
            "spec.parentRefs[0].sectionname",
        ),
        (
            "apiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: ns}\nspec:\n  from: []\n  too: []\n"
                .to_string(),
            "too:",
            "spec.too",
        ),
    ];
    for (text, marker, field) in cases {
        let d = error(&text);
        assert_eq!(d.field.as_deref(), Some(field), "{d}");
        assert_eq!(d.location.line, line_of(&text, marker), "{d}");
        assert_eq!(d.message, "unknown field", "{d}");
        assert!(
            d.to_string().starts_with(&format!("m.yaml:{}:", d.location.line)),
            "{d}"
        );
    }
}

#[test]
fn reference_grant_entries_need_their_fields() {
    let grant = |spec: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant\nmetadata: {{name: g, namespace: ns}}\nspec:\n{spec}"
        )
    };
    let d = error(&grant(
        "  from: [{kind: HTTPRoute, namespace: a}]\n  to: [{kind: Service}]\n",
    ));
    assert_eq!(d.field.as_deref(), Some("spec.from[0].group"));
    let d = error(&grant(
        "  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a}]\n  to: [{group: ''}]\n",
    ));
    assert_eq!(d.field.as_deref(), Some("spec.to[0].kind"));
    let resources = read_ok(&grant(
        "  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a}]\n  to: [{group: '', kind: Service, name: web}]\n",
    ));
    assert_eq!(resources.reference_grants[0].to[0].2.as_deref(), Some("web"));
}

#[test]
fn service_ports_need_a_port_number() {
    let d = error(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: ns}\nspec:\n  ports:\n  - {name: http}\n",
    );
    assert_eq!(d.resource.as_deref(), Some("Service ns/s"));
    assert_eq!(d.field.as_deref(), Some("spec.ports[0]"));
    let resources = read_ok(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: ns}\nspec:\n  type: ClusterIP\n  ports:\n  - {name: http, port: 80, targetPort: 8080, protocol: TCP}\n  - {port: 443}\n",
    );
    let service = &resources.services[0];
    assert!(service.has_port(80) && service.has_port(443));
    assert!(!service.has_port(8080), "a targetPort is not a Service port");
    assert_eq!(service.ports[0].name.as_deref(), Some("http"));
}

#[test]
fn service_entries_are_read_for_their_hosts_ports_and_export() {
    let entry = |spec: &str| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: se, namespace: ns}}\nspec:\n{spec}"
        )
    };
    let resources = read_ok(&entry(
        "  hosts: [API.Example.com, '*.cdn.example.net']\n  ports: [{number: 443, name: https, protocol: TLS}]\n  location: MESH_EXTERNAL\n  resolution: DNS\n  exportTo: ['.']\n",
    ));
    let se = &resources.service_entries[0];
    assert_eq!(se.hosts, ["api.example.com", "*.cdn.example.net"]);
    assert_eq!(se.ports.len(), 1);
    assert_eq!((se.ports[0].number, se.ports[0].protocol.as_str()), (443, "TLS"));
    assert!(!se.ports[0].carries_http());
    assert_eq!(se.export_to, ["."]);
    assert!(se.declares("api.example.com", "cluster.local"));
    assert!(se.declares("eu.cdn.example.net", "cluster.local"));
    assert!(!se.declares("cdn.example.net", "cluster.local"));

    let no_hosts = error(&entry("  ports: [{number: 443, name: https}]\n"));
    assert!(no_hosts.message.contains("needs `hosts`"), "{no_hosts}");
    let no_number = error(&entry("  hosts: [a.example]\n  ports: [{name: https}]\n"));
    assert!(no_number.message.contains("needs `number`"), "{no_number}");
    let unknown = error(&entry("  hosts: [a.example]\n  hostz: [b]\n"));
    assert!(unknown.to_string().contains("hostz"), "{unknown}");
}
