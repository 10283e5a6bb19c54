//! Reading and writing image files: decode with clear errors naming the file, normalise to
//! 8-bit layouts the corruptions accept, and write atomically (temp file + rename) so that an
//! interrupted run never leaves a half-written output.

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat};

use crate::error::{Error, Result};

/// Default pixel limit for decoding (about 268 megapixels): larger files are refused, which
/// protects against decompression bombs.
pub const DEFAULT_MAX_PIXELS: u64 = 1 << 28;

/// How WebP outputs are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebpMode {
    /// Lossless WebP (the `image` crate's encoder): outputs decode to exactly the corrupted
    /// pixels, at several times the size of a lossy file.
    Lossless,
    /// Lossy WebP (libwebp through the `webp` crate, `WebPConfig` defaults: method 4, no
    /// preset, single thread) at a quality 0–100: the same bytes as Pillow's
    /// `save(f, "WEBP", quality=q)` (tested against files Pillow 13 / libwebp 1.6.0 wrote).
    Lossy(u8),
}

impl WebpMode {
    /// Encoder name and settings, as recorded in manifests (parsed back by [`WebpMode::parse`]).
    pub fn describe(self) -> String {
        match self {
            WebpMode::Lossless => format!(
                "image {} WebPEncoder: lossless",
                crate::dataset::run::IMAGE_VERSION
            ),
            WebpMode::Lossy(q) => format!(
                "libwebp {LIBWEBP_VERSION} (webp crate {WEBP_CRATE_VERSION}): lossy, quality {q}, method 4"
            ),
        }
    }

    /// Inverse of [`WebpMode::describe`] (anything without `lossy, quality N` is lossless, as
    /// manifests written before lossy WebP existed say).
    pub fn parse(description: &str) -> WebpMode {
        description
            .split("lossy, quality ")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|s| s.parse().ok())
            .map_or(WebpMode::Lossless, WebpMode::Lossy)
    }
}

/// libwebp version vendored by `libwebp-sys` 0.9 (the `webp` crate's C library).
pub const LIBWEBP_VERSION: &str = "1.3.1";
/// Version of the `webp` crate (kept equal to Cargo.lock by a test).
pub const WEBP_CRATE_VERSION: &str = "0.3.1";

/// Lossy WebP of 8-bit RGB (`w·h·3` bytes) at `quality` (0–100, clamped). Deterministic: the
/// same pixels and quality give the same bytes (single-threaded libwebp, fixed settings).
pub fn encode_webp_lossy(
    px: &[u8],
    w: usize,
    h: usize,
    quality: u8,
) -> std::result::Result<Vec<u8>, String> {
    if w == 0 || h == 0 || w > 16383 || h > 16383 {
        return Err(format!(
            "WebP holds at most 16383x16383 pixels, the image is {w}x{h}"
        ));
    }
    if px.len() < w * h * 3 {
        return Err("buffer size mismatch".into());
    }
    let enc = webp::Encoder::from_rgb(&px[..w * h * 3], w as u32, h as u32);
    let mem = enc
        .encode_simple(false, f32::from(quality.min(100)))
        .map_err(|e| format!("libwebp failed: {e:?}"))?;
    Ok(mem.to_vec())
}

/// Lossy WebP of any image at `quality` (0–100), as [`encode_webp_lossy`]: images without
/// alpha are encoded as 8-bit RGB (greyscale is expanded, as WebP stores colour anyway);
/// images with alpha as 8-bit RGBA (libwebp keeps alpha losslessly in lossy files, as Pillow's
/// `save(f, "WEBP", quality=q)` of an RGBA image does).
pub fn encode_webp_lossy_image(
    img: &DynamicImage,
    quality: u8,
) -> std::result::Result<Vec<u8>, String> {
    if !img.color().has_alpha() {
        let rgb = img.to_rgb8();
        return encode_webp_lossy(&rgb, rgb.width() as usize, rgb.height() as usize, quality);
    }
    let rgba = img.to_rgba8();
    let (w, h) = (rgba.width(), rgba.height());
    if w == 0 || h == 0 || w > 16383 || h > 16383 {
        return Err(format!(
            "WebP holds at most 16383x16383 pixels, the image is {w}x{h}"
        ));
    }
    let mem = webp::Encoder::from_rgba(&rgba, w, h)
        .encode_simple(false, f32::from(quality.min(100)))
        .map_err(|e| format!("libwebp failed: {e:?}"))?;
    Ok(mem.to_vec())
}

