//! ImageNet-P `shear` (validation): the source sheared by `i − 15` degrees (torchvision 0.2
//! affine, bilinear), then cropped. Frame 15 is the clean crop.

use super::warp::Source;
use super::Rgb;

/// The 31 frames.
pub fn frames(img: &Rgb) -> Vec<Vec<u8>> {
    let src = Source::pil(img);
    (0..31)
        .map(|i| src.affine_crop(0.0, (0.0, 0.0), 1.0, i as f64 - 15.0))
        .collect()
}
