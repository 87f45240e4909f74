//! Reading typed fields out of a positioned YAML tree, with errors that name the file,
//! line, resource and field path. Unknown keys are refused so a typo never silently
//! turns a setting off.

use crate::diag::Diagnostic;
use crate::input::{Node, Value};

/// A mapping (or any node) being read, with where it sits.
#[derive(Debug, Clone)]
pub struct Obj<'a> {
    pub file: &'a str,
    /// `Kind namespace/name`, for diagnostics.
    pub resource: &'a str,
    pub node: &'a Node,
    /// The dotted path of this node, e.g. `spec.rules[0].matches[1]`.
    path: String,
}

pub type Read<T> = Result<T, Diagnostic>;

impl<'a> Obj<'a> {
    pub fn root(file: &'a str, resource: &'a str, node: &'a Node) -> Self {
        Obj {
            file,
            resource,
            node,
            path: String::new(),
        }
    }

    /// The dotted path of this node, e.g. `spec.rules[0].matches[1]`.
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// The dotted path of `key` under this node.
    pub fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// An error located at this node.
    pub fn error(&self, message: impl Into<String>) -> Diagnostic {
        self.error_at(self.node, &self.path, message)
    }

    /// An error located at `node`, naming `field`.
    pub fn error_at(&self, node: &Node, field: &str, message: impl Into<String>) -> Diagnostic {
        let mut diagnostic =
            Diagnostic::error(node.location(self.file), message).with_resource(self.resource);
        if !field.is_empty() {
            diagnostic = diagnostic.with_field(field);
        }
        diagnostic
    }

    /// Refuses keys outside `allowed`; `unsupported` keys get a "not supported" error
    /// instead of "unknown field".
    pub fn check_keys(&self, allowed: &[&str], unsupported: &[&str]) -> Read<()> {
        let Some(entries) = self.node.as_map() else {
            return Err(self.error(format!("expected a mapping, found {}", self.node.describe())));
        };
        for (key, value) in entries {
            let name = key.name.as_str();
            if unsupported.contains(&name) {
                let mut d = self.error_at(value, &self.field(name), "is not supported by Switchyard yet");
                d.location = key.location(self.file);
                return Err(d);
            }
            if !allowed.contains(&name) {
                let mut d = self.error_at(value, &self.field(name), "unknown field");
                d.location = key.location(self.file);
                return Err(d);
            }
        }
        Ok(())
    }

    /// The child `key`, if present and not null.
    pub fn get(&self, key: &str) -> Option<Obj<'a>> {
        let node = self.node.get(key).filter(|n| !n.is_null())?;
        Some(Obj {
            file: self.file,
            resource: self.resource,
            node,
            path: self.field(key),
        })
    }

    /// The child `key`, which must be present.
    pub fn require(&self, key: &str) -> Read<Obj<'a>> {
        self.get(key)
            .ok_or_else(|| self.error_at(self.node, &self.field(key), "required field is missing"))
    }

    /// This node as a string (any scalar).
    pub fn as_str(&self) -> Read<&'a str> {
        match &self.node.value {
            Value::Scalar { text, .. } => Ok(text.as_str()),
            _ => Err(self.error(format!("expected a string, found {}", self.node.describe()))),
        }
    }

    /// Optional string field.
    pub fn str(&self, key: &str) -> Read<Option<&'a str>> {
        self.get(key).map(|o| o.as_str()).transpose()
    }

    /// Required string field.
    pub fn req_str(&self, key: &str) -> Read<&'a str> {
        self.require(key)?.as_str()
    }

    /// Optional integer field within `min..=max`.
    pub fn int(&self, key: &str, min: i64, max: i64) -> Read<Option<i64>> {
        let Some(child) = self.get(key) else {
            return Ok(None);
        };
        let text = child.as_str()?;
        match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            Ok(n) => Err(child.error(format!("{n} is out of range {min}..={max}"))),
            Err(_) => Err(child.error(format!("expected an integer, found {text:?}"))),
        }
    }

    /// Optional boolean field.
    pub fn bool(&self, key: &str) -> Read<Option<bool>> {
        let Some(child) = self.get(key) else {
            return Ok(None);
        };
        match child.as_str()? {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            other => Err(child.error(format!("expected true or false, found {other:?}"))),
        }
    }

    /// The elements of an optional list field (absent or null: empty).
    pub fn list(&self, key: &str) -> Read<Vec<Obj<'a>>> {
        let Some(child) = self.node.get(key).filter(|n| !n.is_null()) else {
            return Ok(Vec::new());
        };
        let Some(items) = child.as_seq() else {
            return Err(self.error_at(
                child,
                &self.field(key),
                format!("expected a list, found {}", child.describe()),
            ));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, node)| Obj {
                file: self.file,
                resource: self.resource,
                node,
                path: format!("{}[{i}]", self.field(key)),
            })
            .collect())
    }

    /// An optional map of strings (labels, selectors).
    pub fn string_map(&self, key: &str) -> Read<Vec<(String, String)>> {
        let Some(child) = self.get(key) else {
            return Ok(Vec::new());
        };
        let Some(entries) = child.node.as_map() else {
            return Err(child.error(format!("expected a mapping, found {}", child.node.describe())));
        };
        entries
            .iter()
            .map(|(k, v)| match &v.value {
                Value::Scalar { text, .. } => Ok((k.name.clone(), text.clone())),
                Value::Null => Ok((k.name.clone(), String::new())),
                _ => Err(child.error_at(v, &child.field(&k.name), "expected a string")),
            })
            .collect()
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}
