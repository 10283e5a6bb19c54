//! Stage 4, record: what is done, in OUTPUT and in memory. Everything that makes a run
//! resumable lives here.
//!
//! Takes the [`Plan`] and the manifest [`Header`] of the run; [`Recorder::open`] checks the
//! header against every manifest, part and journal already in OUTPUT, loads their records
//! into the ledger (which planned outputs exist, and their SHA-256) and opens (and locks) this process's journal. During the run it answers
//! the resume questions of the driver (which cells of an item are to be made, which recorded
//! outputs are stale and must be redone, removing stale temporaries) and appends what was
//! made to the journal; [`Recorder::finish`] writes the sorted manifest or shard part and
//! merges the parts when every shard has finished. `verify` and `merge` read manifests through
//! [`manifest`]; [`header`] maps a pipeline to its header and back.
//!
//! It is a stage of its own so that resume state has one home: whether an output counts as
//! done is decided in this module only, and execution never looks at OUTPUT's bookkeeping.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::execute::{self, Pipeline};
use super::plan::{Item, ItemKind, Plan};
use super::Cell;
use crate::digest::{hex, parse_hex32, sha256_file};
use crate::error::{Error, Result};

pub mod header;
mod ledger;
pub mod manifest;
pub mod status;

use ledger::{Ledger, PlanFilter};
use manifest::{Header, Kind, Record};

/// What [`Recorder::finish`] wrote.
#[derive(Debug)]
pub struct Finished {
    /// The manifest (unsharded run) or this shard's part.
    pub path: PathBuf,
    /// Records in the merged `manifest.jsonl`, if one was written (unsharded, or the last
    /// shard to finish).
    pub manifest_records: Option<usize>,
    /// Outputs of an earlier run whose source no longer exists in INPUT: removed from OUTPUT
    /// and from the manifest (relative to OUTPUT, sorted).
    pub removed: Vec<String>,
}

/// The record stage of one run: the ledger of the plan's outputs and the journal.
pub struct Recorder<'a> {
    output: PathBuf,
    shard: Option<(usize, usize)>,
    header: Header,
    pipeline: &'a Pipeline,
    ledger: Ledger,
    /// OUTPUT already held outputs of these settings (stale temporaries may exist).
    resuming: bool,
    journal: Option<Mutex<fs::File>>,
    /// INPUT, to tell which recorded outputs outside the plan lost their source.
    input: Option<PathBuf>,
}

