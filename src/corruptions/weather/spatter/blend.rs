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
}
