//! Envoy side by side (issue #6): the same generated routes served by Envoy's own router
//! (the table `switchyard emit envoy-routes` writes), by the plugin, and by Envoy with no
//! filter and one route (the floor), each Envoy with one worker on loopback.
//!
//!     cargo xtask build-plugin
//!     cargo run --release -p switchyard-bench --bin gen-config -- --rules 10000 --hosts 1 \
//!         --form gateway-api --out /tmp/g
//!     cargo run --release -p switchyard-bench --bin envoy-bench -- --config /tmp/g
//!
//! The three Envoys run side by side. For each of the early, middle, late and miss
//! requests of `requests.json`, a run sends the request to each Envoy a fixed number of
//! times (chosen once so that the Envoy spends about `--cpu-seconds` of CPU) over one
//! keep-alive connection, one request at a time, in ten slices taken in turns so that
//! load from other jobs falls on all three alike; it reads each Envoy's CPU time
//! (utime + stime of the whole process, `/proc/PID/stat`) before and after: CPU per
//! request is the difference over the count. `--runs` runs; the report gives medians.
//! Before measuring, every request is checked to reach its expected cluster (or 404)
//! in both the native and the plugin configuration.
//!
//! `--candidate PATH` adds a fourth Envoy, the plugin configuration with another module,
//! measured in the same slices: two builds compared under the same load. Run it under
//! `taskset -c 0` (the benchmark and every Envoy on one CPU, which Envoy inherits): on a
//! shared 2-CPU virtual machine, a request that wakes Envoy on the other, idle CPU costs
//! it about 10 µs more, and whether it does changes from run to run; on one CPU the same
//! module measures the same within 0.1–0.2 µs (BENCHMARKS.md).

mod client;
mod configs;
mod cpu;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use switchyard_bench::samples::{RequestsFile, SampleRequest};
use switchyard_bytecode::Program;
use switchyard_compiler::compile::{CompileOptions, Compiled, Target, compile};
use switchyard_compiler::emit::envoy_routes::json::to_json;
use switchyard_compiler::emit::envoy_routes::{RouteTable, route_table_for};
use switchyard_compiler::input::load_inputs;
use switchyard_compiler::routetest::engine::find_plugin;
use switchyard_compiler::routetest::envoy::process::{EnvoyProcess, WorkDir, find_envoy};

use self::client::{Connection, encode};
use self::configs::{Kind, VERIFY_HEADER, bootstrap_for};

const USAGE: &str = "usage: envoy-bench --config DIR [--runs K] [--cpu-seconds S] [--envoy PATH] [--wasm PATH] \
     [--candidate PATH] [--routing native,plugin,floor,candidate] [--requests early,middle,late,miss] [--json OUT] \
     [--sizes-only]";

