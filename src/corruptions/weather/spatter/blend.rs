//! The final per-value blends of spatter's two branches (water, mud), one image row of
//! interleaved RGB values. The f32 blends are elementwise loops vectorised by the compiler (the
//! AVX2 build is the same loop, bit-identical); fast-mode water's fixed-point run blend has a
//! hand-written AVX2 twin ([`water_run_fixed_avx2`]). All twins are tested equal.

use crate::kernels::quantise::{clip01_f32, clip01_f64, q255, q255_f32};
use crate::kernels::rgb_fixed;
use crate::simd::dispatch;

dispatch! {
    /// Spatter, water: `trunc(clip(v/255 + m·c, 0, 1)·255)` in f32 (NaN → 0).
    pub(crate) fn water / water_scalar / water_avx2 (src: &[u8], mask: &[f32], colour: &[f32], dst: &mut [u8]) {
        for (((d, &v), &m), &c) in dst.iter_mut().zip(src).zip(mask).zip(colour) {
            *d = q255_f32(clip01_f32(v as f32 / 255.0 + m * c) * 255.0);
        }
    }
}

dispatch! {
    /// Spatter, mud: `x·keep` in f32 (`x = v/255`), `+ c·m` in f64,
    /// `trunc(clip(·, 0, 1)·255)`.
    pub(super) fn mud / mud_scalar / mud_avx2 (src: &[u8], mask: &[f64], keep: &[f32], colour: &[f64], dst: &mut [u8]) {
        for ((((d, &v), &m), &k), &c) in dst.iter_mut().zip(src).zip(mask).zip(keep).zip(colour) {
            let x = (v as f32 / 255.0) * k;
            *d = q255(clip01_f64(x as f64 + c * m) * 255.0);
        }
    }
}

dispatch! {
    /// `max(L8·D)` over a row pair or image (`0` when empty): the exact integer products (at
    /// most 255², so u16) of spatter's water mask, whose maximum normalises it. Dispatched so
    /// that the loop runs 16 products per AVX2 step (the baseline build used SSE2).
    pub(crate) fn max_product / max_product_scalar / max_product_avx2 (l8: &[u8], d: &[u8]) -> u16 {
        l8.iter()
            .zip(d)
            .map(|(&l, &d)| l as u16 * d as u16)
            .fold(0u16, |a, v| if v > a { v } else { a })
    }
}

/// `v` rounded to a 16-bit fraction, `trunc(clamp(v + 0.5, 0, 65535))`, NaN → 65535
/// (compare-and-select clamps and an unchecked conversion, so the loops below vectorise).
#[inline(always)]
fn frac16(v: f32) -> u16 {
    let v = v + 0.5;
    let v = if v < 65535.0 { v } else { 65535.0 };
    let v = if v > 0.0 { v } else { 0.0 };
    // SAFETY: 0 ≤ v ≤ 65535 here (NaN fails `v < 65535` and became 65535 first).
    unsafe { v.to_int_unchecked::<i32>() as u16 }
}

/// Fast-mode water weights of one row: `frac16(L8·D·scale)` per pixel, `scale = k/max·65535`
/// (the colour weight `M` of [`crate::kernels::rgb_fixed::blend_fixed_scalar`]).
fn water_weights(l8: &[u8], d: &[u8], scale: f32, out: &mut [u16]) {
    for ((o, &l), &d) in out.iter_mut().zip(l8).zip(d) {
        *o = frac16((l as f32 * d as f32) * scale);
    }
}

