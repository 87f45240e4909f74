//! ListenerSet (gateway.networking.k8s.io/v1): listeners added to a Gateway that opts in
//! through `spec.allowedListeners` (`apis/v1/listenerset_types.go`).

use super::gateway_api::{Listener, read_listeners};
use super::meta::Meta;
use super::read::{Obj, Read};

#[derive(Debug, Clone)]
pub struct ListenerSet {
    pub meta: Meta,
    pub parent: ParentGatewayRef,
    /// Names are unique within the set only.
    pub listeners: Vec<Listener>,
}

/// `spec.parentRef` (`ParentGatewayReference`): group and kind default to a Gateway;
/// the namespace to the set's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentGatewayRef {
    pub group: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// `spec.listeners` holds 1 to 64 entries.
const MAX_LISTENERS: usize = 64;

impl ListenerSet {
    pub fn read(root: &Obj<'_>, meta: Meta) -> Read<ListenerSet> {
        let spec = root.require("spec")?;
        spec.check_keys(&["parentRef", "listeners"], &[])?;
        let parent_node = spec.require("parentRef")?;
        parent_node.check_keys(&["group", "kind", "name", "namespace"], &[])?;
        let parent = ParentGatewayRef {
            group: parent_node
                .str("group")?
                .unwrap_or("gateway.networking.k8s.io")
                .to_string(),
            kind: parent_node.str("kind")?.unwrap_or("Gateway").to_string(),
            name: parent_node.req_str("name")?.to_string(),
            namespace: parent_node.str("namespace")?.map(str::to_string),
        };
        let listeners = read_listeners(&spec)?;
        if listeners.is_empty() || listeners.len() > MAX_LISTENERS {
            return Err(spec.error(format!(
                "a ListenerSet needs 1 to {MAX_LISTENERS} listeners, found {}",
                listeners.len()
            )));
        }
        // CEL: "Combination of port, protocol and hostname must be unique for each listener".
        for (i, a) in listeners.iter().enumerate() {
            if let Some(b) = listeners[..i]
                .iter()
                .find(|b| b.port == a.port && b.protocol == a.protocol && b.hostname == a.hostname)
            {
                return Err(spec.error(format!(
                    "listeners {:?} and {:?} have the same port, protocol and hostname",
                    b.name, a.name
                )));
            }
        }
        Ok(ListenerSet {
            meta,
            parent,
            listeners,
        })
    }

    /// The namespace of the parent Gateway.
    pub fn parent_namespace(&self) -> &str {
        self.parent.namespace.as_deref().unwrap_or(&self.meta.namespace)
    }
}
