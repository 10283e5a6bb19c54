//! ImageNet-P `translate`: 41 frames, the source shifted horizontally by `i − 20` pixels
//! (torchvision affine, nearest: an exact shift, black where nothing comes in), then
//! cropped. Frame 20 is the clean crop.

use super::warp::{affine_crop_into, Filter};
use super::{stream, Rgb, Sink};
use crate::error::Result;

/// The 41 frames, into `sink`.
pub fn frames(img: &Rgb, sink: &mut Sink) -> Result<()> {
    let shift = |i: usize| (i as f64 - 20.0, 0.0);
    stream(
        41,
        |i, f| affine_crop_into(img, 0.0, shift(i), 1.0, 0.0, Filter::Nearest, f),
        sink,
    )
}
