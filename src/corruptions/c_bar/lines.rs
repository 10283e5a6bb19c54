//! `lines` (CIFAR-10-C-bar; ALGORITHMS.md §11.9): anti-aliased grey lines at a common
//! random direction.

use super::{fp, magnitude_params, side};
use crate::corruptions::Job;
use crate::error::Result;
use std::f64::consts::PI;

magnitude_params!("lines", [0.5, 1.0, 1.5, 2.0, 2.5]);

/// `int(fp(s, 1)·side)` lines of half-length `side` through uniform points, angle
/// `θ + 2π·v·(U − ½)` (`θ ~ U(0, 2π)`, `v ~ U(0.1, 1)`), drawn anti-aliased toward grey 128
/// one after another on the 8-bit image.
pub fn lines(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let size = side(job);
    let angle = job.rng.uniform(0.0, 2.0 * PI);
    let variation = job.rng.uniform(0.1, 1.0);
    let count = (fp(s, 1.0) * size) as usize;
    let (w, h) = (job.width as i64, job.height as i64);
    job.dst.copy_from_slice(job.src);
    for _ in 0..count {
        // The reference's `x` is the row, its `y` the column.
        let r = job.rng.next_f64() * h as f64;
        let c = job.rng.next_f64() * w as f64;
        let a = angle + 2.0 * PI * variation * (job.rng.next_f64() - 0.5);
        let (sn, cs) = (a.sin() * size, a.cos() * size);
        let (r0, r1) = ((r - cs) as i64, (r + cs) as i64);
        let (c0, c1) = ((c - sn) as i64, (c + sn) as i64);
        let dst = &mut *job.dst;
        wu_line(r0, c0, r1, c1, |rr, cc, v| {
            if rr >= 0 && cc >= 0 && rr < h && cc < w {
                let i = ((rr * w + cc) * 3) as usize;
                for k in 0..3 {
                    let old = f64::from(dst[i + k]);
                    dst[i + k] = ((1.0 - v) * old + v * 128.0) as u8;
                }
            }
        });
    }
    Ok(())
}

/// Xiaolin Wu's anti-aliased line from (r0, c0) to (r1, c1), endpoints included: at each
/// step of the major axis, the two pixels straddling the exact line get `1 − frac` and
/// `frac` (skimage's `line_aa` is the same kind of line).
fn wu_line(r0: i64, c0: i64, r1: i64, c1: i64, mut plot: impl FnMut(i64, i64, f64)) {
    let steep = (r1 - r0).abs() > (c1 - c0).abs();
    // major axis `a`, minor axis `b`
    let (a0, b0, a1, b1) = if steep {
        (r0, c0, r1, c1)
    } else {
        (c0, r0, c1, r1)
    };
    let (a0, b0, a1, b1) = if a0 > a1 {
        (a1, b1, a0, b0)
    } else {
        (a0, b0, a1, b1)
    };
    let slope = if a1 == a0 {
        0.0
    } else {
        (b1 - b0) as f64 / (a1 - a0) as f64
    };
    for a in a0..=a1 {
        let b = b0 as f64 + slope * (a - a0) as f64;
        let bi = b.floor();
        let frac = b - bi;
        let bi = bi as i64;
        for (bb, v) in [(bi, 1.0 - frac), (bi + 1, frac)] {
            if v > 0.0 {
                if steep {
                    plot(a, bb, v);
                } else {
                    plot(bb, a, v);
                }
            }
        }
    }
}
