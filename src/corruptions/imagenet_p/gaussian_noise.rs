//! ImageNet-P `gaussian_noise`: frame 0 is the clean crop, frames 1–30 each add fresh
//! N(0, σ²) noise to it (σ 0.03; difficulty 2: 0.05, 3: 0.08), clamped to [0, 1] and
//! stored as torchvision's `ToPILImage` stores it (`·255`, truncated).

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
                    ((((f64::from(v) / 255.0) as f32 + n as f32).clamp(0.0, 1.0)) * 255.0) as u8
                })
                .collect(),
        );
    }
    out
}
