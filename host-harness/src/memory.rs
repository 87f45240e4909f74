//! Bounds-checked access to guest memory.
//!
//! Every pointer and length comes from the guest and is untrusted: ranges are
//! computed with overflow-checked `u32` arithmetic and looked up with
//! `slice::get`, so a bad pointer becomes INVALID_MEMORY_ACCESS (or a WASI
//! `EFAULT`), never a host panic.

use wasmtime::Caller;

use crate::abi::status;
use crate::state::HostState;

/// A proxy-wasm status code, as returned to the guest.
pub type Status = u32;

/// The guest bytes in `ptr .. ptr + len`.
pub fn slice(mem: &[u8], ptr: u32, len: u32) -> Result<&[u8], Status> {
    let end = ptr.checked_add(len).ok_or(status::INVALID_MEMORY_ACCESS)?;
    mem.get(ptr as usize..end as usize)
        .ok_or(status::INVALID_MEMORY_ACCESS)
}

pub fn slice_mut(mem: &mut [u8], ptr: u32, len: u32) -> Result<&mut [u8], Status> {
    let end = ptr.checked_add(len).ok_or(status::INVALID_MEMORY_ACCESS)?;
    mem.get_mut(ptr as usize..end as usize)
        .ok_or(status::INVALID_MEMORY_ACCESS)
}

pub fn read_u32(mem: &[u8], ptr: u32) -> Result<u32, Status> {
    let mut word = [0; 4];
    word.copy_from_slice(slice(mem, ptr, 4)?);
    Ok(u32::from_le_bytes(word))
}

pub fn write_u32(mem: &mut [u8], ptr: u32, value: u32) -> Result<(), Status> {
    slice_mut(mem, ptr, 4)?.copy_from_slice(&value.to_le_bytes());
    Ok(())
}

pub fn write_u64(mem: &mut [u8], ptr: u32, value: u64) -> Result<(), Status> {
    slice_mut(mem, ptr, 8)?.copy_from_slice(&value.to_le_bytes());
    Ok(())
}

/// Runs `f` with the guest's memory and the host state borrowed together,
/// flattening its `Result<Status, Status>` into the status the guest sees.
pub fn with_memory(
    caller: &mut Caller<'_, HostState>,
    f: impl FnOnce(&mut [u8], &mut HostState) -> Result<Status, Status>,
) -> Status {
    let Some(memory) = caller.data().memory else {
        return status::INVALID_MEMORY_ACCESS;
    };
    let (mem, state) = memory.data_and_store_mut(caller);
    f(mem, state).unwrap_or_else(|code| code)
}

/// Hands `bytes` to the guest the way cpp-host's `copyToPointerSize` does:
/// allocate in the guest, copy, then write the pointer and length into the
/// two return slots. Empty data is returned as `(0, 0)` with no allocation.
///
/// The slots are checked before allocating so a bad slot pointer does not
/// leak a guest buffer. A trap inside the guest allocator is returned as
/// `Err` and ends the callback, as it would in Envoy.
pub fn return_bytes(
    caller: &mut Caller<'_, HostState>,
    bytes: &[u8],
    ret_ptr: u32,
    ret_len: u32,
) -> wasmtime::Result<Status> {
    let slots_ok = with_memory(caller, |mem, _| {
        slice(mem, ret_ptr, 4)?;
        slice(mem, ret_len, 4)?;
        Ok(status::OK)
    });
    if slots_ok != status::OK {
        return Ok(slots_ok);
    }
    if bytes.is_empty() {
        return Ok(with_memory(caller, |mem, _| {
            write_u32(mem, ret_ptr, 0)?;
            write_u32(mem, ret_len, 0)?;
            Ok(status::OK)
        }));
    }
    let Ok(len) = u32::try_from(bytes.len()) else {
        return Ok(status::INVALID_MEMORY_ACCESS);
    };
    let Some(allocator) = caller.data().allocator.clone() else {
        return Ok(status::INVALID_MEMORY_ACCESS);
    };
    // The allocation may grow guest memory, so memory is borrowed only after.
    let ptr = allocator.call(&mut *caller, len)?;
    if ptr == 0 {
        return Ok(status::INVALID_MEMORY_ACCESS);
    }
    Ok(with_memory(caller, |mem, _| {
        slice_mut(mem, ptr, len)?.copy_from_slice(bytes);
        write_u32(mem, ret_ptr, ptr)?;
        write_u32(mem, ret_len, len)?;
        Ok(status::OK)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_bounds_checked_without_overflow() {
        let mem = [1u8, 2, 3, 4, 5];
        assert_eq!(slice(&mem, 1, 3), Ok(&[2u8, 3, 4][..]));
        assert_eq!(slice(&mem, 5, 0), Ok(&[][..]));
        assert_eq!(slice(&mem, 3, 3), Err(status::INVALID_MEMORY_ACCESS));
        assert_eq!(slice(&mem, 6, 0), Err(status::INVALID_MEMORY_ACCESS));
        assert_eq!(slice(&mem, u32::MAX, 2), Err(status::INVALID_MEMORY_ACCESS));
        assert_eq!(slice(&mem, 2, u32::MAX), Err(status::INVALID_MEMORY_ACCESS));
    }

    #[test]
    fn words_are_little_endian() {
        let mut mem = [0u8; 12];
        write_u32(&mut mem, 0, 0x0403_0201).unwrap();
        write_u64(&mut mem, 4, 0x0807_0605_0403_0201).unwrap();
        assert_eq!(mem, [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(read_u32(&mem, 0), Ok(0x0403_0201));
        assert_eq!(write_u32(&mut mem, 9, 1), Err(status::INVALID_MEMORY_ACCESS));
        assert_eq!(read_u32(&mem, u32::MAX), Err(status::INVALID_MEMORY_ACCESS));
    }
}
