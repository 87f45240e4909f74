//! A numbered listing of a program, for `switchyard explain` and snapshot tests: users
//! and tests read the same text.

use core::fmt::{self, Write};

use crate::format::{NONE, op, pred, section};
use crate::program::Program;

impl Program {
    /// Writes the listing: listeners, their vhosts with fallbacks, and each entry with
    /// its path, predicates, action and source.
    pub fn write_listing(&self, out: &mut impl Write) -> fmt::Result {
        writeln!(
            out,
            "program: {} ({} bytes)",
            self.target(),
            self.as_bytes().len()
        )?;
        writeln!(out, "routing header: {}", self.routing_header())?;
        if self.passes_unknown_hosts() {
            writeln!(
                out,
                "unknown hosts: passed to the proxy's own routes (sidecar passthrough)"
            )?;
        }
        for listener in 0..self.table(section::LISTENERS).len {
            let port = self.word(section::LISTENERS, listener, 0);
            writeln!(out, "listener :{port}")?;
            let tls = self.tls_hostnames(port);
            if !tls.is_empty() {
                writeln!(
                    out,
                    "  https listeners {} (a Host owned by another than the SNI's: 421)",
                    tls.join(" ")
                )?;
            }
            for vhost in self.vhosts_of(listener) {
                self.write_vhost(out, vhost)?;
            }
        }
        Ok(())
    }

    /// The vhosts reachable from a listener's host table and default, ascending.
    fn vhosts_of(&self, listener: u32) -> Vec<u32> {
        let start = self.word(section::LISTENERS, listener, 1);
        let len = self.word(section::LISTENERS, listener, 2);
        let mut vhosts: Vec<u32> = (start..start + len)
            .filter(|&s| self.word(section::HOST_SLOTS, s, 0) != NONE)
            .map(|s| self.word(section::HOST_SLOTS, s, 1))
            .collect();
        let default = self.word(section::LISTENERS, listener, 3);
        if default != NONE {
            vhosts.push(default);
        }
        vhosts.sort_unstable();
        vhosts.dedup();
        vhosts
    }

    /// Entries of a vhost, ascending (they are numbered in evaluation order).
    pub fn entries_of_vhost(&self, vhost: u32) -> Vec<u32> {
        let mut entries = Vec::new();
        let mut lists = Vec::new();
        let slots = self.word(section::VHOSTS, vhost, 1);
        for slot in slots..slots + self.word(section::VHOSTS, vhost, 2) {
            if self.word(section::PATH_SLOTS, slot, 0) != NONE {
                lists.push((
                    self.word(section::PATH_SLOTS, slot, 1),
                    self.word(section::PATH_SLOTS, slot, 2),
                ));
            }
        }
        let mut stack = vec![self.word(section::VHOSTS, vhost, 3)];
        while let Some(node) = stack.pop() {
            lists.push((
                self.word(section::TRIE_NODES, node, 2),
                self.word(section::TRIE_NODES, node, 3),
            ));
            let edges = self.word(section::TRIE_NODES, node, 0);
            for edge in edges..edges + self.word(section::TRIE_NODES, node, 1) {
                stack.push(self.word(section::TRIE_EDGES, edge, 1));
            }
        }
        lists.push((
            self.word(section::VHOSTS, vhost, 4),
            self.word(section::VHOSTS, vhost, 5),
        ));
        for (start, len) in lists {
            entries.extend((start..start + len).map(|i| self.word(section::ENTRY_LISTS, i, 0)));
        }
        entries.sort_unstable();
        entries
    }

    /// The path condition of each entry, recovered from the index.
    pub(crate) fn entry_paths(&self, vhost: u32) -> Vec<(u32, String)> {
        let mut paths = Vec::new();
        let slots = self.word(section::VHOSTS, vhost, 1);
        for slot in slots..slots + self.word(section::VHOSTS, vhost, 2) {
            let key = self.word(section::PATH_SLOTS, slot, 0);
            if key != NONE {
                let (start, len) = (
                    self.word(section::PATH_SLOTS, slot, 1),
                    self.word(section::PATH_SLOTS, slot, 2),
                );
                for i in start..start + len {
                    paths.push((
                        self.word(section::ENTRY_LISTS, i, 0),
                        format!("path = {}", self.string(key)),
                    ));
                }
            }
        }
        let mut stack = vec![(self.word(section::VHOSTS, vhost, 3), String::new())];
        while let Some((node, prefix)) = stack.pop() {
            let (start, len) = (
                self.word(section::TRIE_NODES, node, 2),
                self.word(section::TRIE_NODES, node, 3),
            );
            for i in start..start + len {
                let entry = self.word(section::ENTRY_LISTS, i, 0);
                // A regex path waits at the node of its literal start; its condition is
                // the regex, shown among the predicates.
                if self.has_path_regex(entry) {
                    continue;
                }
                let shown = if prefix.is_empty() { "/" } else { &prefix };
                paths.push((entry, format!("path prefix {shown}")));
            }
            let edges = self.word(section::TRIE_NODES, node, 0);
            for edge in edges..edges + self.word(section::TRIE_NODES, node, 1) {
                let segment = self.string(self.word(section::TRIE_EDGES, edge, 0));
                stack.push((
                    self.word(section::TRIE_EDGES, edge, 1),
                    format!("{prefix}/{segment}"),
                ));
            }
        }
        paths
    }

