//! `clipped_zoom(img, z)` of imagecorruptions (spec P5): centre crop of `ceil(n/z)` pixels per
//! axis, then `scipy.ndimage.zoom(crop, (z, z, 1), order=1)` (corner-aligned linear
//! interpolation), untrimmed. Used by zoom_blur (f32, up to 16 zooms accumulated) and snow (f64
//! layer).
//!
//! Exactness (SciPy 1.11, checked in the oracle venv):
//! * output size per axis `round(ch·z)` (round half to even); per-axis factor
//!   `(ch − 1)/(n_out − 1)` (1 if `n_out = 1`); sample position `o · factor`;
//! * weights `w0 = 1 − frac`, `w1 = 1 − w0` (SciPy derives the last weight from the others);
//! * value `((v00·a0)·b0 + (v01·a0)·b1 + (v10·a1)·b0) + (v11·a1)·b1` in f64 (rows `a`,
//!   columns `b`; SciPy's loop over the 2×2×2 neighbourhood, channel weights exactly 1 and 0),
//!   rounded to the storage type;
//! * **quirk**: when `o · factor` exceeds `ch − 1` by rounding (e.g. `ch = 30`, `z = 1.2`), SciPy's
//!   `mode='constant'` maps that output row/column to `cval = 0`. The spec (P5) says this never
//!   triggers; with SciPy 1.11 it does for some sizes, and it is reproduced here.
//!
//! SciPy-exact corner-aligned sampling is not what `fast_image_resize` (pixel-centre aligned,
//! convolution-based) computes, so it is not used.

use crate::kernels::cpu::{isa, Isa};
use crate::kernels::gaussian::Sample;
use crate::kernels::scratch::Buf;

/// Sampling plan of one axis: crop offset and, per output index, source indices and weights.
#[derive(Clone, Debug)]
pub struct AxisPlan {
    /// Full output length `round(ch·z)` (before any trimming).
    pub n_out: usize,
    /// Per output index: (lower source index, upper source index, w0, w1), indices already
    /// offset by the crop start; `None` = outside (SciPy cval 0).
    pub taps: Vec<Option<(usize, usize, f64, f64)>>,
}

impl AxisPlan {
    /// Plan for an axis of length `n` zoomed by `z`, computing only the first `keep` outputs
    /// (`keep = usize::MAX` for all).
    pub fn new(n: usize, z: f64, keep: usize) -> AxisPlan {
        let ch = ((n as f64 / z).ceil() as usize).clamp(1, n);
        let top = (n - ch) / 2;
        let n_out = ((ch as f64 * z).round_ties_even() as usize).max(1);
        let factor = if n_out > 1 {
            (ch - 1) as f64 / (n_out - 1) as f64
        } else {
            1.0
        };
        let last = (ch - 1) as f64;
        let taps = (0..n_out.min(keep))
            .map(|o| {
                let cc = o as f64 * factor;
                if cc > last {
                    return None;
                }
                let start = cc.floor();
                let x = cc - start;
                let w0 = 1.0 - x;
                let w1 = 1.0 - w0;
                let s = start as usize;
                Some((top + s, top + (s + 1).min(ch - 1), w0, w1))
            })
            .collect();
        AxisPlan { n_out, taps }
    }
}

