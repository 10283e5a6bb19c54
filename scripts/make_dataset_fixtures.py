#!/usr/bin/env python3
"""Build the small fixture datasets of `imgcorrupt generate` and the PIL preprocessing fixture.

Run with the reference environment (Pillow 13):

    /work/main/.venv-reference/bin/python scripts/make_dataset_fixtures.py [--shared DIR]

Writes (deterministically; re-running gives the same files):

* fixtures/datasets/imagenet/   ImageNet-style class folders, `<wnid>/ILSVRC2012_val_*.JPEG`
* fixtures/datasets/coco/       `val2017/*.jpg` + `annotations/instances_val2017.json`
* fixtures/datasets/voc/        `VOCdevkit/VOC2007/{JPEGImages,Annotations,ImageSets/Main}`
* fixtures/datasets/cityscapes/ `leftImg8bit/val/<city>/*_leftImg8bit.png` + `gtFine/val/<city>/...`
* fixtures/datasets/odd/         unusual encodings (CMYK JPEG, palette, 16-bit, grey+alpha PNG)
* fixtures/jpeg/                 PIL `save(quality=q, optimize=True)` of the preprocess PNGs and of a
                                small noise image: the oracle of the JPEG encoder
* fixtures/preprocess/          `<name>.png` sources and `<name>_imagenet224.png`: torchvision
                                `Resize(256)` + `CenterCrop(224)` computed with PIL, the oracle of
                                the ImageNet-C geometry test (docs/ALGORITHMS.md §5.1).

All photos come from the shared image collection (see fixtures/SOURCES.md for licences).
"""
import argparse
import json
import os
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"


def shared_dir(arg):
    for cand in [arg, ROOT.parent / "shared/images", ROOT.parent.parent / "shared/images",
                 Path("/work/shared/images")]:
        if cand and Path(cand).is_dir():
            return Path(cand)
    raise SystemExit("shared/images not found; pass --shared DIR")


def fit(im, w, h):
    """Cover-resize (bilinear) then centre-crop to exactly w x h."""
    im = im.convert("RGB")
    s = max(w / im.width, h / im.height)
    nw, nh = max(w, round(im.width * s)), max(h, round(im.height * s))
    im = im.resize((nw, nh), Image.BILINEAR)
    x, y = (nw - w) // 2, (nh - h) // 2
    return im.crop((x, y, x + w, y + h))


def save_jpeg(im, path, quality=90):
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, quality=quality)


def make_imagenet(src):
    base = FIX / "datasets/imagenet"
    rows = [
        ("n07747607/ILSVRC2012_val_00000001.JPEG", "opencv__orange.jpg", 300, 280),
        ("n07747607/ILSVRC2012_val_00000002.JPEG", "opencv__fruits.jpg", 240, 225),
        ("n02123045/ILSVRC2012_val_00000003.JPEG", "skimage__chelsea.png", 320, 213),
        ("n02123045/ILSVRC2012_val_00000004.JPEG", "skimage__chelsea.png", 250, 300),
    ]
    for rel, name, w, h in rows:
        save_jpeg(fit(Image.open(src / name), w, h), base / rel)


# COCO-style: (file, source photo, size, [(category_id, [x, y, w, h])])
COCO_IMAGES = [
    ("000000000139.jpg", "opencv__messi5.jpg", (320, 200),
     [(1, [40.0, 35.0, 230.0, 160.0]), (37, [195.0, 168.0, 30.0, 27.0])]),
    ("000000000285.jpg", "skimage__astronaut.png", (320, 320),
     [(1, [10.0, 8.0, 220.0, 312.0])]),
    ("000000000632.jpg", "opencv__fruits.jpg", (320, 300),
     [(55, [45.0, 25.0, 175.0, 275.0])]),
    ("000000000724.jpg", "skimage__chelsea.png", (320, 213),
     [(17, [0.0, 0.0, 320.0, 213.0])]),
]
COCO_CATEGORIES = [
    {"supercategory": "person", "id": 1, "name": "person"},
    {"supercategory": "animal", "id": 17, "name": "cat"},
    {"supercategory": "sports", "id": 37, "name": "sports ball"},
    {"supercategory": "food", "id": 55, "name": "orange"},
]


