//! The Rust side of the Python package's speed comparison (`scripts/bench_side_by_side.py`,
//! issue 14's "Python call within 5 % of the Rust library call").
//!
//! Why in the extension: comparing the Python call with the `imgcorrupt bench` command puts the
//! two sides in different processes and different builds. The library is compiled once for the
//! binary and once for the extension (cargo unifies other dependency features for each, so
//! the crate gets another hash and other codegen-unit boundaries), and each process gets its
//! own placement of code and data; on this project's benchmark machine either effect alone
//! moved snow by 4-8 %, in either direction, with no change to the call (BENCHMARKS.md, stop
//! 33). [`time_library_call`] times the library call of `imgcorrupt bench` inside the
//! extension, on the caller's array, so that the script can alternate it call by call with
//! the Python call: same thread, same machine code, same input memory. What remains between
//! the two is the cost of the Python call.

use std::time::Instant;

use imgcorrupt::{Corruption, ImageView, PixelLayout, Settings};
use numpy::{PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::py_err;

/// Seconds taken by one library call on `image` (a C-contiguous (H, W, 3) uint8 array):
/// corruption number `index` (position in `catalogue()`) at `severity`, fast mode with seed
/// `seed`, as `imgcorrupt bench` calls it (`imgcorrupt::corrupt_with`: a new output vector,
/// zero-filled, then the corruption; dropped inside the timed span, as there). The input is
/// read in place rather than copied into an `RgbImage`, so that both sides of the comparison
/// read the same memory.
#[pyfunction]
pub fn time_library_call(
    py: Python<'_>,
    image: PyReadonlyArrayDyn<'_, u8>,
    index: usize,
    severity: u8,
    seed: u64,
) -> PyResult<f64> {
    let c = Corruption::every()
        .nth(index)
        .ok_or_else(|| PyValueError::new_err(format!("no corruption number {index}")))?;
    let (&[h, w, 3], Ok(src)) = (image.shape(), image.as_slice()) else {
        return Err(PyValueError::new_err(
            "expected a C-contiguous (H, W, 3) uint8 image",
        ));
    };
    let settings = Settings::new(seed);
    crate::run_here(py, || {
        let t = Instant::now();
        // corrupt_with's output handling (api::image_impl and vec_impl: a reserved vector,
        // then resized with zeros; `vec![0; n]` would be calloc, which can skip the fill)
        #[allow(clippy::slow_vector_initialization)]
        let mut out = Vec::with_capacity(src.len());
        out.resize(src.len(), 0u8);
        let view = ImageView::new(src, w, h, PixelLayout::Rgb);
        let r = imgcorrupt::corrupt_buffer(view, &mut out, c, severity, &settings);
        drop(std::hint::black_box(out));
        r.map(|()| t.elapsed().as_secs_f64())
    })
    .map_err(py_err)
}
