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
//! bounded by the caller's thread count: a worker holds one prepared source, one corrupted
//! buffer and one encoded file at a time (the driver runs a source's cells as parallel jobs,
//! so a worker waiting for cells another worker took may start a further source meanwhile;
//! sources above [`LARGE_SOURCE_PIXELS`] run their cells on one worker, one such source at a
//! time).

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
    /// `--severity-schedule` runs: the severity of each image (source path → severity) that
    /// its [`super::Severity::SCHEDULED`] cells resolve to ([`Pipeline::resolve`]).
    pub schedule: Option<Arc<std::collections::HashMap<String, super::Severity>>>,
}

impl Pipeline {
    /// Decode a source file to 8-bit RGB (greyscale replicated, alpha dropped, palette
    /// expanded, 16-bit reduced, CMYK converted by the decoder — PIL's `convert("RGB")`),
    /// apply the geometry, and swap R/B in BGR mode. The decoded source is kept too when a
    /// cell needs its own geometry ([`Pipeline::mosaic_geometry`]).
    pub fn prepare(&self, bytes: &[u8], path: &Path) -> Result<Prepared> {
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
        let keeps_source = self.geometry == Geometry::Imagenet && self.mosaic_tiles().is_some();
        let ((mut px, nw, nh), source) = match self.geometry {
            Geometry::Native => ((rgb.into_raw(), w, h), None),
            Geometry::Imagenet => (
                imagenet_geometry(rgb.as_raw(), w, h),
                keeps_source.then(|| (rgb.into_raw(), w, h)),
            ),
            Geometry::Inception => (inception_geometry(rgb.as_raw(), w, h)?, None),
        };
        if self.channel_order == ChannelOrder::Bgr {
            swap_rb(&mut px);
        }
        Ok(Prepared {
            px,
            width: nw,
            height: nh,
            source,
        })
    }

    /// The tile sizes of a preset whose `mosaic` asks for the release's own preprocessing
    /// (`reference_geometry`, preset `laion-c-compat`); `None` otherwise.
    fn mosaic_tiles(&self) -> Option<[usize; 5]> {
        let p = self
            .preset
            .params::<crate::corruptions::laion_c::mosaic::Params>()?;
        p.reference_geometry.then_some(p.tile)
    }

    /// `Some((r, s))` when `cell` is made from the source by its own geometry rather than the
    /// run's: a `mosaic` cell of a `reference_geometry` preset under ImageNet geometry, at a
    /// tile size the release generator preprocesses with `Resize(r)` and `CenterCrop(s)`
    /// ([`crate::corruptions::laion_c::mosaic::reference_geometry`]; t = 6 and 28).
    pub fn mosaic_geometry(&self, cell: Cell) -> Option<(usize, usize)> {
        if cell.corruption != Corruption::Mosaic || self.geometry != Geometry::Imagenet {
            return None;
        }
        let level = cell.severity.as_level()?;
        let t = self.mosaic_tiles()?[usize::from(level).checked_sub(1)?];
        crate::corruptions::laion_c::mosaic::reference_geometry(t)
    }

    /// The cell an output of `source` in `cell` is made at: a scheduled cell becomes the
    /// image's severity ([`super::schedule`]); other cells are themselves.
    pub fn resolve(&self, source: &str, cell: Cell) -> Cell {
        match &self.schedule {
            Some(m) if cell.severity == super::Severity::SCHEDULED => Cell {
                corruption: cell.corruption,
                severity: m.get(source).copied().unwrap_or(cell.severity),
            },
            _ => cell,
        }
    }

    /// The severity recorded with an output of a scheduled cell (`None` for other cells).
    pub fn scheduled_severity(&self, source: &str, cell: Cell) -> Option<super::Severity> {
        (cell.severity == super::Severity::SCHEDULED)
            .then(|| self.resolve(source, cell).severity)
            .filter(|&s| s != super::Severity::SCHEDULED)
    }

