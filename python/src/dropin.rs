//! The drop-in's `imgcorrupt.corrupt` as one native function, and frost's default texture
//! folder (which that function reads on every frost call).
//!
//! Why native: issue 14 asks for the seeded call `corrupt(x, s, name, seed=k)` within 5 % of
//! the Rust library call on 224x224 images. A Python `def corrupt` costs an interpreter frame,
//! its checks and a second call into the extension; measured after a corruption has filled
//! the caches, that was 0.6 us (contrast) to 4 us (elastic_transform) per call, a third to a
//! half of the whole gap (BENCHMARKS.md, stop 34). Here the common case (an exact `int` seed
//! and severity, a drop-in name, `rng` None or `'fast'`, no preset or frost folder given, a
//! C-contiguous (H, W, 3) uint8 image of at least 32x32) runs without a Python frame. Every
//! other call goes to `imgcorrupt._dropin._corrupt_full` with the arguments exactly as given,
//! so the checks, conversions, numpy-mode paths and exceptions stay that function's.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Mutex;

use imgcorrupt::{Corruption, Subset};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyInt, PyString};

use crate::seeded_call;

/// An argument whose Python default is not `None`: `Missing` when the caller left it out, so
/// that an explicit `None` still reaches the full path (and its error) as `None`.
pub(crate) enum Arg<'py> {
    Missing,
    Given(Bound<'py, PyAny>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for Arg<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Arg::Given(obj.to_owned()))
    }
}

impl<'py> Arg<'py> {
    /// The value the Python signature gives a missing argument.
    fn or_int(self, py: Python<'py>, default: i64) -> Bound<'py, PyAny> {
        match self {
            Arg::Given(v) => v,
            Arg::Missing => PyInt::new(py, default).into_any(),
        }
    }
}

/// Corrupt an image, exactly as ``imagecorruptions.corrupt`` (1.1.2) does.
///
/// ``image``: uint8 array, (H, W), (H, W, 1) or (H, W, 3), H and W >= 32; greyscale comes
/// back as (H, W, 3), like the reference. ``severity``: 1..5. Name the corruption with
/// ``corruption_name`` (see ``get_corruption_names``) or ``corruption_number`` (its index in
/// ``corruption_tuple``). Returns a new (H, W, 3) uint8 array.
///
/// Randomness (keyword-only extensions):
///
/// * default (no ``seed``): NumPy's global legacy generator, draw for draw as the reference
///   (numpy mode); the global state advances exactly as after the reference's call.
/// * ``seed=s``: fast mode (imgcorrupt's counter-based generator, the reference's
///   distributions, not its numbers); ``seed=s, rng='numpy'``: numpy mode seeded like
///   ``np.random.seed(s)`` without touching the global generator.
/// * ``rng='fast'`` without a seed draws the seed from the global generator (one
///   ``randint``), so ``np.random.seed`` still makes the call reproducible.
///
/// ``preset``: a built-in preset name or a TOML file. ``frost_dir``: the reference's frost
/// photographs (default: ``set_frost_dir`` / ``$IMGCORRUPT_FROST_DIR``, else procedural
/// textures, which match the reference's statistics but not its pixels).
///
/// Errors: ``InvalidInputError`` (an ``AttributeError`` like the reference's, and a
/// ``ValueError``) for bad images and severities; ``CorruptionNameError`` (a ``KeyError``
/// and ``ValueError``) for unknown names, with the closest name suggested; ``ValueError``
/// when neither a name nor a number is given.
#[pyfunction]
#[pyo3(
    name = "corrupt",
    signature = (image, severity=Arg::Missing, corruption_name=None, corruption_number=Arg::Missing, *, seed=None, rng=None, preset=None, frost_dir=None),
    text_signature = "(image, severity=1, corruption_name=None, corruption_number=-1, *, seed=None, rng=None, preset=None, frost_dir=None)"
)]
#[allow(clippy::too_many_arguments)]
pub fn corrupt<'py>(
    py: Python<'py>,
    image: &Bound<'py, PyAny>,
    severity: Arg<'py>,
    corruption_name: Option<&Bound<'py, PyAny>>,
    corruption_number: Arg<'py>,
    seed: Option<&Bound<'py, PyAny>>,
    rng: Option<&Bound<'py, PyAny>>,
    preset: Option<&Bound<'py, PyAny>>,
    frost_dir: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    if let (Some(level), Some(seed), Some(corruption), true, true) = (
        exact_int(&severity),
        seed.filter(|s| s.is_exact_instance_of::<PyInt>())
            .and_then(|s| s.extract::<u64>().ok()),
        corruption_name.map(dropin_name).transpose()?.flatten(),
        rng.is_none_or(|r| r.is_exact_instance_of::<PyString>() && r.eq("fast").unwrap_or(false)),
        preset.is_none() && frost_dir.is_none(),
    ) {
        // only frost reads textures: the others skip the default's look-up
        let frost = match corruption {
            Corruption::Frost => default_frost_dir().map(PathBuf::from),
            _ => None,
        };
        if let Some(out) = seeded_call(py, image, corruption, level, seed, true, frost)? {
            return Ok(out.into_any());
        }
    }
    static FULL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let full = FULL.import(py, "imgcorrupt._dropin", "_corrupt_full")?;
    let severity = severity.or_int(py, 1);
    let corruption_number = corruption_number.or_int(py, -1);
    full.call1((
        image,
        severity,
        corruption_name,
        corruption_number,
        seed,
        rng,
        preset,
        frost_dir,
    ))
}

