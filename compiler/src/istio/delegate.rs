//! Delegate VirtualServices (`pilot/pkg/model/virtualservice.go` `MergeHTTPRoutes`):
//! "one level; the delegate has no `hosts`/`gateways` and must be visible to the root's
//! namespace, else the root rule is dropped. Its rules replace the root rule in place,
//! each match ANDed with every compatible root match (conflicts drop it); unset fields
//! are inherited whole from the root."

use crate::diag::Diagnostics;
use crate::resources::Resources;
use crate::resources::istio::{HttpMatch, HttpRule, RuleAction, StringMatch, VirtualService, visible};

use super::vs_warning;

/// One rule after delegation, with the VirtualService whose namespace resolves its
/// destinations.
#[derive(Debug, Clone)]
pub struct FlatRule<'r> {
    pub rule: HttpRule,
    pub owner: &'r VirtualService,
    /// The rule's index in `owner.http`: the root's for its own rules, the delegate's
    /// for delegated ones, so sources, diagnostics and `explain` point at the rule
    /// that was written.
    pub rule_index: usize,
}

/// The rules of root `vs` with every delegate rule expanded in place.
pub fn flatten<'r>(
    vs: &'r VirtualService,
    resources: &'r Resources,
    diagnostics: &mut Diagnostics,
) -> Vec<FlatRule<'r>> {
    let mut out = Vec::new();
    for (index, rule) in vs.http.iter().enumerate() {
        let RuleAction::Delegate(delegate) = &rule.action else {
            out.push(FlatRule {
                rule: rule.clone(),
                owner: vs,
                rule_index: index,
            });
            continue;
        };
        let namespace = delegate.namespace.as_deref().unwrap_or(&vs.meta.namespace);
        let field = format!("spec.http[{index}].delegate");
        let Some(target) = resources
            .virtual_services
            .iter()
            .find(|d| d.meta.namespace == namespace && d.meta.name == delegate.name)
        else {
            diagnostics.push(vs_warning(
                vs,
                &field,
                format!(
                    "no VirtualService {namespace}/{}; the rule is dropped",
                    delegate.name
                ),
            ));
            continue;
        };
        if !target.hosts.is_empty() {
            diagnostics.push(vs_warning(
                vs,
                &field,
                format!(
                    "{namespace}/{} has hosts, so it is not a delegate; the rule is dropped",
                    delegate.name
                ),
            ));
            continue;
        }
        if !visible(&target.export_to, &target.meta.namespace, &vs.meta.namespace) {
            diagnostics.push(vs_warning(
                vs,
                &field,
                format!(
                    "{namespace}/{} is not exported to namespace {}; the rule is dropped",
                    delegate.name, vs.meta.namespace
                ),
            ));
            continue;
        }
        for (j, sub) in target.http.iter().enumerate() {
            if matches!(sub.action, RuleAction::Delegate(_)) {
                diagnostics.push(vs_warning(
                    target,
                    &format!("spec.http[{j}].delegate"),
                    "delegation is one level deep; this rule is dropped".into(),
                ));
                continue;
            }
            match merge_rule(rule, sub) {
                Some(merged) => out.push(FlatRule {
                    rule: merged,
                    owner: target,
                    rule_index: j,
                }),
                None => diagnostics.push(vs_warning(
                    target,
                    &format!("spec.http[{j}].match"),
                    format!(
                        "conflicts with every match of root {} rule {index}; dropped",
                        vs.meta.key()
                    ),
                )),
            }
        }
    }
    out
}

/// `mergeHTTPRoute`: `None` on a match conflict.
fn merge_rule(root: &HttpRule, delegate: &HttpRule) -> Option<HttpRule> {
    let matches = merge_matches(&root.matches, &delegate.matches)?;
    let mut out = delegate.clone();
    out.matches = matches;
    if out.name.is_none() {
        out.name = root.name.clone();
    }
    if out.rewrite.is_none() {
        out.rewrite = root.rewrite.clone();
    }
    if out.timeout_ms.is_none() {
        out.timeout_ms = root.timeout_ms;
    }
    if out.retries.is_none() {
        out.retries = root.retries.clone();
    }
    if out.fault.is_none() {
        out.fault = root.fault.clone();
    }
    if out.mirrors.is_empty() {
        out.mirrors = root.mirrors.clone();
    }
    if out.cors.is_none() {
        out.cors = root.cors.clone();
    }
    if out.headers == Default::default() {
        out.headers = root.headers.clone();
    }
    Some(out)
}

