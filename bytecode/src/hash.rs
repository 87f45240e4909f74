//! The one hash function of the format (FNV-1a, 32 bit), used by the writer to lay out
//! the host and path tables and by the evaluator to probe them. Host keys are hashed
//! ASCII-lowercased so a request's Host needs no copy to be looked up.

const OFFSET_BASIS: u32 = 0x811C_9DC5;
const PRIME: u32 = 0x0100_0193;

/// FNV-1a of `bytes` as they are.
#[inline]
pub fn fnv1a(bytes: &[u8]) -> u32 {
    let mut hash = OFFSET_BASIS;
    for &byte in bytes {
        hash = (hash ^ u32::from(byte)).wrapping_mul(PRIME);
    }
    hash
}

/// FNV-1a of `bytes` with ASCII letters lowercased.
#[inline]
pub fn fnv1a_lowercase(bytes: &[u8]) -> u32 {
    let mut hash = OFFSET_BASIS;
    for &byte in bytes {
        hash = (hash ^ u32::from(byte.to_ascii_lowercase())).wrapping_mul(PRIME);
    }
    hash
}

/// Slot count for an open-addressing table holding `keys` keys: a power of two with at
/// least one empty slot, at most half full, so a probe always ends.
pub fn table_size(keys: usize) -> usize {
    if keys == 0 {
        0
    } else {
        (keys * 2).next_power_of_two()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_hash_ignores_ascii_case() {
        assert_eq!(fnv1a_lowercase(b"Foo.Example.COM"), fnv1a(b"foo.example.com"));
    }

    #[test]
    fn table_always_has_an_empty_slot() {
        for keys in 1..100 {
            assert!(table_size(keys) > keys);
            assert!(table_size(keys).is_power_of_two());
        }
    }
}
