#!/usr/bin/env python3
"""How much of a multi-threaded run is serial, from the scheduler's trace (load-independent).

    python3 scripts/serial_cpu.py -- target/release/imgcorrupt generate IN -o OUT -c common -s 1-5 --threads 2

Runs the command under `perf record -a -e sched:sched_switch,sched:sched_wakeup,sched:sched_wakeup_new`
(needs root or perf_event_paranoid <= -1) and follows each thread of the command's process: running,
runnable but preempted (`prev_state=R`), or asleep (waiting for work, a lock, a texture). CPU time
the process consumed while only ONE of its threads was runnable is serial work (start-up, the
manifest, a worker left alone at the end, a worker blocked on another's result); CPU time
consumed while two or more were runnable is parallel work. On an otherwise idle 2-core machine
the wall time is about `serial + parallel / 2`, whatever the load was when the trace was taken:
preemption by other processes keeps a thread runnable, so it does not count as serial.

Wall clock on the shared development machine is useless (load 8-17); this is the measure the
two-thread work of issue 18 was argued from (BENCHMARKS.md, "Two threads ... stop 28").
"""
import collections
import os
import re
import subprocess
import sys
import tempfile

EVENT = re.compile(r'\s(\d+\.\d+):\s+sched:(sched_switch|sched_wakeup_new|sched_wakeup):\s+(.*)')
SWITCH = re.compile(r'prev_pid=(\d+) .*prev_state=(\S+) ==> next_comm=.* next_pid=(\d+)')


def analyse(lines, comm):
    ev = [(float(m.group(1)), m.group(2), m.group(3)) for m in map(EVENT.search, lines) if m]
    who = re.compile(r'(?:prev_comm|next_comm|comm)=' + re.escape(comm[:15]) + r'\S* (?:prev_pid|next_pid|pid)=(\d+)')
    ours = {int(m.group(1)) for _, _, r in ev for m in who.finditer(r)}
    state, last, first = {}, None, None
    serial, parallel = collections.Counter(), 0.0
    phase = collections.Counter()
    spans = []
    for t, kind, rest in ev:
        if last is not None:
            dt = t - last
            runnable = [p for p, s in state.items() if s != 'sleep']
            running = [p for p, s in state.items() if s == 'run']
            if len(runnable) == 1 and running:
                serial[running[0]] += dt
                spans.append((last, dt))
            elif len(runnable) >= 2:
                parallel += dt * len(running)
        if kind == 'sched_switch':
            pp, st, np_ = SWITCH.search(rest).groups()
            pp, np_ = int(pp), int(np_)
            if pp in ours:
                state[pp] = 'ready' if st.startswith('R') else 'sleep'
            if np_ in ours:
                state[np_] = 'run'
        else:
            p = int(re.search(r' pid=(\d+)', rest).group(1))
            if p in ours and state.get(p) != 'run':
                state[p] = 'ready'
        if any(p in ours for p in state):
            first = t if first is None else first
            last = t
    span = (last - first) if first is not None else 0.0
    for a, d in spans:
        f = (a - first) / span if span else 0
        phase['first 5 %' if f < 0.05 else 'last 5 %' if f > 0.95 else 'middle'] += d
    total = sum(serial.values())
    print(f"threads {len(ours)}; serial CPU {total * 1e3:.1f} ms "
          f"({', '.join(f'{k} {v * 1e3:.1f}' for k, v in phase.items())}); "
          f"parallel CPU {parallel * 1e3:.1f} ms; idle-machine estimate "
          f"{(total + parallel / 2) * 1e3:.0f} ms for 2 cores")


def main():
    if '--' not in sys.argv or sys.argv.index('--') == len(sys.argv) - 1:
        sys.exit(__doc__)
    cmd = sys.argv[sys.argv.index('--') + 1:]
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, 'sched.data')
        subprocess.run(['perf', 'record', '-q', '-a', '-o', data, '-e', 'sched:sched_switch',
                        '-e', 'sched:sched_wakeup', '-e', 'sched:sched_wakeup_new', '--', *cmd],
                       check=True, stdout=subprocess.DEVNULL)
        out = subprocess.run(['perf', 'script', '-i', data], check=True, capture_output=True, text=True)
    analyse(out.stdout.splitlines(), os.path.basename(cmd[0]))


if __name__ == '__main__':
    main()
