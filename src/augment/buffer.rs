//! Conversions between the two training buffer types, and the per-thread scratch used to run
//! 8-bit library corruptions on f32 images.

use std::cell::RefCell;

use super::Shape;
use crate::error::{Error, Result};

thread_local! {
    /// Reused HWC u8 staging for corruptions on f32 buffers (no allocation after warm-up).
    pub(super) static SCRATCH_U8: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// f32 value in [0, 1] → byte, rounding to nearest (halves up); out-of-range values are clipped.
#[inline(always)]
pub(super) fn unit_f32_to_u8(x: f32) -> u8 {
    // `as u8` truncates (and maps NaN to 0); +0.5 makes it round to nearest for x >= 0.
    (x.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
}

/// Byte → f32 in [0, 1] (`v / 255`).
#[inline(always)]
pub(super) fn u8_to_unit_f32(v: u8) -> f32 {
    v as f32 / 255.0
}

/// Convert an 8-bit HWC image to f32 CHW in [0, 1] (`v / 255`, like torchvision's `ToTensor`).
pub fn hwc_u8_to_chw_f32(src: &[u8], dst: &mut [f32], shape: Shape) -> Result<()> {
    shape.check(src.len(), 1)?;
    shape.check(dst.len(), 1)?;
    let plane = shape.height * shape.width;
    for (p, px) in src.chunks_exact(shape.channels).enumerate() {
        for (c, &v) in px.iter().enumerate() {
            dst[c * plane + p] = u8_to_unit_f32(v);
        }
    }
    Ok(())
}

/// Convert an f32 CHW image in [0, 1] to 8-bit HWC, clipping and rounding to nearest.
pub fn chw_f32_to_hwc_u8(src: &[f32], dst: &mut [u8], shape: Shape) -> Result<()> {
    shape.check(src.len(), 1)?;
    shape.check(dst.len(), 1)?;
    let plane = shape.height * shape.width;
    for (p, px) in dst.chunks_exact_mut(shape.channels).enumerate() {
        for (c, d) in px.iter_mut().enumerate() {
            *d = unit_f32_to_u8(src[c * plane + p]);
        }
    }
    Ok(())
}

/// Error for a channel count the library corruptions cannot take.
pub(super) fn check_corruption_channels(shape: Shape) -> Result<()> {
    if (1..=4).contains(&shape.channels) {
        Ok(())
    } else {
        Err(Error::InvalidImage(format!(
            "corruptions need 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA) channels, got {}",
            shape.channels
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_is_exact_for_bytes() {
        let shape = Shape::new(3, 5, 3);
        let src: Vec<u8> = (0..shape.len()).map(|i| (i * 37 % 256) as u8).collect();
        let mut f = vec![0f32; shape.len()];
        hwc_u8_to_chw_f32(&src, &mut f, shape).unwrap();
        // channel 1 of pixel (row 1, col 2) is at plane 1, offset 1*5+2
        assert_eq!(f[15 + 7], src[7 * 3 + 1] as f32 / 255.0);
        let mut back = vec![0u8; shape.len()];
        chw_f32_to_hwc_u8(&f, &mut back, shape).unwrap();
        assert_eq!(back, src);
    }

    #[test]
    fn quantisation_rounds_and_clips() {
        assert_eq!(unit_f32_to_u8(-0.3), 0);
        assert_eq!(unit_f32_to_u8(1.7), 255);
        assert_eq!(unit_f32_to_u8(f32::NAN), 0);
        assert_eq!(unit_f32_to_u8(100.4 / 255.0), 100);
        assert_eq!(unit_f32_to_u8(100.6 / 255.0), 101);
    }
}
