//! `perlin_noise` (ImageNet-C-bar; ALGORITHMS.md §11.5): turbulent Perlin gradient noise
//! blended over the image.

use super::{clip_trunc, fp, magnitude_params, side};
use crate::corruptions::Job;
use crate::error::Result;

magnitude_params!("perlin_noise", [4.6, 5.2, 5.8, 7.6, 8.8]);

/// Lattice size of the gradient table (Perlin's `B`).
const B: usize = 256;

/// `(1 − α)·x + 255·α·clip(½·turbulence + ½, 0, 1)` with `α = fp(s, 0.5)`; turbulence is
/// `Σ |noise(f·p)|/f` over `f = 1, 2, 4, 8, 16` at `p` = pixel/(32·side/224), from a freshly
/// shuffled gradient lattice.
pub fn perlin_noise(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let alpha = fp(s, 0.5) as f32;
    let lattice = Lattice::new(job);
    let period = (32.0 * side(job) / 224.0) as f32;
    for y in 0..job.height {
        for x in 0..job.width {
            let (py, px) = (y as f32 / period, x as f32 / period);
            let mut t = 0.0f32;
            let mut f = 1.0f32;
            while f <= 16.0 {
                t += lattice.noise(f * py, f * px).abs() / f;
                f *= 2.0;
            }
            let v = (0.5 * t + 0.5).clamp(0.0, 1.0) * 255.0 * alpha;
            let i = (y * job.width + x) * 3;
            for c in 0..3 {
                job.dst[i + c] = clip_trunc((1.0 - alpha) * f32::from(job.src[i + c]) + v);
            }
        }
    }
    Ok(())
}

/// Perlin's 2-D gradient lattice: a permutation and unit gradients, both drawn per call.
struct Lattice {
    perm: Vec<usize>,
    grad: Vec<[f32; 2]>,
}

impl Lattice {
    fn new(job: &mut Job<'_>) -> Lattice {
        let mut grad = Vec::with_capacity(2 * B + 2);
        for _ in 0..2 * B + 2 {
            let gx = (job.rng.randint(0, 2 * B as i64) - B as i64) as f32 / B as f32;
            let gy = (job.rng.randint(0, 2 * B as i64) - B as i64) as f32 / B as f32;
            let n = (gx * gx + gy * gy).sqrt();
            grad.push(if n > 0.0 {
                [gx / n, gy / n]
            } else {
                [0.0, 0.0]
            });
        }
        let mut perm: Vec<usize> = (0..2 * B + 2).collect();
        for i in (0..B).rev() {
            let j = job.rng.randint(0, B as i64) as usize;
            perm.swap(i, j);
        }
        for i in 0..B + 2 {
            perm[B + i] = perm[i];
            grad[B + i] = grad[i];
        }
        Lattice { perm, grad }
    }

    /// Gradient noise at (x, y), roughly in `[−1, 1]` (the reference's 1.5 scale).
    #[inline]
    fn noise(&self, x: f32, y: f32) -> f32 {
        let split = |t: f32| {
            let t = t + 4096.0;
            let b0 = (t as usize) % B;
            let r0 = t.fract();
            (b0, (b0 + 1) % B, r0, r0 - 1.0)
        };
        let (bx0, bx1, rx0, rx1) = split(x);
        let (by0, by1, ry0, ry1) = split(y);
        let i = self.perm[bx0];
        let j = self.perm[bx1];
        let g = |k: usize, a: f32, b: f32| {
            let gr = self.grad[k];
            a * gr[0] + b * gr[1]
        };
        let sx = rx0 * rx0 * (3.0 - 2.0 * rx0);
        let sy = ry0 * ry0 * (3.0 - 2.0 * ry0);
        let u = g(self.perm[i + by0], rx0, ry0);
        let v = g(self.perm[j + by0], rx1, ry0);
        let a = u + sx * (v - u);
        let u = g(self.perm[i + by1], rx0, ry1);
        let v = g(self.perm[j + by1], rx1, ry1);
        let b = u + sx * (v - u);
        1.5 * (a + sy * (b - a))
    }
}
