//! `zoom_blur` (ALGORITHMS.md §4.7): the average of centre zooms.

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::quantise;
use crate::kernels::zoom;

/// Most zoom factors a `zoom_blur` severity may have (`ceil((stop − 1) / step)`; the built-in
/// preset has at most 12). Checked when a preset is loaded.
pub const MAX_ZOOM_FACTORS: usize = 1000;

/// The `[zoom_blur]` table: factors `np.arange(1, stop, step)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Exclusive stop of the factor range.
    pub stop: Row<f64>,
    /// Step of the factor range.
    pub step: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row("zoom_blur.stop", &self.stop, |v| v >= 1.0, ">= 1")?;
        check_row("zoom_blur.step", &self.step, |v| v > 0.0, "> 0")?;
        // Every factor is one full-image zoom: a tiny step would mean billions of them (a
        // `capacity overflow` panic or an endless run), not a stronger blur.
        for (i, (stop, step)) in self.stop.iter().zip(&self.step).enumerate() {
            let n = ((stop - 1.0) / step).ceil();
            if n > MAX_ZOOM_FACTORS as f64 {
                return Err(format!(
                    "keys `zoom_blur.stop`/`zoom_blur.step` severity {}: arange(1, {stop}, {step}) \
                     gives {n} zoom factors, more than the limit of {MAX_ZOOM_FACTORS}",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    /// ALGORITHMS.md §14: `stop` and `step` interpolated, so the largest factor of
    /// `arange(1, stop, step)` follows the tables; below 1, `stop` from 1 (no factor: the
    /// clean image) with the severity-1 step.
    fn at_severity(&self, s: f64) -> Option<Self> {
        use crate::corruptions::params::{lerp_hold, lerp_row};
        Some(Params {
            stop: lerp_row(&self.stop, s, Some(1.0))?,
            step: lerp_hold(&self.step, s),
        })
    }
}

/// Zoom factors `np.arange(1, stop, step)`: length `ceil((stop − 1)/step)`, values
/// `1 + i·Δ` with `Δ = (1 + step) − 1` (NumPy's fill rule; ALGORITHMS.md §4.7, Quirk 4).
pub fn zoom_factors(stop: f64, step: f64) -> Vec<f64> {
    let n = ((stop - 1.0) / step).ceil().max(0.0) as usize;
    let delta = (1.0 + step) - 1.0;
    (0..n)
        .map(|i| match i {
            0 => 1.0,
            1 => 1.0 + step,
            _ => 1.0 + i as f64 * delta,
        })
        .collect()
}

/// Average of the image and its clipped zooms, in f32 (ALGORITHMS.md §4.7, P5). The factor 1.00 is an
/// identity, so the clean image counts twice, as in the reference.
///
/// `--rng numpy` (numpy mode) gives the reference's exact pixels (each zoom rebuilt in f64 as
/// SciPy does, rounded to f32, accumulated in f32). Fast mode (the default) computes the same
/// average on the 0–255 scale with f32 weights, resampling fused with the accumulation
/// ([`zoom::zoom_blur_rgb8`]); it differs from numpy mode by f32 rounding only.
pub fn zoom_blur(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let factors = zoom_factors(p.stop[job.level], p.step[job.level]);
    let (h, w) = (job.height, job.width);
    if !job.rng.is_reference() {
        zoom::zoom_blur_rgb8(job.src, job.dst, h, w, &factors);
        return Ok(());
    }
    let x: Vec<f32> = job.src.iter().map(|&v| (v as f64 / 255.0) as f32).collect();
    let mut acc = vec![0f32; x.len()];
    for &z in &factors {
        if z == 1.0 {
            // Exact identity: every sample has weights (1, 0) on its own pixel.
            for (a, &v) in acc.iter_mut().zip(x.iter()) {
                *a += v;
            }
        } else {
            zoom::clipped_zoom_accumulate(&x, h, w, 3, z, &mut acc);
        }
    }
    let count = (factors.len() + 1) as f32;
    for (a, &v) in acc.iter_mut().zip(x.iter()) {
        *a = (v + *a) / count;
    }
    quantise::unit_f32(&acc, job.dst);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_factor_counts_follow_numpy_arange() {
        let text = include_str!("../../../corruptions/imagecorruptions.toml");
        let doc = crate::corruptions::params::Document::parse(text).unwrap();
        let table = crate::corruptions::params::parse_table::<Params>(&doc, "zoom_blur").unwrap();
        let p = crate::corruptions::params::downcast::<Params>(&*table);
        let counts: Vec<usize> = (0..5)
            .map(|l| zoom_factors(p.stop[l], p.step[l]).len())
            .collect();
        assert_eq!(counts, [12, 16, 11, 13, 11]);
        // np.arange(1, 1.31, 0.03)[10] == 1.3000000000000003
        let f = zoom_factors(1.31, 0.03);
        assert_eq!(f[10].to_bits(), 1.3000000000000003f64.to_bits());
    }
}
