//! Fast f32 standard normals from raw 32-bit random words (Box–Muller with polynomial
//! `ln`/`sin`/`cos` and fused multiply-adds), for the training-noise augmentations
//! ([`crate::augment`]), the fast-mode noise layers of snow and spatter, and the fast-mode bytes
//! of ImageNet-C's gaussian_noise and speckle_noise ([`noise_bytes`]).
//!
//! Why not the ziggurat of [`crate::rng::FastRng`]: noise training touches ~150 k values per
//! 224×224×3 image and the target is well under 1 ns per value including the add-and-clip; a
//! branchy per-value f64 sampler costs several times that. Box–Muller turns random bits into
//! normals with no branches and no rejection, so it vectorises completely. Generating the random
//! words (Philox) costs about as much as the transform, so each pair of normals takes exactly
//! one 32-bit word: 16 normals from 8 words.
//!
//! # Word → normal mapping (the same in every kernel)
//!
//! Words are consumed in blocks of [`WORDS_PER_BLOCK`] = 8 giving [`BLOCK`] = 16 normals. Lane
//! `j` (0..8) uses `w = words[j]` and writes `out[j] = x`, `out[8 + j] = y`:
//!
//! * radius: `u = (k + 1)·2⁻²⁰ ∈ (0, 1]` with `k = w >> 12` (20 bits), `ρ = sqrt(−ln u)`. The
//!   Box–Muller radius is `sqrt(−2 ln u) = √2·ρ`, at most `sqrt(40 ln 2) ≈ 5.27`: the normal is
//!   truncated beyond ±5.27σ (two-sided probability 1.4·10⁻⁷, invisible below 10⁷ samples);
//! * angle: 10 bits `c = w & 0x3FF` give `φ = (c + ½)·(π/2)/1024 − π/4`, the centres of 1024
//!   equal cells of [−π/4, π/4); the point at angle `θ = φ + π/4 ∈ (0, π/2)` on the radius is
//!   `√2·ρ·(cos θ, sin θ) = ρ·(cos φ − sin φ, cos φ + sin φ)`, which needs `sin`/`cos` only on
//!   [−π/4, π/4]; bits 10 and 11 of `w` flip the signs of `x` and `y`, so the 4096 angles
//!   cover the circle symmetrically (a rotation of a uniform angle keeps the distribution).
//!   4096 equally spaced angles make the marginal law of `x` that of a continuous angle to far
//!   below f32 precision (the trapezoidal rule on a smooth periodic integrand), and `x`, `y` of
//!   one pair go to different positions of the output;
//! * `ln` is `x + x²·Q(x)` on the reduced mantissa `1 + x ∈ [√½, √2)` (exponent split with the
//!   integer trick `bits − bits(√½)`), `Q` a degree-6 polynomial fitted for relative error
//!   ≤ 2.6·10⁻⁷ (weighted least squares on Chebyshev nodes, iterated towards minimax);
//!   `sin`/`cos` are the Cephes `sinf`/`cosf` polynomials on [−π/4, π/4] (a few ulp).
//!
//! The scalar twin performs exactly the same f32 operations in the same order, with every
//! multiply-add fused (`crate::simd::fma::fma_f32`, the same single rounding as the AVX2 FMA
//! instructions) and a correctly rounded `sqrt`, so all kernels are bit-identical;
//! `avx2_matches_scalar` checks it, `standard_normal_statistics` checks the distribution.

use crate::kernels::scratch::Buf;
use crate::rng::xoshiro::Xoshiro8;
use crate::rng::RandomSource;
use crate::simd::dispatch;
use crate::simd::fma::fma_f32;

/// Normals produced per block.
pub const BLOCK: usize = 16;
/// Random words consumed per block (one per pair).
pub const WORDS_PER_BLOCK: usize = 8;

/// Words needed for `n` values (whole blocks).
pub fn words_for(n: usize) -> usize {
    n.div_ceil(BLOCK) * WORDS_PER_BLOCK
}

const INV_2_20: f32 = 1.0 / 1_048_576.0;
/// Bits of √½ as f32: `bits(u) − SQRT_HALF_BITS` splits `u` into `2^e·m`, `m ∈ [√½, √2)`.
const SQRT_HALF_BITS: i32 = 0x3F35_04F3;
const LN2: f32 = std::f32::consts::LN_2;
/// `ln(1 + x) ≈ x + x²·Q(x)` on [√½ − 1, √2 − 1]: coefficients of `Q`, constant term first.
const Q: [f32; 7] = [
    -0.500_003_76,
    0.333_343_15,
    -0.249_685_53,
    0.199_198_84,
    -0.172_888,
    0.160_842_17,
    -0.098_131_93,
];
/// Angle cell width `(π/2)/1024` and the offset `½·width − π/4` of cell 0's centre.
const CELL: f32 = std::f32::consts::FRAC_PI_2 / 1024.0;
const CELL0: f32 = 0.5 * CELL - std::f32::consts::FRAC_PI_4;
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
    assert_eq!(words.len(), words_for(out.len()), "8 words per 16 normals");
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

