"""Shared fixtures: the committed reference outputs of imagecorruptions 1.1.2
(fixtures/reference/, see fixtures/SOURCES.md) and the reference's frost photographs."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import imgcorrupt

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "fixtures" / "reference"
PHOTOS = REPO / "fixtures" / "photos"
if os.environ.get("IMGCORRUPT_TEST_INSTALLED") == "1":
    # scripts/test.sh tests the installed wheel, not the source tree
    assert "site-packages" in imgcorrupt.__file__, imgcorrupt.__file__

INDEX = json.loads((REFERENCE / "index.json").read_text())
RNG_STATES = json.loads((REFERENCE / "rng_states.json").read_text())
NAMES = INDEX["corruptions"]  # the reference's catalogue order


def frost_dir():
    """The reference's frost photographs (IMGCORRUPT_FROST_DIR, as for the Rust tests)."""
    d = os.environ.get("IMGCORRUPT_FROST_DIR")
    return d if d and (Path(d) / "frost1.png").exists() else None


_photos = {}


def photo(stem):
    if stem not in _photos:
        _photos[stem] = imgcorrupt.read_image(PHOTOS / f"{stem}.png")
    return _photos[stem]


def reference(entry):
    return imgcorrupt.read_image(REFERENCE / entry["file"])


def entries(corruption=None):
    return [e for e in INDEX["entries"] if corruption in (None, e["corruption"])]


def agreement(ours, theirs, within):
    """Fraction of values within ±within, and the largest difference."""
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.uint8
    d = np.abs(ours.astype(np.int16) - theirs.astype(np.int16))
    return float((d <= within).mean()), int(d.max())


@pytest.fixture(autouse=True)
def _isolated_global_state():
    """Every test starts from a known global generator and leaves no frost default."""
    state = np.random.get_state()
    np.random.seed(12345)
    yield
    np.random.set_state(state)
    imgcorrupt.set_frost_dir(None)
