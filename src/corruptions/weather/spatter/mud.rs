//! Fast-mode mud (spatter severities 4–5, ALGORITHMS.md §4.18): the mask `m = gaussian(B, s)`
//! of the liquid pixels `B = [G > τ]` of the standard layer `G`, its 0.8 cut and the blend
//! `v·(1 − m) + m·colour`, all in 16-bit fixed point.
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
//! truncation < 1 each; `fixed_mask_tracks_the_f32_mask` bounds it), far inside the blend's
//! 2/256 grey-level bound. Why: the f32 mask filter (11 FMA taps per value and pass, an f32
//! plane of bits and one of the mask, a conversion per weight) was a third of mud's time; in
//! fixed point each pass takes 16 values per step, the bits are a u16 row in L1 and the vertical
//! pass runs row by row into the blend (no mask plane).

use crate::kernels::gaussian::kernel1d;
use crate::kernels::rgb_fixed;
use crate::kernels::scratch::Buf;
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
fn pad(bits: &mut [u16], r: usize, w: usize) {
    let (first, last) = (bits[r], bits[r + w - 1]);
    bits[..r].fill(first);
    bits[r + w..2 * r + w].fill(last);
}

/// Row stride of the horizontal pass's plane: whole vector steps.
fn stride(w: usize) -> usize {
    w.next_multiple_of(STEP)
}

