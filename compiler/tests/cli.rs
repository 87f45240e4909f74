//! The `switchyard` binary as users run it: exit statuses, diagnostics, outputs, and the
//! promises the help text makes. Every test writes its inputs to its own scratch folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A scratch folder, unique per process and test, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("switchyard-cli-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }

    /// Writes `text` to `name` in the folder; returns its full path as a string.
    fn write(&self, name: &str, text: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    /// The file names in the folder, sorted (dot files included).
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Panics with both streams unless the exit status is `code`.
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            code,
            "expected exit status {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.out(),
            self.stderr
        );
        self
    }
}

fn switchyard(args: &[&str]) -> Run {
    switchyard_with_stdin(args, None)
}

fn switchyard_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchyard binary runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().expect("exited normally, not by a signal"),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The 1-based line of the first line of `text` containing `marker`.
fn line_of(text: &str, marker: &str) -> usize {
    text.lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker:?} not in the text"))
        + 1
}

/// The 1-based line where `needle` (which may span lines) starts in `text`.
fn line_at(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"));
    text[..at].matches('\n').count() + 1
}

/// Asserts that `stderr` has an error line naming `file:line`, and containing each of
/// `parts` (resource, field, message).
fn assert_diagnostic(stderr: &str, file: &str, line: usize, parts: &[&str]) {
    let at = format!("{file}:{line}:");
    let found = stderr
        .lines()
        .find(|l| l.starts_with(&at) && l.contains("error"))
        .unwrap_or_else(|| panic!("no error at {at} in:\n{stderr}"));
    for part in parts {
        assert!(
            found.contains(part),
            "{part:?} missing from the diagnostic {found:?}"
        );
    }
}

/// Fails the test, with the build command, when the plugin module is not built. Never
/// skips: the wasm engine is the default one and must be tested.
fn require_plugin() {
    if std::env::var_os("SWITCHYARD_WASM").is_some() {
        return;
    }
    let exe = Path::new(env!("CARGO_BIN_EXE_switchyard"));
    let found = exe.ancestors().skip(1).take(3).any(|dir| {
        dir.join("switchyard_plugin.wasm").is_file()
            || dir
                .join("wasm32-wasip1")
                .join("wasm")
                .join("switchyard_plugin.wasm")
                .is_file()
    });
    assert!(
        found,
        "the wasm plugin is not built, so the default engine of `switchyard test` cannot be \
         tested; build it first with `cargo build -p switchyard-plugin --target wasm32-wasip1 \
         --profile wasm`"
    );
}

// ---------------------------------------------------------------------------------------
// Manifests
// ---------------------------------------------------------------------------------------

const GATEWAY: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: switchyard
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
  - {name: alt, port: 8080, protocol: HTTP, hostname: '*.example.com'}
";

const SERVICES: &str = "\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: infra}
spec:
  ports: [{port: 8080}, {name: admin, port: 9090}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: infra}
spec:
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: shared, namespace: apps}
spec:
  ports: [{port: 80}]
";

const ROUTES: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
    backendRefs: [{name: web, port: 8080}]
  - matches:
    - path: {type: Exact, value: /admin}
    - headers: [{name: x-admin, value: 'yes'}]
    backendRefs: [{name: web, port: 9090}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  hostnames: [api.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /v1}
    backendRefs: [{name: api, port: 8080, weight: 3}, {name: web, port: 8080, weight: 1}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: same-match-a, namespace: apps}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: http}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /tie}}]
    backendRefs: [{name: shared, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: same-match-b, namespace: apps}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: http}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /tie}}]
    backendRefs: [{name: web, namespace: infra, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-apps, namespace: infra}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
  to: [{group: '', kind: Service, name: web}]
---
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {team: a}}
";

/// Every document of the valid manifest set, one string each.
fn documents() -> Vec<String> {
    [GATEWAY, SERVICES, ROUTES]
        .iter()
        .flat_map(|text| text.split("---\n"))
        .map(str::to_string)
        .collect()
}

/// The valid manifest set as one file.
fn all_manifests() -> String {
    documents().join("---\n")
}

/// A small deterministic generator for shuffles (no `rand` in the dev-dependencies).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % bound as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.next(i + 1);
            items.swap(i, j);
        }
    }
}

fn compile_file(dir: &Scratch, manifests: &[String], output: &str) -> Vec<u8> {
    let mut args: Vec<&str> = vec!["compile"];
    for m in manifests {
        args.extend(["-f", m.as_str()]);
    }
    let out = dir.path(output);
    args.extend(["-o", out.as_str()]);
    switchyard(&args).expect_code(0);
    std::fs::read(&out).unwrap()
}

// ---------------------------------------------------------------------------------------
// compile
// ---------------------------------------------------------------------------------------

