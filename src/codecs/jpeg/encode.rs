//! The JPEG file writer: 8-bit RGB → the bytes PIL writes.
//!
//! JPEG is written by a small baseline encoder that follows libjpeg-turbo — which PIL uses, and
//! so ImageNet-C's `save(path, quality=85, optimize=True)` (ALGORITHMS.md §5.1, P10) — step by step. The
//! lossy front end (RGB→YCbCr, 4:2:0 downsampling with libjpeg's edge expansion, dummy blocks,
//! islow forward DCT, reciprocal quantisation with the IJG quality tables) is the one the
//! `jpeg` corruption's round trip uses, [`super`] (AVX2 with a scalar twin);
//! this file adds what only a file needs: optimal Huffman tables built by libjpeg's
//! `jpeg_gen_optimal_table` (`jchuff.c`), entropy coding, and the same markers in the same
//! order (JFIF 1.01 APP0, two DQT, SOF0, four DHT, SOS).
//!
//! Speed (issue 18): the DCT runs once; the first pass turns the stored coefficients into a
//! stream of Huffman symbols (one `u32` each: table, symbol, magnitude bits) while counting
//! them, so the second pass only looks codes up and writes bits. The per-block work is driven
//! by a 64-bit mask of the non-zero coefficients in zigzag order (AVX2: byte shuffles of the
//! compare results; scalar twin: one test per coefficient), so zero runs cost nothing; the AVX2
//! twin makes the AC symbols of a dense block (size by float exponent, magnitude bits) in one
//! go, and the symbol stream leaves the magnitude-bit count to the writer's code table. Bits
//! go through a 64-bit accumulator written 32 bits at a time, byte-stuffed only when a word
//! holds an `0xFF`. [`JpegEncoder`] keeps every buffer between images. The result is the very file PIL writes
//! for the same RGB array (tested against files made by PIL in `fixtures/jpeg/`). The
//! `jpeg-encoder` crate was tried first: it point-samples chroma instead of averaging (mean
//! |Δ| ≈ 27 after decoding on gaussian_noise severity 5) and quantises with 15-bit reciprocals,
//! so it cannot reproduce ImageNet-C files.
//!
//! This software is based in part on the work of the Independent JPEG Group (the Huffman table
//! construction follows the IJG/libjpeg-turbo algorithm).

use super::{coefs_into, quant_tables, CoefPlane, JpegScratch};
use crate::simd::{dispatch, isa, Isa};

/// Zigzag position → natural (row-major) index (`jpeg_natural_order`).
const NATURAL: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Huffman tables in file order (DHT classes 0x00, 0x10, 0x01, 0x11): luma DC, luma AC,
/// chroma DC, chroma AC. A symbol's global index is `table · 256 + symbol`.
const TABLES: usize = 4;

/// A JPEG writer that keeps its working memory (planes, coefficients, symbol stream) between
/// images: after the first image of a size, encoding allocates nothing but the output (and
/// nothing at all with [`JpegEncoder::encode_into`]). One per thread; any size and quality.
#[derive(Default)]
pub struct JpegEncoder {
    scratch: JpegScratch,
    planes: [CoefPlane; 3],
    /// The symbol stream; only grows (its length is the room, not the symbols of an image).
    syms: Vec<u32>,
}

