#!/usr/bin/env python3
"""A/B of Go refresh drivers against the C ABI on one local server, interleaved in rounds: p50
and mean wall time as ratios to the C ABI's in the same round, client CPU per call, and context
switches and CPU migrations per call from `perf stat` (an n-call run minus a 40-call run, so
start-up cancels).

  ab.py [--build-dir build/dev] [--rounds 10] [--calls 2000] [--call refresh] [--threads 1]
        [--batch N [--gap-ms 12]] NAME=EXE[:VAR=VALUE,...] ...

EXE speaks bench/run's driver protocol (bench/clients/README.md; here one batch per process):
the go_binding or go_sdk driver, or rawcgo (the C call straight through cgo). With --threads > 1 the driver shares
the calls among that many threads or goroutines and reports no latencies (p50 columns show 0).

--batch N is bench/run's pattern instead: every driver is started once, then each round asks each
of them (in a shuffled order) for N calls, with --gap-ms of sleep after each batch, so a driver
idles while the others run. Switches per call are then the threads' times scheduled in
(/proc/PID/task/*/schedstat) during the batch, and the busiest threads' CPU and wake-ups per call
are listed, so a cost can be pinned on a thread (for a Go driver: the calling thread, sysmon, an
idle M woken to look for work).
Needs perf (not in --batch mode). Not part of bench/run or ctest."""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))
from local_server import start_server  # noqa: E402
import run as bench  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=str(ROOT / "build/dev"))
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--call", default="refresh", choices=("refresh", "generate", "disposable"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=0, help="bench/run's pattern: N calls per batch after idling")
    ap.add_argument("--gap-ms", type=float, default=12.0, help="--batch: sleep after each batch")
    ap.add_argument("contenders", nargs="+")
    args = ap.parse_args()
    build = Path(args.build_dir).resolve()
    people = {"c": ([str(build / "bench/clients/momento_bench_client"), "c_abi"], {})}
    for spec in args.contenders:
        name, _, rest = spec.partition("=")
        exe, _, envs = rest.partition(":")
        people[name] = ([exe], dict(kv.split("=", 1) for kv in envs.split(",") if kv))
    env = dict(os.environ, LD_LIBRARY_PATH=str(build / "capi"))

    def run(cmd, extra, req, n):
        with tempfile.NamedTemporaryFile("r", suffix=".perf") as f:
            p = subprocess.run(["perf", "stat", "-x,", "-e", "context-switches,cpu-migrations", "-o", f.name] + cmd,
                               # The request line, one batch of n calls, then the end of stdin.
                               input=json.dumps(dict(req, call=args.call, warmup=40, threads=args.threads))
                               + f"\n{n}\n",
                               capture_output=True, text=True, env=dict(env, **extra))
            if p.returncode != 0:
                raise SystemExit(f"{cmd[0]} failed: {p.stderr[-500:]}")
            lines = f.read().splitlines()
        count = {e: next(float(x.split(",")[0]) for x in lines if e in x) for e in ("context-switches", "cpu-migrations")}
        return json.loads(p.stdout.strip().splitlines()[-1]), count

    with tempfile.TemporaryDirectory() as tmp:
        server, address, boot = start_server(build / "server/momento-auth-server", Path(tmp))
        try:
            req = bench.make_request(build, address, boot)
            if args.batch:
                return batches(args, people, env, req)
            res = {k: {"p50": [], "wall": [], "cpu": [], "cs": [], "mig": []} for k in people}
            names = list(people)
            for r in range(args.rounds):
                for k in names[r % len(names):] + names[:r % len(names)]:
                    cmd, extra = people[k]
                    out, cs = run(cmd, extra, req, args.calls)
                    _, cs0 = run(cmd, extra, req, 40)
                    res[k]["p50"].append(bench.pct(out["lat_ns"], 50) / 1e3 if out.get("lat_ns") else 0.0)
                    res[k]["wall"].append(out["wall_s"] / args.calls * 1e6)
                    res[k]["cpu"].append(out["cpu_s"] / args.calls * 1e6)
                    res[k]["cs"].append((cs["context-switches"] - cs0["context-switches"]) / (args.calls - 40))
                    res[k]["mig"].append((cs["cpu-migrations"] - cs0["cpu-migrations"]) / (args.calls - 40))
        finally:
            server.terminate()
            server.wait()
    m = statistics.median
    print(f"{args.call}, {args.threads} thread(s), {args.rounds} rounds of {args.calls} calls")
    print(f"{'contender':10} {'p50 µs':>7} {'p50 / C':>8} {'[rounds]':>12} {'wall / C':>8} {'[rounds]':>12} "
          f"{'CPU µs':>7} {'cs/call':>7} {'mig/call':>8}")
    for k, v in res.items():
        rp = [a / b if b else 0.0 for a, b in zip(v["p50"], res["c"]["p50"])]
        rw = [a / b for a, b in zip(v["wall"], res["c"]["wall"])]
        print(f"{k:10} {m(v['p50']):7.1f} {m(rp):8.3f} {min(rp):5.2f}–{max(rp):5.2f} {m(rw):8.3f} "
              f"{min(rw):5.2f}–{max(rw):5.2f} {m(v['cpu']):7.1f} {m(v['cs']):7.2f} {m(v['mig']):8.3f}")


