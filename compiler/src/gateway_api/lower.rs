//! Lowering one HTTPRoute: every match of every rule becomes a bytecode entry with its
//! precedence key, its filters and its action. Shared by Gateway and mesh targets.

use switchyard_bytecode::SourceKind;
use switchyard_bytecode::ir::{ActionIr, BackendIr, EntryIr, FilterIr, PathIr, PredicateIr, SourceIr};

use crate::diag::Diagnostics;
use crate::resources::{BackendRef, HttpRoute, PathType, Resources, RouteMatch, RouteRule, StringMatchType};

use super::backends::{ClusterNaming, resolve, unresolved_backend};
use super::filters::{Scope, lower_filters, router_steps, with_filters};
use super::precedence::Precedence;
use super::warning;

/// The entries of the routes lowered so far.
#[derive(Debug, Default)]
pub struct RouteLowering {
    pub entries: Vec<(Precedence, EntryIr)>,
    /// Lowering for a mesh sidecar (no ReferenceGrant needed for backends).
    pub mesh: bool,
}

/// Lowers every match of every rule of `route`, reporting unresolved references once.
pub fn lower_route_rules(
    route: &HttpRoute,
    resources: &Resources,
    naming: &ClusterNaming,
    diagnostics: &mut Diagnostics,
    lowering: &mut RouteLowering,
) {
    let scope = Scope {
        route,
        resources,
        naming,
        mesh: lowering.mesh,
    };
    for (rule_index, rule) in route.rules.iter().enumerate() {
        let backends = rule_backends(rule_index, rule, &scope, diagnostics);
        for (match_index, m) in rule.matches.iter().enumerate() {
            let lowered = lower_filters(&rule.filters, m, &scope);
            if match_index == 0 {
                for (filter, why) in &lowered.unresolved_mirrors {
                    diagnostics.push(warning(
                        Some(route),
                        format!("spec.rules[{rule_index}].filters[{filter}].requestMirror.backendRef"),
                        format!("does not resolve ({}); the mirror is dropped", why.reason()),
                    ));
                }
            }
            let mut steps = lowered.steps;
            steps.extend(router_steps(rule));
            let action = match lowered.redirect {
                Some(redirect) => ActionIr::Redirect(redirect),
                None => ActionIr::Forward(
                    backends
                        .iter()
                        .map(|(backend, reference)| {
                            with_filters(backend.clone(), &reference.filters, m, &scope)
                        })
                        .collect(),
                ),
            };
            let precedence = Precedence::of(
                m,
                route.meta.creation_timestamp.as_deref(),
                route.meta.key(),
                rule_index,
                match_index,
            );
            let entry = lower_match(route, rule_index, match_index, m, steps, action);
            lowering.entries.push((precedence, entry));
        }
    }
}

/// The rule's weighted backends, with the references they came from. Unresolvable
/// references stay in the set without a cluster, so their share of requests is
/// answered 500, as the spec requires.
fn rule_backends<'r>(
    rule_index: usize,
    rule: &'r RouteRule,
    scope: &Scope<'_>,
    diagnostics: &mut Diagnostics,
) -> Vec<(BackendIr, &'r BackendRef)> {
    let route = scope.route;
    let mut backends = Vec::new();
    for (i, backend) in rule.backend_refs.iter().enumerate() {
        match resolve(backend, scope) {
            Ok(ir) => backends.push((ir, backend)),
            Err(why) => {
                diagnostics.push(warning(
                    Some(route),
                    format!("spec.rules[{rule_index}].backendRefs[{i}]"),
                    format!(
                        "{} {:?} does not resolve ({}); its share is answered 500",
                        backend.kind,
                        backend.name,
                        why.reason()
                    ),
                ));
                backends.push((unresolved_backend(backend), backend));
            }
        }
    }
    backends
}

fn lower_match(
    route: &HttpRoute,
    rule: usize,
    match_index: usize,
    m: &RouteMatch,
    filters: Vec<FilterIr>,
    action: ActionIr,
) -> EntryIr {
    let path = match m.path.kind {
        PathType::Exact => PathIr::Exact(m.path.value.clone()),
        // "/abc/" and "/abc" are the same element-wise prefix.
        PathType::PathPrefix => PathIr::Prefix(
            m.path
                .value
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        PathType::RegularExpression => PathIr::Regex(m.path.value.clone()),
    };
    let mut predicates = Vec::new();
    if let Some(method) = &m.method {
        predicates.push(PredicateIr::Method(method.clone()));
    }
    for header in &m.headers {
        predicates.push(match header.kind {
            StringMatchType::Exact => PredicateIr::HeaderExact {
                name: header.name.clone(),
                value: header.value.clone(),
            },
            StringMatchType::RegularExpression => PredicateIr::HeaderRegex {
                name: header.name.clone(),
                pattern: header.value.clone(),
            },
        });
    }
    for query in &m.query_params {
        predicates.push(match query.kind {
            StringMatchType::Exact => PredicateIr::QueryExact {
                name: query.name.clone(),
                value: query.value.clone(),
            },
            StringMatchType::RegularExpression => PredicateIr::QueryRegex {
                name: query.name.clone(),
                pattern: query.value.clone(),
            },
        });
    }
    EntryIr {
        path,
        predicates,
        filters,
        action,
        source: SourceIr {
            kind: SourceKind::HttpRoute,
            namespace: route.meta.namespace.clone(),
            name: route.meta.name.clone(),
            rule: rule as u16,
            match_index: match_index as u16,
        },
    }
}