impl JpegEncoder {
    /// An encoder with empty buffers (they grow on first use).
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes PIL/libjpeg-turbo write for `save(quality=q, optimize=True)` (4:2:0), as
    /// [`encode_jpeg`].
    pub fn encode(
        &mut self,
        px: &[u8],
        w: usize,
        h: usize,
        quality: u8,
    ) -> std::result::Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.encode_into(px, w, h, quality, &mut out)?;
        Ok(out)
    }

    /// [`JpegEncoder::encode`] into `out` (cleared first; its capacity is reused).
    pub fn encode_into(
        &mut self,
        px: &[u8],
        w: usize,
        h: usize,
        quality: u8,
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), String> {
        self.encode_at(px, w, h, quality, out, isa())
    }

    /// [`JpegEncoder::encode_into`] at a chosen SIMD `level` (checked against the hardware).
    pub(crate) fn encode_at(
        &mut self,
        px: &[u8],
        w: usize,
        h: usize,
        quality: u8,
        out: &mut Vec<u8>,
        level: Isa,
    ) -> std::result::Result<(), String> {
        out.clear();
        if w == 0 || h == 0 || w > 65500 || h > 65500 {
            return Err(format!(
                "{w}x{h} cannot be stored as JPEG (1..=65500 per side)"
            ));
        }
        if px.len() < w * h * 3 {
            return Err("buffer size mismatch".into());
        }
        // Lossy front end, shared with the round trip: quantised blocks on whole-MCU grids.
        coefs_into(
            &mut self.scratch,
            px,
            w,
            h,
            quality,
            level,
            &mut self.planes,
        );
        // Pass 1: the symbol stream and its statistics (jchuff.c htest_one_block).
        let mut freq = [0u64; TABLES * 256];
        let need = max_symbols(&self.planes);
        if self.syms.len() < need {
            self.syms.resize(need, 0);
        }
        let n = symbols(&self.planes, &mut self.syms, &mut freq, level);
        let syms = &self.syms[..n];
        let mut tables = [HuffTable::default(); TABLES];
        let mut codes = [0u64; TABLES * 256];
        for (t, table) in tables.iter_mut().enumerate() {
            *table = optimal_table(freq[t * 256..(t + 1) * 256].try_into().unwrap());
            table.derive_codes(&mut codes[t * 256..(t + 1) * 256]);
        }
        let (ql, qc) = quant_tables(quality);
        write_headers(out, w, h, &ql, &qc, &tables);
        // Pass 2: entropy-coded data (jchuff.c encode_one_block), from the stream.
        out.reserve(syms.len() * 2 + 16);
        write_symbols(syms, &codes, out);
        out.extend_from_slice(&[0xFF, 0xD9]);
        Ok(())
    }
}

/// Images up to this many pixels are encoded by [`encode_jpeg`] with a per-thread
/// [`JpegEncoder`] that keeps its buffers (~10 MB at this size); larger ones with a fresh one,
/// so that one huge image does not pin its memory in every thread that saw it.
const REUSE_MAX_PIXELS: usize = 1 << 21;

/// Encode like PIL/libjpeg-turbo `save(quality=q, optimize=True)` with default 4:2:0.
///
/// Images of up to 2 MP reuse a per-thread [`JpegEncoder`], so that a worker encoding one
/// image after another allocates only the output (the buffers cost as much as the encoding
/// at 224²); keep an own [`JpegEncoder`] to also reuse the output.
pub fn encode_jpeg(
    px: &[u8],
    w: usize,
    h: usize,
    quality: u8,
) -> std::result::Result<Vec<u8>, String> {
    thread_local! {
        static ENCODER: std::cell::RefCell<JpegEncoder> = std::cell::RefCell::new(JpegEncoder::new());
    }
    if w.saturating_mul(h) <= REUSE_MAX_PIXELS {
        let reused = ENCODER.with(|e| {
            // A nested call (none today) finds the encoder borrowed and uses a fresh one.
            e.try_borrow_mut()
                .ok()
                .map(|mut e| e.encode(px, w, h, quality))
        });
        if let Some(r) = reused {
            return r;
        }
    }
    JpegEncoder::new().encode(px, w, h, quality)
}

