#!/usr/bin/env python3
"""Build the ImageNet-style tree used to benchmark `imgcorrupt generate` (BENCHMARKS.md):
the 27 shared photos (451-1282 px) x 4 copies = 108 JPEGs (quality 90) in 4 class folders.

    /work/main/.venv-reference/bin/python scripts/make_generate_bench.py /tmp/bench-in
"""
import glob
import os
import sys

from PIL import Image

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/bench-in"
here = os.path.dirname(os.path.abspath(__file__))
shared = next(d for d in [os.path.join(here, "../../shared/images"), os.path.join(here, "../shared/images"),
                          "/work/shared/images"] if os.path.isdir(d))
files = sorted(f for f in glob.glob(os.path.join(shared, "*")) if not f.endswith(".md"))
wnids = ["n01000001", "n01000002", "n01000003", "n01000004"]
k = 0
for rep in range(4):
    for i, f in enumerate(files):
        d = os.path.join(out, wnids[(i + rep) % 4])
        os.makedirs(d, exist_ok=True)
        Image.open(f).convert("RGB").save(os.path.join(d, f"ILSVRC2012_val_{k:08d}.JPEG"), quality=90)
        k += 1
print(f"{k} images in {out}")
