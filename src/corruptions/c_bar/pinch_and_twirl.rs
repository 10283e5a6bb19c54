//! `pinch_and_twirl` (CIFAR-10-C-bar; ALGORITHMS.md §11.7): a grid of disks, each pinched
//! and twirled by a random-signed angle.

use serde::Deserialize;

use super::{bilinear_zero, clip_trunc, fp, to_f32};
use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::fastmath;
use crate::kernels::scratch::Buf;
use crate::simd::dispatch;
use std::f64::consts::FRAC_PI_2;

/// The `[pinch_and_twirl]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Severity 1..5 as magnitudes on the 0–10 scale.
    pub magnitude: Row<f64>,
    /// Disks per axis: the reference uses 5 at 224² and 3 otherwise (CIFAR's 32²).
    #[serde(default = "default_cells")]
    pub cells_per_axis: usize,
}

fn default_cells() -> usize {
    3
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "pinch_and_twirl.magnitude",
            &self.magnitude,
            |v| (0.0..=super::MAX_MAGNITUDE).contains(&v),
            "in [0, 10]",
        )?;
        if !(1..=64).contains(&self.cells_per_axis) {
            return Err(format!(
                "key `pinch_and_twirl.cells_per_axis`: value {} must be in 1..=64",
                self.cells_per_axis
            ));
        }
        Ok(())
    }

    fn when_missing() -> Option<Self> {
        Some(Params {
            magnitude: [5.5, 6.0, 6.5, 8.5, 10.0],
            cells_per_axis: default_cells(),
        })
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        // magnitude 0 still warps (amount 0.1); below severity 1 there is no identity table
        Some(Params {
            magnitude: crate::corruptions::params::lerp_row(&self.magnitude, s, None)?,
            cells_per_axis: self.cells_per_axis,
        })
    }
}

/// Each of `n`×`n` cells holds a disk of radius half the cell; inside it the offset from
/// the centre is scaled by `sin(π/2·d)^−amount` (amount `fp(s, 0.4) + 0.1`) and rotated by
/// `±fp(s, π/2)·(1 − d)²`, `d` = distance/radius. Cells are done column by column, each
/// sampling the image as the previous cells left it (as the reference does).
pub fn pinch_and_twirl(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let n = p.cells_per_axis;
    let angles: Vec<f32> = (0..n * n)
        .map(|_| {
            let sign = if job.rng.randint(0, 2) == 0 {
                1.0
            } else {
                -1.0
            };
            (sign * fp(s, FRAC_PI_2)) as f32
        })
        .collect();
    let amount = (fp(s, 0.4) + 0.1) as f32;
    let (w, h) = (job.width, job.height);
    let mut img = to_f32(job.src);
    let (gw, gh) = (w / n, h / n);
    let radius = gw.min(gh) as f32 / 2.0;
    if radius > 0.0 {
        // pooled: every value is written before it is read
        let mut cell = Buf::<f32>::take(gw * gh * 3);
        let (mut sy, mut sx) = (vec![0.0f32; gw], vec![0.0f32; gw]);
        for i in 0..n {
            for j in 0..n {
                let (l, u) = (i * gw, j * gh);
                let centre = (u as f32 + gh as f32 / 2.0, l as f32 + gw as f32 / 2.0);
                let angle = angles[i * n + j];
                for (y, cell_row) in (u..u + gh).zip(cell.chunks_exact_mut(gw * 3)) {
                    warp_row(
                        y as f32,
                        l,
                        centre,
                        [radius, amount, angle],
                        &mut sy,
                        &mut sx,
                    );
                    let img_row = &img[(y * w + l) * 3..(y * w + l + gw) * 3];
                    for (x, ((&r, &c), o)) in sy
                        .iter()
                        .zip(&sx)
                        .zip(cell_row.chunks_exact_mut(3))
                        .enumerate()
                    {
                        // outside the disk the position is the pixel's own, where the bilinear
                        // sample is the pixel (weight 1, the zero weights skipped): copied
                        if r == y as f32 && c == (l + x) as f32 {
                            o.copy_from_slice(&img_row[x * 3..x * 3 + 3]);
                        } else {
                            o.copy_from_slice(&bilinear_zero(&img, w, h, r, c));
                        }
                    }
                }
                let mut k = 0;
                for y in u..u + gh {
                    let row = (y * w + l) * 3;
                    img[row..row + gw * 3].copy_from_slice(&cell[k..k + gw * 3]);
                    k += gw * 3;
                }
            }
        }
    }
    for (d, v) in job.dst.iter_mut().zip(&img) {
        *d = clip_trunc(*v);
    }
    Ok(())
}

dispatch! {
    /// The source positions of row `row`, columns `l..l + sy.len()`, in the disk at `centre`
    /// (`disk` = [radius, amount, angle]); outside the disk (or at its centre) the pixel's own.
    fn warp_row / warp_row_scalar / warp_row_avx2 (
        row: f32,
        l: usize,
        centre: (f32, f32),
        disk: [f32; 3],
        sy: &mut [f32],
        sx: &mut [f32],
    ) {
        let [radius, amount, angle] = disk;
        let dy = row - centre.0;
        for (k, (oy, ox)) in sy.iter_mut().zip(sx.iter_mut()).enumerate() {
            let col = (l + k) as f32;
            let dx = col - centre.1;
            let dist = (dy * dy + dx * dx).sqrt();
            let d = dist / radius;
            let t = fastmath::pow(fastmath::sin(FRAC_PI_2 as f32 * d), -amount);
            let (wy, wx) = (dy * t, dx * t);
            let e = 1.0 - d;
            let a = angle * e * e;
            let (sa, ca) = (fastmath::sin(a), fastmath::cos(a));
            let inside = dist <= radius && fastmath::round_f32(dist * 1000.0) != 0.0;
            *oy = if inside { centre.0 + wy * ca - wx * sa } else { row };
            *ox = if inside { centre.1 + wy * sa + wx * ca } else { col };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// The scalar and AVX2 builds of the warp give the same bits; outside the disk and at its
    /// centre the position is the pixel's own.
    #[test]
    fn warp_twins_agree() {
        let n = 21;
        let (mut a, mut b) = (vec![0.0f32; n], vec![0.0f32; n]);
        warp_row_scalar(10.0, 0, (10.0, 10.0), [8.0, 1.3, 0.9], &mut a, &mut b);
        assert_eq!((a[0], b[0]), (10.0, 0.0));
        assert_eq!((a[10], b[10]), (10.0, 10.0));
        assert!(b[7] != 7.0);
        for isa in simd::available() {
            let (mut c, mut d) = (vec![0.0f32; n], vec![0.0f32; n]);
            dispatch!(at isa; warp_row_scalar / warp_row_avx2(10.0, 0, (10.0, 10.0), [8.0, 1.3, 0.9], &mut c, &mut d));
            assert_eq!((&a, &b), (&c, &d));
        }
    }
}
