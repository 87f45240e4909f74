//! The test client: HTTP/1.1 over keep-alive loopback connections to Envoy. Each
//! connection opens with a PROXY protocol v1 line naming the program's listener port as
//! the destination, so the plugin sees that port (`destination.port`) although Envoy
//! listens on a port the OS picked.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::http::{Head, read_body, read_head, response_body};
use crate::routetest::engine::SentRequest;

/// What the client received.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Long enough for an injected delay, short enough that a stuck run fails.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Connection {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    /// Bytes to send before the next request (the PROXY line).
    pending: Vec<u8>,
}

/// One keep-alive connection per listener, reopened when Envoy closes it.
#[derive(Debug)]
pub struct Client {
    address: SocketAddr,
    program_port: u32,
    connection: Option<Connection>,
}

impl Client {
    pub fn new(address: SocketAddr, program_port: u32) -> Self {
        Client {
            address,
            program_port,
            connection: None,
        }
    }

    fn connect(&self) -> std::io::Result<Connection> {
        let stream = TcpStream::connect_timeout(&self.address, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        let source = stream.local_addr()?;
        // Sent with the first request, in one write.
        let proxy_line = format!(
            "PROXY TCP4 {} {} {} {}\r\n",
            source.ip(),
            self.address.ip(),
            source.port(),
            self.program_port
        );
        Ok(Connection {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
            pending: proxy_line.into_bytes(),
        })
    }

    /// Sends `request`; a reused connection that turns out closed is reopened once.
    pub fn send(&mut self, request: &SentRequest) -> Result<Response, String> {
        self.send_message(&encode(request), &request.method)
    }

    /// Sends an HTTP/1.1 request written out byte by byte (for bytes a `SentRequest`
    /// cannot hold, such as header values that are not UTF-8).
    pub fn send_message(&mut self, message: &[u8], method: &str) -> Result<Response, String> {
        for attempt in 0..2 {
            let reused = self.connection.is_some();
            let mut connection = match self.connection.take() {
                Some(c) => c,
                None => self
                    .connect()
                    .map_err(|e| format!("cannot connect to Envoy at {}: {e}", self.address))?,
            };
            match exchange(&mut connection, message, method) {
                Ok((response, closes)) => {
                    if !closes {
                        self.connection = Some(connection);
                    }
                    return Ok(response);
                }
                Err(e) if reused && attempt == 0 => drop(e),
                Err(e) => return Err(format!("HTTP exchange with Envoy failed: {e}")),
            }
        }
        Err("HTTP exchange with Envoy failed twice".to_string())
    }
}

/// The request in HTTP/1.1 form. The authority travels as Host; a scheme other than
/// http as an absolute-form target (the only way to name it on a plaintext connection).
fn encode(request: &SentRequest) -> Vec<u8> {
    let target = if request.scheme == "http" {
        request.path.clone()
    } else {
        format!("{}://{}{}", request.scheme, request.authority, request.path)
    };
    let mut text = format!(
        "{} {target} HTTP/1.1\r\nhost: {}\r\n",
        request.method, request.authority
    );
    for (name, value) in &request.headers {
        if name != "host" {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    text.push_str("\r\n");
    text.into_bytes()
}

fn exchange(connection: &mut Connection, message: &[u8], method: &str) -> std::io::Result<(Response, bool)> {
    let mut bytes = std::mem::take(&mut connection.pending);
    bytes.extend_from_slice(message);
    connection.writer.write_all(&bytes)?;
    let head: Head = read_head(&mut connection.reader)?.ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "Envoy closed the connection")
    })?;
    let status: u16 = head
        .start
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, head.start.clone()))?;
    let kind = response_body(&head, method, status)?;
    let body = read_body(&mut connection.reader, kind)?;
    let closes = head.closes() || kind == super::http::BodyKind::UntilClose;
    Ok((
        Response {
            status,
            headers: head.headers,
            body,
        },
        closes,
    ))
}

/// A plain GET to Envoy's admin interface (no PROXY line); returns status and body.
pub fn admin_get(address: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n");
    (&stream).write_all(request.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader)?
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "admin closed"))?;
    let status = head
        .start
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = read_body(&mut reader, response_body(&head, "GET", status)?)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
