//! The corruptions: one file per corruption, named after it, in a folder per family
//! (`noise/`, `blur/`, `weather/`, `digital/`, `stylization/`; a new suite of operators gets its
//! own folder). Each file holds the corruption's parameter struct `Params` (its table in
//! `corruptions/*.toml`, with its range checks), the corruption function of the same name, and
//! the helpers only it uses. What two or more corruptions share lives in [`crate::kernels`].
//!
//! Every function has the same shape, `fn(&mut Job, &Params) -> Result<()>`: it reads an RGB8
//! image from the [`Job`] and writes the corrupted RGB8 image of the same size, drawing
//! randomness only from the job's generator. The catalogue row of the corruption
//! ([`crate::catalogue`]) pairs the function with its `Params`; greyscale/alpha handling,
//! seeding and validation happen once, in [`crate::api`].

use crate::corruptions::weather::frost::FrostTextures;
use crate::rng::RandomSource;

pub mod blur;
pub mod c_bar;
pub mod digital;
pub mod imagenet_p;
pub mod laion_c;
pub mod noise;
pub mod params;
pub mod stylization;
pub mod weather;

/// One corruption call: an RGB8 source, an RGB8 destination of the same size, the severity and
/// the generator. The severity's parameters come separately, as the corruption's own `Params`,
/// so that a corruption sees only its table.
pub struct Job<'a> {
    /// Source pixels, `height * width * 3` bytes, row-major, channel fastest (RGB).
    pub src: &'a [u8],
    /// Destination, same layout and size as `src`.
    pub dst: &'a mut [u8],
    /// Width in pixels (>= 1).
    pub width: usize,
    /// Height in pixels (>= 1).
    pub height: usize,
    /// Severity index 0..=4 (severity 1..=5).
    pub level: usize,
    /// Random source for this call (fast or NumPy-exact).
    pub rng: &'a mut dyn RandomSource,
    /// The reference's frost photographs when the caller loaded them ([`Settings`]
    /// `frost_textures`); `None` = procedural frost textures.
    ///
    /// [`Settings`]: crate::Settings
    pub frost_textures: Option<&'a FrostTextures>,
    /// The style of a `stylize` call (chosen and prepared by [`crate::api`]); `None` for every
    /// other corruption.
    pub style: Option<crate::stylize::StyleRef<'a>>,
    /// The training-image tile bank of LAION-C's `mosaic` and `stickers` (`--tile-bank`);
    /// `None` for every other corruption.
    pub tile_bank: Option<&'a laion_c::TileBank>,
}
