//! Training augmentations: [`Policy`] wraps any `imgcorrupt::augment` policy for the Python
//! classes of `imgcorrupt.augment`, which decide the buffer type (u8 HWC, f32 CHW, batches)
//! and pass the sample keys.

use std::sync::Arc;

use imgcorrupt::augment::{
    self, Applied, Augment, BatchKeys, BatchPosition, CleanSplit, GaussianNoiseTraining, OneOf, Op,
    RandomCorruption, Record, SampleKey, Sequence, Shape, SpeckleNoiseTraining,
};
use imgcorrupt::Corruption;
use numpy::{PyReadwriteArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::py_err;

/// A policy shared by several parents (the Python objects can be reused in compositions).
struct Shared(Arc<dyn Augment>);

impl Augment for Shared {
    fn plan(&self, seed: u64, position: Option<BatchPosition>, out: &mut Vec<Applied>) {
        self.0.plan(seed, position, out)
    }
    fn warnings(&self) -> Vec<String> {
        self.0.warnings()
    }
    fn warns(&self) -> bool {
        self.0.warns()
    }
    fn check_shape(&self, shape: Shape) -> imgcorrupt::Result<()> {
        self.0.check_shape(shape)
    }
}

/// One applied step as Python sees it: `(op, sigma, corruption, severity, seed)`.
pub type Step = (String, Option<f64>, Option<String>, Option<u8>, u64);

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Clean => "clean",
        Op::GaussianNoise => "gaussian_noise",
        Op::SpeckleNoise => "speckle_noise",
        Op::Corruption => "corruption",
    }
}

fn to_steps(record: &Record) -> Vec<Step> {
    record
        .steps
        .iter()
        .map(|a| {
            (
                op_name(a.op).to_string(),
                a.sigma,
                a.corruption.map(|c| c.name().to_string()),
                a.severity,
                a.seed,
            )
        })
        .collect()
}

fn from_steps(steps: Vec<Step>) -> PyResult<Vec<Applied>> {
    steps
        .into_iter()
        .map(|(op, sigma, corruption, severity, seed)| {
            let op = match op.as_str() {
                "clean" => Op::Clean,
                "gaussian_noise" => Op::GaussianNoise,
                "speckle_noise" => Op::SpeckleNoise,
                "corruption" => Op::Corruption,
                other => return Err(PyValueError::new_err(format!("unknown step op {other:?}"))),
            };
            let corruption = corruption
                .map(|n| Corruption::from_name(&n))
                .transpose()
                .map_err(py_err)?;
            let mut a = Applied::clean(seed);
            a.op = op;
            a.sigma = sigma;
            a.corruption = corruption;
            a.severity = severity;
            Ok(a)
        })
        .collect()
}

fn check_p(what: &str, p: f64) -> PyResult<f64> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(PyValueError::new_err(format!(
            "{what} must be in [0, 1], got {p}"
        )))
    }
}

fn split(name: &str) -> PyResult<CleanSplit> {
    match name {
        "per_sample" => Ok(CleanSplit::PerSample),
        "first_round" => Ok(CleanSplit::FirstRound),
        "last_noised" => Ok(CleanSplit::LastNoised),
        _ => Err(PyValueError::new_err(format!(
            "split must be 'per_sample', 'first_round' or 'last_noised', got {name:?}"
        ))),
    }
}

/// `(H, W, C)` of a u8 HWC image / `(C, H, W)` of an f32 CHW image, as an augment [`Shape`];
/// `batch` says whether a leading N is expected.
fn shape_of(dims: &[usize], chw: bool, batch: bool) -> PyResult<Shape> {
    let dims = if batch {
        dims.get(1..).unwrap_or(&[])
    } else {
        dims
    };
    match (dims, chw) {
        (&[c, h, w], true) | (&[h, w, c], false) => Ok(Shape::new(h, w, c)),
        (&[h, w], false) => Ok(Shape::new(h, w, 1)),
        _ => Err(PyValueError::new_err(format!(
            "unexpected array shape {dims:?} for {}",
            if chw { "(C, H, W) f32" } else { "(H, W, C) u8" }
        ))),
    }
}

fn writable<'a, T: numpy::Element>(a: &'a mut PyReadwriteArrayDyn<'_, T>) -> PyResult<&'a mut [T]> {
    a.as_slice_mut()
        .map_err(|_| PyValueError::new_err("the array must be C-contiguous"))
}

