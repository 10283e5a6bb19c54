//! OpenCV `equalizeHist`, `filter2D` (3×3 integer kernel, spatter's emboss) and `blur` on u8,
//! fused into one row pass: see [`equalize_emboss_box_u8`].

#[cfg(test)]
use super::roll_rows;
use crate::kernels::filter2d::reflect101;
use crate::simd::dispatch;

#[cfg(test)]
dispatch! {
    /// OpenCV `blur(src, (3, 3))` on u8 (`BORDER_REFLECT_101`): `round(sum / 9)` (a sum of nine
    /// bytes divided by 9 is never exactly halfway, so the rounding mode does not matter).
    /// The tests' reference; spatter calls [`equalize_emboss_box_u8`] (the same row kernel).
    pub fn box3_u8 / box3_u8_scalar / box3_u8_avx2 (
        src: &[u8],
        w: usize,
        h: usize,
        dst: &mut [u8],
    ) {
        assert!(src.len() >= w * h && dst.len() >= w * h);
        let mut col = vec![0u16; w + 2];
        let mut rows = [vec![0u8; w + 2], vec![0u8; w + 2], vec![0u8; w + 2]];
        for r in 0..h {
            // rolling window: rows[k] holds source row reflect101(r + k − 1), so only the
            // new bottom row is padded (all three at the first row)
            roll_rows(src, w, h, r, &mut rows);
            let [a, b, c] = &rows;
            box3_u8_row([a, b, c], &mut col, &mut dst[r * w..(r + 1) * w]);
        }
    }
}

/// One output row of [`box3_u8`] from the padded source rows above, at and below (`w + 2`
/// values each, `w = dst.len()`; `col` is scratch of `w + 2`).
#[inline(always)]
fn box3_u8_row([a, b, c]: [&[u8]; 3], col: &mut [u16], dst: &mut [u8]) {
    let w = dst.len();
    let col = &mut col[..w + 2];
    for (((o, &x), &y), &z) in col
        .iter_mut()
        .zip(&a[..w + 2])
        .zip(&b[..w + 2])
        .zip(&c[..w + 2])
    {
        *o = x as u16 + y as u16 + z as u16;
    }
    let (c0, c1, c2) = (&col[..w], &col[1..w + 1], &col[2..w + 2]);
    for (c, d) in dst.iter_mut().enumerate() {
        let s = c0[c] + c1[c] + c2[c];
        // round(s / 9) for s ≤ 2295 is ⌊(s + 4) / 9⌋ (s / 9 is never halfway), via
        // a 16-bit high multiply (exact here, `box_rounding_by_multiply_shift_is_exact`)
        *d = (((s + 4) as u32 * 7282) >> 16) as u8;
    }
}

/// OpenCV `equalizeHist`: histogram `h`, first non-empty bin `i0`; if every pixel is in `i0`
/// the image becomes `i0`, else `scale = 255 / (N − h[i0])` in f32, `lut[i0] = 0` and for
/// `j > i0` `lut[j] = rint(f32(running_sum · scale))` saturated to u8.
///
/// Spatter calls [`equalize_emboss_box_u8`] (the same table, applied in its row pass).
#[cfg(test)]
pub fn equalize_hist(src: &[u8], dst: &mut [u8]) {
    assert!(dst.len() >= src.len());
    if let Some((lut, top)) = equalize_lut(src) {
        lut_apply(src, &lut, top, dst);
    }
}

/// `dst[i] = lut[src[i]]`, with the two-shuffle lookup when every byte is at most `top < 32`
/// (spatter's input is a distance capped at 20).
#[inline(always)]
fn lut_apply(src: &[u8], lut: &[u8; 256], top: usize, dst: &mut [u8]) {
    if top < 32 {
        let small: &[u8; 32] = lut[..32].try_into().expect("32 entries");
        dispatch!(lut32_scalar / lut32_avx2(src, small, dst));
    } else {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = lut[s as usize];
        }
    }
}

