//! A loaded, verified program: the bytes plus where each section starts, and the
//! compiled regexes. Immutable and shared by every request; accessors never panic
//! (reads are bounds-checked even though the loader already proved them in range).

use crate::compiled_regex::CompiledRegex;
use crate::format::{NONE, section};
use crate::wire::u32_at;

/// Where one record section lives.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Table {
    /// Byte offset of the first record.
    pub start: usize,
    /// Number of records.
    pub len: u32,
    /// Words per record.
    pub words: usize,
}

impl Table {
    /// Word `w` of record `i`; `NONE` if out of range (cannot happen after verification).
    #[inline]
    pub fn word(&self, bytes: &[u8], i: u32, w: usize) -> u32 {
        let offset = self.start + (i as usize * self.words + w) * 4;
        u32_at(bytes, offset).unwrap_or(NONE)
    }
}

/// The string section: a table of (offset, length) pairs followed by the bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Strings {
    pub count: u32,
    pub table: usize,
    pub blob: usize,
}

/// A verified Switchyard program. Build one with [`Program::from_bytes`].
pub struct Program {
    pub(crate) bytes: Box<[u8]>,
    pub(crate) strings: Strings,
    pub(crate) tables: [Table; section::LIMIT],
    pub(crate) regexes: Vec<CompiledRegex>,
    pub(crate) meta: Meta,
    pub(crate) features: Features,
}

/// Which proxy controls a program uses, found once at load: the plugin must always set
/// or clear the headers behind each control it uses, so that a client cannot set them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    pub timeouts: bool,
    pub retries: bool,
    /// Some rule injects delays (Envoy's fault filter applies them).
    pub delays: bool,
    /// The most mirrors one request can be sent to.
    pub max_mirrors: u32,
    /// Some predicate or filter reads a request header other than the pseudo-headers.
    pub header_map: bool,
    /// Some redirect keeps the request's scheme.
    pub scheme: bool,
    /// Some listener checks the TLS SNI against the Host (misdirected requests, 421):
    /// the proxy must pass the SNI (Envoy property `connection.requested_server_name`).
    pub sni: bool,
}

/// The decoded META section.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub routing_header: u32,
    pub target: u32,
    /// Byte offset and count of the needed-header string ids.
    pub needed_headers: (usize, u32),
    /// The flags word of a 1.2 program (`meta_flag`); 0 before 1.2.
    pub flags: u32,
}

impl core::fmt::Debug for Program {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Program")
            .field("bytes", &self.bytes.len())
            .field("entries", &self.entry_count())
            .finish_non_exhaustive()
    }
}

/// Indices of the record sections in `Program::tables`.
impl Program {
    #[inline]
    pub(crate) fn table(&self, section_id: u32) -> &Table {
        &self.tables[section_id as usize]
    }

    #[inline]
    pub(crate) fn word(&self, section_id: u32, index: u32, w: usize) -> u32 {
        self.table(section_id).word(&self.bytes, index, w)
    }

    /// The raw bytes, exactly as loaded.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// String `id` as bytes (empty if out of range, which verification rules out).
    #[inline]
    pub fn string_bytes(&self, id: u32) -> &[u8] {
        if id >= self.strings.count {
            return &[];
        }
        let entry = self.strings.table + id as usize * 8;
        let (Some(offset), Some(len)) = (u32_at(&self.bytes, entry), u32_at(&self.bytes, entry + 4)) else {
            return &[];
        };
        let start = self.strings.blob + offset as usize;
        self.bytes.get(start..start + len as usize).unwrap_or(&[])
    }

    /// String `id` as text (verified UTF-8 at load).
    pub fn string(&self, id: u32) -> &str {
        core::str::from_utf8(self.string_bytes(id)).unwrap_or("")
    }

    /// Number of rules-with-one-match ("entries") in the program.
    pub fn entry_count(&self) -> u32 {
        self.table(section::ENTRIES).len
    }

    /// Whether a request whose host the program has no vhost for is left to the
    /// proxy's own routes ([`crate::Outcome::Pass`]) rather than answered 404.
    pub fn passes_unknown_hosts(&self) -> bool {
        self.meta.flags & crate::format::meta_flag::PASS_UNKNOWN_HOSTS != 0
    }

    /// The header the plugin sets to the chosen cluster name.
    pub fn routing_header(&self) -> &str {
        self.string(self.meta.routing_header)
    }

    /// What the program was compiled for, e.g. `gateway gateway-conformance-infra/same-namespace`.
    pub fn target(&self) -> &str {
        self.string(self.meta.target)
    }

