#!/usr/bin/env python3
"""Convert the published pytorch-AdaIN weight files to safetensors (optional: the Rust `adain`
backend reads the .pth files directly, both the legacy pre-1.6 format of the published files and
the zip format).

    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch safetensors
    .venv-torch/bin/python scripts/convert_adain_weights.py vgg_normalised.pth vgg_normalised.safetensors --encoder
    .venv-torch/bin/python scripts/convert_adain_weights.py decoder.pth decoder.safetensors

``--encoder`` keeps only the tensors the backend uses (the VGG up to relu4_1, Sequential indices
0..29), which shrinks the 80 MB VGG-19 file to 14 MB. ``--half`` stores float16 (the backend
converts back to f32; outputs then differ slightly from the f32 weights).

Equivalent one-liner:
    python -c "import torch,safetensors.torch as s; s.save_file({k: v.contiguous() for k, v in torch.load('decoder.pth').items()}, 'decoder.safetensors')"
"""
import argparse

import torch
from safetensors.torch import save_file


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--encoder", action="store_true", help="keep only Sequential indices 0..30")
    ap.add_argument("--half", action="store_true", help="store float16")
    args = ap.parse_args()
    sd = torch.load(args.src, map_location="cpu")
    if not isinstance(sd, dict):
        raise SystemExit(f"{args.src}: expected a state dict, got {type(sd).__name__}")
    out = {}
    for k, v in sd.items():
        if args.encoder and int(k.split(".")[0]) > 30:
            continue
        v = v.detach().contiguous()
        out[k] = v.half() if args.half else v.float()
    save_file(out, args.dst)
    print(f"{args.dst}: {len(out)} tensors")


if __name__ == "__main__":
    main()
