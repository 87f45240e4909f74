//! Query parameters, read from the raw `:path` only when a predicate asks.

use crate::program::Program;

impl Program {
    /// The first value of query parameter `name` (string id), percent-decoded. Gateway
    /// API: names match exactly; with repeated parameters, the first value is used.
    pub(crate) fn query_value<'r>(
        &self,
        path: &'r str,
        name: u32,
        decoded: &'r mut Vec<u8>,
    ) -> Option<&'r [u8]> {
        let query = path.split_once('?')?.1;
        let query = query.split('#').next().unwrap_or("");
        let wanted = self.string_bytes(name);
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if percent_decoded_eq(key.as_bytes(), wanted) {
                if !value.contains('%') {
                    return Some(value.as_bytes());
                }
                percent_decode(value.as_bytes(), decoded);
                return Some(decoded.as_slice());
            }
        }
        None
    }
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; a malformed escape is kept as it is.
pub(crate) fn percent_decode(input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                input.get(i + 1).copied().and_then(hex),
                input.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
}

/// Compares a raw (possibly percent-encoded) key with a decoded name without allocating.
fn percent_decoded_eq(raw: &[u8], decoded: &[u8]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < raw.len() {
        let byte = match (
            raw[i],
            raw.get(i + 1).copied().and_then(hex),
            raw.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                i += 3;
                hi << 4 | lo
            }
            (byte, _, _) => {
                i += 1;
                byte
            }
        };
        if decoded.get(j) != Some(&byte) {
            return false;
        }
        j += 1;
    }
    j == decoded.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_decode_and_malformed_ones_stay() {
        let mut out = Vec::new();
        percent_decode(b"a%20b%2", &mut out);
        assert_eq!(out, b"a b%2");
        assert!(percent_decoded_eq(b"my%2Dkey", b"my-key"));
        assert!(!percent_decoded_eq(b"my-key", b"my-ke"));
    }
}
