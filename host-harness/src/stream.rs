//! One HTTP stream, driven in the order Envoy's filter manager uses.
//!
//! `context_create(id, root)` -> `on_request_headers` -> (`on_request_body`
//! when there is a body) -> either the local reply, or the upstream request
//! and `on_response_headers` -> `on_log` -> `on_done` -> `on_delete`.
//! Envoy logs before `on_done`, unlike the order the spec text lists.

use crate::Result;
use crate::abi::ROOT_CONTEXT_ID;
use crate::headers::Headers;
use crate::state::{Access, MapAccess, Stream};
use crate::types::{Action, HttpExchange, HttpRequest, LocalReply};
use crate::vm::Vm;

fn count(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| wasmtime::format_err!("more than 4 GiB of request"))
}

/// The headers Envoy builds for a local reply (`Utility::prepareLocalReply`):
/// `:status`, the plugin's headers, then `content-length` and a default
/// `content-type: text/plain` when there is a body; neither when there is not.
pub(crate) fn local_reply_headers(reply: &LocalReply) -> Headers {
    let mut headers = Headers::default();
    headers.add(b":status", reply.status.to_string().as_bytes());
    for (name, value) in &reply.headers {
        headers.add(name.as_bytes(), value.as_bytes());
    }
    if reply.body.is_empty() {
        headers.remove(b"content-length");
        headers.remove(b"content-type");
    } else {
        headers.replace(b"content-length", reply.body.len().to_string().as_bytes());
        if headers.get(b"content-type").is_none() {
            headers.add(b"content-type", b"text/plain");
        }
    }
    headers
}

/// Envoy answers a gRPC request's local reply the gRPC way (`Utility::sendLocalReply`
/// with `is_grpc`): a trailers-only response, HTTP 200, `content-type: application/grpc`,
/// and `grpc-status` from the reply's status (`Grpc::Utility::httpToGrpcStatus`) unless
/// the plugin gave one; the body becomes `grpc-message`.
pub(crate) fn grpc_local_reply_headers(reply: &LocalReply) -> Headers {
    let mut headers = Headers::default();
    headers.add(b":status", b"200");
    for (name, value) in &reply.headers {
        headers.add(name.as_bytes(), value.as_bytes());
    }
    headers.replace(b"content-type", b"application/grpc");
    let status = if reply.grpc_status >= 0 {
        reply.grpc_status as u32
    } else {
        grpc_status_for_http(reply.status)
    };
    headers.replace(b"grpc-status", status.to_string().as_bytes());
    if !reply.body.is_empty() {
        headers.replace(b"grpc-message", &reply.body);
    }
    headers
}

/// Envoy's HTTP-to-gRPC status mapping (the gRPC HTTP/2 specification's table).
pub fn grpc_status_for_http(status: u16) -> u32 {
    match status {
        400 => 13,             // INTERNAL
        401 => 16,             // UNAUTHENTICATED
        403 => 7,              // PERMISSION_DENIED
        404 => 12,             // UNIMPLEMENTED
        429 | 502..=504 => 14, // UNAVAILABLE
        _ => 2,                // UNKNOWN
    }
}

impl Vm {
    /// Drives one HTTP stream through the plugin as Envoy would. A local
    /// reply sent during a request callback is acted on after that callback
    /// returns (Envoy defers it), and its headers then pass through
    /// `on_response_headers` like any response. A paused stream never
    /// resumes: it goes straight to the log and teardown callbacks.
    pub fn http_request(&mut self, request: &HttpRequest) -> Result<HttpExchange> {
        self.begin_operation()?;
        let id = self.next_context_id()?;
        self.store.data_mut().stream = Stream {
            request_headers: Headers::from_pairs(&request.headers),
            request_body: request.body.clone(),
            ..Stream::default()
        };
        let create = self.guest.on_context_create.clone();
        self.invoke(
            "proxy_on_context_create",
            create,
            (id, ROOT_CONTEXT_ID),
            Access::default(),
        )?;

        let (action, forwarded) = self.request_phase(id, request)?;
        let mut response_action = None;
        let mut upstream_request = None;
        // Whether the response headers now in the stream reach the client.
        let mut delivered = false;
        if self.take_pending_reply() {
            // Envoy sends the reply from inside the request callback's
            // after-call actions, while it still holds the request headers.
            response_action = self.respond_locally(id, MapAccess::ReadWrite)?;
            delivered = response_action == Some(Action::Continue);
        } else if forwarded {
            upstream_request = Some(self.store.data().stream.request_headers.to_strings());
            let upstream = if request.upstream_response.is_empty() {
                vec![(":status".to_owned(), "200".to_owned())]
            } else {
                request.upstream_response.clone()
            };
            self.store.data_mut().stream.response_headers = Some(Headers::from_pairs(&upstream));
            response_action = self.response_headers_phase(id, true, MapAccess::None)?;
            delivered = response_action == Some(Action::Continue);
            if self.take_pending_reply() {
                // A reply sent while encoding replaces the upstream response.
                let stream = &mut self.store.data_mut().stream;
                stream.response_headers = stream.local_reply.as_ref().map(local_reply_headers);
                delivered = true;
            }
        }
        if !delivered {
            // Nothing reached the client: no response, or it was paused.
            self.store.data_mut().stream.response_headers = None;
        }

        let log_access = Access {
            request_headers: MapAccess::Read,
            response_headers: MapAccess::Read,
            access_log: true,
            ..Access::default()
        };
        let on_log = self.guest.on_log.clone();
        self.invoke("proxy_on_log", on_log, id, log_access)?;
        let on_done = self.guest.on_done.clone();
        self.invoke("proxy_on_done", on_done, id, Access::default())?;
        let on_delete = self.guest.on_delete.clone();
        self.invoke("proxy_on_delete", on_delete, id, Access::default())?;

        let stream = std::mem::take(&mut self.store.data_mut().stream);
        Ok(HttpExchange {
            action,
            local_reply: stream.local_reply,
            upstream_request,
            response_headers: stream
                .response_headers
                .map(|h| h.to_strings())
                .unwrap_or_default(),
            response_action,
            route_cache_cleared: stream.route_cache_cleared,
            request_header_writes: stream.request_header_writes,
        })
    }

