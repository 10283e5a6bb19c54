//! Composition: apply several policies in order, or one of several.

use super::noise::DECISION_STREAM;
use super::{Applied, Augment, BatchPosition, Shape};
use crate::error::{Error, Result};
use crate::rng::{derive_seed, FastRng};

/// Apply every policy in order. Step `k` draws from `derive_seed(seed, [b"sequence", k LE])`,
/// so adding a step at the end does not change what the earlier steps draw.
///
/// ```
/// use imgcorrupt::augment::{Augment, RandomCorruption, SampleKey, Sequence, Shape, SpeckleNoiseTraining};
/// use imgcorrupt::Corruption;
/// let seq = Sequence::new()
///     .then(RandomCorruption::new(&[Corruption::Saturate]).unwrap())
///     .then(SpeckleNoiseTraining::new());
/// let shape = Shape::new(4, 4, 3);
/// let mut img = vec![0.5f32; shape.len()];
/// let rec = seq.apply_f32(&mut img, shape, SampleKey::new(0, 0, 0)).unwrap();
/// assert_eq!(rec.steps.len(), 2);
/// ```
#[derive(Default)]
pub struct Sequence {
    steps: Vec<Box<dyn Augment>>,
}

impl Sequence {
    /// An empty sequence (the identity).
    pub fn new() -> Sequence {
        Sequence::default()
    }

    /// Builder: append a policy.
    pub fn then(mut self, policy: impl Augment + 'static) -> Sequence {
        self.steps.push(Box::new(policy));
        self
    }

    /// Builder: append a boxed policy.
    pub fn then_boxed(mut self, policy: Box<dyn Augment>) -> Sequence {
        self.steps.push(policy);
        self
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True when there are no steps.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl Augment for Sequence {
    fn plan(&self, seed: u64, position: Option<BatchPosition>, out: &mut Vec<Applied>) {
        for (k, step) in self.steps.iter().enumerate() {
            let s = derive_seed(seed, &[b"sequence", &(k as u64).to_le_bytes()]);
            step.plan(s, position, out);
        }
    }

    fn warnings(&self) -> Vec<String> {
        self.steps.iter().flat_map(|s| s.warnings()).collect()
    }

    fn warns(&self) -> bool {
        self.steps.iter().any(|s| s.warns())
    }

    fn check_shape(&self, shape: Shape) -> Result<()> {
        self.steps.iter().try_for_each(|s| s.check_shape(shape))
    }
}

/// Apply one of several policies, chosen per sample (uniformly, or by weights). The choice is
/// drawn from Philox stream 0 of the sample seed; choice `k` then draws from
/// `derive_seed(seed, [b"one_of", k LE])`.
///
/// ```
/// use imgcorrupt::augment::{Augment, GaussianNoiseTraining, OneOf, SpeckleNoiseTraining};
/// let policy = OneOf::new()
///     .or(GaussianNoiseTraining::multi().allow_benchmark_corruptions())
///     .or(SpeckleNoiseTraining::new())
///     .with_weights(&[1.0, 3.0])
///     .unwrap();
/// assert!(policy.warnings().is_empty());
/// ```
#[derive(Default)]
pub struct OneOf {
    choices: Vec<Box<dyn Augment>>,
    /// Unnormalised weights (empty = uniform).
    weights: Vec<f64>,
}

impl OneOf {
    /// No choices yet; add them with [`or`](OneOf::or). Applying an empty `OneOf` is the
    /// identity.
    pub fn new() -> OneOf {
        OneOf::default()
    }

    /// Builder: add a choice.
    pub fn or(mut self, policy: impl Augment + 'static) -> OneOf {
        self.choices.push(Box::new(policy));
        self
    }

    /// Builder: add a boxed choice.
    pub fn or_boxed(mut self, policy: Box<dyn Augment>) -> OneOf {
        self.choices.push(policy);
        self
    }

    /// Builder: choice weights, one per choice (non-negative, not all zero), so call it after
    /// the last [`or`](OneOf::or): a choice added afterwards makes every apply an error.
    pub fn with_weights(mut self, weights: &[f64]) -> Result<OneOf> {
        if weights.len() != self.choices.len() {
            return Err(Error::InvalidArgument(format!(
                "OneOf has {} choices but {} weights",
                self.choices.len(),
                weights.len()
            )));
        }
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0))
            || weights.iter().sum::<f64>() <= 0.0
        {
            return Err(Error::InvalidArgument(format!(
                "OneOf weights must be finite, >= 0 and not all zero, got {weights:?}"
            )));
        }
        self.weights = weights.to_vec();
        Ok(self)
    }

