//! OpenCV `distanceTransform(img, DIST_L2, 5)` and the capped 3×3 f32 `blur` fused with it:
//! see [`distance_box3_trunc_u8`].

#[cfg(test)]
use super::roll_rows;
use crate::kernels::filter2d::reflect101;
use crate::kernels::scratch::Buf;
use crate::simd::dispatch;

/// Chamfer weights of `DIST_L2` with the 5×5 mask: axial, diagonal, knight move.
const CHAMFER: [f32; 3] = [1.0, 1.4, 2.1969];

/// `min` that vectorises (no NaN occurs in the distance transform).
#[inline(always)]
fn fmin(a: f32, b: f32) -> f32 {
    if b < a {
        b
    } else {
        a
    }
}

/// Starting point of a row of distance-transform candidates.
#[derive(Clone, Copy)]
enum Init<'a> {
    /// Forward pass: no current value; pixels where this source row is 0 become 0.
    Zeros(&'a [u8]),
    /// Backward pass: the current (forward-pass) values.
    Values(&'a [f32]),
}

dispatch! {
    /// `out[c] = min(init[c], terms[j][c] + wts[j] for j = 0..7)`: the candidates of one row from
    /// the neighbouring rows (a minimum is exact whatever the order, values are never NaN).
    fn candidates / candidates_scalar / candidates_avx2 (
        init: Init<'_>,
        terms: [&[f32]; 7],
        wts: [f32; 7],
        out: &mut [f32],
    ) {
        let w = out.len();
        let [t0, t1, t2, t3, t4, t5, t6] = terms.map(|t| &t[..w]);
        let [w0, w1, w2, w3, w4, w5, w6] = wts;
        match init {
            Init::Zeros(src) => {
                let src = &src[..w];
                for c in 0..w {
                    let m = t0[c] + w0;
                    let m = fmin(m, t1[c] + w1);
                    let m = fmin(m, t2[c] + w2);
                    let m = fmin(m, t3[c] + w3);
                    let m = fmin(m, t4[c] + w4);
                    let m = fmin(m, t5[c] + w5);
                    let m = fmin(m, t6[c] + w6);
                    out[c] = if src[c] == 0 { 0.0 } else { m };
                }
            }
            Init::Values(cur) => {
                let cur = &cur[..w];
                for c in 0..w {
                    let m = fmin(cur[c], t0[c] + w0);
                    let m = fmin(m, t1[c] + w1);
                    let m = fmin(m, t2[c] + w2);
                    let m = fmin(m, t3[c] + w3);
                    let m = fmin(m, t4[c] + w4);
                    let m = fmin(m, t5[c] + w5);
                    out[c] = fmin(m, t6[c] + w6);
                }
            }
        }
    }
}

/// Segments a row chain is split into by [`chain`].
const CHAIN_SEGS: usize = 8;

/// The same-row recurrence of the distance transform: `out[c] = min(cand[c], out[c−1] + step)`
/// from left to right (`REV`: from right to left), starting from `f32::MAX` outside the row.
///
/// Why not the plain loop: each value waits for the previous add and min (~8 cycles of
/// latency per pixel). The row is cut into [`CHAIN_SEGS`] segments (eight: the add and min of
/// eight chains fill the two floating-point ports for those ~8 cycles) whose chains run
/// interleaved, each started from `f32::MAX`; then, segment by segment, the true value
/// entering a segment is carried on with the very same operations until it reproduces the
/// segment-local value — from there on the local chain already equals the true chain (it was
/// computed by the same recurrence from the same value). The result is bit-identical to the
/// sequential loop (`chain_matches_sequential`), and the carry usually stops within a few
/// pixels.
#[inline]
fn chain<const REV: bool>(cand: &[f32], out: &mut [f32], step: f32) {
    let w = cand.len();
    debug_assert_eq!(out.len(), w);
    let at = |i: usize| if REV { w - 1 - i } else { i };
    let seg = w / CHAIN_SEGS;
    if seg < 8 {
        let mut left = f32::MAX;
        for i in 0..w {
            let c = at(i);
            let v = fmin(cand[c], left + step);
            out[c] = v;
            left = v;
        }
        return;
    }
    let mut carry = [f32::MAX; CHAIN_SEGS];
    {
        // The segments as equal-length slices in chain order (segment k starts at position
        // k·seg of the chain; backwards the segments lie in the last CHAIN_SEGS·seg values
        // and are walked from their ends): no bounds checks in the interleaved loop.
        let base = if REV { w - CHAIN_SEGS * seg } else { 0 };
        let span = base..base + CHAIN_SEGS * seg;
        let mut cs = cand[span.clone()].chunks_exact(seg);
        let mut os = out[span].chunks_exact_mut(seg);
        let mut c: [&[f32]; CHAIN_SEGS] = std::array::from_fn(|_| cs.next().unwrap());
        let mut o: [&mut [f32]; CHAIN_SEGS] = std::array::from_fn(|_| os.next().unwrap());
        if REV {
            c.reverse();
            o.reverse();
        }
        let [c0, c1, c2, c3, c4, c5, c6, c7] = c;
        let [o0, o1, o2, o3, o4, o5, o6, o7] = o;
        // equal-length views: no bounds checks in the interleaved loop
        let (c0, c1, c2, c3) = (&c0[..seg], &c1[..seg], &c2[..seg], &c3[..seg]);
        let (c4, c5, c6, c7) = (&c4[..seg], &c5[..seg], &c6[..seg], &c7[..seg]);
        let (o0, o1, o2, o3) = (
            &mut o0[..seg],
            &mut o1[..seg],
            &mut o2[..seg],
            &mut o3[..seg],
        );
        let (o4, o5, o6, o7) = (
            &mut o4[..seg],
            &mut o5[..seg],
            &mut o6[..seg],
            &mut o7[..seg],
        );
        let [mut r0, mut r1, mut r2, mut r3, mut r4, mut r5, mut r6, mut r7] = carry;
        for i in 0..seg {
            let j = if REV { seg - 1 - i } else { i };
            r0 = fmin(c0[j], r0 + step);
            r1 = fmin(c1[j], r1 + step);
            r2 = fmin(c2[j], r2 + step);
            r3 = fmin(c3[j], r3 + step);
            r4 = fmin(c4[j], r4 + step);
            r5 = fmin(c5[j], r5 + step);
            r6 = fmin(c6[j], r6 + step);
            r7 = fmin(c7[j], r7 + step);
            o0[j] = r0;
            o1[j] = r1;
            o2[j] = r2;
            o3[j] = r3;
            o4[j] = r4;
            o5[j] = r5;
            o6[j] = r6;
            o7[j] = r7;
        }
        carry = [r0, r1, r2, r3, r4, r5, r6, r7];
    }
    // the last segment also takes the remainder
    let mut left = carry[CHAIN_SEGS - 1];
    for i in CHAIN_SEGS * seg..w {
        let c = at(i);
        let v = fmin(cand[c], left + step);
        out[c] = v;
        left = v;
    }
    for k in 1..CHAIN_SEGS {
        let mut left = out[at(k * seg - 1)];
        for i in k * seg..w {
            let c = at(i);
            let v = fmin(cand[c], left + step);
            if v == out[c] {
                break;
            }
            out[c] = v;
            left = v;
        }
    }
}

/// OpenCV `distanceTransform(src, DIST_L2, 5)` as the opencv-python 4.11 build computes it:
/// distance of every non-zero pixel to the nearest zero pixel by the two-pass 5×5 chamfer with
/// weights 1 (axial), 1.4 (diagonal) and 2.1969 (knight move), each candidate `d(q) + w` formed
/// in **f32** (the Intel IPP path of the wheel; OpenCV's own fallback uses 16-bit fixed point
/// and gives e.g. 2.79998779 instead of f32 2.8). Outside the image, and everywhere when the
/// image has no zero pixel, the distance is `f32::MAX`.
///
/// Forward pass (rows top-down, columns left-right): neighbours (−2,±1), (−1,±2) knight,
/// (−1,±1) diagonal, (−1,0) and (0,−1) axial. Backward pass (bottom-up, right-left): the mirror
/// images. Each pixel keeps the minimum of its value and its candidates; since a minimum does
/// not depend on the order of its candidates, the candidates from other rows are reduced first
/// (a vectorisable loop) and only the same-row neighbour is chained.
///
/// Then `min(d, cap)` (spatter's `THRESH_TRUNC`), applied as the rows are written out instead
/// of in a second pass over the image (`f32::MAX` for the plain transform).
#[cfg(test)]
pub fn distance_transform_l2_5_capped(src: &[u8], w: usize, h: usize, cap: f32, dist: &mut [f32]) {
    assert!(dist.len() >= w * h);
    distance_rows(src, w, h, |r, row| {
        for (d, &v) in dist[r * w..(r + 1) * w].iter_mut().zip(row) {
            *d = fmin(v, cap);
        }
    });
}

/// `box3_f32_trunc_u8(min(distance_transform_l2_5(src), cap))` (spatter's distance → blur →
/// `astype(uint8)` chain) without the image-sized f32 distance plane: each finished row of the
/// backward pass is capped into a ring of three padded rows, and output row `q` is blurred as
/// soon as rows `q − 1..=q + 1` are final, so the distances are read back from L1. The same f32
/// values in the same operations as the unfused pair (`fused_distance_box_equals_pair`).
pub fn distance_box3_trunc_u8(src: &[u8], w: usize, h: usize, cap: f32, out: &mut [u8]) {
    assert!(out.len() >= w * h);
    let mut ring = [vec![0f32; w + 2], vec![0f32; w + 2], vec![0f32; w + 2]];
    let mut col = vec![0f64; w + 2];
    let mut emit = |q: usize, ring: &[Vec<f32>; 3], col: &mut [f64]| {
        let [a, b, c] =
            [q as isize - 1, q as isize, q as isize + 1].map(|i| &ring[reflect101(i, h) % 3]);
        box3_row_trunc_u8(a, b, c, col, &mut out[q * w..(q + 1) * w]);
    };
    distance_rows(src, w, h, |r, row| {
        // padded (reflect-101, one value per side) and capped row r in slot r mod 3
        let slot = &mut ring[r % 3];
        for (d, &v) in slot[1..w + 1].iter_mut().zip(row) {
            *d = fmin(v, cap);
        }
        slot[0] = slot[1 + reflect101(-1, w)];
        slot[w + 1] = slot[1 + reflect101(w as isize, w)];
        // rows arrive bottom-up: row r + 1 now has its neighbours r and r + 2 (or its mirror)
        if r + 1 < h {
            emit(r + 1, &ring, &mut col);
        }
    });
    if h > 0 {
        emit(0, &ring, &mut col);
    }
}

/// The rows of OpenCV's `distanceTransform(src, DIST_L2, 5)` (see
/// [`distance_transform_l2_5_capped`]), handed to `sink(r, row)` as the backward pass
/// finishes them: bottom-up, each exactly once. Rows whose width is a multiple of [`LANES`]
/// (at least [`LANES`]² wide) go through [`distance_rows_lanes`], the others through
/// [`distance_rows_plain`]; both give the same values (`lanes_distance_equals_plain`).
fn distance_rows(src: &[u8], w: usize, h: usize, sink: impl FnMut(usize, &[f32])) {
    if w.is_multiple_of(LANES) && w >= LANES * LANES {
        distance_rows_lanes(src, w, h, crate::simd::isa(), sink);
    } else {
        distance_rows_plain(src, w, h, sink);
    }
}

/// [`distance_rows`] one row at a time: the other rows' candidates ([`candidates`]), then the
/// same-row chain ([`chain`]).
fn distance_rows_plain(src: &[u8], w: usize, h: usize, mut sink: impl FnMut(usize, &[f32])) {
    assert!(src.len() >= w * h);
    let [hv, diag, long] = CHAMFER;
    const B: usize = 2;
    let step = w + 2 * B;
    let mut t = Buf::<f32>::take(step * (h + 2 * B));
    // Only the frame (B rows above and below, B columns on each side) needs f32::MAX: the
    // forward pass writes every interior value before any later row reads it.
    t[..B * step].fill(f32::MAX);
    t[(h + B) * step..].fill(f32::MAX);
    for r in 0..h {
        let row = (r + B) * step;
        t[row..row + B].fill(f32::MAX);
        t[row + B + w..row + step].fill(f32::MAX);
    }
    let mut cand = Buf::<f32>::take(w);
    // forward pass: neighbours above and to the left
    for r in 0..h {
        let row = (r + B) * step + B;
        {
            let (above, _) = t.split_at(row);
            let r2 = &above[row - 2 * step - B..row - 2 * step + w + B];
            let r1 = &above[row - step - B..row - step + w + B];
            // equal-length shifted views: no bounds checks in the loop, so it vectorises
            let (k0, k1) = (&r2[1..w + 1], &r2[3..w + 3]);
            let (a0, a1, a2, a3, a4) = (
                &r1[..w],
                &r1[1..w + 1],
                &r1[2..w + 2],
                &r1[3..w + 3],
                &r1[4..w + 4],
            );
            // A zero pixel is 0: folded into the candidate (fmin(0, left + 1) = 0 since
            // distances are ≥ 0), which leaves one add and one min on the sequential chain.
            let terms = [k0, k1, a0, a1, a2, a3, a4];
            let zeros = Init::Zeros(&src[r * w..(r + 1) * w]);
            candidates(
                zeros,
                terms,
                [long, long, long, diag, hv, diag, long],
                &mut cand[..w],
            );
        }
        chain::<false>(&cand[..w], &mut t[row..row + w], hv);
    }
    // backward pass: neighbours below and to the right
    for r in (0..h).rev() {
        let row = (r + B) * step + B;
        {
            let (upto, below) = t.split_at(row + step - B);
            let cur = &upto[row..row + w];
            let r1 = &below[..w + 2 * B];
            let r2 = &below[step..step + w + 2 * B];
            let (k0, k1) = (&r2[3..w + 3], &r2[1..w + 1]);
            let (a0, a1, a2, a3, a4) = (
                &r1[4..w + 4],
                &r1[3..w + 3],
                &r1[2..w + 2],
                &r1[1..w + 1],
                &r1[..w],
            );
            let cur = &cur[..w];
            let terms = [k0, k1, a0, a1, a2, a3, a4];
            let wts = [long, long, long, diag, hv, diag, long];
            candidates(Init::Values(cur), terms, wts, &mut cand[..w]);
        }
        // the frame to the right is f32::MAX, as the chain's start value
        chain::<true>(&cand[..w], &mut t[row..row + w], hv);
        sink(r, &t[row..row + w]);
    }
}

/// Segments (vector lanes) of a row in [`distance_rows_lanes`].
const LANES: usize = 8;

/// One position of [`LANES`] segments of a row: lane `k` holds column `k·l + j` at position
/// `j` of a row of `l = w / LANES` positions.
type Lane = [f32; LANES];

/// Lane-wise [`fmin`].
#[inline(always)]
fn lmin(a: Lane, b: Lane) -> Lane {
    let mut o = a;
    for k in 0..LANES {
        o[k] = fmin(a[k], b[k]);
    }
    o
}

/// Lane-wise `a + s` (f32, rounded).
#[inline(always)]
fn ladd(a: Lane, s: f32) -> Lane {
    let mut o = a;
    for k in 0..LANES {
        o[k] = a[k] + s;
    }
    o
}

/// The candidate at stored position `p` of a row of [`distance_rows_lanes`]: `min` of `init`
/// and the other rows' terms (see [`lanes_row`]). A function, not a closure: a closure would
/// be compiled apart from the AVX2 twins, at the baseline instruction set.
#[inline(always)]
fn lanes_candidate(r2: &[Lane], r1: &[Lane], p: usize, init: Lane) -> Lane {
    let [hv, diag, long] = CHAMFER;
    let kn = lmin(lmin(r2[p - 1], r2[p + 1]), lmin(r1[p - 2], r1[p + 2]));
    let dg = lmin(r1[p - 1], r1[p + 1]);
    let m = lmin(ladd(kn, long), ladd(dg, diag));
    lmin(init, lmin(m, ladd(r1[p], hv)))
}

/// One pass over one row of [`distance_rows_lanes`]: `cur` (`l + 4` positions: two halo
/// positions on each side, see there) holds the row's starting values and receives, at
/// positions `2..l + 2`, the row's final values (each lane's chain started from `f32::MAX`,
/// then [`lanes_carry`]) and its halo ([`lanes_halo`]); `cand` is scratch for the
/// candidates. `r1`/`r2` are the rows one and two away (above for the
/// forward pass, below for the backward pass; the 5×5 mask is symmetric, so both passes read
/// the same offsets), `REV` runs the chains right to left.
///
/// The seven other-row terms share three weights, and f32 rounding is monotone
/// (`a ≤ b ⇒ a ⊕ w ≤ b ⊕ w`), so `min(a ⊕ w, b ⊕ w) = min(a, b) ⊕ w` exactly: the operands of
/// one weight are reduced first and the weight added once (3 adds instead of 7; `f32::MAX ⊕ w`
/// is still `f32::MAX`). The chain `R = min(c, R ⊕ 1)` is the plain recurrence, one vector
/// step per position (taking two or four positions per step with the same monotone rewrite,
/// `min(c₁, c₀ ⊕ 1, (R ⊕ 1) ⊕ 1)`, shortens its latency but measured no faster).
#[inline(always)]
fn lanes_row<const REV: bool>(r2: &[Lane], r1: &[Lane], cur: &mut [Lane], cand: &mut [Lane]) {
    let l = cand.len();
    let (r2, r1, cur) = (&r2[..l + 4], &r1[..l + 4], &mut cur[..l + 4]);
    let hv = CHAMFER[0];
    let mut r = [f32::MAX; LANES];
    for i in 0..l {
        let j = if REV { l - 1 - i } else { i };
        let c = lanes_candidate(r2, r1, j + 2, cur[j + 2]);
        cand[j] = c;
        r = lmin(c, ladd(r, hv));
        cur[j + 2] = r;
    }
    lanes_carry::<REV>(cand, cur);
    lanes_halo(cur);
}

/// [`lanes_row`] left to right (the forward pass), portable build.
fn lanes_row_fwd_scalar(r2: &[Lane], r1: &[Lane], cur: &mut [Lane], cand: &mut [Lane]) {
    lanes_row::<false>(r2, r1, cur, cand);
}

/// [`lanes_row`] right to left (the backward pass), portable build.
fn lanes_row_bwd_scalar(r2: &[Lane], r1: &[Lane], cur: &mut [Lane], cand: &mut [Lane]) {
    lanes_row::<true>(r2, r1, cur, cand);
}

/// AVX2 + FMA build of [`lanes_row_fwd_scalar`] (the same body; a lane is one register).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn lanes_row_fwd_avx2(r2: &[Lane], r1: &[Lane], cur: &mut [Lane], cand: &mut [Lane]) {
    lanes_row::<false>(r2, r1, cur, cand);
}

