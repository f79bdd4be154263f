"""The one way bench/ starts a local momento-auth-server (bench/run.py, bench/python/bench.py)."""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path


def start_server(server_bin, base: Path, grace_seconds: int = 86400) -> tuple[subprocess.Popen, str, dict]:
    """Starts the server on a free loopback port with its data under base; returns the process,
    its address and the bootstrap file (the super-user key). Refresh tokens replayed within
    grace_seconds get the same answer, so a benchmark can repeat one refresh as the same full
    round trip with the same server work."""
    boot = base / "bootstrap.json"
    (base / "data").mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([str(server_bin), "--listen", "127.0.0.1:0", "--data-dir", str(base / "data"),
                             "--bootstrap", str(boot), "--refresh-grace-seconds", str(grace_seconds),
                             "--log-format", "off"],
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
