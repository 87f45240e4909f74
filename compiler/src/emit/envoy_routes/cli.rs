//! `switchyard emit envoy-routes`: reads `-o`, `--port` and `--compact`, hands the rest
//! to the compile parser, writes the route table as JSON.

use std::io::Write;
use std::path::Path;

use super::json::to_json;
use super::route_table_for;
use crate::cli::{compile_from_args, write_atomically};
use crate::emit::cli::EMIT_HELP;

/// Runs `switchyard emit envoy-routes` with the arguments after `envoy-routes`.
pub fn main(args: &[String]) -> i32 {
    let mut output: Option<String> = None;
    let mut port: Option<u32> = None;
    let mut compact = false;
    let mut quiet = false;
    let mut forwarded = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| iter.next().cloned());
        match flag {
            "-h" | "--help" => {
                print!("{EMIT_HELP}");
                return 0;
            }
            "-o" | "--output" => match value() {
                Some(v) => output = Some(v),
                None => return fail("-o needs a value"),
            },
            "--port" => match value().map(|v| (v.parse::<u32>(), v)) {
                Some((Ok(p), _)) => port = Some(p),
                Some((Err(_), v)) => return fail(&format!("--port {v:?}: not a port number")),
                None => return fail("--port needs a value"),
            },
            "--compact" => compact = true,
            "-q" | "--quiet" => {
                quiet = true;
                forwarded.push(arg.clone());
            }
            _ => forwarded.push(arg.clone()),
        }
    }
    let Some(compiled) = compile_from_args(&forwarded) else {
        return 2;
    };
    let table = match route_table_for(&compiled.ir, port) {
        Ok(table) => table,
        Err(message) => return fail(&message),
    };
    if !quiet {
        for note in &table.notes {
            eprintln!("switchyard emit envoy-routes: note: {note}");
        }
    }
    let text = to_json(&table.config, !compact);
    let written = match output.as_deref() {
        None | Some("-") => std::io::stdout()
            .write_all(text.as_bytes())
            .and_then(|()| std::io::stdout().flush()),
        Some(path) => write_atomically(Path::new(path), text.as_bytes()),
    };
    match written {
        Ok(()) => 0,
        Err(e) => fail(&format!(
            "cannot write {}: {e}",
            output.as_deref().unwrap_or("stdout")
        )),
    }
}

fn fail(message: &str) -> i32 {
    eprintln!("switchyard emit envoy-routes: {message}");
    2
}
