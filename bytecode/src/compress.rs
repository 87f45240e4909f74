//! The compressed container: a program as `switchyard compile --compress` writes it.
//!
//! Programs travel inside Kubernetes objects (a WasmPlugin's `pluginConfig`, an
//! EnvoyFilter), base64-encoded, and etcd refuses objects over 1.5 MiB by default; the
//! fixed-width records also repeat a lot (small indices, zero high bytes, shared path
//! prefixes). An LZ77 pass takes a program to about a third of its size.
//!
//! Layout: the magic `SWYDRTZ\0`, the program's length (`u32`, little-endian), then
//! sequences. A sequence is a token byte (high nibble: literal count, low nibble: match
//! length minus 4; 15 in either means more length bytes follow, each added, until one
//! below 255), the literals, then, unless the input ends there, a match: a `u16` distance
//! back into the output (1..=65 535) and its length. The container holds no checksum: the
//! program inside carries its own CRC, which the loader checks after decompressing.
//!
//! Decompressing is bounded: the output may not exceed the declared length, the declared
//! length may not exceed [`MAX_PROGRAM_LEN`], every read is checked, and any malformed
//! input is [`LoadError::BadCompression`], never a panic.

use crate::error::LoadError;
use crate::wire::{push_u32, u32_at};

/// The first bytes of a compressed program.
pub const COMPRESSED_MAGIC: [u8; 8] = *b"SWYDRTZ\0";
/// The largest program the loader decompresses (100 000 generated rules make 15 MiB), so
/// that a hostile container cannot ask for unbounded memory.
pub const MAX_PROGRAM_LEN: usize = 64 << 20;

const HEADER_LEN: usize = 12;
const MIN_MATCH: usize = 4;
const WINDOW: usize = 65_535;
/// Earlier positions with the same 4-byte hash tried per position: more finds longer
/// matches (a small program compresses to 0.29 of the JSON with 1, 0.22 with 16).
const CHAIN_DEPTH: usize = 16;
const HASH_BITS: u32 = 16;
const NO_POSITION: u32 = u32::MAX;

/// `program` in the compressed container. Deterministic: the same bytes always give the
/// same output.
pub fn compress(program: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(program.len() / 2 + HEADER_LEN);
    out.extend_from_slice(&COMPRESSED_MAGIC);
    // Programs are far below 4 GiB (the writer's offsets are u32).
    push_u32(&mut out, program.len() as u32);
    let mut matcher = Matcher::new(program);
    let (mut i, mut anchor) = (0, 0);
    while i + MIN_MATCH <= program.len() {
        matcher.insert_upto(i);
        let (mut length, mut distance) = matcher.longest(i);
        if length < MIN_MATCH {
            i += 1;
            continue;
        }
        // Lazy matching: a match longer by two or more one byte later is worth a literal.
        let mut at = i;
        if i + 1 + MIN_MATCH <= program.len() {
            matcher.insert_upto(i + 1);
            let (next_length, next_distance) = matcher.longest(i + 1);
            if next_length > length + 1 {
                (at, length, distance) = (i + 1, next_length, next_distance);
            }
        }
        sequence(&mut out, &program[anchor..at], Some((distance, length)));
        i = at + length;
        anchor = i;
    }
    sequence(&mut out, &program[anchor..], None);
    out
}

