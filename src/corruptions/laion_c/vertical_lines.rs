//! `vertical_lines` (LAION-C; ALGORITHMS.md §12.4): the image redrawn as `l` vertical
//! polylines on black, each bending left by 40·(1 − I/255) pixels where the image is dark.
//!
//! Column i starts at x = i·W/l; for every `step`-row band its cell (columns
//! `int(x)..min(int(x + W/l), W)`) gives an average colour and grey level (integer means,
//! PIL `convert("L")` grey), and a segment is drawn from the previous point to
//! (x − 40·(1 − I/255), y) in that colour. Segments are drawn as PIL's `draw.line` with width
//! 1 draws them (Pillow 11 `Draw.c`): end points truncated toward zero, Bresenham, both end
//! points drawn, pixels outside the image dropped — byte-identical to the reference's `draw_vertical_lines`
//! (test `laion_c_vertical_lines_matches_pil`). No randomness.

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;

/// The `[vertical_lines]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Number of polylines across the width.
    pub lines: Row<usize>,
    /// Band height in rows of each segment.
    pub step: Row<usize>,
    /// Largest bend to the left, in pixels (LAION-C: 40).
    pub bend: f64,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "vertical_lines.lines",
            &self.lines.map(|v| v as f64),
            |v| (1.0..=65536.0).contains(&v),
            "in 1..=65536",
        )?;
        check_row(
            "vertical_lines.step",
            &self.step.map(|v| v as f64),
            |v| (1.0..=4096.0).contains(&v),
            "in 1..=4096",
        )?;
        if !(0.0..=4096.0).contains(&self.bend) {
            return Err("vertical_lines.bend must be in [0, 4096]".into());
        }
        Ok(())
    }

    /// LAION-C's values (apply_distortions.py), so that preset files without this table
    /// (written before LAION-C existed) still load.
    fn when_missing() -> Option<Self> {
        Some(Params {
            lines: [224, 178, 112, 84, 60],
            step: [1, 2, 4, 6, 8],
            bend: 40.0,
        })
    }
}

/// PIL `Draw.c` `line()` with width 1 on an RGB image: Bresenham from (x0, y0) to (x1, y1)
/// inclusive, off-image points skipped.
fn line(
    dst: &mut [u8],
    w: usize,
    h: usize,
    (x0, y0): (i64, i64),
    (x1, y1): (i64, i64),
    ink: [u8; 3],
) {
    let mut put = |x: i64, y: i64| {
        if x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h {
            let i = (y as usize * w + x as usize) * 3;
            dst[i..i + 3].copy_from_slice(&ink);
        }
    };
    let (mut x, mut y) = (x0, y0);
    let (mut dx, xs) = if x1 - x0 < 0 {
        (x0 - x1, -1)
    } else {
        (x1 - x0, 1)
    };
    let (mut dy, ys) = if y1 - y0 < 0 {
        (y0 - y1, -1)
    } else {
        (y1 - y0, 1)
    };
    if dx == 0 {
        for _ in 0..=dy {
            put(x, y);
            y += ys;
        }
    } else if dy == 0 {
        for _ in 0..=dx {
            put(x, y);
            x += xs;
        }
    } else if dx > dy {
        let n = dx;
        dy += dy;
        let mut e = dy - dx;
        dx += dx;
        for _ in 0..=n {
            put(x, y);
            if e >= 0 {
                y += ys;
                e -= dx;
            }
            e += dy;
            x += xs;
        }
    } else {
        let n = dy;
        dx += dx;
        let mut e = dx - dy;
        dy += dy;
        for _ in 0..=n {
            put(x, y);
            if e >= 0 {
                x += xs;
                e -= dy;
            }
            e += dx;
            y += ys;
        }
    }
}

/// Redraw the job's image as bent vertical lines.
pub fn vertical_lines(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let (w, h) = (job.width, job.height);
    let (l, step) = (p.lines[job.level], p.step[job.level]);
    let src = job.src;
    let dst = &mut *job.dst;
    dst.fill(0);
    let (wf, lf) = (w as f64, l as f64);
    for i in 0..l {
        let x = (i as f64 / lf) * wf;
        let gx0 = x as usize;
        let gx1 = ((x + wf / lf) as usize).min(w);
        let mut prev = (x, 0.0f64);
        for y in (0..h).step_by(step) {
            let gy1 = (y + step).min(h);
            let (mut sum, mut sum_i, mut count) = ([0u64; 3], 0u64, 0u64);
            for gy in y..gy1 {
                for gx in gx0..gx1 {
                    let px = &src[(gy * w + gx) * 3..(gy * w + gx) * 3 + 3];
                    let (r, g, b) = (u64::from(px[0]), u64::from(px[1]), u64::from(px[2]));
                    sum[0] += r;
                    sum[1] += g;
                    sum[2] += b;
                    // PIL "L": ITU-R 601-2 luma in 16-bit fixed point, rounded
                    sum_i += (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
                    count += 1;
                }
            }
            let (ink, intensity) = match (
                sum[0].checked_div(count),
                sum[1].checked_div(count),
                sum[2].checked_div(count),
                sum_i.checked_div(count),
            ) {
                (Some(r), Some(g), Some(b), Some(i)) => ([r as u8, g as u8, b as u8], i as f64),
                _ => ([0; 3], 0.0),
            };
            let x_eff = -p.bend * (1.0 - intensity / 255.0);
            let end = (x + x_eff, y as f64);
            // PIL truncates the float end points toward zero ((int) casts)
            line(
                dst,
                w,
                h,
                (prev.0 as i64, prev.1 as i64),
                (end.0 as i64, end.1 as i64),
                ink,
            );
            prev = end;
        }
    }
    Ok(())
}
