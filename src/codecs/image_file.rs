//! Whole image files in memory: the format from a path's extension, decoding with limits and
//! clear errors (JPEGs through imgcorrupt's Pillow-exact decoder), reduction to the 8-bit
//! layouts the corruptions accept, and encoding (JPEG through the Pillow-exact writer when the
//! bytes must match ImageNet-C's, WebP lossy through libwebp).

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat};

use super::webp::{encode_webp_lossy, WebpMode};
use crate::error::{Error, Result};

/// Default pixel limit for decoding: 178,956,970 pixels, Pillow's (`Image.open` raises
/// `DecompressionBombError` above `2 × Image.MAX_IMAGE_PIXELS` = 2 × 89,478,485). Larger files
/// are refused before any pixel buffer is allocated, which bounds the memory and the work a
/// hostile file can cause; `generate --max-pixels` raises it.
pub const DEFAULT_MAX_PIXELS: u64 = 2 * 89_478_485;

/// Version of `image` (kept equal to Cargo.lock by a test), recorded in manifests.
pub const IMAGE_VERSION: &str = "0.25.10";

/// How sources are decoded, recorded in manifests: the decoded pixels are part of what
/// determines an output's bytes. Bump the revision whenever decoding changes.
pub const SOURCE_DECODER: &str = "JPEG: imgcorrupt Pillow-exact decoder rev 1 (libjpeg-turbo 3 islow IDCT, fancy upsampling; arithmetic/12-bit/block-smoothed progressive via image); other formats: image";

/// Output formats chosen from a file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// PNG (lossless).
    Png,
    /// JPEG (baseline, 4:2:0) at a quality.
    Jpeg,
    /// WebP (lossless here; `generate` and `corrupt --webp-quality` write lossy WebP, see
    /// [`WebpMode`] and [`encode_webp_lossy_image`](crate::codecs::webp::encode_webp_lossy_image)).
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

/// Decode an in-memory image file (as [`read_image`](crate::io::read_image)); `path` only names it in errors.
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
    if reader.format() == Some(ImageFormat::Png) {
        png_precheck(bytes).map_err(|m| codec(format!("malformed PNG: {m}")))?;
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
    // A decoder bug must be one file's error, not the end of a dataset run: a panic in the
    // `image` crate's decoders (e.g. the png crate's palette expansion, found by fuzzing) is
    // caught and reported with the file's name.
    let img = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.decode()))
        .map_err(|_| codec("cannot decode: the decoder failed on this file (a bug in it, triggered by malformed data)".into()))?
        .map_err(|e| codec(format!("cannot decode: {e}")))?;
    Ok(to_8bit(img))
}

/// Structural checks of a PNG's chunks that the `png` crate does not make before using them:
/// a `PLTE` chunk must hold 1 to 256 whole RGB entries (the crate panicked on a 49-byte one).
/// Chunks are walked up to `IEND` or the end of the data; anything else is left to the
/// decoder.
fn png_precheck(bytes: &[u8]) -> std::result::Result<(), String> {
    let mut p = 8; // signature
    while let (Some(len), Some(kind)) = (bytes.get(p..p + 4), bytes.get(p + 4..p + 8)) {
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if kind == b"PLTE" && (len == 0 || !len.is_multiple_of(3) || len > 768) {
            return Err(format!(
                "PLTE chunk of {len} bytes (a palette is 1 to 256 RGB entries of 3 bytes)"
            ));
        }
        if kind == b"IEND" {
            break;
        }
        p = p.saturating_add(12).saturating_add(len);
    }
    Ok(())
}

/// Huffman-coded 8-bit JPEGs (baseline, extended sequential, progressive) through
/// [`super::jpeg::decode`], which gives Pillow's pixels byte for byte
/// (`Image.open(f).convert("RGB")`, or `"L"` for greyscale files). `Ok(None)` for the kinds it
/// does not handle (arithmetic, 12-bit, block-smoothed progressive, …): the caller then
/// decodes with the `image` crate, whose pixels may differ from Pillow's by a few levels.
fn decode_jpeg_exact(bytes: &[u8], path: &Path, max_pixels: u64) -> Result<Option<DynamicImage>> {
    use super::jpeg::decode::{decode, DecodeError};
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
            // Colour goes through our encoder, the file Pillow's `save(quality=q,
            // optimize=True)` writes, as `generate` does: a single image and a dataset member
            // of the same pixels are the same bytes. Grey stays one-component (the `image`
            // crate's encoder; ours is RGB-only).
            match img {
                DynamicImage::ImageRgb8(rgb) => {
                    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
                    return super::jpeg::encode_jpeg(
                        rgb.as_raw(),
                        w,
                        h,
                        jpeg_quality.clamp(1, 100),
                    );
                }
                DynamicImage::ImageRgba8(_) => {
                    let rgb = img.to_rgb8();
                    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
                    return super::jpeg::encode_jpeg(
                        rgb.as_raw(),
                        w,
                        h,
                        jpeg_quality.clamp(1, 100),
                    );
                }
                _ => {}
            }
            let flat = match img {
                DynamicImage::ImageLumaA8(_) => DynamicImage::ImageLuma8(img.to_luma8()),
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

/// Encode 8-bit RGB as JPEG without chroma subsampling (4:4:4) at `quality`: the `image`
/// crate's baseline encoder (IJG quality tables, standard Huffman tables), what PIL's
/// `save(format="JPEG", subsampling=0, quality=q)` stores in layout (LAION-C's release); the
/// bytes are not PIL's (Huffman tables, DCT), the decoded pixels agree within a few levels.
pub fn encode_jpeg_444(
    px: &[u8],
    w: usize,
    h: usize,
    quality: u8,
) -> std::result::Result<Vec<u8>, String> {
    if w == 0 || h == 0 || w > 65535 || h > 65535 || px.len() != w * h * 3 {
        return Err(format!("{w}x{h}: cannot be stored as JPEG"));
    }
    let mut buf = Vec::new();
    let mut enc =
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality.clamp(1, 100));
    enc.encode(px, w as u32, h as u32, image::ExtendedColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Encode 8-bit RGB (`w·h·3` bytes) in `format`; JPEG at `quality` (1–100), WebP as `webp`
/// says (lossy through libwebp, lossless through the `image` crate).
pub fn encode_rgb(
    px: &[u8],
    w: usize,
    h: usize,
    format: OutputFormat,
    quality: u8,
    webp: WebpMode,
) -> std::result::Result<Vec<u8>, String> {
    if format == OutputFormat::Jpeg {
        return super::jpeg::encode_jpeg(px, w, h, quality);
    }
    if let (OutputFormat::WebP, WebpMode::Lossy(q)) = (format, webp) {
        return encode_webp_lossy(px, w, h, q);
    }
    let img =
        image::RgbImage::from_raw(w as u32, h as u32, px.to_vec()).ok_or("buffer size mismatch")?;
    encode(&DynamicImage::ImageRgb8(img), format, quality)
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

    #[test]
    fn recorded_versions_match_cargo_lock() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
            .expect("Cargo.lock");
        let needle = format!("name = \"image\"\nversion = \"{IMAGE_VERSION}\"");
        assert!(
            lock.contains(&needle),
            "Cargo.lock has no image {IMAGE_VERSION}"
        );
    }
}
