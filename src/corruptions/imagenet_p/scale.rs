//! ImageNet-P `scale`: the source zoomed by `(40 + 2.5·i)/100` (0.4 … 1.15; torchvision
//! affine, bilinear), then cropped.

use super::warp::Source;
use super::{stream, Rgb, Sink};
use crate::error::Result;

/// The 31 frames, into `sink`.
pub fn frames(img: &Rgb, sink: &mut Sink) -> Result<()> {
    let src = Source::pil(img);
    let scale = |i: usize| (i as f64 * 2.5 + 40.0) / 100.0;
    stream(
        31,
        |i, f| src.affine_crop_into(0.0, (0.0, 0.0), scale(i), 0.0, f),
        sink,
    )
}
