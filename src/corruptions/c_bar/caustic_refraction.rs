//! `caustic_refraction` (ImageNet-C-bar; ALGORITHMS.md §11.4): a procedural caustic pattern
//! is treated as the height of a lens; each pixel is refracted through it (index 4) and lit
//! by the pattern's slope.

use super::{bilinear_zero, fp, identity, magnitude_params, side, to_f32};
use crate::corruptions::Job;
use crate::error::Result;

magnitude_params!("caustic_refraction", [2.35, 3.2, 4.9, 6.6, 9.15]);

/// Refractive index of the reference's lens.
const ETA: f32 = 4.0;

/// Lens scale `fp(s, side/2)` pixels and lighting `fp(s, 2)`; pattern time `~ U(0.5, 2)`,
/// size `~ U(0.75, 1.25)·side`.
pub fn caustic_refraction(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let time = job.rng.uniform(0.5, 2.0) as f32;
    let size = (job.rng.uniform(0.75, 1.25) * side(job)) as f32;
    if s == 0.0 {
        identity(job);
        return Ok(());
    }
    let lens_scale = fp(s, 0.5 * side(job)) as f32;
    let lighting = fp(s, 2.0) as f32;
    let (w, h) = (job.width, job.height);
    let mut caustic = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            caustic[y * w + x] = caustic_at(y as f32, x as f32, time, size);
        }
    }
    let caustic = gaussian_sigma1(&caustic, w, h);
    let at = |r: isize, c: isize| -> f32 {
        if r < 0 || c < 0 || r >= h as isize || c >= w as isize {
            0.0
        } else {
            caustic[r as usize * w + c as usize]
        }
    };
    let img: Vec<f32> = to_f32(job.src).iter().map(|v| v / 255.0).collect();
    for y in 0..h {
        for x in 0..w {
            let (yi, xi) = (y as isize, x as isize);
            // The reference's "north/south" step the column, "west/east" the row.
            let north = at(yi, xi - 1);
            let south = at(yi, xi + 1);
            let west = at(yi - 1, xi);
            let east = at(yi + 1, xi);
            let (nx, ny) = (east - west, south - north);
            let norm = (nx * nx + ny * ny + 1.0).sqrt();
            let (nx, ny, nz) = (nx / norm, ny / norm, 1.0 / norm);
            let (mut oy, mut ox) = (0.0f32, 0.0f32);
            if nz < 1.0 - 1e-3 {
                // Snell through the normal: the refracted ray's in-plane part is
                // n_xy·(cos θₜ − n_z/η) with sin θₜ = |n_xy|/η.
                let r2 = nx * nx + ny * ny;
                let k = (1.0 - r2 / (ETA * ETA)).sqrt() - nz / ETA;
                oy = round3(nx * k * lens_scale);
                ox = round3(ny * k * lens_scale);
            }
            let mut px = bilinear_zero(&img, w, h, y as f32 + oy, x as f32 + ox);
            let light = (north - south) * lighting + (east - west) * lighting;
            let i = (y * w + x) * 3;
            for (c, v) in px.iter_mut().enumerate() {
                *v = (*v + light).clamp(0.0, 1.0);
                job.dst[i + c] = (*v * 255.0) as u8;
            }
        }
    }
    Ok(())
}

/// `np.round(v, 3)`.
#[inline]
fn round3(v: f32) -> f32 {
    (v * 1000.0).round_ties_even() / 1000.0
}

/// The reference's caustic kernel at (row, col): five iterations of a trigonometric
/// feedback whose inverse lengths accumulate into bright filaments, in `[0, 1]`.
fn caustic_at(row: f32, col: f32, time: f32, size: f32) -> f32 {
    const TAU: f32 = 6.283_185_5;
    let p0 = (row / size).rem_euclid(1.0) * TAU - 250.0;
    let p1 = (col / size).rem_euclid(1.0) * TAU - 250.0;
    let (mut i0, mut i1) = (p0, p1);
    let mut c = 1.0f32;
    const INTEN: f32 = 0.005;
    for n in 0..5 {
        let t = time * (1.0 - 3.5 / (n + 1) as f32);
        let n0 = p0 + (t - i0).cos() + (t + i1).sin();
        let n1 = p1 + (t - i1).sin() + (t + i0).cos();
        i0 = n0;
        i1 = n1;
        let a = p0 / ((i0 + t).sin() / INTEN);
        let b = p1 / ((i1 + t).cos() / INTEN);
        c += 1.0 / (a * a + b * b).sqrt();
    }
    c /= 5.0;
    c = 1.17 - c.powf(1.4);
    c.abs().powi(8).clamp(0.0, 1.0)
}

/// `scipy.ndimage.gaussian_filter(σ = 1)` (truncate 4, mode reflect) of a `w`×`h` plane.
fn gaussian_sigma1(src: &[f32], w: usize, h: usize) -> Vec<f32> {
    let taps: Vec<f32> = {
        let k: Vec<f32> = (-4..=4)
            .map(|i: i32| (-0.5 * (i * i) as f32).exp())
            .collect();
        let sum: f32 = k.iter().sum();
        k.iter().map(|v| v / sum).collect()
    };
    let reflect = |i: isize, n: usize| -> usize {
        // scipy "reflect": (d c b a | a b c d | d c b a), repeated for tiny n.
        let n = n as isize;
        let period = 2 * n;
        let m = i.rem_euclid(period);
        (if m < n { m } else { period - 1 - m }) as usize
    };
    let mut tmp = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (k, t) in taps.iter().enumerate() {
                acc += t * src[y * w + reflect(x as isize + k as isize - 4, w)];
            }
            tmp[y * w + x] = acc;
        }
    }
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (k, t) in taps.iter().enumerate() {
                acc += t * tmp[reflect(y as isize + k as isize - 4, h) * w + x];
            }
            out[y * w + x] = acc;
        }
    }
    out
}