impl<'a> Recorder<'a> {
    /// Open OUTPUT for the run of `plan` with `header` (shard `shard`): create it, refuse it if
    /// it holds outputs made with other settings, load what is recorded there, and open this
    /// process's journal.
    pub fn open(
        output: &Path,
        shard: Option<(usize, usize)>,
        header: Header,
        plan: Plan,
        pipeline: &'a Pipeline,
    ) -> Result<Recorder<'a>> {
        let ledger = Ledger::new(plan);
        fs::create_dir_all(output).map_err(|source| Error::Io {
            path: output.to_path_buf(),
            source,
        })?;
        let resuming = same_settings(output, &header)?;
        for f in manifest::list_files(output) {
            manifest::stream(
                &f.path,
                f.journal,
                |_| {},
                |r| {
                    ledger.load(&r);
                    Ok(())
                },
            )?;
        }
        let journal = lock_journal(output, shard, &header)?;
        Ok(Recorder {
            output: output.to_path_buf(),
            shard,
            header,
            pipeline,
            ledger,
            resuming,
            journal: Some(Mutex::new(journal)),
            input: None,
        })
    }

    /// A recorder that touches nothing on disk (the benchmark floor): nothing is recorded, so
    /// every cell is to be made, and nothing is journalled.
    pub fn detached(
        output: &Path,
        shard: Option<(usize, usize)>,
        header: Header,
        plan: Plan,
        pipeline: &'a Pipeline,
    ) -> Recorder<'a> {
        Recorder {
            output: output.to_path_buf(),
            shard,
            header,
            pipeline,
            ledger: Ledger::new(plan),
            resuming: false,
            journal: None,
            input: None,
        }
    }

    /// Let [`Recorder::finish`] remove the outputs of earlier runs, in the plan's cells, whose
    /// source no longer exists under `input` (a rerun after a source was deleted must not
    /// leave its outputs behind as if they belonged to the dataset).
    pub fn sweeping_removed_sources(mut self, input: &Path) -> Self {
        self.input = Some(input.to_path_buf());
        self
    }

    /// The planned items.
    pub fn items(&self) -> &[Item] {
        self.ledger.items()
    }

    /// The folders to make in every cell ([`Plan::folders`]).
    pub fn folders(&self) -> &[String] {
        self.ledger.folders()
    }

    /// The folder layout of the cells ([`Plan::layout`]).
    pub fn layout(&self) -> crate::dataset::Layout {
        self.ledger.layout()
    }

    /// The planned cells.
    pub fn cells(&self) -> &[Cell] {
        self.ledger.cells()
    }

    /// For each cell of image item `i`: whether its output is on disk and matches its record.
    /// Stale temporaries of the item's outputs are removed on the way.
    pub fn done_cells(&self, i: usize) -> Vec<bool> {
        let it = &self.ledger.items()[i];
        (0..self.ledger.cells().len())
            .map(|c| {
                let out = it.output(self.ledger.cells()[c]);
                self.clear_stale_tmp(&self.output.join(&out));
                self.is_done(i, c, &out)
            })
            .collect()
    }

    /// The cells of image item `i` to make, given [`Recorder::done_cells`] and the SHA-256 of
    /// the source as read now, and how many are skipped (done). Outputs recorded for another
    /// version of the source are stale: they are forgotten and removed, and made again, so
    /// that a rerun gives what a fresh run on the current INPUT gives.
    pub fn todo(&self, i: usize, done: &[bool], src_sha: &str) -> (Vec<usize>, usize) {
        let stale = self.ledger.source(i).is_some_and(|s| hex(&s) != src_sha);
        let it = &self.ledger.items()[i];
        let mut needed = Vec::with_capacity(done.len());
        let mut skipped = 0;
        for (c, &d) in done.iter().enumerate() {
            if d && !stale {
                skipped += 1;
            } else {
                if d {
                    self.ledger.set(i, c, None, None);
                    let _ = fs::remove_file(self.output.join(it.output(self.ledger.cells()[c])));
                }
                needed.push(c);
            }
        }
        (needed, skipped)
    }

    /// Whether the output of carried item `i` in cell `c` (at `out`, relative to OUTPUT) is
    /// done: recorded with the SHA-256 of the source as it is now, and either a hard link to
    /// the source (no re-hash of the copy needed) or an intact copy. `src_sha` caches the
    /// source's hash across the cells (`None` until hashed, and after a failed hash). A stale
    /// temporary of the output is removed first.
    pub fn carried_done(
        &self,
        i: usize,
        c: usize,
        src: &Path,
        out: &str,
        src_sha: &mut Option<String>,
    ) -> bool {
        let dst = self.output.join(out);
        self.clear_stale_tmp(&dst);
        let Some(sha) = self.ledger.get(i, c) else {
            return false;
        };
        let same_inode = {
            use std::os::unix::fs::MetadataExt;
            match (fs::metadata(src), fs::metadata(&dst)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                _ => false,
            }
        };
        if src_sha.is_none() {
            *src_sha = sha256_file(src).ok();
        }
        if src_sha.as_deref() != Some(hex(&sha).as_str()) {
            return false;
        }
        same_inode || self.is_done(i, c, out)
    }

    /// Whether output (item, cell) is on disk and matches its journal/manifest record; a
    /// recorded output that does not match is forgotten (it will be regenerated).
    fn is_done(&self, i: usize, c: usize, out: &str) -> bool {
        let Some(sha) = self.ledger.get(i, c) else {
            return false;
        };
        let ok = matches!(sha256_file(&self.output.join(out)), Ok(h) if h == hex(&sha));
        if !ok {
            self.ledger.set(i, c, None, None);
        }
        ok
    }

    fn clear_stale_tmp(&self, path: &Path) {
        if self.resuming {
            if let Ok(tmp) = execute::temp_path(path) {
                let _ = fs::remove_file(tmp);
            }
        }
    }

    /// Record a written output (item `i`, cell `c`, SHA-256 `sha` of the output and `src_sha`
    /// of its source; `seed` for images) in the ledger and return its journal record.
    pub fn record(
        &self,
        i: usize,
        c: usize,
        sha: &str,
        src_sha: &str,
        seed: Option<u64>,
    ) -> Record {
        let it = &self.ledger.items()[i];
        let cell = self.ledger.cells()[c];
        let style = seed.and_then(|_| self.pipeline.style_of(&it.source, cell));
        let (style, style_sha256) = match style {
            Some((n, s)) => (Some(n), Some(s)),
            None => (None, None),
        };
        self.ledger
            .set(i, c, parse_hex32(sha), parse_hex32(src_sha));
        Record {
            output: it.output(cell),
            source: it.source.clone(),
            source_sha256: src_sha.to_string(),
            sha256: sha.to_string(),
            kind: if it.kind == ItemKind::Image {
                Kind::Image
            } else {
                Kind::Annotation
            },
            corruption: cell.corruption.name().into(),
            severity: cell.severity,
            scheduled_severity: seed
                .and_then(|_| self.pipeline.scheduled_severity(&it.source, cell)),
            seed,
            style,
            style_sha256,
        }
    }

    /// Append the records of one item to the journal, in one write (nothing when detached).
    pub fn journal(&self, records: &[Record]) -> Result<()> {
        let Some(j) = &self.journal else {
            return Ok(());
        };
        if records.is_empty() {
            return Ok(());
        }
        let text: String = records.iter().map(manifest::line).collect();
        let mut f = j.lock().expect("lock");
        f.write_all(text.as_bytes()).map_err(|source| Error::Io {
            path: self.output.join(manifest::journal_name(self.shard)),
            source,
        })
    }

    /// Write the sorted manifest (unsharded) or this shard's part from the ledger, streaming
    /// in the records of earlier manifests/parts that are not part of this plan, remove the
    /// journal, and merge the parts when every shard has finished.
    pub fn finish(self) -> Result<Finished> {
        let Recorder {
            output: out,
            shard,
            header,
            pipeline,
            ledger,
            // held (and locked) until the manifest is written
            journal: _journal,
            input,
            ..
        } = self;
        let jpath = out.join(manifest::journal_name(shard));
        let files = manifest::list_files(&out);
        let dest = match shard {
            None => out.join(manifest::MANIFEST),
            Some((k, n)) => out.join(manifest::part_name(k, n)),
        };
        // Finished files whose foreign records (outputs not in this plan) are kept.
        let sources: Vec<PathBuf> = files
            .iter()
            .filter(|f| !f.journal && (shard.is_none() || f.path == dest))
            .map(|f| f.path.clone())
            .collect();
        let plan_paths = PlanFilter::new(&ledger);
        let folders = ledger.folder_records();
        let records = merge_by_output(
            ledger.into_records(move |src, cell| {
                (
                    pipeline.seed_of(src, cell),
                    pipeline.style_of(src, cell),
                    pipeline.scheduled_severity(src, cell),
                )
            }),
            folders.into_iter(),
        );
        let mut removed = Vec::new();
        // Whether to keep a record read from an earlier manifest or part; an output of this
        // plan's cells whose source is gone from INPUT is removed instead (its path was
        // checked to be relative and normalised when the manifest was read).
        // One look-up per source, however many cells list it (capped, so memory stays bounded).
        let mut exists: std::collections::HashMap<String, bool> = Default::default();
        let mut sweep = |r: &Record, removed: &mut Vec<String>| {
            let gone = match &input {
                Some(i) if plan_paths.in_cells(&r.output) => {
                    if exists.len() > 1 << 20 {
                        exists.clear();
                    }
                    !*exists.entry(r.source.clone()).or_insert_with(|| {
                        !matches!(fs::symlink_metadata(i.join(&r.source)), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
                    })
                }
                _ => false,
            };
            if let (true, Some(i)) = (gone, &input) {
                let p = out.join(&r.output);
                if r.kind == Kind::Folder {
                    let _ = fs::remove_dir(&p);
                } else {
                    let _ = fs::remove_file(&p);
                }
                remove_vanished_folders(&out, &r.output, i);
                removed.push(r.output.clone());
            }
            !gone
        };
        let n = manifest::merge_sorted(&dest, &header, &sources, records, |r, _| {
            // this run's record replaces a planned output's
            !plan_paths.contains(&r.output) && sweep(r, &mut removed)
        })?;
        let _ = fs::remove_file(&jpath);
        let manifest_records = match shard {
            None => Some(n),
            Some((_, n)) => {
                let files = manifest::list_files(&out);
                let complete = (0..n)
                    .all(|k| files.iter().any(|f| !f.journal && f.shard == Some((k, n))))
                    && !files.iter().any(|f| f.journal);
                if complete {
                    // The merge also reads an earlier run's manifest.jsonl: sweep its
                    // records (the parts were swept by their shards).
                    let earlier = out.join(manifest::MANIFEST);
                    Some(manifest::merge_keeping(&out, false, |r, from| {
                        from != earlier || sweep(r, &mut removed)
                    })?)
                } else {
                    None
                }
            }
        };
        removed.sort();
        Ok(Finished {
            path: dest,
            manifest_records,
            removed,
        })
    }
}

