//! `sparkles` (ImageNet-C-bar, CIFAR-10-C-bar; ALGORITHMS.md §11.2): five white star bursts
//! at random places.

use super::{clip_trunc, fp, identity, magnitude_params, side, Burst};
use crate::corruptions::Job;
use crate::error::Result;

magnitude_params!("sparkles", [1.0, 2.0, 3.0, 5.0, 6.0]);

/// Five bursts of radius `fp(s, 0.1)·side`, centres uniform over the image, 50–199 rays
/// each of length `max(1, r·(1 + 0.25·N(0,1)))`, brightening toward white with weight
/// `(1 − (f − ½)²)·length²/dist²` (amount 50), applied one after another.
pub fn sparkles(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let (w, h) = (job.width, job.height);
    let centres: Vec<(f32, f32)> = (0..5)
        .map(|_| {
            (
                job.rng.uniform(0.0, h as f64) as f32,
                job.rng.uniform(0.0, w as f64) as f32,
            )
        })
        .collect();
    let nrays: Vec<usize> = (0..5).map(|_| job.rng.randint(50, 200) as usize).collect();
    let radius = (fp(s, 0.1) * side(job)) as f32;
    if radius == 0.0 {
        identity(job);
        return Ok(());
    }
    let bursts: Vec<Burst> = centres
        .iter()
        .zip(&nrays)
        .map(|(&centre, &n)| Burst {
            centre,
            rays: (0..n)
                .map(|_| (radius + 0.25 * radius * job.rng.standard_normal() as f32).max(1.0))
                .collect(),
            exponent: 1.0,
        })
        .collect();
    let mut f = vec![0.0f32; w * bursts.len()];
    let ext: Vec<Vec<f32>> = bursts.iter().map(Burst::extended_rays).collect();
    for y in 0..h {
        for ((b, e), row) in bursts.iter().zip(&ext).zip(f.chunks_exact_mut(w)) {
            b.weight_row(y as f32, e, row);
        }
        let row = y * w * 3..(y + 1) * w * 3;
        for (x, (s, d)) in job.src[row.clone()]
            .chunks_exact(3)
            .zip(job.dst[row].chunks_exact_mut(3))
            .enumerate()
        {
            let mut px = [f32::from(s[0]), f32::from(s[1]), f32::from(s[2])];
            for b in 0..bursts.len() {
                let fb = f[b * w + x];
                for v in px.iter_mut() {
                    *v += fb * (255.0 - *v);
                }
            }
            for (o, v) in d.iter_mut().zip(px) {
                *o = clip_trunc(v);
            }
        }
    }
    Ok(())
}
