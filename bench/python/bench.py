"""Per-call overhead of the Python API against the C ABI, side by side in one process.

Operations:
  parse    CredentialProvider.from_string(key)     vs  momento_credential_from_string + free
  refresh  AuthClient.refresh_api_key(rt)           vs  momento_auth_client_refresh_api_key + free
           (against a local momento-auth-server; the same refresh token is replayed inside the
           server's grace window, so every call is a full RefreshApiToken round trip that returns
           the same successor and the key family stays intact)

The baseline is c_driver.c, compiled here as an extension module linked to the very
libmomento_auth.so.1 that the imported momento_auth package loaded: its C loops run inside this
process (same process, threads and allocator; only the per-call path differs). Two references
call the same C function once per iteration of a Python loop: ctypes, and c_driver's own
refresh_once (the thinnest path from Python to the C ABI). Every side keeps one client open.

On a shared machine the speed of the host drifts by more than the few percent being measured
within seconds, so the run is many short batches (about 20-40 ms each), every step once per
batch round, the order alternating. The headline is the median over rounds of the ratio between
two steps of the same round (drift cancels out), with a distribution-free 95% confidence
interval for that median.

Usage:
  python bench/python/bench.py --server-bin build/dev/server/momento-auth-server [--rounds 200]
Needs momento_auth importable (an installed wheel or the build tree's staged package) and cc.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

import momento_auth as ma

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from local_server import start_server  # noqa: E402  (bench/local_server.py)


def loaded_library() -> Path:
    """The libmomento_auth.so.1 this process mapped (wheel copy or build tree)."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        path = line.split()[-1]
        if re.search(r"/libmomento_auth[^/]*\.so(\.[0-9]+)*$", path):
            return Path(path)
    raise SystemExit("libmomento_auth.so.1 is not mapped: is momento_auth imported?")


def build_driver(lib: Path, include: Path, out: Path):
    """c_driver.c as an extension module linked to lib, imported."""
    so = out / ("c_driver" + sysconfig.get_config_var("EXT_SUFFIX"))
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", f"-I{include}", f"-I{sysconfig.get_paths()['include']}",
                    str(HERE / "c_driver.c"), str(lib), f"-Wl,-rpath,{lib.parent}", "-o", str(so)], check=True)
    spec = importlib.util.spec_from_file_location("c_driver", so)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VP, STR = ctypes.c_void_p, ctypes.c_char_p


