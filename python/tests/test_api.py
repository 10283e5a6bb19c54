"""Names, subsets, signatures, shapes and errors as imagecorruptions 1.1.2 (its
``__init__.py``: the checks in this order, AttributeError for bad input, KeyError for
unknown names, IndexError for numbers out of range, ValueError for no corruption or an
unknown subset)."""

import inspect

import numpy as np
import pytest

import imgcorrupt
import imgcorrupt.compat as imagecorruptions
from conftest import NAMES
from imgcorrupt import CorruptionNameError, InvalidInputError

X = np.full((40, 48, 3), 128, np.uint8)


def test_names_and_subsets_are_the_references():
    assert imgcorrupt.get_corruption_names("all") == NAMES
    assert imgcorrupt.get_corruption_names() == NAMES[:15]
    assert imgcorrupt.get_corruption_names("common") == NAMES[:15]
    assert imgcorrupt.get_corruption_names("validation") == NAMES[15:]
    assert imgcorrupt.get_corruption_names("noise") == ["gaussian_noise", "shot_noise", "impulse_noise"]
    assert imgcorrupt.get_corruption_names("blur") == NAMES[3:7]
    assert imgcorrupt.get_corruption_names("weather") == ["snow", "frost", "fog", "brightness"]
    assert imgcorrupt.get_corruption_names("digital") == NAMES[11:15]
    for bad in ("Common", "stylization", None, 3, ["all"]):
        with pytest.raises(ValueError, match=r"subset must be one of \['common', 'validation', 'all'\]"):
            imgcorrupt.get_corruption_names(bad)
    # a fresh list each time (callers mutate it)
    imgcorrupt.get_corruption_names("all").append("x")
    assert len(imgcorrupt.get_corruption_names("all")) == 19


def test_tuple_and_dict():
    assert [f.__name__ for f in imgcorrupt.corruption_tuple] == NAMES
    assert list(imgcorrupt.corruption_dict) == NAMES
    assert imgcorrupt.corruption_dict["fog"] is imgcorrupt.corruption_tuple[9]
    # the raw functions: float64 out, the global generator as the reference
    np.random.seed(4)
    raw = imgcorrupt.corruption_dict["shot_noise"](X, 2)
    np.random.seed(4)
    assert raw.dtype == np.float64 and np.array_equal(raw, imgcorrupt.corrupt(X, 2, "shot_noise"))


def test_signature_and_positional_order():
    params = list(inspect.signature(imgcorrupt.corrupt).parameters.values())
    assert [(p.name, p.default) for p in params[:4]] == [
        ("image", inspect.Parameter.empty),
        ("severity", 1),
        ("corruption_name", None),
        ("corruption_number", -1),
    ]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[4:])
    a = imgcorrupt.corrupt(X, 3, "contrast")
    assert np.array_equal(a, imgcorrupt.corrupt(X, 3, None, 11))
    assert np.array_equal(a, imgcorrupt.corrupt(image=X, corruption_number=11, severity=3))
    # severity defaults to 1
    assert np.array_equal(imgcorrupt.corrupt(X, corruption_name="contrast"), imgcorrupt.corrupt(X, 1, "contrast"))


@pytest.mark.parametrize(
    "shape", [(40, 48), (40, 48, 1), (40, 48, 3)], ids=["HW", "HW1", "HW3"]
)
def test_shapes_as_the_reference(shape):
    """(H, W) and (H, W, 1) come back (H, W, 3): greyscale replicated, then corrupted as RGB."""
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, size=shape).astype(np.uint8)
    np.random.seed(8)
    out = imgcorrupt.corrupt(x, 2, "gaussian_noise")
    assert out.shape == (40, 48, 3) and out.dtype == np.uint8
    rgb = x if x.ndim == 3 and x.shape[2] == 3 else np.stack((x.reshape(40, 48),) * 3, axis=-1)
    np.random.seed(8)
    assert np.array_equal(out, imgcorrupt.corrupt(rgb, 2, "gaussian_noise"))
    assert not np.array_equal(out[..., 0], out[..., 1])  # independent noise per channel


def test_input_not_modified_and_output_is_new():
    x = X.copy()
    out = imgcorrupt.corrupt(x, 5, "spatter")
    assert np.array_equal(x, X) and not np.shares_memory(out, x)


