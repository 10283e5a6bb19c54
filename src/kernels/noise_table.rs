//! Exact-distribution sampling tables for per-value noise (fast mode).
//!
//! For the four noise corruptions, the output byte depends only on the input byte `v` and
//! independent random draws. So the reference's whole pipeline — `x = v/255`, add/multiply
//! noise or draw a Poisson count, clip to [0, 1], scale by 255, truncate — has, for each `v`, a
//! discrete output distribution over 0..=255 that we can compute in closed form. We tabulate it
//! once per parameter as 256 Walker/Vose alias tables and then need one 32-bit random word and
//! one table lookup per value: the output has the reference's distribution (up to 2⁻³²
//! probability quantisation) at a small fraction of the cost of generating normals.
//!
//! Word layout: the top 8 bits pick a column, the low 24 bits are compared with the column's
//! threshold; below it the column's own value is output, otherwise its alias.
//!
//! Entry layout: `(threshold24 << 8) | ((alias − column) mod 256)` — the alias stored as its
//! byte offset from the column, so that a kernel makes the output as
//! `(column + (own ? 0 : offset)) mod 256` with an and-not, an add and an and: three single-µop
//! instructions where the blend of column and alias (`vpblendvb`, two or three µops on Intel
//! cores, plus the and that isolates the alias) was four or five. The noise kernels are bound by
//! their vector ALU µops (ImageNet-P's noise frames: ~60 % of them make the xoshiro words), so
//! this is ~3–4 % of an ImageNet-P gaussian frame (BENCHMARKS.md "pnoise3").

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

#[cfg(target_arch = "x86_64")]
use crate::rng::xoshiro::Avx2Lanes;
use crate::rng::xoshiro::Xoshiro8;
use crate::rng::RandomSource;
use crate::simd::dispatch;

/// Which per-value noise a table describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoiseKind {
    /// `x + N(0, σ)`; parameter σ.
    Gaussian,
    /// `Poisson(x·c)/c`; parameter c.
    Shot,
    /// Salt and pepper with amount p (salt:pepper 1:1); parameter p.
    Impulse,
    /// `x + x·N(0, σ)`; parameter σ.
    Speckle,
}

/// How the clipped float result `y ∈ [0, 1]` becomes a byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Quantise {
    /// `trunc(255·y)`: the reference's `np.uint8(...)` (benchmark corruptions; mean bias −0.5 LSB).
    #[default]
    Trunc,
    /// `trunc(255·y + 0.5)`: round to nearest, halves up (training augmentations,
    /// [`crate::augment`]; unbiased away from the clip bounds).
    Round,
}

impl Quantise {
    /// The byte for a float result `y` (clipped to [0, 1] first).
    #[inline]
    pub fn apply(self, y: f64) -> u8 {
        let v = y.clamp(0.0, 1.0) * 255.0;
        match self {
            Quantise::Trunc => v as u8,
            Quantise::Round => (v + 0.5) as u8,
        }
    }

    /// Smallest `y` that gives at least byte `k` (`k` in 1..=255).
    fn threshold(self, k: usize) -> f64 {
        match self {
            Quantise::Trunc => k as f64 / 255.0,
            Quantise::Round => (k as f64 - 0.5) / 255.0,
        }
    }
}

/// 256 alias tables (one per input value) of 256 columns each.
pub struct NoiseTable {
    /// `entries[v * 256 + column] = (threshold24 << 8) | ((alias − column) mod 256)` (module
    /// docs).
    entries: Vec<u32>,
}

/// The cached table for `kind` and `param` (built on first use; tables are immutable, so the
/// output does not depend on whether it came from the cache).
pub fn get(kind: NoiseKind, param: f64) -> Arc<NoiseTable> {
    get_quantised(kind, param, Quantise::Trunc)
}

/// [`get`] with an explicit final quantisation.
pub fn get_quantised(kind: NoiseKind, param: f64, q: Quantise) -> Arc<NoiseTable> {
    type Cache = Mutex<HashMap<(NoiseKind, u64, Quantise), Arc<NoiseTable>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (kind, param.to_bits(), q);
    if let Some(t) = cache.lock().expect("noise table cache poisoned").get(&key) {
        return t.clone();
    }
    let table = Arc::new(NoiseTable::build_quantised(kind, param, q));
    cache
        .lock()
        .expect("noise table cache poisoned")
        .entry(key)
        .or_insert(table)
        .clone()
}

