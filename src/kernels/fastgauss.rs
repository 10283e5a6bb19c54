//! Fast-mode separable Gaussian in f32 with SciPy `mode='nearest'` borders (edge replication),
//! on interleaved data of `c` channels: the one f32 Gaussian of the fast RNG mode, shared by
//! gaussian_blur (RGB8 in, RGB8 out, ALGORITHMS.md §4.17) and spatter's liquid layer and mud mask
//! (single f32 plane, ALGORITHMS.md §4.18, through [`crate::kernels::gaussian::gaussian_nearest_f32`]).
//!
//! Taps `g` are the full `2r + 1` weights (`r = int(4σ + 0.5)` for the reference's
//! `truncate = 4`, see [`crate::kernels::gaussian::kernel1d`]; symmetric) rounded to f32. The
//! filter runs first along rows (axis 0) then along columns (axis 1), like SciPy:
//! * vertical value: `fma(g[2r], x[2r], … fma(g[1], x[1], fma(g[0], x[0], 0)))`, taps in
//!   ascending order;
//! * horizontal value: left and right taps in two FMA chains (outermost first), then
//!   `fma(g[r], x[r], left + right)`, which keeps the filter exactly mirror-symmetric (see
//!   `htaps`).
//!
//! The AVX2 + FMA kernel performs exactly these operations per value and the scalar twin uses
//! the correctly rounded [`fma_f32`] (same result as a hardware FMA, inline, no libm call), so
//! the two are bit-identical (tested).
//!
//! Why this shape (issue 3): the filter is bound by the floating-point unit and the loads; with
//! FMA each tap is one instruction. The vertical pass works on six output rows at a time over
//! whole-row vector loops (16 values × 6 rows = 12 independent FMA chains), so each source row
//! is loaded once per six outputs; source rows are converted to f32 once, into a ring of
//! `2r + 6` rows. The horizontal pass reads the vertically filtered row (padded with `r`
//! replicated pixels each side, in L1) at stride `c`, 48 outputs (12 chains) per step.
//! Folding the symmetric pairs (`fma(g, x₋ + x₊, acc)`) was measured slower on this machine:
//! it saves FMAs but not loads, and the horizontal pass is load-bound.
//!
//! Scalar fallback: [`fma_f32`] is plain f64 arithmetic, so the scalar path costs a few times
//! the AVX2 one per tap but stays bit-identical on every CPU (fast-mode output does not depend
//! on the instruction set).

use crate::kernels::quantise::q255_f32 as q255;
use crate::kernels::scratch::Buf;
use crate::simd::dispatch;
use crate::simd::fma::fma_f32;

/// Output rows filtered together by the vertical pass.
const R: usize = 6;
/// Values per vertical step (two AVX2 registers).
const VW: usize = 16;
/// Values per horizontal step (six AVX2 registers, two chains each). f32 rows written in place
/// whose length is a multiple of [`HW_SMALL`] but not of this use the smaller step.
const HW: usize = 48;
/// Smaller horizontal step (four registers) for in-place f32 rows.
const HW_SMALL: usize = 32;

/// Source of the filter: interleaved 8-bit or f32 samples.
#[derive(Clone, Copy)]
pub enum Src<'a> {
    /// 8-bit samples (gaussian_blur, 0–255 scale).
    U8(&'a [u8]),
    /// f32 samples (spatter's layers).
    F32(&'a [f32]),
}

/// Destination of the filter.
pub enum Dst<'a> {
    /// 8-bit samples: `trunc(clip(v, 0, 255))` of each filtered value.
    U8(&'a mut [u8]),
    /// The f32 filtered values.
    F32(&'a mut [f32]),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::U8(s) => s.len(),
            Src::F32(s) => s.len(),
        }
    }
}

impl Dst<'_> {
    fn len(&self) -> usize {
        match self {
            Dst::U8(s) => s.len(),
            Dst::F32(s) => s.len(),
        }
    }
}

