"""The native API: layouts, sizes, batches, in place, presets, the GIL."""

import threading

import numpy as np
import pytest

import imgcorrupt
from conftest import NAMES, REPO, photo

RNG = np.random.RandomState(7)


def test_grey_stays_grey_and_alpha_is_kept():
    rgb = photo("coffee_97x61")
    grey = rgb[..., 1].copy()
    for name in NAMES:
        g = imgcorrupt.corrupt_image(grey, name, 3, seed=2)
        assert g.shape == grey.shape and g.dtype == np.uint8
        g1 = imgcorrupt.corrupt_image(grey[..., None], name, 3, seed=2)
        assert np.array_equal(g1[..., 0], g)
        alpha = RNG.randint(0, 256, grey.shape).astype(np.uint8)
        rgba = imgcorrupt.corrupt_image(np.dstack([rgb, alpha]), name, 3, seed=2)
        assert np.array_equal(rgba[..., 3], alpha)
        assert np.array_equal(rgba[..., :3], imgcorrupt.corrupt_image(rgb, name, 3, seed=2))
        ga = imgcorrupt.corrupt_image(np.dstack([grey, alpha]), name, 3, seed=2)
        assert np.array_equal(ga[..., 1], alpha) and np.array_equal(ga[..., 0], g)


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 7), (5, 1, 4), (31, 2, 3)])
def test_any_size(shape):
    x = RNG.randint(0, 256, shape).astype(np.uint8)
    for name in NAMES:
        for s in (1, 5):
            out = imgcorrupt.corrupt_image(x, name, s, seed=3)
            assert out.shape == x.shape


def test_pure_function_of_the_seed():
    x = photo("fruits_160x120")
    for name in NAMES:
        a = imgcorrupt.corrupt_image(x, name, 4, seed=11)
        assert np.array_equal(a, imgcorrupt.corrupt_image(x, name, 4, seed=11)), name
    assert not np.array_equal(
        imgcorrupt.corrupt_image(x, "gaussian_noise", 4, seed=11),
        imgcorrupt.corrupt_image(x, "gaussian_noise", 4, seed=12),
    )
    # numpy mode with a seed is the global path after np.random.seed
    np.random.seed(11)
    ref = imgcorrupt.corrupt(x, 4, "elastic_transform")
    assert np.array_equal(ref, imgcorrupt.corrupt_image(x, "elastic_transform", 4, seed=11, rng="numpy"))


def test_batch_equals_single_calls():
    xs = RNG.randint(0, 256, (5, 33, 35, 3)).astype(np.uint8)
    for name in ("shot_noise", "glass_blur", "fog", "jpeg_compression"):
        for rng in ("fast", "numpy"):
            out = imgcorrupt.corrupt_batch(xs, name, 2, seed=100, rng=rng)
            assert out.shape == xs.shape
            for i in range(len(xs)):
                single = imgcorrupt.corrupt_image(xs[i], name, 2, seed=100 + i, rng=rng)
                assert np.array_equal(out[i], single), (name, rng, i)
    grey = xs[..., 0]
    out = imgcorrupt.corrupt_batch(grey, "snow", 3, seed=1)
    assert out.shape == grey.shape
    assert np.array_equal(out[2], imgcorrupt.corrupt_image(grey[2], "snow", 3, seed=3))


def test_inplace_equals_corrupt_image():
    for layout in ((40, 41), (40, 41, 3), (40, 41, 4)):
        x = RNG.randint(0, 256, layout).astype(np.uint8)
        expected = imgcorrupt.corrupt_image(x, "zoom_blur", 2, seed=5)
        y = x.copy()
        assert imgcorrupt.corrupt_inplace(y, "zoom_blur", 2, seed=5) is None
        assert np.array_equal(y, expected)


def test_presets_by_name_and_path():
    x = photo("coffee_97x61")
    default = imgcorrupt.corrupt_image(x, "contrast", 3, seed=1)
    assert np.array_equal(default, imgcorrupt.corrupt_image(x, "contrast", 3, seed=1, preset="imagecorruptions"))
    toml = REPO / "corruptions" / "imagecorruptions.toml"
    assert np.array_equal(default, imgcorrupt.corrupt_image(x, "contrast", 3, seed=1, preset=str(toml)))


def test_read_image_layouts():
    rgb = imgcorrupt.read_image(REPO / "fixtures" / "photos" / "coffee_97x61.png")
    assert rgb.shape == (61, 97, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    odd = REPO / "fixtures" / "datasets" / "odd"
    assert imgcorrupt.read_image(odd / "grey16.png").ndim == 2
    assert imgcorrupt.read_image(odd / "grey_alpha.png").shape[2] == 2


def test_gil_is_released_during_work():
    """While a long corruption runs in another thread, this thread keeps running Python."""
    big = RNG.randint(0, 256, (768, 768, 3)).astype(np.uint8)
    done = threading.Event()
    ticks_during = []

    def work():
        imgcorrupt.corrupt_image(big, "glass_blur", 5, seed=1, rng="numpy")
        done.set()

    t = threading.Thread(target=work)
    ticks = 0
    t.start()
    while not done.is_set():
        ticks += 1
        if ticks == 1000:
            ticks_during.append(not done.is_set())
    t.join()
    assert ticks_during == [True], "the main thread could not run while Rust worked"


def test_threads_give_the_same_results():
    x = photo("china_120x160")
    expected = [imgcorrupt.corrupt_image(x, n, 3, seed=9) for n in NAMES]
    results = {}

    def run(k):
        results[k] = [imgcorrupt.corrupt_image(x, n, 3, seed=9) for n in NAMES]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        assert all(np.array_equal(a, b) for a, b in zip(results[k], expected))


def test_stylize_with_a_style_folder():
    styles = REPO / "fixtures" / "styles"
    x = photo("coffee_97x61")
    out = imgcorrupt.corrupt_image(x, "stylize", 5, seed=1, styles=styles)
    assert out.shape == x.shape and not np.array_equal(out, x)
    assert np.array_equal(out, imgcorrupt.corrupt_image(x, "stylize", 5, seed=1, styles=styles))
    one = imgcorrupt.corrupt_image(x, "stylize", 5, seed=1, styles=styles / "flower_180x120.png")
    assert one.shape == x.shape
    rgba = np.dstack([x, np.full(x.shape[:2], 77, np.uint8)])
    assert (imgcorrupt.corrupt_image(rgba, "stylize", 3, seed=2, styles=styles)[..., 3] == 77).all()
    with pytest.raises(ValueError, match="style"):
        imgcorrupt.corrupt_image(x, "stylize", 5, seed=1)
    with pytest.raises(OSError, match="no-such-folder"):
        imgcorrupt.corrupt_image(x, "stylize", 5, seed=1, styles=REPO / "no-such-folder")
