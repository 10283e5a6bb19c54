//! `circular_motion_blur` (CIFAR-10-C-bar; ALGORITHMS.md §11.8): a Gaussian-weighted
//! average of 21 rotations of the image about its centre.

use super::{fp, identity, magnitude_params};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::scratch::Buf;
use crate::simd::dispatch;

magnitude_params!("circular_motion_blur", [2.8, 3.6, 4.4, 5.2, 6.0]);

/// Number of rotations.
const STEPS: usize = 21;

/// Rotations by `t·fp(s, 15)` degrees, `t` evenly in `[−1, 1]`, weighted `exp(−2t²)`;
/// each rotation samples with a Keys cubic (a = −½, an interpolating cubic as sharp as the
/// reference's prefiltered cubic spline to within its statistics; bilinear sampling blurs
/// about one grey level more), and a position outside the image is black (the reference:
/// `scipy.ndimage.rotate`, cubic spline, mode `constant`: this is what darkens the borders).
/// Each rotation is three shears (Paeth: horizontal, vertical, horizontal, ALGORITHMS.md
/// §11.8), so every pass is a 4-tap filter whose weights are constant along a row (or a run of
/// columns) and vectorises, instead of a 16-tap gather per pixel.
pub fn circular_motion_blur(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let amount = fp(s, 15.0);
    if amount == 0.0 {
        identity(job);
        return Ok(());
    }
    let (w, h) = (job.width, job.height);
    let table = step_table(amount);
    let weights = step_weights(&table.iter().map(|st| st[0]).collect::<Vec<_>>());
    let steps: Vec<Step> = table
        .iter()
        .zip(weights)
        .map(|(&[_, u, sn], weight)| Step {
            weight,
            u: u as f32,
            sn: sn as f32,
        })
        .collect();
    let theta_max = amount.abs().to_radians();
    let acc = rotations_sum(job.src, w, h, &steps, theta_max, crate::simd::isa());
    for (d, &v) in job.dst.iter_mut().zip(acc.iter()) {
        // clip to [0, 255], then truncate: `v >> SHIFT` is the floor, the truncation of a
        // non-negative value
        *d = (v >> SHIFT).clamp(0, 255) as u8;
    }
    Ok(())
}

/// The [`STEPS`] rotations by `amount` degrees at most: [normalised weight, tan(θ/2), sin θ].
fn step_table(amount: f64) -> Vec<[f64; 3]> {
    let mut steps = [[0.0f64; 3]; STEPS];
    let mut total = 0.0f64;
    for (i, st) in steps.iter_mut().enumerate() {
        let t = 2.0 * i as f64 / (STEPS - 1) as f64 - 1.0;
        let weight = (-2.0 * t * t).exp();
        total += weight;
        let theta = (t * amount).to_radians();
        *st = [weight, (theta / 2.0).tan(), theta.sin()];
    }
    steps
        .iter()
        .map(|&[wt, u, sn]| [wt / total, u, sn])
        .collect()
}

/// Fixed point: values are 16-bit integers, grey levels times `1 << SHIFT`, weights Q15
/// (ALGORITHMS.md §11.8). With a Keys cubic's overshoot (its weights' absolute sum is at most
/// 1.25) three passes keep every value and partial sum within ±24100 (255·64 = 16320).
const SHIFT: u32 = 6;

/// One rotation: its Q15 weight, `tan(θ/2)` and `sin θ`.
#[derive(Clone, Copy, Debug)]
struct Step {
    weight: i16,
    u: f32,
    sn: f32,
}

/// The steps' normalised weights in Q15, rounded so that they sum to exactly 1 (32768): a flat
/// image stays flat up to the products' rounding (the largest weight takes the remainder).
fn step_weights(weights: &[f64]) -> Vec<i16> {
    let mut q: Vec<i32> = weights
        .iter()
        .map(|w| (w * 32768.0).round() as i32)
        .collect();
    let rest = 32768 - q.iter().sum::<i32>();
    if let Some(big) = (0..q.len()).max_by_key(|&i| q[i]) {
        q[big] += rest;
    }
    q.iter().map(|&v| v.clamp(-32767, 32767) as i16).collect()
}

/// `round(a·w / 2¹⁵)`: the product of a value and a Q15 weight, rounded half up (AVX2's
/// `vpmulhrsw`, lane for lane).
#[inline(always)]
fn mulhrs(a: i16, w: i16) -> i16 {
    ((i32::from(a) * i32::from(w) + 0x4000) >> 15) as i16
}

