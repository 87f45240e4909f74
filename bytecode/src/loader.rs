//! `Program::from_bytes`: checks every header field, offset, index and range before a
//! program is used, so the evaluator can trust it. Any byte string either loads or is
//! refused with a [`LoadError`]; this function never panics.

use crate::checksum::crc32;
use crate::compiled_regex::CompiledRegex;
use crate::error::LoadError;
use crate::format::{
    HEADER_LEN, KNOWN_FLAGS, MAGIC, NONE, SECTION_ENTRY_LEN, VERSION_MAJOR, VERSION_MINOR, cors_flag,
    meta_flag, op, origin, pred, record_words, section, source_kind, tls_flag,
};
use crate::program::{Meta, Program, Strings, Table};
use crate::wire::{u16_at, u32_at};

/// Regexes are anchored full matches of at most this many bytes (Istio's limit on a
/// `uri.regex`); bounding them bounds the compiled size too.
pub const MAX_REGEX_LEN: usize = 1024;
/// regex-lite's compiled-size limit for one regex.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Program {
    /// Verifies `bytes` and returns the program, or says why they are not one. `bytes`
    /// is a program as the writer makes it, or one in the compressed container
    /// (`compress.rs`), which is decompressed first (the program inside is then
    /// verified like any other; a container inside a container is refused).
    pub fn from_bytes(bytes: &[u8]) -> Result<Program, LoadError> {
        if bytes.starts_with(&crate::compress::COMPRESSED_MAGIC) {
            return Program::from_plain_bytes(&crate::compress::decompress(bytes)?);
        }
        Program::from_plain_bytes(bytes)
    }

    fn from_plain_bytes(bytes: &[u8]) -> Result<Program, LoadError> {
        let (sections, minor) = read_header(bytes)?;
        let mut program = Program {
            bytes: bytes.into(),
            strings: Strings::default(),
            tables: [Table::default(); section::LIMIT],
            regexes: Vec::new(),
            meta: Meta::default(),
            features: crate::program::Features::default(),
        };
        for &(id, offset, len) in &sections {
            if id == section::STRINGS || id == section::META {
                continue;
            }
            let words = record_words(id);
            let record_len = words * 4;
            if len % record_len != 0 {
                return Err(LoadError::BadSection(id));
            }
            program.tables[id as usize] = Table {
                start: offset,
                len: u32::try_from(len / record_len).map_err(|_| LoadError::BadSection(id))?,
                words,
            };
        }
        let find = |id: u32| sections.iter().find(|s| s.0 == id).map(|s| (s.1, s.2));
        let (offset, len) = find(section::STRINGS).ok_or(LoadError::MissingSection(section::STRINGS))?;
        program.strings = read_strings(bytes, offset, len)?;
        let (offset, len) = find(section::META).ok_or(LoadError::MissingSection(section::META))?;
        program.meta = read_meta(&program, offset, len, minor)?;
        Checker { p: &program }.check_all()?;
        program.regexes = compile_regexes(&program)?;
        program.features = features(&program);
        Ok(program)
    }
}

/// A section table entry: id, byte offset, byte length.
type SectionEntry = (u32, usize, usize);

