//! `mosaic` (LAION-C; ALGORITHMS.md §12.1): the image rebuilt from training-image tiles.
//!
//! The image is cut into t×t cells; each cell is replaced by the bank tile whose mean colour
//! is nearest (Euclidean RGB, exact nearest neighbour as the reference's SciPy KDTree) to the
//! cell's colour. The grid is centred: when t does not divide the size (LAION-C level 2,
//! t = 6 at 224) the outer cells are cut, as the reference's tiling of a 252 crop cut back to
//! 224 is (same cell boundaries at 224). Cell colour: as the reference
//! (`process_data_mosaic`), Pillow's default `Image.resize((W // t, H // t))`, i.e. BICUBIC
//! with its antialiasing support of 2·t pixels, byte for byte when t divides the size; for a
//! grid that overhangs the image the same sampling, its window clipped at the border (the
//! reference samples real pixels of its wider 252 crop there).
//!
//! `reference_geometry = true` (preset `laion-c-compat`, `--laion-c-compat`) asks the dataset
//! pipeline for the release generator's own preprocessing of each level ([`reference_geometry`]):
//! the corruption then sees an image its tiles divide, and nothing overhangs. It is a pipeline
//! matter because it needs the source before the shared ImageNet geometry; a caller of the
//! library with an image in hand gets the centred grid above.

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::{Error, Result};
use crate::kernels::resample::{resize_cells, Filter};

/// The `[mosaic]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Tile side in pixels per severity.
    pub tile: Row<usize>,
    /// Whether `generate` with ImageNet geometry prepares mosaic sources as the release's
    /// generator does ([`reference_geometry`]) instead of with the run's shared geometry.
    #[serde(default)]
    pub reference_geometry: bool,
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
            reference_geometry: false,
        })
    }
}

/// The release generator's preprocessing for tile side `t` (`transforms_mosaic` and the crop
/// in `process_data_mosaic`): `Some((r, s))` for torchvision `Resize(r)` with
/// `r = 256 − 256 % t` (so that the short side divides into whole tiles), `CenterCrop(s)`,
/// tiling of the s×s crop from its corner, then a centre crop to 224. The reference has
/// `s = 252` for t = 6 (whose grid does not fit 224) and 224 otherwise; for other sizes that
/// do not divide 224 we take the whole short side as it does for 6 (the reference itself
/// fails there). `None` where this is the shared ImageNet geometry anyway (t divides 256 and
/// 224: t = 4, 8, 16) or where `r < 224` (t > 32 not dividing 256: no 224 crop exists).
pub fn reference_geometry(t: usize) -> Option<(usize, usize)> {
    let r = 256 - 256 % t;
    let s = if 224 % t == 0 { 224 } else { r };
    (r >= 224 && (r, s) != (256, 224)).then_some((r, s))
}

/// Offset of a centred grid of cells of side `t` over `n` pixels (≥ 0: how far the first
/// cell starts before pixel 0).
pub fn grid_offset(n: usize, t: usize) -> usize {
    (n.div_ceil(t) * t - n) / 2
}

/// The colour of every cell of the centred `t` grid over an RGB `w × h` image, row by row
/// (`cols = ⌈w/t⌉`, `rows = ⌈h/t⌉`): Pillow's `Image.resize((w // t, h // t))` (BICUBIC)
/// when `t` divides both sizes, the tile keys the reference looks up in its KD-tree.
pub fn cell_colours(src: &[u8], w: usize, h: usize, t: usize) -> Vec<u8> {
    resize_cells(
        src,
        (w, h),
        3,
        t,
        (grid_offset(w, t), grid_offset(h, t)),
        (w.div_ceil(t), h.div_ceil(t)),
        Filter::Bicubic,
    )
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
    let colours = cell_colours(job.src, w, h, t);
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
            let c = &colours[(cy * cols + cx) * 3..][..3];
            let key = [f32::from(c[0]), f32::from(c[1]), f32::from(c[2])];
            let tile = tiles.tile(tiles.nearest(key));
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
