//! Stage 2 for webdataset outputs: the *units* of the run, each one output shard per cell.
//!
//! * webdataset INPUT: one unit per input shard, named like it;
//! * any other INPUT with `--output-format wds`: the sorted images of the dataset grouped into
//!   units of `--wds-shard-size` images (`1000`) or source bytes (`500MB`), named `000000`,
//!   `000001`, … The grouping is decided from the sources alone (count, or the sizes of the
//!   source files), so every cell has the same shard boundaries, and a resumed or sharded
//!   run plans the same units.
//!
//! `--shard K/N` keeps the units whose index is ≡ K (mod N): every N-th input *tar*.
//!
//! # Seed rule for webdataset input
//!
//! The seed rule of [`crate::dataset::plan`] with `source` = `<shard name>/<key>` (the
//! shard's name without `.tar`, a `/`, the sample's key) in place of the relative path. For
//! folder input written as shards, `source` stays the relative path, so the image members are
//! byte-identical to the files a folder run writes.

use std::path::PathBuf;

use super::discover::Shard;
use super::Layout;
use crate::dataset::plan::Item;
use crate::dataset::Cell;
use crate::error::{Error, Result};

/// How `--output-format wds` cuts the images of a folder dataset into shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardSize {
    /// At most this many images per shard.
    Count(usize),
    /// A new shard starts when the sources of the current one reach this many bytes.
    Bytes(u64),
}

impl std::str::FromStr for ShardSize {
    type Err = String;
    /// `1000` (images), or bytes with a unit: `500MB`, `2GB`, `64KiB`, `1000000B`.
    fn from_str(s: &str) -> std::result::Result<ShardSize, String> {
        let t = s.trim();
        let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let n: u64 = t[..digits]
            .parse()
            .map_err(|_| format!("shard size `{s}`: expected a count (1000) or bytes (500MB)"))?;
        if n == 0 {
            return Err(format!("shard size `{s}` must be positive"));
        }
        let unit = t[digits..].trim().to_ascii_lowercase();
        let mul: u64 = match unit.as_str() {
            "" => return Ok(ShardSize::Count(n as usize)),
            "b" => 1,
            "kb" | "k" => 1000,
            "mb" | "m" => 1_000_000,
            "gb" | "g" => 1_000_000_000,
            "kib" => 1 << 10,
            "mib" => 1 << 20,
            "gib" => 1 << 30,
            _ => {
                return Err(format!(
                    "shard size `{s}`: unknown unit `{unit}` (B, KB, MB, GB, KiB, MiB, GiB)"
                ))
            }
        };
        Ok(ShardSize::Bytes(n.saturating_mul(mul)))
    }
}

/// Where a unit's samples come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// An input shard.
    Tar(Shard),
    /// Image files of a folder dataset (items of [`crate::dataset::plan::items`]), with
    /// their sample keys.
    Files(Vec<(Item, String)>),
}

/// One output shard per cell (or one shard, [`Layout::InSample`]).
#[derive(Clone, Debug)]
pub struct Unit {
    /// Name of the output shard(s), without `.tar`.
    pub name: String,
    /// Its samples.
    pub source: Source,
}

impl Unit {
    /// The output shard of the unit in `cell` (relative to OUTPUT); `None`: the one shard of
    /// [`Layout::InSample`].
    pub fn output(&self, cell: Option<Cell>) -> String {
        match cell {
            Some(c) => format!("{}/{}/{}.tar", c.corruption.name(), c.severity, self.name),
            None => format!("{}.tar", self.name),
        }
    }

    /// The `source` field of the unit's shard records: the input shard's path relative to
    /// INPUT (`<name>.tar`), or for folder input the unit's own name.
    pub fn source_name(&self) -> String {
        format!("{}.tar", self.name)
    }
}

/// The outputs of a unit: `(cell, path relative to OUTPUT)`.
pub fn outputs(unit: &Unit, cells: &[Cell], layout: Layout) -> Vec<(Option<Cell>, String)> {
    match layout {
        Layout::Cells => cells
            .iter()
            .map(|&c| (Some(c), unit.output(Some(c))))
            .collect(),
        Layout::InSample => vec![(None, unit.output(None))],
    }
}

/// The seed rule recorded in the manifests of webdataset input (module docs).
pub const SEED_RULE: &str = "v1 webdataset: derive_seed(run_seed, [<shard name>/<key>, corruption name, severity digit]); numpy mode: & 0xFFFFFFFF";

/// The seed source of a sample of an input shard (module docs).
pub fn seed_source(shard: &str, key: &str) -> String {
    format!("{shard}/{key}")
}

