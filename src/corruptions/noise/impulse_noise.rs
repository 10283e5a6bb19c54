//! `impulse_noise` (ALGORITHMS.md §4.3): salt-and-pepper noise, drawn per channel.

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::noise_table::{self, NoiseKind};
use crate::kernels::quantise::unit_to_u8;

use super::BLOCK;

/// The `[impulse_noise]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Probability that a channel value is replaced.
    pub amount: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "impulse_noise.amount",
            &self.amount,
            |v| (0.0..=1.0).contains(&v),
            "in [0, 1]",
        )
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            amount: crate::corruptions::params::lerp_row(&self.amount, s, Some(0.0))?,
        })
    }
}

/// Salt and pepper per channel: legacy scikit-image `random_noise(mode='s&p')`: a flip mask
/// `u < p` over the whole array, then a salt mask `u < 0.5` over the whole array.
pub fn impulse_noise(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let p = p.amount[job.level];
    if !job.rng.is_reference() {
        noise_table::get(NoiseKind::Impulse, p).apply(job.src, job.dst, job.rng);
        return Ok(());
    }
    // np.random.choice([True, False], p=[p, 1-p]) compares u with the normalised cdf[0].
    let flip_threshold = p / (p + (1.0 - p));
    let mut draws = [0f64; BLOCK];
    let mut flipped = vec![false; job.src.len()];
    for chunk in flipped.chunks_mut(BLOCK) {
        let draws = &mut draws[..chunk.len()];
        job.rng.fill_uniform(draws, 0.0, 1.0);
        for (f, &u) in chunk.iter_mut().zip(draws.iter()) {
            *f = u < flip_threshold;
        }
    }
    for ((src, dst), flip) in job
        .src
        .chunks(BLOCK)
        .zip(job.dst.chunks_mut(BLOCK))
        .zip(flipped.chunks(BLOCK))
    {
        let draws = &mut draws[..src.len()];
        job.rng.fill_uniform(draws, 0.0, 1.0);
        for i in 0..src.len() {
            dst[i] = match (flip[i], draws[i] < 0.5) {
                (true, true) => 255,
                (true, false) => 0,
                (false, _) => unit_to_u8(src[i] as f64 / 255.0),
            };
        }
    }
    Ok(())
}
