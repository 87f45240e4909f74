//! `switchyard test`: run route test files against compiled manifests on an engine.

pub mod check;
pub mod coverage;
pub mod engine;
pub mod envoy;
pub mod file;
pub mod hcm;

use std::path::PathBuf;

use crate::compile::{CompileOptions, Target, compile};
use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::input::{Document, load_inputs};

use self::check::{check, check_distribution};
#[cfg(feature = "wasm-engine")]
use self::engine::WasmEngine;
use self::engine::{Engine, NativeEngine, Observed, SentRequest, find_plugin};
use self::envoy::EnvoyEngine;
use self::envoy::process::find_envoy;
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
    /// The Envoy binary for the envoy engine (default: `$ENVOY`, then `PATH`).
    pub envoy: Option<PathBuf>,
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
    let runner = match options.engine {
        EngineKind::Native => Runner::Native,
        #[cfg(feature = "wasm-engine")]
        EngineKind::Wasm => {
            let path = find_plugin(options.wasm.as_deref()).map_err(|m| invalid("<command line>", m))?;
            Runner::Wasm(switchyard_host_harness::Plugin::from_file(&path).map_err(|e| {
                invalid(
                    &path.display().to_string(),
                    format!("cannot load the plugin: {e:#}"),
                )
            })?)
        }
        #[cfg(not(feature = "wasm-engine"))]
        EngineKind::Wasm => return Err(invalid("<command line>", WASM_ENGINE_MISSING.to_string())),
        EngineKind::Envoy => Runner::Envoy {
            envoy: find_envoy(options.envoy.as_deref()).map_err(|m| invalid("<command line>", m))?,
            wasm: find_plugin(options.wasm.as_deref()).map_err(|m| invalid("<command line>", m))?,
        },
    };
    let mut results = Vec::new();
    for file in &files {
        results.extend(run_file(file, &documents, options, &runner)?);
    }
    Ok(results)
}

/// Why `--engine wasm` fails in a build without the wasmtime host harness.
#[cfg(not(feature = "wasm-engine"))]
const WASM_ENGINE_MISSING: &str = "--engine wasm: this build of switchyard has no wasm engine; \
     rebuild switchyard-compiler with its `wasm-engine` feature (on by default), or use --engine native";

/// What each file's engine is made from.
enum Runner {
    Native,
    #[cfg(feature = "wasm-engine")]
    Wasm(switchyard_host_harness::Plugin),
    /// One Envoy per file, shared by its cases (starting one takes most of a second).
    Envoy {
        envoy: PathBuf,
        wasm: PathBuf,
    },
}

fn run_file(
    file: &TestFile,
    documents: &[Document],
    options: &TestOptions,
    runner: &Runner,
) -> Result<Vec<CaseResult>, Diagnostics> {
    let compiled = compile(documents, &file_compile_options(file, &options.compile))?;
    let mut envoy = match runner {
        Runner::Envoy { envoy, wasm } => {
            Some(EnvoyEngine::start(&compiled.bytes, envoy, wasm).map_err(|m| invalid(&file.path, m))?)
        }
        _ => None,
    };
    let mut results = Vec::new();
    for case in &file.cases {
        let seed = seed_for(&file.path, &case.name);
        let mut fresh: Box<dyn Engine>;
        let engine: &mut dyn Engine = match (&mut envoy, runner) {
            (Some(envoy), _) => envoy,
            #[cfg(feature = "wasm-engine")]
            (None, Runner::Wasm(plugin)) => {
                fresh = Box::new(
                    WasmEngine::new(plugin, &compiled.bytes, seed).map_err(|m| invalid(&file.path, m))?,
                );
                fresh.as_mut()
            }
            (None, _) => {
                fresh =
                    Box::new(NativeEngine::new(&compiled.bytes, seed).map_err(|m| invalid(&file.path, m))?);
                fresh.as_mut()
            }
        };
        let (mut outcome, mut failures) = run_case(case, compiled.default_port, engine);
        // An engine with its own randomness misses a distribution now and then (500
        // draws at 70/30 stray past ±0.05 about once in a hundred runs); upstream
        // conformance repeats the whole check, and so does this, a few times.
        let mut tries = 1;
        while tries < DISTRIBUTION_TRIES
            && !engine.deterministic()
            && case.expect.backends.is_some()
            && !failures.is_empty()
            && failures.iter().all(|f| f.starts_with("backends."))
        {
            (outcome, failures) = run_case(case, compiled.default_port, engine);
            tries += 1;
        }
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

/// The compile options for a test file: its target and cluster domain.
pub(crate) fn file_compile_options(file: &TestFile, base: &CompileOptions) -> CompileOptions {
    let target = match &file.target {
        TestTarget::Gateway(key) => Target::Gateway(Some(key.clone())),
        TestTarget::Mesh { namespace } => Target::Mesh(namespace.clone()),
        TestTarget::IstioGateway(key) => Target::IstioGateway(key.clone()),
    };
    let mut options = CompileOptions {
        target,
        ..base.clone()
    };
    if let Some(domain) = &file.cluster_domain {
        options.cluster_domain = domain.clone();
    }
    options
}

/// How often a distribution is measured on an engine that is not deterministic before
/// the case fails.
const DISTRIBUTION_TRIES: u32 = 3;

/// A stable per-case seed, so weighted cases draw the same numbers on every run.
fn seed_for(file: &str, case: &str) -> u64 {
    // The file's name, not its path: results must not depend on where the repository
    // is checked out.
    let file = std::path::Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file);
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in file.bytes().chain([0]).chain(case.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

pub(crate) fn sent_request(case: &Case, default_port: u32) -> SentRequest {
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
        sni: request.sni.clone(),
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

/// The `--format json` report.
pub(crate) fn json_report(results: &[CaseResult], options: &TestOptions) -> serde_json::Value {
    let passed = results.iter().filter(|r| r.failures.is_empty()).count();
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
    serde_json::json!({ "engine": engine, "passed": passed, "failed": results.len() - passed, "cases": cases })
}

pub(crate) fn report(results: &[CaseResult], options: &TestOptions) {
    let passed = results.iter().filter(|r| r.failures.is_empty()).count();
    let failed = results.len() - passed;
    if options.json {
        let report = json_report(results, options);
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
