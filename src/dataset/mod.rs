//! `imgcorrupt generate`: turn a dataset on disk into its corrupted variant, reproducible to
//! the byte.
//!
//! The pipeline reads in one direction, one module per stage; a stage knows the types of the
//! stages before it and nothing of those after it:
//!
//! 1. [`discover`]: INPUT → a [`discover::Dataset`]: the images and annotation files (adapters
//!    `imagenet`, `voc`, `coco`, `cityscapes`, `folder`, or auto-detection), annotations
//!    validated;
//! 2. [`plan`]: dataset → a [`plan::Plan`]: one work item per source file with its output
//!    paths, the shard of this process, and the seed rule ([`plan::output_seed`]);
//! 3. [`execute`]: per source and cell, decode, geometry, channel order, corrupt, encode
//!    (JPEG byte-identical to PIL's `save(quality=q, optimize=True)`), write atomically; it
//!    knows nothing of manifests;
//! 4. [`record`]: resume state and the files that hold it: header check, the ledger of what
//!    is done, the journal that makes a killed run resumable, the sorted manifest, shard
//!    parts and their merge;
//!
//! [`run`] is the driver that wires them (execution in parallel, failures reported at the
//! end); [`verify`] re-hashes outputs against the manifest, or regenerates a sample through
//! [`execute`] with the pipeline [`record`] rebuilds from the header, and compares.
//! [`webdataset`] runs the same four stages on `.tar` shards (webdataset input, or any input
//! with `--output-format wds`), reusing [`execute::Pipeline`] and the manifest files of
//! [`record`].
//!
//! The seed rule (version 1, [`plan::SEED_RULE`]) is documented in [`plan`]: an output's
//! bytes do not depend on thread count, shard split, processing order, retries or resumption.

use std::fmt;
use std::str::FromStr;

use crate::catalogue::Corruption;

pub mod cifar;
pub mod discover;
pub mod execute;
pub mod plan;
pub mod record;
pub mod run;
pub mod schedule;
pub mod score;
pub mod sequences;
pub mod verify;
pub mod webdataset;

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            /// The command-line / manifest name.
            pub fn name(self) -> &'static str { match self { $($name::$v => $s),+ } }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.name()) }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($s => Ok($name::$v),)+
                    other => Err(format!("unknown value `{other}`: expected one of {}",
                        [$($s),+].join(", "))),
                }
            }
        }
    };
}

named_enum!(
    /// Dataset adapter (layout of INPUT and of each output cell).
    DatasetKind {
        /// Class folders `<wnid>/<file>`, ImageNet-C geometry and JPEG q85 by default.
        Imagenet => "imagenet",
        /// `VOCdevkit/VOC20xx/{JPEGImages,Annotations,ImageSets}`.
        Voc => "voc",
        /// An images folder plus `annotations/*.json`.
        Coco => "coco",
        /// `leftImg8bit/<split>/<city>/*_leftImg8bit.png` plus `gtFine/…`.
        Cityscapes => "cityscapes",
        /// Any tree of images, mirrored.
        Folder => "folder",
    }
);

named_enum!(
    /// Geometry applied to each source before corrupting.
    Geometry {
        /// Full resolution, as decoded.
        Native => "native",
        /// ImageNet-C (ALGORITHMS.md §5.1): shorter side to 256 with Pillow's antialiased BILINEAR
        /// (longer side `int(256·long/short)`), then centre crop 224×224 at
        /// `round((h−224)/2)`, `round((w−224)/2)` (half to even).
        Imagenet => "imagenet",
        /// ImageNet-C 299 (make_imagenet_c_inception.py's `resized_center_crop`, ALGORITHMS.md
        /// §5.1): centre crop of `int(0.875·h) × int(0.875·w)` at `round((h−th)/2)`,
        /// `round((w−tw)/2)` (half to even), then resized to 299×299 (aspect not kept) with
        /// Pillow's antialiased BILINEAR.
        Inception => "inception",
    }
);

named_enum!(
    /// Channel order in which the corruption functions see the pixels.
    ChannelOrder {
        /// RGB (correct; default).
        Rgb => "rgb",
        /// As benchmarked on detection datasets (ALGORITHMS.md §8.1, Quirk 27): R and B are swapped
        /// before corrupting and swapped back after, reproducing mmcv's BGR arrays fed to
        /// RGB-assuming functions.
        Bgr => "bgr",
    }
);

named_enum!(
    /// Output image format.
    ImageFormatChoice {
        /// Same format as the source, by extension (webp: as `--image-format webp`).
        Same => "same",
        /// JPEG, 4:2:0, optimised Huffman tables (`--quality`).
        Jpeg => "jpeg",
        /// PNG (lossless).
        Png => "png",
        /// WebP: lossy at `--webp-quality` (libwebp), or lossless with `--webp-lossless`.
        Webp => "webp",
    }
);

