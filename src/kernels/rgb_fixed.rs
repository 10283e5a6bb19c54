//! Per-pixel terms blended into interleaved RGB rows in 16-bit fixed point (fast mode of fog and
//! spatter): a term computed once per pixel is spread over the pixel's three values by a byte
//! shuffle, so a row pass handles 48 values per AVX2 step with no per-value float work.

#[cfg(test)]
use crate::simd::dispatch;

/// `pshufb` pattern (within each 128-bit lane) repeating 16-bit elements: lane 0 takes the
/// elements `lo`, lane 1 the elements `hi`.
const fn expand_mask(lo: [u8; 8], hi: [u8; 8]) -> [u8; 32] {
    let mut m = [0u8; 32];
    let mut i = 0;
    while i < 8 {
        m[2 * i] = 2 * lo[i];
        m[2 * i + 1] = 2 * lo[i] + 1;
        m[16 + 2 * i] = 2 * hi[i];
        m[16 + 2 * i + 1] = 2 * hi[i] + 1;
        i += 1;
    }
    m
}

/// The three shuffles spreading 16 per-pixel terms over 48 values (pixel `x` to values
/// `3x..3x + 3`): values 0–15 from pixels 0–5 (lane 0 broadcast), 16–31 from pixels 5–10
/// (both lanes as they are), 32–47 from pixels 10–15 (lane 1 broadcast).
const EXPAND: [[u8; 32]; 3] = [
    expand_mask([0, 0, 0, 1, 1, 1, 2, 2], [2, 3, 3, 3, 4, 4, 4, 5]),
    expand_mask([5, 5, 6, 6, 6, 7, 7, 7], [0, 0, 0, 1, 1, 1, 2, 2]),
    expand_mask([2, 3, 3, 3, 4, 4, 4, 5], [5, 5, 6, 6, 6, 7, 7, 7]),
];

/// 16 per-pixel `u16` terms (pixels 0–15 in order) spread over the 48 values of those pixels:
/// three vectors of 16 `u16`, values 0–15, 16–31 and 32–47.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn expand3_avx2(
    p: std::arch::x86_64::__m256i,
) -> [std::arch::x86_64::__m256i; 3] {
    use std::arch::x86_64::*;
    let m0 = _mm256_loadu_si256(EXPAND[0].as_ptr() as *const __m256i);
    let m1 = _mm256_loadu_si256(EXPAND[1].as_ptr() as *const __m256i);
    let m2 = _mm256_loadu_si256(EXPAND[2].as_ptr() as *const __m256i);
    [
        _mm256_shuffle_epi8(_mm256_permute2x128_si256(p, p, 0x00), m0),
        _mm256_shuffle_epi8(p, m1),
        _mm256_shuffle_epi8(_mm256_permute2x128_si256(p, p, 0x11), m2),
    ]
}

/// The 48 values `src[0..48]` widened to `u16` and shifted to the high byte (`v << 8`, the
/// operand of `vpmulhuw` that yields `(v·a) >> 8`), in three vectors.
///
/// # Safety
/// The CPU must support AVX2 and `src` must have 48 readable bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn load48_hi_avx2(src: *const u8) -> [std::arch::x86_64::__m256i; 3] {
    use std::arch::x86_64::*;
    let v0 = _mm256_cvtepu8_epi16(_mm_loadu_si128(src as *const __m128i));
    let v1 = _mm256_cvtepu8_epi16(_mm_loadu_si128(src.add(16) as *const __m128i));
    let v2 = _mm256_cvtepu8_epi16(_mm_loadu_si128(src.add(32) as *const __m128i));
    [
        _mm256_slli_epi16(v0, 8),
        _mm256_slli_epi16(v1, 8),
        _mm256_slli_epi16(v2, 8),
    ]
}

