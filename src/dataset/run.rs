//! Step 3: execution. Rayon over source images; each worker decodes its image once, applies
//! the geometry, then produces every requested corruption × severity cell from it, encodes,
//! and writes each output atomically (hidden temp name in the same folder, then rename), then
//! appends the item's records to the journal. Memory is bounded by the thread count: a worker
//! holds one decoded source, one corrupted buffer and one encoded file at a time, and the
//! dataset itself is only a sorted list of paths.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use image::DynamicImage;
use rayon::prelude::*;

use super::manifest::StyleHeader;
use super::manifest::{self, Header, Kind, Record};
use super::plan::{self, ItemKind, Ledger};
use super::{
    discover, output_seed, AnnotationMode, Cell, ChannelOrder, DatasetKind, Geometry,
    ImageFormatChoice,
};
use crate::catalogue::Corruption;
use crate::codecs::{encode_rgb, IMAGE_VERSION, SOURCE_DECODER};
use crate::digest::{hex, parse_hex32, sha256_file, sha256_hex};
use crate::error::{Error, Result};
use crate::io::OutputFormat;
use crate::kernels::resample::{self, Filter};
use crate::{PixelLayout, Preset, RngMode, Settings, Stylizer};

/// Tag of the temporary file an output is written to before its rename. It is fixed (not per
/// process) so that a rerun after `kill -9` finds and removes a stale one.
const TMP_TAG: &str = "imgcorrupt-tmp";

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
    pub frost: Option<Arc<crate::kernels::frost::FrostTextures>>,
    /// Style source and backend of `stylize` cells (`None`: stylize cells fail, naming it).
    pub stylizer: Option<Arc<Stylizer>>,
    /// What the manifest header records about the stylizer (set with `stylizer`).
    pub style_header: Option<StyleHeader>,
}

impl Pipeline {
    /// What the manifest records as the frost source: `procedural`, or `textures:<dir>` for
    /// the reference's photographs (verify reloads them from there).
    pub fn frost_source(&self) -> String {
        match &self.frost {
            None => "procedural".into(),
            Some(t) => format!("textures:{}", t.dir.display()),
        }
    }

