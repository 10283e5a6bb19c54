"""Issue 16: the C-bar operators from Python (native API; the drop-in's names stay
imagecorruptions' 19)."""

import numpy as np
import pytest

import imgcorrupt


def test_c_bar_names_and_drop_in_unchanged():
    inet = imgcorrupt.c_bar_names("c-bar")
    cifar = imgcorrupt.c_bar_names("cifar-c-bar")
    assert len(inet) == 10 and len(cifar) == 10
    assert "caustic_refraction" in inet and "ripple" in cifar and "ripple" not in inet
    assert "sparkles" not in imgcorrupt.get_corruption_names("all")
    with pytest.raises(ValueError):
        imgcorrupt.c_bar_names("common")


def test_c_bar_corrupt_image_is_seeded_and_keeps_layout():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(40, 50, 4), dtype=np.uint8)
    for name in imgcorrupt.c_bar_names("c-bar") + ["ripple", "lines"]:
        a = imgcorrupt.corrupt_image(img, name, 3, seed=5, preset="c-bar")
        b = imgcorrupt.corrupt_image(img, name, 3, seed=5, preset="c-bar")
        c = imgcorrupt.corrupt_image(img, name, 3, seed=6, preset="c-bar")
        assert a.shape == img.shape and a.dtype == np.uint8
        assert np.array_equal(a, b), name
        assert not np.array_equal(a, c), name
        assert np.array_equal(a[..., 3], img[..., 3]), name
