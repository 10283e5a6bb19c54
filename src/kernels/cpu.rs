//! Run-time CPU feature dispatch shared by every SIMD kernel.
//!
//! Kernels are compiled for several instruction sets and pick one at run time
//! with [`isa()`], so a single binary runs on any x86-64 CPU and still uses
//! AVX2 where present. The choice is made once per process: detection is
//! cheap but not free, and a kernel must never switch paths half-way through a
//! job (outputs of all paths are required to be identical anyway, but a stable
//! choice keeps timings and debugging predictable).

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
        let hw = detect();
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
}
