//! Kubernetes resources as Switchyard reads them: typed, validated, and each with the
//! file and line it came from. Conversion happens once here; the semantics modules
//! never see YAML.

pub mod core;
pub mod duration;
pub mod filters;
pub mod gateway_api;
pub mod grpcroute;
pub mod istio;
pub mod listenerset;
pub mod meta;
pub mod read;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::diag::{Diagnostic, Diagnostics};
use crate::input::Document;

pub use self::core::{Namespace, Service, ServicePort};
pub use self::gateway_api::{
    AllowedRoutes, BackendRef, Gateway, HeaderMatch, HttpRoute, Listener, ParentRef, PathMatch, PathType,
    QueryMatch, ReferenceGrant, RouteMatch, RouteRule, StringMatchType,
};
pub use self::grpcroute::{GrpcMatch, GrpcRoute, GrpcRule, MethodMatch};
pub use self::listenerset::ListenerSet;
pub use self::meta::Meta;

/// Every resource Switchyard understands, from all inputs.
#[derive(Debug, Default)]
pub struct Resources {
    pub gateways: Vec<Gateway>,
    pub http_routes: Vec<HttpRoute>,
    pub grpc_routes: Vec<GrpcRoute>,
    pub listener_sets: Vec<ListenerSet>,
    pub reference_grants: Vec<ReferenceGrant>,
    pub services: Vec<Service>,
    pub namespaces: Vec<Namespace>,
    /// Istio `networking.istio.io` kinds.
    pub istio_gateways: Vec<istio::IstioGateway>,
    pub virtual_services: Vec<istio::VirtualService>,
    pub destination_rules: Vec<istio::DestinationRule>,
    pub service_entries: Vec<istio::ServiceEntry>,
}

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// [`Resources::from_documents`] one document at a time, for a caller that parses
/// documents as a stream and drops each tree once it is read.
#[derive(Debug, Default)]
pub struct ResourcesBuilder {
    resources: Resources,
    diagnostics: Diagnostics,
    /// Keyed by (kind, `namespace/name`): a hash map, so that 100 000 resources do not
    /// cost 10^10 comparisons.
    seen: HashMap<(String, String), Meta>,
}

impl ResourcesBuilder {
    pub fn add(&mut self, document: &Document) {
        match self.resources.add(document, &mut self.seen) {
            Ok(Some(note)) => self.diagnostics.push(note),
            Ok(None) => {}
            Err(error) => self.diagnostics.push(error),
        }
    }

    pub fn finish(mut self) -> (Resources, Diagnostics) {
        self.resources.sort();
        (self.resources, self.diagnostics)
    }
}

impl Resources {
    /// Converts documents into resources. Kinds Switchyard does not route by are skipped
    /// with a note; invalid resources are errors. Duplicates (same kind, namespace and
    /// name) are errors, since which one wins would depend on file order.
    pub fn from_documents(documents: &[Document]) -> (Resources, Diagnostics) {
        let mut builder = ResourcesBuilder::default();
        for document in documents {
            builder.add(document);
        }
        builder.finish()
    }

