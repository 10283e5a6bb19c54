//! `scipy.ndimage.map_coordinates(img, coords, order=1, mode='reflect')` for an interleaved
//! `H × W × C` f32 image sampled at one fractional (row, column) per pixel and the integer
//! channel coordinate (ALGORITHMS.md P12, elastic_transform).
//!
//! SciPy 1.11 semantics, reproduced operation for operation (checked against the oracle):
//! 1. the coordinate itself is first reflected into range (half-sample symmetric, period `2n`):
//!    below 0 `c → −c − 1`, above `n − 1` `c → 2n − 1 − c` (after removing whole periods);
//! 2. `start = floor(c)`, `w0 = 1 − (c − start)`, `w1 = 1 − w0`; neighbours `start` and
//!    `start + 1` that fall outside are reflected half-sample symmetrically (`−1 → 0`, `n → n−1`);
//! 3. `t = ((v00·a0)·b0 + (v01·a0)·b1 + (v10·a1)·b0) + (v11·a1)·b1` in f64 (SciPy's loop over the
//!    2×2×2 neighbourhood; the channel weights are exactly 1 and 0), rounded to f32.
//!
//! No library resampler computes exactly this (reflection of the coordinate plus the
//! derived last weight), so none is used.

/// Reflect a coordinate into `[−1, n)` the way SciPy's `map_coordinate(…, NI_EXTEND_REFLECT)`
/// does (values in `(−1, 0)` are left for the neighbour rule).
#[inline]
pub fn reflect_coordinate(c: f64, n: usize) -> f64 {
    let len = n as f64;
    if c < 0.0 {
        if n <= 1 {
            return 0.0;
        }
        let sz2 = 2 * n as i64;
        let mut v = c;
        if v < -(sz2 as f64) {
            v += (sz2 * ((-v / sz2 as f64) as i64)) as f64;
        }
        if v < -len {
            v + sz2 as f64
        } else {
            -v - 1.0
        }
    } else if c > len - 1.0 {
        if n <= 1 {
            return 0.0;
        }
        let sz2 = 2 * n as i64;
        let mut v = c;
        v -= (sz2 * ((v / sz2 as f64) as i64)) as f64;
        if v >= len {
            sz2 as f64 - v - 1.0
        } else {
            v
        }
    } else {
        c
    }
}

/// Half-sample symmetric index (period `2n`).
#[inline]
fn half_sample(i: i64, n: usize) -> usize {
    let p = 2 * n as i64;
    let m = i.rem_euclid(p);
    (if m < n as i64 { m } else { p - 1 - m }) as usize
}

/// Neighbour indices and weights `(i0, i1, w0, w1)` of one axis for coordinate `c`.
#[inline]
pub fn axis_taps(c: f64, n: usize) -> (usize, usize, f64, f64) {
    let last = (n - 1) as f64;
    // In-range coordinates (the common case) need no reflection and no index folding.
    let cc = if (0.0..=last).contains(&c) {
        c
    } else {
        reflect_coordinate(c, n)
    };
    // cc lies in (−1, n) here, so floor is a truncation or −1 (avoids a libm call).
    let s = if cc >= 0.0 { cc as i64 } else { -1 };
    let x = cc - s as f64;
    let w0 = 1.0 - x;
    let w1 = 1.0 - w0;
    if s >= 0 && s + 1 < n as i64 {
        (s as usize, s as usize + 1, w0, w1)
    } else {
        (half_sample(s, n), half_sample(s + 1, n), w0, w1)
    }
}

