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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BoxSpan {
    start: usize,
    len: usize,
    weight: u32,
}

/// BOX weights are 0 or 1 before normalisation, so after Pillow's normalisation every
/// non-zero tap of an output has the same fixed-point weight and the taps are contiguous.
///
/// Computed directly with [`coefficients_at`]'s arithmetic for `Filter::Box` (same bounds,
/// same tap test, weight `(0.5 + 2²²/len)` truncated, as its normalisation of `len` ones
/// gives) without its per-output weight vectors: their allocations cost more than the whole
/// upscale of `pixelate`. A test holds it equal to the spans read off [`coefficients`].
fn box_spans(in_size: usize, out_size: usize) -> Vec<BoxSpan> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = Filter::Box.support() * filterscale;
    let ss = 1.0 / filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale - 0.0;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let mut taps =
                (xmin..xmax).filter(|&x| Filter::Box.weight((x as f64 - center + 0.5) * ss) != 0.0);
            let start = taps.next();
            let len = start.map_or(0, |_| 1 + taps.count());
            let weight = if len == 0 {
                0
            } else {
                (0.5 + (1.0 / len as f64) * (1u32 << PRECISION_BITS) as f64) as i32 as u32
            };
            // box_finish's u32 arithmetic (weight ≈ 2²²/len, so about 255·2²² at most).
            assert!(
                weight as u64 * 255 * len as u64 + (1 << (PRECISION_BITS - 1)) < 1 << 32,
                "BOX weight out of range"
            );
            BoxSpan {
                start: start.unwrap_or(xmin),
                len,
                weight,
            }
        })
        .collect()
}

/// [`box_spans`] read off [`coefficients`] (its definition; the test reference).
#[cfg(test)]
fn box_spans_from_coefficients(in_size: usize, out_size: usize) -> Vec<BoxSpan> {
    coefficients(Filter::Box, in_size, out_size)
        .into_iter()
        .map(|(xmin, k)| {
            let first = k.iter().position(|&v| v != 0).unwrap_or(0);
            let len = k.iter().filter(|&&v| v != 0).count();
            BoxSpan {
                start: xmin + first,
                len,
                weight: k.get(first).copied().unwrap_or(0) as u32,
            }
        })
        .collect()
}

/// `pixelate`'s two resizes in one: Pillow `BOX` of the RGB image `src` (`w × h`) down to
/// `sw × sh`, then `NEAREST` back to `w × h` into `dst`: the same bytes as [`resize`] with
/// [`Filter::Box`] followed by [`nearest_resize`] (tests hold them equal).
///
/// Why a kernel of its own: on a 224² image the reduction is a few thousand vector additions;
/// what cost the time were the per-pixel 3-byte moves around it (the transposes of a generic
/// horizontal pass, the gathers of the upscale, 0.082 → 0.054 ms for pixelate). Here each row
/// is widened once to RGBX with a 16-bit lane per channel (one `u64` per pixel, 4 pixels per
/// shuffle with AVX2); sums of windows of every span length are whole-row vector additions and
/// each span's sum is then one load (lanes cannot carry: [`SWAR_MAX_SPAN`]); the row is rounded
/// 16 values at a time ([`finish_row`]). The reduced image stays RGBX, so the vertical pass is
/// [`box_lines`] over whole rows, and with AVX2 the upscale builds each 16-byte chunk of an
/// output row with one shuffle ([`upscale_shuffles`]).
pub fn box_nearest_rgb(src: &[u8], w: usize, h: usize, sw: usize, sh: usize, dst: &mut [u8]) {
    dispatch!(box_nearest_rgb_scalar / box_nearest_rgb_avx2(src, w, h, sw, sh, dst))
}

/// Longest span whose sum of 8-bit values fits a 16-bit lane (257 · 255 = 65535).
const SWAR_MAX_SPAN: usize = 257;

/// Longest span summed through window sums (each length costs one vector addition per pixel
/// of a row; pixelate's scales need 2 to 5).
const WINDOWS_UP_TO: usize = 8;

/// Scalar twin of [`box_nearest_rgb`].
pub fn box_nearest_rgb_scalar(
    src: &[u8],
    w: usize,
    h: usize,
    sw: usize,
    sh: usize,
    dst: &mut [u8],
) {
    box_nearest_body::<false>(src, w, h, sw, sh, dst)
}

