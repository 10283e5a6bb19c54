//! The neural AdaIN backend of `stylize` (issue 7, ALGORITHMS.md §9.2): the network of Huang & Belongie
//! (2017) as published by `naoto0804/pytorch-AdaIN` and used by Stylized-ImageNet, on the CPU
//! (cargo feature `adain`). `candle-core` reads the weight files (pickle and safetensors); the
//! forward pass is our own: each 3×3 convolution is an im2col with the reflection padding fused
//! in, over bands of output rows, times the weight matrix with the `gemm` crate (AVX-512 kernels
//! when the CPU has them, chosen at run time), bias and ReLU fused after the reduction. At 224×224
//! this is as fast as PyTorch's oneDNN CPU path on one thread (see the benchmark in
//! `benches/adain.rs`); results match PyTorch to ~2e-6 and do not depend on the thread count.
//!
//! # Network (indices are the `nn.Sequential` indices, which name the tensors)
//! * Encoder (`vgg_normalised`, first 31 modules, up to relu4_1): `0` Conv 3→3 1×1 (a learned
//!   linear input map of the "normalised" VGG; pytorch-AdaIN's `test.py` feeds it `ToTensor`
//!   output, plain RGB in [0, 1] with no mean/std normalisation, and so do we), then
//!   `pad, conv 3×3, relu` blocks at indices
//!   `2, 5` (64 channels), max-pool 2×2 `ceil_mode`, `9, 12` (128), pool, `16, 19, 22, 25` (256),
//!   pool, `29` (512) = relu4_1. Every 3×3 conv is preceded by `ReflectionPad2d(1)`. The published
//!   file holds the whole VGG-19 (`test.py` loads it into the full `vgg` and truncates to 31
//!   modules): keys past `29.*` are ignored.
//! * AdaIN: per channel of the relu4_1 features, `mean` over H×W and
//!   `std = sqrt(var + 1e-5)` with the **unbiased** variance (`torch.var` default, as
//!   `calc_mean_std` of pytorch-AdaIN); `t = (c − μc)/σc · σs + μs`, then
//!   `t = α·t + (1 − α)·c`.
//! * Decoder (`decoder.pth`): `pad, conv, relu` at `1` (512→256), nearest ×2 upsample,
//!   `5, 8, 11` (256→256), `14` (256→128), upsample, `18` (128→128), `21` (128→64), upsample,
//!   `25` (64→64), and the last conv `28` (64→3) without ReLU.
//! * Output: the float decoder output `v` is quantised as current torchvision `save_image`:
//!   `trunc(clamp(v·255 + 0.5, 0, 255))` in f32 (round half up).
//!
//! # Sizes
//! The three `ceil_mode` pools make the relu4_1 map `ceil(H/8) × ceil(W/8)`, so the decoder
//! returns `8·ceil(H/8) × 8·ceil(W/8)` (exactly what PyTorch returns for the same input); the
//! result is cropped to the content size, keeping the top-left corner. `ReflectionPad2d(1)` needs
//! every side ≥ 2 at every level, i.e. an input side ≥ 9, and the unbiased variance needs ≥ 2
//! relu4_1 positions. Smaller images (any size ≥ 1×1 works) are first extended to at least 9×9 by
//! replicating their last row/column (bottom/right, [`MIN_SIDE`]), run, and cropped back; PyTorch
//! would raise an error on them.
//!
//! # Weight files
//! Each of the two files may be
//! * a PyTorch `torch.save(state_dict)` file, either the zip format (PyTorch ≥ 1.6, read with
//!   candle's pickle reader) or the legacy pre-1.6 format (magic number + pickles + raw storages,
//!   which is what the published 2017 files are), or
//! * a `.safetensors` file, e.g. converted from the published files with
//!   `scripts/convert_adain_weights.py vgg_normalised.pth vgg_normalised.safetensors --encoder`.
//!
//! The format is chosen by content (zip signature, legacy pickle magic, safetensors header), not by
//! the extension. Tensors may be stored as f32, f64, f16 or bf16; they are converted to f32.
//!
//! # Reduced widths
//! The published network has channel widths 64/128/256/512. To keep test fixtures small, networks
//! whose widths are all divided by one common factor `k` (a power of two ≤ 64) are accepted: `k`
//! is inferred from `2.weight` (`[64/k, 3, 3, 3]`), and every other tensor must have the shape
//! that rule implies (the 1×1 input conv stays 3→3 and the last decoder conv stays →3). A missing
//! tensor or a wrong shape is reported as [`Error::Weights`] naming the file, the tensor, and the
//! expected vs found shape.
//!
//! # Threads and determinism
//! The GEMMs split their output tiles between the threads of the current rayon pool, never the
//! K reduction, and im2col is parallel over input channels: the bytes are the same for any
//! thread count (tested with 1- and 2-thread pools).

