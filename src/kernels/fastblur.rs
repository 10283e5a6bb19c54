//! Fast-mode blur kernels (not bit-exact with the reference; same statistics): the disk blur of
//! defocus_blur on RGB8 images, in integer and f32 arithmetic, and elastic_transform's f32
//! helpers. (gaussian_blur's separable Gaussian is [`crate::kernels::fastgauss`].)
//!
//! * [`disk_blur_rgb8`]: the anti-aliased disk `K = G ⊛ D` of ALGORITHMS.md P2 is applied as `D` then
//!   `G`. `D ⊛ x` is exact integer arithmetic: per kernel row `dy` the binary disk covers
//!   `|dx| ≤ w_dy`, so with exclusive per-channel prefix sums `P` of each reflect-101 padded
//!   source row one output needs `2r + 1` differences `P[x + w_dy + 1] − P[x − w_dy]` instead of
//!   `(2r+1)²` taps (u32, wrapping: differences are exact whatever the prefix magnitude). The
//!   small Gaussian `G` (3 or 5 taps) then runs separably in f32 with reflect-101 borders and
//!   one scale factor `ΣK / |D|` (so the brightening of ALGORITHMS.md Quirk 5 survives).
//!   Deviation from the exact `K` correlation: `K` is `G ⊛ D` clipped to the kernel grid with
//!   reflect-101 borders of the *kernel*, which `G ⊛ D` is not, and the image border is
//!   reflected twice; the effect is a few tenths of a grey level.
//! * [`smooth_plane_f32`] and [`remap_reflect_f32`]: elastic_transform's field smoothing
//!   (SciPy `mode='reflect'`) and bilinear sampling in f32.
//!
//! The blur output is `trunc(clip(v, 0, 255))`. The loops are plain scalar Rust compiled twice
//! (portable twin and an AVX2 build that the compiler vectorises, 8 lanes); no fused
//! multiply-add is used, so the two builds are bit-identical (tested).

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

dispatch! {
    /// Fast defocus blur of an interleaved RGB8 `h × w` image: binary disk of radius `r` (exact,
    /// integer), then the separable small Gaussian `g` (odd length, reflect-101), then `· scale`.
    /// `scale` is `ΣK / |D|` for the reference kernel `K` (see the module docs).
    pub fn disk_blur_rgb8 / disk_blur_rgb8_scalar / disk_blur_rgb8_avx2 (
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
        let vstride = prow + SB;
        let nring = 2 * r + 2;
        // Only V[0] needs zeros; the rest of every buffer here is written before it is read
        // (stale pooled values reach only lanes beyond `row_len`, which are never stored).
        let mut vring = Buf::<u16>::take(nring * vstride);
        vring[..vstride].fill(0);
        let mut v_have = 1usize; // V[0] (zeros) is in the ring
        let border: Vec<(usize, usize)> = (0..r)
            .chain(w + r..w + 2 * r)
            .map(|p| (p, reflect101(p as isize - r as isize, w)))
            .collect();
        // Disk sums (f32) of the rows y−m ..= y+m needed by the Gaussian, ring of 2m+1 rows.
        let m = g.len() / 2;
        let sring = 2 * m + 1;
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
        // Column taps (top row base, bottom row base, column offset) of one output row: for each
        // column offset dx ∈ [−r, r] the disk covers rows |dy| ≤ spans[|dx|].
        let mut taps: Vec<(usize, usize, usize)> = Vec::with_capacity(2 * r + 1);
        for y in 0..h {
            let need_s = (y + m).min(h - 1);
            while s_have <= need_s {
                let k = s_have;
                while v_have <= k + 2 * r + 1 {
                    let q = v_have - 1; // padded row q = source row reflect101(q − r)
                    let sy = reflect101(q as isize - r as isize, h);
                    let s = &src[sy * row_len..(sy + 1) * row_len];
                    let (prev, cur) = ((q % nring) * vstride, (v_have % nring) * vstride);
                    // Split the ring so the previous row can be read while the new one is written.
                    let (lo, hi) = vring.split_at_mut(prev.max(cur));
                    let (pv, cv): (&[u16], &mut [u16]) = if prev < cur {
                        (&lo[prev..prev + prow], &mut hi[..prow])
                    } else {
                        (&hi[..prow], &mut lo[cur..cur + prow])
                    };
                    let mid = r * C..r * C + row_len;
                    for ((o, &a), &v) in cv[mid.clone()].iter_mut().zip(&pv[mid]).zip(s) {
                        *o = a.wrapping_add(v as u16);
                    }
                    for &(p, sx) in &border {
                        for ch in 0..C {
                            cv[p * C + ch] = pv[p * C + ch].wrapping_add(s[sx * C + ch] as u16);
                        }
                    }
                    v_have += 1;
                }
                taps.clear();
                for dx in 0..=2 * r {
                    let hd = spans[dx.abs_diff(r)];
                    let top = ((k + r - hd) % nring) * vstride;
                    let bot = ((k + r + hd + 1) % nring) * vstride;
                    taps.push((bot, top, dx * C));
                }
                let srow = &mut srows[(k % sring) * sstride..(k % sring + 1) * sstride];
                let nb = row_len.div_ceil(SB);
                // Every tap block lies inside its ring row: row base + column offset (≤ 2r·C)
                // + whole blocks (< row_len + SB) ≤ base + prow + SB = base + vstride. Checked
                // once here instead of twice per tap (the checks were most of the tap loop).
                assert!(2 * r * C + nb * SB <= vstride && vring.len() == nring * vstride);
                let vr: &[u16] = &vring;
                for b in 0..nb {
                    let e0 = b * SB;
                    let mut acc = [0u32; SB];
                    for part in taps.chunks(chunk) {
                        let mut a16 = [0u16; SB];
                        for &(bot, top, off) in part {
                            // SAFETY: `bot`, `top` are ring row bases (< nring·vstride, multiples
                            // of vstride) and `off + e0 + SB ≤ vstride` (asserted above).
                            let (bv, tv) = unsafe {
                                (
                                    vr.get_unchecked(bot + off + e0..bot + off + e0 + SB),
                                    vr.get_unchecked(top + off + e0..top + off + e0 + SB),
                                )
                            };
                            let bv: &[u16; SB] = bv.try_into().unwrap();
                            let tv: &[u16; SB] = tv.try_into().unwrap();
                            for i in 0..SB {
                                a16[i] = a16[i].wrapping_add(bv[i].wrapping_sub(tv[i]));
                            }
                        }
                        for i in 0..SB {
                            acc[i] += a16[i] as u32;
                        }
                    }
                    let o: &mut [f32; SB] = (&mut srow[e0..e0 + SB]).try_into().unwrap();
                    for i in 0..SB {
                        o[i] = acc[i] as i32 as f32;
                    }
                }
                s_have += 1;
            }
            // Vertical Gaussian into the middle of `t`.
            {
                let base = |j: isize| (reflect101(y as isize + j, h) % sring) * sstride;
                let c0 = base(0);
                let pairs: Vec<(usize, usize, f32)> = (1..=m)
                    .map(|j| (base(-(j as isize)), base(j as isize), gs[m - j]))
                    .collect();
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
            horizontal_q(&t, out, m, C, g);
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
