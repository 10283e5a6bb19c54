//! Fast-mode mud (spatter severities 4–5, ALGORITHMS.md §4.18) in 16-bit fixed point: the
//! liquid pixels `B`, their mask `m = gaussian(B, s)`, its 0.8 cut and the blend
//! `v·(1 − m) + m·colour`.
//!
//! The liquid pixels ([`Liquid`]) are `G > τ` of the f32 standard layer, or, for the default
//! tables, of the layer filtered in fixed point from shaped 16-bit noise ([`draw_noise`]: the
//! generator's words as i16 lanes, shaped to a normal variance and kurtosis): the layer
//! Gaussian's taps in Q15 (`vpmulhrsw` + saturating `vpaddsw`, vertical then horizontal, edge
//! replication), compared with `τ16 = ⌊NOISE_SCALE·τ⌋` in the horizontal pass (no layer plane).
//!
//! The mask is only used as `m < 0.8 → 0` and as the 16-bit weight of the fixed-point blend
//! ([`rgb_fixed::blend16_avx2`]), and its input is 0/1, so it needs no float arithmetic:
//! * horizontal pass on the bits: `h[x] = Σ_l H[l]·B[x+l]`, the sum of the 16-bit taps `H`
//!   (rounded to sum 65535) where the bit is set — AND + ADD, 16 lanes, exact (no overflow:
//!   the sum is at most 65535);
//! * vertical pass: `m = bias ⊕ Σ_k (h_k·V[k]) >> 16` (`vpmulhuw`; `V` rounded to sum 65536,
//!   `⊕` saturating, `bias` = half the taps for the truncations' mean loss), the 16-bit mud
//!   weight directly, cut below [`CUT`] (0.8) and blended with the kept fraction `!m`.
//!
//! `m` is within a few 2⁻¹⁶ of the f32 filter of the same bits (tap rounding ≤ ½ each, product
//! truncation < 1 each; `fixed_mask_tracks_the_f32_mask` bounds it by 8/65535), far inside the
//! blend's 2/256 grey-level bound. Why: the f32 mask filter (11 FMA taps per value and pass,
//! an f32 plane of bits and one of the mask, a conversion per weight) was a third of mud's
//! time; in fixed point each pass takes 16 values per step, the bits are a u16 row in L1 and
//! the vertical pass runs row by row into the blend (no mask plane).

use crate::kernels::gaussian::kernel1d;
use crate::kernels::rgb_fixed;
use crate::kernels::scratch::Buf;
use crate::rng::xoshiro::Xoshiro8;
use crate::simd::dispatch;

/// The mud weight cut: 0.8 as a 16-bit fraction (`0.8·65535 = 52428`); a lower mask is 0.
pub(super) const CUT: u16 = 52428;

/// Pixels per vector step (16 lanes of u16).
const STEP: usize = 16;

/// The mask Gaussian's taps in 16-bit fixed point.
pub(super) struct Taps {
    /// Horizontal taps (on the bits), summing to 65535.
    h: Vec<u16>,
    /// Vertical taps (`vpmulhuw` factors), summing to 65536 (a single tap: 65535).
    v: Vec<u16>,
    /// Added before the vertical sum: half the taps (each truncated product loses ½ on average).
    bias: u16,
}

impl Taps {
    /// The taps of `gaussian_nearest_f32`'s filter (`kernel1d(sigma, truncate)`) rounded to
    /// `sum`, the rounding remainder put on the centre tap (symmetric, the largest).
    pub(super) fn new(sigma: f64, truncate: f64) -> Taps {
        let g = kernel1d(sigma, truncate);
        let quantise = |sum: i64| -> Vec<u16> {
            let mut q: Vec<i64> = g.iter().map(|&v| (v * sum as f64).round() as i64).collect();
            let c = q.len() / 2;
            let rest: i64 = q.iter().sum::<i64>() - q[c];
            q[c] = sum - rest;
            q.into_iter().map(|v| v.clamp(0, 65535) as u16).collect()
        };
        Taps {
            h: quantise(65535),
            v: quantise(65536),
            bias: (g.len() / 2) as u16,
        }
    }

    fn radius(&self) -> usize {
        self.h.len() / 2
    }
}

