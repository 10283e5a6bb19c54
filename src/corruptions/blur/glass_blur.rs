//! `glass_blur` (ALGORITHMS.md §4.5): Gaussian blur, local pixel shuffling, Gaussian blur.

use serde::Deserialize;

use crate::corruptions::params::{self, check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::fastgauss::{self, Dst, Src};
use crate::kernels::gaussian::{gaussian_filter_streamed, kernel1d, Mode};
use crate::kernels::quantise;
use crate::kernels::scratch::Buf;
use crate::rng::RandomSource;

/// The `[glass_blur]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Gaussian σ before and after shuffling.
    pub sigma: Row<f64>,
    /// Maximal displacement δ.
    pub max_delta: Row<u32>,
    /// Number of shuffling sweeps.
    pub iterations: Row<u32>,
    /// The original create_c scripts' loop bounds: rows and columns `S−δ … δ+1` for the
    /// constant side `S` their images have (224, 299, 64, 32), whatever the image's size;
    /// imagecorruptions (absent, the default) bounds them by the image's own height and width.
    /// The two agree on an `S×S` image. On a larger image only the top-left `S×S` is shuffled,
    /// as there; a smaller one is an error (the original indexes out of range).
    #[serde(default)]
    pub loop_side: Option<u32>,
}

/// Most shuffle sweeps a preset may ask for (the built-in preset's largest is 3). The offsets of
/// every sweep are drawn in one buffer (4 bytes per pixel per sweep, see [`glass_blur`]), so an
/// unbounded count aborted the process on allocation instead of failing the preset.
pub const MAX_ITERATIONS: u32 = 16;

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "glass_blur.sigma",
            &self.sigma,
            params::blur_pixels,
            &params::blur_pixels_what(),
        )?;
        let as_f64 = |r: &Row<u32>| r.map(f64::from);
        check_row(
            "glass_blur.iterations",
            &as_f64(&self.iterations),
            |v| v <= f64::from(MAX_ITERATIONS),
            &format!("in [0, {MAX_ITERATIONS}]"),
        )?;
        if let Some(s) = self.loop_side {
            if !(1..=1 << 20).contains(&s) {
                return Err(format!(
                    "key `glass_blur.loop_side`: value {s} must be in [1, 1048576]"
                ));
            }
        }
        check_row(
            "glass_blur.max_delta",
            &as_f64(&self.max_delta),
            params::blur_pixels,
            &params::blur_pixels_what(),
        )
    }
}

/// Draws the `randint[−δ, δ)` offsets of one shuffle sweep in bulk, as `(dx, dy)` pairs
/// flattened to a pixel-index displacement `dy·W + dx` per step.
///
/// Numpy mode reproduces NumPy's masked rejection sampler draw for draw (`v = u32 & mask`,
/// rejected while `v > 2δ − 1`, one 32-bit word per attempt, `dx` before `dy`). Fast mode
/// draws the same uniform distribution on `−δ … δ−1` more cheaply: when `2δ` is a power of two,
/// consecutive `log2(2δ)`-bit fields of each 32-bit word; otherwise one byte per attempt
/// (`byte mod 2δ`, rejecting bytes at or above the largest multiple of `2δ`). Fast mode draws
/// words in blocks, so one call must cover every draw of the corruption call (a second call
/// would skip the unused rest of a block); numpy mode draws exactly the words NumPy draws.
fn draw_offsets(rng: &mut dyn RandomSource, delta: i64, w: usize, out: &mut [u32]) {
    let n = (2 * delta) as u32; // number of values
    let range = n - 1;
    let mask = u32::MAX >> range.leading_zeros().min(31);
    let mask = if range == 0 { 0 } else { mask };
    let mut words = vec![0u32; 4096];
    let mut pos = words.len();
    let mut next = |rng: &mut dyn RandomSource| {
        if pos == words.len() {
            rng.fill_u32(&mut words);
            pos = 0;
        }
        pos += 1;
        words[pos - 1]
    };
    if rng.is_reference() {
        let draw = |rng: &mut dyn RandomSource| -> i64 {
            if range == 0 {
                return -delta; // NumPy returns `lo` without drawing
            }
            // One word at a time, not through the block buffer: the generator must end
            // exactly where NumPy's does, so that a caller continuing NumPy's global state
            // (the Python drop-in) leaves the state the reference leaves.
            loop {
                let v = rng.next_u32() & mask;
                if v <= range {
                    return v as i64 - delta;
                }
            }
        };
        for o in out.iter_mut() {
            let dx = draw(rng);
            let dy = draw(rng);
            *o = (dy * w as i64 + dx) as i32 as u32;
        }
    } else if n.is_power_of_two() {
        // 2δ ∈ {2, 4, 8}: every `bits`-bit field of a word is one uniform draw; a word yields
        // `32 / (2·bits)` whole (dx, dy) pairs (leftover bits are discarded).
        let bits = n.trailing_zeros();
        let per_word = (32 / (2 * bits)) as usize;
        let m = n - 1;
        let row = w as i64;
        let mut chunk = [0u32; 256];
        for block in out.chunks_mut(per_word * chunk.len()) {
            let words = block.len().div_ceil(per_word);
            rng.fill_u32(&mut chunk[..words]);
            for (pairs, &wd) in block.chunks_mut(per_word).zip(&chunk[..words]) {
                let mut v = wd;
                for o in pairs.iter_mut() {
                    let dx = (v & m) as i64 - delta;
                    v >>= bits;
                    let dy = (v & m) as i64 - delta;
                    v >>= bits;
                    *o = (dy * row + dx) as i32 as u32;
                }
            }
        }
    } else {
        let limit = 256 - 256 % n; // bytes below this map uniformly by `mod n`
                                   // `b mod n − δ` per byte, looked up (a run-time `%` is a slow division)
        let value: [i64; 256] = std::array::from_fn(|b| (b as u32 % n) as i64 - delta);
        let mut word = 0u32;
        let mut left = 0u32;
        let mut draw = |rng: &mut dyn RandomSource| -> i64 {
            loop {
                if left == 0 {
                    word = next(rng);
                    left = 4;
                }
                let b = word & 0xff;
                word >>= 8;
                left -= 1;
                if b < limit {
                    return value[b as usize];
                }
            }
        };
        for o in out.iter_mut() {
            let dx = draw(rng);
            let dy = draw(rng);
            *o = (dy * w as i64 + dx) as i32 as u32;
        }
    }
}

