//! `imgcorrupt generate`: a dataset on disk → its corrupted variant (see
//! `crate::dataset` for the pipeline, seed rule and manifest).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::dataset::execute::{self, Pipeline};
use crate::dataset::run::{self, Options, Progress};
use crate::dataset::{
    record, AnnotationMode, Cell, ChannelOrder, DatasetKind, Geometry, ImageFormatChoice,
};
use crate::{catalogue, io, Corruption, Preset, RngMode};
use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};

const EXAMPLES: &str = "\
Examples:
  imgcorrupt generate fixtures/datasets/imagenet -o /tmp/imagenet-c -c gaussian_noise,contrast -s 1-5
  imgcorrupt generate coco/ -o coco-c --split val2017
  imgcorrupt generate val/ -o imagenet-c --shard $SLURM_ARRAY_TASK_ID/8   # then: imgcorrupt merge imagenet-c
  imgcorrupt generate coco/ -o coco-stylized -c stylize -s 5 --styles paintings/

Corruption selection: names and groups (common, validation, all, noise, blur, weather,
digital), comma separated; an unknown name is an error before starting. `stylize` (family `stylization`) is never
part of a group: name it, and give --styles DIR (or --style FILE). `laion-c` selects the six LAION-C operators
(preset laion-c, JPEG q100 4:4:4 by default; mosaic and stickers need --tile-bank DIR):
  imgcorrupt generate val/ -o laion-c -c laion-c --tile-bank train-sample/ [--laion-c-compat]";

