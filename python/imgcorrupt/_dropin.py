"""The imagecorruptions 1.1.2 drop-in: ``corrupt``, ``get_corruption_names``,
``corruption_tuple`` and ``corruption_dict``, with the reference's signatures, argument
order, shapes, dtype and exception types.

Without ``seed=`` a call draws from NumPy's *global* legacy generator exactly as the reference
does: it reads ``np.random.get_state()``, runs the numpy-mode generator from that MT19937
state and writes the advanced state back with ``np.random.set_state()``. After
``np.random.seed(s)`` the output and the next draw of user code are the reference's.
"""

import difflib
import math
import os
import threading

import numpy as np

from . import _imgcorrupt as _core

__all__ = [
    "corrupt",
    "get_corruption_names",
    "corruption_tuple",
    "corruption_dict",
    "CorruptionNameError",
    "InvalidInputError",
    "set_frost_dir",
]


class InvalidInputError(AttributeError, ValueError):
    """A bad image, severity or argument.

    The reference raises ``AttributeError`` for these (sic); this is also a ``ValueError``,
    so code written for either keeps catching it.
    """


class CorruptionNameError(KeyError, ValueError):
    """An unknown corruption name (the reference raises ``KeyError`` from its dictionary
    lookup); the message suggests the closest name."""

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _catalogue():
    return [row for row in _core.catalogue() if row[1] in ("common", "validation")]


class _Corruption:
    """One corruption of the catalogue as a function ``f(x, severity=1)`` (the reference's
    ``imagecorruptions.corruptions.<name>``): returns a float64 array like the reference's raw
    functions. Draws from NumPy's global generator, like ``corrupt``."""

    def __init__(self, name):
        self.__name__ = self.__qualname__ = name
        self.__doc__ = f"{name}(x, severity=1): the `{name}` corruption (float64 HxWx3 out)."

    def __call__(self, x, severity=1):
        severity_arg = severity
        # Like the reference's raw functions: a PIL image or an array in 0..255 of any size
        # (no 32-pixel minimum: imgaug's imgcorruptlike calls these directly).
        x = np.asarray(x)
        if x.dtype != np.uint8:
            x = np.clip(x, 0, 255).astype(np.uint8)
        if x.ndim == 3 and x.shape[2] == 1:
            x = x[..., 0]
        if x.ndim == 2:
            x = np.stack((x,) * 3, axis=-1)
        if x.ndim != 3 or x.shape[2] != 3 or x.size == 0:
            raise InvalidInputError(f"expected an (H, W) or (H, W, 3) image, got shape {x.shape}")
        severity = _check_severity(severity)
        _refuse_float_severity(severity_arg)
        image = np.ascontiguousarray(x)
        out = run_on_global_state(image, self.__name__, severity, None, _default_frost_dir())
        return out.astype(np.float64)

    def __repr__(self):
        return f"<imgcorrupt corruption {self.__name__}>"

    def __reduce__(self):  # picklable (DataLoader workers, multiprocessing)
        return (_Corruption, (self.__name__,))


corruption_tuple = tuple(_Corruption(name) for name, _, _ in _catalogue())
"""The 19 corruptions in the reference's order (``corruption_number`` indexes it)."""

corruption_dict = {f.__name__: f for f in corruption_tuple}
"""The 19 corruptions by name."""

_NAMES = tuple(corruption_dict)
_SUBSETS = {
    "common": _NAMES[0:15],
    "validation": _NAMES[15:19],
    "all": _NAMES,
    "noise": _NAMES[0:3],
    "blur": _NAMES[3:7],
    "weather": _NAMES[7:11],
    "digital": _NAMES[11:15],
}


def get_corruption_names(subset="common"):
    """Names of the corruptions of a subset, in the reference's order.

    ``subset`` is ``'common'`` (the 15 benchmark corruptions), ``'validation'`` (the 4
    held-out ones), ``'all'`` (19), or a family of the common set: ``'noise'``, ``'blur'``,
    ``'weather'``, ``'digital'``. Anything else raises ``ValueError`` with the reference's
    message, as imagecorruptions 1.1.2 does.
    """
    try:
        return list(_SUBSETS[subset])
    except (KeyError, TypeError):
        # the reference's message (which lists only three of the seven subsets)
        raise ValueError("subset must be one of ['common', 'validation', 'all']") from None