/// The four Keys weights of `wts` in Q15, rounded so that they sum to `total` (the largest
/// takes the remainder; 32768, "1", is kept as 32767, which still returns every value below
/// 256 grey levels exactly).
#[inline(always)]
fn q15(wts: [f32; 4], total: i32) -> [i16; 4] {
    // rounded half away from zero by a truncating conversion (no libm call per row)
    let mut q = wts.map(|v| {
        let r = v * total as f32;
        (if r >= 0.0 { r + 0.5 } else { r - 0.5 }) as i32
    });
    let rest = total - q.iter().sum::<i32>();
    let big = (0..4).max_by_key(|&i| q[i].abs()).unwrap_or(1);
    q[big] += rest;
    q.map(|v| v.clamp(-32767, 32767) as i16)
}

/// `Σ weight·rotate(img, θ)` over `steps`, each rotation about the image centre (`(n − 1)/2`
/// on each axis) as the shears `H(u)·V(−s)·H(u)`: the source of output offset (dy, dx) is
/// `(dy·cosθ − dx·sinθ, dy·sinθ + dx·cosθ)`; zero outside the image. Fixed point
/// ([`SHIFT`]). The first step writes the accumulator (zeros where it has no value) instead
/// of adding to a zero-filled one.
fn rotations_sum(
    img: &[u8],
    w: usize,
    h: usize,
    steps: &[Step],
    theta_max: f64,
    isa: crate::simd::Isa,
) -> Buf<i16> {
    let geom = Geometry::new(w, h, theta_max);
    let (wi, pad_i) = (geom.wi, geom.pad_i);
    // pooled buffers: fresh image-sized vectors on every call cost page faults
    // (only the margins are zeroed: the image's values overwrite the rest)
    let mut src = Buf::<i16>::take(h * wi * 3);
    for (row, img_row) in src.chunks_exact_mut(wi * 3).zip(img.chunks_exact(w * 3)) {
        let (left, rest) = row.split_at_mut(pad_i * 3);
        let (mid, right) = rest.split_at_mut(w * 3);
        left.fill(0);
        for (d, &v) in mid.iter_mut().zip(img_row) {
            *d = i16::from(v) << SHIFT;
        }
        right.fill(0);
    }
    let mut bufs = Buffers::new(&geom, 2 * geom.pad_b + TAPS + 1);
    // every value is written by the first step (below), so the pooled contents never show
    let mut acc = Buf::<i16>::take(h * w * 3);
    for (k, st) in steps.iter().enumerate() {
        let first = k == 0;
        if st.u == 0.0 && st.sn == 0.0 {
            // the unrotated step (t = 0): every pass has the weights (0, 1, 0, 0) and would
            // return the image, so it is weighted directly
            for (a, &v) in acc.iter_mut().zip(img) {
                let v = mulhrs(i16::from(v) << SHIFT, st.weight);
                *a = if first { v } else { a.wrapping_add(v) };
            }
            continue;
        }
        shear_rotate(&src, &mut bufs, &mut acc, &geom, *st, first, isa);
    }
    acc
}

/// Sizes and margins of [`rotations_sum`]'s buffers.
struct Geometry {
    w: usize,
    h: usize,
    wi: usize,
    wb: usize,
    pad_a: usize,
    pad_b: usize,
    pad_i: usize,
    cy: f32,
    cx: f32,
}

impl Geometry {
    /// Margins (pixels) of the intermediate images for angles up to `theta_max`, so that every
    /// tap is inside its buffer.
    fn new(w: usize, h: usize, theta_max: f64) -> Geometry {
        let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
        let (umax, smax) = ((theta_max / 2.0).tan().abs(), theta_max.sin().abs());
        let pad_a = (umax * cy).ceil() as usize + 3;
        let pad_b = (smax * (cx + pad_a as f64)).ceil() as usize + 3;
        let pad_i = pad_a + (umax * (cy + pad_b as f64)).ceil() as usize + 3;
        Geometry {
            w,
            h,
            wi: w + 2 * pad_i, // zero-padded source width
            wb: w + 2 * pad_a, // width of both intermediates
            pad_a,
            pad_b,
            pad_i,
            cy: cy as f32,
            cx: cx as f32,
        }
    }
}

/// Lanes of the vertical pass: it works in whole groups of 16 values (one AVX2 register; the
/// last group may run past the values pass 3 reads: the row and the ring have a group of slack
/// for it).
const LANES: usize = 16;

