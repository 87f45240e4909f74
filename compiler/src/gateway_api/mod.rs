//! Gateway API semantics: attach HTTPRoutes and GRPCRoutes to the target Gateway's
//! listeners (its own and its ListenerSets'), lower every match of every rule to a
//! bytecode entry, order entries by precedence, and keep listeners isolated.

pub mod attach;
pub mod backends;
pub mod filters;
pub mod grpc;
pub mod hostname;
pub mod lower;
pub mod mesh;
pub mod misdirected;
pub mod precedence;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::rc::Rc;

use switchyard_bytecode::ir::{EntryIr, HostPattern, ListenerIr, VhostIr};

use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::resources::{Gateway, GrpcRoute, HttpRoute, Listener, Meta, Resources, Route};

use self::attach::{Attached, MergedListener, attach_all, serves_http};
use self::backends::ClusterNaming;
use self::grpc::lower_grpc_route;
use self::hostname::includes;
use self::lower::{RouteLowering, lower_route_rules};
use self::misdirected::https_listener_hosts;
use self::precedence::RouteOrder;

/// A route's entries, lowered once and shared by every vhost it serves.
type Lowered = Rc<Vec<(RouteOrder, EntryIr)>>;

/// A vhost being built: which listener hostname owns it, and its entries.
#[derive(Debug, Default)]
struct Vhost {
    /// The hostname of the listener(s) whose routes it holds (`None`: no hostname).
    owner: Option<String>,
    /// Entries as (the route's lowered entries, index): copied out only when the vhost
    /// is built, so that a large configuration is never held twice.
    entries: Vec<(Lowered, usize)>,
}

