//! The CIFAR-10-C / CIFAR-100-C release format (`generate --dataset cifar`), ALGORITHMS.md §5.4.
//!
//! Output, exactly the files robustbench's `load_cifar10c` / `load_cifar100c` read:
//! `OUTPUT/<corruption>.npy`, uint8 `(N·S, H, W, 3)` (S severities, normally 5), severity-major
//! (rows `[(k)·N, (k+1)·N)` are the k-th selected severity, so `[(s−1)·N, s·N)` is severity s
//! when all five are made), and `OUTPUT/labels.npy` `(N·S,)` (the labels repeated per severity;
//! uint8 when they fit, as in the release, else int64). Continuous severities (issue 16,
//! `-s 2.5`) do not enter those blocks (a reader indexing `(s−1)·N` would read the wrong rows):
//! each goes to an array of its own, `OUTPUT/<corruption>_s<severity>.npy` (`fog_s2.5.npy`,
//! `(N, H, W, 3)`, the severity's canonical text), whose labels are `labels.npy`'s first N
//! (`labels.npy` holds at least one block). A `--severity-schedule` run (issue 16, CCC-style)
//! writes `OUTPUT/<corruption>.npy` `(N, H, W, 3)`: the N images in the source order, image i
//! at its scheduled severity ([`crate::dataset::schedule`], i among the N), beside
//! `OUTPUT/labels.npy` `(N,)` and `OUTPUT/severities.npy` (float32 `(N,)`, image i's
//! severity, the same for every corruption); the manifest records the schedule, so a model's
//! errors can be binned by severity without the array. `OUTPUT/manifest.json` records the
//! source files and their SHA-256, the preset, RNG and seed rule, and per array its SHA-256 and
//! the seed of every row.
//!
//! The stages are those of the image pipeline, for an array format: discover
//! ([`source`]: pickles or the `.npy` pair), plan (the rows and their seeds,
//! [`row_seed`]), execute (one severity block of a corruption at a time, in parallel over
//! rows, so memory holds the source and one block, never a whole output), record (each
//! array streamed to a temporary file while hashed, then renamed; the manifest last). A row's
//! bytes depend only on (source pixels, corruption, severity, preset, RNG mode, run seed,
//! row index), never on threads.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::plan::{output_seed, Roots};
use super::{Cell, Severity};
use crate::catalogue::Corruption;
use crate::error::{Error, Result};
use crate::{FrostTextures, ImageView, PixelLayout, Preset, RngMode, Settings};

pub mod npy;
pub mod pickle;
pub mod record;
pub mod source;

/// Seed rule of the CIFAR format (recorded in the manifest).
pub const SEED_RULE: &str = "v1 (dataset::plan::output_seed) with source = \"<source file name>/<row index>\", e.g. \"test_batch/17\"";

/// What a CIFAR run makes.
#[derive(Clone, Debug)]
pub struct Options {
    /// The input (module docs of [`source`]).
    pub input: PathBuf,
    /// Output folder.
    pub output: PathBuf,
    /// Corruptions, one array each.
    pub corruptions: Vec<Corruption>,
    /// Severities, in the order of the row blocks.
    pub severities: Vec<u8>,
    /// Continuous severities (issue 16), one array each per corruption
    /// (`<corruption>_s<severity>.npy`).
    pub continuous: Vec<Severity>,
    /// `--severity-schedule` (issue 16): instead of levels, one array per corruption with
    /// every image at its scheduled severity (`severities` and `continuous` are then empty).
    pub schedule: Option<super::schedule::Schedule>,
    /// Run seed.
    pub seed: u64,
    /// RNG mode.
    pub rng: RngMode,
    /// Parameter tables.
    pub preset: Arc<Preset>,
    /// Preset name or path, for the manifest.
    pub preset_source: String,
    /// SHA-256 of the preset text.
    pub preset_sha256: String,
    /// The reference's frost photographs, or `None` for procedural frost.
    pub frost: Option<Arc<FrostTextures>>,
    /// Worker threads.
    pub threads: usize,
    /// `(K, N)`: make only the arrays of shard K of N (the corruptions whose position in
    /// [`Options::corruptions`] is ≡ K mod N), recording them in a part manifest; the last
    /// shard to finish merges the parts into `manifest.json` ([`record::merge`]).
    pub shard: Option<(usize, usize)>,
    /// The `--frost-dir` given (recorded, so that `verify --input` can reload it).
    pub frost_dir: Option<PathBuf>,
}

/// The seed of row `row` of `file_name`'s images for a cell (the seed rule of
/// [`super::plan`] with the source named `<file name>/<row>`).
pub fn row_seed(o: &Options, file_name: &str, row: usize, cell: Cell) -> u64 {
    output_seed(
        o.seed,
        &format!("{file_name}/{row}"),
        cell.corruption,
        cell.severity,
        o.rng == RngMode::Numpy,
    )
}