#[test]
fn compile_output_does_not_depend_on_file_or_document_order() {
    let dir = Scratch::new("order");
    let reference = {
        let file = dir.write("all.yaml", all_manifests());
        compile_file(&dir, &[file], "reference.swb")
    };
    assert!(!reference.is_empty());
    let mut rng = Lcg(0x5eed);
    for round in 0..8 {
        let mut docs = documents();
        rng.shuffle(&mut docs);
        // Split the shuffled documents into 1..=4 files, and pass the files in a shuffled order.
        let files = 1 + rng.next(4);
        let mut texts = vec![String::new(); files];
        for (i, doc) in docs.iter().enumerate() {
            let text = &mut texts[i % files];
            if !text.is_empty() {
                text.push_str("---\n");
            }
            text.push_str(doc);
        }
        let mut paths: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| dir.write(&format!("round{round}/part{i}.yaml"), t))
            .collect();
        rng.shuffle(&mut paths);
        let bytes = compile_file(&dir, &paths, &format!("round{round}.swb"));
        assert!(
            bytes == reference,
            "round {round}: the program differs when the inputs are {paths:?}"
        );
        // A folder gives the same program as its files.
        let folder = dir.path(&format!("round{round}"));
        assert!(compile_file(&dir, &[folder], &format!("round{round}-dir.swb")) == reference);
    }
}

#[test]
fn compile_dash_output_writes_the_program_to_stdout() {
    let dir = Scratch::new("stdout");
    let file = dir.write("m.yaml", all_manifests());
    let expected = compile_file(&dir, std::slice::from_ref(&file), "out.swb");
    let run = switchyard(&["compile", "-f", &file, "-o", "-"]);
    run.expect_code(0);
    assert!(
        run.stdout == expected,
        "stdout is not the program compile -o FILE writes"
    );
    // Nothing but the inputs and the file written above is in the folder: no file named "-".
    assert_eq!(dir.listing(), ["m.yaml", "out.swb"]);
}

/// `--compress` writes the compressed container, deterministically, and every command
/// that reads a program reads it as the program inside.
#[test]
fn compile_compress_writes_a_container_explain_reads_as_the_same_program() {
    let dir = Scratch::new("compress");
    let file = dir.write("m.yaml", all_manifests());
    let plain = compile_file(&dir, std::slice::from_ref(&file), "plain.swb");
    let packed = switchyard(&["compile", "--compress", "-f", &file, "-o", "-"]);
    packed.expect_code(0);
    assert!(packed.stdout.starts_with(b"SWYDRTZ\0"));
    assert!(packed.stdout.len() < plain.len());
    let again = switchyard(&["compile", "--compress", "-f", &file, "-o", "-"]);
    assert!(
        again.stdout == packed.stdout,
        "compressed output differs between runs"
    );
    let packed_path = dir.write("packed.swz", &packed.stdout);
    let plain_path = dir.path("plain.swb");
    let listing = |path: &str| {
        let run = switchyard(&["explain", path]);
        run.expect_code(0);
        run.out()
    };
    assert_eq!(listing(&packed_path), listing(&plain_path));
}

#[test]
fn compile_dash_input_reads_manifests_from_stdin() {
    let dir = Scratch::new("stdin");
    let file = dir.write("m.yaml", all_manifests());
    let expected = compile_file(&dir, &[file], "out.swb");
    let run = switchyard_with_stdin(
        &["compile", "-f", "-", "-o", "-"],
        Some(all_manifests().as_bytes()),
    );
    run.expect_code(0);
    assert!(run.stdout == expected);
    // Stdin may be combined with files: the gateway from a file, the rest piped.
    let gateway = dir.write("gw.yaml", GATEWAY);
    let rest = [SERVICES, ROUTES].join("---\n");
    let run = switchyard_with_stdin(
        &["compile", "-f", &gateway, "-f", "-", "-o", "-"],
        Some(rest.as_bytes()),
    );
    run.expect_code(0);
    assert!(run.stdout == expected);
}

/// One broken input: the text, the marker on the line the error is reported at, and
/// what the diagnostic must name besides the file and line.
struct Broken {
    name: &'static str,
    text: String,
    marker: &'static str,
    parts: Vec<&'static str>,
}

fn route_with(rule: &str) -> String {
    format!(
        "\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: broken, namespace: infra}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
{rule}"
    )
}

fn broken_inputs() -> Vec<Broken> {
    vec![
        Broken {
            name: "bad_yaml",
            text: "apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: infra\nspec: {}\n".into(),
            marker: "spec: {}",
            parts: vec!["invalid YAML"],
        },
        Broken {
            name: "unknown_field",
            text: route_with("  - backendRefs: [{name: web, port: 8080}]\n  rulez: []\n"),
            marker: "rulez:",
            parts: vec!["HTTPRoute infra/broken", "spec.rulez", "unknown field"],
        },
        Broken {
            name: "bad_path",
            text: route_with(
                "  - matches:\n    - path: {type: PathPrefix, value: abc}\n    backendRefs: [{name: web, port: 8080}]\n",
            ),
            marker: "value: abc",
            parts: vec![
                "HTTPRoute infra/broken",
                "spec.rules[0].matches[0].path",
                "\"abc\"",
            ],
        },
        Broken {
            name: "invalid_path_regex",
            text: route_with(
                "  - matches:\n    - path: {type: RegularExpression, value: '/a(b'}\n    backendRefs: [{name: web, port: 8080}]\n",
            ),
            marker: "value: '/a(b'",
            parts: vec![
                "HTTPRoute infra/broken",
                "spec.rules[0].matches[0].path",
                "invalid regular expression",
            ],
        },
        Broken {
            name: "invalid_header_regex",
            text: route_with(
                "  - backendRefs: [{name: web, port: 8080}]\n  - matches:\n    - path: {type: PathPrefix, value: /x}\n      headers:\n      - {type: RegularExpression, name: x-v, value: '[z-a]'}\n    backendRefs: [{name: web, port: 8080}]\n",
            ),
            marker: "value: '[z-a]'",
            parts: vec![
                "HTTPRoute infra/broken",
                "spec.rules[1].matches[0].headers[0]",
                "invalid regular expression",
            ],
        },
        Broken {
            name: "service_backend_without_port",
            text: route_with("  - backendRefs:\n    - {name: web}\n"),
            marker: "- {name: web}",
            parts: vec!["HTTPRoute infra/broken", "spec.rules[0].backendRefs[0]", "port"],
        },
    ]
}

