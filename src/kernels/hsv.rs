//! RGB → HSV → adjust → RGB round trip with scikit-image semantics (ALGORITHMS.md P7), used by
//! brightness and saturate.
//!
//! The arithmetic follows `skimage.color.rgb2hsv`/`hsv2rgb` operation for operation in f64
//! (no fused multiply-add, same operand order), so results are bit-identical to the reference
//! before the final truncation. The AVX2 kernel performs the very same IEEE operations on four
//! pixels at a time and is held equal to the scalar twin by tests.

use crate::simd::dispatch;

/// What to do to the HSV representation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HsvOp {
    /// `V = clip(V + delta, 0, 1)` (brightness).
    AddValue(f64),
    /// `S = clip(S * mul + add, 0, 1)` (saturate).
    ScaleSaturation(f64, f64),
}

/// Apply `op` to an RGB8 buffer, writing `trunc(clip(rgb, 0, 1) * 255)`.
pub fn adjust(src: &[u8], dst: &mut [u8], op: HsvOp) {
    dispatch!(adjust_scalar / adjust_avx2(src, dst, op))
}

/// Scalar twin of [`adjust`].
pub fn adjust_scalar(src: &[u8], dst: &mut [u8], op: HsvOp) {
    for (s, d) in src.chunks_exact(3).zip(dst.chunks_exact_mut(3)) {
        let out = pixel(s[0], s[1], s[2], op);
        d.copy_from_slice(&out);
    }
}

#[inline(always)]
fn clip01(v: f64) -> f64 {
    v.clamp(0.0, 1.0)
}

/// `rgb2hsv` of one pixel, exactly as scikit-image computes it: `(h, s, v)`.
#[inline(always)]
fn to_hsv(r8: u8, g8: u8, b8: u8) -> (f64, f64, f64) {
    let (r, g, b) = (r8 as f64 / 255.0, g8 as f64 / 255.0, b8 as f64 / 255.0);
    let v = r.max(g).max(b);
    let delta = v - r.min(g).min(b);
    let (mut h, mut s) = (0.0, 0.0);
    if delta != 0.0 {
        s = delta / v;
        // Later assignments win on ties: blue, then green, then red.
        let pre = if b == v {
            4.0 + (r - g) / delta
        } else if g == v {
            2.0 + (b - r) / delta
        } else {
            (g - b) / delta
        };
        let q = pre / 6.0;
        h = if q < 0.0 { q + 1.0 } else { q }; // floored modulo 1 (q > -1 here)
    }
    (h, s, v)
}

/// The factors of `hsv2rgb`: each output channel is `v · factor`, the factor being 1 (the
/// channel that is `v`) or one of `1 − s`, `1 − f·s`, `1 − (1 − f)·s` by hue sextant.
/// Multiplying by 1 is exact, so `v · factor` is bit for bit scikit-image's `v`, `p`, `q`, `t`.
#[inline(always)]
fn factors(h: f64, s: f64) -> [f64; 3] {
    let hi = (h * 6.0).floor();
    let f = h * 6.0 - hi;
    let p = 1.0 - s;
    let q = 1.0 - f * s;
    let t = 1.0 - (1.0 - f) * s;
    match (hi as u8) % 6 {
        0 => [1.0, t, p],
        1 => [q, 1.0, p],
        2 => [p, 1.0, t],
        3 => [p, q, 1.0],
        4 => [t, p, 1.0],
        _ => [1.0, p, q],
    }
}

/// One pixel, exactly as scikit-image computes it.
#[inline(always)]
fn pixel(r8: u8, g8: u8, b8: u8, op: HsvOp) -> [u8; 3] {
    let (h, mut s, mut v) = to_hsv(r8, g8, b8);
    match op {
        HsvOp::AddValue(d) => v = clip01(v + d),
        HsvOp::ScaleSaturation(m, a) => s = clip01(s * m + a),
    }
    // hsv2rgb
    let k = factors(h, s);
    [
        (clip01(v * k[0]) * 255.0) as u8,
        (clip01(v * k[1]) * 255.0) as u8,
        (clip01(v * k[2]) * 255.0) as u8,
    ]
}

