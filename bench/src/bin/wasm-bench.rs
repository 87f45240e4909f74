//! The plugin's per-request cost and load time, natively and as Wasm in the host
//! harness, on generated configurations:
//!
//!     cargo xtask build-plugin
//!     cargo run --release -p switchyard-bench --bin wasm-bench [-- --sizes 100,1000 --wasm PATH]
//!
//! Per request (early, middle, late, miss; see `gen-config`):
//! - native: `Program::evaluate` with a reused `Scratch`, as the plugin calls it;
//! - Wasm evaluation: the same call compiled to Wasm, in the `eval-probe` module run by
//!   the harness: a request evaluated N times minus the same request evaluated once,
//!   over N, so the proxy-wasm exchange around it cancels out;
//! - Wasm exchange: one whole `HttpRequest` through the real plugin in the harness
//!   (context creation, request headers, evaluation, the routing header set, counters,
//!   response headers, log, done).
//!
//! Wasm costs are given as wall time and as wasmtime fuel (about one unit per Wasm
//! instruction executed by the guest; deterministic, so it does not depend on how busy
//! the machine is). Build the probe with
//! `cargo build -p switchyard-eval-probe --target wasm32-wasip1 --profile wasm`.
//!
//! Wall times are the median over batches of the mean time per call in the batch.
//! Load: `Program::from_bytes` natively, and `proxy_on_configure` in Wasm (the plugin
//! verifies and loads the same bytes), median of several runs, plus its fuel.
//! Results also go to `target/bench/results/plugin.json`.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;
use switchyard_bench::configs::{self, Case, median};
use switchyard_bench::model::{HeaderMatch, PathMatch};
use switchyard_bench::samples::SampleRequest;
use switchyard_bytecode::{Program, Scratch};
use switchyard_host_harness::{HttpRequest, Plugin, Vm, VmOptions};

/// Batches per measurement (the median is reported).
const BATCHES: usize = 15;
/// Wall time a batch aims at.
const BATCH_SECONDS: f64 = 0.02;

#[derive(Debug, Serialize)]
struct RequestRow {
    case: String,
    form: &'static str,
    rules: usize,
    layout: String,
    sample: &'static str,
    native_ns: f64,
    wasm_eval_ns: f64,
    wasm_eval_fuel: u64,
    exchange_ns: f64,
    exchange_fuel: u64,
}

