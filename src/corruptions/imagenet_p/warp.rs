//! The geometric warps of the ImageNet-P sequences: torchvision 0.2's `F.affine` on a PIL image
//! (inverse matrix about the centre `(W/2 + 0.5, H/2 + 0.5)`, PIL's pixel-centre sampling:
//! edge taps clamped, black outside the image's area, truncation) and OpenCV's
//! `warpPerspective` (forward 3×3 matrix, integer pixel centres, black border taps, rounding);
//! [`Source`] prepares an image for either convention. Bilinear sampling is in fixed point here
//! (positions in f32, weights in 2⁻¹⁴, integer sums), within one level of the exact
//! interpolation; PIL interpolates in f64 and OpenCV quantises positions to 1/32, so a value
//! can differ from theirs by one level (PIL) or a few on sharp edges (OpenCV); nearest, as
//! translate uses, is exact (tests/imagenet_p_warps.rs compares with both libraries).

use super::{Rgb, SIDE};

/// Sampling filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// PIL NEAREST.
    Nearest,
    /// Bilinear.
    Bilinear,
}

/// `x.floor()` without the libm call: x86-64's baseline has no SSE4.1 `roundsd`, so
/// `f64::floor` is a function call, which was a third of the warps' instructions. Exact for
/// |x| < 2⁶³ (the truncation is exact there, and a truncation above a negative x is one too
/// high); larger values and NaN go through `f64::floor`.
#[inline(always)]
fn floor(x: f64) -> f64 {
    if x.abs() < 9.0e18 {
        let t = x as i64 as f64;
        if t > x {
            t - 1.0
        } else {
            t
        }
    } else {
        x.floor()
    }
}

/// Fraction bits of the sampler's weights: a weight is `round(f·2¹⁴)`, so each pair of tap
/// weights sums to exactly [`ONE`].
const WBITS: u32 = 14;
/// The weight sum `2¹⁴`.
const ONE: i32 = 1 << WBITS;
/// Bits dropped from a horizontal sum before the vertical one (it must fit an i16 lane:
/// `255·2¹⁴ >> 7 = 32640`).
const HSHIFT: u32 = 7;
/// Final shift: the vertical sum carries `2^(2·14 − 7)`.
const SHIFT: u32 = 2 * WBITS - HSHIFT;
/// Rounding: one half, plus the mean loss of the `>> HSHIFT` truncation (half a unit of the
/// horizontal sum, times the vertical weights' sum).
const ROUND: i32 = (1 << (SHIFT - 1)) + (1 << (WBITS - 1));

/// Fixed-point weight of the fraction `f ∈ [0, 1]` (`f·2¹⁴` is exact in f32).
#[inline(always)]
fn weight(f: f32) -> i32 {
    (f * ONE as f32 + 0.5) as i32
}

/// `floor(x)` for `x ∈ (−2³¹, 2³¹)` (truncation, one lower below a negative non-integer).
#[inline(always)]
fn floor_i32(x: f32) -> i32 {
    let t = x as i32;
    t - i32::from(x < t as f32)
}

/// One channel of the bilinear sample from its taps `a, a'` (row y₀, columns x₀ and x₀ + 1)
/// and `b, b'` (row y₀ + 1), with the weights of the right column `wx` and the lower row `wy`
/// (in 2⁻¹⁴): `((a·(1−wx) + a'·wx) >> 7)·(1−wy) + ((b·(1−wx) + b'·wx) >> 7)·wy`, plus the
/// convention's `round` term, `>> 21`. The AVX2 kernel computes exactly these integers.
#[inline(always)]
fn lerp(a: i32, a1: i32, b: i32, b1: i32, wx: i32, wy: i32, round: i32) -> u8 {
    let top = (a * (ONE - wx) + a1 * wx) >> HSHIFT;
    let bot = (b * (ONE - wx) + b1 * wx) >> HSHIFT;
    ((top * (ONE - wy) + bot * wy + round) >> SHIFT) as u8
}

/// Pixels per block of [`Source::row_avx2`]'s two passes (a 224-pixel crop row is one block).
const BLOCK: usize = 256;

/// Whose bilinear sampling a warp reproduces (the reference calls two libraries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Convention {
    /// PIL's `Image.transform` (torchvision 0.2's `F.affine`: rotate, scale, shear,
    /// zoom_blur): a position inside the image's area, `[−½, W − ½) × [−½, H − ½)` with pixel
    /// centres on integers, samples with the taps beyond the edge clamped to it; any other
    /// position is black; the value is truncated (`(UINT8) v`).
    Pil,
    /// OpenCV's `warpPerspective` with a constant black border (tilt): taps beyond the image
    /// are black, so positions in `[−1, W) × [−1, H)` blend towards black over the last
    /// pixel; the value is rounded.
    OpenCv,
}

/// Truncation in fixed point: only the mean loss of the `>> HSHIFT` truncation (half a unit
/// of the horizontal sum, times the vertical weights' sum), so that `>> SHIFT` is the floor
/// of the interpolated value on average.
const TRUNC: i32 = 1 << (WBITS - 1);

/// A source image prepared for bilinear sampling in one [`Convention`]: the pixels with a
/// one-pixel ring around them (copies of the edge pixels for PIL, black for OpenCV), then
/// black rows, so that every position that samples reads its four taps at pixel
/// `(x₀ + 1, y₀ + 1)` of this buffer without a bounds test or a branch, and every position
/// that does not reads black from the first black row. Built once per sequence (31 frames).
pub struct Source<'a> {
    img: &'a Rgb,
    /// `(H + 4)` rows of `W + 2` pixels (rows `H + 2` on black), plus 8 bytes for the
    /// kernel's 8-byte loads.
    px: Vec<u8>,
    convention: Convention,
    /// Positions with `lo ≤ x < hx` and `lo ≤ y < hy` sample; the others are black.
    lo: f32,
    hx: f32,
    hy: f32,
    /// The rounding term of [`lerp`].
    round: i32,
}

