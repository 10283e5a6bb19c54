#!/usr/bin/env python3
"""Build the per-corruption table of BENCHMARKS.md (mean over severities of the per-severity
medians) from CSV files with the columns of `imgcorrupt bench --csv` /
`scripts/bench_reference.py`, next to the reference numbers of peer_times.md.

    python3 scripts/benchmarks_table.py --peer ../shared/reference/peer_times.md \\
        --ref 224=ref224.csv --ref 640=ref640.csv --ours 224=ours224.csv --ours 640=ours640.csv \\
        --numpy 224=np224.csv --numpy 640=np640.csv
"""
import argparse
import csv
import re


def load(path):
    cells = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            cells.setdefault(r["corruption"], []).append(float(r["ms_per_image"]))
    return {k: sum(v) / len(v) for k, v in cells.items()}


def pairs(items):
    return {k: load(v) for k, v in (i.split("=", 1) for i in items)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", required=True)
    ap.add_argument("--ref", action="append", default=[])
    ap.add_argument("--ours", action="append", required=True)
    ap.add_argument("--numpy", action="append", default=[])
    a = ap.parse_args()
    peer = {}
    for line in open(a.peer):
        m = re.match(r"\| (\w+) \| (?:common|extra) \| ([\d.]+) \| \d+ \| ([\d.]+) \| \d+ \|", line)
        if m:
            peer[m.group(1)] = {"224": float(m.group(2)), "640": float(m.group(3))}
    ref, ours, numpy = pairs(a.ref), pairs(a.ours), pairs(a.numpy)
    sizes = [s for s in ("224", "640") if s in ours]
    head = "| corruption |"
    for s in sizes:
        label = "224²" if s == "224" else "640×480"
        head += f" {label}: imgcorrupt | reference (peer_times) | speed-up |"
        if s in ref:
            head += " reference (this run) | speed-up |"
    head += " numpy mode " + " / ".join("224²" if s == "224" else "640×480" for s in sizes) + " |"
    print(head)
    print("|---|" + "---:|" * (head.count("|") - 2))
    for c in ours[sizes[0]]:
        row = f"| {c} |"
        for s in sizes:
            o, p = ours[s][c], peer[c][s]
            row += f" {o:.3f} | {p:.2f} | {p / o:.0f}× |"
            if s in ref:
                r = ref[s].get(c)
                row += f" {r:.2f} | {r / o:.0f}× |" if r else " – | – |"
        if all(c in numpy.get(s, {}) for s in sizes):
            row += " " + " / ".join(f"{numpy[s][c]:.3f}" for s in sizes) + " |"
        else:
            row += " = fast mode (no randomness) |"
        print(row)


if __name__ == "__main__":
    main()
