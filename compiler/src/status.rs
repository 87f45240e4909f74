//! Route status like a controller's: for each route and each parentRef, whether it was
//! accepted and whether its references resolved, with the reason, mirroring the
//! `Accepted` and `ResolvedRefs` conditions of `RouteParentStatus`.

use crate::gateway_api::attach::attach_all;
use crate::gateway_api::backends::{ClusterNaming, Unresolved, resolve};
use crate::gateway_api::filters::Scope;
use crate::gateway_api::grpc;
use crate::resources::{BackendRef, Meta, ParentRef, Resources};

/// One condition: status, reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub status: bool,
    pub reason: String,
    pub message: String,
}

impl Condition {
    fn ok(reason: &str) -> Self {
        Condition {
            status: true,
            reason: reason.to_string(),
            message: String::new(),
        }
    }

    fn failed(reason: &str, message: String) -> Self {
        Condition {
            status: false,
            reason: reason.to_string(),
            message,
        }
    }
}

/// The status of one parentRef of one route.
#[derive(Debug, Clone)]
pub struct ParentStatus {
    pub index: usize,
    /// `Gateway ns/name`, `ListenerSet ns/name` or `Service ns/name`.
    pub parent: String,
    pub accepted: Condition,
    pub resolved_refs: Condition,
}

/// The status of one route.
#[derive(Debug, Clone)]
pub struct RouteStatus {
    pub kind: &'static str,
    pub meta: Meta,
    pub parents: Vec<ParentStatus>,
}

/// Computes every route's status from the inputs alone.
pub fn route_statuses(resources: &Resources, naming: &ClusterNaming) -> Vec<RouteStatus> {
    let attached: Vec<_> = resources
        .gateways
        .iter()
        .map(|g| (g, attach_all(g, resources)))
        .collect();
    let accepted = |kind: &str, key: &str, index: usize| -> Option<Condition> {
        for (_, a) in &attached {
            let hit = match kind {
                "HTTPRoute" => a
                    .http
                    .iter()
                    .any(|x| x.route.meta.key() == key && x.parent_ref == index),
                _ => a
                    .grpc
                    .iter()
                    .any(|x| x.route.meta.key() == key && x.parent_ref == index),
            };
            if hit {
                return Some(Condition::ok("Accepted"));
            }
            if let Some(r) = a
                .rejections
                .iter()
                .find(|r| r.kind == kind && r.route == key && r.parent_ref == index)
            {
                return Some(Condition::failed(r.reason, r.message.clone()));
            }
        }
        None
    };
    let mut statuses = Vec::new();
    for route in &resources.http_routes {
        let refs: Vec<(String, &BackendRef)> = route
            .rules
            .iter()
            .enumerate()
            .flat_map(|(r, rule)| rule.backend_refs.iter().enumerate().map(move |(b, x)| (r, b, x)))
            .map(|(r, b, x)| (format!("spec.rules[{r}].backendRefs[{b}]"), x))
            .collect();
        let parents = route
            .parent_refs
            .iter()
            .enumerate()
            .map(|(index, parent)| {
                let mesh = is_service(parent);
                let scope = Scope {
                    route,
                    resources,
                    naming,
                    mesh,
                };
                let resolved = resolved_refs(&refs, |b| resolve(b, &scope).map(|_| ()));
                parent_status(
                    index,
                    parent,
                    &route.meta,
                    resources,
                    accepted("HTTPRoute", &route.meta.key(), index),
                    resolved,
                )
            })
            .collect();
        statuses.push(RouteStatus {
            kind: "HTTPRoute",
            meta: route.meta.clone(),
            parents,
        });
    }
    for route in &resources.grpc_routes {
        let refs: Vec<(String, &BackendRef)> = route
            .rules
            .iter()
            .enumerate()
            .flat_map(|(r, rule)| rule.backend_refs.iter().enumerate().map(move |(b, x)| (r, b, x)))
            .map(|(r, b, x)| (format!("spec.rules[{r}].backendRefs[{b}]"), x))
            .collect();
        let parents = route
            .parent_refs
            .iter()
            .enumerate()
            .map(|(index, parent)| {
                let resolved = resolved_refs(&refs, |b| {
                    grpc::resolve(b, route, resources, naming, is_service(parent)).map(|_| ())
                });
                parent_status(
                    index,
                    parent,
                    &route.meta,
                    resources,
                    accepted("GRPCRoute", &route.meta.key(), index),
                    resolved,
                )
            })
            .collect();
        statuses.push(RouteStatus {
            kind: "GRPCRoute",
            meta: route.meta.clone(),
            parents,
        });
    }
    statuses
}

