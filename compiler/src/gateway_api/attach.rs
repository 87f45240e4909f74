//! Which routes attach to which listeners of the target Gateway.
//!
//! The listeners are the Gateway's own and those of the ListenerSets it admits, merged
//! in the order the spec gives ([`merged_listeners`]). Routes of every kind
//! (HTTPRoute, GRPCRoute) attach the same way ([`attach_kind`]); then an HTTPRoute and a
//! GRPCRoute that claim intersecting hostnames on one listener are resolved to the
//! older one ([`attach_all`]).

use crate::resources::gateway_api::{ListenersFrom, NamespacesFrom};
use crate::resources::{
    Gateway, GrpcRoute, HttpRoute, Listener, ListenerSet, Meta, ParentRef, Resources, Route,
};

use super::hostname::{effective_hostnames, intersects};
use super::precedence::older_route_first;

const GROUP: &str = "gateway.networking.k8s.io";

/// The object a listener is declared in.
#[derive(Debug, Clone, Copy)]
pub enum ListenerParent<'r> {
    Gateway(&'r Gateway),
    ListenerSet(&'r ListenerSet),
}

impl<'r> ListenerParent<'r> {
    pub fn meta(&self) -> &'r Meta {
        match self {
            ListenerParent::Gateway(g) => &g.meta,
            ListenerParent::ListenerSet(s) => &s.meta,
        }
    }

    /// `Gateway` or `ListenerSet`.
    pub fn kind(&self) -> &'static str {
        match self {
            ListenerParent::Gateway(_) => "Gateway",
            ListenerParent::ListenerSet(_) => "ListenerSet",
        }
    }
}

/// One listener of the Gateway's merged list.
#[derive(Debug, Clone, Copy)]
pub struct MergedListener<'r> {
    pub listener: &'r Listener,
    pub parent: ListenerParent<'r>,
}

/// A ListenerSet, or one of its listeners, that adds nothing to the Gateway.
#[derive(Debug, Clone)]
pub struct ListenerRejection<'r> {
    pub set: &'r ListenerSet,
    /// The listener's index in `spec.listeners`; `None`: the whole set.
    pub listener: Option<usize>,
    /// `NotAllowed` (set), `HostnameConflict` or `ProtocolConflict` (listener).
    pub reason: &'static str,
    pub message: String,
}

/// The Gateway's listeners followed by those of its ListenerSets, without conflicted
/// ones; and what was left out.
#[derive(Debug, Clone, Default)]
pub struct MergedListeners<'r> {
    pub listeners: Vec<MergedListener<'r>>,
    pub rejected: Vec<ListenerRejection<'r>>,
}

/// Merges the listeners of `gateway` and of the ListenerSets it admits.
///
/// Gateway API (`ListenerSetSpec.listeners`): "Implementations MUST treat the parent
/// Gateway as having the merged list of all listeners from itself and attached
/// ListenerSets using the following precedence: 1. "parent" Gateway 2. ListenerSet
/// ordered by creation time (oldest first) 3. ListenerSet ordered alphabetically by
/// "{namespace}/{name}"." A ListenerSet attaches only when the Gateway's
/// `allowedListeners.namespaces.from` admits its namespace (`None`, the default, admits
/// none). A set's listener that is not distinct from an earlier one in the merged list
/// (same port with the same hostname, or with another protocol) is Conflicted and not
/// served; the earlier one keeps working ("The first conflicted listener is accepted
/// based on Listener precedence", conformance test `ListenerSetHostnameConflict`).
pub fn merged_listeners<'r>(gateway: &'r Gateway, resources: &'r Resources) -> MergedListeners<'r> {
    let mut merged = MergedListeners {
        listeners: gateway
            .listeners
            .iter()
            .map(|listener| MergedListener {
                listener,
                parent: ListenerParent::Gateway(gateway),
            })
            .collect(),
        rejected: Vec::new(),
    };
    let mut sets: Vec<&ListenerSet> = Vec::new();
    for set in resources
        .listener_sets
        .iter()
        .filter(|s| set_names_gateway(s, gateway))
    {
        if sets_allowed(gateway, set, resources) {
            sets.push(set);
        } else {
            merged.rejected.push(ListenerRejection {
                set,
                listener: None,
                reason: "NotAllowed",
                message: format!(
                    "Gateway {} does not admit ListenerSets from namespace {:?} (spec.allowedListeners)",
                    gateway.meta.key(),
                    set.meta.namespace
                ),
            });
        }
    }
    sets.sort_by(|a, b| {
        older_route_first(
            (a.meta.creation_timestamp.as_deref(), &a.meta.key()),
            (b.meta.creation_timestamp.as_deref(), &b.meta.key()),
        )
    });
    for set in sets {
        for (index, listener) in set.listeners.iter().enumerate() {
            let earlier = merged.listeners.iter().find(|m| {
                m.listener.port == listener.port
                    && (m.listener.protocol != listener.protocol || m.listener.hostname == listener.hostname)
            });
            if let Some(earlier) = earlier {
                let reason = if earlier.listener.protocol != listener.protocol {
                    "ProtocolConflict"
                } else {
                    "HostnameConflict"
                };
                merged.rejected.push(ListenerRejection {
                    set,
                    listener: Some(index),
                    reason,
                    message: format!(
                        "conflicts with listener {:?} of {} {} on port {}, which comes first",
                        earlier.listener.name,
                        earlier.parent.kind(),
                        earlier.parent.meta().key(),
                        listener.port
                    ),
                });
                continue;
            }
            merged.listeners.push(MergedListener {
                listener,
                parent: ListenerParent::ListenerSet(set),
            });
        }
    }
    merged
}

