//! An entry's filters and action as the fields of an Envoy `Route`: the route action
//! (cluster or weighted clusters, rewrites, timeout, retries, mirrors), a redirect or a
//! direct response, header edits, and the per-route CORS and fault configuration.
//! Anything Envoy's route table cannot say is an error, never left out.

use switchyard_bytecode::ir::{
    ActionIr, BackendIr, CorsIr, EntryIr, FilterIr, HeaderEditIr, OriginMatchIr, PathIr, PortDerivation,
    RedirectIr,
};

use std::collections::BTreeSet;

use super::route_match::safe_regex;
use crate::emit::yaml::{Node, yaml_map};

/// The cluster a share of requests goes to when its backend reference did not resolve:
/// no such cluster exists, and the route answers 500 for it
/// (`cluster_not_found_response_code`), as the program does.
pub const UNRESOLVED_CLUSTER: &str = "switchyard-unresolved-backend";
/// The CORS filter, whose per-route policy a route carries.
pub const CORS_FILTER: &str = "envoy.filters.http.cors";
const CORS_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";
const FAULT_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";

/// What the route table needs from the connection manager around it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// A route has a CORS policy: the chain needs `envoy.filters.http.cors`.
    pub cors: bool,
    /// A route injects faults: the chain needs `envoy.filters.http.fault`.
    pub fault: bool,
    /// A route names [`UNRESOLVED_CLUSTER`]: the table must not validate clusters.
    pub unresolved: bool,
    /// A backend has its own header edits, which must win over the route's.
    pub backend_headers: bool,
    /// The table ends with Istio's passthrough virtual host: the proxy needs a
    /// `PassthroughCluster`.
    pub passthrough: bool,
}

impl Needs {
    pub fn merge(&mut self, other: Needs) {
        self.cors |= other.cors;
        self.fault |= other.fault;
        self.unresolved |= other.unresolved;
        self.backend_headers |= other.backend_headers;
        self.passthrough |= other.passthrough;
    }
}

/// The path change of a route: Envoy takes one per route.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PathRewrite {
    /// The whole path (the query is kept).
    Full(String),
    /// The matched prefix, replaced by this (`prefix_rewrite`).
    Prefix(String),
    /// RE2 pattern and substitution (`regex_rewrite`).
    Regex(String, String),
}

/// The entry's filters, gathered per Envoy field.
#[derive(Debug, Default)]
struct Gathered {
    request_headers: Vec<HeaderEditIr>,
    response_headers: Vec<HeaderEditIr>,
    host: Option<String>,
    path: Option<PathRewrite>,
    mirrors: Vec<(String, u32)>,
    request_timeout_ms: Option<u32>,
    backend_timeout_ms: Option<u32>,
    retry: Option<(u32, String, Vec<u16>)>,
    cors: Option<CorsIr>,
    abort: Option<(u16, u32)>,
    delay: Option<(u32, u32)>,
}

/// The fields of the route for `entry` after `match`, on a listener at `port`.
pub fn route_fields(entry: &EntryIr, port: u32, needs: &mut Needs) -> Result<Vec<(String, Node)>, String> {
    let folded = fold_lone_backend(entry);
    let entry = folded.as_ref().unwrap_or(entry);
    let mut g = Gathered::default();
    for filter in &entry.filters {
        gather(&mut g, filter, entry)?;
    }
    let mut fields: Vec<(String, Node)> = Vec::new();
    let mut push = |key: &str, value: Node| fields.push((key.to_string(), value));
    match &entry.action {
        ActionIr::Forward(backends) => match forward(backends, &g, needs)? {
            Forwarded::Route(action) => push("route", action),
            Forwarded::Answer(status) => push("direct_response", direct_response(status, None)),
        },
        ActionIr::Reply { status, body } => {
            push("direct_response", direct_response(*status, body.as_deref()))
        }
        ActionIr::Redirect(redirect) => push("redirect", redirect_action(redirect, &g, port)?),
    }
    let forwards = matches!(&entry.action, ActionIr::Forward(_));
    if forwards {
        header_fields(&g.request_headers, "request", &mut push)?;
    }
    header_fields(&g.response_headers, "response", &mut push)?;
    let mut per_filter = Vec::new();
    if let Some(cors) = &g.cors {
        needs.cors = true;
        per_filter.push((CORS_FILTER.to_string(), cors_policy(cors)));
    }
    if forwards && (g.abort.is_some() || g.delay.is_some()) {
        needs.fault = true;
        per_filter.push((
            crate::emit::envoy::FAULT_FILTER.to_string(),
            fault(g.abort, g.delay),
        ));
    }
    if !per_filter.is_empty() {
        push("typed_per_filter_config", Node::Map(per_filter));
    }
    Ok(fields)
}

