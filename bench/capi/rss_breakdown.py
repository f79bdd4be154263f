"""Where the C ABI driver's resident memory goes, against the bare grpc++ stub's.

    build/venv/bin/python bench/capi/rss_breakdown.py [--build-dir build/dev] [--starts 5]

Starts bench/run's two drivers (bench/clients: momento_bench_grpc_stub, momento_bench_client
c_abi) against one local server, `--starts` fresh pairs one after the other; each makes its
client, warms up and serves ten batches of 20 refreshes, the point where bench/run samples VmRSS.
Then it reads each process's /proc/PID/smaps and prints VmRSS per pair, their difference (median
and range) and, per mapped file, the median difference of Rss, Private_Dirty, Shared_Clean and
Anonymous (KiB). Needs the targets bench/run builds (momento_auth, momento-auth-server,
momento_auth_python, momento_bench_client, momento_bench_grpc_stub)."""
import argparse
import collections
import re
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import run  # noqa: E402  bench/run.py: the drivers, the request, the server
from local_server import start_server  # noqa: E402

KEYS = ("Rss", "Private_Dirty", "Shared_Clean", "Anonymous")


def smaps(pid: int) -> dict:
    per = collections.defaultdict(collections.Counter)
    name = None
    for line in open(f"/proc/{pid}/smaps"):
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            parts = line.split(None, 5)
            name = parts[5].strip().rsplit("/", 1)[-1] if len(parts) > 5 else "[anon]"
            if name.startswith("libabsl_"):
                name = "libabsl_*"
        else:
            key, _, value = line.partition(":")
            if key in KEYS:
                per[name][key] += int(value.split()[0])
    return per


def status(pid: int, field: str) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=str(run.ROOT / "build/dev"))
    ap.add_argument("--starts", type=int, default=5)
    args = ap.parse_args()
    build = Path(args.build_dir).resolve()
    got = {"grpc_stub": [], "c_abi": []}
    with tempfile.TemporaryDirectory(prefix="momento-rss-") as tmp:
        server, address, boot = start_server(build / "server/momento-auth-server", Path(tmp))
        try:
            req = dict(run.make_request(build, address, boot), call="refresh", warmup=50)
            people = run.contenders(build, sys.executable, set(got))[0]
            for _ in range(args.starts):
                sessions = [c.start(req) for c in people]
                try:
                    for _ in range(10):
                        for s in sessions:
                            s.batch(20)
                    for s in sessions:
                        pid = s.p.pid
                        got[s.who.name].append({"vmrss": status(pid, "VmRSS"), "threads": status(pid, "Threads"),
                                                "smaps": smaps(pid)})
                finally:
                    for s in sessions:
                        s.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    stub, capi = got["grpc_stub"], got["c_abi"]
    diffs = [b["vmrss"] - a["vmrss"] for a, b in zip(stub, capi)]
    print(f"VmRSS KiB, grpc_stub: {[a['vmrss'] for a in stub]}  c_abi: {[b['vmrss'] for b in capi]}")
    print(f"c_abi - grpc_stub: median {statistics.median(diffs):,.0f} KiB (range {min(diffs):,} to {max(diffs):,}); "
          f"threads {[a['threads'] for a in stub]} / {[b['threads'] for b in capi]}")
    names = set().union(*(r["smaps"] for r in stub + capi))

    def med(rows: list, name: str, key: str) -> float:
        return statistics.median(r["smaps"].get(name, {}).get(key, 0) for r in rows)

    table = sorted(([med(capi, n, k) - med(stub, n, k) for k in KEYS] + [n] for n in names), key=lambda r: -r[0])
    print(f"{'mapping (median c_abi - grpc_stub, KiB)':42}" + "".join(f"{k:>15}" for k in KEYS))
    total = [0.0] * len(KEYS)
    for row in table:
        if any(row[:-1]):
            print(f"{row[-1][:42]:42}" + "".join(f"{v:>15,.0f}" for v in row[:-1]))
            total = [t + v for t, v in zip(total, row[:-1])]
    print(f"{'sum of the medians':42}" + "".join(f"{v:>15,.0f}" for v in total))


if __name__ == "__main__":
    main()
