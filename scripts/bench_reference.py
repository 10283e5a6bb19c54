#!/usr/bin/env python3
"""Time the reference (imagecorruptions 1.1.2) on the same images as `imgcorrupt bench`.

Run from the repository root (it reuses the pinned oracle venv of make_fixtures.py):

    python3 scripts/bench_reference.py --size 224 -c gaussian_noise,contrast -s 1-5 > ref.csv
    cargo run --release -- bench --size 224 -c gaussian_noise,contrast -s 1-5 --csv > ours.csv
    python3 scripts/bench_reference.py --compare ref.csv ours.csv

Protocol (as in ../shared/reference/peer_times.md): one process, single-threaded BLAS/OpenCV,
input already a uint8 HxWx3 array in memory, timing = the corrupt() call only; per cell the
median over calls that cycle through the images, after one warm-up call, for at least
--min-ms milliseconds (max 40 calls). Images: fixtures/photos (or the paths given), brought to
224x224 (shorter side 256 with PIL bilinear, centre crop) or WxH (cover + centre crop).
Output CSV columns match `imgcorrupt bench --csv`:
corruption,severity,width,height,ms_per_image,images
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402  (bootstrap + oracle shims)


def parse_severities(spec):
    out = []
    for part in spec.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return sorted(set(out))


def prepare(path, size):
    from PIL import Image
    import numpy as np
    im = Image.open(path).convert("RGB")
    w, h = im.size
    if size == "native":
        return np.asarray(im)
    if size == "224":
        s = 256 / min(w, h)
        tw = th = 224
    else:
        tw, th = (int(v) for v in size.split("x"))
        s = max(tw / w, th / h)
    nw, nh = max(tw, round(w * s)), max(th, round(h * s))
    im = im.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - tw) // 2, (nh - th) // 2
    return np.asarray(im.crop((left, top, left + tw, top + th)))


def compare(ref_csv, ours_csv):
    def load(p):
        with open(p) as f:
            return {(r["corruption"], r["severity"], r["width"], r["height"]): float(r["ms_per_image"])
                    for r in csv.DictReader(f)}
    ref, ours = load(ref_csv), load(ours_csv)
    print("| corruption | severity | size | reference ms | imgcorrupt ms | speed-up |")
    print("|---|---:|---|---:|---:|---:|")
    for key in sorted(set(ref) & set(ours), key=lambda k: (k[0], int(k[1]))):
        c, s, w, h = key
        print(f"| {c} | {s} | {w}x{h} | {ref[key]:.3f} | {ours[key]:.3f} | {ref[key] / ours[key]:.1f}x |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images", nargs="*")
    ap.add_argument("-c", "--corruptions", default="gaussian_noise,shot_noise,impulse_noise,brightness,"
                    "contrast,pixelate,jpeg_compression,speckle_noise,saturate")
    ap.add_argument("-s", "--severities", default="1-5")
    ap.add_argument("--size", default="224")
    ap.add_argument("--min-ms", type=float, default=1500)
    ap.add_argument("--compare", nargs=2, metavar=("REF_CSV", "OURS_CSV"))
    args = ap.parse_args()
    if args.compare:
        return compare(*args.compare)
    mf.bootstrap()
    import cv2
    import numpy as np
    cv2.setNumThreads(1)
    ic = mf.load_oracle()
    paths = args.images or sorted(str(p) for p in mf.PHOTOS_DIR.glob("*.png"))
    images = [prepare(p, args.size) for p in paths]
    h, w = images[0].shape[:2]
    print("corruption,severity,width,height,ms_per_image,images")
    for name in args.corruptions.split(","):
        for s in parse_severities(args.severities):
            np.random.seed(0)
            ic.corrupt(images[0], corruption_name=name, severity=s)  # warm-up
            times, start, i = [], time.perf_counter(), 0
            while (len(times) < 3 or (time.perf_counter() - start) * 1e3 < args.min_ms) and len(times) < 40:
                img = images[i % len(images)]
                t = time.perf_counter()
                ic.corrupt(img, corruption_name=name, severity=s)
                times.append((time.perf_counter() - t) * 1e3)
                i += 1
            times.sort()
            print(f"{name},{s},{w},{h},{times[len(times) // 2]:.4f},{len(times)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
