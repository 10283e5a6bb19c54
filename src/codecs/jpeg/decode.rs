//! JPEG decoder (baseline, extended sequential and progressive Huffman, 8-bit) that reproduces
//! Pillow's `Image.open(f).convert("RGB")` byte for byte.
//!
//! Pillow decodes JPEGs with libjpeg-turbo at its defaults (`JDCT_ISLOW`,
//! `do_fancy_upsampling = TRUE`, `do_block_smoothing = TRUE`). The lossy steps of that decoder
//! are the ones [`super`] already reproduces bit-exactly for the round trip, so this module
//! only adds what a file needs in front of them:
//!
//! 1. **Markers** (`jdmarker.c`): SOI, DQT (8- and 16-bit), SOF0/SOF1/SOF2, DHT, SOS, DRI,
//!    RSTn, APPn (JFIF and Adobe are looked at), COM, EOI.
//! 2. **Huffman decoding** (`jdhuff.c`, `jdphuff.c` for progressive DC/AC first and refinement
//!    scans with end-of-band runs) into per-component coefficient grids, including libjpeg's
//!    behaviour on short data: when the entropy-coded segment ends early (a marker or the end
//!    of the file where bits are still needed) the missing bits read as zeros for that MCU,
//!    and every later MCU up to the next restart marker is left as it was
//!    (`insufficient_data`). Restart markers are resynchronised as `jpeg_resync_to_restart`.
//!    Coefficient indexes past 63 (corrupt run lengths) land on 63, as libjpeg's padded
//!    `jpeg_natural_order` makes them.
//! 3. **Dequantisation and islow IDCT** (16-bit wrapping multiply, `jidctint-avx2.asm`
//!    arithmetic): the private `jpeg::dct` module the round trip uses.
//! 4. **Upsampling** (`jdsample.c`): fancy h2v2 and h2v1 (triangle filters) when the
//!    downsampled width is more than 2, else box replication; fancy h1v2; box replication for
//!    any other integral ratio (`int_upsample`). libjpeg-turbo never uses merged upsampling
//!    while fancy upsampling is on.
//! 5. **Colour** (`jdcolor.c`): YCbCr → RGB fixed point for 3-component files unless an Adobe
//!    marker with transform 0 or the component IDs `R`,`G`,`B` mark them as RGB (libjpeg's
//!    `default_decompress_parms`); 1-component files stay greyscale; 4-component files are
//!    CMYK (YCCK with an Adobe transform other than 0, `ycck_cmyk_convert`), which Pillow reads
//!    as inverted Adobe CMYK and `convert("RGB")` turns into RGB (`cmyk2rgb`): the output is
//!    that RGB.
//!
//! Everything else returns [`DecodeError::Unsupported`] so that the caller can fall back to a
//! general decoder: arithmetic coding, lossless/hierarchical processes, 12-bit samples,
//! 2-component files, non-integral sampling ratios, a height defined by a DNL marker, and progressive files whose first AC coefficients are never fully refined (libjpeg
//! then smooths blocks, `decompress_smooth_data`; normal progression scripts refine
//! everything, so this does not happen for Pillow/libjpeg/mozjpeg output).

use super::dct;
// The row kernels' dispatchers are shared with the round trip (jpeg/mod.rs).
use super::{color, fancy_row, sample, ycc_to_rgb_row};
use crate::simd::{dispatch, isa, Isa};

/// Why a file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A valid JPEG this decoder does not handle (progressive, CMYK, 12-bit, …): decode it
    /// with another decoder.
    Unsupported(String),
    /// The data is not a decodable JPEG (truncated segment, bad table, invalid Huffman code).
    Corrupt(String),
    /// The frame has more pixels than the caller's limit (checked before any allocation).
    TooLarge {
        /// Frame width.
        width: usize,
        /// Frame height.
        height: usize,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Unsupported(m) => write!(f, "unsupported JPEG: {m}"),
            DecodeError::Corrupt(m) => write!(f, "corrupt JPEG: {m}"),
            DecodeError::TooLarge { width, height } => {
                write!(f, "image is {width}x{height}, more than the pixel limit")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// A decoded image: interleaved 8-bit samples, `channels` per pixel (1 = grey, 3 = RGB; CMYK
/// files come out as Pillow's `convert("RGB")` of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// 1 (greyscale) or 3 (RGB).
    pub channels: usize,
    /// `width·height·channels` bytes, row-major.
    pub pixels: Vec<u8>,
}

type DResult<T> = Result<T, DecodeError>;

fn corrupt<T>(m: impl Into<String>) -> DResult<T> {
    Err(DecodeError::Corrupt(m.into()))
}

/// Decodes a baseline, extended sequential or progressive Huffman 8-bit JPEG exactly as Pillow
/// with libjpeg-turbo does. Frames with more than `max_pixels` pixels are refused before any
/// allocation. See the module docs for what is [`DecodeError::Unsupported`].
pub fn decode(data: &[u8], max_pixels: u64) -> DResult<Decoded> {
    decode_impl(data, max_pixels, isa())
}

/// [`decode`] at a chosen SIMD `level` (checked against the hardware at each kernel).
pub(crate) fn decode_impl(data: &[u8], max_pixels: u64, level: Isa) -> DResult<Decoded> {
    let mut d = Decoder::default();
    d.parse(data, max_pixels)?;
    d.output(level)
}

/// `jpeg_natural_order` with 16 extra entries of 63, so that a corrupt run length can never
/// index past the block (libjpeg's own guard).
const NATURAL: [usize; 80] = {
    let zz: [usize; 64] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27,
        20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];
    let mut t = [63usize; 80];
    let mut i = 0;
    while i < 64 {
        t[i] = zz[i];
        i += 1;
    }
    t
};

