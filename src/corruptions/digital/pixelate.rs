//! `pixelate` (ALGORITHMS.md §4.14): box downscale, nearest upscale. Draws no random numbers.

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::resample;

/// The `[pixelate]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Downscale factor.
    pub scale: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "pixelate.scale",
            &self.scale,
            |v| v > 0.0 && v <= 1.0,
            "in (0, 1]",
        )
    }

    /// ALGORITHMS.md §14: the scale from 1 (full size: the clean image).
    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            scale: crate::corruptions::params::lerp_row(&self.scale, s, Some(1.0))?,
        })
    }
}

/// Pillow BOX downscale to `(int(W·c), int(H·c))`, then NEAREST back to `(W, H)`.
///
/// For images so small that `int(W·c)` is 0 (the reference refuses images under 32×32) the
/// reduced size is clamped to 1 pixel.
pub fn pixelate(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let c = p.scale[job.level];
    let (w, h) = (job.width, job.height);
    let sw = ((w as f64 * c) as usize).max(1);
    let sh = ((h as f64 * c) as usize).max(1);
    resample::box_nearest_rgb(job.src, w, h, sw, sh, job.dst);
    Ok(())
}
