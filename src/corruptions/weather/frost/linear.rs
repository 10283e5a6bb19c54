//! OpenCV `resize(src, (0, 0), fx=s, fy=s)` (`INTER_LINEAR`) for 8-bit images, evaluated only on
//! a window of the output: the frost textures of the original CIFAR-10-C (s = 0.2) and
//! Tiny-ImageNet-C (s = 0.3) scripts (ALGORITHMS.md §5.2).
//!
//! Reproduced: output size `cvRound(n·s)`; mapping `f = (float)((d + 0.5)/s − 0.5)`,
//! `i = floor(f)`, fraction clamped to the image (`i < 0` → 0 with weight 1 on it, `i ≥ n − 1`
//! → the last pixel); 11-bit weights `a0 = saturate_cast<short>((1 − frac)·2048)`,
//! `a1 = 2048 − a0` on both axes; horizontal sums `S` in integers, then the vertical pass as
//! OpenCV's vector code computes it, `((b0·(S0 >> 4)) >> 16) + ((b1·(S1 >> 4)) >> 16) + 2) >> 2`
//! (its scalar `(b0·S0 + b1·S1 + 2²¹) >> 22` differs by one on some values). Checked against
//! OpenCV 5.1 in the unit test (vectors in `testdata/`): identical.

/// Output side of OpenCV's `fx = s` resize of a side of `n` pixels.
pub fn scaled_len(n: usize, s: f64) -> usize {
    (n as f64 * s).round_ties_even().max(0.0) as usize
}

/// Per output index: the two source indices and 11-bit weights.
fn taps(src_len: usize, s: f64, range: std::ops::Range<usize>) -> Vec<([usize; 2], [i32; 2])> {
    let scale = 1.0 / s;
    range
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let mut i = f.floor() as i64;
            let mut frac = f - i as f32;
            if i < 0 {
                i = 0;
                frac = 0.0;
            }
            if i >= src_len as i64 - 1 {
                i = src_len as i64 - 1;
                frac = 0.0;
            }
            let a0 = ((1.0 - frac) * 2048.0).round_ties_even() as i32;
            let i = i as usize;
            ([i, (i + 1).min(src_len - 1)], [a0, 2048 - a0])
        })
        .collect()
}

/// The `w × h` window at (row `r0`, column `c0`) of `resize(src, fx=s, fy=s, INTER_LINEAR)`
/// of an `sw × sh × cn` image, into `out` (`w·h·cn` bytes).
#[allow(clippy::too_many_arguments)]
pub fn resize_linear_window(
    src: &[u8],
    sw: usize,
    sh: usize,
    cn: usize,
    s: f64,
    (r0, c0): (usize, usize),
    (w, h): (usize, usize),
    out: &mut [u8],
) {
    let xt = taps(sw, s, c0..c0 + w);
    let yt = taps(sh, s, r0..r0 + h);
    let hrow = |y: usize| -> Vec<i32> {
        let row = &src[y * sw * cn..(y + 1) * sw * cn];
        let mut v = Vec::with_capacity(w * cn);
        for ([i0, i1], [a0, a1]) in &xt {
            for k in 0..cn {
                v.push(row[i0 * cn + k] as i32 * a0 + row[i1 * cn + k] as i32 * a1);
            }
        }
        v
    };
    for (r, ([y0, y1], [b0, b1])) in yt.iter().enumerate() {
        let (s0, s1) = (hrow(*y0), hrow(*y1));
        for (o, (&p, &q)) in out[r * w * cn..(r + 1) * w * cn]
            .iter_mut()
            .zip(s0.iter().zip(&s1))
        {
            // OpenCV's vector path (`VResizeLinearVec_32s8u`): 16-bit high products of
            // `S >> 4`, then a 2-bit rounding shift.
            let v = (((*b0 * (p >> 4)) >> 16) + ((*b1 * (q >> 4)) >> 16) + 2) >> 2;
            *o = v.clamp(0, 255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cv2.resize(img, (0, 0), fx=s, fy=s)` of a 47×61 pattern (OpenCV 5.1), s = 0.2 and 0.3.
    #[test]
    fn matches_opencv_vectors() {
        let want = include_bytes!("testdata/linear_47x61_s02_s03.bin");
        let (h, w) = (47usize, 61usize);
        let mut img = vec![0u8; h * w * 3];
        for y in 0..h {
            for x in 0..w {
                let p = &mut img[(y * w + x) * 3..(y * w + x + 1) * 3];
                p[0] = ((x * 7 + y * 3) % 256) as u8;
                p[1] = ((x * x + 5 * y) % 256) as u8;
                p[2] = ((x * y * 13 + 11) % 256) as u8;
            }
        }
        let mut at = 0;
        for s in [0.2, 0.3] {
            let (dw, dh) = (scaled_len(w, s), scaled_len(h, s));
            let mut out = vec![0u8; dw * dh * 3];
            resize_linear_window(&img, w, h, 3, s, (0, 0), (dw, dh), &mut out);
            let expect = &want[at..at + out.len()];
            at += out.len();
            let off = out.iter().zip(expect).filter(|(a, b)| a != b).count();
            let max = out
                .iter()
                .zip(expect)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            assert!(off == 0, "s {s}: {off} values differ, max {max}");
            // a window is the same as cropping the whole output
            let mut win = vec![0u8; 4 * 3 * 3];
            resize_linear_window(&img, w, h, 3, s, (2, 5), (4, 3), &mut win);
            for r in 0..3 {
                assert_eq!(
                    &win[r * 12..(r + 1) * 12],
                    &out[((2 + r) * dw + 5) * 3..((2 + r) * dw + 9) * 3]
                );
            }
        }
        assert_eq!(at, want.len());
    }
}
