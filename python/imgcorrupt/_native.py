"""The native API: every layout and size the Rust library accepts, batches, in place.

Unlike the drop-in ``corrupt`` these keep the input's layout (greyscale stays greyscale, the
alpha of grey+alpha and RGBA is copied unchanged), accept any size from 1x1, and are pure
functions of (image, corruption, severity, seed): they never touch NumPy's global generator
unless ``seed`` is omitted.
"""

import os

import numpy as np

from . import _imgcorrupt as _core
from ._dropin import (
    InvalidInputError,
    _check_seed,
    _check_severity,
    _default_frost_dir,
    _one_step,
    _resolve_name,
    corruption_tuple,
)

_DROPIN_NAMES = frozenset(f.__name__ for f in corruption_tuple)

__all__ = ["corrupt_image", "corrupt_at", "corrupt_batch", "corrupt_inplace", "read_image", "c_bar_names"]

# Issue 16: the ImageNet-C-bar / CIFAR-10-C-bar operators, outside the drop-in's names (which
# stay exactly imagecorruptions'): usable by name in the native API.
_C_BAR = frozenset(name for name, subset, _ in _core.catalogue() if subset == "c-bar")


def c_bar_names(suite="c-bar"):
    """Names of a C-bar suite in catalogue order: ``'c-bar'`` (the 10 of ImageNet-C-bar) or
    ``'cifar-c-bar'`` (the 10 of CIFAR-10-C-bar). Use them with ``corrupt_image(...,
    preset='c-bar')`` (or ``'cifar-10-c-bar'``): severity 1..5 is the suite's 1st..5th
    magnitude on the reference's 0-10 scale."""
    if suite not in ("c-bar", "imagenet-c-bar", "cifar-c-bar", "cifar-10-c-bar"):
        raise ValueError("suite must be one of ['c-bar', 'cifar-c-bar']")
    return _core.select(suite)


_SHIFT_NAMES = {n for n, subset, _ in _core.catalogue() if subset == "shift" and n != "stylize"}

# Catalogue positions of the names `corrupt_image` takes without extra sources (not stylize,
# mosaic or stickers), for its one-step seeded call (``_core.corrupt_seeded``).
_SEEDED_INDEX = {
    name: i
    for i, (name, _, _) in enumerate(_core.catalogue())
    if name in _DROPIN_NAMES or name in _C_BAR or name in _SHIFT_NAMES
    if name not in ("mosaic", "stickers")
}


def _name(corruption, styles=None, tile_bank=None):
    if isinstance(corruption, str):
        if corruption in ("mosaic", "stickers") and tile_bank is None:
            raise InvalidInputError(
                f"{corruption} needs a tile bank: tile_bank= a folder of training images (LAION-C)"
            )
        if corruption in _SHIFT_NAMES:
            return corruption
        if corruption == "stylize":
            if styles is None:
                raise InvalidInputError(
                    "stylize needs a style source: styles= a folder of style images or one image"
                )
            return corruption
        if corruption in _C_BAR:
            return corruption
        return _resolve_name(corruption, -1)
    if isinstance(corruption, (int, np.integer)) and not isinstance(corruption, bool):
        if not 0 <= corruption < len(corruption_tuple):
            raise IndexError(f"corruption number {corruption} out of range: 0..18")
        return _resolve_name(None, int(corruption))
    raise InvalidInputError(f"corruption must be a name or a number, got {corruption!r}")


def _path(p):
    return None if p is None else os.fspath(p)


