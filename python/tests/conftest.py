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


def npy_pair(folder, n, seed=0):
    """A CIFAR-style ``images.npy``/``labels.npy`` pair of ``n`` random 32x32 images, labels
    ``i % 10``, in ``folder`` (created); returns the two arrays."""
    folder.mkdir(parents=True)
    rs = np.random.RandomState(seed)
    images = rs.randint(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(n, dtype=np.int64) % 10
    np.save(folder / "images.npy", images)
    np.save(folder / "labels.npy", labels)
    return images, labels


def wds_shards(root, n=2, per=2):
    """``n`` webdataset shards of ``per`` samples (``<key>.png`` from the fixture photos and
    ``<key>.cls``) written with Python's tarfile into ``root`` (created); returns ``root``."""
    import io
    import tarfile

    photos = sorted(PHOTOS.glob("*.png"))
    root.mkdir()
    for s in range(n):
        with tarfile.open(root / f"{s:05d}.tar", "w", format=tarfile.GNU_FORMAT) as t:
            for i in range(per):
                key = f"{s:02d}{i:03d}"
                for name, data in [(f"{key}.png", photos[(s + i) % len(photos)].read_bytes()), (f"{key}.cls", str(i).encode())]:
                    ti = tarfile.TarInfo(name)
                    ti.size = len(data)
                    t.addfile(ti, io.BytesIO(data))
    return root


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
