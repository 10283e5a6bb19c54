//! Stage 3, execute: make the bytes of outputs and put them on disk.
//!
//! Takes a [`Pipeline`] (everything that determines an output's bytes besides its source
//! and cell) and, per source, its bytes and the cells to make; returns encoded files, written
//! atomically (hidden temp name in the same folder, then rename). Decoding, the geometry
//! ([`imagenet_geometry`]), the channel order, the corruption call and the encoders are here;
//! so is the copy or hard link of carried annotation files.
//!
//! It is a stage of its own because it is the only part that depends on pixels, and the part
//! `verify` reruns: it knows nothing of manifests, journals or what is already done (the
//! driver asks the record stage which cells to make, and records what was made). Memory is
//! bounded by the caller's thread count: a worker holds one decoded source, one corrupted
//! buffer and one encoded file at a time.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::DynamicImage;

use super::plan::output_seed;
use super::{Cell, ChannelOrder, Geometry};
use crate::catalogue::Corruption;
use crate::codecs::encode_rgb;
use crate::error::{Error, Result};
use crate::io::OutputFormat;
use crate::kernels::resample::{self, Filter};
use crate::FrostTextures;
use crate::{PixelLayout, Preset, RngMode, Settings, Stylizer};

/// Tag of the temporary file an output is written to before its rename. It is fixed (not per
/// process) so that a rerun after `kill -9` finds and removes a stale one.
const TMP_TAG: &str = "imgcorrupt-tmp";

/// The temporary file `dst` is written to before its rename (the same name in every run, so
/// that a rerun finds a stale one).
pub fn temp_path(dst: &Path) -> Result<PathBuf> {
    crate::io::temp_path(dst, TMP_TAG)
}

/// Load the reference's frost photographs from `dir` (`--frost-dir`).
pub fn load_frost(dir: &Path) -> Result<Arc<FrostTextures>> {
    Ok(Arc::new(FrostTextures::load(dir)?))
}

/// Everything that determines the bytes of an output besides the source and the cell.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// RNG mode.
    pub rng: RngMode,
    /// Parameter tables.
    pub preset: Arc<Preset>,
    /// Run seed.
    pub seed: u64,
    /// Geometry before corrupting.
    pub geometry: Geometry,
    /// Channel order seen by the corruptions.
    pub channel_order: ChannelOrder,
    /// JPEG quality.
    pub quality: u8,
    /// WebP encoding (lossy at a quality, or lossless).
    pub webp: crate::io::WebpMode,
    /// Decoder pixel limit (larger sources fail).
    pub max_pixels: u64,
    /// The reference's frost photographs (`--frost-dir`), or `None` for procedural frost.
    pub frost: Option<Arc<FrostTextures>>,
    /// Style source and backend of `stylize` cells (`None`: stylize cells fail, naming it).
    pub stylizer: Option<Arc<Stylizer>>,
    /// Tile bank of LAION-C's `mosaic` and `stickers` cells (`--tile-bank`).
    pub tile_bank: Option<Arc<crate::TileBank>>,
    /// JPEG outputs without chroma subsampling (4:4:4, the `image` crate's encoder), as the
    /// LAION-C release writes them (`subsampling=0`); otherwise PIL-identical 4:2:0.
    pub jpeg_444: bool,
}

