//! Hostcalls about the host rather than the stream: logging, time,
//! properties, foreign functions, metrics and context bookkeeping.

use wasmtime::{Caller, Linker};

use crate::abi::{log_level, status};
use crate::memory::{Status, return_bytes, slice, with_memory, write_u32, write_u64};
use crate::state::HostState;
use crate::types::LogLevel;

type Ret = wasmtime::Result<Status>;

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap("env", "proxy_log", log)?;
    linker.func_wrap("env", "proxy_get_log_level", get_log_level)?;
    linker.func_wrap("env", "proxy_get_current_time_nanoseconds", current_time)?;
    linker.func_wrap("env", "proxy_set_tick_period_milliseconds", set_tick_period)?;
    linker.func_wrap("env", "proxy_get_property", get_property)?;
    linker.func_wrap("env", "proxy_set_property", set_property)?;
    linker.func_wrap("env", "proxy_call_foreign_function", call_foreign_function)?;
    linker.func_wrap(
        "env",
        "proxy_set_effective_context",
        |_: Caller<'_, HostState>, _context_id: u32| status::OK,
    )?;
    linker.func_wrap("env", "proxy_done", |_: Caller<'_, HostState>| status::OK)?;
    linker.func_wrap("env", "proxy_define_metric", define_metric)?;
    linker.func_wrap(
        "env",
        "proxy_increment_metric",
        |mut caller: Caller<'_, HostState>, id: u32, offset: i64| {
            caller.data_mut().metrics.increment(id, offset)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_record_metric",
        |mut caller: Caller<'_, HostState>, id: u32, value: u64| caller.data_mut().metrics.record(id, value),
    )?;
    linker.func_wrap("env", "proxy_get_metric", get_metric)?;
    Ok(())
}

fn log(mut caller: Caller<'_, HostState>, level: u32, ptr: u32, len: u32) -> Status {
    with_memory(&mut caller, |mem, state| {
        let level = LogLevel::from_raw(level).ok_or(status::BAD_ARGUMENT)?;
        state.log(level, slice(mem, ptr, len)?);
        Ok(status::OK)
    })
}

/// Trace, so the SDK forwards every message and tests see them all.
fn get_log_level(mut caller: Caller<'_, HostState>, ret: u32) -> Status {
    with_memory(&mut caller, |mem, _| {
        write_u32(mem, ret, log_level::TRACE)?;
        Ok(status::OK)
    })
}

fn current_time(mut caller: Caller<'_, HostState>, ret: u32) -> Status {
    with_memory(&mut caller, |mem, state| {
        write_u64(mem, ret, state.now_nanos)?;
        Ok(status::OK)
    })
}

/// Remembered but never fired: the harness has no timer loop.
fn set_tick_period(mut caller: Caller<'_, HostState>, period_ms: u32) -> Status {
    caller.data_mut().tick_period_ms = period_ms;
    status::OK
}

/// The ABI joins path segments with NUL; the options table joins them with
/// `.`, which is how people write property paths.
fn property_key(path: &[u8]) -> String {
    let dotted: Vec<u8> = path.iter().map(|&b| if b == 0 { b'.' } else { b }).collect();
    String::from_utf8_lossy(&dotted).into_owned()
}

fn get_property(
    mut caller: Caller<'_, HostState>,
    path_ptr: u32,
    path_len: u32,
    ret_ptr: u32,
    ret_len: u32,
) -> Ret {
    let mut value = Vec::new();
    let code = with_memory(&mut caller, |mem, state| {
        let key = property_key(slice(mem, path_ptr, path_len)?);
        state.property_reads.push(key.clone());
        value = state.properties.get(&key).ok_or(status::NOT_FOUND)?.clone();
        Ok(status::OK)
    });
    if code != status::OK {
        return Ok(code);
    }
    return_bytes(&mut caller, &value, ret_ptr, ret_len)
}

/// Stored so a later `proxy_get_property` of the same path sees it, as
/// Envoy's filter state would serve it back.
fn set_property(
    mut caller: Caller<'_, HostState>,
    path_ptr: u32,
    path_len: u32,
    value_ptr: u32,
    value_len: u32,
) -> Status {
    with_memory(&mut caller, |mem, state| {
        let key = property_key(slice(mem, path_ptr, path_len)?);
        let value = slice(mem, value_ptr, value_len)?.to_vec();
        state.properties.insert(key, value);
        Ok(status::OK)
    })
}

/// Only Envoy's `clear_route_cache` is known; it takes no arguments and
/// returns no data. Unknown names are NOT_FOUND, as in Envoy.
fn call_foreign_function(
    mut caller: Caller<'_, HostState>,
    name_ptr: u32,
    name_len: u32,
    args_ptr: u32,
    args_len: u32,
    ret_ptr: u32,
    ret_len: u32,
) -> Ret {
    let code = with_memory(&mut caller, |mem, state| {
        let name = slice(mem, name_ptr, name_len)?;
        slice(mem, args_ptr, args_len)?;
        match name {
            b"clear_route_cache" => {
                state.stream.route_cache_cleared = true;
                Ok(status::OK)
            }
            _ => Err(status::NOT_FOUND),
        }
    });
    if code != status::OK {
        return Ok(code);
    }
    return_bytes(&mut caller, &[], ret_ptr, ret_len)
}

fn define_metric(
    mut caller: Caller<'_, HostState>,
    kind: u32,
    name_ptr: u32,
    name_len: u32,
    ret_id: u32,
) -> Status {
    with_memory(&mut caller, |mem, state| {
        // Check the return slot first so a bad pointer defines nothing.
        write_u32(mem, ret_id, 0)?;
        let name = String::from_utf8_lossy(slice(mem, name_ptr, name_len)?).into_owned();
        let id = state.metrics.define(kind, name)?;
        write_u32(mem, ret_id, id)?;
        Ok(status::OK)
    })
}

fn get_metric(mut caller: Caller<'_, HostState>, id: u32, ret: u32) -> Status {
    with_memory(&mut caller, |mem, state| {
        let value = state.metrics.get(id)?;
        write_u64(mem, ret, value)?;
        Ok(status::OK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_paths_use_dots() {
        assert_eq!(property_key(b"request\0id"), "request.id");
        assert_eq!(property_key(b"plugin_root_id"), "plugin_root_id");
    }
}
