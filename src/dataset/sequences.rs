//! ImageNet-P sequence writer (`imgcorrupt generate -c imagenet-p`): per source image and
//! perturbation (and difficulty, for the noise sequences), the frames of
//! [`crate::corruptions::imagenet_p`], written as a frame folder (`<stem>/frame_00.png` …,
//! PNG or JPEG) or one `<stem>.npy` stack (`uint8`, `T × 224 × 224 × 3`), under
//! `<OUTPUT>/<perturbation>[_d]/<relative dir of the source>/`.
//!
//! Sources are decoded and resized as ImageNet-P does (torchvision `Resize(256)`, Pillow
//! bilinear); each sequence draws from its own generator, seeded by
//! `derive_seed(run seed, [source relative path, folder name])`, so outputs do not depend on
//! threads or order. `sequences.jsonl` records the settings and one SHA-256 per output
//! (frame folders: the SHA-256 of the frames' SHA-256s in order), which [`verify`] checks.
//! `--sequence-format mp4` (feature `mp4`): one `<stem>.mp4` per sequence, H.264 through
//! OpenH264 built from source ([`crate::codecs::mp4`]), 1 frame per second as the reference's
//! ffmpeg call, fixed quantiser [`MP4_QP`].
//!
//! Shards, resume and merge (as for the -C cells): `--shard K/N` makes the sources whose
//! position in the sorted discovery order is ≡ K mod N and writes its part
//! `sequences.shard-K-of-N.jsonl`; the last shard to finish (or `imgcorrupt merge`) merges the
//! parts into `sequences.jsonl`. Records are kept in one canonical order (source, then the
//! run's job order), so the merged manifest is byte-identical to one process's. While a run
//! works it appends each finished source's records to a journal
//! (`sequences.journal[-K-of-N].jsonl`, removed at the end): a killed run rerun with the same
//! options keeps the sequences whose files still hash as journalled (or as in its finished
//! manifest) and makes only the rest; other options are refused.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::corruptions::imagenet_p::{Perturbation, Rgb, SIDE};
use crate::dataset::discover;
use crate::dataset::execute::imagenet_resize_dims;
use crate::error::{Error, Result};
use crate::io::{OutputFormat, WebpMode};
use crate::kernels::resample::{self, Filter};
use crate::rng::{derive_seed, FastRng};

/// The manifest of a sequence run.
pub const MANIFEST: &str = "sequences.jsonl";

/// How frames are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SequenceFormat {
    /// A folder of PNG frames.
    Png,
    /// A folder of JPEG frames (quality of the run).
    Jpeg,
    /// One `.npy` stack.
    Npy,
    /// One H.264 `.mp4` (needs the `mp4` feature).
    Mp4,
}

/// The H.264 quantiser of MP4 sequences (0–51; ≈ 40 dB PSNR on photos at 224²).
pub const MP4_QP: u8 = 20;

impl std::str::FromStr for SequenceFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "png" => Ok(SequenceFormat::Png),
            "jpeg" | "jpg" => Ok(SequenceFormat::Jpeg),
            "npy" => Ok(SequenceFormat::Npy),
            "mp4" if cfg!(feature = "mp4") => Ok(SequenceFormat::Mp4),
            "mp4" => Err("mp4: this imgcorrupt was built without the `mp4` feature (H.264 through OpenH264 built from source: `cargo install --path . --features mp4`); or write png, jpeg or npy".into()),
            other => Err(format!("unknown sequence format `{other}`: png, jpeg, npy or mp4")),
        }
    }
}

/// The first line of `sequences.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceHeader {
    /// Format version (1).
    pub imgcorrupt_sequences: u32,
    /// Tool version.
    pub tool_version: String,
    /// Run seed.
    pub seed: u64,
    /// Seed rule.
    pub seed_rule: String,
    /// Frame storage.
    pub format: SequenceFormat,
    /// JPEG quality (JPEG frames).
    pub quality: u8,
    /// The run's sequence folders in job order (`rotate`, `gaussian_noise_2`, …): what the
    /// shards must agree on; empty in manifests of earlier versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<String>,
    /// `(K, N)` in a shard's part; absent in `sequences.jsonl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<(usize, usize)>,
}

