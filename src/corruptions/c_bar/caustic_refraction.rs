//! `caustic_refraction` (ImageNet-C-bar; ALGORITHMS.md §11.4): a procedural caustic pattern
//! is treated as the height of a lens; each pixel is refracted through it (index 4) and lit
//! by the pattern's slope.

use super::{bilinear_zero, fp, identity, magnitude_params, side};
use crate::corruptions::Job;
use crate::error::Result;
use crate::kernels::scratch::Buf;
use crate::kernels::{fastmath, quantise};
use crate::simd::dispatch;

magnitude_params!("caustic_refraction", [2.35, 3.2, 4.9, 6.6, 9.15]);

/// Refractive index of the reference's lens.
const ETA: f32 = 4.0;

/// Lens scale `fp(s, side/2)` pixels and lighting `fp(s, 2)`; pattern time `~ U(0.5, 2)`,
/// size `~ U(0.75, 1.25)·side`.
pub fn caustic_refraction(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let s = p.magnitude[job.level];
    let time = job.rng.uniform(0.5, 2.0) as f32;
    let size = (job.rng.uniform(0.75, 1.25) * side(job)) as f32;
    if s == 0.0 {
        identity(job);
        return Ok(());
    }
    let lens_scale = fp(s, 0.5 * side(job)) as f32;
    let lighting = fp(s, 2.0) as f32;
    let (w, h) = (job.width, job.height);
    // pooled buffers: fresh image-sized vectors on every call cost page faults
    let mut caustic = Buf::<f32>::take(w * h);
    const TAU: f32 = 6.283_185_5;
    let p1: Vec<f32> = (0..w)
        .map(|x| (x as f32 / size).rem_euclid(1.0) * TAU - 250.0)
        .collect();
    // the columns' starting sines and cosines are the same on every row
    let (s1, c1): (Vec<f32>, Vec<f32>) = p1.iter().map(|&v| fastmath::sincos(v)).unzip();
    for (y, row) in caustic.chunks_exact_mut(w).enumerate() {
        let p0 = (y as f32 / size).rem_euclid(1.0) * TAU - 250.0;
        caustic_row(p0, [&p1, &s1, &c1], time, row);
    }
    let caustic = gaussian_sigma1(&caustic, w, h);
    // zero margin of one pixel: the central differences read 0 outside the image
    let wp = w + 2;
    let mut padded = Buf::<f32>::zeroed(wp * (h + 2));
    for y in 0..h {
        padded[(y + 1) * wp + 1..(y + 1) * wp + 1 + w]
            .copy_from_slice(&caustic[y * w..(y + 1) * w]);
    }
    let mut img = Buf::<f32>::take(job.src.len());
    for (o, &v) in img.iter_mut().zip(job.src.iter()) {
        *o = f32::from(v) / 255.0;
    }
    let (mut oy, mut ox, mut light) = (vec![0.0f32; w], vec![0.0f32; w], vec![0.0f32; w]);
    let mut vals = vec![0.0f32; w * 3];
    for y in 0..h {
        let rows = [
            &padded[y * wp..(y + 1) * wp],
            &padded[(y + 1) * wp..(y + 2) * wp],
            &padded[(y + 2) * wp..(y + 3) * wp],
        ];
        refract_row(rows, [lens_scale, lighting], &mut oy, &mut ox, &mut light);
        sample_row(&img, w, h, y, [&oy, &ox, &light], &mut vals);
        quantise::unit_f32(&vals, &mut job.dst[y * w * 3..(y + 1) * w * 3]);
    }
    Ok(())
}

