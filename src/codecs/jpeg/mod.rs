//! Bit-exact lossy JPEG round trip, as Pillow does it with libjpeg-turbo, minus entropy coding.
//!
//! `PIL.Image.fromarray(x).save(buf, "JPEG", quality=q)` followed by
//! `np.asarray(Image.open(buf))` runs these lossy steps (Huffman coding is lossless and skipped):
//!
//! 1. **Colour conversion** RGB → YCbCr (`jccolor.c`), into planes padded to whole blocks.
//! 2. **Edge expansion and 4:2:0 downsampling** (`jcprepct.c`, `jcsample.c`): the image is
//!    extended to whole 8×8 blocks by repeating its last column and row; Cb/Cr are box-averaged
//!    over 2×2 with the alternating 1, 2 rounding bias. For chroma the *full-resolution* rows are
//!    first extended to `2·8·ceil(ceil(W/2)/8)` columns and an odd last row is duplicated, then
//!    the downsampled rows are repeated down to a whole block.
//! 3. Per 8×8 block: **forward islow DCT** (`jfdctint.c`), **quantisation** (`jcdctmgr.c`,
//!    reciprocal method) with the tables of `jpeg_set_quality(q, force_baseline = TRUE)`, then the
//!    decoder's **dequantisation and islow IDCT** (`jidctint.c`) with range limiting.
//! 4. **Fancy upsampling** of Cb/Cr (`jdsample.c` `h2v2_fancy_upsample`, the libjpeg default
//!    `do_fancy_upsampling = TRUE`; merged upsampling is never used when it is set). When the
//!    downsampled width is at most 2 (images up to 4 pixels wide) libjpeg falls back to plain
//!    box (replicating) `h2v2_upsample`.
//! 5. **Colour conversion** YCbCr → RGB (`jdcolor.c`).
//!
//! Blocks that lie wholly outside the image (the MCU padding libjpeg fills with dummy blocks) are
//! never decoded into visible pixels, so they are skipped.
//!
//! The encoder half (steps 1–3 up to the quantised coefficients, plus libjpeg's dummy blocks)
//! is also what the JPEG file writer [`encode_jpeg`] entropy-codes, via `coefs_into`.
//!
//! The hot kernels have AVX2 twins; both paths produce identical bytes. The path is chosen once
//! per image at the entry points (`crate::simd::isa`) and passed down as an [`Isa`] level to the
//! leaves, which call their twin through `dispatch!(at level; …)`, so that tests can run the
//! whole pipeline at every level the machine has.

mod color;
mod dct;
pub mod decode;
mod encode;
mod sample;
mod tables;

pub use encode::{encode_jpeg, JpegEncoder};
pub use tables::quant_tables;

use crate::simd::{dispatch, isa, Isa};
use tables::Divisors;

/// Reusable working memory for [`roundtrip_rgb_with`] (planes, row buffers, block lists), so that
/// repeated calls on same-sized images allocate nothing.
#[derive(Default)]
pub struct JpegScratch {
    y: Vec<u8>,
    cb: Vec<u8>,
    cr: Vec<u8>,
    /// Two full-resolution rows each of Cb and Cr ahead of downsampling.
    full: Vec<u8>,
    /// Upsampled Cb and Cr rows for one output row (box upsampling of images up to 4 pixels
    /// wide only: the fancy upsampler is fused with the colour conversion).
    up: Vec<u8>,
    /// Offsets of the blocks to process.
    offs: Vec<usize>,
    /// Cached divisor tables and the quality they belong to.
    divisors: Option<(u8, Box<(Divisors, Divisors)>)>,
}

impl JpegScratch {
    /// Empty scratch space; buffers grow on first use.
    pub fn new() -> Self {
        Self::default()
    }

    fn divisors(&mut self, quality: u8) -> &(Divisors, Divisors) {
        let q = quality.clamp(1, 100);
        if !matches!(&self.divisors, Some((cq, _)) if *cq == q) {
            let (l, c) = quant_tables(q);
            self.divisors = Some((q, Box::new((Divisors::new(&l), Divisors::new(&c)))));
        }
        &self.divisors.as_ref().unwrap().1
    }
}