struct Args {
    config: PathBuf,
    runs: usize,
    cpu_seconds: f64,
    envoy: Option<PathBuf>,
    wasm: Option<PathBuf>,
    /// A second plugin module, run as the `candidate` Envoy beside `plugin`.
    candidate: Option<PathBuf>,
    json: Option<PathBuf>,
    kinds: Vec<Kind>,
    classes: Vec<String>,
    /// Skip the routing check (for experimental plugin builds that do not route).
    no_verify: bool,
    /// Only print the sizes (program, compressed program, RouteConfiguration JSON).
    sizes_only: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        config: PathBuf::new(),
        runs: 5,
        cpu_seconds: 1.0,
        envoy: None,
        wasm: None,
        candidate: None,
        json: None,
        kinds: Kind::ALL.to_vec(),
        classes: ["early", "middle", "late", "miss"].map(String::from).to_vec(),
        no_verify: false,
        sizes_only: false,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--config" => parsed.config = PathBuf::from(value()?),
            "--runs" => parsed.runs = value()?.parse().map_err(|_| "--runs: not a number")?,
            "--cpu-seconds" => {
                parsed.cpu_seconds = value()?.parse().map_err(|_| "--cpu-seconds: not a number")?;
            }
            "--envoy" => parsed.envoy = Some(PathBuf::from(value()?)),
            "--wasm" => parsed.wasm = Some(PathBuf::from(value()?)),
            "--candidate" => parsed.candidate = Some(PathBuf::from(value()?)),
            "--json" => parsed.json = Some(PathBuf::from(value()?)),
            "--routing" => {
                parsed.kinds = value()?
                    .split(',')
                    .map(|k| Kind::parse_any(k).ok_or_else(|| format!("--routing: unknown {k}")))
                    .collect::<Result<_, _>>()?;
            }
            "--no-verify" => parsed.no_verify = true,
            "--sizes-only" => parsed.sizes_only = true,
            "--requests" => parsed.classes = value()?.split(',').map(String::from).collect(),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if parsed.config.as_os_str().is_empty() {
        return Err("--config DIR is required (made by gen-config)".into());
    }
    if parsed.candidate.is_some() && !parsed.kinds.contains(&Kind::Candidate) {
        parsed.kinds.push(Kind::Candidate);
    }
    if parsed.kinds.contains(&Kind::Candidate) && parsed.candidate.is_none() {
        return Err("--routing candidate needs --candidate PATH".into());
    }
    if parsed.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("envoy-bench: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match bench(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("envoy-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The generated configuration, compiled, with its route table.
struct Loaded {
    requests: RequestsFile,
    compiled: Compiled,
    program: Program,
    table: RouteTable,
}

fn load(dir: &Path) -> Result<Loaded, String> {
    let manifests = dir.join("manifests.yaml");
    let text = std::fs::read_to_string(dir.join("requests.json"))
        .map_err(|e| format!("{}: {e}", dir.join("requests.json").display()))?;
    let requests: RequestsFile = serde_json::from_str(&text).map_err(|e| format!("requests.json: {e}"))?;
    let documents = load_inputs(&[manifests.to_string_lossy().into_owned()])
        .map_err(|d| format!("{}: {} diagnostics", manifests.display(), d.0.len()))?;
    let [flag, key] = &requests.target;
    let target = match flag.as_str() {
        "--gateway" => Target::Gateway(Some(key.clone())),
        "--istio-gateway" => Target::IstioGateway(key.clone()),
        "--mesh" => Target::Mesh(key.clone()),
        other => return Err(format!("requests.json: unknown target flag {other}")),
    };
    let options = CompileOptions {
        target,
        ..CompileOptions::default()
    };
    let compiled =
        compile(&documents, &options).map_err(|d| format!("does not compile: {:?}", d.0.first()))?;
    let program = Program::from_bytes(&compiled.bytes).map_err(|e| e.to_string())?;
    let table = route_table_for(&compiled.ir, Some(requests.port))?;
    Ok(Loaded {
        requests,
        compiled,
        program,
        table,
    })
}

fn free_port() -> Result<u32, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(u32::from(
        listener.local_addr().map_err(|e| e.to_string())?.port(),
    ))
}

/// A running Envoy for one configuration.
struct Running {
    kind: Kind,
    address: SocketAddr,
    process: EnvoyProcess,
    _dir: WorkDir,
}

fn start(kind: Kind, loaded: &Loaded, envoy: &Path, wasm: &str, verify: bool) -> Result<Running, String> {
    let dir = WorkDir::new().map_err(|e| e.to_string())?;
    let port = free_port()?;
    let config = bootstrap_for(kind, &loaded.program, &loaded.table, wasm, port, verify);
    let path = dir.path.join("bootstrap.yaml");
    std::fs::write(&path, config.to_yaml()).map_err(|e| e.to_string())?;
    let process =
        EnvoyProcess::start(envoy, &path, &dir.path).map_err(|e| format!("{} Envoy: {e}", kind.name()))?;
    Ok(Running {
        kind,
        address: SocketAddr::from(([127, 0, 0, 1], port as u16)),
        process,
        _dir: dir,
    })
}

/// The status `kind` answers `sample` with: 200 for a routed request, 404 for a miss,
/// except on the floor, whose one route takes everything.
fn expected_status(kind: Kind, sample: &SampleRequest) -> u16 {
    if sample.expect_cluster.is_some() || kind == Kind::Floor {
        200
    } else {
        404
    }
}

/// Every sample reaches its cluster (or 404) through the native and the plugin routing.
fn verify(loaded: &Loaded, envoy: &Path, wasm: &str, candidate: Option<&str>) -> Result<(), String> {
    let mut kinds = vec![(Kind::Native, wasm), (Kind::Plugin, wasm)];
    kinds.extend(candidate.map(|module| (Kind::Candidate, module)));
    for (kind, module) in kinds {
        let running = start(kind, loaded, envoy, module, true)?;
        let mut connection =
            Connection::open(running.address, loaded.requests.port).map_err(|e| e.to_string())?;
        for (name, sample) in loaded.requests.requests.named() {
            let response = connection.exchange(&encode(sample)).map_err(|e| e.to_string())?;
            let reached = match kind {
                Kind::Plugin | Kind::Candidate => response.header(VERIFY_HEADER).unwrap_or("").to_string(),
                _ => String::from_utf8_lossy(&response.body).into_owned(),
            };
            let ok = response.status == expected_status(kind, sample)
                && match &sample.expect_cluster {
                    Some(cluster) => reached == *cluster,
                    None => true,
                };
            if !ok {
                return Err(format!(
                    "{} routing sends the {name} request to {reached:?} (status {}), expected {:?}",
                    kind.name(),
                    response.status,
                    sample.expect_cluster
                ));
            }
        }
    }
    Ok(())
}

/// One measurement.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Envoy CPU per request from utime + stime, ns.
    cpu_ns: f64,
    /// The same from the scheduler's per-thread counters, ns.
    sched_ns: f64,
    throughput: f64,
    p50_ns: u64,
    p99_ns: u64,
    count: usize,
}