/// The arrays a corruption makes: `(file, continuous severity)`: `<corruption>.npy` for the
/// level blocks (when there are levels), then `<corruption>_s<severity>.npy` per continuous
/// severity; for a schedule run (`scheduled`) only `<corruption>.npy`, its severity
/// [`Severity::SCHEDULED`] (one block, each row at its own severity).
pub fn array_files(
    c: &str,
    levels: &[u8],
    continuous: &[Severity],
    scheduled: bool,
) -> Vec<(String, Option<Severity>)> {
    if scheduled {
        return vec![(format!("{c}.npy"), Some(Severity::SCHEDULED))];
    }
    let level = (!levels.is_empty()).then(|| (format!("{c}.npy"), None));
    level
        .into_iter()
        .chain(
            continuous
                .iter()
                .map(|&s| (format!("{c}_s{s}.npy"), Some(s))),
        )
        .collect()
}

/// A schedule run's per-image severities (float32, [`Options::schedule`]).
pub const SEVERITIES_FILE: &str = "severities.npy";

/// The bytes of `severities.npy` for `n` images (header and float32 data): generate writes
/// them, verify compares the file with them.
pub fn severities_npy(schedule: &super::schedule::Schedule, n: usize) -> Vec<u8> {
    let mut b = npy::header("<f4", &[n]);
    for s in schedule.severities(n) {
        b.extend_from_slice(&(s.value() as f32).to_le_bytes());
    }
    b
}

/// One written array, as the manifest records it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ArrayRecord {
    /// `<corruption>`, `labels` or `severities`.
    pub name: String,
    /// The continuous severity of a `<corruption>_s<severity>.npy` array (one block),
    /// `"schedule"` for a schedule run's array; absent for the level arrays, labels and
    /// severities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// File name in OUTPUT.
    pub file: String,
    /// numpy dtype.
    pub dtype: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// SHA-256 of the whole `.npy` file.
    pub sha256: String,
    /// Per severity block (in `severities` order), the seed of each row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<Vec<u64>>,
}

/// The manifest (`OUTPUT/manifest.json`; a shard's part is
/// `manifest.shard-K-of-N.json`, [`record::state_file`]). It is rewritten after every array,
/// so a killed run resumes at the first array it lacks ([`record`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// `cifar-c`.
    pub format: String,
    /// imgcorrupt version.
    pub imgcorrupt: String,
    /// `cifar-10`, `cifar-100` or `npy`.
    pub source_kind: String,
    /// Source files (absolute) and their SHA-256.
    pub source_files: Vec<(String, String)>,
    /// Images per severity block.
    pub n: usize,
    /// Height, width.
    pub size: (usize, usize),
    /// Severities, in block order.
    pub severities: Vec<u8>,
    /// Continuous severities, one array each per corruption (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub continuous: Vec<Severity>,
    /// `--severity-schedule` ([`super::schedule::Schedule::describe`]), absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Preset name or file.
    pub preset: String,
    /// SHA-256 of the preset text.
    pub preset_sha256: String,
    /// RNG mode.
    pub rng: String,
    /// Run seed.
    pub seed: u64,
    /// How row seeds are derived.
    pub seed_rule: String,
    /// Every corruption of the run, in order (all shards'); absent in manifests of earlier
    /// versions, which listed only what they made.
    #[serde(default)]
    pub corruptions: Vec<String>,
    /// The reference's frost photographs used (absolute folder), or absent for procedural.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frost_dir: Option<String>,
    /// `(K, N)` in a shard's part manifest; absent in `manifest.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<(usize, usize)>,
    /// `labels.npy` first (then `severities.npy` for a schedule run), then per corruption (in
    /// [`Manifest::corruptions`] order) its level array and its continuous arrays
    /// ([`array_files`]).
    pub arrays: Vec<ArrayRecord>,
}

/// The result of a run.
#[derive(Debug)]
pub struct Summary {
    /// The manifest written (also on failures, listing the arrays that were made).
    pub manifest: Manifest,
    /// Failures, one line each (`<corruption>: reason`).
    pub failed: Vec<String>,
    /// Arrays written by this run (labels.npy not counted).
    pub written: usize,
    /// Arrays already made by an earlier run with the same options, kept.
    pub skipped: usize,
    /// Sharded: whether this run merged all parts into `manifest.json`.
    pub merged: bool,
}