fn set_names_gateway(set: &ListenerSet, gateway: &Gateway) -> bool {
    set.parent.group == GROUP
        && set.parent.kind == "Gateway"
        && set.parent.name == gateway.meta.name
        && set.parent_namespace() == gateway.meta.namespace
}

/// `allowedListeners.namespaces.from`: None (default), Same, All, or a Selector.
fn sets_allowed(gateway: &Gateway, set: &ListenerSet, resources: &Resources) -> bool {
    match &gateway.allowed_listeners {
        ListenersFrom::None => false,
        ListenersFrom::Same => set.meta.namespace == gateway.meta.namespace,
        ListenersFrom::All => true,
        ListenersFrom::Selector(selector) => {
            selector.matches(&resources.namespace_labels(&set.meta.namespace))
        }
    }
}

/// A route attached to one listener, serving these hostnames (`None`: any host).
#[derive(Debug, Clone)]
pub struct Attachment<'r, R = HttpRoute> {
    pub route: &'r R,
    pub listener: &'r Listener,
    /// The listener's position in the merged listener list.
    pub index: usize,
    /// The parentRef it attached through.
    pub parent_ref: usize,
    pub hostnames: Vec<Option<String>>,
}

/// Why a parentRef naming the target Gateway (or one of its ListenerSets) did not
/// attach (the reason of the `Accepted=False` condition a controller would set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// `HTTPRoute` or `GRPCRoute`.
    pub kind: &'static str,
    pub route: String,
    pub parent_ref: usize,
    /// What the parentRef names: `Gateway ns/name` or `ListenerSet ns/name`.
    pub parent: String,
    pub reason: &'static str,
    pub message: String,
}

/// Listener protocols that carry HTTP routes (HTTPS terminates TLS first).
pub fn serves_http(listener: &Listener) -> bool {
    matches!(listener.protocol.as_str(), "HTTP" | "HTTPS")
}

/// Everything attached to the target Gateway.
#[derive(Debug, Clone, Default)]
pub struct Attached<'r> {
    pub listeners: MergedListeners<'r>,
    pub http: Vec<Attachment<'r, HttpRoute>>,
    pub grpc: Vec<Attachment<'r, GrpcRoute>>,
    pub rejections: Vec<Rejection>,
}

