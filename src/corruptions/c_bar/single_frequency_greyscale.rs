//! `single_frequency_greyscale` (ImageNet-C-bar; ALGORITHMS.md §11.3): one plane wave of
//! random frequency and phase, the same on every channel, added to the image.

use super::{clip_trunc, fp, magnitude_params};
use crate::corruptions::Job;
use crate::error::Result;
use std::f64::consts::PI;

magnitude_params!("single_frequency_greyscale", [1.0, 1.5, 2.0, 4.5, 5.0]);

/// `clip(x + fp(s, 196)·sin(col·f₀ + row·f₁ + φ))`, `f` a random frequency (radians per
/// pixel, first |f| ≤ π, the other within it, order swapped at random), `φ ~ U(0, 2π)`.
pub fn single_frequency_greyscale(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let f_mag = job.rng.uniform(-PI, PI);
    let f_2 = job.rng.uniform(-f_mag.abs(), f_mag.abs());
    let (f0, f1) = if job.rng.next_f64() < 0.5 {
        (f_mag, f_2)
    } else {
        (f_2, f_mag)
    };
    let phase = job.rng.uniform(0.0, 2.0 * PI);
    let intensity = fp(s, 196.0);
    // sin(a + b) = sin a·cos b + cos a·sin b, with a per column and b per row.
    let cols: Vec<(f64, f64)> = (0..job.width)
        .map(|x| (x as f64 * f0 + phase).sin_cos())
        .collect();
    for y in 0..job.height {
        let (sb, cb) = (y as f64 * f1).sin_cos();
        let row = y * job.width * 3;
        for (x, &(sa, ca)) in cols.iter().enumerate() {
            let add = (intensity * (sa * cb + ca * sb)) as f32;
            let i = row + x * 3;
            for c in 0..3 {
                job.dst[i + c] = clip_trunc(f32::from(job.src[i + c]) + add);
            }
        }
    }
    Ok(())
}