/// [`equalize_hist`]'s table of `src` and the largest value present (`None`: empty image).
fn equalize_lut(src: &[u8]) -> Option<([u8; 256], usize)> {
    let hist = histogram(src);
    let total = src.len() as u32;
    let i0 = hist.iter().position(|&c| c != 0)?;
    let mut lut = [0u8; 256];
    if hist[i0] == total {
        lut.fill(i0 as u8);
    } else {
        let scale = 255.0f32 / (total - hist[i0]) as f32;
        let mut sum = 0u32;
        for j in i0 + 1..256 {
            sum += hist[j];
            lut[j] = (sum as f32 * scale).round_ties_even().clamp(0.0, 255.0) as u8;
        }
    }
    let top = hist.iter().rposition(|&c| c != 0).unwrap_or(0);
    Some((lut, top))
}

/// The histogram of the bytes of `src`.
fn histogram(src: &[u8]) -> [u32; 256] {
    dispatch!(histogram_scalar / histogram_avx2(src))
}

/// Scalar twin of [`histogram`]: eight interleaved sub-histograms (the images here are
/// dominated by a few values, and a single histogram would serialise on those counters'
/// load-increment-store latency).
fn histogram_scalar(src: &[u8]) -> [u32; 256] {
    let mut sub = [[0u32; 256]; 8];
    let mut octs = src.chunks_exact(8);
    for q in &mut octs {
        for (h, &v) in sub.iter_mut().zip(q) {
            h[v as usize] += 1;
        }
    }
    for &v in octs.remainder() {
        sub[0][v as usize] += 1;
    }
    let mut hist = [0u32; 256];
    for (j, h) in hist.iter_mut().enumerate() {
        *h = sub.iter().map(|s| s[j]).sum();
    }
    hist
}

/// Values counted per pass of [`histogram_avx2`] (11 byte counters and the loaded vector
/// stay in registers).
#[cfg(target_arch = "x86_64")]
const HIST_LANES: usize = 11;

/// AVX2 twin of [`histogram_scalar`] for images whose bytes are all below 32 (spatter's
/// equalised distances: 0..=20); others take the scalar twin. Each pass counts
/// [`HIST_LANES`] values with a compare and a subtract per value and 32 bytes, in byte
/// counters flushed (`vpsadbw`) every 255 vectors: about half the time of the scalar
/// histogram's load-increment-store per byte at spatter's 21 values. First a `vpmaxub`
/// pass finds the largest byte (how many values to count).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn histogram_avx2(src: &[u8]) -> [u32; 256] {
    use std::arch::x86_64::*;
    let n = src.len();
    let full = n / 32 * 32;
    let p = src.as_ptr();
    let ld = |i: usize| _mm256_loadu_si256(p.add(i) as *const __m256i);
    let mut mx = _mm256_setzero_si256();
    let mut i = 0;
    while i < full {
        mx = _mm256_max_epu8(mx, ld(i));
        i += 32;
    }
    let mut lanes = [0u8; 32];
    _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, mx);
    let top = lanes.iter().chain(&src[full..]).copied().max().unwrap_or(0) as usize;
    if top >= 32 {
        return histogram_scalar(src);
    }
    let mut hist = [0u32; 256];
    let zero = _mm256_setzero_si256();
    for base in (0..=top).step_by(HIST_LANES) {
        let vals: [__m256i; HIST_LANES] =
            std::array::from_fn(|j| _mm256_set1_epi8((base + j) as i8));
        let mut start = 0;
        while start < full {
            // byte counters: at most one increment per vector, so 255 vectors per block
            let end = (start + 255 * 32).min(full);
            let mut acc = [zero; HIST_LANES];
            let mut i = start;
            while i < end {
                let x = ld(i);
                for (a, &v) in acc.iter_mut().zip(&vals) {
                    *a = _mm256_sub_epi8(*a, _mm256_cmpeq_epi8(x, v));
                }
                i += 32;
            }
            for (j, &a) in acc.iter().enumerate() {
                let s = _mm256_sad_epu8(a, zero);
                let s = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
                let s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
                hist[base + j] += _mm_cvtsi128_si64(s) as u32;
            }
            start = end;
        }
    }
    for &v in &src[full..] {
        hist[v as usize] += 1;
    }
    hist
}