/// One output of `sequences.jsonl`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceRecord {
    /// Output path relative to OUTPUT (a folder for frame folders).
    pub output: String,
    /// Source relative to INPUT.
    pub source: String,
    /// Perturbation name.
    pub perturbation: String,
    /// Difficulty 1..=3.
    pub difficulty: u8,
    /// Frame count.
    pub frames: usize,
    /// SHA-256 of the `.npy` file, or of the concatenated frame-file SHA-256s.
    pub sha256: String,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct SequenceOptions {
    /// Dataset root.
    pub input: PathBuf,
    /// Output root.
    pub output: PathBuf,
    /// Perturbations.
    pub perturbations: Vec<Perturbation>,
    /// Difficulties (1..=3); only the noise sequences have more than one.
    pub difficulties: Vec<u8>,
    /// Run seed.
    pub seed: u64,
    /// Frame storage.
    pub format: SequenceFormat,
    /// JPEG quality.
    pub quality: u8,
    /// Decoder pixel limit.
    pub max_pixels: u64,
    /// `(K, N)`: only the sources at positions ≡ K mod N of the sorted order.
    pub shard: Option<(usize, usize)>,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct SequenceSummary {
    /// Source images.
    pub images: usize,
    /// Sequences written.
    pub written: usize,
    /// Sequences kept from an earlier run (resume).
    pub skipped: usize,
    /// Sharded: whether this run merged every part into `sequences.jsonl`.
    pub merged: bool,
    /// `path: reason` per failed source.
    pub failed: Vec<String>,
}

/// Decode a source and apply torchvision `Resize(256)` (what every frame starts from).
pub fn load_source(path: &Path, max_pixels: u64) -> Result<Rgb> {
    let img = crate::io::read_image(path, max_pixels)?.to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (nw, nh) = imagenet_resize_dims(w, h);
    let px = resample::resize(img.as_raw(), w, h, 3, nw, nh, Filter::Bilinear);
    Ok(Rgb {
        px,
        width: nw,
        height: nh,
    })
}

/// The (perturbation, difficulty) pairs of a run: every difficulty of a noise sequence, one
/// sequence (difficulty 1) of the others.
pub fn jobs(opts: &SequenceOptions) -> Vec<(Perturbation, u8)> {
    let mut out = Vec::new();
    for &p in &opts.perturbations {
        if p.is_noise() {
            out.extend(opts.difficulties.iter().map(|&d| (p, d)));
        } else {
            out.push((p, 1));
        }
    }
    out
}

/// The frames of one sequence of `source` (seeded by the rule above).
pub fn frames_of(img: &Rgb, source: &str, p: Perturbation, d: u8, seed: u64) -> Vec<Vec<u8>> {
    let folder = p.folder(d);
    let mut rng = FastRng::new(derive_seed(seed, &[source.as_bytes(), folder.as_bytes()]));
    p.sequence(img, d, &mut rng)
}

/// `.npy` bytes of a `T × 224 × 224 × 3` uint8 stack.
pub fn npy_bytes(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '|u1', 'fortran_order': False, 'shape': ({}, {SIDE}, {SIDE}, 3), }}",
        frames.len()
    );
    // magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat(total.div_ceil(64) * 64 - total));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + frames.len() * SIDE * SIDE * 3);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for f in frames {
        out.extend_from_slice(f);
    }
    out
}

/// The MP4 of one sequence (1 fps, quantiser [`MP4_QP`]).
#[cfg(feature = "mp4")]
pub fn mp4_bytes(frames: &[Vec<u8>]) -> Result<Vec<u8>> {
    crate::codecs::mp4::h264::encode_mp4(frames, SIDE, SIDE, 1, MP4_QP)
        .map_err(|m| Error::InvalidImage(format!("cannot encode H.264: {m}")))
}

