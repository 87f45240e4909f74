//! What Envoy's HTTP connection manager does to a request's path before any filter sees
//! it, as Istio configures it: `normalize_path: true` (Istio's default BASE
//! normalization: RFC 3986 with Envoy's Chromium-derived path canonicaliser), no slash
//! merging, escaped slashes kept. The plugin therefore routes on the normalised path, and
//! the backend receives it. The `native` and `wasm` engines apply this before the
//! program runs; the `envoy` engine sends the path as written and lets Envoy do it, which
//! keeps this emulation honest (`compiler/tests/envoy.rs` compares both).
//!
//! Measured on Envoy 1.40 here, one character at a time:
//! - an escape of an unreserved character (`%41`, `%2e`, `%7E`; either hex case) is
//!   decoded; every other escape is kept as written (`%2F`, `%25`, `%c3%a9`);
//! - raw `"` `<` `>` `^` `` ` `` `{` `|` `}` are escaped (upper-case hex), `\` becomes `/`;
//! - `.` and `..` segments are removed (RFC 3986 §5.2.4), escaped dots included;
//! - the query string is left alone;
//! - a control character, a space, a byte outside ASCII or `%00` makes Envoy answer 400.

/// Envoy refused the path (400 Bad Request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected;

/// The status Envoy answers a request it refuses.
pub const REJECTED_STATUS: u16 = 400;

/// `path_and_query` as the connection manager hands it on.
pub fn normalize_path(path_and_query: &str) -> Result<String, Rejected> {
    let (path, query) = path_and_query.split_at(path_and_query.find('?').unwrap_or(path_and_query.len()));
    if path_and_query.bytes().any(|b| b <= b' ' || b >= 0x7F) {
        return Err(Rejected);
    }
    let canonical = canonical_characters(path)?;
    Ok(format!("{}{query}", remove_dot_segments(&canonical)))
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~".contains(&c)
}

/// Decodes escaped unreserved characters, escapes the characters Envoy escapes, turns
/// `\` into `/`.
fn canonical_characters(path: &str) -> Result<String, Rejected> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(0) => return Err(Rejected),
                    Some(decoded) if is_unreserved(decoded) => {
                        out.push(char::from(decoded));
                        i += 3;
                        continue;
                    }
                    // Kept as written, hex case included; a `%` without two hex digits
                    // stays a literal `%`.
                    _ => out.push('%'),
                }
            }
            b'\\' => out.push('/'),
            b'"' | b'<' | b'>' | b'^' | b'`' | b'{' | b'|' | b'}' => {
                out.push_str(&format!("%{c:02X}"));
            }
            _ => out.push(char::from(c)),
        }
        i += 1;
    }
    Ok(out)
}

/// RFC 3986 §5.2.4 on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output = String::with_capacity(path.len());
    let pop_segment = |output: &mut String| {
        let cut = output.rfind('/').unwrap_or(0);
        output.truncate(cut);
    };
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../").or_else(|| input.strip_prefix("./")) {
            input = rest;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") {
            input = &input[3..];
            pop_segment(&mut output);
        } else if input == "/.." {
            input = "/";
            pop_segment(&mut output);
        } else if input == "." || input == ".." {
            input = "";
        } else {
            // Move the first segment, with its leading `/`, to the output.
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            output.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    if output.is_empty() {
        "/".to_string()
    } else {
        output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(path: &str) -> String {
        normalize_path(path).unwrap()
    }

    /// Pairs measured through Envoy 1.40 with `normalize_path: true`.
    #[test]
    fn paths_come_out_as_envoy_hands_them_on() {
        for (sent, seen) in [
            ("/a/../b", "/b"),
            ("/a/./b", "/a/b"),
            ("/%61bc", "/abc"),
            ("/a%2Fb", "/a%2Fb"),
            ("/a%2fb", "/a%2fb"),
            ("/a//b", "/a//b"),
            ("/%7Efoo", "/~foo"),
            ("/%7efoo", "/~foo"),
            ("/a/b/..", "/a/"),
            ("/../x", "/x"),
            ("/a%20b", "/a%20b"),
            ("/caf%c3%a9", "/caf%c3%a9"),
            ("/a?x=/../y", "/a?x=/../y"),
            ("/A/%2e%2e/B", "/B"),
            ("/a\\b", "/a/b"),
            ("/%41%2D%5F%2e%7E", "/A-_.~"),
            ("/%3A%3a%40", "/%3A%3a%40"),
            ("/a|b", "/a%7Cb"),
            ("/a%zz", "/a%zz"),
            ("/a%", "/a%"),
            ("/a/..", "/"),
            ("/..", "/"),
            ("/.", "/"),
            ("/a/.", "/a/"),
            ("//..//x", "//x"),
            ("/a/%2E/b", "/a/b"),
            ("/a/.%2e/b", "/b"),
            ("/a/%252e", "/a/%252e"),
            ("/a/b/../../..", "/"),
            ("/a;b/../c", "/c"),
            ("/%5C", "/%5C"),
            ("/a^b", "/a%5Eb"),
            ("/a\"b", "/a%22b"),
            ("/a{b}", "/a%7Bb%7D"),
            ("/x/..%2f..%2fy", "/x/..%2f..%2fy"),
            ("/a<b>`c", "/a%3Cb%3E%60c"),
        ] {
            assert_eq!(normalized(sent), seen, "{sent}");
        }
    }

    #[test]
    fn envoy_refuses_nul_escapes_controls_and_raw_non_ascii() {
        for path in ["/a%00b", "/a\u{7f}b", "/a b", "/café", "/a\tb"] {
            assert_eq!(normalize_path(path), Err(Rejected), "{path:?}");
        }
    }

    #[test]
    fn normalizing_twice_changes_nothing() {
        for path in ["/a/../b%41", "/x/%2e/y?q=%41", "/a|b", "/%25%2541"] {
            let once = normalized(path);
            assert_eq!(normalized(&once), once, "{path}");
        }
    }
}
