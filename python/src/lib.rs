//! `imgcorrupt._imgcorrupt`: the compiled core of the Python package `imgcorrupt`.
//!
//! A thin layer over the Rust library. The Python modules (`python/imgcorrupt/`) own the
//! user-facing signatures, argument checks and the exception types of the imagecorruptions
//! drop-in; these functions take already-checked arguments, borrow the NumPy input without
//! copying (C-contiguous `uint8`, else a `ValueError`), allocate the one output array, and run
//! the Rust code with the GIL released. One exception: the drop-in's `corrupt` is native
//! (`dropin.rs`), runs its common seeded case itself and hands every other call to the Python
//! checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use imgcorrupt::rng::{MtState, NumpyRng, RngMode, MT_STATE_WORDS};
use imgcorrupt::{
    Corruption, Error, FrostTextures, ImageView, ImageViewMut, PixelLayout, Preset, Settings,
    Stylizer,
};
use numpy::{
    PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn,
    PyReadwriteArrayDyn, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyKeyError, PyOSError, PyValueError};
use pyo3::prelude::*;

mod augment;
mod bench;
mod dataset;
mod dropin;

/// A Rust error as the Python exception a caller expects: unknown names are `KeyError`s (what
/// the reference's dictionary lookup raises; the Python layer re-raises its own subclass),
/// file errors `OSError`s, everything else `ValueError`.
pub(crate) fn py_err(e: Error) -> PyErr {
    match e {
        Error::UnknownCorruption { .. } => PyKeyError::new_err(e.to_string()),
        Error::Io { .. } | Error::Codec { .. } => PyOSError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// The channel layout of an `(H, W)` or `(H, W, C)` array.
fn layout_of(shape: &[usize]) -> PyResult<(usize, usize, PixelLayout)> {
    let layout = |c: usize| match c {
        1 => Ok(PixelLayout::Gray),
        2 => Ok(PixelLayout::GrayAlpha),
        3 => Ok(PixelLayout::Rgb),
        4 => Ok(PixelLayout::Rgba),
        _ => Err(PyValueError::new_err(format!(
            "expected 1, 2, 3 or 4 channels (grey, grey+alpha, RGB, RGBA), got {c}"
        ))),
    };
    match *shape {
        [h, w] => Ok((h, w, PixelLayout::Gray)),
        [h, w, c] => Ok((h, w, layout(c)?)),
        _ => Err(PyValueError::new_err(format!(
            "expected an (H, W) or (H, W, C) image, got {} dimensions {shape:?}",
            shape.len()
        ))),
    }
}

/// The extension's own rayon pool, rebuilt after a `fork`: rayon's global pool would keep the
/// parent's worker threads in its bookkeeping, which do not exist in a forked child (a
/// DataLoader worker started with the `fork` method), and its first parallel call would hang.
/// Every call runs inside [`run`], so the global pool is never started.
static POOL: Mutex<Option<(u32, Arc<rayon::ThreadPool>)>> = Mutex::new(None);

fn pool() -> Option<Arc<rayon::ThreadPool>> {
    let pid = std::process::id();
    let mut guard = POOL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((owner, pool)) = guard.as_ref() {
        if *owner == pid {
            return Some(pool.clone());
        }
    }
    // A pool inherited through fork has no threads here: leak it rather than drop it (its
    // drop would signal threads that were never copied into this process).
    if let Some((_, stale)) = guard.take() {
        std::mem::forget(stale);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("imgcorrupt-{i}"))
        .build()
        .ok()
        .map(Arc::new)?;
    *guard = Some((pid, pool.clone()));
    Some(pool)
}

/// Run `f` without the GIL on the calling thread, for work that starts no parallel jobs (one
/// image of any corruption but `stylize`): no hop to a pool thread, which would cost more than
/// the small corruptions themselves.
pub(crate) fn run_here<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> T {
    py.detach(f)
}

/// Run `f` without the GIL on the extension's pool (on the calling thread alone if no worker
/// thread can be started).
pub(crate) fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> T {
    match pool() {
        Some(pool) => py.detach(|| pool.install(f)),
        None => py.detach(f),
    }
}

fn contiguous(a: Result<&[u8], numpy::AsSliceError>) -> PyResult<&[u8]> {
    a.map_err(|_| PyValueError::new_err("the array must be C-contiguous"))
}

/// Presets and frost textures by name/path, loaded once per process: a training loop calls
/// with the same `preset=`/`frost_dir=` for every image.
static PRESETS: Mutex<Option<HashMap<String, Arc<Preset>>>> = Mutex::new(None);
static FROST: Mutex<Option<HashMap<PathBuf, Arc<FrostTextures>>>> = Mutex::new(None);
static STYLES: Mutex<Option<HashMap<PathBuf, Arc<Stylizer>>>> = Mutex::new(None);
static BANKS: Mutex<Option<HashMap<PathBuf, Arc<imgcorrupt::TileBank>>>> = Mutex::new(None);

fn cached<K: std::hash::Hash + Eq + Clone, V>(
    cache: &Mutex<Option<HashMap<K, Arc<V>>>>,
    key: &K,
    load: impl FnOnce() -> imgcorrupt::Result<V>,
) -> PyResult<Arc<V>> {
    let mut guard = cache.lock().unwrap_or_else(|p| p.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    if let Some(v) = map.get(key) {
        return Ok(v.clone());
    }
    let v = Arc::new(load().map_err(py_err)?);
    map.insert(key.clone(), v.clone());
    Ok(v)
}

/// The call's [`Settings`] from the Python keyword arguments (`styles`: a folder of style
/// images or one image, for `stylize`).
fn settings(
    seed: u64,
    rng: &str,
    preset: Option<&str>,
    frost_dir: Option<PathBuf>,
    styles: Option<PathBuf>,
    tile_bank: Option<PathBuf>,
) -> PyResult<Settings> {
    let mode: RngMode = rng.parse().map_err(PyValueError::new_err)?;
    let mut s = Settings::new(seed).with_rng(mode);
    if let Some(p) = preset {
        s = s.with_preset(cached(&PRESETS, &p.to_string(), || Preset::load(p))?);
    }
    if let Some(dir) = frost_dir {
        s = s.with_frost_textures(cached(&FROST, &dir, || FrostTextures::load(&dir))?);
    }
    if let Some(src) = styles {
        let load = || match src.is_dir() {
            true => Stylizer::from_dir(&src),
            false => Stylizer::from_file(&src),
        };
        s = s.with_stylizer(cached(&STYLES, &src, load)?);
    }
    if let Some(dir) = tile_bank {
        // LAION-C's tile sizes (mosaic 4/6/8/16/28, stickers 16)
        let load = || imgcorrupt::TileBank::load(&dir, &[4, 6, 8, 16, 28]);
        s = s.with_tile_bank(cached(&BANKS, &dir, load)?);
    }
    Ok(s)
}

fn corruption(name: &str) -> PyResult<Corruption> {
    Corruption::from_name(name).map_err(py_err)
}

fn severity(s: i64) -> PyResult<u8> {
    u8::try_from(s)
        .ok()
        .filter(|s| (1..=5).contains(s))
        .ok_or_else(|| py_err(Error::InvalidSeverity(s)))
}

/// A new uninitialised array of `shape`, for an output that the call writes completely.
fn output<'py>(py: Python<'py>, shape: &[usize]) -> Bound<'py, PyArrayDyn<u8>> {
    // SAFETY: every byte is written by corrupt_buffer before Python sees the array; on an
    // error the array is dropped unread.
    unsafe { PyArrayDyn::<u8>::new(py, shape, false) }
}

/// A new array of `shape` filled by `f` without the GIL (the one allocation of a call), on
/// the pool when `parallel`.
fn filled<'py>(
    py: Python<'py>,
    shape: &[usize],
    parallel: bool,
    f: impl FnOnce(&mut [u8]) -> imgcorrupt::Result<()> + Send,
) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
    let out = output(py, shape);
    {
        let mut rw = out.readwrite();
        let dst = rw.as_slice_mut().expect("a new array is contiguous");
        match parallel {
            true => run(py, || f(dst)),
            false => run_here(py, || f(dst)),
        }
        .map_err(py_err)?;
    }
    Ok(out)
}