/// Separable Gaussian of an interleaved `h × w × c` image with taps `g` (odd length, f32) and
/// edge replication, `dst = G_cols(G_rows(src))`. See the module docs for the exact arithmetic.
///
/// # Panics
/// If `g` has even length, or `src`/`dst` hold fewer than `h·w·c` values.
pub fn gaussian_nearest(src: Src<'_>, dst: Dst<'_>, h: usize, w: usize, c: usize, g: &[f32]) {
    dispatch!(gaussian_nearest_scalar / gaussian_nearest_avx2(src, dst, h, w, c, g))
}

/// Working buffers and geometry shared by both twins.
struct Plan {
    r: usize,
    row_len: usize,
    /// Ring of f32 source rows: `nring` rows of `rstride` values (row, then zeros).
    ring: Buf<f32>,
    nring: usize,
    rstride: usize,
    /// `R` vertically filtered rows, each `r·c` replicated values, the row, `r·c` replicated
    /// values, then zeros (room for whole horizontal steps).
    t: Buf<f32>,
    tstride: usize,
    /// One horizontally filtered row (whole steps).
    out: Buf<f32>,
    /// Next source row to load into the ring.
    have: usize,
}

impl Plan {
    fn new(src: &Src<'_>, dst: &Dst<'_>, h: usize, w: usize, c: usize, g: &[f32]) -> Plan {
        assert!(g.len() % 2 == 1, "Gaussian taps must have odd length");
        let row_len = w * c;
        assert!(src.len() >= h * row_len && dst.len() >= h * row_len);
        let r = g.len() / 2;
        let nring = 2 * r + R;
        let rstride = row_len.next_multiple_of(VW) + VW;
        let tstride = row_len.next_multiple_of(HW) + 2 * r * c + VW;
        // No buffer needs zeros (pooled buffers come back holding stale but initialised
        // values): the vector steps read past a row's end only into lanes whose results fall
        // beyond `row_len` and are never stored to `dst`, and every value an output depends on
        // (ring rows, `t` rows and their padding) is written before it is read.
        Plan {
            r,
            row_len,
            ring: Buf::take(nring * rstride),
            nring,
            rstride,
            t: Buf::take(R * tstride),
            tstride,
            out: Buf::take(row_len.next_multiple_of(HW)),
            have: 0,
        }
    }

    /// Ring offset of source row `k` clamped to the image (SciPy `nearest`).
    #[inline(always)]
    fn row(&self, k: isize, h: usize) -> usize {
        (k.clamp(0, h as isize - 1) as usize % self.nring) * self.rstride
    }

    /// Load source rows up to `last` (inclusive) into the ring.
    #[inline(always)]
    fn load(&mut self, src: &Src<'_>, last: usize) {
        let n = self.row_len;
        while self.have <= last {
            let k = self.have;
            let o = (k % self.nring) * self.rstride;
            let dst = &mut self.ring[o..o + n];
            match src {
                Src::U8(s) => {
                    for (d, &v) in dst.iter_mut().zip(&s[k * n..(k + 1) * n]) {
                        *d = v as f32;
                    }
                }
                Src::F32(s) => dst.copy_from_slice(&s[k * n..(k + 1) * n]),
            }
            self.have += 1;
        }
    }

    /// Replicate the edge pixels of vertically filtered row `q` into its padding.
    #[inline(always)]
    fn replicate(&mut self, q: usize, c: usize) {
        let (r, n) = (self.r, self.row_len);
        let t = &mut self.t[q * self.tstride..(q + 1) * self.tstride];
        for p in 0..r {
            for ch in 0..c {
                t[p * c + ch] = t[r * c + ch];
                t[r * c + n + p * c + ch] = t[r * c + n - c + ch];
            }
        }
    }

    /// Store the horizontally filtered row `y`.
    #[inline(always)]
    fn emit(&self, dst: &mut Dst<'_>, y: usize) {
        let n = self.row_len;
        match dst {
            Dst::U8(d) => {
                for (o, &v) in d[y * n..(y + 1) * n].iter_mut().zip(&self.out[..n]) {
                    *o = q255(v);
                }
            }
            Dst::F32(d) => d[y * n..(y + 1) * n].copy_from_slice(&self.out[..n]),
        }
    }
}

