//! In-place radix-2 complex FFT (1-D and 2-D inverse), for the spectrally shaped noises of
//! ImageNet-C-bar (`blue_noise_sample`, `brownish_noise`; ALGORITHMS.md §11). Power-of-two
//! lengths only: the noises are synthesised on a power-of-two grid and cropped, which keeps
//! their spectrum (ALGORITHMS.md §11.1) without a mixed-radix transform or a dependency.
//!
//! [`inverse_2d_f32`] is the one the noises use: f32, and every butterfly applied to two whole
//! rows at once (the transform along the columns), so that the inner loop is a contiguous
//! complex multiply-add that vectorises; the row transform is the same pass between two
//! transposes. The f64 1-D/2-D transforms are its reference in the tests.

use crate::simd::dispatch;
use std::f64::consts::PI;

#[cfg(test)]
/// In-place inverse DFT (unnormalised, `exp(+2πi·jk/n)`) of `re`/`im`, `n = re.len()` a power
/// of two.
pub fn inverse_1d(re: &mut [f64], im: &mut [f64]) {
    let n = re.len();
    debug_assert!(n.is_power_of_two() && im.len() == n);
    if n < 2 {
        return;
    }
    // bit-reversal permutation
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if j > i {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let ang = 2.0 * PI / len as f64;
        let (ws, wc) = ang.sin_cos();
        for start in (0..n).step_by(len) {
            let (mut cr, mut ci) = (1.0f64, 0.0f64);
            for k in 0..len / 2 {
                let a = start + k;
                let b = a + len / 2;
                let tr = re[b] * cr - im[b] * ci;
                let ti = re[b] * ci + im[b] * cr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
                let nr = cr * wc - ci * ws;
                ci = cr * ws + ci * wc;
                cr = nr;
            }
        }
        len <<= 1;
    }
}

#[cfg(test)]
/// In-place unnormalised inverse 2-D DFT of an `n`×`n` row-major complex grid.
pub fn inverse_2d(re: &mut [f64], im: &mut [f64], n: usize) {
    debug_assert_eq!(re.len(), n * n);
    for r in 0..n {
        inverse_1d(&mut re[r * n..(r + 1) * n], &mut im[r * n..(r + 1) * n]);
    }
    let mut cr = vec![0.0; n];
    let mut ci = vec![0.0; n];
    for c in 0..n {
        for r in 0..n {
            cr[r] = re[r * n + c];
            ci[r] = im[r * n + c];
        }
        inverse_1d(&mut cr, &mut ci);
        for r in 0..n {
            re[r * n + c] = cr[r];
            im[r * n + c] = ci[r];
        }
    }
}

/// In-place unnormalised inverse 2-D DFT (`exp(+2πi·(jk + lm)/n)`) of an `n`×`n` row-major
/// complex f32 grid, `n` a power of two.
pub fn inverse_2d_f32(re: &mut [f32], im: &mut [f32], n: usize) {
    assert!(n.is_power_of_two() && re.len() == n * n && im.len() == n * n);
    if n < 2 {
        return;
    }
    let tw = twiddles(n);
    columns_inverse(re, im, n, &tw);
    transpose(re, n);
    transpose(im, n);
    columns_inverse(re, im, n, &tw);
    transpose(re, n);
    transpose(im, n);
}

/// (cos, sin) of 2πk/n, k < n/2, interleaved, computed in f64.
fn twiddles(n: usize) -> Vec<f32> {
    (0..n / 2)
        .flat_map(|k| {
            let (s, c) = (2.0 * PI * k as f64 / n as f64).sin_cos();
            [c as f32, s as f32]
        })
        .collect()
}

/// In-place transpose of an `n`×`n` grid.
fn transpose(v: &mut [f32], n: usize) {
    const B: usize = 16;
    for bi in (0..n).step_by(B) {
        for bj in (bi..n).step_by(B) {
            for i in bi..(bi + B).min(n) {
                let j0 = if bi == bj { i + 1 } else { bj };
                for j in j0..(bj + B).min(n) {
                    v.swap(i * n + j, j * n + i);
                }
            }
        }
    }
}

