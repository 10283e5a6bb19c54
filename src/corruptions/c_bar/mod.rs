//! ImageNet-C-bar and CIFAR-10-C-bar (Mintun, Kirillov, Xie 2021; MIT reference code
//! facebookresearch/augmentation-corruption, `imagenet_c_bar/corrupt.py`): one file per
//! operator, ALGORITHMS.md §11. Never selected by `common`/`validation`/`all`; the selection
//! words are `c-bar` (the 10 ImageNet-C-bar operators) and `cifar-c-bar` (the 10 of
//! CIFAR-10-C-bar).
//!
//! Every table is one row `magnitude`: the reference's severity on its 0–10 scale, five
//! values (the published CSVs), so severity folder 1..5 holds the CSV's 1st..5th magnitude.
//! The reference assumes a square image of known side (`im_size`, 224 or 32); here its
//! lengths are fractions of the shorter side ([`side`]) and its positions are drawn over each
//! axis, which is the reference on square images.
//!
//! What only these operators share lives here: the parameter macro, the reference's
//! `float_parameter`, its zero-padded bilinear sampler, its spectrally shaped noise and its
//! star-burst kernel.

use crate::corruptions::Job;
use crate::kernels::fft;

pub mod blue_noise_sample;
pub mod brownish_noise;
pub mod caustic_refraction;
pub mod checkerboard_cutout;
pub mod circular_motion_blur;
pub mod cocentric_sine_waves;
pub mod inverse_sparkles;
pub mod lines;
pub mod perlin_noise;
pub mod pinch_and_twirl;
pub mod plasma_noise;
pub mod ripple;
pub mod single_frequency_greyscale;
pub mod sparkles;
pub mod transverse_chromatic_abberation;

/// The ten ImageNet-C-bar operators (`imagenet_c_bar.csv`, in its order).
pub const IMAGENET_C_BAR: [&str; 10] = [
    "caustic_refraction",
    "inverse_sparkles",
    "sparkles",
    "perlin_noise",
    "blue_noise_sample",
    "plasma_noise",
    "checkerboard_cutout",
    "cocentric_sine_waves",
    "single_frequency_greyscale",
    "brownish_noise",
];

/// The ten CIFAR-10-C-bar operators (`cifar10_c_bar.csv`, in its order).
pub const CIFAR_10_C_BAR: [&str; 10] = [
    "blue_noise_sample",
    "checkerboard_cutout",
    "inverse_sparkles",
    "pinch_and_twirl",
    "ripple",
    "brownish_noise",
    "circular_motion_blur",
    "lines",
    "sparkles",
    "transverse_chromatic_abberation",
];

/// The largest magnitude of the reference's 0–10 scale.
pub const MAX_MAGNITUDE: f64 = 10.0;

/// Declares an operator's `Params`: one `magnitude` row on the 0–10 scale, whose default
/// (a preset without the table) is `$default`, the ImageNet-C-bar CSV row (the CIFAR-10-C-bar
/// row for the five CIFAR-only operators).
macro_rules! magnitude_params {
    ($name:literal, $default:expr) => {
        /// The operator's table: its five severities on the reference's 0–10 scale.
        #[derive(Debug, Clone, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Params {
            /// Severity 1..5 as magnitudes on the 0–10 scale (`float_parameter(s, max) = s·max/10`).
            pub magnitude: crate::corruptions::params::Row<f64>,
        }

        impl crate::corruptions::params::Params for Params {
            fn validate(&self) -> std::result::Result<(), String> {
                crate::corruptions::params::check_row(
                    concat!($name, ".magnitude"),
                    &self.magnitude,
                    |v| (0.0..=crate::corruptions::c_bar::MAX_MAGNITUDE).contains(&v),
                    "in [0, 10]",
                )
            }

            fn when_missing() -> Option<Self> {
                Some(Params {
                    magnitude: $default,
                })
            }

            fn at_severity(&self, s: f64) -> Option<Self> {
                // magnitude 0 is every operator's clean image
                Some(Params {
                    magnitude: crate::corruptions::params::lerp_row(&self.magnitude, s, Some(0.0))?,
                })
            }
        }
    };
}
pub(crate) use magnitude_params;

