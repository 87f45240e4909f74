//! `switchyard convert --to gateway-api`: Istio Gateway + VirtualService (+ the subsets
//! of DestinationRules) into Gateway, HTTPRoute and ReferenceGrant, for one proxy target,
//! with every field that does not map listed with its reason, and a proof
//! (`verify`): both sides compiled and compared over generated requests
//! (`crate::equivalence`).
//!
//! Meaning is kept, or the loss reported, for: first-match order against Gateway API
//! precedence (plain prefixes become `RegularExpression` paths, which Switchyard ranks
//! after Exact and PathPrefix, longer first; later exact and `/` matches are demoted to
//! regexes where an earlier overlapping rule would lose; pairs that still invert are
//! reported), plain-string prefixes (`/foo` matches `/foobar`: regex `/foo.*`),
//! `ignoreUriCase` (`(?i)`), weights (one destination takes everything: no weight is
//! written; weight-0 destinations are dropped), catch-all truncation (rules after a
//! catch-all are not written), delegates (inlined), mirror percentages, request
//! timeouts, and redirect ports.

mod cors;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::compile::{CompileOptions, Compiled, Target, compile};
use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::equivalence::Report;
use crate::equivalence::classes::{self, Labels};
use crate::input::{Document, load_texts};
use crate::istio::bind::{intersect_hosts, served_gateways, virtual_services_for_gateway};
use crate::istio::delegate::{FlatRule, flatten};
use crate::istio::destination::{effective_weights, resolve_host, service_name};
use crate::istio::destination_rule::DestinationRules;
use crate::istio::lower::{Proxy, fits_proxy};
use crate::istio::resolved_hosts;
use crate::locate::Locator;
use crate::resources::Resources;
use crate::resources::istio::{
    Destination, HeaderOps, Headers, HttpMatch, IstioGateway, RedirectPort, RuleAction, StringMatch,
    VirtualService,
};

const GATEWAY_API: &str = "gateway.networking.k8s.io/v1";
const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
/// Gateway API: "rules: MaxItems=16".
const MAX_RULES: usize = 16;

/// A field that does not map, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unmapped {
    pub file: String,
    pub line: u32,
    /// `Kind namespace/name`.
    pub resource: String,
    pub field: String,
    pub reason: String,
}

impl core::fmt::Display for Unmapped {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{}:{}: {} {}: {}",
            self.file, self.line, self.resource, self.field, self.reason
        )
    }
}

/// What `convert` produced.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// Gateway, HTTPRoutes, ReferenceGrants, in a stable order.
    pub documents: Vec<Value>,
    pub unmapped: Vec<Unmapped>,
    /// The Gateway API target to compile the output for (`namespace/name`).
    pub gateway: Option<String>,
}

impl Conversion {
    /// The documents as YAML (JSON documents, which are YAML), `---` between them.
    pub fn yaml(&self) -> String {
        let mut out = String::new();
        for (i, d) in self.documents.iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(&serde_json::to_string_pretty(d).unwrap_or_default());
            out.push('\n');
        }
        out
    }

    /// The non-mapping list, one line each.
    pub fn render_unmapped(&self) -> String {
        self.unmapped.iter().map(|u| format!("{u}\n")).collect()
    }
}

fn error(message: String) -> Diagnostics {
    let mut d = Diagnostics::default();
    d.push(Diagnostic::error(
        Location {
            file: "<command line>".into(),
            ..Location::default()
        },
        message,
    ));
    d
}

/// Converts the Istio routing of `target` (`Target::IstioGateway` or `Target::Mesh`).
pub fn convert(
    documents: &[Document],
    target: &Target,
    cluster_domain: &str,
) -> Result<Conversion, Diagnostics> {
    let (resources, diagnostics) = Resources::from_documents(documents);
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    let mut c = Converter {
        resources: &resources,
        domain: cluster_domain,
        unmapped: Vec::new(),
        routes: Vec::new(),
        grants: BTreeMap::new(),
        route_namespace: String::new(),
    };
    let gateway = match target {
        Target::IstioGateway(key) => {
            let key = if key.contains('/') {
                key.clone()
            } else {
                format!("default/{key}")
            };
            let Some(gateway) = resources.istio_gateways.iter().find(|g| g.meta.key() == key) else {
                return Err(error(format!("no Istio Gateway {key} in the inputs")));
            };
            Some(c.gateway(gateway))
        }
        Target::Mesh(namespace) => {
            c.mesh(namespace);
            None
        }
        Target::Gateway(_) => {
            return Err(error(
                "convert reads Istio resources: give --istio-gateway or --mesh".into(),
            ));
        }
    };
    let mut documents: Vec<Value> = Vec::new();
    let gateway_key = gateway.as_ref().map(|g: &Value| {
        format!(
            "{}/{}",
            g["metadata"]["namespace"].as_str().unwrap_or(""),
            g["metadata"]["name"].as_str().unwrap_or("")
        )
    });
    documents.extend(gateway);
    let mut routes = std::mem::take(&mut c.routes);
    routes.sort_by_key(route_key);
    documents.extend(routes);
    for ((namespace, from), services) in &c.grants {
        let to: Vec<Value> = services
            .iter()
            .map(|s| json!({"group": "", "kind": "Service", "name": s}))
            .collect();
        documents.push(json!({
            "apiVersion": "gateway.networking.k8s.io/v1beta1",
            "kind": "ReferenceGrant",
            "metadata": {"name": format!("from-{from}"), "namespace": namespace},
            "spec": {
                "from": [{"group": GATEWAY_GROUP, "kind": "HTTPRoute", "namespace": from}],
                "to": to,
            },
        }));
    }
    let mut unmapped = c.unmapped;
    unmapped.sort();
    unmapped.dedup();
    Ok(Conversion {
        documents,
        unmapped,
        gateway: gateway_key,
    })
}

