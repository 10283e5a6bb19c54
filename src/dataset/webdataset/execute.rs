//! Stage 3 for webdataset outputs: stream one unit's samples, corrupt each image member once
//! per cell through the dataset [`Pipeline`], and write the unit's output shard(s).
//!
//! Samples are read in small batches (a few per worker thread), the batch is corrupted in
//! parallel, and written in input order, so memory is bounded by the batch whatever the size
//! of the shard, and the bytes do not depend on the thread count. Every member other than
//! the image is copied unchanged with its header (name, mode, owner, mtime), in its place;
//! keys and member order are kept. Outputs are written to hidden temporaries and renamed
//! when the shard is complete: a shard that cannot be read to its end (truncated, corrupt)
//! leaves no output behind. Like [`crate::dataset::execute`] it knows nothing of manifests.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::discover::{self, Entry};
use super::plan::{self, Source, Unit};
use super::tar::{Header, Member, Writer};
use super::Layout;
use crate::dataset::execute::{temp_path, Pipeline};
use crate::dataset::{Cell, ImageFormatChoice};
use crate::digest::sha256_hex;
use crate::io::OutputFormat;

/// What a unit is made with.
pub struct Context<'a> {
    /// Decode/corrupt/encode settings.
    pub pipeline: &'a Pipeline,
    /// INPUT (folder sources are relative to it).
    pub input: &'a Path,
    /// OUTPUT.
    pub output: &'a Path,
    /// Cells.
    pub cells: &'a [Cell],
    /// Output layout.
    pub layout: Layout,
    /// Extensions of the image member, in order of preference (lower case).
    pub image_exts: &'a [String],
    /// Output format choice.
    pub format: ImageFormatChoice,
    /// Samples per batch.
    pub batch: usize,
}

/// One member written into an output shard.
#[derive(Clone, Debug)]
pub struct WrittenMember {
    /// Member name in the output.
    pub name: String,
    /// Its source: `<shard>.tar/<member>` or the folder path relative to INPUT.
    pub source: String,
    /// SHA-256 of the source member or file.
    pub source_sha256: String,
    /// SHA-256 of the member's bytes.
    pub sha256: String,
    /// The cell it was corrupted for, if any.
    pub cell: Option<Cell>,
    /// Seed of a corrupted member.
    pub seed: Option<u64>,
    /// `--severity-schedule`: the severity the member was made at.
    pub scheduled_severity: Option<crate::dataset::Severity>,
}

/// One output shard of a unit.
#[derive(Debug)]
pub struct WrittenShard {
    /// The cell (`None`: the one shard of [`Layout::InSample`]).
    pub cell: Option<Cell>,
    /// Path relative to OUTPUT.
    pub output: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Its members in order.
    pub members: Vec<WrittenMember>,
}

/// What making a unit gave.
#[derive(Debug, Default)]
pub struct UnitOutcome {
    /// The shards written (empty when the unit failed as a whole).
    pub shards: Vec<WrittenShard>,
    /// Samples written.
    pub samples: usize,
    /// Problems, each naming the shard (and the key): samples left out, or the whole unit.
    pub failures: Vec<String>,
    /// Whether the unit failed as a whole (nothing written).
    pub fatal: bool,
}

/// A sample ready to corrupt: members, which is the image, its seed source.
struct Sample {
    key: String,
    members: Vec<Member>,
    /// `source` field of each member's records.
    sources: Vec<String>,
    image: usize,
    format: OutputFormat,
    /// Extension of the corrupted image member.
    ext: String,
    seed_source: String,
    /// Path for decoder error messages.
    label: PathBuf,
}

enum Item {
    Sample(Box<Sample>),
    Other(Member, String),
}

/// A corrupted member: name, bytes, seed, cell.
type RenderedMember = (
    String,
    Vec<u8>,
    Option<u64>,
    Option<Cell>,
    Option<crate::dataset::Severity>,
);

/// Output of one sample: per output shard, its corrupted members.
type Rendered = Vec<Vec<RenderedMember>>;

struct Out {
    cell: Option<Cell>,
    rel: String,
    dst: PathBuf,
    tmp: PathBuf,
    writer: Writer<Hashing<BufWriter<fs::File>>>,
    members: Vec<WrittenMember>,
}