/// `dst[i] = lut[src[i]]` for bytes below 32 (a larger byte panics).
fn lut32_scalar(src: &[u8], lut: &[u8; 32], dst: &mut [u8]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = lut[s as usize];
    }
}

/// AVX2 twin of [`lut32_scalar`]: each half of the table is one `vpshufb` lookup on the low
/// four bits, and a compare picks the half (a byte of 32 or more gives an unspecified value
/// instead of a panic).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn lut32_avx2(src: &[u8], lut: &[u8; 32], dst: &mut [u8]) {
    use std::arch::x86_64::*;
    let n = src.len().min(dst.len());
    let lo = _mm256_broadcastsi128_si256(_mm_loadu_si128(lut.as_ptr() as *const __m128i));
    let hi = _mm256_broadcastsi128_si256(_mm_loadu_si128(lut.as_ptr().add(16) as *const __m128i));
    let fifteen = _mm256_set1_epi8(15);
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 ≤ n ≤ both lengths.
        let x = _mm256_loadu_si256(src.as_ptr().add(i) as *const __m256i);
        let a = _mm256_shuffle_epi8(lo, x);
        let b = _mm256_shuffle_epi8(hi, x);
        let y = _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi8(x, fifteen));
        _mm256_storeu_si256(dst.as_mut_ptr().add(i) as *mut __m256i, y);
        i += 32;
    }
    lut32_scalar(&src[i..n], lut, &mut dst[i..n]);
}

#[cfg(test)]
dispatch! {
    /// OpenCV `filter2D(src, CV_8U, k)` for an integer 3×3 kernel (correlation, anchor at the
    /// centre, `BORDER_REFLECT_101`): exact integer sums saturated to 0..=255. The kernel's
    /// absolute weights must sum to at most 128 (16-bit sums; panics otherwise).
    /// The tests' reference; spatter calls [`equalize_emboss_box_u8`] (the same row kernel).
    pub fn filter3x3_u8 / filter3x3_u8_scalar / filter3x3_u8_avx2 (
        src: &[u8],
        w: usize,
        h: usize,
        k: &[[i32; 3]; 3],
        dst: &mut [u8],
    ) {
        assert!(src.len() >= w * h && dst.len() >= w * h);
        let mut rows = [vec![0u8; w + 2], vec![0u8; w + 2], vec![0u8; w + 2]];
        // sums are formed in i16 (twice the lanes of i32): exact while 255·Σ|k| fits
        assert!(
            k.iter().flatten().map(|v| v.unsigned_abs() as u64).sum::<u64>() <= 128,
            "filter3x3_u8: kernel weights too large for 16-bit sums"
        );
        let kk: [[i16; 3]; 3] = k.map(|r| r.map(|v| v as i16));
        for r in 0..h {
            roll_rows(src, w, h, r, &mut rows);
            let [a, b, c] = &rows;
            filter3x3_row([a, b, c], kk, &mut dst[r * w..(r + 1) * w]);
        }
    }
}

