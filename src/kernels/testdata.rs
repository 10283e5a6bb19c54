//! Deterministic pseudo-random test data for the kernel and blend twin tests (a 64-bit LCG, so
//! that the tests need no RNG crate and never change their inputs).

/// `n` values from the LCG `s ← s·6364136223846793005 + 1442695040888963407`, each the top 53
/// bits of the state.
pub fn test_values(n: usize, seed: u64) -> Vec<u64> {
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

/// The inputs of the weather blend twin tests: `n` bytes, `n` f32 and `n` f64 values in about
/// [−0.2, 1.23] (outside [0, 1] on purpose, to reach the clips), the f64s with a NaN at index 5.
pub fn blend_inputs(n: usize) -> (Vec<u8>, Vec<f32>, Vec<f64>) {
    let r = test_values(6 * n, 9);
    let src: Vec<u8> = r[..n].iter().map(|&v| v as u8).collect();
    let unit = |i: usize| (r[n + i] % 1_000_000) as f64 / 700_000.0 - 0.2;
    let f32s: Vec<f32> = (0..n).map(|i| unit(i) as f32).collect();
    let mut f64s: Vec<f64> = (0..n).map(|i| unit(i + n)).collect();
    f64s[5] = f64::NAN;
    (src, f32s, f64s)
}