def set_frost_dir(path):
    """Use the reference's six frost photographs from ``path`` (the ``frost`` folder of an
    imagecorruptions checkout or wheel) for every later ``corrupt(..., 'frost')`` call without
    ``frost_dir=``; ``None`` goes back to procedural textures. The environment variable
    ``IMGCORRUPT_FROST_DIR`` sets the default."""
    # kept in the core, where the native ``corrupt`` reads it
    _core.set_default_frost_dir(None if path is None else os.fsdecode(path))


# the folder set_frost_dir chose, else $IMGCORRUPT_FROST_DIR, else None (procedural)
_default_frost_dir = _core.default_frost_dir


def _unknown_name(name):
    close = difflib.get_close_matches(str(name), _NAMES, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return CorruptionNameError(
        f"unknown corruption {name!r}{hint}; see imgcorrupt.get_corruption_names('all')"
    )


def _resolve_name(corruption_name, corruption_number):
    if corruption_name is not None:
        if not isinstance(corruption_name, str) or corruption_name not in corruption_dict:
            raise _unknown_name(corruption_name)
        return corruption_name
    if corruption_number != -1:
        try:
            return corruption_tuple[corruption_number].__name__
        except IndexError:
            raise IndexError(
                f"corruption_number {corruption_number!r} out of range: 0..{len(_NAMES) - 1}"
            ) from None
        except TypeError:
            raise InvalidInputError(
                f"corruption_number must be an integer, got {corruption_number!r}"
            ) from None
    raise ValueError("Either corruption_name or corruption_number must be passed")


def _refuse_float_severity(severity):
    """The reference indexes its tables with ``severity - 1``: a float there (3.0, or a
    ``numpy.float64``) is Python's TypeError, so the drop-in raises the same one. The seeded
    and continuous paths take integral floats."""
    if isinstance(severity, (float, np.floating)) and not isinstance(severity, bool):
        kind = type(severity)
        label = kind.__name__ if kind is float else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"list indices must be integers or slices, not {label}")


