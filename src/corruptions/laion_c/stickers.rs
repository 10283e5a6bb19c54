//! `stickers` (LAION-C; ALGORITHMS.md §12.2): N 16×16 training-image tiles pasted at random.
//!
//! Draw order of the reference's `sticker_augmentations` for one image: the N tile indices
//! (`choice(len(bank), N)`), 2N unused positions (`choice(H − 16, (N, 2))`, drawn and thrown
//! away by the reference; drawn here too so that `--rng numpy` follows its stream), then per
//! sticker one index into the row-major list of free positions, all (y, x) with y < H − 16
//! and x < W − 16 (the availability mask is never updated: stickers overlap). Each sticker
//! replaces the pixels under it. Images smaller than 17 pixels on a side: positions on the
//! one row/column 0 and the sticker clipped (the reference has no free position there).

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::{Error, Result};

/// The `[stickers]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Number of stickers per severity.
    pub count: Row<usize>,
    /// Sticker side in pixels (LAION-C: 16).
    pub tile: usize,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "stickers.count",
            &self.count.map(|v| v as f64),
            |v| v <= 1e6,
            "at most 1000000",
        )?;
        if !(1..=1024).contains(&self.tile) {
            return Err("stickers.tile must be in 1..=1024".into());
        }
        Ok(())
    }

    /// LAION-C's values (apply_distortions.py), so that preset files without this table
    /// (written before LAION-C existed) still load.
    fn when_missing() -> Option<Self> {
        Some(Params {
            count: [100, 200, 400, 600, 1200],
            tile: 16,
        })
    }
}

/// Paste the stickers.
pub fn stickers(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let bank = super::bank(job, "stickers")?;
    let t = p.tile;
    let tiles = bank.tiles(t).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "stickers: the tile bank has no {t}-pixel tiles (load it with the preset's sizes)"
        ))
    })?;
    let (w, h) = (job.width, job.height);
    let n = p.count[job.level];
    job.dst.copy_from_slice(job.src);
    let picks: Vec<usize> = (0..n)
        .map(|_| job.rng.randint(0, bank.len as i64) as usize)
        .collect();
    let unused_hi = (h as i64 - t as i64).max(1);
    for _ in 0..2 * n {
        job.rng.randint(0, unused_hi);
    }
    let (free_h, free_w) = (h.saturating_sub(t).max(1), w.saturating_sub(t).max(1));
    for &k in &picks {
        let pos = job.rng.randint(0, (free_h * free_w) as i64) as usize;
        let (py, px) = (pos / free_w, pos % free_w);
        let tile = tiles.tile(k);
        let (th, tw) = (t.min(h - py), t.min(w - px));
        for ty in 0..th {
            let d = ((py + ty) * w + px) * 3;
            job.dst[d..d + tw * 3].copy_from_slice(&tile[ty * t * 3..(ty * t + tw) * 3]);
        }
    }
    Ok(())
}
