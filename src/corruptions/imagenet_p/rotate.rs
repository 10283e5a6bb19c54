//! ImageNet-P `rotate`: the source rotated by `i − 15` degrees (torchvision affine, bilinear,
//! counter-clockwise as PIL), then cropped. Frame 15 is the clean crop.

use super::warp::Source;
use super::Rgb;

/// The 31 frames.
pub fn frames(img: &Rgb) -> Vec<Vec<u8>> {
    let src = Source::pil(img);
    (0..31)
        .map(|i| src.affine_crop(i as f64 - 15.0, (0.0, 0.0), 1.0, 0.0))
        .collect()
}
