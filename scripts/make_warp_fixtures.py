#!/usr/bin/env python3
"""Oracle frames of the ImageNet-P warps (issue 16; docs/ALGORITHMS.md §13.1).

ImageNet-P's rotate, scale, shear, translate and zoom_blur call torchvision 0.2's
`F.affine`, i.e. PIL's `Image.transform(size, AFFINE, inverse_matrix, resample)` with the
inverse matrix about the centre (W/2 + 0.5, H/2 + 0.5); tilt calls OpenCV's
`warpPerspective`. This script runs PIL and OpenCV themselves (as oracles: torchvision 0.2
is not installed, so its `_get_inverse_affine_matrix` formula is written out below) on the
fixture photo coffee_97x61 (odd sizes: row tails and both borders) and writes

  fixtures/imagenet_p/warps.png   every case's full-size output, stacked top to bottom
  fixtures/imagenet_p/warps.json  the cases in that order (kind, parameters)

which tests/imagenet_p_warps.rs compares our warps against value by value.

Usage: python scripts/make_warp_fixtures.py  (needs numpy, Pillow, opencv-python; written with
Pillow 13.0.0 and OpenCV 4.11.0 from /work/wt/venv14)
"""
import json
import math
import os

import cv2
import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "imagenet_p")
SRC = os.path.join(ROOT, "fixtures", "photos", "coffee_97x61.png")


def inverse_affine(center, angle, translate, scale, shear):
    """torchvision 0.2 `_get_inverse_affine_matrix`: M = T·C·R·S·SHEAR·C⁻¹, inverted."""
    a, s = math.radians(angle), math.radians(shear)
    d = math.cos(a + s) * math.cos(a) + math.sin(a + s) * math.sin(a)
    m = [math.cos(a + s), math.sin(a + s), 0.0, -math.sin(a), math.cos(a), 0.0]
    m = [1.0 / scale / d * v for v in m]  # torchvision: scale = 1 / scale; scale / d * m
    cx, cy = center
    tx, ty = translate
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return m


def tilt_matrix(w, h, deg):
    """make_imagenet_p.py's tilt: P2 · T · Rx(θ) · Ry(φ) · P1, focal length the diagonal."""
    phi = theta = math.radians(deg)
    f = math.sqrt(w * w + h * h)
    p1 = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1], [0, 0, 1]], float)
    rx = np.array([[1, 0, 0, 0], [0, math.cos(theta), -math.sin(theta), 0],
                   [0, math.sin(theta), math.cos(theta), 0], [0, 0, 0, 1]], float)
    ry = np.array([[math.cos(phi), 0, -math.sin(phi), 0], [0, 1, 0, 0],
                   [math.sin(phi), 0, math.cos(phi), 0], [0, 0, 0, 1]], float)
    t = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, f], [0, 0, 0, 1]], float)
    p2 = np.array([[f, 0, w / 2, 0], [0, f, h / 2, 0], [0, 0, 1, 0]], float)
    return p2 @ t @ rx @ ry @ p1


# (kind, angle, (tx, ty), scale, shear): the sequences' own parameter ranges and a mixed map
AFFINE = [
    ("bilinear", -15.0, (0.0, 0.0), 1.0, 0.0),   # rotate frame 0
    ("bilinear", -7.0, (0.0, 0.0), 1.0, 0.0),
    ("bilinear", 0.0, (0.0, 0.0), 1.0, 0.0),     # rotate frame 15: the clean image
    ("bilinear", 11.0, (0.0, 0.0), 1.0, 0.0),
    ("bilinear", 0.0, (0.0, 0.0), 1.0, -12.0),   # shear
    ("bilinear", 0.0, (0.0, 0.0), 1.0, 5.0),
    ("bilinear", 0.0, (0.0, 0.0), 0.4, 0.0),     # scale frame 0
    ("bilinear", 0.0, (0.0, 0.0), 0.675, 0.0),
    ("bilinear", 0.0, (0.0, 0.0), 1.15, 0.0),    # scale frame 30
    ("bilinear", 0.0, (0.0, 0.0), 1.004, 0.0),   # zoom_blur frames 1, 15
    ("bilinear", 0.0, (0.0, 0.0), 1.06, 0.0),
    ("bilinear", 9.0, (2.5, -1.5), 0.8, 4.0),    # every term at once
    ("nearest", 0.0, (-20.0, 0.0), 1.0, 0.0),    # translate frames 0, 17, 27
    ("nearest", 0.0, (-3.0, 0.0), 1.0, 0.0),
    ("nearest", 0.0, (7.0, 0.0), 1.0, 0.0),
]
TILT = [-15.0, -6.0, 9.0]


def main():
    img = Image.open(SRC).convert("RGB")
    w, h = img.size
    arr = np.asarray(img)
    center = (w * 0.5 + 0.5, h * 0.5 + 0.5)
    frames, cases = [], []
    for kind, angle, t, scale, shear in AFFINE:
        m = inverse_affine(center, angle, t, scale, shear)
        resample = Image.BILINEAR if kind == "bilinear" else Image.NEAREST
        out = img.transform((w, h), Image.AFFINE, m, resample, fillcolor=(0, 0, 0))
        frames.append(np.asarray(out))
        cases.append({"kind": kind, "angle": angle, "translate": list(t), "scale": scale,
                      "shear": shear})
    for deg in TILT:
        out = cv2.warpPerspective(arr, tilt_matrix(w, h, deg), (w, h))
        frames.append(out)
        cases.append({"kind": "tilt", "angle": deg})
    os.makedirs(OUT, exist_ok=True)
    Image.fromarray(np.concatenate(frames, axis=0)).save(os.path.join(OUT, "warps.png"),
                                                         optimize=True)
    with open(os.path.join(OUT, "warps.json"), "w") as f:
        json.dump({"source": "fixtures/photos/coffee_97x61.png", "width": w, "height": h,
                   "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