named_enum!(
    /// What to do with annotation files of detection datasets in each output cell.
    AnnotationMode {
        /// Copy the files (the default): each cell holds an independent file, so an edit in
        /// place of one cell's annotation changes nothing else. A copy-on-write clone (a
        /// reflink, `FICLONE`) where the file system can make one, so the copies cost no space
        /// until edited.
        Copy => "copy",
        /// Hard-link where possible (same file system), else copy. Saves space, but the cells
        /// and the clean dataset then share one file: editing any of them in place edits all.
        Link => "link",
        /// Leave them out.
        None => "none",
    }
);

named_enum!(
    /// Folder layout of the output cells.
    Layout {
        /// `<corruption>/<severity digit>/<path inside INPUT>` (ImageNet-C and the others).
        Cells => "cells",
        /// LAION-C's evaluator (`laionc/evaluation.py`, an ImageFolder per cell):
        /// `<corruption>/intensity_level_<s>/<superclass>/<stem>.jpg`, ImageNet class folders
        /// filed under their superclass ([`crate::corruptions::laion_c::superclasses`]).
        LaionC => "laion-c",
    }
);

impl Layout {
    /// The folder of `cell` relative to OUTPUT: `mosaic/3` or `mosaic/intensity_level_3`.
    pub fn cell_dir(self, cell: Cell) -> String {
        match self {
            Layout::Cells => format!("{}/{}", cell.corruption.name(), cell.severity),
            Layout::LaionC => format!(
                "{}/intensity_level_{}",
                cell.corruption.name(),
                cell.severity
            ),
        }
    }
}

/// One corruption × severity output cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    /// The corruption.
    pub corruption: Corruption,
    /// Severity: 1..=5, or (issue 16) a continuous one.
    pub severity: Severity,
}

/// The severity of a cell: one of the benchmarks' levels 1..=5 or (issue 16, continuous
/// severity) any multiple of 0.001 in [0, 5], held in thousandths so that it is exact,
/// ordered and hashable, and has one canonical text.
///
/// The text ([`fmt::Display`]) names the cell folder, enters the seed rule and the fast-mode
/// generator key, and is what the manifest records: an integer is its digit (`3`: today's
/// folders, seeds and manifests, unchanged), any other value the shortest decimal that reads
/// back as it (`2.5`, `0.125`; the same text as Rust's `f64` display of the value, which the
/// library's `corrupt_at` keys on). The manifest writes it as a JSON number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Severity(u16);

impl Severity {
    /// Thousandths per unit.
    const SCALE: u16 = 1000;

    /// Severity 0: the clean image (also the `severity` of the manifest records of carried
    /// webdataset members, which belong to no cell).
    pub const ZERO: Severity = Severity(0);

    /// The cell of a `--severity-schedule` run ([`schedule`]): folder `schedule`, each image
    /// at its own severity ([`execute::Pipeline::resolve`]); the manifest writes the string
    /// `"schedule"` and the image's severity in `scheduled_severity`.
    pub const SCHEDULED: Severity = Severity(u16::MAX);

    /// A benchmark level 1..=5 (panics outside: callers check first).
    pub fn level(s: u8) -> Severity {
        assert!((1..=5).contains(&s), "severity level {s} outside 1..=5");
        Severity(u16::from(s) * Self::SCALE)
    }

    /// A continuous severity: `v` in [0, 5] with at most three decimals (2.5, 0.125); the
    /// error says what is wrong.
    pub fn continuous(v: f64) -> std::result::Result<Severity, String> {
        if !v.is_finite() || !(0.0..=5.0).contains(&v) {
            return Err(format!("severity {v} is outside [0, 5]"));
        }
        let t = (v * f64::from(Self::SCALE)).round();
        if (t / f64::from(Self::SCALE) - v).abs() > 1e-9 {
            return Err(format!(
                "severity {v} has more than three decimals (continuous severities are multiples of 0.001)"
            ));
        }
        Ok(Severity(t as u16))
    }

    /// The integer level 1..=5, `None` for a continuous severity (fractional, or 0).
    pub fn as_level(self) -> Option<u8> {
        (self.0.is_multiple_of(Self::SCALE) && (Self::SCALE..=5 * Self::SCALE).contains(&self.0))
            .then_some((self.0 / Self::SCALE) as u8)
    }

    /// The value as `f64` (exactly the nearest `f64` to the decimal text).
    pub fn value(self) -> f64 {
        f64::from(self.0) / f64::from(Self::SCALE)
    }
}

/// Corrupt `src` into `dst` at a cell's severity: the integer path for a level, the
/// continuous one ([`crate::corrupt_buffer_at`]) otherwise.
pub(crate) fn corrupt_at_severity(
    src: crate::api::ImageView<'_>,
    dst: &mut [u8],
    corruption: Corruption,
    severity: Severity,
    settings: &crate::Settings,
) -> crate::error::Result<()> {
    match severity.as_level() {
        Some(l) => crate::corrupt_buffer(src, dst, corruption, l, settings),
        None => crate::corrupt_buffer_at(src, dst, corruption, severity.value(), settings),
    }
}

