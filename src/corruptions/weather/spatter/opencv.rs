//! Ports of the OpenCV calls in spatter's water branch (ALGORITHMS.md P13), single-channel only:
//! `Canny(img, 50, 150)` (L1 gradient, 3×3 Sobel), `distanceTransform(img, DIST_L2, 5)`,
//! `blur(img, (3, 3))` on f32 and u8, `equalizeHist` and `filter2D(u8, CV_8U, int kernel)`.
//!
//! Each function documents the OpenCV semantics it reproduces; the unit tests compare all of
//! them with outputs of OpenCV 4.11 (`scripts/make_opencv_vectors.py`, stored in
//! `src/corruptions/weather/spatter/testdata/opencv_vectors.txt`). Borders follow OpenCV: Sobel uses
//! `BORDER_REPLICATE`, the box and 2-D filters `BORDER_REFLECT_101` (`c b | a b c | b a`).

use crate::kernels::filter2d::reflect101;
use crate::kernels::scratch::Buf;
use crate::simd::dispatch;

/// `tan(22.5°)` in Canny's 15-bit fixed point: `(int)(0.41421356·2¹⁵ + 0.5)`.
const CANNY_TG22: i32 = 13573;
/// Canny's fixed-point shift.
const CANNY_SHIFT: u32 = 15;

/// Row `r` of an `h × w` image with `pad` extra values on both sides filled by `edge`
/// (an index map such as replicate or reflect-101), written to `out` (`w + 2·pad` values).
#[inline]
fn padded_row<T: Copy>(
    src: &[T],
    w: usize,
    r: usize,
    pad: usize,
    edge: fn(isize, usize) -> usize,
    out: &mut [T],
) {
    let row = &src[r * w..(r + 1) * w];
    out[pad..pad + w].copy_from_slice(row);
    for k in 0..pad {
        out[pad - 1 - k] = row[edge(-1 - k as isize, w)];
        out[pad + w + k] = row[edge((w + k) as isize, w)];
    }
}

/// `BORDER_REPLICATE` index.
#[inline]
fn replicate(i: isize, n: usize) -> usize {
    i.clamp(0, n as isize - 1) as usize
}

/// Advance a rolling window of the padded rows `reflect101(r − 1)`, `reflect101(r)`,
/// `reflect101(r + 1)` of an `h × w` image (one value of `BORDER_REFLECT_101` padding per
/// side) to output row `r`: all three rows are padded at `r = 0`, later only the new bottom
/// row (row `k` of the window at `r` is row `k + 1` of the window at `r − 1`).
#[cfg(test)]
#[inline(always)]
fn roll_rows<T: Copy>(src: &[T], w: usize, h: usize, r: usize, rows: &mut [Vec<T>; 3]) {
    if r == 0 {
        for (k, row) in rows.iter_mut().enumerate() {
            padded_row(src, w, reflect101(k as isize - 1, h), 1, reflect101, row);
        }
    } else {
        // (two swaps of the row handles: `rotate_left` is an out-of-line call)
        rows.swap(0, 1);
        rows.swap(1, 2);
        let next = reflect101(r as isize + 1, h);
        padded_row(src, w, next, 1, reflect101, &mut rows[2]);
    }
}

/// OpenCV `Canny(src, low, high)` with `apertureSize = 3`, `L2gradient = false`: edges are 255,
/// the rest 0.
///
/// 1. Gradients: 3×3 Sobel (`[-1 0 1; -2 0 2; -1 0 1]` and its transpose) with
///    `BORDER_REPLICATE`, exact in integers (OpenCV's `CV_16S`).
/// 2. Magnitude `|dx| + |dy|`; outside the image the magnitude is 0.
/// 3. Non-maximum suppression of pixels with magnitude `> low`, in four direction bins decided
///    in fixed point: with `x = |dx|`, `y = |dy|·2¹⁵`, `t = x·13573`: `y < t` → horizontal
///    (`m > left && m ≥ right`); `y > t + x·2¹⁶` → vertical (`m > up && m ≥ down`); else
///    diagonal along the sign of `dx·dy` (`m > both`, strict).
/// 4. Hysteresis: survivors with magnitude `> high` seed a flood fill through 8-connected
///    survivors (magnitude `> low`).
///
/// Test-only: the reference pinned to OpenCV's vectors; spatter (-C and ImageNet-P) calls
/// [`canny_l1_inverted`].
#[cfg(test)]
pub fn canny_l1(src: &[u8], w: usize, h: usize, low: i32, high: i32, edges: &mut [u8]) {
    canny_l1_marking(src, w, h, [low, high], [255, 0], edges);
}

/// [`canny_l1`] written inverted (edges 0, the rest 255): the distance transform's input, made
/// in Canny's last pass instead of a separate `255 − e` pass over the image.
pub fn canny_l1_inverted(src: &[u8], w: usize, h: usize, low: i32, high: i32, edges: &mut [u8]) {
    canny_l1_marking(src, w, h, [low, high], [0, 255], edges);
}

dispatch! {
    /// [`canny_l1`] writing `marks[0]` on edges and `marks[1]` elsewhere. Dispatched as a whole
    /// so that its own byte loops (the rows widened to i16, the hysteresis scan, the marks)
    /// run at AVX2 width; the kernels it calls dispatch themselves.
    fn canny_l1_marking / canny_l1_marking_scalar / canny_l1_marking_avx2 (
        src: &[u8],
        w: usize,
        h: usize,
        lh: [i32; 2],
        marks: [u8; 2],
        edges: &mut [u8],
    ) {
        assert!(src.len() >= w * h && edges.len() >= w * h);
        if w == 0 || h == 0 {
            return;
        }
        let pw = w + 2;
        // Gradients fit in i16 (|dx|, |dy| ≤ 4·255, magnitude ≤ 8·255). Only the rows the
        // non-maximum suppression still reads are kept: the gradients of two rows, the
        // magnitudes of three (padded, zero ends), so they stay in L1 (image-sized planes
        // went to L2). The map plane is reused per thread (a fresh image-sized allocation
        // costs page faults).
        let mut map = CANNY_MAP.with(|b| std::mem::take(&mut *b.borrow_mut()));
        // Only the one-pixel frame needs a value ("not an edge"): every interior value is
        // written below, so the plane is not cleared.
        map.resize(pw * (h + 2), 1);
        for buf_rows in [0, h + 1] {
            map[buf_rows * pw..(buf_rows + 1) * pw].fill(1);
        }
        for r in 1..=h {
            map[r * pw] = 1;
            map[r * pw + pw - 1] = 1;
        }
        // gradients of row q in gx[q % 2], gy[q % 2]; magnitudes of row q in mag[q % 3]
        // (outside the image the magnitude is 0: `zero`)
        let mut gx = [vec![0i16; w], vec![0i16; w]];
        let mut gy = [vec![0i16; w], vec![0i16; w]];
        let mut mag = [vec![0i16; pw], vec![0i16; pw], vec![0i16; pw]];
        let zero = vec![0i16; pw];
        // Rolling window of the padded source rows r−1, r, r+1 (replicated at the borders).
        // i16 arithmetic is exact here (|dx|, |dy| ≤ 1020, magnitude ≤ 2040) and gives twice
        // the SIMD lanes of i32.
        let mut rows = [vec![0u8; pw], vec![0u8; pw], vec![0u8; pw]];
        padded_row(src, w, 0, 1, replicate, &mut rows[0]);
        padded_row(src, w, 0, 1, replicate, &mut rows[1]);
        padded_row(src, w, 1.min(h - 1), 1, replicate, &mut rows[2]);
        // map: 0 may be an edge, 1 not an edge, 2 edge; one-pixel "not an edge" frame.
        // Non-maximum suppression of row q = r − 1 runs right after the gradients of row r:
        // it needs the magnitudes of rows q − 1..=q + 1.
        for r in 0..h {
            if r > 0 {
                rows.swap(0, 1);
                rows.swap(1, 2);
                padded_row(src, w, (r + 1).min(h - 1), 1, replicate, &mut rows[2]);
            }
            let [up, mid, down] = &rows;
            sobel_row(
                [up, mid, down],
                &mut gx[r % 2],
                &mut gy[r % 2],
                &mut mag[r % 3][1..w + 1],
            );
            if r > 0 {
                canny_nms(r - 1, h, [&gx, &gy], &mag, &zero, lh, &mut map);
            }
        }
        canny_nms(h - 1, h, [&gx, &gy], &mag, &zero, lh, &mut map);
        hysteresis(&mut map, w, h);
        for r in 0..h {
            let m = &map[(r + 1) * pw + 1..(r + 1) * pw + 1 + w];
            for (e, &v) in edges[r * w..(r + 1) * w].iter_mut().zip(m) {
                *e = if v == 2 { marks[0] } else { marks[1] };
            }
        }
        CANNY_MAP.with(|b| *b.borrow_mut() = map);
    }
}

/// Non-maximum suppression of row `q` of an `h`-row image in [`canny_l1_marking`]: gradients
/// of row `q` in `g[·][q % 2]`, magnitudes of row `q` in `mag[q % 3]` (padded, zero ends;
/// rows outside the image read as `zero`), written to row `q` of the padded `map` plane.
#[inline(always)]
fn canny_nms(
    q: usize,
    h: usize,
    g: [&[Vec<i16>; 2]; 2],
    mag: &[Vec<i16>; 3],
    zero: &[i16],
    lh: [i32; 2],
    map: &mut [u8],
) {
    let w = g[0][0].len();
    let pw = w + 2;
    let up: &[i16] = if q == 0 { zero } else { &mag[(q - 1) % 3] };
    let down: &[i16] = if q + 1 == h { zero } else { &mag[(q + 1) % 3] };
    let base = (q + 1) * pw + 1;
    nms_row(
        [up, &mag[q % 3], down],
        &g[0][q % 2],
        &g[1][q % 2],
        lh,
        &mut map[base..base + w],
    );
}

