//! Just enough HTTP/1.1 for the envoy engine's client and echo upstreams: message heads,
//! bodies by `content-length`, `chunked` or connection close. Test traffic only; every
//! read is bounded so a confused peer cannot make the harness allocate without limit.

use std::io::{self, BufRead, Read};

/// The longest head line or total head accepted.
const MAX_HEAD: usize = 256 * 1024;
/// The largest body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A request or status line and the header fields, names lowercased, in order.
#[derive(Debug, Clone, Default)]
pub struct Head {
    pub start: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of `name` (lowercase).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the peer asked to close the connection after this message.
    pub fn closes(&self) -> bool {
        self.get("connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    }
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Reads one line without its CRLF; `None` at end of stream before any byte.
fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let read = reader.take(MAX_HEAD as u64).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(invalid("truncated or overlong line"));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    // HTTP allows obs-text (bytes 0x80-0xFF) in field values, and a test may send it on
    // purpose: read such a line lossily, as text, rather than refuse the message.
    Ok(Some(match String::from_utf8(line) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

/// Reads a message head; `None` when the stream ends cleanly before it starts.
pub fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let Some(start) = read_line(reader)? else {
        return Ok(None);
    };
    let mut head = Head {
        start,
        headers: Vec::new(),
    };
    let mut total = head.start.len();
    loop {
        let line = read_line(reader)?.ok_or_else(|| invalid("stream ended inside a head"))?;
        if line.is_empty() {
            return Ok(Some(head));
        }
        total += line.len();
        if total > MAX_HEAD {
            return Err(invalid("head too large"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("header line without a colon: {line:?}")))?;
        head.headers
            .push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
}

/// How the body after `head` is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (a request without a length, a HEAD response, 1xx/204/304).
    None,
    Length(usize),
    Chunked,
    /// A response without a length: up to the end of the stream.
    UntilClose,
}

/// The body framing of a request head (RFC 9112 section 6.3).
pub fn request_body(head: &Head) -> io::Result<BodyKind> {
    framing(head, BodyKind::None)
}

/// The body framing of a response to a request with `method`.
pub fn response_body(head: &Head, method: &str, status: u16) -> io::Result<BodyKind> {
    if method.eq_ignore_ascii_case("HEAD") || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(BodyKind::None);
    }
    framing(head, BodyKind::UntilClose)
}

fn framing(head: &Head, otherwise: BodyKind) -> io::Result<BodyKind> {
    if head
        .get("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        return Ok(BodyKind::Chunked);
    }
    match head.get("content-length") {
        Some(len) => len
            .parse()
            .map(BodyKind::Length)
            .map_err(|_| invalid(format!("bad content-length {len:?}"))),
        None => Ok(otherwise),
    }
}

/// Reads a body framed as `kind`.
pub fn read_body(reader: &mut impl BufRead, kind: BodyKind) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    match kind {
        BodyKind::None => {}
        BodyKind::Length(len) => {
            if len > MAX_BODY {
                return Err(invalid("body too large"));
            }
            body.resize(len, 0);
            reader.read_exact(&mut body)?;
        }
        BodyKind::UntilClose => {
            reader.take(MAX_BODY as u64).read_to_end(&mut body)?;
        }
        BodyKind::Chunked => loop {
            let line = read_line(reader)?.ok_or_else(|| invalid("stream ended inside a chunked body"))?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size =
                usize::from_str_radix(size, 16).map_err(|_| invalid(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while read_line(reader)?.is_some_and(|l| !l.is_empty()) {}
                break;
            }
            if body.len() + size > MAX_BODY {
                return Err(invalid("body too large"));
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            read_line(reader)?;
        },
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_and_bodies_parse() {
        let text = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nt: 1\r\n\r\nrest";
        let mut reader = &text[..];
        let head = read_head(&mut reader).unwrap().unwrap();
        assert_eq!(head.start, "HTTP/1.1 200 OK");
        assert_eq!(head.get("content-type"), Some("text/plain"));
        let kind = response_body(&head, "GET", 200).unwrap();
        assert_eq!(kind, BodyKind::Chunked);
        assert_eq!(read_body(&mut reader, kind).unwrap(), b"abcde");
        assert_eq!(reader, b"rest");
    }

    #[test]
    fn framing_follows_rfc9112() {
        let head = |h: &[(&str, &str)]| Head {
            start: String::new(),
            headers: h.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        };
        assert_eq!(request_body(&head(&[])).unwrap(), BodyKind::None);
        assert_eq!(
            response_body(&head(&[]), "GET", 200).unwrap(),
            BodyKind::UntilClose
        );
        assert_eq!(
            response_body(&head(&[("content-length", "5")]), "HEAD", 200).unwrap(),
            BodyKind::None
        );
        assert_eq!(
            response_body(&head(&[("content-length", "5")]), "GET", 204).unwrap(),
            BodyKind::None
        );
        assert_eq!(
            request_body(&head(&[("content-length", "5")])).unwrap(),
            BodyKind::Length(5)
        );
        assert!(head(&[("connection", "keep-alive, Close")]).closes());
        assert!(read_head(&mut &b""[..]).unwrap().is_none());
        assert!(read_head(&mut &b"GET / HTTP/1.1\r\nbad\r\n\r\n"[..]).is_err());
    }
}