/// An entry whose only backend that takes requests redirects or rewrites the path, as
/// an entry that does so itself: Envoy's weighted clusters carry neither, but with one
/// share the backend's filters always run, after the rule's, which is what appending
/// them to the rule's does. `None` when nothing needs folding (or the share is answered
/// because the backend did not resolve: then its filters never run).
fn fold_lone_backend(entry: &EntryIr) -> Option<EntryIr> {
    let ActionIr::Forward(backends) = &entry.action else {
        return None;
    };
    let [only] = backends.iter().filter(|b| b.weight > 0).collect::<Vec<_>>()[..] else {
        return None;
    };
    let rewrites_path = only.filters.iter().any(|f| {
        matches!(
            f,
            FilterIr::SetPath(_)
                | FilterIr::ReplacePrefix { .. }
                | FilterIr::ReplacePrefixPlain { .. }
                | FilterIr::RegexRewrite { .. }
        )
    });
    if !(rewrites_path || only.redirect.is_some()) || !matches!(share_of(only), Share::Cluster(_)) {
        return None;
    }
    let mut folded = entry.clone();
    folded.filters.extend(only.filters.iter().cloned());
    folded.action = match &only.redirect {
        Some(redirect) => ActionIr::Redirect((**redirect).clone()),
        None => ActionIr::Forward(vec![BackendIr {
            filters: Vec::new(),
            ..only.clone()
        }]),
    };
    Some(folded)
}

fn gather(g: &mut Gathered, filter: &FilterIr, entry: &EntryIr) -> Result<(), String> {
    let set_path = |g: &mut Gathered, rewrite: PathRewrite| {
        if g.path.is_some() {
            return Err("two path rewrites on one match (an Envoy route has one)".to_string());
        }
        g.path = Some(rewrite);
        Ok(())
    };
    match filter {
        // Envoy cannot set `host` as a header; the route's host rewrite does it.
        FilterIr::RequestHeader(HeaderEditIr::Set(name, host)) if name == "host" => {
            g.host = Some(host.clone())
        }
        FilterIr::RequestHeader(edit) => g.request_headers.push(edit.clone()),
        FilterIr::ResponseHeader(edit) => g.response_headers.push(edit.clone()),
        FilterIr::SetHost(host) => g.host = Some(host.clone()),
        FilterIr::SetPath(path) => set_path(g, PathRewrite::Full(path.clone()))?,
        FilterIr::ReplacePrefix { prefix, replacement } => {
            if let Some(rewrite) = segment_prefix_rewrite(&entry.path, prefix, replacement) {
                set_path(g, rewrite)?;
            }
        }
        FilterIr::ReplacePrefixPlain { prefix, replacement } => {
            set_path(g, plain_prefix_rewrite(entry, prefix, replacement))?;
        }
        FilterIr::RegexRewrite { pattern, replacement } => {
            set_path(
                g,
                PathRewrite::Regex(pattern.clone(), re2_substitution(replacement)?),
            )?;
        }
        FilterIr::Mirror { backend, per_million } => {
            if backend
                .filters
                .iter()
                .any(|f| !matches!(f, FilterIr::NoCluster { .. }))
            {
                return Err("a mirror backend with its own filters".into());
            }
            // An unresolved mirror is never sent, in the program as in Envoy; one to a
            // cluster the proxy does not have is configured and dropped by Envoy, as a
            // control plane would leave it.
            let cluster = match share_of(backend) {
                Share::Cluster(cluster) => Some(cluster.to_string()),
                Share::Missing(_) if backend.cluster.is_some() => Some(UNRESOLVED_CLUSTER.to_string()),
                Share::Missing(_) => None,
            };
            if let Some(cluster) = cluster
                && *per_million > 0
            {
                g.mirrors.push((cluster, *per_million));
            }
        }
        FilterIr::Timeout {
            request_ms,
            backend_ms,
        } => {
            g.request_timeout_ms = request_ms.or(g.request_timeout_ms);
            g.backend_timeout_ms = backend_ms.or(g.backend_timeout_ms);
        }
        FilterIr::Retry {
            attempts,
            retry_on,
            codes,
        } => g.retry = Some((*attempts, retry_on.clone(), codes.clone())),
        FilterIr::Cors(cors) => g.cors = Some(cors.clone()),
        FilterIr::FaultAbort { status, per_million } => g.abort = Some((*status, *per_million)),
        FilterIr::FaultDelay {
            delay_ms,
            per_million,
        } => g.delay = Some((*delay_ms, *per_million)),
        FilterIr::NoCluster { .. } => return Err("a missing cluster on a rule rather than a backend".into()),
    }
    Ok(())
}