    /// Lowercase names of the request headers some predicate reads. Empty means the
    /// plugin need not fetch any header beyond the pseudo-headers.
    pub fn needed_headers(&self) -> impl Iterator<Item = &str> + '_ {
        let (offset, count) = self.meta.needed_headers;
        (0..count as usize).map(move |i| self.string(u32_at(&self.bytes, offset + i * 4).unwrap_or(NONE)))
    }

    /// Whether any predicate or filter reads a request header besides the
    /// pseudo-headers (a caller holding only the request line can evaluate the program
    /// when this is false).
    pub fn needs_headers(&self) -> bool {
        self.features.header_map
    }

    /// The proxy controls this program uses.
    pub fn features(&self) -> Features {
        self.features
    }

    /// Listener ports, ascending.
    pub fn listener_ports(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.table(section::LISTENERS).len).map(|i| self.word(section::LISTENERS, i, 0))
    }

    /// Number of backend records (including invalid ones).
    pub fn backend_count(&self) -> u32 {
        self.table(section::BACKENDS).len
    }

    /// Backend `index`: its cluster (None: an unresolvable reference, answered with 500)
    /// and the Kubernetes service it stands for, if any.
    pub fn backend(&self, index: u32) -> BackendInfo<'_> {
        let service = self.word(section::BACKENDS, index, 0);
        let cluster = self.word(section::BACKENDS, index, 2);
        BackendInfo {
            weight: self.word(section::BACKENDS, index, 1),
            cluster: (cluster != NONE).then(|| self.string(cluster)),
            service: (service != NONE).then(|| self.service(service)),
        }
    }

    fn service(&self, index: u32) -> ServiceInfo<'_> {
        ServiceInfo {
            namespace: self.string(self.word(section::SERVICES, index, 0)),
            name: self.string(self.word(section::SERVICES, index, 1)),
            port: self.word(section::SERVICES, index, 2),
        }
    }

    /// Finds the backend whose cluster name is `cluster` (used by test engines to map the
    /// routing header back to a service).
    pub fn backend_by_cluster(&self, cluster: &str) -> Option<BackendInfo<'_>> {
        (0..self.backend_count())
            .map(|i| self.backend(i))
            .find(|b| b.cluster == Some(cluster))
    }

    /// Where entry `entry` came from.
    pub fn source(&self, entry: u32) -> SourceInfo<'_> {
        let source = self.word(section::ENTRIES, entry, 3);
        let packed = self.word(section::SOURCES, source, 3);
        SourceInfo {
            kind: SourceKind::from_code(self.word(section::SOURCES, source, 0) as u8),
            namespace: self.string(self.word(section::SOURCES, source, 1)),
            name: self.string(self.word(section::SOURCES, source, 2)),
            rule: packed >> 16,
            match_index: packed & 0xFFFF,
        }
    }
}

/// A backend as the program knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendInfo<'p> {
    pub weight: u32,
    /// The Envoy cluster; `None` for a reference that did not resolve.
    pub cluster: Option<&'p str>,
    pub service: Option<ServiceInfo<'p>>,
}

/// A Kubernetes service port a backend stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceInfo<'p> {
    pub namespace: &'p str,
    pub name: &'p str,
    pub port: u32,
}

/// The resource a rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    HttpRoute,
    GrpcRoute,
    VirtualService,
    Unknown,
}

impl SourceKind {
    pub(crate) fn from_code(code: u8) -> Self {
        match code {
            crate::format::source_kind::HTTP_ROUTE => SourceKind::HttpRoute,
            crate::format::source_kind::GRPC_ROUTE => SourceKind::GrpcRoute,
            crate::format::source_kind::VIRTUAL_SERVICE => SourceKind::VirtualService,
            _ => SourceKind::Unknown,
        }
    }

    /// The Kubernetes kind.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::HttpRoute => "HTTPRoute",
            SourceKind::GrpcRoute => "GRPCRoute",
            SourceKind::VirtualService => "VirtualService",
            SourceKind::Unknown => "?",
        }
    }
}

/// A rule's origin: resource, rule index and match index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo<'p> {
    pub kind: SourceKind,
    pub namespace: &'p str,
    pub name: &'p str,
    pub rule: u32,
    pub match_index: u32,
}

impl core::fmt::Display for SourceInfo<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} {}/{} rule {} match {}",
            self.kind.as_str(),
            self.namespace,
            self.name,
            self.rule,
            self.match_index
        )
    }
}
