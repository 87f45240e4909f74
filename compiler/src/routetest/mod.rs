//! `switchyard test`: run route test files against compiled manifests on an engine.

pub mod check;
pub mod engine;
pub mod file;

use std::path::PathBuf;

use crate::compile::{CompileOptions, Target, compile};
use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::input::{Document, load_inputs};

use self::check::{check, check_distribution};
use self::engine::{Engine, NativeEngine, Observed, SentRequest, WasmEngine, find_plugin};
use self::file::{Case, TestFile, TestTarget, parse_test_file};

/// Which engine runs the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Wasm,
    Native,
    Envoy,
}

#[derive(Debug, Clone)]
pub struct TestOptions {
    pub manifests: Vec<String>,
    pub test_files: Vec<String>,
    pub engine: EngineKind,
    pub wasm: Option<PathBuf>,
    pub verbose: bool,
    pub json: bool,
    pub compile: CompileOptions,
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub file: String,
    pub name: String,
    pub line: u32,
    /// What happened, in a few words (the last request's outcome, or the distribution).
    pub outcome: String,
    pub failures: Vec<String>,
}

/// Exit status: all passed.
pub const EXIT_PASSED: i32 = 0;
/// Exit status: a case failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit status: the manifests or a test file are invalid.
pub const EXIT_INVALID: i32 = 2;

/// Runs the tests; prints the report on stdout and diagnostics on stderr; returns the
/// exit status.
pub fn run(options: &TestOptions) -> i32 {
    match run_all(options) {
        Ok(results) => {
            report(&results, options);
            if results.iter().all(|r| r.failures.is_empty()) {
                EXIT_PASSED
            } else {
                EXIT_FAILED
            }
        }
        Err(diagnostics) => {
            for d in diagnostics.0.iter().filter(|d| d.severity == Severity::Error) {
                eprintln!("{d}");
            }
            EXIT_INVALID
        }
    }
}

fn invalid(file: &str, message: String) -> Diagnostics {
    Diagnostics(vec![Diagnostic::error(
        Location {
            file: file.to_string(),
            ..Location::default()
        },
        message,
    )])
}