/// Three vectors of 16 `u16` values ≤ 255 packed into the 48 bytes at `dst`.
///
/// # Safety
/// The CPU must support AVX2 and `dst` must have 48 writable bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn store48_avx2(dst: *mut u8, r: [std::arch::x86_64::__m256i; 3]) {
    use std::arch::x86_64::*;
    let p01 = _mm256_permute4x64_epi64(_mm256_packus_epi16(r[0], r[1]), 0xD8);
    let p2 = _mm256_permute4x64_epi64(_mm256_packus_epi16(r[2], r[2]), 0xD8);
    _mm256_storeu_si256(dst as *mut __m256i, p01);
    _mm_storeu_si128(dst.add(32) as *mut __m128i, _mm256_castsi256_si128(p2));
}

/// Colour weights as three vectors: value `i` of the 48 gets `colour[i % 3]`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn colour3_avx2(colour: [u16; 3]) -> [std::arch::x86_64::__m256i; 3] {
    use std::arch::x86_64::*;
    let mut pat = [0u16; 48];
    for (i, p) in pat.iter_mut().enumerate() {
        *p = colour[i % 3];
    }
    let p = pat.as_ptr();
    [
        _mm256_loadu_si256(p as *const __m256i),
        _mm256_loadu_si256(p.add(16) as *const __m256i),
        _mm256_loadu_si256(p.add(32) as *const __m256i),
    ]
}

/// One 16-pixel step of the fixed-point blend (of `blend_fixed`'s AVX2 twin, and of the
/// kernels that make their weights in registers): the 16 pixels (48 values) at `src` blended with the
/// per-pixel weights `a`, `b` (16 `u16` each, in registers) and the colour of [`colour3_avx2`],
/// stored at `dst`. Shared with kernels that make the weights in registers (spatter's mud).
///
/// # Safety
/// The CPU must support AVX2; `src` must have 48 readable and `dst` 48 writable bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn blend16_avx2(
    src: *const u8,
    dst: *mut u8,
    [a, b]: [std::arch::x86_64::__m256i; 2],
    cv: &[std::arch::x86_64::__m256i; 3],
) {
    use std::arch::x86_64::*;
    let one = _mm256_set1_epi16(1);
    let (ea, eb) = (expand3_avx2(a), expand3_avx2(b));
    let s = load48_hi_avx2(src);
    let mut r = [_mm256_setzero_si256(); 3];
    for c in 0..3 {
        let own = _mm256_add_epi16(_mm256_mulhi_epu16(s[c], ea[c]), one);
        let tint = _mm256_mulhi_epu16(eb[c], cv[c]);
        r[c] = _mm256_srli_epi16(_mm256_adds_epu16(own, tint), 8);
    }
    store48_avx2(dst, r);
}

/// `out = sat_u16(((v·a) >> 8) + 1 + ((b·colour[ch]) >> 16)) >> 8` for each value `v` of pixel
/// `x` (`a = a[x]`, `b = b[x]`, channel `ch`), i.e. `trunc(min(v·a/2¹⁶ + b·c/2¹⁶·(1/256), 255))`
/// up to 2/256 of a grey level: the value's own weight `a` (65535 means 1: then the `+ 1`
/// makes `((v·65535) >> 8) + 1 = 256·v` exactly, so a pixel with `b = 0` keeps its value) and a
/// colour weight `b` of the colour `colour[ch]` given in 1/256 grey levels (≤ 65280).
///
/// Test-only: spatter's mud and water make their weights in registers and call
/// [`blend16_avx2`] / [`blend_fixed_scalar`] directly; this whole-row entry point and its AVX2
/// twin are the definition the tests hold those fused kernels to.
#[cfg(test)]
pub(crate) fn blend_fixed(src: &[u8], a: &[u16], b: &[u16], colour: [u16; 3], dst: &mut [u8]) {
    dispatch!(blend_fixed_scalar / blend_fixed_avx2(src, a, b, colour, dst))
}

