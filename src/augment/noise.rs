//! Gaussian and speckle noise training (ALGORITHMS.md §9.1, Rusak et al. 2020).

use std::cell::RefCell;
use std::sync::Arc;

use super::{guard, Applied, Augment, BatchPosition, Op};
use crate::catalogue::Corruption;
use crate::error::{Error, Result};
use crate::kernels::noise_table::{self, NoiseKind, NoiseTable, Quantise};
use crate::kernels::normal::{self, NoiseMode};
use crate::rng::FastRng;

/// Philox stream of a sample seed that drives the decisions (clean or not, σ).
pub(super) const DECISION_STREAM: u64 = 0;
/// Philox stream of a step seed that drives the per-value noise: 1 for Gaussian, 2 for speckle,
/// so that two noise policies applied separately with the same key do not share normals.
fn noise_stream(op: Op) -> u64 {
    match op {
        Op::SpeckleNoise => 2,
        _ => 1,
    }
}
/// Values per noise block (a multiple of [`normal::BLOCK`]; 16 KiB of words on the stack).
const CHUNK: usize = 4096;

/// The σ set of the ImageNet-C `gaussian_noise` severities, used by multi-σ GNT (ALGORITHMS.md §9.1).
pub const GAUSSIAN_MULTI_SIGMAS: [f64; 5] = [0.08, 0.12, 0.18, 0.26, 0.38];
/// The σ set of the ImageNet-C `speckle_noise` severities, used by speckle training (ALGORITHMS.md §9.1).
pub const SPECKLE_SIGMAS: [f64; 5] = [0.15, 0.2, 0.35, 0.45, 0.6];

/// Which samples of a batch stay clean.
///
/// The reference training code (ALGORITHMS.md §9.1) splits each batch **by position**, with two slightly
/// different rounding rules, reproduced here; Python's `round` rounds halves to even, so an odd
/// batch of 5 with `p_clean = 0.5` keeps `round(2.5) = 2` images clean:
///
/// * [`CleanSplit::FirstRound`] (single-σ GNT): the first `round(B·p_clean)` images stay clean.
/// * [`CleanSplit::LastNoised`] (multi-σ GNT and speckle): the last `B − round(B·(1 − p_clean))`
///   images are noised. For `p_clean = 0.5`, the paper's only setting, both rules keep the same
///   number clean. For other values this formula, taken literally from the reference (docs/ALGORITHMS.md §9.1), keeps
///   `round(B·(1 − p_clean))` clean, i.e. `p_clean` then acts as the *noised* fraction; use
///   `FirstRound` or `PerSample` if you change `p_clean` and want it to mean the clean fraction.
/// * [`CleanSplit::PerSample`]: each sample is clean with probability `p_clean`, decided from its
///   own key, so the decision does not depend on how samples are batched.
///
/// The per-sample entry points ([`Augment::apply_u8`], [`Augment::apply_f32`]) have no batch and
/// always use the per-sample rule. In every mode a noised sample's σ and noise depend only on its
/// key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CleanSplit {
    /// Bernoulli(`p_clean`) per sample, independent of batching.
    PerSample,
    /// First `round_half_even(B·p_clean)` positions clean (reference single-σ rule).
    FirstRound,
    /// Last `B − round_half_even(B·(1 − p_clean))` positions noised (reference multi-σ rule).
    LastNoised,
}

impl CleanSplit {
    /// Number of clean images in a batch of `batch_len` under a position rule (`None` for
    /// [`CleanSplit::PerSample`]).
    pub fn clean_in_batch(self, batch_len: usize, p_clean: f64) -> Option<usize> {
        let b = batch_len as f64;
        match self {
            CleanSplit::PerSample => None,
            CleanSplit::FirstRound => {
                Some(((b * p_clean).round_ties_even() as usize).min(batch_len))
            }
            CleanSplit::LastNoised => {
                let kept = ((b * (1.0 - p_clean)).round_ties_even() as usize).min(batch_len);
                let noised = batch_len - kept;
                Some(batch_len - noised)
            }
        }
    }
}

