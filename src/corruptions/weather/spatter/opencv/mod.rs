//! Ports of the OpenCV calls in spatter's water branch (ALGORITHMS.md P13), single-channel only:
//! `Canny(img, 50, 150)` (L1 gradient, 3×3 Sobel), `distanceTransform(img, DIST_L2, 5)`,
//! `blur(img, (3, 3))` on f32 and u8, `equalizeHist` and `filter2D(u8, CV_8U, int kernel)`.
//!
//! Each function documents the OpenCV semantics it reproduces; the unit tests compare all of
//! them with outputs of OpenCV 4.11 (`scripts/make_opencv_vectors.py`, stored in
//! `src/corruptions/weather/spatter/testdata/opencv_vectors.txt`). Borders follow OpenCV: Sobel uses
//! `BORDER_REPLICATE`, the box and 2-D filters `BORDER_REFLECT_101` (`c b | a b c | b a`).
//!
//! - [`canny`]: `Canny` (Sobel rows, non-maximum suppression, hysteresis and the driver).
//! - [`distance`]: `distanceTransform` (plain and interleaved-lanes paths, the same-row chain,
//!   the transposes) and the f32 `blur` it is fused with (capped, truncated to u8).
//! - [`equalize`]: `equalizeHist`, the emboss `filter2D` and the u8 `blur`, with their fused
//!   row-streaming pass.
//! - this file: the row helpers they share (padded rows, border index maps, the rolling window).

mod canny;
mod distance;
mod equalize;

#[cfg(test)]
pub use canny::canny_l1;
pub use canny::canny_l1_inverted;
pub use distance::distance_box3_trunc_u8;
#[cfg(test)]
pub use distance::{box3_f32, distance_transform_l2_5_capped};
pub use equalize::equalize_emboss_box_u8;
#[cfg(test)]
pub use equalize::{box3_u8, equalize_hist, filter3x3_u8};

#[cfg(test)]
use crate::kernels::filter2d::reflect101;

/// Row `r` of an `h × w` image with `pad` extra values on both sides filled by `edge`
/// (an index map such as replicate or reflect-101), written to `out` (`w + 2·pad` values).
#[inline]
fn padded_row<T: Copy>(
    src: &[T],
    w: usize,
    r: usize,
    pad: usize,
    edge: fn(isize, usize) -> usize,
    out: &mut [T],
) {
    let row = &src[r * w..(r + 1) * w];
    out[pad..pad + w].copy_from_slice(row);
    for k in 0..pad {
        out[pad - 1 - k] = row[edge(-1 - k as isize, w)];
        out[pad + w + k] = row[edge((w + k) as isize, w)];
    }
}

/// `BORDER_REPLICATE` index.
#[inline]
fn replicate(i: isize, n: usize) -> usize {
    i.clamp(0, n as isize - 1) as usize
}