/// Taps of the vertical pass per group: the 4 Keys taps of each column, placed at the column's
/// row offset from the group's smallest one. A group spans at most 6 columns, whose row
/// offsets differ by at most 2 while `5·|sin θ| < 2` (θ up to 23°; magnitude 10 is 15°), so
/// 6 taps with zero weights where a column does not reach cover every group, and the pass has
/// no per-run branches.
const TAPS: usize = 6;

/// Working buffers of one rotation, reused across rotations. The first shear's rows live in
/// a ring of `ring_rows` (a power of two) rows: the vertical shear of one output row reads
/// only the rows within its largest offset, so the rows stay in cache instead of a whole
/// intermediate image being written and read back (likewise the second intermediate is one
/// row). The ring's first `TAPS − 1` rows are repeated after its end, so that the taps of a
/// group are `TAPS` consecutive rows from any starting slot.
struct Buffers {
    /// Ring of first-shear rows, `stride` values each, plus the repeated rows.
    ring: Buf<i16>,
    ring_rows: usize,
    /// Row length in the ring and in `row`: `wb·3` plus a group of slack.
    stride: usize,
    /// One row of the second shear.
    row: Vec<i16>,
    /// The vertical pass's Q15 weights: per group of [`LANES`] values, `TAPS` rows of `LANES`.
    wts: Vec<i16>,
    /// The vertical pass's first source row (minus 1) per group.
    offs: Vec<usize>,
    /// Per column: the Keys source row (minus 1) and Q15 weights.
    cols: Vec<(usize, [i16; 4])>,
}

impl Buffers {
    fn new(g: &Geometry, span: usize) -> Buffers {
        let stride = g.wb * 3 + LANES;
        let ring_rows = span.next_power_of_two();
        let groups = (g.wb * 3).div_ceil(LANES);
        // Every ring row's values are computed before they are read, so the pooled contents
        // need no zero-fill; only each row's slack (read by the last group, whose values past
        // the row are never used) is zeroed, so that its sums are defined.
        let mut ring = Buf::take((ring_rows + TAPS - 1) * stride);
        for row in ring.chunks_exact_mut(stride) {
            row[g.wb * 3..].fill(0);
        }
        Buffers {
            ring,
            ring_rows,
            stride,
            row: vec![0; stride],
            wts: vec![0; groups * TAPS * LANES],
            offs: vec![0; groups],
            cols: vec![(0, [0; 4]); g.wb],
        }
    }
}

/// Splits `f` into its floor and the Keys weights of the fraction.
#[inline(always)]
fn split(f: f32) -> (isize, [f32; 4]) {
    let i = crate::kernels::fastmath::floor_f32(f);
    (i as isize, keys(f - i))
}