def _check_array(image, what, dims):
    if not isinstance(image, np.ndarray):
        raise InvalidInputError(f"{what} must be a numpy.ndarray, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InvalidInputError(
            f"{what} must be uint8, got {image.dtype} "
            "(convert with np.clip(x, 0, 255).astype(np.uint8))"
        )
    if image.ndim not in dims:
        shapes = " or ".join(
            {2: "(H, W)", 3: "(H, W, C)", 4: "(N, H, W, C)"}.get(d, str(d)) for d in dims
        )
        raise InvalidInputError(f"{what} must be {shapes}, got shape {image.shape}")
    if image.size == 0:
        raise InvalidInputError(f"{what} is empty (shape {image.shape})")
    channels = image.shape[-1] if image.ndim == max(dims) else 1
    if channels not in (1, 2, 3, 4):
        raise InvalidInputError(
            f"{what} has {channels} channels: expected 1 (grey), 2 (grey+alpha), 3 (RGB) "
            "or 4 (RGBA)"
        )


def _options(seed, rng, frost_dir, styles=None):
    if rng not in ("fast", "numpy"):
        raise InvalidInputError(f"rng must be 'fast' or 'numpy', got {rng!r}")
    seed = _check_seed(seed)
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1 if rng == "numpy" else 2**63 - 1, dtype=np.int64))
    if rng == "numpy" and seed >= 2**32:
        raise InvalidInputError(f"numpy-mode seeds are 32-bit (as np.random.seed), got {seed}")
    if frost_dir is None:
        frost_dir = _default_frost_dir()
    fspath = lambda p: None if p is None else os.fspath(p)  # noqa: E731
    return seed, fspath(frost_dir), fspath(styles)


def corrupt_image(
    image,
    corruption,
    severity=1,
    *,
    seed=None,
    rng="fast",
    preset=None,
    frost_dir=None,
    styles=None,
    tile_bank=None,
):
    """Corrupt one image; returns a new array of the same shape and dtype (uint8).

    ``image``: (H, W) or (H, W, C) uint8 with C = 1 (grey), 2 (grey+alpha), 3 (RGB) or
    4 (RGBA), any size from 1x1. Greyscale stays greyscale; alpha is copied unchanged.
    Non-contiguous arrays are copied first (the output is always a new array).
    ``corruption``: a name (``get_corruption_names('all')``) or a number 0..18.
    ``seed``: the output is a pure function of (image, corruption, severity, seed, rng,
    preset); ``None`` draws one from NumPy's global generator. ``rng``: ``'fast'`` (default)
    or ``'numpy'`` (the draws of ``np.random.seed(seed)`` + the reference's call).
    ``preset``: a built-in preset name or a TOML path. ``frost_dir``: the reference's frost
    photographs (default procedural textures). ``styles``: a folder of style images (or one
    image) for the ``'stylize'`` shift (Stylized-ImageNet style transfer; the style is picked
    from the seed). The GIL is released while the image is corrupted.
    """
    # The common seeded call in one step (see `corrupt`): None from the core means "not the
    # common case", and the full checks below raise whatever error applies.
    if (
        type(seed) is int
        and type(severity) is int
        and type(corruption) is str
        and type(rng) is str
        and rng == "fast"
        and preset is None
        and frost_dir is None
        and styles is None
        and tile_bank is None
    ):
        out = _one_step(_SEEDED_INDEX, corruption, image, severity, seed)
        if out is not None:
            return out
    _check_array(image, "image", (2, 3))
    severity = _check_severity(severity)
    name = _name(corruption, styles, tile_bank)
    seed, frost_dir, styles = _options(seed, rng, frost_dir, styles)
    return _core.corrupt_named(
        np.ascontiguousarray(image), name, severity, seed, rng, preset, frost_dir, styles, _path(tile_bank)
    )


