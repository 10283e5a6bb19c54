//! Fast-mode blur kernels (not bit-exact with the reference; same statistics): the disk blur of
//! defocus_blur on RGB8 images, in integer arithmetic, and elastic_transform's f32 helpers.
//! (gaussian_blur's separable Gaussian is [`crate::kernels::fastgauss`].)
//!
//! * [`disk_blur_rgb8`]: the anti-aliased disk `K = G ⊛ D` of ALGORITHMS.md P2 is applied as `G`
//!   then `D`. The small alias Gaussian `G` (3 or 5 taps) runs first, separably, in 8-bit fixed
//!   point on the bytes (taps in 1/256, rounded back to bytes; [`alias_taps`]); it is skipped
//!   when its fixed-point taps are the identity (σ = 0.1). `D ⊛ x` is exact integer
//!   arithmetic: for each column offset `dx` the binary disk covers the rows `|dy| ≤ h_dx`, so
//!   with u16 column prefix sums `V` of the reflect-101 padded image (wrapping: a difference is
//!   exact while the span fits 16 bits) one output is the sum over the `2r + 1` column offsets
//!   of `V[y + h_dx + 1] − V[y − h_dx]`. Those differences are formed once per output row and
//!   distinct half-height (7 rows for radius 10) and then read once per column offset; sums of
//!   up to `chunk` spans stay in u16 (all of them while `255·|D| < 2¹⁶`, radius ≤ 8), then
//!   widen into u32. One scale factor `ΣK / |D|` (so the brightening of ALGORITHMS.md Quirk 5
//!   survives) and `trunc(clip(·, 0, 255))` in f32 give the bytes. Deviation from the exact
//!   `K` correlation: `K` is `G ⊛ D` clipped to the kernel grid with reflect-101 borders of the
//!   *kernel*, which `G ⊛ D` is not, the image border is reflected twice, and `G`'s output is
//!   rounded to bytes; together a few tenths of a grey level.
//! * [`smooth_plane_f32`] and [`remap_reflect_f32`]: elastic_transform's field smoothing
//!   (SciPy `mode='reflect'`) and bilinear sampling in f32.
//!
//! The disk blur's AVX2 twin uses hand-written row kernels (module `avx`); the other loops are
//! plain scalar Rust compiled twice (portable twin and an AVX2 build that the compiler
//! vectorises, 8 lanes). No fused multiply-add is used, so the twins are bit-identical (tested).

use crate::kernels::filter2d::reflect101;
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

/// The alias Gaussian `g` (odd length, any scale) as 8-bit fixed-point taps: side taps
/// `round(256·g_j / Σg)`, the centre tap `256 − Σ sides` (so a flat image stays exactly
/// flat), outer taps that round to 0 dropped. `[256]` (the identity) for σ = 0.1, whose side
/// taps are 2·10⁻²².
pub fn alias_taps(g: &[f32]) -> Vec<u16> {
    assert!(g.len() % 2 == 1);
    let m = g.len() / 2;
    let sum: f64 = g.iter().map(|&v| v as f64).sum();
    let sides: Vec<u16> = (1..=m)
        .map(|j| (256.0 * g[m + j] as f64 / sum).round() as u16)
        .collect();
    let keep = sides.iter().rposition(|&v| v != 0).map_or(0, |i| i + 1);
    let centre = 256 - 2 * sides[..keep].iter().map(|&v| v as i32).sum::<i32>();
    assert!(
        (1..=256).contains(&centre),
        "alias Gaussian too wide for its taps"
    );
    let mut t: Vec<u16> = sides[..keep].iter().rev().copied().collect();
    t.push(centre as u16);
    t.extend_from_slice(&sides[..keep]);
    t
}

/// Fast defocus blur of an interleaved RGB8 `h × w` image: the separable small Gaussian with
/// fixed-point taps `taps` ([`alias_taps`], sum 256, reflect-101, rounded to bytes), then the
/// binary disk of radius `r` (exact, integer), then `· scale` and `trunc(clip(·, 0, 255))`.
/// `scale` is `ΣK / |D|` for the reference kernel `K` (see the module docs).
///
/// Dispatched at run time: the AVX2 twin runs the same row loops with hand-written AVX2 row
/// kernels (the compiler's vectorisation of the span loop spent two thirds of its instructions
/// on addressing and bounds checks); the Gaussian is integer arithmetic and the disk sums'
/// scaling one f32 multiply, so they are bit-identical (tested).
pub fn disk_blur_rgb8(
    src: &[u8],
    dst: &mut [u8],
    h: usize,
    w: usize,
    r: usize,
    taps: &[u16],
    scale: f32,
) {
    dispatch!(disk_blur_rgb8_scalar / disk_blur_rgb8_avx2(src, dst, h, w, r, taps, scale))
}

