//! The files of the record stage: the manifest, its journals and shard parts (all JSON Lines, first line a
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
use std::io::{BufRead, BufReader, BufWriter, Write};
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
    /// SHA-256 of the preset's TOML text. Read through [`crate::preset::current_digest`], so
    /// that a manifest made with an earlier, comment-only revision of a built-in preset reads
    /// as made with today's text (it still resumes, verifies and merges).
    #[serde(deserialize_with = "preset_digest")]
    pub preset_sha256: String,
    /// RNG mode (`fast` / `numpy`).
    pub rng: String,
    /// Run seed.
    pub seed: u64,
    /// Seed rule ([`crate::dataset::plan::SEED_RULE`]).
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
    /// Frost texture source: `procedural`, or `textures:<dir>` for the reference photographs.
    pub frost_source: Option<String>,
    /// Webdataset runs: input kind, image member, layout and shard size (absent otherwise,
    /// so other manifests are unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webdataset: Option<String>,
    /// The style source and backend of `stylize` outputs (absent when stylize is not
    /// generated, so other manifests are unchanged).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stylize: Option<StyleHeader>,
    /// How sources were decoded ([`crate::io::SOURCE_DECODER`]); absent in manifests written
    /// before imgcorrupt had its own JPEG decoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoder: Option<String>,
    /// Issue 16: the C-bar magnitude (0–10 scale) of every generated C-bar cell, keyed
    /// `<operator>/<severity folder>` (e.g. `"sparkles/3": "3"`, the shortest decimal of the f64); absent when no C-bar
    /// operator is generated, so other manifests are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magnitudes: Option<BTreeMap<String, String>>,
    /// The tile bank of LAION-C's `mosaic`/`stickers` outputs (absent when neither is
    /// generated, so other manifests are unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tile_bank: Option<TileBankHeader>,
    /// Issue 16: the `--severity-schedule` of the run ([`crate::dataset::schedule::Schedule::describe`]),
    /// absent otherwise (so other manifests are unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_schedule: Option<String>,
    /// The cell layout when not the default (`laion-c`), absent otherwise (so other
    /// manifests are unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
}

/// The tile bank a run used: enough to reload it in `verify` and to detect a changed bank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TileBankHeader {
    /// The bank folder (absolute path).
    pub source: String,
    /// Number of images.
    pub images: usize,
    /// [`crate::TileBank::digest`]: SHA-256 over the sorted (relative path, file SHA-256) pairs.
    pub sha256: String,
    /// Tile sizes made from it.
    pub sizes: Vec<usize>,
}

/// How `stylize` outputs were made: enough to rebuild the [`crate::Stylizer`] in `verify`
/// and to detect a changed style set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StyleHeader {
    /// `dir:<path>` (a styles folder) or `file:<path>` (one style image), as given.
    pub source: String,
    /// Number of styles.
    pub count: usize,
    /// [`crate::Stylizer::list_digest`]: SHA-256 of the sorted `name \t size` list.
    pub list_sha256: String,
    /// Style choice rule.
    pub choice: String,
    /// Backend (`statistics` / `adain`).
    pub backend: String,
    /// Side of prepared styles.
    pub style_size: u32,
    /// `preset` (α from the preset's `[stylize] alpha` row) or the fixed α given.
    pub alpha: String,
    /// adain backend: encoder weights path and SHA-256 (`<path> sha256:<hex>`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vgg: Option<String>,
    /// adain backend: decoder weights path and SHA-256.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub decoder: Option<String>,
}

