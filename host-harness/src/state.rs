//! Everything one VM knows, kept in its `Store<HostState>` so that VMs share
//! nothing and tests run in parallel.

use std::collections::HashMap;

use wasmtime::{Memory, TypedFunc};

use crate::abi::map;
use crate::headers::Headers;
use crate::metrics::Metrics;
use crate::types::{LocalReply, LogLevel, LogLine, VmOptions};

/// Whether a header map is reachable by the guest right now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MapAccess {
    #[default]
    None,
    Read,
    ReadWrite,
}

/// What the current guest callback may touch. Envoy exposes a map only while
/// it holds it (request headers during `on_request_headers`, response headers
/// during `on_response_headers`, both read-only in the access-log phase) and
/// answers BAD_ARGUMENT otherwise; the SDK panics on that, so a plugin that
/// reads the wrong map at the wrong time traps here just as it would there.
#[derive(Clone, Copy, Debug, Default)]
pub struct Access {
    pub request_headers: MapAccess,
    pub response_headers: MapAccess,
    pub request_body: bool,
    /// Envoy hands out the plugin configuration only inside `on_configure`.
    pub plugin_config: bool,
    /// In the access-log phase a missing map is NOT_FOUND, not BAD_ARGUMENT.
    pub access_log: bool,
}

/// The HTTP stream currently being driven.
#[derive(Debug, Default)]
pub struct Stream {
    pub request_headers: Headers,
    pub request_body: Vec<u8>,
    /// `None` until an upstream response or a local reply exists.
    pub response_headers: Option<Headers>,
    /// The first `proxy_send_local_response` of the stream.
    pub local_reply: Option<LocalReply>,
    /// A local reply sent during the current callback, which the driver
    /// acts on once the callback has returned (Envoy defers it the same way).
    pub local_reply_pending: bool,
    pub route_cache_cleared: bool,
    /// Request-header mutations the guest made (host calls that write the map).
    pub request_header_writes: u32,
}

/// The deterministic generator behind WASI `random_get` (SplitMix64).
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

pub struct HostState {
    /// The guest's exported memory and allocator, set right after
    /// instantiation (before any guest code runs).
    pub memory: Option<Memory>,
    pub allocator: Option<TypedFunc<u32, u32>>,
    pub vm_config: Vec<u8>,
    pub plugin_config: Vec<u8>,
    pub properties: HashMap<String, Vec<u8>>,
    /// Every property path the guest read, in order (so tests can check that a filter
    /// asks Envoy only for what it needs).
    pub property_reads: Vec<String>,
    pub now_nanos: u64,
    pub rng: Rng,
    pub logs: Vec<LogLine>,
    /// Unfinished stdout / stderr lines, completed by a later `fd_write`.
    pub stdio_pending: [Vec<u8>; 2],
    pub access: Access,
    pub stream: Stream,
    pub metrics: Metrics,
    pub tick_period_ms: u32,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("logs", &self.logs.len())
            .field("access", &self.access)
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl HostState {
    pub fn new(options: &VmOptions) -> HostState {
        let mut properties: HashMap<String, Vec<u8>> = options.properties.iter().cloned().collect();
        properties
            .entry("plugin_root_id".to_owned())
            .or_insert_with(|| options.root_id.as_bytes().to_vec());
        HostState {
            memory: None,
            allocator: None,
            vm_config: options.vm_config.clone(),
            plugin_config: options.plugin_config.clone(),
            properties,
            now_nanos: options.now_nanos,
            rng: Rng(options.random_seed),
            logs: Vec::new(),
            property_reads: Vec::new(),
            stdio_pending: [Vec::new(), Vec::new()],
            access: Access::default(),
            stream: Stream::default(),
            metrics: Metrics::default(),
            tick_period_ms: 0,
        }
    }

    pub fn log(&mut self, level: LogLevel, message: &[u8]) {
        self.logs.push(LogLine {
            level,
            message: String::from_utf8_lossy(message).into_owned(),
        });
    }

    /// Turns a guest header-map id into the map it may read now.
    /// `Err(status)` for an id the ABI does not define; `Ok(None)` for a map
    /// that exists in the ABI but is not available in this callback.
    pub fn readable_map(&self, map_type: u32) -> Result<Option<&Headers>, u32> {
        if map_type > map::MAX {
            return Err(crate::abi::status::BAD_ARGUMENT);
        }
        let stream = &self.stream;
        Ok(match map_type {
            map::REQUEST_HEADERS if self.access.request_headers != MapAccess::None => {
                Some(&stream.request_headers)
            }
            map::RESPONSE_HEADERS if self.access.response_headers != MapAccess::None => {
                stream.response_headers.as_ref()
            }
            _ => None,
        })
    }

    /// The map the guest may change now, or BAD_ARGUMENT as Envoy answers.
    /// A request-header change marks the route cache cleared: under ABI
    /// 0.2.1 Envoy re-matches routes after any such mutation.
    pub fn writable_map(&mut self, map_type: u32) -> Result<&mut Headers, u32> {
        let stream = &mut self.stream;
        match map_type {
            map::REQUEST_HEADERS if self.access.request_headers == MapAccess::ReadWrite => {
                stream.route_cache_cleared = true;
                stream.request_header_writes += 1;
                Ok(&mut stream.request_headers)
            }
            map::RESPONSE_HEADERS if self.access.response_headers == MapAccess::ReadWrite => stream
                .response_headers
                .as_mut()
                .ok_or(crate::abi::status::BAD_ARGUMENT),
            _ => Err(crate::abi::status::BAD_ARGUMENT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_per_seed() {
        let (mut a, mut b, mut c) = (Rng(7), Rng(7), Rng(8));
        let (mut x, mut y, mut z) = ([0u8; 13], [0u8; 13], [0u8; 13]);
        a.fill(&mut x);
        b.fill(&mut y);
        c.fill(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn maps_follow_the_access_rules() {
        let mut state = HostState::new(&VmOptions::default());
        assert_eq!(state.readable_map(map::REQUEST_HEADERS), Ok(None));
        assert_eq!(
            state.readable_map(map::MAX + 1),
            Err(crate::abi::status::BAD_ARGUMENT)
        );
        assert!(state.writable_map(map::REQUEST_HEADERS).is_err());
        state.access.request_headers = MapAccess::Read;
        assert!(state.readable_map(map::REQUEST_HEADERS).unwrap().is_some());
        assert!(state.writable_map(map::REQUEST_HEADERS).is_err());
        assert!(!state.stream.route_cache_cleared);
        state.access.request_headers = MapAccess::ReadWrite;
        assert!(state.writable_map(map::REQUEST_HEADERS).is_ok());
        assert!(state.stream.route_cache_cleared);
    }

    #[test]
    fn root_id_is_a_property() {
        let options = VmOptions {
            root_id: "switchyard".into(),
            ..VmOptions::default()
        };
        let state = HostState::new(&options);
        assert_eq!(state.properties["plugin_root_id"], b"switchyard");
    }
}