/// Scalar twin of [`disk_blur_rgb8`].
pub fn disk_blur_rgb8_scalar(
    src: &[u8],
    dst: &mut [u8],
    h: usize,
    w: usize,
    r: usize,
    taps: &[u16],
    scale: f32,
) {
    // SAFETY: `AVX = false` calls no AVX2 code.
    unsafe { blur_body::<false>(src, dst, h, w, r, taps, scale) }
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
    taps: &[u16],
    scale: f32,
) {
    // SAFETY: the caller guarantees AVX2 and FMA.
    unsafe { blur_body::<true>(src, dst, h, w, r, taps, scale) }
}

/// The Gaussian (unless its taps are the identity), then the disk.
///
/// # Safety
/// With `AVX = true` the CPU must support AVX2 and FMA.
#[inline(always)]
unsafe fn blur_body<const AVX: bool>(
    src: &[u8],
    dst: &mut [u8],
    h: usize,
    w: usize,
    r: usize,
    taps: &[u16],
    scale: f32,
) {
    assert!(src.len() >= h * w * 3 && dst.len() >= h * w * 3 && taps.len() % 2 == 1);
    assert!(
        taps.iter().map(|&t| t as u32).sum::<u32>() == 256
            && taps.iter().all(|&t| t < 256 || taps.len() == 1)
    );
    if taps.len() == 1 {
        // SAFETY: forwarded from the caller.
        return unsafe { disk_body::<AVX>(src, dst, h, w, r, scale) };
    }
    let mut pre = Buf::<u8>::take(h * w * 3);
    // SAFETY: forwarded from the caller.
    unsafe {
        gauss_body::<AVX>(src, &mut pre, h, w, taps);
        disk_body::<AVX>(&pre, dst, h, w, r, scale);
    }
}

/// Separable fixed-point Gaussian of an RGB8 image with reflect-101 borders: along each row
/// `t = Σ_j taps[j]·x` (exact in u16: at most 255·256), then down the columns
/// `out = (Σ_j ⌊t_j·taps[j]·256 / 2¹⁶⌋ + 128) >> 8` (each term exact to below 1/256 of a level,
/// a flat image stays exactly flat).
///
/// # Safety
/// With `AVX = true` the CPU must support AVX2 and FMA.
#[inline(always)]
unsafe fn gauss_body<const AVX: bool>(
    src: &[u8],
    dst: &mut [u8],
    h: usize,
    w: usize,
    taps: &[u16],
) {
    const C: usize = 3;
    let row_len = w * C;
    let m = taps.len() / 2;
    // One padded source row (m pixels reflected each side, spare bytes for whole vector loads).
    let mut padded = Buf::<u8>::take((w + 2 * m) * C + 32);
    let border: Vec<(usize, usize)> = (0..m)
        .chain(w + m..w + 2 * m)
        .map(|p| (p * C, reflect101(p as isize - m as isize, w) * C))
        .collect();
    // Row-filtered rows, ring of 2m + 1 (row k in slot k mod (2m + 1)): the rows reflect101(y + j)
    // for |j| ≤ m lie within the 2m + 1 rows up to min(y + m, h − 1).
    let nring = 2 * m + 1;
    let tstride = row_len.next_multiple_of(32);
    let mut ring = Buf::<u16>::take(nring * tstride);
    let wide: Vec<u16> = taps.iter().map(|&t| t << 8).collect();
    let mut have = 0usize;
    let mut rows: Vec<usize> = Vec::with_capacity(nring);
    for y in 0..h {
        while have <= (y + m).min(h - 1) {
            let s = &src[have * row_len..(have + 1) * row_len];
            padded[m * C..m * C + row_len].copy_from_slice(s);
            for &(p, sx) in &border {
                padded[p..p + C].copy_from_slice(&s[sx..sx + C]);
            }
            let t = &mut ring[(have % nring) * tstride..][..tstride];
            #[cfg(target_arch = "x86_64")]
            if AVX {
                avx::gauss_row(&padded, t, taps);
            } else {
                gauss_row(&padded, t, taps, row_len);
            }
            #[cfg(not(target_arch = "x86_64"))]
            gauss_row(&padded, t, taps, row_len);
            have += 1;
        }
        rows.clear();
        rows.extend(
            (0..nring)
                .map(|j| (reflect101(y as isize + j as isize - m as isize, h) % nring) * tstride),
        );
        let out = &mut dst[y * row_len..(y + 1) * row_len];
        #[cfg(target_arch = "x86_64")]
        if AVX {
            avx::gauss_col(&ring, &rows, &wide, out);
        } else {
            gauss_col(&ring, &rows, &wide, out);
        }
        #[cfg(not(target_arch = "x86_64"))]
        gauss_col(&ring, &rows, &wide, out);
    }
}

