"""Fixtures for the momento_auth suite: a real momento-auth-server on loopback, plus two tiny
loopback peers for failure answers (a gRPC server answering with a chosen status, and a TCP
listener that never answers).

The suite imports only the installed momento_auth package, so the same files run against the
project build (PYTHONPATH set by ctest) and against an installed wheel (no project paths).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

import momento_auth as ma

try:  # in the project tree: keep the server's log for the final secret scan
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
    from scan_capture import keep_for_scan
except ImportError:  # run against an installed wheel elsewhere
    def keep_for_scan(data_dir, logs=()):
        pass


def server_bin() -> str:
    path = os.environ.get("MOMENTO_SERVER_BIN")
    if not path:
        pytest.fail("MOMENTO_SERVER_BIN must name the momento-auth-server binary")
    if not os.access(path, os.X_OK):
        pytest.fail(f"MOMENTO_SERVER_BIN={path} is not an executable")
    return path


@dataclass
class Server:
    address: str
    data_dir: Path
    bootstrap_file: Path
    bootstrap: dict
    proc: subprocess.Popen

    @property
    def super_key(self) -> str:
        return self.bootstrap["authToken"]

    def provider(self, key: Optional[str] = None) -> ma.CredentialProvider:
        return ma.CredentialProvider.from_string(
            key or self.super_key, endpoint=self.address, secure=False
        )

    def client(self, key: Optional[str] = None, **kw) -> ma.AuthClient:
        return ma.AuthClient(self.provider(key), **kw)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()


def start_server(base: Path, extra: Optional[List[str]] = None) -> Server:
    data = base / "data"
    data.mkdir(parents=True, exist_ok=True)
    boot = base / "bootstrap.json"
    with open(base / "server.log", "a") as log:
        proc = subprocess.Popen(
            [server_bin(), "--listen", "127.0.0.1:0", "--data-dir", str(data), "--bootstrap", str(boot)]
            + (extra or []),
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    line: List[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(30)
    if not line:
        proc.kill()
        pytest.fail("momento-auth-server printed nothing within 30 s")
    m = re.match(r"^listening on (\S+)\s*$", line[0])
    if not m:
        proc.kill()
        pytest.fail(f"unexpected first line from momento-auth-server: {line[0]!r}")
    # Keep draining stdout so the server never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    bootstrap = None
    for _ in range(100):
        try:
            bootstrap = json.loads(boot.read_text())
            break
        except (OSError, ValueError):
            time.sleep(0.1)
    if bootstrap is None:
        proc.kill()
        pytest.fail("momento-auth-server wrote no bootstrap file")
    return Server(m.group(1), data, boot, bootstrap, proc)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    base = Path(tempfile.mkdtemp(prefix="momento-auth-py-"))
    # Enough handler threads for the 8-thread test (the server's default quota is 8).
    s = start_server(base, ["--threads", "32"])
    try:
        yield s
    finally:
        s.stop()
        keep_for_scan(str(base), [str(base / "server.log")])
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def admin(server: Server) -> Iterator[ma.AuthClient]:
    with server.client() as c:
        yield c


# ---- a TCP peer that accepts and never answers: calls to it last until their deadline --------


class Blackhole:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._conns: List[socket.socket] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._conns.append(conn)
            self.connected.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for c in self._conns:
            c.close()
        self.sock.close()


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    b = Blackhole()
    try:
        yield b
    finally:
        b.close()


def unused_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def envelope(api_key: str, endpoint: str = "localhost") -> str:
    """A well-formed v1 envelope around any raw key (for keys the server does not know)."""
    import base64

    body = json.dumps({"endpoint": endpoint, "api_key": api_key}, separators=(",", ":"))
    return base64.b64encode(body.encode()).decode()


PYTHON = sys.executable
