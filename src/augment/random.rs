//! `RandomCorruption`: one catalogue corruption at a random severity, with probability `p`.

use super::buffer::{check_corruption_channels, u8_to_unit_f32, unit_f32_to_u8, SCRATCH_U8};
use super::noise::DECISION_STREAM;
use super::{guard, Applied, Augment, BatchPosition, Op, Shape};
use crate::api::{corrupt_in_place, PixelLayout, Settings};
use crate::catalogue::{self, Corruption};
use crate::error::{Error, Result};
use crate::rng::FastRng;

/// Choose one corruption from a set (uniformly), a severity from a set or a discrete
/// distribution, and apply it with probability `p` (default 1).
///
/// The corruption runs through [`crate::corrupt_buffer`]'s machinery in fast RNG mode with
/// `Settings::new(step seed)`, so a step is replayable from its [`Applied`] record. On 8-bit
/// buffers it works in place (1 to 4 channels, see [`crate::PixelLayout`]); on f32 CHW buffers
/// the image is converted to 8-bit HWC in a reused per-thread scratch buffer (rounding to
/// nearest), corrupted, and converted back (`v / 255`), so the output of a corrupted f32 sample
/// is quantised to 256 levels like the library's output.
///
/// Every corruption of the set must be implemented in this build: the constructor fails naming
/// the ones that are not. Sets containing benchmark (`common`) corruptions carry the held-out
/// warning (ALGORITHMS.md §2) unless [`allow_benchmark_corruptions`](Self::allow_benchmark_corruptions)
/// is called.
///
/// ```
/// use imgcorrupt::augment::{Augment, RandomCorruption, SampleKey, Shape};
/// // The four held-out validation corruptions, severities 1-3, p = 0.8.
/// let policy = RandomCorruption::from_selection("validation")
///     .unwrap()
///     .with_severities(&[1, 2, 3])
///     .unwrap()
///     .with_probability(0.8);
/// assert!(policy.warnings().is_empty()); // validation corruptions: no benchmark warning
/// let shape = Shape::new(40, 40, 3);
/// let mut img = vec![90u8; shape.len()];
/// let record = policy.apply_u8(&mut img, shape, SampleKey::new(5, 1, 77)).unwrap();
/// println!("{record:?}");
/// ```
#[derive(Clone, Debug)]
pub struct RandomCorruption {
    corruptions: Vec<Corruption>,
    severities: Vec<u8>,
    /// Cumulative severity weights, normalised so that the last is 1.
    cumulative: Vec<f64>,
    p: f64,
    allow_benchmark: bool,
}

impl RandomCorruption {
    /// Uniform choice from `corruptions` (duplicates count twice), severities 1..=5 uniform,
    /// `p = 1`. Errors if the list is empty or names corruptions this build does not implement.
    pub fn new(corruptions: &[Corruption]) -> Result<RandomCorruption> {
        if corruptions.is_empty() {
            return Err(Error::InvalidArgument(
                "RandomCorruption needs at least one corruption".into(),
            ));
        }
        if corruptions.contains(&Corruption::Stylize) {
            return Err(Error::InvalidArgument(
                "RandomCorruption: stylize needs a style source and is not a random augmentation; use Settings::with_stylizer with corrupt_buffer".into(),
            ));
        }
        let mut rc = RandomCorruption {
            corruptions: corruptions.to_vec(),
            severities: Vec::new(),
            cumulative: Vec::new(),
            p: 1.0,
            allow_benchmark: false,
        };
        rc.set_weights(&[(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0), (5, 1.0)])?;
        Ok(rc)
    }

    /// [`RandomCorruption::new`] from a selection string of names, subsets and families
    /// (`"validation"`, `"noise,saturate"`, …; see [`catalogue::select`]).
    pub fn from_selection(spec: &str) -> Result<RandomCorruption> {
        RandomCorruption::new(&catalogue::select(spec)?)
    }

    /// Builder: severity uniform from `severities` (each 1..=5).
    pub fn with_severities(self, severities: &[u8]) -> Result<Self> {
        let w: Vec<(u8, f64)> = severities.iter().map(|&s| (s, 1.0)).collect();
        self.with_severity_weights(&w)
    }

