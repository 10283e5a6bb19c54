//! Blur family (spec §4.4–4.7, 4.17): defocus_blur, glass_blur, motion_blur, zoom_blur,
//! gaussian_blur. (elastic_transform, §4.13, lives in [`crate::corruptions::digital`].)
//!
//! Working precision follows the reference (spec §4 table): defocus and gaussian_blur in f64 on
//! `[0, 1]`; glass_blur in f64 with an intermediate `trunc_u8`; motion_blur in f64 on the
//! 0–255 scale; zoom_blur in f32. Only glass_blur and motion_blur draw random numbers.
//!
//! Severity parameters are absolute pixel quantities, as in the reference (Quirk 11): the blurs
//! are visually weaker on large images. Images smaller than the reference's 32×32 minimum work:
//! filters reflect/replicate borders (radii larger than the image included), glass_blur has no
//! pixel to shuffle when `H ≤ 2δ` or `W ≤ 2δ` (only the two Gaussian blurs remain), and
//! motion_blur drops the taps whose offset reaches the image size (Quirk 9).

use crate::corruptions::{trunc_u8, unit_to_u8, Job};
use crate::error::Result;
use crate::kernels::filter2d::{self, Kernel2d};
use crate::kernels::gaussian::{gaussian_filter, Mode};
use crate::kernels::motion::{self, MotionKernel};
use crate::kernels::zoom;
use crate::rng::RandomSource;

/// `x_u8 / 255` in f64.
fn to_unit_f64(src: &[u8]) -> Vec<f64> {
    src.iter().map(|&v| v as f64 / 255.0).collect()
}

/// `clip(gaussian(x/255, σ, per channel, mode nearest, truncate 4), 0, 1)·255` (spec §4.17).
pub fn gaussian_blur(job: &mut Job<'_>) -> Result<()> {
    let sigma = job.preset.gaussian_blur.sigma[job.level];
    let mut x = to_unit_f64(job.src);
    gaussian_filter(
        &mut x,
        job.height,
        job.width,
        3,
        sigma,
        sigma,
        4.0,
        Mode::Nearest,
    );
    for (d, &v) in job.dst.iter_mut().zip(&x) {
        *d = unit_to_u8(v);
    }
    Ok(())
}

/// Per-channel `filter2D(x/255, disk(radius, alias σ))` with reflect-101 borders (spec §4.4,
/// P2, P3). Radii 8 and 10 keep the reference's kernel sums of 1.013 / 1.011 (Quirk 5).
pub fn defocus_blur(job: &mut Job<'_>) -> Result<()> {
    let p = &job.preset.defocus_blur;
    let (kernel, n) = filter2d::disk_kernel(p.radius[job.level], p.alias_sigma[job.level]);
    let k = Kernel2d::new(kernel.iter().map(|&v| v as f64).collect(), n, n);
    let x = to_unit_f64(job.src);
    let mut y = vec![0f64; x.len()];
    filter2d::correlate_reflect101(&x, &mut y, job.height, job.width, 3, &k);
    for (d, &v) in job.dst.iter_mut().zip(&y) {
        *d = unit_to_u8(v);
    }
    Ok(())
}

/// Line motion blur along a random angle `θ ~ U(−45°, 45°)` (one draw), computed on the 0–255
/// values in f64 (spec §4.6, P4).
pub fn motion_blur(job: &mut Job<'_>) -> Result<()> {
    let p = &job.preset.motion_blur;
    let angle = job.rng.uniform(-45.0, 45.0);
    let k = MotionKernel::new(p.radius[job.level], p.sigma[job.level], angle);
    let mut y = vec![0f64; job.src.len()];
    motion::motion_blur(job.src, &mut y, job.height, job.width, 3, &k);
    for (d, &v) in job.dst.iter_mut().zip(&y) {
        *d = trunc_u8(v.clamp(0.0, 255.0));
    }
    Ok(())
}

