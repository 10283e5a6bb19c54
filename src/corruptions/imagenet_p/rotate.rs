//! ImageNet-P `rotate`: the source rotated by `i − 15` degrees (torchvision affine, bilinear,
//! counter-clockwise as PIL), then cropped. Frame 15 is the clean crop.

use super::warp::{affine_crop, Filter};
use super::Rgb;

/// The 31 frames.
pub fn frames(img: &Rgb) -> Vec<Vec<u8>> {
    (0..31)
        .map(|i| affine_crop(img, i as f64 - 15.0, (0.0, 0.0), 1.0, 0.0, Filter::Bilinear))
        .collect()
}
