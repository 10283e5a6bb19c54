"""imgcorrupt: fast, reproducible common corruptions (ImageNet-C style) for Python.

* **Drop-in for imagecorruptions 1.1.2**: ``corrupt(image, severity=1, corruption_name=None,
  corruption_number=-1)``, ``get_corruption_names(subset='common')``, ``corruption_tuple``,
  ``corruption_dict``; same shapes, dtype and exceptions, and the same draws from NumPy's
  global generator (``np.random.seed(s)`` then ``corrupt`` gives the reference's pixels and
  leaves the reference's generator state). ``import imgcorrupt.compat as imagecorruptions``
  or ``imgcorrupt.compat.install()`` for code that imports ``imagecorruptions``.
* **Native API**: ``corrupt_image`` (any size, grey stays grey, RGBA keeps alpha),
  ``corrupt_batch`` (N, H, W, C), ``corrupt_inplace``, ``read_image``; explicit ``seed=`` and
  ``rng='fast'|'numpy'``, ``preset=``, ``frost_dir=``.
* **Training augmentations**: ``imgcorrupt.augment`` (Gaussian/speckle noise training, random
  corruptions, composition; numpy, float CHW, batches, torch tensors), keyed by
  (seed, epoch, index).
* **Datasets**: ``generate(input, output, ...)`` and ``verify(output)`` over the Rust pipeline;
  the ``imgcorrupt`` command comes with the wheel.
"""

from . import _imgcorrupt
from ._dropin import (
    CorruptionNameError,
    InvalidInputError,
    corrupt,
    corruption_dict,
    corruption_tuple,
    get_corruption_names,
    set_frost_dir,
)
from ._dataset import GenerateSummary, VerifyReport, generate, score, verify
from ._native import c_bar_names, corrupt_at, corrupt_batch, corrupt_image, corrupt_inplace, read_image
from . import augment

__version__ = _imgcorrupt.__version__

__all__ = [
    "corrupt",
    "get_corruption_names",
    "corruption_tuple",
    "corruption_dict",
    "set_frost_dir",
    "corrupt_image",
    "corrupt_at",
    "c_bar_names",
    "corrupt_batch",
    "corrupt_inplace",
    "read_image",
    "generate",
    "verify",
    "score",
    "GenerateSummary",
    "VerifyReport",
    "augment",
    "CorruptionNameError",
    "InvalidInputError",
]
