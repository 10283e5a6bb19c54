//! Exact-distribution sampling tables for per-value noise (fast mode).
//!
//! For the four noise corruptions, the output byte depends only on the input byte `v` and
//! independent random draws. So the reference's whole pipeline — `x = v/255`, add/multiply
//! noise or draw a Poisson count, clip to [0, 1], scale by 255, truncate — has, for each `v`, a
//! discrete output distribution over 0..=255 that we can compute in closed form. We tabulate it
//! once per parameter as 256 Walker/Vose alias tables and then need 16 random bits and one table
//! lookup per value: the output has the reference's distribution (up to 2⁻³² probability
//! quantisation) at a small fraction of the cost of generating normals.
//!
//! Sampling a table with a 32-bit word `w`: the top 8 bits pick a column, the low 24 bits are
//! compared with the column's 24-bit threshold; below it the column's own value is output,
//! otherwise its alias ([`NoiseTable::sample`]).
//!
//! # Sixteen bits per value ([`NoiseTable::apply`])
//!
//! Generating the random words (Philox) costs as much as the lookup, and a value almost never
//! needs all 32 bits: once the column (8 bits) is chosen, the next 8 bits `f` decide the
//! comparison with the threshold `t` unless `f` equals the threshold's top byte `t >> 16`
//! (probability 1/256). So each value takes a 16-bit sample `s` (two per word: the low half of
//! word `k` for value `2k`, the high half for `2k + 1`); if `s`'s low byte differs from the
//! threshold's top byte it is decided at once, else the value is *pending* and gets 16 more bits
//! `r` later, and is then sampled with the full word `(s << 16) | r`. Because the first decision
//! agrees with the full comparison whenever it is made, every value is exactly
//! `sample(v, (s << 16) | r)` with uniform `s` and `r`: the same distribution as one 32-bit
//! word per value, from ≈ 16.03 bits per value. The extra bits of a chunk's pending values
//! (in increasing position, two per word) are drawn after the chunk's samples, so the stream
//! does not depend on the SIMD level.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

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
    /// `entries[v * 256 + column] = (threshold24 << 8) | alias`.
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
            e as u8
        }
    }

    /// Corrupt `src` into `dst`: 16 bits from `rng` per value, plus 16 for the ≈ 1/256 pending
    /// values (module docs), chunk by chunk in order.
    pub fn apply(&self, src: &[u8], dst: &mut [u8], rng: &mut dyn RandomSource) {
        let mut words = [0u32; CHUNK / 2];
        let mut pending = Vec::new();
        for (s, d) in src.chunks(CHUNK).zip(dst.chunks_mut(CHUNK)) {
            self.apply_chunk(s, d, rng, &mut words, &mut pending);
        }
    }

    /// [`NoiseTable::apply`] in place (the same draws and bytes as with a separate output).
    pub fn apply_in_place(&self, img: &mut [u8], rng: &mut dyn RandomSource) {
        let mut words = [0u32; CHUNK / 2];
        let mut src = [0u8; CHUNK];
        let mut pending = Vec::new();
        for d in img.chunks_mut(CHUNK) {
            let s = &mut src[..d.len()];
            s.copy_from_slice(d);
            self.apply_chunk(s, d, rng, &mut words, &mut pending);
        }
    }

    fn apply_chunk(
        &self,
        src: &[u8],
        dst: &mut [u8],
        rng: &mut dyn RandomSource,
        words: &mut [u32; CHUNK / 2],
        pending: &mut Vec<u32>,
    ) {
        let w = &mut words[..src.len().div_ceil(2)];
        rng.fill_u32(w);
        pending.clear();
        self.lookup(src, w, dst, pending);
        if pending.is_empty() {
            return;
        }
        let mut extra = vec![0u32; pending.len().div_ceil(2)];
        rng.fill_u32(&mut extra);
        for (j, &i) in pending.iter().enumerate() {
            let i = i as usize;
            let r = half(&extra, j);
            dst[i] = self.sample(src[i], (half(w, i) << 16) | r);
        }
    }

    /// First pass of [`NoiseTable::apply`]: `dst[i]` from the 16-bit sample `i` of `words`
    /// (`words.len() == src.len().div_ceil(2)`), the positions of pending values appended to
    /// `pending` in increasing order (their `dst` holds the column's alias until resolved).
    /// Vectorised where the CPU allows; all paths give the same bytes and list.
    pub fn lookup(&self, src: &[u8], words: &[u32], dst: &mut [u8], pending: &mut Vec<u32>) {
        assert!(dst.len() == src.len() && words.len() == src.len().div_ceil(2));
        dispatch!(Self::lookup_scalar / Self::lookup_avx2(self, src, words, dst, pending))
    }

    /// One value of the first pass: `Ok(byte)` when 16 bits decide it, `Err(alias)` if pending.
    #[inline(always)]
    fn sample16(&self, v: u8, s: u32) -> std::result::Result<u8, u8> {
        let col = s >> 8;
        let e = self.entries[((v as usize) << 8) | col as usize];
        let (f, t) = (s & 0xFF, e >> 24);
        if f < t {
            Ok(col as u8)
        } else if f > t {
            Ok(e as u8)
        } else {
            Err(e as u8)
        }
    }

    /// Scalar twin of [`NoiseTable::lookup`].
    pub fn lookup_scalar(&self, src: &[u8], words: &[u32], dst: &mut [u8], pending: &mut Vec<u32>) {
        self.lookup_scalar_from(0, src, words, dst, pending);
    }

    /// [`NoiseTable::lookup_scalar`] for values `start..` (`start` even, so sample `i` is half
    /// `i` of `words` for every `i` in `start..`); positions recorded as absolute indices.
    fn lookup_scalar_from(
        &self,
        start: usize,
        src: &[u8],
        words: &[u32],
        dst: &mut [u8],
        pending: &mut Vec<u32>,
    ) {
        for i in start..src.len() {
            dst[i] = match self.sample16(src[i], half(words, i)) {
                Ok(b) => b,
                Err(b) => {
                    pending.push(i as u32);
                    b
                }
            };
        }
    }

    /// AVX2 version of [`NoiseTable::lookup`]: 32 values per step, 8 per gather; a step with a
    /// pending value (≈ 12 % of steps) lists its pending positions with the scalar code.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub unsafe fn lookup_avx2(
        &self,
        src: &[u8],
        words: &[u32],
        dst: &mut [u8],
        pending: &mut Vec<u32>,
    ) {
        use std::arch::x86_64::*;
        let n = src.len().min(dst.len()).min(2 * words.len());
        let table = self.entries.as_ptr() as *const i32;
        let byte = _mm256_set1_epi32(0xFF);
        // Output order of the two packs below: dword k of lane l holds values of vector k.
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        let halves = words.as_ptr() as *const u16; // little-endian: low half first
        let mut i = 0;
        while i + 32 <= n {
            let mut out = [_mm256_setzero_si256(); 4];
            let mut amb = _mm256_setzero_si256();
            for (k, o) in out.iter_mut().enumerate() {
                let j = i + 8 * k;
                let v =
                    _mm256_cvtepu8_epi32(_mm_loadl_epi64(src.as_ptr().add(j) as *const __m128i));
                let s = _mm256_cvtepu16_epi32(_mm_loadu_si128(halves.add(j) as *const __m128i));
                let col = _mm256_srli_epi32::<8>(s);
                let idx = _mm256_or_si256(_mm256_slli_epi32::<8>(v), col);
                let e = _mm256_i32gather_epi32::<4>(table, idx);
                let t = _mm256_srli_epi32::<24>(e);
                let f = _mm256_and_si256(s, byte);
                let own = _mm256_cmpgt_epi32(t, f);
                amb = _mm256_or_si256(amb, _mm256_cmpeq_epi32(t, f));
                *o = _mm256_blendv_epi8(_mm256_and_si256(e, byte), col, own);
            }
            let lo = _mm256_packus_epi32(out[0], out[1]);
            let hi = _mm256_packus_epi32(out[2], out[3]);
            let bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(lo, hi), order);
            _mm256_storeu_si256(dst.as_mut_ptr().add(i) as *mut __m256i, bytes);
            if _mm256_testz_si256(amb, amb) == 0 {
                for j in i..i + 32 {
                    if self.sample16(src[j], half(words, j)).is_err() {
                        pending.push(j as u32);
                    }
                }
            }
            i += 32;
        }
        self.lookup_scalar_from(i, &src[..n], words, &mut dst[..n], pending);
    }
}

