//! Fast-mode filter of gaussian_blur (ALGORITHMS.md §4.17): the separable Gaussian with SciPy
//! `mode='nearest'` borders on an interleaved RGB8 image, in f32 on the 0–255 scale with the
//! symmetric taps folded, quantised straight to bytes.
//!
//! Taps: `gh[k] = g[r + k]` for `k = 0..=r`, the upper half of the full (symmetric) taps `g`
//! rounded to f32. Each pass computes, per value with neighbours `x[±k]` along its axis
//! (rows clamped to the image, pixels clamped to the row):
//!
//! `c_j = fma(gh[k], x[−k] + x[k], c_j)` for `k = r, r − 1, …, 1` (outermost pair first) into
//! two chains `j = k mod 2` starting at 0, then `v = fma(gh[0], x[0], c_0 + c_1)`
//!
//! (every pair sum, FMA and add rounded to f32). The vertical pass runs
//! first (SciPy's axis order), on the source bytes as f32; the horizontal pass on its output;
//! the result is `trunc(clip(v, 0, 255))`. The AVX2 kernel performs exactly these operations
//! per value and the scalar twin uses the correctly rounded [`fma_f32`], so the two are
//! bit-identical (tested). Pair sums are commutative, so the filter commutes exactly with
//! mirroring along either axis.
//!
//! Why this shape (issue 18): the unfolded filter ([`crate::kernels::fastgauss`], one FMA per
//! tap) was bound by the two FMA pipes, or by the loads where each tap reloads its input.
//! Folding turns two taps into one add and one FMA, which run on different pipes, so it pays
//! only if the loads do not grow with it: four outputs along the filter axis are computed
//! together and their left operands slide through registers (those of step `k − 1` are
//! those of step `k` shifted by one output, plus one new load), so each step costs one load,
//! one weight broadcast, four adds (each loading its right operand) and four FMAs; two
//! chains per output keep eight FMAs in flight (their latency, not their throughput, bound
//! a one-chain version), and the source rows are one padded f32 image so that every operand
//! address is linear in the step. Along rows that needs
//! the pixels of one channel at consecutive addresses, so the horizontal pass works on
//! strips of 8 rows transposed in registers: one vector holds one (pixel, channel) of the 8
//! rows, and a strip channel is a column of such vectors. The vertical pass writes its 8
//! output rows straight into that layout (8×8 transposes), and the horizontal pass's output
//! is transposed back into rows and quantised 32 values at a time.

use crate::kernels::quantise::q255_f32 as q255;
use crate::kernels::scratch::Buf;
use crate::simd::dispatch;
use crate::simd::fma::fma_f32;

/// Rows per strip (the 8 lanes of an AVX2 vector in the transposed layout).
const ROWS: usize = 8;

/// The upper half `g[r..]` of symmetric odd-length taps.
///
/// # Panics
/// If `g` has even length or is not symmetric.
fn half_taps(g: &[f32]) -> &[f32] {
    assert!(g.len() % 2 == 1, "Gaussian taps must have odd length");
    let r = g.len() / 2;
    assert!(
        (1..=r).all(|k| g[r + k] == g[r - k]),
        "Gaussian taps must be symmetric"
    );
    &g[r..]
}

/// Folded Gaussian of an interleaved `h × w × 3` image, `dst = q(G_cols(G_rows(src)))` with taps
/// `g` (odd length, symmetric, f32). See the module docs for the exact arithmetic.
///
/// # Panics
/// If `g` has even length or is not symmetric, or `src`/`dst` hold fewer than `h·w·3` values.
pub fn gaussian_rgb8(src: &[u8], dst: &mut [u8], h: usize, w: usize, g: &[f32]) {
    dispatch!(gaussian_rgb8_scalar / gaussian_rgb8_avx2(src, dst, h, w, g))
}

/// One folded value: `x(k)` is the input at offset `k` (`−r..=r`) from the output. Pair `k`
/// goes to chain `k mod 2`; the chains are summed, then the centre tap is added.
#[inline(always)]
fn fold(gh: &[f32], x: impl Fn(isize) -> f32) -> f32 {
    let mut c = [0f32; 2];
    for k in (1..gh.len()).rev() {
        let ki = k as isize;
        c[k % 2] = fma_f32(gh[k], x(-ki) + x(ki), c[k % 2]);
    }
    fma_f32(gh[0], x(0), c[0] + c[1])
}

