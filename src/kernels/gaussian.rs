//! Separable Gaussian filter with `scipy.ndimage.gaussian_filter` semantics (ALGORITHMS.md P1).
//!
//! Used by gaussian_blur, glass_blur and elastic_transform here, and by spatter (2-D layers)
//! elsewhere. What makes the output bit-identical to SciPy (verified against SciPy 1.11 in the
//! oracle venv, see the tests):
//!
//! * 1-D weights `exp(-0.5/σ² · k²)` for `k = -r..=r`, `r = int(truncate·σ + 0.5)`, divided by
//!   their NumPy (pairwise) sum ([`kernel1d`]).
//! * SciPy's symmetric-kernel loop: `acc = x[0]·w[0]`, then for `l = r, r-1, …, 1`:
//!   `acc += (x[-l] + x[+l]) · w[l]`, all in f64.
//! * Axis 0 (rows) first, then axis 1 (columns); a channel axis is never filtered. The result of
//!   the first pass is stored in the working type `T` (f64 or f32) before the second pass reads
//!   it, as SciPy does with its output array.
//! * Boundary modes `nearest` (edge replication) and `reflect` (half-sample symmetric, periodic
//!   with period `2n`, so radii larger than the image are handled like SciPy).
//!
//! `exp` is [`numpy_exp`], NumPy's AVX-512 (SVML) exponential, so that the weights are the
//! reference's to the last bit.
//!
//! `fast_image_resize`/`imageproc` are not used: their Gaussian blurs use other radii, kernels
//! (f32, truncated differently) and border rules, so they cannot reproduce SciPy.
//!
//! SIMD: the inner loops run along whole rows with the same operations in the same order for
//! every element, so the AVX2 variant is the very same code compiled with AVX2 enabled
//! (auto-vectorised, no FMA contraction in Rust) and is bit-identical to the scalar twin.
//! The fast-mode f32 filter [`gaussian_nearest_f32`] is [`crate::kernels::fastgauss`].

use crate::kernels::fastgauss::{self, Dst, Src};
use crate::kernels::scratch::{Buf, Pooled};
use crate::simd::dispatch;

/// Boundary handling of the filter (SciPy `mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `a a a | a b c d | d d d` (SciPy `nearest`, the scikit-image default).
    Nearest,
    /// `c b a | a b c d | d c b`, periodic with period `2n` (SciPy `reflect`).
    Reflect,
}

/// Storage types the filter works on; arithmetic is always f64 (as SciPy's line buffers).
pub trait Sample: Copy + Default + Send + Sync + Pooled + 'static {
    /// Widen to f64.
    fn to_f64(self) -> f64;
    /// Round back into the storage type.
    fn from_f64(v: f64) -> Self;
}

impl Sample for f64 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
}

impl Sample for f32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

/// NumPy's `np.sum` of a contiguous f64 array (pairwise summation with 8 accumulators and a
/// block size of 128), needed to normalise kernels bit-exactly.
pub fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for k in 0..8 {
                r[k] += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
    }
}

