//! Line motion blur of imagecorruptions (`_motion_blur`, ALGORITHMS.md P4), for `H × W × C` images
//! (motion_blur) and `H × W` layers (snow).
//!
//! * Weights: one-sided half-Gaussian `exp(-i²/(2σ²)) / (√(2π)·σ)` (NumPy's exp,
//!   [`numpy_exp`]) for `i = 0..n`,
//!   `n = 2·radius + 1`, divided by their NumPy (pairwise) sum ([`MotionKernel::new`]).
//! * Tap `i` samples the pixel at row offset `-dy_i` and column offset `-dx_i` with
//!   `dy_i = -ceil(i·n·sinθ/h - 0.5)`, `dx_i = -ceil(i·n·cosθ/h - 0.5)` (`h = hypot`), and edge
//!   replication (the reference's `shift()` rolls and overwrites the wrapped band).
//! * Taps stop at the first `i` with `|dy| ≥ H` or `|dx| ≥ W` (later taps dropped, weights not
//!   renormalised: ALGORITHMS.md Quirk 9).
//! * `out = Σ_i k_i · shifted_i`, accumulated in f64 in tap order (bit-exact with NumPy).
//!
//! The accumulation runs row by row: for each output row and tap, one contiguous slice of the
//! source row (plus replicated edge values) is multiplied and added, which vectorises. The AVX2
//! variant is the same code compiled with AVX2 (bit-identical to the scalar twin).

use crate::kernels::gaussian::{numpy_exp, numpy_sum};
use crate::kernels::scratch::{Buf, Pooled};
use crate::simd::dispatch;

/// Weights and offsets of one motion-blur call.
#[derive(Clone, Debug, PartialEq)]
pub struct MotionKernel {
    /// Normalised weights `k_i`.
    pub weights: Vec<f64>,
    /// `(dy_i, dx_i)` of the reference (sampling `in[r - dy, c - dx]`).
    pub offsets: Vec<(i64, i64)>,
}

impl MotionKernel {
    /// Kernel for `radius`, `sigma` and `angle` (degrees), before the tap-dropping rule.
    pub fn new(radius: f64, sigma: f64, angle_deg: f64) -> MotionKernel {
        let width = radius * 2.0 + 1.0;
        let n = width.ceil().max(1.0) as usize;
        let norm = (2.0 * std::f64::consts::PI).sqrt() * sigma;
        let two_s2 = 2.0 * (sigma * sigma);
        let k: Vec<f64> = (0..n)
            .map(|i| numpy_exp(-((i * i) as f64) / two_s2) / norm)
            .collect();
        let z = numpy_sum(&k);
        let weights = k.iter().map(|&v| v / z).collect();
        // np.deg2rad(a) = a * (π / 180)
        let theta = angle_deg * (std::f64::consts::PI / 180.0);
        let p0 = width * theta.sin();
        let p1 = width * theta.cos();
        let hyp = p0.hypot(p1);
        let offsets = (0..n)
            .map(|i| {
                let i = i as f64;
                let dy = -((i * p0) / hyp - 0.5).ceil();
                let dx = -((i * p1) / hyp - 0.5).ceil();
                (dy as i64, dx as i64)
            })
            .collect();
        MotionKernel { weights, offsets }
    }

    /// Number of taps actually used on an `h × w` image (the reference stops at the first tap
    /// whose offset reaches the image size).
    pub fn taps_used(&self, h: usize, w: usize) -> usize {
        self.offsets
            .iter()
            .position(|&(dy, dx)| dy.unsigned_abs() >= h as u64 || dx.unsigned_abs() >= w as u64)
            .unwrap_or(self.offsets.len())
    }
}

/// ImageMagick's Q16 rounding and 8-bit scaling of one blurred value `v` (0–255 scale): the
/// original ImageNet-C scripts blur through ImageMagick (motion_blur, snow's layer), which keeps
/// `q = floor(257·v + 0.5)` (clamped to 0..=65535) and writes `q div 257` to its 8-bit PNG
/// (measured against ImageMagick 6.9.11 Q16).
pub fn imagemagick_u8(v: f64) -> u8 {
    // floor(x) clamped to 0..=65535 equals truncating x clamped to [0, 65535] (NaN → 0 in
    // both), without `floor`'s libm call on x86-64's baseline
    let q = (257.0 * v + 0.5).clamp(0.0, 65535.0) as u32;
    (q / 257) as u8
}

/// Values the blur reads (u8 images, f64 layers).
pub trait Texel: Copy + Send + Sync {
    /// Widen to f64.
    fn to_f64(self) -> f64;
}

impl Texel for u8 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Texel for f32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Texel for f64 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

