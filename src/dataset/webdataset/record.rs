//! Stage 4 for webdataset outputs: resume state and the manifest, on the files of
//! [`crate::dataset::record::manifest`] (same header, journal, parts, merge).
//!
//! A unit's outputs are recorded together, after all of them were renamed into place: one
//! `shard` record per output shard (SHA-256 of the file, SHA-256 of the input shard) and one
//! `member` record per member (`<shard output>/<member name>`, the member's SHA-256 and its
//! source member's). A unit counts as done when every one of its shards is on disk with its
//! recorded SHA-256 and the input is unchanged; resumption is per unit (a killed run redoes
//! the shards it was writing).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::execute::UnitOutcome;
use super::plan::{self, Source, Unit};
use super::Layout;
use crate::dataset::record::manifest::{self, Header, Kind, Record};
use crate::dataset::record::{lock_journal, same_settings};
use crate::dataset::Cell;
use crate::digest::{sha256_file, sha256_hex};
use crate::error::{Error, Result};

/// The record of a webdataset run.
pub struct WdsRecorder {
    output: PathBuf,
    shard: Option<(usize, usize)>,
    header: Header,
    journal: Mutex<fs::File>,
    /// Shard outputs recorded anywhere in OUTPUT: output → (SHA-256, source SHA-256).
    recorded: HashMap<String, (String, String)>,
    /// Records of journals (killed runs), by shard output.
    journaled: HashMap<String, Vec<Record>>,
    /// Shard outputs whose records this run provides (made, or recovered from a journal).
    covered: Mutex<HashSet<String>>,
    /// This run's records.
    records: Mutex<Vec<Record>>,
}

/// The shard output a record belongs to (`x/1/a.tar` for `x/1/a.tar/k.jpg`).
fn shard_of(output: &str) -> &str {
    match output.find(".tar/") {
        Some(i) => &output[..i + 4],
        None => output,
    }
}

/// SHA-256 identifying a unit's input: the input shard's bytes, or for folder sources the
/// list of their paths and SHA-256s.
pub fn source_sha(unit: &Unit, input: &Path) -> std::io::Result<String> {
    match &unit.source {
        Source::Tar(s) => sha256_file(&s.path),
        Source::Files(items) => {
            let mut text = String::new();
            for (it, _) in items {
                let sha = sha256_file(&input.join(&it.source))?;
                text.push_str(&format!("{sha}  {}\n", it.source));
            }
            Ok(sha256_hex(text.as_bytes()))
        }
    }
}

impl WdsRecorder {
    /// Open OUTPUT: refuse other settings, load what is recorded, lock this process's
    /// journal.
    pub fn open(
        output: &Path,
        shard: Option<(usize, usize)>,
        header: Header,
    ) -> Result<WdsRecorder> {
        fs::create_dir_all(output).map_err(|source| Error::Io {
            path: output.to_path_buf(),
            source,
        })?;
        same_settings(output, &header)?;
        let mut recorded = HashMap::new();
        let mut journaled: HashMap<String, Vec<Record>> = HashMap::new();
        for f in manifest::list_files(output) {
            manifest::stream(
                &f.path,
                f.journal,
                |_| {},
                |r| {
                    if r.kind == Kind::Shard {
                        recorded.insert(
                            r.output.clone(),
                            (r.sha256.clone(), r.source_sha256.clone()),
                        );
                    }
                    if f.journal && matches!(r.kind, Kind::Shard | Kind::Member) {
                        journaled
                            .entry(shard_of(&r.output).to_string())
                            .or_default()
                            .push(r);
                    }
                    Ok(())
                },
            )?;
        }
        let journal = lock_journal(output, shard, &header)?;
        Ok(WdsRecorder {
            output: output.to_path_buf(),
            shard,
            header,
            journal: Mutex::new(journal),
            recorded,
            journaled,
            covered: Mutex::new(HashSet::new()),
            records: Mutex::new(Vec::new()),
        })
    }