/// One weighted rotation of [`rotations_sum`] added to `acc` (written, zero outside the
/// rotated image, when `overwrite`): the three shear passes, row by row (each output row's
/// first-shear rows computed into the ring as they are needed). The row kernels are chosen at
/// `isa`.
fn shear_rotate(
    src: &[i16],
    bufs: &mut Buffers,
    acc: &mut [i16],
    g: &Geometry,
    step: Step,
    overwrite: bool,
    isa: crate::simd::Isa,
) {
    let Step { weight, u, sn } = step;
    let (wb3, wi3, stride) = (g.wb * 3, g.wi * 3, bufs.stride);
    // 2. (set-up) a(y, x) = b(y − sn·(x − cx), x): per column a whole-row offset and four
    //    weights, spread per group of LANES values over TAPS rows from the group's first.
    for (x, col) in bufs.cols.iter_mut().enumerate() {
        let pos = g.pad_b as f32 - sn * (x as f32 - g.pad_a as f32 - g.cx);
        let (i, wts) = split(pos);
        *col = ((i - 1) as usize, q15(wts, 32768));
    }
    for (gi, (off, gw)) in bufs
        .offs
        .iter_mut()
        .zip(bufs.wts.chunks_exact_mut(TAPS * LANES))
        .enumerate()
    {
        // values past the row (the last group's slack) take the last column's taps
        let col = |j: usize| bufs.cols[((gi * LANES + j) / 3).min(g.wb - 1)];
        let r0 = (0..LANES).map(|j| col(j).0).min().unwrap_or(0);
        *off = r0;
        for j in 0..LANES {
            let (r, wts) = col(j);
            let d = r - r0;
            assert!(d + 4 <= TAPS, "vertical shear too steep for {TAPS} taps");
            for k in 0..TAPS {
                gw[k * LANES + j] = if k >= d && k - d < 4 { wts[k - d] } else { 0 };
            }
        }
    }
    let rmin = bufs.offs.iter().copied().min().unwrap_or(0);
    let rmax = bufs.offs.iter().copied().max().unwrap_or(0) + TAPS - 1;
    assert!(rmax - rmin < bufs.ring_rows, "ring too small");
    let mask = bufs.ring_rows - 1;
    let mut next = rmin; // the next first-shear row (padded index) to compute
    let ca = 1.0 - u * sn; // cos θ = 1 − tan(θ/2)·sin θ
    for y in 0..g.h {
        // 1. b(j, x) = src(j − pad_b, x + u·(j − pad_b − cy)) for the rows this output row
        //    needs (zero outside the image's rows).
        while next <= y + rmax {
            let slot = next & mask;
            let out = &mut bufs.ring[slot * stride..slot * stride + wb3];
            let yy = next as isize - g.pad_b as isize;
            if yy >= 0 && (yy as usize) < g.h {
                let yy = yy as usize;
                let off = (g.pad_i - g.pad_a) as f32 + u * (yy as f32 - g.cy);
                let (i0, wts) = split(off);
                let base = (yy * g.wi) * 3 + ((i0 - 1) as usize) * 3;
                let s = &src[..(yy + 1) * wi3];
                let wts = q15(wts, 32768);
                dispatch!(at isa; shear_row_scalar / shear_row_avx2(s, base, wts, out, false));
            } else {
                out.fill(0);
            }
            if slot < TAPS - 1 {
                let (head, tail) = bufs.ring.split_at_mut(bufs.ring_rows * stride);
                tail[slot * stride..slot * stride + wb3]
                    .copy_from_slice(&head[slot * stride..slot * stride + wb3]);
            }
            next += 1;
        }
        // 3. (bounds) acc(y, x) += weight·a(y, x + u·(y − cy)), only where the exact rotated
        //    source position is inside [0, h − 1]×[0, w − 1] (the reference's hard black
        //    edge): on a row that is one interval of columns.
        let dy = y as f32 - g.cy;
        let (lo, hi) = inside(
            [(g.cy + ca * dy, -sn, g.h), (g.cx + sn * dy, ca, g.w)],
            g.cx,
            g.w,
        );
        let row = y * g.w * 3;
        if lo > hi {
            if overwrite {
                acc[row..row + g.w * 3].fill(0);
            }
            continue;
        }
        if overwrite {
            acc[row..row + lo * 3].fill(0);
            acc[row + (hi + 1) * 3..row + g.w * 3].fill(0);
        }
        let off = g.pad_a as f32 + u * dy;
        let (i0, wts) = split(off);
        let first = (lo + i0 as usize - 1) * 3; // the values of a's row that pass 3 reads
        let last = (hi + i0 as usize + 3) * 3;
        // 2. a(y, ·) over the groups that overlap [first, last)
        let (g0, g1) = (first / LANES, last.div_ceil(LANES).min(bufs.offs.len()));
        let groups = Groups {
            ring: &bufs.ring,
            stride,
            y,
            mask,
            offs: &bufs.offs,
            wts: &bufs.wts,
        };
        dispatch!(at isa; vertical_row_scalar / vertical_row_avx2(&groups, g0, g1, &mut bufs.row));
        // 3.
        let wts = q15(wts, i32::from(weight));
        let base = lo * 3 + ((i0 - 1) as usize) * 3;
        let out = &mut acc[row + lo * 3..row + (hi + 1) * 3];
        let add = !overwrite;
        dispatch!(at isa; shear_row_scalar / shear_row_avx2(&bufs.row, base, wts, out, add));
    }
}

/// The vertical pass's inputs for one output row.
struct Groups<'a> {
    /// The ring (its repeated rows included): `mask + 1` rows of `stride` values, then
    /// `TAPS − 1` more.
    ring: &'a [i16],
    stride: usize,
    /// The output row, and the ring's row count minus 1 (a power of two minus 1).
    y: usize,
    mask: usize,
    /// Per group: its first tap row (padded index).
    offs: &'a [usize],
    /// Per group: `TAPS` rows of `LANES` Q15 weights.
    wts: &'a [i16],
}