/// Bits resolved by one lookup in [`Huffman::fast`].
const LOOKAHEAD: u32 = 9;

/// A derived Huffman decoding table (`jpeg_make_d_derived_tbl`).
#[derive(Clone)]
struct Huffman {
    /// Indexed by the next [`LOOKAHEAD`] bits: `len << 8 | symbol`, or 0 for longer codes.
    fast: Box<[u16; 1 << LOOKAHEAD]>,
    /// Largest code of each length (−1 if none), index 1..=16; `maxcode[17]` is a sentinel.
    maxcode: [i32; 18],
    /// `symbol index − code` for the codes of each length.
    valoffset: [i32; 17],
    /// Symbols in code order.
    vals: Vec<u8>,
}

impl Huffman {
    /// Builds the table from the DHT counts and symbols; `dc` checks the symbols are sizes
    /// 0..=15, as libjpeg does.
    fn new(counts: &[u8; 16], vals: &[u8], dc: bool) -> DResult<Self> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || total != vals.len() {
            return corrupt("bad Huffman table (symbol count)");
        }
        if dc && vals.iter().any(|&v| v > 15) {
            return corrupt("bad Huffman table (DC symbol above 15)");
        }
        let mut fast = Box::new([0u16; 1 << LOOKAHEAD]);
        let mut maxcode = [-1i32; 18];
        let mut valoffset = [0i32; 17];
        let mut code: i32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = usize::from(counts[len as usize - 1]);
            // Codes of this length must fit in `len` bits, and none may be all ones
            // (libjpeg's JERR_BAD_HUFF_TABLE check, made before the table is filled).
            if code + n as i32 >= 1 << len {
                return corrupt("bad Huffman table (code space overflow)");
            }
            if n > 0 {
                valoffset[len as usize] = k as i32 - code;
                for _ in 0..n {
                    if len <= LOOKAHEAD {
                        let shift = LOOKAHEAD - len;
                        let base = (code as usize) << shift;
                        let entry = (len as u16) << 8 | u16::from(vals[k]);
                        fast[base..base + (1 << shift)].fill(entry);
                    }
                    code += 1;
                    k += 1;
                }
                maxcode[len as usize] = code - 1;
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        Ok(Huffman {
            fast,
            maxcode,
            valoffset,
            vals: vals.to_vec(),
        })
    }
}

/// Entropy-coded-segment bit reader (`jdhuff.c` `fill_bit_buffer`): unstuffs `FF 00`, stops at
/// markers, and then supplies zero bits, flagging `insufficient` once a decode needed them.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    /// Left-aligned bit buffer; only the top `n` bits are data, the rest are zero.
    buf: u64,
    n: u32,
    /// A marker (or the end of the data) was reached; `pos` is at its `FF` (or the end).
    at_marker: bool,
    /// A decode consumed bits past the data (libjpeg's `insufficient_data`).
    insufficient: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Bits {
            data,
            pos,
            buf: 0,
            n: 0,
            at_marker: false,
            insufficient: false,
        }
    }

    /// Tops the buffer up to at least 57 bits (data, or zeros past a marker).
    #[inline(always)]
    fn refill(&mut self) {
        if self.at_marker {
            return;
        }
        // Fast path: four bytes without any 0xFF.
        if self.n <= 32 {
            if let Some(chunk) = self.data.get(self.pos..self.pos + 4) {
                let w = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                if !contains_ff(w) {
                    self.buf |= u64::from(w) << (32 - self.n);
                    self.n += 32;
                    self.pos += 4;
                }
            }
        }
        while self.n <= 56 {
            let Some(&b) = self.data.get(self.pos) else {
                self.at_marker = true;
                return;
            };
            let byte = if b == 0xFF {
                // Skip fill bytes; FF 00 is a stuffed FF, anything else a marker.
                let mut p = self.pos + 1;
                while self.data.get(p) == Some(&0xFF) {
                    p += 1;
                }
                match self.data.get(p) {
                    Some(0) => {
                        self.pos = p + 1;
                        0xFF
                    }
                    _ => {
                        self.at_marker = true;
                        return;
                    }
                }
            } else {
                self.pos += 1;
                b
            };
            self.buf |= u64::from(byte) << (56 - self.n);
            self.n += 8;
        }
    }

    /// The next `k` (≤ 32) bits without consuming them.
    #[inline(always)]
    fn peek(&mut self, k: u32) -> u32 {
        if self.n < k {
            self.refill();
        }
        (self.buf >> (64 - k)) as u32
    }

    #[inline(always)]
    fn consume(&mut self, k: u32) {
        if k > self.n {
            self.insufficient = true;
            self.n = 0;
        } else {
            self.n -= k;
        }
        self.buf = if k >= 64 { 0 } else { self.buf << k };
    }

    /// One Huffman symbol (`HUFF_DECODE`).
    #[inline(always)]
    fn decode(&mut self, h: &Huffman) -> DResult<u8> {
        let look = self.peek(16);
        let e = h.fast[(look >> (16 - LOOKAHEAD)) as usize];
        if e != 0 {
            self.consume(u32::from(e >> 8));
            return Ok(e as u8);
        }
        let mut len = LOOKAHEAD + 1;
        let mut code = (look >> (16 - len)) as i32;
        while code > h.maxcode[len as usize] {
            len += 1;
            if len > 16 {
                return corrupt("invalid Huffman code in the entropy-coded data");
            }
            code = (look >> (16 - len)) as i32;
        }
        self.consume(len);
        let idx = (code + h.valoffset[len as usize]) as usize;
        match h.vals.get(idx) {
            Some(&v) => Ok(v),
            None => corrupt("invalid Huffman code in the entropy-coded data"),
        }
    }

    /// `s` (1..=15) raw bits, sign-extended as `HUFF_EXTEND`.
    #[inline(always)]
    fn receive_extend(&mut self, s: u32) -> i32 {
        let v = self.peek(s) as i32;
        self.consume(s);
        if v < 1 << (s - 1) {
            v - (1 << s) + 1
        } else {
            v
        }
    }

    /// `n` (1..=16) raw bits, unsigned.
    #[inline(always)]
    fn get(&mut self, n: u32) -> u32 {
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// One raw bit.
    #[inline(always)]
    fn bit(&mut self) -> bool {
        self.get(1) != 0
    }

    /// Drops the bits left in the buffer (the padding before a restart marker).
    fn align(&mut self) {
        self.buf = 0;
        self.n = 0;
    }
}

