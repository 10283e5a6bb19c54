//! Step "encode": corrupted RGB → file bytes.
//!
//! JPEG goes through the pure-Rust `jpeg-encoder` crate (baseline, 4:2:0, optimised Huffman
//! tables like ImageNet-C's `save(quality=85, optimize=True)`; the `image` crate's encoder can
//! only do 4:2:2). That crate converts colours with a slightly different rounding than libjpeg
//! and "downsamples" chroma by taking every other sample, whereas libjpeg (used by PIL, and so
//! by ImageNet-C) averages 2×2 blocks — on noise corruptions the difference is large (mean
//! |Δ| ≈ 27 on gaussian_noise severity 5). So colour conversion and chroma downsampling are
//! done here exactly as libjpeg does them (`jccolor.c`, `jcsample.c` `h2v2_downsample` with
//! its alternating 1, 2 rounding bias, edges replicated as `jcprepct.c`/`jcsample.c` do), and
//! the encoder receives YCbCr in which every chroma sample it picks already holds libjpeg's
//! average. Its forward DCT (a port of libjpeg's `jfdctint.c`) and quantisation (libjpeg-turbo's
//! reciprocals) then give the same coefficients as PIL: the decoded pixels equal those of PIL's
//! file (tests/generate.rs, fixture made by PIL). One exception: when `ceil(W/2)` is not a
//! multiple of 8, libjpeg's padding chroma columns beyond the right edge alternate between two
//! roundings; the encoder can only replicate one value there, so the last column of chroma
//! blocks may differ by one quantisation step (224-pixel ImageNet-C images are unaffected).
//! The file bytes differ from PIL's (other Huffman tables, JFIF fields); the scalar DCT is used
//! on every CPU so that bytes do not depend on the machine (its AVX2 DCT gives other bytes).

use image::DynamicImage;
use jpeg_encoder::{ImageBuffer, JpegColorType};

use crate::io::OutputFormat;

/// Encode 8-bit RGB (`w·h·3` bytes) in `format`; JPEG at `quality` (1–100).
pub fn encode_rgb(
    px: &[u8],
    w: usize,
    h: usize,
    format: OutputFormat,
    quality: u8,
) -> std::result::Result<Vec<u8>, String> {
    if format == OutputFormat::Jpeg {
        let ycc = LibjpegYcc::new(px, w, h)?;
        let mut out = Vec::with_capacity(px.len() / 8 + 1024);
        let mut enc = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
        enc.set_optimized_huffman_tables(true);
        enc.encode_image(ycc).map_err(|e| e.to_string())?;
        return Ok(out);
    }
    let img =
        image::RgbImage::from_raw(w as u32, h as u32, px.to_vec()).ok_or("buffer size mismatch")?;
    crate::io::encode(&DynamicImage::ImageRgb8(img), format, quality)
}

/// libjpeg's fixed-point constant `FIX(x)` with 16 fraction bits.
fn fix(x: f64) -> i32 {
    (x * 65536.0 + 0.5) as i32
}

/// An image as libjpeg hands it to the DCT: full-resolution Y, and Cb/Cr downsampled 2×2.
struct LibjpegYcc {
    w: usize,
    h: usize,
    y: Vec<u8>,
    /// Downsampled chroma, `cw × ch`.
    cb: Vec<u8>,
    cr: Vec<u8>,
    cw: usize,
    /// Per downsampled row: the value of the chroma columns beyond the right edge (for even
    /// widths; the first such column's rounding bias).
    edge_cb: Vec<u8>,
    edge_cr: Vec<u8>,
}

impl LibjpegYcc {
    fn new(px: &[u8], w: usize, h: usize) -> std::result::Result<LibjpegYcc, String> {
        if w == 0 || h == 0 || w > 65535 || h > 65535 {
            return Err(format!(
                "{w}x{h} cannot be stored as JPEG (1..=65535 per side)"
            ));
        }
        let (fy_r, fy_g, fy_b) = (fix(0.29900), fix(0.58700), fix(0.11400));
        let (fcb_r, fcb_g) = (fix(0.16874), fix(0.33126));
        let (fcr_g, fcr_b) = (fix(0.41869), fix(0.08131));
        let half = fix(0.5);
        let one_half = 1i32 << 15;
        let cbcr_offset = 128i32 << 16;
        let n = w * h;
        let (mut y, mut cbf, mut crf) = (vec![0u8; n], vec![0u8; n], vec![0u8; n]);
        for (i, p) in px[..n * 3].chunks_exact(3).enumerate() {
            let (r, g, b) = (p[0] as i32, p[1] as i32, p[2] as i32);
            y[i] = ((fy_r * r + fy_g * g + fy_b * b + one_half) >> 16) as u8;
            cbf[i] = ((-fcb_r * r - fcb_g * g + half * b + cbcr_offset + one_half - 1) >> 16) as u8;
            crf[i] = ((half * r - fcr_g * g - fcr_b * b + cbcr_offset + one_half - 1) >> 16) as u8;
        }
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let at = |plane: &[u8], row: usize, col: usize| {
            plane[row.min(h - 1) * w + col.min(w - 1)] as u32
        };
        let down = |plane: &[u8]| -> (Vec<u8>, Vec<u8>) {
            let mut out = vec![0u8; cw * ch];
            let mut edge = vec![0u8; ch];
            for k in 0..ch {
                let (r0, r1) = (2 * k, 2 * k + 1);
                for j in 0..cw {
                    let bias = if j % 2 == 0 { 1 } else { 2 };
                    let s = at(plane, r0, 2 * j)
                        + at(plane, r0, 2 * j + 1)
                        + at(plane, r1, 2 * j)
                        + at(plane, r1, 2 * j + 1);
                    out[k * cw + j] = ((s + bias) >> 2) as u8;
                }
                let j = cw; // first padding column (only used for even widths)
                let bias = if j % 2 == 0 { 1 } else { 2 };
                let s = 2 * at(plane, r0, w - 1) + 2 * at(plane, r1, w - 1);
                edge[k] = ((s + bias) >> 2) as u8;
            }
            (out, edge)
        };
        let (cb, edge_cb) = down(&cbf);
        let (cr, edge_cr) = down(&crf);
        Ok(LibjpegYcc {
            w,
            h,
            y,
            cb,
            cr,
            cw,
            edge_cb,
            edge_cr,
        })
    }
}

impl ImageBuffer for LibjpegYcc {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        JpegColorType::Ycbcr
    }

    fn width(&self) -> u16 {
        self.w as u16
    }

    fn height(&self) -> u16 {
        self.h as u16
    }

    /// The encoder calls this for every row of the padded image (rows past the bottom repeat
    /// the last row), then replicates each row's last value to the padded width, and takes
    /// chroma at even (x, y) only. Row `y` therefore carries downsampled row `y/2` at even x
    /// (for an even height the last row `h−1` is odd, never sampled itself, and repeating it
    /// yields libjpeg's replicated last downsampled row), and at an odd last column the
    /// padding value.
    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let y = y as usize;
        let k = y / 2;
        buffers[0].extend_from_slice(&self.y[y * self.w..(y + 1) * self.w]);
        for (buf, plane, edge) in [(1, &self.cb, &self.edge_cb), (2, &self.cr, &self.edge_cr)] {
            let row = &plane[k * self.cw..(k + 1) * self.cw];
            let b = &mut buffers[buf];
            for x in 0..self.w {
                b.push(if x % 2 == 1 && x == self.w - 1 {
                    edge[k]
                } else {
                    row[x / 2]
                });
            }
        }
    }
}
