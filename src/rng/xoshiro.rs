//! Eight interleaved xoshiro128++ streams (Blackman & Vigna, "Scrambled linear pseudorandom
//! number generators", 2021): raw 32-bit words for bulk noise where the words themselves are
//! the bottleneck.
//!
//! Why not Philox (the fast mode's [`super::FastRng`]): a Philox4x32-10 word costs about six
//! AVX2 instructions (ten rounds of 32×32→64 multiplies done as even/odd halves), which is
//! 40–67 % of an ImageNet-P noise frame. One xoshiro128++ step is three additions, one shift,
//! five xors and two rotations on 128 bits of state; in eight 32-bit lanes of one AVX2 register
//! set that is ~1.8 instructions per word. xoshiro128++ passes BigCrush and PractRand to large
//! sizes; eight lanes seeded with independent random 128-bit states from the caller's generator
//! overlap with probability far below anything a frame could show (period 2¹²⁸ − 1 each).
//!
//! Word order (the same on every path): word `8·t + j` is lane `j`'s output at step `t`.
//! A fill of `n` words runs `⌈n/8⌉` steps; the unused outputs of a last partial step are
//! dropped, so callers that want a stream independent of how they split it pass multiples of 8.

use super::RandomSource;

/// Lanes (one AVX2 register of 32-bit words).
pub const LANES: usize = 8;

/// Eight xoshiro128++ states, structure of arrays: `s[k][j]` is state word `k` of lane `j`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xoshiro8 {
    s: [[u32; LANES]; 4],
}

impl Xoshiro8 {
    /// Lane states from 32 words of `rng` (lane `j` takes words `4j..4j + 4`, in state order).
    /// An all-zero lane state (the one fixed point of xoshiro, probability 2⁻¹²⁸) is replaced by
    /// state `[1, 0, 0, 0]`.
    pub fn from_source(rng: &mut dyn RandomSource) -> Xoshiro8 {
        let mut w = [0u32; 4 * LANES];
        rng.fill_u32(&mut w);
        let mut s = [[0u32; LANES]; 4];
        for j in 0..LANES {
            let lane = &w[4 * j..4 * j + 4];
            for (k, &x) in lane.iter().enumerate() {
                s[k][j] = x;
            }
            if lane.iter().all(|&x| x == 0) {
                s[0][j] = 1;
            }
        }
        Xoshiro8 { s }
    }

    /// Lane states given directly (`states[j]` is lane `j`'s `[s0, s1, s2, s3]`; none may be all
    /// zero).
    pub fn from_states(states: [[u32; 4]; LANES]) -> Xoshiro8 {
        let mut s = [[0u32; LANES]; 4];
        for (j, st) in states.iter().enumerate() {
            assert!(st.iter().any(|&x| x != 0), "lane {j}: all-zero state");
            for (k, &x) in st.iter().enumerate() {
                s[k][j] = x;
            }
        }
        Xoshiro8 { s }
    }

    /// Fill `out` with the next words (see the module docs for the order). Every path gives the
    /// same words and leaves the same state.
    pub fn fill(&mut self, out: &mut [u32]) {
        crate::simd::dispatch!(fill_scalar / fill_avx2(&mut self.s, out))
    }
}

/// One xoshiro128++ step of one lane (the reference algorithm).
#[inline(always)]
fn step(s: &mut [u32; 4]) -> u32 {
    let r = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);
    let t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(11);
    r
}