    /// Corrupt a prepared image for one cell and encode it. `scratch` is reused.
    pub fn render(
        &self,
        img: &Prepared,
        source: &str,
        cell: Cell,
        format: OutputFormat,
        scratch: &mut Vec<u8>,
    ) -> Result<(Vec<u8>, u64)> {
        let (px, w, h) = (&img.px[..], img.width, img.height);
        let seed = self.seed_of(source, cell);
        let cell = self.resolve(source, cell);
        if cell.severity == super::Severity::SCHEDULED {
            return Err(Error::InvalidArgument(format!(
                "{source}: no scheduled severity for this image"
            )));
        }
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
        match (self.mosaic_geometry(cell), &img.source) {
            (Some((r, s)), Some((src, sw, sh))) => {
                // the release's mosaic: tile the s×s crop of Resize(r), keep its centre 224²
                let mut ctx = crop_resized(src, *sw, *sh, imagenet_resize_dims_to(*sw, *sh, r), s);
                if self.channel_order == ChannelOrder::Bgr {
                    swap_rb(&mut ctx);
                }
                let mut tiled = vec![0u8; ctx.len()];
                super::corrupt_at_severity(
                    crate::api::ImageView::new(&ctx, s, s, PixelLayout::Rgb),
                    &mut tiled,
                    cell.corruption,
                    cell.severity,
                    &settings,
                )?;
                // PIL's crop at ((s − 224)/2, …), rounded half to even
                let o = half_even(s - IMAGENET_CROP);
                scratch.clear();
                for y in o..o + IMAGENET_CROP {
                    scratch.extend_from_slice(
                        &tiled[(y * s + o) * 3..(y * s + o + IMAGENET_CROP) * 3],
                    );
                }
            }
            _ => super::corrupt_at_severity(
                crate::api::ImageView::new(input, w, h, PixelLayout::Rgb),
                scratch,
                cell.corruption,
                cell.severity,
                &settings,
            )?,
        }
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

    /// The procedural frost slots to render before a run's images (see
    /// [`Pipeline::warm_frost`]): all five when `cells` hold frost, no photographs are given
    /// (`--frost-dir`) and the geometry gives every image one size; none otherwise.
    pub fn frost_slots_to_warm(&self, cells: &[Cell]) -> Vec<usize> {
        let fixed = matches!(self.geometry, Geometry::Imagenet | Geometry::Inception);
        let frost = cells.iter().any(|c| c.corruption == Corruption::Frost);
        let params = self
            .preset
            .params::<crate::corruptions::weather::frost::Params>();
        match fixed && frost && self.frost.is_none() && params.is_some() {
            true => (0..5).collect(),
            false => Vec::new(),
        }
    }

    /// Render procedural frost slot `k` at the size the run's images use, into the process's
    /// texture cache: a worker that reaches frost while the other renders the texture it
    /// draws would otherwise wait for it, and both reach frost at about the same moment
    /// (issue 18, two threads). Outputs do not change (the cache holds what frost would render).
    pub fn warm_frost(&self, k: usize) {
        let side = match self.geometry {
            Geometry::Imagenet => IMAGENET_CROP,
            Geometry::Inception => INCEPTION_SIDE,
            Geometry::Native => return,
        };
        if let Some(p) = self
            .preset
            .params::<crate::corruptions::weather::frost::Params>()
        {
            crate::corruptions::weather::frost::warm_procedural(p, k, side, side);
        }
    }

    /// The seed of the output of `source` in `cell` (seed rule, see [`super::plan`]).
    pub fn seed_of(&self, source: &str, cell: Cell) -> u64 {
        let cell = self.resolve(source, cell);
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

/// A source decoded and brought to the run's geometry ([`Pipeline::prepare`]), shared by the
/// cells made from it.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// RGB (or BGR) pixels, row-major.
    pub px: Vec<u8>,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// The decoded RGB source (pixels, width, height) before the geometry, kept only when
    /// some cell is made by its own geometry ([`Pipeline::mosaic_geometry`]).
    source: Option<(Vec<u8>, usize, usize)>,
}

/// Write an encoded output: the bytes go to [`temp_path`], which is renamed to `dst`; its
/// folder is created when missing. (The driver makes every cell's folders up front, so the
/// write is tried first and the folder made only on "not found": two system calls per output
/// fewer than creating it every time.)
pub fn write_output(dst: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(dst)?;
    match crate::io::write_atomic_via(dst, &tmp, bytes, false) {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = dst.parent() {
                fs::create_dir_all(parent).map_err(|source| Error::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            crate::io::write_atomic_via(dst, &tmp, bytes, false)
        }
        other => other,
    }
}

/// Make every folder of `folders` in every cell of `cells` under `output` (existing ones are
/// kept), so that a class with no output (empty, or every source failed) still exists there.
pub fn make_folders(
    output: &Path,
    layout: crate::dataset::Layout,
    cells: &[Cell],
    folders: &[String],
) -> Result<()> {
    for cell in cells {
        for f in folders {
            let dir = output.join(layout.cell_dir(*cell)).join(f);
            fs::create_dir_all(&dir).map_err(|source| Error::Io { path: dir, source })?;
        }
    }
    Ok(())
}

/// Carry an annotation file `src` to `dst` unchanged: a hard link when `link` and possible
/// (same file system), else an independent file, a copy-on-write clone where the file system
/// can make one ([`clone_or_copy`]); through [`temp_path`] and a rename, as image outputs.
pub fn carry(src: &Path, dst: &Path, link: bool) -> std::result::Result<(), String> {
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let tmp = temp_path(dst).map_err(|e| e.to_string())?;
    let _ = fs::remove_file(&tmp);
    let linked = link && fs::hard_link(src, &tmp).is_ok();
    if !linked {
        if let Err(e) = clone_or_copy(src, &tmp) {
            let _ = fs::remove_file(&tmp);
            return Err(e.to_string());
        }
    }
    if let Err(e) = fs::rename(&tmp, dst) {
        let _ = fs::remove_file(&tmp);
        return Err(e.to_string());
    }
    Ok(())
}

/// Sources above this many pixels (decoded) are worked on one at a time, whatever the
/// thread count: 2^24 ≈ 16.8 MP, far above every -C benchmark's images.
pub const LARGE_SOURCE_PIXELS: u64 = 1 << 24;

/// The per-file work cap for large sources. The decoder refuses sources over the pixel limit
/// (`--max-pixels`), but a source just under it still needs several working planes per
/// corruption (glass_blur, with its float planes, about 60 bytes per pixel: ~11 GB at Pillow's
/// limit); with `--threads N`, N such sources at once would need N times that. So a worker
/// about to decode+corrupt a large source waits until no other worker holds one: peak memory
/// is one large source's work plus the small ones'. Small sources never wait. Output bytes do
/// not depend on it (only when a source is processed, not how).
pub struct LargeSourceGuard(Option<std::sync::MutexGuard<'static, ()>>, bool);

static LARGE_SOURCE: std::sync::Mutex<()> = std::sync::Mutex::new(());

std::thread_local! {
    /// Whether this thread holds [`LARGE_SOURCE`]: a worker that runs another source while it
    /// waits on nested parallel work (rayon work stealing) must not wait for itself.
    static HOLDS_LARGE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl LargeSourceGuard {
    /// Enter the gate for a source of `pixels` pixels: waits for it when the source is large,
    /// returns at once otherwise (or when this thread is already inside).
    pub fn enter(pixels: u64) -> LargeSourceGuard {
        if pixels <= LARGE_SOURCE_PIXELS || HOLDS_LARGE.with(|h| h.get()) {
            return LargeSourceGuard(None, false);
        }
        // a worker that panicked inside poisons the lock; the gate still works
        let g = LARGE_SOURCE.lock().unwrap_or_else(|e| e.into_inner());
        HOLDS_LARGE.with(|h| h.set(true));
        // a frost cell waiting for a texture must not run a queued job meanwhile: it could be
        // a second large source on this thread
        let helping = crate::corruptions::weather::frost::textures::set_helping(false);
        LargeSourceGuard(Some(g), helping)
    }
}

impl LargeSourceGuard {
    /// Whether this thread is inside a large source (holds the gate): such a worker must not
    /// split its work into jobs other workers could steal while they wait on the gate.
    pub fn held() -> bool {
        HOLDS_LARGE.with(|h| h.get())
    }
}

impl Drop for LargeSourceGuard {
    fn drop(&mut self) {
        if self.0.take().is_some() {
            HOLDS_LARGE.with(|h| h.set(false));
            crate::corruptions::weather::frost::textures::set_helping(self.1);
        }
    }
}

/// The decoded size of an encoded image from its header (no pixel decoding), for
/// [`LargeSourceGuard`]; `None` when the header cannot be read (the decode then reports why).
/// A panic in a header parser on hostile bytes is `None` too, as [`crate::io::decode_image`]
/// turns decoder panics into errors naming the file.
pub fn header_pixels(bytes: &[u8]) -> Option<u64> {
    std::panic::catch_unwind(|| {
        let r = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .ok()?;
        let (w, h) = r.into_dimensions().ok()?;
        Some(w as u64 * h as u64)
    })
    .ok()
    .flatten()
}

/// How [`clone_or_copy`] made its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carried {
    /// A copy-on-write clone (reflink): shares the source's blocks until either is written,
    /// so a -C of COCO does not store its 450 MB of annotations 95 times, yet an edit in
    /// place of one cell's file changes nothing else.
    Reflink,
    /// A byte copy (file systems without reflinks, e.g. ext4, tmpfs, most network ones).
    Copy,
}

/// Make `dst` (a new file) an independent copy of `src`: a reflink where the file system can
/// (Linux `FICLONE`: Btrfs, XFS with reflink=1, bcachefs, OCFS2), else [`fs::copy`]. Never a
/// hard link: a cell's file must not share an inode with the clean dataset.
pub fn clone_or_copy(src: &Path, dst: &Path) -> std::io::Result<Carried> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let from = fs::File::open(src)?;
        let to = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dst)?;
        // SAFETY: both descriptors are open for the duration of the call; FICLONE takes the
        // source descriptor as its argument and touches no memory of ours.
        let r = unsafe { libc::ioctl(to.as_raw_fd(), libc::FICLONE, from.as_raw_fd()) };
        if r == 0 {
            // a clone does not carry the permission bits, as fs::copy does
            to.set_permissions(from.metadata()?.permissions())?;
            return Ok(Carried::Reflink);
        }
        drop(to);
        fs::remove_file(dst)?;
    }
    fs::copy(src, dst).map(|_| Carried::Copy)
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
    imagenet_resize_dims_to(w, h, 256)
}

/// Size after torchvision `Resize(short)`: shorter side `short`, longer side
/// `int(short·long/shorter)` (Python's true division, then truncation).
fn imagenet_resize_dims_to(w: usize, h: usize, short: usize) -> (usize, usize) {
    let (s, long) = (w.min(h), w.max(h));
    let new_long = ((short * long) as f64 / s as f64) as usize;
    if w <= h {
        (short, new_long)
    } else {
        (new_long, short)
    }
}

/// Side of the ImageNet-C crop.
const IMAGENET_CROP: usize = 224;

/// torchvision's `Resize` to `(nw, nh)` (Pillow BILINEAR, antialiased) then `CenterCrop(side)`
/// at `round((nh−side)/2)`, `round((nw−side)/2)`: only the window is computed.
fn crop_resized(px: &[u8], w: usize, h: usize, (nw, nh): (usize, usize), side: usize) -> Vec<u8> {
    let (top, left) = (half_even(nh - side), half_even(nw - side));
    resample::resize_crop(
        px,
        (w, h, 3),
        (nw, nh),
        Filter::Bilinear,
        (left, top, side, side),
    )
}

/// ImageNet-C preprocessing (ALGORITHMS.md §5.1): torchvision `Resize(256)` on a PIL image (shorter
/// side 256, longer side `int(256·long/short)`, Pillow BILINEAR with antialiasing), then
/// `CenterCrop(224)` at `round((h−224)/2)`, `round((w−224)/2)`.
pub fn imagenet_geometry(px: &[u8], w: usize, h: usize) -> (Vec<u8>, usize, usize) {
    // only the window is computed: the same bytes as resizing everything, then cropping
    let out = crop_resized(px, w, h, imagenet_resize_dims(w, h), IMAGENET_CROP);
    (out, IMAGENET_CROP, IMAGENET_CROP)
}

/// Side of the ImageNet-C 299 images.
const INCEPTION_SIDE: usize = 299;

/// ImageNet-C 299 preprocessing (make_imagenet_c_inception.py's `resized_center_crop(img,
/// scale=0.875, size=(299, 299))`, ALGORITHMS.md §5.1): a centre crop of `int(h·0.875)` rows and
/// `int(w·0.875)` columns at `round((h−th)/2)`, `round((w−tw)/2)` (Python's round, half to
/// even), then PIL `resize((299, 299), BILINEAR)` (antialiased, aspect ratio not kept). The
/// crop is taken first, so the resize sees only the cropped pixels, as PIL's `crop().resize()`.
/// A source below 2 pixels on a side would crop to nothing (PIL fails there too).
pub fn inception_geometry(px: &[u8], w: usize, h: usize) -> Result<(Vec<u8>, usize, usize)> {
    // 0.875 = 7/8 exactly, so `int(n·0.875)` is `7n div 8` for every size that fits memory.
    let (th, tw) = (h * 7 / 8, w * 7 / 8);
    if th == 0 || tw == 0 {
        return Err(Error::InvalidImage(format!(
            "{w}x{h}: too small for the inception geometry (its 0.875 centre crop is empty)"
        )));
    }
    let (top, left) = (half_even(h - th), half_even(w - tw));
    let mut crop = Vec::with_capacity(th * tw * 3);
    for y in top..top + th {
        crop.extend_from_slice(&px[(y * w + left) * 3..(y * w + left + tw) * 3]);
    }
    let s = INCEPTION_SIDE;
    Ok((
        resample::resize(&crop, tw, th, 3, s, s, Filter::Bilinear),
        s,
        s,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crop window by hand (h=10, w=9: int(8.75)=8 rows at round(2/2)=1, int(7.875)=7
    /// columns at round(2/2)=1; h=3, w=5: 2 rows and 4 columns at round(1/2)=0, half to even):
    /// the output is 299×299 and equals the resize of the hand-cut window.
    #[test]
    fn inception_crop_window() {
        let (w, h) = (9usize, 10usize);
        let px: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
        let (out, ow, oh) = inception_geometry(&px, w, h).unwrap();
        assert_eq!((ow, oh), (299, 299));
        let mut window = Vec::new();
        for y in 1..9 {
            window.extend_from_slice(&px[(y * w + 1) * 3..(y * w + 8) * 3]);
        }
        assert_eq!(
            out,
            resample::resize(&window, 7, 8, 3, 299, 299, Filter::Bilinear)
        );
        let px: Vec<u8> = (0..5 * 3 * 3).map(|i| i as u8).collect();
        let (out, _, _) = inception_geometry(&px, 5, 3).unwrap();
        let mut window = Vec::new();
        for y in 0..2 {
            window.extend_from_slice(&px[(y * 5) * 3..(y * 5 + 4) * 3]);
        }
        assert_eq!(
            out,
            resample::resize(&window, 4, 2, 3, 299, 299, Filter::Bilinear)
        );
        assert!(inception_geometry(&[0; 3], 1, 1).is_err());
    }

    #[test]
    fn large_sources_are_worked_on_one_at_a_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{mpsc, Arc};
        use std::time::Duration;
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (inside, most) = (inside.clone(), most.clone());
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        let _g = LargeSourceGuard::enter(LARGE_SOURCE_PIXELS + 1);
                        // re-entering on the same thread does not wait for itself
                        let _nested = LargeSourceGuard::enter(LARGE_SOURCE_PIXELS + 1);
                        let n = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(200));
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1, "two large sources at once");

        // a small source does not wait while another thread holds a large one
        let (hold_tx, hold_rx) = mpsc::channel::<()>();
        let (held_tx, held_rx) = mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            let _g = LargeSourceGuard::enter(u64::MAX);
            held_tx.send(()).unwrap();
            hold_rx.recv().unwrap();
        });
        held_rx.recv().unwrap();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let small = std::thread::spawn(move || {
            let _g = LargeSourceGuard::enter(LARGE_SOURCE_PIXELS);
            done_tx.send(()).unwrap();
        });
        let waited = done_rx.recv_timeout(Duration::from_secs(20));
        hold_tx.send(()).unwrap();
        holder.join().unwrap();
        small.join().unwrap();
        assert!(waited.is_ok(), "a small source waited for a large one");
    }

    #[test]
    fn header_pixels_reads_the_size_without_decoding() {
        let png = crate::io::encode_rgb(
            &[7u8; 5 * 3 * 3],
            5,
            3,
            OutputFormat::Png,
            85,
            crate::io::WebpMode::Lossless,
        )
        .unwrap();
        assert_eq!(header_pixels(&png), Some(15));
        assert_eq!(header_pixels(b"not an image"), None);
    }

    fn fetched(f: impl FnOnce()) -> std::collections::BTreeSet<(usize, usize, usize)> {
        use crate::corruptions::weather::frost::textures::FETCHED;
        FETCHED.with_borrow_mut(|v| v.clear());
        f();
        FETCHED
            .with_borrow_mut(std::mem::take)
            .into_iter()
            .collect()
    }

    /// `warm_procedural` (what `Pipeline::warm_frost` runs before a run's images) renders
    /// exactly the textures frost then asks for on images of that size (the five slots, drawn
    /// over many seeds and every severity), for the imagecorruptions rule and the original
    /// scripts' fixed scale, at 224² and 299²: a wrong size would leave the workers rendering
    /// (and waiting for) the textures again.
    #[test]
    fn warming_renders_what_frost_uses() {
        use crate::corruptions::weather::frost::{warm_procedural, Params};
        for preset in ["imagecorruptions", "imagenet-c", "imagenet-c-299"] {
            let preset = Arc::new(Preset::builtin(preset).unwrap());
            let p = preset.params::<Params>().unwrap();
            for side in [224usize, 299] {
                let warmed = fetched(|| (0..5).for_each(|k| warm_procedural(p, k, side, side)));
                assert_eq!(warmed.len(), 5);
                let src: Vec<u8> = (0..side * side * 3).map(|i| (i * 7 % 251) as u8).collect();
                let mut dst = vec![0u8; src.len()];
                let used = fetched(|| {
                    for seed in 0..40u64 {
                        let settings = Settings::new(seed).with_preset(preset.clone());
                        crate::api::corrupt_buffer(
                            crate::api::ImageView::new(&src, side, side, PixelLayout::Rgb),
                            &mut dst,
                            Corruption::Frost,
                            (seed % 5 + 1) as u8,
                            &settings,
                        )
                        .unwrap();
                    }
                });
                assert_eq!(used, warmed, "{side}x{side}");
            }
        }
    }

    #[test]
    fn python_round_half_even() {
        // round(33/2)=16 (16.5 → 16), round(35/2)=18 (17.5 → 18), round(34/2)=17
        assert_eq!(half_even(33), 16);
        assert_eq!(half_even(35), 18);
        assert_eq!(half_even(34), 17);
        assert_eq!(half_even(0), 0);
    }
}
