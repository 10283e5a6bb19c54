//! ImageNet-P `gaussian_noise`: frame 0 is the clean crop, frames 1–30 each add fresh
//! N(0, σ²) noise to it (σ 0.03; difficulty 2: 0.05, 3: 0.08), clamped to [0, 1] and
//! stored as torchvision's `ToPILImage` stores it (`·255`, truncated).
//!
//! Sampled as ImageNet-C's fast-mode noise is (`kernels::normal::noise_bytes`: f32
//! Box–Muller normals, one 32-bit word per pair of values, added, clipped and truncated to 8
//! bits in pixel units), but the words come from eight xoshiro128++ lanes seeded from the
//! sequence's generator (`rng::xoshiro`) instead of Philox: 30 fresh frames a sequence made
//! the words the larger half of the cost (docs/ALGORITHMS.md §4.1, §13).

use super::Rgb;
use crate::kernels::normal::NoiseMode;
use crate::rng::RandomSource;

/// The 31 frames.
pub fn frames(img: &Rgb, sigma: f64, rng: &mut dyn RandomSource) -> Vec<Vec<u8>> {
    normal_frames(img, sigma, NoiseMode::Additive, rng)
}

/// Frame 0 the clean crop, then 30 frames of fresh [`crate::kernels::normal::noise_bytes`]
/// noise with words from one [`Xoshiro8`](crate::rng::xoshiro::Xoshiro8) seeded from `rng`
/// (shared with `speckle_noise`).
pub(super) fn normal_frames(
    img: &Rgb,
    sigma: f64,
    mode: NoiseMode,
    rng: &mut dyn RandomSource,
) -> Vec<Vec<u8>> {
    use crate::kernels::normal::{noise_bytes, words_for};
    // values per chunk: a multiple of the normals' block, its words (16 KB) stay in L1
    const CHUNK: usize = 8192;
    let x = img.center_crop();
    let mut gen = crate::rng::xoshiro::Xoshiro8::from_source(rng);
    let mut words = vec![0u32; words_for(CHUNK)];
    let mut out = vec![x.clone()];
    for _ in 1..31 {
        let mut f = vec![0u8; x.len()];
        for (s, d) in x.chunks(CHUNK).zip(f.chunks_mut(CHUNK)) {
            let w = &mut words[..words_for(s.len())];
            gen.fill(w);
            noise_bytes(w, s, d, sigma, mode);
        }
        out.push(f);
    }
    out
}