/// AVX2 + FMA build of [`lanes_row_bwd_scalar`] (the same body).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn lanes_row_bwd_avx2(r2: &[Lane], r1: &[Lane], cur: &mut [Lane], cand: &mut [Lane]) {
    lanes_row::<true>(r2, r1, cur, cand);
}

/// After the chains of [`lanes_row`], each started from `f32::MAX`: the true value entering
/// lane `k` is the last value of lane `k − 1` (`REV`: the first of lane `k + 1`). As in
/// [`chain`], it is carried on with the same operations until it reproduces the lane's own
/// value; here all lanes are carried at once, one vector step per position, until every lane
/// has met its own values (a lane that has met them stays equal: the same recurrence from the
/// same value). If a carry runs through a whole lane, the lane after it was entered with a
/// stale value and the walk is repeated from the new ends (at most `LANES − 1` walks; lane 0
/// starts from the frame and is final at once).
#[inline(always)]
fn lanes_carry<const REV: bool>(cand: &[Lane], cur: &mut [Lane]) {
    let l = cand.len();
    let cur = &mut cur[..l + 4];
    let hv = CHAMFER[0];
    loop {
        let end = cur[if REV { 2 } else { l + 1 }];
        let mut c = [f32::MAX; LANES];
        for k in 0..LANES {
            if REV && k + 1 < LANES {
                c[k] = end[k + 1];
            } else if !REV && k > 0 {
                c[k] = end[k - 1];
            }
        }
        let mut met = false;
        for i in 0..l {
            let j = if REV { l - 1 - i } else { i };
            let v = lmin(cand[j], ladd(c, hv));
            let mut same = true;
            for k in 0..LANES {
                same &= v[k] == cur[j + 2][k];
            }
            if same {
                met = true;
                break;
            }
            cur[j + 2] = v;
            c = v;
        }
        if met {
            return;
        }
    }
}

