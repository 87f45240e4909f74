//! The byte layout of a Switchyard program: constants shared by the writer and the loader.
//!
//! See `docs/bytecode.md` for the prose description. Every multi-byte field is
//! little-endian; every record is a fixed number of `u32` words so the loader can check
//! a section's length with one division.

/// First eight bytes of every program.
pub const MAGIC: [u8; 8] = *b"SWYDRTE\0";
/// Bumped when a change makes old loaders misread new programs.
pub const VERSION_MAJOR: u16 = 1;
/// Bumped when new records or opcodes are added that old loaders refuse cleanly. The
/// writer stamps the lowest minor version that can express a program (see
/// [`section::SINCE_1_1`]; 1.2 lets a backend's op run end in REDIRECT), so a program
/// that needs nothing new still loads in older plugins.
pub const VERSION_MINOR: u16 = 2;
/// Size of the fixed header that precedes the section table.
pub const HEADER_LEN: usize = 32;
/// Size of one section table entry: id, offset, length.
pub const SECTION_ENTRY_LEN: usize = 12;
/// "No value" in any index field.
pub const NONE: u32 = u32::MAX;

/// Section identifiers. Each appears exactly once.
pub mod section {
    pub const STRINGS: u32 = 1;
    pub const REGEXES: u32 = 2;
    pub const LISTENERS: u32 = 3;
    pub const HOST_SLOTS: u32 = 4;
    pub const VHOSTS: u32 = 5;
    pub const PATH_SLOTS: u32 = 6;
    pub const TRIE_NODES: u32 = 7;
    pub const TRIE_EDGES: u32 = 8;
    pub const ENTRY_LISTS: u32 = 9;
    pub const ENTRIES: u32 = 10;
    pub const PREDICATES: u32 = 11;
    pub const ACTIONS: u32 = 12;
    pub const OPS: u32 = 13;
    pub const BACKEND_SETS: u32 = 14;
    pub const BACKENDS: u32 = 15;
    pub const SERVICES: u32 = 16;
    pub const SOURCES: u32 = 17;
    pub const META: u32 = 18;
    pub const CORS: u32 = 19;
    pub const STRING_REFS: u32 = 20;
    /// Format 1.1: the allowed origins of CORS policies with flag
    /// [`super::cors_flag::ENVOY`], as Envoy string matchers.
    pub const CORS_ORIGINS: u32 = 21;
    /// Format 1.1: per listener port, the HTTPS listener hostnames a request's SNI and
    /// Host are each matched against (misdirected requests, answered 421).
    pub const TLS_LISTENERS: u32 = 22;
    /// Format 1.1: hash slots of those hostnames.
    pub const TLS_NAMES: u32 = 23;
    /// The sections of format 1.0, which every program carries, in the order the writer
    /// lays them out.
    pub const ALL: [u32; 20] = [
        STRINGS,
        REGEXES,
        LISTENERS,
        HOST_SLOTS,
        VHOSTS,
        PATH_SLOTS,
        TRIE_NODES,
        TRIE_EDGES,
        ENTRY_LISTS,
        ENTRIES,
        PREDICATES,
        ACTIONS,
        OPS,
        BACKEND_SETS,
        BACKENDS,
        SERVICES,
        SOURCES,
        META,
        CORS,
        STRING_REFS,
    ];
    /// The sections format 1.1 added. A 1.1 program carries each exactly once (empty
    /// when unused); a 1.0 program carries none (an older loader refuses their ids).
    pub const SINCE_1_1: [u32; 3] = [CORS_ORIGINS, TLS_LISTENERS, TLS_NAMES];
    /// One more than the highest section id.
    pub const LIMIT: usize = TLS_NAMES as usize + 1;
}

/// Record sizes in `u32` words, per section (0 = variable layout, checked separately).
pub const fn record_words(section_id: u32) -> usize {
    match section_id {
        section::REGEXES => 1,
        section::LISTENERS => 4,
        section::HOST_SLOTS => 2,
        section::VHOSTS => 7,
        section::PATH_SLOTS => 3,
        section::TRIE_NODES => 4,
        section::TRIE_EDGES => 2,
        section::ENTRY_LISTS => 1,
        section::ENTRIES => 4,
        section::PREDICATES => 3,
        section::ACTIONS => 2,
        section::OPS => 4,
        section::BACKEND_SETS => 3,
        section::BACKENDS => 5,
        section::SERVICES => 3,
        section::SOURCES => 4,
        section::CORS => 7,
        section::STRING_REFS => 1,
        section::CORS_ORIGINS => 2,
        section::TLS_LISTENERS => 4,
        section::TLS_NAMES => 1,
        _ => 0,
    }
}

