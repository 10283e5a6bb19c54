//! Fast-mode blur kernels (not bit-exact with the reference; same statistics): the disk blur of
//! defocus_blur on RGB8 images, in integer and f32 arithmetic, and elastic_transform's f32
//! helpers. (gaussian_blur's separable Gaussian is [`crate::kernels::fastgauss`].)
//!
//! * [`disk_blur_rgb8`]: the anti-aliased disk `K = G ⊛ D` of ALGORITHMS.md P2 is applied as `D` then
//!   `G`. `D ⊛ x` is exact integer arithmetic: for each column offset `dx` the binary disk covers
//!   the rows `|dy| ≤ h_dx`, so with u16 column prefix sums `V` of the reflect-101 padded image
//!   (wrapping: a difference is exact while the span fits 16 bits) one output is the sum over
//!   the `2r + 1` column offsets of `V[y + h_dx + 1] − V[y − h_dx]`. Those differences are
//!   formed once per output row and distinct half-height (7 rows for radius 10) and then read
//!   once per column offset; sums of up to `chunk` spans stay in u16, then widen into u32. The
//!   small Gaussian `G` (3 or 5 taps) then runs separably in f32 with reflect-101 borders and
//!   one scale factor `ΣK / |D|` (so the brightening of ALGORITHMS.md Quirk 5 survives), or is
//!   skipped when it is the identity in f32 (σ = 0.1; bit-identical, see
//!   `gaussian_is_identity`). Deviation from the exact `K` correlation: `K` is `G ⊛ D`
//!   clipped to the kernel grid with reflect-101 borders of the *kernel*, which `G ⊛ D` is
//!   not, and the image border is reflected twice; the effect is a few tenths of a grey level.
//! * [`smooth_plane_f32`] and [`remap_reflect_f32`]: elastic_transform's field smoothing
//!   (SciPy `mode='reflect'`) and bilinear sampling in f32.
//!
//! The blur output is `trunc(clip(v, 0, 255))`. The disk blur's AVX2 twin uses hand-written
//! row kernels (module `avx`); the other loops are plain scalar Rust compiled twice (portable
//! twin and an AVX2 build that the compiler vectorises, 8 lanes). No fused multiply-add is
//! used, so the twins are bit-identical (tested).

use crate::kernels::filter2d::reflect101;
use crate::kernels::quantise::q255_f32 as q255;
use crate::kernels::scratch::Buf;
use crate::simd::dispatch;

/// Register block (elements) of the inner loops: 4 AVX2 vectors of 32-bit lanes.
const BLOCK: usize = 32;

/// Register block (u16 elements) of the disk span loop: 4 AVX2 vectors.
const SB: usize = 64;

/// Half-widths `w_dy` (for `dy = 0 ..= r`) of the binary disk `x² + y² ≤ r²`, and its pixel
/// count.
pub fn disk_spans(r: usize) -> (Vec<usize>, usize) {
    let r2 = (r * r) as i64;
    let spans: Vec<usize> = (0..=r as i64)
        .map(|dy| {
            let mut w = 0i64;
            while (w + 1) * (w + 1) + dy * dy <= r2 {
                w += 1;
            }
            w as usize
        })
        .collect();
    let count = spans[0] * 2 + 1 + spans[1..].iter().map(|&w| 2 * (2 * w + 1)).sum::<usize>();
    (spans, count)
}

/// Fast defocus blur of an interleaved RGB8 `h × w` image: binary disk of radius `r` (exact,
/// integer), then the separable small Gaussian `g` (odd length, reflect-101), then `· scale`.
/// `scale` is `ΣK / |D|` for the reference kernel `K` (see the module docs).
///
/// Dispatched at run time: the AVX2 twin runs the same row loop with hand-written AVX2 row
/// kernels (the compiler's vectorisation of the span loop spent two thirds of its instructions
/// on addressing and bounds checks); both perform the same f32 operations per value in the same
/// order, no fused multiply-add, so they are bit-identical (tested).
#[allow(clippy::too_many_arguments)]
pub fn disk_blur_rgb8(
    src: &[u8],
    dst: &mut [u8],
    h: usize,
    w: usize,
    r: usize,
    g: &[f32],
    scale: f32,
) {
    dispatch!(disk_blur_rgb8_scalar / disk_blur_rgb8_avx2(src, dst, h, w, r, g, scale))
}

/// Scalar twin of [`disk_blur_rgb8`].
pub fn disk_blur_rgb8_scalar(
    src: &[u8],
    dst: &mut [u8],
    h: usize,
    w: usize,
    r: usize,
    g: &[f32],
    scale: f32,
) {
    // SAFETY: `AVX = false` calls no AVX2 code.
    unsafe { disk_body::<false>(src, dst, h, w, r, g, scale) }
}

/// AVX2 twin of [`disk_blur_rgb8`].
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn disk_blur_rgb8_avx2(
    src: &[u8],
    dst: &mut [u8],
    h: usize,
    w: usize,
    r: usize,
    g: &[f32],
    scale: f32,
) {
    // SAFETY: the caller guarantees AVX2 and FMA.
    unsafe { disk_body::<true>(src, dst, h, w, r, g, scale) }
}

/// Whether the Gaussian `g` leaves every f32 value of the blur unchanged: centre tap exactly 1
/// and side taps so small (σ = 0.1 gives 2·10⁻²² at most) that their contribution stays below
/// half an ulp of the smallest non-zero value, `scale` (a disk sum is an integer ≤ 255·|D| < 2²⁴·…):
/// the skip is then bit-identical to applying `g`, and saves its two passes (severity 1).
fn gaussian_is_identity(g: &[f32]) -> bool {
    let m = g.len() / 2;
    g[m] == 1.0
        && g.iter()
            .enumerate()
            .all(|(i, &v)| i == m || v.abs() < 1e-16)
}

