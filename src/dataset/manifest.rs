//! Step 4: the manifest, its journals and shard parts (all JSON Lines, first line a
//! [`Header`], then one [`Record`] per output).
//!
//! Files in OUTPUT:
//!
//! * `manifest.jsonl`: the complete manifest, records sorted by output path, so that any
//!   thread count, shard split or resumption yields the same bytes;
//! * `manifest.journal.jsonl` (unsharded run) or `manifest.shard-K-of-N.journal.jsonl`: the
//!   journal a running process appends to after each source image (one line per output,
//!   written only after the output's atomic rename). A killed run leaves it behind; the rerun
//!   reads it to skip finished outputs. A torn last line is ignored;
//! * `manifest.shard-K-of-N.jsonl`: the sorted records of a finished shard. When all N parts
//!   exist they are merged into `manifest.jsonl` (automatically by the shard that finishes
//!   last, or by `imgcorrupt merge OUTPUT`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Name of the complete manifest in OUTPUT.
pub const MANIFEST: &str = "manifest.jsonl";

/// How every output of a run was made. Two runs may only share an OUTPUT if their headers
/// are equal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Manifest format version (1).
    pub imgcorrupt_manifest: u32,
    /// `imgcorrupt` version that wrote the outputs.
    pub tool_version: String,
    /// Dataset adapter.
    pub dataset: String,
    /// Preset name (from its `[preset]` table).
    pub preset: String,
    /// Where the preset came from: a built-in name or the file path given.
    pub preset_source: String,
    /// SHA-256 of the preset's TOML text.
    pub preset_sha256: String,
    /// RNG mode (`fast` / `numpy`).
    pub rng: String,
    /// Run seed.
    pub seed: u64,
    /// Seed rule ([`super::SEED_RULE`]).
    pub seed_rule: String,
    /// Geometry (`native` / `imagenet`).
    pub geometry: String,
    /// Channel order the corruptions saw (`rgb` / `bgr`).
    pub channel_order: String,
    /// Output format choice (`same`, `jpeg`, `png`, `webp`).
    pub image_format: String,
    /// Encoders and their settings, per format that can be produced.
    pub encoders: BTreeMap<String, String>,
    /// Annotation handling (`copy`, `link`, `none`).
    pub annotations: String,
    /// Frost texture source (`null` until frost is implemented with an external source).
    pub frost_source: Option<String>,
}

/// What an output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A corrupted image.
    Image,
    /// An annotation file carried unchanged.
    Annotation,
}

/// One output file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Path relative to OUTPUT, `/`-separated.
    pub output: String,
    /// Source path relative to INPUT, `/`-separated.
    pub source: String,
    /// SHA-256 of the source file.
    pub source_sha256: String,
    /// SHA-256 of the output file.
    pub sha256: String,
    /// Image or carried annotation.
    pub kind: Kind,
    /// Corruption of the cell.
    pub corruption: String,
    /// Severity of the cell.
    pub severity: u8,
    /// Seed of the output (images only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seed: Option<u64>,
}

/// File name of the journal of shard `k` of `n` (`None`: unsharded).
pub fn journal_name(shard: Option<(usize, usize)>) -> String {
    match shard {
        None => "manifest.journal.jsonl".into(),
        Some((k, n)) => format!("manifest.shard-{k}-of-{n}.journal.jsonl"),
    }
}

/// File name of the finished part of shard `k` of `n`.
pub fn part_name(k: usize, n: usize) -> String {
    format!("manifest.shard-{k}-of-{n}.jsonl")
}

/// A parsed manifest-like file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Its header, if any line parsed as one.
    pub header: Option<Header>,
    /// Its records.
    pub records: Vec<Record>,
}

/// Read a manifest, journal or part. Lines that do not parse are skipped when `tolerant`
/// (journals: a kill may tear the last line), else they are errors.
pub fn read(path: &Path, tolerant: bool) -> Result<Parsed> {
    let text = fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Parsed::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if i == 0 {
            match serde_json::from_str::<Header>(line) {
                Ok(h) => {
                    out.header = Some(h);
                    continue;
                }
                Err(e) if !tolerant => {
                    return Err(Error::InvalidArgument(format!(
                        "{}: line 1 is not a manifest header: {e}",
                        path.display()
                    )))
                }
                Err(_) => continue,
            }
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => out.records.push(r),
            Err(e) if !tolerant => {
                return Err(Error::InvalidArgument(format!(
                    "{}: line {}: {e}",
                    path.display(),
                    i + 1
                )))
            }
            Err(_) => {}
        }
    }
    Ok(out)
}

/// Serialize a header and records (sorted by output path, deduplicated) as JSON Lines.
pub fn render(header: &Header, records: impl IntoIterator<Item = Record>) -> String {
    let mut map: BTreeMap<String, Record> = BTreeMap::new();
    for r in records {
        map.insert(r.output.clone(), r);
    }
    let mut s = serde_json::to_string(header).expect("header serializes");
    s.push('\n');
    for r in map.into_values() {
        s.push_str(&serde_json::to_string(&r).expect("record serializes"));
        s.push('\n');
    }
    s
}

/// One line of a journal.
pub fn line(value: &impl Serialize) -> String {
    let mut s = serde_json::to_string(value).expect("serializes");
    s.push('\n');
    s
}

