#!/usr/bin/env python3
"""Oracle outputs of the original ImageNet-C / CIFAR-10-C / Tiny-ImageNet-C elastic_transform
(hendrycks/robustness ImageNet-C/create_c/make_*_c.py; ALGORITHMS.md §5.3) for the presets'
`form = "imagenet-c"` branch, and of their frost (texture scale 1 / 0.3 / 0.2, §5.2) for
`frost.texture_scale`, and of their motion_blur (ImageMagick MotionBlurImage through Wand on a
PNG round trip) for `motion_blur.quantise = "imagemagick"`, and of their snow (layer trimmed,
truncated to 8 bit, blurred by ImageMagick) for `snow.layer = "imagemagick"`, under fixtures/original/ (see
fixtures/SOURCES.md). Motion blur needs Wand and ImageMagick (Debian `imagemagick`, 6.9.11 Q16).

Frost needs imagecorruptions' six frost photographs: FROST_DIR (default
/work/frost/imagecorruptions/frost); they are not committed, and the frost test is skipped
where they are absent (IMGCORRUPT_FROST_DIR, as for the imagecorruptions frost tests).

The function below is the original's algorithm, run with the real libraries it calls:
OpenCV getAffineTransform + warpAffine (BORDER_REFLECT_101), scikit-image gaussian
(mode='reflect', truncate=3), SciPy map_coordinates (order=1, mode='reflect'). The severity
tables are the original expressions (244·k at 224, IMSIZE·k at 32 and 64), written here
independently of corruptions/*.toml. Seed rule: np.random.seed(100 + severity) right before
each call.

Writes, per case, `elastic_<preset>_<side>.npy`: uint8 (6, side, side, 3) = the input image,
then severities 1..5 (np.uint8 of the result, i.e. truncation, as create_c saves it).

Also, for imagenet-c-299 (make_imagenet_c_inception.py): `geometry_inception.npy` (its
`resized_center_crop` with PIL on four committed photos, names in geometry_inception.txt), the
elastic / frost / motion_blur / snow files at 299 (on the last photo's 299 crop), its glass_blur
(constant bounds 299; seeds 500 + s) and fog (plasma map 512 cropped to 299; seeds 600 + s),
and make_imagenet_c.py's glass_blur on a 232x240 image (`glass_imagenet-c_232x240.npy`).

Environment: scripts/requirements-original.txt (pinned; Python 3.11) with Debian bookworm's
ImageMagick 6.9.11.60 Q16.
Usage: python3 scripts/make_original_fixtures.py [--only-299]
"""
import os
import sys

import cv2
import numpy as np
from scipy.ndimage import map_coordinates
from skimage.filters import gaussian

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cifar_fixture import read_png_rgb  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def elastic_original(image, c):
    image = np.array(image, dtype=np.float32) / 255.
    shape = image.shape
    shape_size = shape[:2]
    # random affine
    center_square = np.float32(shape_size) // 2
    square_size = min(shape_size) // 3
    pts1 = np.float32([center_square + square_size,
                       [center_square[0] + square_size, center_square[1] - square_size],
                       center_square - square_size])
    pts2 = pts1 + np.random.uniform(-c[2], c[2], size=pts1.shape).astype(np.float32)
    M = cv2.getAffineTransform(pts1, pts2)
    image = cv2.warpAffine(image, M, shape_size[::-1], borderMode=cv2.BORDER_REFLECT_101)
    dx = (gaussian(np.random.uniform(-1, 1, size=shape[:2]), c[1], mode='reflect', truncate=3) * c[0]).astype(np.float32)
    dy = (gaussian(np.random.uniform(-1, 1, size=shape[:2]), c[1], mode='reflect', truncate=3) * c[0]).astype(np.float32)
    dx, dy = dx[..., np.newaxis], dy[..., np.newaxis]
    x, y, z = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]), np.arange(shape[2]))
    indices = np.reshape(y + dy, (-1, 1)), np.reshape(x + dx, (-1, 1)), np.reshape(z, (-1, 1))
    return np.clip(map_coordinates(image, indices, order=1, mode='reflect').reshape(shape), 0, 1) * 255


FROST_DIR = os.environ.get("FROST_DIR", "/work/frost/imagecorruptions/frost")


def frost_original(x, c, scale):
    idx = np.random.randint(5)
    filename = ['frost1.png', 'frost2.png', 'frost3.png', 'frost4.jpg', 'frost5.jpg', 'frost6.jpg'][idx]
    frost = cv2.imread(os.path.join(FROST_DIR, filename))
    if scale != 1:
        frost = cv2.resize(frost, (0, 0), fx=scale, fy=scale)
    h, w = x.shape[:2]
    x_start, y_start = np.random.randint(0, frost.shape[0] - h), np.random.randint(0, frost.shape[1] - w)
    frost = frost[x_start:x_start + h, y_start:y_start + w][..., [2, 1, 0]]
    return np.clip(c[0] * np.array(x) + c[1] * frost, 0, 255)