impl Pipeline {
    /// Decode a source file to 8-bit RGB (greyscale replicated, alpha dropped, palette
    /// expanded, 16-bit reduced, CMYK converted by the decoder — PIL's `convert("RGB")`),
    /// apply the geometry, and swap R/B in BGR mode. Returns (pixels, width, height).
    pub fn prepare(&self, bytes: &[u8], path: &Path) -> Result<(Vec<u8>, usize, usize)> {
        let img = crate::io::decode_image(bytes, path, self.max_pixels)?;
        let rgb = match img {
            DynamicImage::ImageRgb8(i) => i,
            other => other.to_rgb8(),
        };
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        if self.geometry == Geometry::Imagenet {
            // A long thin source becomes huge at shorter side 256 (1×40000 → 256×10240000):
            // refuse it like a source over the limit instead of exhausting memory.
            let (nw, nh) = imagenet_resize_dims(w, h);
            if (nw as u64).saturating_mul(nh as u64) > self.max_pixels {
                return Err(Error::InvalidImage(format!(
                    "{w}x{h}: ImageNet geometry would resize it to {nw}x{nh}, more than the limit of {} pixels",
                    self.max_pixels
                )));
            }
        }
        let (mut px, w, h) = match self.geometry {
            Geometry::Native => (rgb.into_raw(), w, h),
            Geometry::Imagenet => imagenet_geometry(rgb.as_raw(), w, h),
        };
        if self.channel_order == ChannelOrder::Bgr {
            swap_rb(&mut px);
        }
        Ok((px, w, h))
    }

    /// Corrupt a prepared image for one cell and encode it. `scratch` is reused.
    #[allow(clippy::too_many_arguments)]
    pub fn render(
        &self,
        px: &[u8],
        w: usize,
        h: usize,
        source: &str,
        cell: Cell,
        format: OutputFormat,
        scratch: &mut Vec<u8>,
    ) -> Result<(Vec<u8>, u64)> {
        let seed = self.seed_of(source, cell);
        let mut settings = Settings::new(seed)
            .with_rng(self.rng)
            .with_preset(self.preset.clone());
        if let Some(frost) = &self.frost {
            settings = settings.with_frost_textures(frost.clone());
        }
        if let Some(bank) = &self.tile_bank {
            settings = settings.with_tile_bank(bank.clone());
        }
        let stylize = cell.corruption == Corruption::Stylize;
        let rgb_copy: Vec<u8>;
        let mut input = px;
        if stylize {
            let st = self.stylizer.as_ref().ok_or_else(|| {
                Error::InvalidArgument("stylize needs a style source (--styles DIR)".into())
            })?;
            settings = settings
                .with_stylizer(st.clone())
                .with_style_index(st.pick_for_source(self.seed, source));
            // stylize always sees RGB: --channel-order bgr reproduces a quirk of the -C
            // detection benchmarks only (the style images are RGB).
            if self.channel_order == ChannelOrder::Bgr {
                let mut c = px.to_vec();
                swap_rb(&mut c);
                rgb_copy = c;
                input = &rgb_copy;
            }
        }
        scratch.resize(px.len(), 0);
        crate::corrupt_buffer(
            crate::api::ImageView::new(input, w, h, PixelLayout::Rgb),
            scratch,
            cell.corruption,
            cell.severity,
            &settings,
        )?;
        if self.channel_order == ChannelOrder::Bgr && !stylize {
            swap_rb(scratch);
        }
        let bytes = self.encode(scratch, w, h, format)?;
        Ok((bytes, seed))
    }

    /// Encode RGB pixels in `format` with the run's JPEG quality and WebP mode.
    pub fn encode(&self, px: &[u8], w: usize, h: usize, format: OutputFormat) -> Result<Vec<u8>> {
        if self.jpeg_444 && format == OutputFormat::Jpeg {
            return crate::codecs::encode_jpeg_444(px, w, h, self.quality)
                .map_err(|m| Error::InvalidImage(format!("cannot encode: {m}")));
        }
        encode_rgb(px, w, h, format, self.quality, self.webp)
            .map_err(|m| Error::InvalidImage(format!("cannot encode: {m}")))
    }

    /// The seed of the output of `source` in `cell` (seed rule, see [`super::plan`]).
    pub fn seed_of(&self, source: &str, cell: Cell) -> u64 {
        output_seed(
            self.seed,
            source,
            cell.corruption,
            cell.severity,
            self.rng == RngMode::Numpy,
        )
    }

