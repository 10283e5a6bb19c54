//! Weather corruptions (spec §4.8–4.10, 4.18): snow, frost, fog, spatter.

use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::gaussian::{gaussian_filter, gaussian_nearest_f32, Mode};
use crate::kernels::motion::{motion_blur, MotionKernel};
use crate::kernels::normal;
use crate::kernels::scratch::Buf;
use crate::kernels::zoom::clipped_zoom_plane;
use crate::kernels::{blend, cubic, frost as textures, opencv, plasma};
use crate::preset::SpatterKind;

/// Plasma-fractal fog (spec §4.10): `clip((x + a·P)·m / (m + a), 0, 1)` with `P` the
/// normalised plasma map of size `N = next_pow2(max(H, W, 3))` cropped to `[:H, :W]` and `m`
/// the image maximum.
///
/// Numpy mode draws the `N² − 1` uniforms of the reference in its order and evaluates the
/// reference's f64 expressions. Fast mode draws the same field distribution
/// ([`plasma::generate_fast`]) and evaluates the blend as `v·k + 255·k·a·P` with
/// `k = m/(m+a)` in f32 (algebraically the same; may differ by one grey level where the exact
/// value sits on an integer).
pub fn fog(job: &mut Job<'_>) -> Result<()> {
    let a = job.preset.fog.strength[job.level];
    let decay = job.preset.fog.decay[job.level];
    let (w, h) = (job.width, job.height);
    let n = plasma::map_size(w, h);
    // fold (not Iterator::max, which keeps the last of equal maxima and does not vectorise)
    let m = job.src.iter().fold(0u8, |a, &b| a.max(b)) as f64 / 255.0;
    let denom = m + a;
    let (src, dst) = (job.src, &mut *job.dst);
    let rng = &mut *job.rng;
    if !rng.is_reference() {
        // The raw plasma field's H×W corner, in a pooled buffer (kernels::scratch);
        // generate_fast initialises it.
        let mut field = Buf::<f64>::take(w * h);
        let (lo, hi) = plasma::generate_fast(n, decay, rng, w, h, &mut field);
        {
            let k = m / denom;
            let gain = (255.0 * k * a / (hi - lo)) as f32;
            let base = lo as f32;
            let kf = k as f32;
            let mut fog_row = vec![0f32; 3 * w];
            for r in 0..h {
                for (f, &p) in fog_row.chunks_exact_mut(3).zip(&field[r * w..(r + 1) * w]) {
                    f.fill((p as f32 - base) * gain);
                }
                let srow = &src[r * w * 3..(r + 1) * w * 3];
                let drow = &mut dst[r * w * 3..(r + 1) * w * 3];
                blend::fog_fast(srow, &fog_row, kf, drow);
            }
        }
        return Ok(());
    }
    plasma::with_map(n, |map| {
        plasma::generate_reference(map, decay, rng);
        let (lo, hi) = map.min_max();
        let range = hi - lo;
        // a·P per value (repeated for the three channels), so that the per-value loop below is
        // a plain elementwise loop.
        let mut fog_row = vec![0f64; 3 * w];
        for r in 0..h {
            let prow = &map.data[r * n..r * n + w];
            for (f, &p) in fog_row.chunks_exact_mut(3).zip(prow) {
                f.fill(a * ((p - lo) / range));
            }
            let srow = &src[r * w * 3..(r + 1) * w * 3];
            let drow = &mut dst[r * w * 3..(r + 1) * w * 3];
            // x += a·P, then x·m / (m + a), all in f64 as the reference.
            blend::fog_exact(srow, &fog_row, m, denom, drow);
        }
    });
    Ok(())
}

