use super::{COMPRESSED_MAGIC, MAX_PROGRAM_LEN, compress, decompress};
use crate::error::LoadError;

/// Bytes with the kind of repetition programs have: little-endian words, mostly small.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len / 4)
        .flat_map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let word = match state % 4 {
                0 => 0xFFFF_FFFF,
                1 => (state >> 8) as u32 % 300,
                2 => (state >> 8) as u32 % 20,
                _ => (state >> 8) as u32 % 100_000,
            };
            word.to_le_bytes()
        })
        .collect()
}

#[test]
fn what_is_compressed_decompresses_to_the_same_bytes() {
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![7],
        vec![0; 3],
        vec![0; 100_000],
        b"abcabcabcabcabc".to_vec(),
    ];
    inputs.extend((0..40).map(|n| sample(n * 97 + 5, n as u64 + 1)));
    inputs.push(sample(300_000, 99));
    for input in inputs {
        let packed = compress(&input);
        assert!(packed.starts_with(&COMPRESSED_MAGIC));
        assert_eq!(
            decompress(&packed).as_deref(),
            Ok(input.as_slice()),
            "{} bytes",
            input.len()
        );
    }
}

#[test]
fn repetitive_input_shrinks_and_the_output_is_deterministic() {
    // Real programs shrink to about a third (compiler/tests/compress.rs); these words,
    // a quarter of them arbitrary, only to about half.
    let input = sample(200_000, 7);
    let packed = compress(&input);
    assert!(
        packed.len() * 10 < input.len() * 6,
        "{} of {}",
        packed.len(),
        input.len()
    );
    assert_eq!(compress(&input), packed);
    // Long runs need length bytes beyond the nibble, and overlapping copies.
    let runs = compress(&[0u8; 70_000]);
    assert!(runs.len() < 400, "{}", runs.len());
    assert_eq!(decompress(&runs), Ok(vec![0u8; 70_000]));
}

#[test]
fn every_truncation_and_byte_flip_is_refused_or_decoded_without_panicking() {
    let input = sample(4_000, 3);
    let packed = compress(&input);
    for cut in 0..packed.len() {
        assert_eq!(
            decompress(&packed[..cut]),
            Err(LoadError::BadCompression),
            "cut at {cut}"
        );
    }
    for at in 0..packed.len() {
        for flip in [0x01, 0x10, 0x80, 0xFF] {
            let mut damaged = packed.clone();
            damaged[at] ^= flip;
            // Either refused, or some bytes of the declared length (the program inside
            // then fails its own checks).
            if let Ok(out) = decompress(&damaged) {
                assert!(out.len() <= MAX_PROGRAM_LEN);
            }
        }
    }
}

#[test]
fn a_container_may_not_ask_for_more_than_the_loader_decompresses() {
    let mut huge = COMPRESSED_MAGIC.to_vec();
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    huge.push(0x00);
    assert_eq!(decompress(&huge), Err(LoadError::BadCompression));
    // A match reaching before the start of the output.
    let mut before = COMPRESSED_MAGIC.to_vec();
    before.extend_from_slice(&8u32.to_le_bytes());
    before.extend_from_slice(&[0x10, b'a', 0x02, 0x00]);
    assert_eq!(decompress(&before), Err(LoadError::BadCompression));
    // More output than declared.
    let mut longer = COMPRESSED_MAGIC.to_vec();
    longer.extend_from_slice(&2u32.to_le_bytes());
    longer.extend_from_slice(&[0x30, b'a', b'b', b'c']);
    assert_eq!(decompress(&longer), Err(LoadError::BadCompression));
}
