//! ImageNet-P `shot_noise`: frame 0 is the clean crop, frames 1–30 each draw fresh Poisson
//! noise `poisson(x·λ)/λ` (λ 300; difficulty 2: 120, 3: 60), stored as
//! `np.uint8(255·clip(·, 0, 1))` (truncated).

use super::Rgb;
use crate::rng::RandomSource;

/// The 31 frames.
pub fn frames(img: &Rgb, lam: f64, rng: &mut dyn RandomSource) -> Vec<Vec<u8>> {
    let x = img.center_crop();
    let lams: [f64; 256] = std::array::from_fn(|v| v as f64 / 255.0 * lam);
    let mut out = vec![x.clone()];
    let mut k = vec![0u64; x.len()];
    for _ in 1..31 {
        rng.fill_poisson_indexed(&lams, &x, &mut k);
        out.push(
            k.iter()
                .map(|&n| (255.0 * (n as f64 / lam).clamp(0.0, 1.0)) as u8)
                .collect(),
        );
    }
    out
}