ERRORS = [
    # (call, exception types it must be, message fragment)
    (lambda: imgcorrupt.corrupt([[1]], 1, "fog"), (AttributeError, ValueError), "numpy.ndarray"),
    (lambda: imgcorrupt.corrupt(X.astype(np.float64), 1, "fog"), (AttributeError, ValueError), "uint8"),
    (lambda: imgcorrupt.corrupt(X[0, :, 0], 1, "fog"), (AttributeError,), "height x width"),
    (lambda: imgcorrupt.corrupt(X[:31], 1, "fog"), (AttributeError,), "at least 32 pixels"),
    (lambda: imgcorrupt.corrupt(np.zeros((40, 40, 4), np.uint8), 1, "fog"), (AttributeError,), "1 or 3 channels"),
    (lambda: imgcorrupt.corrupt(X, 0, "fog"), (AttributeError, ValueError), "Severity must be an integer in [1, 5]"),
    (lambda: imgcorrupt.corrupt(X, 6, "fog"), (AttributeError,), "Severity"),
    (lambda: imgcorrupt.corrupt(X, 2.5, "fog"), (AttributeError,), "Severity"),
    (lambda: imgcorrupt.corrupt(X, 1, "fgo"), (KeyError, ValueError), "did you mean 'fog'"),
    (lambda: imgcorrupt.corrupt(X, 1, None, 19), (IndexError,), "out of range"),
    (lambda: imgcorrupt.corrupt(X, 1), (ValueError,), "Either corruption_name or corruption_number must be passed"),
]


@pytest.mark.parametrize("call,types,fragment", ERRORS)
def test_errors_as_the_reference(call, types, fragment):
    with pytest.raises(types) as info:
        call()
    assert all(isinstance(info.value, t) for t in types)
    assert fragment in str(info.value)


def test_check_order_is_the_references():
    """Image checks come before the severity check, which comes before the name lookup."""
    with pytest.raises(AttributeError, match="uint8"):
        imgcorrupt.corrupt(X.astype(np.int16), 9, "nope")
    with pytest.raises(AttributeError, match="Severity"):
        imgcorrupt.corrupt(X, 9, "nope")


def test_numbers_index_like_the_reference():
    """corruption_number indexes corruption_tuple: negatives other than -1 count from the end."""
    for number, name in ((-2, "spatter"), (np.int64(18), "saturate"), (0, "gaussian_noise")):
        np.random.seed(5)
        a = imgcorrupt.corrupt(X, 2, None, number)
        np.random.seed(5)
        assert np.array_equal(a, imgcorrupt.corrupt(X, 2, name)), name


def test_compat_module_stands_in():
    assert imagecorruptions.get_corruption_names("all") == NAMES
    np.random.seed(2)
    a = imagecorruptions.corrupt(X, corruption_name="impulse_noise", severity=2)
    np.random.seed(2)
    assert np.array_equal(a, imgcorrupt.corrupt(X, 2, "impulse_noise"))
    assert imagecorruptions.corruptions.fog is imgcorrupt.corruption_dict["fog"]


def test_compat_install_registers_the_name(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "imagecorruptions", raising=False)
    monkeypatch.delitem(sys.modules, "imagecorruptions.corruptions", raising=False)
    imagecorruptions.install()
    import imagecorruptions as ic  # noqa: F811  (the shim)
    from imagecorruptions import corrupt, get_corruption_names  # mmdetection's import
    from imagecorruptions.corruptions import gaussian_noise  # imgaug's

    assert ic is imagecorruptions and corrupt is imgcorrupt.corrupt
    assert get_corruption_names("validation") == NAMES[15:]
    np.random.seed(1)
    out = gaussian_noise(X, 1)
    assert out.shape == (40, 48, 3) and out.dtype == np.float64
    # refuses to shadow something else unless forced
    monkeypatch.setitem(sys.modules, "imagecorruptions", object())
    with pytest.raises(RuntimeError):
        imagecorruptions.install()
    assert imagecorruptions.install(force=True) is imagecorruptions


def test_mmdetection_style_call():
    """mmdetection's Corrupt: corrupt(img.astype(np.uint8), corruption_name=..., severity=...)."""
    img = np.random.RandomState(3).randint(0, 256, (64, 80, 3)).astype(np.uint8)
    for name in NAMES:
        out = imagecorruptions.corrupt(img.astype(np.uint8), corruption_name=name, severity=3)
        assert out.shape == img.shape and out.dtype == np.uint8


def test_seed_and_rng_keywords():
    a = imgcorrupt.corrupt(X, 3, "shot_noise", seed=7)
    assert np.array_equal(a, imgcorrupt.corrupt(X, 3, "shot_noise", seed=7, rng="fast"))
    assert not np.array_equal(a, imgcorrupt.corrupt(X, 3, "shot_noise", seed=8))
    np.random.seed(7)
    ref = imgcorrupt.corrupt(X, 3, "shot_noise")
    assert np.array_equal(ref, imgcorrupt.corrupt(X, 3, "shot_noise", seed=7, rng="numpy"))
    with pytest.raises(ValueError, match="32-bit"):
        imgcorrupt.corrupt(X, 3, "shot_noise", seed=2**32, rng="numpy")
    with pytest.raises(ValueError, match="rng"):
        imgcorrupt.corrupt(X, 3, "shot_noise", rng="mt")
    for bad in (-1, 2**64, 1.5, "3", True):
        with pytest.raises(ValueError, match="seed"):
            imgcorrupt.corrupt(X, 3, "shot_noise", seed=bad)


