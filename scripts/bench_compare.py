#!/usr/bin/env python3
"""Before/after comparison of two imgcorrupt binaries on the same photos, in the same run.

Two measures, both per corruption:
* wall time: `imgcorrupt bench --csv` of each binary, alternating (before, after, then after,
  before, ...) for --rounds rounds; per (corruption, severity) the minimum over rounds, then the
  mean over severities. Alternation and minima keep a loaded machine from favouring either side.
* --callgrind: instructions counted by valgrind's callgrind for `bench --min-ms 0` (one warm-up
  and three timed calls per severity, so the work is fixed): repeatable to the instruction
  whatever the load. The count includes the same photo decoding and resizing on both sides.

Usage:
  scripts/bench_compare.py --before OLD/imgcorrupt --after target/release/imgcorrupt \
      [--size 224] [--size 640x480] [--rounds 6] [--callgrind] > table.md
"""
import argparse
import collections
import csv
import glob
import io
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bench_csv(binary, photos, size, corruptions, min_ms):
    out = subprocess.run(
        [binary, "bench", *photos, "--size", size, "-c", corruptions, "--csv", "--min-ms", str(min_ms)],
        check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(io.StringIO(out)))


def instructions(binary, photos, size, corruption):
    r = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", binary, "bench", *photos,
         "--size", size, "-c", corruption, "--min-ms", "0", "--csv"],
        capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", r.stderr).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--size", action="append")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--min-ms", type=int, default=100)
    ap.add_argument("-c", "--corruptions", default="all")
    ap.add_argument("--callgrind", action="store_true")
    a = ap.parse_args()
    sizes = a.size or ["224", "640x480"]
    photos = sorted(glob.glob(os.path.join(ROOT, "fixtures", "photos", "*.png")))
    sides = {"before": a.before, "after": a.after}

    best = collections.defaultdict(lambda: float("inf"))  # (side, size, corruption, sev) -> ms
    names = []
    for r in range(a.rounds):
        for size in sizes:
            for side in (["before", "after"] if r % 2 == 0 else ["after", "before"]):
                for row in bench_csv(sides[side], photos, size, a.corruptions, a.min_ms):
                    c = row["corruption"]
                    if c not in names:
                        names.append(c)
                    k = (side, size, c, row["severity"])
                    best[k] = min(best[k], float(row["ms_per_image"]))
    mean = collections.defaultdict(list)
    for (side, size, c, _), ms in best.items():
        mean[(side, size, c)].append(ms)
    head = " | ".join(f"{s}: before (ms) | after (ms) | after/before" for s in sizes)
    print(f"| corruption | {head} |\n|---|" + "---:|---:|---:|" * len(sizes))
    ratios = collections.defaultdict(list)
    for c in names:
        cells = []
        for s in sizes:
            b = statistics.mean(mean[("before", s, c)])
            f = statistics.mean(mean[("after", s, c)])
            ratios[s].append(f / b)
            cells.append(f"{b:.3f} | {f:.3f} | {f / b:.2f}")
        print(f"| {c} | " + " | ".join(cells) + " |")
    print("\nGeometric mean after/before: " + ", ".join(
        f"{s}: {statistics.geometric_mean(ratios[s]):.3f}" for s in sizes))

    if a.callgrind:
        head = " | ".join(f"{s}: before (M instr.) | after | after/before" for s in sizes)
        print(f"\n| corruption | {head} |\n|---|" + "---:|---:|---:|" * len(sizes))
        for c in names:
            cells = []
            for s in sizes:
                b, f = (instructions(sides[x], photos, s, c) for x in ("before", "after"))
                cells.append(f"{b / 1e6:.1f} | {f / 1e6:.1f} | {f / b:.3f}")
            print(f"| {c} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