/// The reference's `float_parameter(level, maxval)`: `level·maxval/10`.
#[inline]
pub(crate) fn fp(level: f64, maxval: f64) -> f64 {
    level * maxval / 10.0
}

/// The reference's `im_size` for a `width`×`height` image: its shorter side.
#[inline]
pub(crate) fn side(job: &Job<'_>) -> f64 {
    job.width.min(job.height) as f64
}

/// Copies the source unchanged (magnitude 0 of the operators whose 0 is not already the
/// identity, so that severity 0 is always the clean image).
pub(crate) fn identity(job: &mut Job<'_>) {
    job.dst.copy_from_slice(job.src);
}

/// The reference's `bilinear_interpolation(image, (row, col))` on an RGB f32 image: the four
/// neighbours, any outside the image counting as black.
#[inline]
pub(crate) fn bilinear_zero(img: &[f32], w: usize, h: usize, row: f32, col: f32) -> [f32; 3] {
    let r0 = crate::kernels::fastmath::floor_f32(row);
    let c0 = crate::kernels::fastmath::floor_f32(col);
    let fr = row - r0;
    let fc = col - c0;
    let (r0, c0) = (r0 as isize, c0 as isize);
    let mut out = [0.0f32; 3];
    for (dr, wr) in [(0isize, 1.0 - fr), (1, fr)] {
        let r = r0 + dr;
        if r < 0 || r >= h as isize || wr == 0.0 {
            continue;
        }
        for (dc, wc) in [(0isize, 1.0 - fc), (1, fc)] {
            let c = c0 + dc;
            if c < 0 || c >= w as isize || wc == 0.0 {
                continue;
            }
            let i = (r as usize * w + c as usize) * 3;
            let wgt = wr * wc;
            out[0] += wgt * img[i];
            out[1] += wgt * img[i + 1];
            out[2] += wgt * img[i + 2];
        }
    }
    out
}

/// The source as f32 RGB, in a pooled buffer (a fresh image-sized vector on every call costs
/// page faults).
pub(crate) fn to_f32(src: &[u8]) -> crate::kernels::scratch::Buf<f32> {
    let mut out = crate::kernels::scratch::Buf::<f32>::take(src.len());
    for (o, &v) in out.iter_mut().zip(src) {
        *o = f32::from(v);
    }
    out
}

/// `np.clip(v, 0, 255).astype(np.uint8)`: clip, then truncate.
#[inline]
pub(crate) fn clip_trunc(v: f32) -> u8 {
    // compare-and-select clamps and an unchecked conversion, so that loops vectorise (`as u8`
    // saturates lane by lane); NaN → 0 as before
    crate::kernels::quantise::q255_f32(v)
}

/// Radial amplitude spectrum of [`spectral_noise`], as a function of the frequency radius in
/// cycles per image side.
#[derive(Clone, Copy)]
pub(crate) enum Spectrum {
    /// Amplitude ∝ radius (`blue_noise`, `blue_noise_sample`).
    Blue,
    /// Amplitude `1/(radius² + 1)` (`brownish_noise`).
    Brownish,
}

