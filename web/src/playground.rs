//! The playground's logic in plain Rust, JSON in and JSON out, so it is tested natively
//! (`cargo test -p switchyard-web`) and wrapped for JavaScript in `lib.rs`.
//!
//! Requests run through [`NativeEngine`], the engine behind `switchyard test --engine
//! native`, so the decisions shown are those of the CLI; the decision's rule and plan
//! details come from the same `Program::evaluate` and `Program::plan` calls, with the same
//! random draw.

use serde_json::{Value, json};
use switchyard_bytecode::{HeaderEdit, HeaderOp, Outcome, Program, Request, Scratch};
use switchyard_compiler::compile::{CompileOptions, Target, compile};
use switchyard_compiler::diag::{Diagnostic, Diagnostics, Severity};
use switchyard_compiler::input::{Document, Node, load_texts};
use switchyard_compiler::resources::Resources;
use switchyard_compiler::routetest::engine::{Engine, NativeEngine, Observed, SentRequest};
use switchyard_compiler::routetest::file::{Expect, TestTarget, parse_test_file};

/// The file name diagnostics give the editor's text.
pub const MANIFEST_FILE: &str = "manifests.yaml";

/// The seed a request draws its random number from when it names none (weighted
/// backends then pick the same way on every run).
pub const DEFAULT_SEED: u64 = 1;

/// The last successful compilation, kept for [`Playground::evaluate`].
#[derive(Debug)]
struct Loaded {
    bytes: Vec<u8>,
    program: Program,
    default_port: u32,
    documents: Vec<Document>,
}

/// Compiles manifests and evaluates requests against the last program compiled.
#[derive(Debug, Default)]
pub struct Playground {
    loaded: Option<Loaded>,
}

/// The proxies the inputs can be compiled for.
#[derive(Debug, Default)]
struct Targets {
    gateways: Vec<String>,
    istio_gateways: Vec<String>,
    mesh_namespaces: Vec<String>,
}

impl Targets {
    fn of(resources: &Resources) -> Targets {
        let gateways = resources.gateways.iter().map(|g| g.meta.key()).collect();
        let istio_gateways = resources.istio_gateways.iter().map(|g| g.meta.key()).collect();
        let mut namespaces: Vec<String> = resources
            .namespaces
            .iter()
            .map(|n| n.meta.name.clone())
            .chain(resources.http_routes.iter().map(|r| r.meta.namespace.clone()))
            .chain(resources.grpc_routes.iter().map(|r| r.meta.namespace.clone()))
            .chain(resources.services.iter().map(|s| s.meta.namespace.clone()))
            .chain(
                resources
                    .virtual_services
                    .iter()
                    .map(|v| v.meta.namespace.clone()),
            )
            .filter(|n| !n.is_empty())
            .collect();
        namespaces.sort();
        namespaces.dedup();
        Targets {
            gateways,
            istio_gateways,
            mesh_namespaces: namespaces,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "gateways": self.gateways,
            "istioGateways": self.istio_gateways,
            "meshNamespaces": self.mesh_namespaces,
        })
    }

    /// The target to use when the caller names none: the first Gateway, else the first
    /// Istio Gateway, else the mesh of the first namespace.
    fn default_target(&self) -> Target {
        if let Some(first) = self.gateways.first() {
            Target::Gateway(Some(first.clone()))
        } else if let Some(first) = self.istio_gateways.first() {
            Target::IstioGateway(first.clone())
        } else {
            Target::Mesh(
                self.mesh_namespaces
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "default".to_string()),
            )
        }
    }
}