fn ext_of(name: &str) -> String {
    discover::split_name(name)
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// The output format and extension of an image member with extension `ext`.
fn format_for(ext: &str, choice: ImageFormatChoice) -> Result<(OutputFormat, String), String> {
    let last = ext.rsplit('.').next().unwrap_or(ext).to_string();
    Ok(match choice {
        ImageFormatChoice::Jpeg => (
            OutputFormat::Jpeg,
            if last == "jpeg" { last } else { "jpg".into() },
        ),
        ImageFormatChoice::Png => (OutputFormat::Png, "png".into()),
        ImageFormatChoice::Webp => (OutputFormat::WebP, "webp".into()),
        ImageFormatChoice::Same => {
            let f = OutputFormat::from_path(Path::new(&format!("x.{last}")))
                .map_err(|e| e.to_string())?;
            (f, ext.to_string())
        }
    })
}

/// Make unit `unit`: all its output shards, or none (see the module docs).
pub fn run_unit(ctx: &Context<'_>, unit: &Unit) -> UnitOutcome {
    let mut outcome = UnitOutcome::default();
    let mut outs = Vec::new();
    for (cell, rel) in plan::outputs(unit, ctx.cells, ctx.layout) {
        let dst = ctx.output.join(&rel);
        let opened = (|| -> std::io::Result<Out> {
            if let Some(p) = dst.parent() {
                fs::create_dir_all(p)?;
            }
            let tmp = temp_path(&dst).map_err(std::io::Error::other)?;
            let _ = fs::remove_file(&tmp);
            let f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            Ok(Out {
                cell,
                rel: rel.clone(),
                dst: dst.clone(),
                tmp,
                writer: Writer::new(Hashing::new(BufWriter::with_capacity(1 << 16, f))),
                members: Vec::new(),
            })
        })();
        match opened {
            Ok(o) => outs.push(o),
            Err(e) => {
                for o in &outs {
                    let _ = fs::remove_file(&o.tmp);
                }
                outcome.fatal = true;
                outcome.failures.push(format!("{}: {e}", dst.display()));
                return outcome;
            }
        }
    }
    let abort = |outs: Vec<Out>, outcome: &mut UnitOutcome, msg: String| {
        for o in outs {
            drop(o.writer);
            let _ = fs::remove_file(&o.tmp);
        }
        outcome.fatal = true;
        outcome.shards.clear();
        outcome.failures.push(msg);
    };

    let mut tar_src = None;
    let mut files = None;
    match &unit.source {
        Source::Tar(s) => match discover::open(s) {
            Ok(samples) => tar_src = Some((s, samples)),
            Err(e) => {
                abort(outs, &mut outcome, e.to_string());
                return outcome;
            }
        },
        Source::Files(items) => files = Some(items.iter()),
    }
    let batch = ctx.batch.max(1);
    loop {
        // read a batch, in order
        let mut items: Vec<Item> = Vec::new();
        let mut n_samples = 0;
        let mut ended = false;
        while n_samples < batch {
            if let Some((shard, samples)) = tar_src.as_mut() {
                let shard_file = format!("{}.tar", shard.name);
                match samples.next() {
                    Ok(None) => {
                        ended = true;
                        break;
                    }
                    Ok(Some(Entry::Other(m))) => {
                        let src = format!("{shard_file}/{}", m.header.name);
                        items.push(Item::Other(m, src));
                    }
                    Ok(Some(Entry::Bad { key, reason })) => outcome
                        .failures
                        .push(format!("{}: key `{key}`: {reason}", shard.path.display())),
                    Ok(Some(Entry::Sample { key, members })) => {
                        let image = ctx.image_exts.iter().find_map(|want| {
                            members.iter().position(|m| &ext_of(&m.header.name) == want)
                        });
                        let Some(image) = image else {
                            outcome.failures.push(format!(
                                "{}: key `{key}`: no image member (looked for .{}; members: {}); sample left out",
                                shard.path.display(),
                                ctx.image_exts.join(", ."),
                                members.iter().map(|m| m.header.name.as_str()).collect::<Vec<_>>().join(", ")
                            ));
                            continue;
                        };
                        let ext = ext_of(&members[image].header.name);
                        let (format, out_ext) = match format_for(&ext, ctx.format) {
                            Ok(v) => v,
                            Err(e) => {
                                outcome.failures.push(format!(
                                    "{}: key `{key}`: {e}; sample left out",
                                    shard.path.display()
                                ));
                                continue;
                            }
                        };
                        let sources = members
                            .iter()
                            .map(|m| format!("{shard_file}/{}", m.header.name))
                            .collect();
                        let label = PathBuf::from(format!(
                            "{}/{}",
                            shard.path.display(),
                            members[image].header.name
                        ));
                        items.push(Item::Sample(Box::new(Sample {
                            seed_source: plan::seed_source(&shard.name, &key),
                            key,
                            members,
                            sources,
                            image,
                            format,
                            ext: out_ext,
                            label,
                        })));
                        n_samples += 1;
                    }
                    Err((last, e)) => {
                        // the key of the member that broke, else the last sample started
                        let key = match e.member.as_deref().and_then(discover::split_name) {
                            Some((k, _)) => format!("key `{k}`: "),
                            None => last
                                .map(|k| format!("after key `{k}`: "))
                                .unwrap_or_default(),
                        };
                        let msg = format!(
                            "{}: {key}{e}; the shard is not written (fix or remove it, then rerun)",
                            shard.path.display(),
                        );
                        abort(outs, &mut outcome, msg);
                        return outcome;
                    }
                }
            } else if let Some(it) = files.as_mut() {
                let Some((item, key)) = it.next() else {
                    ended = true;
                    break;
                };
                let path = ctx.input.join(&item.source);
                let data = match crate::digest::read_regular(&path) {
                    Ok(d) => d,
                    Err(e) => {
                        outcome.failures.push(format!("{}: {e}", path.display()));
                        continue;
                    }
                };
                let ext = ext_of(&format!(
                    "x.{}",
                    item.cell_path.rsplit('.').next().unwrap_or("")
                ));
                let format = item.format.unwrap_or(OutputFormat::Png);
                let mut h = Header::file(&format!("{key}.{ext}"));
                h.mtime = 0;
                items.push(Item::Sample(Box::new(Sample {
                    key: key.clone(),
                    members: vec![Member { header: h, data }],
                    sources: vec![item.source.clone()],
                    image: 0,
                    format,
                    ext,
                    seed_source: item.source.clone(),
                    label: path,
                })));
                n_samples += 1;
            }
        }
        // corrupt the batch in parallel
        let rendered: Vec<Option<Result<Rendered, String>>> = items
            .par_iter()
            .map(|it| match it {
                Item::Other(..) => None,
                Item::Sample(s) => Some(render(ctx, s)),
            })
            .collect();
        // write in order
        for (it, r) in items.iter().zip(rendered) {
            let res = match (it, r) {
                (Item::Other(m, src), _) => {
                    let sha = sha256_hex(&m.data);
                    write_all_outs(&mut outs, |_| {
                        vec![(
                            m.header.clone(),
                            &m.data[..],
                            None,
                            None,
                            None,
                            src.clone(),
                            sha.clone(),
                            sha.clone(),
                        )]
                    })
                }
                (Item::Sample(s), Some(Err(e))) => {
                    let where_ = match &unit.source {
                        Source::Tar(sh) => format!("{}: key `{}`", sh.path.display(), s.key),
                        Source::Files(_) => s.label.display().to_string(),
                    };
                    outcome
                        .failures
                        .push(format!("{where_}: {e}; sample left out"));
                    Ok(())
                }
                (Item::Sample(s), Some(Ok(per_out))) => {
                    outcome.samples += 1;
                    let src_shas: Vec<String> =
                        s.members.iter().map(|m| sha256_hex(&m.data)).collect();
                    write_all_outs(&mut outs, |o| {
                        let mut v = Vec::new();
                        let extra = &per_out[o];
                        for (j, m) in s.members.iter().enumerate() {
                            if j == s.image && ctx.layout == Layout::Cells {
                                let (name, bytes, seed, cell, sched) = &extra[0];
                                let mut h = m.header.clone();
                                h.name = name.clone();
                                v.push((
                                    h,
                                    &bytes[..],
                                    *seed,
                                    *cell,
                                    *sched,
                                    s.sources[j].clone(),
                                    src_shas[j].clone(),
                                    sha256_hex(bytes),
                                ));
                                // a scheduled sample carries its severity where webdataset
                                // loaders look: a `<key>.json` member ([`json_member`]).
                                // Its record is that of any other non-image member (its
                                // hash, no seed, no severity): the image's record alone
                                // carries the severity, one per image
                                if let (Some(_), Some(json)) = (sched, &extra[1..].first()) {
                                    let mut h = m.header.clone();
                                    h.name = json.0.clone();
                                    v.push((
                                        h,
                                        &json.1[..],
                                        None,
                                        *cell,
                                        None,
                                        s.sources[j].clone(),
                                        src_shas[j].clone(),
                                        sha256_hex(&json.1),
                                    ));
                                }
                            } else {
                                v.push((
                                    m.header.clone(),
                                    &m.data[..],
                                    None,
                                    None,
                                    None,
                                    s.sources[j].clone(),
                                    src_shas[j].clone(),
                                    src_shas[j].clone(),
                                ));
                            }
                        }
                        if ctx.layout == Layout::InSample {
                            let img = &s.members[s.image];
                            for (name, bytes, seed, cell, sched) in extra {
                                let mut h = img.header.clone();
                                h.name = name.clone();
                                v.push((
                                    h,
                                    &bytes[..],
                                    *seed,
                                    *cell,
                                    *sched,
                                    s.sources[s.image].clone(),
                                    src_shas[s.image].clone(),
                                    sha256_hex(bytes),
                                ));
                            }
                        }
                        v
                    })
                }
                (Item::Sample(_), None) => unreachable!("samples are rendered"),
            };
            if let Err(e) = res {
                abort(outs, &mut outcome, e);
                return outcome;
            }
        }
        if ended {
            break;
        }
    }
    // finish: end markers, rename, hash
    for o in outs {
        let Out {
            cell,
            rel,
            dst,
            tmp,
            writer,
            members,
        } = o;
        let done = writer.finish().and_then(|h| {
            let (w, sha) = h.finish();
            w.into_inner().map_err(|e| e.into_error())?;
            fs::rename(&tmp, &dst)?;
            Ok(sha)
        });
        match done {
            Ok(sha) => outcome.shards.push(WrittenShard {
                cell,
                output: rel,
                sha256: sha,
                members,
            }),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                outcome.fatal = true;
                outcome.failures.push(format!("{}: {e}", dst.display()));
            }
        }
    }
    if outcome.fatal {
        outcome.shards.clear();
    }
    outcome
}