/// The plain string the route's path specifier matches as a prefix, when it is one:
/// `prefix_rewrite` replaces exactly that.
fn matched_prefix(path: &PathIr) -> Option<String> {
    match path {
        PathIr::Prefix(segments) => Some(format!("/{}", segments.join("/"))),
        PathIr::StringPrefix(prefix) if prefix.is_empty() => Some("/".to_string()),
        PathIr::StringPrefix(prefix) => Some(prefix.clone()),
        _ => None,
    }
}

/// Gateway API ReplacePrefixMatch (the evaluator's `replace_prefix`): the prefix's
/// segments are replaced by the replacement's, without doubling or losing the `/`
/// between them. `None`: the path does not change (`/` by `/`).
fn segment_prefix_rewrite(path: &PathIr, prefix: &str, replacement: &str) -> Option<PathRewrite> {
    let prefix = prefix.trim_end_matches('/');
    let replacement = replacement.trim_end_matches('/');
    let escaped = regex_lite::escape(prefix);
    if replacement.is_empty() {
        // `/foo/bar` -> `/bar`, `/foo` and `/foo/` -> `/`.
        return (!prefix.is_empty()).then(|| PathRewrite::Regex(format!("^{escaped}(/|$)"), "/".into()));
    }
    let matched = matched_prefix(path);
    let replacement_text = substitution_literal(replacement);
    if prefix.is_empty() {
        // The root prefix: `/bar` -> `/xyz/bar`; Envoy replaces the matched `/`.
        return Some(match matched.as_deref() {
            Some("/") => PathRewrite::Prefix(format!("{replacement}/")),
            _ => PathRewrite::Regex("^".into(), replacement_text),
        });
    }
    Some(if matched.as_deref() == Some(prefix) {
        PathRewrite::Prefix(replacement.to_string())
    } else {
        PathRewrite::Regex(format!("^{escaped}"), replacement_text)
    })
}

/// Istio `rewrite.uri` on a prefix match: the matched prefix, as a plain string.
fn plain_prefix_rewrite(entry: &EntryIr, prefix: &str, replacement: &str) -> PathRewrite {
    // The path specifier is a case-folded prefix when a path predicate remains.
    let folded = entry.predicates.iter().any(|p| {
        matches!(
            p,
            switchyard_bytecode::ir::PredicateIr::IgnoreCase(_)
                | switchyard_bytecode::ir::PredicateIr::PathPrefix(_)
        )
    });
    if !folded && matched_prefix(&entry.path).as_deref() == Some(prefix) {
        PathRewrite::Prefix(replacement.to_string())
    } else {
        PathRewrite::Regex(
            format!("^{}", regex_lite::escape(prefix)),
            substitution_literal(replacement),
        )
    }
}

/// A literal as an RE2 substitution (a backslash starts an escape there).
fn substitution_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
}

