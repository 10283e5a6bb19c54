//! AVX2 instructions that the compiler must not rewrite.

use std::arch::x86_64::__m256i;

/// `vpmulhuw` (the high 16 bits of each u16 × u16 product, as `_mm256_mulhi_epu16`), issued
/// through `asm!` so that LLVM keeps it one instruction. Given the intrinsic, LLVM rewrote
/// chained or packed high multiplies as zero-extensions, `vpmulld`, shifts, packs and lane
/// permutes (2–5× the instructions, most on the shuffle ports: measured in defocus_blur's rows
/// and jpeg's quantisation, callgrind).
#[target_feature(enable = "avx2")]
#[inline]
pub fn mulhi_epu16(a: __m256i, b: __m256i) -> __m256i {
    let o: __m256i;
    // SAFETY: one AVX2 register instruction (AVX2 is enabled here), no memory access.
    unsafe {
        std::arch::asm!(
            "vpmulhuw {o}, {a}, {b}",
            o = lateout(ymm_reg) o,
            a = in(ymm_reg) a,
            b = in(ymm_reg) b,
            options(pure, nomem, nostack, preserves_flags)
        )
    };
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::arch::x86_64::*;

    /// The same lanes as the intrinsic, over products whose high halves cover 0..=0xfffe.
    #[test]
    fn mulhi_is_the_intrinsic() {
        if !is_x86_feature_detected!("avx2") {
            return;
        }
        let mut k = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let mut lanes = [0u16; 32];
            for l in &mut lanes {
                k = k
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *l = (k >> 40) as u16;
            }
            lanes[0] = u16::MAX;
            lanes[16] = u16::MAX;
            // SAFETY: AVX2 is present (checked above); the loads read 32-byte arrays.
            let (got, want) = unsafe {
                let a = _mm256_loadu_si256(lanes.as_ptr() as *const __m256i);
                let b = _mm256_loadu_si256(lanes[16..].as_ptr() as *const __m256i);
                (mulhi_epu16(a, b), _mm256_mulhi_epu16(a, b))
            };
            let (mut g, mut w) = ([0u16; 16], [0u16; 16]);
            // SAFETY: stores into 32-byte arrays.
            unsafe {
                _mm256_storeu_si256(g.as_mut_ptr() as *mut __m256i, got);
                _mm256_storeu_si256(w.as_mut_ptr() as *mut __m256i, want);
            }
            assert_eq!(g, w);
            for i in 0..16 {
                assert_eq!(
                    g[i],
                    ((lanes[i] as u32 * lanes[16 + i] as u32) >> 16) as u16
                );
            }
        }
    }
}
