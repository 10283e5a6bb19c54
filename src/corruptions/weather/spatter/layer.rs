//! Fast-mode liquid layer of spatter's water branch from half-resolution noise
//! (ALGORITHMS.md §4.18).
//!
//! The layer is `gaussian(N(μ, σ), s)` with SciPy's `nearest` border and `s` = 2–4. Fast mode
//! only has to match its distribution. Here the noise is drawn on a grid of half the
//! resolution in each direction (`⌈h/2⌉ × ⌈w/2⌉` normals) and stands for the full-resolution
//! noise image `n(y, x) = c(⌊y/2⌋, ⌊x/2⌋)` (each draw repeated over a 2×2 block), filtered
//! with the reference's Gaussian and the same `nearest` border. Because
//! `clamp(z, 0, w − 1) / 2 = clamp(z / 2, 0, ⌈w/2⌉ − 1)` (integer halves), the filter of such
//! an image is a filter of the coarse grid itself: an output at `x = 2m + p` is
//! `Σ_j K_p[j] · c(clamp(m + j))` with the *phase kernels* `K_p[j] = Σ_{⌊(p+k)/2⌋ = j} g[k]`
//! (pairs of adjacent taps; `K_1` is `K_0` mirrored). That is about half the taps per pass,
//! the vertical pass runs over half the columns, and a quarter of the normals are drawn.
//!
//! Statistics: the field is Gaussian with the reference's mean; the draws' σ is scaled so that
//! the interior variance is exactly the reference's (`σ·Σg² / Σ K_p²` per axis, the same for
//! both phases by the mirror symmetry); the 2×2 blocks widen the correlation by a box of two
//! pixels (variance `σ_blur² + ¼` per axis: 0.8 % wider blobs at s = 4, 3 % at s = 2); and the
//! `nearest` border still lumps the outside taps onto the edge draws, so the reference's
//! denser splashes along the image border are kept. `layer_statistics_match_reference` holds
//! all of this against the full-resolution f64 filter.

use crate::kernels::gaussian::kernel1d;
use crate::kernels::normal;
use crate::kernels::scratch::Buf;
use crate::rng::RandomSource;
use crate::simd::dispatch;

/// Smallest blur σ drawn at half resolution: below it the 2×2 blocks would widen the
/// correlation by more than a few per cent (mud's σ = 1 keeps full-resolution noise).
pub const MIN_SIGMA: f64 = 2.0;

/// Output values per register block of the vertical pass (two AVX2 registers).
const BLOCK: usize = 16;
/// Output values per phase and register block of the horizontal pass (four AVX2 registers).
const HBLOCK: usize = 32;

/// The phase kernels of the Gaussian `g` (`2r + 1` taps): `(j0, [K_0, K_1])`, each of
/// `J = j1 − j0 + 1` taps for the coarse offsets `j0..=j1`, summed in f64 and rounded to f32.
fn phase_kernels(g: &[f64]) -> (isize, [Vec<f32>; 2]) {
    let r = (g.len() / 2) as isize;
    let j0 = (-r).div_euclid(2);
    let j1 = (1 + r).div_euclid(2);
    let taps = (j1 - j0 + 1) as usize;
    let mut k = [vec![0f64; taps], vec![0f64; taps]];
    for (p, kp) in k.iter_mut().enumerate() {
        for (i, &gk) in g.iter().enumerate() {
            let j = (p as isize + i as isize - r).div_euclid(2);
            kp[(j - j0) as usize] += gk;
        }
    }
    (j0, k.map(|kp| kp.iter().map(|&v| v as f32).collect()))
}

/// Blocks of one axis of `n` pixels: `{0}, {1, 2}, {3, 4}, …` and a single last pixel, for
/// `n` rounded up to even (an odd axis is computed as the even one with its last pixel cut
/// away): the block of pixel `z` (any integer, clamped like SciPy's `nearest`) is
/// `clamp(⌊(z + 1)/2⌋, 0, blocks − 1)`.
fn blocks(n: usize) -> usize {
    n.div_ceil(2) + 1
}