dispatch! {
    /// Motion-blur an interleaved `h × w × c` array into `dst` (f64, same layout).
    pub fn motion_blur / motion_blur_scalar / motion_blur_avx2 <T: Texel> (
        src: &[T],
        dst: &mut [f64],
        h: usize,
        w: usize,
        c: usize,
        k: &MotionKernel,
    ) {
        let row_len = w * c;
        assert!(src.len() >= h * row_len && dst.len() >= h * row_len);
        let taps = k.taps_used(h, w);
        let pad = k.offsets[..taps]
            .iter()
            .map(|&(_, dx)| dx.unsigned_abs() as usize)
            .max()
            .unwrap_or(0);
        let (padded, pad, prow) = edge_padded(src, h, w, c, pad, 0, BLOCK, T::to_f64);
        let nblocks = row_len.div_ceil(BLOCK);
        // Per tap: (offset of the source row start within `padded` for this output row, weight).
        let mut tap_rows: Vec<(usize, f64)> = Vec::with_capacity(taps);
        for y in 0..h {
            tap_rows.clear();
            for i in 0..taps {
                let (dy, dx) = k.offsets[i];
                let sy = (y as i64 - dy).clamp(0, h as i64 - 1) as usize;
                let start = ((pad as i64 - dx) as usize) * c;
                tap_rows.push((sy * prow + start, k.weights[i]));
            }
            let out = &mut dst[y * row_len..(y + 1) * row_len];
            for b in 0..nblocks {
                let e0 = b * BLOCK;
                // Accumulators start at 0 and taps are added in order, as the reference's
                // `blurred = blurred + k_i · shifted_i`.
                let mut acc = [0f64; BLOCK];
                for &(base, wi) in &tap_rows {
                    // SAFETY: `base = sy·prow + (pad − dx)·c` with |dx| ≤ pad, so
                    // `base + e0 + BLOCK ≤ sy·prow + 2·pad·c + row_len + BLOCK = (sy + 1)·prow`
                    // (e0 + BLOCK ≤ nblocks·BLOCK < row_len + BLOCK) ≤ padded.len(): the
                    // BLOCK spare values of each padded row are there for this. Unchecked,
                    // because the per-tap bounds check was half of the loop's instructions.
                    debug_assert!(base + e0 + BLOCK <= padded.len());
                    let s = unsafe { padded.get_unchecked(base + e0..base + e0 + BLOCK) };
                    for j in 0..BLOCK {
                        acc[j] += wi * s[j];
                    }
                }
                let n = BLOCK.min(row_len - e0);
                out[e0..e0 + n].copy_from_slice(&acc[..n]);
            }
        }
    }
}

dispatch! {
    /// Fast-mode motion blur of an interleaved `h × w × c` 8-bit image straight to 8 bits:
    /// the same taps, offsets, edge rule and tap order as [`motion_blur`], accumulated in f32
    /// with fused multiply-adds (`acc = fma(k_i, x, acc)`, weights rounded to f32), then
    /// `trunc(clip(v, 0, 255))`. Why: the f64 path does a multiply and an add per tap on 4
    /// lanes; this does one FMA on 8, and it writes bytes instead of an f64 image that is read
    /// again. The sums differ from the f64 ones by about 10⁻⁵, so a value changes only where
    /// the exact sum lies that close to an integer (flat areas, where Σk_i·v ≈ v): at most one
    /// grey level, on a small share of values (tests/fast_blur_deviation.rs bounds both).
    /// `f32::mul_add` is correctly rounded in both twins (a hardware FMA in the AVX2 build),
    /// so the twins are bit-identical.
    pub fn motion_blur_u8_fast / motion_blur_u8_fast_scalar / motion_blur_u8_fast_avx2 (
        src: &[u8],
        dst: &mut [u8],
        h: usize,
        w: usize,
        c: usize,
        k: &MotionKernel,
    ) {
        fast_f32_sums(src, dst, h, w, c, k, f32::from, crate::kernels::quantise::q255_f32)
    }
}

/// The smallest f32 not below `1 − ½/257` (= 1 − 32640.996…·2⁻²⁴, strictly between the f32
/// values 1 − 32641·2⁻²⁴ and this one, 1 − 32640·2⁻²⁴): see [`imagemagick_u8_f32`].
const UP_Q16: f32 = 16_744_576.0 / 16_777_216.0;

