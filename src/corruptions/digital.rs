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