/// The markers up to SOS (jcmarker.c): SOI, JFIF 1.01 APP0, DQT ×2, SOF0, DHT ×4, SOS.
fn write_headers(
    out: &mut Vec<u8>,
    w: usize,
    h: usize,
    ql: &[u16; 64],
    qc: &[u16; 64],
    tables: &[HuffTable; TABLES],
) {
    out.extend_from_slice(&[0xFF, 0xD8]);
    out.extend_from_slice(&[
        0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ]);
    for (id, q) in [(0u8, ql), (1, qc)] {
        out.extend_from_slice(&[0xFF, 0xDB, 0, 67, id]);
        out.extend(NATURAL.iter().map(|&k| q[k] as u8));
    }
    out.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8]);
    out.extend_from_slice(&(h as u16).to_be_bytes());
    out.extend_from_slice(&(w as u16).to_be_bytes());
    out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    for (class_id, t) in [0x00u8, 0x10, 0x01, 0x11].into_iter().zip(tables) {
        let vals = &t.huffval[..t.nvals];
        let len = 2 + 1 + 16 + vals.len();
        out.extend_from_slice(&[0xFF, 0xC4]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.push(class_id);
        out.extend_from_slice(&t.bits[1..]);
        out.extend_from_slice(vals);
    }
    out.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
}

// ------------------------------------------------------------------ symbols (pass 1)

/// One symbol of the stream: global symbol index (`table · 256 + symbol`) in bits 16..26, the
/// magnitude bits that follow its code in bits 0..16. Their number is not stored: it is the
/// symbol's low nibble in every table (DC: the size itself; AC: run << 4 | size; ZRL and EOB
/// carry none), which the bit writer's code table already folds in ([`HuffTable::derive_codes`]).
/// A run is added to an AC symbol as `run << 20`.
#[inline(always)]
fn sym(table: usize, symbol: u32, size: u32, value: i32) -> u32 {
    ((table as u32 * 256 + symbol) << 16) | magnitude(size, value)
}

/// The `size` magnitude bits of `value`: negative values are sent as value − 1 (jchuff.c).
#[inline(always)]
fn magnitude(size: u32, value: i32) -> u32 {
    (value - i32::from(value < 0)) as u32 & ((1u32 << size) - 1)
}

/// Number of bits of |v| (JPEG magnitude category).
#[inline(always)]
fn nbits(v: i32) -> u32 {
    32 - v.unsigned_abs().leading_zeros()
}

/// Most symbols one block can give: DC, 63 AC, EOB, and ZRLs (at most 3: a ZRL needs 16
/// zeros before a non-zero coefficient).
const MAX_BLOCK_SYMS: usize = 68;

/// Room handed to one block: a power of two over [`MAX_BLOCK_SYMS`], so that a block's
/// symbol count is masked into range instead of bounds-checked at every symbol.
const BLOCK_ROOM: usize = 128;

/// [`NATURAL`] as bytes (one cache line), for the per-coefficient loop.
const NATURAL_U8: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        t[k] = NATURAL[k] as u8;
        k += 1;
    }
    t
};

/// Symbol counts per global index (`table · 256 + symbol`).
type Freq = [u64; TABLES * 256];

