//! The loader's refusals, one test per rule, plus robustness sweeps: `Program::from_bytes`
//! must refuse every malformed input with a `LoadError` and never panic.
//!
//! Checks that sit behind the checksum are reached by corrupting a field and then
//! recomputing the CRC, so the structural check is the one that refuses.

mod common;

use common::*;
use switchyard_bytecode::checksum::crc32;
use switchyard_bytecode::format::{
    self, HEADER_LEN, MAGIC, NONE, SECTION_ENTRY_LEN, VERSION_MAJOR, VERSION_MINOR, op, pred, record_words,
    section,
};
use switchyard_bytecode::{LoadError, MAX_REGEX_LEN, Program, write_program};

// ---------------------------------------------------------------------------------------
// Byte-level helpers

fn rd(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

fn wr(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

/// Position of section `id`'s entry in the section table.
fn table_pos(bytes: &[u8], id: u32) -> usize {
    let count = rd(bytes, 24) as usize;
    (0..count)
        .map(|i| HEADER_LEN + i * SECTION_ENTRY_LEN)
        .find(|&base| rd(bytes, base) == id)
        .expect("section present")
}

/// (offset, length) of section `id`.
fn sec(bytes: &[u8], id: u32) -> (usize, usize) {
    let base = table_pos(bytes, id);
    (rd(bytes, base + 4) as usize, rd(bytes, base + 8) as usize)
}

/// Number of records in section `id`.
fn records(bytes: &[u8], id: u32) -> u32 {
    (sec(bytes, id).1 / (record_words(id) * 4)) as u32
}

/// Byte offset of word `w` of record `index` of section `id`.
fn at(bytes: &[u8], id: u32, index: u32, w: usize) -> usize {
    assert!(
        index < records(bytes, id),
        "record {index} of section {id} exists"
    );
    sec(bytes, id).0 + (index as usize * record_words(id) + w) * 4
}

fn field(bytes: &[u8], id: u32, index: u32, w: usize) -> u32 {
    rd(bytes, at(bytes, id, index, w))
}

fn put(bytes: &mut [u8], id: u32, index: u32, w: usize, value: u32) {
    let offset = at(bytes, id, index, w);
    wr(bytes, offset, value);
}

/// The first record of section `id` satisfying `pick`.
fn find(bytes: &[u8], id: u32, pick: impl Fn(u32) -> bool) -> u32 {
    (0..records(bytes, id))
        .find(|&i| pick(i))
        .expect("a record to corrupt")
}

fn string_count(bytes: &[u8]) -> u32 {
    rd(bytes, sec(bytes, section::STRINGS).0)
}

/// The id of string `text`.
fn string_id(bytes: &[u8], text: &str) -> u32 {
    let (offset, _) = sec(bytes, section::STRINGS);
    let count = string_count(bytes);
    let blob = offset + 4 + count as usize * 8;
    (0..count)
        .find(|&i| {
            let entry = offset + 4 + i as usize * 8;
            let (start, len) = (rd(bytes, entry) as usize, rd(bytes, entry + 4) as usize);
            &bytes[blob + start..blob + start + len] == text.as_bytes()
        })
        .unwrap_or_else(|| panic!("string {text:?} in the program"))
}

/// Byte offset of the first byte of string `text`.
fn string_pos(bytes: &[u8], text: &str) -> usize {
    let id = string_id(bytes, text);
    let (offset, _) = sec(bytes, section::STRINGS);
    let blob = offset + 4 + string_count(bytes) as usize * 8;
    blob + rd(bytes, offset + 4 + id as usize * 8) as usize
}

fn fix_crc(bytes: &mut [u8]) {
    let crc = crc32(&bytes[HEADER_LEN..]);
    wr(bytes, 20, crc);
}

/// Fixes the length and checksum fields, then loads.
fn load_fixed(mut bytes: Vec<u8>) -> Result<Program, LoadError> {
    let len = bytes.len() as u32;
    if bytes.len() >= HEADER_LEN {
        wr(&mut bytes, 16, len);
        fix_crc(&mut bytes);
    }
    Program::from_bytes(&bytes)
}

/// Applies `edit` to the bytes of `ir`, fixes the checksum and returns the refusal.
fn refusal(ir: &ProgramIr, edit: impl FnOnce(&mut Vec<u8>)) -> LoadError {
    let mut bytes = bytes_of(ir);
    Program::from_bytes(&bytes).expect("the unedited program loads");
    edit(&mut bytes);
    load_fixed(bytes).expect_err("the edited program must be refused")
}

fn bad_record(section: u32, index: u32) -> LoadError {
    LoadError::BadRecord { section, index }
}

use switchyard_bytecode::ir::ProgramIr;

fn full() -> ProgramIr {
    full_program()
}

/// A vhost whose exact-path list, trie-node list and regex list each hold two entries.
fn twin_lists() -> ProgramIr {
    on_port(vec![vhost(
        "a.example.com",
        vec![
            to(exact("/a"), "exact-1").with(method("GET")),
            to(exact("/a"), "exact-2"),
            to(prefix("/p"), "prefix-1").with(method("GET")),
            to(prefix("/p"), "prefix-2"),
            to(regex("/r.*"), "regex-1").with(method("GET")),
            to(regex("/s.*"), "regex-2"),
        ],
    )])
}

// ---------------------------------------------------------------------------------------
// Header

#[test]
fn refuses_too_short() {
    let bytes = bytes_of(&full());
    for len in 0..HEADER_LEN {
        assert_eq!(
            Program::from_bytes(&bytes[..len]).unwrap_err(),
            LoadError::TooShort,
            "len {len}"
        );
    }
}

#[test]
fn refuses_bad_magic() {
    let good = bytes_of(&full());
    for i in 0..MAGIC.len() {
        let mut bytes = good.clone();
        bytes[i] ^= 0x20;
        assert_eq!(
            Program::from_bytes(&bytes).unwrap_err(),
            LoadError::BadMagic,
            "byte {i}"
        );
    }
    // Not even a checksum fix-up helps.
    let mut bytes = good;
    bytes[..8].copy_from_slice(b"SWYDRTE1");
    assert_eq!(load_fixed(bytes).unwrap_err(), LoadError::BadMagic);
}

#[test]
fn refuses_other_major_version() {
    for major in [0, VERSION_MAJOR + 1, u16::MAX] {
        let mut bytes = bytes_of(&full());
        bytes[8..10].copy_from_slice(&major.to_le_bytes());
        let minor = u16::from_le_bytes([bytes[10], bytes[11]]);
        assert_eq!(
            Program::from_bytes(&bytes).unwrap_err(),
            LoadError::UnsupportedVersion { major, minor }
        );
    }
}

#[test]
fn refuses_newer_minor_version() {
    for minor in [VERSION_MINOR + 1, u16::MAX] {
        let mut bytes = bytes_of(&full());
        bytes[10..12].copy_from_slice(&minor.to_le_bytes());
        assert_eq!(
            Program::from_bytes(&bytes).unwrap_err(),
            LoadError::UnsupportedVersion {
                major: VERSION_MAJOR,
                minor
            }
        );
    }
}

#[test]
fn accepts_the_current_version() {
    // The writer stamps the lowest version that expresses a program: this one needs
    // nothing from 1.1 (`tests/format_1_1.rs` covers 1.1 programs).
    let bytes = bytes_of(&full());
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), VERSION_MAJOR);
    assert_eq!(u16::from_le_bytes([bytes[10], bytes[11]]), 0);
    assert!(Program::from_bytes(&bytes).is_ok());
}

