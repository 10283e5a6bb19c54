//! Branch-free f32 elementary functions (sin, cos, sincos, atan2, log2, exp2, pow) for the procedural
//! C-bar patterns (plasma, caustics, star bursts, twirls), which evaluate several of them per
//! pixel: libm's are scalar calls that stop a loop from vectorising and cost 20–60 instructions
//! each. These are polynomials after an exact range reduction, written with plain IEEE
//! operations only (no `mul_add`, no table), so that a loop calling them vectorises, and the
//! scalar and AVX2 builds of one `dispatch!` body give the same bits (Rust never fuses a
//! multiply and an add on its own). Accuracy: a few 1e-7 absolute on sin/cos for |x| ≤ 1e4,
//! 1e-5 rad on atan2, 1e-6 relative on exp2/log2 (ALGORITHMS.md §11.11): far below what
//! an 8-bit output can show.

use std::f32::consts::{FRAC_PI_2, PI};

/// Adding and subtracting 1.5·2²³ rounds an f32 of magnitude < 2²² to the nearest integer
/// (ties to even) without `round()`, which is a libm call below SSE4.1.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// Nearest integer of `x` (|x| < 2²²), as f32.
#[inline(always)]
pub fn round_f32(x: f32) -> f32 {
    (x + ROUND_MAGIC) - ROUND_MAGIC
}

/// `floor(x)` for |x| < 2²², without a libm call.
#[inline(always)]
pub fn floor_f32(x: f32) -> f32 {
    let r = round_f32(x);
    if r > x {
        r - 1.0
    } else {
        r
    }
}

/// sin(x) for |x| ≲ 1e4: `x = jπ + r`, |r| ≤ π/2 (π split in three parts, so the reduction is
/// exact to a few ulp of `x`), an odd degree-11 polynomial in `r`, sign `(−1)^j`.
#[inline(always)]
pub fn sin(x: f32) -> f32 {
    sin_shifted(x, 0.0)
}

/// cos(x) = sin(x + π/2), with the quarter turn added after the reduction (adding it to a
/// large `x` first would round it away).
#[inline(always)]
pub fn cos(x: f32) -> f32 {
    sin_shifted(x, 0.5)
}

/// sin(x + shift·π) for shift 0 or ½. (`P2` is written out exactly: it has few enough bits
/// that `j·P2` is exact, which the reduction relies on.)
#[inline(always)]
#[allow(clippy::excessive_precision)]
fn sin_shifted(x: f32, shift: f32) -> f32 {
    const P1: f32 = 3.140_625;
    const P2: f32 = 9.675_025_939_941_406_25e-4;
    const P3: f32 = 1.509_958e-7;
    // `t` holds j in its low mantissa bits (|j| < 2²²), so j's parity is read from there:
    // `j as i32` is a saturating conversion that the vectoriser turns into scalar code.
    let t = (x * std::f32::consts::FRAC_1_PI + shift) + ROUND_MAGIC;
    let j = t - ROUND_MAGIC;
    let r = (((x - j * P1) - j * P2) - j * P3) + shift * PI;
    let r2 = r * r;
    // Taylor coefficients to r^11: error < 6e-8 on |r| ≤ π/2.
    let p = -2.505_210_8e-8f32;
    let p = p * r2 + 2.755_731_9e-6;
    let p = p * r2 - 1.984_127e-4;
    let p = p * r2 + 8.333_333_3e-3;
    let p = p * r2 - 1.666_666_7e-1;
    let s = r + r * r2 * p;
    // (−1)^j through the sign bit.
    let odd = t.to_bits() & 1;
    f32::from_bits(s.to_bits() ^ (odd << 31))
}

