#!/usr/bin/env python3
"""A/B of Go refresh drivers against the C ABI on one local server, interleaved in rounds: p50
and mean wall time as ratios to the C ABI's in the same round, client CPU per call, and context
switches per call from `perf stat` (an n-call run minus a 40-call run, so start-up cancels).

  ab.py [--build-dir build/dev] [--rounds 10] [--calls 2000] NAME=EXE[:VAR=VALUE,...] ...

EXE reads bench/run's driver request on stdin (bench/clients/README.md): the go_binding driver,
or rawcgo (the C call straight through cgo). Needs perf. Not part of bench/run or ctest."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
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
            p = subprocess.run(["perf", "stat", "-x,", "-e", "context-switches", "-o", f.name] + cmd,
                               input=json.dumps(dict(req, call="refresh", n=n, warmup=40)),
                               capture_output=True, text=True, env=dict(env, **extra))
            if p.returncode != 0:
                raise SystemExit(f"{cmd[0]} failed: {p.stderr[-500:]}")
            cs = next(float(line.split(",")[0]) for line in f if "context-switches" in line)
        return json.loads(p.stdout.strip().splitlines()[-1]), cs

    with tempfile.TemporaryDirectory() as tmp:
        server, address, boot = start_server(build / "server/momento-auth-server", Path(tmp))
        try:
            req = bench.make_request(build, address, boot)
            res = {k: {"p50": [], "wall": [], "cpu": [], "cs": []} for k in people}
            names = list(people)
            for r in range(args.rounds):
                for k in names[r % len(names):] + names[:r % len(names)]:
                    cmd, extra = people[k]
                    out, cs = run(cmd, extra, req, args.calls)
                    _, cs0 = run(cmd, extra, req, 40)
                    res[k]["p50"].append(bench.pct(out["lat_ns"], 50) / 1e3)
                    res[k]["wall"].append(out["wall_s"] / args.calls * 1e6)
                    res[k]["cpu"].append(out["cpu_s"] / args.calls * 1e6)
                    res[k]["cs"].append((cs - cs0) / (args.calls - 40))
        finally:
            server.terminate()
            server.wait()
    m = statistics.median
    print(f"{'contender':10} {'p50 µs':>7} {'p50 / C':>8} {'[rounds]':>12} {'wall / C':>8} {'CPU µs':>7} {'cs/call':>7}")
    for k, v in res.items():
        rp = [a / b for a, b in zip(v["p50"], res["c"]["p50"])]
        rw = [a / b for a, b in zip(v["wall"], res["c"]["wall"])]
        print(f"{k:10} {m(v['p50']):7.1f} {m(rp):8.3f} {min(rp):5.2f}–{max(rp):5.2f} {m(rw):8.3f} "
              f"{m(v['cpu']):7.1f} {m(v['cs']):7.2f}")


if __name__ == "__main__":
    main()
