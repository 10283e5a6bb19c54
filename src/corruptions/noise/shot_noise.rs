//! `shot_noise` (ALGORITHMS.md §4.2): Poisson (photon) noise, `Poisson(x·c) / c`.

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::noise_table::{self, NoiseKind};
use crate::kernels::quantise::unit_to_u8;

use super::BLOCK;

/// The `[shot_noise]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Photon count scale c per severity.
    pub photons: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "shot_noise.photons",
            &self.photons,
            |v| v > 0.0 && v <= 1e6,
            "in (0, 1e6]",
        )
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            photons: crate::corruptions::params::lerp_row(&self.photons, s, None)?,
        })
    }
}

/// `clip(Poisson(x·c) / c, 0, 1)`; λ = 0 draws nothing (NumPy legacy behaviour).
pub fn shot_noise(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let c = p.photons[job.level];
    if !job.rng.is_reference() {
        noise_table::get(NoiseKind::Shot, c).apply(job.src, job.dst, job.rng);
        return Ok(());
    }
    // λ = x·c takes one value per input byte.
    let lams: [f64; 256] = std::array::from_fn(|v| v as f64 / 255.0 * c);
    let mut counts = [0u64; BLOCK];
    for (src, dst) in job.src.chunks(BLOCK).zip(job.dst.chunks_mut(BLOCK)) {
        let counts = &mut counts[..src.len()];
        job.rng.fill_poisson_indexed(&lams, src, counts);
        for (d, &k) in dst.iter_mut().zip(counts.iter()) {
            *d = unit_to_u8(k as f64 / c);
        }
    }
    Ok(())
}