/// Scalar twin of [`Xoshiro8::fill`].
pub fn fill_scalar(s: &mut [[u32; LANES]; 4], out: &mut [u32]) {
    let mut lanes: [[u32; 4]; LANES] =
        std::array::from_fn(|j| [s[0][j], s[1][j], s[2][j], s[3][j]]);
    for chunk in out.chunks_mut(LANES) {
        let mut r = [0u32; LANES];
        for (r, lane) in r.iter_mut().zip(&mut lanes) {
            *r = step(lane);
        }
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    for (j, lane) in lanes.iter().enumerate() {
        for (k, &x) in lane.iter().enumerate() {
            s[k][j] = x;
        }
    }
}

/// The eight lanes' state in four AVX2 registers, for kernels that use the words as they are
/// made instead of storing and reloading them (ImageNet-P's gaussian offsets: there the
/// words' round trip through memory cost more than making them). [`Avx2Lanes::step`] gives
/// the same words in the same order as [`Xoshiro8::fill`].
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub struct Avx2Lanes([std::arch::x86_64::__m256i; 4]);

#[cfg(target_arch = "x86_64")]
impl Avx2Lanes {
    /// The state of `s` (see [`Xoshiro8`]).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn from_state(s: &[[u32; LANES]; 4]) -> Avx2Lanes {
        use std::arch::x86_64::*;
        Avx2Lanes([
            _mm256_loadu_si256(s[0].as_ptr() as *const __m256i),
            _mm256_loadu_si256(s[1].as_ptr() as *const __m256i),
            _mm256_loadu_si256(s[2].as_ptr() as *const __m256i),
            _mm256_loadu_si256(s[3].as_ptr() as *const __m256i),
        ])
    }

    /// Write the state back.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn to_state(self, s: &mut [[u32; LANES]; 4]) {
        use std::arch::x86_64::*;
        for (k, v) in self.0.into_iter().enumerate() {
            _mm256_storeu_si256(s[k].as_mut_ptr() as *mut __m256i, v);
        }
    }

    /// The lanes of `g`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn load(g: &Xoshiro8) -> Avx2Lanes {
        Avx2Lanes::from_state(&g.s)
    }

    /// Leave `g` where these lanes are (the state a [`Xoshiro8::fill`] of as many words would
    /// have left).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn store(self, g: &mut Xoshiro8) {
        self.to_state(&mut g.s)
    }

    /// The next `out.len()` words, as [`Xoshiro8::fill`] gives them (the unused words of a
    /// last partial step dropped): the tails of the kernels that use [`Avx2Lanes::step`].
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn fill(&mut self, out: &mut [u32]) {
        use std::arch::x86_64::*;
        for chunk in out.chunks_mut(LANES) {
            let mut r = [0u32; LANES];
            _mm256_storeu_si256(r.as_mut_ptr() as *mut __m256i, self.step());
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }

    /// One step of every lane: the next eight words (word `j` from lane `j`).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn step(&mut self) -> std::arch::x86_64::__m256i {
        use std::arch::x86_64::*;
        let [s0, s1, s2, s3] = &mut self.0;
        let sum = _mm256_add_epi32(*s0, *s3);
        let rot = _mm256_or_si256(_mm256_slli_epi32::<7>(sum), _mm256_srli_epi32::<25>(sum));
        let r = _mm256_add_epi32(rot, *s0);
        let t = _mm256_slli_epi32::<9>(*s1);
        *s2 = _mm256_xor_si256(*s2, *s0);
        *s3 = _mm256_xor_si256(*s3, *s1);
        *s1 = _mm256_xor_si256(*s1, *s2);
        *s0 = _mm256_xor_si256(*s0, *s3);
        *s2 = _mm256_xor_si256(*s2, t);
        *s3 = _mm256_or_si256(_mm256_slli_epi32::<11>(*s3), _mm256_srli_epi32::<21>(*s3));
        r
    }
}