#[test]
fn compile_invalid_input_exits_2_with_located_diagnostic_and_writes_nothing() {
    for broken in broken_inputs() {
        let dir = Scratch::new(&format!("invalid-{}", broken.name));
        let good = dir.write("good.yaml", all_manifests());
        let bad = dir.write("broken.yaml", &broken.text);
        let line = line_of(&broken.text, broken.marker);

        // No output file before: none after.
        let out = dir.path("out.swb");
        let run = switchyard(&["compile", "-f", &good, "-f", &bad, "-o", &out]);
        run.expect_code(2);
        assert_diagnostic(&run.stderr, &bad, line, &broken.parts);
        assert!(
            !Path::new(&out).exists(),
            "{}: an output was written",
            broken.name
        );

        // An output file from an earlier run is left exactly as it was.
        let old = dir.write("old.swb", b"previous program bytes");
        let run = switchyard(&["compile", "-f", &good, "-f", &bad, "-o", &old]);
        run.expect_code(2);
        assert_eq!(
            std::fs::read(&old).unwrap(),
            b"previous program bytes",
            "{}: the old output was touched",
            broken.name
        );
        // No temporary file is left behind either.
        assert_eq!(
            dir.listing(),
            ["broken.yaml", "good.yaml", "old.swb"],
            "{}",
            broken.name
        );

        // Nothing on stdout for `-o -`.
        let run = switchyard(&["compile", "-f", &good, "-f", &bad, "-o", "-"]);
        run.expect_code(2);
        assert!(run.stdout.is_empty(), "{}: bytes on stdout", broken.name);
    }
}

#[test]
fn compile_duplicate_resource_exits_2_naming_both_places() {
    let dir = Scratch::new("duplicate");
    let first = dir.write("a.yaml", all_manifests());
    let copy = route_with("  - backendRefs: [{name: web, port: 8080}]\n").replace("broken", "web");
    let second = dir.write("b.yaml", format!("# a copy\n{copy}"));
    let out = dir.path("out.swb");
    let run = switchyard(&["compile", "-f", &first, "-f", &second, "-o", &out]);
    run.expect_code(2);
    let first_line = line_at(
        &all_manifests(),
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: infra}",
    );
    assert_diagnostic(
        &run.stderr,
        &second,
        2,
        &[
            "HTTPRoute infra/web",
            "defined twice",
            &format!("first at {first}:{first_line}"),
        ],
    );
    assert!(!Path::new(&out).exists());
}

#[test]
fn compile_reports_every_broken_file_in_one_run() {
    // YAML syntax errors are reported for every file first (resources are not read
    // while any file fails to parse); then every invalid resource in every file.
    let dir = Scratch::new("several");
    // (text, the line its error is reported at)
    let syntax: Vec<(String, usize)> = [("a: [\n", 2), ("x: 1\nx: 2\n", 2)]
        .iter()
        .enumerate()
        .map(|(i, (text, line))| (dir.write(&format!("syntax{i}.yaml"), text), *line))
        .collect();
    let good = dir.write("good.yaml", all_manifests());
    let run = switchyard(&["check", "-f", &syntax[0].0, "-f", &good, "-f", &syntax[1].0]);
    run.expect_code(2);
    for (file, line) in &syntax {
        assert_diagnostic(&run.stderr, file, *line, &[]);
    }

    let mut args = vec!["compile".to_string()];
    let mut expected = Vec::new();
    for (i, broken) in broken_inputs()
        .iter()
        .enumerate()
        .filter(|(_, b)| b.name != "bad_yaml")
    {
        // Each broken route gets its own name so only the intended error is raised.
        let text = broken.text.replace("name: broken", &format!("name: broken{i}"));
        let path = dir.write(&format!("{}.yaml", broken.name), &text);
        expected.push((path.clone(), line_of(&text, broken.marker)));
        args.extend(["-f".to_string(), path]);
    }
    args.extend(["-o".to_string(), dir.path("out.swb")]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = switchyard(&args);
    run.expect_code(2);
    assert_eq!(expected.len(), 5);
    for (file, line) in expected {
        assert_diagnostic(&run.stderr, &file, line, &[]);
    }
}

#[test]
fn compile_skips_unknown_kinds_with_a_note() {
    let dir = Scratch::new("unknown-kind");
    let deployment = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: infra}
spec: {replicas: 1}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: infra}
spec: {}
";
    let good = dir.write("m.yaml", all_manifests());
    let extra = dir.write("extra.yaml", deployment);
    let without = compile_file(&dir, std::slice::from_ref(&good), "without.swb");
    let out = dir.path("with.swb");
    let run = switchyard(&["compile", "-f", &good, "-f", &extra, "-o", &out]);
    run.expect_code(0);
    let note = run
        .stderr
        .lines()
        .find(|l| l.contains("Deployment infra/web"))
        .unwrap_or_else(|| panic!("no note about the Deployment:\n{}", run.stderr));
    assert!(note.starts_with(&format!("{extra}:1:")), "{note}");
    assert!(note.contains("note") && note.contains("skipped"), "{note}");
    assert!(run.stderr.contains("Sidecar infra/default"), "{}", run.stderr);
    assert!(
        std::fs::read(&out).unwrap() == without,
        "skipped kinds changed the program"
    );
    // -q silences notes.
    let run = switchyard(&["compile", "-q", "-f", &good, "-f", &extra, "-o", &out]);
    run.expect_code(0);
    assert!(!run.stderr.contains("Deployment"), "{}", run.stderr);
}