/// The program inside a compressed container.
pub fn decompress(container: &[u8]) -> Result<Vec<u8>, LoadError> {
    const BAD: LoadError = LoadError::BadCompression;
    if !container.starts_with(&COMPRESSED_MAGIC) {
        return Err(BAD);
    }
    let declared = u32_at(container, COMPRESSED_MAGIC.len()).ok_or(BAD)? as usize;
    if declared > MAX_PROGRAM_LEN {
        return Err(BAD);
    }
    let input = container.get(HEADER_LEN..).ok_or(BAD)?;
    // Reserve what real programs need (they compress to a third), not what a few hostile
    // bytes declare: the output still grows up to `declared` if the input really makes it.
    let mut out: Vec<u8> = Vec::with_capacity(declared.min(input.len().saturating_mul(4)));
    let mut at = 0;
    // The last sequence has literals only; a stream that ends after a match has lost it.
    let mut ended = false;
    while let Some(&token) = input.get(at) {
        at += 1;
        let literals = length(input, &mut at, usize::from(token >> 4)).ok_or(BAD)?;
        let end = at.checked_add(literals).ok_or(BAD)?;
        let bytes = input.get(at..end).ok_or(BAD)?;
        if out.len() + literals > declared {
            return Err(BAD);
        }
        out.extend_from_slice(bytes);
        at = end;
        if at == input.len() {
            ended = true;
            break;
        }
        let distance = input
            .get(at..at + 2)
            .map(|d| usize::from(u16::from_le_bytes([d[0], d[1]])))
            .ok_or(BAD)?;
        at += 2;
        let length = length(input, &mut at, usize::from(token & 0x0F))
            .and_then(|l| l.checked_add(MIN_MATCH))
            .ok_or(BAD)?;
        if distance == 0 || distance > out.len() || out.len() + length > declared {
            return Err(BAD);
        }
        let start = out.len() - distance;
        if distance >= length {
            out.extend_from_within(start..start + length);
        } else {
            // The match overlaps what it writes (a run): byte by byte.
            for k in start..start + length {
                let byte = out.get(k).copied().ok_or(BAD)?;
                out.push(byte);
            }
        }
    }
    if !ended || out.len() != declared {
        return Err(BAD);
    }
    Ok(out)
}

/// A length whose first part is `nibble`: 15 means more bytes follow, each added, up to
/// and including the first below 255.
fn length(input: &[u8], at: &mut usize, nibble: usize) -> Option<usize> {
    let mut total = nibble;
    if nibble == 15 {
        loop {
            let byte = *input.get(*at)?;
            *at += 1;
            total = total.checked_add(usize::from(byte))?;
            if byte != 255 {
                break;
            }
        }
    }
    Some(total)
}

fn sequence(out: &mut Vec<u8>, literals: &[u8], found: Option<(usize, usize)>) {
    let extra = found.map_or(0, |(_, length)| length - MIN_MATCH);
    out.push(((literals.len().min(15) as u8) << 4) | extra.min(15) as u8);
    if literals.len() >= 15 {
        more_length(out, literals.len() - 15);
    }
    out.extend_from_slice(literals);
    if let Some((distance, _)) = found {
        // `longest` only finds distances within the window.
        out.extend_from_slice(&(distance as u16).to_le_bytes());
        if extra >= 15 {
            more_length(out, extra - 15);
        }
    }
}

fn more_length(out: &mut Vec<u8>, mut rest: usize) {
    while rest >= 255 {
        out.push(255);
        rest -= 255;
    }
    out.push(rest as u8);
}

/// Hash chains over the 4-byte sequences seen so far.
struct Matcher<'a> {
    bytes: &'a [u8],
    /// The latest position for each hash.
    head: Vec<u32>,
    /// For each position, the previous one with the same hash.
    previous: Vec<u32>,
    /// Positions below this one are in the chains.
    inserted: usize,
}

impl<'a> Matcher<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Matcher {
            bytes,
            head: vec![NO_POSITION; 1 << HASH_BITS],
            previous: vec![NO_POSITION; bytes.len()],
            inserted: 0,
        }
    }

    fn hash(&self, at: usize) -> usize {
        let word = u32_at(self.bytes, at).unwrap_or(0);
        (word.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
    }

    /// Puts every position below `end` that starts a whole 4-byte sequence in the chains.
    fn insert_upto(&mut self, end: usize) {
        while self.inserted < end && self.inserted + MIN_MATCH <= self.bytes.len() {
            let at = self.inserted;
            let hash = self.hash(at);
            self.previous[at] = self.head[hash];
            self.head[hash] = at as u32;
            self.inserted += 1;
        }
        self.inserted = self.inserted.max(end);
    }

    /// The longest earlier match for position `at` within the window, nearest first on
    /// ties: (length, distance), length 0 when there is none.
    fn longest(&self, at: usize) -> (usize, usize) {
        let (mut best, mut distance) = (0, 0);
        let mut candidate = self.head[self.hash(at)];
        for _ in 0..CHAIN_DEPTH {
            if candidate == NO_POSITION {
                break;
            }
            let from = candidate as usize;
            if from >= at || at - from > WINDOW {
                break;
            }
            let length = self.bytes[from..]
                .iter()
                .zip(&self.bytes[at..])
                .take_while(|(a, b)| a == b)
                .count();
            if length > best {
                (best, distance) = (length, at - from);
            }
            candidate = self.previous[from];
        }
        (best, distance)
    }
}

#[cfg(test)]
mod tests;
