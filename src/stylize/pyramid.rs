//! Laplacian pyramid of a single-channel f32 plane (Burt & Adelson 1983), used by the
//! `statistics` stylization backend (ALGORITHMS.md §9.2 substitute, see [`crate::stylize::statistics`]).
//!
//! * `reduce`: separable 5-tap binomial `[1, 4, 6, 4, 1] / 16` blur, keep every second sample;
//!   a side of `n` becomes `ceil(n / 2)` (so a side of 1 stays 1: any size ≥ 1×1 works).
//! * `expand`: the separable interpolating inverse (`[1, 6, 1] / 8` at even, `[1, 1] / 2` at
//!   odd positions).
//! * Borders replicate the edge sample (clamped indices), valid for any side including 1.
//!
//! Band `l` is `level_l − expand(level_{l+1})`, so `collapse` reconstructs the plane exactly
//! (up to f32 rounding) whatever the operators are; modifying bands changes only their band.
//! The loops are plain slices over rows so that the compiler vectorises them; there is no
//! hand-written SIMD here (and so no scalar twin is needed).

/// A Laplacian pyramid: `bands[0]` (finest) … `bands[n-1]`, then the low-pass residual.
#[derive(Clone, Debug, Default)]
pub struct Pyramid {
    /// Band-pass planes, finest first, with their (width, height).
    pub bands: Vec<(Vec<f32>, usize, usize)>,
    /// Low-pass residual and its (width, height).
    pub low: (Vec<f32>, usize, usize),
}

/// How many levels (bands + residual) a `w`×`h` plane supports, at most `max_levels`: levels
/// stop once both sides are 1.
pub fn levels_for(w: usize, h: usize, max_levels: usize) -> usize {
    let (mut w, mut h, mut n) = (w, h, 1);
    while n < max_levels && (w > 1 || h > 1) {
        w = w.div_ceil(2);
        h = h.div_ceil(2);
        n += 1;
    }
    n
}

/// Blur-and-decimate by 2 in both directions.
pub fn reduce(src: &[f32], w: usize, h: usize) -> (Vec<f32>, usize, usize) {
    let (w2, h2) = (w.div_ceil(2), h.div_ceil(2));
    // Horizontal pass at even columns (every row), then vertical at even rows.
    let mut tmp = vec![0f32; w2 * h];
    let cl = |i: isize, n: usize| i.clamp(0, n as isize - 1) as usize;
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let out = &mut tmp[y * w2..(y + 1) * w2];
        for (x2, o) in out.iter_mut().enumerate() {
            let x = 2 * x2 as isize;
            let a = row[cl(x - 2, w)] + row[cl(x + 2, w)];
            let b = row[cl(x - 1, w)] + row[cl(x + 1, w)];
            let c = row[cl(x, w)];
            *o = (a + 4.0 * b + 6.0 * c) * (1.0 / 16.0);
        }
    }
    let mut out = vec![0f32; w2 * h2];
    for y2 in 0..h2 {
        let y = 2 * y2 as isize;
        let r = |d: isize| &tmp[cl(y + d, h) * w2..(cl(y + d, h) + 1) * w2];
        let (rm2, rm1, r0, rp1, rp2) = (r(-2), r(-1), r(0), r(1), r(2));
        let o = &mut out[y2 * w2..(y2 + 1) * w2];
        for x in 0..w2 {
            o[x] = ((rm2[x] + rp2[x]) + 4.0 * (rm1[x] + rp1[x]) + 6.0 * r0[x]) * (1.0 / 16.0);
        }
    }
    (out, w2, h2)
}

