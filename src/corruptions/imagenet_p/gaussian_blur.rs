//! ImageNet-P `gaussian_blur` (validation): the crop blurred by scikit-image `gaussian` with
//! σ = `0.25 + 0.035·i` (truncate 6, nearest at the border: scikit-image's default), stored as
//! `np.uint8(255·blur)` (truncated).
//!
//! The filter is the fast-mode Gaussian of ImageNet-C's gaussian_blur
//! (`kernels::fastgauss::gaussian_nearest`: f32 taps from SciPy's f64 kernel, FMA sums on the
//! 0–255 scale, truncated), not the f64 filter: 31 blurs a sequence made the f64 one the
//! largest part of the set. A value differs from the f64 path only where the exact result
//! lies within f32 rounding of an integer, by one level (ALGORITHMS.md §13; the test below
//! bounds it).

use super::{stream, Rgb, Sink, SIDE};
use crate::error::Result;
use crate::kernels::fastgauss::{gaussian_nearest, Dst, Src};
use crate::kernels::gaussian::kernel1d;

/// σ of frame `i`.
fn sigma(i: usize) -> f64 {
    0.25 + 0.035 * i as f64
}

/// The 31 frames, into `sink`. The crop is converted to f32 once for the 31 blurs (the
/// filter reads an f32 source whose rows are whole vector steps in place, where an 8-bit one
/// is converted row by row in every blur); the values, and so the bytes, are the same.
pub fn frames(img: &Rgb, sink: &mut Sink) -> Result<()> {
    let x: Vec<f32> = img.center_crop().iter().map(|&v| f32::from(v)).collect();
    stream(31, |i, y| frame(&x, i, y), sink)
}

/// Frame `i` of the crop `x` (its values as f32).
fn frame(x: &[f32], i: usize, y: &mut [u8]) {
    let g: Vec<f32> = kernel1d(sigma(i), 6.0).iter().map(|&v| v as f32).collect();
    gaussian_nearest(Src::F32(x), Dst::U8(y), SIDE, SIDE, 3, &g);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corruptions::imagenet_p::collect;
    use crate::kernels::gaussian::{gaussian_filter, Mode};

    /// The f64 path these frames replaced: scikit-image's arithmetic on `x/255` in f64.
    fn f64_frame(x: &[u8], i: usize) -> Vec<u8> {
        let mut y: Vec<f64> = x.iter().map(|&v| f64::from(v) / 255.0).collect();
        let s = sigma(i);
        gaussian_filter(&mut y, SIDE, SIDE, 3, s, s, 6.0, Mode::Nearest);
        y.iter().map(|&v| (255.0 * v) as u8).collect()
    }

    #[test]
    fn frames_are_within_one_level_of_the_f64_filter() {
        // The fixture photo and a synthetic checkerboard (edges, and flat areas on integer
        // levels, where the f64 path's `255·(v/255)` often lands just under v and truncates
        // to v − 1 while the f32 sums on the 0–255 scale give v): every value within one level
        // of the f64 path; the share differing and the mean signed difference stay small (a
        // wrong σ, taps or border would move edges by many levels)
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/photos/chelsea_224x224.png"
        );
        let photo = image::open(path).unwrap().to_rgb8();
        let photo = Rgb {
            width: photo.width() as usize,
            height: photo.height() as usize,
            px: photo.into_raw(),
        };
        let (w, h) = (256usize, 256usize);
        let board = Rgb {
            px: (0..w * h * 3)
                .map(|k| {
                    let (p, c) = (k / 3, k % 3);
                    let (x, y) = (p % w, p / w);
                    if (x / 16 + y / 16) % 2 == 0 {
                        (40 + c * 30 + (x * y) % 7) as u8
                    } else {
                        (200 - c * 20 + (x + y) % 5) as u8
                    }
                })
                .collect(),
            width: w,
            height: h,
        };
        for img in [photo, board] {
            let x = img.center_crop();
            let (mut differ, mut signed) = (0usize, 0i64);
            for (i, f) in collect(|s| frames(&img, s)).iter().enumerate() {
                let want = f64_frame(&x, i);
                for (&a, &b) in f.iter().zip(&want) {
                    assert!(a.abs_diff(b) <= 1, "frame {i}: {a} vs {b}");
                    differ += usize::from(a != b);
                    signed += i64::from(a) - i64::from(b);
                }
            }
            let n = 31 * x.len();
            let (share, bias) = (differ as f64 / n as f64, signed as f64 / n as f64);
            eprintln!(
                "{}x{}: {share:.4} differ, bias {bias:.4}",
                img.width, img.height
            );
            assert!(share < 0.05, "{share}");
            assert!(bias.abs() < 0.05, "{bias}");
        }
    }
}
