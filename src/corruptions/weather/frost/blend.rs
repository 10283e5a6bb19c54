//! The final blend of frost, `a·x + b·texture` per value (elementwise, vectorised by the
//! compiler; the AVX2 build is the same loop, bit-identical, tested).

use crate::kernels::quantise::q255;
use crate::simd::dispatch;

dispatch! {
    /// Frost: `trunc(clamp(a·x + b·t, 0, 255))` in f64.
    pub(super) fn frost / frost_scalar / frost_avx2 (src: &[u8], tex: &[u8], a: f64, b: f64, dst: &mut [u8]) {
        for ((d, &x), &t) in dst.iter_mut().zip(src).zip(tex) {
            *d = q255(a * x as f64 + b * t as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testdata::test_values;
    use crate::simd;

    /// The AVX2 build equals the scalar twin at every ISA the machine has (NaN inputs included).
    #[test]
    fn frost_avx2_equals_scalar() {
        let n = 1003;
        let r = test_values(6 * n, 9);
        let src: Vec<u8> = r[..n].iter().map(|&v| v as u8).collect();
        let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
        for isa in simd::available() {
            frost_scalar(&src, &src[1..], 0.65, 0.7, &mut a[..n - 1]);
            dispatch!(at isa; frost_scalar / frost_avx2(&src, &src[1..], 0.65, 0.7, &mut b[..n - 1]));
            assert_eq!(a, b, "frost");
        }
    }
}
