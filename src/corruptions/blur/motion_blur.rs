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
    /// How the blurred values become 8-bit: `trunc` (imagecorruptions' re-implementation,
    /// default) or `imagemagick` (the original scripts call ImageMagick's `MotionBlurImage`
    /// through Wand: 16-bit quantum values rounded, then written to an 8-bit PNG; same kernel
    /// and offsets, ALGORITHMS.md P4).
    #[serde(default)]
    pub quantise: Quantise,
}

/// The 8-bit conversion of [`Params::quantise`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantise {
    /// `np.uint8(clip(v, 0, 255))`: truncation (imagecorruptions).
    #[default]
    Trunc,
    /// ImageMagick Q16 (as Debian's 6.9.11 computes it, measured against it): the 16-bit
    /// quantum `q = floor(257·v + 0.5)` clamped to 0..=65535, then `q div 257` in the 8-bit
    /// PNG it writes. Differs from truncation on about 0.2 % of values.
    Imagemagick,
}

pub use crate::kernels::motion::imagemagick_u8;

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

    /// ALGORITHMS.md §14: radius and σ from 0 (radius 0 is the one-tap identity kernel), not
    /// rounded: the kernel has `ceil(2r + 1)` taps and its offsets scale with `2r + 1`, as the
    /// reference's `np.arange(width)` does for a non-integer width.
    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            radius: params::lerp_row(&self.radius, s, Some(0.0))?,
            sigma: params::lerp_row(&self.sigma, s, Some(0.0))?,
            quantise: self.quantise,
        })
    }
}

/// Line motion blur along a random angle `θ ~ U(−45°, 45°)` (one draw), computed on the 0–255
/// values in f64 (ALGORITHMS.md §4.6, P4); fast mode with the default `trunc` quantisation sums
/// in f32 instead ([`motion::motion_blur_u8_fast`], within one grey level of the f64 sums).
pub fn motion_blur(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let angle = job.rng.uniform(-45.0, 45.0);
    let k = MotionKernel::new(p.radius[job.level], p.sigma[job.level], angle);
    if !job.rng.is_reference() && p.quantise == Quantise::Trunc {
        // Fast mode: f32 FMA sums straight to bytes (at most one grey level from the f64
        // path, on values whose exact sum lies within ~10⁻⁵ of an integer; the angle comes
        // from the fast generator anyway). `--rng numpy` keeps the reference's f64 sums.
        motion::motion_blur_u8_fast(job.src, job.dst, job.height, job.width, 3, &k);
        return Ok(());
    }
    let mut y = Buf::<f64>::take(job.src.len());
    motion::motion_blur(job.src, &mut y, job.height, job.width, 3, &k);
    match p.quantise {
        Quantise::Trunc => quantise::clip255_f64(&y, job.dst),
        Quantise::Imagemagick => {
            for (o, &v) in job.dst.iter_mut().zip(y.iter()) {
                *o = imagemagick_u8(v);
            }
        }
    }
    Ok(())
}