/// Runs every case of every file; `Err` when inputs are invalid.
pub fn run_all(options: &TestOptions) -> Result<Vec<CaseResult>, Diagnostics> {
    let documents = load_inputs(&options.manifests)?;
    let mut files = Vec::new();
    let mut errors = Diagnostics::default();
    for path in &options.test_files {
        match std::fs::read_to_string(path) {
            Ok(text) => match parse_test_file(path, &text) {
                Ok(file) => files.push(file),
                Err(d) => errors.push(d),
            },
            Err(e) => errors.push(Diagnostic::error(
                Location {
                    file: path.clone(),
                    ..Location::default()
                },
                format!("cannot read: {e}"),
            )),
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    if options.engine == EngineKind::Envoy {
        return Err(invalid(
            "<command line>",
            "--engine envoy is not available yet (see CHANGELOG.md)".into(),
        ));
    }
    let plugin = match options.engine {
        EngineKind::Wasm => {
            let path = find_plugin(options.wasm.as_deref()).map_err(|m| invalid("<command line>", m))?;
            Some(switchyard_host_harness::Plugin::from_file(&path).map_err(|e| {
                invalid(
                    &path.display().to_string(),
                    format!("cannot load the plugin: {e:#}"),
                )
            })?)
        }
        _ => None,
    };
    let mut results = Vec::new();
    for file in &files {
        results.extend(run_file(file, &documents, options, plugin.as_ref())?);
    }
    Ok(results)
}

fn run_file(
    file: &TestFile,
    documents: &[Document],
    options: &TestOptions,
    plugin: Option<&switchyard_host_harness::Plugin>,
) -> Result<Vec<CaseResult>, Diagnostics> {
    let target = match &file.target {
        TestTarget::Gateway(key) => Target::Gateway(Some(key.clone())),
        TestTarget::Mesh { namespace } => Target::Mesh(namespace.clone()),
        other => {
            return Err(invalid(
                &file.path,
                format!("target {other:?} is not supported yet (see CHANGELOG.md)"),
            ));
        }
    };
    let mut compile_options = CompileOptions {
        target,
        ..options.compile.clone()
    };
    if let Some(domain) = &file.cluster_domain {
        compile_options.cluster_domain = domain.clone();
    }
    let compiled = compile(documents, &compile_options)?;
    let mut results = Vec::new();
    for case in &file.cases {
        let seed = seed_for(&file.path, &case.name);
        let mut engine: Box<dyn Engine> = match plugin {
            Some(plugin) => {
                Box::new(WasmEngine::new(plugin, &compiled.bytes, seed).map_err(|m| invalid(&file.path, m))?)
            }
            None => Box::new(NativeEngine::new(&compiled.bytes, seed).map_err(|m| invalid(&file.path, m))?),
        };
        let (outcome, failures) = run_case(case, compiled.default_port, engine.as_mut());
        results.push(CaseResult {
            file: file.path.clone(),
            name: case.name.clone(),
            line: case.line,
            outcome,
            failures,
        });
    }
    Ok(results)
}

/// A stable per-case seed, so weighted cases draw the same numbers on every run.
fn seed_for(file: &str, case: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in file.bytes().chain([0]).chain(case.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn sent_request(case: &Case, default_port: u32) -> SentRequest {
    let request = &case.request;
    let port = request.port.unwrap_or(default_port);
    let default_scheme_port = if request.scheme == "https" { 443 } else { 80 };
    // No host: the client calls the proxy by IP address, as curl would.
    let authority = request.host.clone().unwrap_or_else(|| {
        if port == default_scheme_port {
            "127.0.0.1".to_string()
        } else {
            format!("127.0.0.1:{port}")
        }
    });
    SentRequest {
        port,
        method: request.method.clone(),
        scheme: request.scheme.clone(),
        authority,
        path: request.path.clone(),
        headers: request.headers.clone(),
    }
}

/// Sends the case's request(s); returns a summary of the outcome and the failures.
fn run_case(case: &Case, default_port: u32, engine: &mut dyn Engine) -> (String, Vec<String>) {
    let sent = sent_request(case, default_port);
    let mut counts: Vec<(String, u32)> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let distribution = case.expect.backends.as_ref();
    for attempt in 0..case.repeat {
        let seen: Observed = match engine.send(&sent) {
            Ok(seen) => seen,
            Err(message) => return (String::from("error"), vec![message]),
        };
        let name = seen
            .backend
            .as_ref()
            .map_or_else(|| format!("{} from the proxy", seen.status), |b| b.name.clone());
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => counts.push((name, 1)),
        }
        for failure in check(&case.expect, &seen, distribution.is_none()) {
            let failure = if case.repeat > 1 {
                format!("request {}: {failure}", attempt + 1)
            } else {
                failure
            };
            if !failures.contains(&failure) {
                failures.push(failure);
            }
        }
        if failures.len() > 10 {
            break;
        }
    }
    if let Some(expected) = distribution {
        failures.extend(check_distribution(
            expected,
            case.expect.tolerance,
            &counts,
            case.repeat,
        ));
    }
    let outcome = counts
        .iter()
        .map(|(name, count)| {
            if case.repeat > 1 {
                format!("{name} x{count}")
            } else {
                name.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    (
        format!("{} {}{} -> {outcome}", sent.method, sent.authority, sent.path),
        failures,
    )
}

fn report(results: &[CaseResult], options: &TestOptions) {
    let passed = results.iter().filter(|r| r.failures.is_empty()).count();
    let failed = results.len() - passed;
    if options.json {
        let cases: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "file": r.file, "name": r.name, "line": r.line,
                    "passed": r.failures.is_empty(), "outcome": r.outcome, "failures": r.failures,
                })
            })
            .collect();
        let engine = format!("{:?}", options.engine).to_lowercase();
        let report =
            serde_json::json!({ "engine": engine, "passed": passed, "failed": failed, "cases": cases });
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        return;
    }
    for r in results {
        if !r.failures.is_empty() {
            println!("FAIL {}:{}: {} ({})", r.file, r.line, r.name, r.outcome);
            for failure in &r.failures {
                println!("    {failure}");
            }
        } else if options.verbose {
            println!("ok   {}:{}: {}: {}", r.file, r.line, r.name, r.outcome);
        }
    }
    println!("{passed} passed, {failed} failed");
}
