//! `metadata`: name, namespace, labels, creationTimestamp, and where the object is.

use crate::diag::Diagnostic;
use crate::input::Node;

/// Identity and provenance of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub name: String,
    /// `default` when the manifest names none (what `kubectl apply` would use without `-n`).
    pub namespace: String,
    pub labels: Vec<(String, String)>,
    /// RFC 3339, as Kubernetes writes it; `None` in manifests not read back from a cluster.
    pub creation_timestamp: Option<String>,
    pub file: String,
    pub line: u32,
}

impl Meta {
    pub fn read(file: &str, kind: &str, node: &Node) -> Result<Meta, Diagnostic> {
        let location = node.location(file);
        let metadata = node.get("metadata").filter(|m| !m.is_null());
        let field = |key: &str| metadata.and_then(|m| m.get(key)).and_then(|n| n.as_str());
        let Some(name) = field("name").filter(|n| !n.is_empty()) else {
            return Err(
                Diagnostic::error(location, format!("{kind} without metadata.name"))
                    .with_field("metadata.name"),
            );
        };
        let namespace = if kind == "Namespace" {
            ""
        } else {
            field("namespace").unwrap_or("default")
        };
        let labels = metadata
            .and_then(|m| m.get("labels"))
            .and_then(|l| l.as_map())
            .map(|entries| {
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Meta {
            name: name.to_string(),
            namespace: namespace.to_string(),
            labels,
            creation_timestamp: field("creationTimestamp").map(str::to_string),
            file: file.to_string(),
            line: location.line,
        })
    }

    /// `namespace/name` (or `name` for cluster-scoped objects).
    pub fn key(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }
}
