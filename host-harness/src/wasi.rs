//! Hand-written WASI preview 1 stubs: just what a wasm32-wasip1 filter built
//! with Rust std imports, with deterministic answers. `wasmtime-wasi` would
//! pull in tokio and cap-std for a sandbox the harness does not need.
//!
//! Errors are WASI `errno` values; a bad guest pointer is `EFAULT`.

use wasmtime::{Caller, Linker};

use crate::abi::{clock, errno};
use crate::memory::{read_u32, slice, slice_mut, with_memory, write_u32, write_u64};
use crate::state::HostState;
use crate::types::LogLevel;

const MODULE: &str = "wasi_snapshot_preview1";

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "fd_write", fd_write)?;
    linker.func_wrap(MODULE, "environ_sizes_get", empty_sizes)?;
    linker.func_wrap(MODULE, "args_sizes_get", empty_sizes)?;
    linker.func_wrap(
        MODULE,
        "environ_get",
        |_: Caller<'_, HostState>, _: u32, _: u32| errno::SUCCESS,
    )?;
    linker.func_wrap(MODULE, "args_get", |_: Caller<'_, HostState>, _: u32, _: u32| {
        errno::SUCCESS
    })?;
    linker.func_wrap(MODULE, "random_get", random_get)?;
    linker.func_wrap(MODULE, "clock_time_get", clock_time_get)?;
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |_: Caller<'_, HostState>, code: u32| -> wasmtime::Result<()> {
            wasmtime::bail!("guest called proc_exit({code})")
        },
    )?;
    Ok(())
}

/// Memory helpers report proxy-wasm statuses; in WASI every one is EFAULT.
fn fault<T>(result: Result<T, u32>) -> Result<T, u32> {
    result.map_err(|_| errno::FAULT)
}

/// stdout lines become `Info` log lines and stderr lines `Error`, so a
/// `println!` or a panic message shows up next to `proxy_log` output.
fn fd_write(mut caller: Caller<'_, HostState>, fd: u32, iovs: u32, iovs_len: u32, nwritten: u32) -> u32 {
    with_memory(&mut caller, |mem, state| {
        let (slot, level) = match fd {
            1 => (0, LogLevel::Info),
            2 => (1, LogLevel::Error),
            _ => return Err(errno::BADF),
        };
        // Check the result slot first so a bad one has no side effect.
        fault(slice(mem, nwritten, 4))?;
        let mut total: u32 = 0;
        for i in 0..iovs_len {
            // Each iovec is two u32s: buffer pointer, then length.
            let entry = i
                .checked_mul(8)
                .and_then(|off| iovs.checked_add(off))
                .ok_or(errno::FAULT)?;
            let buf = fault(read_u32(mem, entry))?;
            let len = fault(read_u32(mem, entry.checked_add(4).ok_or(errno::FAULT)?))?;
            let bytes = fault(slice(mem, buf, len))?;
            state.stdio_pending[slot].extend_from_slice(bytes);
            total = total.checked_add(len).ok_or(errno::INVAL)?;
        }
        fault(write_u32(mem, nwritten, total))?;
        while let Some(end) = state.stdio_pending[slot].iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = state.stdio_pending[slot].drain(..=end).collect();
            state.log(level, &line[..end]);
        }
        Ok(errno::SUCCESS)
    })
}

/// No environment variables and no arguments.
fn empty_sizes(mut caller: Caller<'_, HostState>, count: u32, buf_size: u32) -> u32 {
    with_memory(&mut caller, |mem, _| {
        fault(write_u32(mem, count, 0))?;
        fault(write_u32(mem, buf_size, 0))?;
        Ok(errno::SUCCESS)
    })
}

/// Seeded, so `HashMap` iteration order and the like repeat across runs.
fn random_get(mut caller: Caller<'_, HostState>, buf: u32, len: u32) -> u32 {
    with_memory(&mut caller, |mem, state| {
        state.rng.fill(fault(slice_mut(mem, buf, len))?);
        Ok(errno::SUCCESS)
    })
}

/// Every clock reads the injected time, so runs are reproducible.
fn clock_time_get(mut caller: Caller<'_, HostState>, id: u32, _precision: u64, time: u32) -> u32 {
    with_memory(&mut caller, |mem, state| {
        match id {
            clock::REALTIME | clock::MONOTONIC | clock::PROCESS_CPUTIME | clock::THREAD_CPUTIME => {}
            _ => return Err(errno::INVAL),
        }
        fault(write_u64(mem, time, state.now_nanos))?;
        Ok(errno::SUCCESS)
    })
}
