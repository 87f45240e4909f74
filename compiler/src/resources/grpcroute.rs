//! GRPCRoute (gateway.networking.k8s.io/v1), validated as the CRD's schema and CEL rules
//! would validate it (`apis/v1/grpcroute_types.go`).

use super::filters::{Filter, read_filters};
use super::gateway_api::{
    BackendRef, HeaderMatch, ParentRef, StringMatchType, check_regex, is_header_name, read_grpc_backend_ref,
    read_parent_ref, read_string_match, validate_hostname,
};
use super::meta::Meta;
use super::read::{Obj, Read};

#[derive(Debug, Clone)]
pub struct GrpcRoute {
    pub meta: Meta,
    pub parent_refs: Vec<ParentRef>,
    pub hostnames: Vec<String>,
    pub rules: Vec<GrpcRule>,
}

#[derive(Debug, Clone)]
pub struct GrpcRule {
    /// Empty in the manifest means one match without conditions ("If no matches are
    /// specified, the implementation MUST match every gRPC request"); filled in here.
    pub matches: Vec<GrpcMatch>,
    /// RequestHeaderModifier, ResponseHeaderModifier and RequestMirror only.
    pub filters: Vec<Filter>,
    pub backend_refs: Vec<BackendRef>,
    pub line: u32,
}

/// One `GRPCRouteMatch`: its conditions are ANDed.
#[derive(Debug, Clone, Default)]
pub struct GrpcMatch {
    /// `None`: every service and method.
    pub method: Option<MethodMatch>,
    /// Lowercased names; the first of equivalent names only.
    pub headers: Vec<HeaderMatch>,
    pub line: u32,
}

/// `GRPCMethodMatch`. At least one of `service` and `method` is set (an empty string in
/// the manifest reads as unset: "If left empty or omitted, will match any").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodMatch {
    pub kind: StringMatchType,
    pub service: Option<String>,
    pub method: Option<String>,
}

/// The CRD's `maxLength` of `service` and `method`.
const MAX_NAME_LEN: usize = 1024;

/// Limits from the CRD: rules, matches, headers, backendRefs, hostnames.
const MAX_RULES: usize = 16;
const MAX_MATCHES_PER_RULE: usize = 64;
const MAX_MATCHES_PER_ROUTE: usize = 128;
const MAX_HEADERS: usize = 16;
const MAX_BACKEND_REFS: usize = 16;
const MAX_HOSTNAMES: usize = 16;

impl MethodMatch {
    /// The regular expression a `RegularExpression` match (or an `Exact` match with
    /// only a method) puts on the request path `/<service>/<method>`: each side as
    /// written (in a group, so an alternation stays inside its side), `.+` when unset.
    pub fn path_regex(&self) -> String {
        match self.kind {
            StringMatchType::RegularExpression => format!(
                "/(?:{})/(?:{})",
                self.service.as_deref().unwrap_or(".+"),
                self.method.as_deref().unwrap_or(".+")
            ),
            // Exact names are identifiers (checked on reading): no regex metacharacters
            // except `.` in a service, which is never written here.
            StringMatchType::Exact => format!("/[^/]+/{}", self.method.as_deref().unwrap_or_default()),
        }
    }
}

