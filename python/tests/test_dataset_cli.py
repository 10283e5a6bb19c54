"""imgcorrupt.generate / verify over the Rust pipeline, and the wheel's `imgcorrupt` command."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import imgcorrupt
from conftest import REPO, wds_shards

IMAGENET = REPO / "fixtures" / "datasets" / "imagenet"


def _bytes_of(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file() and p.name != "manifest.jsonl"}


def test_generate_and_verify(tmp_path):
    s = imgcorrupt.generate(IMAGENET, tmp_path / "a", corruptions=["fog", "shot_noise"], severities=[1, 3], seed=3, threads=1)
    assert isinstance(s, imgcorrupt.GenerateSummary) and s.ok
    assert (s.dataset, s.images, s.written, s.failed) == ("imagenet", 4, 16, [])
    assert Path(s.manifest).is_file()
    out = tmp_path / "a" / "fog" / "3" / "n02123045" / "ILSVRC2012_val_00000003.JPEG"
    assert imgcorrupt.read_image(out).shape == (224, 224, 3)
    r = imgcorrupt.verify(tmp_path / "a", input=IMAGENET)
    assert r.ok and r.records == 16 and r.hashed_ok == 16 and r.regenerated == 16
    assert r.folders == r.folders_ok == 2 * 4
    # resuming skips what is there; threads do not change a byte
    again = imgcorrupt.generate(IMAGENET, tmp_path / "a", corruptions="fog,shot_noise", severities="1,3", seed=3)
    assert again.written == 0 and again.skipped == 16
    imgcorrupt.generate(IMAGENET, tmp_path / "b", corruptions=["fog", "shot_noise"], severities=[1, 3], seed=3, threads=2)
    assert _bytes_of(tmp_path / "a") == _bytes_of(tmp_path / "b")
    # a damaged output is found
    out.write_bytes(out.read_bytes()[:-10])
    bad = imgcorrupt.verify(tmp_path / "a")
    assert not bad.ok and len(bad.mismatched) == 1


def test_generate_errors(tmp_path):
    with pytest.raises(OSError):
        imgcorrupt.generate(tmp_path / "missing", tmp_path / "o")
    with pytest.raises(KeyError, match="did you mean `fog`"):
        imgcorrupt.generate(IMAGENET, tmp_path / "o", corruptions="fgo")
    with pytest.raises(ValueError, match="severit"):
        imgcorrupt.generate(IMAGENET, tmp_path / "o", severities="0-9")
    with pytest.raises(ValueError, match="no manifest"):
        imgcorrupt.verify(tmp_path / "nothing-here")


def _cli():
    exe = Path(sys.executable).parent / "imgcorrupt"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("imgcorrupt")
    if found and "site-packages" in imgcorrupt.__file__:
        return [found]
    return [sys.executable, "-m", "imgcorrupt._cli"]


def test_console_script(tmp_path):
    r = subprocess.run(_cli() + ["list"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.split()[0] == "gaussian_noise"
    src = REPO / "fixtures" / "photos" / "coffee_97x61.png"
    out = tmp_path / "o.png"
    r = subprocess.run(_cli() + ["corrupt", str(src), "-o", str(out), "-c", "fog", "-s", "3", "--seed", "4"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    expected = imgcorrupt.corrupt_image(imgcorrupt.read_image(src), "fog", 3, seed=4)
    assert np.array_equal(imgcorrupt.read_image(out), expected)
    r = subprocess.run(_cli() + ["corrupt", str(src), "-o", str(out), "-c", "fgo", "-s", "3"], capture_output=True, text=True)
    assert r.returncode == 1 and "did you mean `fog`" in r.stderr
    r = subprocess.run(_cli() + ["--version"], capture_output=True, text=True)
    assert r.returncode == 0 and imgcorrupt.__version__ in r.stdout
    r = subprocess.run(_cli() + ["no-such-command"], capture_output=True, text=True)
    assert r.returncode == 2 and "unrecognized subcommand" in r.stderr


@pytest.mark.skipif(os.environ.get("IMGCORRUPT_TEST_INSTALLED") != "1", reason="only for the installed wheel")
def test_wheel_installs_the_command():
    assert (Path(sys.executable).parent / "imgcorrupt").exists()


def test_generate_webdataset_shards(tmp_path):
    import tarfile

    inp = wds_shards(tmp_path / "in")
    s = imgcorrupt.generate(inp, tmp_path / "out", corruptions="contrast", severities=[2], threads=2)
    assert s.ok and s.dataset == "webdataset" and s.images == 4 and s.written == 2
    for shard in ["00000", "00001"]:
        a = tarfile.open(inp / f"{shard}.tar")
        b = tarfile.open(tmp_path / "out" / "contrast" / "2" / f"{shard}.tar")
        assert a.getnames() == b.getnames()
        for x, y in zip(a.getmembers(), b.getmembers()):
            same = a.extractfile(x).read() == b.extractfile(y).read()
            assert same == x.name.endswith(".cls"), x.name
    r = imgcorrupt.verify(tmp_path / "out", input=inp)
    assert r.ok and r.regenerated == 4
    # the same through a brace pattern, one thread: identical manifest
    s2 = imgcorrupt.generate(f"{inp}/{{00000..00001}}.tar", tmp_path / "out2", corruptions="contrast", severities=[2], threads=1)
    assert s2.ok
    assert (tmp_path / "out" / "manifest.jsonl").read_bytes() == (tmp_path / "out2" / "manifest.jsonl").read_bytes()
