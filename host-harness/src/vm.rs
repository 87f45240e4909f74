//! `Plugin` (compiled once) and `Vm` (one instance, one store).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, ExternType, Linker, Module, Store, TypedFunc, WasmParams, WasmResults};

use crate::Result;
use crate::abi::ROOT_CONTEXT_ID;
use crate::guest::Guest;
use crate::state::{Access, HostState};
use crate::types::{LogLine, Metric, VmOptions};
use crate::{hostcalls, wasi};

/// A compiled module plus its `Linker`, built once and shared: cloning is an
/// `Arc` bump, and every [`Plugin::start`] gets a fresh, isolated store.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Compiled>,
}

struct Compiled {
    engine: Engine,
    module: Module,
    linker: Linker<HostState>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("imports", &self.imports().len())
            .field("exports", &self.exports().len())
            .finish()
    }
}

/// Exports without which the module cannot be a proxy-wasm 0.2.1 filter.
fn check_shape(module: &Module) -> Result<()> {
    let has = |name: &str| module.get_export(name).is_some();
    if !has("proxy_abi_version_0_2_1") {
        wasmtime::bail!(
            "module does not export `proxy_abi_version_0_2_1`: not a proxy-wasm ABI 0.2.1 filter"
        );
    }
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        wasmtime::bail!("module does not export its linear memory as `memory`");
    }
    if !has("malloc") && !has("proxy_on_memory_allocate") {
        wasmtime::bail!("module exports neither `malloc` nor `proxy_on_memory_allocate`");
    }
    Ok(())
}

impl Plugin {
    pub fn from_file(path: &Path) -> Result<Plugin> {
        let wasm = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Plugin::from_bytes(&wasm).with_context(|| format!("cannot load {}", path.display()))
    }

    pub fn from_bytes(wasm: &[u8]) -> Result<Plugin> {
        let mut config = Config::new();
        // Fuel checks are compiled into the code, so they are always on; a VM
        // started without a fuel budget simply gets `u64::MAX`.
        config.consume_fuel(true);
        let engine = Engine::new(&config)?;
        let module = Module::from_binary(&engine, wasm)?;
        check_shape(&module)?;
        let mut linker = Linker::new(&engine);
        hostcalls::add_to_linker(&mut linker)?;
        wasi::add_to_linker(&mut linker)?;
        linker.define_unknown_imports_as_traps(&module)?;
        Ok(Plugin {
            inner: Arc::new(Compiled {
                engine,
                module,
                linker,
            }),
        })
    }

    /// The module's function imports as `module::name`, e.g.
    /// `env::proxy_log` or `wasi_snapshot_preview1::fd_write`.
    pub fn imports(&self) -> Vec<String> {
        self.inner
            .module
            .imports()
            .map(|i| format!("{}::{}", i.module(), i.name()))
            .collect()
    }

    pub fn exports(&self) -> Vec<String> {
        self.inner.module.exports().map(|e| e.name().to_owned()).collect()
    }

    /// Instantiates a fresh store and runs Envoy's start sequence:
    /// `_initialize` (or `_start`), `main` if exported,
    /// `proxy_on_context_create(1, 0)`, `proxy_on_vm_start(1, vm_config_len)`,
    /// `proxy_on_configure(1, plugin_config_len)`. A `false` from either of
    /// the last two, or a trap anywhere, is an error carrying the plugin log.
    pub fn start(&self, options: VmOptions) -> Result<Vm> {
        let Compiled {
            engine,
            module,
            linker,
        } = &*self.inner;
        let mut store = Store::new(engine, HostState::new(&options));
        store.set_fuel(options.fuel.unwrap_or(u64::MAX))?;
        let instance = linker.instantiate(&mut store, module)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .context("module has no `memory` export")?;
        let allocator = Guest::allocator(&instance, &mut store)?;
        store.data_mut().memory = Some(memory);
        store.data_mut().allocator = Some(allocator);
        let guest = Guest::load(&instance, &mut store)?;
        let mut vm = Vm {
            store,
            guest,
            fuel_budget: options.fuel,
            next_context_id: ROOT_CONTEXT_ID + 1,
            failed: None,
            log_mark: 0,
        };
        vm.boot(&options)?;
        Ok(vm)
    }
}