/// Per-axis standard deviation factors of the draws of an axis of `nb` blocks: 1 for the two
/// single-pixel end blocks (the reference's per-pixel noise, onto which the `nearest` border
/// lumps the outside taps), `√(Σg² / ΣK_p²)` for the pairs (the reference's interior variance).
fn axis_scales(nb: usize, pair: f32) -> Vec<f32> {
    (0..nb)
        .map(|b| if b == 0 || b + 1 == nb { 1.0 } else { pair })
        .collect()
}

/// Fast-mode water layer `gaussian(N(mean, std), sigma)` (truncate 4, nearest) of `h × w`
/// values from about `h·w/4` normals of `rng`, into `out` (see the module documentation).
#[cfg(test)]
pub fn half_res_layer(
    rng: &mut dyn RandomSource,
    h: usize,
    w: usize,
    [mean, std, sigma]: [f64; 3],
    out: &mut [f32],
) {
    half_res_rows(rng, h, w, [mean, std, sigma], |y, even, odd| {
        let o = &mut out[y * w..(y + 1) * w];
        for (pair, (&e, &d)) in o.chunks_exact_mut(2).zip(even.iter().zip(odd)) {
            pair[0] = e;
            pair[1] = d;
        }
        if w % 2 == 1 {
            o[w - 1] = even[w / 2];
        }
    });
}

/// Spatter's 8-bit water layer `L8 = trunc_u8(255·L)` with `L < t` zeroed, for the fast-mode
/// layer `L` of [`half_res_layer`] (the same values), into `out` (`h·w` bytes). The last two
/// steps run on each filtered row, fused with putting its two phases back in order.
pub fn half_res_l8(
    rng: &mut dyn RandomSource,
    h: usize,
    w: usize,
    [mean, std, sigma]: [f64; 3],
    t: f32,
    out: &mut [u8],
) {
    half_res_rows(rng, h, w, [mean, std, sigma], |y, even, odd| {
        l8_row(even, odd, t, &mut out[y * w..(y + 1) * w]);
    });
}

/// The layer row by row: `row(y, even, odd)` gets the values of row `y` at even columns
/// (`even[m]` is column `2m`) and at odd columns (`odd[m]`: column `2m + 1`), padded to a
/// multiple of [`HBLOCK`].
fn half_res_rows(
    rng: &mut dyn RandomSource,
    h: usize,
    w: usize,
    [mean, std, sigma]: [f64; 3],
    mut row_out: impl FnMut(usize, &[f32], &[f32]),
) {
    let g = kernel1d(sigma, 4.0);
    let (j0, [k0, k1]) = phase_kernels(&g);
    let taps = k0.len();
    // variance of one axis per unit draw variance: Σ K_p² (equal for both phases) against the
    // reference's Σ g²
    let sum_g2: f64 = g.iter().map(|v| v * v).sum();
    let sum_k2: f64 = k0.iter().map(|&v| v as f64 * v as f64).sum();
    let pair = (sum_g2 / sum_k2).sqrt() as f32;
    let (hb, wb) = (blocks(h), blocks(w));
    // the block grid is stored with rows padded to whole register blocks (padding: the mean)
    let stride = wb.next_multiple_of(BLOCK);
    let z = normal::fast_standard_normals(rng, hb * wb);
    let (rs, cs) = (axis_scales(hb, pair), axis_scales(wb, pair));
    let cs: Vec<f32> = cs.iter().map(|&v| v * std as f32).collect();
    let mean = mean as f32;
    let mut c = Buf::<f32>::take(hb * stride);
    for ((row, zr), &sa) in c.chunks_exact_mut(stride).zip(z.chunks_exact(wb)).zip(&rs) {
        for ((v, &zv), &sb) in row.iter_mut().zip(zr).zip(&cs) {
            *v = mean + (sa * sb) * zv;
        }
        row[wb..].fill(mean);
    }
    // vertical pass: fine rows over the blocks' columns; row y = 2m + q − 1 (m its block) takes
    // K_q at blocks m + j0 …
    let mut v = Buf::<f32>::take(h * stride);
    let mut rows = vec![0usize; taps];
    for y in 0..h {
        let (m, q) = (y.div_ceil(2), (y + 1) % 2);
        for (t, row) in rows.iter_mut().enumerate() {
            *row = (m as isize + j0 + t as isize).clamp(0, hb as isize - 1) as usize;
        }
        let k = if q == 0 { &k0 } else { &k1 };
        vertical_row(&c, stride, &rows, k, &mut v[y * stride..(y + 1) * stride]);
    }
    // horizontal pass: each row padded with its end blocks; x = 2m takes K_1 at m + j0 …,
    // x = 2m + 1 takes K_0 at m + 1 + j0 …: one tap longer kernels sharing each load
    let ke: Vec<f32> = k1.iter().copied().chain([0.0]).collect();
    let ko: Vec<f32> = [0.0].into_iter().chain(k0.iter().copied()).collect();
    let pad_l = (-j0) as usize;
    let half = w.div_ceil(2).next_multiple_of(HBLOCK);
    let mut vp = vec![0f32; half + taps + HBLOCK];
    let (mut even, mut odd) = (vec![0f32; half], vec![0f32; half]);
    for y in 0..h {
        let row = &v[y * stride..y * stride + wb];
        vp[..pad_l].fill(row[0]);
        vp[pad_l..pad_l + wb].copy_from_slice(row);
        vp[pad_l + wb..].fill(row[wb - 1]);
        horizontal_row(&vp, &ke, &ko, &mut even, &mut odd);
        row_out(y, &even, &odd);
    }
}

