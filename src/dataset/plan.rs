//! Step 2: the work. One work item per source file (image or carried annotation), in sorted
//! order; `--shard K/N` keeps the items whose index in that order is ≡ K (mod N), so the N
//! shards are disjoint, cover everything and are balanced, whatever N.

use std::collections::HashMap;

use super::discover::Dataset;
use super::{Cell, ImageFormatChoice};
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
