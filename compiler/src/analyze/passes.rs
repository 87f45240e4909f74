//! The analyses over one compiled target: shadowed and duplicate rules, creation-order
//! ties, VirtualService merges, Istio string prefixes and unresolved backends. Each
//! finding carries a witness request, evaluated by the real program.

use std::collections::BTreeSet;

use switchyard_bytecode::ir::{ActionIr, BackendIr, EntryIr, HostPattern, PathIr, SourceIr};
use switchyard_bytecode::{Outcome, Program, Scratch, SourceKind};

use super::cover::{covers, same_conditions};
use super::finding::{self, Finding, Place, Witness};
use super::witness::{as_request, matches_alone, witness};
use crate::compile::Compiled;
use crate::equivalence::TestRequest;
use crate::gateway_api::precedence::{GrpcPrecedence, Precedence};
use crate::locate::Locator;
use crate::resources::{Meta, Resources};

/// One entry with where it sits.
struct Located<'a> {
    port: u32,
    host: &'a HostPattern,
    entry: &'a EntryIr,
}

/// What the passes share.
pub struct Context<'a> {
    pub compiled: &'a Compiled,
    /// The Kubernetes cluster domain the program was compiled with.
    pub compiled_domain: String,
    pub program: &'a Program,
    pub resources: &'a Resources,
    pub locator: Locator<'a>,
}

impl Context<'_> {
    fn target(&self) -> &str {
        &self.compiled.ir.target
    }

    fn place(&self, source: &SourceIr) -> Place {
        let info = switchyard_bytecode::SourceInfo {
            kind: source.kind,
            namespace: &source.namespace,
            name: &source.name,
            rule: u32::from(source.rule),
            match_index: u32::from(source.match_index),
        };
        Place::new(self.locator.locate(&info), info.to_string())
    }

    /// The witness as users replay it, and what the program does with it.
    fn replay(&self, request: &TestRequest) -> Witness {
        let decision = self.program.evaluate(&as_request(request), &mut Scratch::new());
        let outcome = match (decision.entry, decision.outcome) {
            (Some(entry), Outcome::Forward { cluster, .. }) => {
                format!("won by {}; forwarded to {cluster}", self.program.source(entry))
            }
            (Some(entry), Outcome::Reply { status, .. } | Outcome::Redirect { status, .. }) => {
                format!("won by {}; answered {status}", self.program.source(entry))
            }
            (_, Outcome::Pass) => "no vhost takes the host; passed to the proxy's own routes".to_string(),
            (None, _) => "no rule matches; answered 404".to_string(),
        };
        let port_default = if request.scheme == "https" { 443 } else { 80 };
        let authority = if request.port == port_default || request.authority.contains(':') {
            request.authority.clone()
        } else {
            format!("{}:{}", request.authority, request.port)
        };
        Witness {
            request: format!(
                "{} {}://{authority}{}",
                request.method, request.scheme, request.path
            ),
            port: request.port,
            headers: request.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect(),
            random: request.random,
            outcome,
        }
    }

    /// The source of the entry that wins `request`, if any.
    fn winner(&self, request: &TestRequest) -> Option<SourceIr> {
        let decision = self.program.evaluate(&as_request(request), &mut Scratch::new());
        decision.entry.map(|e| {
            let s = self.program.source(e);
            SourceIr {
                kind: s.kind,
                namespace: s.namespace.to_string(),
                name: s.name.to_string(),
                rule: s.rule as u16,
                match_index: s.match_index as u16,
            }
        })
    }

    fn vhosts(&self) -> Vec<Vec<Located<'_>>> {
        let mut out = Vec::new();
        for listener in &self.compiled.ir.listeners {
            for vhost in &listener.vhosts {
                out.push(
                    vhost
                        .entries
                        .iter()
                        .map(|entry| Located {
                            port: listener.port,
                            host: &vhost.host,
                            entry,
                        })
                        .collect(),
                );
            }
        }
        out
    }
}

/// Rules that can never match, and duplicate matches.
pub fn shadowed(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for vhost in cx.vhosts() {
        for (i, later) in vhost.iter().enumerate() {
            let Some(earlier) = vhost[..i].iter().find(|w| covers(w.entry, later.entry)) else {
                continue;
            };
            let duplicate = same_conditions(earlier.entry, later.entry);
            let kind = if duplicate {
                finding::DUPLICATE
            } else {
                finding::SHADOWED
            };
            let (later_place, earlier_place) =
                (cx.place(&later.entry.source), cx.place(&earlier.entry.source));
            let message = if duplicate {
                format!(
                    "{} has the same conditions as {}, which is evaluated first on host {}: it never matches",
                    later_place.what, earlier_place.what, later.host
                )
            } else {
                format!(
                    "{} can never match on host {}: every request it matches is taken by {}",
                    later_place.what, later.host, earlier_place.what
                )
            };
            let mut f = Finding::new(kind, cx.target(), message, later_place);
            f.related.push(earlier_place);
            f.witness = witness(later.port, later.host, later.entry).map(|w| cx.replay(&w));
            out.push(f);
        }
    }
}

