//! OpenCV `Canny(img, low, high)` (L1 gradient, 3×3 Sobel): see [`canny_l1`].

use super::{padded_row, replicate};
use crate::simd::dispatch;

/// `tan(22.5°)` in Canny's 15-bit fixed point: `(int)(0.41421356·2¹⁵ + 0.5)`.
const CANNY_TG22: i32 = 13573;
/// Canny's fixed-point shift.
const CANNY_SHIFT: u32 = 15;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

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

    /// The whole Canny driver's twins (its scalar and AVX2 builds; the row kernels inside are
    /// dispatched at run time, so they run at the machine's best level in both — each has its
    /// own twin test) give the same edges on spatter-like layers (flat zeros and smooth blobs), at
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
}