    /// Builder: severity from a discrete distribution `(severity, weight)`; weights are
    /// non-negative and need not sum to 1.
    pub fn with_severity_weights(mut self, weights: &[(u8, f64)]) -> Result<Self> {
        self.set_weights(weights)?;
        Ok(self)
    }

    fn set_weights(&mut self, weights: &[(u8, f64)]) -> Result<()> {
        if let Some(&(s, _)) = weights.iter().find(|(s, _)| !(1..=5).contains(s)) {
            return Err(Error::InvalidSeverity(s as i64));
        }
        if let Some(&(_, w)) = weights.iter().find(|(_, w)| !(w.is_finite() && *w >= 0.0)) {
            return Err(Error::InvalidArgument(format!(
                "severity weights must be finite and >= 0, got {w}"
            )));
        }
        let total: f64 = weights.iter().map(|(_, w)| w).sum();
        if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(Error::InvalidArgument(
                "severity weights must not all be zero (or empty)".into(),
            ));
        }
        let mut acc = 0.0;
        self.severities = weights.iter().map(|&(s, _)| s).collect();
        self.cumulative = weights
            .iter()
            .map(|(_, w)| {
                acc += w;
                acc / total
            })
            .collect();
        Ok(())
    }

    /// Builder: probability of corrupting a sample (default 1).
    ///
    /// # Panics
    /// If `p` is outside [0, 1] or NaN.
    pub fn with_probability(mut self, p: f64) -> Self {
        assert!((0.0..=1.0).contains(&p), "p must be in [0, 1], got {p}");
        self.p = p;
        self
    }

    /// Builder: acknowledge training on benchmark corruptions (silences the held-out warning).
    pub fn allow_benchmark_corruptions(mut self) -> Self {
        self.allow_benchmark = true;
        self
    }

    /// The corruption set.
    pub fn corruptions(&self) -> &[Corruption] {
        &self.corruptions
    }

    /// Probability of corrupting a sample.
    pub fn probability(&self) -> f64 {
        self.p
    }

    fn uses_benchmark(&self) -> bool {
        self.corruptions
            .iter()
            .any(|c| c.subset() == catalogue::Subset::Common)
    }
}

impl Augment for RandomCorruption {
    fn plan(&self, seed: u64, _position: Option<BatchPosition>, out: &mut Vec<Applied>) {
        let mut rng = FastRng::with_stream(seed, DECISION_STREAM);
        // All three draws are always made: the choice of corruption and severity does not
        // depend on p.
        let u = rng.next_f64();
        let k = rng.randint(0, self.corruptions.len() as i64) as usize;
        let v = rng.next_f64();
        if u >= self.p {
            out.push(Applied::clean(seed));
            return;
        }
        let j = self
            .cumulative
            .iter()
            .position(|&c| v < c)
            .unwrap_or(self.severities.len() - 1);
        out.push(Applied {
            op: Op::Corruption,
            sigma: None,
            corruption: Some(self.corruptions[k]),
            severity: Some(self.severities[j]),
            seed,
        });
    }

    fn warnings(&self) -> Vec<String> {
        if self.allow_benchmark {
            return Vec::new();
        }
        guard::benchmark_warning_text("RandomCorruption", &self.corruptions)
            .into_iter()
            .collect()
    }

    fn warns(&self) -> bool {
        !self.allow_benchmark && self.uses_benchmark()
    }

    fn check_shape(&self, shape: Shape) -> Result<()> {
        check_corruption_channels(shape)
    }
}

fn layout(channels: usize) -> Result<PixelLayout> {
    Ok(match channels {
        1 => PixelLayout::Gray,
        2 => PixelLayout::GrayAlpha,
        3 => PixelLayout::Rgb,
        4 => PixelLayout::Rgba,
        _ => {
            check_corruption_channels(Shape::new(1, 1, channels))?;
            unreachable!("checked above")
        }
    })
}

/// Apply a recorded corruption to an 8-bit HWC image in place.
pub(super) fn corrupt_u8(
    c: Corruption,
    severity: u8,
    seed: u64,
    img: &mut [u8],
    shape: Shape,
) -> Result<()> {
    corrupt_in_place(
        crate::api::ImageViewMut::new(img, shape.width, shape.height, layout(shape.channels)?),
        c,
        severity,
        &Settings::new(seed),
    )
}