/// `mergeHTTPMatchRequests`: each delegate match must find a compatible root match.
fn merge_matches(root: &[HttpMatch], delegate: &[HttpMatch]) -> Option<Vec<HttpMatch>> {
    if root.is_empty() {
        return Some(delegate.to_vec());
    }
    if delegate.is_empty() {
        return Some(root.to_vec());
    }
    let mut out = Vec::new();
    for leaf in delegate {
        let before = out.len();
        for r in root.iter().filter(|r| !has_conflict(r, leaf)) {
            out.push(merge_match(r, leaf));
        }
        if out.len() == before {
            return None;
        }
    }
    Some(out)
}

fn merge_map<V: Clone>(root: &[(String, V)], leaf: &[(String, V)]) -> Vec<(String, V)> {
    let mut out: Vec<(String, V)> = root
        .iter()
        .filter(|(k, _)| !leaf.iter().any(|(l, _)| l == k))
        .cloned()
        .collect();
    out.extend(leaf.iter().cloned());
    out
}

/// `mergeHTTPMatchRequest`: the delegate's fields, unset ones from the root.
fn merge_match(root: &HttpMatch, leaf: &HttpMatch) -> HttpMatch {
    let mut out = leaf.clone();
    out.uri = out.uri.or_else(|| root.uri.clone());
    out.scheme = out.scheme.or_else(|| root.scheme.clone());
    out.method = out.method.or_else(|| root.method.clone());
    out.authority = out.authority.or_else(|| root.authority.clone());
    out.headers = merge_map(&root.headers, &leaf.headers);
    out.without_headers = merge_map(&root.without_headers, &leaf.without_headers);
    out.query_params = merge_map(&root.query_params, &leaf.query_params);
    out.port = out.port.or(root.port);
    out.source_labels = merge_map(&root.source_labels, &leaf.source_labels);
    out.source_namespace = out.source_namespace.or_else(|| root.source_namespace.clone());
    if out.gateways.is_empty() {
        out.gateways = root.gateways.clone();
    }
    out
}

fn get<'a, V>(map: &'a [(String, V)], key: &str) -> Option<&'a V> {
    map.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// `hasConflict`.
fn has_conflict(root: &HttpMatch, leaf: &HttpMatch) -> bool {
    let pairs = [
        (&root.uri, &leaf.uri),
        (&root.scheme, &leaf.scheme),
        (&root.method, &leaf.method),
        (&root.authority, &leaf.authority),
    ];
    if pairs.iter().any(|(r, l)| string_conflict(r.as_ref(), l.as_ref())) {
        return true;
    }
    let maps = [
        (&root.headers, &leaf.headers),
        (&root.without_headers, &leaf.without_headers),
        (&root.query_params, &leaf.query_params),
    ];
    for (r, l) in maps {
        if l.iter().any(|(k, v)| string_conflict(get(r, k), Some(v))) {
            return true;
        }
    }
    if root.ignore_uri_case != leaf.ignore_uri_case {
        return true;
    }
    if let (Some(r), Some(l)) = (root.port, leaf.port)
        && r != l
    {
        return true;
    }
    if root.source_namespace.is_some() && leaf.source_namespace != root.source_namespace {
        return true;
    }
    if leaf
        .source_labels
        .iter()
        .any(|(k, v)| get(&root.source_labels, k).is_some_and(|r| r != v))
    {
        return true;
    }
    if !root.gateways.is_empty()
        && !leaf.gateways.is_empty()
        && leaf.gateways.iter().any(|g| !root.gateways.contains(g))
    {
        return true;
    }
    false
}

/// `stringMatchConflict`.
fn string_conflict(root: Option<&StringMatch>, leaf: Option<&StringMatch>) -> bool {
    let (Some(root), Some(leaf)) = (root, leaf) else {
        return false;
    };
    let value = |m: &StringMatch| !matches!(m, StringMatch::Present);
    if matches!(root, StringMatch::Regex(_)) && value(leaf) {
        return true;
    }
    if matches!(leaf, StringMatch::Regex(_)) && value(root) {
        return true;
    }
    match (root, leaf) {
        (StringMatch::Exact(r), StringMatch::Exact(l)) => r != l,
        (StringMatch::Exact(_), _) => true,
        (StringMatch::Prefix(r), StringMatch::Prefix(l) | StringMatch::Exact(l)) => {
            !l.starts_with(r.as_str())
        }
        _ => true,
    }
}
