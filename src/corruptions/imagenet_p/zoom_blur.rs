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
        let mut frame = vec![0u8; z.len()];
        accumulate(&mut avg, &z, (i + 1) as f32, &mut frame);
        out.push(frame);
    }
    out
}

crate::simd::dispatch! {
    /// One step of the running mean: `avg += z/255`, then `frame = trunc(avg/n·255)`. The
    /// AVX2 build is the same body vectorised (the same f32 operations, so the same bytes).
    fn accumulate / accumulate_scalar / accumulate_avx2(avg: &mut [f32], z: &[u8], n: f32, frame: &mut [u8]) {
        for ((a, &v), o) in avg.iter_mut().zip(z).zip(frame.iter_mut()) {
            *a += f32::from(v) / 255.0;
            // a / n ≤ 1 (a sum of n values ≤ 1 rounds to at most n), so the value is in
            // [0, 255] and the plain conversion equals `as u8`'s saturating one
            *o = (*a / n * 255.0) as i32 as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulate_twins_are_equal() {
        let z: Vec<Vec<u8>> = (0..31u32)
            .map(|j| {
                (0..1001u32)
                    .map(|k| ((k * 37 + j * 101) % 256) as u8)
                    .collect()
            })
            .collect();
        let run = |isa| {
            let mut avg = vec![0f32; 1001];
            let mut frames = Vec::new();
            for (i, z) in z.iter().enumerate() {
                let mut f = vec![0u8; z.len()];
                crate::simd::dispatch!(at isa; accumulate_scalar / accumulate_avx2(&mut avg, z, (i + 1) as f32, &mut f));
                frames.push(f);
            }
            frames
        };
        let want = run(crate::simd::Isa::Scalar);
        // the running mean of a constant 255 stays 255
        let mut avg = vec![0f32; 4];
        let mut f = vec![0u8; 4];
        for i in 0..31 {
            accumulate_scalar(&mut avg, &[255; 4], (i + 1) as f32, &mut f);
            assert_eq!(f, [255; 4], "{i}");
        }
        for isa in crate::simd::available() {
            assert_eq!(run(isa), want, "{isa:?}");
        }
    }
}