/// Shared parameters of the two noise-training policies.
#[derive(Clone, Debug)]
struct NoiseTraining {
    op: Op,
    sigmas: Vec<f64>,
    p_clean: f64,
    split: CleanSplit,
}

impl NoiseTraining {
    fn new(op: Op, sigmas: &[f64], split: CleanSplit) -> Result<NoiseTraining> {
        if sigmas.is_empty() {
            return Err(Error::InvalidArgument(
                "noise training needs at least one σ".into(),
            ));
        }
        if let Some(bad) = sigmas.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
            return Err(Error::InvalidArgument(format!(
                "noise σ must be finite and >= 0, got {bad}"
            )));
        }
        Ok(NoiseTraining {
            op,
            sigmas: sigmas.to_vec(),
            p_clean: 0.5,
            split,
        })
    }

    fn set_p_clean(&mut self, p: f64) {
        assert!(
            (0.0..=1.0).contains(&p),
            "p_clean must be in [0, 1], got {p}"
        );
        self.p_clean = p;
    }

    fn plan(&self, seed: u64, position: Option<BatchPosition>, out: &mut Vec<Applied>) {
        let mut rng = FastRng::with_stream(seed, DECISION_STREAM);
        // Both draws are always made, so σ does not depend on the split rule.
        let u = rng.next_f64();
        let k = rng.randint(0, self.sigmas.len() as i64) as usize;
        let clean = match (
            self.split
                .clean_in_batch(position.map_or(0, |p| p.batch_len), self.p_clean),
            position,
        ) {
            (Some(clean), Some(p)) => p.position < clean,
            _ => u < self.p_clean,
        };
        out.push(if clean {
            Applied::clean(seed)
        } else {
            Applied {
                op: self.op,
                sigma: Some(self.sigmas[k]),
                corruption: None,
                severity: None,
                seed,
            }
        });
    }
}

/// Gaussian noise training (GNT, ALGORITHMS.md §9.1): a fraction `p_clean` (default 0.5) of the samples
/// stays clean, every other sample gets `clip(x + σ·N(0,1), 0, 1)` per value (every channel
/// independently, an alpha channel included if the buffer has one) in [0, 1] pixel space, σ
/// drawn uniformly per sample from the σ set.
///
/// * [`GaussianNoiseTraining::single`]`(0.5)`: the paper's best model ("Gauss_sigma_0.5"),
///   reference batch split [`CleanSplit::FirstRound`].
/// * [`GaussianNoiseTraining::multi`]: σ from {0.08, 0.12, 0.18, 0.26, 0.38} (the ImageNet-C
///   severities), split [`CleanSplit::LastNoised`].
///
/// # Buffers and numerics
///
/// * **f32 CHW**: `x ← clip(x + σ·z, 0, 1)` in f32, `z` from the Box–Muller kernel
///   [`crate::kernels::normal`] on Philox words (stream 1 of the step seed; 2 for speckle).
///   As with `np.clip`, a NaN input value stays NaN (the corruption path of
///   [`RandomCorruption`](super::RandomCorruption) reads it as 0).
/// * **u8 HWC**: the result is **rounded to nearest** (`trunc(255·y + 0.5)`), which keeps the
///   mean of unclipped values unchanged, as is natural for training. (The benchmark corruptions
///   truncate like the reference, a −0.5 LSB bias.) The u8 output is sampled from its exact
///   distribution with per-input-value alias tables ([`crate::kernels::noise_table`], built once
///   per σ, ≈ 256 KiB each), one Philox word per value. It has the distribution of
///   `round(255·clip(v/255 + σ·z, 0, 1))` exactly (to 2⁻³²), but not the same draws as the f32
///   path: the two buffer types agree in distribution, not sample by sample.
///
/// Gaussian noise is the benchmark's `gaussian_noise` corruption, so this policy carries the
/// held-out warning (ALGORITHMS.md §2) unless [`allow_benchmark_corruptions`](Self::allow_benchmark_corruptions)
/// is called.
///
/// ```
/// use imgcorrupt::augment::{Augment, BatchKeys, GaussianNoiseTraining, Shape};
/// let gnt = GaussianNoiseTraining::single(0.5).allow_benchmark_corruptions();
/// let shape = Shape::new(8, 8, 3); // f32 CHW: 3 planes of 8×8
/// let mut batch = vec![0.5f32; 4 * shape.len()];
/// let mut records = Vec::new();
/// gnt.apply_batch_f32(&mut batch, shape, BatchKeys::range(1, 0, 100), &mut records).unwrap();
/// // reference split: the first round(4 · 0.5) = 2 images stay clean
/// assert!(records[0].is_clean() && records[1].is_clean());
/// assert!(!records[2].is_clean() && !records[3].is_clean());
/// assert!(batch[..2 * shape.len()].iter().all(|&v| v == 0.5));
/// ```
#[derive(Clone, Debug)]
pub struct GaussianNoiseTraining {
    inner: NoiseTraining,
    allow_benchmark: bool,
}