/// One RGB8 image converted to HSV once, for many value shifts (ImageNet-P brightness: 31
/// frames of the same crop): [`ValueSweep::add_value`] gives the bytes of
/// `adjust(src, dst, HsvOp::AddValue(d))` at a fraction of the cost, because neither `rgb2hsv`
/// nor the sextant factors of `hsv2rgb` depend on `d`.
pub struct ValueSweep {
    /// V per pixel.
    v: Vec<f64>,
    /// The three channel factors per pixel (see `factors`).
    k: Vec<f64>,
}

impl ValueSweep {
    /// Convert `src` (RGB8) once.
    pub fn new(src: &[u8]) -> ValueSweep {
        let n = src.len() / 3;
        let (mut v, mut k) = (vec![0.0; n], vec![0.0; 3 * n]);
        sweep_init(&src[..3 * n], &mut v, &mut k);
        ValueSweep { v, k }
    }

    /// `adjust(src, dst, HsvOp::AddValue(d))`, byte for byte.
    pub fn add_value(&self, d: f64, dst: &mut [u8]) {
        sweep_value(&self.v, &self.k, d, dst)
    }
}

/// V and the channel factors of `src` (RGB8) into `v` and `k` (the body of [`ValueSweep::new`]).
fn sweep_init(src: &[u8], v: &mut [f64], k: &mut [f64]) {
    dispatch!(sweep_init_scalar / sweep_init_avx2(src, v, k))
}

/// Scalar twin of [`sweep_init`].
fn sweep_init_scalar(src: &[u8], v: &mut [f64], k: &mut [f64]) {
    for ((p, v), k) in src
        .chunks_exact(3)
        .zip(v.iter_mut())
        .zip(k.chunks_exact_mut(3))
    {
        let (h, s, val) = to_hsv(p[0], p[1], p[2]);
        *v = val;
        k.copy_from_slice(&factors(h, s));
    }
}

/// `pshufb` masks moving channel c (0, 1, 2) of 4 interleaved RGB pixels: byte k of that
/// channel to the low byte of 32-bit lane k (the rest zeroed), for [`adjust_avx2`] and
/// [`sweep_init_avx2`].
///
/// # Safety
/// The CPU must support SSE2 (every x86_64 CPU).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn channel_lanes() -> [std::arch::x86_64::__m128i; 3] {
    use std::arch::x86_64::_mm_setr_epi8;
    let lane = |c: i8| {
        _mm_setr_epi8(
            c,
            -1,
            -1,
            -1,
            c + 3,
            -1,
            -1,
            -1,
            c + 6,
            -1,
            -1,
            -1,
            c + 9,
            -1,
            -1,
            -1,
        )
    };
    [lane(0), lane(1), lane(2)]
}

/// The 12 bytes of 4 RGB pixels at `src[at..]` in a 128-bit register (16 bytes loaded where
/// they exist, else through a copy, so the last pixels never read past `src`).
///
/// # Safety
/// `at + 12 <= src.len()`; SSE2 (every x86_64 CPU).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn load4(src: &[u8], at: usize) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128};
    if at + 16 <= src.len() {
        _mm_loadu_si128(src.as_ptr().add(at) as *const __m128i)
    } else {
        let mut t = [0u8; 16];
        t[..12].copy_from_slice(&src[at..at + 12]);
        _mm_loadu_si128(t.as_ptr() as *const __m128i)
    }
}

