//! The driver of `generate`: wires the stages, runs execution in parallel and reports.
//!
//! [`generate`] takes [`Options`] and returns a [`Summary`]: discover (INPUT → dataset) →
//! plan (dataset → work items × cells) → open the record (check OUTPUT's header, load what is
//! done, open the journal) → for every item, in parallel (rayon, `--threads`): ask the record
//! which cells to make, execute them, record what was made → finish the record (manifest /
//! shard part / merge). Failures of single items do not stop the run: they are collected and
//! returned, sorted, at the end. This is the only module that knows every stage.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::execute::{self, Pipeline};
use super::plan::{self, ItemKind, Plan, Roots};
use super::record::manifest::{Header, StyleHeader};
use super::record::{self, Recorder};
use super::{discover, AnnotationMode, Cell, DatasetKind, ImageFormatChoice};
use crate::codecs::SOURCE_DECODER;
use crate::digest::{sha256_file, sha256_hex};
use crate::error::{Error, Result};
use crate::io::OutputFormat;

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
    /// What the manifest header records about the stylizer (with `pipeline.stylizer`; see
    /// [`record::header::style_header`]).
    pub style_header: Option<StyleHeader>,
    /// The manifest's tile-bank description (`None` unless mosaic/stickers are generated).
    pub tile_bank_header: Option<record::manifest::TileBankHeader>,
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
    /// Issue 16: `--severity-schedule` (the cells are then [`super::Severity::SCHEDULED`]).
    pub severity_schedule: Option<super::schedule::Schedule>,
    /// Folder layout of the cells ([`super::Layout::LaionC`]: only LAION-C's corruptions, on
    /// ImageNet-style INPUT).
    pub layout: super::Layout,
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
    /// Outputs of earlier runs removed because their source no longer exists.
    pub removed: Vec<String>,
    /// The input was webdataset shards (`kind` is then `None`); for webdataset outputs,
    /// `images` counts samples and `written`/`skipped` count output shards.
    pub webdataset_input: bool,
    /// For runs that write a release format instead of cells of files (`kind` is then
    /// `None`): `cifar` (arrays, [`crate::dataset::cifar`]) or `imagenet-p` (perturbation
    /// sequences, [`crate::dataset::sequences`]).
    pub release: Option<&'static str>,
    /// `--layout laion-c`: images of ImageNet classes outside LAION-C's 285 (not written, not
    /// failures).
    pub unmapped: usize,
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
        seed_rule: plan::SEED_RULE.into(),
        geometry: p.geometry.name().into(),
        channel_order: p.channel_order.name().into(),
        image_format: opts.image_format.name().into(),
        encoders: record::header::encoders(p),
        annotations: opts.annotations.name().into(),
        frost_source: Some(record::header::frost_source(p)),
        stylize: opts.style_header.clone(),
        decoder: Some(SOURCE_DECODER.into()),
        magnitudes: c_bar_magnitudes(opts),
        severity_schedule: opts.severity_schedule.as_ref().map(|s| s.describe()),
        layout: (opts.layout != super::Layout::Cells).then(|| opts.layout.name().to_string()),
        webdataset: None,
        tile_bank: opts.tile_bank_header.clone(),
    }
}

/// The manifest's record of the C-bar magnitude behind each C-bar cell (folders 1..5 hold
/// the preset's 1st..5th magnitude, as the released ImageNet-C-bar does); `None` without
/// C-bar cells.
fn c_bar_magnitudes(opts: &Options) -> Option<std::collections::BTreeMap<String, String>> {
    let m: std::collections::BTreeMap<String, String> = opts
        .cells
        .iter()
        .filter_map(|c| {
            let row = opts.pipeline.preset.magnitudes(c.corruption)?;
            // a continuous severity: the magnitude its operator runs with (interpolated from
            // magnitude 0, ALGORITHMS.md §14)
            let s = c.severity.value();
            let v = match c.severity.as_level() {
                Some(l) => row[usize::from(l) - 1],
                None if s < 1.0 => row[0] * s,
                None => {
                    let k = (s.floor() as usize).min(4);
                    let t = s - k as f64;
                    row[k - 1] * (1.0 - t) + row[k.min(4)] * t
                }
            };
            Some((
                format!("{}/{}", c.corruption.name(), c.severity),
                v.to_string(),
            ))
        })
        .collect();
    (!m.is_empty()).then_some(m)
}

