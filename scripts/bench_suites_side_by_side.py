#!/usr/bin/env python3
"""Side-by-side timings of the shift suites (issue 16): C-bar's MIT reference operators and
LAION-C's reference functions (glitch-this and the pure functions of apply_distortions.py)
against `imgcorrupt bench`, in ONE run, alternating the sides round by round (round k runs
them in the opposite order of round k-1) so that load from other processes hits both alike;
every figure is the minimum over rounds of the per-severity median, averaged over severities.

Run from the repository root with any Python 3 (the orchestrator needs only the standard
library; each reference runs in its own venv as a worker):

    cargo build --release
    C_BAR_REF=/path/to/augmentation-corruption/imagenet_c_bar \\
    LAION_C_REF=/path/to/LAION-C/distortions/apply_distortions.py \\
    python3 scripts/bench_suites_side_by_side.py \\
        --cbar-python /path/to/venv-with-numpy-scipy-skimage/bin/python \\
        --laion-python /path/to/venv-with-glitch-this/bin/python > suites.md

C-bar: the reference's classes from `corrupt.py` (as scripts/make_c_bar_fixtures.py uses
them) with `im_size=224`, severities = the published CSV magnitudes (the presets' rows),
`t(img.copy())` on the 224×224 photos. LAION-C: `ImageGlitcher().glitch_image` with the
released settings (glitched), `draw_vertical_lines`, `luminance_augmentation`, `paste_shapes`
and `sticker_augmentations` (a bank of 64 random 16×16 tiles), levels 1–5; mosaic needs
torch and a KDTree over a tile dataset and is not timed. Ours: `imgcorrupt bench --size
native --threads 1` on the same PNGs (fast RNG mode). The table gives CPU, ISA, the
IMGCORRUPT_SIMD cap, load before/after, date, commit and the command.
"""
import argparse
import csv
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CBAR = {
    "caustic_refraction": ("CausticRefraction", [2.35, 3.2, 4.9, 6.6, 9.15]),
    "inverse_sparkles": ("InverseSparkles", [1.0, 2.0, 4.0, 9.0, 10.0]),
    "sparkles": ("Sparkles", [1.0, 2.0, 3.0, 5.0, 6.0]),
    "perlin_noise": ("PerlinNoise", [4.6, 5.2, 5.8, 7.6, 8.8]),
    "blue_noise_sample": ("BlueNoiseSample", [0.8, 1.6, 2.4, 4.0, 5.6]),
    "plasma_noise": ("PlasmaNoise", [4.75, 7.0, 8.5, 9.25, 10.0]),
    "checkerboard_cutout": ("CheckerBoardCutOut", [2.0, 3.0, 4.0, 5.0, 6.0]),
    "cocentric_sine_waves": ("CocentricSineWaves", [3.0, 5.0, 8.0, 9.0, 10.0]),
    "single_frequency_greyscale": ("SingleFrequencyGreyscale", [1.0, 1.5, 2.0, 4.5, 5.0]),
    "brownish_noise": ("BrownishNoise", [1.0, 2.0, 3.0, 4.0, 5.0]),
    "pinch_and_twirl": ("PinchAndTwirl", [5.5, 6.0, 6.5, 8.5, 10.0]),
    "ripple": ("Ripple", [5.5, 6.0, 6.5, 7.5, 8.0]),
    "circular_motion_blur": ("CircularMotionBlur", [2.8, 3.6, 4.4, 5.2, 6.0]),
    "lines": ("Lines", [0.5, 1.0, 1.5, 2.0, 2.5]),
    "transverse_chromatic_abberation": ("TransverseChromaticAbberation", [1.0, 2.0, 5.0, 9.0, 10.0]),
}
# Ours for the CIFAR-only operators: the cifar-10-c-bar preset has the CSV rows above.
LAION = ["glitched", "vertical_lines", "luminance_checkerboard", "geometric_shapes", "stickers"]


# --------------------------------------------------------------------------- #
# Workers: run in a reference venv, answer JSON commands on stdin.
# --------------------------------------------------------------------------- #