/// What an output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A corrupted image.
    Image,
    /// An annotation file carried unchanged.
    Annotation,
    /// A class folder the run made in a cell, empty or not (ImageFolder counts empty classes
    /// too); no hashes. Manifests written before every folder was listed have these records
    /// for empty folders only; a resume rewrites them all.
    Folder,
    /// A webdataset output shard (`<corruption>/<severity>/<shard>.tar`, or `<shard>.tar`
    /// with `--wds-cells-in-sample`): the SHA-256 of the whole file.
    Shard,
    /// A member of an output shard: `output` is `<shard output>/<member name>`, `sha256` the
    /// member's bytes (checked by reading the shard).
    Member,
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
    /// Severity of the cell (a JSON number: `3`, or `2.5` for a continuous severity).
    pub severity: crate::dataset::Severity,
    /// `--severity-schedule` runs (`severity` is then `"schedule"`): the image's own
    /// severity.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scheduled_severity: Option<crate::dataset::Severity>,
    /// Seed of the output (images only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seed: Option<u64>,
    /// `stylize` outputs: the style's path relative to the styles folder.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub style: Option<String>,
    /// `stylize` outputs: SHA-256 of the style file.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub style_sha256: Option<String>,
}

/// Whether `path` is relative and normalised: `/`-separated non-empty components, none of
/// them `.` or `..`, no NUL. Manifest paths are joined to OUTPUT or INPUT and opened, hashed
/// (or, for a source that no longer exists, their output removed): a path that is absolute or
/// climbs out would reach files outside those roots.
pub fn is_normal_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\0')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

impl Record {
    /// The record's paths are relative and normalised ([`is_normal_relative`]), the output
    /// inside its cell folder `<corruption>/<severity>/`; the error says which is not.
    pub fn check_paths(&self) -> std::result::Result<(), String> {
        if !is_normal_relative(&self.output) {
            return Err(format!(
                "output path `{}` is not a relative, normalised path inside OUTPUT",
                self.output
            ));
        }
        if !is_normal_relative(&self.source) {
            return Err(format!(
                "source path `{}` is not a relative, normalised path inside INPUT",
                self.source
            ));
        }
        // Shards made with `--wds-cells-in-sample` (and their members) lie outside the
        // cells: their paths are only checked to be relative and normalised.
        let in_shard = matches!(self.kind, Kind::Shard | Kind::Member);
        let cell = format!("{}/{}/", self.corruption, self.severity);
        // `--layout laion-c` names the severity folder `intensity_level_<s>` (the header says
        // which layout; a record is read without it, so either is accepted)
        let laion = format!("{}/intensity_level_{}/", self.corruption, self.severity);
        if !in_shard && !self.output.starts_with(&cell) && !self.output.starts_with(&laion) {
            return Err(format!(
                "output path `{}` is not inside its cell folder `{cell}`",
                self.output
            ));
        }
        Ok(())
    }
}