FROST = {299: (1, [(1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)]),
         224: (1, [(1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)]),
         64: (0.3, [(1, 0.3), (0.9, 0.4), (0.8, 0.45), (0.75, 0.5), (0.7, 0.55)]),
         32: (0.2, [(1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)])}


def motion_blur_original(x, c):
    from ctypes import c_double, c_void_p
    from wand.api import library as wandlibrary
    from wand.image import Image as WandImage
    wandlibrary.MagickMotionBlurImage.argtypes = (c_void_p, c_double, c_double, c_double)

    class MotionImage(WandImage):
        def motion_blur(self, radius=0.0, sigma=0.0, angle=0.0):
            wandlibrary.MagickMotionBlurImage(self.wand, radius, sigma, angle)

    ok, png = cv2.imencode(".png", np.ascontiguousarray(x[..., ::-1]))  # what PIL's save writes
    assert ok
    img = MotionImage(blob=png.tobytes())
    img.motion_blur(radius=c[0], sigma=c[1], angle=np.random.uniform(-45, 45))
    y = cv2.imdecode(np.frombuffer(img.make_blob(), np.uint8), cv2.IMREAD_UNCHANGED)
    if y.ndim == 3:
        return np.clip(y[..., [2, 1, 0]], 0, 255)
    return np.clip(np.array([y, y, y]).transpose((1, 2, 0)), 0, 255)


def clipped_zoom_original(img, zoom_factor):
    from scipy.ndimage import zoom as scizoom
    h = img.shape[0]
    ch = int(np.ceil(h / zoom_factor))
    top = (h - ch) // 2
    img = scizoom(img[top:top + ch, top:top + ch], (zoom_factor, zoom_factor, 1), order=1)
    trim_top = (img.shape[0] - h) // 2
    return img[trim_top:trim_top + h, trim_top:trim_top + h]


def snow_original(x, c):
    from ctypes import c_double, c_void_p
    from wand.api import library as wandlibrary
    from wand.image import Image as WandImage
    wandlibrary.MagickMotionBlurImage.argtypes = (c_void_p, c_double, c_double, c_double)

    class MotionImage(WandImage):
        def motion_blur(self, radius=0.0, sigma=0.0, angle=0.0):
            wandlibrary.MagickMotionBlurImage(self.wand, radius, sigma, angle)

    side = x.shape[0]
    x = np.array(x, dtype=np.float32) / 255.
    snow_layer = np.random.normal(size=x.shape[:2], loc=c[0], scale=c[1])
    snow_layer = clipped_zoom_original(snow_layer[..., np.newaxis], c[2])
    snow_layer[snow_layer < c[3]] = 0
    layer8 = (np.clip(snow_layer.squeeze(), 0, 1) * 255).astype(np.uint8)  # PIL mode 'L'
    ok, png = cv2.imencode(".png", layer8)
    assert ok
    snow_layer = MotionImage(blob=png.tobytes())
    snow_layer.motion_blur(radius=c[4], sigma=c[5], angle=np.random.uniform(-135, -45))
    snow_layer = cv2.imdecode(np.frombuffer(snow_layer.make_blob(), np.uint8), cv2.IMREAD_UNCHANGED) / 255.
    snow_layer = snow_layer[..., np.newaxis]
    x = c[6] * x + (1 - c[6]) * np.maximum(x, cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).reshape(side, side, 1) * 1.5 + 0.5)
    return np.clip(x + snow_layer + np.rot90(snow_layer, k=2), 0, 1) * 255


SNOW = {299: [(0.1, 0.3, 3, 0.5, 10, 4, 0.8), (0.2, 0.3, 2, 0.5, 12, 4, 0.7), (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
              (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65), (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55)],
        224: [(0.1, 0.3, 3, 0.5, 10, 4, 0.8), (0.2, 0.3, 2, 0.5, 12, 4, 0.7), (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
              (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65), (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55)],
        64: [(0.1, 0.2, 1, 0.6, 8, 3, 0.8), (0.1, 0.2, 1, 0.5, 10, 4, 0.8), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.7),
             (0.25, 0.3, 2.25, 0.6, 12, 6, 0.65), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.6)],
        32: [(0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
             (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)]}


MOTION = {299: [(12, 4), (17, 6), (17, 9), (17, 13), (22, 16)],
          224: [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)],
          64: [(10, 1), (10, 1.5), (10, 2), (10, 2.5), (12, 3)],
          32: [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)]}