/// `count` (1 or 2) independent noise fields of `w`×`h`, each of zero mean and unit standard
/// deviation, with the reference's amplitude spectrum and uniformly random phases
/// (ALGORITHMS.md §11.1). The reference takes the real part of the inverse FFT of an
/// `im_size`² random-phase spectrum; here the grid is the next power of two `n ≥ max(w, h)`,
/// frequencies are rescaled to cycles per image side, and the real and imaginary parts give
/// two independent fields from one transform. Each phase is 12 random bits (4096 steps of the
/// circle, looked up in a table shared across calls) and the transform is in f32.
pub(crate) fn spectral_noise(job: &mut Job<'_>, spectrum: Spectrum, count: usize) -> [Vec<f32>; 2] {
    let (w, h) = (job.width, job.height);
    let full = w.max(h).next_power_of_two();
    // The brownish spectrum holds 1/(ρ² + 1) of its energy above ρ: when the image is large
    // enough that a grid of half the resolution still reaches 32 cycles per side (< 0.1 % of
    // the energy above it), the field is synthesised on that grid and upsampled 2× (Keys
    // cubic, periodic like the field), a quarter of the transform's work.
    let half = matches!(spectrum, Spectrum::Brownish) && side(job) / 4.0 >= HALF_GRID_CUTOFF;
    let n = if half { full / 2 } else { full };
    let scale = (side(job) / full as f64) as f32;
    // pooled, without a zero-fill: the loop below writes every value
    let mut re = crate::kernels::scratch::Buf::<f32>::take(n * n);
    let mut im = crate::kernels::scratch::Buf::<f32>::take(n * n);
    let signed = |i: usize| -> f32 {
        if i < n / 2 {
            i as f32
        } else {
            i as f32 - n as f32
        }
    };
    let fx2: Vec<f32> = (0..n).map(|c| (signed(c) * scale).powi(2)).collect();
    let table = phase_table();
    let mut bits = vec![0u32; n];
    let mut amp = vec![0.0f32; n];
    for r in 0..n {
        job.rng.fill_u32(&mut bits);
        let fy2 = (signed(r) * scale).powi(2);
        match spectrum {
            Spectrum::Blue => {
                for (a, &f) in amp.iter_mut().zip(&fx2) {
                    *a = (fy2 + f).sqrt();
                }
            }
            Spectrum::Brownish => {
                for (a, &f) in amp.iter_mut().zip(&fx2) {
                    *a = 1.0 / (fy2 + f + 1.0);
                }
            }
        }
        let row_re = &mut re[r * n..(r + 1) * n];
        let row_im = &mut im[r * n..(r + 1) * n];
        for c in 0..n {
            let [co, si] = table[(bits[c] >> (32 - PHASE_BITS)) as usize];
            row_re[c] = amp[c] * co;
            row_im[c] = amp[c] * si;
        }
    }
    fft::inverse_2d_f32(&mut re, &mut im, n);
    let crop = |grid: &[f32]| -> Vec<f32> {
        let mut out = if half {
            upsample2(grid, n, w, h)
        } else {
            let mut out = Vec::with_capacity(w * h);
            for r in 0..h {
                out.extend_from_slice(&grid[r * n..r * n + w]);
            }
            out
        };
        normalise(&mut out);
        out
    };
    let first = crop(&re);
    let second = if count > 1 { crop(&im) } else { Vec::new() };
    [first, second]
}

/// Smallest highest frequency (cycles per image side) of a half-resolution brownish grid.
const HALF_GRID_CUTOFF: f64 = 32.0;

/// The top-left `w`×`h` of the 2× upsampling of a periodic `n`×`n` grid: even positions are
/// the grid's samples, odd ones the Keys cubic midpoint `(−1, 9, 9, −1)/16` of their four
/// neighbours (wrapping around, as the field is periodic); rows first, then columns.
fn upsample2(grid: &[f32], n: usize, w: usize, h: usize) -> Vec<f32> {
    let mut rows = vec![0.0f32; h * n];
    for (r, out) in rows.chunks_exact_mut(n).enumerate() {
        let i = r / 2;
        if r % 2 == 0 {
            out.copy_from_slice(&grid[i * n..(i + 1) * n]);
        } else {
            let at = |k: usize| &grid[((i + n + k - 1) % n) * n..][..n];
            midpoint(at(0), at(1), at(2), at(3), out);
        }
    }
    let mut out = vec![0.0f32; w * h];
    let mut ext = vec![0.0f32; n + 3];
    let mut mid = vec![0.0f32; n];
    for (src, dst) in rows.chunks_exact(n).zip(out.chunks_exact_mut(w)) {
        // ext[k] = src[(k − 1) mod n]: the row with one sample of wrap before and two after
        ext[0] = src[n - 1];
        ext[1..n + 1].copy_from_slice(src);
        ext[n + 1] = src[0];
        ext[n + 2] = src[1 % n];
        midpoint(
            &ext[..n],
            &ext[1..n + 1],
            &ext[2..n + 2],
            &ext[3..n + 3],
            &mut mid,
        );
        for (x, d) in dst.iter_mut().enumerate() {
            *d = if x % 2 == 0 { src[x / 2] } else { mid[x / 2] };
        }
    }
    out
}

