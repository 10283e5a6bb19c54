//! Chroma resampling: `jcsample.c` `h2v2_downsample` (encoder) and `jdsample.c`
//! `h2v2_fancy_upsample` (decoder, triangle filter), each with an AVX2 twin.

/// `h2v2_downsample`: `out[j] = (a[2j] + a[2j+1] + b[2j] + b[2j+1] + bias) >> 2` with the
/// ordered-dither bias 1, 2, 1, 2, … (starting at 1 in column 0). Inputs hold at least
/// `2·out.len()` samples (already edge-expanded by the caller).
pub(crate) fn downsample_row_scalar(a: &[u8], b: &[u8], out: &mut [u8]) {
    for (j, o) in out.iter_mut().enumerate() {
        let s = u16::from(a[2 * j])
            + u16::from(a[2 * j + 1])
            + u16::from(b[2 * j])
            + u16::from(b[2 * j + 1]);
        *o = ((s + 1 + (j as u16 & 1)) >> 2) as u8;
    }
}

/// Column sums of `h2v2_fancy_upsample`: `cs[1 + j] = 3·near[j] + far[j]` for `j < n`, with
/// `cs[0] = cs[1]` and `cs[n + 1] = cs[n]` standing in for the first/last-column special cases.
pub(crate) fn colsum_scalar(near: &[u8], far: &[u8], n: usize, cs: &mut [i16]) {
    for j in 0..n {
        cs[1 + j] = 3 * i16::from(near[j]) + i16::from(far[j]);
    }
    cs[0] = cs[1];
    cs[n + 1] = cs[n];
}

/// Horizontal half of `h2v2_fancy_upsample` from padded column sums (see [`colsum_scalar`]):
/// `out[2j] = (3·cs[j] + cs[j−1] + 8) >> 4`, `out[2j+1] = (3·cs[j] + cs[j+1] + 7) >> 4`.
/// Writes `out.len()` samples (at most `2n`).
pub(crate) fn fancy_h_scalar(cs: &[i16], out: &mut [u8]) {
    let half = out.len() / 2;
    let mut pairs = out.chunks_exact_mut(2);
    for (j, o) in (&mut pairs).enumerate() {
        let c = 3 * cs[1 + j];
        o[0] = ((c + cs[j] + 8) >> 4) as u8;
        o[1] = ((c + cs[j + 2] + 7) >> 4) as u8;
    }
    if let [o] = pairs.into_remainder() {
        *o = ((3 * cs[1 + half] + cs[half] + 8) >> 4) as u8;
    }
}

/// `h2v1_fancy_upsample` (decoder, 4:2:2 chroma): horizontal triangle filter,
/// `out[2j] = (3·in[j] + in[j−1] + 1) >> 2`, `out[2j+1] = (3·in[j] + in[j+1] + 2) >> 2`, with the
/// first and last input sample repeated at the edges (which reproduces libjpeg's special-cased
/// end columns exactly). Writes `out.len()` samples (at most `2·inp.len()`); `inp` is not empty.
pub(crate) fn h2v1_fancy_scalar(inp: &[u8], out: &mut [u8]) {
    let n = inp.len();
    let at = |j: isize| i16::from(inp[j.clamp(0, n as isize - 1) as usize]);
    for (x, o) in out.iter_mut().enumerate() {
        let j = (x / 2) as isize;
        let c = 3 * at(j);
        *o = if x % 2 == 0 {
            ((c + at(j - 1) + 1) >> 2) as u8
        } else {
            ((c + at(j + 1) + 2) >> 2) as u8
        };
    }
}

/// `h1v2_fancy_upsample` (decoder, 4:4:0 chroma): vertical triangle filter,
/// `out[j] = (3·near[j] + far[j] + bias) >> 2` where `far` is the row above (`bias` 1) for the
/// upper output row and the row below (`bias` 2) for the lower one.
pub(crate) fn h1v2_fancy_scalar(near: &[u8], far: &[u8], bias: u16, out: &mut [u8]) {
    for ((o, &a), &b) in out.iter_mut().zip(near).zip(far) {
        *o = ((3 * u16::from(a) + u16::from(b) + bias) >> 2) as u8;
    }
}