/// `--layout laion-c` names the cell folders `intensity_level_<s>` and files images by LAION-C's
/// superclasses: it is the evaluator's layout for LAION-C's own six distortions, and is refused
/// for other corruptions, whose benchmarks' loaders (ImageNet-C's 1000 wnid folders) would
/// read it wrongly.
pub fn check_laion_c_cells(cells: &[Cell]) -> Result<()> {
    if let Some(c) = cells
        .iter()
        .find(|c| c.corruption.family() != crate::catalogue::Family::LaionC)
    {
        return Err(Error::InvalidArgument(format!(
            "--layout laion-c is LAION-C's evaluator layout: `{}` is not a LAION-C distortion (use -c laion-c)",
            c.corruption.name()
        )));
    }
    Ok(())
}

/// Run `generate`. Errors are fatal problems found before any output is written (bad INPUT
/// or OUTPUT, malformed annotations, a manifest with other settings); per-image failures are
/// in [`Summary::failed`].
pub fn generate(opts: &Options, progress: &dyn Progress) -> Result<Summary> {
    let start = Instant::now();
    let input = &opts.input;

    // discover
    let roots = Roots::check(input, &opts.output, &opts.cells)?;
    let kind = match opts.kind {
        Some(k) => k,
        None => discover::detect(input)?,
    };
    if kind == DatasetKind::Voc {
        if let Some(parent) = discover::voc_parent_hint(input) {
            return Err(Error::InvalidArgument(format!(
                "{} is inside a VOC tree: pass {} (the folder that holds VOCdevkit/) as INPUT, so that output paths (`<corruption>/<severity>/VOCdevkit/VOC20xx/…`) and seeds are those of the documented layout",
                input.display(),
                parent.display()
            )));
        }
    }
    let mut ds = discover::discover_excluding(input, kind, roots.exclude())?;
    if let Some(split) = &opts.split {
        ds = discover::select_split(ds, input, split)?;
    }
    let mut unmapped = 0;
    if opts.layout == super::Layout::LaionC {
        check_laion_c_cells(&opts.cells)?;
        (ds, unmapped) = discover::laion_c_layout(ds)?;
    }
    for n in &ds.notes {
        progress.note(n);
    }
    // Issue 16: each image's scheduled severity, from its place among all the images (before
    // any shard split), so that every shard and rerun agrees.
    let scheduled;
    let opts = match &opts.severity_schedule {
        Some(s) => {
            let mut o = opts.clone();
            o.pipeline.schedule = Some(Arc::new(s.assign(&ds.images)));
            scheduled = o;
            &scheduled
        }
        None => opts,
    };
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

    // plan
    let carry = opts.annotations != AnnotationMode::None;
    let plan = Plan::new(
        &ds,
        opts.image_format,
        carry,
        opts.cells.clone(),
        opts.shard,
    )?;
    drop(ds);

    // record: what OUTPUT already holds
    let header = header(opts, kind);
    let rec = if opts.floor {
        Recorder::detached(&opts.output, opts.shard, header, plan, &opts.pipeline)
    } else {
        Recorder::open(&opts.output, opts.shard, header, plan, &opts.pipeline)?
            .sweeping_removed_sources(input)
    };
    if !opts.floor {
        // every class folder in every cell, empty or not (see `Dataset::folders`)
        execute::make_folders(&opts.output, rec.layout(), rec.cells(), rec.folders())?;
    }

    // execute, in parallel
    let tracker = (!opts.floor).then(|| {
        record::status::Tracker::new(
            &opts.output,
            opts.shard,
            "images",
            run_images(&rec),
            Duration::from_secs(2),
        )
    });
    let run = Run {
        opts,
        tracker,
        rec,
        failed: Mutex::new(Vec::new()),
        written: AtomicUsize::new(0),
        skipped: AtomicUsize::new(0),
        carried: AtomicUsize::new(0),
    };
    for msg in unusable {
        run.fail(progress, msg);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot start threads: {e}")))?;
    let (images, carried): (Vec<usize>, Vec<usize>) =
        (0..run.rec.items().len()).partition(|&i| run.rec.items()[i].kind == ItemKind::Image);
    if !opts.floor {
        pool.install(|| {
            carried
                .par_iter()
                .for_each(|&i| carry_item(&run, i, progress))
        });
    }
    progress.start(images.len() as u64);
    // the frost textures first, in parallel: see `Pipeline::warm_frost`
    let warm = match opts.floor || images.is_empty() {
        true => Vec::new(),
        false => opts.pipeline.frost_slots_to_warm(&opts.cells),
    };
    pool.install(|| warm.par_iter().for_each(|&k| opts.pipeline.warm_frost(k)));
    pool.install(|| {
        images.par_iter().for_each(|&i| {
            image_item(&run, i, progress);
            if let Some(t) = &run.tracker {
                t.advance(1, &[]);
            }
        })
    });
    progress.finish();

    // report
    let mut summary = Summary {
        kind: Some(kind),
        images: images.len(),
        written: run.written.load(Ordering::Relaxed),
        skipped: run.skipped.load(Ordering::Relaxed),
        carried: run.carried.load(Ordering::Relaxed),
        unmapped,
        ..Summary::default()
    };
    let mut failed = std::mem::take(&mut *run.failed.lock().expect("lock"));
    failed.sort();
    summary.failed = failed;
    if !opts.floor {
        let done = run.rec.finish()?;
        if let Some(first) = done.removed.first() {
            progress.note(&format!(
                "removed {} output(s) of an earlier run whose source no longer exists in {} (e.g. {first})",
                done.removed.len(),
                input.display()
            ));
        }
        summary.removed = done.removed;
        summary.manifest_path = Some(done.path);
        summary.manifest_records = done.manifest_records;
    }
    if let Some(t) = &run.tracker {
        t.finish(&summary.failed);
    }
    summary.elapsed = start.elapsed();
    Ok(summary)
}

/// Source images of a plan (the status file counts them).
fn run_images(rec: &Recorder<'_>) -> usize {
    rec.items()
        .iter()
        .filter(|it| it.kind == ItemKind::Image)
        .count()
}

/// A run in progress: the record stage and the tallies of the summary.
struct Run<'a> {
    opts: &'a Options,
    tracker: Option<record::status::Tracker>,
    rec: Recorder<'a>,
    failed: Mutex<Vec<String>>,
    written: AtomicUsize,
    skipped: AtomicUsize,
    carried: AtomicUsize,
}

