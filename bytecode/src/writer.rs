//! Lays a [`ProgramIr`] out as bytecode: interns strings, builds the host and path hash
//! tables and the segment tries, numbers entries in evaluation order, and writes the
//! header, section table and checksum. Output depends only on the IR, so the same IR
//! always gives the same bytes.

use std::collections::{BTreeMap, HashMap};

use crate::checksum::crc32;
use crate::format::{
    HEADER_LEN, MAGIC, NONE, SECTION_ENTRY_LEN, VERSION_MAJOR, cors_flag, meta_flag, op, origin, pred,
    section, source_kind, tls_flag,
};
use crate::hash::{fnv1a, table_size};
use crate::ir::{
    ActionIr, BackendIr, CorsIr, EntryIr, FilterIr, HeaderEditIr, HostPattern, OriginMatchIr, PathIr,
    PortDerivation, PredicateIr, ProgramIr, RedirectIr, ServiceIr, VhostIr,
};
use crate::program::SourceKind;
use crate::wire::push_u32;

/// Why an IR cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// A table outgrew the 32-bit indices of the format.
    TooLarge(&'static str),
    /// Two listeners with one port, or two vhosts with one host pattern.
    Duplicate(String),
    /// A header name that is not a lowercase token.
    BadHeaderName(String),
    /// A regex that regex-lite refuses.
    BadRegex { pattern: String, reason: String },
    /// A reply status outside 100..=599, or a redirect status other than 301, 302, 303,
    /// 307, 308.
    BadStatus(u16),
    /// A header value from configuration with CR, LF or NUL in it.
    BadHeaderValue(String),
    /// A mirror share above one million parts per million.
    BadShare(u32),
    /// Something the format cannot express: a missing cluster outside a backend's
    /// filters, an empty TLS listener hostname.
    Invalid(String),
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WriteError::TooLarge(what) => write!(f, "too many {what} for the bytecode format"),
            WriteError::Duplicate(what) => write!(f, "duplicate {what}"),
            WriteError::BadHeaderName(name) => write!(f, "invalid header name {name:?}"),
            WriteError::BadRegex { pattern, reason } => write!(f, "invalid regex {pattern:?}: {reason}"),
            WriteError::BadStatus(status) => write!(f, "invalid status {status}"),
            WriteError::BadHeaderValue(value) => write!(f, "invalid header value {value:?}"),
            WriteError::BadShare(share) => write!(f, "mirror share {share} exceeds 1000000 per million"),
            WriteError::Invalid(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for WriteError {}

/// Anchors a regex so it must match the whole subject, as Envoy's `safe_regex` does.
pub fn anchor_regex(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// Writes `ir` as a program.
pub fn write_program(ir: &ProgramIr) -> Result<Vec<u8>, WriteError> {
    let mut w = Writer::default();
    w.program(ir)?;
    w.finish(ir)
}

#[derive(Default)]
struct Writer {
    strings: Vec<String>,
    string_ids: HashMap<String, u32>,
    regex_ids: HashMap<String, u32>,
    services: HashMap<ServiceIr, u32>,
    needed_headers: BTreeMap<String, u32>,
    s: BTreeMap<u32, Vec<u32>>,
    /// Runs of records already written, by section and words. Many rules share their
    /// action (the same backends, the same filters), so an identical run of ops,
    /// backends or predicates, and an identical action or backend set, is written once
    /// and referred to by every user: records refer to each other by index only, so
    /// sharing changes no meaning, and the loader verifies each record as before.
    runs: HashMap<(u32, Vec<u32>), (u32, u32)>,
    /// Some record needs format 1.1 (Envoy CORS, TLS listener names, a missing cluster).
    needs_1_1: bool,
    /// A backend's op run ends in a redirect (format 1.2).
    needs_1_2: bool,
}

/// One node of a segment trie while it is being built.
#[derive(Default)]
struct TrieBuild {
    children: BTreeMap<String, TrieBuild>,
    entries: Vec<u32>,
}

fn too_large(what: &'static str) -> WriteError {
    WriteError::TooLarge(what)
}

fn count(n: usize, what: &'static str) -> Result<u32, WriteError> {
    u32::try_from(n)
        .ok()
        .filter(|&n| n != NONE)
        .ok_or(too_large(what))
}

impl Writer {
    fn words(&mut self, id: u32) -> &mut Vec<u32> {
        self.s.entry(id).or_default()
    }

    /// Appends one record and returns its index.
    fn record(&mut self, id: u32, words: &[u32]) -> Result<u32, WriteError> {
        let per = crate::format::record_words(id);
        let table = self.words(id);
        let index = count(table.len() / per, "records")?;
        table.extend_from_slice(words);
        Ok(index)
    }

    /// Writes `words` (whole records of section `id`) as one run, or finds the identical
    /// run written before; returns (start, record count).
    fn shared_run(&mut self, id: u32, words: Vec<u32>) -> Result<(u32, u32), WriteError> {
        let per = crate::format::record_words(id);
        let len = count(words.len() / per, "records")?;
        if len == 0 {
            // One spelling for "nothing", so records holding an empty run compare equal.
            return Ok((0, 0));
        }
        let key = (id, words);
        if let Some(&run) = self.runs.get(&key) {
            return Ok(run);
        }
        let start = self.len(id);
        self.words(id).extend_from_slice(&key.1);
        self.runs.insert(key, (start, len));
        Ok((start, len))
    }

    /// One record of section `id`, shared with an identical one written before.
    fn shared_record(&mut self, id: u32, words: &[u32]) -> Result<u32, WriteError> {
        self.shared_run(id, words.to_vec()).map(|(start, _)| start)
    }

    fn len(&self, id: u32) -> u32 {
        let per = crate::format::record_words(id);
        self.s.get(&id).map_or(0, |t| (t.len() / per) as u32)
    }

    fn string(&mut self, text: &str) -> Result<u32, WriteError> {
        if let Some(&id) = self.string_ids.get(text) {
            return Ok(id);
        }
        let id = count(self.strings.len(), "strings")?;
        self.strings.push(text.to_string());
        self.string_ids.insert(text.to_string(), id);
        Ok(id)
    }

    fn regex(&mut self, pattern: &str) -> Result<u32, WriteError> {
        let anchored = anchor_regex(pattern);
        if let Some(&id) = self.regex_ids.get(&anchored) {
            return Ok(id);
        }
        if let Err(e) = regex_lite::Regex::new(&anchored) {
            return Err(WriteError::BadRegex {
                pattern: pattern.to_string(),
                reason: e.to_string(),
            });
        }
        let text = self.string(&anchored)?;
        let id = self.record(section::REGEXES, &[text])?;
        self.regex_ids.insert(anchored, id);
        Ok(id)
    }

    fn header_name(&mut self, name: &str) -> Result<u32, WriteError> {
        if !crate::loader::is_header_name(name.as_bytes()) {
            return Err(WriteError::BadHeaderName(name.to_string()));
        }
        let id = self.string(name)?;
        self.needed_headers.insert(name.to_string(), id);
        Ok(id)
    }

    fn program(&mut self, ir: &ProgramIr) -> Result<(), WriteError> {
        let mut listeners: Vec<_> = ir.listeners.iter().collect();
        listeners.sort_by_key(|l| l.port);
        if let Some(pair) = listeners.windows(2).find(|p| p[0].port == p[1].port) {
            return Err(WriteError::Duplicate(format!("listener port {}", pair[0].port)));
        }
        for listener in listeners {
            self.listener(listener.port, &listener.vhosts)?;
            self.tls_listener(listener.port, &listener.sni_hosts)?;
        }
        Ok(())
    }

    /// The HTTPS listener hostnames of a port, as a hash table of exact names and
    /// wildcard suffixes (stored like HOST_SLOTS keys) plus a catch-all flag.
    fn tls_listener(&mut self, port: u32, hosts: &[HostPattern]) -> Result<(), WriteError> {
        if hosts.is_empty() {
            return Ok(());
        }
        self.needs_1_1 = true;
        let mut keys: Vec<(String, ())> = Vec::new();
        let mut flags = 0;
        for host in hosts {
            match host {
                HostPattern::Exact(key) | HostPattern::Wildcard(key) => {
                    let key = key.to_ascii_lowercase();
                    if key.is_empty() || key == "." {
                        return Err(WriteError::Invalid(format!(
                            "empty TLS listener hostname on port {port}"
                        )));
                    }
                    if !keys.iter().any(|(k, _)| *k == key) {
                        keys.push((key, ()));
                    }
                }
                HostPattern::Any => flags |= tls_flag::CATCH_ALL,
            }
        }
        keys.sort();
        let (start, len) = self.hash_table(
            section::TLS_NAMES,
            &keys,
            |w, key, ()| Ok(vec![w.string(key)?]),
            1,
        )?;
        self.record(section::TLS_LISTENERS, &[port, start, len, flags])?;
        Ok(())
    }

    fn listener(&mut self, port: u32, vhosts: &[VhostIr]) -> Result<(), WriteError> {
        // Most specific first, so every fallback points further down the table:
        // exact names, then wildcards with longer suffixes first, then the catch-all.
        let mut order: Vec<&VhostIr> = vhosts.iter().collect();
        order.sort_by(|a, b| specificity(&a.host).cmp(&specificity(&b.host)));
        if let Some(pair) = order.windows(2).find(|p| p[0].host == p[1].host) {
            return Err(WriteError::Duplicate(format!(
                "host {} on port {port}",
                pair[0].host
            )));
        }
        let first = self.len(section::VHOSTS);
        let index_of = |pattern: &HostPattern| {
            order
                .iter()
                .position(|v| &v.host == pattern)
                .map(|p| first + p as u32)
        };
        let mut keys = Vec::new();
        let mut default_vhost = NONE;
        for (position, vhost) in order.iter().enumerate() {
            let index = first + position as u32;
            let fallback = if vhost.fallback {
                fallback_of(&vhost.host, &index_of)
            } else {
                NONE
            };
            let name = self.string(&vhost.host.to_string())?;
            let (slots, slot_len, root, regex_start, regex_len) = self.vhost_index(&vhost.entries)?;
            self.record(
                section::VHOSTS,
                &[fallback, slots, slot_len, root, regex_start, regex_len, name],
            )?;
            match &vhost.host {
                HostPattern::Exact(key) | HostPattern::Wildcard(key) => keys.push((key.clone(), index)),
                HostPattern::Any => default_vhost = index,
            }
        }
        let (start, len) = self.hash_table(
            section::HOST_SLOTS,
            &keys,
            |w, key, vhost| Ok(vec![w.string(key)?, vhost]),
            2,
        )?;
        self.record(section::LISTENERS, &[port, start, len, default_vhost])?;
        Ok(())
    }

    /// Writes an open-addressing table (linear probing, FNV-1a) and returns its range.
    fn hash_table<V: Copy>(
        &mut self,
        id: u32,
        keys: &[(String, V)],
        encode: impl Fn(&mut Self, &str, V) -> Result<Vec<u32>, WriteError>,
        words: usize,
    ) -> Result<(u32, u32), WriteError> {
        let size = table_size(keys.len());
        let mut slots: Vec<Option<Vec<u32>>> = vec![None; size];
        for (key, value) in keys {
            let mut slot = fnv1a(key.as_bytes()) as usize & (size - 1);
            while slots[slot].is_some() {
                slot = (slot + 1) & (size - 1);
            }
            slots[slot] = Some(encode(self, key, *value)?);
        }
        let start = self.len(id);
        for slot in slots {
            let mut record = slot.unwrap_or_else(|| vec![NONE; words]);
            record.resize(words, NONE);
            self.record(id, &record)?;
        }
        Ok((start, count(size, "hash slots")?))
    }

    /// Numbers the vhost's entries and builds its path index: exact-path table, segment
    /// trie and regex list. Returns (slot start, slot count, trie root, regex list start, len).
    fn vhost_index(&mut self, entries: &[EntryIr]) -> Result<(u32, u32, u32, u32, u32), WriteError> {
        let mut exact: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        let mut trie = TrieBuild::default();
        let mut regexes = Vec::new();
        for entry in entries {
            let id = self.entry(entry)?;
            match &entry.path {
                PathIr::Exact(path) => exact.entry(path.clone()).or_default().push(id),
                PathIr::Prefix(segments) => {
                    let node = segments
                        .iter()
                        .fold(&mut trie, |node, s| node.children.entry(s.clone()).or_default());
                    node.entries.push(id);
                }
                // A regex path whose matches all start with literal segments waits at
                // that trie node, so only requests along it try the regex; its
                // PATH_REGEX predicate decides (see `regex_prefix`).
                PathIr::Regex(pattern) => match crate::regex_prefix::literal_segments(pattern) {
                    Some(segments) => {
                        let node = segments
                            .iter()
                            .fold(&mut trie, |node, s| node.children.entry(s.clone()).or_default());
                        node.entries.push(id);
                    }
                    None => regexes.push(id),
                },
                PathIr::StringPrefix(prefix) => {
                    // Index under the complete segments; the predicate checks the rest.
                    let complete = prefix.rsplit_once('/').map_or("", |(head, _)| head);
                    let node = complete
                        .split('/')
                        .filter(|s| !s.is_empty())
                        .fold(&mut trie, |node, s| {
                            node.children.entry(s.to_string()).or_default()
                        });
                    node.entries.push(id);
                }
            }
        }
        let mut lists = Vec::new();
        for (path, ids) in exact {
            let list = self.list(&ids)?;
            lists.push((path, list));
        }
        let (slots, slot_len) = self.hash_table(
            section::PATH_SLOTS,
            &lists,
            |w, key, (start, len)| Ok(vec![w.string(key)?, start, len]),
            3,
        )?;
        let root = self.trie(&trie)?;
        let (regex_start, regex_len) = self.list(&regexes)?;
        Ok((slots, slot_len, root, regex_start, regex_len))
    }

    /// Writes a node and, first, its subtree; children edges are contiguous and sorted.
    fn trie(&mut self, node: &TrieBuild) -> Result<u32, WriteError> {
        let mut edges = Vec::with_capacity(node.children.len());
        for (segment, child) in &node.children {
            let child_index = self.trie(child)?;
            edges.push((self.string(segment)?, child_index));
        }
        // Edges are sorted by segment bytes: BTreeMap<String> orders by bytes.
        let edge_start = self.len(section::TRIE_EDGES);
        for (segment, child) in &edges {
            self.record(section::TRIE_EDGES, &[*segment, *child])?;
        }
        let (list_start, list_len) = self.list(&node.entries)?;
        self.record(
            section::TRIE_NODES,
            &[
                edge_start,
                count(edges.len(), "trie edges")?,
                list_start,
                list_len,
            ],
        )
    }

    fn list(&mut self, ids: &[u32]) -> Result<(u32, u32), WriteError> {
        let start = self.len(section::ENTRY_LISTS);
        for &id in ids {
            self.record(section::ENTRY_LISTS, &[id])?;
        }
        Ok((start, count(ids.len(), "list entries")?))
    }

    fn entry(&mut self, entry: &EntryIr) -> Result<u32, WriteError> {
        let mut predicates: Vec<u32> = Vec::new();
        match &entry.path {
            PathIr::Regex(pattern) => {
                let regex = self.regex(pattern)?;
                predicates.extend_from_slice(&[u32::from(pred::PATH_REGEX), NONE, regex]);
            }
            PathIr::StringPrefix(prefix) if !prefix.is_empty() => {
                let text = self.string(prefix)?;
                predicates.extend_from_slice(&[u32::from(pred::PATH_PREFIX), text, NONE]);
            }
            _ => {}
        }
        for predicate in &entry.predicates {
            predicates.extend_from_slice(&self.predicate(predicate)?);
        }
        let (pred_start, pred_len) = self.shared_run(section::PREDICATES, predicates)?;
        let action = self.action(&entry.filters, &entry.action)?;
        let source = &entry.source;
        let kind = match source.kind {
            SourceKind::HttpRoute => source_kind::HTTP_ROUTE,
            SourceKind::GrpcRoute => source_kind::GRPC_ROUTE,
            SourceKind::VirtualService | SourceKind::Unknown => source_kind::VIRTUAL_SERVICE,
        };
        let packed = u32::from(source.rule) << 16 | u32::from(source.match_index);
        let (namespace, name) = (self.string(&source.namespace)?, self.string(&source.name)?);
        let source = self.record(section::SOURCES, &[u32::from(kind), namespace, name, packed])?;
        self.record(section::ENTRIES, &[pred_start, pred_len, action, source])
    }

    fn predicate(&mut self, predicate: &PredicateIr) -> Result<[u32; 3], WriteError> {
        let code = |c: u8| u32::from(c);
        Ok(match predicate {
            PredicateIr::Method(method) => [code(pred::METHOD), self.string(method)?, NONE],
            PredicateIr::HeaderExact { name, value } => [
                code(pred::HEADER_EXACT),
                self.header_name(name)?,
                self.string(value)?,
            ],
            PredicateIr::HeaderRegex { name, pattern } => [
                code(pred::HEADER_REGEX),
                self.header_name(name)?,
                self.regex(pattern)?,
            ],
            PredicateIr::HeaderPrefix { name, value } => [
                code(pred::HEADER_PREFIX),
                self.header_name(name)?,
                self.string(value)?,
            ],
            PredicateIr::HeaderPresent(name) => [code(pred::HEADER_PRESENT), self.header_name(name)?, NONE],
            PredicateIr::HeaderAbsent(name) => [code(pred::HEADER_ABSENT), self.header_name(name)?, NONE],
            PredicateIr::QueryExact { name, value } => {
                [code(pred::QUERY_EXACT), self.string(name)?, self.string(value)?]
            }
            PredicateIr::QueryRegex { name, pattern } => {
                [code(pred::QUERY_REGEX), self.string(name)?, self.regex(pattern)?]
            }
            PredicateIr::QueryPrefix { name, value } => {
                [code(pred::QUERY_PREFIX), self.string(name)?, self.string(value)?]
            }
            PredicateIr::QueryPresent(name) => [code(pred::QUERY_PRESENT), self.string(name)?, NONE],
            PredicateIr::PathPrefix(prefix) => [code(pred::PATH_PREFIX), self.string(prefix)?, NONE],
            PredicateIr::PathExact(path) => [code(pred::PATH_EXACT), self.string(path)?, NONE],
            PredicateIr::Not(inner) => {
                let mut words = self.predicate(inner)?;
                words[0] ^= pred::NEGATE;
                words
            }
            PredicateIr::IgnoreCase(inner) => {
                let mut words = self.predicate(inner)?;
                words[0] |= pred::IGNORE_CASE;
                words
            }
        })
    }

    /// A regex used as is (a search, not a full match), e.g. for rewrites.
    fn raw_regex(&mut self, pattern: &str) -> Result<u32, WriteError> {
        if let Err(e) = regex_lite::Regex::new(pattern) {
            return Err(WriteError::BadRegex {
                pattern: pattern.to_string(),
                reason: e.to_string(),
            });
        }
        let text = self.string(pattern)?;
        self.record(section::REGEXES, &[text])
    }

    /// Writes an action: the filters' ops, then the terminal op, as one contiguous run.
    /// Everything the ops refer to (backend sets, mirror backends, CORS policies) is
    /// written first so the run stays contiguous.
    fn action(&mut self, filters: &[FilterIr], action: &ActionIr) -> Result<u32, WriteError> {
        if filters.iter().any(|f| matches!(f, FilterIr::NoCluster { .. })) {
            return Err(WriteError::Invalid(
                "a missing cluster is a backend's filter, not a rule's".to_string(),
            ));
        }
        let mut ops = self.filter_ops(filters)?;
        ops.push(match action {
            ActionIr::Forward(backends) => [u32::from(op::FORWARD), self.backend_set(backends)?, NONE, NONE],
            ActionIr::Reply { status, body } => {
                if !(100..=599).contains(status) {
                    return Err(WriteError::BadStatus(*status));
                }
                let body = match body {
                    Some(text) => self.string(text)?,
                    None => NONE,
                };
                [u32::from(op::REPLY), u32::from(*status), body, NONE]
            }
            ActionIr::Redirect(redirect) => self.redirect_op(redirect)?,
        });
        let (op_start, op_len) = self.op_run(&ops)?;
        self.shared_record(section::ACTIONS, &[op_start, op_len])
    }

    fn redirect_op(&mut self, redirect: &RedirectIr) -> Result<[u32; 4], WriteError> {
        if ![301, 302, 303, 307, 308].contains(&redirect.status) {
            return Err(WriteError::BadStatus(redirect.status));
        }
        // The Location needs the request's scheme when the redirect keeps it.
        let scheme_header = self.string(":scheme")?;
        self.needed_headers.insert(":scheme".to_string(), scheme_header);
        let scheme = self.optional_string(redirect.scheme.as_deref())?;
        let host = self.optional_string(redirect.host.as_deref())?;
        let packed = u32::from(redirect.status) | u32::from(redirect.port.unwrap_or(0)) << 16;
        let flags = match redirect.derive {
            PortDerivation::GatewayApi => 0,
            PortDerivation::KeepAuthority => op::KEEP_AUTHORITY,
            PortDerivation::ProtocolDefault => op::PROTOCOL_PORT,
            PortDerivation::ListenerPort => op::LISTENER_PORT,
        };
        Ok([u32::from(op::REDIRECT) | flags, packed, scheme, host])
    }

    fn op_run(&mut self, ops: &[[u32; 4]]) -> Result<(u32, u32), WriteError> {
        self.shared_run(section::OPS, ops.concat())
    }

    fn optional_string(&mut self, text: Option<&str>) -> Result<u32, WriteError> {
        text.map_or(Ok(NONE), |t| self.string(t))
    }

    fn header_value(&mut self, value: &str) -> Result<u32, WriteError> {
        if value.bytes().any(|c| c == b'\r' || c == b'\n' || c == 0) {
            return Err(WriteError::BadHeaderValue(value.to_string()));
        }
        self.string(value)
    }

    /// Encodes filters as op records (not yet written).
    fn filter_ops(&mut self, filters: &[FilterIr]) -> Result<Vec<[u32; 4]>, WriteError> {
        let mut ops = Vec::with_capacity(filters.len() + 1);
        for filter in filters {
            ops.push(match filter {
                FilterIr::RequestHeader(edit) => {
                    self.header_edit(edit, [op::REQUEST_SET, op::REQUEST_ADD, op::REQUEST_REMOVE])?
                }
                FilterIr::ResponseHeader(edit) => {
                    self.header_edit(edit, [op::RESPONSE_SET, op::RESPONSE_ADD, op::RESPONSE_REMOVE])?
                }
                FilterIr::SetHost(host) => [u32::from(op::SET_HOST), self.header_value(host)?, NONE, NONE],
                FilterIr::SetPath(path) => [u32::from(op::SET_PATH), self.header_value(path)?, NONE, NONE],
                FilterIr::ReplacePrefix { prefix, replacement } => [
                    u32::from(op::REPLACE_PREFIX),
                    self.string(prefix)?,
                    self.header_value(replacement)?,
                    NONE,
                ],
                FilterIr::Mirror { backend, per_million } => {
                    if *per_million > 1_000_000 {
                        return Err(WriteError::BadShare(*per_million));
                    }
                    let record = self.backend(backend)?;
                    [u32::from(op::MIRROR), record, *per_million, NONE]
                }
                FilterIr::Timeout {
                    request_ms,
                    backend_ms,
                } => [
                    u32::from(op::TIMEOUT),
                    request_ms.unwrap_or(NONE),
                    backend_ms.unwrap_or(NONE),
                    NONE,
                ],
                FilterIr::Retry {
                    attempts,
                    retry_on,
                    codes,
                } => {
                    let retry_on = self.header_value(retry_on)?;
                    let codes = if codes.is_empty() {
                        NONE
                    } else {
                        let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
                        self.string(&codes.join(","))?
                    };
                    [u32::from(op::RETRY), *attempts, retry_on, codes]
                }
                FilterIr::ReplacePrefixPlain { prefix, replacement } => [
                    u32::from(op::REPLACE_PREFIX) | op::PLAIN,
                    self.string(prefix)?,
                    self.header_value(replacement)?,
                    NONE,
                ],
                FilterIr::RegexRewrite { pattern, replacement } => [
                    u32::from(op::REGEX_REWRITE),
                    self.raw_regex(pattern)?,
                    self.header_value(replacement)?,
                    NONE,
                ],
                FilterIr::FaultAbort { status, per_million } => {
                    if !(100..=599).contains(status) {
                        return Err(WriteError::BadStatus(*status));
                    }
                    if *per_million > 1_000_000 {
                        return Err(WriteError::BadShare(*per_million));
                    }
                    [u32::from(op::FAULT_ABORT), u32::from(*status), *per_million, NONE]
                }
                FilterIr::FaultDelay {
                    delay_ms,
                    per_million,
                } => {
                    if *per_million > 1_000_000 {
                        return Err(WriteError::BadShare(*per_million));
                    }
                    [u32::from(op::FAULT_DELAY), *delay_ms, *per_million, NONE]
                }
                FilterIr::Cors(cors) => [u32::from(op::CORS), self.cors(cors)?, NONE, NONE],
                FilterIr::NoCluster { status } => {
                    if !(100..=599).contains(status) {
                        return Err(WriteError::BadStatus(*status));
                    }
                    self.needs_1_1 = true;
                    [u32::from(op::NO_CLUSTER), u32::from(*status), NONE, NONE]
                }
            });
        }
        Ok(ops)
    }

    fn header_edit(&mut self, edit: &HeaderEditIr, codes: [u8; 3]) -> Result<[u32; 4], WriteError> {
        let name = |w: &mut Self, name: &str| {
            if crate::loader::is_header_name(name.as_bytes()) && !name.starts_with(':') {
                w.string(name)
            } else {
                Err(WriteError::BadHeaderName(name.to_string()))
            }
        };
        Ok(match edit {
            HeaderEditIr::Set(n, v) => [u32::from(codes[0]), name(self, n)?, self.header_value(v)?, NONE],
            HeaderEditIr::Add(n, v) => [u32::from(codes[1]), name(self, n)?, self.header_value(v)?, NONE],
            HeaderEditIr::Remove(n) => [u32::from(codes[2]), name(self, n)?, NONE, NONE],
        })
    }

    fn cors(&mut self, cors: &CorsIr) -> Result<u32, WriteError> {
        for header in [
            "origin",
            "access-control-request-method",
            "access-control-request-headers",
        ] {
            let id = self.string(header)?;
            self.needed_headers.insert(header.to_string(), id);
        }
        let mut flags = if cors.allow_credentials {
            cors_flag::ALLOW_CREDENTIALS
        } else {
            0
        };
        let mut max_age = cors.max_age_seconds;
        let (origins_start, origins_len, separator) = match &cors.envoy {
            None => {
                let start = self.len(section::STRING_REFS);
                for origin in &cors.allow_origins {
                    let id = self.header_value(origin)?;
                    self.record(section::STRING_REFS, &[id])?;
                }
                (start, count(cors.allow_origins.len(), "CORS origins")?, ", ")
            }
            Some(envoy) => {
                self.needs_1_1 = true;
                flags |= cors_flag::ENVOY;
                if envoy.forward_unmatched_preflights {
                    flags |= cors_flag::FORWARD_UNMATCHED_PREFLIGHTS;
                }
                if !envoy.send_max_age {
                    max_age = NONE;
                }
                let mut records = Vec::with_capacity(envoy.origins.len());
                for matcher in &envoy.origins {
                    records.push(match matcher {
                        OriginMatchIr::Exact(text) => [origin::EXACT, self.string(text)?],
                        OriginMatchIr::Prefix(text) => [origin::PREFIX, self.string(text)?],
                        OriginMatchIr::Regex(pattern) => [origin::REGEX, self.regex(pattern)?],
                    });
                }
                let start = self.len(section::CORS_ORIGINS);
                for record in &records {
                    self.record(section::CORS_ORIGINS, record)?;
                }
                // Istio joins its lists with "," for Envoy.
                (start, count(records.len(), "CORS origins")?, ",")
            }
        };
        let methods = self.header_value(&cors.allow_methods.join(separator))?;
        let headers = self.header_value(&cors.allow_headers.join(separator))?;
        let expose = self.header_value(&cors.expose_headers.join(separator))?;
        self.record(
            section::CORS,
            &[
                flags,
                origins_start,
                origins_len,
                methods,
                headers,
                expose,
                max_age,
            ],
        )
    }

    fn backend_set(&mut self, backends: &[BackendIr]) -> Result<u32, WriteError> {
        let mut records = Vec::with_capacity(backends.len());
        let mut total: u32 = 0;
        for backend in backends {
            total = total
                .checked_add(backend.weight)
                .ok_or(too_large("backend weight"))?;
            records.push(self.backend_words(backend)?);
        }
        let (start, len) = self.shared_run(section::BACKENDS, records.concat())?;
        self.shared_record(section::BACKEND_SETS, &[start, len, total])
    }

    /// A lone backend record (a mirror target).
    fn backend(&mut self, backend: &BackendIr) -> Result<u32, WriteError> {
        if backend.redirect.is_some() {
            return Err(WriteError::Invalid(
                "a mirror backend with a redirect".to_string(),
            ));
        }
        let words = self.backend_words(backend)?;
        self.shared_record(section::BACKENDS, &words)
    }

    /// A backend's record words; its filter ops are written first.
    fn backend_words(&mut self, backend: &BackendIr) -> Result<[u32; 5], WriteError> {
        let service = match &backend.service {
            Some(service) => self.service(service)?,
            None => NONE,
        };
        let cluster = match &backend.cluster {
            Some(cluster) if !cluster.is_empty() => self.string(cluster)?,
            _ => NONE,
        };
        let mut ops = self.filter_ops(&backend.filters)?;
        if let Some(redirect) = &backend.redirect {
            ops.push(self.redirect_op(redirect)?);
            self.needs_1_2 = true;
        }
        let (op_start, op_len) = self.op_run(&ops)?;
        Ok([service, backend.weight, cluster, op_start, op_len])
    }

    fn service(&mut self, service: &ServiceIr) -> Result<u32, WriteError> {
        if let Some(&id) = self.services.get(service) {
            return Ok(id);
        }
        let (namespace, name) = (self.string(&service.namespace)?, self.string(&service.name)?);
        let id = self.record(section::SERVICES, &[namespace, name, service.port])?;
        self.services.insert(service.clone(), id);
        Ok(id)
    }

    fn finish(mut self, ir: &ProgramIr) -> Result<Vec<u8>, WriteError> {
        let routing_header = ir.routing_header.to_ascii_lowercase();
        if !crate::loader::is_header_name(routing_header.as_bytes()) || routing_header.starts_with(':') {
            return Err(WriteError::BadHeaderName(ir.routing_header.clone()));
        }
        let mut meta = vec![self.string(&routing_header)?, self.string(&ir.target)?];
        meta.push(count(self.needed_headers.len(), "headers")?);
        meta.extend(self.needed_headers.values().copied());

        // The lowest version that can express the program: 1.0 unless a 1.1 record is
        // used, 1.2 for a backend that redirects or a program that passes unknown hosts.
        // 1.2 adds no section.
        let minor: u16 = if self.needs_1_2 || ir.pass_unknown_hosts {
            2
        } else {
            u16::from(self.needs_1_1)
        };
        // A 1.2 program ends META with its flags word.
        if minor >= 2 {
            meta.push(if ir.pass_unknown_hosts {
                meta_flag::PASS_UNKNOWN_HOSTS
            } else {
                0
            });
        }
        let extra: &[u32] = if minor >= 1 { &section::SINCE_1_1 } else { &[] };
        let mut bodies: Vec<(u32, Vec<u8>)> = Vec::new();
        bodies.push((section::STRINGS, self.strings_section()?));
        for &id in section::ALL.iter().chain(extra) {
            if id == section::STRINGS {
                continue;
            }
            let words = if id == section::META {
                &meta
            } else {
                self.s.get(&id).map_or(&[][..], |v| v)
            };
            let mut body = Vec::with_capacity(words.len() * 4);
            for &word in words {
                push_u32(&mut body, word);
            }
            bodies.push((id, body));
        }

        let table_len = bodies.len() * SECTION_ENTRY_LEN;
        let mut out = vec![0u8; HEADER_LEN + table_len];
        let mut entries = Vec::new();
        for (id, body) in &bodies {
            while !out.len().is_multiple_of(4) {
                out.push(0);
            }
            entries.push((*id, count(out.len(), "bytes")?, count(body.len(), "bytes")?));
            out.extend_from_slice(body);
        }
        out[..8].copy_from_slice(&MAGIC);
        out[8..10].copy_from_slice(&VERSION_MAJOR.to_le_bytes());
        out[10..12].copy_from_slice(&minor.to_le_bytes());
        // 12..16: flags, all zero.
        let total = count(out.len(), "bytes")?;
        out[16..20].copy_from_slice(&total.to_le_bytes());
        out[24..28].copy_from_slice(&count(entries.len(), "sections")?.to_le_bytes());
        for (i, (id, offset, len)) in entries.iter().enumerate() {
            let base = HEADER_LEN + i * SECTION_ENTRY_LEN;
            out[base..base + 4].copy_from_slice(&id.to_le_bytes());
            out[base + 4..base + 8].copy_from_slice(&offset.to_le_bytes());
            out[base + 8..base + 12].copy_from_slice(&len.to_le_bytes());
        }
        let crc = crc32(&out[HEADER_LEN..]);
        out[20..24].copy_from_slice(&crc.to_le_bytes());
        Ok(out)
    }

    fn strings_section(&self) -> Result<Vec<u8>, WriteError> {
        let mut out = Vec::new();
        push_u32(&mut out, count(self.strings.len(), "strings")?);
        let mut offset: u32 = 0;
        for text in &self.strings {
            let len = count(text.len(), "string bytes")?;
            push_u32(&mut out, offset);
            push_u32(&mut out, len);
            offset = offset.checked_add(len).ok_or(too_large("string bytes"))?;
        }
        for text in &self.strings {
            out.extend_from_slice(text.as_bytes());
        }
        Ok(out)
    }
}

/// Sort key: exact names first (by name), then wildcards longest suffix first, then `*`.
fn specificity(host: &HostPattern) -> (u8, core::cmp::Reverse<usize>, &str) {
    match host {
        HostPattern::Exact(name) => (0, core::cmp::Reverse(0), name),
        HostPattern::Wildcard(suffix) => (1, core::cmp::Reverse(suffix.len()), suffix),
        HostPattern::Any => (2, core::cmp::Reverse(0), ""),
    }
}

/// The next less specific vhost that serves every host `host` serves: the longest
/// wildcard suffix strictly shorter than the pattern's own, else the catch-all.
fn fallback_of(host: &HostPattern, index_of: &impl Fn(&HostPattern) -> Option<u32>) -> u32 {
    let name = match host {
        HostPattern::Exact(name) => name.as_str(),
        HostPattern::Wildcard(suffix) => suffix.get(1..).unwrap_or(""),
        HostPattern::Any => return NONE,
    };
    let shorter_suffixes = name
        .char_indices()
        .filter(|&(_, c)| c == '.')
        .map(|(i, _)| &name[i..]);
    shorter_suffixes
        .filter_map(|suffix| index_of(&HostPattern::Wildcard(suffix.to_string())))
        .chain(index_of(&HostPattern::Any))
        .next()
        .unwrap_or(NONE)
}