/// `−ln(u)` for `u ∈ (0, 1]`, the operation sequence shared with the AVX2 twin.
#[inline(always)]
fn neg_ln_unit(u: f32) -> f32 {
    let i = (u.to_bits() as i32).wrapping_sub(SQRT_HALF_BITS);
    let e = (i >> 23) as f32;
    let m = f32::from_bits(((i & 0x007F_FFFF) + SQRT_HALF_BITS) as u32);
    let x = m - 1.0;
    let z = x * x;
    let mut q = Q[6];
    for &c in Q[..6].iter().rev() {
        q = fma_f32(q, x, c);
    }
    let t = fma_f32(z, q, x); // ln(m)
    -fma_f32(e, LN2, t) // fnmsub: −(e·ln 2) − ln(m), one rounding
}

/// One Box–Muller pair from a word (scalar reference of the kernels).
#[inline(always)]
fn pair(w: u32) -> (f32, f32) {
    let u = fma_f32((w >> 12) as f32, INV_2_20, INV_2_20);
    let rho = neg_ln_unit(u).sqrt();
    let phi = fma_f32((w & 0x3FF) as f32, CELL, CELL0);
    let z = phi * phi;
    let sp = fma_f32(fma_f32(S0, z, S1), z, S2);
    let s = fma_f32(sp * z, phi, phi);
    let cp = fma_f32(fma_f32(C0, z, C1), z, C2);
    let c = fma_f32(cp, z * z, fma_f32(-0.5, z, 1.0));
    let rx = f32::from_bits(rho.to_bits() ^ ((w << 21) & 0x8000_0000));
    let ry = f32::from_bits(rho.to_bits() ^ ((w << 20) & 0x8000_0000));
    (rx * (c - s), ry * (c + s))
}

/// Scalar twin of [`standard_normals`].
pub fn standard_normals_scalar(words: &[u32], out: &mut [f32]) {
    for (w, o) in words
        .chunks_exact(WORDS_PER_BLOCK)
        .zip(out.chunks_exact_mut(BLOCK))
    {
        for j in 0..BLOCK / 2 {
            let (a, b) = pair(w[j]);
            o[j] = a;
            o[j + BLOCK / 2] = b;
        }
    }
}

/// AVX2 twin of [`standard_normals`]: one block (8 pairs) per step, same operations as
/// [`standard_normals_scalar`] lane by lane.
///
/// # Safety
/// The CPU must support AVX2 and FMA (`Isa::Avx2`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
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
/// AVX2 and FMA required; `w` must point to [`WORDS_PER_BLOCK`] readable `u32`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn block_avx2(w: *const u32) -> (std::arch::x86_64::__m256, std::arch::x86_64::__m256) {
    use std::arch::x86_64::*;
    block_words_avx2(_mm256_loadu_si256(w as *const __m256i))
}

