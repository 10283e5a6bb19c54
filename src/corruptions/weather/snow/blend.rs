//! Snow's fused row kernel: flake levels, the grey lift and the final blend of one image row
//! in one pass. Its AVX2 twin is hand-written (it de-interleaves RGB with byte shuffles) and
//! held bit-identical to the scalar twin and to the unfused definition (tested).

use crate::kernels::quantise::{clip01_f64, q255};
use crate::simd::dispatch;
use crate::simd::fma::fma_f32;

/// `np.round(v·255).astype(uint8) / 255` of one blurred flake value (round half to even by
/// the 1.5·2⁵² trick, exact for |v| < 2⁵¹; the layer is in [0, 1]).
#[inline(always)]
fn flake_level(v: f64) -> f64 {
    const RINT: f64 = 6_755_399_441_055_744.0;
    let q = (v * 255.0 + RINT) - RINT;
    (q as i64 as u8) as f64 / 255.0
}

/// One image row of snow (ALGORITHMS.md §4.8), fused: flake levels of the blurred layer row `blur` and
/// of the rot180 partner row `blur_rot` (read reversed), the f32 grey lift
/// `fma(B, 0.114, fma(R, 0.299, G·0.587))·1.5 + 0.5` (the IPP form of cv2's RGB2GRAY, see
/// `corruptions::weather::snow`), `y = b·x + nb·max(x, lift)` in f32 and
/// `trunc(clip((y + L) + rot180(L), 0, 1)·255)` in f64: the operations and order of the
/// unfused passes, without their per-value staging rows. `src`/`dst` are `3·W` bytes, `blur`
/// and `blur_rot` `W` values.
pub(super) fn snow_row(
    src: &[u8],
    blur: &[f64],
    blur_rot: &[f64],
    b: f32,
    nb: f32,
    dst: &mut [u8],
) {
    dispatch!(snow_row_scalar / snow_row_avx2(src, blur, blur_rot, b, nb, dst))
}

/// Scalar twin of [`snow_row`] (correctly rounded fma by [`fma_f32`]).
pub(super) fn snow_row_scalar(
    src: &[u8],
    blur: &[f64],
    blur_rot: &[f64],
    b: f32,
    nb: f32,
    dst: &mut [u8],
) {
    snow_row_impl(src, blur, blur_rot, b, nb, dst, fma_f32)
}

