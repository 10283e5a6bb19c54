#!/usr/bin/env python3
"""JPEG *decoding* fixtures: small JPEG files of many kinds plus Pillow's decoded RGB.

    /work/main/.venv-reference/bin/python scripts/make_jpeg_decode_fixtures.py
    /work/main/.venv-reference/bin/python scripts/make_jpeg_decode_fixtures.py \
        --photos /work/shared/images --out /tmp/jpeg-decode-big --full

Default: reads fixtures/photos/*.png, writes fixtures/jpeg/decode/<case>.jpg, the decoded
`Image.open(f).convert("RGB")` as <case>.png (8-bit RGB), and index.json (one entry per
case: file names, size, kind, SHA-256 of the decoded RGB bytes, and whether imgcorrupt's own
decoder is expected to handle the file (`native`) or to fall back to the `image` crate).
plus the SHA-256 of the whole ImageNet-C source path (decode, Resize(256), CenterCrop(224)).
`--full` makes every kind at the photos' own size (for a one-off exactness sweep; the decoded
pixels are written raw as <case>.rgb, not committed).

Kinds: Pillow's encoder (4:4:4, 4:2:2, 4:2:0, greyscale, restart markers by blocks and by
rows, optimised Huffman tables, quality 5/100, 16-bit quantisation tables = SOF1, Adobe RGB
via keep_rgb, odd and tiny sizes where libjpeg switches to box upsampling, CMYK (also
read as YCCK and without its Adobe marker), progressive 4:2:0/4:4:4/grey/restart/odd size) and libjpeg-turbo's `cjpeg` (Debian libjpeg-turbo-progs) for sampling
layouts Pillow cannot write (4:4:0 = h1v2, 4:1:1 = h4v1, mixed Cb/Cr factors,
progressive with restart markers, a progression libjpeg would block-smooth, arithmetic
coding).
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, features

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# torchvision Resize(256) + CenterCrop(224), one definition for all fixture scripts
from make_dataset_fixtures import imagenet_geometry  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def pil_decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def pillow_jpeg(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


UNREFINED = None  # path of the scan script, set in main()
SCANS = """0,1,2: 0-0, 0, 1;
0: 1-5, 0, 2;
2: 1-63, 0, 1;
1: 1-63, 0, 1;
0: 6-63, 0, 2;
0: 1-63, 2, 1;
0,1,2: 0-0, 1, 0;
2: 1-63, 1, 0;
1: 1-63, 1, 0;
"""


def cjpeg(img: Image.Image, args) -> bytes:
    exe = shutil.which("cjpeg")
    if exe is None:
        sys.exit("cjpeg not found: apt-get install libjpeg-turbo-progs")
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.ppm" if img.mode == "RGB" else "in.pgm")
        img.save(src)
        return subprocess.run([exe, *args, src], check=True, capture_output=True).stdout


def adobe(data: bytes, transform) -> bytes:
    """Set the Adobe APP14 colour transform byte (None: drop the APP14 segment)."""
    p = data.find(b"\xff\xee")
    assert p > 0 and data[p + 4:p + 9] == b"Adobe"
    if transform is None:
        n = int.from_bytes(data[p + 2:p + 4], "big")
        return data[:p] + data[p + 2 + n:]
    return data[:p + 15] + bytes([transform]) + data[p + 16:]


def crop(img: Image.Image, w: int, h: int) -> Image.Image:
    w, h = min(w, img.width), min(h, img.height)
    x0, y0 = (img.width - w) // 2, (img.height - h) // 2
    return img.crop((x0, y0, x0 + w, y0 + h))


def cases(photos, full):
    """(name, jpeg bytes, native?) for every kind."""
    qt16 = [[min(1023, 2 * v + 200) for v in range(64)], [min(1023, 3 * v + 260) for v in range(64)]]
    for stem, img in photos:
        g = lambda w, h: img if full else crop(img, w, h)  # noqa: E731
        yield f"{stem}_444_q90", pillow_jpeg(g(40, 32), quality=90, subsampling=0), True
        yield f"{stem}_422_q85", pillow_jpeg(g(41, 30), quality=85, subsampling=1), True
        yield f"{stem}_420_q75", pillow_jpeg(g(47, 33), quality=75, subsampling=2), True
        yield f"{stem}_grey_q85", pillow_jpeg(g(37, 29).convert("L"), quality=85), True
        if full:
            yield f"{stem}_420_q85_opt", pillow_jpeg(img, quality=85, optimize=True), True
            yield f"{stem}_420_q100", pillow_jpeg(img, quality=100), True
            yield f"{stem}_420_q5", pillow_jpeg(img, quality=5), True
            yield f"{stem}_420_rst3", pillow_jpeg(img, quality=80, restart_marker_blocks=3), True
            yield f"{stem}_444_rstrow", pillow_jpeg(img, quality=80, subsampling=0, restart_marker_rows=1), True
            yield f"{stem}_rgb", pillow_jpeg(img, quality=90, keep_rgb=True), True
            yield f"{stem}_sof1_qt16", pillow_jpeg(img, qtables=qt16, subsampling=2), True
            yield f"{stem}_440", cjpeg(img, ["-quality", "80", "-sample", "1x2"]), True
            yield f"{stem}_411", cjpeg(img, ["-quality", "80", "-sample", "4x1"]), True
            yield f"{stem}_mixed", cjpeg(img, ["-quality", "80", "-sample", "2x2,2x1,1x2"]), True
            yield f"{stem}_cmyk", pillow_jpeg(img.convert("CMYK"), quality=85), True
            yield f"{stem}_ycck", adobe(pillow_jpeg(img.convert("CMYK"), quality=85), 2), True
            yield f"{stem}_prog", pillow_jpeg(img, quality=85, progressive=True), True
            yield f"{stem}_prog_444_rst", cjpeg(img, ["-quality", "80", "-progressive", "-sample", "1x1",
                                                      "-restart", "2b"]), True
    if full:
        return
    # One of each special kind on the first photo only (keeps the committed bytes small).
    stem, img = photos[0]
    small = crop(img, 33, 25)
    yield f"{stem}_420_q85_opt", pillow_jpeg(small, quality=85, optimize=True), True
    yield f"{stem}_420_q100", pillow_jpeg(small, quality=100), True
    yield f"{stem}_420_q5", pillow_jpeg(small, quality=5), True
    yield f"{stem}_420_rst3", pillow_jpeg(small, quality=80, restart_marker_blocks=3), True
    yield f"{stem}_444_rstrow", pillow_jpeg(small, quality=80, subsampling=0, restart_marker_rows=1), True
    yield f"{stem}_rgb", pillow_jpeg(small, quality=90, keep_rgb=True), True
    yield f"{stem}_sof1_qt16", pillow_jpeg(small, qtables=qt16, subsampling=2), True
    yield f"{stem}_440", cjpeg(small, ["-quality", "80", "-sample", "1x2"]), True
    yield f"{stem}_411", cjpeg(small, ["-quality", "80", "-sample", "4x1"]), True
    yield f"{stem}_mixed", cjpeg(small, ["-quality", "80", "-sample", "2x2,2x1,1x2"]), True
    yield f"{stem}_420_rst1_cjpeg", cjpeg(small, ["-quality", "70", "-restart", "1b"]), True
    yield f"{stem}_prog", pillow_jpeg(small, quality=85, progressive=True), True
    yield f"{stem}_prog_444", pillow_jpeg(small, quality=90, progressive=True, subsampling=0), True
    yield f"{stem}_prog_grey", pillow_jpeg(small.convert("L"), quality=85, progressive=True), True
    yield f"{stem}_prog_rst", cjpeg(small, ["-quality", "80", "-progressive", "-restart", "2b"]), True
    yield f"{stem}_prog_17x13", pillow_jpeg(crop(img, 17, 13), quality=85, progressive=True), True
    # A progression that never refines the luma AC bands to Al = 0: libjpeg smooths the
    # blocks (`decompress_smooth_data`), which imgcorrupt leaves to the fallback decoder.
    yield f"{stem}_prog_unrefined", cjpeg(small, ["-quality", "80", "-scans", UNREFINED]), False
    yield f"{stem}_arith", cjpeg(small, ["-quality", "80", "-arithmetic"]), False
    cmyk = pillow_jpeg(small.convert("CMYK"), quality=90)
    yield f"{stem}_cmyk", cmyk, True
    # The same data read as YCCK (Adobe transform 2), and as CMYK without an Adobe marker.
    yield f"{stem}_ycck", adobe(cmyk, 2), True
    yield f"{stem}_cmyk_noadobe", adobe(cmyk, None), True
    # Odd and tiny sizes: 4:2:0 with downsampled width 1-2 uses box upsampling in libjpeg.
    for w, h in [(17, 13), (1, 1), (2, 3), (3, 5), (4, 2), (5, 1), (1, 9), (6, 7)]:
        t = crop(img, w, h)
        yield f"{stem}_420_{w}x{h}", pillow_jpeg(t, quality=85), True
        yield f"{stem}_422_{w}x{h}", pillow_jpeg(t, quality=85, subsampling=1), True
    yield f"{stem}_440_3x5", cjpeg(crop(img, 3, 5), ["-quality", "80", "-sample", "1x2"]), True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", default=str(REPO / "fixtures" / "photos"))
    ap.add_argument("--out", default=str(REPO / "fixtures" / "jpeg" / "decode"))
    ap.add_argument("--full", action="store_true")
    a = ap.parse_args()
    exts = (".png", ".jpg", ".jpeg")
    files = sorted(f for f in os.listdir(a.photos) if f.lower().endswith(exts))
    photos = [(Path(f).stem.split("_")[0].replace("__", "_"), Image.open(os.path.join(a.photos, f)).convert("RGB"))
              for f in files]
    if a.full:
        photos = [(Path(f).stem.replace("__", "_"), im) for f, (_, im) in zip(files, photos)]
    os.makedirs(a.out, exist_ok=True)
    global UNREFINED
    scans = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
    scans.write(SCANS)
    scans.close()
    UNREFINED = scans.name
    index = {
        "pillow": Image.__version__,
        "libjpeg_turbo": features.version("jpg"),
        "decode": 'np.asarray(Image.open(f).convert("RGB"))',
        "cases": [],
    }
    for name, data, native in cases(photos, a.full):
        rgb = pil_decode(data)
        (Path(a.out) / f"{name}.jpg").write_bytes(data)
        if a.full:
            (Path(a.out) / f"{name}.rgb").write_bytes(rgb.tobytes())
        else:
            Image.fromarray(rgb).save(Path(a.out) / f"{name}.png", optimize=True)
        index["cases"].append({
            "jpeg": f"{name}.jpg",
            "rgb": f"{name}.rgb" if a.full else f"{name}.png",
            "width": rgb.shape[1],
            "height": rgb.shape[0],
            "native": native,
            "sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
            # The whole ImageNet-C source path: decode, convert("RGB"), Resize(256), CenterCrop(224).
            "imagenet224_sha256": hashlib.sha256(np.asarray(imagenet_geometry(
                Image.open(io.BytesIO(data)).convert("RGB"))).tobytes()).hexdigest(),
        })
    with open(Path(a.out) / "index.json", "w") as f:
        json.dump(index, f, indent=1)
    print(f"{len(index['cases'])} cases in {a.out}")


if __name__ == "__main__":
    main()
