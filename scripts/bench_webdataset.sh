#!/usr/bin/env bash
# Webdataset benchmarks (BENCHMARKS.md "Webdataset"): the same images as a folder and as
# webdataset shards through `generate` (wall time and peak RSS from /usr/bin/time -v), peak RSS
# with the images in 1 shard and in 100 shards, and tar parsing throughput of the reader
# (examples/wds_parse.rs, no decoding).
#   scripts/bench_webdataset.sh [IMAGES_DIR] [COPIES]
# IMAGES_DIR: photos to use (default fixtures/photos); COPIES: how often each is repeated.
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-fixtures/photos}
copies=${2:-10}
args=${BENCH_ARGS:-"-c gaussian_noise,contrast,pixelate,jpeg_compression -s 1,3,5 --threads 2"}
cargo build --release --quiet --example wds_parse
bin=target/release/imgcorrupt
w=$(mktemp -d /tmp/bench-wds.XXXXXX)
trap 'rm -rf "$w"' EXIT
python3 - "$images" "$copies" "$w" <<'PY'
import io, os, sys, tarfile, shutil
src, copies, w = sys.argv[1], int(sys.argv[2]), sys.argv[3]
files = sorted(f for f in os.listdir(src) if f.lower().endswith((".jpg", ".jpeg", ".png")))
items = [(f"{c:03d}_{os.path.splitext(f)[0]}", f) for c in range(copies) for f in files]
os.makedirs(f"{w}/folder")
for key, f in items:
    shutil.copy(os.path.join(src, f), f"{w}/folder/{key}{os.path.splitext(f)[1].lower()}")
def pack(dirname, nshards):
    os.makedirs(f"{w}/{dirname}")
    per = -(-len(items) // nshards)
    for s in range(nshards):
        with tarfile.open(f"{w}/{dirname}/{s:05d}.tar", "w", format=tarfile.GNU_FORMAT) as t:
            for key, f in items[s * per:(s + 1) * per]:
                data = open(os.path.join(src, f), "rb").read()
                for name, d in [(f"{key}{os.path.splitext(f)[1].lower()}", data), (f"{key}.txt", key.encode())]:
                    ti = tarfile.TarInfo(name); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
pack("wds1", 1)
pack("wds100", 100)
print(f"{len(items)} images, {sum(os.path.getsize(f'{w}/folder/{x}') for x in os.listdir(f'{w}/folder')) / 1e6:.1f} MB")
PY
run() { # name, input
  local out="$w/out-$1"
  # shellcheck disable=SC2086
  /usr/bin/time -v "$bin" generate "$2" -o "$out" $args 2>"$w/time-$1" >/dev/null || true
  local wall rss cpu
  wall=$(grep "Elapsed (wall clock)" "$w/time-$1" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$w/time-$1" | awk '{print $NF}')
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$w/time-$1")
  printf '%-28s wall %8s   CPU %6s s   peak RSS %7.1f MB   %s\n' "$1" "$wall" "$cpu" "$(echo "$rss / 1024" | bc -l)" "$(grep -o '[0-9]* source image(s)' "$w/time-$1" | head -1)"
  rm -rf "$out"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in 1 2; do
  run "folder (round $round)" "$w/folder"
  run "wds, 1 shard (round $round)" "$w/wds1"
  run "wds, 100 shards (round $round)" "$w/wds100"
done
# tar parsing: the 100 shards, then the single shard, read through the page cache
cat "$w"/wds100/*.tar "$w"/wds1/*.tar >/dev/null
for _ in 1 2 3; do target/release/examples/wds_parse "$w"/wds1/*.tar; done
for _ in 1 2 3; do target/release/examples/wds_parse "$w"/wds100/*.tar; done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
