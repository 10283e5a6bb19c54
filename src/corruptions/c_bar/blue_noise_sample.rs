//! `blue_noise_sample` (ImageNet-C-bar, CIFAR-10-C-bar; ALGORITHMS.md §11.1): keeps the
//! pixels where a blue-noise field exceeds a threshold, blacks out the rest.

use super::{fp, identity, magnitude_params, spectral_noise, Spectrum};
use crate::corruptions::Job;
use crate::error::Result;

magnitude_params!("blue_noise_sample", [0.8, 1.6, 2.4, 4.0, 5.6]);

/// Black where the unit-variance blue noise (amplitude ∝ frequency) is `≤ fp(s, 3) − 2.5`.
pub fn blue_noise_sample(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let [noise, _] = spectral_noise(job, Spectrum::Blue, 1);
    if s == 0.0 {
        // threshold −2.5 would still black out the deepest troughs: 0 is the clean image
        identity(job);
        return Ok(());
    }
    let threshold = (fp(s, 3.0) - 2.5) as f32;
    // a mask per pixel over zipped chunks: no index arithmetic or bounds checks per value
    for ((d, s), &n) in job
        .dst
        .chunks_exact_mut(3)
        .zip(job.src.chunks_exact(3))
        .zip(&noise)
    {
        let m = if n > threshold { 0xff } else { 0 };
        d[0] = s[0] & m;
        d[1] = s[1] & m;
        d[2] = s[2] & m;
    }
    Ok(())
}