/// The precedence of an entry's match as Gateway API ranks it, when it comes from an
/// HTTPRoute or GRPCRoute match.
enum Rank {
    Http(Precedence),
    Grpc(GrpcPrecedence),
}

fn rank_of<'r>(resources: &'r Resources, source: &SourceIr) -> Option<(Rank, &'r Meta)> {
    let (rule, index) = (usize::from(source.rule), usize::from(source.match_index));
    let same = |m: &Meta| m.namespace == source.namespace && m.name == source.name;
    match source.kind {
        SourceKind::HttpRoute => {
            let route = resources.http_routes.iter().find(|r| same(&r.meta))?;
            let m = route.rules.get(rule)?.matches.get(index)?;
            let p = Precedence::of(
                m,
                route.meta.creation_timestamp.as_deref(),
                route.meta.key(),
                rule,
                index,
            );
            Some((Rank::Http(p), &route.meta))
        }
        SourceKind::GrpcRoute => {
            let route = resources.grpc_routes.iter().find(|r| same(&r.meta))?;
            let m = route.rules.get(rule)?.matches.get(index)?;
            let p = GrpcPrecedence::of(
                m,
                route.meta.creation_timestamp.as_deref(),
                route.meta.key(),
                rule,
                index,
            );
            Some((Rank::Grpc(p), &route.meta))
        }
        _ => None,
    }
}

/// Why `first` is evaluated before `second` when their precedence ties.
fn tie_reason(first: &Meta, second: &Meta) -> String {
    match (&first.creation_timestamp, &second.creation_timestamp) {
        (Some(a), Some(b)) if a != b => format!(
            "{} is older ({a} < {b}); re-creating either route flips the order",
            first.key()
        ),
        (None, None) => format!(
            "neither has a creationTimestamp, so here {} wins by name; in a cluster the older \
             route wins, so the order of `kubectl apply` decides",
            first.key()
        ),
        _ => format!(
            "{} wins by creationTimestamp or name; in a cluster the older route wins",
            first.key()
        ),
    }
}

/// Overlapping matches of different routes with equal precedence: decided by creation
/// time, which Git does not record.
pub fn ties(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
    for vhost in cx.vhosts() {
        let ranked: Vec<(usize, Rank, &Meta)> = vhost
            .iter()
            .enumerate()
            .filter_map(|(i, l)| rank_of(cx.resources, &l.entry.source).map(|(r, m)| (i, r, m)))
            .collect();
        for (a, (i, rank_i, meta_i)) in ranked.iter().enumerate() {
            for (j, rank_j, meta_j) in &ranked[a + 1..] {
                if meta_i.key() == meta_j.key() {
                    continue;
                }
                let tied = match (rank_i, rank_j) {
                    (Rank::Http(x), Rank::Http(y)) => x.same_rank(y),
                    (Rank::Grpc(x), Rank::Grpc(y)) => x.same_rank(y),
                    _ => false,
                };
                let pair = (meta_i.key(), meta_j.key());
                if !tied || reported.contains(&pair) {
                    continue;
                }
                let (first, second) = (&vhost[*i], &vhost[*j]);
                // A request both match: built for one, checked against the other.
                let overlap = witness(second.port, second.host, second.entry)
                    .filter(|w| matches_alone(first.entry, w))
                    .or_else(|| {
                        witness(first.port, first.host, first.entry)
                            .filter(|w| matches_alone(second.entry, w))
                    });
                let Some(request) = overlap else {
                    continue;
                };
                reported.insert(pair);
                let (first_place, second_place) =
                    (cx.place(&first.entry.source), cx.place(&second.entry.source));
                let message = format!(
                    "{} and {} have equal precedence and overlap on host {}: {}",
                    second_place.what,
                    first_place.what,
                    second.host,
                    tie_reason(meta_i, meta_j)
                );
                let mut f = Finding::new(finding::TIE, cx.target(), message, second_place);
                f.related.push(first_place);
                f.witness = Some(cx.replay(&request));
                out.push(f);
            }
        }
    }
}

