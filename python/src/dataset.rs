//! Dataset generation and verification from Python, and the `imgcorrupt` command of the wheel:
//! the library's command line (`imgcorrupt::cli`, feature `cli`) and dataset pipeline, so that
//! `imgcorrupt.generate(...)` and the `imgcorrupt` command behave exactly as the Rust binary.

use std::ffi::OsString;
use std::path::PathBuf;

use imgcorrupt::dataset::verify;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::py_err;

/// A library error maps as everywhere ([`py_err`]); a command-line error whose cause is a file
/// system error (a missing INPUT, say) is an `OSError` with the command line's message;
/// anything else a `ValueError`.
fn cli_err(e: anyhow::Error) -> PyErr {
    match e.downcast::<imgcorrupt::Error>() {
        Ok(lib) => py_err(lib),
        Err(e) if e.root_cause().is::<std::io::Error>() => {
            PyOSError::new_err(imgcorrupt::cli::error_message(&e))
        }
        Err(e) => PyValueError::new_err(imgcorrupt::cli::error_message(&e)),
    }
}

/// Run the `imgcorrupt` command line on `argv` (program name first); returns the exit code.
#[pyfunction]
pub fn run_cli(py: Python<'_>, argv: Vec<OsString>) -> i32 {
    crate::run(py, || imgcorrupt::cli::run(argv))
}

/// `imgcorrupt generate ARGS…`; returns the summary as a dict.
#[pyfunction]
pub fn generate<'py>(py: Python<'py>, args: Vec<OsString>) -> PyResult<Bound<'py, PyDict>> {
    let s = crate::run(py, || imgcorrupt::cli::generate(args)).map_err(cli_err)?;
    let d = PyDict::new(py);
    let dataset = match (s.kind, s.release) {
        _ if s.webdataset_input => "webdataset".to_string(),
        (Some(k), _) => k.to_string(),
        (None, Some(release)) => release.to_string(),
        (None, None) => "unknown".to_string(),
    };
    d.set_item("dataset", dataset)?;
    d.set_item("images", s.images)?;
    d.set_item("written", s.written)?;
    d.set_item("skipped", s.skipped)?;
    d.set_item("carried", s.carried)?;
    d.set_item("failed", s.failed)?;
    d.set_item("seconds", s.elapsed.as_secs_f64())?;
    d.set_item("manifest_records", s.manifest_records)?;
    d.set_item("manifest", s.manifest_path)?;
    Ok(d)
}

/// Re-hash (and with `input`, regenerate `sample` or all) the outputs of a manifest; returns
/// the report as a dict.
#[pyfunction]
#[pyo3(signature = (output, input=None, sample=None, threads=None))]
pub fn verify_dataset<'py>(
    py: Python<'py>,
    output: PathBuf,
    input: Option<PathBuf>,
    sample: Option<usize>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let threads = threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let cifar = imgcorrupt::dataset::cifar::record::is_cifar_output(&output);
    let r = crate::run(py, || {
        if cifar {
            return imgcorrupt::dataset::cifar::record::verify(
                &output,
                input.as_deref(),
                sample,
                threads,
            );
        }
        verify::verify(
            &output,
            input.as_deref(),
            sample,
            threads,
            imgcorrupt::io::DEFAULT_MAX_PIXELS,
        )
    })
    .map_err(py_err)?;
    let d = PyDict::new(py);
    d.set_item("ok", r.ok())?;
    d.set_item("records", r.records)?;
    d.set_item("hashed_ok", r.hashed_ok)?;
    d.set_item("folders", r.folders)?;
    d.set_item("folders_ok", r.folders_ok)?;
    d.set_item("missing", r.missing)?;
    d.set_item("mismatched", r.mismatched)?;
    d.set_item("extra", r.extra)?;
    d.set_item("regenerated", r.regenerated)?;
    d.set_item("regenerated_mismatch", r.regenerated_mismatch)?;
    d.set_item("errors", r.errors)?;
    Ok(d)
}

/// `imgcorrupt score`: the JSON result the command writes (as text, for `json.loads`) and the
/// printed report. Files are read without the GIL.
#[pyfunction]
#[pyo3(signature = (file, dataset=None, flip=false, difficulty=None, flip_baseline=None))]
pub fn score(
    py: Python<'_>,
    file: PathBuf,
    dataset: Option<PathBuf>,
    flip: bool,
    difficulty: Option<u8>,
    flip_baseline: Option<PathBuf>,
) -> PyResult<(String, String)> {
    let (json, report) = crate::run_here(py, || {
        imgcorrupt::dataset::score::score(file, dataset, flip, difficulty, flip_baseline)
    })
    .map_err(py_err)?;
    let text = json.to_string();
    Ok((text, report))
}
