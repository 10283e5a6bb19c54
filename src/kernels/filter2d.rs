//! OpenCV-style 2-D correlation with `BORDER_REFLECT_101` (ALGORITHMS.md P3) and the anti-aliased disk
//! kernel of defocus_blur (ALGORITHMS.md P2).
//!
//! * [`disk_kernel`] rebuilds imagecorruptions' `disk(radius, alias_blur)`: a binary disk on a
//!   17×17 grid (radius ≤ 8) or a `(2r+1)²` grid, divided by its pixel count in f32, then blurred
//!   with OpenCV's `GaussianBlur` (3×3 or 5×5, f32, reflect-101) and **not** renormalised, so
//!   radii 8 and 10 sum to 1.012975 / 1.010786 (ALGORITHMS.md Quirk 5).
//! * [`correlate_reflect101`] correlates an interleaved `H × W × C` f64 image with a kernel,
//!   anchor at the centre, border `c b | a b c | b a` (OpenCV `filter2D`). OpenCV itself switches
//!   to a DFT for kernels with ≥ 50 taps, whose result differs from exact correlation by ~1e-12;
//!   a direct f64 correlation is equally close to the exact value (ALGORITHMS.md P3).
//!
//! The correlation skips zero taps and exploits the kernel's mirror symmetry when it has one
//! (the disk kernels are symmetric about both axes): the two mirrored rows are summed first,
//! then each unique horizontal tap weights the sum of its two mirrored columns. The AVX2 variant
//! is the same code compiled with AVX2 (bit-identical to the scalar twin).

use crate::kernels::scratch::Buf;
use crate::simd::dispatch;

/// `borderInterpolate(i, n, BORDER_REFLECT_101)`: `c b | a b c | b a`; `n = 1` maps to 0.
#[inline]
pub fn reflect101(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let p = 2 * n as isize - 2;
    let m = i.rem_euclid(p);
    (if m < n as isize { m } else { p - m }) as usize
}

/// OpenCV `getGaussianKernel(k, σ, CV_32F)`: `exp(-(i-(k-1)/2)²/(2σ²))`, normalised in f64,
/// then rounded to f32.
pub fn opencv_gaussian_kernel(k: usize, sigma: f64) -> Vec<f32> {
    let scale = -0.5 / (sigma * sigma);
    let half = (k as f64 - 1.0) * 0.5;
    let v: Vec<f64> = (0..k)
        .map(|i| {
            let x = i as f64 - half;
            (scale * x * x).exp()
        })
        .collect();
    let s: f64 = v.iter().sum();
    v.iter().map(|&t| (t / s) as f32).collect()
}

/// The defocus kernel `disk(radius, alias_blur)` of imagecorruptions (f32, side `n`, row-major),
/// returned with its side length.
///
/// Radii are taken as whole pixels (`radius.floor()`); the reference only uses integers.
pub fn disk_kernel(radius: f64, alias_sigma: f64) -> (Vec<f32>, usize) {
    let r = radius.max(0.0).floor() as i64;
    let (half, ksize) = if r <= 8 { (8i64, 3usize) } else { (r, 5usize) };
    let n = (2 * half + 1) as usize;
    let mut d = vec![0f32; n * n];
    let mut count = 0f32;
    for y in -half..=half {
        for x in -half..=half {
            if x * x + y * y <= r * r {
                d[((y + half) as usize) * n + (x + half) as usize] = 1.0;
                count += 1.0;
            }
        }
    }
    for v in d.iter_mut() {
        *v /= count;
    }
    let g = opencv_gaussian_kernel(ksize, alias_sigma);
    let m = ksize / 2;
    // Row pass then column pass, f32 intermediate (OpenCV sepFilter2D on a CV_32F image). OpenCV's
    // symmetric small-kernel filters compute `x0·k0`, then add `(x₋ⱼ + xⱼ)·kⱼ` with a fused
    // multiply-add (its SIMD path); this reproduces cv2 4.11 bit for bit for radii 3, 4, 6 and 10,
    // and to ±1 f32 ulp on 56 taps of radius 8 (output effect far below 1e-9).
    let mut tmp = vec![0f32; n * n];
    for y in 0..n {
        for x in 0..n {
            let at = |j: isize| d[y * n + reflect101(x as isize + j, n)];
            let mut s = at(0) * g[m];
            for j in 1..=m {
                s = (at(-(j as isize)) + at(j as isize)).mul_add(g[m - j], s);
            }
            tmp[y * n + x] = s;
        }
    }
    let mut out = vec![0f32; n * n];
    for y in 0..n {
        for x in 0..n {
            let at = |j: isize| tmp[reflect101(y as isize + j, n) * n + x];
            let mut s = at(0) * g[m];
            for j in 1..=m {
                s = (at(-(j as isize)) + at(j as isize)).mul_add(g[m - j], s);
            }
            out[y * n + x] = s;
        }
    }
    (out, n)
}

