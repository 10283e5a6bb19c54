#!/usr/bin/env python3
"""Side-by-side benchmark: the reference, Pillow's codec floor and imgcorrupt in ONE run.

Run from the repository root with any Python 3 (the orchestrator needs only the standard
library; the reference side runs in the pinned oracle venv of scripts/make_fixtures.py):

    cargo build --release
    python3 scripts/bench_side_by_side.py --quick                   # ~5 min smoke run
    python3 scripts/bench_side_by_side.py > side_by_side.md         # the full table
    python3 scripts/bench_side_by_side.py --simd avx2 ...           # emulate an AVX2-only CPU
    python3 scripts/bench_side_by_side.py --ref-python /path/to/venv/bin/python ...

What is timed, on the same images, alternating the sides round by round (round k runs the
sides in the opposite order of round k-1), so that load from other processes hits all sides
alike; every figure is the minimum over rounds:

1. Per corruption (one thread): the reference `imagecorruptions.corrupt` (imagecorruptions
   1.1.2, NumPy 1.26, one BLAS/OpenCV thread) and `imgcorrupt bench --threads 1` (fast mode,
   and numpy mode unless --no-numpy) on the same prepared photos (the script prepares them
   once with Pillow, shorter side 256 + centre crop 224 by default, and hands both sides the
   same PNGs at native size). Per severity the median over calls that cycle through the
   photos; the table gives the mean over severities and the ratio reference / imgcorrupt.
   With --python-package, the imgcorrupt wheel installed in the reference venv too: issue 14's
   "Python call within 5 % of the Rust library call" as `imgcorrupt.corrupt(img, s, name,
   seed=k)` against the library call of `imgcorrupt bench` (`corrupt_with`, timed by the
   extension's `time_library_call`), alternating call by call in the same process on the same
   arrays ("Python / Rust"), and against the `imgcorrupt bench` process ("Python / CLI":
   another build of the library in another process, see the worker's "python" op).
2. Dataset generation (ImageNet geometry, JPEG q85, `common` x severities 1-5 by default) on
   a tree of JPEG sources built from the shared photos: Pillow's codec floor (decode with
   Pillow, resize shorter side 256 bilinear + centre crop 224, then one
   `save(quality=q, optimize=True)` per output cell into memory), imgcorrupt's floor
   (`generate --floor`: decode + geometry + encode, nothing written) and the full
   `imgcorrupt generate` on 1 and 2 threads (outputs on tmpfs, removed before each run).
   Wall time and CPU time (user + sys of the process).

3. `--gnt PYTHON` (alone): issue 14's GNT target, `GaussianNoiseTraining(0.5, p_clean=0)` on a
   float32 64x3x224x224 batch vs albumentations' `GaussNoise` on the same images, one process
   (PYTHON has albumentations and the imgcorrupt wheel), one thread, alternating rounds.

Every table comes with the CPU model, the ISA (and the IMGCORRUPT_SIMD cap used), the date,
the load average before and after, the git commit and the command line.
"""
import argparse
import csv
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
# Targets of issue 18 (ratio reference / imgcorrupt, one thread, AVX2).
TARGET = {"pixelate": 3.0, "jpeg_compression": 6.0}
DEFAULT_TARGET = 20.0


# --------------------------------------------------------------------------- #
# Worker: runs in the reference venv, answers JSON commands on stdin.
# --------------------------------------------------------------------------- #

