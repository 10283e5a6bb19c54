//! Bulk final quantisation `trunc(clip(v, 0, 1) · 255)` (and `trunc(clip(v, 0, 255))`) of the
//! reference, for whole images.
//!
//! The scalar expressions are written so that the AVX2 build vectorises them (compare and
//! select, multiply, truncating conversion); NaN maps to 0 as in NumPy on x86 and in
//! [`crate::corruptions`]'s scalar helpers. The AVX2 variants are the same code compiled with
//! AVX2 and are held equal to the scalar twins by tests.

use crate::simd::dispatch;

#[inline(always)]
fn q64(v: f64) -> u8 {
    let v = if v > 0.0 { v } else { 0.0 }; // NaN -> 0
    let v = if v < 1.0 { v } else { 1.0 };
    // SAFETY: v·255 is finite and within [0, 255] here (NaN was mapped to 0 above).
    unsafe { (v * 255.0).to_int_unchecked::<i32>() as u8 }
}

#[inline(always)]
fn q32(v: f32) -> u8 {
    let v = if v > 0.0 { v } else { 0.0 };
    let v = if v < 1.0 { v } else { 1.0 };
    // SAFETY: as above, the product is within [0, 255].
    unsafe { (v * 255.0f32).to_int_unchecked::<i32>() as u8 }
}

/// `clip(v, 0, 1)` with NaN → 0 (f32, compare-and-select form, so loops vectorise).
#[inline(always)]
pub fn clip01_f32(v: f32) -> f32 {
    let v = if v > 0.0 { v } else { 0.0 };
    if v < 1.0 {
        v
    } else {
        1.0
    }
}

/// `clip(v, 0, 1)` with NaN → 0 (f64, compare-and-select form, so loops vectorise).
#[inline(always)]
pub fn clip01_f64(v: f64) -> f64 {
    let v = if v > 0.0 { v } else { 0.0 };
    if v < 1.0 {
        v
    } else {
        1.0
    }
}

/// `trunc(clamp(v, 0, 255))` as u8 with NaN → 0 (f64): the final quantisation of the weather
/// blends (compare-and-select clamps, so loops vectorise).
#[inline(always)]
pub fn q255(v: f64) -> u8 {
    let v = if v > 0.0 { v } else { 0.0 };
    let v = if v < 255.0 { v } else { 255.0 };
    // SAFETY: v is within [0, 255].
    unsafe { v.to_int_unchecked::<i32>() as u8 }
}

/// One dispatched kernel `dst[i] = f(src[i])` (the AVX2 twin is the same loop, vectorised).
/// `trunc(clamp(v, 0, 255))` as u8 with NaN → 0 in f32: the final quantisation of the fast
/// blurs, which work on the 0–255 scale (compare-and-select clamps, so loops vectorise).
#[inline(always)]
pub fn q255_f32(v: f32) -> u8 {
    let v = if v > 0.0 { v } else { 0.0 };
    let v = if v < 255.0 { v } else { 255.0 };
    // SAFETY: v is finite and within [0, 255].
    unsafe { v.to_int_unchecked::<i32>() as u8 }
}

macro_rules! bulk {
    ($name:ident, $scalar:ident, $avx2:ident, $t:ty, $f:ident, $doc:literal) => {
        dispatch! {
            #[doc = $doc]
            pub fn $name / $scalar / $avx2 (src: &[$t], dst: &mut [u8]) {
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = $f(v);
                }
            }
        }
    };
}

bulk!(
    unit_f64,
    unit_f64_scalar,
    unit_f64_avx2,
    f64,
    q64,
    "`trunc(clip(v, 0, 1) · 255)` in f64 for every value."
);
bulk!(
    unit_f32,
    unit_f32_scalar,
    unit_f32_avx2,
    f32,
    q32,
    "`trunc(clip(v, 0, 1) · 255)` in f32 (f32 multiply, as NumPy on float32 arrays)."
);
bulk!(
    clip255_f64,
    clip255_f64_scalar,
    clip255_f64_avx2,
    f64,
    q255,
    "`trunc(clip(v, 0, 255))` in f64 (motion_blur works on the 0–255 scale)."
);

/// `v / 255` in f64 for every byte (the reference's `x / 255.` of a uint8 image), e.g. the
/// row loader of glass_blur's Gaussians.
pub fn unit_from_u8(src: &[u8], dst: &mut [f64]) {
    dispatch!(unit_from_u8_scalar / unit_from_u8_avx2(src, dst))
}