/// `np.exp` for f64 as NumPy computes it on x86-64 CPUs with AVX-512 (SkylakeX and later),
/// where NumPy ≥ 1.22 calls Intel SVML's `__svml_exp8` (published as assembly in NumPy's source
/// tree): `N = x·log2(e)` rounded toward zero to 1/16, `r = (x − N·ln2_hi) − N·ln2_lo`,
/// `exp(r) − 1` by a degree-6 polynomial evaluated with fused multiply-adds, times a 16-entry
/// table of `2^(j/16)`, scaled by `2^floor(N)`.
///
/// Why: the platform `exp` differs from it in the last bit for ~25 % of the kernel arguments,
/// and kernel weights that differ by one ulp flip the truncation of flat image regions (e.g.
/// motion_blur, where a constant area sums to exactly the pixel value). The fixtures and the
/// ALGORITHMS.md Appendix C test vectors were made on such a CPU; reproduced bit for bit for the arguments
/// tested (4889 values, all kernel arguments of the presets). NumPy on CPUs without AVX-512
/// uses the platform `exp` instead (results may then differ by 1 ulp). `|x| > 707.7` (SVML's
/// special-case path, never reached by the kernels here) falls back to the platform `exp`.
pub fn numpy_exp(x: f64) -> f64 {
    const TABLE: [u64; 16] = [
        0x3ff0000000000000,
        0x3ff0b5586cf9890f,
        0x3ff172b83c7d517b,
        0x3ff2387a6e756238,
        0x3ff306fe0a31b715,
        0x3ff3dea64c123422,
        0x3ff4bfdad5362a27,
        0x3ff5ab07dd485429,
        0x3ff6a09e667f3bcd,
        0x3ff7a11473eb0187,
        0x3ff8ace5422aa0db,
        0x3ff9c49182a3f090,
        0x3ffae89f995ad3ad,
        0x3ffc199bdd85529c,
        0x3ffd5818dcfba487,
        0x3ffea4afa2a490da,
    ];
    let l2e = f64::from_bits(0x3ff71547652b82fe);
    let ln2_hi = f64::from_bits(0x3fe62e42fefa39ef);
    let ln2_lo = f64::from_bits(0x3c7abc9e3b39803f);
    let c6 = f64::from_bits(0x3f572eb5ef0d213d);
    let c5 = f64::from_bits(0x3f81106603d97c00);
    let c4 = f64::from_bits(0x3fa555564bb4f5f0);
    let c3 = f64::from_bits(0x3fc5555554b508a2);
    let c2 = f64::from_bits(0x3fe0000000002622);
    let threshold = f64::from_bits(0x40861da04cbafe44);
    if x.is_nan() || x.abs() > threshold {
        return x.exp();
    }
    // N = x·log2(e) rounded toward −∞ on the 1/16 grid (SVML adds a 1.5·2^48 shifter with
    // round-toward-zero, which is a floor because the sum is positive). The product is split
    // exactly into p + perr to decide ties at grid points.
    let p = x * l2e;
    let perr = x.mul_add(l2e, -p);
    let mut n16 = (p * 16.0).floor();
    if n16 == p * 16.0 && perr < 0.0 {
        n16 -= 1.0;
    }
    let n = n16 / 16.0;
    let j = (n16 as i64).rem_euclid(16) as usize;
    let th = f64::from_bits(TABLE[j]);
    let r = (-n).mul_add(ln2_hi, x);
    let r = (-n).mul_add(ln2_lo, r);
    let r2 = r * r;
    let p56 = r.mul_add(c6, c5);
    let p34 = r.mul_add(c4, c3);
    let r3 = r2 * r;
    let p12 = r2.mul_add(c2, r);
    let p36 = r2.mul_add(p56, p34);
    let p16 = r3.mul_add(p36, p12);
    let res = th.mul_add(p16, th);
    libm::scalbn(res, n.floor() as i32)
}

/// Radius SciPy uses for σ and `truncate`: `int(truncate·σ + 0.5)`.
pub fn radius(sigma: f64, truncate: f64) -> usize {
    (truncate * sigma + 0.5) as usize
}

/// SciPy's normalised 1-D Gaussian (`_gaussian_kernel1d(σ, 0, r)`), `2r+1` weights.
///
/// σ ≤ 1e-15 gives the identity `[1.0]` (SciPy skips such axes entirely).
pub fn kernel1d(sigma: f64, truncate: f64) -> Vec<f64> {
    if sigma.is_nan() || sigma <= 1e-15 {
        return vec![1.0];
    }
    let r = radius(sigma, truncate) as i64;
    let c = -0.5 / (sigma * sigma);
    let phi: Vec<f64> = (-r..=r).map(|k| numpy_exp(c * (k * k) as f64)).collect();
    let s = numpy_sum(&phi);
    phi.iter().map(|&p| p / s).collect()
}

/// Map a possibly out-of-range index into `0..n` by the boundary rule.
#[inline]
pub fn extend_index(i: isize, n: usize, mode: Mode) -> usize {
    let n_i = n as isize;
    match mode {
        Mode::Nearest => i.clamp(0, n_i - 1) as usize,
        Mode::Reflect => {
            let p = 2 * n_i;
            let m = i.rem_euclid(p);
            (if m < n_i { m } else { p - 1 - m }) as usize
        }
    }
}

