//! The `statistics` stylization backend: weight-free transfer of a style image's colour and
//! multi-scale contrast statistics onto a content image (issue 7; a fast stand-in for the
//! AdaIN network of ALGORITHMS.md §9.2).
//!
//! # Algorithm
//!
//! 1. **Colour (whitening–colouring).** With content mean `μc`, covariance `Σc` and style mean
//!    `μs`, covariance `Σs = Es Λs Esᵀ` (RGB, 0–255 units), every content pixel is mapped to
//!    `y = Λs^½ Esᵀ (Σc + εI)^-½ (x − μc)`: the content is whitened, then given the style's
//!    colour covariance, expressed in the style's principal-component (decorrelated) basis.
//!    `ε = 0.01·λmax(Σc) + 1` keeps nearly flat colour directions of the content (e.g. the
//!    chroma of a grey image) from amplifying noise by more than ~10×.
//! 2. **Texture (band energies).** Each of the three decorrelated channels is split into a
//!    Laplacian pyramid of [`LEVELS`] levels ([`crate::stylize::pyramid`]); band `l` of the
//!    content is scaled so that its standard deviation equals that of band `l` of the style
//!    (same pixel scale; the gain is clamped to `[0, MAX_GAIN]`), then the pyramid is
//!    collapsed. Fine, busy styles sharpen and roughen the content; smooth styles flatten it.
//! 3. **Histograms.** Each channel is histogram-matched to the style's channel
//!    ([`crate::stylize::histmatch`]), so its value distribution (not only mean and variance)
//!    is the style's.
//! 4. **Back to RGB and blend.** `x' = μs + Es y`; output `trunc(clamp(c + α(x' − c), 0, 255))`.
//!    α = 0 returns the content bytes unchanged.
//!
//! # What it is not
//!
//! It is not neural style transfer: it matches global statistics (colour distribution and the
//! energy of each spatial-frequency band), it does not synthesise the style's brush strokes or
//! patterns where the content has none, and it has no notion of semantics. Every step is a
//! global linear map, a per-band gain or a monotone per-channel remapping, so edges stay where
//! they are and shapes are preserved — the image looks "repainted with the style's palette and
//! contrast", not "painted by the artist". Use the `adain` backend for Stylized-ImageNet-like
//! textures. Deterministic: no randomness, the same bytes on every machine that has IEEE f32
//! (no FMA contraction, fixed summation order).

// 3×3 matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use crate::stylize::histmatch::{match_histogram, Quantiles};
use crate::stylize::pyramid::{mean_std, Pyramid};

/// Pyramid levels (4 bands + low-pass residual): bands at 1, 2, 4, 8 pixel scales.
pub const LEVELS: usize = 5;
/// Largest band gain: a content band is amplified at most this much (JPEG blocks and sensor
/// noise in flat regions would otherwise become the texture).
pub const MAX_GAIN: f32 = 4.0;

/// Everything the backend needs from a prepared style image, computed once per style.
#[derive(Clone, Debug)]
pub struct StyleStats {
    /// Mean colour (RGB, 0–255).
    pub mean: [f64; 3],
    /// Square roots of the style's colour-covariance eigenvalues, largest first.
    pub sqrt_eig: [f64; 3],
    /// Eigenvectors as columns: `basis[i][k]` is RGB component `i` of axis `k`.
    pub basis: [[f64; 3]; 3],
    /// Per decorrelated channel, the standard deviation of each pyramid band (finest first).
    pub band_std: [Vec<f64>; 3],
    /// Per decorrelated channel, its value distribution.
    pub quantiles: [Quantiles; 3],
}

/// RGB8 interleaved → three f32 planes.
fn planes(rgb: &[u8]) -> [Vec<f32>; 3] {
    let n = rgb.len() / 3;
    let mut p = [vec![0f32; n], vec![0f32; n], vec![0f32; n]];
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        p[0][i] = px[0] as f32;
        p[1][i] = px[1] as f32;
        p[2][i] = px[2] as f32;
    }
    p
}

