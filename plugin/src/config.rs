//! The plugin configuration: the program, either raw (Envoy `BytesValue`) or as the JSON
//! that Istio's WasmPlugin `pluginConfig` delivers:
//! `{"bytecode": "<base64>", "traceHeader": "x-switchyard-trace"}` (`traceHeader`
//! optional: requests carrying that header get a trace of their routing decision in the
//! response header of the same name; off unless configured).

use switchyard_bytecode::compress::COMPRESSED_MAGIC;
use switchyard_bytecode::format::MAGIC;

/// Why a configuration was refused. Kept tiny: it is logged as one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// No configuration bytes at all.
    Empty,
    /// Neither raw bytecode nor a JSON object.
    UnknownFormat,
    /// JSON that is not an object of string fields `bytecode` (required) and
    /// `traceHeader` (optional), each at most once.
    BadJson,
    /// `bytecode` is not valid base64.
    BadBase64,
    /// `traceHeader` is not a lowercase HTTP header name.
    BadTraceHeader,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ConfigError::Empty => "empty configuration",
            ConfigError::UnknownFormat => "configuration is neither bytecode nor JSON",
            ConfigError::BadJson => {
                "JSON configuration takes string fields \"bytecode\" (required) and \"traceHeader\""
            }
            ConfigError::BadBase64 => "\"bytecode\" is not valid base64",
            ConfigError::BadTraceHeader => "\"traceHeader\" is not a lowercase header name",
        })
    }
}

/// A configuration, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginConfig {
    pub program: Vec<u8>,
    /// The request header that asks for a trace; `None`: traces are off.
    pub trace_header: Option<String>,
}

/// Extracts the program bytes from a configuration.
pub fn program_bytes(config: &[u8]) -> Result<Vec<u8>, ConfigError> {
    parse_config(config).map(|c| c.program)
}

/// Decodes a configuration.
pub fn parse_config(config: &[u8]) -> Result<PluginConfig, ConfigError> {
    if config.is_empty() {
        return Err(ConfigError::Empty);
    }
    if config.starts_with(&MAGIC) || config.starts_with(&COMPRESSED_MAGIC) {
        return Ok(PluginConfig {
            program: config.to_vec(),
            trace_header: None,
        });
    }
    let first = config.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(ConfigError::UnknownFormat);
    }
    let fields = string_fields(config).ok_or(ConfigError::BadJson)?;
    let mut bytecode = None;
    let mut trace_header = None;
    for (key, value) in fields {
        let slot = match key {
            b"bytecode" => &mut bytecode,
            b"traceHeader" => &mut trace_header,
            _ => return Err(ConfigError::BadJson),
        };
        if slot.replace(value).is_some() {
            return Err(ConfigError::BadJson);
        }
    }
    let program = decode_base64(bytecode.ok_or(ConfigError::BadJson)?).ok_or(ConfigError::BadBase64)?;
    let trace_header = match trace_header {
        None => None,
        Some(name) if is_header_name(name) => Some(String::from_utf8_lossy(name).into_owned()),
        Some(_) => return Err(ConfigError::BadTraceHeader),
    };
    Ok(PluginConfig {
        program,
        trace_header,
    })
}

/// RFC 9110 token characters, lowercase (HTTP/2 header names are lowercase), not a
/// pseudo-header.
fn is_header_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// The fields of a flat JSON object whose values are all strings without escapes:
/// `{"k": "v", ...}` with any JSON whitespace. A full JSON parser would triple the
/// module's size for two strings; base64 and header names need no escapes, so any
/// backslash is refused.
fn string_fields(json: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let mut rest = json.trim_ascii();
    rest = rest.strip_prefix(b"{")?;
    let mut fields = Vec::new();
    loop {
        rest = rest.trim_ascii_start();
        if fields.is_empty()
            && let Some(after) = rest.strip_prefix(b"}")
        {
            return after.is_empty().then_some(fields);
        }
        let (key, after) = quoted(rest)?;
        rest = after.trim_ascii_start().strip_prefix(b":")?;
        let (value, after) = quoted(rest.trim_ascii_start())?;
        fields.push((key, value));
        rest = after.trim_ascii_start();
        if let Some(after) = rest.strip_prefix(b",") {
            rest = after;
            continue;
        }
        rest = rest.strip_prefix(b"}")?;
        return rest.is_empty().then_some(fields);
    }
}

/// A JSON string without escapes at the start of `text`, and what follows it.
fn quoted(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = text.strip_prefix(b"\"")?;
    let end = body.iter().position(|&c| c == b'"')?;
    let (value, after) = (&body[..end], &body[end + 1..]);
    (!value.contains(&b'\\')).then_some((value, after))
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
    fn trace_header_is_optional_and_must_be_a_lowercase_header_name() {
        let config = parse_config(br#"{"traceHeader": "x-trace", "bytecode": "Zm9v"}"#).unwrap();
        assert_eq!(config.trace_header.as_deref(), Some("x-trace"));
        assert_eq!(config.program, b"foo".to_vec());
        assert_eq!(
            parse_config(br#"{"bytecode": "Zm9v"}"#).unwrap().trace_header,
            None
        );
        for bad in [
            &br#"{"bytecode": "Zm9v", "traceHeader": "X-Trace"}"#[..],
            br#"{"bytecode": "Zm9v", "traceHeader": ""}"#,
            br#"{"bytecode": "Zm9v", "traceHeader": ":path"}"#,
        ] {
            assert_eq!(parse_config(bad), Err(ConfigError::BadTraceHeader));
        }
        assert_eq!(
            parse_config(br#"{"bytecode": "Zm9v", "bytecode": "Zm9v"}"#),
            Err(ConfigError::BadJson)
        );
        assert_eq!(
            parse_config(br#"{"traceHeader": "x-trace"}"#),
            Err(ConfigError::BadJson)
        );
        assert_eq!(
            parse_config(br#"{"bytecode": "Zm9v",}"#),
            Err(ConfigError::BadJson)
        );
    }

    #[test]
    fn raw_bytecode_is_taken_as_is() {
        for magic in [MAGIC, COMPRESSED_MAGIC] {
            let mut raw = magic.to_vec();
            raw.extend_from_slice(&[1, 2, 3]);
            assert_eq!(program_bytes(&raw), Ok(raw.clone()));
        }
    }
}
