//! Resume, shards, merge and verify of the CIFAR release format.
//!
//! The unit of work is one array (`<corruption>.npy`, all severities): the run's manifest
//! (`manifest.json`, or `manifest.shard-K-of-N.json` for shard K of N) is rewritten after each
//! array, so a killed run keeps the arrays it finished, and a rerun with the same options
//! skips them ([`resume`]); an array is written to a temporary file and renamed, so a file
//! under its final name is always whole. A rerun with other options (source, preset, RNG,
//! seed, severities, frost photographs) is refused, naming what differs: mixing them would
//! give an output no single command made.
//!
//! Shards split the corruptions (position mod N), each shard writes its arrays, `labels.npy`
//! (the same bytes for all) and its part; [`merge`] checks that the parts agree and are
//! complete and writes `manifest.json` with the arrays in the run's corruption order.
//! [`verify`] re-hashes the arrays against `manifest.json` and, given the source, regenerates
//! rows with the same function `generate` uses and compares bytes.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use super::{
    array_files, npy, row_seed, severities_npy, source, ArrayRecord, Manifest, Options,
    SEVERITIES_FILE,
};
use crate::catalogue::Corruption;
use crate::dataset::schedule::Schedule;
use crate::dataset::verify::Report;
use crate::dataset::Cell;
use crate::error::{Error, Result};
use crate::{Preset, RngMode};

/// The merged manifest of a CIFAR output.
pub const MANIFEST: &str = "manifest.json";

/// The manifest file a run keeps its state in: `manifest.json`, or the shard's part.
pub fn state_file(shard: Option<(usize, usize)>) -> String {
    match shard {
        None => MANIFEST.into(),
        Some((k, n)) => format!("manifest.shard-{k}-of-{n}.json"),
    }
}

/// Whether `output` holds a CIFAR-format result (its `manifest.json` or a shard part says
/// `"format":"cifar-c"`).
pub fn is_cifar_output(output: &Path) -> bool {
    let Ok(rd) = fs::read_dir(output) else {
        return false;
    };
    rd.filter_map(|e| e.ok()).any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        (name == MANIFEST || (name.starts_with("manifest.shard-") && name.ends_with(".json")))
            && read(&e.path()).is_ok_and(|m| m.format == "cifar-c")
    })
}

fn read(path: &Path) -> Result<Manifest> {
    let text = fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| Error::Codec {
        path: path.to_path_buf(),
        message: format!("not a CIFAR-format manifest: {e}"),
    })
}

/// The first field in which two runs' manifests differ (what makes their rows differ), or
/// `None`.
fn differing_field(a: &Manifest, b: &Manifest) -> Option<&'static str> {
    let shas = |m: &Manifest| {
        m.source_files
            .iter()
            .map(|f| f.1.clone())
            .collect::<Vec<_>>()
    };
    [
        ("format", a.format == b.format),
        ("source files (SHA-256)", shas(a) == shas(b)),
        ("source size", a.n == b.n && a.size == b.size),
        ("severities", a.severities == b.severities),
        ("continuous severities", a.continuous == b.continuous),
        ("severity schedule", a.schedule == b.schedule),
        ("preset (SHA-256)", a.preset_sha256 == b.preset_sha256),
        ("rng", a.rng == b.rng),
        ("seed", a.seed == b.seed),
        ("seed rule", a.seed_rule == b.seed_rule),
        (
            "frost photographs (--frost-dir)",
            a.frost_dir == b.frost_dir,
        ),
    ]
    .into_iter()
    .find(|(_, same)| !same)
    .map(|(f, _)| f)
}