#[test]
fn compile_with_several_gateways_needs_gateway_flag() {
    let dir = Scratch::new("gateways");
    let second = GATEWAY
        .replace("name: gw, namespace: infra", "name: edge, namespace: other")
        .replace(
            "  - {name: alt, port: 8080, protocol: HTTP, hostname: '*.example.com'}\n",
            "",
        );
    let m = dir.write("m.yaml", format!("{}---\n{second}", all_manifests()));
    let out = dir.path("out.swb");
    let run = switchyard(&["compile", "-f", &m, "-o", &out]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("infra/gw")
            && run.stderr.contains("other/edge")
            && run.stderr.contains("--gateway"),
        "the error must name both Gateways and the flag:\n{}",
        run.stderr
    );
    assert!(!Path::new(&out).exists());

    switchyard(&["compile", "-f", &m, "--gateway", "infra/gw", "-o", &out]).expect_code(0);
    let listing = switchyard(&["explain", &out]);
    listing.expect_code(0);
    assert!(listing.out().contains("gateway infra/gw"), "{}", listing.out());
    switchyard(&["compile", "-f", &m, "--gateway=other/edge", "-o", &out]).expect_code(0);
    assert!(
        switchyard(&["explain", &out])
            .out()
            .contains("gateway other/edge")
    );

    // A Gateway that is not in the inputs is an error naming the ones that are.
    let run = switchyard(&["compile", "-f", &m, "--gateway", "infra/nope", "-o", &out]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("infra/nope") && run.stderr.contains("infra/gw"),
        "{}",
        run.stderr
    );
    // A name without namespace means namespace default.
    let run = switchyard(&["compile", "-f", &m, "--gateway", "gw", "-o", &out]);
    run.expect_code(2);
    assert!(run.stderr.contains("default/gw"), "{}", run.stderr);
}

#[test]
fn compile_with_a_single_gateway_needs_no_gateway_flag() {
    let dir = Scratch::new("one-gateway");
    let m = dir.write("m.yaml", all_manifests());
    let implicit = compile_file(&dir, std::slice::from_ref(&m), "implicit.swb");
    let out = dir.path("explicit.swb");
    switchyard(&["compile", "-f", &m, "--gateway", "infra/gw", "-o", &out]).expect_code(0);
    assert!(std::fs::read(&out).unwrap() == implicit);
    // No Gateway at all is an error.
    let no_gateway = dir.write("services.yaml", SERVICES);
    let run = switchyard(&["compile", "-f", &no_gateway, "-o", &out]);
    run.expect_code(2);
    assert!(run.stderr.contains("no Gateway"), "{}", run.stderr);
}

#[test]
fn compile_without_output_or_inputs_is_a_usage_error() {
    let dir = Scratch::new("usage");
    let m = dir.write("m.yaml", all_manifests());
    let run = switchyard(&["compile", "-f", &m]);
    run.expect_code(2);
    assert!(run.stderr.contains("-o"), "{}", run.stderr);
    let run = switchyard(&["compile", "-o", &dir.path("out.swb")]);
    run.expect_code(2);
    assert!(run.stderr.contains("-f"), "{}", run.stderr);
    let run = switchyard(&["compile", "-f", &dir.path("missing.yaml"), "-o", "-"]);
    run.expect_code(2);
    assert!(run.stderr.contains("missing.yaml"), "{}", run.stderr);
    // An output path that cannot be written is an error too, and leaves nothing behind.
    let unwritable = dir.path("no-such-dir/out.swb");
    let run = switchyard(&["compile", "-f", &m, "-o", &unwritable]);
    run.expect_code(2);
    assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
    assert_eq!(dir.listing(), ["m.yaml"]);
}

#[test]
fn compile_warns_about_routes_that_do_not_attach_and_refs_that_do_not_resolve() {
    let dir = Scratch::new("warnings");
    let extra = "\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: lost, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: nope}]
  rules:
  - backendRefs: [{name: web, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: dangling, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /dangling}}]
    backendRefs: [{name: ghost, port: 8080}]