/// Without the `mp4` feature no MP4 can be written (the format is refused when parsed).
#[cfg(not(feature = "mp4"))]
pub fn mp4_bytes(_frames: &[Vec<u8>]) -> Result<Vec<u8>> {
    Err(Error::InvalidArgument(
        "mp4: built without the `mp4` feature".into(),
    ))
}

/// Files to write: (path relative to the output, bytes).
type Files = Vec<(String, Vec<u8>)>;

/// Encode one sequence as its files: (path relative to the output, bytes) pairs and the
/// record's SHA-256.
fn encode(
    frames: &[Vec<u8>],
    base: &str,
    format: SequenceFormat,
    quality: u8,
) -> Result<(Files, String)> {
    if format == SequenceFormat::Npy {
        let bytes = npy_bytes(frames);
        let sha = crate::digest::sha256_hex(&bytes);
        return Ok((vec![(format!("{base}.npy"), bytes)], sha));
    }
    if format == SequenceFormat::Mp4 {
        let bytes = mp4_bytes(frames)?;
        let sha = crate::digest::sha256_hex(&bytes);
        return Ok((vec![(format!("{base}.mp4"), bytes)], sha));
    }
    let (fmt, ext) = match format {
        SequenceFormat::Png => (OutputFormat::Png, "png"),
        _ => (OutputFormat::Jpeg, "jpg"),
    };
    let mut files = Vec::with_capacity(frames.len());
    let mut h = Sha256::new();
    for (i, f) in frames.iter().enumerate() {
        let bytes = crate::codecs::encode_rgb(f, SIDE, SIDE, fmt, quality, WebpMode::Lossless)
            .map_err(|m| Error::InvalidImage(format!("cannot encode: {m}")))?;
        h.update(Sha256::digest(&bytes));
        files.push((format!("{base}/frame_{i:02}.{ext}"), bytes));
    }
    Ok((files, crate::digest::hex(&h.finalize())))
}

fn base_of(source: &str, folder: &str) -> String {
    let stem = match source.rsplit_once('.') {
        Some((s, ext)) if !ext.contains('/') && !s.is_empty() && !s.ends_with('/') => s,
        _ => source,
    };
    format!("{folder}/{stem}")
}

/// Make one source's sequences: records and files.
fn make(opts: &SequenceOptions, source: &str) -> Result<Vec<(SequenceRecord, Files)>> {
    let img = load_source(&opts.input.join(source), opts.max_pixels)?;
    let mut out = Vec::new();
    for (p, d) in jobs(opts) {
        let frames = frames_of(&img, source, p, d, opts.seed);
        let base = base_of(source, &p.folder(d));
        let (files, sha256) = encode(&frames, &base, opts.format, opts.quality)?;
        let output = match opts.format {
            SequenceFormat::Npy => format!("{base}.npy"),
            SequenceFormat::Mp4 => format!("{base}.mp4"),
            _ => base,
        };
        out.push((
            SequenceRecord {
                output,
                source: source.to_string(),
                perturbation: p.name().into(),
                difficulty: d,
                frames: frames.len(),
                sha256,
            },
            files,
        ));
    }
    Ok(out)
}

fn header_of(opts: &SequenceOptions) -> SequenceHeader {
    SequenceHeader {
        imgcorrupt_sequences: 1,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        seed: opts.seed,
        seed_rule:
            "v1: FastRng(derive_seed(run_seed, [source relative path, perturbation folder]))".into(),
        format: opts.format,
        quality: opts.quality,
        jobs: jobs(opts).iter().map(|&(p, d)| p.folder(d)).collect(),
        shard: opts.shard,
    }
}

/// The state file of a run: `sequences.jsonl`, or the shard's part.
pub fn state_file(shard: Option<(usize, usize)>) -> String {
    match shard {
        None => MANIFEST.into(),
        Some((k, n)) => format!("sequences.shard-{k}-of-{n}.jsonl"),
    }
}

fn journal_file(shard: Option<(usize, usize)>) -> String {
    match shard {
        None => "sequences.journal.jsonl".into(),
        Some((k, n)) => format!("sequences.journal-{k}-of-{n}.jsonl"),
    }
}

