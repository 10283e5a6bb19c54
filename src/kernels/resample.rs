//! Pillow-exact resampling: `BOX` (used by `pixelate`, ALGORITHMS.md P9), `BILINEAR` (the ImageNet-C
//! preprocessing `Resize(256)`, ALGORITHMS.md §5.1) and `NEAREST`.
//!
//! `fast_image_resize` and `image` do not reproduce Pillow's filter bounds, 22-bit fixed
//! point coefficients or its nearest-neighbour coordinate accumulation, so these are written
//! here. All work on interleaved 8-bit images with any channel count.

use crate::kernels::scratch::Buf;
use crate::simd::dispatch;

/// Pillow's fixed-point precision for 8-bit resampling (`PRECISION_BITS = 32 - 8 - 2`).
const PRECISION_BITS: u32 = 22;

/// A Pillow resampling filter for [`resize`]: its kernel and support (in source pixels at
/// scale 1; Pillow widens the support by the downscale factor, which is what makes its
/// downscaling antialiased).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// `Image.BOX`: support 0.5, weight 1 on `(-0.5, 0.5]`.
    Box,
    /// `Image.BILINEAR`: support 1, triangle `1 - |x|`.
    Bilinear,
    /// `Image.LANCZOS` (formerly `ANTIALIAS`): support 3, `sinc(x)·sinc(x/3)` on `[-3, 3)`.
    /// Used to prepare style images (ALGORITHMS.md §9.2).
    Lanczos,
    /// `Image.BICUBIC` (Pillow's default for `Image.resize`): support 2, Keys' cubic with
    /// `a = −0.5`. LAION-C's mosaic reads its cell colours from it (ALGORITHMS.md §12.1).
    Bicubic,
}

impl Filter {
    fn support(self) -> f64 {
        match self {
            Filter::Box => 0.5,
            Filter::Bilinear => 1.0,
            Filter::Lanczos => 3.0,
            Filter::Bicubic => 2.0,
        }
    }

    fn weight(self, x: f64) -> f64 {
        match self {
            Filter::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Filter::Bilinear => {
                let x = x.abs();
                if x < 1.0 {
                    1.0 - x
                } else {
                    0.0
                }
            }
            Filter::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
            Filter::Bicubic => {
                // Pillow's `bicubic_filter`
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
        }
    }
}

/// Pillow's `sinc_filter`.
fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * std::f64::consts::PI;
        x.sin() / x
    }
}

/// Per output index: first source index and fixed-point weights (Pillow `precompute_coeffs`,
/// then `normalize_coeffs_8bpc`).
fn coefficients(filter: Filter, in_size: usize, out_size: usize) -> Vec<(usize, Vec<i32>)> {
    coefficients_at(
        filter,
        in_size,
        out_size,
        in_size as f64 / out_size as f64,
        0.0,
    )
}

/// [`coefficients`] for `out_size` samples spaced `scale` source pixels apart, the first
/// centred at `0.5·scale − shift` (Pillow's placement is `shift = 0`, `scale = in/out`); the
/// filter window is clipped to the image and the weights renormalised, as Pillow does at the
/// borders.
fn coefficients_at(
    filter: Filter,
    in_size: usize,
    out_size: usize,
    scale: f64,
    shift: f64,
) -> Vec<(usize, Vec<i32>)> {
    let filterscale = scale.max(1.0);
    let support = filter.support() * filterscale;
    let ss = 1.0 / filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale - shift;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let w: Vec<f64> = (xmin..xmax)
                .map(|x| filter.weight((x as f64 - center + 0.5) * ss))
                .collect();
            let ww: f64 = w.iter().sum();
            let k = w
                .iter()
                .map(|&v| {
                    let v = if ww != 0.0 { v / ww } else { v };
                    let f = v * (1u32 << PRECISION_BITS) as f64;
                    if f < 0.0 {
                        (-0.5 + f) as i32
                    } else {
                        (0.5 + f) as i32
                    }
                })
                .collect();
            (xmin, k)
        })
        .collect()
}

#[inline(always)]
fn clip8(v: i64) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

