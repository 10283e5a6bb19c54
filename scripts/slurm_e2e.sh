#!/usr/bin/env bash
# The README's Slurm array recipe, run for real: a single-node Slurm on this machine (slurmctld,
# slurmd and munge from Debian's packages, localhost only), the README's job file (extracted
# verbatim from README.md) submitted over 8 webdataset shards of fixture photos as a 4-task
# array; one task's imgcorrupt is killed with SIGKILL mid-run, the task is requeued, and the
# merged manifest must be byte-identical to a single-process run. `verify` and `status` must
# agree.
#
# Needs root and apt (to install slurm-wlm and munge when missing), python3 (to write the
# shards) and a release build of imgcorrupt (IMGCORRUPT_BIN, default target/release/imgcorrupt).
# Exits 0 with "slurm e2e: skipped (...)" when Slurm cannot be installed or started here
# (SLURM_E2E_REQUIRED=1 makes that a failure). Every daemon it starts is stopped at the end,
# by process id.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

skip() {
  if [ "${SLURM_E2E_REQUIRED:-0}" = 1 ]; then
    echo "slurm e2e: FAILED: $*" >&2
    exit 1
  fi
  echo "slurm e2e: skipped ($*)"
  exit 0
}

bin=${IMGCORRUPT_BIN:-$repo/target/release/imgcorrupt}
[ -x "$bin" ] || cargo build --release --quiet
[ -x "$bin" ] || skip "no imgcorrupt binary at $bin"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  [ "$(id -u)" = 0 ] || skip "Slurm is not installed and this is not root"
  command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get"
  echo "slurm e2e: installing slurm-wlm and munge from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  if ! timeout 300 apt-get install -y --no-install-recommends slurm-wlm munge >/tmp/slurm_e2e_apt.log 2>&1; then
    timeout 120 apt-get update >/dev/null 2>&1 || true
    timeout 300 apt-get install -y --no-install-recommends slurm-wlm munge >/tmp/slurm_e2e_apt.log 2>&1 ||
      skip "apt-get install slurm-wlm munge failed (see /tmp/slurm_e2e_apt.log)"
  fi
fi
command -v python3 >/dev/null || skip "python3 is needed to write the shards"