/// The noise's shape: `z = A·u + B·u³` of `u` uniform on (−1, 1) (Q15, `A + B = 1`), with
/// `B/A = 2.90957`, the ratio giving `z` a normal kurtosis of 3 (uniform noise has 1.8, and
/// a filtered layer of it, at blur σ = 1, an excess kurtosis of −0.196: its fraction above `τ`
/// was up to 0.0045 off the normal one). Odd and symmetric, so skew and odd moments are 0.
const NOISE_A: i16 = 8381;
/// See [`NOISE_A`].
const NOISE_B: i16 = 24387;

/// Standard deviation of the shaped noise in its integer units: `32768·√E[z²]`,
/// over the 32768 equally likely values (`A²/3 + 2AB/5 + B²/7` for the continuous `u`;
/// `noise_has_the_normal_moments`); the layer filtered from it
/// is `NOISE_SCALE·G`.
pub(super) const NOISE_SCALE: f64 = 13788.74;

/// The liquid pixels' source: the f32 standard layer or the 16-bit noise.
#[derive(Clone, Copy)]
pub(super) enum Liquid<'a> {
    /// The standard layer `G` of `fast_layer` (`h·w` f32) and `τ`: liquid where `G > τ`.
    Layer(&'a [f32], f32),
    /// The 16-bit noise of [`draw_noise`], the layer's taps and `τ16`: liquid where the
    /// fixed-point filter of the noise is above `τ16`.
    Noise(&'a [i16], &'a LayerTaps, i16),
}

/// The layer Gaussian's taps in Q15 (`vpmulhrsw` factors) summing to 32768 (a single tap:
/// 32767).
pub(super) struct LayerTaps {
    t: Vec<i16>,
}

impl LayerTaps {
    /// The taps of `kernel1d(sigma, truncate)` rounded to Q15, the remainder on the centre.
    pub(super) fn new(sigma: f64, truncate: f64) -> LayerTaps {
        let g = kernel1d(sigma, truncate);
        let mut q: Vec<i64> = g.iter().map(|&v| (v * 32768.0).round() as i64).collect();
        let c = q.len() / 2;
        q[c] = 32768 - (q.iter().sum::<i64>() - q[c]);
        LayerTaps {
            t: q.into_iter().map(|v| v.clamp(0, 32767) as i16).collect(),
        }
    }

    fn radius(&self) -> usize {
        self.t.len() / 2
    }
}

/// `τ16` of [`Liquid::Noise`] for the standard-layer threshold `tau`: the filtered noise is
/// `NOISE_SCALE·G` in integers, so `G > τ` is `G16 > ⌊NOISE_SCALE·τ⌋` (clamped to i16).
pub(super) fn noise_tau(tau: f32) -> i16 {
    (NOISE_SCALE * tau as f64).floor().clamp(-32768.0, 32767.0) as i16
}

/// Values of the noise plane for an `h × w` layer: whole 16-value steps plus one step the
/// vector passes may read past the last row.
fn noise_len(n: usize) -> usize {
    n.next_multiple_of(STEP) + STEP
}

/// The layer's 16-bit noise for `n` pixels, [`noise_len`]`(n)` values (the last step unused):
/// the words of `gen` split into their low and high halves (in that order) as i16 `u`, made
/// odd (`u | 1`: uniform on the odd values of (−32768, 32768), symmetric about 0) and shaped
/// ([`shape`]).
pub(super) fn draw_noise(gen: &mut Xoshiro8, n: usize) -> Buf<i16> {
    let mut z = Buf::<i16>::take(noise_len(n));
    let words = n.next_multiple_of(STEP) / 2;
    dispatch!(draw_noise_scalar / draw_noise_avx2(gen, &mut z[..2 * words]));
    z
}

/// The noise value of the 16 random bits `u` (see [`draw_noise`]):
/// `mulhrs(u, A) ⊕ mulhrs(mulhrs(u, u), mulhrs(u, B))` of `u | 1` (`⊕` saturating; never
/// reached: `|z| ≤ 32766`).
#[inline(always)]
fn shape(u: i16) -> i16 {
    let u = u | 1;
    mulhrs(u, NOISE_A).saturating_add(mulhrs(mulhrs(u, u), mulhrs(u, NOISE_B)))
}

/// Scalar twin of [`draw_noise`]'s fill (`out.len()` a multiple of 16).
fn draw_noise_scalar(gen: &mut Xoshiro8, out: &mut [i16]) {
    let mut words = Buf::<u32>::take(out.len() / 2);
    gen.fill(&mut words);
    for (o, &v) in out.chunks_exact_mut(2).zip(&words) {
        o[0] = shape(v as u16 as i16);
        o[1] = shape((v >> 16) as u16 as i16);
    }
}