/// [`block_avx2`] of the eight words in `w` (word `j` in lane `j`).
///
/// # Safety
/// AVX2 and FMA required.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn block_words_avx2(
    w: std::arch::x86_64::__m256i,
) -> (std::arch::x86_64::__m256, std::arch::x86_64::__m256) {
    use std::arch::x86_64::*;
    let ps = _mm256_set1_ps;
    // radius ρ = sqrt(−ln u)
    let u = _mm256_fmadd_ps(
        _mm256_cvtepi32_ps(_mm256_srli_epi32::<12>(w)),
        ps(INV_2_20),
        ps(INV_2_20),
    );
    let half = _mm256_set1_epi32(SQRT_HALF_BITS);
    let i = _mm256_sub_epi32(_mm256_castps_si256(u), half);
    let e = _mm256_cvtepi32_ps(_mm256_srai_epi32::<23>(i));
    let m = _mm256_add_epi32(_mm256_and_si256(i, _mm256_set1_epi32(0x007F_FFFF)), half);
    let x = _mm256_sub_ps(_mm256_castsi256_ps(m), ps(1.0));
    let z = _mm256_mul_ps(x, x);
    let mut q = ps(Q[6]);
    for &c in Q[..6].iter().rev() {
        q = _mm256_fmadd_ps(q, x, ps(c));
    }
    let t = _mm256_fmadd_ps(z, q, x);
    let rho = _mm256_sqrt_ps(_mm256_fnmsub_ps(e, ps(LN2), t));
    // angle
    let phi = _mm256_fmadd_ps(
        _mm256_cvtepi32_ps(_mm256_and_si256(w, _mm256_set1_epi32(0x3FF))),
        ps(CELL),
        ps(CELL0),
    );
    let z = _mm256_mul_ps(phi, phi);
    let sp = _mm256_fmadd_ps(_mm256_fmadd_ps(ps(S0), z, ps(S1)), z, ps(S2));
    let s = _mm256_fmadd_ps(_mm256_mul_ps(sp, z), phi, phi);
    let cp = _mm256_fmadd_ps(_mm256_fmadd_ps(ps(C0), z, ps(C1)), z, ps(C2));
    let c = _mm256_fmadd_ps(
        cp,
        _mm256_mul_ps(z, z),
        _mm256_fmadd_ps(ps(-0.5), z, ps(1.0)),
    );
    let top = _mm256_set1_epi32(0x8000_0000u32 as i32);
    let sx = _mm256_and_si256(_mm256_slli_epi32::<21>(w), top);
    let sy = _mm256_and_si256(_mm256_slli_epi32::<20>(w), top);
    let rx = _mm256_xor_ps(rho, _mm256_castsi256_ps(sx));
    let ry = _mm256_xor_ps(rho, _mm256_castsi256_ps(sy));
    (
        _mm256_mul_ps(rx, _mm256_sub_ps(c, s)),
        _mm256_mul_ps(ry, _mm256_add_ps(c, s)),
    )
}

/// How [`add_noise_clip`] combines a value `x` with its normal `z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoiseMode {
    /// `clip(x + σ·z, 0, 1)` (one fused multiply-add).
    Additive,
    /// `clip(x + x·(σ·z), 0, 1)` (speckle; `σ·z` rounded, then one fused multiply-add).
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
        NoiseMode::Additive => clip01(fma_f32(sigma, z, x)),
        NoiseMode::Multiplicative => clip01(fma_f32(x, sigma * z, x)),
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
        "8 words per 16 values, rounded up to whole blocks"
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
/// The CPU must support AVX2 and FMA; `words.len() >= words_for(x.len())`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
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
            let y = match mode {
                NoiseMode::Additive => _mm256_fmadd_ps(s, z, v),
                NoiseMode::Multiplicative => _mm256_fmadd_ps(v, _mm256_mul_ps(s, z), v),
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

/// The float value whose saturating truncation is the output byte of [`noise_bytes`], in
/// pixel units (`v = src[i]`): `255·x + 255σ·z` for additive noise (`s = f32(255σ)`, one fused
/// multiply-add) and `v + v·(σ·z)` for speckle (`s = f32(σ)`, `σ·z` rounded, then one fused
/// multiply-add), then `min(y, 255)` written as the AVX2 `vminps` evaluates it.
#[inline(always)]
fn noise_level(v: f32, z: f32, s: f32, mode: NoiseMode) -> f32 {
    let y = match mode {
        NoiseMode::Additive => fma_f32(s, z, v),
        NoiseMode::Multiplicative => fma_f32(v, s * z, v),
    };
    if y < 255.0 {
        y
    } else {
        255.0
    }
}

/// The scale factor of [`noise_level`] for `sigma` (in `[0, 1]` pixel units).
fn noise_scale(sigma: f64, mode: NoiseMode) -> f32 {
    match mode {
        NoiseMode::Additive => (255.0 * sigma) as f32,
        NoiseMode::Multiplicative => sigma as f32,
    }
}

/// The fast-mode byte noises (gaussian_noise, speckle_noise): `dst[i] = trunc(clip(255·y, 0, 255))`
/// with `y = x + σ·z` (or `x + x·σ·z`), `x = src[i]/255` and `z` the normal
/// [`standard_normals`] computes for position `i` from `words` — evaluated in pixel units as
/// `v + 255σ·z` (or `v + v·σ·z`) in f32, clipped and truncated by a saturating conversion, with
/// the normals never going through memory.
///
/// Why not the exact-distribution tables of [`crate::kernels::noise_table`]: their lookups are
/// AVX2 gathers, ~12 cycles per 8 values on the AMD CPUs we measure on, and one Philox word per
/// value; here two values share a word and every step is plain arithmetic. f32 rounding only
/// moves a value across a grey-level boundary where it lies within ~10⁻⁵ of it, so the output
/// law is the reference's up to the normal's truncation at ±5.27σ (docs/ALGORITHMS.md §4.1).
///
/// `words.len()` must be [`words_for`]`(src.len())` and `dst.len() == src.len()`; same bytes on
/// every path.
///
/// # Panics
/// If the lengths do not match.
pub fn noise_bytes(words: &[u32], src: &[u8], dst: &mut [u8], sigma: f64, mode: NoiseMode) {
    assert_eq!(
        src.len(),
        dst.len(),
        "source and destination lengths differ"
    );
    assert_eq!(
        words.len(),
        words_for(src.len()),
        "8 words per 16 values, rounded up to whole blocks"
    );
    dispatch!(noise_bytes_scalar / noise_bytes_avx2(words, src, dst, sigma, mode))
}

/// Scalar twin of [`noise_bytes`].
pub fn noise_bytes_scalar(words: &[u32], src: &[u8], dst: &mut [u8], sigma: f64, mode: NoiseMode) {
    let s = noise_scale(sigma, mode);
    let mut z = [0f32; BLOCK];
    for ((w, xs), ds) in words
        .chunks_exact(WORDS_PER_BLOCK)
        .zip(src.chunks(BLOCK))
        .zip(dst.chunks_mut(BLOCK))
    {
        standard_normals_scalar(w, &mut z);
        for ((d, &v), &z) in ds.iter_mut().zip(xs).zip(&z) {
            // `as u8` saturates: negative levels give 0 (the clip at 0), and truncates.
            *d = noise_level(v as f32, z, s, mode) as u8;
        }
    }
}

/// AVX2 twin of [`noise_bytes`]: two blocks (32 values) per step; the rest goes through the
/// scalar twin.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `words.len() >= words_for(src.len())`,
/// `dst.len() >= src.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn noise_bytes_avx2(
    words: &[u32],
    src: &[u8],
    dst: &mut [u8],
    sigma: f64,
    mode: NoiseMode,
) {
    // One loop per mode, so that the step holds no branch on it.
    match mode {
        NoiseMode::Additive => noise_bytes_avx2_in::<false>(words, src, dst, sigma),
        NoiseMode::Multiplicative => noise_bytes_avx2_in::<true>(words, src, dst, sigma),
    }
}

