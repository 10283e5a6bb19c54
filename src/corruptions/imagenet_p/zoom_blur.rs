//! ImageNet-P `zoom_blur`: frame i is the running mean of the crops of frames 0…i, frame j
//! being the source zoomed by `1 + 0.004·j` (torchvision affine, bilinear) before the crop.
//! Frame 0 is the clean crop. Stored as `ToPILImage` stores float tensors (`·255`, truncated),
//! the sum kept in float32 as the reference's tensor.

use super::warp::{affine_crop, Filter};
use super::Rgb;

/// The 31 frames.
pub fn frames(img: &Rgb) -> Vec<Vec<u8>> {
    let first = img.center_crop();
    let mut avg: Vec<f32> = first.iter().map(|&v| f32::from(v) / 255.0).collect();
    let mut out = vec![first];
    for i in 1..31 {
        let z = affine_crop(
            img,
            0.0,
            (0.0, 0.0),
            1.0 + 0.004 * i as f64,
            0.0,
            Filter::Bilinear,
        );
        for (a, &v) in avg.iter_mut().zip(&z) {
            *a += f32::from(v) / 255.0;
        }
        let n = (i + 1) as f32;
        // a / n ≤ 1 (a sum of n values ≤ 1 rounds to at most n), so the value is in [0, 255]
        // and the plain conversion equals `as u8`'s saturating one; it vectorises
        out.push(avg.iter().map(|&a| (a / n * 255.0) as i32 as u8).collect());
    }
    out
}