/// The program's rewrite replacement (regex-lite syntax: `${1}` or `$1` a group, `$$`
/// a dollar) as an RE2 substitution (`\1` a group, `\\` a backslash).
fn re2_substitution(replacement: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '$' if chars.peek() == Some(&'$') => {
                chars.next();
                out.push('$');
            }
            '$' => {
                let braced = chars.peek() == Some(&'{');
                if braced {
                    chars.next();
                }
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                if braced && chars.next() != Some('}') || digits.is_empty() || digits.len() > 1 {
                    return Err(format!(
                        "the rewrite replacement {replacement:?} uses a group RE2 substitutions cannot name (\\0 to \\9 only)"
                    ));
                }
                out.push('\\');
                out.push_str(&digits);
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

enum Forwarded {
    Route(Node),
    /// No share can be forwarded: the program answers with this status.
    Answer(u16),
}

/// Where one share of requests goes: a cluster, or an answer when the program has no
/// cluster for it (an unresolved reference: 500; an Istio subset no DestinationRule
/// defines: Envoy's 503 for a cluster it does not know).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Share<'a> {
    Cluster(&'a str),
    Missing(u16),
}

fn share_of(backend: &BackendIr) -> Share<'_> {
    let missing = backend.filters.iter().find_map(|f| match f {
        FilterIr::NoCluster { status } => Some(*status),
        _ => None,
    });
    match (missing, &backend.cluster) {
        (Some(status), _) => Share::Missing(status),
        (None, Some(cluster)) => Share::Cluster(cluster),
        (None, None) => Share::Missing(500),
    }
}

/// Envoy's `cluster_not_found_response_code` for a status.
fn not_found_code(status: u16) -> Result<&'static str, String> {
    match status {
        503 => Ok("SERVICE_UNAVAILABLE"),
        500 => Ok("INTERNAL_SERVER_ERROR"),
        404 => Ok("NOT_FOUND"),
        other => Err(format!(
            "a backend answered with status {other} (Envoy answers a missing cluster with 503, 500 or 404)"
        )),
    }
}

