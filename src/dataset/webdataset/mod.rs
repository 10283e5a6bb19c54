//! Webdataset shards in and out (`--dataset webdataset`, `--output-format wds`).
//!
//! The same four stages as the folder pipeline, each a module, on *units* (one output shard
//! per cell) instead of files:
//!
//! 1. [`discover`]: INPUT → shards (a folder of `*.tar`, one `.tar`, or a brace pattern), and
//!    a shard → its samples, streamed ([`tar`] is the archive reader/writer);
//! 2. [`plan`]: shards (or a folder dataset's images) → units, `--shard K/N` by unit, and the
//!    seed rule with `(shard name, key)`;
//! 3. [`execute`]: a unit → its output shards (image members corrupted through the dataset
//!    [`crate::dataset::execute::Pipeline`], everything else copied), written atomically;
//! 4. [`record`]: resume per unit, the manifest (shard and member SHA-256s) on the files of
//!    [`crate::dataset::record::manifest`].
//!
//! [`run`] wires them; [`verify`] checks member records against the shards and regenerates
//! corrupted members.

pub mod discover;
pub mod execute;
pub mod plan;
pub mod record;
pub mod run;
pub mod tar;
pub mod verify;

/// Where the corrupted images go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `OUTPUT/<corruption>/<severity>/<shard>.tar`: one shard per cell, the image member
    /// replaced by its corrupted version.
    Cells,
    /// `OUTPUT/<shard>.tar` (`--wds-cells-in-sample`): one shard per input shard, every sample
    /// unchanged plus one member `<key>.<corruption>.<severity>.<ext>` per cell.
    InSample,
}
