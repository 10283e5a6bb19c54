//! `brightness` (ALGORITHMS.md §4.11): HSV value shift. A weather corruption in the catalogue (as in
//! ImageNet-C); it draws no random numbers, so both RNG modes give the same bytes.

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::hsv::{self, HsvOp};

/// The `[brightness]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Added to the HSV value.
    pub delta: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "brightness.delta",
            &self.delta,
            |v| (-1.0..=1.0).contains(&v),
            "in [-1, 1]",
        )
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            delta: crate::corruptions::params::lerp_row(&self.delta, s, Some(0.0))?,
        })
    }
}

/// HSV value + Δ (scikit-image `rgb2hsv`/`hsv2rgb` in f64).
pub fn brightness(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let delta = p.delta[job.level];
    hsv::adjust(job.src, job.dst, HsvOp::AddValue(delta));
    Ok(())
}
