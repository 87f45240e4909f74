//! Which routes attach to which listeners of the target Gateway.

use crate::resources::gateway_api::NamespacesFrom;
use crate::resources::{Gateway, HttpRoute, Listener, ParentRef, Resources};

use super::hostname::effective_hostnames;

const GROUP: &str = "gateway.networking.k8s.io";

/// A route attached to one listener, serving these hostnames (`None`: any host).
#[derive(Debug, Clone)]
pub struct Attachment<'r> {
    pub route: &'r HttpRoute,
    pub listener: &'r Listener,
    pub hostnames: Vec<Option<String>>,
}

/// Why a parentRef naming the target Gateway did not attach (the reason of the
/// `Accepted=False` condition a controller would set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub route: String,
    pub parent_ref: usize,
    pub reason: &'static str,
    pub message: String,
}

/// Listener protocols that carry HTTP routes (HTTPS terminates TLS first).
pub fn serves_http(listener: &Listener) -> bool {
    matches!(listener.protocol.as_str(), "HTTP" | "HTTPS")
}

/// Attaches every HTTPRoute whose parentRefs name `gateway`.
pub fn attach<'r>(gateway: &'r Gateway, resources: &'r Resources) -> (Vec<Attachment<'r>>, Vec<Rejection>) {
    let mut attachments = Vec::new();
    let mut rejections = Vec::new();
    for route in &resources.http_routes {
        for (index, parent) in route.parent_refs.iter().enumerate() {
            if !names_gateway(parent, route, gateway) {
                continue;
            }
            let reject = |reason, message: String| Rejection {
                route: route.meta.key(),
                parent_ref: index,
                reason,
                message,
            };
            // parentRef: sectionName selects a listener by name, port by port; both must hold.
            let selected: Vec<&Listener> = gateway
                .listeners
                .iter()
                .filter(|l| parent.section_name.as_ref().is_none_or(|s| *s == l.name))
                .filter(|l| parent.port.is_none_or(|p| p == l.port))
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
            for listener in selected {
                if !serves_http(listener) || !allows_kind(listener) {
                    continue;
                }
                if !allows_namespace(listener, gateway, route, resources) {
                    continue;
                }
                let hostnames = effective_hostnames(listener.hostname.as_deref(), &route.hostnames);
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

fn names_gateway(parent: &ParentRef, route: &HttpRoute, gateway: &Gateway) -> bool {
    let namespace = parent.namespace.as_deref().unwrap_or(&route.meta.namespace);
    parent.group == GROUP
        && parent.kind == "Gateway"
        && parent.name == gateway.meta.name
        && namespace == gateway.meta.namespace
}

/// `allowedRoutes.kinds`: empty means the kinds the protocol supports (HTTPRoute for
/// HTTP/HTTPS); otherwise HTTPRoute must be listed.
fn allows_kind(listener: &Listener) -> bool {
    let kinds = &listener.allowed_routes.kinds;
    kinds.is_empty()
        || kinds
            .iter()
            .any(|(group, kind)| group == GROUP && kind == "HTTPRoute")
}

/// `allowedRoutes.namespaces.from`: Same (default), All, or a Namespace label Selector.
fn allows_namespace(
    listener: &Listener,
    gateway: &Gateway,
    route: &HttpRoute,
    resources: &Resources,
) -> bool {
    match &listener.allowed_routes.from {
        NamespacesFrom::Same => route.meta.namespace == gateway.meta.namespace,
        NamespacesFrom::All => true,
        NamespacesFrom::Selector(selector) => {
            selector.matches(&resources.namespace_labels(&route.meta.namespace))
        }
    }
}