dispatch! {
    /// Correlate along axis 0 of an `h × row_len` array (`row_len = W·C` values per row) with the
    /// symmetric weights `w` (length `2r+1`), storing the result in `dst`.
    pub fn filter_rows / filter_rows_scalar / filter_rows_avx2 <T: Sample> (
        src: &[T],
        dst: &mut [T],
        h: usize,
        row_len: usize,
        w: &[f64],
        mode: Mode,
    ) {
        assert!(w.len() % 2 == 1 && src.len() >= h * row_len && dst.len() >= h * row_len);
        let r = w.len() / 2;
        // Source rows of each tap for the current output row: centre, then (up, down) for l = r..1.
        let mut rows: Vec<(usize, usize, f64)> = Vec::with_capacity(r);
        let full = row_len / BLOCK * BLOCK;
        for i in 0..h {
            rows.clear();
            for l in (1..=r).rev() {
                let up = extend_index(i as isize - l as isize, h, mode) * row_len;
                let down = extend_index(i as isize + l as isize, h, mode) * row_len;
                rows.push((up, down, w[r - l]));
            }
            let centre = i * row_len;
            let w0 = w[r];
            let out = &mut dst[i * row_len..(i + 1) * row_len];
            let mut e0 = 0;
            while e0 < full {
                let mut acc = [0f64; BLOCK];
                let cv = &src[centre + e0..centre + e0 + BLOCK];
                for k in 0..BLOCK {
                    acc[k] = cv[k].to_f64() * w0;
                }
                for &(up, down, wl) in &rows {
                    let u = &src[up + e0..up + e0 + BLOCK];
                    let d = &src[down + e0..down + e0 + BLOCK];
                    for k in 0..BLOCK {
                        acc[k] += (u[k].to_f64() + d[k].to_f64()) * wl;
                    }
                }
                for k in 0..BLOCK {
                    out[e0 + k] = T::from_f64(acc[k]);
                }
                e0 += BLOCK;
            }
            for e in full..row_len {
                let mut a = src[centre + e].to_f64() * w0;
                for &(up, down, wl) in &rows {
                    a += (src[up + e].to_f64() + src[down + e].to_f64()) * wl;
                }
                out[e] = T::from_f64(a);
            }
        }
    }
}

/// Elements per register block (4 AVX2 vectors of f64): each block's accumulators stay in
/// registers across all taps.
const BLOCK: usize = 16;

dispatch! {
    /// Correlate along axis 1 of an `h × w × c` array (channels interleaved, never mixed) with the
    /// symmetric weights `wt`, storing the result in `dst`.
    pub fn filter_cols / filter_cols_scalar / filter_cols_avx2 <T: Sample> (
        src: &[T],
        dst: &mut [T],
        h: usize,
        w: usize,
        c: usize,
        wt: &[f64],
        mode: Mode,
    ) {
        assert!(wt.len() % 2 == 1 && src.len() >= h * w * c && dst.len() >= h * w * c);
        let r = wt.len() / 2;
        let row_len = w * c;
        // Padded line: r extended pixels on each side, plus BLOCK spare values.
        let mut line = vec![0f64; (w + 2 * r) * c + BLOCK];
        let nblocks = row_len.div_ceil(BLOCK);
        let mut acc_row = vec![0f64; nblocks * BLOCK];
        for i in 0..h {
            let s = &src[i * row_len..(i + 1) * row_len];
            // Middle: a straight converting copy; only the 2r border pixels need the mode rule.
            for (d, &v) in line[r * c..r * c + row_len].iter_mut().zip(s) {
                *d = v.to_f64();
            }
            for p in (0..r).chain(w + r..w + 2 * r) {
                let k = extend_index(p as isize - r as isize, w, mode);
                for ch in 0..c {
                    line[p * c + ch] = s[k * c + ch].to_f64();
                }
            }
            let w0 = wt[r];
            for b in 0..nblocks {
                let e0 = b * BLOCK;
                let mut acc = [0f64; BLOCK];
                let cv = &line[e0 + r * c..e0 + r * c + BLOCK];
                for k in 0..BLOCK {
                    acc[k] = cv[k] * w0;
                }
                for l in (1..=r).rev() {
                    let wl = wt[r - l];
                    let u = &line[e0 + (r - l) * c..e0 + (r - l) * c + BLOCK];
                    let d = &line[e0 + (r + l) * c..e0 + (r + l) * c + BLOCK];
                    for k in 0..BLOCK {
                        acc[k] += (u[k] + d[k]) * wl;
                    }
                }
                acc_row[e0..e0 + BLOCK].copy_from_slice(&acc);
            }
            for (o, &a) in dst[i * row_len..(i + 1) * row_len].iter_mut().zip(&acc_row) {
                *o = T::from_f64(a);
            }
        }
    }
}