/// The row loop of [`disk_blur_rgb8`], with scalar (`AVX = false`) or AVX2 row kernels.
///
/// # Safety
/// With `AVX = true` the CPU must support AVX2 and FMA.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn disk_body<const AVX: bool>(
    src: &[u8],
    dst: &mut [u8],
    h: usize,
    w: usize,
    r: usize,
    g: &[f32],
    scale: f32,
) {
    const C: usize = 3;
    assert!(src.len() >= h * w * C && dst.len() >= h * w * C && g.len() % 2 == 1);
    let row_len = w * C;
    let (spans, _) = disk_spans(r);
    // Column prefix sums over the reflect-101 padded image (r pixels / rows each side):
    // V[0] = 0, V[q+1] = V[q] + padded row q (u16, wrapping), each row `(w + 2r)·C` wide plus
    // SB spare elements. Output row y needs V[y ..= y + 2r + 1]: a ring of 2r + 2 rows.
    // Wrapping u16 is exact for a column span (at most (2r+1)·255 < 2¹⁶ for r ≤ 127) and for
    // sums of up to `chunk` spans; chunks are then widened into u32 accumulators.
    assert!(r <= 127, "disk radius above 127");
    let chunk = (65535 / ((2 * r + 1) * 255)).max(1);
    let prow = (w + 2 * r) * C;
    let vstride = prow + SB + 16;
    let nring = 2 * r + 2;
    // Only V[0] needs zeros; the rest of every buffer here is written before it is read
    // (stale pooled values reach only lanes beyond `row_len`, which are never stored).
    let mut vring = Buf::<u16>::take(nring * vstride);
    vring[..vstride].fill(0);
    let mut v_have = 1usize; // V[0] (zeros) is in the ring
                             // One reflect-101 padded source row (u8), with spare bytes for whole vector loads.
    let mut padded = Buf::<u8>::take(prow + 32);
    // (padded byte, source byte) of the 2r reflected border pixels of a padded row.
    let border: Vec<(usize, usize)> = (0..r)
        .chain(w + r..w + 2 * r)
        .flat_map(|p| {
            let sx = reflect101(p as isize - r as isize, w);
            (0..C).map(move |ch| (p * C + ch, sx * C + ch))
        })
        .collect();
    let identity = gaussian_is_identity(g);
    // Disk sums (f32) of the rows y−m ..= y+m needed by the Gaussian, ring of 2m+1 rows.
    let m = g.len() / 2;
    let sring = if identity { 1 } else { 2 * m + 1 };
    let sstride = row_len + SB;
    let mut srows = Buf::<f32>::take(sring * sstride);
    let mut s_have = 0usize;
    // One vertically filtered row, reflect-101 padded by m pixels for the horizontal pass.
    let tstride = (w + 2 * m) * C + 2 * BLOCK;
    let mut t = Buf::<f32>::take(tstride);
    let tcols: Vec<usize> = (0..w + 2 * m)
        .map(|p| reflect101(p as isize - m as isize, w))
        .collect();
    let gs: Vec<f32> = g.iter().map(|&v| v * scale).collect();
    // For each column offset dx ∈ [−r, r] the disk covers rows |dy| ≤ spans[|dx|]. The column
    // spans of one output row, `V[k+r+h+1] − V[k+r−h]`, are formed once per distinct half-height
    // h (7 for radius 10, against 21 columns) into `wbuf`, so each column tap is then one
    // read of an L1-resident row instead of two reads of the larger prefix ring.
    let mut levels: Vec<usize> = spans.clone();
    levels.sort_unstable();
    levels.dedup();
    let nb = row_len.div_ceil(SB);
    let wstride = (2 * r * C + nb * SB).next_multiple_of(16);
    let mut wbuf = Buf::<u16>::take(levels.len() * wstride);
    // Column taps of one output row: level row base + column offset.
    let taps: Vec<usize> = (0..=2 * r)
        .map(|dx| {
            let l = levels.binary_search(&spans[dx.abs_diff(r)]).unwrap();
            l * wstride + dx * C
        })
        .collect();
    let mut lrows: Vec<(usize, usize)> = Vec::with_capacity(levels.len());
    // Every level row is read within its ring rows (wstride ≤ vstride), and every tap block
    // within its level row: column offset (≤ 2r·C) + whole blocks (≤ nb·SB) ≤ wstride.
    assert!(wstride <= vstride && vring.len() == nring * vstride);
    for y in 0..h {
        let need_s = if identity { y } else { (y + m).min(h - 1) };
        while s_have <= need_s {
            let k = s_have;
            while v_have <= k + 2 * r + 1 {
                let q = v_have - 1; // padded row q = source row reflect101(q − r)
                let sy = reflect101(q as isize - r as isize, h);
                let s = &src[sy * row_len..(sy + 1) * row_len];
                padded[r * C..r * C + row_len].copy_from_slice(s);
                for &(p, sx) in &border {
                    padded[p] = s[sx];
                }
                let (prev, cur) = ((q % nring) * vstride, (v_have % nring) * vstride);
                // Split the ring so the previous row can be read while the new one is written.
                let (lo, hi) = vring.split_at_mut(prev.max(cur));
                let (pv, cv): (&[u16], &mut [u16]) = if prev < cur {
                    (&lo[prev..prev + prow], &mut hi[..prow])
                } else {
                    (&hi[..prow], &mut lo[cur..cur + prow])
                };
                #[cfg(target_arch = "x86_64")]
                if AVX {
                    avx::prefix_row(cv, pv, &padded[..prow]);
                } else {
                    prefix_row(cv, pv, &padded[..prow]);
                }
                #[cfg(not(target_arch = "x86_64"))]
                prefix_row(cv, pv, &padded[..prow]);
                v_have += 1;
            }
            let k0 = k % nring;
            let ring = |i: usize| (if i >= nring { i - nring } else { i }) * vstride;
            lrows.clear();
            // (k + r ± h) mod nring, all terms below 2·nring
            lrows.extend(
                levels
                    .iter()
                    .map(|&hd| (ring(k0 + r + hd + 1), ring(k0 + r - hd))),
            );
            #[cfg(target_arch = "x86_64")]
            if AVX {
                avx::level_rows(&vring, &lrows, &mut wbuf, wstride);
            } else {
                level_rows(&vring, &lrows, &mut wbuf, wstride);
            }
            #[cfg(not(target_arch = "x86_64"))]
            level_rows(&vring, &lrows, &mut wbuf, wstride);
            if identity {
                // out = q255(S · (g[m]·scale)), g[m] = 1: the Gaussian's passes are skipped.
                let out = &mut dst[k * row_len..(k + 1) * row_len];
                #[cfg(target_arch = "x86_64")]
                if AVX {
                    avx::disk_row(&wbuf, &taps, chunk, row_len, Out::Bytes(out, gs[m]));
                } else {
                    disk_row(&wbuf, &taps, chunk, nb, Out::Bytes(out, gs[m]));
                }
                #[cfg(not(target_arch = "x86_64"))]
                disk_row(&wbuf, &taps, chunk, nb, Out::Bytes(out, gs[m]));
            } else {
                let srow = &mut srows[(k % sring) * sstride..(k % sring + 1) * sstride];
                #[cfg(target_arch = "x86_64")]
                if AVX {
                    avx::disk_row(&wbuf, &taps, chunk, row_len, Out::Sums(srow));
                } else {
                    disk_row(&wbuf, &taps, chunk, nb, Out::Sums(srow));
                }
                #[cfg(not(target_arch = "x86_64"))]
                disk_row(&wbuf, &taps, chunk, nb, Out::Sums(srow));
            }
            s_have += 1;
        }
        if identity {
            continue;
        }
        // Vertical Gaussian into the middle of `t`.
        {
            let base = |j: isize| (reflect101(y as isize + j, h) % sring) * sstride;
            let c0 = base(0);
            let pairs: Vec<(usize, usize, f32)> = (1..=m)
                .map(|j| (base(-(j as isize)), base(j as isize), gs[m - j]))
                .collect();
            #[cfg(target_arch = "x86_64")]
            if AVX {
                avx::vertical(&srows, c0, gs[m], &pairs, &mut t[m * C..], row_len);
            } else {
                vertical(&srows, c0, gs[m], &pairs, &mut t[m * C..], row_len);
            }
            #[cfg(not(target_arch = "x86_64"))]
            vertical(&srows, c0, gs[m], &pairs, &mut t[m * C..], row_len);
        }
        // Only the 2m border columns (looping over all of `tcols` cost a fifth of the time).
        for p in (0..m).chain(w + m..w + 2 * m) {
            let sx = tcols[p];
            for ch in 0..C {
                t[p * C + ch] = t[(sx + m) * C + ch];
            }
        }
        // Horizontal Gaussian and quantisation.
        let out = &mut dst[y * row_len..(y + 1) * row_len];
        #[cfg(target_arch = "x86_64")]
        if AVX {
            avx::horizontal_q(&t, out, m, C, g);
        } else {
            horizontal_q(&t, out, m, C, g);
        }
        #[cfg(not(target_arch = "x86_64"))]
        horizontal_q(&t, out, m, C, g);
    }
}