/// The arrays of an earlier run recorded in `state` that can be kept (same options, file
/// present with the recorded size), by file name. No state: none.
/// Options that differ: an error naming the field.
pub fn resume(
    output: &Path,
    state: &Path,
    now: &Manifest,
) -> Result<BTreeMap<String, ArrayRecord>> {
    if !state.exists() {
        return Ok(BTreeMap::new());
    }
    let before = read(state)?;
    if let Some(field) = differing_field(&before, now) {
        return Err(Error::InvalidArgument(format!(
            "{}: made by an earlier run with another {field}; rerun with the same options to resume, or use a new OUTPUT",
            state.display()
        )));
    }
    Ok(before
        .arrays
        .into_iter()
        .filter(|r| {
            array_files(
                &r.name,
                &now.severities,
                &now.continuous,
                now.schedule.is_some(),
            )
            .iter()
            .any(|(f, _)| *f == r.file)
                && now.corruptions.contains(&r.name)
                || r.name == "labels"
                || (r.name == "severities" && now.schedule.is_some())
        })
        .filter(|r| {
            let item = match r.dtype.as_str() {
                "<i8" => 8,
                "<f4" => 4,
                _ => 1,
            };
            let expected =
                npy::header(&r.dtype, &r.shape).len() + r.shape.iter().product::<usize>() * item;
            fs::metadata(output.join(&r.file)).is_ok_and(|m| m.len() == expected as u64)
        })
        .map(|r| (r.file.clone(), r))
        .collect())
}

/// Arrays (labels included) listed in the manifest at `path`.
pub fn merge_count(path: &Path) -> Result<usize> {
    Ok(read(path)?.arrays.len())
}

/// Combine the shard parts of `output` into `manifest.json`; returns the number of arrays
/// (labels included). Refused when the parts disagree, or (unless `allow_incomplete`) when a
/// part is missing or lacks one of its arrays.
pub fn merge(output: &Path, allow_incomplete: bool) -> Result<usize> {
    let mut parts = Vec::new();
    for e in fs::read_dir(output).map_err(|source| Error::Io {
        path: output.to_path_buf(),
        source,
    })? {
        let e = e.map_err(|source| Error::Io {
            path: output.to_path_buf(),
            source,
        })?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("manifest.shard-") && name.ends_with(".json") {
            parts.push(read(&e.path())?);
        }
    }
    let Some(first) = parts.first().cloned() else {
        return Err(Error::InvalidArgument(format!(
            "{}: no shard parts (manifest.shard-K-of-N.json) to merge",
            output.display()
        )));
    };
    let n = first.shard.map_or(1, |s| s.1);
    for p in &parts {
        if let Some(field) = differing_field(&first, p)
            .or((p.corruptions != first.corruptions).then_some("corruption list"))
            .or((p.shard.map(|s| s.1) != Some(n)).then_some("shard count"))
        {
            return Err(Error::InvalidArgument(format!(
                "{}: shard parts differ in their {field}: they are not one run",
                output.display()
            )));
        }
    }
    let mut by_name: BTreeMap<String, ArrayRecord> = BTreeMap::new();
    for p in &parts {
        for r in &p.arrays {
            by_name.insert(r.file.clone(), r.clone());
        }
    }
    let mut arrays = vec![];
    let mut missing = vec![];
    let files = std::iter::once("labels.npy".to_string())
        .chain(first.schedule.as_ref().map(|_| SEVERITIES_FILE.to_string()))
        .chain(
            first
                .corruptions
                .iter()
                .flat_map(|c| {
                    array_files(
                        c,
                        &first.severities,
                        &first.continuous,
                        first.schedule.is_some(),
                    )
                })
                .map(|(f, _)| f),
        );
    for file in files {
        match by_name.remove(&file) {
            Some(r) => arrays.push(r),
            None => missing.push(file),
        }
    }
    if !allow_incomplete && (parts.len() < n || !missing.is_empty()) {
        return Err(Error::InvalidArgument(format!(
            "{}: {} of {n} shard part(s) present, arrays not made yet: {}",
            output.display(),
            parts.len(),
            if missing.is_empty() {
                "(none listed)".to_string()
            } else {
                missing.join(", ")
            }
        )));
    }
    let merged = Manifest {
        shard: None,
        arrays,
        ..first
    };
    let count = merged.arrays.len();
    let text = serde_json::to_string(&merged).expect("manifest serializes") + "\n";
    crate::io::write_atomic(&output.join(MANIFEST), text.as_bytes())?;
    Ok(count)
}

