//! Quantisation tables and the encoder's reciprocal divisors.
//!
//! Mirrors `jcparam.c` (`jpeg_set_quality` → `jpeg_quality_scaling` → `jpeg_add_quant_table`
//! with `force_baseline = TRUE`, as Pillow calls it) and `jcdctmgr.c` (`compute_reciprocal`,
//! which libjpeg-turbo uses instead of a plain division whenever it is built with SIMD, as
//! Pillow's bundled copy is).

/// IJG standard luminance table (JPEG spec K.1), natural (row-major) order.
const STD_LUMINANCE: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, //
    12, 12, 14, 19, 26, 58, 60, 55, //
    14, 13, 16, 24, 40, 57, 69, 56, //
    14, 17, 22, 29, 51, 87, 80, 62, //
    18, 22, 37, 56, 68, 109, 103, 77, //
    24, 35, 55, 64, 81, 104, 113, 92, //
    49, 64, 78, 87, 103, 121, 120, 101, //
    72, 92, 95, 98, 112, 100, 103, 99,
];

/// IJG standard chrominance table (JPEG spec K.2), natural (row-major) order.
const STD_CHROMINANCE: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, //
    18, 21, 26, 66, 99, 99, 99, 99, //
    24, 26, 56, 99, 99, 99, 99, 99, //
    47, 66, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99,
];

/// `jpeg_quality_scaling`: quality (clamped to 1..=100) → percentage scale factor.
fn quality_scaling(quality: u8) -> u32 {
    let q = u32::from(quality.clamp(1, 100));
    if q < 50 {
        5000 / q
    } else {
        200 - q * 2
    }
}

/// `jpeg_add_quant_table` with `force_baseline = TRUE`: `(base·scale + 50) / 100`, clamped to
/// `[1, 255]`.
fn scale_table(base: &[u16; 64], scale: u32) -> [u16; 64] {
    let mut out = [0u16; 64];
    for (o, &b) in out.iter_mut().zip(base) {
        let t = (u32::from(b) * scale + 50) / 100;
        *o = t.clamp(1, 255) as u16;
    }
    out
}

/// The quantisation tables libjpeg builds for `quality` (luma, chroma), natural (row-major)
/// order.
///
/// This is `jpeg_set_quality(cinfo, quality, TRUE)`: the IJG standard tables scaled by
/// `5000 / q` (q < 50) or `200 − 2q` percent, rounded, and clamped to the baseline range
/// `[1, 255]`. `quality` outside `1..=100` is clamped like `jpeg_quality_scaling` does.
pub fn quant_tables(quality: u8) -> ([u16; 64], [u16; 64]) {
    let s = quality_scaling(quality);
    (
        scale_table(&STD_LUMINANCE, s),
        scale_table(&STD_CHROMINANCE, s),
    )
}

/// Everything the forward quantiser and the dequantiser need for one table.
///
/// `recip`, `corr`, `scale` and `shift` are `compute_reciprocal`'s four tables for the islow
/// divisor `8·q` (the islow FDCT output is scaled up by 8); `quant` is the raw table used by the
/// decoder's dequantisation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Divisors {
    /// Rounded reciprocal `f ≈ 2^r / d` (fits in 16 bits unsigned).
    pub recip: [u16; 64],
    /// Rounding correction `d/2` (+1 when the fractional part of `f` was rounded down).
    pub corr: [u16; 64],
    /// `2^(32 − r)`: second `mulhi` factor that performs the remaining `>> (r − 16)`.
    pub scale: [u16; 64],
    /// `r`, the total right shift applied to `(|x| + corr)·recip`.
    pub shift: [u8; 64],
    /// Raw quantisation table (natural order), for dequantisation.
    pub quant: [i16; 64],
}

/// `compute_reciprocal` for a 16-bit `DCTELEM` (libjpeg-turbo's SIMD build) and a divisor
/// `d >= 2`: returns `(recip, corr, scale, r)`.
fn compute_reciprocal(d: u16) -> (u16, u16, u16, u8) {
    debug_assert!(d >= 2);
    // b = (number of significant bits in the divisor) − 1; r = 16 + b.
    let b = 15 - d.leading_zeros();
    let mut r = 16 + b;
    let mut fq = (1u32 << r) / u32::from(d);
    let fr = (1u32 << r) % u32::from(d);
    let mut c = u32::from(d) / 2;
    if fr == 0 {
        // Power of two: fq would be one bit too wide for 16 bits.
        fq >>= 1;
        r -= 1;
    } else if fr <= u32::from(d) / 2 {
        // Fractional part of 2^r/d < 0.5: fq was rounded down, compensate in the addend.
        c += 1;
    } else {
        // Fractional part > 0.5: round fq up.
        fq += 1;
    }
    (fq as u16, c as u16, (1u32 << (32 - r)) as u16, r as u8)
}

