//! ImageNet-P `zoom_blur`: frame i is the running mean of the crops of frames 0…i, frame j
//! being the source zoomed by `1 + 0.004·j` (torchvision affine, bilinear) before the crop.
//! Frame 0 is the clean crop. Stored as `ToPILImage` stores float tensors (`·255`, truncated),
//! the sum kept in float32 as the reference's tensor.

use super::warp::Source;
use super::{Rgb, Sink};
use crate::error::Result;

/// The 31 frames, into `sink`.
pub fn frames(img: &Rgb, sink: &mut Sink) -> Result<()> {
    let mut frame = img.center_crop();
    let mut avg: Vec<f32> = frame.iter().map(|&v| f32::from(v) / 255.0).collect();
    sink(&frame)?;
    let src = Source::pil(img);
    for i in 1..31 {
        // the zoomed crop becomes the frame in place (no second buffer)
        src.affine_crop_into(0.0, (0.0, 0.0), 1.0 + 0.004 * i as f64, 0.0, &mut frame);
        accumulate(&mut avg, (i + 1) as f32, &mut frame);
        sink(&frame)?;
    }
    Ok(())
}

/// One step of the running mean, in place: `avg += z/255`, then `z = trunc(avg/n·255)`, in
/// f32 (`z` holds the zoomed crop and becomes the frame). Dispatched to [`accumulate_avx2`].
fn accumulate(avg: &mut [f32], n: f32, z: &mut [u8]) {
    crate::simd::dispatch!(accumulate_scalar / accumulate_avx2(avg, n, z))
}

/// Scalar twin of [`accumulate`].
fn accumulate_scalar(avg: &mut [f32], n: f32, z: &mut [u8]) {
    for (a, o) in avg.iter_mut().zip(z.iter_mut()) {
        *a += f32::from(*o) / 255.0;
        // a / n ≤ 1 (a sum of n values ≤ 1 rounds to at most n), so the value is in
        // [0, 255] and the plain conversion equals `as u8`'s saturating one
        *o = (*a / n * 255.0) as i32 as u8;
    }
}

/// AVX2 twin of [`accumulate`]: eight values per step with the scalar twin's f32 results, so
/// the same bytes. (The compiler did not vectorise the scalar body: 12 instructions per value.)
/// The two divisions are [`div_rn`] (a multiply and two FMAs, which give the correctly rounded
/// quotient, proved by exhaustive tests) rather than `vdivps`, whose throughput (one per
/// ~5 cycles) bounded this loop.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn accumulate_avx2(avg: &mut [f32], n: f32, z: &mut [u8]) {
    use std::arch::x86_64::*;
    let len = avg.len().min(z.len());
    let (c255, vn) = (_mm256_set1_ps(255.0), _mm256_set1_ps(n));
    let (inv255, invn) = (_mm256_set1_ps(1.0 / 255.0), _mm256_set1_ps(1.0 / n));
    let mut i = 0;
    while i + 8 <= len {
        // SAFETY: i + 8 ≤ len ≤ every slice's length
        let v = _mm_loadl_epi64(z.as_ptr().add(i) as *const __m128i);
        let v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
        let a = _mm256_add_ps(
            _mm256_loadu_ps(avg.as_ptr().add(i)),
            div_rn(v, c255, inv255),
        );
        _mm256_storeu_ps(avg.as_mut_ptr().add(i), a);
        let q = _mm256_cvttps_epi32(_mm256_mul_ps(div_rn(a, vn, invn), c255));
        let q = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256::<1>(q));
        _mm_storel_epi64(
            z.as_mut_ptr().add(i) as *mut __m128i,
            _mm_packus_epi16(q, q),
        );
        i += 8;
    }
    accumulate_scalar(&mut avg[i..len], n, &mut z[i..len]);
}

/// `a / b` rounded to nearest f32, given `inv = RN(1/b)`, without a division (Markstein's
/// correction step): `q = RN(a·inv)`, the exact residual `r = a − q·b` (one FMA), then
/// `RN(q + r·inv)`. Markstein's theorem gives the correctly rounded quotient when `q` is within
/// one ulp of `a/b`, which `RN(a·inv)` nearly always is; the tests check every case used
/// here exhaustively: `v/255` for every byte `v`, and `a/n` for n = 1…31 and every f32
/// significand of `a` (the steps are exact under scaling `a` by a power of two, and the
/// running sums stay far from subnormals and overflow), so it equals `_mm256_div_ps` on these
/// operands.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn div_rn(
    a: std::arch::x86_64::__m256,
    b: std::arch::x86_64::__m256,
    inv: std::arch::x86_64::__m256,
) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    let q = _mm256_mul_ps(a, inv);
    let r = _mm256_fnmadd_ps(q, b, a);
    _mm256_fmadd_ps(r, inv, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulate_twins_are_equal() {
        let z: Vec<Vec<u8>> = (0..31u32)
            .map(|j| {
                (0..1001u32)
                    .map(|k| ((k * 37 + j * 101) % 256) as u8)
                    .collect()
            })
            .collect();
        let run = |isa| {
            let mut avg = vec![0f32; 1001];
            let mut frames = Vec::new();
            for (i, z) in z.iter().enumerate() {
                let mut f = z.clone();
                crate::simd::dispatch!(at isa; accumulate_scalar / accumulate_avx2(&mut avg, (i + 1) as f32, &mut f));
                frames.push(f);
            }
            frames
        };
        let want = run(crate::simd::Isa::Scalar);
        // the running mean of a constant 255 stays 255
        let mut avg = vec![0f32; 4];
        for i in 0..31 {
            let mut f = [255; 4];
            accumulate_scalar(&mut avg, (i + 1) as f32, &mut f);
            assert_eq!(f, [255; 4], "{i}");
        }
        for isa in crate::simd::available() {
            assert_eq!(run(isa), want, "{isa:?}");
        }
    }

    /// [`div_rn`] equals the true division on every operand [`accumulate_avx2`] gives it:
    /// every byte over 255, and every significand in [1, 2) over n = 1…31 (quotients of other
    /// binades are these scaled by powers of two, exactly).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn div_rn_is_the_correctly_rounded_quotient() {
        use std::arch::x86_64::*;
        if !crate::simd::available().contains(&crate::simd::Isa::Avx2) {
            return;
        }
        let check = |a: [f32; 8], b: f32| {
            // SAFETY: AVX2 and FMA are present (checked above)
            let got: [f32; 8] = unsafe {
                std::mem::transmute(div_rn(
                    std::mem::transmute::<[f32; 8], __m256>(a),
                    _mm256_set1_ps(b),
                    _mm256_set1_ps(1.0 / b),
                ))
            };
            for (g, x) in got.iter().zip(a) {
                assert_eq!(g.to_bits(), (x / b).to_bits(), "{x} / {b}");
            }
        };
        for v in (0..256).step_by(8) {
            check(std::array::from_fn(|k| (v + k) as f32), 255.0);
        }
        for n in 1..=31 {
            for m in (0..1u32 << 23).step_by(8) {
                check(
                    std::array::from_fn(|k| f32::from_bits(0x3f80_0000 | (m + k as u32))),
                    n as f32,
                );
            }
        }
    }
}
