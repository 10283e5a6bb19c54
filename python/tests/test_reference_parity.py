"""numpy mode and the global-RNG drop-in path against the committed outputs of
imagecorruptions 1.1.2, all 19 corruptions x 5 severities x 4 photos.

Tolerance as tests/reference_parity.rs: within ±1 grey level on at least 99.9 % of values
(most corruptions are byte-identical; a few reproduce SciPy/OpenCV float arithmetic to ±1).
frost needs the reference's photographs (IMGCORRUPT_FROST_DIR); without them frost is
procedural, not the reference's pixels, and only the severity curve is checked.
"""

import numpy as np
import pytest

import imgcorrupt
from conftest import NAMES, agreement, entries, frost_dir, photo, reference

WITHIN, FRACTION = 1, 0.999


def _frost_kwargs(name):
    if name != "frost":
        return {}
    d = frost_dir()
    if d is None:
        pytest.skip("frost parity needs the reference's frost photographs: set IMGCORRUPT_FROST_DIR")
    return {"frost_dir": d}


@pytest.mark.parametrize("name", NAMES)
def test_numpy_mode_seeded(name):
    kw = _frost_kwargs(name)
    report = []
    for e in entries(name):
        before = np.random.get_state()[1].copy()
        out = imgcorrupt.corrupt(photo(e["photo"]), e["severity"], name, seed=e["seed"], rng="numpy", **kw)
        frac, maxdiff = agreement(out, reference(e), WITHIN)
        report.append((e["file"], frac, maxdiff))
        # an explicit seed never touches the global generator
        assert np.array_equal(np.random.get_state()[1], before)
    bad = [r for r in report if r[1] < FRACTION]
    assert not bad, f"{name}: below {FRACTION:.1%} within ±{WITHIN}: {bad}"
    assert len(report) == 20


@pytest.mark.parametrize("name", NAMES)
def test_global_rng_path(name):
    """np.random.seed(s); corrupt(x, severity, name) as in the reference's user code."""
    kw = _frost_kwargs(name)
    if kw:
        imgcorrupt.set_frost_dir(kw["frost_dir"])
    for e in entries(name):
        np.random.seed(e["seed"])
        out = imgcorrupt.corrupt(photo(e["photo"]), severity=e["severity"], corruption_name=name)
        frac, maxdiff = agreement(out, reference(e), WITHIN)
        assert frac >= FRACTION, f"{e['file']}: {frac:.5f} within ±{WITHIN}, max {maxdiff}"
        # the same call by number
        np.random.seed(e["seed"])
        by_number = imgcorrupt.corrupt(photo(e["photo"]), e["severity"], corruption_number=NAMES.index(name))
        assert np.array_equal(by_number, out)


def test_byte_identical_where_the_rust_tests_say_so():
    """The draw-heavy noise corruptions are byte-identical, not just within ±1."""
    for name in ("gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise"):
        for e in entries(name):
            np.random.seed(e["seed"])
            out = imgcorrupt.corrupt(photo(e["photo"]), e["severity"], name)
            assert np.array_equal(out, reference(e)), e["file"]


def test_procedural_frost_severity_curve():
    """Without the photographs frost is procedural: mean PSNR per severity within 1.5 dB of
    the reference's (the Rust test's bound)."""
    for s in range(1, 6):
        ours, theirs = [], []
        for e in entries("frost"):
            if e["severity"] != s:
                continue
            clean = photo(e["photo"])
            np.random.seed(e["seed"])
            out = imgcorrupt.corrupt(clean, s, "frost")
            mse = np.mean((out.astype(np.float64) - clean) ** 2)
            ours.append(10 * np.log10(255.0**2 / mse))
            theirs.append(e["psnr_vs_clean"])
        assert abs(np.mean(ours) - np.mean(theirs)) <= 1.5, (s, ours, theirs)