impl GrpcRoute {
    pub fn read(root: &Obj<'_>, meta: Meta) -> Read<GrpcRoute> {
        let spec = root.require("spec")?;
        spec.check_keys(&["parentRefs", "hostnames", "rules"], &["useDefaultGateways"])?;
        let parent_refs = spec
            .list("parentRefs")?
            .iter()
            .map(read_parent_ref)
            .collect::<Read<Vec<_>>>()?;
        let hostname_nodes = spec.list("hostnames")?;
        if hostname_nodes.len() > MAX_HOSTNAMES {
            return Err(spec.error(format!("at most {MAX_HOSTNAMES} hostnames per GRPCRoute")));
        }
        let hostnames = hostname_nodes
            .iter()
            .map(|h| validate_hostname(h, true))
            .collect::<Read<Vec<_>>>()?;
        let rule_nodes = spec.list("rules")?;
        if rule_nodes.len() > MAX_RULES {
            return Err(spec.error(format!("at most {MAX_RULES} rules per GRPCRoute")));
        }
        let rules = rule_nodes.iter().map(read_rule).collect::<Read<Vec<_>>>()?;
        // CEL: "the total number of matches across all rules in a route must be less
        // than 128" (as written in the manifest, so defaulted matches do not count).
        let written: usize = rule_nodes
            .iter()
            .map(|r| r.list("matches").map_or(0, |m| m.len()))
            .sum();
        if written > MAX_MATCHES_PER_ROUTE {
            return Err(spec.error(format!("at most {MAX_MATCHES_PER_ROUTE} matches per GRPCRoute")));
        }
        Ok(GrpcRoute {
            meta,
            parent_refs,
            hostnames,
            rules,
        })
    }
}

fn read_rule(rule: &Obj<'_>) -> Read<GrpcRule> {
    rule.check_keys(
        &["name", "matches", "filters", "backendRefs"],
        &["sessionPersistence"],
    )?;
    let match_nodes = rule.list("matches")?;
    if match_nodes.len() > MAX_MATCHES_PER_RULE {
        return Err(rule.error(format!("at most {MAX_MATCHES_PER_RULE} matches per rule")));
    }
    let mut matches = match_nodes.iter().map(read_match).collect::<Read<Vec<_>>>()?;
    if matches.is_empty() {
        matches.push(GrpcMatch {
            line: rule.node.line,
            ..GrpcMatch::default()
        });
    }
    let filters = read_filters(rule)?;
    check_filter_types(rule, &filters)?;
    let backend_nodes = rule.list("backendRefs")?;
    if backend_nodes.len() > MAX_BACKEND_REFS {
        return Err(rule.error(format!("at most {MAX_BACKEND_REFS} backendRefs per rule")));
    }
    let backend_refs = backend_nodes
        .iter()
        .map(read_grpc_backend_ref)
        .collect::<Read<Vec<_>>>()?;
    Ok(GrpcRule {
        matches,
        filters,
        backend_refs,
        line: rule.node.line,
    })
}

/// `GRPCRouteFilterType`: RequestHeaderModifier, ResponseHeaderModifier, RequestMirror
/// (and ExtensionRef, which Switchyard refuses for every route kind).
fn check_filter_types(rule: &Obj<'_>, filters: &[Filter]) -> Read<()> {
    for (index, filter) in filters.iter().enumerate() {
        if !matches!(
            filter,
            Filter::RequestHeaderModifier(_) | Filter::ResponseHeaderModifier(_) | Filter::RequestMirror(_)
        ) {
            let nodes = rule.list("filters")?;
            let at = nodes.get(index).unwrap_or(rule);
            return Err(at.error(format!(
                "{} is not a GRPCRoute filter (RequestHeaderModifier, ResponseHeaderModifier or RequestMirror)",
                filter.type_name()
            )));
        }
    }
    Ok(())
}

fn read_match(node: &Obj<'_>) -> Read<GrpcMatch> {
    node.check_keys(&["method", "headers"], &[])?;
    let method = node.get("method").map(|m| read_method(&m)).transpose()?;
    let header_nodes = node.list("headers")?;
    if header_nodes.len() > MAX_HEADERS {
        return Err(node.error(format!("at most {MAX_HEADERS} header matches")));
    }
    let mut headers: Vec<HeaderMatch> = Vec::new();
    for header in &header_nodes {
        let (kind, name, value) = read_string_match(header)?;
        if !is_header_name(&name) || name.len() > 256 {
            return Err(header.error(format!("{name:?} is not a valid header name")));
        }
        if value.is_empty() || value.len() > 4096 {
            return Err(header.error("a header value must be 1 to 4096 characters"));
        }
        let name = name.to_ascii_lowercase();
        // "If multiple entries specify equivalent header names, only the first entry
        // with an equivalent name MUST be considered for a match."
        if !headers.iter().any(|h| h.name == name) {
            headers.push(HeaderMatch { kind, name, value });
        }
    }
    Ok(GrpcMatch {
        method,
        headers,
        line: node.node.line,
    })
}

