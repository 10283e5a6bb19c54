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
//! denser splashes along the image border are kept. The Gaussian is cut at 3σ instead of the
//! reference's 4σ ([`FAST_TRUNCATE`]), with the draws still scaled for the 4σ kernel.
//! `layer_statistics_match_reference` holds all of this against the full-resolution f64
//! filter (cut at 4σ).
//!
//! Arithmetic: every sum of both passes is a chain of fused multiply-adds from 0 in tap order
//! (`fma(k, v, acc)`, one rounding per tap; hardware FMA in the AVX2 twins, the correctly
//! rounded [`fma_f32`] in the scalar ones, so both give the same bits). Why: a multiply then an
//! add per tap was two µops on the two FP ports, and the passes were bound by them; the fused
//! sum is the same value up to one rounding per tap (~1e-7 relative), which moves an 8-bit
//! layer value only where `255·L` or `L − t` lies that close to a boundary. The vertical pass
//! makes the two fine rows of a block row at once, and the horizontal pass thresholds,
//! truncates and interleaves its sums in registers (see the kernels).

use crate::kernels::gaussian::kernel1d;
use crate::kernels::normal;
use crate::kernels::scratch::Buf;
use crate::rng::RandomSource;
use crate::simd::dispatch;
use crate::simd::fma::fma_f32;

/// Smallest blur σ drawn at half resolution: below it the 2×2 blocks would widen the
/// correlation by more than a few per cent (mud's σ = 1 keeps full-resolution noise).
pub const MIN_SIGMA: f64 = 2.0;

/// The water layer's Gaussian is cut at 3σ (the reference: 4σ), as fast-mode mud's
/// (ALGORITHMS.md §4.18): 13, 11 and 7 phase-kernel taps instead of 17, 13 and 9 at blur σ = 4,
/// 3 and 2. Why: both passes cost one FMA per tap and output. The dropped taps carry ~0.3 % of
/// the kernel's mass (renormalised away), and the draws' scale is still set from the
/// reference's 4σ kernel, so the interior variance stays the reference's;
/// `truncation_keeps_the_layer` bounds what moves.
const FAST_TRUNCATE: f64 = 3.0;

/// Values per AVX2 register: both passes compute rows rounded up to a multiple of 8.
const LANES: usize = 8;
/// Most registers per block and output (row or phase) in the passes' AVX2 kernels: 12
/// accumulators, two broadcast taps and a load fill the 16 registers. Why: an FMA has a latency
/// of 4 cycles at two per cycle, so 8 independent sums in flight only just keep the FMA ports
/// busy (any late load stalls them); 12 leave slack.
const MAX_REGS: usize = 6;

/// `n` registers of a row cut into blocks of at most [`MAX_REGS`], as even as possible
/// (`(first register, registers)`): an end block of one or two registers would have only 2–4
/// sums in flight and wait on the FMA latency at every tap.
fn register_blocks(n: usize) -> impl Iterator<Item = (usize, usize)> {
    let b = n.div_ceil(MAX_REGS);
    // (no block at all for n = 0)
    let (base, extra) = (n / b.max(1), n % b.max(1));
    (0..b).scan(0, move |first, i| {
        let regs = base + usize::from(i < extra);
        let block = (*first, regs);
        *first += regs;
        Some(block)
    })
}

/// `f::<R>(args)` for the run-time register count `r` of a block (1 ..= [`MAX_REGS`]).
macro_rules! with_regs {
    ($r:expr, $f:ident($($a:expr),* $(,)?)) => {
        match $r {
            1 => $f::<1>($($a),*),
            2 => $f::<2>($($a),*),
            3 => $f::<3>($($a),*),
            4 => $f::<4>($($a),*),
            5 => $f::<5>($($a),*),
            6 => $f::<6>($($a),*),
            r => unreachable!("{r} registers per block"),
        }
    };
}

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

/// Fast-mode water layer `gaussian(N(mean, std), sigma)` (nearest; the Gaussian cut at
/// `truncate`·σ, [`FAST_TRUNCATE`] in spatter) of `h × w` values from about `h·w/4` normals of
/// `rng`, into `out` (see the module documentation).
#[cfg(test)]
pub fn half_res_layer(
    rng: &mut dyn RandomSource,
    h: usize,
    w: usize,
    [mean, std, sigma]: [f64; 3],
    truncate: f64,
    out: &mut [f32],
) {
    half_res_rows(rng, h, w, [mean, std, sigma], truncate, |y, vp, k0, k1| {
        for (m, pair) in out[y * w..(y + 1) * w].chunks_mut(2).enumerate() {
            let (e, o) = phase_sums(vp, k0, k1, m);
            pair[0] = e;
            if let Some(v) = pair.get_mut(1) {
                *v = o;
            }
        }
    });
}