#[cfg(test)]
/// Pillow `Image.resize((out_w, out_h), Image.BOX)`; see [`resize`].
pub fn box_resize(
    src: &[u8],
    w: usize,
    h: usize,
    ch: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<u8> {
    resize(src, w, h, ch, out_w, out_h, Filter::Box)
}

/// Pillow `Image.resize((out_w, out_h), filter)` (no `reducing_gap`): horizontal pass
/// (rounded to 8 bit), then vertical pass. A pass whose size does not change is skipped, as
/// in Pillow.
pub fn resize(
    src: &[u8],
    w: usize,
    h: usize,
    ch: usize,
    out_w: usize,
    out_h: usize,
    filter: Filter,
) -> Vec<u8> {
    let cx = (out_w != w).then(|| coefficients(filter, w, out_w));
    let cy = (out_h != h).then(|| coefficients(filter, h, out_h));
    two_pass(src, w, h, ch, cx.as_deref(), cy.as_deref())
}

/// One resampled value per `t×t` cell of a grid laid over the image with its first cell
/// starting `(ox, oy)` pixels before pixel 0 (`cols × rows` cells): Pillow's
/// `Image.resize((w/t, h/t), filter)` when `t` divides the sizes and the offsets are 0, and
/// otherwise the same sampling (centres `t` apart, window clipped at the borders) for a grid
/// that overhangs the image.
#[allow(clippy::too_many_arguments)]
pub fn resize_cells(
    src: &[u8],
    (w, h): (usize, usize),
    ch: usize,
    t: usize,
    (ox, oy): (usize, usize),
    (cols, rows): (usize, usize),
    filter: Filter,
) -> Vec<u8> {
    let cx = coefficients_at(filter, w, cols, t as f64, ox as f64);
    let cy = coefficients_at(filter, h, rows, t as f64, oy as f64);
    two_pass(src, w, h, ch, Some(&cx), Some(&cy))
}

/// Pillow's two passes: horizontal (rounded to 8 bit), then vertical; a pass without
/// coefficients is skipped.
fn two_pass(
    src: &[u8],
    w: usize,
    h: usize,
    ch: usize,
    cx: Option<&[(usize, Vec<i32>)]>,
    cy: Option<&[(usize, Vec<i32>)]>,
) -> Vec<u8> {
    let out_w = cx.map_or(w, |c| c.len());
    let horiz = if let Some(coeffs) = cx {
        let mut tmp = vec![0u8; h * out_w * ch];
        for y in 0..h {
            let row = &src[y * w * ch..(y + 1) * w * ch];
            let out = &mut tmp[y * out_w * ch..(y + 1) * out_w * ch];
            for (x, (xmin, k)) in coeffs.iter().enumerate() {
                for c in 0..ch {
                    let mut ss: i64 = 1 << (PRECISION_BITS - 1);
                    for (j, &kj) in k.iter().enumerate() {
                        ss += row[(xmin + j) * ch + c] as i64 * kj as i64;
                    }
                    out[x * ch + c] = clip8(ss);
                }
            }
        }
        tmp
    } else {
        src.to_vec()
    };
    let Some(coeffs) = cy else {
        return horiz;
    };
    let out_h = coeffs.len();
    let stride = out_w * ch;
    let mut out = vec![0u8; out_h * stride];
    for (y, (ymin, k)) in coeffs.iter().enumerate() {
        let o = &mut out[y * stride..(y + 1) * stride];
        for (i, px) in o.iter_mut().enumerate() {
            let mut ss: i64 = 1 << (PRECISION_BITS - 1);
            for (j, &kj) in k.iter().enumerate() {
                ss += horiz[(ymin + j) * stride + i] as i64 * kj as i64;
            }
            *px = clip8(ss);
        }
    }
    out
}

/// Source indices of Pillow's NEAREST resize along one axis: `ImagingScaleAffine` starts at
/// `0.5·scale` and *accumulates* `scale` per output index, then truncates.
fn nearest_indices(in_size: usize, out_size: usize) -> Vec<usize> {
    let scale = in_size as f64 / out_size as f64;
    let mut pos = scale * 0.5;
    (0..out_size)
        .map(|_| {
            let i = (pos as usize).min(in_size - 1);
            pos += scale;
            i
        })
        .collect()
}

/// Pillow `Image.resize((out_w, out_h), Image.NEAREST)` into `dst`.
///
/// Consecutive output rows that map to the same source row are copied from the previous
/// output row instead of being gathered again (the common case when upscaling).
pub fn nearest_resize(
    src: &[u8],
    w: usize,
    h: usize,
    ch: usize,
    dst: &mut [u8],
    out_w: usize,
    out_h: usize,
) {
    let xs = nearest_indices(w, out_w);
    let ys = nearest_indices(h, out_h);
    let stride = out_w * ch;
    for (y, &sy) in ys.iter().enumerate() {
        if y > 0 && ys[y - 1] == sy {
            let (done, rest) = dst.split_at_mut(y * stride);
            rest[..stride].copy_from_slice(&done[(y - 1) * stride..]);
            continue;
        }
        let srow = &src[sy * w * ch..(sy + 1) * w * ch];
        let drow = &mut dst[y * stride..(y + 1) * stride];
        if ch == 3 {
            for (d, &sx) in drow.chunks_exact_mut(3).zip(&xs) {
                d.copy_from_slice(&srow[sx * 3..sx * 3 + 3]);
            }
        } else {
            for (d, &sx) in drow.chunks_exact_mut(ch).zip(&xs) {
                d.copy_from_slice(&srow[sx * ch..(sx + 1) * ch]);
            }
        }
    }
}

/// One output index of a BOX reduction: the contiguous source span with non-zero weight and
/// its (shared) fixed-point weight.
#[derive(Clone, Copy, Debug)]
struct BoxSpan {
    start: usize,
    len: usize,
    weight: u32,
}

/// BOX weights are 0 or 1 before normalisation, so after Pillow's normalisation every
/// non-zero tap of an output has the same fixed-point weight and the taps are contiguous.
fn box_spans(in_size: usize, out_size: usize) -> Vec<BoxSpan> {
    coefficients(Filter::Box, in_size, out_size)
        .into_iter()
        .map(|(xmin, k)| {
            let first = k.iter().position(|&v| v != 0).unwrap_or(0);
            let len = k.iter().filter(|&&v| v != 0).count();
            debug_assert!(k[first..first + len].iter().all(|&v| v == k[first]));
            let weight = k.get(first).copied().unwrap_or(0) as u32;
            // box_finish's u32 arithmetic (weight ≈ 2²²/len, so about 255·2²² at most).
            assert!(
                weight as u64 * 255 * len as u64 + (1 << (PRECISION_BITS - 1)) < 1 << 32,
                "BOX weight out of range"
            );
            BoxSpan {
                start: xmin + first,
                len,
                weight,
            }
        })
        .collect()
}

dispatch! {
    /// [`box_resize`] computed as `(2²¹ + w·Σ src) >> 22` over each span: the same integers as
    /// Pillow's per-tap sum (all taps share `w`), with far fewer multiplications. `box_resize`
    /// is kept as its plain twin, and tests hold the two equal.
    ///
    /// Spans of one and two taps (every span of a reduction to more than half the size, e.g.
    /// pixelate's severities 1–2, and most of the others) take straight-line paths, and the
    /// vertical pass works on whole rows in u32 (no accumulator row), so it vectorises: the
    /// generic per-span loops spent most of their instructions on loop control.
    pub fn box_resize_fast / box_resize_fast_scalar / box_resize_fast_avx2 (
        src: &[u8],
        w: usize,
        h: usize,
        ch: usize,
        out_w: usize,
        out_h: usize,
    ) -> Vec<u8> {
        let mut pass1 = None;
        let horiz: &[u8] = if out_w != w {
            // The horizontal pass runs on the transposed image: source column x becomes the
            // contiguous line t[x], so each output column is a sum of whole lines, the same
            // vectorised loop as the vertical pass, instead of a short scalar sum per output
            // value; the two transposes cost less than what they save.
            let col = h * ch;
            // Pooled, not zeroed: every value of t, u and tmp is written below.
            let mut t = Buf::<u8>::take(w * col);
            for (y, row) in src.chunks_exact(w * ch).take(h).enumerate() {
                for (x, px) in row.chunks_exact(ch).enumerate() {
                    let o = x * col + y * ch;
                    if ch == 3 {
                        // Three moves, not a memcpy call per pixel.
                        t[o..o + 3].copy_from_slice(&[px[0], px[1], px[2]]);
                    } else {
                        t[o..o + ch].copy_from_slice(px);
                    }
                }
            }
            let mut u = Buf::<u8>::take(out_w * col);
            box_lines(&t, col, &box_spans(w, out_w), &mut u);
            let mut tmp = Buf::<u8>::take(h * out_w * ch);
            for (y, row) in tmp.chunks_exact_mut(out_w * ch).enumerate() {
                for (x, px) in row.chunks_exact_mut(ch).enumerate() {
                    let o = x * col + y * ch;
                    if ch == 3 {
                        let v = &u[o..o + 3];
                        px.copy_from_slice(&[v[0], v[1], v[2]]);
                    } else {
                        px.copy_from_slice(&u[o..o + ch]);
                    }
                }
            }
            &pass1.insert(tmp)[..]
        } else {
            &src[..h * w * ch]
        };
        if out_h == h {
            return horiz.to_vec();
        }
        let stride = out_w * ch;
        let mut out = vec![0u8; out_h * stride];
        box_lines(horiz, stride, &box_spans(h, out_h), &mut out);
        out
    }
}

/// One BOX pass over lines of `len` values: output line `i` (of `out`) is
/// `box_finish(Σ lines of span i, weight)`, value by value. Spans of one and two lines are
/// straight loops; longer ones sum in blocks of 64 values kept in registers.
#[inline(always)]
fn box_lines(lines: &[u8], len: usize, spans: &[BoxSpan], out: &mut [u8]) {
    for (sp, o) in spans.iter().zip(out.chunks_exact_mut(len)) {
        let rows = &lines[sp.start * len..(sp.start + sp.len) * len];
        let wt = sp.weight;
        match sp.len {
            1 => o
                .iter_mut()
                .zip(rows)
                .for_each(|(d, &a)| *d = box_finish(a as u32, wt)),
            2 => {
                let (a, b) = rows.split_at(len);
                for ((d, &x), &y) in o.iter_mut().zip(a).zip(b) {
                    *d = box_finish(x as u32 + y as u32, wt);
                }
            }
            _ => {
                for (j0, d) in (0..len).step_by(64).zip(o.chunks_mut(64)) {
                    let mut acc = [0u32; 64];
                    for row in rows.chunks_exact(len) {
                        for (a, &v) in acc.iter_mut().zip(&row[j0..j0 + d.len()]) {
                            *a += v as u32;
                        }
                    }
                    for (x, &a) in d.iter_mut().zip(&acc) {
                        *x = box_finish(a, wt);
                    }
                }
            }
        }
    }
}

/// `(2²¹ + weight·sum) >> 22`, clamped to 255: one BOX output from the sum of its span. u32
/// cannot overflow: [`box_spans`] checks `weight·255·len + 2²¹ < 2³²` for every span.
#[inline(always)]
fn box_finish(sum: u32, weight: u32) -> u8 {
    (((1u32 << (PRECISION_BITS - 1)) + weight * sum) >> PRECISION_BITS).min(255) as u8
}

/// [`resize`] to `out_w × out_h`, then the `crop_w × crop_h` window at (`left`, `top`) of the
/// result, computing only the window: the rows of the horizontal pass that the window's rows
/// read and the window's columns. Every output pixel depends only on its own coefficients, so
/// the bytes are exactly those of the full resize cut to the window (Pillow's crop after
/// resize), for less work: ImageNet's `Resize(256)` + `CenterCrop(224)` keeps 224 of the 256+
/// columns and rows. Sums are in `i32`, as Pillow's (`INT32 ss`): its 22-bit weights times 255
/// fit for every filter here.
///
/// # Panics
/// If the window is not inside `out_w × out_h`.
#[allow(clippy::too_many_arguments)]
pub fn resize_crop(
    src: &[u8],
    (w, h, ch): (usize, usize, usize),
    (out_w, out_h): (usize, usize),
    filter: Filter,
    (left, top, crop_w, crop_h): (usize, usize, usize, usize),
) -> Vec<u8> {
    assert!(
        left + crop_w <= out_w && top + crop_h <= out_h,
        "crop window outside the resized image"
    );
    let vert = (out_h != h).then(|| coefficients(filter, h, out_h));
    // Source rows read by the window's rows (all of them when the height does not change).
    let (r0, r1) = match &vert {
        Some(c) => c[top..top + crop_h]
            .iter()
            .fold((usize::MAX, 0), |(a, b), (m, k)| {
                (a.min(*m), b.max(m + k.len()))
            }),
        None => (top, top + crop_h),
    };
    let stride = crop_w * ch;
    let mut horiz = vec![0u8; (r1 - r0) * stride];
    if out_w != w {
        let coeffs = coefficients(filter, w, out_w);
        let window = &coeffs[left..left + crop_w];
        for (y, out) in (r0..r1).zip(horiz.chunks_exact_mut(stride)) {
            let row = &src[y * w * ch..(y + 1) * w * ch];
            match ch {
                3 => horizontal_row::<3>(row, window, out),
                4 => horizontal_row::<4>(row, window, out),
                1 => horizontal_row::<1>(row, window, out),
                _ => horizontal_row_any(row, ch, window, out),
            }
        }
    } else {
        for (y, out) in (r0..r1).zip(horiz.chunks_exact_mut(stride)) {
            out.copy_from_slice(&src[(y * w + left) * ch..(y * w + left + crop_w) * ch]);
        }
    }
    let Some(vert) = vert else {
        return horiz;
    };
    let mut out = vec![0u8; crop_h * stride];
    let mut acc = vec![0i32; stride];
    for ((ymin, k), o) in vert[top..top + crop_h]
        .iter()
        .zip(out.chunks_exact_mut(stride))
    {
        acc.fill(1 << (PRECISION_BITS - 1));
        for (j, &kj) in k.iter().enumerate() {
            let line = &horiz[(ymin + j - r0) * stride..(ymin + j - r0 + 1) * stride];
            for (a, &v) in acc.iter_mut().zip(line) {
                *a += i32::from(v) * kj;
            }
        }
        for (px, &a) in o.iter_mut().zip(&acc) {
            *px = (a >> PRECISION_BITS).clamp(0, 255) as u8;
        }
    }
    out
}

/// One row of the horizontal pass of [`resize_crop`] for `C` interleaved channels.
fn horizontal_row<const C: usize>(row: &[u8], coeffs: &[(usize, Vec<i32>)], out: &mut [u8]) {
    for ((xmin, k), o) in coeffs.iter().zip(out.chunks_exact_mut(C)) {
        let taps = &row[xmin * C..(xmin + k.len()) * C];
        let mut ss = [1i32 << (PRECISION_BITS - 1); C];
        for (px, &kj) in taps.chunks_exact(C).zip(k) {
            for c in 0..C {
                ss[c] += i32::from(px[c]) * kj;
            }
        }
        for c in 0..C {
            o[c] = (ss[c] >> PRECISION_BITS).clamp(0, 255) as u8;
        }
    }
}

/// [`horizontal_row`] for any channel count.
fn horizontal_row_any(row: &[u8], ch: usize, coeffs: &[(usize, Vec<i32>)], out: &mut [u8]) {
    for ((xmin, k), o) in coeffs.iter().zip(out.chunks_exact_mut(ch)) {
        for (c, o) in o.iter_mut().enumerate() {
            let mut ss = 1i32 << (PRECISION_BITS - 1);
            for (j, &kj) in k.iter().enumerate() {
                ss += i32::from(row[(xmin + j) * ch + c]) * kj;
            }
            *o = (ss >> PRECISION_BITS).clamp(0, 255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_weights_sum_to_one_in_fixed_point() {
        for (i, o) in [(224, 134), (97, 58), (10, 3), (5, 5), (7, 1)] {
            for (_, k) in coefficients(Filter::Box, i, o)
                .into_iter()
                .chain(coefficients(Filter::Bilinear, i, o))
            {
                let s: i32 = k.iter().sum();
                assert!(
                    (s - (1 << PRECISION_BITS)).abs() <= k.len() as i32,
                    "{i}->{o}: {s}"
                );
            }
        }
    }

    #[test]
    fn lanczos_matches_pillow() {
        // Pillow 13.0.0 `Image.fromarray(a).resize(size, Image.LANCZOS)` of this 11×7 grey
        // pattern (computed with the reference environment, not by this crate).
        let a: Vec<u8> = (0..7usize)
            .flat_map(|y| (0..11usize).map(move |x| ((x * 37 + y * 91 + (x * y) % 13) % 256) as u8))
            .collect();
        assert_eq!(
            resize(&a, 11, 7, 1, 4, 3, Filter::Lanczos),
            [92, 145, 114, 111, 121, 117, 140, 124, 127, 124, 123, 128]
        );
        let up = resize(&a, 11, 7, 1, 15, 9, Filter::Lanczos);
        assert_eq!(
            &up[..20],
            &[
                0, 15, 45, 67, 95, 119, 150, 197, 255, 126, 0, 29, 58, 86, 106, 44, 59, 107, 157,
                181
            ]
        );
        assert_eq!(
            &up[120..],
            &[20, 40, 89, 132, 155, 172, 223, 226, 50, 0, 41, 68, 103, 145, 167]
        );
    }

    #[test]
    fn box_downscale_by_two_averages_pairs() {
        // 4x1 grey → 2x1: (10+20)/2 = 15, (30+41)/2 = 35.5 → rounds half up to 36
        let out = box_resize(&[10, 20, 30, 41], 4, 1, 1, 2, 1);
        assert_eq!(out, vec![15, 36]);
    }

    #[test]
    fn bilinear_identity_and_midpoint() {
        // Same size: untouched. 2x1 → 1x1 downscale by 2: support 2 around centre 1.0, the
        // triangle gives both source pixels weight 0.5 → (10+21)/2 = 15.5 → 16.
        assert_eq!(
            resize(&[10, 21], 2, 1, 1, 2, 1, Filter::Bilinear),
            vec![10, 21]
        );
        assert_eq!(resize(&[10, 21], 2, 1, 1, 1, 1, Filter::Bilinear), vec![16]);
    }

    /// `n` pseudo-random bytes (a 32-bit LCG's top byte) for the equality tests.
    fn lcg_bytes(n: usize, state: &mut u32) -> Vec<u8> {
        (0..n)
            .map(|_| {
                *state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                (*state >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn fast_box_equals_plain_box() {
        let mut state = 12345u32;
        for (w, h, ch, ow, oh) in [
            (224, 224, 3, 134, 134),
            (97, 61, 3, 58, 36),
            (640, 480, 3, 160, 120),
            (5, 3, 1, 2, 1),
            (33, 17, 4, 9, 17),
            (7, 9, 3, 7, 2),
            (224, 224, 3, 56, 56),
            (224, 224, 3, 179, 179),
            (30, 40, 3, 13, 40),
            (30, 40, 1, 29, 11),
        ] {
            let src = lcg_bytes(w * h * ch, &mut state);
            let want = box_resize(&src, w, h, ch, ow, oh);
            assert_eq!(
                box_resize_fast(&src, w, h, ch, ow, oh),
                want,
                "{w}x{h}x{ch} -> {ow}x{oh}"
            );
            // Both twins of the dispatched kernel, at every level this CPU has.
            for isa in crate::simd::available() {
                let got = dispatch!(at isa; box_resize_fast_scalar / box_resize_fast_avx2(
                    &src, w, h, ch, ow, oh
                ));
                assert_eq!(got, want, "{isa:?} {w}x{h}x{ch} -> {ow}x{oh}");
            }
        }
    }

    /// The window of `resize_crop` is the crop of the full `resize`, for every filter, channel
    /// count, up/downscale on either axis and windows touching the edges.
    #[test]
    fn nearest_upscale_repeats_pixels() {
        let mut dst = vec![0u8; 6];
        nearest_resize(&[1, 2, 3], 3, 1, 1, &mut dst, 6, 1);
        assert_eq!(dst, vec![1, 1, 2, 2, 3, 3]);
    }

    /// The window of a full resize, computed alone, is byte for byte the full resize cut to
    /// the window: both directions shrinking, growing or unchanged, every filter, 1–4 and 5
    /// channels, windows at the corners and in the middle (the ImageNet centre crop).
    #[test]
    fn resize_crop_equals_resize_then_crop() {
        let mut state = 777u32;
        let cases = [
            (1282, 961, 3, 341, 256),
            (451, 800, 3, 256, 454),
            (300, 300, 3, 256, 256),
            (40, 30, 1, 70, 25),
            (33, 17, 4, 33, 9),
            (19, 23, 5, 7, 23),
            (224, 224, 3, 224, 224),
        ];
        for (w, h, ch, ow, oh) in cases {
            let src = lcg_bytes(w * h * ch, &mut state);
            for filter in [Filter::Bilinear, Filter::Box, Filter::Lanczos] {
                let full = resize(&src, w, h, ch, ow, oh, filter);
                let (cw, chh) = (ow.clamp(1, 224) * 2 / 3 + 1, oh.clamp(1, 224) * 2 / 3 + 1);
                let (cw, chh) = (cw.min(ow), chh.min(oh));
                for (left, top) in [(0, 0), (ow - cw, oh - chh), ((ow - cw) / 2, (oh - chh) / 2)] {
                    let mut want = Vec::new();
                    for y in top..top + chh {
                        want.extend_from_slice(
                            &full[(y * ow + left) * ch..(y * ow + left + cw) * ch],
                        );
                    }
                    let got = resize_crop(&src, (w, h, ch), (ow, oh), filter, (left, top, cw, chh));
                    assert!(
                        got == want,
                        "{w}x{h}x{ch} -> {ow}x{oh} {filter:?} window {left},{top} {cw}x{chh}"
                    );
                }
            }
        }
    }
}