/// Canny's hysteresis on the `map` plane of [`canny_l1_marking`] (`w + 2` values per row, a
/// one-pixel "not an edge" frame): every weak pixel (0) 8-connected through weak pixels to a
/// strong one (2) becomes 2.
///
/// OpenCV seeds a flood fill with every strong pixel. Here the fill starts from the weak
/// pixels instead: each weak pixel found next to an edge becomes one and floods the weak
/// pixels connected to it. The same set results (a weak pixel joined to a strong one through
/// weak pixels is reached from the first of its chain that the scan finds next to an edge, or
/// earlier), but spatter's layers have many strong pixels (every liquid border is a jump of
/// ≥ 170 grey levels) and few weak ones, so far fewer pixels are visited; 32-pixel chunks
/// without a weak pixel are skipped after a vectorised test, and in the others only the weak
/// pixels are visited, 8 map bytes at a time ([`weak_bytes`]).
#[inline(always)]
fn hysteresis(map: &mut [u8], w: usize, h: usize) {
    let pw = w + 2;
    let mut stack: Vec<usize> = Vec::new();
    for r in 0..h {
        let base = (r + 1) * pw + 1;
        for c0 in (0..w).step_by(32) {
            let c1 = (c0 + 32).min(w);
            // 32-pixel chunks without a weak pixel: skipped after one vectorised test (a
            // fixed-size array, so it compiles to whole-vector compares, not an 8-byte loop)
            let chunk = &map[base + c0..base + c1];
            let weak = match <&[u8; 32]>::try_from(chunk) {
                Ok(c) => c.iter().fold(0u8, |a, &v| a | u8::from(v == 0)),
                Err(_) => chunk.iter().fold(0u8, |a, &v| a | u8::from(v == 0)),
            };
            if weak == 0 {
                continue;
            }
            for c in (c0..c1).step_by(8) {
                // the weak pixels of 8 (fewer at the end) as the high bits of their bytes
                let mut weak = weak_bytes(&map[base + c..base + (c + 8).min(c1)]);
                while weak != 0 {
                    let p = base + c + (weak.trailing_zeros() / 8) as usize;
                    weak &= weak - 1;
                    // (a fill started earlier in this word may have taken it)
                    if map[p] != 0 || !neighbours8(p, pw).iter().any(|&q| map[q] == 2) {
                        continue;
                    }
                    map[p] = 2;
                    stack.push(p);
                    while let Some(p) = stack.pop() {
                        for q in neighbours8(p, pw) {
                            if map[q] == 0 {
                                map[q] = 2;
                                stack.push(q);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Bit `8·i + 7` set for each byte `i` of `bytes` (at most 8) that is 0. Why: the hysteresis
/// scan visits only the weak pixels (the set bits) instead of testing every pixel of a chunk
/// holding one (a branch per pixel, mispredicted at the weak ones). Exact per byte: with
/// `x & 0x7f` + `0x7f` no carry leaves a byte, and its high bit (or the byte's own) is set
/// unless the byte is 0.
#[inline(always)]
fn weak_bytes(bytes: &[u8]) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = match <[u8; 8]>::try_from(bytes) {
        Ok(b) => u64::from_le_bytes(b),
        Err(_) => {
            // the row's last (short) word: missing bytes read as "not an edge"
            let mut b = [1u8; 8];
            b[..bytes.len()].copy_from_slice(bytes);
            u64::from_le_bytes(b)
        }
    };
    !(((x & LOW7) + LOW7) | x) & !LOW7
}

/// The 8 neighbours of index `p` in a plane of rows of `pw` values.
#[inline(always)]
fn neighbours8(p: usize, pw: usize) -> [usize; 8] {
    [
        p - pw - 1,
        p - pw,
        p - pw + 1,
        p - 1,
        p + 1,
        p + pw - 1,
        p + pw,
        p + pw + 1,
    ]
}

thread_local! {
    /// Canny's map plane, reused per thread.
    static CANNY_MAP: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Canny's non-maximum suppression on one row, written to the row's `map` values: `1` (not an
/// edge) unless the magnitude exceeds `thresholds[0]` (low) and is a maximum along its
/// gradient direction, then `0` (may be an edge) or `2` (edge: above `thresholds[1]`).
/// `mags` are the magnitude rows above, at and below (`w + 2` values, zero frame); `gx`, `gy`
/// the row's gradients (`|g| ≤ 1020`, Sobel's range on bytes). Direction bins in fixed point:
/// with `x = |gx|`, `y = |gy|·2¹⁵`, `t = x·13573`: `y < t` → horizontal
/// (`m > left && m ≥ right`); `y > t + x·2¹⁶` → vertical (`m > up && m ≥ down`); else diagonal
/// along the sign of `gx·gy` (`m > both`, strict). All products fit in i32 (`|g| ≤ 1020`), so
/// every path computes the same integers.
fn nms_row(mags: [&[i16]; 3], gx: &[i16], gy: &[i16], thresholds: [i32; 2], map: &mut [u8]) {
    dispatch!(nms_row_scalar / nms_row_avx2(mags, gx, gy, thresholds, map))
}

/// Scalar twin of [`nms_row`].
fn nms_row_scalar(mags: [&[i16]; 3], gx: &[i16], gy: &[i16], thresholds: [i32; 2], map: &mut [u8]) {
    let w = map.len();
    let [low, high] = thresholds;
    let [up, mid, down] = mags;
    let (gx, gy) = (&gx[..w], &gy[..w]);
    // equal-length shifted views (left, centre, right): no bounds checks in the loop
    let (ul, uc, ur) = (&up[..w], &up[1..w + 1], &up[2..w + 2]);
    let (ml, mc, mr) = (&mid[..w], &mid[1..w + 1], &mid[2..w + 2]);
    let (dl, dc, dr) = (&down[..w], &down[1..w + 1], &down[2..w + 2]);
    // 32-pixel chunks whose magnitudes are all ≤ low hold no edge candidate: "not an edge"
    // without the direction tests (spatter's layers are mostly flat, magnitude 0)
    let mut c0 = 0;
    while c0 < w {
        let c1 = (c0 + 32).min(w);
        if mc[c0..c1].iter().fold(0i16, |a, &m| a.max(m)) as i32 <= low {
            map[c0..c1].fill(1);
            c0 = c1;
            continue;
        }
        for c in c0..c1 {
            let m = mc[c] as i32;
            let (xs, ys) = (gx[c] as i32, gy[c] as i32);
            let x = xs.abs();
            let y = ys.abs() << CANNY_SHIFT;
            let tg22x = x * CANNY_TG22;
            let tg67x = tg22x + (x << (CANNY_SHIFT + 1));
            let horiz = y < tg22x;
            let vert = y > tg67x;
            // The maximum test of every bin, then the bin picks one (bitwise, so the compiler
            // keeps whole-vector loads instead of gathering the one neighbour pair per pixel):
            // horizontal and vertical `m > before && m ≥ after`, diagonals strict on both,
            // (up-left, down-right) when gx·gy ≥ 0, else (up-right, down-left).
            let hmax = (m > ml[c] as i32) & (m >= mr[c] as i32);
            let vmax = (m > uc[c] as i32) & (m >= dc[c] as i32);
            let d1max = (m > ul[c] as i32) & (m > dr[c] as i32);
            let d2max = (m > ur[c] as i32) & (m > dl[c] as i32);
            let same = (xs ^ ys) >= 0;
            let dmax = (same & d1max) | (!same & d2max);
            let bin_max = (horiz & hmax) | (!horiz & vert & vmax) | (!horiz & !vert & dmax);
            let is_max = (m > low) & bin_max;
            let strong = is_max & (m > high);
            map[c] = 1 - u8::from(is_max) + 2 * u8::from(strong);
        }
        c0 = c1;
    }
}

/// AVX2 twin of [`nms_row_scalar`]: 16 pixels per vector in i16 (the autovectorised scalar
/// widened everything to i32 for the `x·13573` products, `vpmulld`), 32 per step. The bins in
/// i16, exact for `|g| ≤ 1020`: with `q = ⌊x·13573/2¹⁵⌋` (`vpmulhw` by `2·13573`),
/// `y·2¹⁵ < x·13573` ⟺ `|gy| < q + [x ≠ 0]` and `y·2¹⁵ > x·(13573 + 2¹⁶)` ⟺ `|gy| > 2x + q`
/// (`x·13573` and `x·79109` are multiples of 2¹⁵ only for `x = 0`, so the floors lose nothing;
/// `nms_row_simd_equals_scalar_and_definition`). Thresholds outside `0..i16::MAX` take the
/// scalar twin (the i16 compares would differ there).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn nms_row_avx2(
    mags: [&[i16]; 3],
    gx: &[i16],
    gy: &[i16],
    thresholds: [i32; 2],
    map: &mut [u8],
) {
    use std::arch::x86_64::*;
    let w = map.len();
    let [low, high] = thresholds;
    let in_range = |t: i32| (0..i16::MAX as i32).contains(&t);
    let [up, mid, down] = mags;
    assert!(up.len() >= w + 2 && mid.len() >= w + 2 && down.len() >= w + 2);
    assert!(gx.len() >= w && gy.len() >= w);
    if !in_range(low) || !in_range(high) {
        return nms_row_scalar(mags, gx, gy, thresholds, map);
    }
    let full = w / 32 * 32;
    let (lowv, highv) = (
        _mm256_set1_epi16(low as i16),
        _mm256_set1_epi16(high as i16),
    );
    let (k, one, zero) = (
        _mm256_set1_epi16(2 * CANNY_TG22 as i16),
        _mm256_set1_epi16(1),
        _mm256_setzero_si256(),
    );
    let ld = |p: *const i16| _mm256_loadu_si256(p as *const __m256i);
    let (u, m, d) = (up.as_ptr(), mid.as_ptr(), down.as_ptr());
    // is_max and strong masks (0 / −1 per i16) of the 16 pixels at column c, magnitudes mc
    let step = |c: usize, mc: __m256i| {
        let (gxv, gyv) = (ld(gx.as_ptr().add(c)), ld(gy.as_ptr().add(c)));
        let (x, y) = (_mm256_abs_epi16(gxv), _mm256_abs_epi16(gyv));
        let q = _mm256_mulhi_epi16(x, k);
        let nz = _mm256_andnot_si256(_mm256_cmpeq_epi16(x, zero), one);
        let horiz = _mm256_cmpgt_epi16(_mm256_add_epi16(q, nz), y);
        let vert = _mm256_cmpgt_epi16(y, _mm256_add_epi16(_mm256_add_epi16(x, x), q));
        // −1 where gx·gy < 0: the (up-right, down-left) diagonal
        let neg = _mm256_srai_epi16::<15>(_mm256_xor_si256(gxv, gyv));
        let gt = |a: __m256i, b: __m256i| _mm256_cmpgt_epi16(a, b);
        // m > before && m ≥ after (i.e. !(after > m)); diagonals strict on both
        let hmax = _mm256_andnot_si256(gt(ld(m.add(c + 2)), mc), gt(mc, ld(m.add(c))));
        let vmax = _mm256_andnot_si256(gt(ld(d.add(c + 1)), mc), gt(mc, ld(u.add(c + 1))));
        let d1 = _mm256_and_si256(gt(mc, ld(u.add(c))), gt(mc, ld(d.add(c + 2))));
        let d2 = _mm256_and_si256(gt(mc, ld(u.add(c + 2))), gt(mc, ld(d.add(c))));
        let dmax = _mm256_blendv_epi8(d1, d2, neg);
        let bin = _mm256_blendv_epi8(_mm256_blendv_epi8(dmax, vmax, vert), hmax, horiz);
        (
            _mm256_and_si256(bin, gt(mc, lowv)),
            _mm256_cmpgt_epi16(mc, highv),
        )
    };
    let ones = _mm256_set1_epi8(1);
    let mut c = 0;
    while c < full {
        let (m0, m1) = (ld(m.add(c + 1)), ld(m.add(c + 17)));
        let any = _mm256_or_si256(_mm256_cmpgt_epi16(m0, lowv), _mm256_cmpgt_epi16(m1, lowv));
        let v = if _mm256_testz_si256(any, any) != 0 {
            // no candidate among the 32 (as the scalar's chunk skip)
            ones
        } else {
            let ((a0, s0), (a1, s1)) = (step(c, m0), step(c + 16, m1));
            let is_max = _mm256_permute4x64_epi64::<0xD8>(_mm256_packs_epi16(a0, a1));
            let strong = _mm256_permute4x64_epi64::<0xD8>(_mm256_packs_epi16(s0, s1));
            // 1 − is_max + 2·(is_max ∧ strong), masks −1
            let st = _mm256_and_si256(is_max, strong);
            _mm256_sub_epi8(_mm256_add_epi8(ones, is_max), _mm256_add_epi8(st, st))
        };
        _mm256_storeu_si256(map.as_mut_ptr().add(c) as *mut __m256i, v);
        c += 32;
    }
    if full < w {
        nms_row_scalar(
            [&up[full..], &mid[full..], &down[full..]],
            &gx[full..],
            &gy[full..],
            thresholds,
            &mut map[full..],
        );
    }
}

dispatch! {
    /// One row of Canny's Sobel stage: from the padded rows `up`, `mid`, `down` (`w + 2` bytes,
    /// replicated ends), `gx`, `gy` and the L1 magnitude `|gx| + |gy|` of the `w` pixels (exact
    /// integer arithmetic in i16, so every path gives the same values; the bytes are widened
    /// as they are loaded, not in a pass of their own).
    fn sobel_row / sobel_row_scalar / sobel_row_avx2 (
        rows: [&[u8]; 3],
        gx: &mut [i16],
        gy: &mut [i16],
        m: &mut [i16],
    ) {
        let w = gx.len();
        let [up, mid, down] = rows;
        let (gy, m) = (&mut gy[..w], &mut m[..w]);
        // equal-length shifted views (left, centre, right) so the loop has no bounds checks
        let (ul, uc, ur) = (&up[..w], &up[1..w + 1], &up[2..w + 2]);
        let (ml, mr) = (&mid[..w], &mid[2..w + 2]);
        let (dl, dc, dr) = (&down[..w], &down[1..w + 1], &down[2..w + 2]);
        let v = |r: &[u8], c: usize| r[c] as i16;
        for c in 0..w {
            let x = (v(ur, c) - v(ul, c)) + 2 * (v(mr, c) - v(ml, c)) + (v(dr, c) - v(dl, c));
            let y = (v(dl, c) - v(ul, c)) + 2 * (v(dc, c) - v(uc, c)) + (v(dr, c) - v(ur, c));
            gx[c] = x;
            gy[c] = y;
            m[c] = x.abs() + y.abs();
        }
    }
}

/// Chamfer weights of `DIST_L2` with the 5×5 mask: axial, diagonal, knight move.
const CHAMFER: [f32; 3] = [1.0, 1.4, 2.1969];

/// `min` that vectorises (no NaN occurs in the distance transform).
#[inline(always)]
fn fmin(a: f32, b: f32) -> f32 {
    if b < a {
        b
    } else {
        a
    }
}

/// Starting point of a row of distance-transform candidates.
#[derive(Clone, Copy)]
enum Init<'a> {
    /// Forward pass: no current value; pixels where this source row is 0 become 0.
    Zeros(&'a [u8]),
    /// Backward pass: the current (forward-pass) values.
    Values(&'a [f32]),
}

dispatch! {
    /// `out[c] = min(init[c], terms[j][c] + wts[j] for j = 0..7)`: the candidates of one row from
    /// the neighbouring rows (a minimum is exact whatever the order, values are never NaN).
    fn candidates / candidates_scalar / candidates_avx2 (
        init: Init<'_>,
        terms: [&[f32]; 7],
        wts: [f32; 7],
        out: &mut [f32],
    ) {
        let w = out.len();
        let [t0, t1, t2, t3, t4, t5, t6] = terms.map(|t| &t[..w]);
        let [w0, w1, w2, w3, w4, w5, w6] = wts;
        match init {
            Init::Zeros(src) => {
                let src = &src[..w];
                for c in 0..w {
                    let m = t0[c] + w0;
                    let m = fmin(m, t1[c] + w1);
                    let m = fmin(m, t2[c] + w2);
                    let m = fmin(m, t3[c] + w3);
                    let m = fmin(m, t4[c] + w4);
                    let m = fmin(m, t5[c] + w5);
                    let m = fmin(m, t6[c] + w6);
                    out[c] = if src[c] == 0 { 0.0 } else { m };
                }
            }
            Init::Values(cur) => {
                let cur = &cur[..w];
                for c in 0..w {
                    let m = fmin(cur[c], t0[c] + w0);
                    let m = fmin(m, t1[c] + w1);
                    let m = fmin(m, t2[c] + w2);
                    let m = fmin(m, t3[c] + w3);
                    let m = fmin(m, t4[c] + w4);
                    let m = fmin(m, t5[c] + w5);
                    out[c] = fmin(m, t6[c] + w6);
                }
            }
        }
    }
}

/// Segments a row chain is split into by [`chain`].
const CHAIN_SEGS: usize = 8;

/// The same-row recurrence of the distance transform: `out[c] = min(cand[c], out[c−1] + step)`
/// from left to right (`REV`: from right to left), starting from `f32::MAX` outside the row.
///
/// Why not the plain loop: each value waits for the previous add and min (~8 cycles of
/// latency per pixel). The row is cut into [`CHAIN_SEGS`] segments (eight: the add and min of
/// eight chains fill the two floating-point ports for those ~8 cycles) whose chains run
/// interleaved, each started from `f32::MAX`; then, segment by segment, the true value
/// entering a segment is carried on with the very same operations until it reproduces the
/// segment-local value — from there on the local chain already equals the true chain (it was
/// computed by the same recurrence from the same value). The result is bit-identical to the
/// sequential loop (`chain_matches_sequential`), and the carry usually stops within a few
/// pixels.
#[inline]
fn chain<const REV: bool>(cand: &[f32], out: &mut [f32], step: f32) {
    let w = cand.len();
    debug_assert_eq!(out.len(), w);
    let at = |i: usize| if REV { w - 1 - i } else { i };
    let seg = w / CHAIN_SEGS;
    if seg < 8 {
        let mut left = f32::MAX;
        for i in 0..w {
            let c = at(i);
            let v = fmin(cand[c], left + step);
            out[c] = v;
            left = v;
        }
        return;
    }
    let mut carry = [f32::MAX; CHAIN_SEGS];
    {
        // The segments as equal-length slices in chain order (segment k starts at position
        // k·seg of the chain; backwards the segments lie in the last CHAIN_SEGS·seg values
        // and are walked from their ends): no bounds checks in the interleaved loop.
        let base = if REV { w - CHAIN_SEGS * seg } else { 0 };
        let span = base..base + CHAIN_SEGS * seg;
        let mut cs = cand[span.clone()].chunks_exact(seg);
        let mut os = out[span].chunks_exact_mut(seg);
        let mut c: [&[f32]; CHAIN_SEGS] = std::array::from_fn(|_| cs.next().unwrap());
        let mut o: [&mut [f32]; CHAIN_SEGS] = std::array::from_fn(|_| os.next().unwrap());
        if REV {
            c.reverse();
            o.reverse();
        }
        let [c0, c1, c2, c3, c4, c5, c6, c7] = c;
        let [o0, o1, o2, o3, o4, o5, o6, o7] = o;
        // equal-length views: no bounds checks in the interleaved loop
        let (c0, c1, c2, c3) = (&c0[..seg], &c1[..seg], &c2[..seg], &c3[..seg]);
        let (c4, c5, c6, c7) = (&c4[..seg], &c5[..seg], &c6[..seg], &c7[..seg]);
        let (o0, o1, o2, o3) = (
            &mut o0[..seg],
            &mut o1[..seg],
            &mut o2[..seg],
            &mut o3[..seg],
        );
        let (o4, o5, o6, o7) = (
            &mut o4[..seg],
            &mut o5[..seg],
            &mut o6[..seg],
            &mut o7[..seg],
        );
        let [mut r0, mut r1, mut r2, mut r3, mut r4, mut r5, mut r6, mut r7] = carry;
        for i in 0..seg {
            let j = if REV { seg - 1 - i } else { i };
            r0 = fmin(c0[j], r0 + step);
            r1 = fmin(c1[j], r1 + step);
            r2 = fmin(c2[j], r2 + step);
            r3 = fmin(c3[j], r3 + step);
            r4 = fmin(c4[j], r4 + step);
            r5 = fmin(c5[j], r5 + step);
            r6 = fmin(c6[j], r6 + step);
            r7 = fmin(c7[j], r7 + step);
            o0[j] = r0;
            o1[j] = r1;
            o2[j] = r2;
            o3[j] = r3;
            o4[j] = r4;
            o5[j] = r5;
            o6[j] = r6;
            o7[j] = r7;
        }
        carry = [r0, r1, r2, r3, r4, r5, r6, r7];
    }
    // the last segment also takes the remainder
    let mut left = carry[CHAIN_SEGS - 1];
    for i in CHAIN_SEGS * seg..w {
        let c = at(i);
        let v = fmin(cand[c], left + step);
        out[c] = v;
        left = v;
    }
    for k in 1..CHAIN_SEGS {
        let mut left = out[at(k * seg - 1)];
        for i in k * seg..w {
            let c = at(i);
            let v = fmin(cand[c], left + step);
            if v == out[c] {
                break;
            }
            out[c] = v;
            left = v;
        }
    }
}

/// OpenCV `distanceTransform(src, DIST_L2, 5)` as the opencv-python 4.11 build computes it:
/// distance of every non-zero pixel to the nearest zero pixel by the two-pass 5×5 chamfer with
/// weights 1 (axial), 1.4 (diagonal) and 2.1969 (knight move), each candidate `d(q) + w` formed
/// in **f32** (the Intel IPP path of the wheel; OpenCV's own fallback uses 16-bit fixed point
/// and gives e.g. 2.79998779 instead of f32 2.8). Outside the image, and everywhere when the
/// image has no zero pixel, the distance is `f32::MAX`.
///
/// Forward pass (rows top-down, columns left-right): neighbours (−2,±1), (−1,±2) knight,
/// (−1,±1) diagonal, (−1,0) and (0,−1) axial. Backward pass (bottom-up, right-left): the mirror
/// images. Each pixel keeps the minimum of its value and its candidates; since a minimum does
/// not depend on the order of its candidates, the candidates from other rows are reduced first
/// (a vectorisable loop) and only the same-row neighbour is chained.
///
/// Then `min(d, cap)` (spatter's `THRESH_TRUNC`), applied as the rows are written out instead
/// of in a second pass over the image (`f32::MAX` for the plain transform).
#[cfg(test)]
pub fn distance_transform_l2_5_capped(src: &[u8], w: usize, h: usize, cap: f32, dist: &mut [f32]) {
    assert!(dist.len() >= w * h);
    distance_rows(src, w, h, |r, row| {
        for (d, &v) in dist[r * w..(r + 1) * w].iter_mut().zip(row) {
            *d = fmin(v, cap);
        }
    });
}

/// `box3_f32_trunc_u8(min(distance_transform_l2_5(src), cap))` (spatter's distance → blur →
/// `astype(uint8)` chain) without the image-sized f32 distance plane: each finished row of the
/// backward pass is capped into a ring of three padded rows, and output row `q` is blurred as
/// soon as rows `q − 1..=q + 1` are final, so the distances are read back from L1. The same f32
/// values in the same operations as the unfused pair (`fused_distance_box_equals_pair`).
pub fn distance_box3_trunc_u8(src: &[u8], w: usize, h: usize, cap: f32, out: &mut [u8]) {
    assert!(out.len() >= w * h);
    let mut ring = [vec![0f32; w + 2], vec![0f32; w + 2], vec![0f32; w + 2]];
    let mut col = vec![0f64; w + 2];
    let mut emit = |q: usize, ring: &[Vec<f32>; 3], col: &mut [f64]| {
        let [a, b, c] =
            [q as isize - 1, q as isize, q as isize + 1].map(|i| &ring[reflect101(i, h) % 3]);
        box3_row_trunc_u8(a, b, c, col, &mut out[q * w..(q + 1) * w]);
    };
    distance_rows(src, w, h, |r, row| {
        // padded (reflect-101, one value per side) and capped row r in slot r mod 3
        let slot = &mut ring[r % 3];
        for (d, &v) in slot[1..w + 1].iter_mut().zip(row) {
            *d = fmin(v, cap);
        }
        slot[0] = slot[1 + reflect101(-1, w)];
        slot[w + 1] = slot[1 + reflect101(w as isize, w)];
        // rows arrive bottom-up: row r + 1 now has its neighbours r and r + 2 (or its mirror)
        if r + 1 < h {
            emit(r + 1, &ring, &mut col);
        }
    });
    if h > 0 {
        emit(0, &ring, &mut col);
    }
}

/// The rows of OpenCV's `distanceTransform(src, DIST_L2, 5)` (see
/// [`distance_transform_l2_5_capped`]), handed to `sink(r, row)` as the backward pass
/// finishes them: bottom-up, each exactly once. Rows whose width is a multiple of [`LANES`]
/// (at least [`LANES`]² wide) go through [`distance_rows_lanes`], the others through
/// [`distance_rows_plain`]; both give the same values (`lanes_distance_equals_plain`).
fn distance_rows(src: &[u8], w: usize, h: usize, sink: impl FnMut(usize, &[f32])) {
    if w.is_multiple_of(LANES) && w >= LANES * LANES {
        distance_rows_lanes(src, w, h, crate::simd::isa(), sink);
    } else {
        distance_rows_plain(src, w, h, sink);
    }
}

/// [`distance_rows`] one row at a time: the other rows' candidates ([`candidates`]), then the
/// same-row chain ([`chain`]).
fn distance_rows_plain(src: &[u8], w: usize, h: usize, mut sink: impl FnMut(usize, &[f32])) {
    assert!(src.len() >= w * h);
    let [hv, diag, long] = CHAMFER;
    const B: usize = 2;
    let step = w + 2 * B;
    let mut t = Buf::<f32>::take(step * (h + 2 * B));
    // Only the frame (B rows above and below, B columns on each side) needs f32::MAX: the
    // forward pass writes every interior value before any later row reads it.
    t[..B * step].fill(f32::MAX);
    t[(h + B) * step..].fill(f32::MAX);
    for r in 0..h {
        let row = (r + B) * step;
        t[row..row + B].fill(f32::MAX);
        t[row + B + w..row + step].fill(f32::MAX);
    }
    let mut cand = Buf::<f32>::take(w);
    // forward pass: neighbours above and to the left
    for r in 0..h {
        let row = (r + B) * step + B;
        {
            let (above, _) = t.split_at(row);
            let r2 = &above[row - 2 * step - B..row - 2 * step + w + B];
            let r1 = &above[row - step - B..row - step + w + B];
            // equal-length shifted views: no bounds checks in the loop, so it vectorises
            let (k0, k1) = (&r2[1..w + 1], &r2[3..w + 3]);
            let (a0, a1, a2, a3, a4) = (
                &r1[..w],
                &r1[1..w + 1],
                &r1[2..w + 2],
                &r1[3..w + 3],
                &r1[4..w + 4],
            );
            // A zero pixel is 0: folded into the candidate (fmin(0, left + 1) = 0 since
            // distances are ≥ 0), which leaves one add and one min on the sequential chain.
            let terms = [k0, k1, a0, a1, a2, a3, a4];
            let zeros = Init::Zeros(&src[r * w..(r + 1) * w]);
            candidates(
                zeros,
                terms,
                [long, long, long, diag, hv, diag, long],
                &mut cand[..w],
            );
        }
        chain::<false>(&cand[..w], &mut t[row..row + w], hv);
    }
    // backward pass: neighbours below and to the right
    for r in (0..h).rev() {
        let row = (r + B) * step + B;
        {
            let (upto, below) = t.split_at(row + step - B);
            let cur = &upto[row..row + w];
            let r1 = &below[..w + 2 * B];
            let r2 = &below[step..step + w + 2 * B];
            let (k0, k1) = (&r2[3..w + 3], &r2[1..w + 1]);
            let (a0, a1, a2, a3, a4) = (
                &r1[4..w + 4],
                &r1[3..w + 3],
                &r1[2..w + 2],
                &r1[1..w + 1],
                &r1[..w],
            );
            let cur = &cur[..w];
            let terms = [k0, k1, a0, a1, a2, a3, a4];
            let wts = [long, long, long, diag, hv, diag, long];
            candidates(Init::Values(cur), terms, wts, &mut cand[..w]);
        }
        // the frame to the right is f32::MAX, as the chain's start value
        chain::<true>(&cand[..w], &mut t[row..row + w], hv);
        sink(r, &t[row..row + w]);
    }
}

/// Segments (vector lanes) of a row in [`distance_rows_lanes`].
const LANES: usize = 8;

/// One position of [`LANES`] segments of a row: lane `k` holds column `k·l + j` at position
/// `j` of a row of `l = w / LANES` positions.
type Lane = [f32; LANES];

/// Lane-wise [`fmin`].
#[inline(always)]
fn lmin(a: Lane, b: Lane) -> Lane {
    let mut o = a;
    for k in 0..LANES {
        o[k] = fmin(a[k], b[k]);
    }
    o
}

/// Lane-wise `a + s` (f32, rounded).
#[inline(always)]
fn ladd(a: Lane, s: f32) -> Lane {
    let mut o = a;
    for k in 0..LANES {
        o[k] = a[k] + s;
    }
    o
}

/// The candidate at stored position `p` of a row of [`distance_rows_lanes`]: `min` of `init`
/// and the other rows' terms (see [`lanes_row`]). A function, not a closure: a closure would
/// be compiled apart from the AVX2 twins, at the baseline instruction set.
#[inline(always)]
fn lanes_candidate(r2: &[Lane], r1: &[Lane], p: usize, init: Lane) -> Lane {
    let [hv, diag, long] = CHAMFER;
    let kn = lmin(lmin(r2[p - 1], r2[p + 1]), lmin(r1[p - 2], r1[p + 2]));
    let dg = lmin(r1[p - 1], r1[p + 1]);
    let m = lmin(ladd(kn, long), ladd(dg, diag));
    lmin(init, lmin(m, ladd(r1[p], hv)))
}

/// One pass over one row of [`distance_rows_lanes`]: `cur` (`l + 4` positions: two halo
/// positions on each side, see there) holds the row's starting values and receives, at
/// positions `2..l + 2`, the row's final values (each lane's chain started from `f32::MAX`,
/// then [`lanes_carry`]) and its halo ([`lanes_halo`]); `cand` is scratch for the
/// candidates. `r1`/`r2` are the rows one and two away (above for the
/// forward pass, below for the backward pass; the 5×5 mask is symmetric, so both passes read
/// the same offsets), `REV` runs the chains right to left.
///
/// The seven other-row terms share three weights, and f32 rounding is monotone
/// (`a ≤ b ⇒ a ⊕ w ≤ b ⊕ w`), so `min(a ⊕ w, b ⊕ w) = min(a, b) ⊕ w` exactly: the operands of
/// one weight are reduced first and the weight added once (3 adds instead of 7; `f32::MAX ⊕ w`
/// is still `f32::MAX`). The chain `R = min(c, R ⊕ 1)` is the plain recurrence, one vector
/// step per position (taking two or four positions per step with the same monotone rewrite,
/// `min(c₁, c₀ ⊕ 1, (R ⊕ 1) ⊕ 1)`, shortens its latency but measured no faster).
#[inline(always)]
fn lanes_row<const REV: bool>(r2: &[Lane], r1: &[Lane], cur: &mut [Lane], cand: &mut [Lane]) {
    let l = cand.len();
    let (r2, r1, cur) = (&r2[..l + 4], &r1[..l + 4], &mut cur[..l + 4]);
    let hv = CHAMFER[0];
    let mut r = [f32::MAX; LANES];
    for i in 0..l {
        let j = if REV { l - 1 - i } else { i };
        let c = lanes_candidate(r2, r1, j + 2, cur[j + 2]);
        cand[j] = c;
        r = lmin(c, ladd(r, hv));
        cur[j + 2] = r;
    }
    lanes_carry::<REV>(cand, cur);
    lanes_halo(cur);
}

/// [`lanes_row`] left to right (the forward pass), portable build.
fn lanes_row_fwd_scalar(r2: &[Lane], r1: &[Lane], cur: &mut [Lane], cand: &mut [Lane]) {
    lanes_row::<false>(r2, r1, cur, cand);
}

/// [`lanes_row`] right to left (the backward pass), portable build.
fn lanes_row_bwd_scalar(r2: &[Lane], r1: &[Lane], cur: &mut [Lane], cand: &mut [Lane]) {
    lanes_row::<true>(r2, r1, cur, cand);
}

/// AVX2 + FMA build of [`lanes_row_fwd_scalar`] (the same body; a lane is one register).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn lanes_row_fwd_avx2(r2: &[Lane], r1: &[Lane], cur: &mut [Lane], cand: &mut [Lane]) {
    lanes_row::<false>(r2, r1, cur, cand);
}

/// AVX2 + FMA build of [`lanes_row_bwd_scalar`] (the same body).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn lanes_row_bwd_avx2(r2: &[Lane], r1: &[Lane], cur: &mut [Lane], cand: &mut [Lane]) {
    lanes_row::<true>(r2, r1, cur, cand);
}

/// After the chains of [`lanes_row`], each started from `f32::MAX`: the true value entering
/// lane `k` is the last value of lane `k − 1` (`REV`: the first of lane `k + 1`). As in
/// [`chain`], it is carried on with the same operations until it reproduces the lane's own
/// value; here all lanes are carried at once, one vector step per position, until every lane
/// has met its own values (a lane that has met them stays equal: the same recurrence from the
/// same value). If a carry runs through a whole lane, the lane after it was entered with a
/// stale value and the walk is repeated from the new ends (at most `LANES − 1` walks; lane 0
/// starts from the frame and is final at once).
#[inline(always)]
fn lanes_carry<const REV: bool>(cand: &[Lane], cur: &mut [Lane]) {
    let l = cand.len();
    let cur = &mut cur[..l + 4];
    let hv = CHAMFER[0];
    loop {
        let end = cur[if REV { 2 } else { l + 1 }];
        let mut c = [f32::MAX; LANES];
        for k in 0..LANES {
            if REV && k + 1 < LANES {
                c[k] = end[k + 1];
            } else if !REV && k > 0 {
                c[k] = end[k - 1];
            }
        }
        let mut met = false;
        for i in 0..l {
            let j = if REV { l - 1 - i } else { i };
            let v = lmin(cand[j], ladd(c, hv));
            let mut same = true;
            for k in 0..LANES {
                same &= v[k] == cur[j + 2][k];
            }
            if same {
                met = true;
                break;
            }
            cur[j + 2] = v;
            c = v;
        }
        if met {
            return;
        }
    }
}

/// Fill the two halo positions on each side of a finished row of [`distance_rows_lanes`]:
/// lane `k`'s positions `−2, −1` are the last two of lane `k − 1`, its positions `l, l + 1`
/// the first two of lane `k + 1`; beyond the row's ends (lane 0 left, the last lane right)
/// `f32::MAX`, the transform's frame.
#[inline(always)]
fn lanes_halo(cur: &mut [Lane]) {
    let l = cur.len() - 4;
    let (a, b, c, d) = (cur[l], cur[l + 1], cur[2], cur[3]);
    for k in 0..LANES {
        cur[0][k] = if k > 0 { a[k - 1] } else { f32::MAX };
        cur[1][k] = if k > 0 { b[k - 1] } else { f32::MAX };
        cur[l + 2][k] = if k + 1 < LANES { c[k + 1] } else { f32::MAX };
        cur[l + 3][k] = if k + 1 < LANES { d[k + 1] } else { f32::MAX };
    }
}

/// `dst[j][k] = 0` where `src[k·l + j] == 0`, else `f32::MAX` (`l = dst.len()`): the forward
/// pass's starting values (a zero pixel's distance is 0), interleaved.
fn interleave_zeros_scalar(src: &[u8], dst: &mut [Lane]) {
    let l = dst.len();
    for (j, d) in dst.iter_mut().enumerate() {
        for k in 0..LANES {
            d[k] = if src[k * l + j] == 0 { 0.0 } else { f32::MAX };
        }
    }
}

/// `dst[k·l + j] = src[j][k]` (`l = src.len()`): an interleaved row back in column order.
fn deinterleave_scalar(src: &[Lane], dst: &mut [f32]) {
    let l = src.len();
    for (j, s) in src.iter().enumerate() {
        for k in 0..LANES {
            dst[k * l + j] = s[k];
        }
    }
}

/// The 8×8 transpose of `r` (`out[i][k] = r[k][i]`): unpacks, shuffles, lane permutes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn transpose8(r: [std::arch::x86_64::__m256; 8]) -> [std::arch::x86_64::__m256; 8] {
    use std::arch::x86_64::*;
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

/// Starts of the 8-position blocks covering `0..l` (`l ≥ 8`): multiples of 8 and, when `l`
/// is not one, a last block ending at `l` (overlapping the one before; its values are
/// written twice, identically).
#[cfg(target_arch = "x86_64")]
fn blocks8(l: usize) -> impl Iterator<Item = usize> {
    debug_assert!(l >= 8);
    (0..l / 8)
        .map(|b| 8 * b)
        .chain((!l.is_multiple_of(8)).then_some(l - 8))
}

/// AVX2 twin of [`interleave_zeros_scalar`]: per block of 8 positions, 8 bytes of each segment
/// widened, compared with 0 and transposed.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn interleave_zeros_avx2(src: &[u8], dst: &mut [Lane]) {
    use std::arch::x86_64::*;
    let l = dst.len();
    if l < 8 {
        return interleave_zeros_scalar(src, dst);
    }
    assert!(src.len() >= LANES * l);
    let max = _mm256_set1_ps(f32::MAX);
    let zero = _mm256_setzero_si256();
    for j0 in blocks8(l) {
        let mut rows = [max; 8];
        for (k, v) in rows.iter_mut().enumerate() {
            // SAFETY: k·l + j0 + 8 ≤ 8·l ≤ src.len().
            let b = unsafe { _mm_loadl_epi64(src.as_ptr().add(k * l + j0) as *const __m128i) };
            let z = _mm256_cmpeq_epi32(_mm256_cvtepu8_epi32(b), zero);
            *v = _mm256_andnot_ps(_mm256_castsi256_ps(z), max);
        }
        for (i, v) in transpose8(rows).into_iter().enumerate() {
            // SAFETY: j0 + i < l = dst.len(); a Lane is 8 f32.
            unsafe { _mm256_storeu_ps(dst.as_mut_ptr().add(j0 + i) as *mut f32, v) };
        }
    }
}

/// AVX2 twin of [`deinterleave_scalar`]: 8×8 transposes of blocks of 8 positions.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn deinterleave_avx2(src: &[Lane], dst: &mut [f32]) {
    use std::arch::x86_64::*;
    let l = src.len();
    if l < 8 {
        return deinterleave_scalar(src, dst);
    }
    assert!(dst.len() >= LANES * l);
    for j0 in blocks8(l) {
        let mut rows = [_mm256_setzero_ps(); 8];
        for (i, v) in rows.iter_mut().enumerate() {
            // SAFETY: j0 + i < l = src.len(); a Lane is 8 f32.
            *v = unsafe { _mm256_loadu_ps(src.as_ptr().add(j0 + i) as *const f32) };
        }
        for (k, v) in transpose8(rows).into_iter().enumerate() {
            // SAFETY: k·l + j0 + 8 ≤ 8·l ≤ dst.len().
            unsafe { _mm256_storeu_ps(dst.as_mut_ptr().add(k * l + j0), v) };
        }
    }
}

/// [`distance_rows`] with each row cut into [`LANES`] segments of `l = w / LANES` columns,
/// stored interleaved (position `j` of a row holds column `k·l + j` in lane `k`), so that the
/// eight segments' chains advance together in one vector (as the eight interleaved chains of
/// [`chain`] do in scalar registers) and the other rows' candidates are formed in the same loop
/// ([`lanes_row`]), without a candidate row in between. Each stored row has two halo positions
/// on each side (the neighbouring segments' columns, [`lanes_halo`]) and two `f32::MAX` frame
/// rows above and below, so the 5×5 mask's offsets are plain position offsets. The zeros of
/// `src` enter as starting values 0 (transposed in, [`interleave_zeros_scalar`]) and finished
/// rows leave through a transpose ([`deinterleave_scalar`]). Same values as
/// [`distance_rows_plain`]: the same f32 operations, minima taken in another order.
fn distance_rows_lanes(
    src: &[u8],
    w: usize,
    h: usize,
    isa: crate::simd::Isa,
    mut sink: impl FnMut(usize, &[f32]),
) {
    assert!(src.len() >= w * h && w.is_multiple_of(LANES));
    let l = w / LANES;
    let p = l + 4;
    let mut buf = Buf::<f32>::take(p * LANES * (h + 4));
    let (t, _) = buf.as_chunks_mut::<LANES>();
    t[..2 * p].fill([f32::MAX; LANES]);
    t[(h + 2) * p..].fill([f32::MAX; LANES]);
    let mut cand = vec![[0f32; LANES]; l];
    let mut row = Buf::<f32>::take(w);
    // forward pass: rows above
    for r in 0..h {
        let (done, rest) = t.split_at_mut((r + 2) * p);
        let (r2, r1) = (&done[r * p..(r + 1) * p], &done[(r + 1) * p..]);
        let cur = &mut rest[..p];
        let s = &src[r * w..(r + 1) * w];
        dispatch!(at isa; interleave_zeros_scalar / interleave_zeros_avx2(s, &mut cur[2..l + 2]));
        dispatch!(at isa; lanes_row_fwd_scalar / lanes_row_fwd_avx2(r2, r1, cur, &mut cand));
    }
    // backward pass: rows below
    for r in (0..h).rev() {
        let (upto, below) = t.split_at_mut((r + 3) * p);
        let cur = &mut upto[(r + 2) * p..];
        let (r1, r2) = (&below[..p], &below[p..2 * p]);
        dispatch!(at isa; lanes_row_bwd_scalar / lanes_row_bwd_avx2(r2, r1, cur, &mut cand));
        dispatch!(at isa; deinterleave_scalar / deinterleave_avx2(&cur[2..l + 2], &mut row[..w]));
        sink(r, &row[..w]);
    }
}

/// The rows of OpenCV `blur(src, (3, 3))` on f32 (`BORDER_REFLECT_101`): the 3×3 sum, formed
/// in f64 (OpenCV's box filter accumulates f32 input in f64; the sums of the distance values
/// here are exact in f64, so the order does not matter), times `1/9` (f64), rounded to f32, and
/// stored through `out` (inlined into each twin below, so it vectorises with them).
#[cfg(test)]
#[inline(always)]
fn box3_f32_with<T>(src: &[f32], w: usize, h: usize, dst: &mut [T], out: impl Fn(f32) -> T) {
    assert!(src.len() >= w * h && dst.len() >= w * h);
    let mut col = vec![0f64; w + 2];
    let mut rows = [vec![0f32; w + 2], vec![0f32; w + 2], vec![0f32; w + 2]];
    for r in 0..h {
        // rolling window: rows[k] holds source row reflect101(r + k − 1), so only the
        // new bottom row is padded (all three at the first row)
        roll_rows(src, w, h, r, &mut rows);
        let [a, b, c] = &rows;
        box3_f32_row(a, b, c, &mut col, &mut dst[r * w..(r + 1) * w], &out);
    }
}

/// One output row of [`box3_f32_with`] from the padded source rows above, at and below
/// (`w + 2` values each; `col` is scratch of `w + 2`).
#[inline(always)]
fn box3_f32_row<T>(
    a: &[f32],
    b: &[f32],
    c: &[f32],
    col: &mut [f64],
    dst: &mut [T],
    out: &impl Fn(f32) -> T,
) {
    let scale = 1.0f64 / 9.0;
    let w = dst.len();
    let col = &mut col[..w + 2];
    for (((o, &x), &y), &z) in col
        .iter_mut()
        .zip(&a[..w + 2])
        .zip(&b[..w + 2])
        .zip(&c[..w + 2])
    {
        *o = (x as f64 + y as f64) + z as f64;
    }
    let (c0, c1, c2) = (&col[..w], &col[1..w + 1], &col[2..w + 2]);
    for (i, d) in dst.iter_mut().enumerate() {
        *d = out((((c0[i] + c1[i]) + c2[i]) * scale) as f32);
    }
}

/// `astype(uint8)` of a blurred distance: kept in [0, 255] (NaN → 255) so the unchecked
/// conversion is sound for any input; a no-op for spatter's values.
#[inline(always)]
fn trunc_u8(v: f32) -> u8 {
    let v = if v < 255.0 { v } else { 255.0 };
    let v = if v > 0.0 { v } else { 0.0 };
    // SAFETY: 0 ≤ v ≤ 255 fits in i32.
    unsafe { v.to_int_unchecked::<i32>() as u8 }
}

dispatch! {
    /// One row of [`box3_f32_trunc_u8`] from padded rows (for [`distance_box3_trunc_u8`]).
    fn box3_row_trunc_u8 / box3_row_trunc_u8_scalar / box3_row_trunc_u8_avx2 (
        a: &[f32],
        b: &[f32],
        c: &[f32],
        col: &mut [f64],
        dst: &mut [u8],
    ) {
        box3_f32_row(a, b, c, col, dst, &trunc_u8);
    }
}

#[cfg(test)]
dispatch! {
    /// OpenCV `blur(src, (3, 3))` on f32 (`BORDER_REFLECT_101`), see [`box3_f32_with`]
    /// (the tests' reference, with [`box3_f32_trunc_u8`]; callers use [`distance_box3_trunc_u8`]).
    pub fn box3_f32 / box3_f32_scalar / box3_f32_avx2 (
        src: &[f32],
        w: usize,
        h: usize,
        dst: &mut [f32],
    ) {
        box3_f32_with(src, w, h, dst, |v| v);
    }
}

#[cfg(test)]
dispatch! {
    /// OpenCV `blur(src, (3, 3))` on f32 (`BORDER_REFLECT_101`, see [`box3_f32_with`])
    /// followed by `astype(uint8)` (truncation) in the same row loop: the f32 values are the
    /// very ones `box3_f32` (the tests' reference) gives, never stored (results outside
    /// [0, 255] saturate; spatter's distances are capped at 20).
    pub fn box3_f32_trunc_u8 / box3_f32_trunc_u8_scalar / box3_f32_trunc_u8_avx2 (
        src: &[f32],
        w: usize,
        h: usize,
        dst: &mut [u8],
    ) {
        box3_f32_with(src, w, h, dst, trunc_u8);
    }
}

#[cfg(test)]
dispatch! {
    /// OpenCV `blur(src, (3, 3))` on u8 (`BORDER_REFLECT_101`): `round(sum / 9)` (a sum of nine
    /// bytes divided by 9 is never exactly halfway, so the rounding mode does not matter).
    /// The tests' reference; spatter calls [`equalize_emboss_box_u8`] (the same row kernel).
    pub fn box3_u8 / box3_u8_scalar / box3_u8_avx2 (
        src: &[u8],
        w: usize,
        h: usize,
        dst: &mut [u8],
    ) {
        assert!(src.len() >= w * h && dst.len() >= w * h);
        let mut col = vec![0u16; w + 2];
        let mut rows = [vec![0u8; w + 2], vec![0u8; w + 2], vec![0u8; w + 2]];
        for r in 0..h {
            // rolling window: rows[k] holds source row reflect101(r + k − 1), so only the
            // new bottom row is padded (all three at the first row)
            roll_rows(src, w, h, r, &mut rows);
            let [a, b, c] = &rows;
            box3_u8_row([a, b, c], &mut col, &mut dst[r * w..(r + 1) * w]);
        }
    }
}

/// One output row of [`box3_u8`] from the padded source rows above, at and below (`w + 2`
/// values each, `w = dst.len()`; `col` is scratch of `w + 2`).
#[inline(always)]
fn box3_u8_row([a, b, c]: [&[u8]; 3], col: &mut [u16], dst: &mut [u8]) {
    let w = dst.len();
    let col = &mut col[..w + 2];
    for (((o, &x), &y), &z) in col
        .iter_mut()
        .zip(&a[..w + 2])
        .zip(&b[..w + 2])
        .zip(&c[..w + 2])
    {
        *o = x as u16 + y as u16 + z as u16;
    }
    let (c0, c1, c2) = (&col[..w], &col[1..w + 1], &col[2..w + 2]);
    for (c, d) in dst.iter_mut().enumerate() {
        let s = c0[c] + c1[c] + c2[c];
        // round(s / 9) for s ≤ 2295 is ⌊(s + 4) / 9⌋ (s / 9 is never halfway), via
        // a 16-bit high multiply (exact here, `box_rounding_by_multiply_shift_is_exact`)
        *d = (((s + 4) as u32 * 7282) >> 16) as u8;
    }
}

/// OpenCV `equalizeHist`: histogram `h`, first non-empty bin `i0`; if every pixel is in `i0`
/// the image becomes `i0`, else `scale = 255 / (N − h[i0])` in f32, `lut[i0] = 0` and for
/// `j > i0` `lut[j] = rint(f32(running_sum · scale))` saturated to u8.
///
/// Spatter calls [`equalize_emboss_box_u8`] (the same table, applied in its row pass).
#[cfg(test)]
pub fn equalize_hist(src: &[u8], dst: &mut [u8]) {
    assert!(dst.len() >= src.len());
    if let Some((lut, top)) = equalize_lut(src) {
        lut_apply(src, &lut, top, dst);
    }
}

/// `dst[i] = lut[src[i]]`, with the two-shuffle lookup when every byte is at most `top < 32`
/// (spatter's input is a distance capped at 20).
#[inline(always)]
fn lut_apply(src: &[u8], lut: &[u8; 256], top: usize, dst: &mut [u8]) {
    if top < 32 {
        let small: &[u8; 32] = lut[..32].try_into().expect("32 entries");
        dispatch!(lut32_scalar / lut32_avx2(src, small, dst));
    } else {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = lut[s as usize];
        }
    }
}

/// [`equalize_hist`]'s table of `src` and the largest value present (`None`: empty image).
fn equalize_lut(src: &[u8]) -> Option<([u8; 256], usize)> {
    let hist = histogram(src);
    let total = src.len() as u32;
    let i0 = hist.iter().position(|&c| c != 0)?;
    let mut lut = [0u8; 256];
    if hist[i0] == total {
        lut.fill(i0 as u8);
    } else {
        let scale = 255.0f32 / (total - hist[i0]) as f32;
        let mut sum = 0u32;
        for j in i0 + 1..256 {
            sum += hist[j];
            lut[j] = (sum as f32 * scale).round_ties_even().clamp(0.0, 255.0) as u8;
        }
    }
    let top = hist.iter().rposition(|&c| c != 0).unwrap_or(0);
    Some((lut, top))
}

/// The histogram of the bytes of `src`.
fn histogram(src: &[u8]) -> [u32; 256] {
    dispatch!(histogram_scalar / histogram_avx2(src))
}

/// Scalar twin of [`histogram`]: eight interleaved sub-histograms (the images here are
/// dominated by a few values, and a single histogram would serialise on those counters'
/// load-increment-store latency).
fn histogram_scalar(src: &[u8]) -> [u32; 256] {
    let mut sub = [[0u32; 256]; 8];
    let mut octs = src.chunks_exact(8);
    for q in &mut octs {
        for (h, &v) in sub.iter_mut().zip(q) {
            h[v as usize] += 1;
        }
    }
    for &v in octs.remainder() {
        sub[0][v as usize] += 1;
    }
    let mut hist = [0u32; 256];
    for (j, h) in hist.iter_mut().enumerate() {
        *h = sub.iter().map(|s| s[j]).sum();
    }
    hist
}

/// Values counted per pass of [`histogram_avx2`] (11 byte counters and the loaded vector
/// stay in registers).
#[cfg(target_arch = "x86_64")]
const HIST_LANES: usize = 11;

/// AVX2 twin of [`histogram_scalar`] for images whose bytes are all below 32 (spatter's
/// equalised distances: 0..=20); others take the scalar twin. Each pass counts
/// [`HIST_LANES`] values with a compare and a subtract per value and 32 bytes, in byte
/// counters flushed (`vpsadbw`) every 255 vectors: about half the time of the scalar
/// histogram's load-increment-store per byte at spatter's 21 values. First a `vpmaxub`
/// pass finds the largest byte (how many values to count).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn histogram_avx2(src: &[u8]) -> [u32; 256] {
    use std::arch::x86_64::*;
    let n = src.len();
    let full = n / 32 * 32;
    let p = src.as_ptr();
    let ld = |i: usize| _mm256_loadu_si256(p.add(i) as *const __m256i);
    let mut mx = _mm256_setzero_si256();
    let mut i = 0;
    while i < full {
        mx = _mm256_max_epu8(mx, ld(i));
        i += 32;
    }
    let mut lanes = [0u8; 32];
    _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, mx);
    let top = lanes.iter().chain(&src[full..]).copied().max().unwrap_or(0) as usize;
    if top >= 32 {
        return histogram_scalar(src);
    }
    let mut hist = [0u32; 256];
    let zero = _mm256_setzero_si256();
    for base in (0..=top).step_by(HIST_LANES) {
        let vals: [__m256i; HIST_LANES] =
            std::array::from_fn(|j| _mm256_set1_epi8((base + j) as i8));
        let mut start = 0;
        while start < full {
            // byte counters: at most one increment per vector, so 255 vectors per block
            let end = (start + 255 * 32).min(full);
            let mut acc = [zero; HIST_LANES];
            let mut i = start;
            while i < end {
                let x = ld(i);
                for (a, &v) in acc.iter_mut().zip(&vals) {
                    *a = _mm256_sub_epi8(*a, _mm256_cmpeq_epi8(x, v));
                }
                i += 32;
            }
            for (j, &a) in acc.iter().enumerate() {
                let s = _mm256_sad_epu8(a, zero);
                let s = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
                let s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
                hist[base + j] += _mm_cvtsi128_si64(s) as u32;
            }
            start = end;
        }
    }
    for &v in &src[full..] {
        hist[v as usize] += 1;
    }
    hist
}

/// `dst[i] = lut[src[i]]` for bytes below 32 (a larger byte panics).
fn lut32_scalar(src: &[u8], lut: &[u8; 32], dst: &mut [u8]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = lut[s as usize];
    }
}

/// AVX2 twin of [`lut32_scalar`]: each half of the table is one `vpshufb` lookup on the low
/// four bits, and a compare picks the half (a byte of 32 or more gives an unspecified value
/// instead of a panic).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn lut32_avx2(src: &[u8], lut: &[u8; 32], dst: &mut [u8]) {
    use std::arch::x86_64::*;
    let n = src.len().min(dst.len());
    let lo = _mm256_broadcastsi128_si256(_mm_loadu_si128(lut.as_ptr() as *const __m128i));
    let hi = _mm256_broadcastsi128_si256(_mm_loadu_si128(lut.as_ptr().add(16) as *const __m128i));
    let fifteen = _mm256_set1_epi8(15);
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 ≤ n ≤ both lengths.
        let x = _mm256_loadu_si256(src.as_ptr().add(i) as *const __m256i);
        let a = _mm256_shuffle_epi8(lo, x);
        let b = _mm256_shuffle_epi8(hi, x);
        let y = _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi8(x, fifteen));
        _mm256_storeu_si256(dst.as_mut_ptr().add(i) as *mut __m256i, y);
        i += 32;
    }
    lut32_scalar(&src[i..n], lut, &mut dst[i..n]);
}

