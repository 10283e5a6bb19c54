//! `mosaic` (LAION-C; ALGORITHMS.md §12.1): the image rebuilt from training-image tiles.
//!
//! The image is cut into t×t cells; each cell is replaced by the bank tile whose mean colour
//! is nearest (Euclidean RGB, exact nearest neighbour as the reference's SciPy KDTree) to the
//! cell's colour. The grid is centred: when t does not divide the size (LAION-C level 2,
//! t = 6 at 224) the outer cells are cut, as the reference's tiling of a 252 crop cut back to
//! 224 is (same cell boundaries at 224). Cell colour: the cell's mean (the reference reads it
//! from a bicubic PIL downscale by t, a weighted mean over a slightly wider window).

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::{Error, Result};

/// The `[mosaic]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Tile side in pixels per severity.
    pub tile: Row<usize>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "mosaic.tile",
            &self.tile.map(|v| v as f64),
            |v| (1.0..=1024.0).contains(&v),
            "in 1..=1024",
        )
    }

    /// LAION-C's values (apply_distortions.py), so that preset files without this table
    /// (written before LAION-C existed) still load.
    fn when_missing() -> Option<Self> {
        Some(Params {
            tile: [4, 6, 8, 16, 28],
        })
    }
}

/// Offset of a centred grid of cells of side `t` over `n` pixels (≥ 0: how far the first
/// cell starts before pixel 0).
pub fn grid_offset(n: usize, t: usize) -> usize {
    (n.div_ceil(t) * t - n) / 2
}

/// Replace every cell by its nearest bank tile.
pub fn mosaic(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let bank = super::bank(job, "mosaic")?;
    let t = p.tile[job.level];
    let tiles = bank.tiles(t).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "mosaic: the tile bank has no {t}-pixel tiles (load it with the preset's sizes)"
        ))
    })?;
    let (w, h) = (job.width, job.height);
    let (ox, oy) = (grid_offset(w, t), grid_offset(h, t));
    let (cols, rows) = (w.div_ceil(t), h.div_ceil(t));
    for cy in 0..rows {
        // cell rows in image coordinates, clipped
        let y0 = (cy * t).saturating_sub(oy);
        let y1 = ((cy + 1) * t).saturating_sub(oy).min(h);
        if y0 >= y1 {
            continue;
        }
        for cx in 0..cols {
            let x0 = (cx * t).saturating_sub(ox);
            let x1 = ((cx + 1) * t).saturating_sub(ox).min(w);
            if x0 >= x1 {
                continue;
            }
            let mut s = [0u64; 3];
            for y in y0..y1 {
                for px in job.src[(y * w + x0) * 3..(y * w + x1) * 3].chunks_exact(3) {
                    s[0] += u64::from(px[0]);
                    s[1] += u64::from(px[1]);
                    s[2] += u64::from(px[2]);
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as f32;
            let mean = [s[0] as f32 / n, s[1] as f32 / n, s[2] as f32 / n];
            let tile = tiles.tile(tiles.nearest(mean));
            // the tile's pixel (ty, tx) lands on (cy·t + ty − oy, cx·t + tx − ox)
            for y in y0..y1 {
                let ty = y + oy - cy * t;
                let tx0 = x0 + ox - cx * t;
                let src = &tile[(ty * t + tx0) * 3..(ty * t + tx0 + (x1 - x0)) * 3];
                job.dst[(y * w + x0) * 3..(y * w + x1) * 3].copy_from_slice(src);
            }
        }
    }
    Ok(())
}
