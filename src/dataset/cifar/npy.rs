//! NumPy `.npy` files (format 1.0–3.0): reading the arrays CIFAR-style pairs use (uint8 images,
//! integer labels) and writing the header of the release arrays, whose body is then streamed.

use std::path::Path;

use crate::error::{Error, Result};

/// A parsed `.npy` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// dtype string, e.g. `|u1`, `<i8`.
    pub descr: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Byte offset of the data.
    pub data_offset: usize,
}

/// The header bytes of a C-order array of `descr` and `shape` (format 1.0, padded so that the
/// data starts at a multiple of 64 bytes, as numpy writes it).
pub fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
    let total = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - total % 64) % 64));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((dict.len() as u16).to_le_bytes());
    out.extend(dict.as_bytes());
    out
}

/// Parse the header of `bytes` (the whole file or at least its header); `path` names the file.
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<Header> {
    let bad = |m: &str| Error::Codec {
        path: path.to_path_buf(),
        message: format!("not a .npy array: {m}"),
    };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("no \\x93NUMPY magic"));
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(&format!("format version {v}"))),
    };
    let text = bytes
        .get(start..start + len)
        .ok_or_else(|| bad("truncated header"))?;
    let text = std::str::from_utf8(text).map_err(|_| bad("header is not text"))?;
    let field = |key: &str| -> Option<&str> {
        let k = text.find(&format!("'{key}':"))? + key.len() + 3;
        Some(text[k..].trim_start())
    };
    let descr = field("descr")
        .and_then(|s| s.strip_prefix('\''))
        .and_then(|s| s.split('\'').next())
        .ok_or_else(|| bad("no 'descr'"))?
        .to_string();
    if field("fortran_order").is_none_or(|s| !s.starts_with("False")) {
        return Err(bad(
            "Fortran-order or unreadable 'fortran_order' (C order expected)",
        ));
    }
    let shape_text = field("shape")
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("no 'shape'"))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad("bad 'shape'")))
        .collect::<Result<Vec<_>>>()?;
    Ok(Header {
        descr,
        shape,
        data_offset: start + len,
    })
}

/// Read a `.npy` file of any integer dtype as i64 values, with its shape.
pub fn read_ints(path: &Path) -> Result<(Vec<usize>, Vec<i64>)> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let h = parse_header(&bytes, path)?;
    let bad = |m: String| Error::Codec {
        path: path.to_path_buf(),
        message: m,
    };
    let (size, signed, big) = match h.descr.as_bytes() {
        [o, k @ (b'u' | b'i'), n] if matches!(o, b'<' | b'>' | b'|') && n.is_ascii_digit() => {
            (((n - b'0') as usize), *k == b'i', *o == b'>')
        }
        _ => {
            return Err(bad(format!(
                "dtype `{}`: an integer array (uint8, int64, …) is expected",
                h.descr
            )))
        }
    };
    if ![1, 2, 4, 8].contains(&size) {
        return Err(bad(format!("dtype `{}`", h.descr)));
    }
    let count: usize = h.shape.iter().product();
    let data = bytes
        .get(h.data_offset..h.data_offset + count * size)
        .ok_or_else(|| {
            bad(format!(
                "truncated: {} values of {size} bytes expected",
                count
            ))
        })?;
    let values = data
        .chunks_exact(size)
        .map(|c| {
            let mut b = [0u8; 8];
            if big {
                b[8 - size..].copy_from_slice(c);
                b.reverse();
            } else {
                b[..size].copy_from_slice(c);
            }
            let u = u64::from_le_bytes(b);
            if signed && size < 8 {
                let shift = 64 - 8 * size as u32;
                ((u << shift) as i64) >> shift
            } else {
                u as i64
            }
        })
        .collect();
    Ok((h.shape, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_is_64_aligned() {
        for shape in [vec![50000, 32, 32, 3], vec![7]] {
            let h = header("|u1", &shape);
            assert_eq!(h.len() % 64, 0);
            let p = parse_header(&h, Path::new("x.npy")).unwrap();
            assert_eq!(p.shape, shape);
            assert_eq!(p.descr, "|u1");
            assert_eq!(p.data_offset, h.len());
        }
        assert!(std::str::from_utf8(&header("|u1", &[7])[10..])
            .unwrap()
            .contains("'shape': (7,)"));
    }
}
