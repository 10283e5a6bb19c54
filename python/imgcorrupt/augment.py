"""Training augmentations over ``imgcorrupt::augment``: Gaussian and speckle noise training
(Rusak et al. 2020), random corruptions, composition, records and replay.

Every policy is a callable transform (torchvision-v2 style) on

* NumPy ``uint8`` images ``(H, W, C)`` / ``(H, W)`` and batches ``(N, H, W, C)``,
* NumPy ``float32`` images ``(C, H, W)`` in [0, 1] and batches ``(N, C, H, W)``,
* CPU torch tensors (``uint8`` or ``float32``, ``(C, H, W)`` or ``(N, C, H, W)``), and any
  other object with ``__dlpack__``, without importing torch,

returning a new object of the same kind (``inplace=True`` writes into a NumPy input instead).

Randomness is keyed by ``(seed, epoch, index)``: a sample's augmentation depends on the
policy's seed, the epoch and the sample's dataset index only, never on the number of
DataLoader workers, their scheduling or the batch composition. Pass ``index=`` (and set the
epoch) yourself, or wrap the dataset in :class:`AugmentedDataset`, which does both; no
``worker_init_fn`` is needed. Without ``index=`` a call draws a fresh random index (not
reproducible).

Training on a benchmark (``common``) corruption, Gaussian noise included, makes a model's
ImageNet-C numbers incomparable with published ones: such policies emit a
:class:`HeldOutWarning` when constructed, unless ``allow_benchmark=True``.
"""

import os
import warnings
from typing import NamedTuple, Optional

import numpy as np

from . import _imgcorrupt as _core
from ._dropin import InvalidInputError

__all__ = [
    "GaussianNoiseTraining",
    "SpeckleNoiseTraining",
    "RandomCorruption",
    "Compose",
    "OneOf",
    "Step",
    "replay",
    "AugmentedDataset",
    "HeldOutWarning",
    "GAUSSIAN_MULTI_SIGMAS",
    "SPECKLE_SIGMAS",
]

GAUSSIAN_MULTI_SIGMAS = (0.08, 0.12, 0.18, 0.26, 0.38)
SPECKLE_SIGMAS = (0.15, 0.2, 0.35, 0.45, 0.6)


class HeldOutWarning(UserWarning):
    """The policy trains on benchmark corruptions (see the module docs)."""


class Step(NamedTuple):
    """One applied step of a sample's augmentation (what :func:`replay` re-applies)."""

    op: str  # 'clean', 'gaussian_noise', 'speckle_noise' or 'corruption'
    sigma: Optional[float]
    corruption: Optional[str]
    severity: Optional[int]
    seed: int


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise InvalidInputError(f"seed must be an integer in 0..2**64-1, got {seed!r}")
    return int(seed)


def _random_index():
    return int.from_bytes(os.urandom(8), "little")


def _is_torch(x):
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "numpy")