/// `out[r, c, ch] = bilinear(img, r + dy[r, c], c + dx[r, c], ch)` for every pixel (f32 image,
/// f32 displacement fields of `h × w`, coordinates formed in f64 as NumPy does).
pub fn remap_reflect(
    img: &[f32],
    h: usize,
    w: usize,
    c: usize,
    dy: &[f32],
    dx: &[f32],
    out: &mut [f32],
) {
    assert!(img.len() >= h * w * c && out.len() >= h * w * c);
    assert!(dy.len() >= h * w && dx.len() >= h * w);
    for r in 0..h {
        let (dyr, dxr) = (&dy[r * w..(r + 1) * w], &dx[r * w..(r + 1) * w]);
        let orow = &mut out[r * w * c..(r + 1) * w * c];
        for (col, ((&ddy, &ddx), o)) in dyr
            .iter()
            .zip(dxr)
            .zip(orow.chunks_exact_mut(c))
            .enumerate()
        {
            let (r0, r1, a0, a1) = axis_taps(r as f64 + ddy as f64, h);
            let (c0, c1, b0, b1) = axis_taps(col as f64 + ddx as f64, w);
            let p00 = &img[(r0 * w + c0) * c..(r0 * w + c0) * c + c];
            let p01 = &img[(r0 * w + c1) * c..(r0 * w + c1) * c + c];
            let p10 = &img[(r1 * w + c0) * c..(r1 * w + c0) * c + c];
            let p11 = &img[(r1 * w + c1) * c..(r1 * w + c1) * c + c];
            for ch in 0..c {
                let t = p00[ch] as f64 * a0 * b0
                    + p01[ch] as f64 * a0 * b1
                    + p10[ch] as f64 * a1 * b0
                    + p11[ch] as f64 * a1 * b1;
                o[ch] = t as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `map_coordinates(a, [[c]], order=1, mode='reflect')` with `a = [10, 20, 40, 80, 160]`
    /// (SciPy 1.11.4).
    #[test]
    fn one_dimensional_reflect_matches_scipy() {
        let a = [10.0f64, 20.0, 40.0, 80.0, 160.0];
        let cases = [
            (-0.3, 10.0),
            (-0.7, 10.0),
            (-1.2, 12.0),
            (-4.5, 120.0),
            (-5.5, 160.0),
            (-9.7, 13.0),
            (-10.3, 10.0),
            (3.5, 120.0),
            (4.3, 160.0),
            (4.7, 160.0),
            (5.2, 144.0),
            (5.8, 96.0),
            (9.1, 10.0),
            (9.9, 10.0),
            (10.4, 14.0),
        ];
        for (c, want) in cases {
            let (i0, i1, w0, w1) = axis_taps(c, 5);
            let got = a[i0] * w0 + a[i1] * w1;
            assert!((got - want).abs() < 1e-9, "{c}: {got} vs {want}");
        }
    }

    /// Elements of `map_coordinates(img, (y + dy, x + dx, z), order=1, mode='reflect')` for a
    /// 4×5×3 f32 ramp and fixed displacements, computed in the oracle venv.
    #[test]
    fn remap_matches_scipy_bits() {
        let (h, w, c) = (4, 5, 3);
        let img: Vec<f32> = (0..h * w * c)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        let dy: Vec<f32> = (0..h * w)
            .map(|i| ((i * 7) % 11) as f32 / 4.0 - 1.3)
            .collect();
        let dx: Vec<f32> = (0..h * w)
            .map(|i| ((i * 5) % 13) as f32 / 3.0 - 2.1)
            .collect();
        let mut out = vec![0f32; h * w * c];
        remap_reflect(&img, h, w, c, &dy, &dx, &mut out);
        for (i, &want) in WANT.iter().enumerate() {
            assert_eq!(out[i].to_bits(), want, "element {i}");
        }
    }
    #[rustfmt::skip]
    const WANT: [u32; 60] = [0x3e851eb7, 0x3f1985f1, 0x3f326e98, 0x3e90369e, 0x3f26d3a1, 0x3f1131d5, 0x3ea58bf3, 0x3f317e4b, 0x3d5a740e, 0x3f0dfea2, 0x3eef0065, 0x3ef92c61, 0x3f000000, 0x3f2b020c, 0x3e6b8520, 0x3e947ae2, 0x3ef4d6a0, 0x3f53f7cf, 0x3f464259, 0x3ed1529a, 0x3f3a740e, 0x3f43d70b, 0x3e33b644, 0x3f000347, 0x3dfc9632, 0x3efc9630, 0x3f5d036a, 0x3f0872b0, 0x3f19999a, 0x3e86a7ef, 0x3e996de9, 0x3efef57c, 0x3f3c9630, 0x3eb33334, 0x3f3851ec, 0x3ec41893, 0x3ef17e4d, 0x3ec63ab6, 0x3ee2800f, 0x3ecfd8ac, 0x3f3b020c, 0x3f0b851f, 0x3f58bf26, 0x3e53a06e, 0x3f13a06d, 0x3f1d0369, 0x3f3f6715, 0x3eafc963, 0x3f65e354, 0x3eeb8520, 0x3f20c49b, 0x3f369d03, 0x3d962fca, 0x3ee2fc96, 0x3f5d70a4, 0x3e8d0e55, 0x3f1851ec, 0x3ead7b8f, 0x3f288889, 0x3d8cf87c];
}