/// sin(x) and cos(x) together for |x| ≲ 1e4 (caustic_refraction's feedback states stay within ~260): one
/// reduction `x = j·π/2 + r`, |r| ≤ π/4 (π/2 split in three parts, exact to a few ulp of
/// `x`), then degree-7 sine and degree-8 cosine Taylor polynomials (error < 4e-7 on
/// |r| ≤ π/4), swapped and signed by the quadrant `j mod 4`. Half the reduction work and
/// shorter polynomials than two [`sin`] calls; plain IEEE operations only, so the
/// scalar and AVX2 builds give the same bits.
#[inline(always)]
#[allow(clippy::excessive_precision)]
pub fn sincos(x: f32) -> (f32, f32) {
    // π/2 = Q1 + Q2 + Q3, Q1 and Q2 with few enough bits that j·Q1, j·Q2 are exact
    const Q1: f32 = 1.570_312_5;
    const Q2: f32 = 4.837_512_969_970_703_125e-4;
    const Q3: f32 = 7.549_789_9e-8;
    // `t` holds j in its low mantissa bits (see `sin_shifted`)
    let t = x * std::f32::consts::FRAC_2_PI + ROUND_MAGIC;
    let j = t - ROUND_MAGIC;
    let r = ((x - j * Q1) - j * Q2) - j * Q3;
    let r2 = r * r;
    let ps = -1.984_127e-4f32;
    let ps = ps * r2 + 8.333_333_3e-3;
    let ps = ps * r2 - 1.666_666_7e-1;
    let sr = r + r * r2 * ps;
    let pc = 2.480_158_7e-5f32;
    let pc = pc * r2 - 1.388_888_9e-3;
    let pc = pc * r2 + 4.166_666_8e-2;
    let pc = pc * r2 - 0.5;
    let cr = 1.0 + r2 * pc;
    let q = t.to_bits();
    // odd quadrants swap sine and cosine; sin is negative in quadrants 2, 3, cos in 1, 2
    let (s, c) = if q & 1 == 1 { (cr, sr) } else { (sr, cr) };
    let sneg = (q & 2) << 30;
    let cneg = ((q + 1) & 2) << 30;
    (
        f32::from_bits(s.to_bits() ^ sneg),
        f32::from_bits(c.to_bits() ^ cneg),
    )
}

/// atan2(y, x) in `(−π, π]`, error < 1e-5 rad; `atan2(0, 0) = 0`.
#[inline(always)]
pub fn atan2(y: f32, x: f32) -> f32 {
    let ax = x.abs();
    let ay = y.abs();
    let mx = ax.max(ay);
    let mn = ax.min(ay);
    let a = if mx > 0.0 { mn / mx } else { 0.0 };
    // atan on [0, 1]: odd minimax polynomial of degree 11 (error ≤ 1e-5 rad).
    let s = a * a;
    let p = -0.011_721_2f32;
    let p = p * s + 0.052_653_32;
    let p = p * s - 0.116_432_87;
    let p = p * s + 0.193_543_46;
    let p = p * s - 0.332_623_47;
    let p = p * s + 0.999_977_26;
    let mut r = a * p;
    if ay > ax {
        r = FRAC_PI_2 - r;
    }
    if x < 0.0 {
        r = PI - r;
    }
    if y < 0.0 {
        -r
    } else {
        r
    }
}

/// log2(x) for finite x > 0 (normal numbers): exponent plus a polynomial of the mantissa in
/// `[√½, √2)`.
#[inline(always)]
pub fn log2(x: f32) -> f32 {
    let bits = x.to_bits() as i32;
    // shift the mantissa range to [√½, √2) so the polynomial is centred on 1
    let off = bits - 0x3f35_04f3;
    let e = off >> 23;
    let m = f32::from_bits((bits - (e << 23)) as u32);
    let t = (m - 1.0) / (m + 1.0); // |t| ≤ 0.1716
    let t2 = t * t;
    // ln(m) = 2·atanh(t) = 2(t + t³/3 + t⁵/5 + t⁷/7 + t⁹/9)
    let p = t2 * (1.0 / 9.0) + 1.0 / 7.0;
    let p = p * t2 + 1.0 / 5.0;
    let p = p * t2 + 1.0 / 3.0;
    let p = p * t2 + 1.0;
    e as f32 + 2.0 * std::f32::consts::LOG2_E * t * p
}