/// A manifest-like file found in OUTPUT.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ManifestFile {
    /// Its path.
    pub path: PathBuf,
    /// A journal (in progress or interrupted) rather than a finished file.
    pub journal: bool,
    /// Shard (K, N), `None` for the unsharded manifest/journal.
    pub shard: Option<(usize, usize)>,
}

/// Every manifest-like file in `output`, sorted by path.
pub fn list_files(output: &Path) -> Vec<ManifestFile> {
    let mut v = Vec::new();
    let Ok(rd) = fs::read_dir(output) else {
        return v;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().to_string();
        if name == MANIFEST {
            v.push(ManifestFile {
                path: e.path(),
                journal: false,
                shard: None,
            });
        } else if name == journal_name(None) {
            v.push(ManifestFile {
                path: e.path(),
                journal: true,
                shard: None,
            });
        } else if let Some(rest) = name
            .strip_prefix("manifest.shard-")
            .and_then(|r| r.strip_suffix(".jsonl"))
        {
            let (rest, journal) = match rest.strip_suffix(".journal") {
                Some(r) => (r, true),
                None => (rest, false),
            };
            if let Some((k, n)) = rest.split_once("-of-") {
                if let (Ok(k), Ok(n)) = (k.parse(), n.parse()) {
                    v.push(ManifestFile {
                        path: e.path(),
                        journal,
                        shard: Some((k, n)),
                    });
                }
            }
        }
    }
    v.sort();
    v
}

/// The header shared by every manifest-like file in `output` (error if two differ) and all
/// their records (later files win on the same output path; they agree when the header does).
pub fn collect(output: &Path) -> Result<(Option<Header>, BTreeMap<String, Record>)> {
    let mut header: Option<(Header, PathBuf)> = None;
    let mut records = BTreeMap::new();
    for ManifestFile { path, journal, .. } in list_files(output) {
        let parsed = read(&path, journal)?;
        if let Some(h) = parsed.header {
            match &header {
                Some((h0, p0)) if *h0 != h => {
                    return Err(Error::InvalidArgument(format!(
                    "{} and {} were written with different settings ({}): use a separate OUTPUT",
                    p0.display(),
                    path.display(),
                    header_diff(h0, &h)
                )))
                }
                Some(_) => {}
                None => header = Some((h, path.clone())),
            }
        }
        for r in parsed.records {
            records.insert(r.output.clone(), r);
        }
    }
    Ok((header.map(|(h, _)| h), records))
}

/// Names and values of the fields where two headers differ.
pub fn header_diff(a: &Header, b: &Header) -> String {
    let (va, vb) = (
        serde_json::to_value(a).expect("header"),
        serde_json::to_value(b).expect("header"),
    );
    let (Some(ma), Some(mb)) = (va.as_object(), vb.as_object()) else {
        return String::new();
    };
    ma.iter()
        .filter(|(k, v)| mb.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: {v} vs {}", mb.get(k).cloned().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Write a file atomically (temp + fsync + rename).
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    let tmp = crate::io::temp_path(
        path,
        &format!(
            "tmp-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ),
    )?;
    crate::io::write_atomic_via(path, &tmp, text.as_bytes(), true)
}

/// Merge the shard parts of `output` into `manifest.jsonl`.
///
/// Requires, for the shard count N of the parts, a finished part for every K in 0..N and no
/// journal of a shard still running or killed (unless `allow_incomplete`). An existing
/// `manifest.jsonl` is merged in too. Returns the number of records written.
pub fn merge(output: &Path, allow_incomplete: bool) -> Result<usize> {
    let files = list_files(output);
    let parts: Vec<(usize, usize)> = files
        .iter()
        .filter(|f| !f.journal)
        .filter_map(|f| f.shard)
        .collect();
    let journals: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.journal)
        .map(|f| &f.path)
        .collect();
    if parts.is_empty() && !files.iter().any(|f| !f.journal && f.shard.is_none()) {
        return Err(Error::InvalidArgument(format!(
            "{}: no manifest parts to merge (run `imgcorrupt generate … --shard K/N` first)",
            output.display()
        )));
    }
    if !allow_incomplete {
        if let Some(j) = journals.first() {
            return Err(Error::InvalidArgument(format!(
                "{} exists: that shard is still running or was interrupted (rerun it to finish), or pass --allow-incomplete",
                j.display()
            )));
        }
        let ns: std::collections::BTreeSet<usize> = parts.iter().map(|p| p.1).collect();
        for n in ns {
            let missing: Vec<String> = (0..n)
                .filter(|k| !parts.contains(&(*k, n)))
                .map(|k| format!("{k}/{n}"))
                .collect();
            if !missing.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "shard(s) {} have not finished (no {}): run them first, or pass --allow-incomplete",
                    missing.join(", "),
                    part_name(0, n).replace("-0-", "-K-")
                )));
            }
        }
    }
    let (header, records) = collect(output)?;
    let header = header.ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{}: manifest parts have no header",
            output.display()
        ))
    })?;
    let n = records.len();
    write_file(
        &output.join(MANIFEST),
        &render(&header, records.into_values()),
    )?;
    Ok(n)
}