def worker(kind):
    # the reference prints progress to stdout: keep the real stdout for the protocol only
    proto, sys.stdout = sys.stdout, sys.stderr
    import numpy as np
    from PIL import Image
    sys.path.insert(0, str(REPO / "fixtures" / "laion_c"))
    if kind == "cbar":
        np.int = int  # the reference predates NumPy 1.24
        sys.path.insert(0, os.environ["C_BAR_REF"])
        import corrupt as corr
        funcs = {name: (lambda img, mag, cls=getattr(corr, cls): cls(severity=mag, im_size=224)(img.copy()))
                 for name, (cls, _) in CBAR.items()}
    else:
        import make_fixtures as lf
        from glitch_this import ImageGlitcher
        ref = lf.reference_functions(os.environ["LAION_C_REF"])
        rng = np.random.RandomState(0)
        tiles = rng.rand(64, 3, 16, 16).astype(np.float32)

        def glitched(img, level):
            amount = [2, 4, 5, 8, 10][level - 1]
            return ImageGlitcher().glitch_image(Image.fromarray(img), amount, glitch_change=0.0,
                                                cycle=False, scan_lines=True, color_offset=True,
                                                seed=1, gif=False, frames=23, step=1)

        def chw(img):
            return img.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255)

        funcs = {
            "glitched": glitched,
            "vertical_lines": lambda img, level: ref["draw_vertical_lines"](Image.fromarray(img), level),
            "luminance_checkerboard": lambda img, level: ref["luminance_augmentation"](chw(img), level, "luminance"),
            "geometric_shapes": lambda img, level: ref["paste_shapes"](
                Image.fromarray(img), [150, 300, 600, 800, 1000][level - 1]),
            "stickers": lambda img, level: ref["sticker_augmentations"](chw(img), "sticker", tiles, 1, level),
        }
    images = []
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "load":
            images = [np.asarray(Image.open(p).convert("RGB")) for p in cmd["paths"]]
            out = {"ok": len(images)}
        elif cmd["op"] == "time":
            f = funcs[cmd["name"]]
            samples, i, start = [], 0, time.perf_counter()
            while (time.perf_counter() - start < cmd["min_s"] or len(samples) < cmd["min_calls"]) and len(samples) < 200:
                img = images[i % len(images)]
                np.random.seed(i)
                t = time.perf_counter()
                f(img, cmd["severity"])
                samples.append((time.perf_counter() - t) * 1e3)
                i += 1
            out = {"ms": statistics.median(samples), "n": len(samples)}
        else:
            break
        print(json.dumps(out), file=proto, flush=True)