/// One output row before quantisation: the image sampled bilinearly at `(y + oy, x + ox)`
/// (black outside) plus the light term. Positions whose four taps are inside the image (all
/// but a few) take a branch-free path; its sums are [`bilinear_zero`]'s, term for term and in
/// the same order (that function skips zero weights, and adding `+0` to a sum of
/// non-negative terms changes no bit), so both give the same bits.
fn sample_row(img: &[f32], w: usize, h: usize, y: usize, offs: [&[f32]; 3], out: &mut [f32]) {
    let [oy, ox, light] = offs;
    let (rmax, cmax) = (h as f32 - 1.0, w as f32 - 1.0);
    for (x, o) in out.chunks_exact_mut(3).enumerate() {
        let (row, col) = (y as f32 + oy[x], x as f32 + ox[x]);
        let r0 = fastmath::floor_f32(row);
        let c0 = fastmath::floor_f32(col);
        let px = if r0 >= 0.0 && c0 >= 0.0 && r0 < rmax && c0 < cmax {
            let (fr, fc) = (row - r0, col - c0);
            // SAFETY: r0 and c0 are whole numbers in [0, h − 1) and [0, w − 1) here.
            let (ri, ci) = unsafe { (r0.to_int_unchecked::<u32>(), c0.to_int_unchecked::<u32>()) };
            let i = (ri as usize * w + ci as usize) * 3;
            let (a, b) = (&img[i..i + 6], &img[i + w * 3..i + w * 3 + 6]);
            let (w00, w01) = ((1.0 - fr) * (1.0 - fc), (1.0 - fr) * fc);
            let (w10, w11) = (fr * (1.0 - fc), fr * fc);
            let mut px = [0.0f32; 3];
            for c in 0..3 {
                px[c] = w00 * a[c] + w01 * a[c + 3] + w10 * b[c] + w11 * b[c + 3];
            }
            px
        } else {
            bilinear_zero(img, w, h, row, col)
        };
        for c in 0..3 {
            o[c] = px[c] + light[x];
        }
    }
}

/// `np.round(v, 3)` (ties to even).
#[inline(always)]
fn round3(v: f32) -> f32 {
    fastmath::round_f32(v * 1000.0) / 1000.0
}

dispatch! {
    /// One row of the lens: from the caustic rows above, at and below (each with a zero
    /// margin of one pixel), the refracted offsets (row, col) and the light term.
    fn refract_row / refract_row_scalar / refract_row_avx2 (
        rows: [&[f32]; 3],
        k: [f32; 2],
        oy: &mut [f32],
        ox: &mut [f32],
        light: &mut [f32],
    ) {
        let [lens_scale, lighting] = k;
        let [up, mid, down] = rows;
        for x in 0..oy.len() {
            // The reference's "north/south" step the column, "west/east" the row.
            let north = mid[x];
            let south = mid[x + 2];
            let west = up[x + 1];
            let east = down[x + 1];
            let (nx, ny) = (east - west, south - north);
            let norm = (nx * nx + ny * ny + 1.0).sqrt();
            let (nx, ny, nz) = (nx / norm, ny / norm, 1.0 / norm);
            // Snell through the normal: the refracted ray's in-plane part is
            // n_xy·(cos θₜ − n_z/η) with sin θₜ = |n_xy|/η.
            let r2 = nx * nx + ny * ny;
            let kk = (1.0 - r2 / (ETA * ETA)).sqrt() - nz / ETA;
            let bent = nz < 1.0 - 1e-3;
            oy[x] = if bent { round3(nx * kk * lens_scale) } else { 0.0 };
            ox[x] = if bent { round3(ny * kk * lens_scale) } else { 0.0 };
            light[x] = (north - south) * lighting + (east - west) * lighting;
        }
    }
}