dispatch! {
    /// One row of [`half_res_l8`]: columns `2m` from `even[m]`, `2m + 1` from `odd[m]`, each
    /// value `v` stored as `trunc_u8(255·v)` after `v < t` became 0 — the operations of
    /// spatter's full-resolution path (the C conversion: truncation, modulo 256).
    fn l8_row / l8_row_scalar / l8_row_avx2 (even: &[f32], odd: &[f32], t: f32, out: &mut [u8]) {
        #[inline(always)]
        fn q(v: f32, t: f32) -> u8 {
            let v = if v < t { 0.0 } else { v } * 255.0;
            let v = if v < 1e9 { v } else { 1e9 };
            // SAFETY: 0 ≤ v ≤ 1e9 fits in i32 (v is a threshold-passing layer value ≥ t > 0,
            // or 0; NaN does not occur in a filter of finite normals).
            unsafe { v.to_int_unchecked::<i32>() as u8 }
        }
        let w = out.len();
        for (pair, (&e, &d)) in out.chunks_exact_mut(2).zip(even.iter().zip(odd)) {
            pair[0] = q(e, t);
            pair[1] = q(d, t);
        }
        if w % 2 == 1 {
            out[w - 1] = q(even[w / 2], t);
        }
    }
}

/// One output row of the vertical pass: `out[c] = Σ_t k[t]·src[rows[t]·wc + c]`, the taps
/// summed in order from 0 in f32 (mul then add, never fused, so every build gives the same
/// bits).
fn vertical_row(src: &[f32], wc: usize, rows: &[usize], k: &[f32], out: &mut [f32]) {
    dispatch!(vertical_row_scalar / vertical_row_avx2(src, wc, rows, k, out))
}

/// Scalar twin of [`vertical_row`]: 16 columns per block.
fn vertical_row_scalar(src: &[f32], wc: usize, rows: &[usize], k: &[f32], out: &mut [f32]) {
    let out = &mut out[..wc];
    let mut c0 = 0;
    while c0 + BLOCK <= wc {
        let mut acc = [0f32; BLOCK];
        for (&r, &kt) in rows.iter().zip(k) {
            let s: &[f32; BLOCK] = src[r * wc + c0..r * wc + c0 + BLOCK].try_into().unwrap();
            for l in 0..BLOCK {
                acc[l] += kt * s[l];
            }
        }
        out[c0..c0 + BLOCK].copy_from_slice(&acc);
        c0 += BLOCK;
    }
    vertical_tail(src, wc, rows, k, c0, out);
}

