//! Training augmentations: random corruptions and Gaussian/speckle noise training (ALGORITHMS.md §9.1),
//! deterministic per sample, in place on the buffers data loaders have.
//!
//! # Policies
//!
//! * [`GaussianNoiseTraining`] / [`SpeckleNoiseTraining`]: the noise-training recipes of Rusak
//!   et al. 2020 (ALGORITHMS.md §9.1): a fraction `p_clean` of the samples stays clean, the others get
//!   `clip(x + σ·N(0,1), 0, 1)` (Gaussian) or `clip(x + x·σ·N(0,1), 0, 1)` (speckle) per pixel and
//!   channel, in [0, 1] pixel space.
//! * [`RandomCorruption`]: one corruption of the catalogue with a random severity, applied with
//!   probability `p`.
//! * [`Sequence`] and [`OneOf`]: composition.
//!
//! Every policy implements [`Augment`], whose provided methods apply it to
//!
//! * one 8-bit HWC image ([`Augment::apply_u8`]) or a batch of them (`N×H×W×C`,
//!   [`Augment::apply_batch_u8`]),
//! * one f32 CHW image in [0, 1] ([`Augment::apply_f32`]) or an NCHW batch
//!   ([`Augment::apply_batch_f32`]),
//!
//! in place. The batch entry points process samples in parallel on the current rayon pool. The
//! noise paths allocate nothing per call: random words and normals live in fixed-size stack
//! blocks, the noise is added in place, and the u8 noise tables are built once per σ and cached
//! (per thread, behind a process-wide cache). Corruptions run through
//! [`crate::corrupt_in_place`] and, for f32 images, a reused per-thread u8 scratch buffer (an
//! individual corruption may still allocate internally). The returned [`Record`] holds a small
//! `Vec`; the `*_into` variants reuse it.
//!
//! # Determinism per sample
//!
//! All randomness of sample `index` in `epoch` comes from one 64-bit *sample seed*,
//!
//! ```text
//! sample_seed = derive_seed(seed, [b"augment", epoch as 8 LE bytes, index as 8 LE bytes])
//! ```
//!
//! ([`SampleKey::sample_seed`], [`crate::rng::derive_seed`]), never from worker count, thread
//! scheduling, batch composition or call order. Inside a sample, a policy's decisions (clean or
//! not, which σ, which corruption, which severity) come from Philox stream 0 of its seed, its
//! noise from stream 1 (Gaussian) or 2 (speckle) ([`crate::rng::FastRng::with_stream`]); children of [`Sequence`]/[`OneOf`]
//! get `derive_seed(parent, [b"sequence" | b"one_of", k as 8 LE bytes])`. A data loader with
//! several worker processes therefore gets no duplicated noise as long as it passes the dataset
//! index and the epoch, which is the failure of the per-worker global RNGs in the reference
//! tooling (ALGORITHMS.md Quirks 15 and 16).
//!
//! The one exception is the reference *batch split* of the noise-training presets (which
//! samples of a batch stay clean is decided by position in the batch, see [`CleanSplit`]); the
//! noise a noised sample receives still depends only on its key.
//!
//! # Replay
//!
//! What was drawn for a sample is returned as a [`Record`] (a list of [`Applied`] steps,
//! serialisable with serde). [`replay_u8`] / [`replay_f32`] re-apply it to a clean copy and give
//! the same bytes/floats as the original call on the same buffer type (the u8 and f32 paths use
//! different noise generators, see [`GaussianNoiseTraining`]).
//!
//! # Held-out guard (ALGORITHMS.md §2)
//!
//! Training with any of the 15 benchmark (`common`) corruptions — including Gaussian noise
//! training, whose noise is the benchmark's `gaussian_noise` — makes that model's results on the
//! benchmark incomparable with published numbers. Such policies list a warning in
//! [`Augment::warnings`], and the first time one is applied in a process the warning is also
//! printed to stderr (once per process). `.allow_benchmark_corruptions()` on the policy silences
//! both.
//!
//! ```
//! use imgcorrupt::augment::{Augment, GaussianNoiseTraining, SampleKey, Shape};
//! let gnt = GaussianNoiseTraining::single(0.5).allow_benchmark_corruptions();
//! let shape = Shape::new(32, 48, 3);
//! let mut img = vec![128u8; shape.len()];
//! let record = gnt.apply_u8(&mut img, shape, SampleKey::new(7, 0, 1234)).unwrap();
//! // Same key, same result: replay it on a fresh copy.
//! let mut again = vec![128u8; shape.len()];
//! imgcorrupt::augment::replay_u8(&record.steps, &mut again, shape).unwrap();
//! assert_eq!(img, again);
//! ```