/// Fill the two halo positions on each side of a finished row of [`distance_rows_lanes`]:
/// lane `k`'s positions `−2, −1` are the last two of lane `k − 1`, its positions `l, l + 1`
/// the first two of lane `k + 1`; beyond the row's ends (lane 0 left, the last lane right)
/// `f32::MAX`, the transform's frame.
#[inline(always)]
fn lanes_halo(cur: &mut [Lane]) {
    let l = cur.len() - 4;
    let (a, b, c, d) = (cur[l], cur[l + 1], cur[2], cur[3]);
    for k in 0..LANES {
        cur[0][k] = if k > 0 { a[k - 1] } else { f32::MAX };
        cur[1][k] = if k > 0 { b[k - 1] } else { f32::MAX };
        cur[l + 2][k] = if k + 1 < LANES { c[k + 1] } else { f32::MAX };
        cur[l + 3][k] = if k + 1 < LANES { d[k + 1] } else { f32::MAX };
    }
}

/// `dst[j][k] = 0` where `src[k·l + j] == 0`, else `f32::MAX` (`l = dst.len()`): the forward
/// pass's starting values (a zero pixel's distance is 0), interleaved.
fn interleave_zeros_scalar(src: &[u8], dst: &mut [Lane]) {
    let l = dst.len();
    for (j, d) in dst.iter_mut().enumerate() {
        for k in 0..LANES {
            d[k] = if src[k * l + j] == 0 { 0.0 } else { f32::MAX };
        }
    }
}