/// Attaches every HTTPRoute and GRPCRoute whose parentRefs name `gateway` or one of its
/// ListenerSets, then settles HTTPRoute/GRPCRoute hostname conflicts.
///
/// Gateway API (`GRPCRouteSpec.hostnames`): "If a Route (A) of type HTTPRoute or
/// GRPCRoute is attached to a Listener and that listener already has another Route (B)
/// of the other type attached and the intersection of the hostnames of A and B is
/// non-empty, then the implementation MUST accept exactly one of these two routes,
/// determined by the following criteria, in order: The oldest Route based on creation
/// timestamp. The Route appearing first in alphabetical order by "{namespace}/{name}".
/// The rejected Route MUST raise an 'Accepted' condition with a status of 'False' in the
/// corresponding RouteParentStatus." Routes are taken oldest first; each keeps a
/// listener unless a route of the other kind already kept there claims an intersecting
/// hostname. The loser is reported with reason `HostnameConflict` (the spec names none;
/// Istio and Traefik use this one).
pub fn attach_all<'r>(gateway: &'r Gateway, resources: &'r Resources) -> Attached<'r> {
    let listeners = merged_listeners(gateway, resources);
    let (http, mut rejections) = attach_kind(gateway, &listeners, &resources.http_routes, resources);
    let (grpc, grpc_rejections) = attach_kind(gateway, &listeners, &resources.grpc_routes, resources);
    rejections.extend(grpc_rejections);

    // Every attachment, oldest route first; false: HTTP, true: gRPC.
    let mut order: Vec<(bool, usize)> = (0..http.len())
        .map(|i| (false, i))
        .chain((0..grpc.len()).map(|i| (true, i)))
        .collect();
    let age = |&(grpc_kind, i): &(bool, usize)| {
        let meta = if grpc_kind {
            &grpc[i].route.meta
        } else {
            &http[i].route.meta
        };
        (meta.creation_timestamp.as_deref(), meta.key())
    };
    order.sort_by(|a, b| {
        let (a_created, a_key) = age(a);
        let (b_created, b_key) = age(b);
        older_route_first((a_created, &a_key), (b_created, &b_key))
    });
    let claim = |&(grpc_kind, i): &(bool, usize)| {
        if grpc_kind {
            (grpc[i].index, &grpc[i].hostnames)
        } else {
            (http[i].index, &http[i].hostnames)
        }
    };
    let mut kept: Vec<(bool, usize)> = Vec::new();
    let mut lost: Vec<((bool, usize), (bool, usize))> = Vec::new();
    for candidate in order {
        let (listener, hosts) = claim(&candidate);
        let winner = kept.iter().find(|other| {
            let (other_listener, other_hosts) = claim(other);
            other.0 != candidate.0
                && other_listener == listener
                && hosts
                    .iter()
                    .any(|h| other_hosts.iter().any(|o| intersects(h.as_deref(), o.as_deref())))
        });
        match winner {
            Some(winner) => lost.push((candidate, *winner)),
            None => kept.push(candidate),
        }
    }
    let name = |&(grpc_kind, i): &(bool, usize)| {
        if grpc_kind {
            (
                GrpcRoute::KIND,
                grpc[i].route.meta.key(),
                grpc[i].parent_ref,
                grpc[i].index,
            )
        } else {
            (
                HttpRoute::KIND,
                http[i].route.meta.key(),
                http[i].parent_ref,
                http[i].index,
            )
        }
    };
    for (loser, winner) in &lost {
        let (kind, route, parent_ref, index) = name(loser);
        let (winner_kind, winner_route, ..) = name(winner);
        let MergedListener { listener, parent } = listeners.listeners[index];
        rejections.push(Rejection {
            kind,
            route,
            parent_ref,
            parent: format!("{} {}", parent.kind(), parent.meta().key()),
            reason: "HostnameConflict",
            message: format!(
                "{winner_kind} {winner_route}, which is older or first by namespace/name, claims an intersecting hostname on listener {:?}; HTTPRoutes and GRPCRoutes never share a hostname",
                listener.name
            ),
        });
    }
    let keep = |grpc_kind: bool, i: usize| kept.contains(&(grpc_kind, i));
    let http = http
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep(false, *i))
        .map(|(_, a)| a)
        .collect();
    let grpc = grpc
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep(true, *i))
        .map(|(_, a)| a)
        .collect();
    Attached {
        listeners,
        http,
        grpc,
        rejections,
    }
}

/// The HTTPRoutes attached to `gateway` (after HTTPRoute/GRPCRoute conflicts), and the
/// rejections of routes of every kind.
pub fn attach<'r>(
    gateway: &'r Gateway,
    resources: &'r Resources,
) -> (Vec<Attachment<'r, HttpRoute>>, Vec<Rejection>) {
    let attached = attach_all(gateway, resources);
    (attached.http, attached.rejections)
}