/// A correlation kernel prepared for [`correlate_reflect101`]: the f64 weights, and whether it
/// is mirror-symmetric about both axes (enables the folded loops).
#[derive(Clone, Debug)]
pub struct Kernel2d {
    /// Height (odd).
    pub kh: usize,
    /// Width (odd).
    pub kw: usize,
    /// Row-major weights.
    pub w: Vec<f64>,
    symmetric: bool,
}

impl Kernel2d {
    /// Wrap a row-major odd-sized kernel.
    pub fn new(w: Vec<f64>, kh: usize, kw: usize) -> Kernel2d {
        assert!(kh % 2 == 1 && kw % 2 == 1 && w.len() == kh * kw);
        let symmetric = (0..kh).all(|y| {
            (0..kw).all(|x| {
                let v = w[y * kw + x];
                v == w[(kh - 1 - y) * kw + x] && v == w[y * kw + (kw - 1 - x)]
            })
        });
        Kernel2d {
            kh,
            kw,
            w,
            symmetric,
        }
    }
}

dispatch! {
    /// `filter2D(src, -1, K)` per channel on an interleaved `h × w × c` f64 image, border
    /// reflect-101, result into `dst`.
    pub fn correlate_reflect101 / correlate_reflect101_scalar / correlate_reflect101_avx2 (
        src: &[f64],
        dst: &mut [f64],
        h: usize,
        w: usize,
        c: usize,
        k: &Kernel2d,
    ) {
        let (ay, ax) = (k.kh / 2, k.kw / 2);
        let pw = w + 2 * ax;
        let row_len = w * c;
        // Padded rows: `ax` reflected pixels each side, plus BLOCK spare elements so the last
        // register block may run past the row end (its extra results are discarded).
        let prow = pw * c + BLOCK;
        let mut padded = Buf::<f64>::take(h * prow);
        for y in 0..h {
            let d = &mut padded[y * prow..(y + 1) * prow];
            let s = &src[y * row_len..(y + 1) * row_len];
            d[ax * c..ax * c + row_len].copy_from_slice(s);
            for p in (0..ax).chain(w + ax..pw) {
                let sx = reflect101(p as isize - ax as isize, w);
                d[p * c..(p + 1) * c].copy_from_slice(&s[sx * c..(sx + 1) * c]);
            }
            d[pw * c..].iter_mut().for_each(|v| *v = 0.0);
        }
        // Tap list: (kernel row, left offset, right offset, weight). With a doubly symmetric kernel,
        // row pairs ±dy are pre-summed ("folded") and column pairs ±dx are added before the
        // multiplication; centre rows/columns are folded with themselves (2x, exact) and their
        // weight halved (exact), so every tap has the same form `(F[l] + F[r]) · w`.
        //
        // Taps below 1e-18 of the largest are skipped: their contribution is far below the f64
        // rounding of the sum (and below the ~1e-12 DFT noise of OpenCV's own result); this drops
        // e.g. the 1e-22-relative halo of the σ = 0.1 anti-aliasing at severity 1.
        let wmax = k.w.iter().fold(0f64, |m, &v| m.max(v.abs()));
        let negligible = |v: f64| v.abs() <= wmax * 1e-18;
        //
        // Spans: the disk kernels are constant (one f32 value) over most of their interior. In each
        // folded row, the run of that value around the centre column, `2L−1` columns wide, is summed
        // with an exclusive per-channel prefix sum `P` of the folded row (two loads instead of
        // `L` taps): `Σ F[e + kx·c] = P[e + (ax+L)·c] − P[e + (ax−L+1)·c]`. Prefix sums of rows of
        // values ≤ 2 keep the absolute error ~1e-16·W, far below the reference's own DFT noise.
        let mut taps: Vec<(usize, usize, usize, f64)> = Vec::new();
        let mut spans: Vec<(usize, usize, usize, f64)> = Vec::new();
        let nrows;
        if k.symmetric {
            nrows = ay + 1;
            // Most frequent non-negligible weight of the quadrant (exact equality).
            let mut counts: Vec<(f64, usize)> = Vec::new();
            for ky in 0..=ay {
                for kx in 0..=ax {
                    let v = k.w[ky * k.kw + kx];
                    if negligible(v) {
                        continue;
                    }
                    match counts.iter_mut().find(|(u, _)| *u == v) {
                        Some(e) => e.1 += 1,
                        None => counts.push((v, 1)),
                    }
                }
            }
            let common = counts.iter().max_by_key(|e| e.1).map(|e| e.0);
            for ky in 0..=ay {
                let row = &k.w[ky * k.kw..(ky + 1) * k.kw];
                let run = match common {
                    Some(cv) => row[..=ax].iter().rev().take_while(|&&v| v == cv).count(),
                    None => 0,
                };
                // A span costs about two taps (two loads plus folding the prefix rows): use it for
                // runs of at least 4 taps.
                let run = if run >= 4 { run } else { 0 };
                if run > 0 {
                    let wv = if ky == ay { row[ax] * 0.5 } else { row[ax] };
                    spans.push((ky, (ax + run) * c, (ax + 1 - run) * c, wv));
                }
                // Taps outside the span: columns 0 ..= ax − run of the quadrant.
                for kx in 0..ax + 1 - run {
                    let mut wv = k.w[ky * k.kw + kx];
                    if negligible(wv) {
                        continue;
                    }
                    if ky == ay {
                        wv *= 0.5;
                    }
                    if kx == ax {
                        wv *= 0.5;
                    }
                    taps.push((ky, kx * c, (2 * ax - kx) * c, wv));
                }
            }
        } else {
            nrows = k.kh;
            for ky in 0..k.kh {
                for kx in 0..k.kw {
                    let wv = k.w[ky * k.kw + kx];
                    if !negligible(wv) {
                        // (F + F) · (w/2) == F · w exactly.
                        taps.push((ky, kx * c, kx * c, wv * 0.5));
                    }
                }
            }
        }
        // The per-image prefix sums cost about as much as ~8 taps; not worth it for small disks.
        let saved: usize = spans.iter().map(|sp| (sp.1 - sp.2) / c.max(1)).sum();
        if saved < 24 {
            for (ky, hi, lo, wv) in spans.drain(..) {
                // Back to taps: columns lo/c ..= ax of the quadrant (weight of the span, halved on
                // the centre column as for every tap).
                for kx in lo / c..=ax {
                    let wt = if kx == ax { wv * 0.5 } else { wv };
                    taps.push((ky, kx * c, (2 * ax - kx) * c, wt));
                }
                let _ = hi;
            }
        }
        let mut used = vec![false; nrows];
        let mut has_span = vec![false; nrows];
        for t in &taps {
            used[t.0] = true;
        }
        for sp in &spans {
            used[sp.0] = true;
            has_span[sp.0] = true;
        }
        let mut folded = Buf::<f64>::zeroed(nrows * prow);
        let pstride = prow + c;
        let mut prefix = Buf::<f64>::zeroed(nrows * pstride);
        // Exclusive per-channel prefix sums of every padded source row (only if spans are used).
        let mut row_pref = Buf::<f64>::take(if spans.is_empty() { 0 } else { h * pstride });
        if !spans.is_empty() {
            for y in 0..h {
                let pr = &mut row_pref[y * pstride..(y + 1) * pstride];
                let f = &padded[y * prow..(y + 1) * prow];
                pr[..c].iter_mut().for_each(|v| *v = 0.0);
                for j in 0..prow {
                    pr[j + c] = pr[j] + f[j];
                }
            }
        }
        let nblocks = row_len.div_ceil(BLOCK);
        for y in 0..h {
            let src_row = |dy: isize| {
                let sy = reflect101(y as isize + dy, h);
                &padded[sy * prow..(sy + 1) * prow]
            };
            let src_pref = |dy: isize| {
                let sy = reflect101(y as isize + dy, h);
                &row_pref[sy * pstride..(sy + 1) * pstride]
            };
            for r in 0..nrows {
                if !used[r] {
                    continue;
                }
                let f = &mut folded[r * prow..(r + 1) * prow];
                if k.symmetric {
                    let dy = r as isize - ay as isize;
                    let (a, b) = (src_row(dy), src_row(-dy));
                    for ((o, &u), &d) in f.iter_mut().zip(a).zip(b) {
                        *o = u + d;
                    }
                } else {
                    f.copy_from_slice(src_row(r as isize - ay as isize));
                }
                if has_span[r] {
                    // Prefix sums are linear: the folded row's prefix is the sum of the two source
                    // rows' prefixes (computed once per image), a vectorisable add.
                    let dy = r as isize - ay as isize;
                    let (a, b) = (src_pref(dy), src_pref(-dy));
                    let pr = &mut prefix[r * pstride..(r + 1) * pstride];
                    for ((o, &u), &d) in pr.iter_mut().zip(a).zip(b) {
                        *o = u + d;
                    }
                }
            }
            let out = &mut dst[y * row_len..(y + 1) * row_len];
            for b in 0..nblocks {
                let e0 = b * BLOCK;
                let mut acc = [0f64; BLOCK];
                for &(r, l, rr, wv) in &taps {
                    let fr = &folded[r * prow..(r + 1) * prow];
                    let lv = &fr[e0 + l..e0 + l + BLOCK];
                    let rv = &fr[e0 + rr..e0 + rr + BLOCK];
                    for i in 0..BLOCK {
                        acc[i] += (lv[i] + rv[i]) * wv;
                    }
                }
                for &(r, hi, lo, wv) in &spans {
                    let pr = &prefix[r * pstride..(r + 1) * pstride];
                    let hv = &pr[e0 + hi..e0 + hi + BLOCK];
                    let lv = &pr[e0 + lo..e0 + lo + BLOCK];
                    for i in 0..BLOCK {
                        acc[i] += (hv[i] - lv[i]) * wv;
                    }
                }
                let n = BLOCK.min(row_len - e0);
                out[e0..e0 + n].copy_from_slice(&acc[..n]);
            }
        }
    }
}