impl<'a> Source<'a> {
    /// `img` as PIL samples it (torchvision's affine warps).
    pub fn pil(img: &'a Rgb) -> Source<'a> {
        Source::new(img, Convention::Pil)
    }

    /// `img` as OpenCV's `warpPerspective` samples it with a black constant border.
    pub fn opencv(img: &'a Rgb) -> Source<'a> {
        Source::new(img, Convention::OpenCv)
    }

    fn new(img: &'a Rgb, convention: Convention) -> Source<'a> {
        let (w, h) = (img.width, img.height);
        let s = (w + 2) * 3;
        let mut px = vec![0u8; (h + 4) * s + 8];
        let pil = convention == Convention::Pil;
        if w > 0 && h > 0 {
            for (r, row) in px.chunks_exact_mut(s).take(h + 2).enumerate() {
                let y = if pil {
                    r.saturating_sub(1).min(h - 1)
                } else if r == 0 || r == h + 1 {
                    continue;
                } else {
                    r - 1
                };
                let src = &img.px[y * w * 3..(y + 1) * w * 3];
                row[3..s - 3].copy_from_slice(src);
                if pil {
                    row[..3].copy_from_slice(&src[..3]);
                    row[s - 3..].copy_from_slice(&src[w * 3 - 3..]);
                }
            }
        }
        let (lo, hx, hy) = match (w > 0 && h > 0, convention) {
            (false, _) => (0.0, -1.0, -1.0),
            (true, Convention::Pil) => (-0.5, w as f32 - 0.5, h as f32 - 0.5),
            (true, Convention::OpenCv) => (-1.0, w as f32, h as f32),
        };
        Source {
            img,
            px,
            convention,
            lo,
            hx,
            hy,
            round: if pil { TRUNC } else { ROUND },
        }
    }

    /// Bytes per row of the prepared buffer.
    fn stride(&self) -> usize {
        (self.img.width + 2) * 3
    }

    /// Offset of the first black row (where the positions that do not sample read).
    fn black(&self) -> usize {
        (self.img.height + 2) * self.stride()
    }

    /// The bilinear sample at continuous position (x, y) (pixel centres on integers): black
    /// outside the sampled area (and for NaN), the taps of the prepared buffer inside it.
    /// Weights are the fractions rounded to 2⁻¹⁴ ([`lerp`]): within one level of the exact
    /// f64 interpolation truncated (PIL) or rounded (OpenCV) (docs/ALGORITHMS.md §13.1;
    /// tested).
    #[inline(always)]
    fn sample(&self, x: f32, y: f32) -> [u8; 3] {
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !(x >= self.lo && y >= self.lo && x < self.hx && y < self.hy) {
            return [0; 3];
        }
        let (x0, y0) = (floor_i32(x), floor_i32(y));
        let (wx, wy) = (weight(x - x0 as f32), weight(y - y0 as f32));
        let s = self.stride();
        // x₀, y₀ ≥ −1 inside the area
        let i = (y0 + 1) as usize * s + (x0 + 1) as usize * 3;
        let t = |k: usize| i32::from(self.px[k]);
        [0, 1, 2].map(|c| {
            lerp(
                t(i + c),
                t(i + 3 + c),
                t(i + s + c),
                t(i + s + 3 + c),
                wx,
                wy,
                self.round,
            )
        })
    }

    /// For every pixel `(X, Y)` of the image inside `win`, the bilinear sample `row(Y, X₀,
    /// out)` writes for the columns `X₀, X₀ + 1, …` of image row `Y` (the same `X₀` and
    /// length for every row); window pixels outside the image are black. Every byte of `out`
    /// (`win.width · win.height` pixels) is written once, so a frame buffer is reused as it
    /// is, without a zero-fill first.
    fn remap(&self, win: Window, out: &mut [u8], mut row: impl FnMut(usize, usize, &mut [u8])) {
        assert_eq!(out.len(), win.width * win.height * 3);
        let (w, h) = (self.img.width as isize, self.img.height as isize);
        let lo = (-win.left).clamp(0, win.width as isize) as usize;
        let hi = (w - win.left).clamp(lo as isize, win.width as isize) as usize;
        for (wy, out_row) in out.chunks_exact_mut(win.width * 3).enumerate() {
            let y = wy as isize + win.top;
            if y < 0 || y >= h || lo == hi {
                out_row.fill(0);
                continue;
            }
            out_row[..lo * 3].fill(0);
            out_row[hi * 3..].fill(0);
            let x0 = (lo as isize + win.left) as usize;
            row(y as usize, x0, &mut out_row[lo * 3..hi * 3]);
        }
    }

    /// Bilinear samples at the positions of columns `x0, x0 + 1, …` of `map` into the pixels
    /// of `out` (RGB8, every byte written), as [`Source::sample`] computes each. Dispatched to
    /// [`Source::row_avx2`].
    fn row(&self, map: &RowMap, x0: usize, out: &mut [u8]) {
        crate::simd::dispatch!(Source::row_scalar / Source::row_avx2(self, map, x0, out))
    }

    /// Scalar twin of [`Source::row`].
    fn row_scalar(&self, map: &RowMap, x0: usize, out: &mut [u8]) {
        for (k, o) in out.chunks_exact_mut(3).enumerate() {
            let (x, y) = map.at((x0 + k) as f32);
            o.copy_from_slice(&self.sample(x, y));
        }
    }

    /// AVX2 twin of [`Source::row`], in blocks of up to [`BLOCK`] pixels and two passes over
    /// each. Pass 1, eight pixels at a time: the positions of the eight columns in f32 lanes
    /// (the scalar operations, no FMA); lanes outside the sampled area get position (0, 0) and
    /// the offset of the black row, so every lane takes the same path; each pixel's tap
    /// offset and weights `(1 − w) | w << 16` go to arrays, with whether any of the eight
    /// samples (eight outside lanes are written as black directly). Pass 2: the integers of
    /// [`lerp`] for all 24 values of eight pixels: each pixel's two tap rows are one 8-byte
    /// load each (`c₀ c₁ c₂ d₀ d₁ d₂ · ·`), shuffled to `c₀ d₀ c₁ d₁ c₂ d₂`, widened to 16 bits
    /// and multiplied by the pixel's `(1 − wx, wx)` with `vpmaddwd`; the two rows' sums,
    /// shifted, are interleaved as 16-bit pairs for a second `vpmaddwd` with `(1 − wy, wy)`.
    ///
    /// Why two passes: in one loop each group's tap loads waited on its own position
    /// arithmetic (conversions, floors, `vpmulld`, a store and reload of the offsets: about a
    /// hundred cycles of latency), and a group's ~150 uops let the out-of-order window hold
    /// about two groups, so the loop ran at under 3 uops a cycle; pass 2 finds its offsets
    /// and weights in memory, and its groups overlap.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn row_avx2(&self, map: &RowMap, x0: usize, out: &mut [u8]) {
        use std::arch::x86_64::*;
        let (w, h) = (self.img.width, self.img.height);
        let n = out.len() / 3;
        if w >= 1 << 24 || h >= 1 << 24 || x0 + n >= 1 << 24 || self.px.len() >= 1 << 31 {
            return self.row_scalar(map, x0, out);
        }
        let base = self.px.as_ptr();
        let stride = self.stride();
        let (ax, ay, az) = (
            _mm256_set1_ps(map.ax),
            _mm256_set1_ps(map.ay),
            _mm256_set1_ps(map.az),
        );
        let (cx, cy, cz) = (
            _mm256_set1_ps(map.cx),
            _mm256_set1_ps(map.cy),
            _mm256_set1_ps(map.cz),
        );
        let lo = _mm256_set1_ps(self.lo);
        let (hx, hy) = (_mm256_set1_ps(self.hx), _mm256_set1_ps(self.hy));
        let one = _mm256_set1_epi32(ONE);
        let scale = _mm256_set1_ps(ONE as f32);
        let half = _mm256_set1_ps(0.5);
        let round = _mm256_set1_epi32(self.round);
        let vs = _mm256_set1_epi32(stride as i32);
        // pixel (x₀ + 1, y₀ + 1) of the prepared buffer
        let ring = _mm256_set1_epi32(stride as i32 + 3);
        let black = _mm256_set1_epi32(self.black() as i32);
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let eight = _mm256_set1_ps(8.0);
        let (words_lo, words_hi) = tap_words();
        // offsets in f32 (exact while the buffer is under 2²⁴ bytes)
        let small = self.px.len() < 1 << 24;
        let (three, stride_f, ring_f) = (
            _mm256_set1_ps(3.0),
            _mm256_set1_ps(stride as f32),
            _mm256_set1_ps((stride + 3) as f32),
        );
        // per 128 bits: four pixels r g b 0 → twelve bytes
        let compress = _mm256_setr_epi8(
            0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, 0, 1, 2, 4, 5, 6, 8, 9, 10, 12,
            13, 14, -1, -1, -1, -1,
        );
        let join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
        let zi = _mm256_setzero_si256();
        let dst = out.as_mut_ptr();
        let n8 = n / 8 * 8;
        // pass 1's results for a block: tap offsets, weights, and which groups sample
        // (uninitialised: zeroing 3 KiB for each row cost a tenth of the kernel's time; pass 2
        // reads only the groups pass 1 wrote)
        let mut scratch = std::mem::MaybeUninit::<[i32; 3 * BLOCK]>::uninit();
        let sp = scratch.as_mut_ptr() as *mut i32;
        let (offs, wxa, wya) = (sp, sp.add(BLOCK), sp.add(2 * BLOCK));
        let mut live = [false; BLOCK / 8];
        let mut k0 = 0;
        // the columns of the next group (integers under 2²⁴: exact in f32, and + 8 is exact)
        let mut xf = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_set1_epi32(x0 as i32), lanes));
        while k0 < n8 {
            let groups = (n8 - k0).min(BLOCK) / 8;
            for (g, live) in live[..groups].iter_mut().enumerate() {
                let mut x = _mm256_add_ps(_mm256_mul_ps(ax, xf), cx);
                let mut y = _mm256_add_ps(_mm256_mul_ps(ay, xf), cy);
                if map.projective {
                    let z = _mm256_add_ps(_mm256_mul_ps(az, xf), cz);
                    x = _mm256_div_ps(x, z);
                    y = _mm256_div_ps(y, z);
                }
                xf = _mm256_add_ps(xf, eight);
                // ordered comparisons: NaN is outside
                let inside = _mm256_and_ps(
                    _mm256_and_ps(
                        _mm256_cmp_ps::<_CMP_GE_OQ>(x, lo),
                        _mm256_cmp_ps::<_CMP_GE_OQ>(y, lo),
                    ),
                    _mm256_and_ps(
                        _mm256_cmp_ps::<_CMP_LT_OQ>(x, hx),
                        _mm256_cmp_ps::<_CMP_LT_OQ>(y, hy),
                    ),
                );
                let mask = _mm256_movemask_ps(inside);
                *live = mask != 0;
                if !*live {
                    continue;
                }
                let all = mask == 0xFF;
                let (x, y) = if all {
                    (x, y)
                } else {
                    (_mm256_and_ps(x, inside), _mm256_and_ps(y, inside))
                };
                let (fx, fy) = (_mm256_floor_ps(x), _mm256_floor_ps(y));
                // (x − ⌊x⌋)·2¹⁴ is exact, so the FMA rounds as the scalar `f·2¹⁴ + ½`
                let wx = _mm256_cvttps_epi32(_mm256_fmadd_ps(_mm256_sub_ps(x, fx), scale, half));
                let wy = _mm256_cvttps_epi32(_mm256_fmadd_ps(_mm256_sub_ps(y, fy), scale, half));
                // (1 − w, w) as the two 16-bit halves of each lane
                let wxp = _mm256_or_si256(_mm256_sub_epi32(one, wx), _mm256_slli_epi32::<16>(wx));
                let wyp = _mm256_or_si256(_mm256_sub_epi32(one, wy), _mm256_slli_epi32::<16>(wy));
                // ring + y₀·stride + 3·x₀: integers of the buffer's size, exact in f32 under 2²⁴
                let idx = if small {
                    _mm256_cvttps_epi32(_mm256_fmadd_ps(
                        fy,
                        stride_f,
                        _mm256_fmadd_ps(fx, three, ring_f),
                    ))
                } else {
                    let xi = _mm256_cvttps_epi32(fx);
                    _mm256_add_epi32(
                        _mm256_add_epi32(_mm256_mullo_epi32(_mm256_cvttps_epi32(fy), vs), ring),
                        _mm256_add_epi32(xi, _mm256_add_epi32(xi, xi)),
                    )
                };
                let idx = if all {
                    idx
                } else {
                    _mm256_blendv_epi8(black, idx, _mm256_castps_si256(inside))
                };
                let at = g * 8;
                // SAFETY: g < BLOCK / 8, so the eight values from `at` are inside each array
                _mm256_storeu_si256(offs.add(at) as *mut __m256i, idx);
                _mm256_storeu_si256(wxa.add(at) as *mut __m256i, wxp);
                _mm256_storeu_si256(wya.add(at) as *mut __m256i, wyp);
            }
            for (g, &live) in live[..groups].iter().enumerate() {
                // SAFETY (stores): k0 + 8·g + 8 ≤ n8 ≤ n, so the 24 bytes from pixel
                // k0 + 8·g are inside `out`
                let o = dst.add((k0 + g * 8) * 3);
                if !live {
                    std::ptr::write_bytes(o, 0, 24);
                    continue;
                }
                let at = g * 8;
                // SAFETY: pass 1 wrote the eight values from `at` of a live group
                let ix = std::slice::from_raw_parts(offs.add(at), 8);
                // SAFETY (loads): a sampled lane has −1 ≤ x₀ ≤ W − 1 and −1 ≤ y₀ ≤ H − 1, so
                // its 8 bytes from pixel (x₀ + 1, y₀ + 1) and from the row below end at most 2
                // bytes into row H + 2; a black lane reads rows H + 2 and H + 3 from their
                // start; the buffer has H + 4 rows and 8 bytes more
                let quad = |a: usize, b: usize, c: usize, d: usize, r: usize| {
                    taps4(base.add(r), [ix[a], ix[b], ix[c], ix[d]])
                };
                // pixels (0, 1 | 4, 5) and (2, 3 | 6, 7); their words are (0 | 4), (1 | 5), …
                let (ta, tc) = (quad(0, 1, 4, 5, 0), quad(2, 3, 6, 7, 0));
                let (ba, bc) = (quad(0, 1, 4, 5, stride), quad(2, 3, 6, 7, stride));
                let wxp = _mm256_loadu_si256(wxa.add(at) as *const __m256i);
                let wyp = _mm256_loadu_si256(wya.add(at) as *const __m256i);
                // each pixel's weights next to its values: lanes (i | i + 4)
                let wxs = [
                    _mm256_shuffle_epi32::<0x00>(wxp),
                    _mm256_shuffle_epi32::<0x55>(wxp),
                    _mm256_shuffle_epi32::<0xAA>(wxp),
                    _mm256_shuffle_epi32::<0xFF>(wxp),
                ];
                let wys = [
                    _mm256_shuffle_epi32::<0x00>(wyp),
                    _mm256_shuffle_epi32::<0x55>(wyp),
                    _mm256_shuffle_epi32::<0xAA>(wyp),
                    _mm256_shuffle_epi32::<0xFF>(wyp),
                ];
                let w = |v: __m256i, c: __m256i| _mm256_shuffle_epi8(v, c);
                let rows = [
                    (w(ta, words_lo), w(ba, words_lo)),
                    (w(ta, words_hi), w(ba, words_hi)),
                    (w(tc, words_lo), w(bc, words_lo)),
                    (w(tc, words_hi), w(bc, words_hi)),
                ];
                let mut r = [zi; 4];
                for (((r, &(ta, ba)), &wxg), &wyg) in r.iter_mut().zip(&rows).zip(&wxs).zip(&wys) {
                    let top = _mm256_srli_epi32::<{ HSHIFT as i32 }>(_mm256_madd_epi16(ta, wxg));
                    let bot =
                        _mm256_slli_epi32::<{ 16 - HSHIFT as i32 }>(_mm256_madd_epi16(ba, wxg));
                    let tb = _mm256_blend_epi16::<0b1010_1010>(top, bot);
                    *r = _mm256_srli_epi32::<{ SHIFT as i32 }>(_mm256_add_epi32(
                        _mm256_madd_epi16(tb, wyg),
                        round,
                    ));
                }
                // (0|4), (1|5), (2|6), (3|7) → bytes 0 1 2 3 | 4 5 6 7 → 24 contiguous bytes
                let v = _mm256_packus_epi16(
                    _mm256_packus_epi32(r[0], r[1]),
                    _mm256_packus_epi32(r[2], r[3]),
                );
                let v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, compress), join);
                _mm_storeu_si128(o as *mut __m128i, _mm256_castsi256_si128(v));
                _mm_storel_epi64(o.add(16) as *mut __m128i, _mm256_extracti128_si256::<1>(v));
            }
            k0 += groups * 8;
        }
        self.row_scalar(map, x0 + n8, &mut out[n8 * 3..]);
    }

    /// torchvision 0.2 `F.affine(img, angle, translate, scale, shear, BILINEAR)` (degrees)
    /// then `CenterCrop(224)`, computing only the crop (a [`Source::pil`]) into `out`
    /// (224·224·3 bytes, every one written).
    pub fn affine_crop_into(
        &self,
        angle: f64,
        translate: (f64, f64),
        scale: f64,
        shear: f64,
        out: &mut [u8],
    ) {
        let m = affine_matrix(self.img, angle, translate, scale, shear);
        debug_assert_eq!(self.convention, Convention::Pil);
        self.affine_window(Window::crop(self.img), m, out)
    }

    fn affine_window(&self, win: Window, m: [f64; 6], out: &mut [u8]) {
        if m[1] == 0.0 && m[3] == 0.0 {
            return self.scaled_window(win, m, out);
        }
        self.remap(win, out, |y, x0, out| {
            self.row(&RowMap::pil_affine(m, y), x0, out)
        })
    }

    /// [`Source::affine_window`] of a map without rotation or shear (`m₁ = m₃ = 0`: scale,
    /// zoom_blur, and the unrotated frames), whose positions are separable: every row has the
    /// same `ax`, `cx` (`m₁·(Y + ½)` is ±0), so column `X` samples at the same `x` in every row,
    /// and `ay = ±0`, so a row samples at one `y` (`±0·X + cy = cy`). Dispatched to
    /// [`Source::scaled_window_avx2`]; the scalar twin is the generic per-pixel path.
    fn scaled_window(&self, win: Window, m: [f64; 6], out: &mut [u8]) {
        crate::simd::dispatch!(
            Source::scaled_window_scalar / Source::scaled_window_avx2(self, win, m, out)
        )
    }

    /// Scalar twin of [`Source::scaled_window`]: the generic path, pixel by pixel.
    fn scaled_window_scalar(&self, win: Window, m: [f64; 6], out: &mut [u8]) {
        self.remap(win, out, |y, x0, out| {
            self.row_scalar(&RowMap::pil_affine(m, y), x0, out)
        })
    }

    /// AVX2 twin of [`Source::scaled_window`]: the integers of [`lerp`] in two passes. The
    /// columns' tap offsets and `(1 − wx, wx)` weights are computed once per window (with
    /// [`Source::sample`]'s f32 operations); the horizontal sums `(a·(1−wx) + a'·wx) >> 7` of a
    /// prepared row are computed once for all columns and kept for the next output row, which
    /// mostly reads the same two prepared rows (a zoom's rows are under a pixel apart); the
    /// vertical pass is then contiguous. A row whose map differs from the window's columns
    /// (it cannot for `m₁ = m₃ = 0`, but the twin does not rely on that) takes the generic
    /// row kernel.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn scaled_window_avx2(&self, win: Window, m: [f64; 6], out: &mut [u8]) {
        let (w, h) = (self.img.width, self.img.height);
        if w >= 1 << 24 || h >= 1 << 24 || self.px.len() >= 1 << 31 || win.width >= 1 << 24 {
            return self.scaled_window_scalar(win, m, out);
        }
        let mut cols: Option<Columns> = None;
        // two horizontal rows: (prepared row, sums)
        let mut hrows: [(usize, Vec<i16>); 2] =
            [(usize::MAX, Vec::new()), (usize::MAX, Vec::new())];
        self.remap(win, out, |y, x0, out| {
            let map = RowMap::pil_affine(m, y);
            let n = out.len() / 3;
            let c = cols.get_or_insert_with(|| Columns::new(self, &map, x0, n));
            if map.ax.to_bits() != c.ax.to_bits()
                || map.cx.to_bits() != c.cx.to_bits()
                || map.ay != 0.0
            {
                return self.row_avx2(&map, x0, out);
            }
            // the scalar twin's position of every column of this row: ay·X + cy with ay = ±0
            let yv = map.ay * x0 as f32 + map.cy;
            #[allow(clippy::neg_cmp_op_on_partial_ord)]
            if !(yv >= self.lo && yv < self.hy) {
                out.fill(0);
                return;
            }
            let y0 = floor_i32(yv);
            let wy = weight(yv - y0 as f32);
            // x₀, y₀ ≥ −1 inside the area: taps on prepared rows y₀ + 1 and y₀ + 2
            let r = (y0 + 1) as usize;
            let t = Columns::slot(self, c, &mut hrows, r, r + 1);
            let b = Columns::slot(self, c, &mut hrows, r + 1, r);
            vertical_avx2(
                &hrows[t].1,
                &hrows[b].1,
                (ONE - wy) | (wy << 16),
                self.round,
                out,
            );
        })
    }

    /// OpenCV `warpPerspective(img, mat, (W, H))` then `CenterCrop(224)`, computing only the
    /// crop (a [`Source::opencv`]) into `out` (224·224·3 bytes, every one written).
    pub fn perspective_crop_into(&self, mat: [[f64; 3]; 3], out: &mut [u8]) {
        debug_assert_eq!(self.convention, Convention::OpenCv);
        self.perspective_window(Window::crop(self.img), mat, out)
    }

    fn perspective_window(&self, win: Window, mat: [[f64; 3]; 3], out: &mut [u8]) {
        let inv = invert3(mat);
        self.remap(win, out, |y, x0, out| {
            self.row(&RowMap::perspective(inv, y), x0, out)
        })
    }
}

