//! `cocentric_sine_waves` (ImageNet-C-bar; ALGORITHMS.md §11.3): saw-tooth rings around a
//! random centre, their radius wobbled by a sine of the angle, added to the image.

use super::{clip_trunc, fp, magnitude_params, side};
use crate::corruptions::Job;
use crate::error::Result;

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
    for y in 0..job.height {
        let dy = y as f32 - y0;
        for x in 0..job.width {
            let dx = x as f32 - x0;
            let angle = dx.atan2(dy) * freq;
            let d = ((dx * dx + dy * dy).sqrt() + angle.sin() * amplitude).rem_euclid(ring) / ring;
            let add = intensity * (d - 0.5);
            let i = (y * job.width + x) * 3;
            for c in 0..3 {
                job.dst[i + c] = clip_trunc(f32::from(job.src[i + c]) + add);
            }
        }
    }
    Ok(())
}