/// One output row of [`filter3x3_u8`] from the padded source rows above, at and below
/// (`w + 2` values each, `w = d.len()`), with the kernel in i16 (`255·Σ|k|` must fit in i16;
/// the callers check). Inlined: a constant kernel folds into shifts and adds.
#[inline(always)]
fn filter3x3_row([a, b, c]: [&[u8]; 3], kk: [[i16; 3]; 3], d: &mut [u8]) {
    let w = d.len();
    // equal-length shifted views: no bounds checks, so the loop vectorises
    let (a0, a1, a2) = (&a[..w], &a[1..w + 1], &a[2..w + 2]);
    let (b0, b1, b2) = (&b[..w], &b[1..w + 1], &b[2..w + 2]);
    let (c0, c1, c2) = (&c[..w], &c[1..w + 1], &c[2..w + 2]);
    let [[k00, k01, k02], [k10, k11, k12], [k20, k21, k22]] = kk;
    for i in 0..w {
        // i16 is exact: |sum| ≤ 255·Σ|k| ≤ 255·128
        let s = k00 * a0[i] as i16
            + k01 * a1[i] as i16
            + k02 * a2[i] as i16
            + k10 * b0[i] as i16
            + k11 * b1[i] as i16
            + k12 * b2[i] as i16
            + k20 * c0[i] as i16
            + k21 * c1[i] as i16
            + k22 * c2[i] as i16;
        d[i] = s.clamp(0, 255) as u8;
    }
}

/// Spatter's emboss kernel (`filter2D` after `equalizeHist`).
pub const EMBOSS: [[i32; 3]; 3] = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]];

dispatch! {
    /// Spatter's water chain after the distance: `box3_u8(filter3x3_u8(equalize_hist(src),
    /// EMBOSS))` ([`equalize_hist`], [`filter3x3_u8`] with [`EMBOSS`], [`box3_u8`]) in one
    /// row-streaming pass after the histogram: each equalised row is made once into a ring of
    /// three padded rows, each embossed row into a second ring, and output row `q` is blurred
    /// as soon as embossed rows `q − 1..=q + 1` exist. Why: the three image passes each copied
    /// padded rows out of an image-sized plane and wrote a plane back; here the rows stay in
    /// L1, and the constant kernel folds into adds and shifts. The same integer operations,
    /// so the same bytes (`equalize_emboss_box_equals_the_three_passes`).
    pub fn equalize_emboss_box_u8 / equalize_emboss_box_u8_scalar / equalize_emboss_box_u8_avx2 (
        src: &[u8],
        w: usize,
        h: usize,
        dst: &mut [u8],
    ) {
        assert!(src.len() >= w * h && dst.len() >= w * h);
        let src = &src[..w * h];
        let Some((lut, top)) = equalize_lut(src) else {
            return; // empty image
        };
        let kk: [[i16; 3]; 3] = EMBOSS.map(|r| r.map(|v| v as i16));
        // equalised row r in eq[r % 3], embossed row r in em[r % 3], padded (reflect-101)
        let mut eq = [vec![0u8; w + 2], vec![0u8; w + 2], vec![0u8; w + 2]];
        let mut em = [vec![0u8; w + 2], vec![0u8; w + 2], vec![0u8; w + 2]];
        let mut col = vec![0u16; w + 2];
        equalized_row(&src[..w], &lut, top, &mut eq[0]);
        if h > 1 {
            equalized_row(&src[w..2 * w], &lut, top, &mut eq[1]);
        }
        // ring slot of row reflect101(i) (i = −1 as usize::MAX, or h): only the two ends
        // take the general index map (it divides)
        let at = |i: usize| if i < h { i % 3 } else { reflect101(i as isize, h) % 3 };
        for r in 0..h {
            if r >= 1 && r + 1 < h {
                equalized_row(&src[(r + 1) * w..(r + 2) * w], &lut, top, &mut eq[(r + 1) % 3]);
            }
            let rows = [&eq[at(r.wrapping_sub(1))][..], &eq[r % 3], &eq[at(r + 1)]];
            let e = &mut em[r % 3];
            filter3x3_row(rows, kk, &mut e[1..w + 1]);
            pad101(e);
            if r >= 1 {
                let q = r - 1;
                let rows = [&em[at(q.wrapping_sub(1))][..], &em[q % 3], &em[at(r)]];
                box3_u8_row(rows, &mut col, &mut dst[q * w..r * w]);
            }
        }
        let q = h - 1;
        let rows = [&em[at(q.wrapping_sub(1))][..], &em[q % 3], &em[at(h)]];
        box3_u8_row(rows, &mut col, &mut dst[q * w..h * w]);
    }
}