impl Groups<'_> {
    /// Checks that every group below `g1` has its `TAPS` rows of `LANES` values inside the
    /// ring (a row's slot is at most `mask`), its weights inside `wts`, and its output inside
    /// `out`: the bounds that make the unchecked reads of the AVX2 pass sound.
    fn check(&self, g1: usize, out: &[i16]) {
        assert!(g1 * LANES <= self.stride && g1 <= self.offs.len());
        assert!(self.ring.len() >= (self.mask + TAPS) * self.stride);
        assert!(g1 * TAPS * LANES <= self.wts.len() && g1 * LANES <= out.len());
    }

    /// The ring index of group `gi`'s first tap row at its column.
    #[inline(always)]
    fn at(&self, gi: usize) -> usize {
        ((self.y + self.offs[gi]) & self.mask) * self.stride + gi * LANES
    }
}

/// `out[j] (+)= Σₖ wₖ·src[base + 3k + j]` (each product [`mulhrs`]): one row of a horizontal
/// shear by a whole number of pixels plus a fraction (the Q15 taps `wₖ`), RGB interleaved.
/// Sums wrap as `vpaddw` does (no sum here leaves the 16-bit range, see [`SHIFT`]).
fn shear_row_scalar(src: &[i16], base: usize, wts: [i16; 4], out: &mut [i16], add: bool) {
    let n = out.len();
    let s = &src[base..base + 9 + n];
    for (j, o) in out.iter_mut().enumerate() {
        let v = mulhrs(s[j], wts[0])
            .wrapping_add(mulhrs(s[j + 3], wts[1]))
            .wrapping_add(mulhrs(s[j + 6], wts[2]))
            .wrapping_add(mulhrs(s[j + 9], wts[3]));
        *o = if add { o.wrapping_add(v) } else { v };
    }
}

/// [`shear_row_scalar`] with 16 values per `vpmulhrsw` (the same bits).
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn shear_row_avx2(src: &[i16], base: usize, wts: [i16; 4], out: &mut [i16], add: bool) {
    use std::arch::x86_64::*;
    let n = out.len();
    let s = &src[base..base + 9 + n];
    let w = [
        _mm256_set1_epi16(wts[0]),
        _mm256_set1_epi16(wts[1]),
        _mm256_set1_epi16(wts[2]),
        _mm256_set1_epi16(wts[3]),
    ];
    if n < 16 {
        return shear_row_scalar(src, base, wts, out, add);
    }
    let (sp, op) = (s.as_ptr(), out.as_mut_ptr());
    // SAFETY (both): j + 16 ≤ n, so every load is inside `s` (n + 9 values) and the store
    // inside `out`
    let group = |j: usize| {
        let mut v = _mm256_mulhrs_epi16(_mm256_loadu_si256(sp.add(j).cast()), w[0]);
        for (k, wk) in w.iter().enumerate().skip(1) {
            let t = _mm256_loadu_si256(sp.add(j + 3 * k).cast());
            v = _mm256_add_epi16(v, _mm256_mulhrs_epi16(t, *wk));
        }
        if add {
            v = _mm256_add_epi16(v, _mm256_loadu_si256(op.add(j).cast()));
        }
        v
    };
    // the last 16 values, computed from `out` before the loop changes it and stored after
    // it: where they overlap the loop's last group they are the same values (no scalar tail)
    let tail = group(n - 16);
    for j in (0..n - 15).step_by(16) {
        _mm256_storeu_si256(op.add(j).cast(), group(j));
    }
    _mm256_storeu_si256(op.add(n - 16).cast(), tail);
}

/// Scalar stand-in on other architectures.
#[cfg(not(target_arch = "x86_64"))]
unsafe fn shear_row_avx2(src: &[i16], base: usize, wts: [i16; 4], out: &mut [i16], add: bool) {
    shear_row_scalar(src, base, wts, out, add)
}

/// The vertical pass of one output row over the groups `g0..g1`: lane by lane
/// `out = Σₖ wₖ·sₖ` over the group's [`TAPS`] ring rows (a zero-weight tap adds an exact 0).
fn vertical_row_scalar(gr: &Groups<'_>, g0: usize, g1: usize, out: &mut [i16]) {
    gr.check(g1, out);
    for gi in g0..g1 {
        let p = gr.at(gi);
        let wts = &gr.wts[gi * TAPS * LANES..(gi + 1) * TAPS * LANES];
        let o = &mut out[gi * LANES..(gi + 1) * LANES];
        for (j, o) in o.iter_mut().enumerate() {
            let mut v = 0i16;
            for k in 0..TAPS {
                v = v.wrapping_add(mulhrs(gr.ring[p + k * gr.stride + j], wts[k * LANES + j]));
            }
            *o = v;
        }
    }
}

