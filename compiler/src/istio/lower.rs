//! Lowering the rules of one VirtualService for one listener (`route.go`
//! `BuildHTTPRoutesForVirtualService`, `TranslateRoute`, `TranslateRouteMatch`).

use switchyard_bytecode::SourceKind;
use switchyard_bytecode::ir::{
    ActionIr, BackendIr, EntryIr, FilterIr, HeaderEditIr, PathIr, PortDerivation, PredicateIr, RedirectIr,
    SourceIr,
};

use crate::diag::Diagnostics;
use crate::gateway_api::backends::ClusterNaming;
use crate::resources::Resources;
use crate::resources::istio::{
    Destination, HeaderOps, Headers, HttpMatch, HttpRule, Redirect, RedirectPort, Retries, RuleAction,
    StringMatch, VirtualService,
};

use super::cors::cors_policy;
use super::delegate::FlatRule;
use super::destination::{destination_backend, effective_weights};
use super::destination_rule::DestinationRules;
use super::vs_warning;

/// What the routes are built for: `TranslateRoute` drops matches that do not fit it.
#[derive(Debug, Clone)]
pub struct Proxy {
    /// The proxy's namespace (`sourceNamespace`).
    pub namespace: String,
    /// The proxy's labels (`sourceLabels`).
    pub labels: Vec<(String, String)>,
    /// The gateway the routes are built for as `namespace/name`, or `mesh` for a sidecar.
    pub gateway: String,
    pub listener_port: u32,
}

/// Istio's default retry conditions (`route/retry/retry.go`), used when `retries` or its
/// `retryOn` is unset.
const DEFAULT_RETRY_ON: &str = switchyard_bytecode::ISTIO_DEFAULT_RETRY.retry_on;

/// An entry, and whether Envoy's route for it is a catch-all (`IsCatchAllRoute`).
pub type Lowered = (EntryIr, bool);

#[derive(Debug)]
pub struct Scope<'a> {
    pub resources: &'a Resources,
    pub naming: &'a ClusterNaming,
    pub proxy: &'a Proxy,
    /// Which DestinationRule, and so which subsets, apply to each destination host.
    pub destination_rules: &'a DestinationRules,
}

/// What Envoy answers for a route to a cluster it does not have.
const NO_CLUSTER: u16 = 503;

/// Why `destination` names a subset cluster the proxy does not have (see
/// `destination_rule`), if it does.
fn missing_subset(destination: &Destination, namespace: &str, scope: &Scope<'_>) -> Option<String> {
    scope
        .destination_rules
        .missing_subset(destination, namespace, scope.proxy, &scope.naming.cluster_domain)
}