fn is_service(parent: &ParentRef) -> bool {
    parent.group.is_empty() && parent.kind == "Service"
}

/// `ResolvedRefs`: true when every backendRef resolves; else the first failure's reason.
fn resolved_refs(
    refs: &[(String, &BackendRef)],
    check: impl Fn(&BackendRef) -> Result<(), Unresolved>,
) -> Condition {
    for (field, backend) in refs {
        if let Err(why) = check(backend) {
            return Condition::failed(
                why.reason(),
                format!("{field}: {} {:?} does not resolve", backend.kind, backend.name),
            );
        }
    }
    Condition::ok("ResolvedRefs")
}

fn parent_status(
    index: usize,
    parent: &ParentRef,
    route: &Meta,
    resources: &Resources,
    from_attachment: Option<Condition>,
    resolved_refs: Condition,
) -> ParentStatus {
    let namespace = parent.namespace.as_deref().unwrap_or(&route.namespace);
    let name = format!("{} {namespace}/{}", parent.kind, parent.name);
    let accepted = if is_service(parent) {
        // GAMMA: a Service parent is accepted when the Service exists.
        match resources.service(namespace, &parent.name) {
            Some(_) => Condition::ok("Accepted"),
            None => Condition::failed("NoMatchingParent", format!("{name} is not in the inputs")),
        }
    } else {
        from_attachment
            .unwrap_or_else(|| Condition::failed("NoMatchingParent", format!("{name} is not in the inputs")))
    };
    ParentStatus {
        index,
        parent: name,
        accepted,
        resolved_refs,
    }
}

/// The report as text, one line per parentRef.
pub fn render_text(statuses: &[RouteStatus]) -> String {
    let mut out = String::new();
    for route in statuses {
        out.push_str(&format!(
            "{} {} ({}:{})\n",
            route.kind,
            route.meta.key(),
            route.meta.file,
            route.meta.line
        ));
        for p in &route.parents {
            let show = |name: &str, c: &Condition| {
                let mut text = format!(
                    "{name}={} ({})",
                    if c.status { "True" } else { "False" },
                    c.reason
                );
                if !c.message.is_empty() {
                    text.push_str(&format!(": {}", c.message));
                }
                text
            };
            out.push_str(&format!(
                "  parentRefs[{}] {}: {}; {}\n",
                p.index,
                p.parent,
                show("Accepted", &p.accepted),
                show("ResolvedRefs", &p.resolved_refs)
            ));
        }
    }
    out
}

/// The report as JSON.
pub fn render_json(statuses: &[RouteStatus]) -> serde_json::Value {
    let condition =
        |c: &Condition| serde_json::json!({"status": c.status, "reason": c.reason, "message": c.message});
    serde_json::json!({
        "routes": statuses.iter().map(|r| serde_json::json!({
            "kind": r.kind,
            "namespace": r.meta.namespace,
            "name": r.meta.name,
            "file": r.meta.file,
            "line": r.meta.line,
            "parents": r.parents.iter().map(|p| serde_json::json!({
                "parentRef": p.index,
                "parent": p.parent,
                "accepted": condition(&p.accepted),
                "resolvedRefs": condition(&p.resolved_refs),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
