//! Kubernetes resources as Switchyard reads them: typed, validated, and each with the
//! file and line it came from. Conversion happens once here; the semantics modules
//! never see YAML.

pub mod core;
pub mod duration;
pub mod filters;
pub mod gateway_api;
pub mod meta;
pub mod read;

use crate::diag::{Diagnostic, Diagnostics};
use crate::input::Document;

pub use self::core::{Namespace, Service, ServicePort};
pub use self::gateway_api::{
    AllowedRoutes, BackendRef, Gateway, HeaderMatch, HttpRoute, Listener, ParentRef, PathMatch, PathType,
    QueryMatch, ReferenceGrant, RouteMatch, RouteRule, StringMatchType,
};
pub use self::meta::Meta;

/// Every resource Switchyard understands, from all inputs.
#[derive(Debug, Default)]
pub struct Resources {
    pub gateways: Vec<Gateway>,
    pub http_routes: Vec<HttpRoute>,
    pub reference_grants: Vec<ReferenceGrant>,
    pub services: Vec<Service>,
    pub namespaces: Vec<Namespace>,
}

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

impl Resources {
    /// Converts documents into resources. Kinds Switchyard does not route by are skipped
    /// with a note; invalid resources are errors. Duplicates (same kind, namespace and
    /// name) are errors, since which one wins would depend on file order.
    pub fn from_documents(documents: &[Document]) -> (Resources, Diagnostics) {
        let mut resources = Resources::default();
        let mut diagnostics = Diagnostics::default();
        let mut seen: Vec<(String, Meta)> = Vec::new();
        for document in documents {
            match resources.add(document, &mut seen) {
                Ok(Some(note)) => diagnostics.push(note),
                Ok(None) => {}
                Err(error) => diagnostics.push(error),
            }
        }
        resources.sort();
        (resources, diagnostics)
    }

    fn add(
        &mut self,
        document: &Document,
        seen: &mut Vec<(String, Meta)>,
    ) -> Result<Option<Diagnostic>, Diagnostic> {
        let file = document.file.as_str();
        let node = &document.node;
        let location = node.location(file);
        let Some(_) = node.as_map() else {
            return Err(Diagnostic::error(
                location,
                format!("expected a Kubernetes object, found {}", node.describe()),
            ));
        };
        let kind = node.get("kind").and_then(|n| n.as_str()).unwrap_or("");
        let api_version = node.get("apiVersion").and_then(|n| n.as_str()).unwrap_or("");
        if kind.is_empty() || api_version.is_empty() {
            return Err(Diagnostic::error(
                location,
                "not a Kubernetes object: apiVersion and kind are required",
            ));
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let meta = Meta::read(file, kind, node)?;
        let resource = format!("{kind} {}", meta.key());
        let supported = match (group, kind) {
            (GATEWAY_GROUP, "Gateway" | "HTTPRoute") => matches!(version, "v1" | "v1beta1"),
            (GATEWAY_GROUP, "ReferenceGrant") => matches!(version, "v1" | "v1beta1"),
            ("", "Service" | "Namespace") => version == "v1",
            _ => false,
        };
        if !supported {
            let what = if group == GATEWAY_GROUP && matches!(kind, "Gateway" | "HTTPRoute" | "ReferenceGrant")
            {
                format!("{api_version} is not a served version of {kind}; skipped")
            } else {
                format!("{kind} ({api_version}) does not affect routing here; skipped")
            };
            return Ok(Some(Diagnostic::note(location, what).with_resource(resource)));
        }
        if let Some((_, first)) = seen.iter().find(|(k, m)| k == kind && m.key() == meta.key()) {
            return Err(Diagnostic::error(
                location,
                format!("defined twice; first at {}:{}", first.file, first.line),
            )
            .with_resource(resource));
        }
        seen.push((kind.to_string(), meta.clone()));
        let root = read::Obj::root(file, &resource, node);
        match kind {
            "Gateway" => self.gateways.push(Gateway::read(&root, meta)?),
            "HTTPRoute" => self.http_routes.push(HttpRoute::read(&root, meta)?),
            "ReferenceGrant" => self.reference_grants.push(ReferenceGrant::read(&root, meta)?),
            "Service" => self.services.push(Service::read(&root, meta)?),
            _ => self.namespaces.push(Namespace::read(&root, meta)?),
        }
        Ok(None)
    }

    /// Orders every list by namespace/name so nothing downstream depends on file order.
    fn sort(&mut self) {
        self.gateways.sort_by_key(|a| a.meta.key());
        self.http_routes.sort_by_key(|a| a.meta.key());
        self.reference_grants.sort_by_key(|a| a.meta.key());
        self.services.sort_by_key(|a| a.meta.key());
        self.namespaces.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        self.services
            .iter()
            .find(|s| s.meta.namespace == namespace && s.meta.name == name)
    }

    /// Labels of namespace `name`; a namespace with no manifest has only the
    /// `kubernetes.io/metadata.name` label Kubernetes sets on every namespace.
    pub fn namespace_labels(&self, name: &str) -> Vec<(String, String)> {
        let mut labels = self
            .namespaces
            .iter()
            .find(|n| n.meta.name == name)
            .map(|n| n.meta.labels.clone())
            .unwrap_or_default();
        if !labels.iter().any(|(k, _)| k == "kubernetes.io/metadata.name") {
            labels.push(("kubernetes.io/metadata.name".to_string(), name.to_string()));
        }
        labels
    }
}
