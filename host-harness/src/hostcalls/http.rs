//! Hostcalls about the HTTP stream: header maps, buffers, local replies and
//! stream control.

use wasmtime::{Caller, Linker};

use crate::abi::{buffer, status, stream};
use crate::header_map;
use crate::headers::Headers;
use crate::memory::{Status, return_bytes, slice, with_memory};
use crate::state::{HostState, MapAccess};
use crate::types::LocalReply;

type Ret = wasmtime::Result<Status>;

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap("env", "proxy_get_header_map_pairs", get_header_map_pairs)?;
    linker.func_wrap("env", "proxy_set_header_map_pairs", set_header_map_pairs)?;
    linker.func_wrap("env", "proxy_get_header_map_value", get_header_map_value)?;
    linker.func_wrap("env", "proxy_add_header_map_value", add_header_map_value)?;
    linker.func_wrap("env", "proxy_replace_header_map_value", replace_header_map_value)?;
    linker.func_wrap("env", "proxy_remove_header_map_value", remove_header_map_value)?;
    linker.func_wrap("env", "proxy_get_buffer_bytes", get_buffer_bytes)?;
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |mut caller: Caller<'_, HostState>,
         status_code: u32,
         details_ptr: u32,
         details_len: u32,
         body_ptr: u32,
         body_len: u32,
         headers_ptr: u32,
         headers_len: u32,
         grpc_status: i32|
         -> Status {
            let args = LocalReplyArgs {
                status_code,
                details: (details_ptr, details_len),
                body: (body_ptr, body_len),
                headers: (headers_ptr, headers_len),
                grpc_status,
            };
            send_local_response(&mut caller, &args)
        },
    )?;
    linker.func_wrap("env", "proxy_continue_stream", continue_stream)?;
    linker.func_wrap("env", "proxy_close_stream", close_stream)?;
    Ok(())
}

/// Envoy serves a map that is not available in this callback as empty here
/// (`getHeaderMapPairs` always succeeds).
fn get_header_map_pairs(mut caller: Caller<'_, HostState>, map_type: u32, ret_ptr: u32, ret_len: u32) -> Ret {
    let bytes = match caller.data().readable_map(map_type) {
        Err(code) => return Ok(code),
        Ok(None) => Vec::new(),
        Ok(Some(headers)) => match headers.serialize() {
            Ok(bytes) => bytes,
            Err(_) => return Ok(status::SERIALIZATION_FAILURE),
        },
    };
    return_bytes(&mut caller, &bytes, ret_ptr, ret_len)
}

fn set_header_map_pairs(mut caller: Caller<'_, HostState>, map_type: u32, ptr: u32, len: u32) -> Status {
    with_memory(&mut caller, |mem, state| {
        let pairs = header_map::decode(slice(mem, ptr, len)?).map_err(|_| status::BAD_ARGUMENT)?;
        state.writable_map(map_type)?.set_all(&pairs);
        Ok(status::OK)
    })
}

/// First value only, NOT_FOUND when absent; an unavailable map is
/// BAD_ARGUMENT, except in the access-log phase where it is NOT_FOUND.
fn get_header_map_value(
    mut caller: Caller<'_, HostState>,
    map_type: u32,
    key_ptr: u32,
    key_len: u32,
    ret_ptr: u32,
    ret_len: u32,
) -> Ret {
    let mut value = Vec::new();
    let code = with_memory(&mut caller, |mem, state| {
        let key = slice(mem, key_ptr, key_len)?;
        match state.readable_map(map_type)? {
            Some(headers) => {
                value = headers.get(key).ok_or(status::NOT_FOUND)?.to_vec();
                Ok(status::OK)
            }
            None if state.access.access_log => Err(status::NOT_FOUND),
            None => Err(status::BAD_ARGUMENT),
        }
    });
    if code != status::OK {
        return Ok(code);
    }
    return_bytes(&mut caller, &value, ret_ptr, ret_len)
}

fn add_header_map_value(
    mut caller: Caller<'_, HostState>,
    map_type: u32,
    key_ptr: u32,
    key_len: u32,
    value_ptr: u32,
    value_len: u32,
) -> Status {
    with_memory(&mut caller, |mem, state| {
        let key = slice(mem, key_ptr, key_len)?;
        let value = slice(mem, value_ptr, value_len)?;
        state.writable_map(map_type)?.add(key, value);
        Ok(status::OK)
    })
}