/// `{"gateway": "ns/name"}`, `{"istioGateway": "ns/name"}`, `{"mesh": "ns"}`, or
/// `{"kind": "gateway"|"istioGateway"|"mesh", "name": ...}`; null or `{}` for the default.
fn parse_target(value: &Value) -> Result<Option<Target>, String> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    if value.is_null() {
        return Ok(None);
    }
    if let Some(s) = value.as_str() {
        // "gateway:infra/web", "istio:ns/name", "mesh:ns"
        let parsed = match s.split_once(':') {
            Some(("gateway", name)) => Target::Gateway(Some(name.to_string())),
            Some(("istioGateway" | "istio", name)) => Target::IstioGateway(name.to_string()),
            Some(("mesh", ns)) => Target::Mesh(ns.to_string()),
            _ if s.is_empty() => return Ok(None),
            _ => {
                return Err(format!(
                    "target {s:?}: expected gateway:NS/NAME, istio:NS/NAME or mesh:NS"
                ));
            }
        };
        return Ok(Some(parsed));
    }
    let Some(map) = value.as_object() else {
        return Err("target: expected an object such as {\"gateway\": \"infra/web\"}".to_string());
    };
    if let Some(name) = map.get("gateway").and_then(text) {
        return Ok(Some(Target::Gateway(Some(name))));
    }
    if let Some(name) = map.get("istioGateway").and_then(text) {
        return Ok(Some(Target::IstioGateway(name)));
    }
    if let Some(ns) = map.get("mesh").and_then(text) {
        return Ok(Some(Target::Mesh(ns)));
    }
    match (
        map.get("kind").and_then(Value::as_str),
        map.get("name").and_then(text),
    ) {
        (Some("gateway"), name) => Ok(Some(Target::Gateway(name))),
        (Some("istioGateway"), Some(name)) => Ok(Some(Target::IstioGateway(name))),
        (Some("mesh"), Some(ns)) => Ok(Some(Target::Mesh(ns))),
        (None, None) if map.is_empty() => Ok(None),
        _ => Err(format!("target {value}: expected gateway, istioGateway or mesh")),
    }
}

