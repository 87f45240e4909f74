//! A YAML tree that remembers where every node and key came from.
//!
//! `saphyr-parser` gives a stream of events with source spans; this module folds
//! them into a small tree so that every later error can point at a line. JSON is
//! parsed by the same code, since JSON is YAML.
//!
//! Scalars keep their source text, and `quoted` tells whether the author quoted
//! them, so that `"80"` can stay a string while `80` may be read as a number.
//! Types beyond that are the compiler's business, field by field.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

use crate::diag::{Diagnostic, Location};

/// A value with the 1-based line and column where it starts in its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: u32,
    pub column: u32,
}

/// The shape of a node. Tags other than `!!str` are ignored.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An empty value, `~`, or `null` (any case form of the YAML 1.2 core schema), unquoted.
    Null,
    /// Any other scalar, with its text as written (after YAML unescaping/folding).
    /// `quoted` is true for single- or double-quoted, literal (`|`) and folded (`>`)
    /// scalars and for `!!str`-tagged ones: the author asked for a string.
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Entries in source order; keys are unique.
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its own position, for "unknown field" errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub line: u32,
    pub column: u32,
}

impl Value {
    /// What this value is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "null".to_owned(),
            Value::Scalar { text, .. } => format!("the value {text:?}"),
            Value::Seq(_) => "a list".to_owned(),
            Value::Map(_) => "a mapping".to_owned(),
        }
    }
}

impl Key {
    pub fn location(&self, file: &str) -> Location {
        location(file, self.line, self.column)
    }
}

impl Node {
    pub fn location(&self, file: &str) -> Location {
        location(file, self.line, self.column)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The text of any non-null scalar, quoted or not.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value under `key` when this node is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.name == key).map(|(_, v)| v)
    }

    /// What this node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        self.value.describe()
    }

    /// Like [`Node::as_str`], but an error at this node naming `field` when it is not a scalar.
    pub fn expect_str(&self, file: &str, field: &str) -> Result<&str, Diagnostic> {
        self.as_str()
            .ok_or_else(|| self.type_error(file, field, "a string"))
    }

    /// Like [`Node::as_map`], but an error at this node naming `field` when it is not a mapping.
    pub fn expect_map(&self, file: &str, field: &str) -> Result<&[(Key, Node)], Diagnostic> {
        self.as_map()
            .ok_or_else(|| self.type_error(file, field, "a mapping"))
    }

    /// Like [`Node::as_seq`], but an error at this node naming `field` when it is not a list.
    pub fn expect_seq(&self, file: &str, field: &str) -> Result<&[Node], Diagnostic> {
        self.as_seq()
            .ok_or_else(|| self.type_error(file, field, "a list"))
    }

    fn type_error(&self, file: &str, field: &str, expected: &str) -> Diagnostic {
        Diagnostic::error(
            self.location(file),
            format!("expected {expected}, found {}", self.describe()),
        )
        .with_field(field)
    }
}

fn location(file: &str, line: u32, column: u32) -> Location {
    Location {
        file: file.to_owned(),
        line,
        column,
    }
}

/// Deeper trees are refused: every consumer (including `Drop`) walks them recursively,
/// and no real manifest comes near this.
const MAX_DEPTH: usize = 256;

/// Nodes that aliases may copy in one file, so a "billion laughs" file fails fast
/// instead of exhausting memory.
const MAX_ALIAS_NODES: usize = 1_000_000;

/// Parses every document in `text`. Empty documents (a trailing `---`, a file of
/// comments) and documents that are only `null` yield no node.
pub fn parse_documents(text: &str, file: &str) -> Result<Vec<Node>, Diagnostic> {
    let mut documents = Vec::new();
    parse_documents_each(text, file, &mut |node| documents.push(node))?;
    Ok(documents)
}