class _Policy:
    """Base of the policies: call it on an image or a batch."""

    def __init__(self, core, seed, epoch=0):
        self._core = core
        self.seed = _check_seed(seed)
        self.epoch = _check_seed(epoch)

    def set_epoch(self, epoch):
        """Use ``epoch`` in the keys of later calls (different noise every epoch)."""
        self.epoch = _check_seed(epoch)

    @property
    def warnings(self):
        """The held-out warnings this policy would print (empty when allowed)."""
        return list(self._core.warnings())

    def __call__(self, x, index=None, epoch=None, inplace=False):
        """Augment one image or a batch; returns the augmented copy (or ``x`` itself when
        ``inplace``). ``index`` is the sample's dataset index (a batch: the first index, or one
        index per sample)."""
        return self.apply(x, index=index, epoch=epoch, inplace=inplace)[0]

    def apply(self, x, index=None, epoch=None, inplace=False):
        """Like calling the policy, but also returns the record: a list of :class:`Step` for
        one image, a list of such lists for a batch."""
        epoch = self.epoch if epoch is None else _check_seed(epoch)
        if _is_torch(x):
            return self._apply_torch(x, index, epoch)
        if not isinstance(x, np.ndarray) and hasattr(x, "__dlpack__"):
            return self._apply_numpy(np.from_dlpack(x).copy(), index, epoch, inplace=True)
        if not isinstance(x, np.ndarray):
            raise InvalidInputError(
                f"expected a numpy array, a torch tensor or a DLPack object, got {type(x).__name__}"
            )
        return self._apply_numpy(x, index, epoch, inplace)

    def _apply_numpy(self, x, index, epoch, inplace):
        if x.size == 0:
            raise InvalidInputError(f"empty array (shape {x.shape})")
        kind = _kind(x)
        if inplace:
            if not x.flags.c_contiguous or not x.flags.writeable:
                raise InvalidInputError("inplace=True needs a writable C-contiguous array")
            out = x
        else:
            out = np.array(x, order="C", copy=True)
        if kind in ("u8", "f32"):
            index = _random_index() if index is None else _check_seed(index)
            fn = self._core.apply_u8 if kind == "u8" else self._core.apply_f32
            steps = fn(out, self.seed, epoch, index)
            return out, [Step(*s) for s in steps]
        indices = _batch_indices(index, len(out))
        fn = self._core.apply_batch_u8 if kind == "batch_u8" else self._core.apply_batch_f32
        records = fn(out, self.seed, epoch, indices)
        return out, [[Step(*s) for s in r] for r in records]

    def _apply_torch(self, t, index, epoch):
        if t.device.type != "cpu":
            raise InvalidInputError(f"torch tensors must be on the CPU, got {t.device}")
        out = t.detach().clone().contiguous()
        arr = out.numpy()  # shares memory with `out`
        if arr.dtype == np.uint8 and arr.ndim in (3, 4):
            # torch u8 images are (C, H, W): the u8 path works on (H, W, C)
            axes = (1, 2, 0) if arr.ndim == 3 else (0, 2, 3, 1)
            back = (2, 0, 1) if arr.ndim == 3 else (0, 3, 1, 2)
            hwc = np.ascontiguousarray(arr.transpose(axes))
            hwc, rec = self._apply_numpy(hwc, index, epoch, inplace=True)
            arr[...] = hwc.transpose(back)
            return out, rec
        _, rec = self._apply_numpy(arr, index, epoch, inplace=True)
        return out, rec

    def __repr__(self):
        return f"{type(self).__name__}(seed={self.seed}, epoch={self.epoch})"


def _kind(x):
    if x.dtype == np.uint8 and x.ndim in (2, 3):
        return "u8"
    if x.dtype == np.uint8 and x.ndim == 4:
        return "batch_u8"
    if x.dtype == np.float32 and x.ndim == 3:
        return "f32"
    if x.dtype == np.float32 and x.ndim == 4:
        return "batch_f32"
    raise InvalidInputError(
        f"expected uint8 (H, W[, C]) / (N, H, W, C) or float32 (C, H, W) / (N, C, H, W) in "
        f"[0, 1], got {x.dtype} with shape {x.shape}"
    )


def _batch_indices(index, n):
    if index is None:
        first = _random_index() % (2**63)
        return [first + i for i in range(n)]
    if isinstance(index, (int, np.integer)):
        first = _check_seed(index)
        return [first + i for i in range(n)]
    indices = [_check_seed(i) for i in index]
    if len(indices) != n:
        raise InvalidInputError(f"the batch has {n} samples but {len(indices)} indices")
    return indices


def _guarded(make, allow_benchmark, what):
    """Build the policy with the Rust guard off, and emit its held-out warning as a Python
    warning instead (filterable, once per call site)."""
    if not allow_benchmark:
        for text in make(False).warnings():
            text = text.replace(
                "Call `.allow_benchmark_corruptions()` on the policy",
                f"Pass allow_benchmark=True to {what}",
            )
            warnings.warn(text, HeldOutWarning, stacklevel=3)
    return make(True)


class GaussianNoiseTraining(_Policy):
    """Gaussian noise training: a fraction ``p_clean`` of the samples stays clean, the others
    get ``clip(x + sigma * N(0, 1), 0, 1)`` per value in [0, 1] space, with ``sigma`` one
    value (the paper's 0.5) or drawn uniformly from ``sigmas`` (multi-σ GNT:
    ``sigmas=GAUSSIAN_MULTI_SIGMAS``). ``split`` decides the clean samples of a batch:
    'first_round' (single σ default), 'last_noised' (multi-σ default, the reference's rules by
    position) or 'per_sample' (independent of batching); single images use 'per_sample'."""

    def __init__(self, sigma=0.5, *, sigmas=None, p_clean=0.5, split=None, seed=0, allow_benchmark=False):
        values = [float(sigma)] if sigmas is None else [float(s) for s in sigmas]
        if not values or not all(np.isfinite(v) and v >= 0 for v in values):
            raise InvalidInputError(f"noise σ must be finite and >= 0, got {values}")
        core = _guarded(
            lambda allow: _core.Policy.gaussian(values, float(p_clean), split, allow),
            allow_benchmark,
            "GaussianNoiseTraining",
        )
        super().__init__(core, seed)
        self.sigmas = tuple(values)
        self.p_clean = float(p_clean)


