//! Turning `-f` arguments (files, folders, `-`) into parsed documents.
//!
//! Every input is read and parsed even after a failure, so one run reports every
//! broken file at once.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::input::yaml::{Node, parse_documents, parse_documents_each};

/// The name used in diagnostics for standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// Extensions picked up when walking a folder (matched without regard to case).
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// One resource-shaped document: a YAML document, or one item of a `kind: List`.
#[derive(Debug, Clone)]
pub struct Document {
    /// The path as given (or found under a given folder); `<stdin>` for `-`.
    pub file: String,
    /// The index of the YAML document in its file among the non-empty ones;
    /// items of one `kind: List` share it.
    pub index: usize,
    pub node: Node,
}

/// Reads `paths` as given to `-f`: files, folders (recursive; `*.yaml`, `*.yml`,
/// `*.json`, in path order), or `-` for standard input.
pub fn load_inputs(paths: &[String]) -> Result<Vec<Document>, Diagnostics> {
    load_inputs_with(paths, &mut io::stdin())
}

/// [`load_inputs`] with standard input supplied by the caller.
pub fn load_inputs_with(paths: &[String], stdin: &mut dyn Read) -> Result<Vec<Document>, Diagnostics> {
    let mut diagnostics = Diagnostics::default();
    let mut texts = Vec::new();
    for path in paths {
        if path == "-" {
            read_stdin(stdin, &mut texts, &mut diagnostics);
        } else {
            read_path(path, &mut texts, &mut diagnostics);
        }
    }
    match load_texts(&texts) {
        Ok(documents) if !diagnostics.has_errors() => Ok(documents),
        Ok(_) => Err(diagnostics),
        Err(parse_errors) => {
            diagnostics.extend(parse_errors);
            Err(diagnostics)
        }
    }
}

/// [`load_inputs`], handing each document to `each` as soon as it is parsed instead of
/// collecting them: a large input then never holds every YAML tree at once. Every
/// document is handed over even when some input fails; the caller must discard what it
/// built from them when this returns `Err`, which carries the same diagnostics as
/// [`load_inputs`].
pub fn load_inputs_each(paths: &[String], each: &mut dyn FnMut(Document)) -> Result<(), Diagnostics> {
    let mut diagnostics = Diagnostics::default();
    let mut texts = Vec::new();
    for path in paths {
        if path == "-" {
            read_stdin(&mut io::stdin(), &mut texts, &mut diagnostics);
        } else {
            read_path(path, &mut texts, &mut diagnostics);
        }
    }
    for (file, text) in texts {
        let mut index = 0;
        // Like `load_texts`: a file that does not parse reports only its parse error.
        let mut item_errors = Vec::new();
        let parsed = parse_documents_each(&text, &file, &mut |node| {
            let mut documents = Vec::new();
            if let Err(diagnostic) = push_document(&file, index, node, &mut documents) {
                item_errors.push(diagnostic);
            }
            index += 1;
            documents.into_iter().for_each(&mut *each);
        });
        match parsed {
            Ok(()) => item_errors.into_iter().for_each(|d| diagnostics.push(d)),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    if diagnostics.has_errors() {
        Err(diagnostics)
    } else {
        Ok(())
    }
}

/// Parses texts already in memory, as `(file name, text)` pairs.
pub fn load_texts(texts: &[(String, String)]) -> Result<Vec<Document>, Diagnostics> {
    let mut diagnostics = Diagnostics::default();
    let mut documents = Vec::new();
    for (file, text) in texts {
        let nodes = match parse_documents(text, file) {
            Ok(nodes) => nodes,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                continue;
            }
        };
        for (index, node) in nodes.into_iter().enumerate() {
            if let Err(diagnostic) = push_document(file, index, node, &mut documents) {
                diagnostics.push(diagnostic);
            }
        }
    }
    if diagnostics.has_errors() {
        Err(diagnostics)
    } else {
        Ok(documents)
    }
}

/// Adds `node`, or each of its items when it is a `kind: List` (as `kubectl get -o yaml`
/// prints), to `documents`.
fn push_document(
    file: &str,
    index: usize,
    node: Node,
    documents: &mut Vec<Document>,
) -> Result<(), Diagnostic> {
    let document = |node| Document {
        file: file.to_owned(),
        index,
        node,
    };
    if !is_list(&node) {
        documents.push(document(node));
        return Ok(());
    }
    match node.get("items") {
        None => {}
        Some(items) if items.is_null() => {}
        Some(items) => {
            let items = items.expect_seq(file, "items")?;
            documents.extend(items.iter().cloned().map(document));
        }
    }
    Ok(())
}

fn is_list(node: &Node) -> bool {
    let kind = node.get("kind").and_then(Node::as_str);
    let api_version = node.get("apiVersion").and_then(Node::as_str);
    kind == Some("List") && matches!(api_version, None | Some("v1"))
}

fn read_stdin(stdin: &mut dyn Read, texts: &mut Vec<(String, String)>, diagnostics: &mut Diagnostics) {
    let mut bytes = Vec::new();
    match stdin.read_to_end(&mut bytes) {
        Ok(_) => push_text(STDIN_NAME, bytes, texts, diagnostics),
        Err(error) => diagnostics.push(read_error(STDIN_NAME, &error)),
    }
}

fn read_path(path: &str, texts: &mut Vec<(String, String)>, diagnostics: &mut Diagnostics) {
    // `metadata` follows symlinks, so a link to a folder is walked like the folder.
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => return diagnostics.push(read_error(path, &error)),
    };
    if !metadata.is_dir() {
        // A file named explicitly is read whatever its extension.
        return read_file(Path::new(path), texts, diagnostics);
    }
    let mut files = Vec::new();
    let mut visited = HashSet::new();
    walk(Path::new(path), &mut files, &mut visited, diagnostics);
    files.sort();
    for file in files {
        read_file(&file, texts, diagnostics);
    }
}