/// Columns `c0..wc` of [`vertical_row`], one at a time.
#[inline(always)]
fn vertical_tail(src: &[f32], wc: usize, rows: &[usize], k: &[f32], c0: usize, out: &mut [f32]) {
    for (c, o) in out.iter_mut().enumerate().take(wc).skip(c0) {
        let mut acc = 0f32;
        for (&r, &kt) in rows.iter().zip(k) {
            acc += kt * src[r * wc + c];
        }
        *o = acc;
    }
}

/// AVX2 twin of [`vertical_row_scalar`], the same sums: 64 columns per block in eight
/// registers. Why: with the scalar twin's two registers per block each tap waits for the
/// previous add of its register (the pass was latency-bound, ~17 instructions per tap and 16
/// columns with the per-tap bounds checks); eight independent sums keep both FP ports busy.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn vertical_row_avx2(src: &[f32], wc: usize, rows: &[usize], k: &[f32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    const WIDE: usize = 64;
    let taps = rows.len().min(k.len());
    let out = &mut out[..wc];
    // every tap row lies inside `src`: the loads below need no checks
    for &r in &rows[..taps] {
        assert!(
            (r + 1) * wc <= src.len(),
            "vertical_row: row {r} outside the source"
        );
    }
    let (sp, op) = (src.as_ptr(), out.as_mut_ptr());
    let mut c0 = 0;
    while c0 + WIDE <= wc {
        let mut a = [_mm256_setzero_ps(); 8];
        for t in 0..taps {
            // SAFETY: t < taps ≤ both lengths; row·wc + c0 + 64 ≤ (row + 1)·wc (asserted).
            let kv = _mm256_set1_ps(*k.get_unchecked(t));
            let p = sp.add(*rows.get_unchecked(t) * wc + c0);
            for (l, acc) in a.iter_mut().enumerate() {
                *acc = _mm256_add_ps(*acc, _mm256_mul_ps(kv, _mm256_loadu_ps(p.add(8 * l))));
            }
        }
        for (l, acc) in a.iter().enumerate() {
            // SAFETY: c0 + 64 ≤ wc = out.len().
            _mm256_storeu_ps(op.add(c0 + 8 * l), *acc);
        }
        c0 += WIDE;
    }
    while c0 + 8 <= wc {
        let mut acc = _mm256_setzero_ps();
        for t in 0..taps {
            // SAFETY: as above, with 8 columns.
            let kv = _mm256_set1_ps(*k.get_unchecked(t));
            let p = sp.add(*rows.get_unchecked(t) * wc + c0);
            acc = _mm256_add_ps(acc, _mm256_mul_ps(kv, _mm256_loadu_ps(p)));
        }
        _mm256_storeu_ps(op.add(c0), acc);
        c0 += 8;
    }
    vertical_tail(src, wc, &rows[..taps], &k[..taps], c0, out);
}

