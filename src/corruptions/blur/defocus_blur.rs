//! `defocus_blur` (ALGORITHMS.md §4.4): convolution with an anti-aliased disk.

use serde::Deserialize;

use crate::corruptions::params::{self, check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::fastblur;
use crate::kernels::filter2d::{self, Kernel2d};
use crate::kernels::quantise;
use crate::kernels::scratch::Buf;

/// The `[defocus_blur]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Disk radius in pixels.
    pub radius: Row<f64>,
    /// σ of the anti-aliasing Gaussian.
    pub alias_sigma: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "defocus_blur.radius",
            &self.radius,
            |v| (0.0..=256.0).contains(&v),
            "in [0, 256]",
        )?;
        check_row(
            "defocus_blur.alias_sigma",
            &self.alias_sigma,
            params::blur_pixels_pos,
            &params::blur_pixels_pos_what(),
        )
    }

    /// ALGORITHMS.md §14: the disk radius is a real number (the disk is the offsets within
    /// it), interpolated from 0; the anti-aliasing σ held below 1.
    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            radius: params::lerp_row(&self.radius, s, Some(0.0))?,
            alias_sigma: params::lerp_hold(&self.alias_sigma, s),
        })
    }
}

/// `ΣK` of the reference kernel `disk(radius, alias σ)` in f64, memoised per thread (building
/// the 21×21 kernel of radius 10 cost 7 % of a fast-mode call).
fn kernel_sum(radius: f64, alias: f64) -> f64 {
    thread_local! {
        static SUMS: std::cell::RefCell<Vec<(u64, u64, f64)>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let key = (radius.to_bits(), alias.to_bits());
    SUMS.with(|c| {
        if let Some(&(_, _, s)) = c.borrow().iter().find(|e| (e.0, e.1) == key) {
            return s;
        }
        let (kernel, _) = filter2d::disk_kernel(radius, alias);
        let s: f64 = kernel.iter().map(|&v| v as f64).sum();
        let mut c = c.borrow_mut();
        if c.len() >= 64 {
            c.clear(); // continuous severities: keep the cache small
        }
        c.push((key.0, key.1, s));
        s
    })
}

/// `x_u8 / 255` in f64 (table lookup of the same correctly rounded quotients).
fn to_unit_f64(src: &[u8]) -> Buf<f64> {
    let lut: [f64; 256] = std::array::from_fn(|v| v as f64 / 255.0);
    let mut out = Buf::<f64>::take(src.len());
    for (o, &v) in out.iter_mut().zip(src) {
        *o = lut[v as usize];
    }
    out
}

/// Per-channel `filter2D(x/255, disk(radius, alias σ))` with reflect-101 borders (ALGORITHMS.md §4.4,
/// P2, P3). Radii 8 and 10 keep the reference's kernel sums of 1.013 / 1.011 (ALGORITHMS.md Quirk 5).
///
/// `--rng numpy` (numpy mode) gives the reference's exact pixels (direct f64 correlation with
/// the 17×17 / 21×21 kernel). Fast mode (the default) uses a different, documented algorithm
/// with the same statistics ([`fastblur::disk_blur_rgb8`]): the anti-aliased disk
/// `K ≈ G ⊛ D` is applied as the small separable Gaussian `G` in 8-bit fixed point on the
/// bytes, then the binary disk `D` (exact integer column spans over prefix sums), scaled in
/// fixed point to `K`'s total sum so the brightening of ALGORITHMS.md Quirk 5 survives. Mean PSNR
/// is within 0.5 dB of the reference (tested); tests/fast_blur_deviation.rs bounds the fast
/// output's distance from the exact one on the fixture photos (max 8, mean 0.6 levels): `K` is
/// clipped to its grid with mirrored borders and the image border is reflected twice, `G ⊛ D`
/// is not, and `G`'s output is rounded to bytes.
pub fn defocus_blur(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let (radius, alias) = (p.radius[job.level], p.alias_sigma[job.level]);
    let r = radius.max(0.0).floor() as usize;
    // The fast kernel's 16-bit column sums hold spans of up to 255 rows (r ≤ 127); larger
    // (non-reference) radii take the exact path.
    if !job.rng.is_reference() && r <= 127 {
        let ksum = kernel_sum(radius, alias);
        let g = filter2d::opencv_gaussian_kernel(if r <= 8 { 3 } else { 5 }, alias);
        let taps = fastblur::alias_taps(&g);
        let (_, count) = fastblur::disk_spans(r);
        let scale = (ksum / count as f64) as f32;
        fastblur::disk_blur_rgb8(job.src, job.dst, job.height, job.width, r, &taps, scale);
        return Ok(());
    }
    let (kernel, n) = filter2d::disk_kernel(radius, alias);
    let k = Kernel2d::new(kernel.iter().map(|&v| v as f64).collect(), n, n);
    let x = to_unit_f64(job.src);
    let mut y = Buf::<f64>::take(x.len());
    filter2d::correlate_reflect101(&x, &mut y, job.height, job.width, 3, &k);
    quantise::unit_f64(&y, job.dst);
    Ok(())
}
