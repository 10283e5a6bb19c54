//! ImageNet-P `motion_blur`: the crop blurred by ImageMagick's motion blur (radius 10, σ 3)
//! at angle `(i − 30)·4°` for frame i = 0…30 (frame 0 is blurred too, as in the reference).
//! The taps, offsets and ImageMagick's 16-bit rounding are those of ImageNet-C's motion_blur
//! (`kernels::motion`, `quantise = "imagemagick"`); the sums are the f32 FMA ones of its fast
//! mode (`motion_blur_prepared_imagemagick`), within one level of the f64 sums
//! (ALGORITHMS.md §13; the test below bounds it).

use super::{stream, Rgb, Sink, SIDE};
use crate::error::Result;
use crate::kernels::motion::{motion_blur_prepared_imagemagick, MotionKernel, Prepared};

/// The kernel of frame `i`.
fn kernel(i: usize) -> MotionKernel {
    MotionKernel::new(10.0, 3.0, ((i as f64) - 30.0) * 4.0)
}

/// The 31 frames, into `sink`. The crop is converted to f32 and edge-padded once for all 31
/// kernels (`motion::Prepared`, the pads of the widest), not once per frame (the pads change
/// no value).
pub fn frames(img: &Rgb, sink: &mut Sink) -> Result<()> {
    let kernels: Vec<MotionKernel> = (0..31).map(kernel).collect();
    let x = Prepared::new(&img.center_crop(), SIDE, SIDE, 3, &kernels, f32::from);
    stream(
        31,
        |i, out| motion_blur_prepared_imagemagick(&x, out, &kernels[i]),
        sink,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corruptions::imagenet_p::collect;
    use crate::kernels::motion::{imagemagick_u8, motion_blur};

    #[test]
    fn frames_are_within_one_level_of_the_f64_sums() {
        // the fixture photo (flat and saturated areas, where sums sit on level boundaries):
        // every value of every frame within one level of the f64 path, under 1 % differing,
        // and no bias
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/photos/chelsea_224x224.png"
        );
        let img = image::open(path).unwrap().to_rgb8();
        let img = Rgb {
            width: img.width() as usize,
            height: img.height() as usize,
            px: img.into_raw(),
        };
        let x = img.center_crop();
        let mut acc = vec![0f64; x.len()];
        let (mut differ, mut signed) = (0usize, 0i64);
        for (i, f) in collect(|s| frames(&img, s)).iter().enumerate() {
            motion_blur(&x, &mut acc, SIDE, SIDE, 3, &kernel(i));
            for (&a, &e) in f.iter().zip(&acc) {
                let e = imagemagick_u8(e);
                assert!(a.abs_diff(e) <= 1, "frame {i}: {a} vs {e}");
                differ += usize::from(a != e);
                signed += i64::from(a) - i64::from(e);
            }
        }
        let n = 31 * x.len();
        assert!(differ * 100 < n, "{differ} of {n} differ");
        assert!((signed as f64 / n as f64).abs() < 0.005, "bias {signed}");
    }
}