/// Horizontal tap sum centred on `t[i]`, mirror-symmetric: the left taps
/// `fma(g[r+1], t[i−c], … fma(g[2r], t[i−rc], 0))` and the right taps (same weights, `t[i+lc]`)
/// in two chains, then `fma(g[r], t[i], left + right)`. Mirroring the row swaps the chains,
/// and their sum is commutative, so the filter commutes exactly with horizontal flips (as
/// SciPy's folded loop does; tests/blur_wide.rs).
#[inline(always)]
fn htaps(t: &[f32], i: usize, c: usize, g: &[f32]) -> f32 {
    let r = g.len() / 2;
    let (mut lo, mut hi) = (0f32, 0f32);
    for l in (1..=r).rev() {
        lo = fma_f32(g[r + l], t[i - l * c], lo);
        hi = fma_f32(g[r + l], t[i + l * c], hi);
    }
    fma_f32(g[r], t[i], lo + hi)
}

/// Scalar twin of [`gaussian_nearest`].
pub fn gaussian_nearest_scalar(
    src: Src<'_>,
    mut dst: Dst<'_>,
    h: usize,
    w: usize,
    c: usize,
    g: &[f32],
) {
    let mut p = Plan::new(&src, &dst, h, w, c, g);
    let (r, n) = (p.r, p.row_len);
    if n == 0 {
        return;
    }
    for y in 0..h {
        p.load(&src, (y + r).min(h - 1));
        let rows: Vec<usize> = (0..=2 * r)
            .map(|j| p.row(y as isize - r as isize + j as isize, h))
            .collect();
        for e in 0..n {
            let mut acc = 0f32;
            for (&o, &gj) in rows.iter().zip(g) {
                acc = fma_f32(gj, p.ring[o + e], acc);
            }
            p.t[r * c + e] = acc;
        }
        p.replicate(0, c);
        for e in 0..n {
            p.out[e] = htaps(&p.t, e + r * c, c, g);
        }
        p.emit(&mut dst, y);
    }
}

