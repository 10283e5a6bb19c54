//! Noise family (spec §4.1–4.3, 4.16): gaussian_noise, shot_noise, impulse_noise, speckle_noise.
//!
//! Each output value depends only on its own input value and independent draws, so in fast mode
//! the exact output distribution of the reference (noise, clipping and truncation included) is
//! tabulated once per parameter and sampled with one 32-bit word per value
//! ([`crate::kernels::noise_table`]). In numpy mode the reference algorithm is followed draw for
//! draw.

use crate::corruptions::{unit_to_u8, Job};
use crate::error::Result;
use crate::kernels::noise_table::{self, NoiseKind};

/// Values processed per block of reference draws (keeps the draw buffer in L1/L2).
const BLOCK: usize = 4096;

/// `clip(x + N(0, σ), 0, 1)` with `H·W·3` normal draws.
pub fn gaussian_noise(job: &mut Job<'_>) -> Result<()> {
    let sigma = job.preset.gaussian_noise.sigma[job.level];
    if !job.rng.is_reference() {
        noise_table::get(NoiseKind::Gaussian, sigma).apply(job.src, job.dst, job.rng);
        return Ok(());
    }
    let mut draws = [0f64; BLOCK];
    for (src, dst) in job.src.chunks(BLOCK).zip(job.dst.chunks_mut(BLOCK)) {
        let draws = &mut draws[..src.len()];
        job.rng.fill_normal(draws, 0.0, sigma);
        for ((&v, d), &n) in src.iter().zip(dst.iter_mut()).zip(draws.iter()) {
            *d = unit_to_u8(v as f64 / 255.0 + n);
        }
    }
    Ok(())
}

/// `clip(Poisson(x·c) / c, 0, 1)`; λ = 0 draws nothing (NumPy legacy behaviour).
pub fn shot_noise(job: &mut Job<'_>) -> Result<()> {
    let c = job.preset.shot_noise.photons[job.level];
    if !job.rng.is_reference() {
        noise_table::get(NoiseKind::Shot, c).apply(job.src, job.dst, job.rng);
        return Ok(());
    }
    // λ = x·c takes one value per input byte.
    let lams: [f64; 256] = std::array::from_fn(|v| v as f64 / 255.0 * c);
    let mut counts = [0u64; BLOCK];
    for (src, dst) in job.src.chunks(BLOCK).zip(job.dst.chunks_mut(BLOCK)) {
        let counts = &mut counts[..src.len()];
        job.rng.fill_poisson_indexed(&lams, src, counts);
        for (d, &k) in dst.iter_mut().zip(counts.iter()) {
            *d = unit_to_u8(k as f64 / c);
        }
    }
    Ok(())
}

/// Salt and pepper per channel: legacy scikit-image `random_noise(mode='s&p')`: a flip mask
/// `u < p` over the whole array, then a salt mask `u < 0.5` over the whole array.
pub fn impulse_noise(job: &mut Job<'_>) -> Result<()> {
    let p = job.preset.impulse_noise.amount[job.level];
    if !job.rng.is_reference() {
        noise_table::get(NoiseKind::Impulse, p).apply(job.src, job.dst, job.rng);
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

/// `clip(x + x·N(0, σ), 0, 1)` with `H·W·3` normal draws.
pub fn speckle_noise(job: &mut Job<'_>) -> Result<()> {
    let sigma = job.preset.speckle_noise.sigma[job.level];
    if !job.rng.is_reference() {
        noise_table::get(NoiseKind::Speckle, sigma).apply(job.src, job.dst, job.rng);
        return Ok(());
    }
    let mut draws = [0f64; BLOCK];
    for (src, dst) in job.src.chunks(BLOCK).zip(job.dst.chunks_mut(BLOCK)) {
        let draws = &mut draws[..src.len()];
        job.rng.fill_normal(draws, 0.0, sigma);
        for ((&v, d), &n) in src.iter().zip(dst.iter_mut()).zip(draws.iter()) {
            let x = v as f64 / 255.0;
            *d = unit_to_u8(x + x * n);
        }
    }
    Ok(())
}
