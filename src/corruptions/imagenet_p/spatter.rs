//! ImageNet-P `spatter` (validation): water drops running down the crop. One liquid layer per
//! sequence, `L = gaussian(N(0.65, 0.27), σ 3.7)` (truncate 4, nearest border:
//! scikit-image's default, `kernels::gaussian`) with values under 0.69 zeroed; frame i
//! (i = 0…30, frame 0 included) is ImageNet-C spatter's water branch on `trunc_u8(255·L)`
//! with intensity 0.6 — the OpenCV chain (Canny, distance transform, cap 20, box blur,
//! equalizeHist, emboss, box blur) and the pale-turquoise blend of `weather::spatter`, the
//! same code — and after each frame every column of `L` is convolved with
//! `[0.05, 0.1, 0.15, 0.7]` (`np.convolve`, mode `same`, zeros outside), so that
//! `L'[r] = 0.7·L[r−2] + 0.15·L[r−1] + 0.1·L[r] + 0.05·L[r+1]`: the liquid flows down and
//! smears. The threshold is applied once, before the first frame, as in the reference.
//! A frame without any liquid left is black (0/0, ALGORITHMS.md Quirk 10), as in the reference.

use super::{stream, Rgb, Sink, SIDE};
use crate::corruptions::weather::spatter::{blend, opencv};
use crate::error::Result;
use crate::kernels::gaussian::{gaussian_filter, Mode};
use crate::rng::RandomSource;

/// The reference's liquid layer (224×224, f64) before the first frame.
pub fn layer(rng: &mut dyn RandomSource) -> Vec<f64> {
    let mut l = vec![0f64; SIDE * SIDE];
    rng.fill_normal(&mut l, 0.65, 0.27);
    gaussian_filter(&mut l, SIDE, SIDE, 1, 3.7, 3.7, 4.0, Mode::Nearest);
    for v in &mut l {
        if *v < 0.69 {
            *v = 0.0;
        }
    }
    l
}

crate::simd::dispatch! {
    /// One step of the flow: `np.apply_along_axis(np.convolve(·, [0.05, 0.1, 0.15, 0.7],
    /// 'same'), axis=0)` on an `h × w` layer.
    ///
    /// One pass per output row, `(((0 + 0.7·L[r−2]) + 0.15·L[r−1]) + 0.1·L[r]) + 0.05·L[r+1]`:
    /// numpy's dot order. A row outside the layer reads as zeros: its terms are then `+0.0`,
    /// which leaves a sum of non-negative values (the layer's) unchanged, so this equals
    /// skipping them. The AVX2 twin is the same body compiled with AVX2 (four f64 lanes
    /// instead of two; no contraction into FMAs, so the same bits).
    pub fn flow / flow_scalar / flow_avx2 (l: &[f64], w: usize, out: &mut [f64]) {
        let h = l.len() / w;
        let zeros = vec![0f64; w];
        let row = |r: isize| -> &[f64] {
            if r >= 0 && (r as usize) < h {
                &l[r as usize * w..(r as usize + 1) * w]
            } else {
                &zeros
            }
        };
        for (r, o) in out.chunks_exact_mut(w).take(h).enumerate() {
            let r = r as isize;
            let (a, b, c, d) = (row(r - 2), row(r - 1), row(r), row(r + 1));
            for ((((o, &a), &b), &c), &d) in o.iter_mut().zip(a).zip(b).zip(c).zip(d) {
                *o = (((0.0 + 0.7 * a) + 0.15 * b) + 0.1 * c) + 0.05 * d;
            }
        }
    }
}

crate::simd::dispatch! {
    /// `(L·255).astype(uint8)` of a layer with values in [0, 1): truncation, saturating as
    /// Rust's `as u8` (compare-and-select clamps, so it vectorises). The AVX2 twin is the same
    /// body compiled with AVX2.
    fn to_u8 / to_u8_scalar / to_u8_avx2 (l: &[f64], out: &mut [u8]) {
        for (o, &v) in out.iter_mut().zip(l) {
            let v = v * 255.0;
            let v = if v > 0.0 { v } else { 0.0 };
            let v = if v < 255.0 { v } else { 255.0 };
            // SAFETY: 0 ≤ v ≤ 255 (NaN failed `v > 0` and became 0, as `NaN as u8`).
            *o = unsafe { v.to_int_unchecked::<i32>() } as u8;
        }
    }
}

/// Scratch buffers of the per-frame water chain (reused across the 31 frames).
struct Water {
    l8: Vec<u8>,
    a: Vec<u8>,
    b: Vec<u8>,
    mpx: Vec<f32>,
    mrow: Vec<f32>,
    colour: Vec<f32>,
}