    /// Request headers, then the body if there is one and the stream still
    /// flows. Returns the headers action and whether the request goes
    /// upstream.
    fn request_phase(&mut self, id: u32, request: &HttpRequest) -> Result<(Action, bool)> {
        let headers_len = count(self.store.data().stream.request_headers.len())?;
        let end_of_stream = u32::from(request.body.is_empty());
        let access = Access {
            request_headers: MapAccess::ReadWrite,
            ..Access::default()
        };
        let on_headers = self.guest.on_request_headers.clone();
        let raw = self.invoke(
            "proxy_on_request_headers",
            on_headers,
            (id, headers_len, end_of_stream),
            access,
        )?;
        let action = raw.map_or(Action::Continue, Action::from_raw);
        if action == Action::Pause || self.reply_pending() {
            return Ok((action, false));
        }
        if request.body.is_empty() {
            return Ok((action, true));
        }
        let body_len = count(request.body.len())?;
        let access = Access {
            request_body: true,
            ..Access::default()
        };
        let on_body = self.guest.on_request_body.clone();
        let raw = self.invoke("proxy_on_request_body", on_body, (id, body_len, 1), access)?;
        let body_action = raw.map_or(Action::Continue, Action::from_raw);
        Ok((action, body_action == Action::Continue && !self.reply_pending()))
    }

    /// Sends the recorded local reply through `on_response_headers`.
    fn respond_locally(&mut self, id: u32, request_headers: MapAccess) -> Result<Option<Action>> {
        let stream = &mut self.store.data_mut().stream;
        let Some(reply) = &stream.local_reply else {
            return Ok(None);
        };
        let end_of_stream = reply.body.is_empty();
        let grpc = stream
            .request_headers
            .get(b"content-type")
            .is_some_and(|c| c.starts_with(b"application/grpc"));
        stream.response_headers = Some(if grpc {
            grpc_local_reply_headers(reply)
        } else {
            local_reply_headers(reply)
        });
        let action = self.response_headers_phase(id, end_of_stream, request_headers)?;
        // A second reply from the encoding path is ignored: one already went out.
        self.take_pending_reply();
        Ok(action)
    }

    fn response_headers_phase(
        &mut self,
        id: u32,
        end_of_stream: bool,
        request_headers: MapAccess,
    ) -> Result<Option<Action>> {
        let len = self
            .store
            .data()
            .stream
            .response_headers
            .as_ref()
            .map_or(0, Headers::len);
        let access = Access {
            request_headers,
            response_headers: MapAccess::ReadWrite,
            ..Access::default()
        };
        let on_headers = self.guest.on_response_headers.clone();
        let raw = self.invoke(
            "proxy_on_response_headers",
            on_headers,
            (id, count(len)?, u32::from(end_of_stream)),
            access,
        )?;
        Ok(Some(raw.map_or(Action::Continue, Action::from_raw)))
    }

    fn reply_pending(&self) -> bool {
        self.store.data().stream.local_reply_pending
    }

    fn take_pending_reply(&mut self) -> bool {
        std::mem::take(&mut self.store.data_mut().stream.local_reply_pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(headers: &[(&str, &str)], body: &[u8]) -> LocalReply {
        LocalReply {
            status: 404,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
            details: String::new(),
            grpc_status: -1,
        }
    }

    #[test]
    fn grpc_local_reply_is_http_200_with_the_mapped_grpc_status() {
        let h = grpc_local_reply_headers(&reply(&[("x-a", "1")], b""));
        assert_eq!(h.get(b":status"), Some(&b"200"[..]));
        assert_eq!(h.get(b"grpc-status"), Some(&b"12"[..]));
        assert_eq!(h.get(b"content-type"), Some(&b"application/grpc"[..]));
        assert_eq!(h.get(b"x-a"), Some(&b"1"[..]));
        assert_eq!(grpc_status_for_http(503), 14);
        assert_eq!(grpc_status_for_http(500), 2);
    }

    #[test]
    fn local_reply_with_body_gets_length_and_default_type() {
        let h = local_reply_headers(&reply(&[("x-a", "1")], b"nope"));
        let expected = [
            (":status", "404"),
            ("x-a", "1"),
            ("content-length", "4"),
            ("content-type", "text/plain"),
        ];
        assert_eq!(h, Headers::from_pairs(&expected));
    }

    #[test]
    fn local_reply_keeps_the_plugins_content_type() {
        let h = local_reply_headers(&reply(&[("content-type", "application/json")], b"{}"));
        assert_eq!(h.get(b"content-type"), Some(&b"application/json"[..]));
        assert_eq!(h.get(b"content-length"), Some(&b"2"[..]));
    }

    #[test]
    fn local_reply_without_body_has_neither() {
        let h = local_reply_headers(&reply(&[("location", "/x"), ("content-type", "a/b")], b""));
        let expected = [(":status", "404"), ("location", "/x")];
        assert_eq!(h, Headers::from_pairs(&expected));
    }
}
