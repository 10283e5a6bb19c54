//! `stylize`: the Stylized-ImageNet / Stylized-COCO distribution shift (ALGORITHMS.md §9.2, §8.2),
//! as a catalogue operator outside the 19 -C corruptions.
//!
//! A [`Stylizer`] holds the style images (a folder scanned recursively in sorted order, one
//! file, or in-memory images), the backend and the style preparation settings; pass it to the
//! library with [`crate::Settings::with_stylizer`] and call [`crate::corrupt_with`] with
//! [`crate::Corruption::Stylize`], or use [`crate::stylize_image`] for a one-off content + style pair.
//!
//! * **Style choice**: one style per content image, uniform with replacement over the sorted
//!   style list ([`Stylizer::pick`]). The library picks `pick(derive_seed(seed, ["stylize"]))`
//!   unless [`crate::Settings::with_style_index`] names one; `generate` picks
//!   `pick(derive_seed(run_seed, [source path, "stylize"]))`, so all severities of an image
//!   share its style, and records the style in the manifest.
//! * **Style preparation** (ALGORITHMS.md §9.2): converted to RGB (alpha dropped), centre-cropped to
//!   the largest square (offsets `floor((w − side) / 2)`, `floor((h − side) / 2)`), then
//!   downscaled to `style_size`² (default 224, as Stylized-ImageNet) with Pillow's LANCZOS
//!   (= `ANTIALIAS`) filter. Like PIL's `thumbnail`, smaller squares are not upscaled. The
//!   content keeps its size. Prepared styles and their statistics are cached (bounded, LRU),
//!   computed once per style while they stay in the cache, safe to share between threads.
//! * **Strength** α ∈ [0, 1]: from the preset's `[stylize] alpha` row per severity
//!   (0.2, 0.4, 0.6, 0.8, 1.0 by default), or [`Stylizer::with_alpha`] for all severities.
//! * **Backends** ([`Backend`]): `statistics` (default, weight-free, [`statistics`]) and
//!   `adain` (the AdaIN network, cargo feature `adain`, weights supplied by the user).
//!
//! ```
//! use std::sync::Arc;
//! use image::{DynamicImage, Rgb, RgbImage};
//! use imgcorrupt::{corrupt_with, Corruption, Settings, Stylizer};
//!
//! let style = DynamicImage::ImageRgb8(RgbImage::from_fn(64, 48, |x, y| {
//!     Rgb([(x * 4) as u8, (y * 5) as u8, if (x / 4 + y / 4) % 2 == 0 { 40 } else { 220 }])
//! }));
//! // or Stylizer::from_dir(Path::new("paintings/")) for a folder of style images
//! let styles = Arc::new(Stylizer::from_images(vec![("checks".into(), style)])?);
//! let content = DynamicImage::ImageRgb8(RgbImage::from_pixel(32, 24, Rgb([120, 80, 200])));
//! let settings = Settings::new(7).with_stylizer(styles);
//! let out = corrupt_with(&content, Corruption::Stylize, 5, &settings)?; // severity 5: α = 1
//! assert_eq!((out.width(), out.height()), (32, 24));
//! # Ok::<(), imgcorrupt::Error>(())
//! ```

#[cfg(feature = "adain")]
pub mod adain;
pub mod histmatch;
pub mod pyramid;
pub mod statistics;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use image::{DynamicImage, RgbImage};

use crate::error::{Error, Result};
use crate::kernels::resample::{self, Filter};

/// Side of prepared styles unless [`Stylizer::with_style_size`] says otherwise
/// (Stylized-ImageNet: 224).
pub const DEFAULT_STYLE_SIZE: u32 = 224;

/// File extensions (case-insensitive) taken from a styles folder; other files are ignored.
pub const STYLE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"];

/// How many prepared styles a [`Stylizer`] keeps in memory (least recently used evicted).
pub const CACHE_CAPACITY: usize = 128;

/// Which stylization backend to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum BackendKind {
    /// Weight-free colour + band-energy + histogram transfer ([`statistics`]).
    #[default]
    Statistics,
    /// The AdaIN network of Huang & Belongie (cargo feature `adain`).
    Adain,
}

impl BackendKind {
    /// Command-line / manifest name.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Statistics => "statistics",
            BackendKind::Adain => "adain",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "statistics" | "stats" => Ok(BackendKind::Statistics),
            "adain" => Ok(BackendKind::Adain),
            other => Err(format!(
                "unknown style backend `{other}`: expected statistics or adain"
            )),
        }
    }
}

