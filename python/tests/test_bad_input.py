"""Bad input from Python: a clear exception, never a crash, never garbage, never a partially
written in-place buffer."""

import numpy as np
import pytest

import imgcorrupt
from imgcorrupt import InvalidInputError

RNG = np.random.RandomState(1)
X = RNG.randint(0, 256, (40, 70, 3)).astype(np.uint8)

BAD_SINGLE = [
    ("float64", X.astype(np.float64), "uint8"),
    ("int16", X.astype(np.int16), "uint8"),
    ("bool", X > 100, "uint8"),
    ("list", X.tolist(), "ndarray"),
    ("0-size", np.zeros((0, 44, 3), np.uint8), None),
    ("4-D", X[None], "batch"),
    ("1-D", X.ravel(), None),
    ("5 channels", np.zeros((40, 44, 5), np.uint8), "channels"),
]


@pytest.mark.parametrize("label,image,fragment", BAD_SINGLE, ids=[b[0] for b in BAD_SINGLE])
@pytest.mark.parametrize("api", ["corrupt", "corrupt_image", "corrupt_inplace"])
def test_bad_images(api, label, image, fragment):
    with pytest.raises(InvalidInputError) as info:
        if api == "corrupt":
            imgcorrupt.corrupt(image, 2, "fog")
        else:
            getattr(imgcorrupt, api)(image, "fog", 2, seed=1)
    if fragment and not (api == "corrupt_inplace" and label == "list"):
        assert fragment in str(info.value) or label in ("4-D",) and api != "corrupt"


@pytest.mark.parametrize("severity", [0, 6, -1, float("nan"), 2.5, "3", None, [3]])
@pytest.mark.parametrize("api", ["corrupt", "corrupt_image"])
def test_bad_severities(api, severity):
    with pytest.raises(InvalidInputError, match="Severity"):
        if api == "corrupt":
            imgcorrupt.corrupt(X, severity, "fog")
        else:
            imgcorrupt.corrupt_image(X, "fog", severity, seed=1)


def test_float_severities_in_the_drop_in_are_the_references_type_error():
    # imagecorruptions 1.1.2 indexes its tables with severity - 1: 3.0 is a TypeError there
    # (checked in the pinned reference venv), for corrupt() and the raw functions alike.
    for s in (3.0, np.float64(3)):
        with pytest.raises(TypeError, match="list indices must be integers"):
            imgcorrupt.corrupt(X, s, "contrast")
        with pytest.raises(TypeError, match="list indices must be integers"):
            imgcorrupt.corruption_dict["contrast"](X, s)
    out = imgcorrupt.corrupt(X, True, "contrast")  # bool is an int, as in the reference
    assert out.shape == X.shape


def test_integral_severities_are_accepted_on_the_seeded_path():
    for s in (3, 3.0, np.int8(3), np.uint64(3)):
        out = imgcorrupt.corrupt_image(X, "contrast", s, seed=1)
        assert np.array_equal(out, imgcorrupt.corrupt_image(X, "contrast", 3, seed=1))


@pytest.mark.parametrize("name,hint", [("gausian_noise", "gaussian_noise"), ("Fog", "fog"), ("motionblur", "motion_blur")])
def test_unknown_names_suggest_the_closest(name, hint):
    for call in (
        lambda: imgcorrupt.corrupt(X, 1, name),
        lambda: imgcorrupt.corrupt_image(X, name, 1, seed=1),
    ):
        with pytest.raises(KeyError) as info:
            call()
        assert isinstance(info.value, ValueError)
        assert f"did you mean {hint!r}" in str(info.value)


def test_unknown_name_without_close_match():
    with pytest.raises(KeyError, match="unknown corruption 'zzzz'") as info:
        imgcorrupt.corrupt(X, 1, "zzzz")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize(
    "view", [X[:, ::2], X[::-1], X[:, :, ::-1], np.asfortranarray(X)], ids=["strided", "neg-rows", "neg-channels", "fortran"]
)
def test_non_contiguous_inputs_are_copied(view):
    """Non-contiguous and negative-stride arrays give the same result as their contiguous copy."""
    copy = np.ascontiguousarray(view)
    for a, b in (
        (imgcorrupt.corrupt(view, 3, "fog", seed=4), imgcorrupt.corrupt(copy, 3, "fog", seed=4)),
        (imgcorrupt.corrupt_image(view, "glass_blur", 2, seed=4), imgcorrupt.corrupt_image(copy, "glass_blur", 2, seed=4)),
    ):
        assert np.array_equal(a, b)
    np.random.seed(2)
    a = imgcorrupt.corrupt(view, 3, "spatter")
    np.random.seed(2)
    assert np.array_equal(a, imgcorrupt.corrupt(copy, 3, "spatter"))