/// Where [`disk_row`] puts a row of disk sums `S`: as f32 (for the Gaussian), or as bytes
/// `q255(S · scale)` when the Gaussian is the identity.
enum Out<'a> {
    Sums(&'a mut [f32]),
    Bytes(&'a mut [u8], f32),
}

/// `cv[i] = pv[i] + s[i]` (u16, wrapping): the next column prefix row.
#[inline(always)]
fn prefix_row(cv: &mut [u16], pv: &[u16], s: &[u8]) {
    for ((o, &a), &v) in cv.iter_mut().zip(pv).zip(s) {
        *o = a.wrapping_add(v as u16);
    }
}

/// `w[l·stride + e] = V[bot_l + e] − V[top_l + e]` (u16, wrapping) for `e < stride`: the column
/// spans of each distinct half-height.
#[inline(always)]
fn level_rows(vr: &[u16], lrows: &[(usize, usize)], w: &mut [u16], stride: usize) {
    for (&(bot, top), row) in lrows.iter().zip(w.chunks_exact_mut(stride)) {
        for ((o, &b), &t) in row
            .iter_mut()
            .zip(&vr[bot..bot + stride])
            .zip(&vr[top..top + stride])
        {
            *o = b.wrapping_sub(t);
        }
    }
}

/// One row of disk sums `S[e] = Σ_taps w[tap + e]` for `e < nb·SB`, exact: u16 wrapping sums
/// of up to `chunk` spans, widened into u32.
#[inline(always)]
fn disk_row(vr: &[u16], taps: &[usize], chunk: usize, nb: usize, out: Out<'_>) {
    let mut out = out;
    for b in 0..nb {
        let e0 = b * SB;
        let mut acc = [0u32; SB];
        for part in taps.chunks(chunk) {
            let mut a16 = [0u16; SB];
            for &tap in part {
                let v: &[u16; SB] = vr[tap + e0..tap + e0 + SB].try_into().unwrap();
                for i in 0..SB {
                    a16[i] = a16[i].wrapping_add(v[i]);
                }
            }
            for i in 0..SB {
                acc[i] += a16[i] as u32;
            }
        }
        match &mut out {
            Out::Sums(row) => {
                for i in 0..SB {
                    row[e0 + i] = acc[i] as i32 as f32;
                }
            }
            Out::Bytes(row, scale) => {
                let n = SB.min(row.len().saturating_sub(e0));
                for i in 0..n {
                    row[e0 + i] = q255(acc[i] as i32 as f32 * *scale);
                }
            }
        }
    }
}

/// Hand-written AVX2 row kernels of [`disk_blur_rgb8_avx2`], each computing exactly what its
/// scalar namesake computes (same f32 operations in the same order, no fused multiply-add).
#[cfg(target_arch = "x86_64")]
mod avx {
    use super::{Out, BLOCK};
    use std::arch::x86_64::*;

    /// AVX2 [`super::prefix_row`].
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) unsafe fn prefix_row(cv: &mut [u16], pv: &[u16], s: &[u8]) {
        let n = cv.len().min(pv.len()).min(s.len());
        let mut i = 0;
        unsafe {
            while i + 16 <= n {
                let x = _mm256_cvtepu8_epi16(_mm_loadu_si128(s.as_ptr().add(i) as *const __m128i));
                let a = _mm256_loadu_si256(pv.as_ptr().add(i) as *const __m256i);
                _mm256_storeu_si256(
                    cv.as_mut_ptr().add(i) as *mut __m256i,
                    _mm256_add_epi16(a, x),
                );
                i += 16;
            }
        }
        super::prefix_row(&mut cv[i..n], &pv[i..n], &s[i..n]);
    }

    /// AVX2 [`super::level_rows`] (16 lanes per step; `stride` is a multiple of 16).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) unsafe fn level_rows(
        vr: &[u16],
        lrows: &[(usize, usize)],
        w: &mut [u16],
        stride: usize,
    ) {
        assert!(stride.is_multiple_of(16) && w.len() >= lrows.len() * stride);
        for (l, &(bot, top)) in lrows.iter().enumerate() {
            assert!(bot.max(top) + stride <= vr.len());
            // SAFETY: every read and write lies within the bounds asserted above.
            unsafe {
                let (pb, pt) = (vr.as_ptr().add(bot), vr.as_ptr().add(top));
                let po = w.as_mut_ptr().add(l * stride);
                for e in (0..stride).step_by(16) {
                    let d = _mm256_sub_epi16(
                        _mm256_loadu_si256(pb.add(e) as *const __m256i),
                        _mm256_loadu_si256(pt.add(e) as *const __m256i),
                    );
                    _mm256_storeu_si256(po.add(e) as *mut __m256i, d);
                }
            }
        }
    }

    /// AVX2 [`super::disk_row`] over the first `len` lanes rounded up to 32 (the caller asserts
    /// that every tap block of `len` + 31 lanes lies inside `vr`; `Out::Sums` rows are padded
    /// for it): blocks of 128 lanes (eight u16 accumulators), then of 32.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) unsafe fn disk_row(
        vr: &[u16],
        taps: &[usize],
        chunk: usize,
        len: usize,
        out: Out<'_>,
    ) {
        let mut out = out;
        let mut e0 = 0;
        // SAFETY: as documented (the caller's assertion covers every read).
        unsafe {
            while e0 + 128 <= len {
                let f = block::<8>(vr.as_ptr(), taps, chunk, e0);
                emit(&mut out, e0, &f);
                e0 += 128;
            }
            while e0 < len {
                let f = block::<2>(vr.as_ptr(), taps, chunk, e0);
                emit(&mut out, e0, &f);
                e0 += 32;
            }
        }
    }

    /// Disk sums of the `16·V` lanes from `e0`, as f32 (`2V` vectors, in order).
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::needless_range_loop)] // lane v of three register arrays
    #[inline]
    unsafe fn block<const V: usize>(
        base: *const u16,
        taps: &[usize],
        chunk: usize,
        e0: usize,
    ) -> [[__m256; 2]; V] {
        let mut lo = [_mm256_setzero_si256(); V];
        let mut hi = [_mm256_setzero_si256(); V];
        let single = taps.len() <= chunk;
        for part in taps.chunks(chunk) {
            let mut a = [_mm256_setzero_si256(); V];
            for &tap in part {
                // SAFETY: inside `vr` (see `disk_row`).
                unsafe {
                    let p = base.add(tap + e0) as *const __m256i;
                    for v in 0..V {
                        a[v] = _mm256_add_epi16(a[v], _mm256_loadu_si256(p.add(v)));
                    }
                }
            }
            for v in 0..V {
                let l = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(a[v]));
                let h = _mm256_cvtepu16_epi32(_mm256_extracti128_si256::<1>(a[v]));
                if single {
                    lo[v] = l;
                    hi[v] = h;
                } else {
                    lo[v] = _mm256_add_epi32(lo[v], l);
                    hi[v] = _mm256_add_epi32(hi[v], h);
                }
            }
        }
        let mut f = [[_mm256_setzero_ps(); 2]; V];
        for v in 0..V {
            f[v] = [_mm256_cvtepi32_ps(lo[v]), _mm256_cvtepi32_ps(hi[v])];
        }
        f
    }

    /// Writes the sums of a block (`f`, 16 lanes per entry) from lane `e0` to `out`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn emit<const V: usize>(out: &mut Out<'_>, e0: usize, f: &[[__m256; 2]; V]) {
        match out {
            Out::Sums(row) => {
                assert!(e0 + 16 * V <= row.len());
                let p = row.as_mut_ptr();
                for (v, pair) in f.iter().enumerate() {
                    // SAFETY: within `row` (asserted).
                    unsafe {
                        _mm256_storeu_ps(p.add(e0 + 16 * v), pair[0]);
                        _mm256_storeu_ps(p.add(e0 + 16 * v + 8), pair[1]);
                    }
                }
            }
            Out::Bytes(row, scale) => {
                let sc = _mm256_set1_ps(*scale);
                for q in 0..V / 2 {
                    let g = [
                        _mm256_mul_ps(f[2 * q][0], sc),
                        _mm256_mul_ps(f[2 * q][1], sc),
                        _mm256_mul_ps(f[2 * q + 1][0], sc),
                        _mm256_mul_ps(f[2 * q + 1][1], sc),
                    ];
                    // SAFETY: AVX2 is enabled here.
                    unsafe { store_bytes(row, e0 + 32 * q, q255x32(&g)) };
                }
            }
        }
    }

    /// `q255` of 32 f32 values (four vectors, in order) packed into 32 bytes.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn q255x32(f: &[__m256]) -> __m256i {
        let (a, b, c, d) = (q255x8(f[0]), q255x8(f[1]), q255x8(f[2]), q255x8(f[3]));
        let p = _mm256_packus_epi16(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
        _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
    }

    /// `q255` of 8 f32 values as i32: `max(v, 0)` is `v > 0 ? v : 0` (NaN → 0) and
    /// `min(v, 255)` is `v < 255 ? v : 255`, exactly the scalar compare-and-select clamps.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn q255x8(v: __m256) -> __m256i {
        let v = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(255.0));
        _mm256_cvttps_epi32(v)
    }

    /// Stores the first `row.len() − at` (at most 32) bytes of `v` at `row[at..]`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn store_bytes(row: &mut [u8], at: usize, v: __m256i) {
        if at + 32 <= row.len() {
            // SAFETY: 32 bytes from `at` lie inside `row`.
            unsafe { _mm256_storeu_si256(row.as_mut_ptr().add(at) as *mut __m256i, v) };
        } else if at < row.len() {
            let mut tmp = [0u8; 32];
            // SAFETY: `tmp` holds 32 bytes.
            unsafe { _mm256_storeu_si256(tmp.as_mut_ptr() as *mut __m256i, v) };
            let n = row.len() - at;
            row[at..].copy_from_slice(&tmp[..n]);
        }
    }

    /// AVX2 [`super::vertical`]: 8 values per step over `n` rounded up to whole vectors (the
    /// rows and `t` are padded for it).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) unsafe fn vertical(
        rows: &[f32],
        c0: usize,
        w0: f32,
        pairs: &[(usize, usize, f32)],
        t: &mut [f32],
        n: usize,
    ) {
        let steps = n.div_ceil(8);
        assert!(c0 + steps * 8 <= rows.len() && steps * 8 <= t.len());
        for &(a, b, _) in pairs {
            assert!(a.max(b) + steps * 8 <= rows.len());
        }
        let w0v = _mm256_set1_ps(w0);
        let rp = rows.as_ptr();
        let tp = t.as_mut_ptr();
        // SAFETY: all reads and writes are within the bounds asserted above.
        unsafe {
            match pairs {
                [(a1, b1, w1)] => {
                    let w1 = _mm256_set1_ps(*w1);
                    for s in 0..steps {
                        let e = 8 * s;
                        let mut acc = _mm256_mul_ps(_mm256_loadu_ps(rp.add(c0 + e)), w0v);
                        let p = _mm256_add_ps(
                            _mm256_loadu_ps(rp.add(a1 + e)),
                            _mm256_loadu_ps(rp.add(b1 + e)),
                        );
                        acc = _mm256_add_ps(acc, _mm256_mul_ps(p, w1));
                        _mm256_storeu_ps(tp.add(e), acc);
                    }
                }
                [(a1, b1, w1), (a2, b2, w2)] => {
                    let (w1, w2) = (_mm256_set1_ps(*w1), _mm256_set1_ps(*w2));
                    for s in 0..steps {
                        let e = 8 * s;
                        let mut acc = _mm256_mul_ps(_mm256_loadu_ps(rp.add(c0 + e)), w0v);
                        let p = _mm256_add_ps(
                            _mm256_loadu_ps(rp.add(a1 + e)),
                            _mm256_loadu_ps(rp.add(b1 + e)),
                        );
                        acc = _mm256_add_ps(acc, _mm256_mul_ps(p, w1));
                        let p = _mm256_add_ps(
                            _mm256_loadu_ps(rp.add(a2 + e)),
                            _mm256_loadu_ps(rp.add(b2 + e)),
                        );
                        acc = _mm256_add_ps(acc, _mm256_mul_ps(p, w2));
                        _mm256_storeu_ps(tp.add(e), acc);
                    }
                }
                _ => {
                    for s in 0..steps {
                        let e = 8 * s;
                        let mut acc = _mm256_mul_ps(_mm256_loadu_ps(rp.add(c0 + e)), w0v);
                        for &(a, b, wj) in pairs {
                            let p = _mm256_add_ps(
                                _mm256_loadu_ps(rp.add(a + e)),
                                _mm256_loadu_ps(rp.add(b + e)),
                            );
                            acc = _mm256_add_ps(acc, _mm256_mul_ps(p, _mm256_set1_ps(wj)));
                        }
                        _mm256_storeu_ps(tp.add(e), acc);
                    }
                }
            }
        }
    }

    /// AVX2 [`super::horizontal_q`]: 32 outputs per step (`t` is padded by `BLOCK` spare
    /// elements, so whole steps may be read); the tap loop unrolled for `m` = 1 and 2.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) unsafe fn horizontal_q(t: &[f32], out: &mut [u8], m: usize, c: usize, g: &[f32]) {
        let steps = out.len().div_ceil(BLOCK);
        assert!(BLOCK == 32 && steps * BLOCK + 2 * m * c <= t.len() && g.len() == 2 * m + 1);
        // SAFETY: the bounds asserted above cover every read of `hq`.
        unsafe {
            match m {
                1 => hq::<1>(t, out, c, g, steps),
                2 => hq::<2>(t, out, c, g, steps),
                _ => hq_any(t, out, m, c, g, steps),
            }
        }
    }

    /// [`horizontal_q`] for a fixed half-width `M`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn hq<const M: usize>(t: &[f32], out: &mut [u8], c: usize, g: &[f32], steps: usize) {
        let gm = _mm256_set1_ps(g[M]);
        let gj: [__m256; M] = std::array::from_fn(|j| _mm256_set1_ps(g[M - 1 - j]));
        let tp = t.as_ptr();
        for s in 0..steps {
            let e0 = s * BLOCK;
            let mut f = [_mm256_setzero_ps(); 4];
            for (v, acc) in f.iter_mut().enumerate() {
                let at = e0 + M * c + 8 * v;
                // SAFETY: at ± M·c + 8 lies within `t` (asserted by the caller).
                unsafe {
                    let mut a = _mm256_mul_ps(_mm256_loadu_ps(tp.add(at)), gm);
                    for (j, &wj) in gj.iter().enumerate() {
                        let d = (j + 1) * c;
                        let p = _mm256_add_ps(
                            _mm256_loadu_ps(tp.add(at - d)),
                            _mm256_loadu_ps(tp.add(at + d)),
                        );
                        a = _mm256_add_ps(a, _mm256_mul_ps(p, wj));
                    }
                    *acc = a;
                }
            }
            // SAFETY: AVX2 is enabled here.
            unsafe { store_bytes(out, e0, q255x32(&f)) };
        }
    }

    /// [`horizontal_q`] for any half-width.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn hq_any(t: &[f32], out: &mut [u8], m: usize, c: usize, g: &[f32], steps: usize) {
        let gm = _mm256_set1_ps(g[m]);
        let tp = t.as_ptr();
        for s in 0..steps {
            let e0 = s * BLOCK;
            let mut f = [_mm256_setzero_ps(); 4];
            for (v, acc) in f.iter_mut().enumerate() {
                let at = e0 + m * c + 8 * v;
                // SAFETY: at ± m·c + 8 lies within `t` (asserted by the caller).
                unsafe {
                    let mut a = _mm256_mul_ps(_mm256_loadu_ps(tp.add(at)), gm);
                    for j in 1..=m {
                        let p = _mm256_add_ps(
                            _mm256_loadu_ps(tp.add(at - j * c)),
                            _mm256_loadu_ps(tp.add(at + j * c)),
                        );
                        a = _mm256_add_ps(a, _mm256_mul_ps(p, _mm256_set1_ps(g[m - j])));
                    }
                    *acc = a;
                }
            }
            // SAFETY: AVX2 is enabled here.
            unsafe { store_bytes(out, e0, q255x32(&f)) };
        }
    }
}