/// Spatter (spec §4.18): a liquid layer `L = gaussian(N(μ, σ), blur σ)` with values below the
/// threshold zeroed (the only random draws: `H·W` normals), then
///
/// * water (severities 1–3): OpenCV edge/distance pipeline on `L8 = trunc_u8(255·L)`
///   (Canny → distance transform → min(·, 20) → 3×3 blur → equalizeHist → emboss filter →
///   3×3 blur, all in [`opencv`]), mask `M = L8·D / max(L8·D) · k`, and
///   `clip(x + M·(175, 238, 238)/255, 0, 1)` in f32. Quirk 10: when `max(L8·D) = 0` (no
///   liquid at all, e.g. on tiny images) the reference divides 0 by 0 and the whole output is
///   black; this is reproduced.
/// * mud (severities 4–5): `m = gaussian(f32(L > t), mud σ)`, `m < 0.8 → 0`, and
///   `clip(x·(1 − m) + (63, 42, 20)/255·m, 0, 1)`.
///
/// `x = f32(v) / 255` in f32 as the reference. Both RNG modes share everything but the draws.
pub fn spatter(job: &mut Job<'_>) -> Result<()> {
    let p = &job.preset.spatter;
    let lvl = job.level;
    let (w, h) = (job.width, job.height);
    let n = w * h;
    let threshold = p.threshold[lvl];
    let sigma = p.blur_sigma[lvl];
    let kind = p.kind[lvl];
    // The smoothed layer L: f64 as the reference in numpy mode; in fast mode f32 Box–Muller
    // normals and an f32 filter (only the distribution has to match, see fast_layer).
    let layer = if job.rng.is_reference() {
        let mut layer = Buf::<f64>::zeroed(n);
        job.rng.fill_normal(&mut layer, p.mean[lvl], p.std[lvl]);
        gaussian_filter(&mut layer, h, w, 1, sigma, sigma, 4.0, Mode::Nearest);
        Layer::F64(layer)
    } else {
        Layer::F32(fast_layer(job, n, h, w, p.mean[lvl], p.std[lvl], sigma))
    };
    let (src, dst) = (job.src, &mut *job.dst);
    match kind {
        SpatterKind::Water => {
            // L[L < t] = 0, then astype(uint8) of a double: C conversion, i.e. truncation
            // modulo 256 on x86
            let mut l8 = Buf::<u8>::zeroed(n);
            match &layer {
                Layer::F64(layer) => {
                    for (o, &v) in l8.iter_mut().zip(layer) {
                        let v = if v < threshold { 0.0 } else { v } * 255.0;
                        // values are ≥ 0 here; the clamp only guards the unchecked conversion
                        let v = if v < 1e9 { v } else { 1e9 };
                        // SAFETY: 0 ≤ v ≤ 1e9 fits in i32.
                        *o = unsafe { v.to_int_unchecked::<i32>() } as u8;
                    }
                }
                Layer::F32(layer) => {
                    let t = threshold as f32;
                    for (o, &v) in l8.iter_mut().zip(layer) {
                        let v = if v < t { 0.0 } else { v } * 255.0;
                        let v = if v < 1e9 { v } else { 1e9 };
                        // SAFETY: 0 ≤ v ≤ 1e9 fits in i32.
                        *o = unsafe { v.to_int_unchecked::<i32>() } as u8;
                    }
                }
            }
            let mut a = Buf::<u8>::zeroed(n);
            let mut b = Buf::<u8>::zeroed(n);
            opencv::canny_l1(&l8, w, h, 50, 150, &mut a);
            for e in a.iter_mut() {
                *e = 255 - *e;
            }
            let mut dist = Buf::<f32>::zeroed(n);
            opencv::distance_transform_l2_5(&a, w, h, &mut dist);
            for d in dist.iter_mut() {
                *d = if *d > 20.0 { 20.0 } else { *d }; // THRESH_TRUNC at 20
            }
            let mut blurred = Buf::<f32>::zeroed(n);
            opencv::box3_f32(&dist, w, h, &mut blurred);
            for (o, &d) in a.iter_mut().zip(&blurred) {
                // astype(uint8) of values in [0, 20]
                // SAFETY: 0 ≤ d ≤ 20 (box blur of values in [0, 20]).
                *o = unsafe { d.to_int_unchecked::<i32>() } as u8;
            }
            opencv::equalize_hist(&a, &mut b);
            opencv::filter3x3_u8(&b, w, h, &[[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], &mut a);
            opencv::box3_u8(&a, w, h, &mut b);
            // M = L8·D in f32 (exact: at most 255·255), normalised by its maximum, times k.
            // The maximum is taken over the exact integer products (u16, vectorises) and the
            // row loop below forms (L8·D / max)·k per pixel: the same f32 operations as
            // materialising M first.
            let max = l8
                .iter()
                .zip(&b)
                .map(|(&l, &d)| l as u16 * d as u16)
                .fold(0u16, |a, v| if v > a { v } else { a }) as f32;
            let k = p.intensity[lvl] as f32;
            let colour = [175.0f64, 238.0, 238.0].map(|c| (c / 255.0) as f32);
            // Per value: x + m·colour[ch] in f32 (x = v/255 in f32), clipped, ·255, truncated.
            // Rows are expanded to per-value (m, colour) runs so the loop vectorises.
            let mut mrow = vec![0f32; 3 * w];
            let cpat: Vec<f32> = (0..3 * w).map(|i| colour[i % 3]).collect();
            for r in 0..h {
                let (lr, dr) = (&l8[r * w..(r + 1) * w], &b[r * w..(r + 1) * w]);
                for ((o, &l), &d) in mrow.chunks_exact_mut(3).zip(lr).zip(dr) {
                    // 0/0 = NaN when there is no liquid (Quirk 10)
                    o.fill((l as f32 * d as f32 / max) * k);
                }
                let (s, d) = (
                    &src[r * 3 * w..(r + 1) * 3 * w],
                    &mut dst[r * 3 * w..(r + 1) * 3 * w],
                );
                // clip to [0, 1] (NaN → 0, as np.uint8(NaN) on x86), ·255, truncate
                blend::water(s, &mrow, &cpat, d);
            }
        }
        SpatterKind::Mud => {
            let s = p.intensity[lvl];
            let mask = match &layer {
                Layer::F64(layer) => {
                    let mut mask = Buf::<f32>::zeroed(n);
                    for (m, &v) in mask.iter_mut().zip(layer) {
                        // L[L < t] = 0 first; then L > t (strict) marks mud
                        let v = if v < threshold { 0.0 } else { v };
                        *m = if v > threshold { 1.0 } else { 0.0 };
                    }
                    gaussian_filter(&mut mask, h, w, 1, s, s, 4.0, Mode::Nearest);
                    mask
                }
                Layer::F32(layer) => {
                    // t > 0, so "zero below t, then > t" is just "> t"
                    let t = threshold as f32;
                    let mut bits = Buf::<f32>::zeroed(n);
                    for (m, &v) in bits.iter_mut().zip(layer) {
                        *m = if v > t { 1.0 } else { 0.0 };
                    }
                    let mut mask = Buf::<f32>::zeroed(n);
                    gaussian_nearest_f32(&bits, &mut mask, h, w, s, 4.0);
                    mask
                }
            };
            let colour = [63.0f64, 42.0, 20.0].map(|c| c / 255.0);
            let (mut m3, mut keep3) = (vec![0f64; 3 * w], vec![0f32; 3 * w]);
            let cpat: Vec<f64> = (0..3 * w).map(|i| colour[i % 3]).collect();
            for r in 0..h {
                for ((o, k), &m) in m3
                    .chunks_exact_mut(3)
                    .zip(keep3.chunks_exact_mut(3))
                    .zip(&mask[r * w..(r + 1) * w])
                {
                    let m = if m < 0.8 { 0.0 } else { m };
                    o.fill(m as f64);
                    k.fill(1.0f32 - m);
                }
                let (s, d) = (
                    &src[r * 3 * w..(r + 1) * 3 * w],
                    &mut dst[r * 3 * w..(r + 1) * 3 * w],
                );
                // x·(1 − m) in f32, + colour·m in f64, clipped, ·255, truncated
                blend::mud(s, &m3, &keep3, &cpat, d);
            }
        }
    }
    Ok(())
}

/// Spatter's smoothed liquid layer in the precision of the RNG mode.
enum Layer {
    /// Numpy mode: the reference's f64 values.
    F64(Buf<f64>),
    /// Fast mode: f32 values of the same distribution.
    F32(Buf<f32>),
}

/// Fast-mode spatter layer `gaussian(N(μ, σ), blur σ)` of `n = h·w` values in f32.
///
/// The normals come from the vectorised Box–Muller kernel ([`normal::standard_normals`], on
/// words of the job's fast generator) instead of the per-value f64 ziggurat, and the filter is
/// [`gaussian_nearest_f32`]: together ~5× cheaper. Box–Muller here truncates at ±5.77σ
/// (probability 8·10⁻⁹ per value), and f32 rounding moves values by ~1e-7 — both invisible
/// after thresholding at t ≥ 0.65 and 8-bit quantisation.
fn fast_layer(
    job: &mut Job<'_>,
    n: usize,
    h: usize,
    w: usize,
    mean: f64,
    std: f64,
    sigma: f64,
) -> Buf<f32> {
    let m = n.next_multiple_of(normal::BLOCK);
    let mut words = Buf::<u32>::take(normal::words_for(m));
    job.rng.fill_u32(&mut words);
    let mut z = Buf::<f32>::zeroed(m);
    normal::standard_normals(&words, &mut z);
    let (mean, std) = (mean as f32, std as f32);
    for v in z.iter_mut() {
        *v = mean + std * *v;
    }
    let mut layer = Buf::<f32>::zeroed(n);
    gaussian_nearest_f32(&z, &mut layer, h, w, sigma, 4.0);
    layer
}

/// Snow (spec §4.8, Quirk 9): a layer of `H·W` normals `N(μ, σ)`, `clipped_zoom`ed (P5,
/// untrimmed `H'×W'`), values below the threshold zeroed and clipped to [0, 1], motion-blurred
/// (P4) on the untrimmed layer with the angle `U(−135, −45)` (drawn after the normals), then
/// quantised `rint_even(255·L)/255` and cropped to `H×W`. The image (f32) is lifted towards its
/// grey `b·x + (1−b)·max(x, 1.5·gray + 0.5)` and the result is
/// `clip(x + L + rot180(L), 0, 1)` in f64.
///
/// Tiny images: the zoom crop keeps at least one pixel per axis and the motion blur drops the
/// taps that leave the layer (as the reference does), so any size ≥ 1×1 works.
pub fn snow(job: &mut Job<'_>) -> Result<()> {
    let p = &job.preset.snow;
    let lvl = job.level;
    let (w, h) = (job.width, job.height);
    // every value is drawn below: no zeroing needed
    let mut layer = Buf::<f64>::take(w * h);
    job.rng.fill_normal(&mut layer, p.mean[lvl], p.std[lvl]);
    let (mut zoomed, zh, zw) = clipped_zoom_plane(&layer, h, w, p.zoom[lvl]);
    let threshold = p.threshold[lvl];
    for v in &mut zoomed {
        let x = *v;
        // L[L < t] = 0, then clip(L, 0, 1) (select form, vectorises)
        let x = if x < threshold { 0.0 } else { x };
        let x = if x > 0.0 { x } else { 0.0 };
        *v = if x < 1.0 { x } else { 1.0 };
    }
    let angle = job.rng.uniform(-135.0, -45.0);
    let kernel = MotionKernel::new(p.blur_radius[lvl], p.blur_sigma[lvl], angle);
    let mut blurred = Buf::<f64>::take(zw * zh);
    motion_blur(&zoomed, &mut blurred, zh, zw, 1, &kernel);
    // np.round(L·255).astype(uint8) / 255 of the layer cropped to [:H, :W], then per image
    // row: cv2.cvtColor(RGB2GRAY) on f32, ·1.5 + 0.5 (f32). The opencv-python build of the
    // reference runs this through IPP, which evaluates the weighted sum as
    // fma(B, 0.114, fma(R, 0.299, G·0.587)), single rounding per fma; the plain left-to-right
    // sum differs in the last bit for ~10 % of colours, enough to move a truncated output
    // across an integer (Appendix C snow s1: 19 pixels). That form equals cv2 for all 2²⁴
    // colours (checked against the oracle). Then y = b·x + (1−b)·max(x, lift) (f32) and
    // clip((y + L) + rot180(L), 0, 1)·255 (f64), rot180 taking pixel (H−1−r, W−1−c): all
    // fused in blend::snow_row.
    let b = p.blend[lvl] as f32;
    let nb = (1.0 - p.blend[lvl]) as f32;
    for r in 0..h {
        let srow = &job.src[r * 3 * w..(r + 1) * 3 * w];
        let drow = &mut job.dst[r * 3 * w..(r + 1) * 3 * w];
        let brow = &blurred[r * zw..r * zw + w];
        let rrow = &blurred[(h - 1 - r) * zw..(h - 1 - r) * zw + w];
        blend::snow_row(srow, brow, rrow, b, nb, drow);
    }
    Ok(())
}

/// Frost (spec §4.9, Quirk 7): `clip(a·x + b·T, 0, 255)` with `T` an `H×W` crop of a frost
/// texture. Draws (both RNG modes, in this order): slot `k = randint(5)`, then the crop offsets
/// `randint(H_T − H)`, `randint(W_T − W)`, where the texture is enlarged to
/// `ceil(size · 1.1 · f)` with `f = 1` if it covers the image, else the factor that makes it
/// cover it (the reference's rule).
///
/// * With [`crate::Settings::frost_textures`]: the reference's photo `k`, rescaled by OpenCV's
///   `INTER_CUBIC` ([`cubic`], only the crop window is computed) — imagecorruptions' frost.
/// * Without (default): procedural texture `k` ([`textures::procedural`]) rendered directly at
///   the enlarged size (cached per slot and size; for images larger than the slot the size is
///   rounded up to a 2^(1/8) step, [`textures::procedural_size`], so that datasets of varied
///   image sizes share textures), same size rule and draws; the crop is taken at the drawn
///   offsets.
pub fn frost(job: &mut Job<'_>) -> Result<()> {
    let a = job.preset.frost.image_weight[job.level];
    let b = job.preset.frost.frost_weight[job.level];
    let (w, h) = (job.width, job.height);
    let k = job.rng.randint(0, 5) as usize;
    let (hf, wf) = match job.frost_textures {
        Some(set) => (set.textures[k].height, set.textures[k].width),
        None => textures::SLOT_SIZES[k],
    };
    let (hx, wx) = (h as f64, w as f64);
    let f = match (hf >= h, wf >= w) {
        (true, true) => 1.0,
        (false, true) => hx / hf as f64,
        (true, false) => wx / wf as f64,
        (false, false) => (hx / hf as f64).max(wx / wf as f64),
    } * 1.1;
    let wt = (wf as f64 * f).ceil() as usize;
    let ht = (hf as f64 * f).ceil() as usize;
    let r0 = job.rng.randint(0, ht as i64 - h as i64) as usize;
    let c0 = job.rng.randint(0, wt as i64 - w as i64) as usize;
    let mut crop = vec![0u8; w * h * 3];
    match job.frost_textures {
        Some(set) => {
            let t = &set.textures[k];
            cubic::resize_cubic_window(&t.rgb, wf, hf, 3, wt, ht, (r0, c0), (w, h), &mut crop);
        }
        None => {
            let (th, tw) = textures::procedural_size(k, f, ht, wt);
            let t = textures::procedural(k, th, tw);
            for r in 0..h {
                let s = ((r0 + r) * tw + c0) * 3;
                crop[r * w * 3..(r + 1) * w * 3].copy_from_slice(&t.rgb[s..s + w * 3]);
            }
        }
    }
    // f64 as the reference: a·x + b·T, clipped to [0, 255], truncated
    blend::frost(job.src, &crop, a, b, job.dst);
    Ok(())
}
