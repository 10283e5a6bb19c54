//! ImageNet-P (Hendrycks & Dietterich 2019; hendrycks/robustness `ImageNet-P/create_p/
//! make_imagenet_p.py`, Apache-2.0): perturbation *sequences* for measuring prediction
//! stability. One file per perturbation; each turns the Resize(256) source into its frames
//! (224×224 centre crops, 31 frames; translate 41). docs/ALGORITHMS.md §13 says what each
//! reproduces and what it does not.
//!
//! The per-frame operations reuse the corruption kernels (motion blur, Gaussian filter, HSV,
//! the noise samplers through the generator, snow's zoom and ImageMagick blur, spatter's
//! OpenCV chain) rather than copies; the geometric ones share the
//! bilinear warp in [`warp`].
//!
//! A sequence is produced as a stream ([`Perturbation::sequence_each`]): each file's `frames`
//! makes one frame at a time into one reused buffer and hands it to a [`Sink`] before making
//! the next, so a writer encodes a frame while it is in cache and no frame is allocated (31
//! fresh 150 KB frames were 4.6 MB a sequence, more than L2, each written to memory and read
//! back). [`Perturbation::sequence`] collects the stream for the callers that need every
//! frame at once.

pub mod brightness;
pub mod gaussian_blur;
pub mod gaussian_noise;
pub mod motion_blur;
pub mod rotate;
pub mod scale;
pub mod shear;
pub mod shot_noise;
pub mod snow;
pub mod spatter;
pub mod speckle_noise;
pub mod tilt;
pub mod translate;
pub mod warp;
pub mod zoom_blur;

use crate::error::Result;
use crate::rng::RandomSource;

/// Where a sequence's frames go: called with each frame (224×224 RGB8) in order; the buffer
/// is reused for the next frame, so a sink that keeps a frame copies it. An error stops the
/// sequence and is returned.
pub type Sink<'a> = dyn FnMut(&[u8]) -> Result<()> + 'a;

/// Side of every frame.
pub const SIDE: usize = 224;

/// An RGB8 image (row-major, channel fastest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rgb {
    /// Pixels, `width · height · 3` bytes.
    pub px: Vec<u8>,
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
}

impl Rgb {
    /// `(top, left)` of the 224 crop in this image (negative when a side is under 224).
    pub fn crop_offsets(&self) -> (isize, isize) {
        let off = |n: usize| -> isize {
            let d = n as f64 - SIDE as f64;
            let h = d / 2.0;
            let r = h.round();
            // round half to even
            let r = if (h - h.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
                r - h.signum()
            } else {
                r
            };
            r as isize
        };
        (off(self.height), off(self.width))
    }

    /// torchvision `CenterCrop(224)`: offsets `round((n − 224)/2)` (Python rounding, half to
    /// even); a side under 224 is padded with black as torchvision ≥ 0.8 pads.
    pub fn center_crop(&self) -> Vec<u8> {
        let (top, left) = self.crop_offsets();
        let mut out = vec![0u8; SIDE * SIDE * 3];
        // columns x0..x1 of the crop have a source pixel (one row copy each)
        let x0 = (-left).clamp(0, SIDE as isize) as usize;
        let x1 = (self.width as isize - left).clamp(x0 as isize, SIDE as isize) as usize;
        for y in 0..SIDE {
            let sy = y as isize + top;
            if sy < 0 || sy >= self.height as isize || x0 == x1 {
                continue;
            }
            let s = (sy as usize * self.width + (x0 as isize + left) as usize) * 3;
            out[(y * SIDE + x0) * 3..(y * SIDE + x1) * 3]
                .copy_from_slice(&self.px[s..s + (x1 - x0) * 3]);
        }
        out
    }
}

/// `n` frames made one at a time by `make(i, frame)` into one reused buffer (224×224 RGB8,
/// zeroed once before frame 0; `make` writes every byte of it), each handed to `sink` before
/// the next is made. The loop shell of every sequence.
pub(super) fn stream(
    n: usize,
    mut make: impl FnMut(usize, &mut [u8]),
    sink: &mut Sink,
) -> Result<()> {
    let mut frame = vec![0u8; SIDE * SIDE * 3];
    for i in 0..n {
        make(i, &mut frame);
        sink(&frame)?;
    }
    Ok(())
}

