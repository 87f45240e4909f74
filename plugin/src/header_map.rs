//! The request's header map: one host call, parsed in place.
//!
//! The SDK's `get_http_request_headers` copies every name and value into its own
//! `String` and panics on a value that is not UTF-8. Measured in the harness, that cost
//! about 9 400 Wasm instructions for six headers, more than most evaluations; and HTTP
//! allows bytes 0x80–0xFF in a value (RFC 9110 `obs-text`), which Envoy passes on, so a
//! single client could make the SDK trap the VM, after which Envoy fails every request
//! the filter sees. Here the host's buffer is kept as it came and the pairs borrow from
//! it; a pair that is not UTF-8 is read lossily (U+FFFD for each bad sequence), which no
//! configured value can equal, since configured values are visible ASCII.

use std::borrow::Cow;

use proxy_wasm::types::{MapType, Status};
use switchyard_bytecode::Headers;

/// Envoy's serialized map (proxy-wasm ABI 0.2.1), all integers little-endian `u32`:
/// `count`, `count × (name length, value length)`, then each name and value followed by
/// a NUL byte.
#[derive(Debug, Default)]
pub(crate) struct RawMap {
    bytes: Vec<u8>,
}

#[allow(unsafe_code)]
mod host {
    use proxy_wasm::types::{MapType, Status};

    #[link(wasm_import_module = "env")]
    unsafe extern "C" {
        /// The same import the SDK declares: the host allocates the result through the
        /// module's `proxy_on_memory_allocate` and hands its ownership to the caller.
        fn proxy_get_header_map_pairs(
            map_type: MapType,
            return_map_data: *mut *mut u8,
            return_map_size: *mut usize,
        ) -> Status;
    }

    /// The serialized map, or the host's status when it has none.
    pub fn header_map_pairs(map_type: MapType) -> Result<Vec<u8>, Status> {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: both out-pointers point at live locals. On success the host has
        // allocated `size` bytes with `proxy_on_memory_allocate` (the SDK's, which
        // allocates a `Box<[u8]>` of exactly `size` bytes, i.e. a `Vec` of capacity
        // `size`) and transferred them to us, so rebuilding that `Vec` frees them once.
        unsafe {
            match proxy_get_header_map_pairs(map_type, &mut data, &mut size) {
                Status::Ok if data.is_null() || size == 0 => Ok(Vec::new()),
                Status::Ok => Ok(Vec::from_raw_parts(data, size, size)),
                status => Err(status),
            }
        }
    }
}

impl RawMap {
    /// The request headers of the current stream.
    pub fn request_headers() -> Result<RawMap, Status> {
        host::header_map_pairs(MapType::HttpRequestHeaders).map(|bytes| RawMap { bytes })
    }

    #[cfg(test)]
    pub fn from_bytes(bytes: Vec<u8>) -> RawMap {
        RawMap { bytes }
    }

    /// The pairs, borrowed from the buffer; `None` when the buffer is malformed (a host
    /// bug: every length is checked, nothing panics).
    pub fn pairs(&self) -> Option<HeaderPairs<'_>> {
        let bytes = &self.bytes;
        if bytes.is_empty() {
            return Some(HeaderPairs::Text(Vec::new()));
        }
        let word = |at: usize| -> Option<usize> {
            let b = bytes.get(at..at.checked_add(4)?)?;
            Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let count = word(0)?;
        let start = count.checked_mul(8)?.checked_add(4)?;
        let data = bytes.get(start..)?;
        // The lengths first: every field inside the data and followed by its NUL.
        let mut at = 0usize;
        let mut field = |length: usize| -> Option<(usize, usize)> {
            let end = at.checked_add(length)?;
            (data.get(end) == Some(&0)).then_some(())?;
            let span = (at, end);
            at = end + 1;
            Some(span)
        };
        let mut spans = Vec::with_capacity(count);
        for n in 0..count {
            let name = field(word(4 + n * 8)?)?;
            let value = field(word(8 + n * 8)?)?;
            spans.push((name, value));
        }
        if at != data.len() {
            return None;
        }
        // Then UTF-8, once over all the data (much faster than field by field); every
        // field is bounded by NUL bytes, which are character boundaries.
        Some(match std::str::from_utf8(data) {
            Ok(text) => HeaderPairs::Text(
                spans
                    .iter()
                    .map(|&((n0, n1), (v0, v1))| (&text[n0..n1], &text[v0..v1]))
                    .collect(),
            ),
            Err(_) => HeaderPairs::Lossy(
                spans
                    .iter()
                    .map(|&((n0, n1), (v0, v1))| (lossy_text(&data[n0..n1]), lossy_text(&data[v0..v1])))
                    .collect(),
            ),
        })
    }
}

