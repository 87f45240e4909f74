//! The `switchyard` command line: argument parsing and the four commands. Exit status:
//! 0 success, 1 test failures, 2 invalid input or usage.

use std::io::Write;
use std::path::{Path, PathBuf};

use switchyard_bytecode::Program;

use crate::compile::{
    CompileOptions, Compiled, DEFAULT_CLUSTER_DOMAIN, DEFAULT_ROUTING_HEADER, Target, compile,
};
use crate::diag::{Diagnostics, Severity};
use crate::input::load_inputs;
use crate::routetest::{self, EngineKind, TestOptions};

const USAGE: &str = "\
switchyard: compile Gateway API routing to bytecode for the Switchyard proxy-wasm filter

Usage:
  switchyard compile -f PATH... [--gateway NS/NAME | --mesh NS] -o OUT [options]
  switchyard check   -f PATH... [--gateway NS/NAME | --mesh NS] [options]
  switchyard explain PROGRAM.swb | -f PATH... [--gateway NS/NAME]
  switchyard test    -f PATH... [--engine wasm|native] [--wasm PATH] [-v] [--format text|json] TESTFILE...
  switchyard help [COMMAND]

Run `switchyard COMMAND --help` for a command's options.
Exit status: 0 success, 1 a test case failed, 2 invalid input or usage.
";

const COMPILE_HELP: &str = "\
switchyard compile: write the route bytecode for one proxy target

  -f, --filename PATH     manifests: a file, a folder (searched recursively for .yaml,
                          .yml, .json) or - for stdin; repeatable
  --gateway NS/NAME       the Gateway API Gateway to compile for (may be omitted when
                          the inputs hold exactly one Gateway)
  --mesh NAMESPACE        compile for the sidecar of a client in NAMESPACE instead:
                          HTTPRoutes whose parentRef is a Service (GAMMA); Services
                          without routes route to themselves
  -o, --output PATH       where to write the program; - for stdout. Written to a
                          temporary file and renamed, so a failed run leaves no output
  --cluster-domain D      Kubernetes cluster domain (default cluster.local)
  --cluster-template T    Envoy cluster names; placeholders {namespace} {name} {port}
                          {domain}; default Istio's outbound|{port}||{name}.{namespace}.svc.{domain}
  --routing-header H      header the plugin sets to the chosen cluster
                          (default x-switchyard-cluster)
  -q, --quiet             do not print notes and warnings
";

const CHECK_HELP: &str = "\
switchyard check: validate manifests and compile them without writing anything

Takes the same options as `compile` except -o. Prints notes, warnings and errors;
exit status 2 when there is an error.
";

const EXPLAIN_HELP: &str = "\
switchyard explain: print a program as a numbered listing

  switchyard explain PROGRAM.swb
  switchyard explain -f PATH... [--gateway NS/NAME] [compile options]

Each entry shows its conditions, its action and the resource, rule and match it came
from, in evaluation order per listener and virtual host.
";

const TEST_HELP: &str = "\
switchyard test: run route test files (shared/spec/route-tests.md) against manifests

  -f, --filename PATH     manifests, as for compile; repeatable
  --engine E              wasm (default): the real plugin .wasm in the wasmtime host;
                          native: the evaluator in-process
  --wasm PATH             the plugin module for --engine wasm (default: found beside the
                          binary after `cargo build -p switchyard-plugin --target
                          wasm32-wasip1 --profile wasm`, or $SWITCHYARD_WASM)
  -v, --verbose           a line for every case, not just failing ones
  --format text|json      the report format (default text)
  --cluster-template T    as for compile

Output: one line per failing case, then `N passed, N failed`.
Exit status: 0 all passed, 1 a case failed, 2 invalid manifests or test files.
";

/// Parsed flags shared by the commands.
#[derive(Debug, Default)]
struct Args {
    files: Vec<String>,
    gateway: Option<String>,
    mesh: Option<String>,
    output: Option<String>,
    cluster_domain: Option<String>,
    cluster_template: Option<String>,
    routing_header: Option<String>,
    engine: Option<String>,
    wasm: Option<PathBuf>,
    format: Option<String>,
    verbose: bool,
    quiet: bool,
    help: bool,
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
            "-o" | "--output" => parsed.output = Some(value(flag)?),
            "--cluster-domain" => parsed.cluster_domain = Some(value(flag)?),
            "--cluster-template" => parsed.cluster_template = Some(value(flag)?),
            "--routing-header" => parsed.routing_header = Some(value(flag)?),
            "--engine" => parsed.engine = Some(value(flag)?),
            "--wasm" => parsed.wasm = Some(PathBuf::from(value(flag)?)),
            "--format" => parsed.format = Some(value(flag)?),
            "-v" | "--verbose" => parsed.verbose = true,
            "-q" | "--quiet" => parsed.quiet = true,
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
    let parsed = match parse_args(rest) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("switchyard {command}: {message}\n\n{USAGE}");
            return 2;
        }
    };
    if parsed.gateway.is_some() && parsed.mesh.is_some() {
        eprintln!("switchyard {command}: --gateway and --mesh choose different targets; give one");
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
        other => {
            eprintln!("switchyard: unknown command {other:?}\n\n{USAGE}");
            2
        }
    }
}

fn compile_options(args: &Args) -> CompileOptions {
    CompileOptions {
        target: match &args.mesh {
            Some(namespace) => Target::Mesh(namespace.clone()),
            None => Target::Gateway(args.gateway.clone()),
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

fn print_diagnostics(diagnostics: &Diagnostics, quiet: bool) {
    for d in &diagnostics.0 {
        if !quiet || d.severity == Severity::Error {
            eprintln!("{d}");
        }
    }
}

/// Loads and compiles; prints diagnostics; `None` on error.
fn load_and_compile(args: &Args) -> Option<Compiled> {
    if args.files.is_empty() {
        eprintln!("switchyard: no manifests given (use -f PATH)");
        return None;
    }
    let documents = match load_inputs(&args.files) {
        Ok(documents) => documents,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics, false);
            return None;
        }
    };
    match compile(&documents, &compile_options(args)) {
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
    let written = if output == "-" {
        std::io::stdout()
            .write_all(&compiled.bytes)
            .and_then(|()| std::io::stdout().flush())
    } else {
        write_atomically(Path::new(output), &compiled.bytes)
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

fn cmd_check(args: &Args) -> i32 {
    match load_and_compile(args) {
        Some(compiled) => {
            println!(
                "ok: {} ({} entries, {} bytes)",
                compiled.ir.target,
                entry_count(&compiled),
                compiled.bytes.len()
            );
            0
        }
        None => 2,
    }
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
    routetest::run(&TestOptions {
        manifests: args.files.clone(),
        test_files: args.positional.clone(),
        engine,
        wasm: args.wasm.clone(),
        verbose: args.verbose,
        json,
        compile: compile_options(args),
    })
}