#[test]
fn refuses_unknown_flags() {
    for flag in [1u32, 0x8000_0000, u32::MAX] {
        assert_eq!(flag & format::KNOWN_FLAGS, 0, "flag {flag:#x} is unknown");
        let mut bytes = bytes_of(&full());
        wr(&mut bytes, 12, flag);
        assert_eq!(
            Program::from_bytes(&bytes).unwrap_err(),
            LoadError::UnknownFlags(flag)
        );
    }
}

#[test]
fn refuses_length_mismatch() {
    let good = bytes_of(&full());
    let actual = good.len();

    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 4]);
    assert_eq!(
        Program::from_bytes(&longer).unwrap_err(),
        LoadError::LengthMismatch {
            header: actual as u32,
            actual: actual + 4
        }
    );

    let mut wrong = good;
    wr(&mut wrong, 16, actual as u32 - 1);
    assert_eq!(
        Program::from_bytes(&wrong).unwrap_err(),
        LoadError::LengthMismatch {
            header: actual as u32 - 1,
            actual
        }
    );
}

#[test]
fn refuses_checksum_mismatch() {
    let good = bytes_of(&full());
    // Any damaged body byte, and a damaged checksum field.
    for position in [HEADER_LEN, HEADER_LEN + 5, good.len() / 2, good.len() - 1, 20, 23] {
        let mut bytes = good.clone();
        bytes[position] ^= 0x01;
        assert_eq!(
            Program::from_bytes(&bytes).unwrap_err(),
            LoadError::ChecksumMismatch,
            "byte {position}"
        );
    }
}

