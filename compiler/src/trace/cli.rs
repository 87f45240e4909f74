//! `switchyard explain --request` / `--test FILE --case NAME`: compile, trace one
//! request, print the trace as text or JSON.

use switchyard_bytecode::Program;

use super::request::parse_request;
use super::trace_request;
use crate::cli::print_diagnostics;
use crate::compile::{CompileOptions, Target, compile};
use crate::input::load_inputs;
use crate::locate::Locator;
use crate::resources::Resources;
use crate::routetest::file::{TestTarget, parse_test_file};
use crate::routetest::sent_request;

/// The flags `explain` passes on.
#[derive(Debug)]
pub struct TraceArgs<'a> {
    pub files: &'a [String],
    pub compile: CompileOptions,
    /// Whether the command line chose a target (a test case brings its own).
    pub explicit_target: bool,
    pub request: Option<&'a str>,
    pub headers: &'a [String],
    pub port: Option<&'a str>,
    pub random: Option<&'a str>,
    pub test_file: Option<&'a str>,
    pub case: Option<&'a str>,
    pub format: Option<&'a str>,
    pub quiet: bool,
}

/// Runs the command; returns the exit status (0, or 2 for invalid input or usage).
pub fn explain_request(args: &TraceArgs<'_>) -> i32 {
    match run(args) {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(message) => {
            if !message.is_empty() {
                eprintln!("switchyard explain: {message}");
            }
            2
        }
    }
}

fn run(args: &TraceArgs<'_>) -> Result<String, String> {
    let format = match args.format {
        None => "text",
        Some(f @ ("text" | "json" | "line")) => f,
        Some(other) => return Err(format!("--format {other}: expected text, json or line")),
    };
    if args.files.is_empty() {
        return Err("no manifests given (use -f PATH)".into());
    }
    let number = |flag: &str, value: Option<&str>| -> Result<Option<u64>, String> {
        value
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| format!("{flag} {v:?}: expected a number"))
            })
            .transpose()
    };
    let port = number("--port", args.port)?
        .map(|p| u32::try_from(p).map_err(|_| format!("--port {p}: out of range")))
        .transpose()?;
    let random = number("--random", args.random)?.unwrap_or(0);
    let mut options = args.compile.clone();
    let case = match (args.test_file, args.request) {
        (Some(_), Some(_)) => return Err("give either --request or --test, not both".into()),
        (Some(path), None) => {
            let name = args.case.ok_or("--test needs --case NAME")?;
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            let file = parse_test_file(path, &text).map_err(|d| d.to_string())?;
            if !args.explicit_target {
                options.target = match &file.target {
                    TestTarget::Gateway(key) => Target::Gateway(Some(key.clone())),
                    TestTarget::IstioGateway(key) => Target::IstioGateway(key.clone()),
                    TestTarget::Mesh { namespace } => Target::Mesh(namespace.clone()),
                };
            }
            if let Some(domain) = &file.cluster_domain {
                options.cluster_domain = domain.clone();
            }
            let case = file
                .cases
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| format!("{path}: no case named {name:?}"))?;
            Some(case.clone())
        }
        (None, _) if args.case.is_some() => return Err("--case needs --test FILE".into()),
        (None, _) => None,
    };
    let documents = load_inputs(args.files).map_err(|d| {
        print_diagnostics(&d, false);
        String::new()
    })?;
    let compiled = compile(&documents, &options).map_err(|d| {
        print_diagnostics(&d, false);
        String::new()
    })?;
    print_diagnostics(&compiled.diagnostics, args.quiet);
    let sent = match (&case, args.request) {
        (Some(case), _) => {
            let mut sent = sent_request(case, compiled.default_port);
            if let Some(port) = port {
                sent.port = port;
            }
            sent
        }
        (None, Some(line)) => parse_request(line, args.headers, port)?,
        (None, None) => return Err("--request or --test is required".into()),
    };
    // The plugin sees the path after Envoy normalised it (routetest::hcm), and so does
    // the trace.
    let sent = sent
        .as_proxy_sees_it()
        .ok_or_else(|| {
            format!(
                "{:?}: Envoy refuses this path with 400 (a %00 escape, a space or control character, or a byte outside ASCII)",
                sent.path
            )
        })?
        .into_owned();
    let program = Program::from_bytes(&compiled.bytes).map_err(|e| format!("internal: {e}"))?;
    let (resources, _) = Resources::from_documents(&documents);
    let locator = Locator::new(&resources);
    match format {
        "line" => Ok(super::trace_line(&program, &sent, random) + "\n"),
        "json" => serde_json::to_string_pretty(&trace_request(&program, Some(&locator), &sent, random))
            .map(|text| text + "\n")
            .map_err(|e| format!("internal: {e}")),
        _ => Ok(trace_request(&program, Some(&locator), &sent, random).to_string()),
    }
}
