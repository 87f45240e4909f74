//! Gateway API semantics: attach HTTPRoutes to the target Gateway's listeners, lower
//! every match of every rule to a bytecode entry, and order entries by precedence.

pub mod attach;
pub mod backends;
pub mod filters;
pub mod hostname;
pub mod precedence;

use std::collections::{BTreeMap, BTreeSet};

use switchyard_bytecode::SourceKind;
use switchyard_bytecode::ir::{
    ActionIr, BackendIr, EntryIr, FilterIr, HostPattern, ListenerIr, PathIr, PredicateIr, SourceIr, VhostIr,
};

use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::resources::{
    BackendRef, Gateway, HttpRoute, PathType, Resources, RouteMatch, RouteRule, StringMatchType,
};

use self::attach::{attach, serves_http};
use self::backends::{ClusterNaming, resolve};
use self::filters::{Scope, lower_filters, router_steps, with_filters};
use self::precedence::Precedence;

/// Builds the listeners of the program for `gateway`.
pub fn compile_gateway(
    gateway: &Gateway,
    resources: &Resources,
    naming: &ClusterNaming,
    diagnostics: &mut Diagnostics,
) -> Vec<ListenerIr> {
    let (attachments, rejections) = attach(gateway, resources);
    for rejection in rejections {
        let route = resources
            .http_routes
            .iter()
            .find(|r| r.meta.key() == rejection.route);
        diagnostics.push(warning(
            route,
            format!("spec.parentRefs[{}]", rejection.parent_ref),
            format!(
                "not attached to Gateway {} ({}: {})",
                gateway.meta.key(),
                rejection.reason,
                rejection.message
            ),
        ));
    }

    // port -> host pattern -> (precedence, entry)
    let mut ports: BTreeMap<u32, BTreeMap<HostPattern, Vec<(Precedence, EntryIr)>>> = BTreeMap::new();
    for listener in gateway.listeners.iter().filter(|l| serves_http(l)) {
        ports.entry(listener.port).or_default();
    }
    let mut placed = BTreeSet::new();
    let mut reported = BTreeSet::new();
    for attachment in &attachments {
        let route = attachment.route;
        for (rule_index, rule) in route.rules.iter().enumerate() {
            let first_time = reported.insert((route.meta.key(), rule_index));
            let backends = rule_backends(
                route,
                rule_index,
                rule,
                resources,
                naming,
                diagnostics,
                first_time,
            );
            let scope = Scope {
                route,
                resources,
                naming,
            };
            for (match_index, m) in rule.matches.iter().enumerate() {
                let lowered = lower_filters(&rule.filters, m, &scope);
                if first_time && match_index == 0 {
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
                for host in &attachment.hostnames {
                    let pattern = HostPattern::parse(host.as_deref().unwrap_or("*"));
                    let key = (
                        attachment.listener.port,
                        pattern.clone(),
                        route.meta.key(),
                        rule_index,
                        match_index,
                    );
                    if !placed.insert(key) {
                        continue; // attached twice to one listener through two parentRefs
                    }
                    let precedence = Precedence::of(
                        m,
                        route.meta.creation_timestamp.as_deref(),
                        route.meta.key(),
                        rule_index,
                        match_index,
                    );
                    let entry = lower_match(route, rule_index, match_index, m, steps.clone(), action.clone());
                    ports
                        .entry(attachment.listener.port)
                        .or_default()
                        .entry(pattern)
                        .or_default()
                        .push((precedence, entry));
                }
            }
        }
    }
    ports
        .into_iter()
        .map(|(port, hosts)| ListenerIr {
            port,
            vhosts: hosts
                .into_iter()
                .map(|(host, mut entries)| {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    VhostIr {
                        host,
                        fallback: true,
                        entries: entries.into_iter().map(|(_, e)| e).collect(),
                    }
                })
                .collect(),
        })
        .collect()
}

fn warning(route: Option<&HttpRoute>, field: String, message: String) -> Diagnostic {
    let (location, resource) = match route {
        Some(r) => (
            Location {
                file: r.meta.file.clone(),
                line: r.meta.line,
                column: 0,
            },
            format!("HTTPRoute {}", r.meta.key()),
        ),
        None => (Location::default(), String::new()),
    };
    let mut d = Diagnostic::error(location, message).with_field(field);
    d.severity = Severity::Warning;
    if !resource.is_empty() {
        d = d.with_resource(resource);
    }
    d
}

/// The rule's weighted backends, with the references they came from. Unresolvable
/// references stay in the set without a cluster, so their share of requests is
/// answered 500, as the spec requires.
fn rule_backends<'r>(
    route: &HttpRoute,
    rule_index: usize,
    rule: &'r RouteRule,
    resources: &Resources,
    naming: &ClusterNaming,
    diagnostics: &mut Diagnostics,
    report: bool,
) -> Vec<(BackendIr, &'r BackendRef)> {
    let mut backends = Vec::new();
    for (i, backend) in rule.backend_refs.iter().enumerate() {
        match resolve(backend, route, resources, naming) {
            Ok(ir) => backends.push((ir, backend)),
            Err((why, ir)) => {
                if report {
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
                }
                backends.push((ir, backend));
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
