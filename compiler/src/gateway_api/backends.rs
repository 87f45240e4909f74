//! Resolving backendRefs to Envoy clusters, or to the 500 the spec demands.

use switchyard_bytecode::ir::{BackendIr, ServiceIr};

use crate::resources::{BackendRef, Resources, Route};

use super::filters::Scope;

/// Why a backendRef did not resolve (the `ResolvedRefs=False` reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unresolved {
    /// Not a core Service: "InvalidKind".
    InvalidKind,
    /// No such Service, or no such port on it: "BackendNotFound".
    BackendNotFound,
    /// Another namespace without a ReferenceGrant: "RefNotPermitted".
    RefNotPermitted,
}

impl Unresolved {
    pub fn reason(self) -> &'static str {
        match self {
            Unresolved::InvalidKind => "InvalidKind",
            Unresolved::BackendNotFound => "BackendNotFound",
            Unresolved::RefNotPermitted => "RefNotPermitted",
        }
    }
}

/// How cluster names are written.
#[derive(Debug, Clone)]
pub struct ClusterNaming {
    /// Placeholders: `{namespace}`, `{name}`, `{port}`, `{domain}`.
    pub template: String,
    pub cluster_domain: String,
}

/// Istio's name for a service port's cluster: `outbound|PORT||NAME.NS.svc.DOMAIN`.
pub const ISTIO_TEMPLATE: &str = "outbound|{port}||{name}.{namespace}.svc.{domain}";

impl ClusterNaming {
    pub fn name(&self, namespace: &str, name: &str, port: u32) -> String {
        self.template
            .replace("{namespace}", namespace)
            .replace("{name}", name)
            .replace("{port}", &port.to_string())
            .replace("{domain}", &self.cluster_domain)
    }

    /// Checks a user-given template: it must name the service uniquely.
    pub fn validate_template(template: &str) -> Result<(), String> {
        for needed in ["{namespace}", "{name}", "{port}"] {
            if !template.contains(needed) {
                return Err(format!(
                    "cluster name template {template:?} must contain {needed}"
                ));
            }
        }
        let stripped = ["{namespace}", "{name}", "{port}", "{domain}"]
            .iter()
            .fold(template.to_string(), |t, p| t.replace(p, ""));
        if stripped.contains('{') || stripped.contains('}') {
            return Err(format!(
                "cluster name template {template:?} has an unknown placeholder"
            ));
        }
        Ok(())
    }
}

/// The backend an unresolvable reference stands for: its weight, no cluster. Its share
/// of requests is answered (500, or a GRPCRoute's UNAVAILABLE).
pub fn unresolved_backend(reference: &BackendRef) -> BackendIr {
    BackendIr {
        weight: reference.weight,
        cluster: None,
        service: None,
        filters: Vec::new(),
        redirect: None,
    }
}

/// Resolves one backendRef of an HTTPRoute.
pub fn resolve(backend: &BackendRef, scope: &Scope<'_>) -> Result<BackendIr, Unresolved> {
    resolve_ref(backend, scope.route, scope.resources, scope.naming, scope.mesh)
}

/// Resolves one backendRef of `route` (an HTTPRoute or a GRPCRoute). `mesh`: compiling
/// for a sidecar, where GAMMA routes reach other namespaces without a ReferenceGrant.
pub fn resolve_ref<R: Route>(
    backend: &BackendRef,
    route: &R,
    resources: &Resources,
    naming: &ClusterNaming,
    mesh: bool,
) -> Result<BackendIr, Unresolved> {
    let route_namespace = &route.meta().namespace;
    let namespace = backend.namespace.as_deref().unwrap_or(route_namespace);
    if !(backend.group.is_empty() && backend.kind == "Service") {
        return Err(Unresolved::InvalidKind);
    }
    // Gateway routes need a ReferenceGrant to reach another namespace; GAMMA routes do
    // not: "Unlike Gateway bound routes, this is allowed without a ReferenceGrant".
    if namespace != route_namespace
        && !mesh
        && !granted(resources, R::KIND, route_namespace, namespace, &backend.name)
    {
        return Err(Unresolved::RefNotPermitted);
    }
    let Some(port) = backend.port else {
        return Err(Unresolved::BackendNotFound);
    };
    match resources.service(namespace, &backend.name) {
        Some(service) if service.has_port(port) => Ok(BackendIr {
            weight: backend.weight,
            cluster: Some(naming.name(namespace, &backend.name, port)),
            service: Some(ServiceIr {
                namespace: namespace.to_string(),
                name: backend.name.clone(),
                port,
            }),
            filters: Vec::new(),
            redirect: None,
        }),
        _ => Err(Unresolved::BackendNotFound),
    }
}

/// ReferenceGrant: lives in the target namespace and admits routes of `route_kind` from
/// `from_namespace`; `from` and `to` entries are ORed; a `to` entry without a name
/// covers every Service there.
fn granted(
    resources: &Resources,
    route_kind: &str,
    from_namespace: &str,
    to_namespace: &str,
    service: &str,
) -> bool {
    resources
        .reference_grants
        .iter()
        .filter(|g| g.meta.namespace == to_namespace)
        .any(|grant| {
            grant.from.iter().any(|(group, kind, ns)| {
                group == "gateway.networking.k8s.io" && kind == route_kind && ns == from_namespace
            }) && grant.to.iter().any(|(group, kind, name)| {
                group.is_empty() && kind == "Service" && name.as_deref().is_none_or(|n| n == service)
            })
        })
}