/// Lossy JPEG round trip of an RGB8 image exactly as Pillow + libjpeg-turbo (4:2:0, islow DCT, IJG
/// quality scaling, fancy upsampling), without entropy coding.
///
/// `src` and `dst` are row-major interleaved RGB, `width·height·3` bytes (longer slices are
/// allowed; only the prefix is used). `quality` is Pillow's `quality` (values outside 1..=100 are
/// clamped as `jpeg_quality_scaling` does). An empty image is a no-op.
///
/// # Panics
/// If `src` or `dst` is shorter than `width·height·3` bytes.
pub fn roundtrip_rgb(src: &[u8], width: usize, height: usize, quality: u8, dst: &mut [u8]) {
    roundtrip_rgb_with(&mut JpegScratch::new(), src, width, height, quality, dst);
}

/// Same as [`roundtrip_rgb`] but reusing caller-provided scratch memory, to avoid per-call
/// allocation in training loops. One scratch serves any image size and quality (buffers only
/// grow); it is not shared between threads, use one per worker.
///
/// # Panics
/// If `src` or `dst` is shorter than `width·height·3` bytes.
pub fn roundtrip_rgb_with(
    scratch: &mut JpegScratch,
    src: &[u8],
    width: usize,
    height: usize,
    quality: u8,
    dst: &mut [u8],
) {
    roundtrip_impl(scratch, src, width, height, quality, dst, isa());
}

/// Geometry of the padded planes.
struct Geom {
    w: usize,
    h: usize,
    /// Y plane: `ceil(W/8)·8` × `ceil(H/8)·8`.
    yw: usize,
    yh: usize,
    /// Downsampled size `ceil(W/2)` × `ceil(H/2)` (libjpeg's `downsampled_width/height`).
    cw: usize,
    ch: usize,
    /// Chroma planes: `ceil(cw/8)·8` × `ceil(ch/8)·8`.
    cpw: usize,
    cph: usize,
}

impl Geom {
    fn new(w: usize, h: usize) -> Self {
        let cw = w.div_ceil(2);
        let ch = h.div_ceil(2);
        Geom {
            w,
            h,
            yw: w.div_ceil(8) * 8,
            yh: h.div_ceil(8) * 8,
            cw,
            ch,
            cpw: cw.div_ceil(8) * 8,
            cph: ch.div_ceil(8) * 8,
        }
    }
}

fn grow<T: Default + Clone>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize(n, T::default());
    }
}

/// The whole pipeline at a chosen SIMD `level` (checked against the hardware at each kernel).
pub(crate) fn roundtrip_impl(
    s: &mut JpegScratch,
    src: &[u8],
    width: usize,
    height: usize,
    quality: u8,
    dst: &mut [u8],
    level: Isa,
) {
    if width == 0 || height == 0 {
        return;
    }
    let n = rgb_len(src, width, height);
    assert!(dst.len() >= n, "dst too short: {} < {n}", dst.len());
    let g = Geom::new(width, height);
    grow_front(s, &g);
    grow(&mut s.up, 2 * (2 * g.cw + 32));

    encode_planes(s, src, &g, level);
    let (dl, dc) = *s.divisors(quality);
    let offs = &mut s.offs;
    block_offsets(offs, g.yw, g.yh);
    run_blocks(&mut s.y[..g.yw * g.yh], g.yw, offs, &dl, level);
    block_offsets(offs, g.cpw, g.cph);
    run_blocks(&mut s.cb[..g.cpw * g.cph], g.cpw, offs, &dc, level);
    run_blocks(&mut s.cr[..g.cpw * g.cph], g.cpw, offs, &dc, level);
    decode_planes(s, dst, &g, level);
}

/// `width·height·3`, the bytes of an RGB8 image.
///
/// # Panics
/// If that overflows `usize` or `src` is shorter.
fn rgb_len(src: &[u8], width: usize, height: usize) -> usize {
    let n = width
        .checked_mul(height)
        .and_then(|p| p.checked_mul(3))
        .expect("image size overflows usize");
    assert!(src.len() >= n, "src too short: {} < {n}", src.len());
    n
}