/// Every frame a sequence function hands its sink, collected (the tests' form).
#[cfg(test)]
pub(super) fn collect(run: impl FnOnce(&mut Sink) -> Result<()>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    run(&mut |f: &[u8]| {
        out.push(f.to_vec());
        Ok(())
    })
    .unwrap();
    out
}

/// The 14 perturbations: 10 test, then 4 validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Perturbation {
    /// Fresh Gaussian noise per frame (test).
    GaussianNoise,
    /// Fresh Poisson noise per frame (test).
    ShotNoise,
    /// ImageMagick motion blur turning through 120° (test).
    MotionBlur,
    /// Running average of zooms (test).
    ZoomBlur,
    /// Snow turning with the wind (test).
    Snow,
    /// HSV value from −0.3 to +0.3 (test).
    Brightness,
    /// Horizontal shift −20..20 px, 41 frames (test).
    Translate,
    /// Rotation −15..15° (test).
    Rotate,
    /// Perspective tilt −15..15° (test).
    Tilt,
    /// Zoom 0.4..1.15 (test).
    Scale,
    /// Fresh multiplicative noise per frame (validation).
    SpeckleNoise,
    /// Gaussian blur σ 0.25..1.30 (validation).
    GaussianBlur,
    /// Water running down (validation).
    Spatter,
    /// Shear −15..15° (validation).
    Shear,
}

impl Perturbation {
    /// All 14, test first (make_imagenet_p.py order).
    pub const ALL: [Perturbation; 14] = [
        Perturbation::GaussianNoise,
        Perturbation::ShotNoise,
        Perturbation::MotionBlur,
        Perturbation::ZoomBlur,
        Perturbation::Snow,
        Perturbation::Brightness,
        Perturbation::Translate,
        Perturbation::Rotate,
        Perturbation::Tilt,
        Perturbation::Scale,
        Perturbation::SpeckleNoise,
        Perturbation::GaussianBlur,
        Perturbation::Spatter,
        Perturbation::Shear,
    ];

