//! A small PRNG for weighted backend choice: xorshift64*, seeded once per VM. Weighted
//! routing needs uniformity, not unpredictability, and a host call per request would
//! cost more than the whole evaluation.

#[derive(Debug, Clone)]
pub struct Random(u64);

impl Random {
    pub fn seeded(seed: u64) -> Self {
        // Any non-zero state works; mix the seed so nearby seeds diverge at once.
        Random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}