/// The columns of a separable window ([`Source::scaled_window_avx2`]), padded to a multiple
/// of 8: each column's byte offset of its left tap in a prepared row and its weights
/// `(1 − wx) | wx << 16`; a column outside the sampled area (and the padding) has offset 0
/// and weights 0, so its horizontal sums, and hence its value, are 0 (black: the vertical
/// pass's rounding term is under `2²¹`).
#[cfg(target_arch = "x86_64")]
struct Columns {
    ax: f32,
    cx: f32,
    offs: Vec<i32>,
    wxp: Vec<i32>,
}

#[cfg(target_arch = "x86_64")]
impl Columns {
    /// The `n` columns from `x0` of `map` (the positions of [`RowMap::at`]'s x).
    fn new(src: &Source, map: &RowMap, x0: usize, n: usize) -> Columns {
        let n8 = n.div_ceil(8) * 8;
        let (mut offs, mut wxp) = (vec![0i32; n8], vec![0i32; n8]);
        for k in 0..n {
            let x = map.ax * (x0 + k) as f32 + map.cx;
            if x >= src.lo && x < src.hx {
                let xi = floor_i32(x);
                let wx = weight(x - xi as f32);
                // x₀ ≥ −1 inside the area: its taps start at pixel x₀ + 1 of a prepared row
                offs[k] = (xi + 1) * 3;
                wxp[k] = (ONE - wx) | (wx << 16);
            }
        }
        Columns {
            ax: map.ax,
            cx: map.cx,
            offs,
            wxp,
        }
    }

