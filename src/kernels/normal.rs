//! Fast f32 standard normals from raw 32-bit random words (Box–Muller with polynomial
//! `ln`/`sin`/`cos`), for the training-noise augmentations ([`crate::augment`]).
//!
//! Why not the ziggurat of [`crate::rng::FastRng`]: noise training touches ~150 k values per
//! 224×224×3 image and the target is ≈ 1 ns per value including the add-and-clip; a branchy
//! per-value f64 sampler costs several times that. Box–Muller turns two words into two normals
//! with no branches and no rejection, so it vectorises completely. Generating the random words
//! (Philox) costs about as much as the transform, so the angle uses 16 bits instead of a whole
//! word: 16 normals take 10 words.
//!
//! # Word → normal mapping (the same in every kernel)
//!
//! Words are consumed in blocks of [`WORDS_PER_BLOCK`] = 10 giving [`BLOCK`] = 16 normals.
//! Lane `j` (0..8) uses `w = words[j]` and byte `b` = byte `j` of `words[8..10]` (little-endian:
//! bytes 0–3 of `words[8]`, then of `words[9]`), and writes `out[j] = r·x`, `out[8 + j] = r·y`:
//!
//! * `u1 = ((w >> 8) + 1) · 2⁻²⁴ ∈ (0, 1]` (24 random bits, so `r = sqrt(−2 ln u1)` is at most
//!   `sqrt(48 ln 2) ≈ 5.77`: the normal is truncated beyond ±5.77σ, probability ≈ 8·10⁻⁹);
//! * the 16-bit angle `a = b·256 + (w & 0xFF)` gives quadrant `q = a >> 14` and
//!   `φ = (f − ½)·π/2` with `f = (2·(a & 0x3FFF) + 1) · 2⁻¹⁵` (the centre of one of 2¹⁴ cells):
//!   65 536 equally spaced angles, symmetric about both axes (rotated by −π/4, which does not
//!   change the distribution); `(x, y)` is `(cos φ, sin φ)` turned by `q` quarter turns (swap
//!   and sign flips, exact). An angular resolution of 10⁻⁴ rad is invisible in the marginal
//!   distribution of `r·cos θ`;
//! * `ln` is the Cephes `logf` polynomial, `sin`/`cos` the Cephes `sinf`/`cosf` polynomials on
//!   [−π/4, π/4] (max. error a few ulp, far below what matters for noise).
//!
//! The scalar twin performs exactly the same f32 operations in the same order (no fused
//! multiply-add anywhere, `sqrt` is correctly rounded in both), so all kernels are bit-identical;
//! `avx2_matches_scalar` checks it.

use crate::kernels::scratch::Buf;
use crate::rng::RandomSource;
use crate::simd::dispatch;

/// Normals produced per block.
pub const BLOCK: usize = 16;
/// Random words consumed per block.
pub const WORDS_PER_BLOCK: usize = 10;

/// Words needed for `n` values (whole blocks).
pub fn words_for(n: usize) -> usize {
    n.div_ceil(BLOCK) * WORDS_PER_BLOCK
}

const INV_2_24: f32 = 1.0 / 16_777_216.0;
const INV_2_15: f32 = 1.0 / 32_768.0;
const SQRTHF: f32 = std::f32::consts::FRAC_1_SQRT_2;
// Cephes logf polynomial.
const L0: f32 = 7.037_683_6e-2;
const L1: f32 = -1.151_461_1e-1;
const L2: f32 = 1.167_699_9e-1;
const L3: f32 = -1.242_014_1e-1;
const L4: f32 = 1.424_932_3e-1;
const L5: f32 = -1.666_805_8e-1;
const L6: f32 = 2.000_071_4e-1;
const L7: f32 = -2.499_999_4e-1;
#[allow(clippy::excessive_precision)] // Cephes' published digits
const L8: f32 = 3.333_333_1e-1;
const LN2_LO: f32 = -2.121_944_4e-4;
const LN2_HI: f32 = 0.693_359_4;
// Cephes sinf / cosf polynomials on [-pi/4, pi/4].
const S0: f32 = -1.951_529_6e-4;
const S1: f32 = 8.332_161e-3;
const S2: f32 = -1.666_665_5e-1;
const C0: f32 = 2.443_315_7e-5;
const C1: f32 = -1.388_731_6e-3;
const C2: f32 = 4.166_664_6e-2;

