//! Reading and writing image files: the small public facade over [`crate::codecs`] (decode
//! with clear errors naming the file, normalise to 8-bit layouts the corruptions accept,
//! encode), plus the file-system half: write atomically (temp file + rename) so that an
//! interrupted run never leaves a half-written output.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use image::DynamicImage;

pub use crate::codecs::jpeg::encode_jpeg;
pub use crate::codecs::webp::{
    encode_webp_lossy, encode_webp_lossy_image, WebpMode, LIBWEBP_VERSION, WEBP_CRATE_VERSION,
};
pub use crate::codecs::{
    decode_image, encode, encode_rgb, to_8bit, OutputFormat, DEFAULT_MAX_PIXELS, IMAGE_VERSION,
    SOURCE_DECODER,
};
use crate::error::{Error, Result};

/// Decode an image file and normalise it to an 8-bit layout.
///
/// 16-bit and float images are reduced to 8 bits per channel (keeping grey/alpha); palette
/// images are expanded by the decoder; CMYK JPEGs are converted to RGB as Pillow's
/// `convert("RGB")` does. JPEGs decode to Pillow's exact pixels except for the kinds listed at
/// [`decode_image`].
pub fn read_image(path: &Path, max_pixels: u64) -> Result<DynamicImage> {
    let bytes = crate::digest::read_regular(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_image(&bytes, path, max_pixels)
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
    let digest = crate::digest::sha256_hex(name.as_bytes());
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
        // (Tried first, removed only when it exists: one system call per output fewer in
        // a dataset run, where a stale temporary is the exception.)
        let create = || {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(tmp)
        };
        let mut f = match create() {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                fs::remove_file(tmp)?;
                create()?
            }
            other => other?,
        };
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