/// [`parse_documents`], handing each document's tree to `each` as soon as it is built,
/// so that a caller can convert and drop it before the next one is parsed. On an error,
/// the documents before it have already been handed over.
pub fn parse_documents_each(text: &str, file: &str, each: &mut dyn FnMut(Node)) -> Result<(), Diagnostic> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        file,
        anchors: HashMap::new(),
        alias_nodes: 0,
    };
    builder.documents(each)
}

/// Mappings with fewer keys than this find duplicate keys by a linear search.
const SMALL_MAPPING: usize = 16;

/// An anchored node, with the size and height that copying it will add.
struct Anchored {
    node: Node,
    size: usize,
    height: usize,
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    file: &'a str,
    /// Saphyr's anchor ids are unique within the stream; cleared per document
    /// because YAML anchors do not cross document boundaries.
    anchors: HashMap<usize, Anchored>,
    alias_nodes: usize,
}

impl<'a> Builder<'a> {
    fn documents(&mut self, each: &mut dyn FnMut(Node)) -> Result<(), Diagnostic> {
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(()),
                Event::DocumentStart(_) => {
                    self.anchors.clear();
                    let (event, span) = self.next()?;
                    let root = self.node(event, span, 1)?;
                    if !root.is_null() {
                        each(root);
                    }
                }
                other => return Err(self.unexpected(&other, span)),
            }
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), Diagnostic> {
        match self.parser.next_event() {
            Some(Ok(pair)) => Ok(pair),
            Some(Err(error)) => Err(self.scan_error(&error)),
            None => Err(Diagnostic::error(
                location(self.file, 0, 0),
                "unexpected end of YAML events",
            )),
        }
    }

    /// Builds the node that starts with `event`, pulling the events of its children.
    fn node(&mut self, event: Event<'a>, span: Span, depth: usize) -> Result<Node, Diagnostic> {
        let (line, column) = position(span);
        if depth > MAX_DEPTH {
            return Err(self.error_at(span, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                (scalar_value(text.into_owned(), style, tag.as_deref()), anchor)
            }
            Event::SequenceStart(anchor, _) => (Value::Seq(self.seq_items(depth)?), anchor),
            Event::MappingStart(anchor, _) => (Value::Map(self.map_entries(depth)?), anchor),
            Event::Alias(id) => return self.alias(id, span, depth),
            other => return Err(self.unexpected(&other, span)),
        };
        let node = Node { value, line, column };
        // Anchor id 0 means "no anchor".
        if anchor != 0 {
            let (size, height) = shape(&node);
            let anchored = Anchored {
                node: node.clone(),
                size,
                height,
            };
            self.anchors.insert(anchor, anchored);
        }
        Ok(node)
    }

    fn seq_items(&mut self, depth: usize) -> Result<Vec<Node>, Diagnostic> {
        let mut items = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if event == Event::SequenceEnd {
                // Vectors grow by doubling from four; trees of 100 000 resources keep
                // millions of short lists, so return the slack.
                items.shrink_to_fit();
                return Ok(items);
            }
            items.push(self.node(event, span, depth + 1)?);
        }
    }

    fn map_entries(&mut self, depth: usize) -> Result<Vec<(Key, Node)>, Diagnostic> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        // Key name -> line of its first occurrence, to report duplicates. Most mappings
        // have a handful of keys: those are searched directly, and the map is only
        // built for large ones.
        let mut seen: HashMap<String, u32> = HashMap::new();
        loop {
            let (event, span) = self.next()?;
            if event == Event::MappingEnd {
                entries.shrink_to_fit();
                return Ok(entries);
            }
            let key = self.key(event, span, depth)?;
            let first = if entries.len() < SMALL_MAPPING {
                entries
                    .iter()
                    .find(|(k, _)| k.name == key.name)
                    .map(|(k, _)| k.line)
            } else {
                if seen.is_empty() {
                    seen.extend(entries.iter().map(|(k, _)| (k.name.clone(), k.line)));
                }
                seen.insert(key.name.clone(), key.line)
            };
            if let Some(first) = first {
                return Err(Diagnostic::error(
                    key.location(self.file),
                    format!("duplicate key {:?}: it is also defined at line {first}", key.name),
                ));
            }
            let (event, span) = self.next()?;
            let value = self.node(event, span, depth + 1)?;
            entries.push((key, value));
        }
    }

    /// A key is placed where it is written, even when it is an alias.
    fn key(&mut self, event: Event<'a>, span: Span, depth: usize) -> Result<Key, Diagnostic> {
        let (line, column) = position(span);
        let name = match event {
            // The raw text is kept, so `null:` is the key "null" rather than "".
            Event::Scalar(text, ..) => text.into_owned(),
            event => match self.node(event, span, depth + 1)?.value {
                Value::Scalar { text, .. } => text,
                Value::Null => String::new(),
                other => {
                    return Err(self.error_at(
                        span,
                        format!(
                            "mapping keys must be strings, found {} at line {line}",
                            other.describe()
                        ),
                    ));
                }
            },
        };
        Ok(Key { name, line, column })
    }

    /// An alias becomes a copy of its anchored node, positions included.
    fn alias(&mut self, id: usize, span: Span, depth: usize) -> Result<Node, Diagnostic> {
        let Some(anchored) = self.anchors.get(&id) else {
            // The parser rejects unknown names itself; this is an anchor from an earlier
            // document, or one whose node is still open (a node containing itself).
            return Err(self.error_at(
                span,
                "alias to an anchor that is not defined before it in this document",
            ));
        };
        if depth + anchored.height > MAX_DEPTH + 1 {
            return Err(self.error_at(span, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.alias_nodes += anchored.size;
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(self.error_at(
                span,
                format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
            ));
        }
        Ok(anchored.node.clone())
    }

    fn scan_error(&self, error: &ScanError) -> Diagnostic {
        let marker = error.marker();
        Diagnostic::error(
            location(
                self.file,
                to_u32(marker.line()),
                to_u32(marker.col()).saturating_add(1),
            ),
            format!("invalid YAML: {}", error.info()),
        )
    }

    fn unexpected(&self, event: &Event<'_>, span: Span) -> Diagnostic {
        self.error_at(span, format!("unexpected YAML event {event:?}"))
    }

    fn error_at(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        let (line, column) = position(span);
        Diagnostic::error(location(self.file, line, column), message)
    }
}

/// Saphyr's markers have 1-based lines and 0-based columns (counted in characters).
fn position(span: Span) -> (u32, u32) {
    (
        to_u32(span.start.line()),
        to_u32(span.start.col()).saturating_add(1),
    )
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn scalar_value(text: String, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    let str_tag = tag.is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
    let plain = style == ScalarStyle::Plain && !str_tag;
    if plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") {
        Value::Null
    } else {
        Value::Scalar { text, quoted: !plain }
    }
}

/// Number of nodes and height of the tree under `node` (a scalar is 1 and 1).
fn shape(node: &Node) -> (usize, usize) {
    let children: Box<dyn Iterator<Item = &Node>> = match &node.value {
        Value::Seq(items) => Box::new(items.iter()),
        Value::Map(entries) => Box::new(entries.iter().map(|(_, v)| v)),
        Value::Null | Value::Scalar { .. } => Box::new(std::iter::empty()),
    };
    children.fold((1, 1), |(size, height), child| {
        let (child_size, child_height) = shape(child);
        (size + child_size, height.max(child_height + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Node> {
        parse_documents(text, "test.yaml").unwrap_or_else(|d| panic!("{d}"))
    }

    fn one(text: &str) -> Node {
        let mut docs = parse(text);
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0)
    }

    fn error(text: &str) -> Diagnostic {
        parse_documents(text, "bad.yaml").expect_err("should fail")
    }

    fn scalar(text: &str, quoted: bool) -> Value {
        Value::Scalar {
            text: text.to_owned(),
            quoted,
        }
    }

    fn key_names(node: &Node) -> Vec<&str> {
        node.as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.name.as_str())
            .collect()
    }

    #[test]
    fn positions_of_nested_keys_and_values() {
        let doc = one("kind: A\nspec:\n  rules:\n    - name: x\n      port: 80\n");
        assert_eq!((doc.line, doc.column), (1, 1));
        let spec = doc.get("spec").unwrap();
        assert_eq!((spec.line, spec.column), (3, 3));
        let (key, rules) = &spec.as_map().unwrap()[0];
        assert_eq!((key.name.as_str(), key.line, key.column), ("rules", 3, 3));
        assert_eq!((rules.line, rules.column), (4, 5));
        let rule = &rules.as_seq().unwrap()[0];
        assert_eq!((rule.line, rule.column), (4, 7));
        let (port_key, port) = &rule.as_map().unwrap()[1];
        assert_eq!((port_key.line, port_key.column), (5, 7));
        assert_eq!((port.line, port.column), (5, 13));
        assert_eq!(port.value, scalar("80", false));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let doc = one("é: ü\nb: c\n");
        let (_, value) = &doc.as_map().unwrap()[0];
        assert_eq!((value.line, value.column), (1, 4));
    }

    #[test]
    fn byte_order_mark_and_crlf_do_not_shift_positions() {
        let doc = one("\u{feff}a: 1\r\nb:\r\n  c: \"x\"\r\n");
        let c = doc.get("b").unwrap().get("c").unwrap();
        assert_eq!((c.line, c.column), (3, 6));
        assert_eq!(c.value, scalar("x", true));
        assert_eq!(doc.get("a").unwrap().column, 4);
    }

    #[test]
    fn quoted_and_plain_scalars() {
        let doc = one(concat!(
            "a: 80\n",
            "b: \"80\"\n",
            "c: '80'\n",
            "d: |\n  text\n",
            "e: >\n  folded\n  line\n",
            "f: !!str 80\n",
            "g: \"\"\n",
            "h: ''\n",
            "i: true\n",
        ));
        let get = |k: &str| doc.get(k).unwrap().value.clone();
        assert_eq!(get("a"), scalar("80", false));
        assert_eq!(get("b"), scalar("80", true));
        assert_eq!(get("c"), scalar("80", true));
        assert_eq!(get("d"), scalar("text\n", true));
        assert_eq!(get("e"), scalar("folded line\n", true));
        assert_eq!(get("f"), scalar("80", true));
        assert_eq!(get("g"), scalar("", true));
        assert_eq!(get("h"), scalar("", true));
        assert_eq!(get("i"), scalar("true", false));
    }

    #[test]
    fn core_schema_nulls() {
        let doc = one("a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: nULL\ng: \"null\"\n");
        for k in ["a", "b", "c", "d", "e"] {
            assert!(doc.get(k).unwrap().is_null(), "{k}");
        }
        assert_eq!(doc.get("f").unwrap().value, scalar("nULL", false));
        assert_eq!(doc.get("g").unwrap().value, scalar("null", true));
        // The empty value still has a position (where the parser saw it).
        assert!(doc.get("a").unwrap().line >= 1);
    }

    #[test]
    fn scalar_text_is_kept_exactly() {
        let doc = one("a: 0x1F\nb: 1e3\nc: 007\nd: \"tab\\tend\"\ne: 'it''s'\n");
        assert_eq!(doc.get("a").unwrap().as_str(), Some("0x1F"));
        assert_eq!(doc.get("b").unwrap().as_str(), Some("1e3"));
        assert_eq!(doc.get("c").unwrap().as_str(), Some("007"));
        assert_eq!(doc.get("d").unwrap().as_str(), Some("tab\tend"));
        assert_eq!(doc.get("e").unwrap().as_str(), Some("it's"));
    }

    #[test]
    fn multiple_documents_and_empty_ones() {
        let docs = parse("---\na: 1\n---\n# nothing\n---\nb: 2\n...\n---\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line, 2);
        assert_eq!(docs[1].line, 6);
        assert_eq!(key_names(&docs[1]), ["b"]);
        assert!(parse("").is_empty());
        assert!(parse("# only a comment\n").is_empty());
        assert!(parse("---\n").is_empty());
        assert!(parse("--- null\n--- ~\n").is_empty());
        assert_eq!(parse("a: 1\n---\n").len(), 1);
    }

    #[test]
    fn json_is_parsed() {
        let doc = one("{\"a\": [1, 2]}");
        let a = doc.get("a").unwrap().as_seq().unwrap();
        assert_eq!(a[0].value, scalar("1", false));
        assert_eq!((a[1].line, a[1].column), (1, 11));
        let doc = one("{\"x\":{\"y\":[true,null,\"s\"]},\n \"z\":\"\"}\n");
        let y = doc.get("x").unwrap().get("y").unwrap().as_seq().unwrap();
        assert_eq!(y[0].value, scalar("true", false));
        assert!(y[1].is_null());
        assert_eq!(y[2].value, scalar("s", true));
        let (z, z_value) = &doc.as_map().unwrap()[1];
        assert_eq!((z.line, z.column), (2, 2));
        assert_eq!(z_value.value, scalar("", true));
    }

    #[test]
    fn duplicate_keys_name_both_lines() {
        let d = error("a: 1\nb:\n  c: 1\n  c: 2\n");
        assert_eq!((d.location.line, d.location.column), (4, 3));
        assert!(d.message.contains("\"c\""), "{}", d.message);
        assert!(d.message.contains("line 3"), "{}", d.message);
        // The same key in different mappings is fine.
        one("a: {x: 1}\nb: {x: 2}\n");
        // Quoting does not make a different key.
        assert_eq!(error("a: 1\n\"a\": 2\n").location.line, 2);
    }

    #[test]
    fn duplicate_keys_in_large_mappings_name_both_lines() {
        // Past SMALL_MAPPING keys the search switches to a hash map: same answer.
        let mut text: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        one(&text);
        text.push_str("k3: again\n");
        let d = error(&text);
        assert_eq!(d.location.line, 41);
        assert!(
            d.message.contains("\"k3\"") && d.message.contains("line 4"),
            "{}",
            d.message
        );
        let early: String = (0..40).map(|i| format!("k{}: {i}\n", i.min(20))).collect();
        assert_eq!(error(&early).location.line, 22, "the first repeat is reported");
    }

    #[test]
    fn non_scalar_keys_are_rejected() {
        let d = error("a: 1\n? [x, y]\n: 2\n");
        assert_eq!(d.location.line, 2);
        assert!(d.message.contains("line 2"), "{}", d.message);
        assert!(d.message.contains("a list"), "{}", d.message);
        assert_eq!(error("{[1]: 2}").location.line, 1);
    }

    #[test]
    fn odd_but_scalar_keys_keep_their_text() {
        let doc = one("null: 1\n\"\": 2\n80: 3\n");
        assert_eq!(key_names(&doc), ["null", "", "80"]);
    }

    #[test]
    fn aliases_copy_the_anchored_node() {
        let doc = one("base: &b\n  x: 1\n  y: [2]\ncopy: *b\nname: &n hello\nother: *n\n");
        let base = doc.get("base").unwrap();
        let copy = doc.get("copy").unwrap();
        assert_eq!(copy, base);
        // The copy keeps the anchor's position (where `&b` is written).
        assert_eq!((copy.line, copy.column), (1, 7));
        assert_eq!(doc.get("other").unwrap().value, scalar("hello", false));
        assert_eq!(doc.get("other").unwrap().line, 5);
        // An alias may also be a key.
        let doc = one("k: &k name\n*k : v\n");
        assert_eq!(key_names(&doc), ["k", "name"]);
        // The latest definition of a reused anchor wins.
        let doc = one("a: &x 1\nb: &x 2\nc: *x\n");
        assert_eq!(doc.get("c").unwrap().as_str(), Some("2"));
    }

    #[test]
    fn alias_errors() {
        let d = error("a: *nope\n");
        assert_eq!(d.location.line, 1);
        // Anchors do not cross documents.
        let d = error("a: &x 1\n---\nb: *x\n");
        assert_eq!(d.location.line, 3);
        // A node cannot contain itself.
        assert_eq!(error("a: &x [*x]\n").location.line, 1);
        // An alias to a mapping cannot be a key.
        assert_eq!(error("a: &m {x: 1}\n*m : 2\n").location.line, 2);
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let d = error(&text);
        assert!(d.message.contains("aliases expand"), "{}", d.message);
    }

    #[test]
    fn nesting_is_bounded() {
        // Block nesting: saphyr itself caps flow nesting at 255 levels but not this.
        let nested =
            |levels: usize| -> String { (0..levels).map(|i| format!("{}a:\n", "  ".repeat(i))).collect() };
        let d = error(&nested(MAX_DEPTH));
        assert!(d.message.contains("nesting"), "{d}");
        one(&nested(MAX_DEPTH - 1));
        // Aliases cannot smuggle in depth either.
        let half = MAX_DEPTH / 2 + 2;
        let text = format!(
            "a: &d {}{}\nb: {}*d{}\n",
            "[".repeat(half),
            "]".repeat(half),
            "[".repeat(half),
            "]".repeat(half)
        );
        assert!(error(&text).message.contains("nesting"));
    }

    #[test]
    fn parse_errors_carry_line_and_column() {
        let d = error("a: 1\nb: c: d\n");
        assert_eq!(d.location.file, "bad.yaml");
        assert_eq!((d.location.line, d.location.column), (2, 5));
        assert!(
            d.message.contains("mapping values are not allowed"),
            "{}",
            d.message
        );
        let d = error("a:\n  b: 1\n c: 2\n");
        assert_eq!(d.location.line, 3);
        let d = error("{\"a\": [1, 2}\n");
        assert_eq!(d.location.line, 1);
        let d = error("ok: 1\n---\nx: \"unterminated\n");
        assert!(d.location.line >= 3, "{d}");
    }

    #[test]
    fn accessors_and_typed_errors() {
        let doc = one("s: text\nm: {k: v}\nl: [1]\nn:\n");
        assert_eq!(doc.get("s").unwrap().as_str(), Some("text"));
        assert!(doc.get("m").unwrap().as_map().is_some());
        assert!(doc.get("l").unwrap().as_seq().is_some());
        assert!(doc.get("n").unwrap().as_str().is_none());
        assert!(doc.get("missing").is_none());
        assert!(doc.get("s").unwrap().get("s").is_none());

        let l = doc.get("l").unwrap();
        let d = l.expect_str("f.yaml", "spec.l").unwrap_err();
        assert_eq!(d.field.as_deref(), Some("spec.l"));
        assert_eq!((d.location.file.as_str(), d.location.line), ("f.yaml", 3));
        assert_eq!(d.message, "expected a string, found a list");
        let d = doc.get("s").unwrap().expect_map("f.yaml", "spec.s").unwrap_err();
        assert_eq!(d.message, "expected a mapping, found the value \"text\"");
        let d = doc.get("n").unwrap().expect_seq("f.yaml", "spec.n").unwrap_err();
        assert_eq!(d.message, "expected a list, found null");
        assert_eq!(l.expect_seq("f.yaml", "spec.l").unwrap().len(), 1);
        assert_eq!(doc.expect_map("f.yaml", "").unwrap().len(), 4);
        assert_eq!(doc.get("s").unwrap().expect_str("f", "s"), Ok("text"));
    }

    #[test]
    fn locations() {
        let doc = one("a:\n  b: 1\n");
        let (key, value) = &doc.get("a").unwrap().as_map().unwrap()[0];
        let expected = Location {
            file: "x.yaml".into(),
            line: 2,
            column: 3,
        };
        assert_eq!(key.location("x.yaml"), expected);
        assert_eq!(value.location("x.yaml").column, 6);
    }
}
