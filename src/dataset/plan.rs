//! Step 2: the work. One work item per source file (image or carried annotation), in sorted
//! order; `--shard K/N` keeps the items whose index in that order is ≡ K (mod N), so the N
//! shards are disjoint, cover everything and are balanced, whatever N.

use std::collections::HashMap;
use std::sync::Mutex;

use super::discover::Dataset;
use super::manifest::{Kind, Record};
use super::{Cell, ImageFormatChoice};
use crate::digest::{hex, parse_hex32};
use crate::error::{Error, Result};
use crate::io::OutputFormat;

/// What a work item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// An image, corrupted into every cell.
    Image,
    /// An annotation file, carried into every cell.
    Carried,
}

/// One source file and what becomes of it.
#[derive(Clone, Debug)]
pub struct Item {
    /// Path relative to INPUT, `/`-separated.
    pub source: String,
    /// Image or carried file.
    pub kind: ItemKind,
    /// Path of its outputs inside a cell (the extension may change with the format).
    pub cell_path: String,
    /// Encoder of the outputs (images only).
    pub format: Option<OutputFormat>,
}

impl Item {
    /// Path of the output in `cell`, relative to OUTPUT: `<corruption>/<severity>/<cell_path>`.
    pub fn output(&self, cell: Cell) -> String {
        format!(
            "{}/{}/{}",
            cell.corruption.name(),
            cell.severity,
            self.cell_path
        )
    }
}

/// Parse `K/N` (0 ≤ K < N).
pub fn parse_shard(spec: &str) -> std::result::Result<(usize, usize), String> {
    let (k, n) = spec
        .split_once('/')
        .ok_or_else(|| format!("shard `{spec}` must be K/N, e.g. 0/4"))?;
    let k: usize = k
        .trim()
        .parse()
        .map_err(|_| format!("shard index `{k}` is not a number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("shard count `{n}` is not a number"))?;
    if n == 0 || k >= n {
        return Err(format!(
            "shard {k}/{n}: need 0 ≤ K < N (shards are numbered from 0, like SLURM_ARRAY_TASK_ID with --array=0-{})",
            n.max(1) - 1
        ));
    }
    Ok((k, n))
}

/// Format of an image output: `same` follows the source extension.
pub fn output_format(source: &str, choice: ImageFormatChoice) -> Result<OutputFormat> {
    Ok(match choice {
        ImageFormatChoice::Jpeg => OutputFormat::Jpeg,
        ImageFormatChoice::Png => OutputFormat::Png,
        ImageFormatChoice::Webp => OutputFormat::WebP,
        ImageFormatChoice::Same => OutputFormat::from_path(std::path::Path::new(source))?,
    })
}

/// `source` with the extension the format needs (kept when it already fits, e.g. `.JPEG`).
fn with_extension(source: &str, format: OutputFormat) -> String {
    let (stem, ext) = match source.rsplit_once('.') {
        Some((s, e)) if !e.contains('/') => (s, e.to_ascii_lowercase()),
        _ => (source, String::new()),
    };
    let fits = match format {
        OutputFormat::Jpeg => ext == "jpg" || ext == "jpeg",
        OutputFormat::Png => ext == "png",
        OutputFormat::WebP => ext == "webp",
        OutputFormat::Bmp => ext == "bmp",
        OutputFormat::Tiff => ext == "tif" || ext == "tiff",
    };
    if fits {
        return source.to_string();
    }
    let new_ext = match format {
        OutputFormat::Jpeg => "jpg",
        OutputFormat::Png => "png",
        OutputFormat::WebP => "webp",
        OutputFormat::Bmp => "bmp",
        OutputFormat::Tiff => "tif",
    };
    format!("{stem}.{new_ext}")
}

/// All work items of a dataset, sorted by source path, with their output paths. Two sources
/// that would map to the same output path (e.g. `a.png` and `a.jpg` with `--image-format
/// jpeg`) are an error.
pub fn items(ds: &Dataset, choice: ImageFormatChoice, carry: bool) -> Result<Vec<Item>> {
    let mut items = Vec::with_capacity(ds.images.len() + ds.carried.len());
    for s in &ds.images {
        let format = output_format(s, choice)?;
        items.push(Item {
            source: s.clone(),
            kind: ItemKind::Image,
            cell_path: with_extension(s, format),
            format: Some(format),
        });
    }
    if carry {
        for s in &ds.carried {
            items.push(Item {
                source: s.clone(),
                kind: ItemKind::Carried,
                cell_path: s.clone(),
                format: None,
            });
        }
    }
    items.sort_by(|a, b| a.source.cmp(&b.source));
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for it in &items {
        if let Some(other) = seen.insert(&it.cell_path, &it.source) {
            return Err(Error::InvalidArgument(format!(
                "`{}` and `{}` would both be written as `{}`: use --image-format same",
                other, it.source, it.cell_path
            )));
        }
    }
    Ok(items)
}

/// The items of shard `k` of `n` (all items when `shard` is `None`).
pub fn shard(items: Vec<Item>, shard: Option<(usize, usize)>) -> Vec<Item> {
    match shard {
        None => items,
        Some((k, n)) => items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == k)
            .map(|(_, it)| it)
            .collect(),
    }
}

/// Which outputs of a plan exist, and their SHA-256: the resume check and the source of the
/// final manifest. Dense (item × cell), so it costs 33 bytes per planned output and nothing
/// per record read, however large the manifests on disk are.
pub struct Ledger {
    items: Vec<Item>,
    cells: Vec<Cell>,
    cell_index: HashMap<String, usize>,
    item_index: HashMap<String, usize>,
    out: Mutex<Vec<Option<[u8; 32]>>>,
    src: Mutex<Vec<Option<[u8; 32]>>>,
}

impl Ledger {
    /// An empty ledger for `items` × `cells`.
    pub fn new(items: Vec<Item>, cells: Vec<Cell>) -> Ledger {
        let cell_index = cells
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("{}/{}", c.corruption.name(), c.severity), i))
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
            cell_index,
            item_index,
        }
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
    /// the seed of an image output and, for `stylize`, its style (name, SHA-256).
    pub fn into_records(
        self,
        meta_of: impl Fn(&str, Cell) -> (u64, Option<(String, String)>),
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

impl<F: Fn(&str, Cell) -> (u64, Option<(String, String)>)> Iterator for LedgerRecords<F> {
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
            let (seed, style) = if image {
                let (seed, style) = (self.meta_of)(&it.source, cell);
                (Some(seed), style)
            } else {
                (None, None)
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
                seed,
                style,
                style_sha256,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_mapping() {
        assert_eq!(with_extension("n1/a.JPEG", OutputFormat::Jpeg), "n1/a.JPEG");
        assert_eq!(with_extension("a/b.png", OutputFormat::Jpeg), "a/b.jpg");
        assert_eq!(with_extension("x.d/b", OutputFormat::Png), "x.d/b.png");
    }

    #[test]
    fn shards_partition() {
        let items: Vec<Item> = (0..10)
            .map(|i| Item {
                source: format!("{i}"),
                kind: ItemKind::Image,
                cell_path: format!("{i}"),
                format: None,
            })
            .collect();
        let mut all: Vec<String> = (0..3)
            .flat_map(|k| shard(items.clone(), Some((k, 3))))
            .map(|i| i.source)
            .collect();
        all.sort();
        assert_eq!(all.len(), 10);
        all.dedup();
        assert_eq!(all.len(), 10);
        assert!(parse_shard("3/3").is_err());
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
    }
}
