"""Side by side with the real imagecorruptions 1.1.2, when it is importable (the pinned
environment of scripts/requirements-reference.txt, with the two shims of
scripts/make_fixtures.py): errors, names, outputs and the global RNG state on images that are
not fixtures (odd sizes, greyscale). Skipped elsewhere; the committed fixtures cover CI."""

import importlib.util
import sys

import numpy as np
import pytest

import imgcorrupt
from conftest import REPO

if importlib.util.find_spec("imagecorruptions") is None or importlib.util.find_spec("skimage") is None:
    pytest.skip("imagecorruptions 1.1.2 (pinned reference environment) not installed", allow_module_level=True)

sys.path.insert(0, str(REPO / "scripts"))
import make_fixtures  # noqa: E402

ic = make_fixtures.load_oracle()


@pytest.fixture(autouse=True)
def _frost_of_the_reference():
    from pathlib import Path

    imgcorrupt.set_frost_dir(Path(ic.__file__).parent / "frost")
    yield
    imgcorrupt.set_frost_dir(None)


def _state():
    _, key, pos, has_gauss, cached = np.random.get_state()
    return key.tobytes(), int(pos), int(has_gauss), float(cached)


IMAGES = {
    "rgb_45x61": np.random.RandomState(0).randint(0, 256, (45, 61, 3)).astype(np.uint8),
    "grey_40x33": np.random.RandomState(1).randint(0, 256, (40, 33)).astype(np.uint8),
    "grey1_33x50": np.random.RandomState(2).randint(0, 256, (33, 50, 1)).astype(np.uint8),
}


@pytest.mark.parametrize("image", list(IMAGES), ids=list(IMAGES))
@pytest.mark.parametrize("name", ic.get_corruption_names("all"))
def test_same_pixels_and_state_as_the_reference(name, image):
    x = IMAGES[image]
    for severity in (1, 5):
        np.random.seed(severity + 100)
        theirs = ic.corrupt(x.copy(), severity=severity, corruption_name=name)
        their_state = _state()
        np.random.seed(severity + 100)
        ours = imgcorrupt.corrupt(x.copy(), severity=severity, corruption_name=name)
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        d = np.abs(ours.astype(int) - theirs.astype(int))
        assert (d <= 1).mean() >= 0.999, (name, severity, d.max())
        assert _state() == their_state, (name, severity)


BAD = [
    ([1, 2], 1, "fog", -1),
    (np.zeros((40, 40, 3), np.float64), 1, "fog", -1),
    (np.zeros((40,), np.uint8), 1, "fog", -1),
    (np.zeros((40, 40, 3, 1), np.uint8), 1, "fog", -1),
    (np.zeros((31, 40, 3), np.uint8), 1, "fog", -1),
    (np.zeros((40, 40, 4), np.uint8), 1, "fog", -1),
    (np.zeros((40, 40, 2), np.uint8), 1, "fog", -1),
    (np.zeros((40, 40, 3), np.uint8), 0, "fog", -1),
    (np.zeros((40, 40, 3), np.uint8), 6, "fog", -1),
    (np.zeros((40, 40, 3), np.uint8), float("nan"), "fog", -1),
    (np.zeros((40, 40, 3), np.uint8), 1, "fgo", -1),
    (np.zeros((40, 40, 3), np.uint8), 1, None, 19),
    (np.zeros((40, 40, 3), np.uint8), 1, None, -1),
]


@pytest.mark.parametrize("args", BAD, ids=[str(i) for i in range(len(BAD))])
def test_same_exception_types_as_the_reference(args):
    with pytest.raises(Exception) as theirs:
        ic.corrupt(*args)
    with pytest.raises(type(theirs.value)):
        imgcorrupt.corrupt(*args)


def test_same_names_and_subset_errors():
    for subset in ("common", "validation", "all", "noise", "blur", "weather", "digital"):
        assert imgcorrupt.get_corruption_names(subset) == ic.get_corruption_names(subset)
    with pytest.raises(ValueError) as theirs:
        ic.get_corruption_names("nope")
    with pytest.raises(ValueError) as ours:
        imgcorrupt.get_corruption_names("nope")
    assert str(ours.value) == str(theirs.value)
    assert [f.__name__ for f in ic.corruption_tuple] == [f.__name__ for f in imgcorrupt.corruption_tuple]