#[cfg(test)]
dispatch! {
    /// OpenCV `filter2D(src, CV_8U, k)` for an integer 3×3 kernel (correlation, anchor at the
    /// centre, `BORDER_REFLECT_101`): exact integer sums saturated to 0..=255. The kernel's
    /// absolute weights must sum to at most 128 (16-bit sums; panics otherwise).
    /// The tests' reference; spatter calls [`equalize_emboss_box_u8`] (the same row kernel).
    pub fn filter3x3_u8 / filter3x3_u8_scalar / filter3x3_u8_avx2 (
        src: &[u8],
        w: usize,
        h: usize,
        k: &[[i32; 3]; 3],
        dst: &mut [u8],
    ) {
        assert!(src.len() >= w * h && dst.len() >= w * h);
        let mut rows = [vec![0u8; w + 2], vec![0u8; w + 2], vec![0u8; w + 2]];
        // sums are formed in i16 (twice the lanes of i32): exact while 255·Σ|k| fits
        assert!(
            k.iter().flatten().map(|v| v.unsigned_abs() as u64).sum::<u64>() <= 128,
            "filter3x3_u8: kernel weights too large for 16-bit sums"
        );
        let kk: [[i16; 3]; 3] = k.map(|r| r.map(|v| v as i16));
        for r in 0..h {
            roll_rows(src, w, h, r, &mut rows);
            let [a, b, c] = &rows;
            filter3x3_row([a, b, c], kk, &mut dst[r * w..(r + 1) * w]);
        }
    }
}