/// A loaded backend.
#[derive(Clone)]
pub enum Backend {
    /// [`statistics`]: no weights.
    Statistics,
    /// AdaIN with its loaded network.
    #[cfg(feature = "adain")]
    Adain(Arc<adain::AdainNet>),
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind().name())
    }
}

/// The error for `--style-backend adain` in a build without the feature.
pub fn adain_unavailable() -> Error {
    Error::InvalidArgument(
        "style backend `adain`: imgcorrupt was built without the `adain` feature; rebuild with --features adain".into(),
    )
}

impl Backend {
    /// Which backend this is.
    pub fn kind(&self) -> BackendKind {
        match self {
            Backend::Statistics => BackendKind::Statistics,
            #[cfg(feature = "adain")]
            Backend::Adain(_) => BackendKind::Adain,
        }
    }

    /// Load a backend: `statistics` needs nothing; `adain` needs the VGG encoder and decoder
    /// weight files (`.pth` or `.safetensors`) and the `adain` feature.
    pub fn load(kind: BackendKind, vgg: Option<&Path>, decoder: Option<&Path>) -> Result<Backend> {
        match kind {
            BackendKind::Statistics => Ok(Backend::Statistics),
            BackendKind::Adain => {
                #[cfg(feature = "adain")]
                {
                    let (Some(vgg), Some(decoder)) = (vgg, decoder) else {
                        return Err(Error::InvalidArgument(
                            "style backend `adain` needs the weight files: --vgg vgg_normalised.pth --decoder decoder.pth".into(),
                        ));
                    };
                    Ok(Backend::Adain(Arc::new(adain::AdainNet::load(
                        vgg, decoder,
                    )?)))
                }
                #[cfg(not(feature = "adain"))]
                {
                    let _ = (vgg, decoder);
                    Err(adain_unavailable())
                }
            }
        }
    }
}

/// Where a style's pixels come from.
#[derive(Clone)]
enum StyleData {
    File(PathBuf),
    Image(Arc<DynamicImage>),
}

/// One style of a [`Stylizer`].
#[derive(Clone)]
struct StyleEntry {
    /// Relative path (`/`-separated) or the given name.
    name: String,
    /// File size in bytes (in-memory styles: raw byte count).
    size: u64,
    data: StyleData,
}

/// A style image prepared for a backend (square RGB8 plus what the backend precomputes).
pub struct PreparedStyle {
    /// Relative path in the styles folder (or the name given to [`Stylizer::from_images`]).
    pub name: String,
    /// SHA-256 of the style file (in-memory styles: of the raw RGB8 bytes).
    pub sha256: String,
    /// Prepared pixels, `side`×`side` RGB8.
    pub rgb: Vec<u8>,
    /// Side of the prepared square.
    pub side: usize,
    /// Statistics-backend summary.
    pub stats: statistics::StyleStats,
    /// AdaIN features of the prepared style (adain backend only).
    #[cfg(feature = "adain")]
    pub adain: Option<adain::AdainStyle>,
}

#[derive(Default)]
struct Cache {
    tick: u64,
    map: HashMap<usize, (Arc<PreparedStyle>, u64)>,
}

/// The style source, backend and settings of `stylize` (see the module docs).
pub struct Stylizer {
    root: Option<PathBuf>,
    entries: Vec<StyleEntry>,
    backend: Backend,
    style_size: u32,
    alpha: Option<f32>,
    cache: Mutex<Cache>,
    shas: Mutex<HashMap<usize, String>>,
}

impl fmt::Debug for Stylizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stylizer")
            .field("root", &self.root)
            .field("styles", &self.entries.len())
            .field("backend", &self.backend)
            .field("style_size", &self.style_size)
            .field("alpha", &self.alpha)
            .finish()
    }
}

