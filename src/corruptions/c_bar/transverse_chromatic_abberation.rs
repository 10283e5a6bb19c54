//! `transverse_chromatic_abberation` (CIFAR-10-C-bar; ALGORITHMS.md §11.10): the three
//! channels magnified about the centre by different factors (the reference's spelling).

use super::{fp, magnitude_params};
use crate::corruptions::Job;
use crate::error::Result;

magnitude_params!(
    "transverse_chromatic_abberation",
    [1.0, 2.0, 5.0, 9.0, 10.0]
);

/// Scales `1, 1 + k/2, 1 + k` (`k = fp(s, 0.5)`) dealt to the channels in random order;
/// each channel is `scipy.ndimage.zoom(channel, scale, prefilter=False)` (a cubic B-spline
/// evaluated on the raw samples, so every channel is also slightly smoothed) and
/// centre-cropped back to the image size.
pub fn transverse_chromatic_abberation(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let k = fp(s, 0.5);
    let mut scales = [1.0, 1.0 + k / 2.0, 1.0 + k];
    // np.random.permutation(3): a uniform shuffle
    for i in (1..3).rev() {
        let j = job.rng.randint(0, i as i64 + 1) as usize;
        scales.swap(i, j);
    }
    let (w, h) = (job.width, job.height);
    // The B-spline weights are a product of a row and a column factor: filter the rows, then
    // the columns (8 taps per value instead of 16), in f32.
    let mut tmp = vec![0.0f32; w * h];
    let mut out = vec![0.0f32; w];
    for (c, &scale) in scales.iter().enumerate() {
        let rows = axis_taps(h, scale);
        let cols = axis_taps(w, scale);
        for (y, line) in tmp.chunks_exact_mut(w).enumerate() {
            let src = &job.src[y * w * 3..(y + 1) * w * 3];
            for (o, (rx, wx)) in line.iter_mut().zip(&cols) {
                let mut acc = 0.0f32;
                for (b, wb) in rx.iter().zip(wx) {
                    acc += wb * f32::from(src[b * 3 + c]);
                }
                *o = acc;
            }
        }
        for (y, (ry, wy)) in rows.iter().enumerate() {
            out.fill(0.0);
            for (a, wa) in ry.iter().zip(wy) {
                for (o, v) in out.iter_mut().zip(&tmp[a * w..(a + 1) * w]) {
                    *o += wa * v;
                }
            }
            for (x, v) in out.iter().enumerate() {
                job.dst[(y * w + x) * 3 + c] = (v.clamp(0.0, 255.0) + 0.5) as u8;
            }
        }
    }
    Ok(())
}

/// For each of the `n` kept output positions of a zoom by `scale` along an axis of length
/// `n`: the four input indices (mirrored at the ends) and their cubic B-spline weights.
fn axis_taps(n: usize, scale: f64) -> Vec<([usize; 4], [f32; 4])> {
    let out_n = ((n as f64 * scale).round() as usize).max(1);
    let edge = out_n.saturating_sub(n) / 2;
    let step = if out_n > 1 {
        (n as f64 - 1.0) / (out_n as f64 - 1.0)
    } else {
        0.0
    };
    let mirror = |i: i64| -> usize {
        if n == 1 {
            return 0;
        }
        let period = 2 * (n as i64 - 1);
        let m = i.rem_euclid(period);
        (if m < n as i64 { m } else { period - m }) as usize
    };
    (0..n)
        .map(|o| {
            let pos = ((o + edge).min(out_n - 1)) as f64 * step;
            let base = pos.floor();
            let t = pos - base;
            let b = base as i64;
            let idx = [mirror(b - 1), mirror(b), mirror(b + 1), mirror(b + 2)];
            let t2 = t * t;
            let t3 = t2 * t;
            let wts = [
                (1.0 - t).powi(3) / 6.0,
                (3.0 * t3 - 6.0 * t2 + 4.0) / 6.0,
                (-3.0 * t3 + 3.0 * t2 + 3.0 * t + 1.0) / 6.0,
                t3 / 6.0,
            ]
            .map(|v| v as f32);
            (idx, wts)
        })
        .collect()
}