dispatch! {
    /// One row of the horizontal pass: `even[m] = Σ_t k0[t]·vp[m + t]` and
    /// `odd[m] = Σ_t k1[t]·vp[m + t]` for every `m < even.len()` (a multiple of 32; `vp` holds
    /// at least `even.len() + k0.len() − 1` values), each load shared by both phases, taps
    /// summed in order from 0 (mul then add, never fused).
    fn horizontal_row / horizontal_row_scalar / horizontal_row_avx2 (
        vp: &[f32],
        k0: &[f32],
        k1: &[f32],
        even: &mut [f32],
        odd: &mut [f32],
    ) {
        let n = even.len();
        debug_assert!(n.is_multiple_of(HBLOCK) && odd.len() == n && k1.len() == k0.len());
        assert!(vp.len() + 1 >= n + k0.len());
        for m0 in (0..n).step_by(HBLOCK) {
            let (mut a, mut b) = ([0f32; HBLOCK], [0f32; HBLOCK]);
            for (t, (&ke, &ko)) in k0.iter().zip(k1).enumerate() {
                let s: &[f32; HBLOCK] = vp[m0 + t..m0 + t + HBLOCK].try_into().unwrap();
                for l in 0..HBLOCK {
                    a[l] += ke * s[l];
                    b[l] += ko * s[l];
                }
            }
            even[m0..m0 + HBLOCK].copy_from_slice(&a);
            odd[m0..m0 + HBLOCK].copy_from_slice(&b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gaussian::{gaussian_filter, Mode};
    use crate::rng::{make_rng, RngMode};
    use crate::simd;

    #[test]
    fn phase_kernels_are_pairs_of_taps_and_mirror_images() {
        for sigma in [2.0, 2.5, 3.0, 4.0, 7.3] {
            let g = kernel1d(sigma, 4.0);
            let (_, [k0, k1]) = phase_kernels(&g);
            assert_eq!(k0.len(), k1.len());
            // sums to one, mirror images
            for k in [&k0, &k1] {
                let s: f64 = k.iter().map(|&v| v as f64).sum();
                assert!((s - 1.0).abs() < 1e-6, "σ {sigma}: sum {s}");
            }
            let mut m = k1.clone();
            m.reverse();
            assert_eq!(k0, m, "σ {sigma}");
        }
    }

    /// The layer against its definition: the reference's nearest-mode f64 filter of the
    /// full-resolution image whose pixel (y, x) is the draw of block (b(y), b(x)).
    #[test]
    fn layer_is_the_filter_of_the_block_image() {
        for (h, w, sigma) in [
            (40usize, 36usize, 2.0),
            (37, 45, 3.0),
            (9, 7, 4.0),
            (1, 1, 2.0),
        ] {
            let mut rng = make_rng(RngMode::Fast, 5).unwrap();
            let mut got = vec![0f32; h * w];
            half_res_layer(&mut *rng, h, w, [0.65, 0.3, sigma], &mut got);
            // the same draws, scaled the same way
            let mut rng = make_rng(RngMode::Fast, 5).unwrap();
            let (hb, wb) = (blocks(h), blocks(w));
            let z = normal::fast_standard_normals(&mut *rng, hb * wb);
            let g = kernel1d(sigma, 4.0);
            let (_, [k0, _]) = phase_kernels(&g);
            let s2: f64 = g.iter().map(|v| v * v).sum::<f64>()
                / k0.iter().map(|&v| v as f64 * v as f64).sum::<f64>();
            let (rs, cs) = (
                axis_scales(hb, s2.sqrt() as f32),
                axis_scales(wb, s2.sqrt() as f32),
            );
            let b = |z: usize, nb: usize| z.div_ceil(2).min(nb - 1);
            // odd sizes: the even size's image cut short
            let (he, we) = (h.next_multiple_of(2), w.next_multiple_of(2));
            let mut full = vec![0f64; he * we];
            for y in 0..he {
                for x in 0..we {
                    let (a, c) = (b(y, hb), b(x, wb));
                    full[y * we + x] =
                        0.65 + (rs[a] * (cs[c] * 0.3f32)) as f64 * z[a * wb + c] as f64;
                }
            }
            gaussian_filter(&mut full, he, we, 1, sigma, sigma, 4.0, Mode::Nearest);
            for y in 0..h {
                for x in 0..w {
                    let (a, b) = (got[y * w + x], full[y * we + x]);
                    assert!(
                        (a as f64 - b).abs() < 2e-6,
                        "{h}×{w} σ {sigma} at {y},{x}: {a} {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn filter_rows_simd_equal_scalar() {
        let (_, [k0, k1]) = phase_kernels(&kernel1d(3.0, 4.0));
        // 150 columns: two 64-column blocks of the AVX2 vertical pass, 16 and a tail
        for wc in [37usize, 150] {
            let hc = 9usize;
            let src: Vec<f32> = (0..hc * wc)
                .map(|i| ((i * 7919) % 1013) as f32 / 1013.0)
                .collect();
            let rows: Vec<usize> = (0..k0.len()).map(|t| (t * 5) % hc).collect();
            let n = wc.next_multiple_of(HBLOCK);
            let vp: Vec<f32> = (0..n + k0.len() + HBLOCK)
                .map(|i| ((i * 613) % 97) as f32 * 0.01)
                .collect();
            let mut a = vec![0f32; wc];
            vertical_row_scalar(&src, wc, &rows, &k0, &mut a);
            // the definition, in the same order
            for (c, &v) in a.iter().enumerate() {
                let mut want = 0f32;
                for (&r, &kt) in rows.iter().zip(&k0) {
                    want += kt * src[r * wc + c];
                }
                assert_eq!(v, want);
            }
            let (mut e, mut o) = (vec![0f32; n], vec![0f32; n]);
            horizontal_row_scalar(&vp, &k0, &k1, &mut e, &mut o);
            for m in 0..n {
                let (mut we, mut wo) = (0f32, 0f32);
                for t in 0..k0.len() {
                    we += k0[t] * vp[m + t];
                    wo += k1[t] * vp[m + t];
                }
                assert_eq!((e[m], o[m]), (we, wo), "m {m}");
            }
            for isa in simd::available() {
                let mut b = vec![0f32; wc];
                dispatch!(at isa; vertical_row_scalar / vertical_row_avx2(&src, wc, &rows, &k0, &mut b));
                assert_eq!(a, b, "{isa:?}");
                let (mut e2, mut o2) = (vec![0f32; n], vec![0f32; n]);
                dispatch!(at isa; horizontal_row_scalar / horizontal_row_avx2(&vp, &k0, &k1, &mut e2, &mut o2));
                assert_eq!((&e, &o), (&e2, &o2), "{isa:?}");
            }
        }
    }

    /// The fused 8-bit layer is the full-resolution conversion of the f32 layer, and the
    /// row kernel's twins agree (odd and even widths, values around the threshold and above
    /// 1, which wraps modulo 256).
    #[test]
    fn l8_is_the_conversion_of_the_layer() {
        for (h, w) in [(30usize, 41usize), (16, 64)] {
            let p = [0.65, 0.3, 2.0];
            let mut l = vec![0f32; h * w];
            half_res_layer(&mut *make_rng(RngMode::Fast, 9).unwrap(), h, w, p, &mut l);
            let mut got = vec![0u8; h * w];
            half_res_l8(
                &mut *make_rng(RngMode::Fast, 9).unwrap(),
                h,
                w,
                p,
                0.68,
                &mut got,
            );
            let want: Vec<u8> = l
                .iter()
                .map(|&v| (if v < 0.68 { 0.0 } else { v } * 255.0) as i32 as u8)
                .collect();
            assert_eq!(got, want, "{h}×{w}");
            assert!(want.iter().any(|&v| v > 0) && want.contains(&0));
        }
        for w in [1usize, 2, 7, 64, 65] {
            let half = w.div_ceil(2).next_multiple_of(HBLOCK);
            let e: Vec<f32> = (0..half).map(|i| 0.6 + (i % 13) as f32 * 0.05).collect();
            let d: Vec<f32> = (0..half).map(|i| 0.55 + (i % 7) as f32 * 0.09).collect();
            let mut a = vec![0u8; w];
            l8_row_scalar(&e, &d, 0.69, &mut a);
            for (x, &v) in a.iter().enumerate() {
                let s = if x % 2 == 0 { e[x / 2] } else { d[x / 2] };
                let want = (if s < 0.69 { 0.0 } else { s } * 255.0) as i32 as u8;
                assert_eq!(v, want, "w {w} x {x}");
            }
            for isa in simd::available() {
                let mut b = vec![0u8; w];
                dispatch!(at isa; l8_row_scalar / l8_row_avx2(&e, &d, 0.69, &mut b));
                assert_eq!(a, b, "w {w} {isa:?}");
            }
        }
    }

    /// Moments of a layer: interior variance, variance of the border rows and columns,
    /// interior lag correlations at 1, 3 and 6 pixels (both axes), and the fraction above `t`.
    fn moments(l: &[f32], h: usize, w: usize, mean: f64, t: f64) -> [f64; 6] {
        let at = |y: usize, x: usize| l[y * w + x] as f64 - mean;
        let m = 24; // interior margin (> 4σ)
        let (mut var, mut n) = (0.0, 0.0);
        let mut lag = [0.0f64; 3];
        for y in m..h - m {
            for x in m..w - m {
                var += at(y, x) * at(y, x);
                for (k, d) in [1usize, 3, 6].into_iter().enumerate() {
                    lag[k] += at(y, x) * (at(y, x + d) + at(y + d, x)) / 2.0;
                }
                n += 1.0;
            }
        }
        let (mut edge, mut ne) = (0.0, 0.0);
        for i in m..w - m {
            for (y, x) in [(0, i), (h - 1, i), (i, 0), (i, w - 1)] {
                edge += at(y, x) * at(y, x);
                ne += 1.0;
            }
        }
        let above = l.iter().filter(|&&v| v as f64 > t).count() as f64 / l.len() as f64;
        [
            var / n,
            edge / ne,
            lag[0] / var,
            lag[1] / var,
            lag[2] / var,
            above,
        ]
    }

    /// Fast-mode statistics test of the half-resolution layer: against the reference's
    /// full-resolution f64 filter of `h·w` normals (numpy mode's algorithm) over the water
    /// severities' σ: the interior variance, the (higher) variance on the border, the lag
    /// correlations and the fraction above the threshold, averaged over 12 draws each. A wrong
    /// scale of the draws, a missing border lump, or a wrong kernel (e.g. the coarse grid
    /// filtered with the fine σ, or the fine σ halved) fails it.
    #[test]
    fn layer_statistics_match_reference() {
        let (h, w) = (224usize, 224usize);
        for (sigma, t) in [(4.0, 0.69), (3.0, 0.68), (2.0, 0.68)] {
            let (mean, std) = (0.65, 0.3);
            let (mut ours, mut theirs) = ([0.0f64; 6], [0.0f64; 6]);
            let draws = 12;
            for seed in 0..draws {
                let mut rng = make_rng(RngMode::Fast, 7000 + seed).unwrap();
                let mut l = vec![0f32; h * w];
                half_res_layer(&mut *rng, h, w, [mean, std, sigma], &mut l);
                for (a, b) in ours.iter_mut().zip(moments(&l, h, w, mean, t)) {
                    *a += b / draws as f64;
                }
                let mut r = vec![0f64; h * w];
                rng.fill_normal(&mut r, mean, std);
                gaussian_filter(&mut r, h, w, 1, sigma, sigma, 4.0, Mode::Nearest);
                let r: Vec<f32> = r.iter().map(|&v| v as f32).collect();
                for (a, b) in theirs.iter_mut().zip(moments(&r, h, w, mean, t)) {
                    *a += b / draws as f64;
                }
            }
            let names = [
                "variance",
                "border variance",
                "lag 1",
                "lag 3",
                "lag 6",
                "above t",
            ];
            // relative tolerances: sampling noise of 12 draws of a field with ~250
            // independent blobs (about 3 %), the border over fewer pixels, the tail fraction
            // noisier still; lag correlations absolute
            let tol = [0.08, 0.15, 0.02, 0.03, 0.04, 0.25];
            for k in 0..6 {
                let ok = if (2..5).contains(&k) {
                    (ours[k] - theirs[k]).abs() <= tol[k]
                } else {
                    (ours[k] / theirs[k] - 1.0).abs() <= tol[k]
                };
                assert!(
                    ok,
                    "σ {sigma}: {}: ours {} reference {}\nours {ours:?}\nreference {theirs:?}",
                    names[k], ours[k], theirs[k]
                );
            }
            // the reference's border splashes are real: the border variance is well above
            // the interior one in both
            assert!(ours[1] > 2.0 * ours[0] && theirs[1] > 2.0 * theirs[0]);
        }
    }
}