/// The symbols of one block (`dc` = index of its DC table, `dc + 1` its AC table) into `out`,
/// counted in `freq`; returns how many: the DC difference, then per non-zero AC coefficient
/// (bits of `nz`, zigzag order, bit 0 ignored) ZRLs for runs over 15 and the run/size symbol,
/// then EOB unless coefficient 63 is non-zero. `ac(n)` is the AC symbol of the coefficient at
/// natural index `n` with a run of 0 (`sym(dc + 1, size, size, v)`): the AVX2 twin reads it
/// from a table made for the whole block, the scalar one computes it.
#[inline(always)]
fn block_symbols(
    blk: &[i16; 64],
    nz: u64,
    last_dc: &mut i32,
    dc: usize,
    out: &mut [u32; BLOCK_ROOM],
    freq: &mut Freq,
    ac: impl Fn(usize) -> u32,
) -> usize {
    let diff = blk[0] as i32 - *last_dc;
    *last_dc = blk[0] as i32;
    let size = nbits(diff);
    let s = sym(dc, size, size, diff);
    out[0] = s;
    freq[(s >> 16) as usize & 1023] += 1;
    let mut n = 1;
    let ac_table = dc + 1;
    let mut m = nz & !1;
    let mut prev = 0u32;
    while m != 0 {
        let k = m.trailing_zeros();
        m &= m - 1;
        let mut run = k - prev - 1;
        prev = k;
        while run > 15 {
            out[n & (BLOCK_ROOM - 1)] = sym(ac_table, 0xF0, 0, 0);
            freq[ac_table * 256 + 0xF0] += 1;
            n += 1;
            run -= 16;
        }
        let s = ac(NATURAL_U8[k as usize & 63] as usize) + (run << 20);
        out[n & (BLOCK_ROOM - 1)] = s;
        freq[(s >> 16) as usize & 1023] += 1;
        n += 1;
    }
    if prev != 63 {
        out[n & (BLOCK_ROOM - 1)] = sym(ac_table, 0x00, 0, 0);
        freq[ac_table * 256] += 1;
        n += 1;
    }
    n
}

/// Mask of the non-zero coefficients of a block by zigzag position, scalar.
#[inline(always)]
fn nonzero_zigzag_scalar(blk: &[i16; 64]) -> u64 {
    let mut m = 0u64;
    for (k, &n) in NATURAL.iter().enumerate() {
        m |= u64::from(blk[n] != 0) << k;
    }
    m
}

/// Room the symbol stream of `planes` may need (see [`MAX_BLOCK_SYMS`]; the last block is
/// handed a whole [`BLOCK_ROOM`]).
fn max_symbols(planes: &[CoefPlane; 3]) -> usize {
    planes.iter().map(|p| p.across * p.down).sum::<usize>() * MAX_BLOCK_SYMS + BLOCK_ROOM
}

/// The AC symbol (run 0, see [`block_symbols`]) of coefficient `n` of `b`, computed alone.
#[inline(always)]
fn ac_symbol(b: &[i16; 64], ac_table: usize, n: usize) -> u32 {
    let v = b[n] as i32;
    let size = nbits(v);
    sym(ac_table, size, size, v)
}

/// How a twin looks at one block: its zigzag mask of non-zero coefficients, and maybe a table
/// of the AC symbols of all its coefficients (else [`ac_symbol`] computes each when needed).
trait BlockView {
    /// Zigzag mask of the non-zero coefficients of `b`.
    fn mask(&self, b: &[i16; 64]) -> u64;
    /// The AC symbols (run 0) of `b` by natural index for AC table `ac_table`, when this view
    /// makes them for a block with mask `nz`.
    fn table(&mut self, b: &[i16; 64], ac_table: usize, nz: u64) -> Option<&[u32; 64]>;
}

/// The scalar view: one test per coefficient for the mask, no table.
struct ScalarView;

impl BlockView for ScalarView {
    #[inline(always)]
    fn mask(&self, b: &[i16; 64]) -> u64 {
        nonzero_zigzag_scalar(b)
    }
    #[inline(always)]
    fn table(&mut self, _: &[i16; 64], _: usize, _: u64) -> Option<&[u32; 64]> {
        None
    }
}