";
    let m = dir.write("m.yaml", all_manifests());
    let e = dir.write("extra.yaml", extra);
    let out = dir.path("out.swb");
    let run = switchyard(&["compile", "-f", &m, "-f", &e, "-o", &out]);
    run.expect_code(0);
    let warning = |resource: &str| {
        run.stderr
            .lines()
            .find(|l| l.contains("warning") && l.contains(resource))
            .unwrap_or_else(|| panic!("no warning about {resource}:\n{}", run.stderr))
            .to_string()
    };
    let lost = warning("HTTPRoute infra/lost");
    assert!(lost.starts_with(&format!("{e}:1:")), "{lost}");
    assert!(
        lost.contains("spec.parentRefs[0]") && lost.contains("NoMatchingParent"),
        "{lost}"
    );
    let dangling = warning("HTTPRoute infra/dangling");
    assert!(dangling.contains("spec.rules[0].backendRefs[0]"), "{dangling}");
    assert!(
        dangling.contains("BackendNotFound") && dangling.contains("500"),
        "{dangling}"
    );
    assert!(Path::new(&out).exists(), "warnings do not stop the output");
    // -q keeps warnings off stderr.
    let run = switchyard(&["compile", "-q", "-f", &m, "-f", &e, "-o", &out]);
    run.expect_code(0);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    // The dangling backend is in the program as an unresolved share.
    let run = switchyard(&["explain", &out]);
    assert!(
        run.out()
            .contains("<unresolved: 500>*1  [HTTPRoute infra/dangling rule 0 match 0]"),
        "{}",
        run.out()
    );
}

// ---------------------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------------------

#[test]
fn check_exits_0_on_valid_input_and_2_on_invalid_without_writing() {
    let dir = Scratch::new("check");
    let good = dir.write("good.yaml", all_manifests());
    let run = switchyard(&["check", "-f", &good]);
    run.expect_code(0);
    assert!(run.out().starts_with("ok: gateway infra/gw"), "{}", run.out());
    for broken in broken_inputs() {
        let bad = dir.write("bad.yaml", &broken.text);
        let run = switchyard(&["check", "-f", &good, "-f", &bad]);
        run.expect_code(2);
        assert_diagnostic(
            &run.stderr,
            &bad,
            line_of(&broken.text, broken.marker),
            &broken.parts,
        );
        assert!(!run.out().contains("ok:"), "{}", run.out());
    }
    assert_eq!(dir.listing(), ["bad.yaml", "good.yaml"]);
}

// ---------------------------------------------------------------------------------------
// explain
// ---------------------------------------------------------------------------------------

#[test]
fn explain_lists_entries_with_their_source() {
    let dir = Scratch::new("explain");
    let m = dir.write("m.yaml", all_manifests());
    let program = compile_file(&dir, std::slice::from_ref(&m), "p.swb");
    let run = switchyard(&["explain", &dir.path("p.swb")]);
    run.expect_code(0);
    let listing = run.out();
    for source in [
        "[HTTPRoute infra/web rule 0 match 0]",
        "[HTTPRoute infra/web rule 1 match 0]",
        "[HTTPRoute infra/web rule 1 match 1]",
        "[HTTPRoute infra/api rule 0 match 0]",
        "[HTTPRoute apps/same-match-a rule 0 match 0]",
    ] {
        assert!(listing.contains(source), "{source} missing from:\n{listing}");
    }
    assert!(listing.starts_with("program: gateway infra/gw"), "{listing}");
    assert!(
        listing.contains("listener :80") && listing.contains("listener :8080"),
        "{listing}"
    );
    // Evaluation order within a vhost: the Exact /admin entry before the prefix /tie ones,
    // and the namespace/name tie-break puts same-match-a before same-match-b.
    let position = |needle: &str| {
        listing
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} missing from:\n{listing}"))
    };
    assert!(
        position("path = /admin") < position("path prefix /tie"),
        "{listing}"
    );
    assert!(
        position("apps/same-match-a rule") < position("apps/same-match-b rule"),
        "{listing}"
    );
    // The same listing from the manifests directly.
    let direct = switchyard(&["explain", "-f", &m]);
    direct.expect_code(0);
    assert_eq!(direct.out(), listing);
    assert!(program.len() > 16);
}

#[test]
fn explain_refuses_a_corrupted_program_with_exit_2() {
    let dir = Scratch::new("corrupt");
    let m = dir.write("m.yaml", all_manifests());
    let program = compile_file(&dir, &[m], "p.swb");
    let mut variants: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", b"this is not a program".to_vec()),
        ("truncated", program[..program.len() / 2].to_vec()),
    ];
    // A flipped byte in the middle and at the end (the checksum or a table must notice).
    for at in [program.len() / 2, program.len() - 1, 8] {
        let mut flipped = program.clone();
        flipped[at] ^= 0x5a;
        variants.push(("flipped", flipped));
    }
    for (what, bytes) in variants {
        let path = dir.write("bad.swb", &bytes);
        let run = switchyard(&["explain", &path]);
        run.expect_code(2);
        assert!(
            run.stderr.contains("not a valid program"),
            "{what}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{what}: printed {}", run.out());
    }
    let run = switchyard(&["explain", &dir.path("missing.swb")]);
    run.expect_code(2);
    assert!(run.stderr.contains("missing.swb"), "{}", run.stderr);
    // Both a program and manifests, or neither, is a usage error.
    switchyard(&["explain"]).expect_code(2);
    switchyard(&["explain", &dir.path("p.swb"), "-f", &dir.path("m.yaml")]).expect_code(2);
}