/// Builds the listeners of the program for `gateway`.
///
/// Listener isolation (Extended, `GatewayHTTPListenerIsolation`; `gateway_types.go`):
/// "for all distinct Listeners, requests SHOULD match at most one Listener. For example,
/// if Listeners are defined for "foo.example.com" and "*.example.com", a request to
/// "foo.example.com" SHOULD only be routed using routes attached to the
/// "foo.example.com" Listener (and not the "*.example.com" Listener)." Listener
/// hostnames on one port are matched "from the most specific to least specific": exact,
/// then longer wildcards, then none. So a request is served only by the routes of the
/// most specific listener on its port whose hostname matches its host, and:
/// - a route hostname served through a listener is dropped when a more specific
///   listener on the same port matches all of its hosts (route `*.foo.example.com` on
///   a listener without hostname, beside a listener `*.foo.example.com`);
/// - a listener that has a less specific one beside it gets a vhost for its hostname
///   even without routes, so its hosts answer 404 instead of reaching the other
///   listener's routes;
/// - a vhost falls back (to the next less specific hostname) only to a vhost of the
///   same listener: route hostnames of one listener still compete longest first.
///
/// Listeners with the same port and hostname (possible only with different protocols)
/// share their vhosts.
pub fn compile_gateway(
    gateway: &Gateway,
    resources: &Resources,
    naming: &ClusterNaming,
    diagnostics: &mut Diagnostics,
) -> Vec<ListenerIr> {
    let attached = attach_all(gateway, resources);
    report_attachment(gateway, resources, &attached, diagnostics);
    let merged: Vec<&MergedListener<'_>> = attached
        .listeners
        .listeners
        .iter()
        .filter(|m| serves_http(m.listener))
        .collect();

    // Each route is lowered once, whatever listeners and hostnames it serves.
    let mut http_lowered: BTreeMap<String, Lowered> = BTreeMap::new();
    for attachment in &attached.http {
        let route = attachment.route;
        http_lowered.entry(route.meta.key()).or_insert_with(|| {
            let mut lowering = RouteLowering::default();
            lower_route_rules(route, resources, naming, diagnostics, &mut lowering);
            Rc::new(
                lowering
                    .entries
                    .into_iter()
                    .map(|(p, e)| (RouteOrder::Http(p), e))
                    .collect(),
            )
        });
    }
    let mut grpc_lowered: BTreeMap<String, Lowered> = BTreeMap::new();
    for attachment in &attached.grpc {
        let route = attachment.route;
        grpc_lowered.entry(route.meta.key()).or_insert_with(|| {
            Rc::new(
                lower_grpc_route(route, resources, naming, diagnostics, false)
                    .into_iter()
                    .map(|(p, e)| (RouteOrder::Grpc(p), e))
                    .collect(),
            )
        });
    }
    let claims = attached
        .http
        .iter()
        .map(|a| {
            (
                HttpRoute::KIND,
                &a.route.meta,
                a.listener,
                &a.hostnames,
                &http_lowered[&a.route.meta.key()],
            )
        })
        .chain(attached.grpc.iter().map(|a| {
            (
                GrpcRoute::KIND,
                &a.route.meta,
                a.listener,
                &a.hostnames,
                &grpc_lowered[&a.route.meta.key()],
            )
        }));

    // port -> host pattern -> vhost
    let mut ports: BTreeMap<u32, BTreeMap<HostPattern, Vhost>> = BTreeMap::new();
    for m in &merged {
        ports.entry(m.listener.port).or_default();
    }
    let mut placed = BTreeSet::new();
    let mut isolated = BTreeSet::new();
    for (kind, meta, listener, hostnames, entries) in claims {
        for host in hostnames {
            if let Some(owner) = more_specific_listener(&merged, listener, host.as_deref()) {
                if isolated.insert((kind, meta.key(), listener.name.clone(), host.clone())) {
                    diagnostics.push(route_note(
                        kind,
                        meta,
                        "spec.hostnames".into(),
                        format!(
                            "hostname {} is not served through listener {:?}: the more specific listener {:?} on port {} owns it (listener isolation)",
                            host.as_deref().unwrap_or("*"),
                            listener.name,
                            owner.name,
                            listener.port
                        ),
                    ));
                }
                continue;
            }
            let pattern = HostPattern::parse(host.as_deref().unwrap_or("*"));
            let vhost = ports
                .entry(listener.port)
                .or_default()
                .entry(pattern.clone())
                .or_insert_with(|| Vhost {
                    owner: listener.hostname.clone(),
                    entries: Vec::new(),
                });
            // Two listeners' route hostnames never meet in one vhost: of two nested
            // listener hostnames, the less specific listener's was dropped above.
            debug_assert_eq!(
                vhost.owner, listener.hostname,
                "host {pattern} on port {}",
                listener.port
            );
            // A route attached twice to one listener (through two parentRefs) is
            // placed once: every entry of a (port, host, route) claim is placed the
            // first time, so later claims with the same key add nothing.
            if placed.insert((listener.port, pattern.clone(), kind, meta.key())) {
                let mut matches = HashSet::new();
                for (index, (_, entry)) in entries.iter().enumerate() {
                    if matches.insert((entry.source.rule, entry.source.match_index)) {
                        vhost.entries.push((Rc::clone(entries), index));
                    }
                }
            }
        }
    }
    // A listener with a less specific one beside it owns its hostname even without routes.
    for m in &merged {
        let Some(hostname) = &m.listener.hostname else {
            continue;
        };
        let shadows = merged.iter().any(|other| {
            other.listener.port == m.listener.port
                && other.listener.hostname.as_ref() != Some(hostname)
                && includes(other.listener.hostname.as_deref(), Some(hostname))
        });
        if shadows {
            ports
                .entry(m.listener.port)
                .or_default()
                .entry(HostPattern::parse(hostname))
                .or_insert_with(|| Vhost {
                    owner: Some(hostname.clone()),
                    entries: Vec::new(),
                });
        }
    }
    // Only the vhosts hold lowered entries now: each route's are freed once copied.
    drop((http_lowered, grpc_lowered));
    let mut sni_hosts = https_listener_hosts(&merged);
    ports
        .into_iter()
        .map(|(port, hosts)| {
            let fallbacks: Vec<bool> = hosts
                .iter()
                .map(|(host, vhost)| {
                    next_less_specific(host, |p| hosts.contains_key(p))
                        .is_none_or(|next| hosts[&next].owner == vhost.owner)
                })
                .collect();
            ListenerIr {
                port,
                sni_hosts: sni_hosts.remove(&port).unwrap_or_default(),
                vhosts: hosts
                    .into_iter()
                    .zip(fallbacks)
                    .map(|((host, mut vhost), fallback)| {
                        vhost.entries.sort_by(|(a, i), (b, j)| a[*i].0.cmp(&b[*j].0));
                        VhostIr {
                            host,
                            fallback,
                            entries: vhost
                                .entries
                                .into_iter()
                                .map(|(list, i)| list[i].1.clone())
                                .collect(),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The most specific listener on `listener`'s port, more specific than it, whose
/// hostname matches every host of `host` (which `listener` serves): it owns those hosts.
fn more_specific_listener<'r>(
    merged: &[&MergedListener<'r>],
    listener: &Listener,
    host: Option<&str>,
) -> Option<&'r Listener> {
    let own = listener.hostname.as_deref();
    // Every candidate's hostname includes `host`, so the candidates nest.
    merged
        .iter()
        .map(|m| m.listener)
        .filter(|other| other.port == listener.port && other.hostname.as_deref() != own)
        .filter(|other| includes(own, other.hostname.as_deref()) && includes(other.hostname.as_deref(), host))
        .reduce(|best, other| {
            if includes(best.hostname.as_deref(), other.hostname.as_deref()) {
                other
            } else {
                best
            }
        })
}

/// The vhost a request falls back to from `host` when the writer links them: the
/// longest wildcard suffix strictly shorter than the pattern's own, else the catch-all
/// (the writer's rule, `switchyard_bytecode::writer`).
fn next_less_specific(host: &HostPattern, exists: impl Fn(&HostPattern) -> bool) -> Option<HostPattern> {
    let name = match host {
        HostPattern::Exact(name) => name.as_str(),
        HostPattern::Wildcard(suffix) => suffix.get(1..).unwrap_or(""),
        HostPattern::Any => return None,
    };
    name.char_indices()
        .filter(|&(_, c)| c == '.')
        .map(|(i, _)| HostPattern::Wildcard(name[i..].to_string()))
        .chain(std::iter::once(HostPattern::Any))
        .find(|p| exists(p))
}

/// Warnings for ListenerSets and routes that add nothing to the Gateway.
fn report_attachment(
    gateway: &Gateway,
    resources: &Resources,
    attached: &Attached<'_>,
    diagnostics: &mut Diagnostics,
) {
    for rejected in &attached.listeners.rejected {
        let set = rejected.set;
        let field = match rejected.listener {
            Some(i) => format!("spec.listeners[{i}]"),
            None => "spec.parentRef".to_string(),
        };
        let what = match rejected.listener {
            Some(i) => format!("listener {:?} is not served", set.listeners[i].name),
            None => format!("not attached to Gateway {}", gateway.meta.key()),
        };
        diagnostics.push(meta_diagnostic(
            Severity::Warning,
            "ListenerSet",
            &set.meta,
            field,
            format!("{what} ({}: {})", rejected.reason, rejected.message),
        ));
    }
    for rejection in &attached.rejections {
        let meta = match rejection.kind {
            GrpcRoute::KIND => resources
                .grpc_routes
                .iter()
                .map(|r| &r.meta)
                .find(|m| m.key() == rejection.route),
            _ => resources
                .http_routes
                .iter()
                .map(|r| &r.meta)
                .find(|m| m.key() == rejection.route),
        };
        let Some(meta) = meta else { continue };
        diagnostics.push(meta_diagnostic(
            Severity::Warning,
            rejection.kind,
            meta,
            format!("spec.parentRefs[{}]", rejection.parent_ref),
            format!(
                "not attached to {} ({}: {})",
                rejection.parent, rejection.reason, rejection.message
            ),
        ));
    }
}

pub(crate) fn warning(route: Option<&HttpRoute>, field: String, message: String) -> Diagnostic {
    match route {
        Some(route) => route_warning(route, field, message),
        None => {
            let mut d = Diagnostic::error(Location::default(), message).with_field(field);
            d.severity = Severity::Warning;
            d
        }
    }
}

/// A warning about `route` (of any kind), at its `metadata`.
pub(crate) fn route_warning<R: Route>(route: &R, field: String, message: String) -> Diagnostic {
    meta_diagnostic(Severity::Warning, R::KIND, route.meta(), field, message)
}

fn route_note(kind: &str, meta: &Meta, field: String, message: String) -> Diagnostic {
    meta_diagnostic(Severity::Note, kind, meta, field, message)
}

fn meta_diagnostic(
    severity: Severity,
    kind: &str,
    meta: &Meta,
    field: String,
    message: String,
) -> Diagnostic {
    let location = Location {
        file: meta.file.clone(),
        line: meta.line,
        column: 0,
    };
    let mut d = Diagnostic::error(location, message)
        .with_field(field)
        .with_resource(format!("{kind} {}", meta.key()));
    d.severity = severity;
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_target_is_the_longest_existing_shorter_wildcard_then_the_catch_all() {
        let existing = [
            HostPattern::parse("*.example.com"),
            HostPattern::parse("*"),
            HostPattern::parse("a.b.example.com"),
        ];
        let exists = |p: &HostPattern| existing.contains(p);
        assert_eq!(
            next_less_specific(&HostPattern::parse("a.b.example.com"), exists),
            Some(HostPattern::parse("*.example.com"))
        );
        assert_eq!(
            next_less_specific(&HostPattern::parse("*.example.com"), exists),
            Some(HostPattern::Any)
        );
        assert_eq!(next_less_specific(&HostPattern::Any, exists), None);
    }
}