/// AVX2 twin of [`box_nearest_rgb`].
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn box_nearest_rgb_avx2(
    src: &[u8],
    w: usize,
    h: usize,
    sw: usize,
    sh: usize,
    dst: &mut [u8],
) {
    box_nearest_body::<true>(src, w, h, sw, sh, dst)
}

/// The body of both twins; `AVX2` selects the row kernels and is `true` only in
/// [`box_nearest_rgb_avx2`].
#[inline(always)]
fn box_nearest_body<const AVX2: bool>(
    src: &[u8],
    w: usize,
    h: usize,
    sw: usize,
    sh: usize,
    dst: &mut [u8],
) {
    let xspans = box_spans(w, sw);
    let lmax = xspans.iter().map(|s| s.len).max().unwrap_or(0);
    if lmax > SWAR_MAX_SPAN {
        // Only for reductions to under 1/257 of the width; the generic passes, same bytes.
        let small = resize(src, w, h, 3, sw, sh, Filter::Box);
        return nearest_resize(&small, sw, sh, 3, dst, w, h);
    }
    // Reduced rows are RGBX, padded to whole groups of 4 pixels (16 bytes).
    let q = 16 * sw.div_ceil(4);
    let mut wts = Buf::<u32>::take(q);
    wts.fill(0);
    for (wq, sp) in wts.chunks_exact_mut(4).zip(&xspans) {
        wq.fill(sp.weight);
    }
    // Window sums of every length up to lmax, `run[(L - 1)·w + x]` = pixels x..x+L summed,
    // then one zero (the sum of an empty span); span i is `run[at[i]]`. For long spans
    // (reductions below 1/WINDOWS_UP_TO) only the pixels (L = 1) and each span summed alone.
    let windows = lmax <= WINDOWS_UP_TO;
    let lmax = if windows { lmax } else { 1 };
    let mut run = Buf::<u64>::take(lmax * w + 1);
    run[lmax * w] = 0;
    let at: Vec<usize> = xspans
        .iter()
        .map(|s| {
            if s.len == 0 {
                lmax * w
            } else {
                (s.len - 1) * w + s.start
            }
        })
        .collect();
    let mut sums = Buf::<u64>::take(q / 4);
    sums.fill(0);
    let mut hbuf = Buf::<u8>::take(h * q);
    for (y, hrow) in hbuf.chunks_exact_mut(q).enumerate() {
        let rest = &src[y * 3 * w..];
        let (ex, longer) = run.split_at_mut(w);
        widen_row::<AVX2>(rest, ex);
        let mut prev: &[u64] = ex;
        for (l, cur) in (2..=lmax).zip(longer.chunks_exact_mut(w)) {
            let n = w + 1 - l;
            for ((c, &p), &e) in cur[..n].iter_mut().zip(&prev[..n]).zip(&ex[l - 1..]) {
                *c = p + e;
            }
            prev = cur;
        }
        if windows {
            for (s, &i) in sums.iter_mut().zip(&at) {
                *s = run[i];
            }
        } else {
            for (s, sp) in sums.iter_mut().zip(&xspans) {
                *s = run[sp.start..sp.start + sp.len].iter().sum();
            }
        }
        finish_row::<AVX2>(&sums, &wts, hrow);
    }
    let mut small = Buf::<u8>::take(sh * q + 16);
    box_lines(&hbuf, q, &box_spans(h, sh), &mut small[..sh * q]);
    let xs = nearest_indices(sw, w);
    let ys = nearest_indices(sh, h);
    let stride = 3 * w;
    #[cfg(target_arch = "x86_64")]
    let shuffles = if AVX2 {
        upscale_shuffles(&xs)
    } else {
        Vec::new()
    };
    for (y, &sy) in ys.iter().enumerate() {
        if y > 0 && ys[y - 1] == sy {
            let (done, rest) = dst.split_at_mut(y * stride);
            rest[..stride].copy_from_slice(&done[(y - 1) * stride..]);
            continue;
        }
        let srow = &small[sy * q..];
        let drow = &mut dst[y * stride..(y + 1) * stride];
        #[allow(unused_mut)]
        let mut x0 = 0;
        #[cfg(target_arch = "x86_64")]
        if AVX2 && !shuffles.is_empty() {
            // SAFETY: `AVX2` is true only in `box_nearest_rgb_avx2`, whose caller guarantees
            // AVX2.
            x0 = unsafe { upscale_row_avx2(srow, &shuffles, drow) };
        }
        // Four bytes per pixel: the fourth lands on the next pixel's first byte, which that
        // pixel's copy overwrites; the last pixel copies three.
        for (x, &sx) in xs.iter().enumerate().take(w - 1).skip(x0) {
            drow[3 * x..3 * x + 4].copy_from_slice(&srow[4 * sx..4 * sx + 4]);
        }
        let sx = xs[w - 1];
        drow[3 * (w - 1)..].copy_from_slice(&srow[4 * sx..4 * sx + 3]);
    }
}