/// The checked arguments of one corruption call.
struct Call {
    height: usize,
    width: usize,
    layout: PixelLayout,
    corruption: Corruption,
    severity: u8,
    settings: Settings,
}

impl Call {
    /// `image_shape` is `(H, W)` or `(H, W, C)` of one image.
    fn new(
        image_shape: &[usize],
        name: &str,
        severity_: i64,
        settings: PyResult<Settings>,
    ) -> PyResult<Call> {
        let (height, width, layout) = layout_of(image_shape)?;
        Ok(Call {
            height,
            width,
            layout,
            corruption: corruption(name)?,
            severity: severity(severity_)?,
            settings: settings?,
        })
    }

    /// Whether the call may start parallel jobs (stylize's engine does).
    fn parallel(&self) -> bool {
        self.corruption == Corruption::Stylize
    }

    fn view<'a>(&self, pixels: &'a [u8]) -> ImageView<'a> {
        ImageView::new(pixels, self.width, self.height, self.layout)
    }
}

/// The catalogue in order: `(name, subset, family)` for the 19 corruptions and the shift
/// operators (`stylize`).
#[pyfunction]
fn catalogue() -> Vec<(&'static str, &'static str, &'static str)> {
    Corruption::every()
        .map(|c| (c.name(), c.subset().name(), c.family().name()))
        .collect()
}

