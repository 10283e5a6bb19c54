//! Plasma fractal (diamond–square on a torus), ALGORITHMS.md P6 — the fog height map.
//!
//! Two generators share one buffer layout (an `N×N` row-major `f64` map, `N` a power of two):
//!
//! * [`generate_reference`]: imagecorruptions 1.1.2 draw for draw. All `N² − 1` uniforms are
//!   drawn level by level (coarse to fine), each level as three row-major blocks (squares,
//!   left diamonds, top diamonds), and every sum is formed in the reference's order in `f64`
//!   (1.1.2 uses a float64 buffer; HEAD's float32 buffer is not reproduced). The three blocks of
//!   a level are three streaming passes, so draws are consumed as they are generated and no
//!   draw buffer larger than `BLOCK` (1024 values) is needed.
//! * [`generate_fast`]: the same field distribution with any draw order: dense per-level
//!   arrays, one contiguous (vectorisable) pass per level computing squares and both diamond
//!   kinds row by row from bulk 32-bit words; the finest level (¾ of the map) is reduced into
//!   the min/max on the fly and only its `[:H, :W]` corner is stored.
//!
//! ALGORITHMS.md Quirk 6: the noise term is `wib · U(−wib, wib)`, i.e. amplitude `wib²`; we keep it.
//!
//! The map is not normalised here: callers get the min and max and map
//! `(a − min) / (max − min)` themselves, which spares a full pass over the parts of the map
//! (`N×N` against `H×W`) that the fog never uses. The result equals the reference's
//! `A −= min; A / max(A)` exactly because `fl(a − min)` is monotonic in `a`, so
//! `max(fl(A − min)) = fl(max(A) − min)`.

use std::cell::RefCell;

use crate::rng::RandomSource;

/// Draws requested from the generator at a time in numpy mode.
const BLOCK: usize = 1024;

/// An `n × n` plasma height map (row-major), not normalised.
pub struct PlasmaMap {
    /// Side length, a power of two.
    pub n: usize,
    /// `n * n` values.
    pub data: Vec<f64>,
}