/// After the output `output` (relative to `out`) of a removed source was deleted: remove its
/// folders in the cell, innermost first, while they are empty and gone from `input` too (a
/// class deleted from INPUT must not stay behind as an empty class folder, which ImageFolder
/// would count).
fn remove_vanished_folders(out: &Path, output: &str, input: &Path) {
    let mut parts = output.splitn(3, '/');
    let (Some(c), Some(s), Some(rel)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let mut rel = rel;
    while let Some((dir, _)) = rel.rsplit_once('/') {
        if input.join(dir).exists() || fs::remove_dir(out.join(c).join(s).join(dir)).is_err() {
            return; // still a folder of INPUT, or not empty
        }
        rel = dir;
    }
}

/// Two iterators of records sorted by output path, merged (sorted).
fn merge_by_output(
    a: impl Iterator<Item = Record>,
    b: impl Iterator<Item = Record>,
) -> impl Iterator<Item = Record> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if y.output < x.output => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

/// Whether OUTPUT already holds records made with `header`; an error naming the fields when
/// it holds records made with other settings.
pub(crate) fn same_settings(output: &Path, header: &Header) -> Result<bool> {
    match manifest::common_header(output)? {
        Some(h) if h != *header => Err(Error::InvalidArgument(format!(
            "{} holds outputs made with different settings ({}): use another OUTPUT or the same settings",
            output.display(),
            manifest::header_diff(&h, header)
        ))),
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// Open and lock this process's journal; with it locked, this process is the only writer of
/// its manifest or part, so a temporary an earlier writer left (killed, or out of space) is
/// stale and removed.
pub(crate) fn lock_journal(
    output: &Path,
    shard: Option<(usize, usize)>,
    header: &Header,
) -> Result<fs::File> {
    let journal = open_journal(&output.join(manifest::journal_name(shard)), header)?;
    manifest::remove_stale_temps(&output.join(match shard {
        None => manifest::MANIFEST.to_string(),
        Some((k, n)) => manifest::part_name(k, n),
    }));
    Ok(journal)
}

/// Open (append) the journal, writing the header into a new one and starting a fresh line
/// after a torn one.
fn open_journal(jpath: &Path, header: &Header) -> Result<fs::File> {
    use std::io::{Read, Seek, SeekFrom};
    let io_err = |source| Error::Io {
        path: jpath.to_path_buf(),
        source,
    };
    let mut f = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .read(true)
        .open(jpath)
        .map_err(io_err)?;
    // One process per journal: a second run of the same shard into the same OUTPUT would
    // delete the first one's temporaries as stale and race it for the manifest. The lock
    // (flock) lasts as long as the file is open, so a killed run never leaves it behind. File
    // systems without flock support (some cluster file systems) simply run unlocked.
    if let Err(std::fs::TryLockError::WouldBlock) = f.try_lock() {
        return Err(Error::InvalidArgument(format!(
            "another imgcorrupt is writing into {} (its journal {} is locked): wait for it to finish, or use another OUTPUT or --shard",
            jpath.parent().unwrap_or(jpath).display(),
            jpath.display()
        )));
    }
    let len = f.metadata().map_err(io_err)?.len();
    if len == 0 {
        f.write_all(manifest::line(header).as_bytes())
            .map_err(io_err)?;
    } else {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::End(-1)).map_err(io_err)?;
        f.read_exact(&mut last).map_err(io_err)?;
        if last[0] != b'\n' {
            f.write_all(b"\n").map_err(io_err)?;
        }
    }
    Ok(f)
}
