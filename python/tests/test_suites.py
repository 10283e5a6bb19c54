"""LAION-C operators and generate() with the LAION-C and ImageNet-P suites from Python."""

import os
from pathlib import Path

import numpy as np
import pytest

import imgcorrupt

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "fixtures" / "photos"
IMAGENET = ROOT / "fixtures" / "datasets" / "imagenet"
LAION_C = ["mosaic", "stickers", "glitched", "vertical_lines", "geometric_shapes", "luminance_checkerboard"]


def _photo():
    return imgcorrupt.read_image(PHOTOS / "coffee_97x61.png")


def test_laion_c_names_are_in_the_catalogue():
    names = {n for n, subset, family in imgcorrupt._imgcorrupt.catalogue() if family == "laion-c"}
    assert names == set(LAION_C)


@pytest.mark.parametrize("name", LAION_C)
def test_laion_c_operators_from_python(name):
    img = _photo()
    kw = {"tile_bank": PHOTOS} if name in ("mosaic", "stickers") else {}
    a = imgcorrupt.corrupt_image(img, name, 3, seed=5, **kw)
    b = imgcorrupt.corrupt_image(img, name, 3, seed=5, **kw)
    assert a.shape == img.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, img)


def test_mosaic_without_a_bank_is_refused():
    with pytest.raises(ValueError, match="tile_bank"):
        imgcorrupt.corrupt_image(_photo(), "mosaic", 1, seed=0)


def test_generate_laion_c_and_imagenet_p(tmp_path):
    s = imgcorrupt.generate(IMAGENET, tmp_path / "lc", corruptions="laion-c", severities=[1], tile_bank=PHOTOS)
    assert s.ok and s.written == 6 * 4
    assert (tmp_path / "lc" / "glitched" / "1").is_dir()
    s = imgcorrupt.generate(IMAGENET, tmp_path / "lc2", corruptions="glitched", severities=[2], laion_c_compat=True)
    assert s.ok
    s = imgcorrupt.generate(
        IMAGENET, tmp_path / "p", corruptions="p:translate", severities="1", extra_args=["--sequence-format", "npy"]
    )
    assert s.ok and s.written == 4
    stack = np.load(tmp_path / "p" / "translate" / "n02123045" / "ILSVRC2012_val_00000003.npy")
    assert stack.shape == (41, 224, 224, 3)
    assert imgcorrupt.verify(tmp_path / "lc", input=IMAGENET).ok