/// AVX2 + FMA version of [`snow_row_scalar`], eight pixels per step: the RGB bytes are
/// de-interleaved with byte shuffles, every value goes through the same f32 / f64 operations
/// in the same order as the scalar twin (hardware fma = the correctly rounded [`fma_f32`];
/// `max_ps(lift, x)` = `if lift > x { lift } else { x }`; `max_pd(v, 0)` / `min_pd(v, 1)` =
/// [`clip01_f64`]), and the bytes are re-interleaved. The last `W mod 8` pixels run the
/// scalar body. Flake levels assume `|v·255| < 2³¹` (the layer is in [0, 1]).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn snow_row_avx2(
    src: &[u8],
    blur: &[f64],
    blur_rot: &[f64],
    b: f32,
    nb: f32,
    dst: &mut [u8],
) {
    use std::arch::x86_64::*;
    let w = blur.len();
    assert!(src.len() == 3 * w && dst.len() == 3 * w && blur_rot.len() == w);
    let full = w / 8 * 8;
    // De-interleave: `a` = bytes 3j..3j+16, `c` = bytes 3j+8..3j+24 of the chunk.
    const Z: i8 = -1;
    let r_a = _mm_setr_epi8(0, 3, 6, 9, 12, 15, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z);
    let r_c = _mm_setr_epi8(Z, Z, Z, Z, Z, Z, 10, 13, Z, Z, Z, Z, Z, Z, Z, Z);
    let g_a = _mm_setr_epi8(1, 4, 7, 10, 13, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z);
    let g_c = _mm_setr_epi8(Z, Z, Z, Z, Z, 8, 11, 14, Z, Z, Z, Z, Z, Z, Z, Z);
    let b_a = _mm_setr_epi8(2, 5, 8, 11, 14, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z);
    let b_c = _mm_setr_epi8(Z, Z, Z, Z, Z, 9, 12, 15, Z, Z, Z, Z, Z, Z, Z, Z);
    // Re-interleave from RG = R0..R7 G0..G7 and BB = B0..B7 B0..B7.
    let o0_rg = _mm_setr_epi8(0, 8, Z, 1, 9, Z, 2, 10, Z, 3, 11, Z, 4, 12, Z, 5);
    let o0_b = _mm_setr_epi8(Z, Z, 0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z);
    let o1_rg = _mm_setr_epi8(13, Z, 6, 14, Z, 7, 15, Z, Z, Z, Z, Z, Z, Z, Z, Z);
    let o1_b = _mm_setr_epi8(Z, 5, Z, Z, 6, Z, Z, 7, Z, Z, Z, Z, Z, Z, Z, Z);
    let k255f = _mm256_set1_ps(255.0);
    let (kr, kg, kb) = (
        _mm256_set1_ps(0.299),
        _mm256_set1_ps(0.587),
        _mm256_set1_ps(0.114),
    );
    let (k15, k05) = (_mm256_set1_ps(1.5), _mm256_set1_ps(0.5));
    let (vb, vnb) = (_mm256_set1_ps(b), _mm256_set1_ps(nb));
    let k255 = _mm256_set1_pd(255.0);
    let rint = _mm256_set1_pd(6_755_399_441_055_744.0);
    let zero = _mm256_setzero_pd();
    let one = _mm256_set1_pd(1.0);
    let mask8 = _mm_set1_epi32(255);
    // flake level of 4 values
    let level = |v: __m256d| {
        let q = _mm256_sub_pd(_mm256_add_pd(_mm256_mul_pd(v, k255), rint), rint);
        let i = _mm_and_si128(_mm256_cvttpd_epi32(q), mask8);
        _mm256_div_pd(_mm256_cvtepi32_pd(i), k255)
    };
    let unit = |v: __m128i| _mm256_div_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)), k255f);
    let mut j = 0;
    while j < full {
        let p = src.as_ptr().add(3 * j);
        let a = _mm_loadu_si128(p as *const __m128i);
        let c = _mm_loadu_si128(p.add(8) as *const __m128i);
        let xr = unit(_mm_or_si128(
            _mm_shuffle_epi8(a, r_a),
            _mm_shuffle_epi8(c, r_c),
        ));
        let xg = unit(_mm_or_si128(
            _mm_shuffle_epi8(a, g_a),
            _mm_shuffle_epi8(c, g_c),
        ));
        let xb = unit(_mm_or_si128(
            _mm_shuffle_epi8(a, b_a),
            _mm_shuffle_epi8(c, b_c),
        ));
        let gray = _mm256_fmadd_ps(xb, kb, _mm256_fmadd_ps(xr, kr, _mm256_mul_ps(xg, kg)));
        let lift = _mm256_add_ps(_mm256_mul_ps(gray, k15), k05);
        let bp = blur.as_ptr().add(j);
        let sn = [
            level(_mm256_loadu_pd(bp)),
            level(_mm256_loadu_pd(bp.add(4))),
        ];
        // pixel j pairs with blur_rot[w − 1 − j]
        let rp = blur_rot.as_ptr().add(w - 8 - j);
        let ro = [
            level(_mm256_permute4x64_pd(_mm256_loadu_pd(rp.add(4)), 0x1b)),
            level(_mm256_permute4x64_pd(_mm256_loadu_pd(rp), 0x1b)),
        ];
        let channel = |x: __m256| {
            let m = _mm256_max_ps(lift, x);
            let y = _mm256_add_ps(_mm256_mul_ps(vb, x), _mm256_mul_ps(vnb, m));
            let halves = [
                _mm256_cvtps_pd(_mm256_castps256_ps128(y)),
                _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1)),
            ];
            let mut out = [_mm_setzero_si128(); 2];
            for k in 0..2 {
                let v = _mm256_add_pd(_mm256_add_pd(halves[k], sn[k]), ro[k]);
                let v = _mm256_min_pd(_mm256_max_pd(v, zero), one);
                out[k] = _mm256_cvttpd_epi32(_mm256_mul_pd(v, k255));
            }
            _mm_packs_epi32(out[0], out[1])
        };
        let rg = _mm_packus_epi16(channel(xr), channel(xg));
        let bw = channel(xb);
        let bb = _mm_packus_epi16(bw, bw);
        let o0 = _mm_or_si128(_mm_shuffle_epi8(rg, o0_rg), _mm_shuffle_epi8(bb, o0_b));
        let o1 = _mm_or_si128(_mm_shuffle_epi8(rg, o1_rg), _mm_shuffle_epi8(bb, o1_b));
        let d = dst.as_mut_ptr().add(3 * j);
        _mm_storeu_si128(d as *mut __m128i, o0);
        _mm_storel_epi64(d.add(16) as *mut __m128i, o1);
        j += 8;
    }
    snow_row_impl(
        &src[3 * full..],
        &blur[full..],
        &blur_rot[..w - full],
        b,
        nb,
        &mut dst[3 * full..],
        |a, m, c| a.mul_add(m, c),
    )
}

