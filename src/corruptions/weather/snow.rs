//! `snow` (ALGORITHMS.md §4.8): a motion-blurred snow layer.

use serde::Deserialize;

use crate::corruptions::params::{self, check_row, finite, nonneg, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::motion::{motion_blur, motion_blur_f64_fast, MotionKernel};
use crate::kernels::normal;
use crate::kernels::scratch::Buf;
use crate::kernels::zoom::clipped_zoom_plane;

mod blend;

/// Largest `snow.zoom` (the built-in preset's largest is 4.5): the zoomed snow layer has about
/// max(image side, zoom)² values, so unbounded zooms overflowed allocations.
pub const MAX_SNOW_ZOOM: f64 = 100.0;

/// The `[snow]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Mean of the snow layer normal draw.
    pub mean: Row<f64>,
    /// Standard deviation of the snow layer normal draw.
    pub std: Row<f64>,
    /// Zoom factor of the layer.
    pub zoom: Row<f64>,
    /// Values below are set to 0.
    pub threshold: Row<f64>,
    /// Motion-blur radius.
    pub blur_radius: Row<f64>,
    /// Motion-blur σ.
    pub blur_sigma: Row<f64>,
    /// Weight of the original image in the greyscale lift.
    pub blend: Row<f64>,
    /// How the snow layer is blurred: `imagecorruptions` (default: the untrimmed float layer,
    /// P4 motion blur, rounded to 8 bits) or `imagemagick` (the original ImageNet-C scripts:
    /// the layer trimmed to the image (centred), truncated to 8 bits, blurred by ImageMagick,
    /// ALGORITHMS.md §5.2).
    #[serde(default)]
    pub layer: Layer,
}

/// The snow-layer path of [`Params::layer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// imagecorruptions 1.1.2.
    #[default]
    Imagecorruptions,
    /// The original ImageNet-C / CIFAR-10-C / Tiny-ImageNet-C scripts (ImageMagick).
    Imagemagick,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row("snow.mean", &self.mean, finite, "finite")?;
        check_row("snow.std", &self.std, nonneg, ">= 0")?;
        // The zoomed layer has about max(image side, zoom)² values.
        check_row(
            "snow.zoom",
            &self.zoom,
            |v| (1.0..=MAX_SNOW_ZOOM).contains(&v),
            &format!("in [1, {MAX_SNOW_ZOOM}]"),
        )?;
        check_row("snow.threshold", &self.threshold, finite, "finite")?;
        let (blur, blur_what) = (params::blur_pixels, params::blur_pixels_what());
        check_row("snow.blur_radius", &self.blur_radius, blur, &blur_what)?;
        check_row("snow.blur_sigma", &self.blur_sigma, blur, &blur_what)?;
        check_row("snow.blend", &self.blend, finite, "finite")
    }

    /// ALGORITHMS.md §14: every key interpolated; below 1 the layer's mean and σ from 0 (no
    /// flake passes the threshold) and the blend from 1 (no grey lift), the shape keys (zoom,
    /// threshold, blur) held at severity 1.
    fn at_severity(&self, s: f64) -> Option<Self> {
        use params::{lerp_hold, lerp_row};
        Some(Params {
            mean: lerp_row(&self.mean, s, Some(0.0))?,
            std: lerp_row(&self.std, s, Some(0.0))?,
            zoom: lerp_hold(&self.zoom, s),
            threshold: lerp_hold(&self.threshold, s),
            blur_radius: lerp_hold(&self.blur_radius, s),
            blur_sigma: lerp_hold(&self.blur_sigma, s),
            blend: lerp_row(&self.blend, s, Some(1.0))?,
            layer: self.layer,
        })
    }
}