/// A record of a manifest line, paths checked ([`Record::check_paths`]).
fn parse_record(line: &str) -> std::result::Result<Record, String> {
    let r: Record = serde_json::from_str(line).map_err(|e| e.to_string())?;
    r.check_paths()?;
    Ok(r)
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

/// Stream a manifest, journal or part: `on_header` for a header line (line 1), `on_record`
/// for each record. Lines that do not parse are skipped when `tolerant` (journals: a kill
/// may tear the last line), else they are errors. Memory does not grow with the file.
pub fn stream(
    path: &Path,
    tolerant: bool,
    mut on_header: impl FnMut(Header),
    mut on_record: impl FnMut(Record) -> Result<()>,
) -> Result<()> {
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = fs::File::open(path).map_err(io_err)?;
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(_) if tolerant => continue,
            Err(e) => return Err(io_err(e)),
        };
        if line.trim().is_empty() {
            continue;
        }
        if i == 0 {
            match serde_json::from_str::<Header>(&line) {
                Ok(h) => {
                    on_header(h);
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
        match parse_record(&line) {
            Ok(r) => on_record(r)?,
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
    Ok(())
}

/// The header of a manifest-like file (its first line), if it has one.
pub fn read_header(path: &Path) -> Result<Option<Header>> {
    let f = fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut first = String::new();
    BufReader::new(f)
        .read_line(&mut first)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(serde_json::from_str(first.trim()).ok())
}

/// The finished `manifest.jsonl` of `output` and its header; the error says whether the run
/// is unfinished (shard parts or journals exist) or OUTPUT is no generate output at all.
pub fn finished(output: &Path) -> Result<(PathBuf, Header)> {
    let mpath = output.join(MANIFEST);
    if !mpath.exists() {
        let pending = list_files(output);
        return Err(Error::InvalidArgument(if pending.is_empty() {
            format!("{}: no manifest (not a generate output?)", mpath.display())
        } else {
            format!(
                "{}: no manifest yet; shard parts/journals exist: finish the run or `imgcorrupt merge {}`",
                mpath.display(),
                output.display()
            )
        }));
    }
    let header = read_header(&mpath)?
        .ok_or_else(|| Error::InvalidArgument(format!("{}: no header", mpath.display())))?;
    Ok((mpath, header))
}

/// One JSON line.
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

/// The header shared by every manifest-like file in `output` (`None` if there is none);
/// an error names the two files and the fields if two headers differ.
pub fn common_header(output: &Path) -> Result<Option<Header>> {
    let mut found: Option<(Header, PathBuf)> = None;
    for f in list_files(output) {
        let Some(h) = read_header(&f.path)? else {
            continue;
        };
        match &found {
            Some((h0, p0)) if *h0 != h => {
                return Err(Error::InvalidArgument(format!(
                    "{} and {} were written with different settings ({}): use a separate OUTPUT",
                    p0.display(),
                    f.path.display(),
                    header_diff(h0, &h)
                )))
            }
            Some(_) => {}
            None => found = Some((h, f.path.clone())),
        }
    }
    Ok(found.map(|(h, _)| h))
}

/// Deserializes [`Header::preset_sha256`] through [`crate::preset::current_digest`].
fn preset_digest<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let recorded = String::deserialize(d)?;
    Ok(crate::preset::current_digest(&recorded))
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

/// A sorted manifest written line by line to a temporary file, renamed into place (after
/// `fsync`) by [`SortedWriter::finish`]. Records must come in increasing output order;
/// a repeated output path keeps the first record.
pub struct SortedWriter {
    path: PathBuf,
    tmp: PathBuf,
    w: BufWriter<fs::File>,
    last: Option<String>,
    count: usize,
    /// Removes the temporary file unless [`SortedWriter::finish`] renamed it: a write error
    /// (ENOSPC) returns early through `?`, and the half-written file must not stay behind.
    _guard: TmpGuard,
}

/// Removes a temporary file when dropped, unless disarmed.
struct TmpGuard(Option<PathBuf>);

impl Drop for TmpGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// Tag prefix of the temporary files of [`SortedWriter`] (`.<name>.tmp-<pid>-<nanos>`).
const SORTED_TMP_TAG: &str = "tmp-";

/// Remove the temporaries a killed (or out-of-space) writer of `path` left behind: hidden
/// `.<file name>.tmp-*` files next to it. Called by the one process that may write `path`
/// (it holds the journal lock of its shard).
pub fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = format!(".{}.{SORTED_TMP_TAG}", name.to_string_lossy());
    let Ok(rd) = fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        if e.file_name().to_string_lossy().starts_with(&prefix)
            && e.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = fs::remove_file(e.path());
        }
    }
}

impl SortedWriter {
    /// Start `path` with its header line.
    pub fn create(path: &Path, header: &Header) -> Result<SortedWriter> {
        let tmp = crate::io::temp_path(
            path,
            &format!(
                "{SORTED_TMP_TAG}{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0)
            ),
        )?;
        let f = fs::File::create(&tmp).map_err(|source| Error::Io {
            path: tmp.clone(),
            source,
        })?;
        let mut w = SortedWriter {
            path: path.to_path_buf(),
            _guard: TmpGuard(Some(tmp.clone())),
            tmp,
            w: BufWriter::new(f),
            last: None,
            count: 0,
        };
        w.write_raw(&line(header))?;
        Ok(w)
    }

    fn write_raw(&mut self, text: &str) -> Result<()> {
        self.w
            .write_all(text.as_bytes())
            .map_err(|source| Error::Io {
                path: self.tmp.clone(),
                source,
            })
    }

    /// Append a record (skipped if its output equals the previous one).
    pub fn push(&mut self, r: &Record) -> Result<()> {
        if let Some(last) = &self.last {
            debug_assert!(*last <= r.output, "records out of order");
            if *last == r.output {
                return Ok(());
            }
        }
        self.write_raw(&line(r))?;
        self.last = Some(r.output.clone());
        self.count += 1;
        Ok(())
    }

    /// Flush, `fsync` and rename into place; returns the number of records.
    pub fn finish(self) -> Result<usize> {
        let SortedWriter {
            path,
            tmp,
            w,
            count,
            mut _guard,
            ..
        } = self;
        let res = (|| -> std::io::Result<()> {
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if let Err(source) = res {
            return Err(Error::Io { path, source }); // the guard removes `tmp`
        }
        _guard.0 = None;
        Ok(count)
    }
}

/// Stream the records of a sorted file (manifest or part) one at a time.
struct SortedReader {
    lines: std::io::Lines<BufReader<fs::File>>,
    path: PathBuf,
    head: Option<Record>,
}

impl SortedReader {
    fn open(path: &Path) -> Result<SortedReader> {
        let f = fs::File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut r = SortedReader {
            lines: BufReader::new(f).lines(),
            path: path.to_path_buf(),
            head: None,
        };
        r.lines.next(); // header
        r.advance()?;
        Ok(r)
    }

    fn advance(&mut self) -> Result<()> {
        self.head = None;
        for l in self.lines.by_ref() {
            let l = l.map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })?;
            if l.trim().is_empty() {
                continue;
            }
            self.head =
                Some(parse_record(&l).map_err(|e| {
                    Error::InvalidArgument(format!("{}: {e}", self.path.display()))
                })?);
            break;
        }
        Ok(())
    }
}

/// Merge sorted files (manifest and/or parts) into `dest` with `header`, plus `extra` records
/// (sorted, taking precedence on equal output paths), keeping only the file records for which
/// `keep(record, file it came from)` is true; streaming: memory does not grow with the number
/// of records.
pub fn merge_sorted(
    dest: &Path,
    header: &Header,
    sources: &[PathBuf],
    extra: impl Iterator<Item = Record>,
    mut keep: impl FnMut(&Record, &Path) -> bool,
) -> Result<usize> {
    let mut readers = sources
        .iter()
        .map(|p| SortedReader::open(p))
        .collect::<Result<Vec<_>>>()?;
    let mut extra = extra.peekable();
    let mut w = SortedWriter::create(dest, header)?;
    loop {
        let min_file = readers
            .iter()
            .filter_map(|r| r.head.as_ref().map(|h| h.output.clone()))
            .min();
        let take_extra = match (extra.peek(), &min_file) {
            (Some(e), Some(m)) => e.output <= *m,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let key = if take_extra {
            let r = extra.next().expect("peeked");
            w.push(&r)?;
            r.output
        } else {
            min_file.expect("some file head")
        };
        for r in readers.iter_mut() {
            while r.head.as_ref().is_some_and(|h| h.output == key) {
                if !take_extra {
                    let rec = r.head.take().expect("head");
                    if keep(&rec, &r.path) {
                        w.push(&rec)?;
                    }
                }
                r.advance()?;
            }
        }
    }
    w.finish()
}

/// Merge the shard parts of `output` into `manifest.jsonl`.
///
/// Requires, for the shard count N of the parts, a finished part for every K in 0..N and no
/// journal of a shard still running or killed (unless `allow_incomplete`). An existing
/// `manifest.jsonl` is merged in too. Returns the number of records written.
pub fn merge(output: &Path, allow_incomplete: bool) -> Result<usize> {
    merge_keeping(output, allow_incomplete, |_, _| true)
}

/// [`merge`], keeping only the records for which `keep(record, file it came from)` is true
/// (the last shard of a run drops an earlier manifest's outputs of removed sources this way).
pub fn merge_keeping(
    output: &Path,
    allow_incomplete: bool,
    keep: impl FnMut(&Record, &Path) -> bool,
) -> Result<usize> {
    let files = list_files(output);
    let parts: Vec<(usize, usize)> = files
        .iter()
        .filter(|f| !f.journal)
        .filter_map(|f| f.shard)
        .collect();
    if parts.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: no manifest parts to merge (run `imgcorrupt generate … --shard K/N` first)",
            output.display()
        )));
    }
    if !allow_incomplete {
        if let Some(j) = files.iter().find(|f| f.journal) {
            return Err(Error::InvalidArgument(format!(
                "{} exists: that run is still going or was interrupted (rerun it to finish), or pass --allow-incomplete",
                j.path.display()
            )));
        }
        // Complete when, for some shard count N, every part K/N has finished: the N shards
        // cover the whole plan whatever other parts exist (a rerun with another N writes the
        // same outputs, so its parts are merged in too).
        let ns: std::collections::BTreeSet<usize> = parts.iter().map(|p| p.1).collect();
        let missing: Vec<(usize, Vec<String>)> = ns
            .iter()
            .map(|&n| {
                let m = (0..n)
                    .filter(|k| !parts.contains(&(*k, n)))
                    .map(|k| format!("{k}/{n}"))
                    .collect();
                (n, m)
            })
            .collect();
        if missing.iter().all(|(_, m)| !m.is_empty()) {
            let (n, m) = &missing[0];
            let others = if missing.len() > 1 {
                format!(
                    " (parts of {} shard counts exist; any one count complete suffices)",
                    missing.len()
                )
            } else {
                String::new()
            };
            return Err(Error::InvalidArgument(format!(
                "shard(s) {} have not finished (no manifest.shard-K-of-{n}.jsonl){others}: run them first, or pass --allow-incomplete",
                m.join(", ")
            )));
        }
    }
    let header = common_header(output)?.ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{}: manifest parts have no header",
            output.display()
        ))
    })?;
    let sources: Vec<PathBuf> = files
        .iter()
        .filter(|f| !f.journal)
        .map(|f| f.path.clone())
        .collect();
    merge_sorted(
        &output.join(MANIFEST),
        &header,
        &sources,
        std::iter::empty(),
        keep,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        serde_json::from_str(
            r#"{"imgcorrupt_manifest":1,"tool_version":"0","dataset":"folder","preset":"p","preset_source":"p","preset_sha256":"0","rng":"fast","seed":0,"seed_rule":"v1","geometry":"native","channel_order":"rgb","image_format":"same","encoders":{},"annotations":"copy","frost_source":null}"#,
        )
        .unwrap()
    }

    /// A writer dropped before `finish` (a write failed with ENOSPC and `?` returned) leaves
    /// no temporary behind; one left by a killed process is removed by `remove_stale_temps`.
    #[test]
    fn sorted_writer_temporaries_do_not_outlive_it() {
        let dir =
            std::env::temp_dir().join(format!("imgcorrupt-sorted-tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let dest = dir.join(MANIFEST);
        let listing = || -> Vec<String> {
            let mut v: Vec<String> = fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        let w = SortedWriter::create(&dest, &header()).unwrap();
        assert_eq!(listing().len(), 1, "the temporary exists while writing");
        drop(w);
        assert!(listing().is_empty(), "{:?}", listing());
        fs::write(dir.join(".manifest.jsonl.tmp-1-2"), b"x").unwrap();
        fs::write(dir.join(".other.tmp-1-2"), b"x").unwrap();
        remove_stale_temps(&dest);
        assert_eq!(listing(), [".other.tmp-1-2"]);
        let w = SortedWriter::create(&dest, &header()).unwrap();
        assert_eq!(w.finish().unwrap(), 0);
        assert_eq!(listing(), [".other.tmp-1-2", MANIFEST]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn record_paths_must_be_relative_and_normalised() {
        for ok in ["a", "a/b.c", "fog/3/n01/x.JPEG", "..a/b..", ".hidden"] {
            assert!(is_normal_relative(ok), "{ok}");
        }
        for bad in [
            "", "/a", "a/", "a//b", "./a", "a/./b", "../a", "a/..", "a\0b",
        ] {
            assert!(!is_normal_relative(bad), "{bad:?}");
        }
    }
}
