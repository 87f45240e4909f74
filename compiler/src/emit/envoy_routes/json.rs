//! JSON rendering of the ordered document tree. Envoy reads JSON (a file named `.json`
//! is parsed as JSON) and a route table is easier to read with its fields in the order
//! Envoy documents them (`name`, `match`, then the action), which a `serde_json::Value`
//! (sorted keys) would not keep.

use std::fmt::Write;

use crate::emit::yaml::Node;

/// `node` as JSON: indented by two spaces when `pretty`, else on one line with no
/// spaces (the size the benchmark compares with the bytecode).
pub fn to_json(node: &Node, pretty: bool) -> String {
    let mut out = String::new();
    write(&mut out, node, pretty.then_some(0));
    if pretty {
        out.push('\n');
    }
    out
}

fn write(out: &mut String, node: &Node, indent: Option<usize>) {
    let inner = indent.map(|i| i + 2);
    let newline = |out: &mut String, level: Option<usize>| {
        if let Some(level) = level {
            out.push('\n');
            out.push_str(&" ".repeat(level));
        }
    };
    match node {
        Node::Str(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        Node::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Node::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Node::List(items) if items.is_empty() => out.push_str("[]"),
        Node::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Node::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, inner);
                write(out, item, inner);
            }
            newline(out, indent);
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, inner);
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(out, value, inner);
            }
            newline(out, indent);
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::yaml::yaml_map;

    #[test]
    fn json_keeps_field_order_and_escapes_strings() {
        let doc = yaml_map! {
            "name" => "a\"b",
            "match" => yaml_map! { "prefix" => "/" },
            "list" => vec![Node::from(1u32), Node::from(true)],
            "empty" => Node::Map(Vec::new()),
        };
        assert_eq!(
            to_json(&doc, false),
            r#"{"name":"a\"b","match":{"prefix":"/"},"list":[1,true],"empty":{}}"#
        );
        let pretty = to_json(&doc, true);
        assert!(
            pretty.starts_with("{\n  \"name\": \"a\\\"b\",\n  \"match\": {\n    \"prefix\": \"/\"\n  },")
        );
        let parsed: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(parsed["list"][1], serde_json::Value::Bool(true));
    }
}