/// [`noise_bytes_avx2`] for one mode (`MULT`: speckle).
///
/// # Safety
/// As [`noise_bytes_avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn noise_bytes_avx2_in<const MULT: bool>(
    words: &[u32],
    src: &[u8],
    dst: &mut [u8],
    sigma: f64,
) {
    use std::arch::x86_64::*;
    let n = src.len().min(dst.len());
    let whole = (n / STEP).min(words.len() / (2 * WORDS_PER_BLOCK)) * STEP;
    let wp = words.as_ptr();
    let mut k = 0;
    noise_steps_avx2::<MULT>(&src[..whole], &mut dst[..whole], sigma, || {
        let w = _mm256_loadu_si256(wp.add(k) as *const __m256i);
        k += WORDS_PER_BLOCK;
        w
    });
    noise_bytes_scalar(
        &words[whole / 2..],
        &src[whole..n],
        &mut dst[whole..n],
        sigma,
        mode_of(MULT),
    );
}

/// Values per step of the AVX2 byte noises (two blocks).
const STEP: usize = 2 * BLOCK;

/// The mode of the const parameter `MULT`.
fn mode_of(mult: bool) -> NoiseMode {
    if mult {
        NoiseMode::Multiplicative
    } else {
        NoiseMode::Additive
    }
}

