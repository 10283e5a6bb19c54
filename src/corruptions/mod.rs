//! The corruption functions, one file per family and one function per corruption.
//!
//! Every function has the same shape ([`CorruptFn`]): it reads an RGB8 image from a [`Job`] and
//! writes the corrupted RGB8 image of the same size, drawing randomness only from the job's
//! generator. Greyscale/alpha handling, seeding and validation happen once, in [`crate::api`].

use crate::error::Result;
use crate::kernels::frost::FrostTextures;
use crate::preset::Preset;
use crate::rng::RandomSource;

pub mod blur;
pub mod digital;
pub mod noise;
pub mod stylize;
pub mod weather;

/// One corruption call: an RGB8 source, an RGB8 destination of the same size, the parameters of
/// the chosen severity and the generator.
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
    /// Parameter tables.
    pub preset: &'a Preset,
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
}

/// Signature shared by all corruption functions.
pub type CorruptFn = fn(&mut Job<'_>) -> Result<()>;

/// `trunc_u8` of the reference: float → u8 by dropping the fraction (NaN → 0, saturating).
#[inline(always)]
pub(crate) fn trunc_u8(v: f64) -> u8 {
    v as u8
}

/// `np.uint8(np.clip(v, 0, 1) * 255)`: the final step of most corruptions.
#[inline(always)]
pub(crate) fn unit_to_u8(v: f64) -> u8 {
    trunc_u8(v.clamp(0.0, 1.0) * 255.0)
}
