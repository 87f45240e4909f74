//! An entry's conditions as an Envoy `RouteMatch`: one path specifier, then header and
//! query-parameter matchers, all ANDed as the entry's predicates are.
//!
//! Path: Gateway API `PathPrefix` compares whole segments, which is Envoy's
//! `path_separated_prefix` (the value without its trailing `/`; `prefix: /` for the
//! root); Istio's `uri.prefix` is a plain string prefix (`prefix`); `Exact` is `path`;
//! regular expressions are `safe_regex` (RE2, full match, as the program anchors them).
//! Envoy matches the path without its query string, as the program does.

use switchyard_bytecode::ir::{EntryIr, PathIr, PredicateIr};

use crate::emit::yaml::{Node, yaml_map};

/// `{"safe_regex": {"google_re2": {}, "regex": ...}}`: Envoy's RE2 matches the whole
/// value, as the program's anchored patterns do.
pub fn safe_regex(pattern: &str) -> Node {
    yaml_map! { "google_re2" => Node::Map(Vec::new()), "regex" => pattern }
}

/// The `match` of the route for `entry`, or why it cannot be one.
pub fn route_match(entry: &EntryIr) -> Result<Node, String> {
    let mut predicates: Vec<&PredicateIr> = entry.predicates.iter().collect();
    let mut node = path_match(entry, &mut predicates)?;
    let mut headers = Vec::new();
    let mut query = Vec::new();
    for predicate in predicates {
        match predicate {
            PredicateIr::QueryExact { .. }
            | PredicateIr::QueryRegex { .. }
            | PredicateIr::QueryPrefix { .. }
            | PredicateIr::QueryPresent(_) => query.push(query_matcher(predicate)?),
            other => headers.push(header_matcher(other, false, false)?),
        }
    }
    if !headers.is_empty() {
        node.push("headers", headers);
    }
    if !query.is_empty() {
        node.push("query_parameters", query);
    }
    Ok(node)
}

/// The path specifier. Istio's `ignoreUriCase` exact and prefix matches arrive as a
/// match-everything path plus one case-folded path predicate: they become the path
/// specifier with `case_sensitive: false`, and the predicate is taken out of the list.
fn path_match(entry: &EntryIr, predicates: &mut Vec<&PredicateIr>) -> Result<Node, String> {
    let is_path = |p: &PredicateIr| match p {
        PredicateIr::PathExact(_) | PredicateIr::PathPrefix(_) => true,
        PredicateIr::IgnoreCase(inner) => {
            matches!(**inner, PredicateIr::PathExact(_) | PredicateIr::PathPrefix(_))
        }
        _ => false,
    };
    let path_predicates: Vec<&PredicateIr> = predicates.iter().copied().filter(|p| is_path(p)).collect();
    match (&entry.path, path_predicates.as_slice()) {
        (_, []) => {}
        (PathIr::StringPrefix(everything), [only]) if everything.is_empty() || everything == "/" => {
            predicates.retain(|p| !is_path(p));
            let (inner, folded) = match only {
                PredicateIr::IgnoreCase(inner) => (&**inner, true),
                other => (*other, false),
            };
            let mut node = match inner {
                PredicateIr::PathExact(value) => yaml_map! { "path" => value },
                PredicateIr::PathPrefix(value) => yaml_map! { "prefix" => value },
                other => {
                    return Err(format!(
                        "the path condition {other:?} has no Envoy path specifier"
                    ));
                }
            };
            if folded {
                node.push("case_sensitive", false);
            }
            return Ok(node);
        }
        _ => {
            return Err("two path conditions on one match (an Envoy route has one path specifier)".into());
        }
    }
    Ok(match &entry.path {
        PathIr::Exact(path) => yaml_map! { "path" => path },
        PathIr::Prefix(segments) if segments.is_empty() => yaml_map! { "prefix" => "/" },
        PathIr::Prefix(segments) => {
            yaml_map! { "path_separated_prefix" => format!("/{}", segments.join("/")) }
        }
        PathIr::StringPrefix(prefix) if prefix.is_empty() => yaml_map! { "prefix" => "/" },
        PathIr::StringPrefix(prefix) => yaml_map! { "prefix" => prefix },
        PathIr::Regex(pattern) => yaml_map! { "safe_regex" => safe_regex(pattern) },
    })
}

/// A `HeaderMatcher`. `invert`: Istio `withoutHeaders`, where a missing header counts
/// as the empty string (`treat_missing_header_as_empty`); without that Envoy would fail
/// an inverted value match on a missing header, while the program's negation holds.
fn header_matcher(predicate: &PredicateIr, invert: bool, ignore_case: bool) -> Result<Node, String> {
    let (name, matcher) = match predicate {
        PredicateIr::Method(method) => (":method", string_match("exact", method, ignore_case)),
        PredicateIr::HeaderExact { name, value } => {
            (name.as_str(), string_match("exact", value, ignore_case))
        }
        PredicateIr::HeaderPrefix { name, value } => {
            (name.as_str(), string_match("prefix", value, ignore_case))
        }
        PredicateIr::HeaderRegex { name, pattern } if !ignore_case => (
            name.as_str(),
            ("string_match", yaml_map! { "safe_regex" => safe_regex(pattern) }),
        ),
        PredicateIr::HeaderPresent(name) => (name.as_str(), ("present_match", Node::Bool(true))),
        PredicateIr::HeaderAbsent(name) => {
            let mut node = yaml_map! { "name" => name, "present_match" => true };
            if !invert {
                node.push("invert_match", true);
            }
            return Ok(node);
        }
        PredicateIr::Not(inner) if !invert => return header_matcher(inner, true, ignore_case),
        PredicateIr::IgnoreCase(inner) if !ignore_case => return header_matcher(inner, invert, true),
        other => return Err(format!("the condition {other:?} has no Envoy header matcher")),
    };
    let (key, value) = matcher;
    let mut node = yaml_map! { "name" => name };
    node.push(key, value);
    if invert {
        node.push("invert_match", true);
        if key != "present_match" {
            node.push("treat_missing_header_as_empty", true);
        }
    }
    Ok(node)
}

fn string_match(kind: &str, value: &str, ignore_case: bool) -> (&'static str, Node) {
    let mut node = yaml_map! { kind => value };
    if ignore_case {
        node.push("ignore_case", true);
    }
    ("string_match", node)
}

/// A `QueryParameterMatcher`: Envoy compares the first value of the parameter,
/// percent-decoded, as the program does.
fn query_matcher(predicate: &PredicateIr) -> Result<Node, String> {
    Ok(match predicate {
        PredicateIr::QueryExact { name, value } => {
            yaml_map! { "name" => name, "string_match" => yaml_map! { "exact" => value } }
        }
        PredicateIr::QueryPrefix { name, value } => {
            yaml_map! { "name" => name, "string_match" => yaml_map! { "prefix" => value } }
        }
        PredicateIr::QueryRegex { name, pattern } => yaml_map! {
            "name" => name,
            "string_match" => yaml_map! { "safe_regex" => safe_regex(pattern) },
        },
        PredicateIr::QueryPresent(name) => yaml_map! { "name" => name, "present_match" => true },
        other => return Err(format!("the condition {other:?} has no Envoy query matcher")),
    })
}
