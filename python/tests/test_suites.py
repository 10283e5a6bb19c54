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


def test_generate_laion_c_evaluator_layout(tmp_path):
    # fixtures/datasets/imagenet: n02123045 (cat) and n07747607 (fruit), both among LAION-C's
    # 285 wnids; the outputs equal the default layout's bytes, under the superclass folders.
    out, plain = tmp_path / "eval", tmp_path / "plain"
    s = imgcorrupt.generate(IMAGENET, out, corruptions="glitched", severities=[2], layout="laion-c")
    assert s.ok and s.written == 4
    level = out / "glitched" / "intensity_level_2"
    assert len([d for d in level.iterdir() if d.is_dir()]) == 16
    cats = sorted(p.name for p in (level / "cat").iterdir())
    assert cats == ["ILSVRC2012_val_00000003.jpg", "ILSVRC2012_val_00000004.jpg"]
    imgcorrupt.generate(IMAGENET, plain, corruptions="glitched", severities=[2])
    a = (level / "cat" / "ILSVRC2012_val_00000003.jpg").read_bytes()
    b = (plain / "glitched" / "2" / "n02123045" / "ILSVRC2012_val_00000003.JPEG").read_bytes()
    assert a == b
    assert imgcorrupt.verify(out, input=IMAGENET).ok
    with pytest.raises(ValueError, match="LAION-C"):
        imgcorrupt.generate(IMAGENET, tmp_path / "bad", corruptions="contrast", layout="laion-c")


def test_generate_with_a_severity_schedule(tmp_path):
    import json

    s = imgcorrupt.generate(IMAGENET, tmp_path / "s", corruptions="contrast", severity_schedule="linear:0-4.5")
    assert s.ok and s.written == 4
    records = [json.loads(line) for line in open(tmp_path / "s" / "manifest.jsonl")]
    sev = sorted(r["scheduled_severity"] for r in records if "scheduled_severity" in r)
    assert sev == [0, 1.5, 3, 4.5]
    assert (tmp_path / "s" / "contrast" / "schedule").is_dir()
    assert imgcorrupt.verify(tmp_path / "s", input=IMAGENET).ok