/// Checks the fixed header and the section table; returns the entries and the minor
/// version.
fn read_header(bytes: &[u8]) -> Result<(Vec<SectionEntry>, u16), LoadError> {
    if bytes.len() < HEADER_LEN {
        return Err(LoadError::TooShort);
    }
    if bytes[..8] != MAGIC {
        return Err(LoadError::BadMagic);
    }
    let major = u16_at(bytes, 8).ok_or(LoadError::TooShort)?;
    let minor = u16_at(bytes, 10).ok_or(LoadError::TooShort)?;
    if major != VERSION_MAJOR || minor > VERSION_MINOR {
        return Err(LoadError::UnsupportedVersion { major, minor });
    }
    let word = |offset| u32_at(bytes, offset).ok_or(LoadError::TooShort);
    let flags = word(12)?;
    if flags & !KNOWN_FLAGS != 0 {
        return Err(LoadError::UnknownFlags(flags));
    }
    let total = word(16)?;
    if total as usize != bytes.len() {
        return Err(LoadError::LengthMismatch {
            header: total,
            actual: bytes.len(),
        });
    }
    if word(20)? != crc32(&bytes[HEADER_LEN..]) {
        return Err(LoadError::ChecksumMismatch);
    }
    let count = word(24)? as usize;
    if word(28)? != 0 {
        return Err(LoadError::ReservedNotZero);
    }
    // Format 1.1 added sections; a 1.0 program must not carry them (an older loader
    // refuses their ids), a 1.1 program carries each of them.
    let added: &[u32] = if minor >= 1 { &section::SINCE_1_1 } else { &[] };
    if count > section::ALL.len() + added.len() {
        return Err(LoadError::BadSectionTable);
    }
    let table_end = HEADER_LEN + count * SECTION_ENTRY_LEN;
    if table_end > bytes.len() {
        return Err(LoadError::BadSectionTable);
    }
    let mut sections = Vec::with_capacity(count);
    for i in 0..count {
        let base = HEADER_LEN + i * SECTION_ENTRY_LEN;
        let (id, offset, len) = (word(base)?, word(base + 4)? as usize, word(base + 8)? as usize);
        let known = section::ALL.contains(&id) || added.contains(&id);
        let duplicate = sections.iter().any(|s: &(u32, usize, usize)| s.0 == id);
        let end = offset.checked_add(len).ok_or(LoadError::BadSectionTable)?;
        if !known || duplicate || offset % 4 != 0 || offset < table_end || end > bytes.len() {
            return Err(LoadError::BadSectionTable);
        }
        sections.push((id, offset, len));
    }
    for &id in section::ALL.iter().chain(added) {
        if !sections.iter().any(|s| s.0 == id) {
            return Err(LoadError::MissingSection(id));
        }
    }
    // No two sections overlap. Compared pairwise (a program has about twenty): a sort
    // would add its code to the plugin module.
    let overlap = |(i, a): (usize, &(u32, usize, usize)), (j, b): (usize, &(u32, usize, usize))| {
        i != j && a.1 < b.1 + b.2 && b.1 < a.1 + a.2
    };
    if sections
        .iter()
        .enumerate()
        .any(|a| sections.iter().enumerate().any(|b| overlap(a, b)))
    {
        return Err(LoadError::BadSectionTable);
    }
    Ok((sections, minor))
}

fn read_strings(bytes: &[u8], offset: usize, len: usize) -> Result<Strings, LoadError> {
    let bad = LoadError::BadSection(section::STRINGS);
    let end = offset + len;
    let count = u32_at(bytes, offset).filter(|_| len >= 4).ok_or(bad)?;
    let table = offset + 4;
    let blob = (count as usize)
        .checked_mul(8)
        .and_then(|n| n.checked_add(table))
        .ok_or(bad)?;
    if blob > end {
        return Err(bad);
    }
    for i in 0..count {
        let entry = table + i as usize * 8;
        let start = u32_at(bytes, entry).ok_or(bad)? as usize;
        let length = u32_at(bytes, entry + 4).ok_or(bad)? as usize;
        let text = start
            .checked_add(blob)
            .and_then(|s| Some((s, s.checked_add(length)?)))
            .filter(|&(_, e)| e <= end)
            .and_then(|(s, e)| bytes.get(s..e))
            .ok_or(LoadError::BadRecord {
                section: section::STRINGS,
                index: i,
            })?;
        if core::str::from_utf8(text).is_err() {
            return Err(LoadError::BadRecord {
                section: section::STRINGS,
                index: i,
            });
        }
    }
    Ok(Strings { count, table, blob })
}

fn read_meta(program: &Program, offset: usize, len: usize, minor: u16) -> Result<Meta, LoadError> {
    let bad = LoadError::BadSection(section::META);
    let bytes = &program.bytes;
    let word = |i: usize| {
        if (i + 1) * 4 <= len {
            u32_at(bytes, offset + i * 4)
        } else {
            None
        }
    };
    let routing_header = word(0).ok_or(bad)?;
    let target = word(1).ok_or(bad)?;
    let count = word(2).ok_or(bad)?;
    // 1.2 ends META with a flags word.
    let flag_words = usize::from(minor >= 2);
    if len != (3 + count as usize + flag_words) * 4 {
        return Err(bad);
    }
    let flags = if flag_words == 1 {
        word(3 + count as usize).ok_or(bad)?
    } else {
        0
    };
    if flags & !meta_flag::KNOWN != 0 {
        return Err(bad);
    }
    let strings = program.strings.count;
    if routing_header >= strings || target >= strings {
        return Err(bad);
    }
    if !is_header_name(program.string_bytes(routing_header)) {
        return Err(bad);
    }
    for i in 0..count as usize {
        let id = word(3 + i).ok_or(bad)?;
        if id >= strings || !is_header_name(program.string_bytes(id)) {
            return Err(bad);
        }
    }
    Ok(Meta {
        routing_header,
        target,
        needed_headers: (offset + 12, count),
        flags,
    })
}