/// `dst[k·l + j] = src[j][k]` (`l = src.len()`): an interleaved row back in column order.
fn deinterleave_scalar(src: &[Lane], dst: &mut [f32]) {
    let l = src.len();
    for (j, s) in src.iter().enumerate() {
        for k in 0..LANES {
            dst[k * l + j] = s[k];
        }
    }
}

/// The 8×8 transpose of `r` (`out[i][k] = r[k][i]`): unpacks, shuffles, lane permutes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn transpose8(r: [std::arch::x86_64::__m256; 8]) -> [std::arch::x86_64::__m256; 8] {
    use std::arch::x86_64::*;
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
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

/// Starts of the 8-position blocks covering `0..l` (`l ≥ 8`): multiples of 8 and, when `l`
/// is not one, a last block ending at `l` (overlapping the one before; its values are
/// written twice, identically).
#[cfg(target_arch = "x86_64")]
fn blocks8(l: usize) -> impl Iterator<Item = usize> {
    debug_assert!(l >= 8);
    (0..l / 8)
        .map(|b| 8 * b)
        .chain((!l.is_multiple_of(8)).then_some(l - 8))
}

/// AVX2 twin of [`interleave_zeros_scalar`]: per block of 8 positions, 8 bytes of each segment
/// widened, compared with 0 and transposed.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn interleave_zeros_avx2(src: &[u8], dst: &mut [Lane]) {
    use std::arch::x86_64::*;
    let l = dst.len();
    if l < 8 {
        return interleave_zeros_scalar(src, dst);
    }
    assert!(src.len() >= LANES * l);
    let max = _mm256_set1_ps(f32::MAX);
    let zero = _mm256_setzero_si256();
    for j0 in blocks8(l) {
        let mut rows = [max; 8];
        for (k, v) in rows.iter_mut().enumerate() {
            // SAFETY: k·l + j0 + 8 ≤ 8·l ≤ src.len().
            let b = unsafe { _mm_loadl_epi64(src.as_ptr().add(k * l + j0) as *const __m128i) };
            let z = _mm256_cmpeq_epi32(_mm256_cvtepu8_epi32(b), zero);
            *v = _mm256_andnot_ps(_mm256_castsi256_ps(z), max);
        }
        for (i, v) in transpose8(rows).into_iter().enumerate() {
            // SAFETY: j0 + i < l = dst.len(); a Lane is 8 f32.
            unsafe { _mm256_storeu_ps(dst.as_mut_ptr().add(j0 + i) as *mut f32, v) };
        }
    }
}

