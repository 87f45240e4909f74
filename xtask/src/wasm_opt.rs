//! The optional `wasm-opt -Oz` pass (Binaryen) over the plugin module: about a sixth
//! smaller. It runs when `$WASM_OPT` names the tool or `wasm-opt` is on `PATH`
//! (`.ci/run` installs Binaryen from npm); without it the module stays as cargo built
//! it and behaves the same, only larger.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The WebAssembly features rustc uses by default for `wasm32-wasip1`; wasm-opt must be
/// told, since the stripped module does not record them.
const FEATURES: [&str; 4] = [
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-mutable-globals",
];

/// The tool, if there is one.
pub fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("WASM_OPT") {
        return Some(PathBuf::from(path));
    }
    let on_path = Command::new("wasm-opt")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    on_path.then(|| PathBuf::from("wasm-opt"))
}

/// Optimizes `input` into `output` (written to a temporary file, then renamed).
pub fn optimize(tool: &Path, input: &Path, output: &Path) -> Result<(), String> {
    let temp = output.with_extension("opt.tmp");
    crate::run(
        Command::new(tool)
            .args(FEATURES)
            .arg("-Oz")
            // Repeats the passes while they still shrink the module (about 0.6 KB).
            .arg("--converge")
            .arg(input)
            .arg("-o")
            .arg(&temp),
    )?;
    // Renaming replaces a link to cargo's file rather than writing through it.
    std::fs::rename(&temp, output).map_err(|e| format!("cannot replace {}: {e}", output.display()))
}