/// Fill `out` with standard normals computed from `words` (see the module docs for the mapping).
///
/// `out.len()` must be a multiple of [`BLOCK`] and `words.len()` equal [`words_for`]`(out.len())`.
/// Dispatches to AVX2 when the CPU allows; every path gives the same bits.
///
/// # Panics
/// If the lengths do not match.
pub fn standard_normals(words: &[u32], out: &mut [f32]) {
    assert_eq!(out.len() % BLOCK, 0, "whole blocks of {BLOCK} only");
    assert_eq!(words.len(), words_for(out.len()), "10 words per 16 normals");
    dispatch!(standard_normals_scalar / standard_normals_avx2(words, out))
}

/// `n` fast-mode standard normals drawn from `rng`'s raw words ([`standard_normals`] on
/// [`words_for`] words): the buffer holds `n` rounded up to whole [`BLOCK`]s, the first `n`
/// being the values to use. The fast-mode layers of spatter and snow draw their normals here
/// instead of the generator's per-value f64 sampler (several times cheaper, see the module
/// docs); only their distribution matters there.
pub fn fast_standard_normals(rng: &mut dyn RandomSource, n: usize) -> Buf<f32> {
    let m = n.next_multiple_of(BLOCK);
    let mut words = Buf::<u32>::take(words_for(m));
    rng.fill_u32(&mut words);
    let mut z = Buf::<f32>::take(m);
    standard_normals(&words, &mut z);
    z
}

/// `ln(u)` for `u ∈ (0, 1]` (Cephes `logf`), the operation sequence shared with the AVX2 twin.
#[inline(always)]
fn ln_unit(u: f32) -> f32 {
    let bits = u.to_bits();
    let e = ((bits >> 23) as i32 - 126) as f32;
    let m = f32::from_bits((bits & 0x007F_FFFF) | 0x3F00_0000); // [0.5, 1)
    let small = m < SQRTHF;
    let e = e - if small { 1.0 } else { 0.0 };
    let x = (m + if small { m } else { 0.0 }) - 1.0;
    let z = x * x;
    let mut y = L0 * x + L1;
    y = y * x + L2;
    y = y * x + L3;
    y = y * x + L4;
    y = y * x + L5;
    y = y * x + L6;
    y = y * x + L7;
    y = y * x + L8;
    y = (y * x) * z;
    y += e * LN2_LO;
    y -= 0.5 * z;
    let r = x + y;
    r + e * LN2_HI
}

/// One Box–Muller pair from a word and an angle byte (scalar reference of the kernels).
#[inline(always)]
fn pair(w1: u32, byte: u8) -> (f32, f32) {
    let u1 = ((w1 >> 8) + 1) as f32 * INV_2_24;
    let r = (ln_unit(u1) * -2.0).sqrt();
    // The 16-bit angle in the top half of w2: quadrant in bits 31..30, cell in bits 29..16.
    let w2 = ((byte as u32) << 24) | ((w1 & 0xFF) << 16);
    let f = ((((w2 >> 16) & 0x3FFF) << 1) | 1) as f32 * INV_2_15;
    let phi = (f - 0.5) * std::f32::consts::FRAC_PI_2;
    let z = phi * phi;
    let mut sp = S0 * z + S1;
    sp = sp * z + S2;
    let s = (sp * z) * phi + phi;
    let mut cp = C0 * z + C1;
    cp = cp * z + C2;
    let c = ((cp * z) * z - 0.5 * z) + 1.0;
    // Quadrant q = w2 >> 30: swap when q is odd, negate x for q in {1, 2}, y for q in {2, 3}.
    let (x, y) = if w2 & 0x4000_0000 != 0 {
        (s, c)
    } else {
        (c, s)
    };
    let sign_x = ((w2 >> 30) ^ (w2 >> 31)) << 31;
    let sign_y = w2 & 0x8000_0000;
    let x = f32::from_bits(x.to_bits() ^ sign_x);
    let y = f32::from_bits(y.to_bits() ^ sign_y);
    (r * x, r * y)
}