def make_coco(src):
    base = FIX / "datasets/coco"
    images, anns = [], []
    for i, (fname, name, (w, h), boxes) in enumerate(COCO_IMAGES, start=1):
        save_jpeg(fit(Image.open(src / name), w, h), base / "val2017" / fname)
        images.append({"id": i, "file_name": fname, "width": w, "height": h})
        for cat, box in boxes:
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": cat, "bbox": box,
                         "area": box[2] * box[3], "iscrowd": 0, "segmentation": []})
    doc = {"info": {"description": "imgcorrupt COCO-style fixture (4 images)"},
           "licenses": [], "images": images, "annotations": anns, "categories": COCO_CATEGORIES}
    p = base / "annotations/instances_val2017.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc, indent=1) + "\n")


VOC_XML = """<annotation>
\t<folder>VOC2007</folder>
\t<filename>{fname}</filename>
\t<size>
\t\t<width>{w}</width>
\t\t<height>{h}</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
{objects}</annotation>
"""
VOC_OBJ = """\t<object>
\t\t<name>{name}</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>0</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox>
\t\t\t<xmin>{x0}</xmin>
\t\t\t<ymin>{y0}</ymin>
\t\t\t<xmax>{x1}</xmax>
\t\t\t<ymax>{y1}</ymax>
\t\t</bndbox>
\t</object>
"""


def make_voc(src):
    base = FIX / "datasets/voc/VOCdevkit/VOC2007"
    rows = [("000001", "opencv__messi5.jpg", (320, 200), [("person", 41, 36, 270, 195)]),
            ("000002", "skimage__chelsea.png", (320, 213), [("cat", 1, 1, 320, 213)])]
    for stem, name, (w, h), objs in rows:
        save_jpeg(fit(Image.open(src / name), w, h), base / "JPEGImages" / f"{stem}.jpg")
        objects = "".join(VOC_OBJ.format(name=n, x0=a, y0=b, x1=c, y1=d) for n, a, b, c, d in objs)
        p = base / "Annotations" / f"{stem}.xml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(VOC_XML.format(fname=f"{stem}.jpg", w=w, h=h, objects=objects))
    p = base / "ImageSets/Main/test.txt"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(f"{r[0]}\n" for r in rows))


def make_cityscapes(src):
    base = FIX / "datasets/cityscapes"
    rows = [("frankfurt_000000_000294", "opencv__building.jpg"),
            ("frankfurt_000000_000576", "skimage__rocket.jpg")]
    for stem, name in rows:
        img = fit(Image.open(src / name), 256, 128)
        p = base / "leftImg8bit/val/frankfurt" / f"{stem}_leftImg8bit.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        img.save(p, optimize=True)
        # A coarse label map written for the fixture: sky (23) above row 48, building (11) below.
        lab = Image.new("L", (256, 128), 11)
        lab.paste(23, (0, 0, 256, 48))
        g = base / "gtFine/val/frankfurt" / f"{stem}_gtFine_labelIds.png"
        g.parent.mkdir(parents=True, exist_ok=True)
        lab.save(g, optimize=True)
        poly = {"imgHeight": 128, "imgWidth": 256, "objects": [
            {"label": "sky", "polygon": [[0, 0], [255, 0], [255, 47], [0, 47]]},
            {"label": "building", "polygon": [[0, 48], [255, 48], [255, 127], [0, 127]]}]}
        (g.parent / f"{stem}_gtFine_polygons.json").write_text(json.dumps(poly) + "\n")