/// Issue 16: the names a selection word of the CLI's `-c` picks (`c-bar`, `cifar-c-bar`, a
/// family, a subset or names), in catalogue order.
#[pyfunction]
fn select(spec: &str) -> PyResult<Vec<&'static str>> {
    imgcorrupt::catalogue::select(spec)
        .map(|v| v.into_iter().map(|c| c.name()).collect())
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A severity as Python passes it: an `int` is a level 1..5 (the integer path, its own
/// error), a `float` a continuous severity in [0, 5] (issue 16, `corrupt_buffer_at`).
#[derive(FromPyObject, Clone, Copy)]
enum Level {
    Integer(i64),
    Continuous(f64),
}

/// Corrupt one `(H, W)` / `(H, W, C)` uint8 image with an explicit seed; returns a new array of
/// the same shape. An `int` severity is a level 1..5; a `float` is a continuous severity in
/// [0, 5] (`imgcorrupt::corrupt_buffer_at`: each table key interpolated linearly, 0 the clean
/// image, an integral value the integer path), which is how the Python `corrupt_at` calls it.
#[pyfunction]
#[pyo3(signature = (image, name, severity_, seed, rng, preset=None, frost_dir=None, styles=None, tile_bank=None))]
#[allow(clippy::too_many_arguments)]
fn corrupt_named<'py>(
    py: Python<'py>,
    image: PyReadonlyArrayDyn<'py, u8>,
    name: &str,
    severity_: Level,
    seed: u64,
    rng: &str,
    preset: Option<&str>,
    frost_dir: Option<PathBuf>,
    styles: Option<PathBuf>,
    tile_bank: Option<PathBuf>,
) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
    // a continuous call checks its severity in `corrupt_buffer_at`; `Call` holds level 1 then
    let level = match severity_ {
        Level::Integer(s) => s,
        Level::Continuous(_) => 1,
    };
    let call = Call::new(
        image.shape(),
        name,
        level,
        settings(seed, rng, preset, frost_dir, styles, tile_bank),
    )?;
    let src = contiguous(image.as_slice())?;
    filled(py, image.shape(), call.parallel(), |dst| {
        let (view, c) = (call.view(src), call.corruption);
        match severity_ {
            Level::Integer(_) => {
                imgcorrupt::corrupt_buffer(view, dst, c, call.severity, &call.settings)
            }
            Level::Continuous(s) => imgcorrupt::corrupt_buffer_at(view, dst, c, s, &call.settings),
        }
    })
}