/// AVX2 twin of [`draw_noise_scalar`]: each step's eight words shaped as 16 i16 (the same
/// operations: `vpor`, `vpmulhrsw`, `vpaddsw`).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn draw_noise_avx2(gen: &mut Xoshiro8, out: &mut [i16]) {
    use crate::rng::xoshiro::Avx2Lanes;
    use std::arch::x86_64::*;
    let mut lanes = Avx2Lanes::load(gen);
    let (one, a, b) = (
        _mm256_set1_epi16(1),
        _mm256_set1_epi16(NOISE_A),
        _mm256_set1_epi16(NOISE_B),
    );
    for o in out.chunks_exact_mut(STEP) {
        let u = _mm256_or_si256(lanes.step(), one);
        let cube = _mm256_mulhrs_epi16(_mm256_mulhrs_epi16(u, u), _mm256_mulhrs_epi16(u, b));
        let z = _mm256_adds_epi16(_mm256_mulhrs_epi16(u, a), cube);
        _mm256_storeu_si256(o.as_mut_ptr() as *mut __m256i, z);
    }
    lanes.store(gen);
}

/// `vpmulhrsw`: `(a·b + 2¹⁴) >> 15` (`b` ≥ 0 here, so no overflow).
#[inline(always)]
fn mulhrs(a: i16, b: i16) -> i16 {
    ((a as i32 * b as i32 + 0x4000) >> 15) as i16
}

/// `Σ_k mulhrs(v[k], t[k])`, saturating, `k` ascending from 0.
#[inline(always)]
fn taps16(v: impl Iterator<Item = i16>, t: &[i16]) -> i16 {
    v.zip(t)
        .fold(0i16, |a, (v, &t)| a.saturating_add(mulhrs(v, t)))
}

/// Liquid bits of row `y` of the filtered noise `z` (`h × w`) into `bits[r..r + w]`, as
/// [`Liquid::Noise`]: the vertical pass into `vrow[rl..rl + w]`, its edges replicated, the
/// horizontal pass, `> τ16`.
#[allow(clippy::too_many_arguments)]
fn noise_bits_row_scalar(
    z: &[i16],
    [h, w]: [usize; 2],
    y: usize,
    taps: &LayerTaps,
    tau16: i16,
    vrow: &mut [i16],
    r: usize,
    bits: &mut [u16],
) {
    let rl = taps.radius();
    for x in 0..w {
        let col = (0..taps.t.len()).map(|k| z[tap_row(y, k, rl, h) * w + x]);
        vrow[rl + x] = taps16(col, &taps.t);
    }
    pad(vrow, rl, w);
    for x in 0..w {
        let v = taps16(vrow[x..].iter().copied(), &taps.t);
        bits[r + x] = if v > tau16 { u16::MAX } else { 0 };
    }
}

/// The liquid bit of a standard-layer value: all ones where `g > tau`.
#[inline(always)]
fn bit(g: f32, tau: f32) -> u16 {
    if g > tau {
        u16::MAX
    } else {
        0
    }
}

/// Replicates the edge bits `bits[r]` and `bits[r + w − 1]` into the `r` values on each side
/// (SciPy `nearest`).
#[inline(always)]
fn pad<T: Copy>(bits: &mut [T], r: usize, w: usize) {
    let (first, last) = (bits[r], bits[r + w - 1]);
    bits[..r].fill(first);
    bits[r + w..2 * r + w].fill(last);
}

/// Row stride of the horizontal pass's plane: whole vector steps.
fn stride(w: usize) -> usize {
    w.next_multiple_of(STEP)
}

/// Horizontal mask pass of the padded bits `bits` into `out` (one per pixel):
/// `Σ_l H[l]` where `bits[x + l]` is set (wrapping adds; the sum is at most 65535).
fn mask_row_scalar(bits: &[u16], taps: &Taps, out: &mut [u16]) {
    for (x, o) in out.iter_mut().enumerate() {
        let mut acc = 0u16;
        for (l, &t) in taps.h.iter().enumerate() {
            acc = acc.wrapping_add(bits[x + l] & t);
        }
        *o = acc;
    }
}

