//! Writes a generated configuration and its verified sample requests:
//!
//!     cargo run --release -p switchyard-bench --bin gen-config -- \
//!         --rules N --form gateway-api|istio [--hosts H] [--seed S] --out DIR
//!
//! `DIR/manifests.yaml`: the manifests; `DIR/requests.json`: the compile target, the port
//! and the early/middle/late/miss requests with the cluster each must reach.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use switchyard_bench::generate::generate;
use switchyard_bench::model::{Form, Options};

const USAGE: &str = "usage: gen-config --rules N --form gateway-api|istio [--hosts H] [--seed S] --out DIR";

/// The seed when `--seed` is not given.
const DEFAULT_SEED: u64 = 6;

fn main() -> ExitCode {
    let (options, out) = match parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("gen-config: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let generated = match generate(&options) {
        Ok(generated) => generated,
        Err(message) => {
            eprintln!("gen-config: {message}");
            return ExitCode::FAILURE;
        }
    };
    let json = match serde_json::to_string_pretty(&generated.requests) {
        Ok(json) => json + "\n",
        Err(e) => {
            eprintln!("gen-config: {e}");
            return ExitCode::FAILURE;
        }
    };
    let written = std::fs::create_dir_all(&out)
        .and_then(|()| write_atomically(&out.join("manifests.yaml"), generated.manifests.as_bytes()))
        .and_then(|()| write_atomically(&out.join("requests.json"), json.as_bytes()));
    if let Err(e) = written {
        eprintln!("gen-config: cannot write to {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "gen-config: {} rules over {} hosts ({}), {} bytes of YAML, {} bytes of bytecode -> {}",
        options.rules,
        generated.config.hosts.len(),
        options.form.name(),
        generated.manifests.len(),
        generated.program.len(),
        out.display()
    );
    ExitCode::SUCCESS
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<(Options, PathBuf), String> {
    let (mut rules, mut form, mut hosts, mut seed, mut out) = (None, None, None, DEFAULT_SEED, None);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {text}"))
        };
        match flag.as_str() {
            "--rules" => rules = Some(number(value()?)? as usize),
            "--hosts" => hosts = Some(number(value()?)? as usize),
            "--seed" => seed = number(value()?)?,
            "--form" => {
                let text = value()?;
                form = Some(Form::parse(&text).ok_or_else(|| format!("--form: unknown form {text}"))?);
            }
            "--out" => out = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err("help".into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let rules = rules.ok_or("--rules is required")?;
    if rules == 0 || hosts == Some(0) {
        return Err("--rules and --hosts must be at least 1".into());
    }
    let options = Options {
        rules,
        hosts,
        seed,
        form: form.ok_or("--form is required")?,
    };
    Ok((options, out.ok_or("--out is required")?))
}

/// Temp file and rename: a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}