    fn has_path_regex(&self, entry: u32) -> bool {
        let start = self.word(section::ENTRIES, entry, 0);
        (start..start.saturating_add(self.word(section::ENTRIES, entry, 1)))
            .any(|p| (self.word(section::PREDICATES, p, 0) & 0xFF) as u8 == pred::PATH_REGEX)
    }

    fn write_vhost(&self, out: &mut impl Write, vhost: u32) -> fmt::Result {
        let fallback = self.word(section::VHOSTS, vhost, 0);
        write!(
            out,
            "  vhost {} {}",
            vhost,
            self.string(self.word(section::VHOSTS, vhost, 6))
        )?;
        if fallback != NONE {
            write!(out, " (then vhost {fallback})")?;
        }
        writeln!(out)?;
        let paths = self.entry_paths(vhost);
        for entry in self.entries_of_vhost(vhost) {
            write!(out, "    {entry:>5}  ")?;
            let mut conditions: Vec<String> = paths
                .iter()
                .filter(|(e, _)| *e == entry)
                .map(|(_, p)| p.clone())
                .collect();
            let start = self.word(section::ENTRIES, entry, 0);
            for p in start..start + self.word(section::ENTRIES, entry, 1) {
                conditions.push(self.describe_predicate(p));
            }
            write!(out, "{}", conditions.join(" && "))?;
            writeln!(
                out,
                "  =>  {}  [{}]",
                self.describe_action(entry),
                self.source(entry)
            )?;
        }
        Ok(())
    }

    pub(crate) fn describe_predicate(&self, index: u32) -> String {
        let word = self.word(section::PREDICATES, index, 0);
        let text = self.describe_test(index);
        let text = if word & pred::IGNORE_CASE != 0 {
            format!("{text} (any case)")
        } else {
            text
        };
        if word & pred::NEGATE != 0 {
            format!("not ({text})")
        } else {
            text
        }
    }

    fn describe_test(&self, index: u32) -> String {
        let head = (self.word(section::PREDICATES, index, 0) & 0xFF) as u8;
        let a = self.word(section::PREDICATES, index, 1);
        let b = self.word(section::PREDICATES, index, 2);
        let regex = |r: u32| self.string(self.word(section::REGEXES, r, 0)).to_string();
        match head {
            pred::METHOD => format!("method = {}", self.string(a)),
            pred::HEADER_EXACT => format!("header {} = {:?}", self.string(a), self.string(b)),
            pred::HEADER_REGEX => format!("header {} ~ {}", self.string(a), regex(b)),
            pred::HEADER_PRESENT => format!("header {} present", self.string(a)),
            pred::HEADER_ABSENT => format!("header {} absent", self.string(a)),
            pred::QUERY_EXACT => format!("query {} = {:?}", self.string(a), self.string(b)),
            pred::QUERY_REGEX => format!("query {} ~ {}", self.string(a), regex(b)),
            pred::PATH_REGEX => format!("path ~ {}", regex(b)),
            pred::PATH_PREFIX => format!("path starts with {:?}", self.string(a)),
            pred::PATH_EXACT => format!("path == {:?}", self.string(a)),
            pred::HEADER_PREFIX => format!("header {} starts with {:?}", self.string(a), self.string(b)),
            pred::QUERY_PREFIX => format!("query {} starts with {:?}", self.string(a), self.string(b)),
            pred::QUERY_PRESENT => format!("query {} present", self.string(a)),
            other => format!("?{other}"),
        }
    }

    pub(crate) fn describe_action(&self, entry: u32) -> String {
        let action = self.word(section::ENTRIES, entry, 2);
        let start = self.word(section::ACTIONS, action, 0);
        let ops: Vec<String> = (start..start + self.word(section::ACTIONS, action, 1))
            .map(|o| self.describe_op(o))
            .collect();
        ops.join("; ")
    }

