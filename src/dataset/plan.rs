//! Stage 2, plan: what this process will make, decided before anything is made.
//!
//! Takes the [`Dataset`] of discovery, the cells, the format choice and the shard; returns a
//! [`Plan`]: one work item per source file (image or carried annotation) in sorted order, with
//! the path of its outputs. `--shard K/N` keeps the items whose index in that order is ≡ K
//! (mod N), so the N shards are disjoint, cover everything and are balanced, whatever N. The
//! seed of every output is a function of the plan alone ([`output_seed`]).
//!
//! It is a stage of its own because everything after it (execution, the ledger of what is
//! done, the manifest) is indexed by the plan's (item, cell) pairs, and because nothing in it
//! depends on what is already in OUTPUT: the same INPUT and options give the same plan.
//!
//! # Seed rule (version 1)
//!
//! Each output's seed is
//! `derive_seed(run_seed, [source, corruption, severity])` ([`crate::rng::derive_seed`]) where
//! `source` is the UTF-8 bytes of the source file's path relative to INPUT with `/`
//! separators, `corruption` the catalogue name and `severity` its canonical text ([`Severity`]): one ASCII
//! digit for the levels 1–5 (the rule's text in the header says "severity digit" for that
//! reason, and is unchanged), the shortest decimal for a continuous severity (`2.5`). In
//! [`crate::RngMode::Numpy`] the seed is then masked to 32 bits (`seed & 0xFFFF_FFFF`, the
//! range of `np.random.seed`). The library is then called with `Settings::new(seed)` and the
//! run's RNG mode and preset. Nothing else enters, so the bytes of an output do not depend on
//! thread count, shard split, processing order, retries or resumption.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::discover::Dataset;
use super::{Cell, ImageFormatChoice, Layout, Severity};
use crate::catalogue::Corruption;
use crate::error::{Error, Result};
use crate::io::OutputFormat;

/// Version of the seed rule recorded in manifests (see the module docs).
pub const SEED_RULE: &str = "v1: derive_seed(run_seed, [source relative path, corruption name, severity digit]); numpy mode: & 0xFFFFFFFF";

/// The per-output seed of the seed rule (module docs).
pub fn output_seed(
    run_seed: u64,
    source: &str,
    corruption: Corruption,
    severity: Severity,
    numpy: bool,
) -> u64 {
    let s = crate::rng::derive_seed(
        run_seed,
        &[
            source.as_bytes(),
            corruption.name().as_bytes(),
            severity.to_string().as_bytes(),
        ],
    );
    if numpy {
        s & 0xFFFF_FFFF
    } else {
        s
    }
}

/// INPUT and OUTPUT of a run, checked so that no output can land in the input tree.
#[derive(Clone, Debug)]
pub struct Roots {
    /// INPUT, canonical.
    input: PathBuf,
    /// OUTPUT, made canonical as far as it exists ([`canonical_prefix`]).
    output: PathBuf,
}

impl Roots {
    /// Check that `input` is a folder, that `output` is neither it nor inside it, and that
    /// `input` does not lie inside one of the output cells of `cells`.
    pub fn check(input: &Path, output: &Path, cells: &[Cell]) -> Result<Roots> {
        if !input.is_dir() {
            return Err(Error::InvalidArgument(format!(
                "{}: input folder does not exist or is not a folder",
                input.display()
            )));
        }
        let cin = fs::canonicalize(input).map_err(|source| Error::Io {
            path: input.to_path_buf(),
            source,
        })?;
        let cout = canonical_prefix(output);
        if cout.starts_with(&cin) {
            return Err(Error::InvalidArgument(format!(
                "output {} is {} input {}: refusing to write into the input tree",
                output.display(),
                if cout == cin {
                    "the same folder as"
                } else {
                    "inside"
                },
                input.display()
            )));
        }
        for cell in cells {
            if cin.starts_with(cout.join(cell.corruption.name())) {
                return Err(Error::InvalidArgument(format!(
                    "input {} lies inside an output cell of {}: refusing",
                    input.display(),
                    output.display()
                )));
            }
        }
        Ok(Roots {
            input: cin,
            output: cout,
        })
    }

    /// The folder discovery must not read sources from: outputs are never read back as
    /// sources through a link in INPUT (unless INPUT itself lies under OUTPUT, e.g. `-o /data`
    /// for `/data/imagenet/val`: then nothing is excluded).
    pub fn exclude(&self) -> Option<&Path> {
        (!self.input.starts_with(&self.output)).then_some(self.output.as_path())
    }
}

/// `path` made absolute and canonical, so that "OUTPUT inside INPUT" can be checked before
/// OUTPUT exists: component by component, an existing prefix is resolved by the file system
/// (links), and a missing component is taken literally — `create_dir_all` will make it a
/// real folder, so a `..` after it leads back to its parent (`new/../input/x` is
/// `input/x`, not a path outside INPUT).
fn canonical_prefix(path: &Path) -> PathBuf {
    use std::path::Component;
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut c = PathBuf::new();
    for comp in abs.components() {
        match comp {
            Component::Prefix(_) | Component::RootDir => c.push(comp.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                c.pop();
            }
            Component::Normal(n) => {
                c.push(n);
                if let Ok(real) = fs::canonicalize(&c) {
                    c = real;
                }
            }
        }
    }
    c
}

/// The work of this process: items × cells. Execution and the ledger address an output by
/// (index into `items`, index into `cells`).
#[derive(Clone, Debug)]
pub struct Plan {
    /// Work items of this shard, sorted by source path.
    pub items: Vec<Item>,
    /// Cells to produce, in the order given.
    pub cells: Vec<Cell>,
    /// Folders made in every cell (the dataset's class folders, [`Dataset::folders`]),
    /// relative to the cell, sorted. The same for every shard; each is listed in the manifest
    /// as a `folder` record in every cell, empty or not, so that the manifest alone says which
    /// classes a cell has (ImageFolder and robustbench derive labels from that list).
    pub folders: Vec<String>,
    /// Folder layout of the cells.
    pub layout: Layout,
}

impl Plan {
    /// The plan of shard `shard` of a dataset (see [`items`] and [`shard`]); annotation files
    /// are carried when `carry`.
    pub fn new(
        ds: &Dataset,
        choice: ImageFormatChoice,
        carry: bool,
        cells: Vec<Cell>,
        shard_of: Option<(usize, usize)>,
    ) -> Result<Plan> {
        let all = items(ds, choice, carry)?;
        Ok(Plan {
            items: shard(all, shard_of),
            cells,
            folders: ds.folders.clone(),
            layout: ds.layout,
        })
    }
}

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
    /// Folder layout of the cells (the same for every item of a plan).
    pub layout: Layout,
}

impl Item {
    /// Path of the output in `cell`, relative to OUTPUT: `<cell folder>/<cell_path>`, the
    /// cell folder being `<corruption>/<severity>` ([`Layout::cell_dir`]).
    pub fn output(&self, cell: Cell) -> String {
        format!("{}/{}", self.layout.cell_dir(cell), self.cell_path)
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
        let placed = ds.placement.get(s).unwrap_or(s);
        items.push(Item {
            source: s.clone(),
            kind: ItemKind::Image,
            cell_path: with_extension(placed, format),
            format: Some(format),
            layout: ds.layout,
        });
    }
    if carry {
        for s in &ds.carried {
            items.push(Item {
                source: s.clone(),
                kind: ItemKind::Carried,
                cell_path: s.clone(),
                format: None,
                layout: ds.layout,
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
                layout: Layout::Cells,
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
