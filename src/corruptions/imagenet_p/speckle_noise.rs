//! ImageNet-P `speckle_noise` (validation): frame 0 is the clean crop, frames 1–30 each
//! multiply fresh noise in, `x + x·N(0, σ²)` (σ 0.05; difficulty 2: 0.10, 3: 0.15), stored as
//! `np.uint8(255·clip(·, 0, 1))` (truncated).
//!
//! Sampled as shot_noise is: through the exact-distribution tables of `kernels::noise_table`
//! (for each input byte, the reference's output law of `x + x·σz`, clip and truncation
//! included, as 256 alias tables), one 32-bit word and one gather per value, the words from
//! eight xoshiro128++ lanes seeded from the sequence's generator (`rng::xoshiro`), made in
//! registers and used at once (`NoiseTable::draw`). Until pnoise3 these frames were ImageNet-C's
//! fast-mode speckle bytes (`kernels::normal::noise_bytes`: f32 Box–Muller, one word per pair of
//! values); the table costs ~30 % less per frame here (the Box–Muller arithmetic outweighed the
//! extra word per value and the gather) and its law is exact rather than truncated at ±5.27σ —
//! a change of the three sequences' bytes (docs/ALGORITHMS.md §13.1). Unlike `gaussian_noise`,
//! the noise's grey-level offset depends on the input value here, so one shared offset table
//! does not apply.

use super::{Rgb, Sink};
use crate::error::Result;
use crate::kernels::noise_table::{self, NoiseKind};
use crate::rng::RandomSource;

/// The 31 frames: the clean crop, then 30 frames of fresh table-sampled speckle noise.
pub fn frames(img: &Rgb, sigma: f64, rng: &mut dyn RandomSource, sink: &mut Sink) -> Result<()> {
    let table = noise_table::get(NoiseKind::Speckle, sigma);
    super::gaussian_noise::drawn_frames(img, rng, |gen, x, f| table.draw(gen, x, f), sink)
}
