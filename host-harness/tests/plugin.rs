//! End-to-end: the real Switchyard filter module in the harness.
//!
//! The module is built separately (it targets wasm32-wasip1 with its own
//! profile); these tests find it through `$SWITCHYARD_WASM` or the workspace
//! build output and fail, never skip, when it is missing.

use std::path::PathBuf;
use std::sync::OnceLock;

use switchyard_host_harness::{Plugin, VmOptions};

const BUILD: &str = "cargo build -p switchyard-plugin --target wasm32-wasip1 --profile wasm";

fn wasm_path() -> PathBuf {
    match std::env::var_os("SWITCHYARD_WASM") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/wasm32-wasip1/wasm/switchyard_plugin.wasm"),
    }
}

/// Compiled once per test binary; every test starts its own VM from it.
fn plugin() -> &'static Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        let path = wasm_path();
        assert!(
            path.is_file(),
            "the plugin module {} is missing: build it with `{BUILD}` \
             (or point $SWITCHYARD_WASM at a built module)",
            path.display()
        );
        Plugin::from_file(&path).unwrap_or_else(|e| panic!("{e:#}"))
    })
}

fn start_error(plugin_config: &[u8]) -> String {
    let options = VmOptions {
        plugin_config: plugin_config.to_vec(),
        root_id: "switchyard".into(),
        ..VmOptions::default()
    };
    match plugin().start(options) {
        Ok(_) => panic!("configuration {plugin_config:?} was accepted"),
        Err(e) => e.to_string(),
    }
}

/// WASI functions the harness answers itself; any other WASI import would
/// only trap.
const STUBBED_WASI: &[&str] = &[
    "fd_write",
    "environ_get",
    "environ_sizes_get",
    "args_get",
    "args_sizes_get",
    "random_get",
    "clock_time_get",
    "proc_exit",
];

#[test]
fn imports_only_env_and_stubbed_wasi() {
    let imports = plugin().imports();
    eprintln!("plugin imports:\n  {}", imports.join("\n  "));
    for import in &imports {
        let (module, name) = import.split_once("::").unwrap();
        match module {
            "env" => assert!(name.starts_with("proxy_"), "unexpected import {import}"),
            "wasi_snapshot_preview1" => {
                assert!(
                    STUBBED_WASI.contains(&name),
                    "WASI import {import} is not stubbed"
                )
            }
            _ => panic!("import from an unexpected module: {import}"),
        }
    }
    for needed in [
        "env::proxy_log",
        "env::proxy_get_buffer_bytes",
        "env::proxy_send_local_response",
    ] {
        assert!(imports.iter().any(|i| i == needed), "{needed} not imported");
    }
}

#[test]
fn exports_the_abi_and_an_allocator() {
    let exports = plugin().exports();
    for needed in [
        "memory",
        "proxy_abi_version_0_2_1",
        "proxy_on_memory_allocate",
        "proxy_on_context_create",
        "proxy_on_configure",
        "proxy_on_request_headers",
    ] {
        assert!(exports.iter().any(|e| e == needed), "{needed} not exported");
    }
}

#[test]
fn an_empty_configuration_is_refused_with_a_log_line() {
    let err = start_error(b"");
    assert!(err.contains("proxy_on_configure returned false"), "{err}");
    assert!(err.contains("switchyard: configuration refused"), "{err}");
}

#[test]
fn a_garbage_configuration_is_refused_with_a_log_line() {
    let err = start_error(b"\x00\x01 definitely not bytecode");
    assert!(err.contains("switchyard: configuration refused"), "{err}");
}

#[test]
fn a_json_configuration_without_bytecode_is_refused() {
    let err = start_error(br#"{"routes": []}"#);
    assert!(err.contains("switchyard: configuration refused"), "{err}");
}