/// [`vertical_row_scalar`] with a group per AVX2 register (the same bits).
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn vertical_row_avx2(gr: &Groups<'_>, g0: usize, g1: usize, out: &mut [i16]) {
    use std::arch::x86_64::*;
    gr.check(g1, out);
    let (rp, wp, op) = (gr.ring.as_ptr(), gr.wts.as_ptr(), out.as_mut_ptr());
    for gi in g0..g1 {
        let p = gr.at(gi);
        // SAFETY: `check` (above) bounds the group's TAPS ring rows, weights and output
        let mut v = _mm256_setzero_si256();
        for k in 0..TAPS {
            let t = _mm256_loadu_si256(rp.add(p + k * gr.stride).cast());
            let wk = _mm256_loadu_si256(wp.add((gi * TAPS + k) * LANES).cast());
            v = _mm256_add_epi16(v, _mm256_mulhrs_epi16(t, wk));
        }
        _mm256_storeu_si256(op.add(gi * LANES).cast(), v);
    }
}

/// Scalar stand-in on other architectures.
#[cfg(not(target_arch = "x86_64"))]
unsafe fn vertical_row_avx2(gr: &Groups<'_>, g0: usize, g1: usize, out: &mut [i16]) {
    vertical_row_scalar(gr, g0, g1, out)
}

/// The columns `lo..=hi` (empty when lo > hi) of a row whose source coordinates
/// `a + b·(x − cx)` all lie in `[0, n − 1]` (1e-3 pixel of slack for rounding, so that the
/// unrotated image keeps its edges), for the two (a, b, n) of `limits`.
#[inline(always)]
fn inside(limits: [(f32, f32, usize); 2], cx: f32, w: usize) -> (usize, usize) {
    const EPS: f32 = 1e-3;
    let (mut lo, mut hi) = (0.0f32, w as f32 - 1.0);
    for (a, b, n) in limits {
        let top = n as f32 - 1.0;
        if b.abs() < 1e-9 {
            if a < -EPS || a > top + EPS {
                return (1, 0);
            }
            continue;
        }
        let (p, q) = ((-EPS - a) / b + cx, (top + EPS - a) / b + cx);
        let (p, q) = if b > 0.0 { (p, q) } else { (q, p) };
        lo = lo.max(p.ceil());
        hi = hi.min(q.floor());
    }
    if lo > hi {
        (1, 0)
    } else {
        (lo as usize, hi as usize)
    }
}

