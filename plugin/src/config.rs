//! The plugin configuration: the program, either raw (Envoy `BytesValue`) or as the JSON
//! that Istio's WasmPlugin `pluginConfig` delivers: `{"bytecode": "<base64>"}`.

use switchyard_bytecode::format::MAGIC;

/// Why a configuration was refused. Kept tiny: it is logged as one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// No configuration bytes at all.
    Empty,
    /// Neither raw bytecode nor a JSON object.
    UnknownFormat,
    /// JSON without a string field `bytecode`, or with fields this plugin does not know.
    BadJson,
    /// `bytecode` is not valid base64.
    BadBase64,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ConfigError::Empty => "empty configuration",
            ConfigError::UnknownFormat => "configuration is neither bytecode nor JSON",
            ConfigError::BadJson => "JSON configuration needs exactly one string field \"bytecode\"",
            ConfigError::BadBase64 => "\"bytecode\" is not valid base64",
        })
    }
}

/// Extracts the program bytes from a configuration.
pub fn program_bytes(config: &[u8]) -> Result<Vec<u8>, ConfigError> {
    if config.is_empty() {
        return Err(ConfigError::Empty);
    }
    if config.starts_with(&MAGIC) {
        return Ok(config.to_vec());
    }
    let first = config.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(ConfigError::UnknownFormat);
    }
    let encoded = bytecode_field(config).ok_or(ConfigError::BadJson)?;
    decode_base64(encoded).ok_or(ConfigError::BadBase64)
}

/// The value of the only field, `"bytecode"`, of a JSON object: `{"bytecode": "..."}`
/// with any JSON whitespace. A full JSON parser would triple the module's size for one
/// string; base64 needs no escapes, so any backslash is refused.
fn bytecode_field(json: &[u8]) -> Option<&[u8]> {
    let mut rest = json;
    let mut expect = |token: &[u8]| -> Option<()> {
        rest = rest.trim_ascii_start().strip_prefix(token)?;
        Some(())
    };
    expect(b"{")?;
    expect(b"\"bytecode\"")?;
    expect(b":")?;
    expect(b"\"")?;
    let end = rest.iter().position(|&c| c == b'"')?;
    let (value, after) = (&rest[..end], &rest[end + 1..]);
    if value.contains(&b'\\') {
        return None;
    }
    let after = after.trim_ascii_start().strip_prefix(b"}")?;
    after.trim_ascii().is_empty().then_some(value)
}

/// Standard base64 (RFC 4648 section 4) with optional padding; whitespace is not allowed.
pub fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let trimmed = match text {
        [rest @ .., b'=', b'='] => rest,
        [rest @ .., b'='] => rest,
        _ => text,
    };
    if trimmed.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() / 4 * 3 + 2);
    for chunk in trimmed.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = acc << 6 | value(c)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
            2 => out.push((acc >> 4) as u8),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(
                decode_base64(encoded.as_bytes()).as_deref(),
                Some(plain.as_bytes())
            );
        }
        assert_eq!(decode_base64(b"Zm9v!"), None);
        assert_eq!(decode_base64(b"Z"), None);
    }

    #[test]
    fn json_config_needs_exactly_the_bytecode_field() {
        assert_eq!(program_bytes(br#"{"bytecode": "Zm9v"}"#), Ok(b"foo".to_vec()));
        assert_eq!(
            program_bytes(br#"{"bytecode": "Zm9v", "x": 1}"#),
            Err(ConfigError::BadJson)
        );
        assert_eq!(program_bytes(br#"{"code": "Zm9v"}"#), Err(ConfigError::BadJson));
        assert_eq!(
            program_bytes(b" {\n \"bytecode\" :\t\"Zm9v\" } "),
            Ok(b"foo".to_vec())
        );
        assert_eq!(
            program_bytes(br#"{"bytecode": "Zm9v"} x"#),
            Err(ConfigError::BadJson)
        );
        assert_eq!(
            program_bytes(br#"{"bytecode": "Zm\9v"}"#),
            Err(ConfigError::BadJson)
        );
        assert_eq!(program_bytes(br#"{"bytecode": 5}"#), Err(ConfigError::BadJson));
        assert_eq!(program_bytes(b""), Err(ConfigError::Empty));
        assert_eq!(program_bytes(b"garbage"), Err(ConfigError::UnknownFormat));
    }

    #[test]
    fn raw_bytecode_is_taken_as_is() {
        let mut raw = MAGIC.to_vec();
        raw.extend_from_slice(&[1, 2, 3]);
        assert_eq!(program_bytes(&raw), Ok(raw.clone()));
    }
}