    /// The slot of `hrows` holding the horizontal sums of prepared row `r`, computing them
    /// into the slot that does not hold row `keep` when neither has them.
    ///
    /// # Safety
    /// The CPU must support AVX2; `r ≤ H + 1` (a prepared row with a row below it).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn slot(
        src: &Source,
        cols: &Columns,
        hrows: &mut [(usize, Vec<i16>); 2],
        r: usize,
        keep: usize,
    ) -> usize {
        if let Some(i) = hrows.iter().position(|h| h.0 == r) {
            return i;
        }
        let i = usize::from(hrows[0].0 == keep);
        let (row, sums) = &mut hrows[i];
        *row = r;
        sums.resize(cols.offs.len() * 4, 0);
        horizontal_avx2(src, r, cols, sums);
        i
    }
}

/// `vpshufb` controls taking, per 128 bits, the taps of the first (`.0`) or the second (`.1`)
/// of two pixels' 8-byte tap loads (`c₀ c₁ c₂ d₀ d₁ d₂ · ·`) to the 16-bit words
/// `c₀ d₀ c₁ d₁ c₂ d₂ 0 0`, the `vpmaddwd` operand of the bilinear kernels (one shuffle
/// where a byte shuffle and two unpacks were).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn tap_words() -> (std::arch::x86_64::__m256i, std::arch::x86_64::__m256i) {
    use std::arch::x86_64::*;
    (
        _mm256_setr_epi8(
            0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1, 0, -1, 3, -1, 1, -1, 4, -1,
            2, -1, 5, -1, -1, -1, -1, -1,
        ),
        _mm256_setr_epi8(
            8, -1, 11, -1, 9, -1, 12, -1, 10, -1, 13, -1, -1, -1, -1, -1, 8, -1, 11, -1, 9, -1, 12,
            -1, 10, -1, 13, -1, -1, -1, -1, -1,
        ),
    )
}

/// The 8 bytes at `base + o` for the four offsets `o`, as the four 64-bit lanes of one
/// register in order: each a broadcast load (`vpbroadcastq`, load ports only) merged with
/// `vpblendd`, which leaves the shuffle port, where the bilinear kernels' `pshufb`, unpacks
/// and packs queue, free (a `movq`/`movhps`/`vinserti128` assembly took three shuffle-port
/// uops of it per register).
///
/// # Safety
/// The CPU must support AVX2; the 8 bytes at each `base + o` are readable.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn taps4(base: *const u8, o: [i32; 4]) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    let q = |k: usize| {
        _mm256_set1_epi64x(std::ptr::read_unaligned(
            base.add(o[k] as usize) as *const i64
        ))
    };
    let ab = _mm256_blend_epi32::<0b0000_1100>(q(0), q(1));
    let cd = _mm256_blend_epi32::<0b1100_0000>(q(2), q(3));
    _mm256_blend_epi32::<0b1111_0000>(ab, cd)
}

