//! `circular_motion_blur` (CIFAR-10-C-bar; ALGORITHMS.md §10.8): a Gaussian-weighted
//! average of 21 rotations of the image about its centre.

use super::{bilinear_zero, clip_trunc, fp, identity, magnitude_params, to_f32};
use crate::corruptions::Job;
use crate::error::Result;

magnitude_params!("circular_motion_blur", [2.8, 3.6, 4.4, 5.2, 6.0]);

/// Number of rotations.
const STEPS: usize = 21;

/// Rotations by `t·fp(s, 15)` degrees, `t` evenly in `[−1, 1]`, weighted `exp(−2t²)`;
/// each rotation samples bilinearly, and a position outside `[0, n − 1]` on either axis is
/// black (the reference: `scipy.ndimage.rotate`, cubic spline, mode `constant`, which does
/// not interpolate past the edge: this is what darkens the borders).
pub fn circular_motion_blur(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let amount = fp(s, 15.0);
    if amount == 0.0 {
        identity(job);
        return Ok(());
    }
    let (w, h) = (job.width, job.height);
    let img = to_f32(job.src);
    let mut acc = vec![0.0f32; w * h * 3];
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    let mut total = 0.0f32;
    for i in 0..STEPS {
        let t = 2.0 * i as f64 / (STEPS - 1) as f64 - 1.0;
        let weight = (-2.0 * t * t).exp() as f32;
        total += weight;
        let (sa, ca) = (t * amount).to_radians().sin_cos();
        let (sa, ca) = (sa as f32, ca as f32);
        for y in 0..h {
            let dy = y as f32 - cy;
            for x in 0..w {
                let dx = x as f32 - cx;
                let (sy, sx) = (cy + ca * dy - sa * dx, cx + sa * dy + ca * dx);
                if !(0.0..=h as f32 - 1.0).contains(&sy) || !(0.0..=w as f32 - 1.0).contains(&sx) {
                    continue;
                }
                let px = bilinear_zero(&img, w, h, sy, sx);
                let k = (y * w + x) * 3;
                for c in 0..3 {
                    acc[k + c] += weight * px[c];
                }
            }
        }
    }
    for (d, v) in job.dst.iter_mut().zip(&acc) {
        *d = clip_trunc(*v / total);
    }
    Ok(())
}
