//! The held-out guard (ALGORITHMS.md §2): training on benchmark (`common`) corruptions invalidates the
//! benchmark for that model, so say so once per process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use super::Augment;
use crate::catalogue::{Corruption, Subset};

static ONCE: Once = Once::new();
static EMITTED: AtomicBool = AtomicBool::new(false);

/// Whether the benchmark-corruption warning has been printed in this process.
pub fn benchmark_warning_emitted() -> bool {
    EMITTED.load(Ordering::SeqCst)
}

/// The warning for training with `corruptions`, if any of them is a benchmark (`common`)
/// corruption; `what` describes the policy (e.g. "RandomCorruption").
pub fn benchmark_warning_text(what: &str, corruptions: &[Corruption]) -> Option<String> {
    let common: Vec<&str> = corruptions
        .iter()
        .filter(|c| c.subset() == Subset::Common)
        .map(|c| c.name())
        .collect();
    if common.is_empty() {
        return None;
    }
    Some(format!(
        "imgcorrupt: {what} trains with benchmark (`common`) corruption(s) {}. ImageNet-C-style \
         results (CE, mCE, mPC) of a model trained this way are not comparable with published \
         numbers. Use the held-out `validation` corruptions (speckle_noise, gaussian_blur, \
         spatter, saturate) for model selection and report them alongside (ALGORITHMS.md §2). Call \
         `.allow_benchmark_corruptions()` on the policy to silence this warning.",
        common.join(", ")
    ))
}

/// Print the policy's warnings to stderr the first time any warning policy is used.
pub(crate) fn check<A: Augment + ?Sized>(policy: &A) {
    if policy.warns() && !ONCE.is_completed() {
        ONCE.call_once(|| {
            for w in policy.warnings() {
                eprintln!("warning: {w}");
            }
            EMITTED.store(true, Ordering::SeqCst);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_only_common_corruptions() {
        assert!(benchmark_warning_text("x", &[Corruption::SpeckleNoise]).is_none());
        let t = benchmark_warning_text(
            "RandomCorruption",
            &[
                Corruption::Saturate,
                Corruption::Contrast,
                Corruption::GaussianNoise,
            ],
        )
        .unwrap();
        assert!(t.contains("contrast, gaussian_noise"), "{t}");
        assert!(!t.contains("saturate,"), "{t}");
        assert!(
            t.contains("validation") && t.contains("not comparable"),
            "{t}"
        );
    }
}