/// [`imagemagick_u8`] of an f32 sum, in a form that vectorises in f32 (the per-value scalar
/// conversions of `imagemagick_u8` were two thirds of the ImageNet-P motion blur's
/// instructions, and a widening to f64 still a third). `floor(floor(257·v + ½) / 257) = k`
/// exactly when `k − ½/257 ≤ v < k + 1 − ½/257`, i.e. the result is `floor(v + ½/257)`
/// clamped to 0..=255. With `t = floor(v)` and `d = v − t` (exact in f32: `d ∈ [0, 1)` is
/// `v`'s fraction bits), `floor(v + ½/257) = t + [d ≥ 1 − ½/257]`, and for an f32 `d` the
/// comparison with the real `1 − ½/257` is the comparison with [`UP_Q16`]. Clamping `v` to
/// [−1, 256] first changes no result (below −1 and above 256 the result is 0 or 255 either
/// way) and keeps `t` within i32; NaN fails `v > −1` and becomes −1, so 0, as in
/// `imagemagick_u8`. Both sides are monotone in `v`, and the test
/// `imagemagick_u8_f32_equals_imagemagick_u8` checks the f32 values around every step, the
/// clamps, infinities and NaN.
#[inline(always)]
pub fn imagemagick_u8_f32(v: f32) -> u8 {
    let v = if v > -1.0 { v } else { -1.0 };
    let v = if v < 256.0 { v } else { 256.0 };
    let t = v.floor();
    let up = i32::from(v - t >= UP_Q16);
    // SAFETY: −1 ≤ t ≤ 256, an integer.
    let q = unsafe { t.to_int_unchecked::<i32>() } + up;
    q.clamp(0, 255) as u8
}

dispatch! {
    /// Fast-mode motion blur of an f64 layer (snow's flake layer, values in [0, 1]): the sums
    /// of [`motion_blur_u8_fast`] (f32, fused multiply-adds, same taps and order), each
    /// written back as f64. They differ from [`motion_blur`]'s f64 sums by ~10⁻⁷ relative,
    /// which moves snow's `rint(255·v)` only for values that close to a half level (snow
    /// statistics: tests/reference_parity.rs `fast_mode::snow`). Twins bit-identical (tested).
    pub fn motion_blur_f64_fast / motion_blur_f64_fast_scalar / motion_blur_f64_fast_avx2 (
        src: &[f64],
        dst: &mut [f64],
        h: usize,
        w: usize,
        c: usize,
        k: &MotionKernel,
    ) {
        fast_f32_sums(src, dst, h, w, c, k, |v: f64| v as f32, |v: f32| v as f64)
    }
}

/// The f32 FMA sums of the fast motion-blur kernels: `src` prepared ([`Prepared`]) for this
/// one kernel, then [`prepared_sums`]. Inlined into each twin.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn fast_f32_sums<S: Copy, D>(
    src: &[S],
    dst: &mut [D],
    h: usize,
    w: usize,
    c: usize,
    k: &MotionKernel,
    conv: impl Fn(S) -> f32,
    store: impl Fn(f32) -> D,
) {
    let p = Prepared::new(src, h, w, c, std::slice::from_ref(k), conv);
    prepared_sums(&p, dst, k, store)
}

/// A source prepared for the fast (f32) motion blurs: converted to f32 once, each row padded
/// on both sides by `pad_x` edge pixels and followed by a register block of spare zeros (so
/// that the last block of a row may run over), and `pad_y` copies of the first and last
/// padded rows above and below. Any tap whose offsets are within the pads then reads its
/// source at a fixed distance from the output position, with the edge rule (`clamp` of the
/// row and column) already applied by the copies: no per-row clamp, and the same values as
/// clamping. Why a type: an ImageNet-P sequence blurs one source with 31 kernels, and
/// preparing it once per sequence (with the largest pads) saves the conversion and padding
/// of every frame but the first.
pub struct Prepared {
    padded: Buf<f32>,
    h: usize,
    w: usize,
    c: usize,
    pad_x: usize,
    pad_y: usize,
    /// Padded row length (values).
    prow: usize,
}

impl Prepared {
    /// `src` (`h × w × c`) converted by `conv`, with pads wide enough for the taps that each
    /// of `kernels` uses on an `h × w` image.
    pub fn new<S: Copy>(
        src: &[S],
        h: usize,
        w: usize,
        c: usize,
        kernels: &[MotionKernel],
        conv: impl Fn(S) -> f32,
    ) -> Prepared {
        let (mut pad_x, mut pad_y) = (0, 0);
        for k in kernels {
            for &(dy, dx) in &k.offsets[..k.taps_used(h, w)] {
                pad_x = pad_x.max(dx.unsigned_abs() as usize);
                pad_y = pad_y.max(dy.unsigned_abs() as usize);
            }
        }
        let (rows, pad, prow) = edge_padded(src, h, w, c, pad_x, pad_y, block32_for(w * c), conv);
        Prepared {
            padded: rows,
            h,
            w,
            c,
            pad_x: pad,
            pad_y,
            prow,
        }
    }
}

