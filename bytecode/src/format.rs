//! The byte layout of a Switchyard program: constants shared by the writer and the loader.
//!
//! See `docs/bytecode.md` for the prose description. Every multi-byte field is
//! little-endian; every record is a fixed number of `u32` words so the loader can check
//! a section's length with one division.

/// First eight bytes of every program.
pub const MAGIC: [u8; 8] = *b"SWYDRTE\0";
/// Bumped when a change makes old loaders misread new programs.
pub const VERSION_MAJOR: u16 = 1;
/// Bumped when new records or opcodes are added that old loaders refuse cleanly.
pub const VERSION_MINOR: u16 = 0;
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
    /// Every section a valid program carries, in the order the writer lays them out.
    pub const ALL: [u32; 18] = [
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
    ];
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
        section::BACKENDS => 3,
        section::SERVICES => 3,
        section::SOURCES => 4,
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
    pub const MAX: u8 = PATH_REGEX;
}

/// Action opcodes (first byte of an op record's first word).
pub mod op {
    /// Forward to a backend chosen from backend set `a` by weight.
    pub const FORWARD: u8 = 1;
    /// Answer locally with status `a` and body string `b` (or `NONE`).
    pub const REPLY: u8 = 2;
    pub const MAX: u8 = REPLY;
}

/// What produced a rule, for `explain` and metrics.
pub mod source_kind {
    pub const HTTP_ROUTE: u8 = 1;
    pub const GRPC_ROUTE: u8 = 2;
    pub const VIRTUAL_SERVICE: u8 = 3;
    pub const MAX: u8 = VIRTUAL_SERVICE;
}

/// Header flag bits (reserved; a loader refuses bits it does not know).
pub const KNOWN_FLAGS: u32 = 0;