/// One output row of the zoom (`cols.taps.len()` pixels × `c` channels) into `out` (f64).
/// `p0`/`p1` are scratch rows of the source width × `c`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn zoom_row<T: Sample>(
    src: &[T],
    w: usize,
    c: usize,
    row: Option<(usize, usize, f64, f64)>,
    cols: &AxisPlan,
    p0: &mut [f64],
    p1: &mut [f64],
    out: &mut [f64],
) {
    let row_len = w * c;
    let Some((r0, r1, a0, a1)) = row else {
        out.iter_mut().for_each(|v| *v = 0.0);
        return;
    };
    let s0 = &src[r0 * row_len..(r0 + 1) * row_len];
    let s1 = &src[r1 * row_len..(r1 + 1) * row_len];
    for ((p, q), (&u, &v)) in p0.iter_mut().zip(p1.iter_mut()).zip(s0.iter().zip(s1)) {
        *p = u.to_f64() * a0;
        *q = v.to_f64() * a1;
    }
    for (j, tap) in cols.taps.iter().enumerate() {
        let o = &mut out[j * c..(j + 1) * c];
        match *tap {
            None => o.iter_mut().for_each(|v| *v = 0.0),
            Some((c0, c1, b0, b1)) => {
                for (ch, v) in o.iter_mut().enumerate() {
                    let (x0, x1) = (c0 * c + ch, c1 * c + ch);
                    *v = p0[x0] * b0 + p0[x1] * b1 + p1[x0] * b0 + p1[x1] * b1;
                }
            }
        }
    }
}

/// Full, untrimmed `clipped_zoom` of an interleaved `h × w × c` array; returns the zoomed array
/// and its height and width (both ≥ the input's).
pub fn clipped_zoom<T: Sample>(
    src: &[T],
    h: usize,
    w: usize,
    c: usize,
    z: f64,
) -> (Vec<T>, usize, usize) {
    let rows = AxisPlan::new(h, z, usize::MAX);
    let cols = AxisPlan::new(w, z, usize::MAX);
    let (oh, ow) = (rows.n_out, cols.n_out);
    let mut out = vec![T::default(); oh * ow * c];
    let (mut p0, mut p1) = (vec![0f64; w * c], vec![0f64; w * c]);
    let mut line = vec![0f64; ow * c];
    for (i, &row) in rows.taps.iter().enumerate() {
        zoom_row(src, w, c, row, &cols, &mut p0, &mut p1, &mut line);
        for (o, &v) in out[i * ow * c..(i + 1) * ow * c].iter_mut().zip(&line) {
            *o = T::from_f64(v);
        }
    }
    (out, oh, ow)
}

/// `acc += clipped_zoom(src, z)[:h, :w, :]` for f32 data (zoom_blur), computing only the part
/// that is kept. Each zoomed value is rounded to f32 before the f32 addition, as NumPy does.
///
/// Each source row is first "expanded" once to the output columns (`E_a[j] = row[c0(j)]`,
/// `E_b[j] = row[c1(j)]`, channel-interleaved), so the arithmetic per output row is a
/// gather-free loop that vectorises; the operations and their order are those of
/// [`clipped_zoom`] (bit-identical, tested).
pub fn clipped_zoom_accumulate(src: &[f32], h: usize, w: usize, c: usize, z: f64, acc: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if isa() >= Isa::Avx2 {
        // SAFETY: AVX2 support was checked at run time.
        unsafe { accumulate_avx2(src, h, w, c, z, acc) };
        return;
    }
    accumulate_scalar(src, h, w, c, z, acc)
}

/// Scalar twin of [`clipped_zoom_accumulate`].
pub fn accumulate_scalar(src: &[f32], h: usize, w: usize, c: usize, z: f64, acc: &mut [f32]) {
    accumulate_impl(src, h, w, c, z, acc)
}

/// AVX2 build of [`accumulate_scalar`] (same code, auto-vectorised).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub unsafe fn accumulate_avx2(src: &[f32], h: usize, w: usize, c: usize, z: f64, acc: &mut [f32]) {
    accumulate_impl(src, h, w, c, z, acc)
}

