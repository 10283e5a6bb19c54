//! The driver of webdataset outputs: plan the units, skip the done ones, make the others in
//! parallel (units across the worker threads, samples of a unit in parallel batches), record,
//! report. Failures of single samples or shards do not stop the run: they are collected and
//! returned, sorted, at the end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use super::execute::{self, Context};
use super::plan::{self, ShardSize, Unit};
use super::record::{self, WdsRecorder};
use super::{discover, Layout};
use crate::dataset::record::status::Tracker;
use crate::dataset::run::{Options, Progress, Summary};
use crate::dataset::AnnotationMode;
use crate::error::{Error, Result};

/// What a webdataset run adds to [`Options`].
#[derive(Clone, Debug)]
pub struct WdsOptions {
    /// INPUT is webdataset shards (else a folder dataset written as shards).
    pub input_shards: bool,
    /// Extensions of the image member, in order of preference.
    pub image_exts: Vec<String>,
    /// Output layout.
    pub layout: Layout,
    /// Shard size for folder input.
    pub shard_size: ShardSize,
}

impl WdsOptions {
    /// The header's `webdataset` field: everything here that changes the outputs.
    pub fn describe(&self) -> String {
        let size = match self.shard_size {
            ShardSize::Count(n) => format!("{n} images"),
            ShardSize::Bytes(b) => format!("{b} bytes"),
        };
        format!(
            "input {}; image member .{}; layout {}; shard size {}",
            if self.input_shards { "shards" } else { "files" },
            self.image_exts.join("|."),
            match self.layout {
                Layout::Cells => "cells",
                Layout::InSample => "cells-in-sample",
            },
            if self.input_shards {
                "as input".to_string()
            } else {
                size
            }
        )
    }
}

/// The units of a run (all shards, before `--shard`), notes for the user, and with
/// `--severity-schedule` every image's severity (from its place among all the images, so
/// that shards and reruns agree).
pub type Units = (
    Vec<Unit>,
    Vec<String>,
    Option<std::sync::Arc<std::collections::HashMap<String, crate::dataset::Severity>>>,
);

/// The units of a run, all shards (before `--shard`).
pub fn units(opts: &Options, wds: &WdsOptions) -> Result<Units> {
    if wds.input_shards {
        let shards = discover::shards(&opts.input)?;
        // a sample's place in the stream of all shards sets its severity: a first pass over
        // the member headers numbers the samples (issue 16)
        let schedule = match &opts.severity_schedule {
            Some(s) => {
                let sources =
                    super::execute::scheduled_sources(&shards, &wds.image_exts, opts.image_format)?;
                Some(std::sync::Arc::new(s.assign_in_order(&sources)))
            }
            None => None,
        };
        return Ok((plan::shard_units(shards), Vec::new(), schedule));
    }
    let roots = crate::dataset::plan::Roots::check(&opts.input, &opts.output, &opts.cells)?;
    let kind = match opts.kind {
        Some(k) => k,
        None => crate::dataset::discover::detect(&opts.input)?,
    };
    let mut ds = crate::dataset::discover::discover_excluding(&opts.input, kind, roots.exclude())?;
    if let Some(split) = &opts.split {
        ds = crate::dataset::discover::select_split(ds, &opts.input, split)?;
    }
    let mut notes = std::mem::take(&mut ds.notes);
    if !ds.carried.is_empty() && opts.annotations != AnnotationMode::None {
        notes.push(format!(
            "{} annotation file(s) are not carried into webdataset shards (images only)",
            ds.carried.len()
        ));
    }
    let unusable: Vec<String> = ds
        .unusable
        .iter()
        .map(|(rel, reason)| format!("{}: {reason}", opts.input.join(rel).display()))
        .collect();
    notes.extend(unusable.iter().map(|u| format!("failed: {u}")));
    let schedule = opts
        .severity_schedule
        .as_ref()
        .map(|s| std::sync::Arc::new(s.assign(&ds.images)));
    let items = crate::dataset::plan::items(&ds, opts.image_format, false)?;
    Ok((
        plan::folder_units(items, wds.shard_size, &opts.input)?,
        notes,
        schedule,
    ))
}