mod buffer;
mod compose;
mod guard;
mod noise;
mod random;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::catalogue::Corruption;
use crate::error::{Error, Result};
use crate::rng::derive_seed;

pub use buffer::{chw_f32_to_hwc_u8, hwc_u8_to_chw_f32};
pub use compose::{OneOf, Sequence};
pub use guard::{benchmark_warning_emitted, benchmark_warning_text};
pub use noise::{
    CleanSplit, GaussianNoiseTraining, SpeckleNoiseTraining, GAUSSIAN_MULTI_SIGMAS, SPECKLE_SIGMAS,
};
pub use random::RandomCorruption;

/// Geometry of one image in a training buffer. For 8-bit buffers the layout is HWC (row-major,
/// channel fastest); for f32 buffers it is CHW (one plane per channel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shape {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Channels (3 for RGB).
    pub channels: usize,
}

impl Shape {
    /// A shape of `height × width × channels`.
    pub fn new(height: usize, width: usize, channels: usize) -> Shape {
        Shape {
            height,
            width,
            channels,
        }
    }

    /// Number of values of one image (`height · width · channels`).
    pub fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// True when the shape has no values (a zero height, width or channel count).
    pub fn is_empty(&self) -> bool {
        self.height == 0 || self.width == 0 || self.channels == 0
    }

    /// [`len`](Shape::len), or an error if it does not fit in `usize`.
    fn checked_len(&self) -> Result<usize> {
        self.height
            .checked_mul(self.width)
            .and_then(|n| n.checked_mul(self.channels))
            .ok_or_else(|| {
                Error::InvalidImage(format!(
                    "shape {}x{}x{} overflows",
                    self.height, self.width, self.channels
                ))
            })
    }

    /// Checks the shape is non-empty and a buffer has `count` images of it.
    fn check(&self, buffer_len: usize, count: usize) -> Result<()> {
        if self.is_empty() {
            return Err(Error::InvalidImage(format!(
                "shape {}x{}x{} has no values",
                self.height, self.width, self.channels
            )));
        }
        let want = self
            .checked_len()?
            .checked_mul(count)
            .ok_or_else(|| Error::InvalidImage("batch size overflows".into()))?;
        if buffer_len != want {
            return Err(Error::InvalidImage(format!(
                "buffer has {buffer_len} values, expected {count} × {}x{}x{} = {want}",
                self.height, self.width, self.channels
            )));
        }
        Ok(())
    }
}

/// Identity of one training sample: the run's base seed, the epoch and the sample's index in the
/// dataset. All randomness of the sample is a function of these three (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SampleKey {
    /// Base seed of the training run.
    pub seed: u64,
    /// Epoch number.
    pub epoch: u64,
    /// Index of the sample in the dataset (not its position in the batch).
    pub index: u64,
}

impl SampleKey {
    /// The key of sample `index` in `epoch` of the run seeded with `seed`.
    pub fn new(seed: u64, epoch: u64, index: u64) -> SampleKey {
        SampleKey { seed, epoch, index }
    }

    /// The sample seed: `derive_seed(seed, [b"augment", epoch LE, index LE])`.
    pub fn sample_seed(&self) -> u64 {
        derive_seed(
            self.seed,
            &[
                b"augment",
                &self.epoch.to_le_bytes(),
                &self.index.to_le_bytes(),
            ],
        )
    }
}

