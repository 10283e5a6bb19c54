//! `ripple` (CIFAR-10-C-bar; ALGORITHMS.md §11.7): each axis displaced by a sine of itself.

use super::{bilinear_zero, clip_trunc, fp, magnitude_params, side, to_f32};
use crate::corruptions::Job;
use crate::error::Result;
use std::f64::consts::PI;

magnitude_params!("ripple", [5.5, 6.0, 6.5, 7.5, 8.0]);

/// Samples (row, col) at `p + A·sin(2π·p/λ + φ)` per axis, `A = fp(s, 0.025)·side`,
/// `λ ~ U(0.1, 0.3)·side`, `φ ~ U(0, 2π)`, bilinear, black outside.
pub fn ripple(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let size = side(job);
    let amp = (fp(s, 0.025) * size) as f32;
    let wl = [
        (job.rng.uniform(0.1, 0.3) * size).max(1e-3) as f32,
        (job.rng.uniform(0.1, 0.3) * size).max(1e-3) as f32,
    ];
    let ph = [
        job.rng.uniform(0.0, 2.0 * PI) as f32,
        job.rng.uniform(0.0, 2.0 * PI) as f32,
    ];
    let (w, h) = (job.width, job.height);
    let img = to_f32(job.src);
    let tau = 2.0 * std::f32::consts::PI;
    let cols: Vec<f32> = (0..w)
        .map(|x| x as f32 + amp * (tau * x as f32 / wl[1] + ph[1]).sin())
        .collect();
    for y in 0..h {
        let sy = y as f32 + amp * (tau * y as f32 / wl[0] + ph[0]).sin();
        for (x, &sx) in cols.iter().enumerate() {
            let px = bilinear_zero(&img, w, h, sy, sx);
            let i = (y * w + x) * 3;
            for (c, v) in px.iter().enumerate() {
                job.dst[i + c] = clip_trunc(*v);
            }
        }
    }
    Ok(())
}
