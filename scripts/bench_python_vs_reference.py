#!/usr/bin/env python3
"""The Python package against imagecorruptions 1.1.2 in ONE process (issue 14's targets).

In the reference's own interpreter (imagecorruptions 1.1.2 with its pinned dependencies and the
imgcorrupt wheel installed, e.g. the oracle venv of the fixture scripts), per corruption and
severity, three calls take turns in blocks (each side's loop over the photos for `--seconds`,
the order rotated per severity and round; each side's best median over `--rounds`), on the same
224x224 photos (shorter side 256 bilinear, centre crop 224, as the side by side prepares them).
Blocks rather than single calls: a call that follows the other library's has the caches that
library left (the reference streams megabytes per call), which is a measure of neither:

* the reference: `imagecorruptions.corrupt(img, corruption_name=name, severity=s)`;
* the drop-in's global-RNG path: `imgcorrupt.corrupt(img, s, name)` (numpy mode, drawing from
  and advancing NumPy's global generator like the reference; target: no slower);
* the seeded call: `imgcorrupt.corrupt(img, s, name, seed=k)` (fast mode; target: >= 20x the
  reference, pixelate and jpeg_compression >= 3x).

Printed per corruption as the mean over severities, with both ratios. Frost reads the reference's own photographs on all three sides (`set_frost_dir` to the
installed package's `frost` folder; `--procedural-frost`: imgcorrupt's default procedural
textures, as `bench_side_by_side.py` times it). One BLAS/OpenMP/OpenCV thread, as the side by
side.

    IMGCORRUPT_SIMD=avx2 taskset -c 1 .venv-reference/bin/python scripts/bench_python_vs_reference.py

The Python call against the Rust library call (the 5 % target) is `bench_python_call.py`, or
`bench_side_by_side.py --python-package` with the CLI and the dataset runs.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import imgcorrupt  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from bench_python_call import photos  # noqa: E402

TARGET = {"pixelate": 3.0, "jpeg_compression": 3.0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-c", "--corruptions", default="all", help="names, comma-separated, or 'all'")
    ap.add_argument("-s", "--severities", default="1,2,3,4,5")
    ap.add_argument("--seconds", type=float, default=0.3,
                    help="per severity, side and round, at least 3 calls each")
    ap.add_argument("--rounds", type=int, default=2, help="per severity; each side's best median")
    ap.add_argument("--procedural-frost", action="store_true",
                    help="imgcorrupt's frost on its procedural textures (its default without a "
                    "frost folder) instead of the reference's photographs")
    ap.add_argument("images", nargs="*", help="photos (default: ../shared/images, else fixtures/photos)")
    a = ap.parse_args()
    import cv2
    import make_fixtures as mf

    cv2.setNumThreads(1)
    ref = mf.load_oracle()
    imgcorrupt.set_frost_dir(None if a.procedural_frost else Path(ref.__file__).parent / "frost")
    images = photos(a.images)
    names = imgcorrupt.get_corruption_names("all") if a.corruptions == "all" else a.corruptions.split(",")
    sevs = [int(s) for s in a.severities.split(",")]
    print(f"{len(images)} photos at 224x224, one process, sides in turns; ms per call (mean over "
          f"severities {a.severities} of the per-severity best medians of {a.rounds} rounds)")
    print(f"| corruption | reference ms | drop-in, global RNG ms | ratio (>= 1) | seeded ms | ratio (target) |")
    print("|---|---:|---:|---:|---:|---|")
    for name in names:
        sides = {
            "reference": lambda img, s, k: ref.corrupt(img, corruption_name=name, severity=s),
            "global": lambda img, s, k: imgcorrupt.corrupt(img, s, name),
            "seeded": lambda img, s, k: imgcorrupt.corrupt(img, s, name, seed=k),
        }
        order = list(sides)
        mean = {side: [] for side in sides}
        for j, s in enumerate(sevs):
            np.random.seed(0)
            for f in sides.values():
                f(images[0], s, 0)  # warm-up
            best = {side: float("inf") for side in sides}
            for rnd in range(a.rounds):
                for side in order[(j + rnd) % 3:] + order[: (j + rnd) % 3]:
                    times, start, i = [], time.perf_counter(), 0
                    while len(times) < 3 or time.perf_counter() - start < a.seconds:
                        img = images[i % len(images)]
                        t = time.perf_counter()
                        sides[side](img, s, i)
                        times.append(time.perf_counter() - t)
                        i += 1
                    best[side] = min(best[side], statistics.median(times))
            for side in sides:
                mean[side].append(best[side] * 1e3)
        r, g, f = (statistics.mean(mean[side]) for side in ("reference", "global", "seeded"))
        target = TARGET.get(name, 20.0)
        mark = "met" if r / f >= target else f"short of {target:g}x"
        print(f"| {name} | {r:.3f} | {g:.3f} | {r / g:.2f}x | {f:.3f} | {r / f:.1f}x ({mark}) |", flush=True)


if __name__ == "__main__":
    main()