def test_inplace_refuses_non_contiguous_and_read_only():
    y = X.copy()
    with pytest.raises(InvalidInputError, match="C-contiguous"):
        imgcorrupt.corrupt_inplace(y[::-1], "fog", 2, seed=1)
    with pytest.raises(InvalidInputError, match="C-contiguous"):
        imgcorrupt.corrupt_inplace(y[:, ::2], "fog", 2, seed=1)
    y.flags.writeable = False
    with pytest.raises(InvalidInputError, match="read-only"):
        imgcorrupt.corrupt_inplace(y, "fog", 2, seed=1)
    assert np.array_equal(y, X)


def test_inplace_never_partially_written(tmp_path):
    y = X.copy()
    with pytest.raises(OSError, match="frost1.png"):
        imgcorrupt.corrupt_inplace(y, "frost", 2, seed=1, frost_dir=tmp_path)
    with pytest.raises(ValueError):
        imgcorrupt.corrupt_inplace(y, "fog", 2, seed=1, preset=str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="stylize"):
        imgcorrupt.corrupt_inplace(y, "stylize", 2, seed=1)
    assert np.array_equal(y, X)


def test_bad_batches():
    with pytest.raises(InvalidInputError, match="corrupt_image"):
        imgcorrupt.corrupt_batch(X, "fog", 1, seed=1)
    with pytest.raises(InvalidInputError):
        imgcorrupt.corrupt_batch(np.zeros((0, 8, 8, 3), np.uint8), "fog", 1, seed=1)
    with pytest.raises(InvalidInputError):
        imgcorrupt.corrupt_batch(X[None].astype(np.float32), "fog", 1, seed=1)
    with pytest.raises(InvalidInputError, match="32-bit"):
        imgcorrupt.corrupt_batch(X[None].repeat(2, 0), "fog", 1, seed=2**32 - 1, rng="numpy")


def test_bad_options():
    with pytest.raises(ValueError, match="rng"):
        imgcorrupt.corrupt_image(X, "fog", 1, seed=1, rng=None)
    with pytest.raises(IndexError):
        imgcorrupt.corrupt_image(X, 19, 1, seed=1)
    with pytest.raises(InvalidInputError):
        imgcorrupt.corrupt_image(X, 1.0, 1, seed=1)
    with pytest.raises(ValueError, match="preset"):
        imgcorrupt.corrupt_image(X, "fog", 1, seed=1, preset="no-such-preset")
    with pytest.raises(OSError):
        imgcorrupt.read_image("/nonexistent/x.png")


def test_drop_in_checks_common_and_uncommon_arguments_alike():
    """The cheap common-case checks of `corrupt` (int severity and seed, a C-contiguous
    (H, W, 3) uint8 array) and the full ones agree: a bool, NumPy integers and a
    non-contiguous view give what the plain arguments give; a bool seed is refused."""
    want = imgcorrupt.corrupt(X, 1, "contrast", seed=5)
    assert np.array_equal(imgcorrupt.corrupt(X, True, "contrast", seed=5), want)
    assert np.array_equal(imgcorrupt.corrupt(X, np.int64(1), "contrast", seed=np.uint64(5)), want)
    view = np.ascontiguousarray(X[:, ::-1])[:, ::-1]
    assert not view.flags.c_contiguous
    assert np.array_equal(imgcorrupt.corrupt(view, 1, "contrast", seed=5), want)
    with pytest.raises(InvalidInputError, match="seed"):
        imgcorrupt.corrupt(X, 1, "contrast", seed=True)
    with pytest.raises(InvalidInputError, match="seed"):
        imgcorrupt.corrupt(X, 1, "contrast", seed=2**64)


def test_frost_dir_default_is_read_for_frost_only(monkeypatch):
    """IMGCORRUPT_FROST_DIR is frost's default and nothing else's: a missing folder there fails
    frost (naming the file) and leaves the other corruptions alone."""
    want = imgcorrupt.corrupt(X, 2, "fog", seed=3)
    monkeypatch.setenv("IMGCORRUPT_FROST_DIR", "/nonexistent-frost-dir")
    assert np.array_equal(imgcorrupt.corrupt(X, 2, "fog", seed=3), want)
    with pytest.raises(OSError, match="nonexistent-frost-dir"):
        imgcorrupt.corrupt(X, 2, "frost", seed=3)
