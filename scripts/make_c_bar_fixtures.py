#!/usr/bin/env python3
"""Reference statistics of the ImageNet-C-bar / CIFAR-10-C-bar operators (issue 16).

Runs the MIT reference code (facebookresearch/augmentation-corruption, `imagenet_c_bar/`,
not part of this repository: pass its folder as C_BAR_REF) as an oracle and writes
fixtures/c_bar/reference_stats.json, which tests/c_bar.rs compares our operators against.

Bit parity is impossible (the reference draws from NumPy's global state, split by DataLoader
workers), so what is compared is each operator's *distribution* per severity: the mean over
K seeds of
  mad       mean |out - clean| over all values,
  mean_c    per-channel mean of the output (3 values),
  std_c     per-channel standard deviation of the output (3 values),
  ac1       lag-1 (horizontal) autocorrelation of out - clean (a spectral measure: blue noise
            is negative, brownish noise close to 1),
  changed   fraction of values that differ from the clean image,
  mad_inner mad without the 4-pixel border (the blur of circular_motion_blur inside the
            image, where its border darkening does not dominate).
Inputs: fixture photo chelsea_224x224 resized (PIL bilinear) to 64x64 (ImageNet-C-bar
operators, reference im_size=64) and 32x32 (CIFAR-10-C-bar, im_size=32); both are written
next to the statistics so that the Rust side reads the very same pixels.

Usage: C_BAR_REF=/path/to/imagenet_c_bar python scripts/make_c_bar_fixtures.py [K]
(ONLY=name,name redoes those operators and keeps the others of the existing file)
(needs numpy, scipy, scikit-image, Pillow; NumPy >= 1.24 lacks np.int, which the reference's
`lines` uses, so the alias is restored here).
"""
import json
import os
import sys
import time

import numpy as np

np.int = int  # the reference predates NumPy 1.24
sys.path.insert(0, os.environ["C_BAR_REF"])
from PIL import Image  # noqa: E402

import corrupt as corr  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "c_bar")

IMAGENET = {
    "caustic_refraction": [2.35, 3.2, 4.9, 6.6, 9.15],
    "inverse_sparkles": [1.0, 2.0, 4.0, 9.0, 10.0],
    "sparkles": [1.0, 2.0, 3.0, 5.0, 6.0],
    "perlin_noise": [4.6, 5.2, 5.8, 7.6, 8.8],
    "blue_noise_sample": [0.8, 1.6, 2.4, 4.0, 5.6],
    "plasma_noise": [4.75, 7.0, 8.5, 9.25, 10.0],
    "checkerboard_cutout": [2.0, 3.0, 4.0, 5.0, 6.0],
    "cocentric_sine_waves": [3.0, 5.0, 8.0, 9.0, 10.0],
    "single_frequency_greyscale": [1.0, 1.5, 2.0, 4.5, 5.0],
    "brownish_noise": [1.0, 2.0, 3.0, 4.0, 5.0],
}
CIFAR = {
    "pinch_and_twirl": [5.5, 6.0, 6.5, 8.5, 10.0],
    "ripple": [5.5, 6.0, 6.5, 7.5, 8.0],
    "circular_motion_blur": [2.8, 3.6, 4.4, 5.2, 6.0],
    "lines": [0.5, 1.0, 1.5, 2.0, 2.5],
    "transverse_chromatic_abberation": [1.0, 2.0, 5.0, 9.0, 10.0],
}
CLASSES = {t.name: t for t in [
    corr.CausticRefraction, corr.InverseSparkles, corr.Sparkles, corr.PerlinNoise,
    corr.BlueNoiseSample, corr.PlasmaNoise, corr.CheckerBoardCutOut, corr.CocentricSineWaves,
    corr.SingleFrequencyGreyscale, corr.BrownishNoise, corr.PinchAndTwirl, corr.Ripple,
    corr.CircularMotionBlur, corr.Lines, corr.TransverseChromaticAbberation]}


def stats(clean, out):
    c = clean.astype(np.float64)
    o = out.astype(np.float64)
    d = o - c
    dc = d - d.mean()
    num = (dc[:, 1:, :] * dc[:, :-1, :]).mean()
    den = (dc * dc).mean()
    ac1 = float(num / den) if den > 1e-12 else 0.0
    return {
        "mad": float(np.abs(d).mean()),
        "mean_c": [float(o[..., k].mean()) for k in range(3)],
        "std_c": [float(o[..., k].std()) for k in range(3)],
        "ac1": ac1,
        "changed": float((out != clean).mean()),
        "mad_inner": float(np.abs(d[4:-4, 4:-4]).mean()),
    }


def average(rows):
    keys = rows[0].keys()
    return {k: (np.mean([r[k] for r in rows], axis=0).tolist()) for k in keys}


def main():
    k_seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    photo = Image.open(os.path.join(ROOT, "fixtures", "photos", "chelsea_224x224.png")).convert("RGB")
    inputs = {}
    for size in (64, 32):
        im = photo.resize((size, size), Image.BILINEAR)
        im.save(os.path.join(OUT, f"input_{size}.png"))
        inputs[size] = np.array(im)
    only = [n for n in os.environ.get("ONLY", "").split(",") if n]
    path = os.path.join(OUT, "reference_stats.json")
    result = {"k_seeds": k_seeds, "operators": {}}
    if only:
        with open(path) as f:
            result = json.load(f)
    for table, size in ((IMAGENET, 64), (CIFAR, 32)):
        clean = inputs[size]
        for name, mags in table.items():
            if only and name not in only:
                continue
            t0 = time.time()
            per_sev = []
            for mag in mags:
                t = CLASSES[name](severity=mag, im_size=size)
                rows = []
                for seed in range(k_seeds):
                    np.random.seed(seed)
                    out = t(clean.copy())
                    rows.append(stats(clean, np.asarray(out)))
                per_sev.append(average(rows))
            result["operators"][name] = {"size": size, "magnitudes": mags, "stats": per_sev}
            print(f"{name}: {time.time() - t0:.1f} s", file=sys.stderr, flush=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