/// Snow (ALGORITHMS.md §4.8, Quirk 9): a layer of `H·W` normals `N(μ, σ)`, `clipped_zoom`ed (ALGORITHMS.md P5,
/// untrimmed `H'×W'`), values below the threshold zeroed and clipped to [0, 1], motion-blurred
/// (ALGORITHMS.md P4) on the untrimmed layer with the angle `U(−135, −45)` (drawn after the normals), then
/// quantised `rint_even(255·L)/255` and cropped to `H×W`. The image (f32) is lifted towards its
/// grey `b·x + (1−b)·max(x, 1.5·gray + 0.5)` and the result is
/// `clip(x + L + rot180(L), 0, 1)` in f64.
///
/// Tiny images: the zoom crop keeps at least one pixel per axis and the motion blur drops the
/// taps that leave the layer (as the reference does), so any size ≥ 1×1 works.
pub fn snow(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let lvl = job.level;
    let (w, h) = (job.width, job.height);
    // every value is drawn below: no zeroing needed
    let mut layer = Buf::<f64>::take(w * h);
    let (mean, std) = (p.mean[lvl], p.std[lvl]);
    if job.rng.is_reference() {
        job.rng.fill_normal(&mut layer, mean, std);
    } else {
        // Fast mode: vectorised Box–Muller normals (f32, truncated at ±5.77σ) instead of the
        // generator's per-value f64 sampler, several times cheaper; only the distribution of
        // the layer matters (ALGORITHMS.md §4.8, fast mode).
        let z = normal::fast_standard_normals(job.rng, w * h);
        for (l, &z) in layer.iter_mut().zip(z.iter()) {
            *l = mean + std * z as f64;
        }
    }
    let (mut zoomed, zh, zw) = clipped_zoom_plane(&layer, h, w, p.zoom[lvl]);
    // back to the pool now: `blurred` below can take this (cache-warm) plane
    drop(layer);
    let threshold = p.threshold[lvl];
    for v in &mut zoomed {
        let x = *v;
        // L[L < t] = 0, then clip(L, 0, 1) (select form, vectorises)
        let x = if x < threshold { 0.0 } else { x };
        let x = if x > 0.0 { x } else { 0.0 };
        *v = if x < 1.0 { x } else { 1.0 };
    }
    let angle = job.rng.uniform(-135.0, -45.0);
    let kernel = MotionKernel::new(p.blur_radius[lvl], p.blur_sigma[lvl], angle);
    let (mut zh, mut zw) = (zh, zw);
    if p.layer == Layer::Imagemagick {
        // The original: centred trim to H×W, trunc_u8(L·255) into an 8-bit PNG, ImageMagick's
        // blur (8-bit result). Its levels t/255 go through the same blend (whose
        // round(v·255)/255 gives t back).
        let (t0, l0) = ((zh - h) / 2, (zw - w) / 2);
        let mut l8 = Buf::<f64>::take(w * h);
        for r in 0..h {
            for c in 0..w {
                l8[r * w + c] = ((zoomed[(t0 + r) * zw + l0 + c] * 255.0) as u8) as f64;
            }
        }
        zoomed = l8;
        let mut b = Buf::<f64>::take(w * h);
        motion_blur(&zoomed, &mut b, h, w, 1, &kernel);
        for (z, &v) in zoomed.iter_mut().zip(b.iter()) {
            *z = crate::kernels::motion::imagemagick_u8(v) as f64 / 255.0;
        }
        (zh, zw) = (h, w);
    }
    let mut blurred = Buf::<f64>::take(zw * zh);
    if p.layer == Layer::Imagemagick {
        blurred.copy_from_slice(&zoomed);
    } else if job.rng.is_reference() {
        motion_blur(&zoomed, &mut blurred, zh, zw, 1, &kernel);
    } else {
        // fast mode: f32 FMA sums (ALGORITHMS.md §4.8, fast mode)
        motion_blur_f64_fast(&zoomed, &mut blurred, zh, zw, 1, &kernel);
    }
    // np.round(L·255).astype(uint8) / 255 of the layer cropped to [:H, :W], then per image
    // row: cv2.cvtColor(RGB2GRAY) on f32, ·1.5 + 0.5 (f32). The opencv-python build of the
    // reference runs this through IPP, which evaluates the weighted sum as
    // fma(B, 0.114, fma(R, 0.299, G·0.587)), single rounding per fma; the plain left-to-right
    // sum differs in the last bit for ~10 % of colours, enough to move a truncated output
    // across an integer (ALGORITHMS.md Appendix C snow s1: 19 pixels). That form equals cv2 for all 2²⁴
    // colours (checked against the oracle). Then y = b·x + (1−b)·max(x, lift) (f32) and
    // clip((y + L) + rot180(L), 0, 1)·255 (f64), rot180 taking pixel (H−1−r, W−1−c): all
    // fused in blend::snow_row.
    let b = p.blend[lvl] as f32;
    let nb = (1.0 - p.blend[lvl]) as f32;
    for r in 0..h {
        let srow = &job.src[r * 3 * w..(r + 1) * 3 * w];
        let drow = &mut job.dst[r * 3 * w..(r + 1) * 3 * w];
        let brow = &blurred[r * zw..r * zw + w];
        let rrow = &blurred[(h - 1 - r) * zw..(h - 1 - r) * zw + w];
        blend::snow_row(srow, brow, rrow, b, nb, drow);
    }
    Ok(())
}