/// `t[e] = w0 · rows[c0 + e] + Σ (rows[a + e] + rows[b + e]) · w` for `e < n` (rows padded so
/// that whole register blocks may be read; `t` has room for whole blocks too).
#[inline(always)]
fn vertical(
    rows: &[f32],
    c0: usize,
    w0: f32,
    pairs: &[(usize, usize, f32)],
    t: &mut [f32],
    n: usize,
) {
    let mut e0 = 0;
    while e0 < n {
        let c: &[f32; BLOCK] = rows[c0 + e0..][..BLOCK].try_into().unwrap();
        let mut acc = [0f32; BLOCK];
        for i in 0..BLOCK {
            acc[i] = c[i] * w0;
        }
        for &(a, b, wj) in pairs {
            let av: &[f32; BLOCK] = rows[a + e0..][..BLOCK].try_into().unwrap();
            let bv: &[f32; BLOCK] = rows[b + e0..][..BLOCK].try_into().unwrap();
            for i in 0..BLOCK {
                acc[i] += (av[i] + bv[i]) * wj;
            }
        }
        t[e0..e0 + BLOCK].copy_from_slice(&acc);
        e0 += BLOCK;
    }
}

/// `out[e] = q255(Σ_j g[j] · t[e + j·c])` with symmetric taps folded (`t` padded by `m = g.len()/2`
/// pixels of `c` channels each side, plus `BLOCK` spare elements at the end).
#[inline(always)]
fn horizontal_q(t: &[f32], out: &mut [u8], m: usize, c: usize, g: &[f32]) {
    let n = out.len();
    let mut e0 = 0;
    while e0 < n {
        let len = BLOCK.min(n - e0);
        let base = e0 + m * c;
        let centre: &[f32; BLOCK] = t[base..][..BLOCK].try_into().unwrap();
        let mut acc = [0f32; BLOCK];
        for i in 0..BLOCK {
            acc[i] = centre[i] * g[m];
        }
        for j in 1..=m {
            let a: &[f32; BLOCK] = t[base - j * c..][..BLOCK].try_into().unwrap();
            let b: &[f32; BLOCK] = t[base + j * c..][..BLOCK].try_into().unwrap();
            let wj = g[m - j];
            for i in 0..BLOCK {
                acc[i] += (a[i] + b[i]) * wj;
            }
        }
        let mut q = [0u8; BLOCK];
        for i in 0..BLOCK {
            q[i] = q255(acc[i]);
        }
        out[e0..e0 + len].copy_from_slice(&q[..len]);
        e0 += len;
    }
}

