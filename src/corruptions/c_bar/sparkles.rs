//! `sparkles` (ImageNet-C-bar, CIFAR-10-C-bar; ALGORITHMS.md §11.2): five white star bursts
//! at random places.

use super::{fp, identity, magnitude_params, side, toward_white_row, Burst};
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
    // x ← x + f·(255 − x) burst after burst is 255 − (255 − x)·Π(1 − f): one product per
    // pixel, then one multiply per value
    let mut f = vec![0.0f32; w];
    let mut keep = vec![0.0f32; w];
    let mut keep3 = vec![0.0f32; w * 3];
    let ext: Vec<Vec<f32>> = bursts.iter().map(Burst::extended_rays).collect();
    for y in 0..h {
        keep.fill(1.0);
        for (b, e) in bursts.iter().zip(&ext) {
            b.weight_row(y as f32, e, &mut f);
            for (k, &fb) in keep.iter_mut().zip(&f) {
                *k *= 1.0 - fb;
            }
        }
        let row = y * w * 3..(y + 1) * w * 3;
        toward_white_row(&job.src[row.clone()], &keep, &mut keep3, &mut job.dst[row]);
    }
    Ok(())
}