#[derive(Debug, Serialize)]
struct LoadRow {
    case: String,
    form: &'static str,
    rules: usize,
    layout: String,
    bytecode_bytes: usize,
    regexes: usize,
    native_load_ms: f64,
    wasm_configure_ms: f64,
    wasm_configure_fuel: u64,
    /// The same program in the compressed container (`switchyard compile --compress`).
    compressed_bytes: usize,
    wasm_configure_compressed_ms: f64,
    wasm_configure_compressed_fuel: u64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("wasm-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut sizes = configs::SIZES.to_vec();
    let wasm_dir = configs::work_dir().join("../wasm32-wasip1/wasm");
    let mut wasm = wasm_dir.join("switchyard_plugin.wasm");
    let mut probe = wasm_dir.join("switchyard_eval_probe.wasm");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let value = iter.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sizes" => sizes = configs::parse_sizes(value)?,
            "--wasm" => wasm = PathBuf::from(value),
            "--probe" => probe = PathBuf::from(value),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    let plugin = Plugin::from_file(&wasm)
        .map_err(|e| format!("{e:#} (build it with `cargo xtask build-plugin`, or pass --wasm)"))?;
    let probe = Plugin::from_file(&probe).map_err(|e| {
        format!("{e:#} (build it with `cargo build -p switchyard-eval-probe --target wasm32-wasip1 --profile wasm`)")
    })?;
    let size = std::fs::metadata(&wasm).map_err(|e| e.to_string())?.len();
    println!("plugin: {} ({size} bytes)\n", wasm.display());
    let mut requests = Vec::new();
    let mut loads = Vec::new();
    println!(
        "| form | rules | layout | request | native | Wasm | Wasm / native | Wasm fuel | plugin exchange | exchange fuel |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for case in configs::cases(&sizes) {
        let (rows, load) = measure(&plugin, &probe, &case)?;
        for row in &rows {
            println!(
                "| {} | {} | {} | {} | {:.0} ns | {:.0} ns | {:.1}× | {} | {:.1} µs | {} |",
                row.form,
                row.rules,
                row.layout,
                row.sample,
                row.native_ns,
                row.wasm_eval_ns,
                row.wasm_eval_ns / row.native_ns,
                row.wasm_eval_fuel,
                row.exchange_ns / 1000.0,
                row.exchange_fuel
            );
        }
        requests.extend(rows);
        loads.push(load);
    }
    println!(
        "\n| form | rules | layout | bytecode | regexes | native load | Wasm configure | configure fuel | compressed | Wasm configure, compressed | fuel |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &loads {
        println!(
            "| {} | {} | {} | {} KiB | {} | {:.2} ms | {:.2} ms | {} | {} KiB | {:.2} ms | {} |",
            row.form,
            row.rules,
            row.layout,
            row.bytecode_bytes / 1024,
            row.regexes,
            row.native_load_ms,
            row.wasm_configure_ms,
            row.wasm_configure_fuel,
            row.compressed_bytes / 1024,
            row.wasm_configure_compressed_ms,
            row.wasm_configure_compressed_fuel
        );
    }
    let dir = configs::work_dir().join("results");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let json = serde_json::json!({ "plugin_bytes": size, "requests": requests, "load": loads });
    std::fs::write(
        dir.join("plugin.json"),
        serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// Evaluations per request in the probe's measuring run.
const PROBE_ITERATIONS: u32 = 200;

fn probe_vm(probe: &Plugin, bytes: &[u8], iterations: u32) -> Result<Vm, String> {
    let mut config = iterations.to_le_bytes().to_vec();
    config.extend_from_slice(bytes);
    probe
        .start(VmOptions {
            plugin_config: config,
            fuel: Some(u64::MAX / 2),
            ..VmOptions::default()
        })
        .map_err(|e| format!("the probe refused the program: {e:#}"))
}

fn measure(plugin: &Plugin, probe: &Plugin, case: &Case) -> Result<(Vec<RequestRow>, LoadRow), String> {
    let (generated, _) = configs::materialize(case)?;
    let bytes = &generated.program;
    let program = Program::from_bytes(bytes).map_err(|e| e.to_string())?;
    let mut vm = plugin
        .start(VmOptions {
            plugin_config: bytes.clone(),
            fuel: Some(u64::MAX / 2),
            ..VmOptions::default()
        })
        .map_err(|e| format!("{}: the plugin refused the program: {e:#}", case.name()))?;
    let mut once = probe_vm(probe, bytes, 0)?;
    let mut many = probe_vm(probe, bytes, PROBE_ITERATIONS)?;
    let mut rows = Vec::new();
    for (name, sample) in generated.requests.requests.named() {
        check_wasm(&mut vm, &program, sample).map_err(|e| format!("{} {name}: {e}", case.name()))?;
        for probe_vm in [&mut once, &mut many] {
            check_probe(probe_vm, sample).map_err(|e| format!("{} {name}: probe: {e}", case.name()))?;
        }
        let fuel = fuel_of(&mut vm, |vm| exchange(vm, sample).map(drop))?;
        let fuel_once = fuel_of(&mut once, |vm| exchange(vm, sample).map(drop))?;
        let fuel_many = fuel_of(&mut many, |vm| exchange(vm, sample).map(drop))?;
        let ns_once = time_per_call(|| {
            let vm = &mut once;
            move || {
                let _ = black_box(exchange(vm, sample));
            }
        });
        let ns_many = time_per_call(|| {
            let vm = &mut many;
            move || {
                let _ = black_box(exchange(vm, sample));
            }
        });
        let program = &program;
        let native_ns = time_per_call(|| {
            let mut scratch = Scratch::new();
            let request = sample.request(0x9E37_79B9_7F4A_7C15);
            move || {
                black_box(program.evaluate(black_box(&request), &mut scratch));
            }
        });
        let wasm_ns = time_per_call(|| {
            let vm = &mut vm;
            move || {
                let _ = black_box(exchange(vm, sample));
                vm.take_logs();
            }
        });
        rows.push(RequestRow {
            case: case.name(),
            form: case.form.name(),
            rules: case.rules,
            layout: case.layout(),
            sample: name,
            native_ns,
            wasm_eval_ns: (ns_many - ns_once) / f64::from(PROBE_ITERATIONS),
            wasm_eval_fuel: (fuel_many - fuel_once) / u64::from(PROBE_ITERATIONS),
            exchange_ns: wasm_ns,
            exchange_fuel: fuel,
        });
    }
    let runs = if case.rules >= 100_000 { 5 } else { 15 };
    let mut native = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let _ = black_box(Program::from_bytes(black_box(bytes)).map(drop));
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect::<Vec<_>>();
    let configure_fuel = fuel_of(&mut vm, |vm| configure(vm, bytes))?;
    let mut wasm = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        configure(&mut vm, bytes)?;
        wasm.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let compressed = switchyard_bytecode::compress::compress(bytes);
    let compressed_fuel = fuel_of(&mut vm, |vm| configure(vm, &compressed))?;
    let mut wasm_compressed = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        configure(&mut vm, &compressed)?;
        wasm_compressed.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let regexes = generated
        .config
        .hosts
        .iter()
        .flat_map(|h| &h.rules)
        .filter(|r| matches!(r.path, PathMatch::Regex(_)))
        .count()
        + distinct_header_regexes(&generated.config);
    let load = LoadRow {
        case: case.name(),
        form: case.form.name(),
        rules: case.rules,
        layout: case.layout(),
        bytecode_bytes: bytes.len(),
        regexes,
        native_load_ms: median(&mut native),
        wasm_configure_ms: median(&mut wasm),
        wasm_configure_fuel: configure_fuel,
        compressed_bytes: compressed.len(),
        wasm_configure_compressed_ms: median(&mut wasm_compressed),
        wasm_configure_compressed_fuel: compressed_fuel,
    };
    Ok((rows, load))
}

fn distinct_header_regexes(config: &switchyard_bench::model::Config) -> usize {
    let mut patterns: Vec<&str> = config
        .hosts
        .iter()
        .flat_map(|h| &h.rules)
        .flat_map(|r| &r.headers)
        .filter_map(|h| match h {
            HeaderMatch::Regex { pattern, .. } => Some(*pattern),
            HeaderMatch::Exact { .. } => None,
        })
        .collect();
    patterns.sort_unstable();
    patterns.dedup();
    patterns.len()
}

fn configure(vm: &mut Vm, bytes: &[u8]) -> Result<(), String> {
    match vm.reconfigure(bytes) {
        Ok(true) => Ok(()),
        Ok(false) => Err("the plugin refused the program".into()),
        Err(e) => Err(format!("{e:#}")),
    }
}

fn request_of(sample: &SampleRequest) -> HttpRequest {
    let mut headers = vec![
        (":method".to_string(), sample.method.clone()),
        (":scheme".to_string(), "http".to_string()),
        (":authority".to_string(), sample.authority.clone()),
        (":path".to_string(), sample.path.clone()),
    ];
    headers.extend(sample.headers.iter().cloned());
    HttpRequest {
        headers,
        ..HttpRequest::default()
    }
}

fn exchange(vm: &mut Vm, sample: &SampleRequest) -> Result<switchyard_host_harness::HttpExchange, String> {
    vm.http_request(&request_of(sample)).map_err(|e| format!("{e:#}"))
}

/// The plugin in the harness must decide as the generator proved: the expected
/// cluster in the routing header, or a 404.
fn check_wasm(vm: &mut Vm, program: &Program, sample: &SampleRequest) -> Result<(), String> {
    let exchange = exchange(vm, sample)?;
    // Either routing header names the cluster (the second one for Istio's default
    // retry policy).
    let headers = [
        program.routing_header().to_string(),
        switchyard_bytecode::default_retry_header(program.routing_header()),
    ];
    match &sample.expect_cluster {
        Some(cluster) => {
            let sent = exchange
                .upstream_request
                .as_ref()
                .and_then(|h| h.iter().find(|(n, _)| headers.contains(n)))
                .map(|(_, v)| v.as_str());
            if sent != Some(cluster.as_str()) {
                return Err(format!("Wasm sent {sent:?}, expected {cluster}"));
            }
        }
        None => {
            let status = exchange.local_reply.as_ref().map(|r| r.status);
            if status != Some(404) {
                return Err(format!("Wasm answered {status:?}, expected 404"));
            }
        }
    }
    vm.take_logs();
    Ok(())
}

/// The probe must reach the same decision as the generator proved.
fn check_probe(vm: &mut Vm, sample: &SampleRequest) -> Result<(), String> {
    let exchange = exchange(vm, sample)?;
    let decided = exchange
        .upstream_request
        .as_ref()
        .and_then(|h| h.iter().find(|(n, _)| n == "x-probe-decision"))
        .map(|(_, v)| v.clone());
    let want = sample.expect_cluster.clone().unwrap_or_else(|| "404".to_string());
    if decided.as_deref() != Some(want.as_str()) {
        return Err(format!("decided {decided:?}, expected {want}"));
    }
    Ok(())
}

/// Fuel `f` consumes.
fn fuel_of(vm: &mut Vm, f: impl FnOnce(&mut Vm) -> Result<(), String>) -> Result<u64, String> {
    let before = vm.fuel_consumed().ok_or("fuel metering is off")?;
    f(vm)?;
    let after = vm.fuel_consumed().ok_or("fuel metering is off")?;
    Ok(after - before)
}

/// Median over [`BATCHES`] batches of the mean nanoseconds per call; the batch size is
/// chosen from a first estimate so a batch takes about [`BATCH_SECONDS`].
fn time_per_call<F: FnMut()>(make: impl FnOnce() -> F) -> f64 {
    let mut call = make();
    let start = Instant::now();
    let mut probe = 0u64;
    while start.elapsed().as_secs_f64() < BATCH_SECONDS / 4.0 {
        call();
        probe += 1;
    }
    let per_call = start.elapsed().as_secs_f64() / probe as f64;
    let batch = ((BATCH_SECONDS / per_call) as u64).max(1);
    let mut means: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                call();
            }
            start.elapsed().as_secs_f64() * 1e9 / batch as f64
        })
        .collect();
    median(&mut means)
}
