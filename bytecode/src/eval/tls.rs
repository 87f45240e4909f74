//! Misdirected requests (Gateway API `GatewayHTTPSListenerDetectMisdirectedRequests`).
//!
//! `Listener.hostname` (gateway_types.go, v1.6): "To detect misdirected requests,
//! Gateways SHOULD match the authority of the requests with all the SNI hostname(s)
//! configured across all the Gateway Listeners on the same port and protocol:
//! * If another Listener has an exact match or more specific wildcard entry, the Gateway
//!   SHOULD return a 421.
//! * If the current Listener (selected by SNI matching during ClientHello) does not match
//!   the Host: If another Listener does match the Host, the Gateway SHOULD return a 421.
//!   If no other Listener matches the Host, the Gateway MUST return a 404."
//!
//! So the SNI and the Host each select the most specific HTTPS listener on the port
//! (exact name, then the longest wildcard, then the listener without hostname); a Host
//! that selects a listener other than the SNI's is answered 421. A Host no listener
//! matches goes on to routing, which answers 404.

use crate::format::{NONE, section, tls_flag};
use crate::hash::fnv1a_lowercase;
use crate::program::Program;

/// The HTTPS listener a name selects on one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// The listener whose hostname is in TLS_NAMES slot `n`.
    Named(u32),
    /// The listener without hostname.
    CatchAll,
}

impl Program {
    /// Whether a request on `port` for `host` (no port, as sent) over a TLS connection
    /// that sent `sni` is misdirected.
    pub(crate) fn misdirected(&self, port: u32, host: &str, sni: &str) -> bool {
        let Some(listener) = self.tls_listener(port) else {
            return false;
        };
        match self.owner(listener, host) {
            Some(owner) => self.owner(listener, sni.strip_suffix('.').unwrap_or(sni)) != Some(owner),
            None => false,
        }
    }

    /// The TLS_LISTENERS record of `port`, by binary search (records are sorted by port).
    fn tls_listener(&self, port: u32) -> Option<u32> {
        let (mut low, mut high) = (0, self.table(section::TLS_LISTENERS).len);
        while low < high {
            let mid = low + (high - low) / 2;
            match self.word(section::TLS_LISTENERS, mid, 0).cmp(&port) {
                core::cmp::Ordering::Less => low = mid + 1,
                core::cmp::Ordering::Greater => high = mid,
                core::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The listener `name` selects: its exact name, else the longest wildcard suffix
    /// (`*.example.com` matches `a.b.example.com`, not `example.com`), else the listener
    /// without hostname.
    fn owner(&self, listener: u32, name: &str) -> Option<Owner> {
        let start = self.word(section::TLS_LISTENERS, listener, 1);
        let len = self.word(section::TLS_LISTENERS, listener, 2);
        if len > 0 {
            if !name.starts_with('.')
                && let Some(slot) = self.probe_tls_name(start, len, name)
            {
                return Some(Owner::Named(slot));
            }
            for (i, _) in name.match_indices('.').filter(|&(i, _)| i > 0) {
                if let Some(slot) = self.probe_tls_name(start, len, &name[i..]) {
                    return Some(Owner::Named(slot));
                }
            }
        }
        let flags = self.word(section::TLS_LISTENERS, listener, 3);
        (flags & tls_flag::CATCH_ALL != 0).then_some(Owner::CatchAll)
    }

    fn probe_tls_name(&self, start: u32, len: u32, key: &str) -> Option<u32> {
        let mask = len - 1;
        let mut slot = fnv1a_lowercase(key.as_bytes()) & mask;
        for _ in 0..len {
            let stored = self.word(section::TLS_NAMES, start + slot, 0);
            if stored == NONE {
                return None;
            }
            if self.string_bytes(stored).eq_ignore_ascii_case(key.as_bytes()) {
                return Some(start + slot);
            }
            slot = (slot + 1) & mask;
        }
        None
    }

    /// The HTTPS listener hostnames checked on `port` (`*` for the listener without
    /// hostname), for listings; empty when the port does not check.
    pub fn tls_hostnames(&self, port: u32) -> Vec<String> {
        let Some(listener) = self.tls_listener(port) else {
            return Vec::new();
        };
        let start = self.word(section::TLS_LISTENERS, listener, 1);
        let len = self.word(section::TLS_LISTENERS, listener, 2);
        let mut names: Vec<String> = (start..start.saturating_add(len))
            .map(|slot| self.word(section::TLS_NAMES, slot, 0))
            .filter(|&key| key != NONE)
            .map(|key| {
                let key = self.string(key);
                if key.starts_with('.') {
                    format!("*{key}")
                } else {
                    key.to_string()
                }
            })
            .collect();
        names.sort();
        if self.word(section::TLS_LISTENERS, listener, 3) & tls_flag::CATCH_ALL != 0 {
            names.push("*".to_string());
        }
        names
    }
}
