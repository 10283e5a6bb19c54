//! `motion_blur` (ALGORITHMS.md §4.6): a one-sided line blur at a random angle.

use serde::Deserialize;

use crate::corruptions::params::{self, check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::motion::{self, MotionKernel};
use crate::kernels::quantise;
use crate::kernels::scratch::Buf;

/// The `[motion_blur]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Kernel radius (width = 2·radius + 1).
    pub radius: Row<f64>,
    /// σ of the one-sided Gaussian weights.
    pub sigma: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "motion_blur.radius",
            &self.radius,
            params::blur_pixels,
            &params::blur_pixels_what(),
        )?;
        check_row(
            "motion_blur.sigma",
            &self.sigma,
            params::blur_pixels_pos,
            &params::blur_pixels_pos_what(),
        )
    }
}

/// Line motion blur along a random angle `θ ~ U(−45°, 45°)` (one draw), computed on the 0–255
/// values in f64 (ALGORITHMS.md §4.6, P4).
pub fn motion_blur(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let angle = job.rng.uniform(-45.0, 45.0);
    let k = MotionKernel::new(p.radius[job.level], p.sigma[job.level], angle);
    let mut y = Buf::<f64>::take(job.src.len());
    motion::motion_blur(job.src, &mut y, job.height, job.width, 3, &k);
    quantise::clip255_f64(&y, job.dst);
    Ok(())
}
