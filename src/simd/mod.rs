//! Run-time CPU feature dispatch, the floor of all hot code.
//!
//! Kernels are compiled for several instruction sets and pick one at run time
//! with [`isa()`], so a single binary runs on any x86-64 CPU and still uses
//! AVX2 where present. The choice is made once per process: detection is
//! cheap but not free, and a kernel must never switch paths half-way through a
//! job (outputs of all paths are required to be identical anyway, but a stable
//! choice keeps timings and debugging predictable).
//!
//! Every kernel with an AVX2 twin picks it through the one macro [`dispatch!`](crate::simd::dispatch)
//! (no hand-written `if isa() >= …` elsewhere), so the guard that makes the `unsafe` call sound
//! lives in one place. Tests compare the twins at every level the machine has by looping over
//! [`available()`] with the macro's `at` form.
//!
//! This module imports nothing from the crate: everything else may build on it.

#[cfg(target_arch = "x86_64")]
pub mod avx2;
pub mod fma;

use std::sync::OnceLock;

/// Instruction sets a kernel may be specialised for, best last.
///
/// The ordering (`Scalar < Sse41 < Avx2`) is meaningful: a kernel that has an
/// SSE4.1 path may use it whenever `isa() >= Isa::Sse41`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// Portable Rust, no explicit SIMD (auto-vectorisation only).
    Scalar,
    /// SSE4.1 (128-bit integer and float SIMD).
    Sse41,
    /// AVX2 together with FMA (256-bit SIMD). Both are required so that float
    /// kernels may rely on fused multiply-add without a second check.
    Avx2,
}

/// Name of the environment variable that caps the instruction set.
const SIMD_ENV: &str = "IMGCORRUPT_SIMD";

/// Best ISA this CPU supports (Avx2 requires avx2 AND fma), detected once
/// (`OnceLock`) with `std::is_x86_feature_detected!`.
///
/// The result is capped by the environment variable `IMGCORRUPT_SIMD`
/// (`scalar`, `sse41` or `avx2`, case-insensitive, read once at the first
/// call) so users and tests can force a slower path, e.g. to compare it with
/// the fast one or to work around a suspected SIMD bug. The variable can only
/// lower the level, never raise it above what the CPU supports; unset, empty
/// or unrecognised values (including `auto`) mean "no cap". On non-x86 targets
/// the result is always [`Isa::Scalar`].
pub fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        let hw = hardware();
        match std::env::var(SIMD_ENV).ok().as_deref().and_then(parse_cap) {
            Some(cap) => hw.min(cap),
            None => hw,
        }
    })
}

/// Parse a cap value of `IMGCORRUPT_SIMD`; `None` means no cap.
fn parse_cap(value: &str) -> Option<Isa> {
    match value.trim().to_ascii_lowercase().as_str() {
        "scalar" => Some(Isa::Scalar),
        "sse41" | "sse4.1" => Some(Isa::Sse41),
        "avx2" => Some(Isa::Avx2),
        _ => None,
    }
}

/// The best level of the hardware, without the environment cap, detected once.
fn hardware() -> Isa {
    static HW: OnceLock<Isa> = OnceLock::new();
    *HW.get_or_init(detect)
}

/// `level`, after checking that the CPU supports it (the `at` form of [`dispatch!`] calls
/// a twin of the caller's choice, so that choice must not exceed the hardware).
///
/// # Panics
/// If `level` is above what the CPU supports.
#[inline]
pub fn checked(level: Isa) -> Isa {
    assert!(
        level <= hardware(),
        "{level:?} is not supported by this CPU ({:?})",
        hardware()
    );
    level
}

/// Every level up to the hardware's best, lowest first, for tests that hold the twins of a
/// kernel equal: `for isa in simd::available() { dispatch!(at isa; …) }`. The
/// `IMGCORRUPT_SIMD` cap does not apply (a test compares all paths whatever the process uses).
#[cfg(test)]
pub fn available() -> Vec<Isa> {
    [Isa::Scalar, Isa::Sse41, Isa::Avx2]
        .into_iter()
        .filter(|&l| l <= hardware())
        .collect()
}

/// Hardware detection without the environment cap.
#[cfg(target_arch = "x86_64")]
fn detect() -> Isa {
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        Isa::Avx2
    } else if std::is_x86_feature_detected!("sse4.1") {
        Isa::Sse41
    } else {
        Isa::Scalar
    }
}

/// Hardware detection without the environment cap (non-x86: scalar only).
#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Isa {
    Isa::Scalar
}

