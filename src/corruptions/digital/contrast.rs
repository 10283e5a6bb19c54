//! `contrast` (ALGORITHMS.md §4.12): contrast reduction around the per-channel mean. Draws no random
//! numbers.

use serde::Deserialize;

use crate::corruptions::params::{check_row, nonneg, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::quantise::unit_to_u8;

/// The `[contrast]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Factor applied around the per-channel mean.
    pub factor: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row("contrast.factor", &self.factor, nonneg, ">= 0")
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            factor: crate::corruptions::params::lerp_row(&self.factor, s, Some(1.0))?,
        })
    }
}

/// `(x − μ)·c + μ` with μ the per-channel mean of `x = v/255`.
///
/// The output depends only on (channel, value), so after the means are known the image is
/// mapped through three 256-entry tables computed with the reference's f64 expression.
pub fn contrast(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let c = p.factor[job.level];
    // NumPy reduces axes (0, 1) of an HxWx3 array with the channel axis innermost: a sequential
    // sum per channel in pixel order, then one division by the count.
    // x = v/255 is one of 256 values: look them up instead of dividing (same f64 values).
    let count = (job.width * job.height) as f64;
    let means: [f64; 3] = if job.rng.is_reference() {
        let unit: [f64; 256] = std::array::from_fn(|v| v as f64 / 255.0);
        let mut sums = [0f64; 3];
        for px in job.src.chunks_exact(3) {
            sums[0] += unit[px[0] as usize];
            sums[1] += unit[px[1] as usize];
            sums[2] += unit[px[2] as usize];
        }
        sums.map(|s| s / count)
    } else {
        // Fast mode (ALGORITHMS.md §4.12): the exact integer sum, divided once. The sequential
        // f64 sum above is three dependent chains of one add per pixel (latency-bound, most of
        // this corruption's time); the two means differ by ~10⁻¹² (the sequential sum's
        // rounding), which moves a table entry only if it falls that close to a byte boundary.
        channel_sums(job.src).map(|s| s as f64 / (255.0 * count))
    };
    let mut lut = [[0u8; 256]; 3];
    for ch in 0..3 {
        let mean = means[ch];
        for (v, out) in lut[ch].iter_mut().enumerate() {
            *out = unit_to_u8((v as f64 / 255.0 - mean) * c + mean);
        }
    }
    for (s, d) in job.src.chunks_exact(3).zip(job.dst.chunks_exact_mut(3)) {
        for ch in 0..3 {
            d[ch] = lut[ch][s[ch] as usize];
        }
    }
    Ok(())
}

/// Exact per-channel sums of interleaved RGB8 values (vectorises: 48-value lanes of u32,
/// flushed to u64 every 2¹⁶ rows of lanes so no lane can overflow).
fn channel_sums(src: &[u8]) -> [u64; 3] {
    const L: usize = 48; // 16 pixels; a multiple of 3, so lane i is channel i % 3
    let mut total = [0u64; 3];
    for block in src.chunks(L << 16) {
        let mut acc = [0u32; L];
        let mut lanes = block.chunks_exact(L);
        for chunk in &mut lanes {
            let chunk: &[u8; L] = chunk.try_into().expect("whole lanes");
            for i in 0..L {
                acc[i] += chunk[i] as u32;
            }
        }
        for (i, &a) in acc.iter().enumerate() {
            total[i % 3] += a as u64;
        }
        // the remainder starts at a multiple of 48 (of 3) within the block
        for (i, &v) in lanes.remainder().iter().enumerate() {
            total[i % 3] += v as u64;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_sums_are_exact() {
        for n in [0usize, 1, 15, 16, 17, 1000] {
            let src: Vec<u8> = (0..3 * n).map(|i| ((i * 7919) % 256) as u8).collect();
            let mut want = [0u64; 3];
            for (i, &v) in src.iter().enumerate() {
                want[i % 3] += v as u64;
            }
            assert_eq!(channel_sums(&src), want, "{n} pixels");
        }
    }
}
