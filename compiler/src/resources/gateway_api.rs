//! Gateway API kinds (gateway.networking.k8s.io v1/v1beta1): Gateway, HTTPRoute,
//! ReferenceGrant, validated as the CRDs' schemas and CEL rules would validate them.

use super::duration::parse_duration_ms;
use super::filters::{Filter, PathModifier, read_filters};
use super::meta::Meta;
use super::read::{Obj, Read};

#[derive(Debug, Clone)]
pub struct Gateway {
    pub meta: Meta,
    pub listeners: Vec<Listener>,
    /// `spec.allowedListeners.namespaces`: which ListenerSets may add listeners.
    pub allowed_listeners: ListenersFrom,
}

/// `allowedListeners.namespaces.from` (`gateway_types.go`): which namespaces'
/// ListenerSets may attach to a Gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ListenersFrom {
    /// Only the Gateway's own listeners (the default).
    #[default]
    None,
    /// ListenerSets in the Gateway's namespace.
    Same,
    All,
    /// ListenerSets in namespaces whose labels match.
    Selector(LabelSelector),
}

#[derive(Debug, Clone)]
pub struct Listener {
    pub name: String,
    pub hostname: Option<String>,
    pub port: u32,
    pub protocol: String,
    pub allowed_routes: AllowedRoutes,
}

#[derive(Debug, Clone, Default)]
pub struct AllowedRoutes {
    pub from: NamespacesFrom,
    /// (group, kind); empty means "derived from the protocol".
    pub kinds: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NamespacesFrom {
    /// Only the Gateway's namespace (the default).
    #[default]
    Same,
    All,
    Selector(LabelSelector),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub match_labels: Vec<(String, String)>,
    /// (key, operator, values).
    pub match_expressions: Vec<(String, String, Vec<String>)>,
}

impl LabelSelector {
    /// Kubernetes label selector semantics: every label and every expression must hold.
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let value = |key: &str| labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        self.match_labels
            .iter()
            .all(|(k, v)| value(k) == Some(v.as_str()))
            && self
                .match_expressions
                .iter()
                .all(|(key, op, values)| match op.as_str() {
                    "In" => value(key).is_some_and(|v| values.iter().any(|x| x == v)),
                    "NotIn" => value(key).is_none_or(|v| !values.iter().any(|x| x == v)),
                    "Exists" => value(key).is_some(),
                    "DoesNotExist" => value(key).is_none(),
                    _ => false,
                })
    }
}