/// Spatter's 8-bit water layer `L8 = trunc_u8(255·L)` with `L < t` zeroed, for the fast-mode
/// layer `L` of [`half_res_layer`] (the same values, cut at [`FAST_TRUNCATE`]), into `out`
/// (`h·w` bytes). The last two
/// steps run in the horizontal pass, on the sums still in registers ([`horizontal_l8`]).
pub fn half_res_l8(
    rng: &mut dyn RandomSource,
    h: usize,
    w: usize,
    [mean, std, sigma]: [f64; 3],
    t: f32,
    out: &mut [u8],
) {
    half_res_rows(
        rng,
        h,
        w,
        [mean, std, sigma],
        FAST_TRUNCATE,
        |y, vp, k0, k1| {
            horizontal_l8(vp, k0, k1, t, &mut out[y * w..(y + 1) * w]);
        },
    );
}

/// The layer row by row: `row(y, vp, k0, k1)` gets row `y` of the vertical pass over the
/// blocks' columns, padded on both sides with its end blocks, and the two phase kernels:
/// column `2m` of the layer is `Σ_t k1[t]·vp[m + t]`, column `2m + 1` is
/// `Σ_t k0[t]·vp[m + 1 + t]` ([`phase_sums`]); `vp` holds at least `⌈w/2⌉` rounded up to a
/// multiple of 8, plus `k0.len()`, values.
fn half_res_rows(
    rng: &mut dyn RandomSource,
    h: usize,
    w: usize,
    [mean, std, sigma]: [f64; 3],
    truncate: f64,
    mut row_out: impl FnMut(usize, &[f32], &[f32], &[f32]),
) {
    let (j0, [k0, k1]) = phase_kernels(&kernel1d(sigma, truncate));
    let taps = k0.len();
    // variance of one axis per unit draw variance: Σ K_p² (equal for both phases) against the
    // reference's Σ g² (its Gaussian cut at 4σ)
    let g = kernel1d(sigma, 4.0);
    let sum_g2: f64 = g.iter().map(|v| v * v).sum();
    let sum_k2: f64 = k0.iter().map(|&v| v as f64 * v as f64).sum();
    let pair = (sum_g2 / sum_k2).sqrt() as f32;
    let (hb, wb) = (blocks(h), blocks(w));
    // the block grid is stored with rows padded to whole registers (padding: the mean)
    let stride = wb.next_multiple_of(LANES);
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
    // Fine row y = 2m + q − 1 (m its block) takes K_q at blocks m + j0 …: rows 2m − 1 and
    // 2m read the same blocks, so the vertical pass makes both at once (each load feeds two
    // sums), into row buffers with room for the horizontal pass's end-block padding.
    let pad_l = (-j0) as usize;
    let half = w.div_ceil(2).next_multiple_of(LANES);
    let len = (pad_l + stride).max(half + taps);
    let (mut va, mut vb) = (vec![0f32; len], vec![0f32; len]);
    let mut rows = vec![0usize; taps];
    for m in 0..hb {
        if 2 * m > h {
            break;
        }
        for (t, row) in rows.iter_mut().enumerate() {
            *row = (m as isize + j0 + t as isize).clamp(0, hb as isize - 1) as usize;
        }
        let (a, b) = (
            &mut va[pad_l..pad_l + stride],
            &mut vb[pad_l..pad_l + stride],
        );
        vertical_pair(&c, stride, &rows, [&k0, &k1], [a, b]);
        for (y, v) in [(2 * m as isize - 1, &mut va), (2 * m as isize, &mut vb)] {
            if (0..h as isize).contains(&y) {
                let (first, last) = (v[pad_l], v[pad_l + wb - 1]);
                v[..pad_l].fill(first);
                v[pad_l + wb..].fill(last);
                row_out(y as usize, v, &k0, &k1);
            }
        }
    }
}