dispatch! {
    /// Fast-mode motion blur of a prepared 8-bit source ([`Prepared`]) with ImageMagick's Q16
    /// rounding ([`imagemagick_u8`] of each f32 sum): the sums of [`motion_blur_u8_fast`]
    /// (same taps, offsets, edge rule and tap order, f32 fused multiply-adds), for the
    /// ImageNet-P sequences that blur through ImageMagick (motion_blur's 31 frames, snow's 31
    /// layer blurs), which prepare their source once for all 31 kernels. The f32 sums move a
    /// value only where the f64 sum lies within ~10⁻⁵ of a rounding boundary of ImageMagick's
    /// quantum, by one level (bounded in `imagenet_p::motion_blur`'s tests). The pads of `p`
    /// do not change any value. Twins bit-identical (tested).
    ///
    /// # Panics
    /// If a tap of `k` lies outside `p`'s pads, or `dst` is shorter than the image.
    pub fn motion_blur_prepared_imagemagick / motion_blur_prepared_imagemagick_scalar / motion_blur_prepared_imagemagick_avx2 (
        p: &Prepared,
        dst: &mut [u8],
        k: &MotionKernel,
    ) {
        prepared_sums(p, dst, k, imagemagick_u8_f32)
    }
}

/// The f32 FMA sums of a prepared source, in the register block of [`BLOCKS32`] that wastes
/// the fewest lanes on the row (ties: the longer one): a 224-pixel row is 3 × 224 = 6 × 112
/// or 224 = 2 × 112 values, where the 64-value block ran 5 % (RGB) or 12.5 % (one channel) of
/// its multiply-adds past the row's end and spent a third of the per-tap instructions on the
/// tap's base and weight rather than on 8 multiply-adds. The block changes only which values
/// share a loop, not any value's operations or their order.
#[inline(always)]
fn prepared_sums<D>(p: &Prepared, dst: &mut [D], k: &MotionKernel, store: impl Fn(f32) -> D) {
    match block32_for(p.w * p.c) {
        112 => prepared_sums_in::<112, D>(p, dst, k, store),
        96 => prepared_sums_in::<96, D>(p, dst, k, store),
        _ => prepared_sums_in::<64, D>(p, dst, k, store),
    }
}

/// Register blocks (f32 values) of [`prepared_sums`]: 8, 12 and 14 AVX2 accumulators (with
/// the broadcast weight, at most the 16 registers; the source is a memory operand).
const BLOCKS32: [usize; 3] = [64, 96, 112];

/// The block of [`BLOCKS32`] covering `row_len` values with the fewest padded lanes, the
/// longest one on a tie.
fn block32_for(row_len: usize) -> usize {
    BLOCKS32
        .iter()
        .copied()
        .min_by_key(|&b| (row_len.div_ceil(b) * b, usize::MAX - b))
        .unwrap_or(64)
}

/// [`prepared_sums`] with register block `B`. Column strips outside, rows inside: one strip of
/// `B` outputs reads, for every tap, `B` values of one of the ~2·radius + 1 rows around the
/// output row, about 15 KB for the ImageNet-P kernels, which stays in L1 from one output row
/// to the next (one new source row segment per row). Rows outside and strips inside read the
/// whole ~70 KB of those rows (f32, RGB) for every output row, from L2. The order of the taps
/// within a sum, and so every value, is the same in either loop order.
#[inline(always)]
fn prepared_sums_in<const B: usize, D>(
    p: &Prepared,
    dst: &mut [D],
    k: &MotionKernel,
    store: impl Fn(f32) -> D,
) {
    let (h, w, c, prow) = (p.h, p.w, p.c, p.prow);
    let row_len = w * c;
    assert!(dst.len() >= h * row_len);
    assert!(p.padded.len() >= (h + 2 * p.pad_y) * prow && prow >= (w + 2 * p.pad_x) * c + B);
    let taps = k.taps_used(h, w);
    // Per tap: where it reads, relative to output row y's padded row start (y·prow), and its
    // weight.
    let tap_offsets: Vec<(usize, f32)> = k.offsets[..taps]
        .iter()
        .zip(&k.weights)
        .map(|(&(dy, dx), &wi)| {
            assert!(dy.unsigned_abs() as usize <= p.pad_y && dx.unsigned_abs() as usize <= p.pad_x);
            let (ry, rx) = (
                (p.pad_y as i64 - dy) as usize,
                (p.pad_x as i64 - dx) as usize,
            );
            (ry * prow + rx * c, wi as f32)
        })
        .collect();
    let nblocks = row_len.div_ceil(B);
    for b in 0..nblocks {
        let e0 = b * B;
        let n = B.min(row_len - e0);
        for y in 0..h {
            let acc = tap_sums::<B>(&p.padded, y * prow + e0, &tap_offsets);
            let out = &mut dst[y * row_len + e0..y * row_len + e0 + n];
            for (o, &v) in out.iter_mut().zip(&acc) {
                *o = store(v);
            }
        }
    }
}

