//! ImageNet-P `snow`: one fixed snow layer per sequence, motion-blurred by ImageMagick at the
//! angle `4·i − 150°` for frame i = 0…30 (every frame snows, frame 0 included, as in the
//! reference), added to the greyscale-lifted crop with its 180° rotation.
//!
//! The layer is ImageNet-C snow's original (ImageMagick) layer with ImageNet-P's constants:
//! `N(0.05, 0.3)` on 224×224, `clipped_zoom` ×3 (`kernels::zoom`), values under 0.5 zeroed,
//! clipped to [0, 1], trimmed to the centre 224×224 and truncated to 8 bits (the PNG the
//! reference hands to ImageMagick); each frame blurs it with radius 14, σ 4 through
//! `kernels::motion` with ImageMagick's Q16 rounding, the sums in f32 FMA as ImageNet-C's fast
//! mode sums (`motion_blur_prepared_imagemagick`: within one level of the f64 sums, which are
//! byte-identical to ImageMagick; ALGORITHMS.md §13). The blend follows make_imagenet_p.py's precision, which differs from
//! imagecorruptions' snow: the crop `x` is f64, the lift `1.5·gray(f32 x) + 0.5` f32 (cv2's
//! RGB2GRAY in the IPP fma form, as `weather::snow`), `z = 0.85·x + 0.15·max(x, lift)` and
//! `trunc(clip((z + L) + rot180(L), 0, 1)·255)` f64. `z` does not depend on the frame, so it is
//! computed once.

use super::{stream, Rgb, Sink, SIDE};
use crate::error::Result;
use crate::kernels::motion::{motion_blur_prepared_imagemagick, MotionKernel, Prepared};
use crate::kernels::zoom::clipped_zoom_plane;
use crate::rng::RandomSource;
use crate::simd::fma::fma_f32;

/// The reference's fixed 8-bit snow layer (224×224), before the per-frame blur.
pub fn layer(rng: &mut dyn RandomSource) -> Vec<u8> {
    let n = SIDE;
    let mut normals = vec![0f64; n * n];
    rng.fill_normal(&mut normals, 0.05, 0.3);
    let (zoomed, zh, zw) = clipped_zoom_plane(&normals, n, n, 3.0);
    let (t0, l0) = ((zh - n) / 2, (zw - n) / 2);
    let mut out = vec![0u8; n * n];
    for r in 0..n {
        for c in 0..n {
            let v = zoomed[(t0 + r) * zw + l0 + c];
            // L[L < 0.5] = 0; clip(L, 0, 1)·255 → uint8 (truncation)
            let v = if v < 0.5 { 0.0 } else { v.min(1.0) };
            out[r * n + c] = (v * 255.0) as u8;
        }
    }
    out
}

/// `z = 0.85·x + 0.15·max(x, 1.5·gray + 0.5)` per value of the crop (f64, see the module docs).
fn lifted(crop: &[u8]) -> Vec<f64> {
    let mut z = vec![0f64; crop.len()];
    let unit = |v: u8| f64::from(v) / 255.0;
    for (px, o) in crop.chunks_exact(3).zip(z.chunks_exact_mut(3)) {
        let [r, g, b] = [px[0], px[1], px[2]].map(|v| unit(v) as f32);
        let gray = fma_f32(b, 0.114, fma_f32(r, 0.299, g * 0.587));
        let lift = f64::from(gray * 1.5 + 0.5);
        for (o, &v) in o.iter_mut().zip(px) {
            let x = unit(v);
            let m = if lift > x { lift } else { x };
            *o = 0.85 * x + (1.0 - 0.85) * m;
        }
    }
    z
}

/// The 31 frames, into `sink`.
pub fn frames(img: &Rgb, rng: &mut dyn RandomSource, sink: &mut Sink) -> Result<()> {
    let crop = img.center_crop();
    let z = lifted(&crop);
    // the layer converted and edge-padded once for the 31 kernels, not once per frame (the
    // pads of the widest change no value)
    let kernels: Vec<MotionKernel> = (0..31).map(kernel).collect();
    let layer = Prepared::new(&layer(rng), SIDE, SIDE, 1, &kernels, f32::from);
    let mut blurred = vec![0u8; SIDE * SIDE];
    stream(
        31,
        |i, out| {
            motion_blur_prepared_imagemagick(&layer, &mut blurred, &kernels[i]);
            blend(&z, &blurred, out);
        },
        sink,
    )
}

/// The layer's blur of frame `i`.
fn kernel(i: usize) -> MotionKernel {
    MotionKernel::new(14.0, 4.0, i as f64 * 4.0 - 150.0)
}

/// `f64::from(v) / 255.0` for every byte: the blurred layer's levels, looked up instead of
/// divided per pixel.
const LEVELS: [f64; 256] = {
    let mut t = [0f64; 256];
    let mut v = 0;
    while v < 256 {
        t[v] = v as f64 / 255.0;
        v += 1;
    }
    t
};

/// `out = trunc(clip((z + L) + rot180(L), 0, 1)·255)` per value, in f64 and in this order,
/// with `L = blurred/255` and `rot180(L)` at pixel `p` the level of pixel `n − 1 − p`
/// (`rot90(L, 2)`).
fn blend(z: &[f64], blurred: &[u8], out: &mut [u8]) {
    crate::simd::dispatch!(blend_scalar / blend_avx2(z, blurred, out))
}

/// One value of [`blend`].
#[inline(always)]
fn blend_value(z: f64, l: f64, lr: f64) -> u8 {
    let v = (z + l) + lr;
    let v = if v > 0.0 { v } else { 0.0 };
    let v = if v < 1.0 { v } else { 1.0 };
    (v * 255.0) as u8
}