/// Upper tail of the standard normal, `P(Z >= z)`.
fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// Probability of each output 0..=255 given input byte `v` (benchmark truncation).
pub fn distribution(kind: NoiseKind, param: f64, v: u8) -> [f64; 256] {
    distribution_quantised(kind, param, v, Quantise::Trunc)
}

/// Probability of each output 0..=255 given input byte `v`, with quantisation `q`.
pub fn distribution_quantised(kind: NoiseKind, param: f64, v: u8, q: Quantise) -> [f64; 256] {
    let quantise = |y: f64| q.apply(y);
    let x = v as f64 / 255.0;
    let mut p = [0f64; 256];
    // For additive/multiplicative Gaussian noise: P(out >= k) = P(y >= t_k) for k in 1..=255,
    // t_k = k/255 (truncation) or (k − ½)/255 (rounding).
    let from_tail = |tail: &dyn Fn(f64) -> f64, p: &mut [f64; 256]| {
        let mut upper = 1.0; // P(out >= 0)
        for (k, pk) in p.iter_mut().enumerate() {
            let next = if k == 255 {
                0.0
            } else {
                tail(q.threshold(k + 1))
            };
            *pk = (upper - next).max(0.0);
            upper = next;
        }
    };
    match kind {
        NoiseKind::Gaussian if param > 0.0 => from_tail(&|t| normal_sf((t - x) / param), &mut p),
        NoiseKind::Speckle if param > 0.0 && v > 0 => {
            from_tail(&|t| normal_sf((t / x - 1.0) / param), &mut p)
        }
        NoiseKind::Gaussian | NoiseKind::Speckle => p[quantise(x) as usize] = 1.0,
        NoiseKind::Impulse => {
            p[quantise(x) as usize] += 1.0 - param;
            p[0] += param / 2.0;
            p[255] += param / 2.0;
        }
        NoiseKind::Shot => {
            let lam = x * param;
            if lam == 0.0 {
                p[0] = 1.0;
            } else {
                // Counts k with k/c < 1 map individually; everything from ceil(c) up clips to 255.
                let ln_lam = lam.ln();
                let mut cdf = 0.0;
                let mut k = 0u64;
                while (k as f64) / param < 1.0 {
                    let pk = (-lam + k as f64 * ln_lam - libm::lgamma(k as f64 + 1.0)).exp();
                    p[quantise(k as f64 / param) as usize] += pk;
                    cdf += pk;
                    k += 1;
                }
                p[255] += (1.0 - cdf).max(0.0);
            }
        }
    }
    let total: f64 = p.iter().sum();
    p.iter_mut().for_each(|q| *q /= total);
    p
}

impl NoiseTable {
    /// Build the 256 alias tables for `kind` with parameter `param`.
    pub fn build(kind: NoiseKind, param: f64) -> NoiseTable {
        NoiseTable::build_quantised(kind, param, Quantise::Trunc)
    }

    /// [`NoiseTable::build`] with an explicit final quantisation.
    pub fn build_quantised(kind: NoiseKind, param: f64, q: Quantise) -> NoiseTable {
        let mut entries = vec![0u32; 256 * 256];
        for v in 0..256 {
            let p = distribution_quantised(kind, param, v as u8, q);
            build_alias(&p, &mut entries[v * 256..(v + 1) * 256]);
        }
        NoiseTable { entries }
    }

    /// Sample one output for input `v` from a random word (scalar reference of the kernel).
    #[inline(always)]
    pub fn sample(&self, v: u8, word: u32) -> u8 {
        let col = word >> 24;
        let e = self.entries[((v as usize) << 8) | col as usize];
        if (word & 0x00FF_FFFF) < (e >> 8) {
            col as u8
        } else {
            (col as u8).wrapping_add(e as u8)
        }
    }

    /// Corrupt `src` into `dst`, one word from `rng` per value, in order.
    pub fn apply(&self, src: &[u8], dst: &mut [u8], rng: &mut dyn RandomSource) {
        const CHUNK: usize = 8192;
        let mut words = [0u32; CHUNK];
        for (s, d) in src.chunks(CHUNK).zip(dst.chunks_mut(CHUNK)) {
            let w = &mut words[..s.len()];
            rng.fill_u32(w);
            self.lookup(s, w, d);
        }
    }