/// The whole image's symbol stream in MCU order (4 Y blocks 2×2 row-major, Cb, Cr) into
/// `out` (at least [`max_symbols`] long), each block seen through `view`; returns the number
/// of symbols.
#[inline(always)]
fn symbols_body(
    planes: &[CoefPlane; 3],
    out: &mut [u32],
    freq: &mut Freq,
    view: &mut impl BlockView,
) -> usize {
    let [y, cb, cr] = planes;
    let mut last = [0i32; 3];
    let mut pos = 0;
    for my in 0..cb.down {
        for mx in 0..cb.across {
            let yi = |dy: usize, dx: usize| (2 * my + dy) * y.across + 2 * mx + dx;
            let mcu = [
                (&y.blocks[yi(0, 0)], 0),
                (&y.blocks[yi(0, 1)], 0),
                (&y.blocks[yi(1, 0)], 0),
                (&y.blocks[yi(1, 1)], 0),
                (&cb.blocks[my * cb.across + mx], 1),
                (&cr.blocks[my * cr.across + mx], 2),
            ];
            // One call site, so that it is inlined (with the view) into the AVX2 twin.
            for (b, comp) in mcu {
                let room: &mut [u32; BLOCK_ROOM] =
                    (&mut out[pos..pos + BLOCK_ROOM]).try_into().unwrap();
                let dc = if comp == 0 { 0 } else { 2 };
                let nz = view.mask(b);
                let last_dc = &mut last[comp];
                pos += match view.table(b, dc + 1, nz) {
                    Some(tab) => block_symbols(b, nz, last_dc, dc, room, freq, |n| tab[n]),
                    None => {
                        block_symbols(b, nz, last_dc, dc, room, freq, |n| ac_symbol(b, dc + 1, n))
                    }
                };
            }
        }
    }
    pos
}

/// [`symbols_body`] with the scalar view.
fn symbols_scalar(planes: &[CoefPlane; 3], out: &mut [u32], freq: &mut Freq) -> usize {
    symbols_body(planes, out, freq, &mut ScalarView)
}

fn symbols(planes: &[CoefPlane; 3], out: &mut [u32], freq: &mut Freq, level: Isa) -> usize {
    dispatch!(at level; symbols_scalar / avx2::symbols(planes, out, freq))
}

#[cfg(target_arch = "x86_64")]
pub(super) mod avx2 {
    use super::{symbols_body, BlockView, CoefPlane, Freq, NATURAL};
    use std::arch::x86_64::*;

    /// `pshufb` indexes that gather zigzag positions `32h..32h+32` from the 16-byte chunk `c`
    /// of the natural-order bytes (`-128` = not in that chunk, gives 0): entry `2h + …` per
    /// output half `h` and chunk `c`, as `[h][c]`.
    const fn zigzag_shuffles() -> [[[i8; 32]; 4]; 2] {
        let mut t = [[[-128i8; 32]; 4]; 2];
        let mut k = 0;
        while k < 64 {
            let n = NATURAL[k];
            t[k / 32][n / 16][k % 32] = (n % 16) as i8;
            k += 1;
        }
        t
    }
    static SHUF: [[[i8; 32]; 4]; 2] = zigzag_shuffles();

