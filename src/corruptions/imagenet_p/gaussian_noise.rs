//! ImageNet-P `gaussian_noise`: frame 0 is the clean crop, frames 1–30 each add fresh
//! N(0, σ²) noise to it (σ 0.03; difficulty 2: 0.05, 3: 0.08), clamped to [0, 1] and
//! stored as torchvision's `ToPILImage` stores it (`·255`, truncated).
//!
//! Sampled as ImageNet-C's fast-mode noise is (`kernels::normal::add_noise_bytes`: f32
//! Box–Muller normals, one 32-bit draw per pair of values, added, clipped and truncated to 8
//! bits in pixel units; docs/ALGORITHMS.md §4.1, §13).

use super::Rgb;
use crate::kernels::normal::{self, NoiseMode};
use crate::rng::RandomSource;

/// The 31 frames.
pub fn frames(img: &Rgb, sigma: f64, rng: &mut dyn RandomSource) -> Vec<Vec<u8>> {
    let x = img.center_crop();
    let mut out = vec![x.clone()];
    for _ in 1..31 {
        let mut f = vec![0u8; x.len()];
        normal::add_noise_bytes(rng, &x, &mut f, sigma, NoiseMode::Additive);
        out.push(f);
    }
    out
}