    /// Load the frost source named by [`Pipeline::frost_source`].
    pub fn load_frost(
        source: Option<&str>,
    ) -> Result<Option<Arc<crate::kernels::frost::FrostTextures>>> {
        match source.and_then(|s| s.strip_prefix("textures:")) {
            None => Ok(None),
            Some(dir) => Ok(Some(Arc::new(crate::kernels::frost::FrostTextures::load(
                Path::new(dir),
            )?))),
        }
    }

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
        let bytes = encode_rgb(scratch, w, h, format, self.quality, self.webp)
            .map_err(|m| Error::InvalidImage(format!("cannot encode: {m}")))?;
        Ok((bytes, seed))
    }

    /// The seed of the output of `source` in `cell` (seed rule, see [`super`]).
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

    /// The manifest's description of a stylizer (`source`: `dir:<path>` or `file:<path>`;
    /// `vgg`/`decoder`: weight paths of the adain backend), hashing the weight files.
    pub fn style_header(
        st: &Stylizer,
        source: String,
        vgg: Option<&Path>,
        decoder: Option<&Path>,
    ) -> Result<StyleHeader> {
        // Absolute paths, as for the style source: `verify --input` reloads the weights from
        // wherever it is run.
        let weights = |p: Option<&Path>| -> Result<Option<String>> {
            p.map(|p| {
                let io = |source| Error::Io {
                    path: p.to_path_buf(),
                    source,
                };
                let abs = std::fs::canonicalize(p).map_err(io)?;
                sha256_file(&abs)
                    .map(|h| format!("{} sha256:{h}", abs.display()))
                    .map_err(io)
            })
            .transpose()
        };
        let adain = st.backend().kind() == crate::StyleBackendKind::Adain;
        Ok(StyleHeader {
            source,
            count: st.len(),
            list_sha256: st.list_digest(),
            choice: "v1: styles sorted by relative path; index = floor(derive_seed(run_seed, [source relative path, \"stylize\"]) * count / 2^64); same style for every severity".into(),
            backend: st.backend().kind().name().into(),
            style_size: st.style_size(),
            alpha: st
                .alpha()
                .map(|a| a.to_string())
                .unwrap_or_else(|| "preset".into()),
            vgg: if adain { weights(vgg)? } else { None },
            decoder: if adain { weights(decoder)? } else { None },
        })
    }

    /// Rebuild the stylizer a manifest header describes (for `verify`); an error says what
    /// changed when the style set no longer matches.
    pub fn load_stylizer(h: Option<&StyleHeader>) -> Result<Option<Arc<Stylizer>>> {
        let Some(h) = h else {
            return Ok(None);
        };
        let st = if let Some(dir) = h.source.strip_prefix("dir:") {
            Stylizer::from_dir(Path::new(dir))?
        } else if let Some(file) = h.source.strip_prefix("file:") {
            Stylizer::from_file(Path::new(file))?
        } else {
            return Err(Error::InvalidArgument(format!(
                "manifest header stylize.source `{}`: expected dir:<path> or file:<path>",
                h.source
            )));
        };
        if st.len() != h.count || st.list_digest() != h.list_sha256 {
            return Err(Error::InvalidArgument(format!(
                "style set {} has changed since generation ({} style(s) now, {} then; list SHA-256 differs): cannot regenerate stylize outputs",
                h.source,
                st.len(),
                h.count
            )));
        }
        let path_of = |w: &Option<String>| {
            w.as_deref()
                .map(|s| PathBuf::from(s.rsplit_once(" sha256:").map(|(p, _)| p).unwrap_or(s)))
        };
        // Weights changed since generation would make every adain output a mismatch: say so
        // once, naming the file, instead.
        for w in [&h.vgg, &h.decoder].into_iter().flatten() {
            if let Some((p, want)) = w.rsplit_once(" sha256:") {
                let now = sha256_file(Path::new(p)).map_err(|source| Error::Io {
                    path: PathBuf::from(p),
                    source,
                })?;
                if now != want {
                    return Err(Error::InvalidArgument(format!(
                        "weight file {p} has changed since generation (SHA-256 {now}, was {want}): cannot regenerate stylize outputs"
                    )));
                }
            }
        }
        let kind: crate::StyleBackendKind = h
            .backend
            .parse()
            .map_err(|e: String| Error::InvalidArgument(format!("manifest header: {e}")))?;
        let backend = crate::StyleBackend::load(
            kind,
            path_of(&h.vgg).as_deref(),
            path_of(&h.decoder).as_deref(),
        )?;
        let alpha = match h.alpha.as_str() {
            "preset" => None,
            a => Some(a.parse::<f32>().map_err(|_| {
                Error::InvalidArgument(format!("manifest header stylize.alpha `{a}`"))
            })?),
        };
        Ok(Some(Arc::new(
            st.with_backend(backend)
                .with_style_size(h.style_size)
                .with_alpha(alpha)?,
        )))
    }

    /// Encoder names, versions and settings per output format.
    pub fn encoders(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert(
            "jpeg".into(),
            format!(
                "imgcorrupt libjpeg-turbo-compatible baseline encoder: quality {}, 4:2:0, islow DCT, optimal Huffman tables",
                self.quality
            ),
        );
        m.insert(
            "png".into(),
            format!("image {IMAGE_VERSION} PngEncoder: default compression, adaptive filter"),
        );
        m.insert("webp".into(), self.webp.describe());
        m.insert("bmp".into(), format!("image {IMAGE_VERSION} BmpEncoder"));
        m.insert("tiff".into(), format!("image {IMAGE_VERSION} TiffEncoder"));
        m
    }
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
fn imagenet_resize_dims(w: usize, h: usize) -> (usize, usize) {
    let (short, long) = (w.min(h), w.max(h));
    let new_long = ((256 * long) as f64 / short as f64) as usize;
    if w <= h {
        (256, new_long)
    } else {
        (new_long, 256)
    }
}

/// ImageNet-C preprocessing (spec §5.1): torchvision `Resize(256)` on a PIL image (shorter
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

/// Receives progress events (the CLI draws a bar or prints lines).
pub trait Progress: Sync {
    /// Work is starting: `images` source images in this shard.
    fn start(&self, images: u64);
    /// `n` more source images are finished (written, skipped or failed).
    fn advance(&self, n: u64);
    /// A message for the user (notes, failures).
    fn note(&self, msg: &str);
    /// All done.
    fn finish(&self);
}