/// `t[e] = Σ_j taps[j]·p[e + 3j]` for `e < n` (u16, exact: taps sum to 256).
#[inline(always)]
fn gauss_row(p: &[u8], t: &mut [u16], taps: &[u16], n: usize) {
    for (e, o) in t[..n].iter_mut().enumerate() {
        *o = taps
            .iter()
            .enumerate()
            .map(|(j, &k)| k * p[e + 3 * j] as u16)
            .sum();
    }
}

/// `out[e] = (Σ_j ⌊ring[rows[j] + e]·wide[j] / 2¹⁶⌋ + 128) >> 8` (`wide` = taps·256).
#[inline(always)]
fn gauss_col(ring: &[u16], rows: &[usize], wide: &[u16], out: &mut [u8]) {
    for (e, o) in out.iter_mut().enumerate() {
        let s: u32 = rows
            .iter()
            .zip(wide)
            .map(|(&b, &k)| (ring[b + e] as u32 * k as u32) >> 16)
            .sum();
        *o = ((s + 128) >> 8) as u8;
    }
}

/// The disk and the final scaling, with scalar (`AVX = false`) or AVX2 row kernels.
///
/// # Safety
/// With `AVX = true` the CPU must support AVX2 and FMA.
#[inline(always)]
unsafe fn disk_body<const AVX: bool>(
    src: &[u8],
    dst: &mut [u8],
    h: usize,
    w: usize,
    r: usize,
    scale: f32,
) {
    const C: usize = 3;
    assert!(src.len() >= h * w * C && dst.len() >= h * w * C);
    let row_len = w * C;
    let (spans, count) = disk_spans(r);
    // Column prefix sums over the reflect-101 padded image (r pixels / rows each side):
    // V[0] = 0, V[q+1] = V[q] + padded row q (u16, wrapping), each row `(w + 2r)·C` wide plus
    // SB spare elements. Output row y needs V[y ..= y + 2r + 1]: a ring of 2r + 2 rows.
    // Wrapping u16 is exact for a column span (at most (2r+1)·255 < 2¹⁶ for r ≤ 127) and for
    // sums of spans whose total stays below 2¹⁶: every tap of the disk while 255·|D| < 2¹⁶,
    // else `chunk` taps of the tallest span; chunks are then widened into u32 accumulators.
    assert!(r <= 127, "disk radius above 127");
    let quant = Quant::new(count, scale);
    let chunk = if 255 * count <= 65535 {
        2 * r + 1
    } else {
        (65535 / ((2 * r + 1) * 255)).max(1)
    };
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
    // (padded byte, source byte) of the first bytes of the 2r reflected border pixels of a
    // padded row (copied a pixel at a time: per byte it cost 8 % of the call's instructions).
    let border: Vec<(usize, usize)> = (0..r)
        .chain(w + r..w + 2 * r)
        .map(|p| (p * C, reflect101(p as isize - r as isize, w) * C))
        .collect();
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
    for k in 0..h {
        while v_have <= k + 2 * r + 1 {
            let q = v_have - 1; // padded row q = source row reflect101(q − r)
            let sy = reflect101(q as isize - r as isize, h);
            let s = &src[sy * row_len..(sy + 1) * row_len];
            padded[r * C..r * C + row_len].copy_from_slice(s);
            for &(p, sx) in &border {
                padded[p..p + C].copy_from_slice(&s[sx..sx + C]);
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
        let out = &mut dst[k * row_len..(k + 1) * row_len];
        #[cfg(target_arch = "x86_64")]
        if AVX {
            avx::level_rows(&vring, &lrows, &mut wbuf, wstride);
            if !avx::disk_row(&wbuf, &taps, chunk, row_len, out, quant) {
                disk_row(&wbuf, &taps, chunk, nb, out, quant);
            }
        } else {
            level_rows(&vring, &lrows, &mut wbuf, wstride);
            disk_row(&wbuf, &taps, chunk, nb, out, quant);
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            level_rows(&vring, &lrows, &mut wbuf, wstride);
            disk_row(&wbuf, &taps, chunk, nb, out, quant);
        }
    }
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

/// The integer form of `trunc(min(S · scale, 255))` for disk sums `S ≤ 255·|D|`: `S` is
/// rounded to 16 bits, `S' = (S + 2^(k−1)) >> k`, shifted up by `p` while it fits, and
/// multiplied by `c = ⌈scale·2^(16+q+k−p)⌉`: out = `min(⌊(S'·2^p)·c / 2¹⁶⌋ >> q, 255)`, with `q`
/// as large as `c < 2¹⁶` allows (relative precision of `c` better than 2⁻¹⁵; `c` rounded up
/// so a flat area of level v keeps v when `scale·|D| = 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quant {
    k: u32,
    p: u32,
    c: u16,
    q: u32,
}

impl Quant {
    /// The parameters for a disk of `count` pixels.
    pub fn new(count: usize, scale: f32) -> Quant {
        let smax = 255 * count as u64;
        let round = |k: u32| (smax + ((1u64 << k) >> 1)) >> k;
        let mut k = 0;
        while round(k) > 65535 {
            k += 1;
        }
        let mut p = 0;
        while round(k) << (p + 1) <= 65535 {
            p += 1;
        }
        let mut q = 15i32;
        loop {
            let c = (scale as f64 * 2f64.powi(16 + q + k as i32 - p as i32)).ceil();
            if c <= 65535.0 || q == 0 {
                assert!(
                    (1.0..=65535.0).contains(&c),
                    "disk scale {scale} out of range"
                );
                return Quant {
                    k,
                    p,
                    c: c as u16,
                    q: q as u32,
                };
            }
            q -= 1;
        }
    }

    /// The byte of disk sum `s`.
    #[inline(always)]
    fn byte(self, s: u32) -> u8 {
        let s1 = (s + ((1u32 << self.k) >> 1)) >> self.k;
        let v = ((s1 << self.p) * self.c as u32) >> 16 >> self.q;
        v.min(255) as u8
    }
}

/// One row of bytes `quant.byte(S[e])` of the disk sums `S[e] = Σ_taps w[tap + e]`, exact: u16
/// wrapping sums of up to `chunk` spans, widened into u32.
#[inline(always)]
fn disk_row(vr: &[u16], taps: &[usize], chunk: usize, nb: usize, row: &mut [u8], quant: Quant) {
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
        let n = SB.min(row.len().saturating_sub(e0));
        for i in 0..n {
            row[e0 + i] = quant.byte(acc[i]);
        }
    }
}

/// Hand-written AVX2 row kernels of [`disk_blur_rgb8_avx2`], each computing exactly what its
/// scalar namesake computes (same integer and f32 operations, no fused multiply-add).
#[cfg(target_arch = "x86_64")]
mod avx {
    use super::Quant;
    use std::arch::x86_64::*;

    /// AVX2 [`super::gauss_row`] over `t.len()` lanes (a multiple of 16; `p` holds 32 spare
    /// bytes past the padded row, so whole 16-byte loads stay inside it).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) unsafe fn gauss_row(p: &[u8], t: &mut [u16], taps: &[u16]) {
        let n = t.len();
        let m = taps.len() / 2;
        assert!(n.is_multiple_of(16) && n + 6 * m <= p.len());
        // SAFETY: every load reads 16 bytes from e + 3j < n + 6m − 15 (asserted), every store
        // 16 lanes below n.
        unsafe {
            match m {
                1 => gauss_row_m::<1>(p.as_ptr(), t, taps),
                2 => gauss_row_m::<2>(p.as_ptr(), t, taps),
                _ => gauss_row_any(p.as_ptr(), t, taps),
            }
        }
    }

    /// [`gauss_row`] for a fixed half-width `M` (taps folded in pairs).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn gauss_row_m<const M: usize>(pp: *const u8, t: &mut [u16], taps: &[u16]) {
        let kc = _mm256_set1_epi16(taps[M] as i16);
        let kj: [__m256i; M] = std::array::from_fn(|j| _mm256_set1_epi16(taps[M - 1 - j] as i16));
        let tp = t.as_mut_ptr();
        for e in (0..t.len()).step_by(16) {
            // SAFETY: see `gauss_row`.
            unsafe {
                let mut a = _mm256_mullo_epi16(widen16(pp.add(e + 3 * M)), kc);
                for (j, &k) in kj.iter().enumerate() {
                    let d = 3 * (j + 1);
                    let s = _mm256_add_epi16(
                        widen16(pp.add(e + 3 * M - d)),
                        widen16(pp.add(e + 3 * M + d)),
                    );
                    a = _mm256_add_epi16(a, _mm256_mullo_epi16(s, k));
                }
                _mm256_storeu_si256(tp.add(e) as *mut __m256i, a);
            }
        }
    }

    /// [`gauss_row`] for any half-width.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn gauss_row_any(pp: *const u8, t: &mut [u16], taps: &[u16]) {
        let m = taps.len() / 2;
        let kc = _mm256_set1_epi16(taps[m] as i16);
        for e in (0..t.len()).step_by(16) {
            // SAFETY: see `gauss_row`.
            unsafe {
                let mut a = _mm256_mullo_epi16(widen16(pp.add(e + 3 * m)), kc);
                for j in 1..=m {
                    let s = _mm256_add_epi16(
                        widen16(pp.add(e + 3 * (m - j))),
                        widen16(pp.add(e + 3 * (m + j))),
                    );
                    a = _mm256_add_epi16(
                        a,
                        _mm256_mullo_epi16(s, _mm256_set1_epi16(taps[m - j] as i16)),
                    );
                }
                _mm256_storeu_si256(t.as_mut_ptr().add(e) as *mut __m256i, a);
            }
        }
    }

    // `vpmulhuw` kept opaque to LLVM (it had doubled the column and scaling loops).
    use crate::simd::avx2::mulhi_epu16 as mulhi;

    /// 16 bytes from `p`, widened to u16 lanes.
    ///
    /// # Safety
    /// 16 bytes from `p` must be readable.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn widen16(p: *const u8) -> __m256i {
        // SAFETY: as documented.
        unsafe { _mm256_cvtepu8_epi16(_mm_loadu_si128(p as *const __m128i)) }
    }

    /// AVX2 [`super::gauss_col`]: 32 lanes per step (ring rows are padded to whole steps).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) unsafe fn gauss_col(ring: &[u16], rows: &[usize], wide: &[u16], out: &mut [u8]) {
        let steps = out.len().div_ceil(32);
        assert!(rows.len() == wide.len());
        for &b in rows {
            assert!(b + steps * 32 <= ring.len());
        }
        // SAFETY: every read is within the bounds asserted above.
        unsafe {
            match rows.len() {
                3 => gauss_col_n::<3>(ring.as_ptr(), rows, wide, out, steps),
                5 => gauss_col_n::<5>(ring.as_ptr(), rows, wide, out, steps),
                _ => gauss_col_any(ring.as_ptr(), rows, wide, out, steps),
            }
        }
    }

    /// [`gauss_col`] for `N` rows.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn gauss_col_n<const N: usize>(
        rp: *const u16,
        rows: &[usize],
        wide: &[u16],
        out: &mut [u8],
        steps: usize,
    ) {
        let half = _mm256_set1_epi16(128);
        let kv: [__m256i; N] = std::array::from_fn(|j| _mm256_set1_epi16(wide[j] as i16));
        let rb: [*const u16; N] = std::array::from_fn(|j| rp.wrapping_add(rows[j]));
        for s in 0..steps {
            let e = 32 * s;
            let (mut lo, mut hi) = (half, half);
            for j in 0..N {
                // SAFETY: see `gauss_col`.
                unsafe {
                    let p = rb[j].add(e) as *const __m256i;
                    lo = _mm256_add_epi16(lo, mulhi(_mm256_loadu_si256(p), kv[j]));
                    hi = _mm256_add_epi16(hi, mulhi(_mm256_loadu_si256(p.add(1)), kv[j]));
                }
            }
            // SAFETY: AVX2 is enabled here.
            unsafe {
                store_words(
                    out,
                    e,
                    _mm256_srli_epi16::<8>(lo),
                    _mm256_srli_epi16::<8>(hi),
                )
            };
        }
    }

    /// [`gauss_col`] for any number of rows.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn gauss_col_any(
        rp: *const u16,
        rows: &[usize],
        wide: &[u16],
        out: &mut [u8],
        steps: usize,
    ) {
        let half = _mm256_set1_epi16(128);
        for s in 0..steps {
            let e = 32 * s;
            let (mut lo, mut hi) = (half, half);
            for (&b, &k) in rows.iter().zip(wide) {
                let kv = _mm256_set1_epi16(k as i16);
                // SAFETY: see `gauss_col`.
                unsafe {
                    let p = rp.add(b + e) as *const __m256i;
                    lo = _mm256_add_epi16(lo, mulhi(_mm256_loadu_si256(p), kv));
                    hi = _mm256_add_epi16(hi, mulhi(_mm256_loadu_si256(p.add(1)), kv));
                }
            }
            // SAFETY: AVX2 is enabled here.
            unsafe {
                store_words(
                    out,
                    e,
                    _mm256_srli_epi16::<8>(lo),
                    _mm256_srli_epi16::<8>(hi),
                )
            };
        }
    }

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
    /// that every tap block of `len` + 31 lanes lies inside `vr`): blocks of 128 lanes (eight
    /// u16 accumulators), then of 32. Handles one chunk with `k = 0` (radius ≤ 8) and two
    /// chunks with `k = 1` (`(a₁ + a₂ + 1) >> 1` is `vpavgw`; radius 10); returns false, writing
    /// nothing, for any other case (the scalar row then runs).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) unsafe fn disk_row(
        vr: &[u16],
        taps: &[usize],
        chunk: usize,
        len: usize,
        out: &mut [u8],
        quant: Quant,
    ) -> bool {
        let two = taps.len() > chunk;
        if !((!two && quant.k == 0) || (two && taps.len() <= 2 * chunk && quant.k == 1)) {
            return false;
        }
        let mut e0 = 0;
        // SAFETY: as documented (the caller's assertion covers every read).
        unsafe {
            while e0 + 128 <= len {
                let f = block::<8>(vr.as_ptr(), taps, chunk, two, e0);
                emit(out, quant, e0, &f);
                e0 += 128;
            }
            while e0 < len {
                let f = block::<2>(vr.as_ptr(), taps, chunk, two, e0);
                emit(out, quant, e0, &f);
                e0 += 32;
            }
        }
        true
    }

    /// The rounded disk sums `S'` of the `16·V` lanes from `e0` (u16).
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::needless_range_loop)] // lane v of two register arrays
    #[inline]
    unsafe fn block<const V: usize>(
        base: *const u16,
        taps: &[usize],
        chunk: usize,
        two: bool,
        e0: usize,
    ) -> [__m256i; V] {
        if !two {
            // SAFETY: forwarded.
            return unsafe { sums::<V>(base, taps, e0) };
        }
        // SAFETY: forwarded.
        let (a, b) = unsafe {
            (
                sums::<V>(base, &taps[..chunk], e0),
                sums::<V>(base, &taps[chunk..], e0),
            )
        };
        std::array::from_fn(|v| _mm256_avg_epu16(a[v], b[v]))
    }

    /// u16 wrapping sums over `taps` of the `16·V` lanes from `e0`.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::needless_range_loop)] // lane v of a register array
    #[inline]
    unsafe fn sums<const V: usize>(base: *const u16, taps: &[usize], e0: usize) -> [__m256i; V] {
        let mut a = [_mm256_setzero_si256(); V];
        for &tap in taps {
            // SAFETY: inside `vr` (see `disk_row`).
            unsafe {
                let p = base.add(tap + e0) as *const __m256i;
                for v in 0..V {
                    a[v] = _mm256_add_epi16(a[v], _mm256_loadu_si256(p.add(v)));
                }
            }
        }
        a
    }

    /// Writes `quant.byte` of a block (`f`, 16 lanes per entry) from lane `e0` to `row`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn emit<const V: usize>(row: &mut [u8], quant: Quant, e0: usize, f: &[__m256i; V]) {
        let c = _mm256_set1_epi16(quant.c as i16);
        let p = _mm_cvtsi32_si128(quant.p as i32);
        let q = _mm_cvtsi32_si128(quant.q as i32);
        for (i, pair) in f.chunks_exact(2).enumerate() {
            let a = _mm256_srl_epi16(mulhi(_mm256_sll_epi16(pair[0], p), c), q);
            let b = _mm256_srl_epi16(mulhi(_mm256_sll_epi16(pair[1], p), c), q);
            // SAFETY: AVX2 is enabled here.
            unsafe { store_words(row, e0 + 32 * i, a, b) };
        }
    }

    /// Stores lanes `a` (16 u16, the bytes `at..at + 16`) then `b` as saturated bytes at
    /// `row[at..]` (at most `row.len() − at` of them). Packed per 128-bit half and stored in
    /// halves: with one 256-bit pack and a `vpermq`, LLVM pushed the lane permutation back
    /// through the arithmetic into widening loads, doubling the multiplies (callgrind).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn store_words(row: &mut [u8], at: usize, a: __m256i, b: __m256i) {
        let pa = _mm_packus_epi16(_mm256_castsi256_si128(a), _mm256_extracti128_si256::<1>(a));
        let pb = _mm_packus_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256::<1>(b));
        if at + 32 <= row.len() {
            // SAFETY: 32 bytes from `at` lie inside `row`.
            unsafe {
                let o = row.as_mut_ptr().add(at) as *mut __m128i;
                _mm_storeu_si128(o, pa);
                _mm_storeu_si128(o.add(1), pb);
            }
        } else {
            // SAFETY: AVX2 is enabled here.
            unsafe { store_bytes(row, at, _mm256_set_m128i(pb, pa)) };
        }
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
}

