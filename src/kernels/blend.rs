//! Per-value final blends of the weather corruptions (fog, frost, snow, spatter), on one image
//! row of interleaved RGB values whose per-pixel terms the caller has expanded to per-value
//! runs. Each is a plain elementwise loop written with compare-and-select clamps, so the
//! compiler vectorises it; the AVX2 variant is the very same loop compiled with AVX2 enabled
//! (no FMA contraction happens in Rust), hence bit-identical to its scalar twin (tested).

use crate::kernels::cpu::{isa, Isa};

/// `clip(v, 0, 1)` with NaN → 0 (f32, select form).
#[inline(always)]
fn clip01_f32(v: f32) -> f32 {
    let v = if v > 0.0 { v } else { 0.0 };
    if v < 1.0 {
        v
    } else {
        1.0
    }
}

/// `clip(v, 0, 1)` with NaN → 0 (f64, select form).
#[inline(always)]
fn clip01_f64(v: f64) -> f64 {
    let v = if v > 0.0 { v } else { 0.0 };
    if v < 1.0 {
        v
    } else {
        1.0
    }
}

/// `trunc(clamp(v, 0, 255))` as u8, NaN → 0 (f32).
#[inline(always)]
fn to_u8_f32(v: f32) -> u8 {
    let v = if v > 0.0 { v } else { 0.0 };
    let v = if v < 255.0 { v } else { 255.0 };
    // SAFETY: v is in [0, 255].
    unsafe { v.to_int_unchecked::<i32>() as u8 }
}

/// `trunc(clamp(v, 0, 255))` as u8, NaN → 0 (f64).
#[inline(always)]
fn to_u8_f64(v: f64) -> u8 {
    let v = if v > 0.0 { v } else { 0.0 };
    let v = if v < 255.0 { v } else { 255.0 };
    // SAFETY: v is in [0, 255].
    unsafe { v.to_int_unchecked::<i32>() as u8 }
}

/// A public dispatching kernel, its scalar twin and its AVX2 build from one loop body.
macro_rules! kernel {
    ($(#[$m:meta])* fn $name:ident / $scalar:ident / $avx2:ident ($($arg:ident : $ty:ty),* $(,)?) $body:block) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        pub fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            if isa() >= Isa::Avx2 {
                // SAFETY: AVX2 support was checked at run time.
                unsafe { $avx2($($arg),*) };
                return;
            }
            $scalar($($arg),*)
        }

        /// Scalar twin (portable build of the same loop).
        #[allow(clippy::too_many_arguments)]
        pub fn $scalar($($arg: $ty),*) $body

        /// AVX2 build of the same loop.
        ///
        /// # Safety
        /// The CPU must support AVX2.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn $avx2($($arg: $ty),*) $body
    };
}

kernel! {
    /// Fog, fast mode: `trunc(clamp(v·k + f, 0, 255))` in f32.
    fn fog_fast / fog_fast_scalar / fog_fast_avx2 (src: &[u8], fog: &[f32], k: f32, dst: &mut [u8]) {
        for ((d, &s), &f) in dst.iter_mut().zip(src).zip(fog) {
            *d = to_u8_f32(s as f32 * k + f);
        }
    }
}

kernel! {
    /// Fog, numpy mode: `trunc(clip((v/255 + f)·m / denom, 0, 1)·255)` in f64 (the
    /// reference's expression and order).
    fn fog_exact / fog_exact_scalar / fog_exact_avx2 (src: &[u8], fog: &[f64], m: f64, denom: f64, dst: &mut [u8]) {
        for ((d, &s), &f) in dst.iter_mut().zip(src).zip(fog) {
            *d = to_u8_f64(clip01_f64((s as f64 / 255.0 + f) * m / denom) * 255.0);
        }
    }
}

kernel! {
    /// Frost: `trunc(clamp(a·x + b·t, 0, 255))` in f64.
    fn frost / frost_scalar / frost_avx2 (src: &[u8], tex: &[u8], a: f64, b: f64, dst: &mut [u8]) {
        for ((d, &x), &t) in dst.iter_mut().zip(src).zip(tex) {
            *d = to_u8_f64(a * x as f64 + b * t as f64);
        }
    }
}