/// One output row of [`filter3x3_u8`] from the padded source rows above, at and below
/// (`w + 2` values each, `w = d.len()`), with the kernel in i16 (`255·Σ|k|` must fit in i16;
/// the callers check). Inlined: a constant kernel folds into shifts and adds.
#[inline(always)]
fn filter3x3_row([a, b, c]: [&[u8]; 3], kk: [[i16; 3]; 3], d: &mut [u8]) {
    let w = d.len();
    // equal-length shifted views: no bounds checks, so the loop vectorises
    let (a0, a1, a2) = (&a[..w], &a[1..w + 1], &a[2..w + 2]);
    let (b0, b1, b2) = (&b[..w], &b[1..w + 1], &b[2..w + 2]);
    let (c0, c1, c2) = (&c[..w], &c[1..w + 1], &c[2..w + 2]);
    let [[k00, k01, k02], [k10, k11, k12], [k20, k21, k22]] = kk;
    for i in 0..w {
        // i16 is exact: |sum| ≤ 255·Σ|k| ≤ 255·128
        let s = k00 * a0[i] as i16
            + k01 * a1[i] as i16
            + k02 * a2[i] as i16
            + k10 * b0[i] as i16
            + k11 * b1[i] as i16
            + k12 * b2[i] as i16
            + k20 * c0[i] as i16
            + k21 * c1[i] as i16
            + k22 * c2[i] as i16;
        d[i] = s.clamp(0, 255) as u8;
    }
}