impl Divisors {
    /// Builds the divisor tables for one quantisation table (`start_pass_fdctmgr`, JDCT_ISLOW).
    pub(crate) fn new(quant: &[u16; 64]) -> Self {
        let mut d = Divisors {
            recip: [0; 64],
            corr: [0; 64],
            scale: [0; 64],
            shift: [0; 64],
            quant: [0; 64],
        };
        for (i, &q) in quant.iter().enumerate() {
            let (f, c, s, r) = compute_reciprocal(q << 3);
            d.recip[i] = f;
            d.corr[i] = c;
            d.scale[i] = s;
            d.shift[i] = r;
            d.quant[i] = q as i16;
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_50_is_the_standard_table() {
        let (l, c) = quant_tables(50);
        assert_eq!(l, STD_LUMINANCE);
        assert_eq!(c, STD_CHROMINANCE);
    }

    #[test]
    fn known_tables() {
        // q = 75: scale 50 %.
        let (l, c) = quant_tables(75);
        assert_eq!(&l[..8], &[8, 6, 5, 8, 12, 20, 26, 31]);
        assert_eq!(&c[..8], &[9, 9, 12, 24, 50, 50, 50, 50]);
        assert_eq!(l[63], 50);
        // q = 25: scale 200 %.
        let (l, c) = quant_tables(25);
        assert_eq!(&l[..8], &[32, 22, 20, 32, 48, 80, 102, 122]);
        assert_eq!(c[0], 34);
        assert_eq!(c[63], 198);
        // q = 7: scale 714 %, most entries clamp to 255.
        let (l, c) = quant_tables(7);
        assert_eq!(&l[..8], &[114, 79, 71, 114, 171, 255, 255, 255]);
        assert_eq!(&c[..8], &[121, 129, 171, 255, 255, 255, 255, 255]);
        assert_eq!(&c[8..12], &[129, 150, 186, 255]);
        assert!(c[32..].iter().all(|&v| v == 255));
        assert_eq!(l.iter().filter(|&&v| v == 255).count(), 42);
        // q = 10: scale 500 % (values checked against Pillow's `im.quantization`).
        let (l, c) = quant_tables(10);
        assert_eq!(&l[..8], &[80, 55, 50, 80, 120, 200, 255, 255]);
        assert_eq!(&c[..8], &[85, 90, 120, 235, 255, 255, 255, 255]);
        // q = 100: scale 0 → every entry clamps to 1.
        let (l, c) = quant_tables(100);
        assert!(l.iter().chain(c.iter()).all(|&v| v == 1));
        // q = 0 behaves like q = 1 (scale 5000 %): everything clamps to 255.
        let (l0, _) = quant_tables(0);
        assert_eq!(l0, quant_tables(1).0);
        assert!(l0.iter().all(|&v| v == 255));
    }

    /// libjpeg-turbo's reciprocal quotient `(|x| + corr)·recip >> r` equals rounding division
    /// `(|x| + d/2) / d` for every divisor `8·q` and every magnitude an 8-bit FDCT can produce
    /// (|x| ≤ 16384), and in particular is 0 for x = 0. (The quantiser replicates the reciprocal
    /// form bit for bit anyway.)
    #[test]
    fn reciprocal_matches_rounding_division() {
        let mut mismatches = 0u32;
        for q in 1u16..=255 {
            let d = q << 3;
            let (f, c, s, r) = compute_reciprocal(d);
            assert_eq!(u32::from(s), 1u32 << (32 - u32::from(r)));
            for x in 0u32..=16384 {
                let got = ((x + u32::from(c)) * u32::from(f)) >> r;
                // The two `mulhi` steps used by the quantiser give the same quotient.
                let hi = ((x + u32::from(c)) * u32::from(f)) >> 16;
                assert_eq!((hi * u32::from(s)) >> 16, got);
                let want = (x + u32::from(d) / 2) / u32::from(d);
                if got != want {
                    mismatches += 1;
                }
            }
        }
        assert_eq!(mismatches, 0);
    }
}