/// Grows the buffers [`encode_planes`] writes.
fn grow_front(s: &mut JpegScratch, g: &Geom) {
    grow(&mut s.y, g.yw * g.yh);
    grow(&mut s.cb, g.cpw * g.cph);
    grow(&mut s.cr, g.cpw * g.cph);
    grow(&mut s.full, 4 * 2 * g.cpw);
}

/// Quantised DCT coefficients of one component, as a baseline encoder entropy-codes them.
#[derive(Default)]
pub(crate) struct CoefPlane {
    /// Blocks in block-row-major order, each in natural (row-major) coefficient order (only the
    /// first `across · down` are meaningful: the vector is reused and only grows).
    pub blocks: Vec<[i16; 64]>,
    /// Blocks per block row (a whole number of MCUs).
    pub across: usize,
    /// Block rows (a whole number of MCUs).
    pub down: usize,
}

/// [`coefs_into`] into fresh planes.
#[cfg(test)]
pub(crate) fn coefs_impl(
    s: &mut JpegScratch,
    src: &[u8],
    width: usize,
    height: usize,
    quality: u8,
    level: Isa,
) -> [CoefPlane; 3] {
    let mut planes = <[CoefPlane; 3]>::default();
    coefs_into(s, src, width, height, quality, level, &mut planes);
    planes
}

/// The encoder half of the round trip: steps 1–3 of the module docs up to the quantised
/// coefficients, for a baseline JPEG file of an RGB8 image (`width·height·3` bytes, both sides
/// ≥ 1) with 4:2:0 sampling — Y, Cb, Cr, in that order.
///
/// Each grid is padded to whole MCUs (2×2 blocks for Y, 1×1 for Cb/Cr) with libjpeg's dummy
/// blocks (`jccoefct.c` `compress_first_pass`): zero AC and the DC of the block to their left,
/// or, in a dummy block row, the DC of the right-most block of the same MCU one row up. This is
/// what makes the file's DC differences equal libjpeg's.
///
/// The block vectors of `planes` are reused (they only grow), so that an encoder that keeps
/// them allocates nothing for same-sized images. `level` is checked against the hardware at
/// each kernel.
///
/// # Panics
/// If either side is 0 or `src` is shorter than `width·height·3` bytes.
pub(crate) fn coefs_into(
    s: &mut JpegScratch,
    src: &[u8],
    width: usize,
    height: usize,
    quality: u8,
    level: Isa,
    planes: &mut [CoefPlane; 3],
) {
    assert!(width > 0 && height > 0, "empty image");
    rgb_len(src, width, height);
    let g = Geom::new(width, height);
    grow_front(s, &g);
    encode_planes(s, src, &g, level);
    let (dl, dc) = *s.divisors(quality);
    let [py, pcb, pcr] = planes;
    coef_plane(
        &s.y[..g.yw * g.yh],
        g.yw,
        g.yh,
        &dl,
        2,
        &mut s.offs,
        level,
        py,
    );
    coef_plane(
        &s.cb[..g.cpw * g.cph],
        g.cpw,
        g.cph,
        &dc,
        1,
        &mut s.offs,
        level,
        pcb,
    );
    coef_plane(
        &s.cr[..g.cpw * g.cph],
        g.cpw,
        g.cph,
        &dc,
        1,
        &mut s.offs,
        level,
        pcr,
    );
}

/// Quantised blocks of one `pw × ph` plane (both multiples of 8) on a grid padded to whole
/// `samp × samp`-block MCUs with dummy blocks (see [`coefs_into`]), into `out`.
#[allow(clippy::too_many_arguments)]
fn coef_plane(
    plane: &[u8],
    pw: usize,
    ph: usize,
    d: &Divisors,
    samp: usize,
    offs: &mut Vec<usize>,
    level: Isa,
    out: &mut CoefPlane,
) {
    let (wib, hib) = (pw / 8, ph / 8);
    let across = wib.div_ceil(samp) * samp;
    let down = hib.div_ceil(samp) * samp;
    if out.blocks.len() < across * down {
        out.blocks.resize(across * down, [0; 64]);
    }
    out.across = across;
    out.down = down;
    let blocks = &mut out.blocks[..across * down];
    block_offsets(offs, pw, 8); // the blocks of one block row
    for by in 0..hib {
        let row = &mut blocks[by * across..(by + 1) * across];
        coef_blocks(&plane[by * 8 * pw..], pw, offs, d, &mut row[..wib], level);
        for bx in wib..across {
            // dummy block: zero AC, the DC of its left neighbour
            row[bx] = [0; 64];
            row[bx][0] = row[bx - 1][0];
        }
    }
    for by in hib..down {
        for mcu in 0..across / samp {
            let dc = blocks[(by - 1) * across + mcu * samp + samp - 1][0];
            for blk in &mut blocks[by * across + mcu * samp..][..samp] {
                *blk = [0; 64];
                blk[0] = dc;
            }
        }
    }
}