/// Output formats chosen from a file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// PNG (lossless).
    Png,
    /// JPEG (baseline, 4:2:0) at a quality.
    Jpeg,
    /// WebP (lossless here; `generate` and `corrupt --webp-quality` write lossy WebP, see
    /// [`WebpMode`] and [`encode_webp_lossy_image`]).
    WebP,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
}

impl OutputFormat {
    /// Format from the extension of `path` (png, jpg/jpeg, webp, bmp, tif/tiff).
    pub fn from_path(path: &Path) -> Result<OutputFormat> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        Ok(match ext.as_str() {
            "png" => OutputFormat::Png,
            "jpg" | "jpeg" => OutputFormat::Jpeg,
            "webp" => OutputFormat::WebP,
            "bmp" => OutputFormat::Bmp,
            "tif" | "tiff" => OutputFormat::Tiff,
            _ => {
                return Err(Error::Codec {
                    path: path.to_path_buf(),
                    message: format!(
                        "cannot tell the output format from the extension `{ext}`: use .png, .jpg/.jpeg, .webp, .bmp or .tif/.tiff"
                    ),
                })
            }
        })
    }
}

/// Decode an image file and normalise it to an 8-bit layout.
///
/// 16-bit and float images are reduced to 8 bits per channel (keeping grey/alpha); palette
/// images are expanded by the decoder; CMYK JPEGs are converted to RGB as Pillow's
/// `convert("RGB")` does. JPEGs decode to Pillow's exact pixels except for the kinds listed at
/// [`decode_image`].
pub fn read_image(path: &Path, max_pixels: u64) -> Result<DynamicImage> {
    let bytes = fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_image(&bytes, path, max_pixels)
}

/// Decode an in-memory image file (as [`read_image`]); `path` only names it in errors.
///
/// A JPEG without an end-of-image marker after its last scan is refused as truncated (the
/// decoder would otherwise fill the missing blocks with grey, as PIL refuses too by default).
///
/// JPEGs are decoded by imgcorrupt's own decoder, byte-identical to Pillow/libjpeg-turbo, when
/// they are Huffman-coded 8-bit greyscale, YCbCr, RGB, CMYK or YCCK (baseline, extended
/// sequential or progressive; CMYK as Pillow's `convert("RGB")`). Arithmetic-coded, 12-bit and
/// block-smoothed progressive files go to the `image` crate instead (close to Pillow, not
/// identical; arithmetic coding fails).
pub fn decode_image(bytes: &[u8], path: &Path, max_pixels: u64) -> Result<DynamicImage> {
    let codec = |message: String| Error::Codec {
        path: path.to_path_buf(),
        message,
    };
    if bytes.is_empty() {
        return Err(codec("empty file, not an image".into()));
    }
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| codec(format!("cannot read: {e}")))?;
    if reader.format().is_none() {
        return Err(codec(
            "not a recognised image format (png, jpeg, webp, bmp, tiff)".into(),
        ));
    }
    if reader.format() == Some(ImageFormat::Jpeg) && jpeg_is_truncated(bytes) {
        return Err(codec(
            "truncated JPEG (no end-of-image marker after the last scan)".into(),
        ));
    }
    if reader.format() == Some(ImageFormat::Jpeg) {
        if let Some(img) = decode_jpeg_exact(bytes, path, max_pixels)? {
            return Ok(img);
        }
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(u32::MAX);
    limits.max_image_height = Some(u32::MAX);
    limits.max_alloc = Some(max_pixels.saturating_mul(16));
    reader.limits(limits);
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| codec(format!("cannot decode: {e}")))?;
    if w == 0 || h == 0 {
        return Err(codec(format!("image is {w}x{h}: zero-sized")));
    }
    if (w as u64) * (h as u64) > max_pixels {
        return Err(codec(format!(
            "image is {w}x{h}, more than the limit of {max_pixels} pixels"
        )));
    }
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| codec(format!("cannot read: {e}")))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(16));
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| codec(format!("cannot decode: {e}")))?;
    Ok(to_8bit(img))
}

