//! Kernels that two or more corruptions share (and only those: a helper with one user lives
//! next to that corruption, e.g. `corruptions/weather/fog/plasma.rs`): the blur primitives of
//! ALGORITHMS.md P1–P5 and P12 (Gaussian filter, 2-D correlation and disk kernel, line motion
//! blur, clipped zoom, bilinear `map_coordinates`), their fast-mode variants, HSV conversion,
//! resampling, noise sampling tables and normals, quantisation and clipping, fixed-point RGB
//! blends of per-pixel terms (fog, spatter), and pooled scratch buffers. Private to the crate:
//! the public API is [`crate::api`].
//!
//! Each hand-vectorised kernel sits next to its plain scalar twin, declared together with
//! `crate::simd::dispatch!`, and tests hold the two equal at every ISA the machine has.

pub mod fastblur;
pub mod fastgauss;
pub mod fastmath;
pub mod fft;
pub mod filter2d;
pub mod gaussian;
pub mod hsv;
pub mod map_coords;
pub mod motion;
pub mod noise_table;
pub mod normal;
pub mod quantise;
pub mod resample;
pub mod rgb_fixed;
pub mod scratch;
pub mod zoom;

#[cfg(test)]
pub mod testdata;