/// Apply a recorded corruption to an f32 CHW image in place, through 8-bit HWC scratch.
pub(super) fn corrupt_f32(
    c: Corruption,
    severity: u8,
    seed: u64,
    img: &mut [f32],
    shape: Shape,
) -> Result<()> {
    let layout = layout(shape.channels)?;
    // Moved out of the thread-local, not borrowed, so that a nested call on this thread
    // (rayon work stealing inside a corruption) cannot hit a held borrow.
    let mut buf = SCRATCH_U8.with(|cell| std::mem::take(&mut *cell.borrow_mut()));
    let result = (|| {
        buf.resize(shape.len(), 0);
        let plane = shape.height * shape.width;
        let ch = shape.channels;
        for (p, px) in buf.chunks_exact_mut(ch).enumerate() {
            for (k, d) in px.iter_mut().enumerate() {
                *d = unit_f32_to_u8(img[k * plane + p]);
            }
        }
        corrupt_in_place(
            crate::api::ImageViewMut::new(&mut buf, shape.width, shape.height, layout),
            c,
            severity,
            &Settings::new(seed),
        )?;
        for (p, px) in buf.chunks_exact(ch).enumerate() {
            for (k, &v) in px.iter().enumerate() {
                img[k * plane + p] = u8_to_unit_f32(v);
            }
        }
        Ok(())
    })();
    SCRATCH_U8.with(|cell| *cell.borrow_mut() = buf);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_selections_are_refused() {
        assert!(RandomCorruption::new(&[]).is_err());
        let err = RandomCorruption::new(&[Corruption::Stylize]).unwrap_err();
        assert!(err.to_string().contains("stylize"), "{err}");
        assert!(RandomCorruption::from_selection("all").is_ok());
        assert!(RandomCorruption::from_selection("no_such_thing").is_err());
    }

    #[test]
    fn severity_validation() {
        let rc = RandomCorruption::new(&[Corruption::Saturate]).unwrap();
        assert!(rc.clone().with_severities(&[0]).is_err());
        assert!(rc.clone().with_severities(&[6]).is_err());
        assert!(rc.clone().with_severities(&[]).is_err());
        assert!(rc.clone().with_severity_weights(&[(2, -1.0)]).is_err());
        assert!(rc.clone().with_severity_weights(&[(2, 0.0)]).is_err());
        assert!(rc.with_severity_weights(&[(2, 0.0), (4, 3.0)]).is_ok());
    }

    #[test]
    fn severity_distribution_follows_weights() {
        let rc = RandomCorruption::new(&[Corruption::Saturate, Corruption::Contrast])
            .unwrap()
            .with_severity_weights(&[(1, 1.0), (3, 0.0), (5, 3.0)])
            .unwrap();
        let n = 20_000;
        let mut counts = [0usize; 6];
        let mut which = [0usize; 2];
        let mut out = Vec::new();
        for seed in 0..n as u64 {
            out.clear();
            rc.plan(seed, None, &mut out);
            counts[out[0].severity.unwrap() as usize] += 1;
            which[usize::from(out[0].corruption == Some(Corruption::Contrast))] += 1;
        }
        assert_eq!(counts[3], 0);
        // P(5) = 0.75, sd = sqrt(0.75·0.25/n) ≈ 0.0031; allow 5 sd.
        let f5 = counts[5] as f64 / n as f64;
        assert!((f5 - 0.75).abs() < 0.016, "{f5}");
        let f = which[0] as f64 / n as f64;
        assert!((f - 0.5).abs() < 0.018, "{f}");
    }

    #[test]
    fn probability_zero_and_one() {
        let rc = RandomCorruption::new(&[Corruption::Saturate]).unwrap();
        let mut out = Vec::new();
        rc.clone().with_probability(0.0).plan(1, None, &mut out);
        rc.with_probability(1.0).plan(1, None, &mut out);
        assert_eq!(out[0].op, Op::Clean);
        assert_eq!(out[1].op, Op::Corruption);
    }
}
