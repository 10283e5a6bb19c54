#!/usr/bin/env python3
"""Produce the committed reference fixtures of imgcorrupt from the Python oracle.

Run from the repository root:

    python3 scripts/make_fixtures.py                      # everything
    python3 scripts/make_fixtures.py --corruptions fog,snow --photos chelsea_224x224
    python3 scripts/make_fixtures.py --selfcheck-only      # Appendix C check only

What it does
------------
1. Bootstrap: creates (or reuses) the virtualenv ``.venv-reference/`` in the repo
   root, installs the exact pins of ``scripts/requirements-reference.txt`` into it
   (re-installed only when that file changes) and re-executes itself with the
   venv's interpreter.  The system Python needs nothing but the standard library.
2. Prepares the fixture photos ``fixtures/photos/*.png`` (RGB, 8 bit) from the
   shared real photographs with Pillow (deterministic; see PHOTOS below).  A
   photo file is rewritten only if its pixels changed.
3. For every photo x corruption (imagecorruptions catalogue order) x severity
   1..5: ``np.random.seed(seed)`` then ``imagecorruptions.corrupt(...)``, with
   ``seed = 1000*photo_index + 10*corruption_index + severity`` (photo_index =
   position in the sorted list of ALL fixture photo file names, independent of
   ``--photos``; corruption_index = 0..18 in catalogue order).  Output is saved
   losslessly as ``fixtures/reference/<photo-stem>/<corruption>/s<severity>.png``
   and described in ``fixtures/reference/index.json`` (merged with the entries
   already there, so restricted runs only replace what they recompute).
4. Self-check of the oracle against Appendix C of
   ``/work/shared/reference/CORRUPTIONS.md`` (printed only, never committed).

Shims applied to the oracle (imagecorruptions 1.1.2 on scikit-image 0.20)
------------------------------------------------------------------------
* ``gaussian``: imagecorruptions 1.1.2 calls
  ``skimage.filters.gaussian(..., multichannel=True)``, which scikit-image 0.20
  rejects.  ``skimage.filters.gaussian`` and the name ``gaussian`` that
  imagecorruptions imported into its own module are replaced by a wrapper that
  turns ``multichannel=True`` into ``channel_axis=-1`` and drops
  ``multichannel=False``.  All other arguments pass through unchanged (the
  remaining calls of the reference are on 2-D arrays, for which the default
  channel handling of 0.20 means "no channel axis").
* ``random_noise`` (impulse_noise): scikit-image >= 0.19 draws salt & pepper
  masks from a fresh, *unseeded* PCG64 ``default_rng()``, so ``np.random.seed``
  cannot make impulse_noise reproducible.  ``skimage.util.random_noise`` (which
  the reference calls as ``sk.util.random_noise(x, mode='s&p', amount=c)``) is
  replaced, for ``mode='s&p'`` only, by the LEGACY scikit-image 0.14-0.18 code
  path using the GLOBAL ``np.random`` state::

      low_clip = -1 if image.min() < 0 else 0
      out = image.copy()
      flipped = np.random.choice([True, False], size=image.shape, p=[amount, 1 - amount])
      salted  = np.random.choice([True, False], size=image.shape, p=[salt_vs_pepper, 1 - salt_vs_pepper])
      peppered = ~salted
      out[flipped & salted] = 1
      out[flipped & peppered] = low_clip
      out = np.clip(out, low_clip, 1.0)          # clip=True

  (amount defaults to 0.05, salt_vs_pepper to 0.5, as in scikit-image.)
  That is what ImageNet-C was generated with and what the spec's Appendix C
  "impulse_noise (legacy)" row uses.  Other modes fall through to the original.
* NumPy 1.26 still has ``np.float_`` etc., so no NumPy shim is needed.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve()
REPO = SCRIPT.parent.parent
VENV = REPO / ".venv-reference"
REQUIREMENTS = SCRIPT.parent / "requirements-reference.txt"
# The shared photo collection sits beside the checkout (../shared/images); override with
# IMGCORRUPT_SHARED_IMAGES.
SHARED_IMAGES = Path(os.environ.get("IMGCORRUPT_SHARED_IMAGES", REPO.parent / "shared" / "images"))
FIXTURES = REPO / "fixtures"
PHOTOS_DIR = FIXTURES / "photos"
REFERENCE_DIR = FIXTURES / "reference"

# --------------------------------------------------------------------------- #
# 1. Bootstrap (standard library only)
# --------------------------------------------------------------------------- #


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _in_venv() -> bool:
    try:
        return Path(sys.prefix).resolve() == VENV.resolve()
    except OSError:
        return False


def bootstrap() -> None:
    """Create/refresh the oracle venv and re-execute this script inside it."""
    if _in_venv():
        return
    if os.environ.get("IMGCORRUPT_FIXTURES_REEXEC") == "1":
        sys.exit("make_fixtures: re-exec into .venv-reference did not take effect")
    py = _venv_python()
    if not py.exists():
        print(f"[bootstrap] creating {VENV}", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    req_hash = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = VENV / ".requirements.sha256"
    if not stamp.exists() or stamp.read_text().strip() != req_hash:
        print(f"[bootstrap] installing pins from {REQUIREMENTS.name}", flush=True)
        subprocess.check_call([str(py), "-m", "pip", "install", "--quiet",
                               "--disable-pip-version-check", "-r", str(REQUIREMENTS)])
        stamp.write_text(req_hash + "\n")
    env = dict(os.environ, IMGCORRUPT_FIXTURES_REEXEC="1")
    # Re-execute whichever script called us (make_fixtures.py or bench_reference.py).
    os.execve(str(py), [str(py), str(Path(sys.argv[0]).resolve())] + sys.argv[1:], env)


# --------------------------------------------------------------------------- #
# 2. Fixture photos
# --------------------------------------------------------------------------- #

# (output file, shared source file, geometry, target W, target H)
#   "imagenet": shorter side -> 256 (other side int(256*long/short), as
#               torchvision Resize(256)), Pillow BILINEAR, then centre crop 224
#               with offsets round((h-224)/2), round((w-224)/2).
#   "cover":    scale = max(W/w, H/h); resize to (max(W, round(w*scale)),
#               max(H, round(h*scale))) with Pillow BILINEAR, centre crop W x H
#               with offsets round((h'-H)/2), round((w'-W)/2).
PHOTOS = [
    ("chelsea_224x224.png", "skimage__chelsea.png", "imagenet", 224, 224),
    ("fruits_160x120.png", "opencv__fruits.jpg", "cover", 160, 120),
    ("china_120x160.png", "sklearn__china.jpg", "cover", 120, 160),
    ("coffee_97x61.png", "skimage__coffee.png", "cover", 97, 61),
]

# Rows of /work/shared/images/SOURCES.md that apply to each source.
PHOTO_ORIGIN = {
    "skimage__chelsea.png": ("PyPI `scikit-image` 0.20.0, bundled `skimage/data` (chelsea.png)",
                             "CC0 (Stefan van der Walt)", "cat (animal, fur texture)"),
    "opencv__fruits.jpg": ("Debian `opencv-doc` 4.6.0 (OpenCV samples/data, fruits.jpg)",
                           "Apache-2.0 AND BSD-3-Clause (Debian copyright)",
                           "fruit (colourful objects)"),
    "sklearn__china.jpg": ("PyPI `scikit-learn` 1.9.1, `sklearn/datasets/images` (china.jpg)",
                           "CC BY 2.0 (Flickr users danielbuechele, vultilion; see "
                           "scikit-learn's README.txt there)",
                           "temple building and sky (landscape/architecture)"),
    "skimage__coffee.png": ("PyPI `scikit-image` 0.20.0, bundled `skimage/data` (coffee.png)",
                            "CC0 (Rachel Michetti)",
                            "cup of coffee on a textured surface"),
}


def _centre_crop(im, w, h):
    W, H = im.size
    top = int(round((H - h) / 2))
    left = int(round((W - w) / 2))
    return im.crop((left, top, left + w, top + h))


def prepare_photo(src: Path, geometry: str, tw: int, th: int):
    from PIL import Image
    im = Image.open(src)
    im.load()
    im = im.convert("RGB")
    w, h = im.size
    if geometry == "imagenet":
        assert (tw, th) == (224, 224)
        if w <= h:
            nw, nh = 256, int(256 * h / w)
        else:
            nw, nh = int(256 * w / h), 256
        im = im.resize((nw, nh), Image.BILINEAR)
        im = _centre_crop(im, 224, 224)
    elif geometry == "cover":
        scale = max(tw / w, th / h)
        nw, nh = max(tw, int(round(w * scale))), max(th, int(round(h * scale)))
        im = im.resize((nw, nh), Image.BILINEAR)
        im = _centre_crop(im, tw, th)
    else:
        raise ValueError(geometry)
    assert im.size == (tw, th) and im.mode == "RGB"
    return im


def save_png(im, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    im.save(tmp, format="PNG", optimize=True, compress_level=9)
    os.replace(tmp, path)


def make_photos() -> None:
    import numpy as np
    from PIL import Image
    PHOTOS_DIR.mkdir(parents=True, exist_ok=True)
    for out_name, src_name, geometry, tw, th in PHOTOS:
        out = PHOTOS_DIR / out_name
        im = prepare_photo(SHARED_IMAGES / src_name, geometry, tw, th)
        if out.exists():
            old = np.asarray(Image.open(out).convert("RGB"))
            if old.shape == np.asarray(im).shape and np.array_equal(old, np.asarray(im)):
                continue
            print(f"[photos] WARNING: {out_name} changed, rewriting", flush=True)
        save_png(im, out)
        print(f"[photos] wrote {out.relative_to(REPO)} ({tw}x{th} from {src_name})", flush=True)
    write_sources_md()


def write_sources_md() -> None:
    lines = [
        "# Fixture provenance",
        "",
        "## fixtures/photos/",
        "",
        "Real photographs, not made by this project. Each was copied from the shared image",
        "collection of the project (`shared/images/`, files copied unchanged from public",
        "packages) and then resized/cropped deterministically by `scripts/make_fixtures.py`",
        "(Pillow 13.0.0, `Image.BILINEAR`), stored as 8-bit RGB PNG.",
        "",
        "| fixture file | source image | shipped in | licence | content | derivation |",
        "|---|---|---|---|---|---|",
    ]
    for out_name, src_name, geometry, tw, th in PHOTOS:
        shipped, licence, content = PHOTO_ORIGIN[src_name]
        if geometry == "imagenet":
            how = ("ImageNet geometry: shorter side resized to 256 (longer side "
                   "`int(256*long/short)`), bilinear; centre crop 224x224 at offsets "
                   "`round((h-224)/2)`, `round((w-224)/2)`")
        else:
            how = (f"cover resize (scale `max({tw}/w, {th}/h)`, bilinear) + centre crop "
                   f"to {tw}x{th} (WxH)")
        lines.append(f"| `photos/{out_name}` | `{src_name}` | {shipped} | {licence} | "
                     f"{content} | {how} |")
    lines += [
        "",
        "Matching rows of `shared/images/SOURCES.md`:",
        "",
        "| prefix | shipped in | licence |",
        "|---|---|---|",
        "| `opencv__` (19) | Debian `opencv-doc` (OpenCV samples/data) | Apache-2.0 AND "
        "BSD-3-Clause (Debian copyright); baboon is the classic USC-SIPI \"Mandrill\" test image |",
        "| `skimage__` (4) | PyPI `scikit-image`, bundled `skimage/data` | astronaut: public "
        "domain (NASA); chelsea: CC0 (Stefan van der Walt); coffee: CC0 (Rachel Michetti); "
        "rocket: public domain (SpaceX) |",
        "| `sklearn__` (2) | PyPI `scikit-learn`, `sklearn/datasets/images` | CC BY 2.0 "
        "(Flickr users danielbuechele, vultilion; see scikit-learn's README.txt there) |",
        "",
        "## fixtures/reference/",
        "",
        "Every file under `fixtures/reference/` is an output of the reference implementation",
        "**imagecorruptions 1.1.2** (Apache-2.0, bethgelab/imagecorruptions) applied to the",
        "photos above, computed by `scripts/make_fixtures.py` with the pinned environment",
        "of `scripts/requirements-reference.txt` (two compatibility shims, documented in the",
        "script and in `reference/index.json`). `reference/index.json` lists, per output,",
        "the seed, SHA-256 of the raw HxWx3 bytes, mean and PSNR against the clean photo.",
        "Seed rule: `np.random.seed(1000*photo_index + 10*corruption_index + severity)`",
        "immediately before `imagecorruptions.corrupt(img, corruption_name, severity)`,",
        "photo_index = position of the photo in sorted file-name order, corruption_index =",
        "0..18 in imagecorruptions catalogue order.",
        "",
    ]
    (FIXTURES / "SOURCES.md").write_text("\n".join(lines))


# --------------------------------------------------------------------------- #
# 3. Oracle with shims
# --------------------------------------------------------------------------- #

SHIMS = {
    "gaussian": ("skimage.filters.gaussian and imagecorruptions.corruptions.gaussian wrapped: "
                 "multichannel=True -> channel_axis=-1, multichannel=False dropped "
                 "(scikit-image 0.20 rejects `multichannel`)"),
    "random_noise": ("skimage.util.random_noise(mode='s&p') replaced by the legacy scikit-image "
                     "0.14-0.18 algorithm on the GLOBAL np.random state: flipped = "
                     "np.random.choice([True, False], size=shape, p=[amount, 1-amount]); salted = "
                     "np.random.choice([True, False], size=shape, p=[0.5, 0.5]); out[flipped & "
                     "salted] = 1; out[flipped & ~salted] = low_clip (0 for non-negative input); "
                     "np.clip(out, low_clip, 1)"),
}


def load_oracle():
    import warnings
    warnings.filterwarnings("ignore")  # pkg_resources deprecation, FutureWarnings
    import numpy as np
    import skimage
    import skimage.filters
    import skimage.util

    orig_gaussian = skimage.filters.gaussian

    def gaussian_shim(image, *args, **kwargs):
        if "multichannel" in kwargs:
            mc = kwargs.pop("multichannel")
            if mc:
                kwargs["channel_axis"] = -1
        return orig_gaussian(image, *args, **kwargs)

    orig_random_noise = skimage.util.random_noise

    def random_noise_shim(image, mode="gaussian", seed=None, clip=True, **kwargs):
        if mode.lower() != "s&p":
            return orig_random_noise(image, mode=mode, seed=seed, clip=clip, **kwargs)
        if seed is not None:
            np.random.seed(seed)
        low_clip = -1.0 if image.min() < 0 else 0.0
        image = skimage.util.img_as_float(image)
        amount = kwargs.get("amount", 0.05)
        salt_vs_pepper = kwargs.get("salt_vs_pepper", 0.5)
        out = image.copy()
        flipped = np.random.choice([True, False], size=image.shape, p=[amount, 1 - amount])
        salted = np.random.choice([True, False], size=image.shape,
                                  p=[salt_vs_pepper, 1 - salt_vs_pepper])
        peppered = ~salted
        out[flipped & salted] = 1
        out[flipped & peppered] = low_clip
        if clip:
            out = np.clip(out, low_clip, 1.0)
        return out

    skimage.filters.gaussian = gaussian_shim
    skimage.util.random_noise = random_noise_shim
    import imagecorruptions
    import imagecorruptions.corruptions as ic_mod
    ic_mod.gaussian = gaussian_shim
    if hasattr(imagecorruptions, "gaussian"):
        imagecorruptions.gaussian = gaussian_shim
    assert ic_mod.sk.util.random_noise is random_noise_shim
    return imagecorruptions


def versions() -> dict:
    from importlib import metadata
    out = {"python": sys.version.split()[0]}
    for dist in ["imagecorruptions", "numpy", "scipy", "scikit-image", "opencv-python",
                 "Pillow", "setuptools", "PyWavelets", "imageio", "tifffile", "networkx",
                 "lazy_loader", "packaging"]:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    try:
        from PIL import features
        out["libjpeg-turbo (Pillow)"] = features.version("libjpeg_turbo")
        out["zlib (Pillow)"] = features.version("zlib")
    except Exception:  # pragma: no cover
        pass
    try:
        import cv2
        out["cv2.__version__"] = cv2.__version__
    except Exception:  # pragma: no cover
        pass
    return out


# --------------------------------------------------------------------------- #
# 4. Reference outputs
# --------------------------------------------------------------------------- #


def stats(out, clean):
    import numpy as np
    sha = hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest()
    mean = float(out.astype(np.float64).mean())
    mse = float(((out.astype(np.float64) - clean.astype(np.float64)) ** 2).mean())
    psnr = None if mse == 0 else 10.0 * float(np.log10(255.0 ** 2 / mse))
    return sha, mean, psnr


def make_reference(ic, photo_names, corruption_names) -> None:
    import time
    import traceback
    import numpy as np
    from PIL import Image

    catalogue = ic.get_corruption_names("all")
    all_photos = sorted(p[0] for p in PHOTOS)
    index_path = REFERENCE_DIR / "index.json"
    old_entries, old_failures = [], []
    if index_path.exists():
        old = json.loads(index_path.read_text())
        old_entries, old_failures = old.get("entries", []), old.get("failures", [])

    new_entries, new_failures, done = [], [], set()
    for photo in photo_names:
        pidx = all_photos.index(photo)
        stem = Path(photo).stem
        clean = np.asarray(Image.open(PHOTOS_DIR / photo).convert("RGB"))
        h, w = clean.shape[:2]
        for name in corruption_names:
            cidx = catalogue.index(name)
            t0 = time.time()
            for s in range(1, 6):
                seed = 1000 * pidx + 10 * cidx + s
                done.add((stem, name, s))
                rel = f"{stem}/{name}/s{s}.png"
                np.random.seed(seed)
                try:
                    out = ic.corrupt(clean.copy(), corruption_name=name, severity=s)
                    out = np.asarray(out)
                    if out.dtype != np.uint8 or out.shape != (h, w, 3):
                        raise RuntimeError(f"unexpected output {out.dtype} {out.shape}")
                except Exception as e:  # record and carry on
                    msg = "".join(traceback.format_exception_only(type(e), e)).strip()
                    print(f"[ref] FAIL {stem} {name} s{s}: {msg}", flush=True)
                    new_failures.append({"photo": stem, "corruption": name, "severity": s,
                                         "seed": seed, "error": msg})
                    continue
                save_png(Image.fromarray(out, "RGB"), REFERENCE_DIR / rel)
                sha, mean, psnr = stats(out, clean)
                new_entries.append({
                    "photo": stem, "width": w, "height": h, "corruption": name,
                    "severity": s, "seed": seed, "file": rel, "sha256": sha,
                    "mean": round(mean, 6),
                    "psnr_vs_clean": None if psnr is None else round(psnr, 6),
                })
            print(f"[ref] {stem:18s} {name:18s} done in {time.time() - t0:6.2f}s", flush=True)

    def key(e):
        return (e["photo"], e["corruption"], e["severity"])

    pos = {n: i for i, n in enumerate(catalogue)}
    entries = [e for e in old_entries if key(e) not in done] + new_entries
    entries.sort(key=lambda e: (e["photo"], pos[e["corruption"]], e["severity"]))
    failures = [f for f in old_failures if key(f) not in done] + new_failures
    failures.sort(key=lambda e: (e["photo"], pos[e["corruption"]], e["severity"]))

    index = {
        "generator": "scripts/make_fixtures.py",
        "oracle": "imagecorruptions 1.1.2 (Apache-2.0), imagecorruptions.corrupt(img, "
                  "corruption_name=..., severity=...) on the uint8 RGB photo",
        "versions": versions(),
        "seed_rule": "np.random.seed(1000*photo_index + 10*corruption_index + severity) "
                     "immediately before corrupt(); photo_index = position of the photo file "
                     "name in the sorted 'photos' list below, corruption_index = 0..18 in "
                     "imagecorruptions catalogue order",
        "photos": all_photos,
        "corruptions": catalogue,
        "shims": SHIMS,
        "fields": {
            "file": "path relative to fixtures/reference/, lossless 8-bit RGB PNG",
            "sha256": "SHA-256 of the raw output bytes (HxWx3 uint8, row-major, channel fastest)",
            "mean": "mean of all output bytes",
            "psnr_vs_clean": "PSNR in dB against the clean photo on the 0..255 scale "
                             "(null when identical)",
        },
        "failures": failures,
        "entries": entries,
    }
    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    index_path.write_text(json.dumps(index, indent=1) + "\n")
    print(f"[ref] index.json: {len(entries)} entries, {len(failures)} failures", flush=True)


# --------------------------------------------------------------------------- #
# 5. Appendix C self-check (printed only)
# --------------------------------------------------------------------------- #

# From Appendix C of CORRUPTIONS.md (imagecorruptions HEAD, NumPy 2.4.6, SciPy 1.17.1,
# scikit-image 0.26.0, OpenCV 4.10.0, Pillow 13.0.0, numba 0.68.1).
APPENDIX_C = {
    "gaussian_noise": "dbe8d27c448b 117.479|f11bae15fe11 117.633|8ea9738774da 117.986|4cb6bcfe19cc 118.650|42db88f7465a 119.774",
    "shot_noise": "3e0af36a1797 117.414|ebc99a131861 116.915|ff6edfbb15fa 115.970|4401db17aafd 111.936|ebb0cdbecba3 106.958",
    "impulse_noise": "1b7006d50885 118.220|5fc7e02438b2 118.678|311dab59588c 118.798|ff162297e260 119.422|55dda1098a5d 120.414",
    "defocus_blur": "6d2293f8afd6 117.475|fbf69c2dc8ec 117.478|48c984527d57 117.518|cc3c5e5045bb 119.049|1b0a64d6b2eb 118.796",
    "glass_blur": "22dda554e02d 116.469|d06d59cf94bd 116.741|d24ac547528e 116.432|5aeb429a0e96 117.278|549035298642 117.186",
    "motion_blur": "8b426135d3d4 117.720|f8f523773597 117.988|d37920f3816d 118.252|9523061a2abe 118.544|27c7e0a1a5b0 118.699",
    "zoom_blur": "7afd4436b0bb 117.701|809afc5d687b 117.802|e93b04523aec 117.912|e2496786fef5 118.012|d870c9be6b7a 118.121",
    "snow": "afd32344bc61 161.698|2fba38de4cdf 187.074|6ec94ddac245 186.300|24cd4a7cca05 198.006|0d19740fef08 212.809",
    "frost": "78ef19808b5b 170.371|59083fd4cf17 174.158|7965664e2889 175.860|7229a95a0c0e 170.261|79608ef4b76c 171.107",
    "fog": "3226b808a92f 114.877|d4fe0df4dded 114.603|582fb76bc126 115.935|71f448d0be00 117.684|ffb6cca81f96 118.158",
    "brightness": "db733af4a135 141.362|ae4d6c3394eb 164.333|f6ca112ad7b4 184.038|6018fcfcbbf6 201.336|28d6f2bdeb6b 215.036",
    "contrast": "93c9ebb201e8 117.462|a4d8359a5843 117.480|6d0300e79ca7 117.397|3fd1c2b34523 117.482|bf5d29df110f 117.492",
    "elastic_transform": "0243f2534212 117.551|3a78d6668ce3 117.540|9b95b7643821 117.564|8e11ae1a4303 117.646|0edd6eddf66f 117.590",
    "pixelate": "38fe4b5cc03c 118.396|561fe671f091 118.483|b87ebc3cac37 118.182|30d574a0b537 118.156|8e74ef57dc02 118.281",
    "jpeg_compression": "c1f532680d22 117.570|8871d5b552b7 117.433|2c47a56bc383 116.908|ae2058357579 118.498|7614a18f9473 117.178",
    "speckle_noise": "e58cdd39efcb 117.295|2a999af04e04 117.048|17216f27075c 115.537|50917c3f53d5 114.179|3a5a7079497c 112.302",
    "gaussian_blur": "bd804fa12712 117.421|d5dc9a1f1813 117.455|e674516209d7 117.388|16200e804c95 117.362|bb8cf180d2c6 117.334",
    "spatter": "1f64bcf16f80 119.152|6ea716a51ab2 121.489|57c1ca2ab3c6 124.953|03b5a0a10965 110.189|e1cf219418ac 104.857",
    "saturate": "1f0cb2af79dc 122.321|ad5faee6031a 123.654|b332bb58e4af 111.653|d8f2cca65672 92.120|95f1c864cf02 84.739",
}
# The nine corruptions for which imagecorruptions 1.1.2 must agree with HEAD.
SELFCHECK_REQUIRED = ["gaussian_noise", "shot_noise", "impulse_noise", "brightness", "contrast",
                      "pixelate", "jpeg_compression", "speckle_noise", "saturate"]


def appendix_c_image():
    import numpy as np
    H, W = 96, 128
    y, x = np.mgrid[0:H, 0:W]
    v = (2 * x + 3 * y + 5 * ((x * y) % 7)) % 200 + 20
    chk = ((x // 16) + (y // 16)) % 2
    img = np.stack([v + d * chk for d in (0, 12, -15)], axis=-1).astype(np.uint8)
    return img


def selfcheck(ic, names) -> bool:
    import numpy as np
    img = appendix_c_image()
    sha = hashlib.sha256(img.tobytes()).hexdigest()
    ok_img = sha.startswith("0bb89ca2010d7c76")
    print(f"[selfcheck] Appendix C input: sha256 {sha[:16]} mean {img.mean():.4f} "
          f"-> {'OK' if ok_img else 'MISMATCH'}", flush=True)
    all_ok = ok_img
    print(f"[selfcheck] {'corruption':18s} " + " ".join(f"{'s' + str(s):24s}" for s in range(1, 6)))
    for name in names:
        exp = [c.split() for c in APPENDIX_C[name].split("|")]
        cells = []
        for s in range(1, 6):
            np.random.seed(0)
            try:
                out = np.asarray(ic.corrupt(img.copy(), corruption_name=name, severity=s))
                h = hashlib.sha256(out.tobytes()).hexdigest()[:12]
                m = out.astype(np.float64).mean()
                if h == exp[s - 1][0]:
                    verdict = "match"
                elif abs(m - float(exp[s - 1][1])) <= 0.0015:
                    verdict = "MEAN-ONLY"
                else:
                    verdict = "MISMATCH"
                cells.append(f"{h} {m:7.3f} {verdict}")
            except Exception as e:
                verdict = "ERROR"
                cells.append(f"ERROR {type(e).__name__}")
            if verdict != "match" and name in SELFCHECK_REQUIRED:
                all_ok = False
        tag = "" if name in SELFCHECK_REQUIRED else " (info)"
        print(f"[selfcheck] {name + tag:18s} " + " | ".join(cells), flush=True)
    print(f"[selfcheck] required nine: {'ALL MATCH' if all_ok else 'NOT ALL MATCH'}", flush=True)
    return all_ok


# --------------------------------------------------------------------------- #


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corruptions", help="comma-separated subset (default: all 19)")
    ap.add_argument("--photos", help="comma-separated subset of fixture photos "
                                     "(file names or stems; default: all)")
    ap.add_argument("--selfcheck-only", action="store_true",
                    help="only run the Appendix C self-check")
    ap.add_argument("--no-selfcheck", action="store_true", help="skip the Appendix C self-check")
    ap.add_argument("--selfcheck-all", action="store_true",
                    help="self-check all 19 corruptions (informational beyond the nine)")
    args = ap.parse_args()

    bootstrap()

    ic = load_oracle()
    catalogue = ic.get_corruption_names("all")
    assert len(catalogue) == 19

    if not args.no_selfcheck:
        selfcheck(ic, catalogue if args.selfcheck_all else SELFCHECK_REQUIRED)
    if args.selfcheck_only:
        return 0

    make_photos()

    if args.corruptions:
        names = [c.strip() for c in args.corruptions.split(",") if c.strip()]
        bad = [c for c in names if c not in catalogue]
        if bad:
            ap.error(f"unknown corruptions: {bad}")
        names = [c for c in catalogue if c in names]
    else:
        names = catalogue
    all_photos = sorted(p[0] for p in PHOTOS)
    if args.photos:
        want = [p.strip() for p in args.photos.split(",") if p.strip()]
        photos = []
        for p in want:
            fn = p if p.endswith(".png") else p + ".png"
            if fn not in all_photos:
                ap.error(f"unknown photo {p}; have {all_photos}")
            photos.append(fn)
        photos = [p for p in all_photos if p in photos]
    else:
        photos = all_photos

    make_reference(ic, photos, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