/// Whether `output` holds ImageNet-P sequences (a manifest or a shard part).
pub fn is_sequences_output(output: &Path) -> bool {
    output.join(MANIFEST).is_file() || !parts(output).is_empty()
}

fn parts(output: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(output)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.starts_with("sequences.shard-") && n.ends_with(".jsonl")
        })
        .collect();
    v.sort();
    v
}

/// Records in the canonical order: source, then the job order of `header`.
fn sort_records(header: &SequenceHeader, records: &mut [SequenceRecord]) {
    let job = |r: &SequenceRecord| {
        let folder = Perturbation::from_name(&r.perturbation)
            .map(|p| p.folder(r.difficulty))
            .unwrap_or_default();
        header
            .jobs
            .iter()
            .position(|j| *j == folder)
            .unwrap_or(usize::MAX)
    };
    records.sort_by(|a, b| (&a.source, job(a)).cmp(&(&b.source, job(b))));
}

fn manifest_text(header: &SequenceHeader, records: &[SequenceRecord]) -> String {
    let mut text = serde_json::to_string(header).expect("header serialises");
    text.push('\n');
    for r in records {
        text += &serde_json::to_string(r).expect("record serialises");
        text.push('\n');
    }
    text
}

/// Records of a JSON-lines file (header line skipped); a torn last line is ignored.
fn read_lines(path: &Path) -> (Option<SequenceHeader>, Vec<SequenceRecord>) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return (None, Vec::new());
    };
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().and_then(|l| serde_json::from_str(l).ok());
    (
        header,
        lines.filter_map(|l| serde_json::from_str(l).ok()).collect(),
    )
}

/// Combine the shard parts of `output` into `sequences.jsonl`; returns the record count.
/// Refused when the parts disagree, or (unless `allow_incomplete`) when some are missing.
pub fn merge(output: &Path, allow_incomplete: bool) -> Result<usize> {
    let paths = parts(output);
    let mut header: Option<SequenceHeader> = None;
    let mut records = Vec::new();
    for p in &paths {
        let (h, recs) = read_manifest_at(p)?;
        let plain = SequenceHeader {
            shard: None,
            ..h.clone()
        };
        match &header {
            None => header = Some(plain),
            Some(first) if *first != plain => {
                return Err(Error::InvalidArgument(format!(
                    "{}: shard parts differ in their settings: they are not one run",
                    output.display()
                )))
            }
            _ => {}
        }
        records.extend(recs);
    }
    let Some(header) = header else {
        return Err(Error::InvalidArgument(format!(
            "{}: no shard parts (sequences.shard-K-of-N.jsonl) to merge",
            output.display()
        )));
    };
    let n = read_manifest_at(&paths[0])?.0.shard.map_or(1, |s| s.1);
    if paths.len() < n && !allow_incomplete {
        return Err(Error::InvalidArgument(format!(
            "{}: {} of {n} shard part(s) present",
            output.display(),
            paths.len()
        )));
    }
    sort_records(&header, &mut records);
    crate::io::write_atomic(
        &output.join(MANIFEST),
        manifest_text(&header, &records).as_bytes(),
    )?;
    Ok(records.len())
}