/// Run `generate` with webdataset input or output.
pub fn generate(
    opts: &Options,
    wds: &WdsOptions,
    header: crate::dataset::record::manifest::Header,
    progress: &dyn Progress,
) -> Result<Summary> {
    let start = Instant::now();
    if wds.input_shards {
        check_roots(opts)?;
    }
    let (all, notes, schedule) = units(opts, wds)?;
    let scheduled;
    let opts = match schedule {
        Some(m) => {
            let mut o = opts.clone();
            o.pipeline.schedule = Some(m);
            scheduled = o;
            &scheduled
        }
        None => opts,
    };
    for n in &notes {
        progress.note(n);
    }
    let units = plan::shard(all, opts.shard);
    let rec = WdsRecorder::open(&opts.output, opts.shard, header)?;
    let tracker = Tracker::new(
        &opts.output,
        opts.shard,
        "shards",
        units.len(),
        std::time::Duration::ZERO,
    );
    let ctx = Context {
        pipeline: &opts.pipeline,
        input: &opts.input,
        output: &opts.output,
        cells: &opts.cells,
        layout: wds.layout,
        image_exts: &wds.image_exts,
        format: opts.image_format,
        batch: 4 * opts.threads.max(1),
    };
    let failed = Mutex::new(Vec::<String>::new());
    let written = AtomicUsize::new(0);
    let skipped = AtomicUsize::new(0);
    let samples = AtomicUsize::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot start threads: {e}")))?;
    let n_out = plan::outputs(
        &Unit {
            name: String::new(),
            source: plan::Source::Files(Vec::new()),
        },
        &opts.cells,
        wds.layout,
    )
    .len();
    progress.start(units.len() as u64);
    pool.install(|| {
        units.par_iter().with_max_len(1).for_each(|u| {
            let mut fails = Vec::new();
            match record::source_sha(u, &opts.input) {
                Err(e) => fails.push(format!(
                    "{}: {e}",
                    plan::source_path(u)
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| u.source_name())
                )),
                Ok(src_sha) => {
                    if rec.done(u, &opts.cells, wds.layout, &src_sha) {
                        skipped.fetch_add(n_out, Ordering::Relaxed);
                    } else {
                        let outcome = execute::run_unit(&ctx, u);
                        samples.fetch_add(outcome.samples, Ordering::Relaxed);
                        fails.extend(outcome.failures.iter().cloned());
                        if !outcome.fatal {
                            written.fetch_add(outcome.shards.len(), Ordering::Relaxed);
                            if let Err(e) = rec.record(u, &src_sha, &outcome) {
                                fails.push(e.to_string());
                            }
                        }
                    }
                }
            }
            for f in &fails {
                progress.note(&format!("failed: {f}"));
            }
            tracker.advance(1, &fails);
            failed.lock().expect("lock").extend(fails);
            progress.advance(1);
        })
    });
    progress.finish();
    let mut failed = failed.into_inner().expect("lock");
    failed.sort();
    let (path, merged) = rec.finish()?;
    tracker.finish(&failed);
    Ok(Summary {
        kind: if wds.input_shards { None } else { opts.kind },
        images: samples.load(Ordering::Relaxed),
        written: written.load(Ordering::Relaxed),
        skipped: skipped.load(Ordering::Relaxed),
        carried: 0,
        failed,
        elapsed: start.elapsed(),
        manifest_records: merged,
        manifest_path: Some(path),
        removed: Vec::new(),
        webdataset_input: wds.input_shards,
        release: None,
        unmapped: 0,
    })
}

/// OUTPUT must not be INPUT's folder or inside it (shards are read from there).
fn check_roots(opts: &Options) -> Result<()> {
    let dir = if opts.input.is_dir() {
        opts.input.clone()
    } else {
        let s = opts.input.to_string_lossy().into_owned();
        let base = match s.find('{') {
            Some(i) => std::path::PathBuf::from(&s[..i]),
            None => opts.input.clone(),
        };
        base.parent().map(|p| p.to_path_buf()).unwrap_or_default()
    };
    let dir = if dir.as_os_str().is_empty() {
        std::path::PathBuf::from(".")
    } else {
        dir
    };
    let cin = std::fs::canonicalize(&dir).unwrap_or(dir);
    let abs = |p: &std::path::Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        }
    };
    let cout = std::fs::canonicalize(&opts.output).unwrap_or_else(|_| abs(&opts.output));
    if cout == cin {
        return Err(Error::InvalidArgument(format!(
            "output {} is the folder of the input shards: refusing to write into the input tree",
            opts.output.display()
        )));
    }
    if opts.input.is_dir() && cout.starts_with(&cin) {
        return Err(Error::InvalidArgument(format!(
            "output {} is inside input {}: refusing to write into the input tree",
            opts.output.display(),
            opts.input.display()
        )));
    }
    Ok(())
}