    /// `dst[i] = sample(src[i], words[i])`, vectorised where the CPU allows.
    pub fn lookup(&self, src: &[u8], words: &[u32], dst: &mut [u8]) {
        dispatch!(Self::lookup_scalar / Self::lookup_avx2(self, src, words, dst))
    }

    /// Scalar twin of [`NoiseTable::lookup`].
    pub fn lookup_scalar(&self, src: &[u8], words: &[u32], dst: &mut [u8]) {
        for ((d, &v), &w) in dst.iter_mut().zip(src).zip(words) {
            *d = self.sample(v, w);
        }
    }

    /// AVX2 version of [`NoiseTable::lookup`]: 8 values per step with a gather.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub unsafe fn lookup_avx2(&self, src: &[u8], words: &[u32], dst: &mut [u8]) {
        use std::arch::x86_64::*;
        let n = src.len().min(words.len()).min(dst.len());
        let table = self.entries.as_ptr() as *const i32;
        let low24 = _mm256_set1_epi32(0x00FF_FFFF);
        let byte = _mm256_set1_epi32(0xFF);
        // Gather byte 0 of each dword into the low 4 bytes of each 128-bit lane.
        let pick = _mm256_setr_epi8(
            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1, -1, -1,
            -1, -1, -1, -1, -1, -1, -1, -1, -1,
        );
        let join = _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1);
        let mut i = 0;
        while i + 8 <= n {
            let v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(src.as_ptr().add(i) as *const __m128i));
            let w = _mm256_loadu_si256(words.as_ptr().add(i) as *const __m256i);
            let col = _mm256_srli_epi32(w, 24);
            let idx = _mm256_or_si256(_mm256_slli_epi32(v, 8), col);
            let e = _mm256_i32gather_epi32(table, idx, 4);
            let own = _mm256_cmpgt_epi32(_mm256_srli_epi32(e, 8), _mm256_and_si256(w, low24));
            let out = alias_or_own(col, e, own, byte);
            let packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(out, pick), join);
            _mm_storel_epi64(
                dst.as_mut_ptr().add(i) as *mut __m128i,
                _mm256_castsi256_si128(packed),
            );
            i += 8;
        }
        self.lookup_scalar(&src[i..n], &words[i..n], &mut dst[i..n]);
    }

    /// `dst[i] = sample(src[i], word i)` with the next `src.len()` words of `gen` (the words,
    /// and the state, that `gen.fill` of as many words would give): ImageNet-P's shot_noise
    /// frames, 30 fresh frames a sequence, where the words' round trip through a buffer
    /// ([`NoiseTable::lookup`]) was as costly as the lookups. The slices have one length.
    pub fn draw(&self, gen: &mut Xoshiro8, src: &[u8], dst: &mut [u8]) {
        assert_eq!(src.len(), dst.len());
        dispatch!(Self::draw_scalar / Self::draw_avx2(self, gen, src, dst))
    }

    /// Scalar twin of [`NoiseTable::draw`]: the words in chunks of 4096 (16 KB, a multiple of
    /// the eight lanes, so the stream does not depend on the chunking).
    pub fn draw_scalar(&self, gen: &mut Xoshiro8, src: &[u8], dst: &mut [u8]) {
        let mut words = [0u32; 4096];
        for (s, d) in src.chunks(4096).zip(dst.chunks_mut(4096)) {
            let w = &mut words[..s.len()];
            gen.fill(w);
            self.lookup_scalar(s, w, d);
        }
    }

    /// AVX2 twin of [`NoiseTable::draw`]: 32 values per step, their words made in registers
    /// ([`Avx2Lanes`], four steps) and used at once, each 8 by one gather from the input
    /// bytes' rows of the table as in [`NoiseTable::lookup_avx2`], the four outputs packed to
    /// bytes together. The loop is bound by vector ALU µops, so each is counted: the row
    /// offsets `v << 8` come from an 8-byte broadcast load (a load, no ALU µop) and one
    /// `vpshufb` that puts byte `j` into byte 1 of lane `j` (instead of a zero-extension and a
    /// shift), the output from [`alias_or_own`], and the packs' lane interleaving is undone by
    /// one `vpermd` at the end. The last `len % 32` values take whole steps' words through a
    /// buffer (unused words of the last step dropped, as `fill` drops them) and the scalar
    /// lookup.
    ///
    /// # Safety
    /// The CPU must support AVX2; the slices have one length.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub unsafe fn draw_avx2(&self, gen: &mut Xoshiro8, src: &[u8], dst: &mut [u8]) {
        use std::arch::x86_64::*;
        let n = src.len().min(dst.len());
        let table = self.entries.as_ptr() as *const i32;
        let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
        let low24 = _mm256_set1_epi32(0x00FF_FFFF);
        let byte = _mm256_set1_epi32(0xFF);
        // byte j of the broadcast 8 bytes (j < 4 in the low 128-bit lane, j ≥ 4 in the high)
        // to byte 1 of 32-bit lane j, zeros elsewhere: `v << 8`
        let rows = _mm256_setr_epi8(
            -1, 0, -1, -1, -1, 1, -1, -1, -1, 2, -1, -1, -1, 3, -1, -1, -1, 4, -1, -1, -1, 5, -1,
            -1, -1, 6, -1, -1, -1, 7, -1, -1,
        );
        // after the packs the dwords hold values 0–3 of each group of 8, then 4–7 of each
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        let mut lanes = Avx2Lanes::load(gen);
        // outputs (0..=255, one per 32-bit lane) of the eight input bytes at `sp + k`
        macro_rules! sample8 {
            ($k:expr) => {{
                let w = lanes.step();
                let col = _mm256_srli_epi32::<24>(w);
                let v8 = _mm256_castpd_si256(_mm256_broadcast_sd(&*(sp.add($k) as *const f64)));
                let idx = _mm256_or_si256(_mm256_shuffle_epi8(v8, rows), col);
                let e = _mm256_i32gather_epi32::<4>(table, idx);
                let own = _mm256_cmpgt_epi32(_mm256_srli_epi32::<8>(e), _mm256_and_si256(w, low24));
                alias_or_own(col, e, own, byte)
            }};
        }
        let mut i = 0;
        while i + 32 <= n {
            let (c0, c1) = (sample8!(i), sample8!(i + 8));
            let (c2, c3) = (sample8!(i + 16), sample8!(i + 24));
            let out = _mm256_packus_epi16(_mm256_packs_epi32(c0, c1), _mm256_packs_epi32(c2, c3));
            _mm256_storeu_si256(
                dp.add(i) as *mut __m256i,
                _mm256_permutevar8x32_epi32(out, order),
            );
            i += 32;
        }
        if i < n {
            let mut words = [0u32; 32];
            lanes.fill(&mut words[..n - i]);
            self.lookup_scalar(&src[i..n], &words[..n - i], &mut dst[i..n]);
        }
        lanes.store(gen);
    }
}

