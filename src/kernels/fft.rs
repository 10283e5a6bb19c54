//! In-place radix-2 complex FFT (1-D and 2-D inverse), for the spectrally shaped noises of
//! ImageNet-C-bar (`blue_noise_sample`, `brownish_noise`; ALGORITHMS.md §11). Power-of-two
//! lengths only: the noises are synthesised on a power-of-two grid and cropped, which keeps
//! their spectrum (ALGORITHMS.md §11.1) without a mixed-radix transform or a dependency.

use std::f64::consts::PI;

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

#[cfg(test)]
mod tests {
    use super::*;

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
