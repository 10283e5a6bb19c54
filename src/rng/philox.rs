//! Philox4x32-10 counter-based generator (Salmon, Moraes, Dror, Shaw,
//! "Parallel random numbers: as easy as 1, 2, 3", SC 2011), bit-compatible
//! with Random123's `philox4x32_R(10, ctr, key)`.
//!
//! Why a counter-based generator for the fast mode: block `b` of the stream is
//! a pure function of `(key, counter)`, so the stream can be produced in bulk
//! by SIMD, split across threads, or skipped ahead, without any sequential
//! state — and Philox passes BigCrush while needing only two 32x32->64
//! multiplies per round.

/// First round multiplier (applied to counter word 0).
const M0: u32 = 0xD251_1F53;
/// Second round multiplier (applied to counter word 2).
const M1: u32 = 0xCD9E_8D57;
/// Key schedule increment for key word 0 (golden ratio).
const W0: u32 = 0x9E37_79B9;
/// Key schedule increment for key word 1 (sqrt(3) - 1).
const W1: u32 = 0xBB67_AE85;
/// Number of rounds.
const ROUNDS: usize = 10;

/// High and low halves of the 64-bit product `a * b`.
#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

/// One Philox4x32-10 block: the 4 output words for counter `ctr` and key `key`.
///
/// Word order follows Random123 (`ctr.v[0..4]`, `key.v[0..2]`), so the
/// published known-answer vectors apply directly.
#[inline(always)]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = ctr;
    let mut k = key;
    for r in 0..ROUNDS {
        if r > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// Counter words of block `b` in the stream selected by `ctr_hi`.
#[inline(always)]
fn block_ctr(b: u64, ctr_hi: u64) -> [u32; 4] {
    [
        b as u32,
        (b >> 32) as u32,
        ctr_hi as u32,
        (ctr_hi >> 32) as u32,
    ]
}

/// Fill `out` with consecutive Philox blocks, choosing the best kernel for
/// this CPU (see `crate::simd::isa`).
///
/// Block `b` (for `b = first_block, first_block + 1, ...`, wrapping at 2^64)
/// uses counter words `[lo32(b), hi32(b), lo32(ctr_hi), hi32(ctr_hi)]`; its 4
/// output words go to `out[4 * (b - first_block)..][..4]`. If `out.len()` is
/// not a multiple of 4 the trailing partial block is left untouched
/// (truncated), so callers wanting whole blocks should pass a multiple of 4.
/// All kernels produce identical output.
pub fn fill_blocks(key: [u32; 2], ctr_hi: u64, first_block: u64, out: &mut [u32]) {
    crate::simd::dispatch!(fill_blocks_scalar / fill_blocks_avx2(key, ctr_hi, first_block, out))
}

/// Portable version of [`fill_blocks`] (one block at a time).
pub fn fill_blocks_scalar(key: [u32; 2], ctr_hi: u64, first_block: u64, out: &mut [u32]) {
    for (j, chunk) in out.chunks_exact_mut(4).enumerate() {
        let b = first_block.wrapping_add(j as u64);
        chunk.copy_from_slice(&philox4x32_10(block_ctr(b, ctr_hi), key));
    }
}

/// AVX2 version of [`fill_blocks`]: 8 blocks per vector group in
/// structure-of-arrays form (one 256-bit vector per counter word), using
/// `_mm256_mul_epu32` on even and odd lanes for the 32x32->64 multiplies,
/// then a 4x8 transpose to the interleaved output layout. Two groups (16
/// blocks) are processed per loop iteration for instruction-level
/// parallelism. Leftover blocks (fewer than 8) go through the scalar code.
///
/// # Safety
/// The CPU must support AVX2 (check with `crate::simd::isa` or
/// `is_x86_feature_detected!("avx2")`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub unsafe fn fill_blocks_avx2(key: [u32; 2], ctr_hi: u64, first_block: u64, out: &mut [u32]) {
    use std::arch::x86_64::*;

    /// (hi, lo) of the lane-wise 32x32->64 products `a * m` (m broadcast):
    /// `_mm256_mul_epu32` multiplies the even lanes; the odd lanes are
    /// shifted down and multiplied separately, then both are blended back.
    macro_rules! mulhilo8 {
        ($m:expr, $a:expr) => {{
            let a = $a;
            let even = _mm256_mul_epu32(a, $m);
            let odd = _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), $m);
            let lo = _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd));
            let hi = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(even), odd);
            (hi, lo)
        }};
    }
    let nblocks = out.len() / 4;
    let groups = nblocks / 8;

    let m0 = _mm256_set1_epi32(M0 as i32);
    let m1 = _mm256_set1_epi32(M1 as i32);
    /// One Philox round on a structure-of-arrays state `[x0, x1, x2, x3]`.
    macro_rules! round {
        ($x:ident, $k0:expr, $k1:expr) => {{
            let (hi0, lo0) = mulhilo8!(m0, $x[0]);
            let (hi1, lo1) = mulhilo8!(m1, $x[2]);
            $x = [
                _mm256_xor_si256(_mm256_xor_si256(hi1, $x[1]), $k0),
                lo1,
                _mm256_xor_si256(_mm256_xor_si256(hi0, $x[3]), $k1),
                lo0,
            ];
        }};
    }
    let mut rk0 = [_mm256_setzero_si256(); ROUNDS];
    let mut rk1 = [_mm256_setzero_si256(); ROUNDS];
    let mut k = key;
    for r in 0..ROUNDS {
        if r > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        rk0[r] = _mm256_set1_epi32(k[0] as i32);
        rk1[r] = _mm256_set1_epi32(k[1] as i32);
    }
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let c2 = _mm256_set1_epi32(ctr_hi as u32 as i32);
    let c3 = _mm256_set1_epi32((ctr_hi >> 32) as u32 as i32);

    // Initial SoA state of the 8 blocks starting at block `b`.
    let init = |b: u64| -> [__m256i; 4] {
        let (x0, x1) = if (b as u32) <= u32::MAX - 7 {
            // No carry into the high counter word within this group.
            (
                _mm256_add_epi32(_mm256_set1_epi32(b as u32 as i32), lanes),
                _mm256_set1_epi32((b >> 32) as u32 as i32),
            )
        } else {
            let mut lo = [0u32; 8];
            let mut hi = [0u32; 8];
            for (j, (l, h)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
                let bj = b.wrapping_add(j as u64);
                *l = bj as u32;
                *h = (bj >> 32) as u32;
            }
            // SAFETY: both arrays hold 8 u32 = 32 bytes; unaligned loads.
            unsafe {
                (
                    _mm256_loadu_si256(lo.as_ptr().cast()),
                    _mm256_loadu_si256(hi.as_ptr().cast()),
                )
            }
        };
        [x0, x1, c2, c3]
    };
    // Transpose (xk lane j = word k of block j -> out[4j + k]) and store.
    let store = |x: [__m256i; 4], dst: &mut [u32]| {
        let dst = &mut dst[..32];
        let t0 = _mm256_unpacklo_epi32(x[0], x[1]); // b0w0 b0w1 b1w0 b1w1 | b4 b5
        let t1 = _mm256_unpackhi_epi32(x[0], x[1]); // b2w0 b2w1 b3w0 b3w1 | b6 b7
        let t2 = _mm256_unpacklo_epi32(x[2], x[3]); // b0w2 b0w3 b1w2 b1w3 | b4 b5
        let t3 = _mm256_unpackhi_epi32(x[2], x[3]); // b2w2 b2w3 b3w2 b3w3 | b6 b7
        let u0 = _mm256_unpacklo_epi64(t0, t2); // block0 | block4
        let u1 = _mm256_unpackhi_epi64(t0, t2); // block1 | block5
        let u2 = _mm256_unpacklo_epi64(t1, t3); // block2 | block6
        let u3 = _mm256_unpackhi_epi64(t1, t3); // block3 | block7
        let p = dst.as_mut_ptr().cast::<__m256i>();
        // SAFETY: `dst` is exactly 32 writable u32 (sliced above); unaligned stores.
        unsafe {
            _mm256_storeu_si256(p, _mm256_permute2x128_si256::<0x20>(u0, u1));
            _mm256_storeu_si256(p.add(1), _mm256_permute2x128_si256::<0x20>(u2, u3));
            _mm256_storeu_si256(p.add(2), _mm256_permute2x128_si256::<0x31>(u0, u1));
            _mm256_storeu_si256(p.add(3), _mm256_permute2x128_si256::<0x31>(u2, u3));
        }
    };

    // Two independent 8-block groups per iteration: one group's round is a
    // ~8-cycle dependency chain (multiply latency), so interleaving a second
    // group roughly doubles throughput.
    let mut g = 0;
    while g + 2 <= groups {
        let b = first_block.wrapping_add((g * 8) as u64);
        let mut xa = init(b);
        let mut xb = init(b.wrapping_add(8));
        for r in 0..ROUNDS {
            round!(xa, rk0[r], rk1[r]);
            round!(xb, rk0[r], rk1[r]);
        }
        store(xa, &mut out[g * 32..]);
        store(xb, &mut out[g * 32 + 32..]);
        g += 2;
    }
    if g < groups {
        let mut xa = init(first_block.wrapping_add((g * 8) as u64));
        for r in 0..ROUNDS {
            round!(xa, rk0[r], rk1[r]);
        }
        store(xa, &mut out[g * 32..]);
    }
    fill_blocks_scalar(
        key,
        ctr_hi,
        first_block.wrapping_add((groups * 8) as u64),
        &mut out[groups * 32..],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::dispatch;

    /// Random123 `kat_vectors` (philox4x32 10): counter[4], key[2] -> output[4].
    /// Independently cross-checked with `randomgen` 2.5.1
    /// (`Philox(number=4, width=32, counter=ctr - 1, key=...)`, whose counter
    /// is incremented before each block), see the snippet in `stream_vectors`.
    const KAT: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        (
            [0, 0, 0, 0],
            [0, 0],
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
        ),
        (
            [0xffffffff; 4],
            [0xffffffff; 2],
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
        ),
        (
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0],
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
        ),
    ];

    #[test]
    fn known_answers() {
        for (ctr, key, want) in KAT {
            assert_eq!(philox4x32_10(ctr, key), want);
        }
    }

    #[test]
    fn known_answers_through_fill_blocks() {
        for (ctr, key, want) in KAT {
            let first = u64::from(ctr[0]) | u64::from(ctr[1]) << 32;
            let hi = u64::from(ctr[2]) | u64::from(ctr[3]) << 32;
            let mut out = [0u32; 4];
            fill_blocks(key, hi, first, &mut out);
            assert_eq!(out, want);
            fill_blocks_scalar(key, hi, first, &mut out);
            assert_eq!(out, want);
        }
    }

    /// Stream vectors, including the carry of the block counter into counter
    /// word 1. Generated with:
    /// ```python
    /// from randomgen import Philox   # randomgen 2.5.1
    /// k = [0x01234567, 0x89abcdef]; hi = 0x0000000500000007
    /// for first in (0, (1 << 32) - 2):
    ///     bg = Philox(number=4, width=32, counter=(first | hi << 64) - 1,
    ///                 key=k[0] | k[1] << 32)
    ///     print([hex(int(v)) for v in bg.random_raw(16)])
    /// ```
    #[test]
    fn stream_vectors() {
        let key = [0x01234567, 0x89abcdef];
        let hi = 0x0000_0005_0000_0007;
        let cases: [(u64, [u32; 16]); 2] = [
            (
                0,
                [
                    0x3721d154, 0x607bd6aa, 0x82ecf43b, 0xa17148aa, 0x10fe9e20, 0x56b4ca76,
                    0xe84473a8, 0x930b9ba3, 0x5705cedd, 0xf134aceb, 0x6f7af78b, 0xb7e03fd6,
                    0x6a60a6bb, 0xced3a6a0, 0xcebee197, 0xf31d53a7,
                ],
            ),
            (
                (1 << 32) - 2,
                [
                    0x78f8c7e4, 0xef88ef40, 0x0b4d5868, 0x2681f617, 0x62851755, 0xf9f63a70,
                    0x342a9c53, 0xe4945947, 0x4742c1ad, 0xcb951fe1, 0x7d66fab9, 0xf242132f,
                    0xf98da575, 0x377048b3, 0xa4e4bcbb, 0x80e6006e,
                ],
            ),
        ];
        for (first, want) in cases {
            let mut out = [0u32; 16];
            fill_blocks_scalar(key, hi, first, &mut out);
            assert_eq!(out, want);
            // A 40-block request starting 4 blocks earlier exercises the SIMD
            // groups (including one straddling the carry) and the tail.
            let mut long = [0u32; 160];
            fill_blocks(key, hi, first.wrapping_sub(4), &mut long);
            assert_eq!(long[16..32], want);
        }
    }

    #[test]
    fn partial_block_is_truncated() {
        let mut out = [0xdead_beefu32; 7];
        fill_blocks([1, 2], 3, 4, &mut out);
        assert_eq!(out[..4], philox4x32_10([4, 0, 3, 0], [1, 2]));
        assert_eq!(out[4..], [0xdead_beef; 3]);
    }

    #[test]
    fn avx2_matches_scalar() {
        let keys = [
            [0, 0],
            [0xffff_ffff, 0xffff_ffff],
            [0x243f_6a88, 0x85a3_08d3],
        ];
        let firsts = [
            0u64,
            1,
            5,
            7,
            8,
            31,
            (1 << 32) - 9,
            (1 << 32) - 3,
            u64::MAX - 12,
        ];
        let lens = [
            0usize, 1, 3, 4, 5, 31, 32, 33, 35, 63, 64, 65, 127, 128, 131, 1000, 1027,
        ];
        let mut a = vec![0u32; 1100];
        let mut b = vec![0u32; 1100];
        let levels = crate::simd::available();
        for key in keys {
            for &first in &firsts {
                for ctr_hi in [0u64, 1, 0xdead_beef_0123_4567] {
                    for (&len, isa) in lens
                        .iter()
                        .flat_map(|l| levels.iter().map(move |&i| (l, i)))
                    {
                        // Fill with different garbage so truncated tails are compared too.
                        a.iter_mut().for_each(|v| *v = 0x1111_1111);
                        b.iter_mut().for_each(|v| *v = 0x1111_1111);
                        fill_blocks_scalar(key, ctr_hi, first, &mut a[..len]);
                        dispatch!(at isa; fill_blocks_scalar / fill_blocks_avx2(key, ctr_hi, first, &mut b[..len]));
                        assert_eq!(a, b, "key {key:?} first {first} hi {ctr_hi} len {len}");
                    }
                }
            }
        }
    }
}