#[test]
fn refuses_truncated_program_at_every_length() {
    let good = bytes_of(&full());
    for len in 0..good.len() {
        let cut = &good[..len];
        let expected = if len < HEADER_LEN {
            LoadError::TooShort
        } else {
            LoadError::LengthMismatch {
                header: good.len() as u32,
                actual: len,
            }
        };
        assert_eq!(Program::from_bytes(cut).unwrap_err(), expected, "len {len}");
        // With the length and checksum fixed up, a structural check must still refuse.
        assert!(
            load_fixed(cut.to_vec()).is_err(),
            "len {len} with header fixed up loads"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Section table

#[test]
fn refuses_too_many_sections() {
    let count = section::ALL.len() as u32;
    for bad in [count + 1, u32::MAX] {
        assert_eq!(refusal(&full(), |b| wr(b, 24, bad)), LoadError::BadSectionTable);
    }
}

#[test]
fn refuses_section_table_past_end() {
    // A header claiming all sections on bytes too short to hold the table.
    let good = bytes_of(&full());
    let short = good[..HEADER_LEN + 3 * SECTION_ENTRY_LEN].to_vec();
    assert_eq!(load_fixed(short).unwrap_err(), LoadError::BadSectionTable);
}

#[test]
fn refuses_unknown_section_id() {
    for id in [0, 19, u32::MAX] {
        let err = refusal(&full(), |b| {
            let base = table_pos(b, section::OPS);
            wr(b, base, id);
        });
        assert_eq!(err, LoadError::BadSectionTable, "id {id}");
    }
}

#[test]
fn refuses_duplicate_section() {
    let err = refusal(&full(), |b| {
        let base = table_pos(b, section::OPS);
        wr(b, base, section::ACTIONS);
    });
    assert_eq!(err, LoadError::BadSectionTable);
}

#[test]
fn refuses_misaligned_section() {
    let err = refusal(&full(), |b| {
        let base = table_pos(b, section::META);
        let offset = rd(b, base + 4);
        wr(b, base + 4, offset + 1);
        wr(b, base + 8, 0);
    });
    assert_eq!(err, LoadError::BadSectionTable);
}

#[test]
fn refuses_section_out_of_bounds() {
    let len = bytes_of(&full()).len() as u32;
    for (offset, length) in [
        (len, 4),
        (len - 4, 8),
        (4 * (len / 4), u32::MAX),
        (u32::MAX - 3, 4),
    ] {
        let err = refusal(&full(), |b| {
            let base = table_pos(b, section::META);
            wr(b, base + 4, offset);
            wr(b, base + 8, length);
        });
        assert_eq!(err, LoadError::BadSectionTable, "offset {offset} len {length}");
    }
}

#[test]
fn refuses_section_overlapping_the_table() {
    let err = refusal(&full(), |b| {
        let base = table_pos(b, section::OPS);
        wr(b, base + 4, HEADER_LEN as u32);
    });
    assert_eq!(err, LoadError::BadSectionTable);
}

#[test]
fn refuses_overlapping_sections() {
    let err = refusal(&full(), |b| {
        // ACTIONS grows by one word into whatever follows it.
        let (_, len) = sec(b, section::ACTIONS);
        let base = table_pos(b, section::ACTIONS);
        wr(b, base + 8, len as u32 + 4);
    });
    assert_eq!(err, LoadError::BadSectionTable);
}

#[test]
fn refuses_missing_section() {
    // Drop the last table entry; the sections still lie after the shorter table.
    let last_id = *section::ALL.last().unwrap();
    let err = refusal(&full(), |b| {
        let count = rd(b, 24);
        let last = HEADER_LEN + (count as usize - 1) * SECTION_ENTRY_LEN;
        let id = rd(b, last);
        assert_eq!(id, last_id);
        wr(b, 24, count - 1);
    });
    assert_eq!(err, LoadError::MissingSection(last_id));
}

#[test]
fn refuses_partial_record() {
    for id in [
        section::LISTENERS,
        section::VHOSTS,
        section::ENTRIES,
        section::BACKENDS,
    ] {
        let err = refusal(&full(), |b| {
            let base = table_pos(b, id);
            let len = rd(b, base + 8);
            wr(b, base + 8, len - 4);
        });
        assert_eq!(err, LoadError::BadSection(id));
    }
}

// ---------------------------------------------------------------------------------------
// Strings and meta

#[test]
fn refuses_string_table_longer_than_its_section() {
    let err = refusal(&full(), |b| {
        let (offset, _) = sec(b, section::STRINGS);
        wr(b, offset, u32::MAX);
    });
    assert_eq!(err, LoadError::BadSection(section::STRINGS));
}

#[test]
fn refuses_string_outside_its_section() {
    let err = refusal(&full(), |b| {
        let id = string_id(b, "foo-exact");
        let (offset, len) = sec(b, section::STRINGS);
        wr(b, offset + 4 + id as usize * 8 + 4, len as u32);
    });
    assert!(
        matches!(
            err,
            LoadError::BadRecord {
                section: section::STRINGS,
                ..
            }
        ),
        "{err:?}"
    );

    let err = refusal(&full(), |b| {
        let (offset, _) = sec(b, section::STRINGS);
        wr(b, offset + 4, u32::MAX);
        wr(b, offset + 8, 2);
    });
    assert_eq!(err, bad_record(section::STRINGS, 0));
}

#[test]
fn refuses_invalid_utf8_string() {
    let err = refusal(&full(), |b| {
        let id = string_id(b, "foo-exact");
        let pos = string_pos(b, "foo-exact");
        b[pos] = 0xFF;
        assert!(id < string_count(b));
    });
    assert!(
        matches!(
            err,
            LoadError::BadRecord {
                section: section::STRINGS,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_bad_meta() {
    // Sets META word `i` to `value(bytes)`.
    let meta = |i: usize, value: fn(&[u8]) -> u32| {
        refusal(&full(), move |b| {
            let v = value(b);
            let m = sec(b, section::META).0;
            wr(b, m + i * 4, v);
        })
    };
    let bad = LoadError::BadSection(section::META);
    // Routing header or target not a string.
    assert_eq!(meta(0, string_count), bad);
    assert_eq!(meta(1, |_| NONE), bad);
    // Routing header not a lowercase header name.
    assert_eq!(meta(0, |b| string_id(b, "/exact")), bad);
    // Needed-header count disagreeing with the section length.
    assert_eq!(meta(2, |b| rd(b, sec(b, section::META).0 + 8) + 1), bad);
    assert_eq!(meta(2, |_| u32::MAX), bad);
    // A needed header that is not a header name, or not a string.
    assert_eq!(meta(3, |b| string_id(b, "/teapot")), bad);
    assert_eq!(meta(3, string_count), bad);
    // Uppercase in a needed header name.
    assert_eq!(
        refusal(&full(), |b| {
            let p = string_pos(b, "x-canary");
            b[p] = b'X'
        }),
        bad
    );
}

#[test]
fn refuses_out_of_range_string_index() {
    // Every string field of every record kind, pointed one past the last string.
    let cases: &[(u32, usize)] = &[
        (section::REGEXES, 0),
        (section::VHOSTS, 6),
        (section::SERVICES, 0),
        (section::SERVICES, 1),
        (section::SOURCES, 1),
        (section::SOURCES, 2),
    ];
    for &(id, w) in cases {
        let err = refusal(&full(), |b| {
            let n = string_count(b);
            put(b, id, 0, w, n);
        });
        assert_eq!(err, bad_record(id, 0), "section {id} word {w}");
    }
    // Keys of hash slots and backend clusters (NONE is allowed there, one past is not).
    let err = refusal(&full(), |b| {
        let slot = find(b, section::HOST_SLOTS, |i| {
            field(b, section::HOST_SLOTS, i, 0) != NONE
        });
        let n = string_count(b);
        put(b, section::HOST_SLOTS, slot, 0, n);
    });
    assert!(
        matches!(
            err,
            LoadError::BadRecord {
                section: section::HOST_SLOTS,
                ..
            }
        ),
        "{err:?}"
    );
    let err = refusal(&full(), |b| {
        let slot = find(b, section::PATH_SLOTS, |i| {
            field(b, section::PATH_SLOTS, i, 0) != NONE
        });
        let n = string_count(b);
        put(b, section::PATH_SLOTS, slot, 0, n);
    });
    assert!(
        matches!(
            err,
            LoadError::BadRecord {
                section: section::PATH_SLOTS,
                ..
            }
        ),
        "{err:?}"
    );
    let err = refusal(&full(), |b| {
        let n = string_count(b);
        put(b, section::BACKENDS, 0, 2, n);
    });
    assert_eq!(err, bad_record(section::BACKENDS, 0));
    let err = refusal(&full(), |b| {
        let n = string_count(b);
        put(b, section::TRIE_EDGES, 0, 0, n);
    });
    assert!(
        matches!(
            err,
            LoadError::BadRecord {
                section: section::TRIE_EDGES | section::TRIE_NODES,
                ..
            }
        ),
        "{err:?}"
    );
    // Predicate operands and a reply body.
    let err = refusal(&full(), |b| {
        let p = find(b, section::PREDICATES, |i| {
            field(b, section::PREDICATES, i, 0) == u32::from(pred::METHOD)
        });
        let n = string_count(b);
        put(b, section::PREDICATES, p, 1, n);
    });
    assert!(
        matches!(
            err,
            LoadError::BadRecord {
                section: section::PREDICATES,
                ..
            }
        ),
        "{err:?}"
    );
    let err = refusal(&full(), |b| {
        let o = find(b, section::OPS, |i| {
            field(b, section::OPS, i, 0) == u32::from(op::REPLY) && field(b, section::OPS, i, 2) != NONE
        });
        let n = string_count(b);
        put(b, section::OPS, o, 2, n);
    });
    assert!(
        matches!(
            err,
            LoadError::BadRecord {
                section: section::OPS,
                ..
            }
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Listeners and hosts

#[test]
fn refuses_unsorted_listeners() {
    let err = refusal(&full(), |b| {
        assert_eq!(records(b, section::LISTENERS), 2);
        let (first, second) = (
            field(b, section::LISTENERS, 0, 0),
            field(b, section::LISTENERS, 1, 0),
        );
        put(b, section::LISTENERS, 0, 0, second);
        put(b, section::LISTENERS, 1, 0, first);
    });
    assert_eq!(err, bad_record(section::LISTENERS, 1));
    // Equal ports are not strictly ascending either.
    let err = refusal(&full(), |b| {
        let first = field(b, section::LISTENERS, 0, 0);
        put(b, section::LISTENERS, 1, 0, first);
    });
    assert_eq!(err, bad_record(section::LISTENERS, 1));
}

#[test]
fn refuses_host_table_not_power_of_two() {
    let err = refusal(&full(), |b| {
        let len = field(b, section::LISTENERS, 0, 2);
        assert!(len >= 4);
        put(b, section::LISTENERS, 0, 2, len - 1);
    });
    assert_eq!(err, bad_record(section::LISTENERS, 0));
}

#[test]
fn refuses_host_table_out_of_bounds() {
    for (start, len) in [(NONE, 1), (0, 1 << 30), (1, NONE)] {
        let err = refusal(&full(), |b| {
            put(b, section::LISTENERS, 0, 1, start);
            put(b, section::LISTENERS, 0, 2, len);
        });
        assert_eq!(err, bad_record(section::LISTENERS, 0), "start {start} len {len}");
    }
}

#[test]
fn refuses_default_vhost_out_of_range() {
    let err = refusal(&full(), |b| {
        let n = records(b, section::VHOSTS);
        put(b, section::LISTENERS, 0, 3, n);
    });
    assert_eq!(err, bad_record(section::LISTENERS, 0));
}

#[test]
fn refuses_host_slot_to_missing_vhost() {
    let mut slot = 0;
    let err = refusal(&full(), |b| {
        slot = find(b, section::HOST_SLOTS, |i| {
            field(b, section::HOST_SLOTS, i, 0) != NONE
        });
        let n = records(b, section::VHOSTS);
        put(b, section::HOST_SLOTS, slot, 1, n);
    });
    assert_eq!(err, bad_record(section::HOST_SLOTS, slot));
}

#[test]
fn refuses_backwards_vhost_fallback() {
    // A fallback must point strictly further down the table, so chains always end.
    let bytes = bytes_of(&full());
    let falls: Vec<u32> = (0..records(&bytes, section::VHOSTS))
        .filter(|&v| field(&bytes, section::VHOSTS, v, 0) != NONE)
        .collect();
    assert!(falls.len() >= 2, "the sample has fallbacks");
    for &v in &falls {
        for target in [v, 0] {
            if target > v {
                continue;
            }
            let err = refusal(&full(), |b| put(b, section::VHOSTS, v, 0, target));
            assert_eq!(
                err,
                bad_record(section::VHOSTS, v),
                "vhost {v} falling back to {target}"
            );
        }
    }
}

#[test]
fn refuses_vhost_fallback_out_of_range() {
    let err = refusal(&full(), |b| {
        let n = records(b, section::VHOSTS);
        put(b, section::VHOSTS, 0, 0, n);
    });
    assert_eq!(err, bad_record(section::VHOSTS, 0));
}

#[test]
fn refuses_path_table_not_power_of_two() {
    let err = refusal(&full(), |b| {
        let v = find(b, section::VHOSTS, |v| field(b, section::VHOSTS, v, 2) >= 2);
        let len = field(b, section::VHOSTS, v, 2);
        // One more slot: still inside PATH_SLOTS, no longer a power of two.
        put(b, section::VHOSTS, v, 2, len + 1);
    });
    assert!(
        matches!(
            err,
            LoadError::BadRecord {
                section: section::VHOSTS,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_vhost_trie_root_out_of_range() {
    let err = refusal(&full(), |b| {
        let n = records(b, section::TRIE_NODES);
        put(b, section::VHOSTS, 0, 3, n);
    });
    assert_eq!(err, bad_record(section::VHOSTS, 0));
}

// ---------------------------------------------------------------------------------------
// Entry lists and tries

/// Swaps the two ids of a two-entry list at ENTRY_LISTS `start`.
fn swap_list(b: &mut [u8], start: u32) {
    let (x, y) = (
        field(b, section::ENTRY_LISTS, start, 0),
        field(b, section::ENTRY_LISTS, start + 1, 0),
    );
    assert!(x < y);
    put(b, section::ENTRY_LISTS, start, 0, y);
    put(b, section::ENTRY_LISTS, start + 1, 0, x);
}

#[test]
fn refuses_unsorted_entry_list() {
    // The evaluator merges candidate lists by entry id, so each must be ascending.
    // Exact-path list:
    let mut slot = 0;
    let err = refusal(&twin_lists(), |b| {
        slot = find(b, section::PATH_SLOTS, |i| {
            field(b, section::PATH_SLOTS, i, 0) != NONE
        });
        assert_eq!(field(b, section::PATH_SLOTS, slot, 2), 2);
        let start = field(b, section::PATH_SLOTS, slot, 1);
        swap_list(b, start);
    });
    assert_eq!(err, bad_record(section::PATH_SLOTS, slot));
    // Trie-node list:
    let mut node = 0;
    let err = refusal(&twin_lists(), |b| {
        node = find(b, section::TRIE_NODES, |i| {
            field(b, section::TRIE_NODES, i, 3) == 2
        });
        let start = field(b, section::TRIE_NODES, node, 2);
        swap_list(b, start);
    });
    assert_eq!(err, bad_record(section::TRIE_NODES, node));
    // Regex list:
    let err = refusal(&twin_lists(), |b| {
        assert_eq!(field(b, section::VHOSTS, 0, 5), 2);
        let start = field(b, section::VHOSTS, 0, 4);
        swap_list(b, start);
    });
    assert_eq!(err, bad_record(section::VHOSTS, 0));
}

#[test]
fn refuses_repeated_entry_in_list() {
    let err = refusal(&twin_lists(), |b| {
        let start = field(b, section::VHOSTS, 0, 4);
        let first = field(b, section::ENTRY_LISTS, start, 0);
        put(b, section::ENTRY_LISTS, start + 1, 0, first);
    });
    assert_eq!(err, bad_record(section::VHOSTS, 0));
}

#[test]
fn refuses_entry_list_out_of_bounds() {
    for (start, len) in [(NONE, 1), (0, NONE), (1, u32::MAX - 1)] {
        let err = refusal(&twin_lists(), |b| {
            put(b, section::VHOSTS, 0, 4, start);
            put(b, section::VHOSTS, 0, 5, len);
        });
        assert_eq!(err, bad_record(section::VHOSTS, 0), "start {start} len {len}");
    }
}

#[test]
fn refuses_list_entry_out_of_range() {
    let err = refusal(&twin_lists(), |b| {
        let n = records(b, section::ENTRIES);
        let last = records(b, section::ENTRY_LISTS) - 1;
        put(b, section::ENTRY_LISTS, last, 0, n);
    });
    assert!(matches!(err, LoadError::BadRecord { .. }), "{err:?}");
    // Even a list no vhost uses is checked.
    let err = refusal(&twin_lists(), |b| {
        let n = records(b, section::ENTRIES);
        let (offset, len) = sec(b, section::ENTRY_LISTS);
        let _ = offset;
        assert!(len >= 4);
        put(b, section::ENTRY_LISTS, 0, 0, n + 100);
    });
    assert!(matches!(err, LoadError::BadRecord { .. }), "{err:?}");
}

#[test]
fn refuses_unsorted_trie_edges() {
    // The evaluator binary-searches a node's edges.
    let mut node = 0;
    let err = refusal(&full(), |b| {
        node = find(b, section::TRIE_NODES, |i| {
            field(b, section::TRIE_NODES, i, 1) >= 2
        });
        let edge = field(b, section::TRIE_NODES, node, 0);
        let (x, y) = (
            field(b, section::TRIE_EDGES, edge, 0),
            field(b, section::TRIE_EDGES, edge + 1, 0),
        );
        put(b, section::TRIE_EDGES, edge, 0, y);
        put(b, section::TRIE_EDGES, edge + 1, 0, x);
    });
    assert_eq!(err, bad_record(section::TRIE_NODES, node));
}

#[test]
fn refuses_trie_edges_out_of_bounds() {
    let err = refusal(&full(), |b| {
        let n = records(b, section::TRIE_EDGES);
        put(b, section::TRIE_NODES, 0, 0, n);
        put(b, section::TRIE_NODES, 0, 1, 1);
    });
    assert_eq!(err, bad_record(section::TRIE_NODES, 0));
}

#[test]
fn refuses_trie_edge_to_missing_node() {
    let err = refusal(&full(), |b| {
        let n = records(b, section::TRIE_NODES);
        put(b, section::TRIE_EDGES, 0, 1, n);
    });
    assert_eq!(err, bad_record(section::TRIE_EDGES, 0));
}

// ---------------------------------------------------------------------------------------
// Entries, predicates, actions

#[test]
fn refuses_entry_with_out_of_range_fields() {
    for (w, what) in [(2, "action"), (3, "source")] {
        let err = refusal(&full(), |b| {
            let n = records(
                b,
                if w == 2 {
                    section::ACTIONS
                } else {
                    section::SOURCES
                },
            );
            put(b, section::ENTRIES, 0, w, n);
        });
        assert_eq!(err, bad_record(section::ENTRIES, 0), "{what}");
    }
    for (start, len) in [(NONE, 1), (0, NONE), (1, u32::MAX)] {
        let err = refusal(&full(), |b| {
            put(b, section::ENTRIES, 0, 0, start);
            put(b, section::ENTRIES, 0, 1, len);
        });
        assert_eq!(err, bad_record(section::ENTRIES, 0), "predicates {start}+{len}");
    }
}

#[test]
fn refuses_unknown_predicate_opcode() {
    for code in [0u32, u32::from(pred::MAX) + 1, 0xFF] {
        let err = refusal(&full(), |b| put(b, section::PREDICATES, 0, 0, code));
        assert_eq!(err, bad_record(section::PREDICATES, 0), "opcode {code}");
    }
}

#[test]
fn refuses_predicate_flags() {
    let err = refusal(&full(), |b| {
        let head = field(b, section::PREDICATES, 0, 0);
        // Bits above the known NEGATE and IGNORE_CASE flags.
        put(b, section::PREDICATES, 0, 0, head | 0x8000);
    });
    assert_eq!(err, bad_record(section::PREDICATES, 0));
}

#[test]
fn refuses_header_predicate_on_non_header_name() {
    for code in [
        pred::HEADER_EXACT,
        pred::HEADER_REGEX,
        pred::HEADER_PRESENT,
        pred::HEADER_ABSENT,
    ] {
        let mut p = 0;
        let err = refusal(&full(), |b| {
            p = find(b, section::PREDICATES, |i| {
                field(b, section::PREDICATES, i, 0) == u32::from(code)
            });
            let path = string_id(b, "/exact");
            put(b, section::PREDICATES, p, 1, path);
        });
        assert_eq!(err, bad_record(section::PREDICATES, p), "opcode {code}");
    }
}

#[test]
fn refuses_regex_index_out_of_range() {
    for code in [pred::HEADER_REGEX, pred::QUERY_REGEX, pred::PATH_REGEX] {
        let mut p = 0;
        let err = refusal(&full(), |b| {
            p = find(b, section::PREDICATES, |i| {
                field(b, section::PREDICATES, i, 0) == u32::from(code)
            });
            let n = records(b, section::REGEXES);
            put(b, section::PREDICATES, p, 2, n);
        });
        assert_eq!(err, bad_record(section::PREDICATES, p), "opcode {code}");
    }
}

#[test]
fn refuses_unknown_opcode() {
    for code in [0u32, u32::from(op::MAX) + 1, 0xFF] {
        let err = refusal(&full(), |b| put(b, section::OPS, 0, 0, code));
        // The op itself is refused; its action (checked first) is refused for lacking a
        // terminal op.
        assert!(
            err == bad_record(section::OPS, 0)
                || matches!(
                    err,
                    LoadError::BadRecord {
                        section: section::ACTIONS,
                        ..
                    }
                ),
            "opcode {code}: {err:?}"
        );
    }
    // An op no action uses is still checked: point the last action at op 0, leaving the
    // last op unused, then corrupt that op.
    let last_op = records(&bytes_of(&full()), section::OPS) - 1;
    let err = refusal(&full(), |b| {
        let last_action = records(b, section::ACTIONS) - 1;
        assert_eq!(field(b, section::ACTIONS, last_action, 0), last_op);
        put(b, section::ACTIONS, last_action, 0, 0);
        put(b, section::OPS, last_op, 0, 0x7F);
    });
    assert_eq!(err, bad_record(section::OPS, last_op));
}

#[test]
fn refuses_op_flags() {
    let err = refusal(&full(), |b| {
        let last = records(b, section::OPS) - 1;
        let head = field(b, section::OPS, last, 0);
        put(b, section::OPS, last, 0, head | 0x100);
    });
    let last = records(&bytes_of(&full()), section::OPS) - 1;
    assert_eq!(err, bad_record(section::OPS, last));
}

#[test]
fn refuses_action_without_one_terminal_op() {
    // Empty action.
    let err = refusal(&full(), |b| put(b, section::ACTIONS, 0, 1, 0));
    assert_eq!(err, bad_record(section::ACTIONS, 0));
    // Two terminal ops in one action.
    let err = refusal(&full(), |b| put(b, section::ACTIONS, 0, 1, 2));
    assert_eq!(err, bad_record(section::ACTIONS, 0));
    // Out of bounds.
    let err = refusal(&full(), |b| {
        let n = records(b, section::OPS);
        put(b, section::ACTIONS, 0, 0, n);
        put(b, section::ACTIONS, 0, 1, 1);
    });
    assert_eq!(err, bad_record(section::ACTIONS, 0));
    let err = refusal(&full(), |b| put(b, section::ACTIONS, 0, 1, NONE));
    assert_eq!(err, bad_record(section::ACTIONS, 0));
}

#[test]
fn refuses_reply_status_out_of_range() {
    for status in [0, 99, 600, NONE] {
        let mut o = 0;
        let err = refusal(&full(), |b| {
            o = find(b, section::OPS, |i| {
                field(b, section::OPS, i, 0) == u32::from(op::REPLY)
            });
            put(b, section::OPS, o, 1, status);
        });
        assert_eq!(err, bad_record(section::OPS, o), "status {status}");
    }
}

#[test]
fn refuses_forward_to_missing_backend_set() {
    let mut o = 0;
    let err = refusal(&full(), |b| {
        o = find(b, section::OPS, |i| {
            field(b, section::OPS, i, 0) == u32::from(op::FORWARD)
        });
        let n = records(b, section::BACKEND_SETS);
        put(b, section::OPS, o, 1, n);
    });
    assert_eq!(err, bad_record(section::OPS, o));
}

// ---------------------------------------------------------------------------------------
// Backends, services, sources

#[test]
fn refuses_backend_weight_total_mismatch() {
    let mut set = 0;
    let err = refusal(&full(), |b| {
        set = find(b, section::BACKEND_SETS, |i| {
            field(b, section::BACKEND_SETS, i, 1) >= 2
        });
        let total = field(b, section::BACKEND_SETS, set, 2);
        put(b, section::BACKEND_SETS, set, 2, total + 1);
    });
    assert_eq!(err, bad_record(section::BACKEND_SETS, set));
    // Changing a weight without the total is refused too.
    let err = refusal(&full(), |b| {
        let weight = field(b, section::BACKENDS, 0, 1);
        put(b, section::BACKENDS, 0, 1, weight + 1);
    });
    assert!(
        matches!(
            err,
            LoadError::BadRecord {
                section: section::BACKEND_SETS,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_weights_summing_past_u32() {
    // The total is a u32 field; weights that overflow it cannot agree with it.
    let err = refusal(&full(), |b| {
        let set = find(b, section::BACKEND_SETS, |i| {
            field(b, section::BACKEND_SETS, i, 1) >= 2
        });
        let first = field(b, section::BACKEND_SETS, set, 0);
        put(b, section::BACKENDS, first, 1, u32::MAX);
        put(b, section::BACKENDS, first + 1, 1, 1);
        put(b, section::BACKEND_SETS, set, 2, 0);
    });
    assert!(
        matches!(
            err,
            LoadError::BadRecord {
                section: section::BACKEND_SETS,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_backend_set_out_of_bounds() {
    for (start, len) in [(NONE, 1), (0, NONE)] {
        let err = refusal(&full(), |b| {
            put(b, section::BACKEND_SETS, 0, 0, start);
            put(b, section::BACKEND_SETS, 0, 1, len);
        });
        assert_eq!(err, bad_record(section::BACKEND_SETS, 0));
    }
}

#[test]
fn refuses_empty_cluster_name() {
    // An empty cluster would make the plugin set an empty routing header.
    let mut backend = 0;
    let err = refusal(&full(), |b| {
        let cluster = string_id(b, "foo-exact");
        backend = find(b, section::BACKENDS, |i| {
            field(b, section::BACKENDS, i, 2) == cluster
        });
        let (offset, _) = sec(b, section::STRINGS);
        wr(b, offset + 4 + cluster as usize * 8 + 4, 0);
    });
    assert_eq!(err, bad_record(section::BACKENDS, backend));
}

#[test]
fn refuses_backend_service_out_of_range() {
    let err = refusal(&full(), |b| {
        let n = records(b, section::SERVICES);
        put(b, section::BACKENDS, 0, 0, n);
    });
    assert_eq!(err, bad_record(section::BACKENDS, 0));
}

#[test]
fn refuses_unknown_source_kind() {
    for kind in [0, u32::from(format::source_kind::MAX) + 1, NONE] {
        let err = refusal(&full(), |b| put(b, section::SOURCES, 0, 0, kind));
        assert_eq!(err, bad_record(section::SOURCES, 0), "kind {kind}");
    }
}

// ---------------------------------------------------------------------------------------
// Regexes

#[test]
fn refuses_bad_regex() {
    let ir = on_port(vec![vhost("*", vec![to(regex("/a(b)c"), "re")])]);
    let err = refusal(&ir, |b| {
        // `^(?:/a(b)c)$` -> `^(?:/a(b(c)$`: unbalanced.
        let pos = string_pos(b, "^(?:/a(b)c)$");
        b[pos + 8] = b'(';
    });
    assert_eq!(err, LoadError::BadRegex(0));
}

#[test]
fn refuses_overlong_regex() {
    let long = "a".repeat(MAX_REGEX_LEN + 1);
    let ir = on_port(vec![vhost("*", vec![to(regex(&long), "re")])]);
    let bytes = write_program(&ir).expect("the writer does not bound regex length");
    assert_eq!(Program::from_bytes(&bytes).unwrap_err(), LoadError::BadRegex(0));
    // At the limit it loads.
    let ok = "a".repeat(MAX_REGEX_LEN);
    assert!(Program::from_bytes(&bytes_of(&on_port(vec![vhost("*", vec![to(regex(&ok), "re")])]))).is_ok());
}

#[test]
fn refuses_regex_over_size_limit() {
    // Short text, huge automaton: bounded by the loader's compiled-size limit.
    let pattern = "((((a{100}){100}){100}){100})";
    assert!(pattern.len() < MAX_REGEX_LEN);
    let ir = on_port(vec![vhost(
        "*",
        vec![to(PathIr::Exact("/".into()), "x").with(header_regex("x-a", pattern))],
    )]);
    match write_program(&ir) {
        Ok(bytes) => assert_eq!(Program::from_bytes(&bytes).unwrap_err(), LoadError::BadRegex(0)),
        Err(err) => assert!(matches!(err, WriteError::BadRegex { .. }), "{err:?}"),
    }
}

use switchyard_bytecode::WriteError;
use switchyard_bytecode::ir::PathIr;

#[test]
fn refuses_cyclic_trie() {
    // An edge back to its own node (or any node not below it) would make walks over the
    // trie (the listing's) loop forever.
    let mut root = 0;
    let err = refusal(&full(), |b| {
        root = field(b, section::VHOSTS, 0, 3);
        let edge = field(b, section::TRIE_NODES, root, 0);
        put(b, section::TRIE_EDGES, edge, 1, root);
    });
    assert_eq!(err, bad_record(section::TRIE_NODES, root));
    // Edges are written children first, so a child always has a lower index.
    let mut node = 0;
    let err = refusal(&full(), |b| {
        let roots: Vec<u32> = (0..records(b, section::VHOSTS))
            .map(|v| field(b, section::VHOSTS, v, 3))
            .collect();
        let last_root = *roots.iter().max().unwrap();
        node = find(b, section::TRIE_NODES, |i| {
            field(b, section::TRIE_NODES, i, 1) > 0
        });
        let edge = field(b, section::TRIE_NODES, node, 0);
        put(b, section::TRIE_EDGES, edge, 1, last_root);
    });
    assert_eq!(err, bad_record(section::TRIE_NODES, node));
}

#[test]
fn refuses_trie_node_with_two_parents() {
    // Two edges to one node: a DAG, whose walks can take exponential time.
    let mut parent = 0;
    let err = refusal(&full(), |b| {
        parent = find(b, section::TRIE_NODES, |i| {
            field(b, section::TRIE_NODES, i, 1) >= 2
        });
        let edge = field(b, section::TRIE_NODES, parent, 0);
        let child = field(b, section::TRIE_EDGES, edge, 1);
        put(b, section::TRIE_EDGES, edge + 1, 1, child);
    });
    assert_eq!(err, bad_record(section::TRIE_NODES, parent));
}

// ---------------------------------------------------------------------------------------
// Robustness sweeps

/// A program that loaded must evaluate like `reference` on every probe request.
fn same_behaviour(program: &Program, reference: &Program) -> bool {
    probe_requests()
        .iter()
        .all(|r| outcome(&r.eval(program)) == outcome(&r.eval(reference)))
}

#[test]
fn every_byte_flip_is_caught_without_crc_fixup() {
    let good = bytes_of(&full());
    let reference = Program::from_bytes(&good).unwrap();
    for position in 0..good.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut bytes = good.clone();
            bytes[position] ^= mask;
            match Program::from_bytes(&bytes) {
                // CRC-32 detects every single-byte error in the body.
                Err(err) if position >= HEADER_LEN => assert_eq!(err, LoadError::ChecksumMismatch),
                Err(_) => {}
                Ok(program) => {
                    assert!(position < HEADER_LEN, "flip at body byte {position} loaded");
                    // Only an ignored header byte can be flipped harmlessly.
                    assert!(
                        same_behaviour(&program, &reference),
                        "flip at header byte {position}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_byte_flip_with_crc_fixup_loads_or_errors() {
    for ir in sample_programs() {
        let good = bytes_of(&ir);
        let (mut loaded, mut refused) = (0, 0);
        for position in 0..good.len() {
            for mask in [0x01u8, 0x80, 0xFF] {
                let mut bytes = good.clone();
                bytes[position] ^= mask;
                fix_crc(&mut bytes);
                match Program::from_bytes(&bytes) {
                    Ok(program) => {
                        exercise(&program);
                        loaded += 1;
                    }
                    Err(_) => refused += 1,
                }
            }
        }
        // Both outcomes occur: flips in string bytes or weights load, flips in indices
        // are refused.
        assert!(refused > 0 && loaded > 0, "loaded {loaded}, refused {refused}");
    }
}

/// xorshift64: a fixed, dependency-free stream of pseudo-random numbers.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Values that sit on the boundaries the loader checks.
fn interesting_word(rng: &mut XorShift, len: usize) -> u32 {
    const FIXED: [u32; 16] = [
        0,
        1,
        2,
        3,
        4,
        7,
        8,
        0x7F,
        0x80,
        0xFF,
        0x100,
        0xFFFF,
        0x7FFF_FFFF,
        0x8000_0000,
        u32::MAX - 1,
        u32::MAX,
    ];
    match rng.below(4) {
        0 => (len as u32).wrapping_add(rng.below(9) as u32).wrapping_sub(4),
        1 => rng.below(64) as u32,
        _ => FIXED[rng.below(FIXED.len())],
    }
}

/// One random mutation of `bytes`, possibly using `other` as splice material.
fn mutate(rng: &mut XorShift, bytes: &mut Vec<u8>, other: &[u8]) {
    let len = bytes.len();
    match rng.below(6) {
        // Flip one to four bytes.
        0 => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(len);
                bytes[i] ^= 1 + rng.below(255) as u8;
            }
        }
        // Truncate.
        1 => bytes.truncate(rng.below(len)),
        // Overwrite a range with bytes from another program.
        2 => {
            let n = 1 + rng.below(64);
            let from = rng.below(other.len().saturating_sub(n));
            let to = rng.below(len.saturating_sub(n));
            let n = n.min(other.len() - from).min(len - to);
            bytes[to..to + n].copy_from_slice(&other[from..from + n]);
        }
        // Insert or delete a run of bytes (shifts every later offset).
        3 => {
            let at = rng.below(len);
            if rng.below(2) == 0 {
                let n = 1 + rng.below(16);
                bytes.drain(at..(at + n).min(len));
            } else {
                let n = 1 + rng.below(16);
                let from = rng.below(other.len().saturating_sub(n));
                let chunk: Vec<u8> = other[from..(from + n).min(other.len())].to_vec();
                bytes.splice(at..at, chunk);
            }
        }
        // Overwrite aligned words with boundary values (indices, lengths, counts).
        _ => {
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(len / 4) * 4;
                if i + 4 <= len {
                    let value = interesting_word(rng, len);
                    wr(bytes, i, value);
                }
            }
        }
    }
}

#[test]
fn mutated_programs_load_or_error_and_loaded_ones_evaluate() {
    let samples: Vec<Vec<u8>> = sample_programs().iter().map(bytes_of).collect();
    let mut rng = XorShift(0x5EED_CAFE_F00D_D00D);
    let iterations = if cfg!(debug_assertions) { 20_000 } else { 100_000 };
    let (mut loaded, mut changed_and_loaded) = (0, 0);
    for _ in 0..iterations {
        let original = &samples[rng.below(samples.len())];
        let other = &samples[rng.below(samples.len())];
        let mut bytes = original.clone();
        for _ in 0..1 + rng.below(3) {
            if !bytes.is_empty() {
                mutate(&mut rng, &mut bytes, other);
            }
        }
        // Mostly fix the length and checksum so the structural checks are reached.
        if rng.below(8) != 0 && bytes.len() >= HEADER_LEN {
            let len = bytes.len() as u32;
            wr(&mut bytes, 16, len);
            fix_crc(&mut bytes);
        }
        if let Ok(program) = Program::from_bytes(&bytes) {
            exercise(&program);
            loaded += 1;
            if bytes != *original {
                changed_and_loaded += 1;
            }
        }
    }
    // The sweep reaches the evaluator with damaged-but-valid programs, not just refusals.
    assert!(
        changed_and_loaded > iterations / 200,
        "only {changed_and_loaded} of {loaded} loads were mutants"
    );
}

// ---------------------------------------------------------------------------------------
// Round trip

#[test]
fn round_trip_listing_shows_every_entry() {
    let ir = full();
    let bytes = bytes_of(&ir);
    let program = Program::from_bytes(&bytes).unwrap();
    assert_eq!(program.as_bytes(), &bytes[..]);
    assert_eq!(program.routing_header(), "x-switchyard-cluster");
    assert_eq!(program.target(), "gateway test/gw");
    assert_eq!(program.entry_count(), 13);
    assert_eq!(program.listener_ports().collect::<Vec<_>>(), [80, 8080]);
    assert!(program.needs_headers());
    assert_eq!(
        program.needed_headers().collect::<Vec<_>>(),
        ["x-canary", "x-env"]
    );
    let a = program.backend_by_cluster("foo-a").expect("foo-a");
    assert_eq!(a.weight, 3);
    let service = a.service.expect("a service");
    assert_eq!(
        (service.namespace, service.name, service.port),
        ("default", "foo-a", 8080)
    );
    assert!(program.backend_by_cluster("nope").is_none());

    let listing = program.listing();
    let expected = [
        "program: gateway test/gw (",
        "routing header: x-switchyard-cluster",
        "listener :80",
        "  vhost 0 foo.example.com (then vhost 2)",
        "        0  path = /exact && method = POST  =>  forward foo-exact*1  [HTTPRoute default/foo-exact rule 0 match 0]",
        "        1  path prefix /api/v1 && header x-canary = \"true\"  =>  forward foo-api*1  [HTTPRoute default/foo-api rule 1 match 0]",
        "        2  path prefix /api && query version = \"v2\"  =>  forward foo-a*3, foo-b*1, foo-c*0  [HTTPRoute default/foo-weighted rule 0 match 0]",
        "        3  path prefix /broken  =>  forward foo-ok*1, <unresolved: 500>*1",
        "  vhost 1 *.b.example.com",
        "        4  path = /only  =>  forward b-only*1",
        "  vhost 2 *.example.com (then vhost 3)",
        "        5  path prefix /static && header x-env present  =>  forward wild-static*1",
        "        6  path prefix /static && header x-env absent  =>  forward wild-static-anon*1",
        "        7  path ~ ^(?:/u/[0-9]+/profile)$ && query q ~ ^(?:hello.*)$ && header x-env ~ ^(?:prod(,canary)?)$  =>  forward wild-profile*1",
        "  vhost 3 *",
        "        8  path = /teapot  =>  reply 418",
        "        9  path prefix /none  =>  forward <no backends: 500>",
        "       10  path prefix /zero  =>  forward zero-a*0, zero-b*0",
        "       11  path prefix /  =>  forward default*1",
        "listener :8080",
        "  vhost 4 other.test",
        "       12  path prefix /  =>  reply 503",
    ];
    let lines: Vec<&str> = listing.lines().collect();
    for line in expected {
        assert!(
            lines.iter().any(|l| l.starts_with(line)),
            "missing {line:?} in\n{listing}"
        );
    }
    // Entries appear in evaluation order.
    let numbers: Vec<u32> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("    ")?.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(numbers, (0..13).collect::<Vec<_>>());
    // The source of an entry round-trips.
    let source = program.source(1);
    assert_eq!((source.name, source.rule, source.match_index), ("foo-api", 1, 0));
    assert_eq!(source.to_string(), "HTTPRoute default/foo-api rule 1 match 0");
}

#[test]
fn writing_is_deterministic_and_ignores_input_order() {
    let ir = full();
    assert_eq!(bytes_of(&ir), bytes_of(&ir));
    let mut shuffled = ir.clone();
    shuffled.listeners.reverse();
    for listener in &mut shuffled.listeners {
        listener.vhosts.reverse();
    }
    assert_eq!(bytes_of(&shuffled), bytes_of(&ir));
}

#[test]
fn empty_program_loads_and_answers_404() {
    let program = load(&program(Vec::new()));
    assert_eq!(program.entry_count(), 0);
    assert_eq!(get("a", "/").route(&program), "status 404");
}

#[test]
fn refuses_nonzero_reserved_header_word() {
    let mut bytes = write_program(&full_program()).unwrap();
    bytes[28] = 1;
    assert_eq!(
        Program::from_bytes(&bytes).unwrap_err(),
        LoadError::ReservedNotZero
    );
}

/// A compressed program loads as the program inside it; a damaged container, or a
/// container inside a container, is refused without panicking.
#[test]
fn a_compressed_program_loads_as_the_program_inside() {
    use switchyard_bytecode::compress::compress;
    let plain = write_program(&full()).unwrap();
    let packed = compress(&plain);
    assert!(packed.len() < plain.len());
    let program = Program::from_bytes(&packed).unwrap();
    assert_eq!(program.as_bytes(), plain.as_slice());
    for cut in 0..packed.len() {
        assert!(Program::from_bytes(&packed[..cut]).is_err(), "cut at {cut}");
    }
    for at in 0..packed.len() {
        let mut damaged = packed.clone();
        damaged[at] ^= 0x41;
        // Whatever comes out is verified like any program, so a damaged one never
        // loads; a flip may still decode to the same bytes (a match's distance to an
        // identical earlier run), which is then the intact program.
        if let Ok(program) = Program::from_bytes(&damaged) {
            assert_eq!(program.as_bytes(), plain.as_slice(), "flip at {at}");
        }
    }
    assert_eq!(
        Program::from_bytes(&compress(&packed)).err(),
        Some(LoadError::BadMagic)
    );
}
