//! Noise family: gaussian_noise, shot_noise, impulse_noise, speckle_noise (ALGORITHMS.md §4.1–4.3,
//! §4.16).
//!
//! Each output value depends only on its own input value and independent draws. In fast mode,
//! shot_noise and impulse_noise tabulate the exact output distribution of the reference (noise,
//! clipping and truncation included) once per parameter and sample it with one 32-bit word per
//! value ([`crate::kernels::noise_table`]); gaussian_noise and speckle_noise compute f32
//! Box–Muller normals from one word per pair of values and add, clip and truncate them in one
//! pass ([`crate::kernels::normal::noise_bytes`]: no table gathers, which were the bottleneck).
//! In numpy mode the reference algorithm is followed draw for draw.

pub mod gaussian_noise;
pub mod impulse_noise;
pub mod shot_noise;
pub mod speckle_noise;

use crate::corruptions::Job;
use crate::kernels::quantise::unit_to_u8;

/// Values processed per block of reference draws (keeps the draw buffer in L1/L2).
const BLOCK: usize = 4096;

/// Numpy mode of the two normal noises (gaussian_noise, speckle_noise): `H·W·3` draws
/// `N(0, σ)` in pixel order, `unit_to_u8(f(x, n))` per value with `x = v/255` in f64.
#[inline(always)]
fn normal_noise_reference(job: &mut Job<'_>, sigma: f64, f: impl Fn(f64, f64) -> f64) {
    let mut draws = [0f64; BLOCK];
    for (src, dst) in job.src.chunks(BLOCK).zip(job.dst.chunks_mut(BLOCK)) {
        let draws = &mut draws[..src.len()];
        job.rng.fill_normal(draws, 0.0, sigma);
        for ((&v, d), &n) in src.iter().zip(dst.iter_mut()).zip(draws.iter()) {
            *d = unit_to_u8(f(v as f64 / 255.0, n));
        }
    }
}
