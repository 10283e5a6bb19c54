#!/usr/bin/env bash
# `cargo bench` figures per ISA level (issue 18 item 1): the criterion corruption benchmark
# (benches/corruptions.rs: corrupt_buffer, severity 3, one thread, a real photo) run once per
# IMGCORRUPT_SIMD level the CPU has, then one table: corruption x level, ms per image (criterion's
# mean), with the CPU model, its ISA, the date and the commit.
#
#   scripts/bench_isa.sh [--quick] [--numpy] [--size 224x224|640x480] [--levels scalar,avx2,...]
#                        [--warm-up S] [--measure S] [--samples N] [-c REGEX]
#
# Levels: scalar, sse41 (if the CPU has SSE4.1), avx2 (AVX2 + FMA) and avx512 (only where the CPU
# has AVX-512F). The crate has no AVX-512 kernels and is compiled for baseline x86-64, so the
# avx512 column is the uncapped dispatch on an AVX-512 CPU (the AVX2 kernels): it shows what a
# user of that CPU gets, and should match the avx2 column within noise.
# Budget: default 0.5 s warm-up, 1 s measurement, 10 samples per benchmark (fast mode, 224x224:
# about 20 corruptions x 4 levels x ~2 s plus the build); --quick is a smoke test of the script
# (0.05 s / 0.1 s: figures not meaningful). Results go to a temporary CRITERION_HOME, so old
# criterion runs never leak into the table. Run it on a quiet machine; it prints the load average.
set -euo pipefail
cd "$(dirname "$0")/.."

warm=0.5 measure=1 samples=10 size=224x224 modes=fast filter='.*' levels=''
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) warm=0.05 measure=0.1 samples=10 ;;
        --numpy) modes='(fast|numpy)' ;;
        --size) size=$2; shift ;;
        --levels) levels=$2; shift ;;
        --warm-up) warm=$2; shift ;;
        --measure) measure=$2; shift ;;
        --samples) samples=$2; shift ;;
        -c) filter=$2; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
has() { [[ " $flags " == *" $1 "* ]]; }
if [ -z "$levels" ]; then
    levels=scalar
    has sse4_1 && levels+=,sse41
    has avx2 && has fma && levels+=,avx2
    has avx512f && levels+=,avx512
fi

home=$(mktemp -d /tmp/bench-isa.XXXXXX)
trap 'rm -rf "$home"' EXIT
cargo bench --bench corruptions --no-run --quiet 2>/dev/null || cargo bench --bench corruptions --no-run
start=$(date -u '+%Y-%m-%d %H:%M UTC')
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for level in ${levels//,/ }; do
    echo "== IMGCORRUPT_SIMD=$level" >&2
    # `avx512` is not a cap the library knows, so it means "uncapped"; the bench labels the
    # group with the variable's value, which keeps each level's results apart.
    CRITERION_HOME=$home IMGCORRUPT_SIMD=$level cargo bench --quiet --bench corruptions -- \
        --warm-up-time "$warm" --measurement-time "$measure" --sample-size "$samples" \
        --noplot "^${size}@${level}/(${filter})/${modes}\$" >&2
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$home" "$size" "$levels" "$start" "$load0" "$load1" "$warm/$measure/$samples" <<'PY'
import json, os, re, subprocess, sys
home, size, levels, start, load0, load1, budget = sys.argv[1:]
levels = levels.split(",")
cpu = "?"
flags = set()
for line in open("/proc/cpuinfo"):
    if line.startswith("model name") and cpu == "?":
        cpu = line.split(":", 1)[1].strip()
    if line.startswith("flags") and not flags:
        flags = set(line.split(":", 1)[1].split())
isa = [f for f in ("sse4_1", "avx2", "fma", "avx512f", "avx512bw", "avx512vl") if f in flags]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
rows = {}
for level in levels:
    group = os.path.join(home, f"{size}@{level}")
    if not os.path.isdir(group):
        continue
    for name in sorted(os.listdir(group)):
        for mode in ("fast", "numpy"):
            est = os.path.join(group, name, mode, "new", "estimates.json")
            if os.path.exists(est):
                ns = json.load(open(est))["mean"]["point_estimate"]
                rows.setdefault((name, mode), {})[level] = ns / 1e6
print(f"`cargo bench --bench corruptions` per ISA level, {size}, severity 3, one thread, ms per image (criterion mean)")
print(f"* date {start}; commit {commit}{' (dirty)' if dirty else ''}; CPU {cpu} ({os.cpu_count()} cores); ISA {' '.join(isa)}")
print(f"* warm-up/measurement/samples {budget}; load average before {load0}, after {load1}")
print("* avx512 = no cap on an AVX-512 CPU: the crate has no AVX-512 kernels, so it runs the AVX2 ones" if "avx512" in levels else "")
print()
modes = sorted({m for _, m in rows})
head = ["corruption"] + (["mode"] if len(modes) > 1 else []) + levels + ([f"scalar/{levels[-1]}"] if "scalar" in levels and len(levels) > 1 else [])
print("| " + " | ".join(head) + " |")
print("|" + "|".join(["---"] * (1 + (len(modes) > 1)) + ["---:"] * (len(head) - 1 - (len(modes) > 1))) + "|")
for (name, mode), v in sorted(rows.items()):
    cells = [name] + ([mode] if len(modes) > 1 else [])
    cells += [f"{v[l]:.3f}" if l in v else "–" for l in levels]
    if "scalar" in levels and len(levels) > 1:
        best = v.get(levels[-1])
        cells.append(f"{v['scalar'] / best:.1f}×" if best and "scalar" in v else "–")
    print("| " + " | ".join(cells) + " |")
if not rows:
    sys.exit("no criterion results found (did the filter match?)")
PY