// ---------------------------------------------------------------------------------------
// test
// ---------------------------------------------------------------------------------------

const PASSING_CASES: &str = "\
target:
  gateway: infra/gw
cases:
- name: root goes to web
  request: {path: /}
  expect: {status: 200, backend: infra/web, port: 8080}
- name: exact admin path goes to the admin port
  request: {path: /admin}
  expect: {status: 200, backend: infra/web, port: 9090}
- name: api host falls back to the wildcard listener's route
  request: {host: api.example.com, port: 8080, path: /users}
  expect: {status: 200, backend: infra/web, port: 8080}
- name: other port without host is 404
  request: {port: 8080, path: /}
  expect: {status: 404, backend: null}
- name: weighted split
  request: {host: api.example.com, path: /v1}
  repeat: 400
  expect:
    backends: {infra/api: 0.75, infra/web: 0.25}
    tolerance: 0.1
";

const FAILING_CASE: &str = "\
- name: wrong expectation
  request: {path: /tie}
  expect: {status: 200, backend: apps/nothing-here}
";

fn test_run(dir: &Scratch, test_text: &str, extra: &[&str]) -> Run {
    let m = dir.write("m.yaml", all_manifests());
    let t = dir.write("routes.test.yaml", test_text);
    let mut args = vec!["test", "-f", m.as_str()];
    args.extend_from_slice(extra);
    args.push(t.as_str());
    switchyard(&args)
}

fn closing_line(run: &Run) -> String {
    run.out().lines().last().unwrap_or_default().to_string()
}

#[test]
fn test_exits_0_when_every_case_passes() {
    let dir = Scratch::new("test-pass");
    let run = test_run(&dir, PASSING_CASES, &["--engine", "native"]);
    run.expect_code(0);
    assert_eq!(closing_line(&run), "5 passed, 0 failed");
    assert!(!run.out().contains("FAIL"), "{}", run.out());
    // -v prints a line per case.
    let run = test_run(&dir, PASSING_CASES, &["--engine", "native", "-v"]);
    run.expect_code(0);
    assert_eq!(
        run.out().lines().filter(|l| l.starts_with("ok ")).count(),
        5,
        "{}",
        run.out()
    );
}

#[test]
fn test_exits_1_when_a_case_fails_naming_field_expected_and_actual() {
    let dir = Scratch::new("test-fail");
    let run = test_run(
        &dir,
        &format!("{PASSING_CASES}{FAILING_CASE}"),
        &["--engine", "native"],
    );
    run.expect_code(1);
    let out = run.out();
    let fail = out
        .lines()
        .find(|l| l.starts_with("FAIL"))
        .unwrap_or_else(|| panic!("no FAIL line:\n{out}"));
    assert!(fail.contains("wrong expectation"), "{fail}");
    assert!(
        fail.contains(&format!(
            "routes.test.yaml:{}",
            line_of(&format!("{PASSING_CASES}{FAILING_CASE}"), "wrong expectation")
        )),
        "{fail}"
    );
    assert!(
        out.contains("backend: expected apps/nothing-here, got apps/shared"),
        "{out}"
    );
    assert_eq!(closing_line(&run), "5 passed, 1 failed");
    // A failing status names the field, expected and actual too.
    let status =
        "target: {gateway: infra/gw}\ncases:\n- name: s\n  request: {path: /}\n  expect: {status: 404}\n";
    let run = test_run(&dir, status, &["--engine", "native"]);
    run.expect_code(1);
    assert!(
        run.out().contains("status: expected 404, got 200"),
        "{}",
        run.out()
    );
    assert_eq!(closing_line(&run), "0 passed, 1 failed");
}

#[test]
fn test_exits_2_on_an_invalid_test_file() {
    let dir = Scratch::new("test-invalid");
    let unknown_key = "\
target: {gateway: infra/gw}
cases:
- name: fine
  request: {path: /}
  expect: {status: 200}
- name: typo
  request: {path: /}
  expct: {status: 200}
";
    let run = test_run(&dir, unknown_key, &["--engine", "native"]);
    run.expect_code(2);
    let file = dir.path("routes.test.yaml");
    assert_diagnostic(
        &run.stderr,
        &file,
        line_of(unknown_key, "expct"),
        &["cases[1].expct", "unknown field"],
    );
    assert!(run.stdout.is_empty(), "{}", run.out());

    let contradiction = "\
target: {gateway: infra/gw}
cases:
- name: contradiction
  request: {path: /}
  expect: {status: 404, backend: infra/web}
";
    let run = test_run(&dir, contradiction, &["--engine", "native"]);
    run.expect_code(2);
    assert_diagnostic(
        &run.stderr,
        &file,
        line_of(contradiction, "expect:"),
        &["contradiction", "cases[0].expect"],
    );

    let duplicate = "\
target: {gateway: infra/gw}
cases:
- name: same
  request: {path: /}
  expect: {status: 200}
- name: same
  request: {path: /admin}
  expect: {status: 200}
";
    let run = test_run(&dir, duplicate, &["--engine", "native"]);
    run.expect_code(2);
    let second = duplicate
        .lines()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|l| l.contains("name: same"))
        .unwrap()
        + 1;
    assert_diagnostic(&run.stderr, &file, second, &["\"same\"", "line 3"]);

    // A target Gateway that is not in the manifests is invalid too.
    let missing = "target: {gateway: infra/none}\ncases:\n- name: x\n  expect: {status: 404}\n";
    let run = test_run(&dir, missing, &["--engine", "native"]);
    run.expect_code(2);
    assert!(run.stderr.contains("infra/none"), "{}", run.stderr);
}

