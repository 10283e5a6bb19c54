//! Digital and colour corruptions (spec §4.11, 4.12, 4.14, 4.15, 4.19): brightness, contrast,
//! pixelate, jpeg_compression, saturate. None of them draws random numbers, so fast and numpy
//! mode give identical bytes.

use crate::corruptions::{unit_to_u8, Job};
use crate::error::Result;
use crate::kernels::hsv::{self, HsvOp};
use crate::kernels::{jpeg, resample};

/// HSV value + Δ (scikit-image `rgb2hsv`/`hsv2rgb` in f64).
pub fn brightness(job: &mut Job<'_>) -> Result<()> {
    let delta = job.preset.brightness.delta[job.level];
    hsv::adjust(job.src, job.dst, HsvOp::AddValue(delta));
    Ok(())
}

/// HSV saturation × multiplier + offset.
pub fn saturate(job: &mut Job<'_>) -> Result<()> {
    let p = &job.preset.saturate;
    hsv::adjust(
        job.src,
        job.dst,
        HsvOp::ScaleSaturation(p.multiplier[job.level], p.offset[job.level]),
    );
    Ok(())
}

/// `(x − μ)·c + μ` with μ the per-channel mean of `x = v/255`.
///
/// The output depends only on (channel, value), so after the means are known the image is
/// mapped through three 256-entry tables computed with the reference's f64 expression.
pub fn contrast(job: &mut Job<'_>) -> Result<()> {
    let c = job.preset.contrast.factor[job.level];
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

/// Pillow BOX downscale to `(int(W·c), int(H·c))`, then NEAREST back to `(W, H)`.
///
/// For images so small that `int(W·c)` is 0 (the reference refuses images under 32×32) the
/// reduced size is clamped to 1 pixel.
pub fn pixelate(job: &mut Job<'_>) -> Result<()> {
    let c = job.preset.pixelate.scale[job.level];
    let (w, h) = (job.width, job.height);
    let sw = ((w as f64 * c) as usize).max(1);
    let sh = ((h as f64 * c) as usize).max(1);
    let small = resample::box_resize_fast(job.src, w, h, 3, sw, sh);
    resample::nearest_resize(&small, sw, sh, 3, job.dst, w, h);
    Ok(())
}

/// JPEG round trip at the severity's quality, exactly as Pillow + libjpeg-turbo with default
/// settings (4:2:0, islow DCT, fancy upsampling), without the entropy coding.
pub fn jpeg_compression(job: &mut Job<'_>) -> Result<()> {
    thread_local! {
        /// Per-thread JPEG work planes, reused so repeated calls do not allocate.
        static SCRATCH: std::cell::RefCell<jpeg::JpegScratch> = std::cell::RefCell::new(jpeg::JpegScratch::new());
    }
    let q = job.preset.jpeg_compression.quality[job.level];
    SCRATCH.with(|s| {
        jpeg::roundtrip_rgb_with(
            &mut s.borrow_mut(),
            job.src,
            job.width,
            job.height,
            q,
            job.dst,
        )
    });
    Ok(())
}

/// Elastic transform, imagecorruptions variant (spec §4.13; not the ImageNet-C one of §5.3,
/// Quirk 8): two smooth random displacement fields, then bilinear resampling with reflect
/// borders.
///
/// * `img = x_u8 / 255` in f32 (`np.array(image, dtype=np.float32) / 255.`: an f32 division);
/// * `dx = f32(gaussian(U(−A, A)^{H×W}, σ, mode=reflect, truncate=3) · α)` with
///   `σ = (0.01·H, 0.01·W)` and `A = 0.005·H` for both fields; `dy` likewise, drawn after `dx`
///   (`2·H·W` uniforms in total, dx block first);
/// * `out = map_coordinates(img, (r + dy, c + dx, ch), order=1, mode='reflect')` (f32), then
///   `trunc(clip(out, 0, 1) · 255)` computed in f32.
///
/// `--rng numpy` (numpy mode) gives the reference's exact pixels (f64 field smoothing and
/// SciPy's f64 bilinear arithmetic). Fast mode (the default) draws the fields from the fast
/// generator (24-bit uniforms), smooths them in f32 with the same taps, and samples in f32
/// (exact reflect rule only where the 2×2 neighbourhood leaves the image); same statistics
/// (mean PSNR within 0.5 dB, tested). For identical fields the f32 sampling differs from the
/// exact one by < 1e-5 before quantisation (unit test), i.e. at most 1 grey level.
///
/// The constants come from the preset (`sigma_scale`, `amplitude_scale`, `alpha`); the
/// ImageNet-C variant (affine warp first, §5.3) can be added as a preset-selected branch here.
pub fn elastic_transform(job: &mut Job<'_>) -> Result<()> {
    use crate::kernels::gaussian::{gaussian_filter_streamed, Mode};
    use crate::kernels::map_coords;
    let p = &job.preset.elastic_transform;
    let alpha = p.alpha[job.level];
    let (h, w) = (job.height, job.width);
    let (sigma_r, sigma_c) = (h as f64 * p.sigma_scale, w as f64 * p.sigma_scale);
    let amp = h as f64 * p.amplitude_scale;
    use crate::kernels::scratch::Buf;
    let lut: [f32; 256] = std::array::from_fn(|v| v as f32 / 255.0f32);
    let mut img = Buf::<f32>::take(job.src.len());
    for (o, &v) in img.iter_mut().zip(job.src) {
        *o = lut[v as usize];
    }
    if !job.rng.is_reference() {
        return elastic_fast(job, &img, sigma_r, sigma_c, amp, alpha);
    }
    let mut field = Buf::<f64>::take(h * w);
    let mut displacement = |rng: &mut dyn crate::rng::RandomSource| -> Buf<f32> {
        rng.fill_uniform(&mut field, -amp, amp);
        let mut d = Buf::<f32>::take(h * w);
        // Filtered rows go straight to `f32(v · α)` (no image-sized f64 temporaries).
        gaussian_filter_streamed(
            h,
            w,
            1,
            sigma_r,
            sigma_c,
            3.0,
            Mode::Reflect,
            |k, out| out.copy_from_slice(&field[k * w..(k + 1) * w]),
            |i, row| {
                for (o, &v) in d[i * w..(i + 1) * w].iter_mut().zip(row) {
                    *o = (v * alpha) as f32;
                }
            },
        );
        d
    };
    let dx = displacement(job.rng);
    let dy = displacement(job.rng);
    let mut out = Buf::<f32>::take(img.len());
    map_coords::remap_reflect(&img, h, w, 3, &dy, &dx, &mut out);
    crate::kernels::quantise::unit_f32(&out, job.dst);
    Ok(())
}

/// Fast mode of [`elastic_transform`]: the same uniform fields smoothed in f32 (same taps,
/// rounded to f32), and bilinear sampling in f32 with the exact reflect rule at the borders.
fn elastic_fast(
    job: &mut Job<'_>,
    img: &[f32],
    sigma_r: f64,
    sigma_c: f64,
    amp: f64,
    alpha: f64,
) -> Result<()> {
    use crate::kernels::fastblur;
    use crate::kernels::gaussian::kernel1d;
    use crate::kernels::scratch::Buf;
    let (h, w) = (job.height, job.width);
    let g_rows: Vec<f32> = kernel1d(sigma_r, 3.0).iter().map(|&v| v as f32).collect();
    let g_cols: Vec<f32> = kernel1d(sigma_c, 3.0).iter().map(|&v| v as f32).collect();
    let mut draws = Buf::<u32>::take(h * w);
    let mut field = Buf::<f32>::zeroed(h * w + fastblur::PLANE_SPARE);
    let mut d = [Buf::<f32>::take(h * w), Buf::<f32>::take(h * w)];
    // U(−A, A) with 24-bit resolution from one 32-bit word per value (the fields are smoothed
    // over dozens of pixels, so the resolution is irrelevant to the result).
    let (step, lo) = ((2.0 * amp / 16777216.0) as f32, -amp as f32);
    for di in d.iter_mut() {
        job.rng.fill_u32(&mut draws);
        for (o, &v) in field.iter_mut().zip(draws.iter()) {
            *o = (v >> 8) as i32 as f32 * step + lo;
        }
        fastblur::smooth_plane_f32(&field, di, h, w, &g_rows, &g_cols, alpha as f32);
    }
    let [dx, dy] = d;
    let mut out = Buf::<f32>::take(img.len());
    fastblur::remap_reflect_f32(img, h, w, &dy, &dx, &mut out);
    crate::kernels::quantise::unit_f32(&out, job.dst);
    Ok(())
}