/// Huffman-coded 8-bit JPEGs (baseline, extended sequential, progressive) through
/// [`crate::kernels::jpeg::decode`], which gives Pillow's pixels byte for byte
/// (`Image.open(f).convert("RGB")`, or `"L"` for greyscale files). `Ok(None)` for the kinds it
/// does not handle (arithmetic, 12-bit, block-smoothed progressive, …): the caller then
/// decodes with the `image` crate, whose pixels may differ from Pillow's by a few levels.
fn decode_jpeg_exact(bytes: &[u8], path: &Path, max_pixels: u64) -> Result<Option<DynamicImage>> {
    use crate::kernels::jpeg::decode::{decode, DecodeError};
    let codec = |message: String| Error::Codec {
        path: path.to_path_buf(),
        message,
    };
    match decode(bytes, max_pixels) {
        Ok(d) => {
            let (w, h) = (d.width as u32, d.height as u32);
            let img = if d.channels == 1 {
                image::GrayImage::from_raw(w, h, d.pixels).map(DynamicImage::ImageLuma8)
            } else {
                image::RgbImage::from_raw(w, h, d.pixels).map(DynamicImage::ImageRgb8)
            };
            Ok(Some(
                img.expect("decoder returns width·height·channels bytes"),
            ))
        }
        Err(DecodeError::Unsupported(_)) => Ok(None),
        Err(DecodeError::TooLarge { width, height }) => Err(codec(format!(
            "image is {width}x{height}, more than the limit of {max_pixels} pixels"
        ))),
        Err(e @ DecodeError::Corrupt(_)) => Err(codec(format!("cannot decode: {e}"))),
    }
}

/// True when a JPEG has no EOI marker (`FF D9`) after its last start-of-scan (`FF DA`).
/// Entropy-coded data stuffs every `FF` byte, so the markers cannot occur inside it; looking
/// after the *last* SOS skips an EXIF thumbnail's own EOI.
fn jpeg_is_truncated(bytes: &[u8]) -> bool {
    let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_sos {
        None => true,
        Some(p) => !bytes[p..].windows(2).any(|w| w == [0xFF, 0xD9]),
    }
}

