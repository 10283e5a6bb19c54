//! ImageNet-P `brightness`: HSV value `+ (i − 15)·0.02` for frame i = 0…30 (frame 15 is the
//! clean crop up to the HSV round trip), the scikit-image HSV kernel of ImageNet-C's
//! brightness (`kernels::hsv`), converted to HSV once for all 31 frames
//! (`hsv::ValueSweep`, the same bytes as 31 round trips).

use super::Rgb;
use crate::kernels::hsv::ValueSweep;

/// The 31 frames.
pub fn frames(img: &Rgb) -> Vec<Vec<u8>> {
    let x = img.center_crop();
    let sweep = ValueSweep::new(&x);
    (0..31)
        .map(|i| {
            let mut out = vec![0u8; x.len()];
            sweep.add_value((i as f64 - 15.0) * 2.0 / 100.0, &mut out);
            out
        })
        .collect()
}
