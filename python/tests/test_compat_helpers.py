"""The module-level helpers of ``imagecorruptions.corruptions`` that ``imgcorrupt.compat``
provides (imgaug's ``imgcorruptlike`` assigns ``clipped_zoom``; scripts import ``plasma_fractal``,
``disk``, ``_motion_blur`` …): their documented values everywhere, and side by side with the
real imagecorruptions 1.1.2 where it is importable (the pinned reference round)."""

import importlib.util
import sys

import numpy as np
import pytest

import imgcorrupt.compat as compat
from conftest import REPO

C = compat.corruptions


def test_helpers_are_on_the_corruptions_module():
    for name in ("clipped_zoom", "plasma_fractal", "disk", "next_power_of_2", "getOptimalKernelWidth1D",
                 "gauss_function", "getMotionBlurKernel", "shift", "_motion_blur"):
        assert callable(getattr(C, name)), name


def test_documented_values():
    # P2: kernel sums (the reflect-101 blur of radii 8 and 10 sums above 1), grid sizes
    for (r, a), (side, total) in {(3, 0.1): (17, 1.0), (8, 0.5): (17, 1.012975), (10, 0.5): (21, 1.010786)}.items():
        k = C.disk(r, a)
        assert k.dtype == np.float32 and k.shape == (side, side)
        assert abs(float(k.sum()) - total) < 2e-6, (r, float(k.sum()))
    # P4: weights of radius 10, sigma 3 and the first offsets at 30 degrees
    w = C.getMotionBlurKernel(C.getOptimalKernelWidth1D(10, 3), 3)
    assert np.allclose(w[:6], [0.234745, 0.222059, 0.187969, 0.142380, 0.096507, 0.058534], atol=1e-6)
    x = np.zeros((40, 40), np.float64)
    x[20, 20] = 1.0
    y = C._motion_blur(x, 10, 3, 30)
    # tap i samples (r - dy_i, c - dx_i): the impulse spreads to (20 - dy_i, 20 - dx_i)
    for (dy, dx), wt in zip([(0, 0), (0, -1), (-1, -2), (-1, -3), (-2, -3), (-2, -4)], w[:6]):
        assert abs(y[20 + dy, 20 + dx] - wt) < 1e-12 or y[20 + dy, 20 + dx] >= wt
    assert abs(y.sum() - 1.0) < 1e-12
    # shift: clamp semantics
    a = np.arange(12).reshape(3, 4)
    assert (C.shift(a, -1, 1) == np.array([[1, 2, 3, 3], [1, 2, 3, 3], [5, 6, 7, 7]])).all()
    # P5: zoom keeps at least the original size, corner-aligned
    z = C.clipped_zoom(np.arange(10.0).reshape(10, 1, 1) * np.ones((1, 7, 1)), 1.3)
    assert z.shape[0] >= 10 and z.shape[1] >= 7 and z[0, 0, 0] == 1.0
    # P6: N*N - 1 global draws, values in [0, 1]
    np.random.seed(4)
    m = C.plasma_fractal(32, 2.0)
    after = np.random.get_state()[2]
    np.random.seed(4)
    np.random.uniform(size=32 * 32 - 1)
    assert after == np.random.get_state()[2] and m.min() == 0.0 and m.max() == 1.0
    assert [C.next_power_of_2(v) for v in (1, 2, 3, 224, 256, 257)] == [1, 2, 4, 256, 256, 512]


if importlib.util.find_spec("imagecorruptions") is None or importlib.util.find_spec("skimage") is None:
    ref = None
else:
    sys.path.insert(0, str(REPO / "scripts"))
    import make_fixtures  # noqa: E402

    # the real package's module (not compat, which install() may have registered under its name)
    ref = make_fixtures.load_oracle().corruptions
    assert ref is not C


@pytest.mark.skipif(ref is None, reason="imagecorruptions 1.1.2 (pinned reference environment) not installed")
def test_against_the_reference():
    for r, a in [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)]:
        assert np.allclose(C.disk(r, a), ref.disk(r, a), rtol=0, atol=1e-7), (r, a)
    rs = np.random.RandomState(3)
    img = rs.rand(37, 53, 3)
    for z in (1.0, 1.06, 1.11, 1.3, 2.25):
        ours, theirs = C.clipped_zoom(img, z), ref.clipped_zoom(img, z)
        assert ours.shape == theirs.shape and np.allclose(ours, theirs, rtol=0, atol=1e-12), z
    for args in [(0, 0, 1), (np.arange(5.0), 1.0, 2.0)]:
        assert np.allclose(C.gauss_function(*args), ref.gauss_function(*args), rtol=1e-15, atol=0)
    for w, s in [(21, 3), (31, 5), (41, 15)]:
        assert C.getOptimalKernelWidth1D(w, s) == ref.getOptimalKernelWidth1D(w, s)
        assert np.allclose(C.getMotionBlurKernel(w, s), ref.getMotionBlurKernel(w, s), rtol=1e-14, atol=0)
    for dx, dy in [(0, 0), (-3, 2), (4, -1), (5, 5)]:
        assert (C.shift(img, dx, dy) == ref.shift(img, dx, dy)).all(), (dx, dy)
    for radius, sigma, angle in [(10, 3, 30), (15, 5, -40), (20, 15, 44.5)]:
        assert np.allclose(C._motion_blur(img, radius, sigma, angle), ref._motion_blur(img, radius, sigma, angle),
                           rtol=0, atol=1e-12)
    for n, d in [(64, 2.0), (256, 1.4)]:
        np.random.seed(n)
        a = C.plasma_fractal(n, d)
        sa = np.random.get_state()[2]
        np.random.seed(n)
        b = ref.plasma_fractal(n, d)
        assert sa == np.random.get_state()[2]
        assert np.array_equal(a, b), n
