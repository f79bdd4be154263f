"""bench/run's body (start it through bench/run, which builds and installs what it needs).

Every contender is a driver process speaking bench/clients/README.md's protocol. All run
against one local momento-auth-server, in rounds; each round runs every contender once, in an
order that rotates from round to round, so slow drift of this shared machine hits all alike.
Each figure is reported as a ratio to a baseline measured in the same round, with the spread
(min and max) of those per-round ratios.
"""
from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "bench" / "clients"
CALLS = ("refresh", "generate", "disposable")
PARSES = ("parse_v1", "parse_v2", "parse_disposable")
SKIPPED = 77


def log(msg: str) -> None:
    print(msg, flush=True)


# ---- contenders --------------------------------------------------------------------------------

class Contender:
    def __init__(self, name: str, label: str, cmd: list[str], env: dict | None = None, note: str = ""):
        self.name, self.label, self.cmd, self.env, self.note = name, label, cmd, env or {}, note
        self.version = ""
        self.skipped: dict[str, str] = {}  # call -> why

    def run(self, req: dict, timeout: float = 600) -> dict | None:
        """One driver process; None when the contender does not have the call."""
        if req["call"] in self.skipped:
            return None
        env = dict(os.environ, **self.env)
        p = subprocess.run(self.cmd, input=json.dumps(req), capture_output=True, text=True, env=env,
                           timeout=timeout)
        if p.returncode == SKIPPED:
            why = json.loads(p.stdout.strip().splitlines()[-1]).get("skip", "not available")
            self.skipped[req["call"]] = why
            log(f"   {self.name}: {req['call']} skipped: {why}")
            return None
        if p.returncode != 0:
            raise RuntimeError(f"{self.name} {req['call']} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.version = out.get("version", self.version)
        return out


def contenders(build: Path, venv_python: str) -> tuple[list[Contender], list[str]]:
    notes: list[str] = []
    out = [
        Contender("grpc_stub", "bare grpc++ stub (limit)", [str(build / "bench/clients/momento_bench_grpc_stub")]),
        Contender("c_abi", "C ABI", [str(build / "bench/clients/momento_bench_client"), "c_abi"]),
        Contender("cpp", "C++ wrapper", [str(build / "bench/clients/momento_bench_client"), "cpp"]),
        Contender("python", "Python (momento_auth)", [venv_python, str(CLIENTS / "python/driver.py"), "python"],
                  {"PYTHONPATH": str(build / "bindings/python/pkg")}),
    ]
    node = shutil.which("node")
    node_path = str(build.parent / "interop-node" / "node_modules")
    if node and (ROOT / "bindings/node").exists():
        out.append(Contender("node_binding", "Node binding", [node, str(CLIENTS / "node/driver.js"), "node_binding"],
                             {"NODE_PATH": node_path, "MOMENTO_AUTH_LIB": str(build / "capi/libmomento_auth.so.1")}))
    else:
        notes.append("Node binding: skipped (bindings/node does not exist in this tree)" if node
                     else "Node binding: skipped (no node on PATH)")
    for lang in ("go", "rust"):
        if (ROOT / "bindings" / lang).exists():
            notes.append(f"{lang.capitalize()} binding: bindings/{lang} exists but has no bench driver yet "
                         "(bench/clients/README.md says how to add one)")
        else:
            notes.append(f"{lang.capitalize()} binding: skipped (bindings/{lang} does not exist in this tree)")
    if node and Path(node_path, "@gomomento/sdk").exists():
        out.append(Contender("node_sdk", "Momento Node SDK", [node, str(CLIENTS / "node/driver.js"), "node_sdk"],
                             {"NODE_PATH": node_path}))
    else:
        notes.append(f"Momento Node SDK: skipped (not installed in {node_path}; scripts/setup installs it)")
    go = shutil.which("go")
    if go:
        exe = build / "bench/clients/go_sdk_driver"
        r = subprocess.run([go, "build", "-o", str(exe), "."], cwd=CLIENTS / "go", capture_output=True, text=True,
                           env=dict(os.environ, GOFLAGS="-mod=mod", GOPROXY=os.environ.get("GOPROXY", "off")))
        if r.returncode == 0:
            out.append(Contender("go_sdk", "Momento Go SDK", [str(exe)]))
        else:
            notes.append(f"Momento Go SDK: skipped (driver did not build: {r.stderr.strip()[-300:]})")
    else:
        notes.append("Momento Go SDK: skipped (no go on PATH)")
    out.append(Contender("python_sdk", "Momento Python SDK", [venv_python, str(CLIENTS / "python/driver.py"),
                                                                "python_sdk"]))
    return out, notes


# ---- the server and the keys -------------------------------------------------------------------

def start_server(server_bin: Path, base: Path) -> tuple[subprocess.Popen, str, dict]:
    boot = base / "bootstrap.json"
    (base / "data").mkdir()
    # Replays of one refresh token within the grace window get the same answer, so every refresh
    # is the same full round trip with the same server work, for every contender.
    proc = subprocess.Popen([str(server_bin), "--listen", "127.0.0.1:0", "--data-dir", str(base / "data"),
                             "--bootstrap", str(boot), "--refresh-grace-seconds", "86400", "--log-format", "off"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    m = re.match(r"^listening on (\S+)", proc.stdout.readline())
    if not m:
        proc.kill()
        raise SystemExit("momento-auth-server did not start")
    for _ in range(100):
        try:
            return proc, m.group(1), json.loads(boot.read_text())
        except (OSError, ValueError):
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("momento-auth-server wrote no bootstrap file")


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


def spread(ratios: list[float]) -> tuple[float, float, float]:
    return statistics.median(ratios), min(ratios), max(ratios)


# ---- the figures ---------------------------------------------------------------------------------

class Bench:
    def __init__(self, args, build: Path, people: list[Contender], req: dict, out: Path):
        self.args, self.build, self.people, self.req, self.out = args, build, people, req, out
        self.rows: list[dict] = []      # every measurement (results.csv)
        self.summary: list[dict] = []   # medians and ratios (summary.csv)
        self.latencies: dict[tuple[str, str], list[float]] = {}

    def record(self, figure: str, contender: str, call: str, rnd: int, metric: str, value: float) -> None:
        self.rows.append({"figure": figure, "contender": contender, "call": call, "round": rnd,
                          "metric": metric, "value": value})

    def summarize(self, figure: str, call: str, metric: str, baseline: str, per_round: dict[str, list[float]],
                  lower_is_better: bool = True) -> None:
        base = per_round.get(baseline)
        for name, vals in per_round.items():
            row = {"figure": figure, "call": call, "metric": metric, "contender": name,
                   "median": statistics.median(vals), "min": min(vals), "max": max(vals), "baseline": baseline}
            if base and len(base) == len(vals):
                r = [v / b for v, b in zip(vals, base) if b]
                row["ratio"], row["ratio_min"], row["ratio_max"] = spread(r)
            self.summary.append(row)

    def rotated(self, rnd: int, people: list[Contender]) -> list[Contender]:
        k = rnd % len(people)
        order = people[k:] + people[:k]
        return order if rnd % 2 == 0 else order[::-1]

    # Latency, throughput, CPU per call and RSS of sequential calls on one client.
    def calls(self) -> None:
        n, warm = self.args.calls, max(5, self.args.calls // 10)
        for call in CALLS:
            log(f"== {call}: {self.args.rounds} rounds x {n} sequential calls per contender")
            per = {k: {} for k in ("p50", "p99", "throughput", "cpu_us", "rss_kib")}
            for rnd in range(self.args.rounds):
                for c in self.rotated(rnd, self.people):
                    r = c.run(dict(self.req, call=call, n=n, warmup=warm))
                    if r is None:
                        continue
                    lat = r["lat_ns"]
                    self.latencies.setdefault((c.name, call), []).extend(lat)
                    vals = {"p50": pct(lat, 50) / 1e3, "p99": pct(lat, 99) / 1e3, "throughput": n / r["wall_s"],
                            "cpu_us": r["cpu_s"] / n * 1e6, "rss_kib": r["rss_kib"]}
                    for k, v in vals.items():
                        per[k].setdefault(c.name, []).append(v)
                        self.record("calls", c.name, call, rnd, k, v)
            for k, vals in per.items():
                self.summarize("calls", call, k, "grpc_stub", vals)
            self.print_table(call, ["p50", "p99", "throughput", "cpu_us", "rss_kib"])

    def parse(self) -> None:
        n = self.args.parses
        people = [c for c in self.people if c.name != "grpc_stub"]
        for call in PARSES:
            log(f"== {call}: {self.args.rounds} rounds x {n} parses per contender")
            per: dict[str, dict[str, list[float]]] = {"ns_per_parse": {}, "per_core_per_s": {}}
            for rnd in range(self.args.rounds):
                for c in self.rotated(rnd, people):
                    r = c.run(dict(self.req, call=call, n=n, warmup=n // 10))
                    if r is None:
                        continue
                    vals = {"ns_per_parse": r["wall_s"] / n * 1e9, "per_core_per_s": n / max(r["cpu_s"], 1e-9)}
                    for k, v in vals.items():
                        per[k].setdefault(c.name, []).append(v)
                        self.record("parse", c.name, call, rnd, k, v)
            for k, vals in per.items():
                self.summarize("parse", call, k, "c_abi", vals)
            self.print_table(call, ["ns_per_parse", "per_core_per_s"])

    def scaling(self) -> None:
        people = [c for c in self.people if c.name in ("grpc_stub", "c_abi", "cpp", "python")]
        threads = [1, 2, 4, 8, 16]
        log(f"== scaling: refresh on one shared client, threads {threads}, {self.args.rounds} rounds")
        for t in threads:
            per: dict[str, list[float]] = {}
            for rnd in range(self.args.rounds):
                for c in self.rotated(rnd, people):
                    r = c.run(dict(self.req, call="refresh", n=self.args.scale_calls, threads=t, warmup=5))
                    if r is None:
                        continue
                    v = self.args.scale_calls / r["wall_s"]
                    per.setdefault(c.name, []).append(v)
                    self.record("scaling", c.name, f"refresh_t{t}", rnd, "throughput", v)
            self.summarize("scaling", f"refresh_t{t}", "throughput", "grpc_stub", per)
        self.print_table_scaling(threads)

    def import_time(self, venv_python: str) -> None:
        log(f"== import time: {self.args.rounds} rounds x 5 fresh interpreters each")
        env = dict(os.environ, PYTHONPATH=str(self.build / "bindings/python/pkg"))
        stmts = {"python_bare": "pass", "python": "import momento_auth", "python_sdk": "import momento"}
        per: dict[str, list[float]] = {}
        for rnd in range(self.args.rounds):
            for name, stmt in (list(stmts.items()) if rnd % 2 == 0 else list(stmts.items())[::-1]):
                times = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    subprocess.run([venv_python, "-c", stmt], env=env, check=True)
                    times.append(time.perf_counter() - t0)
                per.setdefault(name, []).append(statistics.median(times) * 1e3)
        base = per["python_bare"]
        for name in ("python", "python_sdk"):
            per[name + "_import_ms"] = [v - b for v, b in zip(per[name], base)]
        for name in ("python", "python_sdk"):
            for rnd, v in enumerate(per[name + "_import_ms"]):
                self.record("import", name, "import", rnd, "import_ms", v)
        self.summarize("import", "import", "import_ms", "python",
                       {"python": per["python_import_ms"], "python_sdk": per["python_sdk_import_ms"]})
        log(f"   import momento_auth: {statistics.median(per['python_import_ms']):.1f} ms "
            f"(over a bare interpreter start); import momento: {statistics.median(per['python_sdk_import_ms']):.1f} ms")

    def wheel(self) -> None:
        wheels = sorted(self.build.glob("python-wheel/wheelhouse/*.whl"))
        if not wheels:
            log("== wheel size: no wheel in build/dev/python-wheel/wheelhouse (run `ctest --preset dev -R python.wheel`)")
            return
        size = wheels[-1].stat().st_size
        self.record("wheel", "python", "wheel", 0, "wheel_bytes", size)
        self.summary.append({"figure": "wheel", "call": wheels[-1].name, "metric": "wheel_bytes",
                             "contender": "python", "median": size, "min": size, "max": size, "baseline": ""})
        log(f"== wheel size: {wheels[-1].name} {size / 2**20:.2f} MiB")

    def server(self) -> None:
        exe = self.build / "bench/server/momento_bench_server"
        inflight = [1, 4, 16, 64]
        log(f"== server throughput vs calls in flight {inflight} (bench/server), refresh and durable refresh")
        for durable in (False, True):
            for k in inflight:
                cmd = [str(exe), "--workloads", "refresh", "--inflight", str(k),
                       "--client-threads", str(min(k, 2)), "--rounds", str(self.args.rounds),
                       "--seconds", str(self.args.server_seconds), "--warmup", "0.5"]
                if durable:
                    cmd += ["--server-arg", "--sync-full"]
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                if p.returncode != 0:
                    log(f"   bench/server failed: {p.stderr.strip()[-500:]}")
                    return
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
                    f"(bare echo server {statistics.median(echo):8.0f})")

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
                ratio = f"x{s['ratio']:.3f} [{s['ratio_min']:.3f}-{s['ratio_max']:.3f}]" if "ratio" in s else ""
                cells.append(f"{s['median']:>10.4g} {ratio:>17s}")
            log(f"   {name:14s} " + " ".join(cells))

    def print_table_scaling(self, threads: list[int]) -> None:
        for s in self.summary:
            if s["figure"] == "scaling":
                ratio = f"x{s['ratio']:.3f} [{s['ratio_min']:.3f}-{s['ratio_max']:.3f}]" if "ratio" in s else ""
                log(f"   {s['call']:12s} {s['contender']:10s} {s['median']:9.0f} calls/s {ratio}")

    # ---- output ----
    def write_csv(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / "results.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["figure", "contender", "call", "round", "metric", "value"])
            w.writeheader()
            w.writerows(self.rows)
        keys = ["figure", "call", "metric", "contender", "median", "min", "max", "baseline", "ratio", "ratio_min",
                "ratio_max"]
        with open(self.out / "summary.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(self.summary)
        with open(self.out / "latency.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["contender", "call", "latency_us"])
            for (name, call), lat in self.latencies.items():
                w.writerows([name, call, round(v / 1e3, 2)] for v in lat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", default=str(ROOT / "build/dev"))
    ap.add_argument("--quick", action="store_true", help="fewer calls per round (about 4 minutes)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="calls,parse,scaling,import,wheel,server")
    ap.add_argument("--out", default=str(ROOT / "docs/benchmarks"))
    args = ap.parse_args()
    if args.rounds < 5:
        ap.error("at least 5 rounds: the spread needs them")
    args.calls = 100 if args.quick else 400
    args.parses = 5000 if args.quick else 20000
    args.scale_calls = 100 if args.quick else 400
    args.server_seconds = 0.5 if args.quick else 2
    build = Path(args.build_dir).resolve()
    venv_python = sys.executable
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="momento-bench-") as tmp:
        server, address, boot = start_server(build / "server/momento-auth-server", Path(tmp))
        try:
            req = make_request(build, address, boot)
            people, notes = contenders(build, venv_python)
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
        b.import_time(venv_python)
    if "wheel" in only:
        b.wheel()
    if "server" in only:
        b.server()
    b.write_csv()
    import report  # bench/report.py: plots and docs/benchmarks.md

    meta = {"started": started.strftime("%Y-%m-%d %H:%M UTC"), "minutes": (time.monotonic() - t0) / 60,
            "command": "bench/run " + " ".join(sys.argv[1:]).replace(f"--build-dir {build}", "").strip(),
            "machine": machine(), "notes": notes, "rounds": args.rounds, "quick": args.quick,
            "calls": args.calls, "parses": args.parses, "scale_calls": args.scale_calls,
            "versions": {c.name: c.version for c in people if c.version},
            "skipped": {c.name: c.skipped for c in people if c.skipped}}
    (Path(args.out) / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    report.write(Path(args.out), ROOT / "docs/benchmarks.md", b, meta, people)
    log(f"== done in {meta['minutes']:.1f} min; results in {args.out} and docs/benchmarks.md")


def machine() -> str:
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
            f"load average at the end {load[0]:.1f} (shared machine)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
