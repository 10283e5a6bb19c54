//! The final per-value blend of fog, one image row of interleaved RGB values.
//!
//! * [`fog_fixed`] (fast mode, the usual case `a > 0`): the plasma row straight from the
//!   generator, fused with the three-channel blend in 16-bit fixed point; hand-written AVX2
//!   twin (the channel expansion is `kernels::rgb_fixed`'s byte shuffle), bit-identical to the scalar one (tested).
//! * [`fog_fast`] (fast mode, any other strength) and [`fog_exact`] (numpy mode): the per-pixel
//!   fog term expanded to the three channels by the caller, plain elementwise loops with
//!   compare-and-select clamps that the compiler vectorises; the AVX2 build is the same loop
//!   (no FMA contraction happens in Rust), hence bit-identical (tested).

use crate::kernels::quantise::{clip01_f64, q255, q255_f32};
#[cfg(target_arch = "x86_64")]
use crate::kernels::rgb_fixed::{expand3_avx2, load48_hi_avx2, store48_avx2};
use crate::simd::dispatch;

dispatch! {
    /// Fog, fast mode: `trunc(clamp(v·k + f, 0, 255))` in f32.
    pub(super) fn fog_fast / fog_fast_scalar / fog_fast_avx2 (src: &[u8], fog: &[f32], k: f32, dst: &mut [u8]) {
        for ((d, &s), &f) in dst.iter_mut().zip(src).zip(fog) {
            *d = q255_f32(s as f32 * k + f);
        }
    }
}

/// Fog, fast mode with `0 ≤ k < 1`, one row: pixel `x` has the raw plasma value
/// `field[x]` and the three values `src[3x..3x + 3]`. Per pixel `F = u16((p − base)·gain)`
/// (f32, the fog term in 1/256 grey levels: `gain = 256·255·k·a/(hi − lo)`), per value
/// `out = (sat_u16((v·k16) >> 8 + F)) >> 8` with `k16 = round(k·2¹⁶)`: `trunc(v·k + 255·k·a·P)`
/// up to 2/256 of a grey level. Precondition (the caller's): `(p − base)·gain ∈ [0, 65535]`.
pub(super) fn fog_fixed(src: &[u8], field: &[f32], base: f32, gain: f32, k16: u16, dst: &mut [u8]) {
    dispatch!(fog_fixed_scalar / fog_fixed_avx2(src, field, base, gain, k16, dst))
}

/// Scalar twin of [`fog_fixed`].
pub(super) fn fog_fixed_scalar(
    src: &[u8],
    field: &[f32],
    base: f32,
    gain: f32,
    k16: u16,
    dst: &mut [u8],
) {
    let k16 = k16 as u32;
    for ((d3, s3), &p) in dst.chunks_exact_mut(3).zip(src.chunks_exact(3)).zip(field) {
        let f = ((p - base) * gain) as u16;
        for (d, &s) in d3.iter_mut().zip(s3) {
            *d = ((((s as u32 * k16) >> 8) as u16).saturating_add(f) >> 8) as u8;
        }
    }
}