/// The `B` sums `Σ_t w_t · padded[base + off_t + j]` (f32 fused multiply-adds in tap order)
/// of [`prepared_sums_in`]. A function of its own, returning the sums by value: written inline
/// in the strip loop, the accumulators were stored to the stack after every tap.
#[inline(always)]
fn tap_sums<const B: usize>(padded: &[f32], base: usize, taps: &[(usize, f32)]) -> [f32; B] {
    let mut acc = [0f32; B];
    for &(off, wi) in taps {
        // SAFETY: off ≤ 2·pad_y·prow + 2·pad_x·c, so base + off + B ≤ (y + 2·pad_y)·prow
        // + 2·pad_x·c + e0 + B, and e0 + B ≤ nblocks·B < row_len + B, so this is below
        // (y + 2·pad_y + 1)·prow ≤ padded.len() (the B spare values of each padded row are
        // there for this; asserted by the caller). Unchecked, because the per-tap bounds
        // check was half of the loop's instructions.
        debug_assert!(base + off + B <= padded.len());
        let s = unsafe { padded.get_unchecked(base + off..base + off + B) };
        for j in 0..B {
            acc[j] = wi.mul_add(s[j], acc[j]);
        }
    }
    acc
}

/// The rows of `src` (`h × w × c`) converted by `conv` into a pooled buffer, each padded on
/// both sides by `pad_x` edge pixels (column offsets are below w, so clamping once per row is
/// enough), then `spare` zeros, so that the last register block of a row may run over; and
/// `pad_y` copies of the first padded row above it and of the last below. Returns (buffer,
/// pad_x, padded row length). Shared by the motion-blur kernels; inlined into each twin.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn edge_padded<S: Copy, U: Pooled + Copy + Default>(
    src: &[S],
    h: usize,
    w: usize,
    c: usize,
    pad: usize,
    pad_y: usize,
    spare: usize,
    conv: impl Fn(S) -> U,
) -> (Buf<U>, usize, usize) {
    let row_len = w * c;
    let prow = (w + 2 * pad) * c + spare;
    let mut padded = Buf::<U>::take((h + 2 * pad_y) * prow);
    for y in 0..h {
        let s = &src[y * row_len..(y + 1) * row_len];
        let p = &mut padded[(pad_y + y) * prow..(pad_y + y + 1) * prow];
        let (left, rest) = p.split_at_mut(pad * c);
        let (mid, rest) = rest.split_at_mut(row_len);
        let (right, spare) = rest.split_at_mut(pad * c);
        for (d, &v) in mid.iter_mut().zip(s) {
            *d = conv(v);
        }
        // Edge replication by whole pixels (the per-value clamp and conversion of the pad
        // cost a third of fast motion_blur's instructions).
        if row_len > 0 {
            for px in left.chunks_exact_mut(c) {
                px.copy_from_slice(&mid[..c]);
            }
            for px in right.chunks_exact_mut(c) {
                px.copy_from_slice(&mid[row_len - c..]);
            }
        }
        spare.iter_mut().for_each(|v| *v = U::default());
    }
    if h > 0 {
        let (top, rest) = padded.split_at_mut(pad_y * prow);
        let (first, rest) = rest.split_at_mut(prow);
        top.chunks_exact_mut(prow)
            .for_each(|r| r.copy_from_slice(first));
        let (rest, bottom) = rest.split_at_mut((h - 1) * prow);
        let last = if h > 1 {
            &rest[(h - 2) * prow..]
        } else {
            &*first
        };
        bottom[..pad_y * prow]
            .chunks_exact_mut(prow)
            .for_each(|r| r.copy_from_slice(last));
    }
    (padded, pad, prow)
}

