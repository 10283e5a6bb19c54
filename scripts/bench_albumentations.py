#!/usr/bin/env python3
"""Time albumentations' GaussNoise on one 224x224x3 uint8 image, single thread.

Counterpart of `cargo bench --bench augment` (Gaussian noise training, sigma = 0.5 in [0, 1]
pixel space, every image noised). Usage:

    python3 -m venv /tmp/alb && /tmp/alb/bin/pip install albumentations
    /tmp/alb/bin/python scripts/bench_albumentations.py [--repeat 2000]

Threads are pinned to 1 (OpenCV and the BLAS/OpenMP pools) before importing anything heavy.
Reports wall-clock time and the CPU time of the calling thread (time.thread_time, i.e.
CLOCK_THREAD_CPUTIME_ID, the same clock as the `augment_224x224x3_cpu` criterion group) and
of the process (a check that no helper thread did hidden work).
GaussNoise's parameters changed across albumentations versions: >= 1.4.x takes `std_range`
as a fraction of the maximum value (so 0.5 means sigma = 0.5 on [0, 1], i.e. 127.5 on uint8);
older versions take `var_limit` in uint8 units squared (0.5*255)^2. Both are handled.
"""
import argparse
import os
import statistics
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402
import cv2  # noqa: E402
import albumentations as A  # noqa: E402

cv2.setNumThreads(1)


def make_transform(sigma):
    try:
        return A.GaussNoise(std_range=(sigma, sigma), mean_range=(0.0, 0.0), p=1.0), "std_range"
    except TypeError:
        var = (sigma * 255.0) ** 2
        return A.GaussNoise(var_limit=(var, var), mean=0, p=1.0), "var_limit"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2000)
    ap.add_argument("--sigma", type=float, default=0.5)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    photo = os.path.join(os.path.dirname(__file__), "..", "fixtures", "photos", "chelsea_224x224.png")
    img = cv2.cvtColor(cv2.imread(photo, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert img.shape == (224, 224, 3) and img.dtype == np.uint8
    t, how = make_transform(args.sigma)
    out = t(image=img)["image"]
    diff = out.astype(np.float64) - img
    print(f"albumentations {A.__version__}, numpy {np.__version__}, GaussNoise({how}) sigma={args.sigma}: "
          f"output {out.dtype}{out.shape}, mean change {diff.mean():+.2f}, sd of change {diff.std():.1f} (uint8 units)")
    for _ in range(50):  # warm-up
        t(image=img)
    wall, cpu, proc = [], [], []
    for _ in range(args.rounds):
        w0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
        for _ in range(args.repeat):
            t(image=img)
        wall.append((time.perf_counter() - w0) / args.repeat)
        cpu.append((time.thread_time() - c0) / args.repeat)
        proc.append((time.process_time() - p0) / args.repeat)
    for name, v in (("wall-clock", wall), ("thread CPU", cpu), ("process CPU", proc)):
        med = statistics.median(v)
        print(f"{name:>11} time per image: median {med * 1e6:.1f} us, best {min(v) * 1e6:.1f} us "
              f"-> {1 / med:.0f} images/s (median of {args.rounds} rounds x {args.repeat})")


if __name__ == "__main__":
    main()
