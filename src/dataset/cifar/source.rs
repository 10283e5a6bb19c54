//! Discover stage of the CIFAR release format: find and read the test images and labels.
//!
//! Accepted inputs (the first that matches):
//! * `cifar-10-batches-py/` (or a folder holding it): `test_batch`, labels `labels`;
//! * `cifar-100-python/` (or a folder holding it): `test`, labels `fine_labels` (what
//!   CIFAR-100-C's `labels.npy` holds);
//! * a pickle file of either kind given directly;
//! * a folder with an `.npy` pair: `images.npy` (or `x_test.npy`, `data.npy`), uint8
//!   `(N, H, W, 3)`, and `labels.npy` (or `y_test.npy`), integers `(N,)`.

use std::path::{Path, PathBuf};

use super::npy;
use super::pickle::{self, Value};
use crate::error::{Error, Result};

/// The images and labels of a CIFAR-style test set, images HWC uint8 in file order.
#[derive(Clone, Debug)]
pub struct Source {
    /// What was read: `cifar-10`, `cifar-100` or `npy`.
    pub kind: &'static str,
    /// The file(s) read, for the manifest.
    pub files: Vec<PathBuf>,
    /// Number of images.
    pub n: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
    /// `n·height·width·3` bytes, image-major HWC.
    pub pixels: Vec<u8>,
    /// One label per image.
    pub labels: Vec<i64>,
}

impl Source {
    /// Image `i`'s pixels.
    pub fn image(&self, i: usize) -> &[u8] {
        let len = self.height * self.width * 3;
        &self.pixels[i * len..(i + 1) * len]
    }
}

const NPY_IMAGES: &[&str] = &["images.npy", "x_test.npy", "data.npy"];
const NPY_LABELS: &[&str] = &["labels.npy", "y_test.npy"];

/// Where the CIFAR test data of `input` is, if `input` looks like one of the accepted
/// layouts (module docs): `(kind, file)`, the file being the pickle or the images `.npy`.
pub fn detect(input: &Path) -> Option<(&'static str, PathBuf)> {
    let pickles = [
        ("cifar-10", "cifar-10-batches-py", "test_batch"),
        ("cifar-100", "cifar-100-python", "test"),
    ];
    for (kind, dir, file) in pickles {
        if input.file_name().is_some_and(|n| n == dir) && input.join(file).is_file() {
            return Some((kind, input.join(file)));
        }
        if input.join(dir).join(file).is_file() {
            return Some((kind, input.join(dir).join(file)));
        }
        let parent = input.parent().and_then(Path::file_name);
        if input.is_file() && parent.is_some_and(|p| p == dir) {
            return Some((kind, input.to_path_buf()));
        }
    }
    if input.is_dir() {
        let images = NPY_IMAGES
            .iter()
            .map(|n| input.join(n))
            .find(|p| p.is_file());
        let labels = NPY_LABELS.iter().any(|n| input.join(n).is_file());
        if let (Some(images), true) = (images, labels) {
            return Some(("npy", images));
        }
    }
    None
}

/// Read the test set of `input` (module docs); errors name the file.
pub fn read(input: &Path) -> Result<Source> {
    let (kind, file) = detect(input).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{}: not a CIFAR dataset: expected cifar-10-batches-py/test_batch, cifar-100-python/test, or images.npy + labels.npy",
            input.display()
        ))
    })?;
    if kind == "npy" {
        return read_npy(&file);
    }
    let bytes = std::fs::read(&file).map_err(|source| Error::Io {
        path: file.clone(),
        source,
    })?;
    let v = pickle::parse(&bytes, &file)?;
    let bad = |m: String| Error::Codec {
        path: file.clone(),
        message: m,
    };
    let (shape, data) = match v.get("data") {
        Some(Value::Array { dtype, shape, data }) if dtype == "|u1" => {
            (shape.clone(), data.clone())
        }
        Some(Value::Array { dtype, .. }) => {
            return Err(bad(format!("`data` has dtype {dtype}, uint8 expected")))
        }
        _ => return Err(bad("no `data` array".into())),
    };
    let label_key = if kind == "cifar-10" {
        "labels"
    } else {
        "fine_labels"
    };
    let labels: Vec<i64> = match v.get(label_key) {
        Some(Value::List(l)) => l
            .iter()
            .map(|x| match x {
                Value::Int(i) => Ok(*i),
                _ => Err(bad(format!("`{label_key}` holds a non-integer"))),
            })
            .collect::<Result<_>>()?,
        _ => return Err(bad(format!("no `{label_key}` list"))),
    };
    let [n, 3072] = shape.as_slice() else {
        return Err(bad(format!(
            "`data` has shape {shape:?}, (N, 3072) expected"
        )));
    };
    if labels.len() != *n || data.len() != n * 3072 {
        return Err(bad(format!(
            "{} labels for {n} images ({} data bytes)",
            labels.len(),
            data.len()
        )));
    }
    // Rows are 1024 R, 1024 G, 1024 B values (CHW); the release arrays are HWC.
    let mut pixels = vec![0u8; n * 3072];
    for (src, dst) in data.chunks_exact(3072).zip(pixels.chunks_exact_mut(3072)) {
        for p in 0..1024 {
            for c in 0..3 {
                dst[p * 3 + c] = src[c * 1024 + p];
            }
        }
    }
    Ok(Source {
        kind,
        files: vec![file],
        n: *n,
        height: 32,
        width: 32,
        pixels,
        labels,
    })
}

fn read_npy(images: &Path) -> Result<Source> {
    let dir = images.parent().unwrap_or(Path::new("."));
    let labels_path = NPY_LABELS
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .expect("detect saw a labels file");
    let bytes = std::fs::read(images).map_err(|source| Error::Io {
        path: images.to_path_buf(),
        source,
    })?;
    let h = npy::parse_header(&bytes, images)?;
    let bad = |m: String| Error::Codec {
        path: images.to_path_buf(),
        message: m,
    };
    let [n, height, width, 3] = h.shape.as_slice() else {
        return Err(bad(format!("shape {:?}: (N, H, W, 3) expected", h.shape)));
    };
    if h.descr != "|u1" {
        return Err(bad(format!("dtype {}: uint8 expected", h.descr)));
    }
    let len = n * height * width * 3;
    let pixels = bytes
        .get(h.data_offset..h.data_offset + len)
        .ok_or_else(|| bad(format!("truncated: {len} data bytes expected")))?
        .to_vec();
    let (lshape, labels) = npy::read_ints(&labels_path)?;
    if lshape.as_slice() != [*n] {
        return Err(Error::Codec {
            path: labels_path,
            message: format!("shape {lshape:?}: ({n},) expected (one label per image)"),
        });
    }
    Ok(Source {
        kind: "npy",
        files: vec![images.to_path_buf(), labels_path],
        n: *n,
        height: *height,
        width: *width,
        pixels,
        labels,
    })
}