/// Portable twin of [`blend`].
fn blend_scalar(z: &[f64], blurred: &[u8], out: &mut [u8]) {
    let n = blurred.len();
    assert!(z.len() >= 3 * n && out.len() >= 3 * n);
    for (p, (o, zp)) in out
        .chunks_exact_mut(3)
        .zip(z.chunks_exact(3))
        .take(n)
        .enumerate()
    {
        let (l, lr) = (
            LEVELS[blurred[p] as usize],
            LEVELS[blurred[n - 1 - p] as usize],
        );
        for (o, &zv) in o.iter_mut().zip(zp) {
            *o = blend_value(zv, l, lr);
        }
    }
}

/// AVX2 twin of [`blend`]: one pixel per step, its three values in one 4-lane f64 vector
/// (the fourth lane reads the next pixel's first value and is dropped), the two levels
/// broadcast from [`LEVELS`]; the same f64 operations in the same order as the scalar twin
/// (`vmaxpd`/`vminpd` against 0 and 1 are its compare-and-selects, NaN → 0), so the same
/// bytes. The compiler's version of the per-pixel loop, plus the two f64 level images it
/// needed, cost about twice the instructions.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn blend_avx2(z: &[f64], blurred: &[u8], out: &mut [u8]) {
    use std::arch::x86_64::*;
    let n = blurred.len();
    assert!(z.len() >= 3 * n && out.len() >= 3 * n);
    if n == 0 {
        return;
    }
    let (zero, one, s255) = (
        _mm256_setzero_pd(),
        _mm256_set1_pd(1.0),
        _mm256_set1_pd(255.0),
    );
    let zeroi = _mm_setzero_si128();
    // the last pixel has no fourth value to read and no byte after it to overwrite
    for p in 0..n - 1 {
        // SAFETY (the body is the unsafe fn's): 3p + 4 ≤ 3n ≤ z.len() and ≤ out.len() for
        // p ≤ n − 2; the byte written at 3p + 3 is the next pixel's, rewritten by the next step.
        let zv = _mm256_loadu_pd(z.as_ptr().add(3 * p));
        let l = _mm256_broadcast_sd(LEVELS.get_unchecked(*blurred.get_unchecked(p) as usize));
        let lr =
            _mm256_broadcast_sd(LEVELS.get_unchecked(*blurred.get_unchecked(n - 1 - p) as usize));
        let v = _mm256_add_pd(_mm256_add_pd(zv, l), lr);
        let v = _mm256_min_pd(_mm256_max_pd(v, zero), one);
        let q = _mm256_cvttpd_epi32(_mm256_mul_pd(v, s255));
        let b = _mm_packus_epi16(_mm_packus_epi32(q, zeroi), zeroi);
        std::ptr::write_unaligned(
            out.as_mut_ptr().add(3 * p) as *mut i32,
            _mm_cvtsi128_si32(b),
        );
    }
    let p = n - 1;
    let (l, lr) = (LEVELS[blurred[p] as usize], LEVELS[blurred[0] as usize]);
    for (o, &zv) in out[3 * p..3 * p + 3].iter_mut().zip(&z[3 * p..3 * p + 3]) {
        *o = blend_value(zv, l, lr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::FastRng;

    #[test]
    fn layer_has_the_published_density() {
        // N(0.05, 0.3) zoomed ×3 (linear interpolation keeps the marginal roughly normal with a
        // smaller spread) and thresholded at 0.5: a sparse layer, a few per cent of flakes,
        // none of them under 0.5·255
        let l = layer(&mut FastRng::new(4));
        let on: Vec<u8> = l.iter().copied().filter(|&v| v > 0).collect();
        let share = on.len() as f64 / l.len() as f64;
        assert!((0.01..0.12).contains(&share), "{share}");
        assert!(on.iter().all(|&v| v >= 127), "a flake under the threshold");
        assert!(on.contains(&255) || on.iter().any(|&v| v > 200));
    }

    #[test]
    fn blend_twins_are_equal() {
        let n = 1000;
        let mut z: Vec<f64> = (0..3 * n).map(|k| (k % 97) as f64 / 60.0 - 0.6).collect();
        // both clip bounds reached
        (z[0], z[5]) = (-3.0, 3.0);
        let blurred: Vec<u8> = (0..n).map(|k| ((k * 31) % 256) as u8).collect();
        let level = |v: u8| f64::from(v) / 255.0;
        let mut want = vec![0u8; 3 * n];
        blend_scalar(&z, &blurred, &mut want);
        assert_eq!((want[0], want[5]), (0, 255));
        // the definition, value by value (pixel p with the level of pixel n − 1 − p)
        for (i, &w) in want.iter().enumerate() {
            let (p, l, lr) = (i / 3, level(blurred[i / 3]), level(blurred[n - 1 - i / 3]));
            let v = ((z[i] + l) + lr).clamp(0.0, 1.0);
            assert_eq!(w, (v * 255.0) as u8, "value {i} (pixel {p})");
        }
        for isa in crate::simd::available() {
            let mut got = vec![1u8; 3 * n];
            crate::simd::dispatch!(at isa; blend_scalar / blend_avx2(&z, &blurred, &mut got));
            assert_eq!(got, want, "{isa:?}");
        }
    }

    #[test]
    fn lift_matches_the_definition() {
        // white stays white (lift 2.0 > 1 but z = 0.85 + 0.15·2 clipped later), black lifts
        // to 0.15·0.5
        let z = lifted(&[0, 0, 0, 255, 255, 255]);
        assert!((z[0] - 0.15000000000000002 * 0.5).abs() < 1e-12, "{}", z[0]);
        assert!((z[3] - (0.85 + 0.15000000000000002 * 2.0)).abs() < 1e-6);
    }
}