/// One RGB pixel as four 16-bit lanes `R | G << 16 | B << 32` (the fourth lane 0).
#[inline(always)]
fn widen(px: &[u8]) -> u64 {
    px[0] as u64 | (px[1] as u64) << 16 | (px[2] as u64) << 32
}

/// The first `ex.len()` pixels of `src` [`widen`]ed (with AVX2: 4 pixels per shuffle, as
/// 16-byte loads that may read into the following rows of `src`, never past its end).
#[inline(always)]
fn widen_row<const AVX2: bool>(src: &[u8], ex: &mut [u64]) {
    let w = ex.len();
    assert!(src.len() >= 3 * w);
    let mut x = 0;
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        use std::arch::x86_64::*;
        // SAFETY: `AVX2` is true only in `box_nearest_rgb_avx2`, whose caller guarantees
        // AVX2; bytes 3x..3x+16 are inside `src` and pixels x..x+4 inside `ex` (loop bounds).
        unsafe {
            let m = _mm_setr_epi8(0, 1, 2, -128, 3, 4, 5, -128, 6, 7, 8, -128, 9, 10, 11, -128);
            while x + 4 <= w && 3 * x + 16 <= src.len() {
                let v = _mm_loadu_si128(src.as_ptr().add(3 * x) as *const __m128i);
                let e = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(v, m));
                _mm256_storeu_si256(ex.as_mut_ptr().add(x) as *mut __m256i, e);
                x += 4;
            }
        }
    }
    for (e, px) in ex[x..].iter_mut().zip(src[3 * x..].chunks_exact(3)) {
        *e = widen(px);
    }
}

/// One reduced RGBX row: `box_finish` of each 16-bit lane of `sums` with its weight.
/// `sums` is whole groups of 4 pixels (16 values, `out.len() == wts.len() == 4·sums.len()`).
#[inline(always)]
fn finish_row<const AVX2: bool>(sums: &[u64], wts: &[u32], out: &mut [u8]) {
    assert!(out.len() == 4 * sums.len() && wts.len() == out.len() && sums.len().is_multiple_of(4));
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        use std::arch::x86_64::*;
        // SAFETY: `AVX2` is true only in `box_nearest_rgb_avx2`, whose caller guarantees
        // AVX2; values i..i+16 of out, wts and of sums (as u16) exist (asserted above).
        unsafe {
            let half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
            for i in (0..out.len()).step_by(16) {
                let s = _mm256_loadu_si256(sums.as_ptr().add(i / 4) as *const __m256i);
                let lo = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(s));
                let hi = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(s, 1));
                let wlo = _mm256_loadu_si256(wts.as_ptr().add(i) as *const __m256i);
                let whi = _mm256_loadu_si256(wts.as_ptr().add(i + 8) as *const __m256i);
                let rlo =
                    _mm256_srli_epi32(_mm256_add_epi32(_mm256_mullo_epi32(lo, wlo), half), 22);
                let rhi =
                    _mm256_srli_epi32(_mm256_add_epi32(_mm256_mullo_epi32(hi, whi), half), 22);
                // Saturating packs clamp to 255 (box_finish's min); the permute undoes their
                // lane interleave.
                let p = _mm256_permute4x64_epi64(_mm256_packus_epi32(rlo, rhi), 0xd8);
                let b = _mm_packus_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
                _mm_storeu_si128(out.as_mut_ptr().add(i) as *mut __m128i, b);
            }
        }
        return;
    }
    for ((o, &s), wt) in out.chunks_exact_mut(4).zip(sums).zip(wts.chunks_exact(4)) {
        for c in 0..4 {
            o[c] = box_finish((s >> (16 * c)) as u32 & 0xffff, wt[c]);
        }
    }
}