#[inline(always)]
fn snow_row_impl(
    src: &[u8],
    blur: &[f64],
    blur_rot: &[f64],
    b: f32,
    nb: f32,
    dst: &mut [u8],
    fma: impl Fn(f32, f32, f32) -> f32,
) {
    let w = blur.len();
    assert!(src.len() == 3 * w && dst.len() == 3 * w && blur_rot.len() == w);
    for (((px, d), &bl), &br) in src
        .chunks_exact(3)
        .zip(dst.chunks_exact_mut(3))
        .zip(blur)
        .zip(blur_rot.iter().rev())
    {
        let x = [px[0], px[1], px[2]].map(|v| v as f32 / 255.0);
        let gray = fma(x[2], 0.114, fma(x[0], 0.299, x[1] * 0.587));
        let lift = gray * 1.5 + 0.5;
        let sn = flake_level(bl);
        let ro = flake_level(br);
        for c in 0..3 {
            let m = if lift > x[c] { lift } else { x[c] };
            let y = b * x[c] + nb * m;
            d[c] = q255(clip01_f64((y as f64 + sn) + ro) * 255.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testdata::test_values;
    use crate::simd;

    /// The unfused passes of snow (as before the fusion): per-pixel lift, flake levels, then
    /// the per-value blend.
    fn snow_definition(src: &[u8], blur: &[f64], rot: &[f64], b: f32, nb: f32) -> Vec<u8> {
        let w = blur.len();
        let mut out = vec![0u8; 3 * w];
        for j in 0..w {
            let x = [0, 1, 2].map(|c| src[3 * j + c] as f32 / 255.0);
            let gray = fma_f32(x[2], 0.114, fma_f32(x[0], 0.299, x[1] * 0.587));
            let lift = gray * 1.5 + 0.5;
            let sn = flake_level(blur[j]);
            let ro = flake_level(rot[w - 1 - j]);
            for c in 0..3 {
                let m = if lift > x[c] { lift } else { x[c] };
                let y = b * x[c] + nb * m;
                out[3 * j + c] = q255(clip01_f64((y as f64 + sn) + ro) * 255.0);
            }
        }
        out
    }

    #[test]
    fn snow_row_equals_definition_and_simd_equals_scalar() {
        let r = test_values(20_000, 3);
        for w in (1..=33).chain([224, 641]) {
            let src: Vec<u8> = (0..3 * w).map(|i| r[i] as u8).collect();
            // flake values in [0, 1], with exact ties (k + 0.5)/255 and the ends
            let val = |i: usize| match r[5000 + i] % 4 {
                0 => 0.0,
                1 => ((r[9000 + i] % 255) as f64 + 0.5) / 255.0,
                _ => (r[9000 + i] % 1_000_001) as f64 / 1_000_000.0,
            };
            let blur: Vec<f64> = (0..w).map(val).collect();
            let rot: Vec<f64> = (0..w).map(|i| val(i + 3000)).collect();
            for (b, nb) in [(0.8f32, 0.2f32), (0.55, 0.45)] {
                let want = snow_definition(&src, &blur, &rot, b, nb);
                let mut a = vec![0u8; 3 * w];
                snow_row_scalar(&src, &blur, &rot, b, nb, &mut a);
                assert_eq!(a, want, "scalar, w {w}");
                let mut d = vec![0u8; 3 * w];
                snow_row(&src, &blur, &rot, b, nb, &mut d);
                assert_eq!(d, want, "dispatch, w {w}");
                for isa in simd::available() {
                    let mut v = vec![0u8; 3 * w];
                    dispatch!(at isa; snow_row_scalar / snow_row_avx2(&src, &blur, &rot, b, nb, &mut v));
                    assert_eq!(v, want, "avx2, w {w}");
                }
            }
        }
    }
}