/// The one-value `BORDER_REFLECT_101` ends of a padded row (`row[1..len − 1]` the values):
/// `reflect101(−1, w) = 1` and `reflect101(w, w) = w − 2` written out (0 when `w = 1`), as
/// the general index map divides.
#[inline(always)]
fn pad101(row: &mut [u8]) {
    let w = row.len() - 2;
    let (l, r) = if w > 1 { (2, w - 1) } else { (1, 1) };
    row[0] = row[l];
    row[w + 1] = row[r];
}

/// `lut[src]` into `out[1..]`, padded by [`pad101`] (`top`: the largest value of the image,
/// below 32 → the two-shuffle lookup).
#[inline(always)]
fn equalized_row(src: &[u8], lut: &[u8; 256], top: usize, out: &mut [u8]) {
    let w = src.len();
    lut_apply(src, lut, top, &mut out[1..w + 1]);
    pad101(&mut out[..w + 2]);
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "x86_64")]
    use super::super::distance::box3_f32_avx2;
    use super::super::distance::box3_f32_scalar;
    use super::*;
    use crate::simd;

    #[test]
    fn box_rounding_by_multiply_shift_is_exact() {
        for s in 0..=9 * 255u32 {
            let want = (s as f64 / 9.0).round() as u32;
            assert_eq!(((s + 4) * 7282) >> 16, want, "{s}");
        }
    }

    /// The fused equalise → emboss → blur pass equals the three image passes, at sizes with one
    /// and two rows and columns (the reflect-101 mirrors of both rings) and larger ones, on
    /// images with every byte below 32 (the shuffle table) and not, through each of the fused
    /// pass's twins (the histogram and lookup inside are dispatched at run time; their own twin
    /// tests cover the scalar builds).
    #[test]
    fn equalize_emboss_box_equals_the_three_passes() {
        for &(h, w) in &[
            (1usize, 1usize),
            (1, 9),
            (9, 1),
            (2, 3),
            (3, 2),
            (5, 17),
            (23, 70),
            (40, 224),
        ] {
            for top in [20u8, 255] {
                let r = crate::kernels::testdata::test_values(w * h, top as u64);
                let src: Vec<u8> = r.iter().map(|&v| (v % (top as u64 + 1)) as u8).collect();
                let mut eq = vec![0u8; w * h];
                equalize_hist(&src, &mut eq);
                let mut f = vec![0u8; w * h];
                filter3x3_u8(&eq, w, h, &EMBOSS, &mut f);
                let mut want = vec![0u8; w * h];
                box3_u8(&f, w, h, &mut want);
                for isa in simd::available() {
                    let mut got = vec![1u8; w * h];
                    dispatch!(at isa; equalize_emboss_box_u8_scalar / equalize_emboss_box_u8_avx2(&src, w, h, &mut got));
                    assert_eq!(got, want, "{h}x{w} top {top} {isa:?}");
                }
            }
        }
    }

    /// The histogram's twins agree with a plain count, at lengths around the 32-byte step and
    /// the 255-vector flush of the byte counters, for bytes below 32 (the compare-count path,
    /// one dominant value included) and above (the scalar fallback).
    #[test]
    fn histogram_twins_equal_count() {
        for n in [
            0usize,
            1,
            31,
            32,
            33,
            255 * 32,
            255 * 32 + 1,
            300 * 32 + 5,
            50176,
        ] {
            for top in [0u64, 1, 10, 20, 31, 32, 255] {
                let r = crate::kernels::testdata::test_values(n, n as u64 + top);
                let src: Vec<u8> = r
                    .iter()
                    .map(|&v| if v % 4 == 0 { top } else { v % (top + 1) } as u8)
                    .collect();
                let mut want = [0u32; 256];
                for &v in &src {
                    want[v as usize] += 1;
                }
                assert_eq!(histogram_scalar(&src), want, "n {n} top {top}");
                for isa in simd::available() {
                    let got = dispatch!(at isa; histogram_scalar / histogram_avx2(&src));
                    assert_eq!(got, want, "n {n} top {top} {isa:?}");
                }
            }
        }
    }

    #[test]
    fn box_and_filter_simd_equal_scalar() {
        for &(h, w) in &[(1usize, 1usize), (2, 3), (5, 17), (19, 40)] {
            let u: Vec<u8> = (0..w * h).map(|i| ((i * 73 + 11) % 256) as u8).collect();
            let f: Vec<f32> = u.iter().map(|&v| (v % 21) as f32 * 1.4).collect();
            for isa in simd::available() {
                let (mut a, mut b) = (vec![0u8; w * h], vec![0u8; w * h]);
                box3_u8_scalar(&u, w, h, &mut a);
                dispatch!(at isa; box3_u8_scalar / box3_u8_avx2(&u, w, h, &mut b));
                assert_eq!(a, b);
                let k = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]];
                let mut b = vec![0u8; w * h];
                filter3x3_u8_scalar(&u, w, h, &k, &mut a);
                dispatch!(at isa; filter3x3_u8_scalar / filter3x3_u8_avx2(&u, w, h, &k, &mut b));
                assert_eq!(a, b);
                let (mut fa, mut fb) = (vec![0f32; w * h], vec![0f32; w * h]);
                box3_f32_scalar(&f, w, h, &mut fa);
                dispatch!(at isa; box3_f32_scalar / box3_f32_avx2(&f, w, h, &mut fb));
                assert_eq!(fa, fb);
            }
        }
    }

    /// The small-table lookup of [`equalize_hist`]: its twins agree on every byte below 32,
    /// at lengths around the 32-byte step, and equal the table itself.
    #[test]
    fn lut32_simd_equals_scalar() {
        let lut: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
        for n in [0usize, 1, 31, 32, 33, 64, 100] {
            let src: Vec<u8> = (0..n).map(|i| ((i * 7 + 3) % 32) as u8).collect();
            let mut a = vec![0u8; n];
            lut32_scalar(&src, &lut, &mut a);
            let want: Vec<u8> = src.iter().map(|&s| lut[s as usize]).collect();
            assert_eq!(a, want);
            for isa in simd::available() {
                let mut b = vec![0u8; n];
                dispatch!(at isa; lut32_scalar / lut32_avx2(&src, &lut, &mut b));
                assert_eq!(a, b, "n {n} {isa:?}");
            }
        }
    }

    /// `equalize_hist` on images whose largest value is below 32 (the two-shuffle table) and
    /// above (the byte table), against the OpenCV definition written out directly.
    #[test]
    fn equalize_hist_small_and_large_ranges() {
        for top in [20usize, 31, 32, 255] {
            // uneven counts (squares modulo top + 1) and every value up to `top` present
            let src: Vec<u8> = (0..5000usize)
                .map(|i| if i <= top { i } else { (i * i * 31 + i * 7) % (top + 1) } as u8)
                .collect();
            let mut got = vec![0u8; src.len()];
            equalize_hist(&src, &mut got);
            let mut hist = [0u32; 256];
            for &v in &src {
                hist[v as usize] += 1;
            }
            let i0 = hist.iter().position(|&c| c != 0).unwrap();
            let scale = 255.0f32 / (src.len() as u32 - hist[i0]) as f32;
            let (mut sum, mut lut) = (0u32, [0u8; 256]);
            for j in i0 + 1..256 {
                sum += hist[j];
                lut[j] = (sum as f32 * scale).round_ties_even().clamp(0.0, 255.0) as u8;
            }
            let want: Vec<u8> = src.iter().map(|&v| lut[v as usize]).collect();
            assert_eq!(got, want, "top {top}");
            assert!(src.iter().any(|&v| v as usize == top));
        }
    }
}