/// The route action: one cluster, or weighted clusters when there are several shares,
/// a share without a cluster (answered through a cluster that does not exist) or
/// per-backend edits.
fn forward(backends: &[BackendIr], g: &Gathered, needs: &mut Needs) -> Result<Forwarded, String> {
    let shares: Vec<(&BackendIr, Share<'_>)> = backends
        .iter()
        .filter(|b| b.weight > 0)
        .map(|b| (b, share_of(b)))
        .collect();
    let missing: BTreeSet<u16> = shares
        .iter()
        .filter_map(|(_, s)| match s {
            Share::Missing(status) => Some(*status),
            Share::Cluster(_) => None,
        })
        .collect();
    if shares.iter().all(|(_, s)| matches!(s, Share::Missing(_))) {
        // Nothing is ever forwarded: the program answers (500 with no share at all).
        return Ok(Forwarded::Answer(missing.first().copied().unwrap_or(500)));
    }
    if missing.len() > 1 {
        return Err(format!(
            "shares answered with different statuses {missing:?} (Envoy has one cluster_not_found_response_code per route)"
        ));
    }
    let mut action = match shares.as_slice() {
        [(only, Share::Cluster(cluster))] if only.filters.is_empty() => yaml_map! { "cluster" => *cluster },
        _ => {
            let mut clusters = Vec::new();
            for (backend, share) in &shares {
                let name: &str = match share {
                    Share::Cluster(cluster) => cluster,
                    Share::Missing(_) => UNRESOLVED_CLUSTER,
                };
                let mut cluster = yaml_map! { "name" => name, "weight" => backend.weight };
                backend_fields(backend, &mut cluster, needs)?;
                clusters.push(cluster);
            }
            let mut action = yaml_map! { "weighted_clusters" => yaml_map! { "clusters" => clusters } };
            if let Some(status) = missing.first() {
                needs.unresolved = true;
                action.push("cluster_not_found_response_code", not_found_code(*status)?);
            }
            action
        }
    };
    match &g.path {
        None => {}
        Some(PathRewrite::Prefix(replacement)) => action.push("prefix_rewrite", replacement),
        // The query is not part of what `regex_rewrite` sees, so it is kept.
        Some(PathRewrite::Full(path)) => action.push(
            "regex_rewrite",
            regex_rewrite("^/.*$", &substitution_literal(path)),
        ),
        Some(PathRewrite::Regex(pattern, substitution)) => {
            action.push("regex_rewrite", regex_rewrite(pattern, substitution));
        }
    }
    if let Some(host) = &g.host {
        action.push("host_rewrite_literal", host);
    }
    // Istio's default: no route timeout (Envoy's own default is 15 s).
    action.push("timeout", duration(g.request_timeout_ms.unwrap_or(0)));
    let mut retry = Node::Map(Vec::new());
    if let Some((attempts, retry_on, codes)) = &g.retry {
        retry.push("retry_on", retry_on);
        retry.push("num_retries", *attempts);
        if !codes.is_empty() {
            retry.push(
                "retriable_status_codes",
                codes
                    .iter()
                    .map(|c| Node::from(u32::from(*c)))
                    .collect::<Vec<_>>(),
            );
        }
    }
    if let Some(ms) = g.backend_timeout_ms.filter(|ms| *ms > 0) {
        retry.push("per_try_timeout", duration(ms));
    }
    if retry != Node::Map(Vec::new()) {
        action.push("retry_policy", retry);
    }
    if g.mirrors.iter().any(|(c, _)| c == UNRESOLVED_CLUSTER) {
        needs.unresolved = true;
    }
    if !g.mirrors.is_empty() {
        let mirrors: Vec<Node> = g
            .mirrors
            .iter()
            .map(|(cluster, per_million)| {
                let mut mirror = yaml_map! { "cluster" => cluster };
                if *per_million < 1_000_000 {
                    mirror.push(
                        "runtime_fraction",
                        yaml_map! { "default_value" => fraction(*per_million) },
                    );
                }
                mirror
            })
            .collect();
        action.push("request_mirror_policies", mirrors);
    }
    Ok(Forwarded::Route(action))
}

/// A weighted cluster's own edits (Gateway API backendRef filters): headers and host.
fn backend_fields(backend: &BackendIr, cluster: &mut Node, needs: &mut Needs) -> Result<(), String> {
    if backend.redirect.is_some() && matches!(share_of(backend), Share::Cluster(_)) {
        return Err(
            "a backendRef RequestRedirect beside other weighted backends (Envoy redirects whole routes, not weighted clusters)"
                .into(),
        );
    }
    let (mut request, mut response) = (Vec::new(), Vec::new());
    for filter in &backend.filters {
        match filter {
            FilterIr::RequestHeader(edit) => request.push(edit.clone()),
            FilterIr::ResponseHeader(edit) => response.push(edit.clone()),
            FilterIr::SetHost(host) => cluster.push("host_rewrite_literal", host),
            // The share's answer, see `share_of`.
            FilterIr::NoCluster { .. } => {}
            other => {
                return Err(format!(
                    "a backendRef filter Envoy's weighted clusters cannot carry ({})",
                    filter_name(other)
                ));
            }
        }
    }
    needs.backend_headers |= !request.is_empty() || !response.is_empty();
    let mut fields = Vec::new();
    header_fields(&request, "request", &mut |k: &str, v| {
        fields.push((k.to_string(), v))
    })?;
    header_fields(&response, "response", &mut |k: &str, v| {
        fields.push((k.to_string(), v))
    })?;
    for (key, value) in fields {
        cluster.push(&key, value);
    }
    Ok(())
}

fn filter_name(filter: &FilterIr) -> &'static str {
    match filter {
        FilterIr::RequestHeader(_) => "request header edit",
        FilterIr::ResponseHeader(_) => "response header edit",
        FilterIr::SetHost(_) => "host rewrite",
        FilterIr::SetPath(_)
        | FilterIr::ReplacePrefix { .. }
        | FilterIr::ReplacePrefixPlain { .. }
        | FilterIr::RegexRewrite { .. } => "path rewrite",
        FilterIr::Mirror { .. } => "mirror",
        FilterIr::Timeout { .. } => "timeout",
        FilterIr::Retry { .. } => "retry",
        FilterIr::Cors(_) => "CORS",
        FilterIr::FaultAbort { .. } | FilterIr::FaultDelay { .. } => "fault injection",
        FilterIr::NoCluster { .. } => "missing cluster",
    }
}