def tables(imsize):
    if imsize == 299:
        return [(360 * 2, 360 * 0.7, 360 * 0.1), (360 * 2, 360 * 0.08, 360 * 0.2),
                (360 * 0.05, 360 * 0.01, 360 * 0.02), (360 * 0.07, 360 * 0.01, 360 * 0.02),
                (360 * 0.12, 360 * 0.01, 360 * 0.02)]
    if imsize == 224:
        return [(244 * 2, 244 * 0.7, 244 * 0.1), (244 * 2, 244 * 0.08, 244 * 0.2),
                (244 * 0.05, 244 * 0.01, 244 * 0.02), (244 * 0.07, 244 * 0.01, 244 * 0.02),
                (244 * 0.12, 244 * 0.01, 244 * 0.02)]
    IMSIZE = imsize
    if imsize == 64:
        return [(IMSIZE*0, IMSIZE*0, IMSIZE*0.08), (IMSIZE*0.05, IMSIZE*0.3, IMSIZE*0.06),
                (IMSIZE*0.1, IMSIZE*0.08, IMSIZE*0.06), (IMSIZE*0.1, IMSIZE*0.03, IMSIZE*0.03),
                (IMSIZE*0.16, IMSIZE*0.03, IMSIZE*0.02)]
    return [(IMSIZE*0, IMSIZE*0, IMSIZE*0.08), (IMSIZE*0.05, IMSIZE*0.2, IMSIZE*0.07),
            (IMSIZE*0.08, IMSIZE*0.06, IMSIZE*0.06), (IMSIZE*0.1, IMSIZE*0.04, IMSIZE*0.05),
            (IMSIZE*0.1, IMSIZE*0.03, IMSIZE*0.03)]


def glass_original(x, c, side):
    """The original glass_blur: loops bounded by the script's constant side, not the image's."""
    x = np.uint8(gaussian(np.array(x) / 255., sigma=c[0], channel_axis=-1) * 255)
    for i in range(c[2]):
        for h in range(side - c[1], c[1], -1):
            for w in range(side - c[1], c[1], -1):
                dx, dy = np.random.randint(-c[1], c[1], size=(2,))
                h_prime, w_prime = h + dy, w + dx
                x[h, w], x[h_prime, w_prime] = x[h_prime, w_prime], x[h, w]
    return np.clip(gaussian(x / 255., sigma=c[0], channel_axis=-1), 0, 1) * 255


GLASS = {224: [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)],
         299: [(0.8, 1, 3), (1, 3, 1), (1.1, 2, 4), (1.2, 4, 2), (1.6, 5, 2)]}