/// FDCT + quantisation of the blocks at `offs` into `out`: [`dct::coef_blocks_scalar`] or its
/// AVX2 twin.
fn coef_blocks(
    plane: &[u8],
    stride: usize,
    offs: &[usize],
    d: &Divisors,
    out: &mut [[i16; 64]],
    level: Isa,
) {
    dispatch!(at level; dct::coef_blocks_scalar / dct::avx2::coef_blocks(plane, stride, offs, d, out))
}

/// Offsets of all 8×8 blocks of a `pw × ph` plane (both multiples of 8).
fn block_offsets(offs: &mut Vec<usize>, pw: usize, ph: usize) {
    offs.clear();
    for by in (0..ph).step_by(8) {
        for bx in (0..pw).step_by(8) {
            offs.push(by * pw + bx);
        }
    }
}

fn run_blocks(plane: &mut [u8], stride: usize, offs: &[usize], d: &Divisors, level: Isa) {
    dispatch!(at level; dct::roundtrip_blocks_scalar / dct::avx2::roundtrip_blocks(plane, stride, offs, d))
}

/// Encoder front end: colour conversion, edge expansion and downsampling into the padded planes
/// (`jcprepct.c` `pre_process_data` + `jcsample.c`).
fn encode_planes(s: &mut JpegScratch, src: &[u8], g: &Geom, level: Isa) {
    let (w, h) = (g.w, g.h);
    let fw = 2 * g.cpw; // full-resolution chroma row width after expand_right_edge
    let (cb0, rest) = s.full.split_at_mut(fw);
    let (cb1, rest) = rest.split_at_mut(fw);
    let (cr0, rest) = rest.split_at_mut(fw);
    let cr1 = &mut rest[..fw];
    for i in 0..g.ch {
        // One row group: pixel rows 2i and 2i+1 (the latter repeated from 2i at an odd bottom).
        let r0 = 2 * i;
        convert_row(
            src,
            w,
            &mut s.y[r0 * g.yw..r0 * g.yw + w],
            r0,
            cb0,
            cr0,
            level,
        );
        if r0 + 1 < h {
            let r1 = r0 + 1;
            convert_row(
                src,
                w,
                &mut s.y[r1 * g.yw..r1 * g.yw + w],
                r1,
                cb1,
                cr1,
                level,
            );
        } else {
            cb1.copy_from_slice(cb0);
            cr1.copy_from_slice(cr0);
        }
        let out = i * g.cpw..(i + 1) * g.cpw;
        downsample_row(cb0, cb1, &mut s.cb[out.clone()], level);
        downsample_row(cr0, cr1, &mut s.cr[out], level);
    }
    // Y: expand right edge of every real row, then repeat the last row down to whole blocks.
    if g.yw > w {
        for row in 0..h {
            let r = &mut s.y[row * g.yw..(row + 1) * g.yw];
            let last = r[w - 1];
            r[w..].fill(last);
        }
    }
    replicate_rows(&mut s.y, g.yw, h, g.yh);
    // Chroma: repeat the last downsampled row (expand_bottom_edge on the prep output).
    replicate_rows(&mut s.cb, g.cpw, g.ch, g.cph);
    replicate_rows(&mut s.cr, g.cpw, g.ch, g.cph);
}

