//! `impulse_noise` (ALGORITHMS.md §4.3): salt-and-pepper noise, drawn per channel.

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::quantise::unit_to_u8;
use crate::rng::RandomSource;
use crate::simd::dispatch;

use super::BLOCK;

/// The `[impulse_noise]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Probability that a channel value is replaced.
    pub amount: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "impulse_noise.amount",
            &self.amount,
            |v| (0.0..=1.0).contains(&v),
            "in [0, 1]",
        )
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            amount: crate::corruptions::params::lerp_row(&self.amount, s, Some(0.0))?,
        })
    }
}

/// Salt and pepper per channel: legacy scikit-image `random_noise(mode='s&p')`: a flip mask
/// `u < p` over the whole array, then a salt mask `u < 0.5` over the whole array.
pub fn impulse_noise(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let p = p.amount[job.level];
    if !job.rng.is_reference() {
        fast(job.src, job.dst, job.rng, p);
        return Ok(());
    }
    // np.random.choice([True, False], p=[p, 1-p]) compares u with the normalised cdf[0].
    let flip_threshold = p / (p + (1.0 - p));
    let mut draws = [0f64; BLOCK];
    let mut flipped = vec![false; job.src.len()];
    for chunk in flipped.chunks_mut(BLOCK) {
        let draws = &mut draws[..chunk.len()];
        job.rng.fill_uniform(draws, 0.0, 1.0);
        for (f, &u) in chunk.iter_mut().zip(draws.iter()) {
            *f = u < flip_threshold;
        }
    }
    for ((src, dst), flip) in job
        .src
        .chunks(BLOCK)
        .zip(job.dst.chunks_mut(BLOCK))
        .zip(flipped.chunks(BLOCK))
    {
        let draws = &mut draws[..src.len()];
        job.rng.fill_uniform(draws, 0.0, 1.0);
        for i in 0..src.len() {
            dst[i] = match (flip[i], draws[i] < 0.5) {
                (true, true) => 255,
                (true, false) => 0,
                (false, _) => unit_to_u8(src[i] as f64 / 255.0),
            };
        }
    }
    Ok(())
}

/// Fast mode (ALGORITHMS.md §4.3): one Philox word `u` per value, salt (255) if
/// `u < t/2`, pepper (0) if `t/2 ≤ u < t`, else the value itself, with `t = round(p·2³²)`.
///
/// That is the reference's output law exactly up to the 2⁻³² quantisation of `p` (the kept
/// value `trunc_u8(x·255)` with `x = v/255` is `v` for every byte; tested): replaced with
/// probability `p`, by 255 or 0 with equal probability. It replaces the 256 alias tables that
/// shot_noise still uses: those cost a 256 KiB table and an AVX2 gather per 8 values, where
/// this takes two unsigned compares and two blends per 32 values.
fn fast(src: &[u8], dst: &mut [u8], rng: &mut dyn RandomSource, p: f64) {
    let t = (p.clamp(0.0, 1.0) * 4_294_967_296.0).round() as u64;
    // `t = 2³²` (p = 1, or within 2⁻³³ of it) is no u32 bound: every value is replaced, salt
    // for the lower half of the words.
    let (salt, flip, all) = match u32::try_from(t) {
        Ok(t) => (t / 2, t, false),
        Err(_) => (1 << 31, 0, true),
    };
    const CHUNK: usize = 8192;
    let mut words = [0u32; CHUNK];
    for (s, d) in src.chunks(CHUNK).zip(dst.chunks_mut(CHUNK)) {
        let w = &mut words[..s.len()];
        rng.fill_u32(w);
        if all {
            for (d, &w) in d.iter_mut().zip(w.iter()) {
                *d = if w < salt { 255 } else { 0 };
            }
        } else {
            impulse_bytes(s, w, salt, flip, d);
        }
    }
}

dispatch! {
    /// `dst[i]` = 255 if `words[i] < salt`, 0 if `salt ≤ words[i] < flip`, else `src[i]`
    /// (`salt ≤ flip`); the compiler vectorises the loop, the AVX2 build is bit-identical.
    fn impulse_bytes / impulse_bytes_scalar / impulse_bytes_avx2 (src: &[u8], words: &[u32], salt: u32, flip: u32, dst: &mut [u8]) {
        for ((d, &v), &w) in dst.iter_mut().zip(src).zip(words) {
            let kept = if w < flip { 0 } else { v };
            *d = if w < salt { 255 } else { kept };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::noise_table::{distribution, NoiseKind};
    use crate::rng::FastRng;
    use crate::simd;

    #[test]
    fn kept_values_are_the_input_bytes() {
        // the reference keeps trunc_u8(x·255) with x = v/255: v itself for every byte
        for v in 0..=255u8 {
            assert_eq!(unit_to_u8(v as f64 / 255.0), v);
        }
    }

    #[test]
    fn impulse_bytes_avx2_equals_scalar() {
        let n = 1003;
        let mut rng = FastRng::new(4);
        let mut words = vec![0u32; n];
        rng.fill_u32(&mut words);
        // thresholds at the word extremes too
        words[..4].copy_from_slice(&[0, 1, u32::MAX - 1, u32::MAX]);
        let src: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
        for (salt, flip) in [
            (0, 0),
            (5, 10),
            (1 << 30, 1 << 31),
            (u32::MAX / 2, u32::MAX),
        ] {
            let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
            impulse_bytes_scalar(&src, &words, salt, flip, &mut a);
            for isa in simd::available() {
                dispatch!(at isa; impulse_bytes_scalar / impulse_bytes_avx2(&src, &words, salt, flip, &mut b));
                assert_eq!(a, b, "{isa:?} salt {salt} flip {flip}");
            }
        }
    }

    /// Statistics test of the fast sampler against the reference's exact output law per input
    /// byte (`noise_table::distribution`, which models scikit-image's flip and salt masks):
    /// for each amount and input byte, the counts of 0, 255 and the kept byte are each within
    /// 5 binomial standard deviations of their expectation. A 2 % error in the flip rate at
    /// amount 0.03 moves the kept count by 7 sd at this size, and a 2 % imbalance between salt
    /// and pepper at amount 0.17 moves each by 8 sd.
    #[test]
    fn fast_sampler_has_the_reference_output_law() {
        let n = 1 << 22;
        for (k, amount) in [0.0, 0.03, 0.17, 0.27, 0.5, 0.999, 1.0]
            .into_iter()
            .enumerate()
        {
            for v in [0u8, 1, 77, 128, 254, 255] {
                let src = vec![v; n];
                let mut dst = vec![0u8; n];
                fast(
                    &src,
                    &mut dst,
                    &mut FastRng::new(k as u64 * 256 + v as u64),
                    amount,
                );
                let law = distribution(NoiseKind::Impulse, amount, v);
                let mut counts = [0u64; 256];
                dst.iter().for_each(|&b| counts[b as usize] += 1);
                let seen: u64 = [0usize, 255, v as usize]
                    .iter()
                    .collect::<std::collections::BTreeSet<_>>()
                    .iter()
                    .map(|&&b| counts[b])
                    .sum();
                assert_eq!(seen, n as u64, "amount {amount} v {v}: only 0, 255, v");
                for b in [0usize, 255, v as usize] {
                    let e = law[b] * n as f64;
                    let sd = (e * (1.0 - law[b])).sqrt().max(1.0);
                    let got = counts[b] as f64;
                    assert!(
                        (got - e).abs() <= 5.0 * sd,
                        "amount {amount} v {v} byte {b}: {got} vs {e:.1} (sd {sd:.1})"
                    );
                }
            }
        }
    }
}
