//! `glitched` (LAION-C; ALGORITHMS.md §12.3): the glitch-this 1.0.3 algorithm
//! (`ImageGlitcher.glitch_image(img, amount, color_offset=True, scan_lines=True)`), as LAION-C
//! calls it.
//!
//! `int(2·amount)` times: a horizontal band of rows (start `randint(0, H)`, height
//! `randint(1, H//4)`, clipped at the bottom) is rotated left or right by
//! `randint(−m, m)` pixels, `m = int(amount²/100 · W)`, always reading the *input* rows (later
//! bands overwrite earlier ones). Then one channel `randint(0, 2)` of the output is replaced
//! by the input's channel rolled down by `oy` rows, its first row also rolled right by `ox`
//! (`ox, oy = randint(±2·amount)` twice; this undoes the bands in that channel, as in
//! glitch-this), and every even row is set to black (scan lines).
//!
//! Seeds: LAION-C passes `seed=1`, so glitch-this calls Python's `random.seed(1 + k)` before
//! shift k and `random.seed(1)` before the colour offset: every image of a level gets the
//! same glitch geometry. `fixed_seed = 1` (preset `laion-c-compat`, CLI `--laion-c-compat`)
//! reproduces that draw for draw with CPython's generator ([`crate::rng::cpython`]); without
//! it (the default) the same draws come from the image's own generator, so each image gets
//! its own glitch.
//!
//! Sizes: Python raises for H < 4 (`randint(1, 0)`); here the band height is at least 1 row,
//! and offsets wrap modulo the size, so any size ≥ 1×1 works (identical to glitch-this
//! whenever it runs, i.e. H ≥ 4 and W, H > 2·amount).

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::Result;
use crate::rng::cpython::PyRandom;
use crate::rng::RandomSource;

/// The `[glitched]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// glitch-this `glitch_amount` per severity (its range is 0.1..=10).
    pub amount: Row<f64>,
    /// Python seed of every image (glitch-this `seed`; LAION-C's release: 1). Absent: each
    /// image draws from its own seeded generator.
    #[serde(default)]
    pub fixed_seed: Option<u64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "glitched.amount",
            &self.amount,
            |v| (0.1..=10.0).contains(&v),
            "in [0.1, 10] (glitch-this's range)",
        )?;
        if self.fixed_seed == Some(0) {
            // glitch-this tests `if self.seed:`, so 0 means "unseeded" there.
            return Err("glitched.fixed_seed must be ≥ 1 (glitch-this treats 0 as no seed)".into());
        }
        Ok(())
    }

    /// LAION-C's values (apply_distortions.py), so that preset files without this table
    /// (written before LAION-C existed) still load.
    fn when_missing() -> Option<Self> {
        Some(Params {
            amount: [2.0, 4.0, 5.0, 8.0, 10.0],
            fixed_seed: None,
        })
    }
}

/// Where glitch-this's draws come from.
enum Draws<'r, 'a> {
    /// CPython `random`, re-seeded as glitch-this does (`seed + offset`).
    Python { seed: u64, rng: Box<PyRandom> },
    /// The image's generator; re-seeding is a no-op.
    Job(&'r mut (dyn RandomSource + 'a)),
}

impl Draws<'_, '_> {
    fn reseed(&mut self, offset: u64) {
        if let Draws::Python { seed, rng } = self {
            **rng = PyRandom::new(*seed + offset);
        }
    }

    /// Python `randint(a, b)`, both ends included.
    fn randint(&mut self, a: i64, b: i64) -> i64 {
        match self {
            Draws::Python { rng, .. } => rng.randint(a, b),
            Draws::Job(r) => r.randint(a, b + 1),
        }
    }
}

/// Rotate `row` (`w` RGB pixels) right by `k` pixels into `out`.
fn roll_row(src: &[u8], out: &mut [u8], w: usize, k: usize) {
    let k = k % w;
    out[k * 3..].copy_from_slice(&src[..(w - k) * 3]);
    out[..k * 3].copy_from_slice(&src[(w - k) * 3..]);
}

/// Glitch the job's image.
pub fn glitched(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let (w, h) = (job.width, job.height);
    let amount = p.amount[job.level];
    let mut draws = match p.fixed_seed {
        Some(seed) => Draws::Python {
            seed,
            rng: Box::new(PyRandom::new(seed)),
        },
        None => Draws::Job(&mut *job.rng),
    };
    let src = job.src;
    let dst = &mut *job.dst;
    dst.copy_from_slice(src);
    let max_offset = ((amount * amount / 100.0) * w as f64) as i64;
    let doubled = (amount * 2.0) as i64;
    let stride = w * 3;
    for shift in 0..doubled {
        draws.reseed(shift as u64);
        let offset = draws.randint(-max_offset, max_offset);
        if offset == 0 {
            continue;
        }
        let start = draws.randint(0, h as i64) as usize;
        let height = draws.randint(1, ((h / 4) as i64).max(1)) as usize;
        let stop = (start + height).min(h);
        // Right by `offset`, or left by −offset = right by W − (−offset).
        let k = if offset > 0 {
            offset as usize % w
        } else {
            w - (offset.unsigned_abs() as usize % w)
        };
        for y in start..stop {
            let r = y * stride..(y + 1) * stride;
            roll_row(&src[r.clone()], &mut dst[r], w, k);
        }
    }
    draws.reseed(0);
    let channel = draws.randint(0, 2) as usize;
    let ox = draws.randint(-doubled, doubled).rem_euclid(w as i64) as usize;
    let oy = draws.randint(-doubled, doubled).rem_euclid(h as i64) as usize;
    for y in 0..h {
        let out_row = &mut dst[y * stride..(y + 1) * stride];
        if y == oy {
            // the input's first row, rolled right by ox
            for x in 0..w {
                out_row[x * 3 + channel] = src[((x + w - ox) % w) * 3 + channel];
            }
        } else {
            let sy = (y + h - oy) % h;
            let in_row = &src[sy * stride..(sy + 1) * stride];
            for x in 0..w {
                out_row[x * 3 + channel] = in_row[x * 3 + channel];
            }
        }
    }
    // scan lines: rows 0, 2, 4, … black
    for y in (0..h).step_by(2) {
        dst[y * stride..(y + 1) * stride].fill(0);
    }
    Ok(())
}