/// `BuildHTTPRoutesForVirtualService`: rules in `http[]` order, matches in `match[]`
/// order; a catch-all "ends the VS; later rules are dropped".
pub fn lower_rules(rules: &[FlatRule<'_>], scope: &Scope<'_>, diagnostics: &mut Diagnostics) -> Vec<Lowered> {
    let mut out = Vec::new();
    for flat in rules {
        let rule = &flat.rule;
        let Some(action) = lower_action(flat, scope, diagnostics) else {
            continue;
        };
        if rule.matches.is_empty() {
            // A rule without matches is one route matching everything.
            out.push((entry(flat, 0, None, &action, scope), true));
            break;
        }
        let mut catch_all = false;
        for (index, m) in rule.matches.iter().enumerate() {
            if !fits_proxy(m, scope.proxy) {
                continue;
            }
            let all = is_catch_all(m);
            out.push((entry(flat, index, Some(m), &action, scope), all));
            if all {
                catch_all = true;
                break;
            }
        }
        if catch_all {
            break;
        }
    }
    out
}

/// `TranslateRoute` + `sourceMatchHTTP`: "a match is dropped if its port ≠ listener
/// port, its `gateways` exclude this gateway (a sidecar is `mesh`), or labels/namespace
/// don't fit the proxy; with `match.gateways` set, source fields are ignored".
pub(crate) fn fits_proxy(m: &HttpMatch, proxy: &Proxy) -> bool {
    if m.port.is_some_and(|p| p != proxy.listener_port) {
        return false;
    }
    if !m.gateways.is_empty() {
        // Match gateways were resolved to namespace/name when the rule was flattened.
        return m.gateways.contains(&proxy.gateway);
    }
    let labels_fit = m
        .source_labels
        .iter()
        .all(|(k, v)| proxy.labels.iter().any(|(pk, pv)| pk == k && pv == v));
    labels_fit
        && m.source_namespace
            .as_ref()
            .is_none_or(|ns| *ns == proxy.namespace)
}

/// `IsCatchAllRoute`: path prefix `/` or regex `.*`, and no header or query matcher
/// (`method`, `authority` and `scheme` are header matchers).
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

/// What a rule does, independent of which of its matches won.
enum Action {
    Forward(Vec<BackendIr>),
    Redirect(Redirect),
    Reply(u16, Option<String>),
}

fn lower_action(flat: &FlatRule<'_>, scope: &Scope<'_>, diagnostics: &mut Diagnostics) -> Option<Action> {
    let rule = &flat.rule;
    let vs = flat.owner;
    Some(match &rule.action {
        RuleAction::Route(destinations) => {
            let weights: Vec<Option<u32>> = destinations.iter().map(|d| d.weight).collect();
            let kept = match effective_weights(&weights) {
                Ok(kept) => kept,
                Err(message) => {
                    diagnostics.push(vs_warning(
                        vs,
                        &format!("spec.http[{}].route", flat.rule_index),
                        format!("{message}; Istio rejects the rule, so it is dropped"),
                    ));
                    return None;
                }
            };
            for mirror in &rule.mirrors {
                if let Some(why) = missing_subset(&mirror.destination, &vs.meta.namespace, scope) {
                    // `mirror` is a Destination itself; `mirrors[]` entries hold one.
                    let field = if mirror.field.ends_with(']') {
                        format!("{}.destination.subset", mirror.field)
                    } else {
                        format!("{}.subset", mirror.field)
                    };
                    diagnostics.push(vs_warning(vs, &field, format!("{why}; the mirror is dropped")));
                }
            }
            let mut backends = Vec::new();
            for (i, weight) in kept {
                let d = &destinations[i];
                let mut backend = destination_backend(
                    &d.destination,
                    &vs.meta.namespace,
                    &scope.proxy.namespace,
                    scope.proxy.listener_port,
                    scope.resources,
                    scope.naming,
                );
                backend.weight = weight;
                // Destination-level edits sit on the weighted cluster; the route's come
                // after them so that, as in Envoy, the route level wins a conflict.
                backend.filters = header_filters(&d.headers);
                backend.filters.extend(header_filters(&rule.headers));
                if let Some(authority) = rule.rewrite.as_ref().and_then(|r| r.authority.clone()) {
                    backend.filters.push(FilterIr::SetHost(authority));
                }
                if let Some(why) = missing_subset(&d.destination, &vs.meta.namespace, scope) {
                    diagnostics.push(vs_warning(
                        vs,
                        &format!("spec.http[{}].route[{i}].destination.subset", flat.rule_index),
                        why,
                    ));
                    backend.filters.push(FilterIr::NoCluster { status: NO_CLUSTER });
                }
                backends.push(backend);
            }
            Action::Forward(backends)
        }
        RuleAction::Redirect(redirect) => Action::Redirect(redirect.clone()),
        RuleAction::DirectResponse { status, body } => Action::Reply(*status, body.clone()),
        // Expanded by `flatten`.
        RuleAction::Delegate(_) => return None,
    })
}

/// The path a rewrite or redirect replaces: the matched prefix for a prefix match (`/`
/// when the match has no `uri`), `None` for an exact or regex match (whole path).
fn matched_prefix(m: Option<&HttpMatch>) -> Option<String> {
    match m.and_then(|m| m.uri.as_ref()) {
        None => Some("/".to_string()),
        Some(StringMatch::Prefix(p)) => Some(p.clone()),
        _ => None,
    }
}

fn path_replacement(m: Option<&HttpMatch>, replacement: &str, gateway_semantics: bool) -> FilterIr {
    match matched_prefix(m) {
        // Generated VirtualServices match the prefix as whole segments
        // (`PathSeparatedPrefix`, trailing `/` trimmed); `uri: /` strips it with the
        // regex `^<prefix>(/?)(.*)` -> `/\2` (`route.go` `applyHTTPRouteDestination`).
        Some(prefix) if gateway_semantics => {
            let separated = if prefix == "/" {
                String::new()
            } else {
                prefix.trim_end_matches('/').to_string()
            };
            if replacement == "/" {
                FilterIr::RegexRewrite {
                    pattern: format!("^{}(/?)(.*)", regex_lite::escape(&separated)),
                    replacement: "/${2}".to_string(),
                }
            } else {
                FilterIr::ReplacePrefixPlain {
                    prefix: if separated.is_empty() { prefix } else { separated },
                    replacement: replacement.to_string(),
                }
            }
        }
        Some(prefix) => FilterIr::ReplacePrefixPlain {
            prefix,
            replacement: replacement.to_string(),
        },
        None => FilterIr::SetPath(replacement.to_string()),
    }
}

fn entry(
    flat: &FlatRule<'_>,
    index: usize,
    m: Option<&HttpMatch>,
    action: &Action,
    scope: &Scope<'_>,
) -> EntryIr {
    let rule = &flat.rule;
    let (path, predicates) = match m {
        Some(m) => lower_match(m, flat.owner.gateway_semantics),
        None => (PathIr::StringPrefix("/".to_string()), Vec::new()),
    };
    let mut filters = Vec::new();
    let action = match action {
        Action::Forward(backends) => {
            route_filters(rule, flat.owner, m, scope, &mut filters);
            ActionIr::Forward(backends.clone())
        }
        Action::Redirect(redirect) => {
            if let Some(prefix) = &redirect.prefix_rewrite {
                filters.push(path_replacement(m, prefix, flat.owner.gateway_semantics));
            } else if let Some(uri) = &redirect.uri {
                filters.push(FilterIr::SetPath(uri.clone()));
            }
            filters.extend(response_only(&rule.headers));
            let (port, derive) = match redirect.port {
                RedirectPort::Keep => (None, PortDerivation::KeepAuthority),
                RedirectPort::Port(p) => (Some(p as u16), PortDerivation::KeepAuthority),
                RedirectPort::FromRequest => (None, PortDerivation::ListenerPort),
                RedirectPort::FromProtocolDefault => (None, PortDerivation::ProtocolDefault),
            };
            ActionIr::Redirect(RedirectIr {
                status: redirect.code,
                scheme: redirect.scheme.clone(),
                host: redirect.authority.clone(),
                port,
                derive,
            })
        }
        Action::Reply(status, body) => {
            // "header ops still apply (set `content-type` yourself)".
            filters.extend(response_only(&rule.headers));
            ActionIr::Reply {
                status: *status,
                body: body.clone(),
            }
        }
    };
    // Entries of a large configuration are many and live until the program is written.
    let (mut predicates, mut filters) = (predicates, filters);
    predicates.shrink_to_fit();
    filters.shrink_to_fit();
    EntryIr {
        path,
        predicates,
        filters,
        action,
        source: SourceIr {
            kind: SourceKind::VirtualService,
            namespace: flat.owner.meta.namespace.clone(),
            name: flat.owner.meta.name.clone(),
            rule: flat.rule_index as u16,
            match_index: index as u16,
        },
    }
}

/// The filters of a forwarding rule, in the order Envoy's filter chain applies them:
/// path rewrite, fault (delay, then abort), CORS, mirrors, timeout, retry.
fn route_filters(
    rule: &HttpRule,
    owner: &VirtualService,
    m: Option<&HttpMatch>,
    scope: &Scope<'_>,
    filters: &mut Vec<FilterIr>,
) {
    let owner_namespace = owner.meta.namespace.as_str();
    if let Some(rewrite) = &rule.rewrite {
        if let Some((pattern, replacement)) = &rewrite.regex {
            filters.push(FilterIr::RegexRewrite {
                pattern: pattern.clone(),
                replacement: re2_captures(replacement),
            });
        } else if let Some(uri) = &rewrite.uri {
            filters.push(path_replacement(m, uri, owner.gateway_semantics));
        }
    }
    if let Some(fault) = &rule.fault {
        if let Some((ms, share)) = fault.delay.filter(|(_, share)| *share > 0) {
            filters.push(FilterIr::FaultDelay {
                delay_ms: ms.min(u64::from(u32::MAX - 1)) as u32,
                per_million: share,
            });
        }
        if let Some((status, share)) = fault.abort.filter(|(_, share)| *share > 0) {
            filters.push(FilterIr::FaultAbort {
                status,
                per_million: share,
            });
        }
    }
    if let Some(cors) = &rule.cors {
        filters.push(FilterIr::Cors(cors_policy(cors)));
    }
    for mirror in rule.mirrors.iter().filter(|m| m.per_million > 0) {
        let mut backend = destination_backend(
            &mirror.destination,
            owner_namespace,
            &scope.proxy.namespace,
            scope.proxy.listener_port,
            scope.resources,
            scope.naming,
        );
        // Envoy drops a mirror to a cluster it does not have (warned in `lower_action`).
        if missing_subset(&mirror.destination, owner_namespace, scope).is_some() {
            backend.filters.push(FilterIr::NoCluster { status: NO_CLUSTER });
        }
        filters.push(FilterIr::Mirror {
            backend,
            per_million: mirror.per_million,
        });
    }
    // "timeout: default 0 = no timeout (Istio overrides Envoy's 15 s)".
    filters.push(FilterIr::Timeout {
        request_ms: Some(
            rule.timeout_ms
                .map_or(0, |ms| ms.min(u64::from(u32::MAX - 1)) as u32),
        ),
        backend_ms: rule
            .retries
            .as_ref()
            .and_then(|r| r.per_try_timeout_ms)
            .map(|ms| ms.min(u64::from(u32::MAX - 1)) as u32),
    });
    if let Some(retry) = retry_filter(rule.retries.as_deref()) {
        filters.push(retry);
    }
}

/// `ConvertPolicy`: unset -> the default policy; `attempts: 0` -> none; numbers in
/// `retryOn` are retriable status codes (adding `retriable-status-codes`).
fn retry_filter(retries: Option<&Retries>) -> Option<FilterIr> {
    let Some(retries) = retries else {
        return Some(FilterIr::Retry {
            attempts: switchyard_bytecode::ISTIO_DEFAULT_RETRY.attempts,
            retry_on: DEFAULT_RETRY_ON.to_string(),
            codes: Vec::new(),
        });
    };
    if retries.attempts == 0 {
        return None;
    }
    let (mut on, mut codes) = (Vec::new(), Vec::new());
    match &retries.retry_on {
        None => on.push(DEFAULT_RETRY_ON.to_string()),
        Some(text) => {
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part.parse::<u16>() {
                    Ok(code) => codes.push(code),
                    Err(_) => on.push(part.to_string()),
                }
            }
        }
    }
    let mut retry_on = on.join(",");
    if !codes.is_empty() && !retry_on.contains("retriable-status-codes") {
        if !retry_on.is_empty() {
            retry_on.push(',');
        }
        retry_on.push_str("retriable-status-codes");
    }
    Some(FilterIr::Retry {
        attempts: retries.attempts,
        retry_on,
        codes,
    })
}