fn route_key(v: &Value) -> (String, String) {
    (
        v["metadata"]["namespace"].as_str().unwrap_or("").to_string(),
        v["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

/// One listener written for a server host.
#[derive(Debug, Clone)]
struct ListenerOut {
    name: String,
    port: u32,
    /// HTTP or HTTPS.
    https: bool,
    server_host: crate::resources::istio::ServerHost,
    gateway_namespace: String,
    https_redirect: bool,
}

struct Converter<'r> {
    resources: &'r Resources,
    domain: &'r str,
    unmapped: Vec<Unmapped>,
    routes: Vec<Value>,
    /// (target namespace, route namespace) -> services.
    grants: BTreeMap<(String, String), BTreeSet<String>>,
    /// The namespace of the HTTPRoute being written (the root VirtualService's).
    route_namespace: String,
}

/// Where a rule's parts are reported.
#[derive(Clone, Copy)]
struct At<'a> {
    vs: &'a VirtualService,
    line: u32,
}

/// One Gateway API rule being built, with what the order check needs.
#[derive(Debug, Clone)]
struct RuleOut {
    rule: Map<String, Value>,
    /// The Istio matches, one per Gateway API match (`None`: no match).
    istio: Vec<Option<HttpMatch>>,
    /// `spec.http[i]` of the root VirtualService, for reports.
    field: String,
    line: u32,
}

impl<'r> Converter<'r> {
    fn report(&mut self, at: At<'_>, field: &str, reason: impl Into<String>) {
        self.unmapped.push(Unmapped {
            file: at.vs.meta.file.clone(),
            line: at.line,
            resource: format!("VirtualService {}", at.vs.meta.key()),
            field: field.to_string(),
            reason: reason.into(),
        });
    }

    fn report_gateway(&mut self, gateway: &IstioGateway, line: u32, field: &str, reason: impl Into<String>) {
        self.unmapped.push(Unmapped {
            file: gateway.meta.file.clone(),
            line,
            resource: format!("Gateway {}", gateway.meta.key()),
            field: field.to_string(),
            reason: reason.into(),
        });
    }

    /// The Gateway API Gateway for the proxy `target` selects, and the routes.
    fn gateway(&mut self, target: &IstioGateway) -> Value {
        let proxy_namespace = target.meta.namespace.clone();
        let mut listeners: Vec<ListenerOut> = Vec::new();
        let mut per_gateway: Vec<(&IstioGateway, Vec<usize>)> = Vec::new();
        for gateway in served_gateways(target, self.resources) {
            let mut own = Vec::new();
            for (si, server) in gateway.servers.iter().enumerate() {
                let field = format!("spec.servers[{si}]");
                if !server.serves_http() {
                    self.report_gateway(
                        gateway,
                        server.line,
                        &field,
                        format!(
                            "protocol {} (tls mode {}): no HTTPRoute carries it; TLSRoute/TCPRoute conversion is not done",
                            server.protocol,
                            server.tls_mode.as_deref().unwrap_or("-")
                        ),
                    );
                    continue;
                }
                let https = server.protocol == "HTTPS";
                if matches!(server.protocol.as_str(), "HTTP2" | "GRPC" | "GRPC-WEB") {
                    self.report_gateway(
                        gateway,
                        server.line,
                        &format!("{field}.port.protocol"),
                        format!("{} becomes an HTTP listener (HTTP/2 is negotiated, not declared, in Gateway API)", server.protocol),
                    );
                }
                if https {
                    self.report_gateway(
                        gateway,
                        server.line,
                        &format!("{field}.tls"),
                        "TLS settings other than credentialName (mode, SANs, ciphers, versions, mTLS) are not converted",
                    );
                }
                for (hi, host) in server.hosts.iter().enumerate() {
                    if host.host.parse::<std::net::IpAddr>().is_ok() {
                        self.report_gateway(
                            gateway,
                            server.line,
                            &format!("{field}.hosts[{hi}]"),
                            "an IP address is not a Gateway API hostname",
                        );
                        continue;
                    }
                    let name = format!("{}-{}-{si}-{hi}", gateway.meta.name, server.port);
                    own.push(listeners.len());
                    listeners.push(ListenerOut {
                        name: sanitize(&name),
                        port: server.port,
                        https,
                        server_host: host.clone(),
                        gateway_namespace: gateway.meta.namespace.clone(),
                        https_redirect: server.https_redirect,
                    });
                }
            }
            per_gateway.push((gateway, own));
        }
        let listener_values: Vec<Value> = listeners
            .iter()
            .map(|l| {
                let mut v = json!({
                    "name": l.name,
                    "port": l.port,
                    "protocol": if l.https { "HTTPS" } else { "HTTP" },
                    "allowedRoutes": {"namespaces": namespaces_from(&l.server_host.namespace, &l.gateway_namespace)},
                });
                if l.server_host.host != "*" {
                    v["hostname"] = json!(l.server_host.host);
                }
                if l.https {
                    v["tls"] = json!({"mode": "Terminate", "certificateRefs": [{"name": format!("{}-cert", l.name)}]});
                }
                v
            })
            .collect();
        let gateway_namespace = target.meta.namespace.clone();
        let gateway_name = target.meta.name.clone();
        let parent = |l: &ListenerOut| json!({"name": gateway_name, "namespace": gateway_namespace, "sectionName": l.name});
        // httpsRedirect: one route redirecting everything on those listeners.
        let redirect_parents: Vec<Value> = listeners
            .iter()
            .filter(|l| l.https_redirect)
            .map(parent)
            .collect();
        if !redirect_parents.is_empty() {
            self.unmapped.push(Unmapped {
                file: target.meta.file.clone(),
                line: target.meta.line,
                resource: format!("Gateway {}", target.meta.key()),
                field: "spec.servers[].tls.httpsRedirect".into(),
                reason: "written as an HTTPRoute redirecting to https with 301; Istio keeps the authority as sent (a port in Host stays), Gateway API drops it".into(),
            });
            self.routes.push(json!({
                "apiVersion": GATEWAY_API,
                "kind": "HTTPRoute",
                "metadata": {"name": format!("{gateway_name}-https-redirect"), "namespace": gateway_namespace},
                "spec": {
                    "parentRefs": redirect_parents,
                    "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}],
                },
            }));
        }
        // VirtualServices, each bound to the listeners its hosts intersect.
        let mut done: BTreeSet<String> = BTreeSet::new();
        for (gateway, own) in &per_gateway {
            for vs in virtual_services_for_gateway(&gateway.meta.key(), &proxy_namespace, self.resources) {
                let hosts = resolved_hosts(vs, self.domain);
                let mut parents: Vec<Value> = Vec::new();
                let mut ports: BTreeSet<u32> = BTreeSet::new();
                for &li in own {
                    let l = &listeners[li];
                    if l.https_redirect {
                        continue;
                    }
                    let shared = intersect_hosts(
                        std::slice::from_ref(&l.server_host),
                        &hosts,
                        &vs.meta.namespace,
                        &gateway.meta.namespace,
                    );
                    if !shared.is_empty() {
                        parents.push(parent(l));
                        ports.insert(l.port);
                    }
                }
                if parents.is_empty() || !done.insert(format!("{}|{}", gateway.meta.key(), vs.meta.key())) {
                    continue;
                }
                let port = ports.iter().next().copied().unwrap_or(80);
                if ports.len() > 1 {
                    self.report(
                        At { vs, line: vs.meta.line },
                        "spec.gateways",
                        format!("bound on ports {ports:?}: destinations without a port take the listener's port in Istio; the first ({port}) is written"),
                    );
                }
                let context = Context {
                    proxy: Proxy {
                        gateway: gateway.meta.key(),
                        namespace: proxy_namespace.clone(),
                        labels: target.selector.clone(),
                        listener_port: port,
                    },
                    mesh: false,
                };
                self.virtual_service(vs, &hosts, parents, &context);
            }
        }
        json!({
            "apiVersion": GATEWAY_API,
            "kind": "Gateway",
            "metadata": {"name": gateway_name, "namespace": gateway_namespace},
            "spec": {"gatewayClassName": "istio", "listeners": listener_values},
        })
    }

    /// Mesh: VirtualServices bound to `mesh` visible in `namespace`, one HTTPRoute per
    /// Service host with the Service as its parent (GAMMA).
    fn mesh(&mut self, namespace: &str) {
        let vss: Vec<&VirtualService> = self
            .resources
            .virtual_services
            .iter()
            .filter(|vs| {
                !vs.hosts.is_empty()
                    && crate::istio::bind::vs_gateways(vs).iter().any(|g| g == "mesh")
                    && crate::resources::istio::visible(&vs.export_to, &vs.meta.namespace, namespace)
            })
            .collect();
        for vs in vss {
            let hosts = resolved_hosts(vs, self.domain);
            let mut parents = Vec::new();
            let mut port = 80;
            for host in &hosts {
                match service_name(host, self.domain) {
                    Some((ns, name)) => {
                        if let Some(service) = self.resources.service(ns, name)
                            && let [only] = service.ports.as_slice()
                        {
                            port = only.port;
                        }
                        parents.push(json!({"group": "", "kind": "Service", "name": name, "namespace": ns}));
                    }
                    None => self.report(
                        At {
                            vs,
                            line: vs.meta.line,
                        },
                        "spec.hosts",
                        format!(
                            "{host} is not a Kubernetes Service: a GAMMA route's parent must be a Service"
                        ),
                    ),
                }
            }
            if parents.is_empty() {
                continue;
            }
            let context = Context {
                proxy: Proxy {
                    gateway: "mesh".into(),
                    namespace: namespace.to_string(),
                    labels: Vec::new(),
                    listener_port: port,
                },
                mesh: true,
            };
            self.virtual_service(vs, &[], parents, &context);
        }
    }

    fn virtual_service(
        &mut self,
        vs: &VirtualService,
        hosts: &[String],
        parents: Vec<Value>,
        context: &Context,
    ) {
        self.route_namespace = vs.meta.namespace.clone();
        let mut diagnostics = Diagnostics::default();
        let flat = flatten(vs, self.resources, &mut diagnostics);
        for d in diagnostics.0 {
            self.report(
                At {
                    vs,
                    line: d.location.line,
                },
                d.field.as_deref().unwrap_or("spec.http"),
                format!("{} (Istio drops it too)", d.message),
            );
        }
        for (i, rule) in vs.http.iter().enumerate() {
            if matches!(rule.action, RuleAction::Delegate(_)) {
                self.report(
                    At { vs, line: rule.line },
                    &format!("spec.http[{i}].delegate"),
                    "inlined: the delegate's rules are merged into this route (Gateway API has no delegation)",
                );
            }
        }
        let mut rules: Vec<RuleOut> = Vec::new();
        let mut truncated = false;
        for (fi, f) in flat.iter().enumerate() {
            if truncated {
                self.report(
                    At {
                        vs: f.owner,
                        line: f.rule.line,
                    },
                    &format!("spec.http[{}]", f.rule_index),
                    "after a catch-all rule: Istio never reaches it, so it is not written",
                );
                continue;
            }
            let (out, catch_all) = self.rule(f, fi, context);
            rules.extend(out);
            truncated = catch_all;
        }
        self.keep_order(vs, &mut rules);
        let mut hostnames: Vec<String> = Vec::new();
        for h in hosts {
            if h == "*" {
                hostnames.clear();
                break;
            }
            if h.parse::<std::net::IpAddr>().is_ok() {
                self.report(
                    At {
                        vs,
                        line: vs.meta.line,
                    },
                    "spec.hosts",
                    format!("{h}: an IP address is not a Gateway API hostname"),
                );
                continue;
            }
            if !hostnames.contains(h) {
                hostnames.push(h.clone());
            }
        }
        let chunks: Vec<&[RuleOut]> = rules.chunks(MAX_RULES).collect();
        for (ci, chunk) in chunks.iter().enumerate() {
            let name = if ci == 0 {
                vs.meta.name.clone()
            } else {
                format!("{}-{ci:02}", vs.meta.name)
            };
            let mut spec = json!({
                "parentRefs": parents,
                "rules": chunk.iter().map(|r| Value::Object(r.rule.clone())).collect::<Vec<_>>(),
            });
            if !hostnames.is_empty() {
                spec["hostnames"] = json!(hostnames);
            }
            self.routes.push(json!({
                "apiVersion": GATEWAY_API,
                "kind": "HTTPRoute",
                "metadata": {"name": name, "namespace": vs.meta.namespace},
                "spec": spec,
            }));
        }
        if chunks.len() > 1 {
            self.report(
                At { vs, line: vs.meta.line },
                "spec.http",
                format!("more than {MAX_RULES} rules: split into {} HTTPRoutes named in order (precedence ties go to the alphabetically first route)", chunks.len()),
            );
        }
    }
}

/// The proxy the routes are for.
struct Context {
    proxy: Proxy,
    mesh: bool,
}

fn sanitize(name: &str) -> String {
    let s: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.chars().take(63).collect()
}

fn namespaces_from(server_namespace: &str, gateway_namespace: &str) -> Value {
    match server_namespace {
        "*" => json!({"from": "All"}),
        "." => json!({"from": "Same"}),
        ns if ns == gateway_namespace => json!({"from": "Same"}),
        ns => json!({"from": "Selector", "selector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}),
    }
}

/// `IsCatchAllRoute`.
fn is_catch_all(m: &HttpMatch) -> bool {
    let path = match &m.uri {
        None => true,
        Some(StringMatch::Prefix(p)) => p == "/",
        Some(StringMatch::Regex(r)) => r == ".*",
        _ => false,
    };
    path && m.scheme.is_none()
        && m.method.is_none()
        && m.authority.is_none()
        && m.headers.is_empty()
        && m.without_headers.is_empty()
        && m.query_params.is_empty()
}

const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// A regex for a plain string prefix.
fn prefix_regex(prefix: &str, fold: bool) -> String {
    format!(
        "{}{}.*",
        if fold { "(?i)" } else { "" },
        regex_lite::escape(prefix)
    )
}

impl<'r> Converter<'r> {
    /// The Gateway API rules for one Istio rule, and whether it is a catch-all.
    fn rule(&mut self, f: &FlatRule<'_>, flat_index: usize, context: &Context) -> (Vec<RuleOut>, bool) {
        let vs = f.owner;
        let rule = &f.rule;
        let field = format!("spec.http[{}]", f.rule_index);
        let at = At { vs, line: rule.line };
        let _ = flat_index;
        // Matches: compile-time filters first, as Istio applies them for this proxy.
        let mut matches: Vec<Option<HttpMatch>> = Vec::new();
        let mut catch_all = false;
        if rule.matches.is_empty() {
            matches.push(None);
            catch_all = true;
        } else {
            for m in &rule.matches {
                if !self.fits(m, context) {
                    continue;
                }
                matches.push(Some(m.clone()));
                if is_catch_all(m) {
                    catch_all = true;
                    break;
                }
            }
            if matches.is_empty() {
                self.report(at, &field, "every match is filtered out for this proxy (port, gateways, source): Istio drops the rule, so it is not written");
                return (Vec::new(), false);
            }
        }
        let mut base = Map::new();
        if let Some(name) = &rule.name {
            base.insert("name".into(), json!(sanitize(name)));
        }
        let mut filters: Vec<Value> = Vec::new();
        let mut backend_refs: Vec<Value> = Vec::new();
        // What the path filter needs from the match: `Some(prefix)` for a rewrite that
        // replaces the matched prefix.
        let mut needs_prefix_filter: Option<(&str, String, bool)> = None;
        match &rule.action {
            RuleAction::Route(destinations) => {
                let weights: Vec<Option<u32>> = destinations.iter().map(|d| d.weight).collect();
                let kept = match effective_weights(&weights) {
                    Ok(kept) => kept,
                    Err(message) => {
                        self.report(
                            at,
                            &format!("{field}.route"),
                            format!("{message}: Istio rejects the rule, so it is not written"),
                        );
                        return (Vec::new(), catch_all);
                    }
                };
                let single = destinations.len() == 1;
                for (i, weight) in kept {
                    let d = &destinations[i];
                    let dfield = format!("{field}.route[{i}]");
                    let Some(mut backend) = self.backend_ref(&d.destination, vs, context, at, &dfield) else {
                        continue;
                    };
                    if !single {
                        backend["weight"] = json!(weight);
                    } else if d.weight.is_some_and(|w| w != 100) {
                        self.report(at, &format!("{dfield}.weight"), "a single destination takes all traffic in Istio whatever its weight: no weight written (Gateway API default 1 = all)");
                    }
                    let backend_filters =
                        self.header_filters(&d.headers, at, &format!("{dfield}.headers"), true);
                    if !backend_filters.is_empty() {
                        let names = header_names(&d.headers);
                        if names.iter().any(|n| header_names(&rule.headers).contains(n)) {
                            self.report(at, &format!("{dfield}.headers"), "the same header is edited at route and destination level: Envoy applies the route level last, Gateway API the backend level: the result may differ");
                        }
                        backend["filters"] = json!(backend_filters);
                    }
                    backend_refs.push(backend);
                }
                if rule.mirrors.iter().any(|m| m.per_million > 0) {
                    for (mi, m) in rule.mirrors.iter().enumerate() {
                        if m.per_million == 0 {
                            continue;
                        }
                        let mfield = format!("{field}.{}", m.field.trim_start_matches('.'));
                        let Some(backend) = self.backend_ref(&m.destination, vs, context, at, &mfield) else {
                            continue;
                        };
                        let mut mirror = json!({"backendRef": backend});
                        if m.per_million < 1_000_000 {
                            if m.per_million.is_multiple_of(10_000) {
                                mirror["percent"] = json!(m.per_million / 10_000);
                            } else {
                                mirror["fraction"] =
                                    json!({"numerator": m.per_million, "denominator": 1_000_000});
                            }
                        }
                        let _ = mi;
                        filters.push(json!({"type": "RequestMirror", "requestMirror": mirror}));
                    }
                }
                if let Some(rewrite) = &rule.rewrite {
                    if rewrite.regex.is_some() {
                        self.report(
                            at,
                            &format!("{field}.rewrite.uriRegexRewrite"),
                            "no Gateway API equivalent (URLRewrite replaces a full path or a matched prefix)",
                        );
                    }
                    if let Some(uri) = &rewrite.uri {
                        needs_prefix_filter = Some(("URLRewrite", uri.clone(), false));
                    }
                    if let Some(authority) = &rewrite.authority {
                        filters.push(json!({"type": "URLRewrite", "urlRewrite": {"hostname": authority}}));
                    }
                }
                if let Some(ms) = rule.timeout_ms {
                    base.insert("timeouts".into(), json!({"request": gateway_duration(ms)}));
                }
                if let Some(retries) = &rule.retries {
                    self.report(at, &format!("{field}.retries"), format!("retries ({} attempts) are experimental in Gateway API (rules[].retry) and not written", retries.attempts));
                }
                if let Some(fault) = &rule.fault
                    && (fault.abort.is_some() || fault.delay.is_some())
                {
                    self.report(
                        at,
                        &format!("{field}.fault"),
                        "fault injection has no Gateway API equivalent",
                    );
                }
                if let Some(cors) = &rule.cors {
                    let (policy, notes) = cors::cors_filter(cors);
                    filters.push(json!({"type": "CORS", "cors": policy}));
                    for (part, reason) in notes {
                        let path = match part.as_str() {
                            "" => format!("{field}.corsPolicy"),
                            part => format!("{field}.corsPolicy.{part}"),
                        };
                        self.report(at, &path, reason);
                    }
                }
            }
            RuleAction::Redirect(redirect) => {
                let mut r = json!({"statusCode": redirect.code});
                if let Some(scheme) = &redirect.scheme {
                    r["scheme"] = json!(scheme);
                }
                if let Some(host) = &redirect.authority {
                    r["hostname"] = json!(host);
                }
                match redirect.port {
                    RedirectPort::Port(p) => r["port"] = json!(p),
                    RedirectPort::FromRequest => {
                        if redirect.scheme.is_some() {
                            r["port"] = json!(context.proxy.listener_port);
                        }
                    }
                    RedirectPort::FromProtocolDefault => {
                        if redirect.scheme.is_none() {
                            r["port"] = json!(80);
                            self.report(at, &format!("{field}.redirect.derivePort"), "FROM_PROTOCOL_DEFAULT without a scheme: written as port 80 (the request's scheme is not known to Gateway API)");
                        }
                    }
                    RedirectPort::Keep => {
                        self.report(at, &format!("{field}.redirect"), "no port: Istio keeps the request's authority as sent (a port in Host stays); Gateway API uses the listener's or the scheme's port");
                    }
                }
                if let Some(uri) = &redirect.uri {
                    r["path"] = json!({"type": "ReplaceFullPath", "replaceFullPath": uri});
                } else if let Some(prefix) = &redirect.prefix_rewrite {
                    needs_prefix_filter = Some(("RequestRedirect", prefix.clone(), true));
                }
                filters.push(json!({"type": "RequestRedirect", "requestRedirect": r}));
            }
            RuleAction::DirectResponse { status, .. } => {
                self.report(at, &format!("{field}.directResponse"), format!("directResponse ({status}) has no Gateway API core equivalent: the rule is not written"));
                return (Vec::new(), catch_all);
            }
            RuleAction::Delegate(_) => return (Vec::new(), false),
        }
        // Route-level header edits (responses too for redirects).
        let redirecting = matches!(rule.action, RuleAction::Redirect(_));
        let mut header_filters = self.header_filters(&rule.headers, at, &format!("{field}.headers"), false);
        if redirecting {
            header_filters.retain(|f| f["type"] == "ResponseHeaderModifier");
        }
        if let Some(host) = host_from_headers(&rule.headers.request) {
            if redirecting {
                // Not forwarded: nothing to rewrite.
            } else if rule.rewrite.as_ref().is_some_and(|r| r.authority.is_some()) {
                // rewrite.authority is already written.
            } else {
                filters.push(json!({"type": "URLRewrite", "urlRewrite": {"hostname": host}}));
            }
        }
        // Header edits before the other filters, as Envoy applies them on the route.
        let mut all_filters = header_filters;
        all_filters.extend(filters);
        // Merge several URLRewrite filters (hostname + path) into one.
        merge_rewrites(&mut all_filters);
        if matches!(rule.action, RuleAction::Route(_)) {
            if backend_refs.is_empty() {
                self.report(
                    at,
                    &format!("{field}.route"),
                    "no destination could be written: Gateway API answers 500",
                );
            }
            base.insert("backendRefs".into(), json!(backend_refs));
        }
        // One Gateway API rule per match when a filter replaces the matched prefix
        // ("exactly one match and it must be PathPrefix"); else one rule for all.
        let groups: Vec<Vec<Option<HttpMatch>>> = if needs_prefix_filter.is_some() && matches.len() > 1 {
            matches.iter().map(|m| vec![m.clone()]).collect()
        } else {
            vec![matches.clone()]
        };
        let mut out = Vec::new();
        for group in groups {
            let mut rule_map = base.clone();
            let mut filters = all_filters.clone();
            let mut gw_matches = Vec::new();
            for (mi, m) in group.iter().enumerate() {
                let mfield = format!("{field}.match[{mi}]");
                gw_matches.push(self.gateway_match(m.as_ref(), vs, at, &mfield));
            }
            if let Some((kind, replacement, is_redirect)) = &needs_prefix_filter {
                let m = group[0].as_ref();
                let path_filter = self.path_filter(m, &gw_matches[0], replacement, vs, at, &field);
                let key = if *is_redirect {
                    "requestRedirect"
                } else {
                    "urlRewrite"
                };
                match filters.iter_mut().find(|f| f["type"] == *kind) {
                    Some(existing) => existing[key]["path"] = path_filter,
                    None => filters.push(json!({"type": kind, key: {"path": path_filter}})),
                }
            }
            if !filters.is_empty() {
                rule_map.insert("filters".into(), json!(filters));
            }
            // Written even for a rule without matches (`PathPrefix /`), so that the
            // order check can demote it.
            rule_map.insert("matches".into(), json!(gw_matches));
            out.push(RuleOut {
                rule: rule_map,
                istio: group,
                field: field.clone(),
                line: rule.line,
            });
        }
        (out, catch_all)
    }

    /// The path of a URLRewrite or RequestRedirect replacing the matched part.
    fn path_filter(
        &mut self,
        m: Option<&HttpMatch>,
        gw_match: &Value,
        replacement: &str,
        vs: &VirtualService,
        at: At<'_>,
        field: &str,
    ) -> Value {
        let prefix = match m.and_then(|m| m.uri.as_ref()) {
            None => Some("/".to_string()),
            Some(StringMatch::Prefix(p)) => Some(p.clone()),
            _ => None,
        };
        let Some(prefix) = prefix else {
            // Exact or regex match: Istio replaces the whole path.
            return json!({"type": "ReplaceFullPath", "replaceFullPath": replacement});
        };
        let segment_aligned = gw_match["path"]["type"] == "PathPrefix";
        let gateway = gateway_semantics(vs);
        // Plain-string replacement equals the element-wise one when the prefix is a
        // whole segment and the replacement keeps the separator the same way.
        let same = segment_aligned
            && (gateway
                || prefix == "/" && replacement.ends_with('/')
                || (!prefix.ends_with('/') && !replacement.ends_with('/') && prefix != "/"));
        if !same {
            self.report(
                at,
                &format!("{field}.rewrite.uri"),
                format!("Istio replaces the prefix {prefix:?} by {replacement:?} as plain strings; Gateway API ReplacePrefixMatch works on path segments: results differ for some paths"),
            );
        }
        if !segment_aligned {
            return json!({"type": "ReplacePrefixMatch", "replacePrefixMatch": replacement});
        }
        json!({"type": "ReplacePrefixMatch", "replacePrefixMatch": replacement})
    }

    /// `TranslateRoute`'s compile-time filters for this proxy, as the Istio front end
    /// applies them; on a mesh target the client's labels are unknown, so matches with
    /// `sourceLabels` are dropped.
    fn fits(&self, m: &HttpMatch, context: &Context) -> bool {
        fits_proxy(m, &context.proxy) && (!context.mesh || m.source_labels.is_empty())
    }

    fn gateway_match(
        &mut self,
        m: Option<&HttpMatch>,
        vs: &VirtualService,
        at: At<'_>,
        field: &str,
    ) -> Value {
        let mut out = json!({});
        let Some(m) = m else {
            return json!({"path": {"type": "PathPrefix", "value": "/"}});
        };
        let at = At {
            vs,
            line: m.line.max(at.line),
        };
        let fold = m.ignore_uri_case;
        out["path"] = match &m.uri {
            None => json!({"type": "PathPrefix", "value": "/"}),
            Some(StringMatch::Exact(v)) if fold => {
                json!({"type": "RegularExpression", "value": format!("(?i){}", regex_lite::escape(v))})
            }
            Some(StringMatch::Exact(v)) => json!({"type": "Exact", "value": v}),
            Some(StringMatch::Prefix(v)) if v.is_empty() || v == "/" => {
                json!({"type": "PathPrefix", "value": "/"})
            }
            Some(StringMatch::Prefix(v)) if gateway_semantics(vs) && !fold => {
                json!({"type": "PathPrefix", "value": v})
            }
            Some(StringMatch::Prefix(v)) => {
                json!({"type": "RegularExpression", "value": prefix_regex(v, fold)})
            }
            Some(StringMatch::Regex(v)) => json!({"type": "RegularExpression", "value": v}),
            Some(StringMatch::Present) => json!({"type": "PathPrefix", "value": "/"}),
        };
        if let Some(method) = &m.method {
            match method {
                StringMatch::Exact(v) if METHODS.contains(&v.as_str()) => out["method"] = json!(v),
                _ => self.report(at, &format!("{field}.method"), "only exact standard methods map (Gateway API method is an enum); the condition is left out"),
            }
        }
        for (name, what) in [("scheme", &m.scheme), ("authority", &m.authority)] {
            if what.is_some() {
                self.report(
                    at,
                    &format!("{field}.{name}"),
                    format!(
                        "no Gateway API match on {name}; the condition is left out (the rule matches more)"
                    ),
                );
            }
        }
        let mut headers = Vec::new();
        for (name, value) in &m.headers {
            if name.starts_with(':') {
                self.report(
                    at,
                    &format!("{field}.headers.{name}"),
                    "pseudo-headers cannot be matched in Gateway API; the condition is left out",
                );
                continue;
            }
            headers.push(string_match(name, value));
        }
        if !headers.is_empty() {
            out["headers"] = json!(headers);
        }
        for (name, _) in &m.without_headers {
            self.report(at, &format!("{field}.withoutHeaders.{name}"), "no Gateway API equivalent (no negated match); the condition is left out (the rule matches more)");
        }
        let query: Vec<Value> = m.query_params.iter().map(|(n, v)| string_match(n, v)).collect();
        if !query.is_empty() {
            out["queryParams"] = json!(query);
        }
        if m.port.is_some()
            || !m.gateways.is_empty()
            || !m.source_labels.is_empty()
            || m.source_namespace.is_some()
        {
            self.report(at, field, "port/gateways/sourceLabels/sourceNamespace were applied for this proxy at conversion time: the output holds only what applies to it");
        }
        out
    }

    /// A backendRef for a destination, with a ReferenceGrant when it crosses namespaces.
    fn backend_ref(
        &mut self,
        d: &Destination,
        vs: &VirtualService,
        context: &Context,
        at: At<'_>,
        field: &str,
    ) -> Option<Value> {
        let fqdn = resolve_host(&d.host, &vs.meta.namespace, self.domain);
        let Some((namespace, name)) = service_name(&fqdn, self.domain) else {
            self.report(at, &format!("{field}.destination.host"), format!("{fqdn} is not a Kubernetes Service (ServiceEntry hosts have no core Gateway API backend); the destination is left out"));
            return None;
        };
        let only_port = self
            .resources
            .service(namespace, name)
            .and_then(|s| match s.ports.as_slice() {
                [only] => Some(only.port),
                _ => None,
            });
        let port = d.port.or(only_port).unwrap_or(context.proxy.listener_port);
        if let Some(subset) = &d.subset {
            // The labels of the subset as the DestinationRule the proxy applies defines
            // it (`istio::destination_rule`); a subset it does not define has no cluster.
            let rules = DestinationRules::new(self.resources, self.domain);
            let reason = match rules.missing_subset(d, &vs.meta.namespace, &context.proxy, self.domain) {
                Some(why) => format!(
                    "{why}; Gateway API has no subsets: the whole Service {name} is written, which changes the answer from 503 to a forward"
                ),
                None => {
                    let labels = self
                        .resources
                        .destination_rules
                        .iter()
                        .filter(|r| resolve_host(&r.host, &r.meta.namespace, self.domain) == fqdn)
                        .flat_map(|r| r.subsets.iter())
                        .find(|s| &s.name == subset)
                        .map(|s| {
                            s.labels
                                .iter()
                                .map(|(k, v)| format!("{k}={v}"))
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default();
                    format!(
                        "subset {subset} ({labels}) has no Gateway API equivalent unless mapped to a per-subset Service (e.g. a Service {name}-{subset} selecting those labels); the whole Service {name} is written"
                    )
                }
            };
            self.report(at, &format!("{field}.destination.subset"), reason);
        }
        let mut backend = json!({"name": name, "port": port});
        if namespace != self.route_namespace {
            backend["namespace"] = json!(namespace);
            if !context.mesh {
                self.grants
                    .entry((namespace.to_string(), self.route_namespace.clone()))
                    .or_default()
                    .insert(name.to_string());
            }
        }
        Some(backend)
    }

    fn header_filters(&mut self, headers: &Headers, at: At<'_>, field: &str, backend: bool) -> Vec<Value> {
        let mut out = Vec::new();
        for (kind, ops, key) in [
            ("RequestHeaderModifier", &headers.request, "requestHeaderModifier"),
            (
                "ResponseHeaderModifier",
                &headers.response,
                "responseHeaderModifier",
            ),
        ] {
            let mut modifier = json!({});
            let pairs = |list: &[(String, String)], request: bool| -> Vec<Value> {
                list.iter()
                    .filter(|(n, _)| !(request && (n == ":authority" || n == "host")) && !n.starts_with(':'))
                    .map(|(n, v)| json!({"name": n, "value": v}))
                    .collect()
            };
            let request = kind == "RequestHeaderModifier";
            let set = pairs(&ops.set, request);
            let add = pairs(&ops.add, request);
            let remove: Vec<&String> = ops
                .remove
                .iter()
                .filter(|n| !n.starts_with(':') && *n != "host")
                .collect();
            if request && backend && host_from_headers(ops).is_some() {
                self.report(at, field, "a Host set at destination level has no Gateway API equivalent (URLRewrite is per rule); left out");
            }
            let names: Vec<&String> = ops
                .set
                .iter()
                .chain(&ops.add)
                .map(|(n, _)| n)
                .chain(&ops.remove)
                .collect();
            let unique: BTreeSet<&&String> = names.iter().collect();
            if unique.len() != names.len() {
                self.report(
                    at,
                    field,
                    "a header is both set/added and removed: Gateway API allows one action per name",
                );
            }
            if !set.is_empty() {
                modifier["set"] = json!(set);
            }
            if !add.is_empty() {
                modifier["add"] = json!(add);
            }
            if !remove.is_empty() {
                modifier["remove"] = json!(remove);
            }
            if modifier.as_object().is_some_and(|m| !m.is_empty()) {
                out.push(json!({"type": kind, key: modifier}));
            }
        }
        out
    }

    /// First match wins in Istio; Gateway API sorts by precedence. Demote a later exact
    /// or prefix match to a regex where an earlier overlapping rule would lose to it, and
    /// report the pairs whose order still inverts.
    fn keep_order(&mut self, vs: &VirtualService, rules: &mut [RuleOut]) {
        // (rule index, match index) in Istio order.
        let positions: Vec<(usize, usize)> = rules
            .iter()
            .enumerate()
            .flat_map(|(ri, r)| (0..r.istio.len()).map(move |mi| (ri, mi)))
            .collect();
        for _round in 0..4 {
            let mut changed = false;
            for (a, &(ri, mi)) in positions.iter().enumerate() {
                for &(rj, mj) in &positions[a + 1..] {
                    if rj == ri
                        || !outranks(rules, (rj, mj), (ri, mi))
                        || !conflicting(rules, (ri, mi), (rj, mj))
                    {
                        continue;
                    }
                    changed |= demote(rules, (rj, mj), (ri, mi));
                }
            }
            if !changed {
                break;
            }
        }
        for (a, &(ri, mi)) in positions.iter().enumerate() {
            for &(rj, mj) in &positions[a + 1..] {
                if rj != ri && outranks(rules, (rj, mj), (ri, mi)) && conflicting(rules, (ri, mi), (rj, mj)) {
                    let (first, second) = (&rules[ri], &rules[rj]);
                    let reason = format!(
                        "order cannot be kept: Istio tries {}.match[{mi}] first, Gateway API precedence ranks {}.match[{mj}] ({}) above it ({}), and some requests match both",
                        first.field,
                        second.field,
                        describe(&second.rule, mj),
                        describe(&first.rule, mi)
                    );
                    let line = second.line;
                    let field = second.field.clone();
                    self.report(At { vs, line }, &field, reason);
                }
            }
        }
    }
}

fn describe(rule: &Map<String, Value>, mi: usize) -> String {
    let m = rule
        .get("matches")
        .and_then(|m| m.get(mi))
        .cloned()
        .unwrap_or(json!({"path": {"type": "PathPrefix", "value": "/"}}));
    serde_json::to_string(&m).unwrap_or_default()
}

/// The Gateway API precedence key of a match (smaller wins), Switchyard's ranking of
/// regexes included: Exact, then PathPrefix, then RegularExpression; longer first.
fn precedence(rules: &[RuleOut], (ri, mi): (usize, usize)) -> (u8, usize, bool, usize, usize) {
    let m = rules[ri]
        .rule
        .get("matches")
        .and_then(|m| m.get(mi))
        .cloned()
        .unwrap_or(json!({}));
    let kind = m["path"]["type"].as_str().unwrap_or("PathPrefix");
    let value = m["path"]["value"].as_str().unwrap_or("/");
    let rank = match kind {
        "Exact" => 0,
        "PathPrefix" => 1,
        _ => 2,
    };
    let len = if kind == "PathPrefix" {
        value.trim_end_matches('/').chars().count().max(1)
    } else {
        value.chars().count()
    };
    (
        rank,
        usize::MAX - len,
        m.get("method").is_none(),
        usize::MAX - m["headers"].as_array().map_or(0, Vec::len),
        usize::MAX - m["queryParams"].as_array().map_or(0, Vec::len),
    )
}

/// Whether `later` beats `earlier` in Gateway API (same route: ties go to rule order).
fn outranks(rules: &[RuleOut], later: (usize, usize), earlier: (usize, usize)) -> bool {
    precedence(rules, later) < precedence(rules, earlier)
}

/// The two rules act differently and some request may match both.
fn conflicting(rules: &[RuleOut], a: (usize, usize), b: (usize, usize)) -> bool {
    let action = |r: &RuleOut| {
        let mut m = r.rule.clone();
        m.remove("matches");
        m.remove("name");
        m
    };
    action(&rules[a.0]) != action(&rules[b.0])
        && may_overlap(rules[a.0].istio[a.1].as_ref(), rules[b.0].istio[b.1].as_ref())
}

/// Conservative: `false` only when no request can match both.
fn may_overlap(a: Option<&HttpMatch>, b: Option<&HttpMatch>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return true;
    };
    let fold = a.ignore_uri_case || b.ignore_uri_case;
    let norm = |s: &str| {
        if fold {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    };
    let paths = match (&a.uri, &b.uri) {
        (Some(StringMatch::Exact(x)), Some(StringMatch::Exact(y))) => norm(x) == norm(y),
        (Some(StringMatch::Exact(x)), Some(StringMatch::Prefix(p)))
        | (Some(StringMatch::Prefix(p)), Some(StringMatch::Exact(x))) => norm(x).starts_with(&norm(p)),
        (Some(StringMatch::Prefix(x)), Some(StringMatch::Prefix(y))) => {
            norm(x).starts_with(&norm(y)) || norm(y).starts_with(&norm(x))
        }
        (Some(StringMatch::Exact(x)), Some(StringMatch::Regex(r)))
        | (Some(StringMatch::Regex(r)), Some(StringMatch::Exact(x))) => {
            regex_lite::Regex::new(&format!("^(?:{r})$")).is_ok_and(|re| re.is_match(x)) || fold
        }
        _ => true,
    };
    if !paths {
        return false;
    }
    let exclusive = |x: &StringMatch, y: &StringMatch| match (x, y) {
        (StringMatch::Exact(p), StringMatch::Exact(q)) => p != q,
        (StringMatch::Exact(p), StringMatch::Prefix(q)) | (StringMatch::Prefix(q), StringMatch::Exact(p)) => {
            !p.starts_with(q.as_str())
        }
        (StringMatch::Exact(p), StringMatch::Regex(r)) | (StringMatch::Regex(r), StringMatch::Exact(p)) => {
            regex_lite::Regex::new(&format!("^(?:{r})$")).is_ok_and(|re| !re.is_match(p))
        }
        _ => false,
    };
    if let (Some(x), Some(y)) = (&a.method, &b.method)
        && exclusive(x, y)
    {
        return false;
    }
    for (list_a, list_b) in [(&a.headers, &b.headers), (&a.query_params, &b.query_params)] {
        for (name, x) in list_a {
            if list_b.iter().any(|(n, y)| n == name && exclusive(x, y)) {
                return false;
            }
        }
    }
    true
}

/// Turns `later`'s path into a regex that ranks below `earlier`'s, when that keeps its
/// meaning: an exact path as its escaped literal, `/` as `/.*`.
fn demote(rules: &mut [RuleOut], later: (usize, usize), earlier: (usize, usize)) -> bool {
    let earlier_path = rules[earlier.0]
        .rule
        .get("matches")
        .and_then(|m| m.get(earlier.1))
        .map(|m| m["path"].clone());
    let Some(earlier_path) = earlier_path else {
        return false;
    };
    if earlier_path["type"] != "RegularExpression" {
        return false;
    }
    let earlier_len = earlier_path["value"].as_str().map_or(0, |s| s.chars().count());
    let Some(m) = rules[later.0]
        .rule
        .get_mut("matches")
        .and_then(|m| m.get_mut(later.1))
    else {
        return false;
    };
    let value = m["path"]["value"].as_str().unwrap_or("/").to_string();
    let replacement = match m["path"]["type"].as_str() {
        Some("Exact") => regex_lite::escape(&value),
        Some("PathPrefix") if value == "/" => "/.*".to_string(),
        Some("PathPrefix") => format!("{}(/.*)?", regex_lite::escape(value.trim_end_matches('/'))),
        _ => return false,
    };
    // Only useful if it now ranks at or below the earlier regex.
    if replacement.chars().count() > earlier_len {
        return false;
    }
    m["path"] = json!({"type": "RegularExpression", "value": replacement});
    true
}

fn string_match(name: &str, value: &StringMatch) -> Value {
    match value {
        StringMatch::Exact(v) => json!({"name": name, "value": v}),
        StringMatch::Prefix(v) => {
            json!({"name": name, "type": "RegularExpression", "value": format!("{}.*", regex_lite::escape(v))})
        }
        StringMatch::Regex(v) => json!({"name": name, "type": "RegularExpression", "value": v}),
        StringMatch::Present => json!({"name": name, "type": "RegularExpression", "value": ".*"}),
    }
}

fn header_names(headers: &Headers) -> Vec<String> {
    let ops = &headers.request;
    ops.set
        .iter()
        .chain(&ops.add)
        .map(|(n, _)| n.clone())
        .chain(ops.remove.iter().cloned())
        .collect()
}

/// A Host set through the header map (`:authority` or `host` in set/add).
fn host_from_headers(ops: &HeaderOps) -> Option<String> {
    ops.set
        .iter()
        .chain(&ops.add)
        .find(|(n, _)| n == ":authority" || n == "host")
        .map(|(_, v)| v.clone())
}

fn merge_rewrites(filters: &mut Vec<Value>) {
    let mut merged: Option<Value> = None;
    filters.retain(|f| {
        if f["type"] != "URLRewrite" {
            return true;
        }
        match &mut merged {
            None => {
                merged = Some(f.clone());
                false
            }
            Some(m) => {
                if let Some(obj) = f["urlRewrite"].as_object() {
                    for (k, v) in obj {
                        m["urlRewrite"][k] = v.clone();
                    }
                }
                false
            }
        }
    });
    if let Some(m) = merged {
        filters.push(m);
    }
}

/// `ms` in Gateway API's duration syntax.
fn gateway_duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Istio's own generated VirtualServices (`internal.istio.io/route-semantics: gateway`)
/// have segment-wise prefixes.
fn gateway_semantics(vs: &VirtualService) -> bool {
    vs.gateway_semantics
}

/// The input compiled for its Istio target and the output for the Gateway API Gateway
/// (or the mesh), compared over generated requests.
#[derive(Debug)]
pub struct Verification {
    pub istio: Compiled,
    pub gateway_api: Compiled,
    pub report: Report,
    /// Services the proof assumed (backendRefs to Services the inputs do not hold).
    pub assumed_services: Vec<String>,
}

/// Compiles both sides and compares them.
pub fn verify(
    documents: &[Document],
    conversion: &Conversion,
    target: &Target,
    cluster_domain: &str,
) -> Result<Verification, Diagnostics> {
    let options = |target: Target| CompileOptions {
        target,
        cluster_domain: cluster_domain.to_string(),
        ..CompileOptions::default()
    };
    let istio = compile(documents, &options(target.clone()))?;
    // The output, plus the Services and Namespaces of the input (cluster naming and
    // namespace selectors need them).
    let mut texts = vec![("<converted>".to_string(), conversion.yaml())];
    let (resources, _) = Resources::from_documents(documents);
    let services = stub_services(&conversion.documents, &resources);
    let assumed: Vec<String> = services
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                s["metadata"]["namespace"].as_str().unwrap_or(""),
                s["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    texts.push((
        "<assumed services>".into(),
        services.iter().map(|s| format!("{s}\n---\n")).collect(),
    ));
    let mut output = load_texts(&texts)?;
    output.extend(
        documents
            .iter()
            .filter(|d| {
                let kind = d.node.get("kind").and_then(|k| k.as_str()).unwrap_or("");
                let api = d.node.get("apiVersion").and_then(|k| k.as_str()).unwrap_or("");
                api == "v1" && matches!(kind, "Service" | "Namespace")
            })
            .cloned(),
    );
    let gw_target = match target {
        Target::Mesh(ns) => Target::Mesh(ns.clone()),
        _ => Target::Gateway(conversion.gateway.clone()),
    };
    let gateway_api = compile(&output, &options(gw_target))?;
    let report = compare_compiled(&istio, &gateway_api)?;
    Ok(Verification {
        istio,
        gateway_api,
        report,
        assumed_services: assumed,
    })
}

/// Loads both programs and compares them (`istio` left, `gateway-api` right), as
/// `switchyard diff` compares an old and a new configuration.
pub fn compare_compiled(left: &Compiled, right: &Compiled) -> Result<Report, Diagnostics> {
    crate::diff::compare_compiled(left, right).map_err(error)
}

/// Services that HTTPRoute backendRefs (and mirrors) name but `resources` lacks, each
/// with the referenced ports: the proof assumes they exist, as Istio's routes do.
pub fn stub_services(documents: &[Value], resources: &Resources) -> Vec<Value> {
    let mut wanted: BTreeMap<(String, String), BTreeSet<u64>> = BTreeMap::new();
    fn walk(v: &Value, namespace: &str, wanted: &mut BTreeMap<(String, String), BTreeSet<u64>>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    if (k == "backendRefs" || k == "backendRef") && !child.is_null() {
                        let refs: Vec<&Value> = match child {
                            Value::Array(a) => a.iter().collect(),
                            other => vec![other],
                        };
                        for r in refs {
                            let kind = r["kind"].as_str().unwrap_or("Service");
                            let group = r["group"].as_str().unwrap_or("");
                            if kind == "Service"
                                && group.is_empty()
                                && let (Some(name), Some(port)) = (r["name"].as_str(), r["port"].as_u64())
                            {
                                let ns = r["namespace"].as_str().unwrap_or(namespace);
                                wanted
                                    .entry((ns.to_string(), name.to_string()))
                                    .or_default()
                                    .insert(port);
                            }
                        }
                    }
                    walk(child, namespace, wanted);
                }
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, namespace, wanted)),
            _ => {}
        }
    }
    for d in documents {
        if d["kind"] == "HTTPRoute" || d["kind"] == "GRPCRoute" {
            let ns = d["metadata"]["namespace"].as_str().unwrap_or("default");
            walk(&d["spec"], ns, &mut wanted);
        }
    }
    wanted
        .into_iter()
        .filter(|((ns, name), _)| resources.service(ns, name).is_none())
        .map(|((ns, name), ports)| {
            let ports: Vec<Value> = ports.iter().map(|p| json!({"port": p})).collect();
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": {"ports": ports}})
        })
        .collect()
}