/// Attaches the routes of one kind to the merged listeners.
pub fn attach_kind<'r, R: Route>(
    gateway: &'r Gateway,
    merged: &MergedListeners<'r>,
    routes: &'r [R],
    resources: &'r Resources,
) -> (Vec<Attachment<'r, R>>, Vec<Rejection>) {
    let mut attachments = Vec::new();
    let mut rejections = Vec::new();
    for route in routes {
        let meta = route.meta();
        for (index, parent) in route.parent_refs().iter().enumerate() {
            let Some((target, parent_listeners)) = parent_listeners(parent, meta, gateway, merged, resources)
            else {
                continue;
            };
            let reject = |reason, message: String| Rejection {
                kind: R::KIND,
                route: meta.key(),
                parent_ref: index,
                parent: format!("{} {}", target.kind(), target.meta().key()),
                reason,
                message,
            };
            // parentRef: sectionName selects a listener by name, port by port; both must hold.
            let selected: Vec<usize> = parent_listeners
                .into_iter()
                .filter(|&i| {
                    let l = merged.listeners[i].listener;
                    parent.section_name.as_ref().is_none_or(|s| *s == l.name)
                        && parent.port.is_none_or(|p| p == l.port)
                })
                .collect();
            if selected.is_empty() {
                rejections.push(reject(
                    "NoMatchingParent",
                    "no listener matches sectionName/port".into(),
                ));
                continue;
            }
            let mut attached_any = false;
            let mut reason = (
                "NotAllowedByListeners",
                "no selected listener allows this route".to_string(),
            );
            for i in selected {
                let MergedListener {
                    listener,
                    parent: owner,
                } = merged.listeners[i];
                if !serves_http(listener) || !allows_kind(listener, R::KIND) {
                    continue;
                }
                if !allows_namespace(listener, owner.meta(), meta, resources) {
                    continue;
                }
                let hostnames = effective_hostnames(listener.hostname.as_deref(), route.hostnames());
                if hostnames.is_empty() {
                    reason = (
                        "NoMatchingListenerHostname",
                        "no route hostname intersects a listener hostname".into(),
                    );
                    continue;
                }
                attached_any = true;
                attachments.push(Attachment {
                    route,
                    listener,
                    index: i,
                    parent_ref: index,
                    hostnames,
                });
            }
            if !attached_any {
                rejections.push(reject(reason.0, reason.1));
            }
        }
    }
    (attachments, rejections)
}

/// What a parentRef names and the merged listeners it can reach, or `None` if it names
/// neither the Gateway nor one of its attached ListenerSets. A Gateway parentRef reaches the
/// Gateway's own listeners only ("A Route must not be able to find a ListenerSet
/// sectionName using a Gateway parentRef", conformance test
/// `ListenerSetGatewayParentSectionNameNotFound`); a ListenerSet parentRef reaches that
/// set's listeners that were not conflicted.
fn parent_listeners<'r>(
    parent: &ParentRef,
    route: &Meta,
    gateway: &'r Gateway,
    merged: &MergedListeners<'r>,
    resources: &'r Resources,
) -> Option<(ListenerParent<'r>, Vec<usize>)> {
    let namespace = parent.namespace.as_deref().unwrap_or(&route.namespace);
    if parent.group != GROUP {
        return None;
    }
    match parent.kind.as_str() {
        "Gateway" if parent.name == gateway.meta.name && namespace == gateway.meta.namespace => Some((
            ListenerParent::Gateway(gateway),
            (0..merged.listeners.len())
                .filter(|&i| matches!(merged.listeners[i].parent, ListenerParent::Gateway(_)))
                .collect(),
        )),
        "ListenerSet" => {
            let set = resources
                .listener_sets
                .iter()
                .find(|s| s.meta.name == parent.name && s.meta.namespace == namespace)?;
            let attached = set_names_gateway(set, gateway)
                && !merged
                    .rejected
                    .iter()
                    .any(|r| r.listener.is_none() && std::ptr::eq(r.set, set));
            attached.then(|| {
                let listeners = (0..merged.listeners.len())
                    .filter(|&i| matches!(merged.listeners[i].parent, ListenerParent::ListenerSet(s) if std::ptr::eq(s, set)))
                    .collect();
                (ListenerParent::ListenerSet(set), listeners)
            })
        }
        _ => None,
    }
}

/// `allowedRoutes.kinds`: empty means the kinds the protocol supports (HTTPRoute and
/// GRPCRoute for HTTP/HTTPS); otherwise `kind` must be listed.
fn allows_kind(listener: &Listener, kind: &str) -> bool {
    let kinds = &listener.allowed_routes.kinds;
    kinds.is_empty() || kinds.iter().any(|(group, k)| group == GROUP && k == kind)
}

/// `allowedRoutes.namespaces.from`: Same (default: the namespace of the Gateway or
/// ListenerSet that declares the listener), All, or a Namespace label Selector.
fn allows_namespace(listener: &Listener, owner: &Meta, route: &Meta, resources: &Resources) -> bool {
    match &listener.allowed_routes.from {
        NamespacesFrom::Same => route.namespace == owner.namespace,
        NamespacesFrom::All => true,
        NamespacesFrom::Selector(selector) => selector.matches(&resources.namespace_labels(&route.namespace)),
    }
}