/// Write a `.npy` of `header` + blocks produced by `block(k)` to `dst` atomically, hashing
/// as it goes; returns the SHA-256.
fn write_streamed(
    dst: &Path,
    header: &[u8],
    blocks: usize,
    mut block: impl FnMut(usize) -> Result<Vec<u8>>,
) -> Result<String> {
    let tmp = crate::io::temp_path(dst, &format!("tmp-{}", std::process::id()))?;
    let io_err = |source| Error::Io {
        path: dst.to_path_buf(),
        source,
    };
    let result = (|| {
        let _ = fs::remove_file(&tmp);
        let mut f = std::io::BufWriter::new(
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .map_err(io_err)?,
        );
        let mut h = Sha256::new();
        f.write_all(header).map_err(io_err)?;
        h.update(header);
        for k in 0..blocks {
            let b = block(k)?;
            f.write_all(&b).map_err(io_err)?;
            h.update(&b);
        }
        let f = f.into_inner().map_err(|e| io_err(e.into_error()))?;
        f.sync_all().map_err(io_err)?;
        drop(f);
        fs::rename(&tmp, dst).map_err(io_err)?;
        Ok(crate::digest::hex(&h.finalize()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Run: read the source, write `labels.npy`, one array per corruption, then the manifest.
/// `note` receives one line per finished array.
pub fn generate(o: &Options, note: &(dyn Fn(&str) + Sync)) -> Result<Summary> {
    let src = source::read(&o.input)?;
    let in_dir = if o.input.is_file() {
        o.input.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        o.input.clone()
    };
    let cells: Vec<Cell> = o
        .corruptions
        .iter()
        .flat_map(|&c| {
            o.severities
                .iter()
                .map(|&s| Severity::from(s))
                .chain(o.continuous.iter().copied())
                .chain(o.schedule.as_ref().map(|_| Severity::SCHEDULED))
                .map(move |s| Cell {
                    corruption: c,
                    severity: s,
                })
        })
        .collect();
    Roots::check(&in_dir, &o.output, &cells)?;
    fs::create_dir_all(&o.output).map_err(|source| Error::Io {
        path: o.output.clone(),
        source,
    })?;
    let file_name = src.files[0]
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (n, h, w) = (src.n, src.height, src.width);
    let s_count = o.severities.len();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(o.threads.max(1))
        .build()
        .map_err(|e| Error::InvalidArgument(format!("thread pool: {e}")))?;

    let source_files = src
        .files
        .iter()
        .map(|p| {
            let abs = fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            let sha = crate::digest::sha256_file(p).map_err(|source| Error::Io {
                path: p.clone(),
                source,
            })?;
            Ok((abs.display().to_string(), sha))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut manifest = Manifest {
        format: "cifar-c".into(),
        imgcorrupt: env!("CARGO_PKG_VERSION").into(),
        source_kind: src.kind.into(),
        source_files,
        n,
        size: (h, w),
        severities: o.severities.clone(),
        continuous: o.continuous.clone(),
        schedule: o.schedule.as_ref().map(|s| s.describe()),
        preset: o.preset_source.clone(),
        preset_sha256: o.preset_sha256.clone(),
        rng: o.rng.to_string(),
        seed: o.seed,
        seed_rule: SEED_RULE.into(),
        corruptions: o.corruptions.iter().map(|c| c.name().to_string()).collect(),
        frost_dir: o.frost_dir.as_ref().map(|d| {
            fs::canonicalize(d)
                .unwrap_or_else(|_| d.clone())
                .display()
                .to_string()
        }),
        shard: o.shard,
        arrays: Vec::new(),
    };
    let state_path = o.output.join(record::state_file(o.shard));
    // Arrays of an earlier run with the same options (refused if the options differ).
    let earlier = record::resume(&o.output, &state_path, &manifest)?;
    let save = |m: &Manifest| -> Result<()> {
        let text = serde_json::to_string(m).expect("manifest serializes") + "\n";
        crate::io::write_atomic(&state_path, text.as_bytes())
    };
    let (mut written, mut skipped) = (0, 0);

    // labels.npy: the labels once per severity block (at least once: the labels of the
    // continuous arrays)
    let small = src.labels.iter().all(|l| (0..=255).contains(l));
    let (dtype, one): (&str, Vec<u8>) = if small {
        ("|u1", src.labels.iter().map(|&l| l as u8).collect())
    } else {
        (
            "<i8",
            src.labels.iter().flat_map(|l| l.to_le_bytes()).collect(),
        )
    };
    let label_blocks = s_count.max(1);
    let shape = vec![n * label_blocks];
    let labels = match earlier.get("labels.npy") {
        Some(r) => r.clone(),
        None => {
            let dst = o.output.join("labels.npy");
            let sha = write_streamed(&dst, &npy::header(dtype, &shape), label_blocks, |_| {
                Ok(one.clone())
            })?;
            ArrayRecord {
                name: "labels".into(),
                severity: None,
                file: "labels.npy".into(),
                dtype: dtype.into(),
                shape,
                sha256: sha,
                seeds: Vec::new(),
            }
        }
    };
    manifest.arrays.push(labels);
    if let Some(schedule) = &o.schedule {
        let r = match earlier.get(SEVERITIES_FILE) {
            Some(r) => r.clone(),
            None => {
                let bytes = severities_npy(schedule, n);
                let dst = o.output.join(SEVERITIES_FILE);
                crate::io::write_atomic(&dst, &bytes)?;
                ArrayRecord {
                    name: "severities".into(),
                    severity: None,
                    file: SEVERITIES_FILE.into(),
                    dtype: "<f4".into(),
                    shape: vec![n],
                    sha256: crate::digest::hex(&Sha256::digest(&bytes)),
                    seeds: Vec::new(),
                }
            }
        };
        manifest.arrays.push(r);
    }
    save(&manifest)?;

    let mut failed = Vec::new();
    let len = h * w * 3;
    let mine = o
        .corruptions
        .iter()
        .enumerate()
        .filter(|(i, _)| o.shard.is_none_or(|(k, m)| i % m == k))
        .map(|(_, &c)| c);
    for c in mine {
        for (file, cont) in
            array_files(c.name(), &o.severities, &o.continuous, o.schedule.is_some())
        {
            if let Some(r) = earlier.get(&file) {
                manifest.arrays.push(r.clone());
                skipped += 1;
                continue;
            }
            let blocks: Vec<Severity> = match cont {
                Some(s) => vec![s],
                None => o.severities.iter().map(|&s| s.into()).collect(),
            };
            let shape = vec![n * blocks.len(), h, w, 3];
            let mut seeds = Vec::with_capacity(blocks.len());
            let made = write_streamed(
                &o.output.join(&file),
                &npy::header("|u1", &shape),
                blocks.len(),
                |k| {
                    let cells = row_cells(o.schedule.as_ref(), c, blocks[k], n);
                    let row_seeds: Vec<u64> = (0..n)
                        .map(|r| row_seed(o, &file_name, r, cells[r]))
                        .collect();
                    let mut block = vec![0u8; n * len];
                    pool.install(|| {
                        block
                            .par_chunks_mut(len)
                            .enumerate()
                            .try_for_each(|(r, out)| {
                                render_row(o, &src, r, row_seeds[r], cells[r], out)
                            })
                    })?;
                    seeds.push(row_seeds);
                    Ok(block)
                },
            );
            match made {
                Ok(sha) => {
                    note(&format!("{file}: {} rows, sha256 {}", shape[0], &sha[..16]));
                    manifest.arrays.push(ArrayRecord {
                        name: c.name().into(),
                        severity: cont,
                        file,
                        dtype: "|u1".into(),
                        shape,
                        sha256: sha,
                        seeds,
                    });
                    written += 1;
                    save(&manifest)?;
                }
                Err(e) => failed.push(format!("{file}: {e}")),
            }
        }
    }
    save(&manifest)?;
    let merged = match o.shard {
        Some(_) if failed.is_empty() => record::merge(&o.output, false).is_ok(),
        _ => false,
    };
    Ok(Summary {
        manifest,
        failed,
        written,
        skipped,
        merged,
    })
}

/// The cell of each of the `n` rows of a block of severity `severity`: that severity, or for
/// a schedule's block ([`Severity::SCHEDULED`]) row r's scheduled severity, which is also
/// what its seed keys on (a scheduled row is the row of a `-s` array of its severity).
pub fn row_cells(
    schedule: Option<&super::schedule::Schedule>,
    corruption: Corruption,
    severity: Severity,
    n: usize,
) -> Vec<Cell> {
    match schedule {
        Some(s) if severity == Severity::SCHEDULED => s
            .severities(n)
            .into_iter()
            .map(|severity| Cell {
                corruption,
                severity,
            })
            .collect(),
        _ => vec![
            Cell {
                corruption,
                severity,
            };
            n
        ],
    }
}

/// Row `r` of the source corrupted for `cell` with its seed, into `out` (generate and verify
/// call this same function).
pub fn render_row(
    o: &Options,
    src: &source::Source,
    r: usize,
    seed: u64,
    cell: Cell,
    out: &mut [u8],
) -> Result<()> {
    let mut settings = Settings::new(seed)
        .with_rng(o.rng)
        .with_preset(o.preset.clone());
    if let Some(f) = &o.frost {
        settings = settings.with_frost_textures(f.clone());
    }
    super::corrupt_at_severity(
        ImageView::new(src.image(r), src.width, src.height, PixelLayout::Rgb),
        out,
        cell.corruption,
        cell.severity,
        &settings,
    )
    .map_err(|e| Error::InvalidArgument(format!("row {r}, severity {}: {e}", cell.severity)))
}