/// Spare elements [`smooth_plane_f32`] needs after the plane.
pub const PLANE_SPARE: usize = BLOCK;

dispatch! {
    /// Fast-mode smoothing of elastic_transform's displacement fields: `gaussian_filter(f, σ,
    /// mode='reflect')` of a single-channel `h × w` f32 plane with per-axis taps `g_rows` / `g_cols`
    /// (odd lengths), times `alpha`, into `dst`. `src` must hold `h·w + PLANE_SPARE` elements (the
    /// spare tail lets the last register block read past the final row).
    pub fn smooth_plane_f32 / smooth_plane_f32_scalar / smooth_plane_f32_avx2 (
        src: &[f32],
        dst: &mut [f32],
        h: usize,
        w: usize,
        g_rows: &[f32],
        g_cols: &[f32],
        alpha: f32,
    ) {
        assert!(src.len() >= h * w + BLOCK && dst.len() >= h * w);
        assert!(g_rows.len() % 2 == 1 && g_cols.len() % 2 == 1);
        let (mr, mc) = (g_rows.len() / 2, g_cols.len() / 2);
        let tstride = w + 2 * mc + 2 * BLOCK;
        let mut t = Buf::<f32>::zeroed(tstride);
        let gc: Vec<f32> = g_cols.iter().map(|&v| v * alpha).collect();
        let mut pairs: Vec<(usize, usize, f32)> = Vec::with_capacity(mr);
        let mut out = Buf::<f32>::zeroed(w + BLOCK);
        for y in 0..h {
            let base = |j: isize| reflect_half(y as isize + j, h) * w;
            pairs.clear();
            pairs.extend((1..=mr).map(|j| (base(-(j as isize)), base(j as isize), g_rows[mr - j])));
            vertical(src, base(0), g_rows[mr], &pairs, &mut t[mc..], w);
            for p in 0..mc {
                t[p] = t[mc + reflect_half(p as isize - mc as isize, w)];
                t[w + mc + p] = t[mc + reflect_half((w + p) as isize, w)];
            }
            let mut e0 = 0;
            while e0 < w {
                let base = e0 + mc;
                let centre: &[f32; BLOCK] = t[base..][..BLOCK].try_into().unwrap();
                let mut acc = [0f32; BLOCK];
                for i in 0..BLOCK {
                    acc[i] = centre[i] * gc[mc];
                }
                for j in 1..=mc {
                    let a: &[f32; BLOCK] = t[base - j..][..BLOCK].try_into().unwrap();
                    let b: &[f32; BLOCK] = t[base + j..][..BLOCK].try_into().unwrap();
                    let wj = gc[mc - j];
                    for i in 0..BLOCK {
                        acc[i] += (a[i] + b[i]) * wj;
                    }
                }
                out[e0..e0 + BLOCK].copy_from_slice(&acc);
                e0 += BLOCK;
            }
            dst[y * w..(y + 1) * w].copy_from_slice(&out[..w]);
        }
    }
}