/// True if any byte of `w` is 0xFF.
#[inline(always)]
fn contains_ff(w: u32) -> bool {
    let x = !w; // 0xFF bytes become 0x00
    (x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080) != 0
}

/// One frame component.
#[derive(Clone, Default)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    /// Block grid padded to whole MCUs: `mcus_x·h` × `mcus_y·v`.
    bw: usize,
    bh: usize,
    /// `downsampled_width/height`: `ceil(W·h/hmax)` × `ceil(H·v/vmax)`.
    dw: usize,
    dh: usize,
    coefs: Vec<[i16; 64]>,
}

#[derive(Default)]
struct Decoder {
    width: usize,
    height: usize,
    comps: Vec<Component>,
    hmax: usize,
    vmax: usize,
    mcus_x: usize,
    mcus_y: usize,
    /// Quantisation tables in natural order (16-bit, as `ISLOW_MULT_TYPE` in the SIMD build).
    qt: [Option<[i16; 64]>; 4],
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    restart: usize,
    saw_jfif: bool,
    adobe_transform: Option<u8>,
    scans: usize,
    /// SOF2: progressive Huffman.
    progressive: bool,
    /// Per component, the `Al` of the last scan that coded each coefficient (−1: none yet),
    /// libjpeg's `coef_bits`, which decides whether it would apply block smoothing.
    coef_bits: Vec<[i32; 64]>,
}

/// Big-endian u16 at `p`.
fn be16(data: &[u8], p: usize) -> DResult<usize> {
    match data.get(p..p + 2) {
        Some(b) => Ok(usize::from(b[0]) << 8 | usize::from(b[1])),
        None => corrupt("unexpected end of file in a marker segment"),
    }
}

impl Decoder {
    fn parse(&mut self, data: &[u8], max_pixels: u64) -> DResult<()> {
        if data.len() < 2 || data[0] != 0xFF || data[1] != 0xD8 {
            return corrupt("not a JPEG file (no start-of-image marker)");
        }
        let mut pos = 2;
        loop {
            // next_marker: skip any garbage, then fill bytes.
            while pos < data.len() && data[pos] != 0xFF {
                pos += 1;
            }
            while pos < data.len() && data[pos] == 0xFF {
                pos += 1;
            }
            let Some(&m) = data.get(pos) else {
                return if self.scans > 0 {
                    Ok(()) // libjpeg would ask for more data; the caller checks for EOI
                } else {
                    corrupt("unexpected end of file before any image data")
                };
            };
            pos += 1;
            match m {
                0xD8 => return corrupt("second start-of-image marker"),
                0xD9 => {
                    return if self.scans > 0 {
                        Ok(())
                    } else {
                        corrupt("end-of-image marker before any image data")
                    };
                }
                0x01 | 0xD0..=0xD7 => {} // TEM, stray RSTn: no segment
                0x00 => {}               // stray stuffed byte
                _ => {
                    let len = be16(data, pos)?;
                    if len < 2 || pos + len > data.len() {
                        return corrupt(format!(
                            "marker segment FF{m:02X} runs past the end of the file"
                        ));
                    }
                    let seg = &data[pos + 2..pos + len];
                    pos += len;
                    match m {
                        0xC0..=0xC2 => self.sof(seg, m, max_pixels, data.len() - pos)?,
                        0xC6 | 0xCA | 0xCE => {
                            return Err(DecodeError::Unsupported(format!(
                                "JPEG process SOF{} (hierarchical or arithmetic progressive)",
                                m - 0xC0
                            )))
                        }
                        0xC3 | 0xC5 | 0xC7 | 0xC9 | 0xCB | 0xCD | 0xCF => {
                            return Err(DecodeError::Unsupported(format!(
                                "JPEG process SOF{} (arithmetic, lossless or hierarchical)",
                                m - 0xC0
                            )))
                        }
                        0xC4 => self.dht(seg)?,
                        0xCC => return Err(DecodeError::Unsupported("arithmetic coding".into())),
                        0xDB => self.dqt(seg)?,
                        0xDD => {
                            if seg.len() < 2 {
                                return corrupt("bad DRI segment");
                            }
                            self.restart = be16(seg, 0)?;
                        }
                        0xDC => return Err(DecodeError::Unsupported("DNL marker".into())),
                        0xE0 if seg.starts_with(b"JFIF\0") => self.saw_jfif = true,
                        0xEE if seg.len() >= 12 && seg.starts_with(b"Adobe") => {
                            self.adobe_transform = Some(seg[11]);
                        }
                        0xDA => {
                            pos = self.sos(data, seg, pos)?;
                            self.scans += 1;
                        }
                        _ => {} // APPn, COM, JPGn, …: skipped
                    }
                }
            }
        }
    }