/// AVX2 twin of [`sweep_init`], four pixels per step: `rgb2hsv` as [`adjust_avx2`] computes
/// it, then the factors of `factors` chosen by sextant with blends; the same IEEE operations
/// as the scalar twin, so the same bits. The rest (under four pixels) goes through the scalar
/// twin.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sweep_init_avx2(src: &[u8], v: &mut [f64], k: &mut [f64]) {
    use std::arch::x86_64::*;
    let npix = (src.len() / 3).min(v.len()).min(k.len() / 3);
    let zero = _mm256_setzero_pd();
    let one = _mm256_set1_pd(1.0);
    let c255 = _mm256_set1_pd(255.0);
    let six = _mm256_set1_pd(6.0);
    let [mr, mg, mb] = channel_lanes();
    macro_rules! eq {
        ($a:expr, $k:expr) => {
            _mm256_cmp_pd($a, _mm256_set1_pd($k), _CMP_EQ_OQ)
        };
    }
    macro_rules! sel {
        ($x:expr, $y:expr, $m:expr) => {
            _mm256_blendv_pd($x, $y, $m)
        };
    }
    let mut i = 0;
    while i + 4 <= npix {
        let at = i * 3;
        let px = load4(src, at);
        let r = _mm256_div_pd(_mm256_cvtepi32_pd(_mm_shuffle_epi8(px, mr)), c255);
        let g = _mm256_div_pd(_mm256_cvtepi32_pd(_mm_shuffle_epi8(px, mg)), c255);
        let b = _mm256_div_pd(_mm256_cvtepi32_pd(_mm_shuffle_epi8(px, mb)), c255);
        // rgb2hsv (as adjust_avx2)
        let val = _mm256_max_pd(_mm256_max_pd(r, g), b);
        let delta = _mm256_sub_pd(val, _mm256_min_pd(_mm256_min_pd(r, g), b));
        let nonzero = _mm256_cmp_pd(delta, zero, _CMP_NEQ_OQ);
        let s = _mm256_and_pd(_mm256_div_pd(delta, val), nonzero);
        let is_g = _mm256_cmp_pd(g, val, _CMP_EQ_OQ);
        let is_b = _mm256_cmp_pd(b, val, _CMP_EQ_OQ);
        let num = sel!(
            sel!(_mm256_sub_pd(g, b), _mm256_sub_pd(b, r), is_g),
            _mm256_sub_pd(r, g),
            is_b
        );
        let quot = _mm256_div_pd(num, delta);
        let base = sel!(
            _mm256_and_pd(is_g, _mm256_set1_pd(2.0)),
            _mm256_set1_pd(4.0),
            is_b
        );
        let pre = sel!(quot, _mm256_add_pd(base, quot), _mm256_or_pd(is_g, is_b));
        let q = _mm256_div_pd(pre, six);
        let h = sel!(q, _mm256_add_pd(q, one), _mm256_cmp_pd(q, zero, _CMP_LT_OQ));
        let h = _mm256_and_pd(h, nonzero);
        // factors
        let h6 = _mm256_mul_pd(h, six);
        let hi = _mm256_floor_pd(h6);
        let f = _mm256_sub_pd(h6, hi);
        let p = _mm256_sub_pd(one, s);
        let qf = _mm256_sub_pd(one, _mm256_mul_pd(f, s));
        let t = _mm256_sub_pd(one, _mm256_mul_pd(_mm256_sub_pd(one, f), s));
        // sextant masks; h rounds up to 1 for a hue a hair below 0, hence hi = 6 ≡ 0
        let e0 = _mm256_or_pd(eq!(hi, 0.0), eq!(hi, 6.0));
        let (e1, e2, e3, e4, e5) = (
            eq!(hi, 1.0),
            eq!(hi, 2.0),
            eq!(hi, 3.0),
            eq!(hi, 4.0),
            eq!(hi, 5.0),
        );
        let kr = sel!(sel!(sel!(one, qf, e1), p, _mm256_or_pd(e2, e3)), t, e4);
        let kg = sel!(sel!(sel!(p, t, e0), one, _mm256_or_pd(e1, e2)), qf, e3);
        let kb = sel!(sel!(sel!(p, t, e2), one, _mm256_or_pd(e3, e4)), qf, e5);
        _mm256_storeu_pd(v.as_mut_ptr().add(i), val);
        let mut c = [[0f64; 4]; 3];
        _mm256_storeu_pd(c[0].as_mut_ptr(), kr);
        _mm256_storeu_pd(c[1].as_mut_ptr(), kg);
        _mm256_storeu_pd(c[2].as_mut_ptr(), kb);
        for (j, o) in k[3 * i..3 * i + 12].chunks_exact_mut(3).enumerate() {
            o.copy_from_slice(&[c[0][j], c[1][j], c[2][j]]);
        }
        i += 4;
    }
    sweep_init_scalar(
        &src[i * 3..npix * 3],
        &mut v[i..npix],
        &mut k[3 * i..3 * npix],
    );
}