/// AVX2 twin of [`Xoshiro8::fill`]: the four state words of the eight lanes in four registers
/// ([`Avx2Lanes`]), one step per eight words; a last partial step goes through a stored vector.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub unsafe fn fill_avx2(s: &mut [[u32; LANES]; 4], out: &mut [u32]) {
    use std::arch::x86_64::*;
    let mut lanes = Avx2Lanes::from_state(s);
    let n = out.len();
    let p = out.as_mut_ptr();
    // two steps per iteration with no tail test inside, then the rest
    let mut i = 0;
    while i + 2 * LANES <= n {
        let a = lanes.step();
        let b = lanes.step();
        _mm256_storeu_si256(p.add(i) as *mut __m256i, a);
        _mm256_storeu_si256(p.add(i + LANES) as *mut __m256i, b);
        i += 2 * LANES;
    }
    while i < n {
        let r = lanes.step();
        if i + LANES <= n {
            _mm256_storeu_si256(p.add(i) as *mut __m256i, r);
        } else {
            let mut tail = [0u32; LANES];
            _mm256_storeu_si256(tail.as_mut_ptr() as *mut __m256i, r);
            out[i..].copy_from_slice(&tail[..n - i]);
        }
        i += LANES;
    }
    lanes.to_state(s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{self, dispatch};

    #[test]
    fn each_lane_is_xoshiro128_plus_plus() {
        // the reference's known answer for state [1, 2, 3, 4] (the first two by hand:
        // rotl(1 + 4, 7) + 1 = 641; after one step s = [7, 0, 1026, 12288], rotl(12295, 7) + 7)
        let mut g = Xoshiro8::from_states([[1, 2, 3, 4]; LANES]);
        let mut w = [0u32; 2 * LANES];
        g.fill(&mut w);
        assert!(w[..LANES].iter().all(|&x| x == 641), "{w:?}");
        assert!(w[LANES..].iter().all(|&x| x == 1_573_767), "{w:?}");
        // distinct lanes: lane j's words are its own stream, interleaved by 8
        let states: [[u32; 4]; LANES] = std::array::from_fn(|j| {
            let j = j as u32;
            [
                0x9E37_79B9 ^ j,
                j.wrapping_mul(0x85EB_CA6B),
                7 + j,
                0xDEAD_BEEF,
            ]
        });
        let mut g = Xoshiro8::from_states(states);
        let mut w = vec![0u32; 8 * 100];
        g.fill(&mut w);
        for (j, st) in states.iter().enumerate() {
            let mut st = *st;
            for t in 0..100 {
                assert_eq!(w[8 * t + j], step(&mut st), "lane {j} step {t}");
            }
        }
    }

    #[test]
    fn twins_give_the_same_words_and_state_for_any_split() {
        let mut seed = crate::rng::FastRng::new(5);
        let g0 = Xoshiro8::from_source(&mut seed);
        for isa in simd::available() {
            for lens in [
                &[64usize][..],
                &[3, 5, 8, 48],
                &[1, 1, 7, 16, 21],
                &[0, 1000],
            ] {
                let mut a = g0.clone();
                let mut b = g0.clone();
                for &n in lens {
                    let mut x = vec![0u32; n];
                    let mut y = vec![0u32; n];
                    fill_scalar(&mut a.s, &mut x);
                    dispatch!(at isa; fill_scalar / fill_avx2(&mut b.s, &mut y));
                    assert_eq!(x, y, "{isa:?} {lens:?}");
                }
                assert_eq!(a, b, "{isa:?} {lens:?}");
            }
        }
        // whole steps: a split at multiples of 8 continues the one stream
        let (mut a, mut b) = (g0.clone(), g0.clone());
        let mut x = vec![0u32; 96];
        a.fill(&mut x);
        let mut y = vec![0u32; 96];
        let (y0, y1) = y.split_at_mut(40);
        b.fill(y0);
        b.fill(y1);
        assert_eq!(x, y);
    }

    #[test]
    fn words_are_uniform_and_lanes_independent() {
        // bit frequencies, byte chi-square, and the correlation of neighbouring words (which
        // come from different lanes) and of a lane's consecutive words
        let mut g = Xoshiro8::from_source(&mut crate::rng::FastRng::new(11));
        let n = 1 << 20;
        let mut w = vec![0u32; n];
        g.fill(&mut w);
        for bit in 0..32 {
            let ones = w.iter().filter(|&&x| (x >> bit) & 1 == 1).count() as f64;
            assert!((ones / n as f64 - 0.5).abs() < 0.003, "bit {bit}: {ones}");
        }
        let mut hist = [0f64; 256];
        for &x in &w {
            hist[(x >> 24) as usize] += 1.0;
        }
        let e = n as f64 / 256.0;
        let chi: f64 = hist.iter().map(|&o| (o - e).powi(2) / e).sum();
        assert!(chi < 350.0, "byte chi-square {chi} (255 dof)");
        let u: Vec<f64> = w.iter().map(|&x| x as f64 / 4294967296.0 - 0.5).collect();
        for lag in [1usize, 7, 8, 9] {
            let c =
                u.iter().zip(&u[lag..]).map(|(a, b)| a * b).sum::<f64>() / (n - lag) as f64 * 12.0;
            assert!(c.abs() < 0.006, "lag {lag}: correlation {c}");
        }
    }
}
