//! Parameter tables ("presets") as data.
//!
//! The severity tables live in `corruptions/*.toml` and are embedded at build time, so the
//! numbers a benchmark uses are reviewable in one place and a user can swap them (`--preset
//! FILE`) without recompiling. A file must give every table and key (errors name the missing
//! or malformed key), unless it says `extends = "<built-in>"` in its `[preset]` table, in which
//! case what it leaves out is taken from that built-in preset.
//!
//! Each table belongs to one corruption: its struct (`Params`) and its range checks live in the
//! corruption's file (`src/corruptions/<family>/<name>.rs`), and a [`Preset`] is the
//! `[preset]` table plus one parsed table per catalogue row, each parsed by that row. The loader
//! here only reads text, applies `extends`, rejects unknown tables and asks every row for its
//! table, so a new operator never needs an edit here.
//!
//! Values are range-checked on load, the error naming the key and severity: every number must
//! be finite, and sizes are bounded so that no corruption can overflow an allocation (blur σs
//! and radii ≤ [`MAX_BLUR_PIXELS`], `snow.zoom` ≤ [`MAX_SNOW_ZOOM`], at most
//! [`MAX_ZOOM_FACTORS`] `zoom_blur` factors).

use serde::Deserialize;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::catalogue::{Corruption, CATALOGUE};
use crate::corruptions::params::{self, AnyParams};
use crate::error::{Error, Result};

pub use crate::corruptions::blur::zoom_blur::MAX_ZOOM_FACTORS;
pub use crate::corruptions::params::{Params, Row, MAX_BLUR_PIXELS};
pub use crate::corruptions::weather::snow::MAX_SNOW_ZOOM;

/// Built-in presets: (name, TOML text), one per `corruptions/*.toml` file (name = file stem),
/// collected by `build.rs` in file-name order.
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_presets.rs"));

/// Earlier revisions of built-in preset files whose tables equal today's (only comments
/// changed), as (preset name, SHA-256 of that revision's text). Manifests record the SHA-256
/// of the preset text a run used and refuse to resume or re-check outputs when it differs;
/// a comment-only edit must not strand outputs made before it, so those digests read as the
/// current one ([`current_digest`]). A revision that changes any value never goes here.
const EARLIER_REVISIONS: &[(&str, &str)] = &[
    // Until 0.1.0's docs move: comments cited a document outside the repository.
    (
        "imagecorruptions",
        "88a683a1e7ef6acd72e11b40c5dc1965d7801ec6dc13cf3e6c2dbd9e77deea75",
    ),
];

/// The preset digest to compare a manifest with: the SHA-256 of the built-in preset's current
/// text if `recorded` is one of its earlier comment-only revisions, else `recorded` itself.
pub fn current_digest(recorded: &str) -> String {
    EARLIER_REVISIONS
        .iter()
        .find(|(_, sha)| sha.eq_ignore_ascii_case(recorded))
        .and_then(|(name, _)| builtin_text(name).ok())
        .map(|text| crate::digest::sha256_hex(text.as_bytes()))
        .unwrap_or_else(|| recorded.to_string())
}

/// Names of the built-in presets.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

/// A complete set of parameter tables: the `[preset]` table and one table per catalogue row.
///
/// Read a corruption's table with [`Preset::params`], e.g.
/// `preset.params::<imgcorrupt::corruptions::weather::fog::Params>()`.
#[derive(Clone)]
pub struct Preset {
    info: PresetInfo,
    /// One parsed table per catalogue row, in catalogue order (index = [`Corruption::index`]).
    tables: Vec<Arc<AnyParams>>,
}

