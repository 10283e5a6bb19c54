//! `saturate` (ALGORITHMS.md §4.19): HSV saturation change. Draws no random numbers.

use serde::Deserialize;

use crate::corruptions::params::{check_row, finite, nonneg, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::hsv::{self, HsvOp};

/// The `[saturate]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Multiplier of the HSV saturation.
    pub multiplier: Row<f64>,
    /// Added to the HSV saturation.
    pub offset: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row("saturate.multiplier", &self.multiplier, nonneg, ">= 0")?;
        check_row("saturate.offset", &self.offset, finite, "finite")
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            multiplier: crate::corruptions::params::lerp_row(&self.multiplier, s, Some(1.0))?,
            offset: crate::corruptions::params::lerp_row(&self.offset, s, Some(0.0))?,
        })
    }
}

/// HSV saturation × multiplier + offset.
pub fn saturate(job: &mut Job<'_>, p: &Params) -> Result<()> {
    hsv::adjust(
        job.src,
        job.dst,
        HsvOp::ScaleSaturation(p.multiplier[job.level], p.offset[job.level]),
    );
    Ok(())
}