/// `gaussian_filter` of an `h × w × c` array (c = 1 for a 2-D array) with per-axis σ
/// (`sigma_rows`, `sigma_cols`), channels independent: rows first, then columns, intermediate
/// stored in `T`. `data` is filtered in place (a scratch buffer is allocated).
#[allow(clippy::too_many_arguments)]
pub fn gaussian_filter<T: Sample>(
    data: &mut [T],
    h: usize,
    w: usize,
    c: usize,
    sigma_rows: f64,
    sigma_cols: f64,
    truncate: f64,
    mode: Mode,
) {
    let n = h * w * c;
    assert!(data.len() >= n);
    let k0 = kernel1d(sigma_rows, truncate);
    let k1 = kernel1d(sigma_cols, truncate);
    let mut tmp = Buf::<T>::take(n);
    match (k0.len() > 1, k1.len() > 1) {
        (true, true) => {
            filter_rows(&data[..n], &mut tmp, h, w * c, &k0, mode);
            filter_cols(&tmp, &mut data[..n], h, w, c, &k1, mode);
        }
        (true, false) => {
            filter_rows(&data[..n], &mut tmp, h, w * c, &k0, mode);
            data[..n].copy_from_slice(&tmp);
        }
        (false, true) => {
            filter_cols(&data[..n], &mut tmp, h, w, c, &k1, mode);
            data[..n].copy_from_slice(&tmp);
        }
        (false, false) => {}
    }
}

/// Streaming f64 `gaussian_filter` of an `h × w × c` image (σ per axis, channels independent),
/// bit-identical to [`gaussian_filter`] on f64 data but without image-sized temporaries:
/// `load_row(k, out)` provides source row `k` as f64 (called about once per row), each output
/// row is filtered vertically from a ring of `2r+1` source rows, then horizontally, and handed
/// to `store_row(i, row)`. Memory traffic is one read of the source and one write of the
/// result (e.g. the u8 image), which matters once the f64 image outgrows the caches.
#[allow(clippy::too_many_arguments)]
pub fn gaussian_filter_streamed(
    h: usize,
    w: usize,
    c: usize,
    sigma_rows: f64,
    sigma_cols: f64,
    truncate: f64,
    mode: Mode,
    mut load_row: impl FnMut(usize, &mut [f64]),
    mut store_row: impl FnMut(usize, &[f64]),
) {
    let k0 = kernel1d(sigma_rows, truncate);
    let k1 = kernel1d(sigma_cols, truncate);
    dispatch!(streamed_impl / streamed_avx2(h, w, c, &k0, &k1, mode, &mut load_row, &mut store_row))
}

