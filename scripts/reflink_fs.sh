#!/usr/bin/env bash
# Mount a small XFS file system with reflinks (a loop device over a 300 MB sparse file) and
# print a writable folder on it, for the reflink test of tests/layouts.rs
# (IMGCORRUPT_REFLINK_DIR). Needs root, loop devices and mkfs.xfs (installs xfsprogs with apt
# when missing); prints nothing and exits non-zero when any of these is unavailable, and
# .ci/run then lets the test skip.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || exit 1
if ! command -v mkfs.xfs >/dev/null 2>&1; then
  timeout 120 apt-get install -y -q xfsprogs >/dev/null 2>&1 || exit 1
fi
command -v filefrag >/dev/null 2>&1 || exit 1
dir=${1:-/tmp/imgcorrupt-reflink}
if ! mountpoint -q "$dir/mnt" 2>/dev/null; then
  mkdir -p "$dir/mnt"
  truncate -s 300M "$dir/xfs.img"
  mkfs.xfs -q -f -m reflink=1 "$dir/xfs.img" >/dev/null 2>&1
  mount -o loop "$dir/xfs.img" "$dir/mnt" 2>/dev/null || exit 1
fi
mkdir -p "$dir/mnt/tests"
echo "$dir/mnt/tests"