#[test]
fn test_exits_2_on_invalid_manifests() {
    let dir = Scratch::new("test-invalid-manifests");
    let broken = &broken_inputs()[2];
    let bad = dir.write("bad.yaml", &broken.text);
    let m = dir.write("m.yaml", all_manifests());
    let t = dir.write("t.test.yaml", PASSING_CASES);
    let run = switchyard(&["test", "--engine", "native", "-f", &m, "-f", &bad, &t]);
    run.expect_code(2);
    assert_diagnostic(
        &run.stderr,
        &bad,
        line_of(&broken.text, broken.marker),
        &broken.parts,
    );
}

#[test]
fn test_json_format_is_valid_json_with_counts() {
    let dir = Scratch::new("test-json");
    let run = test_run(
        &dir,
        &format!("{PASSING_CASES}{FAILING_CASE}"),
        &["--engine", "native", "--format", "json"],
    );
    run.expect_code(1);
    let report: serde_json::Value =
        serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.out()));
    assert_eq!(report["passed"], 5);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["engine"], "native");
    let cases = report["cases"].as_array().expect("a cases array");
    assert_eq!(cases.len(), 6);
    let failed: Vec<&serde_json::Value> = cases.iter().filter(|c| c["passed"] == false).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], "wrong expectation");
    assert!(
        failed[0]["failures"][0]
            .as_str()
            .unwrap()
            .starts_with("backend: expected apps/nothing-here"),
        "{}",
        failed[0]
    );
    // Unknown formats and engines are usage errors.
    test_run(&dir, PASSING_CASES, &["--format", "yaml"]).expect_code(2);
    test_run(&dir, PASSING_CASES, &["--engine", "quantum"]).expect_code(2);
}

#[test]
fn test_native_and_default_wasm_engines_agree() {
    require_plugin();
    let dir = Scratch::new("engines");
    let text = format!("{PASSING_CASES}{FAILING_CASE}");
    let native = test_run(&dir, &text, &["--engine", "native", "--format", "json"]);
    native.expect_code(1);
    // No --engine: the wasm plugin, found beside the build output.
    let wasm = test_run(&dir, &text, &["--format", "json"]);
    wasm.expect_code(1);
    let native: serde_json::Value = serde_json::from_slice(&native.stdout).unwrap();
    let wasm: serde_json::Value = serde_json::from_slice(&wasm.stdout).unwrap();
    assert_eq!(wasm["engine"], "wasm");
    assert_eq!(
        (&native["passed"], &native["failed"]),
        (&wasm["passed"], &wasm["failed"])
    );
    let summary = |report: &serde_json::Value| -> Vec<(String, bool, String)> {
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                // Weighted outcomes carry counts that depend on each engine's random
                // numbers; single requests must be described identically.
                let outcome = if c["outcome"].as_str().unwrap().contains(" x") {
                    String::new()
                } else {
                    c["outcome"].as_str().unwrap().to_string()
                };
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["passed"].as_bool().unwrap(),
                    format!("{}{outcome}", c["failures"]),
                )
            })
            .collect()
    };
    assert_eq!(summary(&native), summary(&wasm));
    // The text report agrees too.
    let wasm_text = test_run(&dir, &text, &[]);
    wasm_text.expect_code(1);
    assert_eq!(closing_line(&wasm_text), "5 passed, 1 failed");
}

