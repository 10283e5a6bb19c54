//! The ledger: which planned outputs exist (resume state), held in memory for the run.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use super::manifest::{Kind, Record};
use crate::dataset::plan::{Item, ItemKind, Plan};
use crate::dataset::Cell;
use crate::digest::{hex, parse_hex32};

/// What the record of an image output carries besides hashes: its seed, its style
/// (`stylize`: name, SHA-256) and, in a scheduled cell, the image's severity.
pub type OutputMeta = (
    u64,
    Option<(String, String)>,
    Option<crate::dataset::Severity>,
);

/// Which outputs of a plan exist, and their SHA-256: the resume check and the source of the
/// final manifest. Dense (item × cell), so it costs 33 bytes per planned output and nothing
/// per record read, however large the manifests on disk are.
pub struct Ledger {
    items: Vec<Item>,
    cells: Vec<Cell>,
    folders: Vec<String>,
    layout: crate::dataset::Layout,
    cell_index: HashMap<String, usize>,
    item_index: HashMap<String, usize>,
    out: Mutex<Vec<Option<[u8; 32]>>>,
    src: Mutex<Vec<Option<[u8; 32]>>>,
}

impl Ledger {
    /// An empty ledger for the plan's items × cells.
    pub fn new(plan: Plan) -> Ledger {
        let Plan {
            items,
            cells,
            folders,
            layout,
        } = plan;
        let cell_index = cells
            .iter()
            .enumerate()
            .map(|(i, c)| (layout.cell_dir(*c), i))
            .collect();
        let item_index = items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.cell_path.clone(), i))
            .collect();
        let n = items.len() * cells.len();
        Ledger {
            out: Mutex::new(vec![None; n]),
            src: Mutex::new(vec![None; items.len()]),
            items,
            cells,
            folders,
            layout,
            cell_index,
            item_index,
        }
    }

    /// The folders made in every cell ([`Plan::folders`]).
    pub fn folders(&self) -> &[String] {
        &self.folders
    }

    /// The folder layout of the cells.
    pub fn layout(&self) -> crate::dataset::Layout {
        self.layout
    }

    /// The `folder` records of the plan's folders in every cell, sorted by output path.
    pub fn folder_records(&self) -> Vec<Record> {
        let mut v: Vec<Record> = self
            .cells
            .iter()
            .flat_map(|cell| {
                self.folders.iter().map(move |f| Record {
                    output: format!("{}/{f}", self.layout.cell_dir(*cell)),
                    source: f.clone(),
                    source_sha256: String::new(),
                    sha256: String::new(),
                    kind: Kind::Folder,
                    corruption: cell.corruption.name().into(),
                    severity: cell.severity,
                    scheduled_severity: None,
                    seed: None,
                    style: None,
                    style_sha256: None,
                })
            })
            .collect();
        v.sort_by(|a, b| a.output.cmp(&b.output));
        v
    }

    /// The planned items.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The planned cells.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// (item, cell) of an output path of this plan.
    pub fn locate(&self, output: &str) -> Option<(usize, usize)> {
        let (corr, rest) = output.split_once('/')?;
        let (sev, path) = rest.split_once('/')?;
        let c = *self.cell_index.get(&format!("{corr}/{sev}"))?;
        let i = *self.item_index.get(path)?;
        Some((i, c))
    }

    /// Remember a record read from disk if it belongs to the plan.
    pub fn load(&self, r: &Record) {
        if let (Some((i, c)), Some(sha), Some(src)) = (
            self.locate(&r.output),
            parse_hex32(&r.sha256),
            parse_hex32(&r.source_sha256),
        ) {
            self.set(i, c, Some(sha), Some(src));
        }
    }

    /// The recorded SHA-256 of output (item, cell).
    pub fn get(&self, i: usize, c: usize) -> Option<[u8; 32]> {
        self.out.lock().expect("lock")[i * self.cells.len() + c]
    }

    /// The recorded SHA-256 of item `i`'s source file (from the journal/manifest records).
    pub fn source(&self, i: usize) -> Option<[u8; 32]> {
        self.src.lock().expect("lock")[i]
    }

    /// Record (or forget, with `None`) output (item, cell) and its source hash.
    pub fn set(&self, i: usize, c: usize, sha: Option<[u8; 32]>, src: Option<[u8; 32]>) {
        self.out.lock().expect("lock")[i * self.cells.len() + c] = sha;
        if src.is_some() {
            self.src.lock().expect("lock")[i] = src;
        }
    }

    /// Every recorded output as a manifest record, sorted by output path; `meta_of` gives
    /// the seed of an image output, for `stylize` its style (name, SHA-256), and for a
    /// scheduled cell the image's severity.
    pub fn into_records(
        self,
        meta_of: impl Fn(&str, Cell) -> OutputMeta,
    ) -> impl Iterator<Item = Record> {
        let out = self.out.into_inner().expect("lock");
        let src = self.src.into_inner().expect("lock");
        let (items, cells) = (self.items, self.cells);
        // Output paths are `<corruption>/<severity>/<cell_path>`: sorting by the cell prefix,
        // then by cell path, is sorting by the whole path (no prefix is a prefix of another).
        let mut cell_order: Vec<usize> = (0..cells.len()).collect();
        cell_order
            .sort_by_key(|&c| format!("{}/{}/", cells[c].corruption.name(), cells[c].severity));
        let mut item_order: Vec<usize> = (0..items.len()).collect();
        item_order.sort_by(|&a, &b| items[a].cell_path.cmp(&items[b].cell_path));
        LedgerRecords {
            out,
            src,
            items,
            cells,
            cell_order,
            item_order,
            ci: 0,
            ii: 0,
            meta_of,
        }
    }
}