#[cfg(test)]
/// Scalar twin of [`gaussian_filter_streamed`] (kernels given explicitly).
#[allow(clippy::too_many_arguments)]
pub fn gaussian_filter_streamed_scalar(
    h: usize,
    w: usize,
    c: usize,
    k0: &[f64],
    k1: &[f64],
    mode: Mode,
    load_row: &mut dyn FnMut(usize, &mut [f64]),
    store_row: &mut dyn FnMut(usize, &[f64]),
) {
    streamed_impl(h, w, c, k0, k1, mode, load_row, store_row)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn streamed_avx2(
    h: usize,
    w: usize,
    c: usize,
    k0: &[f64],
    k1: &[f64],
    mode: Mode,
    load_row: &mut dyn FnMut(usize, &mut [f64]),
    store_row: &mut dyn FnMut(usize, &[f64]),
) {
    streamed_impl(h, w, c, k0, k1, mode, load_row, store_row)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn streamed_impl(
    h: usize,
    w: usize,
    c: usize,
    k0: &[f64],
    k1: &[f64],
    mode: Mode,
    load_row: &mut dyn FnMut(usize, &mut [f64]),
    store_row: &mut dyn FnMut(usize, &[f64]),
) {
    let row_len = w * c;
    let r0 = k0.len() / 2;
    let r1 = k1.len() / 2;
    let slots = (2 * r0 + 1).min(h);
    let mut ring = Buf::<f64>::take(slots * row_len);
    let mut tags = vec![usize::MAX; slots];
    // `line`: vertical result with r1 extended pixels each side and BLOCK spare values.
    let mut line = vec![0f64; (w + 2 * r1) * c + BLOCK];
    let nblocks = row_len.div_ceil(BLOCK);
    let mut out = vec![0f64; nblocks * BLOCK];
    let mut taps: Vec<(usize, usize, f64)> = Vec::with_capacity(r0);
    for i in 0..h {
        // Make sure every source row of this output row is in the ring (rows i−r0..i+r0 after
        // the boundary rule form a contiguous range of at most 2r0+1 rows, or all rows).
        let mut slot_of = |k: usize, ring: &mut [f64], tags: &mut [usize]| -> usize {
            let sl = k % slots;
            if tags[sl] != k {
                load_row(k, &mut ring[sl * row_len..(sl + 1) * row_len]);
                tags[sl] = k;
            }
            sl * row_len
        };
        let centre = slot_of(i, &mut ring, &mut tags);
        taps.clear();
        for l in (1..=r0).rev() {
            let up = slot_of(
                extend_index(i as isize - l as isize, h, mode),
                &mut ring,
                &mut tags,
            );
            let dn = slot_of(
                extend_index(i as isize + l as isize, h, mode),
                &mut ring,
                &mut tags,
            );
            taps.push((up, dn, k0[r0 - l]));
        }
        // Vertical pass for row i into the middle of `line` (same operations as filter_rows_scalar).
        let w0 = k0[r0];
        {
            let mid = &mut line[r1 * c..r1 * c + row_len];
            let full = row_len / BLOCK * BLOCK;
            let mut e0 = 0;
            while e0 < full {
                let mut acc = [0f64; BLOCK];
                let cv = &ring[centre + e0..centre + e0 + BLOCK];
                for k in 0..BLOCK {
                    acc[k] = cv[k] * w0;
                }
                for &(up, dn, wl) in &taps {
                    let u = &ring[up + e0..up + e0 + BLOCK];
                    let d = &ring[dn + e0..dn + e0 + BLOCK];
                    for k in 0..BLOCK {
                        acc[k] += (u[k] + d[k]) * wl;
                    }
                }
                mid[e0..e0 + BLOCK].copy_from_slice(&acc);
                e0 += BLOCK;
            }
            for e in full..row_len {
                let mut a = ring[centre + e] * w0;
                for &(up, dn, wl) in &taps {
                    a += (ring[up + e] + ring[dn + e]) * wl;
                }
                mid[e] = a;
            }
        }
        if r1 == 0 {
            store_row(i, &line[..row_len]);
            continue;
        }
        // Horizontal borders of the vertical result, then the horizontal pass (filter_cols_scalar).
        for p in (0..r1).chain(w + r1..w + 2 * r1) {
            let k = extend_index(p as isize - r1 as isize, w, mode);
            for ch in 0..c {
                line[p * c + ch] = line[(r1 + k) * c + ch];
            }
        }
        let w0 = k1[r1];
        for b in 0..nblocks {
            let e0 = b * BLOCK;
            let mut acc = [0f64; BLOCK];
            let cv = &line[e0 + r1 * c..e0 + r1 * c + BLOCK];
            for k in 0..BLOCK {
                acc[k] = cv[k] * w0;
            }
            for l in (1..=r1).rev() {
                let wl = k1[r1 - l];
                let u = &line[e0 + (r1 - l) * c..e0 + (r1 - l) * c + BLOCK];
                let d = &line[e0 + (r1 + l) * c..e0 + (r1 + l) * c + BLOCK];
                for k in 0..BLOCK {
                    acc[k] += (u[k] + d[k]) * wl;
                }
            }
            out[e0..e0 + BLOCK].copy_from_slice(&acc);
        }
        store_row(i, &out[..row_len]);
    }
}

/// Fast-mode 2-D Gaussian of an `h × w` f32 array with edge replication (SciPy `nearest`),
/// computed entirely in f32 with f32 weights (the [`kernel1d`] weights rounded to f32).
///
/// Why: the fast RNG mode only has to match the reference in distribution, and spatter's
/// liquid layer (ALGORITHMS.md §4.18) is a smoothed noise field that is thresholded afterwards; f32
/// arithmetic changes values by ~1e-7 relative, far below anything visible, while halving
/// memory traffic and doubling the SIMD width of the f64 [`gaussian_filter`]. Not for numpy
/// mode (the reference filters in f64).
///
/// This is the single-plane case of the shared fast Gaussian
/// [`crate::kernels::fastgauss::gaussian_nearest`] (also used by gaussian_blur), which
/// dispatches to its AVX2 + FMA kernel or its bit-identical scalar twin.
///
/// # Panics
/// If `src` or `dst` hold fewer than `h·w` values.
pub fn gaussian_nearest_f32(
    src: &[f32],
    dst: &mut [f32],
    h: usize,
    w: usize,
    sigma: f64,
    truncate: f64,
) {
    let g: Vec<f32> = kernel1d(sigma, truncate)
        .iter()
        .map(|&v| v as f32)
        .collect();
    fastgauss::gaussian_nearest(Src::F32(src), Dst::F32(dst), h, w, 1, &g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// Deterministic test array: value of element `i` (easy to rebuild in NumPy:
    /// `((np.arange(n) * 37) % 101) / 100.0`).
    fn ramp(n: usize) -> Vec<f64> {
        (0..n).map(|i| ((i * 37) % 101) as f64 / 100.0).collect()
    }

    /// `np.exp` (NumPy 1.26, AVX-512 machine of the oracle) where the platform exp differs.
    #[test]
    fn exp_matches_numpy_avx512() {
        let cases = [
            (0xbff05397829cbc16u64, 0x3fd7119399fc5cc8u64),
            (0xc0225e0a72f05399, 0x3f1aec40a001c4a7),
            (0xc000000000000000, 0x3fc152aaa3bf81cb),
            (0xc00c71c71c71c71c, 0x3f9d40464ea76e2d),
            (0xc020000000000000, 0x3f35fc21041027ac),
            (0xbff638e38e38e38e, 0x3fcfeac5eef1220c),
        ];
        for (x, want) in cases {
            assert_eq!(
                numpy_exp(f64::from_bits(x)).to_bits(),
                want,
                "{}",
                f64::from_bits(x)
            );
        }
        for x in [0.0, -1e-300, -3.5, -88.0, 1.0, 700.0, -700.0] {
            let (a, b) = (numpy_exp(x), x.exp());
            assert!((a - b).abs() <= 2.0 * f64::EPSILON * b, "{x}: {a} vs {b}");
        }
    }

    #[test]
    fn radii_of_spec() {
        for (s, r) in [
            (0.7, 3),
            (0.9, 4),
            (1.0, 4),
            (1.1, 4),
            (1.5, 6),
            (2.0, 8),
            (6.0, 24),
        ] {
            assert_eq!(radius(s, 4.0), r, "σ {s}");
        }
        assert_eq!(radius(2.24, 3.0), 7);
    }

    #[test]
    fn numpy_sum_pairwise() {
        // np.sum(np.arange(1, 21) / 7.0) is 0x403e000000000001 in NumPy; a naive loop gives 30.0.
        let a: Vec<f64> = (1..=20).map(|i| i as f64 / 7.0).collect();
        assert_eq!(numpy_sum(&a).to_bits(), 0x403e000000000001);
        // np.sum(np.arange(1, 101) / 11.0) (a naive loop ends in ...5d2)
        let a: Vec<f64> = (1..=100).map(|i| i as f64 / 11.0).collect();
        assert_eq!(numpy_sum(&a).to_bits(), 0x407cb1745d1745d1);
    }

    /// `ndi.gaussian_filter(((np.arange(60)*37) % 101 / 100.).reshape(5,4,3), [1.5,1.5,0],
    /// mode=...)` in the oracle venv (SciPy 1.11.4), element [1,2,0] and [4,3,2].
    #[test]
    fn matches_scipy_on_small_array() {
        let mut a = ramp(60);
        gaussian_filter(&mut a, 5, 4, 3, 1.5, 1.5, 4.0, Mode::Nearest);
        assert_eq!(
            a[12 + 2 * 3].to_bits(),
            0x3fdb7df782e5f4e6,
            "{}",
            a[12 + 2 * 3]
        );
        assert_eq!(a[59].to_bits(), 0x3fe010e785ecd6f2, "{}", a[59]);
        let mut b = ramp(60);
        gaussian_filter(&mut b, 5, 4, 3, 1.5, 1.5, 4.0, Mode::Reflect);
        assert_eq!(
            b[12 + 2 * 3].to_bits(),
            0x3fdcf634bb4313d9,
            "{}",
            b[12 + 2 * 3]
        );
        assert_eq!(b[59].to_bits(), 0x3fdcf56ce97f14a0, "{}", b[59]);
    }

    #[test]
    fn simd_equals_scalar() {
        for &(h, w, c) in &[(1, 1, 3), (3, 7, 3), (17, 33, 1), (40, 2100, 3)] {
            let src: Vec<f64> = ramp(h * w * c);
            let src32: Vec<f32> = src.iter().map(|&v| v as f32).collect();
            for sigma in [0.7, 2.0, 6.0] {
                let k = kernel1d(sigma, 4.0);
                for mode in [Mode::Nearest, Mode::Reflect] {
                    for isa in simd::available() {
                        let mut a = vec![0f64; src.len()];
                        let mut b = vec![0f64; src.len()];
                        filter_rows_scalar(&src, &mut a, h, w * c, &k, mode);
                        dispatch!(at isa; filter_rows_scalar / filter_rows_avx2(&src, &mut b, h, w * c, &k, mode));
                        assert_eq!(a, b);
                        filter_cols_scalar(&src, &mut a, h, w, c, &k, mode);
                        dispatch!(at isa; filter_cols_scalar / filter_cols_avx2(&src, &mut b, h, w, c, &k, mode));
                        assert_eq!(a, b);
                        let mut a32 = vec![0f32; src.len()];
                        let mut b32 = vec![0f32; src.len()];
                        filter_cols_scalar(&src32, &mut a32, h, w, c, &k, mode);
                        dispatch!(at isa; filter_cols_scalar / filter_cols_avx2(&src32, &mut b32, h, w, c, &k, mode));
                        assert_eq!(a32, b32);
                    }
                }
            }
        }
    }

    #[test]
    fn streamed_equals_two_pass_and_simd_equals_scalar() {
        for &(h, w, c) in &[(1, 1, 3), (5, 4, 3), (3, 30, 1), (40, 2100, 3), (37, 11, 3)] {
            let src = ramp(h * w * c);
            for (sr, sc) in [(0.7, 0.7), (6.0, 1.5), (2.24, 3.1)] {
                for mode in [Mode::Nearest, Mode::Reflect] {
                    let mut want = src.clone();
                    gaussian_filter(&mut want, h, w, c, sr, sc, 4.0, mode);
                    let mut got = vec![0f64; src.len()];
                    let rl = w * c;
                    gaussian_filter_streamed(
                        h,
                        w,
                        c,
                        sr,
                        sc,
                        4.0,
                        mode,
                        |k, o| o.copy_from_slice(&src[k * rl..(k + 1) * rl]),
                        |i, row| got[i * rl..(i + 1) * rl].copy_from_slice(row),
                    );
                    assert_eq!(got, want, "{h}x{w}x{c} σ {sr},{sc} {mode:?}");
                    for isa in simd::available() {
                        let mut scalar = vec![0f64; src.len()];
                        dispatch!(at isa; gaussian_filter_streamed_scalar / streamed_avx2(h, w, c, &kernel1d(sr, 4.0), &kernel1d(sc, 4.0), mode, &mut |k, o| o.copy_from_slice(&src[k * rl..(k + 1) * rl]), &mut |i, row| scalar[i * rl..(i + 1) * rl].copy_from_slice(row),));
                        assert_eq!(scalar, want);
                    }
                }
            }
        }
    }

    #[test]
    fn constant_stays_constant_and_reflect_is_periodic() {
        // A radius much larger than the image (r = 24, n = 3) must still be well defined.
        let mut a = vec![0.5f64; 3 * 2];
        gaussian_filter(&mut a, 3, 2, 1, 6.0, 6.0, 4.0, Mode::Reflect);
        for v in a {
            assert!((v - 0.5).abs() < 1e-12);
        }
        assert_eq!(extend_index(-1, 4, Mode::Reflect), 0);
        assert_eq!(extend_index(4, 4, Mode::Reflect), 3);
        assert_eq!(extend_index(9, 4, Mode::Reflect), 1);
        assert_eq!(extend_index(-9, 4, Mode::Nearest), 0);
    }
}