/// Units of webdataset input: one per shard.
pub fn shard_units(shards: Vec<Shard>) -> Vec<Unit> {
    shards
        .into_iter()
        .map(|s| Unit {
            name: s.name.clone(),
            source: Source::Tar(s),
        })
        .collect()
}

/// The sample key of a folder item: its output path without the extension, with dots in
/// the file name replaced by `_` (a dot would end the key for webdataset readers).
pub fn folder_key(cell_path: &str) -> String {
    let stem = match cell_path.rsplit_once('.') {
        Some((s, e)) if !e.contains('/') => s,
        _ => cell_path,
    };
    let (dir, base) = match stem.rsplit_once('/') {
        Some((d, b)) => (Some(d), b),
        None => (None, stem),
    };
    let base = base.replace('.', "_");
    match dir {
        Some(d) => format!("{d}/{base}"),
        None => base,
    }
}

/// Units of a folder dataset written as shards (module docs). `input` is INPUT, for the
/// sizes of the sources with [`ShardSize::Bytes`].
pub fn folder_units(
    items: Vec<Item>,
    size: ShardSize,
    input: &std::path::Path,
) -> Result<Vec<Unit>> {
    let mut keys = std::collections::HashMap::new();
    let mut units: Vec<Unit> = Vec::new();
    let mut current: Vec<(Item, String)> = Vec::new();
    let mut bytes = 0u64;
    let flush = |units: &mut Vec<Unit>, current: &mut Vec<(Item, String)>| {
        if !current.is_empty() {
            units.push(Unit {
                name: format!("{:06}", units.len()),
                source: Source::Files(std::mem::take(current)),
            });
        }
    };
    for it in items {
        let key = folder_key(&it.cell_path);
        if let Some(other) = keys.insert(key.clone(), it.source.clone()) {
            return Err(Error::InvalidArgument(format!(
                "`{other}` and `{}` would both get the sample key `{key}` in the shards",
                it.source
            )));
        }
        let len = match size {
            ShardSize::Bytes(_) => std::fs::metadata(input.join(&it.source))
                .map(|m| m.len())
                .unwrap_or(0),
            ShardSize::Count(_) => 0,
        };
        let full = match size {
            ShardSize::Count(n) => current.len() >= n,
            ShardSize::Bytes(b) => !current.is_empty() && bytes + len > b,
        };
        if full {
            flush(&mut units, &mut current);
            bytes = 0;
        }
        bytes += len;
        current.push((it, key));
    }
    flush(&mut units, &mut current);
    Ok(units)
}

/// The units of shard `k` of `n` (all when `None`).
pub fn shard(units: Vec<Unit>, shard: Option<(usize, usize)>) -> Vec<Unit> {
    match shard {
        None => units,
        Some((k, n)) => units
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == k)
            .map(|(_, u)| u)
            .collect(),
    }
}

/// A unit's input file for error messages.
pub fn source_path(unit: &Unit) -> Option<PathBuf> {
    match &unit.source {
        Source::Tar(s) => Some(s.path.clone()),
        Source::Files(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::plan::ItemKind;

    #[test]
    fn shard_sizes_parse() {
        assert_eq!("1000".parse(), Ok(ShardSize::Count(1000)));
        assert_eq!("500MB".parse(), Ok(ShardSize::Bytes(500_000_000)));
        assert_eq!("64KiB".parse(), Ok(ShardSize::Bytes(65536)));
        assert!("0".parse::<ShardSize>().is_err());
        assert!("5 parsecs".parse::<ShardSize>().is_err());
    }

    #[test]
    fn folder_keys_and_count_grouping() {
        assert_eq!(folder_key("n01/a.b.JPEG"), "n01/a_b");
        assert_eq!(folder_key("x.d/y.png"), "x.d/y");
        let items: Vec<Item> = (0..5)
            .map(|i| Item {
                source: format!("{i}.png"),
                kind: ItemKind::Image,
                cell_path: format!("{i}.png"),
                format: None,
                layout: crate::dataset::Layout::Cells,
            })
            .collect();
        let units = folder_units(
            items.clone(),
            ShardSize::Count(2),
            std::path::Path::new("."),
        )
        .unwrap();
        let names: Vec<_> = units.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["000000", "000001", "000002"]);
        let kept = shard(units, Some((1, 2)));
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].name, "000001");
        let mut dup = items;
        dup[1].cell_path = "0.jpg".into();
        assert!(folder_units(dup, ShardSize::Count(2), std::path::Path::new(".")).is_err());
    }
}