/// h2v2 fancy upsampling of one output row: the column sums of the near and far input rows
/// (`cs`, at least `n + 2` long), then the horizontal 3:1 pass into `out`.
pub(crate) fn fancy_row_scalar(near: &[u8], far: &[u8], n: usize, cs: &mut [i16], out: &mut [u8]) {
    colsum_scalar(near, far, n, cs);
    fancy_h_scalar(&cs[..n + 2], out);
}

/// One output pixel of [`fancy_ycc_row_scalar`]: the h2v2 fancy-upsampled Cb and Cr at column
/// `x` (the column sums `3·near + far` with the first/last one standing in beyond the row's
/// ends, as [`colsum_scalar`] pads them), then YCbCr → RGB.
#[inline(always)]
pub(crate) fn fancy_ycc_px(
    y: &[u8],
    cb: [&[u8]; 2],
    cr: [&[u8]; 2],
    n: usize,
    x: usize,
) -> [u8; 3] {
    let j = x / 2;
    let even = x.is_multiple_of(2);
    let nb = if even {
        j.saturating_sub(1)
    } else {
        (j + 1).min(n - 1)
    };
    let bias = if even { 8 } else { 7 };
    let up = |p: [&[u8]; 2]| {
        let cs = |k: usize| 3 * i16::from(p[0][k]) + i16::from(p[1][k]);
        ((3 * cs(j) + cs(nb) + bias) >> 4) as u8
    };
    super::color::ycc_to_rgb_px(y[x], up(cb), up(cr))
}