/// `out = (9(b + c) − (a + d))/16` element-wise: the cubic midpoint between `b` and `c`.
fn midpoint(a: &[f32], b: &[f32], c: &[f32], d: &[f32], out: &mut [f32]) {
    for ((((o, &a), &b), &c), &d) in out.iter_mut().zip(a).zip(b).zip(c).zip(d) {
        *o = (9.0 * (b + c) - (a + d)) * 0.0625;
    }
}

/// Bits of one random phase.
const PHASE_BITS: u32 = 12;

/// (cos, sin) of the `2^PHASE_BITS` phases `2πk/2^PHASE_BITS`, computed once per process.
fn phase_table() -> &'static [[f32; 2]] {
    static TABLE: std::sync::OnceLock<Vec<[f32; 2]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let m = 1usize << PHASE_BITS;
        (0..m)
            .map(|k| {
                let (s, c) = (2.0 * std::f64::consts::PI * k as f64 / m as f64).sin_cos();
                [c as f32, s as f32]
            })
            .collect()
    })
}

/// Scales `v` to unit standard deviation about its own mean (`noise / np.std(noise)`; the
/// mean of the reference's fields is 0 by construction, so it is subtracted here too). A
/// constant field (1×1) becomes zeros.
fn normalise(v: &mut [f32]) {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    // a field whose spread is only f32 rounding noise counts as constant
    let inv = if var > 1e-10 * (1.0 + mean * mean) {
        (1.0 / var.sqrt()) as f32
    } else {
        0.0
    };
    let mean = mean as f32;
    for x in v.iter_mut() {
        *x = (*x - mean) * inv;
    }
}

/// One star burst of `sparkles`/`inverse_sparkles` (ALGORITHMS.md §11.2): the reference's
/// per-pixel weight `f` toward the burst colour at a pixel, from its offset to the centre.
pub(crate) struct Burst {
    /// Centre, (row, column).
    pub centre: (f32, f32),
    /// Ray lengths in pixels, evenly spaced in angle.
    pub rays: Vec<f32>,
    /// Exponent `(100 − amount)/50` applied to `length²/dist²`.
    pub exponent: f32,
}

impl Burst {
    /// The reference kernel's clipped weight along image row `row`, columns `0..out.len()`.
    pub fn weight_row(&self, row: f32, ext: &[f32], out: &mut [f32]) {
        burst_row(ext, self.centre, self.exponent, row, out);
    }

    /// `rays[k mod R]` for `k ≤ R + 1`: the ray of an angle's index and the next one without
    /// a modulo, for [`Burst::weight_row`] (built once per burst, not per row).
    pub fn extended_rays(&self) -> Vec<f32> {
        let n = self.rays.len();
        (0..n + 2).map(|k| self.rays[k % n]).collect()
    }
}

