//! Compiler wall time, peak memory and output size for generated configurations:
//!
//!     cargo run --release -p switchyard-bench --bin compile-bench [-- --sizes 100,1000 --runs 5]
//!
//! Each compile is a fresh process running exactly what the `switchyard` binary runs
//! (`switchyard_compiler::cli::main` with `compile -f manifests.yaml TARGET -o OUT -q`):
//! this binary starts itself again with `--child`, and the child reports its own peak
//! resident memory (`VmHWM` from `/proc/self/status`) when the compile is done. Wall time
//! is measured by the parent around the whole child process (start, read, compile,
//! write), and the median of `--runs` runs is reported with the fastest and slowest.
//! Results also go to `target/bench/results/compile.json`.

use std::process::{Command, ExitCode};
use std::time::Instant;

use serde::Serialize;
use switchyard_bench::configs::{self, Case, median};

#[derive(Debug, Serialize)]
struct Row {
    case: String,
    form: &'static str,
    rules: usize,
    layout: String,
    yaml_bytes: usize,
    bytecode_bytes: u64,
    compile_ms_median: f64,
    compile_ms_min: f64,
    compile_ms_max: f64,
    peak_mib: f64,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child(&args[1..]);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("compile-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The compile, as the `switchyard` binary does it, then the peak memory on stdout.
fn child(args: &[String]) -> ExitCode {
    let status = switchyard_compiler::cli::main(args);
    if status != 0 {
        return ExitCode::from(u8::try_from(status).unwrap_or(1));
    }
    match peak_kib() {
        Some(kib) => {
            println!("VmHWM {kib}");
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("compile-bench: no VmHWM in /proc/self/status");
            ExitCode::FAILURE
        }
    }
}

fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run(args: &[String]) -> Result<(), String> {
    let mut sizes = configs::SIZES.to_vec();
    let mut runs = 5;
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let value = iter.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sizes" => sizes = configs::parse_sizes(value)?,
            "--runs" => runs = value.parse().map_err(|_| format!("--runs: {value}"))?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    println!("| form | rules | layout | YAML | bytecode | compile (median of {runs}) | min–max | peak RSS |");
    println!("|---|---|---|---|---|---|---|---|");
    for case in configs::cases(&sizes) {
        let row = measure(&me, &case, runs)?;
        println!(
            "| {} | {} | {} | {} | {} | {:.0} ms | {:.0}–{:.0} ms | {:.0} MiB |",
            row.form,
            row.rules,
            row.layout,
            kib(row.yaml_bytes as u64),
            kib(row.bytecode_bytes),
            row.compile_ms_median,
            row.compile_ms_min,
            row.compile_ms_max,
            row.peak_mib
        );
        rows.push(row);
    }
    let dir = configs::work_dir().join("results");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("compile.json"), json).map_err(|e| e.to_string())?;
    Ok(())
}

fn kib(bytes: u64) -> String {
    if bytes >= 10 * 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / 1048576.0)
    } else {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    }
}

fn measure(me: &std::path::Path, case: &Case, runs: usize) -> Result<Row, String> {
    let (generated, dir) = configs::materialize(case)?;
    let out = dir.join("program.swb");
    let [flag, target] = generated.requests.target.clone();
    let mut times = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let output = Command::new(me)
            .arg("--child")
            .args(["compile", "-q", "-f"])
            .arg(dir.join("manifests.yaml"))
            .args([&flag, &target, "-o"])
            .arg(&out)
            .output()
            .map_err(|e| e.to_string())?;
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        if !output.status.success() {
            return Err(format!(
                "{}: compile failed: {}",
                case.name(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let peak: f64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM "))
            .and_then(|v| v.trim().parse().ok())
            .ok_or("the child did not report its peak memory")?;
        times.push(elapsed);
        peaks.push(peak / 1024.0);
    }
    let bytecode = std::fs::metadata(&out).map_err(|e| e.to_string())?.len();
    let written = std::fs::read(&out).map_err(|e| e.to_string())?;
    if written != generated.program {
        return Err(format!(
            "{}: the CLI wrote another program than the library",
            case.name()
        ));
    }
    let (min, max) = (
        times.iter().copied().fold(f64::INFINITY, f64::min),
        times.iter().copied().fold(0.0, f64::max),
    );
    Ok(Row {
        case: case.name(),
        form: case.form.name(),
        rules: case.rules,
        layout: case.layout(),
        yaml_bytes: generated.manifests.len(),
        bytecode_bytes: bytecode,
        compile_ms_median: median(&mut times),
        compile_ms_min: min,
        compile_ms_max: max,
        peak_mib: median(&mut peaks),
    })
}