class Timer:
    """Wall-clock and process CPU time (all threads) per call."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __enter__(self) -> "Timer":
        self.w0, self.c0 = time.perf_counter_ns(), time.process_time_ns()
        return self

    def __exit__(self, *exc) -> None:
        self.result = ((time.perf_counter_ns() - self.w0) / self.n, (time.process_time_ns() - self.c0) / self.n)


class CtypesAbi:
    """The same C calls made one by one from a Python loop through ctypes: a reference."""

    def __init__(self, lib: Path, key: str, address: str, rt: str) -> None:
        self.lib = lib = ctypes.CDLL(str(lib))
        out = ctypes.POINTER(VP)
        lib.momento_endpoint_override_single.argtypes = [out, STR, ctypes.c_int32, VP]
        lib.momento_credential_from_string.argtypes = [out, STR, VP, VP]
        lib.momento_auth_client_new.argtypes = [out, VP, VP, VP]
        lib.momento_auth_client_refresh_api_key.argtypes = [out, VP, STR, VP]
        for free in ("momento_endpoint_override_free", "momento_credential_free", "momento_auth_client_free",
                     "momento_token_free"):
            getattr(lib, free).argtypes = [VP]
        self.key, self.rt = key.encode(), rt.encode()
        o, c, self.client = VP(), VP(), VP()
        assert lib.momento_endpoint_override_single(ctypes.byref(o), address.encode(), 0, None) == 0
        assert lib.momento_credential_from_string(ctypes.byref(c), self.key, o, None) == 0
        assert lib.momento_auth_client_new(ctypes.byref(self.client), c, None, None) == 0
        lib.momento_credential_free(c)
        lib.momento_endpoint_override_free(o)

    def parse(self, n: int) -> tuple[float, float]:
        new, free, key, out = self.lib.momento_credential_from_string, self.lib.momento_credential_free, self.key, VP()
        with Timer(n) as t:
            for _ in range(n):
                if new(ctypes.byref(out), key, None, None) != 0:
                    raise SystemExit("ctypes parse failed")
                free(out)
        return t.result

    def refresh(self, n: int) -> tuple[float, float]:
        refresh, free, client, rt, tok = (self.lib.momento_auth_client_refresh_api_key, self.lib.momento_token_free,
                                          self.client, self.rt, VP())
        with Timer(n) as t:
            for _ in range(n):
                if refresh(ctypes.byref(tok), client, rt, None) != 0:
                    raise SystemExit("ctypes refresh failed")
                free(tok)
        return t.result

    def close(self) -> None:
        self.lib.momento_auth_client_free(self.client)


def py_parse(key: str, n: int) -> tuple[float, float]:
    from_string = ma.CredentialProvider.from_string
    with Timer(n) as t:
        for _ in range(n):
            from_string(key)
    return t.result


def py_refresh(client: ma.AuthClient, rt: str, n: int) -> tuple[float, float]:
    refresh = client.refresh_api_key
    with Timer(n) as t:
        for _ in range(n):
            refresh(rt)
    return t.result


def py_refresh_async(client: "ma.AuthClientAsync", rt: str, n: int) -> tuple[float, float]:
    import asyncio

    async def run() -> None:
        for _ in range(n):
            await client.refresh_api_key(rt)

    loop = asyncio.new_event_loop()
    try:
        with Timer(n) as t:
            loop.run_until_complete(run())
    finally:
        loop.close()
    return t.result


def native_refresh(client: ma.AuthClient, rt: str, n: int) -> tuple[float, float]:
    # The package's native call as refresh_api_key makes it, without the Python method and the
    # ApiKeyResult around the token: the share of those two.
    refresh, interruptible = client._native.refresh_api_key, client._interruptible
    with Timer(n) as t:
        for _ in range(n):
            refresh(rt, interruptible)
    return t.result


def ext_refresh(c_driver, c_client, rt: str, n: int) -> tuple[float, float]:
    once = c_driver.refresh_once
    with Timer(n) as t:
        for _ in range(n):
            once(c_client, rt)
    return t.result


def on_thread(fn, *args) -> tuple[float, float]:
    box = []
    t = threading.Thread(target=lambda: box.append(fn(*args)))
    t.start()
    t.join()
    return box[0]


def median_ci(values: list[float]) -> tuple[float, float, float]:
    """The median and a distribution-free 95% confidence interval for it (order statistics)."""
    v, n = sorted(values), len(values)
    half = 0.98 * math.sqrt(n)  # 1.96 * sqrt(n) / 2
    lo, hi = max(0, math.floor(n / 2 - half)), min(n - 1, math.ceil(n / 2 + half))
    return statistics.median(v), v[lo], v[hi]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server-bin", required=True)
    ap.add_argument("--include", default=str(HERE.parent.parent / "capi" / "include"))
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--parse-batch", type=int, default=2000, help="parse calls per step and round")
    ap.add_argument("--refresh-batch", type=int, default=50, help="refresh calls per step and round")
    ap.add_argument("--steps", help="comma-separated subset of the steps (with their C baselines)")
    ap.add_argument("--json", help="also write every round's (wall_ns, cpu_ns) per step to this file")
    args = ap.parse_args()

    lib = loaded_library()
    work = Path(tempfile.mkdtemp(prefix="momento-auth-bench-"))
    proc = None
    try:
        c_driver = build_driver(lib, Path(args.include), work)
        proc, address, boot = start_server(args.server_bin, work, grace_seconds=3600)
        admin = ma.AuthClient(ma.CredentialProvider.from_string(boot["authToken"], endpoint=address, secure=False))
        k0 = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(2))
        admin.close()
        key, rt = k0.api_key, k0.refresh_token
        client = ma.AuthClient(k0.credential_provider(endpoint=address, secure=False))
        direct = ma.AuthClient(k0.credential_provider(endpoint=address, secure=False), interruptible=False)
        aclient = ma.AuthClientAsync(k0.credential_provider(endpoint=address, secure=False))
        successor = client.refresh_api_key(rt)  # consumes rt; replays return this successor
        assert client.refresh_api_key(rt).api_key == successor.api_key
        c_client, abi = c_driver.open(key, address), CtypesAbi(lib, key, address, rt)

        pn, rn = args.parse_batch, args.refresh_batch
        steps = {
            "c_parse": lambda: c_driver.parse(pn, key),
            "py_parse": lambda: py_parse(key, pn),
            "ctypes_parse": lambda: abi.parse(pn),
            "c_refresh": lambda: c_driver.refresh(c_client, rn, rt),
            "py_refresh_main": lambda: py_refresh(client, rt, rn),
            "py_refresh_thread": lambda: on_thread(py_refresh, client, rt, rn),
            "py_refresh_direct": lambda: py_refresh(direct, rt, rn),
            "py_refresh_async": lambda: py_refresh_async(aclient, rt, rn),
            "ctypes_refresh": lambda: abi.refresh(rn),
            "ext_refresh": lambda: ext_refresh(c_driver, c_client, rt, rn),
            "native_refresh": lambda: native_refresh(client, rt, rn),
        }
        if args.steps:
            wanted = set(args.steps.split(","))
            wanted |= {"c_parse" if name.endswith("parse") else "c_refresh" for name in wanted}
            if unknown := wanted - steps.keys():
                raise SystemExit(f"unknown steps: {', '.join(sorted(unknown))}; known: {', '.join(steps)}")
            steps = {k: v for k, v in steps.items() if k in wanted}
        for step in steps.values():  # warm up: connections open, code and caches hot
            step()
        rows = {name: [] for name in steps}
        order = list(steps)
        for r in range(args.rounds):
            for name in (order if r % 2 == 0 else reversed(order)):
                rows[name].append(steps[name]())

        if args.json:
            Path(args.json).write_text(json.dumps(rows))
        print(f"momento_auth {ma.__version__}, library {lib}")
        print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus, "
              f"load average {os.getloadavg()[0]:.1f}; {args.rounds} rounds of parse x{pn} and refresh x{rn} "
              f"per step\n")
        print(f"{'median per call':<22}{'wall':>11}{'cpu':>11}   paired over the C loop, median [95% CI]:"
              f" wall (ratio for refresh), cpu (us per call)")

        def paired(py: str, base: str, col: int, relative: bool) -> tuple[float, float, float]:
            # Per round, the two steps ran back to back: drift between rounds cancels out.
            if relative:
                return median_ci([p[col] / b[col] for p, b in zip(rows[py], rows[base])])
            return median_ci([(p[col] - b[col]) / 1000 for p, b in zip(rows[py], rows[base])])

        verdicts = {}
        for name in steps:
            base = "c_parse" if name.endswith("parse") else "c_refresh"
            relative = base == "c_refresh"
            line = f"{name:<22}{fmt(statistics.median(w for w, _ in rows[name])):>11}" \
                   f"{fmt(statistics.median(c for _, c in rows[name])):>11}"
            if name != base:
                cells = []
                for col in (0, 1):
                    ratio = relative and col == 0  # refresh wall time as a ratio, CPU as us
                    m, lo, hi = paired(name, base, col, ratio)
                    cells.append(f"{m:.3f}x [{lo:.3f}, {hi:.3f}]" if ratio else f"{m:+.2f} us [{lo:+.2f}, {hi:+.2f}]")
                    verdicts[(name, col)] = (m, lo, hi)
                line += "   " + ", ".join(cells)
            print(line)

        def verdict(name: str, col: int, goal: Optional[float], fmt_: str, what: str) -> None:
            if (name, col) not in verdicts:
                return
            m, lo, hi = verdicts[(name, col)]
            line = f"{what}: {fmt_.format(m)} (95% CI {fmt_.format(lo)} to {fmt_.format(hi)})"
            if goal is not None:
                if args.rounds < 20:  # the interval is not worth its name with fewer rounds
                    state = "too few rounds to judge"
                else:
                    state = ("met" if hi < goal else "NOT met" if lo >= goal
                             else "met at the median, not beyond doubt" if m < goal else "not met at the median")
                line += f", goal < {goal:g}x: {state}"
            print(line)

        print()
        verdict("py_parse", 0, None, "{:+.2f} us", "parse overhead, wall, per call")
        for name, what in (("py_refresh_main", "main thread, Ctrl-C cancels (the default)"),
                           ("py_refresh_direct", "interruptible=False"),
                           ("py_refresh_thread", "from another thread"),
                           ("py_refresh_async", "AuthClientAsync, one call at a time"),
                           ("ctypes_refresh", "reference: ctypes calling the C ABI from a Python loop"),
                           ("ext_refresh", "reference: the thinnest extension calling the C ABI"),
                           ("native_refresh", "reference: the package's native call alone")):
            verdict(name, 0, 1.10, "{:.3f}x", f"refresh wall ratio over the C ABI, {what}")
            verdict(name, 1, None, "{:+.2f} us", f"refresh CPU per call over the C ABI, {what}")
        client.close()
        direct.close()
        aclient.close()
        abi.close()
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def fmt(ns: float) -> str:
    return f"{ns / 1000:.2f} us" if abs(ns) < 1e6 else f"{ns / 1e6:.3f} ms"


if __name__ == "__main__":
    sys.exit(main())