/// Keys' cubic convolution weights (a = −½) of the four taps around fraction `t`.
#[inline]
fn keys(t: f32) -> [f32; 4] {
    let t2 = t * t;
    let t3 = t2 * t;
    [
        -0.5 * t3 + t2 - 0.5 * t,
        1.5 * t3 - 2.5 * t2 + 1.0,
        -1.5 * t3 + 2.0 * t2 + 0.5 * t,
        0.5 * t3 - 0.5 * t2,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// A Keys-cubic rotation sampled directly: the definition the shears implement.
    fn direct(img: &[f32], w: usize, h: usize, theta: f64) -> Vec<f32> {
        let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
        let (sa, ca) = theta.sin_cos();
        let mut out = vec![0.0f32; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let (dy, dx) = (y as f64 - cy, x as f64 - cx);
                let (sy, sx) = (cy + ca * dy - sa * dx, cx + sa * dy + ca * dx);
                let (r0, c0) = (sy.floor(), sx.floor());
                let (wr, wc) = (keys((sy - r0) as f32), keys((sx - c0) as f32));
                for (i, wy) in wr.iter().enumerate() {
                    for (j, wx) in wc.iter().enumerate() {
                        let (r, c) = (r0 as isize + i as isize - 1, c0 as isize + j as isize - 1);
                        if r < 0 || c < 0 || r >= h as isize || c >= w as isize {
                            continue;
                        }
                        for ch in 0..3 {
                            out[(y * w + x) * 3 + ch] +=
                                wy * wx * img[(r as usize * w + c as usize) * 3 + ch];
                        }
                    }
                }
            }
        }
        out
    }

    /// The three shears value by value over whole intermediate images, with the 4 Keys taps of
    /// each column, in `f32` (`fixed` = false: the float pipeline the fixed point stands for)
    /// or in the fixed point of [`rotations_sum`] (`fixed`: the same Q15 weights and rounded
    /// products, the plain form of its ring, 6-tap groups and row table), in grey levels.
    fn shears_plain(
        img: &[u8],
        w: usize,
        h: usize,
        step: Step,
        theta_max: f64,
        fixed: bool,
    ) -> Vec<f32> {
        let Step { weight, u, sn } = step;
        let g = Geometry::new(w, h, theta_max);
        let (wb, hb, cy, cx) = (g.wb, g.h + 2 * g.pad_b, g.cy, g.cx);
        // a 4-tap sum of values `v(k)` with weights `wt` (Q15 total `total` in fixed point)
        let sum = |v: &dyn Fn(isize) -> f32, wt: [f32; 4], total: i32| -> f32 {
            if fixed {
                let q = q15(wt, total);
                let t = (0..4).fold(0i16, |a, k| {
                    a.wrapping_add(mulhrs(v(k) as i16, q[k as usize]))
                });
                f32::from(t)
            } else {
                let wt = wt.map(|x| x * total as f32 / 32768.0);
                wt[0] * v(0) + wt[1] * v(1) + wt[2] * v(2) + wt[3] * v(3)
            }
        };
        let at = |y: usize, x: isize, c: usize| -> f32 {
            let x = x - g.pad_i as isize;
            if x < 0 || x >= w as isize {
                0.0
            } else {
                f32::from(img[(y * w + x as usize) * 3 + c]) * if fixed { 64.0 } else { 1.0 }
            }
        };
        let mut b = vec![0.0f32; hb * wb * 3];
        for j in g.pad_b..g.pad_b + h {
            let yy = j - g.pad_b;
            let (i0, wt) = split((g.pad_i - g.pad_a) as f32 + u * (yy as f32 - cy));
            for x in 0..wb {
                for c in 0..3 {
                    b[(j * wb + x) * 3 + c] =
                        sum(&|k| at(yy, x as isize + i0 - 1 + k, c), wt, 32768);
                }
            }
        }
        let mut out = vec![0.0f32; w * h * 3];
        let ca = 1.0 - u * sn;
        for y in 0..h {
            let dy = y as f32 - cy;
            let (lo, hi) = inside([(cy + ca * dy, -sn, h), (cx + sn * dy, ca, w)], cx, w);
            let (i0, wt) = split(g.pad_a as f32 + u * dy);
            for x in lo..hi + 1 {
                for c in 0..3 {
                    let a = |k: isize| {
                        let xa = (x as isize + i0 - 1 + k) as usize;
                        let (r, cw) =
                            split(g.pad_b as f32 - sn * (xa as f32 - g.pad_a as f32 - cx));
                        let bv =
                            |m: isize| b[(((y as isize + r - 1 + m) as usize) * wb + xa) * 3 + c];
                        sum(&bv, cw, 32768)
                    };
                    out[(y * w + x) * 3 + c] = sum(&a, wt, i32::from(weight));
                }
            }
        }
        if fixed {
            out.iter_mut().for_each(|v| *v /= 64.0);
        }
        out
    }

    fn step(weight: i16, theta: f64) -> Step {
        Step {
            weight,
            u: (theta / 2.0).tan() as f32,
            sn: theta.sin() as f32,
        }
    }

    /// The ring, the 6-tap groups of the vertical pass and its row table give the plain
    /// fixed-point passes' values bit for bit, at every ISA, at the steepest angle (magnitude
    /// 10, 15°) and small ones, both signs, with odd sizes.
    #[test]
    fn grouped_vertical_pass_is_the_plain_one() {
        for (w, h) in [(37usize, 23usize), (24, 41)] {
            let img: Vec<u8> = (0..w * h * 3).map(|i| ((i * 7919) % 256) as u8).collect();
            for deg in [15.0f64, -15.0, 2.2, -0.7] {
                let theta = deg.to_radians();
                let first = step(9830, theta);
                let second = step(16384, -theta / 1.5);
                let want = shears_plain(&img, w, h, first, 15f64.to_radians(), true);
                let want2 = shears_plain(&img, w, h, second, 15f64.to_radians(), true);
                for isa in simd::available() {
                    let got = rotations_sum(&img, w, h, &[first], 15f64.to_radians(), isa);
                    assert!(got.iter().any(|&v| v != 0));
                    for (k, (g, p)) in got.iter().zip(&want).enumerate() {
                        assert_eq!(
                            f32::from(*g) / 64.0,
                            *p,
                            "{w}x{h} {deg}° {isa:?}, value {k}"
                        );
                    }
                    // a second step adds to what the first (written, not added) left
                    let got = rotations_sum(&img, w, h, &[first, second], 15f64.to_radians(), isa);
                    for (k, g) in got.iter().enumerate() {
                        assert_eq!(
                            f32::from(*g) / 64.0,
                            want[k] + want2[k],
                            "{w}x{h} {deg}° two steps {isa:?}, value {k}"
                        );
                    }
                }
            }
        }
    }

    /// The three shears rotate: on a smooth image they agree with direct cubic sampling away
    /// from the border; the scalar and AVX2 builds give the same bits.
    #[test]
    fn shears_rotate_and_twins_agree() {
        let (w, h) = (40usize, 30usize);
        let img: Vec<u8> = (0..w * h * 3)
            .map(|i| {
                let (p, c) = (i / 3, i % 3);
                let (y, x) = ((p / w) as f32, (p % w) as f32);
                (100.0 + 60.0 * ((x * 0.21 + c as f32).sin() * (y * 0.17).cos())).round() as u8
            })
            .collect();
        let imgf: Vec<f32> = img.iter().map(|&v| f32::from(v)).collect();
        let theta = 0.15f64;
        let got = rotations_sum(&img, w, h, &[step(32767, theta)], theta, simd::Isa::Scalar);
        let want = direct(&imgf, w, h, theta);
        for y in 6..h - 6 {
            for x in 6..w - 6 {
                for c in 0..3 {
                    let k = (y * w + x) * 3 + c;
                    let g = f32::from(got[k]) / 64.0;
                    assert!((g - want[k]).abs() < 1.5, "{y},{x}: {g} vs {}", want[k]);
                }
            }
        }
        // the corners rotate out of the frame: black
        assert!(got[0] < 20 * 64 && want[0] < 20.0, "{} {}", got[0], want[0]);
        let steps = [step(22937, 0.0998), step(9831, -0.04)];
        let base = rotations_sum(&img, w, h, &steps, 0.2, simd::Isa::Scalar);
        for isa in simd::available() {
            assert_eq!(&base[..], &rotations_sum(&img, w, h, &steps, 0.2, isa)[..]);
        }
    }

    /// The fixed point stands for the float passes: over the 21 rotations of magnitude 10 on
    /// a textured image, every value within 0.3 grey levels of the `f32` pipeline's and the mean
    /// difference (a bias would shift every truncated byte) under 0.02 levels.
    #[test]
    fn fixed_point_is_the_float_pipeline() {
        let (w, h) = (45usize, 38usize);
        let img: Vec<u8> = (0..w * h * 3)
            .map(|i| ((i * 7919 + (i / 3 / w) * 31) % 256) as u8)
            .collect();
        let amount = 15.0;
        let table = step_table(amount);
        let weights = step_weights(&table.iter().map(|st| st[0]).collect::<Vec<_>>());
        assert_eq!(weights.iter().map(|&v| i32::from(v)).sum::<i32>(), 32768);
        let steps: Vec<Step> = table
            .iter()
            .zip(&weights)
            .map(|(&[_, u, sn], &weight)| Step {
                weight,
                u: u as f32,
                sn: sn as f32,
            })
            .collect();
        let theta_max = f64::to_radians(amount);
        let got = rotations_sum(&img, w, h, &steps, theta_max, simd::isa());
        // the float pipeline with the same step weights (their quantisation is not under test:
        // they sum to 1 exactly)
        let mut want = vec![0.0f32; w * h * 3];
        for st in &steps {
            let exact: Vec<f32> = if st.u == 0.0 && st.sn == 0.0 {
                img.iter()
                    .map(|&v| f32::from(v) * f32::from(st.weight) / 32768.0)
                    .collect()
            } else {
                shears_plain(&img, w, h, *st, theta_max, false)
            };
            for (a, v) in want.iter_mut().zip(exact) {
                *a += v;
            }
        }
        let (mut worst, mut bias) = (0.0f32, 0.0f64);
        for (g, f) in got.iter().zip(&want) {
            let d = f32::from(*g) / 64.0 - f;
            worst = worst.max(d.abs());
            bias += f64::from(d) / want.len() as f64;
        }
        assert!(worst < 0.3, "worst {worst}");
        assert!(bias.abs() < 0.02, "bias {bias}");
        assert!(want.iter().any(|&v| v > 100.0));
    }
}