impl GaussianNoiseTraining {
    /// Single σ (the paper uses 0.5), split [`CleanSplit::FirstRound`].
    ///
    /// # Panics
    /// If `sigma` is negative or not finite.
    pub fn single(sigma: f64) -> GaussianNoiseTraining {
        GaussianNoiseTraining::with_sigmas(&[sigma], CleanSplit::FirstRound)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// σ uniform from {0.08, 0.12, 0.18, 0.26, 0.38}, split [`CleanSplit::LastNoised`].
    pub fn multi() -> GaussianNoiseTraining {
        GaussianNoiseTraining::with_sigmas(&GAUSSIAN_MULTI_SIGMAS, CleanSplit::LastNoised)
            .expect("built-in σ set is valid")
    }

    /// σ uniform from a custom set, with the given batch split.
    pub fn with_sigmas(sigmas: &[f64], split: CleanSplit) -> Result<GaussianNoiseTraining> {
        Ok(GaussianNoiseTraining {
            inner: NoiseTraining::new(Op::GaussianNoise, sigmas, split)?,
            allow_benchmark: false,
        })
    }

    /// Builder: fraction of clean samples (default 0.5).
    ///
    /// # Panics
    /// If `p` is outside [0, 1] or NaN.
    pub fn with_p_clean(mut self, p: f64) -> Self {
        self.inner.set_p_clean(p);
        self
    }

    /// Builder: batch split rule (see [`CleanSplit`]).
    pub fn with_split(mut self, split: CleanSplit) -> Self {
        self.inner.split = split;
        self
    }

    /// Builder: acknowledge training on the benchmark's `gaussian_noise` (silences the held-out
    /// warning).
    pub fn allow_benchmark_corruptions(mut self) -> Self {
        self.allow_benchmark = true;
        self
    }

    /// The σ set.
    pub fn sigmas(&self) -> &[f64] {
        &self.inner.sigmas
    }

    /// Fraction of clean samples.
    pub fn p_clean(&self) -> f64 {
        self.inner.p_clean
    }

    /// Batch split rule.
    pub fn split(&self) -> CleanSplit {
        self.inner.split
    }
}

impl Augment for GaussianNoiseTraining {
    fn plan(&self, seed: u64, position: Option<BatchPosition>, out: &mut Vec<Applied>) {
        self.inner.plan(seed, position, out)
    }

    fn warnings(&self) -> Vec<String> {
        if self.allow_benchmark {
            return Vec::new();
        }
        guard::benchmark_warning_text("GaussianNoiseTraining", &[Corruption::GaussianNoise])
            .into_iter()
            .collect()
    }

