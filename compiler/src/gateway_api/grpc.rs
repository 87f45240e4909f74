//! Lowering one GRPCRoute: every match of every rule becomes a bytecode entry.
//!
//! On the wire a gRPC call is `POST /<service>/<method>` (HTTP/2), so a method match is a
//! condition on the path, as Istio lowers it (`pilot/pkg/config/kube/gateway/
//! conversion.go`, `createGRPCURIMatch`):
//!
//! | `method` match | path condition |
//! |---|---|
//! | none | any path (every gRPC request) |
//! | Exact, service and method | exactly `/S/M` |
//! | Exact, service only | element-wise prefix `/S` (`/S/<anything>`) |
//! | Exact, method only | regex `/[^/]+/M` |
//! | RegularExpression | regex `/(?:S)/(?:M)`, `.+` for an unset side |
//!
//! No condition says the request is gRPC (no `content-type` check; Istio adds none).
//! A call no entry matches gets the proxy's 404, which gRPC clients report as
//! `Unimplemented`, the status the spec asks for.

use switchyard_bytecode::SourceKind;
use switchyard_bytecode::ir::{
    ActionIr, BackendIr, EntryIr, FilterIr, HeaderEditIr, PathIr, PredicateIr, SourceIr,
};

use crate::diag::Diagnostics;
use crate::resources::filters::{Filter, HeaderModifier};
use crate::resources::{BackendRef, GrpcMatch, GrpcRoute, MethodMatch, Resources, StringMatchType};

use super::backends::{ClusterNaming, Unresolved, resolve_ref, unresolved_backend};
use super::precedence::GrpcPrecedence;
use super::route_warning;

/// The HTTP status for a share of a GRPCRoute rule that has no backend. The spec: "When
/// a GRPCBackendRef is invalid, `UNAVAILABLE` statuses MUST be returned for requests that
/// would have otherwise been routed to an invalid backend" (`grpcroute_types.go`). Envoy
/// answers a local reply to a gRPC call with HTTP 200 and the grpc-status its status maps
/// to (`Grpc::Utility::httpToGrpcStatus`), and 503 maps to UNAVAILABLE (14); the 500 an
/// HTTPRoute gets would map to UNKNOWN (2).
const UNAVAILABLE: u16 = 503;

/// Lowers every match of every rule of `route`, reporting unresolved references.
/// `mesh`: compiling for a sidecar, where GAMMA routes reach backends in any namespace
/// without a ReferenceGrant (GEP-1294).
pub fn lower_grpc_route(
    route: &GrpcRoute,
    resources: &Resources,
    naming: &ClusterNaming,
    diagnostics: &mut Diagnostics,
    mesh: bool,
) -> Vec<(GrpcPrecedence, EntryIr)> {
    let mut entries = Vec::new();
    for (rule_index, rule) in route.rules.iter().enumerate() {
        let filters = lower_filters(&rule.filters, route, resources, naming, mesh);
        for (filter, why) in &filters.unresolved_mirrors {
            diagnostics.push(route_warning(
                route,
                format!("spec.rules[{rule_index}].filters[{filter}].requestMirror.backendRef"),
                format!("does not resolve ({}); the mirror is dropped", why.reason()),
            ));
        }
        let mut backends = Vec::new();
        for (i, reference) in rule.backend_refs.iter().enumerate() {
            let (mut backend, unresolved) = match resolve(reference, route, resources, naming, mesh) {
                Ok(backend) => (backend, false),
                Err(why) => {
                    diagnostics.push(route_warning(
                        route,
                        format!("spec.rules[{rule_index}].backendRefs[{i}]"),
                        format!(
                            "{} {:?} does not resolve ({}); its share is answered UNAVAILABLE",
                            reference.kind,
                            reference.name,
                            why.reason()
                        ),
                    ));
                    (unresolved_backend(reference), true)
                }
            };
            // Backend filters run only when this backend is chosen; an unresolved mirror
            // among them is dropped like a rule-level one.
            let own = lower_filters(&reference.filters, route, resources, naming, mesh);
            for (filter, why) in &own.unresolved_mirrors {
                diagnostics.push(route_warning(
                    route,
                    format!(
                        "spec.rules[{rule_index}].backendRefs[{i}].filters[{filter}].requestMirror.backendRef"
                    ),
                    format!("does not resolve ({}); the mirror is dropped", why.reason()),
                ));
            }
            backend.filters = own.steps;
            if unresolved {
                backend.filters.push(FilterIr::NoCluster { status: UNAVAILABLE });
            }
            backends.push(backend);
        }
        // With no backend to take a share (none listed, or every weight 0) the rule
        // answers as for invalid ones: the call has nowhere to go.
        let action = if backends.iter().all(|b| b.weight == 0) {
            ActionIr::Reply {
                status: UNAVAILABLE,
                body: None,
            }
        } else {
            ActionIr::Forward(backends)
        };
        for (match_index, m) in rule.matches.iter().enumerate() {
            let precedence = GrpcPrecedence::of(
                m,
                route.meta.creation_timestamp.as_deref(),
                route.meta.key(),
                rule_index,
                match_index,
            );
            let entry = EntryIr {
                path: method_path(m.method.as_ref()),
                predicates: header_predicates(m),
                filters: filters.steps.clone(),
                action: action.clone(),
                source: SourceIr {
                    kind: SourceKind::GrpcRoute,
                    namespace: route.meta.namespace.clone(),
                    name: route.meta.name.clone(),
                    rule: rule_index as u16,
                    match_index: match_index as u16,
                },
            };
            entries.push((precedence, entry));
        }
    }
    entries
}

