//! ImageNet-P `gaussian_noise`: frame 0 is the clean crop, frames 1–30 each add fresh
//! N(0, σ²) noise to it (σ 0.03; difficulty 2: 0.05, 3: 0.08), clamped to [0, 1] and
//! stored as torchvision's `ToPILImage` stores it (`·255`, truncated).
//!
//! Sampled through one exact-distribution table of the *offset*, not through normals: for an
//! input byte `v`, `trunc(255·clip(v/255 + σz, 0, 1)) = clamp(v + K, 0, 255)` with
//! `K = ⌊255σ·z⌋`, because `v` is an integer and the clip at 0 comes out as the clamp. `K`
//! does not depend on `v`, so one 256-column alias table of `K` (thresholds in units of 2⁻²⁴,
//! as in `kernels::noise_table`) gives the reference's output law for every input byte with
//! one 32-bit word and one lookup per value, no Box–Muller arithmetic (which was ~3/4 of a
//! frame's instructions). The words come from eight xoshiro128++ lanes seeded from the
//! sequence's generator (`rng::xoshiro`). Offsets beyond ±127 grey levels (±6.2σ at
//! difficulty 3, probability < 10⁻⁹) are folded into ±127/−128 (docs/ALGORITHMS.md §13.1).

use super::{Rgb, Sink};
use crate::error::Result;
use crate::rng::xoshiro::Xoshiro8;
use crate::rng::RandomSource;
use crate::simd::dispatch;

/// The 31 frames, into `sink`.
pub fn frames(img: &Rgb, sigma: f64, rng: &mut dyn RandomSource, sink: &mut Sink) -> Result<()> {
    let table = OffsetTable::gaussian(sigma);
    drawn_frames(img, rng, |gen, x, f| table.draw(gen, x, f), sink)
}

/// Frame 0 the clean crop, then 30 frames each made whole by `draw(generator, crop, frame)`
/// from one [`Xoshiro8`] seeded from `rng` (the three noise sequences, whose kernels make
/// their words in registers: [`OffsetTable::draw`], `NoiseTable::draw` for shot and
/// speckle).
pub(super) fn drawn_frames(
    img: &Rgb,
    rng: &mut dyn RandomSource,
    mut draw: impl FnMut(&mut Xoshiro8, &[u8], &mut [u8]),
    sink: &mut Sink,
) -> Result<()> {
    let x = img.center_crop();
    let mut gen = Xoshiro8::from_source(rng);
    sink(&x)?;
    let mut f = vec![0u8; x.len()];
    for _ in 1..31 {
        draw(&mut gen, &x, &mut f);
        sink(&f)?;
    }
    Ok(())
}

/// Bias of the stored offsets: column or alias `c` stands for the offset `K = c − 128`.
const BIAS: i32 = 128;

/// Walker/Vose alias table of an integer grey-level offset `K ∈ [−128, 127]` that does not
/// depend on the input byte: entry `c` is `(threshold24 << 8) | ((alias − c) mod 256)` (the
/// layout of `kernels::noise_table`); a word's top 8 bits pick column `c`, its low 24 bits
/// below the threshold give `K = c − 128`, otherwise `K = alias − 128`.
pub(super) struct OffsetTable {
    entries: [u32; 256],
}

impl OffsetTable {
    /// `K = ⌊255σ·z⌋`, `z` standard normal: `P(K = k) = Φ((k+1)/s) − Φ(k/s)`, `s = 255σ`,
    /// with the two tails beyond the table folded into its end offsets.
    pub(super) fn gaussian(sigma: f64) -> OffsetTable {
        OffsetTable::from_law(&gaussian_offset_law(sigma))
    }

    /// The table of the law `p` (`p[c]` the probability of `K = c − 128`; sums to 1).
    fn from_law(p: &[f64; 256]) -> OffsetTable {
        let mut entries = [0u32; 256];
        crate::kernels::noise_table::build_alias(p, &mut entries);
        OffsetTable { entries }
    }

    /// The offset a word draws (scalar reference of the kernels).
    #[inline(always)]
    fn offset(&self, word: u32) -> i32 {
        let col = word >> 24;
        let e = self.entries[col as usize];
        let c = if (word & 0x00FF_FFFF) < (e >> 8) {
            col
        } else {
            (col + e) & 0xFF
        };
        c as i32 - BIAS
    }

    /// `dst[i] = clamp(src[i] + K(word i), 0, 255)` with the next `src.len()` words of `gen`
    /// (the words and the state `gen.fill` of as many words would give), vectorised where the
    /// CPU allows; the slices have one length.
    pub(super) fn draw(&self, gen: &mut Xoshiro8, src: &[u8], dst: &mut [u8]) {
        assert_eq!(src.len(), dst.len());
        dispatch!(draw_scalar / draw_avx2(self, gen, src, dst))
    }
}