/// Arguments of `generate`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Dataset root.
    pub input: PathBuf,
    /// Output root (must not be INPUT or inside it).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Layout: auto, imagenet, voc, coco, cityscapes, folder, cifar (release .npy arrays),
    /// webdataset (a folder of .tar shards, one .tar, or a pattern like `s/{00000..00099}.tar`).
    #[arg(long, default_value = "auto")]
    pub dataset: String,
    /// Corruptions: names, subsets (common, validation, all), families or suites (c-bar, cifar-c-bar).
    #[arg(short, long, default_value = "common")]
    pub corruptions: String,
    /// Severities, e.g. `1-5` or `1,3,5`; continuous ones (issue 16) with a decimal point,
    /// e.g. `2.5` or `0.5,1.5,2.5` (folders `2.5/`; see the README).
    #[arg(short, long, default_value = "1-5")]
    pub severities: String,
    /// Issue 16, CCC-style: a severity that changes continuously over the images of the run
    /// instead of `-s` cells: `linear:0-5` (0 at the first image of the sorted order, 5 at the
    /// last), `linear:0-5-0`, or `knots:FILE` (lines `INDEX SEVERITY`). Outputs go to
    /// `<corruption>/schedule/`; each image's severity is in the manifest. Webdataset input:
    /// samples in stream order; CIFAR input: `<corruption>.npy` in row order plus
    /// `severities.npy`.
    #[arg(long, value_name = "SPEC")]
    pub severity_schedule: Option<String>,
    /// Cell layout: `cells` (`<corruption>/<severity>/<path in INPUT>`) or `laion-c`, LAION-C's
    /// evaluator layout for ImageNet class folders and `-c laion-c`:
    /// `<corruption>/intensity_level_<s>/<superclass>/<stem>.jpg` (images of classes outside
    /// its 285 wnids are skipped and counted).
    #[arg(long, default_value = "cells")]
    pub layout: crate::dataset::Layout,
    /// Run seed (each output's seed is derived from it, see the README).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Random generator: fast or numpy.
    #[arg(long, default_value = "fast")]
    pub rng: RngMode,
    /// Parameter table: a built-in preset name or a TOML file (default: imagecorruptions;
    /// cifar-10-c for --dataset cifar).
    #[arg(long)]
    pub preset: Option<String>,
    /// Output format: same, jpeg, png, webp (default: jpeg for imagenet, same otherwise). WebP
    /// is lossy at `--webp-quality` unless `--webp-lossless`.
    #[arg(long)]
    pub image_format: Option<ImageFormatChoice>,
    /// JPEG quality (default 85; 100 when a LAION-C operator is selected, as its release).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: Option<u8>,
    /// JPEG without chroma subsampling (4:4:4), as the LAION-C release; on by default when a
    /// LAION-C operator is selected (`--jpeg-444 false` turns it off).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub jpeg_444: Option<bool>,
    /// LAION-C's mosaic and stickers: folder of training images, one tile each (searched
    /// recursively); its digest goes into the manifest.
    #[arg(long, value_name = "DIR")]
    pub tile_bank: Option<PathBuf>,
    /// LAION-C as released: preset `laion-c-compat` (glitched with glitch-this's fixed
    /// seed=1: the same glitch for every image, drawn by CPython's generator; mosaic levels 2
    /// and 5 from the release's Resize(252), level 2 tiling a 252 crop cut to 224).
    #[arg(long, conflicts_with = "preset")]
    pub laion_c_compat: bool,
    /// WebP quality (lossy WebP through libwebp; used for every WebP output).
    #[arg(long, default_value_t = 85, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub webp_quality: u8,
    /// Write WebP outputs losslessly instead (exact pixels, larger files).
    #[arg(long, conflicts_with = "webp_quality")]
    pub webp_lossless: bool,
    /// Geometry: imagenet (resize 256 + centre crop 224), inception (centre crop 0.875 +
    /// resize to 299, ImageNet-C 299) or native (default: for the imagenet adapter, the
    /// preset's `[preset] geometry`, else imagenet; native otherwise).
    #[arg(long)]
    pub geometry: Option<Geometry>,
    /// Channel order the corruptions see: rgb, or bgr to reproduce the detection benchmark.
    #[arg(long, default_value = "rgb")]
    pub channel_order: ChannelOrder,
    /// Folder with imagecorruptions' frost photographs (frost1.png … frost6.jpg): frost then
    /// follows the reference (with --rng numpy: within one grey level of a seeded Python
    /// run); without it frost uses procedural textures.
    #[arg(long)]
    pub frost_dir: Option<PathBuf>,
    #[command(flatten)]
    pub style: crate::cli::StyleArgs,
    /// Annotation files in each cell: copy (an independent file, cloned copy-on-write where
    /// the file system can), link (hard link, else copy: an edit of a cell's file in place
    /// then changes the source and every other cell) or none.
    #[arg(long, default_value = "copy")]
    pub annotations: AnnotationMode,
    /// Worker threads, 1-1024 (default: all cores).
    #[arg(long, value_parser = crate::cli::parse_threads)]
    pub threads: Option<usize>,
    /// Process only shard K of N (0 ≤ K < N), writing its own manifest part.
    #[arg(long)]
    pub shard: Option<String>,
    /// Only one split: coco `val2017` (first folder), cityscapes `val` (leftImg8bit/val and
    /// its gtFine), voc `test` (ImageSets/Main/test.txt), folder: first folder.
    #[arg(long)]
    pub split: Option<String>,
    /// ImageNet-P (`-c imagenet-p`): how each sequence is stored: png or jpeg (a folder of
    /// frames per source image), npy (one uint8 T×224×224×3 stack) or mp4 (H.264, 1 fps;
    /// needs a build with `--features mp4`).
    #[arg(long, default_value = "png")]
    pub sequence_format: crate::dataset::sequences::SequenceFormat,
    /// Refuse sources with more pixels than this (decompression-bomb guard).
    #[arg(long, default_value_t = io::DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
    /// Benchmark floor: decode, preprocess and encode every cell of the clean image; no
    /// corruption, nothing written.
    #[arg(long, hide = true)]
    pub floor: bool,
    /// Output as files (`folder`) or webdataset shards (`wds`: `<corruption>/<severity>/NNNNNN.tar`);
    /// webdataset input always gives shards.
    #[arg(long, default_value = "folder", value_parser = ["folder", "wds"])]
    pub output_format: String,
    /// `--output-format wds` from files: images per shard (`1000`) or source bytes (`500MB`).
    #[arg(long, default_value = "1000")]
    pub wds_shard_size: crate::dataset::webdataset::plan::ShardSize,
    /// Webdataset input: extensions of a sample's image member, in order of preference.
    #[arg(long, default_value = "jpg,jpeg,png,webp")]
    pub wds_image: String,
    /// Webdataset: one output shard per input shard, `OUTPUT/<shard>.tar`, each sample keeping
    /// its members and carrying every cell as an extra member `<key>.<corruption>.<severity>.<ext>`.
    #[arg(long)]
    pub wds_cells_in_sample: bool,
}