    /// The dataset's folder name.
    pub fn name(self) -> &'static str {
        match self {
            Perturbation::GaussianNoise => "gaussian_noise",
            Perturbation::ShotNoise => "shot_noise",
            Perturbation::MotionBlur => "motion_blur",
            Perturbation::ZoomBlur => "zoom_blur",
            Perturbation::Snow => "snow",
            Perturbation::Brightness => "brightness",
            Perturbation::Translate => "translate",
            Perturbation::Rotate => "rotate",
            Perturbation::Tilt => "tilt",
            Perturbation::Scale => "scale",
            Perturbation::SpeckleNoise => "speckle_noise",
            Perturbation::GaussianBlur => "gaussian_blur",
            Perturbation::Spatter => "spatter",
            Perturbation::Shear => "shear",
        }
    }

    /// By folder name.
    pub fn from_name(s: &str) -> Option<Perturbation> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL.into_iter().find(|p| p.name() == s)
    }

    /// One of the 10 test perturbations (the mFR / mT5D set).
    pub fn is_test(self) -> bool {
        !matches!(
            self,
            Perturbation::SpeckleNoise
                | Perturbation::GaussianBlur
                | Perturbation::Spatter
                | Perturbation::Shear
        )
    }

    /// A noise sequence: its frames are compared with frame 0 (test.py), and its difficulty
    /// changes the noise (folders `<name>_2`, `<name>_3`) instead of the frame step.
    pub fn is_noise(self) -> bool {
        matches!(
            self,
            Perturbation::GaussianNoise | Perturbation::ShotNoise | Perturbation::SpeckleNoise
        )
    }

    /// Whether its frames draw from the generator (the noise sequences, and snow's and
    /// spatter's layers): those depend on the seed, the others only on the image.
    pub fn is_random(self) -> bool {
        self.is_noise() || matches!(self, Perturbation::Snow | Perturbation::Spatter)
    }

    /// Frames per sequence.
    pub fn frames(self) -> usize {
        if self == Perturbation::Translate {
            41
        } else {
            31
        }
    }

    /// The folder of difficulty `d` (1..=3): noise sequences `<name>_d` for d > 1, every
    /// other one the same folder (its difficulty is the frame step of the metric).
    pub fn folder(self, d: u8) -> String {
        if self.is_noise() && d > 1 {
            format!("{}_{d}", self.name())
        } else {
            self.name().to_string()
        }
    }

    /// The frames of the sequence from the Resize(256) source `img` (each 224×224 RGB8),
    /// collected ([`Perturbation::sequence_each`] without a sink: for callers that need all
    /// frames at once).
    pub fn sequence(self, img: &Rgb, difficulty: u8, rng: &mut dyn RandomSource) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(self.frames());
        self.sequence_each(img, difficulty, rng, &mut |_, f| {
            out.push(f.to_vec());
            Ok(())
        })
        .expect("collecting frames does not fail");
        out
    }

    /// The frames of the sequence from the Resize(256) source `img`, one at a time:
    /// `sink(i, frame)` for i = 0, 1, … in order (each frame 224×224 RGB8, in a buffer reused
    /// for the next; see [`Sink`]); the first error of the sink stops the sequence and is
    /// returned. `difficulty` (1..=3) changes only the noise sequences; `rng` is drawn from by
    /// the noise sequences and by snow's and spatter's layers.
    pub fn sequence_each(
        self,
        img: &Rgb,
        difficulty: u8,
        rng: &mut dyn RandomSource,
        sink: &mut dyn FnMut(usize, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let d = usize::from(difficulty.clamp(1, 3)) - 1;
        let mut i = 0;
        let s: &mut Sink = &mut |f: &[u8]| {
            i += 1;
            sink(i - 1, f)
        };
        match self {
            Perturbation::GaussianNoise => {
                gaussian_noise::frames(img, [0.03, 0.05, 0.08][d], rng, s)
            }
            Perturbation::ShotNoise => shot_noise::frames(img, [300.0, 120.0, 60.0][d], rng, s),
            Perturbation::SpeckleNoise => speckle_noise::frames(img, [0.05, 0.10, 0.15][d], rng, s),
            Perturbation::MotionBlur => motion_blur::frames(img, s),
            Perturbation::ZoomBlur => zoom_blur::frames(img, s),
            Perturbation::Brightness => brightness::frames(img, s),
            Perturbation::Translate => translate::frames(img, s),
            Perturbation::Rotate => rotate::frames(img, s),
            Perturbation::Tilt => tilt::frames(img, s),
            Perturbation::Scale => scale::frames(img, s),
            Perturbation::GaussianBlur => gaussian_blur::frames(img, s),
            Perturbation::Shear => shear::frames(img, s),
            Perturbation::Snow => snow::frames(img, rng, s),
            Perturbation::Spatter => spatter::frames(img, rng, s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn center_crop_is_the_per_pixel_crop_with_black_padding() {
        // sizes under, at and over 224 on each side, odd and even margins
        for (w, h) in [
            (1, 1),
            (3, 2),
            (2, 300),
            (224, 224),
            (225, 223),
            (256, 341),
            (300, 5),
        ] {
            let img = Rgb {
                px: (0..w * h * 3).map(|i| (i * 37 % 251 + 1) as u8).collect(),
                width: w,
                height: h,
            };
            let (top, left) = img.crop_offsets();
            let got = img.center_crop();
            for y in 0..SIDE {
                for x in 0..SIDE {
                    let (sy, sx) = (y as isize + top, x as isize + left);
                    let inside = (0..h as isize).contains(&sy) && (0..w as isize).contains(&sx);
                    for c in 0..3 {
                        let want = if inside {
                            img.px[(sy as usize * w + sx as usize) * 3 + c]
                        } else {
                            0
                        };
                        assert_eq!(got[(y * SIDE + x) * 3 + c], want, "{w}x{h} ({x},{y})");
                    }
                }
            }
        }
    }
}
