//! # imgcorrupt
//!
//! Common-corruption ("-C") benchmarks and augmentations for computer vision: the 19 corruptions
//! of ImageNet-C / `imagecorruptions` as pure functions of (image, corruption, severity, seed).
//!
//! * [`corrupt`] / [`corrupt_with`] work on [`image::DynamicImage`]s (greyscale, grey+alpha, RGB,
//!   RGBA, 8-bit), [`corrupt_buffer`] / [`corrupt_in_place`] on borrowed HWC byte buffers for
//!   training loops.
//! * Two RNG modes ([`RngMode`]): `Fast` (default; a keyed counter-based generator, the same
//!   output distributions as the reference) and `Numpy` (MT19937 and NumPy's legacy samplers,
//!   reproducing a seeded `imagecorruptions` 1.1.2 run draw for draw).
//! * The parameter tables are data ([`preset::Preset`], `corruptions/*.toml`).
//!
//! ```
//! use imgcorrupt::{corrupt, Corruption};
//! let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(64, 48, image::Rgb([120, 80, 200])));
//! let out = corrupt(&img, Corruption::GaussianNoise, 3, 42).unwrap();
//! assert_eq!((out.width(), out.height()), (64, 48));
//! // a pure function: same inputs, same bytes
//! assert_eq!(out, corrupt(&img, Corruption::GaussianNoise, 3, 42).unwrap());
//! ```
#![warn(missing_docs)]

pub mod api;
pub mod augment;
pub mod catalogue;
pub mod corruptions;
pub mod dataset;
pub mod error;
pub mod io;
pub mod kernels;
pub mod preset;
pub mod rng;
pub mod stylize;

pub use api::{corrupt, corrupt_buffer, corrupt_in_place, corrupt_with, PixelLayout, Settings};
pub use catalogue::{Corruption, Family, Subset, CATALOGUE};
pub use error::{Error, Result};
pub use kernels::frost::FrostTextures;
pub use preset::Preset;
pub use rng::RngMode;
