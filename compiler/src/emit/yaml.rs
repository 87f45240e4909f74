//! A small ordered document tree and its YAML rendering. Emitted resources keep the
//! field order a reader expects (`apiVersion`, `kind`, `metadata`, `spec`), which a
//! `serde_json::Value` (sorted keys) would lose, and no YAML serializer is needed.

use std::fmt::Write;

/// A YAML node. Maps keep insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Str(String),
    Int(i64),
    Bool(bool),
    Map(Vec<(String, Node)>),
    List(Vec<Node>),
}

/// Builds a [`Node::Map`] from `key => value` pairs, in order.
macro_rules! yaml_map {
    ($($key:expr => $value:expr),* $(,)?) => {
        $crate::emit::yaml::Node::Map(vec![$(($key.to_string(), $crate::emit::yaml::Node::from($value))),*])
    };
}
pub(crate) use yaml_map;

impl From<&str> for Node {
    fn from(s: &str) -> Self {
        Node::Str(s.to_string())
    }
}

impl From<String> for Node {
    fn from(s: String) -> Self {
        Node::Str(s)
    }
}

impl From<&String> for Node {
    fn from(s: &String) -> Self {
        Node::Str(s.clone())
    }
}

impl From<u32> for Node {
    fn from(n: u32) -> Self {
        Node::Int(i64::from(n))
    }
}

impl From<i32> for Node {
    fn from(n: i32) -> Self {
        Node::Int(i64::from(n))
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Self {
        Node::Bool(b)
    }
}

impl From<Vec<Node>> for Node {
    fn from(items: Vec<Node>) -> Self {
        Node::List(items)
    }
}

impl Node {
    /// Appends `key: value` to a map (no-op on other nodes).
    pub fn push(&mut self, key: &str, value: impl Into<Node>) {
        if let Node::Map(entries) = self {
            entries.push((key.to_string(), value.into()));
        }
    }

    /// Renders the node as one YAML document (no `---`), ending in a newline.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        match self {
            Node::Map(entries) if !entries.is_empty() => write_map(&mut out, entries, 0, false),
            Node::List(items) if !items.is_empty() => write_list(&mut out, items, 0),
            scalar => {
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
        out
    }
}

/// Renders several documents as one multi-document stream.
pub fn documents(nodes: &[Node]) -> String {
    nodes.iter().map(Node::to_yaml).collect::<Vec<_>>().join("---\n")
}

/// A node that fits on the rest of a line: a scalar or an empty collection.
fn inline(node: &Node) -> String {
    match node {
        Node::Str(s) => scalar(s),
        Node::Int(n) => n.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::Map(_) => "{}".to_string(),
        Node::List(_) => "[]".to_string(),
    }
}

fn is_block(node: &Node) -> bool {
    matches!(node, Node::Map(e) if !e.is_empty()) || matches!(node, Node::List(i) if !i.is_empty())
}

/// `continues_line`: the first key goes right after a `- ` already written.
fn write_map(out: &mut String, entries: &[(String, Node)], indent: usize, continues_line: bool) {
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 || !continues_line {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&scalar(key));
        out.push(':');
        match value {
            Node::Map(inner) if !inner.is_empty() => {
                out.push('\n');
                write_map(out, inner, indent + 2, false);
            }
            Node::List(items) if !items.is_empty() => {
                out.push('\n');
                write_list(out, items, indent + 2);
            }
            _ => {
                let _ = writeln!(out, " {}", inline(value));
            }
        }
    }
}

fn write_list(out: &mut String, items: &[Node], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Node::Map(entries) if !entries.is_empty() => write_map(out, entries, indent + 2, true),
            Node::List(inner) if is_block(item) => {
                out.push('\n');
                write_list(out, inner, indent + 2);
            }
            _ => {
                out.push_str(&inline(item));
                out.push('\n');
            }
        }
    }
}

/// A string as a YAML scalar: plain when no YAML 1.1 or 1.2 reader could take it for
/// anything but that string (Kubernetes tools still read YAML 1.1, where `on` and `no`
/// are booleans), otherwise double-quoted. JSON string escapes are valid in YAML
/// double-quoted scalars.
fn scalar(s: &str) -> String {
    const RESERVED: [&str; 11] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "=",
    ];
    let mut chars = s.chars();
    let plain_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '_');
    let plain_rest = chars.all(|c| c.is_ascii_alphanumeric() || "_./:@+=-".contains(c));
    let plain =
        plain_start && plain_rest && !s.ends_with(':') && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s));
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_maps_and_lists_render_as_block_yaml() {
        let doc = yaml_map! {
            "apiVersion" => "v1",
            "spec" => yaml_map! {
                "ports" => vec![Node::from(80u32), Node::from(8080u32)],
                "routes" => vec![yaml_map! { "name" => "a", "match" => yaml_map! { "prefix" => "/" } }],
                "empty" => Node::Map(Vec::new()),
                "none" => Node::List(Vec::new()),
            },
        };
        assert_eq!(
            doc.to_yaml(),
            "apiVersion: v1\nspec:\n  ports:\n    - 80\n    - 8080\n  routes:\n    - name: a\n      match:\n        prefix: /\n  empty: {}\n  none: []\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for (s, rendered) in [
            ("plain-name", "plain-name"),
            ("type.googleapis.com/x.y", "type.googleapis.com/x.y"),
            ("oci://ghcr.io/a/b:v1", "oci://ghcr.io/a/b:v1"),
            ("0s", "\"0s\""),
            ("80", "\"80\""),
            ("on", "\"on\""),
            ("No", "\"No\""),
            ("@type", "\"@type\""),
            ("outbound|80||a.b", "\"outbound|80||a.b\""),
            ("*", "\"*\""),
            ("a: b", "\"a: b\""),
            ("", "\"\""),
        ] {
            assert_eq!(scalar(s), rendered, "{s:?}");
        }
    }

    #[test]
    fn documents_are_separated() {
        let a = yaml_map! { "a" => 1u32 };
        let b = yaml_map! { "b" => true };
        assert_eq!(documents(&[a, b]), "a: 1\n---\nb: true\n");
    }
}
