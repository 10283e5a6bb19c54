//! `gaussian_blur` (ALGORITHMS.md §4.17): a Gaussian blur per channel (held-out validation set).

use serde::Deserialize;

use crate::corruptions::params::{self, check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::fastgauss::{self, Dst, Src};
use crate::kernels::gaussian::{gaussian_filter_streamed, kernel1d, Mode};
use crate::kernels::quantise;

mod fixed16;

/// The `[gaussian_blur]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Gaussian σ in pixels.
    pub sigma: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "gaussian_blur.sigma",
            &self.sigma,
            params::blur_pixels,
            &params::blur_pixels_what(),
        )
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            sigma: crate::corruptions::params::lerp_row(&self.sigma, s, None)?,
        })
    }
}

/// `clip(gaussian(x/255, σ, per channel, mode nearest, truncate 4), 0, 1)·255` (ALGORITHMS.md §4.17).
///
/// `--rng numpy` (numpy mode) gives the reference's exact pixels: the SciPy filter in f64.
/// Fast mode (the default), from radius 4 (σ ≥ 0.875, every severity) up: the same separable
/// filter in 16-bit fixed point with the symmetric taps folded ([`fixed16::gaussian_rgb8`],
/// 16 values per vector instead of 8 f32); below it (σ < 0.875, only fractional severities or
/// custom tables), where the 16-bit centre weight could overflow, in f32 with one FMA per tap
/// ([`fastgauss::gaussian_nearest`]). Same statistics (mean PSNR within 0.5 dB, tested), at
/// most 1 grey level from the exact output (rounding across an integer boundary).
pub fn gaussian_blur(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let sigma = p.sigma[job.level];
    let (h, w) = (job.height, job.width);
    if !job.rng.is_reference() {
        let g64 = kernel1d(sigma, 4.0);
        if g64.len() / 2 >= FIXED_FROM {
            fixed16::gaussian_rgb8(job.src, job.dst, h, w, &g64);
        } else {
            let g: Vec<f32> = g64.iter().map(|&v| v as f32).collect();
            fastgauss::gaussian_nearest(Src::U8(job.src), Dst::U8(job.dst), h, w, 3, &g);
        }
        return Ok(());
    }
    let row_len = w * 3;
    let lut = unit_lut();
    let (src, dst) = (job.src, &mut *job.dst);
    gaussian_filter_streamed(
        h,
        w,
        3,
        sigma,
        sigma,
        4.0,
        Mode::Nearest,
        |k, out| {
            for (o, &v) in out.iter_mut().zip(&src[k * row_len..(k + 1) * row_len]) {
                *o = lut[v as usize];
            }
        },
        |i, row| quantise::unit_f64(row, &mut dst[i * row_len..(i + 1) * row_len]),
    );
    Ok(())
}

/// Smallest radius run by the 16-bit kernel in fast mode (its centre weight must stay below
/// 1 − 2⁻¹⁶, which fails for σ near 0.1; below radius 4 the f32 filter is cheap anyway).
const FIXED_FROM: usize = 4;

/// `v / 255` in f64 for every byte value (the reference's correctly rounded quotients).
fn unit_lut() -> [f64; 256] {
    std::array::from_fn(|v| v as f64 / 255.0)
}