impl Water {
    fn new() -> Water {
        let n = SIDE * SIDE;
        let colour = [175.0f64, 238.0, 238.0].map(|c| (c / 255.0) as f32);
        Water {
            l8: vec![0; n],
            a: vec![0; n],
            b: vec![0; n],
            mpx: vec![0.0; SIDE],
            mrow: vec![0.0; 3 * SIDE],
            colour: (0..3 * SIDE).map(|i| colour[i % 3]).collect(),
        }
    }

    /// One frame: ImageNet-C spatter's water branch with intensity 0.6 on `self.l8`
    /// (`trunc_u8(255·L)` of the frame's layer). Where `L8 = 0`, `m = 0` exactly (the layer
    /// covers a few per cent of the crop), and the blend returns the source byte
    /// (`trunc(clip(v/255 + 0·c, 0, 1)·255) = v` in f32 for every byte, tested): runs of dry
    /// 16-pixel chunks are copied instead of going through the f32 mask and blend (the row
    /// walk ImageNet-C's fast-mode water blend uses too, `blend::wet_runs`); the same bytes. (A 256-entry table
    /// lookup cost more instructions than the f32 blend it replaced.)
    fn frame(&mut self, crop: &[u8], out: &mut [u8]) {
        let (w, h) = (SIDE, SIDE);
        // ImageNet-C water's kernels: Canny written inverted (the distance transform's input),
        // then the transform, the cap of 20 (THRESH_TRUNC), the 3×3 blur and astype(uint8)
        // fused row by row; the bytes of the unfused chain (tested in weather/spatter/opencv/)
        opencv::canny_l1_inverted(&self.l8, w, h, 50, 150, &mut self.b);
        opencv::distance_box3_trunc_u8(&self.b, w, h, 20.0, &mut self.a);
        // equalizeHist, the emboss filter and the 3×3 blur, fused row by row
        opencv::equalize_emboss_box_u8(&self.a, w, h, &mut self.b);
        // m = L8·D (f32, exact) / max(L8·D) · 0.6; 0/0 = NaN → black, as the reference
        let max = blend::max_product(&self.l8, &self.b) as f32;
        if max == 0.0 {
            // every m is 0/0 = NaN, and `blend::water` turns NaN into 0
            out.fill(0);
            return;
        }
        for r in 0..h {
            let (lr, dr) = (&self.l8[r * w..(r + 1) * w], &self.b[r * w..(r + 1) * w]);
            let (src, dst) = (
                &crop[r * 3 * w..(r + 1) * 3 * w],
                &mut out[r * 3 * w..(r + 1) * 3 * w],
            );
            let (mpx, mrow, colour) = (&mut self.mpx, &mut self.mrow, &self.colour);
            blend::wet_runs(lr, src, dst, |px, s, o| {
                let (start, x) = (px.start, px.end);
                let (mpx, mrow) = (&mut mpx[start..x], &mut mrow[3 * start..3 * x]);
                // per pixel first (vectorises), then spread over the three channels
                for ((m, &l), &d) in mpx.iter_mut().zip(&lr[px.clone()]).zip(&dr[px]) {
                    *m = (l as f32 * d as f32 / max) * 0.6;
                }
                for (o, &m) in mrow.chunks_exact_mut(3).zip(mpx.iter()) {
                    o.fill(m);
                }
                // (`colour` repeats every 3 values: any multiple of 3 is the row's start)
                blend::water(s, mrow, &colour[..3 * (x - start)], o);
            });
        }
    }
}

