//! The held-out guard prints once per process, and only for policies that did not opt out.
//! One test function: the guard is process-wide state, and this file is its own process.

use imgcorrupt::augment::{
    benchmark_warning_emitted, Augment, GaussianNoiseTraining, RandomCorruption, SampleKey, Shape,
    SpeckleNoiseTraining,
};
use imgcorrupt::Corruption;

#[test]
fn guard_fires_once_and_opt_out_silences_it() {
    let shape = Shape::new(4, 4, 3);
    let key = SampleKey::new(0, 0, 0);
    let mut img = vec![128u8; shape.len()];

    // Opted-out and validation-only policies never trigger it.
    GaussianNoiseTraining::single(0.5)
        .allow_benchmark_corruptions()
        .apply_u8(&mut img, shape, key)
        .unwrap();
    RandomCorruption::new(&[Corruption::Contrast])
        .unwrap()
        .allow_benchmark_corruptions()
        .apply_u8(&mut img, shape, key)
        .unwrap();
    RandomCorruption::new(&[Corruption::Saturate])
        .unwrap()
        .apply_u8(&mut img, shape, key)
        .unwrap();
    SpeckleNoiseTraining::new()
        .apply_u8(&mut img, shape, key)
        .unwrap();
    assert!(!benchmark_warning_emitted());

    // Constructing a guarded policy reports through warnings() but prints nothing yet.
    let guarded = RandomCorruption::new(&[Corruption::Contrast, Corruption::Saturate]).unwrap();
    assert_eq!(guarded.warnings().len(), 1);
    assert!(!benchmark_warning_emitted());

    // First use prints; later uses (and other guarded policies) do not print again.
    guarded.apply_u8(&mut img, shape, key).unwrap();
    assert!(benchmark_warning_emitted());
    guarded.apply_u8(&mut img, shape, key).unwrap();
    GaussianNoiseTraining::multi()
        .apply_u8(&mut img, shape, key)
        .unwrap();
    assert!(benchmark_warning_emitted());
}
