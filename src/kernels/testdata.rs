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