/// For the AVX2 upscale: per 16-byte chunk of an output row (whole chunks only), the byte
/// offset in the RGBX reduced row and the shuffle gathering the chunk from the 16 bytes
/// there; empty when some chunk needs more than 4 source pixels (upscales by less than
/// about 5/3: pixelate's scales above 0.6, which then take the per-pixel copies).
#[cfg(target_arch = "x86_64")]
fn upscale_shuffles(xs: &[usize]) -> Vec<(usize, [u8; 16])> {
    let mut out = Vec::with_capacity(3 * xs.len() / 16);
    for k in 0..3 * xs.len() / 16 {
        let base = 4 * xs[16 * k / 3];
        let mut m = [0u8; 16];
        for (j, v) in m.iter_mut().enumerate() {
            let b = 16 * k + j;
            let off = 4 * xs[b / 3] + b % 3 - base;
            if off >= 16 {
                return Vec::new();
            }
            *v = off as u8;
        }
        out.push((base, m));
    }
    out
}

/// The whole 16-byte chunks of one upscaled row from `shuffles`; returns the first pixel not
/// completely written. `srow` must extend at least 16 bytes past every chunk's offset.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn upscale_row_avx2(srow: &[u8], shuffles: &[(usize, [u8; 16])], drow: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    assert!(16 * shuffles.len() <= drow.len());
    for (k, (base, m)) in shuffles.iter().enumerate() {
        assert!(base + 16 <= srow.len());
        // SAFETY: source bytes base..base+16 and output bytes 16k..16k+16 are in bounds
        // (asserted).
        let v = _mm_loadu_si128(srow.as_ptr().add(*base) as *const __m128i);
        let s = _mm_shuffle_epi8(v, _mm_loadu_si128(m.as_ptr() as *const __m128i));
        _mm_storeu_si128(drow.as_mut_ptr().add(16 * k) as *mut __m128i, s);
    }
    16 * shuffles.len() / 3
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
    fn box_spans_equal_the_coefficients() {
        for (i, o) in [
            (224, 134),
            (224, 112),
            (224, 89),
            (224, 67),
            (224, 56),
            (97, 58),
        ] {
            assert_eq!(
                box_spans(i, o),
                box_spans_from_coefficients(i, o),
                "{i}->{o}"
            );
        }
        for i in 1..70 {
            for o in 1..=i {
                assert_eq!(
                    box_spans(i, o),
                    box_spans_from_coefficients(i, o),
                    "{i}->{o}"
                );
            }
        }
    }

    /// `box_nearest_rgb` is Pillow's BOX downscale then NEAREST upscale ([`box_resize`] and
    /// [`nearest_resize`]) byte for byte, with both twins at every level this CPU has: the
    /// pixelate scales at 224², odd sizes, no reduction, a 1-pixel result, spans too long for
    /// the 16-bit sums (the generic fallback) or for window sums (summed alone), and upscales
    /// too small for the shuffle path.
    #[test]
    fn box_nearest_equals_box_then_nearest() {
        let mut state = 12345u32;
        for (w, h, ow, oh) in [
            (224, 224, 134, 134),
            (224, 224, 112, 112),
            (224, 224, 89, 89),
            (224, 224, 67, 67),
            (224, 224, 56, 56),
            (97, 61, 58, 36),
            (5, 3, 2, 1),
            (7, 9, 7, 2),
            (224, 224, 179, 179),
            (30, 40, 13, 40),
            (30, 40, 29, 11),
            (640, 480, 160, 120),
            (224, 224, 224, 224),
            (1, 1, 1, 1),
            (300, 2, 1, 1),
            (299, 299, 59, 59),
            (224, 224, 20, 20),
            (97, 61, 5, 3),
        ] {
            let src = lcg_bytes(w * h * 3, &mut state);
            let small = box_resize(&src, w, h, 3, ow, oh);
            let mut want = vec![0u8; w * h * 3];
            nearest_resize(&small, ow, oh, 3, &mut want, w, h);
            let mut got = vec![1u8; w * h * 3];
            box_nearest_rgb(&src, w, h, ow, oh, &mut got);
            assert!(got == want, "{w}x{h} -> {ow}x{oh}");
            for isa in crate::simd::available() {
                let mut got = vec![2u8; w * h * 3];
                dispatch!(at isa; box_nearest_rgb_scalar / box_nearest_rgb_avx2(
                    &src, w, h, ow, oh, &mut got
                ));
                assert!(got == want, "{isa:?} {w}x{h} -> {ow}x{oh}");
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