/// The whole [`STEP`]s of `src` into `dst` (one length, a multiple of [`STEP`]), each
/// block's eight words from `next()` in order: the step of [`noise_bytes_avx2`].
///
/// # Safety
/// AVX2 and FMA required; `dst.len() >= src.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn noise_steps_avx2<const MULT: bool>(
    src: &[u8],
    dst: &mut [u8],
    sigma: f64,
    mut next: impl FnMut() -> std::arch::x86_64::__m256i,
) {
    use std::arch::x86_64::*;
    let whole = src.len() / STEP * STEP;
    assert!(dst.len() >= whole);
    let s = _mm256_set1_ps(noise_scale(sigma, mode_of(MULT)));
    let top = _mm256_set1_ps(255.0);
    // After the two packs the dwords hold values 0–3 of a, b, c, d, then 4–7 of each.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    let mut i = 0;
    while i < whole {
        let (za, zb) = block_words_avx2(next());
        let (zc, zd) = block_words_avx2(next());
        let level = |off: usize, z: __m256| {
            let v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(
                sp.add(i + off) as *const __m128i
            )));
            let y = if MULT {
                _mm256_fmadd_ps(v, _mm256_mul_ps(s, z), v)
            } else {
                _mm256_fmadd_ps(s, z, v)
            };
            // cvtt truncates; the packs saturate negatives to 0 (y ≤ 255 after the min).
            _mm256_cvttps_epi32(_mm256_min_ps(y, top))
        };
        let (a, b, c, d) = (level(0, za), level(8, zb), level(16, zc), level(24, zd));
        let bytes = _mm256_packus_epi16(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
        _mm256_storeu_si256(
            dp.add(i) as *mut __m256i,
            _mm256_permutevar8x32_epi32(bytes, order),
        );
        i += STEP;
    }
}

/// `out.len()` standard normals (a multiple of [`BLOCK`]) from the next
/// [`words_for`]`(out.len())` words of `gen`: the values [`standard_normals`] gives on the words
/// `gen.fill` would give, and `gen` left where that `fill` leaves it. Why: fast-mode spatter
/// mud draws a normal per pixel; Philox words cost as much as the Box–Muller transform, the
/// xoshiro lanes made in registers ([`Avx2Lanes`](crate::rng::xoshiro::Avx2Lanes)) about a
/// quarter of that, with no word buffer.
///
/// # Panics
/// If `out.len()` is not a multiple of [`BLOCK`].
pub fn draw_standard_normals(gen: &mut Xoshiro8, out: &mut [f32]) {
    assert_eq!(out.len() % BLOCK, 0, "whole blocks of {BLOCK} only");
    dispatch!(draw_standard_normals_scalar / draw_standard_normals_avx2(gen, out))
}

/// Scalar twin of [`draw_standard_normals`]: the words in chunks of 4096 (8192 values, whole
/// blocks and a multiple of the eight lanes, so the stream does not depend on the chunking).
pub fn draw_standard_normals_scalar(gen: &mut Xoshiro8, out: &mut [f32]) {
    const CHUNK: usize = 8192;
    let mut words = [0u32; CHUNK / BLOCK * WORDS_PER_BLOCK];
    for o in out.chunks_mut(CHUNK) {
        let w = &mut words[..words_for(o.len())];
        gen.fill(w);
        standard_normals_scalar(w, o);
    }
}

/// AVX2 twin of [`draw_standard_normals`]: each block's eight words made by the generator's
/// lanes and transformed at once.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `out.len()` is a multiple of [`BLOCK`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn draw_standard_normals_avx2(gen: &mut Xoshiro8, out: &mut [f32]) {
    use crate::rng::xoshiro::Avx2Lanes;
    use std::arch::x86_64::*;
    let mut lanes = Avx2Lanes::load(gen);
    for o in out.chunks_exact_mut(BLOCK) {
        let (a, b) = block_words_avx2(lanes.step());
        // SAFETY: `o` holds BLOCK = 16 values.
        _mm256_storeu_ps(o.as_mut_ptr(), a);
        _mm256_storeu_ps(o.as_mut_ptr().add(8), b);
    }
    lanes.store(gen);
}