/// Verify a CIFAR-format output: every array of `manifest.json` present with its SHA-256 and
/// header, no other `.npy` beside them; with `input`, the source files' SHA-256 as recorded
/// and `sample` rows (spread over all arrays and severities; all rows when `None`)
/// regenerated and compared byte for byte.
pub fn verify(
    output: &Path,
    input: Option<&Path>,
    sample: Option<usize>,
    threads: usize,
) -> Result<Report> {
    let path = output.join(MANIFEST);
    if !path.exists() && is_cifar_output(output) {
        return Err(Error::InvalidArgument(format!(
            "{}: shard parts not merged yet: run `imgcorrupt merge {}` once every shard has finished",
            output.display(),
            output.display()
        )));
    }
    let m = read(&path)?;
    let mut r = Report {
        records: m.arrays.len(),
        ..Report::default()
    };
    for a in &m.arrays {
        let p = output.join(&a.file);
        if !p.is_file() {
            r.missing.push(a.file.clone());
            continue;
        }
        let sha = crate::digest::sha256_file(&p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        let head = fs::read(&p)
            .ok()
            .and_then(|b| npy::parse_header(&b[..b.len().min(4096)], &p).ok());
        match head {
            Some(h) if sha == a.sha256 && h.shape == a.shape && h.descr == a.dtype => {
                r.hashed_ok += 1
            }
            _ => r.mismatched.push(a.file.clone()),
        }
    }
    // a schedule run's severities.npy holds the recorded schedule's values (its hash alone
    // would pass a manifest edited along with it)
    if let Some(text) = &m.schedule {
        let schedule = Schedule::from_description(text).map_err(|e| Error::Codec {
            path: path.clone(),
            message: e,
        })?;
        let p = output.join(SEVERITIES_FILE);
        if p.is_file() && fs::read(&p).ok() != Some(severities_npy(&schedule, m.n)) {
            let f = format!("{SEVERITIES_FILE} (not the severities of schedule {text})");
            if !r.mismatched.iter().any(|x| x == SEVERITIES_FILE) {
                r.mismatched.push(f);
            }
        }
        if !m.arrays.iter().any(|a| a.file == SEVERITIES_FILE) {
            r.missing.push(format!("{SEVERITIES_FILE} (not recorded)"));
        }
    }
    for name in &m.corruptions {
        for (file, _) in array_files(name, &m.severities, &m.continuous, m.schedule.is_some()) {
            if !m.arrays.iter().any(|a| a.file == file) {
                r.missing.push(format!("{file} (failed or not made)"));
            }
        }
    }
    if let Ok(rd) = fs::read_dir(output) {
        let mut extra: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".npy") && !m.arrays.iter().any(|a| &a.file == f))
            .collect();
        extra.sort();
        r.extra = extra;
    }
    if let Some(input) = input {
        regenerate(output, input, sample, threads, &m, &mut r)?;
    }
    Ok(r)
}

