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
//! * Image files: [`io::read_image`] decodes JPEGs to Pillow's exact pixels (what the reference
//!   corrupted; rare kinds excepted, see [`io::decode_image`]) and reduces 16-bit/float images
//!   to the 8-bit layouts above; `image::open` works too, but its JPEG pixels may differ from
//!   Pillow's by a few levels.
//! * The parameter tables are data ([`preset::Preset`], `corruptions/*.toml`).
//! * Besides the 19 corruptions, the catalogue has one distribution-shift operator outside the
//!   benchmarks: [`Corruption::Stylize`] (Stylized-ImageNet / Stylized-COCO style transfer from
//!   a folder of style images, [`stylize`]), which needs a [`Stylizer`] in the [`Settings`].
//!
//! # Quick start
//!
//! **One image**, as a pure function of (image, corruption, severity 1–5, seed):
//!
//! ```
//! use imgcorrupt::{corrupt, Corruption};
//! let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(64, 48, image::Rgb([120, 80, 200])));
//! let out = corrupt(&img, Corruption::GaussianNoise, 3, 42)?;
//! assert_eq!((out.width(), out.height()), (64, 48));
//! // a pure function: same inputs, same bytes
//! assert_eq!(out, corrupt(&img, Corruption::GaussianNoise, 3, 42)?);
//! // names as in imagecorruptions; mistakes are errors that suggest the closest name
//! assert_eq!(Corruption::from_name("motion_blur")?, Corruption::MotionBlur);
//! assert!(Corruption::from_name("motion_blurr").unwrap_err().to_string().contains("did you mean"));
//! # Ok::<(), imgcorrupt::Error>(())
//! ```
//!
//! **RNG modes** ([`Settings::with_rng`]): `Fast` draws the reference's distributions, not its
//! numbers; `Numpy` makes the draws of `np.random.seed(seed); corrupt(img, name, severity)`, so
//! the pixels are the reference's (a few corruptions within ±1, see their docs; frost only with
//! the reference's photographs, [`Settings::with_frost_textures`]).
//! Greyscale stays greyscale, and 16-bit or float images must be converted to 8 bits first:
//!
//! ```
//! use image::{DynamicImage, GrayImage, Luma};
//! use imgcorrupt::{corrupt_with, Corruption, Error, RngMode, Settings};
//! let img = DynamicImage::ImageLuma8(GrayImage::from_fn(33, 17, |x, y| Luma([(x * 7 + y * 3) as u8])));
//! let fast = corrupt_with(&img, Corruption::ShotNoise, 2, &Settings::new(1))?;
//! let numpy = Settings::new(1).with_rng(RngMode::Numpy);
//! let reference = corrupt_with(&img, Corruption::ShotNoise, 2, &numpy)?;
//! assert!(reference.as_luma8().is_some());
//! assert_ne!(fast, reference);
//! // numpy seeds are 32-bit, as for np.random.seed
//! let too_big = Settings::new(1 << 32).with_rng(RngMode::Numpy);
//! let e = corrupt_with(&img, Corruption::ShotNoise, 2, &too_big).unwrap_err();
//! assert!(matches!(e, Error::InvalidSeed(_)));
//! let e = corrupt_with(&DynamicImage::new_rgb16(4, 4), Corruption::Fog, 1, &Settings::new(1));
//! assert!(matches!(e, Err(Error::InvalidImage(_))));
//! # Ok::<(), imgcorrupt::Error>(())
//! ```
//!
//! **Borrowed buffers** (HWC `u8`, no output image allocated):
//!
//! ```
//! use imgcorrupt::{
//!     corrupt_buffer, corrupt_in_place, Corruption, ImageView, ImageViewMut, PixelLayout, Settings,
//! };
//! let (w, h) = (5, 3);
//! let src: Vec<u8> = (0..w * h * 4).map(|i| (i * 13 % 256) as u8).collect(); // RGBA
//! let mut dst = vec![0u8; src.len()];
//! let settings = Settings::new(42);
//! corrupt_buffer(ImageView::new(&src, w, h, PixelLayout::Rgba), &mut dst, Corruption::Fog, 3, &settings)?;
//! let mut buf = src.clone();
//! corrupt_in_place(ImageViewMut::new(&mut buf, w, h, PixelLayout::Rgba), Corruption::Fog, 3, &settings)?;
//! assert_eq!(buf, dst);
//! assert!(dst.chunks(4).zip(src.chunks(4)).all(|(o, i)| o[3] == i[3])); // alpha kept
//! # Ok::<(), imgcorrupt::Error>(())
//! ```
//!
//! **Training augmentations** ([`augment`]): a random corruption and severity per sample, and
//! Gaussian noise training, deterministic per (seed, epoch, sample index):
//!
//! ```
//! use imgcorrupt::augment::{Augment, GaussianNoiseTraining, Op, RandomCorruption, SampleKey, Shape};
//! let shape = Shape::new(24, 32, 3); // height, width, channels
//! let key = SampleKey::new(7, 0, 12); // run seed, epoch, dataset index
//!
//! // One of the 4 held-out validation corruptions at severity 1, 2 or 3, on u8 HWC.
//! let rc = RandomCorruption::from_selection("validation")?.with_severities(&[1, 2, 3])?;
//! let mut img = vec![128u8; shape.len()];
//! let record = rc.apply_u8(&mut img, shape, key)?;
//! let step = record.steps[0];
//! assert_eq!(step.op, Op::Corruption);
//! assert!((1..=3).contains(&step.severity.unwrap()));
//!
//! // GNT σ = 0.5 on f32 CHW in [0, 1]; p_clean 0 so that this sample is noised.
//! let gnt = GaussianNoiseTraining::single(0.5)
//!     .with_p_clean(0.0)
//!     .allow_benchmark_corruptions(); // gaussian_noise is a benchmark corruption
//! let mut f = vec![0.5f32; shape.len()];
//! gnt.apply_f32(&mut f, shape, key)?;
//! assert!(f.iter().all(|v| (0.0..=1.0).contains(v)) && f.iter().any(|&v| v != 0.5));
//! # Ok::<(), imgcorrupt::Error>(())
//! ```
//!
//! **Stylize** ([`stylize_image`]): one content + style pair at strength α, or
//! [`Settings::with_stylizer`] with [`Corruption::Stylize`] for a set of styles:
//!
//! ```
//! use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
//! let content = DynamicImage::ImageRgba8(RgbaImage::from_fn(20, 12, |x, y| Rgba([(x * 12) as u8, (y * 20) as u8, 90, 200])));
//! let style = DynamicImage::ImageRgb8(RgbImage::from_fn(16, 16, |x, y| {
//!     if (x / 4 + y / 4) % 2 == 0 { Rgb([230, 200, 40]) } else { Rgb([20, 30, 120]) }
//! }));
//! let out = imgcorrupt::stylize_image(&content, &style, 1.0)?;
//! assert_eq!((out.width(), out.height()), (20, 12));
//! assert!(out.as_rgba8().unwrap().pixels().all(|p| p[3] == 200)); // alpha kept
//! # Ok::<(), imgcorrupt::Error>(())
//! ```
#![deny(missing_docs)]