    /// The frame header; `rest` is the number of bytes after it (everything the scans can
    /// be coded in).
    fn sof(&mut self, seg: &[u8], m: u8, max_pixels: u64, rest: usize) -> DResult<()> {
        if !self.comps.is_empty() {
            return corrupt("more than one frame header");
        }
        if seg.len() < 6 {
            return corrupt("bad frame header");
        }
        if seg[0] != 8 {
            return Err(DecodeError::Unsupported(format!(
                "{}-bit samples (SOF{})",
                seg[0],
                m - 0xC0
            )));
        }
        let height = be16(seg, 1)?;
        let width = be16(seg, 3)?;
        let nf = usize::from(seg[5]);
        if seg.len() < 6 + 3 * nf || nf == 0 {
            return corrupt("bad frame header");
        }
        if nf == 2 {
            return Err(DecodeError::Unsupported("2-component JPEG".into()));
        }
        if height == 0 {
            return Err(DecodeError::Unsupported(
                "height defined by a DNL marker".into(),
            ));
        }
        if width == 0 {
            return corrupt("frame width is 0");
        }
        if (width as u64) * (height as u64) > max_pixels {
            return Err(DecodeError::TooLarge { width, height });
        }
        for i in 0..nf {
            let c = &seg[6 + 3 * i..9 + 3 * i];
            let (h, v, tq) = (
                usize::from(c[1] >> 4),
                usize::from(c[1] & 15),
                usize::from(c[2]),
            );
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || tq > 3 {
                return corrupt("bad sampling factors or table number in the frame header");
            }
            self.comps.push(Component {
                id: c[0],
                h,
                v,
                tq,
                ..Component::default()
            });
        }
        self.width = width;
        self.height = height;
        self.progressive = m == 0xC2;
        self.coef_bits = vec![[-1; 64]; nf];
        self.hmax = self.comps.iter().map(|c| c.h).max().unwrap();
        self.vmax = self.comps.iter().map(|c| c.v).max().unwrap();
        for c in &self.comps {
            if !self.hmax.is_multiple_of(c.h) || !self.vmax.is_multiple_of(c.v) {
                return Err(DecodeError::Unsupported(
                    "non-integral chroma sampling ratio".into(),
                ));
            }
        }
        // A frame must be backed by its entropy-coded data: every 8×8 block of a component
        // costs at least one bit (a Huffman code is 1 to 16 bits long, and a block needs at
        // least its DC code), so a header whose largest component has more blocks than the
        // rest of the file has bits cannot be a complete image. Refusing it here, before the
        // coefficient planes are allocated, stops a tiny file from claiming gigapixels of
        // garbage (51 KB claiming 16384x8192 took 400 MB and seconds). Every real file
        // passes: baseline needs at least 2 bits a block, progressive at least 1 (DC scan).
        let blocks = self
            .comps
            .iter()
            .map(|c| {
                let (dw, dh) = (
                    (width * c.h).div_ceil(self.hmax),
                    (height * c.v).div_ceil(self.vmax),
                );
                (dw.div_ceil(8) as u64) * (dh.div_ceil(8) as u64)
            })
            .max()
            .unwrap_or(0);
        if blocks.div_ceil(8) > rest as u64 {
            return corrupt(format!(
                "frame header claims {width}x{height} pixels ({blocks} blocks) but only {rest} bytes follow it: at least {} are needed to code that many blocks",
                blocks.div_ceil(8)
            ));
        }
        self.mcus_x = width.div_ceil(8 * self.hmax);
        self.mcus_y = height.div_ceil(8 * self.vmax);
        let (hmax, vmax, mx, my) = (self.hmax, self.vmax, self.mcus_x, self.mcus_y);
        for c in &mut self.comps {
            c.dw = (width * c.h).div_ceil(hmax);
            c.dh = (height * c.v).div_ceil(vmax);
            c.bw = mx * c.h;
            c.bh = my * c.v;
            c.coefs = vec![[0i16; 64]; c.bw * c.bh];
        }
        Ok(())
    }

    fn dht(&mut self, mut seg: &[u8]) -> DResult<()> {
        while !seg.is_empty() {
            if seg.len() < 17 {
                return corrupt("bad DHT segment");
            }
            let (tc, th) = (seg[0] >> 4, usize::from(seg[0] & 15));
            if tc > 1 || th > 3 {
                return corrupt("bad DHT table class or number");
            }
            let counts: [u8; 16] = seg[1..17].try_into().unwrap();
            let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
            if seg.len() < 17 + n {
                return corrupt("bad DHT segment");
            }
            let table = Huffman::new(&counts, &seg[17..17 + n], tc == 0)?;
            if tc == 0 {
                self.dc[th] = Some(table);
            } else {
                self.ac[th] = Some(table);
            }
            seg = &seg[17 + n..];
        }
        Ok(())
    }

    fn dqt(&mut self, mut seg: &[u8]) -> DResult<()> {
        while !seg.is_empty() {
            let (pq, tq) = (seg[0] >> 4, usize::from(seg[0] & 15));
            if pq > 1 || tq > 3 {
                return corrupt("bad DQT precision or table number");
            }
            let n = if pq == 0 { 64 } else { 128 };
            if seg.len() < 1 + n {
                return corrupt("bad DQT segment");
            }
            let mut t = [0i16; 64];
            for k in 0..64 {
                let q = if pq == 0 {
                    u16::from(seg[1 + k])
                } else {
                    u16::from_be_bytes([seg[1 + 2 * k], seg[2 + 2 * k]])
                };
                t[NATURAL[k]] = q as i16;
            }
            self.qt[tq] = Some(t);
            seg = &seg[1 + n..];
        }
        Ok(())
    }

