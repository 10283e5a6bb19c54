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
    let mut sums = [0f64; 3];
    for px in job.src.chunks_exact(3) {
        for ch in 0..3 {
            sums[ch] += px[ch] as f64 / 255.0;
        }
    }
    let count = (job.width * job.height) as f64;
    let mut lut = [[0u8; 256]; 3];
    for ch in 0..3 {
        let mean = sums[ch] / count;
        for v in 0..256 {
            lut[ch][v] = unit_to_u8((v as f64 / 255.0 - mean) * c + mean);
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
    let small = resample::box_resize(job.src, w, h, 3, sw, sh);
    resample::nearest_resize(&small, sw, sh, 3, job.dst, w, h);
    Ok(())
}

/// JPEG round trip at the severity's quality, exactly as Pillow + libjpeg-turbo with default
/// settings (4:2:0, islow DCT, fancy upsampling), without the entropy coding.
pub fn jpeg_compression(job: &mut Job<'_>) -> Result<()> {
    let q = job.preset.jpeg_compression.quality[job.level];
    jpeg::roundtrip_rgb(job.src, job.width, job.height, q, job.dst);
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
/// The constants come from the preset (`sigma_scale`, `amplitude_scale`, `alpha`); the
/// ImageNet-C variant (affine warp first, §5.3) can be added as a preset-selected branch here.
pub fn elastic_transform(job: &mut Job<'_>) -> Result<()> {
    use crate::kernels::gaussian::{gaussian_filter, Mode};
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
    let mut field = Buf::<f64>::take(h * w);
    let mut displacement = |rng: &mut dyn crate::rng::RandomSource| -> Buf<f32> {
        rng.fill_uniform(&mut field, -amp, amp);
        gaussian_filter(&mut field, h, w, 1, sigma_r, sigma_c, 3.0, Mode::Reflect);
        let mut d = Buf::<f32>::take(h * w);
        for (o, &v) in d.iter_mut().zip(field.iter()) {
            *o = (v * alpha) as f32;
        }
        d
    };
    let dx = displacement(job.rng);
    let dy = displacement(job.rng);
    let mut out = Buf::<f32>::take(img.len());
    map_coords::remap_reflect(&img, h, w, 3, &dy, &dx, &mut out);
    for (d, &v) in job.dst.iter_mut().zip(out.iter()) {
        *d = (v.clamp(0.0, 1.0) * 255.0f32) as u8;
    }
    Ok(())
}