/// Several VirtualServices on one host of a gateway whose rules overlap: Istio
/// concatenates them in creation order, so the older one's rules come first.
pub fn virtual_service_merges(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let root = |source: &SourceIr| {
        cx.resources.virtual_services.iter().find(|v| {
            v.meta.namespace == source.namespace && v.meta.name == source.name && !v.hosts.is_empty()
        })
    };
    let mut reported: BTreeSet<(String, String, String)> = BTreeSet::new();
    for vhost in cx.vhosts() {
        for (i, later) in vhost.iter().enumerate() {
            if later.entry.source.kind != SourceKind::VirtualService {
                continue;
            }
            let Some(later_vs) = root(&later.entry.source) else {
                continue;
            };
            let Some(request) = witness(later.port, later.host, later.entry) else {
                continue;
            };
            let Some(winner) = cx.winner(&request) else {
                continue;
            };
            let Some(earlier) = vhost[..i].iter().find(|w| w.entry.source == winner) else {
                continue;
            };
            let Some(earlier_vs) = root(&earlier.entry.source) else {
                continue;
            };
            let key = (earlier_vs.meta.key(), later_vs.meta.key(), later.host.to_string());
            if earlier_vs.meta.key() == later_vs.meta.key() || !reported.insert(key) {
                continue;
            }
            let (later_place, earlier_place) =
                (cx.place(&later.entry.source), cx.place(&earlier.entry.source));
            let message = format!(
                "VirtualServices {} and {} both serve host {}; Istio merges their rules in creation \
                 order (catch-all rules last), so {} takes requests {} also matches: {}",
                earlier_vs.meta.key(),
                later_vs.meta.key(),
                later.host,
                earlier_place.what,
                later_place.what,
                creation_reason(&earlier_vs.meta, &later_vs.meta)
            );
            let mut f = Finding::new(finding::VS_MERGE, cx.target(), message, later_place);
            f.related.push(earlier_place);
            f.witness = Some(cx.replay(&request));
            out.push(f);
        }
    }
}

fn creation_reason(first: &Meta, second: &Meta) -> String {
    match (&first.creation_timestamp, &second.creation_timestamp) {
        (Some(a), Some(b)) if a != b => format!("{} is older", first.key()),
        _ => "without creationTimestamps the name decides here; in a cluster the order of \
              `kubectl apply` does"
            .to_string(),
    }
}

/// Istio `uri.prefix` values that end inside a path segment: they also match longer
/// segments (`/api` matches `/apiary`), which Gateway API's PathPrefix never does.
pub fn string_prefixes(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
    for vhost in cx.vhosts() {
        for located in &vhost {
            let PathIr::StringPrefix(prefix) = &located.entry.path else {
                continue;
            };
            if prefix.is_empty() || prefix.ends_with('/') {
                continue;
            }
            let place = cx.place(&located.entry.source);
            if !reported.insert((place.what.clone(), prefix.clone())) {
                continue;
            }
            let request = witness(located.port, located.host, located.entry).map(|mut w| {
                let (path, query) = w.path.split_once('?').map_or((w.path.clone(), None), |(p, q)| {
                    (p.to_string(), Some(q.to_string()))
                });
                let longer = format!("{path}x");
                w.path = match query {
                    Some(q) => format!("{longer}?{q}"),
                    None => longer,
                };
                w
            });
            let request = request.filter(|w| matches_alone(located.entry, w));
            let message = format!(
                "uri prefix {prefix:?} of {} also matches {prefix}x...; a Gateway API PathPrefix {prefix} \
                 would not (use {prefix}/ or an exact match to keep segments apart)",
                place.what
            );
            let mut f = Finding::new(finding::STRING_PREFIX, cx.target(), message, place);
            f.witness = request.map(|w| cx.replay(&w));
            out.push(f);
        }
    }
}

/// Rules that answer 500 (a GRPCRoute's: UNAVAILABLE) for all or a share of their
/// requests.
pub fn unresolved_backends(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for vhost in cx.vhosts() {
        for located in &vhost {
            let grpc = located.entry.source.kind == SourceKind::GrpcRoute;
            let backends: &[BackendIr] = match &located.entry.action {
                ActionIr::Forward(backends) => backends,
                // A GRPCRoute rule with nothing to forward to is lowered to its
                // UNAVAILABLE answer (GRPCRoute has no filter that answers).
                ActionIr::Reply { .. } if grpc => &[],
                _ => continue,
            };
            let answered = if grpc {
                "answered UNAVAILABLE"
            } else {
                "answered 500"
            };
            let total: u64 = backends.iter().map(|b| u64::from(b.weight)).sum();
            let failing: u64 = backends
                .iter()
                .filter(|b| b.cluster.is_none())
                .map(|b| u64::from(b.weight))
                .sum();
            let share = if total == 0 {
                100.0
            } else {
                failing as f64 * 100.0 / total as f64
            };
            if total != 0 && failing == 0 {
                continue;
            }
            let place = cx.place(&located.entry.source);
            if !reported.insert(place.what.clone()) {
                continue;
            }
            let names = unresolved_names(cx.resources, &located.entry.source);
            let message = if total == 0 {
                format!(
                    "{} has no backend with weight; every request it matches is {answered}",
                    place.what
                )
            } else {
                format!(
                    "{}: {share:.1}% of its requests are {answered}: backendRef {} does not resolve",
                    place.what,
                    names.join(", ")
                )
            };
            let mut f = Finding::new(finding::UNRESOLVED_BACKEND, cx.target(), message, place);
            f.witness = witness(located.port, located.host, located.entry).map(|mut w| {
                // Pick the random draw that lands on the first failing share.
                let mut ticket = 0u64;
                for b in backends {
                    if b.cluster.is_none() && b.weight > 0 {
                        break;
                    }
                    ticket += u64::from(b.weight);
                }
                w.random = ticket;
                cx.replay(&w)
            });
            out.push(f);
        }
    }
}