    /// Decodes one scan whose entropy-coded data starts at `pos`; returns the position of the
    /// marker after it.
    fn sos(&mut self, data: &[u8], seg: &[u8], pos: usize) -> DResult<usize> {
        if self.comps.is_empty() {
            return corrupt("scan before the frame header");
        }
        let ns = usize::from(*seg.first().unwrap_or(&0));
        if ns == 0 || ns > 4 || seg.len() < 4 + 2 * ns {
            return corrupt("bad scan header");
        }
        let mut sel = Vec::with_capacity(ns);
        for i in 0..ns {
            let cs = seg[1 + 2 * i];
            let t = seg[2 + 2 * i];
            let Some(ci) = self.comps.iter().position(|c| c.id == cs) else {
                return corrupt("scan names a component the frame does not have");
            };
            sel.push((ci, usize::from(t >> 4), usize::from(t & 15)));
        }
        let tail = &seg[1 + 2 * ns..];
        let (ss, se, ah, al) = (
            usize::from(tail[0]),
            usize::from(tail[1]),
            u32::from(tail[2] >> 4),
            u32::from(tail[2] & 15),
        );
        // What the scan codes (jdphuff.c start_pass_phuff_decoder validates the same way).
        let kind = if !self.progressive {
            ScanKind::Sequential
        } else {
            let bad = if ss == 0 {
                se != 0
            } else {
                ss > se || se > 63 || ns != 1
            } || (ah != 0 && al + 1 != ah)
                || al > 13;
            if bad {
                return corrupt("bad progressive scan parameters");
            }
            for &(ci, _, _) in &sel {
                let bits = &mut self.coef_bits[ci];
                for b in &mut bits[ss..=se] {
                    *b = al as i32;
                }
            }
            match (ss == 0, ah == 0) {
                (true, true) => ScanKind::DcFirst,
                (true, false) => ScanKind::DcRefine,
                (false, true) => ScanKind::AcFirst,
                (false, false) => ScanKind::AcRefine,
            }
        };
        let needs_dc = matches!(kind, ScanKind::Sequential | ScanKind::DcFirst);
        let needs_ac = matches!(
            kind,
            ScanKind::Sequential | ScanKind::AcFirst | ScanKind::AcRefine
        );
        for &(_, td, ta) in &sel {
            let dc_ok = td <= 3 && self.dc[td].is_some();
            let ac_ok = ta <= 3 && self.ac[ta].is_some();
            if (needs_dc && !dc_ok) || (needs_ac && !ac_ok) {
                return corrupt("scan uses an undefined Huffman table");
            }
        }
        let mut bits = Bits::new(data, pos);
        let mut pred = [0i32; 4];
        // MCU geometry: interleaved scans cover the padded MCU grid; a single-component scan
        // covers that component's blocks one at a time (`ceil(dw/8)` × `ceil(dh/8)`).
        let (mx, my) = if ns == 1 {
            let c = &self.comps[sel[0].0];
            (c.dw.div_ceil(8), c.dh.div_ceil(8))
        } else {
            (self.mcus_x, self.mcus_y)
        };
        let mut next_rst = 0u8;
        let mut to_go = self.restart;
        let dc: Vec<Option<&Huffman>> = sel
            .iter()
            .map(|s| self.dc.get(s.1).and_then(Option::as_ref))
            .collect();
        let ac: Vec<Option<&Huffman>> = sel
            .iter()
            .map(|s| self.ac.get(s.2).and_then(Option::as_ref))
            .collect();
        let mut eobrun = 0u32;
        let comps = &mut self.comps;
        for my_i in 0..my {
            for mx_i in 0..mx {
                if self.restart > 0 {
                    if to_go == 0 {
                        process_restart(&mut bits, &mut next_rst);
                        pred = [0; 4];
                        eobrun = 0;
                        to_go = self.restart;
                    }
                    to_go -= 1;
                }
                if bits.insufficient {
                    continue; // blocks stay zero, predictors unchanged
                }
                for (k, &(ci, _, _)) in sel.iter().enumerate() {
                    let c = &mut comps[ci];
                    let (bh_n, bv_n) = if ns == 1 { (1, 1) } else { (c.h, c.v) };
                    for by in 0..bv_n {
                        for bx in 0..bh_n {
                            let row = my_i * bv_n + by;
                            let col = mx_i * bh_n + bx;
                            let blk = &mut c.coefs[row * c.bw + col];
                            let (dc, ac) = (dc[k], ac[k]);
                            match kind {
                                ScanKind::Sequential => decode_block(
                                    &mut bits,
                                    dc.unwrap(),
                                    ac.unwrap(),
                                    &mut pred[k],
                                    blk,
                                )?,
                                ScanKind::DcFirst => {
                                    dc_first(&mut bits, dc.unwrap(), &mut pred[k], blk, al)?
                                }
                                ScanKind::DcRefine => {
                                    if bits.bit() {
                                        blk[0] |= 1 << al;
                                    }
                                }
                                ScanKind::AcFirst => ac_first(
                                    &mut bits,
                                    ac.unwrap(),
                                    blk,
                                    (ss, se, al),
                                    &mut eobrun,
                                )?,
                                ScanKind::AcRefine => ac_refine(
                                    &mut bits,
                                    ac.unwrap(),
                                    blk,
                                    (ss, se, al),
                                    &mut eobrun,
                                )?,
                            }
                        }
                    }
                }
            }
        }
        // The marker after the scan: where the reader stopped, else the next FF xx.
        let mut p = bits.pos;
        loop {
            while p < data.len() && data[p] != 0xFF {
                p += 1;
            }
            if p + 1 < data.len() && data[p + 1] == 0x00 {
                p += 2;
                continue;
            }
            return Ok(p);
        }
    }

