//! ImageNet-P `brightness`: HSV value `+ (i − 15)·0.02` for frame i = 0…30 (frame 15 is the
//! clean crop up to the HSV round trip), the scikit-image HSV kernel of ImageNet-C's
//! brightness (`kernels::hsv`), converted to HSV once for all 31 frames
//! (`hsv::ValueSweep`, the same bytes as 31 round trips).
//!
//! The frames are streamed one at a time (see the module `imagenet_p`), so each frame sweeps
//! the whole crop's V and factors (32 bytes a pixel in f64, 1.6 MB, which stays in a 2 MB L2);
//! the earlier tiling of all 31 frames per 512-pixel tile (V and factors in L1) needed all 31
//! frames in memory at once, and was not faster on the 2 MB-L2 machine (BENCHMARKS.md,
//! pstream). Same bytes (every value depends only on its own pixel).

use super::{stream, Rgb, Sink};
use crate::error::Result;
use crate::kernels::hsv::ValueSweep;

/// The 31 frames, into `sink`.
pub fn frames(img: &Rgb, sink: &mut Sink) -> Result<()> {
    let sweep = ValueSweep::new(&img.center_crop());
    stream(
        31,
        |i, f| sweep.add_value((i as f64 - 15.0) * 2.0 / 100.0, f),
        sink,
    )
}
