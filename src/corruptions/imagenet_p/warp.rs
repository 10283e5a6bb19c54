//! The geometric warps of the ImageNet-P sequences: torchvision 0.2's `F.affine` on a PIL image
//! (inverse matrix about the centre `(W/2 + 0.5, H/2 + 0.5)`, PIL's pixel-centre sampling,
//! black outside) and OpenCV's `warpPerspective` (forward 3×3 matrix, integer pixel centres,
//! black border). Bilinear sampling is in fixed point here (positions in f32, weights in 2⁻¹⁴,
//! integer sums), within one level of the exact interpolation; PIL interpolates in f64 and
//! OpenCV in its own fixed point (weights in 1/32), so a value can differ from theirs by one
//! level or so (nearest, as translate uses, is exact).

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
/// (in 2⁻¹⁴): `((a·(1−wx) + a'·wx) >> 7)·(1−wy) + ((b·(1−wx) + b'·wx) >> 7)·wy`, rounded.
/// The AVX2 kernel computes exactly these integers.
#[inline(always)]
fn lerp(a: i32, a1: i32, b: i32, b1: i32, wx: i32, wy: i32) -> u8 {
    let top = (a * (ONE - wx) + a1 * wx) >> HSHIFT;
    let bot = (b * (ONE - wx) + b1 * wx) >> HSHIFT;
    ((top * (ONE - wy) + bot * wy + ROUND) >> SHIFT) as u8
}

