#!/usr/bin/env python3
"""Record the global NumPy generator state imagecorruptions 1.1.2 leaves after each call.

The oracle of the Python drop-in's global-RNG parity (python/tests/test_rng_state.py): with
no seed, ``imgcorrupt.corrupt`` must advance ``np.random``'s legacy MT19937 state exactly as
the reference does, so that user code drawing afterwards sees the same numbers.

Runs the reference in the pinned environment of ``scripts/requirements-reference.txt`` with
the shims of ``scripts/make_fixtures.py`` (bootstrap and oracle are imported from there), on
the committed fixture photos, and writes ``fixtures/reference/rng_states.json``:

* ``entries``: for every photo x corruption x severity of ``fixtures/reference/index.json``
  (same seed rule: ``np.random.seed(1000*photo_index + 10*corruption_index + severity)``
  immediately before ``corrupt``), the state after the call: ``pos``, ``has_gauss``,
  ``cached_gaussian`` (``float.hex``) and the SHA-256 of the 624 key words (uint32
  little-endian), plus the SHA-256 of the output (which must equal index.json's).
* ``chain``: one ``np.random.seed(77)`` and then every corruption except frost (which needs
  the reference's photographs on our side) at severity 2 on the coffee photo without
  reseeding, followed by one ``np.random.random_sample()`` of user code: the state (and that
  draw) after each call, which checks the carry-over of the cached normal between calls.

Usage: ``python3 scripts/make_rng_state_fixtures.py`` (creates/reuses .venv-reference/).
"""

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402

OUT = mf.REFERENCE_DIR / "rng_states.json"
CHAIN_SEED = 77
CHAIN_PHOTO = "coffee_97x61.png"
CHAIN_SEVERITY = 2


def state_record(np):
    _, key, pos, has_gauss, cached = np.random.get_state()
    return {
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached).hex(),
        "key_sha256": hashlib.sha256(key.astype("<u4").tobytes()).hexdigest(),
    }


def main() -> int:
    mf.bootstrap()
    ic = mf.load_oracle()
    import numpy as np
    from PIL import Image

    index = json.loads((mf.REFERENCE_DIR / "index.json").read_text())
    photos = {p: np.asarray(Image.open(mf.PHOTOS_DIR / p).convert("RGB")) for p in index["photos"]}
    entries = []
    for e in index["entries"]:
        clean = photos[e["photo"] + ".png"]
        np.random.seed(e["seed"])
        out = np.asarray(ic.corrupt(clean.copy(), corruption_name=e["corruption"], severity=e["severity"]))
        sha = hashlib.sha256(out.tobytes()).hexdigest()
        if sha != e["sha256"]:
            sys.exit(f"oracle drift: {e['file']} differs from index.json")
        entries.append({"photo": e["photo"], "corruption": e["corruption"],
                        "severity": e["severity"], "seed": e["seed"], **state_record(np)})
        print(f"[rng] {e['file']}", flush=True)

    chain = []
    clean = photos[CHAIN_PHOTO]
    np.random.seed(CHAIN_SEED)
    for name in ic.get_corruption_names("all"):
        if name == "frost":
            continue
        out = np.asarray(ic.corrupt(clean.copy(), corruption_name=name, severity=CHAIN_SEVERITY))
        rec = {"corruption": name, "output_sha256": hashlib.sha256(out.tobytes()).hexdigest(),
               **state_record(np)}
        chain.append(rec)
    after = float(np.random.random_sample()).hex()

    OUT.write_text(json.dumps({
        "generator": "scripts/make_rng_state_fixtures.py",
        "oracle": index["oracle"],
        "versions": mf.versions(),
        "shims": mf.SHIMS,
        "fields": {
            "pos, has_gauss, cached_gaussian": "np.random.get_state() after the call "
                                               "(cached_gaussian as float.hex)",
            "key_sha256": "SHA-256 of the 624 MT19937 key words as little-endian uint32",
        },
        "entries": entries,
        "chain": {"seed": CHAIN_SEED, "photo": CHAIN_PHOTO.removesuffix(".png"),
                  "severity": CHAIN_SEVERITY, "calls": chain,
                  "random_sample_after": after},
    }, indent=1) + "\n")
    print(f"[rng] wrote {OUT.relative_to(mf.REPO)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
