//! CPython's `random` module (`random.seed(int)`, `getrandbits`, `randint`), draw for draw.
//!
//! Why: glitch-this, which LAION-C's `glitched` distortion calls with a hard-coded `seed=1`,
//! draws from Python's global `random` and re-seeds it before every shift. Reproducing the
//! released data (`--laion-c-compat`, preset `laion-c-compat`) therefore needs CPython's
//! seeding (`init_by_array` over the 32-bit words of |seed|, not NumPy's `init_genrand`) and
//! its integer sampler (`_randbelow`: rejection on `getrandbits(bit_length(n))`). The MT19937
//! core is [`NumpyRng`]'s; only the seeding and the samplers differ.

use super::numpy::{MtState, NumpyRng, MT_STATE_WORDS};

/// Python's `random.Random` after `seed(n)` for a non-negative integer `n`.
pub struct PyRandom {
    mt: NumpyRng,
}

impl PyRandom {
    /// `random.seed(n)` (CPython ≥ 3.2, integer seeds: the key is |n| in 32-bit words, least
    /// significant first; 0 gives the key `[0]`).
    pub fn new(n: u64) -> PyRandom {
        let key: Vec<u32> = if n >> 32 == 0 {
            vec![n as u32]
        } else {
            vec![n as u32, (n >> 32) as u32]
        };
        let mut mt = [0u32; MT_STATE_WORDS];
        // init_genrand(19650218)
        mt[0] = 19_650_218;
        for i in 1..MT_STATE_WORDS {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        // init_by_array(key)
        let n_words = MT_STATE_WORDS;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..n_words.max(key.len()) {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= n_words {
                mt[0] = mt[n_words - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..n_words - 1 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= n_words {
                mt[0] = mt[n_words - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        let state = MtState {
            key: mt,
            pos: MT_STATE_WORDS,
            gauss: None,
        };
        PyRandom {
            mt: NumpyRng::from_state(&state).expect("a freshly seeded MT19937 state is valid"),
        }
    }

    /// `getrandbits(k)` for `k <= 64` (words filled least significant first, the last one
    /// shifted right to `k mod 32` bits, as CPython does).
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        assert!(k <= 64, "getrandbits: at most 64 bits here");
        if k == 0 {
            return 0;
        }
        if k <= 32 {
            return u64::from(self.mt.next_u32() >> (32 - k));
        }
        let lo = u64::from(self.mt.next_u32());
        let hi = u64::from(self.mt.next_u32() >> (64 - k));
        lo | (hi << 32)
    }

    /// `_randbelow(n)` for `n >= 1`: rejection sampling on `bit_length(n)` bits.
    pub fn randbelow(&mut self, n: u64) -> u64 {
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `randint(a, b)`: uniform on `a..=b` (`b >= a`).
    pub fn randint(&mut self, a: i64, b: i64) -> i64 {
        debug_assert!(b >= a);
        a + self.randbelow((b - a) as u64 + 1) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by CPython 3.11: `random.seed(s); [random.randint(lo, hi) for _ in range(5)]`
    /// (fixtures/laion_c/make_fixtures.py writes the same lists to python_random.json).
    #[test]
    fn matches_cpython_randint() {
        let text = include_str!("../../fixtures/laion_c/python_random.json");
        let cases: Vec<(u64, i64, i64, Vec<i64>)> = serde_json::from_str(text).unwrap();
        assert!(cases.len() >= 5);
        for (seed, lo, hi, want) in cases {
            let mut r = PyRandom::new(seed);
            let got: Vec<i64> = (0..want.len()).map(|_| r.randint(lo, hi)).collect();
            assert_eq!(got, want, "seed {seed}, randint({lo}, {hi})");
        }
    }
}
