#!/usr/bin/env python3
"""Build the per-corruption table of BENCHMARKS.md from CSV files of `imgcorrupt bench --csv`
and `scripts/bench_reference.py` (same columns), averaging the per-severity medians.

    python3 scripts/benchmarks_table.py REF224.csv OURS224.csv REF640.csv OURS640.csv \\
        [NUMPY224.csv NUMPY640.csv]
"""
import csv
import sys


def load(path):
    cells = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            cells.setdefault(r["corruption"], []).append(float(r["ms_per_image"]))
    return {k: sum(v) / len(v) for k, v in cells.items()}


def main():
    ref224, ours224, ref640, ours640 = (load(p) for p in sys.argv[1:5])
    np224, np640 = (load(p) for p in sys.argv[5:7]) if len(sys.argv) > 6 else ({}, {})
    print("| corruption | reference 224² | imgcorrupt 224² | speed-up | reference 640×480 | "
          "imgcorrupt 640×480 | speed-up | numpy mode 224² / 640×480 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in ours224:
        if c not in ref224 or c not in ref640 or c not in ours640:
            continue
        numpy = f"{np224[c]:.3f} / {np640[c]:.2f}" if c in np224 else "same as fast (no randomness)"
        print(f"| {c} | {ref224[c]:.3f} | {ours224[c]:.3f} | {ref224[c] / ours224[c]:.0f}× | "
              f"{ref640[c]:.2f} | {ours640[c]:.3f} | {ref640[c] / ours640[c]:.0f}× | {numpy} |")


if __name__ == "__main__":
    main()