/// Predicate opcodes (first byte of a predicate record's first word).
pub mod pred {
    /// `:method` equals string `a`.
    pub const METHOD: u8 = 1;
    /// Header `a` (lowercase name) equals string `b`.
    pub const HEADER_EXACT: u8 = 2;
    /// Header `a` fully matches regex `b`.
    pub const HEADER_REGEX: u8 = 3;
    /// Header `a` is present.
    pub const HEADER_PRESENT: u8 = 4;
    /// Header `a` is absent.
    pub const HEADER_ABSENT: u8 = 5;
    /// Query parameter `a` (first occurrence, percent-decoded) equals string `b`.
    pub const QUERY_EXACT: u8 = 6;
    /// Query parameter `a` fully matches regex `b`.
    pub const QUERY_REGEX: u8 = 7;
    /// The path (without query) fully matches regex `b`.
    pub const PATH_REGEX: u8 = 8;
    /// The path (without query) starts with string `a` (a plain string prefix, as
    /// Istio's `uri.prefix`; not element-wise).
    pub const PATH_PREFIX: u8 = 9;
    /// The path (without query) equals string `a` (used with IGNORE_CASE).
    pub const PATH_EXACT: u8 = 10;
    /// Header `a`'s value starts with string `b`.
    pub const HEADER_PREFIX: u8 = 11;
    /// Query parameter `a` starts with string `b`.
    pub const QUERY_PREFIX: u8 = 12;
    /// Query parameter `a` is present.
    pub const QUERY_PRESENT: u8 = 13;
    pub const MAX: u8 = QUERY_PRESENT;

    /// Flag (bit 8 of the first word): the predicate holds when the test fails
    /// (Istio `withoutHeaders`).
    pub const NEGATE: u32 = 1 << 8;
    /// Flag (bit 9): compare ASCII case-insensitively (Istio `ignoreUriCase`).
    pub const IGNORE_CASE: u32 = 1 << 9;
    pub const KNOWN_FLAGS: u32 = NEGATE | IGNORE_CASE;
}

/// Action opcodes (first byte of an op record's first word). An action is a run of
/// filter ops ending in exactly one terminal op (forward, reply or redirect).
pub mod op {
    /// Terminal: forward to a backend chosen from backend set `a` by weight.
    pub const FORWARD: u8 = 1;
    /// Terminal: answer locally with status `a` and body string `b` (or `NONE`).
    pub const REPLY: u8 = 2;
    /// Terminal: redirect. `a` = status | port << 16 (port 0: derived), `b` = scheme
    /// string or `NONE` (the request's), `c` = host string or `NONE` (the request's).
    /// The Location's path is the request path after any path op before it.
    pub const REDIRECT: u8 = 3;
    /// Set request header `a` to `b` (replacing every value).
    pub const REQUEST_SET: u8 = 4;
    /// Append request header `a` with value `b`.
    pub const REQUEST_ADD: u8 = 5;
    /// Remove request header `a`.
    pub const REQUEST_REMOVE: u8 = 6;
    /// Response header edits, applied to the upstream's answer or the proxy's own.
    pub const RESPONSE_SET: u8 = 7;
    pub const RESPONSE_ADD: u8 = 8;
    pub const RESPONSE_REMOVE: u8 = 9;
    /// Replace the host (`:authority`) with string `a`.
    pub const SET_HOST: u8 = 10;
    /// Replace the whole path (the query is kept) with string `a`.
    pub const SET_PATH: u8 = 11;
    /// Replace the matched path prefix `a` with `b`, element-wise (Gateway API
    /// ReplacePrefixMatch), or as plain strings with flag `PLAIN` (Istio `rewrite.uri`).
    pub const REPLACE_PREFIX: u8 = 12;
    /// Mirror to backend record `a` for `b` parts per million of requests.
    pub const MIRROR: u8 = 13;
    /// Request timeout `a` ms and per-attempt timeout `b` ms (`NONE`: not set; 0: none).
    pub const TIMEOUT: u8 = 14;
    /// Retry up to `a` times on the conditions in string `b` (Envoy `retry_on` values,
    /// comma-separated), with the status codes in string `c` (or `NONE`) for
    /// `retriable-status-codes`.
    pub const RETRY: u8 = 15;
    /// Apply CORS policy `a`.
    pub const CORS: u8 = 16;
    /// Answer with status `a` instead of forwarding, for `b` parts per million of
    /// requests (fault injection).
    pub const FAULT_ABORT: u8 = 17;
    /// Delay `a` ms before forwarding, for `b` parts per million of requests.
    pub const FAULT_DELAY: u8 = 18;
    /// Replace every match of regex `a` in the path with string `b` (`\1` captures).
    pub const REGEX_REWRITE: u8 = 19;
    /// Format 1.1, only in a backend's op run: the backend's cluster does not exist on
    /// the proxy (an Istio subset the DestinationRule in force does not define), so
    /// picking this backend answers status `a` instead (Envoy: 503, no cluster).
    pub const NO_CLUSTER: u8 = 20;
    pub const MAX: u8 = NO_CLUSTER;

