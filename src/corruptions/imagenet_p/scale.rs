//! ImageNet-P `scale`: the source zoomed by `(40 + 2.5·i)/100` (0.4 … 1.15; torchvision
//! affine, bilinear), then cropped.

use super::warp::Source;
use super::Rgb;

/// The 31 frames.
pub fn frames(img: &Rgb) -> Vec<Vec<u8>> {
    let src = Source::pil(img);
    (0..31)
        .map(|i| src.affine_crop(0.0, (0.0, 0.0), (i as f64 * 2.5 + 40.0) / 100.0, 0.0))
        .collect()
}