fn target_json(target: &Target) -> Value {
    match target {
        Target::Gateway(name) => json!({"kind": "gateway", "name": name}),
        Target::IstioGateway(name) => json!({"kind": "istioGateway", "name": name}),
        Target::Mesh(ns) => json!({"kind": "mesh", "name": ns}),
    }
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Note => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

fn diagnostic_json(d: &Diagnostic) -> Value {
    json!({
        "severity": severity_name(d.severity),
        "file": d.location.file,
        "line": d.location.line,
        "column": d.location.column,
        "resource": d.resource,
        "field": d.field,
        "message": d.message,
        "text": d.to_string(),
    })
}

fn diagnostics_json(diagnostics: &Diagnostics) -> Vec<Value> {
    diagnostics.0.iter().map(diagnostic_json).collect()
}

impl Playground {
    pub fn new() -> Self {
        Self::default()
    }

    /// Compiles `yaml` for `target` (see [`parse_target`]). On success the program is
    /// kept for [`Playground::evaluate`]; on failure the previous one is dropped.
    pub fn compile(&mut self, yaml: &str, target: &Value) -> Value {
        self.loaded = None;
        let fail = |diagnostics: Vec<Value>, targets: &Targets, target: Option<&Target>| {
            json!({
                "ok": false,
                "size": 0,
                "diagnostics": diagnostics,
                "listing": "",
                "targets": targets.to_json(),
                "target": target.map(target_json),
                "defaultPort": null,
            })
        };
        let documents = match load_texts(&[(MANIFEST_FILE.to_string(), yaml.to_string())]) {
            Ok(documents) => documents,
            Err(diagnostics) => return fail(diagnostics_json(&diagnostics), &Targets::default(), None),
        };
        let (resources, read_diagnostics) = Resources::from_documents(&documents);
        let targets = Targets::of(&resources);
        if read_diagnostics.has_errors() {
            return fail(diagnostics_json(&read_diagnostics), &targets, None);
        }
        let target = match parse_target(target) {
            Ok(Some(target)) => target,
            Ok(None) => targets.default_target(),
            Err(message) => {
                let d = json!({
                    "severity": "error", "file": "<target>", "line": 0, "column": 0,
                    "resource": null, "field": null, "message": message, "text": message,
                });
                return fail(vec![d], &targets, None);
            }
        };
        let options = CompileOptions {
            target: target.clone(),
            ..CompileOptions::default()
        };
        let compiled = match compile(&documents, &options) {
            Ok(compiled) => compiled,
            Err(diagnostics) => return fail(diagnostics_json(&diagnostics), &targets, Some(&target)),
        };
        let program = match Program::from_bytes(&compiled.bytes) {
            Ok(program) => program,
            Err(e) => {
                let message = format!("the compiled program does not load: {e}");
                let d = json!({
                    "severity": "error", "file": MANIFEST_FILE, "line": 0, "column": 0,
                    "resource": null, "field": null, "message": message, "text": message,
                });
                return fail(vec![d], &targets, Some(&target));
            }
        };
        let result = json!({
            "ok": true,
            "size": compiled.bytes.len(),
            "diagnostics": diagnostics_json(&compiled.diagnostics),
            "listing": program.listing(),
            "targets": targets.to_json(),
            "target": target_json(&target),
            "defaultPort": compiled.default_port,
            "routingHeader": program.routing_header(),
            "ports": program.listener_ports().collect::<Vec<_>>(),
        });
        self.loaded = Some(Loaded {
            bytes: compiled.bytes,
            program,
            default_port: compiled.default_port,
            documents,
        });
        result
    }

    /// The bytecode of the last successful compilation.
    pub fn bytecode(&self) -> Option<&[u8]> {
        self.loaded.as_ref().map(|l| l.bytes.as_slice())
    }

    /// Evaluates one request against the last program compiled. The request:
    /// `{method, scheme, host, port, path, headers, sni, seed}`, every field optional
    /// (GET, http, the target's first port, `/`, no TLS); `headers` an object or a list
    /// of `[name, value]` pairs; `sni` the TLS server name.
    pub fn evaluate(&self, request: &Value) -> Value {
        let Some(loaded) = &self.loaded else {
            return json!({"ok": false, "error": "nothing compiled: compile the manifests first"});
        };
        match evaluate(loaded, request) {
            Ok(decision) => decision,
            Err(message) => json!({"ok": false, "error": message}),
        }
    }

    /// Parses a route test file (`shared/spec/route-tests.md`) and returns its target and
    /// cases, for running them in the page.
    pub fn parse_tests(text: &str) -> Value {
        match parse_test_file("test.yaml", text) {
            Ok(file) => {
                let target = match &file.target {
                    TestTarget::Gateway(name) => json!({"kind": "gateway", "name": name}),
                    TestTarget::IstioGateway(name) => json!({"kind": "istioGateway", "name": name}),
                    TestTarget::Mesh { namespace } => json!({"kind": "mesh", "name": namespace}),
                };
                let cases: Vec<Value> = file
                    .cases
                    .iter()
                    .map(|c| {
                        json!({
                            "name": c.name,
                            "line": c.line,
                            "repeat": c.repeat,
                            "request": {
                                "method": c.request.method,
                                "scheme": c.request.scheme,
                                "port": c.request.port,
                                "host": c.request.host,
                                "path": c.request.path,
                                "headers": c.request.headers,
                                "sni": c.request.sni,
                            },
                            "expect": expect_json(&c.expect),
                        })
                    })
                    .collect();
                json!({"ok": true, "target": target, "cases": cases})
            }
            Err(d) => json!({"ok": false, "diagnostics": [diagnostic_json(&d)]}),
        }
    }
}

/// A case's expectations; `backend` is absent when the case does not check it and null
/// when nothing may be forwarded.
fn expect_json(expect: &Expect) -> Value {
    let mut value = json!({
        "status": expect.status,
        "cluster": expect.cluster,
        "weighted": expect.backends.is_some(),
    });
    if let (Some(backend), Some(map)) = (&expect.backend, value.as_object_mut()) {
        map.insert("backend".to_string(), json!(backend));
    }
    value
}

fn headers_of(value: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    let mut headers = Vec::new();
    match value {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, v) in map {
                let v = v
                    .as_str()
                    .ok_or_else(|| format!("header {name}: expected a string"))?;
                headers.push((name.to_ascii_lowercase(), v.to_string()));
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                let pair = item
                    .as_array()
                    .filter(|p| p.len() == 2)
                    .and_then(|p| Some((p[0].as_str()?, p[1].as_str()?)))
                    .ok_or_else(|| format!("header {item}: expected [name, value]"))?;
                headers.push((pair.0.to_ascii_lowercase(), pair.1.to_string()));
            }
        }
        Some(other) => return Err(format!("headers: expected an object or a list, found {other}")),
    }
    Ok(headers)
}