/// The alias-table output of eight 32-bit lanes (AVX2): `col` (0..=255) where `own`
/// (all-ones lanes), otherwise `(col + offset) mod 256` with the alias offset in the low byte
/// of the entry `e` (the entry layout in the module docs; `byte` = 0xFF in every lane).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn alias_or_own(
    col: std::arch::x86_64::__m256i,
    e: std::arch::x86_64::__m256i,
    own: std::arch::x86_64::__m256i,
    byte: std::arch::x86_64::__m256i,
) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    _mm256_and_si256(_mm256_add_epi32(col, _mm256_andnot_si256(own, e)), byte)
}

/// Vose's alias method for 256 outcomes; thresholds in units of 2⁻²⁴, entries in the layout
/// of the module docs (`(threshold24 << 8) | ((alias − column) mod 256)`).
pub(crate) fn build_alias(p: &[f64; 256], out: &mut [u32]) {
    const ONE: f64 = (1u32 << 24) as f64;
    let mut scaled: Vec<f64> = p.iter().map(|q| q * 256.0).collect();
    let mut small: Vec<usize> = Vec::new();
    let mut large: Vec<usize> = Vec::new();
    for (i, &s) in scaled.iter().enumerate() {
        if s < 1.0 {
            small.push(i)
        } else {
            large.push(i)
        }
    }
    let mut threshold = [0u32; 256];
    let mut alias: [u8; 256] = std::array::from_fn(|i| i as u8);
    while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
        small.pop();
        threshold[s] = (scaled[s] * ONE).round().clamp(0.0, ONE - 1.0) as u32;
        alias[s] = l as u8;
        scaled[l] -= 1.0 - scaled[s];
        if scaled[l] < 1.0 {
            large.pop();
            small.push(l);
        }
    }
    // Leftovers (probability 1 up to rounding) always output themselves.
    for i in large.into_iter().chain(small) {
        threshold[i] = (ONE - 1.0) as u32;
        alias[i] = i as u8;
    }
    for i in 0..256 {
        out[i] = (threshold[i] << 8) | u32::from(alias[i].wrapping_sub(i as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// Recover the probabilities an alias table encodes.
    fn decode(t: &NoiseTable, v: u8) -> [f64; 256] {
        let mut p = [0f64; 256];
        for col in 0..256 {
            let e = t.entries[(v as usize) << 8 | col];
            let own = (e >> 8) as f64 / (1u32 << 24) as f64;
            p[col] += own / 256.0;
            p[(col as u8).wrapping_add(e as u8) as usize] += (1.0 - own) / 256.0;
        }
        p
    }

    #[test]
    fn alias_tables_encode_the_distribution() {
        for (kind, param) in [
            (NoiseKind::Gaussian, 0.08),
            (NoiseKind::Gaussian, 0.38),
            (NoiseKind::Shot, 3.0),
            (NoiseKind::Shot, 60.0),
            (NoiseKind::Impulse, 0.27),
            (NoiseKind::Speckle, 0.6),
        ] {
            let t = NoiseTable::build(kind, param);
            for v in [0u8, 1, 17, 128, 200, 254, 255] {
                let want = distribution(kind, param, v);
                let got = decode(&t, v);
                for k in 0..256 {
                    assert!(
                        (want[k] - got[k]).abs() < 1e-6,
                        "{kind:?} {param} v={v} k={k}: {} vs {}",
                        want[k],
                        got[k]
                    );
                }
            }
        }
    }

    #[test]
    fn gaussian_distribution_has_reference_moments() {
        // Away from the clip bounds the output mean is x·255 − 0.5 (truncation) and sd ≈ 255σ.
        let p = distribution(NoiseKind::Gaussian, 0.08, 128);
        let mean: f64 = p.iter().enumerate().map(|(k, q)| k as f64 * q).sum();
        let var: f64 = p
            .iter()
            .enumerate()
            .map(|(k, q)| (k as f64 - mean).powi(2) * q)
            .sum();
        assert!((mean - (128.0 - 0.5)).abs() < 0.05, "{mean}");
        assert!((var.sqrt() - 0.08 * 255.0).abs() < 0.1, "{}", var.sqrt());
    }

    #[test]
    fn rounding_quantisation_removes_the_bias() {
        // Round: mean x·255 exactly by symmetry (no clipping at 128 ± 6σ); every table still
        // encodes its distribution.
        let p = distribution_quantised(NoiseKind::Gaussian, 0.08, 128, Quantise::Round);
        let mean: f64 = p.iter().enumerate().map(|(k, q)| k as f64 * q).sum();
        assert!((mean - 128.0).abs() < 1e-3, "{mean}");
        let p = distribution_quantised(NoiseKind::Speckle, 0.15, 200, Quantise::Round);
        let mean: f64 = p.iter().enumerate().map(|(k, q)| k as f64 * q).sum();
        // speckle clips at 255 (≈ 1.8σ above 200): the mean drops below 200, rounding adds nothing
        assert!(mean < 200.0 && mean > 190.0, "{mean}");
        let t = NoiseTable::build_quantised(NoiseKind::Gaussian, 0.5, Quantise::Round);
        for v in [0u8, 3, 128, 255] {
            let want = distribution_quantised(NoiseKind::Gaussian, 0.5, v, Quantise::Round);
            let got = decode(&t, v);
            assert!(
                want.iter().zip(&got).all(|(a, b)| (a - b).abs() < 1e-6),
                "v={v}"
            );
        }
        // zero noise: rounding reproduces the input byte, truncation of v/255·255 may not
        for v in 0..=255u8 {
            let p = distribution_quantised(NoiseKind::Gaussian, 0.0, v, Quantise::Round);
            assert_eq!(p[v as usize], 1.0, "v={v}");
        }
        assert_eq!(Quantise::Round.apply(0.5 / 255.0), 1);
        assert_eq!(Quantise::Trunc.apply(0.999 / 255.0), 0);
    }

    #[test]
    fn shot_noise_mean_is_input() {
        let p = distribution(NoiseKind::Shot, 60.0, 100);
        let mean: f64 = p.iter().enumerate().map(|(k, q)| k as f64 * q).sum();
        // E[trunc(K/60·255)] ≈ 100 − 0.5 (clipping at 255 is negligible here)
        assert!((mean - 99.5).abs() < 0.6, "{mean}");
    }

    #[test]
    fn simd_lookup_equals_scalar() {
        let t = NoiseTable::build(NoiseKind::Gaussian, 0.18);
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in [0usize, 1, 7, 8, 9, 31, 1000, 4099] {
            let src: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            let words: Vec<u32> = (0..n).map(|_| next() as u32).collect();
            let mut a = vec![0u8; n];
            let mut b = vec![0u8; n];
            t.lookup_scalar(&src, &words, &mut a);
            t.lookup(&src, &words, &mut b);
            assert_eq!(a, b, "n={n}");
            for isa in simd::available() {
                let mut c = vec![0u8; n];
                dispatch!(at isa; NoiseTable::lookup_scalar / NoiseTable::lookup_avx2(&t, &src, &words, &mut c));
                assert_eq!(a, c, "avx2 n={n}");
            }
        }
    }

    /// `draw` (ImageNet-P's shot and speckle frames) follows a speckle table's law on every
    /// ISA: a chi-square of 2¹⁸ values of one input byte against `distribution` (cells under 5
    /// expected pooled), at a low, a middle and a clipping input, so that a wrong row offset,
    /// column, threshold or alias offset in the kernel fails.
    #[test]
    fn draw_follows_the_speckle_law() {
        let t = NoiseTable::build(NoiseKind::Speckle, 0.15);
        let n = 1 << 18;
        for v in [40u8, 120, 230] {
            let law = distribution(NoiseKind::Speckle, 0.15, v);
            let src = vec![v; n];
            for isa in simd::available() {
                let mut g = Xoshiro8::from_source(&mut crate::rng::FastRng::new(u64::from(v)));
                let mut out = vec![0u8; n];
                dispatch!(at isa; NoiseTable::draw_scalar / NoiseTable::draw_avx2(&t, &mut g, &src, &mut out));
                let mut counts = [0f64; 256];
                out.iter().for_each(|&o| counts[usize::from(o)] += 1.0);
                let (mut chi, mut cells, mut po, mut pe) = (0.0, 0usize, 0.0, 0.0);
                for (o, &p) in law.iter().enumerate() {
                    let e = p * n as f64;
                    if e >= 5.0 {
                        chi += (counts[o] - e).powi(2) / e;
                        cells += 1;
                    } else {
                        po += counts[o];
                        pe += e;
                    }
                }
                assert!(
                    po <= pe + 5.0 * pe.sqrt() + 5.0,
                    "{isa:?} v {v}: {po} rare vs {pe}"
                );
                let dof = (cells - 1) as f64;
                assert!(dof > 20.0, "v {v}: {dof}");
                assert!(
                    chi < dof + 6.0 * (2.0 * dof).sqrt(),
                    "{isa:?} v {v}: chi-square {chi} on {dof}"
                );
            }
        }
    }

    /// The twins of `draw` give the bytes of `fill` + `lookup_scalar` on the same words and
    /// leave the generator where `fill` leaves it, at lengths around the 32-value step and the
    /// 4096-word chunk.
    #[test]
    fn draw_twins_equal_fill_then_lookup() {
        let t = NoiseTable::build(NoiseKind::Shot, 60.0);
        let mut gen = Xoshiro8::from_source(&mut crate::rng::FastRng::new(5));
        for n in [0usize, 1, 7, 9, 31, 32, 33, 100, 4095, 4096, 4097, 9000] {
            let src: Vec<u8> = (0..n).map(|i| (i * 89 % 256) as u8).collect();
            let mut w = vec![0u32; n];
            let mut g0 = gen.clone();
            g0.fill(&mut w);
            let mut a = vec![0u8; n];
            t.lookup_scalar(&src, &w, &mut a);
            for isa in simd::available() {
                let mut b = vec![1u8; n];
                let mut g = gen.clone();
                dispatch!(at isa; NoiseTable::draw_scalar / NoiseTable::draw_avx2(&t, &mut g, &src, &mut b));
                assert_eq!(a, b, "{isa:?} n {n}");
                assert_eq!(g, g0, "{isa:?} n {n}: state");
            }
            gen = g0;
        }
    }
}