/// Spatter's emboss kernel (`filter2D` after `equalizeHist`).
pub const EMBOSS: [[i32; 3]; 3] = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]];

dispatch! {
    /// Spatter's water chain after the distance: `box3_u8(filter3x3_u8(equalize_hist(src),
    /// EMBOSS))` ([`equalize_hist`], [`filter3x3_u8`] with [`EMBOSS`], [`box3_u8`]) in one
    /// row-streaming pass after the histogram: each equalised row is made once into a ring of
    /// three padded rows, each embossed row into a second ring, and output row `q` is blurred
    /// as soon as embossed rows `q − 1..=q + 1` exist. Why: the three image passes each copied
    /// padded rows out of an image-sized plane and wrote a plane back; here the rows stay in
    /// L1, and the constant kernel folds into adds and shifts. The same integer operations,
    /// so the same bytes (`equalize_emboss_box_equals_the_three_passes`).
    pub fn equalize_emboss_box_u8 / equalize_emboss_box_u8_scalar / equalize_emboss_box_u8_avx2 (
        src: &[u8],
        w: usize,
        h: usize,
        dst: &mut [u8],
    ) {
        assert!(src.len() >= w * h && dst.len() >= w * h);
        let src = &src[..w * h];
        let Some((lut, top)) = equalize_lut(src) else {
            return; // empty image
        };
        let kk: [[i16; 3]; 3] = EMBOSS.map(|r| r.map(|v| v as i16));
        // equalised row r in eq[r % 3], embossed row r in em[r % 3], padded (reflect-101)
        let mut eq = [vec![0u8; w + 2], vec![0u8; w + 2], vec![0u8; w + 2]];
        let mut em = [vec![0u8; w + 2], vec![0u8; w + 2], vec![0u8; w + 2]];
        let mut col = vec![0u16; w + 2];
        equalized_row(&src[..w], &lut, top, &mut eq[0]);
        if h > 1 {
            equalized_row(&src[w..2 * w], &lut, top, &mut eq[1]);
        }
        // ring slot of row reflect101(i) (i = −1 as usize::MAX, or h): only the two ends
        // take the general index map (it divides)
        let at = |i: usize| if i < h { i % 3 } else { reflect101(i as isize, h) % 3 };
        for r in 0..h {
            if r >= 1 && r + 1 < h {
                equalized_row(&src[(r + 1) * w..(r + 2) * w], &lut, top, &mut eq[(r + 1) % 3]);
            }
            let rows = [&eq[at(r.wrapping_sub(1))][..], &eq[r % 3], &eq[at(r + 1)]];
            let e = &mut em[r % 3];
            filter3x3_row(rows, kk, &mut e[1..w + 1]);
            pad101(e);
            if r >= 1 {
                let q = r - 1;
                let rows = [&em[at(q.wrapping_sub(1))][..], &em[q % 3], &em[at(r)]];
                box3_u8_row(rows, &mut col, &mut dst[q * w..r * w]);
            }
        }
        let q = h - 1;
        let rows = [&em[at(q.wrapping_sub(1))][..], &em[q % 3], &em[at(h)]];
        box3_u8_row(rows, &mut col, &mut dst[q * w..h * w]);
    }
}