/// A progress sink that ignores everything.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn note(&self, _: &str) {}
    fn finish(&self) {}
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Dataset root.
    pub input: PathBuf,
    /// Output root.
    pub output: PathBuf,
    /// Adapter (`None`: detect).
    pub kind: Option<DatasetKind>,
    /// Cells to produce (implemented corruptions only).
    pub cells: Vec<Cell>,
    /// How outputs are made.
    pub pipeline: Pipeline,
    /// Output format choice.
    pub image_format: ImageFormatChoice,
    /// Annotation handling.
    pub annotations: AnnotationMode,
    /// Worker threads.
    pub threads: usize,
    /// This process's shard (K, N).
    pub shard: Option<(usize, usize)>,
    /// Only this split (see [`discover::select_split`]).
    pub split: Option<String>,
    /// Preset name/path given by the user.
    pub preset_source: String,
    /// SHA-256 of the preset text.
    pub preset_sha256: String,
    /// Benchmark floor: decode + preprocess + encode every cell of the clean image, write
    /// nothing (no corruption, no files, no manifest).
    pub floor: bool,
}

/// Outcome of a run.
#[derive(Debug, Default)]
pub struct Summary {
    /// Adapter used.
    pub kind: Option<DatasetKind>,
    /// Source images in this shard.
    pub images: usize,
    /// Image outputs written by this run.
    pub written: usize,
    /// Image outputs already present and matching the manifest/journal.
    pub skipped: usize,
    /// Annotation files carried (written) by this run.
    pub carried: usize,
    /// Failures: `path: reason`, sorted.
    pub failed: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
    /// Records in the merged `manifest.jsonl`, if one was written.
    pub manifest_records: Option<usize>,
    /// Path of the manifest or shard part written.
    pub manifest_path: Option<PathBuf>,
}

/// `path` made absolute and canonical, so that "OUTPUT inside INPUT" can be checked before
/// OUTPUT exists: component by component, an existing prefix is resolved by the file system
/// (links), and a missing component is taken literally — `create_dir_all` will make it a
/// real folder, so a `..` after it leads back to its parent (`new/../input/x` is
/// `input/x`, not a path outside INPUT).
fn canonical_prefix(path: &Path) -> PathBuf {
    use std::path::Component;
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut c = PathBuf::new();
    for comp in abs.components() {
        match comp {
            Component::Prefix(_) | Component::RootDir => c.push(comp.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                c.pop();
            }
            Component::Normal(n) => {
                c.push(n);
                if let Ok(real) = fs::canonicalize(&c) {
                    c = real;
                }
            }
        }
    }
    c
}

/// Build the manifest header of a run.
pub fn header(opts: &Options, kind: DatasetKind) -> Header {
    let p = &opts.pipeline;
    Header {
        imgcorrupt_manifest: 1,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        dataset: kind.name().into(),
        preset: p.preset.info().name.clone(),
        preset_source: opts.preset_source.clone(),
        preset_sha256: opts.preset_sha256.clone(),
        rng: p.rng.to_string(),
        seed: p.seed,
        seed_rule: super::SEED_RULE.into(),
        geometry: p.geometry.name().into(),
        channel_order: p.channel_order.name().into(),
        image_format: opts.image_format.name().into(),
        encoders: p.encoders(),
        annotations: opts.annotations.name().into(),
        frost_source: Some(p.frost_source()),
        stylize: p.style_header.clone(),
        decoder: Some(SOURCE_DECODER.into()),
    }
}

struct Shared<'a> {
    opts: &'a Options,
    ledger: Ledger,
    resuming: bool,
    journal: Option<Mutex<fs::File>>,
    failed: Mutex<Vec<String>>,
    written: AtomicUsize,
    skipped: AtomicUsize,
    carried: AtomicUsize,
}

