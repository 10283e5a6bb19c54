"""Issue 16: continuous severity from Python (``imgcorrupt.corrupt_at`` and ``generate``
with fractional severities), with the drop-in ``corrupt`` keeping the reference's integer-only
severities."""

import json
import shutil

import numpy as np
import pytest

import imgcorrupt
from conftest import REPO


def _photo():
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:48, 0:64]
    base = np.stack([x * 3, y * 4, (x + y) * 2], axis=-1).astype(np.int64)
    return np.clip(base + rng.integers(0, 30, base.shape), 0, 255).astype(np.uint8)


def test_corrupt_at_interpolates_and_matches_integer_severities():
    img = _photo()
    # 0 is the clean image, an integer is corrupt_image at that severity
    assert np.array_equal(imgcorrupt.corrupt_at(img, "fog", 0, seed=1), img)
    for name in ("fog", "motion_blur", "gaussian_noise"):
        assert np.array_equal(
            imgcorrupt.corrupt_at(img, name, 3.0, seed=5), imgcorrupt.corrupt_image(img, name, 3, seed=5)
        )
    # gaussian_noise σ = 0.12 at 2, 0.18 at 3: 2.5 adds noise of σ ≈ 0.15
    grey = np.full((120, 120, 3), 128, np.uint8)
    out = imgcorrupt.corrupt_at(grey, "gaussian_noise", 2.5, seed=2)
    sigma = (out.astype(float) - grey).std() / 255
    assert abs(sigma - 0.15) < 0.01, sigma
    # the change grows with the severity (numpy mode: the same draws at every severity)
    mad = [
        np.abs(imgcorrupt.corrupt_at(img, "snow", s, seed=4, rng="numpy").astype(float) - img).mean()
        for s in (0.0, 0.5, 1.0, 2.5, 4.0)
    ]
    assert all(a < b for a, b in zip(mad, mad[1:])), mad


def test_corrupt_at_is_seeded_and_refuses_by_name():
    img = _photo()
    a = imgcorrupt.corrupt_at(img, "motion_blur", 1.7, seed=9)
    assert np.array_equal(a, imgcorrupt.corrupt_at(img, "motion_blur", 1.7, seed=9))
    assert not np.array_equal(a, imgcorrupt.corrupt_at(img, "motion_blur", 1.7, seed=10))
    with pytest.raises(ValueError, match="glass_blur does not interpolate"):
        imgcorrupt.corrupt_at(img, "glass_blur", 2.5, seed=1)
    for bad in (-0.5, 5.5, float("nan"), "2.5", None):
        with pytest.raises(imgcorrupt.InvalidInputError):
            imgcorrupt.corrupt_at(img, "fog", bad, seed=1)


def test_drop_in_corrupt_keeps_integer_severities():
    # imagecorruptions 1.1.2 refuses 2.5 ("Severity must be an integer in [1, 5]"): so does
    # the drop-in (continuous severities are corrupt_at's)
    img = _photo()
    for bad in (2.5, 0.5, 4.999):
        with pytest.raises(Exception, match="Severity must be an integer"):
            imgcorrupt.corrupt(img, severity=bad, corruption_name="gaussian_noise")


def test_generate_with_fractional_severities(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    photos = sorted((REPO / "fixtures" / "photos").glob("*.png"))[:3]
    for i, p in enumerate(photos):
        shutil.copy(p, src / f"img{i}.png")
    out = tmp_path / "out"
    imgcorrupt.generate(src, out, corruptions=["fog", "pixelate"], severities=[0.5, 2.5, 3], seed=1)
    assert (out / "fog" / "2.5" / "img0.png").is_file()
    assert (out / "pixelate" / "0.5" / "img2.png").is_file()
    lines = (out / "manifest.jsonl").read_text().splitlines()[1:]
    sev = {json.loads(line)["output"]: json.loads(line)["severity"] for line in lines}
    assert sev["fog/2.5/img0.png"] == 2.5 and sev["fog/3/img0.png"] == 3
    report = imgcorrupt.verify(out, input=src)
    assert report.ok


CIFAR = REPO / "fixtures" / "cifar"
IMAGENET = REPO / "fixtures" / "datasets" / "imagenet"


def test_generate_cifar_continuous_arrays(tmp_path):
    # a continuous severity gets its own array beside the level array, whatever the threads
    a = imgcorrupt.generate(CIFAR, tmp_path / "a", corruptions=["fog"], severities=[2, 2.5], seed=2, threads=1)
    imgcorrupt.generate(CIFAR, tmp_path / "b", corruptions=["fog"], severities=[2, 2.5], seed=2, threads=2)
    assert a.ok and a.dataset == "cifar"
    for f in ("labels.npy", "fog.npy", "fog_s2.5.npy"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    x = np.load(tmp_path / "a" / "fog_s2.5.npy")
    assert x.shape == (8, 32, 32, 3) and x.dtype == np.uint8
    assert not np.array_equal(x, np.load(tmp_path / "a" / "fog.npy"))
    m = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert m["continuous"] == [2.5] and m["severities"] == [2]
    assert imgcorrupt.verify(tmp_path / "a", input=CIFAR).ok


def test_generate_wds_continuous_and_stray_files(tmp_path):
    out = tmp_path / "w"
    s = imgcorrupt.generate(IMAGENET, out, corruptions="fog", severities=[2.5], extra_args=["--output-format", "wds"])
    assert s.ok
    assert (out / "fog" / "2.5" / "000000.tar").is_file()
    assert imgcorrupt.verify(out, input=IMAGENET).ok
    # verify looks inside continuous-severity and schedule cells for files it does not list
    folder = tmp_path / "f"
    imgcorrupt.generate(IMAGENET, folder, corruptions="fog", severities=[2.5])
    sched = tmp_path / "s"
    imgcorrupt.generate(IMAGENET, sched, corruptions="fog", severity_schedule="linear:0-3")
    (folder / "fog" / "2.5" / "stray.jpg").write_bytes(b"x")
    (sched / "fog" / "schedule" / "stray.jpg").write_bytes(b"x")
    r = imgcorrupt.verify(folder)
    assert not r.ok and r.extra == ["fog/2.5/stray.jpg"]
    r = imgcorrupt.verify(sched)
    assert not r.ok and r.extra == ["fog/schedule/stray.jpg"]