dispatch! {
    /// The 1-D inverse transform of every column of an `n`×`n` grid: rows in bit-reversed
    /// order, then radix-2 stages whose butterflies combine two whole rows with one twiddle
    /// (`tw` = interleaved cos, sin of 2πk/n).
    fn columns_inverse / columns_inverse_scalar / columns_inverse_avx2 (
        re: &mut [f32],
        im: &mut [f32],
        n: usize,
        tw: &[f32],
    ) {
        let bits = n.trailing_zeros();
        for i in 0..n {
            let j = i.reverse_bits() >> (usize::BITS - bits);
            if j > i {
                let (lo, hi) = re.split_at_mut(j * n);
                lo[i * n..(i + 1) * n].swap_with_slice(&mut hi[..n]);
                let (lo, hi) = im.split_at_mut(j * n);
                lo[i * n..(i + 1) * n].swap_with_slice(&mut hi[..n]);
            }
        }
        let mut len = 2;
        while len <= n {
            let half = len / 2;
            let step = n / len;
            for start in (0..n).step_by(len) {
                for k in 0..half {
                    let (wr, wi) = (tw[2 * k * step], tw[2 * k * step + 1]);
                    let a = start + k;
                    let b = a + half;
                    let (rlo, rhi) = re.split_at_mut(b * n);
                    let (ilo, ihi) = im.split_at_mut(b * n);
                    let ar = &mut rlo[a * n..(a + 1) * n];
                    let ai = &mut ilo[a * n..(a + 1) * n];
                    let br = &mut rhi[..n];
                    let bi = &mut ihi[..n];
                    for (((ar, ai), br), bi) in ar
                        .iter_mut()
                        .zip(ai.iter_mut())
                        .zip(br.iter_mut())
                        .zip(bi.iter_mut())
                    {
                        let tr = *br * wr - *bi * wi;
                        let ti = *br * wi + *bi * wr;
                        *br = *ar - tr;
                        *bi = *ai - ti;
                        *ar += tr;
                        *ai += ti;
                    }
                }
            }
            len <<= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// The f32 row-vectorised 2-D transform equals the f64 one (to f32 rounding), and its
    /// scalar and AVX2 builds give the same bits.
    #[test]
    fn f32_matches_f64_and_twins_agree() {
        for n in [1usize, 2, 4, 16, 64] {
            let xr: Vec<f64> = (0..n * n)
                .map(|i| ((i * 7 + 3) % 11) as f64 - 5.0)
                .collect();
            let xi: Vec<f64> = (0..n * n)
                .map(|i| ((i * 5 + 1) % 13) as f64 * 0.5)
                .collect();
            let (mut r, mut i) = (xr.clone(), xi.clone());
            inverse_2d(&mut r, &mut i, n);
            let mut fr: Vec<f32> = xr.iter().map(|&v| v as f32).collect();
            let mut fi: Vec<f32> = xi.iter().map(|&v| v as f32).collect();
            inverse_2d_f32(&mut fr, &mut fi, n);
            let scale = (n * n) as f64 * 8.0;
            for k in 0..n * n {
                assert!((fr[k] as f64 - r[k]).abs() < 1e-5 * scale, "n={n} k={k}");
                assert!((fi[k] as f64 - i[k]).abs() < 1e-5 * scale, "n={n} k={k}");
            }
            if n < 2 {
                continue;
            }
            let tw = twiddles(n);
            let base: Vec<f32> = xr.iter().map(|&v| v as f32).collect();
            let basei: Vec<f32> = xi.iter().map(|&v| v as f32).collect();
            let (mut a, mut ai) = (base.clone(), basei.clone());
            columns_inverse_scalar(&mut a, &mut ai, n, &tw);
            for isa in simd::available() {
                let (mut b, mut bi) = (base.clone(), basei.clone());
                dispatch!(at isa; columns_inverse_scalar / columns_inverse_avx2(&mut b, &mut bi, n, &tw));
                assert_eq!(a, b);
                assert_eq!(ai, bi);
            }
        }
    }

    /// The FFT equals the O(n²) definition.
    #[test]
    fn matches_naive_dft() {
        for n in [1usize, 2, 4, 8, 32] {
            let xr: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) % 11) as f64 - 5.0).collect();
            let xi: Vec<f64> = (0..n).map(|i| ((i * 5 + 1) % 7) as f64 * 0.5).collect();
            let (mut r, mut i) = (xr.clone(), xi.clone());
            inverse_1d(&mut r, &mut i);
            for k in 0..n {
                let (mut sr, mut si) = (0.0, 0.0);
                for j in 0..n {
                    let a = 2.0 * PI * (j * k) as f64 / n as f64;
                    sr += xr[j] * a.cos() - xi[j] * a.sin();
                    si += xr[j] * a.sin() + xi[j] * a.cos();
                }
                assert!(
                    (sr - r[k]).abs() < 1e-9 && (si - i[k]).abs() < 1e-9,
                    "n={n} k={k}"
                );
            }
        }
    }

    /// A single frequency in 2-D gives the plane wave it stands for.
    #[test]
    fn two_d_plane_wave() {
        let n = 8;
        let mut re = vec![0.0; n * n];
        let mut im = vec![0.0; n * n];
        re[n + 2] = 1.0; // row frequency 1, column frequency 2
        inverse_2d(&mut re, &mut im, n);
        for y in 0..n {
            for x in 0..n {
                let a = 2.0 * PI * (y as f64 + 2.0 * x as f64) / n as f64;
                assert!((re[y * n + x] - a.cos()).abs() < 1e-12);
                assert!((im[y * n + x] - a.sin()).abs() < 1e-12);
            }
        }
    }
}