/// Colour-converts pixel row `row` into a Y row and full-resolution Cb/Cr rows, then
/// edge-expands the chroma rows to their full length (`expand_right_edge`).
fn convert_row(
    src: &[u8],
    w: usize,
    yrow: &mut [u8],
    row: usize,
    cb: &mut [u8],
    cr: &mut [u8],
    level: Isa,
) {
    let rgb = &src[row * w * 3..(row + 1) * w * 3];
    rgb_to_ycc_row(rgb, yrow, &mut cb[..w], &mut cr[..w], level);
    // Nothing to expand when W is a multiple of 16 (224): skip the empty `memset` calls.
    if cb.len() > w {
        let (lb, lr) = (cb[w - 1], cr[w - 1]);
        cb[w..].fill(lb);
        cr[w..].fill(lr);
    }
}

/// Copies row `from − 1` into rows `from..to` of a plane with the given stride.
fn replicate_rows(plane: &mut [u8], stride: usize, from: usize, to: usize) {
    for row in from..to {
        plane.copy_within((from - 1) * stride..from * stride, row * stride);
    }
}

/// Decoder back end: chroma upsampling and colour conversion into `dst`.
fn decode_planes(s: &mut JpegScratch, dst: &mut [u8], g: &Geom, level: Isa) {
    let (w, h, cw, ch) = (g.w, g.h, g.cw, g.ch);
    let fancy = cw > 2; // jdsample.c: fancy only when downsampled_width > 2
    let upw = s.up.len() / 2;
    let (upcb, upcr) = s.up.split_at_mut(upw);
    for y in 0..h {
        let k = y / 2;
        let yrow = &s.y[y * g.yw..y * g.yw + w];
        let out = &mut dst[y * w * 3..(y + 1) * w * 3];
        if fancy {
            // Row above for even output rows, below for odd ones; the context rows at the
            // image top/bottom are copies of the first/last real row (jdmainct.c).
            let kf = if y % 2 == 0 {
                k.saturating_sub(1)
            } else {
                (k + 1).min(ch - 1)
            };
            let (cb, cr) = (&s.cb, &s.cr);
            fancy_ycc_row(
                yrow,
                [&cb[k * g.cpw..][..cw], &cb[kf * g.cpw..][..cw]],
                [&cr[k * g.cpw..][..cw], &cr[kf * g.cpw..][..cw]],
                cw,
                out,
                level,
            );
            continue;
        }
        for (plane, up) in [(&s.cb, &mut *upcb), (&s.cr, &mut *upcr)] {
            // h2v2_upsample: plain replication.
            let near = &plane[k * g.cpw..k * g.cpw + cw];
            for (x, o) in up[..w].iter_mut().enumerate() {
                *o = near[x / 2];
            }
        }
        ycc_to_rgb_row(yrow, &upcb[..w], &upcr[..w], out, level);
    }
}

fn rgb_to_ycc_row(rgb: &[u8], y: &mut [u8], cb: &mut [u8], cr: &mut [u8], level: Isa) {
    dispatch!(at level; color::rgb_to_ycc_row_scalar / color::avx2::rgb_to_ycc_row(rgb, y, cb, cr))
}

fn ycc_to_rgb_row(y: &[u8], cb: &[u8], cr: &[u8], rgb: &mut [u8], level: Isa) {
    dispatch!(at level; color::ycc_to_rgb_row_scalar / color::avx2::ycc_to_rgb_row(y, cb, cr, rgb))
}

fn downsample_row(a: &[u8], b: &[u8], out: &mut [u8], level: Isa) {
    dispatch!(at level; sample::downsample_row_scalar / sample::avx2::downsample_row(a, b, out))
}

fn fancy_row(near: &[u8], far: &[u8], cw: usize, cs: &mut [i16], out: &mut [u8], level: Isa) {
    dispatch!(at level; sample::fancy_row_scalar / sample::avx2::fancy_row(near, far, cw, cs, out))
}

fn fancy_ycc_row(y: &[u8], cb: [&[u8]; 2], cr: [&[u8]; 2], cw: usize, rgb: &mut [u8], level: Isa) {
    dispatch!(at level; sample::fancy_ycc_row_scalar / sample::avx2::fancy_ycc_row(y, cb, cr, cw, rgb))
}

#[cfg(test)]
mod tests;