/// AVX2 twin of [`deinterleave_scalar`]: 8×8 transposes of blocks of 8 positions.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn deinterleave_avx2(src: &[Lane], dst: &mut [f32]) {
    use std::arch::x86_64::*;
    let l = src.len();
    if l < 8 {
        return deinterleave_scalar(src, dst);
    }
    assert!(dst.len() >= LANES * l);
    for j0 in blocks8(l) {
        let mut rows = [_mm256_setzero_ps(); 8];
        for (i, v) in rows.iter_mut().enumerate() {
            // SAFETY: j0 + i < l = src.len(); a Lane is 8 f32.
            *v = unsafe { _mm256_loadu_ps(src.as_ptr().add(j0 + i) as *const f32) };
        }
        for (k, v) in transpose8(rows).into_iter().enumerate() {
            // SAFETY: k·l + j0 + 8 ≤ 8·l ≤ dst.len().
            unsafe { _mm256_storeu_ps(dst.as_mut_ptr().add(k * l + j0), v) };
        }
    }
}

/// [`distance_rows`] with each row cut into [`LANES`] segments of `l = w / LANES` columns,
/// stored interleaved (position `j` of a row holds column `k·l + j` in lane `k`), so that the
/// eight segments' chains advance together in one vector (as the eight interleaved chains of
/// [`chain`] do in scalar registers) and the other rows' candidates are formed in the same loop
/// ([`lanes_row`]), without a candidate row in between. Each stored row has two halo positions
/// on each side (the neighbouring segments' columns, [`lanes_halo`]) and two `f32::MAX` frame
/// rows above and below, so the 5×5 mask's offsets are plain position offsets. The zeros of
/// `src` enter as starting values 0 (transposed in, [`interleave_zeros_scalar`]) and finished
/// rows leave through a transpose ([`deinterleave_scalar`]). Same values as
/// [`distance_rows_plain`]: the same f32 operations, minima taken in another order.
fn distance_rows_lanes(
    src: &[u8],
    w: usize,
    h: usize,
    isa: crate::simd::Isa,
    mut sink: impl FnMut(usize, &[f32]),
) {
    assert!(src.len() >= w * h && w.is_multiple_of(LANES));
    let l = w / LANES;
    let p = l + 4;
    let mut buf = Buf::<f32>::take(p * LANES * (h + 4));
    let (t, _) = buf.as_chunks_mut::<LANES>();
    t[..2 * p].fill([f32::MAX; LANES]);
    t[(h + 2) * p..].fill([f32::MAX; LANES]);
    let mut cand = vec![[0f32; LANES]; l];
    let mut row = Buf::<f32>::take(w);
    // forward pass: rows above
    for r in 0..h {
        let (done, rest) = t.split_at_mut((r + 2) * p);
        let (r2, r1) = (&done[r * p..(r + 1) * p], &done[(r + 1) * p..]);
        let cur = &mut rest[..p];
        let s = &src[r * w..(r + 1) * w];
        dispatch!(at isa; interleave_zeros_scalar / interleave_zeros_avx2(s, &mut cur[2..l + 2]));
        dispatch!(at isa; lanes_row_fwd_scalar / lanes_row_fwd_avx2(r2, r1, cur, &mut cand));
    }
    // backward pass: rows below
    for r in (0..h).rev() {
        let (upto, below) = t.split_at_mut((r + 3) * p);
        let cur = &mut upto[(r + 2) * p..];
        let (r1, r2) = (&below[..p], &below[p..2 * p]);
        dispatch!(at isa; lanes_row_bwd_scalar / lanes_row_bwd_avx2(r2, r1, cur, &mut cand));
        dispatch!(at isa; deinterleave_scalar / deinterleave_avx2(&cur[2..l + 2], &mut row[..w]));
        sink(r, &row[..w]);
    }
}

