#!/usr/bin/env python3
"""Python call against the Rust library call, alone (issue 14's "within 5 %").

The loop of `bench_side_by_side.py --python-package` without the reference: in ONE process,
`imgcorrupt.corrupt(img, s, name, seed=k)` and the library call of `imgcorrupt bench`
(`_imgcorrupt.time_library_call`: `corrupt_with`'s zero-filled output plus the corruption,
timed in Rust on the same array) alternate call by call, the order swapped every other call,
photo k mod n for call k; per severity the medians; printed per corruption as the mean over
severities and the ratio. Run it several times: each process has its own placement of code and
data, which moves the ratio by about a per cent (BENCHMARKS.md, stop 33).

    IMGCORRUPT_SIMD=avx2 taskset -c 1 python scripts/bench_python_call.py -c frost,contrast

Needs the imgcorrupt wheel, NumPy and Pillow in the running interpreter.
"""
import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image

import imgcorrupt
from imgcorrupt import _imgcorrupt as native

REPO = Path(__file__).resolve().parent.parent


def crop224(path):
    """Shorter side 256 (bilinear), centre crop 224: the side by side's preparation."""
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = 256 / min(w, h)
    nw, nh = max(224, round(w * s)), max(224, round(h * s))
    im = im.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - 224) // 2, (nh - 224) // 2
    return np.asarray(im.crop((left, top, left + 224, top + 224)))


def photos(args):
    """The photos named on the command line, else 8 of ../shared/images (else of
    fixtures/photos), each prepared by `crop224`."""
    paths = [Path(p) for p in args]
    if not paths:
        for d in (REPO.parent / "shared" / "images", REPO / "fixtures" / "photos"):
            paths = sorted(p for p in d.glob("*") if p.suffix.lower() in (".jpg", ".png"))[:8]
            if paths:
                break
    return [crop224(p) for p in paths]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-c", "--corruptions", default="all", help="names, comma-separated, or 'all'")
    ap.add_argument("-s", "--severities", default="1,2,3,4,5")
    ap.add_argument("--seconds", type=float, default=0.4, help="per severity (both sides)")
    ap.add_argument("images", nargs="*", help="photos (default: ../shared/images, else fixtures/photos)")
    a = ap.parse_args()
    images = photos(a.images)
    catalogue = [c[0] for c in native.catalogue()]
    names = imgcorrupt.get_corruption_names("all") if a.corruptions == "all" else a.corruptions.split(",")
    sevs = [int(s) for s in a.severities.split(",")]
    print(f"{len(images)} photos at 224x224, {a.seconds} s per severity; ms per call")
    print(f"{'corruption':<18} {'Python':>8} {'Rust':>8} {'Python/Rust':>12}")
    for name in names:
        index = catalogue.index(name)
        py, rs = [], []
        for s in sevs:
            imgcorrupt.corrupt(images[0], s, name, seed=0)  # warm-up
            native.time_library_call(images[0], index, s, 0)
            tp, tr, start, i = [], [], time.perf_counter(), 0
            while len(tp) < 3 or time.perf_counter() - start < a.seconds:
                img = images[i % len(images)]
                if i % 2:
                    tr.append(native.time_library_call(img, index, s, i))
                t = time.perf_counter()
                imgcorrupt.corrupt(img, s, name, seed=i)
                tp.append(time.perf_counter() - t)
                if not i % 2:
                    tr.append(native.time_library_call(img, index, s, i))
                i += 1
            py.append(statistics.median(tp) * 1e3)
            rs.append(statistics.median(tr) * 1e3)
        p, r = statistics.mean(py), statistics.mean(rs)
        print(f"{name:<18} {p:8.4f} {r:8.4f} {p / r:12.3f}", flush=True)


if __name__ == "__main__":
    main()