/// `switchyard convert --to gateway-api`: writes the output (stdout without `-o`), the
/// non-mapping list and the proof's differences on stderr. Exit status 0 equivalent,
/// 1 differences (the output is still written), 2 invalid input.
pub fn run(
    files: &[String],
    to: Option<&str>,
    target: &Target,
    cluster_domain: &str,
    output: Option<&str>,
) -> i32 {
    if to != Some("gateway-api") {
        eprintln!("switchyard convert: --to gateway-api is required (the only conversion)");
        return 2;
    }
    if files.is_empty() {
        eprintln!("switchyard convert: no manifests given (use -f PATH)");
        return 2;
    }
    let print = |d: &Diagnostics| d.0.iter().for_each(|d| eprintln!("{d}"));
    let documents = match crate::input::load_inputs(files) {
        Ok(documents) => documents,
        Err(d) => {
            print(&d);
            return 2;
        }
    };
    let conversion = match convert(&documents, target, cluster_domain) {
        Ok(c) => c,
        Err(d) => {
            print(&d);
            return 2;
        }
    };
    let yaml = conversion.yaml();
    let written = match output {
        None | Some("-") => {
            print!("{yaml}");
            Ok(())
        }
        Some(path) => crate::cli::write_atomically(std::path::Path::new(path), yaml.as_bytes()),
    };
    if let Err(e) = written {
        eprintln!("switchyard convert: cannot write {}: {e}", output.unwrap_or("-"));
        return 2;
    }
    for u in &conversion.unmapped {
        eprintln!("not mapped: {u}");
    }
    let verification = match verify(&documents, &conversion, target, cluster_domain) {
        Ok(v) => v,
        Err(d) => {
            eprintln!("switchyard convert: the proof could not compile both sides:");
            print(&d);
            return 2;
        }
    };
    for s in &verification.assumed_services {
        eprintln!(
            "note: the proof assumes Service {s} exists (named by a backendRef, absent from the inputs)"
        );
    }
    let report = &verification.report;
    // The differences as `diff` prints them: grouped by the rule on each side and the
    // kind of change, each rule with its file and line (the converted side's lines are
    // those of the YAML just written).
    let (input_resources, _) = Resources::from_documents(&documents);
    let written_name = output.filter(|o| *o != "-").unwrap_or("<stdout>").to_string();
    let output_resources = load_texts(&[(written_name, yaml)])
        .map(|d| Resources::from_documents(&d).0)
        .unwrap_or_default();
    let (input_locator, output_locator) = (Locator::new(&input_resources), Locator::new(&output_resources));
    eprint!(
        "{}",
        classes::render_text(
            &classes::classify(report),
            Labels {
                label: "istio",
                locator: Some(&input_locator),
            },
            Labels {
                label: "gateway-api",
                locator: Some(&output_locator),
            },
        )
    );
    eprintln!(
        "{} requests compared, {} differ",
        report.requests,
        report.differences.len()
    );
    if report.equivalent() { 0 } else { 1 }
}