pub mod api;
pub mod augment;
pub mod catalogue;
/// The `imgcorrupt` command line (feature `cli`): the binary's `main` and the Python package's
/// `imgcorrupt` command and `imgcorrupt.generate` call it. Not a stable Rust API.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod codecs;
pub mod corruptions;
pub mod dataset;
pub mod digest;
pub mod error;
pub mod io;
mod kernels;
pub mod metrics;
/// Internals reached by this crate's own integration tests and benchmarks only: not public
/// API, may change in any release.
#[doc(hidden)]
pub mod internals {
    pub use crate::kernels::noise_table;
}
pub mod preset;
pub mod rng;
mod simd;
pub mod stylize;

pub use api::{
    corrupt, corrupt_at, corrupt_buffer, corrupt_buffer_at, corrupt_buffer_continuing,
    corrupt_in_place, corrupt_with, stylize_image, ImageView, ImageViewMut, PixelLayout, Settings,
};
pub use catalogue::{Corruption, Family, Subset, CATALOGUE};
pub use corruptions::laion_c::TileBank;
pub use corruptions::weather::frost::FrostTextures;
pub use error::{Error, Result};
pub use preset::Preset;
pub use rng::RngMode;
pub use stylize::{Backend as StyleBackend, BackendKind as StyleBackendKind, Stylizer};