/// Two output rows of the vertical pass from the same source rows:
/// `out[p][c] = Σ_t k[p][t]·src[rows[t]·wc + c]` for `c < wc` (a multiple of 8), each an FMA
/// chain from 0 in tap order (`fma(k, s, acc)`, one rounding per tap; the scalar twin's
/// [`fma_f32`] gives the same bits).
fn vertical_pair(src: &[f32], wc: usize, rows: &[usize], k: [&[f32]; 2], out: [&mut [f32]; 2]) {
    dispatch!(vertical_pair_scalar / vertical_pair_avx2(src, wc, rows, k, out))
}

/// Scalar twin of [`vertical_pair`]: the definition, a column at a time.
fn vertical_pair_scalar(
    src: &[f32],
    wc: usize,
    rows: &[usize],
    k: [&[f32]; 2],
    out: [&mut [f32]; 2],
) {
    for (kp, o) in k.into_iter().zip(out) {
        for (c, v) in o[..wc].iter_mut().enumerate() {
            let mut acc = 0f32;
            for (&r, &kt) in rows.iter().zip(kp) {
                acc = fma_f32(kt, src[r * wc + c], acc);
            }
            *v = acc;
        }
    }
}

/// AVX2 + FMA twin of [`vertical_pair_scalar`], the same sums: up to 48 columns of both rows
/// per block in twelve registers ([`register_blocks`]), each source load feeding both rows. Why: with
/// one FMA per tap and register, a single row's pass issued a load per FMA (the load ports
/// were as busy as the FMA ports); sharing it between the two phases halves the loads.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn vertical_pair_avx2(
    src: &[f32],
    wc: usize,
    rows: &[usize],
    k: [&[f32]; 2],
    out: [&mut [f32]; 2],
) {
    use std::arch::x86_64::*;
    #[inline(always)]
    unsafe fn block<const R: usize>(
        sp: *const f32,
        wc: usize,
        rows: &[usize],
        [k0, k1]: [&[f32]; 2],
        [o0, o1]: [*mut f32; 2],
    ) {
        let (mut a, mut b) = ([_mm256_setzero_ps(); R], [_mm256_setzero_ps(); R]);
        for (t, &r) in rows.iter().enumerate() {
            // SAFETY (caller): t < rows.len() ≤ both kernels' lengths; the block's columns
            // lie inside the row.
            let (ka, kb) = (
                _mm256_set1_ps(*k0.get_unchecked(t)),
                _mm256_set1_ps(*k1.get_unchecked(t)),
            );
            let p = sp.add(r * wc);
            for l in 0..R {
                let s = _mm256_loadu_ps(p.add(8 * l));
                a[l] = _mm256_fmadd_ps(ka, s, a[l]);
                b[l] = _mm256_fmadd_ps(kb, s, b[l]);
            }
        }
        for l in 0..R {
            _mm256_storeu_ps(o0.add(8 * l), a[l]);
            _mm256_storeu_ps(o1.add(8 * l), b[l]);
        }
    }
    let [o0, o1] = out;
    assert!(wc.is_multiple_of(LANES) && o0.len() >= wc && o1.len() >= wc);
    assert!(k[0].len() >= rows.len() && k[1].len() >= rows.len());
    // every tap row lies inside `src`: the loads below need no checks
    for &r in rows {
        assert!(
            (r + 1) * wc <= src.len(),
            "vertical_pair: row {r} outside the source"
        );
    }
    let (sp, p0, p1) = (src.as_ptr(), o0.as_mut_ptr(), o1.as_mut_ptr());
    for (first, regs) in register_blocks(wc / LANES) {
        let c0 = first * LANES;
        // SAFETY: the block's columns c0 .. c0 + 8·regs lie below wc; the rows and outputs
        // were checked above.
        let o = [p0.add(c0), p1.add(c0)];
        with_regs!(regs, block(sp.add(c0), wc, rows, k, o));
    }
}

/// Columns `2m` and `2m + 1` of a row of the layer from the padded vertical-pass row `vp`
/// (see [`half_res_rows`]): `(Σ_t k1[t]·vp[m + t], Σ_t k0[t]·vp[m + 1 + t])`, each an FMA chain
/// from 0 in tap order.
#[inline(always)]
fn phase_sums(vp: &[f32], k0: &[f32], k1: &[f32], m: usize) -> (f32, f32) {
    let (mut e, mut o) = (0f32, 0f32);
    for (t, (&a, &b)) in k0.iter().zip(k1).enumerate() {
        e = fma_f32(b, vp[m + t], e);
        o = fma_f32(a, vp[m + 1 + t], o);
    }
    (e, o)
}

