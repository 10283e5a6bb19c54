//! Digital family: contrast, elastic_transform, pixelate, jpeg_compression, saturate
//! (ALGORITHMS.md §4.12–4.15, §4.19). Only elastic_transform draws random numbers; the others give
//! the same bytes in fast and numpy mode.

pub mod contrast;
pub mod elastic_transform;
pub mod jpeg_compression;
pub mod pixelate;
pub mod saturate;