/// The rows of OpenCV `blur(src, (3, 3))` on f32 (`BORDER_REFLECT_101`): the 3×3 sum, formed
/// in f64 (OpenCV's box filter accumulates f32 input in f64; the sums of the distance values
/// here are exact in f64, so the order does not matter), times `1/9` (f64), rounded to f32, and
/// stored through `out` (inlined into each twin below, so it vectorises with them).
#[cfg(test)]
#[inline(always)]
fn box3_f32_with<T>(src: &[f32], w: usize, h: usize, dst: &mut [T], out: impl Fn(f32) -> T) {
    assert!(src.len() >= w * h && dst.len() >= w * h);
    let mut col = vec![0f64; w + 2];
    let mut rows = [vec![0f32; w + 2], vec![0f32; w + 2], vec![0f32; w + 2]];
    for r in 0..h {
        // rolling window: rows[k] holds source row reflect101(r + k − 1), so only the
        // new bottom row is padded (all three at the first row)
        roll_rows(src, w, h, r, &mut rows);
        let [a, b, c] = &rows;
        box3_f32_row(a, b, c, &mut col, &mut dst[r * w..(r + 1) * w], &out);
    }
}

/// One output row of [`box3_f32_with`] from the padded source rows above, at and below
/// (`w + 2` values each; `col` is scratch of `w + 2`).
#[inline(always)]
fn box3_f32_row<T>(
    a: &[f32],
    b: &[f32],
    c: &[f32],
    col: &mut [f64],
    dst: &mut [T],
    out: &impl Fn(f32) -> T,
) {
    let scale = 1.0f64 / 9.0;
    let w = dst.len();
    let col = &mut col[..w + 2];
    for (((o, &x), &y), &z) in col
        .iter_mut()
        .zip(&a[..w + 2])
        .zip(&b[..w + 2])
        .zip(&c[..w + 2])
    {
        *o = (x as f64 + y as f64) + z as f64;
    }
    let (c0, c1, c2) = (&col[..w], &col[1..w + 1], &col[2..w + 2]);
    for (i, d) in dst.iter_mut().enumerate() {
        *d = out((((c0[i] + c1[i]) + c2[i]) * scale) as f32);
    }
}

/// `astype(uint8)` of a blurred distance: kept in [0, 255] (NaN → 255) so the unchecked
/// conversion is sound for any input; a no-op for spatter's values.
#[inline(always)]
fn trunc_u8(v: f32) -> u8 {
    let v = if v < 255.0 { v } else { 255.0 };
    let v = if v > 0.0 { v } else { 0.0 };
    // SAFETY: 0 ≤ v ≤ 255 fits in i32.
    unsafe { v.to_int_unchecked::<i32>() as u8 }
}

dispatch! {
    /// One row of [`box3_f32_trunc_u8`] from padded rows (for [`distance_box3_trunc_u8`]).
    fn box3_row_trunc_u8 / box3_row_trunc_u8_scalar / box3_row_trunc_u8_avx2 (
        a: &[f32],
        b: &[f32],
        c: &[f32],
        col: &mut [f64],
        dst: &mut [u8],
    ) {
        box3_f32_row(a, b, c, col, dst, &trunc_u8);
    }
}

#[cfg(test)]
dispatch! {
    /// OpenCV `blur(src, (3, 3))` on f32 (`BORDER_REFLECT_101`), see [`box3_f32_with`]
    /// (the tests' reference, with [`box3_f32_trunc_u8`]; callers use [`distance_box3_trunc_u8`]).
    pub fn box3_f32 / box3_f32_scalar / box3_f32_avx2 (
        src: &[f32],
        w: usize,
        h: usize,
        dst: &mut [f32],
    ) {
        box3_f32_with(src, w, h, dst, |v| v);
    }
}

