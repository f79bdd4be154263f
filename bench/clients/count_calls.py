#!/usr/bin/env python3
"""Instructions per call of bench/run's client drivers, counted by callgrind: each driver runs
the call N1 and N2 times after the same warm-up, and (Ir(N2) - Ir(N1)) / (N2 - N1) is its cost
per call, all of its threads included, with start-up and shutdown cancelled. Deterministic, so
the machine's load does not move it. With --diff, the functions whose instructions per call
differ most between the first contender and each other one.

  count_calls.py [--build-dir build/dev] [--call refresh] [--calls 100,300] [--warmup 20]
                 [--diff 25] [--keep DIR] CONTENDER ...

CONTENDER is grpc_stub, c_abi, cpp or NAME=EXE[:VAR=VALUE,...], where EXE is one of those three
or a driver of the protocol in bench/clients/README.md (Go drivers need GODEBUG=asyncpreemptoff=1
under valgrind); e.g. old=c_abi:LD_LIBRARY_PATH=/tmp/old-lib counts another build of the library. Needs
valgrind and this build's Python package (for the keys). Not part of bench/run or ctest."""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from local_server import start_server  # noqa: E402
import run as bench  # noqa: E402


def callgrind(cmd, env, request, n, out):
    """Runs one driver under callgrind for one batch of n calls; returns Ir per function (self)."""
    p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + cmd,
                       input=request + f"\n{n}\n", capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed under callgrind: {p.stderr[-800:]}")
    ann = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", "--auto=no", str(out)],
                         capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"^([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", ann, re.M).group(1).replace(",", ""))
    fns = collections.Counter()
    for line in ann.splitlines():
        m = re.match(r"^\s*([\d,]+) \([ \d.]+%\)\s+(\S.*?)(?: \[[^\]]*\])?$", line)
        if m and "PROGRAM TOTALS" not in line and "=>" not in line:
            fns[m.group(2)] += int(m.group(1).replace(",", ""))
    return total, fns


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=str(ROOT / "build/dev"))
    ap.add_argument("--call", default="refresh", choices=("refresh", "generate", "disposable"))
    ap.add_argument("--calls", default="100,300", help="N1,N2 calls per run (default 100,300)")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--diff", type=int, default=0, help="show this many functions of each difference")
    ap.add_argument("--keep", help="keep the callgrind files in this directory")
    ap.add_argument("contenders", nargs="+")
    args = ap.parse_args()
    build = Path(args.build_dir).resolve()
    n1, n2 = (int(x) for x in args.calls.split(","))
    known = {"grpc_stub": [str(build / "bench/clients/momento_bench_grpc_stub")],
             "c_abi": [str(build / "bench/clients/momento_bench_client"), "c_abi"],
             "cpp": [str(build / "bench/clients/momento_bench_client"), "cpp"]}
    people = {}
    for spec in args.contenders:
        name, _, rest = spec.partition("=")
        exe, _, envs = rest.partition(":")
        people[name] = (known.get(exe or name, [exe]), dict(kv.split("=", 1) for kv in envs.split(",") if kv))
    env = dict(os.environ, LD_LIBRARY_PATH=str(build / "capi"))
    keep = Path(args.keep or tempfile.mkdtemp(prefix="count_calls."))
    keep.mkdir(parents=True, exist_ok=True)
    per_call = {}
    with tempfile.TemporaryDirectory() as tmp:
        server, address, boot = start_server(build / "server/momento-auth-server", Path(tmp))
        try:
            req = json.dumps(dict(bench.make_request(build, address, boot), call=args.call, warmup=args.warmup))
            for name, (cmd, extra) in people.items():
                t1, f1 = callgrind(cmd, dict(env, **extra), req, n1, keep / f"{name}.{n1}.out")
                t2, f2 = callgrind(cmd, dict(env, **extra), req, n2, keep / f"{name}.{n2}.out")
                per_call[name] = ((t2 - t1) / (n2 - n1), {k: (f2[k] - f1[k]) / (n2 - n1) for k in f1.keys() | f2.keys()})
        finally:
            server.terminate()
            server.wait()
    base = next(iter(per_call))
    print(f"{args.call}: instructions per call, (Ir({n2}) - Ir({n1})) / {n2 - n1}, {args.warmup} warm-up calls")
    for name, (ir, _) in per_call.items():
        print(f"  {name:12} {ir:10,.0f}  x{ir / per_call[base][0]:.3f} {base}  ({ir - per_call[base][0]:+,.0f})")
    for name, (_, fns) in list(per_call.items())[1:] if args.diff else []:
        b = per_call[base][1]
        d = {k: fns.get(k, 0) - b.get(k, 0) for k in fns.keys() | b.keys()}
        print(f"\n{name} - {base}, by function (self instructions per call):")
        for k, v in sorted(d.items(), key=lambda kv: -abs(kv[1]))[:args.diff]:
            print(f"  {v:+9,.0f}  {name}={fns.get(k, 0):9,.0f}  {k[:140]}")
    if not args.keep:
        print(f"\ncallgrind files in {keep}")


if __name__ == "__main__":
    main()
