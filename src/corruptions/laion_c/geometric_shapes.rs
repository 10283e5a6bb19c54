//! `geometric_shapes` (LAION-C; ALGORITHMS.md §12.5): N solid shapes pasted at random.
//!
//! Per shape, in the reference's draw order: the kind (`choice` of triangle, square, star,
//! circle), the anchor (`randint(0, W)`, `randint(0, H)`), the size `randint(6, 16)`, the
//! colour (three `randint(0, 256)`) and the rotation `randint(0, 360)` (used by the star only).
//! With `--rng numpy` these are the reference's values after `np.random.seed(seed)`.
//!
//! Shapes as `apply_distortions.draw_shape` draws them with PIL (pixel centres on integer
//! coordinates, edges included): triangle (0,0),(s,0),(s/2,s); square and circle in the box
//! [x, x+s]²; star: ten points alternating radius s/1.2 and s/2.4 at angles
//! `i·18° + rotation`, (x + r·sin, y + r·cos). The rasteriser is ours (inclusive scanline
//! fill at integer coordinates), not PIL's: a pixel on a shape's edge can differ
//! (test `laion_c_geometric_shapes_close_to_pil` holds the agreement).

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;

/// The `[geometric_shapes]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Number of shapes per severity.
    pub count: Row<usize>,
    /// Smallest size (inclusive) in pixels (LAION-C: 6).
    pub min_size: i64,
    /// Largest size (exclusive) in pixels (LAION-C: 16).
    pub max_size: i64,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "geometric_shapes.count",
            &self.count.map(|v| v as f64),
            |v| v <= 1e6,
            "at most 1000000",
        )?;
        if !(1..=4096).contains(&self.min_size)
            || self.max_size <= self.min_size
            || self.max_size > 4097
        {
            return Err("geometric_shapes: need 1 <= min_size < max_size <= 4097".into());
        }
        Ok(())
    }

    /// LAION-C's values (apply_distortions.py), so that preset files without this table
    /// (written before LAION-C existed) still load.
    fn when_missing() -> Option<Self> {
        Some(Params {
            count: [150, 300, 600, 800, 1000],
            min_size: 6,
            max_size: 16,
        })
    }
}

/// Fill the polygon `pts` (inclusive of its edges, samples at integer coordinates).
fn fill_polygon(dst: &mut [u8], w: usize, h: usize, pts: &[(f64, f64)], ink: [u8; 3]) {
    let ymin = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let ymax = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let y0 = ymin.ceil().max(0.0) as i64;
    let y1 = ymax.floor().min(h as f64 - 1.0) as i64;
    let mut xs: Vec<f64> = Vec::with_capacity(pts.len());
    for y in y0..=y1 {
        let yf = y as f64;
        xs.clear();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for k in 0..pts.len() {
            let (a, b) = (pts[k], pts[(k + 1) % pts.len()]);
            if a.1 == b.1 {
                if a.1 == yf {
                    // a horizontal edge on this row is part of the shape
                    lo = lo.min(a.0.min(b.0));
                    hi = hi.max(a.0.max(b.0));
                }
                continue;
            }
            let (top, bot) = if a.1 < b.1 { (a, b) } else { (b, a) };
            // half-open in y so that a shared vertex counts once, plus the bottom row
            if (yf >= top.1 && yf < bot.1) || yf == ymax && yf == bot.1 {
                xs.push(top.0 + (yf - top.1) * (bot.0 - top.0) / (bot.1 - top.1));
            }
        }
        xs.sort_by(f64::total_cmp);
        let mut spans: Vec<(f64, f64)> = xs.chunks_exact(2).map(|c| (c[0], c[1])).collect();
        if lo <= hi {
            spans.push((lo, hi));
        }
        for (a, b) in spans {
            let xa = a.ceil().max(0.0) as i64;
            let xb = b.floor().min(w as f64 - 1.0) as i64;
            for x in xa..=xb {
                let i = (y as usize * w + x as usize) * 3;
                dst[i..i + 3].copy_from_slice(&ink);
            }
        }
    }
}

/// Fill the ellipse inscribed in the box [x0, x1] × [y0, y1] (edges included).
fn fill_ellipse(
    dst: &mut [u8],
    w: usize,
    h: usize,
    (x0, y0, x1, y1): (f64, f64, f64, f64),
    ink: [u8; 3],
) {
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    // half-pixel larger radii: PIL's ellipse covers the box's end pixels
    let (rx, ry) = ((x1 - x0) / 2.0 + 0.5, (y1 - y0) / 2.0 + 0.5);
    let ys = y0.max(0.0) as i64;
    let ye = y1.min(h as f64 - 1.0) as i64;
    for y in ys..=ye {
        let dy = (y as f64 - cy) / ry;
        let t = 1.0 - dy * dy;
        if t < 0.0 {
            continue;
        }
        let half = rx * t.sqrt();
        let xa = (cx - half).ceil().max(x0).max(0.0) as i64;
        let xb = (cx + half).floor().min(x1).min(w as f64 - 1.0) as i64;
        for x in xa..=xb {
            let i = (y as usize * w + x as usize) * 3;
            dst[i..i + 3].copy_from_slice(&ink);
        }
    }
}

/// Paste the shapes.
pub fn geometric_shapes(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let (w, h) = (job.width, job.height);
    job.dst.copy_from_slice(job.src);
    for _ in 0..p.count[job.level] {
        let kind = job.rng.randint(0, 4);
        let x = job.rng.randint(0, w as i64) as f64;
        let y = job.rng.randint(0, h as i64) as f64;
        let s = job.rng.randint(p.min_size, p.max_size) as f64;
        let ink = [
            job.rng.randint(0, 256) as u8,
            job.rng.randint(0, 256) as u8,
            job.rng.randint(0, 256) as u8,
        ];
        let rotation = job.rng.randint(0, 360) as f64;
        match kind {
            0 => fill_polygon(
                job.dst,
                w,
                h,
                &[(x, y), (x + s, y), (x + s / 2.0, y + s)],
                ink,
            ),
            1 => fill_polygon(
                job.dst,
                w,
                h,
                &[(x, y), (x + s, y), (x + s, y + s), (x, y + s)],
                ink,
            ),
            2 => {
                let outer = s / 1.2;
                let inner = outer / 2.0;
                let pts: Vec<(f64, f64)> = (0..10)
                    .map(|i| {
                        let angle = (i as f64 * 180.0 / 5.0 + rotation).to_radians();
                        let r = if i % 2 == 0 { outer } else { inner };
                        (x + r * angle.sin(), y + r * angle.cos())
                    })
                    .collect();
                fill_polygon(job.dst, w, h, &pts, ink);
            }
            _ => fill_ellipse(job.dst, w, h, (x, y, x + s, y + s), ink),
        }
    }
    Ok(())
}