/// AVX2 twin of [`fog_fixed_scalar`]: 16 pixels (48 values) per step, the same integer
/// arithmetic (`vpmulhuw` of `v << 8` by `k16` is `(v·k16) >> 8`, `vpaddusw` the saturating
/// add; `vcvttps2dq` + `vpackusdw` equals Rust's saturating `as u16` on the precondition's range).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn fog_fixed_avx2(
    src: &[u8],
    field: &[f32],
    base: f32,
    gain: f32,
    k16: u16,
    dst: &mut [u8],
) {
    use std::arch::x86_64::*;
    let w = field.len().min(src.len() / 3).min(dst.len() / 3);
    let full = w / 16 * 16;
    let (vb, vg) = (_mm256_set1_ps(base), _mm256_set1_ps(gain));
    let vk = _mm256_set1_epi16(k16 as i16);
    let (sp, dp, fp) = (src.as_ptr(), dst.as_mut_ptr(), field.as_ptr());
    let mut x = 0;
    while x < full {
        let fa = _mm256_loadu_ps(fp.add(x));
        let fb = _mm256_loadu_ps(fp.add(x + 8));
        let ta = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_sub_ps(fa, vb), vg));
        let tb = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_sub_ps(fb, vb), vg));
        let f16 = _mm256_permute4x64_epi64(_mm256_packus_epi32(ta, tb), 0xD8);
        let e = expand3_avx2(f16);
        let s = load48_hi_avx2(sp.add(3 * x));
        let mut r = [_mm256_setzero_si256(); 3];
        for c in 0..3 {
            let t = _mm256_mulhi_epu16(s[c], vk);
            r[c] = _mm256_srli_epi16(_mm256_adds_epu16(t, e[c]), 8);
        }
        store48_avx2(dp.add(3 * x), r);
        x += 16;
    }
    fog_fixed_scalar(
        &src[3 * full..3 * w],
        &field[full..w],
        base,
        gain,
        k16,
        &mut dst[3 * full..3 * w],
    );
}

dispatch! {
    /// Fog, numpy mode: `trunc(clip((v/255 + f)·m / denom, 0, 1)·255)` in f64 (the
    /// reference's expression and order).
    pub(super) fn fog_exact / fog_exact_scalar / fog_exact_avx2 (src: &[u8], fog: &[f64], m: f64, denom: f64, dst: &mut [u8]) {
        for ((d, &s), &f) in dst.iter_mut().zip(src).zip(fog) {
            *d = q255(clip01_f64((s as f64 / 255.0 + f) * m / denom) * 255.0);
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
    fn fog_avx2_equals_scalar() {
        let n = 1003;
        let (src, f32s, f64s) = blend_inputs(n);
        let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
        for isa in simd::available() {
            fog_fast_scalar(&src, &f32s, 0.7, &mut a);
            dispatch!(at isa; fog_fast_scalar / fog_fast_avx2(&src, &f32s, 0.7, &mut b));
            assert_eq!(a, b, "fog_fast");
            fog_exact_scalar(&src, &f64s, 0.9, 2.9, &mut a);
            dispatch!(at isa; fog_exact_scalar / fog_exact_avx2(&src, &f64s, 0.9, 2.9, &mut b));
            assert_eq!(a, b, "fog_exact");
        }
    }

    /// [`fog_fixed`]'s AVX2 twin equals the scalar one at every ISA (every width up to two
    /// vector steps plus a tail, so each shuffle lane and the tail are hit), and the scalar one
    /// equals `trunc(v·k + 255·k·a·P)` up to the fixed point's rounding (< 0.01 grey level).
    #[test]
    fn fog_fixed_avx2_equals_scalar_and_float_blend() {
        let (src, f32s, _) = blend_inputs(3 * 41);
        let field: Vec<f32> = f32s[..41].iter().map(|v| v.abs() * 3.0 + 0.5).collect();
        let (base, hi) = (0.5f32, 4.2f32);
        let (k, a) = (0.37f64, 1.7f64);
        let gain = (256.0 * 255.0 * k * a / (hi - base) as f64) as f32;
        let k16 = (k * 65536.0).round() as u16;
        for w in 0..=41 {
            let (s, f) = (&src[..3 * w], &field[..w]);
            let (mut a1, mut b1) = (vec![0u8; 3 * w], vec![0u8; 3 * w]);
            fog_fixed_scalar(s, f, base, gain, k16, &mut a1);
            for isa in simd::available() {
                dispatch!(at isa; fog_fixed_scalar / fog_fixed_avx2(s, f, base, gain, k16, &mut b1));
                assert_eq!(a1, b1, "width {w}, {isa:?}");
            }
            for (i, &o) in a1.iter().enumerate() {
                let p = (f[i / 3] - base) as f64 / (hi - base) as f64;
                let exact = s[i] as f64 * k + 255.0 * k * a * p;
                let o = o as f64;
                assert!(o <= exact + 0.01 && exact < o + 1.0 + 0.01, "{o} {exact}");
            }
        }
    }
}