/// The common seeded call of `imgcorrupt.corrupt(x, s, name, seed=k)` and
/// `corrupt_image(x, name, s, seed=k)` (fast mode, built-in preset, no styles or tile bank) in
/// one step: the Python wrappers' checks, argument conversion and output allocation cost
/// several microseconds per call, as much as a 32x32 corruption, and that showed as 4-6 % on
/// the cheapest 224x224 ones (issue 14's 5 % bar).
///
/// `index` is the corruption's position in [`catalogue`]. `dropin` asks for the drop-in's
/// input rules (a 3-channel image of at least 32x32), else the native API's (`(H, W)` or
/// `(H, W, C)` with 1..4 channels, not empty). Returns `None`, having done nothing, whenever
/// the call is not exactly that common case (another dtype or layout, a non-C-contiguous
/// array, a severity outside 1..5, a seed outside 64 bits): the wrapper then takes
/// its full checks, which raise the drop-in's exact exceptions.
#[pyfunction]
#[pyo3(signature = (image, index, severity_, seed, dropin, frost_dir=None))]
fn corrupt_seeded<'py>(
    py: Python<'py>,
    image: &Bound<'py, PyAny>,
    index: usize,
    severity_: &Bound<'py, PyAny>,
    seed: &Bound<'py, PyAny>,
    dropin: bool,
    frost_dir: Option<PathBuf>,
) -> PyResult<Option<Bound<'py, PyArrayDyn<u8>>>> {
    let (Ok(level), Ok(seed), Some(corruption)) = (
        severity_.extract::<i64>(),
        seed.extract::<u64>(),
        Corruption::every().nth(index),
    ) else {
        return Ok(None);
    };
    seeded_call(py, image, corruption, level, seed, dropin, frost_dir)
}

/// [`corrupt_seeded`] once its arguments are Rust values (also the drop-in's own `corrupt`,
/// `dropin.rs`): `Ok(None)`, having done nothing, when the call is not the common case.
pub(crate) fn seeded_call<'py>(
    py: Python<'py>,
    image: &Bound<'py, PyAny>,
    corruption: Corruption,
    level: i64,
    seed: u64,
    dropin: bool,
    frost_dir: Option<PathBuf>,
) -> PyResult<Option<Bound<'py, PyArrayDyn<u8>>>> {
    let Ok(array) = image.cast::<PyArrayDyn<u8>>() else {
        return Ok(None);
    };
    let shape = array.shape();
    let fits = match *shape {
        [h, w, 3] if dropin => h >= 32 && w >= 32,
        [h, w] | [h, w, 1..=4] if !dropin => h > 0 && w > 0,
        _ => false,
    };
    // (as_slice also takes Fortran order, which the full path copies to C order)
    if !fits
        || !(1..=5).contains(&level)
        || corruption == Corruption::Stylize
        || !array.is_c_contiguous()
    {
        return Ok(None);
    }
    // A shared borrow through rust-numpy's bookkeeping (~1 k instructions): with it,
    // `corrupt_inplace` on the same array in another thread is refused with a borrow error
    // instead of racing this read (a data race is undefined behaviour in Rust, not just mixed
    // bytes). If the array is already borrowed, the full path reports it.
    let Ok(readonly) = array.try_readonly() else {
        return Ok(None);
    };
    let Ok(src) = readonly.as_slice() else {
        return Ok(None);
    };
    let (height, width, layout) = layout_of(shape)?;
    let mut settings = Settings::new(seed);
    if let Some(dir) = frost_dir {
        settings =
            settings.with_frost_textures(cached(&FROST, &dir, || FrostTextures::load(&dir))?);
    }
    let out = output(py, shape);
    // SAFETY: `out` was created just above and no other reference to it exists yet, so the
    // slice is not aliased (this skips rust-numpy's borrow bookkeeping, ~1 k instructions).
    let dst = unsafe { out.as_slice_mut() }.expect("a new array is contiguous");
    let view = ImageView::new(src, width, height, layout);
    run_here(py, || {
        imgcorrupt::corrupt_buffer(view, dst, corruption, level as u8, &settings)
    })
    .map_err(py_err)?;
    Ok(Some(out))
}