/// `trunc_u8(255·v)` after `v < t` became 0 — the operations of spatter's full-resolution
/// path (the C conversion: truncation, modulo 256).
#[inline(always)]
fn l8(v: f32, t: f32) -> u8 {
    let v = if v < t { 0.0 } else { v } * 255.0;
    // the clamps only guard the unchecked conversion: the default tables give 0 ≤ v < 1e9,
    // but a custom table may set t ≤ 0 and a huge σ (NaN, impossible here, would become 1e9)
    let v = if v < 1e9 { v } else { 1e9 };
    let v = if v > -1e9 { v } else { -1e9 };
    // SAFETY: −1e9 ≤ v ≤ 1e9 fits in i32.
    unsafe { v.to_int_unchecked::<i32>() as u8 }
}

/// One row of [`half_res_l8`] from the padded vertical-pass row `vp` (see [`half_res_rows`]):
/// column `x` of `out` is [`l8`] of the layer value of [`phase_sums`] (`2m` the even sum of
/// `m`, `2m + 1` the odd one).
fn horizontal_l8(vp: &[f32], k0: &[f32], k1: &[f32], t: f32, out: &mut [u8]) {
    dispatch!(horizontal_l8_scalar / horizontal_l8_avx2(vp, k0, k1, t, out))
}

/// Scalar twin of [`horizontal_l8`]: the definition, a column pair at a time.
fn horizontal_l8_scalar(vp: &[f32], k0: &[f32], k1: &[f32], t: f32, out: &mut [u8]) {
    for (m, pair) in out.chunks_mut(2).enumerate() {
        let (e, o) = phase_sums(vp, k0, k1, m);
        pair[0] = l8(e, t);
        if let Some(v) = pair.get_mut(1) {
            *v = l8(o, t);
        }
    }
}