use std::collections::HashMap;
use std::path::Path;

use candle_core::pickle::{Object, Stack};
use candle_core::{DType, Device, Tensor};

use crate::error::{Error, Result};

/// Smallest side the network runs at: `ReflectionPad2d(1)` needs ≥ 2 pixels at relu4_1 level,
/// i.e. `ceil(side/8) ≥ 2`. Smaller inputs are edge-extended to this size and the output cropped.
pub const MIN_SIDE: usize = 9;

/// `eps` added to the variance in AdaIN (`calc_mean_std(feat, eps=1e-5)`).
pub const EPS: f64 = 1e-5;

/// Sequential indices of the encoder convolutions and their (in, out) widths at factor 1
/// (`0` is the 1×1 input conv).
const ENC: [(usize, usize, usize); 10] = [
    (0, 3, 3),
    (2, 3, 64),
    (5, 64, 64),
    (9, 64, 128),
    (12, 128, 128),
    (16, 128, 256),
    (19, 256, 256),
    (22, 256, 256),
    (25, 256, 256),
    (29, 256, 512),
];

/// Sequential indices of the decoder convolutions and their (in, out) widths at factor 1.
const DEC: [(usize, usize, usize); 9] = [
    (1, 512, 256),
    (5, 256, 256),
    (8, 256, 256),
    (11, 256, 256),
    (14, 256, 128),
    (18, 128, 128),
    (21, 128, 64),
    (25, 64, 64),
    (28, 64, 3),
];

/// One convolution: weight as a row-major `[out, in·k·k]` matrix, bias `[out]`.
struct Conv {
    w: Vec<f32>,
    b: Vec<f32>,
    cin: usize,
    cout: usize,
    k: usize,
}

/// The AdaIN network (encoder up to relu4_1 and decoder), loaded once and shared by threads.
pub struct AdainNet {
    enc: Vec<Conv>,
    dec: Vec<Conv>,
    /// Width divisor `k` (1 for the published network).
    factor: usize,
}

/// The relu4_1 statistics of a style image (per channel), computed once per style by
/// [`AdainNet::style_features`]. `Send + Sync`: share it between worker threads.
#[derive(Clone, Debug, PartialEq)]
pub struct AdainStyle {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl AdainStyle {
    /// Per-channel mean of the style's relu4_1 features.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }
    /// Per-channel `sqrt(unbiased var + 1e-5)` of the style's relu4_1 features.
    pub fn std(&self) -> &[f32] {
        &self.std
    }
}

/// A CHW feature map (batch 1).
struct Fmap {
    c: usize,
    h: usize,
    w: usize,
    data: Vec<f32>,
}

fn shape_str(dims: &[usize]) -> String {
    format!("{dims:?}")
}

impl AdainNet {
    /// Loads the encoder (vgg_normalised) and decoder weights; each file is a PyTorch `.pth`
    /// (torch.save of a state_dict: zip + pickle, or the legacy pre-1.6 format) or `.safetensors`,
    /// chosen by content.
    ///
    /// Errors: a missing/unreadable file → [`Error::Io`] naming it; an unrecognised or corrupt
    /// file → [`Error::WeightFile`]; a missing tensor or a wrong shape → [`Error::Weights`]
    /// (expected shapes follow the width rule of the module docs).
    pub fn load(vgg: &Path, decoder: &Path) -> Result<AdainNet> {
        let enc_t = read_tensors(vgg)?;
        let dec_t = read_tensors(decoder)?;
        // The width divisor comes from the first 3×3 conv of the encoder.
        let factor = infer_factor(vgg, &enc_t)?;
        let div = |c: usize| if c == 3 { 3 } else { c / factor };
        let mut enc = Vec::with_capacity(ENC.len());
        for &(idx, cin, cout) in &ENC {
            let k = if idx == 0 { 1 } else { 3 };
            enc.push(take_conv(vgg, &enc_t, idx, div(cin), div(cout), k)?);
        }
        let mut dec = Vec::with_capacity(DEC.len());
        for &(idx, cin, cout) in &DEC {
            dec.push(take_conv(decoder, &dec_t, idx, div(cin), div(cout), 3)?);
        }
        Ok(AdainNet { enc, dec, factor })
    }

