//! ImageNet-P `motion_blur`: the crop blurred by ImageMagick's motion blur (radius 10, σ 3)
//! at angle `(i − 30)·4°` for frame i = 0…30 (frame 0 is blurred too, as in the reference).
//! The blur and ImageMagick's 16-bit rounding are the kernels of ImageNet-C's motion_blur
//! (`kernels::motion`, `quantise = "imagemagick"`), byte-identical to ImageMagick there.

use super::{Rgb, SIDE};
use crate::kernels::motion::{self, imagemagick_u8, MotionKernel};

/// The 31 frames.
pub fn frames(img: &Rgb) -> Vec<Vec<u8>> {
    let x = img.center_crop();
    let mut acc = vec![0f64; x.len()];
    (0..31)
        .map(|i| {
            let k = MotionKernel::new(10.0, 3.0, ((i as f64) - 30.0) * 4.0);
            motion::motion_blur(&x, &mut acc, SIDE, SIDE, 3, &k);
            acc.iter().map(|&v| imagemagick_u8(v)).collect()
        })
        .collect()
}