/// The severity as a level when it is exactly an `int` (the default 1 when missing); `bool`,
/// `float` and `int` subclasses take the full path, which checks and converts them.
fn exact_int(severity: &Arg<'_>) -> Option<i64> {
    match severity {
        Arg::Missing => Some(1),
        Arg::Given(v) if v.is_exact_instance_of::<PyInt>() => v.extract().ok(),
        Arg::Given(_) => None,
    }
}

/// The drop-in corruption `name` names (one of the reference's 19), `None` for anything else
/// (another type, an unknown name, an operator outside the drop-in), which the full path
/// reports. A dictionary of interned names: the look-up uses the string's cached hash instead
/// of converting it (the limited API has no borrowed UTF-8 view before Python 3.10).
fn dropin_name(name: &Bound<'_, PyAny>) -> PyResult<Option<Corruption>> {
    static TABLE: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
    let py = name.py();
    if !name.is_exact_instance_of::<PyString>() {
        return Ok(None);
    }
    let table = TABLE.get_or_try_init(py, || -> PyResult<Py<PyDict>> {
        let table = PyDict::new(py);
        for (i, c) in Corruption::every().enumerate() {
            if matches!(c.subset(), Subset::Common | Subset::Validation) {
                table.set_item(PyString::intern(py, c.name()), i)?;
            }
        }
        Ok(table.unbind())
    })?;
    Ok(match table.bind(py).get_item(name)? {
        Some(i) => Corruption::every().nth(i.extract::<usize>()?),
        None => None,
    })
}

/// The folder `set_frost_dir` chose (`None`: none, which falls back to the environment).
static FROST_DIR: Mutex<Option<OsString>> = Mutex::new(None);

/// Set (a path) or clear (`None`) the frost folder of later calls that give none; what
/// `imgcorrupt.set_frost_dir` calls. Kept here rather than in Python so that the native
/// `corrupt` reads it without the interpreter.
#[pyfunction]
pub fn set_default_frost_dir(path: Option<OsString>) {
    *FROST_DIR.lock().unwrap_or_else(|p| p.into_inner()) = path;
}

/// Frost's default texture folder: the one `set_frost_dir` chose, else
/// `$IMGCORRUPT_FROST_DIR` (unset or empty: `None`, procedural textures). The variable is read
/// on every call, with the C library's `getenv` (which `os.environ[...] = ...` updates through
/// `putenv`), so a change between calls takes effect as Python code expects.
#[pyfunction]
pub fn default_frost_dir() -> Option<OsString> {
    let chosen = FROST_DIR.lock().unwrap_or_else(|p| p.into_inner()).clone();
    chosen.or_else(|| std::env::var_os("IMGCORRUPT_FROST_DIR").filter(|d| !d.is_empty()))
}