impl Run<'_> {
    fn fail(&self, progress: &dyn Progress, msg: String) {
        progress.note(&format!("failed: {msg}"));
        if let Some(t) = &self.tracker {
            t.advance(0, std::slice::from_ref(&msg));
        }
        self.failed.lock().expect("lock").push(msg);
    }
}

/// Copy or hard-link one annotation file into every cell.
fn carry_item(run: &Run<'_>, i: usize, progress: &dyn Progress) {
    let opts = run.opts;
    let it = &run.rec.items()[i];
    let src = opts.input.join(&it.source);
    let link = opts.annotations == AnnotationMode::Link;
    let mut src_sha: Option<String> = None;
    let mut records = Vec::new();
    for (c, &cell) in run.rec.cells().iter().enumerate() {
        let out = it.output(cell);
        if run.rec.carried_done(i, c, &src, &out, &mut src_sha) {
            continue;
        }
        let dst = opts.output.join(&out);
        let result = (|| -> std::result::Result<_, String> {
            if src_sha.is_none() {
                src_sha = Some(sha256_file(&src).map_err(|e| e.to_string())?);
            }
            let sha = src_sha.clone().expect("hashed");
            execute::carry(&src, &dst, link)?;
            Ok(run.rec.record(i, c, &sha, &sha, None))
        })();
        match result {
            Ok(r) => {
                run.carried.fetch_add(1, Ordering::Relaxed);
                records.push(r);
            }
            Err(e) => run.fail(progress, format!("{}: {e}", dst.display())),
        }
    }
    if let Err(e) = run.rec.journal(&records) {
        run.fail(progress, e.to_string());
    }
}

