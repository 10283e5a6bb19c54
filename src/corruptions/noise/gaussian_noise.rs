//! `gaussian_noise` (ALGORITHMS.md §4.1): additive Gaussian noise, `clip(x + N(0, σ), 0, 1)`.

use serde::Deserialize;

use crate::corruptions::params::{check_row, nonneg, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::normal::{self, NoiseMode};

use super::normal_noise_reference;

/// The `[gaussian_noise]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Standard deviation per severity, in `[0, 1]` pixel units.
    pub sigma: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "gaussian_noise.sigma",
            &self.sigma,
            nonneg,
            "finite and >= 0",
        )
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            sigma: crate::corruptions::params::lerp_row(&self.sigma, s, Some(0.0))?,
        })
    }
}

/// `clip(x + N(0, σ), 0, 1)` with `H·W·3` normal draws.
pub fn gaussian_noise(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let sigma = p.sigma[job.level];
    if !job.rng.is_reference() {
        normal::add_noise_bytes(job.rng, job.src, job.dst, sigma, NoiseMode::Additive);
        return Ok(());
    }
    normal_noise_reference(job, sigma, |x, n| x + n);
    Ok(())
}