def corrupt_at(
    image,
    corruption,
    severity,
    *,
    seed=None,
    rng="fast",
    preset=None,
    frost_dir=None,
    styles=None,
    tile_bank=None,
):
    """Corrupt one image at a continuous severity (issue 16, CCC-style): ``severity`` is a
    number in [0, 5] that need not be an integer (e.g. ``2.5``); each parameter of the
    corruption's table is interpolated linearly between the neighbouring severities (below 1
    from the value that leaves the image unchanged), ``0`` returns the image unchanged and an
    integer gives exactly :func:`corrupt_image` at that severity. Corruptions whose tables do
    not interpolate (glass_blur, spatter) raise :class:`InvalidInputError` naming them.
    Other arguments as :func:`corrupt_image`. The drop-in ``corrupt(image, severity=...)``
    keeps the reference's integer severities 1..5.
    """
    _check_array(image, "image", (2, 3))
    if isinstance(severity, bool) or not isinstance(severity, (int, float, np.integer, np.floating)):
        raise InvalidInputError(f"severity must be a number in [0, 5], got {severity!r}")
    severity = float(severity)
    if not (0.0 <= severity <= 5.0):
        raise InvalidInputError(f"severity must be a number in [0, 5], got {severity!r}")
    name = _name(corruption, styles, tile_bank)
    seed, frost_dir, styles = _options(seed, rng, frost_dir, styles)
    return _core.corrupt_named(
        np.ascontiguousarray(image), name, severity, seed, rng, preset, frost_dir, styles, _path(tile_bank)
    )


def corrupt_batch(
    images,
    corruption,
    severity=1,
    *,
    seed=None,
    rng="fast",
    preset=None,
    frost_dir=None,
    styles=None,
    tile_bank=None,
):
    """Corrupt a batch (N, H, W, C) (or (N, H, W) grey) of uint8 images in parallel; image
    ``i`` gets seed ``seed + i`` (so ``corrupt_batch(x, ...)[i]`` equals
    ``corrupt_image(x[i], ..., seed=seed + i)``, whatever the number of threads).
    Returns a new array of the same shape."""
    if isinstance(images, np.ndarray) and images.ndim == 3 and images.shape[-1] in (2, 3, 4):
        raise InvalidInputError(
            f"a batch is (N, H, W, C) or (N, H, W); shape {images.shape} looks like one "
            "(H, W, C) image: use corrupt_image"
        )
    _check_array(images, "images", (3, 4))
    severity = _check_severity(severity)
    name = _name(corruption, styles, tile_bank)
    seed, frost_dir, styles = _options(seed, rng, frost_dir, styles)
    if rng == "numpy" and seed + len(images) > 2**32:
        raise InvalidInputError("numpy-mode seeds are 32-bit: seed + N must stay below 2**32")
    return _core.corrupt_batch(
        np.ascontiguousarray(images), name, severity, seed, rng, preset, frost_dir, styles, _path(tile_bank)
    )


def corrupt_inplace(
    image,
    corruption,
    severity=1,
    *,
    seed=None,
    rng="fast",
    preset=None,
    frost_dir=None,
    styles=None,
    tile_bank=None,
):
    """Corrupt a writable C-contiguous (H, W[, C]) uint8 array in place; returns ``None``.

    Non-contiguous or read-only arrays raise ``InvalidInputError`` (nothing is copied behind
    the caller's back). On any error the array is left untouched."""
    _check_array(image, "image", (2, 3))
    if not image.flags.c_contiguous:
        raise InvalidInputError(
            "in-place corruption needs a C-contiguous array (use np.ascontiguousarray, "
            "or corrupt_image which returns a new array)"
        )
    if not image.flags.writeable:
        raise InvalidInputError("in-place corruption needs a writable array (this one is read-only)")
    severity = _check_severity(severity)
    name = _name(corruption, styles, tile_bank)
    seed, frost_dir, styles = _options(seed, rng, frost_dir, styles)
    _core.corrupt_inplace(image, name, severity, seed, rng, preset, frost_dir, styles, _path(tile_bank))


def read_image(path):
    """Decode an image file (PNG, JPEG, WebP, BMP, TIFF) to a uint8 array: (H, W) grey,
    (H, W, 2), (H, W, 3) or (H, W, 4). JPEGs decode to Pillow's exact pixels (what the
    reference corrupted); 16-bit and float images are reduced to 8 bits."""
    return _core.read_image(os.fspath(path))