/// The path condition of a method match (see the table in the module documentation).
pub fn method_path(method: Option<&MethodMatch>) -> PathIr {
    let Some(m) = method else {
        return PathIr::Prefix(Vec::new());
    };
    match (m.kind, &m.service, &m.method) {
        (StringMatchType::Exact, Some(service), Some(method)) => {
            PathIr::Exact(format!("/{service}/{method}"))
        }
        // `/S` as an element-wise prefix matches `/S/M` for every M (and `/S` itself).
        (StringMatchType::Exact, Some(service), None) => PathIr::Prefix(vec![service.clone()]),
        _ => PathIr::Regex(m.path_regex()),
    }
}

/// gRPC metadata matches are header matches ("same semantics as HTTP").
fn header_predicates(m: &GrpcMatch) -> Vec<PredicateIr> {
    m.headers
        .iter()
        .map(|header| match header.kind {
            StringMatchType::Exact => PredicateIr::HeaderExact {
                name: header.name.clone(),
                value: header.value.clone(),
            },
            StringMatchType::RegularExpression => PredicateIr::HeaderRegex {
                name: header.name.clone(),
                pattern: header.value.clone(),
            },
        })
        .collect()
}

/// What a GRPCRoute filter list lowers to.
#[derive(Debug, Default)]
struct Lowered {
    steps: Vec<FilterIr>,
    /// (filter index, reason) of mirrors whose backend did not resolve.
    unresolved_mirrors: Vec<(usize, Unresolved)>,
}

/// GRPCRoute filters, in their listed order: header modifiers and mirrors (the reader
/// refuses every other type).
fn lower_filters(
    filters: &[Filter],
    route: &GrpcRoute,
    resources: &Resources,
    naming: &ClusterNaming,
    mesh: bool,
) -> Lowered {
    let mut lowered = Lowered::default();
    for (index, filter) in filters.iter().enumerate() {
        match filter {
            Filter::RequestHeaderModifier(m) => header_steps(m, FilterIr::RequestHeader, &mut lowered.steps),
            Filter::ResponseHeaderModifier(m) => {
                header_steps(m, FilterIr::ResponseHeader, &mut lowered.steps)
            }
            Filter::RequestMirror(mirror) => {
                let backend = match resolve(&mirror.backend, route, resources, naming, mesh) {
                    Ok(backend) => backend,
                    Err(why) => {
                        lowered.unresolved_mirrors.push((index, why));
                        unresolved_backend(&mirror.backend)
                    }
                };
                lowered.steps.push(FilterIr::Mirror {
                    backend,
                    per_million: mirror.per_million,
                });
            }
            // Refused when the route is read.
            Filter::RequestRedirect(_) | Filter::UrlRewrite(_) | Filter::Cors(_) => {}
        }
    }
    lowered
}

/// `set`, then `add`, then `remove` (names are distinct across the three).
fn header_steps(m: &HeaderModifier, wrap: fn(HeaderEditIr) -> FilterIr, steps: &mut Vec<FilterIr>) {
    steps.extend(
        m.set
            .iter()
            .map(|(n, v)| wrap(HeaderEditIr::Set(n.clone(), v.clone()))),
    );
    steps.extend(
        m.add
            .iter()
            .map(|(n, v)| wrap(HeaderEditIr::Add(n.clone(), v.clone()))),
    );
    steps.extend(m.remove.iter().map(|n| wrap(HeaderEditIr::Remove(n.clone()))));
}

/// Resolves a GRPCRoute backendRef like an HTTPRoute's (a ReferenceGrant must admit
/// GRPCRoutes). An unresolved reference keeps its weight without a cluster; the caller
/// marks it to be answered [`UNAVAILABLE`].
pub(crate) fn resolve(
    backend: &BackendRef,
    route: &GrpcRoute,
    resources: &Resources,
    naming: &ClusterNaming,
    mesh: bool,
) -> Result<BackendIr, Unresolved> {
    resolve_ref(backend, route, resources, naming, mesh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(kind: StringMatchType, service: Option<&str>, method: Option<&str>) -> MethodMatch {
        MethodMatch {
            kind,
            service: service.map(str::to_string),
            method: method.map(str::to_string),
        }
    }

    #[test]
    fn exact_service_and_method_is_an_exact_path() {
        assert_eq!(
            method_path(Some(&method(
                StringMatchType::Exact,
                Some("pkg.Svc"),
                Some("Get")
            ))),
            PathIr::Exact("/pkg.Svc/Get".into())
        );
    }

    #[test]
    fn exact_service_only_is_a_one_segment_prefix() {
        assert_eq!(
            method_path(Some(&method(StringMatchType::Exact, Some("pkg.Svc"), None))),
            PathIr::Prefix(vec!["pkg.Svc".into()])
        );
    }

    #[test]
    fn exact_method_only_matches_any_service() {
        assert_eq!(
            method_path(Some(&method(StringMatchType::Exact, None, Some("Get")))),
            PathIr::Regex("/[^/]+/Get".into())
        );
    }

    #[test]
    fn regular_expression_sides_default_to_any() {
        assert_eq!(
            method_path(Some(&method(
                StringMatchType::RegularExpression,
                Some("pkg\\..*"),
                None
            ))),
            PathIr::Regex("/(?:pkg\\..*)/(?:.+)".into())
        );
    }

    #[test]
    fn no_method_matches_every_call() {
        assert_eq!(method_path(None), PathIr::Prefix(Vec::new()));
    }
}