    /// Channel-width divisor of the loaded network (1 for the published weights).
    pub fn width_factor(&self) -> usize {
        self.factor
    }

    /// Number of relu4_1 channels (512 for the published weights).
    pub fn feature_channels(&self) -> usize {
        512 / self.factor
    }

    /// Encodes a (prepared) style image once; keeps the per-channel mean/std of relu4_1 features.
    pub fn style_features(&self, rgb8: &[u8], width: u32, height: u32) -> Result<AdainStyle> {
        let f = self.encode(input_map(rgb8, width, height)?);
        let (mean, std) = mean_std(&f.data, f.c, f.h * f.w);
        Ok(AdainStyle { mean, std })
    }

    /// Stylizes RGB8 content (row-major, 3 channels) with alpha in [0, 1]; returns RGB8 of the same
    /// size, quantised as torchvision `save_image` (`trunc(clamp(v·255 + 0.5, 0, 255))`).
    pub fn stylize(
        &self,
        content_rgb8: &[u8],
        width: u32,
        height: u32,
        style: &AdainStyle,
        alpha: f32,
    ) -> Result<Vec<u8>> {
        let v = self.stylize_f32(content_rgb8, width, height, style, alpha)?;
        // f32 arithmetic in the order of `mul(255).add_(0.5).clamp_(0, 255)` then `to(uint8)`.
        Ok(v.iter()
            .map(|&x| (x * 255.0 + 0.5).clamp(0.0, 255.0) as u8)
            .collect())
    }

    /// As [`AdainNet::stylize`] but returns the float decoder output before quantisation
    /// (H×W×3, row-major, channel fastest, cropped to the content size; nominally in [0, 1] but not
    /// clamped). Used by the fidelity tests against PyTorch.
    pub fn stylize_f32(
        &self,
        content_rgb8: &[u8],
        width: u32,
        height: u32,
        style: &AdainStyle,
        alpha: f32,
    ) -> Result<Vec<f32>> {
        let t = self.adain_map(content_rgb8, width, height, style, alpha)?;
        let y = self.decode(t);
        debug_assert_eq!(y.c, 3);
        let (ow, oh) = (width as usize, height as usize);
        let plane = y.h * y.w;
        let mut out = Vec::with_capacity(ow * oh * 3);
        for yy in 0..oh {
            for xx in 0..ow {
                for ch in 0..3 {
                    out.push(y.data[ch * plane + yy * y.w + xx]);
                }
            }
        }
        Ok(out)
    }

    /// The decoder input: `α·AdaIN(relu4_1(content), style) + (1 − α)·relu4_1(content)`, as
    /// `(channels, height, width, CHW data)` at relu4_1 resolution (of the edge-extended image
    /// for sides < [`MIN_SIDE`]). Exposed for tests of the AdaIN statistics.
    pub fn adain_features(
        &self,
        content_rgb8: &[u8],
        width: u32,
        height: u32,
        style: &AdainStyle,
        alpha: f32,
    ) -> Result<(usize, usize, usize, Vec<f32>)> {
        let t = self.adain_map(content_rgb8, width, height, style, alpha)?;
        Ok((t.c, t.h, t.w, t.data))
    }

    fn adain_map(
        &self,
        content_rgb8: &[u8],
        width: u32,
        height: u32,
        style: &AdainStyle,
        alpha: f32,
    ) -> Result<Fmap> {
        if !(0.0..=1.0).contains(&alpha) {
            return Err(Error::InvalidArgument(format!(
                "adain: alpha must be in [0, 1], got {alpha}"
            )));
        }
        if style.mean.len() != self.feature_channels() || style.std.len() != self.feature_channels()
        {
            return Err(Error::InvalidArgument(format!(
                "adain: style has {} channels, the network {}",
                style.mean.len(),
                self.feature_channels()
            )));
        }
        let mut f = self.encode(input_map(content_rgb8, width, height)?);
        let n = f.h * f.w;
        let (cm, cs) = mean_std(&f.data, f.c, n);
        for ch in 0..f.c {
            let (m, s, sm, ss) = (cm[ch], cs[ch], style.mean[ch], style.std[ch]);
            for v in &mut f.data[ch * n..(ch + 1) * n] {
                // pytorch-AdaIN order: ((c − μc) / σc) · σs + μs, then the α blend of test.py.
                let t = (*v - m) / s * ss + sm;
                *v = t * alpha + *v * (1.0 - alpha);
            }
        }
        Ok(f)
    }

