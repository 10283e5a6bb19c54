//! `clipped_zoom(img, z)` of imagecorruptions (ALGORITHMS.md P5): centre crop of `ceil(n/z)` pixels per
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
//!   `mode='constant'` maps that output row/column to `cval = 0`. The reference notes (docs/ALGORITHMS.md P5) say this never
//!   triggers; with SciPy 1.11 it does for some sizes, and it is reproduced here.
//!
//! SciPy-exact corner-aligned sampling is not what `fast_image_resize` (pixel-centre aligned,
//! convolution-based) computes, so it is not used.

#[cfg(test)]
use crate::kernels::gaussian::Sample;
use crate::kernels::quantise::q255_f32 as q255;
use crate::kernels::scratch::Buf;
use crate::simd::dispatch;
use crate::simd::fma::fma_f32;

/// Sampling plan of one axis: crop offset and, per output index, source indices and weights.
#[derive(Clone, Debug)]
pub struct AxisPlan {
    /// Full output length `round(ch·z)` (before any trimming).
    pub n_out: usize,
    /// First source index of the centre crop.
    pub start: usize,
    /// Crop length `ch = ceil(n/z)` (clamped to `1..=n`).
    pub len: usize,
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
        AxisPlan {
            n_out,
            start: top,
            len: ch,
            taps,
        }
    }
}

#[cfg(test)]
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

#[cfg(test)]
/// Full, untrimmed `clipped_zoom` of an interleaved `h × w × c` array; returns the zoomed array
/// and its height and width (both ≥ the input's).
pub fn clipped_zoom<T: Sample>(
    src: &[T],
    h: usize,
    w: usize,
    c: usize,
    z: f64,
) -> (Vec<T>, usize, usize) {
    // Single-channel layers (snow) get their own instance with `c = 1` folded in: the row
    // loops then run without the per-channel stride arithmetic (same operations, same order).
    if c == 1 {
        clipped_zoom_impl(src, h, w, 1, z)
    } else {
        clipped_zoom_impl(src, h, w, c, z)
    }
}

