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
        Meta::key_of(&self.namespace, &self.name)
    }

    /// What [`Meta::key`] is for an object `namespace/name`.
    pub fn key_of(namespace: &str, name: &str) -> String {
        if namespace.is_empty() {
            name.to_string()
        } else {
            format!("{namespace}/{name}")
        }
    }

    /// `self.key().cmp(key)` without building the key.
    pub fn key_cmp(&self, key: &str) -> std::cmp::Ordering {
        if self.namespace.is_empty() {
            return self.name.as_str().cmp(key);
        }
        let own = self.namespace.bytes().chain(*b"/").chain(self.name.bytes());
        own.cmp(key.bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::Meta;

    fn meta(namespace: &str, name: &str) -> Meta {
        Meta {
            name: name.into(),
            namespace: namespace.into(),
            labels: Vec::new(),
            creation_timestamp: None,
            file: String::new(),
            line: 0,
        }
    }

    #[test]
    fn key_cmp_orders_exactly_as_comparing_built_keys() {
        // `-` and `.` sort before `/`, so comparing (namespace, name) pairs would differ.
        let metas = [
            meta("team", "a"),
            meta("team-1", "a"),
            meta("team.x", "b"),
            meta("", "team"),
            meta("", "team-1"),
            meta("t", "eam/a"),
        ];
        for a in &metas {
            for b in &metas {
                assert_eq!(
                    a.key_cmp(&b.key()),
                    a.key().cmp(&b.key()),
                    "{} vs {}",
                    a.key(),
                    b.key()
                );
            }
        }
    }
}
