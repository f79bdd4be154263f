"""bench/run's body (start it through bench/run, which builds and installs what it needs).

Every contender is a driver process speaking bench/clients/README.md's protocol, all against one
local momento-auth-server. For the call, parse and scaling figures each contender's driver is
started once per call (it makes its client and warms up), then serves short batches on request:
each round asks every contender for one batch, in an order shuffled afresh each round, so all
contenders see the same machine state within milliseconds. Each figure is a
ratio to a baseline measured in the same round, reported as the median of the per-round ratios
with a distribution-free 95% confidence interval (order statistics).
"""
from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from local_server import start_server

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "bench" / "clients"
CALLS = ("refresh", "generate", "disposable")
PARSES = ("parse_v1", "parse_v2", "parse_disposable")
SKIPPED = 77
CONTROL = "c_abi_control"


T0 = time.monotonic()


def log(msg: str) -> None:
    """Section lines ("== ...") carry the minutes:seconds since the start."""
    if msg.startswith("=="):
        t = int(time.monotonic() - T0)
        msg = f"== [{t // 60}:{t % 60:02d}] {msg[3:]}"
    print(msg, flush=True)


# ---- contenders --------------------------------------------------------------------------------

class Contender:
    def __init__(self, name: str, label: str, cmd: list[str], env: dict | None = None, note: str = ""):
        self.name, self.label, self.cmd, self.env, self.note = name, label, cmd, env or {}, note
        self.version = ""
        self.skipped: dict[str, str] = {}  # call -> why

    def start(self, req: dict) -> Session | None:
        """The driver process for one request, warmed up; None when it lacks the call."""
        if req["call"] in self.skipped:
            return None
        s = Session(self, req)
        first = s.read(timeout=300)
        if "skip" in first:
            s.close()
            self.skipped[req["call"]] = first["skip"]
            log(f"   {self.name}: {req['call']} skipped: {first['skip']}")
            return None
        self.version = first.get("version") or self.version
        return s


class Session:
    """One running driver: the request line, then one line per batch asked for."""

    def __init__(self, who: Contender, req: dict):
        self.who, self.call = who, req["call"]
        self.err = tempfile.TemporaryFile("w+")
        self.p = subprocess.Popen(who.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                  text=True, env=dict(os.environ, **who.env))
        self.send(json.dumps(req))

    def failed(self, what: str) -> RuntimeError:
        self.p.kill()
        rc = self.p.wait()
        self.err.seek(0)
        return RuntimeError(f"{self.who.name} {self.call}: {what} (exit {rc}): {self.err.read().strip()[-2000:]}")

    def send(self, line: str) -> None:
        try:
            self.p.stdin.write(line + "\n")
            self.p.stdin.flush()
        except BrokenPipeError:
            raise self.failed("the driver ended") from None

    def read(self, timeout: float) -> dict:
        watchdog = threading.Timer(timeout, self.p.kill)  # a hung driver ends the run, not hangs it
        watchdog.start()
        try:
            line = self.p.stdout.readline()
        finally:
            watchdog.cancel()
        if not line:
            raise self.failed("the driver ended without an answer")
        return json.loads(line)

    def batch(self, n: int) -> dict:
        self.send(str(n))
        return self.read(timeout=600)

    def close(self) -> None:
        """Ends stdin; the driver frees its client and exits."""
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        if rc not in (0, SKIPPED):  # its answers stand, but a failing exit is worth a look
            self.err.seek(0)
            log(f"   {self.who.name} {self.call}: the driver exited with {rc}: {self.err.read().strip()[-500:]}")
        self.err.close()


def build_driver(what: str, cmd: list[str], cwd: Path, env: dict) -> str | None:
    """Builds a compiled driver; None when it built, otherwise why not."""
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=dict(os.environ, **env))
    return None if r.returncode == 0 else f"{what}: skipped (driver did not build: {r.stderr.strip()[-300:]})"