/// Horizontal pass of the bits of all rows of `g` (`h × w`, standard layer) into a plane of
/// `h` rows of [`stride`] values (values past `w` unspecified).
fn horizontal_plane_scalar(g: &[f32], [h, w]: [usize; 2], tau: f32, taps: &Taps) -> Buf<u16> {
    let (r, ws) = (taps.radius(), stride(w));
    let mut hv = Buf::<u16>::take(h * ws);
    let mut bits = vec![0u16; w + 2 * r];
    for y in 0..h {
        for (b, &v) in bits[r..r + w].iter_mut().zip(&g[y * w..(y + 1) * w]) {
            *b = bit(v, tau);
        }
        pad(&mut bits, r, w);
        for (x, o) in hv[y * ws..y * ws + w].iter_mut().enumerate() {
            let mut acc = 0u16;
            for (l, &t) in taps.h.iter().enumerate() {
                acc = acc.wrapping_add(bits[x + l] & t);
            }
            *o = acc;
        }
    }
    hv
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

/// The fixed-point mud weights of the standard layer `g` (`h × w`): the mask `m` as a 16-bit
/// fraction, 0 where below `cut` (the blend's weights with `cut =` [`CUT`]; `cut = 0` gives the
/// whole mask).
#[cfg(test)]
pub(super) fn weights(g: &[f32], [h, w]: [usize; 2], tau: f32, taps: &Taps, cut: u16) -> Vec<u16> {
    let hv = horizontal_plane_scalar(g, [h, w], tau, taps);
    let mut out = vec![0u16; h * w];
    for y in 0..h {
        let row = &mut out[y * w..(y + 1) * w];
        weight_row_scalar(&hv, [h, w], y, taps, cut, 0..w, row);
    }
    out
}

/// Fast-mode mud of an image: the mask of the liquid pixels `g > tau` of the standard layer `g`
/// (`h × w`) with `taps`, cut at 0.8, and the fixed-point blend of `colour` (1/256 grey levels)
/// into the interleaved RGB `dst` with the kept fraction `65535 − m` (`src` itself where the
/// cut mask is 0).
pub(super) fn blend(
    g: &[f32],
    hw: [usize; 2],
    tau: f32,
    taps: &Taps,
    src: &[u8],
    colour: [u16; 3],
    dst: &mut [u8],
) {
    let [h, w] = hw;
    if h == 0 || w == 0 {
        return;
    }
    assert!(g.len() >= h * w && src.len() >= 3 * h * w && dst.len() >= 3 * h * w);
    dispatch!(blend_scalar / blend_avx2(g, hw, tau, taps, src, colour, dst))
}

/// Scalar twin of [`blend`].
fn blend_scalar(
    g: &[f32],
    [h, w]: [usize; 2],
    tau: f32,
    taps: &Taps,
    src: &[u8],
    colour: [u16; 3],
    dst: &mut [u8],
) {
    let hv = horizontal_plane_scalar(g, [h, w], tau, taps);
    let (mut keep, mut weight) = (vec![0u16; w], vec![0u16; w]);
    for y in 0..h {
        weight_row_scalar(&hv, [h, w], y, taps, CUT, 0..w, &mut weight);
        for (k, &m) in keep.iter_mut().zip(&weight) {
            *k = !m;
        }
        let rows = 3 * y * w..3 * (y + 1) * w;
        rgb_fixed::blend_fixed_scalar(&src[rows.clone()], &keep, &weight, colour, &mut dst[rows]);
    }
}

/// AVX2 twin of [`blend_scalar`], the same integer operations 16 pixels per step: the bits by
/// `vcmpps` + `vpackssdw`, the horizontal pass by `vpand` + `vpaddw` (two chains; wrapping
/// adds, so the order does not matter), the vertical pass by `vpmulhuw` + `vpaddusw` in the
/// scalar's order, fused per 16 pixels with the cut (`vpmaxuw` + `vpcmpeqw`) and
/// [`rgb_fixed::blend16_avx2`]; a row's last `w mod 16` pixels by the scalar code.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn blend_avx2(
    g: &[f32],
    [h, w]: [usize; 2],
    tau: f32,
    taps: &Taps,
    src: &[u8],
    colour: [u16; 3],
    dst: &mut [u8],
) {
    use std::arch::x86_64::*;
    let (r, ws) = (taps.radius(), stride(w));
    let full = w / STEP * STEP;
    let mut hv = Buf::<u16>::take(h * ws);
    // the horizontal steps read up to `ws + 2r` bits
    let mut bits = vec![0u16; ws + 2 * r];
    let th = _mm256_set1_ps(tau);
    let ht: Vec<__m256i> = taps
        .h
        .iter()
        .map(|&t| _mm256_set1_epi16(t as i16))
        .collect();
    let nh = ht.len();
    for y in 0..h {
        let gp = g.as_ptr().add(y * w);
        let bp = bits.as_mut_ptr().add(r);
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
        pad(&mut bits, r, w);
        let (bp, op) = (bits.as_ptr(), hv.as_mut_ptr().add(y * ws));
        let mut x = 0;
        while x < ws {
            let (mut a0, mut a1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            let mut l = 0;
            while l + 1 < nh {
                let b0 = _mm256_loadu_si256(bp.add(x + l) as *const __m256i);
                let b1 = _mm256_loadu_si256(bp.add(x + l + 1) as *const __m256i);
                a0 = _mm256_add_epi16(a0, _mm256_and_si256(b0, ht[l]));
                a1 = _mm256_add_epi16(a1, _mm256_and_si256(b1, ht[l + 1]));
                l += 2;
            }
            if l < nh {
                let b0 = _mm256_loadu_si256(bp.add(x + l) as *const __m256i);
                a0 = _mm256_add_epi16(a0, _mm256_and_si256(b0, ht[l]));
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
    for y in 0..h {
        for (k, p) in rows.iter_mut().enumerate() {
            *p = hv.as_ptr().add(tap_row(y, k, r, h) * ws);
        }
        let (sp, dp) = (src.as_ptr().add(3 * y * w), dst.as_mut_ptr().add(3 * y * w));
        let mut x = 0;
        while x < full {
            let mut m = bias;
            for (&p, &t) in rows.iter().zip(&vt) {
                let v = _mm256_loadu_si256(p.add(x) as *const __m256i);
                m = _mm256_adds_epu16(m, _mm256_mulhi_epu16(v, t));
            }
            // m ≥ CUT ⇔ max(m, CUT) = m
            let kept = _mm256_cmpeq_epi16(_mm256_max_epu16(m, cut), m);
            let b = _mm256_and_si256(m, kept);
            let a = _mm256_xor_si256(b, ones);
            rgb_fixed::blend16_avx2(sp.add(3 * x), dp.add(3 * x), [a, b], &cv);
            x += STEP;
        }
        if full < w {
            weight_row_scalar(&hv, [h, w], y, taps, CUT, full..w, &mut weight);
            for (k, &m) in keep.iter_mut().zip(&weight) {
                *k = !m;
            }
            let rows = 3 * (y * w + full)..3 * (y + 1) * w;
            rgb_fixed::blend_fixed_scalar(
                &src[rows.clone()],
                &keep,
                &weight,
                colour,
                &mut dst[rows],
            );
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

    /// The AVX2 twin equals the scalar one at every ISA the machine has, on layers with liquid
    /// and dry parts, widths around the 16-pixel steps (tails, widths below one step), heights
    /// below the filter's reach and σ of several radii; and a pixel whose weight is 0 keeps
    /// its source bytes.
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
            for sigma in [0.2, 1.0, 1.5, 3.0] {
                let taps = Taps::new(sigma, 3.0);
                let colour = [63 * 256, 42 * 256, 20 * 256];
                let mut want = vec![0u8; 3 * h * w];
                blend_scalar(&g, [h, w], 0.4, &taps, &src, colour, &mut want);
                let m = weights(&g, [h, w], 0.4, &taps, CUT);
                for (i, &m) in m.iter().enumerate() {
                    if m == 0 {
                        assert_eq!(want[3 * i..3 * i + 3], src[3 * i..3 * i + 3]);
                    }
                }
                if h * w > 100 {
                    assert!(m.iter().any(|&v| v == 0) && m.iter().any(|&v| v > 0));
                }
                for isa in simd::available() {
                    let mut got = vec![0u8; 3 * h * w];
                    dispatch!(at isa; blend_scalar / blend_avx2(&g, [h, w], 0.4, &taps, &src, colour, &mut got));
                    assert_eq!(want, got, "{h}x{w} σ {sigma} {isa:?}");
                }
            }
        }
    }
}