/// The numpy-mode generator state `(key, pos, gauss)` as Python passes it around
/// (`np.random.get_state()` fields; `gauss` is `None` when `has_gauss` is 0).
type PyState<'py> = (Bound<'py, PyArray1<u32>>, usize, Option<f64>);

/// Corrupt one image drawing from the NumPy legacy state `(key, pos, gauss)`; returns the
/// output and the advanced state (what `imgcorrupt.corrupt` writes back with
/// `np.random.set_state`).
#[pyfunction]
#[pyo3(signature = (image, name, severity_, key, pos, gauss, preset=None, frost_dir=None))]
#[allow(clippy::too_many_arguments)]
fn corrupt_continuing<'py>(
    py: Python<'py>,
    image: PyReadonlyArrayDyn<'py, u8>,
    name: &str,
    severity_: i64,
    key: PyReadonlyArray1<'py, u32>,
    pos: usize,
    gauss: Option<f64>,
    preset: Option<&str>,
    frost_dir: Option<PathBuf>,
) -> PyResult<(Bound<'py, PyArrayDyn<u8>>, PyState<'py>)> {
    let call = Call::new(
        image.shape(),
        name,
        severity_,
        settings(0, "numpy", preset, frost_dir, None, None),
    )?;
    let words: [u32; MT_STATE_WORDS] = key
        .as_slice()
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "the MT19937 key must be {MT_STATE_WORDS} contiguous uint32 words"
            ))
        })?;
    let state = MtState {
        key: words,
        pos,
        gauss,
    };
    let mut generator = NumpyRng::from_state(&state).map_err(PyValueError::new_err)?;
    let src = contiguous(image.as_slice())?;
    let out = filled(py, image.shape(), call.parallel(), |dst| {
        let (c, s) = (call.corruption, call.severity);
        imgcorrupt::corrupt_buffer_continuing(
            call.view(src),
            dst,
            c,
            s,
            &call.settings,
            &mut generator,
        )
    })?;
    let after = generator.state();
    let key = PyArray1::from_slice(py, &after.key);
    Ok((out, (key, after.pos, after.gauss)))
}

/// Corrupt a writable C-contiguous image in place. Nothing is written on an error (the
/// corruption runs into a staging buffer that is copied at the end).
#[pyfunction]
#[pyo3(signature = (image, name, severity_, seed, rng, preset=None, frost_dir=None, styles=None, tile_bank=None))]
#[allow(clippy::too_many_arguments)]
fn corrupt_inplace(
    py: Python<'_>,
    mut image: PyReadwriteArrayDyn<'_, u8>,
    name: &str,
    severity_: i64,
    seed: u64,
    rng: &str,
    preset: Option<&str>,
    frost_dir: Option<PathBuf>,
    styles: Option<PathBuf>,
    tile_bank: Option<PathBuf>,
) -> PyResult<()> {
    let call = Call::new(
        image.shape(),
        name,
        severity_,
        settings(seed, rng, preset, frost_dir, styles, tile_bank),
    )?;
    let (w, h, layout) = (call.width, call.height, call.layout);
    let buf = image
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err("in-place needs a C-contiguous array"))?;
    let parallel = call.parallel();
    let work = || {
        let view = ImageViewMut::new(buf, w, h, layout);
        imgcorrupt::corrupt_in_place(view, call.corruption, call.severity, &call.settings)
    };
    match parallel {
        true => run(py, work),
        false => run_here(py, work),
    }
    .map_err(py_err)
}