/// Advance a rolling window of the padded rows `reflect101(r − 1)`, `reflect101(r)`,
/// `reflect101(r + 1)` of an `h × w` image (one value of `BORDER_REFLECT_101` padding per
/// side) to output row `r`: all three rows are padded at `r = 0`, later only the new bottom
/// row (row `k` of the window at `r` is row `k + 1` of the window at `r − 1`).
#[cfg(test)]
#[inline(always)]
fn roll_rows<T: Copy>(src: &[T], w: usize, h: usize, r: usize, rows: &mut [Vec<T>; 3]) {
    if r == 0 {
        for (k, row) in rows.iter_mut().enumerate() {
            padded_row(src, w, reflect101(k as isize - 1, h), 1, reflect101, row);
        }
    } else {
        // (two swaps of the row handles: `rotate_left` is an out-of-line call)
        rows.swap(0, 1);
        rows.swap(1, 2);
        let next = reflect101(r as isize + 1, h);
        padded_row(src, w, next, 1, reflect101, &mut rows[2]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain transform (no cap), as OpenCV's vectors give it.
    pub(super) fn distance_transform_l2_5(src: &[u8], w: usize, h: usize, dist: &mut [f32]) {
        distance_transform_l2_5_capped(src, w, h, f32::MAX, dist);
    }

    /// One array of the vector file: name, height, width, values.
    struct Array {
        name: String,
        h: usize,
        w: usize,
        values: Vec<f64>,
    }

    /// Parse `src/corruptions/weather/spatter/testdata/opencv_vectors.txt`: blocks `name h w` followed by `h·w`
    /// whitespace-separated numbers (f32 values printed with `repr`, exact).
    fn vectors() -> Vec<Array> {
        let text = include_str!("../testdata/opencv_vectors.txt");
        let mut out = Vec::new();
        let mut tokens = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(str::split_whitespace);
        while let Some(name) = tokens.next() {
            let h: usize = tokens.next().unwrap().parse().unwrap();
            let w: usize = tokens.next().unwrap().parse().unwrap();
            let values = (0..h * w)
                .map(|_| tokens.next().unwrap().parse::<f64>().unwrap())
                .collect();
            out.push(Array {
                name: name.to_string(),
                h,
                w,
                values,
            });
        }
        out
    }

    fn get<'a>(v: &'a [Array], name: &str) -> &'a Array {
        v.iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    fn bytes(a: &Array) -> Vec<u8> {
        a.values.iter().map(|&v| v as u8).collect()
    }

    /// Every case of the vector file: `<case>.input` (u8) and OpenCV's result of each stage
    /// of spatter's water branch, each stage fed with OpenCV's previous output.
    #[test]
    fn water_stages_match_opencv() {
        let v = vectors();
        let cases: Vec<&str> = v
            .iter()
            .filter_map(|a| a.name.strip_suffix(".input"))
            .collect();
        assert!(cases.len() >= 3);
        for case in cases {
            let input = get(&v, &format!("{case}.input"));
            let (h, w) = (input.h, input.w);
            let src = bytes(input);
            let n = w * h;

            let mut edges = vec![0u8; n];
            canny_l1(&src, w, h, 50, 150, &mut edges);
            let want = bytes(get(&v, &format!("{case}.canny")));
            assert_eq!(edges, want, "{case}: canny");

            let inv: Vec<u8> = want.iter().map(|&e| 255 - e).collect();
            let mut inverted = vec![0u8; n];
            canny_l1_inverted(&src, w, h, 50, 150, &mut inverted);
            assert_eq!(inverted, inv, "{case}: inverted canny");
            let mut dist = vec![0f32; n];
            distance_transform_l2_5(&inv, w, h, &mut dist);
            let want = get(&v, &format!("{case}.dist"));
            for (i, (&a, &b)) in dist.iter().zip(&want.values).enumerate() {
                assert_eq!(a as f64, b, "{case}: distance at {i}");
            }

            let trunc: Vec<f32> = want.values.iter().map(|&d| (d as f32).min(20.0)).collect();
            let mut blurred = vec![0f32; n];
            box3_f32(&trunc, w, h, &mut blurred);
            let want = get(&v, &format!("{case}.blurf"));
            for (i, (&a, &b)) in blurred.iter().zip(&want.values).enumerate() {
                assert_eq!(a as f64, b, "{case}: float box blur at {i}");
            }

            let d8: Vec<u8> = want.values.iter().map(|&d| d as u8).collect();
            let mut eq = vec![0u8; n];
            equalize_hist(&d8, &mut eq);
            let want = bytes(get(&v, &format!("{case}.eq")));
            assert_eq!(eq, want, "{case}: equalizeHist");

            let mut f = vec![0u8; n];
            filter3x3_u8(&want, w, h, &[[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], &mut f);
            let want = bytes(get(&v, &format!("{case}.filter")));
            assert_eq!(f, want, "{case}: filter2D");

            let mut b = vec![0u8; n];
            box3_u8(&want, w, h, &mut b);
            let want = bytes(get(&v, &format!("{case}.blur8")));
            assert_eq!(b, want, "{case}: u8 box blur");

            let mut fused = vec![0u8; n];
            equalize_emboss_box_u8(&d8, w, h, &mut fused);
            assert_eq!(fused, want, "{case}: equalize, emboss, blur fused");
        }
    }

    #[test]
    fn reflect101_rule() {
        let idx: Vec<usize> = (-3..8).map(|i| reflect101(i, 5)).collect();
        assert_eq!(idx, [3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1]);
        assert_eq!(reflect101(-1, 1), 0);
        assert_eq!(reflect101(2, 2), 0);
    }
}