/// The one-value `BORDER_REFLECT_101` ends of a padded row (`row[1..len − 1]` the values):
/// `reflect101(−1, w) = 1` and `reflect101(w, w) = w − 2` written out (0 when `w = 1`), as
/// the general index map divides.
#[inline(always)]
fn pad101(row: &mut [u8]) {
    let w = row.len() - 2;
    let (l, r) = if w > 1 { (2, w - 1) } else { (1, 1) };
    row[0] = row[l];
    row[w + 1] = row[r];
}

/// `lut[src]` into `out[1..]`, padded by [`pad101`] (`top`: the largest value of the image,
/// below 32 → the two-shuffle lookup).
#[inline(always)]
fn equalized_row(src: &[u8], lut: &[u8; 256], top: usize, out: &mut [u8]) {
    let w = src.len();
    lut_apply(src, lut, top, &mut out[1..w + 1]);
    pad101(&mut out[..w + 2]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain transform (no cap), as OpenCV's vectors give it.
    fn distance_transform_l2_5(src: &[u8], w: usize, h: usize, dist: &mut [f32]) {
        distance_transform_l2_5_capped(src, w, h, f32::MAX, dist);
    }
    use crate::simd;

    /// One array of the vector file: name, height, width, values.
    struct Array {
        name: String,
        h: usize,
        w: usize,
        values: Vec<f64>,
    }

    /// Parse `src/corruptions/weather/spatter/testdata/opencv_vectors.txt`: blocks `name h w` followed by `h·w`
    /// whitespace-separated numbers (f32 values printed with `repr`, exact).
    fn vectors() -> Vec<Array> {
        let text = include_str!("testdata/opencv_vectors.txt");
        let mut out = Vec::new();
        let mut tokens = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(str::split_whitespace);
        while let Some(name) = tokens.next() {
            let h: usize = tokens.next().unwrap().parse().unwrap();
            let w: usize = tokens.next().unwrap().parse().unwrap();
            let values = (0..h * w)
                .map(|_| tokens.next().unwrap().parse::<f64>().unwrap())
                .collect();
            out.push(Array {
                name: name.to_string(),
                h,
                w,
                values,
            });
        }
        out
    }

    fn get<'a>(v: &'a [Array], name: &str) -> &'a Array {
        v.iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    fn bytes(a: &Array) -> Vec<u8> {
        a.values.iter().map(|&v| v as u8).collect()
    }

    /// [`weak_bytes`] marks exactly the zero bytes, every value at every position of full and
    /// short words.
    #[test]
    fn weak_bytes_marks_the_zero_bytes() {
        for len in 1..=8usize {
            for pos in 0..len {
                for v in 0..=255u8 {
                    let mut b = [3u8; 8];
                    b[pos] = v;
                    let want = if v == 0 { 1u64 << (8 * pos + 7) } else { 0 };
                    assert_eq!(weak_bytes(&b[..len]), want, "len {len} pos {pos} v {v}");
                }
            }
        }
        assert_eq!(weak_bytes(&[0; 8]), 0x8080_8080_8080_8080);
        assert_eq!(weak_bytes(&[0; 3]), 0x0080_8080);
    }

    /// The weak-pixel-seeded [`hysteresis`] gives OpenCV's strong-seeded flood fill, on maps
    /// with many weak pixels in long chains (unlike spatter's layers), touching the frame.
    #[test]
    fn hysteresis_equals_strong_seeded_fill() {
        let mut grown = 0;
        for (w, h, strong) in [
            (37usize, 23usize, 40u64),
            (64, 64, 8),
            (5, 3, 20),
            (33, 1, 30),
        ] {
            let pw = w + 2;
            let mut map = vec![1u8; pw * (h + 2)];
            let r = crate::kernels::testdata::test_values(w * h, w as u64);
            for (i, &v) in r.iter().enumerate() {
                // weak (0) half the time, strong rarely, else not an edge
                let v = v % 1000;
                map[(i / w + 1) * pw + 1 + i % w] = if v < strong {
                    2
                } else if v < 500 {
                    0
                } else {
                    1
                };
            }
            let mut want = map.clone();
            let mut stack: Vec<usize> = (0..want.len()).filter(|&p| want[p] == 2).collect();
            while let Some(p) = stack.pop() {
                for q in neighbours8(p, pw) {
                    if want[q] == 0 {
                        want[q] = 2;
                        stack.push(q);
                    }
                }
            }
            let before = map.iter().filter(|&&v| v == 2).count();
            hysteresis(&mut map, w, h);
            assert_eq!(map, want, "{w}×{h}");
            grown += want.iter().filter(|&&v| v == 2).count() - before;
        }
        // the fill did something
        assert!(grown > 100, "{grown}");
    }

    /// Every case of the vector file: `<case>.input` (u8) and OpenCV's result of each stage
    /// of spatter's water branch, each stage fed with OpenCV's previous output.
    #[test]
    fn water_stages_match_opencv() {
        let v = vectors();
        let cases: Vec<&str> = v
            .iter()
            .filter_map(|a| a.name.strip_suffix(".input"))
            .collect();
        assert!(cases.len() >= 3);
        for case in cases {
            let input = get(&v, &format!("{case}.input"));
            let (h, w) = (input.h, input.w);
            let src = bytes(input);
            let n = w * h;

            let mut edges = vec![0u8; n];
            canny_l1(&src, w, h, 50, 150, &mut edges);
            let want = bytes(get(&v, &format!("{case}.canny")));
            assert_eq!(edges, want, "{case}: canny");

            let inv: Vec<u8> = want.iter().map(|&e| 255 - e).collect();
            let mut inverted = vec![0u8; n];
            canny_l1_inverted(&src, w, h, 50, 150, &mut inverted);
            assert_eq!(inverted, inv, "{case}: inverted canny");
            let mut dist = vec![0f32; n];
            distance_transform_l2_5(&inv, w, h, &mut dist);
            let want = get(&v, &format!("{case}.dist"));
            for (i, (&a, &b)) in dist.iter().zip(&want.values).enumerate() {
                assert_eq!(a as f64, b, "{case}: distance at {i}");
            }

            let trunc: Vec<f32> = want.values.iter().map(|&d| (d as f32).min(20.0)).collect();
            let mut blurred = vec![0f32; n];
            box3_f32(&trunc, w, h, &mut blurred);
            let want = get(&v, &format!("{case}.blurf"));
            for (i, (&a, &b)) in blurred.iter().zip(&want.values).enumerate() {
                assert_eq!(a as f64, b, "{case}: float box blur at {i}");
            }

            let d8: Vec<u8> = want.values.iter().map(|&d| d as u8).collect();
            let mut eq = vec![0u8; n];
            equalize_hist(&d8, &mut eq);
            let want = bytes(get(&v, &format!("{case}.eq")));
            assert_eq!(eq, want, "{case}: equalizeHist");

            let mut f = vec![0u8; n];
            filter3x3_u8(&want, w, h, &[[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], &mut f);
            let want = bytes(get(&v, &format!("{case}.filter")));
            assert_eq!(f, want, "{case}: filter2D");

            let mut b = vec![0u8; n];
            box3_u8(&want, w, h, &mut b);
            let want = bytes(get(&v, &format!("{case}.blur8")));
            assert_eq!(b, want, "{case}: u8 box blur");

            let mut fused = vec![0u8; n];
            equalize_emboss_box_u8(&d8, w, h, &mut fused);
            assert_eq!(fused, want, "{case}: equalize, emboss, blur fused");
        }
    }

    #[test]
    fn box_rounding_by_multiply_shift_is_exact() {
        for s in 0..=9 * 255u32 {
            let want = (s as f64 / 9.0).round() as u32;
            assert_eq!(((s + 4) * 7282) >> 16, want, "{s}");
        }
    }

    #[test]
    fn chain_matches_sequential() {
        // candidates with zeros (seeds), runs of f32::MAX and fractional distances
        for w in [1usize, 5, 31, 32, 33, 40, 97, 224, 641] {
            for pattern in 0..4u32 {
                let cand: Vec<f32> = (0..w)
                    .map(|i| {
                        let x = (i as u32).wrapping_mul(2_654_435_761) ^ pattern;
                        match (x >> 7) % (3 + pattern) {
                            0 => 0.0,
                            1 => ((x >> 11) % 50) as f32 * 1.4 + 0.1969,
                            _ => f32::MAX,
                        }
                    })
                    .collect();
                for rev in [false, true] {
                    let mut want = vec![0f32; w];
                    let mut left = f32::MAX;
                    for i in 0..w {
                        let c = if rev { w - 1 - i } else { i };
                        want[c] = fmin(cand[c], left + 1.0);
                        left = want[c];
                    }
                    let mut got = vec![-1f32; w];
                    if rev {
                        chain::<true>(&cand, &mut got, 1.0);
                    } else {
                        chain::<false>(&cand, &mut got, 1.0);
                    }
                    assert_eq!(got, want, "w {w} pattern {pattern} rev {rev}");
                }
            }
        }
    }

    /// The whole Canny driver's twins (scalar and AVX2 builds, each with the kernels of its
    /// level) give the same edges on spatter-like layers (flat zeros and smooth blobs), at
    /// sizes around the 32-pixel steps, with both markings.
    #[test]
    fn canny_driver_twins_are_equal() {
        for &(h, w) in &[
            (1usize, 1usize),
            (2, 3),
            (3, 40),
            (17, 33),
            (64, 100),
            (50, 224),
        ] {
            let r = crate::kernels::testdata::test_values(w * h, (w * h) as u64);
            let src: Vec<u8> = (0..w * h)
                .map(|i| {
                    let (y, x) = ((i / w) as i64, (i % w) as i64);
                    let blob = 300 - ((x - 20) * (x - 20) + (y - 9) * (y - 9));
                    if blob > 0 {
                        (170 + blob / 4 + (r[i] % 7) as i64).min(255) as u8
                    } else if r[i].is_multiple_of(13) {
                        (r[i] % 256) as u8
                    } else {
                        0
                    }
                })
                .collect();
            for marks in [[255u8, 0], [0, 255]] {
                let mut want = vec![7u8; w * h];
                canny_l1_marking_scalar(&src, w, h, [50, 150], marks, &mut want);
                assert!(w * h < 10 || want.contains(&marks[0]), "{h}x{w}: no edge");
                for isa in simd::available() {
                    let mut got = vec![9u8; w * h];
                    dispatch!(at isa; canny_l1_marking_scalar / canny_l1_marking_avx2(&src, w, h, [50, 150], marks, &mut got));
                    assert_eq!(got, want, "{h}x{w} {isa:?}");
                }
            }
        }
    }

    /// The fused equalise → emboss → blur pass equals the three image passes, at sizes with one
    /// and two rows and columns (the reflect-101 mirrors of both rings) and larger ones, on
    /// images with every byte below 32 (the shuffle table) and not, on every path.
    #[test]
    fn equalize_emboss_box_equals_the_three_passes() {
        for &(h, w) in &[
            (1usize, 1usize),
            (1, 9),
            (9, 1),
            (2, 3),
            (3, 2),
            (5, 17),
            (23, 70),
            (40, 224),
        ] {
            for top in [20u8, 255] {
                let r = crate::kernels::testdata::test_values(w * h, top as u64);
                let src: Vec<u8> = r.iter().map(|&v| (v % (top as u64 + 1)) as u8).collect();
                let mut eq = vec![0u8; w * h];
                equalize_hist(&src, &mut eq);
                let mut f = vec![0u8; w * h];
                filter3x3_u8(&eq, w, h, &EMBOSS, &mut f);
                let mut want = vec![0u8; w * h];
                box3_u8(&f, w, h, &mut want);
                for isa in simd::available() {
                    let mut got = vec![1u8; w * h];
                    dispatch!(at isa; equalize_emboss_box_u8_scalar / equalize_emboss_box_u8_avx2(&src, w, h, &mut got));
                    assert_eq!(got, want, "{h}x{w} top {top} {isa:?}");
                }
            }
        }
    }

    /// The histogram's twins agree with a plain count, at lengths around the 32-byte step and
    /// the 255-vector flush of the byte counters, for bytes below 32 (the compare-count path,
    /// one dominant value included) and above (the scalar fallback).
    #[test]
    fn histogram_twins_equal_count() {
        for n in [
            0usize,
            1,
            31,
            32,
            33,
            255 * 32,
            255 * 32 + 1,
            300 * 32 + 5,
            50176,
        ] {
            for top in [0u64, 1, 10, 20, 31, 32, 255] {
                let r = crate::kernels::testdata::test_values(n, n as u64 + top);
                let src: Vec<u8> = r
                    .iter()
                    .map(|&v| if v % 4 == 0 { top } else { v % (top + 1) } as u8)
                    .collect();
                let mut want = [0u32; 256];
                for &v in &src {
                    want[v as usize] += 1;
                }
                assert_eq!(histogram_scalar(&src), want, "n {n} top {top}");
                for isa in simd::available() {
                    let got = dispatch!(at isa; histogram_scalar / histogram_avx2(&src));
                    assert_eq!(got, want, "n {n} top {top} {isa:?}");
                }
            }
        }
    }

    /// [`nms_row`]'s twins on gradients at the borders of the direction bins: every
    /// `|gx| ≤ 1020` with `|gy|` one below, at and one above `x·13573/2¹⁵` and
    /// `x·(13573 + 2¹⁶)/2¹⁵`, every sign combination, `gx = 0` and `gy = 0` included.
    #[test]
    fn nms_row_twins_equal_at_bin_borders() {
        let (mut gx, mut gy) = (Vec::new(), Vec::new());
        for x in 0..=1020i32 {
            let t22 = (x * CANNY_TG22) >> CANNY_SHIFT;
            let t67 = (x * CANNY_TG22 + (x << (CANNY_SHIFT + 1))) >> CANNY_SHIFT;
            for y in [0, t22 - 1, t22, t22 + 1, t67 - 1, t67, t67 + 1] {
                if !(0..=1020).contains(&y) {
                    continue;
                }
                for (sx, sy) in [(1, 1), (1, -1), (-1, 1), (-1, -1)] {
                    gx.push((sx * x) as i16);
                    gy.push((sy * y) as i16);
                }
            }
        }
        let w = gx.len();
        let r = crate::kernels::testdata::test_values(3 * (w + 2), 5);
        let mags: Vec<Vec<i16>> = (0..3)
            .map(|k| {
                (0..w + 2)
                    .map(|i| {
                        let v = (r[k * (w + 2) + i] % 400) as i16;
                        if i == 0 || i == w + 1 {
                            0
                        } else if k == 1 {
                            // centre magnitudes mostly candidates, ties with neighbours common
                            60 + v % 8 * 40
                        } else {
                            v / 40 * 40
                        }
                    })
                    .collect()
            })
            .collect();
        let ms = [&mags[0][..], &mags[1][..], &mags[2][..]];
        let mut want = vec![9u8; w];
        nms_row_scalar(ms, &gx, &gy, [50, 150], &mut want);
        for v in 0..3u8 {
            assert!(want.contains(&v), "outcome {v} missing");
        }
        for isa in simd::available() {
            let mut got = vec![7u8; w];
            dispatch!(at isa; nms_row_scalar / nms_row_avx2(ms, &gx, &gy, [50, 150], &mut got));
            assert_eq!(got, want, "{isa:?}");
        }
    }

    /// [`nms_row`]'s twins against the per-pixel definition (the direction bin decides which
    /// two neighbours are compared), on gradients covering every bin and sign.
    #[test]
    fn nms_row_simd_equals_scalar_and_definition() {
        for w in [1usize, 7, 16, 31, 32, 33, 64, 100, 224] {
            let hash = |i: usize, k: usize| {
                (i as u32)
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(k as u32 * 40_503)
                    >> 7
            };
            let mags: Vec<Vec<i16>> = (0..3)
                .map(|k| {
                    (0..w + 2)
                        .map(|i| {
                            if i == 0 || i == w + 1 {
                                0
                            } else if k == 1 && (33..65).contains(&i) {
                                // a whole 32-pixel chunk without candidates (≤ low) when w ≥ 64
                                (hash(i, k) % 51) as i16
                            } else {
                                (hash(i, k) % 300) as i16
                            }
                        })
                        .collect()
                })
                .collect();
            let g = |k: usize| -> Vec<i16> {
                (0..w).map(|i| (hash(i, k) % 2041) as i16 - 1020).collect()
            };
            let (gx, gy) = (g(7), g(11));
            let ms = [&mags[0][..], &mags[1][..], &mags[2][..]];
            let mut a = vec![9u8; w];
            nms_row_scalar(ms, &gx, &gy, [50, 150], &mut a);
            for c in 0..w {
                let m = mags[1][c + 1] as i32;
                let (xs, ys) = (gx[c] as i64, gy[c] as i64);
                let (x, y) = (xs.abs(), ys.abs() << CANNY_SHIFT);
                let t = x * CANNY_TG22 as i64;
                let at = |k: usize, dc: isize| mags[k][(c as isize + 1 + dc) as usize] as i32;
                let (before, after, strict) = if y < t {
                    (at(1, -1), at(1, 1), 0)
                } else if y > t + (x << (CANNY_SHIFT + 1)) {
                    (at(0, 0), at(2, 0), 0)
                } else if (xs ^ ys) < 0 {
                    (at(0, 1), at(2, -1), 1)
                } else {
                    (at(0, -1), at(2, 1), 1)
                };
                let want = if m > 50 && m > before && m >= after + strict {
                    if m > 150 {
                        2
                    } else {
                        0
                    }
                } else {
                    1
                };
                assert_eq!(a[c], want, "w {w} column {c}");
            }
            for isa in simd::available() {
                let mut b = vec![9u8; w];
                dispatch!(at isa; nms_row_scalar / nms_row_avx2(ms, &gx, &gy, [50, 150], &mut b));
                assert_eq!(a, b, "w {w} {isa:?}");
            }
        }
    }

    #[test]
    fn sobel_row_simd_equals_scalar() {
        for w in [1usize, 7, 16, 17, 100] {
            let rows: Vec<Vec<u8>> = (0..3)
                .map(|k| {
                    (0..w + 2)
                        .map(|i| ((i * 97 + k * 31) % 256) as u8)
                        .collect()
                })
                .collect();
            let rs = [&rows[0][..], &rows[1][..], &rows[2][..]];
            let mut a = vec![vec![0i16; w]; 3];
            let [a0, a1, a2] = &mut a[..] else {
                unreachable!()
            };
            sobel_row_scalar(rs, a0, a1, a2);
            for isa in simd::available() {
                let mut b = vec![vec![0i16; w]; 3];
                let [b0, b1, b2] = &mut b[..] else {
                    unreachable!()
                };
                dispatch!(at isa; sobel_row_scalar / sobel_row_avx2(rs, b0, b1, b2));
                assert_eq!(a, b);
            }
            // spot check against the definition at an interior pixel
            if w >= 3 {
                let c = 1;
                let at = |k: usize, i: usize| rows[k][i + 1] as i32;
                let x =
                    at(0, c + 1) - at(0, c - 1) + 2 * (at(1, c + 1) - at(1, c - 1)) + at(2, c + 1)
                        - at(2, c - 1);
                assert_eq!(a[0][c] as i32, x);
            }
        }
    }

    #[test]
    fn candidates_simd_equals_scalar() {
        for w in [1usize, 7, 8, 9, 31, 100] {
            let rows: Vec<Vec<f32>> = (0..8)
                .map(|k| {
                    (0..w)
                        .map(|i| match (i * 13 + k * 7) % 5 {
                            0 => f32::MAX,
                            v => v as f32 * 1.4 + k as f32,
                        })
                        .collect()
                })
                .collect();
            let src: Vec<u8> = (0..w).map(|i| (i % 3) as u8).collect();
            let terms: [&[f32]; 7] = std::array::from_fn(|j| &rows[j][..]);
            let wts = [2.1969, 2.1969, 2.1969, 1.4, 1.0, 1.4, 2.1969];
            for init in [Init::Zeros(&src), Init::Values(&rows[7])] {
                let mut a = vec![0f32; w];
                candidates_scalar(init, terms, wts, &mut a);
                for isa in simd::available() {
                    let mut b = vec![0f32; w];
                    dispatch!(at isa; candidates_scalar / candidates_avx2(init, terms, wts, &mut b));
                    assert_eq!(a, b);
                }
                let c = w - 1;
                let mut want = terms
                    .iter()
                    .zip(wts)
                    .map(|(t, wt)| t[c] + wt)
                    .fold(f32::MAX, f32::min);
                match init {
                    Init::Zeros(s) if s[c] == 0 => want = 0.0,
                    Init::Values(v) => want = want.min(v[c]),
                    _ => {}
                }
                assert_eq!(a[c], want);
            }
        }
    }

    #[test]
    fn box_and_filter_simd_equal_scalar() {
        for &(h, w) in &[(1usize, 1usize), (2, 3), (5, 17), (19, 40)] {
            let u: Vec<u8> = (0..w * h).map(|i| ((i * 73 + 11) % 256) as u8).collect();
            let f: Vec<f32> = u.iter().map(|&v| (v % 21) as f32 * 1.4).collect();
            for isa in simd::available() {
                let (mut a, mut b) = (vec![0u8; w * h], vec![0u8; w * h]);
                box3_u8_scalar(&u, w, h, &mut a);
                dispatch!(at isa; box3_u8_scalar / box3_u8_avx2(&u, w, h, &mut b));
                assert_eq!(a, b);
                let k = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]];
                let mut b = vec![0u8; w * h];
                filter3x3_u8_scalar(&u, w, h, &k, &mut a);
                dispatch!(at isa; filter3x3_u8_scalar / filter3x3_u8_avx2(&u, w, h, &k, &mut b));
                assert_eq!(a, b);
                let (mut fa, mut fb) = (vec![0f32; w * h], vec![0f32; w * h]);
                box3_f32_scalar(&f, w, h, &mut fa);
                dispatch!(at isa; box3_f32_scalar / box3_f32_avx2(&f, w, h, &mut fb));
                assert_eq!(fa, fb);
            }
        }
    }

    /// The small-table lookup of [`equalize_hist`]: its twins agree on every byte below 32,
    /// at lengths around the 32-byte step, and equal the table itself.
    #[test]
    fn lut32_simd_equals_scalar() {
        let lut: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
        for n in [0usize, 1, 31, 32, 33, 64, 100] {
            let src: Vec<u8> = (0..n).map(|i| ((i * 7 + 3) % 32) as u8).collect();
            let mut a = vec![0u8; n];
            lut32_scalar(&src, &lut, &mut a);
            let want: Vec<u8> = src.iter().map(|&s| lut[s as usize]).collect();
            assert_eq!(a, want);
            for isa in simd::available() {
                let mut b = vec![0u8; n];
                dispatch!(at isa; lut32_scalar / lut32_avx2(&src, &lut, &mut b));
                assert_eq!(a, b, "n {n} {isa:?}");
            }
        }
    }

    /// `equalize_hist` on images whose largest value is below 32 (the two-shuffle table) and
    /// above (the byte table), against the OpenCV definition written out directly.
    #[test]
    fn equalize_hist_small_and_large_ranges() {
        for top in [20usize, 31, 32, 255] {
            // uneven counts (squares modulo top + 1) and every value up to `top` present
            let src: Vec<u8> = (0..5000usize)
                .map(|i| if i <= top { i } else { (i * i * 31 + i * 7) % (top + 1) } as u8)
                .collect();
            let mut got = vec![0u8; src.len()];
            equalize_hist(&src, &mut got);
            let mut hist = [0u32; 256];
            for &v in &src {
                hist[v as usize] += 1;
            }
            let i0 = hist.iter().position(|&c| c != 0).unwrap();
            let scale = 255.0f32 / (src.len() as u32 - hist[i0]) as f32;
            let (mut sum, mut lut) = (0u32, [0u8; 256]);
            for j in i0 + 1..256 {
                sum += hist[j];
                lut[j] = (sum as f32 * scale).round_ties_even().clamp(0.0, 255.0) as u8;
            }
            let want: Vec<u8> = src.iter().map(|&v| lut[v as usize]).collect();
            assert_eq!(got, want, "top {top}");
            assert!(src.iter().any(|&v| v as usize == top));
        }
    }

    /// The fused box-blur-and-truncate equals [`box3_f32`] then `as u8`, on every path.
    #[test]
    fn box3_f32_trunc_u8_equals_box_then_cast() {
        for &(h, w) in &[(1usize, 1usize), (2, 3), (5, 17), (19, 40)] {
            let f: Vec<f32> = (0..w * h)
                .map(|i| ((i * 73 + 11) % 15) as f32 * 1.4 + (i % 3) as f32 * 0.1969)
                .map(|v| v.min(20.0))
                .collect();
            let mut blurred = vec![0f32; w * h];
            box3_f32_scalar(&f, w, h, &mut blurred);
            let want: Vec<u8> = blurred.iter().map(|&v| v as u8).collect();
            assert!(want.iter().any(|&v| v > 5));
            for isa in simd::available() {
                let mut got = vec![0u8; w * h];
                dispatch!(at isa; box3_f32_trunc_u8_scalar / box3_f32_trunc_u8_avx2(&f, w, h, &mut got));
                assert_eq!(got, want, "{h}x{w} {isa:?}");
            }
        }
    }

    /// The fused distance → cap → blur → truncation equals the unfused pair, at sizes with one
    /// and two rows and columns (the reflect-101 mirrors of the row ring) and larger ones.
    #[test]
    fn fused_distance_box_equals_pair() {
        for &(h, w) in &[
            (1usize, 1usize),
            (1, 9),
            (9, 1),
            (2, 3),
            (3, 2),
            (5, 17),
            (23, 70),
        ] {
            let src: Vec<u8> = (0..w * h)
                .map(|i| if (i * 7 + h) % 19 == 0 { 0 } else { 255 })
                .collect();
            let mut dist = vec![0f32; w * h];
            distance_transform_l2_5_capped(&src, w, h, 5.0, &mut dist);
            let mut want = vec![0u8; w * h];
            box3_f32_trunc_u8(&dist, w, h, &mut want);
            let mut got = vec![0u8; w * h];
            distance_box3_trunc_u8(&src, w, h, 5.0, &mut got);
            assert_eq!(got, want, "{h}x{w}");
        }
        // large enough that the distances vary between 0 and the cap
        let (h, w) = (23, 70);
        let src: Vec<u8> = (0..w * h)
            .map(|i| if i % 131 == 0 { 0 } else { 255 })
            .collect();
        let mut got = vec![0u8; w * h];
        distance_box3_trunc_u8(&src, w, h, 5.0, &mut got);
        assert!(got.contains(&5) && got.iter().any(|&v| v < 3));
    }

    /// The blur row kernel's twins agree on values with fractional parts, at widths around the
    /// vector lengths.
    #[test]
    fn box3_row_simd_equals_scalar() {
        for w in [1usize, 3, 4, 7, 8, 9, 31, 33, 70] {
            let row = |k: usize| -> Vec<f32> {
                (0..w + 2)
                    .map(|i| ((i * 31 + k * 17) % 29) as f32 * 0.7 + (i % 5) as f32 * 0.1969)
                    .collect()
            };
            let (a, b, c) = (row(0), row(1), row(2));
            let mut want = vec![0u8; w];
            box3_row_trunc_u8_scalar(&a, &b, &c, &mut vec![0f64; w + 2], &mut want);
            assert!(want.iter().any(|&v| v > 5));
            for isa in simd::available() {
                let mut got = vec![0u8; w];
                let col = &mut vec![0f64; w + 2];
                dispatch!(at isa; box3_row_trunc_u8_scalar / box3_row_trunc_u8_avx2(&a, &b, &c, col, &mut got));
                assert_eq!(got, want, "w {w} {isa:?}");
            }
        }
    }

    /// Images for the distance-transform tests: sparse, dense and clustered zeros, long
    /// zero-free runs (chains carried across whole segments), a zero-free image (`f32::MAX`
    /// everywhere) and a single zero in a corner.
    fn distance_inputs(w: usize, h: usize) -> Vec<Vec<u8>> {
        let hash =
            |i: usize, s: usize| (i.wrapping_mul(2_654_435_761) ^ s).wrapping_mul(40_503) >> 7;
        let mut v: Vec<Vec<u8>> = [3usize, 17, 97, 1009]
            .iter()
            .map(|&m| {
                (0..w * h)
                    .map(|i| if hash(i, m) % m == 0 { 0 } else { 255 })
                    .collect()
            })
            .collect();
        // blobs: zero where a coarse hash says so
        v.push(
            (0..w * h)
                .map(|i| {
                    if hash(i / w / 9 * 1000 + i % w / 13, 5) % 4 == 0 {
                        0
                    } else {
                        9
                    }
                })
                .collect(),
        );
        // zeros only in a few columns of a few rows: chains cross segments for ~w pixels
        v.push(
            (0..w * h)
                .map(|i| {
                    if (i / w) % 29 == 3 && (i % w) % 61 == 5 {
                        0
                    } else {
                        255
                    }
                })
                .collect(),
        );
        v.push(vec![255; w * h]);
        let mut one = vec![255; w * h];
        one[w * h - 1] = 0;
        v.push(one);
        v
    }

    /// The interleaved-segment transform ([`distance_rows_lanes`], every instruction set)
    /// gives exactly the values of the row-at-a-time one ([`distance_rows_plain`]), at widths
    /// with 8, 9, 15 and 28 positions per segment.
    #[test]
    fn lanes_distance_equals_plain() {
        for &(w, h) in &[
            (64usize, 5usize),
            (72, 31),
            (120, 40),
            (224, 37),
            (224, 1),
            (64, 2),
        ] {
            for (n, src) in distance_inputs(w, h).into_iter().enumerate() {
                let mut want = vec![-1f32; w * h];
                distance_rows_plain(&src, w, h, |r, row| {
                    want[r * w..(r + 1) * w].copy_from_slice(row)
                });
                assert!(want.iter().all(|&d| d >= 0.0));
                if n == 0 && h > 2 {
                    // dense zeros: fractional distances (diagonal and knight steps) as well
                    assert!(want.iter().any(|&d| d.fract() != 0.0), "{w}x{h}");
                }
                if n == 5 && h > 3 {
                    // zeros only in a few columns: chains carried across whole segments
                    assert!(
                        want.iter().any(|&d| d > (w / LANES) as f32 && d < 1e9),
                        "{w}x{h}"
                    );
                }
                for isa in simd::available() {
                    let mut got = vec![-2f32; w * h];
                    let mut order = vec![];
                    distance_rows_lanes(&src, w, h, isa, |r, row| {
                        order.push(r);
                        got[r * w..(r + 1) * w].copy_from_slice(row)
                    });
                    assert_eq!(order, (0..h).rev().collect::<Vec<_>>());
                    let same = got
                        .iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{w}x{h} input {n} {isa:?}");
                }
            }
        }
    }

    /// The transposes in and out of the interleaved layout: twins equal, and the definition.
    #[test]
    fn interleave_twins_and_definition() {
        for l in [1usize, 7, 8, 9, 15, 16, 28, 40] {
            let src: Vec<u8> = (0..8 * l).map(|i| ((i * 37) % 5) as u8).collect();
            let mut want = vec![[1f32; LANES]; l];
            interleave_zeros_scalar(&src, &mut want);
            for j in 0..l {
                for k in 0..LANES {
                    let z = src[k * l + j] == 0;
                    assert_eq!(want[j][k], if z { 0.0 } else { f32::MAX });
                }
            }
            let vals: Vec<Lane> = (0..l)
                .map(|j| std::array::from_fn(|k| (j * 8 + k) as f32 * 0.7))
                .collect();
            let mut back = vec![0f32; 8 * l];
            deinterleave_scalar(&vals, &mut back);
            for (c, &v) in back.iter().enumerate() {
                assert_eq!(v, ((c % l) * 8 + c / l) as f32 * 0.7);
            }
            for isa in simd::available() {
                let mut got = vec![[2f32; LANES]; l];
                dispatch!(at isa; interleave_zeros_scalar / interleave_zeros_avx2(&src, &mut got));
                assert_eq!(got, want, "l {l} {isa:?}");
                let mut got = vec![0f32; 8 * l];
                dispatch!(at isa; deinterleave_scalar / deinterleave_avx2(&vals, &mut got));
                assert_eq!(got, back, "l {l} {isa:?}");
            }
        }
    }

    /// The capped distance transform equals the plain one followed by `min(·, cap)`.
    #[test]
    fn capped_distance_equals_distance_then_min() {
        let (w, h) = (70usize, 23usize);
        let src: Vec<u8> = (0..w * h)
            .map(|i| {
                if ((i * 2_654_435_761usize) >> 9).is_multiple_of(97) {
                    0
                } else {
                    255
                }
            })
            .collect();
        let mut plain = vec![0f32; w * h];
        distance_transform_l2_5(&src, w, h, &mut plain);
        assert!(plain.iter().any(|&d| d > 5.0) && plain.contains(&0.0));
        let mut capped = vec![0f32; w * h];
        distance_transform_l2_5_capped(&src, w, h, 5.0, &mut capped);
        let want: Vec<f32> = plain.iter().map(|&d| d.min(5.0)).collect();
        assert_eq!(capped, want);
    }

    #[test]
    fn reflect101_rule() {
        let idx: Vec<usize> = (-3..8).map(|i| reflect101(i, 5)).collect();
        assert_eq!(idx, [3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1]);
        assert_eq!(reflect101(-1, 1), 0);
        assert_eq!(reflect101(2, 2), 0);
    }
}
