//! `brownish_noise` (ImageNet-C-bar, CIFAR-10-C-bar; ALGORITHMS.md §11.1): additive noise of
//! amplitude spectrum `1/(f² + 1)`, independent per channel.

use super::{clip_trunc, fp, magnitude_params, spectral_noise, Spectrum};
use crate::corruptions::Job;
use crate::error::Result;

magnitude_params!("brownish_noise", [1.0, 2.0, 3.0, 4.0, 5.0]);

/// `clip(x + fp(s, 64)·n_c)` with `n_c` three unit-variance brownish fields.
pub fn brownish_noise(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let intensity = fp(s, 64.0) as f32;
    let [n0, n1] = spectral_noise(job, Spectrum::Brownish, 2);
    let [n2, _] = spectral_noise(job, Spectrum::Brownish, 1);
    for k in 0..job.width * job.height {
        let add = [n0[k], n1[k], n2[k]];
        for (c, a) in add.iter().enumerate() {
            job.dst[k * 3 + c] = clip_trunc(f32::from(job.src[k * 3 + c]) + intensity * a);
        }
    }
    Ok(())
}