    /// Zigzag mask of the non-zero coefficients: compare, pack to bytes (natural order), then
    /// each zigzag half gathers its bytes from the four 16-byte chunks with `pshufb`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn nonzero_zigzag(blk: &[i16; 64], shuf: &[[__m256i; 4]; 2]) -> u64 {
        let p = blk.as_ptr() as *const __m256i;
        let z = _mm256_setzero_si256();
        let e0 = _mm256_cmpeq_epi16(_mm256_loadu_si256(p), z);
        let e1 = _mm256_cmpeq_epi16(_mm256_loadu_si256(p.add(1)), z);
        let e2 = _mm256_cmpeq_epi16(_mm256_loadu_si256(p.add(2)), z);
        let e3 = _mm256_cmpeq_epi16(_mm256_loadu_si256(p.add(3)), z);
        // packs interleaves the 128-bit lanes: [e0 lo, e1 lo, e0 hi, e1 hi] → fix with vpermq.
        let n0 = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi16(e0, e1));
        let n1 = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi16(e2, e3));
        let c = [
            _mm256_permute2x128_si256::<0x00>(n0, n0),
            _mm256_permute2x128_si256::<0x11>(n0, n0),
            _mm256_permute2x128_si256::<0x00>(n1, n1),
            _mm256_permute2x128_si256::<0x11>(n1, n1),
        ];
        let mut m = 0u64;
        for (h, sh) in shuf.iter().enumerate() {
            let g = _mm256_or_si256(
                _mm256_or_si256(
                    _mm256_shuffle_epi8(c[0], sh[0]),
                    _mm256_shuffle_epi8(c[1], sh[1]),
                ),
                _mm256_or_si256(
                    _mm256_shuffle_epi8(c[2], sh[2]),
                    _mm256_shuffle_epi8(c[3], sh[3]),
                ),
            );
            // g is 0xFF where the coefficient is zero
            m |= u64::from(!(_mm256_movemask_epi8(g) as u32)) << (32 * h);
        }
        m
    }

    /// The AVX2 view: the mask by shuffles, and for a block with a non-zero coefficient at
    /// zigzag position 12 or later all 64 AC symbols at once (natural order) into `tab`: size =
    /// the float exponent of |v|, magnitude = v, or v + 2^size − 1 for negative v. Entries of
    /// zero coefficients are never read. (The table costs as much as computing ~8 symbols one
    /// by one; blocks ending earlier have at most 11 AC symbols and skip it.)
    struct Avx2View {
        shuf: [[__m256i; 4]; 2],
        tab: [u32; 64],
    }

    impl BlockView for Avx2View {
        #[inline(always)]
        fn mask(&self, b: &[i16; 64]) -> u64 {
            // SAFETY: an Avx2View is only made in `symbols` below, which needs AVX2.
            unsafe { nonzero_zigzag(b, &self.shuf) }
        }
        #[inline(always)]
        fn table(&mut self, b: &[i16; 64], ac_table: usize, nz: u64) -> Option<&[u32; 64]> {
            if nz < 1 << 12 {
                return None;
            }
            // SAFETY: as in `mask`.
            unsafe { ac_symbols(b, ac_table, &mut self.tab) };
            Some(&self.tab)
        }
    }

    /// `sym(ac_table, size, size, v)` of every coefficient `v` of `b` (run 0) into `tab`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn ac_symbols(b: &[i16; 64], ac_table: usize, tab: &mut [u32; 64]) {
        let one = _mm256_set1_epi32(1);
        let bias = _mm256_set1_epi32(126);
        let base = _mm256_set1_epi32((ac_table as i32 * 256) << 16);
        for i in 0..8 {
            let v = _mm256_cvtepi16_epi32(_mm_loadu_si128(b.as_ptr().add(8 * i) as *const __m128i));
            let a = _mm256_abs_epi32(v);
            // |v| ≤ 2^15 is exact in f32: its exponent − 126 is the bit count (for |v| ≥ 1).
            let e = _mm256_srli_epi32::<23>(_mm256_castps_si256(_mm256_cvtepi32_ps(a)));
            let size = _mm256_sub_epi32(e, bias);
            let low = _mm256_sub_epi32(_mm256_sllv_epi32(one, size), one);
            let mag = _mm256_add_epi32(v, _mm256_and_si256(_mm256_srai_epi32::<31>(v), low));
            let t = _mm256_add_epi32(_mm256_add_epi32(base, _mm256_slli_epi32::<16>(size)), mag);
            _mm256_storeu_si256(tab.as_mut_ptr().add(8 * i) as *mut __m256i, t);
        }
    }

    /// AVX2 twin of [`super::symbols_scalar`] (the same symbols; the masks by shuffles, the AC
    /// symbols a block at a time).
    ///
    /// # Safety
    /// AVX2 must be available.
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn symbols(
        planes: &[CoefPlane; 3],
        out: &mut [u32],
        freq: &mut Freq,
    ) -> usize {
        let mut view = Avx2View {
            shuf: SHUF.map(|h| h.map(|c| _mm256_loadu_si256(c.as_ptr() as *const __m256i))),
            tab: [0; 64],
        };
        symbols_body(planes, out, freq, &mut view)
    }
}

// ------------------------------------------------------------------ Huffman tables