/// AVX2 + FMA twin of [`gaussian_nearest_scalar`].
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gaussian_nearest_avx2(
    src: Src<'_>,
    mut dst: Dst<'_>,
    h: usize,
    w: usize,
    c: usize,
    g: &[f32],
) {
    use std::arch::x86_64::*;
    let mut p = Plan::new(&src, &dst, h, w, c, g);
    let (r, n) = (p.r, p.row_len);
    if n == 0 {
        return;
    }
    let taps = 2 * r + 1;
    let mut rows: Vec<*const f32> = Vec::with_capacity(taps + R);
    // An f32 source whose rows are whole vertical steps is read in place (no ring copy), and
    // an f32 destination whose rows are whole horizontal steps is written in place.
    let direct_src = match src {
        Src::F32(s) if n % VW == 0 => Some(s.as_ptr()),
        _ => None,
    };
    let direct_dst = matches!(dst, Dst::F32(_)) && n % HW_SMALL == 0;
    let mut y0 = 0;
    while y0 < h {
        let nr = R.min(h - y0);
        // Source rows y0 − r ..= y0 + nr − 1 + r (clamped); output q uses rows q ..= q + 2r.
        rows.clear();
        let first = y0 as isize - r as isize;
        match direct_src {
            Some(sp) => rows.extend(
                (0..taps + nr - 1)
                    .map(|m| sp.add((first + m as isize).clamp(0, h as isize - 1) as usize * n)),
            ),
            None => {
                p.load(&src, (y0 + nr - 1 + r).min(h - 1));
                let ring = p.ring.as_ptr();
                rows.extend((0..taps + nr - 1).map(|m| ring.add(p.row(first + m as isize, h))));
            }
        }
        let tp = p.t.as_mut_ptr().add(r * c);
        if nr == R {
            vertical_r(&rows, g, tp, p.tstride, n);
        } else {
            for q in 0..nr {
                vertical1(&rows[q..q + taps], g, tp.add(q * p.tstride), n);
            }
        }
        for q in 0..nr {
            p.replicate(q, c);
            let t = p.t.as_ptr().add(q * p.tstride);
            match &mut dst {
                Dst::U8(d) => {
                    horizontal::<{ HW / 8 }>(t, c, g, p.out.as_mut_ptr(), n);
                    quantise_row(p.out.as_ptr(), &mut d[(y0 + q) * n..(y0 + q + 1) * n]);
                }
                Dst::F32(d) if direct_dst => {
                    let o = d[(y0 + q) * n..(y0 + q + 1) * n].as_mut_ptr();
                    if n % HW == 0 {
                        horizontal::<{ HW / 8 }>(t, c, g, o, n)
                    } else {
                        horizontal::<{ HW_SMALL / 8 }>(t, c, g, o, n)
                    }
                }
                Dst::F32(_) => {
                    horizontal::<{ HW / 8 }>(t, c, g, p.out.as_mut_ptr(), n);
                    p.emit(&mut dst, y0 + q);
                }
            }
        }
        y0 += nr;
    }

    /// `out[e] = trunc(clip(v[e], 0, 255))` (as [`q255`]), 32 values per step while whole
    /// steps fit in `out`, then 8 per step; `v` holds whole 8-value steps.
    #[inline(always)]
    unsafe fn quantise_row(v: *const f32, out: &mut [u8]) {
        let (zero, top) = (_mm256_setzero_ps(), _mm256_set1_ps(255.0));
        let n = out.len();
        let mut e = 0;
        // Four vectors packed at once (the 8-value step spent most of its instructions on
        // extracting and storing halves): packs work per 128-bit lane, so the bytes come out
        // as dwords a0 b0 c0 d0 a1 b1 c1 d1 (x0/x1 = first/second half of vector x); the
        // permutation puts them back in order.
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        while e + 32 <= n {
            let (p0, p1) = (v.add(e), v.add(e + 8));
            let (p2, p3) = (v.add(e + 16), v.add(e + 24));
            let q0 =
                _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(p0), zero), top));
            let q1 =
                _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(p1), zero), top));
            let q2 =
                _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(p2), zero), top));
            let q3 =
                _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(p3), zero), top));
            let ab = _mm256_packus_epi32(q0, q1);
            let cd = _mm256_packus_epi32(q2, q3);
            let b = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd), order);
            _mm256_storeu_si256(out.as_mut_ptr().add(e) as *mut __m256i, b);
            e += 32;
        }
        while e < n {
            // max/min return the second operand for NaN, like q255's comparisons.
            let x = _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(v.add(e)), zero), top);
            let i = _mm256_cvttps_epi32(x);
            let w = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256::<1>(i));
            let b = _mm_packus_epi16(w, w);
            if e + 8 <= n {
                _mm_storel_epi64(out.as_mut_ptr().add(e) as *mut __m128i, b);
            } else {
                let mut tmp = [0u8; 16];
                _mm_storeu_si128(tmp.as_mut_ptr() as *mut __m128i, b);
                out[e..].copy_from_slice(&tmp[..n - e]);
            }
            e += 8;
        }
    }

    /// Vertical pass of `R` output rows, `VW` values per step (`2R` accumulators). Row pointers
    /// address `rstride ≥ n.next_multiple_of(VW)` readable values; the outputs have room for
    /// whole steps.
    #[inline(always)]
    unsafe fn vertical_r(rows: &[*const f32], g: &[f32], t: *mut f32, tstride: usize, n: usize) {
        let taps = g.len();
        let mut e = 0;
        while e < n {
            let mut acc = [[_mm256_setzero_ps(); 2]; R];
            for (m, &row) in rows.iter().enumerate() {
                let v0 = _mm256_loadu_ps(row.add(e));
                let v1 = _mm256_loadu_ps(row.add(e + 8));
                if m >= R - 1 && m < taps {
                    // All R outputs use this row (the common case).
                    for (q, a) in acc.iter_mut().enumerate() {
                        let wv = _mm256_set1_ps(*g.get_unchecked(m - q));
                        a[0] = _mm256_fmadd_ps(wv, v0, a[0]);
                        a[1] = _mm256_fmadd_ps(wv, v1, a[1]);
                    }
                } else {
                    for (q, a) in acc.iter_mut().enumerate() {
                        if m >= q && m - q < taps {
                            let wv = _mm256_set1_ps(*g.get_unchecked(m - q));
                            a[0] = _mm256_fmadd_ps(wv, v0, a[0]);
                            a[1] = _mm256_fmadd_ps(wv, v1, a[1]);
                        }
                    }
                }
            }
            for (q, a) in acc.iter().enumerate() {
                _mm256_storeu_ps(t.add(q * tstride + e), a[0]);
                _mm256_storeu_ps(t.add(q * tstride + e + 8), a[1]);
            }
            e += VW;
        }
    }

    /// Vertical pass of one output row (the last rows of the image).
    #[inline(always)]
    unsafe fn vertical1(rows: &[*const f32], g: &[f32], t: *mut f32, n: usize) {
        let mut e = 0;
        while e < n {
            let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
            for (&row, &gj) in rows.iter().zip(g) {
                let wv = _mm256_set1_ps(gj);
                a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(row.add(e)), a0);
                a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(row.add(e + 8)), a1);
            }
            _mm256_storeu_ps(t.add(e), a0);
            _mm256_storeu_ps(t.add(e + 8), a1);
            e += VW;
        }
    }

    /// Horizontal pass (as [`htaps`]), `8·NV` values per step: `NV` registers × 2 chains.
    #[inline(always)]
    unsafe fn horizontal<const NV: usize>(
        t: *const f32,
        c: usize,
        g: &[f32],
        out: *mut f32,
        n: usize,
    ) {
        let r = g.len() / 2;
        let g0 = _mm256_set1_ps(g[r]);
        let mut e = 0;
        while e < n {
            let centre = t.add(e + r * c);
            let mut lo = [_mm256_setzero_ps(); NV];
            let mut hi = [_mm256_setzero_ps(); NV];
            for l in (1..=r).rev() {
                let wv = _mm256_set1_ps(*g.get_unchecked(r + l));
                let (pl, ph) = (centre.sub(l * c), centre.add(l * c));
                for k in 0..NV {
                    lo[k] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(pl.add(8 * k)), lo[k]);
                    hi[k] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(ph.add(8 * k)), hi[k]);
                }
            }
            for k in 0..NV {
                let x0 = _mm256_loadu_ps(centre.add(8 * k));
                let v = _mm256_fmadd_ps(g0, x0, _mm256_add_ps(lo[k], hi[k]));
                _mm256_storeu_ps(out.add(e + 8 * k), v);
            }
            e += 8 * NV;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gaussian::{gaussian_filter, kernel1d, Mode};
    use crate::simd;

    fn taps(sigma: f64) -> Vec<f32> {
        kernel1d(sigma, 4.0).iter().map(|&v| v as f32).collect()
    }

    /// An f32 blur's u8 output `out` of the RGB image `src` against the exact f64 filter
    /// (scipy's `gaussian_filter`, mode nearest, truncate 4) truncated to u8: within one level
    /// everywhere, and equal wherever the exact value is more than 1e-3 from an integer (only
    /// f32 rounding next to an integer may flip the truncation).
    fn assert_tracks_exact_rgb8(out: &[u8], src: &[u8], h: usize, w: usize, sigma: f64) {
        let mut exact: Vec<f64> = src.iter().map(|&v| v as f64).collect();
        gaussian_filter(&mut exact, h, w, 3, sigma, sigma, 4.0, Mode::Nearest);
        for (i, (&x, &y)) in out.iter().zip(&exact).enumerate() {
            let q = y.clamp(0.0, 255.0).trunc();
            assert!((x as f64 - q).abs() <= 1.0, "{h}x{w} σ {sigma} at {i}");
            if (y - y.round()).abs() > 1e-3 {
                assert_eq!(x as f64, q, "{h}x{w} σ {sigma} at {i}: {y}");
            }
        }
    }

    #[test]
    fn rgb8_simd_equals_scalar_and_definition() {
        for &(h, w) in &[
            (1usize, 1usize),
            (1, 9),
            (9, 1),
            (2, 3),
            (13, 11),
            (33, 17),
            (7, 40),
        ] {
            let src: Vec<u8> = (0..h * w * 3)
                .map(|i| ((i * 73 + (i / 7) * 31) % 256) as u8)
                .collect();
            for sigma in [0.1, 1.0, 3.0, 6.0] {
                let g = taps(sigma);
                let mut a = vec![0u8; src.len()];
                gaussian_nearest_scalar(Src::U8(&src), Dst::U8(&mut a), h, w, 3, &g);
                for isa in simd::available() {
                    let mut b = vec![1u8; src.len()];
                    let (s, d) = (Src::U8(&src), Dst::U8(&mut b));
                    dispatch!(at isa; gaussian_nearest_scalar / gaussian_nearest_avx2(s, d, h, w, 3, &g));
                    assert_eq!(a, b, "{h}x{w} σ {sigma}");
                }
                assert_tracks_exact_rgb8(&a, &src, h, w, sigma);
            }
        }
    }

    #[test]
    fn plane_f32_simd_equals_scalar_and_tracks_f64() {
        // Widths 32 and 48 take the in-place f32 paths (rows of whole vector steps).
        for &(h, w) in &[
            (1usize, 1usize),
            (1, 9),
            (9, 1),
            (3, 7),
            (17, 33),
            (40, 75),
            (13, 32),
            (7, 48),
        ] {
            let src: Vec<f64> = (0..h * w)
                .map(|i| ((i * 37) % 101) as f64 / 100.0)
                .collect();
            let src32: Vec<f32> = src.iter().map(|&v| v as f32).collect();
            for sigma in [1.0, 1.5, 2.0, 4.0] {
                let g = taps(sigma);
                let mut a = vec![0f32; h * w];
                gaussian_nearest_scalar(Src::F32(&src32), Dst::F32(&mut a), h, w, 1, &g);
                for isa in simd::available() {
                    let mut b = vec![0f32; h * w];
                    let (s, d) = (Src::F32(&src32), Dst::F32(&mut b));
                    dispatch!(at isa; gaussian_nearest_scalar / gaussian_nearest_avx2(s, d, h, w, 1, &g));
                    assert_eq!(a, b, "{h}x{w} σ {sigma}");
                }
                let mut exact = src.clone();
                gaussian_filter(&mut exact, h, w, 1, sigma, sigma, 4.0, Mode::Nearest);
                for (x, y) in a.iter().zip(&exact) {
                    assert!((*x as f64 - y).abs() < 1e-5, "{x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn commutes_with_horizontal_mirroring() {
        let (h, w) = (5usize, 37usize);
        let src: Vec<u8> = (0..h * w * 3).map(|i| ((i * 91) % 251) as u8).collect();
        let flip = |v: &[u8]| -> Vec<u8> {
            let mut o = v.to_vec();
            for y in 0..h {
                for x in 0..w {
                    let (a, b) = ((y * w + x) * 3, (y * w + w - 1 - x) * 3);
                    o[a..a + 3].copy_from_slice(&v[b..b + 3]);
                }
            }
            o
        };
        let g = taps(2.5);
        let mut a = vec![0u8; src.len()];
        let mut b = vec![0u8; src.len()];
        gaussian_nearest(Src::U8(&src), Dst::U8(&mut a), h, w, 3, &g);
        gaussian_nearest(Src::U8(&flip(&src)), Dst::U8(&mut b), h, w, 3, &g);
        assert_eq!(flip(&a), b);
    }

    #[test]
    fn flat_stays_flat_within_rounding() {
        let src = vec![200u8; 20 * 30 * 3];
        let mut out = vec![0u8; src.len()];
        gaussian_nearest(Src::U8(&src), Dst::U8(&mut out), 20, 30, 3, &taps(2.0));
        assert!(out.iter().all(|&v| v == 199 || v == 200));
    }
}