crate::simd::dispatch! {
    /// [`Burst::weight_row`]'s loop: per pixel the angle's interpolated ray `length`, then
    /// `((1 − (f − ½)²)·(length²/dist²)^exponent)` clipped to `[0, 1]`, with the branch-free
    /// atan2 and pow of [`fastmath`](crate::kernels::fastmath).
    fn burst_row / burst_row_scalar / burst_row_avx2 (
        ext: &[f32],
        centre: (f32, f32),
        exponent: f32,
        row: f32,
        out: &mut [f32],
    ) {
        use crate::kernels::fastmath;
        let n = ext.len() - 2;
        let dy = row - centre.0;
        let scale = n as f32 / (2.0 * std::f32::consts::PI);
        // four loops: the angle and distance, the ray index and fraction (vectorised), the
        // ray look-up (a gather, scalar), the weight (vectorised; the power only where the
        // exponent is not 1, tested outside the loop so the plain loop has no `pow` in it)
        const CHUNK: usize = 64;
        let ext = &ext[..n + 2];
        for (c, o) in out.chunks_mut(CHUNK).enumerate() {
            let m = o.len();
            let mut d = [0.0f32; CHUNK];
            let mut dist2 = [0.0f32; CHUNK];
            let mut len = [0.0f32; CHUNK];
            let mut idx = [0u32; CHUNK];
            for k in 0..m {
                let dx = (c * CHUNK + k) as f32 - centre.1;
                dist2[k] = dy * dy + dx * dx;
                d[k] = (fastmath::atan2(dx, dy) + std::f32::consts::PI) * scale;
            }
            for k in 0..CHUNK {
                // d ≥ 0: its floor is its truncation
                idx[k] = fastmath::floor_f32(d[k]) as u32;
            }
            for k in 0..m {
                let i = (idx[k] as usize).min(n);
                let f = d[k] - i as f32;
                d[k] = f;
                len[k] = ext[i] + f * (ext[i + 1] - ext[i]);
            }
            if exponent == 1.0 {
                for k in 0..m {
                    let g = len[k] * len[k] / (dist2[k] + 1e-4);
                    let f = d[k] - 0.5;
                    o[k] = ((1.0 - f * f) * g).clamp(0.0, 1.0);
                }
            } else {
                for k in 0..m {
                    let g = fastmath::pow(len[k] * len[k] / (dist2[k] + 1e-4), exponent);
                    let f = d[k] - 0.5;
                    o[k] = ((1.0 - f * f) * g).clamp(0.0, 1.0);
                }
            }
        }
    }
}

crate::simd::dispatch! {
    /// One RGB row toward white: `dst = clip_trunc(255 − (255 − src)·keep[pixel])` (the
    /// bursts' blend, `keep` the fraction of `255 − x` that remains); `keep3` is scratch of
    /// the row's length.
    pub(crate) fn toward_white_row / toward_white_row_scalar / toward_white_row_avx2 (
        src: &[u8],
        keep: &[f32],
        keep3: &mut [f32],
        dst: &mut [u8],
    ) {
        for (k3, &k) in keep3.chunks_exact_mut(3).zip(keep) {
            k3[0] = k;
            k3[1] = k;
            k3[2] = k;
        }
        for ((d, &s), &k) in dst.iter_mut().zip(src).zip(&*keep3) {
            *d = crate::kernels::quantise::q255_f32(255.0 - (255.0 - f32::from(s)) * k);
        }
    }
}

/// The `magnitude` row of a C-bar operator's table (`None` for any other table): what the
/// manifest records per cell and `list --preset` shows.
pub fn magnitude_of(table: &crate::corruptions::params::AnyParams) -> Option<[f64; 5]> {
    macro_rules! try_rows {
        ($($m:ident),*) => {
            $(if let Some(p) = table.downcast_ref::<$m::Params>() {
                return Some(p.magnitude);
            })*
        };
    }
    try_rows!(
        blue_noise_sample,
        brownish_noise,
        caustic_refraction,
        checkerboard_cutout,
        circular_motion_blur,
        cocentric_sine_waves,
        inverse_sparkles,
        lines,
        perlin_noise,
        pinch_and_twirl,
        plasma_noise,
        ripple,
        single_frequency_greyscale,
        sparkles,
        transverse_chromatic_abberation
    );
    None
}

#[cfg(test)]
mod burst_tests {
    use super::*;
    use crate::simd;