/// The backendRefs of a route rule that name no Service in the inputs (or are
/// otherwise unresolvable), as `ns/name`; `a backend` when they cannot be told.
fn unresolved_names(resources: &Resources, source: &SourceIr) -> Vec<String> {
    let rule = usize::from(source.rule);
    let same = |m: &Meta| m.namespace == source.namespace && m.name == source.name;
    let refs = match source.kind {
        SourceKind::HttpRoute => resources
            .http_routes
            .iter()
            .find(|r| same(&r.meta))
            .and_then(|r| r.rules.get(rule))
            .map(|r| r.backend_refs.clone()),
        SourceKind::GrpcRoute => resources
            .grpc_routes
            .iter()
            .find(|r| same(&r.meta))
            .and_then(|r| r.rules.get(rule))
            .map(|r| r.backend_refs.clone()),
        _ => None,
    };
    let names: Vec<String> = refs
        .unwrap_or_default()
        .iter()
        .filter_map(|b| {
            let namespace = b.namespace.as_deref().unwrap_or(&source.namespace);
            if !(b.group.is_empty() && b.kind == "Service") {
                // Any other kind is unresolvable whatever exists under its name.
                Some(format!("{} {namespace}/{}", b.kind, b.name))
            } else {
                resources
                    .service(namespace, &b.name)
                    .is_none()
                    .then(|| format!("{namespace}/{}", b.name))
            }
        })
        .collect();
    if names.is_empty() {
        vec!["a backend".to_string()]
    } else {
        names
    }
}

/// Sidecar targets: a mesh VirtualService for a Service's host that routes nothing,
/// because Istio keeps only the oldest VirtualService (or GAMMA route) per host.
pub fn dropped_mesh_virtual_services(cx: &Context<'_>, namespace: &str, out: &mut Vec<Finding>) {
    use crate::istio::destination::service_name;
    use crate::istio::resolved_hosts;
    use crate::resources::istio::visible;
    let domain = &cx.compiled_domain;
    let used: BTreeSet<(String, String)> = cx
        .compiled
        .ir
        .listeners
        .iter()
        .flat_map(|l| &l.vhosts)
        .flat_map(|v| &v.entries)
        .map(|e| (e.source.namespace.clone(), e.source.name.clone()))
        .collect();
    for vs in &cx.resources.virtual_services {
        if vs.hosts.is_empty()
            || !crate::istio::bind::vs_gateways(vs).iter().any(|g| g == "mesh")
            || !visible(&vs.export_to, &vs.meta.namespace, namespace)
            || used.contains(&(vs.meta.namespace.clone(), vs.meta.name.clone()))
        {
            continue;
        }
        for host in resolved_hosts(vs, domain) {
            let Some((ns, name)) = service_name(&host, domain) else {
                continue;
            };
            if cx.resources.service(ns, name).is_none() {
                continue;
            }
            // Who routes the host instead: the entries of its vhost.
            let owner = cx
                .compiled
                .ir
                .listeners
                .iter()
                .flat_map(|l| &l.vhosts)
                .find(|v| v.host.to_string() == host)
                .and_then(|v| v.entries.first())
                .map(|e| cx.place(&e.source));
            let what = format!("VirtualService {}", vs.meta.key());
            let place = Place::new(
                Some(crate::diag::Location {
                    file: vs.meta.file.clone(),
                    line: vs.meta.line,
                    column: 0,
                }),
                what.clone(),
            );
            let message = match &owner {
                Some(owner) => format!(
                    "{what} is ignored by sidecars in namespace {namespace} for host {host}: Istio keeps one \
                     VirtualService (or GAMMA route) per host on a sidecar, the oldest, and {} routes it",
                    owner.what
                ),
                None => format!(
                    "{what} is ignored by sidecars in namespace {namespace} for host {host}: Istio keeps only \
                     the oldest VirtualService (or GAMMA route) per host on a sidecar"
                ),
            };
            let mut f = Finding::new(finding::VS_MERGE, cx.target(), message, place);
            f.related.extend(owner);
            out.push(f);
        }
    }
}
