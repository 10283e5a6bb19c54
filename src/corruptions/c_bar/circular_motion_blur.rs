//! `circular_motion_blur` (CIFAR-10-C-bar; ALGORITHMS.md §11.8): a Gaussian-weighted
//! average of 21 rotations of the image about its centre.

use super::{clip_trunc, fp, identity, magnitude_params, to_f32};
use crate::corruptions::Job;
use crate::error::Result;

magnitude_params!("circular_motion_blur", [2.8, 3.6, 4.4, 5.2, 6.0]);

/// Number of rotations.
const STEPS: usize = 21;

/// Rotations by `t·fp(s, 15)` degrees, `t` evenly in `[−1, 1]`, weighted `exp(−2t²)`;
/// each rotation samples with a Keys cubic (a = −½, an interpolating cubic as sharp as the
/// reference's prefiltered cubic spline to within its statistics; bilinear sampling blurs
/// about one grey level more), and a position outside `[0, n − 1]` on either axis is black
/// (the reference: `scipy.ndimage.rotate`, cubic spline, mode `constant`, which does not
/// interpolate past the edge: this is what darkens the borders).
pub fn circular_motion_blur(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let amount = fp(s, 15.0);
    if amount == 0.0 {
        identity(job);
        return Ok(());
    }
    let (w, h) = (job.width, job.height);
    let img = to_f32(job.src);
    let mut acc = vec![0.0f32; w * h * 3];
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    let mut total = 0.0f32;
    for i in 0..STEPS {
        let t = 2.0 * i as f64 / (STEPS - 1) as f64 - 1.0;
        let weight = (-2.0 * t * t).exp() as f32;
        total += weight;
        let (sa, ca) = (t * amount).to_radians().sin_cos();
        let (sa, ca) = (sa as f32, ca as f32);
        for y in 0..h {
            let dy = y as f32 - cy;
            for x in 0..w {
                let dx = x as f32 - cx;
                let (sy, sx) = (cy + ca * dy - sa * dx, cx + sa * dy + ca * dx);
                if !(0.0..=h as f32 - 1.0).contains(&sy) || !(0.0..=w as f32 - 1.0).contains(&sx) {
                    continue;
                }
                let px = cubic(&img, w, h, sy, sx);
                let k = (y * w + x) * 3;
                for c in 0..3 {
                    acc[k + c] += weight * px[c];
                }
            }
        }
    }
    for (d, v) in job.dst.iter_mut().zip(&acc) {
        *d = clip_trunc(*v / total);
    }
    Ok(())
}

/// Keys' cubic convolution weights (a = −½) of the four taps around fraction `t`.
#[inline]
fn keys(t: f32) -> [f32; 4] {
    let t2 = t * t;
    let t3 = t2 * t;
    [
        -0.5 * t3 + t2 - 0.5 * t,
        1.5 * t3 - 2.5 * t2 + 1.0,
        -1.5 * t3 + 2.0 * t2 + 0.5 * t,
        0.5 * t3 - 0.5 * t2,
    ]
}

/// Cubic sample of an RGB f32 image at (row, col) inside `[0, h−1]×[0, w−1]`; taps past the
/// edge repeat the edge pixel.
#[inline]
fn cubic(img: &[f32], w: usize, h: usize, row: f32, col: f32) -> [f32; 3] {
    let (r0, c0) = (row.floor(), col.floor());
    let (wr, wc) = (keys(row - r0), keys(col - c0));
    let (r0, c0) = (r0 as isize, c0 as isize);
    let mut out = [0.0f32; 3];
    for (i, wy) in wr.iter().enumerate() {
        let r = (r0 + i as isize - 1).clamp(0, h as isize - 1) as usize;
        let mut line = [0.0f32; 3];
        for (j, wx) in wc.iter().enumerate() {
            let c = (c0 + j as isize - 1).clamp(0, w as isize - 1) as usize;
            let k = (r * w + c) * 3;
            line[0] += wx * img[k];
            line[1] += wx * img[k + 1];
            line[2] += wx * img[k + 2];
        }
        for ch in 0..3 {
            out[ch] += wy * line[ch];
        }
    }
    out
}
