//! Colour conversion: `jccolor.c` `rgb_ycc_convert` (encoder) and `jdcolor.c`
//! `ycc_rgb_convert` (decoder), 16-bit fixed point (`SCALEBITS = 16`).
//!
//! libjpeg builds lookup tables of `FIX(coef)·i`; the sums below are the same integers, computed
//! directly. The SIMD twins regroup the products so every constant fits in 16 bits (as
//! `jccolext-avx2.asm` / `jdcolext-avx2.asm` do); the regrouping is exact in integer arithmetic.

// Encoder constants, FIX(x) = round(x·2^16).
const FIX_0_29900: i32 = 19595;
const FIX_0_58700: i32 = 38470;
const FIX_0_11400: i32 = 7471;
const FIX_0_16874: i32 = 11059;
const FIX_0_33126: i32 = 21709;
const FIX_0_50000: i32 = 32768;
const FIX_0_41869: i32 = 27439;
const FIX_0_08131: i32 = 5329;
const ONE_HALF: i32 = 1 << 15;
/// `CBCR_OFFSET + ONE_HALF − 1`: the Cb/Cr rounding term (rounds 0.5 down).
const CBCR_ROUND: i32 = (128 << 16) + ONE_HALF - 1;

// Decoder constants.
const FIX_1_40200: i32 = 91881;
const FIX_1_77200: i32 = 116130;
const FIX_0_71414: i32 = 46802;
const FIX_0_34414: i32 = 22554;

/// One pixel RGB → YCbCr (`rgb_ycc_convert`).
#[inline(always)]
pub(crate) fn rgb_to_ycc_px(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let y = (FIX_0_29900 * r + FIX_0_58700 * g + FIX_0_11400 * b + ONE_HALF) >> 16;
    let cb = (-FIX_0_16874 * r - FIX_0_33126 * g + FIX_0_50000 * b + CBCR_ROUND) >> 16;
    let cr = (FIX_0_50000 * r - FIX_0_41869 * g - FIX_0_08131 * b + CBCR_ROUND) >> 16;
    (y as u8, cb as u8, cr as u8)
}

/// One pixel YCbCr → RGB (`ycc_rgb_convert`, with `range_limit` clamping).
#[inline(always)]
pub(crate) fn ycc_to_rgb_px(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = i32::from(y);
    let cb = i32::from(cb) - 128;
    let cr = i32::from(cr) - 128;
    let r = y + ((FIX_1_40200 * cr + ONE_HALF) >> 16);
    let g = y + ((-FIX_0_34414 * cb + ONE_HALF - FIX_0_71414 * cr) >> 16);
    let b = y + ((FIX_1_77200 * cb + ONE_HALF) >> 16);
    [
        r.clamp(0, 255) as u8,
        g.clamp(0, 255) as u8,
        b.clamp(0, 255) as u8,
    ]
}

/// Converts `y.len()` RGB pixels of `rgb` to the three component rows.
pub(crate) fn rgb_to_ycc_row_scalar(rgb: &[u8], y: &mut [u8], cb: &mut [u8], cr: &mut [u8]) {
    let n = y.len();
    for (i, px) in rgb[..3 * n].chunks_exact(3).enumerate() {
        let (a, b, c) = rgb_to_ycc_px(px[0], px[1], px[2]);
        y[i] = a;
        cb[i] = b;
        cr[i] = c;
    }
}

