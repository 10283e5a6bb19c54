//! The geometric warps of the ImageNet-P sequences: torchvision 0.2's `F.affine` on a PIL image
//! (inverse matrix about the centre `(W/2 + 0.5, H/2 + 0.5)`, PIL's pixel-centre sampling,
//! black outside) and OpenCV's `warpPerspective` (forward 3×3 matrix, integer pixel centres,
//! black border). Bilinear sampling is in f64 here; PIL and OpenCV use fixed point, so a
//! value can differ by one level (nearest, as translate uses, is exact).

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

/// Bilinear sample at continuous position (x, y) with pixel centres on integers; taps outside
/// the image count as black, a position more than one pixel outside gives black.
///
/// Per channel `top = p00·(1 − fx) + p10·fx`, `bot = p01·(1 − fx) + p11·fx`,
/// `trunc(clamp(top·(1 − fy) + bot·fy + 0.5))` in f64. Positions whose four taps are inside
/// (nearly all of a frame) read them without per-tap bounds checks; the arithmetic is the same
/// on both paths, so the two give the same bytes.
#[inline(always)]
fn bilinear(img: &Rgb, x: f64, y: f64, out: &mut [u8]) {
    let (w, h) = (img.width as f64, img.height as f64);
    if x <= -1.0 || y <= -1.0 || x >= w || y >= h || !x.is_finite() || !y.is_finite() {
        out.fill(0);
        return;
    }
    let (x0, y0) = (floor(x), floor(y));
    let (fx, fy) = (x - x0, y - y0);
    let (gx, gy) = (1.0 - fx, 1.0 - fy);
    let (x0, y0) = (x0 as isize, y0 as isize);
    let iw = img.width as isize;
    if x0 >= 0 && y0 >= 0 && x0 + 1 < iw && y0 + 1 < img.height as isize {
        let i00 = (y0 as usize * img.width + x0 as usize) * 3;
        let i01 = i00 + img.width * 3;
        let (a, b) = (&img.px[i00..i00 + 6], &img.px[i01..i01 + 6]);
        for c in 0..3 {
            let top = f64::from(a[c]) * gx + f64::from(a[c + 3]) * fx;
            let bot = f64::from(b[c]) * gx + f64::from(b[c + 3]) * fx;
            out[c] = (top * gy + bot * fy + 0.5).clamp(0.0, 255.0) as u8;
        }
        return;
    }
    let tap = |xx: isize, yy: isize, c: usize| -> f64 {
        if xx < 0 || yy < 0 || xx >= iw || yy >= img.height as isize {
            0.0
        } else {
            f64::from(img.px[(yy as usize * img.width + xx as usize) * 3 + c])
        }
    };
    for (c, o) in out.iter_mut().enumerate() {
        let top = tap(x0, y0, c) * gx + tap(x0 + 1, y0, c) * fx;
        let bot = tap(x0, y0 + 1, c) * gx + tap(x0 + 1, y0 + 1, c) * fx;
        *o = (top * gy + bot * fy + 0.5).clamp(0.0, 255.0) as u8;
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
}

/// For every pixel `(X, Y)` of the image inside `win`, sample the input at `pos(X, Y)` (the
/// position already in the sampler's convention) into the window's pixel.
///
/// Bilinear rows compute their positions first (scalar, the same arithmetic for every twin)
/// and then sample them through [`bilinear_row`], whose AVX2 twin does the three channels of a
/// pixel in one f64 vector.
fn remap(
    img: &Rgb,
    win: Window,
    filter: Filter,
    pos: impl Fn(usize, usize) -> (f64, f64),
) -> Vec<u8> {
    let (w, h) = (img.width, img.height);
    let mut px = vec![0u8; win.width * win.height * 3];
    let mut xs = vec![0f64; win.width];
    let mut ys = vec![0f64; win.width];
    for (wy, row) in px.chunks_exact_mut(win.width * 3).enumerate() {
        let y = wy as isize + win.top;
        if y < 0 || y >= h as isize {
            continue;
        }
        // the window columns inside the image
        let x_lo = (-win.left).clamp(0, win.width as isize) as usize;
        let x_hi = (w as isize - win.left).clamp(0, win.width as isize) as usize;
        match filter {
            Filter::Nearest => {
                for wx in x_lo..x_hi {
                    let x = (wx as isize + win.left) as usize;
                    let (sx, sy) = pos(x, y as usize);
                    let (ix, iy) = (floor(sx), floor(sy));
                    if ix >= 0.0 && iy >= 0.0 && ix < w as f64 && iy < h as f64 {
                        let s = (iy as usize * w + ix as usize) * 3;
                        row[wx * 3..wx * 3 + 3].copy_from_slice(&img.px[s..s + 3]);
                    }
                }
            }
            Filter::Bilinear => {
                let n = x_hi.saturating_sub(x_lo);
                let x0 = (x_lo as isize + win.left) as usize;
                for (k, (sx, sy)) in xs[..n].iter_mut().zip(&mut ys[..n]).enumerate() {
                    (*sx, *sy) = pos(x0 + k, y as usize);
                }
                bilinear_row(img, &xs[..n], &ys[..n], &mut row[x_lo * 3..x_hi * 3]);
            }
        }
    }
    px
}

/// Bilinear samples of `img` at the positions `(xs[k], ys[k])` into pixel `k` of `out` (RGB8),
/// as [`bilinear`] computes each. Dispatched to [`bilinear_row_avx2`].
fn bilinear_row(img: &Rgb, xs: &[f64], ys: &[f64], out: &mut [u8]) {
    crate::simd::dispatch!(bilinear_row_scalar / bilinear_row_avx2(img, xs, ys, out))
}

/// Scalar twin of [`bilinear_row`].
fn bilinear_row_scalar(img: &Rgb, xs: &[f64], ys: &[f64], out: &mut [u8]) {
    for ((&x, &y), o) in xs.iter().zip(ys).zip(out.chunks_exact_mut(3)) {
        bilinear(img, x, y, o);
    }
}

/// AVX2 twin of [`bilinear_row`]: a position whose four taps are inside the image loads its
/// two rows' six bytes each (one 8-byte load per row), widens them to two f64 vectors per row
/// (`p00 p00' p00'' ·` and `p10 …`), and evaluates the scalar formula lane-wise with the same
/// operations in the same order (separate multiply and add, no FMA), so the bytes are the
/// scalar ones. Positions at the border or outside go through the scalar [`bilinear`].
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn bilinear_row_avx2(img: &Rgb, xs: &[f64], ys: &[f64], out: &mut [u8]) {
    use std::arch::x86_64::*;
    let (w, h) = (img.width, img.height);
    // interior: floor(x) in [0, w − 2] and floor(y) in [0, h − 2]
    let (xmax, ymax) = (w as f64 - 1.0, h as f64 - 1.0);
    if xmax >= i32::MAX as f64 || ymax >= i32::MAX as f64 {
        return bilinear_row_scalar(img, xs, ys, out);
    }
    let len = img.px.len();
    let base = img.px.as_ptr();
    let (zero, c255, half) = (
        _mm256_setzero_pd(),
        _mm256_set1_pd(255.0),
        _mm256_set1_pd(0.5),
    );
    // (no closures here: a closure inside a `#[target_feature]` function is compiled as a
    // separate function without AVX2 and called per use)
    for ((&x, &y), o) in xs.iter().zip(ys).zip(out.chunks_exact_mut(3)) {
        if x >= 0.0 && y >= 0.0 && x < xmax && y < ymax {
            // x, y ≥ 0: the truncation is the floor, as in `bilinear`; through i32 (one
            // instruction each way; `as usize` saturates and converts back through u64)
            // SAFETY: 0 ≤ x < xmax and 0 ≤ y < ymax, both bounds under i32::MAX (checked
            // above): the values are finite and their truncations fit i32
            let (x0, y0) = unsafe { (x.to_int_unchecked::<i32>(), y.to_int_unchecked::<i32>()) };
            let i00 = (y0 as usize * w + x0 as usize) * 3;
            let i01 = i00 + w * 3;
            if i01 + 8 <= len {
                let (fx, fy) = (x - f64::from(x0), y - f64::from(y0));
                let (vfx, vgx) = (_mm256_set1_pd(fx), _mm256_set1_pd(1.0 - fx));
                let (vfy, vgy) = (_mm256_set1_pd(fy), _mm256_set1_pd(1.0 - fy));
                // SAFETY: i00 + 8 ≤ i01 + 8 ≤ len: both 8-byte loads are inside `px`
                let a = _mm_loadl_epi64(base.add(i00) as *const __m128i);
                let b = _mm_loadl_epi64(base.add(i01) as *const __m128i);
                let a0 = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(a));
                let a1 = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_srli_si128::<3>(a)));
                let b0 = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(b));
                let b1 = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_srli_si128::<3>(b)));
                let top = _mm256_add_pd(_mm256_mul_pd(a0, vgx), _mm256_mul_pd(a1, vfx));
                let bot = _mm256_add_pd(_mm256_mul_pd(b0, vgx), _mm256_mul_pd(b1, vfx));
                let r = _mm256_add_pd(
                    _mm256_add_pd(_mm256_mul_pd(top, vgy), _mm256_mul_pd(bot, vfy)),
                    half,
                );
                let r = _mm256_min_pd(_mm256_max_pd(r, zero), c255);
                let q = _mm256_cvttpd_epi32(r);
                let q = _mm_packus_epi16(_mm_packus_epi32(q, q), q);
                let v = (_mm_cvtsi128_si32(q) as u32).to_le_bytes();
                o[0] = v[0];
                o[1] = v[1];
                o[2] = v[2];
                continue;
            }
        }
        bilinear(img, x, y, o);
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
    // PIL maps the output pixel centre (x + ½, y + ½); the bilinear sampler's taps are on
    // integer centres, hence the − ½ there
    let half = if filter == Filter::Bilinear { 0.5 } else { 0.0 };
    remap(img, win, filter, |x, y| {
        let (x, y) = (x as f64 + 0.5, y as f64 + 0.5);
        (
            m[0] * x + m[1] * y + m[2] - half,
            m[3] * x + m[4] * y + m[5] - half,
        )
    })
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
    remap(img, win, Filter::Bilinear, |x, y| {
        let (xf, yf) = (x as f64, y as f64);
        let z = inv[2][0] * xf + inv[2][1] * yf + inv[2][2];
        let sx = (inv[0][0] * xf + inv[0][1] * yf + inv[0][2]) / z;
        let sy = (inv[1][0] * xf + inv[1][1] * yf + inv[1][2]) / z;
        (sx, sy)
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
        remap(img, win, Filter::Nearest, |x, y| {
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

    #[test]
    fn bilinear_row_twins_are_equal() {
        // positions inside, on the last row/column, just outside, far outside and non-finite,
        // on images whose last pixel ends the buffer (the 8-byte loads must not read past it)
        for (w, h) in [(1usize, 1usize), (2, 2), (3, 5), (17, 9), (64, 48)] {
            let img = ramp(w, h);
            let mut xs = Vec::new();
            let mut ys = Vec::new();
            let mut k = 0u64;
            for j in 0..400 {
                k = k
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (k >> 11) as f64 / (1u64 << 53) as f64;
                let v = ((k >> 3) & 0xffff) as f64 / 65536.0;
                xs.push(u * (w as f64 + 3.0) - 1.5);
                ys.push(v * (h as f64 + 3.0) - 1.5);
                if j % 50 == 0 {
                    xs.push(w as f64 - 1.0 - 1e-9);
                    ys.push(h as f64 - 1.0 - 1e-9);
                }
            }
            xs.extend([f64::NAN, 0.0, -0.0, f64::INFINITY, -1.0, w as f64 - 1.0]);
            ys.extend([0.5, f64::NAN, -0.0, 0.0, 0.0, h as f64 - 1.0]);
            let mut want = vec![0u8; xs.len() * 3];
            bilinear_row_scalar(&img, &xs, &ys, &mut want);
            for isa in crate::simd::available() {
                let mut got = vec![1u8; xs.len() * 3];
                crate::simd::dispatch!(at isa; bilinear_row_scalar / bilinear_row_avx2(&img, &xs, &ys, &mut got));
                assert_eq!(got, want, "{w}x{h} {isa:?}");
            }
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