/// The law of `K = ⌊255σ·z⌋` by biased column (see [`OffsetTable`]).
fn gaussian_offset_law(sigma: f64) -> [f64; 256] {
    let mut p = [0f64; 256];
    if sigma <= 0.0 {
        p[BIAS as usize] = 1.0;
        return p;
    }
    let s = 255.0 * sigma;
    // Φ(k/s), by the tail on the side where it is small (no cancellation)
    let cdf = |k: i32| {
        let t = f64::from(k) / s / std::f64::consts::SQRT_2;
        if k <= 0 {
            0.5 * libm::erfc(-t)
        } else {
            1.0 - 0.5 * libm::erfc(t)
        }
    };
    for (c, pc) in p.iter_mut().enumerate() {
        let k = c as i32 - BIAS;
        let lo = if c == 0 { 0.0 } else { cdf(k) };
        let hi = if c == 255 { 1.0 } else { cdf(k + 1) };
        *pc = (hi - lo).max(0.0);
    }
    p
}

/// `dst[i] = clamp(src[i] + K(words[i]), 0, 255)`.
fn apply_scalar(t: &OffsetTable, src: &[u8], words: &[u32], dst: &mut [u8]) {
    for ((d, &v), &w) in dst.iter_mut().zip(src).zip(words) {
        *d = (i32::from(v) + t.offset(w)).clamp(0, 255) as u8;
    }
}

/// Scalar twin of [`OffsetTable::draw`]: the words in chunks of 4096 (16 KB, a multiple of
/// the eight lanes, so the stream does not depend on the chunking).
fn draw_scalar(t: &OffsetTable, gen: &mut Xoshiro8, src: &[u8], dst: &mut [u8]) {
    let mut words = [0u32; 4096];
    for (s, d) in src.chunks(4096).zip(dst.chunks_mut(4096)) {
        let w = &mut words[..s.len()];
        gen.fill(w);
        apply_scalar(t, s, w, d);
    }
}