impl Shared<'_> {
    fn fail(&self, progress: &dyn Progress, msg: String) {
        progress.note(&format!("failed: {msg}"));
        self.failed.lock().expect("lock").push(msg);
    }

    fn journal(&self, records: &[Record]) -> Result<()> {
        let Some(j) = &self.journal else {
            return Ok(());
        };
        if records.is_empty() {
            return Ok(());
        }
        let text: String = records.iter().map(manifest::line).collect();
        let mut f = j.lock().expect("lock");
        f.write_all(text.as_bytes()).map_err(|source| Error::Io {
            path: self
                .opts
                .output
                .join(manifest::journal_name(self.opts.shard)),
            source,
        })
    }

    /// Whether output (item, cell) is on disk and matches its journal/manifest record; a
    /// recorded output that does not match is forgotten (it will be regenerated).
    fn is_done(&self, i: usize, c: usize, out: &str) -> bool {
        let Some(sha) = self.ledger.get(i, c) else {
            return false;
        };
        let ok = matches!(sha256_file(&self.opts.output.join(out)), Ok(h) if h == hex(&sha));
        if !ok {
            self.ledger.set(i, c, None, None);
        }
        ok
    }

    fn clear_stale_tmp(&self, path: &Path) {
        if self.resuming {
            if let Ok(tmp) = crate::io::temp_path(path, TMP_TAG) {
                let _ = fs::remove_file(tmp);
            }
        }
    }

    /// Record a written output in the ledger and return its journal record.
    fn record(&self, i: usize, c: usize, sha: &str, src_sha: &str, seed: Option<u64>) -> Record {
        let it = &self.ledger.items()[i];
        let cell = self.ledger.cells()[c];
        let style = seed.and_then(|_| self.opts.pipeline.style_of(&it.source, cell));
        let (style, style_sha256) = match style {
            Some((n, s)) => (Some(n), Some(s)),
            None => (None, None),
        };
        self.ledger
            .set(i, c, parse_hex32(sha), parse_hex32(src_sha));
        Record {
            output: it.output(cell),
            source: it.source.clone(),
            source_sha256: src_sha.to_string(),
            sha256: sha.to_string(),
            kind: if it.kind == ItemKind::Image {
                Kind::Image
            } else {
                Kind::Annotation
            },
            corruption: cell.corruption.name().into(),
            severity: cell.severity,
            seed,
            style,
            style_sha256,
        }
    }
}