/// `request_headers_to_add` / `_to_remove` (or the response's). The program applies the
/// edits in order; Envoy removes first, then adds in order, which gives the same headers
/// once an add followed by a removal of the same name is dropped. `host` cannot be added
/// by Envoy: setting it is the route's host rewrite, done by the caller for requests.
fn header_fields(
    edits: &[HeaderEditIr],
    side: &str,
    push: &mut impl FnMut(&str, Node),
) -> Result<(), String> {
    let mut kept: Vec<&HeaderEditIr> = Vec::new();
    for edit in edits {
        if let HeaderEditIr::Remove(name) = edit {
            kept.retain(|e| !matches!(e, HeaderEditIr::Set(n, _) | HeaderEditIr::Add(n, _) if n == name));
        }
        kept.push(edit);
    }
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for edit in kept {
        let name = match edit {
            HeaderEditIr::Set(n, _) | HeaderEditIr::Add(n, _) | HeaderEditIr::Remove(n) => n,
        };
        if name.starts_with(':') || (side == "request" && name == "host") {
            return Err(format!(
                "a {side} header edit of {name:?}, which Envoy's header lists cannot change"
            ));
        }
        match edit {
            HeaderEditIr::Set(n, v) | HeaderEditIr::Add(n, v) => {
                let action = if matches!(edit, HeaderEditIr::Set(..)) {
                    "OVERWRITE_IF_EXISTS_OR_ADD"
                } else {
                    "APPEND_IF_EXISTS_OR_ADD"
                };
                // `%` starts a substitution in Envoy header values.
                add.push(yaml_map! {
                    "header" => yaml_map! { "key" => n, "value" => v.replace('%', "%%") },
                    "append_action" => action,
                });
            }
            HeaderEditIr::Remove(n) => remove.push(Node::from(n)),
        }
    }
    if !add.is_empty() {
        push(&format!("{side}_headers_to_add"), Node::List(add));
    }
    if !remove.is_empty() {
        push(&format!("{side}_headers_to_remove"), Node::List(remove));
    }
    Ok(())
}

fn regex_rewrite(pattern: &str, substitution: &str) -> Node {
    yaml_map! { "pattern" => safe_regex(pattern), "substitution" => substitution }
}

fn direct_response(status: u16, body: Option<&str>) -> Node {
    let mut node = yaml_map! { "status" => u32::from(status) };
    if let Some(body) = body {
        node.push("body", yaml_map! { "inline_string" => body });
    }
    node
}

/// A `RedirectAction`. The port: the program leaves a scheme's default port out of the
/// Location while Envoy writes any `port_redirect` it is given, so a default port is not
/// given; where the program takes the listener's port, this table's listener is it.
fn redirect_action(redirect: &RedirectIr, g: &Gathered, port: u32) -> Result<Node, String> {
    let mut node = Node::Map(Vec::new());
    if let Some(scheme) = &redirect.scheme {
        node.push("scheme_redirect", scheme);
    }
    if let Some(host) = &redirect.host {
        node.push("host_redirect", host);
    }
    if let Some(port) = redirect_port(redirect, port) {
        node.push("port_redirect", port);
    }
    match &g.path {
        None => {}
        // Envoy keeps the request's query when the new path has none, as the program does.
        Some(PathRewrite::Full(path)) => node.push("path_redirect", path),
        Some(PathRewrite::Prefix(replacement)) => node.push("prefix_rewrite", replacement),
        Some(PathRewrite::Regex(pattern, substitution)) => {
            node.push("regex_rewrite", regex_rewrite(pattern, substitution));
        }
    }
    let code = match redirect.status {
        301 => "MOVED_PERMANENTLY",
        302 => "FOUND",
        303 => "SEE_OTHER",
        307 => "TEMPORARY_REDIRECT",
        308 => "PERMANENT_REDIRECT",
        other => {
            return Err(format!(
                "a redirect with status {other} (Envoy has 301, 302, 303, 307, 308)"
            ));
        }
    };
    node.push("response_code", code);
    Ok(node)
}