def contenders(build: Path, venv_python: str, wanted: set[str] | None) -> tuple[list[Contender], list[str]]:
    """The contenders (all, or those named in `wanted`); compiled drivers are built only when wanted."""
    notes: list[str] = []
    lib = build / "capi/libmomento_auth.so.1"

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    out = [
        Contender("grpc_stub", "bare grpc++ stub (limit)", [str(build / "bench/clients/momento_bench_grpc_stub")]),
        Contender("c_abi", "C ABI", [str(build / "bench/clients/momento_bench_client"), "c_abi"]),
        Contender("cpp", "C++ wrapper", [str(build / "bench/clients/momento_bench_client"), "cpp"]),
        Contender("python", "Python (momento_auth)", [venv_python, str(CLIENTS / "python/driver.py"), "python"],
                  {"PYTHONPATH": str(build / "bindings/python/pkg")}),
    ]
    node = shutil.which("node")
    koffi = build.parent / "bindings-node" / "node_modules"
    if not node:
        notes.append("Node binding: skipped (no node on PATH)")
    elif not (koffi / "koffi").exists():
        notes.append(f"Node binding: skipped (koffi not installed in {koffi}; scripts/setup installs it)")
    else:
        out.append(Contender("node_binding", "Node binding", [node, str(CLIENTS / "node/driver.js"), "node_binding"],
                             {"NODE_PATH": str(koffi), "MOMENTO_AUTH_LIBRARY": str(lib)}))
    # Compiled drivers find this build's header and library through its pkg-config file.
    pc = {"PKG_CONFIG_PATH": str(build / "pkgconfig")}
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go:
        # Offline from the module cache (scripts/setup downloads the SDK's modules for the interop tests).
        genv = dict(pc, GOFLAGS="-mod=mod", GOPROXY=os.environ.get("GOPROXY", "off"), GOTOOLCHAIN="local",
                    CGO_ENABLED="1", GOCACHE=str(build / "go-cache"))
        for name, label, pkg in (("go_binding", "Go binding", "./binding"), ("go_sdk", "Momento Go SDK", "./sdk")):
            if not want(name):
                continue
            exe = build / f"bench/clients/{name}_driver"
            why = build_driver(label, [go, "build", "-o", str(exe), pkg], CLIENTS / "go", genv)
            if why:
                notes.append(why)
            else:
                out.append(Contender(name, label, [str(exe)]))
    else:
        notes.append("Go binding and Momento Go SDK: skipped (no go on PATH)")
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo/bin/cargo")
    if want("rust_binding") and Path(cargo).exists():
        target = build / "cargo-bench"
        why = build_driver("Rust binding", [cargo, "build", "--release", "--locked", "--quiet"], CLIENTS / "rust",
                           dict(pc, CARGO_TARGET_DIR=str(target)))
        if why:
            notes.append(why)
        else:
            out.append(Contender("rust_binding", "Rust binding", [str(target / "release/momento-auth-bench")],
                                 {"LD_LIBRARY_PATH": str(lib.parent)}))
    elif want("rust_binding"):
        notes.append("Rust binding: skipped (no cargo)")
    if node and Path(build.parent / "interop-node/node_modules/@gomomento/sdk").exists():
        out.append(Contender("node_sdk", "Momento Node SDK", [node, str(CLIENTS / "node/driver.js"), "node_sdk"],
                             {"NODE_PATH": str(build.parent / "interop-node/node_modules")}))
    else:
        notes.append("Momento Node SDK: skipped (not installed in build/interop-node; scripts/setup installs it)")
    out.append(Contender("python_sdk", "Momento Python SDK", [venv_python, str(CLIENTS / "python/driver.py"),
                                                                "python_sdk"]))
    return [c for c in out if want(c.name)], notes


# ---- the keys ----------------------------------------------------------------------------------