/// Run `generate`. Errors are fatal problems found before any output is written (bad INPUT
/// or OUTPUT, malformed annotations, a manifest with other settings); per-image failures are
/// in [`Summary::failed`].
pub fn generate(opts: &Options, progress: &dyn Progress) -> Result<Summary> {
    let start = Instant::now();
    let input = &opts.input;
    if !input.is_dir() {
        return Err(Error::InvalidArgument(format!(
            "{}: input folder does not exist or is not a folder",
            input.display()
        )));
    }
    let cin = fs::canonicalize(input).map_err(|source| Error::Io {
        path: input.clone(),
        source,
    })?;
    let cout = canonical_prefix(&opts.output);
    if cout.starts_with(&cin) {
        return Err(Error::InvalidArgument(format!(
            "output {} is {} input {}: refusing to write into the input tree",
            opts.output.display(),
            if cout == cin {
                "the same folder as"
            } else {
                "inside"
            },
            input.display()
        )));
    }
    for cell in &opts.cells {
        if cin.starts_with(cout.join(cell.corruption.name())) {
            return Err(Error::InvalidArgument(format!(
                "input {} lies inside an output cell of {}: refusing",
                input.display(),
                opts.output.display()
            )));
        }
    }
    let kind = match opts.kind {
        Some(k) => k,
        None => discover::detect(input)?,
    };
    // Outputs are never read back as sources through a link in INPUT (unless INPUT itself
    // lies under OUTPUT, e.g. `-o /data` for `/data/imagenet/val`: then nothing is excluded).
    let exclude = (!cin.starts_with(&cout)).then_some(cout.as_path());
    let mut ds = discover::discover_excluding(input, kind, exclude)?;
    if let Some(split) = &opts.split {
        ds = discover::select_split(ds, input, split)?;
    }
    for n in &ds.notes {
        progress.note(n);
    }
    // Image files that cannot be used are failures of the run (reported by one shard only,
    // so that a sharded run names each once).
    let unusable: Vec<String> = if opts.shard.is_none_or(|(k, _)| k == 0) {
        std::mem::take(&mut ds.unusable)
            .into_iter()
            .map(|(rel, reason)| format!("{}: {reason}", input.join(rel).display()))
            .collect()
    } else {
        Vec::new()
    };
    let carry = opts.annotations != AnnotationMode::None;
    let items = plan::shard(plan::items(&ds, opts.image_format, carry)?, opts.shard);
    drop(ds);
    let header = header(opts, kind);
    let ledger = Ledger::new(items, opts.cells.clone());

    let mut journal = None;
    let mut resuming = false;
    if !opts.floor {
        fs::create_dir_all(&opts.output).map_err(|source| Error::Io {
            path: opts.output.clone(),
            source,
        })?;
        if let Some(h) = manifest::common_header(&opts.output)? {
            if h != header {
                return Err(Error::InvalidArgument(format!(
                    "{} holds outputs made with different settings ({}): use another OUTPUT or the same settings",
                    opts.output.display(),
                    manifest::header_diff(&h, &header)
                )));
            }
            resuming = true;
        }
        for f in manifest::list_files(&opts.output) {
            manifest::stream(
                &f.path,
                f.journal,
                |_| {},
                |r| {
                    ledger.load(&r);
                    Ok(())
                },
            )?;
        }
        journal = Some(Mutex::new(open_journal(
            &opts.output.join(manifest::journal_name(opts.shard)),
            &header,
        )?));
    }
    let shared = Shared {
        opts,
        ledger,
        resuming,
        journal,
        failed: Mutex::new(Vec::new()),
        written: AtomicUsize::new(0),
        skipped: AtomicUsize::new(0),
        carried: AtomicUsize::new(0),
    };

    for msg in unusable {
        shared.fail(progress, msg);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot start threads: {e}")))?;
    let (images, carried): (Vec<usize>, Vec<usize>) = (0..shared.ledger.items().len())
        .partition(|&i| shared.ledger.items()[i].kind == ItemKind::Image);
    if !opts.floor {
        pool.install(|| {
            carried
                .par_iter()
                .for_each(|&i| carry_item(&shared, i, progress))
        });
    }
    progress.start(images.len() as u64);
    pool.install(|| {
        images
            .par_iter()
            .for_each(|&i| image_item(&shared, i, progress))
    });
    progress.finish();

    let mut summary = Summary {
        kind: Some(kind),
        images: images.len(),
        written: shared.written.load(Ordering::Relaxed),
        skipped: shared.skipped.load(Ordering::Relaxed),
        carried: shared.carried.load(Ordering::Relaxed),
        ..Summary::default()
    };
    let mut failed = std::mem::take(&mut *shared.failed.lock().expect("lock"));
    failed.sort();
    summary.failed = failed;
    let ledger = shared.ledger;
    if !opts.floor {
        finish_manifest(opts, &header, ledger, &mut summary)?;
    }
    summary.elapsed = start.elapsed();
    Ok(summary)
}

/// Open (append) the journal, writing the header into a new one and starting a fresh line
/// after a torn one.
fn open_journal(jpath: &Path, header: &Header) -> Result<fs::File> {
    use std::io::{Read, Seek, SeekFrom};
    let io_err = |source| Error::Io {
        path: jpath.to_path_buf(),
        source,
    };
    let mut f = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .read(true)
        .open(jpath)
        .map_err(io_err)?;
    // One process per journal: a second run of the same shard into the same OUTPUT would
    // delete the first one's temporaries as stale and race it for the manifest. The lock
    // (flock) lasts as long as the file is open, so a killed run never leaves it behind. File
    // systems without flock support (some cluster file systems) simply run unlocked.
    if let Err(std::fs::TryLockError::WouldBlock) = f.try_lock() {
        return Err(Error::InvalidArgument(format!(
            "another imgcorrupt is writing into {} (its journal {} is locked): wait for it to finish, or use another OUTPUT or --shard",
            jpath.parent().unwrap_or(jpath).display(),
            jpath.display()
        )));
    }
    let len = f.metadata().map_err(io_err)?.len();
    if len == 0 {
        f.write_all(manifest::line(header).as_bytes())
            .map_err(io_err)?;
    } else {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::End(-1)).map_err(io_err)?;
        f.read_exact(&mut last).map_err(io_err)?;
        if last[0] != b'\n' {
            f.write_all(b"\n").map_err(io_err)?;
        }
    }
    Ok(f)
}

