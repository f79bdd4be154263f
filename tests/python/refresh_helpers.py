"""Helpers for the store, refresher and watcher tests: minting keys into stores, a dedicated
server that can be stopped and restarted on the same port, bounded waits, and a moto server."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

import momento_auth as ma
from conftest import server_bin


def mint_into(admin: ma.AuthClient, store: ma.TokenStore, lifetime: ma.ExpiresIn) -> ma.ApiKeyResult:
    key = admin.generate_api_key(ma.AllDataReadWrite, lifetime)
    store.write(key)
    return key


def wait_until(pred: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Polls pred until it holds; fails the test after `timeout` seconds (bounded)."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


class Recorder:
    """A thread-safe list of what callbacks received, with the threads they ran on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: List[object] = []
        self.threads: set = set()

    def __call__(self, item: object) -> None:
        with self.lock:
            self.items.append(item)
            self.threads.add(threading.get_ident())

    def snapshot(self) -> List[object]:
        with self.lock:
            return list(self.items)

    def wait_for(self, pred: Callable[[List[object]], bool], timeout: float = 30.0) -> List[object]:
        wait_until(lambda: pred(self.snapshot()), timeout, "callback events")
        return self.snapshot()


def kinds(events: List[object]) -> List[ma.RefreshEventKind]:
    return [e.kind for e in events]  # type: ignore[attr-defined]


class OwnServer:
    """A momento-auth-server of the test's own, stoppable and restartable on the same port."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data = base / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.boot = base / "bootstrap.json"
        self.address: Optional[str] = None
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "OwnServer":
        listen = self.address or "127.0.0.1:0"
        for _ in range(50):  # the port may linger briefly after a stop
            self.proc = subprocess.Popen(
                [server_bin(), "--listen", listen, "--data-dir", str(self.data),
                 "--bootstrap", str(self.boot)],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                text=True)
            r, _, _ = select.select([self.proc.stdout], [], [], 30)
            line = self.proc.stdout.readline() if r else ""
            m = re.match(r"^listening on (\S+)\s*$", line)
            if m:
                self.address = m.group(1)
                threading.Thread(target=lambda p=self.proc: [None for _ in p.stdout],
                                 daemon=True).start()
                return self
            self.proc.kill()
            self.proc.wait(10)
            self.proc.stdout.close()
            time.sleep(0.2)
        pytest.fail(f"momento-auth-server did not start on {listen}")

    @property
    def bootstrap(self) -> Dict[str, str]:
        for _ in range(100):
            try:
                return json.loads(self.boot.read_text())
            except (OSError, ValueError):
                time.sleep(0.1)
        pytest.fail("no bootstrap file")

    def admin(self) -> ma.AuthClient:
        return ma.AuthClient(ma.CredentialProvider.from_string(
            self.bootstrap["authToken"], endpoint=self.address, secure=False))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def own_server(tmp_path: Path):
    s = OwnServer(tmp_path / "own-server").start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A moto Secrets Manager on loopback in this process, and an environment that reaches it
    and no real AWS configuration. Skipped where moto is not installed (the wheel's venv)."""
    server = pytest.importorskip("moto.server")
    srv = server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    url = f"http://{host}:{port}"
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
              "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDMOTOTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "motosecret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookups
    try:
        yield url
    finally:
        srv.stop()


def boto_client(url: str):
    boto3 = pytest.importorskip("boto3")
    return boto3.client("secretsmanager", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="AKIDMOTOTEST", aws_secret_access_key="motosecret")


def child_env() -> Dict[str, str]:
    return dict(os.environ)