def inner_key(envelope: str) -> str:
    return json.loads(base64.b64decode(envelope))["api_key"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def v2_key() -> str:
    """A v2-shaped key (claim t == "g", with an expiry); parsing does not check signatures."""
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    claims = {"t": "g", "id": secrets.token_hex(16), "exp": int(time.time()) + 86400}
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{b64url(secrets.token_bytes(32))}"


def make_request(build: Path, address: str, boot: dict) -> dict:
    """Keys minted through our Python package: an expiring key with its refresh token, a
    disposable token; the super-user key comes from the server's bootstrap file."""
    sys.path.insert(0, str(build / "bindings/python/pkg"))
    import momento_auth as ma

    super_env = boot["authToken"]
    with ma.AuthClient(ma.CredentialProvider.from_string(super_env, endpoint=address, secure=False)) as c:
        minted = c.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
        disposable = c.generate_disposable_token(ma.DisposableTokenScopes.cache_key_read_write("bench", "k"),
                                                 ma.ExpiresIn.hours(1))
    refresh_env, rt = minted.api_key, minted.refresh_token
    # The first refresh rotates; from then on the same (old) refresh token is a replay.
    with ma.AuthClient(ma.CredentialProvider.from_string(refresh_env, endpoint=address, secure=False)) as c:
        c.refresh_api_key(rt)
    return {
        "address": address, "super_envelope": super_env, "super_key": inner_key(super_env),
        "refresh_envelope": refresh_env, "refresh_key": inner_key(refresh_env), "refresh_token": rt,
        "v1": refresh_env, "v2_key": v2_key(), "v2_endpoint": "cell-4-us-west-2-1.prod.a.momentohq.com",
        "disposable": disposable.auth_token, "cache": "bench",
    }


# ---- statistics ----------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def median_ci(values: list[float]) -> tuple[float, float, float]:
    """The median and a distribution-free 95% confidence interval for it (order statistics, as in
    bench/python): with 5 values it is their min-max (93.8%), with 100 about the 40th-60th."""
    v, n = sorted(values), len(values)
    half = 0.98 * math.sqrt(n)  # 1.96 * sqrt(n) / 2
    lo, hi = max(0, math.floor(n / 2 - half)), min(n - 1, math.ceil(n / 2 + half))
    return statistics.median(v), v[lo], v[hi]


def verdict(kind: str, target: float, med: float, lo: float, hi: float) -> str:
    """met / missed when the whole interval is on one side of the target, else not conclusive."""
    good = {"ratio_max": lambda v: v <= target, "ratio_below": lambda v: v < target, "diff_max": lambda v: v <= target,
            "value_max": lambda v: v <= target, "value_min": lambda v: v >= target}[kind]
    if good(lo) and good(hi):
        return "met"
    if not good(lo) and not good(hi):
        return "missed"
    return f"not conclusive ({'met' if good(med) else 'missed'} at the median)"


# ---- the figures ---------------------------------------------------------------------------------

class Bench:
    def __init__(self, args, build: Path, people: list[Contender], req: dict, out: Path):
        self.args, self.build, self.people, self.req, self.out = args, build, people, req, out
        self.rows: list[dict] = []      # every measurement (results.csv)
        self.summary: list[dict] = []   # medians and ratios (summary.csv)
        self.latencies: dict[tuple[str, str], list[float]] = {}
        self.goals: list[dict] = []
        self.controls: list[dict] = []  # the A/A control's ratios
        self.import_where = ""

    def record(self, figure: str, contender: str, call: str, rnd: int, metric: str, value: float) -> None:
        self.rows.append({"figure": figure, "contender": contender, "call": call, "round": rnd,
                          "metric": metric, "value": value})

    def summarize(self, figure: str, call: str, metric: str, baseline: str,
                  per_round: dict[str, dict[int, float] | list[float]]) -> None:
        """Per contender: the median of its per-round values with a 95% CI, and the median of its
        per-round ratios to the baseline (paired by round) with a 95% CI."""
        per = {k: v if isinstance(v, dict) else dict(enumerate(v)) for k, v in per_round.items() if v}
        base = per.get(baseline)
        for name, vals in sorted(per.items(), key=lambda kv: self.rank(kv[0])):
            med, lo, hi = median_ci(list(vals.values()))
            row = {"figure": figure, "call": call, "metric": metric, "contender": name, "median": med,
                   "ci_lo": lo, "ci_hi": hi, "rounds": len(vals), "baseline": baseline}
            r = [v / base[k] for k, v in vals.items() if base and base.get(k)]
            if r:
                row["ratio"], row["ratio_lo"], row["ratio_hi"] = median_ci(r)
            self.summary.append(row)

    def rank(self, name: str) -> int:
        """Tables and plots list contenders in contenders()'s order, not in a round's."""
        names = [c.name for c in self.people] + [CONTROL]
        return names.index(name) if name in names else len(names)

    def shuffled(self, rnd: int, people: list) -> list:
        """A fresh order each round (seeded by the round: runs repeat it). Shuffled rather than
        rotated: a contender's batch follows a different one each round, so what one leaves
        behind (threads winding down, cold caches) does not always land on the same neighbour."""
        order = list(people)
        random.Random(rnd).shuffle(order)
        return order

    def interleaved(self, people: list[Contender], req: dict, rounds: int, n: int, got, starts: int = 1) -> None:
        """Starts every contender's driver for req (each warms up), then runs the rounds: one batch
        of n per contender and round, in a shuffled order; got(round, contender, answer). The rounds
        are split between `starts` fresh sets of driver processes, so that what one process happens
        to get (its memory layout, its CPU) does not weigh on a whole figure."""
        for part in range(starts):
            sessions = []
            try:
                for c in people:
                    s = c.start(req)
                    if s:
                        sessions.append(s)
                if not sessions:
                    return
                for rnd in range(part * rounds // starts, (part + 1) * rounds // starts):
                    for s in self.shuffled(rnd, sessions):
                        got(rnd, s.who, s.batch(n))
            finally:
                for s in sessions:
                    s.close()

    # Latency, throughput, CPU per call and RSS of sequential calls on one client.
    def calls(self) -> None:
        a, n = self.args, self.args.batch
        # The A/A control: the C ABI's driver once more, measured like any contender; its ratio to
        # the C ABI shows how far from 1.00 the method itself puts two identical contenders.
        people = self.people + [Contender(CONTROL, "C ABI again (A/A control)", c.cmd, c.env)
                                for c in self.people if c.name == "c_abi"]
        for call in CALLS:
            log(f"== {call}: {a.rounds} rounds, each a batch of {n} sequential calls per contender")
            per = {k: {} for k in ("p50", "wall_us", "throughput", "cpu_us", "rss_kib")}

            def got(rnd: int, c: Contender, r: dict) -> None:
                lat = r["lat_ns"]
                self.latencies.setdefault((c.name, call), []).extend(lat)
                vals = {"p50": statistics.median(lat) / 1e3, "wall_us": r["wall_s"] / n * 1e6,
                        "throughput": n / r["wall_s"], "cpu_us": r["cpu_s"] / n * 1e6, "rss_kib": r["rss_kib"]}
                for k, v in vals.items():
                    per[k].setdefault(c.name, {})[rnd] = v
                    self.record("calls", c.name, call, rnd, k, v)

            self.interleaved(people, dict(self.req, call=call, warmup=a.warmup), a.rounds, n, got, a.starts)
            for k, vals in per.items():
                self.summarize("calls", call, k, "grpc_stub", vals)
            self.pooled(call)
            self.print_table(call, ["p50", "p99", "wall_us", "cpu_us", "rss_kib"])

    def pooled(self, call: str) -> None:
        """p50 (with the CI of that median) and p99 of all of a contender's latencies pooled; p50's
        ratio stays the median of the per-round ratios, p99's is pooled over pooled."""
        lats = {name: [v / 1e3 for v in lat] for (name, c), lat in self.latencies.items() if c == call}
        base = lats.get("grpc_stub")
        for row in self.summary:
            if row["figure"] == "calls" and row["call"] == call and row["metric"] == "p50":
                row["median"], row["ci_lo"], row["ci_hi"] = median_ci(lats[row["contender"]])
        for name, lat in sorted(lats.items(), key=lambda kv: self.rank(kv[0])):
            p99 = pct(lat, 99)
            row = {"figure": "calls", "call": call, "metric": "p99", "contender": name, "median": p99,
                   "ci_lo": p99, "ci_hi": p99, "rounds": self.args.rounds, "baseline": "grpc_stub"}
            if base:
                row["ratio"] = row["ratio_lo"] = row["ratio_hi"] = p99 / pct(base, 99)
            self.summary.append(row)

    def parse(self) -> None:
        a, n = self.args, self.args.parse_batch
        people = [c for c in self.people if c.name != "grpc_stub"]
        for call in PARSES:
            log(f"== {call}: {a.rounds} rounds, each a batch of {n} parses per contender")
            per: dict[str, dict[str, dict[int, float]]] = {"ns_per_parse": {}, "per_core_per_s": {},
                                                           "cpu_ns_per_parse": {}}

            def got(rnd: int, c: Contender, r: dict) -> None:
                vals = {"ns_per_parse": r["wall_s"] / n * 1e9, "per_core_per_s": n / max(r["cpu_s"], 1e-9),
                        "cpu_ns_per_parse": r["cpu_s"] / n * 1e9}
                for k, v in vals.items():
                    per[k].setdefault(c.name, {})[rnd] = v
                    self.record("parse", c.name, call, rnd, k, v)

            self.interleaved(people, dict(self.req, call=call, warmup=n), a.rounds, n, got, a.starts)
            for k, vals in per.items():
                self.summarize("parse", call, k, "c_abi", vals)
            self.print_table(call, ["ns_per_parse", "per_core_per_s"])

    def scaling(self) -> None:
        a, n = self.args, self.args.scale_calls
        people = [c for c in self.people if c.name in ("grpc_stub", "c_abi", "cpp", "python", "go_binding",
                                                       "rust_binding", "node_binding")]
        threads = [1, 2, 4, 8, 16]
        log(f"== scaling: refresh on one shared client, threads {threads}, {a.scale_rounds} rounds of {n} calls")
        for t in threads:
            per: dict[str, dict[int, float]] = {}

            def got(rnd: int, c: Contender, r: dict) -> None:
                v = n / r["wall_s"]
                per.setdefault(c.name, {})[rnd] = v
                self.record("scaling", c.name, f"refresh_t{t}", rnd, "throughput", v)

            self.interleaved(people, dict(self.req, call="refresh", threads=t, warmup=5 * t), a.scale_rounds, n, got)
            self.summarize("scaling", f"refresh_t{t}", "throughput", "grpc_stub", per)
        self.print_table_scaling(threads)

    def import_time(self, venv_python: str, key: str) -> None:
        """The import measured inside fresh interpreters (so the interpreter's own start does not
        blur it), next to `import json` and a bare interpreter start in the same rounds. `usable`
        is the import plus a first parse: a package that defers its work to first use pays it
        there. The package is the one the wheel test installed into a fresh venv when it exists
        (what a user gets from pip), else the build tree's."""
        wheel_venv = self.build / "python-wheel/venv/bin/python"
        if wheel_venv.exists():
            py, env, where = str(wheel_venv), {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "wheel"
        else:
            py, env, where = venv_python, dict(os.environ, PYTHONPATH=str(self.build / "bindings/python/pkg")), \
                "build tree"
        env["BENCH_KEY"] = key
        # Wall and CPU time of the statement (CPU time is less inflated when the machine is busy).
        timed = ("import time, os; t, c = time.perf_counter(), time.process_time(); {}; "
                 "print((time.perf_counter() - t) * 1e3, (time.process_time() - c) * 1e3)")
        stmts = {
            "json": (py, timed.format("import json")),
            "momento_auth": (py, timed.format("import momento_auth")),
            "momento_auth_usable": (py, timed.format(
                "import momento_auth; momento_auth.CredentialProvider.from_string(os.environ['BENCH_KEY'])")),
            "momento_sdk": (venv_python, timed.format("import momento")),
        }
        rounds = self.args.import_rounds
        log(f"== import time ({where}): {rounds} rounds of one fresh interpreter per import, in a shuffled order")
        # Listed in this order, whatever the rounds' order.
        per: dict[str, dict[str, dict[int, float]]] = {m: {name: {} for name in ["bare"] + list(stmts)}
                                                       for m in ("import_ms", "import_cpu_ms")}
        for rnd in range(rounds):
            for name in self.shuffled(rnd, ["bare"] + list(stmts)):
                if name == "bare":
                    t0 = time.perf_counter()
                    subprocess.run([py, "-c", "pass"], env=env, check=True)
                    vals = {"import_ms": (time.perf_counter() - t0) * 1e3}
                else:
                    exe, code = stmts[name]
                    p = subprocess.run([exe, "-c", code], env=env, capture_output=True, text=True)
                    if p.returncode != 0:
                        continue
                    w, c = map(float, p.stdout.strip().splitlines()[-1].split())
                    vals = {"import_ms": w, "import_cpu_ms": c}
                for metric, v in vals.items():
                    per[metric].setdefault(name, {})[rnd] = v
                    self.record("import", name, "import", rnd, metric, v)
        self.summarize("import", "import", "import_ms", "bare", per["import_ms"])
        self.summarize("import", "import", "import_cpu_ms", "json", per["import_cpu_ms"])
        for name, vals in per["import_ms"].items():
            if not vals:
                continue
            cpu = per["import_cpu_ms"].get(name)
            med, lo, hi = median_ci(list(vals.values()))
            log(f"   {name:22s} {med:7.1f} ms (95% CI {lo:.1f}-{hi:.1f})"
                + (f", CPU {statistics.median(cpu.values()):.1f} ms" if cpu else ""))
        self.import_where = where

    def wheel(self) -> None:
        wheels = sorted(self.build.glob("python-wheel/wheelhouse/*.whl"))
        if not wheels:
            log("== wheel size: no wheel in build/dev/python-wheel/wheelhouse (run `ctest --preset dev -R python.wheel`)")
            return
        size = wheels[-1].stat().st_size
        self.record("wheel", "python", "wheel", 0, "wheel_bytes", size)
        self.summary.append({"figure": "wheel", "call": wheels[-1].name, "metric": "wheel_bytes",
                             "contender": "python", "median": size, "ci_lo": size, "ci_hi": size, "rounds": 1,
                             "baseline": ""})
        log(f"== wheel size: {wheels[-1].name} {size / 2**20:.2f} MiB")

    def server(self) -> None:
        exe = self.build / "bench/server/momento_bench_server"
        inflight = [1, 4, 16, 64, 128]
        log(f"== server throughput vs calls in flight {inflight} (bench/server), refresh and durable refresh")
        for durable in (False, True):
            for k in inflight:
                # gRPC's synchronous server runs each call in flight on a thread of its pool and
                # refuses calls beyond it (RESOURCE_EXHAUSTED, "Server Threadpool Exhausted"), so
                # both servers get a pool well above the calls in flight (--threads is 2..256).
                threads = min(256, max(64, 2 * k))
                cmd = [str(exe), "--workloads", "refresh", "--inflight", str(k), "--threads", str(threads),
                       "--client-threads", str(min(k, 2)), "--rounds", str(self.args.process_rounds),
                       "--seconds", str(self.args.server_seconds), "--warmup", "0.5"]
                if durable:
                    cmd += ["--server-arg", "--sync-full"]
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                if p.returncode != 0:
                    log(f"   bench/server failed at {k} in flight: {p.stderr.strip()[-500:]}")
                    continue
                # Per-phase rows: "subject refresh ok errors secs req/s ..." and "echo echo ...".
                subj = [float(m.group(1)) for m in re.finditer(r"^subject\s+refresh\s+\d+\s+\d+\s+[\d.]+\s+(\d+)",
                                                               p.stdout, re.M)]
                echo = [float(m.group(1)) for m in re.finditer(r"^echo\s+echo\s+\d+\s+\d+\s+[\d.]+\s+(\d+)",
                                                               p.stdout, re.M)]
                name = "server_refresh_durable" if durable else "server_refresh"
                for rnd, v in enumerate(subj):
                    self.record("server", name, f"inflight_{k}", rnd, "req_per_s", v)
                for rnd, v in enumerate(echo):
                    self.record("server", "echo", f"inflight_{k}", rnd, "req_per_s", v)
                self.summarize("server", f"inflight_{k}", "req_per_s", "echo", {name: subj, "echo": echo[:len(subj)]})
                log(f"   {name:24s} in flight {k:3d}: {statistics.median(subj):8.0f} req/s "
                    f"(bare echo server {statistics.median(echo):8.0f}, --threads {threads})")

    # ---- the goals of the issues, each a ratio (or difference) of two contenders in one round ----
    def per_round(self, figure: str, contender: str, call: str, metric: str) -> dict[int, float]:
        return {r["round"]: r["value"] for r in self.rows if r["figure"] == figure and r["contender"] == contender
                and r["call"] == call and r["metric"] == metric}

    def goal(self, text: str, figure: str, call: str, metric: str, a: str, b: str | None, target: float,
             kind: str = "ratio_max") -> None:
        """kind: ratio_max (a/b <= target), ratio_below (a/b < target), diff_max (a-b <= target),
        value_max / value_min (a's own value); judged on the median of the per-round values, with a
        95% CI that says whether the verdict is conclusive."""
        va = self.per_round(figure, a, call, metric)
        vb = self.per_round(figure, b, call, metric) if b else {}
        if kind.startswith("value"):
            vals = list(va.values())
        elif kind == "diff_max":
            vals = [va[r] - vb[r] for r in va if r in vb]
        else:
            vals = [va[r] / vb[r] for r in va if r in vb and vb[r]]
        if not vals:
            return
        med, lo, hi = median_ci(vals)
        self.goals.append({"goal": text, "figure": figure, "call": call, "metric": metric, "contender": a,
                           "baseline": b or "", "kind": kind, "target": target, "median": med, "ci_lo": lo,
                           "ci_hi": hi, "rounds": len(vals), "verdict": verdict(kind, target, med, lo, hi)})

    def check_goals(self) -> None:
        self.goals, self.controls = [], []
        for call in CALLS:
            for metric in ("p50", "wall_us"):
                va, vb = (self.per_round("calls", who, call, metric) for who in (CONTROL, "c_abi"))
                vals = [va[r] / vb[r] for r in va if r in vb and vb[r]]
                if vals:
                    med, lo, hi = median_ci(vals)
                    self.controls.append({"call": call, "metric": metric, "median": med, "ci_lo": lo, "ci_hi": hi})
                    log(f"   A/A control, {call} {metric}: the C ABI's second process x{med:.3f} the first "
                        f"(95% CI {lo:.3f} to {hi:.3f})")
        for who, target in (("c_abi", 1.05), ("cpp", 1.05), ("python", 1.10)):
            self.goal(f"{who} refresh p50 within {target:.2f}x the bare grpc++ stub", "calls", "refresh", "p50",
                      who, "grpc_stub", target)
        for who in ("python", "node_binding", "go_binding", "rust_binding"):
            self.goal(f"{who} refresh wall time per call within 1.10x the C ABI", "calls", "refresh", "wall_us",
                      who, "c_abi", 1.10)
            self.goal(f"{who} refresh p50 within 1.10x the C ABI", "calls", "refresh", "p50", who, "c_abi", 1.10)
        for who, sdk in (("node_binding", "node_sdk"), ("go_binding", "go_sdk"), ("python", "python_sdk")):
            for call in CALLS:
                self.goal(f"{who} {call} faster than {sdk} (p50)", "calls", call, "p50", who, sdk, 1.0, "ratio_below")
            for call in PARSES:
                self.goal(f"{who} {call} faster than {sdk} (CPU per parse)", "parse", call, "cpu_ns_per_parse",
                          who, sdk, 1.0, "ratio_below")
        for who in ("c_abi", "cpp"):
            self.goal(f"{who} client RSS at most 5 MiB above a bare grpc++ process (KiB)", "calls", "refresh",
                      "rss_kib", who, "grpc_stub", 5 * 1024, "diff_max")
        self.goal("C ABI parses a v1 envelope at least 1.5 million times/s per core", "parse", "parse_v1",
                  "per_core_per_s", "c_abi", None, 1.5e6, "value_min")
        for call in PARSES:
            self.goal(f"Python {call} within 2 µs of CPU of the C ABI's (ns)", "parse", call, "cpu_ns_per_parse",
                      "python", "c_abi", 2000, "diff_max")
        self.goal("`import momento_auth` under 50 ms (ms)", "import", "import", "import_ms", "momento_auth", None, 50,
                  "value_max")
        self.goal("`import momento_auth` + first parse under 50 ms (ms)", "import", "import", "import_ms",
                  "momento_auth_usable", None, 50, "value_max")
        self.goal("`import momento_auth` + first parse under 50 ms of CPU (ms)", "import", "import", "import_cpu_ms",
                  "momento_auth_usable", None, 50, "value_max")
        for g in self.goals:
            log(f"   {g['verdict']}: {g['goal']}: {g['median']:.4g} (95% CI {g['ci_lo']:.4g} to {g['ci_hi']:.4g}, "
                f"{g['rounds']} rounds; target {g['target']:g})")

    # ---- printing ----
    def print_table(self, call: str, metrics: list[str]) -> None:
        rows = [s for s in self.summary if s["call"] == call]
        names = list(dict.fromkeys(s["contender"] for s in rows))
        log(f"   {'contender':14s} " + " ".join(f"{m:>28s}" for m in metrics))
        for name in names:
            cells = []
            for m in metrics:
                s = next((x for x in rows if x["contender"] == name and x["metric"] == m), None)
                if s is None:
                    cells.append(f"{'-':>28s}")
                    continue
                ratio = f"x{s['ratio']:.3f} [{s['ratio_lo']:.3f}-{s['ratio_hi']:.3f}]" if "ratio" in s else ""
                cells.append(f"{s['median']:>10.4g} {ratio:>17s}")
            log(f"   {name:14s} " + " ".join(cells))

    def print_table_scaling(self, threads: list[int]) -> None:
        for s in self.summary:
            if s["figure"] == "scaling":
                ratio = f"x{s['ratio']:.3f} [{s['ratio_lo']:.3f}-{s['ratio_hi']:.3f}]" if "ratio" in s else ""
                log(f"   {s['call']:12s} {s['contender']:10s} {s['median']:9.0f} calls/s {ratio}")

    # ---- output ----
    def write_csv(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / "results.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["figure", "contender", "call", "round", "metric", "value"])
            w.writeheader()
            w.writerows(dict(r, value=f"{r['value']:.6g}") for r in self.rows)
        keys = ["figure", "call", "metric", "contender", "median", "ci_lo", "ci_hi", "rounds", "baseline", "ratio",
                "ratio_lo", "ratio_hi"]
        with open(self.out / "summary.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(self.summary)
        with open(self.out / "goals.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["goal", "figure", "call", "metric", "contender", "baseline", "kind",
                                              "target", "median", "ci_lo", "ci_hi", "rounds", "verdict"])
            w.writeheader()
            w.writerows(self.goals)
        with open(self.out / "latency.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["contender", "call", "latency_us"])
            for (name, call), lat in self.latencies.items():
                w.writerows([name, call, round(v / 1e3, 2)] for v in lat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", default=str(ROOT / "build/dev"))
    ap.add_argument("--quick", action="store_true", help="a short check: fewer rounds of everything (about 2 minutes)")
    ap.add_argument("--rounds", type=int, help="rounds of the call and parse figures (default 200, --quick 30)")
    ap.add_argument("--batch", type=int, default=20, help="sequential calls per contender and round (default 20)")
    ap.add_argument("--parse-batch", type=int, default=1000, help="parses per contender and round (default 1000)")
    ap.add_argument("--starts", type=int, default=4,
                    help="fresh driver processes per call over the rounds of the call and parse figures (default 4)")
    ap.add_argument("--scale-rounds", type=int, help="rounds of the scaling figure (default 10, --quick 5)")
    ap.add_argument("--import-rounds", type=int, help="rounds of the import-time figure (default 25, --quick 10)")
    ap.add_argument("--process-rounds", type=int, default=5, help="rounds of the server figure (default 5)")
    ap.add_argument("--only", default="calls,parse,scaling,import,wheel,server")
    ap.add_argument("--out", default=str(ROOT / "docs/benchmarks"))
    ap.add_argument("--doc", default=str(ROOT / "docs/benchmarks.md"),
                    help="the page whose results section this run writes")
    ap.add_argument("--contenders", default="",
                    help="comma-separated names (e.g. grpc_stub,c_abi,node_binding,node_sdk); default all")
    args = ap.parse_args()
    args.rounds = args.rounds or (30 if args.quick else 200)
    args.scale_rounds = args.scale_rounds or (5 if args.quick else 10)
    args.import_rounds = args.import_rounds or (10 if args.quick else 25)
    if min(args.rounds, args.scale_rounds, args.import_rounds, args.process_rounds) < 5:
        ap.error("at least 5 rounds: the confidence intervals need them")
    if not 1 <= args.starts <= args.rounds:
        ap.error("--starts: from 1 to --rounds")
    args.warmup = 50
    args.scale_calls = 100 if args.quick else 200
    args.server_seconds = 0.5 if args.quick else 2
    build = Path(args.build_dir).resolve()
    venv_python = sys.executable
    started = dt.datetime.now(dt.timezone.utc)
    load_start = os.getloadavg()[0]
    log(f"== load average at the start {load_start:.1f} (a quiet machine is below 2; ratios need it)")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="momento-bench-") as tmp:
        server, address, boot = start_server(build / "server/momento-auth-server", Path(tmp))
        try:
            req = make_request(build, address, boot)
            wanted = set(args.contenders.split(",")) if args.contenders else None
            people, notes = contenders(build, venv_python, wanted)
            if wanted is not None:
                notes.append(f"contenders limited to {args.contenders}")
            for n in notes:
                log(f"note: {n}")
            b = Bench(args, build, people, req, Path(args.out))
            only = set(args.only.split(","))
            if "calls" in only:
                b.calls()
            if "parse" in only:
                b.parse()
            if "scaling" in only:
                b.scaling()
        finally:
            server.terminate()
            server.wait(timeout=30)
    if "import" in only:
        b.import_time(venv_python, req["v1"])
    if "wheel" in only:
        b.wheel()
    if "server" in only:
        b.server()
    log("== goals (median over rounds of each round's ratio or difference, with its 95% CI)")
    b.check_goals()
    b.write_csv()
    import report  # bench/report.py: plots and docs/benchmarks.md

    meta = {"started": started.strftime("%Y-%m-%d %H:%M UTC"), "minutes": (time.monotonic() - t0) / 60,
            "command": "bench/run " + " ".join(sys.argv[1:]).replace(f"--build-dir {build}", "").strip(),
            "machine": machine(load_start), "notes": notes, "rounds": args.rounds, "quick": args.quick,
            "batch": args.batch, "parse_batch": args.parse_batch, "warmup": args.warmup, "starts": args.starts,
            "scale_rounds": args.scale_rounds, "scale_calls": args.scale_calls, "import_rounds": args.import_rounds,
            "process_rounds": args.process_rounds,
            "versions": {c.name: c.version for c in people if c.version}, "toolchains": toolchains(),
            "skipped": {c.name: c.skipped for c in people if c.skipped}}
    (Path(args.out) / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    report.write(Path(args.out), Path(args.doc), b, meta, people)
    log(f"== done in {meta['minutes']:.1f} min; results in {args.out} and {args.doc}")


def toolchains() -> str:
    """The compilers and runtimes of the drivers, as each reports itself."""
    out = []
    for cmd in (["node", "--version"], [shutil.which("go") or "/usr/local/go/bin/go", "version"],
                [shutil.which("rustc") or str(Path.home() / ".cargo/bin/rustc"), "--version"],
                ["c++", "--version"], ["pkg-config", "--modversion", "grpc++"]):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            first = p.stdout.strip().splitlines()[0] if p.returncode == 0 and p.stdout.strip() else ""
        except OSError:
            first = ""
        if first:
            out.append({"pkg-config": f"grpc++ {first}", "node": f"node {first}"}.get(cmd[0], first))
    return "; ".join(out)


def machine(load_start: float) -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (f"{cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}; "
            f"load average {load_start:.1f} at the start and {load[0]:.1f} at the end (shared machine)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
