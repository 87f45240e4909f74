//! Host selection: the request's host, lowercased and without port, against the
//! listener's host table.

use crate::format::{NONE, section};
use crate::hash::fnv1a_lowercase;
use crate::program::Program;

/// Drops a trailing `:port` (Gateway API: "ignore the port in the Host header when
/// matching"), keeping IPv6 literals in brackets whole.
pub fn normalize_host(authority: &str) -> &str {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => &authority[..=end],
            None => authority,
        };
    }
    match authority.rfind(':') {
        Some(colon) if authority[colon + 1..].bytes().all(|b| b.is_ascii_digit()) => &authority[..colon],
        _ => authority,
    }
}

impl Program {
    /// The most specific vhost of `listener` serving `host`: the exact name, else the
    /// longest wildcard suffix (`*.example.com` matches `a.b.example.com`, not
    /// `example.com`), else the catch-all; `NONE` if there is none.
    pub(crate) fn select_vhost(&self, listener: u32, host: &str) -> u32 {
        let start = self.word(section::LISTENERS, listener, 1);
        let len = self.word(section::LISTENERS, listener, 2);
        if len > 0 {
            if !host.starts_with('.')
                && let Some(vhost) = self.probe_host(start, len, host)
            {
                return vhost;
            }
            // Suffixes at each dot, longest first, each leaving at least one label.
            for (i, _) in host.match_indices('.').filter(|&(i, _)| i > 0) {
                if let Some(vhost) = self.probe_host(start, len, &host[i..]) {
                    return vhost;
                }
            }
        }
        self.word(section::LISTENERS, listener, 3)
    }

    fn probe_host(&self, start: u32, len: u32, key: &str) -> Option<u32> {
        let mask = len - 1;
        let mut slot = fnv1a_lowercase(key.as_bytes()) & mask;
        for _ in 0..len {
            let stored = self.word(section::HOST_SLOTS, start + slot, 0);
            if stored == NONE {
                return None;
            }
            if self.string_bytes(stored).eq_ignore_ascii_case(key.as_bytes()) {
                return Some(self.word(section::HOST_SLOTS, start + slot, 1));
            }
            slot = (slot + 1) & mask;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_host;

    #[test]
    fn port_is_ignored_in_host_matching() {
        assert_eq!(normalize_host("foo.example.com:8080"), "foo.example.com");
        assert_eq!(normalize_host("foo.example.com"), "foo.example.com");
        assert_eq!(normalize_host("[::1]:80"), "[::1]");
        assert_eq!(normalize_host("127.0.0.1:80"), "127.0.0.1");
        assert_eq!(normalize_host(""), "");
    }
}