NANOSLEEP = "35"  # x86-64: Go's sysmon is the thread found sleeping in it (runtime.usleep)


def tasks(pid: int) -> dict[int, tuple[int, int, bool]]:
    """Each thread's CPU time (ns) and times scheduled in (/proc/PID/task/*/schedstat), and
    whether it is in nanosleep now."""
    out = {}
    for t in Path(f"/proc/{pid}/task").iterdir():
        try:
            ns, _, slices = (t / "schedstat").read_text().split()
            sleeping = (t / "syscall").read_text().split()[0] == NANOSLEEP
        except (OSError, ValueError, IndexError):
            continue
        out[int(t.name)] = (int(ns), int(slices), sleeping)
    return out


def batches(args, people: dict, env: dict, req: dict) -> None:
    """bench/run's pattern: persistent drivers, one batch of args.batch calls each per round in a
    shuffled order, each idling while the others run."""
    n, m = args.batch, statistics.median
    sessions = {}
    try:
        for k, (cmd, extra) in people.items():
            who = bench.Contender(k, k, cmd, dict(extra, LD_LIBRARY_PATH=env["LD_LIBRARY_PATH"]))
            sessions[k] = who.start(dict(req, call=args.call, warmup=50, threads=args.threads))
        res = {k: {"p50": [], "wall": [], "cpu": [], "cs": []} for k in people}
        # tid -> [ns, slices, batches that ended with it in nanosleep], summed over the rounds
        per_thread = {k: {} for k in people}
        for r in range(args.rounds):
            order = list(people)
            random.Random(r).shuffle(order)
            for k in order:
                pid = sessions[k].p.pid
                before = tasks(pid)
                out = sessions[k].batch(n)
                after = tasks(pid)
                time.sleep(args.gap_ms / 1e3)
                slices = 0
                for tid, (ns, sl, sleeping) in after.items():
                    ns0, sl0, _ = before.get(tid, (0, 0, False))
                    acc = per_thread[k].setdefault(tid, [0, 0, 0])
                    acc[0] += ns - ns0
                    acc[1] += sl - sl0
                    acc[2] += sleeping
                    slices += sl - sl0
                res[k]["p50"].append(bench.pct(out["lat_ns"], 50) / 1e3 if out.get("lat_ns") else 0.0)
                res[k]["wall"].append(out["wall_s"] / n * 1e6)
                res[k]["cpu"].append(out["cpu_s"] / n * 1e6)
                res[k]["cs"].append(slices / n)
    finally:
        for s in sessions.values():
            if s:
                s.close()
    print(f"{args.call}, {args.threads} thread(s), {args.rounds} rounds of a batch of {n} calls after idling "
          f"(gap {args.gap_ms:g} ms after each batch); median [95% CI] of per-round ratios to C")
    print(f"{'contender':10} {'p50 µs':>7} {'p50 / C':>20} {'wall / C':>20} {'CPU µs':>7} {'cs/call':>7}  "
          f"busiest threads: CPU µs/call (wake-ups/call), s: mostly in nanosleep (Go: sysmon)")
    calls = n * args.rounds
    for k, v in res.items():
        rp = bench.median_ci([a / b if b else 0.0 for a, b in zip(v["p50"], res["c"]["p50"])])
        rw = bench.median_ci([a / b for a, b in zip(v["wall"], res["c"]["wall"])])
        top = sorted(per_thread[k].values(), reverse=True)[:4]
        threads = " ".join(f"{ns / calls / 1e3:.1f}({sl / calls:.2f}){'s' if asleep > args.rounds / 2 else ''}"
                           for ns, sl, asleep in top)
        print(f"{k:10} {m(v['p50']):7.1f} {rp[0]:7.3f} [{rp[1]:.2f}–{rp[2]:.2f}] {rw[0]:7.3f} [{rw[1]:.2f}–{rw[2]:.2f}] "
              f"{m(v['cpu']):7.1f} {m(v['cs']):7.2f}  {threads}")


if __name__ == "__main__":
    main()
