#!/usr/bin/env python3
"""Fixtures of the AdaIN backend (issue 7): a small random network with exactly the AdaIN
architecture and tensor names, test images, and PyTorch's outputs for them.

Run from the repository root with a Python that has torch, safetensors, numpy and Pillow
(e.g. ``python3 -m venv .venv-torch && .venv-torch/bin/pip install torch safetensors numpy pillow``):

    .venv-torch/bin/python scripts/make_adain_fixtures.py                 # fixtures/adain/
    .venv-torch/bin/python scripts/make_adain_fixtures.py --full /tmp/adain_full
        # full-width random network (published shapes) for the benchmarks, not committed

Network (pytorch-AdaIN ``net.py``): encoder = VGG-19 "normalised" truncated to its first 31
modules (up to relu4_1), decoder = the mirrored decoder; tensor names are the ``nn.Sequential``
indices (``0.weight``, ``2.weight``, ... / ``1.weight``, ...). The committed network has every
channel width divided by 8 (8/16/32/64; the 1x1 input conv stays 3->3 and the last decoder conv
stays ->3), which the Rust loader accepts (width factor inferred from ``2.weight``).

Weights: He-normal (ReLU gain) with small uniform biases so that activations neither vanish nor
explode through 19 layers (PyTorch's default init would shrink them to ~1e-6 and make the
comparison meaningless), then rounded to float16-representable values, so that the f32 ``.pth``
files and the f16 ``.safetensors`` files describe the very same f32 network (keeps the committed
fixtures < 1 MB). Files written:

* ``vgg.pth``            encoder, torch.save zip format (PyTorch >= 1.6), float32
* ``decoder_legacy.pth`` decoder, legacy torch.save format (``_use_new_zipfile_serialization=False``,
                         as the published 2017 weight files), float32
* ``vgg.safetensors``, ``decoder.safetensors``  same tensors as float16
* ``content_40x32.png``, ``content_37x29.png``, ``content_5x3.png``, ``style_33x27.png``
* ``expected.json``: per case the float decoder output (H x W x 3, row-major, cropped to the
  content size, before quantisation), the torchvision ``save_image`` bytes, and the style's
  relu4_1 per-channel mean and std (``calc_mean_std``: unbiased var + 1e-5).

Tiny content (side < 9, where ReflectionPad2d fails in PyTorch) is run as the Rust backend
defines it: edge-replicated (bottom/right) to at least 9 x 9, then cropped back.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20260711
MIN_SIDE = 9


def conv(cin, cout, k=3):
    return nn.Conv2d(cin, cout, (k, k))


def pad():
    return nn.ReflectionPad2d((1, 1, 1, 1))


def pool():
    return nn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True)


def build(f):
    """Encoder (31 modules, up to relu4_1) and decoder with widths divided by f."""
    c1, c2, c3, c4 = 64 // f, 128 // f, 256 // f, 512 // f
    enc = [conv(3, 3, 1), pad(), conv(3, c1), nn.ReLU(),
           pad(), conv(c1, c1), nn.ReLU(), pool(),
           pad(), conv(c1, c2), nn.ReLU(), pad(), conv(c2, c2), nn.ReLU(), pool(),
           pad(), conv(c2, c3), nn.ReLU()]
    for _ in range(3):
        enc += [pad(), conv(c3, c3), nn.ReLU()]
    enc += [pool(), pad(), conv(c3, c4), nn.ReLU()]
    assert len(enc) == 31
    dec = [pad(), conv(c4, c3), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest")]
    for _ in range(3):
        dec += [pad(), conv(c3, c3), nn.ReLU()]
    dec += [pad(), conv(c3, c2), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"),
            pad(), conv(c2, c2), nn.ReLU(), pad(), conv(c2, c1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            pad(), conv(c1, c1), nn.ReLU(), pad(), conv(c1, 3)]
    assert len(dec) == 29
    return nn.Sequential(*enc), nn.Sequential(*dec)


def init(seq, last_gain=1.0):
    convs = [m for m in seq if isinstance(m, nn.Conv2d)]
    for i, m in enumerate(convs):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.uniform_(m.bias, -0.05, 0.05)
        if i == len(convs) - 1 and last_gain != 1.0:
            # output layer of the decoder: centre the image around mid-grey
            m.weight.data *= last_gain
            nn.init.constant_(m.bias, 0.5)
    with torch.no_grad():
        for p in seq.parameters():
            p.copy_(p.half().float())


def calc_mean_std(feat, eps=1e-5):
    n, c = feat.shape[:2]
    var = feat.reshape(n, c, -1).var(dim=2) + eps
    return feat.reshape(n, c, -1).mean(dim=2), var.sqrt()


def to_tensor(rgb):
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div(255).unsqueeze(0)


def extend(x):
    h, w = x.shape[2:]
    return F.pad(x, (0, max(0, MIN_SIDE - w), 0, max(0, MIN_SIDE - h)), mode="replicate")


@torch.no_grad()
def stylize(enc, dec, content, style, alpha):
    h, w = content.shape[:2]
    cf = enc(extend(to_tensor(content)))
    sf = enc(extend(to_tensor(style)))
    cm, cs = calc_mean_std(cf)
    sm, ss = calc_mean_std(sf)
    t = (cf - cm[..., None, None]) / cs[..., None, None] * ss[..., None, None] + sm[..., None, None]
    t = t * alpha + cf * (1 - alpha)
    y = dec(t)
    # ceil_mode pools: the decoder returns 8*ceil(side/8) (of the edge-extended input)
    eh, ew = max(h, MIN_SIDE), max(w, MIN_SIDE)
    assert tuple(y.shape[2:]) == (8 * -(-eh // 8), 8 * -(-ew // 8)), y.shape
    y = y[0, :, :h, :w]
    # torchvision save_image
    q = y.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8)
    return y.permute(1, 2, 0).contiguous(), q, sm[0], ss[0]


def crop(name, x, y, w, h):
    im = np.asarray(Image.open(os.path.join(ROOT, "fixtures", "photos", name)).convert("RGB"))
    return np.ascontiguousarray(im[y:y + h, x:x + w])


def save_nets(enc, dec, out, legacy_decoder, half_safetensors):
    from safetensors.torch import save_file
    os.makedirs(out, exist_ok=True)
    esd, dsd = enc.state_dict(), dec.state_dict()
    torch.save(esd, os.path.join(out, "vgg.pth"))
    if legacy_decoder:
        torch.save(dsd, os.path.join(out, "decoder_legacy.pth"), _use_new_zipfile_serialization=False)
    else:
        torch.save(dsd, os.path.join(out, "decoder.pth"))
    dt = torch.float16 if half_safetensors else torch.float32
    save_file({k: v.to(dt).contiguous() for k, v in esd.items()}, os.path.join(out, "vgg.safetensors"))
    save_file({k: v.to(dt).contiguous() for k, v in dsd.items()}, os.path.join(out, "decoder.safetensors"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "fixtures", "adain"))
    ap.add_argument("--full", metavar="DIR", help="write a full-width random network to DIR instead")
    args = ap.parse_args()
    torch.manual_seed(SEED)
    if args.full:
        enc, dec = build(1)
        init(enc)
        init(dec, last_gain=0.5)
        save_nets(enc, dec, args.full, legacy_decoder=False, half_safetensors=False)
        # Files shaped like the published ones: legacy format, and the encoder file holding the
        # whole VGG-19 (53 modules; the loader must ignore the keys past 29.*).
        tail = [m for _ in range(3) for m in (pad(), conv(512, 512), nn.ReLU())] + [pool()]
        tail += [m for _ in range(4) for m in (pad(), conv(512, 512), nn.ReLU())]
        full = nn.Sequential(*(list(enc) + tail))
        assert len(full) == 53
        torch.save(full.state_dict(), os.path.join(args.full, "vgg_normalised_legacy.pth"),
                   _use_new_zipfile_serialization=False)
        torch.save(dec.state_dict(), os.path.join(args.full, "decoder_legacy.pth"),
                   _use_new_zipfile_serialization=False)
        print("wrote", args.full)
        return
    enc, dec = build(8)
    init(enc)
    init(dec, last_gain=0.5)
    enc.eval(), dec.eval()
    out = args.out
    save_nets(enc, dec, out, legacy_decoder=True, half_safetensors=True)

    images = {
        "content_40x32.png": crop("chelsea_224x224.png", 90, 60, 40, 32),
        "content_37x29.png": crop("coffee_97x61.png", 30, 20, 37, 29),
        "content_5x3.png": crop("china_120x160.png", 60, 80, 5, 3),
        "style_33x27.png": crop("fruits_160x120.png", 70, 40, 33, 27),
    }
    for name, arr in images.items():
        Image.fromarray(arr).save(os.path.join(out, name))
    style = images["style_33x27.png"]
    cases = []
    for content, alpha in [("content_40x32.png", 1.0), ("content_37x29.png", 0.6),
                           ("content_5x3.png", 1.0)]:
        y, q, sm, ss = stylize(enc, dec, images[content], style, alpha)
        cases.append({
            "content": content,
            "style": "style_33x27.png",
            "alpha": alpha,
            "height": int(y.shape[0]),
            "width": int(y.shape[1]),
            "output_f32": [float(v) for v in y.flatten().numpy()],
            "output_u8": [int(v) for v in q.flatten().numpy()],
        })
        print(content, "output mean %.4f std %.4f min %.4f max %.4f"
              % (y.mean(), y.std(), y.min(), y.max()), file=sys.stderr)
    doc = {
        "generator": "scripts/make_adain_fixtures.py",
        "torch": torch.__version__,
        "seed": SEED,
        "width_factor": 8,
        "style_relu4_1_mean": [float(v) for v in sm.numpy()],
        "style_relu4_1_std": [float(v) for v in ss.numpy()],
        "cases": cases,
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(doc, f)
    print("style std range %.4g..%.4g" % (ss.min(), ss.max()), file=sys.stderr)


if __name__ == "__main__":
    main()
