//! `circular_motion_blur` (CIFAR-10-C-bar; ALGORITHMS.md §11.8): a Gaussian-weighted
//! average of 21 rotations of the image about its centre.

use super::{clip_trunc, fp, identity, magnitude_params};
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
    let mut steps = [[0.0f64; 3]; STEPS];
    let mut total = 0.0f64;
    for (i, st) in steps.iter_mut().enumerate() {
        let t = 2.0 * i as f64 / (STEPS - 1) as f64 - 1.0;
        let weight = (-2.0 * t * t).exp();
        total += weight;
        let theta = (t * amount).to_radians();
        *st = [weight, (theta / 2.0).tan(), theta.sin()];
    }
    let steps: Vec<[f32; 3]> = steps
        .iter()
        .map(|&[wt, u, sn]| [(wt / total) as f32, u as f32, sn as f32])
        .collect();
    let theta_max = amount.abs().to_radians();
    // the bytes go straight into the padded source: no separate f32 copy of the image
    let acc = rotations_sum(job.src, w, h, &steps, theta_max);
    for (d, v) in job.dst.iter_mut().zip(acc.iter()) {
        *d = clip_trunc(*v);
    }
    Ok(())
}

/// `Σ weight·rotate(img, θ)` over `steps` = [weight, tan(θ/2), sin θ], each rotation about the
/// image centre (`(n − 1)/2` on each axis) as the shears `H(u)·V(−s)·H(u)`: the source of
/// output offset (dy, dx) is `(dy·cosθ − dx·sinθ, dy·sinθ + dx·cosθ)`; zero outside the image.
/// The first step writes the accumulator (zeros where it has no value) instead of adding to
/// a zero-filled one: `0 + v` is `v` (up to the sign of a zero, which no byte shows).
fn rotations_sum<T: Copy + Into<f32>>(
    img: &[T],
    w: usize,
    h: usize,
    steps: &[[f32; 3]],
    theta_max: f64,
) -> Buf<f32> {
    let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
    let (umax, smax) = ((theta_max / 2.0).tan().abs(), theta_max.sin().abs());
    // margins (pixels) of the intermediate images, so every tap is inside its buffer
    let pad_a = (umax * cy).ceil() as usize + 3;
    let pad_b = (smax * (cx + pad_a as f64)).ceil() as usize + 3;
    let pad_i = pad_a + (umax * (cy + pad_b as f64)).ceil() as usize + 3;
    let wi = w + 2 * pad_i; // zero-padded source width
    let wb = w + 2 * pad_a; // width of both intermediates

    // pooled buffers: fresh image-sized vectors on every call cost page faults
    // (only the margins are zeroed: the image's values overwrite the rest)
    let mut src = Buf::<f32>::take(h * wi * 3);
    for (row, img_row) in src.chunks_exact_mut(wi * 3).zip(img.chunks_exact(w * 3)) {
        let (left, rest) = row.split_at_mut(pad_i * 3);
        let (mid, right) = rest.split_at_mut(w * 3);
        left.fill(0.0);
        for (d, &v) in mid.iter_mut().zip(img_row) {
            *d = v.into();
        }
        right.fill(0.0);
    }
    let geom = Geometry {
        w,
        h,
        wi,
        wb,
        pad_a,
        pad_b,
        pad_i,
        cy: cy as f32,
        cx: cx as f32,
    };
    let mut bufs = Buffers::new(&geom, 2 * pad_b + 5);
    // every value is written by the first step (below), so the pooled contents never show
    let mut acc = Buf::<f32>::take(h * w * 3);
    for (k, &[weight, u, sn]) in steps.iter().enumerate() {
        let first = k == 0;
        if u == 0.0 && sn == 0.0 {
            // the unrotated step (t = 0): every pass has the weights (0, 1, 0, 0) and returns
            // the image exactly, so this adds the same values (up to the sign of a zero)
            for (a, &v) in acc.iter_mut().zip(img) {
                let v = weight * v.into();
                *a = if first { v } else { *a + v };
            }
            continue;
        }
        shear_rotate(&src, &mut bufs, &mut acc, &geom, [weight, u, sn], first);
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

/// Lanes of the vertical pass: it works in whole groups of 8 values (the last one may run
/// past the values pass 3 reads; the row and the ring have a group of slack for it).
const LANES: usize = 8;

/// Taps of the vertical pass per group: the 4 Keys taps of each column, placed at the column's
/// row offset from the group's smallest one. A group spans at most 4 columns, whose row
/// offsets differ by at most 1 while `3·|sin θ| < 1` (θ up to 19°; magnitude 10 is 15°), so
/// 5 taps with zero weights where a column does not reach cover every group, and the pass has
/// no per-run branches.
const TAPS: usize = 5;

/// Working buffers of one rotation, reused across rotations. The first shear's rows live in
/// a ring of `ring_rows` (a power of two) rows: the vertical shear of one output row reads
/// only the rows within its largest offset, so the rows stay in cache instead of a whole
/// intermediate image being written and read back (likewise the second intermediate is one
/// row). The ring's first `TAPS − 1` rows are repeated after its end, so that the taps of a
/// group are `TAPS` consecutive rows from any starting slot.
struct Buffers {
    /// Ring of first-shear rows, `stride` values each, plus the repeated rows.
    ring: Buf<f32>,
    ring_rows: usize,
    /// Row length in the ring and in `row`: `wb·3` plus a group of slack.
    stride: usize,
    /// One row of the second shear.
    row: Vec<f32>,
    /// The vertical pass's weights: per group of [`LANES`] values, `TAPS` rows of `LANES`.
    wts: Vec<f32>,
    /// The vertical pass's first source row (minus 1) per group.
    offs: Vec<usize>,
    /// Per column: the Keys source row (minus 1) and weights.
    cols: Vec<(usize, [f32; 4])>,
}

impl Buffers {
    fn new(g: &Geometry, span: usize) -> Buffers {
        let stride = g.wb * 3 + LANES;
        let ring_rows = span.next_power_of_two();
        let groups = (g.wb * 3).div_ceil(LANES);
        // Every ring row's values are computed before they are read, so the pooled contents
        // need no zero-fill; only each row's slack (read by the last group, whose values past
        // the row are never used) is zeroed, so that it holds no NaN or subnormal garbage.
        let mut ring = Buf::take((ring_rows + TAPS - 1) * stride);
        for row in ring.chunks_exact_mut(stride) {
            row[g.wb * 3..].fill(0.0);
        }
        Buffers {
            ring,
            ring_rows,
            stride,
            row: vec![0.0; stride],
            wts: vec![0.0; groups * TAPS * LANES],
            offs: vec![0; groups],
            cols: vec![(0, [0.0; 4]); g.wb],
        }
    }
}

/// `out[j] (+)= Σₖ wₖ·src[base + 3k + j]`: one row of a horizontal shear by a whole number of
/// pixels plus a fraction (the taps `wₖ`), RGB interleaved.
#[inline(always)]
fn shear_row(src: &[f32], base: usize, wts: [f32; 4], out: &mut [f32], add: bool) {
    let n = out.len();
    let s0 = &src[base..base + n];
    let s1 = &src[base + 3..base + 3 + n];
    let s2 = &src[base + 6..base + 6 + n];
    let s3 = &src[base + 9..base + 9 + n];
    let [w0, w1, w2, w3] = wts;
    for j in 0..n {
        let v = w0 * s0[j] + w1 * s1[j] + w2 * s2[j] + w3 * s3[j];
        out[j] = if add { out[j] + v } else { v };
    }
}

/// One group of [`LANES`] values of the vertical pass: `o = Σₖ wₖ·sₖ` lane by lane over
/// the [`TAPS`] rows `s + k·stride` (summed in tap order: a zero-weight tap before or after
/// a column's four adds an exact zero, so the sum is that of its four taps).
///
/// # Safety
/// `o` must be valid for writing `LANES` values, `w` for reading `TAPS·LANES`, and `s` for
/// reading `LANES` values at each of the `TAPS` rows; `o` must not overlap the others.
#[inline(always)]
unsafe fn taps_group(o: *mut f32, s: *const f32, stride: usize, w: *const f32) {
    // whole arrays read and written at once: the group is then a handful of vector loads,
    // multiplies and adds, whatever the compiler assumes about overlaps
    let s: [[f32; LANES]; TAPS] =
        std::array::from_fn(|k| s.add(k * stride).cast::<[f32; LANES]>().read_unaligned());
    let w: [[f32; LANES]; TAPS] =
        std::array::from_fn(|k| w.add(k * LANES).cast::<[f32; LANES]>().read_unaligned());
    let mut out = [0.0f32; LANES];
    for j in 0..LANES {
        out[j] = w[0][j] * s[0][j]
            + w[1][j] * s[1][j]
            + w[2][j] * s[2][j]
            + w[3][j] * s[3][j]
            + w[4][j] * s[4][j];
    }
    o.cast::<[f32; LANES]>().write_unaligned(out);
}

/// Splits `f` into its floor and the Keys weights of the fraction.
#[inline(always)]
fn split(f: f32) -> (isize, [f32; 4]) {
    let i = f.floor();
    (i as isize, keys(f - i))
}

dispatch! {
    /// One weighted rotation of [`rotations_sum`] added to `acc` (written, zero outside the
    /// rotated image, when `overwrite`): the three shear passes, row by row (each output row's
    /// first-shear rows computed into the ring as they are needed).
    fn shear_rotate / shear_rotate_scalar / shear_rotate_avx2 (
        src: &[f32],
        bufs: &mut Buffers,
        acc: &mut [f32],
        g: &Geometry,
        step: [f32; 3],
        overwrite: bool,
    ) {
        let [weight, u, sn] = step;
        let (wb3, wi3, stride) = (g.wb * 3, g.wi * 3, bufs.stride);
        // 2. (set-up) a(y, x) = b(y − sn·(x − cx), x): per column a whole-row offset and four
        //    weights, spread per group of LANES values over TAPS rows from the group's first.
        for (x, col) in bufs.cols.iter_mut().enumerate() {
            let pos = g.pad_b as f32 - sn * (x as f32 - g.pad_a as f32 - g.cx);
            let (i, wts) = split(pos);
            *col = ((i - 1) as usize, wts);
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
                    gw[k * LANES + j] = if k >= d && k - d < 4 { wts[k - d] } else { 0.0 };
                }
            }
        }
        let rmin = bufs.offs.iter().copied().min().unwrap_or(0);
        let rmax = bufs.offs.iter().copied().max().unwrap_or(0) + TAPS - 1;
        assert!(rmax - rmin < bufs.ring_rows, "ring too small");
        let mask = bufs.ring_rows - 1;
        let mut rowp: Vec<*const f32> = Vec::with_capacity(rmax + 2 - TAPS - rmin);
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
                    shear_row(&src[..(yy + 1) * wi3], base, wts, out, false);
                } else {
                    out.fill(0.0);
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
                    acc[row..row + g.w * 3].fill(0.0);
                }
                continue;
            }
            if overwrite {
                acc[row..row + lo * 3].fill(0.0);
                acc[row + (hi + 1) * 3..row + g.w * 3].fill(0.0);
            }
            let off = g.pad_a as f32 + u * dy;
            let (i0, wts) = split(off);
            let first = (lo + i0 as usize - 1) * 3; // the values of a's row that pass 3 reads
            let last = (hi + i0 as usize + 3) * 3;
            // 2. a(y, ·) over the groups that overlap [first, last)
            {
                let (g0, g1) = (first / LANES, last.div_ceil(LANES).min(bufs.offs.len()));
                // the bounds that make the unchecked reads below sound: every group's weights,
                // output and TAPS ring rows (from a slot < ring_rows) lie inside the buffers
                assert!(g1 * LANES <= stride && bufs.row.len() >= stride);
                assert!(bufs.wts.len() >= g1 * TAPS * LANES);
                assert!(bufs.ring.len() >= (bufs.ring_rows + TAPS - 1) * stride);
                let ring = bufs.ring.as_ptr();
                // the first tap row of each group offset (relative to rmin): a table per output
                // row, so that a group's address is one lookup plus its column
                rowp.clear();
                rowp.extend((rmin..=rmax + 1 - TAPS).map(|r| {
                    // SAFETY: a slot < ring_rows starts inside the ring
                    unsafe { ring.add(((y + r) & mask) * stride) }
                }));
                let (wp, op, offs) = (bufs.wts.as_ptr(), bufs.row.as_mut_ptr(), &bufs.offs[..g1]);
                for gi in g0..g1 {
                    let p = rowp[offs[gi] - rmin];
                    // SAFETY: `p` is a slot's row (slot < ring_rows), so its TAPS rows end
                    // inside the ring (asserted above), and (gi + 1)·LANES ≤ g1·LANES ≤ stride;
                    // the weights and the output row hold g1 groups (asserted above); `row`
                    // and `ring` are distinct buffers.
                    unsafe {
                        taps_group(
                            op.add(gi * LANES),
                            p.add(gi * LANES),
                            stride,
                            wp.add(gi * TAPS * LANES),
                        );
                    }
                }
            }
            // 3.
            let wts = wts.map(|v| v * weight);
            let base = lo * 3 + ((i0 - 1) as usize) * 3;
            let out = &mut acc[row + lo * 3..row + (hi + 1) * 3];
            if overwrite {
                shear_row(&bufs.row, base, wts, out, false);
            } else {
                shear_row(&bufs.row, base, wts, out, true);
            }
        }
    }
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

    /// The three shears value by value, each pass over whole intermediate images with the
    /// 4 Keys taps of each column (the plain form of [`shear_rotate`]'s ring, 5-tap groups and
    /// row table), summed in the same order.
    fn shears_plain(img: &[f32], w: usize, h: usize, step: [f32; 3], theta_max: f64) -> Vec<f32> {
        let [weight, u, sn] = step;
        let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
        let (umax, smax) = ((theta_max / 2.0).tan().abs(), theta_max.sin().abs());
        let pad_a = (umax * cy).ceil() as usize + 3;
        let pad_b = (smax * (cx + pad_a as f64)).ceil() as usize + 3;
        let pad_i = pad_a + (umax * (cy + pad_b as f64)).ceil() as usize + 3;
        let (wb, hb) = (w + 2 * pad_a, h + 2 * pad_b);
        let (cy, cx) = (cy as f32, cx as f32);
        let at = |y: usize, x: isize, c: usize| -> f32 {
            let x = x - pad_i as isize;
            if x < 0 || x >= w as isize {
                0.0
            } else {
                img[(y * w + x as usize) * 3 + c]
            }
        };
        let mut b = vec![0.0f32; hb * wb * 3];
        for j in pad_b..pad_b + h {
            let yy = j - pad_b;
            let (i0, wt) = split((pad_i - pad_a) as f32 + u * (yy as f32 - cy));
            for x in 0..wb {
                for c in 0..3 {
                    let s = |k: isize| at(yy, x as isize + i0 - 1 + k, c);
                    b[(j * wb + x) * 3 + c] =
                        wt[0] * s(0) + wt[1] * s(1) + wt[2] * s(2) + wt[3] * s(3);
                }
            }
        }
        let mut out = vec![0.0f32; w * h * 3];
        let ca = 1.0 - u * sn;
        for y in 0..h {
            let dy = y as f32 - cy;
            let (lo, hi) = inside([(cy + ca * dy, -sn, h), (cx + sn * dy, ca, w)], cx, w);
            let (i0, wt) = split(pad_a as f32 + u * dy);
            for x in lo..hi + 1 {
                for c in 0..3 {
                    let a = |k: isize| {
                        let xa = (x as isize + i0 - 1 + k) as usize;
                        let (r, cw) = split(pad_b as f32 - sn * (xa as f32 - pad_a as f32 - cx));
                        let bv =
                            |m: isize| b[(((y as isize + r - 1 + m) as usize) * wb + xa) * 3 + c];
                        cw[0] * bv(0) + cw[1] * bv(1) + cw[2] * bv(2) + cw[3] * bv(3)
                    };
                    let wt = wt.map(|v| v * weight);
                    out[(y * w + x) * 3 + c] =
                        wt[0] * a(0) + wt[1] * a(1) + wt[2] * a(2) + wt[3] * a(3);
                }
            }
        }
        out
    }

    /// The ring, the 5-tap groups of the vertical pass and its row table give the plain
    /// passes' values bit for bit, at the steepest angle (magnitude 10, 15°) and a small one,
    /// both signs, with odd sizes.
    #[test]
    fn grouped_vertical_pass_is_the_plain_one() {
        for (w, h) in [(37usize, 23usize), (24, 41)] {
            let img: Vec<f32> = (0..w * h * 3).map(|i| ((i * 7919) % 256) as f32).collect();
            for deg in [15.0f64, -15.0, 2.2, -0.7] {
                let theta = deg.to_radians();
                let step = [0.3f32, (theta / 2.0).tan() as f32, theta.sin() as f32];
                let got = rotations_sum(&img, w, h, &[step], 15f64.to_radians());
                let want = shears_plain(&img, w, h, step, 15f64.to_radians());
                assert!(got.iter().any(|&v| v != 0.0));
                for (k, (g, p)) in got.iter().zip(&want).enumerate() {
                    // (equal as numbers: a zero's sign may differ, the accumulator starts at +0)
                    assert_eq!(g, p, "{w}x{h} {deg}°, value {k}");
                }
                // a second step adds to what the first (written, not added) left
                let second = [
                    0.5f32,
                    (-theta / 3.0).tan() as f32,
                    (-theta / 1.5).sin() as f32,
                ];
                let got = rotations_sum(&img, w, h, &[step, second], 15f64.to_radians());
                let want2 = shears_plain(&img, w, h, second, 15f64.to_radians());
                for (k, g) in got.iter().enumerate() {
                    assert_eq!(
                        *g,
                        want[k] + want2[k],
                        "{w}x{h} {deg}° two steps, value {k}"
                    );
                }
            }
        }
    }

    /// The three shears rotate: on a smooth image they agree with direct cubic sampling away
    /// from the border; the scalar and AVX2 builds give the same bits.
    #[test]
    fn shears_rotate_and_twins_agree() {
        let (w, h) = (40usize, 30usize);
        let img: Vec<f32> = (0..w * h * 3)
            .map(|i| {
                let (p, c) = (i / 3, i % 3);
                let (y, x) = ((p / w) as f32, (p % w) as f32);
                100.0 + 60.0 * ((x * 0.21 + c as f32).sin() * (y * 0.17).cos())
            })
            .collect();
        let theta = 0.15f64;
        let steps = [[1.0f32, (theta / 2.0).tan() as f32, theta.sin() as f32]];
        let got = rotations_sum(&img, w, h, &steps, theta);
        let want = direct(&img, w, h, theta);
        for y in 6..h - 6 {
            for x in 6..w - 6 {
                for c in 0..3 {
                    let k = (y * w + x) * 3 + c;
                    assert!(
                        (got[k] - want[k]).abs() < 1.5,
                        "{y},{x}: {} vs {}",
                        got[k],
                        want[k]
                    );
                }
            }
        }
        // the corners rotate out of the frame: black
        assert!(got[0] < 20.0 && want[0] < 20.0, "{} {}", got[0], want[0]);
        let steps = [[0.7f32, 0.05, 0.0998], [0.3, -0.02, -0.04]];
        let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
        let _ = (cy, cx);
        let run = |isa| {
            let theta_max = 0.2f64;
            let (umax, smax) = ((theta_max / 2.0).tan(), theta_max.sin());
            let pad_a = (umax * cy).ceil() as usize + 3;
            let pad_b = (smax * (cx + pad_a as f64)).ceil() as usize + 3;
            let pad_i = pad_a + (umax * (cy + pad_b as f64)).ceil() as usize + 3;
            let g = Geometry {
                w,
                h,
                wi: w + 2 * pad_i,
                wb: w + 2 * pad_a,
                pad_a,
                pad_b,
                pad_i,
                cy: cy as f32,
                cx: cx as f32,
            };
            let mut src = vec![0.0f32; h * g.wi * 3];
            for y in 0..h {
                src[(y * g.wi + pad_i) * 3..(y * g.wi + pad_i + w) * 3]
                    .copy_from_slice(&img[y * w * 3..(y + 1) * w * 3]);
            }
            let mut bufs = Buffers::new(&g, 2 * pad_b + 5);
            // NaN everywhere: the first step must write every value (zeros outside)
            let mut acc = vec![f32::NAN; h * w * 3];
            for (k, st) in steps.into_iter().enumerate() {
                dispatch!(at isa; shear_rotate_scalar / shear_rotate_avx2(&src, &mut bufs, &mut acc, &g, st, k == 0));
            }
            assert!(acc.iter().all(|v| !v.is_nan()));
            acc
        };
        let base = run(simd::Isa::Scalar);
        for isa in simd::available() {
            assert_eq!(base, run(isa));
        }
    }
}