/// Scalar twin of [`gaussian_rgb8`].
pub fn gaussian_rgb8_scalar(src: &[u8], dst: &mut [u8], h: usize, w: usize, g: &[f32]) {
    let gh = half_taps(g);
    let n = w * 3;
    assert!(src.len() >= h * n && dst.len() >= h * n);
    if h == 0 || n == 0 {
        return;
    }
    let clamp = |i: isize, len: usize| i.clamp(0, len as isize - 1) as usize;
    let mut t = Buf::<f32>::take(h * n);
    for y in 0..h {
        for e in 0..n {
            t[y * n + e] = fold(gh, |k| src[clamp(y as isize + k, h) * n + e] as f32);
        }
    }
    for y in 0..h {
        let row = &t[y * n..(y + 1) * n];
        for x in 0..w {
            for c in 0..3 {
                let v = fold(gh, |k| row[clamp(x as isize + k, w) * 3 + c]);
                dst[y * n + x * 3 + c] = q255(v);
            }
        }
    }
}

/// AVX2 + FMA twin of [`gaussian_rgb8_scalar`].
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gaussian_rgb8_avx2(src: &[u8], dst: &mut [u8], h: usize, w: usize, g: &[f32]) {
    use std::arch::x86_64::*;
    // One step of `fold4!`: chain `acc` of the four outputs gets `w·(l_q + in(q + k))` with
    // `w = gh[k]` at `wp` and `in(k)` at `pr`; then `l0` is reloaded from `pl` (`in(4 − k)`,
    // the next step's fourth left operand) and the pointers move to step `k − 1`.
    macro_rules! step {
        ($wp:ident, $pr:ident, $pl:ident, $s:ident, $s3:ident, $acc:ident,
         $l0:ident, $l1:ident, $l2:ident, $l3:ident) => {{
            std::arch::asm!(
                "vbroadcastss {w}, dword ptr [{wp}]",
                "vaddps {t}, {l0}, ymmword ptr [{pr}]",
                "vfmadd231ps {a0}, {w}, {t}",
                "vaddps {t}, {l1}, ymmword ptr [{pr} + {s}]",
                "vfmadd231ps {a1}, {w}, {t}",
                "vaddps {t}, {l2}, ymmword ptr [{pr} + 2*{s}]",
                "vfmadd231ps {a2}, {w}, {t}",
                "vaddps {t}, {l3}, ymmword ptr [{pr} + {s3}]",
                "vfmadd231ps {a3}, {w}, {t}",
                "vmovups {l0}, ymmword ptr [{pl}]",
                "sub {wp}, 4",
                "sub {pr}, {s}",
                "add {pl}, {s}",
                wp = inout(reg) $wp,
                pr = inout(reg) $pr,
                pl = inout(reg) $pl,
                s = in(reg) $s,
                s3 = in(reg) $s3,
                l0 = inout(ymm_reg) $l0,
                l1 = in(ymm_reg) $l1,
                l2 = in(ymm_reg) $l2,
                l3 = in(ymm_reg) $l3,
                a0 = inout(ymm_reg) $acc[0],
                a1 = inout(ymm_reg) $acc[1],
                a2 = inout(ymm_reg) $acc[2],
                a3 = inout(ymm_reg) $acc[3],
                w = out(ymm_reg) _,
                t = out(ymm_reg) _,
                options(pure, readonly, nostack),
            );
        }};
    }

    // Four consecutive outputs of the folded filter; the input at offset `i` from the first
    // output (`−r ..= 3 + r`) is the vector at `p + i·stride` (bytes). Step `k` adds
    // `gh[k]·(in(q − k) + in(q + k))` to chain `k mod 2` of output `q`. The left operands of
    // step `k − 1` are those of step `k` shifted by one output plus one new load, so they
    // stay in four named registers that rotate (unrolled by four); the right operands are
    // memory operands of the adds. The step is written in assembly because the compiler
    // otherwise keeps the right operands in registers too (they also shift by one output per
    // step) and spills. Two chains per output keep eight FMAs in flight (one chain left the
    // loop bound by the FMA latency), within the sixteen AVX2 registers. A macro, so that it
    // is expanded inside this `target_feature` function (the assembly needs AVX registers).
    macro_rules! fold4 {
        ($gh:expr, $p:expr, $stride:expr) => {{
            let gh: &[f32] = $gh;
            let p: *const f32 = $p;
            let stride: isize = $stride;
            let r = (gh.len() - 1) as isize;
            let s3 = 3 * stride;
            let at = |i: isize| _mm256_loadu_ps(p.byte_offset(i * stride));
            let z = _mm256_setzero_ps();
            let (mut c0, mut c1) = ([z; 4], [z; 4]);
            let (mut a, mut b, mut c, mut d) = (at(-r), at(1 - r), at(2 - r), at(3 - r));
            let mut wp = gh.as_ptr().offset(r);
            let mut pr = p.byte_offset(r * stride);
            let mut pl = p.byte_offset((4 - r) * stride);
            let mut k = r;
            while k % 4 != 0 {
                if k % 2 == 0 {
                    step!(wp, pr, pl, stride, s3, c0, a, b, c, d);
                } else {
                    step!(wp, pr, pl, stride, s3, c1, a, b, c, d);
                }
                (a, b, c, d) = (b, c, d, a);
                k -= 1;
            }
            while k > 0 {
                step!(wp, pr, pl, stride, s3, c0, a, b, c, d);
                step!(wp, pr, pl, stride, s3, c1, b, c, d, a);
                step!(wp, pr, pl, stride, s3, c0, c, d, a, b);
                step!(wp, pr, pl, stride, s3, c1, d, a, b, c);
                k -= 4;
            }
            let w0 = _mm256_set1_ps(gh[0]);
            [
                _mm256_fmadd_ps(w0, a, _mm256_add_ps(c0[0], c1[0])),
                _mm256_fmadd_ps(w0, b, _mm256_add_ps(c0[1], c1[1])),
                _mm256_fmadd_ps(w0, c, _mm256_add_ps(c0[2], c1[2])),
                _mm256_fmadd_ps(w0, d, _mm256_add_ps(c0[3], c1[3])),
            ]
        }};
    }

    let gh = half_taps(g);
    let r = gh.len() - 1;
    let n = w * 3;
    assert!(src.len() >= h * n && dst.len() >= h * n);
    if h == 0 || n == 0 {
        return;
    }
    // Geometry: rows are handled in groups of 8 pixels (24 values, three vectors); a strip
    // channel holds `r` replicated pixels, the row's pixels rounded up to whole groups (the
    // transposes write whole groups), then `r` more (the right replicas, written after).
    let groups = w.div_ceil(8);
    let rlen = groups * 24;
    let xs = groups * 8;
    let sstride = (xs + 2 * r) * ROWS;
    let ostride = xs * ROWS;
    // Source rows as f32, `rlen` values each (the row, then unspecified but initialised
    // values feeding only lanes that are never stored), in a ring of `nring` slots stored
    // twice over (slot `i` and `i + nring` hold the same row), so that the `nring`
    // consecutive rows a strip reads are always at one stride. Virtual row `v` (from `−r`,
    // clamped to the image, SciPy `nearest`) sits in slot `(v + r) mod nring`.
    let nring = 2 * r + ROWS;
    let mut ring = Buf::<f32>::take(2 * nring * rlen);
    let mut strip = Buf::<f32>::take(3 * sstride);
    let mut out = Buf::<f32>::take(3 * ostride);
    let mut tile = Buf::<f32>::take(ROWS * rlen);
    let mut next = -(r as isize);
    // Strip offset (in floats) of value j of a 24-value group: pixel j / 3, channel j % 3.
    let slot: [usize; 24] = std::array::from_fn(|j| (j % 3) * sstride + (r + j / 3) * ROWS);
    let oslot: [usize; 24] = std::array::from_fn(|j| (j % 3) * ostride + (j / 3) * ROWS);
    // Row stride of the ring in bytes.
    let rstride = (rlen * 4) as isize;
    let mut y0 = 0;
    while y0 < h {
        // Load virtual rows up to y0 + 7 + r.
        while next <= (y0 + ROWS - 1 + r) as isize {
            let y = next.clamp(0, h as isize - 1) as usize;
            let o = ((next + r as isize) as usize % nring) * rlen;
            for (d, &v) in ring[o..o + n].iter_mut().zip(&src[y * n..(y + 1) * n]) {
                *d = v as f32;
            }
            ring.copy_within(o..o + n, o + nring * rlen);
            next += 1;
        }
        // Vertical pass: 8 rows × 8 values per step, transposed into the strip. Row y0 is
        // virtual row y0, `r` slots after the window's first (y0 − r, slot y0 mod nring).
        let sp = strip.as_mut_ptr();
        let first = ring.as_ptr().add((y0 % nring + r) * rlen);
        for e in (0..rlen).step_by(8) {
            let p0 = first.add(e);
            let p1 = p0.add(4 * rlen);
            let top = fold4!(gh, p0, rstride);
            let bottom = fold4!(gh, p1, rstride);
            let v = transpose8([
                top[0], top[1], top[2], top[3], bottom[0], bottom[1], bottom[2], bottom[3],
            ]);
            let base = (e / 24) * 8 * ROWS;
            let j0 = e % 24;
            for (j, vj) in v.iter().enumerate() {
                _mm256_storeu_ps(sp.add(base + slot[j0 + j]), *vj);
            }
        }
        // Replicate the edge pixels of each strip channel.
        for c in 0..3 {
            let ch = sp.add(c * sstride);
            let first = _mm256_loadu_ps(ch.add(r * ROWS));
            let lastv = _mm256_loadu_ps(ch.add((r + w - 1) * ROWS));
            for p in 0..r {
                _mm256_storeu_ps(ch.add(p * ROWS), first);
                _mm256_storeu_ps(ch.add((r + w + p) * ROWS), lastv);
            }
        }
        // Horizontal pass: four pixels of one channel per step.
        let op = out.as_mut_ptr();
        for c in 0..3 {
            let ch = strip.as_ptr().add(c * sstride + r * ROWS);
            let oc = op.add(c * ostride);
            for x0 in (0..w).step_by(4) {
                let v = fold4!(gh, ch.add(x0 * ROWS), (ROWS * 4) as isize);
                for (q, vq) in v.iter().enumerate() {
                    _mm256_storeu_ps(oc.add((x0 + q) * ROWS), *vq);
                }
            }
        }
        // Back to rows (8×8 transposes), then bytes.
        let tp = tile.as_mut_ptr();
        for e in (0..rlen).step_by(8) {
            let base = (e / 24) * 8 * ROWS;
            let j0 = e % 24;
            let v: [__m256; 8] =
                std::array::from_fn(|j| _mm256_loadu_ps(op.add(base + oslot[j0 + j])));
            for (y, vy) in transpose8(v).iter().enumerate() {
                _mm256_storeu_ps(tp.add(y * rlen + e), *vy);
            }
        }
        for y in 0..ROWS.min(h - y0) {
            quantise_row(tp.add(y * rlen), &mut dst[(y0 + y) * n..(y0 + y + 1) * n]);
        }
        y0 += ROWS;
    }

    /// 8×8 transpose of f32 vectors.
    #[inline(always)]
    unsafe fn transpose8(v: [__m256; 8]) -> [__m256; 8] {
        let t0 = _mm256_unpacklo_ps(v[0], v[1]);
        let t1 = _mm256_unpackhi_ps(v[0], v[1]);
        let t2 = _mm256_unpacklo_ps(v[2], v[3]);
        let t3 = _mm256_unpackhi_ps(v[2], v[3]);
        let t4 = _mm256_unpacklo_ps(v[4], v[5]);
        let t5 = _mm256_unpackhi_ps(v[4], v[5]);
        let t6 = _mm256_unpacklo_ps(v[6], v[7]);
        let t7 = _mm256_unpackhi_ps(v[6], v[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ]
    }

    /// `out[e] = trunc(clip(v[e], 0, 255))` (as [`q255`]), 32 values per step while whole
    /// steps fit in `out`, then 8 per step; `v` holds whole 8-value steps.
    #[inline(always)]
    unsafe fn quantise_row(v: *const f32, out: &mut [u8]) {
        let (zero, top) = (_mm256_setzero_ps(), _mm256_set1_ps(255.0));
        let q = |p: *const f32| {
            _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(p), zero), top))
        };
        let n = out.len();
        let mut e = 0;
        // packs work per 128-bit lane: the bytes come out as dwords a0 b0 c0 d0 a1 b1 c1 d1
        // (x0/x1 = first/second half of vector x); the permutation restores the order.
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        while e + 32 <= n {
            let ab = _mm256_packus_epi32(q(v.add(e)), q(v.add(e + 8)));
            let cd = _mm256_packus_epi32(q(v.add(e + 16)), q(v.add(e + 24)));
            let b = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd), order);
            _mm256_storeu_si256(out.as_mut_ptr().add(e) as *mut __m256i, b);
            e += 32;
        }
        while e < n {
            // max/min return the second operand for NaN, like q255's comparisons.
            let i = q(v.add(e));
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::fastgauss::tests::assert_tracks_exact_rgb8;
    use crate::kernels::gaussian::kernel1d;
    use crate::simd;

    fn taps(sigma: f64) -> Vec<f32> {
        kernel1d(sigma, 4.0).iter().map(|&v| v as f32).collect()
    }

    fn image(h: usize, w: usize) -> Vec<u8> {
        (0..h * w * 3)
            .map(|i| ((i * 73 + (i / 7) * 31) % 256) as u8)
            .collect()
    }

    /// Twins bit-identical (odd sizes: partial strips and pixel groups, radii beyond the
    /// image), and within one grey level of the exact f64 filter, equal to it wherever the
    /// exact value is not within 10⁻³ of an integer.
    #[test]
    fn simd_equals_scalar_and_definition() {
        for &(h, w) in &[
            (1usize, 1usize),
            (1, 9),
            (9, 1),
            (2, 3),
            (13, 11),
            (33, 17),
            (7, 40),
            (8, 8),
            (17, 24),
            (16, 5),
        ] {
            let src = image(h, w);
            for sigma in [0.1, 0.5, 1.0, 1.3, 2.0, 3.0, 6.0] {
                let g = taps(sigma);
                let mut a = vec![0u8; src.len()];
                gaussian_rgb8_scalar(&src, &mut a, h, w, &g);
                for isa in simd::available() {
                    let mut b = vec![1u8; src.len()];
                    dispatch!(at isa; gaussian_rgb8_scalar / gaussian_rgb8_avx2(&src, &mut b, h, w, &g));
                    assert_eq!(a, b, "{h}x{w} σ {sigma} {isa:?}");
                }
                assert_tracks_exact_rgb8(&a, &src, h, w, sigma);
            }
        }
    }

    /// Folded pairs make the filter commute exactly with mirroring along both axes.
    #[test]
    fn commutes_with_mirroring() {
        let (h, w) = (19usize, 37usize);
        let src: Vec<u8> = (0..h * w * 3).map(|i| ((i * 91) % 251) as u8).collect();
        let mirror = |v: &[u8], flip_x: bool| -> Vec<u8> {
            let mut o = v.to_vec();
            for y in 0..h {
                for x in 0..w {
                    let (sy, sx) = if flip_x {
                        (y, w - 1 - x)
                    } else {
                        (h - 1 - y, x)
                    };
                    let (a, b) = ((y * w + x) * 3, (sy * w + sx) * 3);
                    o[a..a + 3].copy_from_slice(&v[b..b + 3]);
                }
            }
            o
        };
        let g = taps(2.5);
        for flip_x in [true, false] {
            let mut a = vec![0u8; src.len()];
            let mut b = vec![0u8; src.len()];
            gaussian_rgb8(&src, &mut a, h, w, &g);
            gaussian_rgb8(&mirror(&src, flip_x), &mut b, h, w, &g);
            assert_eq!(mirror(&a, flip_x), b, "flip_x {flip_x}");
        }
    }

    #[test]
    fn flat_stays_flat_within_rounding() {
        let src = vec![200u8; 20 * 30 * 3];
        let mut out = vec![0u8; src.len()];
        gaussian_rgb8(&src, &mut out, 20, 30, &taps(2.0));
        assert!(out.iter().all(|&v| v == 199 || v == 200));
    }

    #[test]
    #[should_panic(expected = "symmetric")]
    fn asymmetric_taps_are_refused() {
        let mut out = [0u8; 3];
        gaussian_rgb8(&[1, 2, 3], &mut out, 1, 1, &[0.2, 0.5, 0.3]);
    }
}