pub const HELP: &str = "\
switchyard convert: Istio Gateway + VirtualService to Gateway API, with a proof

  -f, --filename PATH     manifests, as for compile; repeatable
  --to gateway-api        the conversion (the only one)
  --istio-gateway NS/NAME convert what the proxy selected by this Istio Gateway serves:
                          a Gateway API Gateway NS/NAME, HTTPRoutes, ReferenceGrants
  --mesh NAMESPACE        convert the VirtualServices bound to mesh that a sidecar in
                          NAMESPACE sees: HTTPRoutes with Service parents (GAMMA)
  -o, --output PATH       where to write the YAML (default stdout)
  --cluster-domain D      Kubernetes cluster domain (default cluster.local)

Writes the resources, then on stderr every field that does not map (file:line,
resource, field, reason), then the proof: the input compiled for its Istio target and
the output for the Gateway API target, evaluated on generated requests (every host,
path boundary, header, query and method condition of every rule), with each request
whose decision differs and both sides' rules.
Exit status: 0 equivalent, 1 differences found (the output is still written),
2 invalid input.
";

/// Stub Services for the backendRefs and mirrors of `resources`' HTTPRoutes that name a
/// Service the inputs lack (with the referenced ports), so that a proof can compile a
/// Gateway API side whose Istio counterpart names clusters without Services.
pub fn stub_services_for_routes(resources: &Resources) -> Vec<Value> {
    let mut wanted: BTreeMap<(String, String), BTreeSet<u32>> = BTreeMap::new();
    for route in &resources.http_routes {
        let own = &route.meta.namespace;
        let mut add = |b: &crate::resources::BackendRef| {
            if b.group.is_empty()
                && b.kind == "Service"
                && let Some(port) = b.port
            {
                let ns = b.namespace.clone().unwrap_or_else(|| own.clone());
                wanted.entry((ns, b.name.clone())).or_default().insert(port);
            }
        };
        for rule in &route.rules {
            rule.backend_refs.iter().for_each(&mut add);
            for f in &rule.filters {
                if let crate::resources::filters::Filter::RequestMirror(m) = f {
                    add(&m.backend);
                }
            }
        }
    }
    wanted
        .into_iter()
        .filter(|((ns, name), _)| resources.service(ns, name).is_none())
        .map(|((ns, name), ports)| {
            let ports: Vec<Value> = ports.iter().map(|p| json!({"port": p})).collect();
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": {"ports": ports}})
        })
        .collect()
}