/// The port to write into the Location, if any (see [`redirect_action`]).
fn redirect_port(redirect: &RedirectIr, listener: u32) -> Option<u32> {
    let scheme = redirect
        .scheme
        .as_deref()
        .unwrap_or(if listener == 443 { "https" } else { "http" });
    let default = if scheme == "https" { 443 } else { 80 };
    let port = match (redirect.port, redirect.derive) {
        (Some(port), _) => u32::from(port),
        (None, PortDerivation::ListenerPort) => listener,
        // Gateway API: no scheme and no port set, the listener's port.
        (None, PortDerivation::GatewayApi) if redirect.scheme.is_none() => listener,
        (None, _) => return None,
    };
    (port != default).then_some(port)
}

/// A per-route `CorsPolicy`. Gateway API origins are exact (ASCII case-insensitive),
/// `*`, or with one `*` standing for a non-empty run; a preflight from an origin not
/// allowed is answered by the proxy, not forwarded. Istio's policy is Envoy's own.
fn cors_policy(cors: &CorsIr) -> Node {
    let origins: Vec<Node> = match &cors.envoy {
        Some(envoy) => envoy
            .origins
            .iter()
            .map(|origin| match origin {
                OriginMatchIr::Exact(v) => yaml_map! { "exact" => v },
                OriginMatchIr::Prefix(v) => yaml_map! { "prefix" => v },
                OriginMatchIr::Regex(v) => yaml_map! { "safe_regex" => safe_regex(v) },
            })
            .collect(),
        None => cors
            .allow_origins
            .iter()
            .map(|origin| match origin.split_once('*') {
                _ if origin == "*" => yaml_map! { "safe_regex" => safe_regex(".*") },
                None => yaml_map! { "exact" => origin, "ignore_case" => true },
                Some((before, after)) => yaml_map! {
                    "safe_regex" => safe_regex(&format!(
                        "(?i){}.+{}",
                        regex_lite::escape(before),
                        regex_lite::escape(after)
                    )),
                },
            })
            .collect(),
    };
    let mut policy = yaml_map! { "@type" => CORS_TYPE, "allow_origin_string_match" => origins };
    for (key, values) in [
        ("allow_methods", &cors.allow_methods),
        ("allow_headers", &cors.allow_headers),
        ("expose_headers", &cors.expose_headers),
    ] {
        if !values.is_empty() {
            policy.push(key, values.join(","));
        }
    }
    if cors.envoy.as_ref().is_none_or(|e| e.send_max_age) {
        policy.push("max_age", cors.max_age_seconds.to_string());
    }
    policy.push("allow_credentials", cors.allow_credentials);
    let forward_unmatched = cors
        .envoy
        .as_ref()
        .is_some_and(|e| e.forward_unmatched_preflights);
    policy.push("forward_not_matching_preflights", forward_unmatched);
    policy
}

fn fault(abort: Option<(u16, u32)>, delay: Option<(u32, u32)>) -> Node {
    let mut node = yaml_map! { "@type" => FAULT_TYPE };
    if let Some((ms, per_million)) = delay {
        node.push(
            "delay",
            yaml_map! { "fixed_delay" => duration(ms), "percentage" => fraction(per_million) },
        );
    }
    if let Some((status, per_million)) = abort {
        node.push(
            "abort",
            yaml_map! { "http_status" => u32::from(status), "percentage" => fraction(per_million) },
        );
    }
    node
}

fn fraction(per_million: u32) -> Node {
    yaml_map! { "numerator" => per_million, "denominator" => "MILLION" }
}

