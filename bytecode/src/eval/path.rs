//! Narrowing a vhost to the entries that can match a path: the exact-path table, every
//! trie node along the path's segments, and the regex-path list.

use crate::format::{NONE, section};
use crate::hash::fnv1a;
use crate::program::Program;

impl Program {
    /// Fills `cursors` with the candidate lists of `vhost` for `path` (no query).
    pub(crate) fn collect_candidates(&self, vhost: u32, path: &str, cursors: &mut Vec<(u32, u32)>) {
        cursors.clear();
        let list = |start: u32, len: u32| (start, start.saturating_add(len));
        let slots = self.word(section::VHOSTS, vhost, 1);
        let slot_len = self.word(section::VHOSTS, vhost, 2);
        if let Some((start, len)) = self.probe_path(slots, slot_len, path) {
            cursors.push(list(start, len));
        }
        // Gateway API PathPrefix is element-wise: `/abc` matches `/abc`, `/abc/` and
        // `/abc/def`, never `/abcd`. Walk one trie edge per path segment.
        let mut node = self.word(section::VHOSTS, vhost, 3);
        let mut segments = path.strip_prefix('/').unwrap_or(path).split('/');
        loop {
            let (start, len) = (
                self.word(section::TRIE_NODES, node, 2),
                self.word(section::TRIE_NODES, node, 3),
            );
            if len > 0 {
                cursors.push(list(start, len));
            }
            let Some(segment) = segments.next() else { break };
            match self.trie_child(node, segment) {
                Some(child) => node = child,
                None => break,
            }
        }
        let (start, len) = (
            self.word(section::VHOSTS, vhost, 4),
            self.word(section::VHOSTS, vhost, 5),
        );
        if len > 0 {
            cursors.push(list(start, len));
        }
    }

    fn probe_path(&self, start: u32, len: u32, path: &str) -> Option<(u32, u32)> {
        if len == 0 {
            return None;
        }
        let mask = len - 1;
        let mut slot = fnv1a(path.as_bytes()) & mask;
        for _ in 0..len {
            let stored = self.word(section::PATH_SLOTS, start + slot, 0);
            if stored == NONE {
                return None;
            }
            // Gateway API Exact: case-sensitive, whole-path equality.
            if self.string_bytes(stored) == path.as_bytes() {
                let record = start + slot;
                return Some((
                    self.word(section::PATH_SLOTS, record, 1),
                    self.word(section::PATH_SLOTS, record, 2),
                ));
            }
            slot = (slot + 1) & mask;
        }
        None
    }

    /// Binary search among a node's edges, which the loader checked are sorted.
    fn trie_child(&self, node: u32, segment: &str) -> Option<u32> {
        let start = self.word(section::TRIE_NODES, node, 0);
        let (mut low, mut high) = (0, self.word(section::TRIE_NODES, node, 1));
        while low < high {
            let mid = low + (high - low) / 2;
            let edge = start + mid;
            match self
                .string_bytes(self.word(section::TRIE_EDGES, edge, 0))
                .cmp(segment.as_bytes())
            {
                core::cmp::Ordering::Less => low = mid + 1,
                core::cmp::Ordering::Greater => high = mid,
                core::cmp::Ordering::Equal => return Some(self.word(section::TRIE_EDGES, edge, 1)),
            }
        }
        None
    }
}