/// Zoom factors `np.arange(1, stop, step)`: length `ceil((stop − 1)/step)`, values
/// `1 + i·Δ` with `Δ = (1 + step) − 1` (NumPy's fill rule; spec §4.7, Quirk 4).
pub fn zoom_factors(stop: f64, step: f64) -> Vec<f64> {
    let n = ((stop - 1.0) / step).ceil().max(0.0) as usize;
    let delta = (1.0 + step) - 1.0;
    (0..n)
        .map(|i| match i {
            0 => 1.0,
            1 => 1.0 + step,
            _ => 1.0 + i as f64 * delta,
        })
        .collect()
}

/// Average of the image and its clipped zooms, in f32 (spec §4.7, P5). The factor 1.00 is an
/// identity, so the clean image counts twice, as in the reference.
pub fn zoom_blur(job: &mut Job<'_>) -> Result<()> {
    let p = &job.preset.zoom_blur;
    let factors = zoom_factors(p.stop[job.level], p.step[job.level]);
    let (h, w) = (job.height, job.width);
    let x: Vec<f32> = job.src.iter().map(|&v| (v as f64 / 255.0) as f32).collect();
    let mut acc = vec![0f32; x.len()];
    for &z in &factors {
        if z == 1.0 {
            // Exact identity: every sample has weights (1, 0) on its own pixel.
            for (a, &v) in acc.iter_mut().zip(&x) {
                *a += v;
            }
        } else {
            zoom::clipped_zoom_accumulate(&x, h, w, 3, z, &mut acc);
        }
    }
    let count = (factors.len() + 1) as f32;
    for ((d, &v), &a) in job.dst.iter_mut().zip(&x).zip(&acc) {
        let m = ((v + a) / count).clamp(0.0, 1.0) * 255.0f32;
        *d = m as u8;
    }
    Ok(())
}

/// Packs an RGB pixel into a `u32` so that glass_blur's copies are single word moves.
#[inline(always)]
fn pack(p: &[u8]) -> u32 {
    p[0] as u32 | (p[1] as u32) << 8 | (p[2] as u32) << 16
}

/// Draws `randint[−δ, δ)` offsets. Numpy mode reproduces NumPy's masked rejection sampler
/// (one 32-bit word per attempt); fast mode slices several attempts out of each 32-bit word
/// (same uniform distribution, fewer words).
struct OffsetSampler {
    /// `2δ − 1` (NumPy's `rng`), `mask` the smallest `2^k − 1 ≥ range`.
    range: u32,
    mask: u32,
    bits: u32,
    reference: bool,
    buf: Vec<u32>,
    pos: usize,
    word: u32,
    left: u32,
    lo: i64,
}

impl OffsetSampler {
    fn new(delta: i64, reference: bool) -> OffsetSampler {
        let range = (2 * delta - 1) as u32;
        let mut mask = range;
        for s in [1, 2, 4, 8, 16] {
            mask |= mask >> s;
        }
        OffsetSampler {
            range,
            mask,
            bits: 32 - mask.leading_zeros(),
            reference,
            buf: vec![0u32; 1024],
            pos: 1024,
            word: 0,
            left: 0,
            lo: -delta,
        }
    }

    #[inline(always)]
    fn next_word(&mut self, rng: &mut dyn RandomSource) -> u32 {
        if self.pos == self.buf.len() {
            rng.fill_u32(&mut self.buf);
            self.pos = 0;
        }
        let w = self.buf[self.pos];
        self.pos += 1;
        w
    }

    #[inline(always)]
    fn draw(&mut self, rng: &mut dyn RandomSource) -> i64 {
        if self.range == 0 {
            return self.lo;
        }
        loop {
            let v = if self.reference {
                self.next_word(rng) & self.mask
            } else {
                if self.left < self.bits {
                    self.word = self.next_word(rng);
                    self.left = 32;
                }
                let v = self.word & self.mask;
                self.word >>= self.bits;
                self.left -= self.bits;
                v
            };
            if v <= self.range {
                return self.lo + v as i64;
            }
        }
    }
}