def _check_severity(severity):
    """1..5 as the reference accepts them (ints, numpy ints, integral floats); NaN, 0, 6,
    strings... are an ``InvalidInputError``."""
    if type(severity) is int and 1 <= severity <= 5:  # the common case, checked cheaply
        return severity
    try:
        ok = (
            not isinstance(severity, (str, bytes))
            and not (isinstance(severity, float) and math.isnan(severity))
            and severity in (1, 2, 3, 4, 5)
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidInputError(f"Severity must be an integer in [1, 5], got {severity!r}")
    return int(severity)


_UINT8 = np.dtype(np.uint8)


def _check_reference_image(image):
    """The reference's input rules: uint8 ndarray, (H, W), (H, W, 1) or (H, W, 3), H and W at
    least 32. Returns a C-contiguous (H, W, 3) array (greyscale replicated, as the
    reference does; a copy only when needed)."""
    # The common case (a C-contiguous (H, W, 3) uint8 array of at least 32x32), checked with
    # attribute reads only; anything else takes the full checks below.
    if (
        type(image) is np.ndarray
        and image.dtype is _UINT8
        and image.ndim == 3
        and image.shape[2] == 3
        and image.shape[0] >= 32
        and image.shape[1] >= 32
        and image.flags.c_contiguous
    ):
        return image
    if not isinstance(image, np.ndarray):
        raise InvalidInputError(
            f"Expecting type(image) to be numpy.ndarray, got {type(image).__name__}"
        )
    if image.dtype != np.uint8:
        raise InvalidInputError(
            f"Expecting image.dtype to be numpy.uint8, got {image.dtype} "
            "(convert with np.clip(x, 0, 255).astype(np.uint8))"
        )
    if image.ndim not in (2, 3):
        raise InvalidInputError(
            "Expecting image.shape to be either (height x width) or "
            f"(height x width x channels), got {image.shape}"
            + (" (for a batch use imgcorrupt.corrupt_batch)" if image.ndim == 4 else "")
        )
    height, width = image.shape[:2]
    if height < 32 or width < 32:
        raise InvalidInputError(
            f"Image width and height must be at least 32 pixels, got {width}x{height} "
            "(imgcorrupt.corrupt_image accepts any size)"
        )
    channels = 1 if image.ndim == 2 else image.shape[2]
    if channels not in (1, 3):
        raise InvalidInputError(
            f"Expecting image to have either 1 or 3 channels (last dimension), got {channels}"
            " (imgcorrupt.corrupt_image keeps grey+alpha and RGBA)"
        )
    if channels == 1:
        grey = image.reshape(height, width)
        image = np.stack((grey,) * 3, axis=-1)
    return np.ascontiguousarray(image)


def _check_rng(rng):
    if rng not in (None, "fast", "numpy"):
        raise InvalidInputError(f"rng must be 'fast' or 'numpy', got {rng!r}")


def _check_seed(seed):
    if seed is None:
        return None
    if type(seed) is int and 0 <= seed < 2**64:  # the common case, checked cheaply
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidInputError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    if not 0 <= seed < 2**64:
        raise InvalidInputError(f"seed must be in 0..2**64-1, got {seed}")
    return seed


def _global_state():
    state = np.random.get_state(legacy=True) if _LEGACY_KW else np.random.get_state()
    if not isinstance(state, tuple) or state[0] != "MT19937":
        raise RuntimeError(
            "NumPy's global generator is not the legacy MT19937 RandomState "
            "(np.random.set_bit_generator was used): pass seed= instead"
        )
    _, key, pos, has_gauss, cached = state[:5]
    gauss = float(cached) if has_gauss else None
    return np.ascontiguousarray(key, dtype=np.uint32), int(pos), gauss


def _has_legacy_kw():
    import inspect

    try:
        return "legacy" in inspect.signature(np.random.get_state).parameters
    except (TypeError, ValueError):
        return False


# NumPy >= 1.19 takes get_state(legacy=True); it is the default, but being explicit keeps the
# tuple form should the default change.
_LEGACY_KW = _has_legacy_kw()


def _set_global_state(key, pos, gauss):
    np.random.set_state(
        ("MT19937", key, pos, 0 if gauss is None else 1, 0.0 if gauss is None else gauss)
    )


def run_on_global_state(image, name, severity, preset, frost_dir):
    """Corrupt ``image`` (checked, contiguous) in numpy mode from the global generator, and
    advance it. Not thread-safe with respect to other users of ``np.random`` (neither is the
    reference): read, run and write happen under one lock so concurrent imgcorrupt calls
    each see a consistent state."""
    with _global_lock:
        key, pos, gauss = _global_state()
        out, (key, pos, gauss) = _core.corrupt_continuing(
            image, name, severity, key, pos, gauss, preset, frost_dir
        )
        _set_global_state(key, pos, gauss)
    return out


_global_lock = threading.Lock()


def _one_step(table, name, image, severity, seed):
    """The seeded fast-mode call of ``corrupt_image`` in one core call
    (``_core.corrupt_seeded``), for a name of ``table`` (name -> catalogue position); None
    when it is not that common case, and the caller takes its full checks. Its frost folder
    is the default the full path would use (``_options`` looks it up for every call). The
    drop-in's ``corrupt`` does the same natively (``python/src/dropin.rs``)."""
    index = table.get(name)
    if index is None:
        return None
    return _core.corrupt_seeded(image, index, severity, seed, False, _default_frost_dir())


corrupt = _core.corrupt
"""``corrupt(image, severity=1, corruption_name=None, corruption_number=-1, *, seed=None,
rng=None, preset=None, frost_dir=None)``: the drop-in (see its docstring). Native: its common
seeded call runs without a Python frame, everything else in ``_corrupt_full``."""


def _corrupt_full(image, severity, corruption_name, corruption_number, seed, rng, preset, frost_dir):
    """``corrupt`` (``python/src/dropin.rs``) for every call that is not its native common
    case, with the arguments as the caller gave them (missing ones at the signature's
    defaults): the checks, conversions and exceptions of the drop-in."""
    image = _check_reference_image(image)
    severity_arg = severity
    severity = _check_severity(severity)
    name = _resolve_name(corruption_name, corruption_number)
    _check_rng(rng)
    seed = _check_seed(seed)
    # Only frost reads textures: the others skip the default's look-up.
    if frost_dir is None and name == "frost":
        frost_dir = _default_frost_dir()
    frost_dir = None if frost_dir is None else os.fspath(frost_dir)
    if seed is None and rng in (None, "numpy"):
        _refuse_float_severity(severity_arg)
        return run_on_global_state(image, name, severity, preset, frost_dir)
    if seed is None:
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))
    if rng == "numpy" and seed >= 2**32:
        raise InvalidInputError(f"numpy-mode seeds are 32-bit (as np.random.seed), got {seed}")
    return _core.corrupt_named(image, name, severity, seed, rng or "fast", preset, frost_dir)