/// Half-sample symmetric index (SciPy `mode='reflect'`, period `2n`).
#[inline]
fn reflect_half(i: isize, n: usize) -> usize {
    let p = 2 * n as isize;
    let m = i.rem_euclid(p);
    (if m < n as isize { m } else { p - 1 - m }) as usize
}

/// Fast-mode bilinear `map_coordinates(img, (r + dy, c + dx, ch), order=1, mode='reflect')` on
/// an interleaved `h × w × 3` f32 image: coordinates and weights in f32, interior samples
/// without any reflection logic; samples whose 2×2 neighbourhood leaves the image use the
/// exact rule of [`crate::kernels::map_coords::axis_taps`]. The AVX2 twin vectorises the
/// per-row index and weight pass 8 wide (the compiler) and blends the three channels of an
/// interior pixel in one 128-bit vector (four loads instead of twelve, three multiplies and
/// adds per pair instead of nine each); no fused multiply-add is formed and the operations are
/// the scalar ones in the same order, so both twins are bit-identical (tested).
pub fn remap_reflect_f32(img: &[f32], h: usize, w: usize, dy: &[f32], dx: &[f32], out: &mut [f32]) {
    dispatch!(remap_reflect_f32_scalar / remap_reflect_f32_avx2(img, h, w, dy, dx, out))
}

/// Scalar twin of [`remap_reflect_f32`].
pub fn remap_reflect_f32_scalar(
    img: &[f32],
    h: usize,
    w: usize,
    dy: &[f32],
    dx: &[f32],
    out: &mut [f32],
) {
    remap_body::<false>(img, h, w, dy, dx, out)
}

/// AVX2 twin of [`remap_reflect_f32`].
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn remap_reflect_f32_avx2(
    img: &[f32],
    h: usize,
    w: usize,
    dy: &[f32],
    dx: &[f32],
    out: &mut [f32],
) {
    remap_body::<true>(img, h, w, dy, dx, out)
}

/// Bilinear blend of the three channels of an interior pixel whose top-left sample is at
/// `i00` (`w3` = samples per image row), scalar.
#[inline(always)]
fn blend_scalar(img: &[f32], i00: usize, w3: usize, a1: f32, b1: f32, o: &mut [f32]) {
    let (a0, b0) = (1.0 - a1, 1.0 - b1);
    let i10 = i00 + w3;
    let p00: &[f32; 6] = img[i00..i00 + 6].try_into().unwrap();
    let p10: &[f32; 6] = img[i10..i10 + 6].try_into().unwrap();
    for ch in 0..3 {
        let top = p00[ch] * b0 + p00[ch + 3] * b1;
        let bot = p10[ch] * b0 + p10[ch + 3] * b1;
        o[ch] = top * a0 + bot * a1;
    }
}

/// [`blend_scalar`] with the channels in one 128-bit vector (the same products and sums, in
/// the same order, so the same bits).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn blend_vec(img: &[f32], i00: usize, w3: usize, a1: f32, b1: f32, o: &mut [f32]) {
    use std::arch::x86_64::*;
    let i10 = i00 + w3;
    if i10 + 7 > img.len() {
        // The four-float loads would pass the image's end.
        return blend_scalar(img, i00, w3, a1, b1, o);
    }
    // SAFETY: SSE2 is part of x86-64; the loads read img[i00..i00 + 7] and img[i10..i10 + 7],
    // in bounds (checked above, i00 < i10); `o` holds three floats (asserted by the slice).
    unsafe {
        let p = img.as_ptr();
        let (a0, b0) = (_mm_set1_ps(1.0 - a1), _mm_set1_ps(1.0 - b1));
        let (a1, b1) = (_mm_set1_ps(a1), _mm_set1_ps(b1));
        let top = _mm_add_ps(
            _mm_mul_ps(_mm_loadu_ps(p.add(i00)), b0),
            _mm_mul_ps(_mm_loadu_ps(p.add(i00 + 3)), b1),
        );
        let bot = _mm_add_ps(
            _mm_mul_ps(_mm_loadu_ps(p.add(i10)), b0),
            _mm_mul_ps(_mm_loadu_ps(p.add(i10 + 3)), b1),
        );
        let v = _mm_add_ps(_mm_mul_ps(top, a0), _mm_mul_ps(bot, a1));
        let o: &mut [f32; 3] = o.try_into().unwrap();
        _mm_storel_epi64(o.as_mut_ptr() as *mut __m128i, _mm_castps_si128(v));
        _mm_store_ss(o.as_mut_ptr().add(2), _mm_movehl_ps(v, v));
    }
}