/// Fast-mode water blend of one row: [`water_weights`] and [`rgb_fixed::blend_fixed_scalar`] of the
/// colour `colour` (1/256 grey levels) over the pixels with liquid (fused per run:
/// [`water_run_fixed_avx2`]), a copy of `src` elsewhere.
/// Exact, not an approximation: a pixel without liquid (`L8 = 0`) has weight 0, and
/// `blend_fixed` returns the value itself for weight 0 and keep 65535 (`keep`: all 65535).
/// Why: liquid covers 3–25 % of the image, so most of the blend was a copy done in fixed-point
/// arithmetic. Runs of 16-pixel chunks (one AVX2 step of the blend; one 128-bit test of `L8`
/// each) are copied or weighted and blended as a whole. (Mud keeps the plain blend: its cut
/// mask is too fragmented for runs to pay.) `keep` (all 65535) and `weight` are rows of at
/// least `w` values, `weight` scratch.
pub(super) fn water_row_fixed(
    src: &[u8],
    [l8, d]: [&[u8]; 2],
    scale: f32,
    colour: [u16; 3],
    keep: &[u16],
    weight: &mut [u16],
    dst: &mut [u8],
) {
    wet_runs(l8, src, dst, |px, s, o| {
        let ld = [&l8[px.clone()], &d[px]];
        dispatch!(
            water_run_fixed_scalar / water_run_fixed_avx2(s, ld, scale, colour, keep, weight, o)
        );
    });
}

/// Scalar twin of [`water_run_fixed_avx2`]: [`water_weights`] of the run's pixels, then
/// [`rgb_fixed::blend_fixed_scalar`] with them (`keep`: all 65535; `weight`: scratch, both at
/// least as long as the run).
fn water_run_fixed_scalar(
    src: &[u8],
    [l8, d]: [&[u8]; 2],
    scale: f32,
    colour: [u16; 3],
    keep: &[u16],
    weight: &mut [u16],
    dst: &mut [u8],
) {
    let n = l8.len();
    water_weights(l8, &d[..n], scale, &mut weight[..n]);
    rgb_fixed::blend_fixed_scalar(src, &keep[..n], &weight[..n], colour, dst);
}

/// AVX2 twin of [`water_run_fixed_scalar`] (one wet run of [`water_row_fixed`]): the weights
/// of 16 pixels made in registers — `L8·D` exact in u16, converted to f32, `· scale`,
/// `+ 0.5`, the clamps as `vminps`/`vmaxps` (the same NaN outcome as [`frac16`]), truncation —
/// and blended at once ([`rgb_fixed::blend16_avx2`], the keep weight 65535). Why: the weights
/// no longer go through memory, and one call per run instead of two (the weights and the
/// blend were ~5 % of a water call).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn water_run_fixed_avx2(
    src: &[u8],
    [l8, d]: [&[u8]; 2],
    scale: f32,
    colour: [u16; 3],
    keep: &[u16],
    weight: &mut [u16],
    dst: &mut [u8],
) {
    use std::arch::x86_64::*;
    let w = l8.len().min(d.len()).min(src.len() / 3).min(dst.len() / 3);
    let full = w / 16 * 16;
    let cv = rgb_fixed::colour3_avx2(colour);
    let (sv, half) = (_mm256_set1_ps(scale), _mm256_set1_ps(0.5));
    let (top, zero) = (_mm256_set1_ps(65535.0), _mm256_setzero_ps());
    let ones = _mm256_set1_epi16(-1);
    // frac16 of 8 products (u16 lanes widened to i32)
    let frac = |p: __m128i| {
        let v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(p)), sv);
        let v = _mm256_add_ps(v, half);
        // `v < 65535 ? v : 65535` and `v > 0 ? v : 0` (NaN → 65535, as frac16)
        _mm256_cvttps_epi32(_mm256_max_ps(_mm256_min_ps(v, top), zero))
    };
    let (lp, dp, sp, op) = (l8.as_ptr(), d.as_ptr(), src.as_ptr(), dst.as_mut_ptr());
    let mut x = 0;
    while x < full {
        let l = _mm256_cvtepu8_epi16(_mm_loadu_si128(lp.add(x) as *const __m128i));
        let dv = _mm256_cvtepu8_epi16(_mm_loadu_si128(dp.add(x) as *const __m128i));
        // L8·D ≤ 255² fits u16 exactly
        let prod = _mm256_mullo_epi16(l, dv);
        let (lo, hi) = (
            frac(_mm256_castsi256_si128(prod)),
            frac(_mm256_extracti128_si256::<1>(prod)),
        );
        let b = _mm256_permute4x64_epi64::<0xD8>(_mm256_packus_epi32(lo, hi));
        rgb_fixed::blend16_avx2(sp.add(3 * x), op.add(3 * x), [ones, b], &cv);
        x += 16;
    }
    if full < w {
        water_run_fixed_scalar(
            &src[3 * full..3 * w],
            [&l8[full..w], &d[full..w]],
            scale,
            colour,
            keep,
            weight,
            &mut dst[3 * full..3 * w],
        );
    }
}