    fn encode(&self, x: Fmap) -> Fmap {
        let e = &self.enc;
        let mut x = conv(&x, &e[0], false);
        for (i, layer) in e[1..].iter().enumerate() {
            // pools sit before the convs 9, 16, 29 (list positions 3, 5, 9 of ENC, i.e. i = 2, 4, 8)
            if matches!(i, 2 | 4 | 8) {
                x = pool_ceil(&x);
            }
            x = conv(&x, layer, true);
        }
        x
    }

    fn decode(&self, t: Fmap) -> Fmap {
        let mut x = t;
        let last = self.dec.len() - 1;
        for (i, layer) in self.dec.iter().enumerate() {
            // upsampling sits before the convs 5, 18, 25 (list positions 1, 5, 7)
            if matches!(i, 1 | 5 | 7) {
                x = upsample2(&x);
            }
            x = conv(&x, layer, i != last);
        }
        x
    }
}

/// Index of `ReflectionPad2d(1)`: position `i ∈ [−1, n]` of a padded axis of length `n ≥ 2`.
#[inline]
fn reflect(i: isize, n: usize) -> usize {
    if i < 0 {
        1
    } else if i as usize >= n {
        n - 2
    } else {
        i as usize
    }
}

/// Floats of im2col buffer per band (2 MB): bounds memory for large images (a full 224×224
/// conv1_2 im2col would be 115 MB) and keeps the band in L2/L3 between im2col and the GEMM's
/// packing. Measured at 224×224, one thread: 0.25 M–0.5 M floats ≈ 255 ms per image, 2 M ≈ 270 ms,
/// 8 M ≈ 315 ms.
const BAND_FLOATS: usize = 1 << 19;

/// Convolution (stride 1) with a fused `ReflectionPad2d(1)` for 3×3 kernels, bias, and an
/// optional fused ReLU. im2col over bands of output rows, each band one GEMM
/// `out[cout, band] = W[cout, cin·9] · col[cin·9, band]` (crate `gemm`, which never splits the
/// K reduction between threads, so the result does not depend on the thread count).
fn conv(x: &Fmap, c: &Conv, relu: bool) -> Fmap {
    debug_assert_eq!(x.c, c.cin);
    let (h, w) = (x.h, x.w);
    let plane = h * w;
    let kk = c.cin * c.k * c.k;
    let mut out = vec![0f32; c.cout * plane];
    let threads = rayon::current_num_threads();
    let par = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    if c.k == 1 {
        gemm_into(&mut out, plane, 0, plane, &c.w, c.cout, kk, &x.data, par);
    } else {
        let rows = (BAND_FLOATS / (kk * w)).clamp(1, h);
        let mut col = vec![0f32; kk * rows * w];
        let mut y0 = 0;
        while y0 < h {
            let y1 = (y0 + rows).min(h);
            let n = (y1 - y0) * w;
            let col = &mut col[..kk * n];
            im2col3(x, y0, y1, col);
            gemm_into(&mut out, plane, y0 * w, n, &c.w, c.cout, kk, col, par);
            y0 = y1;
        }
    }
    // bias (+ ReLU), after the reduction as PyTorch's conv does
    for (o, b) in out.chunks_exact_mut(plane).zip(&c.b) {
        if relu {
            o.iter_mut().for_each(|v| *v = (*v + b).max(0.0));
        } else {
            o.iter_mut().for_each(|v| *v += b);
        }
    }
    Fmap {
        c: c.cout,
        h,
        w,
        data: out,
    }
}

/// im2col of a reflection-padded 3×3 neighbourhood for output rows `y0..y1`:
/// `col[(ci·9 + ky·3 + kx)·n + (y − y0)·w + x] = in[ci, refl(y+ky−1), refl(x+kx−1)]`.
fn im2col3(x: &Fmap, y0: usize, y1: usize, col: &mut [f32]) {
    use rayon::prelude::*;
    let (h, w) = (x.h, x.w);
    let n = (y1 - y0) * w;
    col.par_chunks_mut(9 * n).enumerate().for_each(|(ci, cc)| {
        let src = &x.data[ci * h * w..(ci + 1) * h * w];
        for ky in 0..3 {
            for kx in 0..3 {
                let dst = &mut cc[(ky * 3 + kx) * n..(ky * 3 + kx + 1) * n];
                for (r, y) in (y0..y1).enumerate() {
                    let sy = reflect(y as isize + ky as isize - 1, h);
                    let s = &src[sy * w..(sy + 1) * w];
                    let d = &mut dst[r * w..(r + 1) * w];
                    match kx {
                        0 => {
                            d[0] = s[1];
                            d[1..].copy_from_slice(&s[..w - 1]);
                        }
                        1 => d.copy_from_slice(s),
                        _ => {
                            d[..w - 1].copy_from_slice(&s[1..]);
                            d[w - 1] = s[w - 2];
                        }
                    }
                }
            }
        }
    });
}

/// `out[:, off..off+n]` (row stride `ld`) = `a[m×k] · b[k×n]`, all row-major.
#[allow(clippy::too_many_arguments)]
fn gemm_into(
    out: &mut [f32],
    ld: usize,
    off: usize,
    n: usize,
    a: &[f32],
    m: usize,
    k: usize,
    b: &[f32],
    par: gemm::Parallelism,
) {
    assert!(a.len() >= m * k && b.len() >= k * n && off + n <= ld && out.len() >= m * ld);
    // SAFETY: the asserts above bound every index the strides below reach: dst rows
    // `i·ld + off + j` (i < m, j < n), lhs `i·k + p`, rhs `p·n + j`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr().add(off),
            1,
            ld as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

/// `MaxPool2d(2, 2, ceil_mode=True)`: the last window of an odd side covers one row/column.
fn pool_ceil(x: &Fmap) -> Fmap {
    let (h, w) = (x.h, x.w);
    let (oh, ow) = (h.div_ceil(2), w.div_ceil(2));
    let mut data = Vec::with_capacity(x.c * oh * ow);
    for ch in 0..x.c {
        let p = &x.data[ch * h * w..(ch + 1) * h * w];
        for oy in 0..oh {
            let (ya, yb) = (2 * oy, (2 * oy + 1).min(h - 1));
            for ox in 0..ow {
                let (xa, xb) = (2 * ox, (2 * ox + 1).min(w - 1));
                let m = p[ya * w + xa]
                    .max(p[ya * w + xb])
                    .max(p[yb * w + xa])
                    .max(p[yb * w + xb]);
                data.push(m);
            }
        }
    }
    Fmap {
        c: x.c,
        h: oh,
        w: ow,
        data,
    }
}

/// `UpsamplingNearest2d(scale_factor=2)`.
fn upsample2(x: &Fmap) -> Fmap {
    let (h, w) = (x.h, x.w);
    let (oh, ow) = (2 * h, 2 * w);
    let mut data = Vec::with_capacity(x.c * oh * ow);
    for ch in 0..x.c {
        let p = &x.data[ch * h * w..(ch + 1) * h * w];
        for oy in 0..oh {
            let r = &p[(oy / 2) * w..(oy / 2 + 1) * w];
            for &v in r {
                data.push(v);
                data.push(v);
            }
        }
    }
    Fmap {
        c: x.c,
        h: oh,
        w: ow,
        data,
    }
}

/// RGB8 → CHW f32 in [0, 1] (`ToTensor`: `u8 as f32 / 255`), edge-extended (bottom/right) to at
/// least [`MIN_SIDE`] per side.
fn input_map(rgb8: &[u8], width: u32, height: u32) -> Result<Fmap> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || rgb8.len() != w * h * 3 {
        return Err(Error::InvalidImage(format!(
            "adain: expected a {w}×{h} RGB8 buffer of {} bytes, got {} bytes",
            w * h * 3,
            rgb8.len()
        )));
    }
    let (pw, ph) = (w.max(MIN_SIDE), h.max(MIN_SIDE));
    let mut data = vec![0f32; 3 * pw * ph];
    for c in 0..3 {
        for y in 0..ph {
            let sy = y.min(h - 1);
            for x in 0..pw {
                let sx = x.min(w - 1);
                data[(c * ph + y) * pw + x] = rgb8[(sy * w + sx) * 3 + c] as f32 / 255.0;
            }
        }
    }
    Ok(Fmap {
        c: 3,
        h: ph,
        w: pw,
        data,
    })
}

/// Per-channel mean and `sqrt(unbiased var + eps)` (`calc_mean_std`), accumulated in f64 (PyTorch
/// accumulates CPU float variance in double as well).
fn mean_std(data: &[f32], c: usize, n: usize) -> (Vec<f32>, Vec<f32>) {
    let mut means = Vec::with_capacity(c);
    let mut stds = Vec::with_capacity(c);
    for ch in 0..c {
        let s = &data[ch * n..(ch + 1) * n];
        let m = s.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let ss = s
            .iter()
            .map(|&v| (v as f64 - m) * (v as f64 - m))
            .sum::<f64>();
        // n ≥ 4 always (relu4_1 is at least 2×2 thanks to MIN_SIDE)
        let var = ss / (n as f64 - 1.0);
        means.push(m as f32);
        stds.push((var + EPS).sqrt() as f32);
    }
    (means, stds)
}

/// Infers the width divisor from `2.weight` (`[64/k, 3, 3, 3]`), checking `0.weight` first.
fn infer_factor(path: &Path, t: &HashMap<String, Tensor>) -> Result<usize> {
    let w0 = get(path, t, "0.weight", &[3, 3, 1, 1])?;
    check_shape(path, "0.weight", w0, &[3, 3, 1, 1])?;
    let w2 = get(path, t, "2.weight", &[64, 3, 3, 3])?;
    let dims = w2.dims().to_vec();
    let ok = dims.len() == 4 && dims[1..] == [3, 3, 3] && dims[0] > 0 && 64 % dims[0] == 0;
    if !ok {
        return Err(Error::Weights {
            path: path.to_path_buf(),
            tensor: "2.weight".into(),
            expected:
                "[64/k, 3, 3, 3] with k in {1, 2, 4, 8, 16, 32, 64} (published: [64, 3, 3, 3])"
                    .into(),
            found: shape_str(&dims),
        });
    }
    Ok(64 / dims[0])
}

fn get<'a>(
    path: &Path,
    t: &'a HashMap<String, Tensor>,
    name: &str,
    expected: &[usize],
) -> Result<&'a Tensor> {
    t.get(name).ok_or_else(|| Error::Weights {
        path: path.to_path_buf(),
        tensor: name.into(),
        expected: shape_str(expected),
        found: "missing".into(),
    })
}

