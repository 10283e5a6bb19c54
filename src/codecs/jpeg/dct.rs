//! The lossy core of one 8×8 block: forward islow DCT (`jfdctint.c`), quantisation
//! (`jcdctmgr.c` `quantize`, reciprocal method), dequantisation and islow IDCT (`jidctint.c`),
//! written back in place as 8-bit samples; and the encoder half alone (FDCT + quantisation to
//! the coefficients a JPEG file stores).
//!
//! libjpeg-turbo runs these steps with its SIMD kernels (`jfdctint-avx2.asm`,
//! `jquanti-avx2.asm`, `jidctint-avx2.asm`), which keep intermediate values in 16-bit lanes. The
//! scalar code below reproduces those 16-bit points exactly (wrapping 16-bit sums where the SIMD
//! code adds 16-bit words, saturation where it packs), so scalar, our AVX2 twin and Pillow agree
//! bit for bit on every input, including ones no real encoder would produce.

use super::tables::Divisors;

// Fixed-point constants of the LL&M DCT, CONST_BITS = 13 (`FIX(x) = round(x·2^13)`).
const F_0_298: i32 = 2446;
const F_0_390: i32 = 3196;
const F_0_541: i32 = 4433;
const F_0_765: i32 = 6270;
const F_0_899: i32 = 7373;
const F_1_175: i32 = 9633;
const F_1_501: i32 = 12299;
const F_1_847: i32 = 15137;
const F_1_961: i32 = 16069;
const F_2_053: i32 = 16819;
const F_2_562: i32 = 20995;
const F_3_072: i32 = 25172;

const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

/// `DESCALE(x, n)`: round-half-up arithmetic right shift.
#[inline(always)]
fn descale(x: i32, n: u32) -> i32 {
    (x + (1 << (n - 1))) >> n
}