/// `dst = trunc(clip(clip(v + d) · k) · 255)` per channel (the body of
/// [`ValueSweep::add_value`]).
fn sweep_value(v: &[f64], k: &[f64], d: f64, dst: &mut [u8]) {
    dispatch!(sweep_value_scalar / sweep_value_avx2(v, k, d, dst))
}

/// Scalar twin of [`sweep_value`].
fn sweep_value_scalar(v: &[f64], k: &[f64], d: f64, dst: &mut [u8]) {
    for ((&v, k), o) in v.iter().zip(k.chunks_exact(3)).zip(dst.chunks_exact_mut(3)) {
        let v = clip01(v + d);
        o[0] = (clip01(v * k[0]) * 255.0) as u8;
        o[1] = (clip01(v * k[1]) * 255.0) as u8;
        o[2] = (clip01(v * k[2]) * 255.0) as u8;
    }
}

/// AVX2 twin of [`sweep_value`]: four pixels (12 values) per step, the same f64 operations
/// (`v + d`, the clips as max/min, the products, `· 255`, truncation), so the same bytes.
/// Written out because the compiler kept the stride-3 body scalar (~20 instructions a pixel);
/// here a step is ~31 instructions for four. V is spread over the interleaved factors with
/// three lane permutes. The rest (under four pixels) goes through the scalar twin.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sweep_value_avx2(v: &[f64], k: &[f64], d: f64, dst: &mut [u8]) {
    use std::arch::x86_64::*;
    let n = v.len().min(k.len() / 3).min(dst.len() / 3);
    let whole = n / 4 * 4;
    let (dd, zero, one, s255) = (
        _mm256_set1_pd(d),
        _mm256_setzero_pd(),
        _mm256_set1_pd(1.0),
        _mm256_set1_pd(255.0),
    );
    let (kp, dp) = (k.as_ptr(), dst.as_mut_ptr());
    // clip01 (`clamp`: `x < 0 → 0`, `x > 1 → 1`) as max then min: the same value for every
    // non-NaN x (a −0 may come out as +0, which truncates to the same byte). Macros rather
    // than closures, which a `target_feature` function may not inline.
    macro_rules! clip {
        ($x:expr) => {
            _mm256_min_pd(_mm256_max_pd($x, zero), one)
        };
    }
    // `clip01(v·k)` is `v·k` here: v is clipped to [0, 1] and every factor is in [0, 1]
    // (1, or `1 − x` with x a rounded product or quotient of values in [0, 1]; see
    // `factors`), and the rounded product of two values in [0, 1] stays in [0, 1]. So the
    // second clip of the scalar twin is left out (6 of a step's 30 instructions); the twins
    // stay equal (tested on every sextant and both clip ends).
    macro_rules! channel {
        ($spread:expr, $off:expr) => {
            _mm256_cvttpd_epi32(_mm256_mul_pd(
                _mm256_mul_pd($spread, _mm256_loadu_pd(kp.add($off))),
                s255,
            ))
        };
    }
    let mut p = 0;
    while p < whole {
        let vv = clip!(_mm256_add_pd(_mm256_loadu_pd(v.as_ptr().add(p)), dd));
        // [v0 v0 v0 v1], [v1 v1 v2 v2], [v2 v3 v3 v3] against the interleaved factors
        let q0 = channel!(_mm256_permute4x64_pd::<0x40>(vv), 3 * p);
        let q1 = channel!(_mm256_permute4x64_pd::<0xA5>(vv), 3 * p + 4);
        let q2 = channel!(_mm256_permute4x64_pd::<0xFE>(vv), 3 * p + 8);
        let bytes = _mm_packus_epi16(_mm_packs_epi32(q0, q1), _mm_packs_epi32(q2, q2));
        _mm_storel_epi64(dp.add(3 * p) as *mut __m128i, bytes);
        (dp.add(3 * p + 8) as *mut i32).write_unaligned(_mm_extract_epi32::<2>(bytes));
        p += 4;
    }
    sweep_value_scalar(
        &v[whole..n],
        &k[3 * whole..3 * n],
        d,
        &mut dst[3 * whole..3 * n],
    );
}

