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
    /// Source images of the whole dataset (all shards): what `merge` and `status` count the
    /// parts against; 0 (absent) in manifests of earlier versions.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sources: usize,
    /// SHA-256 of the sorted source paths (relative to INPUT), one per line with a `\n`
    /// after each: `merge` checks that the parts hold exactly these sources.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sources_sha256: String,
    /// `(K, N)` in a shard's part; absent in `sequences.jsonl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<(usize, usize)>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// SHA-256 of sorted source paths as [`SequenceHeader::sources_sha256`] records it.
fn sources_digest<S: AsRef<str>>(sorted: &[S]) -> String {
    let mut h = Sha256::new();
    for s in sorted {
        h.update(s.as_ref().as_bytes());
        h.update(b"\n");
    }
    crate::digest::hex(&h.finalize())
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
    /// Sharded, every part present: why the merge was refused.
    pub merge_error: Option<String>,
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

/// The generator of one sequence of `source` (the seed rule above).
fn rng_of(source: &str, p: Perturbation, d: u8, seed: u64) -> FastRng {
    let folder = p.folder(d);
    FastRng::new(derive_seed(seed, &[source.as_bytes(), folder.as_bytes()]))
}

/// The frames of one sequence of `source` (seeded by the rule above), collected.
pub fn frames_of(img: &Rgb, source: &str, p: Perturbation, d: u8, seed: u64) -> Vec<Vec<u8>> {
    p.sequence(img, d, &mut rng_of(source, p, d, seed))
}

/// The frames of one sequence of `source` (seeded by the rule above), one at a time:
/// `sink(i, frame)` in order, the frame in a reused buffer ([`Perturbation::sequence_each`]).
pub fn frames_each(
    img: &Rgb,
    source: &str,
    p: Perturbation,
    d: u8,
    seed: u64,
    sink: &mut dyn FnMut(usize, &[u8]) -> Result<()>,
) -> Result<()> {
    p.sequence_each(img, d, &mut rng_of(source, p, d, seed), sink)
}

/// The header of the `.npy` file of a `T × 224 × 224 × 3` uint8 stack (the frames follow it).
fn npy_header(frames: usize) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '|u1', 'fortran_order': False, 'shape': ({frames}, {SIDE}, {SIDE}, 3), }}"
    );
    // magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat(total.div_ceil(64) * 64 - total));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + frames * SIDE * SIDE * 3);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

/// `.npy` bytes of a `T × 224 × 224 × 3` uint8 stack.
pub fn npy_bytes(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = npy_header(frames.len());
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

/// Encode one sequence as its files, frame by frame as [`frames_each`] makes them (each
/// frame encoded, or appended to the `.npy` stack, while it is in cache): (path relative to
/// the output, bytes) pairs, the record's SHA-256 and the frame count.
fn encode(
    img: &Rgb,
    source: &str,
    (p, d): (Perturbation, u8),
    seed: u64,
    format: SequenceFormat,
    quality: u8,
) -> Result<(Files, String, usize)> {
    let base = base_of(source, &p.folder(d));
    let mut count = 0;
    let mut files = Vec::new();
    let (mut npy, mut mp4) = (Vec::new(), Vec::new());
    let mut h = Sha256::new();
    let (fmt, ext) = match format {
        SequenceFormat::Png => (OutputFormat::Png, "png"),
        _ => (OutputFormat::Jpeg, "jpg"),
    };
    if format == SequenceFormat::Npy {
        npy = npy_header(p.frames());
    }
    frames_each(img, source, p, d, seed, &mut |i, f| {
        count += 1;
        match format {
            SequenceFormat::Npy => npy.extend_from_slice(f),
            // the H.264 encoder takes the whole sequence
            SequenceFormat::Mp4 => mp4.push(f.to_vec()),
            SequenceFormat::Png | SequenceFormat::Jpeg => {
                let bytes =
                    crate::codecs::encode_rgb(f, SIDE, SIDE, fmt, quality, WebpMode::Lossless)
                        .map_err(|m| Error::InvalidImage(format!("cannot encode: {m}")))?;
                h.update(Sha256::digest(&bytes));
                files.push((format!("{base}/frame_{i:02}.{ext}"), bytes));
            }
        }
        Ok(())
    })?;
    let (bytes, name) = match format {
        SequenceFormat::Npy => {
            assert_eq!(count, p.frames(), "the .npy header's frame count");
            (npy, format!("{base}.npy"))
        }
        SequenceFormat::Mp4 => (mp4_bytes(&mp4)?, format!("{base}.mp4")),
        SequenceFormat::Png | SequenceFormat::Jpeg => {
            return Ok((files, crate::digest::hex(&h.finalize()), count));
        }
    };
    let sha = crate::digest::sha256_hex(&bytes);
    Ok((vec![(name, bytes)], sha, count))
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
        let base = base_of(source, &p.folder(d));
        let (files, sha256, frames) =
            encode(&img, source, (p, d), opts.seed, opts.format, opts.quality)?;
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
                frames,
                sha256,
            },
            files,
        ));
    }
    Ok(out)
}

