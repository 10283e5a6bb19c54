"""CIFAR-10-C from Python: ``imgcorrupt.generate`` on a CIFAR input (the release arrays),
``imgcorrupt.verify`` on the result, and, where robustbench is installed, its own loader
``robustbench.data.load_cifar10c`` reading the output (skipped otherwise)."""

from pathlib import Path

import numpy as np
import pytest

import imgcorrupt
from conftest import npy_pair

REPO = Path(__file__).resolve().parents[2]
CIFAR = REPO / "fixtures" / "cifar"


def test_generate_cifar_release_arrays(tmp_path):
    s = imgcorrupt.generate(CIFAR, tmp_path / "c", corruptions=["contrast", "gaussian_noise"], seed=2, threads=1)
    assert s.ok and s.dataset == "cifar" and (s.images, s.written, s.skipped) == (8, 2, 0)
    assert Path(s.manifest).name == "manifest.json" and s.manifest_records == 3
    arr = np.load(tmp_path / "c" / "contrast.npy")
    labels = np.load(tmp_path / "c" / "labels.npy")
    assert arr.shape == (40, 32, 32, 3) and arr.dtype == np.uint8
    assert labels.shape == (40,) and (labels[:8] == labels[32:]).all()
    # contrast is deterministic: row r of severity s is corrupt(image r, s)
    r = imgcorrupt.verify(tmp_path / "c", input=CIFAR)
    assert r.ok and r.records == 3 and r.hashed_ok == 3 and r.regenerated == 80
    again = imgcorrupt.generate(CIFAR, tmp_path / "c", corruptions="contrast,gaussian_noise", seed=2)
    assert (again.written, again.skipped) == (0, 2)
    # shards from Python: the last one merges; same arrays as the single run
    for k in (0, 1):
        p = imgcorrupt.generate(CIFAR, tmp_path / "d", corruptions=["contrast", "gaussian_noise"], seed=2, shard=f"{k}/2")
    assert p.manifest_records == 3
    for f in ("contrast.npy", "gaussian_noise.npy", "labels.npy"):
        assert (tmp_path / "c" / f).read_bytes() == (tmp_path / "d" / f).read_bytes(), f


def test_robustbench_loads_the_output(tmp_path):
    data = pytest.importorskip("robustbench.data")
    # robustbench slices severity s as rows [(s-1)*10000, s*10000): a full-size test set
    images, labels = npy_pair(tmp_path / "src", 10000)
    out = tmp_path / "data" / "CIFAR-10-C"
    s = imgcorrupt.generate(tmp_path / "src", out, corruptions=["contrast", "gaussian_noise"], dataset="cifar", seed=9)
    assert s.ok
    for name in ("contrast", "gaussian_noise"):
        ours = np.load(out / (name + ".npy"))
        for sev in (1, 3, 5):
            x, y = data.load_cifar10c(n_examples=64, severity=sev, data_dir=str(tmp_path / "data"), corruptions=[name])
            assert tuple(x.shape) == (64, 3, 32, 32) and tuple(y.shape) == (64,)
            want = ours[(sev - 1) * 10000:(sev - 1) * 10000 + 64].transpose(0, 3, 1, 2).astype(np.float32) / 255
            assert np.array_equal(x.numpy(), want), (name, sev)
            assert np.array_equal(y.numpy(), labels[:64]), (name, sev)
    # contrast has no randomness: severity 3 rows are the drop-in's corrupt() of the sources
    x, _ = data.load_cifar10c(n_examples=16, severity=3, data_dir=str(tmp_path / "data"), corruptions=["contrast"])
    want = np.stack([imgcorrupt.corrupt(im, 3, "contrast", preset="cifar-10-c") for im in images[:16]])
    got = np.rint(x.numpy().transpose(0, 2, 3, 1) * 255).astype(np.uint8)
    assert np.array_equal(got, want)
