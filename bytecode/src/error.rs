//! Why a byte string is not a program. Small and `Copy`: the plugin logs it as one line.

use core::fmt;

/// A refusal from [`crate::Program::from_bytes`]. Every malformed input maps to one of
/// these; the loader never panics and never reads out of bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// Shorter than the fixed header.
    TooShort,
    /// Does not start with the Switchyard magic bytes.
    BadMagic,
    /// Written by a newer or incompatible compiler.
    UnsupportedVersion { major: u16, minor: u16 },
    /// Header flag bits this loader does not know.
    UnknownFlags(u32),
    /// The reserved header word is not zero.
    ReservedNotZero,
    /// The header's total length is not the length of the bytes given.
    LengthMismatch { header: u32, actual: usize },
    /// The body's CRC-32 does not match the header: the bytes were damaged.
    ChecksumMismatch,
    /// The section table is malformed (unknown or repeated id, misaligned, overlapping,
    /// out of bounds).
    BadSectionTable,
    /// A required section is absent.
    MissingSection(u32),
    /// A section's length is not a whole number of records, or its header is wrong.
    BadSection(u32),
    /// A record holds an index, range or value that is out of bounds or not allowed.
    BadRecord { section: u32, index: u32 },
    /// A regex does not compile with regex-lite.
    BadRegex(u32),
    /// A compressed program (`compress.rs`) is malformed, or declares more than the
    /// loader decompresses.
    BadCompression,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LoadError::TooShort => f.write_str("program shorter than its header"),
            LoadError::BadMagic => f.write_str("not a Switchyard program (bad magic)"),
            LoadError::UnsupportedVersion { major, minor } => {
                write!(f, "unsupported program version {major}.{minor}")
            }
            LoadError::UnknownFlags(flags) => write!(f, "unknown header flags {flags:#x}"),
            LoadError::ReservedNotZero => f.write_str("reserved header word is not zero"),
            LoadError::LengthMismatch { header, actual } => {
                write!(f, "header says {header} bytes, got {actual}")
            }
            LoadError::ChecksumMismatch => f.write_str("checksum mismatch: program damaged"),
            LoadError::BadSectionTable => f.write_str("malformed section table"),
            LoadError::MissingSection(id) => write!(f, "missing section {id}"),
            LoadError::BadSection(id) => write!(f, "malformed section {id}"),
            LoadError::BadRecord { section, index } => {
                write!(f, "bad record {index} in section {section}")
            }
            LoadError::BadRegex(index) => write!(f, "regex {index} does not compile"),
            LoadError::BadCompression => f.write_str("compressed program is damaged"),
        }
    }
}

impl std::error::Error for LoadError {}