fn header_of(opts: &SequenceOptions, sorted_sources: &[&String]) -> SequenceHeader {
    SequenceHeader {
        imgcorrupt_sequences: 1,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        seed: opts.seed,
        seed_rule:
            "v1: FastRng(derive_seed(run_seed, [source relative path, perturbation folder]))".into(),
        format: opts.format,
        quality: opts.quality,
        jobs: jobs(opts).iter().map(|&(p, d)| p.folder(d)).collect(),
        sources: sorted_sources.len(),
        sources_sha256: sources_digest(sorted_sources),
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

/// The progress file of a process (what `imgcorrupt status` reads for the total planned and
/// the failures, which the manifest files cannot say).
pub fn status_file(shard: Option<(usize, usize)>) -> String {
    match shard {
        None => "sequences.status.json".into(),
        Some((k, n)) => format!("sequences.shard-{k}-of-{n}.status.json"),
    }
}

/// Whether `output` holds ImageNet-P sequences (a manifest or a shard part).
pub fn is_sequences_output(output: &Path) -> bool {
    output.join(MANIFEST).is_file() || !parts(output).is_empty()
}

/// Whether `output` holds any file of an ImageNet-P run, finished or not (manifest, parts,
/// journals or progress files).
pub fn has_sequence_files(output: &Path) -> bool {
    is_sequences_output(output) || !state_files(output).is_empty()
}

/// A journal or progress file: (shard, path, is a journal).
type StateFile = (Option<(usize, usize)>, PathBuf, bool);

/// The part, journal and progress file of one process.
type ShardFiles = (Option<PathBuf>, Option<PathBuf>, Option<PathBuf>);

/// The journals and progress files of `output`: (shard, path, is a journal).
fn state_files(output: &Path) -> Vec<StateFile> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(output).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let (shard, journal) = if name == journal_file(None) {
            (None, true)
        } else if name == status_file(None) {
            (None, false)
        } else if let Some(r) = name
            .strip_prefix("sequences.journal-")
            .and_then(|r| r.strip_suffix(".jsonl"))
        {
            match shard_of(r) {
                Some(s) => (Some(s), true),
                None => continue,
            }
        } else if let Some(r) = name
            .strip_prefix("sequences.shard-")
            .and_then(|r| r.strip_suffix(".status.json"))
        {
            match shard_of(r) {
                Some(s) => (Some(s), false),
                None => continue,
            }
        } else {
            continue;
        };
        v.push((shard, e.path(), journal));
    }
    v.sort();
    v
}