impl From<u8> for Severity {
    fn from(s: u8) -> Severity {
        Severity::level(s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Severity::SCHEDULED {
            return f.write_str("schedule");
        }
        match self.as_level() {
            Some(l) => write!(f, "{l}"),
            None => write!(f, "{}", self.value()),
        }
    }
}

impl FromStr for Severity {
    type Err = String;
    /// `3` or `2.5` (a folder name or a command-line item).
    fn from_str(s: &str) -> std::result::Result<Severity, String> {
        let s = s.trim();
        if let Ok(v) = s.parse::<u8>() {
            if (1..=5).contains(&v) {
                return Ok(Severity::level(v));
            }
        }
        let v: f64 = s
            .parse()
            .map_err(|_| format!("`{s}` is not a severity (1-5, or e.g. 2.5)"))?;
        Severity::continuous(v)
    }
}

impl serde::Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if *self == Severity::SCHEDULED {
            s.serialize_str("schedule")
        } else if self.0.is_multiple_of(Self::SCALE) {
            s.serialize_u16(self.0 / Self::SCALE)
        } else {
            s.serialize_f64(self.value())
        }
    }
}

impl<'de> serde::Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Severity, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Number(f64),
            Word(String),
        }
        match Repr::deserialize(d)? {
            Repr::Number(v) => Severity::continuous(v).map_err(serde::de::Error::custom),
            Repr::Word(w) if w == "schedule" => Ok(Severity::SCHEDULED),
            Repr::Word(w) => Err(serde::de::Error::custom(format!(
                "severity `{w}`: expected a number or \"schedule\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Severity;

    #[test]
    fn severity_text_is_canonical() {
        for (text, shown) in [
            ("3", "3"),
            ("3.0", "3"),
            ("2.5", "2.5"),
            ("2.50", "2.5"),
            ("0.125", "0.125"),
            ("0", "0"),
            ("0.1", "0.1"),
            ("4.999", "4.999"),
        ] {
            let s: Severity = text.parse().unwrap();
            assert_eq!(s.to_string(), shown, "{text}");
            // the library's fast-mode key is `f64` display
            assert_eq!(
                s.value().to_string(),
                if shown == "3" {
                    "3".into()
                } else {
                    shown.to_string()
                }
            );
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, shown, "{text}");
            assert_eq!(serde_json::from_str::<Severity>(&json).unwrap(), s);
        }
        assert_eq!(Severity::from(3).as_level(), Some(3));
        assert_eq!("2.5".parse::<Severity>().unwrap().as_level(), None);
        assert_eq!("0".parse::<Severity>().unwrap().as_level(), None);
        for bad in ["5.5", "-1", "2.0001", "x", "nan"] {
            assert!(bad.parse::<Severity>().is_err(), "{bad}");
        }
        assert!(Severity::from(2) < "2.5".parse().unwrap());
        let s = Severity::SCHEDULED;
        assert_eq!(s.to_string(), "schedule");
        assert_eq!(s.as_level(), None);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"schedule\"");
        assert_eq!(serde_json::from_str::<Severity>(&json).unwrap(), s);
        assert!(serde_json::from_str::<Severity>("\"other\"").is_err());
    }

    /// The stages read in one direction: no stage names a later one (or the driver, or
    /// verify), in a `use` or in a path.
    #[test]
    fn stages_import_only_earlier_stages() {
        let record = [
            include_str!("record/mod.rs"),
            include_str!("record/manifest.rs"),
            include_str!("record/ledger.rs"),
            include_str!("record/header.rs"),
        ]
        .concat();
        let stages = [
            ("discover", include_str!("discover.rs").to_string()),
            ("plan", include_str!("plan.rs").to_string()),
            ("execute", include_str!("execute.rs").to_string()),
            ("record", record),
        ];
        let names = ["discover", "plan", "execute", "record", "run", "verify"];
        for (k, (stage, text)) in stages.iter().enumerate() {
            // `use` statements (joined over lines), split into path segments
            let mut uses: Vec<&str> = Vec::new();
            let mut in_use = false;
            for line in text.lines().map(str::trim_start) {
                in_use |= line.starts_with("use ") || line.starts_with("pub use ");
                if in_use {
                    uses.extend(line.split(|c: char| !(c.is_alphanumeric() || c == '_')));
                    in_use = !line.contains(';');
                }
            }
            for later in &names[k + 1..] {
                assert!(
                    !uses.contains(later),
                    "dataset::{stage} imports the later stage {later}"
                );
                assert!(
                    !text.contains(&format!("::{later}::"))
                        && !text.contains(&format!("super::{later}")),
                    "dataset::{stage} names the later stage {later} in a path"
                );
            }
        }
    }
}
