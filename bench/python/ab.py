"""A/B of builds of the Python package: bench.py run alternately against each, paired rounds.

Each side is a staged package directory (e.g. a copy of build/dev/bindings/python/pkg made before
a change). The runs alternate between the sides (A B A B ...), each run a short bench.py of its
own; a side's figure is the median over all its rounds of the per-round paired ratio (or CPU
difference) against the C loop of the same round, with a distribution-free 95% CI.

Usage:
  python bench/python/ab.py --side base=/tmp/base-pkg --side new=build/dev/bindings/python/pkg \\
      --server-bin build/dev/server/momento-auth-server --runs 10 -- --rounds 40 --refresh-batch 20
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--side", action="append", required=True, help="name=package directory")
    ap.add_argument("--server-bin", required=True)
    ap.add_argument("--runs", type=int, default=10, help="bench.py runs per side")
    ap.add_argument("--steps", default="py_refresh_main,ext_refresh")
    ap.add_argument("bench_args", nargs="*", help="passed to bench.py (after --)")
    args = ap.parse_args()
    sides = dict(s.split("=", 1) for s in args.side)
    sys.path[:0] = [str(HERE), next(iter(sides.values()))]  # bench.py imports momento_auth
    from bench import median_ci
    steps = args.steps.split(",")
    ratio = {(s, st): [] for s in sides for st in steps}
    cpu = {(s, st): [] for s in sides for st in steps}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for name, pkg in (sides.items() if run % 2 == 0 else reversed(sides.items())):
                out = Path(tmp) / f"{name}-{run}.json"
                env = dict(os.environ, PYTHONPATH=pkg)
                subprocess.run([sys.executable, str(HERE / "bench.py"), "--server-bin", args.server_bin,
                                "--steps", args.steps, "--json", str(out), *args.bench_args],
                               env=env, check=True, stdout=subprocess.DEVNULL)
                rows = json.loads(out.read_text())
                for st in steps:
                    ratio[name, st] += [p[0] / c[0] for p, c in zip(rows[st], rows["c_refresh"])]
                    cpu[name, st] += [(p[1] - c[1]) / 1000 for p, c in zip(rows[st], rows["c_refresh"])]
    print(f"{args.runs} runs per side, alternating; load average {os.getloadavg()[0]:.1f}")
    print("paired over the C loop, median [95% CI]: wall ratio, CPU us per call")
    for st in steps:
        for name in sides:
            m, lo, hi = median_ci(ratio[name, st])
            cm, clo, chi = median_ci(cpu[name, st])
            print(f"{st:<20}{name:<10}{m:.3f}x [{lo:.3f}, {hi:.3f}]   {cm:+.2f} us [{clo:+.2f}, {chi:+.2f}]"
                  f"   ({len(ratio[name, st])} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