fn replace_header_map_value(
    mut caller: Caller<'_, HostState>,
    map_type: u32,
    key_ptr: u32,
    key_len: u32,
    value_ptr: u32,
    value_len: u32,
) -> Status {
    with_memory(&mut caller, |mem, state| {
        let key = slice(mem, key_ptr, key_len)?;
        let value = slice(mem, value_ptr, value_len)?;
        state.writable_map(map_type)?.replace(key, value);
        Ok(status::OK)
    })
}

/// Removing an absent header is OK (Envoy's `remove` is unconditional).
fn remove_header_map_value(
    mut caller: Caller<'_, HostState>,
    map_type: u32,
    key_ptr: u32,
    key_len: u32,
) -> Status {
    with_memory(&mut caller, |mem, state| {
        let key = slice(mem, key_ptr, key_len)?;
        state.writable_map(map_type)?.remove(key);
        Ok(status::OK)
    })
}

/// Slices `[start, start + max)` out of the buffer, clamped to its end, as
/// cpp-host does. The plugin configuration exists only inside
/// `on_configure` (Envoy's `temp_plugin_`); outside it is NOT_FOUND.
fn get_buffer_bytes(
    mut caller: Caller<'_, HostState>,
    buffer_type: u32,
    start: u32,
    max: u32,
    ret_ptr: u32,
    ret_len: u32,
) -> Ret {
    let state = caller.data();
    let whole: &[u8] = match buffer_type {
        buffer::VM_CONFIGURATION => &state.vm_config,
        buffer::PLUGIN_CONFIGURATION if state.access.plugin_config => &state.plugin_config,
        buffer::HTTP_REQUEST_BODY if state.access.request_body => &state.stream.request_body,
        t if t > buffer::MAX => return Ok(status::BAD_ARGUMENT),
        _ => return Ok(status::NOT_FOUND),
    };
    let Some(end) = start.checked_add(max) else {
        return Ok(status::BAD_ARGUMENT);
    };
    let from = (start as usize).min(whole.len());
    let to = (end as usize).min(whole.len());
    let bytes = whole[from..to].to_vec();
    return_bytes(&mut caller, &bytes, ret_ptr, ret_len)
}

struct LocalReplyArgs {
    status_code: u32,
    details: (u32, u32),
    body: (u32, u32),
    headers: (u32, u32),
    grpc_status: i32,
}

/// Recorded now, acted on by the stream driver after the callback returns:
/// Envoy defers `sendLocalReply` to an after-VM-call action. Outside an HTTP
/// stream callback Envoy has no decoder callbacks and silently does nothing.
fn send_local_response(caller: &mut Caller<'_, HostState>, args: &LocalReplyArgs) -> Status {
    with_memory(caller, |mem, state| {
        let details = slice(mem, args.details.0, args.details.1)?;
        let body = slice(mem, args.body.0, args.body.1)?;
        let headers = slice(mem, args.headers.0, args.headers.1)?;
        let headers = header_map::decode(headers).map_err(|_| status::BAD_ARGUMENT)?;
        let status_code = u16::try_from(args.status_code).map_err(|_| status::BAD_ARGUMENT)?;
        let access = state.access;
        let in_stream = access.request_headers == MapAccess::ReadWrite
            || access.response_headers == MapAccess::ReadWrite
            || access.request_body;
        if in_stream && state.stream.local_reply.is_none() {
            state.stream.local_reply = Some(LocalReply {
                status: status_code,
                headers: Headers::from_pairs(&headers).to_strings(),
                body: body.to_vec(),
                details: replace_whitespace(details),
                grpc_status: args.grpc_status,
            });
            state.stream.local_reply_pending = true;
        }
        Ok(status::OK)
    })
}

/// Envoy's `StringUtil::replaceAllEmptySpace` on response code details.
fn replace_whitespace(details: &[u8]) -> String {
    String::from_utf8_lossy(details)
        .chars()
        .map(|c| match c {
            ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c' => '_',
            other => other,
        })
        .collect()
}

/// A paused stream would resume in Envoy; the harness finishes every stream
/// within one `http_request`, so this is acknowledged and otherwise ignored.
fn continue_stream(_caller: Caller<'_, HostState>, stream_type: u32) -> Status {
    match stream_type {
        stream::UPSTREAM => status::UNIMPLEMENTED,
        t if t > stream::MAX => status::BAD_ARGUMENT,
        _ => status::OK,
    }
}

fn close_stream(_caller: Caller<'_, HostState>, stream_type: u32) -> Status {
    if stream_type > stream::MAX {
        status::BAD_ARGUMENT
    } else {
        status::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_whitespace_becomes_underscores() {
        assert_eq!(replace_whitespace(b"no route\tfor\nyou"), "no_route_for_you");
    }
}