/// Decode one source image once and produce its missing cells.
fn image_item(run: &Run<'_>, i: usize, progress: &dyn Progress) {
    let opts = run.opts;
    let it = &run.rec.items()[i];
    let format = it.format.unwrap_or(OutputFormat::Png);
    let cells = run.rec.cells();
    let done = run.rec.done_cells(i);
    let src_path = opts.input.join(&it.source);
    let fail = |e: Error| {
        let msg = e.to_string();
        let msg = if msg.contains(&src_path.display().to_string()) {
            msg
        } else {
            format!("{}: {msg}", src_path.display())
        };
        run.fail(progress, msg);
        progress.advance(1);
    };
    // The source is read (and hashed) even when every output is done: the record stage
    // redoes outputs recorded for another version of the file.
    let bytes = match crate::digest::read_regular(&src_path) {
        Ok(b) => b,
        Err(source) => {
            return fail(Error::Io {
                path: src_path.clone(),
                source,
            })
        }
    };
    let src_sha = sha256_hex(&bytes);
    let (needed, skipped) = run.rec.todo(i, &done, &src_sha);
    run.skipped.fetch_add(skipped, Ordering::Relaxed);
    if needed.is_empty() {
        progress.advance(1);
        return;
    }
    let p = &opts.pipeline;
    // held until this source's cells are written: one large source in memory at a time
    let _large = execute::LargeSourceGuard::enter(execute::header_pixels(&bytes).unwrap_or(0));
    let img = match p.prepare(&bytes, &src_path) {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    drop(bytes);
    if opts.floor {
        // cell-parallel like a real run (see below)
        let encode = |_: &usize| {
            let _ = std::hint::black_box(p.encode(&img.px, img.width, img.height, format));
        };
        match execute::LargeSourceGuard::held() {
            true => needed.iter().for_each(encode),
            false => needed.par_iter().for_each(encode),
        }
        progress.advance(1);
        return;
    }
    let make = |scratch: &mut Vec<u8>, c: usize| {
        let cell = cells[c];
        let out = it.output(cell);
        let result = p
            .render(&img, &it.source, cell, format, scratch)
            .and_then(|(bytes, seed)| {
                execute::write_output(&opts.output.join(&out), &bytes)?;
                Ok(run
                    .rec
                    .record(i, c, &sha256_hex(&bytes), &src_sha, Some(seed)))
            });
        match result {
            Ok(r) => {
                run.written.fetch_add(1, Ordering::Relaxed);
                Some(r)
            }
            Err(e) => {
                run.fail(progress, format!("{} → {out}: {e}", src_path.display()));
                None
            }
        }
    };
    // The cells of one source are parallel jobs too (the source is decoded once and shared):
    // otherwise a run's last sources keep one thread busy while the others idle, which is
    // most of what separates 2 threads from 2× on a small dataset. `collect` keeps the cell
    // order, so an item's journal lines do not depend on the thread count. Not while this
    // thread holds the large-source gate: another worker waiting on the gate could be
    // holding a stolen part of these cells (a deadlock), so a large source's cells run here.
    let records: Vec<_> = if execute::LargeSourceGuard::held() {
        let mut scratch = Vec::new();
        needed
            .iter()
            .filter_map(|&c| make(&mut scratch, c))
            .collect()
    } else {
        needed
            .par_iter()
            .map_init(Vec::new, |scratch, &c| make(scratch, c))
            .flatten()
            .collect()
    };
    if let Err(e) = run.rec.journal(&records) {
        run.fail(progress, e.to_string());
    }
    progress.advance(1);
}
