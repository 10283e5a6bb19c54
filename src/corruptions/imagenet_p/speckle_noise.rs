//! ImageNet-P `speckle_noise` (validation): frame 0 is the clean crop, frames 1–30 each
//! multiply fresh noise in, `x + x·N(0, σ²)` (σ 0.05; difficulty 2: 0.10, 3: 0.15), stored as
//! `np.uint8(255·clip(·, 0, 1))` (truncated).
//!
//! Sampled as ImageNet-C's fast-mode speckle noise is (`kernels::normal::noise_bytes`: f32
//! Box–Muller normals, one 32-bit word per pair of values, multiplied in, clipped and truncated
//! to 8 bits in pixel units), but the words come from eight xoshiro128++ lanes seeded from the
//! sequence's generator (`rng::xoshiro`) instead of Philox: 30 fresh frames a sequence made
//! the words the larger half of the cost (docs/ALGORITHMS.md §4.1, §13). Unlike
//! `gaussian_noise`, the noise's grey-level offset depends on the input value here, so one
//! shared offset table does not apply.

use super::{Rgb, Sink};
use crate::error::Result;
use crate::kernels::normal::{draw_noise_bytes, NoiseMode};
use crate::rng::RandomSource;

/// The 31 frames: the clean crop, then 30 frames of fresh
/// [`crate::kernels::normal::noise_bytes`] noise with words from one
/// [`Xoshiro8`](crate::rng::xoshiro::Xoshiro8) seeded from `rng`, made in registers and used
/// at once ([`draw_noise_bytes`]).
pub fn frames(img: &Rgb, sigma: f64, rng: &mut dyn RandomSource, sink: &mut Sink) -> Result<()> {
    super::gaussian_noise::drawn_frames(
        img,
        rng,
        |gen, x, f| draw_noise_bytes(gen, x, f, sigma, NoiseMode::Multiplicative),
        sink,
    )
}
