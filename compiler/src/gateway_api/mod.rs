//! Gateway API semantics: attach HTTPRoutes to the target Gateway's listeners, lower
//! every match of every rule to a bytecode entry, and order entries by precedence.

pub mod attach;
pub mod backends;
pub mod filters;
pub mod hostname;
pub mod lower;
pub mod mesh;
pub mod precedence;

use std::collections::{BTreeMap, BTreeSet};

use switchyard_bytecode::ir::{EntryIr, HostPattern, ListenerIr, VhostIr};

use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::resources::{Gateway, HttpRoute, Resources};

use self::attach::{attach, serves_http};
use self::backends::ClusterNaming;
use self::lower::{RouteLowering, lower_route_rules};
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
    let mut lowered: BTreeMap<String, Vec<(Precedence, EntryIr)>> = BTreeMap::new();
    for attachment in &attachments {
        let route = attachment.route;
        let entries = lowered.entry(route.meta.key()).or_insert_with(|| {
            let mut lowering = RouteLowering::default();
            lower_route_rules(route, resources, naming, diagnostics, &mut lowering);
            lowering.entries
        });
        for (precedence, entry) in entries.iter() {
            for host in &attachment.hostnames {
                let pattern = HostPattern::parse(host.as_deref().unwrap_or("*"));
                let key = (
                    attachment.listener.port,
                    pattern.clone(),
                    route.meta.key(),
                    precedence.rule,
                    precedence.match_index,
                );
                if !placed.insert(key) {
                    continue; // attached twice to one listener through two parentRefs
                }
                ports
                    .entry(attachment.listener.port)
                    .or_default()
                    .entry(pattern)
                    .or_default()
                    .push((precedence.clone(), entry.clone()));
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

pub(crate) fn warning(route: Option<&HttpRoute>, field: String, message: String) -> Diagnostic {
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