/// Saturate to `i16` (`packssdw`).
#[inline(always)]
fn sat16(x: i32) -> i16 {
    x.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

/// 16-bit wrapping add / sub, as `paddw` / `psubw`.
#[inline(always)]
fn add16(a: i16, b: i16) -> i16 {
    a.wrapping_add(b)
}
#[inline(always)]
fn sub16(a: i16, b: i16) -> i16 {
    a.wrapping_sub(b)
}

/// One 1-D forward DCT (`jpeg_fdct_islow`, one row or column) on eight 16-bit samples.
/// `pass` is 1 (rows: outputs scaled by `2^PASS1_BITS`) or 2 (columns: fully descaled).
#[inline(always)]
fn fdct_1d(x: [i16; 8], pass: u32) -> [i16; 8] {
    let tmp0 = add16(x[0], x[7]);
    let tmp7 = sub16(x[0], x[7]);
    let tmp1 = add16(x[1], x[6]);
    let tmp6 = sub16(x[1], x[6]);
    let tmp2 = add16(x[2], x[5]);
    let tmp5 = sub16(x[2], x[5]);
    let tmp3 = add16(x[3], x[4]);
    let tmp4 = sub16(x[3], x[4]);

    // Even part.
    let tmp10 = add16(tmp0, tmp3);
    let tmp13 = sub16(tmp0, tmp3);
    let tmp11 = add16(tmp1, tmp2);
    let tmp12 = sub16(tmp1, tmp2);

    let (o0, o4, n) = if pass == 1 {
        (
            add16(tmp10, tmp11).wrapping_shl(PASS1_BITS) as i32,
            sub16(tmp10, tmp11).wrapping_shl(PASS1_BITS) as i32,
            CONST_BITS - PASS1_BITS,
        )
    } else {
        // SIMD: 16-bit add of the rounding constant, then arithmetic shift.
        (
            (add16(add16(tmp10, tmp11), 1 << (PASS1_BITS - 1)) >> PASS1_BITS) as i32,
            (add16(sub16(tmp10, tmp11), 1 << (PASS1_BITS - 1)) >> PASS1_BITS) as i32,
            CONST_BITS + PASS1_BITS,
        )
    };
    let (t12, t13) = (tmp12 as i32, tmp13 as i32);
    // z1 = (tmp12 + tmp13)·c6 folded into two products each (exact in 32 bits).
    let o2 = t13 * (F_0_541 + F_0_765) + t12 * F_0_541;
    let o6 = t13 * F_0_541 + t12 * (F_0_541 - F_1_847);

    // Odd part (LL&M figure 8, with the products regrouped as in the SIMD code).
    let z3 = add16(tmp4, tmp6) as i32;
    let z4 = add16(tmp5, tmp7) as i32;
    let z3r = z3 * (F_1_175 - F_1_961) + z4 * F_1_175;
    let z4r = z3 * F_1_175 + z4 * (F_1_175 - F_0_390);
    let (t4, t5, t6, t7) = (tmp4 as i32, tmp5 as i32, tmp6 as i32, tmp7 as i32);
    let o7 = t4 * (F_0_298 - F_0_899) + t7 * -F_0_899 + z3r;
    let o5 = t5 * (F_2_053 - F_2_562) + t6 * -F_2_562 + z4r;
    let o3 = t5 * -F_2_562 + t6 * (F_3_072 - F_2_562) + z3r;
    let o1 = t4 * -F_0_899 + t7 * (F_1_501 - F_0_899) + z4r;

    [
        sat16(o0),
        sat16(descale(o1, n)),
        sat16(descale(o2, n)),
        sat16(descale(o3, n)),
        sat16(o4),
        sat16(descale(o5, n)),
        sat16(descale(o6, n)),
        sat16(descale(o7, n)),
    ]
}

/// One 1-D inverse DCT (`jpeg_idct_islow`, one column or row); `n` is the final descale shift
/// (`CONST_BITS − PASS1_BITS` for columns, `CONST_BITS + PASS1_BITS + 3` for rows). Outputs are
/// saturated to 16 bits (`packssdw`).
#[inline(always)]
fn idct_1d(x: [i16; 8], n: u32) -> [i16; 8] {
    // Even part.
    let (x2, x6) = (x[2] as i32, x[6] as i32);
    let tmp3 = x2 * (F_0_541 + F_0_765) + x6 * F_0_541;
    let tmp2 = x2 * F_0_541 + x6 * (F_0_541 - F_1_847);
    let tmp0 = (add16(x[0], x[4]) as i32) << CONST_BITS;
    let tmp1 = (sub16(x[0], x[4]) as i32) << CONST_BITS;
    let tmp10 = tmp0 + tmp3;
    let tmp13 = tmp0 - tmp3;
    let tmp11 = tmp1 + tmp2;
    let tmp12 = tmp1 - tmp2;

    // Odd part.
    let z3 = add16(x[7], x[3]) as i32;
    let z4 = add16(x[5], x[1]) as i32;
    let z3r = z3 * (F_1_175 - F_1_961) + z4 * F_1_175;
    let z4r = z3 * F_1_175 + z4 * (F_1_175 - F_0_390);
    let (x1, x3, x5, x7) = (x[1] as i32, x[3] as i32, x[5] as i32, x[7] as i32);
    let t0 = x7 * (F_0_298 - F_0_899) + x1 * -F_0_899 + z3r;
    let t3 = x7 * -F_0_899 + x1 * (F_1_501 - F_0_899) + z4r;
    let t1 = x5 * (F_2_053 - F_2_562) + x3 * -F_2_562 + z4r;
    let t2 = x5 * -F_2_562 + x3 * (F_3_072 - F_2_562) + z3r;

    [
        sat16(descale(tmp10 + t3, n)),
        sat16(descale(tmp11 + t2, n)),
        sat16(descale(tmp12 + t1, n)),
        sat16(descale(tmp13 + t0, n)),
        sat16(descale(tmp13 - t0, n)),
        sat16(descale(tmp12 - t1, n)),
        sat16(descale(tmp11 - t2, n)),
        sat16(descale(tmp10 - t3, n)),
    ]
}

/// Forward DCT of one block of level-shifted samples (row-major), as `jpeg_fdct_islow`:
/// pass 1 over rows, pass 2 over columns. Output is scaled up by 8 (natural order).
pub(crate) fn fdct_block(ws: &mut [i16; 64]) {
    for r in 0..8 {
        let row: [i16; 8] = ws[r * 8..r * 8 + 8].try_into().unwrap();
        ws[r * 8..r * 8 + 8].copy_from_slice(&fdct_1d(row, 1));
    }
    for c in 0..8 {
        let col: [i16; 8] = std::array::from_fn(|r| ws[r * 8 + c]);
        let out = fdct_1d(col, 2);
        for r in 0..8 {
            ws[r * 8 + c] = out[r];
        }
    }
}

/// `quantize` (reciprocal form, identical to `jsimd_quantize_avx2`): FDCT output (natural
/// order) → quantised coefficients, the values the encoder entropy-codes.
pub(crate) fn quantise_block(ws: &mut [i16; 64], d: &Divisors) {
    for (i, w) in ws.iter_mut().enumerate() {
        let x = *w;
        // |x| + corr in 16 bits unsigned, then (·recip) >> 16, then (·scale) >> 16.
        let t = x.unsigned_abs().wrapping_add(d.corr[i]);
        let t = ((u32::from(t) * u32::from(d.recip[i])) >> 16) as u16;
        let t = ((u32::from(t) * u32::from(d.scale[i])) >> 16) as i16;
        // psignw: negate for negative input (for zero input `t` is already 0, see tests).
        let sign = x >> 15;
        *w = (t ^ sign).wrapping_sub(sign);
    }
}

/// [`quantise_block`] followed by the decoder's dequantisation (`coef · quantval`, a 16-bit
/// multiply in `jsimd_idct_islow_avx2`).
pub(crate) fn quant_dequant_block(ws: &mut [i16; 64], d: &Divisors) {
    quantise_block(ws, d);
    for (w, &q) in ws.iter_mut().zip(&d.quant) {
        *w = w.wrapping_mul(q);
    }
}

/// Inverse DCT of one dequantised block (`jpeg_idct_islow`: pass 1 over columns, pass 2 over
/// rows) to 8-bit samples, range-limited by saturation (`packsswb` + 128), written to `out` with
/// row stride `stride`.
pub(crate) fn idct_block(ws: &mut [i16; 64], out: &mut [u8], stride: usize) {
    for c in 0..8 {
        let col: [i16; 8] = std::array::from_fn(|r| ws[r * 8 + c]);
        let o = idct_1d(col, CONST_BITS - PASS1_BITS);
        for r in 0..8 {
            ws[r * 8 + c] = o[r];
        }
    }
    for r in 0..8 {
        let row: [i16; 8] = ws[r * 8..r * 8 + 8].try_into().unwrap();
        let o = idct_1d(row, CONST_BITS + PASS1_BITS + 3);
        let dst = &mut out[r * stride..r * stride + 8];
        for (d, v) in dst.iter_mut().zip(o) {
            *d = (v.clamp(-128, 127) + 128) as u8;
        }
    }
}

/// The one sample value of a block whose only non-zero dequantised coefficient is the DC `dc`,
/// as [`idct_block`] computes it: the column pass gives `sat16(DESCALE(dc << 13, 11))` =
/// `sat16(4·dc)` in every row of column 0 (zero elsewhere), the row pass
/// `DESCALE(that << 13, 18)` = `(that + 16) >> 5` everywhere, then the range limit.
#[inline(always)]
pub(crate) fn dc_only_sample(dc: i16) -> u8 {
    let v = sat16(4 * i32::from(dc));
    ((i32::from(v) + 16) >> 5).clamp(-128, 127) as u8 ^ 0x80
}

/// `convsamp`: one 8×8 block of a plane (`stride` bytes per row), level-shifted by −128.
fn load_block(plane: &[u8], stride: usize) -> [i16; 64] {
    std::array::from_fn(|i| i16::from(plane[(i / 8) * stride + i % 8]) - 128)
}

/// Full lossy round trip of one 8×8 block stored in a plane (`stride` bytes per row), in place:
/// `convsamp` (−128) → FDCT → quantise → dequantise → IDCT → +128 with range limiting.
pub(crate) fn roundtrip_block_scalar(plane: &mut [u8], stride: usize, d: &Divisors) {
    let mut ws = load_block(plane, stride);
    fdct_block(&mut ws);
    quant_dequant_block(&mut ws, d);
    idct_block(&mut ws, plane, stride);
}

/// Encoder half only: `convsamp` → FDCT → quantise, for the blocks at `offs` (offsets of their
/// top-left samples) into `out` (one block each, natural order), scalar.
pub(crate) fn coef_blocks_scalar(
    plane: &[u8],
    stride: usize,
    offs: &[usize],
    d: &Divisors,
    out: &mut [[i16; 64]],
) {
    assert_eq!(offs.len(), out.len());
    for (&o, blk) in offs.iter().zip(out) {
        *blk = load_block(&plane[o..], stride);
        fdct_block(blk);
        quantise_block(blk, d);
    }
}

/// Round trip of a list of blocks of one plane (offsets of their top-left samples), scalar.
pub(crate) fn roundtrip_blocks_scalar(
    plane: &mut [u8],
    stride: usize,
    offs: &[usize],
    d: &Divisors,
) {
    for &o in offs {
        roundtrip_block_scalar(&mut plane[o..], stride, d);
    }
}

/// Decoder path: dequantise (`coef · quant` as a wrapping 16-bit multiply, as
/// `jsimd_idct_islow_avx2` does) and inverse-DCT a run of horizontally adjacent blocks (natural
/// coefficient order) into `out`: block `i` lands at columns `8i..8i+8` of rows `0..8` (row
/// stride `stride`).
pub(crate) fn idct_blocks_scalar(
    blocks: &[[i16; 64]],
    quant: &[i16; 64],
    out: &mut [u8],
    stride: usize,
) {
    for (i, blk) in blocks.iter().enumerate() {
        let mut ws: [i16; 64] = std::array::from_fn(|k| blk[k].wrapping_mul(quant[k]));
        idct_block(&mut ws, &mut out[8 * i..], stride);
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    //! AVX2 twin: two blocks at a time, one per 128-bit lane, every row of both blocks in one
    //! `__m256i` of sixteen `i16`. Same 16-bit arithmetic as `jfdctint-avx2.asm`,
    //! `jquanti-avx2.asm` and `jidctint-avx2.asm` (products via `vpmaddwd` on interleaved pairs).

    use super::super::tables::Divisors;
    use super::*;
    use std::arch::x86_64::*;

    /// Pair constant `(a, b)` for `vpmaddwd` on `unpack(x, y)`: `x·a + y·b`.
    #[inline(always)]
    unsafe fn pair(a: i32, b: i32) -> __m256i {
        _mm256_set1_epi32((a & 0xffff) | (b << 16))
    }

    /// In-lane 8×8 transpose of 16-bit elements (both blocks at once).
    #[inline(always)]
    unsafe fn transpose(v: [__m256i; 8]) -> [__m256i; 8] {
        let t0 = _mm256_unpacklo_epi16(v[0], v[1]);
        let t1 = _mm256_unpackhi_epi16(v[0], v[1]);
        let t2 = _mm256_unpacklo_epi16(v[2], v[3]);
        let t3 = _mm256_unpackhi_epi16(v[2], v[3]);
        let t4 = _mm256_unpacklo_epi16(v[4], v[5]);
        let t5 = _mm256_unpackhi_epi16(v[4], v[5]);
        let t6 = _mm256_unpacklo_epi16(v[6], v[7]);
        let t7 = _mm256_unpackhi_epi16(v[6], v[7]);
        let u0 = _mm256_unpacklo_epi32(t0, t2);
        let u1 = _mm256_unpackhi_epi32(t0, t2);
        let u2 = _mm256_unpacklo_epi32(t1, t3);
        let u3 = _mm256_unpackhi_epi32(t1, t3);
        let u4 = _mm256_unpacklo_epi32(t4, t6);
        let u5 = _mm256_unpackhi_epi32(t4, t6);
        let u6 = _mm256_unpacklo_epi32(t5, t7);
        let u7 = _mm256_unpackhi_epi32(t5, t7);
        [
            _mm256_unpacklo_epi64(u0, u4),
            _mm256_unpackhi_epi64(u0, u4),
            _mm256_unpacklo_epi64(u1, u5),
            _mm256_unpackhi_epi64(u1, u5),
            _mm256_unpacklo_epi64(u2, u6),
            _mm256_unpackhi_epi64(u2, u6),
            _mm256_unpacklo_epi64(u3, u7),
            _mm256_unpackhi_epi64(u3, u7),
        ]
    }

    /// `x·ca + y·cb` for all 16 lanes, as two `i32` halves (lo = lanes 0–3, hi = lanes 4–7 of
    /// each 128-bit lane) from the pre-interleaved pairs `lo`/`hi`.
    #[inline(always)]
    unsafe fn madd2(lo: __m256i, hi: __m256i, c: __m256i) -> (__m256i, __m256i) {
        (_mm256_madd_epi16(lo, c), _mm256_madd_epi16(hi, c))
    }

    /// `DESCALE` by `N` of an `i32` pair and pack to `i16` with saturation.
    #[inline(always)]
    unsafe fn descale_pack<const N: i32>(a: (__m256i, __m256i)) -> __m256i {
        let r = _mm256_set1_epi32(1 << (N - 1));
        let lo = _mm256_srai_epi32::<N>(_mm256_add_epi32(a.0, r));
        let hi = _mm256_srai_epi32::<N>(_mm256_add_epi32(a.1, r));
        _mm256_packs_epi32(lo, hi)
    }

    /// Arithmetic shift by `N` of an `i32` pair whose rounding term is already added, and pack
    /// to `i16` with saturation.
    #[inline(always)]
    unsafe fn shift_pack<const N: i32>(a: (__m256i, __m256i)) -> __m256i {
        _mm256_packs_epi32(_mm256_srai_epi32::<N>(a.0), _mm256_srai_epi32::<N>(a.1))
    }

    /// `a + 2^(N−1)` on an `i32` pair (the `DESCALE` rounding term, added once to a value that
    /// several outputs share).
    #[inline(always)]
    unsafe fn round32<const N: i32>(a: (__m256i, __m256i)) -> (__m256i, __m256i) {
        let r = _mm256_set1_epi32(1 << (N - 1));
        (_mm256_add_epi32(a.0, r), _mm256_add_epi32(a.1, r))
    }

    #[inline(always)]
    unsafe fn add32(a: (__m256i, __m256i), b: (__m256i, __m256i)) -> (__m256i, __m256i) {
        (_mm256_add_epi32(a.0, b.0), _mm256_add_epi32(a.1, b.1))
    }

    #[inline(always)]
    unsafe fn sub32(a: (__m256i, __m256i), b: (__m256i, __m256i)) -> (__m256i, __m256i) {
        (_mm256_sub_epi32(a.0, b.0), _mm256_sub_epi32(a.1, b.1))
    }

    #[inline(always)]
    unsafe fn unpack(a: __m256i, b: __m256i) -> (__m256i, __m256i) {
        (_mm256_unpacklo_epi16(a, b), _mm256_unpackhi_epi16(a, b))
    }

    /// 1-D forward DCT across the eight vectors (see `fdct_1d`). `PASS2` selects the column
    /// pass; `N` is its descale shift.
    #[inline(always)]
    unsafe fn fdct_pass<const PASS2: bool, const N: i32>(x: [__m256i; 8]) -> [__m256i; 8] {
        let tmp0 = _mm256_add_epi16(x[0], x[7]);
        let tmp7 = _mm256_sub_epi16(x[0], x[7]);
        let tmp1 = _mm256_add_epi16(x[1], x[6]);
        let tmp6 = _mm256_sub_epi16(x[1], x[6]);
        let tmp2 = _mm256_add_epi16(x[2], x[5]);
        let tmp5 = _mm256_sub_epi16(x[2], x[5]);
        let tmp3 = _mm256_add_epi16(x[3], x[4]);
        let tmp4 = _mm256_sub_epi16(x[3], x[4]);

        let tmp10 = _mm256_add_epi16(tmp0, tmp3);
        let tmp13 = _mm256_sub_epi16(tmp0, tmp3);
        let tmp11 = _mm256_add_epi16(tmp1, tmp2);
        let tmp12 = _mm256_sub_epi16(tmp1, tmp2);

        let s = _mm256_add_epi16(tmp10, tmp11);
        let d = _mm256_sub_epi16(tmp10, tmp11);
        let (o0, o4) = if PASS2 {
            let r = _mm256_set1_epi16(1 << (PASS1_BITS - 1));
            (
                _mm256_srai_epi16::<2>(_mm256_add_epi16(s, r)),
                _mm256_srai_epi16::<2>(_mm256_add_epi16(d, r)),
            )
        } else {
            // The row pass gets the samples without `convsamp`'s −128 (see `pair_fdct`): of
            // all the pass's terms only the sum of the eight inputs sees it, as −1024.
            (
                _mm256_slli_epi16::<2>(_mm256_sub_epi16(s, _mm256_set1_epi16(1024))),
                _mm256_slli_epi16::<2>(d),
            )
        };

        let (l, h) = unpack(tmp13, tmp12);
        let o2 = descale_pack::<N>(madd2(l, h, pair(F_0_541 + F_0_765, F_0_541)));
        let o6 = descale_pack::<N>(madd2(l, h, pair(F_0_541, F_0_541 - F_1_847)));

        let z3 = _mm256_add_epi16(tmp4, tmp6);
        let z4 = _mm256_add_epi16(tmp5, tmp7);
        let (l, h) = unpack(z3, z4);
        // The rounding term rides on z3/z4, which each odd output adds once.
        let z3r = round32::<N>(madd2(l, h, pair(F_1_175 - F_1_961, F_1_175)));
        let z4r = round32::<N>(madd2(l, h, pair(F_1_175, F_1_175 - F_0_390)));

        let (l, h) = unpack(tmp4, tmp7);
        let o7 = shift_pack::<N>(add32(madd2(l, h, pair(F_0_298 - F_0_899, -F_0_899)), z3r));
        let o1 = shift_pack::<N>(add32(madd2(l, h, pair(-F_0_899, F_1_501 - F_0_899)), z4r));
        let (l, h) = unpack(tmp5, tmp6);
        let o5 = shift_pack::<N>(add32(madd2(l, h, pair(F_2_053 - F_2_562, -F_2_562)), z4r));
        let o3 = shift_pack::<N>(add32(madd2(l, h, pair(-F_2_562, F_3_072 - F_2_562)), z3r));

        [o0, o1, o2, o3, o4, o5, o6, o7]
    }

    /// 1-D inverse DCT across the eight vectors (see `idct_1d`), descale shift `N`.
    #[inline(always)]
    unsafe fn idct_pass<const N: i32>(x: [__m256i; 8]) -> [__m256i; 8] {
        let (l, h) = unpack(x[2], x[6]);
        let tmp3 = madd2(l, h, pair(F_0_541 + F_0_765, F_0_541));
        let tmp2 = madd2(l, h, pair(F_0_541, F_0_541 - F_1_847));
        let zero = _mm256_setzero_si256();
        let s = _mm256_add_epi16(x[0], x[4]);
        let d = _mm256_sub_epi16(x[0], x[4]);
        // (s << 16) >> 3 = s << 13, sign-extended.
        // The rounding term of every output rides on tmp0/tmp1 (each output adds one of them).
        let tmp0 = round32::<N>((
            _mm256_srai_epi32::<3>(_mm256_unpacklo_epi16(zero, s)),
            _mm256_srai_epi32::<3>(_mm256_unpackhi_epi16(zero, s)),
        ));
        let tmp1 = round32::<N>((
            _mm256_srai_epi32::<3>(_mm256_unpacklo_epi16(zero, d)),
            _mm256_srai_epi32::<3>(_mm256_unpackhi_epi16(zero, d)),
        ));
        let tmp10 = add32(tmp0, tmp3);
        let tmp13 = sub32(tmp0, tmp3);
        let tmp11 = add32(tmp1, tmp2);
        let tmp12 = sub32(tmp1, tmp2);

        let z3 = _mm256_add_epi16(x[7], x[3]);
        let z4 = _mm256_add_epi16(x[5], x[1]);
        let (l, h) = unpack(z3, z4);
        let z3r = madd2(l, h, pair(F_1_175 - F_1_961, F_1_175));
        let z4r = madd2(l, h, pair(F_1_175, F_1_175 - F_0_390));
        let (l, h) = unpack(x[7], x[1]);
        let t0 = add32(madd2(l, h, pair(F_0_298 - F_0_899, -F_0_899)), z3r);
        let t3 = add32(madd2(l, h, pair(-F_0_899, F_1_501 - F_0_899)), z4r);
        let (l, h) = unpack(x[5], x[3]);
        let t1 = add32(madd2(l, h, pair(F_2_053 - F_2_562, -F_2_562)), z4r);
        let t2 = add32(madd2(l, h, pair(-F_2_562, F_3_072 - F_2_562)), z3r);

        [
            shift_pack::<N>(add32(tmp10, t3)),
            shift_pack::<N>(add32(tmp11, t2)),
            shift_pack::<N>(add32(tmp12, t1)),
            shift_pack::<N>(add32(tmp13, t0)),
            shift_pack::<N>(sub32(tmp13, t0)),
            shift_pack::<N>(sub32(tmp12, t1)),
            shift_pack::<N>(sub32(tmp11, t2)),
            shift_pack::<N>(sub32(tmp10, t3)),
        ]
    }

    /// [`idct_pass`] when inputs 4–7 are zero in every lane (only the 4×4 lowest frequencies
    /// of both blocks are non-zero: most blocks at the low qualities of jpeg_compression).
    /// With `x4..x7 = 0` the 16-bit sums `x0 ± x4`, `x7 + x3`, `x5 + x1` are `x0`, `x3`, `x1`,
    /// so each of the eight 32-bit terms is `x_a·c + x_b·d` for one input pair and constants
    /// folded from `jidctint.c`'s (every folded constant fits 16 bits): one `vpmaddwd` each,
    /// the same integers as the full pass.
    #[inline(always)]
    unsafe fn idct_pass4<const N: i32>(x: &[__m256i]) -> [__m256i; 8] {
        let (l, h) = unpack(x[0], x[2]);
        let one = 1 << CONST_BITS;
        let tmp10 = round32::<N>(madd2(l, h, pair(one, F_0_541 + F_0_765)));
        let tmp13 = round32::<N>(madd2(l, h, pair(one, -(F_0_541 + F_0_765))));
        let tmp11 = round32::<N>(madd2(l, h, pair(one, F_0_541)));
        let tmp12 = round32::<N>(madd2(l, h, pair(one, -F_0_541)));
        let (l, h) = unpack(x[1], x[3]);
        let t0 = madd2(l, h, pair(F_1_175 - F_0_899, F_1_175 - F_1_961));
        let t3 = madd2(l, h, pair(F_1_501 - F_0_899 + F_1_175 - F_0_390, F_1_175));
        let t1 = madd2(l, h, pair(F_1_175 - F_0_390, F_1_175 - F_2_562));
        let t2 = madd2(l, h, pair(F_1_175, F_3_072 - F_2_562 + F_1_175 - F_1_961));
        [
            shift_pack::<N>(add32(tmp10, t3)),
            shift_pack::<N>(add32(tmp11, t2)),
            shift_pack::<N>(add32(tmp12, t1)),
            shift_pack::<N>(add32(tmp13, t0)),
            shift_pack::<N>(sub32(tmp13, t0)),
            shift_pack::<N>(sub32(tmp12, t1)),
            shift_pack::<N>(sub32(tmp11, t2)),
            shift_pack::<N>(sub32(tmp10, t3)),
        ]
    }

    /// Per-row table vectors (same table in both lanes).
    pub(crate) struct Tabs {
        recip: [__m256i; 8],
        corr: [__m256i; 8],
        scale: [__m256i; 8],
        quant: [__m256i; 8],
    }

    #[inline(always)]
    unsafe fn row_vec(t: &[u16; 64], r: usize) -> __m256i {
        let v = _mm_loadu_si128(t[r * 8..].as_ptr() as *const __m128i);
        _mm256_set_m128i(v, v)
    }

    /// Broadcasts the divisor tables row by row.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn tabs(d: &Divisors) -> Tabs {
        let quant: [u16; 64] = std::array::from_fn(|i| d.quant[i] as u16);
        Tabs {
            recip: std::array::from_fn(|r| row_vec(&d.recip, r)),
            corr: std::array::from_fn(|r| row_vec(&d.corr, r)),
            scale: std::array::from_fn(|r| row_vec(&d.scale, r)),
            quant: std::array::from_fn(|r| row_vec(&quant, r)),
        }
    }

    /// `convsamp` + FDCT of two blocks (top-left pointers `a`, `b`, row stride `stride`): `v[r]`
    /// is coefficient row `r` (natural order), block `a` in lane 0 and `b` in lane 1.
    #[inline(always)]
    unsafe fn pair_fdct(a: *const u8, b: *const u8, stride: usize) -> [__m256i; 8] {
        // Row `r` of both blocks: lane 0 = a's 8 samples, lane 1 = b's (upper halves unused).
        let row = |r: usize| {
            let la = _mm_loadl_epi64(a.add(r * stride) as *const __m128i);
            let lb = _mm_loadl_epi64(b.add(r * stride) as *const __m128i);
            _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(la), lb)
        };
        // The row pass needs columns: transpose the samples as bytes, before widening (12
        // shuffles on four registers instead of 24 on eight, and no per-row widening).
        let p01 = _mm256_unpacklo_epi8(row(0), row(1)); // (r0, r1) pairs, columns 0..8
        let p23 = _mm256_unpacklo_epi8(row(2), row(3));
        let p45 = _mm256_unpacklo_epi8(row(4), row(5));
        let p67 = _mm256_unpacklo_epi8(row(6), row(7));
        let q0 = _mm256_unpacklo_epi16(p01, p23); // rows 0..4 of columns 0..4
        let q1 = _mm256_unpackhi_epi16(p01, p23); // rows 0..4 of columns 4..8
        let q2 = _mm256_unpacklo_epi16(p45, p67); // rows 4..8 of columns 0..4
        let q3 = _mm256_unpackhi_epi16(p45, p67); // rows 4..8 of columns 4..8
        let cols = [
            _mm256_unpacklo_epi32(q0, q2), // columns 0, 1 (8 samples each)
            _mm256_unpackhi_epi32(q0, q2), // 2, 3
            _mm256_unpacklo_epi32(q1, q3), // 4, 5
            _mm256_unpackhi_epi32(q1, q3), // 6, 7
        ];
        // Widened without `convsamp`'s −128: every term of the row pass but the DC's is a
        // difference of two inputs, where the level shift cancels, so the pass subtracts
        // 8·128 from the sum once instead of 128 from each of the eight inputs (the same 16-bit
        // values: the un-shifted sums stay far below 2^15).
        let zero = _mm256_setzero_si256();
        let mut v: [__m256i; 8] = [zero; 8];
        for (k, c) in cols.iter().enumerate() {
            v[2 * k] = _mm256_unpacklo_epi8(*c, zero);
            v[2 * k + 1] = _mm256_unpackhi_epi8(*c, zero);
        }
        // FDCT: rows (vectors are columns), then columns.
        let v = fdct_pass::<false, { (CONST_BITS - PASS1_BITS) as i32 }>(v);
        fdct_pass::<true, { (CONST_BITS + PASS1_BITS) as i32 }>(transpose(v))
    }

    // `vpmulhuw` kept opaque to LLVM (it had rewritten [`quantise`]'s two chained high
    // multiplies into 11 instructions per row instead of 2).
    use crate::simd::avx2::mulhi_epu16 as mulhi;

    /// Quantise the coefficient rows of [`pair_fdct`] in place (see `quantise_block`).
    #[inline(always)]
    unsafe fn quantise(v: &mut [__m256i; 8], t: &Tabs) {
        for (r, vr) in v.iter_mut().enumerate() {
            let x = *vr;
            let q = _mm256_add_epi16(_mm256_abs_epi16(x), t.corr[r]);
            let q = mulhi(q, t.recip[r]);
            let q = mulhi(q, t.scale[r]);
            *vr = _mm256_sign_epi16(q, x);
        }
    }

    /// Round trip of two blocks (top-left pointers `a`, `b`, row stride `stride`), in place.
    #[inline(always)]
    unsafe fn pair_roundtrip(a: *mut u8, b: *mut u8, stride: usize, t: &Tabs) {
        let mut v = pair_fdct(a, b, stride);
        quantise(&mut v, t);
        // Dequantise.
        for (r, vr) in v.iter_mut().enumerate() {
            *vr = _mm256_mullo_epi16(*vr, t.quant[r]);
        }
        idct_store(v, a, b, stride);
    }

    /// IDCT of two dequantised blocks (`v[r]` = coefficient row `r`, block `a` in lane 0, `b`
    /// in lane 1), range-limited and stored at `a` and `b` (row stride `stride`).
    #[inline(always)]
    unsafe fn idct_store(v: [__m256i; 8], a: *mut u8, b: *mut u8, stride: usize) {
        // Both blocks DC-only (every AC coefficient zero, the common case at low quality and in
        // flat areas): the two passes reduce to a constant per block, computed exactly as they
        // would compute it (see `dc_only_sample`), so the bytes are the same.
        let ac = _mm256_or_si256(
            _mm256_or_si256(_mm256_or_si256(v[1], v[2]), _mm256_or_si256(v[3], v[4])),
            _mm256_or_si256(
                _mm256_or_si256(v[5], v[6]),
                _mm256_or_si256(
                    v[7],
                    _mm256_and_si256(
                        v[0],
                        _mm256_set_epi64x(
                            -1,
                            0xffff_ffff_ffff_0000u64 as i64,
                            -1,
                            0xffff_ffff_ffff_0000u64 as i64,
                        ),
                    ),
                ),
            ),
        );
        if _mm256_testz_si256(ac, ac) != 0 {
            let da = _mm256_extract_epi16::<0>(v[0]) as i16;
            let db = _mm256_extract_epi16::<8>(v[0]) as i16;
            let fa = u64::from(dc_only_sample(da)) * 0x0101_0101_0101_0101;
            let fb = u64::from(dc_only_sample(db)) * 0x0101_0101_0101_0101;
            for r in 0..8 {
                (a.add(r * stride) as *mut u64).write_unaligned(fa);
                (b.add(r * stride) as *mut u64).write_unaligned(fb);
            }
            return;
        }
        // Only the 4×4 lowest frequencies non-zero (rows 4–7 zero, and columns 4–7 of rows
        // 0–3, which the column pass maps to zero rows 4–7 of the row pass's input).
        let hi_cols = _mm256_set_epi64x(-1, 0, -1, 0);
        let outer = _mm256_or_si256(
            _mm256_or_si256(_mm256_or_si256(v[4], v[5]), _mm256_or_si256(v[6], v[7])),
            _mm256_and_si256(
                _mm256_or_si256(_mm256_or_si256(v[0], v[1]), _mm256_or_si256(v[2], v[3])),
                hi_cols,
            ),
        );
        // IDCT: columns (vectors are rows → element-wise pass is vertical), then rows.
        let v = if _mm256_testz_si256(outer, outer) != 0 {
            let v = idct_pass4::<{ (CONST_BITS - PASS1_BITS) as i32 }>(&v[..4]);
            idct_pass4::<{ (CONST_BITS + PASS1_BITS + 3) as i32 }>(&transpose(v)[..4])
        } else {
            let v = idct_pass::<{ (CONST_BITS - PASS1_BITS) as i32 }>(v);
            idct_pass::<{ (CONST_BITS + PASS1_BITS + 3) as i32 }>(transpose(v))
        };
        store_cols(v, a, b, stride);
    }

    /// Range-limits the IDCT output `v` (`v[x]` = output column `x`, block `a` in lane 0, `b`
    /// in lane 1) and stores the rows at `a` and `b` (row stride `stride`). The transpose back
    /// to rows is done on the packed bytes: 12 shuffles on four registers instead of 24 on eight.
    #[inline(always)]
    unsafe fn store_cols(v: [__m256i; 8], a: *mut u8, b: *mut u8, stride: usize) {
        // Saturate to i8 and re-centre: each lane holds columns (x, x + 4), 8 rows each.
        let bias = _mm256_set1_epi8(-128);
        let c04 = _mm256_xor_si256(_mm256_packs_epi16(v[0], v[4]), bias);
        let c15 = _mm256_xor_si256(_mm256_packs_epi16(v[1], v[5]), bias);
        let c26 = _mm256_xor_si256(_mm256_packs_epi16(v[2], v[6]), bias);
        let c37 = _mm256_xor_si256(_mm256_packs_epi16(v[3], v[7]), bias);
        let p = _mm256_unpacklo_epi8(c04, c15); // (c0, c1) pairs, rows 0..8
        let q = _mm256_unpackhi_epi8(c04, c15); // (c4, c5)
        let r = _mm256_unpacklo_epi8(c26, c37); // (c2, c3)
        let s = _mm256_unpackhi_epi8(c26, c37); // (c6, c7)
        let pr0 = _mm256_unpacklo_epi16(p, r); // columns 0..4 of rows 0..4
        let pr1 = _mm256_unpackhi_epi16(p, r); // columns 0..4 of rows 4..8
        let qs0 = _mm256_unpacklo_epi16(q, s); // columns 4..8 of rows 0..4
        let qs1 = _mm256_unpackhi_epi16(q, s); // columns 4..8 of rows 4..8
        let rows = [
            _mm256_unpacklo_epi32(pr0, qs0), // rows 0, 1
            _mm256_unpackhi_epi32(pr0, qs0), // 2, 3
            _mm256_unpacklo_epi32(pr1, qs1), // 4, 5
            _mm256_unpackhi_epi32(pr1, qs1), // 6, 7
        ];
        for (k, rr) in rows.iter().enumerate() {
            let lo = _mm256_castsi256_si128(*rr);
            let hi = _mm256_extracti128_si256::<1>(*rr);
            let r = 2 * k;
            _mm_storel_epi64(a.add(r * stride) as *mut __m128i, lo);
            _mm_storeh_pd(a.add((r + 1) * stride) as *mut f64, _mm_castsi128_pd(lo));
            _mm_storel_epi64(b.add(r * stride) as *mut __m128i, hi);
            _mm_storeh_pd(b.add((r + 1) * stride) as *mut f64, _mm_castsi128_pd(hi));
        }
    }

    /// FDCT + quantisation of two blocks into `oa` (lane 0) and, if given, `ob` (lane 1).
    #[inline(always)]
    unsafe fn pair_coefs(
        a: *const u8,
        b: *const u8,
        stride: usize,
        t: &Tabs,
        oa: &mut [i16; 64],
        ob: Option<&mut [i16; 64]>,
    ) {
        let mut v = pair_fdct(a, b, stride);
        quantise(&mut v, t);
        for (r, vr) in v.iter().enumerate() {
            _mm_storeu_si128(
                oa.as_mut_ptr().add(r * 8) as *mut __m128i,
                _mm256_castsi256_si128(*vr),
            );
        }
        if let Some(ob) = ob {
            for (r, vr) in v.iter().enumerate() {
                _mm_storeu_si128(
                    ob.as_mut_ptr().add(r * 8) as *mut __m128i,
                    _mm256_extracti128_si256::<1>(*vr),
                );
            }
        }
    }

    /// See `coef_blocks_scalar`; two blocks at a time.
    ///
    /// # Safety
    /// AVX2 must be available; every offset must address a full 8×8 block inside `plane`.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn coef_blocks(
        plane: &[u8],
        stride: usize,
        offs: &[usize],
        d: &Divisors,
        out: &mut [[i16; 64]],
    ) {
        assert_eq!(offs.len(), out.len());
        for &o in offs {
            assert!(o + 7 * stride + 8 <= plane.len());
        }
        let t = tabs(d);
        let base = plane.as_ptr();
        let mut chunks = offs.chunks_exact(2);
        let mut outs = out.chunks_exact_mut(2);
        for (p, o) in (&mut chunks).zip(&mut outs) {
            let (oa, ob) = o.split_at_mut(1);
            let (a, b) = (base.add(p[0]), base.add(p[1]));
            pair_coefs(a, b, stride, &t, &mut oa[0], Some(&mut ob[0]));
        }
        if let ([o], [oa]) = (chunks.remainder(), outs.into_remainder()) {
            // Lone block: computed in both lanes, lane 0 kept.
            pair_coefs(base.add(*o), base.add(*o), stride, &t, oa, None);
        }
    }

    /// Round trip of a list of blocks of one plane, two at a time.
    ///
    /// # Safety
    /// AVX2 must be available; every offset must address a full 8×8 block inside `plane`.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn roundtrip_blocks(
        plane: &mut [u8],
        stride: usize,
        offs: &[usize],
        d: &Divisors,
    ) {
        for &o in offs {
            assert!(o + 7 * stride + 8 <= plane.len());
        }
        let t = tabs(d);
        let base = plane.as_mut_ptr();
        let mut chunks = offs.chunks_exact(2);
        for p in &mut chunks {
            pair_roundtrip(base.add(p[0]), base.add(p[1]), stride, &t);
        }
        if let [o] = chunks.remainder() {
            // Lone block: run it in both lanes (the two stores write identical bytes).
            pair_roundtrip(base.add(*o), base.add(*o), stride, &t);
        }
    }

    /// Dequantised coefficient rows of one block and the table, both lanes: block `a` in
    /// lane 0, `b` in lane 1.
    #[inline(always)]
    unsafe fn load_dequant(a: &[i16; 64], b: &[i16; 64], q: &[__m256i; 8]) -> [__m256i; 8] {
        // A plain loop: `array::from_fn` stopped being inlined here once `idct_store` grew its
        // DC-only branch (an out-of-line call per block pair, +85 % decoder IDCT instructions).
        let mut v = [_mm256_setzero_si256(); 8];
        for (r, vr) in v.iter_mut().enumerate() {
            let la = _mm_loadu_si128(a.as_ptr().add(r * 8) as *const __m128i);
            let lb = _mm_loadu_si128(b.as_ptr().add(r * 8) as *const __m128i);
            *vr = _mm256_mullo_epi16(_mm256_set_m128i(lb, la), q[r]);
        }
        v
    }

    /// See `idct_blocks_scalar`; two blocks at a time.
    ///
    /// # Safety
    /// AVX2 must be available; `out` must hold rows `0..8` of `8·blocks.len()` samples at
    /// stride `stride` (checked).
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn idct_blocks(
        blocks: &[[i16; 64]],
        quant: &[i16; 64],
        out: &mut [u8],
        stride: usize,
    ) {
        if blocks.is_empty() {
            return;
        }
        assert!(8 * blocks.len() <= stride && 7 * stride + 8 * blocks.len() <= out.len());
        let qu: [u16; 64] = std::array::from_fn(|i| quant[i] as u16);
        let q: [__m256i; 8] = std::array::from_fn(|r| row_vec(&qu, r));
        let base = out.as_mut_ptr();
        let mut pairs = blocks.chunks_exact(2);
        let mut x = 0;
        for p in &mut pairs {
            let v = load_dequant(&p[0], &p[1], &q);
            idct_store(v, base.add(x), base.add(x + 8), stride);
            x += 16;
        }
        if let [blk] = pairs.remainder() {
            // Lone block: computed in both lanes (the two stores write identical bytes).
            let v = load_dequant(blk, blk, &q);
            idct_store(v, base.add(x), base.add(x), stride);
        }
    }
}
