//! The proxy-wasm header map wire format (ABI v0.2.1), both directions.
//!
//! Layout, all integers little-endian `u32`:
//!
//! ```text
//! count
//! count × (key_len, value_len)
//! count × (key bytes, 0x00, value bytes, 0x00)
//! ```
//!
//! An empty map travels as zero bytes or as a single `0x00` byte. The decoder
//! is strict (every length checked, both NUL terminators present, no trailing
//! bytes) because a malformed map from the guest is an SDK or plugin bug the
//! tests should see, not something to paper over. It never panics.

use std::fmt;

/// Most pairs the host accepts from the guest (cpp-host `limits.h`).
pub const MAX_PAIRS: usize = 1024;
/// Most bytes of a serialized map the host accepts from the guest
/// (cpp-host `limits.h`: 1 MiB).
pub const MAX_BYTES: usize = 1 << 20;

/// Header names and values as raw bytes: the ABI does not promise UTF-8.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Why a serialized map was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The bytes end before a length, key or value they announce.
    Truncated,
    /// A key or value is not followed by its NUL terminator.
    MissingTerminator,
    /// Bytes are left over after the last pair.
    TrailingBytes(usize),
    /// More pairs than [`MAX_PAIRS`].
    TooManyPairs(u32),
    /// More bytes than [`MAX_BYTES`], or a length that does not fit a `u32`.
    TooLarge(usize),
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::Truncated => write!(f, "header map truncated"),
            MapError::MissingTerminator => write!(f, "header map entry lacks its NUL terminator"),
            MapError::TrailingBytes(n) => write!(f, "header map has {n} trailing bytes"),
            MapError::TooManyPairs(n) => write!(f, "header map has {n} pairs (max {MAX_PAIRS})"),
            MapError::TooLarge(n) => write!(f, "header map is {n} bytes (max {MAX_BYTES})"),
        }
    }
}

impl std::error::Error for MapError {}

fn len_u32(len: usize) -> Result<u32, MapError> {
    u32::try_from(len).map_err(|_| MapError::TooLarge(len))
}

/// Serializes `pairs`. An empty slice still yields the 4-byte count; the
/// hostcalls hand an empty map to the guest as no bytes at all instead.
pub fn encode<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> Result<Vec<u8>, MapError> {
    let body: usize = pairs
        .iter()
        .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2)
        .sum();
    let mut out = Vec::with_capacity(4 + pairs.len() * 8 + body);
    out.extend_from_slice(&len_u32(pairs.len())?.to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&len_u32(k.as_ref().len())?.to_le_bytes());
        out.extend_from_slice(&len_u32(v.as_ref().len())?.to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_ref());
        out.push(0);
        out.extend_from_slice(v.as_ref());
        out.push(0);
    }
    Ok(out)
}

/// Parses a serialized map, refusing anything malformed or over the limits.
pub fn decode(bytes: &[u8]) -> Result<Pairs, MapError> {
    if bytes.is_empty() || bytes == [0] {
        return Ok(Vec::new());
    }
    if bytes.len() > MAX_BYTES {
        return Err(MapError::TooLarge(bytes.len()));
    }
    let mut reader = Reader { bytes, pos: 0 };
    let count = reader.u32()?;
    if count as usize > MAX_PAIRS {
        return Err(MapError::TooManyPairs(count));
    }
    let mut sizes = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let key_len = reader.u32()? as usize;
        let value_len = reader.u32()? as usize;
        sizes.push((key_len, value_len));
    }
    let mut pairs = Vec::with_capacity(sizes.len());
    for (key_len, value_len) in sizes {
        let key = reader.terminated(key_len)?;
        let value = reader.terminated(value_len)?;
        pairs.push((key.to_vec(), value.to_vec()));
    }
    match bytes.len() - reader.pos {
        0 => Ok(pairs),
        extra => Err(MapError::TrailingBytes(extra)),
    }
}

/// A cursor that only ever moves forward and reports running out as an error.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], MapError> {
        let end = self.pos.checked_add(len).ok_or(MapError::Truncated)?;
        let slice = self.bytes.get(self.pos..end).ok_or(MapError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, MapError> {
        let raw = self.take(4)?;
        let mut word = [0; 4];
        word.copy_from_slice(raw);
        Ok(u32::from_le_bytes(word))
    }

    /// `len` bytes followed by a NUL, which is consumed but not returned.
    fn terminated(&mut self, len: usize) -> Result<&'a [u8], MapError> {
        let data = self.take(len)?;
        match self.take(1)? {
            [0] => Ok(data),
            _ => Err(MapError::MissingTerminator),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Pairs {
        list.iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn encodes_the_documented_layout() {
        let bytes = encode(&[("ab", "c")]).unwrap();
        let expected = [
            1, 0, 0, 0, // count
            2, 0, 0, 0, 1, 0, 0, 0, // key_len, value_len
            b'a', b'b', 0, b'c', 0,
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn round_trips() {
        let original = pairs(&[
            (":path", "/a?b=c"),
            ("x-empty", ""),
            ("", "empty-key"),
            ("x-dup", "1"),
            ("x-dup", "2"),
        ]);
        let bytes = encode(&original).unwrap();
        assert_eq!(decode(&bytes).unwrap(), original);
    }

    #[test]
    fn round_trips_non_utf8_bytes() {
        let original = vec![(b"k\xff".to_vec(), vec![0x80, 0x81])];
        assert_eq!(decode(&encode(&original).unwrap()).unwrap(), original);
    }

    #[test]
    fn empty_map_forms() {
        assert_eq!(decode(&[]).unwrap(), Pairs::new());
        assert_eq!(decode(&[0]).unwrap(), Pairs::new());
        let empty: [(&str, &str); 0] = [];
        let bytes = encode(&empty).unwrap();
        assert_eq!(bytes, [0, 0, 0, 0]);
        assert_eq!(decode(&bytes).unwrap(), Pairs::new());
    }

    #[test]
    fn refuses_truncated_input() {
        let bytes = encode(&[("key", "value")]).unwrap();
        for cut in 2..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "accepted {cut} bytes");
        }
        assert_eq!(decode(&[1, 0, 0]), Err(MapError::Truncated));
    }

    #[test]
    fn refuses_missing_terminators() {
        let mut bytes = encode(&[("k", "v")]).unwrap();
        let key_nul = 4 + 8 + 1;
        bytes[key_nul] = b'!';
        assert_eq!(decode(&bytes), Err(MapError::MissingTerminator));
    }

    #[test]
    fn refuses_trailing_bytes() {
        let mut bytes = encode(&[("k", "v")]).unwrap();
        bytes.push(0);
        assert_eq!(decode(&bytes), Err(MapError::TrailingBytes(1)));
    }

    #[test]
    fn refuses_huge_counts_and_lengths_without_panicking() {
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff]),
            Err(MapError::TooManyPairs(u32::MAX))
        );
        let mut bytes = vec![1, 0, 0, 0];
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&bytes), Err(MapError::Truncated));
    }

    #[test]
    fn refuses_maps_over_the_limits() {
        let many: Vec<(String, String)> = (0..=MAX_PAIRS).map(|i| (i.to_string(), String::new())).collect();
        let bytes = encode(&many).unwrap();
        assert!(matches!(decode(&bytes), Err(MapError::TooManyPairs(_))));
        let big = vec![(vec![b'a'; MAX_BYTES], Vec::new())];
        let bytes = encode(&big).unwrap();
        assert!(matches!(decode(&bytes), Err(MapError::TooLarge(_))));
    }
}