#[cfg(test)]
/// Body of [`clipped_zoom`], inlined into its two instances.
#[inline(always)]
fn clipped_zoom_impl<T: Sample>(
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

dispatch! {
    /// [`clipped_zoom`] of a single-channel f64 plane (snow's layer), bit-identical to it but
    /// vectorised: each source row that an output row needs is "expanded" once to the output
    /// columns (`E[j] = row[c0(j)]`, `F[j] = row[c1(j)]`, kept in two tagged slots, since
    /// consecutive output rows share source rows), so every output row is the gather-free
    /// `((E₀·a0)·b0 + (F₀·a0)·b1 + (E₁·a1)·b0) + (F₁·a1)·b1` — the operations and order of
    /// `zoom_row` — and columns outside the crop (SciPy cval) are then set to 0.
    pub fn clipped_zoom_plane / plane_scalar / plane_avx2 (
        src: &[f64],
        h: usize,
        w: usize,
        z: f64,
    ) -> (Buf<f64>, usize, usize) {
        let rows = AxisPlan::new(h, z, usize::MAX);
        let cols = AxisPlan::new(w, z, usize::MAX);
        let (oh, ow) = (rows.n_out, cols.n_out);
        // pooled and written in full below (cval rows included): no per-call allocation and
        // zero-fill of an image-sized plane (snow's layer, ~0.4 MB at 224×224)
        let mut out = Buf::<f64>::take(oh * ow);
        let mut ia = vec![0usize; ow];
        let mut ib = vec![0usize; ow];
        let mut b0 = vec![0f64; ow];
        let mut b1 = vec![0f64; ow];
        let mut outside = Vec::new();
        for (j, tap) in cols.taps.iter().enumerate() {
            match *tap {
                Some((c0, c1, w0, w1)) => {
                    (ia[j], ib[j], b0[j], b1[j]) = (c0, c1, w0, w1);
                }
                None => outside.push(j),
            }
        }
        // Two expanded-row slots (E then F, `ow` values each), tagged with their source row.
        let mut slots = [Buf::<f64>::take(2 * ow), Buf::<f64>::take(2 * ow)];
        let mut tags = [usize::MAX; 2];
        let expand = |r: usize, keep: usize, slots: &mut [Buf<f64>; 2], tags: &mut [usize; 2]| {
            if let Some(k) = tags.iter().position(|&t| t == r) {
                return k;
            }
            let k = if keep == 0 { 1 } else { 0 };
            let row = &src[r * w..(r + 1) * w];
            let (e, f) = slots[k].split_at_mut(ow);
            for (j, (e, f)) in e.iter_mut().zip(f.iter_mut()).enumerate() {
                *e = row[ia[j]];
                *f = row[ib[j]];
            }
            tags[k] = r;
            k
        };
        for (i, tap) in rows.taps.iter().enumerate() {
            let Some((r0, r1, a0, a1)) = *tap else {
                out[i * ow..(i + 1) * ow].fill(0.0); // cval rows
                continue;
            };
            let k0 = expand(r0, usize::MAX, &mut slots, &mut tags);
            let k1 = expand(r1, k0, &mut slots, &mut tags);
            let (e0, f0) = slots[k0].split_at(ow);
            let (e1, f1) = slots[k1].split_at(ow);
            let o = &mut out[i * ow..(i + 1) * ow];
            for j in 0..ow {
                o[j] = (e0[j] * a0) * b0[j]
                    + (f0[j] * a0) * b1[j]
                    + (e1[j] * a1) * b0[j]
                    + (f1[j] * a1) * b1[j];
            }
            for &j in &outside {
                o[j] = 0.0;
            }
        }
        (out, oh, ow)
    }
}

dispatch! {
    /// `acc += clipped_zoom(src, z)[:h, :w, :]` for f32 data (zoom_blur), computing only the part
    /// that is kept. Each zoomed value is rounded to f32 before the f32 addition, as NumPy does.
    ///
    /// Each source row is first "expanded" once to the output columns (`E_a[j] = row[c0(j)]`,
    /// `E_b[j] = row[c1(j)]`, channel-interleaved), so the arithmetic per output row is a
    /// gather-free loop that vectorises; the operations and their order are those of
    /// [`clipped_zoom`] (bit-identical, tested).
    pub fn clipped_zoom_accumulate / accumulate_scalar / accumulate_avx2 (
        src: &[f32],
        h: usize,
        w: usize,
        c: usize,
        z: f64,
        acc: &mut [f32],
    ) {
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
}

/// Elements per block of the fast zoom_blur: one AVX2 register of f32.
const ZB: usize = 8;

/// Zero elements after each vertically blended crop row of [`zoom_blur_rgb8`], so that every
/// 8-wide window at `base` and `base + 3` stays inside the row buffer.
const VPAD: usize = 16;

/// Sampling tables of [`zoom_blur_rgb8`] for one image size and factor list.
///
/// Output element `e = 3j + ch` of the zoom by factor `z` (ALGORITHMS.md P5, SciPy order 1) blends the
/// crop samples `V[3·s(j) + ch]` and `V[3·s(j) + 3 + ch]` (`V` = the two source rows already
/// blended vertically, `s(j)` = lower crop column of output column `j`). Because `z ≥ 1`, `s`
/// is non-decreasing with steps of at most 1, so the 8 lower sample indices of one 8-element
/// block span at most 8 consecutive values (`idx(e') − idx(e) ≤ e' − e` for `e' > e`, and at
/// most 2 the other way): each block is one unaligned load at `base` (and one at `base + 3`)
/// and one in-register permutation, with no gather.
struct ZoomTables {
    /// Number of (non-identity) factors.
    nf: usize,
    /// Blocks per output row (`ceil(3w/8)`).
    nb: usize,
    /// `[factor][output row]`: absolute source rows `(r0, r1)` and weight `a1` of `r1`;
    /// `None` when SciPy maps the row to `cval = 0`.
    rows: Vec<Vec<Option<(usize, usize, f32)>>>,
    /// `[factor]`: first crop column.
    left: Vec<usize>,
    /// `[factor]`: crop row length `3·cw` in elements.
    vlen: Vec<usize>,
    /// `[factor·nb + block]`: the block's sampling entry (a factor's row of blocks is
    /// contiguous, as the AVX2 twin walks it).
    ent: Vec<ZoomEntry>,
}

/// Eight f32s on a 32-byte boundary (aligned AVX2 loads and stores of an accumulator row).
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Block8([f32; ZB]);

/// Sampling of one 8-element output block by one zoom factor.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct ZoomEntry {
    /// Lane of the window for each output element.
    perm: [i32; ZB],
    /// Horizontal weight of the upper sample.
    w1: [f32; ZB],
    /// Crop index of lane 0 of the window.
    base: u32,
    /// Bit `k` set when element `k` samples the crop (clear: SciPy cval 0, the element adds
    /// nothing). Elements past the row end are "valid" don't-cares.
    valid: u32,
}

impl ZoomTables {
    fn new(h: usize, w: usize, factors: &[f64]) -> ZoomTables {
        let nf = factors.len();
        let nb = (3 * w).div_ceil(ZB);
        let mut t = ZoomTables {
            nf,
            nb,
            rows: Vec::with_capacity(nf),
            left: Vec::with_capacity(nf),
            vlen: Vec::with_capacity(nf),
            ent: vec![
                ZoomEntry {
                    perm: [0; ZB],
                    w1: [0.0; ZB],
                    base: 0,
                    valid: 0xff,
                };
                nb * nf
            ],
        };
        for (f, &z) in factors.iter().enumerate() {
            let rp = AxisPlan::new(h, z, h);
            t.rows.push(
                rp.taps
                    .iter()
                    .map(|tap| tap.map(|(r0, r1, _, w1)| (r0, r1, w1 as f32)))
                    .collect(),
            );
            let cp = AxisPlan::new(w, z, w);
            t.left.push(cp.start);
            t.vlen.push(3 * cp.len);
            for b in 0..nb {
                let k = f * nb + b;
                // (crop index, weight) per lane; None = cval.
                let lanes: [Option<(usize, f32)>; ZB] = std::array::from_fn(|l| {
                    let e = b * ZB + l;
                    if e >= 3 * w {
                        return None;
                    }
                    cp.taps[e / 3].map(|(c0, _, _, w1)| (3 * (c0 - cp.start) + e % 3, w1 as f32))
                });
                let lo = lanes.iter().flatten().map(|&(i, _)| i).min().unwrap_or(0);
                for (l, lane) in lanes.iter().enumerate() {
                    match *lane {
                        Some((i, wt)) => {
                            debug_assert!(i - lo < ZB);
                            t.ent[k].perm[l] = (i - lo) as i32;
                            t.ent[k].w1[l] = wt;
                        }
                        None if b * ZB + l < 3 * w => t.ent[k].valid &= !(1 << l),
                        None => {}
                    }
                }
                t.ent[k].base = lo as u32;
            }
        }
        t
    }

    /// Longest crop row plus padding: the stride of the blended-row buffer.
    fn vstride(&self) -> usize {
        self.vlen.iter().max().copied().unwrap_or(0) + VPAD
    }
}

/// Fast-mode zoom_blur (ALGORITHMS.md §4.7) of an interleaved RGB8 `h × w` image:
/// `trunc(clip((x·(1 + n₁) + Σ_z clipped_zoom(x, z)) / (1 + |factors|)))` on the 0–255 scale,
/// in f32, where `n₁` counts the factors equal to 1 (exact identities) and the sum runs over
/// the others.
///
/// Why: numpy mode rebuilds each zoom in f64 exactly as SciPy does (~2 ms per 224² image);
/// the fast RNG mode only has to match the statistics. Here each zoom is the same
/// corner-aligned bilinear sampling with f32 weights, in difference form
/// `p0 + w·(p1 − p0)` per axis (a flat region stays exactly flat, so truncation is not biased
/// downwards), fused with the accumulation: per output row the two source rows of every factor
/// are blended vertically into a crop-wide row, then each 8-element output block gathers its
/// horizontal samples with one permutation per factor (see `ZoomTables`), summed factor by
/// factor into a row of accumulators (the AVX2 twin walks a factor's blocks in a row: they are
/// independent sums, not one chain per block). The result differs from numpy mode by f32 rounding only (at most one grey
/// level, where a value sits at an integer boundary).
///
/// # Panics
/// If `src` or `dst` hold fewer than `3·h·w` bytes.
pub fn zoom_blur_rgb8(src: &[u8], dst: &mut [u8], h: usize, w: usize, factors: &[f64]) {
    dispatch!(zoom_blur_rgb8_scalar / zoom_blur_rgb8_avx2(src, dst, h, w, factors))
}

/// Shared set-up of [`zoom_blur_rgb8`]: the f32 image (0–255, with `2·ZB` spare elements), the
/// tables of the non-identity factors, the weight of the image itself and `1/count`.
fn zoom_setup(src: &[u8], h: usize, w: usize, factors: &[f64]) -> (Buf<f32>, ZoomTables, f32, f32) {
    let n = 3 * h * w;
    assert!(src.len() >= n);
    let mut x = Buf::<f32>::take(n + 2 * ZB);
    for (o, &v) in x.iter_mut().zip(&src[..n]) {
        *o = v as f32;
    }
    x[n..].fill(0.0);
    let zooms: Vec<f64> = factors.iter().copied().filter(|&z| z != 1.0).collect();
    let self_weight = (1 + factors.len() - zooms.len()) as f32;
    let inv = 1.0 / (factors.len() + 1) as f32;
    (x, ZoomTables::new(h, w, &zooms), self_weight, inv)
}

/// Blend the crop of source rows `r0`, `r1` vertically: `v[k] = p0 + a1·(p1 − p0)` for
/// `k < n`, scalar (`from` lets the AVX2 twin finish its tail with the same operations).
#[inline(always)]
fn blend_rows_from(p0: &[f32], p1: &[f32], a1: f32, v: &mut [f32], from: usize) {
    for k in from..v.len() {
        v[k] = fma_f32(a1, p1[k] - p0[k], p0[k]);
    }
}

/// Scalar twin of [`zoom_blur_rgb8`] (same f32 operations in the same order, the correctly
/// rounded [`fma_f32`] where the AVX2 twin fuses).
pub fn zoom_blur_rgb8_scalar(src: &[u8], dst: &mut [u8], h: usize, w: usize, factors: &[f64]) {
    let (x, t, self_weight, inv) = zoom_setup(src, h, w, factors);
    let row_len = 3 * w;
    assert!(dst.len() >= h * row_len);
    let vstride = t.vstride();
    let mut vrows = Buf::<f32>::take(t.nf * vstride);
    let mut active: Vec<usize> = Vec::with_capacity(t.nf);
    for i in 0..h {
        active.clear();
        for f in 0..t.nf {
            if let Some((r0, r1, a1)) = t.rows[f][i] {
                let (c, n) = (3 * t.left[f], t.vlen[f]);
                let v = &mut vrows[f * vstride..(f + 1) * vstride];
                let (p0, p1) = (&x[r0 * row_len + c..], &x[r1 * row_len + c..]);
                blend_rows_from(&p0[..n], &p1[..n], a1, &mut v[..n], 0);
                v[n..].fill(0.0);
                active.push(f);
            }
        }
        for b in 0..t.nb {
            let e0 = b * ZB;
            let mut acc: [f32; ZB] = std::array::from_fn(|l| x[i * row_len + e0 + l] * self_weight);
            for &f in &active {
                let en = &t.ent[f * t.nb + b];
                let v = &vrows[f * vstride + en.base as usize..];
                for (l, (a, (&p, &w1))) in
                    acc.iter_mut().zip(en.perm.iter().zip(&en.w1)).enumerate()
                {
                    if en.valid & (1 << l) != 0 {
                        let (s0, s1) = (v[p as usize], v[p as usize + 3]);
                        *a += fma_f32(w1, s1 - s0, s0);
                    }
                }
            }
            let n = ZB.min(row_len - e0);
            for (o, &a) in dst[i * row_len + e0..][..n].iter_mut().zip(&acc) {
                *o = q255(a * inv);
            }
        }
    }
}

/// AVX2 + FMA twin of [`zoom_blur_rgb8_scalar`].
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn zoom_blur_rgb8_avx2(src: &[u8], dst: &mut [u8], h: usize, w: usize, factors: &[f64]) {
    use std::arch::x86_64::*;
    let (x, t, self_weight, inv) = zoom_setup(src, h, w, factors);
    let row_len = 3 * w;
    assert!(dst.len() >= h * row_len);
    let vstride = t.vstride();
    let mut vrows = Buf::<f32>::take(t.nf * vstride);
    let mut active: Vec<(usize, *const f32)> = Vec::with_capacity(t.nf);
    // The output row's sums, one 32-byte aligned block of 8 per element block.
    let mut accrow = vec![Block8([0.0; ZB]); t.nb];
    // Block8 is 8 f32s with no padding (size 32, align 32): nb·8 contiguous f32s.
    let accp = accrow.as_mut_ptr() as *mut f32;
    let sw = _mm256_set1_ps(self_weight);
    let invv = _mm256_set1_ps(inv);
    for i in 0..h {
        active.clear();
        for f in 0..t.nf {
            if let Some((r0, r1, a1)) = t.rows[f][i] {
                let (c, n) = (3 * t.left[f], t.vlen[f]);
                let v = &mut vrows[f * vstride..(f + 1) * vstride];
                let (p0, p1) = (&x[r0 * row_len + c..][..n], &x[r1 * row_len + c..][..n]);
                let av = _mm256_set1_ps(a1);
                let mut k = 0;
                // SAFETY: k + 8 ≤ n = p0.len() = p1.len() ≤ v.len().
                while k + ZB <= n {
                    let a = _mm256_loadu_ps(p0.as_ptr().add(k));
                    let d = _mm256_sub_ps(_mm256_loadu_ps(p1.as_ptr().add(k)), a);
                    _mm256_storeu_ps(v.as_mut_ptr().add(k), _mm256_fmadd_ps(av, d, a));
                    k += ZB;
                }
                blend_rows_from(p0, p1, a1, &mut v[..n], k);
                v[n..].fill(0.0);
                active.push((f, v.as_ptr()));
            }
        }
        let xrow = x[i * row_len..i * row_len + t.nb * ZB].as_ptr();
        let drow = &mut dst[i * row_len..(i + 1) * row_len];
        // SAFETY (xrow, accp): x holds 2·ZB spare elements and nb·8 < row_len + 8, so the
        // loads stay in x; accrow holds nb·8 elements.
        for b in 0..t.nb {
            let a = _mm256_mul_ps(_mm256_loadu_ps(xrow.add(b * ZB)), sw);
            _mm256_store_ps(accp.add(b * ZB), a);
        }
        // Factor by factor over the whole row (each block's sum in the same order as the
        // scalar twin): the blocks are independent chains, and a factor's entries are read in
        // order.
        for &(f, vp) in &active {
            let ent = t.ent[f * t.nb..(f + 1) * t.nb].as_ptr();
            for b in 0..t.nb {
                // SAFETY: b < nb entries of factor f; accrow as above.
                let a = _mm256_load_ps(accp.add(b * ZB));
                _mm256_store_ps(accp.add(b * ZB), zoom_step(a, &*ent.add(b), vp));
            }
        }
        for b in 0..t.nb {
            let e0 = b * ZB;
            // SAFETY: accrow as above.
            store_q(_mm256_load_ps(accp.add(e0)), invv, &mut drow[e0..]);
        }
    }

    /// `acc + (s0 + w1·(s1 − s0))` of one block and factor, `s0`/`s1` the permuted windows at
    /// `base` and `base + 3` of the blended row `vp`.
    #[inline(always)]
    unsafe fn zoom_step(acc: __m256, en: &ZoomEntry, vp: *const f32) -> __m256 {
        // SAFETY (loads): base ≤ vlen − 1 and base + 3 + 8 ≤ vlen + VPAD = row stride.
        let v = vp.add(en.base as usize);
        if en.valid == 0xff {
            let idx = _mm256_load_si256(en.perm.as_ptr() as *const __m256i);
            let s0 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(v), idx);
            let s1 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(v.add(3)), idx);
            let wv = _mm256_load_ps(en.w1.as_ptr());
            _mm256_add_ps(acc, _mm256_fmadd_ps(wv, _mm256_sub_ps(s1, s0), s0))
        } else {
            let mut a = [0f32; ZB];
            _mm256_storeu_ps(a.as_mut_ptr(), acc);
            for (l, al) in a.iter_mut().enumerate() {
                if en.valid & (1 << l) != 0 {
                    let p = en.perm[l] as usize;
                    let (s0, s1) = (*v.add(p), *v.add(p + 3));
                    *al += en.w1[l].mul_add(s1 - s0, s0);
                }
            }
            _mm256_loadu_ps(a.as_ptr())
        }
    }

    /// `trunc(clip(acc·inv, 0, 255))` of one block into `out` (at most 8 bytes).
    #[inline(always)]
    unsafe fn store_q(acc: __m256, invv: __m256, out: &mut [u8]) {
        let (zero, top) = (_mm256_setzero_ps(), _mm256_set1_ps(255.0));
        let q = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(acc, invv), zero), top);
        let qi = _mm256_cvttps_epi32(q);
        let p16 = _mm_packus_epi32(
            _mm256_castsi256_si128(qi),
            _mm256_extracti128_si256::<1>(qi),
        );
        let bytes = _mm_packus_epi16(p16, p16);
        if out.len() >= ZB {
            _mm_storel_epi64(out.as_mut_ptr() as *mut __m128i, bytes);
        } else {
            let mut tmp = [0u8; 16];
            _mm_storeu_si128(tmp.as_mut_ptr() as *mut __m128i, bytes);
            let n = out.len();
            out.copy_from_slice(&tmp[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::simd::{self, dispatch};

    /// The pooled plane is written in full: rows and columns outside the crop (SciPy's cval,
    /// here from f64 rounding at the last output, e.g. 24 rows zoomed ×1.7) come out 0 even
    /// when the pool hands back a buffer full of NaN from an earlier call.
    #[test]
    fn plane_writes_cval_rows_over_a_dirty_buffer() {
        let (h, w, z) = (24usize, 24usize, 1.7f64);
        let rows = AxisPlan::new(h, z, usize::MAX);
        assert!(rows.taps.iter().any(|t| t.is_none()));
        let n_out = rows.n_out * AxisPlan::new(w, z, usize::MAX).n_out;
        let src: Vec<f64> = (0..h * w).map(|i| (i % 7) as f64 / 7.0 + 0.1).collect();
        let (want, _, _) = clipped_zoom(&src, h, w, 1, z);
        for isa in std::iter::once(None).chain(simd::available().into_iter().map(Some)) {
            {
                // the kernel's first take has this length, so it gets this same buffer back
                // (the pool hands out the smallest one that is large enough)
                let mut dirty = Buf::<f64>::take(n_out);
                dirty.fill(f64::NAN);
            }
            let (got, _, _) = match isa {
                None => plane_scalar(&src, h, w, z),
                Some(isa) => dispatch!(at isa; plane_scalar / plane_avx2(&src, h, w, z)),
            };
            assert!(got
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    #[test]
    fn plane_equals_clipped_zoom() {
        for &(h, w, z) in &[
            (224usize, 224usize, 3.0f64),
            (37, 53, 4.5),
            (30, 30, 1.2),
            (1, 1, 2.0),
            (2, 7, 2.5),
            (17, 9, 4.0),
            (480, 640, 2.0),
        ] {
            let src: Vec<f64> = (0..h * w)
                .map(|i| ((i * 2654435761usize) % 1000) as f64 / 300.0 - 1.0)
                .collect();
            let (want, wh, ww) = clipped_zoom(&src, h, w, 1, z);
            let levels = simd::available().into_iter();
            let simd =
                levels.map(|isa| dispatch!(at isa; plane_scalar / plane_avx2(&src, h, w, z)));
            for (got, gh, gw) in std::iter::once(plane_scalar(&src, h, w, z)).chain(simd) {
                assert_eq!((gh, gw), (wh, ww));
                let same = got
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{h}x{w} z {z}");
            }
        }
    }

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
                accumulate_scalar(&src, h, w, 3, z, &mut a);
                for isa in simd::available() {
                    let mut b = vec![0.5f32; src.len()];
                    dispatch!(at isa; accumulate_scalar / accumulate_avx2(&src, h, w, 3, z, &mut b));
                    assert_eq!(a, b);
                }
                let (full, _, ow) = clipped_zoom(&src, h, w, 3, z);
                for y in 0..h {
                    for x in 0..w * 3 {
                        assert_eq!(a[y * w * 3 + x], 0.5 + full[y * ow * 3 + x]);
                    }
                }
            }
        }
    }

    /// Direct definition of fast zoom_blur in f64: `(x·(1+n₁) + Σ clipped_zoom(x, z)) / count`.
    fn zoom_blur_direct(src: &[u8], h: usize, w: usize, factors: &[f64]) -> Vec<f64> {
        let x: Vec<f64> = src.iter().map(|&v| v as f64).collect();
        let mut acc = x.clone();
        for &z in factors {
            let (full, _, ow) = clipped_zoom(&x, h, w, 3, z);
            for y in 0..h {
                for e in 0..w * 3 {
                    acc[y * w * 3 + e] += full[y * ow * 3 + e];
                }
            }
        }
        let n = (factors.len() + 1) as f64;
        acc.iter().map(|&v| v / n).collect()
    }

    #[test]
    fn fast_zoom_blur_simd_equals_scalar_and_tracks_definition() {
        let sets: [&[f64]; 3] = [
            &[
                1.0, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08, 1.09, 1.1,
            ],
            &[
                1.0, 1.03, 1.06, 1.09, 1.12, 1.15, 1.18, 1.21, 1.24, 1.27, 1.3,
            ],
            &[1.0, 1.2],
        ];
        for &(h, w) in &[
            (1usize, 1usize),
            (1, 9),
            (9, 1),
            (2, 3),
            (7, 5),
            (30, 36),
            (36, 30),
            (33, 17),
            (13, 250),
        ] {
            let src: Vec<u8> = (0..h * w * 3)
                .map(|i| ((i * 53 + (i / 7) * 11) % 256) as u8)
                .collect();
            for factors in sets {
                let mut a = vec![0u8; src.len()];
                zoom_blur_rgb8_scalar(&src, &mut a, h, w, factors);
                for isa in simd::available() {
                    let mut b = vec![1u8; src.len()];
                    dispatch!(at isa; zoom_blur_rgb8_scalar / zoom_blur_rgb8_avx2(&src, &mut b, h, w, factors));
                    assert_eq!(a, b, "{h}x{w} {factors:?}");
                }
                let want = zoom_blur_direct(&src, h, w, factors);
                for (i, (&g, &v)) in a.iter().zip(&want).enumerate() {
                    let q = v.clamp(0.0, 255.0).trunc();
                    assert!((g as f64 - q).abs() <= 1.0, "{h}x{w} at {i}: {g} vs {v}");
                    // f32 rounding is ~1e-5 here: only values near an integer may move.
                    if (v - v.round()).abs() > 1e-3 {
                        assert_eq!(g as f64, q, "{h}x{w} at {i}: {g} vs {v}");
                    }
                }
            }
        }
    }

    #[test]
    fn fast_zoom_blur_keeps_flat_images_exact() {
        for v in [0u8, 7, 128, 255] {
            let src = vec![v; 31 * 29 * 3];
            let mut out = vec![0u8; src.len()];
            zoom_blur_rgb8(&src, &mut out, 31, 29, &[1.0, 1.02, 1.17, 1.3]);
            // The last column/row of some zooms is SciPy's cval 0 (see the module docs), so
            // only the interior is exactly flat.
            for y in 0..30 {
                for e in 0..28 * 3 {
                    assert_eq!(out[y * 29 * 3 + e], v);
                }
            }
        }
    }

    const WANT_SHAPE: (usize, usize) = (5, 5);
    #[rustfmt::skip]
    const WANT_BITS: [u32; 75] = [0x0, 0x3ebd70a4, 0x3f3d70a4, 0x3d99999a, 0x3ee3d70a, 0x3f50a3d7, 0x3e19999a, 0x3f051eb8, 0x3f63d70a, 0x3e666667, 0x3f1851ec, 0x3f366666, 0x3e99999a, 0x3f2b851f, 0x3cf5c28f, 0x3e99999a, 0x3f2b851e, 0x3e90a3d7, 0x3ec00000, 0x3f3eb852, 0x3eb70a3d, 0x3ee66667, 0x3f51eb85, 0x3edd70a4, 0x3f066667, 0x3f34a3d7, 0x3ee3851f, 0x3f19999a, 0x3e59999a, 0x3ea8f5c3, 0x3f19999a, 0x3eee147a, 0x3ea8f5c2, 0x3f2ccccd, 0x3f0a3d71, 0x3ecf5c29, 0x3f400000, 0x3f1d70a4, 0x3ef5c290, 0x3f32e148, 0x3f1051ec, 0x3f0e147b, 0x3eca3d70, 0x3e851eb8, 0x3f2147ae, 0x3f25c290, 0x3e851eb8, 0x3f2147ae, 0x3f38f5c2, 0x3eab851f, 0x3f040000, 0x3f4c28f6, 0x3ed1eb85, 0x3f070a3e, 0x3f2ee148, 0x3ef851ec, 0x3f1a3d71, 0x3e428f5c, 0x3f0f5c29, 0x3f2d70a4, 0x3e428f5c, 0x3f0f5c29, 0x3f6e147b, 0x3e87ae14, 0x3f228f5c, 0x3e7d70a4, 0x3eae147a, 0x3f35c290, 0x3d8f5c29, 0x3ed47ae1, 0x3f48f5c2, 0x3e147ae1, 0x3efae148, 0x3f5c28f6, 0x3e6147ae];
}