class SpeckleNoiseTraining(_Policy):
    """Speckle noise training: ``clip(x + x * sigma * N(0, 1), 0, 1)``, sigma uniform from
    ``sigmas`` (default: the speckle_noise severities), ``p_clean`` clean."""

    def __init__(self, sigmas=SPECKLE_SIGMAS, *, p_clean=0.5, split=None, seed=0):
        values = [float(s) for s in sigmas]
        if not values or not all(np.isfinite(v) and v >= 0 for v in values):
            raise InvalidInputError(f"noise σ must be finite and >= 0, got {values}")
        super().__init__(_core.Policy.speckle(values, float(p_clean), split), seed)
        self.sigmas = tuple(values)
        self.p_clean = float(p_clean)


class RandomCorruption(_Policy):
    """With probability ``p``, one corruption of ``corruptions`` (names, subsets or families,
    e.g. ``'validation'`` or ``'noise,saturate'``) at a severity drawn from ``severities``."""

    def __init__(self, corruptions="validation", *, severities=(1, 2, 3, 4, 5), p=1.0, seed=0, allow_benchmark=False):
        if not isinstance(corruptions, str):
            corruptions = ",".join(corruptions)
        sev = [int(s) for s in severities]
        core = _guarded(
            lambda allow: _core.Policy.random_corruption(corruptions, sev, float(p), allow),
            allow_benchmark,
            "RandomCorruption",
        )
        super().__init__(core, seed)


class Compose(_Policy):
    """Apply every policy in order (each with its own stream of the sample's key)."""

    def __init__(self, policies, *, seed=0):
        policies = list(policies)
        if not all(isinstance(p, _Policy) for p in policies):
            raise InvalidInputError("Compose takes imgcorrupt.augment policies")
        super().__init__(_core.Policy.sequence([p._core for p in policies]), seed)
        self.policies = policies


class OneOf(_Policy):
    """Apply one of the policies per sample, uniformly or with ``weights``."""

    def __init__(self, policies, *, weights=None, seed=0):
        policies = list(policies)
        if not all(isinstance(p, _Policy) for p in policies):
            raise InvalidInputError("OneOf takes imgcorrupt.augment policies")
        w = None if weights is None else [float(v) for v in weights]
        super().__init__(_core.Policy.one_of([p._core for p in policies], w), seed)
        self.policies = policies


def replay(record, x):
    """Re-apply a record (the steps :meth:`_Policy.apply` returned for one sample) to a clean
    copy of the sample: gives the same values as the original call on the same buffer type
    (uint8 HWC or float32 CHW). Returns a new array."""
    out = np.array(x, order="C", copy=True)
    steps = [tuple(s) for s in record]
    if out.dtype == np.uint8 and out.ndim in (2, 3):
        _core.replay_u8(steps, out)
    elif out.dtype == np.float32 and out.ndim == 3:
        _core.replay_f32(steps, out)
    else:
        raise InvalidInputError(f"replay takes one uint8 (H, W[, C]) or float32 (C, H, W) image, got {out.dtype} {out.shape}")
    return out


class AugmentedDataset:
    """A map-style dataset whose item ``i`` is ``transform(dataset[i], index=i, epoch=epoch)``
    (for ``(image, label)`` items the image is transformed): the DataLoader recipe for
    augmentations that do not depend on the worker count. Call ``set_epoch`` each epoch."""

    def __init__(self, dataset, transform, epoch=0):
        self.dataset, self.transform, self.epoch = dataset, transform, int(epoch)

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        item = self.dataset[i]
        if isinstance(item, tuple):
            return (self.transform(item[0], index=i, epoch=self.epoch),) + item[1:]
        return self.transform(item, index=i, epoch=self.epoch)
