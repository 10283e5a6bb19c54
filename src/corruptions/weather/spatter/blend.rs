//! The final per-value blends of spatter's two branches (water, mud), one image row of
//! interleaved RGB values. Elementwise loops vectorised by the compiler; the AVX2 build is the
//! same loop, bit-identical (tested).

use crate::kernels::quantise::{clip01_f32, clip01_f64, q255, q255_f32};
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

dispatch! {
    /// Fast-mode mud weights of one row: `m' = m` where `m ≥ 0.8`, else 0; the kept fraction
    /// `frac16((1 − m')·65535)` and the mud weight `frac16(m'·65535)` per pixel.
    pub(super) fn mud_weights / mud_weights_scalar / mud_weights_avx2 (mask: &[f32], keep: &mut [u16], weight: &mut [u16]) {
        for ((k, w), &m) in keep.iter_mut().zip(weight.iter_mut()).zip(mask) {
            let m = if m < 0.8 { 0.0 } else { m };
            *k = frac16((1.0 - m) * 65535.0);
            *w = frac16(m * 65535.0);
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

    /// The weight kernels' AVX2 builds equal the scalar ones (NaN, out-of-range and
    /// below-threshold masks included), and a mask below 0.8 keeps the whole value.
    #[test]
    fn weights_avx2_equal_scalar() {
        let n = 1003;
        let (src, f32s, _) = blend_inputs(n);
        let mut mask: Vec<f32> = f32s.iter().map(|v| v * 1.1).collect();
        mask[3] = f32::NAN;
        mask[4] = 0.5;
        let (mut a, mut b) = (vec![0u16; n], vec![0u16; n]);
        let (mut c, mut d) = (vec![0u16; n], vec![0u16; n]);
        let rev: Vec<u8> = src.iter().rev().copied().collect();
        for isa in simd::available() {
            water_weights_scalar(&src, &rev, 1.3, &mut a);
            dispatch!(at isa; water_weights_scalar / water_weights_avx2(&src, &rev, 1.3, &mut b));
            assert_eq!(a, b, "water weights");
            mud_weights_scalar(&mask, &mut a, &mut c);
            dispatch!(at isa; mud_weights_scalar / mud_weights_avx2(&mask, &mut b, &mut d));
            assert_eq!((&a, &c), (&b, &d), "mud weights");
            assert_eq!((a[4], c[4]), (65535, 0));
        }
    }
}