/// Gaussian blur, local pixel shuffling, Gaussian blur (spec §4.5; imagecorruptions 1.1.2
/// draws the shuffle offsets from the global NumPy RNG).
///
/// The shuffle keeps the reference's sequential in-place semantics (Quirk 2): for each
/// iteration, rows `H−δ … δ+1` and columns `W−δ … δ+1` in descending order, draw `dx` then `dy`
/// from `randint[−δ, δ)` and **copy** pixel `(h+dy, w+dx)` onto `(h, w)` (the tuple "swap" of
/// the reference is a copy for RGB arrays). Row 0 and column 0 never take part. Pixels are
/// packed into `u32`s so each step is one word copy.
pub fn glass_blur(job: &mut Job<'_>) -> Result<()> {
    let p = &job.preset.glass_blur;
    let sigma = p.sigma[job.level];
    let delta = p.max_delta[job.level] as i64;
    let iterations = p.iterations[job.level];
    let (h, w) = (job.height, job.width);
    let mut x = to_unit_f64(job.src);
    gaussian_filter(&mut x, h, w, 3, sigma, sigma, 4.0, Mode::Nearest);
    // np.uint8(gaussian(...) * 255): truncation, no clip (values are within [0, 1]).
    let bytes: Vec<u8> = x.iter().map(|&v| trunc_u8(v * 255.0)).collect();
    let mut px: Vec<u32> = bytes.chunks_exact(3).map(pack).collect();
    let mut sampler = OffsetSampler::new(delta, job.rng.is_reference());
    let (hi_h, hi_w) = (h as i64 - delta, w as i64 - delta);
    for _ in 0..iterations {
        let mut row = hi_h;
        while row > delta {
            let mut col = hi_w;
            while col > delta {
                let dx = sampler.draw(job.rng);
                let dy = sampler.draw(job.rng);
                let from = ((row + dy) as usize) * w + (col + dx) as usize;
                px[row as usize * w + col as usize] = px[from];
                col -= 1;
            }
            row -= 1;
        }
    }
    for (v, &q) in x.chunks_exact_mut(3).zip(&px) {
        v[0] = (q & 0xff) as f64 / 255.0;
        v[1] = ((q >> 8) & 0xff) as f64 / 255.0;
        v[2] = (q >> 16) as f64 / 255.0;
    }
    gaussian_filter(&mut x, h, w, 3, sigma, sigma, 4.0, Mode::Nearest);
    for (d, &v) in job.dst.iter_mut().zip(&x) {
        *d = unit_to_u8(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_factor_counts_follow_numpy_arange() {
        let p = crate::preset::Preset::default_arc();
        let counts: Vec<usize> = (0..5)
            .map(|l| zoom_factors(p.zoom_blur.stop[l], p.zoom_blur.step[l]).len())
            .collect();
        assert_eq!(counts, [12, 16, 11, 13, 11]);
        // np.arange(1, 1.31, 0.03)[10] == 1.3000000000000003
        let f = zoom_factors(1.31, 0.03);
        assert_eq!(f[10].to_bits(), 1.3000000000000003f64.to_bits());
    }

    #[test]
    fn offset_sampler_stays_in_range_and_follows_numpy() {
        let mut a = crate::rng::NumpyRng::new(0);
        let mut b = crate::rng::NumpyRng::new(0);
        for delta in 1..=4i64 {
            let mut s = OffsetSampler::new(delta, true);
            for _ in 0..2000 {
                assert_eq!(s.draw(&mut a), RandomSource::randint(&mut b, -delta, delta));
            }
            // a's buffer is ahead of b: realign both streams for the next δ.
            a = crate::rng::NumpyRng::new(delta as u32);
            b = crate::rng::NumpyRng::new(delta as u32);
        }
        let mut f = crate::rng::FastRng::new(3);
        for delta in 1..=4i64 {
            let mut s = OffsetSampler::new(delta, false);
            let mut seen = vec![0usize; 2 * delta as usize];
            for _ in 0..40000 {
                let v = s.draw(&mut f);
                assert!((-delta..delta).contains(&v));
                seen[(v + delta) as usize] += 1;
            }
            let expect = 40000.0 / (2 * delta) as f64;
            for n in seen {
                assert!((n as f64 - expect).abs() < 5.0 * expect.sqrt(), "δ {delta}");
            }
        }
    }
}
