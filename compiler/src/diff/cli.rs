//! `switchyard diff`'s flags.

use crate::compile::{CompileOptions, DEFAULT_CLUSTER_DOMAIN, DEFAULT_ROUTING_HEADER, Target};

use super::{EXIT_INVALID, Format, Inputs, run};

pub const HELP: &str = "\
switchyard diff: which requests route differently between two configurations

  switchyard diff -f OLD... --against NEW... [TARGET] [--format text|json]
  switchyard diff --rev REV -f PATH... [--against-rev REV2] [TARGET]

  -f, --filename PATH     the old configuration, as for compile; repeatable
  --against PATH          the new configuration; repeatable (default: the -f paths)
  --rev REV               read the -f paths as they are at git revision REV (no
                          checkout); the new side is the working tree unless
                          --against-rev is given
  --against-rev REV       read the new side's paths at git revision REV
  --gateway NS/NAME | --istio-gateway NS/NAME | --mesh NS
                          the target, as for compile; both sides are compiled for it
  --cluster-domain D, --cluster-template T   as for compile
  --format text|json      the report format (default text)

Requests are generated from every rule of both programs (each host, path boundary,
header, query and method condition met, varied and left out), both programs decide
each one with the same random number, and the requests whose outcome changes (backend,
weights, status, redirect, rewrite, request or response headers, mirrors, faults,
timeout) are grouped by the rule on each side and the kind of change. Each class
shows one example request, both decisions and both rules (file:line).

Text output is empty when routing is unchanged, however the YAML changed; JSON output
is always one document.
Exit status: 0 routing unchanged, 1 some request routes differently, 2 invalid input.
";

/// Parses `args` (after `diff`) and runs; returns the exit status.
pub fn main(args: &[String]) -> i32 {
    match parse(args) {
        Ok(None) => {
            print!("{HELP}");
            0
        }
        Ok(Some(p)) => run(&p.old, &p.new, &p.options, p.format),
        Err(message) => {
            eprintln!("switchyard diff: {message}\n\n{HELP}");
            EXIT_INVALID
        }
    }
}

/// A diff to run.
#[derive(Debug)]
struct Parsed {
    old: Inputs,
    new: Inputs,
    options: CompileOptions,
    format: Format,
}

/// `Ok(None)`: help was asked for.
fn parse(args: &[String]) -> Result<Option<Parsed>, String> {
    let mut old = Inputs::default();
    let mut new = Inputs::default();
    let mut targets: Vec<Target> = Vec::new();
    let mut options = CompileOptions {
        cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_string(),
        routing_header: DEFAULT_ROUTING_HEADER.to_string(),
        ..CompileOptions::default()
    };
    let mut format = Format::Text;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "-f" | "--filename" => old.paths.push(value()?),
            "--against" => new.paths.push(value()?),
            "--rev" => old.rev = Some(value()?),
            "--against-rev" => new.rev = Some(value()?),
            "--gateway" => targets.push(Target::Gateway(Some(value()?))),
            "--istio-gateway" => targets.push(Target::IstioGateway(value()?)),
            "--mesh" => targets.push(Target::Mesh(value()?)),
            "--cluster-domain" => options.cluster_domain = value()?,
            "--cluster-template" => options.cluster_template = Some(value()?),
            "--format" => {
                format = match value()?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    other => return Err(format!("unknown format {other:?} (text, json)")),
                }
            }
            "-q" | "--quiet" => {}
            _ if flag.starts_with('-') && flag != "-" => return Err(format!("unknown option {flag}")),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    if targets.len() > 1 {
        return Err("--gateway, --istio-gateway and --mesh choose different targets; give one".into());
    }
    if let Some(target) = targets.pop() {
        options.target = target;
    }
    if old.paths.is_empty() {
        return Err("no manifests given (use -f PATH for the old side)".into());
    }
    if new.paths.is_empty() {
        if old.rev.is_none() && new.rev.is_none() {
            return Err(
                "nothing to compare against: give --against PATH, --rev REV or --against-rev REV".into(),
            );
        }
        new.paths = old.paths.clone();
    }
    if old.paths.iter().chain(&new.paths).filter(|p| *p == "-").count() > 1 {
        return Err("standard input (-) can feed one side only".into());
    }
    Ok(Some(Parsed {
        old,
        new,
        options,
        format,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn a_revision_alone_compares_the_paths_with_the_working_tree() {
        let Ok(Some(Parsed { old, new, .. })) = parse(&args("--rev main -f deploy")) else {
            panic!("not parsed");
        };
        assert_eq!(
            (old.paths, old.rev.as_deref()),
            (vec!["deploy".to_string()], Some("main"))
        );
        assert_eq!((new.paths, new.rev), (vec!["deploy".to_string()], None));
    }

    #[test]
    fn a_diff_needs_two_sides_and_one_target() {
        assert!(
            parse(&args("-f a"))
                .unwrap_err()
                .contains("nothing to compare against")
        );
        assert!(parse(&args("-f a --against b --mesh x --gateway y/z")).is_err());
        assert!(parse(&args("-f - --against -")).is_err());
        assert!(parse(&args("-f a --against b --format yaml")).is_err());
    }
}