/// The request as the client sends it, with the defaults of a route test file (the same
/// rules as `switchyard test`: no host means the proxy is called by IP address).
fn sent_request(request: &Value, default_port: u32) -> Result<(SentRequest, u64), String> {
    let field = |name: &str| request.get(name).filter(|v| !v.is_null());
    let string = |name: &str, default: &str| -> Result<String, String> {
        match field(name) {
            None => Ok(default.to_string()),
            Some(v) => v
                .as_str()
                .map(|s| {
                    if s.is_empty() {
                        default.to_string()
                    } else {
                        s.to_string()
                    }
                })
                .ok_or_else(|| format!("{name}: expected a string")),
        }
    };
    let scheme = string("scheme", "http")?;
    let port = match field("port") {
        None => default_port,
        Some(Value::String(s)) if s.is_empty() => default_port,
        Some(Value::String(s)) => s.parse().map_err(|_| format!("port {s:?}: expected a number"))?,
        Some(v) => v
            .as_u64()
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| format!("port {v}: expected a number"))?,
    };
    let default_scheme_port = if scheme == "https" { 443 } else { 80 };
    let host = string("host", "")?;
    let authority = if !host.is_empty() {
        host
    } else if port == default_scheme_port {
        "127.0.0.1".to_string()
    } else {
        format!("127.0.0.1:{port}")
    };
    let seed = match field("seed") {
        None => DEFAULT_SEED,
        Some(v) => v.as_u64().ok_or_else(|| format!("seed {v}: expected a number"))?,
    };
    let sent = SentRequest {
        port,
        method: string("method", "GET")?.to_ascii_uppercase(),
        scheme,
        authority,
        path: string("path", "/")?,
        headers: headers_of(request.get("headers"))?,
        // The TLS server name, for programs that check misdirected requests.
        sni: Some(string("sni", "")?).filter(|s| !s.is_empty()),
    };
    Ok((sent, seed))
}

