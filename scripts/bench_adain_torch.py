#!/usr/bin/env python3
"""PyTorch CPU timing of the AdaIN network (issue 7 target: the Rust `adain` backend within 2x
of this at the same thread count).

    .venv-torch/bin/python scripts/make_adain_fixtures.py --full /tmp/adain_full
    .venv-torch/bin/python scripts/bench_adain_torch.py --weights /tmp/adain_full

Times one stylization of the 224x224 photo ``fixtures/photos/chelsea_224x224.png`` (content
encoding to relu4_1, AdaIN with precomputed style statistics, decoding; the same work as
``AdainNet::stylize`` in ``benches/adain.rs``) with ``torch.set_num_threads(1)`` and ``(2)``,
under ``torch.inference_mode()``. Reports the median and minimum of ``--repeats`` runs after
``--warmup`` runs, as wall time and as process CPU time.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_adain_fixtures import ROOT, build, calc_mean_std, to_tensor  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="/tmp/adain_full")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    enc, dec = build(1)
    enc.load_state_dict(torch.load(os.path.join(args.weights, "vgg.pth")))
    dec.load_state_dict(torch.load(os.path.join(args.weights, "decoder.pth")))
    enc.eval(), dec.eval()
    photo = np.asarray(Image.open(os.path.join(ROOT, "fixtures/photos/chelsea_224x224.png")).convert("RGB"))
    style = np.asarray(Image.open(os.path.join(ROOT, "fixtures/photos/fruits_160x120.png")).convert("RGB"))
    x = to_tensor(photo)
    print(f"torch {torch.__version__}, mkldnn {torch.backends.mkldnn.is_available()}, "
          f"{torch.backends.cpu.get_cpu_capability()}")
    with torch.inference_mode():
        sm, ss = calc_mean_std(enc(to_tensor(style)))

        def once():
            cf = enc(x)
            cm, cs = calc_mean_std(cf)
            t = (cf - cm[..., None, None]) / cs[..., None, None] * ss[..., None, None] + sm[..., None, None]
            return dec(t).mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)

        for threads in (1, 2):
            torch.set_num_threads(threads)
            for _ in range(args.warmup):
                once()
            wall, cpu = [], []
            for _ in range(args.repeats):
                w0, c0 = time.perf_counter(), time.process_time()
                once()
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
            print(f"threads={threads}: wall median {1e3 * np.median(wall):.1f} ms "
                  f"(min {1e3 * min(wall):.1f}), process CPU median {1e3 * np.median(cpu):.1f} ms")


if __name__ == "__main__":
    main()