/// A training augmentation policy (see `imgcorrupt.augment`).
#[pyclass(frozen, module = "imgcorrupt._imgcorrupt")]
pub struct Policy {
    inner: Arc<dyn Augment>,
}

impl Policy {
    fn new(a: impl Augment + 'static) -> Policy {
        Policy { inner: Arc::new(a) }
    }
}

#[pymethods]
impl Policy {
    /// Gaussian noise training: one σ (split 'first_round') or several (split 'last_noised').
    #[staticmethod]
    #[pyo3(signature = (sigmas, p_clean, split_, allow_benchmark))]
    fn gaussian(
        sigmas: Vec<f64>,
        p_clean: f64,
        split_: Option<&str>,
        allow_benchmark: bool,
    ) -> PyResult<Policy> {
        let default = if sigmas.len() == 1 {
            "first_round"
        } else {
            "last_noised"
        };
        let mut g = GaussianNoiseTraining::with_sigmas(&sigmas, split(split_.unwrap_or(default))?)
            .map_err(py_err)?
            .with_p_clean(check_p("p_clean", p_clean)?);
        if allow_benchmark {
            g = g.allow_benchmark_corruptions();
        }
        Ok(Policy::new(g))
    }

    /// Speckle noise training (σ from the speckle_noise severities by default).
    #[staticmethod]
    #[pyo3(signature = (sigmas, p_clean, split_))]
    fn speckle(sigmas: Vec<f64>, p_clean: f64, split_: Option<&str>) -> PyResult<Policy> {
        let s = SpeckleNoiseTraining::with_sigmas(&sigmas, split(split_.unwrap_or("last_noised"))?)
            .map_err(py_err)?
            .with_p_clean(check_p("p_clean", p_clean)?);
        Ok(Policy::new(s))
    }

    /// One corruption of `selection` (names, subsets, families) at a random severity, with
    /// probability `p`.
    #[staticmethod]
    #[pyo3(signature = (selection, severities, p, allow_benchmark))]
    fn random_corruption(
        selection: &str,
        severities: Vec<u8>,
        p: f64,
        allow_benchmark: bool,
    ) -> PyResult<Policy> {
        let mut r = RandomCorruption::from_selection(selection)
            .and_then(|r| r.with_severities(&severities))
            .map_err(py_err)?
            .with_probability(check_p("p", p)?);
        if allow_benchmark {
            r = r.allow_benchmark_corruptions();
        }
        Ok(Policy::new(r))
    }

    /// All children in order.
    #[staticmethod]
    fn sequence(children: Vec<PyRef<'_, Policy>>) -> Policy {
        let seq = children
            .iter()
            .fold(Sequence::new(), |s, c| s.then(Shared(c.inner.clone())));
        Policy::new(seq)
    }

    /// One child per sample, uniformly or by `weights`.
    #[staticmethod]
    #[pyo3(signature = (children, weights=None))]
    fn one_of(children: Vec<PyRef<'_, Policy>>, weights: Option<Vec<f64>>) -> PyResult<Policy> {
        if children.is_empty() {
            return Err(PyValueError::new_err("OneOf needs at least one policy"));
        }
        let mut o = children
            .iter()
            .fold(OneOf::new(), |o, c| o.or(Shared(c.inner.clone())));
        if let Some(w) = weights {
            o = o.with_weights(&w).map_err(py_err)?;
        }
        Ok(Policy::new(o))
    }

