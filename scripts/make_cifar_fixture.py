#!/usr/bin/env python3
"""Make the CIFAR-format fixtures under fixtures/cifar/ (see fixtures/SOURCES.md).

8 test images of 32x32, cropped from the committed photos in fixtures/photos/, written as the
real CIFAR python releases are: a dict pickled by Python 2's cPickle with protocol 2, `data` a
uint8 numpy array (N, 3072) of R, G, B planes, labels as a list of ints:

  fixtures/cifar/cifar-10-batches-py/test_batch   keys data, labels, batch_label, filenames
  fixtures/cifar/cifar-100-python/test            keys data, fine_labels, coarse_labels,
                                                  batch_label, filenames

The pickling itself runs under Python 2.7 with numpy 1.16 (PYTHON2, default the pyenv 2.7.18
interpreter) so the bytes have the opcodes of the originals (SHORT_BINSTRING keys, BINSTRING
array data, numpy.core.multiarray._reconstruct). Python 3 only reads the PNGs (no Pillow
needed: a minimal PNG reader below).

Usage: python3 scripts/make_cifar_fixture.py   (deterministic: rerunning gives the same bytes)
"""
import os
import struct
import subprocess
import sys
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
PYTHON2 = os.environ.get("PYTHON2", os.path.expanduser("~/.pyenv/versions/2.7.18/bin/python"))

# (photo, x, y) of each 32x32 crop, and its CIFAR-10 / CIFAR-100 (fine, coarse) labels.
CROPS = [
    ("chelsea_224x224.png", 96, 64, 3, 0, 8),      # cat
    ("chelsea_224x224.png", 40, 150, 3, 1, 8),
    ("fruits_160x120.png", 20, 30, 5, 2, 4),
    ("fruits_160x120.png", 100, 60, 7, 3, 4),
    ("china_120x160.png", 10, 10, 0, 4, 10),      # sky
    ("china_120x160.png", 50, 100, 9, 5, 9),      # building
    ("coffee_97x61.png", 30, 15, 1, 6, 3),
    ("coffee_97x61.png", 60, 25, 2, 99, 3),
]


def read_png_rgb(path):
    """8-bit RGB, non-interlaced PNG -> (width, height, bytes HWC)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype == 2 and interlace == 0, (path, depth, ctype)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * 3
    out = bytearray()
    prev = bytearray(stride)
    for r in range(h):
        f = raw[r * (stride + 1)]
        line = bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        out += line
        prev = line
    return w, h, bytes(out)


def rows():
    """(N*3072 bytes in CIFAR's CHW row layout, list of crops)."""
    data = bytearray()
    for photo, x0, y0, *_ in CROPS:
        w, h, px = read_png_rgb(os.path.join(ROOT, "photos", photo))
        assert x0 + 32 <= w and y0 + 32 <= h, photo
        for c in range(3):
            for y in range(y0, y0 + 32):
                for x in range(x0, x0 + 32):
                    data.append(px[(y * w + x) * 3 + c])
    return bytes(data)


PY2 = r"""
import sys, cPickle, numpy as np
raw = open(sys.argv[1], 'rb').read()
n = len(raw) // 3072
data = np.frombuffer(raw, dtype=np.uint8).reshape(n, 3072).copy()
names = sys.argv[4].split(',')
labels = [int(v) for v in sys.argv[3].split(',')]
if sys.argv[5] == '10':
    d = {'data': data, 'labels': labels, 'batch_label': 'testing batch 1 of 1', 'filenames': names}
else:
    d = {'data': data, 'fine_labels': labels, 'coarse_labels': [int(v) for v in sys.argv[6].split(',')],
         'batch_label': 'testing batch 1 of 1', 'filenames': names}
with open(sys.argv[2], 'wb') as f:
    cPickle.dump(d, f, 2)
"""


def main():
    raw = rows()
    tmp = os.path.join(ROOT, "cifar", ".raw.bin")
    open(tmp, "wb").write(raw)
    try:
        names = ",".join("%s_s_%06d.png" % (c[0].split("_")[0], i) for i, c in enumerate(CROPS))
        for sub, fname, kind in (("cifar-10-batches-py", "test_batch", "10"), ("cifar-100-python", "test", "100")):
            os.makedirs(os.path.join(ROOT, "cifar", sub), exist_ok=True)
            labels = ",".join(str(c[3] if kind == "10" else c[4]) for c in CROPS)
            coarse = ",".join(str(c[5]) for c in CROPS)
            out = os.path.join(ROOT, "cifar", sub, fname)
            subprocess.check_call([PYTHON2, "-c", PY2, tmp, out, labels, names, kind, coarse])
            print("wrote", out)
    finally:
        os.remove(tmp)


if __name__ == "__main__":
    sys.exit(main())
