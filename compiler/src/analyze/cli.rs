//! `switchyard analyze -f PATH... [TARGET] [--format text|json|sarif] [--fail-on LEVEL]`.

use super::{Level, analyze, render_json, render_sarif, render_text};
use crate::cli::print_diagnostics;
use crate::compile::{CompileOptions, Target};
use crate::input::load_inputs;

pub const HELP: &str = "\
switchyard analyze: find what will surprise you before it ships

  switchyard analyze -f PATH... [TARGET] [--format text|json|sarif] [--fail-on LEVEL]

Compiles every target in the inputs (every Gateway, every Istio Gateway, and the
sidecar of each namespace with mesh routes), or the one named with --gateway,
--istio-gateway or --mesh, and reports:
  shadowed-rule         a rule that can never match (an earlier rule takes all of it)
  duplicate-match       two rules with the same conditions on the same host
  creation-order-tie    overlapping rules of different routes with equal precedence:
                        creation time decides, which Git does not record
  virtualservice-merge  VirtualServices for one host whose rules Istio reorders
  hostname-conflict     an HTTPRoute and a GRPCRoute claiming one hostname
  dangling-reference    backends, subsets, ReferenceGrants, gateways, delegates
  unresolved-backend    a rule answered 500 (gRPC: UNAVAILABLE) for all or a
                        share of its requests
  route-routes-nothing  a route not accepted by its parent (hostnames, allowedRoutes)
  istio-string-prefix   an Istio uri prefix that also matches inside a segment
  compile-warning       any other compiler warning
Each with the file and line to fix, the rule on the other side, and a witness request
to replay with `switchyard explain -f PATH... --request ...`.

  --format text|json|sarif  output format (default text); SARIF 2.1.0 for code scanning
  --fail-on error|warning|note|never
                          exit 1 when a finding at or above this level exists
                          (default error)
  -o, --output PATH       write the report there (atomically) instead of stdout
Compile options (--cluster-domain, --cluster-template) as for compile.
Exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 invalid input.
";

/// Runs the command; returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let mut files = Vec::new();
    let mut format = "text".to_string();
    let mut fail_on = Some(Level::Error);
    let mut output: Option<String> = None;
    let mut target: Option<Target> = None;
    let mut options = CompileOptions::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| iter.next().cloned());
        let Some(v) = (match flag {
            "-h" | "--help" => {
                print!("{HELP}");
                return 0;
            }
            "-f" | "--filename" | "--format" | "--fail-on" | "-o" | "--output" | "--gateway" | "--mesh"
            | "--istio-gateway" | "--cluster-domain" | "--cluster-template" => value(),
            _ => {
                eprintln!("switchyard analyze: unknown argument {arg}\n\n{HELP}");
                return 2;
            }
        }) else {
            eprintln!("switchyard analyze: {flag} needs a value");
            return 2;
        };
        let chosen = match flag {
            "-f" | "--filename" => {
                files.push(v);
                None
            }
            "--format" => {
                format = v;
                None
            }
            "--fail-on" => {
                fail_on = match v.as_str() {
                    "never" => None,
                    other => match Level::parse(other) {
                        Some(level) => Some(level),
                        None => {
                            eprintln!(
                                "switchyard analyze: --fail-on {other}: expected error, warning, note or never"
                            );
                            return 2;
                        }
                    },
                };
                None
            }
            "-o" | "--output" => {
                output = Some(v);
                None
            }
            "--gateway" => Some(Target::Gateway(Some(v))),
            "--mesh" => Some(Target::Mesh(v)),
            "--istio-gateway" => Some(Target::IstioGateway(v)),
            "--cluster-domain" => {
                options.cluster_domain = v;
                None
            }
            _ => {
                options.cluster_template = Some(v);
                None
            }
        };
        if let Some(chosen) = chosen {
            if target.is_some() {
                eprintln!(
                    "switchyard analyze: --gateway, --istio-gateway and --mesh choose different targets; give one"
                );
                return 2;
            }
            target = Some(chosen);
        }
    }
    if !matches!(format.as_str(), "text" | "json" | "sarif") {
        eprintln!("switchyard analyze: --format {format}: expected text, json or sarif");
        return 2;
    }
    if files.is_empty() {
        eprintln!("switchyard analyze: no manifests given (use -f PATH)");
        return 2;
    }
    let documents = match load_inputs(&files) {
        Ok(documents) => documents,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics, false);
            return 2;
        }
    };
    let targets: Vec<Target> = target.into_iter().collect();
    let findings = match analyze(&documents, &options, &targets) {
        Ok(findings) => findings,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics, false);
            return 2;
        }
    };
    let report = match format.as_str() {
        "json" => format!("{:#}\n", render_json(&findings)),
        "sarif" => format!("{:#}\n", render_sarif(&findings)),
        _ => render_text(&findings),
    };
    match &output {
        Some(path) if path != "-" => {
            if let Err(e) = crate::cli::write_atomically(std::path::Path::new(path), report.as_bytes()) {
                eprintln!("switchyard analyze: cannot write {path}: {e}");
                return 2;
            }
        }
        _ => print!("{report}"),
    }
    let failing = fail_on.is_some_and(|threshold| findings.iter().any(|f| f.level >= threshold));
    i32::from(failing)
}
