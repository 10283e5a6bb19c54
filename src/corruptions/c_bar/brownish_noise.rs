//! `brownish_noise` (ImageNet-C-bar, CIFAR-10-C-bar; ALGORITHMS.md §11.1): additive noise of
//! amplitude spectrum `1/(f² + 1)`, independent per channel.

use super::{fp, magnitude_params, spectral_noise, Spectrum};
use crate::corruptions::Job;
use crate::error::Result;
use crate::simd::dispatch;

magnitude_params!("brownish_noise", [1.0, 2.0, 3.0, 4.0, 5.0]);

/// `clip(x + fp(s, 64)·n_c)` with `n_c` three unit-variance brownish fields.
pub fn brownish_noise(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let intensity = fp(s, 64.0) as f32;
    let [n0, n1] = spectral_noise(job, Spectrum::Brownish, 2);
    let [n2, _] = spectral_noise(job, Spectrum::Brownish, 1);
    let w = job.width;
    let mut add = vec![0.0f32; w * 3];
    for y in 0..job.height {
        let (px, vals) = (y * w..(y + 1) * w, y * w * 3..(y + 1) * w * 3);
        add_row(
            &job.src[vals.clone()],
            [&n0[px.clone()], &n1[px.clone()], &n2[px]],
            intensity,
            &mut add,
            &mut job.dst[vals],
        );
    }
    Ok(())
}

dispatch! {
    /// One RGB row: `dst = clip_trunc(src + intensity·n_c)`, the three planes interleaved into
    /// `add` first so that the blend is one vectorised loop.
    fn add_row / add_row_scalar / add_row_avx2 (
        src: &[u8],
        planes: [&[f32]; 3],
        intensity: f32,
        add: &mut [f32],
        dst: &mut [u8],
    ) {
        for (((a, &r), &g), &b) in add.chunks_exact_mut(3).zip(planes[0]).zip(planes[1]).zip(planes[2]) {
            a[0] = r;
            a[1] = g;
            a[2] = b;
        }
        for ((d, &s), &a) in dst.iter_mut().zip(src).zip(&*add) {
            *d = crate::kernels::quantise::q255_f32(f32::from(s) + intensity * a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corruptions::c_bar::clip_trunc;
    use crate::simd;

    /// The row blend clips and truncates like `clip_trunc`; scalar and AVX2 agree.
    #[test]
    fn add_row_twins_agree() {
        let w = 29;
        let src: Vec<u8> = (0..w * 3).map(|i| (i * 97 % 256) as u8).collect();
        let planes: Vec<Vec<f32>> = (0..3)
            .map(|c| {
                (0..w)
                    .map(|x| ((x * 7 + c * 5) as f32 * 0.37).sin() * 3.0)
                    .collect()
            })
            .collect();
        let run = |isa| {
            let (mut add, mut dst) = (vec![0.0f32; w * 3], vec![0u8; w * 3]);
            let p = [&planes[0][..], &planes[1][..], &planes[2][..]];
            dispatch!(at isa; add_row_scalar / add_row_avx2(&src, p, 40.0, &mut add, &mut dst));
            dst
        };
        let base = run(simd::Isa::Scalar);
        for (i, &v) in base.iter().enumerate() {
            let want = clip_trunc(f32::from(src[i]) + 40.0 * planes[i % 3][i / 3]);
            assert_eq!(v, want, "{i}");
        }
        assert!(base.contains(&0) && base.contains(&255));
        for isa in simd::available() {
            assert_eq!(base, run(isa));
        }
    }
}
