//! `plasma_noise` (ImageNet-C-bar; ALGORITHMS.md §11.3): a domain-warped trigonometric
//! "plasma" colour field blended into the image.

use super::{clip_trunc, fp, magnitude_params, side};
use crate::corruptions::Job;
use crate::error::Result;
use std::f64::consts::PI;

magnitude_params!("plasma_noise", [4.75, 7.0, 8.5, 9.25, 10.0]);

/// `clip((1 − I/255)·x + I·plasma)` with `I = fp(s, 64)`; the plasma iterates 4–6 warps of
/// the pixel position (time `~ U(0, 6π)`, sharpness `~ U(0.5, 1)`, scale
/// `~ U(0.075, 0.2)·side`), then takes three sines of the warped position as R, G, B in
/// `[−1, 1]`.
pub fn plasma_noise(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let time = job.rng.uniform(0.0, 6.0 * PI) as f32;
    let iterations = job.rng.randint(4, 7) as usize;
    let sharpness = job.rng.uniform(0.5, 1.0) as f32;
    let scale = (job.rng.uniform(0.075, 0.2) * side(job)) as f32;
    let intensity = fp(s, 64.0) as f32;
    let keep = 1.0 - intensity / 255.0;
    // The warp's per-iteration constants (the reference's i[0..3]; its i[3] stays 0).
    let mut consts = Vec::with_capacity(iterations);
    let (mut i0, mut i1, mut i2) = (1.0f32, 1.0f32, 1.0f32);
    for _ in 0..iterations {
        consts.push((i0, time / i1, 1.0 / i2));
        i0 *= 1.93;
        i1 *= 1.15;
        i2 *= 2.25 - sharpness;
    }
    let st = time.sin();
    for y in 0..job.height {
        for xi in 0..job.width {
            let mut x = xi as f32 / scale;
            let mut yy = y as f32 / scale;
            for &(a, b, inv) in &consts {
                let r0 = (yy * a + b).cos() * inv;
                let r1 = (x * a + b).sin() * inv;
                x += r0 - 0.3 * r1;
                yy += r1 + 0.3 * r0;
            }
            let rgb = [
                (x - time).sin(),
                ((x + yy + st) * 0.5).sin(),
                (yy + time).sin(),
            ];
            let i = (y * job.width + xi) * 3;
            for (c, v) in rgb.iter().enumerate() {
                job.dst[i + c] = clip_trunc(keep * f32::from(job.src[i + c]) + intensity * v);
            }
        }
    }
    Ok(())
}
