//! ImageNet-P `shot_noise`: frame 0 is the clean crop, frames 1–30 each draw fresh Poisson
//! noise `poisson(x·λ)/λ` (λ 300; difficulty 2: 120, 3: 60), stored as
//! `np.uint8(255·clip(·, 0, 1))` (truncated).
//!
//! Sampled through the exact-distribution tables of ImageNet-C's noise corruptions
//! (`kernels::noise_table`: one 32-bit word per value, the reference's output distribution per
//! input byte including its truncation to 8 bits), with the words from eight xoshiro128++ lanes
//! seeded from the sequence's generator (`rng::xoshiro`) instead of Philox, which cost more
//! than the lookups (docs/ALGORITHMS.md §13), made in registers and used at once
//! (`NoiseTable::draw`).

use super::{Rgb, Sink};
use crate::error::Result;
use crate::kernels::noise_table::{self, NoiseKind};
use crate::rng::RandomSource;

/// The 31 frames, into `sink`.
pub fn frames(img: &Rgb, lam: f64, rng: &mut dyn RandomSource, sink: &mut Sink) -> Result<()> {
    let table = noise_table::get(NoiseKind::Shot, lam);
    super::gaussian_noise::drawn_frames(img, rng, |gen, x, f| table.draw(gen, x, f), sink)
}