fn read_method(node: &Obj<'_>) -> Read<MethodMatch> {
    node.check_keys(&["type", "service", "method"], &[])?;
    let kind = match node.str("type")?.unwrap_or("Exact") {
        "Exact" => StringMatchType::Exact,
        "RegularExpression" => StringMatchType::RegularExpression,
        other => {
            return Err(node.error(format!(
                "unsupported method match type {other:?} (Exact or RegularExpression)"
            )));
        }
    };
    let part = |key: &str| -> Read<Option<String>> {
        let Some(child) = node.get(key) else {
            return Ok(None);
        };
        let text = child.as_str()?;
        if text.len() > MAX_NAME_LEN {
            return Err(child.error(format!("longer than {MAX_NAME_LEN} characters")));
        }
        let valid = match (kind, key) {
            (StringMatchType::RegularExpression, _) => {
                check_regex(&child, text)?;
                true
            }
            (StringMatchType::Exact, "service") => text.is_empty() || is_service_name(text),
            (StringMatchType::Exact, _) => text.is_empty() || is_method_name(text),
        };
        if !valid {
            let pattern = if key == "service" {
                r"^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$"
            } else {
                "^[A-Za-z_][A-Za-z_0-9]*$"
            };
            return Err(child.error(format!(
                "{key} {text:?} must only contain valid characters (matching {pattern}; no '/')"
            )));
        }
        Ok((!text.is_empty()).then(|| text.to_string()))
    };
    let method = MethodMatch {
        kind,
        service: part("service")?,
        method: part("method")?,
    };
    // CEL: "One or both of 'service' or 'method' must be specified".
    if method.service.is_none() && method.method.is_none() {
        return Err(node.error("one or both of `service` and `method` must be specified"));
    }
    if method.kind == StringMatchType::RegularExpression || method.service.is_none() {
        check_regex(node, &method.path_regex())?;
    }
    Ok(method)
}

/// The CRD's pattern for an Exact service: `^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`.
fn is_service_name(text: &str) -> bool {
    let body = text.strip_prefix('.').unwrap_or(text);
    !body.is_empty() && body.split('.').all(is_identifier)
}

/// The CRD's pattern for an Exact method: `^[A-Za-z_][A-Za-z_0-9]*$`.
fn is_method_name(text: &str) -> bool {
    is_identifier(text)
}

fn is_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_service_names_follow_the_crd_pattern() {
        assert!(is_service_name(
            "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho"
        ));
        assert!(is_service_name(".pkg.Svc"));
        assert!(!is_service_name("pkg/Svc"));
        assert!(!is_service_name("pkg..Svc"));
        assert!(!is_service_name("1pkg"));
        assert!(!is_service_name("."));
    }

    #[test]
    fn exact_method_names_are_identifiers() {
        assert!(is_method_name("EchoTwo"));
        assert!(is_method_name("_x9"));
        assert!(!is_method_name("Echo/Two"));
        assert!(!is_method_name("9x"));
        assert!(!is_method_name("a.b"));
    }

    #[test]
    fn method_regex_groups_each_side_and_defaults_to_any() {
        let m = |kind, service: Option<&str>, method: Option<&str>| MethodMatch {
            kind,
            service: service.map(str::to_string),
            method: method.map(str::to_string),
        };
        assert_eq!(
            m(StringMatchType::RegularExpression, Some("a|b"), None).path_regex(),
            "/(?:a|b)/(?:.+)"
        );
        assert_eq!(
            m(StringMatchType::RegularExpression, None, Some("Get.*")).path_regex(),
            "/(?:.+)/(?:Get.*)"
        );
        assert_eq!(
            m(StringMatchType::Exact, None, Some("Get")).path_regex(),
            "/[^/]+/Get"
        );
    }
}