/// Sends the request until Envoy has used about 50 ms of CPU; returns the count to send
/// for `cpu_seconds`.
fn calibrate(
    running: &Running,
    request: &[u8],
    status: u16,
    port: u32,
    cpu_seconds: f64,
) -> Result<usize, String> {
    let mut connection = Connection::open(running.address, port).map_err(|e| e.to_string())?;
    client::run(&mut connection, request, 50, status).map_err(|e| e.to_string())?;
    let pid = running.process.pid();
    let before = cpu::process_cpu_sched(pid).map_err(|e| e.to_string())?;
    let mut sent = 0usize;
    let mut used = 0;
    while used < 50_000_000 && sent < 20_000 {
        client::run(&mut connection, request, 100, status).map_err(|e| e.to_string())?;
        sent += 100;
        used = cpu::process_cpu_sched(pid).map_err(|e| e.to_string())? - before;
    }
    let per_request = used as f64 / sent as f64;
    Ok(((cpu_seconds * 1e9 / per_request) as usize).clamp(500, 300_000))
}

/// How many slices a run is cut into: the Envoys take turns slice by slice, so a burst
/// of load from other jobs on the machine falls on all of them alike.
const SLICES: usize = 10;

/// One run of one request class on every Envoy: each sends `counts[k]` requests in
/// [`SLICES`] turns. CPU per request is the Envoy's CPU time from before its first
/// slice to after its last over its request count; between its slices it is idle (an
/// idle Envoy uses well under 0.1 % of a core, see `idle_cpu`).
fn measure(
    running: &[Running],
    sample: &SampleRequest,
    port: u32,
    counts: &[usize],
) -> Result<Vec<Sample>, String> {
    let request = encode(sample);
    let mut connections = Vec::new();
    for r in running {
        let mut connection = Connection::open(r.address, port).map_err(|e| e.to_string())?;
        // Warm the connection (and the plugin's context) outside the measured window.
        client::run(&mut connection, &request, 100, expected_status(r.kind, sample))
            .map_err(|e| format!("{}: {e}", r.kind.name()))?;
        connections.push(connection);
    }
    let read = |r: &Running| -> Result<(u64, u64), String> {
        let pid = r.process.pid();
        Ok((
            cpu::process_cpu_stat(pid).map_err(|e| e.to_string())?,
            cpu::process_cpu_sched(pid).map_err(|e| e.to_string())?,
        ))
    };
    let before: Vec<(u64, u64)> = running.iter().map(read).collect::<Result<_, _>>()?;
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); running.len()];
    let mut walls = vec![std::time::Duration::ZERO; running.len()];
    for slice in 0..SLICES {
        // Each slice starts with the next Envoy: with a fixed order, one Envoy compared
        // with itself read up to 0.8 µs apart depending on its place in the turn.
        for step in 0..running.len() {
            let k = (slice + step) % running.len();
            let r = &running[k];
            let count = counts[k] / SLICES + usize::from(slice < counts[k] % SLICES);
            let run = client::run(
                &mut connections[k],
                &request,
                count,
                expected_status(r.kind, sample),
            )
            .map_err(|e| format!("{}: {e}", r.kind.name()))?;
            latencies[k].extend(run.latencies);
            walls[k] += run.wall;
        }
    }
    let after: Vec<(u64, u64)> = running.iter().map(read).collect::<Result<_, _>>()?;
    Ok((0..running.len())
        .map(|k| {
            let mut sorted = std::mem::take(&mut latencies[k]);
            sorted.sort_unstable();
            let run = client::Run {
                latencies: sorted,
                wall: walls[k],
            };
            let count = counts[k];
            Sample {
                cpu_ns: (after[k].0 - before[k].0) as f64 / count as f64,
                sched_ns: (after[k].1 - before[k].1) as f64 / count as f64,
                throughput: run.throughput(),
                p50_ns: run.percentile(50.0),
                p99_ns: run.percentile(99.0),
                count,
            }
        })
        .collect())
}