/// `K-of-N` → (K, N).
fn shard_of(text: &str) -> Option<(usize, usize)> {
    let (k, n) = text.split_once("-of-")?;
    Some((k.parse().ok()?, n.parse().ok()?))
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

/// Check the shard parts of `output` as one finished run and return the merged manifest's
/// header and records (canonical order).
///
/// Refused, naming every problem found (the first few of each kind), when: there are no
/// parts; a part is unreadable or its header disagrees with its file name; the parts differ in
/// their settings or shard count; a shard's part is missing or its journal is present (it is
/// running or was interrupted); a record names an unknown sequence, the wrong frame count or
/// an output path its source and sequence do not give; a sequence appears twice; a part holds
/// a source of another shard; the sources are not exactly the run's (their count and digest
/// in the header); a source lacks some of its sequences; or a recorded output is missing on
/// disk. `allow_incomplete` accepts missing shards and sequences (still refusing everything
/// else). The files' contents are not re-hashed here (`imgcorrupt verify` does that): every
/// part was written from hashes taken as its files were written, or re-checked on resume.
pub fn check_parts(
    output: &Path,
    allow_incomplete: bool,
) -> Result<(SequenceHeader, Vec<SequenceRecord>)> {
    let paths = parts(output);
    if paths.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: no shard parts (sequences.shard-K-of-N.jsonl) to merge",
            output.display()
        )));
    }
    let mut problems: Vec<String> = Vec::new();
    let mut header: Option<SequenceHeader> = None;
    // (record, shard of the part that holds it)
    let mut all: Vec<(SequenceRecord, (usize, usize))> = Vec::new();
    let mut shards: Vec<(usize, usize)> = Vec::new();
    for p in &paths {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        let named = name
            .strip_prefix("sequences.shard-")
            .and_then(|r| r.strip_suffix(".jsonl"))
            .and_then(shard_of);
        let (h, recs) = match read_manifest_at(p) {
            Ok(x) => x,
            Err(e) => {
                problems.push(format!("{name}: unreadable ({e})"));
                continue;
            }
        };
        let Some(shard) = h.shard.filter(|s| Some(*s) == named) else {
            problems.push(format!(
                "{name}: its header says shard {:?}, not the one its name gives",
                h.shard
            ));
            continue;
        };
        let plain = SequenceHeader {
            shard: None,
            ..h.clone()
        };
        match &header {
            None => header = Some(plain),
            Some(first) if *first != plain => {
                problems.push(format!(
                    "{name}: settings differ from the other parts (seed, format, quality, sequences or sources): not one run"
                ));
                continue;
            }
            _ => {}
        }
        shards.push(shard);
        all.extend(recs.into_iter().map(|r| (r, shard)));
    }
    let refuse = |problems: Vec<String>| {
        let shown: Vec<&str> = problems.iter().take(12).map(String::as_str).collect();
        Error::InvalidArgument(format!(
            "{}: cannot merge the ImageNet-P shard parts: {}{}",
            output.display(),
            shown.join("; "),
            if problems.len() > shown.len() {
                format!("; … {} more", problems.len() - shown.len())
            } else {
                String::new()
            }
        ))
    };
    let Some(header) = header else {
        return Err(refuse(problems));
    };
    let ns: std::collections::BTreeSet<usize> = shards.iter().map(|s| s.1).collect();
    if ns.len() > 1 {
        problems.push(format!(
            "parts of different shard counts ({}): not one run",
            ns.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Err(refuse(problems));
    }
    let n = *ns.iter().next().expect("one shard count");
    let missing: Vec<String> = (0..n)
        .filter(|k| !shards.contains(&(*k, n)))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() && !allow_incomplete {
        problems.push(format!(
            "{} of {n} shard part(s) present; shard(s) {} not finished (or pass --allow-incomplete)",
            shards.len(),
            missing.join(", ")
        ));
    }
    for (shard, path, journal) in state_files(output) {
        if journal && shard.is_some_and(|(_, m)| m == n) {
            problems.push(format!(
                "{}: shard {}/{n} is running or was interrupted (rerun it to finish)",
                path.file_name().unwrap_or_default().to_string_lossy(),
                shard.expect("sharded").0
            ));
        }
    }
    // every record: a sequence of the run, its frame count, its output path
    let mut seen_output = std::collections::HashSet::new();
    let mut seen_job = std::collections::HashSet::new();
    let mut bad = Vec::new();
    for (r, (k, _)) in &all {
        let Some(p) = Perturbation::from_name(&r.perturbation) else {
            bad.push(format!(
                "{}: unknown perturbation `{}`",
                r.output, r.perturbation
            ));
            continue;
        };
        let folder = p.folder(r.difficulty);
        let base = base_of(&r.source, &folder);
        let expected = match header.format {
            SequenceFormat::Npy => format!("{base}.npy"),
            SequenceFormat::Mp4 => format!("{base}.mp4"),
            _ => base,
        };
        if !header.jobs.is_empty() && !header.jobs.contains(&folder) {
            bad.push(format!(
                "{}: `{folder}` is not a sequence of this run",
                r.output
            ));
        } else if r.frames != p.frames() {
            bad.push(format!(
                "{}: {} frames recorded, {} expected",
                r.output,
                r.frames,
                p.frames()
            ));
        } else if r.output != expected {
            bad.push(format!(
                "{}: its source and sequence give `{expected}`",
                r.output
            ));
        } else if r.sha256.len() != 64 || !r.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            bad.push(format!("{}: no SHA-256 recorded", r.output));
        } else if !seen_output.insert(r.output.clone())
            || !seen_job.insert((r.source.clone(), folder))
        {
            bad.push(format!(
                "{}: recorded more than once (shard {k}/{n} and another)",
                r.output
            ));
        }
    }
    problems.extend(bad);
    // the sources: exactly the run's, each in the part of its shard, each with every sequence
    let mut sources: Vec<&String> = all.iter().map(|(r, _)| &r.source).collect();
    sources.sort();
    sources.dedup();
    let position: std::collections::HashMap<&String, usize> =
        sources.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let complete = missing.is_empty() && !allow_incomplete;
    if complete && header.sources > 0 {
        if sources.len() != header.sources {
            problems.push(format!(
                "the parts hold {} source image(s), the run has {}",
                sources.len(),
                header.sources
            ));
        } else if sources_digest(&sources) != header.sources_sha256 {
            problems.push(
                "the parts' source images are not the run's (their digest differs from the header's)"
                    .to_string(),
            );
        } else {
            for (r, (k, _)) in &all {
                let i = position[&r.source];
                if i % n != *k {
                    problems.push(format!(
                        "{}: in the part of shard {k}/{n}, but its source belongs to shard {}/{n}",
                        r.output,
                        i % n
                    ));
                }
            }
        }
    }
    if complete && !header.jobs.is_empty() {
        let mut count: std::collections::HashMap<&String, usize> = Default::default();
        for (r, _) in &all {
            *count.entry(&r.source).or_default() += 1;
        }
        for s in &sources {
            let c = count[s];
            if c != header.jobs.len() {
                problems.push(format!(
                    "{s}: {c} of its {} sequence(s) recorded",
                    header.jobs.len()
                ));
            }
        }
    }
    // the files: present as recorded (their bytes are `verify`'s to check)
    for (r, _) in &all {
        let path = output.join(&r.output);
        let present = match header.format {
            SequenceFormat::Npy | SequenceFormat::Mp4 => path.is_file(),
            f => {
                let ext = if f == SequenceFormat::Png {
                    "png"
                } else {
                    "jpg"
                };
                (0..r.frames).all(|i| path.join(format!("frame_{i:02}.{ext}")).is_file())
            }
        };
        if !present {
            problems.push(format!("{}: recorded but missing on disk", r.output));
        }
    }
    if !problems.is_empty() {
        return Err(refuse(problems));
    }
    let mut records: Vec<SequenceRecord> = all.into_iter().map(|(r, _)| r).collect();
    sort_records(&header, &mut records);
    Ok((header, records))
}