type Write8<'b> = (
    Header,
    &'b [u8],
    Option<u64>,
    Option<Cell>,
    Option<crate::dataset::Severity>,
    String,
    String,
    String,
);

/// Append members to every output shard (`members(o)` gives them for output `o`).
fn write_all_outs<'b>(
    outs: &mut [Out],
    members: impl Fn(usize) -> Vec<Write8<'b>>,
) -> Result<(), String> {
    for (o, out) in outs.iter_mut().enumerate() {
        for (h, data, seed, cell, scheduled_severity, source, source_sha256, sha256) in members(o) {
            out.writer
                .append(&h, data)
                .map_err(|e| format!("{}: {e}", out.dst.display()))?;
            out.members.push(WrittenMember {
                name: h.name.clone(),
                source,
                source_sha256,
                sha256,
                cell: cell.or(out.cell),
                seed,
                scheduled_severity,
            });
        }
    }
    Ok(())
}

/// The name of a scheduled image's severity member, for the image member `<stem>.<ext>`:
/// `<stem>.json`, or when the input sample already has that member (webdataset input, e.g.
/// img2dataset's `<key>.json` metadata, copied unchanged) `<stem>.scheduled_severity.json`;
/// `None` if both are taken (the manifest still records the severity). `stem` is the key
/// (one shard per cell) or `<key>.<corruption>.schedule` (`--wds-cells-in-sample`, where one
/// sample carries every corruption's image, so each gets its own severity member).
fn json_member(s: &Sample, stem: &str) -> Option<String> {
    [
        format!("{stem}.json"),
        format!("{stem}.scheduled_severity.json"),
    ]
    .into_iter()
    .find(|n| !s.members.iter().any(|m| &m.header.name == n))
}

