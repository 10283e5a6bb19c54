//! `imgcorrupt generate`: turn a dataset on disk into its corrupted variant, reproducible to
//! the byte.
//!
//! The pipeline reads as five steps, one module each:
//!
//! 1. [`discover`]: find the images and annotation files of INPUT (adapters `imagenet`, `voc`,
//!    `coco`, `cityscapes`, `folder`, or auto-detection) and validate the annotations;
//! 2. [`plan`]: the work items (one per source file), output paths, the shard of this process;
//! 3. [`run`]: rayon over source images with bounded memory: decode once, produce every
//!    requested corruption × severity cell from it, encode ([`encode`]: JPEG byte-identical
//!    to PIL's `save(quality=q, optimize=True)`), write atomically, journal;
//! 4. [`manifest`]: the JSONL manifest (header + one sorted record per output), journals that
//!    make a killed run resumable, shard parts and their merge;
//! 5. [`verify`]: re-hash outputs against the manifest, or regenerate a sample and compare.
//!
//! # Seed rule (version 1)
//!
//! Each output's seed is
//! `derive_seed(run_seed, [source, corruption, severity])` ([`crate::rng::derive_seed`]) where
//! `source` is the UTF-8 bytes of the source file's path relative to INPUT with `/`
//! separators, `corruption` the catalogue name and `severity` one ASCII digit. In
//! [`crate::RngMode::Numpy`] the seed is then masked to 32 bits (`seed & 0xFFFF_FFFF`, the
//! range of `np.random.seed`). The library is then called with `Settings::new(seed)` and the
//! run's RNG mode and preset. Nothing else enters, so the bytes of an output do not depend on
//! thread count, shard split, processing order, retries or resumption.

use std::fmt;
use std::str::FromStr;

use crate::catalogue::Corruption;

pub mod discover;
pub mod manifest;
pub mod plan;
pub mod run;
pub mod verify;

/// Version of the seed rule recorded in manifests (see the module docs).
pub const SEED_RULE: &str = "v1: derive_seed(run_seed, [source relative path, corruption name, severity digit]); numpy mode: & 0xFFFFFFFF";

/// The per-output seed of the seed rule (module docs).
pub fn output_seed(
    run_seed: u64,
    source: &str,
    corruption: Corruption,
    severity: u8,
    numpy: bool,
) -> u64 {
    let s = crate::rng::derive_seed(
        run_seed,
        &[
            source.as_bytes(),
            corruption.name().as_bytes(),
            &[b'0' + severity],
        ],
    );
    if numpy {
        s & 0xFFFF_FFFF
    } else {
        s
    }
}

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
        /// ImageNet-C (spec §5.1): shorter side to 256 with Pillow's antialiased BILINEAR
        /// (longer side `int(256·long/short)`), then centre crop 224×224 at
        /// `round((h−224)/2)`, `round((w−224)/2)` (half to even).
        Imagenet => "imagenet",
    }
);

named_enum!(
    /// Channel order in which the corruption functions see the pixels.
    ChannelOrder {
        /// RGB (correct; default).
        Rgb => "rgb",
        /// As benchmarked on detection datasets (spec §8.1, quirk 27): R and B are swapped
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
        /// Copy the files.
        Copy => "copy",
        /// Hard-link where possible (same file system), else copy.
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