dispatch! {
    /// One row of the reference's caustic kernel (`p0` = the row's wrapped coordinate, `p1`
    /// the columns', with their sines and cosines): five iterations of a trigonometric feedback whose inverse lengths
    /// accumulate into bright filaments, in `[0, 1]`; the sines of [`fastmath`] so that the
    /// row vectorises.
    fn caustic_row / caustic_row_scalar / caustic_row_avx2 (
        p0: f32,
        cols: [&[f32]; 3],
        time: f32,
        out: &mut [f32],
    ) {
        const INTEN: f32 = 0.005;
        // The five iterations run over the whole row, one after the other (an inner loop
        // over the iterations would stop the row loop from vectorising).
        const CHUNK: usize = 64;
        let [p1s, s1s, c1s] = cols;
        for (i, o) in out.chunks_mut(CHUNK).enumerate() {
            let n = o.len();
            let cs = i * CHUNK..i * CHUNK + n;
            let (p1s, s1s, c1s) = (&p1s[cs.clone()], &s1s[cs.clone()], &c1s[cs]);
            // Every loop below runs over the whole local chunk (a short last chunk is padded
            // with copies of its last column): a constant trip count on local arrays lets
            // LLVM vectorise the loops completely, without a one-pixel-at-a-time remainder
            // that took an eighth of the pixels. The padded lanes are computed and dropped.
            let mut p1 = [p1s[n - 1]; CHUNK];
            p1[..n].copy_from_slice(p1s);
            // The feedback only ever needs sin and cos of its two state variables: by angle
            // addition, cos(t ∓ a) and sin(t ± a) come from sin a, cos a and the iteration's
            // (scalar) sin t, cos t, and sin(n₀ + t), cos(n₁ + t) from the next state's sines.
            // Four sines per pixel and iteration instead of six.
            let (sp0, cp0) = fastmath::sincos(p0);
            let mut s0 = [sp0; CHUNK];
            let mut c0 = [cp0; CHUNK];
            let mut s1 = [s1s[n - 1]; CHUNK];
            let mut c1 = [c1s[n - 1]; CHUNK];
            s1[..n].copy_from_slice(s1s);
            c1[..n].copy_from_slice(c1s);
            let mut c = [1.0f32; CHUNK];
            let ip0 = INTEN * p0;
            for k in 0..5 {
                let t = time * (1.0 - 3.5 / (k + 1) as f32);
                let (st, ct) = (fastmath::sin(t), fastmath::cos(t));
                for x in 0..CHUNK {
                    let (cc, ss) = (ct * c0[x], st * s0[x]);
                    let (sc, cs) = (st * c1[x], ct * s1[x]);
                    let n0 = p0 + (cc + ss) + (sc + cs);
                    let n1 = p1[x] + (sc - cs) + (cc - ss);
                    let (sn0, cn0) = fastmath::sincos(n0);
                    let (sn1, cn1) = fastmath::sincos(n1);
                    s0[x] = sn0;
                    c0[x] = cn0;
                    s1[x] = sn1;
                    c1[x] = cn1;
                    // 1/|(p₀/(q₀/i), p₁/(q₁/i))| = |q₀q₁| / √((i·p₀·q₁)² + (i·p₁·q₀)²): one
                    // division and one root instead of three divisions and a root. (q = 0,
                    // a pole of the reference's term, gives its limit 0; both zero cannot
                    // divide by zero through the floor.)
                    let (q0, q1) = (sn0 * ct + cn0 * st, cn1 * ct - sn1 * st);
                    let (u, v) = (ip0 * q1, INTEN * p1[x] * q0);
                    let d = (u * u + v * v).sqrt().max(f32::MIN_POSITIVE);
                    c[x] += (q0 * q1).abs() / d;
                }
            }
            let mut v8 = [0.0f32; CHUNK];
            for x in 0..CHUNK {
                let v = 1.17 - fastmath::pow(c[x] / 5.0, 1.4);
                let v2 = v * v;
                let v4 = v2 * v2;
                v8[x] = (v4 * v4).clamp(0.0, 1.0);
            }
            o.copy_from_slice(&v8[..n]);
        }
    }
}