/// Horizontal mask pass of the liquid bits of all rows into a plane of `h` rows of [`stride`]
/// values (values past `w` unspecified).
fn horizontal_plane_scalar(liquid: Liquid<'_>, [h, w]: [usize; 2], taps: &Taps) -> Buf<u16> {
    let (r, ws) = (taps.radius(), stride(w));
    let mut hv = Buf::<u16>::take(h * ws);
    let mut bits = vec![0u16; w + 2 * r];
    let mut vrow = vec![0i16; w + 2 * layer_radius(liquid)];
    for y in 0..h {
        liquid_row_scalar(liquid, [h, w], y, &mut vrow, r, &mut bits);
        pad(&mut bits, r, w);
        mask_row_scalar(&bits, taps, &mut hv[y * ws..y * ws + w]);
    }
    hv
}

/// The layer filter's radius of a [`Liquid::Noise`] (0 for a layer).
fn layer_radius(liquid: Liquid<'_>) -> usize {
    match liquid {
        Liquid::Layer(..) => 0,
        Liquid::Noise(_, t, _) => t.radius(),
    }
}

/// Liquid bits of row `y` into `bits[r..r + w]` (`vrow`: scratch of the noise's vertical pass).
fn liquid_row_scalar(
    liquid: Liquid<'_>,
    [h, w]: [usize; 2],
    y: usize,
    vrow: &mut [i16],
    r: usize,
    bits: &mut [u16],
) {
    match liquid {
        Liquid::Layer(g, tau) => {
            for (b, &v) in bits[r..r + w].iter_mut().zip(&g[y * w..(y + 1) * w]) {
                *b = bit(v, tau);
            }
        }
        Liquid::Noise(z, t, tau16) => noise_bits_row_scalar(z, [h, w], y, t, tau16, vrow, r, bits),
    }
}

/// The liquid pixels (1, else 0) of `liquid` (`h × w`), as the blend sees them.
#[cfg(test)]
pub(super) fn liquid_bits(liquid: Liquid<'_>, [h, w]: [usize; 2]) -> Vec<u8> {
    let mut out = Vec::with_capacity(h * w);
    let mut vrow = vec![0i16; w + 2 * layer_radius(liquid)];
    let mut bits = vec![0u16; w];
    for y in 0..h {
        liquid_row_scalar(liquid, [h, w], y, &mut vrow, 0, &mut bits);
        out.extend(bits.iter().map(|&b| u8::from(b != 0)));
    }
    out
}

/// Source row of vertical tap `k` for output row `y` (clamped: SciPy `nearest`).
#[inline(always)]
fn tap_row(y: usize, k: usize, r: usize, h: usize) -> usize {
    (y + k).saturating_sub(r).min(h - 1)
}

/// Vertical pass and cut of output row `y`, pixels `xs`: `m = bias ⊕ Σ_k (h_k·V[k]) >> 16`
/// (`⊕` saturating, `k` ascending), `m` where `m ≥ cut`, else 0, into `out` (one per pixel).
fn weight_row_scalar(
    hv: &[u16],
    [h, w]: [usize; 2],
    y: usize,
    taps: &Taps,
    cut: u16,
    xs: std::ops::Range<usize>,
    out: &mut [u16],
) {
    let (r, ws) = (taps.radius(), stride(w));
    for (o, x) in out.iter_mut().zip(xs) {
        let mut m = taps.bias;
        for (k, &t) in taps.v.iter().enumerate() {
            let v = hv[tap_row(y, k, r, h) * ws + x];
            m = m.saturating_add(((v as u32 * t as u32) >> 16) as u16);
        }
        *o = if m >= cut { m } else { 0 };
    }
}

/// The fixed-point mud weights of `liquid` (`h × w`): the mask `m` as a 16-bit fraction, 0
/// where below `cut` (the blend's weights with `cut =` [`CUT`]; `cut = 0` gives the whole
/// mask).
#[cfg(test)]
pub(super) fn weights(liquid: Liquid<'_>, [h, w]: [usize; 2], taps: &Taps, cut: u16) -> Vec<u16> {
    let hv = horizontal_plane_scalar(liquid, [h, w], taps);
    let mut out = vec![0u16; h * w];
    for y in 0..h {
        let row = &mut out[y * w..(y + 1) * w];
        weight_row_scalar(&hv, [h, w], y, taps, cut, 0..w, row);
    }
    out
}