/// AVX2 + FMA twin of [`horizontal_l8_scalar`], the same sums and conversion: up to 48 column
/// pairs per block in twelve registers ([`register_blocks`]), each load of `vp` feeding both
/// phases; the sums are thresholded, scaled, truncated and interleaved in registers (even
/// column in the low byte of a 16-bit word, odd in the high one) and stored as bytes. Why: the
/// two phases as f32 rows stored, reloaded and interleaved by a second kernel cost about
/// half as much again as the conversion itself.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn horizontal_l8_avx2(vp: &[f32], k0: &[f32], k1: &[f32], t: f32, out: &mut [u8]) {
    use std::arch::x86_64::*;
    /// The 16·R bytes of column pairs m0 … m0 + 8R − 1 (`p` = `vp[m0..]`) into `dst`.
    #[inline(always)]
    unsafe fn block<const R: usize>(p: *const f32, k0: &[f32], k1: &[f32], t: f32, dst: *mut u8) {
        let taps = k0.len();
        let (mut e, mut o) = ([_mm256_setzero_ps(); R], [_mm256_setzero_ps(); R]);
        // load u = vp[m + u] is tap u of the even sums and tap u − 1 of the odd ones
        let kv = _mm256_set1_ps(k1[0]);
        for (l, e) in e.iter_mut().enumerate() {
            *e = _mm256_fmadd_ps(kv, _mm256_loadu_ps(p.add(8 * l)), *e);
        }
        for u in 1..taps {
            // SAFETY (caller): u < taps = both kernels' lengths; vp holds m0 + 8R + taps values.
            let (ke, ko) = (
                _mm256_set1_ps(*k1.get_unchecked(u)),
                _mm256_set1_ps(*k0.get_unchecked(u - 1)),
            );
            for l in 0..R {
                let s = _mm256_loadu_ps(p.add(u + 8 * l));
                e[l] = _mm256_fmadd_ps(ke, s, e[l]);
                o[l] = _mm256_fmadd_ps(ko, s, o[l]);
            }
        }
        let kv = _mm256_set1_ps(k0[taps - 1]);
        for (l, o) in o.iter_mut().enumerate() {
            *o = _mm256_fmadd_ps(kv, _mm256_loadu_ps(p.add(taps + 8 * l)), *o);
        }
        // l8 of each sum: v < t → 0 (v ≥ t keeps v: no NaN here), ·255, clamped to ±1e9 as
        // the scalar l8, truncate
        let (tv, c255, cap) = (
            _mm256_set1_ps(t),
            _mm256_set1_ps(255.0),
            _mm256_set1_ps(1e9),
        );
        #[inline(always)]
        unsafe fn q(v: __m256, [tv, c255, cap]: [__m256; 3]) -> __m256i {
            let kept = _mm256_and_ps(v, _mm256_cmp_ps::<_CMP_GE_OQ>(v, tv));
            let v = _mm256_min_ps(_mm256_mul_ps(kept, c255), cap);
            let floor = _mm256_sub_ps(_mm256_setzero_ps(), cap);
            _mm256_cvttps_epi32(_mm256_max_ps(v, floor))
        }
        let c = [tv, c255, cap];
        let low = _mm256_set1_epi32(0xFF);
        let mut words = [_mm256_setzero_si256(); R];
        for l in 0..R {
            // low byte of the even value, then the low byte of the odd one above it
            let odd = _mm256_srli_epi32::<16>(_mm256_slli_epi32::<24>(q(o[l], c)));
            words[l] = _mm256_or_si256(_mm256_and_si256(q(e[l], c), low), odd);
        }
        for l in (0..R).step_by(2) {
            if l + 1 < R {
                let b = _mm256_packus_epi32(words[l], words[l + 1]);
                let b = _mm256_permute4x64_epi64::<0xD8>(b);
                _mm256_storeu_si256(dst.add(16 * l) as *mut __m256i, b);
            } else {
                let b = _mm256_packus_epi32(words[l], words[l]);
                let b = _mm256_permute4x64_epi64::<0xD8>(b);
                _mm_storeu_si128(dst.add(16 * l) as *mut __m128i, _mm256_castsi256_si128(b));
            }
        }
    }
    let w = out.len();
    let taps = k0.len();
    assert!(taps >= 1 && k1.len() == taps);
    assert!(vp.len() >= w.div_ceil(2).next_multiple_of(LANES) + taps);
    let (p, dst) = (vp.as_ptr(), out.as_mut_ptr());
    // SAFETY (all blocks): vp holds m0 + 8R + taps values (asserted: m0 + 8R ≤ ⌈w/2⌉ rounded
    // up to 8), and the stores stay inside `out` (whole blocks) or the stack buffer.
    for (first, regs) in register_blocks(w.div_ceil(2).div_ceil(LANES)) {
        let m0 = first * LANES;
        let bytes = 2 * LANES * regs;
        if 2 * m0 + bytes <= w {
            with_regs!(regs, block(p.add(m0), k0, k1, t, dst.add(2 * m0)));
        } else {
            // the row's end: the block's bytes past `w` go to a buffer
            let mut tail = [0u8; 2 * LANES * MAX_REGS];
            with_regs!(regs, block(p.add(m0), k0, k1, t, tail.as_mut_ptr()));
            out[2 * m0..].copy_from_slice(&tail[..w - 2 * m0]);
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

    /// The layer against its definition: the reference's nearest-mode f64 filter (cut at
    /// `truncate`·σ) of the full-resolution image whose pixel (y, x) is the draw of block
    /// (b(y), b(x)), the draws scaled for the 4σ kernel.
    #[test]
    fn layer_is_the_filter_of_the_block_image() {
        for (h, w, sigma, truncate) in [
            (40usize, 36usize, 2.0, 4.0),
            (37, 45, 3.0, 4.0),
            (9, 7, 4.0, 4.0),
            (1, 1, 2.0, 4.0),
            (40, 36, 2.0, FAST_TRUNCATE),
            (37, 45, 3.0, FAST_TRUNCATE),
            (29, 30, 4.0, FAST_TRUNCATE),
        ] {
            let mut rng = make_rng(RngMode::Fast, 5).unwrap();
            let mut got = vec![0f32; h * w];
            half_res_layer(&mut *rng, h, w, [0.65, 0.3, sigma], truncate, &mut got);
            // the same draws, scaled the same way
            let mut rng = make_rng(RngMode::Fast, 5).unwrap();
            let (hb, wb) = (blocks(h), blocks(w));
            let z = normal::fast_standard_normals(&mut *rng, hb * wb);
            let g = kernel1d(sigma, 4.0);
            let (_, [k0, _]) = phase_kernels(&kernel1d(sigma, truncate));
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
            gaussian_filter(&mut full, he, we, 1, sigma, sigma, truncate, Mode::Nearest);
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
    fn register_blocks_cover_rows_evenly() {
        assert_eq!(register_blocks(0).count(), 0);
        for n in 1..40 {
            let b: Vec<(usize, usize)> = register_blocks(n).collect();
            assert_eq!(b.len(), n.div_ceil(MAX_REGS), "{n}");
            let mut next = 0;
            for &(first, regs) in &b {
                assert_eq!(first, next, "{n}: {b:?}");
                assert!((1..=MAX_REGS).contains(&regs), "{n}: {b:?}");
                next += regs;
            }
            assert_eq!(next, n);
            let (lo, hi) = (b.iter().map(|r| r.1).min(), b.iter().map(|r| r.1).max());
            assert!(hi.unwrap() - lo.unwrap() <= 1, "{n}: {b:?}");
        }
        assert_eq!(
            register_blocks(14).collect::<Vec<_>>(),
            [(0, 5), (5, 5), (10, 4)]
        );
    }

    /// The vertical pass's twins: the scalar one is its definition (an FMA chain from 0 in
    /// tap order, with both phase kernels), the AVX2 one gives the same bits on every ISA.
    #[test]
    fn vertical_pair_twins_are_the_definition() {
        let (_, [k0, k1]) = phase_kernels(&kernel1d(3.0, 4.0));
        // blocks of 1 to 6 registers (e.g. 152 columns: 5, 5, 5, 4)
        for wc in [8usize, 16, 24, 32, 40, 48, 120, 152] {
            let hc = 9usize;
            let src: Vec<f32> = (0..hc * wc)
                .map(|i| ((i * 7919) % 1013) as f32 / 1013.0 - 0.3)
                .collect();
            let rows: Vec<usize> = (0..k0.len()).map(|t| (t * 5) % hc).collect();
            let (mut a0, mut a1) = (vec![0f32; wc], vec![0f32; wc]);
            vertical_pair_scalar(&src, wc, &rows, [&k0, &k1], [&mut a0, &mut a1]);
            for (kp, got) in [(&k0, &a0), (&k1, &a1)] {
                for (c, &v) in got.iter().enumerate() {
                    let mut want = 0f32;
                    for (&r, &kt) in rows.iter().zip(kp) {
                        want = kt.mul_add(src[r * wc + c], want);
                    }
                    assert_eq!(v.to_bits(), want.to_bits(), "wc {wc} column {c}");
                }
            }
            for isa in simd::available() {
                let (mut b0, mut b1) = (vec![0f32; wc], vec![0f32; wc]);
                dispatch!(at isa; vertical_pair_scalar / vertical_pair_avx2(
                    &src, wc, &rows, [&k0, &k1], [&mut b0, &mut b1]
                ));
                assert_eq!((&a0, &a1), (&b0, &b1), "wc {wc} {isa:?}");
            }
        }
    }

    /// The horizontal pass's twins: the scalar one is its definition (the phase sums as FMA
    /// chains, then the threshold and the 8-bit truncation), the AVX2 one gives the same
    /// bytes on every ISA, for widths that end in every kind of block (32, 16, 8 column pairs
    /// and a partial one), with sums below and above the threshold, above 1 (which wrap
    /// modulo 256), negative and huge (the ±1e9 clamps; a threshold ≤ 0, which a custom
    /// table may set, keeps the negative sums).
    #[test]
    fn horizontal_l8_twins_are_the_definition() {
        let (_, [k0, k1]) = phase_kernels(&kernel1d(2.0, 4.0));
        let widths = [
            1usize, 2, 7, 15, 16, 17, 31, 33, 48, 63, 64, 65, 100, 111, 224, 225,
        ];
        for (t, w) in [0.69f32, -1e30]
            .into_iter()
            .flat_map(|t| widths.map(|w| (t, w)))
        {
            let n = w.div_ceil(2).next_multiple_of(LANES) + k0.len();
            let vp: Vec<f32> = (0..n)
                .map(|i| match i % 41 {
                    0 => 3e8,
                    1 => -2.0,
                    2 => -3e8,
                    3 => -1.3,
                    _ => 0.4 + ((i * 613) % 97) as f32 * 0.012,
                })
                .collect();
            let mut a = vec![0u8; w];
            horizontal_l8_scalar(&vp, &k0, &k1, t, &mut a);
            for (x, &v) in a.iter().enumerate() {
                let (m, taps) = (x / 2, k0.len());
                let mut s = 0f32;
                for j in 0..taps {
                    s = if x % 2 == 0 {
                        k1[j].mul_add(vp[m + j], s)
                    } else {
                        k0[j].mul_add(vp[m + 1 + j], s)
                    };
                }
                let want = (if s < t { 0.0 } else { s } * 255.0).clamp(-1e9, 1e9) as i32 as u8;
                assert_eq!(v, want, "w {w} x {x}: sum {s}");
            }
            for isa in simd::available() {
                let mut b = vec![0u8; w];
                dispatch!(at isa; horizontal_l8_scalar / horizontal_l8_avx2(&vp, &k0, &k1, t, &mut b));
                assert_eq!(a, b, "w {w} {isa:?}");
            }
        }
    }

    /// The fused 8-bit layer is the full-resolution conversion of the f32 layer (odd and
    /// even widths, both through the dispatched kernels).
    #[test]
    fn l8_is_the_conversion_of_the_layer() {
        for (h, w) in [(30usize, 41usize), (16, 64), (37, 224)] {
            let p = [0.65, 0.3, 2.0];
            let mut l = vec![0f32; h * w];
            let mut rng = make_rng(RngMode::Fast, 9).unwrap();
            half_res_layer(&mut *rng, h, w, p, FAST_TRUNCATE, &mut l);
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
    }

    /// The water layer's 3σ cut keeps the 4σ layer: over four draws per water severity (the
    /// same normals), the layer values differ by at most 10⁻³ (a quarter grey level of
    /// `255·L`; seen: ≤ 6·10⁻⁴), the 8-bit layer `L8` by at most one level where both pass the
    /// threshold and in at most 1 % of pixels (seen: 0.1–0.4 %), and the liquid pixels
    /// (`L ≥ t`, 4–24 % of the image) in at most 0.1 % (seen: 0.02–0.05 %). A cut at 2σ fails
    /// these bounds (checked below: values move by ~9·10⁻³, liquid pixels by 0.4–1 %), so they
    /// resolve the truncation.
    #[test]
    fn truncation_keeps_the_layer() {
        let (h, w) = (224usize, 224usize);
        let l8 = |v: f32, t: f32| (if v < t { 0.0 } else { v } * 255.0) as i32;
        let compare = |sigma: f64, t: f32, truncate: f64| {
            let (mut worst, mut worst8, mut moved8, mut flips, mut wet) = (0f32, 0, 0, 0, 0);
            for seed in 0..4 {
                let layer = |truncate: f64| {
                    let mut l = vec![0f32; h * w];
                    let mut rng = make_rng(RngMode::Fast, 300 + seed).unwrap();
                    half_res_layer(&mut *rng, h, w, [0.65, 0.3, sigma], truncate, &mut l);
                    l
                };
                let (l4, l) = (layer(4.0), layer(truncate));
                for (&a, &b) in l4.iter().zip(&l) {
                    worst = worst.max((a - b).abs());
                    let (a8, b8) = (l8(a, t), l8(b, t));
                    flips += usize::from((a8 > 0) != (b8 > 0));
                    wet += usize::from(a8 > 0);
                    if a8 > 0 && b8 > 0 {
                        worst8 = worst8.max((a8 - b8).abs());
                    }
                    moved8 += usize::from(a8 != b8);
                }
            }
            let n = (4 * h * w) as f64;
            (
                worst,
                worst8,
                moved8 as f64 / n,
                flips as f64 / n,
                wet as f64 / n,
            )
        };
        for (sigma, t) in [(4.0, 0.69), (3.0, 0.68), (2.0, 0.68)] {
            let c = compare(sigma, t, FAST_TRUNCATE);
            let (worst, worst8, moved, flips, wet) = c;
            // the comparison means something: liquid covers a real share of the image
            assert!(wet > 0.02, "σ {sigma}: {c:?}");
            assert!(
                worst <= 1e-3 && worst8 <= 1 && moved <= 0.01 && flips <= 1e-3,
                "σ {sigma}: {c:?}"
            );
            let c = compare(sigma, t, 2.0);
            let (worst, worst8, moved, flips, _) = c;
            assert!(
                worst > 1e-3 || worst8 > 1 || moved > 0.01 || flips > 1e-3,
                "σ {sigma}, cut at 2σ: {c:?}"
            );
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
                half_res_layer(&mut *rng, h, w, [mean, std, sigma], FAST_TRUNCATE, &mut l);
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
