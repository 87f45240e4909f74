//! `cargo xtask web`: build the browser and Node.js packages of the compiler (web/) and
//! serve the playground on 127.0.0.1.
//!
//! - `cargo xtask web [--port N]`: build, then serve `web/www` until interrupted.
//! - `cargo xtask web-build`: only build (`web/www/pkg` for the page, `web/pkg-node` for
//!   Node.js).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::{cargo, root, run};

const TARGET: &str = "wasm32-unknown-unknown";
const PACKAGE: &str = "switchyard-web";
const MODULE: &str = "switchyard_web.wasm";
const DEFAULT_PORT: u16 = 8417;

pub fn main(args: &[String], serve_after: bool) -> Result<(), String> {
    let mut port = DEFAULT_PORT;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("--port needs a number")?;
            }
            other => return Err(format!("unknown argument {other:?} (expected --port N)")),
        }
    }
    build()?;
    if serve_after {
        serve(&root().join("web").join("www"), port)?;
    }
    Ok(())
}

/// The wasm-bindgen version Cargo.lock pins; the CLI must be the same.
fn locked_wasm_bindgen() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_string());
        }
    }
    Err("Cargo.lock names no wasm-bindgen".to_string())
}

fn check_cli(version: &str) -> Result<(), String> {
    let install = format!("cargo install wasm-bindgen-cli --version {version} --locked");
    let output = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .map_err(|_| format!("wasm-bindgen is not installed: {install}"))?;
    let found = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if found != format!("wasm-bindgen {version}") {
        return Err(format!(
            "{found} found, the crate uses wasm-bindgen {version}: {install}"
        ));
    }
    Ok(())
}

fn ensure_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        })
        .unwrap_or(false);
    if installed {
        Ok(())
    } else {
        run(Command::new("rustup").args(["target", "add", TARGET]))
    }
}

pub fn build() -> Result<(), String> {
    let version = locked_wasm_bindgen()?;
    check_cli(&version)?;
    ensure_target()?;
    run(cargo().args(["build", "--quiet", "-p", PACKAGE, "--target", TARGET, "--release"]))?;
    let root = root();
    let module = root.join("target").join(TARGET).join("release").join(MODULE);
    let web = root.join("web");
    let page_pkg = web.join("www").join("pkg");
    let node_pkg = web.join("pkg-node");
    for (target, out) in [("web", &page_pkg), ("nodejs", &node_pkg)] {
        run(Command::new("wasm-bindgen")
            .args(["--target", target, "--out-dir"])
            .arg(out)
            .arg(&module))?;
    }
    write_node_package(&node_pkg)?;
    write_examples(&root.join("examples"), &page_pkg.join("examples.js"))?;
    let size = std::fs::metadata(page_pkg.join("switchyard_web_bg.wasm")).map_or(0, |m| m.len());
    eprintln!(
        "built {} ({size} bytes of wasm) and {}",
        page_pkg.display(),
        node_pkg.display()
    );
    Ok(())
}

fn write_node_package(dir: &Path) -> Result<(), String> {
    let manifest = format!(
        r#"{{
  "name": "switchyard-web",
  "version": "{}",
  "description": "The Switchyard route compiler and evaluator (Gateway API, Istio) for Node.js",
  "license": "Apache-2.0",
  "main": "switchyard_web.js",
  "types": "switchyard_web.d.ts",
  "files": ["switchyard_web.js", "switchyard_web.d.ts", "switchyard_web_bg.wasm", "switchyard_web_bg.wasm.d.ts"]
}}
"#,
        env!("CARGO_PKG_VERSION")
    );
    std::fs::write(dir.join("package.json"), manifest).map_err(|e| format!("{}: {e}", dir.display()))
}

/// A JavaScript string literal.
fn js_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Bundles `examples/*/manifests.yaml` (and the folder's `*.test.yaml`) into a module the
/// page imports, so the examples need no fetch.
fn write_examples(examples: &Path, out: &Path) -> Result<(), String> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(examples)
        .map_err(|e| format!("{}: {e}", examples.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("manifests.yaml").is_file())
        .collect();
    // The page opens on the first: the quick start, then the rest by name.
    dirs.sort_by_key(|d| (!d.ends_with("quickstart"), d.clone()));
    let mut js =
        String::from("// Generated by `cargo xtask web-build` from examples/.\nexport const EXAMPLES = [\n");
    for dir in &dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
        let manifests = read(&dir.join("manifests.yaml"))?;
        let mut tests: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".test.yaml"))
            .collect();
        tests.sort();
        let tests = match tests.first() {
            Some(path) => js_string(&read(path)?),
            None => "null".to_string(),
        };
        js.push_str(&format!(
            "  {{ name: {}, manifests: {}, tests: {} }},\n",
            js_string(&name),
            js_string(&manifests),
            tests
        ));
    }
    js.push_str("];\n");
    std::fs::write(out, js).map_err(|e| format!("{}: {e}", out.display()))
}

/// Serves `dir` on 127.0.0.1:`port`, one request at a time, until interrupted.
fn serve(dir: &Path, port: u16) -> Result<(), String> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    eprintln!("playground: http://127.0.0.1:{port}/  (Ctrl-C to stop)");
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                if let Err(e) = answer(dir, stream) {
                    eprintln!("request failed: {e}");
                }
            }
            Err(e) => eprintln!("accept failed: {e}"),
        }
    }
    Ok(())
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn answer(dir: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let relative = Path::new(path.trim_start_matches('/'));
    let safe = relative.components().all(|c| matches!(c, Component::Normal(_)));
    let mut file = dir.join(relative);
    if file.is_dir() {
        file = file.join("index.html");
    }
    let (status, body, kind) = match (method, safe, std::fs::read(&file)) {
        ("GET" | "HEAD", true, Ok(body)) => ("200 OK", body, content_type(&file)),
        ("GET" | "HEAD", _, _) => ("404 Not Found", b"not found\n".to_vec(), "text/plain"),
        _ => ("405 Method Not Allowed", b"GET only\n".to_vec(), "text/plain"),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        stream.write_all(&body)?;
    }
    stream.flush()
}