    fn choose(&self, seed: u64) -> usize {
        let mut rng = FastRng::with_stream(seed, DECISION_STREAM);
        let n = self.choices.len();
        if self.weights.is_empty() {
            return rng.randint(0, n as i64) as usize;
        }
        let total: f64 = self.weights.iter().sum();
        let u = rng.next_f64() * total;
        let mut acc = 0.0;
        for (k, w) in self.weights.iter().enumerate() {
            acc += w;
            if u < acc {
                return k;
            }
        }
        // Rounding left u at the very top: take the last choice with positive weight.
        self.weights.iter().rposition(|&w| w > 0.0).unwrap_or(n - 1)
    }
}

impl Augment for OneOf {
    fn plan(&self, seed: u64, position: Option<BatchPosition>, out: &mut Vec<Applied>) {
        if self.choices.is_empty() {
            return;
        }
        let k = self.choose(seed);
        let s = derive_seed(seed, &[b"one_of", &(k as u64).to_le_bytes()]);
        self.choices[k].plan(s, position, out);
    }

    fn warnings(&self) -> Vec<String> {
        self.choices.iter().flat_map(|s| s.warnings()).collect()
    }

    fn warns(&self) -> bool {
        self.choices.iter().any(|s| s.warns())
    }

    fn check_shape(&self, shape: Shape) -> Result<()> {
        if !self.weights.is_empty() && self.weights.len() != self.choices.len() {
            // A choice added after `with_weights` would otherwise never be chosen.
            return Err(Error::InvalidArgument(format!(
                "OneOf has {} choices but {} weights: call with_weights after the last `or`",
                self.choices.len(),
                self.weights.len()
            )));
        }
        self.choices.iter().try_for_each(|s| s.check_shape(shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::{GaussianNoiseTraining, Op, SpeckleNoiseTraining};

    #[test]
    fn one_of_weights() {
        let p = OneOf::new()
            .or(GaussianNoiseTraining::single(0.5).with_p_clean(0.0))
            .or(SpeckleNoiseTraining::new().with_p_clean(0.0))
            .with_weights(&[0.0, 1.0])
            .unwrap();
        let mut out = Vec::new();
        for seed in 0..100 {
            p.plan(seed, None, &mut out);
        }
        assert!(out.iter().all(|a| a.op == Op::SpeckleNoise));
        assert!(OneOf::new()
            .or(SpeckleNoiseTraining::new())
            .with_weights(&[])
            .is_err());
        assert!(OneOf::new()
            .or(SpeckleNoiseTraining::new())
            .with_weights(&[0.0])
            .is_err());
    }

    #[test]
    fn sequence_prefix_is_stable() {
        let a = Sequence::new().then(GaussianNoiseTraining::multi());
        let b = Sequence::new()
            .then(GaussianNoiseTraining::multi())
            .then(SpeckleNoiseTraining::new());
        let (mut ra, mut rb) = (Vec::new(), Vec::new());
        a.plan(11, None, &mut ra);
        b.plan(11, None, &mut rb);
        assert_eq!(ra[0], rb[0]);
        assert_eq!(rb.len(), 2);
        assert!(b.warns() && b.warnings().len() == 1);
    }
}