    fn add(
        &mut self,
        document: &Document,
        seen: &mut HashMap<(String, String), Meta>,
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
            (istio::ISTIO_GROUP, "Gateway" | "VirtualService" | "DestinationRule" | "ServiceEntry") => {
                istio::ISTIO_VERSIONS.contains(&version)
            }
            (GATEWAY_GROUP, "Gateway" | "HTTPRoute") => matches!(version, "v1" | "v1beta1"),
            (GATEWAY_GROUP, "GRPCRoute" | "ListenerSet") => version == "v1",
            (GATEWAY_GROUP, "ReferenceGrant") => matches!(version, "v1" | "v1beta1"),
            ("", "Service" | "Namespace") => version == "v1",
            _ => false,
        };
        if !supported {
            let what = if group == GATEWAY_GROUP
                && matches!(
                    kind,
                    "Gateway" | "HTTPRoute" | "GRPCRoute" | "ListenerSet" | "ReferenceGrant"
                ) {
                format!("{api_version} is not a served version of {kind}; skipped")
            } else {
                format!("{kind} ({api_version}) does not affect routing here; skipped")
            };
            return Ok(Some(Diagnostic::note(location, what).with_resource(resource)));
        }
        // An Istio Gateway and a Gateway API Gateway may share a name.
        let seen_kind = if group == istio::ISTIO_GROUP {
            format!("{kind}.{group}")
        } else {
            kind.to_string()
        };
        match seen.entry((seen_kind, meta.key())) {
            Entry::Occupied(first) => {
                let first = first.get();
                return Err(Diagnostic::error(
                    location,
                    format!("defined twice; first at {}:{}", first.file, first.line),
                )
                .with_resource(resource));
            }
            Entry::Vacant(slot) => {
                slot.insert(meta.clone());
            }
        }
        let root = read::Obj::root(file, &resource, node);
        match kind {
            "Gateway" if group == istio::ISTIO_GROUP => {
                self.istio_gateways.push(istio::IstioGateway::read(&root, meta)?)
            }
            "VirtualService" => self
                .virtual_services
                .push(istio::VirtualService::read(&root, meta)?),
            "DestinationRule" => self
                .destination_rules
                .push(istio::DestinationRule::read(&root, meta)?),
            "ServiceEntry" => self.service_entries.push(istio::ServiceEntry::read(&root, meta)?),
            "Gateway" => self.gateways.push(Gateway::read(&root, meta)?),
            "HTTPRoute" => self.http_routes.push(HttpRoute::read(&root, meta)?),
            "GRPCRoute" => self.grpc_routes.push(GrpcRoute::read(&root, meta)?),
            "ListenerSet" => self.listener_sets.push(ListenerSet::read(&root, meta)?),
            "ReferenceGrant" => self.reference_grants.push(ReferenceGrant::read(&root, meta)?),
            "Service" => self.services.push(Service::read(&root, meta)?),
            _ => self.namespaces.push(Namespace::read(&root, meta)?),
        }
        Ok(None)
    }

    /// Orders every list by namespace/name so nothing downstream depends on file order.
    fn sort(&mut self) {
        // Cached keys: `key()` allocates, and comparisons are O(n log n).
        self.gateways.sort_by_cached_key(|a| a.meta.key());
        self.http_routes.sort_by_cached_key(|a| a.meta.key());
        self.grpc_routes.sort_by_cached_key(|a| a.meta.key());
        self.listener_sets.sort_by_cached_key(|a| a.meta.key());
        self.reference_grants.sort_by_cached_key(|a| a.meta.key());
        self.services.sort_by_cached_key(|a| a.meta.key());
        self.namespaces.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
        self.istio_gateways.sort_by_cached_key(|a| a.meta.key());
        self.virtual_services.sort_by_cached_key(|a| a.meta.key());
        self.destination_rules.sort_by_cached_key(|a| a.meta.key());
        self.service_entries.sort_by_cached_key(|a| a.meta.key());
    }

    /// The Service `namespace/name`: a binary search, since `sort` ordered the services
    /// by that key and names are unique (a duplicate is an error).
    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        let wanted = Meta::key_of(namespace, name);
        self.services
            .binary_search_by(|s| s.meta.key_cmp(&wanted))
            .ok()
            .map(|i| &self.services[i])
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

/// What attachment, backend resolution and diagnostics need to know about a route of
/// any kind (HTTPRoute, GRPCRoute).
pub trait Route {
    /// The Kubernetes kind, e.g. `HTTPRoute`.
    const KIND: &'static str;
    fn meta(&self) -> &Meta;
    fn parent_refs(&self) -> &[ParentRef];
    /// `spec.hostnames` (empty: the listener's).
    fn hostnames(&self) -> &[String];
}

impl Route for HttpRoute {
    const KIND: &'static str = "HTTPRoute";
    fn meta(&self) -> &Meta {
        &self.meta
    }
    fn parent_refs(&self) -> &[ParentRef] {
        &self.parent_refs
    }
    fn hostnames(&self) -> &[String] {
        &self.hostnames
    }
}

impl Route for GrpcRoute {
    const KIND: &'static str = "GRPCRoute";
    fn meta(&self) -> &Meta {
        &self.meta
    }
    fn parent_refs(&self) -> &[ParentRef] {
        &self.parent_refs
    }
    fn hostnames(&self) -> &[String] {
        &self.hostnames
    }
}