/// Scalar twin of [`standard_normals`].
pub fn standard_normals_scalar(words: &[u32], out: &mut [f32]) {
    for (w, o) in words
        .chunks_exact(WORDS_PER_BLOCK)
        .zip(out.chunks_exact_mut(BLOCK))
    {
        let bytes = [w[8].to_le_bytes(), w[9].to_le_bytes()];
        for j in 0..BLOCK / 2 {
            let (a, b) = pair(w[j], bytes[j / 4][j % 4]);
            o[j] = a;
            o[j + BLOCK / 2] = b;
        }
    }
}

/// AVX2 twin of [`standard_normals`]: one block (8 pairs) per step, same operations as
/// [`standard_normals_scalar`] lane by lane.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub unsafe fn standard_normals_avx2(words: &[u32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    let blocks = (out.len() / BLOCK).min(words.len() / WORDS_PER_BLOCK);
    for k in 0..blocks {
        let (a, b) = block_avx2(words.as_ptr().add(k * WORDS_PER_BLOCK));
        _mm256_storeu_ps(out.as_mut_ptr().add(k * BLOCK), a);
        _mm256_storeu_ps(out.as_mut_ptr().add(k * BLOCK + 8), b);
    }
}

/// The 16 normals of the block of words at `w` (AVX2), as two vectors (`out[0..8]`,
/// `out[8..16]` of the mapping).
///
/// # Safety
/// AVX2 required; `w` must point to [`WORDS_PER_BLOCK`] readable `u32`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn block_avx2(w: *const u32) -> (std::arch::x86_64::__m256, std::arch::x86_64::__m256) {
    use std::arch::x86_64::*;
    let ps = _mm256_set1_ps;
    let mant = _mm256_set1_epi32(0x007F_FFFF);
    let half_exp = _mm256_set1_epi32(0x3F00_0000);
    let c126 = _mm256_set1_epi32(126);
    let one = ps(1.0);
    let cell = _mm256_set1_epi32(0x3FFF);
    let top = _mm256_set1_epi32(0x8000_0000u32 as i32);
    let w1 = _mm256_loadu_si256(w as *const __m256i);
    // byte j of words[8..10] → lane j
    let bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(w.add(8) as *const __m128i));
    let w2 = _mm256_or_si256(
        _mm256_slli_epi32::<24>(bytes),
        _mm256_slli_epi32::<16>(_mm256_and_si256(w1, _mm256_set1_epi32(0xFF))),
    );
    // u1 and ln(u1)
    let k = _mm256_add_epi32(_mm256_srli_epi32::<8>(w1), _mm256_set1_epi32(1));
    let u1 = _mm256_mul_ps(_mm256_cvtepi32_ps(k), ps(INV_2_24));
    let bits = _mm256_castps_si256(u1);
    let e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32::<23>(bits), c126));
    let m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, mant), half_exp));
    let small = _mm256_cmp_ps::<_CMP_LT_OQ>(m, ps(SQRTHF));
    let e = _mm256_sub_ps(e, _mm256_and_ps(small, one));
    let x = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(small, m)), one);
    let z = _mm256_mul_ps(x, x);
    let mut y = _mm256_add_ps(_mm256_mul_ps(ps(L0), x), ps(L1));
    for c in [L2, L3, L4, L5, L6, L7, L8] {
        y = _mm256_add_ps(_mm256_mul_ps(y, x), ps(c));
    }
    y = _mm256_mul_ps(_mm256_mul_ps(y, x), z);
    y = _mm256_add_ps(y, _mm256_mul_ps(e, ps(LN2_LO)));
    y = _mm256_sub_ps(y, _mm256_mul_ps(ps(0.5), z));
    let lnv = _mm256_add_ps(_mm256_add_ps(x, y), _mm256_mul_ps(e, ps(LN2_HI)));
    let r = _mm256_sqrt_ps(_mm256_mul_ps(lnv, ps(-2.0)));
    // angle
    let f = _mm256_mul_ps(
        _mm256_cvtepi32_ps(_mm256_or_si256(
            _mm256_slli_epi32::<1>(_mm256_and_si256(_mm256_srli_epi32::<16>(w2), cell)),
            _mm256_set1_epi32(1),
        )),
        ps(INV_2_15),
    );
    let phi = _mm256_mul_ps(_mm256_sub_ps(f, ps(0.5)), ps(std::f32::consts::FRAC_PI_2));
    let z = _mm256_mul_ps(phi, phi);
    let mut sp = _mm256_add_ps(_mm256_mul_ps(ps(S0), z), ps(S1));
    sp = _mm256_add_ps(_mm256_mul_ps(sp, z), ps(S2));
    let s = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(sp, z), phi), phi);
    let mut cp = _mm256_add_ps(_mm256_mul_ps(ps(C0), z), ps(C1));
    cp = _mm256_add_ps(_mm256_mul_ps(cp, z), ps(C2));
    let c = _mm256_add_ps(
        _mm256_sub_ps(
            _mm256_mul_ps(_mm256_mul_ps(cp, z), z),
            _mm256_mul_ps(ps(0.5), z),
        ),
        one,
    );
    // swap where bit 30 is set (blendv looks at the sign bit: shift bit 30 there)
    let swap = _mm256_castsi256_ps(_mm256_slli_epi32::<1>(w2));
    let xv = _mm256_blendv_ps(c, s, swap);
    let yv = _mm256_blendv_ps(s, c, swap);
    let sign_x = _mm256_slli_epi32::<31>(_mm256_xor_si256(
        _mm256_srli_epi32::<30>(w2),
        _mm256_srli_epi32::<31>(w2),
    ));
    let sign_y = _mm256_and_si256(w2, top);
    let xv = _mm256_xor_ps(xv, _mm256_castsi256_ps(sign_x));
    let yv = _mm256_xor_ps(yv, _mm256_castsi256_ps(sign_y));
    (_mm256_mul_ps(r, xv), _mm256_mul_ps(r, yv))
}