def plasma_fractal(mapsize=512, wibbledecay=3):
    """make_imagenet_c_inception.py's plasma_fractal (diamond-square, default map 512)."""
    assert (mapsize & (mapsize - 1) == 0)
    maparray = np.empty((mapsize, mapsize), dtype=np.float64)
    maparray[0, 0] = 0
    stepsize = mapsize
    wibble = 100

    def wibbledmean(array):
        return array / 4 + wibble * np.random.uniform(-wibble, wibble, array.shape)

    def fillsquares():
        cornerref = maparray[0:mapsize:stepsize, 0:mapsize:stepsize]
        squareaccum = cornerref + np.roll(cornerref, shift=-1, axis=0)
        squareaccum += np.roll(squareaccum, shift=-1, axis=1)
        maparray[stepsize // 2:mapsize:stepsize, stepsize // 2:mapsize:stepsize] = wibbledmean(squareaccum)

    def filldiamonds():
        mapsize_ = maparray.shape[0]
        drgrid = maparray[stepsize // 2:mapsize_:stepsize, stepsize // 2:mapsize_:stepsize]
        ulgrid = maparray[0:mapsize_:stepsize, 0:mapsize_:stepsize]
        ltsum = drgrid + np.roll(drgrid, 1, axis=0) + ulgrid + np.roll(ulgrid, -1, axis=1)
        maparray[0:mapsize_:stepsize, stepsize // 2:mapsize_:stepsize] = wibbledmean(ltsum)
        ttsum = drgrid + np.roll(drgrid, 1, axis=1) + ulgrid + np.roll(ulgrid, -1, axis=0)
        maparray[stepsize // 2:mapsize_:stepsize, 0:mapsize_:stepsize] = wibbledmean(ttsum)

    while stepsize >= 2:
        fillsquares()
        filldiamonds()
        stepsize //= 2
        wibble /= wibbledecay
    maparray -= maparray.min()
    return maparray / maparray.max()


def fog_299(x, c):
    x = np.array(x) / 255.
    max_val = x.max()
    x += c[0] * plasma_fractal(wibbledecay=c[1])[:299, :299][..., np.newaxis]
    return np.clip(x * max_val / (max_val + c[0]), 0, 1) * 255


FOG_299 = [(1.5, 2), (2, 2), (2.5, 1.8), (2.5, 1.6), (3, 1.5)]


def resized_center_crop(img):
    """make_imagenet_c_inception.py's preprocessing with PIL: centre crop int(0.875 h) x
    int(0.875 w) at round((h - th) / 2), round((w - tw) / 2), then resize to 299x299 BILINEAR."""
    from PIL import Image
    w, h = img.size
    th, tw = int(h * 0.875), int(w * 0.875)
    i, j = int(round((h - th) / 2.)), int(round((w - tw) / 2.))
    return img.crop((j, i, j + tw, i + th)).resize((299, 299), Image.BILINEAR)


def main_299():
    """ImageNet-C 299: the geometry on two photographs (as decoded by PIL), then the
    corruptions at 299 on the first one's result, and the constant glass bounds of
    make_imagenet_c.py (224) on a larger, non-square image."""
    from PIL import Image
    out_dir = os.path.join(ROOT, "original")
    names = ["coffee_97x61.png", "fruits_160x120.png", "china_120x160.png", "chelsea_224x224.png"]
    geo = [np.asarray(resized_center_crop(Image.open(os.path.join(ROOT, "photos", n)).convert("RGB")))
           for n in names]
    np.save(os.path.join(out_dir, "geometry_inception.npy"), np.stack(geo))
    with open(os.path.join(out_dir, "geometry_inception.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    print("wrote geometry_inception.npy from", names)
    img = np.ascontiguousarray(geo[-1])
    scale, frost_table = FROST[299]
    oracles = [("elastic", 100, tables(299), elastic_original),
               ("frost", 200, frost_table, lambda x, c: frost_original(x, c, scale)),
               ("motion_blur", 300, MOTION[299], motion_blur_original),
               ("snow", 400, SNOW[299], snow_original),
               ("glass", 500, GLASS[299], lambda x, c: glass_original(x, c, 299)),
               ("fog", 600, FOG_299, fog_299)]
    for stem, seed_base, table, fn in oracles:
        out = [img]
        for s, c in enumerate(table, 1):
            np.random.seed(seed_base + s)
            out.append(np.uint8(fn(img, c)))
        path = os.path.join(out_dir, "%s_imagenet-c-299_299.npy" % stem)
        np.save(path, np.stack(out))
        print("wrote", path)
    # constant bounds: make_imagenet_c.py's glass_blur on a 232x240 image (shuffles only the
    # top-left 224x224)
    w, h, px = read_png_rgb(os.path.join(ROOT, "photos", "chelsea_224x224.png"))
    big = np.asarray(Image.fromarray(np.frombuffer(px, dtype=np.uint8).reshape(h, w, 3)).resize((240, 232), Image.BILINEAR))
    out = [big]
    for s, c in enumerate(GLASS[224], 1):
        np.random.seed(500 + s)
        out.append(np.uint8(glass_original(big, c, 224)))
    path = os.path.join(out_dir, "glass_imagenet-c_232x240.npy")
    np.save(path, np.stack(out))
    print("wrote", path)


def main():
    w, h, px = read_png_rgb(os.path.join(ROOT, "photos", "chelsea_224x224.png"))
    photo = np.frombuffer(px, dtype=np.uint8).reshape(h, w, 3)
    cases = [("imagenet-c", photo), ("tiny-imagenet-c", photo[60:124, 80:144]),
             ("cifar-10-c", photo[96:128, 96:128])]
    os.makedirs(os.path.join(ROOT, "original"), exist_ok=True)
    for preset, img in cases:
        img = np.ascontiguousarray(img)
        side = img.shape[0]
        scale, frost_table = FROST[side]
        oracles = [("elastic", 100, tables(side), elastic_original),
                   ("frost", 200, frost_table, lambda x, c: frost_original(x, c, scale)),
                   ("motion_blur", 300, MOTION[side], motion_blur_original),
                   ("snow", 400, SNOW[side], snow_original)]
        for stem, seed_base, table, fn in oracles:
            out = [img]
            for s, c in enumerate(table, 1):
                np.random.seed(seed_base + s)
                out.append(np.uint8(fn(img, c)))
            path = os.path.join(ROOT, "original", "%s_%s_%d.npy" % (stem, preset, side))
            np.save(path, np.stack(out))
            print("wrote", path)

if __name__ == "__main__":
    if "--only-299" not in sys.argv:
        main()
    main_299()
