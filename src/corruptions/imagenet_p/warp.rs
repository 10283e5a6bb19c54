//! The geometric warps of the ImageNet-P sequences: torchvision 0.2's `F.affine` on a PIL image
//! (inverse matrix about the centre `(W/2 + 0.5, H/2 + 0.5)`, PIL's pixel-centre sampling,
//! black outside) and OpenCV's `warpPerspective` (forward 3×3 matrix, integer pixel centres,
//! black border). Bilinear sampling is in f64 here; PIL and OpenCV use fixed point, so a
//! value can differ by one level (nearest, as translate uses, is exact).

use super::Rgb;

/// Sampling filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// PIL NEAREST.
    Nearest,
    /// Bilinear.
    Bilinear,
}

/// Bilinear sample at continuous position (x, y) with pixel centres on integers; taps outside
/// the image count as black, a position more than one pixel outside gives black.
fn bilinear(img: &Rgb, x: f64, y: f64, out: &mut [u8]) {
    let (w, h) = (img.width as f64, img.height as f64);
    if x <= -1.0 || y <= -1.0 || x >= w || y >= h || !x.is_finite() || !y.is_finite() {
        out.fill(0);
        return;
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as isize, y0 as isize);
    let tap = |xx: isize, yy: isize, c: usize| -> f64 {
        if xx < 0 || yy < 0 || xx >= img.width as isize || yy >= img.height as isize {
            0.0
        } else {
            f64::from(img.px[(yy as usize * img.width + xx as usize) * 3 + c])
        }
    };
    for (c, o) in out.iter_mut().enumerate() {
        let top = tap(x0, y0, c) * (1.0 - fx) + tap(x0 + 1, y0, c) * fx;
        let bot = tap(x0, y0 + 1, c) * (1.0 - fx) + tap(x0 + 1, y0 + 1, c) * fx;
        *o = (top * (1.0 - fy) + bot * fy + 0.5).clamp(0.0, 255.0) as u8;
    }
}

/// Map every output pixel centre through `inv` (output → input coordinates, PIL convention:
/// centres at +0.5) and sample.
fn remap(img: &Rgb, filter: Filter, inv: impl Fn(f64, f64) -> (f64, f64)) -> Rgb {
    let (w, h) = (img.width, img.height);
    let mut px = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = inv(x as f64 + 0.5, y as f64 + 0.5);
            let o = &mut px[(y * w + x) * 3..(y * w + x) * 3 + 3];
            match filter {
                Filter::Nearest => {
                    let (ix, iy) = (sx.floor(), sy.floor());
                    if ix >= 0.0 && iy >= 0.0 && ix < w as f64 && iy < h as f64 {
                        let s = (iy as usize * w + ix as usize) * 3;
                        o.copy_from_slice(&img.px[s..s + 3]);
                    }
                }
                Filter::Bilinear => bilinear(img, sx - 0.5, sy - 0.5, o),
            }
        }
    }
    Rgb {
        px,
        width: w,
        height: h,
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
    remap(img, filter, |x, y| {
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    })
}

/// OpenCV `warpPerspective(img, mat, (W, H))`, bilinear, black border: output pixel (x, y)
/// samples the input at `mat⁻¹ · (x, y, 1)` (integer pixel centres).
pub fn perspective(img: &Rgb, mat: [[f64; 3]; 3]) -> Rgb {
    let inv = invert3(mat);
    let (w, h) = (img.width, img.height);
    let mut px = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f64, y as f64);
            let z = inv[2][0] * xf + inv[2][1] * yf + inv[2][2];
            let sx = (inv[0][0] * xf + inv[0][1] * yf + inv[0][2]) / z;
            let sy = (inv[1][0] * xf + inv[1][1] * yf + inv[1][2]) / z;
            bilinear(img, sx, sy, &mut px[(y * w + x) * 3..(y * w + x) * 3 + 3]);
        }
    }
    Rgb {
        px,
        width: w,
        height: h,
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
}
