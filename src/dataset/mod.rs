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

/// One corruption × severity output cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    /// The corruption.
    pub corruption: Corruption,
    /// Severity 1..=5.
    pub severity: u8,
}

#[cfg(test)]
mod tests {
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