fn lossy_text(bytes: &[u8]) -> String {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(text) => text.to_string(),
        Cow::Owned(text) => text,
    }
}

/// The header pairs as text: borrowed when every byte is UTF-8 (always, in practice).
#[derive(Debug)]
pub(crate) enum HeaderPairs<'a> {
    Text(Vec<(&'a str, &'a str)>),
    Lossy(Vec<(String, String)>),
}

impl HeaderPairs<'_> {
    pub fn headers(&self) -> Headers<'_> {
        match self {
            HeaderPairs::Text(pairs) => Headers::Borrowed(pairs),
            HeaderPairs::Lossy(pairs) => Headers::Owned(pairs),
        }
    }

    /// The first value of `name` (exact, as Envoy's names are lowercase), or "".
    pub fn value(&self, name: &str) -> &str {
        self.headers()
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serialize(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
        for (n, v) in pairs {
            out.extend_from_slice(&(n.len() as u32).to_le_bytes());
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        }
        for (n, v) in pairs {
            out.extend_from_slice(n);
            out.push(0);
            out.extend_from_slice(v);
            out.push(0);
        }
        out
    }

    #[test]
    fn pairs_borrow_from_the_hosts_buffer_in_order() {
        let map = RawMap::from_bytes(serialize(&[(b":path", b"/a?b"), (b"x-id", b""), (b"x-id", b"2")]));
        let pairs = map.pairs().unwrap();
        assert!(matches!(pairs, HeaderPairs::Text(_)));
        let all: Vec<_> = pairs.headers().iter().collect();
        assert_eq!(all, [(":path", "/a?b"), ("x-id", ""), ("x-id", "2")]);
        assert_eq!(pairs.value(":path"), "/a?b");
        assert_eq!(pairs.value(":method"), "");
    }

    #[test]
    fn an_empty_map_has_no_pairs() {
        for bytes in [Vec::new(), 0u32.to_le_bytes().to_vec()] {
            let map = RawMap::from_bytes(bytes);
            assert!(map.pairs().unwrap().headers().is_empty());
        }
    }

    /// RFC 9110 allows obs-text (0x80–0xFF) in field values; such a request must be
    /// routed, not trap the VM as the SDK's `String::from_utf8(..).unwrap()` would.
    #[test]
    fn a_value_that_is_not_utf8_is_read_lossily_not_fatally() {
        let map = RawMap::from_bytes(serialize(&[
            (b":authority", b"a.example"),
            (b"x-raw", b"caf\xe9"),
        ]));
        let pairs = map.pairs().unwrap();
        assert!(matches!(pairs, HeaderPairs::Lossy(_)));
        assert_eq!(pairs.value(":authority"), "a.example");
        assert_eq!(pairs.value("x-raw"), "caf\u{fffd}");
    }

    #[test]
    fn a_malformed_map_is_refused_without_panicking() {
        let good = serialize(&[(b"a", b"1"), (b"b", b"2")]);
        for cut in 1..good.len() {
            assert!(
                RawMap::from_bytes(good[..cut].to_vec()).pairs().is_none(),
                "cut at {cut}"
            );
        }
        let mut unterminated = good.clone();
        let last = unterminated.len() - 1;
        unterminated[last] = b'x';
        assert!(RawMap::from_bytes(unterminated).pairs().is_none());
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(RawMap::from_bytes(trailing).pairs().is_none());
        let mut huge = good;
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(RawMap::from_bytes(huge).pairs().is_none());
    }
}