impl PlasmaMap {
    /// Minimum and maximum over the whole map (the reference normalises over all of it, also
    /// the parts beyond the image that are cropped away afterwards).
    pub fn min_max(&self) -> (f64, f64) {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for &v in &self.data {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        (lo, hi)
    }
}

thread_local! {
    /// One map buffer per thread, reused across calls: for 2048-px frames the map is 32 MiB and
    /// allocating (and zeroing) it per image would cost more than filling it.
    static MAP: RefCell<PlasmaMap> = const { RefCell::new(PlasmaMap { n: 0, data: Vec::new() }) };
}

/// Run `f` on this thread's map buffer resized to `n × n` (contents unspecified; every
/// generator writes all `n²` entries).
pub fn with_map<R>(n: usize, f: impl FnOnce(&mut PlasmaMap) -> R) -> R {
    MAP.with(|cell| {
        let mut map = cell.borrow_mut();
        map.n = n;
        if map.data.len() != n * n {
            map.data.clear();
            map.data.resize(n * n, 0.0);
        }
        f(&mut map)
    })
}

/// Map size the fog uses: the smallest power of two ≥ `max(H, W, 3)` (ALGORITHMS.md §4.10: the
/// reference takes the maximum over the array shape, channel axis included).
pub fn map_size(width: usize, height: usize) -> usize {
    width.max(height).max(3).next_power_of_two()
}

/// Reference generator (numpy mode): exact draw order and `f64` arithmetic of imagecorruptions
/// 1.1.2's `plasma_fractal(N, decay)`. `map.n` must be a power of two ≥ 2.
pub fn generate_reference(map: &mut PlasmaMap, decay: f64, rng: &mut dyn RandomSource) {
    let n = map.n;
    debug_assert!(n.is_power_of_two() && n >= 2 && map.data.len() == n * n);
    let a = &mut map.data;
    a[0] = 0.0;
    let mut step = n;
    let mut wib = 100.0f64;
    let mut draws = [0f64; BLOCK];
    while step >= 2 {
        let h = step / 2;
        let m = n / step;
        // The three blocks of one level, in the reference's order. `write(i, j, sum)` stores
        // `sum/4 + wib·u` at the block's position for cell (i, j).
        for kind in 0..3 {
            let mut filled = 0usize;
            let mut used = 0usize;
            // m is a power of two: `& mask` is the torus wrap-around.
            let mask = m - 1;
            for i in 0..m {
                let (r, r1) = (i * step, ((i + 1) & mask) * step);
                let rm = (i.wrapping_sub(1) & mask) * step; // row of D[i-1]
                for j in 0..m {
                    if used == filled {
                        let want = (m * m - (i * m + j)).min(BLOCK);
                        rng.fill_uniform(&mut draws[..want], -wib, wib);
                        filled = want;
                        used = 0;
                    }
                    let noise = wib * draws[used];
                    used += 1;
                    let (c, c1) = (j * step, ((j + 1) & mask) * step);
                    let cm = (j.wrapping_sub(1) & mask) * step; // column of D[., j-1]
                    let (pos, sum) = match kind {
                        // squares: (C[i,j] + C[i+1,j]) + (C[i,j+1] + C[i+1,j+1])
                        0 => (
                            (r + h) * n + c + h,
                            (a[r * n + c] + a[r1 * n + c]) + (a[r * n + c1] + a[r1 * n + c1]),
                        ),
                        // left diamonds: (D[i,j] + D[i-1,j]) + (U[i,j] + U[i,j+1])
                        1 => (
                            r * n + c + h,
                            (a[(r + h) * n + c + h] + a[(rm + h) * n + c + h])
                                + (a[r * n + c] + a[r * n + c1]),
                        ),
                        // top diamonds: (D[i,j] + D[i,j-1]) + (U[i,j] + U[i+1,j])
                        _ => (
                            (r + h) * n + c,
                            (a[(r + h) * n + c + h] + a[(r + h) * n + cm + h])
                                + (a[r * n + c] + a[r1 * n + c]),
                        ),
                    };
                    a[pos] = sum / 4.0 + noise;
                }
            }
        }
        step = h;
        wib /= decay;
    }
}

/// Scratch buffers of [`generate_fast`], reused per thread.
#[derive(Default)]
struct FastScratch {
    /// Current and next level, dense `m × m`, row-major.
    cur: Vec<f64>,
    next: Vec<f64>,
    /// Squares of the previous, current and last row of a level.
    s_prev: Vec<f64>,
    s_cur: Vec<f64>,
    s_last: Vec<f64>,
    /// Left and top diamonds of the current row.
    left: Vec<f64>,
    top: Vec<f64>,
    /// One interleaved output row.
    row: Vec<f64>,
    /// Noise words of one row (squares, left diamonds, top diamonds).
    words: Vec<u32>,
}

thread_local! {
    static FAST: RefCell<FastScratch> = RefCell::new(FastScratch::default());
}

/// `(lo, hi)` updated with the values of `v`; written as compare-and-select over four lanes
/// so that it vectorises (NaN never occurs here).
#[inline(always)]
fn min_max_into(v: &[f64], lo: &mut [f64; 4], hi: &mut [f64; 4]) {
    let mut chunks = v.chunks_exact(4);
    for c in &mut chunks {
        for k in 0..4 {
            lo[k] = if c[k] < lo[k] { c[k] } else { lo[k] };
            hi[k] = if c[k] > hi[k] { c[k] } else { hi[k] };
        }
    }
    for &x in chunks.remainder() {
        lo[0] = if x < lo[0] { x } else { lo[0] };
        hi[0] = if x > hi[0] { x } else { hi[0] };
    }
}

/// Fast generator (fast mode): the same field distribution as [`generate_reference`] (uniform
/// noise of amplitude `wib²` at every level, the same sums), computed level by level on dense
/// arrays (`level k` holds the `2ᵏ × 2ᵏ` points of spacing `N/2ᵏ`) so that every loop is
/// contiguous and vectorises, with noise from bulk 32-bit words (`u = w·2⁻³²`, uniform on
/// a grid of 2³² points).
///
/// The finest level is never stored whole: its rows are reduced into the min/max and only the
/// `[:height, :width]` corner is written to `out` (row-major, `width` per row; `out` must hold
/// exactly `width·height` values — callers pass a pooled buffer). Returns the
/// min and max over the whole `n × n` map. `n` must be a power of two ≥ 2 with
/// `n ≥ width, height`.
pub fn generate_fast(
    n: usize,
    decay: f64,
    rng: &mut dyn RandomSource,
    width: usize,
    height: usize,
    out: &mut [f64],
) -> (f64, f64) {
    debug_assert!(n.is_power_of_two() && n >= 2 && width <= n && height <= n);
    assert_eq!(out.len(), width * height, "plasma output size");
    FAST.with(|cell| {
        let mut guard = cell.borrow_mut();
        let sc = &mut *guard;
        let half = n / 2;
        sc.cur.resize(half * half, 0.0);
        sc.next.resize(half * half, 0.0);
        for v in [
            &mut sc.s_prev,
            &mut sc.s_cur,
            &mut sc.s_last,
            &mut sc.left,
            &mut sc.top,
        ] {
            v.resize(half, 0.0);
        }
        sc.row.resize(n, 0.0);
        sc.words.resize(3 * half, 0);
        // No `out.fill(0.0)`: the last level emits every row 0..n and n ≥ height, so each
        // row of `out` is overwritten (the fill cost ~6 % of fog at 224²).
        let mut lo = [f64::INFINITY; 4];
        let mut hi = [f64::NEG_INFINITY; 4];

        sc.cur[0] = 0.0;
        let mut m = 1usize;
        let mut wib = 100.0f64;
        while m < n {
            let last_level = 2 * m == n;
            // wib·U(−wib, wib) = wib²·(2u − 1); with the word read as a signed integer s,
            // 2u − 1 = s·2⁻³¹ (a signed conversion vectorises, an unsigned one does not).
            let scale = wib * wib / 2_147_483_648.0;
            let noise = |w: u32| (w as i32) as f64 * scale;
            let g = &sc.cur[..m * m];
            // S[i, j] = ((G[i,j] + G[i+1,j]) + (G[i,j+1] + G[i+1,j+1]))/4 + noise, torus.
            let squares = |i: usize, words: &[u32], s: &mut [f64]| {
                let g0 = &g[i * m..(i + 1) * m];
                let i1 = (i + 1) & (m - 1);
                let g1 = &g[i1 * m..(i1 + 1) * m];
                for j in 0..m - 1 {
                    s[j] = ((g0[j] + g1[j]) + (g0[j + 1] + g1[j + 1])) * 0.25 + noise(words[j]);
                }
                s[m - 1] = ((g0[m - 1] + g1[m - 1]) + (g0[0] + g1[0])) * 0.25 + noise(words[m - 1]);
            };
            rng.fill_u32(&mut sc.words[..m]);
            squares(m - 1, &sc.words[..m], &mut sc.s_last[..m]);
            sc.s_prev[..m].copy_from_slice(&sc.s_last[..m]);
            for i in 0..m {
                let words = &mut sc.words[..3 * m];
                if i + 1 < m {
                    rng.fill_u32(words);
                    squares(i, &words[..m], &mut sc.s_cur[..m]);
                } else {
                    rng.fill_u32(&mut words[m..]);
                    sc.s_cur[..m].copy_from_slice(&sc.s_last[..m]);
                }
                let g0 = &g[i * m..(i + 1) * m];
                let i1 = (i + 1) & (m - 1);
                let g1 = &g[i1 * m..(i1 + 1) * m];
                let (s, sp) = (&sc.s_cur[..m], &sc.s_prev[..m]);
                let (left, top) = (&mut sc.left[..m], &mut sc.top[..m]);
                let (wl, wt) = (&words[m..2 * m], &words[2 * m..]);
                // L[i, j] = ((S[i,j] + S[i-1,j]) + (G[i,j] + G[i,j+1]))/4 + noise
                for j in 0..m - 1 {
                    left[j] = ((s[j] + sp[j]) + (g0[j] + g0[j + 1])) * 0.25 + noise(wl[j]);
                }
                left[m - 1] =
                    ((s[m - 1] + sp[m - 1]) + (g0[m - 1] + g0[0])) * 0.25 + noise(wl[m - 1]);
                // T[i, j] = ((S[i,j] + S[i,j-1]) + (G[i,j] + G[i+1,j]))/4 + noise
                top[0] = ((s[0] + s[m - 1]) + (g0[0] + g1[0])) * 0.25 + noise(wt[0]);
                for j in 1..m {
                    top[j] = ((s[j] + s[j - 1]) + (g0[j] + g1[j])) * 0.25 + noise(wt[j]);
                }
                // Rows 2i = (G, L, G, L, ...) and 2i+1 = (T, S, T, S, ...) of the new level.
                let mut emit = |r: usize, a: &[f64], b: &[f64]| {
                    let row = &mut sc.row[..2 * m];
                    for ((pair, &x), &y) in row.chunks_exact_mut(2).zip(a).zip(b) {
                        pair[0] = x;
                        pair[1] = y;
                    }
                    if !last_level {
                        sc.next[r * 2 * m..(r + 1) * 2 * m].copy_from_slice(row);
                    } else {
                        min_max_into(row, &mut lo, &mut hi);
                        if r < height {
                            out[r * width..(r + 1) * width].copy_from_slice(&row[..width]);
                        }
                    }
                };
                emit(2 * i, g0, left);
                emit(2 * i + 1, top, s);
                std::mem::swap(&mut sc.s_prev, &mut sc.s_cur);
            }
            std::mem::swap(&mut sc.cur, &mut sc.next);
            m *= 2;
            wib /= decay;
        }
        let lo = lo.iter().fold(f64::INFINITY, |a, &b| a.min(b));
        let hi = hi.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        (lo, hi)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{FastRng, NumpyRng};

    #[test]
    fn map_size_rule() {
        assert_eq!(map_size(224, 224), 256);
        assert_eq!(map_size(640, 480), 1024);
        assert_eq!(map_size(1024, 7), 1024);
        assert_eq!(map_size(1, 1), 4);
        assert_eq!(map_size(2048, 1024), 2048);
    }

    /// `np.random.seed(0); plasma_fractal(8, 2)` of imagecorruptions 1.1.2 (float64 buffer),
    /// printed with `repr` by the oracle venv (rows 0 and 1 of the normalised map).
    #[test]
    fn reference_matches_numpy_small_map() {
        let mut map = PlasmaMap {
            n: 8,
            data: vec![0.0; 64],
        };
        let mut rng = NumpyRng::new(0);
        generate_reference(&mut map, 2.0, &mut rng);
        let (lo, hi) = map.min_max();
        let norm: Vec<f64> = map.data.iter().map(|&v| (v - lo) / (hi - lo)).collect();
        assert_eq!(&norm[..16], &EXPECTED_ROWS01[..]);
        // N² − 1 = 63 uniforms = 126 words: the generator must be exactly there.
        let mut check = NumpyRng::new(0);
        for _ in 0..126 {
            check.next_u32();
        }
        assert_eq!(rng.next_u32(), check.next_u32());
    }

    /// Rows 0 and 1 of the normalised map (oracle output, see the test above).
    #[allow(clippy::excessive_precision)]
    const EXPECTED_ROWS01: [f64; 16] = [
        0.0,
        0.561440000815145,
        0.9253627776216887,
        0.7893828345990107,
        1.0,
        0.839066044913132,
        0.9144130367416848,
        0.33949351432620123,
        0.20084826966064642,
        0.3366172464426101,
        0.542821754197927,
        0.6214357970922608,
        0.7146903104932641,
        0.7989947574403504,
        0.655783198279121,
        0.4825151145476872,
    ];

    #[test]
    fn fast_field_has_reference_statistics() {
        // Mean and spread of the normalised field agree between generators (different draws).
        let stats = |fast: bool| {
            let mut acc = (0.0, 0.0);
            for seed in 0..20u32 {
                let (data, (lo, hi)) = if fast {
                    let mut out = vec![0.0; 64 * 64];
                    let mm =
                        generate_fast(64, 1.7, &mut FastRng::new(seed as u64), 64, 64, &mut out);
                    (out, mm)
                } else {
                    let mut map = PlasmaMap {
                        n: 64,
                        data: vec![0.0; 64 * 64],
                    };
                    generate_reference(&mut map, 1.7, &mut NumpyRng::new(seed));
                    let mm = map.min_max();
                    (map.data, mm)
                };
                let v: Vec<f64> = data.iter().map(|&x| (x - lo) / (hi - lo)).collect();
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
                acc.0 += mean / 20.0;
                acc.1 += var.sqrt() / 20.0;
            }
            acc
        };
        let (f, r) = (stats(true), stats(false));
        assert!((f.0 - r.0).abs() < 0.05, "{f:?} {r:?}");
        assert!((f.1 - r.1).abs() < 0.03, "{f:?} {r:?}");
    }
}