impl fmt::Debug for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preset")
            .field("info", &self.info)
            .field(
                "tables",
                &CATALOGUE.iter().map(|e| e.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The `[preset]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetInfo {
    /// Short name, recorded in manifests.
    pub name: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Built-in preset that fills what this one leaves out.
    #[serde(default)]
    pub extends: Option<String>,
    /// The preprocessing its tables were made for (`imagenet`, `inception`, `native`): the
    /// default `--geometry` of `generate` on an imagenet tree with this preset (e.g.
    /// `inception` for imagenet-c-299); inherited through `extends` like every key.
    #[serde(default)]
    pub geometry: Option<String>,
}

impl Preset {
    /// The default preset (`imagecorruptions`), parsed once.
    pub fn default_arc() -> Arc<Preset> {
        static DEFAULT: OnceLock<Arc<Preset>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                Arc::new(Preset::builtin("imagecorruptions").expect("built-in preset is valid"))
            })
            .clone()
    }

    /// A built-in preset by name.
    pub fn builtin(name: &str) -> Result<Preset> {
        let text = builtin_text(name)?;
        Preset::from_toml_str(text, name)
    }

    /// A built-in preset name, or else a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Preset> {
        if builtin_text(name_or_path).is_ok() && !Path::new(name_or_path).exists() {
            return Preset::builtin(name_or_path);
        }
        if let Some(e) = neither_builtin_nor_file(name_or_path) {
            return Err(e);
        }
        Preset::from_file(Path::new(name_or_path))
    }

    /// The exact TOML text [`Preset::load`] would parse for `name_or_path` (the built-in text
    /// or the file's contents), so that manifests can record a content hash of the tables used.
    pub fn source_text(name_or_path: &str) -> Result<String> {
        if let Ok(text) = builtin_text(name_or_path) {
            if !Path::new(name_or_path).exists() {
                return Ok(text.to_string());
            }
        }
        if let Some(e) = neither_builtin_nor_file(name_or_path) {
            return Err(e);
        }
        std::fs::read_to_string(name_or_path).map_err(|source| Error::Io {
            path: name_or_path.into(),
            source,
        })
    }

    /// The digest a manifest records for a preset's text ([`Preset::source_text`]): its
    /// SHA-256, and for a preset that `extends` a built-in one, the SHA-256 of its text and
    /// of that built-in's own digest, so that a change anywhere in the chain (e.g. a key
    /// added to tiny-imagenet-c, which imagenet-64-c extends) changes the digest of every
    /// preset that inherits it. Text that does not parse digests as its bytes (loading it
    /// reports why).
    pub fn digest_of(text: &str) -> String {
        Self::chain_digest(text, 0)
    }

    fn chain_digest(text: &str, depth: usize) -> String {
        let own = crate::digest::sha256_hex(text.as_bytes());
        let base = text.parse::<toml::Table>().ok().and_then(|t| {
            t.get("preset")?
                .get("extends")?
                .as_str()
                .map(str::to_string)
        });
        match base.and_then(|b| builtin_text(&b).ok()) {
            Some(parent) if depth < 8 => {
                let parent = Self::chain_digest(parent, depth + 1);
                crate::digest::sha256_hex(format!("{own}\nextends {parent}\n").as_bytes())
            }
            _ => own,
        }
    }

    /// Load a preset file.
    pub fn from_file(path: &Path) -> Result<Preset> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Preset::from_toml_str(&text, &path.display().to_string())
    }

    /// Parse preset TOML; `source_name` is used in error messages.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Preset> {
        let err = |message: String| Error::Preset {
            source_name: source_name.to_string(),
            message,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| err(e.to_string()))?;
        let extends = table
            .get("preset")
            .and_then(|p| p.get("extends"))
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err("key `preset.extends` must be a string".into()))
            })
            .transpose()?;
        let merged_text;
        let doc = match extends {
            None => params::Document::from_parts(text, table.clone()),
            Some(base_name) => {
                let mut merged = resolved_builtin(&base_name, 0).map_err(err)?;
                merge_tables(&mut merged, table.clone());
                merged_text = toml::to_string(&merged).map_err(|e| err(e.to_string()))?;
                params::Document::from_parts(&merged_text, merged)
            }
        };
        // A table no row reads is a typo (or a preset for a newer version): refuse it rather
        // than silently use the defaults of what was meant.
        if let Some(unknown) = table
            .keys()
            .find(|k| *k != "preset" && !CATALOGUE.iter().any(|e| e.name == k.as_str()))
        {
            return Err(err(format!(
                "unknown table `[{unknown}]` (known: preset, {})",
                CATALOGUE
                    .iter()
                    .map(|e| e.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let info = doc
            .pick::<PresetInfo>("preset")
            .map_err(err)?
            .ok_or_else(|| err("missing table `[preset]`".into()))?;
        if let Some(g) = &info.geometry {
            if !["imagenet", "inception", "native"].contains(&g.as_str()) {
                return Err(err(format!(
                    "key `preset.geometry`: unknown value `{g}`: expected one of imagenet, inception, native"
                )));
            }
        }
        let tables = CATALOGUE
            .iter()
            .map(|e| (e.parse)(&doc, e.name).map(Arc::from))
            .collect::<std::result::Result<_, String>>()
            .map_err(err)?;
        Ok(Preset { info, tables })
    }

    /// The `[preset]` table: name, description, `extends`.
    pub fn info(&self) -> &PresetInfo {
        &self.info
    }

    /// The table of the corruption whose `Params` type is `P` (every catalogue row has its own
    /// type), or `None` if `P` is no row's table.
    pub fn params<P: Params>(&self) -> Option<&P> {
        self.tables.iter().find_map(|t| t.downcast_ref::<P>())
    }

    /// The C-bar magnitudes (0–10 scale) of severities 1..5 of `corruption` in this preset;
    /// `None` for an operator without a `magnitude` row (every -C corruption).
    pub fn magnitudes(&self, corruption: Corruption) -> Option<[f64; 5]> {
        crate::corruptions::c_bar::magnitude_of(self.table(corruption))
    }

    /// The type-erased table of one catalogue row, for the row's apply function.
    pub(crate) fn table(&self, corruption: Corruption) -> &AnyParams {
        &*self.tables[corruption.index()]
    }
}

/// The TOML text of a built-in preset (recorded by hash in `generate` manifests).
pub fn builtin_text(name: &str) -> Result<&'static str> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .ok_or_else(|| Error::Preset {
            source_name: name.to_string(),
            message: format!(
                "no built-in preset of that name (known: {})",
                builtin_names().collect::<Vec<_>>().join(", ")
            ),
        })
}

/// The error for a preset argument that names no built-in preset and no existing file: it says
/// both, listing the built-in names (a bare "No such file" would not tell that a name was
/// looked up too).
fn neither_builtin_nor_file(name_or_path: &str) -> Option<Error> {
    if Path::new(name_or_path).exists() {
        return None;
    }
    match builtin_text(name_or_path) {
        Ok(_) => None,
        Err(Error::Preset {
            source_name,
            message,
        }) => Some(Error::Preset {
            source_name,
            message: format!("{message}, and no such file"),
        }),
        Err(e) => Some(e),
    }
}

/// Deep merge: keys of `over` replace those of `base`; sub-tables merge recursively.
/// A built-in preset's tables with its own `extends` chain applied first (a suite preset may
/// extend another suite's, e.g. imagenet-64-c extends tiny-imagenet-c which extends
/// imagecorruptions).
fn resolved_builtin(name: &str, depth: usize) -> std::result::Result<toml::Table, String> {
    let text = builtin_text(name).map_err(|_| {
        format!(
            "key `preset.extends`: unknown built-in preset `{name}` (known: {})",
            builtin_names().collect::<Vec<_>>().join(", ")
        )
    })?;
    let table: toml::Table = text.parse().expect("built-in preset parses");
    let base = table
        .get("preset")
        .and_then(|p| p.get("extends"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    match base {
        None => Ok(table),
        Some(b) if depth < 8 => {
            let mut merged = resolved_builtin(&b, depth + 1)?;
            merge_tables(&mut merged, table);
            Ok(merged)
        }
        Some(b) => Err(format!("key `preset.extends`: chain too deep at `{b}`")),
    }
}

fn merge_tables(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corruptions::digital::contrast::Params as Contrast;
    use crate::corruptions::digital::elastic_transform::Params as ElasticTransform;
    use crate::corruptions::digital::jpeg_compression::Params as JpegCompression;
    use crate::corruptions::noise::gaussian_noise::Params as GaussianNoise;
    use crate::corruptions::weather::spatter::{Params as Spatter, SpatterKind};

    /// The earlier revision listed in `EARLIER_REVISIONS` is today's file with its old comment
    /// lines: same TOML values, and its digest reads as today's.
    #[test]
    fn earlier_revision_differs_only_in_comments() {
        let now = builtin_text("imagecorruptions").unwrap();
        let old = now
            .replace(
                "# Source: imagecorruptions 1.1.2's corruption functions; docs/ALGORITHMS.md §4 (per corruption).",
                "# Source: ../shared/reference/CORRUPTIONS.md §4.",
            )
            .replace(
                "# Further presets (ImageNet-C-224, CIFAR-10-C, Tiny-ImageNet-C; docs/ALGORITHMS.md §5) are further\n\
                 # files of this shape in this folder: every `*.toml` here is built in, named by its file stem.",
                "# Further presets (ImageNet-C-224, CIFAR-10-C, Tiny-ImageNet-C of spec §5) are further files of\n\
                 # this shape in this folder.",
            )
            .replace("(docs/ALGORITHMS.md §9.2, imgcorrupt", "(spec §9.2, imgcorrupt");
        let old_sha = crate::digest::sha256_hex(old.as_bytes());
        assert_eq!(old_sha, EARLIER_REVISIONS[0].1);
        let values = |t: &str| t.parse::<toml::Table>().unwrap();
        assert_eq!(values(&old), values(now));
        let now_sha = crate::digest::sha256_hex(now.as_bytes());
        assert_eq!(current_digest(&old_sha), now_sha);
        assert_eq!(current_digest(&now_sha), now_sha);
        assert_eq!(current_digest("0123"), "0123");
    }

    #[test]
    fn builtin_has_reference_values() {
        let p = Preset::builtin("imagecorruptions").unwrap();
        assert_eq!(
            p.params::<GaussianNoise>().unwrap().sigma,
            [0.08, 0.12, 0.18, 0.26, 0.38]
        );
        assert_eq!(
            p.params::<JpegCompression>().unwrap().quality,
            [25, 18, 15, 10, 7]
        );
        assert_eq!(p.params::<Spatter>().unwrap().kind[3], SpatterKind::Mud);
        // alpha is 250 * [..] computed in f64 in the reference
        let alpha: Vec<f64> = [0.05, 0.065, 0.085, 0.1, 0.12]
            .iter()
            .map(|a| 250.0 * a)
            .collect();
        assert_eq!(
            p.params::<ElasticTransform>().unwrap().alpha.to_vec(),
            alpha
        );
    }

    #[test]
    fn missing_table_is_named() {
        let text = include_str!("../corruptions/imagecorruptions.toml")
            .replace("[saturate]", "[saturate_typo]");
        let e = Preset::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.toml") && e.contains("saturate_typo"), "{e}");
        let text =
            include_str!("../corruptions/imagecorruptions.toml").replace("amount = ", "amounts = ");
        let e = Preset::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("amounts"), "{e}");
    }

    #[test]
    fn wrong_length_and_range_are_named() {
        let text = include_str!("../corruptions/imagecorruptions.toml").replace(
            "sigma = [0.08, 0.12, 0.18, 0.26, 0.38]",
            "sigma = [0.08, 0.12]",
        );
        let e = Preset::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sigma") && e.contains("length 5"), "{e}");
        // serde errors point into the user's file (line of `sigma`, with the snippet)
        let line = text.lines().position(|l| l.starts_with("sigma")).unwrap() + 1;
        assert!(e.contains(&format!("line {line}")), "{e}");
        assert!(e.contains("sigma = [0.08, 0.12]"), "{e}");
        let text = include_str!("../corruptions/imagecorruptions.toml").replace(
            "quality = [25, 18, 15, 10, 7]",
            "quality = [25, 18, 0, 10, 7]",
        );
        let e = Preset::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("jpeg_compression.quality") && e.contains("severity 3"),
            "{e}"
        );
    }

    #[test]
    fn digest_covers_the_extends_chain() {
        let own =
            "[preset]\nname = \"mine\"\n[gaussian_noise]\nsigma = [0.5, 0.5, 0.5, 0.5, 0.5]\n";
        assert_eq!(
            Preset::digest_of(own),
            crate::digest::sha256_hex(own.as_bytes())
        );
        let ext = own.replace(
            "name = \"mine\"",
            "name = \"mine\"\nextends = \"imagecorruptions\"",
        );
        let d = Preset::digest_of(&ext);
        assert_ne!(d, crate::digest::sha256_hex(ext.as_bytes()));
        // the same own text extending another built-in is another digest
        let other = ext.replace("\"imagecorruptions\"", "\"imagenet-c\"");
        assert_ne!(
            Preset::digest_of(&other),
            crate::digest::sha256_hex(other.as_bytes())
        );
        assert_ne!(Preset::digest_of(&other), d);
        // a built-in two links down the chain (imagenet-64-c → tiny-imagenet-c → …) counts
        let text = builtin_text("imagenet-64-c").unwrap();
        let parent = builtin_text("tiny-imagenet-c").unwrap();
        assert!(text.contains("extends = \"tiny-imagenet-c\""), "{text}");
        let own64 = crate::digest::sha256_hex(text.as_bytes());
        let want = crate::digest::sha256_hex(
            format!("{own64}\nextends {}\n", Preset::digest_of(parent)).as_bytes(),
        );
        assert_eq!(Preset::digest_of(text), want);
    }

    #[test]
    fn extends_fills_the_rest() {
        let text = "[preset]\nname = \"mine\"\nextends = \"imagecorruptions\"\n[gaussian_noise]\nsigma = [0.5, 0.5, 0.5, 0.5, 0.5]\n";
        let p = Preset::from_toml_str(text, "mine.toml").unwrap();
        assert_eq!(p.info().name, "mine");
        assert_eq!(p.params::<GaussianNoise>().unwrap().sigma, [0.5; 5]);
        assert_eq!(
            p.params::<Contrast>().unwrap().factor,
            [0.4, 0.3, 0.2, 0.1, 0.05]
        );
        let e = Preset::from_toml_str("[preset]\nname=\"m\"\nextends=\"nope\"\n", "m.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("preset.extends"), "{e}");
    }
}