/// Bilinear sample at continuous position (x, y) with pixel centres on integers; taps outside
/// the image count as black, a position one pixel or more outside gives black (as does NaN).
/// Weights are the fractions rounded to 2⁻¹⁴ ([`lerp`]): within one level of the exact
/// f64 interpolation (docs/ALGORITHMS.md §13.1; tested).
#[inline(always)]
fn bilinear(img: &Rgb, x: f32, y: f32, out: &mut [u8]) {
    let (w, h) = (img.width as f32, img.height as f32);
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(x > -1.0 && y > -1.0 && x < w && y < h) {
        out.fill(0);
        return;
    }
    let (x0, y0) = (floor_i32(x), floor_i32(y));
    let (wx, wy) = (weight(x - x0 as f32), weight(y - y0 as f32));
    let (iw, ih) = (img.width as i32, img.height as i32);
    let tap = |xx: i32, yy: i32, c: usize| -> i32 {
        if xx < 0 || yy < 0 || xx >= iw || yy >= ih {
            0
        } else {
            i32::from(img.px[(yy as usize * img.width + xx as usize) * 3 + c])
        }
    };
    for (c, o) in out.iter_mut().enumerate() {
        *o = lerp(
            tap(x0, y0, c),
            tap(x0 + 1, y0, c),
            tap(x0, y0 + 1, c),
            tap(x0 + 1, y0 + 1, c),
            wx,
            wy,
        );
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

/// For every pixel `(X, Y)` of the image inside `win`, the bilinear sample at the position
/// `map(Y)` gives for column `X`, row by row through [`bilinear_row`].
fn remap_bilinear(img: &Rgb, win: Window, map: impl Fn(usize) -> RowMap) -> Vec<u8> {
    let mut px = vec![0u8; win.width * win.height * 3];
    for (row, y, lo, hi) in win.rows(img, &mut px) {
        if lo < hi {
            let x0 = (lo as isize + win.left) as usize;
            bilinear_row(img, &map(y), x0, &mut row[lo * 3..hi * 3]);
        }
    }
    px
}

/// Bilinear samples of `img` at the positions of columns `x0, x0 + 1, …` of `map` into the
/// pixels of `out` (RGB8), as [`bilinear`] computes each. Dispatched to [`bilinear_row_avx2`].
fn bilinear_row(img: &Rgb, map: &RowMap, x0: usize, out: &mut [u8]) {
    crate::simd::dispatch!(bilinear_row_scalar / bilinear_row_avx2(img, map, x0, out))
}

/// Scalar twin of [`bilinear_row`].
fn bilinear_row_scalar(img: &Rgb, map: &RowMap, x0: usize, out: &mut [u8]) {
    for (k, o) in out.chunks_exact_mut(3).enumerate() {
        let (x, y) = map.at((x0 + k) as f32);
        bilinear(img, x, y, o);
    }
}

/// AVX2 twin of [`bilinear_row`], eight pixels at a time: the positions of the eight columns
/// in f32 lanes (the scalar operations, no FMA); when all eight have their four taps inside
/// the image (and not on the last two rows, whose 8-byte loads could pass the buffer's end),
/// the integers of [`lerp`] for all 24 values: each pixel's two tap rows are one 8-byte load
/// each (`c₀ c₁ c₂ d₀ d₁ d₂ · ·`), shuffled to `c₀ d₀ c₁ d₁ c₂ d₂`, widened to 16 bits and
/// multiplied by the pixel's `(1 − wx, wx)` with `vpmaddwd`; the two rows' sums, shifted, are
/// interleaved as 16-bit pairs for a second `vpmaddwd` with `(1 − wy, wy)`. Eight pixels that
/// are all a pixel or more outside are black; any other mix goes through the scalar
/// [`bilinear`] at the same positions.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn bilinear_row_avx2(img: &Rgb, map: &RowMap, x0: usize, out: &mut [u8]) {
    use std::arch::x86_64::*;
    let (w, h) = (img.width, img.height);
    let n = out.len() / 3;
    if w >= 1 << 24 || h >= 1 << 24 || x0 + n >= 1 << 24 {
        return bilinear_row_scalar(img, map, x0, out);
    }
    let base = img.px.as_ptr();
    let stride = w * 3;
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
    let zero = _mm256_setzero_ps();
    let (wf, hf) = (_mm256_set1_ps(w as f32), _mm256_set1_ps(h as f32));
    let (xin, yin) = (
        _mm256_set1_ps(w as f32 - 1.0),
        _mm256_set1_ps(h as f32 - 2.0),
    );
    let minus1 = _mm256_set1_ps(-1.0);
    let one = _mm256_set1_epi32(ONE);
    let scale = _mm256_set1_ps(ONE as f32);
    let half = _mm256_set1_ps(0.5);
    let round = _mm256_set1_epi32(ROUND);
    let vw = _mm256_set1_epi32(w as i32);
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // per 8 bytes c0 c1 c2 d0 d1 d2 · · → c0 d0 c1 d1 c2 d2 0 0
    let pair = _mm256_setr_epi8(
        0, 3, 1, 4, 2, 5, -1, -1, 8, 11, 9, 12, 10, 13, -1, -1, 0, 3, 1, 4, 2, 5, -1, -1, 8, 11, 9,
        12, 10, 13, -1, -1,
    );
    // per 128 bits: four pixels r g b 0 → twelve bytes
    let compress = _mm256_setr_epi8(
        0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13,
        14, -1, -1, -1, -1,
    );
    let join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    let spread = |k: i32| _mm256_setr_epi32(k, k, k, k, k + 4, k + 4, k + 4, k + 4);
    let sp = [spread(0), spread(1), spread(2), spread(3)];
    let zi = _mm256_setzero_si256();
    let mut k = 0;
    while k + 8 <= n {
        let xf = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_set1_epi32((x0 + k) as i32), lanes));
        let mut x = _mm256_add_ps(_mm256_mul_ps(ax, xf), cx);
        let mut y = _mm256_add_ps(_mm256_mul_ps(ay, xf), cy);
        if map.projective {
            let z = _mm256_add_ps(_mm256_mul_ps(az, xf), cz);
            x = _mm256_div_ps(x, z);
            y = _mm256_div_ps(y, z);
        }
        let o = out.as_mut_ptr().add(k * 3);
        let inside = _mm256_and_ps(
            _mm256_and_ps(
                _mm256_cmp_ps::<_CMP_GE_OQ>(x, zero),
                _mm256_cmp_ps::<_CMP_GE_OQ>(y, zero),
            ),
            _mm256_and_ps(
                _mm256_cmp_ps::<_CMP_LT_OQ>(x, xin),
                _mm256_cmp_ps::<_CMP_LT_OQ>(y, yin),
            ),
        );
        if _mm256_movemask_ps(inside) != 0xFF {
            let near = _mm256_and_ps(
                _mm256_and_ps(
                    _mm256_cmp_ps::<_CMP_GT_OQ>(x, minus1),
                    _mm256_cmp_ps::<_CMP_GT_OQ>(y, minus1),
                ),
                _mm256_and_ps(
                    _mm256_cmp_ps::<_CMP_LT_OQ>(x, wf),
                    _mm256_cmp_ps::<_CMP_LT_OQ>(y, hf),
                ),
            );
            if _mm256_movemask_ps(near) == 0 {
                std::ptr::write_bytes(o, 0, 24);
            } else {
                let (mut xs, mut ys) = ([0f32; 8], [0f32; 8]);
                _mm256_storeu_ps(xs.as_mut_ptr(), x);
                _mm256_storeu_ps(ys.as_mut_ptr(), y);
                let chunk = out[k * 3..k * 3 + 24].chunks_exact_mut(3);
                for ((&x, &y), px) in xs.iter().zip(&ys).zip(chunk) {
                    bilinear(img, x, y, px);
                }
            }
            k += 8;
            continue;
        }
        // all inside: x, y ≥ 0, so truncation is the floor and the fraction is exact
        let xi = _mm256_cvttps_epi32(x);
        let yi = _mm256_cvttps_epi32(y);
        let wx = _mm256_cvttps_epi32(_mm256_add_ps(
            _mm256_mul_ps(_mm256_sub_ps(x, _mm256_cvtepi32_ps(xi)), scale),
            half,
        ));
        let wy = _mm256_cvttps_epi32(_mm256_add_ps(
            _mm256_mul_ps(_mm256_sub_ps(y, _mm256_cvtepi32_ps(yi)), scale),
            half,
        ));
        // (1 − w, w) as the two 16-bit halves of each lane
        let wxp = _mm256_or_si256(_mm256_sub_epi32(one, wx), _mm256_slli_epi32::<16>(wx));
        let wyp = _mm256_or_si256(_mm256_sub_epi32(one, wy), _mm256_slli_epi32::<16>(wy));
        let idx = _mm256_add_epi32(_mm256_mullo_epi32(yi, vw), xi);
        let idx = _mm256_add_epi32(idx, _mm256_add_epi32(idx, idx));
        let mut ix = [0i32; 8];
        _mm256_storeu_si256(ix.as_mut_ptr() as *mut __m256i, idx);
        // SAFETY (loads): x₀ ≤ w − 2 and y₀ ≤ h − 3, so both rows' 8 bytes from the tap
        // (at most 3·x₀ + 8 ≤ 3w + 2 bytes into a row followed by another) are inside `px`
        let q = |i: i32, r: usize| _mm_loadl_epi64(base.add(i as usize + r) as *const __m128i);
        let quad = |a: usize, b: usize, c: usize, d: usize, r: usize| {
            _mm256_shuffle_epi8(
                _mm256_set_m128i(
                    _mm_unpacklo_epi64(q(ix[c], r), q(ix[d], r)),
                    _mm_unpacklo_epi64(q(ix[a], r), q(ix[b], r)),
                ),
                pair,
            )
        };
        // pixels (0, 1 | 4, 5) and (2, 3 | 6, 7); unpacking gives (0 | 4), (1 | 5), …
        let (ta, tc) = (quad(0, 1, 4, 5, 0), quad(2, 3, 6, 7, 0));
        let (ba, bc) = (quad(0, 1, 4, 5, stride), quad(2, 3, 6, 7, stride));
        let rows = [
            (_mm256_unpacklo_epi8(ta, zi), _mm256_unpacklo_epi8(ba, zi)),
            (_mm256_unpackhi_epi8(ta, zi), _mm256_unpackhi_epi8(ba, zi)),
            (_mm256_unpacklo_epi8(tc, zi), _mm256_unpacklo_epi8(bc, zi)),
            (_mm256_unpackhi_epi8(tc, zi), _mm256_unpackhi_epi8(bc, zi)),
        ];
        let mut r = [zi; 4];
        for ((r, &(ta, ba)), &sp) in r.iter_mut().zip(&rows).zip(&sp) {
            let wxg = _mm256_permutevar8x32_epi32(wxp, sp);
            let wyg = _mm256_permutevar8x32_epi32(wyp, sp);
            let top = _mm256_srli_epi32::<{ HSHIFT as i32 }>(_mm256_madd_epi16(ta, wxg));
            let bot = _mm256_slli_epi32::<{ 16 - HSHIFT as i32 }>(_mm256_madd_epi16(ba, wxg));
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
        k += 8;
    }
    for j in k..n {
        let (x, y) = map.at((x0 + j) as f32);
        bilinear(img, x, y, &mut out[j * 3..j * 3 + 3]);
    }
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
/// where that is outside (the nearest remap of [`integer_shift`]'s matrices, row by row).
fn shift_window(img: &Rgb, win: Window, kx: isize, ky: isize) -> Vec<u8> {
    let (w, h) = (img.width as isize, img.height as isize);
    let mut px = vec![0u8; win.width * win.height * 3];
    for (wy, row) in px.chunks_exact_mut(win.width * 3).enumerate() {
        let y = wy as isize + win.top;
        let sy = y + ky;
        if y < 0 || y >= h || sy < 0 || sy >= h {
            continue;
        }
        // window columns wx whose X = wx + left and X + kx are both inside the image
        let lo = (-win.left).max(-win.left - kx).clamp(0, win.width as isize);
        let hi = (w - win.left)
            .min(w - win.left - kx)
            .clamp(0, win.width as isize);
        if lo < hi {
            let (lo, hi) = (lo as usize, hi as usize);
            let s = ((sy * w + lo as isize + win.left + kx) * 3) as usize;
            row[lo * 3..hi * 3].copy_from_slice(&img.px[s..s + (hi - lo) * 3]);
        }
    }
    px
}

fn affine_window(img: &Rgb, win: Window, m: [f64; 6], filter: Filter) -> Vec<u8> {
    if filter == Filter::Nearest {
        if let Some((kx, ky)) = integer_shift(&m) {
            return shift_window(img, win, kx, ky);
        }
    }
    match filter {
        Filter::Nearest => remap_nearest(img, win, |x, y| {
            let (x, y) = (x as f64 + 0.5, y as f64 + 0.5);
            (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
        }),
        // PIL maps the output pixel centre (X + ½, Y + ½); the bilinear sampler's taps are on
        // integer centres, hence the − ½: x = m₀·X + (m₀/2 + m₁·(Y + ½) + m₂ − ½)
        Filter::Bilinear => remap_bilinear(img, win, |y| {
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
        }),
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
    Rgb {
        px: affine_window(img, Window::full(img), m, filter),
        width: img.width,
        height: img.height,
    }
}

/// `affine(…).center_crop()`, computing only the crop.
pub fn affine_crop(
    img: &Rgb,
    angle: f64,
    translate: (f64, f64),
    scale: f64,
    shear: f64,
    filter: Filter,
) -> Vec<u8> {
    let m = affine_matrix(img, angle, translate, scale, shear);
    affine_window(img, Window::crop(img), m, filter)
}

fn perspective_window(img: &Rgb, win: Window, mat: [[f64; 3]; 3]) -> Vec<u8> {
    let inv = invert3(mat);
    remap_bilinear(img, win, |y| {
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
    })
}

/// OpenCV `warpPerspective(img, mat, (W, H))`, bilinear, black border: output pixel (x, y)
/// samples the input at `mat⁻¹ · (x, y, 1)` (integer pixel centres).
pub fn perspective(img: &Rgb, mat: [[f64; 3]; 3]) -> Rgb {
    Rgb {
        px: perspective_window(img, Window::full(img), mat),
        width: img.width,
        height: img.height,
    }
}

/// `perspective(…).center_crop()`, computing only the crop.
pub fn perspective_crop(img: &Rgb, mat: [[f64; 3]; 3]) -> Vec<u8> {
    perspective_window(img, Window::crop(img), mat)
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
                assert_eq!(
                    affine_crop(&img, angle, t, scale, shear, filter),
                    affine(&img, angle, t, scale, shear, filter).center_crop(),
                    "{w}x{h} {angle} {t:?} {scale} {shear}"
                );
            }
            let m = super::super::tilt::matrix(w as f64, h as f64, -9.0);
            assert_eq!(
                perspective_crop(&img, m),
                perspective(&img, m).center_crop()
            );
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
                        affine_window(&img, win, m, Filter::Nearest),
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
                    affine_window(&img, win, m, Filter::Nearest),
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

    #[test]
    fn bilinear_row_twins_are_equal() {
        // rows of affine and projective maps that run from outside through the border into
        // the image and out again (chunks all inside, all outside and mixed; rows whose length
        // is not a multiple of 8), on images whose last pixel ends the buffer (the 8-byte loads
        // must not read past it), projective rows whose denominator crosses 0 (±∞, NaN), and
        // positions on the last row and column
        for (w, h) in [
            (1usize, 1usize),
            (2, 2),
            (3, 5),
            (17, 9),
            (64, 48),
            (256, 300),
        ] {
            let img = ramp(w, h);
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
                let n = 1 + (t * 37) % 90;
                let mut want = vec![0u8; n * 3];
                bilinear_row_scalar(&img, &map, x0, &mut want);
                for isa in crate::simd::available() {
                    let mut got = vec![1u8; n * 3];
                    crate::simd::dispatch!(at isa; bilinear_row_scalar / bilinear_row_avx2(&img, &map, x0, &mut got));
                    assert_eq!(got, want, "{w}x{h} {map:?} {isa:?}");
                }
            }
            // the last row and column exactly, and just inside them
            for (cx, cy) in [
                (w as f32 - 1.0, h as f32 - 1.0),
                (0.0, h as f32 - 1.0),
                (0.0, h as f32 - 2.0),
                (0.0, h as f32 - 2.000_1),
                (-8.0, h as f32 - 1.5),
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
                let mut want = vec![0u8; 16 * 3];
                bilinear_row_scalar(&img, &map, 0, &mut want);
                for isa in crate::simd::available() {
                    let mut got = vec![1u8; 16 * 3];
                    crate::simd::dispatch!(at isa; bilinear_row_scalar / bilinear_row_avx2(&img, &map, 0, &mut got));
                    assert_eq!(got, want, "{w}x{h} ({cx}, {cy}) {isa:?}");
                }
            }
        }
    }

    /// The exact bilinear value of channel `c` at (x, y) (black taps outside), in f64.
    fn exact(img: &Rgb, x: f64, y: f64, c: usize) -> f64 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let tap = |xx: f64, yy: f64| -> f64 {
            if xx < 0.0 || yy < 0.0 || xx >= img.width as f64 || yy >= img.height as f64 {
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
        // scaled and tilted rows: every value within one level of round(exact f64 value), the
        // bulk equal, no bias; and within 0.5 + 2⁻⁵ of the exact value itself (a weight error
        // or a missing rounding term fails these)
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
        let (mut n, mut differ, mut signed, mut worst) = (0usize, 0usize, 0f64, 0f64);
        let mut check = |map: RowMap| {
            let mut row = vec![0u8; img.width * 3];
            bilinear_row(&img, &map, 0, &mut row);
            for (k, px) in row.chunks_exact(3).enumerate() {
                let (x, y) = map.at(k as f32);
                for (c, &v) in px.iter().enumerate() {
                    let e = exact(&img, f64::from(x), f64::from(y), c);
                    let r = (e + 0.5).floor();
                    assert!(
                        (f64::from(v) - r).abs() <= 1.0,
                        "({x}, {y}) c{c}: {v} vs {e}"
                    );
                    worst = worst.max((f64::from(v) - e).abs());
                    n += 1;
                    differ += usize::from(f64::from(v) != r);
                    signed += f64::from(v) - e;
                }
            }
        };
        for y in (0..img.height).step_by(3) {
            for angle in [-13.0f64, 4.5, 11.0] {
                let m = affine_matrix(&img, angle, (0.0, 0.0), 0.93, 0.0);
                let yc = y as f64 + 0.5;
                check(RowMap {
                    ax: m[0] as f32,
                    ay: m[3] as f32,
                    az: 0.0,
                    cx: (m[0] * 0.5 + m[1] * yc + m[2] - 0.5) as f32,
                    cy: (m[3] * 0.5 + m[4] * yc + m[5] - 0.5) as f32,
                    cz: 1.0,
                    projective: false,
                });
            }
            let inv = invert3(super::super::tilt::matrix(224.0, 224.0, -11.0));
            let yf = y as f64;
            check(RowMap {
                ax: inv[0][0] as f32,
                ay: inv[1][0] as f32,
                az: inv[2][0] as f32,
                cx: (inv[0][1] * yf + inv[0][2]) as f32,
                cy: (inv[1][1] * yf + inv[1][2]) as f32,
                cz: (inv[2][1] * yf + inv[2][2]) as f32,
                projective: true,
            });
        }
        assert!(n > 150_000, "{n}");
        assert!(
            differ * 100 < n * 3,
            "{differ} of {n} differ from round(exact)"
        );
        // rounding: the mean of v − exact is 0 for round-half-up of a continuous value
        assert!(
            (signed / n as f64).abs() < 0.01,
            "bias {}",
            signed / n as f64
        );
        assert!(worst <= 0.5 + 1.0 / 32.0, "worst {worst}");
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
