//! `cocentric_sine_waves` (ImageNet-C-bar; ALGORITHMS.md §11.3): saw-tooth rings around a
//! random centre, their radius wobbled by a sine of the angle, added to the image.

use super::{clip_trunc, fp, magnitude_params, side};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::fastmath;
use crate::simd::dispatch;

magnitude_params!("cocentric_sine_waves", [3.0, 5.0, 8.0, 9.0, 10.0]);

/// Adds `fp(s, 128)·(((r + sin(θ·freq)·amplitude) mod width)/width − ½)` to every channel,
/// with the centre uniform over the image, `freq ~ U(0, 10)`, amplitude and ring width
/// `~ U(0, side/10)`.
pub fn cocentric_sine_waves(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let size = side(job);
    // The reference's offset[0] pairs with the column (its `x`), offset[1] with the row.
    let x0 = job.rng.uniform(0.0, job.width as f64) as f32;
    let y0 = job.rng.uniform(0.0, job.height as f64) as f32;
    let freq = job.rng.uniform(0.0, 10.0) as f32;
    let amplitude = job.rng.uniform(0.0, size / 10.0) as f32;
    let ring = (job.rng.uniform(0.0, size / 10.0) as f32).max(f32::MIN_POSITIVE);
    let intensity = fp(s, 128.0) as f32;
    let w = job.width;
    let mut add = vec![0.0f32; w];
    for y in 0..job.height {
        ring_row(
            y as f32 - y0,
            x0,
            [freq, amplitude, ring, intensity],
            &mut add,
        );
        let row = y * w * 3..(y + 1) * w * 3;
        for ((px, d), &a) in job.src[row.clone()]
            .chunks_exact(3)
            .zip(job.dst[row].chunks_exact_mut(3))
            .zip(&add)
        {
            for c in 0..3 {
                d[c] = clip_trunc(f32::from(px[c]) + a);
            }
        }
    }
    Ok(())
}

dispatch! {
    /// The added value along one row (`dy` = row − centre row, `x0` the centre column;
    /// `k` = [freq, amplitude, ring width, intensity]), with [`fastmath`]'s atan2 and sine.
    fn ring_row / ring_row_scalar / ring_row_avx2 (dy: f32, x0: f32, k: [f32; 4], add: &mut [f32]) {
        let [freq, amplitude, ring, intensity] = k;
        for (x, a) in add.iter_mut().enumerate() {
            let dx = x as f32 - x0;
            let angle = fastmath::atan2(dx, dy) * freq;
            let v = (dx * dx + dy * dy).sqrt() + fastmath::sin(angle) * amplitude;
            // rem_euclid without the libm call: v − ring·floor(v/ring)
            let d = (v - ring * fastmath::floor_f32(v / ring)) / ring;
            let d = if d >= 1.0 { 0.0 } else { d.max(0.0) };
            *a = intensity * (d - 0.5);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// The scalar and AVX2 builds of the row give the same bits, within ±intensity/2.
    #[test]
    fn row_twins_agree() {
        let k = [3.7, 9.0, 13.5, 100.0];
        let mut a = vec![0.0f32; 53];
        ring_row_scalar(-7.25, 20.5, k, &mut a);
        assert!(a.iter().all(|v| v.abs() <= 50.0) && a.iter().any(|&v| v != a[0]));
        for isa in simd::available() {
            let mut b = vec![0.0f32; 53];
            dispatch!(at isa; ring_row_scalar / ring_row_avx2(-7.25, 20.5, k, &mut b));
            assert_eq!(a, b);
        }
    }
}
