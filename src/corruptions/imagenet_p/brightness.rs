//! ImageNet-P `brightness`: HSV value `+ (i − 15)·0.02` for frame i = 0…30 (frame 15 is the
//! clean crop up to the HSV round trip), the scikit-image HSV kernel of ImageNet-C's
//! brightness (`kernels::hsv`), converted to HSV once for all 31 frames
//! (`hsv::ValueSweep`, the same bytes as 31 round trips).
//!
//! The crop is swept in tiles of [`TILE`] pixels, all 31 frames per tile: a tile's V and
//! factors (32 bytes a pixel in f64) then stay in L1 for the 31 passes instead of streaming
//! the whole crop's 1.6 MB from L3 for each frame. Same bytes (every value depends only on its
//! own pixel).

use super::Rgb;
use crate::kernels::hsv::ValueSweep;

/// Pixels per tile (16 KB of V and factors).
const TILE: usize = 512;

/// The 31 frames.
pub fn frames(img: &Rgb) -> Vec<Vec<u8>> {
    let x = img.center_crop();
    let mut out: Vec<Vec<u8>> = (0..31).map(|_| vec![0u8; x.len()]).collect();
    for (t, src) in x.chunks(3 * TILE).enumerate() {
        let sweep = ValueSweep::new(src);
        let at = t * 3 * TILE..t * 3 * TILE + src.len();
        for (i, f) in out.iter_mut().enumerate() {
            sweep.add_value((i as f64 - 15.0) * 2.0 / 100.0, &mut f[at.clone()]);
        }
    }
    out
}