    fn warns(&self) -> bool {
        !self.allow_benchmark
    }
}

/// Speckle noise training (ALGORITHMS.md §9.1): like [`GaussianNoiseTraining`] with multiplicative noise
/// `clip(x + x·σ·N(0,1), 0, 1)`, σ uniform per sample from {0.15, 0.2, 0.35, 0.45, 0.6}, split
/// [`CleanSplit::LastNoised`]. Same buffers and numerics (u8 rounds to nearest).
///
/// `speckle_noise` belongs to the held-out `validation` set, so there is no benchmark warning;
/// but a model trained with it should not be selected on the validation `speckle_noise` either.
///
/// ```
/// use imgcorrupt::augment::{Augment, SampleKey, Shape, SpeckleNoiseTraining};
/// let speckle = SpeckleNoiseTraining::new().with_p_clean(0.0);
/// let shape = Shape::new(16, 16, 3);
/// let mut img = vec![0u8; shape.len()];
/// let rec = speckle.apply_u8(&mut img, shape, SampleKey::new(0, 0, 0)).unwrap();
/// assert!(!rec.is_clean());
/// assert!(img.iter().all(|&v| v == 0)); // multiplicative: black stays black
/// ```
#[derive(Clone, Debug)]
pub struct SpeckleNoiseTraining {
    inner: NoiseTraining,
}

impl Default for SpeckleNoiseTraining {
    fn default() -> Self {
        SpeckleNoiseTraining::new()
    }
}

impl SpeckleNoiseTraining {
    /// σ from {0.15, 0.2, 0.35, 0.45, 0.6}, `p_clean` 0.5, split [`CleanSplit::LastNoised`].
    pub fn new() -> SpeckleNoiseTraining {
        SpeckleNoiseTraining::with_sigmas(&SPECKLE_SIGMAS, CleanSplit::LastNoised)
            .expect("built-in σ set is valid")
    }

    /// σ uniform from a custom set, with the given batch split.
    pub fn with_sigmas(sigmas: &[f64], split: CleanSplit) -> Result<SpeckleNoiseTraining> {
        Ok(SpeckleNoiseTraining {
            inner: NoiseTraining::new(Op::SpeckleNoise, sigmas, split)?,
        })
    }

    /// Builder: fraction of clean samples (default 0.5).
    ///
    /// # Panics
    /// If `p` is outside [0, 1] or NaN.
    pub fn with_p_clean(mut self, p: f64) -> Self {
        self.inner.set_p_clean(p);
        self
    }

    /// Builder: batch split rule (see [`CleanSplit`]).
    pub fn with_split(mut self, split: CleanSplit) -> Self {
        self.inner.split = split;
        self
    }

    /// The σ set.
    pub fn sigmas(&self) -> &[f64] {
        &self.inner.sigmas
    }

    /// Fraction of clean samples.
    pub fn p_clean(&self) -> f64 {
        self.inner.p_clean
    }