kernel! {
    /// Snow: `y = b·x + nb·max(x, lift)` in f32 (`x = v/255`), then
    /// `trunc(clip((y + snow) + rot, 0, 1)·255)` in f64.
    fn snow / snow_scalar / snow_avx2 (src: &[u8], lift: &[f32], flakes: &[f64], rot: &[f64], b: f32, nb: f32, dst: &mut [u8]) {
        for ((((d, &v), &l), &sn), &ro) in dst.iter_mut().zip(src).zip(lift).zip(flakes).zip(rot) {
            let x = v as f32 / 255.0;
            let m = if l > x { l } else { x };
            let y = b * x + nb * m;
            *d = to_u8_f64(clip01_f64((y as f64 + sn) + ro) * 255.0);
        }
    }
}

kernel! {
    /// Spatter, water: `trunc(clip(v/255 + m·c, 0, 1)·255)` in f32 (NaN → 0).
    fn water / water_scalar / water_avx2 (src: &[u8], mask: &[f32], colour: &[f32], dst: &mut [u8]) {
        for (((d, &v), &m), &c) in dst.iter_mut().zip(src).zip(mask).zip(colour) {
            *d = to_u8_f32(clip01_f32(v as f32 / 255.0 + m * c) * 255.0);
        }
    }
}

kernel! {
    /// Spatter, mud: `x·keep` in f32 (`x = v/255`), `+ c·m` in f64,
    /// `trunc(clip(·, 0, 1)·255)`.
    fn mud / mud_scalar / mud_avx2 (src: &[u8], mask: &[f64], keep: &[f32], colour: &[f64], dst: &mut [u8]) {
        for ((((d, &v), &m), &k), &c) in dst.iter_mut().zip(src).zip(mask).zip(keep).zip(colour) {
            let x = (v as f32 / 255.0) * k;
            *d = to_u8_f64(clip01_f64(x as f64 + c * m) * 255.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic test data.
    fn data(n: usize, seed: u64) -> Vec<u64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s >> 11
            })
            .collect()
    }

    #[test]
    fn avx2_equals_scalar() {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::is_x86_feature_detected!("avx2") {
                return;
            }
            let n = 1003;
            let r = data(6 * n, 9);
            let src: Vec<u8> = r[..n].iter().map(|&v| v as u8).collect();
            let unit = |i: usize| (r[n + i] % 1_000_000) as f64 / 700_000.0 - 0.2;
            let f32s: Vec<f32> = (0..n).map(|i| unit(i) as f32).collect();
            let mut f64s: Vec<f64> = (0..n).map(|i| unit(i + n)).collect();
            f64s[5] = f64::NAN;
            let mut nanf = f32s.clone();
            nanf[7] = f32::NAN;
            let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
            let check = |a: &[u8], b: &[u8], what: &str| assert_eq!(a, b, "{what}");
            unsafe {
                fog_fast_scalar(&src, &f32s, 0.7, &mut a);
                fog_fast_avx2(&src, &f32s, 0.7, &mut b);
                check(&a, &b, "fog_fast");
                fog_exact_scalar(&src, &f64s, 0.9, 2.9, &mut a);
                fog_exact_avx2(&src, &f64s, 0.9, 2.9, &mut b);
                check(&a, &b, "fog_exact");
                frost_scalar(&src, &src[1..], 0.65, 0.7, &mut a[..n - 1]);
                frost_avx2(&src, &src[1..], 0.65, 0.7, &mut b[..n - 1]);
                check(&a, &b, "frost");
                snow_scalar(&src, &f32s, &f64s, &f64s[1..], 0.7, 0.3, &mut a);
                snow_avx2(&src, &f32s, &f64s, &f64s[1..], 0.7, 0.3, &mut b);
                check(&a, &b, "snow");
                water_scalar(&src, &nanf, &f32s, &mut a);
                water_avx2(&src, &nanf, &f32s, &mut b);
                check(&a, &b, "water");
                assert_eq!(a[7], 0, "NaN mask gives 0");
                mud_scalar(&src, &f64s, &f32s, &f64s, &mut a);
                mud_avx2(&src, &f64s, &f32s, &f64s, &mut b);
                check(&a, &b, "mud");
            }
        }
    }
}