/// Write the sorted manifest (unsharded) or this shard's part from the ledger, streaming
/// in the records of earlier manifests/parts that are not part of this plan, remove the
/// journal, and merge the parts when every shard has finished.
fn finish_manifest(
    opts: &Options,
    header: &Header,
    ledger: Ledger,
    summary: &mut Summary,
) -> Result<()> {
    let out = &opts.output;
    let jpath = out.join(manifest::journal_name(opts.shard));
    let files = manifest::list_files(out);
    let dest = match opts.shard {
        None => out.join(manifest::MANIFEST),
        Some((k, n)) => out.join(manifest::part_name(k, n)),
    };
    // Finished files whose foreign records (outputs not in this plan) are kept.
    let sources: Vec<PathBuf> = files
        .iter()
        .filter(|f| !f.journal && (opts.shard.is_none() || f.path == dest))
        .map(|f| f.path.clone())
        .collect();
    let pipeline = opts.pipeline.clone();
    let plan_paths = PlanFilter::new(&ledger);
    let records = ledger
        .into_records(move |src, cell| (pipeline.seed_of(src, cell), pipeline.style_of(src, cell)));
    let n = manifest::merge_sorted(&dest, header, &sources, records, |o| {
        !plan_paths.contains(o)
    })?;
    let _ = fs::remove_file(&jpath);
    summary.manifest_path = Some(dest);
    match opts.shard {
        None => summary.manifest_records = Some(n),
        Some((_, n)) => {
            let files = manifest::list_files(out);
            let complete = (0..n)
                .all(|k| files.iter().any(|f| !f.journal && f.shard == Some((k, n))))
                && !files.iter().any(|f| f.journal);
            if complete {
                summary.manifest_records = Some(manifest::merge(out, false)?);
            }
        }
    }
    Ok(())
}

/// Which output paths belong to a plan (to drop stale file records of planned outputs).
struct PlanFilter {
    cells: std::collections::HashSet<String>,
    paths: std::collections::HashSet<String>,
}

impl PlanFilter {
    fn new(ledger: &Ledger) -> PlanFilter {
        PlanFilter {
            cells: ledger
                .cells()
                .iter()
                .map(|c| format!("{}/{}", c.corruption.name(), c.severity))
                .collect(),
            paths: ledger.items().iter().map(|i| i.cell_path.clone()).collect(),
        }
    }

    fn contains(&self, output: &str) -> bool {
        let mut parts = output.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(c), Some(s), Some(p)) => {
                self.cells.contains(&format!("{c}/{s}")) && self.paths.contains(p)
            }
            _ => false,
        }
    }
}