/// The horizontal sums `(a·(1 − wx) + a'·wx) >> 7` of prepared row `r` at every column of
/// `cols`, as 16-bit values, four per pixel (the three channels and a 0), stored in the lane
/// order of [`Source::row_avx2`]'s `vpmaddwd` results: per eight pixels, pixels (0, 1 | 4, 5)
/// then (2, 3 | 6, 7).
///
/// # Safety
/// The CPU must support AVX2; `r ≤ H + 1`; `sums.len() = 4·cols.offs.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn horizontal_avx2(src: &Source, r: usize, cols: &Columns, sums: &mut [i16]) {
    use std::arch::x86_64::*;
    assert!(r <= src.img.height + 1 && sums.len() == cols.offs.len() * 4);
    // SAFETY: row r starts inside the buffer (H + 4 rows)
    let rb = src.px.as_ptr().add(r * src.stride());
    let (words_lo, words_hi) = tap_words();
    // SAFETY (loads): an offset is 0 or 3·(x₀ + 1) ≤ 3·W, so its 8 bytes end at most 2 bytes
    // into the next prepared row, which exists for r ≤ H + 1 (H + 4 rows, 8 bytes more)

    for ((ix, wxp), out) in cols
        .offs
        .chunks_exact(8)
        .zip(cols.wxp.chunks_exact(8))
        .zip(sums.chunks_exact_mut(32))
    {
        let ta = taps4(rb, [ix[0], ix[1], ix[4], ix[5]]);
        let tc = taps4(rb, [ix[2], ix[3], ix[6], ix[7]]);
        let wxp = _mm256_loadu_si256(wxp.as_ptr() as *const __m256i);
        let h = |v: __m256i, w: __m256i| {
            _mm256_srli_epi32::<{ HSHIFT as i32 }>(_mm256_madd_epi16(v, w))
        };
        let r0 = h(
            _mm256_shuffle_epi8(ta, words_lo),
            _mm256_shuffle_epi32::<0x00>(wxp),
        );
        let r1 = h(
            _mm256_shuffle_epi8(ta, words_hi),
            _mm256_shuffle_epi32::<0x55>(wxp),
        );
        let r2 = h(
            _mm256_shuffle_epi8(tc, words_lo),
            _mm256_shuffle_epi32::<0xAA>(wxp),
        );
        let r3 = h(
            _mm256_shuffle_epi8(tc, words_hi),
            _mm256_shuffle_epi32::<0xFF>(wxp),
        );
        // the sums are at most 255·2¹⁴ >> 7 = 32640: exact in i16
        let o = out.as_mut_ptr() as *mut __m256i;
        _mm256_storeu_si256(o, _mm256_packs_epi32(r0, r1));
        _mm256_storeu_si256(o.add(1), _mm256_packs_epi32(r2, r3));
    }
}

/// The vertical pass of [`Source::scaled_window_avx2`]: `(top·(1 − wy) + bot·wy + round) >> 21`
/// per value from two rows of [`horizontal_avx2`]'s sums, packed to the RGB8 pixels of `out`
/// (as [`Source::row_avx2`] packs its lanes).
///
/// # Safety
/// The CPU must support AVX2; `top` and `bot` hold at least `4·ceil(n/8)·8` sums for the `n`
/// pixels of `out`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn vertical_avx2(top: &[i16], bot: &[i16], wyp: i32, round: i32, out: &mut [u8]) {
    use std::arch::x86_64::*;
    let n = out.len() / 3;
    assert!(top.len() >= n.div_ceil(8) * 32 && bot.len() >= n.div_ceil(8) * 32);
    let compress = _mm256_setr_epi8(
        0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13,
        14, -1, -1, -1, -1,
    );
    let join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    let (wy, round) = (_mm256_set1_epi32(wyp), _mm256_set1_epi32(round));
    let dst = out.as_mut_ptr();
    let v = |t: __m256i, b: __m256i| {
        _mm256_srli_epi32::<{ SHIFT as i32 }>(_mm256_add_epi32(_mm256_madd_epi16(t, b), round))
    };
    let mut k = 0;
    while k < n {
        // SAFETY: k < n and the sums hold 32 values for each started group of 8 pixels
        let (t, b) = (
            top.as_ptr().add(k * 4) as *const __m256i,
            bot.as_ptr().add(k * 4) as *const __m256i,
        );
        let (ta, ba) = (_mm256_loadu_si256(t), _mm256_loadu_si256(b));
        let (tc, bc) = (_mm256_loadu_si256(t.add(1)), _mm256_loadu_si256(b.add(1)));
        // (top, bot) pairs of pixels (0 | 4), (1 | 5), (2 | 6), (3 | 7)
        let r0 = v(_mm256_unpacklo_epi16(ta, ba), wy);
        let r1 = v(_mm256_unpackhi_epi16(ta, ba), wy);
        let r2 = v(_mm256_unpacklo_epi16(tc, bc), wy);
        let r3 = v(_mm256_unpackhi_epi16(tc, bc), wy);
        let p = _mm256_packus_epi16(_mm256_packus_epi32(r0, r1), _mm256_packus_epi32(r2, r3));
        let p = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(p, compress), join);
        if k + 8 <= n {
            // SAFETY: the 24 bytes from pixel k are inside `out`
            let o = dst.add(k * 3);
            _mm_storeu_si128(o as *mut __m128i, _mm256_castsi256_si128(p));
            _mm_storel_epi64(o.add(16) as *mut __m128i, _mm256_extracti128_si256::<1>(p));
        } else {
            let mut last = [0u8; 32];
            _mm256_storeu_si256(last.as_mut_ptr() as *mut __m256i, p);
            let rest = &mut out[k * 3..];
            rest.copy_from_slice(&last[..rest.len()]);
        }
        k += 8;
    }
}

/// The sample positions of one output row as a projective map of the column `X`:
/// `x = (ax·X + cx) / (az·X + cz)`, `y = (ay·X + cy) / (az·X + cz)`, in f32. The row terms
/// `c·` are computed in f64 and rounded once; an affine map skips the division. Every twin
/// evaluates exactly these f32 operations, so they see the same positions.
#[derive(Clone, Copy, Debug)]
struct RowMap {
    ax: f32,
    ay: f32,
    az: f32,
    cx: f32,
    cy: f32,
    cz: f32,
    projective: bool,
}

impl RowMap {
    /// Row `Y` of PIL's affine map `m`: PIL maps the output pixel centre (X + ½, Y + ½) and the
    /// sampler's taps are on integer centres, hence the − ½:
    /// x = m₀·X + (m₀/2 + m₁·(Y + ½) + m₂ − ½), likewise y.
    fn pil_affine(m: [f64; 6], y: usize) -> RowMap {
        let yc = y as f64 + 0.5;
        RowMap {
            ax: m[0] as f32,
            ay: m[3] as f32,
            az: 0.0,
            cx: (m[0] * 0.5 + m[1] * yc + m[2] - 0.5) as f32,
            cy: (m[3] * 0.5 + m[4] * yc + m[5] - 0.5) as f32,
            cz: 1.0,
            projective: false,
        }
    }

    /// Row `Y` of the inverse perspective matrix `inv` (OpenCV's `warpPerspective`, taps on
    /// integer centres).
    fn perspective(inv: [[f64; 3]; 3], y: usize) -> RowMap {
        let yf = y as f64;
        RowMap {
            ax: inv[0][0] as f32,
            ay: inv[1][0] as f32,
            az: inv[2][0] as f32,
            cx: (inv[0][1] * yf + inv[0][2]) as f32,
            cy: (inv[1][1] * yf + inv[1][2]) as f32,
            cz: (inv[2][1] * yf + inv[2][2]) as f32,
            projective: true,
        }
    }

    /// The position of column `X` (as f32: exact below 2²⁴).
    #[inline(always)]
    fn at(&self, xf: f32) -> (f32, f32) {
        let (x, y) = (self.ax * xf + self.cx, self.ay * xf + self.cy);
        if self.projective {
            let z = self.az * xf + self.cz;
            (x / z, y / z)
        } else {
            (x, y)
        }
    }
}

