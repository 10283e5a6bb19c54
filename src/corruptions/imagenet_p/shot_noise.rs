//! ImageNet-P `shot_noise`: frame 0 is the clean crop, frames 1–30 each draw fresh Poisson
//! noise `poisson(x·λ)/λ` (λ 300; difficulty 2: 120, 3: 60), stored as
//! `np.uint8(255·clip(·, 0, 1))` (truncated).
//!
//! Sampled through the exact-distribution tables of ImageNet-C's noise corruptions
//! (`kernels::noise_table`, fast mode: one 32-bit draw per value, the reference's output
//! distribution per input byte including its truncation to 8 bits).

use super::Rgb;
use crate::kernels::noise_table::{self, NoiseKind};
use crate::rng::RandomSource;

/// The 31 frames.
pub fn frames(img: &Rgb, lam: f64, rng: &mut dyn RandomSource) -> Vec<Vec<u8>> {
    let x = img.center_crop();
    let table = noise_table::get(NoiseKind::Shot, lam);
    let mut out = vec![x.clone()];
    for _ in 1..31 {
        let mut f = vec![0u8; x.len()];
        table.apply(&x, &mut f, rng);
        out.push(f);
    }
    out
}
