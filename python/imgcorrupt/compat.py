"""A stand-in for the ``imagecorruptions`` package (1.1.2).

Either import it under the reference's name::

    import imgcorrupt.compat as imagecorruptions
    imagecorruptions.corrupt(img, corruption_name="fog", severity=3)

or, for code you cannot edit (mmdetection's ``Corrupt`` transform, imgaug's
``imgcorruptlike``), register it before that code imports ``imagecorruptions``::

    import imgcorrupt.compat
    imgcorrupt.compat.install()      # sys.modules['imagecorruptions'] is now this module

``imagecorruptions.corruptions.<name>(x, severity)`` works too (the raw corruption
functions: uint8 or PIL image in, float64 HxWx3 out, global NumPy draws), and so do the
module's helpers ``clipped_zoom``, ``plasma_fractal``, ``disk``, ``next_power_of_2``,
``getOptimalKernelWidth1D``, ``gauss_function``, ``getMotionBlurKernel``, ``shift`` and
``_motion_blur`` (NumPy implementations with the reference's signatures and global draws).
"""

import sys
import types

from . import _helpers
from ._dropin import corrupt, corruption_dict, corruption_tuple, get_corruption_names

__all__ = ["corrupt", "get_corruption_names", "corruption_tuple", "corruption_dict", "install"]

corruptions = types.ModuleType(
    "imgcorrupt.compat.corruptions",
    "The reference's raw corruption functions, f(x, severity=1) -> float64 array.",
)
for _f in corruption_tuple:
    setattr(corruptions, _f.__name__, _f)
corruptions.__all__ = [f.__name__ for f in corruption_tuple]
# The reference module's helpers (imgaug's imgcorruptlike assigns `clipped_zoom`; scripts import
# `plasma_fractal`, `disk`, `_motion_blur`, …): NumPy versions with the same signatures.
for _name in _helpers.__all__:
    setattr(corruptions, _name, getattr(_helpers, _name))
del _f, _name


def install(force=False):
    """Register this module as ``imagecorruptions`` (and ``imagecorruptions.corruptions``) in
    ``sys.modules``, so that ``import imagecorruptions`` anywhere gets imgcorrupt. Refuses to
    replace an already imported real ``imagecorruptions`` unless ``force=True``. Returns the
    module."""
    me = sys.modules[__name__]
    current = sys.modules.get("imagecorruptions")
    if current is not None and current is not me and not force:
        raise RuntimeError(
            "imagecorruptions is already imported; call install() before it is imported, "
            "or install(force=True) to replace it"
        )
    sys.modules["imagecorruptions"] = me
    sys.modules["imagecorruptions.corruptions"] = corruptions
    return me