dispatch! {
/// `scipy.ndimage.gaussian_filter(σ = 1)` (truncate 4, mode reflect) of a `w`×`h` plane:
/// each row padded once, then whole rows weighted and summed for the vertical pass (the AVX2
/// build is the same code with 8 lanes).
fn gaussian_sigma1 / gaussian_sigma1_scalar / gaussian_sigma1_avx2 (src: &[f32], w: usize, h: usize) -> Buf<f32> {
    let taps: Vec<f32> = {
        let k: Vec<f32> = (-4..=4)
            .map(|i: i32| (-0.5 * (i * i) as f32).exp())
            .collect();
        let sum: f32 = k.iter().sum();
        k.iter().map(|v| v / sum).collect()
    };
    let reflect = |i: isize, n: usize| -> usize {
        // scipy "reflect": (d c b a | a b c d | d c b a), repeated for tiny n.
        let n = n as isize;
        let period = 2 * n;
        let m = i.rem_euclid(period);
        (if m < n { m } else { period - 1 - m }) as usize
    };
    let mut tmp = Buf::<f32>::zeroed(w * h);
    let mut padded = vec![0.0f32; w + 8];
    for y in 0..h {
        // the row itself, then the two 4-value margins reflected (a division per margin value
        // only, not per value)
        padded[4..4 + w].copy_from_slice(&src[y * w..(y + 1) * w]);
        for i in (0..4).chain(w + 4..w + 8) {
            padded[i] = src[y * w + reflect(i as isize - 4, w)];
        }
        let row = &mut tmp[y * w..(y + 1) * w];
        for (k, t) in taps.iter().enumerate() {
            for (o, &v) in row.iter_mut().zip(&padded[k..k + w]) {
                *o += t * v;
            }
        }
    }
    let mut out = Buf::<f32>::zeroed(w * h);
    for y in 0..h {
        let row = &mut out[y * w..(y + 1) * w];
        for (k, t) in taps.iter().enumerate() {
            let r = reflect(y as isize + k as isize - 4, h);
            for (o, &v) in row.iter_mut().zip(&tmp[r * w..(r + 1) * w]) {
                *o += t * v;
            }
        }
    }
    out
}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    /// The scalar and AVX2 builds of the caustic row give the same bits, in `[0, 1]`.
    #[test]
    fn row_twins_agree() {
        let p1: Vec<f32> = (0..41).map(|x| x as f32 * 0.11 - 250.0).collect();
        let (s1, c1): (Vec<f32>, Vec<f32>) = p1.iter().map(|&v| fastmath::sincos(v)).unzip();
        let cols = [&p1[..], &s1, &c1];
        let mut a = vec![0.0f32; p1.len()];
        caustic_row_scalar(-249.3, cols, 1.3, &mut a);
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(a.iter().any(|&v| v != a[0]));
        for isa in simd::available() {
            let mut b = vec![0.0f32; p1.len()];
            dispatch!(at isa; caustic_row_scalar / caustic_row_avx2(-249.3, cols, 1.3, &mut b));
            assert_eq!(a, b);
        }
    }

    /// The blur's scalar and AVX2 builds give the same bits (odd sizes: vector remainders and
    /// reflected margins), and it keeps a constant plane constant.
    #[test]
    fn gaussian_twins_agree() {
        let (w, h) = (37usize, 11usize);
        let plane: Vec<f32> = (0..w * h)
            .map(|i| ((i * 7919) % 101) as f32 / 101.0)
            .collect();
        let base = gaussian_sigma1_scalar(&plane, w, h);
        for isa in simd::available() {
            let got =
                dispatch!(at isa; gaussian_sigma1_scalar / gaussian_sigma1_avx2(&plane, w, h));
            assert_eq!(&base[..], &got[..]);
        }
        let flat = gaussian_sigma1_scalar(&vec![0.25f32; w * h], w, h);
        assert!(flat.iter().all(|v| (v - 0.25).abs() < 1e-6));
        assert!(base.iter().zip(&plane).any(|(a, b)| a != b));
    }

    /// The refraction row: flat lens → no offset, a slope bends toward it; twins agree.
    #[test]
    fn refract_twins_agree() {
        let n = 19;
        let up: Vec<f32> = (0..n + 2).map(|i| (i as f32 * 0.37).sin().abs()).collect();
        let mid: Vec<f32> = (0..n + 2).map(|i| (i as f32 * 0.53).cos().abs()).collect();
        let down: Vec<f32> = (0..n + 2).map(|i| (i as f32 * 0.71).sin().abs()).collect();
        let flat = vec![0.5f32; n + 2];
        let run = |isa, rows: [&[f32]; 3]| {
            let (mut a, mut b, mut c) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            dispatch!(at isa; refract_row_scalar / refract_row_avx2(rows, [30.0, 0.8], &mut a, &mut b, &mut c));
            (a, b, c)
        };
        let (oy, ox, light) = run(simd::Isa::Scalar, [&flat, &flat, &flat]);
        assert!(oy.iter().chain(&ox).chain(&light).all(|&v| v == 0.0));
        let base = run(simd::Isa::Scalar, [&up, &mid, &down]);
        assert!(base.0.iter().any(|&v| v != 0.0));
        for isa in simd::available() {
            assert_eq!(base, run(isa, [&up, &mid, &down]));
        }
    }
}