/// Interpolate a `w2`×`h2` plane (the [`reduce`] of a `w`×`h` one) back to `w`×`h`.
pub fn expand(src: &[f32], w2: usize, h2: usize, w: usize, h: usize) -> Vec<f32> {
    let cl = |i: usize, n: usize| i.min(n - 1);
    // Horizontal: w2 → w for every source row.
    let mut tmp = vec![0f32; w * h2];
    for y in 0..h2 {
        let row = &src[y * w2..(y + 1) * w2];
        let out = &mut tmp[y * w..(y + 1) * w];
        for (x, o) in out.iter_mut().enumerate() {
            let m = x / 2;
            *o = if x % 2 == 0 {
                let l = row[m.saturating_sub(1)];
                let r = row[cl(m + 1, w2)];
                (l + r + 6.0 * row[m]) * (1.0 / 8.0)
            } else {
                (row[m] + row[cl(m + 1, w2)]) * 0.5
            };
        }
    }
    // Vertical: h2 → h.
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        let m = y / 2;
        let o = &mut out[y * w..(y + 1) * w];
        if y % 2 == 0 {
            let (a, b, c) = (
                &tmp[m.saturating_sub(1) * w..(m.saturating_sub(1) + 1) * w],
                &tmp[m * w..(m + 1) * w],
                &tmp[cl(m + 1, h2) * w..(cl(m + 1, h2) + 1) * w],
            );
            for x in 0..w {
                o[x] = (a[x] + c[x] + 6.0 * b[x]) * (1.0 / 8.0);
            }
        } else {
            let (a, b) = (
                &tmp[m * w..(m + 1) * w],
                &tmp[cl(m + 1, h2) * w..(cl(m + 1, h2) + 1) * w],
            );
            for x in 0..w {
                o[x] = (a[x] + b[x]) * 0.5;
            }
        }
    }
    out
}

impl Pyramid {
    /// Decompose `plane` (`w`×`h`) into at most `max_levels` levels (see [`levels_for`]).
    pub fn build(plane: &[f32], w: usize, h: usize, max_levels: usize) -> Pyramid {
        let levels = levels_for(w, h, max_levels.max(1));
        let mut bands = Vec::with_capacity(levels - 1);
        let (mut cur, mut cw, mut ch) = (plane.to_vec(), w, h);
        for _ in 1..levels {
            let (low, lw, lh) = reduce(&cur, cw, ch);
            let up = expand(&low, lw, lh, cw, ch);
            for (c, u) in cur.iter_mut().zip(&up) {
                *c -= u;
            }
            bands.push((cur, cw, ch));
            (cur, cw, ch) = (low, lw, lh);
        }
        Pyramid {
            bands,
            low: (cur, cw, ch),
        }
    }

    /// Sum the pyramid back into a full-resolution plane.
    pub fn collapse(self) -> Vec<f32> {
        let (mut cur, mut cw, mut ch) = self.low;
        for (band, bw, bh) in self.bands.into_iter().rev() {
            let mut up = expand(&cur, cw, ch, bw, bh);
            for (u, b) in up.iter_mut().zip(&band) {
                *u += b;
            }
            (cur, cw, ch) = (up, bw, bh);
        }
        cur
    }
}

/// Mean and standard deviation (population) of a plane, accumulated in f64.
pub fn mean_std(v: &[f32]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let n = v.len() as f64;
    let (mut s, mut s2) = (0f64, 0f64);
    for chunk in v.chunks(1024) {
        // f32 partial sums per chunk keep the loop vectorisable; the chunk total goes to f64.
        let (mut a, mut b) = (0f32, 0f32);
        for &x in chunk {
            a += x;
            b += x * x;
        }
        s += a as f64;
        s2 += b as f64;
    }
    let mean = s / n;
    (mean, (s2 / n - mean * mean).max(0.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(w: usize, h: usize) -> Vec<f32> {
        (0..w * h)
            .map(|i| ((i * 37 + (i / w) * 11) % 251) as f32)
            .collect()
    }

    #[test]
    fn collapse_inverts_build_at_any_size() {
        for &(w, h) in &[(1, 1), (1, 9), (9, 1), (2, 3), (33, 17), (64, 64), (97, 61)] {
            let p = plane(w, h);
            let pyr = Pyramid::build(&p, w, h, 5);
            assert_eq!(pyr.bands.len() + 1, levels_for(w, h, 5));
            let back = pyr.collapse();
            assert_eq!(back.len(), p.len());
            for (a, b) in back.iter().zip(&p) {
                assert!((a - b).abs() < 1e-3, "{w}x{h}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn levels_stop_at_one_pixel() {
        assert_eq!(levels_for(1, 1, 5), 1);
        assert_eq!(levels_for(2, 1, 5), 2);
        assert_eq!(levels_for(224, 224, 5), 5);
        assert_eq!(levels_for(3, 3, 5), 3); // 3 → 2 → 1
    }

    #[test]
    fn constant_plane_has_empty_bands() {
        let p = vec![7.5f32; 33 * 17];
        let pyr = Pyramid::build(&p, 33, 17, 5);
        for (b, _, _) in &pyr.bands {
            assert!(b.iter().all(|v| v.abs() < 1e-5));
        }
        assert!(pyr.low.0.iter().all(|v| (v - 7.5).abs() < 1e-5));
    }
}
