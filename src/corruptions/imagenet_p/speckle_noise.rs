//! ImageNet-P `speckle_noise` (validation): frame 0 is the clean crop, frames 1–30 each
//! multiply fresh noise in, `x + x·N(0, σ²)` (σ 0.05; difficulty 2: 0.10, 3: 0.15), stored as
//! `np.uint8(255·clip(·, 0, 1))` (truncated).
//!
//! Sampled as `gaussian_noise` is (f32 Box–Muller normals from xoshiro128++ words, one word per
//! pair of values; docs/ALGORITHMS.md §4.1, §13), multiplied in.

use super::Rgb;
use crate::kernels::normal::NoiseMode;
use crate::rng::RandomSource;

/// The 31 frames.
pub fn frames(img: &Rgb, sigma: f64, rng: &mut dyn RandomSource) -> Vec<Vec<u8>> {
    super::gaussian_noise::normal_frames(img, sigma, NoiseMode::Multiplicative, rng)
}