/// The per-row index and weight pass of [`remap_body`] for the first `w − w % 8` columns, 8 at
/// a time; returns where the scalar loop goes on. `fy as i32` (a saturating conversion that the
/// compiler does not vectorise) becomes `vcvttps2dq`, which truncates the same way wherever the
/// pixel is inside; for the other pixels the index is `u32::MAX` and the weights are not used
/// (they may differ from the scalar loop's there).
///
/// # Safety
/// AVX2 must be available.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn index_row_avx2(
    r: usize,
    w: usize,
    hl: f32,
    wl: f32,
    dyr: &[f32],
    dxr: &[f32],
    ir: &mut [u32],
    far: &mut [f32],
    fbr: &mut [f32],
) -> usize {
    use std::arch::x86_64::*;
    let n = w - w % 8;
    assert!(dyr.len() >= n && dxr.len() >= n && ir.len() >= n && far.len() >= n && fbr.len() >= n);
    let rv = _mm256_set1_ps(r as f32);
    let (hv, wv) = (_mm256_set1_ps(hl), _mm256_set1_ps(wl));
    let zero = _mm256_setzero_ps();
    let stride = _mm256_set1_epi32(w as i32);
    let mut colv = _mm256_setr_ps(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
    let eight = _mm256_set1_ps(8.0);
    let mut col = 0;
    while col < n {
        let fy = _mm256_add_ps(rv, _mm256_loadu_ps(dyr.as_ptr().add(col)));
        let fx = _mm256_add_ps(colv, _mm256_loadu_ps(dxr.as_ptr().add(col)));
        let inside = _mm256_and_ps(
            _mm256_and_ps(
                _mm256_cmp_ps::<_CMP_GE_OQ>(fy, zero),
                _mm256_cmp_ps::<_CMP_LT_OQ>(fy, hv),
            ),
            _mm256_and_ps(
                _mm256_cmp_ps::<_CMP_GE_OQ>(fx, zero),
                _mm256_cmp_ps::<_CMP_LT_OQ>(fx, wv),
            ),
        );
        let iy = _mm256_cvttps_epi32(fy);
        let ix = _mm256_cvttps_epi32(fx);
        _mm256_storeu_ps(
            far.as_mut_ptr().add(col),
            _mm256_sub_ps(fy, _mm256_cvtepi32_ps(iy)),
        );
        _mm256_storeu_ps(
            fbr.as_mut_ptr().add(col),
            _mm256_sub_ps(fx, _mm256_cvtepi32_ps(ix)),
        );
        let at = _mm256_add_epi32(_mm256_mullo_epi32(iy, stride), ix);
        let at = _mm256_add_epi32(_mm256_add_epi32(at, at), at);
        let at = _mm256_or_si256(
            at,
            _mm256_xor_si256(_mm256_castps_si256(inside), _mm256_set1_epi32(-1)),
        );
        _mm256_storeu_si256(ir.as_mut_ptr().add(col) as *mut __m256i, at);
        colv = _mm256_add_ps(colv, eight);
        col += 8;
    }
    n
}

/// The body of both twins of [`remap_reflect_f32`]; `VEC` blends interior pixels with
/// [`blend_vec`] instead of [`blend_scalar`].
#[inline(always)]
fn remap_body<const VEC: bool>(
    img: &[f32],
    h: usize,
    w: usize,
    dy: &[f32],
    dx: &[f32],
    out: &mut [f32],
) {
    use crate::kernels::map_coords::axis_taps;
    const C: usize = 3;
    assert!(img.len() >= h * w * C && out.len() >= h * w * C);
    assert!(dy.len() >= h * w && dx.len() >= h * w);
    let (hl, wl) = ((h as f32) - 1.0, (w as f32) - 1.0);
    // Per row: a vectorisable pass computes the top-left sample index (or u32::MAX when the
    // neighbourhood leaves the image) and the fractional weights, then a gather pass blends.
    let mut idx = vec![0u32; w];
    let mut fa = vec![0f32; w];
    let mut fb = vec![0f32; w];
    for r in 0..h {
        // equal-length slices indexed by one counter: the loop vectorises with plain stores
        // (a five-way zip compiled to masked stores, slow on AMD cores)
        let (dyr, dxr) = (&dy[r * w..(r + 1) * w], &dx[r * w..(r + 1) * w]);
        let (ir, far, fbr) = (&mut idx[..w], &mut fa[..w], &mut fb[..w]);
        let mut start = 0;
        #[cfg(target_arch = "x86_64")]
        if VEC {
            // SAFETY: VEC is set only by the AVX2 twin (AVX2 available).
            start = unsafe { index_row_avx2(r, w, hl, wl, dyr, dxr, ir, far, fbr) };
        }
        for col in start..w {
            let fy = r as f32 + dyr[col];
            let fx = col as f32 + dxr[col];
            let inside = (fy >= 0.0) & (fy < hl) & (fx >= 0.0) & (fx < wl);
            let (iy, ix) = (fy as i32, fx as i32);
            far[col] = fy - iy as f32;
            fbr[col] = fx - ix as f32;
            let at = (iy.wrapping_mul(w as i32).wrapping_add(ix)).wrapping_mul(C as i32) as u32;
            ir[col] = if inside { at } else { u32::MAX };
        }
        let orow = &mut out[r * w * C..(r + 1) * w * C];
        // Pixels whose neighbourhood leaves the image: the exact rule, in f64.
        let edge = |col: usize, o: &mut [f32]| {
            let (ddy, ddx) = (dy[r * w + col], dx[r * w + col]);
            let (r0, r1, a0, a1) = axis_taps(r as f64 + ddy as f64, h);
            let (c0, c1, b0, b1) = axis_taps(col as f64 + ddx as f64, w);
            for ch in 0..C {
                let t = img[(r0 * w + c0) * C + ch] as f64 * a0 * b0
                    + img[(r0 * w + c1) * C + ch] as f64 * a0 * b1
                    + img[(r1 * w + c0) * C + ch] as f64 * a1 * b0
                    + img[(r1 * w + c1) * C + ch] as f64 * a1 * b1;
                o[ch] = t as f32;
            }
        };
        #[cfg(target_arch = "x86_64")]
        if VEC {
            // Plain indexed loop: the zipped iterators below keep too many live values for
            // the registers once the blend is a handful of vector instructions.
            let (idx, fa, fb) = (&idx[..w], &fa[..w], &fb[..w]);
            for col in 0..w {
                let o = &mut orow[col * C..col * C + C];
                if idx[col] != u32::MAX {
                    blend_vec(img, idx[col] as usize, w * C, fa[col], fb[col], o);
                } else {
                    edge(col, o);
                }
            }
            continue;
        }
        for (col, (((o, &i00), &a1), &b1)) in orow
            .chunks_exact_mut(C)
            .zip(&idx)
            .zip(&fa)
            .zip(&fb)
            .enumerate()
        {
            if i00 != u32::MAX {
                blend_scalar(img, i00 as usize, w * C, a1, b1, o);
            } else {
                edge(col, o);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    fn image(h: usize, w: usize) -> Vec<u8> {
        (0..h * w * 3)
            .map(|i| ((i * 73 + (i / 7) * 31) % 256) as u8)
            .collect()
    }

    /// Direct definition: `q255(scale · G ⊛ (D ⊛ x))` with reflect-101 borders, in f64.
    fn disk_direct(src: &[u8], h: usize, w: usize, r: usize, g: &[f32], scale: f32) -> Vec<f64> {
        let ri = r as i64;
        let mut s = vec![0f64; h * w * 3];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..3 {
                    let mut a = 0f64;
                    for dy in -ri..=ri {
                        for dx in -ri..=ri {
                            if dx * dx + dy * dy <= ri * ri {
                                let sy = reflect101(y as isize + dy as isize, h);
                                let sx = reflect101(x as isize + dx as isize, w);
                                a += src[(sy * w + sx) * 3 + ch] as f64;
                            }
                        }
                    }
                    s[(y * w + x) * 3 + ch] = a;
                }
            }
        }
        let m = g.len() as isize / 2;
        let mut out = vec![0f64; s.len()];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..3 {
                    let mut a = 0f64;
                    for j in -m..=m {
                        for i in -m..=m {
                            let sy = reflect101(y as isize + j, h);
                            let sx = reflect101(x as isize + i, w);
                            a += s[(sy * w + sx) * 3 + ch]
                                * g[(j + m) as usize] as f64
                                * g[(i + m) as usize] as f64;
                        }
                    }
                    out[(y * w + x) * 3 + ch] = a * scale as f64;
                }
            }
        }
        out
    }

    #[test]
    fn disk_spans_count_pixels() {
        for r in 0..12usize {
            let n = (-(r as i64)..=r as i64)
                .flat_map(|y| (-(r as i64)..=r as i64).map(move |x| (x, y)))
                .filter(|(x, y)| x * x + y * y <= (r * r) as i64)
                .count();
            assert_eq!(disk_spans(r).1, n, "r {r}");
        }
    }

    #[test]
    fn disk_blur_equals_definition_and_simd_equals_scalar() {
        let g = [0.1f32, 0.2, 0.4, 0.2, 0.1];
        for &(h, w, r) in &[
            (13usize, 11usize, 3usize),
            (7, 30, 8),
            (1, 1, 4),
            (2, 3, 10),
            (9, 1, 6),
        ] {
            let src = image(h, w);
            let (_, count) = disk_spans(r);
            let scale = 1.01 / count as f32;
            let want = disk_direct(&src, h, w, r, &g, scale);
            let mut a = vec![0u8; src.len()];
            disk_blur_rgb8_scalar(&src, &mut a, h, w, r, &g, scale);
            for (i, (&x, &y)) in a.iter().zip(&want).enumerate() {
                let q = y.clamp(0.0, 255.0).trunc();
                // f32 rounding may move a value across an integer boundary.
                assert!(
                    (x as f64 - q).abs() <= 1.0,
                    "{h}x{w} r{r} at {i}: {x} vs {y}"
                );
            }
            for isa in simd::available() {
                let mut b = vec![0u8; src.len()];
                dispatch!(at isa; disk_blur_rgb8_scalar / disk_blur_rgb8_avx2(&src, &mut b, h, w, r, &g, scale));
                assert_eq!(a, b);
            }
        }
    }

    /// The fast path's own arithmetic written out plainly: exact integer disk sums `S`, then
    /// `t = S·(g[m]·scale) + Σ_j (S₋ⱼ + S₊ⱼ)·(g[m−j]·scale)` down the columns and
    /// `q255(t·g[m] + Σ_j (t₋ⱼ + t₊ⱼ)·g[m−j])` along the rows, in f32, reflect-101 borders.
    fn disk_f32_emulation(
        src: &[u8],
        h: usize,
        w: usize,
        r: usize,
        g: &[f32],
        scale: f32,
    ) -> Vec<u8> {
        let ri = r as isize;
        let m = g.len() / 2;
        let at = |y: isize, x: isize, ch: usize| {
            src[(reflect101(y, h) * w + reflect101(x, w)) * 3 + ch] as u32
        };
        let mut sums = vec![0f32; h * w * 3];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..3 {
                    let mut a = 0u32;
                    for dy in -ri..=ri {
                        for dx in -ri..=ri {
                            if dx * dx + dy * dy <= ri * ri {
                                a += at(y as isize + dy, x as isize + dx, ch);
                            }
                        }
                    }
                    sums[(y * w + x) * 3 + ch] = a as f32;
                }
            }
        }
        let gs: Vec<f32> = g.iter().map(|&v| v * scale).collect();
        let s = |y: isize, x: usize, ch: usize| sums[(reflect101(y, h) * w + x) * 3 + ch];
        let mut t = vec![0f32; h * w * 3];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..3 {
                    let yi = y as isize;
                    let mut a = s(yi, x, ch) * gs[m];
                    for j in 1..=m as isize {
                        a += (s(yi - j, x, ch) + s(yi + j, x, ch)) * gs[m - j as usize];
                    }
                    t[(y * w + x) * 3 + ch] = a;
                }
            }
        }
        let tt = |y: usize, x: isize, ch: usize| t[(y * w + reflect101(x, w)) * 3 + ch];
        let mut out = vec![0u8; h * w * 3];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..3 {
                    let xi = x as isize;
                    let mut a = tt(y, xi, ch) * g[m];
                    for j in 1..=m as isize {
                        a += (tt(y, xi - j, ch) + tt(y, xi + j, ch)) * g[m - j as usize];
                    }
                    out[(y * w + x) * 3 + ch] = q255(a);
                }
            }
        }
        out
    }

    #[test]
    fn disk_blur_is_its_f32_definition_bit_for_bit_at_every_level() {
        // σ = 0.1 (identity: the passes are skipped, bit-identically), σ = 0.5 with 3 and 5
        // taps (radii ≤ 8 and 10), and an arbitrary wide Gaussian.
        let g_id = crate::kernels::filter2d::opencv_gaussian_kernel(3, 0.1);
        assert!(gaussian_is_identity(&g_id));
        let g3 = crate::kernels::filter2d::opencv_gaussian_kernel(3, 0.5);
        let g5 = crate::kernels::filter2d::opencv_gaussian_kernel(5, 0.5);
        let g7 = [0.05f32, 0.1, 0.15, 0.4, 0.15, 0.1, 0.05];
        assert!(!gaussian_is_identity(&g3) && !gaussian_is_identity(&g5));
        for &(h, w, r, g) in &[
            (9usize, 50usize, 3usize, &g_id[..]),
            (12, 61, 10, &g5[..]),
            (7, 45, 4, &g3[..]),
            (5, 97, 8, &g3[..]),
            (6, 23, 1, &g7[..]),
            (3, 4, 0, &g_id[..]),
            (1, 130, 6, &g3[..]),
            (11, 2, 5, &g5[..]),
        ] {
            let src = image(h, w);
            let (_, count) = disk_spans(r);
            let scale = 1.0108 / count as f32;
            let want = disk_f32_emulation(&src, h, w, r, g, scale);
            let mut a = vec![0u8; src.len()];
            disk_blur_rgb8_scalar(&src, &mut a, h, w, r, g, scale);
            assert_eq!(a, want, "{h}x{w} r{r} g{}", g.len());
            for isa in simd::available() {
                let mut b = vec![0u8; src.len()];
                dispatch!(at isa; disk_blur_rgb8_scalar / disk_blur_rgb8_avx2(&src, &mut b, h, w, r, g, scale));
                assert_eq!(a, b, "{isa:?} {h}x{w} r{r}");
            }
        }
    }

    #[test]
    fn plane_smoothing_equals_definition_and_simd_equals_scalar() {
        let g_rows = [0.1f32, 0.2, 0.4, 0.2, 0.1];
        let g_cols = [0.05f32, 0.1, 0.15, 0.4, 0.15, 0.1, 0.05];
        for &(h, w) in &[(13usize, 11usize), (1, 1), (2, 40), (9, 1)] {
            let mut src: Vec<f32> = (0..h * w).map(|i| ((i * 37) % 23) as f32 - 11.0).collect();
            src.extend([0.0; BLOCK]);
            let mut a = vec![0f32; h * w];
            smooth_plane_f32_scalar(&src, &mut a, h, w, &g_rows, &g_cols, 2.5);
            for y in 0..h {
                for x in 0..w {
                    let mut s = 0f64;
                    for j in -2isize..=2 {
                        for i in -3isize..=3 {
                            let sy = reflect_half(y as isize + j, h);
                            let sx = reflect_half(x as isize + i, w);
                            s += src[sy * w + sx] as f64
                                * g_rows[(j + 2) as usize] as f64
                                * g_cols[(i + 3) as usize] as f64;
                        }
                    }
                    assert!((a[y * w + x] as f64 - 2.5 * s).abs() < 1e-4);
                }
            }
            for isa in simd::available() {
                let mut b = vec![0f32; h * w];
                dispatch!(at isa; smooth_plane_f32_scalar / smooth_plane_f32_avx2(&src, &mut b, h, w, &g_rows, &g_cols, 2.5));
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn fast_remap_is_close_to_exact() {
        let (h, w) = (9usize, 12usize);
        let img: Vec<f32> = (0..h * w * 3)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        let dy: Vec<f32> = (0..h * w)
            .map(|i| ((i * 7) % 11) as f32 / 4.0 - 1.3)
            .collect();
        let dx: Vec<f32> = (0..h * w)
            .map(|i| ((i * 5) % 13) as f32 / 3.0 - 2.1)
            .collect();
        let mut want = vec![0f32; h * w * 3];
        crate::kernels::map_coords::remap_reflect(&img, h, w, 3, &dy, &dx, &mut want);
        let mut got = vec![0f32; h * w * 3];
        remap_reflect_f32_scalar(&img, h, w, &dy, &dx, &mut got);
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-5, "{a} {b}");
        }
        for isa in simd::available() {
            let mut b = vec![0f32; h * w * 3];
            dispatch!(at isa; remap_reflect_f32_scalar / remap_reflect_f32_avx2(&img, h, w, &dy, &dx, &mut b));
            assert_eq!(got, b, "{isa:?}");
        }
    }
}