fn has_style_extension(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .map(|e| STYLE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

/// Image files under `dir`, recursively, as (relative `/` path, absolute path), sorted by
/// relative path. Hidden entries (name starting with `.`) are skipped.
fn scan(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|source| Error::Io {
            path: d.clone(),
            source,
        })?;
        for e in rd {
            let e = e.map_err(|source| Error::Io {
                path: d.clone(),
                source,
            })?;
            let p = e.path();
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let ft = std::fs::metadata(&p).map_err(|source| Error::Io {
                path: p.clone(),
                source,
            })?;
            if ft.is_dir() {
                stack.push(p);
            } else if has_style_extension(&p) {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap_or(&p)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, p));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Check that a style file is a readable image (format and dimensions from its header).
fn check_readable(path: &Path) -> Result<u64> {
    let codec = |message: String| Error::Codec {
        path: path.to_path_buf(),
        message: format!("unreadable style image: {message}"),
    };
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.len() == 0 {
        return Err(codec("empty file".into()));
    }
    let reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| codec(e.to_string()))?;
    if reader.format().is_none() {
        return Err(codec("not a recognised image format".into()));
    }
    let (w, h) = reader.into_dimensions().map_err(|e| codec(e.to_string()))?;
    if w == 0 || h == 0 {
        return Err(codec(format!("image is {w}x{h}")));
    }
    Ok(meta.len())
}

/// Prepare a style image (ALGORITHMS.md §9.2): RGB, centre square crop, LANCZOS downscale to at most
/// `size`×`size`. Returns the pixels and the side.
pub fn prepare_style(img: &DynamicImage, size: u32) -> (Vec<u8>, usize) {
    let rgb = img.to_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let side = w.min(h);
    let (left, top) = ((w - side) / 2, (h - side) / 2);
    let raw = rgb.as_raw();
    let mut sq = Vec::with_capacity(side * side * 3);
    for y in top..top + side {
        sq.extend_from_slice(&raw[(y * w + left) * 3..(y * w + left + side) * 3]);
    }
    let size = (size.max(1)) as usize;
    if side > size {
        (
            resample::resize(&sq, side, side, 3, size, size, Filter::Lanczos),
            size,
        )
    } else {
        (sq, side)
    }
}

impl Stylizer {
    fn with_entries(root: Option<PathBuf>, entries: Vec<StyleEntry>) -> Stylizer {
        Stylizer {
            root,
            entries,
            backend: Backend::Statistics,
            style_size: DEFAULT_STYLE_SIZE,
            alpha: None,
            cache: Mutex::new(Cache::default()),
            shas: Mutex::new(HashMap::new()),
        }
    }

    /// Every image file under `dir` (recursive, sorted by relative path, extensions
    /// [`STYLE_EXTENSIONS`]). Fails, naming the problem, when the folder is missing, holds no
    /// image file, or any image file cannot be read as an image (its header is checked here,
    /// so a benchmark never silently drops a style).
    pub fn from_dir(dir: &Path) -> Result<Stylizer> {
        if !dir.is_dir() {
            return Err(Error::InvalidArgument(format!(
                "styles folder {}: does not exist or is not a folder",
                dir.display()
            )));
        }
        let files = scan(dir)?;
        if files.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "styles folder {}: contains no style images ({})",
                dir.display(),
                STYLE_EXTENSIONS.join(", ")
            )));
        }
        // Header checks in parallel (a painting collection has ~10⁵ files); the first failure
        // in sorted order is reported, so the error does not depend on the thread count.
        use rayon::prelude::*;
        let sizes: Vec<Result<u64>> = files
            .par_iter()
            .map(|(_, path)| check_readable(path))
            .collect();
        let mut entries = Vec::with_capacity(files.len());
        for ((name, path), size) in files.into_iter().zip(sizes) {
            entries.push(StyleEntry {
                name,
                size: size?,
                data: StyleData::File(path),
            });
        }
        Ok(Stylizer::with_entries(Some(dir.to_path_buf()), entries))
    }

    /// A single style file (its name is the file name).
    pub fn from_file(path: &Path) -> Result<Stylizer> {
        let size = check_readable(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(Stylizer::with_entries(
            path.parent().map(Path::to_path_buf),
            vec![StyleEntry {
                name,
                size,
                data: StyleData::File(path.to_path_buf()),
            }],
        ))
    }

    /// In-memory style images with names, kept in the given order (at least one).
    pub fn from_images(images: Vec<(String, DynamicImage)>) -> Result<Stylizer> {
        if images.is_empty() {
            return Err(Error::InvalidArgument(
                "Stylizer::from_images: no style image given".into(),
            ));
        }
        let mut entries = Vec::with_capacity(images.len());
        for (name, img) in images {
            if img.width() == 0 || img.height() == 0 {
                return Err(Error::InvalidImage(format!(
                    "style `{name}` is {}x{}",
                    img.width(),
                    img.height()
                )));
            }
            entries.push(StyleEntry {
                name,
                size: img.as_bytes().len() as u64,
                data: StyleData::Image(Arc::new(img)),
            });
        }
        Ok(Stylizer::with_entries(None, entries))
    }

    /// Builder: the backend (default [`Backend::Statistics`]). Clears the cache.
    pub fn with_backend(mut self, backend: Backend) -> Stylizer {
        self.backend = backend;
        self.cache = Mutex::new(Cache::default());
        self
    }

    /// Builder: side of prepared styles (default [`DEFAULT_STYLE_SIZE`]; at least 1).
    pub fn with_style_size(mut self, size: u32) -> Stylizer {
        self.style_size = size.max(1);
        self.cache = Mutex::new(Cache::default());
        self
    }

    /// Builder: one α ∈ [0, 1] for every severity instead of the preset row (`None`: preset).
    pub fn with_alpha(mut self, alpha: Option<f32>) -> Result<Stylizer> {
        if let Some(a) = alpha {
            if !(0.0..=1.0).contains(&a) {
                return Err(Error::InvalidArgument(format!(
                    "alpha {a} is out of range: use a value in [0, 1]"
                )));
            }
        }
        self.alpha = alpha;
        Ok(self)
    }

    /// The styles folder (or the folder of a single style file), if the styles are files.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Side of prepared styles.
    pub fn style_size(&self) -> u32 {
        self.style_size
    }

    /// α override, if any.
    pub fn alpha(&self) -> Option<f32> {
        self.alpha
    }

    /// α used at severity index `level` (0..=4) when the parameter table gives `alpha_row`
    /// (the preset's `stylize.alpha`): the override if any, else the row's value. The row is
    /// passed in so that the engine does not read presets (it sits below them).
    pub fn alpha_for(&self, alpha_row: &[f64; 5], level: usize) -> f32 {
        self.alpha.unwrap_or(alpha_row[level.min(4)] as f32)
    }

    /// Number of styles (≥ 1).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false (a stylizer has at least one style); for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Name (relative path) of style `index`.
    ///
    /// # Panics
    /// If `index >= self.len()`.
    pub fn name(&self, index: usize) -> &str {
        &self.entries[index].name
    }

    /// Uniform choice of a style index from a 64-bit key: `floor(key · n / 2⁶⁴)` (multiply-shift;
    /// bias below n / 2⁶⁴).
    pub fn pick(&self, key: u64) -> usize {
        ((key as u128 * self.entries.len() as u128) >> 64) as usize
    }

    /// The library's choice for a call seed: `pick(derive_seed(seed, ["stylize"]))`.
    pub fn pick_for_seed(&self, seed: u64) -> usize {
        self.pick(crate::rng::derive_seed(seed, &[b"stylize"]))
    }

    /// `generate`'s choice for a source image: `pick(derive_seed(run_seed, [source,
    /// "stylize"]))` (no severity: every severity of the image gets the same style).
    pub fn pick_for_source(&self, run_seed: u64, source: &str) -> usize {
        self.pick(crate::rng::derive_seed(
            run_seed,
            &[source.as_bytes(), b"stylize"],
        ))
    }

    /// SHA-256 over the sorted list `name \t size \n` of all styles: changes when a style is
    /// added, removed, renamed or changes size (recorded in manifests; cheap, no file read).
    pub fn list_digest(&self) -> String {
        let mut text = String::new();
        for e in &self.entries {
            text.push_str(&e.name);
            text.push('\t');
            text.push_str(&e.size.to_string());
            text.push('\n');
        }
        crate::digest::sha256_hex(text.as_bytes())
    }

    /// SHA-256 of style `index` (file bytes; in-memory: raw pixels), memoised. An index past
    /// the list is an error.
    pub fn style_sha256(&self, index: usize) -> Result<String> {
        self.check_index(index)?;
        if let Some(s) = self.shas.lock().expect("lock").get(&index) {
            return Ok(s.clone());
        }
        let sha = match &self.entries[index].data {
            StyleData::File(p) => crate::digest::sha256_file(p).map_err(|source| Error::Io {
                path: p.clone(),
                source,
            })?,
            StyleData::Image(img) => crate::digest::sha256_hex(img.as_bytes()),
        };
        self.shas.lock().expect("lock").insert(index, sha.clone());
        Ok(sha)
    }

    /// Style `index`, prepared for the backend (cached; see the module docs). An index past the
    /// list is an error.
    pub fn prepared(&self, index: usize) -> Result<Arc<PreparedStyle>> {
        self.check_index(index)?;
        {
            let mut c = self.cache.lock().expect("lock");
            c.tick += 1;
            let tick = c.tick;
            if let Some((p, t)) = c.map.get_mut(&index) {
                *t = tick;
                return Ok(p.clone());
            }
        }
        // Prepared outside the lock: two threads may prepare the same style at once; both
        // results are identical, the second insert wins.
        let p = Arc::new(self.prepare(index)?);
        let mut c = self.cache.lock().expect("lock");
        if c.map.len() >= CACHE_CAPACITY {
            if let Some(&old) = c.map.iter().min_by_key(|(_, (_, t))| *t).map(|(k, _)| k) {
                c.map.remove(&old);
            }
        }
        let tick = c.tick;
        c.map.insert(index, (p.clone(), tick));
        Ok(p)
    }

    fn check_index(&self, index: usize) -> Result<()> {
        if index >= self.entries.len() {
            return Err(Error::InvalidArgument(format!(
                "style index {index} is out of range: {} style(s)",
                self.entries.len()
            )));
        }
        Ok(())
    }

    fn prepare(&self, index: usize) -> Result<PreparedStyle> {
        let e = &self.entries[index];
        let (img, sha) = match &e.data {
            StyleData::File(p) => {
                let bytes = std::fs::read(p).map_err(|source| Error::Io {
                    path: p.clone(),
                    source,
                })?;
                let sha = crate::digest::sha256_hex(&bytes);
                let img = crate::io::decode_image(&bytes, p, crate::io::DEFAULT_MAX_PIXELS)
                    .map_err(|err| Error::InvalidArgument(format!("style image: {err}")))?;
                (std::borrow::Cow::Owned(img), sha)
            }
            StyleData::Image(img) => (
                std::borrow::Cow::Borrowed(&**img),
                crate::digest::sha256_hex(img.as_bytes()),
            ),
        };
        self.shas.lock().expect("lock").insert(index, sha.clone());
        let (rgb, side) = prepare_style(&img, self.style_size);
        let stats = statistics::StyleStats::of(&rgb, side, side);
        #[cfg(feature = "adain")]
        let adain = match &self.backend {
            Backend::Adain(net) => Some(net.style_features(&rgb, side as u32, side as u32)?),
            Backend::Statistics => None,
        };
        Ok(PreparedStyle {
            name: e.name.clone(),
            sha256: sha,
            rgb,
            side,
            stats,
            #[cfg(feature = "adain")]
            adain,
        })
    }
}

