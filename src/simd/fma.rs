//! Portable, correctly rounded f32 fused multiply-add for the scalar twins of FMA kernels.
//!
//! Why: kernels whose AVX2 path uses FMA keep a scalar twin with the same arithmetic, so the
//! two give identical bits (house rule). `f32::mul_add` is correct but, on x86-64 builds
//! without the `fma` target feature, it is a call into the C library's `fmaf` (tens of
//! nanoseconds on CPUs without FMA, where glibc switches rounding modes; a few on CPUs with
//! it), which made the scalar fallback of the fast Gaussian ~20× slower than the previous
//! non-FMA kernel. [`fma_f32`] computes the same correctly rounded result inline with f64
//! arithmetic (musl's method): the product of two f32 is exact in f64, the sum is rounded
//! once to f64, and the only case where rounding that to f32 again differs from a single
//! rounding (an f64 result exactly halfway between two f32 values) is detected and corrected
//! from the exact error of the f64 sum.
//!
//! Scope: finite arguments whose result is not an f32 subnormal (values here are pixel levels,
//! weights and smoothed noise); then the result equals `a.mul_add(b, c)` bit for bit (tested).

/// `round_f32(a·b + c)` with a single rounding (see the module docs for the scope).
#[inline(always)]
pub fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    // Where the target has a hardware FMA at compile time (every aarch64, or x86-64 built
    // with `fma`), `mul_add` is one instruction with the same single rounding and lets the
    // compiler vectorise the scalar twin (NEON on ARM, where it is the only path).
    #[cfg(any(target_arch = "aarch64", target_feature = "fma"))]
    {
        a.mul_add(b, c)
    }
    #[cfg(not(any(target_arch = "aarch64", target_feature = "fma")))]
    {
        fma_f32_soft(a, b, c)
    }
}

/// The software path of [`fma_f32`] (also tested directly against `mul_add` on every target).
#[inline(always)]
pub fn fma_f32_soft(a: f32, b: f32, c: f32) -> f32 {
    let xy = a as f64 * b as f64; // exact: 24 + 24 significant bits
    let z = c as f64;
    let s = xy + z;
    // f64 keeps 29 more significand bits than f32: a pattern 1000…0 in them means `s` lies
    // exactly halfway between two f32 values, where a second rounding may go the wrong way.
    if s.to_bits() & 0x1fff_ffff != 0x1000_0000 {
        return s as f32;
    }
    halfway(xy, z, s)
}

/// The rare halfway case of [`fma_f32`]: if `s = round_f64(xy + z)` is inexact, move it one
/// f64 ulp towards the exact sum so that the f32 rounding goes the right way.
#[cold]
#[inline(never)]
fn halfway(xy: f64, z: f64, s: f64) -> f32 {
    // Exact error of the f64 sum (TwoSum).
    let bv = s - xy;
    let err = (xy - (s - bv)) + (z - bv);
    if err == 0.0 || !s.is_finite() {
        return s as f32; // exact: the tie is real and f32 rounding breaks it to even
    }
    let bits = s.to_bits();
    // Increasing the bit pattern moves away from zero.
    let away = (err > 0.0) == (s > 0.0);
    f64::from_bits(if away { bits + 1 } else { bits - 1 }) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64* (deterministic test values).
    fn next(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    #[test]
    fn equals_mul_add_on_random_and_halfway_cases() {
        let mut st = 0x1234_5678_9abc_def1u64;
        let mut checked = 0;
        for i in 0..2_000_000u32 {
            let u = next(&mut st);
            let (a, b, c) = match i % 4 {
                // pixel-like values and weights
                0 => (
                    (u & 0xff) as f32,
                    f32::from_bits(0x3800_0000 | ((u >> 8) as u32 & 0x7f_ffff)),
                    ((u >> 32) as u32 as f32) / 1.6e7,
                ),
                // arbitrary normal magnitudes and signs
                1 => (
                    f32::from_bits(((u as u32) & 0x8fff_ffff) | 0x3000_0000),
                    f32::from_bits((((u >> 32) as u32) & 0x8fff_ffff) | 0x3000_0000),
                    f32::from_bits(((u >> 16) as u32 & 0x8fff_ffff) | 0x3000_0000),
                ),
                // halfway constructions: c ± h·(1 − k²·2⁻⁴⁶) with h half an ulp of c, which
                // the f64 sum rounds to exactly c ± h (the case the correction is for)
                _ => {
                    let c = f32::from_bits(0x3f80_0000 | (u as u32 & 0x7f_ffff));
                    let k = ((u >> 40) & 0xf) as u32;
                    let half = (c.to_bits() & 0x7f80_0000) - (24 << 23);
                    let a = f32::from_bits(half + k);
                    let b = 1.0 - k as f32 * f32::EPSILON;
                    (a, if i % 2 == 0 { b } else { -b }, c)
                }
            };
            let want = a.mul_add(b, c);
            assert_eq!(
                fma_f32_soft(a, b, c).to_bits(),
                want.to_bits(),
                "{a:e} {b:e} {c:e}"
            );
            checked += 1;
        }
        assert_eq!(checked, 2_000_000);
        // Double rounding would give 1 + 2⁻²² (tie to even); the exact sum is just below the
        // midpoint, so the answer is 1 + 2⁻²³.
        let (a, b, c) = (
            2f32.powi(-24) + 2f32.powi(-47),
            1.0 - f32::EPSILON,
            1.0 + f32::EPSILON,
        );
        assert_ne!((a as f64 * b as f64 + c as f64) as f32, 1.0 + f32::EPSILON);
        assert_eq!(fma_f32_soft(a, b, c), a.mul_add(b, c));
        assert_eq!(fma_f32_soft(a, b, c), 1.0 + f32::EPSILON);
    }
}