fn check_shape(path: &Path, name: &str, t: &Tensor, expected: &[usize]) -> Result<()> {
    if t.dims() != expected {
        return Err(Error::Weights {
            path: path.to_path_buf(),
            tensor: name.into(),
            expected: shape_str(expected),
            found: shape_str(t.dims()),
        });
    }
    Ok(())
}

fn take_conv(
    path: &Path,
    t: &HashMap<String, Tensor>,
    idx: usize,
    cin: usize,
    cout: usize,
    k: usize,
) -> Result<Conv> {
    let wn = format!("{idx}.weight");
    let bn = format!("{idx}.bias");
    let ws = [cout, cin, k, k];
    let w = get(path, t, &wn, &ws)?;
    check_shape(path, &wn, w, &ws)?;
    let b = get(path, t, &bn, &[cout])?;
    check_shape(path, &bn, b, &[cout])?;
    let f32v = |x: &Tensor| {
        x.to_dtype(DType::F32)
            .and_then(|x| x.flatten_all())
            .and_then(|x| x.to_vec1::<f32>())
            .map_err(|e| format_err(path, e))
    };
    Ok(Conv {
        w: f32v(w)?,
        b: f32v(b)?,
        cin,
        cout,
        k,
    })
}

fn format_err(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::WeightFile {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Reads every tensor of a weight file (format by content, see the module docs).
fn read_tensors(path: &Path) -> Result<HashMap<String, Tensor>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.starts_with(b"PK\x03\x04") {
        // zip-based torch.save (PyTorch ≥ 1.6): candle's reader.
        let pth =
            candle_core::pickle::PthTensors::new(path, None).map_err(|e| format_err(path, e))?;
        let mut out = HashMap::new();
        for name in pth.tensor_infos().keys() {
            if let Some(t) = pth.get(name).map_err(|e| format_err(path, e))? {
                out.insert(name.clone(), t);
            }
        }
        Ok(out)
    } else if bytes.starts_with(&LEGACY_MAGIC) {
        read_legacy_pth(path, &bytes)
    } else if bytes.len() >= 9 && bytes[8] == b'{' {
        candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).map_err(|e| format_err(path, e))
    } else {
        Err(format_err(
            path,
            "not a PyTorch .pth (zip or legacy) nor a .safetensors file",
        ))
    }
}