/// Gaussian blur, local pixel shuffling, Gaussian blur (ALGORITHMS.md §4.5; imagecorruptions 1.1.2
/// draws the shuffle offsets from the global NumPy RNG).
///
/// The shuffle keeps the reference's sequential in-place semantics (ALGORITHMS.md Quirk 2): for each
/// iteration, rows `H−δ … δ+1` and columns `W−δ … δ+1` in descending order, draw `dx` then `dy`
/// from `randint[−δ, δ)` and **copy** pixel `(h+dy, w+dx)` onto `(h, w)` (the tuple "swap" of
/// the reference is a copy for RGB arrays). Row 0 and column 0 never take part. The draws of a
/// sweep are made in bulk first (same order), then the copies run in order on pixels packed
/// into `u32`s, so each step is one word copy.
///
/// Fast mode (the default) runs both blurs in f32 on the 0–255 scale (the kernel of
/// gaussian_blur's fast mode), each at most 1 grey level from the exact f64 blur, which was over
/// half of the call; same statistics (mean PSNR/SSIM against the reference, tested). `--rng
/// numpy` keeps the exact f64 blurs.
pub fn glass_blur(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let sigma = p.sigma[job.level];
    let delta = p.max_delta[job.level] as i64;
    let iterations = p.iterations[job.level];
    let (h, w) = (job.height, job.width);
    let row_len = w * 3;
    let src = job.src;
    // one staging row of bytes for the row loaders / storers below
    let mut bytes = vec![0u8; row_len];
    let mut px = Buf::<u32>::take(h * w);
    let fast = !job.rng.is_reference();
    // Fast mode: both blurs in f32 on the 0–255 scale (the kernel gaussian_blur's fast mode
    // uses), at most 1 grey level from the f64 blur per pass (ALGORITHMS.md §4.5).
    let g32: Vec<f32> = if fast {
        kernel1d(sigma, 4.0).iter().map(|&v| v as f32).collect()
    } else {
        Vec::new()
    };
    if fast {
        let mut plane = Buf::<u8>::take(h * row_len);
        fastgauss::gaussian_nearest(
            Src::U8(&src[..h * row_len]),
            Dst::U8(&mut plane),
            h,
            w,
            3,
            &g32,
        );
        for (q, v) in px.iter_mut().zip(plane.chunks_exact(3)) {
            *q = v[0] as u32 | (v[1] as u32) << 8 | (v[2] as u32) << 16;
        }
    } else {
        // np.uint8(gaussian(x/255, σ) * 255): truncation, no clip (values are within [0, 1]).
        gaussian_filter_streamed(
            h,
            w,
            3,
            sigma,
            sigma,
            4.0,
            Mode::Nearest,
            |k, out| quantise::unit_from_u8(&src[k * row_len..(k + 1) * row_len], out),
            |i, row| {
                // trunc_u8(v·255) equals trunc(clip(v, 0, 1)·255) for every f64 (both saturate,
                // NaN → 0), so the vectorised quantiser gives the same bytes.
                quantise::unit_f64(row, &mut bytes);
                for (q, v) in px[i * w..(i + 1) * w].iter_mut().zip(bytes.chunks_exact(3)) {
                    *q = v[0] as u32 | (v[1] as u32) << 8 | (v[2] as u32) << 16;
                }
            },
        );
    }
    let (hi_h, hi_w) = match p.loop_side {
        None => (h as i64 - delta, w as i64 - delta),
        Some(s) if (s as usize) <= h.min(w) => (s as i64 - delta, s as i64 - delta),
        Some(s) => {
            return Err(crate::error::Error::InvalidArgument(format!(
                "glass_blur with `loop_side = {s}` (the original script's constant bounds) needs an image of at least {s}x{s}, got {w}x{h}: resize it (e.g. --geometry) or use a preset without the key"
            )))
        }
    };
    if delta >= 1 && hi_h > delta && hi_w > delta {
        let (rows, cols) = ((hi_h - delta) as usize, (hi_w - delta) as usize);
        // All sweeps' draws at once: the bulk sampler buffers generator words, so the stream
        // must not be cut between sweeps (numpy mode continues it exactly).
        let steps = rows * cols;
        let mut all = Buf::<u32>::take(steps * iterations as usize);
        draw_offsets(job.rng, delta, w, &mut all);
        let px = &mut px[..h * w];
        for offsets in all.chunks_exact(steps) {
            // One chunk of `cols` offsets per row, consumed right to left: the loop keeps only
            // the target index and the offset pointer live (24 → ~9 instructions per copy).
            for (row, offs) in (delta as usize + 1..=hi_h as usize)
                .rev()
                .zip(offsets.chunks_exact(cols))
            {
                let mut to = row * w + hi_w as usize;
                for &o in offs {
                    px[to] = px[to.wrapping_add(o as i32 as isize as usize)];
                    to -= 1;
                }
            }
        }
    }
    let dst = &mut *job.dst;
    if fast {
        let mut plane = Buf::<u8>::take(h * row_len);
        for (o, &q) in plane.chunks_exact_mut(3).zip(&px[..h * w]) {
            o.copy_from_slice(&q.to_le_bytes()[..3]);
        }
        fastgauss::gaussian_nearest(
            Src::U8(&plane),
            Dst::U8(&mut dst[..h * row_len]),
            h,
            w,
            3,
            &g32,
        );
        return Ok(());
    }
    gaussian_filter_streamed(
        h,
        w,
        3,
        sigma,
        sigma,
        4.0,
        Mode::Nearest,
        |k, out| {
            for (o, &q) in bytes.chunks_exact_mut(3).zip(&px[k * w..(k + 1) * w]) {
                o.copy_from_slice(&q.to_le_bytes()[..3]);
            }
            quantise::unit_from_u8(&bytes, out);
        },
        |i, row| quantise::unit_f64(row, &mut dst[i * row_len..(i + 1) * row_len]),
    );
    Ok(())
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_numpy_and_are_uniform_in_fast_mode() {
        let w = 1000usize;
        for delta in 1..=4i64 {
            let mut a = crate::rng::NumpyRng::new(7);
            let mut b = crate::rng::NumpyRng::new(7);
            let mut got = vec![0u32; 3000];
            draw_offsets(&mut a, delta, w, &mut got);
            for &g in &got {
                let g = g as i32 as isize;
                let dx = RandomSource::randint(&mut b, -delta, delta);
                let dy = RandomSource::randint(&mut b, -delta, delta);
                assert_eq!(g, (dy * w as i64 + dx) as isize);
            }
            let mut f = crate::rng::FastRng::new(3);
            let mut got = vec![0u32; 40000];
            draw_offsets(&mut f, delta, w, &mut got);
            let n = 2 * delta as usize;
            let mut seen = vec![0usize; n * n];
            for &g in &got {
                let g = g as i32;
                let dy = (g as i64 + delta * w as i64 + delta).div_euclid(w as i64) - delta;
                let dx = g as i64 - dy * w as i64;
                assert!((-delta..delta).contains(&dx) && (-delta..delta).contains(&dy));
                seen[((dy + delta) as usize) * n + (dx + delta) as usize] += 1;
            }
            let expect = 40000.0 / (n * n) as f64;
            for c in seen {
                assert!((c as f64 - expect).abs() < 5.0 * expect.sqrt(), "δ {delta}");
            }
        }
    }
}