/// Scalar twin of [`blend_fixed`].
pub(crate) fn blend_fixed_scalar(
    src: &[u8],
    a: &[u16],
    b: &[u16],
    colour: [u16; 3],
    dst: &mut [u8],
) {
    for (((d3, s3), &a), &b) in dst
        .chunks_exact_mut(3)
        .zip(src.chunks_exact(3))
        .zip(a)
        .zip(b)
    {
        for ((d, &s), &c) in d3.iter_mut().zip(s3).zip(&colour) {
            let own = ((s as u32 * a as u32) >> 8) as u16 + 1;
            let tint = ((b as u32 * c as u32) >> 16) as u16;
            *d = (own.saturating_add(tint) >> 8) as u8;
        }
    }
}

/// AVX2 twin of [`blend_fixed_scalar`]: 16 pixels (48 values) per step, the same integer
/// arithmetic (`vpmulhuw` of `v << 8` by `a` is `(v·a) >> 8`, `vpaddusw` the saturating add).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[cfg(test)]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn blend_fixed_avx2(
    src: &[u8],
    a: &[u16],
    b: &[u16],
    colour: [u16; 3],
    dst: &mut [u8],
) {
    use std::arch::x86_64::*;
    let w = a.len().min(b.len()).min(src.len() / 3).min(dst.len() / 3);
    let full = w / 16 * 16;
    let cv = colour3_avx2(colour);
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    let mut x = 0;
    while x < full {
        let ta = _mm256_loadu_si256(a.as_ptr().add(x) as *const __m256i);
        let tb = _mm256_loadu_si256(b.as_ptr().add(x) as *const __m256i);
        blend16_avx2(sp.add(3 * x), dp.add(3 * x), [ta, tb], &cv);
        x += 16;
    }
    blend_fixed_scalar(
        &src[3 * full..3 * w],
        &a[full..w],
        &b[full..w],
        colour,
        &mut dst[3 * full..3 * w],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testdata::test_values;
    use crate::simd;

    /// The AVX2 twin equals the scalar one at every ISA (every width up to two vector steps and
    /// a tail), and the scalar one equals `trunc(min(v·a/65536 + b·c/(65536·256), 255))`
    /// within 2/256 of a grey level; `a = 65535, b = 0` keeps every value exactly.
    #[test]
    fn blend_fixed_avx2_equals_scalar_and_definition() {
        let r = test_values(5 * 41, 3);
        let src: Vec<u8> = r[..3 * 41].iter().map(|&v| v as u8).collect();
        let a: Vec<u16> = r[3 * 41..4 * 41].iter().map(|&v| v as u16).collect();
        let b: Vec<u16> = r[4 * 41..].iter().map(|&v| (v >> 3) as u16).collect();
        let colour = [175 * 256, 238 * 256, 20 * 256];
        for w in 0..=41 {
            let s = &src[..3 * w];
            let (mut x, mut y) = (vec![0u8; 3 * w], vec![0u8; 3 * w]);
            blend_fixed_scalar(s, &a[..w], &b[..w], colour, &mut x);
            for isa in simd::available() {
                dispatch!(at isa; blend_fixed_scalar / blend_fixed_avx2(s, &a[..w], &b[..w], colour, &mut y));
                assert_eq!(x, y, "width {w}, {isa:?}");
            }
            for (i, &o) in x.iter().enumerate() {
                let (p, c) = (i / 3, colour[i % 3] as f64);
                let exact = (s[i] as f64 * a[p] as f64 / 65536.0
                    + b[p] as f64 * c / (65536.0 * 256.0))
                    .min(255.0);
                let o = o as f64;
                assert!(
                    o <= exact + 2.0 / 256.0 && exact < o + 1.0 + 2.0 / 256.0,
                    "{o} {exact}"
                );
            }
        }
        let keep = vec![65535u16; 41];
        let none = vec![0u16; 41];
        let mut out = vec![0u8; 3 * 41];
        blend_fixed(&src, &keep, &none, colour, &mut out);
        assert_eq!(out, src);
    }
}
