//! Kernels shared by all corruptions: CPU dispatch, colour conversion, resampling, JPEG, noise
//! sampling tables. Each hand-vectorised kernel sits next to its plain scalar twin, and tests hold
//! the two equal; the public entry point picks one at run time with [`cpu::isa`].

pub mod cpu;
pub mod hsv;
pub mod jpeg;
pub mod noise_table;
pub mod plasma;
pub mod resample;