/// Values per chunk of [`NoiseTable::apply`].
const CHUNK: usize = 8192;

/// 16-bit half `i` of `words`: the low half of word `i / 2` for even `i`, the high half for odd.
#[inline(always)]
fn half(words: &[u32], i: usize) -> u32 {
    (words[i >> 1] >> ((i & 1) * 16)) & 0xFFFF
}

/// Vose's alias method for 256 outcomes; thresholds in units of 2⁻²⁴.
fn build_alias(p: &[f64; 256], out: &mut [u32]) {
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
        out[i] = (threshold[i] << 8) | alias[i] as u32;
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
            p[(e & 0xFF) as usize] += (1.0 - own) / 256.0;
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
        for n in [0usize, 1, 7, 8, 9, 31, 32, 33, 63, 1000, 4099, 8192] {
            let src: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            let mut words: Vec<u32> = (0..n.div_ceil(2)).map(|_| next() as u32).collect();
            if n > 40 {
                // force pending values in the vector part and in the tail
                for i in [3usize, 17, 33, n - 1] {
                    let col = (half(&words, i) >> 8) as usize;
                    let e = t.entries[(src[i] as usize) << 8 | col];
                    let s = (col as u32) << 8 | e >> 24;
                    words[i / 2] = words[i / 2] & !(0xFFFF << (16 * (i % 2))) | s << (16 * (i % 2));
                }
            }
            let (mut a, mut pa) = (vec![0u8; n], Vec::new());
            t.lookup_scalar(&src, &words, &mut a, &mut pa);
            if n > 40 {
                assert!(
                    [3, 17, 33, n as u32 - 1].iter().all(|i| pa.contains(i)),
                    "{pa:?}"
                );
            }
            for isa in simd::available() {
                let (mut c, mut pc) = (vec![0u8; n], Vec::new());
                dispatch!(at isa; NoiseTable::lookup_scalar / NoiseTable::lookup_avx2(&t, &src, &words, &mut c, &mut pc));
                assert_eq!(a, c, "{isa:?} n={n}");
                assert_eq!(pa, pc, "{isa:?} n={n}");
            }
        }
    }

    /// Every output of `apply` is the full 32-bit sampler fed `(s << 16) | r`: `s` the value's
    /// 16-bit half of the chunk's words, `r` the next half of the extra words drawn after them
    /// for pending values, in position order (module docs).
    #[test]
    fn sixteen_bits_per_value_is_the_full_word_sampler() {
        use crate::rng::FastRng;
        let t = NoiseTable::build(NoiseKind::Speckle, 0.35);
        let n = 3 * CHUNK + 777;
        let src: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
        let mut dst = vec![0u8; n];
        t.apply(&src, &mut dst, &mut FastRng::new(11));
        let mut in_place = src.clone();
        t.apply_in_place(&mut in_place, &mut FastRng::new(11));
        assert_eq!(in_place, dst);
        let mut rng = FastRng::new(11);
        let mut pending_total = 0;
        for (k, s) in src.chunks(CHUNK).enumerate() {
            let mut w = vec![0u32; s.len().div_ceil(2)];
            rng.fill_u32(&mut w);
            let pending: Vec<usize> = (0..s.len())
                .filter(|&i| t.sample16(s[i], half(&w, i)).is_err())
                .collect();
            let mut extra = vec![0u32; pending.len().div_ceil(2)];
            rng.fill_u32(&mut extra);
            for (i, &v) in s.iter().enumerate() {
                let r = pending
                    .iter()
                    .position(|&p| p == i)
                    .map_or(0, |j| half(&extra, j));
                let want = t.sample(v, half(&w, i) << 16 | r);
                assert_eq!(dst[k * CHUNK + i], want, "chunk {k} value {i}");
            }
            pending_total += pending.len();
        }
        // ≈ 1/256 of the values are pending
        let rate = pending_total as f64 / n as f64;
        assert!((rate - 1.0 / 256.0).abs() < 0.0015, "pending rate {rate}");
    }

    /// Chi-square statistic of byte `counts` against probabilities `p` (bins expecting fewer
    /// than 20 pooled) and its degrees of freedom.
    fn chi_square(counts: &[f64; 256], p: &[f64; 256]) -> (f64, f64) {
        let n: f64 = counts.iter().sum();
        let (mut chi2, mut bins) = (0.0, 0usize);
        let (mut pool_e, mut pool_o) = (0.0, 0.0);
        for k in 0..256 {
            let e = p[k] * n;
            if e < 20.0 {
                pool_e += e;
                pool_o += counts[k];
            } else {
                chi2 += (counts[k] - e).powi(2) / e;
                bins += 1;
            }
        }
        if pool_e > 0.0 {
            chi2 += (pool_o - pool_e).powi(2) / pool_e.max(1.0);
            bins += 1;
        }
        (chi2, (bins - 1) as f64)
    }

    /// Statistics of the sampled bytes (fast-mode gaussian_noise / speckle_noise / GNT u8):
    /// a chi-square test of 2²⁴ samples per input byte against the exact distribution, and
    /// the frequency of the tail beyond 4σ. As a check of the test's power, the same words
    /// sampled with an 8-bit threshold (pending values decided without their extra bits) must
    /// fail it.
    #[test]
    fn sampled_bytes_follow_the_exact_distribution() {
        use crate::rng::FastRng;
        let n = 1 << 24;
        for (kind, param, v) in [
            (NoiseKind::Gaussian, 0.08, 128u8),
            (NoiseKind::Gaussian, 0.38, 30),
            (NoiseKind::Speckle, 0.6, 200),
        ] {
            let t = NoiseTable::build(kind, param);
            let src = vec![v; n];
            let mut dst = vec![0u8; n];
            t.apply(&src, &mut dst, &mut FastRng::new(v as u64 + 5));
            let mut counts = [0f64; 256];
            dst.iter().for_each(|&b| counts[b as usize] += 1.0);
            let p = distribution(kind, param, v);
            let (chi2, dof) = chi_square(&counts, &p);
            // mean dof, sd sqrt(2 dof): 5 sd is a false alarm rate of ~1e-6
            let limit = dof + 5.0 * (2.0 * dof).sqrt();
            assert!(
                chi2 < limit,
                "{kind:?} {param} v={v}: chi² {chi2} dof {dof}"
            );
            // the coarse sampler on a fresh stream: pending values take their column's value
            let mut words = vec![0u32; n / 2];
            FastRng::new(v as u64 + 5).fill_u32(&mut words);
            let mut coarse = [0f64; 256];
            for i in 0..n {
                let s = half(&words, i);
                let b = t.sample16(v, s).unwrap_or((s >> 8) as u8);
                coarse[b as usize] += 1.0;
            }
            let (bad, _) = chi_square(&coarse, &p);
            assert!(
                bad > limit,
                "{kind:?} {param} v={v}: coarse chi² {bad} only (limit {limit})"
            );
            // tail beyond +4σ of the unclipped noise (Gaussian at v = 128, σ = 0.08: 4σ = 81.6)
            if kind == NoiseKind::Gaussian && v == 128 {
                let lim = (128.0 + 4.0 * 0.08 * 255.0) as usize + 1;
                let got: f64 = counts[lim..].iter().sum::<f64>() / n as f64;
                let want: f64 = p[lim..].iter().sum();
                // want ≈ 3e-5, i.e. ~530 samples: within 5 Poisson sd
                let sd = (want / n as f64).sqrt();
                assert!(
                    (got - want).abs() < 5.0 * sd && want > 1e-5,
                    "tail {got} vs {want}"
                );
            }
        }
    }
}