/// Generate every sequence of every source of the dataset at `opts.input` (of this shard),
/// keeping what an earlier run with the same options finished.
pub fn generate(opts: &SequenceOptions) -> Result<SequenceSummary> {
    let kind = discover::detect(&opts.input)?;
    let ds = discover::discover(&opts.input, kind)?;
    let mut sources: Vec<&String> = ds.images.iter().collect();
    sources.sort();
    let mine: Vec<&String> = sources
        .iter()
        .enumerate()
        .filter(|(i, _)| opts.shard.is_none_or(|(k, n)| i % n == k))
        .map(|(_, s)| *s)
        .collect();
    let header = header_of(opts);
    std::fs::create_dir_all(&opts.output).map_err(|source| Error::Io {
        path: opts.output.clone(),
        source,
    })?;
    let state = opts.output.join(state_file(opts.shard));
    let journal = opts.output.join(journal_file(opts.shard));
    // an earlier run's records (finished manifest and journal) with the same settings
    let mut earlier: std::collections::HashMap<String, SequenceRecord> = Default::default();
    for path in [&state, &journal] {
        let (h, recs) = read_lines(path);
        match h {
            Some(h) if h != header => {
                return Err(Error::InvalidArgument(format!(
                    "{}: made by an earlier run with other settings (seed, format, quality, perturbations or difficulties); rerun with the same options to resume, or use a new OUTPUT",
                    path.display()
                )))
            }
            _ => {}
        }
        for r in recs {
            if hash_output(&opts.output, &r, opts.format).is_ok_and(|h| h == r.sha256) {
                earlier.insert(r.output.clone(), r);
            }
        }
    }
    let n_jobs = header.jobs.len();
    let kept = |src: &str| -> Option<Vec<SequenceRecord>> {
        let recs: Vec<SequenceRecord> = earlier
            .values()
            .filter(|r| r.source == src)
            .cloned()
            .collect();
        (recs.len() == n_jobs).then_some(recs)
    };
    // the journal: header, then each finished source's records (appended, flushed)
    let jf = std::sync::Mutex::new({
        use std::io::Write as _;
        let mut f = std::fs::File::create(&journal).map_err(|source| Error::Io {
            path: journal.clone(),
            source,
        })?;
        let mut text = serde_json::to_string(&header).expect("header serialises");
        text.push('\n');
        for r in earlier.values() {
            text += &serde_json::to_string(r).expect("record serialises");
            text.push('\n');
        }
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(|source| Error::Io {
                path: journal.clone(),
                source,
            })?;
        f
    });
    // per source: its records and whether they were kept from an earlier run
    type Made = Result<(Vec<SequenceRecord>, bool)>;
    let results: Vec<(String, Made)> = mine
        .par_iter()
        .map(|src| {
            if let Some(recs) = kept(src) {
                return ((*src).clone(), Ok((recs, true)));
            }
            let r = make(opts, src).and_then(|seqs| {
                let mut records = Vec::with_capacity(seqs.len());
                for (rec, files) in seqs {
                    for (rel, bytes) in files {
                        let path = opts.output.join(&rel);
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                                path: parent.to_path_buf(),
                                source,
                            })?;
                        }
                        crate::io::write_atomic(&path, &bytes)?;
                    }
                    records.push(rec);
                }
                use std::io::Write as _;
                let mut text = String::new();
                for r in &records {
                    text += &serde_json::to_string(r).expect("record serialises");
                    text.push('\n');
                }
                let mut f = jf.lock().expect("lock");
                f.write_all(text.as_bytes())
                    .and_then(|_| f.sync_data())
                    .map_err(|source| Error::Io {
                        path: journal.clone(),
                        source,
                    })?;
                Ok((records, false))
            });
            ((*src).clone(), r)
        })
        .collect();
    let mut summary = SequenceSummary {
        images: mine.len(),
        ..Default::default()
    };
    let mut records = Vec::new();
    for (src, r) in results {
        match r {
            Ok((recs, kept)) => {
                if kept {
                    summary.skipped += recs.len();
                } else {
                    summary.written += recs.len();
                }
                records.extend(recs);
            }
            Err(e) => summary.failed.push(format!("{src}: {e}")),
        }
    }
    sort_records(&header, &mut records);
    crate::io::write_atomic(&state, manifest_text(&header, &records).as_bytes())?;
    drop(jf);
    let _ = std::fs::remove_file(&journal);
    if let Some((_, n)) = opts.shard {
        if summary.failed.is_empty() && parts(&opts.output).len() == n {
            summary.merged = merge(&opts.output, false).is_ok();
        }
    }
    Ok(summary)
}

/// Read `sequences.jsonl` of `output`.
pub fn read_manifest(output: &Path) -> Result<(SequenceHeader, Vec<SequenceRecord>)> {
    let path = output.join(MANIFEST);
    if !path.exists() && !parts(output).is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: shard parts not merged yet: run `imgcorrupt merge {}` once every shard has finished",
            output.display(),
            output.display()
        )));
    }
    read_manifest_at(&path)
}

