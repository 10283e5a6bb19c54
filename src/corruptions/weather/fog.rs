//! `fog` (ALGORITHMS.md §4.10): plasma-fractal fog.

use serde::Deserialize;

use crate::corruptions::params::{check_row, finite, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::scratch::Buf;

mod blend;
mod plasma;

/// The `[fog]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Fog strength a.
    pub strength: Row<f64>,
    /// Plasma fractal wibble decay d.
    pub decay: Row<f64>,
    /// Fixed plasma map side, as the original scripts have it (`plasma_fractal(mapsize=256)`
    /// in make_imagenet_c.py, 64 for Tiny-ImageNet-C, 32 for CIFAR-10-C; ALGORITHMS.md §5.2).
    /// Absent (imagecorruptions): `next_pow2(max(H, W, 3))`. An image larger than the fixed
    /// map uses that rule too (the original scripts would fail there).
    #[serde(default)]
    pub map_size: Option<usize>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row("fog.strength", &self.strength, finite, "finite")?;
        check_row("fog.decay", &self.decay, |v| v > 0.0, "> 0")?;
        match self.map_size {
            Some(n) if !(4..=1 << 14).contains(&n) || !n.is_power_of_two() => Err(format!(
                "key `fog.map_size`: value {n} must be a power of two in [4, 16384]"
            )),
            _ => Ok(()),
        }
    }

    /// ALGORITHMS.md §14: the strength from 0 (no fog), the decay held below 1.
    fn at_severity(&self, s: f64) -> Option<Self> {
        use crate::corruptions::params::{lerp_hold, lerp_row};
        Some(Params {
            strength: lerp_row(&self.strength, s, Some(0.0))?,
            decay: lerp_hold(&self.decay, s),
            map_size: self.map_size,
        })
    }
}

/// Plasma-fractal fog (ALGORITHMS.md §4.10): `clip((x + a·P)·m / (m + a), 0, 1)` with `P` the
/// normalised plasma map of size `N = next_pow2(max(H, W, 3))` cropped to `[:H, :W]` and `m`
/// the image maximum.
///
/// Numpy mode draws the `N² − 1` uniforms of the reference in its order and evaluates the
/// reference's f64 expressions. Fast mode draws the same field distribution
/// (`plasma::generate_fast`, f32) and evaluates the blend as `v·k + 255·k·a·P` with
/// `k = m/(m+a)` (algebraically the same; may differ by one grey level where the exact
/// value sits on an integer): in 16-bit fixed point fused with the field's normalisation when
/// `a > 0` (`blend::fog_fixed`), else in f32.
pub fn fog(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let a = p.strength[job.level];
    let decay = p.decay[job.level];
    let (w, h) = (job.width, job.height);
    let n = match p.map_size {
        Some(fixed) if fixed >= w.max(h) => fixed,
        _ => plasma::map_size(w, h),
    };
    // fold (not Iterator::max, which keeps the last of equal maxima and does not vectorise)
    let m = job.src.iter().fold(0u8, |a, &b| a.max(b)) as f64 / 255.0;
    let denom = m + a;
    let (src, dst) = (job.src, &mut *job.dst);
    let rng = &mut *job.rng;
    if !rng.is_reference() {
        // The raw plasma field's H×W corner, in a pooled buffer (kernels::scratch);
        // generate_fast initialises it.
        let mut field = Buf::<f32>::take(w * h);
        let (lo, hi) = plasma::generate_fast(n, decay, rng, w, h, &mut field);
        let k = m / denom;
        let range = (hi - lo) as f64;
        if a > 0.0 && m > 0.0 && range > 0.0 {
            // 0 < k < 1 and the fog term (p − lo)·gain ∈ [0, 255·256·k·a] ⊂ [0, 65280·m]: the
            // fused fixed-point blend (blend::fog_fixed) applies.
            let gain = (256.0 * 255.0 * k * a / range) as f32;
            let k16 = (k * 65536.0).round().min(65535.0) as u16;
            for r in 0..h {
                let rows = r * w * 3..(r + 1) * w * 3;
                blend::fog_fixed(
                    &src[rows.clone()],
                    &field[r * w..(r + 1) * w],
                    lo,
                    gain,
                    k16,
                    &mut dst[rows],
                );
            }
        } else {
            // No fog, a black image, a negative strength from a custom table or a flat
            // field: the general f32 blend.
            let gain = (255.0 * k * a / range) as f32;
            let kf = k as f32;
            let mut fog_row = vec![0f32; 3 * w];
            for r in 0..h {
                for (f, &p) in fog_row.chunks_exact_mut(3).zip(&field[r * w..(r + 1) * w]) {
                    f.fill((p - lo) * gain);
                }
                let rows = r * w * 3..(r + 1) * w * 3;
                blend::fog_fast(&src[rows.clone()], &fog_row, kf, &mut dst[rows]);
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