/// The style a `stylize` job uses (built by [`crate::api`]).
#[derive(Clone, Copy)]
pub struct StyleRef<'a> {
    /// The stylizer (backend, α override).
    pub stylizer: &'a Stylizer,
    /// The chosen, prepared style.
    pub style: &'a PreparedStyle,
}

/// An RGB8 image from a prepared style (for galleries).
pub fn prepared_image(p: &PreparedStyle) -> RgbImage {
    RgbImage::from_raw(p.side as u32, p.side as u32, p.rgb.clone()).expect("square RGB")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(i: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(3, 2, |x, y| {
            image::Rgb([(i * 7 + x) as u8, (i * 3 + y) as u8, i as u8])
        }))
    }

    #[test]
    fn cache_is_bounded_and_results_do_not_depend_on_it() {
        let n = CACHE_CAPACITY + 5;
        let st = Stylizer::from_images((0..n as u32).map(|i| (format!("s{i}"), tiny(i))).collect())
            .unwrap();
        let first = st.prepared(0).unwrap();
        for i in 0..n {
            st.prepared(i).unwrap();
        }
        assert!(st.cache.lock().unwrap().map.len() <= CACHE_CAPACITY);
        // style 0 was evicted (least recently used); re-preparing gives the same data
        let again = st.prepared(0).unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(first.rgb, again.rgb);
        assert_eq!(first.sha256, again.sha256);
        assert!(st.prepared(n).is_err());
    }

    #[test]
    fn stylizer_is_shareable_between_threads() {
        fn check<T: Send + Sync>() {}
        check::<Stylizer>();
        check::<PreparedStyle>();
    }

    #[test]
    fn pick_is_uniform_multiply_shift() {
        let st =
            Stylizer::from_images((0..3).map(|i| (format!("s{i}"), tiny(i))).collect()).unwrap();
        assert_eq!(st.pick(0), 0);
        assert_eq!(st.pick(u64::MAX), 2);
        assert_eq!(st.pick(u64::MAX / 3 + 1), 1);
        assert_eq!("adain".parse::<BackendKind>(), Ok(BackendKind::Adain));
        assert!("neural".parse::<BackendKind>().is_err());
    }
}
