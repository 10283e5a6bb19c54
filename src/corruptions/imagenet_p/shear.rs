//! ImageNet-P `shear` (validation): the source sheared by `i − 15` degrees (torchvision 0.2
//! affine, bilinear), then cropped. Frame 15 is the clean crop.

use super::warp::Source;
use super::{stream, Rgb, Sink};
use crate::error::Result;

/// The 31 frames, into `sink`.
pub fn frames(img: &Rgb, sink: &mut Sink) -> Result<()> {
    let src = Source::pil(img);
    stream(
        31,
        |i, f| src.affine_crop_into(0.0, (0.0, 0.0), 1.0, i as f64 - 15.0, f),
        sink,
    )
}