/// 2^x, clamped to `[2⁻¹²⁶, 2¹²⁷]`.
#[inline(always)]
pub fn exp2(x: f32) -> f32 {
    let x = x.clamp(-126.0, 127.0);
    // j = round(x), also as an integer read from the mantissa of `t` (see `sin_shifted`)
    let t = x + ROUND_MAGIC;
    let j = t - ROUND_MAGIC;
    let ji = t.to_bits() as i32 - ROUND_MAGIC.to_bits() as i32;
    let f = x - j; // |f| ≤ ½
    let l = std::f32::consts::LN_2 * f;
    // e^l, |l| ≤ 0.347: Taylor to l^7 (error < 2e-8)
    let p = l * (1.0 / 5040.0) + 1.0 / 720.0;
    let p = p * l + 1.0 / 120.0;
    let p = p * l + 1.0 / 24.0;
    let p = p * l + 1.0 / 6.0;
    let p = p * l + 0.5;
    let p = p * l + 1.0;
    let p = p * l + 1.0;
    f32::from_bits((p.to_bits() as i32 + (ji << 23)) as u32)
}

/// x^y for x > 0 (0 for x ≤ 0, as the callers' `x` never is and 0^y would be 0 there).
#[inline(always)]
pub fn pow(x: f32, y: f32) -> f32 {
    if x > 0.0 {
        exp2(y * log2(x.max(f32::MIN_POSITIVE)))
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sin_cos_match_libm() {
        let mut worst: f32 = 0.0;
        for i in -200_000..200_000 {
            let x = i as f32 * 0.01731;
            worst = worst.max((sin(x) - x.sin()).abs());
            worst = worst.max((cos(x) - x.cos()).abs());
        }
        assert!(worst < 2e-6, "worst {worst}");
        assert_eq!(sin(0.0), 0.0);
    }

    /// The joint sine and cosine stay within 4e-7 of libm's over the feedback's range, in
    /// every quadrant (either sign of `x`, and across the quadrant boundaries).
    #[test]
    fn sincos_matches_libm() {
        let mut worst = 0.0f64;
        for i in -400_000..=400_000 {
            let x = i as f32 * 7.3e-4;
            let (s, c) = sincos(x);
            let xd = f64::from(x);
            worst = worst
                .max((f64::from(s) - xd.sin()).abs())
                .max((f64::from(c) - xd.cos()).abs());
        }
        assert!(worst < 4e-7, "worst {worst}");
        let (s, c) = sincos(std::f32::consts::FRAC_PI_2 * 3.0);
        assert!((s + 1.0).abs() < 1e-6 && c.abs() < 1e-6);
    }

    #[test]
    fn atan2_matches_libm() {
        let mut worst: f32 = 0.0;
        for i in -300..300 {
            for j in -300..300 {
                let (y, x) = (i as f32 * 0.37, j as f32 * 0.41);
                worst = worst.max((atan2(y, x) - y.atan2(x)).abs());
            }
        }
        assert!(worst < 2e-5, "worst {worst}");
        assert_eq!(atan2(0.0, 0.0), 0.0);
    }

    #[test]
    fn log_exp_pow_match_libm() {
        for i in 1..20_000 {
            let x = i as f32 * 0.0137;
            let rel = |a: f32, b: f32| ((a - b) / b).abs();
            assert!((log2(x) - x.log2()).abs() < 3e-6, "log2 {x}");
            assert!(rel(pow(x, 1.4), x.powf(1.4)) < 1e-5, "pow {x}");
            assert!(rel(pow(x, 0.37), x.powf(0.37)) < 1e-5, "pow {x}");
            let e = (i as f32 - 10_000.0) * 0.002;
            assert!(rel(exp2(e), e.exp2()) < 1e-6, "exp2 {e}");
        }
        assert_eq!(pow(0.0, 2.0), 0.0);
        assert_eq!(floor_f32(-0.5), -1.0);
        assert_eq!(floor_f32(2.0), 2.0);
        assert_eq!(floor_f32(2.7), 2.0);
    }
}