    /// The held-out warnings of this policy (empty when it trains on no benchmark corruption
    /// or when they were allowed).
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings()
    }

    /// Apply to one u8 HWC image (or HW grey) in place; returns the record.
    fn apply_u8(
        &self,
        py: Python<'_>,
        image: PyReadwriteArrayDyn<'_, u8>,
        seed: u64,
        epoch: u64,
        index: u64,
    ) -> PyResult<Vec<Step>> {
        let key = SampleKey::new(seed, epoch, index);
        self.one(py, image, false, key, |a, b, s, k| a.apply_u8(b, s, k))
    }

    /// Apply to one f32 CHW image in [0, 1] in place; returns the record.
    fn apply_f32(
        &self,
        py: Python<'_>,
        image: PyReadwriteArrayDyn<'_, f32>,
        seed: u64,
        epoch: u64,
        index: u64,
    ) -> PyResult<Vec<Step>> {
        let key = SampleKey::new(seed, epoch, index);
        self.one(py, image, true, key, |a, b, s, k| a.apply_f32(b, s, k))
    }

    /// Apply to a u8 NHWC batch in place (in parallel); sample `i` has index `indices[i]`.
    fn apply_batch_u8(
        &self,
        py: Python<'_>,
        batch: PyReadwriteArrayDyn<'_, u8>,
        seed: u64,
        epoch: u64,
        indices: Vec<u64>,
    ) -> PyResult<Vec<Vec<Step>>> {
        let keys = BatchKeys::list(seed, epoch, &indices);
        self.batch(py, batch, false, keys, |a, b, s, k, r| {
            a.apply_batch_u8(b, s, k, r)
        })
    }

    /// Apply to an f32 NCHW batch in place (in parallel); sample `i` has index `indices[i]`.
    fn apply_batch_f32(
        &self,
        py: Python<'_>,
        batch: PyReadwriteArrayDyn<'_, f32>,
        seed: u64,
        epoch: u64,
        indices: Vec<u64>,
    ) -> PyResult<Vec<Vec<Step>>> {
        let keys = BatchKeys::list(seed, epoch, &indices);
        self.batch(py, batch, true, keys, |a, b, s, k, r| {
            a.apply_batch_f32(b, s, k, r)
        })
    }
}

/// How a policy runs on one image / a batch of element type `T`.
type OneFn<T> = fn(&dyn Augment, &mut [T], Shape, SampleKey) -> imgcorrupt::Result<Record>;
type BatchFn<T> =
    fn(&dyn Augment, &mut [T], Shape, BatchKeys<'_>, &mut Vec<Record>) -> imgcorrupt::Result<()>;

impl Policy {
    fn one<T: numpy::Element + Send>(
        &self,
        py: Python<'_>,
        mut image: PyReadwriteArrayDyn<'_, T>,
        chw: bool,
        key: SampleKey,
        f: OneFn<T>,
    ) -> PyResult<Vec<Step>> {
        let shape = shape_of(image.shape(), chw, false)?;
        let buf = writable(&mut image)?;
        let inner = &*self.inner;
        let rec = crate::run_here(py, || f(inner, buf, shape, key)).map_err(py_err)?;
        Ok(to_steps(&rec))
    }

    fn batch<T: numpy::Element + Send>(
        &self,
        py: Python<'_>,
        mut batch: PyReadwriteArrayDyn<'_, T>,
        chw: bool,
        keys: BatchKeys<'_>,
        f: BatchFn<T>,
    ) -> PyResult<Vec<Vec<Step>>> {
        let shape = shape_of(batch.shape(), chw, true)?;
        let buf = writable(&mut batch)?;
        let inner = &*self.inner;
        let mut records = Vec::new();
        crate::run(py, || f(inner, buf, shape, keys, &mut records)).map_err(py_err)?;
        Ok(records.iter().map(to_steps).collect())
    }
}

/// Re-apply recorded steps to a clean u8 HWC image in place.
#[pyfunction]
pub fn replay_u8(
    py: Python<'_>,
    steps: Vec<Step>,
    image: PyReadwriteArrayDyn<'_, u8>,
) -> PyResult<()> {
    replay(py, steps, image, false, augment::replay_u8)
}

/// Re-apply recorded steps to a clean f32 CHW image in place.
#[pyfunction]
pub fn replay_f32(
    py: Python<'_>,
    steps: Vec<Step>,
    image: PyReadwriteArrayDyn<'_, f32>,
) -> PyResult<()> {
    replay(py, steps, image, true, augment::replay_f32)
}

fn replay<T: numpy::Element + Send>(
    py: Python<'_>,
    steps: Vec<Step>,
    mut image: PyReadwriteArrayDyn<'_, T>,
    chw: bool,
    f: fn(&[Applied], &mut [T], Shape) -> imgcorrupt::Result<()>,
) -> PyResult<()> {
    let shape = shape_of(image.shape(), chw, false)?;
    let steps = from_steps(steps)?;
    let buf = writable(&mut image)?;
    crate::run_here(py, || f(&steps, buf, shape)).map_err(py_err)
}