#[derive(Debug, Clone)]
pub struct HttpRoute {
    pub meta: Meta,
    pub parent_refs: Vec<ParentRef>,
    pub hostnames: Vec<String>,
    pub rules: Vec<RouteRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentRef {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub section_name: Option<String>,
    pub port: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct RouteRule {
    /// Empty in the manifest means one match `PathPrefix /`; filled in here.
    pub matches: Vec<RouteMatch>,
    pub filters: Vec<Filter>,
    pub backend_refs: Vec<BackendRef>,
    pub timeouts: Timeouts,
    pub retry: Option<RetryPolicy>,
    pub line: u32,
}

/// `timeouts`, in milliseconds; `Some(0)` disables a timeout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub request_ms: Option<u64>,
    pub backend_request_ms: Option<u64>,
}

/// `retry` (experimental channel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub codes: Vec<u16>,
    pub attempts: u32,
    pub backoff_ms: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct RouteMatch {
    pub path: PathMatch,
    pub headers: Vec<HeaderMatch>,
    pub query_params: Vec<QueryMatch>,
    pub method: Option<String>,
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathType {
    Exact,
    PathPrefix,
    RegularExpression,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMatch {
    pub kind: PathType,
    pub value: String,
}

impl Default for PathMatch {
    /// Gateway API: "If no path is specified, a default prefix match on '/' is used."
    fn default() -> Self {
        PathMatch {
            kind: PathType::PathPrefix,
            value: "/".to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMatchType {
    Exact,
    RegularExpression,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMatch {
    pub kind: StringMatchType,
    /// Lowercased: header names are case-insensitive.
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryMatch {
    pub kind: StringMatchType,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendRef {
    pub group: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub port: Option<u32>,
    pub weight: u32,
    /// Backend-level filters, run only when this backend is chosen.
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone)]
pub struct ReferenceGrant {
    pub meta: Meta,
    /// (group, kind, namespace)
    pub from: Vec<(String, String, String)>,
    /// (group, kind, name); `None` name means every object of that kind.
    pub to: Vec<(String, String, Option<String>)>,
}

/// Gateway API `HTTPMethod` values.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Fields of Gateway API that change routing but are not implemented yet: refusing them
/// is better than routing differently from what the user wrote.
const UNSUPPORTED_RULE_FIELDS: [&str; 1] = ["sessionPersistence"];

impl Gateway {
    pub fn read(root: &Obj<'_>, meta: Meta) -> Read<Gateway> {
        let spec = root.require("spec")?;
        spec.check_keys(
            &[
                "gatewayClassName",
                "listeners",
                "addresses",
                "infrastructure",
                "tls",
                "allowedListeners",
            ],
            &["defaultScope"],
        )?;
        let listeners = read_listeners(&spec)?;
        let allowed_listeners = match spec.get("allowedListeners") {
            Some(allowed) => read_allowed_listeners(&allowed)?,
            None => ListenersFrom::None,
        };
        Ok(Gateway {
            meta,
            listeners,
            allowed_listeners,
        })
    }
}

/// `spec.listeners` of a Gateway or a ListenerSet; names must be unique in the list.
pub(crate) fn read_listeners(spec: &Obj<'_>) -> Read<Vec<Listener>> {
    let mut listeners: Vec<Listener> = Vec::new();
    for listener in spec.list("listeners")? {
        listener.check_keys(
            &["name", "hostname", "port", "protocol", "tls", "allowedRoutes"],
            &[],
        )?;
        let name = listener.req_str("name")?.to_string();
        if listeners.iter().any(|l| l.name == name) {
            return Err(listener.error(format!("listener name {name:?} is used twice")));
        }
        let hostname = match listener.get("hostname") {
            Some(h) => Some(validate_hostname(&h, true)?),
            None => None,
        };
        let port = listener
            .int("port", 1, 65535)?
            .ok_or_else(|| listener.error("listener needs `port`"))?;
        let protocol = listener.req_str("protocol")?.to_string();
        let allowed_routes = match listener.get("allowedRoutes") {
            Some(allowed) => read_allowed_routes(&allowed)?,
            None => AllowedRoutes::default(),
        };
        listeners.push(Listener {
            name,
            hostname,
            port: port as u32,
            protocol,
            allowed_routes,
        });
    }
    Ok(listeners)
}

fn read_allowed_listeners(allowed: &Obj<'_>) -> Read<ListenersFrom> {
    allowed.check_keys(&["namespaces"], &[])?;
    let Some(namespaces) = allowed.get("namespaces") else {
        return Ok(ListenersFrom::None);
    };
    namespaces.check_keys(&["from", "selector"], &[])?;
    Ok(match namespaces.str("from")?.unwrap_or("None") {
        "None" => ListenersFrom::None,
        "Same" => ListenersFrom::Same,
        "All" => ListenersFrom::All,
        "Selector" => ListenersFrom::Selector(read_label_selector(&namespaces.require("selector")?)?),
        other => {
            return Err(namespaces.error(format!(
                "unknown `from` value {other:?} (None, Same, All or Selector)"
            )));
        }
    })
}

/// A Kubernetes `LabelSelector` (`matchLabels`, `matchExpressions`).
fn read_label_selector(selector: &Obj<'_>) -> Read<LabelSelector> {
    selector.check_keys(&["matchLabels", "matchExpressions"], &[])?;
    let mut expressions = Vec::new();
    for expression in selector.list("matchExpressions")? {
        expression.check_keys(&["key", "operator", "values"], &[])?;
        let operator = expression.req_str("operator")?;
        if !matches!(operator, "In" | "NotIn" | "Exists" | "DoesNotExist") {
            return Err(expression.error(format!("unknown operator {operator:?}")));
        }
        let values = expression
            .list("values")?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Read<_>>()?;
        expressions.push((
            expression.req_str("key")?.to_string(),
            operator.to_string(),
            values,
        ));
    }
    Ok(LabelSelector {
        match_labels: selector.string_map("matchLabels")?,
        match_expressions: expressions,
    })
}

fn read_allowed_routes(allowed: &Obj<'_>) -> Read<AllowedRoutes> {
    allowed.check_keys(&["namespaces", "kinds"], &[])?;
    let mut result = AllowedRoutes::default();
    if let Some(namespaces) = allowed.get("namespaces") {
        namespaces.check_keys(&["from", "selector"], &[])?;
        result.from = match namespaces.str("from")?.unwrap_or("Same") {
            "Same" => NamespacesFrom::Same,
            "All" => NamespacesFrom::All,
            "Selector" => NamespacesFrom::Selector(read_label_selector(&namespaces.require("selector")?)?),
            other => return Err(namespaces.error(format!("unknown `from` value {other:?}"))),
        };
    }
    for kind in allowed.list("kinds")? {
        kind.check_keys(&["group", "kind"], &[])?;
        let group = kind
            .str("group")?
            .unwrap_or("gateway.networking.k8s.io")
            .to_string();
        result.kinds.push((group, kind.req_str("kind")?.to_string()));
    }
    Ok(result)
}

/// RFC 1123 hostname, lowercase, at most one leading `*.` (listener and route hostnames).
pub(crate) fn validate_hostname(node: &Obj<'_>, wildcard_allowed: bool) -> Read<String> {
    let text = node.as_str()?;
    let body = if wildcard_allowed {
        text.strip_prefix("*.").unwrap_or(text)
    } else {
        text
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let is_ip = text.parse::<std::net::IpAddr>().is_ok();
    if text.len() > 253 || is_ip || !body.split('.').all(label_ok) {
        return Err(node.error(format!(
            "{text:?} is not a valid hostname (lowercase RFC 1123 name, no IP address, optional leading \"*.\")"
        )));
    }
    Ok(text.to_string())
}

impl HttpRoute {
    pub fn read(root: &Obj<'_>, meta: Meta) -> Read<HttpRoute> {
        let spec = root.require("spec")?;
        spec.check_keys(&["parentRefs", "hostnames", "rules"], &["useDefaultGateways"])?;
        let parent_refs = spec
            .list("parentRefs")?
            .iter()
            .map(read_parent_ref)
            .collect::<Read<Vec<_>>>()?;
        let hostnames = spec
            .list("hostnames")?
            .iter()
            .map(|h| validate_hostname(h, true))
            .collect::<Read<Vec<_>>>()?;
        let rule_nodes = spec.list("rules")?;
        let mut rules = Vec::with_capacity(rule_nodes.len().max(1));
        if rule_nodes.len() > 16 {
            return Err(spec.error("at most 16 rules per HTTPRoute"));
        }
        for rule in &rule_nodes {
            rules.push(read_rule(rule)?);
        }
        if rule_nodes.is_empty() {
            // Gateway API default: one rule matching everything, with no backends (500).
            rules.push(RouteRule {
                matches: vec![RouteMatch::default()],
                filters: Vec::new(),
                backend_refs: Vec::new(),
                timeouts: Timeouts::default(),
                retry: None,
                line: spec.node.line,
            });
        }
        let total_matches: usize = rules.iter().map(|r| r.matches.len()).sum();
        if total_matches > 128 {
            return Err(spec.error("at most 128 matches per HTTPRoute"));
        }
        Ok(HttpRoute {
            meta,
            parent_refs,
            hostnames,
            rules,
        })
    }
}

pub(crate) fn read_parent_ref(node: &Obj<'_>) -> Read<ParentRef> {
    node.check_keys(
        &["group", "kind", "namespace", "name", "sectionName", "port"],
        &[],
    )?;
    Ok(ParentRef {
        group: node
            .str("group")?
            .unwrap_or("gateway.networking.k8s.io")
            .to_string(),
        kind: node.str("kind")?.unwrap_or("Gateway").to_string(),
        namespace: node.str("namespace")?.map(str::to_string),
        name: node.req_str("name")?.to_string(),
        section_name: node.str("sectionName")?.map(str::to_string),
        port: node.int("port", 1, 65535)?.map(|p| p as u32),
    })
}

fn read_rule(rule: &Obj<'_>) -> Read<RouteRule> {
    rule.check_keys(
        &["name", "matches", "filters", "backendRefs", "timeouts", "retry"],
        &UNSUPPORTED_RULE_FIELDS,
    )?;
    let match_nodes = rule.list("matches")?;
    if match_nodes.len() > 64 {
        return Err(rule.error("at most 64 matches per rule"));
    }
    // Collected vectors start at four slots; a large configuration keeps hundreds of
    // thousands of one-element ones, so they are trimmed (here and for backendRefs).
    let mut matches = match_nodes.iter().map(read_match).collect::<Read<Vec<_>>>()?;
    matches.shrink_to_fit();
    if matches.is_empty() {
        // Gateway API: "If no matches are specified, the default is a prefix path match on '/'".
        matches.push(RouteMatch {
            line: rule.node.line,
            ..RouteMatch::default()
        });
    }
    let mut backend_refs = rule
        .list("backendRefs")?
        .iter()
        .map(read_http_backend_ref)
        .collect::<Read<Vec<_>>>()?;
    backend_refs.shrink_to_fit();
    let filters = read_filters(rule)?;
    let redirects = filters.iter().any(|f| matches!(f, Filter::RequestRedirect(_)));
    if redirects && !backend_refs.is_empty() {
        return Err(rule.error("RequestRedirect filter must not be used together with backendRefs"));
    }
    let replaces_prefix = |filters: &[Filter]| {
        filters.iter().any(|f| match f {
            Filter::RequestRedirect(r) => matches!(r.path, Some(PathModifier::ReplacePrefixMatch(_))),
            Filter::UrlRewrite(r) => matches!(r.path, Some(PathModifier::ReplacePrefixMatch(_))),
            _ => false,
        })
    };
    let one_prefix_match = match_nodes.len() == 1 && matches[0].path.kind == PathType::PathPrefix;
    if replaces_prefix(&filters) && !one_prefix_match {
        return Err(
            rule.error("ReplacePrefixMatch needs exactly one match, and it must be a PathPrefix match")
        );
    }
    // CEL: "Within backendRefs, when using RequestRedirect [or URLRewrite] filter with
    // path.replacePrefixMatch, exactly one PathPrefix match must be specified".
    if backend_refs.iter().any(|b| replaces_prefix(&b.filters)) && !one_prefix_match {
        return Err(rule.error(
            "a backendRef's ReplacePrefixMatch needs exactly one match, and it must be a PathPrefix match",
        ));
    }
    Ok(RouteRule {
        matches,
        filters,
        backend_refs,
        timeouts: read_timeouts(rule)?,
        retry: read_retry(rule)?,
        line: rule.node.line,
    })
}

fn read_timeouts(rule: &Obj<'_>) -> Read<Timeouts> {
    let Some(node) = rule.get("timeouts") else {
        return Ok(Timeouts::default());
    };
    node.check_keys(&["request", "backendRequest"], &[])?;
    let duration = |key: &str| -> Read<Option<u64>> {
        let Some(value) = node.get(key) else {
            return Ok(None);
        };
        let text = value.as_str()?;
        parse_duration_ms(text)
            .map(Some)
            .ok_or_else(|| value.error(format!("{text:?} is not a duration like 10s, 500ms or 1m30s")))
    };
    let timeouts = Timeouts {
        request_ms: duration("request")?,
        backend_request_ms: duration("backendRequest")?,
    };
    // CEL: backendRequest must be <= request when request is set and not 0 (disabled).
    if let (Some(request), Some(backend)) = (timeouts.request_ms, timeouts.backend_request_ms)
        && request != 0
        && (backend > request || backend == 0)
    {
        return Err(node.error("backendRequest timeout cannot be longer than request timeout"));
    }
    Ok(timeouts)
}

fn read_retry(rule: &Obj<'_>) -> Read<Option<RetryPolicy>> {
    let Some(node) = rule.get("retry") else {
        return Ok(None);
    };
    node.check_keys(&["codes", "attempts", "backoff"], &[])?;
    let mut codes = Vec::new();
    for code in node.list("codes")? {
        let text = code.as_str()?;
        match text.parse::<u16>() {
            Ok(c) if (400..=599).contains(&c) => codes.push(c),
            _ => return Err(code.error(format!("retry code {text:?} must be between 400 and 599"))),
        }
    }
    let backoff_ms = match node.get("backoff") {
        Some(b) => {
            let text = b.as_str()?;
            Some(parse_duration_ms(text).ok_or_else(|| b.error(format!("{text:?} is not a duration")))?)
        }
        None => None,
    };
    Ok(Some(RetryPolicy {
        codes,
        attempts: node.int("attempts", 0, 1_000)?.unwrap_or(1) as u32,
        backoff_ms,
    }))
}

fn read_match(node: &Obj<'_>) -> Read<RouteMatch> {
    node.check_keys(&["path", "headers", "queryParams", "method"], &[])?;
    let path = match node.get("path") {
        Some(path) => read_path(&path)?,
        None => PathMatch::default(),
    };
    let mut headers: Vec<HeaderMatch> = Vec::new();
    let header_nodes = node.list("headers")?;
    if header_nodes.len() > 16 {
        return Err(node.error("at most 16 header matches"));
    }
    for header in &header_nodes {
        let (kind, name, value) = read_string_match(header)?;
        if !is_header_name(&name) {
            return Err(header.error(format!("{name:?} is not a valid header name")));
        }
        let name = name.to_ascii_lowercase();
        // Gateway API: "If multiple entries specify equivalent header names, only the first
        // entry with an equivalent name MUST be considered for a match."
        if !headers.iter().any(|h| h.name == name) {
            headers.push(HeaderMatch { kind, name, value });
        }
    }
    let mut query_params: Vec<QueryMatch> = Vec::new();
    for query in node.list("queryParams")? {
        let (kind, name, value) = read_string_match(&query)?;
        // Query parameter names match exactly; the first of equal names counts.
        if !query_params.iter().any(|q| q.name == name) {
            query_params.push(QueryMatch { kind, name, value });
        }
    }
    let method = match node.get("method") {
        Some(m) => {
            let method = m.as_str()?;
            if !METHODS.contains(&method) {
                return Err(m.error(format!("{method:?} is not one of {}", METHODS.join(", "))));
            }
            Some(method.to_string())
        }
        None => None,
    };
    Ok(RouteMatch {
        path,
        headers,
        query_params,
        method,
        line: node.node.line,
    })
}

pub(crate) fn read_string_match(node: &Obj<'_>) -> Read<(StringMatchType, String, String)> {
    node.check_keys(&["type", "name", "value"], &[])?;
    let kind = match node.str("type")?.unwrap_or("Exact") {
        "Exact" => StringMatchType::Exact,
        "RegularExpression" => StringMatchType::RegularExpression,
        other => {
            return Err(node.error(format!(
                "unsupported match type {other:?} (Exact or RegularExpression)"
            )));
        }
    };
    let name = node.req_str("name")?.to_string();
    let value = node.req_str("value")?.to_string();
    if kind == StringMatchType::RegularExpression {
        check_regex(node, &value)?;
    }
    Ok((kind, name, value))
}

pub(crate) fn check_regex(node: &Obj<'_>, pattern: &str) -> Read<()> {
    if pattern.len() > switchyard_bytecode::MAX_REGEX_LEN {
        return Err(node.error(format!(
            "regex longer than {} bytes",
            switchyard_bytecode::MAX_REGEX_LEN
        )));
    }
    regex_lite::Regex::new(pattern)
        .map(|_| ())
        .map_err(|e| node.error(format!("invalid regular expression {pattern:?}: {e}")))
}

fn read_path(node: &Obj<'_>) -> Read<PathMatch> {
    node.check_keys(&["type", "value"], &[])?;
    let kind = match node.str("type")?.unwrap_or("PathPrefix") {
        "Exact" => PathType::Exact,
        "PathPrefix" => PathType::PathPrefix,
        "RegularExpression" => PathType::RegularExpression,
        other => return Err(node.error(format!("unsupported path match type {other:?}"))),
    };
    let value = node.str("value")?.unwrap_or("/").to_string();
    if kind == PathType::RegularExpression {
        check_regex(node, &value)?;
    } else if let Some(problem) = invalid_path(&value) {
        return Err(node.error(format!("path {value:?} {problem}")));
    }
    Ok(PathMatch { kind, value })
}

/// Gateway API's CEL rules for Exact and PathPrefix values.
fn invalid_path(value: &str) -> Option<&'static str> {
    if !value.starts_with('/') {
        Some("must start with '/'")
    } else if value.len() > 1024 {
        Some("is longer than 1024 characters")
    } else if value.contains("//") || value.contains("/./") || value.contains("/../") {
        Some("must not contain '//', '/./' or '/../'")
    } else if value.contains("%2f") || value.contains("%2F") || value.contains('#') {
        Some("must not contain '%2f', '%2F' or '#'")
    } else if value.ends_with("/..") || value.ends_with("/.") {
        Some("must not end with '/.' or '/..'")
    } else if !has_valid_path_characters(value) {
        Some("must only contain letters, digits, \"-/._~!$&'()*+,;=:@\" and %XX escapes")
    } else {
        None
    }
}

/// The CRD's pattern for Exact and PathPrefix values:
/// `^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`. Without it a value such as
/// `/a?b` or `/a b` would compile into a rule no request path can match.
fn has_valid_path_characters(value: &str) -> bool {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&c) => i += 1,
            _ => return false,
        }
    }
    true
}

pub(crate) fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// An HTTPRoute backendRef. Its filters run only when it is chosen; besides header
/// modifiers and mirrors it may redirect or rewrite (the Extended features
/// HTTPRouteBackendRequestRedirect and HTTPRouteBackendURLRewrite).
pub(crate) fn read_http_backend_ref(node: &Obj<'_>) -> Read<BackendRef> {
    read_backend_ref(node, |f| {
        matches!(
            f,
            Filter::RequestHeaderModifier(_)
                | Filter::ResponseHeaderModifier(_)
                | Filter::RequestMirror(_)
                | Filter::RequestRedirect(_)
                | Filter::UrlRewrite(_)
        )
    })
}

/// A GRPCRoute backendRef: `GRPCRouteFilter` has header modifiers and mirrors.
pub(crate) fn read_grpc_backend_ref(node: &Obj<'_>) -> Read<BackendRef> {
    read_backend_ref(node, |f| {
        matches!(
            f,
            Filter::RequestHeaderModifier(_) | Filter::ResponseHeaderModifier(_) | Filter::RequestMirror(_)
        )
    })
}

fn read_backend_ref(node: &Obj<'_>, allowed: fn(&Filter) -> bool) -> Read<BackendRef> {
    node.check_keys(
        &["group", "kind", "name", "namespace", "port", "weight", "filters"],
        &[],
    )?;
    let filters = read_filters(node)?;
    if let Some(f) = filters.iter().find(|f| !allowed(f)) {
        return Err(node.error(format!(
            "{} is not supported as a backendRef filter",
            f.type_name()
        )));
    }
    let backend = BackendRef {
        group: node.str("group")?.unwrap_or("").to_string(),
        kind: node.str("kind")?.unwrap_or("Service").to_string(),
        name: node.req_str("name")?.to_string(),
        namespace: node.str("namespace")?.map(str::to_string),
        port: node.int("port", 1, 65535)?.map(|p| p as u32),
        weight: node.int("weight", 0, 1_000_000)?.unwrap_or(1) as u32,
        filters,
    };
    // CEL: "Must have port for Service reference".
    if backend.group.is_empty() && backend.kind == "Service" && backend.port.is_none() {
        return Err(node.error("a Service backendRef needs `port`"));
    }
    Ok(backend)
}

impl ReferenceGrant {
    pub fn read(root: &Obj<'_>, meta: Meta) -> Read<ReferenceGrant> {
        let spec = root.require("spec")?;
        spec.check_keys(&["from", "to"], &[])?;
        let mut from = Vec::new();
        for entry in spec.list("from")? {
            entry.check_keys(&["group", "kind", "namespace"], &[])?;
            from.push((
                entry.req_str("group")?.to_string(),
                entry.req_str("kind")?.to_string(),
                entry.req_str("namespace")?.to_string(),
            ));
        }
        let mut to = Vec::new();
        for entry in spec.list("to")? {
            entry.check_keys(&["group", "kind", "name"], &[])?;
            to.push((
                entry.str("group")?.unwrap_or("").to_string(),
                entry.req_str("kind")?.to_string(),
                entry.str("name")?.map(str::to_string),
            ));
        }
        Ok(ReferenceGrant { meta, from, to })
    }
}
