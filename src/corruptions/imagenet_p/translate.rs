//! ImageNet-P `translate`: 41 frames, the source shifted horizontally by `i − 20` pixels
//! (torchvision affine, nearest: an exact shift, black where nothing comes in), then
//! cropped. Frame 20 is the clean crop.

use super::warp::{affine_crop, Filter};
use super::Rgb;

/// The 41 frames.
pub fn frames(img: &Rgb) -> Vec<Vec<u8>> {
    (0..41)
        .map(|i| affine_crop(img, 0.0, (i as f64 - 20.0, 0.0), 1.0, 0.0, Filter::Nearest))
        .collect()
}