/// How [`add_noise_clip`] combines a value `x` with its normal `z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoiseMode {
    /// `clip(x + σ·z, 0, 1)`.
    Additive,
    /// `clip(x + x·(σ·z), 0, 1)` (speckle).
    Multiplicative,
}

/// Clip to [0, 1], written so that the AVX2 twin (`max(0, y)`, `min(1, y)`) gives the same bits,
/// −0.0 included.
#[inline(always)]
fn clip01(y: f32) -> f32 {
    let y = if 0.0 > y { 0.0 } else { y };
    if 1.0 < y {
        1.0
    } else {
        y
    }
}

#[inline(always)]
fn combine(x: f32, z: f32, sigma: f32, mode: NoiseMode) -> f32 {
    match mode {
        NoiseMode::Additive => clip01(x + sigma * z),
        NoiseMode::Multiplicative => clip01(x + x * (sigma * z)),
    }
}

/// In place `x[i] ← clip(x[i] + σ·z[i], 0, 1)` (or the multiplicative form), where `z` are the
/// normals [`standard_normals`] would compute from `words` — fused, so the normals never go
/// through memory.
///
/// `words.len()` must be [`words_for`]`(x.len())`; the normals of the padding of the last block
/// are computed and discarded. Same bits on every path.
///
/// # Panics
/// If `words` has the wrong length.
pub fn add_noise_clip(words: &[u32], x: &mut [f32], sigma: f32, mode: NoiseMode) {
    assert_eq!(
        words.len(),
        words_for(x.len()),
        "10 words per 16 values, rounded up to whole blocks"
    );
    dispatch!(add_noise_clip_scalar / add_noise_clip_avx2(words, x, sigma, mode))
}