/// Mean and covariance of three planes (f64 accumulation).
fn mean_cov(p: &[Vec<f32>; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let n = p[0].len().max(1) as f64;
    let mut mean = [0f64; 3];
    for c in 0..3 {
        mean[c] = p[c].iter().map(|&v| v as f64).sum::<f64>() / n;
    }
    let mut cov = [[0f64; 3]; 3];
    for i in 0..3 {
        for j in i..3 {
            let (a, b) = (&p[i], &p[j]);
            let (mi, mj) = (mean[i] as f32, mean[j] as f32);
            let mut s = 0f64;
            for (ca, cb) in a.chunks(1024).zip(b.chunks(1024)) {
                let mut t = 0f32;
                for (&x, &y) in ca.iter().zip(cb) {
                    t += (x - mi) * (y - mj);
                }
                s += t as f64;
            }
            cov[i][j] = s / n;
            cov[j][i] = cov[i][j];
        }
    }
    (mean, cov)
}

/// Eigen-decomposition of a symmetric 3×3 matrix (cyclic Jacobi). Eigenvalues are sorted
/// descending and clamped at 0; each eigenvector's largest component is made positive so the
/// basis is unique.
pub fn eig_sym3(m: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut a = m;
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..50 {
        let off = a[0][1].abs() + a[0][2].abs() + a[1][2].abs();
        if off <= 1e-12 * (a[0][0].abs() + a[1][1].abs() + a[2][2].abs()).max(1e-300) {
            break;
        }
        for (p, q) in [(0usize, 1usize), (0, 2), (1, 2)] {
            if a[p][q] == 0.0 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            // A ← Jᵀ A J, V ← V J with the rotation in the (p, q) plane.
            for k in 0..3 {
                let (akp, akq) = (a[k][p], a[k][q]);
                a[k][p] = c * akp - s * akq;
                a[k][q] = s * akp + c * akq;
            }
            for k in 0..3 {
                let (apk, aqk) = (a[p][k], a[q][k]);
                a[p][k] = c * apk - s * aqk;
                a[q][k] = s * apk + c * aqk;
            }
            for row in v.iter_mut() {
                let (vp, vq) = (row[p], row[q]);
                row[p] = c * vp - s * vq;
                row[q] = s * vp + c * vq;
            }
        }
    }
    let mut order = [0usize, 1, 2];
    order.sort_by(|&x, &y| a[y][y].total_cmp(&a[x][x]));
    let mut vals = [0f64; 3];
    let mut vecs = [[0f64; 3]; 3];
    for (k, &o) in order.iter().enumerate() {
        vals[k] = a[o][o].max(0.0);
        let col = [v[0][o], v[1][o], v[2][o]];
        let big = col
            .iter()
            .copied()
            .fold(0f64, |m, x| if x.abs() > m.abs() { x } else { m });
        let sign = if big < 0.0 { -1.0 } else { 1.0 };
        for i in 0..3 {
            vecs[i][k] = sign * col[i];
        }
    }
    (vals, vecs)
}

/// Standard deviation of each band of a pyramid.
fn band_stds(p: &Pyramid) -> Vec<f64> {
    p.bands.iter().map(|(b, _, _)| mean_std(b).1).collect()
}

impl StyleStats {
    /// Statistics of an RGB8 style image (`w`×`h`, any size ≥ 1×1).
    pub fn of(rgb: &[u8], w: usize, h: usize) -> StyleStats {
        let p = planes(rgb);
        let (mean, cov) = mean_cov(&p);
        let (eig, basis) = eig_sym3(cov);
        let n = w * h;
        let mut y = [vec![0f32; n], vec![0f32; n], vec![0f32; n]];
        let bt: Vec<[f32; 3]> = (0..3)
            .map(|k| [basis[0][k] as f32, basis[1][k] as f32, basis[2][k] as f32])
            .collect();
        let m = [mean[0] as f32, mean[1] as f32, mean[2] as f32];
        for i in 0..n {
            let d = [p[0][i] - m[0], p[1][i] - m[1], p[2][i] - m[2]];
            for k in 0..3 {
                y[k][i] = bt[k][0] * d[0] + bt[k][1] * d[1] + bt[k][2] * d[2];
            }
        }
        let band = |k: usize| band_stds(&Pyramid::build(&y[k], w, h, LEVELS));
        StyleStats {
            mean,
            sqrt_eig: [eig[0].sqrt(), eig[1].sqrt(), eig[2].sqrt()],
            basis,
            band_std: [band(0), band(1), band(2)],
            quantiles: [
                Quantiles::of(&y[0]),
                Quantiles::of(&y[1]),
                Quantiles::of(&y[2]),
            ],
        }
    }
}

/// Stylize an RGB8 content image (`w`×`h`) with `style` at strength `alpha ∈ [0, 1]` into
/// `dst` (same size). See the module docs for the algorithm.
pub fn stylize(src: &[u8], dst: &mut [u8], w: usize, h: usize, style: &StyleStats, alpha: f32) {
    debug_assert_eq!(src.len(), w * h * 3);
    debug_assert_eq!(dst.len(), src.len());
    let alpha = alpha.clamp(0.0, 1.0);
    if alpha == 0.0 {
        dst.copy_from_slice(src);
        return;
    }
    let n = w * h;
    let c = planes(src);
    let (mc, cov) = mean_cov(&c);
    let (ec, lc) = {
        let (vals, vecs) = eig_sym3(cov);
        (vecs, vals)
    };
    let eps = 0.01 * lc[0] + 1.0;
    // W = Ec diag(1/√(λc+ε)) Ecᵀ;  M = diag(√λs) Esᵀ W.
    let mut wm = [[0f64; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            wm[i][j] = (0..3)
                .map(|k| ec[i][k] * ec[j][k] / (lc[k] + eps).sqrt())
                .sum();
        }
    }
    let mut mm = [[0f32; 3]; 3];
    for k in 0..3 {
        for j in 0..3 {
            let v: f64 = (0..3).map(|i| style.basis[i][k] * wm[i][j]).sum();
            mm[k][j] = (style.sqrt_eig[k] * v) as f32;
        }
    }
    let mcf = [mc[0] as f32, mc[1] as f32, mc[2] as f32];
    let mut y = [vec![0f32; n], vec![0f32; n], vec![0f32; n]];
    {
        let [y0, y1, y2] = &mut y;
        for i in 0..n {
            let d0 = c[0][i] - mcf[0];
            let d1 = c[1][i] - mcf[1];
            let d2 = c[2][i] - mcf[2];
            y0[i] = mm[0][0] * d0 + mm[0][1] * d1 + mm[0][2] * d2;
            y1[i] = mm[1][0] * d0 + mm[1][1] * d1 + mm[1][2] * d2;
            y2[i] = mm[2][0] * d0 + mm[2][1] * d1 + mm[2][2] * d2;
        }
    }
    for (k, yk) in y.iter_mut().enumerate() {
        let mut pyr = Pyramid::build(yk, w, h, LEVELS);
        for (l, (band, _, _)) in pyr.bands.iter_mut().enumerate() {
            let Some(&target) = style.band_std[k].get(l) else {
                break;
            };
            let (_, sd) = mean_std(band);
            if sd <= 1e-6 {
                continue;
            }
            let g = ((target / sd) as f32).clamp(0.0, MAX_GAIN);
            band.iter_mut().for_each(|v| *v *= g);
        }
        *yk = pyr.collapse();
        match_histogram(yk, &style.quantiles[k]);
    }
    let ms = [
        style.mean[0] as f32,
        style.mean[1] as f32,
        style.mean[2] as f32,
    ];
    let b = style.basis.map(|r| r.map(|v| v as f32));
    for i in 0..n {
        let (y0, y1, y2) = (y[0][i], y[1][i], y[2][i]);
        for ch in 0..3 {
            let s = ms[ch] + b[ch][0] * y0 + b[ch][1] * y1 + b[ch][2] * y2;
            let x = c[ch][i];
            let o = x + alpha * (s - x);
            dst[i * 3 + ch] = o.clamp(0.0, 255.0) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_reconstructs_matrix() {
        let m = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 1.0]];
        let (l, v) = eig_sym3(m);
        assert!(l[0] >= l[1] && l[1] >= l[2]);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| v[i][k] * l[k] * v[j][k]).sum();
                assert!((r - m[i][j]).abs() < 1e-9, "{i}{j}: {r}");
            }
        }
        let (l, _) = eig_sym3([[0.0; 3]; 3]);
        assert_eq!(l, [0.0; 3]);
    }

    #[test]
    fn alpha_zero_is_identity_and_tiny_sizes_work() {
        let style: Vec<u8> = (0..16 * 16 * 3).map(|i| (i * 53 % 256) as u8).collect();
        let st = StyleStats::of(&style, 16, 16);
        for &(w, h) in &[(1usize, 1usize), (1, 9), (9, 1), (33, 17)] {
            let src: Vec<u8> = (0..w * h * 3).map(|i| (i * 29 % 256) as u8).collect();
            let mut dst = vec![0u8; src.len()];
            stylize(&src, &mut dst, w, h, &st, 0.0);
            assert_eq!(dst, src);
            stylize(&src, &mut dst, w, h, &st, 1.0);
            let mut again = vec![0u8; src.len()];
            stylize(&src, &mut again, w, h, &st, 1.0);
            assert_eq!(dst, again);
        }
    }
}