/// The output window of a warp: `width × height` pixels whose top-left is pixel `(left, top)`
/// of the warped full-size image. Pixels of the window outside the image are black (the crop
/// of a source under 224 pixels, as `Rgb::center_crop` pads).
#[derive(Clone, Copy, Debug)]
struct Window {
    top: isize,
    left: isize,
    width: usize,
    height: usize,
}

impl Window {
    /// The whole image.
    fn full(img: &Rgb) -> Window {
        Window {
            top: 0,
            left: 0,
            width: img.width,
            height: img.height,
        }
    }

    /// The 224×224 centre crop: warping only it is the same as warping the image and then
    /// cropping, at (224/256)² of the work or less.
    fn crop(img: &Rgb) -> Window {
        let (top, left) = img.crop_offsets();
        Window {
            top,
            left,
            width: SIDE,
            height: SIDE,
        }
    }

    /// For each window row inside the image: the row, its image row `Y`, and the window
    /// columns `lo..hi` inside the image (whose image columns start at `lo + left`).
    fn rows<'a>(
        &self,
        img: &Rgb,
        px: &'a mut [u8],
    ) -> impl Iterator<Item = (&'a mut [u8], usize, usize, usize)> {
        let (w, h, win) = (img.width as isize, img.height as isize, *self);
        let lo = (-win.left).clamp(0, win.width as isize) as usize;
        let hi = (w - win.left).clamp(0, win.width as isize) as usize;
        px.chunks_exact_mut(win.width * 3)
            .enumerate()
            .filter_map(move |(wy, row)| {
                let y = wy as isize + win.top;
                (y >= 0 && y < h).then_some((row, y as usize, lo, hi))
            })
    }
}

/// For every pixel `(X, Y)` of the image inside `win`, the nearest input pixel of `pos(X, Y)`
/// (black where it falls outside).
fn remap_nearest(img: &Rgb, win: Window, pos: impl Fn(usize, usize) -> (f64, f64)) -> Vec<u8> {
    let (w, h) = (img.width, img.height);
    let mut px = vec![0u8; win.width * win.height * 3];
    for (row, y, lo, hi) in win.rows(img, &mut px) {
        for wx in lo..hi {
            let x = (wx as isize + win.left) as usize;
            let (sx, sy) = pos(x, y);
            let (ix, iy) = (floor(sx), floor(sy));
            if ix >= 0.0 && iy >= 0.0 && ix < w as f64 && iy < h as f64 {
                let s = (iy as usize * w + ix as usize) * 3;
                row[wx * 3..wx * 3 + 3].copy_from_slice(&img.px[s..s + 3]);
            }
        }
    }
    px
}

/// The inverse matrix of torchvision 0.2's `F.affine` (output → input, PIL centres at +0.5).
fn affine_matrix(img: &Rgb, angle: f64, translate: (f64, f64), scale: f64, shear: f64) -> [f64; 6] {
    let (cx, cy) = (img.width as f64 * 0.5 + 0.5, img.height as f64 * 0.5 + 0.5);
    let (a, s) = (angle.to_radians(), shear.to_radians());
    let inv_scale = 1.0 / scale;
    let d = (a + s).cos() * a.cos() + (a + s).sin() * a.sin();
    let mut m =
        [(a + s).cos(), (a + s).sin(), 0.0, -a.sin(), a.cos(), 0.0].map(|v| inv_scale / d * v);
    m[2] += m[0] * (-cx - translate.0) + m[1] * (-cy - translate.1);
    m[5] += m[3] * (-cx - translate.0) + m[4] * (-cy - translate.1);
    m[2] += cx;
    m[5] += cy;
    m
}

/// `(kx, ky)` when the inverse matrix `m` is a pure translation by multiples of ½: then, with
/// nearest sampling, output pixel `(X, Y)` reads input pixel `(X + kx, Y + ky)` exactly
/// (`sx = (1·(X + ½) + 0·(Y + ½)) + m[2]` is computed without rounding, and its floor is
/// `X + floor(½ + m[2])`), so a row is one contiguous copy (translate's 41 frames).
fn integer_shift(m: &[f64; 6]) -> Option<(isize, isize)> {
    let half_integer = |v: f64| v.abs() < 1e9 && (2.0 * v).fract() == 0.0;
    (m[0] == 1.0 && m[1] == 0.0 && m[3] == 0.0 && m[4] == 1.0)
        .then_some(())
        .filter(|()| half_integer(m[2]) && half_integer(m[5]))
        .map(|()| ((m[2] + 0.5).floor() as isize, (m[5] + 0.5).floor() as isize))
}

/// The window of the image shifted so that output `(X, Y)` is input `(X + kx, Y + ky)`, black
/// where that is outside (the nearest remap of [`integer_shift`]'s matrices, row by row), into
/// `px` (every byte written).
fn shift_window(img: &Rgb, win: Window, kx: isize, ky: isize, px: &mut [u8]) {
    let (w, h) = (img.width as isize, img.height as isize);
    assert_eq!(px.len(), win.width * win.height * 3);
    for (wy, row) in px.chunks_exact_mut(win.width * 3).enumerate() {
        let y = wy as isize + win.top;
        let sy = y + ky;
        if y < 0 || y >= h || sy < 0 || sy >= h {
            row.fill(0);
            continue;
        }
        // window columns wx whose X = wx + left and X + kx are both inside the image
        let lo = (-win.left).max(-win.left - kx).clamp(0, win.width as isize);
        let hi = (w - win.left)
            .min(w - win.left - kx)
            .clamp(0, win.width as isize);
        let (lo, hi) = (lo as usize, hi.max(lo) as usize);
        if lo < hi {
            let s = ((sy * w + lo as isize + win.left + kx) * 3) as usize;
            row[lo * 3..hi * 3].copy_from_slice(&img.px[s..s + (hi - lo) * 3]);
        }
        row[..lo * 3].fill(0);
        row[hi * 3..].fill(0);
    }
}