work=$(mktemp -d /tmp/slurm-e2e.XXXXXX)
host=$(hostname -s)
started_pids=()
job=
cleanup() {
  local status=$?
  if [ -n "$job" ]; then
    scancel "$job" 2>/dev/null || true
    for _ in $(seq 20); do [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  for pid in "${started_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  sleep 1
  for pid in "${started_pids[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "$status" = 0 ]; then rm -rf "$work"; else echo "slurm e2e: work folder kept: $work" >&2; fi
}
trap cleanup EXIT

# --- munge (the authentication Slurm uses), with its own socket and key in the work folder
mkdir -p "$work/munge"
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munge_sock="$work/munge/munge.socket"
munged --force --key-file="$work/munge/munge.key" --socket="$munge_sock" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/munged.seed" || skip "munged does not start (see $work/munge/munged.log)"
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
started_pids+=("$(cat "$work/munge/munged.pid")")

# --- slurm.conf: one node (this machine, 127.0.0.1), 2 CPUs, default ports
mkdir -p "$work/state" "$work/spool" "$work/log"
cpus=$(nproc)
cat >"$work/slurm.conf" <<EOF
ClusterName=e2e
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobRequeue=1
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=e2e Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -i -f "$SLURM_CONF" || skip "slurmctld does not start (see $work/log/slurmctld.log)"
for _ in $(seq 50); do [ -s "$work/slurmctld.pid" ] && break; sleep 0.1; done
started_pids+=("$(cat "$work/slurmctld.pid")")
slurmd -f "$SLURM_CONF" -N "$host" || skip "slurmd does not start (see $work/log/slurmd.log)"
for _ in $(seq 50); do [ -s "$work/slurmd.pid" ] && break; sleep 0.1; done
started_pids+=("$(cat "$work/slurmd.pid")")
up=0
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -E '^(idle|mixed|allocated)' >/dev/null; then up=1; break; fi
  sleep 1
done
[ "$up" = 1 ] || skip "the node did not come up (sinfo: $(sinfo -h 2>&1 | head -2); see $work/log)"
echo "slurm e2e: single-node Slurm up ($(sinfo -h -o '%P %D %T %c'))"

# --- the dataset: 8 webdataset shards of the fixture photos (+ caption and json members)
python3 - "$work/shards" "$repo/fixtures/photos" <<'EOF'
import io, json, os, sys, tarfile
out, photos = sys.argv[1], sys.argv[2]
os.makedirs(out)
files = sorted(os.listdir(photos))
for s in range(8):
    with tarfile.open(f"{out}/{s:05d}.tar", "w", format=tarfile.GNU_FORMAT) as t:
        for i in range(24):
            key = f"{s:05d}{i:03d}"
            name = files[(s + i) % len(files)]
            for member, data in [
                (f"{key}.png", open(os.path.join(photos, name), "rb").read()),
                (f"{key}.txt", f"photo {name}".encode()),
                (f"{key}.json", json.dumps({"key": key, "source": name}).encode()),
            ]:
                ti = tarfile.TarInfo(member)
                ti.size, ti.mtime = len(data), 1700000000
                t.addfile(ti, io.BytesIO(data))
EOF

# --- the job file: the README's, verbatim
sed -n '/<!-- slurm-job:begin -->/,/<!-- slurm-job:end -->/p' README.md | sed '1,2d;$d' | sed '$d' >"$work/job.sh"
grep -q '^#SBATCH --array=0-3$' "$work/job.sh" || { echo "slurm e2e: README job file not found" >&2; exit 1; }
mkdir -p "$work/bin"
ln -s "$bin" "$work/bin/imgcorrupt"
export PATH="$work/bin:$PATH"
export INPUT="$work/shards/{00000..00007}.tar" OUTPUT="$work/out"
export IMGCORRUPT_ARGS="-c gaussian_noise,shot_noise,impulse_noise,defocus_blur,elastic_transform,contrast,pixelate,jpeg_compression -s 1-5"
job=$(sbatch --parsable -D "$work" -o "$work/log/task-%a.out" "$work/job.sh")
echo "slurm e2e: submitted array job $job (4 tasks over 8 shards)"

# --- kill task 1's imgcorrupt with SIGKILL once it has finished its first shard, then requeue.
# The task is found as soon as it starts and then run in 20 ms slices (SIGSTOP/SIGCONT), its
# journal checked between slices: the kill lands mid-run however fast this machine is (a plain
# poll raced a fast CI machine, whose task finished between two looks).
victim=1
journal="$OUTPUT/manifest.shard-$victim-of-4.journal.jsonl"
pattern="generate .* -o $OUTPUT --shard $victim/4"
killed=0
pid=
for _ in $(seq 12000); do
  pid=$(pgrep -f -- "$pattern" | head -1 || true)
  [ -n "$pid" ] && break
  [ -f "$OUTPUT/manifest.shard-$victim-of-4.jsonl" ] && break # finished: too late
  sleep 0.01
done
if [ -n "$pid" ]; then
  for _ in $(seq 30000); do
    kill -STOP "$pid" 2>/dev/null || break # gone: finished before its first shard was journalled
    if [ -f "$journal" ] && [ "$(wc -l <"$journal")" -gt 1 ]; then
      kill -9 "$pid" && killed=1
      break
    fi
    kill -CONT "$pid" 2>/dev/null || break
    sleep 0.02
  done
fi
[ "$killed" = 1 ] || { echo "slurm e2e: task $victim finished before it could be killed" >&2; exit 1; }
echo "slurm e2e: task $victim killed with SIGKILL mid-run (its first shard journalled)"
for _ in $(seq 120); do
  state=$(squeue -h -j "${job}_$victim" -o %T 2>/dev/null || true)
  case "$state" in RUNNING | COMPLETING) sleep 0.5 ;; *) break ;; esac
done
# status's output is captured first: `status | grep -q` under pipefail fails whenever grep
# exits before status has written its last line (status then dies of the closed pipe).
status_out=$("$bin" status "$OUTPUT")
sed 's/^/  status: /' <<<"$status_out"
grep -q "shard $victim/4: interrupted" <<<"$status_out" || { echo "slurm e2e: status does not show the interrupted shard" >&2; exit 1; }
scontrol requeue "${job}_$victim"
echo "slurm e2e: task $victim requeued"

# --- wait for the array to drain
for _ in $(seq 1200); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.5
done
[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] || { echo "slurm e2e: the array did not finish in 10 minutes" >&2; exit 1; }
grep -h "skipped" "$work/log/task-$victim.out" | tail -1 | sed 's/^/  requeued task: /'
grep -h "skipped" "$work/log/task-$victim.out" | tail -1 | grep -qE ' [1-9][0-9]* skipped' ||
  { echo "slurm e2e: the requeued task did not resume (it skipped nothing)" >&2; exit 1; }
"$bin" status "$OUTPUT" | sed 's/^/  status: /'
[ -f "$OUTPUT/manifest.jsonl" ] || { echo "slurm e2e: no merged manifest" >&2; exit 1; }

# --- the same run in one process
# shellcheck disable=SC2086
"$bin" generate "$INPUT" -o "$work/single" --threads 2 $IMGCORRUPT_ARGS 2>/dev/null
cmp "$OUTPUT/manifest.jsonl" "$work/single/manifest.jsonl" ||
  { echo "slurm e2e: merged manifest differs from the single-process run" >&2; exit 1; }
"$bin" verify "$OUTPUT" 2>&1 | tail -1 | sed 's/^/  /'
echo "slurm e2e: passed (merged manifest of the killed+requeued array is byte-identical to one process: $(wc -l <"$OUTPUT/manifest.jsonl") lines, sha256 $(sha256sum "$OUTPUT/manifest.jsonl" | cut -c1-16))"