/// `pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)`: the first record of a legacy torch.save.
const LEGACY_MAGIC: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
];

/// Reader of the legacy (pre-1.6) torch.save format: magic, protocol version, sys-info, the
/// state dict (storages as persistent ids `('storage', type, key, location, numel, view)`), the
/// list of storage keys, then per key an i64 element count and the raw little-endian data.
fn read_legacy_pth(path: &Path, bytes: &[u8]) -> Result<HashMap<String, Tensor>> {
    let err = |m: String| format_err(path, format!("legacy torch.save file: {m}"));
    let mut r: &[u8] = &bytes[LEGACY_MAGIC.len()..];
    let next = |r: &mut &[u8]| -> Result<Object> {
        let mut st = Stack::empty();
        st.read_loop(r).map_err(|e| err(e.to_string()))?;
        st.finalize().map_err(|e| err(e.to_string()))
    };
    let _protocol = next(&mut r)?;
    let _sys_info = next(&mut r)?;
    let obj = next(&mut r)?;
    let keys = match next(&mut r)? {
        Object::List(k) => k
            .into_iter()
            .map(|k| {
                k.unicode()
                    .map_err(|o| err(format!("bad storage key {o:?}")))
            })
            .collect::<Result<Vec<_>>>()?,
        o => return Err(err(format!("expected the storage key list, got {o:?}"))),
    };
    // storage key → (byte offset of its data in `bytes`, element count); the element size of
    // each key comes from the storage type named in its persistent id.
    let mut types = HashMap::new();
    collect_storage_types(&obj, &mut types);
    let mut storages = HashMap::new();
    let mut pos = bytes.len() - r.len();
    for k in keys {
        let n = bytes
            .get(pos..pos + 8)
            .ok_or_else(|| err("truncated storage".into()))?;
        let numel = u64::from_le_bytes(n.try_into().expect("8 bytes")) as usize;
        let es = types
            .get(&k)
            .map(|d: &DType| d.size_in_bytes())
            .ok_or_else(|| err(format!("storage {k} of unsupported or unknown type")))?;
        storages.insert(k, (pos + 8, numel));
        pos += 8 + numel * es;
    }
    let Object::Dict(entries) = obj else {
        return Err(err("the saved object is not a state dict".into()));
    };
    let mut out = HashMap::new();
    for (name, value) in entries {
        let Ok(name) = name.unicode() else { continue };
        if let Some(t) = legacy_tensor(value, &storages, bytes).map_err(err)? {
            out.insert(name, t);
        }
    }
    Ok(out)
}