/// The sample keys of a batch: consecutive dataset indices from `first_index`, or an explicit
/// list (e.g. the shuffled indices a sampler produced).
#[derive(Clone, Copy, Debug)]
pub struct BatchKeys<'a> {
    /// Base seed of the training run.
    pub seed: u64,
    /// Epoch number.
    pub epoch: u64,
    /// Index of the first sample when `indices` is `None`.
    pub first_index: u64,
    /// Explicit dataset index of each sample of the batch, if not consecutive.
    pub indices: Option<&'a [u64]>,
}

impl<'a> BatchKeys<'a> {
    /// Samples `first_index, first_index + 1, …`.
    pub fn range(seed: u64, epoch: u64, first_index: u64) -> BatchKeys<'static> {
        BatchKeys {
            seed,
            epoch,
            first_index,
            indices: None,
        }
    }

    /// Samples with the given dataset indices, in batch order.
    pub fn list(seed: u64, epoch: u64, indices: &'a [u64]) -> BatchKeys<'a> {
        BatchKeys {
            seed,
            epoch,
            first_index: 0,
            indices: Some(indices),
        }
    }

    /// The key of the sample at `position` in the batch.
    pub fn key(&self, position: usize) -> SampleKey {
        let index = match self.indices {
            Some(list) => list[position],
            None => self.first_index.wrapping_add(position as u64),
        };
        SampleKey::new(self.seed, self.epoch, index)
    }
}

/// Position of a sample in its batch, passed to [`Augment::plan`] by the batch entry points (for
/// the reference batch split, [`CleanSplit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchPosition {
    /// 0-based position in the batch.
    pub position: usize,
    /// Number of samples in the batch.
    pub batch_len: usize,
}

/// Kind of one applied step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// The policy decided to leave the sample clean.
    Clean,
    /// `clip(x + σ·N(0,1), 0, 1)` per value.
    GaussianNoise,
    /// `clip(x + x·σ·N(0,1), 0, 1)` per value.
    SpeckleNoise,
    /// A catalogue corruption at a severity (`imgcorrupt::corrupt_buffer`, fast RNG mode).
    Corruption,
}

/// One sampled step: everything needed to re-apply it exactly.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    /// What was done.
    pub op: Op,
    /// Noise σ (noise steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
    /// The corruption ([`Op::Corruption`] steps), serialised by its catalogue name.
    #[serde(
        default,
        with = "corruption_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub corruption: Option<Corruption>,
    /// Severity 1..=5 ([`Op::Corruption`] steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    /// Seed of the step: noise comes from Philox stream 1 (Gaussian) or 2 (speckle) of this seed;
    /// a corruption is called with `Settings::new(seed)`.
    pub seed: u64,
}

impl Applied {
    /// A clean (no-op) step drawn from `seed`.
    pub fn clean(seed: u64) -> Applied {
        Applied {
            op: Op::Clean,
            sigma: None,
            corruption: None,
            severity: None,
            seed,
        }
    }
}

/// Everything applied to one sample, in order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The steps (including [`Op::Clean`] decisions).
    pub steps: Vec<Applied>,
}

impl Record {
    /// True when no step changed the image.
    pub fn is_clean(&self) -> bool {
        self.steps.iter().all(|s| s.op == Op::Clean)
    }

    /// Re-apply to an 8-bit HWC image ([`replay_u8`]).
    pub fn replay_u8(&self, img: &mut [u8], shape: Shape) -> Result<()> {
        replay_u8(&self.steps, img, shape)
    }

    /// Re-apply to an f32 CHW image ([`replay_f32`]).
    pub fn replay_f32(&self, img: &mut [f32], shape: Shape) -> Result<()> {
        replay_f32(&self.steps, img, shape)
    }
}

/// Serde for `Option<Corruption>` as its catalogue name.
mod corruption_name {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    use crate::catalogue::Corruption;