/// Milliseconds as a protobuf JSON duration (`1.500s`).
pub fn duration(ms: u32) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_groups_become_re2_substitutions() {
        assert_eq!(re2_substitution("/v2/${1}/x").unwrap(), r"/v2/\1/x");
        assert_eq!(re2_substitution("$2$$").unwrap(), r"\2$");
        assert_eq!(re2_substitution(r"/a\b").unwrap(), r"/a\\b");
        assert!(re2_substitution("${12}").is_err());
        assert!(re2_substitution("$name").is_err());
    }

    #[test]
    fn replace_prefix_match_keeps_one_slash_between_segments() {
        let segments = |p: &str| {
            PathIr::Prefix(
                p.split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            )
        };
        // Same prefix as the route's path_separated_prefix: Envoy's prefix_rewrite.
        assert_eq!(
            segment_prefix_rewrite(&segments("/foo"), "/foo/", "/xyz/"),
            Some(PathRewrite::Prefix("/xyz".into()))
        );
        // Empty replacement: `/foo/bar` -> `/bar`, `/foo` -> `/`.
        assert_eq!(
            segment_prefix_rewrite(&segments("/foo"), "/foo", "/"),
            Some(PathRewrite::Regex("^/foo(/|$)".into(), "/".into()))
        );
        // The root prefix keeps the `/` after the replacement.
        assert_eq!(
            segment_prefix_rewrite(&segments("/"), "/", "/api"),
            Some(PathRewrite::Prefix("/api/".into()))
        );
        assert_eq!(segment_prefix_rewrite(&segments("/"), "/", "/"), None);
    }

    #[test]
    fn an_add_then_remove_of_one_header_leaves_only_the_removal() {
        let mut fields = Vec::new();
        header_fields(
            &[
                HeaderEditIr::Set("x-a".into(), "1%".into()),
                HeaderEditIr::Remove("x-a".into()),
                HeaderEditIr::Add("x-b".into(), "2".into()),
            ],
            "request",
            &mut |k: &str, v| fields.push((k.to_string(), v)),
        )
        .unwrap();
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["request_headers_to_add", "request_headers_to_remove"]);
        let json = crate::emit::envoy_routes::json::to_json(&fields[0].1, false);
        assert!(
            !json.contains("x-a") && json.contains("APPEND_IF_EXISTS_OR_ADD"),
            "{json}"
        );
        let literal = {
            let mut out = Vec::new();
            header_fields(
                &[HeaderEditIr::Set("x-a".into(), "100%".into())],
                "response",
                &mut |k: &str, v| out.push((k.to_string(), v)),
            )
            .unwrap();
            crate::emit::envoy_routes::json::to_json(&out[0].1, false)
        };
        assert!(
            literal.contains("100%%"),
            "a literal % is escaped for Envoy: {literal}"
        );
    }

    #[test]
    fn redirect_ports_leave_the_schemes_default_out() {
        let redirect = |scheme: Option<&str>, port: Option<u16>, derive| RedirectIr {
            status: 302,
            scheme: scheme.map(str::to_string),
            host: None,
            port,
            derive,
        };
        assert_eq!(
            redirect_port(&redirect(Some("https"), None, PortDerivation::GatewayApi), 80),
            None
        );
        assert_eq!(
            redirect_port(&redirect(None, None, PortDerivation::GatewayApi), 8080),
            Some(8080)
        );
        assert_eq!(
            redirect_port(&redirect(None, None, PortDerivation::GatewayApi), 80),
            None
        );
        assert_eq!(
            redirect_port(
                &redirect(Some("https"), Some(443), PortDerivation::GatewayApi),
                80
            ),
            None
        );
        assert_eq!(
            redirect_port(&redirect(None, Some(8443), PortDerivation::KeepAuthority), 80),
            Some(8443)
        );
        assert_eq!(
            redirect_port(&redirect(None, None, PortDerivation::ListenerPort), 8080),
            Some(8080)
        );
        assert_eq!(
            redirect_port(&redirect(None, None, PortDerivation::KeepAuthority), 8080),
            None
        );
    }

    #[test]
    fn durations_are_protobuf_json() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(2000), "2s");
        assert_eq!(duration(1500), "1.500s");
    }
}