def worker(light=False):
    """`light`: a worker for the Python package alone (ops "load" and "python"), which never
    imports or runs the reference, so that the package is timed in a process of its own."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import numpy as np
    import PIL
    from PIL import Image, features
    if not light:
        sys.path.insert(0, str(SCRIPTS))
        import make_fixtures as mf
        import cv2
        cv2.setNumThreads(1)
        ic = mf.load_oracle()
    images = []

    def prepare(path, size):
        im = Image.open(path).convert("RGB")
        w, h = im.size
        if size == "native":
            return im
        if size == "224":
            s, tw, th = 256 / min(w, h), 224, 224
        else:
            tw, th = (int(v) for v in size.split("x"))
            s = max(tw / w, th / h)
        nw, nh = max(tw, round(w * s)), max(th, round(h * s))
        im = im.resize((nw, nh), Image.BILINEAR)
        left, top = (nw - tw) // 2, (nh - th) // 2
        return im.crop((left, top, left + tw, top + th))

    def reply(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "versions":
            import imagecorruptions
            from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
            npy = sorted(f for f in __cpu_dispatch__ if __cpu_features__.get(f))
            reply({"numpy_dispatch": ", ".join(npy), "opencv_cpu": cv2.getCPUFeaturesLine(),
                   "numpy": np.__version__, "pillow": PIL.__version__, "opencv": cv2.__version__,
                   "libjpeg_turbo": features.version("libjpeg_turbo"),
                   "imagecorruptions": getattr(imagecorruptions, "__version__", "1.1.2"),
                   "python": platform.python_version()})
        elif op == "prepare":
            out = []
            for i, p in enumerate(cmd["paths"]):
                dst = os.path.join(cmd["out"], f"{i:03d}_{Path(p).stem}.png")
                prepare(p, cmd["size"]).save(dst)
                out.append(dst)
            images = [np.asarray(Image.open(p).convert("RGB")) for p in out]
            reply({"paths": out})
        elif op == "load":
            images = [np.asarray(Image.open(p).convert("RGB")) for p in cmd["paths"]]
            reply({"n": len(images)})
        elif op == "reference":
            res = {}
            for s in cmd["severities"]:
                np.random.seed(0)
                ic.corrupt(images[0], corruption_name=cmd["name"], severity=s)  # warm-up
                times, start, i = [], time.perf_counter(), 0
                while (len(times) < 3 or (time.perf_counter() - start) * 1e3 < cmd["min_ms"]) \
                        and len(times) < cmd.get("max_calls", 40):
                    img = images[i % len(images)]
                    t = time.perf_counter()
                    ic.corrupt(img, corruption_name=cmd["name"], severity=s)
                    times.append((time.perf_counter() - t) * 1e3)
                    i += 1
                res[str(s)] = statistics.median(times)
            reply(res)
        elif op == "python":
            # Issue 14's "Python call within 5 % of the Rust library call", measured in ONE
            # process (a light worker, fresh each round): `imgcorrupt.corrupt(img, s, name,
            # seed=k)` and the library call of `imgcorrupt bench` (`corrupt_with`, fast mode,
            # seed k: the extension's `time_library_call`, on the same array) alternate call
            # by call on the same thread, photo k mod n for call k, the order swapped every
            # other call; a warm-up call each, then until min_ms have passed for each side (at
            # least 3 calls, at most 2000); the medians. Why not against the `imgcorrupt
            # bench` process: the extension and the binary are two builds of the library
            # (cargo unifies other dependency features for each, so other codegen units) in
            # two processes with their own placement of code and data, and either effect
            # alone moved snow by 4-8 % in either direction with no change to the call
            # (BENCHMARKS.md, stop 33). That comparison is still reported, as "Python / CLI".
            import imgcorrupt
            from imgcorrupt import _imgcorrupt as native
            index = [c[0] for c in native.catalogue()].index(cmd["name"])
            res, lib = {}, {}
            for s in cmd["severities"]:
                imgcorrupt.corrupt(images[0], s, cmd["name"], seed=0)  # warm-up
                native.time_library_call(images[0], index, s, 0)
                tp, tr, start, i = [], [], time.perf_counter(), 0
                while (len(tp) < 3 or (time.perf_counter() - start) * 1e3 < 2 * cmd["min_ms"]) \
                        and len(tp) < 2000:
                    img = images[i % len(images)]
                    if i % 2:
                        tr.append(native.time_library_call(img, index, s, i) * 1e3)
                    t = time.perf_counter()
                    imgcorrupt.corrupt(img, s, cmd["name"], seed=i)
                    tp.append((time.perf_counter() - t) * 1e3)
                    if not i % 2:
                        tr.append(native.time_library_call(img, index, s, i) * 1e3)
                    i += 1
                res[str(s)] = statistics.median(tp)
                lib[str(s)] = statistics.median(tr)
            reply({"python": res, "library": lib})
        elif op == "python_version":
            try:
                import imgcorrupt
                reply({"version": f"{imgcorrupt.__version__} ({Path(imgcorrupt.__file__).parent})"})
            except ImportError as e:
                reply({"error": f"--python-package: imgcorrupt is not importable in the reference venv: {e}"})
        elif op == "make_dataset":
            files = sorted(f for f in Path(cmd["shared"]).iterdir()
                           if f.suffix.lower() in (".jpg", ".jpeg", ".png"))
            wnids = ["n01000001", "n01000002", "n01000003", "n01000004"]
            for k in range(cmd["n"]):
                f = files[k % len(files)]
                d = os.path.join(cmd["out"], wnids[k % 4])
                os.makedirs(d, exist_ok=True)
                Image.open(f).convert("RGB").save(os.path.join(d, f"ILSVRC2012_val_{k:08d}.JPEG"),
                                                  quality=90)
            reply({"n": cmd["n"]})
        elif op == "pillow_floor":
            paths = sorted(str(p) for p in Path(cmd["src"]).rglob("*.JPEG"))
            w0, c0 = time.perf_counter(), time.process_time()
            nbytes = 0
            for p in paths:
                im = Image.open(p).convert("RGB")  # decode
                w, h = im.size
                s = 256 / min(w, h)
                nw, nh = (256, int(256 * h / w)) if w <= h else (int(256 * w / h), 256)
                im = im.resize((nw, nh), Image.BILINEAR)
                left, top = round((nw - 224) / 2), round((nh - 224) / 2)
                im = im.crop((left, top, left + 224, top + 224))
                im.load()
                for _ in range(cmd["encodes"]):
                    buf = io.BytesIO()
                    im.save(buf, "JPEG", quality=cmd["quality"], optimize=True)
                    nbytes += buf.tell()
                del s
            reply({"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0,
                   "bytes": nbytes, "sources": len(paths)})
        elif op == "quit":
            reply({})
            return
        else:
            reply({"error": f"unknown op {op}"})


# Environment that keeps the reference's libraries off AVX-512 (--ref-isa avx2): NumPy's
# run-time dispatch, OpenCV's dispatch and OpenBLAS's kernel choice.
REF_AVX2_ENV = {
    "NPY_DISABLE_CPU_FEATURES": "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX "
                                "AVX512_CNL AVX512_ICL AVX512_SPR",
    "OPENCV_CPU_DISABLE": "AVX512F,AVX512-SKX,AVX512-COMMON",
    "OPENBLAS_CORETYPE": "Haswell",
}


class Worker:
    def __init__(self, python, ref_isa, simd, light=False):
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONWARNINGS="ignore", RAYON_NUM_THREADS="1")
        if simd:
            env["IMGCORRUPT_SIMD"] = simd  # the Python package (--python-package)
        if ref_isa == "avx2":
            env.update(REF_AVX2_ENV)
        argv = [python, str(Path(__file__).resolve()), "--worker"] + (["--light"] if light else [])
        self.p = subprocess.Popen(argv, env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, **cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            sys.exit(f"reference worker died during {cmd['op']}")
        out = json.loads(line)
        if isinstance(out, dict) and "error" in out:
            sys.exit(out["error"])
        return out

    def close(self):
        self.call(op="quit")
        self.p.wait()


# --------------------------------------------------------------------------- #
# Orchestrator (standard library only).
# --------------------------------------------------------------------------- #

def reference_python(given):
    """The oracle venv's interpreter: --ref-python, else .venv-reference (built from the pins)."""
    if given:
        return given
    sys.path.insert(0, str(SCRIPTS))
    import make_fixtures as mf
    import hashlib
    py = mf.VENV / "bin" / "python"
    if not py.exists():
        print(f"[bootstrap] creating {mf.VENV}", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", str(mf.VENV)])
    req_hash = hashlib.sha256(mf.REQUIREMENTS.read_bytes()).hexdigest()
    stamp = mf.VENV / ".requirements.sha256"
    if not stamp.exists() or stamp.read_text().strip() != req_hash:
        print("[bootstrap] installing the reference pins", file=sys.stderr)
        subprocess.check_call([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "-r", str(mf.REQUIREMENTS)])
        stamp.write_text(req_hash + "\n")
    return str(py)


# --------------------------------------------------------------------------- #
# --gnt: Gaussian noise training vs albumentations' GaussNoise (issue 14), one process.
# --------------------------------------------------------------------------- #
def gnt_worker(batch, sigma, rounds, repeat):
    """Runs in an interpreter that has both albumentations and the imgcorrupt wheel. Times, in
    one process and alternating the sides round by round, `GaussianNoiseTraining(sigma,
    p_clean=0)` on a float32 (N, 3, 224, 224) batch in [0, 1] (in place, the batch's data
    refreshed from the clean copy between calls, outside the timed part) and albumentations'
    `GaussNoise(std_range=(sigma, sigma), mean_range=(0, 0), p=1)` on the same N images as
    float32 (224, 224, 3) arrays (its layout; made before timing), one call per image. One
    thread everywhere (RAYON_NUM_THREADS, OpenCV, BLAS pools: set before the imports).
    Prints one JSON line."""
    import numpy as np
    import cv2
    import albumentations as A
    import imgcorrupt
    from imgcorrupt.augment import GaussianNoiseTraining
    cv2.setNumThreads(1)
    photos = sorted((REPO / "fixtures" / "photos").glob("*.png"))
    shared = Path(os.environ.get("IMGCORRUPT_SHARED_IMAGES", "/work/shared/images"))
    if shared.is_dir():
        photos = sorted(p for p in shared.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    imgs = []
    for k in range(batch):
        im = cv2.cvtColor(cv2.imread(str(photos[k % len(photos)]), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        h, w = im.shape[:2]
        s = 256 / min(h, w)
        im = cv2.resize(im, (max(256, round(w * s)), max(256, round(h * s))), interpolation=cv2.INTER_AREA)
        h, w = im.shape[:2]
        top, left = (h - 224) // 2, (w - 224) // 2
        imgs.append(im[top:top + 224, left:left + 224].astype(np.float32) / 255.0)
    hwc = [np.ascontiguousarray(i) for i in imgs]
    clean = np.ascontiguousarray(np.stack(imgs).transpose(0, 3, 1, 2))  # (N, 3, 224, 224)
    work = clean.copy()
    ours = GaussianNoiseTraining(sigma, p_clean=0.0, seed=0)
    try:
        alb = A.GaussNoise(std_range=(sigma, sigma), mean_range=(0.0, 0.0), p=1.0)
    except TypeError:  # albumentations < 1.4: variance in the image's units squared
        alb = A.GaussNoise(var_limit=(sigma ** 2, sigma ** 2), mean=0, p=1.0)

    def run_ours(epoch):
        np.copyto(work, clean)
        w0, c0 = time.perf_counter(), time.process_time()
        ours(work, index=0, epoch=epoch, inplace=True)
        return time.perf_counter() - w0, time.process_time() - c0

    def run_alb(_):
        w0, c0 = time.perf_counter(), time.process_time()
        for im in hwc:
            alb(image=im)["image"]
        return time.perf_counter() - w0, time.process_time() - c0

    # sanity: both add noise of sd sigma before clipping (mid-grey values barely clip)
    np.copyto(work, clean)
    ours(work, index=0, inplace=True)
    sd_ours = float(np.std(work - clean))
    sd_alb = float(np.std(alb(image=hwc[0])["image"] - hwc[0]))
    for f in (run_ours, run_alb):
        f(0)  # warm-up
    best = {"ours": [float("inf")] * 2, "alb": [float("inf")] * 2}
    for r in range(rounds):
        sides = [("ours", run_ours), ("alb", run_alb)]
        for name, f in (sides if r % 2 == 0 else sides[::-1]):
            for k in range(repeat):
                wall, cpu = f(r * repeat + k)
                best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    print(json.dumps({"ours": best["ours"], "alb": best["alb"], "batch": batch,
                      "sd_ours": sd_ours, "sd_alb": sd_alb, "albumentations": A.__version__,
                      "numpy": np.__version__, "imgcorrupt": imgcorrupt.__version__,
                      "python": platform.python_version()}))


def gnt_table(a, out):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               RAYON_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    if a.simd:
        env["IMGCORRUPT_SIMD"] = a.simd
    cmd = [a.gnt, str(Path(__file__).resolve()), "--gnt-worker", "--gnt-batch", str(a.gnt_batch),
           "--rounds", str(a.rounds), "--gnt-repeat", str(a.gnt_repeat)]
    _, text = timed(cmd, env)
    r = json.loads(text.strip().splitlines()[-1])
    n = r["batch"]
    out()
    out(f"GNT sigma=0.5 on a float32 {n}x3x224x224 batch in [0, 1], one thread, every sample noised: "
        f"imgcorrupt {r['imgcorrupt']} `GaussianNoiseTraining(0.5, p_clean=0)` in place on the batch vs "
        f"albumentations {r['albumentations']} `GaussNoise(std_range=(0.5, 0.5), mean_range=(0, 0), p=1)` "
        f"called on each image as float32 224x224x3 (NumPy {r['numpy']}, Python {r['python']}); minimum "
        f"over {a.rounds} alternating rounds x {a.gnt_repeat} batches. SD of the change on one image: "
        f"{r['sd_ours']:.3f} / {r['sd_alb']:.3f} (both clip to [0, 1]).")
    out()
    out("| side | wall ms per batch | CPU ms per batch | CPU us per image |")
    out("|---|---:|---:|---:|")
    for key, label in (("alb", "albumentations GaussNoise"), ("ours", "imgcorrupt GaussianNoiseTraining")):
        wall, cpu = r[key]
        out(f"| {label} | {wall * 1e3:.1f} | {cpu * 1e3:.1f} | {cpu / n * 1e6:.0f} |")
    ratio = r["alb"][1] / r["ours"][1]
    out()
    out(f"* albumentations / imgcorrupt per image (CPU time): {ratio:.1f}x (target >= 4: "
        f"{'met' if ratio >= 4 else 'short'}); wall: {r['alb'][0] / r['ours'][0]:.1f}x")


def timed(cmd, env):
    """Run cmd; return (wall s, stdout). Its CPU time: child_cpu() before and after."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err.decode(errors='replace')}")
    return wall, out.decode()


def child_cpu():
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_info():
    model, flags = platform.processor() or "?", set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and model in ("?", "x86_64", ""):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = [f for f in ("sse4_1", "avx2", "fma", "avx512f", "avx512bw", "avx512vl") if f in flags]
    return model, isa, os.cpu_count()


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return ["?"]


def parse_severities(spec):
    out = []
    for part in spec.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return sorted(set(out))


def ours_bench(binary, images, name, sevs, min_ms, rng, env):
    _, out = timed([binary, "bench", *images, "--size", "native", "-c", name, "-s",
                    ",".join(map(str, sevs)), "--threads", "1", "--rng", rng, "--csv",
                    "--min-ms", str(int(min_ms))], env)
    return {r["severity"]: float(r["ms_per_image"]) for r in csv.DictReader(io.StringIO(out))}


def resolve(binary, spec, env):
    """Corruption names of a selection (names, `common`, `validation`, `all`), via `imgcorrupt list`."""
    _, lst = timed([binary, "list"], env)
    rows = []
    for ln in lst.splitlines():
        if not ln.strip():
            break
        name, subset, family = ln.split()[:3]
        rows.append((name, subset, family))
    out = []
    for part in spec.split(","):
        if part == "all":
            out += [r[0] for r in rows]
        else:
            out += [r[0] for r in rows if part in r] or [part]
    return list(dict.fromkeys(out))


def fmt_ratio(r, target):
    mark = "met" if r >= target else f"short {target / r:.2f}x"
    return f"{r:.1f}x ({mark})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ref-python", help="interpreter with imagecorruptions 1.1.2 + NumPy 1.26 "
                    "(default: build .venv-reference from scripts/requirements-reference.txt)")
    ap.add_argument("--binary", default=str(REPO / "target" / "release" / "imgcorrupt"))
    ap.add_argument("--simd", default=os.environ.get("IMGCORRUPT_SIMD", ""),
                    help="IMGCORRUPT_SIMD cap for imgcorrupt: avx2 emulates an AVX2-only CPU, scalar")
    ap.add_argument("--ref-isa", choices=["auto", "avx2"], default=None,
                    help="keep the reference's NumPy/OpenCV/OpenBLAS off AVX-512 (default: avx2 when "
                    "--simd avx2, else auto)")
    ap.add_argument("--images", nargs="*", help="photos for the per-corruption table "
                    "(default: the shared photos, else fixtures/photos)")
    ap.add_argument("--size", default="224", help="224, WxH or native (as imgcorrupt bench)")
    ap.add_argument("-c", "--corruptions", default="all")
    ap.add_argument("-s", "--severities", default="1-5")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-ms", type=float, default=300, help="per severity and side")
    ap.add_argument("--no-numpy", action="store_true", help="skip imgcorrupt's numpy-mode column")
    ap.add_argument("--python-package", action="store_true",
                    help="also time the imgcorrupt Python package installed in the reference venv "
                    "(fast mode, seed per call) against the Rust library call in the same process "
                    "(Python / Rust) and against the CLI (Python / CLI)")
    ap.add_argument("--no-corruptions", action="store_true")
    ap.add_argument("--no-dataset", action="store_true")
    ap.add_argument("--dataset-images", type=int, default=54)
    ap.add_argument("--dataset-corruptions", default="common")
    ap.add_argument("--quality", type=int, default=85)
    ap.add_argument("--threads", default="1,2", help="thread counts of the full generation runs")
    ap.add_argument("--gnt", metavar="PYTHON",
                    help="only the GNT table (issue 14): an interpreter with albumentations and the "
                    "imgcorrupt wheel; GaussianNoiseTraining vs albumentations' GaussNoise, one process")
    ap.add_argument("--gnt-batch", type=int, default=64, help=argparse.SUPPRESS)
    ap.add_argument("--gnt-repeat", type=int, default=3, help=argparse.SUPPRESS)
    ap.add_argument("--gnt-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--light", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: severity 3, 2 rounds, 60 ms cells, 8 dataset sources, no numpy")
    if "--quick" in sys.argv[1:]:  # quick-mode defaults; options given explicitly still win
        ap.set_defaults(severities="3", rounds=2, min_ms=60, dataset_images=8, no_numpy=True)
    a = ap.parse_args()
    if a.worker:
        return worker(a.light)
    if a.gnt_worker:
        return gnt_worker(a.gnt_batch, 0.5, a.rounds, a.gnt_repeat)
    if a.ref_isa is None:
        a.ref_isa = "avx2" if a.simd.strip().lower() == "avx2" else "auto"
    if not os.path.exists(a.binary):
        sys.exit(f"{a.binary} not found: run `cargo build --release` first")
    sevs = parse_severities(a.severities)
    env = dict(os.environ)
    if a.simd:
        env["IMGCORRUPT_SIMD"] = a.simd
    else:
        env.pop("IMGCORRUPT_SIMD", None)
    shared = Path(os.environ.get("IMGCORRUPT_SHARED_IMAGES", REPO.parent / "shared" / "images"))
    if not shared.is_dir():
        shared = Path("/work/shared/images")

    model, isa, ncpu = cpu_info()
    load0 = loadavg()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "-uno"],
                           capture_output=True, text=True).stdout.strip()
    if a.gnt:
        print(f"GNT side-by-side run {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
        print(f"* command: `{' '.join(['python3', 'scripts/bench_side_by_side.py'] + sys.argv[1:])}`")
        print(f"* CPU: {model}, {ncpu} logical CPUs; ISA flags: {', '.join(isa)}; "
              f"imgcorrupt IMGCORRUPT_SIMD={a.simd or '(unset: best available)'}; "
              f"imgcorrupt checkout {commit}{' (dirty)' if dirty else ''}")
        print(f"* load average at start: {' '.join(load0)}")
        gnt_table(a, lambda s="": print(s, flush=True))
        print(f"* load average at end: {' '.join(loadavg())}")
        return 0
    w = Worker(reference_python(a.ref_python), a.ref_isa, a.simd)
    versions = w.call(op="versions")
    tmp = Path(tempfile.mkdtemp(prefix="imgc-sbs-"))
    shm = Path(tempfile.mkdtemp(prefix="imgc-sbs-out-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    lines = []

    def out(s=""):
        lines.append(s)
        print(s, flush=True)

    out(f"Side-by-side run {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    out(f"* command: `{' '.join(['python3', 'scripts/bench_side_by_side.py'] + sys.argv[1:])}`")
    out(f"* CPU: {model}, {ncpu} logical CPUs; ISA flags: {', '.join(isa)}; "
        f"imgcorrupt IMGCORRUPT_SIMD={a.simd or '(unset: best available)'}")
    out(f"* imgcorrupt {commit}{' (dirty)' if dirty else ''}, {a.binary}; reference: imagecorruptions "
        f"{versions['imagecorruptions']}, NumPy {versions['numpy']}, OpenCV {versions['opencv']}, "
        f"Pillow {versions['pillow']} (libjpeg-turbo {versions['libjpeg_turbo']}), Python {versions['python']}")
    out(f"* reference CPU paths (--ref-isa {a.ref_isa}): NumPy dispatch {versions['numpy_dispatch']}; "
        f"OpenCV {versions['opencv_cpu']}")
    out(f"* load average at start: {' '.join(load0)}")
    try:
        if not a.no_corruptions:
            corruption_table(a, w, env, sevs, tmp, shared, out)
        if not a.no_dataset:
            dataset_table(a, w, env, tmp, shm, shared, out)
    finally:
        w.close()
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(shm, ignore_errors=True)
    out(f"* load average at end: {' '.join(loadavg())}")


def corruption_table(a, w, env, sevs, tmp, shared, out):
    if a.images:
        paths = a.images
    elif shared.is_dir():
        paths = sorted(str(p) for p in shared.iterdir() if p.suffix.lower() in (".jpg", ".png"))[:8]
    else:
        paths = sorted(str(p) for p in (REPO / "fixtures" / "photos").glob("*.png"))
    imgdir = tmp / "photos"
    imgdir.mkdir()
    images = w.call(op="prepare", paths=paths, size=a.size, out=str(imgdir))["paths"]
    names = resolve(a.binary, a.corruptions, env)
    modes = ["fast"] + ([] if a.no_numpy else ["numpy"]) + (["python"] if a.python_package else [])
    if a.python_package:
        out(f"* Python package: imgcorrupt {w.call(op='python_version')['version']}")
    best = {}  # (side, name, sev) -> ms
    for rnd in range(a.rounds):
        # The Python package runs in a fresh light worker per round (never in the reference's
        # process, whose heap the reference has shaped): where a process's code, stack and
        # buffers land moves a corruption by a few per cent for its whole life (4 KiB
        # aliasing, see jpeg_compression in BENCHMARKS.md), so each side's minimum is over
        # as many processes as rounds, not one.
        pw = None
        if a.python_package:
            pw = Worker(reference_python(a.ref_python), a.ref_isa, a.simd, light=True)
            pw.call(op="load", paths=images)
        for name in names:
            sides = ["reference"] + modes
            if rnd % 2:
                sides.reverse()
            for side in sides:
                if side == "reference":
                    r = {side: w.call(op=side, name=name, severities=sevs, min_ms=a.min_ms)}
                elif side == "python":
                    r = pw.call(op=side, name=name, severities=sevs, min_ms=a.min_ms)
                else:
                    r = {side: ours_bench(a.binary, images, name, sevs, a.min_ms, side, env)}
                for part, times in r.items():
                    for s, ms in times.items():
                        k = (part, name, int(s))
                        best[k] = min(best.get(k, float("inf")), ms)
        if pw:
            pw.close()
        print(f"[round {rnd + 1}/{a.rounds} done, load {' '.join(loadavg())}]", file=sys.stderr, flush=True)
    out()
    out(f"Per corruption, {len(images)} photos at {a.size}, severities {a.severities}, one thread; "
        f"ms per image = mean over severities of the per-severity median (minimum over {a.rounds} "
        f"alternating rounds, {a.min_ms:.0f} ms per cell).")
    out()
    hdr = "| corruption | reference ms | imgcorrupt fast ms | ratio (target) |"
    sep = "|---|---:|---:|---|"
    if "numpy" in modes:
        hdr += " numpy mode ms | ratio |"
        sep += "---:|---:|"
    if "python" in modes:
        hdr += " Python package ms | Rust library, same process ms | Python / Rust | Python / CLI |"
        sep += "---:|---:|---:|---:|"
    out(hdr)
    out(sep)
    ratios = []
    for name in names:
        ref = statistics.mean(best[("reference", name, s)] for s in sevs)
        fast = statistics.mean(best[("fast", name, s)] for s in sevs)
        ratios.append(ref / fast)
        row = f"| {name} | {ref:.3f} | {fast:.3f} | {fmt_ratio(ref / fast, TARGET.get(name, DEFAULT_TARGET))} |"
        if "numpy" in modes:
            npm = statistics.mean(best[("numpy", name, s)] for s in sevs)
            row += f" {npm:.3f} | {ref / npm:.1f}x |"
        if "python" in modes:
            py = statistics.mean(best[("python", name, s)] for s in sevs)
            lib = statistics.mean(best[("library", name, s)] for s in sevs)
            row += f" {py:.3f} | {lib:.3f} | {py / lib:.3f} | {py / fast:.3f} |"
        out(row)
    out()
    out(f"Geometric mean of the fast-mode ratios: {statistics.geometric_mean(ratios):.1f}x")


def dataset_table(a, w, env, tmp, shm, shared, out):
    src = tmp / "dataset"
    w.call(op="make_dataset", shared=str(shared), n=a.dataset_images, out=str(src))
    sevs = parse_severities("1-5")
    n_corr = len(resolve(a.binary, a.dataset_corruptions, env))
    encodes = n_corr * len(sevs)
    gen = [a.binary, "generate", str(src), "-c", a.dataset_corruptions, "-s", "1-5",
           "--quality", str(a.quality)]
    threads = [int(t) for t in a.threads.split(",")]
    jobs = [("Pillow floor (decode + resize + encodes, 1 thread)", "pillow", None),
            ("imgcorrupt floor (`generate --floor`, 1 thread)", "ours", gen + ["-o", str(shm / "f"), "--floor",
                                                                             "--threads", "1"])]
    for t in threads:
        jobs.append((f"imgcorrupt generate, {t} thread{'s' if t > 1 else ''}", "ours",
                     gen + ["-o", str(shm / "g"), "--threads", str(t)]))
    best = {}
    for rnd in range(a.rounds):
        order = list(range(len(jobs)))
        if rnd % 2:
            order.reverse()
        for j in order:
            label, kind, cmd = jobs[j]
            if kind == "pillow":
                r = w.call(op="pillow_floor", src=str(src), encodes=encodes, quality=a.quality)
                wall, cpu = r["wall"], r["cpu"]
            else:
                shutil.rmtree(shm / "f", ignore_errors=True)
                shutil.rmtree(shm / "g", ignore_errors=True)
                c0 = child_cpu()
                wall, _ = timed(cmd, env)
                cpu = child_cpu() - c0
            bw, bc = best.get(j, (float("inf"), float("inf")))
            best[j] = (min(bw, wall), min(bc, cpu))
        print(f"[dataset round {rnd + 1}/{a.rounds} done, load {' '.join(loadavg())}]", file=sys.stderr,
              flush=True)
    shutil.rmtree(shm / "g", ignore_errors=True)
    out()
    out(f"Dataset generation: {a.dataset_images} JPEG sources (q90, from {shared}), ImageNet geometry, "
        f"{a.dataset_corruptions} x severities 1-5 = {encodes} JPEG q{a.quality} outputs per source; "
        f"minimum over {a.rounds} alternating rounds.")
    out()
    out("| run | wall s | CPU s (user + sys) | wall / Pillow floor |")
    out("|---|---:|---:|---:|")
    pillow_wall = best[0][0]
    for j, (label, _, _) in enumerate(jobs):
        wall, cpu = best[j]
        out(f"| {label} | {wall:.2f} | {cpu:.2f} | {wall / pillow_wall:.2f}x |")
    out()
    floor = best[1][0] / pillow_wall
    out(f"* our codec floor / Pillow's: {floor:.2f}x (target <= 1.0: {'met' if floor <= 1.0 else 'short'})")
    if 1 in threads:
        j1 = 2 + threads.index(1)
        full = best[j1][0] / pillow_wall
        out(f"* full generation (1 thread) / Pillow floor: {full:.2f}x (target <= 1.3: "
            f"{'met' if full <= 1.3 else 'short'})")
        if 2 in threads:
            j2 = 2 + threads.index(2)
            sc = best[j1][0] / best[j2][0]
            out(f"* 2 threads / 1 thread: {sc:.2f}x wall (target >= 1.9: {'met' if sc >= 1.9 else 'short'}; "
                f"only meaningful when the machine is otherwise idle)")


if __name__ == "__main__":
    sys.exit(main())
