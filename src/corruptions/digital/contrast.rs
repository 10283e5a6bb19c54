//! `contrast` (ALGORITHMS.md §4.12): contrast reduction around the per-channel mean. Draws no random
//! numbers.

use serde::Deserialize;

use crate::corruptions::params::{check_row, nonneg, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::quantise::unit_to_u8;

/// The `[contrast]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Factor applied around the per-channel mean.
    pub factor: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row("contrast.factor", &self.factor, nonneg, ">= 0")
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            factor: crate::corruptions::params::lerp_row(&self.factor, s, Some(1.0))?,
        })
    }
}

/// `(x − μ)·c + μ` with μ the per-channel mean of `x = v/255`.
///
/// The output depends only on (channel, value), so after the means are known the image is
/// mapped through three 256-entry tables computed with the reference's f64 expression.
pub fn contrast(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let c = p.factor[job.level];
    // NumPy reduces axes (0, 1) of an HxWx3 array with the channel axis innermost: a sequential
    // sum per channel in pixel order, then one division by the count.
    // x = v/255 is one of 256 values: look them up instead of dividing (same f64 values).
    let unit: [f64; 256] = std::array::from_fn(|v| v as f64 / 255.0);
    let mut sums = [0f64; 3];
    for px in job.src.chunks_exact(3) {
        sums[0] += unit[px[0] as usize];
        sums[1] += unit[px[1] as usize];
        sums[2] += unit[px[2] as usize];
    }
    let count = (job.width * job.height) as f64;
    let mut lut = [[0u8; 256]; 3];
    for ch in 0..3 {
        let mean = sums[ch] / count;
        for (v, out) in lut[ch].iter_mut().enumerate() {
            *out = unit_to_u8((v as f64 / 255.0 - mean) * c + mean);
        }
    }
    for (s, d) in job.src.chunks_exact(3).zip(job.dst.chunks_exact_mut(3)) {
        for ch in 0..3 {
            d[ch] = lut[ch][s[ch] as usize];
        }
    }
    Ok(())
}