#[cfg(test)]
dispatch! {
    /// OpenCV `blur(src, (3, 3))` on f32 (`BORDER_REFLECT_101`, see [`box3_f32_with`])
    /// followed by `astype(uint8)` (truncation) in the same row loop: the f32 values are the
    /// very ones `box3_f32` (the tests' reference) gives, never stored (results outside
    /// [0, 255] saturate; spatter's distances are capped at 20).
    pub fn box3_f32_trunc_u8 / box3_f32_trunc_u8_scalar / box3_f32_trunc_u8_avx2 (
        src: &[f32],
        w: usize,
        h: usize,
        dst: &mut [u8],
    ) {
        box3_f32_with(src, w, h, dst, trunc_u8);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::distance_transform_l2_5;
    use super::*;
    use crate::simd;

    #[test]
    fn chain_matches_sequential() {
        // candidates with zeros (seeds), runs of f32::MAX and fractional distances
        for w in [1usize, 5, 31, 32, 33, 40, 97, 224, 641] {
            for pattern in 0..4u32 {
                let cand: Vec<f32> = (0..w)
                    .map(|i| {
                        let x = (i as u32).wrapping_mul(2_654_435_761) ^ pattern;
                        match (x >> 7) % (3 + pattern) {
                            0 => 0.0,
                            1 => ((x >> 11) % 50) as f32 * 1.4 + 0.1969,
                            _ => f32::MAX,
                        }
                    })
                    .collect();
                for rev in [false, true] {
                    let mut want = vec![0f32; w];
                    let mut left = f32::MAX;
                    for i in 0..w {
                        let c = if rev { w - 1 - i } else { i };
                        want[c] = fmin(cand[c], left + 1.0);
                        left = want[c];
                    }
                    let mut got = vec![-1f32; w];
                    if rev {
                        chain::<true>(&cand, &mut got, 1.0);
                    } else {
                        chain::<false>(&cand, &mut got, 1.0);
                    }
                    assert_eq!(got, want, "w {w} pattern {pattern} rev {rev}");
                }
            }
        }
    }

    #[test]
    fn candidates_simd_equals_scalar() {
        for w in [1usize, 7, 8, 9, 31, 100] {
            let rows: Vec<Vec<f32>> = (0..8)
                .map(|k| {
                    (0..w)
                        .map(|i| match (i * 13 + k * 7) % 5 {
                            0 => f32::MAX,
                            v => v as f32 * 1.4 + k as f32,
                        })
                        .collect()
                })
                .collect();
            let src: Vec<u8> = (0..w).map(|i| (i % 3) as u8).collect();
            let terms: [&[f32]; 7] = std::array::from_fn(|j| &rows[j][..]);
            let wts = [2.1969, 2.1969, 2.1969, 1.4, 1.0, 1.4, 2.1969];
            for init in [Init::Zeros(&src), Init::Values(&rows[7])] {
                let mut a = vec![0f32; w];
                candidates_scalar(init, terms, wts, &mut a);
                for isa in simd::available() {
                    let mut b = vec![0f32; w];
                    dispatch!(at isa; candidates_scalar / candidates_avx2(init, terms, wts, &mut b));
                    assert_eq!(a, b);
                }
                let c = w - 1;
                let mut want = terms
                    .iter()
                    .zip(wts)
                    .map(|(t, wt)| t[c] + wt)
                    .fold(f32::MAX, f32::min);
                match init {
                    Init::Zeros(s) if s[c] == 0 => want = 0.0,
                    Init::Values(v) => want = want.min(v[c]),
                    _ => {}
                }
                assert_eq!(a[c], want);
            }
        }
    }

    /// The fused box-blur-and-truncate equals [`box3_f32`] then `as u8`, through each twin.
    #[test]
    fn box3_f32_trunc_u8_equals_box_then_cast() {
        for &(h, w) in &[(1usize, 1usize), (2, 3), (5, 17), (19, 40)] {
            let f: Vec<f32> = (0..w * h)
                .map(|i| ((i * 73 + 11) % 15) as f32 * 1.4 + (i % 3) as f32 * 0.1969)
                .map(|v| v.min(20.0))
                .collect();
            let mut blurred = vec![0f32; w * h];
            box3_f32_scalar(&f, w, h, &mut blurred);
            let want: Vec<u8> = blurred.iter().map(|&v| v as u8).collect();
            assert!(want.iter().any(|&v| v > 5));
            for isa in simd::available() {
                let mut got = vec![0u8; w * h];
                dispatch!(at isa; box3_f32_trunc_u8_scalar / box3_f32_trunc_u8_avx2(&f, w, h, &mut got));
                assert_eq!(got, want, "{h}x{w} {isa:?}");
            }
        }
    }

    /// The fused distance → cap → blur → truncation equals the unfused pair, at sizes with one
    /// and two rows and columns (the reflect-101 mirrors of the row ring) and larger ones.
    #[test]
    fn fused_distance_box_equals_pair() {
        for &(h, w) in &[
            (1usize, 1usize),
            (1, 9),
            (9, 1),
            (2, 3),
            (3, 2),
            (5, 17),
            (23, 70),
        ] {
            let src: Vec<u8> = (0..w * h)
                .map(|i| if (i * 7 + h) % 19 == 0 { 0 } else { 255 })
                .collect();
            let mut dist = vec![0f32; w * h];
            distance_transform_l2_5_capped(&src, w, h, 5.0, &mut dist);
            let mut want = vec![0u8; w * h];
            box3_f32_trunc_u8(&dist, w, h, &mut want);
            let mut got = vec![0u8; w * h];
            distance_box3_trunc_u8(&src, w, h, 5.0, &mut got);
            assert_eq!(got, want, "{h}x{w}");
        }
        // large enough that the distances vary between 0 and the cap
        let (h, w) = (23, 70);
        let src: Vec<u8> = (0..w * h)
            .map(|i| if i % 131 == 0 { 0 } else { 255 })
            .collect();
        let mut got = vec![0u8; w * h];
        distance_box3_trunc_u8(&src, w, h, 5.0, &mut got);
        assert!(got.contains(&5) && got.iter().any(|&v| v < 3));
    }

    /// The blur row kernel's twins agree on values with fractional parts, at widths around the
    /// vector lengths.
    #[test]
    fn box3_row_simd_equals_scalar() {
        for w in [1usize, 3, 4, 7, 8, 9, 31, 33, 70] {
            let row = |k: usize| -> Vec<f32> {
                (0..w + 2)
                    .map(|i| ((i * 31 + k * 17) % 29) as f32 * 0.7 + (i % 5) as f32 * 0.1969)
                    .collect()
            };
            let (a, b, c) = (row(0), row(1), row(2));
            let mut want = vec![0u8; w];
            box3_row_trunc_u8_scalar(&a, &b, &c, &mut vec![0f64; w + 2], &mut want);
            assert!(want.iter().any(|&v| v > 5));
            for isa in simd::available() {
                let mut got = vec![0u8; w];
                let col = &mut vec![0f64; w + 2];
                dispatch!(at isa; box3_row_trunc_u8_scalar / box3_row_trunc_u8_avx2(&a, &b, &c, col, &mut got));
                assert_eq!(got, want, "w {w} {isa:?}");
            }
        }
    }

    /// Images for the distance-transform tests: sparse, dense and clustered zeros, long
    /// zero-free runs (chains carried across whole segments), a zero-free image (`f32::MAX`
    /// everywhere) and a single zero in a corner.
    fn distance_inputs(w: usize, h: usize) -> Vec<Vec<u8>> {
        let hash =
            |i: usize, s: usize| (i.wrapping_mul(2_654_435_761) ^ s).wrapping_mul(40_503) >> 7;
        let mut v: Vec<Vec<u8>> = [3usize, 17, 97, 1009]
            .iter()
            .map(|&m| {
                (0..w * h)
                    .map(|i| if hash(i, m) % m == 0 { 0 } else { 255 })
                    .collect()
            })
            .collect();
        // blobs: zero where a coarse hash says so
        v.push(
            (0..w * h)
                .map(|i| {
                    if hash(i / w / 9 * 1000 + i % w / 13, 5) % 4 == 0 {
                        0
                    } else {
                        9
                    }
                })
                .collect(),
        );
        // zeros only in a few columns of a few rows: chains cross segments for ~w pixels
        v.push(
            (0..w * h)
                .map(|i| {
                    if (i / w) % 29 == 3 && (i % w) % 61 == 5 {
                        0
                    } else {
                        255
                    }
                })
                .collect(),
        );
        v.push(vec![255; w * h]);
        let mut one = vec![255; w * h];
        one[w * h - 1] = 0;
        v.push(one);
        v
    }

    /// The interleaved-segment transform ([`distance_rows_lanes`], every instruction set)
    /// gives exactly the values of the row-at-a-time one ([`distance_rows_plain`]), at widths
    /// with 8, 9, 15 and 28 positions per segment.
    #[test]
    fn lanes_distance_equals_plain() {
        for &(w, h) in &[
            (64usize, 5usize),
            (72, 31),
            (120, 40),
            (224, 37),
            (224, 1),
            (64, 2),
        ] {
            for (n, src) in distance_inputs(w, h).into_iter().enumerate() {
                let mut want = vec![-1f32; w * h];
                distance_rows_plain(&src, w, h, |r, row| {
                    want[r * w..(r + 1) * w].copy_from_slice(row)
                });
                assert!(want.iter().all(|&d| d >= 0.0));
                if n == 0 && h > 2 {
                    // dense zeros: fractional distances (diagonal and knight steps) as well
                    assert!(want.iter().any(|&d| d.fract() != 0.0), "{w}x{h}");
                }
                if n == 5 && h > 3 {
                    // zeros only in a few columns: chains carried across whole segments
                    assert!(
                        want.iter().any(|&d| d > (w / LANES) as f32 && d < 1e9),
                        "{w}x{h}"
                    );
                }
                for isa in simd::available() {
                    let mut got = vec![-2f32; w * h];
                    let mut order = vec![];
                    distance_rows_lanes(&src, w, h, isa, |r, row| {
                        order.push(r);
                        got[r * w..(r + 1) * w].copy_from_slice(row)
                    });
                    assert_eq!(order, (0..h).rev().collect::<Vec<_>>());
                    let same = got
                        .iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{w}x{h} input {n} {isa:?}");
                }
            }
        }
    }

    /// The transposes in and out of the interleaved layout: twins equal, and the definition.
    #[test]
    fn interleave_twins_and_definition() {
        for l in [1usize, 7, 8, 9, 15, 16, 28, 40] {
            let src: Vec<u8> = (0..8 * l).map(|i| ((i * 37) % 5) as u8).collect();
            let mut want = vec![[1f32; LANES]; l];
            interleave_zeros_scalar(&src, &mut want);
            for j in 0..l {
                for k in 0..LANES {
                    let z = src[k * l + j] == 0;
                    assert_eq!(want[j][k], if z { 0.0 } else { f32::MAX });
                }
            }
            let vals: Vec<Lane> = (0..l)
                .map(|j| std::array::from_fn(|k| (j * 8 + k) as f32 * 0.7))
                .collect();
            let mut back = vec![0f32; 8 * l];
            deinterleave_scalar(&vals, &mut back);
            for (c, &v) in back.iter().enumerate() {
                assert_eq!(v, ((c % l) * 8 + c / l) as f32 * 0.7);
            }
            for isa in simd::available() {
                let mut got = vec![[2f32; LANES]; l];
                dispatch!(at isa; interleave_zeros_scalar / interleave_zeros_avx2(&src, &mut got));
                assert_eq!(got, want, "l {l} {isa:?}");
                let mut got = vec![0f32; 8 * l];
                dispatch!(at isa; deinterleave_scalar / deinterleave_avx2(&vals, &mut got));
                assert_eq!(got, back, "l {l} {isa:?}");
            }
        }
    }

    /// The capped distance transform equals the plain one followed by `min(·, cap)`.
    #[test]
    fn capped_distance_equals_distance_then_min() {
        let (w, h) = (70usize, 23usize);
        let src: Vec<u8> = (0..w * h)
            .map(|i| {
                if ((i * 2_654_435_761usize) >> 9).is_multiple_of(97) {
                    0
                } else {
                    255
                }
            })
            .collect();
        let mut plain = vec![0f32; w * h];
        distance_transform_l2_5(&src, w, h, &mut plain);
        assert!(plain.iter().any(|&d| d > 5.0) && plain.contains(&0.0));
        let mut capped = vec![0f32; w * h];
        distance_transform_l2_5_capped(&src, w, h, 5.0, &mut capped);
        let want: Vec<f32> = plain.iter().map(|&d| d.min(5.0)).collect();
        assert_eq!(capped, want);
    }
}
