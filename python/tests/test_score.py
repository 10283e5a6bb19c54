"""``imgcorrupt.score``: the numbers of ``imgcorrupt score`` (results table, predictions over a
generated dataset, ImageNet-P flips) as a dict, checked against hand-computed values and
against the JSON the command itself writes for the same input."""

import json

import pytest

import imgcorrupt
from imgcorrupt import _imgcorrupt

from conftest import REPO

CIFAR = REPO / "fixtures" / "cifar"
# AlexNet's published ImageNet-C errors at fog severities 2 and 4
# (corruptions/baselines/alexnet_imagenet_c.toml), the CE normaliser.
ALEXNET_FOG_2, ALEXNET_FOG_4 = 0.76050, 0.87260


def cli_json(*args, out):
    """The JSON result file of the wheel's ``imgcorrupt score ARGS -o OUT``."""
    assert _imgcorrupt.run_cli(["imgcorrupt", "score", *map(str, args), "-o", str(out)]) == 0
    return json.loads(out.read_text())


def by_name(result, name):
    return next(p for p in result["corruptions"] if p["corruption"] == name)


def test_table_mode_hand_computed_and_equal_to_the_cli(tmp_path):
    table = tmp_path / "r.csv"
    table.write_text("corruption,severity,error\nclean,0,0.25\nfog,2,0.0\nfog,4,0.5\ncontrast,1,0.4\n")
    r = imgcorrupt.score(table)
    assert r["measure"] == "error"
    assert r["clean_error"] == pytest.approx(25.0)
    fog = by_name(r, "fog")
    assert fog["severities"] == [2, 4]
    assert fog["mean_error"] == pytest.approx(25.0)
    assert fog["mean_performance"] == pytest.approx(75.0)
    assert fog["ce"] == pytest.approx(100 * 0.5 / (ALEXNET_FOG_2 + ALEXNET_FOG_4))
    assert by_name(r, "contrast")["mean_error"] == pytest.approx(40.0)
    # 2 of the 15: no aggregate (a partial mCE compares with nothing), and a note says why
    assert r["mce"] is None and r["mean_error"] is None and r["notes"]
    assert "NOT the mCE" in r["conventions"]["mean_error"]
    assert r == cli_json(table, out=tmp_path / "cli.json")
    # nothing written by the Python call
    assert not (tmp_path / "r.score.json").exists()

    r2, text = imgcorrupt.score(table, report=True)
    assert r2 == r and "mCE %" in text and "fog" in text


def predictions_over_cifar(tmp_path):
    out = tmp_path / "cifar-c"
    s = imgcorrupt.generate(CIFAR, out, corruptions="contrast,fog", severities="2,4", seed=1, threads=1)
    assert s.ok
    # 8 rows per severity block: block 0 = severity 2, block 1 = severity 4.
    # contrast s2: 2 wrong of 8, s4: 8 of 8; fog s2: 0 of 8, s4: 4 of 8; clean 1 of 4.
    rows = ["path,label,pred"]
    for row in range(16):
        wrong_c = row < 2 if row < 8 else True
        wrong_f = 8 <= row < 12
        rows.append(f"contrast.npy:{row},3,{5 if wrong_c else 3}")
        rows.append(f"fog.npy:{row},cat,{'dog' if wrong_f else 'cat'}")
    rows += [f"clean:{i},1,{2 if i == 0 else 1}" for i in range(4)]
    preds = tmp_path / "preds.csv"
    preds.write_text("\n".join(rows) + "\n")
    return preds, out


def test_predictions_mode_hand_computed_and_equal_to_the_cli(tmp_path):
    preds, out = predictions_over_cifar(tmp_path)
    r = imgcorrupt.score(preds, dataset=out)
    assert r["clean_error"] == pytest.approx(25.0)
    contrast, fog = by_name(r, "contrast"), by_name(r, "fog")
    assert contrast["severities"] == [2, 4] and fog["severities"] == [2, 4]
    assert contrast["mean_error"] == pytest.approx((25.0 + 100.0) / 2)
    assert fog["mean_error"] == pytest.approx((0.0 + 50.0) / 2)
    assert fog["ce"] == pytest.approx(100 * 0.5 / (ALEXNET_FOG_2 + ALEXNET_FOG_4))
    # relative CE: sum_s (E - E_clean) / sum_s (E^A - E^A_clean), E^A_clean = 0.435
    want = 100 * ((0.0 - 0.25) + (0.5 - 0.25)) / ((ALEXNET_FOG_2 - 0.435) + (ALEXNET_FOG_4 - 0.435))
    assert fog["relative_ce"] == pytest.approx(want, abs=1e-9)
    assert r == cli_json(preds, "--dataset", out, out=tmp_path / "cli.json")


def test_flip_mode_hand_computed_and_equal_to_the_cli(tmp_path):
    frames = tmp_path / "p.csv"
    # one motion_blur sequence, top-1 only: 1 1 2 2 -> one flip in 3 consecutive pairs
    frames.write_text(
        "perturbation,sequence,frame,ranking\n" + "".join(f"motion_blur,s0,{i},{c}\n" for i, c in enumerate([1, 1, 2, 2]))
    )
    r = imgcorrupt.score(frames, flip=True)
    (row,) = r["rows"]
    assert row["perturbation"] == "motion_blur" and row["sequences"] == 1
    assert row["flip_prob"] == pytest.approx(1 / 3)
    assert row["top5_distance"] is None and r["mfr"] is None and r["difficulty"] == 1
    assert r == cli_json(frames, "--flip", out=tmp_path / "cli.json")
    # difficulty 2: pairs (0, 2) and (1, 3), both flip
    assert imgcorrupt.score(frames, flip=True, difficulty=2)["rows"][0]["flip_prob"] == pytest.approx(1.0)


def test_malformed_input_names_the_file(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("corruption,severity,error\nfog,1,41\n")
    with pytest.raises(ValueError, match=r"r\.csv:2"):
        imgcorrupt.score(bad)
    preds, out = predictions_over_cifar(tmp_path)
    preds.write_text("path,label,pred\nnope/1.png,a,a\n")
    with pytest.raises(ValueError, match=r"preds\.csv:2.*nope/1\.png"):
        imgcorrupt.score(preds, dataset=out)
    preds.write_text("path,label\nx,1\n")
    with pytest.raises(ValueError, match=r"preds\.csv:1"):
        imgcorrupt.score(preds, dataset=out)
    with pytest.raises(OSError, match="missing.csv"):
        imgcorrupt.score(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="exclude each other"):
        imgcorrupt.score(preds, dataset=out, flip=True)
    with pytest.raises(ValueError, match="need `flip`"):
        imgcorrupt.score(bad, difficulty=2)
