//! `checkerboard_cutout` (ImageNet-C-bar, CIFAR-10-C-bar; ALGORITHMS.md §11.6): on a rotated
//! checkerboard, cells of one colour are replaced by grey with probability `fp(s, 1)`.

use super::{fp, magnitude_params};
use crate::corruptions::Job;
use crate::error::Result;
use std::f64::consts::PI;

magnitude_params!("checkerboard_cutout", [2.0, 3.0, 4.0, 5.0, 6.0]);

/// Angle `~ U(0, 2π)`, cell size `max(1, U(0.1, 0.25)·side)` (here the longer side, so that
/// the cell grid covers every pixel of a non-square image), cut cells grey 128.
pub fn checkerboard_cutout(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let size = job.width.max(job.height) as f64;
    let angle = job.rng.uniform(0.0, 2.0 * PI);
    let scale = (job.rng.uniform(0.1, 0.25) * size).max(1.0);
    let fraction = fp(s, 1.0);
    let g = ((4.0 * size) / scale).floor().max(1.0) as usize;
    let mut grid = vec![0.0f64; g * g];
    job.rng.fill_uniform(&mut grid, 0.0, 1.0);
    let (sa, ca) = angle.sin_cos();
    // Python's negative indices count from the end: wrap them the same way.
    let index = |v: f64| -> usize { (v as i64).rem_euclid(g as i64) as usize };
    for y in 0..job.height {
        for x in 0..job.width {
            let (yf, xf) = (y as f64, x as f64);
            let nx = (ca * yf + sa * xf) / scale;
            let ny = (-sa * yf + ca * xf) / scale;
            // ⌊v mod 2⌋ is the parity of ⌊v⌋ (no fmod call)
            let parity = (floor_i64(nx) & 1) != (floor_i64(ny) & 1);
            let keep = parity || grid[index(nx) * g + index(ny)] >= fraction;
            let i = (y * job.width + x) * 3;
            for c in 0..3 {
                job.dst[i + c] = if keep { job.src[i + c] } else { 128 };
            }
        }
    }
    Ok(())
}

/// `⌊v⌋` for |v| < 2⁶³, without a libm call.
#[inline]
fn floor_i64(v: f64) -> i64 {
    let t = v as i64;
    if (t as f64) > v {
        t - 1
    } else {
        t
    }
}