    /// Batch split rule.
    pub fn split(&self) -> CleanSplit {
        self.inner.split
    }
}

impl Augment for SpeckleNoiseTraining {
    fn plan(&self, seed: u64, position: Option<BatchPosition>, out: &mut Vec<Applied>) {
        self.inner.plan(seed, position, out)
    }

    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    fn warns(&self) -> bool {
        false
    }
}

thread_local! {
    /// Per-thread cache in front of the process-wide table cache, so the hot path takes no lock.
    static TABLES: RefCell<Vec<(NoiseKind, u64, Arc<NoiseTable>)>> = const { RefCell::new(Vec::new()) };
}

/// The rounding noise table for (`kind`, `sigma`), from the per-thread cache when possible.
fn cached_table(kind: NoiseKind, sigma: f64) -> Arc<NoiseTable> {
    TABLES.with(|cell| {
        let mut tables = cell.borrow_mut();
        if let Some((_, _, t)) = tables
            .iter()
            .find(|(k, s, _)| *k == kind && *s == sigma.to_bits())
        {
            return t.clone();
        }
        let t = noise_table::get_quantised(kind, sigma, Quantise::Round);
        if tables.len() >= 16 {
            tables.remove(0);
        }
        tables.push((kind, sigma.to_bits(), t.clone()));
        t
    })
}

/// Apply recorded noise to an 8-bit buffer in place (alias-table sampling, rounded output).
pub(super) fn noise_u8(op: Op, sigma: f64, seed: u64, img: &mut [u8]) {
    let kind = match op {
        Op::SpeckleNoise => NoiseKind::Speckle,
        _ => NoiseKind::Gaussian,
    };
    let table = cached_table(kind, sigma);
    let mut rng = FastRng::with_stream(seed, noise_stream(op));
    let mut words = [0u32; CHUNK];
    let mut src = [0u8; CHUNK];
    for chunk in img.chunks_mut(CHUNK) {
        let n = chunk.len();
        rng.fill_u32(&mut words[..n]);
        src[..n].copy_from_slice(chunk);
        table.lookup(&src[..n], &words[..n], chunk);
    }
}

/// Apply recorded noise to an f32 buffer in place (Box–Muller normals, computed in f32).
pub(super) fn noise_f32(op: Op, sigma: f64, seed: u64, img: &mut [f32]) {
    let mode = match op {
        Op::SpeckleNoise => NoiseMode::Multiplicative,
        _ => NoiseMode::Additive,
    };
    let mut rng = FastRng::with_stream(seed, noise_stream(op));
    let mut words = [0u32; CHUNK];
    for chunk in img.chunks_mut(CHUNK) {
        // Whole blocks of words: the last chunk may draw words for up to 15 unused values.
        let m = normal::words_for(chunk.len());
        rng.fill_u32(&mut words[..m]);
        normal::add_noise_clip(&words[..m], chunk, sigma as f32, mode);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_split_counts() {
        // Python: round(5 * 0.5) == 2 (half to even), round(7 * 0.5) == 4, round(70 * 0.5) == 35
        assert_eq!(CleanSplit::FirstRound.clean_in_batch(5, 0.5), Some(2));
        assert_eq!(CleanSplit::FirstRound.clean_in_batch(7, 0.5), Some(4));
        assert_eq!(CleanSplit::FirstRound.clean_in_batch(70, 0.5), Some(35));
        assert_eq!(CleanSplit::LastNoised.clean_in_batch(5, 0.5), Some(2));
        assert_eq!(CleanSplit::LastNoised.clean_in_batch(7, 0.5), Some(4));
        assert_eq!(CleanSplit::LastNoised.clean_in_batch(70, 0.5), Some(35));
        // The literal multi-σ formula for p_clean != 0.5: 10 − (10 − round(7)) = 7 clean.
        assert_eq!(CleanSplit::FirstRound.clean_in_batch(10, 0.3), Some(3));
        assert_eq!(CleanSplit::LastNoised.clean_in_batch(10, 0.3), Some(7));
        assert_eq!(CleanSplit::FirstRound.clean_in_batch(0, 0.5), Some(0));
        assert_eq!(CleanSplit::PerSample.clean_in_batch(10, 0.5), None);
    }

    #[test]
    fn sigma_and_noise_do_not_depend_on_split() {
        let a = GaussianNoiseTraining::multi().with_split(CleanSplit::PerSample);
        let b = GaussianNoiseTraining::multi().with_split(CleanSplit::FirstRound);
        for seed in 0..50u64 {
            let mut ra = Vec::new();
            let mut rb = Vec::new();
            a.plan(
                seed,
                Some(BatchPosition {
                    position: 9,
                    batch_len: 10,
                }),
                &mut ra,
            );
            b.plan(
                seed,
                Some(BatchPosition {
                    position: 9,
                    batch_len: 10,
                }),
                &mut rb,
            );
            assert_eq!(rb[0].op, Op::GaussianNoise);
            if ra[0].op != Op::Clean {
                assert_eq!(ra, rb);
            }
        }
    }

    #[test]
    fn zero_sigma_is_identity_on_both_paths() {
        let mut img: Vec<u8> = (0..=255).collect();
        noise_u8(Op::GaussianNoise, 0.0, 3, &mut img);
        assert!(img.iter().enumerate().all(|(i, &v)| v as usize == i));
        let mut f: Vec<f32> = (0..100).map(|i| i as f32 / 99.0).collect();
        let orig = f.clone();
        noise_f32(Op::SpeckleNoise, 0.0, 3, &mut f);
        assert_eq!(f, orig);
    }
}