/// AVX2 twin of [`OffsetTable::draw`]: 32 values per step, their words made in registers
/// ([`Avx2Lanes`](crate::rng::xoshiro::Avx2Lanes), four steps) and used at once — the store
/// and reload of a word buffer cost ~35 % of this loop in a stand-alone test, the lanes'
/// arithmetic also fills the gathers' latency — the offsets by four 8-lane gathers from the
/// 1 KB table (L1), the column or alias picked by
/// [`alias_or_own`](crate::kernels::noise_table::alias_or_own) (the loop is bound by vector
/// ALU µops, ~60 % of them the lanes'), packed to biased bytes `c = K + 128` and added to
/// the crop's bytes with unsigned saturation as `(v +sat max(c − 128, 0)) −sat max(128 − c, 0)`
/// (at most one of the two is non-zero: the clamp of `v + K` to 0..=255; 8 µops per 32
/// values where widening to 16 bits, re-biasing and reordering took 12). The last
/// `len % 32` values take whole steps' words through a buffer (unused words of the last step
/// dropped, as `fill` drops them) and the scalar lookup.
///
/// # Safety
/// The CPU must support AVX2; the slices have one length.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn draw_avx2(t: &OffsetTable, gen: &mut Xoshiro8, src: &[u8], dst: &mut [u8]) {
    use crate::kernels::noise_table::alias_or_own;
    use crate::rng::xoshiro::Avx2Lanes;
    use std::arch::x86_64::*;
    let n = src.len().min(dst.len());
    let table = t.entries.as_ptr() as *const i32;
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    let low24 = _mm256_set1_epi32(0x00FF_FFFF);
    let byte = _mm256_set1_epi32(0xFF);
    let bias = _mm256_set1_epi8(BIAS as u8 as i8);
    // after the packs the dwords hold values 0–3 of each group of 8, then 4–7 of each
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    let mut lanes = Avx2Lanes::load(gen);
    // biased offsets (0..=255) of the next eight words
    macro_rules! column {
        () => {{
            let w = lanes.step();
            let col = _mm256_srli_epi32::<24>(w);
            let e = _mm256_i32gather_epi32::<4>(table, col);
            let own = _mm256_cmpgt_epi32(_mm256_srli_epi32::<8>(e), _mm256_and_si256(w, low24));
            alias_or_own(col, e, own, byte)
        }};
    }
    let mut i = 0;
    while i + 32 <= n {
        let (c0, c1) = (column!(), column!());
        let (c2, c3) = (column!(), column!());
        let c = _mm256_packus_epi16(_mm256_packs_epi32(c0, c1), _mm256_packs_epi32(c2, c3));
        let c = _mm256_permutevar8x32_epi32(c, order);
        let up = _mm256_subs_epu8(c, bias);
        let down = _mm256_subs_epu8(bias, c);
        let v = _mm256_loadu_si256(sp.add(i) as *const __m256i);
        let out = _mm256_subs_epu8(_mm256_adds_epu8(v, up), down);
        _mm256_storeu_si256(dp.add(i) as *mut __m256i, out);
        i += 32;
    }
    if i < n {
        let mut words = [0u32; 32];
        lanes.fill(&mut words[..n - i]);
        apply_scalar(t, &src[i..n], &words[..n - i], &mut dst[i..n]);
    }
    lanes.store(gen);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::noise_table::{distribution, NoiseKind};
    use crate::simd::{self, dispatch};

    /// The probabilities the table encodes, by biased offset.
    fn decode(t: &OffsetTable) -> [f64; 256] {
        let mut p = [0f64; 256];
        for (c, &e) in t.entries.iter().enumerate() {
            let own = f64::from(e >> 8) / f64::from(1u32 << 24);
            p[c] += own / 256.0;
            p[(c as u8).wrapping_add(e as u8) as usize] += (1.0 - own) / 256.0;
        }
        p
    }

    /// For every input byte and every difficulty's σ, `clamp(v + K)` has the reference's exact
    /// output law (`noise_table::distribution`, computed from the thresholds `k/255` on
    /// `v/255 + σz` directly, not from `K`), up to the table's 2⁻²⁴ quantisation. A wrong
    /// scale, a floor taken as rounding (shift by half a level) or a lost clip would fail.
    #[test]
    fn offset_table_gives_the_reference_law_for_every_input() {
        for sigma in [0.03, 0.05, 0.08] {
            let t = OffsetTable::gaussian(sigma);
            let pk = decode(&t);
            for v in 0..=255u8 {
                let mut law = [0f64; 256];
                for (c, &p) in pk.iter().enumerate() {
                    law[(i32::from(v) + c as i32 - BIAS).clamp(0, 255) as usize] += p;
                }
                let want = distribution(NoiseKind::Gaussian, sigma, v);
                for (o, (&a, &b)) in law.iter().zip(&want).enumerate() {
                    assert!((a - b).abs() < 1e-6, "σ {sigma} v {v} out {o}: {a} vs {b}");
                }
            }
        }
    }

    /// Sampling: a chi-square of 2²⁰ drawn offsets against the law, through `apply` on a zero
    /// offset image shifted to the middle (v = 128, so no clamp), on every ISA.
    #[test]
    fn drawn_offsets_follow_the_law() {
        let t = OffsetTable::gaussian(0.05);
        let law = gaussian_offset_law(0.05);
        let n = 1 << 20;
        let gen = Xoshiro8::from_source(&mut crate::rng::FastRng::new(3));
        let src = vec![128u8; n];
        for isa in simd::available() {
            let mut dst = vec![0u8; n];
            let mut g = gen.clone();
            dispatch!(at isa; draw_scalar / draw_avx2(&t, &mut g, &src, &mut dst));
            let mut counts = [0f64; 256];
            dst.iter().for_each(|&d| counts[usize::from(d)] += 1.0);
            let (mut chi, mut dof) = (0.0, 0usize);
            for (c, &p) in law.iter().enumerate() {
                let e = p * n as f64;
                if e >= 5.0 {
                    chi += (counts[c] - e).powi(2) / e;
                    dof += 1;
                }
            }
            let dof = (dof - 1) as f64;
            assert!(dof > 50.0);
            assert!(
                chi < dof + 6.0 * (2.0 * dof).sqrt(),
                "{isa:?}: {chi} on {dof}"
            );
        }
    }

    /// The twins give the same bytes, draw the same words as `fill` (`apply_scalar` on them)
    /// and leave the same state, for lengths around the 32-value step and the 4096-word chunk,
    /// and the clamps at both ends are exercised.
    #[test]
    fn avx2_matches_scalar_at_every_length_and_at_the_clamps() {
        let t = OffsetTable::gaussian(0.08);
        let mut gen = Xoshiro8::from_source(&mut crate::rng::FastRng::new(8));
        for n in [0usize, 1, 9, 31, 32, 33, 100, 4095, 4096, 4097, 9000] {
            let src: Vec<u8> = (0..n)
                .map(|i| [0u8, 255, 3, 250][i % 4] ^ (i / 4) as u8)
                .collect();
            let mut w = vec![0u32; n];
            let mut g0 = gen.clone();
            g0.fill(&mut w);
            let mut a = vec![0u8; n];
            apply_scalar(&t, &src, &w, &mut a);
            for isa in simd::available() {
                let mut b = vec![1u8; n];
                let mut g = gen.clone();
                dispatch!(at isa; draw_scalar / draw_avx2(&t, &mut g, &src, &mut b));
                assert_eq!(a, b, "{isa:?} n {n}");
                assert_eq!(g, g0, "{isa:?} n {n}: state");
            }
            if n == 9000 {
                let hit = |v: u8| src.iter().zip(&a).any(|(&s, &d)| s == v && d == v);
                let moved = |v: u8| src.iter().zip(&a).any(|(&s, &d)| s == v && d != v);
                assert!(hit(0) && hit(255) && moved(0) && moved(255));
            }
            gen = g0;
        }
    }

    /// Offset 0 with σ = 0: the input comes back unchanged.
    #[test]
    fn zero_sigma_is_identity() {
        let t = OffsetTable::gaussian(0.0);
        let src: Vec<u8> = (0..=255).collect();
        let mut g = Xoshiro8::from_source(&mut crate::rng::FastRng::new(1));
        let mut d = vec![0u8; 256];
        t.draw(&mut g, &src, &mut d);
        assert_eq!(d, src);
    }
}