/// Elements per register block of the correlation (4 AVX2 vectors of f64).
const BLOCK: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// Sums and sample taps of `imagecorruptions.corruptions.disk` (OpenCV 4.11, oracle venv).
    #[test]
    fn disk_kernel_matches_opencv() {
        let cases: [(f64, f64, f64); 5] = [
            (3.0, 0.1, 0.9999999962747097),
            (4.0, 0.5, 0.9999999657738954),
            (6.0, 0.5, 0.9999999935971573),
            (8.0, 0.5, 1.012975),
            (10.0, 0.5, 1.010786),
        ];
        for (r, s, want) in cases {
            let (k, n) = disk_kernel(r, s);
            let sum: f64 = k.iter().map(|&v| v as f64).sum();
            assert!(
                (sum - want).abs() < 2e-6,
                "radius {r}: sum {sum} want {want}"
            );
            assert_eq!(n, if r <= 8.0 { 17 } else { 21 });
        }
        // Exact taps (bits of cv2's kernel): centre, (0, r) and (0, r+1) of radius 4 and 6.
        let (k, n) = disk_kernel(4.0, 0.5);
        let c = n / 2;
        assert_eq!(k[c * n + c].to_bits(), 0x3ca72f05);
        assert_eq!(k[c * n + c + 4].to_bits(), 0x3c72b3ae);
        assert_eq!(k[c * n + c + 5].to_bits(), 0x3ae03649);
        let (k, n) = disk_kernel(6.0, 0.5);
        let c = n / 2;
        assert_eq!(k[c * n + c].to_bits(), 0x3c10fdbc);
        assert_eq!(k[c * n + c + 6].to_bits(), 0x3bd27c1d);
        assert_eq!(k[c * n + c + 7].to_bits(), 0x3a42730b);
    }

    #[test]
    fn reflect101_rule() {
        let got: Vec<usize> = (-3..7).map(|i| reflect101(i, 4)).collect();
        assert_eq!(got, [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
        assert_eq!(reflect101(-5, 1), 0);
    }

    fn direct(src: &[f64], h: usize, w: usize, c: usize, k: &Kernel2d) -> Vec<f64> {
        let mut out = vec![0f64; src.len()];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    let mut s = 0.0;
                    for ky in 0..k.kh {
                        for kx in 0..k.kw {
                            let sy = reflect101(y as isize + ky as isize - (k.kh / 2) as isize, h);
                            let sx = reflect101(x as isize + kx as isize - (k.kw / 2) as isize, w);
                            s += k.w[ky * k.kw + kx] * src[(sy * w + sx) * c + ch];
                        }
                    }
                    out[(y * w + x) * c + ch] = s;
                }
            }
        }
        out
    }

    #[test]
    fn correlation_equals_definition_and_simd_equals_scalar() {
        let (h, w, c) = (13, 9, 3);
        let src: Vec<f64> = (0..h * w * c)
            .map(|i| ((i * 53) % 97) as f64 / 96.0)
            .collect();
        let (kd, n) = disk_kernel(6.0, 0.5);
        let sym = Kernel2d::new(kd.iter().map(|&v| v as f64).collect(), n, n);
        let asym = Kernel2d::new((0..15).map(|i| i as f64 * 0.01).collect(), 3, 5);
        for k in [&sym, &asym] {
            let want = direct(&src, h, w, c, k);
            let mut a = vec![0f64; src.len()];
            correlate_reflect101_scalar(&src, &mut a, h, w, c, k);
            for (x, y) in a.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12, "{x} {y}");
            }
            for isa in simd::available() {
                let mut b = vec![0f64; src.len()];
                dispatch!(at isa; correlate_reflect101_scalar / correlate_reflect101_avx2(&src, &mut b, h, w, c, k));
                assert_eq!(a, b);
            }
        }
    }
}