/// Resolve the corruption selection (see EXAMPLES for the rule).
pub fn resolve_corruptions(spec: &str) -> anyhow::Result<Vec<Corruption>> {
    let chosen = catalogue::select(spec)?;
    if chosen.is_empty() {
        bail!("no corruption selected by `{spec}`");
    }
    Ok(chosen)
}

/// This process's command line with the INPUT argument replaced by `input`, quoted for a
/// POSIX shell where needed: the exact command to run instead.
fn command_with_input(given: &std::path::Path, input: &std::path::Path) -> String {
    let quote = |s: &str| {
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let given = given.as_os_str();
    let mut replaced = false;
    std::env::args_os()
        .enumerate()
        .map(|(i, arg)| {
            if i == 0 {
                return "imgcorrupt".to_string();
            }
            if !replaced && arg == given {
                replaced = true;
                return quote(&input.to_string_lossy());
            }
            quote(&arg.to_string_lossy())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Progress on stderr: an indicatif bar on a terminal, else a plain line every 10 s.
struct CliProgress {
    bar: Option<ProgressBar>,
    total: AtomicU64,
    done: AtomicU64,
    start: Instant,
    last_line: Mutex<Instant>,
}

impl CliProgress {
    fn new() -> CliProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} images  {rate}  ETA {eta}  elapsed {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "rate",
                    |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.1} images/s", s.per_sec());
                    },
                ),
            );
            b
        });
        CliProgress {
            bar,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            start: Instant::now(),
            last_line: Mutex::new(Instant::now()),
        }
    }
}

impl Progress for CliProgress {
    fn start(&self, images: u64) {
        self.total.store(images, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.set_length(images);
            b.reset_elapsed();
        }
    }

    fn advance(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(b) = &self.bar {
            b.inc(n);
            return;
        }
        let mut last = self.last_line.lock().expect("lock");
        if last.elapsed() >= Duration::from_secs(10) {
            *last = Instant::now();
            let total = self.total.load(Ordering::Relaxed).max(1);
            let secs = self.start.elapsed().as_secs_f64();
            let rate = done as f64 / secs.max(1e-9);
            let eta = (total.saturating_sub(done)) as f64 / rate.max(1e-9);
            eprintln!(
                "imgcorrupt: {done}/{total} images ({:.1} %), {rate:.1} images/s, ETA {eta:.0} s",
                100.0 * done as f64 / total as f64
            );
        }
    }