/// Converts `rgb.len() / 3` pixels from the component rows to interleaved RGB.
pub(crate) fn ycc_to_rgb_row_scalar(y: &[u8], cb: &[u8], cr: &[u8], rgb: &mut [u8]) {
    for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
        px.copy_from_slice(&ycc_to_rgb_px(y[i], cb[i], cr[i]));
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    //! AVX2 colour conversion: RGB → YCbCr 16 pixels per step on 16-bit pairs via `vpmaddwd`
    //! (each output rounds a sum of three products once, which needs 32-bit sums, as in
    //! `jccolext-avx2.asm`); YCbCr → RGB 16 pixels per step in 16-bit lanes.

    use super::*;
    use std::arch::x86_64::*;

    #[inline(always)]
    unsafe fn pair(a: i32, b: i32) -> __m256i {
        _mm256_set1_epi32((a & 0xffff) | (b << 16))
    }

    /// RGB → YCbCr for `y.len()` pixels, 16 per step (rows under 16 pixels 8 per step).
    ///
    /// # Safety
    /// AVX2 must be available; `rgb.len() >= 3·y.len()`, `cb`/`cr` at least `y.len()` long.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn rgb_to_ycc_row(rgb: &[u8], y: &mut [u8], cb: &mut [u8], cr: &mut [u8]) {
        let n = y.len();
        assert!(rgb.len() >= 3 * n && cb.len() >= n && cr.len() >= n);
        // Per 128-bit lane: four pixels at bytes 0..12 → (R,G) and (B,G) 16-bit pairs.
        let m_rg = _mm256_broadcastsi128_si256(_mm_setr_epi8(
            0, -1, 1, -1, 3, -1, 4, -1, 6, -1, 7, -1, 9, -1, 10, -1,
        ));
        let m_bg = _mm256_broadcastsi128_si256(_mm_setr_epi8(
            2, -1, 1, -1, 5, -1, 4, -1, 8, -1, 7, -1, 11, -1, 10, -1,
        ));
        // Y = R·0.299 + G·(0.587 − 0.25) + B·0.114 + G·0.25.
        let c_y_rg = pair(FIX_0_29900, FIX_0_58700 - 16384);
        let c_y_bg = pair(FIX_0_11400, 16384);
        let c_cb_rg = pair(-FIX_0_16874, -FIX_0_33126);
        let c_cr_bg = pair(-FIX_0_08131, -FIX_0_41869);
        // −2^15 on the first of a pair: `vpmaddwd` gives −(R << 15) from (R, G) and −(B << 15)
        // from (B, G), the 0.5·R of Cr and 0.5·B of Cb in one instruction each (instead of a
        // mask and a shift).
        let c_m15 = pair(-FIX_0_50000, 0);
        let half = _mm256_set1_epi32(ONE_HALF);
        let cround = _mm256_set1_epi32(CBCR_ROUND);
        let perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        // The same shuffles for lane 1 loaded 4 bytes earlier (the row's last step).
        let m_rg_end = _mm256_add_epi8(
            m_rg,
            _mm256_and_si256(
                _mm256_set_epi64x(0x0404040404040404, 0x0404040404040404, 0, 0),
                _mm256_cmpgt_epi8(m_rg, _mm256_set1_epi8(-1)),
            ),
        );
        let m_bg_end = _mm256_add_epi8(
            m_bg,
            _mm256_and_si256(
                _mm256_set_epi64x(0x0404040404040404, 0x0404040404040404, 0, 0),
                _mm256_cmpgt_epi8(m_bg, _mm256_set1_epi8(-1)),
            ),
        );
        let src = rgb.as_ptr();
        // Y, Cb, Cr of 8 pixels from `lo` (pixels 0..4, 16 bytes) and `hi` (pixels 4..8 at
        // byte 0, or at byte 4 with the `_end` shuffles) as dwords (lane 0: pixels 0..4).
        macro_rules! calc {
            ($lo:expr, $hi:expr, $m_rg:expr, $m_bg:expr) => {{
                let v = _mm256_set_m128i(
                    _mm_loadu_si128($hi as *const __m128i),
                    _mm_loadu_si128($lo as *const __m128i),
                );
                let rg = _mm256_shuffle_epi8(v, $m_rg);
                let bg = _mm256_shuffle_epi8(v, $m_bg);
                let yy = _mm256_add_epi32(
                    _mm256_add_epi32(_mm256_madd_epi16(rg, c_y_rg), _mm256_madd_epi16(bg, c_y_bg)),
                    half,
                );
                let cbv = _mm256_add_epi32(
                    _mm256_sub_epi32(_mm256_madd_epi16(rg, c_cb_rg), _mm256_madd_epi16(bg, c_m15)),
                    cround,
                );
                let crv = _mm256_add_epi32(
                    _mm256_sub_epi32(_mm256_madd_epi16(bg, c_cr_bg), _mm256_madd_epi16(rg, c_m15)),
                    cround,
                );
                (
                    _mm256_srli_epi32::<16>(yy),
                    _mm256_srli_epi32::<16>(cbv),
                    _mm256_srli_epi32::<16>(crv),
                )
            }};
        }
        // 8 pixels (see `calc`) into the outputs at `x`.
        macro_rules! step {
            ($lo:expr, $hi:expr, $m_rg:expr, $m_bg:expr, $x:expr) => {{
                let (yy, cbv, crv) = calc!($lo, $hi, $m_rg, $m_bg);
                // Lane k: [Y(4), Cb(4), Cr(4), Cr(4)] bytes → dwords reordered to Y8 Cb8 Cr8.
                let p16a = _mm256_packus_epi32(yy, cbv);
                let p16b = _mm256_packus_epi32(crv, crv);
                let p8 = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(p16a, p16b), perm);
                let lo = _mm256_castsi256_si128(p8);
                let hi = _mm256_extracti128_si256::<1>(p8);
                _mm_storel_epi64(y.as_mut_ptr().add($x) as *mut __m128i, lo);
                _mm_storel_epi64(
                    cb.as_mut_ptr().add($x) as *mut __m128i,
                    _mm_unpackhi_epi64(lo, lo),
                );
                _mm_storel_epi64(cr.as_mut_ptr().add($x) as *mut __m128i, hi);
            }};
        }
        // 16 pixels at `x`: two 8-pixel halves, the second with the `_end` shuffles so that
        // the loads end at byte 48; packed together into 16-byte stores.
        macro_rules! step16 {
            ($x:expr) => {{
                let x: usize = $x;
                let p = src.add(3 * x);
                let (ya, cba, cra) = calc!(p, p.add(12), m_rg, m_bg);
                let (yb, cbb, crb) = calc!(p.add(24), p.add(32), m_rg_end, m_bg_end);
                // Lane k words: [pixels 4k..4k+4, 8+4k..8+4k+4]; after the byte packs the
                // dwords are Y0 Y8 Cb0 Cb8 | Y4 Y12 Cb4 Cb12 (4 pixels each), put in order.
                let yw = _mm256_packus_epi32(ya, yb);
                let cbw = _mm256_packus_epi32(cba, cbb);
                let crw = _mm256_packus_epi32(cra, crb);
                let ycb = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(yw, cbw), perm);
                let crr = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(crw, crw), perm);
                _mm_storeu_si128(
                    y.as_mut_ptr().add(x) as *mut __m128i,
                    _mm256_castsi256_si128(ycb),
                );
                _mm_storeu_si128(
                    cb.as_mut_ptr().add(x) as *mut __m128i,
                    _mm256_extracti128_si256::<1>(ycb),
                );
                _mm_storeu_si128(
                    cr.as_mut_ptr().add(x) as *mut __m128i,
                    _mm256_castsi256_si128(crr),
                );
            }};
        }
        if n >= 16 {
            let mut x = 0;
            while x + 16 <= n {
                step16!(x);
                x += 16;
            }
            if x < n {
                // The last 16 pixels again, overlapping what is done (the same values).
                step16!(n - 16);
            }
            return;
        }
        let mut x = 0;
        while x + 10 <= n {
            let p = src.add(3 * x);
            step!(p, p.add(12), m_rg, m_bg, x);
            x += 8;
        }
        if x < n {
            if n >= 8 {
                // The last 8 pixels again, overlapping what is done (same values), with
                // lane 1 loaded at byte 8 so that no load passes the end of `rgb` (a scalar
                // tail cost ~30 % of the row time at 224 pixels).
                if n - x > 8 {
                    // 9 left: pixel x is not in the last 8
                    let p = src.add(3 * x);
                    step!(p, p.add(8), m_rg_end, m_bg_end, x);
                }
                let x0 = n - 8;
                let p = src.add(3 * x0);
                step!(p, p.add(8), m_rg_end, m_bg_end, x0);
            } else {
                rgb_to_ycc_row_scalar(&rgb[3 * x..], &mut y[x..], &mut cb[x..], &mut cr[x..]);
            }
        }
    }

    /// Byte `k` of an interleaved RGB run taken from the per-lane `[R0 … R7 G0 … G7]` bytes
    /// (`from_rg`) or the `[B0 … B7]` bytes (`!from_rg`); −1 (zero) where the other source
    /// supplies it. `k` runs over `first..first + 16`, past 24 are zeros.
    const fn rgb_shuffle(first: usize, from_rg: bool) -> [i8; 16] {
        let mut m = [-1i8; 16];
        let mut i = 0;
        while i < 16 {
            let k = first + i;
            if k < 24 {
                let (p, c) = (k / 3, k % 3);
                if from_rg && c < 2 {
                    m[i] = (8 * c + p) as i8;
                } else if !from_rg && c == 2 {
                    m[i] = p as i8;
                }
            }
            i += 1;
        }
        m
    }
    const RG_LO: [i8; 16] = rgb_shuffle(0, true);
    const B_LO: [i8; 16] = rgb_shuffle(0, false);
    const RG_HI: [i8; 16] = rgb_shuffle(16, true);
    const B_HI: [i8; 16] = rgb_shuffle(16, false);

    #[inline(always)]
    unsafe fn lanes(m: [i8; 16]) -> __m256i {
        _mm256_broadcastsi128_si256(_mm_loadu_si128(m.as_ptr() as *const __m128i))
    }

    /// Constants of [`ycc16_to_rgb`], made once per row.
    pub(crate) struct YccConsts {
        one: __m256i,
        k_r: __m256i,
        k_b: __m256i,
        k_g: __m256i,
        half: __m256i,
        rg_lo: __m256i,
        b_lo: __m256i,
        rg_hi: __m256i,
        b_hi: __m256i,
    }

    impl YccConsts {
        #[inline(always)]
        pub(crate) unsafe fn new() -> Self {
            YccConsts {
                one: _mm256_set1_epi16(1),
                k_r: _mm256_set1_epi16((FIX_1_40200 - 65536) as i16),
                k_b: _mm256_set1_epi16((FIX_1_77200 - 131072) as i16),
                // G = Y + ((−0.34414·Cb + 0.28586·Cr + ½) >> 16) − Cr.
                k_g: pair(-FIX_0_34414, 65536 - FIX_0_71414),
                half: _mm256_set1_epi32(ONE_HALF),
                rg_lo: lanes(RG_LO),
                b_lo: lanes(B_LO),
                rg_hi: lanes(RG_HI),
                b_hi: lanes(B_HI),
            }
        }
    }

    /// YCbCr → RGB of 16 pixels in 16-bit lanes (as `jdcolext-avx2.asm`): `yv` the Y samples,
    /// `cbv`/`crv` the chroma samples minus 128, eight pixels per 128-bit lane. Returns per lane
    /// the 24 interleaved RGB bytes of its eight pixels: bytes 0..16 in `.0`, 16..24 in the low
    /// half of `.1`.
    ///
    /// R and B take one rounded product of a single component each, which `vpmulhw` computes
    /// exactly: for `c` in −128..=127 and a 16-bit constant `k`,
    /// `((2c·k) >> 16) + 1) >> 1 = (k·c + 2^15) >> 16` (nested floors). So
    /// `R = Y + Cr + round(0.402·Cr)` and `B = Y + 2·Cb + round(−0.228·Cb)` as in `jdcolor.c`'s
    /// tables. G rounds a sum of two products once, so it stays on 32-bit `vpmaddwd` pairs.
    #[inline(always)]
    pub(crate) unsafe fn ycc16_to_rgb(
        yv: __m256i,
        cbv: __m256i,
        crv: __m256i,
        k: &YccConsts,
    ) -> (__m256i, __m256i) {
        let cb2 = _mm256_add_epi16(cbv, cbv);
        let cr2 = _mm256_add_epi16(crv, crv);
        let rt = _mm256_srai_epi16::<1>(_mm256_add_epi16(_mm256_mulhi_epi16(cr2, k.k_r), k.one));
        let bt = _mm256_srai_epi16::<1>(_mm256_add_epi16(_mm256_mulhi_epi16(cb2, k.k_b), k.one));
        let r = _mm256_add_epi16(_mm256_add_epi16(yv, crv), rt);
        let b = _mm256_add_epi16(_mm256_add_epi16(yv, cb2), bt);
        let glo = _mm256_madd_epi16(_mm256_unpacklo_epi16(cbv, crv), k.k_g);
        let ghi = _mm256_madd_epi16(_mm256_unpackhi_epi16(cbv, crv), k.k_g);
        let gt = _mm256_packs_epi32(
            _mm256_srai_epi32::<16>(_mm256_add_epi32(glo, k.half)),
            _mm256_srai_epi32::<16>(_mm256_add_epi32(ghi, k.half)),
        );
        let g = _mm256_sub_epi16(_mm256_add_epi16(yv, gt), crv);
        // Per lane (8 pixels): [R0..R7 G0..G7] and [B0..B7], gathered by the shuffles.
        let rgp = _mm256_packus_epi16(r, g);
        let bp = _mm256_packus_epi16(b, b);
        let lo = _mm256_or_si256(
            _mm256_shuffle_epi8(rgp, k.rg_lo),
            _mm256_shuffle_epi8(bp, k.b_lo),
        );
        let hi = _mm256_or_si256(
            _mm256_shuffle_epi8(rgp, k.rg_hi),
            _mm256_shuffle_epi8(bp, k.b_hi),
        );
        (lo, hi)
    }

    /// Stores the 24 bytes of lane `L` of [`ycc16_to_rgb`]'s output at `o`.
    #[inline(always)]
    pub(crate) unsafe fn store_rgb8<const L: i32>(o: *mut u8, v: (__m256i, __m256i)) {
        let (lo, hi) = if L == 0 {
            (_mm256_castsi256_si128(v.0), _mm256_castsi256_si128(v.1))
        } else {
            (
                _mm256_extracti128_si256::<1>(v.0),
                _mm256_extracti128_si256::<1>(v.1),
            )
        };
        _mm_storeu_si128(o as *mut __m128i, lo);
        _mm_storel_epi64(o.add(16) as *mut __m128i, hi);
    }

    /// YCbCr → RGB for `rgb.len() / 3` pixels, 16 per step (see [`ycc16_to_rgb`]).
    ///
    /// # Safety
    /// AVX2 must be available; the component rows must hold at least `rgb.len() / 3` samples.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn ycc_to_rgb_row(y: &[u8], cb: &[u8], cr: &[u8], rgb: &mut [u8]) {
        let n = rgb.len() / 3;
        assert!(y.len() >= n && cb.len() >= n && cr.len() >= n);
        if n < 16 {
            ycc_to_rgb_row_scalar(y, cb, cr, rgb);
            return;
        }
        let c128 = _mm256_set1_epi16(128);
        let k = YccConsts::new();
        let dst = rgb.as_mut_ptr();
        macro_rules! load {
            ($p:expr, $x:expr) => {
                _mm256_cvtepu8_epi16(_mm_loadu_si128($p.as_ptr().add($x) as *const __m128i))
            };
        }
        // 16 pixels at `x` → 48 bytes at `3x` (a macro: closures would not inherit AVX2).
        macro_rules! step {
            ($x:expr) => {{
                let x: usize = $x;
                let yv = load!(y, x);
                let cbv = _mm256_sub_epi16(load!(cb, x), c128);
                let crv = _mm256_sub_epi16(load!(cr, x), c128);
                let v = ycc16_to_rgb(yv, cbv, crv, &k);
                let o = dst.add(3 * x);
                store_rgb8::<0>(o, v);
                store_rgb8::<1>(o.add(24), v);
            }};
        }
        let mut x = 0;
        while x + 16 <= n {
            step!(x);
            x += 16;
        }
        if x < n {
            // The last 16 pixels again, overlapping what is done (the same bytes), so that no
            // access passes the row's end.
            step!(n - 16);
        }
    }
}
