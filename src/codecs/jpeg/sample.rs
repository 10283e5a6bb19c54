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

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    //! AVX2 twins of the resampling rows.

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
}
