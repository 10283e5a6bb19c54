//! `plasma_noise` (ImageNet-C-bar; ALGORITHMS.md §11.3): a domain-warped trigonometric
//! "plasma" colour field blended into the image.

use super::{clip_trunc, fp, magnitude_params, side};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::fastmath;
use crate::simd::dispatch;
use std::f64::consts::PI;

magnitude_params!("plasma_noise", [4.75, 7.0, 8.5, 9.25, 10.0]);

/// `clip((1 − I/255)·x + I·plasma)` with `I = fp(s, 64)`; the plasma iterates 4–6 warps of
/// the pixel position (time `~ U(0, 6π)`, sharpness `~ U(0.5, 1)`, scale
/// `~ U(0.075, 0.2)·side`), then takes three sines of the warped position as R, G, B in
/// `[−1, 1]`.
pub fn plasma_noise(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let time = job.rng.uniform(0.0, 6.0 * PI) as f32;
    let iterations = job.rng.randint(4, 7) as usize;
    let sharpness = job.rng.uniform(0.5, 1.0) as f32;
    let scale = (job.rng.uniform(0.075, 0.2) * side(job)) as f32;
    let intensity = fp(s, 64.0) as f32;
    let keep = 1.0 - intensity / 255.0;
    // The warp's per-iteration constants (the reference's i[0..3]; its i[3] stays 0).
    let mut consts = Vec::with_capacity(iterations);
    let (mut i0, mut i1, mut i2) = (1.0f32, 1.0f32, 1.0f32);
    for _ in 0..iterations {
        consts.push((i0, time / i1, 1.0 / i2));
        i0 *= 1.93;
        i1 *= 1.15;
        i2 *= 2.25 - sharpness;
    }
    let consts: Vec<[f32; 3]> = consts.iter().map(|&(a, b, c)| [a, b, c]).collect();
    let st = time.sin();
    let w = job.width;
    let mut xs = vec![0.0f32; w];
    let mut ys = vec![0.0f32; w];
    for y in 0..job.height {
        let row = y * w * 3..(y + 1) * w * 3;
        let params = [y as f32 / scale, scale, time, st, keep, intensity];
        plasma_row(
            &job.src[row.clone()],
            &mut job.dst[row],
            &consts,
            params,
            &mut xs,
            &mut ys,
        );
    }
    Ok(())
}

dispatch! {
    /// One row of the plasma blend: the warp iterated on the whole row at once (`xs`, `ys`
    /// are scratch of the row's width), with the branch-free sines of [`fastmath`], so that
    /// the loops vectorise. `params` = [row/scale, scale, time, sin(time), keep, intensity].
    fn plasma_row / plasma_row_scalar / plasma_row_avx2 (
        src: &[u8],
        dst: &mut [u8],
        consts: &[[f32; 3]],
        params: [f32; 6],
        xs: &mut [f32],
        ys: &mut [f32],
    ) {
        let [y0, scale, time, st, keep, intensity] = params;
        for (i, (x, yy)) in xs.iter_mut().zip(ys.iter_mut()).enumerate() {
            *x = i as f32 / scale;
            *yy = y0;
        }
        for &[a, b, inv] in consts {
            for (x, yy) in xs.iter_mut().zip(ys.iter_mut()) {
                let r0 = fastmath::cos(*yy * a + b) * inv;
                let r1 = fastmath::sin(*x * a + b) * inv;
                *x += r0 - 0.3 * r1;
                *yy += r1 + 0.3 * r0;
            }
        }
        // the colour (vectorised): green first, into a third pass over the same scratch
        let mut green = [0.0f32; 64];
        for start in (0..xs.len()).step_by(64) {
            let end = (start + 64).min(xs.len());
            let (xr, yr) = (&mut xs[start..end], &mut ys[start..end]);
            for k in 0..xr.len() {
                green[k] = fastmath::sin((xr[k] + yr[k] + st) * 0.5);
                xr[k] = fastmath::sin(xr[k] - time);
                yr[k] = fastmath::sin(yr[k] + time);
            }
            for (k, (px, d)) in src[start * 3..end * 3]
                .chunks_exact(3)
                .zip(dst[start * 3..end * 3].chunks_exact_mut(3))
                .enumerate()
            {
                let rgb = [xr[k], green[k], yr[k]];
                for c in 0..3 {
                    d[c] = clip_trunc(keep * f32::from(px[c]) + intensity * rgb[c]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// The scalar and AVX2 builds of the row kernel give the same bytes.
    #[test]
    fn row_twins_agree() {
        let w = 37;
        let src: Vec<u8> = (0..w * 3).map(|i| (i * 53 % 256) as u8).collect();
        let consts = [[1.0, 2.5, 1.0], [1.93, 2.1, 0.6], [3.72, 1.8, 0.4]];
        let params = [3.7, 25.0, 9.1, 0.3, 0.8, 51.2];
        let (mut xs, mut ys) = (vec![0.0; w], vec![0.0; w]);
        let mut a = vec![0u8; w * 3];
        plasma_row_scalar(&src, &mut a, &consts, params, &mut xs, &mut ys);
        assert!(a.iter().any(|&v| v != a[0]));
        for isa in simd::available() {
            let mut b = vec![0u8; w * 3];
            dispatch!(at isa; plasma_row_scalar / plasma_row_avx2(&src, &mut b, &consts, params, &mut xs, &mut ys));
            assert_eq!(a, b);
        }
    }
}