/// `--severity-schedule` over webdataset input: the seed sources (`<shard>/<key>`,
/// [`plan::seed_source`]) of the samples a run corrupts, in stream order (shards in
/// discovery order, samples in archive order), from a pass over the member headers (bodies
/// are seeked over). A sample counts when [`run_unit`] would render it: a regular sample
/// with an image member of `image_exts` in a writable format. Damaged shards count the
/// samples before the damage (the run itself then writes nothing of them): a sample's
/// position depends only on the input shards, never on threads or `--shard`.
pub fn scheduled_sources(
    shards: &[discover::Shard],
    image_exts: &[String],
    format: ImageFormatChoice,
) -> crate::error::Result<Vec<String>> {
    let mut out = Vec::new();
    for shard in shards {
        let mut samples = discover::open_headers(shard)?;
        while let Ok(Some(e)) = samples.next() {
            let Entry::Sample { key, members } = e else {
                continue;
            };
            let image = image_exts
                .iter()
                .find_map(|want| members.iter().position(|m| &ext_of(&m.header.name) == want));
            if let Some(i) = image {
                if format_for(&ext_of(&members[i].header.name), format).is_ok() {
                    out.push(plan::seed_source(&shard.name, &key));
                }
            }
        }
    }
    Ok(out)
}

/// Decode a sample's image once and corrupt it for every output: per output shard, the
/// corrupted members (name, bytes, seed, cell).
fn render(ctx: &Context<'_>, s: &Sample) -> Result<Rendered, String> {
    let p = ctx.pipeline;
    let img = p
        .prepare(&s.members[s.image].data, &s.label)
        .map_err(|e| e.to_string())?;
    let mut scratch = Vec::new();
    let mut one = |cell: Cell, name: String| -> Result<RenderedMember, String> {
        let (bytes, seed) = p
            .render(&img, &s.seed_source, cell, s.format, &mut scratch)
            .map_err(|e| format!("{cell:?}: {e}"))?;
        let sched = p.scheduled_severity(&s.seed_source, cell);
        Ok((name, bytes, Some(seed), Some(cell), sched))
    };
    match ctx.layout {
        Layout::Cells => ctx
            .cells
            .iter()
            .map(|&c| {
                let mut v = Vec::with_capacity(2);
                push_with_severity(&mut v, s, &s.key, one(c, format!("{}.{}", s.key, s.ext))?);
                Ok(v)
            })
            .collect(),
        Layout::InSample => {
            let mut v = Vec::with_capacity(ctx.cells.len());
            for &c in ctx.cells {
                let last = s.ext.rsplit('.').next().unwrap_or(&s.ext);
                let stem = format!("{}.{}.{}", s.key, c.corruption.name(), c.severity);
                push_with_severity(&mut v, s, &stem, one(c, format!("{stem}.{last}"))?);
            }
            Ok(vec![v])
        }
    }
}

/// Push a corrupted image member and, when it was made at a scheduled severity, its
/// severity member `{"scheduled_severity":x}` right after it (named by [`json_member`]).
fn push_with_severity(v: &mut Vec<RenderedMember>, s: &Sample, stem: &str, image: RenderedMember) {
    let json = image.4.zip(json_member(s, stem));
    let cell = image.3;
    v.push(image);
    if let Some((sev, name)) = json {
        let body = format!("{{\"scheduled_severity\":{sev}}}");
        v.push((name, body.into_bytes(), None, cell, Some(sev)));
    }
}

/// A writer that hashes what passes through it: an output shard's SHA-256 without reading
/// the file back.
struct Hashing<W: Write> {
    inner: W,
    sha: sha2::Sha256,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            sha: <sha2::Sha256 as sha2::Digest>::new(),
        }
    }

    fn finish(self) -> (W, String) {
        let d = sha2::Digest::finalize(self.sha);
        (self.inner, crate::digest::hex(&d))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.sha, &buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