/// An Envoy's CPU use while nothing is sent, in µs per second.
fn idle_cpu(running: &Running) -> Result<f64, String> {
    let pid = running.process.pid();
    let before = cpu::process_cpu_sched(pid).map_err(|e| e.to_string())?;
    let start = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let used = cpu::process_cpu_sched(pid).map_err(|e| e.to_string())? - before;
    Ok(used as f64 / 1e3 / start.elapsed().as_secs_f64())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn bench(args: &Args) -> Result<(), String> {
    let loaded = load(&args.config)?;
    let routes_json = to_json(&loaded.table.config, false);
    let compressed = switchyard_bytecode::compress::compress(&loaded.compiled.bytes).len();
    let json_len = routes_json.len() as f64;
    eprintln!(
        "envoy-bench: bytecode {} bytes, compressed {compressed} bytes, RouteConfiguration JSON {} bytes \
         (ratio {:.3}; compressed {:.3})",
        loaded.compiled.bytes.len(),
        routes_json.len(),
        loaded.compiled.bytes.len() as f64 / json_len,
        compressed as f64 / json_len
    );
    if args.sizes_only {
        return Ok(());
    }
    let envoy = match &args.envoy {
        Some(path) => path.clone(),
        None => find_envoy(None).or_else(|e| {
            let venv = PathBuf::from(".venv/bin/envoy");
            if venv.is_file() { Ok(venv) } else { Err(e) }
        })?,
    };
    let wasm = find_plugin(args.wasm.as_deref())?;
    let absolute = |path: &Path| -> Result<String, String> {
        Ok(std::fs::canonicalize(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .to_string_lossy()
            .into_owned())
    };
    let wasm = absolute(&wasm)?;
    let candidate = args.candidate.as_deref().map(absolute).transpose()?;
    let entries: usize = loaded
        .compiled
        .ir
        .listeners
        .iter()
        .flat_map(|l| &l.vhosts)
        .map(|v| v.entries.len())
        .sum();
    let vhosts: usize = loaded.compiled.ir.listeners.iter().map(|l| l.vhosts.len()).sum();
    eprintln!("envoy-bench: {entries} rules over {vhosts} virtual hosts");
    if !args.no_verify {
        verify(&loaded, &envoy, &wasm, candidate.as_deref())?;
        eprintln!(
            "envoy-bench: every sample request reaches its cluster through native routes and the plugin"
        );
    }

    let running: Vec<Running> = args
        .kinds
        .iter()
        .map(|&kind| {
            let module = match kind {
                Kind::Candidate => candidate.as_deref().unwrap_or(&wasm),
                _ => &wasm,
            };
            start(kind, &loaded, &envoy, module, false)
        })
        .collect::<Result<_, _>>()?;
    let port = loaded.requests.port;
    let classes: Vec<_> = loaded
        .requests
        .requests
        .named()
        .into_iter()
        .filter(|(name, _)| args.classes.iter().any(|c| c == name))
        .collect();
    // counts[class][kind], from the first pass.
    let mut counts = vec![vec![0usize; running.len()]; classes.len()];
    for (c, (_, sample)) in classes.iter().enumerate() {
        for (k, r) in running.iter().enumerate() {
            counts[c][k] = calibrate(
                r,
                &encode(sample),
                expected_status(r.kind, sample),
                port,
                args.cpu_seconds,
            )
            .map_err(|e| format!("{} {}: {e}", r.kind.name(), classes[c].0))?;
        }
    }
    for r in &running {
        eprintln!(
            "envoy-bench: {} Envoy idle: {:.0} µs of CPU per second",
            r.kind.name(),
            idle_cpu(r)?
        );
    }
    let mut samples: Vec<Vec<Vec<Sample>>> = vec![vec![Vec::new(); running.len()]; classes.len()];
    for run in 0..args.runs {
        for (c, (name, sample)) in classes.iter().enumerate() {
            let measured = measure(&running, sample, port, &counts[c]).map_err(|e| format!("{name}: {e}"))?;
            for (k, s) in measured.into_iter().enumerate() {
                eprintln!(
                    "run {}/{} {name:6} {:6}: {:8.2} µs CPU/request ({:8.2} sched), {:7.0} req/s, p50 {:7.1} µs, p99 {:7.1} µs, {} requests",
                    run + 1,
                    args.runs,
                    running[k].kind.name(),
                    s.cpu_ns / 1e3,
                    s.sched_ns / 1e3,
                    s.throughput,
                    s.p50_ns as f64 / 1e3,
                    s.p99_ns as f64 / 1e3,
                    s.count
                );
                samples[c][k].push(s);
            }
        }
    }
    let mut rows = Vec::new();
    println!("| request | routing | CPU µs/request | req/s (1 connection) | p50 µs | p99 µs |");
    println!("|---|---|---|---|---|---|");
    for (c, (name, _)) in classes.iter().enumerate() {
        for (k, r) in running.iter().enumerate() {
            let list = &samples[c][k];
            let pick = |f: fn(&Sample) -> f64| median(list.iter().map(f).collect());
            let (cpu, sched, rps, p50, p99) = (
                pick(|s| s.cpu_ns),
                pick(|s| s.sched_ns),
                pick(|s| s.throughput),
                pick(|s| s.p50_ns as f64),
                pick(|s| s.p99_ns as f64),
            );
            println!(
                "| {name} | {} | {:.1} | {:.0} | {:.1} | {:.1} |",
                r.kind.name(),
                cpu / 1e3,
                rps,
                p50 / 1e3,
                p99 / 1e3
            );
            rows.push(serde_json::json!({
                "request": name, "routing": r.kind.name(),
                "cpu_us": cpu / 1e3, "cpu_us_min": list.iter().map(|s| s.cpu_ns).fold(f64::MAX, f64::min) / 1e3,
                "sched_cpu_us": sched / 1e3, "requests_per_second": rps,
                "p50_us": p50 / 1e3, "p99_us": p99 / 1e3, "requests_per_run": counts[c][k],
                "runs": list.len(),
            }));
        }
    }
    if let Some(out) = &args.json {
        let report = serde_json::json!({
            "rules": entries, "virtual_hosts": vhosts,
            "bytecode_bytes": loaded.compiled.bytes.len(),
            "compressed_bytecode_bytes": compressed,
            "route_configuration_json_bytes": routes_json.len(),
            "runs": args.runs, "cpu_seconds_per_run": args.cpu_seconds,
            "results": rows,
        });
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n";
        std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(())
}
