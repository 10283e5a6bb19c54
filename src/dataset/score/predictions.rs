//! The predictions mode of `score` (`imgcorrupt score --dataset`, Python's
//! `imgcorrupt.score(file, dataset=…)`): top-1 errors per (corruption, severity) from a
//! `path,label,pred` file over a generated dataset, the cell of every path taken from the run's
//! manifest (never guessed from the folder names). Outputs of continuous-severity and
//! scheduled cells (issue 16) are tallied apart ([`crate::metrics::continuous`]): their errors
//! have no AlexNet normaliser.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::dataset::record::manifest;
use crate::dataset::Severity;
use crate::error::{Error, Result};
use crate::metrics::continuous::Tally;
use crate::metrics::{Measure, Results};

fn invalid(message: String) -> Error {
    Error::InvalidArgument(message)
}

/// Where a prediction's path belongs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cell {
    Clean,
    Corrupted(&'static str, u8),
    /// A cell at a severity that is not a level 1..=5 (`fog/2.5/`).
    Continuous(&'static str, Severity),
    /// An image of a `schedule/` cell, at its scheduled severity.
    Scheduled(&'static str, Severity),
}

/// The cell of each path of the dataset at `root`.
struct Index {
    cells: HashMap<String, Cell>,
    /// CIFAR format: per corruption file, the severities of its row blocks and rows per block.
    /// A continuous-severity array (`fog_s2.5.npy`) has the one block of its severity, a
    /// schedule run's array one block of [`Severity::SCHEDULED`].
    arrays: HashMap<String, (&'static str, Vec<Severity>, usize)>,
    /// CIFAR format, a `--severity-schedule` run: each row's scheduled severity (from the
    /// schedule the manifest records).
    scheduled: Vec<Severity>,
}

impl Index {
    fn load(root: &Path) -> Result<Index> {
        let mut cells = HashMap::new();
        let mut arrays = HashMap::new();
        let mut scheduled = Vec::new();
        let jsonl = root.join("manifest.jsonl");
        let json = root.join("manifest.json");
        if jsonl.is_file() {
            let mut sources = HashSet::new();
            manifest::stream(
                &jsonl,
                false,
                |_| {},
                |r| {
                    let Ok(c) = crate::Corruption::from_name(&r.corruption) else {
                        return Ok(());
                    };
                    let cell = match (r.severity.as_level(), r.scheduled_severity) {
                        (Some(s), _) => Cell::Corrupted(c.name(), s),
                        (None, Some(s)) if r.severity == Severity::SCHEDULED => {
                            Cell::Scheduled(c.name(), s)
                        }
                        // a schedule cell's folder records: no image severity
                        (None, _) if r.severity == Severity::SCHEDULED => return Ok(()),
                        (None, _) => Cell::Continuous(c.name(), r.severity),
                    };
                    cells.insert(r.output, cell);
                    sources.insert(r.source);
                    Ok(())
                },
            )?;
            for s in sources {
                cells.entry(s).or_insert(Cell::Clean);
            }
        } else if json.is_file() {
            let text = std::fs::read_to_string(&json).map_err(|source| Error::Io {
                path: json.clone(),
                source,
            })?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| invalid(format!("{}: not JSON: {e}", json.display())))?;
            let n = v["n"]
                .as_u64()
                .ok_or_else(|| invalid("manifest.json: no `n`".into()))?
                as usize;
            let sev: Vec<Severity> = v["severities"]
                .as_array()
                .ok_or_else(|| invalid("manifest.json: no `severities`".into()))?
                .iter()
                .filter_map(|s| s.as_u64().map(|s| Severity::from(s as u8)))
                .collect();
            if let Some(text) = v["schedule"].as_str() {
                scheduled = crate::dataset::schedule::Schedule::from_description(text)
                    .map_err(|e| invalid(format!("{}: {e}", json.display())))?
                    .severities(n);
            }
            for a in v["arrays"].as_array().into_iter().flatten() {
                let name = a["name"].as_str().unwrap_or_default();
                if let Ok(c) = crate::Corruption::from_name(name) {
                    let file = a["file"].as_str().unwrap_or_default().to_string();
                    let blocks = match a.get("severity") {
                        Some(s) => {
                            vec![serde_json::from_value::<Severity>(s.clone()).map_err(|e| {
                                invalid(format!("manifest.json: {file}: severity: {e}"))
                            })?]
                        }
                        None => sev.clone(),
                    };
                    arrays.insert(file, (c.name(), blocks, n));
                }
            }
        } else {
            return Err(invalid(format!(
                "{}: no manifest.jsonl or manifest.json (is it the OUTPUT of `imgcorrupt generate`?)",
                root.display()
            )));
        }
        Ok(Index {
            cells,
            arrays,
            scheduled,
        })
    }

    fn cell(&self, path: &str) -> Option<Cell> {
        if path.starts_with("clean/") || path.starts_with("clean:") {
            return Some(Cell::Clean);
        }
        if let Some(c) = self.cells.get(path) {
            return Some(*c);
        }
        let (file, row) = path.rsplit_once(':')?;
        let (name, sev, n) = self.arrays.get(file)?;
        let row: usize = row.parse().ok()?;
        match *sev.get(row / n)? {
            Severity::SCHEDULED => self.scheduled.get(row).map(|&s| Cell::Scheduled(name, s)),
            s => Some(match s.as_level() {
                Some(l) => Cell::Corrupted(name, l),
                None => Cell::Continuous(name, s),
            }),
        }
    }
}

/// Read `predictions` (CSV `path,label,pred`) over the dataset at `root` into an error table
/// of the levels 1..=5 and the tally of continuous and scheduled cells.
pub fn results(predictions: &Path, root: &Path) -> Result<(Results, Tally)> {
    let index = Index::load(root)?;
    let text = std::fs::read_to_string(predictions).map_err(|source| Error::Io {
        path: predictions.to_path_buf(),
        source,
    })?;
    let name = predictions.display();
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, h)) if h.split(',').map(str::trim).eq(["path", "label", "pred"]) => {}
        _ => {
            return Err(invalid(format!(
                "{name}:1: expected the header `path,label,pred`"
            )))
        }
    }
    // (wrong, total) per cell
    let mut counts: BTreeMap<Cell, (u64, u64)> = BTreeMap::new();
    let mut tally = Tally::default();
    for (i, line) in lines {
        let f: Vec<&str> = line.rsplitn(3, ',').map(str::trim).collect();
        let [pred, label, path] = f.as_slice() else {
            return Err(invalid(format!(
                "{name}:{}: expected `path,label,pred`",
                i + 1
            )));
        };
        let cell = index.cell(path).ok_or_else(|| {
            invalid(format!(
                "{name}:{}: `{path}` is neither an output nor a source in {}'s manifest",
                i + 1,
                root.display()
            ))
        })?;
        let wrong = label != pred;
        match cell {
            Cell::Continuous(c, s) => tally.continuous(c, s.value(), wrong),
            Cell::Scheduled(c, s) => tally.scheduled(c, s.value(), wrong),
            Cell::Clean | Cell::Corrupted(..) => {
                let e = counts.entry(cell).or_default();
                e.0 += u64::from(wrong);
                e.1 += 1;
            }
        }
    }
    let mut r = Results::new(Measure::Error);
    for (cell, (wrong, total)) in counts {
        let err = wrong as f64 / total as f64;
        match cell {
            Cell::Clean => r.push("clean", 0, err, &name.to_string())?,
            Cell::Corrupted(c, s) => r.push(c, s as i64, err, &name.to_string())?,
            Cell::Continuous(..) | Cell::Scheduled(..) => unreachable!("tallied apart"),
        }
    }
    Ok((r, tally))
}