/// Collects `storage key → dtype` from every persistent id
/// `('storage', <module>.<Type>Storage, key, …)` of a legacy pickle.
fn collect_storage_types(o: &Object, out: &mut HashMap<String, DType>) {
    match o {
        Object::PersistentLoad(id) => {
            if let Object::Tuple(v) = &**id {
                if let (Some(Object::Class { class_name, .. }), Some(Object::Unicode(key))) =
                    (v.get(1), v.get(2))
                {
                    if let Some(d) = storage_dtype(class_name) {
                        out.insert(key.clone(), d);
                    }
                }
            }
        }
        Object::Tuple(v) | Object::List(v) => v.iter().for_each(|x| collect_storage_types(x, out)),
        Object::Dict(v) => v.iter().for_each(|(a, b)| {
            collect_storage_types(a, out);
            collect_storage_types(b, out);
        }),
        Object::Reduce { callable, args } | Object::Build { callable, args } => {
            collect_storage_types(callable, out);
            collect_storage_types(args, out);
        }
        _ => {}
    }
}

fn storage_dtype(class_name: &str) -> Option<DType> {
    Some(match class_name {
        "FloatStorage" => DType::F32,
        "DoubleStorage" => DType::F64,
        "HalfStorage" => DType::F16,
        "BFloat16Storage" => DType::BF16,
        _ => return None,
    })
}

