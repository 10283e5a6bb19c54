//! Weather corruptions (spec §4.8–4.10, 4.18): snow, frost, fog, spatter.

use std::cell::RefCell;

use crate::corruptions::{unit_to_u8, Job};
use crate::error::Result;
use crate::kernels::plasma;

thread_local! {
    /// Fast-mode fog field (`H×W` raw plasma values), reused per thread.
    static FOG_FIELD: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

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
        return FOG_FIELD.with(|cell| {
            let field = &mut *cell.borrow_mut();
            let (lo, hi) = plasma::generate_fast(n, decay, rng, w, h, field);
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
                for ((d, &s), &f) in drow.iter_mut().zip(srow).zip(&fog_row) {
                    *d = clamp_255_to_u8(s as f32 * kf + f);
                }
            }
            Ok(())
        });
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
            for ((d, &s), &f) in drow.iter_mut().zip(srow).zip(&fog_row) {
                // x += a·P, then x·m / (m + a), all in f64 as the reference.
                *d = unit_to_u8((s as f64 / 255.0 + f) * m / denom);
            }
        }
    });
    Ok(())
}

/// `trunc(clamp(v, 0, 255))` as u8 (NaN → 0), written with compare-and-select so that loops
/// over it vectorise (`as u8` on a float is a saturating conversion that does not).
#[inline(always)]
fn clamp_255_to_u8(v: f32) -> u8 {
    let v = if v > 0.0 { v } else { 0.0 };
    let v = if v < 255.0 { v } else { 255.0 };
    // SAFETY: v is in [0, 255] (NaN was mapped to 0 above), so the conversion is in range.
    unsafe { v.to_int_unchecked::<i32>() as u8 }
}