/// One running plugin instance: a store, its guest exports, and the state of
/// the stream being driven.
pub struct Vm {
    pub(crate) store: Store<HostState>,
    pub(crate) guest: Guest,
    fuel_budget: Option<u64>,
    next_context_id: u32,
    /// Set by the first trap: the guest's heap and globals may be half
    /// updated, so (like Envoy, which fails the VM) no further call is made.
    failed: Option<String>,
    /// Index of the first log line of the current operation, for errors.
    log_mark: usize,
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm")
            .field("state", self.store.data())
            .field("next_context_id", &self.next_context_id)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Vm {
    fn boot(&mut self, options: &VmOptions) -> Result<()> {
        if let Some((name, init)) = self.guest.initialize.clone() {
            self.invoke(name, Some(init), (), Access::default())?;
        }
        self.invoke("main", self.guest.main.clone(), (0, 0), Access::default())?;
        let create = self.guest.on_context_create.clone();
        self.invoke(
            "proxy_on_context_create",
            create,
            (ROOT_CONTEXT_ID, 0),
            Access::default(),
        )?;
        let vm_config_len = u32::try_from(options.vm_config.len()).context("vm_config over 4 GiB")?;
        let start = self.guest.on_vm_start.clone();
        let started = self.invoke(
            "proxy_on_vm_start",
            start,
            (ROOT_CONTEXT_ID, vm_config_len),
            Access::default(),
        )?;
        if started == Some(0) {
            wasmtime::bail!("proxy_on_vm_start returned false\n{}", self.log_report());
        }
        if !self.configure()? {
            wasmtime::bail!("proxy_on_configure returned false\n{}", self.log_report());
        }
        Ok(())
    }

    fn configure(&mut self) -> Result<bool> {
        let len = u32::try_from(self.store.data().plugin_config.len())
            .context("plugin configuration over 4 GiB")?;
        let access = Access {
            plugin_config: true,
            ..Access::default()
        };
        let configure = self.guest.on_configure.clone();
        let result = self.invoke("proxy_on_configure", configure, (ROOT_CONTEXT_ID, len), access)?;
        Ok(result.is_none_or(|ok| ok != 0))
    }

    /// Re-runs `proxy_on_configure` with a new plugin configuration, as Envoy
    /// does on a config update. Returns what the guest returned.
    pub fn reconfigure(&mut self, plugin_config: &[u8]) -> Result<bool> {
        self.begin_operation()?;
        self.store.data_mut().plugin_config = plugin_config.to_vec();
        self.configure()
    }

    /// Starts a public operation: refuses a failed VM and remembers where
    /// this operation's log lines begin.
    pub(crate) fn begin_operation(&mut self) -> Result<()> {
        if let Some(reason) = &self.failed {
            wasmtime::bail!("the VM failed earlier ({reason}); start a new one");
        }
        self.log_mark = self.store.data().logs.len();
        Ok(())
    }

    pub(crate) fn next_context_id(&mut self) -> Result<u32> {
        let id = self.next_context_id;
        self.next_context_id = id.checked_add(1).context("context ids exhausted")?;
        Ok(id)
    }

    /// Calls one guest export with `access` granted for its duration. A
    /// missing export is `Ok(None)`; a trap fails the VM and comes back as
    /// an error whose message names the callback, the cause and the log.
    pub(crate) fn invoke<P: WasmParams, R: WasmResults>(
        &mut self,
        name: &str,
        func: Option<TypedFunc<P, R>>,
        params: P,
        access: Access,
    ) -> Result<Option<R>> {
        if let Some(reason) = &self.failed {
            wasmtime::bail!("the VM failed earlier ({reason}); start a new one");
        }
        let Some(func) = func else {
            return Ok(None);
        };
        self.store.data_mut().access = access;
        let result = func.call(&mut self.store, params);
        self.store.data_mut().access = Access::default();
        match result {
            Ok(value) => Ok(Some(value)),
            Err(err) => {
                let summary = format!("{name} trapped: {}", err.root_cause());
                self.failed = Some(summary.clone());
                Err(err.context(format!("{summary}\n{}", self.log_report())))
            }
        }
    }

    /// The log lines of the current operation (including unfinished stdout
    /// and stderr lines), formatted for an error message.
    fn log_report(&mut self) -> String {
        let state = self.store.data_mut();
        for (slot, level) in [(0, crate::LogLevel::Info), (1, crate::LogLevel::Error)] {
            let rest = std::mem::take(&mut state.stdio_pending[slot]);
            if !rest.is_empty() {
                state.log(level, &rest);
            }
        }
        let lines = &state.logs[self.log_mark.min(state.logs.len())..];
        if lines.is_empty() {
            return "plugin log: (empty)".to_owned();
        }
        let mut out = String::from("plugin log:");
        for line in lines {
            let _ = write!(out, "\n  {line}");
        }
        out
    }

    pub fn logs(&self) -> &[LogLine] {
        &self.store.data().logs
    }

    /// The property paths the guest has read so far (segments joined by `.`), in order.
    pub fn property_reads(&self) -> &[String] {
        &self.store.data().property_reads
    }

    pub fn take_logs(&mut self) -> Vec<LogLine> {
        self.log_mark = 0;
        std::mem::take(&mut self.store.data_mut().logs)
    }

    /// Metrics defined by the guest, in definition order.
    pub fn metrics(&self) -> Vec<Metric> {
        self.store.data().metrics.snapshot()
    }

    /// Fuel consumed since the VM was created (None when fuel is off).
    pub fn fuel_consumed(&self) -> Option<u64> {
        let budget = self.fuel_budget?;
        let left = self.store.get_fuel().ok()?;
        Some(budget.saturating_sub(left))
    }

    /// Whether a trap has failed this VM (every later call is refused).
    pub fn is_failed(&self) -> bool {
        self.failed.is_some()
    }

    /// Moves the injected clock (`proxy_get_current_time_nanoseconds`,
    /// WASI `clock_time_get`).
    pub fn set_now_nanos(&mut self, now_nanos: u64) {
        self.store.data_mut().now_nanos = now_nanos;
    }

    /// Sets or replaces one property (path segments joined by `.`).
    pub fn set_property(&mut self, path: &str, value: &[u8]) {
        self.store
            .data_mut()
            .properties
            .insert(path.to_owned(), value.to_vec());
    }

    /// The period the guest asked for with `proxy_set_tick_period_milliseconds`
    /// (ticks are never fired by the harness).
    pub fn tick_period_ms(&self) -> u32 {
        self.store.data().tick_period_ms
    }
}