/// Elements per register block (8 AVX2 vectors of f64: 8 accumulators, the broadcast weight and
/// a product fit the 16 registers; 4 vectors spent as much on loop overhead as on arithmetic).
const BLOCK: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// The truncating form of [`imagemagick_u8`] equals the floor-then-clamp definition.
    #[test]
    fn imagemagick_u8_equals_its_floor_definition() {
        let def = |v: f64| ((257.0 * v + 0.5).floor().clamp(0.0, 65535.0) as u32 / 257) as u8;
        let mut v = -3.0;
        while v < 260.0 {
            assert_eq!(imagemagick_u8(v), def(v), "{v}");
            v += 0.000_97;
        }
        for v in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            1e30,
            -1e30,
        ] {
            assert_eq!(imagemagick_u8(v), def(v), "{v}");
        }
        // the half-way points of the Q16 rounding
        for q in 0..65535u32 {
            let v = (f64::from(q) + 0.5) / 257.0 - 0.5 / 257.0;
            assert_eq!(imagemagick_u8(v), def(v), "{q}");
        }
    }

    /// ALGORITHMS.md P4 example: radius 10, σ 3, θ = 30°.
    #[test]
    fn weights_and_offsets_of_spec_example() {
        let k = MotionKernel::new(10.0, 3.0, 30.0);
        let want = [0.234745, 0.222059, 0.187969, 0.142380, 0.096507, 0.058534];
        for (a, b) in k.weights.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{a} {b}");
        }
        assert_eq!(
            &k.offsets[..6],
            &[(0, 0), (0, -1), (-1, -2), (-1, -3), (-2, -3), (-2, -4)]
        );
        assert_eq!(k.weights.len(), 21);
    }

    /// `getMotionBlurKernel(21, 3)` of imagecorruptions 1.1.2 (NumPy 1.26, oracle venv), bits of
    /// k[0] and k[7].
    #[test]
    fn weights_are_bit_exact() {
        let k = MotionKernel::new(10.0, 3.0, 0.0);
        assert_eq!(k.weights[0].to_bits(), WANT0, "{:e}", k.weights[0]);
        assert_eq!(k.weights[7].to_bits(), WANT7, "{:e}", k.weights[7]);
    }
    const WANT0: u64 = 0x3fce0c1f6d75df88;
    const WANT7: u64 = 0x3f8f997877e4bdfa;

    #[test]
    fn taps_stop_at_image_size() {
        let k = MotionKernel::new(10.0, 3.0, 0.0);
        // θ = 0: dx_i = -i, so a 5-pixel-wide image keeps taps 0..=4.
        assert_eq!(k.taps_used(100, 5), 5);
        assert_eq!(k.taps_used(1, 100), 21);
    }

    fn definition(src: &[u8], h: usize, w: usize, c: usize, k: &MotionKernel) -> Vec<f64> {
        let mut out = vec![0f64; src.len()];
        for i in 0..k.taps_used(h, w) {
            let (dy, dx) = k.offsets[i];
            for y in 0..h {
                for x in 0..w {
                    let sy = (y as i64 - dy).clamp(0, h as i64 - 1) as usize;
                    let sx = (x as i64 - dx).clamp(0, w as i64 - 1) as usize;
                    for ch in 0..c {
                        out[(y * w + x) * c + ch] +=
                            k.weights[i] * src[(sy * w + sx) * c + ch] as f64;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn fast_f64_layer_twins_are_equal_and_close_to_exact() {
        for &(h, w, angle) in &[(9usize, 31usize, 30.0), (40, 13, -44.0), (64, 70, 41.0)] {
            let src: Vec<f64> = (0..h * w)
                .map(|i| {
                    let v = ((i * 61) % 256) as f64 / 255.0;
                    if v < 0.6 {
                        0.0
                    } else {
                        v
                    }
                })
                .collect();
            let k = MotionKernel::new(12.0, 8.0, angle);
            let mut exact = vec![0f64; src.len()];
            motion_blur_scalar(&src, &mut exact, h, w, 1, &k);
            let mut a = vec![0f64; src.len()];
            motion_blur_f64_fast_scalar(&src, &mut a, h, w, 1, &k);
            for (x, y) in a.iter().zip(&exact) {
                assert!((x - y).abs() < 1e-5, "{x} {y}");
            }
            for isa in simd::available() {
                let mut b = vec![0f64; src.len()];
                dispatch!(at isa; motion_blur_f64_fast_scalar / motion_blur_f64_fast_avx2(&src, &mut b, h, w, 1, &k));
                assert_eq!(a, b, "{isa:?}");
            }
        }
    }

    #[test]
    fn fast_u8_twins_are_equal_and_within_one_level_of_exact() {
        for &(h, w, c, angle) in &[
            (9, 31, 3, 30.0),
            (40, 13, 1, -44.0),
            (3, 3, 3, 12.0),
            (20, 2100, 3, -7.5),
            (64, 70, 3, 41.0),
        ] {
            let src: Vec<u8> = (0..h * w * c).map(|i| ((i * 61) % 256) as u8).collect();
            let k = MotionKernel::new(15.0, 5.0, angle);
            let mut exact = vec![0f64; src.len()];
            motion_blur_scalar(&src, &mut exact, h, w, c, &k);
            let mut a = vec![0u8; src.len()];
            motion_blur_u8_fast_scalar(&src, &mut a, h, w, c, &k);
            for (i, (&f, &e)) in a.iter().zip(&exact).enumerate() {
                let e = e.clamp(0.0, 255.0) as u8;
                assert!(
                    f.abs_diff(e) <= 1,
                    "{h}x{w}x{c} {angle}: value {i}: {f} vs {e}"
                );
            }
            for isa in simd::available() {
                let mut b = vec![0u8; src.len()];
                dispatch!(at isa; motion_blur_u8_fast_scalar / motion_blur_u8_fast_avx2(
                    &src, &mut b, h, w, c, &k
                ));
                assert_eq!(a, b, "{isa:?}");
            }
        }
    }

    /// The vectorisable form equals `imagemagick_u8` on every f32: both are monotone step
    /// functions of `v`, so checking the f32 values on either side of each step (found by
    /// bisection on `imagemagick_u8` itself), the clamps and NaN covers them all.
    #[test]
    fn imagemagick_u8_f32_equals_imagemagick_u8() {
        // UP_Q16 is the f32 ceiling of 1 − ½/257 (the f64 value is within 2⁻⁵³ of the real,
        // which is ~2⁻³² from either f32 neighbour)
        let bound = 1.0 - 0.5 / 257.0;
        assert!(f64::from(UP_Q16) > bound);
        assert!(f64::from(f32::from_bits(UP_Q16.to_bits() - 1)) < bound);
        let exact = |v: f32| imagemagick_u8(f64::from(v));
        // f32 ordered by bits for v ≥ 0
        let at = |b: u32| f32::from_bits(b);
        for k in 1..=255u8 {
            // smallest non-negative f32 with exact(v) ≥ k
            let (mut lo, mut hi) = (0u32, 300f32.to_bits());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if exact(at(mid)) >= k {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            assert_eq!(exact(at(hi)), k);
            assert_eq!(exact(at(lo)), k - 1);
            for b in hi - 3..=hi + 3 {
                assert_eq!(imagemagick_u8_f32(at(b)), exact(at(b)), "{} (k {k})", at(b));
            }
        }
        for v in [
            -1e30f32,
            -1.0,
            -0.0,
            0.0,
            1e-30,
            0.4,
            254.9,
            255.0,
            255.5,
            256.0,
            7e4,
            1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ] {
            assert_eq!(imagemagick_u8_f32(v), exact(v), "{v}");
        }
        assert_eq!(imagemagick_u8_f32(f32::NAN), 0);
        assert_eq!(exact(f32::NAN), 0);
        // and a dense sweep of ordinary sums
        for i in 0..200_000u32 {
            let v = i as f32 * (256.0 / 200_000.0) + 1e-3 * (i % 7) as f32;
            assert_eq!(imagemagick_u8_f32(v), exact(v), "{v}");
        }
    }

    #[test]
    fn fast_imagemagick_twins_are_equal_and_within_one_level_of_exact() {
        for &(h, w, c, angle) in &[
            (9, 31, 3, 30.0),
            (40, 13, 1, -44.0),
            (3, 3, 3, 12.0),
            (64, 70, 3, -120.0),
            (50, 50, 1, 150.0),
        ] {
            let src: Vec<u8> = (0..h * w * c).map(|i| ((i * 61) % 256) as u8).collect();
            let k = MotionKernel::new(14.0, 4.0, angle);
            let mut exact = vec![0f64; src.len()];
            motion_blur_scalar(&src, &mut exact, h, w, c, &k);
            let p = Prepared::new(&src, h, w, c, std::slice::from_ref(&k), f32::from);
            let mut a = vec![0u8; src.len()];
            motion_blur_prepared_imagemagick_scalar(&p, &mut a, &k);
            let mut differ = 0;
            for (i, (&f, &e)) in a.iter().zip(&exact).enumerate() {
                let e = imagemagick_u8(e);
                assert!(
                    f.abs_diff(e) <= 1,
                    "{h}x{w}x{c} {angle}: value {i}: {f} vs {e}"
                );
                differ += usize::from(f != e);
            }
            assert!(
                differ * 50 <= a.len(),
                "{h}x{w}x{c} {angle}: {differ} differ"
            );
            for isa in simd::available() {
                let mut b = vec![0u8; src.len()];
                dispatch!(at isa; motion_blur_prepared_imagemagick_scalar / motion_blur_prepared_imagemagick_avx2(
                    &p, &mut b, &k
                ));
                assert_eq!(a, b, "{isa:?}");
            }
        }
    }

    /// One source prepared for many kernels (pads of the widest, rows and columns) blurs
    /// each of them to the bytes of a source prepared for that kernel alone, in every twin;
    /// and the pads hold the edge values (the rows above and below are the edge rows).
    #[test]
    fn prepared_for_many_kernels_equals_prepared_for_each() {
        for &(h, w, c) in &[(24usize, 40usize, 3usize), (30, 17, 1), (4, 5, 3)] {
            let src: Vec<u8> = (0..h * w * c)
                .map(|i| ((i * 61 + i / 7) % 256) as u8)
                .collect();
            let kernels: Vec<MotionKernel> = (0..9)
                .map(|i| MotionKernel::new(6.0, 2.0, -150.0 + 35.0 * i as f64))
                .collect();
            let all = Prepared::new(&src, h, w, c, &kernels, f32::from);
            assert!(all.pad_y > 0 && all.pad_x > 0);
            for r in 0..h + 2 * all.pad_y {
                let sr = r.saturating_sub(all.pad_y).min(h - 1);
                let row = &all.padded[r * all.prow..(r + 1) * all.prow];
                for x in 0..w + 2 * all.pad_x {
                    let sx = x.saturating_sub(all.pad_x).min(w - 1);
                    for ch in 0..c {
                        assert_eq!(row[x * c + ch], f32::from(src[(sr * w + sx) * c + ch]));
                    }
                }
            }
            for k in &kernels {
                let one = Prepared::new(&src, h, w, c, std::slice::from_ref(k), f32::from);
                let mut want = vec![0u8; src.len()];
                motion_blur_prepared_imagemagick_scalar(&one, &mut want, k);
                for isa in simd::available() {
                    for p in [&one, &all] {
                        let mut got = vec![1u8; src.len()];
                        dispatch!(at isa; motion_blur_prepared_imagemagick_scalar / motion_blur_prepared_imagemagick_avx2(
                            p, &mut got, k
                        ));
                        assert_eq!(got, want, "{h}x{w}x{c} {isa:?}");
                    }
                }
            }
        }
    }

    /// The statistics behind fast mode's f32 sums, on real photos (the fixtures, where flat
    /// and saturated areas are common): over radii/σ of severities 1–5 and several angles, at
    /// most one grey level from the f64 sums, on under 2 % of values, with a mean signed
    /// difference under 0.01 grey levels (no bias). Fast-vs-numpy PSNR/SSIM of the whole
    /// corruption: tests/reference_parity.rs `fast_mode::motion_blur`.
    #[test]
    fn fast_u8_deviation_on_photos() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/photos");
        for name in [
            "chelsea_224x224.png",
            "fruits_160x120.png",
            "coffee_97x61.png",
        ] {
            let img = image::open(format!("{dir}/{name}")).unwrap().to_rgb8();
            let (w, h) = (img.width() as usize, img.height() as usize);
            let src = img.into_raw();
            for (radius, sigma) in [
                (10.0, 3.0),
                (15.0, 5.0),
                (15.0, 8.0),
                (15.0, 12.0),
                (20.0, 15.0),
            ] {
                for angle in [-44.0, -20.0, 0.0, 7.5, 33.0] {
                    let k = MotionKernel::new(radius, sigma, angle);
                    let mut exact = vec![0f64; src.len()];
                    motion_blur(&src, &mut exact, h, w, 3, &k);
                    let mut fast = vec![0u8; src.len()];
                    motion_blur_u8_fast(&src, &mut fast, h, w, 3, &k);
                    let (mut differ, mut signed) = (0usize, 0i64);
                    for (&f, &e) in fast.iter().zip(&exact) {
                        let e = e.clamp(0.0, 255.0) as u8;
                        assert!(f.abs_diff(e) <= 1, "{name} r{radius} {angle}: {f} vs {e}");
                        differ += (f != e) as usize;
                        signed += f as i64 - e as i64;
                    }
                    let n = src.len() as f64;
                    if std::env::var_os("IMGCORRUPT_REPORT").is_some() {
                        eprintln!(
                            "{name} r{radius} σ{sigma} {angle}°: {:.3} % differ, mean {:+.4}",
                            100.0 * differ as f64 / n,
                            signed as f64 / n
                        );
                    }
                    assert!(
                        (differ as f64) < 0.02 * n && (signed as f64 / n).abs() < 0.01,
                        "{name} r{radius} σ{sigma} {angle}°: {differ} of {n} differ, mean {}",
                        signed as f64 / n
                    );
                }
            }
        }
    }

    #[test]
    fn equals_definition_and_simd_equals_scalar() {
        for &(h, w, c, angle) in &[
            (9, 31, 3, 30.0),
            (40, 13, 1, -44.0),
            (3, 3, 3, 12.0),
            (20, 2100, 3, -7.5),
        ] {
            let src: Vec<u8> = (0..h * w * c).map(|i| ((i * 61) % 256) as u8).collect();
            let k = MotionKernel::new(15.0, 5.0, angle);
            let want = definition(&src, h, w, c, &k);
            let mut a = vec![0f64; src.len()];
            motion_blur_scalar(&src, &mut a, h, w, c, &k);
            assert_eq!(a, want);
            for isa in simd::available() {
                let mut b = vec![0f64; src.len()];
                dispatch!(at isa; motion_blur_scalar / motion_blur_avx2(&src, &mut b, h, w, c, &k));
                assert_eq!(a, b);
            }
        }
    }
}
