//! Histogram matching of f32 samples to a target distribution given by its quantiles (used by
//! the `statistics` stylization backend, [`crate::stylize::statistics`]).
//!
//! The target is summarised once by [`Quantiles`] (sorted samples read at `QUANTILES + 1`
//! evenly spaced ranks). The source is mapped in O(n): a [`BINS`]-bin histogram over its
//! range gives a piecewise-linear CDF, each value goes to its CDF rank `u ∈ [0, 1]` and then to
//! the target's quantile at `u` (linear interpolation). The map is monotone non-decreasing, so
//! the order of values (and hence edges and shapes) is kept; only the value distribution
//! changes. A constant source maps to the target median.

/// Quantile table resolution: 1025 points (ranks 0, 1/1024, …, 1).
pub const QUANTILES: usize = 1024;
/// Source histogram bins.
pub const BINS: usize = 4096;

/// A distribution summarised by `QUANTILES + 1` quantiles.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantiles(pub Vec<f32>);

impl Quantiles {
    /// Quantiles of `values` (empty input → all zeros).
    pub fn of(values: &[f32]) -> Quantiles {
        if values.is_empty() {
            return Quantiles(vec![0.0; QUANTILES + 1]);
        }
        let mut v = values.to_vec();
        v.sort_unstable_by(f32::total_cmp);
        let last = (v.len() - 1) as f64;
        Quantiles(
            (0..=QUANTILES)
                .map(|i| {
                    let pos = last * i as f64 / QUANTILES as f64;
                    let lo = pos.floor() as usize;
                    let hi = (lo + 1).min(v.len() - 1);
                    let f = (pos - lo as f64) as f32;
                    v[lo] + (v[hi] - v[lo]) * f
                })
                .collect(),
        )
    }

    /// The value at rank `u ∈ [0, 1]`.
    #[inline]
    pub fn at(&self, u: f32) -> f32 {
        let pos = u.clamp(0.0, 1.0) * QUANTILES as f32;
        let lo = (pos as usize).min(QUANTILES - 1);
        let f = pos - lo as f32;
        let q = &self.0;
        q[lo] + (q[lo + 1] - q[lo]) * f
    }
}

/// Replace every value by the target quantile at its rank in `values` (see module docs).
pub fn match_histogram(values: &mut [f32], target: &Quantiles) {
    if values.is_empty() {
        return;
    }
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in values.iter() {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi - lo <= f32::EPSILON * hi.abs().max(1.0) || !(hi - lo).is_finite() {
        let m = target.at(0.5);
        values.iter_mut().for_each(|v| *v = m);
        return;
    }
    let scale = BINS as f32 / (hi - lo);
    let bin = |v: f32| (((v - lo) * scale) as usize).min(BINS - 1);
    let mut hist = vec![0u32; BINS];
    for &v in values.iter() {
        hist[bin(v)] += 1;
    }
    // Rank of a value: (count below its bin + fraction of its bin) / n, with the fraction
    // taken linearly inside the bin; then centred by half a sample so that the minimum and
    // maximum map just inside the target's extremes, as mid-ranks do.
    let n = values.len() as f32;
    let mut below = vec![0f32; BINS];
    let mut acc = 0u64;
    for (b, &c) in below.iter_mut().zip(&hist) {
        *b = acc as f32;
        acc += c as u64;
    }
    let count: Vec<f32> = hist.iter().map(|&c| c as f32).collect();
    let inv_n = 1.0 / n;
    for v in values.iter_mut() {
        let t = (*v - lo) * scale;
        let b = (t as usize).min(BINS - 1);
        let frac = (t - b as f32).clamp(0.0, 1.0);
        let u = (below[b] + frac * count[b]) * inv_n;
        *v = target.at(u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matched_values_follow_the_target_distribution() {
        let src: Vec<f32> = (0..5000)
            .map(|i| ((i * 7919) % 5000) as f32 * 0.01)
            .collect();
        let tgt: Vec<f32> = (0..3000)
            .map(|i| 100.0 + (i as f32 / 3000.0).powi(2) * 50.0)
            .collect();
        let q = Quantiles::of(&tgt);
        let mut v = src.clone();
        match_histogram(&mut v, &q);
        let qa = Quantiles::of(&v);
        for (a, b) in qa.0.iter().zip(&q.0) {
            assert!((a - b).abs() < 0.2, "{a} vs {b}");
        }
        // monotone: order kept
        for i in 0..src.len() {
            for j in [0usize, 17, 4999] {
                if src[i] < src[j] {
                    assert!(v[i] <= v[j]);
                }
            }
        }
    }

    #[test]
    fn constant_source_maps_to_median() {
        let q = Quantiles::of(&[1.0, 2.0, 3.0]);
        let mut v = vec![42.0f32; 10];
        match_histogram(&mut v, &q);
        assert!(v.iter().all(|&x| (x - 2.0).abs() < 1e-6));
    }
}
