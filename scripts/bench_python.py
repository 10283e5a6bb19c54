#!/usr/bin/env python3
"""Time the Python package side by side with the Rust library and the reference.

Per corruption, at 224x224 (the fixture photo chelsea_224x224.png) and severity 3, one
thread for imgcorrupt (RAYON_NUM_THREADS=1 is set before the import):

* ``py_fast_ms``: ``imgcorrupt.corrupt(x, 3, name, seed=k)`` (fast mode, new seed each call);
* ``py_numpy_ms``: the drop-in on NumPy's global generator (numpy mode, what
  ``np.random.seed(s); corrupt(x, 3, name)`` costs, get_state/set_state included);
* ``rust_ms``: the library call as ``imgcorrupt bench`` times it (run through the wheel's
  command, same photo, fast mode);
* ``reference_ms``: imagecorruptions 1.1.2 in the same process, when it is importable (the
  pinned environment of scripts/requirements-reference.txt, with make_fixtures' shims).

Medians over calls that run for at least --min-ms per cell. Prints CSV. Example (in a venv with
the wheel, numpy and the reference's pins):

    python scripts/bench_python.py --min-ms 300 > bench_python.csv
"""

import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import imgcorrupt  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PHOTO = REPO / "fixtures" / "photos" / "chelsea_224x224.png"


def median_ms(fn, min_ms):
    fn(0)  # warm-up
    times, k, start = [], 1, time.perf_counter()
    while (time.perf_counter() - start) * 1000 < min_ms or len(times) < 3:
        t0 = time.perf_counter()
        fn(k)
        times.append((time.perf_counter() - t0) * 1000)
        k += 1
    return statistics.median(times)


def rust_times(names, severity, min_ms):
    cmd = [sys.executable, "-m", "imgcorrupt._cli", "bench", str(PHOTO), "-c", ",".join(names),
           "-s", str(severity), "--size", "native", "--threads", "1", "--csv", "--min-ms", str(int(min_ms))]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return {row["corruption"]: float(row["ms_per_image"]) for row in csv.DictReader(io.StringIO(out))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--min-ms", type=float, default=300)
    ap.add_argument("-c", "--corruptions", default="all")
    ap.add_argument("--no-reference", action="store_true")
    args = ap.parse_args()
    names = imgcorrupt.get_corruption_names("all") if args.corruptions == "all" else args.corruptions.split(",")
    x = imgcorrupt.read_image(PHOTO)
    ref = None
    if not args.no_reference:
        try:
            sys.path.insert(0, str(REPO / "scripts"))
            import make_fixtures

            ref = make_fixtures.load_oracle()
        except ImportError:
            ref = None
    rust = rust_times(names, 3, args.min_ms)
    w = csv.writer(sys.stdout)
    w.writerow(["corruption", "py_fast_ms", "rust_ms", "py_over_rust", "py_numpy_ms", "reference_ms",
                "fast_speedup", "numpy_speedup"])
    for name in names:
        fast = median_ms(lambda k: imgcorrupt.corrupt(x, 3, name, seed=k), args.min_ms)

        def global_path(k):
            np.random.seed(k)
            imgcorrupt.corrupt(x, 3, name)

        numpy_mode = median_ms(global_path, args.min_ms)
        r = ""
        if ref is not None:

            def reference(k):
                np.random.seed(k)
                ref.corrupt(x, corruption_name=name, severity=3)

            r = median_ms(reference, args.min_ms)
        row = [name, f"{fast:.3f}", f"{rust[name]:.3f}", f"{fast / rust[name]:.3f}", f"{numpy_mode:.3f}"]
        row += [f"{r:.3f}", f"{r / fast:.1f}", f"{r / numpy_mode:.1f}"] if r != "" else ["", "", ""]
        w.writerow(row)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