/// Run-time dispatch between a kernel's scalar and AVX2 twins: the one place where the
/// `unsafe` call of an AVX2 function is guarded (AVX2 twins are built with
/// `#[target_feature(enable = "avx2,fma")]` or a subset, and [`Isa::Avx2`] implies both
/// features). Three forms:
///
/// * `dispatch!(f_scalar / f_avx2 (args…))`: an expression calling `f_avx2(args…)` when
///   [`isa()`] allows it, else `f_scalar(args…)`. The twins are paths (`Self::f_scalar` for
///   methods, with `self` as the first argument); the arguments are evaluated once, in the
///   branch taken. Put it where the branch may be taken once per job, outside hot loops.
/// * `dispatch!(at level; f_scalar / f_avx2 (args…))`: the same at a chosen [`Isa`] level
///   (checked against the hardware; panics above it): a pipeline that resolves its level once
///   and passes it down (the JPEG codec), and tests looping over [`available()`] so that
///   twin-equality tests run once per level the machine has.
/// * A definition, for a kernel whose AVX2 twin is the very same body compiled with AVX2 and
///   FMA enabled (Rust never contracts `a·b + c` into an FMA, so both give the same bits):
///
///   ```ignore
///   dispatch! {
///       /// Docs of the dispatcher.
///       pub fn name / name_scalar / name_avx2 <T: Bound> (a: A, b: B) -> R { body }
///   }
///   ```
///
///   defines `name` (the dispatcher), `name_scalar` and `unsafe name_avx2`, all with the
///   visibility given; the generic parameters are optional.
macro_rules! dispatch {
    (at $level:expr; $($scalar:ident)::+ / $($avx2:ident)::+ ($($arg:expr),* $(,)?)) => {
        match $crate::simd::checked($level) {
            #[cfg(target_arch = "x86_64")]
            level if level >= $crate::simd::Isa::Avx2 => {
                // SAFETY: the level was checked against the hardware; `Isa::Avx2` means that
                // AVX2 and FMA were detected.
                unsafe { $($avx2)::+($($arg),*) }
            }
            _ => $($scalar)::+($($arg),*),
        }
    };
    ($($scalar:ident)::+ / $($avx2:ident)::+ ($($arg:expr),* $(,)?)) => {
        match $crate::simd::isa() {
            #[cfg(target_arch = "x86_64")]
            level if level >= $crate::simd::Isa::Avx2 => {
                // SAFETY: `isa()` reports `Isa::Avx2` only when AVX2 and FMA were detected.
                unsafe { $($avx2)::+($($arg),*) }
            }
            _ => $($scalar)::+($($arg),*),
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident / $scalar:ident / $avx2:ident
        $(<$($g:ident : $bound:path),+>)?
        ($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name$(<$($g: $bound),+>)?($($arg: $ty),*) $(-> $ret)? {
            $crate::simd::dispatch!($scalar / $avx2 ($($arg),*))
        }

        #[doc = concat!("Scalar twin of [`", stringify!($name), "`] (portable build of its body).")]
        #[allow(clippy::too_many_arguments)]
        $vis fn $scalar$(<$($g: $bound),+>)?($($arg: $ty),*) $(-> $ret)? {
            // The body sits in an always-inlined inner function rather than directly in the
            // twins: closures and small helpers of the body are then inlined into it first and
            // the whole of it into the AVX2 twin, whereas a closure written directly inside a
            // `#[target_feature]` function is compiled as a separate, non-inlined function.
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body$(<$($g: $bound),+>)?($($arg: $ty),*) $(-> $ret)? $body
            body($($arg),*)
        }

        #[doc = concat!("AVX2 + FMA build of [`", stringify!($scalar), "`] (the same body).")]
        ///
        /// # Safety
        /// The CPU must support AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        $vis unsafe fn $avx2$(<$($g: $bound),+>)?($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body$(<$($g: $bound),+>)?($($arg: $ty),*) $(-> $ret)? $body
            body($($arg),*)
        }
    };
}
pub(crate) use dispatch;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_is_best_last() {
        assert!(Isa::Scalar < Isa::Sse41 && Isa::Sse41 < Isa::Avx2);
    }

    #[test]
    fn cap_parsing() {
        assert_eq!(parse_cap("scalar"), Some(Isa::Scalar));
        assert_eq!(parse_cap(" SSE41 "), Some(Isa::Sse41));
        assert_eq!(parse_cap("avx2"), Some(Isa::Avx2));
        assert_eq!(parse_cap(""), None);
        assert_eq!(parse_cap("auto"), None);
        assert_eq!(parse_cap("avx512"), None);
    }

    #[test]
    fn isa_is_stable_and_not_above_hardware() {
        let a = isa();
        assert_eq!(a, isa());
        assert!(a <= detect());
    }

    #[test]
    fn available_levels_are_ordered_and_end_at_the_hardware() {
        let levels = available();
        assert_eq!(levels[0], Isa::Scalar);
        assert_eq!(*levels.last().unwrap(), detect());
        assert!(levels.windows(2).all(|p| p[0] < p[1]));
        assert!(levels.iter().all(|&l| checked(l) == l));
    }

    fn twice_scalar(x: u32) -> u32 {
        2 * x
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn twice_avx2(x: u32) -> u32 {
        x + x
    }

    dispatch! {
        /// Test kernel of the definition form.
        fn sum / sum_scalar / sum_avx2 (v: &[u32]) -> u32 {
            v.iter().sum()
        }
    }

    #[test]
    fn dispatch_forms_pick_the_twins() {
        assert_eq!(dispatch!(twice_scalar / twice_avx2(21)), 42);
        for level in available() {
            assert_eq!(dispatch!(at level; twice_scalar / twice_avx2(4)), 8);
            assert_eq!(dispatch!(at level; sum_scalar / sum_avx2(&[1, 2, 3])), 6);
        }
        assert_eq!(sum(&[4, 5]), 9);
    }
}
