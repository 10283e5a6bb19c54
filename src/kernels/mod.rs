//! Kernels shared by all corruptions: CPU dispatch, colour conversion, resampling, JPEG, noise
//! sampling tables, and the blur primitives of spec P1–P5 and P12 (Gaussian filter, 2-D
//! correlation and disk kernel, line motion blur, clipped zoom, bilinear `map_coordinates`).
//! Each hand-vectorised kernel sits next to its plain scalar twin, and tests hold the two equal;
//! the public entry point picks one at run time with `crate::simd::dispatch!`.

pub mod blend;
pub mod fastblur;
pub mod fastgauss;
pub mod filter2d;
pub mod frost;
pub mod gaussian;
pub mod hsv;
pub mod map_coords;
pub mod motion;
pub mod noise_table;
pub mod normal;
pub mod opencv;
pub mod quantise;
pub mod resample;
pub mod scratch;
pub mod zoom;
