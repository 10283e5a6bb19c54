//! LAION-C (Li et al., ICML 2025; github.com/FanfeiLi/LAION-C, MIT): six distortions chosen to
//! be out of distribution even for web-scale training data. One file per operator; the tile
//! bank that `mosaic` and `stickers` draw from is [`tile_bank`]. docs/ALGORITHMS.md §12 says
//! what each file reproduces of `distortions/apply_distortions.py` and what it does not.
//!
//! These rows are [`crate::Subset::Shift`] operators of the family `laion-c`: selected by
//! `-c laion-c` or by name, never by `common`/`all`.

pub mod geometric_shapes;
pub mod glitched;
pub mod luminance_checkerboard;
pub mod mosaic;
pub mod stickers;
pub mod superclasses;
pub mod tile_bank;
pub mod vertical_lines;

pub use tile_bank::TileBank;

use crate::corruptions::Job;
use crate::error::{Error, Result};

/// The job's tile bank, or an error saying how to give one (`mosaic`, `stickers`).
pub(crate) fn bank<'a>(job: &Job<'a>, name: &str) -> Result<&'a TileBank> {
    job.tile_bank.ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{name} needs a tile bank of training images: Settings::with_tile_bank (CLI: --tile-bank DIR)"
        ))
    })
}
