//! `perlin_noise` (ImageNet-C-bar; ALGORITHMS.md §11.5): turbulent Perlin gradient noise
//! blended over the image.

use super::{clip_trunc, fp, magnitude_params, side};
use crate::corruptions::Job;
use crate::error::Result;
use crate::simd::dispatch;

magnitude_params!("perlin_noise", [4.6, 5.2, 5.8, 7.6, 8.8]);

/// One octave's frequency and, per column, its lattice cell, fraction and fade.
type Octave = (f32, Vec<usize>, Vec<f32>, Vec<f32>);

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
    let w = job.width;
    // Per octave, what depends on the column only: its lattice cell, fraction and fade.
    let octaves: Vec<Octave> = [1.0f32, 2.0, 4.0, 8.0, 16.0]
        .iter()
        .map(|&f| {
            let mut cell = Vec::with_capacity(w);
            let mut frac = Vec::with_capacity(w);
            let mut fade = Vec::with_capacity(w);
            for x in 0..w {
                let (b0, r0) = split(f * (x as f32 / period));
                cell.push(b0);
                frac.push(r0);
                fade.push(r0 * r0 * (3.0 - 2.0 * r0));
            }
            (f, cell, frac, fade)
        })
        .collect();
    let mut coef = vec![0.0f32; 4 * w];
    let mut t = vec![0.0f32; w];
    for y in 0..job.height {
        let py = y as f32 / period;
        t.fill(0.0);
        for (f, cell, frac, fade) in &octaves {
            lattice.row_coefficients(f * py, cell, &mut coef);
            let (a0, rest) = coef.split_at(w);
            let (a1, rest) = rest.split_at(w);
            let (b0, b1) = rest.split_at(w);
            accumulate(&mut t, [a0, a1, b0, b1], frac, fade, 1.0 / f);
        }
        let row = y * w * 3..(y + 1) * w * 3;
        for ((px, d), &tv) in job.src[row.clone()]
            .chunks_exact(3)
            .zip(job.dst[row].chunks_exact_mut(3))
            .zip(&t)
        {
            let v = (0.5 * tv + 0.5).clamp(0.0, 1.0) * 255.0 * alpha;
            for c in 0..3 {
                d[c] = clip_trunc((1.0 - alpha) * f32::from(px[c]) + v);
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

    /// For lattice row coordinate `x` (the image row) and each column: the coefficients
    /// `[a0, a1, b0, b1]` (each a `w`-long block of `coef`) with which the gradient noise at
    /// column fraction `r` and fade `s` is `1.5·(a + s·(b − a))`, `a = a0 + r·a1`,
    /// `b = b0 + (r − 1)·b1`: Perlin's bilinear blend of the four corner gradients with the
    /// row's part folded in. Constant over a lattice cell, so computed once per run of
    /// columns in the same cell.
    fn row_coefficients(&self, x: f32, cell: &[usize], coef: &mut [f32]) {
        let w = cell.len();
        let (bx0, rx0) = split(x);
        let bx1 = (bx0 + 1) % B;
        let rx1 = rx0 - 1.0;
        let sx = rx0 * rx0 * (3.0 - 2.0 * rx0);
        let i = self.perm[bx0];
        let j = self.perm[bx1];
        let mut start = 0;
        while start < w {
            let by0 = cell[start];
            let mut end = start + 1;
            while end < w && cell[end] == by0 {
                end += 1;
            }
            let by1 = (by0 + 1) % B;
            let gi0 = self.grad[self.perm[i + by0]];
            let gj0 = self.grad[self.perm[j + by0]];
            let gi1 = self.grad[self.perm[i + by1]];
            let gj1 = self.grad[self.perm[j + by1]];
            let k = [
                (1.0 - sx) * rx0 * gi0[0] + sx * rx1 * gj0[0],
                (1.0 - sx) * gi0[1] + sx * gj0[1],
                (1.0 - sx) * rx0 * gi1[0] + sx * rx1 * gj1[0],
                (1.0 - sx) * gi1[1] + sx * gj1[1],
            ];
            for (q, &v) in k.iter().enumerate() {
                coef[q * w + start..q * w + end].fill(v);
            }
            start = end;
        }
    }
}

/// Lattice cell (mod [`B`]) and fraction of a coordinate (≥ −4096).
#[inline]
fn split(t: f32) -> (usize, f32) {
    let t = t + 4096.0;
    let ti = t as usize; // t > 0: truncation is the floor
    (ti % B, t - ti as f32)
}

dispatch! {
    /// `t += |1.5·(a + s·(b − a))|·inv_f` over a row (see [`Lattice::row_coefficients`]).
    fn accumulate / accumulate_scalar / accumulate_avx2 (
        t: &mut [f32],
        coef: [&[f32]; 4],
        frac: &[f32],
        fade: &[f32],
        inv_f: f32,
    ) {
        let [a0, a1, b0, b1] = coef;
        let n = t.len();
        let (a0, a1, b0, b1) = (&a0[..n], &a1[..n], &b0[..n], &b1[..n]);
        let (frac, fade) = (&frac[..n], &fade[..n]);
        for x in 0..n {
            let r = frac[x];
            let a = a0[x] + r * a1[x];
            let b = b0[x] + (r - 1.0) * b1[x];
            t[x] += (1.5 * (a + fade[x] * (b - a))).abs() * inv_f;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// The scalar and AVX2 builds of the row accumulation give the same bits.
    #[test]
    fn accumulate_twins_agree() {
        let n = 45;
        let v = |k: usize| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 7 + k) % 13) as f32 * 0.1 - 0.6)
                .collect()
        };
        let (a0, a1, b0, b1, fr, fa) = (v(1), v(2), v(3), v(4), v(5), v(6));
        let mut a = vec![0.25f32; n];
        accumulate_scalar(&mut a, [&a0, &a1, &b0, &b1], &fr, &fa, 0.5);
        assert!(a.iter().any(|&x| x != 0.25));
        for isa in simd::available() {
            let mut b = vec![0.25f32; n];
            dispatch!(at isa; accumulate_scalar / accumulate_avx2(&mut b, [&a0, &a1, &b0, &b1], &fr, &fa, 0.5));
            assert_eq!(a, b);
        }
    }
}