/// A lowercase HTTP header name token (RFC 9110 `tchar`s, no uppercase), or a pseudo-header.
pub(crate) fn is_header_name(name: &[u8]) -> bool {
    let body = name.strip_prefix(b":").unwrap_or(name);
    !body.is_empty()
        && body
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// Scans the ops once for the proxy controls the program uses.
fn features(program: &Program) -> crate::program::Features {
    let mut features = crate::program::Features {
        header_map: program.needed_headers().any(|name| !name.starts_with(':')),
        scheme: program.needed_headers().any(|name| name == ":scheme"),
        sni: program.table(section::TLS_LISTENERS).len > 0,
        ..Default::default()
    };
    let code = |o: u32| (program.word(section::OPS, o, 0) & 0xFF) as u8;
    let mirrors_in =
        |start: u32, len: u32| (start..start + len).filter(|&o| code(o) == op::MIRROR).count() as u32;
    for o in 0..program.table(section::OPS).len {
        features.timeouts |= code(o) == op::TIMEOUT;
        features.retries |= code(o) == op::RETRY;
        features.delays |= code(o) == op::FAULT_DELAY;
    }
    // Mirrors come from an entry's action and from the chosen backend's filters.
    let actions = program.table(section::ACTIONS).len;
    let backend_mirrors = (0..program.table(section::BACKENDS).len)
        .map(|b| {
            mirrors_in(
                program.word(section::BACKENDS, b, 3),
                program.word(section::BACKENDS, b, 4),
            )
        })
        .max()
        .unwrap_or(0);
    for a in 0..actions {
        let here = mirrors_in(
            program.word(section::ACTIONS, a, 0),
            program.word(section::ACTIONS, a, 1),
        );
        features.max_mirrors = features.max_mirrors.max(here + backend_mirrors);
    }
    features
}

fn compile_regexes(program: &Program) -> Result<Vec<CompiledRegex>, LoadError> {
    let table = program.table(section::REGEXES);
    (0..table.len)
        .map(|i| {
            let pattern = program.string(program.word(section::REGEXES, i, 0));
            // The writer stores patterns anchored as `^(?:{pattern})$`: 6 more bytes.
            if pattern.len() > MAX_REGEX_LEN + "^(?:)$".len() {
                return Err(LoadError::BadRegex(i));
            }
            regex_lite::RegexBuilder::new(pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map(|regex| CompiledRegex::new(pattern, regex))
                .map_err(|_| LoadError::BadRegex(i))
        })
        .collect()
}

/// Cross-section checks: every index in range, every range inside its section, every
/// list sorted, every opcode known.
struct Checker<'p> {
    p: &'p Program,
}

impl Checker<'_> {
    fn len(&self, id: u32) -> u32 {
        self.p.table(id).len
    }

    fn w(&self, id: u32, i: u32, word: usize) -> u32 {
        self.p.word(id, i, word)
    }

    fn string(&self, id: u32) -> bool {
        id < self.p.strings.count
    }

    fn index(&self, value: u32, id: u32) -> bool {
        value < self.len(id)
    }

    fn optional(&self, value: u32, id: u32) -> bool {
        value == NONE || self.index(value, id)
    }

    fn range(&self, start: u32, len: u32, id: u32) -> bool {
        start.checked_add(len).is_some_and(|end| end <= self.len(id))
    }

    /// A run of entry ids in ENTRY_LISTS must be strictly ascending: the evaluator merges
    /// candidate lists by id.
    fn sorted_list(&self, start: u32, len: u32) -> bool {
        self.range(start, len, section::ENTRY_LISTS)
            && (start..start + len).all(|i| self.index(self.w(section::ENTRY_LISTS, i, 0), section::ENTRIES))
            && (start + 1..start + len)
                .all(|i| self.w(section::ENTRY_LISTS, i - 1, 0) < self.w(section::ENTRY_LISTS, i, 0))
    }

    fn each(&self, id: u32, ok: impl Fn(u32) -> bool) -> Result<(), LoadError> {
        match (0..self.len(id)).find(|&i| !ok(i)) {
            Some(index) => Err(LoadError::BadRecord { section: id, index }),
            None => Ok(()),
        }
    }

    fn check_all(&self) -> Result<(), LoadError> {
        use section::*;
        self.each(REGEXES, |i| self.string(self.w(REGEXES, i, 0)))?;
        self.each(LISTENERS, |i| {
            let (start, len) = (self.w(LISTENERS, i, 1), self.w(LISTENERS, i, 2));
            (i == 0 || self.w(LISTENERS, i - 1, 0) < self.w(LISTENERS, i, 0))
                && self.range(start, len, HOST_SLOTS)
                && (len == 0 || len.is_power_of_two())
                && self.optional(self.w(LISTENERS, i, 3), VHOSTS)
        })?;
        self.each(HOST_SLOTS, |i| {
            let key = self.w(HOST_SLOTS, i, 0);
            key == NONE || (self.string(key) && self.index(self.w(HOST_SLOTS, i, 1), VHOSTS))
        })?;
        self.each(VHOSTS, |i| {
            let fallback = self.w(VHOSTS, i, 0);
            let (slots, slot_len) = (self.w(VHOSTS, i, 1), self.w(VHOSTS, i, 2));
            // A fallback always points further down the table, so chains end.
            (fallback == NONE || (fallback > i && self.index(fallback, VHOSTS)))
                && self.range(slots, slot_len, PATH_SLOTS)
                && (slot_len == 0 || slot_len.is_power_of_two())
                && self.index(self.w(VHOSTS, i, 3), TRIE_NODES)
                && self.sorted_list(self.w(VHOSTS, i, 4), self.w(VHOSTS, i, 5))
                && self.string(self.w(VHOSTS, i, 6))
        })?;
        self.each(PATH_SLOTS, |i| {
            let key = self.w(PATH_SLOTS, i, 0);
            key == NONE
                || (self.string(key) && self.sorted_list(self.w(PATH_SLOTS, i, 1), self.w(PATH_SLOTS, i, 2)))
        })?;
        self.each(TRIE_NODES, |i| {
            let (edges, edge_len) = (self.w(TRIE_NODES, i, 0), self.w(TRIE_NODES, i, 1));
            self.range(edges, edge_len, TRIE_EDGES)
                && (edges + 1..edges + edge_len).all(|e| {
                    self.p.string_bytes(self.w(TRIE_EDGES, e - 1, 0))
                        < self.p.string_bytes(self.w(TRIE_EDGES, e, 0))
                })
                && self.sorted_list(self.w(TRIE_NODES, i, 2), self.w(TRIE_NODES, i, 3))
        })?;
        self.each(TRIE_EDGES, |i| {
            self.string(self.w(TRIE_EDGES, i, 0)) && self.index(self.w(TRIE_EDGES, i, 1), TRIE_NODES)
        })?;
        // The writer lays a trie out children first, one parent per node: every edge leads
        // to a lower node and no node is reached twice, so walks over a trie (the
        // listing's) end and visit each node once.
        let mut has_parent = vec![false; self.len(TRIE_NODES) as usize];
        for node in 0..self.len(TRIE_NODES) {
            let edges = self.w(TRIE_NODES, node, 0);
            for edge in edges..edges + self.w(TRIE_NODES, node, 1) {
                let child = self.w(TRIE_EDGES, edge, 1);
                if child >= node || core::mem::replace(&mut has_parent[child as usize], true) {
                    return Err(LoadError::BadRecord {
                        section: TRIE_NODES,
                        index: node,
                    });
                }
            }
        }
        self.each(ENTRY_LISTS, |i| self.index(self.w(ENTRY_LISTS, i, 0), ENTRIES))?;
        self.each(ENTRIES, |i| {
            self.range(self.w(ENTRIES, i, 0), self.w(ENTRIES, i, 1), PREDICATES)
                && self.index(self.w(ENTRIES, i, 2), ACTIONS)
                && self.index(self.w(ENTRIES, i, 3), SOURCES)
        })?;
        self.each(PREDICATES, |i| self.predicate(i))?;
        self.each(ACTIONS, |i| self.action(i))?;
        self.each(OPS, |i| self.op(i))?;
        self.each(BACKEND_SETS, |i| {
            let (start, len) = (self.w(BACKEND_SETS, i, 0), self.w(BACKEND_SETS, i, 1));
            self.range(start, len, BACKENDS)
                && (start..start + len)
                    .map(|b| u64::from(self.w(BACKENDS, b, 1)))
                    .sum::<u64>()
                    == u64::from(self.w(BACKEND_SETS, i, 2))
        })?;
        self.each(BACKENDS, |i| {
            self.optional(self.w(BACKENDS, i, 0), SERVICES)
                && {
                    let cluster = self.w(BACKENDS, i, 2);
                    cluster == NONE || (self.string(cluster) && !self.p.string_bytes(cluster).is_empty())
                }
                && self.backend_run(self.w(BACKENDS, i, 3), self.w(BACKENDS, i, 4))
        })?;
        self.each(STRING_REFS, |i| self.string(self.w(STRING_REFS, i, 0)))?;
        self.each(CORS, |i| {
            let flags = self.w(CORS, i, 0);
            let envoy = flags & cors_flag::ENVOY != 0;
            // Envoy policies match origins with CORS_ORIGINS and may leave max-age unset;
            // forwarding unmatched preflights is an Envoy setting.
            let origins = if envoy { CORS_ORIGINS } else { STRING_REFS };
            flags & !cors_flag::KNOWN == 0
                && (envoy || flags & cors_flag::FORWARD_UNMATCHED_PREFLIGHTS == 0)
                && (envoy || self.w(CORS, i, 6) != NONE)
                && self.range(self.w(CORS, i, 1), self.w(CORS, i, 2), origins)
                && (3..6).all(|w| self.string(self.w(CORS, i, w)))
        })?;
        self.each(CORS_ORIGINS, |i| {
            let operand = self.w(CORS_ORIGINS, i, 1);
            match self.w(CORS_ORIGINS, i, 0) {
                origin::EXACT | origin::PREFIX => self.string(operand),
                origin::REGEX => self.index(operand, REGEXES),
                _ => false,
            }
        })?;
        self.each(TLS_LISTENERS, |i| {
            let port = self.w(TLS_LISTENERS, i, 0);
            let (start, len) = (self.w(TLS_LISTENERS, i, 1), self.w(TLS_LISTENERS, i, 2));
            (i == 0 || self.w(TLS_LISTENERS, i - 1, 0) < port)
                && (0..self.len(LISTENERS)).any(|l| self.w(LISTENERS, l, 0) == port)
                && self.range(start, len, TLS_NAMES)
                && (len == 0 || len.is_power_of_two())
                && self.w(TLS_LISTENERS, i, 3) & !tls_flag::KNOWN == 0
        })?;
        self.each(TLS_NAMES, |i| {
            // Keys are stored lowercase, so that a probe hashing the lowercased SNI or
            // Host finds them.
            let key = self.w(TLS_NAMES, i, 0);
            key == NONE
                || (self.string(key) && {
                    let text = self.p.string_bytes(key);
                    !text.is_empty() && !text.iter().any(u8::is_ascii_uppercase)
                })
        })?;
        self.each(SERVICES, |i| {
            self.string(self.w(SERVICES, i, 0)) && self.string(self.w(SERVICES, i, 1))
        })?;
        self.each(SOURCES, |i| {
            let kind = self.w(SOURCES, i, 0);
            (1..=u32::from(source_kind::MAX)).contains(&kind)
                && self.string(self.w(SOURCES, i, 1))
                && self.string(self.w(SOURCES, i, 2))
        })
    }

    fn predicate(&self, i: u32) -> bool {
        let head = self.w(section::PREDICATES, i, 0);
        let (code, flags) = ((head & 0xFF) as u8, head & !0xFF);
        let (a, b) = (
            self.w(section::PREDICATES, i, 1),
            self.w(section::PREDICATES, i, 2),
        );
        let header = |name: u32| self.string(name) && is_header_name(self.p.string_bytes(name));
        flags & !pred::KNOWN_FLAGS == 0
            && match code {
                pred::METHOD | pred::PATH_PREFIX | pred::PATH_EXACT => self.string(a),
                pred::HEADER_EXACT | pred::HEADER_PREFIX => header(a) && self.string(b),
                pred::HEADER_REGEX => header(a) && self.index(b, section::REGEXES),
                pred::HEADER_PRESENT | pred::HEADER_ABSENT => header(a),
                pred::QUERY_EXACT | pred::QUERY_PREFIX => self.string(a) && self.string(b),
                pred::QUERY_REGEX => self.string(a) && self.index(b, section::REGEXES),
                pred::QUERY_PRESENT => self.string(a),
                pred::PATH_REGEX => self.index(b, section::REGEXES),
                _ => false,
            }
    }

    /// An action is a run of ops that ends in exactly one terminal op (forward, reply or
    /// redirect).
    fn action(&self, i: u32) -> bool {
        let (start, len) = (self.w(section::ACTIONS, i, 0), self.w(section::ACTIONS, i, 1));
        len > 0
            && self.range(start, len, section::OPS)
            && self.is_terminal(start + len - 1)
            && self.filter_run(start, len - 1)
            // A missing cluster belongs to a backend, never to a rule.
            && !(start..start + len).any(|o| (self.w(section::OPS, o, 0) & 0xFF) as u8 == op::NO_CLUSTER)
    }

    /// A backend's ops: filters, then (format 1.2) at most one REDIRECT, last, that
    /// answers instead of forwarding to it.
    fn backend_run(&self, start: u32, len: u32) -> bool {
        self.filter_run(start, len)
            || (len > 0
                && self.range(start, len, section::OPS)
                && self.filter_run(start, len - 1)
                && (self.w(section::OPS, start + len - 1, 0) & 0xFF) as u8 == op::REDIRECT)
    }

    /// A run of non-terminal ops (a backend's filters, or an action before its terminal).
    fn filter_run(&self, start: u32, len: u32) -> bool {
        self.range(start, len, section::OPS) && !(start..start + len).any(|o| self.is_terminal(o))
    }

    fn is_terminal(&self, o: u32) -> bool {
        op::is_terminal((self.w(section::OPS, o, 0) & 0xFF) as u8)
    }

    fn op(&self, i: u32) -> bool {
        let head = self.w(section::OPS, i, 0);
        let (code, flags) = ((head & 0xFF) as u8, head & !0xFF);
        let (a, b, c) = (
            self.w(section::OPS, i, 1),
            self.w(section::OPS, i, 2),
            self.w(section::OPS, i, 3),
        );
        let header = |name: u32| self.string(name) && is_header_name(self.p.string_bytes(name));
        let value = |text: u32| self.string(text) && is_header_value(self.p.string_bytes(text));
        let optional_string = |s: u32| s == NONE || self.string(s);
        let allowed_flags = match code {
            op::REPLACE_PREFIX => op::PLAIN,
            // At most one port derivation.
            op::REDIRECT => {
                return [0, op::KEEP_AUTHORITY, op::PROTOCOL_PORT, op::LISTENER_PORT].contains(&flags)
                    && [301, 302, 303, 307, 308].contains(&(a & 0xFFFF))
                    && optional_string(b)
                    && optional_string(c);
            }
            _ => 0,
        };
        flags & !allowed_flags == 0
            && match code {
                op::FORWARD => self.index(a, section::BACKEND_SETS),
                op::REPLY => (100..=599).contains(&a) && optional_string(b),
                op::REQUEST_SET | op::REQUEST_ADD | op::RESPONSE_SET | op::RESPONSE_ADD => {
                    header(a) && value(b)
                }
                op::REQUEST_REMOVE | op::RESPONSE_REMOVE => header(a),
                op::SET_HOST | op::SET_PATH => value(a),
                op::REPLACE_PREFIX => self.string(a) && value(b),
                op::MIRROR => self.index(a, section::BACKENDS) && b <= 1_000_000,
                op::TIMEOUT => true,
                op::RETRY => value(b) && (c == NONE || value(c)),
                op::CORS => self.index(a, section::CORS),
                op::FAULT_ABORT => (100..=599).contains(&a) && b <= 1_000_000,
                op::FAULT_DELAY => b <= 1_000_000,
                op::REGEX_REWRITE => self.index(a, section::REGEXES) && value(b),
                op::NO_CLUSTER => (100..=599).contains(&a),
                _ => false,
            }
    }
}

/// Header values from configuration never carry CR, LF or NUL.
fn is_header_value(value: &[u8]) -> bool {
    !value.iter().any(|&c| c == b'\r' || c == b'\n' || c == 0)
}
