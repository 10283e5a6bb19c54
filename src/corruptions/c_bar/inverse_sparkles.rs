//! `inverse_sparkles` (ImageNet-C-bar, CIFAR-10-C-bar; ALGORITHMS.md §11.2): the image seen
//! only through one star burst, white elsewhere.

use super::{fp, magnitude_params, side, toward_white_row, Burst};
use crate::corruptions::Job;
use crate::error::Result;

magnitude_params!("inverse_sparkles", [1.0, 2.0, 4.0, 9.0, 10.0]);

/// One burst of radius `side/4` centred uniformly in the middle half of each axis, 50–199
/// rays of length `r·(1 + 0.25·N(0,1))`, exponent `fp(s, 65)/50`: the output is
/// `255 + f·(x − 255)`, so a larger magnitude shrinks the visible star.
pub fn inverse_sparkles(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let (w, h) = (job.width, job.height);
    let centre = (
        (job.rng.uniform(0.25, 0.75) * h as f64) as f32,
        (job.rng.uniform(0.25, 0.75) * w as f64) as f32,
    );
    let nrays = job.rng.randint(50, 200) as usize;
    let radius = (0.25 * side(job)) as f32;
    let burst = Burst {
        centre,
        rays: (0..nrays)
            .map(|_| radius + 0.25 * radius * job.rng.standard_normal() as f32)
            .collect(),
        exponent: (fp(s, 65.0) / 50.0) as f32,
    };
    let mut row = vec![1.0f32; w];
    let ext = burst.extended_rays();
    let mut row3 = vec![0.0f32; w * 3];
    for y in 0..h {
        if s != 0.0 {
            // (at exponent 0, g = 1 everywhere: magnitude 0 is the clean image)
            burst.weight_row(y as f32, &ext, &mut row);
        }
        let r = y * w * 3..(y + 1) * w * 3;
        // 255 + f·(x − 255) = 255 − (255 − x)·f exactly (the negation is exact)
        toward_white_row(&job.src[r.clone()], &row, &mut row3, &mut job.dst[r]);
    }
    Ok(())
}