    /// Whether every output of `unit` is done (module docs), given the SHA-256 of its input
    /// now. Records of a done unit that only a journal holds are taken into this run's.
    pub fn done(&self, unit: &Unit, cells: &[Cell], layout: Layout, src_sha: &str) -> bool {
        let outs = plan::outputs(unit, cells, layout);
        let all = outs.iter().all(|(_, rel)| match self.recorded.get(rel) {
            Some((sha, src)) => {
                src == src_sha && matches!(sha256_file(&self.output.join(rel)), Ok(h) if &h == sha)
            }
            None => false,
        });
        if all {
            for (_, rel) in &outs {
                if let Some(recs) = self.journaled.get(rel) {
                    self.covered.lock().expect("lock").insert(rel.clone());
                    self.records
                        .lock()
                        .expect("lock")
                        .extend(recs.iter().cloned());
                }
            }
        }
        all
    }

    /// Record a made unit: its records go to the journal (one write) and into this run's.
    pub fn record(&self, unit: &Unit, src_sha: &str, outcome: &UnitOutcome) -> Result<()> {
        let mut recs = Vec::new();
        for s in &outcome.shards {
            let (corruption, severity) = cell_fields(s.cell);
            recs.push(Record {
                output: s.output.clone(),
                source: unit.source_name(),
                source_sha256: src_sha.to_string(),
                sha256: s.sha256.clone(),
                kind: Kind::Shard,
                corruption: corruption.clone(),
                severity,
                scheduled_severity: None,
                seed: None,
                style: None,
                style_sha256: None,
            });
            for m in &s.members {
                let (corruption, severity) = cell_fields(m.cell.or(s.cell));
                recs.push(Record {
                    output: format!("{}/{}", s.output, m.name),
                    source: m.source.clone(),
                    source_sha256: m.source_sha256.clone(),
                    sha256: m.sha256.clone(),
                    kind: Kind::Member,
                    corruption,
                    severity,
                    scheduled_severity: m.scheduled_severity,
                    seed: m.seed,
                    style: None,
                    style_sha256: None,
                });
            }
        }
        let text: String = recs.iter().map(manifest::line).collect();
        self.journal
            .lock()
            .expect("lock")
            .write_all(text.as_bytes())
            .map_err(|source| Error::Io {
                path: self.output.join(manifest::journal_name(self.shard)),
                source,
            })?;
        let mut cov = self.covered.lock().expect("lock");
        for s in &outcome.shards {
            cov.insert(s.output.clone());
        }
        self.records.lock().expect("lock").extend(recs);
        Ok(())
    }

    /// Write the sorted manifest (unsharded) or this shard's part: this run's records plus
    /// the earlier finished records of shards this run did not touch; remove the journal;
    /// merge the parts when every shard has finished. Returns (path written, records in the
    /// merged manifest if one was written).
    pub fn finish(self) -> Result<(PathBuf, Option<usize>)> {
        let WdsRecorder {
            output: out,
            shard,
            header,
            journal: _journal,
            covered,
            records,
            ..
        } = self;
        let dest = match shard {
            None => out.join(manifest::MANIFEST),
            Some((k, n)) => out.join(manifest::part_name(k, n)),
        };
        let sources: Vec<PathBuf> = manifest::list_files(&out)
            .iter()
            .filter(|f| !f.journal && (shard.is_none() || f.path == dest))
            .map(|f| f.path.clone())
            .collect();
        let covered = covered.into_inner().expect("lock");
        let mut recs = records.into_inner().expect("lock");
        recs.sort_by(|a, b| a.output.cmp(&b.output));
        recs.dedup_by(|a, b| a.output == b.output);
        let n = manifest::merge_sorted(&dest, &header, &sources, recs.into_iter(), |r, _| {
            !covered.contains(shard_of(&r.output))
        })?;
        let _ = fs::remove_file(out.join(manifest::journal_name(shard)));
        let merged = match shard {
            None => Some(n),
            Some((_, n)) => {
                let files = manifest::list_files(&out);
                let complete = (0..n)
                    .all(|k| files.iter().any(|f| !f.journal && f.shard == Some((k, n))))
                    && !files.iter().any(|f| f.journal);
                if complete {
                    Some(manifest::merge(&out, false)?)
                } else {
                    None
                }
            }
        };
        Ok((dest, merged))
    }
}

fn cell_fields(cell: Option<Cell>) -> (String, crate::dataset::Severity) {
    match cell {
        Some(c) => (c.corruption.name().to_string(), c.severity),
        None => (String::new(), crate::dataset::Severity::ZERO),
    }
}