/// [`affine`] restricted to `win`, into `px` (every byte written).
fn affine_window(img: &Rgb, win: Window, m: [f64; 6], filter: Filter, px: &mut [u8]) {
    match filter {
        Filter::Nearest => match integer_shift(&m) {
            Some((kx, ky)) => shift_window(img, win, kx, ky, px),
            None => px.copy_from_slice(&remap_nearest(img, win, |x, y| {
                let (x, y) = (x as f64 + 0.5, y as f64 + 0.5);
                (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
            })),
        },
        Filter::Bilinear => Source::pil(img).affine_window(win, m, px),
    }
}

/// torchvision 0.2 `F.affine(img, angle, translate, scale, shear, resample)` (degrees).
pub fn affine(
    img: &Rgb,
    angle: f64,
    translate: (f64, f64),
    scale: f64,
    shear: f64,
    filter: Filter,
) -> Rgb {
    let m = affine_matrix(img, angle, translate, scale, shear);
    let mut px = vec![0u8; img.width * img.height * 3];
    affine_window(img, Window::full(img), m, filter, &mut px);
    Rgb {
        px,
        width: img.width,
        height: img.height,
    }
}

/// `affine(…).center_crop()`, computing only the crop, into `px` (224·224·3 bytes, every one
/// written).
pub fn affine_crop_into(
    img: &Rgb,
    angle: f64,
    translate: (f64, f64),
    scale: f64,
    shear: f64,
    filter: Filter,
    px: &mut [u8],
) {
    let m = affine_matrix(img, angle, translate, scale, shear);
    affine_window(img, Window::crop(img), m, filter, px)
}

/// OpenCV `warpPerspective(img, mat, (W, H))`, bilinear, black border: output pixel (x, y)
/// samples the input at `mat⁻¹ · (x, y, 1)` (integer pixel centres).
pub fn perspective(img: &Rgb, mat: [[f64; 3]; 3]) -> Rgb {
    let mut px = vec![0u8; img.width * img.height * 3];
    Source::opencv(img).perspective_window(Window::full(img), mat, &mut px);
    Rgb {
        px,
        width: img.width,
        height: img.height,
    }
}

fn invert3(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let c =
        |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    [
        [
            c(1, 1, 2, 2) / det,
            -c(0, 1, 2, 2) / det,
            c(0, 1, 1, 2) / det,
        ],
        [
            -c(1, 0, 2, 2) / det,
            c(0, 0, 2, 2) / det,
            -c(0, 0, 1, 2) / det,
        ],
        [
            c(1, 0, 2, 1) / det,
            -c(0, 0, 2, 1) / det,
            c(0, 0, 1, 1) / det,
        ],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> Rgb {
        Rgb {
            px: (0..w * h * 3).map(|i| (i * 7 % 256) as u8).collect(),
            width: w,
            height: h,
        }
    }

    #[test]
    fn identity_warps_keep_the_image() {
        let img = ramp(31, 17);
        assert_eq!(
            affine(&img, 0.0, (0.0, 0.0), 1.0, 0.0, Filter::Bilinear),
            img
        );
        assert_eq!(
            affine(&img, 0.0, (0.0, 0.0), 1.0, 0.0, Filter::Nearest),
            img
        );
        let id = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        assert_eq!(perspective(&img, id), img);
    }

    #[test]
    fn integer_translation_is_an_exact_shift() {
        let img = ramp(20, 9);
        let out = affine(&img, 0.0, (3.0, 0.0), 1.0, 0.0, Filter::Nearest);
        for y in 0..9 {
            for x in 0..20 {
                let o = &out.px[(y * 20 + x) * 3..(y * 20 + x) * 3 + 3];
                if x < 3 {
                    assert_eq!(o, [0, 0, 0]);
                } else {
                    assert_eq!(o, &img.px[(y * 20 + x - 3) * 3..(y * 20 + x - 3) * 3 + 3]);
                }
            }
        }
    }

    #[test]
    fn rotation_by_90_degrees_moves_a_corner_pixel() {
        // one white pixel at (6, 4) of a 9×9 image; torchvision rotates about the continuous
        // point (5, 5) (W/2 + ½): after ±90° the brightest pixel is as far from it, at a right
        // angle to where it was
        let mut img = Rgb {
            px: vec![0; 9 * 9 * 3],
            width: 9,
            height: 9,
        };
        img.px[(4 * 9 + 6) * 3..(4 * 9 + 6) * 3 + 3].fill(255);
        let out = affine(&img, 90.0, (0.0, 0.0), 1.0, 0.0, Filter::Bilinear);
        let k = (0..81).max_by_key(|&k| out.px[k * 3]).unwrap();
        assert!(out.px[k * 3] >= 250, "{}", out.px[k * 3]);
        let (x, y) = ((k % 9) as f64 + 0.5 - 5.0, (k / 9) as f64 + 0.5 - 5.0);
        let (x0, y0): (f64, f64) = (6.5 - 5.0, 4.5 - 5.0);
        assert!(((x * x + y * y).sqrt() - (x0 * x0 + y0 * y0).sqrt()).abs() < 1e-9);
        assert!((x * x0 + y * y0).abs() < 1e-9, "({x}, {y})");
        assert_eq!(out.px[(4 * 9 + 6) * 3], 0);
    }

    #[test]
    fn crop_warps_equal_warp_then_crop() {
        // sizes over and under 224 per axis, odd and even offsets
        for (w, h) in [
            (256usize, 341usize),
            (257, 256),
            (300, 230),
            (100, 250),
            (5, 3),
        ] {
            let img = ramp(w, h);
            for (angle, t, scale, shear, filter) in [
                (7.0, (0.0, 0.0), 1.0, 0.0, Filter::Bilinear),
                (0.0, (0.0, 0.0), 0.55, 0.0, Filter::Bilinear),
                (0.0, (0.0, 0.0), 1.0, -12.0, Filter::Bilinear),
                (0.0, (-13.0, 0.0), 1.0, 0.0, Filter::Nearest),
            ] {
                // pre-filled with 1s: every byte must be written
                let mut crop = vec![1u8; SIDE * SIDE * 3];
                affine_crop_into(&img, angle, t, scale, shear, filter, &mut crop);
                assert_eq!(
                    crop,
                    affine(&img, angle, t, scale, shear, filter).center_crop(),
                    "{w}x{h} {angle} {t:?} {scale} {shear}"
                );
            }
            let m = super::super::tilt::matrix(w as f64, h as f64, -9.0);
            // the crop alone equals the full warp's crop, into a fresh or a reused buffer
            // (every byte written whatever the buffer held)
            let want = perspective(&img, m).center_crop();
            for fill in [0u8, 1] {
                let mut crop = vec![fill; SIDE * SIDE * 3];
                Source::opencv(&img).perspective_crop_into(m, &mut crop);
                assert_eq!(crop, want, "{w}x{h}, buffer filled with {fill}");
            }
        }
    }

    /// The per-pixel nearest remap of the affine map `m` (pixel centres), which the row-copy
    /// path of integer shifts bypasses.
    fn nearest_remap(img: &Rgb, win: Window, m: [f64; 6]) -> Vec<u8> {
        remap_nearest(img, win, |x, y| {
            let (x, y) = (x as f64 + 0.5, y as f64 + 0.5);
            (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
        })
    }

    /// [`affine_window`] with nearest sampling, into a buffer pre-filled with 1s (every byte
    /// must be written).
    fn nearest_window(img: &Rgb, win: Window, m: [f64; 6]) -> Vec<u8> {
        let mut px = vec![1u8; win.width * win.height * 3];
        affine_window(img, win, m, Filter::Nearest, &mut px);
        px
    }

    #[test]
    fn integer_shifts_equal_the_nearest_remap() {
        // the row-copy path against the per-pixel nearest remap (which it bypasses), for
        // shifts inside, beyond and across the image, windows over and under the image
        for (w, h) in [(256usize, 300usize), (30, 20), (300, 230), (5, 3)] {
            let img = ramp(w, h);
            for t in [-41.0, -20.0, -3.0, 0.0, 1.0, 17.0, 20.0, 400.0] {
                let m = affine_matrix(&img, 0.0, (t, 0.0), 1.0, 0.0);
                assert!(integer_shift(&m).is_some(), "{t}");
                for win in [Window::full(&img), Window::crop(&img)] {
                    assert_eq!(
                        nearest_window(&img, win, m),
                        nearest_remap(&img, win, m),
                        "{w}x{h} {t}"
                    );
                }
            }
            // a vertical half-integer shift and a fractional one (generic path) agree too
            for (tx, ty) in [(3.0, -7.0), (0.25, 0.0)] {
                let m = affine_matrix(&img, 0.0, (tx, ty), 1.0, 0.0);
                assert_eq!(integer_shift(&m).is_some(), tx == 3.0);
                let win = Window::crop(&img);
                assert_eq!(
                    nearest_window(&img, win, m),
                    nearest_remap(&img, win, m),
                    "{tx} {ty}"
                );
            }
        }
    }

    /// Pseudo-random numbers in [0, 1) for the tests.
    fn uniforms(n: usize, mut k: u64) -> Vec<f64> {
        (0..n)
            .map(|_| {
                k = k
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (k >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect()
    }

    /// `Source::row` through the given twin into a fresh buffer (pre-filled with 1s: every
    /// byte must be written).
    fn row_at(src: &Source, isa: crate::simd::Isa, map: &RowMap, x0: usize, n: usize) -> Vec<u8> {
        let mut got = vec![1u8; n * 3];
        crate::simd::dispatch!(at isa; Source::row_scalar / Source::row_avx2(src, map, x0, &mut got));
        got
    }

    #[test]
    fn bilinear_row_twins_are_equal() {
        // rows of affine and projective maps that run from outside through the border into
        // the image and out again (chunks all inside, all outside and mixed; rows whose length
        // is not a multiple of 8, rows of several blocks), on both conventions, images of 1×1 up, projective rows whose
        // denominator crosses 0 (±∞, NaN), and positions on the edges of the sampled areas
        for (w, h) in [
            (1usize, 1usize),
            (2, 2),
            (3, 5),
            (17, 9),
            (64, 48),
            (256, 300),
        ] {
            let img = ramp(w, h);
            for src in [Source::pil(&img), Source::opencv(&img)] {
                let u = uniforms(600, (w * 1000 + h) as u64);
                for t in 0..100 {
                    let r = &u[t * 6..t * 6 + 6];
                    let projective = t % 3 == 2;
                    let map = RowMap {
                        ax: (r[0] * 2.5 - 1.25) as f32,
                        ay: (r[1] * 0.6 - 0.3) as f32,
                        az: if projective {
                            (r[2] * 0.02 - 0.01) as f32
                        } else {
                            0.0
                        },
                        cx: (r[3] * (w as f64 + 6.0) - 3.0) as f32,
                        cy: (r[4] * (h as f64 + 6.0) - 3.0) as f32,
                        cz: if projective {
                            (r[5] * 1.5 - 0.25) as f32
                        } else {
                            1.0
                        },
                        projective,
                    };
                    let x0 = t % 7;
                    // some rows over two of the AVX2 kernel's blocks
                    let n = if t % 10 == 9 {
                        2 * BLOCK + t
                    } else {
                        1 + (t * 37) % 90
                    };
                    let want = row_at(&src, crate::simd::Isa::Scalar, &map, x0, n);
                    for isa in crate::simd::available() {
                        let got = row_at(&src, isa, &map, x0, n);
                        assert_eq!(got, want, "{w}x{h} {map:?} {isa:?}");
                    }
                }
                // the edges of both areas exactly, and just inside and outside them
                let (wf, hf) = (w as f32, h as f32);
                for (cx, cy) in [
                    (wf - 1.0, hf - 1.0),
                    (0.0, hf - 1.0),
                    (-0.5, -0.5),
                    (-1.0, -1.0),
                    (-0.500_01, hf - 0.500_01),
                    (-8.0, hf - 0.5),
                    (-8.0, hf - 1.5),
                    (-8.0, hf - 0.000_1),
                ] {
                    let map = RowMap {
                        ax: 1.0,
                        ay: 0.0,
                        az: 0.0,
                        cx,
                        cy,
                        cz: 1.0,
                        projective: false,
                    };
                    let want = row_at(&src, crate::simd::Isa::Scalar, &map, 0, 24);
                    for isa in crate::simd::available() {
                        let got = row_at(&src, isa, &map, 0, 24);
                        assert_eq!(got, want, "{w}x{h} ({cx}, {cy}) {isa:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn scaled_window_twins_are_equal() {
        // the separable path against the generic per-pixel one: zooms in and out (rows
        // reading the same prepared rows, rows skipping them, areas outside the scaled
        // image), translations, the identity, and a negative scale (a mirror), on images of
        // 1×1 up, whole windows and centre crops over and under the image, widths that are
        // not a multiple of 8
        for (w, h) in [
            (1usize, 1usize),
            (2, 3),
            (17, 9),
            (64, 48),
            (256, 300),
            (300, 230),
        ] {
            let img = ramp(w, h);
            let src = Source::pil(&img);
            for (scale, t) in [
                (1.0, (0.0, 0.0)),
                (1.004, (0.0, 0.0)),
                (1.12, (0.0, 0.0)),
                (0.4, (0.0, 0.0)),
                (0.675, (0.0, 0.0)),
                (1.15, (2.5, -1.25)),
                (3.7, (-0.3, 0.7)),
                (-0.8, (0.0, 0.0)),
            ] {
                let m = affine_matrix(&img, 0.0, t, scale, 0.0);
                assert!(m[1] == 0.0 && m[3] == 0.0, "{m:?}");
                for win in [Window::full(&img), Window::crop(&img)] {
                    let n = win.width * win.height * 3;
                    let mut want = vec![1u8; n];
                    src.scaled_window_scalar(win, m, &mut want);
                    for isa in crate::simd::available() {
                        // pre-filled with 1s: every byte must be written
                        let mut got = vec![1u8; n];
                        crate::simd::dispatch!(at isa; Source::scaled_window_scalar / Source::scaled_window_avx2(&src, win, m, &mut got));
                        assert_eq!(got, want, "{w}x{h} {scale} {t:?} {win:?} {isa:?}");
                    }
                }
            }
        }
    }

    /// The exact bilinear value of channel `c` at (x, y) in f64, in either convention: PIL
    /// clamps the taps to the image inside `[−½, W − ½) × [−½, H − ½)` and is black outside;
    /// OpenCV takes black taps beyond the image.
    fn exact(img: &Rgb, pil: bool, x: f64, y: f64, c: usize) -> f64 {
        let (w, h) = (img.width as f64, img.height as f64);
        if pil && !(x >= -0.5 && y >= -0.5 && x < w - 0.5 && y < h - 0.5) {
            return 0.0;
        }
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let tap = |xx: f64, yy: f64| -> f64 {
            let (xx, yy) = if pil {
                (xx.clamp(0.0, w - 1.0), yy.clamp(0.0, h - 1.0))
            } else {
                (xx, yy)
            };
            if xx < 0.0 || yy < 0.0 || xx >= w || yy >= h {
                0.0
            } else {
                f64::from(img.px[(yy as usize * img.width + xx as usize) * 3 + c])
            }
        };
        let top = tap(x0, y0) * (1.0 - fx) + tap(x0 + 1.0, y0) * fx;
        let bot = tap(x0, y0 + 1.0) * (1.0 - fx) + tap(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bot * fy
    }

    #[test]
    fn fixed_point_samples_are_within_one_level_of_exact_interpolation() {
        // the fixture photo (edges, flat and saturated areas) at the positions of rotated,
        // scaled and tilted rows running over the border, in both conventions: every value
        // within one level of the exact f64 value truncated (PIL) or rounded (OpenCV), the
        // bulk equal, no bias; and within 2⁻⁵ of the band the exact value allows (a weight
        // error, a missing or wrong rounding term, or the other convention's edges fail these)
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/photos/chelsea_224x224.png"
        );
        let photo = image::open(path).unwrap().to_rgb8();
        let img = Rgb {
            width: photo.width() as usize,
            height: photo.height() as usize,
            px: photo.into_raw(),
        };
        for src in [Source::pil(&img), Source::opencv(&img)] {
            let pil = src.convention == Convention::Pil;
            // the integer the exact value gives, and the offset of the band of v − exact
            // (PIL: (−1, 0]; OpenCV: (−½, ½])
            let ideal = |e: f64| if pil { e.floor() } else { (e + 0.5).floor() };
            let centre = if pil { -0.5 } else { 0.0 };
            let (mut n, mut differ, mut signed, mut worst) = (0usize, 0usize, 0f64, 0f64);
            let mut check = |map: RowMap| {
                let row = row_at(&src, crate::simd::isa(), &map, 0, img.width);
                for (k, px) in row.chunks_exact(3).enumerate() {
                    let (x, y) = map.at(k as f32);
                    for (c, &v) in px.iter().enumerate() {
                        let e = exact(&img, pil, f64::from(x), f64::from(y), c);
                        let r = ideal(e);
                        assert!(
                            (f64::from(v) - r).abs() <= 1.0,
                            "({x}, {y}) c{c}: {v} vs {e}"
                        );
                        worst = worst.max((f64::from(v) - e - centre).abs());
                        n += 1;
                        differ += usize::from(f64::from(v) != r);
                        signed += f64::from(v) - r;
                    }
                }
            };
            for y in (0..img.height).step_by(3) {
                for angle in [-13.0f64, 4.5, 11.0] {
                    let m = affine_matrix(&img, angle, (0.0, 0.0), 0.93, 0.0);
                    check(RowMap::pil_affine(m, y));
                }
                let inv = invert3(super::super::tilt::matrix(224.0, 224.0, -11.0));
                check(RowMap::perspective(inv, y));
            }
            assert!(n > 150_000, "{n}");
            assert!(
                differ * 100 < n * 3,
                "{differ} of {n} differ from the ideal ({pil})"
            );
            assert!(
                (signed / n as f64).abs() < 0.01,
                "bias {} ({pil})",
                signed / n as f64
            );
            assert!(worst <= 0.5 + 1.0 / 32.0, "worst {worst} ({pil})");
        }
    }

    #[test]
    fn fast_floor_is_floor() {
        for x in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.999_999,
            -2.000_001,
            1e15 + 0.5,
            -1e15 - 0.5,
            9.1e18,
            -9.1e18,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(floor(x), x.floor(), "{x}");
        }
        assert!(floor(f64::NAN).is_nan());
        let mut v = -300.0;
        while v < 300.0 {
            assert_eq!(floor(v), v.floor(), "{v}");
            v += 0.013;
        }
    }
}
