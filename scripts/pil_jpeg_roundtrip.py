#!/usr/bin/env python3
"""Pillow JPEG round trip, exactly as imagecorruptions' jpeg_compression does it.

    python3 scripts/pil_jpeg_roundtrip.py IN.png OUT.png --quality 25
    python3 scripts/pil_jpeg_roundtrip.py IN.rgb OUT.png --quality 7 --size 128x96
    python3 scripts/pil_jpeg_roundtrip.py IN.png OUT.rgb --quality 10   # raw output

Input: a PNG (any mode, converted to RGB) or a raw RGB file (H*W*3 bytes,
row-major, channel fastest; needs --size WxH).  The image is saved with
``Image.save(buf, format='JPEG', quality=q)`` (Pillow defaults: 4:2:0, baseline)
into memory, decoded again with Pillow and written as an 8-bit RGB PNG, or as
raw RGB bytes if OUT ends with ``.rgb``/``.raw``.  Prints the SHA-256 of the
decoded raw bytes, the mean and the size of the JPEG stream.

Runs inside ``.venv-reference/`` (pinned Pillow 13.0.0, libjpeg-turbo 3.2.0)
when that venv exists (create it with ``python3 scripts/make_fixtures.py
--selfcheck-only``); otherwise uses the current interpreter's Pillow and warns.
"""

import argparse
import hashlib
import os
import sys
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-reference"


def maybe_reexec() -> None:
    py = VENV / "bin" / "python"
    try:
        inside = Path(sys.prefix).resolve() == VENV.resolve()
    except OSError:
        inside = False
    if inside or os.environ.get("IMGCORRUPT_JPEG_REEXEC") == "1":
        return
    if py.exists():
        env = dict(os.environ, IMGCORRUPT_JPEG_REEXEC="1")
        os.execve(str(py), [str(py), str(Path(__file__).resolve())] + sys.argv[1:], env)
    print("warning: .venv-reference/ not found, using this interpreter's Pillow "
          "(run scripts/make_fixtures.py --selfcheck-only to create the pinned venv)",
          file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--quality", "-q", type=int, required=True)
    ap.add_argument("--size", help="WxH, required for raw RGB input")
    args = ap.parse_args()
    maybe_reexec()

    from PIL import Image, features

    data = Path(args.input).read_bytes()
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        im = Image.open(BytesIO(data)).convert("RGB")
    else:
        if not args.size:
            ap.error("raw input needs --size WxH")
        w, h = (int(v) for v in args.size.lower().split("x"))
        if len(data) != w * h * 3:
            ap.error(f"raw input has {len(data)} bytes, expected {w}*{h}*3 = {w * h * 3}")
        im = Image.frombytes("RGB", (w, h), data)

    buf = BytesIO()
    im.save(buf, format="JPEG", quality=args.quality)
    jpeg_len = buf.tell()
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    out = out.convert("RGB")
    raw = out.tobytes()

    dst = Path(args.output)
    if dst.suffix.lower() in (".rgb", ".raw"):
        dst.write_bytes(raw)
    else:
        out.save(dst, format="PNG")
    mean = sum(raw) / len(raw)
    print(f"{dst}: {out.size[0]}x{out.size[1]} q={args.quality} jpeg_bytes={jpeg_len} "
          f"sha256={hashlib.sha256(raw).hexdigest()} mean={mean:.4f} "
          f"(Pillow {Image.__version__}, libjpeg-turbo {features.version('libjpeg_turbo')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
