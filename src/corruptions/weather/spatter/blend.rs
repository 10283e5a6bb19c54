//! The final per-value blends of spatter's two branches (water, mud), one image row of
//! interleaved RGB values. Elementwise loops vectorised by the compiler; the AVX2 build is the
//! same loop, bit-identical (tested).

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

/// `v` rounded to a 16-bit fraction, `trunc(clamp(v + 0.5, 0, 65535))`, NaN to 0
/// (compare-and-select clamps and an unchecked conversion, so the loops below vectorise).
#[inline(always)]
fn frac16(v: f32) -> u16 {
    let v = v + 0.5;
    let v = if v < 65535.0 { v } else { 65535.0 };
    let v = if v > 0.0 { v } else { 0.0 };
    // SAFETY: 0 ≤ v ≤ 65535 here (NaN fails `v > 0` and became 0).
    unsafe { v.to_int_unchecked::<i32>() as u16 }
}

dispatch! {
    /// Fast-mode water weights of one row: `frac16(L8·D·scale)` per pixel, `scale = k/max·65535`
    /// (the colour weight `M` of [`crate::kernels::rgb_fixed::blend_fixed`]).
    pub(super) fn water_weights / water_weights_scalar / water_weights_avx2 (l8: &[u8], d: &[u8], scale: f32, out: &mut [u16]) {
        for ((o, &l), &d) in out.iter_mut().zip(l8).zip(d) {
            *o = frac16((l as f32 * d as f32) * scale);
        }
    }
}

/// Fast-mode water blend of one row: [`water_weights`] and [`rgb_fixed::blend_fixed`] of the
/// colour `colour` (1/256 grey levels) over the pixels with liquid, a copy of `src` elsewhere.
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
        let n = px.len();
        water_weights(&l8[px.clone()], &d[px], scale, &mut weight[..n]);
        rgb_fixed::blend_fixed(s, &keep[..n], &weight[..n], colour, o);
    });
}

/// Pixels per dry-run test of [`wet_runs`]: one 16-pixel AVX2 step of the blends, one 128-bit
/// compare of `L8`.
const RUN: usize = 16;

/// The water blends' walk over one row: runs of `RUN`-pixel chunks whose `L8` is all 0 ("dry")
/// are copied from `src` to `dst` (RGB, 3 bytes a pixel), and `wet(pixels, src, dst)` blends
/// the others (`src` and `dst` those pixels' bytes). Exact wherever the blend of a pixel
/// without liquid returns its source byte (both water blends: -C's fixed-point one and
/// ImageNet-P's f32 one, each tested). Why: liquid covers a few to 25 % of the image, so most
/// of a blend was a copy done in arithmetic.
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
    let mut x = 0;
    while x < w {
        let start = x;
        while x < w && dry(x) {
            x = (x + RUN).min(w);
        }
        dst[3 * start..3 * x].copy_from_slice(&src[3 * start..3 * x]);
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

    /// The water weight kernel's AVX2 build equals the scalar one.
    #[test]
    fn weights_avx2_equal_scalar() {
        let n = 1003;
        let (src, _, _) = blend_inputs(n);
        let (mut a, mut b) = (vec![0u16; n], vec![0u16; n]);
        let rev: Vec<u8> = src.iter().rev().copied().collect();
        for isa in simd::available() {
            water_weights_scalar(&src, &rev, 1.3, &mut a);
            dispatch!(at isa; water_weights_scalar / water_weights_avx2(&src, &rev, 1.3, &mut b));
            assert_eq!(a, b, "water weights");
        }
    }
}