/// Reduce any decoded image to L8, La8, Rgb8 or Rgba8, keeping grey and alpha.
pub fn to_8bit(img: DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => img,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(img.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(img.to_luma_alpha8()),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

/// Encode `img` in `format`. JPEG cannot hold alpha: it is dropped (callers may warn).
pub fn encode(
    img: &DynamicImage,
    format: OutputFormat,
    jpeg_quality: u8,
) -> std::result::Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let mut cursor = Cursor::new(&mut buf);
    let res = match format {
        OutputFormat::Jpeg => {
            let flat = match img {
                DynamicImage::ImageLumaA8(_) => DynamicImage::ImageLuma8(img.to_luma8()),
                DynamicImage::ImageRgba8(_) => DynamicImage::ImageRgb8(img.to_rgb8()),
                other => other.clone(),
            };
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(
                &mut cursor,
                jpeg_quality.clamp(1, 100),
            );
            flat.write_with_encoder(enc)
        }
        OutputFormat::Png => img.write_to(&mut cursor, ImageFormat::Png),
        OutputFormat::WebP => img.write_to(&mut cursor, ImageFormat::WebP),
        OutputFormat::Bmp => img.write_to(&mut cursor, ImageFormat::Bmp),
        OutputFormat::Tiff => img.write_to(&mut cursor, ImageFormat::Tiff),
    };
    res.map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, flushed and
/// then renamed over `path`. On any error the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path, &format!("tmp-{}", std::process::id()))?;
    write_atomic_via(path, &tmp, bytes, true)
}

/// The hidden temporary name `.<file name>.<tag>` next to `path`.
///
/// File systems limit a name to 255 bytes, so a name that is valid by itself could not take
/// the prefix and tag: then the name is cut (at a character boundary) and followed by 16 hex
/// digits of its SHA-256, which keeps the temporary name deterministic (a rerun finds a stale
/// one) and distinct for distinct names.
pub fn temp_path(path: &Path, tag: &str) -> Result<PathBuf> {
    const NAME_MAX: usize = 255;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::InvalidArgument(format!("{}: not a file path", path.display())))?
        .to_string_lossy();
    let full = format!(".{name}.{tag}");
    if full.len() <= NAME_MAX {
        return Ok(dir.join(full));
    }
    let digest = crate::dataset::sha256_hex(name.as_bytes());
    // `.` + kept + `~` + 16 digits + `.` + tag
    let room = NAME_MAX.saturating_sub(tag.len() + 19);
    let mut cut = room.min(name.len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    Ok(dir.join(format!(".{}~{}.{tag}", &name[..cut], &digest[..16])))
}

/// Write `bytes` to the temporary file `tmp` (same directory as `path`), optionally `fsync` it,
/// then rename it over `path`; on error `tmp` is removed. Without `sync` the write is still
/// atomic with respect to a killed process (the rename happens only after the last byte),
/// just not with respect to a power failure.
pub fn write_atomic_via(path: &Path, tmp: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let result = (|| {
        // A fresh file, never an existing one: something already at the temporary name (a
        // stale temporary, or a link that would lead the write out of the output tree) is
        // replaced rather than written through.
        let _ = fs::remove_file(tmp);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        drop(f);
        fs::rename(tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(tmp);
        return Err(io_err(e));
    }
    Ok(())
}

/// Encode and write an image atomically, format from the extension of `path`.
pub fn write_image(path: &Path, img: &DynamicImage, jpeg_quality: u8) -> Result<()> {
    let format = OutputFormat::from_path(path)?;
    let bytes = encode(img, format, jpeg_quality).map_err(|message| Error::Codec {
        path: path.to_path_buf(),
        message,
    })?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension() {
        assert_eq!(
            OutputFormat::from_path(Path::new("a/b.JPG")).unwrap(),
            OutputFormat::Jpeg
        );
        assert_eq!(
            OutputFormat::from_path(Path::new("b.tif")).unwrap(),
            OutputFormat::Tiff
        );
        let e = OutputFormat::from_path(Path::new("b.gif"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("b.gif") && e.contains("gif"), "{e}");
    }

    #[test]
    fn webp_versions_match_cargo_lock() {
        let lock = include_str!("../Cargo.lock");
        assert!(lock.contains(&format!(
            "name = \"webp\"\nversion = \"{WEBP_CRATE_VERSION}\""
        )));
        // libwebp-sys 0.9.x vendors libwebp 1.3.1.
        assert!(lock.contains("name = \"libwebp-sys\"\nversion = \"0.9."));
    }

    #[test]
    fn webp_mode_round_trips_through_its_description() {
        for m in [WebpMode::Lossless, WebpMode::Lossy(0), WebpMode::Lossy(85)] {
            assert_eq!(WebpMode::parse(&m.describe()), m);
        }
        // Manifests from before lossy WebP.
        assert_eq!(
            WebpMode::parse("image 0.25.10 WebPEncoder: lossless"),
            WebpMode::Lossless
        );
    }

    /// Lossy WebP: decodes to the right size close to the input, is smaller than lossless at
    /// quality < 100, and is deterministic.
    #[test]
    fn lossy_webp_round_trip_size_and_determinism() {
        let img = image::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/photos/coffee_97x61.png"
        ))
        .unwrap()
        .to_rgb8();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let px = img.as_raw();
        let lossless = encode(
            &DynamicImage::ImageRgb8(img.clone()),
            OutputFormat::WebP,
            85,
        )
        .unwrap();
        for q in [10u8, 50, 85, 99] {
            let a = encode_webp_lossy(px, w, h, q).unwrap();
            let b = encode_webp_lossy(px, w, h, q).unwrap();
            assert_eq!(a, b, "q{q}: not deterministic");
            assert!(
                a.len() < lossless.len(),
                "q{q}: {} vs lossless {}",
                a.len(),
                lossless.len()
            );
            assert_eq!(&a[8..12], b"WEBP");
            let back = image::load_from_memory_with_format(&a, ImageFormat::WebP)
                .unwrap()
                .to_rgb8();
            assert_eq!((back.width(), back.height()), (97, 61));
            let mad = back
                .as_raw()
                .iter()
                .zip(px)
                .map(|(&x, &y)| (f64::from(x) - f64::from(y)).abs())
                .sum::<f64>()
                / px.len() as f64;
            assert!(
                mad < if q >= 50 { 8.0 } else { 20.0 },
                "q{q}: mean |d| {mad}"
            );
        }
        // Higher quality, larger file.
        let small = encode_webp_lossy(px, w, h, 10).unwrap();
        let big = encode_webp_lossy(px, w, h, 95).unwrap();
        assert!(small.len() < big.len());
        assert!(encode_webp_lossy(px, 0, 0, 85).is_err());
    }

    #[test]
    fn sixteen_bit_is_reduced_keeping_layout() {
        let img = DynamicImage::ImageLumaA16(image::ImageBuffer::from_pixel(
            2,
            2,
            image::LumaA([65535u16, 0]),
        ));
        let out = to_8bit(img);
        assert!(matches!(out, DynamicImage::ImageLumaA8(_)));
        assert_eq!(out.as_luma_alpha8().unwrap().get_pixel(0, 0).0, [255, 0]);
    }
}