/// `t[e] = w0 · rows[c0 + e] + Σ (rows[a + e] + rows[b + e]) · w` for `e < n` (rows padded so
/// that whole register blocks may be read; `t` has room for whole blocks too): the vertical
/// pass of [`smooth_plane_f32`].
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

    /// Direct definition: `scale · G ⊛ (D ⊛ x)` with reflect-101 borders, in f64, `G` the
    /// separable Gaussian `g` normalised to sum 1.
    fn disk_direct(src: &[u8], h: usize, w: usize, r: usize, g: &[f32], scale: f32) -> Vec<f64> {
        let ri = r as i64;
        let gsum: f64 = g.iter().map(|&v| v as f64).sum();
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
                    out[(y * w + x) * 3 + ch] = a * scale as f64 / (gsum * gsum);
                }
            }
        }
        out
    }

    /// The fast path's own arithmetic written out plainly: the fixed-point Gaussian
    /// `t = Σ_i taps[i]·x` along the rows, `p = (Σ_j ⌊t_j·taps[j]/256⌋ + 128) >> 8` down the
    /// columns (⌊t·256·k / 2¹⁶⌋ = ⌊t·k / 256⌋), then exact integer disk sums `S` of `p` and
    /// their bytes [`Quant::byte`], reflect-101 borders throughout.
    fn disk_emulation(
        src: &[u8],
        h: usize,
        w: usize,
        r: usize,
        taps: &[u16],
        scale: f32,
    ) -> Vec<u8> {
        let ri = r as isize;
        let m = (taps.len() / 2) as isize;
        let at = |img: &[u8], y: isize, x: isize, ch: usize| {
            img[(reflect101(y, h) * w + reflect101(x, w)) * 3 + ch] as u32
        };
        let mut t = vec![0u32; h * w * 3];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..3 {
                    t[(y * w + x) * 3 + ch] = (-m..=m)
                        .map(|i| {
                            taps[(i + m) as usize] as u32 * at(src, y as isize, x as isize + i, ch)
                        })
                        .sum();
                }
            }
        }
        let mut p = vec![0u8; h * w * 3];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..3 {
                    let s: u32 = (-m..=m)
                        .map(|j| {
                            let ty = reflect101(y as isize + j, h);
                            t[(ty * w + x) * 3 + ch] * taps[(j + m) as usize] as u32 / 256
                        })
                        .sum();
                    p[(y * w + x) * 3 + ch] = ((s + 128) >> 8) as u8;
                }
            }
        }
        let quant = Quant::new(disk_spans(r).1, scale);
        let mut out = vec![0u8; h * w * 3];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..3 {
                    let mut a = 0u32;
                    for dy in -ri..=ri {
                        for dx in -ri..=ri {
                            if dx * dx + dy * dy <= ri * ri {
                                a += at(&p, y as isize + dy, x as isize + dx, ch);
                            }
                        }
                    }
                    out[(y * w + x) * 3 + ch] = quant.byte(a);
                }
            }
        }
        out
    }

    #[test]
    fn alias_taps_are_the_gaussian_in_256ths() {
        use crate::kernels::filter2d::opencv_gaussian_kernel as gk;
        // σ = 0.1 (severity 1): side taps 2·10⁻²², the identity.
        assert_eq!(alias_taps(&gk(3, 0.1)), vec![256]);
        // σ = 0.5: 0.1065 / 0.7870 / 0.1065; the 5-tap kernel's outer 0.00026 rounds to 0.
        assert_eq!(alias_taps(&gk(3, 0.5)), vec![27, 202, 27]);
        assert_eq!(alias_taps(&gk(5, 0.5)), vec![27, 202, 27]);
        // A wide one keeps all its taps, and any scale of `g` gives the same taps.
        let g7 = [0.05f32, 0.1, 0.15, 0.4, 0.15, 0.1, 0.05];
        assert_eq!(alias_taps(&g7), vec![13, 26, 38, 102, 38, 26, 13]);
        let g7x2: Vec<f32> = g7.iter().map(|v| v * 2.0).collect();
        assert_eq!(alias_taps(&g7x2), alias_taps(&g7));
    }

    #[test]
    fn quant_is_trunc_of_the_scaled_sum() {
        // Every disk sum of the five reference radii and a few others, with the reference's
        // brightening (1.013 at radius 8) and without: within one level of trunc(S·scale),
        // and equal unless S·scale lies within 255·2⁻¹⁵ < 0.008 of an integer (c ≥ 2¹⁵).
        for (r, ksum) in [
            (0, 1.0),
            (1, 1.0),
            (3, 1.0),
            (4, 1.0),
            (6, 1.0),
            (8, 1.012975),
            (10, 1.010786),
            (20, 1.0),
            (127, 1.0),
        ] {
            let count = disk_spans(r).1;
            let scale = (ksum / count as f64) as f32;
            let quant = Quant::new(count, scale);
            let mut differ = 0;
            for s in 0..=255 * count as u32 {
                let exact = (s as f64 * scale as f64).min(255.0);
                let got = quant.byte(s) as f64;
                let d = got - exact.trunc();
                assert!(d.abs() <= 1.0, "r{r} S{s}: {got} vs {exact}");
                if d != 0.0 {
                    let frac = exact - exact.round();
                    assert!(
                        frac.abs() < 0.008,
                        "r{r} S{s}: {got} vs {exact} ({quant:?})"
                    );
                    differ += 1;
                }
            }
            // flat areas without brightening and with exact 16-bit sums (k = 0, radius ≤ 8):
            // |D|·v ↦ v exactly (c is rounded up); larger disks round S to 16 bits first
            for v in (0..=255u32).filter(|_| ksum == 1.0 && quant.k == 0) {
                let want = ((v as f64 * count as f64 * scale as f64).min(255.0) + 1e-4).trunc();
                assert_eq!(quant.byte(v * count as u32) as f64, want, "r{r} v{v}");
            }
            // (plus the 256 flat sums |D|·v, which f32's 1/|D| may put just below v)
            assert!(
                differ * 200 <= 255 * count + 51_200,
                "r{r}: {differ} differ"
            );
        }
    }

    #[test]
    fn disk_blur_is_its_integer_definition_and_close_to_the_exact_filter() {
        use crate::kernels::filter2d::opencv_gaussian_kernel as gk;
        // σ = 0.1 (identity: the Gaussian is skipped), σ = 0.5 with 3 and 5 taps (radii ≤ 8
        // and 10), an arbitrary wide Gaussian, and images smaller than the kernels.
        let g7 = [0.05f32, 0.1, 0.15, 0.4, 0.15, 0.1, 0.05];
        let (g_id, g3, g5) = (gk(3, 0.1), gk(3, 0.5), gk(5, 0.5));
        for &(h, w, r, g) in &[
            (9usize, 50usize, 3usize, &g_id[..]),
            (12, 61, 10, &g5[..]),
            (7, 45, 4, &g3[..]),
            (5, 97, 8, &g3[..]),
            (6, 23, 1, &g7[..]),
            (3, 4, 0, &g_id[..]),
            (1, 130, 6, &g3[..]),
            (11, 2, 5, &g5[..]),
            (13, 11, 3, &g7[..]),
            (1, 1, 4, &g3[..]),
            (2, 3, 10, &g5[..]),
            (9, 1, 6, &g3[..]),
        ] {
            let src = image(h, w);
            let taps = alias_taps(g);
            let (_, count) = disk_spans(r);
            let scale = 1.0108 / count as f32;
            let want = disk_emulation(&src, h, w, r, &taps, scale);
            let mut a = vec![0u8; src.len()];
            disk_blur_rgb8_scalar(&src, &mut a, h, w, r, &taps, scale);
            assert_eq!(a, want, "{h}x{w} r{r} g{}", g.len());
            for isa in simd::available() {
                let mut b = vec![0u8; src.len()];
                dispatch!(at isa; disk_blur_rgb8_scalar / disk_blur_rgb8_avx2(&src, &mut b, h, w, r, &taps, scale));
                assert_eq!(a, b, "{isa:?} {h}x{w} r{r}");
            }
            // Against `G ⊛ D` in f64: the taps in 256ths and the Gaussian's rounding to bytes
            // move the disk mean by well under a level, so at most one level after truncation.
            let exact = disk_direct(&src, h, w, r, g, scale);
            let (mut max, mut sum) = (0f64, 0f64);
            for (i, (&x, &y)) in a.iter().zip(&exact).enumerate() {
                let q = y.clamp(0.0, 255.0).trunc();
                let d = (x as f64 - q).abs();
                assert!(d <= 1.0, "{h}x{w} r{r} at {i}: {x} vs {y}");
                (max, sum) = (max.max(d), sum + (x as f64 - y.clamp(0.0, 255.0)));
            }
            // and without bias: truncation alone gives a mean of −0.5
            let mean = sum / a.len() as f64;
            assert!(
                (-0.65..=-0.35).contains(&mean) || a.len() < 100,
                "{h}x{w} r{r}: mean {mean} max {max}"
            );
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
