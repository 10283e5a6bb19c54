//! ImageNet-P `gaussian_noise`: frame 0 is the clean crop, frames 1–30 each add fresh
//! N(0, σ²) noise to it (σ 0.03; difficulty 2: 0.05, 3: 0.08), clamped to [0, 1] and
//! stored as torchvision's `ToPILImage` stores it (`·255`, truncated).
//!
//! Sampled through the exact-distribution tables of ImageNet-C's noise corruptions
//! (`kernels::noise_table`, fast mode: one 32-bit draw per value, the reference's output
//! distribution per input byte including its truncation to 8 bits).

use super::Rgb;
use crate::kernels::noise_table::{self, NoiseKind};
use crate::rng::RandomSource;

/// The 31 frames.
pub fn frames(img: &Rgb, sigma: f64, rng: &mut dyn RandomSource) -> Vec<Vec<u8>> {
    let x = img.center_crop();
    let table = noise_table::get(NoiseKind::Gaussian, sigma);
    let mut out = vec![x.clone()];
    for _ in 1..31 {
        let mut f = vec![0u8; x.len()];
        table.apply(&x, &mut f, rng);
        out.push(f);
    }
    out
}
