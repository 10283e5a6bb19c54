//! `imgcorrupt generate --dataset cifar`: the CIFAR-10-C / CIFAR-100-C release format (see
//! `crate::dataset::cifar`), reached from `generate` when the input is CIFAR.

use std::path::Path;
use std::sync::Arc;

use crate::dataset::cifar::{self, record, source, Options};
use crate::dataset::{execute, run as pipeline, Severity};
use crate::Preset;

use super::generate::Args;

/// The preset a CIFAR run uses when `--preset` is not given: the CIFAR-10-C tables.
pub const DEFAULT_PRESET: &str = "cifar-10-c";

/// Whether `generate` should take the CIFAR path: `--dataset cifar`, or `auto` on an input
/// that [`source::detect`] recognises.
pub fn wanted(a: &Args) -> bool {
    match a.dataset.as_str() {
        "cifar" => true,
        "auto" => source::detect(&a.input).is_some(),
        _ => false,
    }
}

/// `-s` of a CIFAR run: the levels in the order given (the release's row blocks) and the
/// continuous severities (issue 16: arrays of their own), sorted. `3.0` is the level 3.
fn split_severities(spec: &str) -> Result<(Vec<u8>, Vec<Severity>), String> {
    let all = super::parse_cell_severities(spec)?;
    let whole: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|p| !p.contains('.') || p.contains('-'))
        .collect();
    let mut levels = if whole.is_empty() {
        Vec::new()
    } else {
        super::parse_severities(&whole.join(","))?
    };
    for l in all.iter().filter_map(|s| s.as_level()) {
        if !levels.contains(&l) {
            levels.push(l);
        }
    }
    let continuous = all.into_iter().filter(|s| s.as_level().is_none()).collect();
    Ok((levels, continuous))
}

/// Run the CIFAR path of `generate`; Ok(false) when an array failed.
pub fn run(a: &Args) -> anyhow::Result<bool> {
    Ok(execute(a)?.failed.is_empty())
}

/// The CIFAR path of `generate`, its result in the image pipeline's summary (for the Python
/// package's `generate()`): `kind` None (the CIFAR format), `images` the rows per severity,
/// `written`/`skipped` arrays, `manifest_records` the arrays of the merged manifest.
pub fn execute(a: &Args) -> anyhow::Result<pipeline::Summary> {
    let corruptions = super::generate::resolve_corruptions(&a.corruptions)?;
    let schedule = super::schedule_arg(a.severity_schedule.as_deref(), &a.severities)?;
    let (severities, continuous) = match &schedule {
        Some(_) => (vec![], vec![]),
        None => split_severities(&a.severities).map_err(anyhow::Error::msg)?,
    };
    let preset_name = a.preset.as_deref().unwrap_or(DEFAULT_PRESET);
    let preset = Arc::new(Preset::load(preset_name)?);
    // a continuous severity a corruption cannot take is refused before anything is written;
    // a schedule may reach any severity between its knots (checked at 2.5, and at 0.5 when it
    // goes below 1, as for image folders)
    let low = schedule.as_ref().is_some_and(|s| s.min() < 1.0);
    for &c in &corruptions {
        for s in &continuous {
            crate::api::check_continuous(c, s.value(), &preset)?;
        }
        if schedule.is_some() {
            for s in [2.5, 0.5].into_iter().filter(|&s| s >= 1.0 || low) {
                crate::api::check_continuous(c, s, &preset).map_err(|e| {
                    anyhow::anyhow!("{e} (--severity-schedule may reach any severity)")
                })?;
            }
        }
    }
    let preset_text = Preset::source_text(preset_name)?;
    let preset_source = match std::fs::canonicalize(preset_name) {
        Ok(p) if Path::new(preset_name).exists() => p.display().to_string(),
        _ => preset_name.to_string(),
    };
    let shard = super::shard_arg(a.shard.as_deref())?;
    let o = Options {
        input: a.input.clone(),
        output: a.output.clone(),
        corruptions,
        severities,
        continuous,
        schedule,
        seed: a.seed,
        rng: a.rng,
        preset,
        preset_source,
        preset_sha256: Preset::digest_of(&preset_text),
        frost: match &a.frost_dir {
            Some(dir) => Some(execute::load_frost(dir)?),
            None => None,
        },
        threads: a.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }),
        shard,
        frost_dir: a.frost_dir.clone(),
    };
    eprintln!(
        "imgcorrupt: cifar {} → {}: {} corruption(s) × {}, preset {preset_name}{}",
        a.input.display(),
        a.output.display(),
        o.corruptions.len(),
        match &o.schedule {
            Some(s) => format!("severity schedule {}", s.describe()),
            None => format!("{} severities", o.severities.len() + o.continuous.len()),
        },
        super::shard_suffix(shard)
    );
    let start = std::time::Instant::now();
    let s = cifar::generate(&o, &|m| eprintln!("imgcorrupt: {m}"))?;
    let state = a.output.join(record::state_file(shard));
    eprintln!(
        "imgcorrupt: done: {} image(s){}, {} array(s) written, {} skipped (already done), {} failed, {:.2} s; manifest: {}",
        s.manifest.n,
        // a schedule run holds each image once, at its own severity
        if o.schedule.is_some() { "" } else { " per severity" },
        s.written,
        s.skipped,
        s.failed.len(),
        start.elapsed().as_secs_f64(),
        state.display()
    );
    if shard.is_some() {
        if s.merged {
            eprintln!("imgcorrupt: all shards finished: merged into manifest.json");
        } else {
            super::shards_pending(&a.output);
        }
    }
    for f in &s.failed {
        eprintln!("  {f}");
    }
    let merged = a.output.join(record::MANIFEST);
    Ok(pipeline::Summary {
        kind: None,
        images: s.manifest.n,
        written: s.written,
        skipped: s.skipped,
        carried: 0,
        failed: s.failed,
        elapsed: start.elapsed(),
        manifest_records: (shard.is_none() || s.merged)
            .then(|| record::merge_count(&merged).unwrap_or(s.manifest.arrays.len())),
        manifest_path: Some(state),
        removed: vec![],
        webdataset_input: false,
        release: Some("cifar"),
        unmapped: 0,
    })
}