/// Fast-mode mud of an image: the mask of the liquid pixels of `liquid` (`h × w`) with `taps`,
/// cut at 0.8, and the fixed-point blend of `colour` (1/256 grey levels) into the interleaved
/// RGB `dst` with the kept fraction `65535 − m` (`src` itself where the cut mask is 0).
pub(super) fn blend(
    liquid: Liquid<'_>,
    hw: [usize; 2],
    taps: &Taps,
    src: &[u8],
    colour: [u16; 3],
    dst: &mut [u8],
) {
    let [h, w] = hw;
    if h == 0 || w == 0 {
        return;
    }
    let enough = match liquid {
        Liquid::Layer(g, _) => g.len() >= h * w,
        Liquid::Noise(z, _, _) => z.len() >= noise_len(h * w),
    };
    assert!(enough && src.len() >= 3 * h * w && dst.len() >= 3 * h * w);
    dispatch!(blend_scalar / blend_avx2(liquid, hw, taps, src, colour, dst))
}

/// Scalar twin of [`blend`].
fn blend_scalar(
    liquid: Liquid<'_>,
    [h, w]: [usize; 2],
    taps: &Taps,
    src: &[u8],
    colour: [u16; 3],
    dst: &mut [u8],
) {
    let hv = horizontal_plane_scalar(liquid, [h, w], taps);
    let (mut keep, mut weight) = (vec![0u16; w], vec![0u16; w]);
    for y in 0..h {
        let scratch = [&mut keep[..], &mut weight[..]];
        blend_pixels_scalar(&hv, [h, w], y, taps, 0..w, scratch, src, colour, dst);
    }
}

/// The weights of row `y`'s pixels `xs` ([`weight_row_scalar`] with [`CUT`]) and their
/// fixed-point blend into `dst` (the scalar twin's rows, the AVX2 twin's row tails); `keep` and
/// `weight` are scratch rows of at least `xs.len()` values.
#[allow(clippy::too_many_arguments)]
fn blend_pixels_scalar(
    hv: &[u16],
    [h, w]: [usize; 2],
    y: usize,
    taps: &Taps,
    xs: std::ops::Range<usize>,
    [keep, weight]: [&mut [u16]; 2],
    src: &[u8],
    colour: [u16; 3],
    dst: &mut [u8],
) {
    let (n, rows) = (xs.len(), 3 * (y * w + xs.start)..3 * (y * w + xs.end));
    let (keep, weight) = (&mut keep[..n], &mut weight[..n]);
    weight_row_scalar(hv, [h, w], y, taps, CUT, xs, weight);
    for (k, &m) in keep.iter_mut().zip(weight.iter()) {
        *k = !m;
    }
    rgb_fixed::blend_fixed_scalar(&src[rows.clone()], keep, weight, colour, &mut dst[rows]);
}

/// AVX2 twin of [`blend_scalar`], the same integer operations 16 pixels per step: the bits by
/// `vcmpps` + `vpackssdw` (layer) or the noise's filter by `vpmulhrsw` + `vpaddsw` in the
/// scalar's order and `vpcmpgtw`; the horizontal mask pass by `vpand` + `vpaddw` (two chains;
/// wrapping adds, so the order does not matter), the vertical one by `vpmulhuw` + `vpaddusw`
/// in the scalar's order, fused per 16 pixels with the cut (`vpmaxuw` + `vpcmpeqw`) and
/// [`rgb_fixed::blend16_avx2`]; a row's last `w mod 16` pixels by the scalar code. The tap
/// loops are unrolled for the default tables' 7 (layer) and 11 (mask) taps.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn blend_avx2(
    liquid: Liquid<'_>,
    hw: [usize; 2],
    taps: &Taps,
    src: &[u8],
    colour: [u16; 3],
    dst: &mut [u8],
) {
    let nl = match liquid {
        Liquid::Layer(..) => 0,
        Liquid::Noise(_, t, _) => t.t.len(),
    };
    match (nl, taps.h.len()) {
        (7, 11) => avx2::blend::<7, 11>(liquid, hw, taps, src, colour, dst),
        (_, 11) => avx2::blend::<0, 11>(liquid, hw, taps, src, colour, dst),
        _ => avx2::blend::<0, 0>(liquid, hw, taps, src, colour, dst),
    }
}

