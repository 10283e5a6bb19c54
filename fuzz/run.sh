#!/usr/bin/env bash
# Run the cargo-fuzz targets for SECONDS each (default 20): seed corpus from the fixtures
# (seed-corpus.sh), then `cargo fuzz run` per target; a crash, timeout or leak fails the script
# and leaves its input in fuzz/artifacts/<target>/. Usage: fuzz/run.sh [SECONDS] [TARGET…]
# Needs cargo-fuzz and a nightly toolchain (`cargo +nightly`), or stable with
# RUSTC_BOOTSTRAP=1 (set FUZZ_TOOLCHAIN=stable). FUZZ_SANITIZER=none skips AddressSanitizer.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-20}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decode_jpeg read_image corrupt preset annotations manifest)
fi
toolchain=${FUZZ_TOOLCHAIN:-nightly}
if [ "$toolchain" = stable ]; then
  export RUSTC_BOOTSTRAP=1
  cargo_cmd=(cargo)
else
  cargo_cmd=(cargo "+$toolchain")
fi
sanitizer=${FUZZ_SANITIZER:-address}
./seed-corpus.sh
if ! "${cargo_cmd[@]}" fuzz build -O -s "$sanitizer" >/dev/null; then
  # the tool chain, not a finding: CI treats it as "fuzzing not available here"
  if [ "${FUZZ_SKIP_ON_BUILD_ERROR:-0}" = 1 ]; then
    echo "fuzz: targets did not build with this toolchain: skipped" >&2
    exit 0
  fi
  exit 1
fi
for t in "${targets[@]}"; do
  log=$(mktemp)
  # -timeout: one input running longer than 10 s is a finding (work per input is bounded by
  # the pixel limits); -rss_limit_mb: so is one using more than 2 GiB.
  if ! "${cargo_cmd[@]}" fuzz run -O -s "$sanitizer" "$t" "corpus/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz: target $t FAILED (input in fuzz/artifacts/$t/)" >&2
    rm -f "$log"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  echo "fuzz: $t ok: $runs executions in ${secs}s"
  rm -f "$log"
done