/// Combine the shard parts of `output` into `sequences.jsonl` after [`check_parts`]; returns
/// the record count.
pub fn merge(output: &Path, allow_incomplete: bool) -> Result<usize> {
    let (header, records) = check_parts(output, allow_incomplete)?;
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
    let header = header_of(opts, &sources);
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
        // the sources may change between runs (a broken file removed, say): what was made
        // for the sources still there is kept; only the parts of sharded runs must agree on
        // them, which `merge` checks
        let same = |h: &SequenceHeader| {
            SequenceHeader {
                sources: header.sources,
                sources_sha256: header.sources_sha256.clone(),
                ..h.clone()
            } == header
        };
        match h {
            Some(h) if !same(&h) => {
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
    // the journal: header, then each finished source's records (appended, flushed); locked
    // while the process runs, so that `status` tells running from interrupted and a second
    // process on the same shard is refused instead of clobbering it
    let jf = std::sync::Mutex::new({
        use std::io::Write as _;
        let io = |source| Error::Io {
            path: journal.clone(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&journal)
            .map_err(io)?;
        if let Err(std::fs::TryLockError::WouldBlock) = f.try_lock() {
            return Err(Error::InvalidArgument(format!(
                "{}: another imgcorrupt process is writing this run{}",
                journal.display(),
                opts.shard
                    .map(|(k, n)| format!(" (shard {k}/{n})"))
                    .unwrap_or_default()
            )));
        }
        f.set_len(0).map_err(io)?;
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
    let tracker = crate::dataset::record::status::Tracker::at(
        opts.output.join(status_file(opts.shard)),
        opts.shard,
        "sequences",
        mine.len() * n_jobs,
        std::time::Duration::from_secs(2),
    );
    // per source: its records and whether they were kept from an earlier run
    type Made = Result<(Vec<SequenceRecord>, bool)>;
    let results: Vec<(String, Made)> = mine
        .par_iter()
        .map(|src| {
            if let Some(recs) = kept(src) {
                tracker.advance(recs.len(), &[]);
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
            match &r {
                Ok((recs, _)) => tracker.advance(recs.len(), &[]),
                Err(e) => tracker.advance(0, &[format!("{src}: {e}")]),
            }
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
    let _ = std::fs::remove_file(&journal);
    drop(jf);
    tracker.finish(&summary.failed);
    if let Some((_, n)) = opts.shard {
        if summary.failed.is_empty() && parts(&opts.output).len() == n {
            match merge(&opts.output, false) {
                Ok(_) => summary.merged = true,
                Err(e) => summary.merge_error = Some(e.to_string()),
            }
        }
    }
    Ok(summary)
}

/// Where one process of a sequence run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Its manifest or part is written.
    Finished,
    /// Its journal is locked by a live process.
    Running,
    /// Its journal is left unlocked: the process died (rerun the same command to resume).
    Interrupted,
    /// Only a progress file (or nothing) yet.
    NotStarted,
}

/// The progress of one process (unsharded, or one shard) of a sequence run.
#[derive(Clone, Debug)]
pub struct ShardProgress {
    /// `(K, N)`, or `None` for an unsharded run.
    pub shard: Option<(usize, usize)>,
    /// Where it stands.
    pub state: RunState,
    /// Sequences finished: records of its part or manifest (finished), of its journal
    /// (running or interrupted), else its progress file's count.
    pub done: usize,
    /// Sequences planned, from its progress file (absent for runs of earlier versions).
    pub total: Option<usize>,
    /// Failed source images (each fails all its sequences).
    pub failures: usize,
    /// The first failures, `source: reason`.
    pub failed: Vec<String>,
}

/// What `imgcorrupt status` says of a sequence run.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Per process, unsharded first, then by shard.
    pub shards: Vec<ShardProgress>,
    /// Whether `sequences.jsonl` exists.
    pub merged: bool,
    /// Sharded runs: whether [`check_parts`] accepts the parts now (their record count), or
    /// why not. `None` for unsharded runs.
    pub merge: Option<std::result::Result<usize, String>>,
}

/// The progress of the sequence run in `output`, from its manifest files, journals and
/// progress files (nothing is written).
pub fn progress(output: &Path) -> Progress {
    use std::collections::BTreeMap;
    let mut per: BTreeMap<Option<(usize, usize)>, ShardFiles> = BTreeMap::new();
    for p in parts(output) {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if let Some(s) = name
            .strip_prefix("sequences.shard-")
            .and_then(|r| r.strip_suffix(".jsonl"))
            .and_then(shard_of)
        {
            per.entry(Some(s)).or_default().0 = Some(p);
        }
    }
    for (shard, path, journal) in state_files(output) {
        let e = per.entry(shard).or_default();
        if journal {
            e.1 = Some(path);
        } else {
            e.2 = Some(path);
        }
    }
    let sharded = per.keys().any(Option::is_some);
    let manifest = output.join(MANIFEST);
    let merged = manifest.is_file();
    if merged && !sharded {
        per.entry(None).or_default().0 = Some(manifest);
    }
    let shards = per
        .into_iter()
        .map(|(shard, (part, journal, status))| {
            let st: Option<crate::dataset::record::status::Status> = status
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|t| serde_json::from_str(&t).ok());
            let distinct = |p: &Path| {
                let (_, recs) = read_lines(p);
                recs.iter()
                    .map(|r| &r.output)
                    .collect::<std::collections::HashSet<_>>()
                    .len()
            };
            let (state, done) = match (&journal, &part) {
                (Some(j), _) => {
                    let locked = std::fs::OpenOptions::new()
                        .append(true)
                        .open(j)
                        .is_ok_and(|f| {
                            matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock))
                        });
                    let state = if locked {
                        RunState::Running
                    } else {
                        RunState::Interrupted
                    };
                    (state, distinct(j))
                }
                (None, Some(p)) => (RunState::Finished, distinct(p)),
                (None, None) => (RunState::NotStarted, st.as_ref().map_or(0, |s| s.done)),
            };
            ShardProgress {
                shard,
                state,
                done,
                total: st.as_ref().map(|s| s.total),
                failures: st.as_ref().map_or(0, |s| s.failures),
                failed: st.map(|s| s.failed).unwrap_or_default(),
            }
        })
        .collect();
    Progress {
        shards,
        merged,
        merge: sharded.then(|| {
            check_parts(output, false)
                .map(|(_, r)| r.len())
                .map_err(|e| e.to_string())
        }),
    }
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
            let job = (p, rec.difficulty);
            let (_, sha, _) = encode(
                &img,
                &rec.source,
                job,
                header.seed,
                header.format,
                header.quality,
            )?;
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