def test_stubs_and_docstrings_cover_the_public_api():
    """py.typed and .pyi stubs ship with the package, name every public object, and every
    public function has a docstring (what help() shows)."""
    import ast
    from pathlib import Path

    pkg = Path(imgcorrupt.__file__).parent
    assert (pkg / "py.typed").exists()
    stub = ast.parse((pkg / "__init__.pyi").read_text())
    stubbed = set()
    for node in ast.walk(stub):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            stubbed.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            stubbed.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            stubbed.update(a.asname or a.name for a in node.names)
    assert set(imgcorrupt.__all__) <= stubbed, set(imgcorrupt.__all__) - stubbed
    core = ast.parse((pkg / "_imgcorrupt.pyi").read_text())
    core_names = {n.name for n in ast.walk(core) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert {n for n in dir(imgcorrupt._imgcorrupt) if not n.startswith("_")} <= core_names
    for name in imgcorrupt.__all__:
        obj = getattr(imgcorrupt, name)
        if callable(obj):
            assert obj.__doc__ and len(obj.__doc__) > 40, name


def test_raw_functions_take_any_size_and_pil_like_input():
    """imgaug's imgcorruptlike calls the raw functions directly, on any size."""
    small = np.random.RandomState(0).randint(0, 256, (12, 20)).astype(np.uint8)
    np.random.seed(3)
    out = imgcorrupt.corruption_dict["gaussian_noise"](small, 2)
    assert out.shape == (12, 20, 3) and out.dtype == np.float64
    np.random.seed(3)
    again = imgcorrupt.corruption_dict["gaussian_noise"](small.astype(np.float64), 2)
    assert np.array_equal(out, again)
    with pytest.raises(ValueError):
        imgcorrupt.corruption_dict["fog"](np.zeros((4, 4, 4), np.uint8), 1)


def test_seeded_one_step_call_matches_the_full_path():
    """`corrupt(..., seed=)` and `corrupt_image(..., seed=)` take the core's one-step call in
    the common case; it must give the full path's bytes, and decline (None) everything the
    full path checks or converts, so that those errors and copies stay the full path's."""
    core = imgcorrupt._imgcorrupt
    rgb = np.random.default_rng(3).integers(0, 256, (40, 36, 3), dtype=np.uint8)
    names = [n for n, *_ in core.catalogue()]
    for name in ("fog", "contrast", "defocus_blur", "frost", "gaussian_noise"):
        i = names.index(name)
        assert core.corrupt_seeded(rgb, i, 2, 9, True) is not None
        frost_dir = imgcorrupt._dropin._default_frost_dir() if name == "frost" else None
        full = core.corrupt_named(rgb, name, 2, 9, "fast", None, frost_dir)
        assert np.array_equal(imgcorrupt.corrupt(rgb, 2, name, seed=9), full)
    grey = rgb[..., 0].copy()
    rgba = np.random.default_rng(4).integers(0, 256, (5, 7, 4), dtype=np.uint8)
    for image in (grey, rgba, rgb[:3, :2].copy()):
        assert np.array_equal(
            imgcorrupt.corrupt_image(image, "fog", 4, seed=1), core.corrupt_named(image, "fog", 4, 1, "fast")
        )
    fog = names.index("fog")
    declined = [
        (np.asfortranarray(rgb), 1, 0, True),  # Fortran order: the full path copies
        (rgb[:, ::2], 1, 0, True),  # strided
        (rgb[:31], 1, 0, True),  # under the drop-in's 32 pixels
        (grey, 1, 0, True),  # greyscale: the drop-in replicates it
        (rgba, 1, 0, True),
        (rgb.astype(np.uint16), 1, 0, False),
        (rgb[None], 1, 0, False),  # 4-D
        (np.zeros((0, 4, 3), np.uint8), 1, 0, False),  # empty
        (np.zeros((4, 4, 5), np.uint8), 1, 0, False),  # 5 channels
        (rgb.tolist(), 1, 0, False),  # not an array
        (rgb, 0, 0, True),
        (rgb, 6, 0, False),
        (rgb, 2**70, 0, True),
        (rgb, 1, -1, True),
        (rgb, 1, 2**64, False),
    ]
    for image, severity, seed, dropin in declined:
        assert core.corrupt_seeded(image, fog, severity, seed, dropin) is None


def test_native_corrupt_keeps_the_python_function_semantics():
    """`corrupt` is one native function (python/src/dropin.rs) whose common seeded case runs
    without a Python frame. It must still behave as the `def` it replaced: an explicit None is
    not a missing argument, the options stay keyword-only, unknown keywords are refused, it
    pickles by name (DataLoader workers started with spawn), and every call outside the
    common case reaches the full path with the arguments as given."""
    import pickle

    corrupt = imgcorrupt.corrupt
    assert imagecorruptions.corrupt is corrupt
    assert pickle.loads(pickle.dumps(corrupt)) is corrupt
    with pytest.raises(TypeError):
        corrupt(X, 1, "fog", -1, 5)  # seed is keyword-only
    with pytest.raises(TypeError):
        corrupt(X, 1, "fog", seed=5, colour=1)
    with pytest.raises(InvalidInputError, match="Severity"):
        corrupt(X, None, "fog", seed=5)  # explicit None, not the default 1
    with pytest.raises(InvalidInputError, match="corruption_number"):
        corrupt(X, 1, None, None, seed=5)  # explicit None, not the default -1
    want = corrupt(X, 2, "fog", seed=4)
    assert np.array_equal(want, corrupt(X, 2, "fog", -1, seed=4, rng="fast", preset=None, frost_dir=None))

    class Name(str):
        pass

    fog = imgcorrupt.get_corruption_names("all").index("fog")
    for other in (
        dict(corruption_name=Name("fog"), seed=4),  # a str subclass
        dict(corruption_number=fog, seed=4),
        dict(corruption_name="fog", seed=np.uint64(4)),
        dict(corruption_name="fog", seed=4, rng=Name("fast")),
        dict(corruption_name="fog", seed=4, preset="imagecorruptions"),  # the default preset
    ):
        assert np.array_equal(corrupt(X, 2, **other), want), other
    # a drop-in name only: the other operators stay unknown to the drop-in
    with pytest.raises(CorruptionNameError, match="stylize"):
        corrupt(X, 2, "stylize", seed=4)


def test_frost_folder_default_reaches_the_native_call(tmp_path, monkeypatch):
    """set_frost_dir and IMGCORRUPT_FROST_DIR are read by the native seeded call on every
    frost call (and by no other corruption): a missing folder fails frost naming it, and
    clearing the default goes back to procedural textures."""
    monkeypatch.delenv("IMGCORRUPT_FROST_DIR", raising=False)
    procedural = imgcorrupt.corrupt(X, 2, "frost", seed=3)
    fog = imgcorrupt.corrupt(X, 2, "fog", seed=3)
    for use in ("set_frost_dir", "environment"):
        missing = tmp_path / f"no-frost-{use}"
        if use == "set_frost_dir":
            imgcorrupt.set_frost_dir(missing)
        else:
            monkeypatch.setenv("IMGCORRUPT_FROST_DIR", str(missing))
        assert imgcorrupt._dropin._default_frost_dir() == str(missing)
        with pytest.raises(OSError, match=f"no-frost-{use}"):
            imgcorrupt.corrupt(X, 2, "frost", seed=3)
        assert np.array_equal(imgcorrupt.corrupt(X, 2, "fog", seed=3), fog)
        imgcorrupt.set_frost_dir(None)
        monkeypatch.delenv("IMGCORRUPT_FROST_DIR", raising=False)
        assert np.array_equal(imgcorrupt.corrupt(X, 2, "frost", seed=3), procedural)


def test_time_library_call_runs_the_seeded_library_call():
    """The benchmark's Rust side (scripts/bench_side_by_side.py, Python / Rust): it must run
    the corruption the Python call runs (an unknown number or a bad image is refused, not
    timed as a no-op), and take time that grows with the work."""
    core = imgcorrupt._imgcorrupt
    names = [n for n, *_ in core.catalogue()]
    small = np.random.default_rng(5).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    large = np.random.default_rng(6).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    glass = names.index("glass_blur")
    t_small = min(core.time_library_call(small, glass, 5, k) for k in range(3))
    t_large = min(core.time_library_call(large, glass, 5, k) for k in range(3))
    assert 0 < t_small < t_large
    with pytest.raises(ValueError):
        core.time_library_call(small, len(names) + 5, 1, 0)
    for bad in (small[..., 0].copy(), small[:, ::2], np.zeros((32, 32, 4), np.uint8)):
        with pytest.raises(ValueError):
            core.time_library_call(bad, glass, 1, 0)
    with pytest.raises(ValueError):
        core.time_library_call(np.zeros((0, 32, 3), np.uint8), glass, 1, 0)