/// RE2 substitutions write captures `\1`; regex-lite writes `${1}`.
pub fn re2_captures(replacement: &str) -> String {
    let mut out = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                out.push_str(&format!("${{{digits}}}"));
            }
            '\\' if chars.peek() == Some(&'\\') => {
                chars.next();
                out.push('\\');
            }
            '$' => out.push_str("$$"),
            other => out.push(other),
        }
    }
    out
}

/// `TranslateHeadersOperations`: removes (never pseudo-headers or `host`), then sets,
/// then adds, each sorted by name; `:authority`/`host` in set/add becomes a Host
/// rewrite.
fn header_filters(headers: &Headers) -> Vec<FilterIr> {
    let mut out = Vec::new();
    let mut authority = None;
    edits(
        &headers.request,
        FilterIr::RequestHeader,
        Some(&mut authority),
        &mut out,
    );
    edits(&headers.response, FilterIr::ResponseHeader, None, &mut out);
    if let Some(host) = authority {
        out.push(FilterIr::SetHost(host));
    }
    out
}

/// Response edits only: a reply or redirect forwards nothing.
fn response_only(headers: &Headers) -> Vec<FilterIr> {
    let mut out = Vec::new();
    edits(&headers.response, FilterIr::ResponseHeader, None, &mut out);
    out
}