/// A DHT table: `bits[1..=16]` code counts per length and the symbols by code.
#[derive(Clone, Copy)]
struct HuffTable {
    bits: [u8; 17],
    huffval: [u8; 256],
    nvals: usize,
}

impl Default for HuffTable {
    fn default() -> Self {
        HuffTable {
            bits: [0; 17],
            huffval: [0; 256],
            nvals: 0,
        }
    }
}

impl HuffTable {
    /// Code and length per symbol (`jpeg_make_c_derived_tbl`) into `codes` (256 entries),
    /// with room for the symbol's magnitude bits (as many as its low nibble, see [`sym`]): the
    /// code shifted up by that many in bits 0..32, the code's length plus that many in bits
    /// 32..40 (0 for unused symbols).
    fn derive_codes(&self, codes: &mut [u64]) {
        codes.fill(0);
        let mut code = 0u64;
        let mut k = 0;
        for len in 1..=16u64 {
            for _ in 0..self.bits[len as usize] {
                let s = self.huffval[k];
                let size = u64::from(s & 15);
                codes[s as usize] = (code << size) | ((len + size) << 32);
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
    }
}

/// `jpeg_gen_optimal_table`: (bits[1..=16], huffval) from symbol frequencies.
///
/// libjpeg repeatedly merges the two least frequent nodes, scanning all 257 entries for each
/// and breaking ties towards the larger symbol index; a binary heap ordered by (frequency,
/// larger index first) picks the very same pair, in O(n log n) for the n symbols in use.
///
/// The unlimited code lengths may be as deep as the tree (up to 256 with 257 leaves, e.g. for
/// Fibonacci-like frequencies). libjpeg stops with `JERR_HUFF_CLEN_OVERFLOW` above 32; here
/// every depth is counted and the same length-limiting step (JPEG Annex K.3, which works for
/// any depth) brings them down to 16, so such inputs still get a valid table. Up to 32 the
/// result is libjpeg's, bit for bit.
// Four calls per image: kept out of line so that its inlining does not reshape the bit
// writer's hot loop in `encode_at` (inlined, the encoder's own instructions on a `generate
// --floor` run were 7 % higher: 692 M against 643 M).
#[inline(never)]
fn optimal_table(freq_in: &[u64; 256]) -> HuffTable {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut freq = [0u64; 257];
    freq[..256].copy_from_slice(freq_in);
    freq[256] = 1; // reserved so that no real symbol gets the all-ones code
    let mut codesize = [0usize; 257];
    let mut others = [-1i32; 257];
    let mut heap: BinaryHeap<Reverse<(u64, Reverse<usize>)>> = freq
        .iter()
        .enumerate()
        .filter(|(_, &f)| f != 0)
        .map(|(i, &f)| Reverse((f, Reverse(i))))
        .collect();
    while heap.len() >= 2 {
        let Reverse((f1, Reverse(c1))) = heap.pop().unwrap();
        let Reverse((f2, Reverse(c2))) = heap.pop().unwrap();
        let (mut a, mut b) = (c1, c2);
        heap.push(Reverse((f1 + f2, Reverse(c1))));
        codesize[a] += 1;
        while others[a] >= 0 {
            a = others[a] as usize;
            codesize[a] += 1;
        }
        others[a] = b as i32;
        codesize[b] += 1;
        while others[b] >= 0 {
            b = others[b] as usize;
            codesize[b] += 1;
        }
    }
    // Counts per length up to the tree's depth: on the stack up to libjpeg's 32, on the heap
    // for the deeper trees (at most 256 with 257 leaves) that only pathological counts make.
    let depth = codesize.iter().copied().max().unwrap_or(0);
    let (mut shallow, mut deep) = ([0i64; 33], Vec::new());
    let bits: &mut [i64] = if depth <= 32 {
        &mut shallow
    } else {
        deep.resize(depth + 1, 0);
        &mut deep
    };
    for &cs in codesize.iter() {
        if cs > 0 {
            bits[cs] += 1;
        }
    }
    let mut i = bits.len() - 1;
    while i > 16 {
        while bits[i] > 0 {
            let mut j = i - 2;
            while bits[j] == 0 {
                j -= 1;
            }
            bits[i] -= 2;
            bits[i - 1] += 1;
            bits[j + 1] += 2;
            bits[j] -= 1;
        }
        i -= 1;
    }
    let mut i = 16;
    while bits[i] == 0 {
        i -= 1;
    }
    bits[i] -= 1;
    let mut t = HuffTable::default();
    for (tb, &b) in t.bits.iter_mut().zip(&*bits).skip(1) {
        *tb = b as u8;
    }
    // Symbols by code length, then by value (a counting sort over the unlimited lengths).
    let (mut shallow, mut deep) = ([0usize; 34], Vec::new());
    let start: &mut [usize] = if depth <= 32 {
        &mut shallow
    } else {
        deep.resize(depth + 2, 0);
        &mut deep
    };
    for &cs in &codesize[..256] {
        if cs > 0 {
            start[cs + 1] += 1;
        }
    }
    for l in 1..start.len() - 1 {
        start[l + 1] += start[l];
    }
    for (s, &cs) in codesize[..256].iter().enumerate() {
        if cs > 0 {
            t.huffval[start[cs]] = s as u8;
            start[cs] += 1;
        }
    }
    t.nvals = codesize[..256].iter().filter(|&&c| c > 0).count();
    t
}

/// `(bits, huffval)` of [`optimal_table`], for the unit tests.
#[cfg(test)]
pub(super) fn optimal_table_for_test(freq: &[u64; 256]) -> ([u8; 17], Vec<u8>) {
    let t = optimal_table(freq);
    (t.bits, t.huffval[..t.nvals].to_vec())
}

// ------------------------------------------------------------------ bit writer (pass 2)

/// True when one of the four bytes of `w` is `0xFF` (it then needs a stuffed zero).
#[inline(always)]
fn has_ff(w: u32) -> bool {
    let x = !w;
    x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080 != 0
}

/// Writes `n` ≤ 4 bytes of `w` (most significant first), stuffing a zero after each `0xFF`.
#[inline(always)]
fn put_bytes(out: &mut Vec<u8>, w: u32, n: u32) {
    if n == 4 && !has_ff(w) {
        out.extend_from_slice(&w.to_be_bytes());
        return;
    }
    for i in 0..n {
        let b = (w >> (24 - 8 * i)) as u8;
        out.push(b);
        if b == 0xFF {
            out.push(0);
        }
    }
}

/// Entropy-codes the symbol stream with `codes` (see [`HuffTable::derive_codes`]): a 64-bit
/// accumulator takes each code with its magnitude bits (at most 16 + 11 bits) and hands out
/// 32 bits at a time; the end is padded with 1-bits (`flush_bits`).
pub(super) fn write_symbols(syms: &[u32], codes: &[u64; TABLES * 256], out: &mut Vec<u8>) {
    let mut acc = 0u64;
    let mut n = 0u32; // bits pending in the low end of acc
    for &s in syms {
        let c = codes[(s >> 16) as usize & (TABLES * 256 - 1)];
        let len = (c >> 32) as u32;
        let bits = u64::from(c as u32 | (s & 0xFFFF));
        acc = (acc << len) | bits;
        n += len;
        if n >= 32 {
            n -= 32;
            put_bytes(out, (acc >> n) as u32, 4);
        }
    }
    // flush_bits: 7 one-bits, then the whole bytes; a partial byte is dropped.
    acc = (acc << 7) | 0x7F;
    n += 7;
    let whole = n / 8;
    if whole > 0 {
        let w = ((acc >> (n - 8 * whole)) as u32) << (32 - 8 * whole);
        put_bytes(out, w, whole);
    }
}