/// The first number [`NativeEngine`] draws for `seed` (xorshift64*, as in the engine), so
/// that the decision's details come from the same draw as its outcome.
fn first_draw(seed: u64) -> u64 {
    let mut x = seed | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

fn header_ops_json(ops: &[HeaderOp<'_>]) -> Vec<Value> {
    ops.iter()
        .map(|op| {
            let edit = match op.edit {
                HeaderEdit::Set => "set",
                HeaderEdit::Add => "add",
                HeaderEdit::Remove => "remove",
            };
            json!({"edit": edit, "name": op.name, "value": op.value})
        })
        .collect()
}

fn pairs_json(pairs: &[(String, String)]) -> Vec<Value> {
    pairs.iter().map(|(n, v)| json!([n, v])).collect()
}

fn evaluate(loaded: &Loaded, request: &Value) -> Result<Value, String> {
    let (sent, seed) = sent_request(request, loaded.default_port)?;
    // The path as Envoy's connection manager hands it on (normalised), for the details
    // below as for the engine's outcome.
    let sent = sent
        .as_proxy_sees_it()
        .ok_or_else(|| format!("path {:?}: Envoy refuses it with 400", sent.path))?
        .into_owned();
    // The outcome, exactly as `switchyard test --engine native` sees it.
    let mut engine = NativeEngine::new(&loaded.bytes, seed)?;
    let observed: Observed = engine.send(&sent)?;
    // Which rule decided, and the plan's details, from the same draw.
    let program = &loaded.program;
    let view = Request {
        port: sent.port,
        authority: &sent.authority,
        method: &sent.method,
        path: &sent.path,
        scheme: &sent.scheme,
        headers: (&sent.headers).into(),
        random: first_draw(seed),
        sni: sent.sni.as_deref(),
    };
    let mut scratch = Scratch::new();
    let decision = program.evaluate(&view, &mut scratch);
    let plan = program.plan(&decision, &view);
    let listing = program.listing();
    let rule = decision.entry.map(|entry| {
        let source = program.source(entry);
        let lines = rule_lines(
            &loaded.documents,
            source.kind.as_str(),
            source.namespace,
            source.name,
            source.rule as usize,
            source.match_index as usize,
        );
        let prefix = format!("{entry}  ");
        let listing_line = listing.lines().position(|l| l.trim_start().starts_with(&prefix));
        let why = listing_line
            .and_then(|i| listing.lines().nth(i))
            .and_then(|l| l.trim_start().strip_prefix(&prefix))
            .map(|l| l.split("  =>  ").next().unwrap_or(l).trim().to_string());
        json!({
            "entry": entry,
            "kind": source.kind.as_str(),
            "namespace": source.namespace,
            "name": source.name,
            "rule": source.rule,
            "match": source.match_index,
            "text": source.to_string(),
            "lines": lines.map(|(rule, _)| json!({"start": rule.0, "end": rule.1})),
            "matchLines": lines.and_then(|(_, m)| m).map(|m| json!({"start": m.0, "end": m.1})),
            "listingLine": listing_line.map(|i| i + 1),
            "why": why,
        })
    });
    let outcome = match decision.outcome {
        Outcome::Forward { .. } => "forward",
        Outcome::Reply { .. } => "reply",
        Outcome::Redirect { .. } => "redirect",
        // A sidecar's unknown host: the proxy's own routes take it.
        Outcome::Pass => "pass",
    };
    let reason = match (decision.entry, program.listener_ports().any(|p| p == sent.port)) {
        (Some(_), _) => None,
        (None, false) => Some(format!("no listener on port {}", sent.port)),
        (None, true) if decision.vhost.is_none() => Some(format!(
            "no virtual host on port {} serves {}",
            sent.port,
            switchyard_bytecode::eval::normalize_host(&sent.authority)
        )),
        (None, true) => Some("no rule of the matching virtual host matches".to_string()),
    };
    let backend = observed
        .backend
        .as_ref()
        .map(|b| json!({"name": b.name, "port": b.port, "cluster": b.cluster}));
    let upstream = observed.upstream.as_ref().map(|u| {
        json!({
            "method": u.method,
            "host": u.authority,
            "path": u.path,
            "headers": pairs_json(&u.headers),
        })
    });
    let location = observed
        .response_headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.clone());
    let reply = plan
        .reply
        .as_ref()
        .map(|r| json!({"status": r.status, "body": r.body}));
    Ok(json!({
        "ok": true,
        "request": {
            "method": sent.method,
            "scheme": sent.scheme,
            "host": sent.authority,
            "port": sent.port,
            "path": sent.path,
            "headers": pairs_json(&sent.headers),
            "sni": sent.sni,
        },
        "status": observed.status,
        "outcome": outcome,
        "backend": backend,
        "cluster": plan.cluster,
        "upstream": upstream,
        "rewrites": {
            "host": plan.authority,
            "path": plan.path,
        },
        "requestHeaderEdits": header_ops_json(&plan.request_headers),
        "responseHeaderEdits": header_ops_json(&plan.response_headers),
        "responseHeaders": pairs_json(&observed.response_headers),
        "reply": reply,
        "location": location,
        "mirrors": observed.mirrors,
        "timeoutMs": plan.request_timeout_ms,
        "vhost": decision.vhost,
        "rule": rule,
        "reason": reason,
        "seed": seed,
    }))
}

/// Line span (first, last) of a node and everything under it.
fn span(node: &Node) -> (u32, u32) {
    fn last(node: &Node) -> u32 {
        use switchyard_compiler::input::Value as Y;
        match &node.value {
            Y::Seq(items) => items.iter().map(last).max().unwrap_or(node.line).max(node.line),
            Y::Map(entries) => entries
                .iter()
                .map(|(k, v)| last(v).max(k.line))
                .max()
                .unwrap_or(node.line)
                .max(node.line),
            _ => node.line,
        }
    }
    (node.line, last(node))
}

/// The lines of rule `rule` (and of its match `match_index`) of the resource `kind
/// namespace/name` in the editor's text.
#[allow(clippy::type_complexity)]
fn rule_lines(
    documents: &[Document],
    kind: &str,
    namespace: &str,
    name: &str,
    rule: usize,
    match_index: usize,
) -> Option<((u32, u32), Option<(u32, u32)>)> {
    let document = documents.iter().find(|d| {
        let node = &d.node;
        let meta = node.get("metadata");
        let field = |key: &str| meta.and_then(|m| m.get(key)).and_then(Node::as_str);
        node.get("kind").and_then(Node::as_str) == Some(kind)
            && field("name") == Some(name)
            && field("namespace").unwrap_or("default") == namespace
    })?;
    let spec = document.node.get("spec")?;
    let (rules_key, matches_key) = if kind == "VirtualService" {
        ("http", "match")
    } else {
        ("rules", "matches")
    };
    let rule_node = spec.get(rules_key)?.as_seq()?.get(rule)?;
    let match_span = rule_node
        .get(matches_key)
        .and_then(Node::as_seq)
        .and_then(|m| m.get(match_index))
        .map(span);
    // A rule written as a flow mapping or a block item: from its first key to its last
    // line. The `- ` of a block item is on the first key's line.
    Some((span(rule_node), match_span))
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICKSTART: &str = include_str!("../../examples/quickstart/manifests.yaml");

    #[test]
    fn compiles_the_quickstart_and_lists_targets() {
        let mut p = Playground::new();
        let r = p.compile(QUICKSTART, &Value::Null);
        assert_eq!(r["ok"], true, "{r}");
        assert!(r["size"].as_u64().unwrap() > 100);
        assert_eq!(r["targets"]["gateways"], json!(["infra/web"]));
        assert_eq!(r["target"], json!({"kind": "gateway", "name": "infra/web"}));
        assert!(
            r["listing"]
                .as_str()
                .unwrap()
                .contains("vhost 0 shop.example.com")
        );
        let warning = &r["diagnostics"][0];
        assert_eq!(warning["severity"], "warning");
        assert_eq!(warning["line"], 49);
    }

    #[test]
    fn a_header_changes_the_decision() {
        let mut p = Playground::new();
        p.compile(QUICKSTART, &json!({"gateway": "infra/web"}));
        let plain = p.evaluate(&json!({"host": "shop.example.com", "path": "/api/items"}));
        assert_eq!(plain["backend"]["name"], "shop/api-v1", "{plain}");
        assert_eq!(plain["rule"]["rule"], 2);
        let canary = p.evaluate(&json!({
            "host": "shop.example.com", "path": "/api/items", "headers": {"X-Canary": "true"},
        }));
        assert_eq!(canary["backend"]["name"], "shop/api-v2");
        assert_eq!(canary["rule"]["text"], "HTTPRoute shop/storefront rule 1 match 1");
        assert_eq!(canary["rule"]["lines"], json!({"start": 34, "end": 38}));
        assert_eq!(canary["rule"]["matchLines"], json!({"start": 36, "end": 37}));
        assert_eq!(
            canary["rule"]["why"],
            "path prefix /api && header x-canary = \"true\""
        );
    }

    #[test]
    fn no_route_and_unresolved_backends() {
        let mut p = Playground::new();
        p.compile(QUICKSTART, &Value::Null);
        let none = p.evaluate(&json!({"host": "example.org"}));
        assert_eq!(none["status"], 404);
        assert_eq!(none["rule"], Value::Null);
        assert!(
            none["reason"].as_str().unwrap().contains("no virtual host"),
            "{none}"
        );
        let broken = p.evaluate(&json!({"host": "old.example.com", "path": "/beta/x"}));
        assert_eq!(broken["status"], 500);
        assert_eq!(broken["backend"], Value::Null);
    }

    #[test]
    fn broken_yaml_reports_its_line() {
        let mut p = Playground::new();
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: a\n";
        let r = p.compile(text, &Value::Null);
        assert_eq!(r["ok"], false);
        assert_eq!(r["diagnostics"][0]["severity"], "error");
        assert!(r["diagnostics"][0]["line"].as_u64().unwrap() >= 3, "{r}");
        assert_eq!(p.evaluate(&json!({}))["ok"], false);
    }

    #[test]
    fn parses_the_quickstart_tests() {
        let text = include_str!("../../examples/quickstart/quickstart.test.yaml");
        let t = Playground::parse_tests(text);
        assert_eq!(t["target"], json!({"kind": "gateway", "name": "infra/web"}));
        assert!(t["cases"].as_array().unwrap().len() > 5);
    }
}