fn regenerate(
    output: &Path,
    input: &Path,
    sample: Option<usize>,
    threads: usize,
    m: &Manifest,
    r: &mut Report,
) -> Result<()> {
    use rayon::prelude::*;
    let src = source::read(input)?;
    for (f, (recorded_path, recorded_sha)) in src.files.iter().zip(&m.source_files) {
        let sha = crate::digest::sha256_file(f).map_err(|source| Error::Io {
            path: f.clone(),
            source,
        })?;
        if &sha != recorded_sha {
            r.regenerated_mismatch.push(format!(
                "{} (source changed since generate: recorded {recorded_path})",
                f.display()
            ));
            return Ok(());
        }
    }
    let preset = Preset::load(&m.preset)?;
    let text = Preset::source_text(&m.preset)?;
    if crate::preset::current_digest(&Preset::digest_of(&text))
        != crate::preset::current_digest(&m.preset_sha256)
    {
        r.errors.push(format!(
            "preset {}: its text changed since generate (SHA-256 differs); cannot regenerate",
            m.preset
        ));
        return Ok(());
    }
    let rng: RngMode = m.rng.parse().map_err(Error::InvalidArgument)?;
    let frost = match &m.frost_dir {
        Some(d) => Some(Arc::new(crate::FrostTextures::load(Path::new(d))?)),
        None => None,
    };
    let o = Options {
        input: input.to_path_buf(),
        output: output.to_path_buf(),
        corruptions: vec![],
        severities: m.severities.clone(),
        continuous: m.continuous.clone(),
        schedule: m
            .schedule
            .as_deref()
            .map(Schedule::from_description)
            .transpose()
            .map_err(Error::InvalidArgument)?,
        seed: m.seed,
        rng,
        preset: Arc::new(preset),
        preset_source: m.preset.clone(),
        preset_sha256: m.preset_sha256.clone(),
        frost,
        threads,
        shard: None,
        frost_dir: None,
    };
    let file_name = src.files[0]
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // (array, row of the array) pairs, spread evenly when sampling; a level array has a
    // block per level, a continuous array one block
    let arrays: Vec<&ArrayRecord> = m
        .arrays
        .iter()
        .filter(|a| a.name != "labels" && a.name != "severities")
        .collect();
    let blocks_of = |a: &ArrayRecord| -> Vec<crate::dataset::Severity> {
        match a.severity {
            Some(s) => vec![s],
            None => m.severities.iter().map(|&s| s.into()).collect(),
        }
    };
    // first global row of each array
    let mut starts = Vec::with_capacity(arrays.len() + 1);
    starts.push(0usize);
    for a in &arrays {
        starts.push(starts.last().unwrap() + m.n * blocks_of(a).len());
    }
    let total = *starts.last().unwrap();
    let locate = |i: usize| {
        let ai = starts.partition_point(|&s| s <= i) - 1;
        (ai, i - starts[ai])
    };
    let picks: Vec<usize> = match sample {
        Some(k) if k < total => (0..k).map(|i| i * total / k.max(1)).collect(),
        _ => (0..total).collect(),
    };
    // a schedule block's row severities (as generate's row_cells, computed once)
    let scheduled = o.schedule.as_ref().map(|s| s.severities(m.n));
    let len = m.size.0 * m.size.1 * 3;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::InvalidArgument(format!("thread pool: {e}")))?;
    let files: Vec<Option<Vec<u8>>> = arrays
        .iter()
        .map(|a| fs::read(output.join(&a.file)).ok())
        .collect();
    let results: Vec<std::result::Result<bool, String>> = pool.install(|| {
        picks
            .par_iter()
            .map(|&i| {
                let (ai, row) = locate(i);
                let a = arrays[ai];
                let (block, r) = (row / m.n, row % m.n);
                let c = Corruption::from_name(&a.name).map_err(|e| format!("{}: {e}", a.file))?;
                let cell = match (&scheduled, blocks_of(a)[block]) {
                    (Some(sev), crate::dataset::Severity::SCHEDULED) => Cell {
                        corruption: c,
                        severity: sev[r],
                    },
                    (_, severity) => Cell {
                        corruption: c,
                        severity,
                    },
                };
                let seed = row_seed(&o, &file_name, r, cell);
                if a.seeds.get(block).and_then(|s| s.get(r)) != Some(&seed) {
                    return Err(format!(
                        "{} row {row}: recorded seed differs from the seed rule",
                        a.file
                    ));
                }
                let mut out = vec![0u8; len];
                super::render_row(&o, &src, r, seed, cell, &mut out)
                    .map_err(|e| format!("{}: {e}", a.file))?;
                let Some(bytes) = &files[ai] else {
                    return Ok(false);
                };
                let off = npy::parse_header(bytes, Path::new(&a.file))
                    .map_err(|e| e.to_string())?
                    .data_offset
                    + row * len;
                Ok(bytes.get(off..off + len) == Some(&out[..]))
            })
            .collect()
    });
    for (&i, res) in picks.iter().zip(results) {
        let (ai, row) = locate(i);
        let a = arrays[ai];
        match res {
            Ok(true) => r.regenerated += 1,
            Ok(false) => {
                r.regenerated += 1;
                r.regenerated_mismatch.push(format!("{} row {row}", a.file));
            }
            Err(e) => r.errors.push(e),
        }
    }
    Ok(())
}