    /// IDCT, upsampling and colour conversion of the decoded frame.
    fn output(&self, level: Isa) -> DResult<Decoded> {
        if self.comps.is_empty() {
            return corrupt("no frame header");
        }
        if self.progressive && self.would_smooth() {
            return Err(DecodeError::Unsupported(
                "progressive JPEG whose low-frequency coefficients are not fully refined (libjpeg would apply block smoothing)".into(),
            ));
        }
        let (w, h) = (self.width, self.height);
        // Sample planes: component c is `bw·8` wide; only the blocks the upsampler reads
        // (`ceil(dw/8)` × `ceil(dh/8)`) are transformed.
        let mut planes = Vec::with_capacity(self.comps.len());
        for c in &self.comps {
            let Some(q) = &self.qt[c.tq] else {
                return corrupt("component uses an undefined quantisation table");
            };
            let stride = c.bw * 8;
            let (nbx, nby) = (c.dw.div_ceil(8), c.dh.div_ceil(8));
            let mut plane = vec![0u8; stride * nby * 8];
            for by in 0..nby {
                let blocks = &c.coefs[by * c.bw..by * c.bw + nbx];
                idct_row(blocks, q, &mut plane[by * 8 * stride..], stride, level);
            }
            planes.push(plane);
        }
        if self.comps.len() == 1 {
            let c = &self.comps[0];
            let stride = c.bw * 8;
            let mut px = vec![0u8; w * h];
            // A lone component is never upsampled (its ratio to itself is 1).
            for y in 0..h {
                px[y * w..(y + 1) * w].copy_from_slice(&planes[0][y * stride..y * stride + w]);
            }
            return Ok(Decoded {
                width: w,
                height: h,
                channels: 1,
                pixels: px,
            });
        }
        let four = self.comps.len() == 4;
        // libjpeg's `default_decompress_parms`: which colour space the file holds.
        let rgb_space = match self.adobe_transform {
            _ if four => false,
            _ if self.saw_jfif => false,
            Some(t) => t == 0,
            None => {
                let ids: Vec<u8> = self.comps.iter().map(|c| c.id).collect();
                ids == [b'R', b'G', b'B']
            }
        };
        // Four components: YCCK only with an Adobe marker whose transform is not 0.
        let ycck = four && self.adobe_transform.is_some_and(|t| t != 0);
        let mut ups: Vec<Upsampler> = self
            .comps
            .iter()
            .map(|c| Upsampler::new(c, self.hmax, self.vmax, w))
            .collect();
        let mut px = vec![0u8; w * h * 3];
        let mut rows: [Vec<u8>; 4] = Default::default();
        for r in rows.iter_mut() {
            r.resize(w + 64, 0);
        }
        for y in 0..h {
            for (i, (up, plane)) in ups.iter_mut().zip(&planes).enumerate() {
                up.row(plane, &self.comps[i], y, &mut rows[i][..w], level);
            }
            let out = &mut px[y * w * 3..(y + 1) * w * 3];
            if four {
                cmyk_row(&rows, ycck, out);
            } else if rgb_space {
                for (x, o) in out.chunks_exact_mut(3).enumerate() {
                    o.copy_from_slice(&[rows[0][x], rows[1][x], rows[2][x]]);
                }
            } else {
                ycc_to_rgb_row(&rows[0][..w], &rows[1][..w], &rows[2][..w], out, level);
            }
        }
        Ok(Decoded {
            width: w,
            height: h,
            channels: 3,
            pixels: px,
        })
    }
}

impl Decoder {
    /// libjpeg-turbo's `smoothing_ok` after the whole file is read (Pillow decodes in one
    /// output pass after absorbing every scan): block smoothing runs when each component's DC
    /// is known, the quantisers of the first ten zigzag positions are non-zero, and some
    /// of the first nine AC coefficients are still not fully refined (`coef_bits != 0`). Files
    /// with a normal progression script end with every coefficient at `Al = 0`: no smoothing.
    fn would_smooth(&self) -> bool {
        let mut useful = false;
        for (c, bits) in self.comps.iter().zip(&self.coef_bits) {
            let Some(q) = &self.qt[c.tq] else {
                return false;
            };
            if NATURAL[..10].iter().any(|&i| q[i] == 0) || bits[0] < 0 {
                return false;
            }
            useful |= NATURAL[1..10].iter().any(|&i| bits[i] != 0);
        }
        useful
    }
}

/// The kinds of scan.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ScanKind {
    /// Baseline / extended sequential: whole blocks.
    Sequential,
    /// Progressive DC, first pass (`decode_mcu_DC_first`).
    DcFirst,
    /// Progressive DC refinement: one bit per block.
    DcRefine,
    /// Progressive AC band, first pass (`decode_mcu_AC_first`).
    AcFirst,
    /// Progressive AC refinement (`decode_mcu_AC_refine`).
    AcRefine,
}