    /// The style of the `stylize` output of `source` (name, SHA-256); `None` for other cells.
    /// An unreadable style file gives its error text in place of the hash.
    pub fn style_of(&self, source: &str, cell: Cell) -> Option<(String, String)> {
        if cell.corruption != Corruption::Stylize {
            return None;
        }
        let st = self.stylizer.as_ref()?;
        let i = st.pick_for_source(self.seed, source);
        let sha = st
            .style_sha256(i)
            .unwrap_or_else(|e| format!("unreadable: {e}"));
        Some((st.name(i).to_string(), sha))
    }
}

/// Write an encoded output: its folder is created, the bytes go to [`temp_path`], which is
/// renamed to `dst`.
pub fn write_output(dst: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let tmp = temp_path(dst)?;
    crate::io::write_atomic_via(dst, &tmp, bytes, false)
}

/// Make every folder of `folders` in every cell of `cells` under `output` (existing ones are
/// kept), so that a class with no output (empty, or every source failed) still exists there.
pub fn make_folders(output: &Path, cells: &[Cell], folders: &[String]) -> Result<()> {
    for cell in cells {
        for f in folders {
            let dir = output
                .join(cell.corruption.name())
                .join(cell.severity.to_string())
                .join(f);
            fs::create_dir_all(&dir).map_err(|source| Error::Io { path: dir, source })?;
        }
    }
    Ok(())
}

/// Carry an annotation file `src` to `dst` unchanged: a hard link when `link` and possible
/// (same file system), else a copy; through [`temp_path`] and a rename, as image outputs.
pub fn carry(src: &Path, dst: &Path, link: bool) -> std::result::Result<(), String> {
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let tmp = temp_path(dst).map_err(|e| e.to_string())?;
    let _ = fs::remove_file(&tmp);
    let linked = link && fs::hard_link(src, &tmp).is_ok();
    if !linked {
        fs::copy(src, &tmp).map_err(|e| e.to_string())?;
    }
    if let Err(e) = fs::rename(&tmp, dst) {
        let _ = fs::remove_file(&tmp);
        return Err(e.to_string());
    }
    Ok(())
}

fn swap_rb(px: &mut [u8]) {
    for p in px.chunks_exact_mut(3) {
        p.swap(0, 2);
    }
}

/// Python's `round(d / 2)` for an integer `d ≥ 0` (half to even).
fn half_even(d: usize) -> usize {
    let f = d / 2;
    if d % 2 == 1 && f % 2 == 1 {
        f + 1
    } else {
        f
    }
}

/// Size after torchvision `Resize(256)`: shorter side 256, longer side `int(256·long/short)`.
pub(crate) fn imagenet_resize_dims(w: usize, h: usize) -> (usize, usize) {
    let (short, long) = (w.min(h), w.max(h));
    let new_long = ((256 * long) as f64 / short as f64) as usize;
    if w <= h {
        (256, new_long)
    } else {
        (new_long, 256)
    }
}

/// ImageNet-C preprocessing (ALGORITHMS.md §5.1): torchvision `Resize(256)` on a PIL image (shorter
/// side 256, longer side `int(256·long/short)`, Pillow BILINEAR with antialiasing), then
/// `CenterCrop(224)` at `round((h−224)/2)`, `round((w−224)/2)`.
pub fn imagenet_geometry(px: &[u8], w: usize, h: usize) -> (Vec<u8>, usize, usize) {
    let (nw, nh) = imagenet_resize_dims(w, h);
    let resized = resample::resize(px, w, h, 3, nw, nh, Filter::Bilinear);
    let (top, left) = (half_even(nh - 224), half_even(nw - 224));
    let mut out = Vec::with_capacity(224 * 224 * 3);
    for y in top..top + 224 {
        let row = &resized[(y * nw + left) * 3..(y * nw + left + 224) * 3];
        out.extend_from_slice(row);
    }
    (out, 224, 224)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_round_half_even() {
        // round(33/2)=16 (16.5 → 16), round(35/2)=18 (17.5 → 18), round(34/2)=17
        assert_eq!(half_even(33), 16);
        assert_eq!(half_even(35), 18);
        assert_eq!(half_even(34), 17);
        assert_eq!(half_even(0), 0);
    }
}