/// Corrupt a batch `(N, H, W)` / `(N, H, W, C)`; image `i` uses seed `seed + i`. The images
/// run in parallel (rayon); the result does not depend on the number of threads.
#[pyfunction]
#[pyo3(signature = (images, name, severity_, seed, rng, preset=None, frost_dir=None, styles=None, tile_bank=None))]
#[allow(clippy::too_many_arguments)]
fn corrupt_batch<'py>(
    py: Python<'py>,
    images: PyReadonlyArrayDyn<'py, u8>,
    name: &str,
    severity_: i64,
    seed: u64,
    rng: &str,
    preset: Option<&str>,
    frost_dir: Option<PathBuf>,
    styles: Option<PathBuf>,
    tile_bank: Option<PathBuf>,
) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
    use rayon::prelude::*;
    let shape = images.shape();
    let Some((&n, one)) = shape.split_first() else {
        return Err(PyValueError::new_err("expected an (N, H, W[, C]) batch"));
    };
    let call = Call::new(
        one,
        name,
        severity_,
        settings(seed, rng, preset, frost_dir, styles, tile_bank),
    )?;
    seed.checked_add(n as u64)
        .ok_or_else(|| PyValueError::new_err("seed + batch size overflows 64 bits"))?;
    let src = contiguous(images.as_slice())?;
    let per = call.height * call.width * call.layout.channels();
    let (c, s) = (call.corruption, call.severity);
    filled(py, shape, true, |dst| {
        if per == 0 || n == 0 {
            // Zero-sized: the library's error names the geometry.
            return imgcorrupt::corrupt_buffer(call.view(&[]), &mut [], c, s, &call.settings);
        }
        src.par_chunks(per)
            .zip(dst.par_chunks_mut(per))
            .enumerate()
            .try_for_each(|(i, (a, b))| {
                let mut st = call.settings.clone();
                st.seed = seed + i as u64;
                imgcorrupt::corrupt_buffer(call.view(a), b, c, s, &st)
            })
    })
}

/// Decode an image file to an `(H, W)` / `(H, W, C)` uint8 array (JPEGs to Pillow's pixels,
/// 16-bit and float images reduced to 8 bits).
#[pyfunction]
fn read_image<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
    let img = run_here(py, || {
        imgcorrupt::io::read_image(Path::new(&path), imgcorrupt::io::DEFAULT_MAX_PIXELS)
    })
    .map_err(py_err)?;
    let img = imgcorrupt::io::to_8bit(img);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (shape, bytes): (Vec<usize>, Vec<u8>) = match img {
        image::DynamicImage::ImageLuma8(i) => (vec![h, w], i.into_raw()),
        image::DynamicImage::ImageLumaA8(i) => (vec![h, w, 2], i.into_raw()),
        image::DynamicImage::ImageRgba8(i) => (vec![h, w, 4], i.into_raw()),
        other => (vec![h, w, 3], other.to_rgb8().into_raw()),
    };
    PyArray1::from_vec(py, bytes).reshape(shape)
}

/// The compiled core of `imgcorrupt` (use the `imgcorrupt` package, not this module).
#[pymodule]
fn _imgcorrupt(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(catalogue, m)?)?;
    m.add_function(wrap_pyfunction!(select, m)?)?;
    m.add_function(wrap_pyfunction!(corrupt_named, m)?)?;
    m.add_function(wrap_pyfunction!(dropin::corrupt, m)?)?;
    m.add_function(wrap_pyfunction!(corrupt_seeded, m)?)?;
    m.add_function(wrap_pyfunction!(dropin::set_default_frost_dir, m)?)?;
    m.add_function(wrap_pyfunction!(dropin::default_frost_dir, m)?)?;
    m.add_function(wrap_pyfunction!(corrupt_continuing, m)?)?;
    m.add_function(wrap_pyfunction!(corrupt_inplace, m)?)?;
    m.add_function(wrap_pyfunction!(corrupt_batch, m)?)?;
    m.add_function(wrap_pyfunction!(read_image, m)?)?;
    m.add_class::<augment::Policy>()?;
    m.add_function(wrap_pyfunction!(bench::time_library_call, m)?)?;
    m.add_function(wrap_pyfunction!(dataset::run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(dataset::generate, m)?)?;
    m.add_function(wrap_pyfunction!(dataset::verify_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(dataset::score, m)?)?;
    m.add_function(wrap_pyfunction!(augment::replay_u8, m)?)?;
    m.add_function(wrap_pyfunction!(augment::replay_f32, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