/// Collects manifest files under `dir`. `visited` holds canonical folder paths so a
/// symlink cycle is walked once instead of forever.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, visited: &mut HashSet<PathBuf>, diagnostics: &mut Diagnostics) {
    if let Ok(canonical) = fs::canonicalize(dir)
        && !visited.insert(canonical)
    {
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => return diagnostics.push(read_error(&dir.display().to_string(), &error)),
    };
    for entry in entries {
        let path = match entry {
            Ok(entry) => entry.path(),
            Err(error) => {
                diagnostics.push(read_error(&dir.display().to_string(), &error));
                continue;
            }
        };
        match fs::metadata(&path) {
            Ok(metadata) if metadata.is_dir() => walk(&path, files, visited, diagnostics),
            Ok(_) if has_manifest_extension(&path) => files.push(path),
            Ok(_) => {}
            Err(error) => diagnostics.push(read_error(&path.display().to_string(), &error)),
        }
    }
}

/// A manifest in a folder walk: `.yaml`, `.yml` or `.json`, but not a route test file
/// (`*.test.yaml`), which users keep next to their manifests.
pub(crate) fn has_manifest_extension(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let route_test = [".test.yaml", ".test.yml", ".test.json"]
        .iter()
        .any(|suffix| name.ends_with(suffix));
    !route_test
        && path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

fn read_file(path: &Path, texts: &mut Vec<(String, String)>, diagnostics: &mut Diagnostics) {
    let name = path.display().to_string();
    match fs::read(path) {
        Ok(bytes) => push_text(&name, bytes, texts, diagnostics),
        Err(error) => diagnostics.push(read_error(&name, &error)),
    }
}

fn push_text(name: &str, bytes: Vec<u8>, texts: &mut Vec<(String, String)>, diagnostics: &mut Diagnostics) {
    match String::from_utf8(bytes) {
        Ok(text) => texts.push((name.to_owned(), text)),
        Err(error) => {
            // Point at the line of the first bad byte so the user can find it.
            let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let location = Location {
                file: name.to_owned(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: 0,
            };
            diagnostics.push(Diagnostic::error(location, "the file is not valid UTF-8"));
        }
    }
}

fn read_error(name: &str, error: &io::Error) -> Diagnostic {
    // io::Error's own text ends in "(os error N)", which tells a user nothing.
    let reason = match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => error.to_string(),
    };
    let location = Location {
        file: name.to_owned(),
        line: 0,
        column: 0,
    };
    Diagnostic::error(location, format!("cannot read: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A scratch folder removed on drop; unique per process and test.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("switchyard-load-test-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }

        fn write(&self, relative: &str, contents: &[u8]) -> String {
            let path = self.0.join(relative);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, contents).unwrap();
            path.display().to_string()
        }

        fn path(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn texts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(f, t)| ((*f).to_owned(), (*t).to_owned()))
            .collect()
    }

    fn names(documents: &[Document]) -> Vec<String> {
        documents
            .iter()
            .map(|d| d.node.get("name").unwrap().as_str().unwrap().to_owned())
            .collect()
    }

    fn no_stdin() -> impl Read {
        io::empty()
    }

    #[test]
    fn texts_keep_file_and_document_index() {
        let documents = load_texts(&texts(&[
            ("a.yaml", "name: a\n---\n---\nname: b\n"),
            ("b.json", "{\"name\": \"c\"}"),
        ]))
        .unwrap();
        assert_eq!(names(&documents), ["a", "b", "c"]);
        let where_: Vec<_> = documents
            .iter()
            .map(|d| (d.file.as_str(), d.index, d.node.line))
            .collect();
        assert_eq!(where_, [("a.yaml", 0, 1), ("a.yaml", 1, 4), ("b.json", 0, 1)]);
    }

    #[test]
    fn list_documents_are_expanded() {
        let text = "\
apiVersion: v1
kind: List
items:
  - name: one
  - name: two
---
name: three
";
        let documents = load_texts(&texts(&[("l.yaml", text)])).unwrap();
        assert_eq!(names(&documents), ["one", "two", "three"]);
        assert_eq!(documents[0].node.line, 4);
        assert_eq!(documents[1].node.line, 5);
        assert_eq!((documents[1].index, documents[2].index), (0, 1));

        let json = r#"{"apiVersion": "v1", "kind": "List", "items": [{"name": "j"}]}"#;
        let documents = load_texts(&texts(&[("l.json", json)])).unwrap();
        assert_eq!(names(&documents), ["j"]);

        // Empty lists give nothing; other kinds and other API groups are left alone.
        let text = "kind: List\nitems: []\n---\nkind: List\nitems:\n---\nkind: List\napiVersion: x/v1\nname: kept\n---\nkind: ServiceList\nname: kept2\n";
        let documents = load_texts(&texts(&[("l.yaml", text)])).unwrap();
        assert_eq!(names(&documents), ["kept", "kept2"]);
    }

    #[test]
    fn list_items_must_be_a_list() {
        let errors = load_texts(&texts(&[("l.yaml", "kind: List\nitems:\n  a: 1\n")])).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        let d = &errors.0[0];
        assert_eq!((d.location.file.as_str(), d.location.line), ("l.yaml", 3));
        assert_eq!(d.field.as_deref(), Some("items"));
    }

    #[test]
    fn all_parse_errors_are_collected() {
        let errors = load_texts(&texts(&[
            ("bad1.yaml", "a: b: c\n"),
            ("good.yaml", "name: ok\n"),
            ("bad2.yaml", "x: 1\nx: 2\n"),
        ]))
        .unwrap_err();
        let files: Vec<_> = errors.0.iter().map(|d| d.location.file.as_str()).collect();
        assert_eq!(files, ["bad1.yaml", "bad2.yaml"]);
        assert_eq!(errors.0[1].location.line, 2);
    }

    #[test]
    fn streaming_hands_over_the_same_documents_and_diagnostics_as_loading() {
        let dir = TempDir::new();
        dir.write(
            "a/one.yaml",
            b"name: a\n---\nkind: List\napiVersion: v1\nitems: [{name: b}, {name: c}]\n",
        );
        dir.write("b.json", b"{\"name\": \"d\"}");
        let paths = [dir.path()];
        let loaded = load_inputs(&paths).unwrap();
        let mut streamed = Vec::new();
        load_inputs_each(&paths, &mut |d| streamed.push(d)).unwrap();
        let key = |d: &Document| (d.file.clone(), d.index, d.node.clone());
        assert_eq!(
            streamed.iter().map(key).collect::<Vec<_>>(),
            loaded.iter().map(key).collect::<Vec<_>>()
        );
        assert_eq!(names(&streamed), ["a", "b", "c", "d"]);

        // Errors: a bad file reports its parse error only (not the bad List before it),
        // other files' item errors are kept, read errors come first.
        dir.write("c/bad.yaml", b"kind: List\nitems: {a: 1}\n---\na: b: c\n");
        dir.write("c/list.yaml", b"kind: List\nitems: {a: 1}\n");
        let paths = [
            format!("{}/c", dir.path()),
            format!("{}/missing.yaml", dir.path()),
        ];
        let loaded = load_inputs(&paths).unwrap_err();
        let streamed = load_inputs_each(&paths, &mut |_| {}).unwrap_err();
        assert_eq!(streamed.0, loaded.0);
        assert_eq!(streamed.0.len(), 3, "{streamed:?}");
    }

    #[test]
    fn folders_are_walked_recursively_in_path_order() {
        let dir = TempDir::new();
        dir.write("b.yaml", b"name: b\n");
        dir.write("a.yml", b"name: a\n");
        dir.write("sub/c.json", b"{\"name\": \"c\"}");
        dir.write("sub/deeper/d.YAML", b"name: d\n");
        dir.write("c.yaml", b"name: c0\n---\nname: c1\n");
        dir.write("notes.txt", b"name: ignored\n");
        dir.write("README.md", b"# ignored\n");
        let documents = load_inputs_with(&[dir.path()], &mut no_stdin()).unwrap();
        assert_eq!(names(&documents), ["a", "b", "c0", "c1", "c", "d"]);
        let expected_file = Path::new(&dir.path()).join("sub").join("c.json");
        assert_eq!(documents[4].file, expected_file.display().to_string());
    }

    #[test]
    fn a_named_file_is_read_whatever_its_extension() {
        let dir = TempDir::new();
        let file = dir.write("manifest.txt", b"name: t\n");
        let documents = load_inputs_with(std::slice::from_ref(&file), &mut no_stdin()).unwrap();
        assert_eq!(names(&documents), ["t"]);
        assert_eq!(documents[0].file, file);
    }

    #[test]
    fn stdin_is_read_for_dash() {
        let dir = TempDir::new();
        let file = dir.write("f.yaml", b"name: file\n");
        let mut stdin = "name: piped\n---\nname: piped2\n".as_bytes();
        let paths = [file, "-".to_owned()];
        let documents = load_inputs_with(&paths, &mut stdin).unwrap();
        assert_eq!(names(&documents), ["file", "piped", "piped2"]);
        assert_eq!(documents[1].file, "<stdin>");
        assert_eq!(documents[2].index, 1);

        let errors = load_inputs_with(&["-".to_owned()], &mut "a: [".as_bytes()).unwrap_err();
        assert_eq!(errors.0[0].location.file, "<stdin>");
    }

    #[test]
    fn read_errors_name_the_path_and_are_all_collected() {
        let dir = TempDir::new();
        let missing = Path::new(&dir.path()).join("missing.yaml").display().to_string();
        let bad_utf8 = dir.write("bad.yaml", b"a: 1\nb: \xff\xfe\n");
        let bad_yaml = dir.write("broken.yaml", b"a: [\n");
        let good = dir.write("good.yaml", b"name: g\n");
        let errors = load_inputs_with(
            &[missing.clone(), good, bad_utf8.clone(), bad_yaml.clone()],
            &mut no_stdin(),
        )
        .unwrap_err();
        assert_eq!(errors.0.len(), 3, "{:?}", errors.0);
        assert_eq!(errors.0[0].location.file, missing);
        assert_eq!(errors.0[0].message, "cannot read: no such file or directory");
        assert_eq!(errors.0[1].location.file, bad_utf8);
        assert_eq!(errors.0[1].location.line, 2);
        assert!(errors.0[1].message.contains("UTF-8"));
        assert_eq!(errors.0[2].location.file, bad_yaml);
    }

    #[test]
    fn empty_folder_gives_no_documents() {
        let dir = TempDir::new();
        fs::create_dir_all(Path::new(&dir.path()).join("empty")).unwrap();
        assert!(
            load_inputs_with(&[dir.path()], &mut no_stdin())
                .unwrap()
                .is_empty()
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_cycles_are_walked_once() {
        let dir = TempDir::new();
        dir.write("sub/a.yaml", b"name: a\n");
        std::os::unix::fs::symlink(&dir.0, dir.0.join("sub").join("loop")).unwrap();
        let documents = load_inputs_with(&[dir.path()], &mut no_stdin()).unwrap();
        assert_eq!(names(&documents), ["a"]);
    }
}