#[inline(always)]
fn accumulate_impl(src: &[f32], h: usize, w: usize, c: usize, z: f64, acc: &mut [f32]) {
    let rows = AxisPlan::new(h, z, h);
    let cols = AxisPlan::new(w, z, w);
    let ncols = cols.taps.len();
    let n = ncols * c;
    // Per-element column indices (into a source row) and weights; zero weights for columns that
    // SciPy sets to cval.
    let mut pix = vec![(0usize, 0usize); ncols];
    let mut b0 = vec![0f64; n];
    let mut b1 = vec![0f64; n];
    for (j, tap) in cols.taps.iter().enumerate() {
        if let Some((c0, c1, w0, w1)) = *tap {
            pix[j] = (c0 * c, c1 * c);
            for ch in 0..c {
                b0[j * c + ch] = w0;
                b1[j * c + ch] = w1;
            }
        }
    }
    let row_len = w * c;
    // Two expanded-row slots (each: E_a then E_b), tagged with their source row.
    let mut slots = [Buf::<f32>::take(2 * n), Buf::<f32>::take(2 * n)];
    let mut tags = [usize::MAX; 2];
    // Expand row `r` into a slot other than `avoid`, unless a slot already holds it.
    let expand = |r: usize, avoid: usize, slots: &mut [Buf<f32>; 2], tags: &mut [usize; 2]| {
        if let Some(k) = tags.iter().position(|&t| t == r) {
            return k;
        }
        let k = if avoid == 0 { 1 } else { 0 };
        let s = &src[r * row_len..(r + 1) * row_len];
        let (ea, eb) = slots[k].split_at_mut(n);
        // Whole pixels at a time: one index pair per output column.
        for (&(pa, pb), (da, db)) in pix
            .iter()
            .zip(ea.chunks_exact_mut(c).zip(eb.chunks_exact_mut(c)))
        {
            da.copy_from_slice(&s[pa..pa + c]);
            db.copy_from_slice(&s[pb..pb + c]);
        }
        tags[k] = r;
        k
    };
    for (i, row) in rows.taps.iter().enumerate() {
        let Some((r0, r1, a0, a1)) = *row else {
            continue; // SciPy cval 0: adds nothing
        };
        // Keep the slot holding r1 (usually the next row's r0) when placing r0.
        let hold = tags.iter().position(|&t| t == r1).unwrap_or(1);
        let k0 = expand(r0, hold, &mut slots, &mut tags);
        let k1 = expand(r1, k0, &mut slots, &mut tags);
        let (e0, e1) = (&slots[k0], &slots[k1]);
        let (ea0, eb0) = e0.split_at(n);
        let (ea1, eb1) = e1.split_at(n);
        let out = &mut acc[i * row_len..i * row_len + n];
        for e in 0..n {
            let t = (ea0[e] as f64 * a0) * b0[e]
                + (eb0[e] as f64 * a0) * b1[e]
                + (ea1[e] as f64 * a1) * b0[e]
                + (eb1[e] as f64 * a1) * b1[e];
            out[e] += t as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scipy.ndimage.zoom(a, (1.2, 1, 1), order=1)` with `a = arange(30) + 1.5` (f32, 30×1×1):
    /// 36 rows, the last one 0 (cval) because `35 · (29/35)` rounds above 29.
    #[test]
    fn last_row_overshoot_is_zero_like_scipy() {
        let p = AxisPlan::new(36, 1.2, usize::MAX);
        assert_eq!(p.n_out, 36);
        assert!(p.taps[35].is_none());
        assert!(p.taps[34].is_some());
    }

    #[test]
    fn sizes_follow_reference() {
        // 224 / 1.11 -> crop 202, round(202·1.11) = 224
        let p = AxisPlan::new(224, 1.11, usize::MAX);
        assert_eq!(p.n_out, 224);
        let p = AxisPlan::new(224, 1.0, usize::MAX);
        assert_eq!(p.n_out, 224);
        // identity: weights (1, 0) on the same pixel
        for (o, t) in p.taps.iter().enumerate() {
            let (i0, _, w0, w1) = t.unwrap();
            assert_eq!((i0, w0, w1), (o, 1.0, 0.0));
        }
        let p = AxisPlan::new(1, 1.3, usize::MAX);
        assert_eq!(p.n_out, 1);
    }

    /// Values of `clipped_zoom` (imagecorruptions 1.1.2, SciPy 1.11) on a 5×4×3 f32 ramp.
    #[test]
    fn matches_scipy_values() {
        let src: Vec<f32> = (0..60).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
        let (z, oh, ow) = clipped_zoom(&src, 5, 4, 3, 1.3);
        assert_eq!((oh, ow), (WANT_SHAPE.0, WANT_SHAPE.1));
        for (i, &want) in WANT_BITS.iter().enumerate() {
            assert_eq!(z[i].to_bits(), want, "element {i}");
        }
        let mut acc = vec![0f32; 60];
        clipped_zoom_accumulate(&src, 5, 4, 3, 1.3, &mut acc);
        for y in 0..5 {
            for x in 0..4 {
                for ch in 0..3 {
                    assert_eq!(acc[(y * 4 + x) * 3 + ch], z[(y * ow + x) * 3 + ch]);
                }
            }
        }
    }
    #[test]
    fn simd_equals_scalar_and_full_zoom() {
        for &(h, w) in &[(1usize, 1usize), (7, 5), (30, 36), (36, 30), (40, 2100)] {
            let src: Vec<f32> = (0..h * w * 3)
                .map(|i| ((i * 53) % 256) as f32 / 255.0)
                .collect();
            for z in [1.01, 1.11, 1.2, 1.3] {
                let mut a = vec![0.5f32; src.len()];
                let mut b = a.clone();
                accumulate_scalar(&src, h, w, 3, z, &mut a);
                clipped_zoom_accumulate(&src, h, w, 3, z, &mut b);
                assert_eq!(a, b);
                let (full, _, ow) = clipped_zoom(&src, h, w, 3, z);
                for y in 0..h {
                    for x in 0..w * 3 {
                        assert_eq!(a[y * w * 3 + x], 0.5 + full[y * ow * 3 + x]);
                    }
                }
            }
        }
    }

    const WANT_SHAPE: (usize, usize) = (5, 5);
    #[rustfmt::skip]
    const WANT_BITS: [u32; 75] = [0x0, 0x3ebd70a4, 0x3f3d70a4, 0x3d99999a, 0x3ee3d70a, 0x3f50a3d7, 0x3e19999a, 0x3f051eb8, 0x3f63d70a, 0x3e666667, 0x3f1851ec, 0x3f366666, 0x3e99999a, 0x3f2b851f, 0x3cf5c28f, 0x3e99999a, 0x3f2b851e, 0x3e90a3d7, 0x3ec00000, 0x3f3eb852, 0x3eb70a3d, 0x3ee66667, 0x3f51eb85, 0x3edd70a4, 0x3f066667, 0x3f34a3d7, 0x3ee3851f, 0x3f19999a, 0x3e59999a, 0x3ea8f5c3, 0x3f19999a, 0x3eee147a, 0x3ea8f5c2, 0x3f2ccccd, 0x3f0a3d71, 0x3ecf5c29, 0x3f400000, 0x3f1d70a4, 0x3ef5c290, 0x3f32e148, 0x3f1051ec, 0x3f0e147b, 0x3eca3d70, 0x3e851eb8, 0x3f2147ae, 0x3f25c290, 0x3e851eb8, 0x3f2147ae, 0x3f38f5c2, 0x3eab851f, 0x3f040000, 0x3f4c28f6, 0x3ed1eb85, 0x3f070a3e, 0x3f2ee148, 0x3ef851ec, 0x3f1a3d71, 0x3e428f5c, 0x3f0f5c29, 0x3f2d70a4, 0x3e428f5c, 0x3f0f5c29, 0x3f6e147b, 0x3e87ae14, 0x3f228f5c, 0x3e7d70a4, 0x3eae147a, 0x3f35c290, 0x3d8f5c29, 0x3ed47ae1, 0x3f48f5c2, 0x3e147ae1, 0x3efae148, 0x3f5c28f6, 0x3e6147ae];
}