/// `decode_mcu_DC_first` for one block.
fn dc_first(
    bits: &mut Bits<'_>,
    dc: &Huffman,
    pred: &mut i32,
    blk: &mut [i16; 64],
    al: u32,
) -> DResult<()> {
    let s = u32::from(bits.decode(dc)?);
    let diff = if s == 0 { 0 } else { bits.receive_extend(s) };
    *pred = match pred.checked_add(diff) {
        Some(v) => v,
        None => return corrupt("DC coefficient overflow"),
    };
    blk[0] = ((*pred as u32) << al) as i16;
    Ok(())
}

/// `decode_mcu_AC_first` for one block: the band `ss..=se` at point transform `al`, with
/// end-of-band runs across blocks.
fn ac_first(
    bits: &mut Bits<'_>,
    ac: &Huffman,
    blk: &mut [i16; 64],
    (ss, se, al): (usize, usize, u32),
    eobrun: &mut u32,
) -> DResult<()> {
    if *eobrun > 0 {
        *eobrun -= 1;
        return Ok(());
    }
    let mut k = ss;
    while k <= se {
        let rs = bits.decode(ac)?;
        let (r, s) = (u32::from(rs >> 4), u32::from(rs & 15));
        if s != 0 {
            k += r as usize;
            let v = bits.receive_extend(s);
            blk[NATURAL[k]] = ((v as u32) << al) as i16;
        } else if r == 15 {
            k += 15;
        } else {
            *eobrun = 1 << r;
            if r > 0 {
                *eobrun += bits.get(r);
            }
            *eobrun -= 1;
            break;
        }
        k += 1;
    }
    Ok(())
}

/// Correction bit for an already non-zero coefficient (refinement scans).
#[inline(always)]
fn refine(bits: &mut Bits<'_>, coef: &mut i16, p1: i16) {
    if bits.bit() && (*coef & p1) == 0 {
        *coef = if *coef >= 0 {
            coef.wrapping_add(p1)
        } else {
            coef.wrapping_sub(p1)
        };
    }
}

/// `decode_mcu_AC_refine` for one block.
fn ac_refine(
    bits: &mut Bits<'_>,
    ac: &Huffman,
    blk: &mut [i16; 64],
    (ss, se, al): (usize, usize, u32),
    eobrun: &mut u32,
) -> DResult<()> {
    let p1: i16 = (1u16 << al) as i16;
    let m1: i16 = ((-1i32) << al) as i16;
    let mut k = ss;
    if *eobrun == 0 {
        while k <= se {
            let rs = bits.decode(ac)?;
            let (mut r, s) = (i32::from(rs >> 4), rs & 15);
            let mut newval = 0i16;
            if s != 0 {
                // The size of a newly non-zero coefficient is always 1 (libjpeg only warns).
                newval = if bits.bit() { p1 } else { m1 };
            } else if r != 15 {
                *eobrun = 1 << r;
                if r > 0 {
                    *eobrun += bits.get(r as u32);
                }
                break;
            }
            // Skip already non-zero coefficients (refining them) and r zero ones.
            loop {
                let c = &mut blk[NATURAL[k]];
                if *c != 0 {
                    refine(bits, c, p1);
                } else {
                    r -= 1;
                    if r < 0 {
                        break;
                    }
                }
                k += 1;
                if k > se {
                    break;
                }
            }
            if newval != 0 {
                blk[NATURAL[k]] = newval;
            }
            k += 1;
        }
    }
    if *eobrun > 0 {
        while k <= se {
            let c = &mut blk[NATURAL[k]];
            if *c != 0 {
                refine(bits, c, p1);
            }
            k += 1;
        }
        *eobrun -= 1;
    }
    Ok(())
}

/// Four-component row to RGB as Pillow does it: libjpeg outputs CMYK (`ycck_cmyk_convert`
/// first for YCCK: `255 − ` the YCbCr → RGB result of the first three components, K
/// unchanged); Pillow reads the samples as inverted Adobe CMYK (`CMYK;I`, every sample
/// `255 − v`) and `convert("RGB")` computes `nk − nk·c/255` per channel with `nk = 255 − k`
/// (`cmyk2rgb`, `MULDIV255` rounding).
fn cmyk_row(rows: &[Vec<u8>; 4], ycck: bool, out: &mut [u8]) {
    let muldiv255 = |a: i32, b: i32| {
        let t = a * b + 128;
        ((t >> 8) + t) >> 8
    };
    for (x, o) in out.chunks_exact_mut(3).enumerate() {
        // The inverted C, M, Y (what Pillow holds) and inverted K.
        let cmy = if ycck {
            color::ycc_to_rgb_px(rows[0][x], rows[1][x], rows[2][x])
        } else {
            [255 - rows[0][x], 255 - rows[1][x], 255 - rows[2][x]]
        };
        let nk = i32::from(rows[3][x]); // 255 − (255 − k)
        for (out, v) in o.iter_mut().zip(cmy) {
            *out = (nk - muldiv255(i32::from(v), nk)).clamp(0, 255) as u8;
        }
    }
}