    fn note(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.println(format!("imgcorrupt: {msg}")),
            None => eprintln!("imgcorrupt: {msg}"),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// `--severity-schedule` is for image datasets (files, webdataset shards, CIFAR arrays).
fn refuse_schedule_where_unsupported(a: &Args) -> anyhow::Result<()> {
    if a.severity_schedule.is_some() && crate::cli::sequences::wanted(&a.corruptions) {
        bail!(
            "--severity-schedule works on image datasets (files, webdataset shards, CIFAR arrays), not ImageNet-P sequences"
        );
    }
    Ok(())
}

/// Run `generate`; Ok(false) when some image failed.
pub fn run(a: Args) -> anyhow::Result<bool> {
    refuse_schedule_where_unsupported(&a)?;
    if crate::cli::sequences::wanted(&a.corruptions) {
        return crate::cli::sequences::run(&a);
    }
    if crate::cli::cifar::wanted(&a) {
        return crate::cli::cifar::run(&a);
    }
    Ok(execute(a)?.failed.is_empty())
}

/// Run `generate` and return its summary (the library entry of [`crate::cli::generate`]).
/// CIFAR inputs, whose outputs are arrays, report through the same summary
/// ([`crate::cli::cifar::execute`]: `kind` None, arrays counted as outputs).
pub fn execute(mut a: Args) -> anyhow::Result<run::Summary> {
    refuse_schedule_where_unsupported(&a)?;
    if crate::cli::sequences::wanted(&a.corruptions) {
        return crate::cli::sequences::execute(&a);
    }
    if crate::cli::cifar::wanted(&a) {
        return crate::cli::cifar::execute(&a);
    }
    let corruptions = resolve_corruptions(&a.corruptions)?;
    let laion_c = corruptions
        .iter()
        .any(|c| c.family() == crate::Family::LaionC);
    let preset_name = match a.preset.take() {
        Some(p) => p,
        None if a.laion_c_compat => "laion-c-compat".into(),
        None if laion_c => "laion-c".into(),
        None => "imagecorruptions".into(),
    };
    let needs_bank = corruptions
        .iter()
        .any(|c| matches!(c, Corruption::Mosaic | Corruption::Stickers));
    let (tile_bank, tile_bank_header) = match (&a.tile_bank, needs_bank) {
        (Some(dir), true) => {
            let dir = std::fs::canonicalize(dir).map_err(|e| {
                anyhow::Error::new(e)
                    .context(format!("{}: cannot use the tile bank", dir.display()))
            })?;
            let sizes = crate::cli::tile_sizes(&Preset::load(&preset_name)?);
            let bank = crate::TileBank::load(&dir, &sizes)?;
            eprintln!(
                "imgcorrupt: tile bank {}: {} image(s), SHA-256 {}",
                dir.display(),
                bank.len,
                bank.digest
            );
            let h = record::header::tile_bank_header(&bank, &sizes);
            (Some(Arc::new(bank)), Some(h))
        }
        (None, true) => {
            bail!("mosaic and stickers need a tile bank of training images: --tile-bank DIR")
        }
        (Some(_), false) => {
            eprintln!(
                "imgcorrupt: note: --tile-bank is ignored: neither mosaic nor stickers is selected"
            );
            (None, None)
        }
        (None, false) => (None, None),
    };
    let severities =
        crate::cli::parse_cell_severities(&a.severities).map_err(anyhow::Error::msg)?;
    let schedule = crate::cli::schedule_arg(a.severity_schedule.as_deref(), &a.severities)?;
    let severities = match &schedule {
        Some(_) => vec![crate::dataset::Severity::SCHEDULED],
        None => severities,
    };
    let wds_input = match a.dataset.as_str() {
        "webdataset" | "wds" => true,
        "auto" => crate::dataset::webdataset::discover::looks_like(&a.input),
        _ => false,
    };
    let wds_output = wds_input || a.output_format == "wds";
    if a.layout != crate::dataset::Layout::Cells && (wds_output || a.severity_schedule.is_some()) {
        bail!("--layout laion-c writes image folders of -s levels (not webdataset shards, not --severity-schedule)");
    }
    if a.wds_cells_in_sample && !wds_input {
        bail!("--wds-cells-in-sample needs webdataset input (--dataset webdataset)");
    }
    let kind: Option<DatasetKind> = match a.dataset.as_str() {
        "auto" => None,
        _ if wds_input => Some(DatasetKind::Folder),
        other => Some(other.parse().map_err(anyhow::Error::msg)?),
    };
    match std::fs::metadata(&a.input) {
        _ if wds_input => {}
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!("{}: the input is not a folder", a.input.display()),
        // The io::Error stays the cause (the Python package maps it to OSError).
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "{}: cannot use the input folder",
                a.input.display()
            )))
        }
    }
    let kind = match kind {
        Some(k) => k,
        None if wds_input => DatasetKind::Folder,
        None => crate::dataset::discover::detect(&a.input)?,
    };
    if kind == DatasetKind::Voc {
        if let Some(parent) = crate::dataset::discover::voc_parent_hint(&a.input) {
            bail!(
                "{} is inside a VOC tree: INPUT is the folder that holds VOCdevkit/ (output paths and seeds are relative to it), run:\n  {}",
                a.input.display(),
                command_with_input(&a.input, &parent)
            );
        }
    }
    let shard = super::shard_arg(a.shard.as_deref())?;
    let preset_text = Preset::source_text(&preset_name)?;
    // The manifest names a preset file and the frost folder by absolute path: `verify --input`
    // reloads them from wherever it runs (a built-in preset name stays a name).
    let preset_source = match std::fs::canonicalize(&preset_name) {
        Ok(p) if Path::new(&preset_name).exists() => p.display().to_string(),
        _ => preset_name.clone(),
    };
    let frost_dir = a
        .frost_dir
        .as_ref()
        .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()));
    let preset = Arc::new(Preset::load(&preset_name)?);
    let imagenet = kind == DatasetKind::Imagenet;
    let cells: Vec<Cell> = corruptions
        .iter()
        .flat_map(|&c| {
            severities.iter().map(move |&s| Cell {
                corruption: c,
                severity: s,
            })
        })
        .collect();
    // Issue 16: refuse a continuous severity that a corruption's table cannot take before
    // anything is written (the message names the corruption). A schedule gives severities
    // between its knots: its corruptions must interpolate (checked at 2.5) and, when it goes
    // below 1, have an identity (checked at 0.5).
    for cell in &cells {
        if cell.severity == crate::dataset::Severity::SCHEDULED {
            let low = schedule.as_ref().is_some_and(|s| s.min() < 1.0);
            for s in [2.5, 0.5].into_iter().filter(|&s| s >= 1.0 || low) {
                crate::api::check_continuous(cell.corruption, s, &preset).map_err(|e| {
                    anyhow::anyhow!("{e} (--severity-schedule may reach any severity)")
                })?;
            }
        } else if cell.severity.as_level().is_none() {
            crate::api::check_continuous(cell.corruption, cell.severity.value(), &preset)?;
        }
    }
    let (stylizer, style_header) = if corruptions.contains(&Corruption::Stylize) {
        let st = a.style.stylizer()?;
        let source = match (&a.style.styles, &a.style.style) {
            (Some(d), _) => format!("dir:{}", std::fs::canonicalize(d)?.display()),
            (None, Some(f)) => format!("file:{}", std::fs::canonicalize(f)?.display()),
            (None, None) => unreachable!("stylizer() needs a source"),
        };
        let h = record::header::style_header(
            &st,
            source,
            a.style.vgg.as_deref(),
            a.style.decoder.as_deref(),
        )?;
        eprintln!(
            "imgcorrupt: stylize: {} style(s), backend {}, style size {}",
            st.len(),
            st.backend().kind(),
            st.style_size()
        );
        (Some(Arc::new(st)), Some(h))
    } else {
        if a.style.given() {
            eprintln!("imgcorrupt: note: style options are ignored: stylize is not selected");
        }
        (None, None)
    };
    let geometry = match (a.geometry, &preset.info().geometry) {
        (Some(g), _) => g,
        (None, Some(g)) if imagenet => g
            .parse::<Geometry>()
            .map_err(|e| anyhow::anyhow!("preset {preset_name}: key `preset.geometry`: {e}"))?,
        (None, _) if imagenet => Geometry::Imagenet,
        (None, _) => Geometry::Native,
    };
    let opts = Options {
        input: a.input.clone(),
        output: a.output.clone(),
        kind: Some(kind),
        cells,
        pipeline: Pipeline {
            schedule: None,
            rng: a.rng,
            preset,
            seed: a.seed,
            geometry,
            channel_order: a.channel_order,
            quality: a.quality.unwrap_or(if laion_c { 100 } else { 85 }),
            webp: if a.webp_lossless {
                crate::io::WebpMode::Lossless
            } else {
                crate::io::WebpMode::Lossy(a.webp_quality)
            },
            max_pixels: a.max_pixels,
            frost: match &frost_dir {
                Some(dir) => Some(execute::load_frost(dir)?),
                None => None,
            },
            stylizer,
            tile_bank,
            jpeg_444: a.jpeg_444.unwrap_or(laion_c),
        },
        severity_schedule: schedule.clone(),
        layout: a.layout,
        style_header,
        tile_bank_header,
        image_format: a.image_format.unwrap_or(if imagenet {
            ImageFormatChoice::Jpeg
        } else {
            ImageFormatChoice::Same
        }),
        annotations: a.annotations,
        threads: a.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }),
        shard,
        split: a.split.clone(),
        preset_source,
        preset_sha256: Preset::digest_of(&preset_text),
        floor: a.floor,
    };
    let wds = wds_output.then(|| crate::dataset::webdataset::run::WdsOptions {
        input_shards: wds_input,
        image_exts: a
            .wds_image
            .split(',')
            .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
            .filter(|e| !e.is_empty())
            .collect(),
        layout: if a.wds_cells_in_sample {
            crate::dataset::webdataset::Layout::InSample
        } else {
            crate::dataset::webdataset::Layout::Cells
        },
        shard_size: a.wds_shard_size,
    });
    eprintln!(
        "imgcorrupt: {}{} dataset {} → {}: {} corruption(s) × {} severit{}, {} thread(s){}",
        if wds_input {
            "webdataset".to_string()
        } else {
            kind.to_string()
        },
        if wds_output {
            " (webdataset output)"
        } else {
            ""
        },
        a.input.display(),
        a.output.display(),
        corruptions.len(),
        severities.len(),
        if severities.len() == 1 { "y" } else { "ies" },
        opts.threads,
        super::shard_suffix(shard)
    );
    let progress = CliProgress::new();
    let s = match &wds {
        Some(w) if !a.floor => {
            let mut header = run::header(&opts, kind);
            if w.input_shards {
                header.dataset = "webdataset".into();
                header.seed_rule = crate::dataset::webdataset::plan::SEED_RULE.into();
            }
            header.webdataset = Some(w.describe());
            crate::dataset::webdataset::run::generate(&opts, w, header, &progress)?
        }
        _ => run::generate(&opts, &progress)?,
    };
    let secs = s.elapsed.as_secs_f64();
    eprintln!(
        "imgcorrupt: {}: {} source image(s), {} output(s) written, {} skipped (already done), {} annotation file(s) carried, {} failed, {:.2} s ({:.1} images/s)",
        if a.floor { "floor (nothing written)" } else { "done" },
        s.images,
        s.written,
        s.skipped,
        s.carried,
        s.failed.len(),
        secs,
        s.images as f64 / secs.max(1e-9)
    );
    if s.unmapped > 0 {
        eprintln!(
            "imgcorrupt: --layout laion-c: {} source image(s) of ImageNet classes outside LAION-C's 285 skipped",
            s.unmapped
        );
    }
    if let Some(p) = &s.manifest_path {
        eprintln!("imgcorrupt: manifest: {}", p.display());
    }
    if shard.is_some() {
        match s.manifest_records {
            Some(n) => {
                eprintln!("imgcorrupt: all shards finished: merged {n} records into manifest.jsonl")
            }
            None => super::shards_pending(&a.output),
        }
    }
    if !s.failed.is_empty() {
        eprintln!("imgcorrupt: {} failure(s):", s.failed.len());
        for f in &s.failed {
            eprintln!("  {f}");
        }
    }
    Ok(s)
}