def imagenet_geometry(im):
    """torchvision Resize(256) + CenterCrop(224) on a PIL image, as ImageNet-C (docs/ALGORITHMS.md §5.1)."""
    w, h = im.size
    short, long = min(w, h), max(w, h)
    new_short, new_long = 256, int(256 * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    im = im.resize((nw, nh), Image.BILINEAR)
    top = int(round((nh - 224) / 2.0))
    left = int(round((nw - 224) / 2.0))
    return im.crop((left, top, left + 224, top + 224))


def make_preprocess(src):
    base = FIX / "preprocess"
    base.mkdir(parents=True, exist_ok=True)
    rows = [("squirrel_300x280", "opencv__squirrel_cls.jpg", 300, 280),  # downscale, landscape
            ("astronaut_180x141", "skimage__astronaut.png", 180, 141),  # upscale, odd sizes
            ("baboon_259x319", "opencv__baboon.jpg", 259, 319)]  # portrait, slight downscale
    meta = []
    for name, photo, w, h in rows:
        im = fit(Image.open(src / photo), w, h)
        im.save(base / f"{name}.png")
        out = imagenet_geometry(im)
        out.save(base / f"{name}_imagenet224.png")
        meta.append({"source": f"{name}.png", "expected": f"{name}_imagenet224.png",
                     "width": w, "height": h})
    import PIL
    (base / "index.json").write_text(json.dumps(
        {"pillow": PIL.__version__, "recipe": "Resize(256) shorter side, BILINEAR; "
         "CenterCrop(224) with round((h-224)/2), round((w-224)/2)", "cases": meta}, indent=1) + "\n")


def make_odd(src):
    """Unusual but valid encodings: CMYK JPEG, palette PNG, 16-bit PNG, grey+alpha PNG."""
    base = FIX / "datasets/odd"
    base.mkdir(parents=True, exist_ok=True)
    im = fit(Image.open(src / "skimage__coffee.png"), 40, 30)
    im.convert("CMYK").save(base / "cmyk.jpg", quality=90)
    im.convert("P", palette=Image.ADAPTIVE, colors=16).save(base / "palette.png")
    im.convert("I;16").save(base / "grey16.png")
    la = im.convert("LA")
    la.putalpha(200)
    la.save(base / "grey_alpha.png")


def make_jpeg():
    """PIL JPEG files (the oracle of the libjpeg-compatible encoder): the preprocess PNGs and a
    small noise image saved with save(quality=q, optimize=True), as ImageNet-C saves."""
    import numpy as np
    base = FIX / "jpeg"
    base.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(5)
    noise = rng.randint(0, 256, size=(41, 73, 3)).astype(np.uint8)  # odd sizes, partial blocks
    Image.fromarray(noise).save(base / "noise_73x41.png")
    cases = []
    srcs = sorted((FIX / "preprocess").glob("*.png")) + [base / "noise_73x41.png"]
    for src in srcs:
        for q in (85, 30, 95):
            if q != 85 and "noise" not in src.name and "squirrel_300" not in src.name:
                continue
            out = base / f"{src.stem}_q{q}.jpg"
            Image.open(src).convert("RGB").save(out, "JPEG", quality=q, optimize=True)
            cases.append({"source": str(src.relative_to(FIX)), "quality": q,
                          "jpeg": str(out.relative_to(FIX))})
    import PIL
    (base / "index.json").write_text(json.dumps(
        {"pillow": PIL.__version__, "save": "Image.save(path, 'JPEG', quality=q, optimize=True)",
         "cases": cases}, indent=1) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", help="shared/images directory")
    ap.add_argument("--only", choices=["datasets", "preprocess"])
    a = ap.parse_args()
    src = shared_dir(a.shared)
    if a.only in (None, "datasets"):
        make_imagenet(src)
        make_coco(src)
        make_voc(src)
        make_cityscapes(src)
        make_odd(src)
    if a.only in (None, "preprocess"):
        make_preprocess(src)
        make_jpeg()


if __name__ == "__main__":
    main()