/// Copy or hard-link one annotation file into every cell.
fn carry_item(shared: &Shared<'_>, i: usize, progress: &dyn Progress) {
    let opts = shared.opts;
    let it = &shared.ledger.items()[i];
    let src = opts.input.join(&it.source);
    let mut src_sha: Option<String> = None;
    let mut records = Vec::new();
    for (c, &cell) in shared.ledger.cells().iter().enumerate() {
        let out = it.output(cell);
        let dst = opts.output.join(&out);
        shared.clear_stale_tmp(&dst);
        if let Some(sha) = shared.ledger.get(i, c) {
            // a hard link to the unchanged source needs no re-hash of the copy
            let same_inode = {
                use std::os::unix::fs::MetadataExt;
                match (fs::metadata(&src), fs::metadata(&dst)) {
                    (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                    _ => false,
                }
            };
            if same_inode {
                if src_sha.is_none() {
                    src_sha = sha256_file(&src).ok();
                }
                if src_sha.as_deref() == Some(hex(&sha).as_str()) {
                    continue;
                }
            } else {
                // a copy is done if it is intact and the source has not changed since
                if src_sha.is_none() {
                    src_sha = sha256_file(&src).ok();
                }
                if src_sha.as_deref() == Some(hex(&sha).as_str()) && shared.is_done(i, c, &out) {
                    continue;
                }
            }
        }
        let result = (|| -> std::result::Result<Record, String> {
            if src_sha.is_none() {
                src_sha = Some(sha256_file(&src).map_err(|e| e.to_string())?);
            }
            let sha = src_sha.clone().expect("hashed");
            if let Some(parent) = dst.parent() {
                fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            let tmp = crate::io::temp_path(&dst, TMP_TAG).map_err(|e| e.to_string())?;
            let _ = fs::remove_file(&tmp);
            let linked =
                opts.annotations == AnnotationMode::Link && fs::hard_link(&src, &tmp).is_ok();
            if !linked {
                fs::copy(&src, &tmp).map_err(|e| e.to_string())?;
            }
            if let Err(e) = fs::rename(&tmp, &dst) {
                let _ = fs::remove_file(&tmp);
                return Err(e.to_string());
            }
            Ok(shared.record(i, c, &sha, &sha, None))
        })();
        match result {
            Ok(r) => {
                shared.carried.fetch_add(1, Ordering::Relaxed);
                records.push(r);
            }
            Err(e) => shared.fail(progress, format!("{}: {e}", dst.display())),
        }
    }
    if let Err(e) = shared.journal(&records) {
        shared.fail(progress, e.to_string());
    }
}

/// Decode one source image once and produce its missing cells.
fn image_item(shared: &Shared<'_>, i: usize, progress: &dyn Progress) {
    let opts = shared.opts;
    let it = &shared.ledger.items()[i];
    let format = it.format.unwrap_or(OutputFormat::Png);
    let cells = shared.ledger.cells();
    let done: Vec<bool> = if opts.floor {
        vec![false; cells.len()]
    } else {
        (0..cells.len())
            .map(|c| {
                let out = it.output(cells[c]);
                shared.clear_stale_tmp(&opts.output.join(&out));
                shared.is_done(i, c, &out)
            })
            .collect()
    };
    let src_path = opts.input.join(&it.source);
    let fail = |e: Error| {
        let msg = e.to_string();
        let msg = if msg.contains(&src_path.display().to_string()) {
            msg
        } else {
            format!("{}: {msg}", src_path.display())
        };
        shared.fail(progress, msg);
        progress.advance(1);
    };
    // The source is read (and hashed) even when every output is done: outputs recorded for
    // another version of the file are stale and are made again, so that a rerun gives what a
    // fresh run on the current INPUT gives.
    let bytes = match fs::read(&src_path) {
        Ok(b) => b,
        Err(source) => {
            return fail(Error::Io {
                path: src_path.clone(),
                source,
            })
        }
    };
    let src_sha = sha256_hex(&bytes);
    let stale = shared.ledger.source(i).is_some_and(|s| hex(&s) != src_sha);
    let mut needed = Vec::with_capacity(cells.len());
    for (c, &d) in done.iter().enumerate() {
        if d && !stale {
            shared.skipped.fetch_add(1, Ordering::Relaxed);
        } else {
            if d {
                shared.ledger.set(i, c, None, None);
                let _ = fs::remove_file(opts.output.join(it.output(cells[c])));
            }
            needed.push(c);
        }
    }
    if needed.is_empty() {
        progress.advance(1);
        return;
    }
    let (px, w, h) = match opts.pipeline.prepare(&bytes, &src_path) {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    drop(bytes);
    let mut scratch = Vec::new();
    let mut records = Vec::with_capacity(needed.len());
    for c in needed {
        let cell = cells[c];
        let out = it.output(cell);
        let dst = opts.output.join(&out);
        if opts.floor {
            let _ = std::hint::black_box(encode_rgb(
                &px,
                w,
                h,
                format,
                opts.pipeline.quality,
                opts.pipeline.webp,
            ));
            continue;
        }
        let result = opts
            .pipeline
            .render(&px, w, h, &it.source, cell, format, &mut scratch)
            .and_then(|(bytes, seed)| {
                if let Some(parent) = dst.parent() {
                    fs::create_dir_all(parent).map_err(|source| Error::Io {
                        path: parent.to_path_buf(),
                        source,
                    })?;
                }
                let tmp = crate::io::temp_path(&dst, TMP_TAG)?;
                crate::io::write_atomic_via(&dst, &tmp, &bytes, false)?;
                Ok(shared.record(i, c, &sha256_hex(&bytes), &src_sha, Some(seed)))
            });
        match result {
            Ok(r) => {
                shared.written.fetch_add(1, Ordering::Relaxed);
                records.push(r);
            }
            Err(e) => shared.fail(progress, format!("{} → {out}: {e}", src_path.display())),
        }
    }
    if let Err(e) = shared.journal(&records) {
        shared.fail(progress, e.to_string());
    }
    progress.advance(1);
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
