//! `luminance_checkerboard` (LAION-C; ALGORITHMS.md §12.6): a 14×14-pixel checkerboard of
//! brightness offsets. Tile (i, j) of the grid that starts at the top-left corner gets
//! `(−1)^(i+j) · U(a, b) / 255` added to all three channels, clipped to [0, 1].
//!
//! The arithmetic is the reference's: float32 pixels `u/255` (torchvision `ToTensor`), plus
//! the offset rounded to float32, clipped, times 255 in float32, then *truncated* to 8 bits
//! (`astype(np.uint8)`). One uniform per tile in row-major tile order, so with `--rng numpy`
//! the output is the reference's after `np.random.seed(seed)` for a batch of one image (the
//! reference shares one draw per tile between the images of a DataLoader batch).

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;

/// The `[luminance_checkerboard]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Lower bound of the offset magnitude, in 8-bit steps.
    pub low: Row<f64>,
    /// Upper bound of the offset magnitude, in 8-bit steps.
    pub high: Row<f64>,
    /// Tile side in pixels (LAION-C: 14).
    pub tile: usize,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "luminance_checkerboard.low",
            &self.low,
            |v| (0.0..=255.0).contains(&v),
            "in [0, 255]",
        )?;
        check_row(
            "luminance_checkerboard.high",
            &self.high,
            |v| (0.0..=255.0).contains(&v),
            "in [0, 255]",
        )?;
        for s in 0..5 {
            if self.high[s] < self.low[s] {
                return Err(format!(
                    "luminance_checkerboard.high[{s}] = {} is below low[{s}] = {}",
                    self.high[s], self.low[s]
                ));
            }
        }
        if !(1..=4096).contains(&self.tile) {
            return Err("luminance_checkerboard.tile must be in 1..=4096".into());
        }
        Ok(())
    }

    /// LAION-C's values (apply_distortions.py), so that preset files without this table
    /// (written before LAION-C existed) still load.
    fn when_missing() -> Option<Self> {
        Some(Params {
            low: [0.0, 50.0, 100.0, 125.0, 150.0],
            high: [50.0, 100.0, 125.0, 150.0, 255.0],
            tile: 14,
        })
    }
}

/// Add the checkerboard of offsets.
pub fn luminance_checkerboard(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let (w, h, t) = (job.width, job.height, p.tile);
    let (lo, hi) = (p.low[job.level], p.high[job.level]);
    // The 256 float32 pixel values of ToTensor.
    let unit: [f32; 256] = std::array::from_fn(|u| u as f32 / 255.0);
    let mut lut = [0u8; 256];
    for (i, ty) in (0..h).step_by(t).enumerate() {
        for (j, tx) in (0..w).step_by(t).enumerate() {
            let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
            let adj = (job.rng.uniform(lo, hi) * sign / 255.0) as f32;
            for (u, l) in lut.iter_mut().enumerate() {
                let v = (unit[u] + adj).clamp(0.0, 1.0) * 255.0;
                *l = v as u8;
            }
            for y in ty..(ty + t).min(h) {
                let row = (y * w + tx) * 3..(y * w + (tx + t).min(w)) * 3;
                for (d, &s) in job.dst[row.clone()].iter_mut().zip(&job.src[row]) {
                    *d = lut[s as usize];
                }
            }
        }
    }
    Ok(())
}
