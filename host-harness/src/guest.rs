//! The guest's exports, looked up once per instance.
//!
//! Every callback is optional: cpp-host skips a callback the module does not
//! export, and so does the harness. A callback that is exported with the
//! wrong signature is an error at start, not a surprise mid-test.

use wasmtime::error::Context as _;
use wasmtime::{Instance, Store, TypedFunc, WasmParams, WasmResults};

use crate::Result;
use crate::state::HostState;

type Id = u32;

#[derive(Clone)]
pub struct Guest {
    /// `_initialize` (reactor) or else `_start` (command), with its name.
    pub initialize: Option<(&'static str, TypedFunc<(), ()>)>,
    pub main: Option<TypedFunc<(u32, u32), u32>>,
    pub on_context_create: Option<TypedFunc<(Id, Id), ()>>,
    pub on_vm_start: Option<TypedFunc<(Id, u32), u32>>,
    pub on_configure: Option<TypedFunc<(Id, u32), u32>>,
    pub on_request_headers: Option<TypedFunc<(Id, u32, u32), u32>>,
    pub on_request_body: Option<TypedFunc<(Id, u32, u32), u32>>,
    pub on_response_headers: Option<TypedFunc<(Id, u32, u32), u32>>,
    pub on_log: Option<TypedFunc<Id, ()>>,
    pub on_done: Option<TypedFunc<Id, u32>>,
    pub on_delete: Option<TypedFunc<Id, ()>>,
}

fn optional<P: WasmParams, R: WasmResults>(
    instance: &Instance,
    store: &mut Store<HostState>,
    name: &str,
) -> Result<Option<TypedFunc<P, R>>> {
    match instance.get_func(&mut *store, name) {
        None => Ok(None),
        Some(func) => func
            .typed(&*store)
            .map(Some)
            .with_context(|| format!("export `{name}` has an unexpected signature")),
    }
}

impl Guest {
    pub fn load(instance: &Instance, store: &mut Store<HostState>) -> Result<Guest> {
        let initialize = match optional(instance, store, "_initialize")? {
            Some(func) => Some(("_initialize", func)),
            None => optional(instance, store, "_start")?.map(|func| ("_start", func)),
        };
        Ok(Guest {
            initialize,
            main: optional(instance, store, "main")?,
            on_context_create: optional(instance, store, "proxy_on_context_create")?,
            on_vm_start: optional(instance, store, "proxy_on_vm_start")?,
            on_configure: optional(instance, store, "proxy_on_configure")?,
            on_request_headers: optional(instance, store, "proxy_on_request_headers")?,
            on_request_body: optional(instance, store, "proxy_on_request_body")?,
            on_response_headers: optional(instance, store, "proxy_on_response_headers")?,
            on_log: optional(instance, store, "proxy_on_log")?,
            on_done: optional(instance, store, "proxy_on_done")?,
            on_delete: optional(instance, store, "proxy_on_delete")?,
        })
    }

    /// The allocator the host uses to hand data to the guest: `malloc`
    /// first, then `proxy_on_memory_allocate`, as cpp-host looks them up.
    pub fn allocator(instance: &Instance, store: &mut Store<HostState>) -> Result<TypedFunc<u32, u32>> {
        match optional(instance, store, "malloc")? {
            Some(func) => Ok(func),
            None => optional(instance, store, "proxy_on_memory_allocate")?
                .context("module exports neither `malloc` nor `proxy_on_memory_allocate`"),
        }
    }
}
