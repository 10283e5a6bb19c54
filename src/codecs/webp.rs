//! WebP: lossy through libwebp (the `webp` crate), byte-identical to Pillow's
//! `save(f, "WEBP", quality=q)`; lossless WebP goes through the `image` crate
//! ([`super::encode`]).

use image::DynamicImage;

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
                super::IMAGE_VERSION
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codecs::{encode, OutputFormat};
    use image::ImageFormat;

    #[test]
    fn webp_versions_match_cargo_lock() {
        let lock = include_str!("../../Cargo.lock");
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
}