class Worker:
    def __init__(self, python, kind):
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.p = subprocess.Popen([python, __file__, "--worker", kind], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)

    def ask(self, **cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit(f"worker died on {cmd}")
        return json.loads(line)


# --------------------------------------------------------------------------- #
# Orchestrator
# --------------------------------------------------------------------------- #

def ours(binary, names, severities, paths, min_ms, tile_bank):
    cmd = [str(binary), "bench", "-c", ",".join(names), "-s", ",".join(map(str, severities)),
           "--size", "native", "--threads", "1", "--min-ms", str(min_ms), "--csv",
           "--tile-bank", str(tile_bank)] + [str(p) for p in paths]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    per = {}
    for row in csv.DictReader(io.StringIO(out[out.index("corruption,"):])):
        per.setdefault(row["corruption"], []).append(float(row["ms_per_image"]))
    return per


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    isa = "avx512f" if " avx512f" in flags else ("avx2" if " avx2" in flags else "sse")
    return cpu, isa


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", choices=["cbar", "laion"])
    ap.add_argument("--cbar-python", default="/work/wt/venv14/live/bin/python")
    ap.add_argument("--laion-python", default="/work/wt/venv16b/bin/python")
    ap.add_argument("--binary", default=str(REPO / "target" / "release" / "imgcorrupt"))
    ap.add_argument("--images", nargs="*", default=[str(REPO / "fixtures" / "photos" / "chelsea_224x224.png")],
                    help="photos (prepared once: shorter side 224 bilinear + centre crop 224)")
    ap.add_argument("--severities", default="1,2,3,4,5")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--min-s", type=float, default=0.3, help="minimum timed seconds per cell and side")
    ap.add_argument("--min-calls", type=int, default=2,
                    help="minimum reference calls per cell (some C-bar references take 5–35 s a call)")
    ap.add_argument("--only", default="", help="comma-separated operator names")
    ap.add_argument("--no-laion", action="store_true")
    ap.add_argument("--no-cbar", action="store_true")
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker)

    sevs = [int(s) for s in args.severities.split(",")]
    only = [n for n in args.only.split(",") if n]
    tmp = Path(tempfile.mkdtemp(prefix="suites_bench_"))
    # prepare the 224×224 PNGs with the reference venv's Pillow
    prep = ("import sys\nfrom PIL import Image\nfor i,p in enumerate(sys.argv[2:]):\n"
            " im=Image.open(p).convert('RGB'); w,h=im.size; s=224/min(w,h)\n"
            " im=im.resize((max(224,round(w*s)),max(224,round(h*s))),Image.BILINEAR)\n"
            " w,h=im.size; l,t=(w-224)//2,(h-224)//2\n"
            " im.crop((l,t,l+224,t+224)).save(f'{sys.argv[1]}/img{i}.png')\n")
    subprocess.run([args.laion_python, "-c", prep, str(tmp)] + args.images, check=True)
    paths = sorted(tmp.glob("img*.png"))

    suites = []
    if not args.no_cbar:
        suites.append(("C-bar", "cbar", args.cbar_python, [n for n in CBAR if not only or n in only]))
    if not args.no_laion:
        suites.append(("LAION-C", "laion", args.laion_python, [n for n in LAION if not only or n in only]))
    load0 = os.getloadavg()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results = {}
    for title, kind, python, names in suites:
        if not names:
            continue
        w = Worker(python, kind)
        w.ask(op="load", paths=[str(p) for p in paths])
        ref = {n: [float("inf")] * len(sevs) for n in names}
        mine = {n: [float("inf")] * len(sevs) for n in names}
        for r in range(args.rounds):
            order = ["ref", "ours"] if r % 2 == 0 else ["ours", "ref"]
            for side in order:
                if side == "ref":
                    for n in names:
                        for k, s in enumerate(sevs):
                            mag = CBAR[n][1][s - 1] if kind == "cbar" else s
                            t = w.ask(op="time", name=n, severity=mag, min_s=args.min_s,
                                      min_calls=args.min_calls)["ms"]
                            ref[n][k] = min(ref[n][k], t)
                        print(f"# round {r} ref {n}: {statistics.mean(ref[n]):.2f} ms", file=sys.stderr)
                else:
                    per = ours(args.binary, names, sevs, paths, int(args.min_s * 1000), REPO / "fixtures" / "photos")
                    for n in names:
                        for k, t in enumerate(per[n]):
                            mine[n][k] = min(mine[n][k], t)
                    print(f"# round {r} ours done", file=sys.stderr)
        w.p.stdin.close()
        w.p.wait()
        results[title] = (names, ref, mine)
    load1 = os.getloadavg()
    cpu, isa = machine()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    print(f"Run {started}, commit {commit}, CPU {cpu} ({isa}; IMGCORRUPT_SIMD="
          f"{os.environ.get('IMGCORRUPT_SIMD', 'unset')}), load {load0[0]:.2f} before / {load1[0]:.2f} after, "
          f"{len(paths)} photo(s) 224x224, severities {args.severities}, {args.rounds} rounds, one thread.")
    print(f"Command: `{' '.join(['python3'] + sys.argv)}`\n")
    for title, (names, ref, mine) in results.items():
        print(f"| {title} operator | reference ms | imgcorrupt ms | ratio | ≤ 2 ms |")
        print("|---|---:|---:|---:|:-:|")
        for n in names:
            r, m = statistics.mean(ref[n]), statistics.mean(mine[n])
            print(f"| {n} | {r:.2f} | {m:.3f} | {r / m:.0f}× | {'yes' if max(mine[n]) <= 2.0 else 'no'} |")
        print()


if __name__ == "__main__":
    main()