/// The decoder's back end for one output row, fused: h2v2 fancy upsampling of the Cb and Cr
/// rows (`[near, far]`, `n` samples each, see [`fancy_row_scalar`]) and YCbCr → RGB with the Y
/// row, into `rgb` (`rgb.len() / 3` pixels, at most `2n`). The same bytes as
/// [`fancy_row_scalar`] on both planes followed by `ycc_to_rgb_row_scalar`.
pub(crate) fn fancy_ycc_row_scalar(
    y: &[u8],
    cb: [&[u8]; 2],
    cr: [&[u8]; 2],
    n: usize,
    rgb: &mut [u8],
) {
    for (x, px) in rgb.chunks_exact_mut(3).enumerate() {
        px.copy_from_slice(&fancy_ycc_px(y, cb, cr, n, x));
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    //! AVX2 twins of the resampling rows.

    use super::super::color::avx2::{store_rgb8, ycc16_to_rgb, YccConsts};
    use super::*;
    use std::arch::x86_64::*;

    /// See [`downsample_row_scalar`].
    ///
    /// # Safety
    /// AVX2 must be available; `a`, `b` hold at least `2·out.len()` samples.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn downsample_row(a: &[u8], b: &[u8], out: &mut [u8]) {
        let n = out.len();
        assert!(a.len() >= 2 * n && b.len() >= 2 * n);
        let ones = _mm256_set1_epi8(1);
        let bias = _mm256_set1_epi32(0x0002_0001);
        let mut j = 0;
        while j + 16 <= n {
            let va = _mm256_loadu_si256(a.as_ptr().add(2 * j) as *const __m256i);
            let vb = _mm256_loadu_si256(b.as_ptr().add(2 * j) as *const __m256i);
            let s = _mm256_add_epi16(
                _mm256_maddubs_epi16(va, ones),
                _mm256_maddubs_epi16(vb, ones),
            );
            let s = _mm256_srli_epi16::<2>(_mm256_add_epi16(s, bias));
            let p = _mm256_permute4x64_epi64::<0b1000>(_mm256_packus_epi16(s, s));
            _mm_storeu_si128(
                out.as_mut_ptr().add(j) as *mut __m128i,
                _mm256_castsi256_si128(p),
            );
            j += 16;
        }
        // Tail (j is even, so the bias phase is preserved); usually empty (224 / 2 = 7·16).
        if j < n {
            downsample_row_scalar(&a[2 * j..], &b[2 * j..], &mut out[j..]);
        }
    }

    /// AVX2 twin of [`super::fancy_row_scalar`].
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn fancy_row(
        near: &[u8],
        far: &[u8],
        n: usize,
        cs: &mut [i16],
        out: &mut [u8],
    ) {
        // SAFETY: same contract as this function's (AVX2 present); lengths are checked inside.
        unsafe {
            colsum(near, far, n, cs);
            fancy_h(&cs[..n + 2], out);
        }
    }

    /// See [`colsum_scalar`].
    ///
    /// # Safety
    /// AVX2 must be available; `near`, `far` hold `n` samples, `cs` at least `n + 2`.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn colsum(near: &[u8], far: &[u8], n: usize, cs: &mut [i16]) {
        assert!(near.len() >= n && far.len() >= n && cs.len() >= n + 2);
        let mut j = 0;
        while j + 16 <= n {
            let a = _mm256_cvtepu8_epi16(_mm_loadu_si128(near.as_ptr().add(j) as *const __m128i));
            let b = _mm256_cvtepu8_epi16(_mm_loadu_si128(far.as_ptr().add(j) as *const __m128i));
            let s = _mm256_add_epi16(_mm256_add_epi16(a, a), _mm256_add_epi16(a, b));
            _mm256_storeu_si256(cs.as_mut_ptr().add(1 + j) as *mut __m256i, s);
            j += 16;
        }
        for k in j..n {
            cs[1 + k] = 3 * i16::from(near[k]) + i16::from(far[k]);
        }
        cs[0] = cs[1];
        cs[n + 1] = cs[n];
    }

    /// See [`fancy_h_scalar`].
    ///
    /// # Safety
    /// AVX2 must be available; `cs` is padded as `colsum` leaves it and covers `out.len()`.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn fancy_h(cs: &[i16], out: &mut [u8]) {
        let w = out.len();
        assert!(cs.len() >= w.div_ceil(2) + 2);
        let c8 = _mm256_set1_epi16(8);
        let c7 = _mm256_set1_epi16(7);
        let mut x = 0;
        // 16 column sums → 32 output samples per step; loads cs[j..j+18].
        while x + 32 <= w && x / 2 + 18 <= cs.len() {
            let j = x / 2;
            let l = _mm256_loadu_si256(cs.as_ptr().add(j) as *const __m256i);
            let c = _mm256_loadu_si256(cs.as_ptr().add(j + 1) as *const __m256i);
            let r = _mm256_loadu_si256(cs.as_ptr().add(j + 2) as *const __m256i);
            let c3 = _mm256_add_epi16(_mm256_add_epi16(c, c), c);
            let e = _mm256_srli_epi16::<4>(_mm256_add_epi16(_mm256_add_epi16(c3, l), c8));
            let o = _mm256_srli_epi16::<4>(_mm256_add_epi16(_mm256_add_epi16(c3, r), c7));
            // Each 16-bit lane holds the byte pair (even, odd) in memory order.
            let v = _mm256_or_si256(e, _mm256_slli_epi16::<8>(o));
            _mm256_storeu_si256(out.as_mut_ptr().add(x) as *mut __m256i, v);
            x += 32;
        }
        // Scalar tail from an even x (fancy_h_scalar indexes relative to its slices).
        // Skipped when empty (every row of a 224-wide image): the call cost ~20 instructions
        // per row and plane.
        if x < w {
            fancy_h_scalar(&cs[x / 2..], &mut out[x..]);
        }
    }

    /// Column sums `3·near + far` of 16 chroma samples as `i16`.
    #[inline(always)]
    unsafe fn colsum16(near: __m128i, far: __m128i) -> __m256i {
        let a = _mm256_cvtepu8_epi16(near);
        let b = _mm256_cvtepu8_epi16(far);
        _mm256_add_epi16(_mm256_add_epi16(a, a), _mm256_add_epi16(a, b))
    }

    #[inline(always)]
    unsafe fn load16(p: &[u8], j: usize) -> __m128i {
        _mm_loadu_si128(p.as_ptr().add(j) as *const __m128i)
    }

    /// Column sums of chroma `j0..j0 + 16` of `p = [near, far]`.
    #[inline(always)]
    unsafe fn colsum_at(p: [&[u8]; 2], j0: usize) -> __m256i {
        colsum16(load16(p[0], j0), load16(p[1], j0))
    }

    /// Column sums one sample to the left of `c` (sums `j0..j0 + 16`): `c` moved up one lane
    /// element, the first taken from `prev` (the sums `j0 − 16..j0`; at the row's start a
    /// broadcast of sum 0, the padded sum of [`super::colsum_scalar`]).
    #[inline(always)]
    unsafe fn left_of(prev: __m256i, c: __m256i) -> __m256i {
        _mm256_alignr_epi8::<14>(c, _mm256_permute2x128_si256::<0x21>(prev, c))
    }

    /// Column sums one sample to the right of `c`, the last taken from `next` (sums
    /// `j0 + 16..j0 + 32`).
    #[inline(always)]
    unsafe fn right_of(c: __m256i, next: __m256i) -> __m256i {
        _mm256_alignr_epi8::<2>(_mm256_permute2x128_si256::<0x21>(c, next), c)
    }

    /// Column sums of chroma `j0..j0 + 16` and their left and right neighbours, all from loads:
    /// one sample to either side, or, at the row's ends, a byte shuffle repeating the end
    /// sample (the padded sums of [`super::colsum_scalar`]). `j0 + 16 <= n`.
    #[inline(always)]
    unsafe fn colsums_loaded(p: [&[u8]; 2], n: usize, j0: usize) -> [__m256i; 3] {
        let first = _mm_setr_epi8(0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        let last = _mm_setr_epi8(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15);
        let (cn, cf) = (load16(p[0], j0), load16(p[1], j0));
        let c = colsum16(cn, cf);
        let l = if j0 == 0 {
            colsum16(_mm_shuffle_epi8(cn, first), _mm_shuffle_epi8(cf, first))
        } else {
            colsum_at(p, j0 - 1)
        };
        let r = if j0 + 17 <= n {
            colsum_at(p, j0 + 1)
        } else {
            colsum16(_mm_shuffle_epi8(cn, last), _mm_shuffle_epi8(cf, last))
        };
        [l, c, r]
    }

    /// Fancy-upsampled samples minus 128 from the column sums `[left, centre, right]` of 16
    /// chroma samples `j0..j0 + 16`: outputs `2·j0 + (0..8 | 16..24)` in `.0` and
    /// `2·j0 + (8..16 | 24..32)` in `.1` (lane 0 | lane 1), the order of `vpunpck{l,h}bw` of
    /// 32 Y samples.
    #[inline(always)]
    unsafe fn up16([l, c, r]: [__m256i; 3]) -> (__m256i, __m256i) {
        let c3 = _mm256_add_epi16(_mm256_add_epi16(c, c), c);
        // (v + 8 − 2048) >> 4 = ((v + 8) >> 4) − 128: the −128 of the colour conversion, free.
        let e = _mm256_srai_epi16::<4>(_mm256_add_epi16(
            _mm256_add_epi16(c3, l),
            _mm256_set1_epi16(8 - 2048),
        ));
        let o = _mm256_srai_epi16::<4>(_mm256_add_epi16(
            _mm256_add_epi16(c3, r),
            _mm256_set1_epi16(7 - 2048),
        ));
        (_mm256_unpacklo_epi16(e, o), _mm256_unpackhi_epi16(e, o))
    }

    /// AVX2 twin of [`super::fancy_ycc_row_scalar`]: 16 chroma samples → 32 pixels per step,
    /// the upsampled chroma kept in registers (no column-sum or upsampled rows in memory).
    ///
    /// # Safety
    /// AVX2 must be available. Lengths are checked: `y` holds the row's pixels, the chroma rows
    /// `n >= ceil(pixels / 2)` samples.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn fancy_ycc_row(
        y: &[u8],
        cb: [&[u8]; 2],
        cr: [&[u8]; 2],
        n: usize,
        rgb: &mut [u8],
    ) {
        let w = rgb.len() / 3;
        assert!(y.len() >= w && w.div_ceil(2) <= n);
        assert!(cb.iter().chain(&cr).all(|p| p.len() >= n));
        if w < 32 {
            fancy_ycc_row_scalar(y, cb, cr, n, rgb);
            return;
        }
        let k = YccConsts::new();
        let zero = _mm256_setzero_si256();
        let dst = rgb.as_mut_ptr();
        // 32 pixels from chroma j0 (2·j0 + 32 <= w, hence j0 + 16 <= n) given the column sums
        // of both planes; a macro, as closures would not inherit AVX2.
        macro_rules! step {
            ($j0:expr, $sb:expr, $sr:expr) => {{
                let x0 = 2 * $j0;
                let (cba, cbb) = up16($sb);
                let (cra, crb) = up16($sr);
                let yv = _mm256_loadu_si256(y.as_ptr().add(x0) as *const __m256i);
                let va = ycc16_to_rgb(_mm256_unpacklo_epi8(yv, zero), cba, cra, &k);
                let vb = ycc16_to_rgb(_mm256_unpackhi_epi8(yv, zero), cbb, crb, &k);
                let o = dst.add(3 * x0);
                store_rgb8::<0>(o, va);
                store_rgb8::<0>(o.add(24), vb);
                store_rgb8::<1>(o.add(48), va);
                store_rgb8::<1>(o.add(72), vb);
            }};
        }
        // Whole steps: each chunk's column sums are computed once, and its neighbours' sums
        // are the adjacent chunks' moved by one element (registers, not memory or reloads).
        let mut cb_c = colsum_at(cb, 0);
        let mut cr_c = colsum_at(cr, 0);
        let mut cb_p = _mm256_broadcastw_epi16(_mm256_castsi256_si128(cb_c));
        let mut cr_p = _mm256_broadcastw_epi16(_mm256_castsi256_si128(cr_c));
        let mut j0 = 0;
        while 2 * j0 + 32 <= w {
            let (rb, rr, nb, nr);
            if j0 + 32 <= n {
                nb = colsum_at(cb, j0 + 16);
                nr = colsum_at(cr, j0 + 16);
                rb = right_of(cb_c, nb);
                rr = right_of(cr_c, nr);
            } else {
                // No whole chunk to the right: the right sums from loads (and the end shuffle).
                (nb, nr) = (cb_c, cr_c);
                rb = colsums_loaded(cb, n, j0)[2];
                rr = colsums_loaded(cr, n, j0)[2];
            }
            let sb = [left_of(cb_p, cb_c), cb_c, rb];
            let sr = [left_of(cr_p, cr_c), cr_c, rr];
            step!(j0, sb, sr);
            (cb_p, cb_c, cr_p, cr_c) = (cb_c, nb, cr_c, nr);
            j0 += 16;
        }
        if 2 * j0 < w {
            // The last whole 32 pixels again, overlapping what is done (the same bytes).
            let j0 = (w - 32) / 2;
            step!(j0, colsums_loaded(cb, n, j0), colsums_loaded(cr, n, j0));
            if !w.is_multiple_of(2) {
                let o = &mut rgb[3 * (w - 1)..];
                o.copy_from_slice(&fancy_ycc_px(y, cb, cr, n, w - 1));
            }
        }
    }
}
