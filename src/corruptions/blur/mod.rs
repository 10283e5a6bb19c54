//! Blur family: defocus_blur, glass_blur, motion_blur, zoom_blur, gaussian_blur
//! (ALGORITHMS.md §4.4–4.7, §4.17).
//!
//! Working precision follows the reference in numpy mode (ALGORITHMS.md §4): defocus and
//! gaussian_blur in f64 on `[0, 1]` (fast mode uses the documented approximations of
//! [`crate::kernels::fastblur`] for these two); glass_blur in f64 with an intermediate
//! `trunc_u8`; motion_blur in f64 on the 0–255 scale; zoom_blur in f32. Only glass_blur and
//! motion_blur draw random numbers.
//!
//! Severity parameters are absolute pixel quantities, as in the reference (ALGORITHMS.md Quirk 11):
//! the blurs are visually weaker on large images. Images smaller than the reference's 32×32
//! minimum work: filters reflect/replicate borders (radii larger than the image included),
//! glass_blur has no pixel to shuffle when `H ≤ 2δ` or `W ≤ 2δ` (only the two Gaussian blurs
//! remain), and motion_blur drops the taps whose offset reaches the image size
//! (ALGORITHMS.md Quirk 9).

pub mod defocus_blur;
pub mod gaussian_blur;
pub mod glass_blur;
pub mod motion_blur;
pub mod zoom_blur;
