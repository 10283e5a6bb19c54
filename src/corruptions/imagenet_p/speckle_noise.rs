//! ImageNet-P `speckle_noise` (validation): frame 0 is the clean crop, frames 1–30 each
//! multiply fresh noise in, `x + x·N(0, σ²)` (σ 0.05; difficulty 2: 0.10, 3: 0.15), stored as
//! `np.uint8(255·clip(·, 0, 1))` (truncated).

use super::Rgb;
use crate::rng::RandomSource;

/// The 31 frames.
pub fn frames(img: &Rgb, sigma: f64, rng: &mut dyn RandomSource) -> Vec<Vec<u8>> {
    let x = img.center_crop();
    let mut out = vec![x.clone()];
    let mut noise = vec![0f64; x.len()];
    for _ in 1..31 {
        rng.fill_normal(&mut noise, 0.0, sigma);
        out.push(
            x.iter()
                .zip(&noise)
                .map(|(&v, &n)| {
                    let v = f64::from(v) / 255.0;
                    (255.0 * (v + v * n).clamp(0.0, 1.0)) as u8
                })
                .collect(),
        );
    }
    out
}
