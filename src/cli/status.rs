//! `imgcorrupt status OUTPUT`: how far a (sharded) `generate` run is, per shard, and whether
//! its parts can be merged. Reads only OUTPUT's status files, manifest parts and journals.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::dataset::record::manifest::{self, ManifestFile};
use crate::dataset::record::status::{self, Status};
use crate::dataset::sequences::{self, RunState};

/// Arguments of `status`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  imgcorrupt status /data/imagenet-c")]
pub struct Args {
    /// Output root of `generate`.
    pub output: PathBuf,
}

/// What is known of one shard: its status file and its manifest files.
type PerShard<'a> = (Option<Status>, Vec<&'a ManifestFile>);

/// Whether a journal is locked, i.e. its process is still running.
fn running(path: &std::path::Path) -> bool {
    match std::fs::OpenOptions::new().append(true).open(path) {
        Ok(f) => matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// The lines `status` prints, and whether merging is possible now.
pub fn report(output: &std::path::Path) -> anyhow::Result<(Vec<String>, bool)> {
    if !output.is_dir() {
        anyhow::bail!("{}: no such output folder", output.display());
    }
    let files = manifest::list_files(output);
    let statuses = status::read_all(output);
    if files.is_empty() && statuses.is_empty() && sequences::has_sequence_files(output) {
        return Ok(sequence_report(output));
    }
    if files.is_empty() && statuses.is_empty() {
        anyhow::bail!(
            "{}: no manifest, parts, journals or status files (not a generate output?)",
            output.display()
        );
    }
    let mut lines = Vec::new();
    // per shard (None: unsharded)
    let mut shards: BTreeMap<Option<(usize, usize)>, PerShard<'_>> = BTreeMap::new();
    for (_, s) in &statuses {
        shards.entry(s.shard).or_default().0 = Some(s.clone());
    }
    for f in &files {
        if f.shard.is_some() || f.journal {
            shards.entry(f.shard).or_default().1.push(f);
        }
    }
    let mut failures = 0;
    for (shard, (st, fs)) in &shards {
        let name = match shard {
            Some((k, n)) => format!("shard {k}/{n}"),
            None => "unsharded run".to_string(),
        };
        let journal = fs.iter().find(|f| f.journal);
        let part = fs.iter().any(|f| !f.journal);
        let state = match (journal, part) {
            (Some(j), _) if running(&j.path) => "running",
            (Some(_), _) => "interrupted (rerun the same command to resume)",
            (None, true) => "finished",
            (None, false) if st.as_ref().is_some_and(|s| s.finished) => "finished",
            (None, false) => "not started or no record yet",
        };
        let counts = match st {
            Some(s) => format!("{}/{} {} done", s.done, s.total, s.unit),
            None => "no status file".to_string(),
        };
        let fails = st.as_ref().map_or(0, |s| s.failures);
        failures += fails;
        lines.push(format!("{name}: {state}, {counts}, {fails} failure(s)"));
        if let Some(s) = st {
            for f in s.failed.iter().take(5) {
                lines.push(format!("    failed: {f}"));
            }
            if s.failures > 5 {
                lines.push(format!(
                    "    … {} more (see {})",
                    s.failures - 5,
                    status::file_name(s.shard)
                ));
            }
        }
    }
    let merged = output.join(manifest::MANIFEST).exists();
    let journals: Vec<&ManifestFile> = files.iter().filter(|f| f.journal).collect();
    let parts: Vec<(usize, usize)> = files
        .iter()
        .filter(|f| !f.journal)
        .filter_map(|f| f.shard)
        .collect();
    let ns: std::collections::BTreeSet<usize> = parts.iter().map(|p| p.1).collect();
    let complete = ns.iter().any(|&n| (0..n).all(|k| parts.contains(&(k, n))));
    let possible = !parts.is_empty() && complete && journals.is_empty();
    lines.push(if possible {
        format!(
            "merge: possible (every part of some shard count has finished){}",
            if merged {
                "; manifest.jsonl exists (the last shard merged, or `imgcorrupt merge` ran)"
            } else {
                ""
            }
        )
    } else if parts.is_empty() {
        if merged && journals.is_empty() {
            "merge: not needed (manifest.jsonl is complete)".to_string()
        } else {
            "merge: not possible (no finished shard part)".to_string()
        }
    } else {
        let parts = &parts;
        let missing: Vec<String> = ns
            .iter()
            .flat_map(|&n| {
                (0..n)
                    .filter(move |k| !parts.contains(&(*k, n)))
                    .map(move |k| format!("{k}/{n}"))
            })
            .collect();
        format!(
            "merge: not yet: {}{}",
            if missing.is_empty() {
                String::new()
            } else {
                format!("shard(s) {} not finished", missing.join(", "))
            },
            if journals.is_empty() {
                String::new()
            } else {
                format!(
                    "{}{} journal(s) present",
                    if missing.is_empty() { "" } else { "; " },
                    journals.len()
                )
            }
        )
    });
    if failures > 0 {
        lines.push(format!("failures: {failures} in total"));
    }
    Ok((lines, possible))
}

/// The lines of an ImageNet-P run (its own `sequences*` files), and whether merging is
/// possible now.
fn sequence_report(output: &std::path::Path) -> (Vec<String>, bool) {
    let p = sequences::progress(output);
    let mut lines = vec!["ImageNet-P sequence run".to_string()];
    let mut failures = 0;
    for s in &p.shards {
        let name = match s.shard {
            Some((k, n)) => format!("shard {k}/{n}"),
            None => "unsharded run".to_string(),
        };
        let state = match s.state {
            RunState::Finished => "finished",
            RunState::Running => "running",
            RunState::Interrupted => "interrupted (rerun the same command to resume)",
            RunState::NotStarted => "not started or no record yet",
        };
        let total = s.total.map_or("?".to_string(), |t| t.to_string());
        lines.push(format!(
            "{name}: {state}, {}/{total} sequences done, {} failure(s)",
            s.done, s.failures
        ));
        for f in s.failed.iter().take(5) {
            lines.push(format!("    failed: {f}"));
        }
        if s.failures > 5 {
            lines.push(format!(
                "    … {} more (see {})",
                s.failures - 5,
                sequences::status_file(s.shard)
            ));
        }
        failures += s.failures;
    }
    let possible = matches!(p.merge, Some(Ok(_)));
    lines.push(match &p.merge {
        Some(Ok(n)) => format!(
            "merge: possible ({n} sequences, every part checked){}",
            if p.merged {
                "; sequences.jsonl exists (the last shard merged, or `imgcorrupt merge` ran)"
            } else {
                ""
            }
        ),
        Some(Err(e)) => format!("merge: not yet: {e}"),
        None if p.merged && p.shards.iter().all(|s| s.state == RunState::Finished) => {
            "merge: not needed (sequences.jsonl is complete)".to_string()
        }
        None => "merge: not needed (unsharded run)".to_string(),
    });
    if failures > 0 {
        lines.push(format!("failures: {failures} in total"));
    }
    (lines, possible)
}

/// Run `status`.
pub fn run(a: Args) -> anyhow::Result<()> {
    let (lines, _) = report(&a.output)?;
    for l in lines {
        println!("{l}");
    }
    Ok(())
}