/// The 31 frames, into `sink`.
pub fn frames(img: &Rgb, rng: &mut dyn RandomSource, sink: &mut Sink) -> Result<()> {
    let crop = img.center_crop();
    let mut l = layer(rng);
    let mut next = vec![0f64; l.len()];
    let mut water = Water::new();
    stream(
        31,
        |i, out| {
            to_u8(&l, &mut water.l8);
            water.frame(&crop, out);
            if i < 30 {
                // (the layer after the last frame is not used)
                flow(&l, SIDE, &mut next);
                std::mem::swap(&mut l, &mut next);
            }
        },
        sink,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_is_numpy_convolve_same_down_each_column() {
        // np.convolve([0,0,0,1,0,0,0,0], [0.05, 0.1, 0.15, 0.7], 'same')
        // = [0, 0, 0.05, 0.1, 0.15, 0.7, 0, 0] (checked with NumPy 1.26)
        let w = 2;
        let mut l = vec![0f64; 8 * w];
        l[3 * w + 1] = 1.0;
        let mut out = vec![9f64; 8 * w];
        flow(&l, w, &mut out);
        let col: Vec<f64> = (0..8).map(|r| out[r * w + 1]).collect();
        assert_eq!(col, [0.0, 0.0, 0.05, 0.1, 0.15, 0.7, 0.0, 0.0]);
        assert!((0..8).all(|r| out[r * w] == 0.0));
        // mass is kept away from the borders, lost through them: the last row keeps 0.1 and
        // passes 0.05 up; the 0.85 that would flow down leaves the image
        let mut l = vec![0f64; 8];
        l[7] = 1.0;
        let mut out = vec![0f64; 8];
        flow(&l, 1, &mut out);
        assert!((out.iter().sum::<f64>() - 0.15).abs() < 1e-12, "{out:?}");
    }

    /// The AVX2 builds of the flow and of the 8-bit conversion equal the portable ones, on a
    /// real layer after a few flow steps (values spread over many rows) with a row width that
    /// is not a whole number of vectors, and on the clip ends and NaN.
    #[test]
    fn flow_and_to_u8_twins_are_equal() {
        let w = 37;
        let mut l = layer(&mut crate::rng::FastRng::new(3))[..w * 60].to_vec();
        for _ in 0..4 {
            let mut want = vec![0f64; l.len()];
            flow_scalar(&l, w, &mut want);
            for isa in crate::simd::available() {
                let mut got = vec![1f64; l.len()];
                crate::simd::dispatch!(at isa; flow_scalar / flow_avx2(&l, w, &mut got));
                assert_eq!(got, want, "{isa:?}");
            }
            l = want;
        }
        assert!(l.iter().filter(|&&v| v > 0.0).count() > 100);
        l.extend([-1.0, 0.999, 1.0, 2.0, f64::NAN, 1e-9, 0.5]);
        let mut want = vec![0u8; l.len()];
        to_u8_scalar(&l, &mut want);
        assert_eq!(&want[want.len() - 7..], &[0, 254, 255, 255, 0, 0, 127]);
        for isa in crate::simd::available() {
            let mut got = vec![1u8; l.len()];
            crate::simd::dispatch!(at isa; to_u8_scalar / to_u8_avx2(&l, &mut got));
            assert_eq!(got, want, "{isa:?}");
        }
    }

    /// The frame with dry runs copied equals the plain per-row f32 blend of every pixel
    /// (the previous code), on a real layer (runs of every kind) and on a layer without
    /// liquid (black).
    #[test]
    fn dry_runs_equal_the_whole_row_blend() {
        let mut rng = crate::rng::FastRng::new(5);
        let crop: Vec<u8> = (0..3 * SIDE * SIDE)
            .map(|k| (k * 7 + k / 5) as u8)
            .collect();
        let mut water = Water::new();
        to_u8(&layer(&mut rng), &mut water.l8);
        assert!(water.l8.iter().any(|&v| v > 0) && water.l8.contains(&0));
        let mut got = vec![1u8; crop.len()];
        water.frame(&crop, &mut got);
        // `water.b` holds the frame's D: the whole-row blend of the same m
        let max = (water.l8.iter().zip(&water.b))
            .map(|(&l, &d)| l as u16 * d as u16)
            .max()
            .unwrap() as f32;
        let m: Vec<f32> = (water.l8.iter().zip(&water.b))
            .flat_map(|(&l, &d)| [(l as f32 * d as f32 / max) * 0.6; 3])
            .collect();
        let colour: Vec<f32> = (0..crop.len()).map(|i| water.colour[i % 3]).collect();
        let mut want = vec![0u8; crop.len()];
        blend::water(&crop, &m, &colour, &mut want);
        assert_eq!(got, want);
        // m = 0 returns the byte, for every byte and channel colour (the copy of dry runs)
        let bytes: Vec<u8> = (0..=255).collect();
        for &c in &water.colour[..3] {
            let mut t = vec![0u8; 256];
            blend::water(&bytes, &[0.0; 256], &[c; 256], &mut t);
            assert_eq!(t, bytes, "colour {c}");
        }
        water.l8.fill(0);
        water.frame(&crop, &mut got);
        assert!(got.iter().all(|&v| v == 0));
    }

    #[test]
    fn layer_is_sparse_and_above_the_threshold() {
        let l = layer(&mut crate::rng::FastRng::new(9));
        let on: Vec<f64> = l.iter().copied().filter(|&v| v > 0.0).collect();
        let share = on.len() as f64 / l.len() as f64;
        // gaussian(σ 3.7) of N(0.65, 0.27) has σ ≈ 0.27/(2·√π·3.7) ≈ 0.021: 0.69 is ≈ 1.9σ
        // above the mean, about 3 % of the layer (clustered)
        assert!((0.005..0.1).contains(&share), "{share}");
        assert!(on.iter().all(|&v| (0.69..1.0).contains(&v)));
    }
}