fn edits(
    ops: &HeaderOps,
    wrap: fn(HeaderEditIr) -> FilterIr,
    mut authority: Option<&mut Option<String>>,
    out: &mut Vec<FilterIr>,
) {
    for name in &ops.remove {
        if !name.starts_with(':') && name != "host" {
            out.push(wrap(HeaderEditIr::Remove(name.clone())));
        }
    }
    for (set, list) in [(true, &ops.set), (false, &ops.add)] {
        for (name, value) in list {
            if name == ":authority" || name == "host" {
                if let Some(slot) = authority.as_deref_mut() {
                    *slot = Some(value.clone());
                }
                continue;
            }
            if name.starts_with(':') {
                continue;
            }
            out.push(wrap(if set {
                HeaderEditIr::Set(name.clone(), value.clone())
            } else {
                HeaderEditIr::Add(name.clone(), value.clone())
            }));
        }
    }
}

/// `TranslateRouteMatch`.
fn lower_match(m: &HttpMatch, gateway_semantics: bool) -> (PathIr, Vec<PredicateIr>) {
    let mut predicates = Vec::new();
    let fold = |p: PredicateIr| PredicateIr::IgnoreCase(Box::new(p));
    let path = match &m.uri {
        // "unset `uri` = `prefix /`".
        None => PathIr::StringPrefix("/".to_string()),
        Some(StringMatch::Exact(v)) if m.ignore_uri_case => {
            predicates.push(fold(PredicateIr::PathExact(v.clone())));
            PathIr::StringPrefix(String::new())
        }
        Some(StringMatch::Exact(v)) => PathIr::Exact(v.clone()),
        Some(StringMatch::Prefix(v)) if m.ignore_uri_case => {
            predicates.push(fold(PredicateIr::PathPrefix(v.clone())));
            PathIr::StringPrefix(String::new())
        }
        // Generated VirtualServices: "segment-aware only under annotation
        // `internal.istio.io/route-semantics`".
        Some(StringMatch::Prefix(v)) if gateway_semantics && v != "/" => PathIr::Prefix(
            v.split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        // "plain string: `/foo` matches `/foobar`".
        Some(StringMatch::Prefix(v)) => PathIr::StringPrefix(v.clone()),
        // "RE2, full match; `ignoreUriCase` ignored (use `(?i)`)".
        Some(StringMatch::Regex(v)) => PathIr::Regex(v.clone()),
        Some(StringMatch::Present) => PathIr::StringPrefix(String::new()),
    };
    for (name, value) in [
        (":scheme", &m.scheme),
        (":method", &m.method),
        (":authority", &m.authority),
    ] {
        if let Some(value) = value {
            predicates.push(header_predicate(name, value));
        }
    }
    for (name, value) in &m.headers {
        predicates.push(header_predicate(name, value));
    }
    for (name, value) in &m.without_headers {
        predicates.extend(without_header(name, value));
    }
    for (name, value) in &m.query_params {
        predicates.push(match value {
            StringMatch::Exact(v) => PredicateIr::QueryExact {
                name: name.clone(),
                value: v.clone(),
            },
            StringMatch::Prefix(v) => PredicateIr::QueryPrefix {
                name: name.clone(),
                value: v.clone(),
            },
            StringMatch::Regex(v) => PredicateIr::QueryRegex {
                name: name.clone(),
                pattern: v.clone(),
            },
            StringMatch::Present => PredicateIr::QueryPresent(name.clone()),
        });
    }
    (path, predicates)
}

fn header_predicate(name: &str, value: &StringMatch) -> PredicateIr {
    let name = name.to_string();
    match value {
        StringMatch::Exact(v) => PredicateIr::HeaderExact {
            name,
            value: v.clone(),
        },
        StringMatch::Prefix(v) if v.is_empty() => PredicateIr::HeaderPresent(name),
        StringMatch::Prefix(v) => PredicateIr::HeaderPrefix {
            name,
            value: v.clone(),
        },
        StringMatch::Regex(v) => PredicateIr::HeaderRegex {
            name,
            pattern: v.clone(),
        },
        StringMatch::Present => PredicateIr::HeaderPresent(name),
    }
}

/// `withoutHeaders`: "inverted, missing = `""`": the inverted test on the value, a
/// missing header counting as empty. `{regex: "*"}` (present) matches only absent.
fn without_header(name: &str, value: &StringMatch) -> Vec<PredicateIr> {
    let empty_matches = match value {
        StringMatch::Present => return vec![PredicateIr::HeaderAbsent(name.to_string())],
        StringMatch::Exact(v) | StringMatch::Prefix(v) => v.is_empty(),
        StringMatch::Regex(v) => regex_lite::Regex::new(&format!("^(?:{v})$")).is_ok_and(|r| r.is_match("")),
    };
    let inverted = PredicateIr::Not(Box::new(header_predicate(name, value)));
    if empty_matches {
        // A missing header is "" and "" matches, so the inverted test fails.
        vec![PredicateIr::HeaderPresent(name.to_string()), inverted]
    } else {
        vec![inverted]
    }
}

#[cfg(test)]
mod tests {
    use super::re2_captures;

    #[test]
    fn re2_captures_become_regex_lite_groups() {
        assert_eq!(re2_captures(r"/v2/\1/x"), "/v2/${1}/x");
        assert_eq!(re2_captures(r"\12"), "${12}");
        assert_eq!(re2_captures("$5"), "$$5");
    }
}