/// One state-dict value → tensor, for `_rebuild_tensor_v2(storage, offset, size, stride, …)`,
/// the 2017-era `_rebuild_tensor(storage, offset, size, stride)` and `_rebuild_parameter`.
fn legacy_tensor(
    value: Object,
    storages: &HashMap<String, (usize, usize)>,
    bytes: &[u8],
) -> std::result::Result<Option<Tensor>, String> {
    let Object::Reduce { callable, args } = value else {
        return Ok(None);
    };
    let (mut callable, mut args) = (*callable, *args);
    if let Object::Class { class_name, .. } = &callable {
        if class_name == "_rebuild_parameter" {
            let mut a = args.tuple().map_err(|o| format!("bad parameter {o:?}"))?;
            if a.is_empty() {
                return Ok(None);
            }
            match a.remove(0) {
                Object::Reduce {
                    callable: c,
                    args: r,
                } => {
                    callable = *c;
                    args = *r;
                }
                _ => return Ok(None),
            }
        }
    }
    match &callable {
        Object::Class { class_name, .. }
            if class_name == "_rebuild_tensor_v2" || class_name == "_rebuild_tensor" => {}
        _ => return Ok(None),
    }
    let mut a = args.tuple().map_err(|o| format!("bad tensor args {o:?}"))?;
    if a.len() < 4 {
        return Err("tensor rebuild with fewer than 4 arguments".into());
    }
    let stride: Vec<usize> =
        Vec::<usize>::try_from(a.remove(3)).map_err(|o| format!("bad stride {o:?}"))?;
    let size: Vec<usize> =
        Vec::<usize>::try_from(a.remove(2)).map_err(|o| format!("bad size {o:?}"))?;
    let offset = a
        .remove(1)
        .int_or_long()
        .map_err(|o| format!("bad offset {o:?}"))? as usize;
    let storage = a
        .remove(0)
        .persistent_load()
        .and_then(|s| s.tuple())
        .map_err(|o| format!("bad storage {o:?}"))?;
    if storage.len() < 5 {
        return Err("bad storage id".into());
    }
    let mut storage = storage;
    let view = if storage.len() > 5 {
        storage.remove(5)
    } else {
        Object::None
    };
    let key = storage
        .remove(2)
        .unicode()
        .map_err(|o| format!("bad key {o:?}"))?;
    let (_, class_name) = storage
        .remove(1)
        .class()
        .map_err(|o| format!("bad type {o:?}"))?;
    let dtype = storage_dtype(&class_name).ok_or(format!("unsupported storage {class_name}"))?;
    let es = dtype.size_in_bytes();
    let (mut start, mut numel) = *storages.get(&key).ok_or(format!("missing storage {key}"))?;
    // Storage views (old format): ('view_key', offset, size) into the root storage.
    if let Object::Tuple(mut v) = view {
        if v.len() == 3 {
            let vsize = v
                .remove(2)
                .int_or_long()
                .map_err(|o| format!("bad view {o:?}"))? as usize;
            let voff = v
                .remove(1)
                .int_or_long()
                .map_err(|o| format!("bad view {o:?}"))? as usize;
            start += voff * es;
            numel = vsize;
        }
    }
    let count: usize = size.iter().product();
    // Row-major strides: one slice copy (the usual case).
    let mut row_major = vec![1usize; size.len()];
    for d in (0..size.len().saturating_sub(1)).rev() {
        row_major[d] = row_major[d + 1] * size[d + 1];
    }
    if stride == row_major || count <= 1 {
        if offset + count > numel {
            return Err(format!(
                "tensor of {count} elements outside its storage of {numel}"
            ));
        }
        let raw = bytes
            .get(start + offset * es..start + (offset + count) * es)
            .ok_or("truncated storage data")?;
        return Tensor::from_raw_buffer(raw, dtype, &size, &Device::Cpu)
            .map(Some)
            .map_err(|e| e.to_string());
    }
    // Otherwise gather the strided elements into a contiguous row-major buffer.
    let mut raw = Vec::with_capacity(count * es);
    let mut idx = vec![0usize; size.len()];
    for _ in 0..count {
        let e = offset + idx.iter().zip(&stride).map(|(i, s)| i * s).sum::<usize>();
        if e >= numel {
            return Err(format!("tensor element {e} outside its storage of {numel}"));
        }
        let b = bytes
            .get(start + e * es..start + (e + 1) * es)
            .ok_or("truncated storage data")?;
        raw.extend_from_slice(b);
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < size[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Tensor::from_raw_buffer(&raw, dtype, &size, &Device::Cpu)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Compile-time check that the public types can be shared between worker threads.
#[allow(dead_code)]
fn assert_send_sync() {
    fn f<T: Send + Sync>() {}
    f::<AdainNet>();
    f::<AdainStyle>();
}