    /// One op as text; a forward lists its weighted backends and their own filters.
    fn describe_op(&self, o: u32) -> String {
        let (a, b, c) = (
            self.word(section::OPS, o, 1),
            self.word(section::OPS, o, 2),
            self.word(section::OPS, o, 3),
        );
        let string = |s: u32| {
            if s == NONE {
                String::from("-")
            } else {
                self.string(s).to_string()
            }
        };
        match (self.word(section::OPS, o, 0) & 0xFF) as u8 {
            op::FORWARD => {
                let first = self.word(section::BACKEND_SETS, a, 0);
                let backends: Vec<String> = (first..first + self.word(section::BACKEND_SETS, a, 1))
                    .map(|b| {
                        let info = self.backend(b);
                        let mut text = format!(
                            "{}*{}",
                            info.cluster.unwrap_or(match self.missing_cluster(b) {
                                // Its NO_CLUSTER op, listed below, says the status.
                                Some(_) => "<unresolved>",
                                None => "<unresolved: 500>",
                            }),
                            info.weight
                        );
                        let (op_start, op_len) = (
                            self.word(section::BACKENDS, b, 3),
                            self.word(section::BACKENDS, b, 4),
                        );
                        if op_len > 0 {
                            let filters: Vec<String> = (op_start..op_start + op_len)
                                .map(|f| self.describe_op(f))
                                .collect();
                            text.push_str(&format!(" [{}]", filters.join("; ")));
                        }
                        text
                    })
                    .collect();
                if backends.is_empty() {
                    "forward <no backends: 500>".to_string()
                } else {
                    format!("forward {}", backends.join(", "))
                }
            }
            op::REPLY => format!("reply {a}"),
            op::REDIRECT => {
                let port = if a >> 16 == 0 {
                    String::from("-")
                } else {
                    (a >> 16).to_string()
                };
                format!(
                    "redirect {} scheme={} host={} port={port}",
                    a & 0xFFFF,
                    string(b),
                    string(c)
                )
            }
            op::REQUEST_SET => format!("request set {}: {:?}", self.string(a), self.string(b)),
            op::REQUEST_ADD => format!("request add {}: {:?}", self.string(a), self.string(b)),
            op::REQUEST_REMOVE => format!("request remove {}", self.string(a)),
            op::RESPONSE_SET => format!("response set {}: {:?}", self.string(a), self.string(b)),
            op::RESPONSE_ADD => format!("response add {}: {:?}", self.string(a), self.string(b)),
            op::RESPONSE_REMOVE => format!("response remove {}", self.string(a)),
            op::SET_HOST => format!("host = {}", self.string(a)),
            op::SET_PATH => format!("path = {}", self.string(a)),
            op::REPLACE_PREFIX => {
                let kind = if self.word(section::OPS, o, 0) & op::PLAIN != 0 {
                    "string prefix"
                } else {
                    "path prefix"
                };
                format!("{kind} {} -> {:?}", self.string(a), self.string(b))
            }
            op::MIRROR => format!(
                "mirror {} {}%",
                self.backend(a).cluster.unwrap_or("<unresolved: dropped>"),
                f64::from(b) / 10_000.0
            ),
            op::TIMEOUT => {
                let ms = |v: u32| {
                    if v == NONE {
                        String::from("-")
                    } else {
                        format!("{v}ms")
                    }
                };
                format!("timeout request={} backend={}", ms(a), ms(b))
            }
            op::RETRY => format!("retry {a} on {} codes {}", self.string(b), string(c)),
            op::FAULT_ABORT => format!("abort {a} for {}%", f64::from(b) / 10_000.0),
            op::FAULT_DELAY => format!("delay {a}ms for {}%", f64::from(b) / 10_000.0),
            op::REGEX_REWRITE => {
                format!(
                    "path ~ {} -> {:?}",
                    self.string(self.word(section::REGEXES, a, 0)),
                    self.string(b)
                )
            }
            op::CORS => {
                let envoy = self.word(section::CORS, a, 0) & crate::format::cors_flag::ENVOY != 0;
                format!("cors policy {a}{}", if envoy { " (envoy)" } else { "" })
            }
            op::NO_CLUSTER => format!("no such cluster: {a}"),
            other => format!("?{other}"),
        }
    }
}

impl Program {
    /// The listing as a string.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_listing(&mut out);
        out
    }
}
