#!/usr/bin/env python3
"""Lossy WebP files written by Pillow, for the byte-identity test of `--image-format webp`.

    /work/main/.venv-reference/bin/python scripts/make_webp_fixtures.py

Writes fixtures/webp/<photo>_q<Q>.webp = `Image.open(photo).convert("RGB").save(f, "WEBP",
quality=Q)` for the committed photos, and index.json (Pillow and libwebp versions).
"""
import io
import json
from pathlib import Path

from PIL import Image, features

REPO = Path(__file__).resolve().parent.parent
out = REPO / "fixtures" / "webp"
out.mkdir(parents=True, exist_ok=True)
cases = []
for photo, qualities in [("coffee_97x61", [85, 30, 100]), ("china_120x160", [85]),
                         ("fruits_160x120", [85, 60])]:
    im = Image.open(REPO / "fixtures" / "photos" / f"{photo}.png").convert("RGB")
    for q in qualities:
        buf = io.BytesIO()
        im.save(buf, "WEBP", quality=q)
        name = f"{photo}_q{q}.webp"
        (out / name).write_bytes(buf.getvalue())
        cases.append({"source": f"photos/{photo}.png", "quality": q, "webp": f"webp/{name}"})
(out / "index.json").write_text(json.dumps({
    "pillow": Image.__version__, "libwebp": features.version("webp"),
    "save": 'Image.save(f, "WEBP", quality=q)', "cases": cases}, indent=1) + "\n")
print(f"{len(cases)} files in {out}")