/// The AVX2 twin's body, tap counts as constants (`0`: the taps' own length).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;
    use std::arch::x86_64::*;

    /// `Σ_k op(load(p[k] + x), t[k])` over the `N` taps (`n` when `N = 0`), `acc` first.
    /// The taps are read with volatile loads: unrolled, LLVM hoisted them out of the pixel
    /// loop as zero-extended 32-bit vectors and made each `vpmulhuw` two 8-lane multiplies
    /// and a pack; read in the loop, each tap is a memory operand of one `vpmulhuw`.
    #[inline(always)]
    unsafe fn fold<const N: usize>(
        n: usize,
        acc: __m256i,
        mut load: impl FnMut(usize) -> __m256i,
        t: &[__m256i],
        op: impl Fn(__m256i, __m256i, __m256i) -> __m256i,
    ) -> __m256i {
        let n = if N == 0 { n } else { N };
        let mut acc = acc;
        for k in 0..n {
            acc = op(acc, load(k), std::ptr::read_volatile(t.as_ptr().add(k)));
        }
        acc
    }

    /// See [`blend_avx2`](super::blend_avx2).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn blend<const NL: usize, const NM: usize>(
        liquid: Liquid<'_>,
        [h, w]: [usize; 2],
        taps: &Taps,
        src: &[u8],
        colour: [u16; 3],
        dst: &mut [u8],
    ) {
        let (r, ws) = (taps.radius(), stride(w));
        let full = w / STEP * STEP;
        let mut hv = Buf::<u16>::take(h * ws);
        // the horizontal steps read up to `ws + 2r` bits
        let mut bits = vec![0u16; ws + 2 * r];
        let rl = layer_radius(liquid);
        let mut vrow = vec![0i16; ws + 2 * rl];
        let ht: Vec<__m256i> = taps
            .h
            .iter()
            .map(|&t| _mm256_set1_epi16(t as i16))
            .collect();
        let nh = ht.len();
        let nh2 = if NM == 0 { nh } else { NM };
        let mut zrows: Vec<*const i16> = vec![std::ptr::null(); 2 * rl + 1];
        let tv: Vec<__m256i> = match liquid {
            Liquid::Layer(..) => Vec::new(),
            Liquid::Noise(_, lt, _) => lt.t.iter().map(|&t| _mm256_set1_epi16(t)).collect(),
        };
        for y in 0..h {
            let bp = bits.as_mut_ptr().add(r);
            match liquid {
                Liquid::Layer(g, tau) => {
                    let th = _mm256_set1_ps(tau);
                    let gp = g.as_ptr().add(y * w);
                    let mut x = 0;
                    while x < full {
                        let a = _mm256_cmp_ps::<_CMP_GT_OQ>(_mm256_loadu_ps(gp.add(x)), th);
                        let b = _mm256_cmp_ps::<_CMP_GT_OQ>(_mm256_loadu_ps(gp.add(x + 8)), th);
                        let p = _mm256_packs_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b));
                        let p = _mm256_permute4x64_epi64::<0xD8>(p);
                        _mm256_storeu_si256(bp.add(x) as *mut __m256i, p);
                        x += STEP;
                    }
                    for x in full..w {
                        bits[r + x] = bit(g[y * w + x], tau);
                    }
                }
                Liquid::Noise(z, _, tau16) => {
                    let nl = tv.len();
                    for (k, p) in zrows.iter_mut().enumerate() {
                        *p = z.as_ptr().add(tap_row(y, k, rl, h) * w);
                    }
                    let mulhrs_add = |a, v, t| _mm256_adds_epi16(a, _mm256_mulhrs_epi16(v, t));
                    let vp = vrow.as_mut_ptr().add(rl);
                    let mut x = 0;
                    while x < ws {
                        let load = |k: usize| {
                            _mm256_loadu_si256(zrows.get_unchecked(k).add(x) as *const __m256i)
                        };
                        let v = fold::<NL>(nl, _mm256_setzero_si256(), load, &tv, mulhrs_add);
                        _mm256_storeu_si256(vp.add(x) as *mut __m256i, v);
                        x += STEP;
                    }
                    pad(&mut vrow, rl, w);
                    let (vp, t16) = (vrow.as_ptr(), _mm256_set1_epi16(tau16));
                    let mut x = 0;
                    while x < ws {
                        let load = |k: usize| _mm256_loadu_si256(vp.add(x + k) as *const __m256i);
                        let v = fold::<NL>(nl, _mm256_setzero_si256(), load, &tv, mulhrs_add);
                        let b = _mm256_cmpgt_epi16(v, t16);
                        _mm256_storeu_si256(bp.add(x) as *mut __m256i, b);
                        x += STEP;
                    }
                }
            }
            pad(&mut bits, r, w);
            let (bp, op) = (bits.as_ptr(), hv.as_mut_ptr().add(y * ws));
            let mut x = 0;
            while x < ws {
                let (mut a0, mut a1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
                let mut l = 0;
                while l + 1 < nh2 {
                    let b0 = _mm256_loadu_si256(bp.add(x + l) as *const __m256i);
                    let b1 = _mm256_loadu_si256(bp.add(x + l + 1) as *const __m256i);
                    a0 = _mm256_add_epi16(a0, _mm256_and_si256(b0, *ht.get_unchecked(l)));
                    a1 = _mm256_add_epi16(a1, _mm256_and_si256(b1, *ht.get_unchecked(l + 1)));
                    l += 2;
                }
                if l < nh2 {
                    let b0 = _mm256_loadu_si256(bp.add(x + l) as *const __m256i);
                    a0 = _mm256_add_epi16(a0, _mm256_and_si256(b0, *ht.get_unchecked(l)));
                }
                _mm256_storeu_si256(op.add(x) as *mut __m256i, _mm256_add_epi16(a0, a1));
                x += STEP;
            }
        }

        let vt: Vec<__m256i> = taps
            .v
            .iter()
            .map(|&t| _mm256_set1_epi16(t as i16))
            .collect();
        let bias = _mm256_set1_epi16(taps.bias as i16);
        let cut = _mm256_set1_epi16(CUT as i16);
        let ones = _mm256_set1_epi16(-1);
        let cv = rgb_fixed::colour3_avx2(colour);
        let mut rows: Vec<*const u16> = vec![std::ptr::null(); vt.len()];
        let (mut keep, mut weight) = (vec![0u16; w - full], vec![0u16; w - full]);
        let mulhi_adds = |a, v, t| _mm256_adds_epu16(a, _mm256_mulhi_epu16(v, t));
        for y in 0..h {
            for (k, p) in rows.iter_mut().enumerate() {
                *p = hv.as_ptr().add(tap_row(y, k, r, h) * ws);
            }
            let (sp, dp) = (src.as_ptr().add(3 * y * w), dst.as_mut_ptr().add(3 * y * w));
            let mut x = 0;
            while x < full {
                let load =
                    |k: usize| _mm256_loadu_si256(rows.get_unchecked(k).add(x) as *const __m256i);
                let m = fold::<NM>(nh, bias, load, &vt, mulhi_adds);
                // m ≥ CUT ⇔ max(m, CUT) = m
                let kept = _mm256_cmpeq_epi16(_mm256_max_epu16(m, cut), m);
                let b = _mm256_and_si256(m, kept);
                let a = _mm256_xor_si256(b, ones);
                rgb_fixed::blend16_avx2(sp.add(3 * x), dp.add(3 * x), [a, b], &cv);
                x += STEP;
            }
            if full < w {
                let scratch = [&mut keep[..], &mut weight[..]];
                blend_pixels_scalar(&hv, [h, w], y, taps, full..w, scratch, src, colour, dst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testdata::blend_inputs;
    use crate::simd;

    /// The taps sum as the passes need (65535 horizontally: no overflow and all-liquid gives
    /// 65535; 65536 vertically) and are symmetric, for the severities' σ and custom ones.
    #[test]
    fn taps_sum_and_mirror() {
        for sigma in [0.0, 0.5, 1.0, 1.5, 2.0, 4.0] {
            let t = Taps::new(sigma, 3.0);
            let sum = |v: &[u16]| v.iter().map(|&x| x as u32).sum::<u32>();
            assert_eq!(sum(&t.h), 65535, "σ {sigma}");
            let want_v = if t.v.len() == 1 { 65535 } else { 65536 };
            assert_eq!(sum(&t.v), want_v, "σ {sigma}");
            for v in [&t.h, &t.v] {
                assert!(v.iter().eq(v.iter().rev()), "σ {sigma}");
            }
        }
        assert_eq!(Taps::new(1.5, 3.0).h.len(), 11);
    }

    /// The noise's AVX2 twin gives the scalar one's values (low half of each word first) and
    /// leaves the generator in the same state.
    #[test]
    fn noise_twins_equal() {
        for n in [16usize, 48, 1008] {
            let g0 = Xoshiro8::from_states(std::array::from_fn(|j| [j as u32 + 1, 7, 9, 11]));
            let mut words = vec![0u32; n / 2];
            g0.clone().fill(&mut words);
            let mut want = vec![0i16; n];
            let mut g1 = g0.clone();
            draw_noise_scalar(&mut g1, &mut want);
            assert_eq!(want[0], shape(words[0] as u16 as i16));
            assert_eq!(want[1], shape((words[0] >> 16) as u16 as i16));
            for isa in simd::available() {
                let mut g2 = g0.clone();
                let mut got = vec![0i16; n];
                dispatch!(at isa; draw_noise_scalar / draw_noise_avx2(&mut g2, &mut got));
                assert_eq!((&want, &g1), (&got, &g2), "n {n} {isa:?}");
            }
        }
    }

    /// The shaped noise over all 65536 inputs (each equally likely): mean 0 (an odd function of
    /// a symmetric input, up to rounding), standard deviation [`NOISE_SCALE`] and kurtosis 3 within the Q15
    /// rounding; plain uniform noise (kurtosis 1.8) would fail it.
    #[test]
    fn noise_has_the_normal_moments() {
        let (mut m1, mut m2, mut m4) = (0f64, 0f64, 0f64);
        for u in i16::MIN..=i16::MAX {
            let z = shape(u) as f64;
            m1 += z;
            m2 += z * z;
            m4 += z.powi(4);
        }
        let n = 65536.0;
        let (m1, m2, m4) = (m1 / n, m2 / n, m4 / n);
        assert!(m1.abs() < 0.01, "{m1}");
        assert!(
            (m2.sqrt() / NOISE_SCALE - 1.0).abs() < 1e-4,
            "{}",
            m2.sqrt()
        );
        assert!((m4 / (m2 * m2) - 3.0).abs() < 2e-3, "{}", m4 / (m2 * m2));
        assert!((i16::MIN..=i16::MAX).all(|u| shape(u).abs() <= 32766));
    }

    /// The AVX2 twin equals the scalar one at every ISA the machine has, for both liquid
    /// sources (f32 layer; 16-bit noise with 7 taps, the unrolled path, and others), on layers
    /// with liquid and dry parts, widths around the 16-pixel steps (tails, widths below one
    /// step), heights below the filters' reach and mask σ of several radii; and a pixel whose
    /// weight is 0 keeps its source bytes.
    #[test]
    fn blend_twins_equal() {
        for &(h, w) in &[
            (1usize, 1usize),
            (1, 20),
            (3, 17),
            (4, 16),
            (7, 5),
            (20, 32),
            (13, 37),
            (40, 75),
        ] {
            let (src, f32s, _) = blend_inputs(3 * h * w + 6);
            // a smooth-ish layer: liquid in patches
            let g: Vec<f32> = (0..h * w)
                .map(|i| {
                    let (y, x) = ((i / w) as f32, (i % w) as f32);
                    (0.4 * x).sin() + (0.3 * y).cos() + 0.3 * f32s[i]
                })
                .collect();
            let mut z = vec![0i16; noise_len(h * w)];
            for (z, &v) in z.iter_mut().zip(&g) {
                *z = (v * 12000.0) as i16;
            }
            let (l7, l11) = (LayerTaps::new(1.0, 3.0), LayerTaps::new(1.5, 3.0));
            let sources = [
                Liquid::Layer(&g, 0.4),
                Liquid::Noise(&z, &l7, 2000),
                Liquid::Noise(&z, &l11, -3000),
            ];
            for sigma in [0.2, 1.0, 1.5, 3.0] {
                let taps = Taps::new(sigma, 3.0);
                let colour = [63 * 256, 42 * 256, 20 * 256];
                for (j, &liquid) in sources.iter().enumerate() {
                    let mut want = vec![0u8; 3 * h * w];
                    blend_scalar(liquid, [h, w], &taps, &src, colour, &mut want);
                    let m = weights(liquid, [h, w], &taps, CUT);
                    for (i, &m) in m.iter().enumerate() {
                        if m == 0 {
                            assert_eq!(want[3 * i..3 * i + 3], src[3 * i..3 * i + 3]);
                        }
                    }
                    if h * w > 100 {
                        assert!(m.contains(&0) && m.iter().any(|&v| v > 0));
                    }
                    for isa in simd::available() {
                        let mut got = vec![0u8; 3 * h * w];
                        dispatch!(at isa; blend_scalar / blend_avx2(liquid, [h, w], &taps, &src, colour, &mut got));
                        assert_eq!(want, got, "{h}x{w} σ {sigma} source {j} {isa:?}");
                    }
                }
            }
        }
    }
}