/// Pixels per dry-run test of [`wet_runs`]: one 16-pixel AVX2 step of the blends, one 128-bit
/// compare of `L8`.
const RUN: usize = 16;

/// The water blends' walk over one row: runs of `RUN`-pixel chunks whose `L8` is all 0 ("dry")
/// keep `src` (the row is copied to `dst` first, RGB, 3 bytes a pixel: one copy instead of
/// one per dry run), and `wet(pixels, src, dst)` blends the others (`src` and `dst` those
/// pixels' bytes). Exact wherever the blend of a pixel without liquid returns its source
/// byte (both water blends: -C's fixed-point one and ImageNet-P's f32 one, each tested).
/// Why: liquid covers a few to 25 % of the image, so most of a blend was a copy done in
/// arithmetic.
pub(crate) fn wet_runs(
    l8: &[u8],
    src: &[u8],
    dst: &mut [u8],
    mut wet: impl FnMut(std::ops::Range<usize>, &[u8], &mut [u8]),
) {
    let w = l8.len();
    let dry = |x: usize| match l8.get(x..x + RUN) {
        Some(c) => u128::from_ne_bytes(c.try_into().expect("16 bytes")) == 0,
        None => l8[x..].iter().all(|&v| v == 0),
    };
    // the whole row first (one copy per row instead of one per dry run; the wet runs are
    // then written over)
    dst[..3 * w].copy_from_slice(&src[..3 * w]);
    let mut x = 0;
    while x < w {
        while x < w && dry(x) {
            x = (x + RUN).min(w);
        }
        let start = x;
        while x < w && !dry(x) {
            x = (x + RUN).min(w);
        }
        if x > start {
            wet(start..x, &src[3 * start..3 * x], &mut dst[3 * start..3 * x]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testdata::blend_inputs;
    use crate::simd;

    /// The AVX2 build equals the scalar twin at every ISA the machine has (NaN inputs included).
    #[test]
    fn spatter_avx2_equals_scalar() {
        let n = 1003;
        let (src, f32s, f64s) = blend_inputs(n);
        let mut nanf = f32s.clone();
        nanf[7] = f32::NAN;
        let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
        for isa in simd::available() {
            water_scalar(&src, &nanf, &f32s, &mut a);
            dispatch!(at isa; water_scalar / water_avx2(&src, &nanf, &f32s, &mut b));
            assert_eq!(a, b, "water");
            assert_eq!(a[7], 0, "NaN mask gives 0");
            mud_scalar(&src, &f64s, &f32s, &f64s, &mut a);
            dispatch!(at isa; mud_scalar / mud_avx2(&src, &f64s, &f32s, &f64s, &mut b));
            assert_eq!(a, b, "mud");
        }
    }

    /// The run-wise water blend equals weighting and blending the whole row, on rows with
    /// dry runs (copied) and wet runs of every length up to three chunks, ragged row ends.
    #[test]
    fn water_row_fixed_equals_whole_row_blend() {
        let w = 103;
        let (src, _, _) = blend_inputs(3 * w);
        let d: Vec<u8> = (0..w).map(|i| (i * 37 % 21) as u8).collect();
        let colour = [175 * 256, 238 * 256, 238 * 256];
        let keep = vec![u16::MAX; w];
        for pattern in 0u32..16 {
            // chunk j is wet when bit j % 5 of the pattern is set (or always for the last)
            let l8: Vec<u8> = (0..w)
                .map(|i| {
                    let wet = pattern >> ((i / 16) % 5) & 1 == 1 || i >= 96;
                    if wet && i % 3 != 0 {
                        170 + (i % 80) as u8
                    } else {
                        0
                    }
                })
                .collect();
            let mut weight = vec![0u16; w];
            water_weights(&l8, &d, 1.7, &mut weight);
            let mut want = vec![0u8; 3 * w];
            rgb_fixed::blend_fixed(&src, &keep, &weight, colour, &mut want);
            let mut got = vec![7u8; 3 * w];
            let mut scratch = vec![0u16; w];
            water_row_fixed(&src, [&l8, &d], 1.7, colour, &keep, &mut scratch, &mut got);
            assert_eq!(got, want, "pattern {pattern}");
            assert!(want != src, "pattern {pattern}: no liquid");
        }
    }

    /// `max_product`'s twins agree and equal the largest product, at lengths around the
    /// vector steps, with the maximum in the tail.
    #[test]
    fn max_product_twins_equal_definition() {
        for n in [0usize, 1, 15, 16, 17, 31, 33, 100, 1003] {
            let l: Vec<u8> = (0..n).map(|i| (i * 37 % 200) as u8).collect();
            let mut d: Vec<u8> = (0..n).map(|i| (i * 11 % 90) as u8).collect();
            if n > 0 {
                d[n - 1] = 255;
            }
            let want = l
                .iter()
                .zip(&d)
                .map(|(&a, &b)| a as u32 * b as u32)
                .max()
                .unwrap_or(0) as u16;
            assert_eq!(max_product_scalar(&l, &d), want, "n {n}");
            for isa in simd::available() {
                let got = dispatch!(at isa; max_product_scalar / max_product_avx2(&l, &d));
                assert_eq!(got, want, "n {n} {isa:?}");
            }
        }
    }

    /// The fused AVX2 water run (weights made in registers) equals the scalar twin (weights
    /// then blend) at every ISA and every width up to two vector steps and a tail, on scales
    /// that put weights at 0, in between and at the 65535 clamp; `L8 = 0` keeps the source.
    #[test]
    fn water_run_fixed_twins_equal() {
        let n = 1003;
        let (src, _, _) = blend_inputs(3 * n);
        let l8: Vec<u8> = (0..n)
            .map(|i| if i % 5 == 0 { 0 } else { (i * 37 % 256) as u8 })
            .collect();
        let d: Vec<u8> = (0..n).map(|i| (i * 11 % 256) as u8).collect();
        let colour = [175 * 256, 238 * 256, 238 * 256];
        let keep = vec![u16::MAX; n];
        for scale in [65535.0 / 65025.0, 1.7, 0.013, 3.0] {
            for w in (0..=41).chain([n]) {
                let s = &src[..3 * w];
                let ld = [&l8[..w], &d[..w]];
                let mut weight = vec![0u16; w];
                let mut want = vec![0u8; 3 * w];
                water_run_fixed_scalar(s, ld, scale, colour, &keep, &mut weight, &mut want);
                for i in (0..w).filter(|i| l8[*i] == 0) {
                    assert_eq!(want[3 * i..3 * i + 3], s[3 * i..3 * i + 3]);
                }
                for isa in simd::available() {
                    let mut got = vec![0u8; 3 * w];
                    let mut scratch = vec![0u16; w];
                    dispatch!(at isa; water_run_fixed_scalar / water_run_fixed_avx2(s, ld, scale, colour, &keep, &mut scratch, &mut got));
                    assert_eq!(want, got, "width {w}, scale {scale}, {isa:?}");
                }
            }
        }
    }
}