/// Scalar twin of [`unit_from_u8`] (a correctly rounded division per value).
pub fn unit_from_u8_scalar(src: &[u8], dst: &mut [f64]) {
    for (d, &v) in dst.iter_mut().zip(src) {
        *d = v as f64 / 255.0;
    }
}

/// AVX2 + FMA version of [`unit_from_u8_scalar`], four values per step without a division:
/// `q = v·r` with `r = fl(1/255)`, then one Newton correction `q + fl(v − q·255)·r` with
/// fused multiply-adds. That this equals the correctly rounded `v / 255` is checked for every
/// one of the 256 inputs by a test, so the two are bit-identical.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn unit_from_u8_avx2(src: &[u8], dst: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = src.len().min(dst.len());
    let full = n / 4 * 4;
    let r = _mm256_set1_pd(1.0 / 255.0);
    let k255 = _mm256_set1_pd(255.0);
    let mut i = 0;
    while i < full {
        let b = (src.as_ptr().add(i) as *const i32).read_unaligned();
        let x = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(b)));
        let q = _mm256_mul_pd(x, r);
        let e = _mm256_fnmadd_pd(q, k255, x);
        _mm256_storeu_pd(dst.as_mut_ptr().add(i), _mm256_fmadd_pd(e, r, q));
        i += 4;
    }
    unit_from_u8_scalar(&src[full..n], &mut dst[full..n]);
}

/// `trunc_u8` of the reference: float → u8 by dropping the fraction (NaN → 0, saturating).
#[inline(always)]
pub(crate) fn trunc_u8(v: f64) -> u8 {
    v as u8
}

/// `np.uint8(np.clip(v, 0, 1) * 255)`: the final step of most corruptions.
#[inline(always)]
pub(crate) fn unit_to_u8(v: f64) -> u8 {
    trunc_u8(v.clamp(0.0, 1.0) * 255.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    #[test]
    fn simd_equals_scalar_and_reference_helpers() {
        let mut vals: Vec<f64> = (0..3000).map(|i| i as f64 / 2500.0 - 0.1).collect();
        vals.extend([
            f64::NAN,
            -0.0,
            1.0,
            1.0 - 1e-16,
            254.99999 / 255.0,
            f64::INFINITY,
        ]);
        let (mut a, mut b) = (vec![0u8; vals.len()], vec![0u8; vals.len()]);
        unit_f64_scalar(&vals, &mut a);
        for isa in simd::available() {
            dispatch!(at isa; unit_f64_scalar / unit_f64_avx2(&vals, &mut b));
            assert_eq!(a, b);
        }
        for (&v, &q) in vals.iter().zip(&a) {
            assert_eq!(q, unit_to_u8(v));
        }
        let v32: Vec<f32> = vals.iter().map(|&v| v as f32).collect();
        unit_f32_scalar(&v32, &mut a);
        for isa in simd::available() {
            dispatch!(at isa; unit_f32_scalar / unit_f32_avx2(&v32, &mut b));
            assert_eq!(a, b);
        }
        for (&v, &q) in v32.iter().zip(&a) {
            assert_eq!(q, (v.clamp(0.0, 1.0) * 255.0f32) as u8);
        }
        let big: Vec<f64> = vals.iter().map(|&v| v * 300.0).collect();
        clip255_f64_scalar(&big, &mut a);
        for isa in simd::available() {
            dispatch!(at isa; clip255_f64_scalar / clip255_f64_avx2(&big, &mut b));
            assert_eq!(a, b);
        }
        for (&v, &q) in big.iter().zip(&a) {
            assert_eq!(q, v.clamp(0.0, 255.0) as u8);
        }
    }

    #[test]
    fn unit_from_u8_is_the_division_for_every_byte() {
        let bytes: Vec<u8> = (0..=255u8)
            .chain((0..=255u8).rev())
            .chain([7, 200, 1])
            .collect();
        let mut a = vec![0f64; bytes.len()];
        unit_from_u8_scalar(&bytes, &mut a);
        for (&v, &q) in bytes.iter().zip(&a) {
            assert_eq!(q.to_bits(), (v as f64 / 255.0).to_bits());
        }
        let mut b = vec![0f64; bytes.len()];
        unit_from_u8(&bytes, &mut b);
        assert_eq!(a, b);
        for isa in simd::available() {
            for len in [0, 1, 3, 4, 5, bytes.len()] {
                let mut c = vec![0f64; len];
                dispatch!(at isa; unit_from_u8_scalar / unit_from_u8_avx2(&bytes[..len], &mut c));
                assert_eq!(a[..len], c[..], "len {len}");
            }
        }
    }
}