    pub fn serialize<S: Serializer>(c: &Option<Corruption>, s: S) -> Result<S::Ok, S::Error> {
        match c {
            Some(c) => s.serialize_some(c.name()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Corruption>, D::Error> {
        let name: Option<String> = Option::deserialize(d)?;
        name.map(|n| Corruption::from_name(&n).map_err(D::Error::custom))
            .transpose()
    }
}

/// Re-apply recorded steps to an 8-bit HWC image of `shape`, in place.
///
/// Gives the same bytes as the call that produced the steps, on the same input. A step with a
/// missing or invalid parameter (σ not finite or negative, severity outside 1..=5) is an error;
/// the steps before it have then already been applied.
pub fn replay_u8(steps: &[Applied], img: &mut [u8], shape: Shape) -> Result<()> {
    shape.check(img.len(), 1)?;
    for step in steps {
        apply_step_u8(step, img, shape)?;
    }
    Ok(())
}

/// Re-apply recorded steps to an f32 CHW image of `shape`, in place.
///
/// Gives the same floats as the call that produced the steps, on the same input. Invalid steps
/// are errors, as for [`replay_u8`].
pub fn replay_f32(steps: &[Applied], img: &mut [f32], shape: Shape) -> Result<()> {
    shape.check(img.len(), 1)?;
    for step in steps {
        apply_step_f32(step, img, shape)?;
    }
    Ok(())
}

fn missing(step: &Applied, what: &str) -> Error {
    Error::InvalidArgument(format!("{:?} step without {what}", step.op))
}

/// The σ of a noise step, checked as the policies check theirs: a record deserialised from
/// JSON may hold any number, and a NaN or infinite σ would write NaN into f32 images.
fn step_sigma(step: &Applied) -> Result<f64> {
    let sigma = step.sigma.ok_or_else(|| missing(step, "sigma"))?;
    if sigma.is_finite() && sigma >= 0.0 {
        Ok(sigma)
    } else {
        Err(Error::InvalidArgument(format!(
            "{:?} step: noise σ must be finite and >= 0, got {sigma}",
            step.op
        )))
    }
}

fn apply_step_u8(step: &Applied, img: &mut [u8], shape: Shape) -> Result<()> {
    match step.op {
        Op::Clean => Ok(()),
        Op::GaussianNoise | Op::SpeckleNoise => {
            let sigma = step_sigma(step)?;
            noise::noise_u8(step.op, sigma, step.seed, img);
            Ok(())
        }
        Op::Corruption => {
            let c = step.corruption.ok_or_else(|| missing(step, "corruption"))?;
            let s = step.severity.ok_or_else(|| missing(step, "severity"))?;
            random::corrupt_u8(c, s, step.seed, img, shape)
        }
    }
}

fn apply_step_f32(step: &Applied, img: &mut [f32], shape: Shape) -> Result<()> {
    match step.op {
        Op::Clean => Ok(()),
        Op::GaussianNoise | Op::SpeckleNoise => {
            let sigma = step_sigma(step)?;
            noise::noise_f32(step.op, sigma, step.seed, img);
            Ok(())
        }
        Op::Corruption => {
            let c = step.corruption.ok_or_else(|| missing(step, "corruption"))?;
            let s = step.severity.ok_or_else(|| missing(step, "severity"))?;
            random::corrupt_f32(c, s, step.seed, img, shape)
        }
    }
}

/// An augmentation policy. Implementors only say how to draw a sample's parameters
/// ([`plan`](Augment::plan)); the provided methods apply them to the buffer types.
///
/// Buffers: 8-bit images are HWC, f32 images CHW with values in [0, 1]; batches are the images
/// back to back (NHWC / NCHW).
pub trait Augment: Send + Sync {
    /// Draw this policy's parameters for the sample whose seed is `seed` and append the steps to
    /// `out`. `position` is `Some` when called from a batch entry point.
    ///
    /// Must be a pure function of (`self`, `seed`, `position`).
    fn plan(&self, seed: u64, position: Option<BatchPosition>, out: &mut Vec<Applied>);

    /// Warnings about this policy: one entry if it trains on benchmark (`common`) corruptions
    /// and the opt-out was not used (ALGORITHMS.md §2), empty otherwise (the default).
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether [`warnings`](Augment::warnings) is non-empty; checked on every call to print the
    /// warning once per process, so implementors that warn should override it with a cheap
    /// test.
    fn warns(&self) -> bool {
        !self.warnings().is_empty()
    }

    /// Check that images of `shape` are acceptable (e.g. corruptions need 1 to 4 channels).
    fn check_shape(&self, shape: Shape) -> Result<()> {
        let _ = shape;
        Ok(())
    }

    /// Augment one 8-bit HWC image in place; returns what was applied.
    fn apply_u8(&self, img: &mut [u8], shape: Shape, key: SampleKey) -> Result<Record> {
        let mut record = Record::default();
        self.apply_u8_into(img, shape, key, &mut record)?;
        Ok(record)
    }

    /// [`apply_u8`](Augment::apply_u8) writing the steps into a reused record.
    fn apply_u8_into(
        &self,
        img: &mut [u8],
        shape: Shape,
        key: SampleKey,
        record: &mut Record,
    ) -> Result<()> {
        shape.check(img.len(), 1)?;
        self.check_shape(shape)?;
        guard::check(self);
        record.steps.clear();
        self.plan(key.sample_seed(), None, &mut record.steps);
        replay_u8(&record.steps, img, shape)
    }

    /// Augment one f32 CHW image (values in [0, 1]) in place; returns what was applied.
    fn apply_f32(&self, img: &mut [f32], shape: Shape, key: SampleKey) -> Result<Record> {
        let mut record = Record::default();
        self.apply_f32_into(img, shape, key, &mut record)?;
        Ok(record)
    }

    /// [`apply_f32`](Augment::apply_f32) writing the steps into a reused record.
    fn apply_f32_into(
        &self,
        img: &mut [f32],
        shape: Shape,
        key: SampleKey,
        record: &mut Record,
    ) -> Result<()> {
        shape.check(img.len(), 1)?;
        self.check_shape(shape)?;
        guard::check(self);
        record.steps.clear();
        self.plan(key.sample_seed(), None, &mut record.steps);
        replay_f32(&record.steps, img, shape)
    }

    /// Augment a batch of 8-bit HWC images (`N×H×W×C`, N = `batch.len() / shape.len()`) in
    /// place, in parallel over samples on the current rayon pool. `records` is resized to N and
    /// receives each sample's steps (its inner vectors are reused).
    fn apply_batch_u8(
        &self,
        batch: &mut [u8],
        shape: Shape,
        keys: BatchKeys<'_>,
        records: &mut Vec<Record>,
    ) -> Result<()> {
        let n = batch_len(batch.len(), shape, &keys)?;
        self.check_shape(shape)?;
        guard::check(self);
        records.resize_with(n, Record::default);
        batch
            .par_chunks_mut(shape.len())
            .zip(records.par_iter_mut())
            .enumerate()
            .try_for_each(|(position, (img, rec))| {
                rec.steps.clear();
                let pos = BatchPosition {
                    position,
                    batch_len: n,
                };
                self.plan(keys.key(position).sample_seed(), Some(pos), &mut rec.steps);
                replay_u8(&rec.steps, img, shape)
            })
    }

    /// Augment a batch of f32 CHW images (`N×C×H×W`, values in [0, 1]) in place, in parallel
    /// over samples; see [`apply_batch_u8`](Augment::apply_batch_u8).
    fn apply_batch_f32(
        &self,
        batch: &mut [f32],
        shape: Shape,
        keys: BatchKeys<'_>,
        records: &mut Vec<Record>,
    ) -> Result<()> {
        let n = batch_len(batch.len(), shape, &keys)?;
        self.check_shape(shape)?;
        guard::check(self);
        records.resize_with(n, Record::default);
        batch
            .par_chunks_mut(shape.len())
            .zip(records.par_iter_mut())
            .enumerate()
            .try_for_each(|(position, (img, rec))| {
                rec.steps.clear();
                let pos = BatchPosition {
                    position,
                    batch_len: n,
                };
                self.plan(keys.key(position).sample_seed(), Some(pos), &mut rec.steps);
                replay_f32(&rec.steps, img, shape)
            })
    }
}

/// Number of images in a batch buffer, checked against the shape and the key list.
fn batch_len(len: usize, shape: Shape, keys: &BatchKeys<'_>) -> Result<usize> {
    if shape.is_empty() {
        shape.check(len, 1)?;
    }
    let n = len / shape.checked_len()?;
    shape.check(len, n)?;
    if let Some(list) = keys.indices {
        if list.len() != n {
            return Err(Error::InvalidArgument(format!(
                "batch has {n} images but {} sample indices",
                list.len()
            )));
        }
    }
    Ok(n)
}

impl<T: Augment + ?Sized> Augment for Box<T> {
    fn plan(&self, seed: u64, position: Option<BatchPosition>, out: &mut Vec<Applied>) {
        (**self).plan(seed, position, out)
    }
    fn warnings(&self) -> Vec<String> {
        (**self).warnings()
    }
    fn warns(&self) -> bool {
        (**self).warns()
    }
    fn check_shape(&self, shape: Shape) -> Result<()> {
        (**self).check_shape(shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_seed_follows_the_documented_rule() {
        let k = SampleKey::new(42, 3, 17);
        assert_eq!(
            k.sample_seed(),
            derive_seed(42, &[b"augment", &3u64.to_le_bytes(), &17u64.to_le_bytes()])
        );
        assert_ne!(k.sample_seed(), SampleKey::new(42, 4, 17).sample_seed());
        assert_ne!(k.sample_seed(), SampleKey::new(42, 3, 18).sample_seed());
        assert_ne!(k.sample_seed(), SampleKey::new(43, 3, 17).sample_seed());
    }

    #[test]
    fn batch_keys() {
        let r = BatchKeys::range(1, 2, 10);
        assert_eq!(r.key(3), SampleKey::new(1, 2, 13));
        let idx = [5u64, 9, 1];
        let l = BatchKeys::list(1, 2, &idx);
        assert_eq!(l.key(1), SampleKey::new(1, 2, 9));
        assert!(batch_len(3 * 12, Shape::new(2, 2, 3), &l).is_ok());
        assert!(batch_len(2 * 12, Shape::new(2, 2, 3), &l).is_err());
        assert!(batch_len(13, Shape::new(2, 2, 3), &r).is_err());
        assert!(batch_len(0, Shape::new(0, 2, 3), &r).is_err());
        assert_eq!(batch_len(0, Shape::new(2, 2, 3), &r).unwrap(), 0);
    }

    #[test]
    fn record_serde_roundtrip() {
        let rec = Record {
            steps: vec![
                Applied::clean(1),
                Applied {
                    op: Op::GaussianNoise,
                    sigma: Some(0.26),
                    corruption: None,
                    severity: None,
                    seed: u64::MAX,
                },
                Applied {
                    op: Op::Corruption,
                    sigma: None,
                    corruption: Some(Corruption::Saturate),
                    severity: Some(4),
                    seed: 99,
                },
            ],
        };
        let json = serde_json::to_string(&rec).unwrap();
        assert!(json.contains("\"corruption\":\"saturate\""), "{json}");
        assert!(json.contains("\"op\":\"gaussian_noise\""), "{json}");
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rec);
        assert!(!rec.is_clean());
        assert!(Record {
            steps: vec![Applied::clean(0)]
        }
        .is_clean());
    }

    #[test]
    fn replay_rejects_incomplete_steps() {
        let shape = Shape::new(2, 2, 3);
        let mut img = vec![0u8; 12];
        let mut bad = Applied::clean(0);
        bad.op = Op::GaussianNoise;
        assert!(replay_u8(&[bad], &mut img, shape).is_err());
        bad.op = Op::Corruption;
        assert!(replay_u8(&[bad], &mut img, shape).is_err());
        assert!(replay_u8(&[], &mut img[..11], shape).is_err());
    }
}