/// AVX2 version of [`adjust`] (4 pixels per step, f64 lanes).
///
/// Every lane performs the scalar twin's IEEE operations in the same order, so the bytes are the
/// same; what changes is only how the work is spread: pixels are deinterleaved and re-interleaved
/// with byte shuffles, the three hue candidates share one division (the numerator and offset are
/// selected first, as the scalar `if` chain selects them), and the sextant's channel choice is
/// a set of blends rather than a per-pixel `match` (a branch the CPU mispredicts on most pixels
/// of a photo, which cost more than all the arithmetic).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub unsafe fn adjust_avx2(src: &[u8], dst: &mut [u8], op: HsvOp) {
    use std::arch::x86_64::*;
    let npix = src.len().min(dst.len()) / 3;
    let zero = _mm256_setzero_pd();
    let one = _mm256_set1_pd(1.0);
    let c255 = _mm256_set1_pd(255.0);
    let six = _mm256_set1_pd(6.0);
    let clip = |x: __m256d| _mm256_min_pd(_mm256_max_pd(x, zero), one);
    let eq = |a: __m256d, k: f64| _mm256_cmp_pd(a, _mm256_set1_pd(k), _CMP_EQ_OQ);
    let or = |a: __m256d, b: __m256d| _mm256_or_pd(a, b);
    let [mr, mg, mb] = channel_lanes();
    // The three low bytes of each 32-bit lane, packed to 12 bytes.
    let pack = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    let mut i = 0;
    while i + 4 <= npix {
        let at = i * 3;
        let px = load4(src, at);
        let ld = |m: __m128i| _mm256_div_pd(_mm256_cvtepi32_pd(_mm_shuffle_epi8(px, m)), c255);
        let (r, g, b) = (ld(mr), ld(mg), ld(mb));
        // rgb2hsv
        let v = _mm256_max_pd(_mm256_max_pd(r, g), b);
        let delta = _mm256_sub_pd(v, _mm256_min_pd(_mm256_min_pd(r, g), b));
        let nonzero = _mm256_cmp_pd(delta, zero, _CMP_NEQ_OQ);
        let mut s = _mm256_and_pd(_mm256_div_pd(delta, v), nonzero);
        let is_g = _mm256_cmp_pd(g, v, _CMP_EQ_OQ);
        let is_b = _mm256_cmp_pd(b, v, _CMP_EQ_OQ);
        let num = _mm256_blendv_pd(
            _mm256_blendv_pd(_mm256_sub_pd(g, b), _mm256_sub_pd(b, r), is_g),
            _mm256_sub_pd(r, g),
            is_b,
        );
        // The red case adds nothing: its quotient is never −0 (a difference of equal values
        // is +0), so the blend keeps the scalar's bits.
        let quot = _mm256_div_pd(num, delta);
        let base = _mm256_blendv_pd(
            _mm256_and_pd(is_g, _mm256_set1_pd(2.0)),
            _mm256_set1_pd(4.0),
            is_b,
        );
        let pre = _mm256_blendv_pd(quot, _mm256_add_pd(base, quot), or(is_g, is_b));
        let q = _mm256_div_pd(pre, six);
        let h = _mm256_blendv_pd(q, _mm256_add_pd(q, one), _mm256_cmp_pd(q, zero, _CMP_LT_OQ));
        let h = _mm256_and_pd(h, nonzero);
        let mut v = v;
        match op {
            HsvOp::AddValue(d) => v = clip(_mm256_add_pd(v, _mm256_set1_pd(d))),
            HsvOp::ScaleSaturation(m, a) => {
                s = clip(_mm256_add_pd(
                    _mm256_mul_pd(s, _mm256_set1_pd(m)),
                    _mm256_set1_pd(a),
                ))
            }
        }
        // hsv2rgb
        let h6 = _mm256_mul_pd(h, six);
        let hi = _mm256_floor_pd(h6);
        let f = _mm256_sub_pd(h6, hi);
        let pp = clip(_mm256_mul_pd(v, _mm256_sub_pd(one, s)));
        let qq = clip(_mm256_mul_pd(v, _mm256_sub_pd(one, _mm256_mul_pd(f, s))));
        let tt = clip(_mm256_mul_pd(
            v,
            _mm256_sub_pd(one, _mm256_mul_pd(_mm256_sub_pd(one, f), s)),
        ));
        let vv = clip(v);
        // Sextant masks; h rounds up to 1 for a hue a hair below 0, hence hi = 6 ≡ 0.
        let (e0, e1, e2) = (or(eq(hi, 0.0), eq(hi, 6.0)), eq(hi, 1.0), eq(hi, 2.0));
        let (e3, e4, e5) = (eq(hi, 3.0), eq(hi, 4.0), eq(hi, 5.0));
        let sel = |x: __m256d, y: __m256d, m: __m256d| _mm256_blendv_pd(x, y, m);
        let ro = sel(sel(sel(vv, qq, e1), pp, or(e2, e3)), tt, e4);
        let go = sel(sel(sel(pp, tt, e0), vv, or(e1, e2)), qq, e3);
        let bo = sel(sel(sel(pp, tt, e2), vv, or(e3, e4)), qq, e5);
        let byte = |x: __m256d| _mm256_cvttpd_epi32(_mm256_mul_pd(x, c255));
        let packed = _mm_or_si128(
            _mm_or_si128(byte(ro), _mm_slli_epi32::<8>(byte(go))),
            _mm_slli_epi32::<16>(byte(bo)),
        );
        let out = _mm_shuffle_epi8(packed, pack);
        if at + 16 <= dst.len() {
            _mm_storeu_si128(dst.as_mut_ptr().add(at) as *mut __m128i, out);
        } else {
            let mut t = [0u8; 16];
            _mm_storeu_si128(t.as_mut_ptr() as *mut __m128i, out);
            dst[at..at + 12].copy_from_slice(&t[..12]);
        }
        i += 4;
    }
    adjust_scalar(&src[i * 3..npix * 3], &mut dst[i * 3..npix * 3], op);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    #[test]
    fn simd_equals_scalar_on_all_hue_sextants_and_ties() {
        let mut src = Vec::new();
        // every combination of a coarse grid, including greys (delta = 0), black and ties
        for r in (0..=255).step_by(15) {
            for g in (0..=255).step_by(17) {
                for b in (0..=255).step_by(51) {
                    src.extend_from_slice(&[r as u8, g as u8, b as u8]);
                }
            }
        }
        src.extend_from_slice(&[7, 7, 7, 0, 0, 0, 255, 255, 255, 9, 200, 200, 200, 9, 200, 1]);
        let n = src.len() / 3 * 3;
        let src = &src[..n];
        for op in [
            HsvOp::AddValue(0.1),
            HsvOp::AddValue(0.5),
            HsvOp::ScaleSaturation(0.3, 0.0),
            HsvOp::ScaleSaturation(20.0, 0.2),
        ] {
            let mut a = vec![0; n];
            let mut b = vec![0; n];
            adjust_scalar(src, &mut a, op);
            adjust(src, &mut b, op);
            assert_eq!(a, b, "{op:?}");
            for isa in simd::available() {
                let mut c = vec![0; n];
                dispatch!(at isa; adjust_scalar / adjust_avx2(src, &mut c, op));
                assert_eq!(a, c, "{op:?}");
            }
        }
    }

    #[test]
    fn simd_equals_scalar_on_every_colour() {
        // all 2^24 colours, one red value at a time, with odd offsets so that vector steps
        // straddle pixels and the tails run
        let ops = [
            HsvOp::AddValue(0.3),
            HsvOp::AddValue(-0.17),
            HsvOp::ScaleSaturation(0.1, 0.0),
            HsvOp::ScaleSaturation(2.0, 0.05),
        ];
        let mut src = Vec::with_capacity(256 * 256 * 3 + 6);
        for r in 0..=255u8 {
            src.clear();
            src.extend_from_slice(&[r, 1, 2]);
            for g in 0..=255u8 {
                for b in 0..=255u8 {
                    src.extend_from_slice(&[r, g, b]);
                }
            }
            src.extend_from_slice(&[r, r, 0]);
            let op = ops[r as usize % ops.len()];
            let mut want = vec![0; src.len()];
            adjust_scalar(&src, &mut want, op);
            for isa in simd::available() {
                let mut got = vec![0; src.len()];
                dispatch!(at isa; adjust_scalar / adjust_avx2(&src, &mut got, op));
                assert!(got == want, "r = {r}, {op:?}, {isa:?}");
            }
        }
    }

    #[test]
    fn value_sweep_equals_adjust() {
        let mut src = Vec::new();
        for r in (0..=255).step_by(15) {
            for g in (0..=255).step_by(17) {
                for b in (0..=255).step_by(51) {
                    src.extend_from_slice(&[r as u8, g as u8, b as u8]);
                }
            }
        }
        src.extend_from_slice(&[7, 7, 7, 0, 0, 0, 255, 255, 255, 9, 200, 200, 200, 9, 200]);
        let sweep = ValueSweep::new(&src);
        let n = src.len() / 3;
        let (mut v0, mut k0) = (vec![0.0; n], vec![0.0; 3 * n]);
        sweep_init_scalar(&src, &mut v0, &mut k0);
        let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for isa in simd::available() {
            let (mut v, mut k) = (vec![0.0; n], vec![0.0; 3 * n]);
            dispatch!(at isa; sweep_init_scalar / sweep_init_avx2(&src, &mut v, &mut k));
            assert_eq!(bits(&v), bits(&v0), "{isa:?}");
            assert_eq!(bits(&k), bits(&k0), "{isa:?}");
        }
        for i in 0..31 {
            let d = (i as f64 - 15.0) * 2.0 / 100.0;
            let mut want = vec![0; src.len()];
            adjust_scalar(&src, &mut want, HsvOp::AddValue(d));
            let mut got = vec![0; src.len()];
            sweep.add_value(d, &mut got);
            assert_eq!(got, want, "{d}");
            for isa in simd::available() {
                let mut c = vec![0; src.len()];
                dispatch!(at isa; sweep_value_scalar / sweep_value_avx2(&sweep.v, &sweep.k, d, &mut c));
                assert_eq!(c, want, "{d} {isa:?}");
            }
        }
    }

    #[test]
    fn sweep_factors_are_in_the_unit_interval_for_every_colour() {
        // the premise of `sweep_value_avx2` leaving out the clip of v·k: for all 2²⁴ colours,
        // on every ISA, V and the three factors are in [0, 1] (and not NaN)
        let unit = |x: &f64| (0.0..=1.0).contains(x);
        for isa in simd::available() {
            for r in 0..=255u8 {
                let src: Vec<u8> = (0..=0xFFFFu32)
                    .flat_map(|c| [r, (c >> 8) as u8, c as u8])
                    .collect();
                let (mut v, mut k) = (vec![0.0; 1 << 16], vec![0.0; 3 << 16]);
                dispatch!(at isa; sweep_init_scalar / sweep_init_avx2(&src, &mut v, &mut k));
                assert!(v.iter().all(unit) && k.iter().all(unit), "{isa:?} r {r}");
            }
        }
    }

    #[test]
    fn identity_operations_roundtrip() {
        // s*1+0 leaves HSV untouched; the round trip then only truncates
        let src: Vec<u8> = (0..=255u8).flat_map(|v| [v, 255 - v, v / 2]).collect();
        let mut out = vec![0; src.len()];
        adjust_scalar(&src, &mut out, HsvOp::ScaleSaturation(1.0, 0.0));
        for (a, b) in src.iter().zip(&out) {
            assert!((*a as i32 - *b as i32).abs() <= 1, "{a} {b}");
        }
    }
}
