"""``generate(..., severity_schedule=...)`` from Python on the layouts added for issue 16:
CIFAR arrays (``<corruption>.npy`` in source order at the scheduled severities, with
``severities.npy`` and ``labels.npy``) and webdataset input (severities by stream position)."""

import json
import tarfile
from pathlib import Path

import numpy as np

import imgcorrupt
from conftest import npy_pair, wds_shards


def test_cifar_schedule_arrays(tmp_path):
    images, labels = npy_pair(tmp_path / "src", 8)
    kw = dict(corruptions=["fog", "contrast"], dataset="cifar", seed=3, severity_schedule="linear:0-5")
    a = imgcorrupt.generate(tmp_path / "src", tmp_path / "a", threads=1, **kw)
    b = imgcorrupt.generate(tmp_path / "src", tmp_path / "b", threads=2, **kw)
    for k in (1, 0):
        c = imgcorrupt.generate(tmp_path / "src", tmp_path / "c", shard=f"{k}/2", **kw)
    assert a.ok and b.ok and c.ok and c.manifest_records == 4
    for f in ("fog.npy", "contrast.npy", "labels.npy", "severities.npy"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() == (tmp_path / "c" / f).read_bytes(), f
    sev = np.load(tmp_path / "a" / "severities.npy")
    assert sev.dtype == np.float32 and sev.shape == (8,)
    assert np.array_equal(sev, (np.round(np.arange(8) * 5 / 7 * 1000) / 1000).astype(np.float32))
    assert np.array_equal(np.load(tmp_path / "a" / "labels.npy"), labels)
    fog = np.load(tmp_path / "a" / "fog.npy")
    assert fog.shape == (8, 32, 32, 3) and fog.dtype == np.uint8
    assert np.array_equal(fog[0], images[0])  # severity 0: the identity
    assert not np.array_equal(fog[7], images[7])
    m = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert m["schedule"] == "linear:0-5" and m["severities"] == []
    # verify regenerates every row and catches a changed one
    r = imgcorrupt.verify(tmp_path / "a", input=tmp_path / "src")
    assert r.ok and r.regenerated == 16
    raw = bytearray((tmp_path / "c" / "contrast.npy").read_bytes())
    raw[-5] ^= 0x11
    (tmp_path / "c" / "contrast.npy").write_bytes(bytes(raw))
    r = imgcorrupt.verify(tmp_path / "c", input=tmp_path / "src")
    assert not r.ok and any("contrast.npy row 7" in x for x in r.regenerated_mismatch)
    # a constant schedule at 3 is the -s 3 array
    knots = tmp_path / "k.txt"
    knots.write_text("0 3\n")
    imgcorrupt.generate(tmp_path / "src", tmp_path / "k", corruptions="contrast", dataset="cifar", seed=3, severity_schedule=f"knots:{knots}")
    imgcorrupt.generate(tmp_path / "src", tmp_path / "l", corruptions="contrast", dataset="cifar", seed=3, severities=[3])
    assert (tmp_path / "k" / "contrast.npy").read_bytes() == (tmp_path / "l" / "contrast.npy").read_bytes()


def test_webdataset_input_schedule(tmp_path):
    inp = wds_shards(tmp_path / "in", per=3)
    kw = dict(corruptions="contrast", severity_schedule="linear:1-3.5")
    a = imgcorrupt.generate(inp, tmp_path / "a", threads=1, **kw)
    b = imgcorrupt.generate(inp, tmp_path / "b", threads=2, **kw)
    assert a.ok and b.ok and a.dataset == "webdataset" and a.images == 6
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file() and "status" not in p.name)
    assert Path("contrast/schedule/00001.tar") in files
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    # stream order: 00000's samples, then 00001's; sample i of 6 at 1 + 2.5 i / 5
    lines = (tmp_path / "a" / "manifest.jsonl").read_text().splitlines()[1:]
    got = sorted((r["source"], r["scheduled_severity"]) for r in map(json.loads, lines) if "scheduled_severity" in r)
    assert [s for _, s in got] == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    t = tarfile.open(tmp_path / "a" / "contrast" / "schedule" / "00001.tar")
    assert t.getnames()[:3] == ["01000.png", "01000.json", "01000.cls"]
    assert json.loads(t.extractfile("01000.json").read()) == {"scheduled_severity": 2.5}
    r = imgcorrupt.verify(tmp_path / "a", input=inp)
    assert r.ok and r.regenerated == 6