/// Lazy iterator of [`Ledger::into_records`].
struct LedgerRecords<F> {
    out: Vec<Option<[u8; 32]>>,
    src: Vec<Option<[u8; 32]>>,
    items: Vec<Item>,
    cells: Vec<Cell>,
    cell_order: Vec<usize>,
    item_order: Vec<usize>,
    ci: usize,
    ii: usize,
    meta_of: F,
}

impl<F: Fn(&str, Cell) -> OutputMeta> Iterator for LedgerRecords<F> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        let nc = self.cells.len();
        while self.ci < self.cell_order.len() {
            if self.ii >= self.item_order.len() {
                self.ii = 0;
                self.ci += 1;
                continue;
            }
            let (c, i) = (self.cell_order[self.ci], self.item_order[self.ii]);
            self.ii += 1;
            let (Some(sha), Some(ssha)) = (self.out[i * nc + c], self.src[i]) else {
                continue;
            };
            let it = &self.items[i];
            let cell = self.cells[c];
            let image = it.kind == ItemKind::Image;
            let (seed, style, scheduled) = if image {
                let (seed, style, scheduled) = (self.meta_of)(&it.source, cell);
                (Some(seed), style, scheduled)
            } else {
                (None, None, None)
            };
            let (style, style_sha256) = match style {
                Some((n, s)) => (Some(n), Some(s)),
                None => (None, None),
            };
            return Some(Record {
                output: it.output(cell),
                source: it.source.clone(),
                source_sha256: hex(&ssha),
                sha256: hex(&sha),
                kind: if image { Kind::Image } else { Kind::Annotation },
                corruption: cell.corruption.name().into(),
                severity: cell.severity,
                scheduled_severity: scheduled,
                seed,
                style,
                style_sha256,
            });
        }
        None
    }
}

/// Which output paths belong to a plan (to drop stale file records of planned outputs).
pub struct PlanFilter {
    cells: HashSet<String>,
    paths: HashSet<String>,
}

impl PlanFilter {
    /// Whether `output` lies in one of the plan's cells.
    pub fn in_cells(&self, output: &str) -> bool {
        let mut parts = output.splitn(3, '/');
        match (parts.next(), parts.next()) {
            (Some(c), Some(s)) => self.cells.contains(&format!("{c}/{s}")),
            _ => false,
        }
    }

    /// The output paths of the ledger's plan.
    pub fn new(ledger: &Ledger) -> PlanFilter {
        PlanFilter {
            cells: ledger
                .cells()
                .iter()
                .map(|c| format!("{}/{}", c.corruption.name(), c.severity))
                .collect(),
            // a plan's folders too: their old `folder` records are replaced by this run's
            paths: ledger
                .items()
                .iter()
                .map(|i| i.cell_path.clone())
                .chain(ledger.folders.iter().cloned())
                .collect(),
        }
    }

    /// Whether `output` (relative to OUTPUT) is an output of the plan.
    pub fn contains(&self, output: &str) -> bool {
        let mut parts = output.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(c), Some(s), Some(p)) => {
                self.cells.contains(&format!("{c}/{s}")) && self.paths.contains(p)
            }
            _ => false,
        }
    }
}
