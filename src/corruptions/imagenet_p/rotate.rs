//! ImageNet-P `rotate`: the source rotated by `i − 15` degrees (torchvision affine, bilinear,
//! counter-clockwise as PIL), then cropped. Frame 15 is the clean crop.

use super::warp::Source;
use super::{stream, Rgb, Sink};
use crate::error::Result;

/// The 31 frames, into `sink`.
pub fn frames(img: &Rgb, sink: &mut Sink) -> Result<()> {
    let src = Source::pil(img);
    stream(
        31,
        |i, f| src.affine_crop_into(i as f64 - 15.0, (0.0, 0.0), 1.0, 0.0, f),
        sink,
    )
}