fn read_manifest_at(path: &Path) -> Result<(SequenceHeader, Vec<SequenceRecord>)> {
    let path = path.to_path_buf();
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let bad = |e: serde_json::Error| Error::InvalidArgument(format!("{}: {e}", path.display()));
    let header: SequenceHeader = serde_json::from_str(lines.next().unwrap_or("")).map_err(bad)?;
    let records = lines
        .map(|l| serde_json::from_str(l).map_err(bad))
        .collect::<Result<Vec<_>>>()?;
    Ok((header, records))
}

/// The SHA-256 of a written output as its record computes it.
fn hash_output(
    output: &Path,
    rec: &SequenceRecord,
    format: SequenceFormat,
) -> std::io::Result<String> {
    if matches!(format, SequenceFormat::Npy | SequenceFormat::Mp4) {
        return crate::digest::sha256_file(&output.join(&rec.output));
    }
    let ext = if format == SequenceFormat::Png {
        "png"
    } else {
        "jpg"
    };
    let mut h = Sha256::new();
    for i in 0..rec.frames {
        let bytes = std::fs::read(output.join(&rec.output).join(format!("frame_{i:02}.{ext}")))?;
        h.update(Sha256::digest(&bytes));
    }
    Ok(crate::digest::hex(&h.finalize()))
}

/// What [`verify`] found.
#[derive(Clone, Debug, Default)]
pub struct SequenceReport {
    /// Records.
    pub records: usize,
    /// Outputs whose files hash as recorded.
    pub hashed_ok: usize,
    /// Outputs missing or differing from their record.
    pub bad: Vec<String>,
    /// Outputs regenerated from INPUT.
    pub regenerated: usize,
    /// Regenerated outputs that differ.
    pub regenerated_mismatch: Vec<String>,
}

/// Check the outputs against `sequences.jsonl`, and with `input` regenerate every sequence
/// and compare.
pub fn verify(output: &Path, input: Option<&Path>, max_pixels: u64) -> Result<SequenceReport> {
    let (header, records) = read_manifest(output)?;
    let mut report = SequenceReport {
        records: records.len(),
        ..Default::default()
    };
    for rec in &records {
        match hash_output(output, rec, header.format) {
            Ok(h) if h == rec.sha256 => report.hashed_ok += 1,
            Ok(_) => report
                .bad
                .push(format!("{}: differs from the manifest", rec.output)),
            Err(e) => report.bad.push(format!("{}: {e}", rec.output)),
        }
    }
    if let Some(input) = input {
        for rec in &records {
            let p = Perturbation::from_name(&rec.perturbation).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "{MANIFEST}: unknown perturbation {}",
                    rec.perturbation
                ))
            })?;
            let img = load_source(&input.join(&rec.source), max_pixels)?;
            let frames = frames_of(&img, &rec.source, p, rec.difficulty, header.seed);
            let base = base_of(&rec.source, &p.folder(rec.difficulty));
            let (_, sha) = encode(&frames, &base, header.format, header.quality)?;
            report.regenerated += 1;
            if sha != rec.sha256 {
                report.regenerated_mismatch.push(rec.output.clone());
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_header_is_aligned_and_describes_the_stack() {
        let frames = vec![vec![7u8; SIDE * SIDE * 3]; 3];
        let b = npy_bytes(&frames);
        let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        let h = std::str::from_utf8(&b[10..10 + hlen]).unwrap();
        assert!(h.contains("'shape': (3, 224, 224, 3)"), "{h}");
        assert!(h.ends_with('\n'));
        assert_eq!(b.len(), 10 + hlen + 3 * SIDE * SIDE * 3);
    }

    #[test]
    fn base_keeps_the_class_folder() {
        assert_eq!(
            base_of("n01/ILSVRC_1.JPEG", "rotate"),
            "rotate/n01/ILSVRC_1"
        );
        assert_eq!(base_of("a.b/c", "x"), "x/a.b/c");
    }
}
