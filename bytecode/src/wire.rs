//! Little-endian reads that never panic: every read is bounds-checked and returns
//! `None` when the bytes run out.

/// Reads a `u32` at `offset`, or `None` past the end.
#[inline]
pub fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let end = offset.checked_add(4)?;
    let word: [u8; 4] = bytes.get(offset..end)?.try_into().ok()?;
    Some(u32::from_le_bytes(word))
}

/// Reads a `u16` at `offset`, or `None` past the end.
#[inline]
pub fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    let end = offset.checked_add(2)?;
    let word: [u8; 2] = bytes.get(offset..end)?.try_into().ok()?;
    Some(u16::from_le_bytes(word))
}

/// Appends a `u32` in little-endian order.
#[inline]
pub fn push_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}