/// `process_restart` + `read_restart_marker` + `jpeg_resync_to_restart`: drop the padding bits,
/// find the marker, and either consume it or (for a marker that belongs later) leave it so the
/// coming segment decodes as empty.
fn process_restart(bits: &mut Bits<'_>, next_rst: &mut u8) {
    bits.align();
    let data = bits.data;
    let desired = *next_rst;
    *next_rst = (desired + 1) & 7;
    let mut p = bits.pos;
    loop {
        // next_marker from p.
        loop {
            while p < data.len() && data[p] != 0xFF {
                p += 1;
            }
            while p + 1 < data.len() && data[p + 1] == 0xFF {
                p += 1;
            }
            if p + 1 < data.len() && data[p + 1] == 0x00 {
                p += 2;
                continue;
            }
            break;
        }
        let Some(&marker) = data.get(p + 1) else {
            // End of data: nothing to resync to; the segment decodes as empty.
            bits.pos = data.len();
            bits.at_marker = true;
            return;
        };
        let rst = |k: u8| 0xD0 + (k & 7);
        let later =
            marker == rst(desired.wrapping_add(1)) || marker == rst(desired.wrapping_add(2));
        let earlier =
            marker == rst(desired.wrapping_sub(1)) || marker == rst(desired.wrapping_sub(2));
        // 1: the desired (or a far-off) RSTn, consume; 2: junk or an earlier RSTn, skip to
        // the next marker; 3: a later RSTn or any other marker, leave it.
        let action = if marker < 0xC0 || ((0xD0..=0xD7).contains(&marker) && earlier) {
            2
        } else if !(0xD0..=0xD7).contains(&marker) || later {
            3
        } else {
            1
        };
        match action {
            1 => {
                bits.pos = p + 2;
                bits.at_marker = false;
                bits.insufficient = false;
                return;
            }
            2 => p += 2,
            _ => {
                bits.pos = p;
                bits.at_marker = true;
                // libjpeg keeps `insufficient_data` set here, so the segment stays empty.
                return;
            }
        }
    }
}

/// Huffman-decodes one block (`decode_mcu_slow` for one block) into natural order.
#[inline(always)]
fn decode_block(
    bits: &mut Bits<'_>,
    dc: &Huffman,
    ac: &Huffman,
    pred: &mut i32,
    blk: &mut [i16; 64],
) -> DResult<()> {
    let s = u32::from(bits.decode(dc)?);
    let diff = if s == 0 { 0 } else { bits.receive_extend(s) };
    *pred = match pred.checked_add(diff) {
        Some(v) => v,
        None => return corrupt("DC coefficient overflow"),
    };
    blk[0] = *pred as i16;
    let mut k = 1usize;
    while k < 64 {
        let rs = bits.decode(ac)?;
        let (r, s) = (usize::from(rs >> 4), u32::from(rs & 15));
        if s != 0 {
            k += r;
            blk[NATURAL[k]] = bits.receive_extend(s) as i16;
            k += 1;
        } else if r == 15 {
            k += 16;
        } else {
            break;
        }
    }
    Ok(())
}

fn idct_row(blocks: &[[i16; 64]], q: &[i16; 64], out: &mut [u8], stride: usize, level: Isa) {
    dispatch!(at level; dct::idct_blocks_scalar / dct::avx2::idct_blocks(blocks, q, out, stride))
}

/// Which `jdsample.c` method serves a component.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Method {
    /// Same resolution as the output.
    Full,
    /// `h2v2_fancy_upsample`.
    H2V2Fancy,
    /// `h2v1_fancy_upsample`.
    H2V1Fancy,
    /// `h1v2_fancy_upsample`.
    H1V2Fancy,
    /// Box replication by integral factors (`h2v1_upsample`, `h2v2_upsample`, `int_upsample`).
    Box(usize, usize),
}

/// Per-component upsampler state (the padded column sums of the h2v2 filter).
struct Upsampler {
    method: Method,
    colsum: Vec<i16>,
}

impl Upsampler {
    fn new(c: &Component, hmax: usize, vmax: usize, w: usize) -> Self {
        let (fx, fy) = (hmax / c.h, vmax / c.v);
        // jdsample.c jinit_upsampler: fancy only when the downsampled width exceeds 2 (h2v1,
        // h2v2); h1v2 has no such condition.
        let method = match (fx, fy) {
            (1, 1) => Method::Full,
            (2, 2) if c.dw > 2 => Method::H2V2Fancy,
            (2, 1) if c.dw > 2 => Method::H2V1Fancy,
            (1, 2) => Method::H1V2Fancy,
            (a, b) => Method::Box(a, b),
        };
        Upsampler {
            method,
            colsum: vec![0; c.dw + 2 + 32 + w % 2],
        }
    }

    /// Output row `y` (full resolution, `out.len()` = image width) of a component plane.
    fn row(&mut self, plane: &[u8], c: &Component, y: usize, out: &mut [u8], level: Isa) {
        let stride = c.bw * 8;
        let line = |k: usize| &plane[k * stride..k * stride + c.dw];
        let w = out.len();
        match self.method {
            Method::Full => out.copy_from_slice(&plane[y * stride..y * stride + w]),
            Method::H2V2Fancy => {
                let k = y / 2;
                // Row above for even output rows, below for odd ones; the image's first and
                // last rows stand in for the missing context rows (jdmainct.c).
                let kf = if y.is_multiple_of(2) {
                    k.saturating_sub(1)
                } else {
                    (k + 1).min(c.dh - 1)
                };
                fancy_row(line(k), line(kf), c.dw, &mut self.colsum, out, level);
            }
            Method::H2V1Fancy => sample::h2v1_fancy_scalar(line(y), out),
            Method::H1V2Fancy => {
                let k = y / 2;
                let (kf, bias) = if y.is_multiple_of(2) {
                    (k.saturating_sub(1), 1)
                } else {
                    ((k + 1).min(c.dh - 1), 2)
                };
                sample::h1v2_fancy_scalar(line(k), line(kf), bias, out);
            }
            Method::Box(fx, fy) => {
                let src = line(y / fy);
                for (x, o) in out.iter_mut().enumerate() {
                    *o = src[x / fx];
                }
            }
        }
    }
}