/// [`noise_bytes`] with words drawn from `rng`: [`words_for`]`(src.len())` words in total, drawn
/// in chunks of 4096 (8192 values), so a call consumes exactly what one [`noise_bytes`] call
/// over the whole slice would.
pub fn add_noise_bytes(
    rng: &mut dyn RandomSource,
    src: &[u8],
    dst: &mut [u8],
    sigma: f64,
    mode: NoiseMode,
) {
    const CHUNK: usize = 8192; // values; a multiple of BLOCK
    let mut words = [0u32; CHUNK / BLOCK * WORDS_PER_BLOCK];
    for (s, d) in src.chunks(CHUNK).zip(dst.chunks_mut(CHUNK)) {
        let w = &mut words[..words_for(s.len())];
        rng.fill_u32(w);
        noise_bytes(w, s, d, sigma, mode);
    }
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
        // every k of the 2^20 radius grid near the ends, and a sweep through the middle
        let ks = (0u32..4096)
            .chain((1u32 << 20) - 4096..1 << 20)
            .chain((0..1u32 << 20).step_by(97));
        for k in ks {
            let u = fma_f32(k as f32, INV_2_20, INV_2_20);
            let want = -(u as f64).ln();
            let got = neg_ln_unit(u) as f64;
            assert!(
                (got - want).abs() <= 4e-7 * want + 1e-12,
                "{k}: {got} vs {want}"
            );
        }
        assert_eq!(neg_ln_unit(1.0), 0.0);
    }

    #[test]
    fn pairs_lie_on_the_right_circle_and_angle() {
        for w in [0u32, 0x3FF, 0x400, 0x800, 0xC00, 0xFFF, 0x123, 0xA5A, 0x5FF] {
            // k = 2^20 − 1 → u = 1 → radius 0
            let (x, y) = pair(0xFFFF_F000 | w);
            assert_eq!((x.abs(), y.abs()), (0.0, 0.0));
            // k = 0 → u = 2⁻²⁰ → radius sqrt(40 ln 2)
            let (x, y) = pair(w);
            let r = (40.0f64 * std::f64::consts::LN_2).sqrt();
            let (xf, yf) = (x as f64 / r, y as f64 / r);
            let phi = ((w & 0x3FF) as f64 + 0.5) * std::f64::consts::FRAC_PI_2 / 1024.0;
            let sx = if w & 0x400 != 0 { -1.0 } else { 1.0 };
            let sy = if w & 0x800 != 0 { -1.0 } else { 1.0 };
            assert!(
                (xf - sx * phi.cos()).abs() < 1e-6 && (yf - sy * phi.sin()).abs() < 1e-6,
                "{w:#x}: ({xf}, {yf}) vs θ = {phi}"
            );
        }
    }

    /// The distribution of the normals the kernels make from Philox words (as every caller
    /// draws them): moments, a Kolmogorov–Smirnov test, a fine-binned chi-square near the
    /// centre (a lattice coarser than ~0.01σ fails it), tail frequencies beyond 3, 4 and 5σ,
    /// the truncation point, and independence of the two normals of a pair.
    #[test]
    fn standard_normal_statistics() {
        let n = 1 << 22;
        let mut w = vec![0u32; words_for(n)];
        crate::rng::FastRng::new(2026).fill_u32(&mut w);
        let mut z = vec![0f32; n];
        standard_normals(&w, &mut z);
        let nf = n as f64;
        let mean = z.iter().map(|&v| v as f64).sum::<f64>() / nf;
        let m = |p: i32| z.iter().map(|&v| (v as f64 - mean).powi(p)).sum::<f64>() / nf;
        let (var, skew, kurt) = (m(2), m(3), m(4));
        let (skew, kurt) = (skew / var.powf(1.5), kurt / (var * var));
        // standard errors: mean 1/sqrt(n) ≈ 5e-4, var sqrt(2/n) ≈ 7e-4, skew sqrt(6/n) ≈ 1.2e-3,
        // kurtosis sqrt(24/n) ≈ 2.4e-3; limits ≈ 5 se
        assert!(mean.abs() < 0.0025, "mean {mean}");
        assert!((var - 1.0).abs() < 0.0035, "var {var}");
        assert!(skew.abs() < 0.006, "skewness {skew}");
        assert!((kurt - 3.0).abs() < 0.012, "kurtosis {kurt}");
        // Kolmogorov–Smirnov against Φ: P(D·sqrt(n) > 1.95) ≈ 0.001
        let mut sorted: Vec<f64> = z.iter().map(|&v| v as f64).collect();
        sorted.sort_by(f64::total_cmp);
        let phi = |x: f64| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
        let d = sorted
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = phi(x);
                (f - i as f64 / nf)
                    .abs()
                    .max(((i + 1) as f64 / nf - f).abs())
            })
            .fold(0.0, f64::max);
        assert!(d * nf.sqrt() < 1.95, "KS D = {d}");
        // chi-square over 200 bins of width 0.01 in [−1, 1)
        let mut counts = [0f64; 200];
        for &v in &z {
            let k = ((v as f64 + 1.0) * 100.0).floor();
            if (0.0..200.0).contains(&k) {
                counts[k as usize] += 1.0;
            }
        }
        let chi2: f64 = (0..200)
            .map(|k| {
                let lo = k as f64 / 100.0 - 1.0;
                let e = nf * (phi(lo + 0.01) - phi(lo));
                (counts[k] - e).powi(2) / e
            })
            .sum();
        // 200 dof: mean 200, sd 20
        assert!(chi2 < 300.0, "fine-bin chi² {chi2}");
        // tails: expected counts 11 324 (3σ), 266 (4σ), 2.4 (5σ)
        for (t, p) in [(3.0, 2.699_796e-3), (4.0, 6.334_248e-5)] {
            let got = z.iter().filter(|v| v.abs() as f64 > t).count() as f64;
            let (e, sd) = (p * nf, (p * nf).sqrt());
            assert!((got - e).abs() < 5.0 * sd, "beyond {t}σ: {got} vs {e}");
        }
        let beyond5 = z.iter().filter(|v| v.abs() > 5.0).count();
        assert!(beyond5 <= 12, "beyond 5σ: {beyond5}");
        let max = z.iter().fold(0f32, |a, v| a.max(v.abs()));
        assert!(max <= 5.2682 && max > 4.5, "max |z| {max}");
        // the two normals of a pair (out[j], out[8 + j]) are uncorrelated, and so are their
        // squares (a radius or angle mapping error correlates x² and y²)
        let (mut xy, mut x2y2) = (0.0, 0.0);
        for b in z.chunks_exact(BLOCK) {
            for j in 0..8 {
                let (x, y) = (b[j] as f64, b[8 + j] as f64);
                xy += x * y;
                x2y2 += (x * x - 1.0) * (y * y - 1.0);
            }
        }
        let pairs = nf / 2.0;
        // se: 1/sqrt(pairs) ≈ 7e-4 and sqrt(4/pairs) ≈ 1.4e-3
        assert!(
            (xy / pairs).abs() < 0.0035,
            "pair correlation {}",
            xy / pairs
        );
        assert!((x2y2 / pairs).abs() < 0.007, "squares {}", x2y2 / pairs);
    }

    #[test]
    fn avx2_matches_scalar() {
        for (n, seed) in [(0usize, 1u64), (16, 2), (32, 3), (4096, 4), (65_536, 5)] {
            let mut w = words(words_for(n), seed);
            if n >= 32 {
                // extremes of the radius and of the angle bits
                w[0] = 0;
                w[1] = u32::MAX;
                w[2] = 0xFFFF_F000;
                w[3] = 0x0000_0FFF;
                w[8] = 0x0000_1000;
                w[9] = 0x8000_0400;
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

    #[test]
    fn noise_bytes_avx2_matches_scalar() {
        let modes = [NoiseMode::Additive, NoiseMode::Multiplicative];
        // σ = 0 (the input back), the severities' range, and σ so large that most values clip
        // (and 255σ·z overflows i32 when converted without the min)
        let sigmas = [0.0, 0.08, 0.6, 3.0, 1e12];
        for n in [0usize, 1, 15, 16, 17, 31, 32, 33, 100, 4096, 4099] {
            let mut w = words(words_for(n), n as u64 + 11);
            if n >= 32 {
                // radius 0 and the largest radius, with every sign combination
                w[..4].copy_from_slice(&[0xFFFF_F000, 0, 0x0000_0C00, 0x0000_0400]);
            }
            let src: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
            let mut z = vec![0f32; n.div_ceil(BLOCK) * BLOCK];
            standard_normals_scalar(&w, &mut z);
            for mode in modes {
                for sigma in sigmas {
                    let s = noise_scale(sigma, mode);
                    let want: Vec<u8> = src
                        .iter()
                        .zip(&z)
                        .map(|(&v, &z)| noise_level(v as f32, z, s, mode) as u8)
                        .collect();
                    let mut a = vec![1u8; n];
                    noise_bytes_scalar(&w, &src, &mut a, sigma, mode);
                    assert_eq!(a, want, "scalar {mode:?} σ={sigma} n={n}");
                    for isa in simd::available() {
                        let mut c = vec![2u8; n];
                        dispatch!(at isa; noise_bytes_scalar / noise_bytes_avx2(&w, &src, &mut c, sigma, mode));
                        assert_eq!(c, want, "{isa:?} {mode:?} σ={sigma} n={n}");
                    }
                    if sigma == 0.0 {
                        assert_eq!(a, src, "σ = 0 gives the input back");
                    }
                }
            }
        }
    }

    /// The twins of `draw_standard_normals` give `fill` + `standard_normals_scalar`'s values on
    /// the same words and leave the generator where `fill` leaves it, at lengths around the
    /// block and the scalar twin's 8192-value chunk.
    #[test]
    fn draw_standard_normals_twins_equal_fill_then_normals() {
        let mut gen = Xoshiro8::from_source(&mut crate::rng::FastRng::new(8));
        for n in [0usize, 16, 32, 48, 8176, 8192, 8208, 20000] {
            let mut w = vec![0u32; words_for(n)];
            let mut g0 = gen.clone();
            g0.fill(&mut w);
            let mut a = vec![0f32; n];
            standard_normals_scalar(&w, &mut a);
            for isa in simd::available() {
                let mut b = vec![1f32; n];
                let mut g = gen.clone();
                dispatch!(at isa; draw_standard_normals_scalar / draw_standard_normals_avx2(&mut g, &mut b));
                assert_eq!(
                    a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    b.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{isa:?} n {n}"
                );
                assert_eq!(g, g0, "{isa:?} n {n}: state");
            }
            gen = g0;
        }
    }

    /// The bytes of gaussian_noise and speckle_noise (fast mode) against the reference's exact
    /// output law for an input byte (`noise_table::distribution`: noise, clipping and
    /// truncation): a chi-square over all output levels (bins with fewer than 20 expected values
    /// pooled), the largest CDF difference (Kolmogorov–Smirnov), the mean (truncation, not
    /// rounding: the reference's −½ level bias) and the clipped masses at 0 and 255. A wrong
    /// scale, a rounding instead of a truncation, a missing clip or a coarse normal fails it.
    #[test]
    fn noise_bytes_have_the_reference_output_law() {
        use crate::kernels::noise_table::{distribution, NoiseKind};
        let n = 1usize << 20;
        let mut w = vec![0u32; words_for(n)];
        crate::rng::FastRng::new(18).fill_u32(&mut w);
        let mut out = vec![0u8; n];
        let cases = [
            (NoiseKind::Gaussian, NoiseMode::Additive, 0.08, 128u8),
            (NoiseKind::Gaussian, NoiseMode::Additive, 0.38, 40),
            (NoiseKind::Gaussian, NoiseMode::Additive, 0.18, 250),
            (NoiseKind::Gaussian, NoiseMode::Additive, 0.03, 0),
            (NoiseKind::Speckle, NoiseMode::Multiplicative, 0.15, 200),
            (NoiseKind::Speckle, NoiseMode::Multiplicative, 0.6, 90),
            (NoiseKind::Speckle, NoiseMode::Multiplicative, 0.05, 3),
        ];
        for (kind, mode, sigma, v) in cases {
            noise_bytes(&w, &vec![v; n], &mut out, sigma, mode);
            let p = distribution(kind, sigma, v);
            let mut counts = [0f64; 256];
            out.iter().for_each(|&o| counts[o as usize] += 1.0);
            let nf = n as f64;
            // chi-square with pooled bins
            let (mut chi2, mut dof) = (0.0, -1.0f64);
            let (mut e_acc, mut o_acc) = (0.0, 0.0);
            for k in 0..256 {
                e_acc += p[k] * nf;
                o_acc += counts[k];
                if e_acc >= 20.0 || k == 255 {
                    if e_acc > 0.0 {
                        chi2 += (o_acc - e_acc).powi(2) / e_acc;
                        dof += 1.0;
                    }
                    (e_acc, o_acc) = (0.0, 0.0);
                }
            }
            let what = format!("{kind:?} σ={sigma} v={v}");
            // mean dof + 5 sd (P ≈ 10⁻⁵ for a correct sampler)
            assert!(
                chi2 < dof + 5.0 * (2.0 * dof).sqrt() + 10.0,
                "{what}: χ² {chi2:.1} on {dof} dof"
            );
            let (mut cdf_p, mut cdf_o, mut ks) = (0.0, 0.0, 0f64);
            for k in 0..256 {
                cdf_p += p[k];
                cdf_o += counts[k] / nf;
                ks = ks.max((cdf_p - cdf_o).abs());
            }
            assert!(ks * nf.sqrt() < 1.95, "{what}: KS D = {ks}");
            let mean_p: f64 = (0..256).map(|k| k as f64 * p[k]).sum();
            let var_p: f64 = (0..256).map(|k| (k as f64 - mean_p).powi(2) * p[k]).sum();
            let mean_o: f64 = (0..256).map(|k| k as f64 * counts[k]).sum::<f64>() / nf;
            assert!(
                (mean_o - mean_p).abs() < 5.0 * (var_p / nf).sqrt() + 1e-9,
                "{what}: mean {mean_o} vs {mean_p}"
            );
            for k in [0usize, 255] {
                let (e, o) = (p[k] * nf, counts[k]);
                assert!(
                    (o - e).abs() <= 5.0 * e.sqrt() + 1.0,
                    "{what}: level {k}: {o} vs {e}"
                );
            }
        }
    }
}
