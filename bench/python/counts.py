"""Per-call system counters of bench/run's call drivers, in bench/run's batch mode.

bench/run asks each driver for a batch of sequential calls while the others wait their turn, so
every driver idles between its batches. This runs the chosen drivers the same way (rounds of one
batch each, in a shuffled order, --gap-ms of idle after every batch) against a local server and
counts per call, over the measured rounds, with one tool:

  perf       task-clock, context switches, CPU migrations, page faults (`perf stat -p`, all threads)
  strace     system calls by name (`strace -c -f`)
  callgrind  instructions (Ir), and with --callgrind-args "--cache-sim=yes ..." the simulated
             cache misses (valgrind; instrumented during the measured rounds only)

A per-call figure includes the driver's per-batch protocol work (one request line, one JSON
answer) divided by --batch. Needs the drivers bench/run builds (bench/run --only calls once).

  build/venv/bin/python bench/python/counts.py --contenders c_abi,python --tool strace
"""
from __future__ import annotations

import argparse
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import run  # noqa: E402  (bench/run.py: server, keys, contenders)


def monitor(tool: str, pid: int, out: str) -> subprocess.Popen:
    if tool == "perf":
        cmd = ["perf", "stat", "-x,", "-o", out, "-e", "task-clock,context-switches,cpu-migrations,page-faults"]
    else:
        cmd = ["strace", "-c", "-f", "-o", out]
    return subprocess.Popen(cmd + ["-p", str(pid)], stderr=subprocess.DEVNULL)


def per_call(tool: str, out: str, calls: int) -> list[str]:
    text = Path(out).read_text().splitlines()
    rows = []
    if tool == "perf":  # value,unit,event,...
        for line in text:
            f = line.split(",")
            if len(f) > 2 and f[2]:
                rows.append(f"{f[2]:18s} {float(f[0]) / calls:10.3f}" + (" ms" if f[1] == "msec" else ""))
    elif tool == "strace":  # % time, seconds, usecs/call, calls, [errors,] syscall
        for line in text:
            f = line.split()
            if len(f) >= 5 and f[3].isdigit() and f[-1] != "total":
                rows.append(f"{f[-1]:18s} {int(f[3]) / calls:10.3f}")
    else:
        ann = subprocess.run(["callgrind_annotate", out], capture_output=True, text=True).stdout.splitlines()
        events = next(line for line in ann if line.startswith("Events shown:")).split()[2:]
        totals = re.sub(r"\([^)]*\)", "", next(line for line in ann if "PROGRAM TOTALS" in line)).split()
        for event, total in zip(events, totals):
            rows.append(f"{event:18s} {int(total.replace(',', '').replace('.', '0')) / calls:10.0f}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=str(run.ROOT / "build/dev"))
    ap.add_argument("--contenders", default="c_abi,python")
    ap.add_argument("--call", default="refresh", choices=run.CALLS)
    ap.add_argument("--tool", default="perf", choices=("perf", "strace", "callgrind"))
    ap.add_argument("--callgrind-args", default="", help="more valgrind options, e.g. a cache simulation")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--gap-ms", type=float, default=50, help="idle after every batch (bench/run: the others' turns)")
    args = ap.parse_args()
    build = Path(args.build_dir).resolve()
    wanted = args.contenders.split(",")
    with tempfile.TemporaryDirectory(prefix="momento-counts-") as tmp:
        server, address, boot = run.start_server(build / "server/momento-auth-server", Path(tmp))
        sessions = []
        try:
            req = dict(run.make_request(build, address, boot), call=args.call, warmup=50)
            people = run.contenders(build, sys.executable, set(wanted))[0]
            for c in people:
                if args.tool == "callgrind":
                    c.cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", *args.callgrind_args.split(),
                             f"--callgrind-out-file={tmp}/{c.name}.out"] + c.cmd
                sessions += [s for s in [c.start(req)] if s]
            mons = {}
            for s in sessions:
                out = f"{tmp}/{s.who.name}.out"
                if args.tool == "callgrind":
                    subprocess.run(["callgrind_control", "-i", "on", str(s.p.pid)], check=True,
                                   capture_output=True)
                else:
                    mons[s.who.name] = monitor(args.tool, s.p.pid, out)
            time.sleep(0.5)  # the monitors attach
            for rnd in range(args.rounds):
                random.Random(rnd).shuffle(sessions)
                for s in sessions:
                    s.batch(args.batch)
                    time.sleep(args.gap_ms / 1e3)
            for s in sessions:
                if args.tool == "callgrind":
                    subprocess.run(["callgrind_control", "-i", "off", str(s.p.pid)], check=True,
                                   capture_output=True)
                else:
                    mons[s.who.name].send_signal(signal.SIGINT)
                    mons[s.who.name].wait()
        finally:
            for s in sessions:
                s.close()  # callgrind writes its file as the driver exits
            server.terminate()
            server.wait(timeout=30)
        calls = args.rounds * args.batch
        print(f"{args.call}: {args.rounds} rounds of {args.batch} calls per driver, {args.gap_ms:g} ms idle after "
              f"each batch; per call ({args.tool}):")
        for s in sorted(sessions, key=lambda s: wanted.index(s.who.name)):
            print(f"  {s.who.name}")
            for row in per_call(args.tool, f"{tmp}/{s.who.name}.out", calls):
                print(f"    {row}")


if __name__ == "__main__":
    main()