    /// The scalar and AVX2 builds of the burst row give the same bits; weights are in [0, 1]
    /// and 1 close to the centre (inside the rays).
    #[test]
    fn burst_row_twins_agree() {
        for exponent in [1.0f32, 0.37, 1.8] {
            let b = Burst {
                centre: (10.3, 20.7),
                rays: (0..57).map(|k| 6.0 + (k % 7) as f32).collect(),
                exponent,
            };
            let ext = b.extended_rays();
            let mut a = vec![0.0f32; 45];
            burst_row_scalar(&ext, b.centre, exponent, 10.0, &mut a);
            assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
            assert!(a[21] > 0.7 && a[44] < a[25], "{a:?}");
            for isa in simd::available() {
                let mut c = vec![0.0f32; 45];
                dispatch_burst(isa, &ext, b.centre, exponent, &mut c);
                assert_eq!(a, c);
            }
        }
    }

    /// The blend toward white: scalar and AVX2 agree, keep 1 is the identity, keep 0 white,
    /// and the value is truncated like `clip_trunc`.
    #[test]
    fn toward_white_twins_agree() {
        let w = 37;
        let src: Vec<u8> = (0..w * 3).map(|i| (i * 53 % 256) as u8).collect();
        let keep: Vec<f32> = (0..w).map(|i| i as f32 / (w - 1) as f32).collect();
        let mut k3 = vec![0.0f32; w * 3];
        let mut a = vec![0u8; w * 3];
        toward_white_row_scalar(&src, &keep, &mut k3, &mut a);
        assert_eq!(&a[..3], &[255, 255, 255]);
        assert_eq!(&a[w * 3 - 3..], &src[w * 3 - 3..]);
        for (i, &v) in a.iter().enumerate() {
            let want = clip_trunc(255.0 + keep[i / 3] * (f32::from(src[i]) - 255.0));
            assert_eq!(v, want, "{i}");
        }
        for isa in simd::available() {
            let mut b = vec![0u8; w * 3];
            crate::simd::dispatch!(at isa; toward_white_row_scalar / toward_white_row_avx2(&src, &keep, &mut k3, &mut b));
            assert_eq!(a, b);
        }
    }

    /// The 2× upsampling keeps the grid's samples at even positions and puts the cubic
    /// midpoint (wrapping around) at odd ones: exact on a cubic, close on a smooth periodic
    /// field, and the wrap uses the other end of the row/column.
    #[test]
    fn upsample2_interpolates_periodically() {
        let n = 16;
        let f = |r: f32, c: f32| {
            let t = std::f32::consts::TAU / n as f32;
            (r * t).sin() + 0.5 * (c * t * 2.0).cos()
        };
        let grid: Vec<f32> = (0..n * n)
            .map(|i| f((i / n) as f32, (i % n) as f32))
            .collect();
        let (w, h) = (2 * n, 2 * n - 3);
        let up = upsample2(&grid, n, w, h);
        for y in 0..h {
            for x in 0..w {
                let v = up[y * w + x];
                if y % 2 == 0 && x % 2 == 0 {
                    assert_eq!(v, grid[(y / 2) * n + x / 2]);
                }
                let want = f(y as f32 / 2.0, x as f32 / 2.0);
                assert!((v - want).abs() < 0.03, "{y},{x}: {v} vs {want}");
            }
        }
        // a spike at the first column: its right neighbour's midpoint weight −1/16 shows at
        // the last odd column (the wrap)
        let mut spike = vec![0.0f32; n * n];
        spike[0] = 16.0;
        let up = upsample2(&spike, n, 2 * n, 1);
        assert_eq!(up[0], 16.0);
        assert_eq!(up[1], 9.0);
        assert_eq!(up[2 * n - 1], 9.0);
        assert_eq!(up[3], -1.0);
        assert_eq!(up[2 * n - 3], -1.0);
    }

    fn dispatch_burst(isa: simd::Isa, ext: &[f32], centre: (f32, f32), e: f32, out: &mut [f32]) {
        crate::simd::dispatch!(at isa; burst_row_scalar / burst_row_avx2(ext, centre, e, 10.0, out));
    }
}