/// Scalar twin of [`add_noise_clip`].
pub fn add_noise_clip_scalar(words: &[u32], x: &mut [f32], sigma: f32, mode: NoiseMode) {
    let mut z = [0f32; BLOCK];
    for (w, xs) in words.chunks_exact(WORDS_PER_BLOCK).zip(x.chunks_mut(BLOCK)) {
        standard_normals_scalar(w, &mut z);
        for (v, &z) in xs.iter_mut().zip(&z) {
            *v = combine(*v, z, sigma, mode);
        }
    }
}

/// AVX2 twin of [`add_noise_clip`] (the trailing partial block goes through the scalar twin).
///
/// # Safety
/// The CPU must support AVX2; `words.len() >= words_for(x.len())`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub unsafe fn add_noise_clip_avx2(words: &[u32], x: &mut [f32], sigma: f32, mode: NoiseMode) {
    use std::arch::x86_64::*;
    let blocks = (x.len() / BLOCK).min(words.len() / WORDS_PER_BLOCK);
    let whole = blocks * BLOCK;
    let s = _mm256_set1_ps(sigma);
    let zero = _mm256_setzero_ps();
    let one = _mm256_set1_ps(1.0);
    let p = x.as_mut_ptr();
    let mut i = 0;
    while i < whole {
        let (za, zb) = block_avx2(words.as_ptr().add(i / BLOCK * WORDS_PER_BLOCK));
        for (off, z) in [(0, za), (8, zb)] {
            let v = _mm256_loadu_ps(p.add(i + off));
            let n = _mm256_mul_ps(s, z);
            let y = match mode {
                NoiseMode::Additive => _mm256_add_ps(v, n),
                NoiseMode::Multiplicative => _mm256_add_ps(v, _mm256_mul_ps(v, n)),
            };
            let y = _mm256_min_ps(one, _mm256_max_ps(zero, y));
            _mm256_storeu_ps(p.add(i + off), y);
        }
        i += BLOCK;
    }
    add_noise_clip_scalar(
        &words[blocks * WORDS_PER_BLOCK..],
        &mut x[whole..],
        sigma,
        mode,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    fn words(n: usize, mut state: u64) -> Vec<u32> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 16) as u32
            })
            .collect()
    }

    #[test]
    fn ln_is_accurate() {
        for k in [
            1u32,
            2,
            3,
            1000,
            1 << 20,
            12_345_678,
            (1 << 24) - 1,
            1 << 24,
        ] {
            let u = k as f32 * INV_2_24;
            let want = (u as f64).ln();
            let got = ln_unit(u) as f64;
            assert!(
                (got - want).abs() <= 2e-7 * want.abs().max(1e-3),
                "{k}: {got} vs {want}"
            );
        }
        assert_eq!(ln_unit(1.0), 0.0);
    }

    #[test]
    fn sin_cos_are_accurate_on_the_circle() {
        // every quadrant, cell edges and the middle
        for (w1_low, byte) in [
            (0u32, 0u8),
            (0xFF, 0x3F),
            (0x00, 0x40),
            (0x80, 0x7F),
            (0x12, 0x95),
            (0x00, 0xC0),
            (0xFF, 0xFF),
        ] {
            // u1 = 1 → r = 0
            let (x, y) = pair(0xFFFF_FF00 | w1_low, byte);
            assert_eq!((x, y), (0.0, 0.0));
            // u1 = 2⁻²⁴ → r = sqrt(48 ln 2)
            let (x, y) = pair(w1_low, byte);
            let r = (48.0f64 * std::f64::consts::LN_2).sqrt();
            let (xf, yf) = (x as f64 / r, y as f64 / r);
            let a = (byte as u32) << 8 | w1_low;
            let f = ((a & 0x3FFF) * 2 + 1) as f64 / 32_768.0;
            let theta = ((a >> 14) as f64 + f - 0.5) * std::f64::consts::FRAC_PI_2;
            assert!(
                (xf - theta.cos()).abs() < 1e-6 && (yf - theta.sin()).abs() < 1e-6,
                "{a:#x}: ({xf}, {yf}) vs θ = {theta}"
            );
        }
    }

    #[test]
    fn moments_are_standard_normal() {
        let n = 1 << 20;
        let w = words(words_for(n), 0x1234_5678_9ABC_DEF1);
        let mut z = vec![0f32; n];
        standard_normals(&w, &mut z);
        let mean = z.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = z.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        let kurt =
            z.iter().map(|&v| (v as f64 - mean).powi(4)).sum::<f64>() / n as f64 / (var * var);
        // standard errors: mean 1/sqrt(n) ≈ 0.001, var sqrt(2/n) ≈ 0.0014, kurtosis sqrt(24/n) ≈ 0.005
        assert!(mean.abs() < 0.006, "mean {mean}");
        assert!((var - 1.0).abs() < 0.008, "var {var}");
        assert!((kurt - 3.0).abs() < 0.03, "kurtosis {kurt}");
        // Fraction inside ±1σ: 0.682689 (se ≈ 0.00046).
        let inside = z.iter().filter(|v| v.abs() < 1.0).count() as f64 / n as f64;
        assert!((inside - 0.682_689).abs() < 0.003, "inside {inside}");
    }

    #[test]
    fn avx2_matches_scalar() {
        for (n, seed) in [(0usize, 1u64), (16, 2), (32, 3), (4096, 4), (65_536, 5)] {
            let mut w = words(words_for(n), seed);
            if n >= 32 {
                // extremes of u1 and of the angle bytes
                w[0] = 0;
                w[1] = u32::MAX;
                w[8] = 0x4000_FF00;
                w[9] = 0xFFFF_FFFF;
                w[16] = 0x0000_00FF;
            }
            let mut a = vec![0f32; n];
            let mut b = vec![1f32; n];
            standard_normals_scalar(&w, &mut a);
            standard_normals(&w, &mut b);
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "n={n}"
            );
            for isa in simd::available() {
                let mut c = vec![2f32; n];
                dispatch!(at isa; standard_normals_scalar / standard_normals_avx2(&w, &mut c));
                assert!(
                    a.iter().zip(&c).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "avx2 n={n}"
                );
            }
        }
    }

    #[test]
    fn fused_noise_matches_separate_steps_and_avx2() {
        for n in [0usize, 1, 15, 16, 17, 100, 4096, 4099] {
            let m = n.div_ceil(BLOCK) * BLOCK;
            let w = words(words_for(n), n as u64 + 7);
            let x0: Vec<f32> = (0..n).map(|i| (i % 97) as f32 / 96.0).collect();
            let mut z = vec![0f32; m];
            standard_normals_scalar(&w, &mut z);
            for (mode, sigma) in [
                (NoiseMode::Additive, 0.5f32),
                (NoiseMode::Multiplicative, 0.35),
            ] {
                let want: Vec<f32> = x0
                    .iter()
                    .zip(&z)
                    .map(|(&x, &z)| combine(x, z, sigma, mode))
                    .collect();
                let mut a = x0.clone();
                add_noise_clip_scalar(&w, &mut a, sigma, mode);
                let mut b = x0.clone();
                add_noise_clip(&w, &mut b, sigma, mode);
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a), bits(&want), "scalar n={n}");
                assert_eq!(bits(&b), bits(&want), "dispatch n={n}");
                assert!(b.iter().all(|v| (0.0..=1.0).contains(v)));
                for isa in simd::available() {
                    let mut c = x0.clone();
                    dispatch!(at isa; add_noise_clip_scalar / add_noise_clip_avx2(&w, &mut c, sigma, mode));
                    assert_eq!(bits(&c), bits(&want), "avx2 n={n}");
                }
            }
        }
        // −0.0 survives the clip identically on every path (0·z with z < 0 in speckle mode).
        assert_eq!(clip01(-0.0).to_bits(), (-0.0f32).to_bits());
    }
}
