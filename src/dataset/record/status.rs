//! Progress files: what `imgcorrupt status OUTPUT` reads.
//!
//! Each process of a run (unsharded, or one `--shard K/N`) keeps `manifest.status.json` or
//! `manifest.shard-K-of-N.status.json` in OUTPUT up to date (named like the manifest files, so
//! that tools which set those aside set these aside too): how many of its work units (source images,
//! or shards for webdataset outputs) are done, the failures so far, and whether it finished.
//! The file is replaced atomically, at most every couple of seconds while running and once at
//! the end, so a person watching a 1000-task array reads consistent numbers at no cost to the
//! run. The manifest, its parts and journals stay the record of what exists; this file only
//! adds what they cannot say (the total planned and the failures).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Failures kept in a status file (the count is always exact).
const MAX_LISTED: usize = 200;

/// The progress of one process.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Shard (K, N), `None` for an unsharded run.
    pub shard: Option<(usize, usize)>,
    /// What is counted: `images` or `shards`.
    pub unit: String,
    /// Units planned for this process.
    pub total: usize,
    /// Units finished (made, or found done).
    pub done: usize,
    /// Number of failures.
    pub failures: usize,
    /// The first failures (at most 200).
    pub failed: Vec<String>,
    /// Whether the process finished (its manifest or part is written).
    pub finished: bool,
}

/// File name of the status of `shard`.
pub fn file_name(shard: Option<(usize, usize)>) -> String {
    match shard {
        None => "manifest.status.json".into(),
        Some((k, n)) => format!("manifest.shard-{k}-of-{n}.status.json"),
    }
}

/// Every status file in `output`, sorted by shard.
pub fn read_all(output: &Path) -> Vec<(PathBuf, Status)> {
    let mut v: Vec<(PathBuf, Status)> = fs::read_dir(output)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("manifest.") && n.ends_with(".status.json")
        })
        .filter_map(|e| {
            let text = fs::read_to_string(e.path()).ok()?;
            Some((e.path(), serde_json::from_str(&text).ok()?))
        })
        .collect();
    v.sort_by_key(|(_, s)| s.shard.map(|(k, n)| (n, k)));
    v
}

/// A status file kept up to date by a running process.
pub struct Tracker {
    path: PathBuf,
    every: Duration,
    state: Mutex<(Status, Instant)>,
}

impl Tracker {
    /// Start tracking (writes the file at once); the file is rewritten at most once per
    /// `every` while running (units that take long, such as shards, can use zero).
    pub fn new(
        output: &Path,
        shard: Option<(usize, usize)>,
        unit: &str,
        total: usize,
        every: Duration,
    ) -> Tracker {
        Tracker::at(output.join(file_name(shard)), shard, unit, total, every)
    }

    /// As [`Tracker::new`], writing to `path` (ImageNet-P runs keep their own
    /// `sequences[.shard-K-of-N].status.json` beside their own manifest files).
    pub fn at(
        path: PathBuf,
        shard: Option<(usize, usize)>,
        unit: &str,
        total: usize,
        every: Duration,
    ) -> Tracker {
        let t = Tracker {
            path,
            every,
            state: Mutex::new((
                Status {
                    shard,
                    unit: unit.into(),
                    total,
                    ..Status::default()
                },
                Instant::now(),
            )),
        };
        t.write(&t.state.lock().expect("lock").0);
        t
    }

    fn write(&self, s: &Status) {
        // Best effort: a status file that cannot be written must not fail the run.
        let tmp = self.path.with_extension("json.tmp");
        if fs::write(&tmp, crate::dataset::record::manifest::line(s)).is_ok() {
            let _ = fs::rename(&tmp, &self.path);
        }
    }

    /// `n` more units done and these failures (the file is rewritten at most once per
    /// `every`).
    pub fn advance(&self, n: usize, failures: &[String]) {
        let mut g = self.state.lock().expect("lock");
        g.0.done += n;
        g.0.failures += failures.len();
        for f in failures {
            if g.0.failed.len() < MAX_LISTED {
                g.0.failed.push(f.clone());
            }
        }
        if g.1.elapsed() >= self.every {
            g.1 = Instant::now();
            self.write(&g.0);
        }
    }

    /// The process finished: the final counts, with the complete sorted failure list's head.
    pub fn finish(&self, failed: &[String]) {
        let mut g = self.state.lock().expect("lock");
        g.0.finished = true;
        g.0.failures = failed.len();
        g.0.failed = failed.iter().take(MAX_LISTED).cloned().collect();
        self.write(&g.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_writes_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("imgc-status-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let t = Tracker::new(&dir, Some((1, 4)), "shards", 3, Duration::ZERO);
        t.advance(2, &["a.tar: key `x`: broken".into()]);
        let all = read_all(&dir);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1.total, 3);
        assert!(!all[0].1.finished);
        t.finish(&["a.tar: key `x`: broken".into()]);
        let s = &read_all(&dir)[0].1;
        assert!(s.finished);
        assert_eq!((s.done, s.failures, s.shard), (2, 1, Some((1, 4))));
        fs::remove_dir_all(&dir).unwrap();
    }
}
