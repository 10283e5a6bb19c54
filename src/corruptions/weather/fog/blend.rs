//! The final per-value blend of fog, one image row of interleaved RGB values (the per-pixel
//! fog term expanded to the three channels by the caller). Plain elementwise loops with
//! compare-and-select clamps, so the compiler vectorises them; the AVX2 build is the same
//! loop (no FMA contraction happens in Rust), hence bit-identical (tested).

use crate::kernels::quantise::{clip01_f64, q255, q255_f32};
use crate::simd::dispatch;

dispatch! {
    /// Fog, fast mode: `trunc(clamp(v·k + f, 0, 255))` in f32.
    pub(super) fn fog_fast / fog_fast_scalar / fog_fast_avx2 (src: &[u8], fog: &[f32], k: f32, dst: &mut [u8]) {
        for ((d, &s), &f) in dst.iter_mut().zip(src).zip(fog) {
            *d = q255_f32(s as f32 * k + f);
        }
    }
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
}
