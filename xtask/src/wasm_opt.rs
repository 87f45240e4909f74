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

/// Optimizes cargo's output (`deps/NAME`, of which `module` is a copy or a link) into
/// `module`: always from cargo's file, so running it twice gives the same bytes.
pub fn optimize(tool: &Path, module: &Path) -> Result<(), String> {
    let name = module.file_name().ok_or("the module path has no file name")?;
    let original = module.with_file_name("deps").join(name);
    if !original.is_file() {
        return Err(format!("cargo's output {} is missing", original.display()));
    }
    let temp = module.with_extension("opt.tmp");
    crate::run(
        Command::new(tool)
            .args(FEATURES)
            .arg("-Oz")
            .arg(&original)
            .arg("-o")
            .arg(&temp),
    )?;
    // Renaming replaces the link to cargo's file rather than writing through it.
    std::fs::rename(&temp, module).map_err(|e| format!("cannot replace {}: {e}", module.display()))
}