    /// REPLACE_PREFIX flag: plain string replacement of the matched prefix.
    pub const PLAIN: u32 = 1 << 8;
    /// REDIRECT flag: with no host and no port set, keep the request's authority with
    /// its port (Istio).
    pub const KEEP_AUTHORITY: u32 = 1 << 9;
    /// REDIRECT flag: with no port set, use the scheme's default port (Istio
    /// `derivePort: FROM_PROTOCOL_DEFAULT`).
    pub const PROTOCOL_PORT: u32 = 1 << 10;
    /// REDIRECT flag: with no port set, use the listener's port (Istio
    /// `derivePort: FROM_REQUEST_PORT`).
    pub const LISTENER_PORT: u32 = 1 << 11;

    /// Whether an opcode ends an action.
    pub const fn is_terminal(code: u8) -> bool {
        matches!(code, FORWARD | REPLY | REDIRECT)
    }
}

/// CORS policy flag bits (word 0 of a CORS record).
pub mod cors_flag {
    /// `allowCredentials: true`.
    pub const ALLOW_CREDENTIALS: u32 = 1;
    /// Format 1.1: the policy is Envoy's CORS filter (Istio `corsPolicy`): words 1-2 are
    /// a range of CORS_ORIGINS string matchers (not STRING_REFS patterns), the Origin is
    /// always echoed, methods and headers are sent as configured, and max-age only when
    /// word 6 is not `NONE`.
    pub const ENVOY: u32 = 1 << 1;
    /// Format 1.1, with [`ENVOY`] only: a preflight whose origin is not allowed goes on
    /// to the route instead of being answered (Envoy `forward_not_matching_preflights`,
    /// Istio `unmatchedPreflights: FORWARD`, its default).
    pub const FORWARD_UNMATCHED_PREFLIGHTS: u32 = 1 << 2;
    pub const KNOWN: u32 = ALLOW_CREDENTIALS | ENVOY | FORWARD_UNMATCHED_PREFLIGHTS;
}

/// Kinds of CORS_ORIGINS records (word 0); word 1 is the operand.
pub mod origin {
    /// The Origin equals string `b` (case-sensitive, as Envoy's `exact`).
    pub const EXACT: u32 = 1;
    /// The Origin starts with string `b`.
    pub const PREFIX: u32 = 2;
    /// The Origin fully matches regex `b`.
    pub const REGEX: u32 = 3;
}

/// TLS_LISTENERS flag bits (word 3).
pub mod tls_flag {
    /// An HTTPS listener without hostname is on the port: it owns every name no other
    /// listener's hostname matches.
    pub const CATCH_ALL: u32 = 1;
    pub const KNOWN: u32 = CATCH_ALL;
}

/// What produced a rule, for `explain` and metrics.
pub mod source_kind {
    pub const HTTP_ROUTE: u8 = 1;
    pub const GRPC_ROUTE: u8 = 2;
    pub const VIRTUAL_SERVICE: u8 = 3;
    pub const MAX: u8 = VIRTUAL_SERVICE;
}

/// Header flag bits (reserved; a loader refuses bits it does not know). The header is
/// outside the checksum, so program-wide switches live in META's flags word instead.
pub const KNOWN_FLAGS: u32 = 0;

/// Bits of the flags word that ends META in a 1.2 program (under the checksum).
pub mod meta_flag {
    /// A request whose host no vhost takes (or whose port has no listener) is left to
    /// the proxy's own routes instead of answered 404: on a sidecar, Istio's passthrough
    /// to the original destination (`outboundTrafficPolicy: ALLOW_ANY`).
    pub const PASS_UNKNOWN_HOSTS: u32 = 1;
    pub const KNOWN: u32 = PASS_UNKNOWN_HOSTS;
}