#[test]
fn test_wasm_engine_with_a_missing_module_is_a_clear_error() {
    let dir = Scratch::new("no-wasm");
    let missing = dir.path("nope.wasm");
    let run = test_run(&dir, PASSING_CASES, &["--wasm", &missing]);
    run.expect_code(2);
    assert!(run.stderr.contains("nope.wasm"), "{}", run.stderr);
    let not_wasm = dir.write("fake.wasm", b"not a module");
    let run = test_run(&dir, PASSING_CASES, &["--wasm", &not_wasm]);
    run.expect_code(2);
    assert!(run.stderr.contains("fake.wasm"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// help and usage
// ---------------------------------------------------------------------------------------

#[test]
fn help_works_for_every_command() {
    for command in ["compile", "check", "explain", "test"] {
        for args in [
            vec![command, "--help"],
            vec![command, "-h"],
            vec!["help", command],
        ] {
            let run = switchyard(&args);
            run.expect_code(0);
            assert!(
                run.out().starts_with(&format!("switchyard {command}:")),
                "{args:?} printed:\n{}",
                run.out()
            );
        }
    }
    for args in [vec!["help"], vec!["--help"], vec!["-h"]] {
        let run = switchyard(&args);
        run.expect_code(0);
        assert!(run.out().contains("Usage:"), "{args:?}: {}", run.out());
    }
    // The documented options appear in the help text.
    let compile = switchyard(&["compile", "--help"]).out();
    for option in [
        "-f",
        "--gateway",
        "-o",
        "--cluster-template",
        "--cluster-domain",
        "--routing-header",
    ] {
        assert!(compile.contains(option), "{option} missing from compile --help");
    }
    let test = switchyard(&["test", "--help"]).out();
    for option in ["--engine", "--wasm", "--format", "-v", "N passed, N failed"] {
        assert!(test.contains(option), "{option} missing from test --help");
    }
}

#[test]
fn unknown_command_or_option_exits_2() {
    let run = switchyard(&["frobnicate"]);
    run.expect_code(2);
    assert!(run.stderr.contains("unknown command"), "{}", run.stderr);
    for command in ["compile", "check", "explain", "test"] {
        let run = switchyard(&[command, "--no-such-option"]);
        run.expect_code(2);
        assert!(
            run.stderr.contains("--no-such-option"),
            "{command}: {}",
            run.stderr
        );
    }
    // A flag that needs a value, given none.
    let run = switchyard(&["compile", "-f"]);
    run.expect_code(2);
    assert!(run.stderr.contains("needs a value"), "{}", run.stderr);
    // No command at all.
    let run = switchyard(&[]);
    run.expect_code(2);
    assert!(run.out().contains("Usage:"));
}

// ---------------------------------------------------------------------------------------
// cluster names
// ---------------------------------------------------------------------------------------

#[test]
fn cluster_template_changes_cluster_names() {
    let dir = Scratch::new("template");
    let m = dir.write("m.yaml", all_manifests());
    let default = switchyard(&["explain", "-f", &m]);
    default.expect_code(0);
    assert!(
        default
            .out()
            .contains("outbound|9090||web.infra.svc.cluster.local*1"),
        "{}",
        default.out()
    );
    let templated = switchyard(&[
        "explain",
        "-f",
        &m,
        "--cluster-template",
        "{namespace}-{name}-{port}",
    ]);
    templated.expect_code(0);
    let listing = templated.out();
    assert!(listing.contains("infra-web-9090*1"), "{listing}");
    assert!(listing.contains("infra-api-8080*3"), "{listing}");
    assert!(listing.contains("apps-shared-80*1"), "{listing}");
    assert!(!listing.contains("outbound|"), "{listing}");
    // The compiled program carries the same names.
    let out = dir.path("t.swb");
    switchyard(&[
        "compile",
        "-f",
        &m,
        "--cluster-template",
        "{namespace}-{name}-{port}",
        "-o",
        &out,
    ])
    .expect_code(0);
    assert!(switchyard(&["explain", &out]).out().contains("infra-web-9090*1"));
    // --cluster-domain and --routing-header reach the program too.
    let run = switchyard(&[
        "explain",
        "-f",
        &m,
        "--cluster-domain",
        "corp.internal",
        "--routing-header",
        "X-Route",
    ]);
    run.expect_code(0);
    assert!(
        run.out().contains("outbound|8080||api.infra.svc.corp.internal"),
        "{}",
        run.out()
    );
    assert!(run.out().contains("routing header: x-route"), "{}", run.out());
    // Route tests can check the cluster name the template produced.
    let t = "\
target: {gateway: infra/gw}
cases:
- name: templated cluster
  request: {path: /admin}
  expect: {status: 200, cluster: infra-web-9090}
";
    let run = test_run(
        &dir,
        t,
        &[
            "--engine",
            "native",
            "--cluster-template",
            "{namespace}-{name}-{port}",
        ],
    );
    run.expect_code(0);
}

#[test]
fn cluster_template_without_port_exits_2() {
    let dir = Scratch::new("template-bad");
    let m = dir.write("m.yaml", all_manifests());
    let out = dir.path("out.swb");
    for (template, needle) in [
        ("{namespace}-{name}", "{port}"),
        ("{name}-{port}", "{namespace}"),
        ("{namespace}-{name}-{port}-{zone}", "unknown placeholder"),
    ] {
        let run = switchyard(&["compile", "-f", &m, "--cluster-template", template, "-o", &out]);
        run.expect_code(2);
        assert!(run.stderr.contains(needle), "{template}: {}", run.stderr);
        assert!(!Path::new(&out).exists());
        switchyard(&["check", "-f", &m, "--cluster-template", template]).expect_code(2);
        switchyard(&["explain", "-f", &m, "--cluster-template", template]).expect_code(2);
    }
}

#[test]
fn gateway_and_mesh_targets_exclude_each_other() {
    let dir = Scratch::new("targets");
    let m = dir.write("m.yaml", all_manifests());
    let out = dir.path("out.swb");
    for command in ["compile", "check", "explain"] {
        let mut args = vec![command, "-f", &m, "--gateway", "infra/gw", "--mesh", "apps"];
        if command == "compile" {
            args.extend(["-o", &out]);
        }
        let run = switchyard(&args);
        run.expect_code(2);
        assert!(
            run.stderr.contains("choose different targets"),
            "{command}: {}",
            run.stderr
        );
    }
    assert!(!Path::new(&out).exists());
    assert!(switchyard(&["compile", "--help"]).out().contains("--mesh"));
}
