//! Hashing and hex helpers: a leaf module (it imports nothing from the crate), so that the
//! dataset pipeline, the style sets and the atomic-write helpers can all name files and
//! outputs by SHA-256 without importing each other.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Lower-case hexadecimal SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Open `path` for reading if it is a regular file (links followed), with its length.
///
/// Paths read by the pipeline come from INPUT and from manifests, i.e. from users: a FIFO
/// there would block the open or the read forever, and `/dev/zero` would be read until memory
/// runs out. So anything but a regular file is an error (`InvalidInput`, checked before the
/// open, so a FIFO is never opened, and again on the open file), and readers stop at the
/// length found here.
pub fn open_regular(path: &Path) -> std::io::Result<(std::fs::File, u64)> {
    let not_regular = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, device, socket or folder): refusing to read it",
        )
    };
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    let f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    Ok((f, meta.len()))
}

/// The bytes of a regular file (see [`open_regular`]; at most its length when opened).
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    let (f, len) = open_regular(path)?;
    let mut bytes = Vec::with_capacity(len.min(1 << 30) as usize);
    f.take(len).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Lower-case hexadecimal SHA-256 of a regular file (see [`open_regular`]), streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let (f, len) = open_regular(path)?;
    let mut f = f.take(len);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Parse 64 hexadecimal digits.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Lower-case hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
