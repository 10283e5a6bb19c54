//! OpenCV's `getAffineTransform` + `warpAffine(INTER_LINEAR, BORDER_REFLECT_101)` on an
//! interleaved f32 image (ALGORITHMS.md P14), for the original ImageNet-C elastic transform.
//!
//! OpenCV maps every destination pixel through the inverted matrix in fixed point: the
//! products are scaled by 2^10 and rounded (`cvRound`, half to even), offset by half a
//! 1/32 step, shifted down to 1/32-pixel units; the integer part picks the 2×2 neighbourhood
//! and the fraction (a multiple of 1/32) the bilinear weights, computed in f32 as
//! `(1 − fy)(1 − fx), (1 − fy)fx, fy(1 − fx), fy·fx`. Neighbours outside the image are
//! reflected with reflect-101 (`−1 → 1`).

/// The 2×3 matrix mapping `src[k]` to `dst[k]` (three (x, y) points), solved in f64.
pub fn get_affine_transform(src: [[f32; 2]; 3], dst: [[f32; 2]; 3]) -> [f64; 6] {
    // Solve [x y 1] · (a, b, c) = u and = v for the three points (Cramer's rule).
    let p = src.map(|q| [q[0] as f64, q[1] as f64]);
    let det = p[0][0] * (p[1][1] - p[2][1]) - p[0][1] * (p[1][0] - p[2][0])
        + (p[1][0] * p[2][1] - p[2][0] * p[1][1]);
    let solve = |r: [f64; 3]| -> [f64; 3] {
        let a = r[0] * (p[1][1] - p[2][1]) - p[0][1] * (r[1] - r[2])
            + (r[1] * p[2][1] - r[2] * p[1][1]);
        let b = p[0][0] * (r[1] - r[2]) - r[0] * (p[1][0] - p[2][0])
            + (p[1][0] * r[2] - p[2][0] * r[1]);
        let c = p[0][0] * (p[1][1] * r[2] - p[2][1] * r[1])
            - p[0][1] * (p[1][0] * r[2] - p[2][0] * r[1])
            + r[0] * (p[1][0] * p[2][1] - p[2][0] * p[1][1]);
        [a / det, b / det, c / det]
    };
    let u = solve(dst.map(|q| q[0] as f64));
    let v = solve(dst.map(|q| q[1] as f64));
    [u[0], u[1], u[2], v[0], v[1], v[2]]
}

/// OpenCV's `invertAffineTransform`.
fn invert(m: [f64; 6]) -> [f64; 6] {
    let d = m[0] * m[4] - m[1] * m[3];
    let d = if d != 0.0 { 1.0 / d } else { 0.0 };
    let (a11, a22) = (m[4] * d, m[0] * d);
    let (a12, a21) = (-m[1] * d, -m[3] * d);
    let b1 = -a11 * m[2] - a12 * m[5];
    let b2 = -a21 * m[2] - a22 * m[5];
    [a11, a12, b1, a21, a22, b2]
}

/// `cvRound` then saturate to i32.
fn round_i32(v: f64) -> i32 {
    v.round_ties_even().clamp(i32::MIN as f64, i32::MAX as f64) as i32
}

/// Reflect-101 index (`−1 → 1`, `n → n − 2`).
fn reflect101(i: i64, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let p = 2 * (n as i64 - 1);
    let m = i.rem_euclid(p);
    (if m < n as i64 { m } else { p - m }) as usize
}

/// `warpAffine(src, m, (w, h), INTER_LINEAR, BORDER_REFLECT_101)` of an `h × w × c` f32 image.
pub fn warp_affine(src: &[f32], h: usize, w: usize, c: usize, m: [f64; 6], out: &mut [f32]) {
    const AB_BITS: u32 = 10;
    const AB_SCALE: f64 = (1 << AB_BITS) as f64;
    const INTER_BITS: u32 = 5;
    const TAB: i32 = 1 << INTER_BITS;
    let round_delta = (AB_SCALE as i32) / TAB / 2;
    let m = invert(m);
    let adelta: Vec<i32> = (0..w)
        .map(|x| round_i32(m[0] * x as f64 * AB_SCALE))
        .collect();
    let bdelta: Vec<i32> = (0..w)
        .map(|x| round_i32(m[3] * x as f64 * AB_SCALE))
        .collect();
    for y in 0..h {
        let x0 = round_i32((m[1] * y as f64 + m[2]) * AB_SCALE) + round_delta;
        let y0 = round_i32((m[4] * y as f64 + m[5]) * AB_SCALE) + round_delta;
        for x in 0..w {
            let xx = (x0.wrapping_add(adelta[x])) >> (AB_BITS - INTER_BITS);
            let yy = (y0.wrapping_add(bdelta[x])) >> (AB_BITS - INTER_BITS);
            let (sx, sy) = ((xx >> INTER_BITS) as i64, (yy >> INTER_BITS) as i64);
            let fx = (xx & (TAB - 1)) as f32 / TAB as f32;
            let fy = (yy & (TAB - 1)) as f32 / TAB as f32;
            let wts = [
                (1.0 - fy) * (1.0 - fx),
                (1.0 - fy) * fx,
                fy * (1.0 - fx),
                fy * fx,
            ];
            let (c0, c1) = (reflect101(sx, w), reflect101(sx + 1, w));
            let (r0, r1) = (reflect101(sy, h), reflect101(sy + 1, h));
            let o = &mut out[(y * w + x) * c..(y * w + x + 1) * c];
            for (k, v) in o.iter_mut().enumerate() {
                let p = |r: usize, cc: usize| src[(r * w + cc) * c + k];
                *v = p(r0, c0) * wts[0]
                    + p(r0, c1) * wts[1]
                    + p(r1, c0) * wts[2]
                    + p(r1, c1) * wts[3];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_identity_warp_is_a_copy() {
        let src = [[26.0, 26.0], [26.0, 6.0], [6.0, 6.0]];
        let dst = [[27.5, 25.0], [26.25, 7.0], [5.0, 6.5]];
        let m = get_affine_transform(src, dst);
        for (s, d) in src.iter().zip(&dst) {
            let u = m[0] * s[0] as f64 + m[1] * s[1] as f64 + m[2];
            let v = m[3] * s[0] as f64 + m[4] * s[1] as f64 + m[5];
            assert!((u - d[0] as f64).abs() < 1e-9 && (v - d[1] as f64).abs() < 1e-9);
        }
        let img: Vec<f32> = (0..5 * 7 * 3).map(|i| (i % 11) as f32 / 10.0).collect();
        let mut out = vec![0.0; img.len()];
        warp_affine(&img, 5, 7, 3, get_affine_transform(src, src), &mut out);
        assert_eq!(out, img);
        // a shift by one pixel to the right: column x reads x − 1, column 0 reads column 1
        let shifted = src.map(|p| [p[0] + 1.0, p[1]]);
        warp_affine(&img, 5, 7, 3, get_affine_transform(src, shifted), &mut out);
        for y in 0..5 {
            for x in 0..7 {
                let sx = if x == 0 { 1 } else { x - 1 };
                assert_eq!(out[(y * 7 + x) * 3], img[(y * 7 + sx) * 3], "({x},{y})");
            }
        }
    }
}
