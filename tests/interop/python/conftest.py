"""Shared fixtures for the interop tests: a momento-auth-server per test module on a free loopback
port, and Momento Python SDK clients that talk plaintext to it."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from momento import AuthClient, CacheClient, Configurations, CredentialProvider
from momento.config.auth_configurations import AuthConfigurations

START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 5


@dataclasses.dataclass
class Server:
    addr: str
    host: str
    port: int
    dir: Path
    bootstrap_file: Path
    bootstrap: dict
    proc: subprocess.Popen

    @property
    def super_key(self) -> str:
        return self.bootstrap["authToken"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        shutil.rmtree(self.dir, ignore_errors=True)


def _env_path(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set (ctest sets it)")
    return value


def start_server(extra_args: list[str] | None = None) -> Server:
    bin_path = _env_path("MOMENTO_SERVER_BIN")
    d = Path(tempfile.mkdtemp(prefix="interop-py-"))
    data = d / "data"
    data.mkdir()
    bootstrap = d / "bootstrap.json"
    proc = subprocess.Popen(
        [bin_path, "--listen", "127.0.0.1:0", "--data-dir", str(data), "--bootstrap", str(bootstrap)]
        + (extra_args or []),
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    if not first:
        proc.kill()
        pytest.fail("server did not report its address in time")
    # Keep draining stdout so the server never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    m = re.match(r"^listening on (\S+)\s*$", first[0])
    if not m:
        proc.kill()
        pytest.fail(f"unexpected first stdout line {first[0]!r} (exit code {proc.poll()})")
    addr = m.group(1)
    host, _, port = addr.rpartition(":")
    boot = None
    for _ in range(100):
        try:
            boot = json.loads(bootstrap.read_text())
            break
        except (OSError, ValueError):
            time.sleep(0.1)
    if boot is None:
        proc.kill()
        pytest.fail("server did not write a readable bootstrap file")
    return Server(addr, host, int(port), d, bootstrap, boot, proc)


@pytest.fixture(scope="module")
def server():
    s = start_server()
    yield s
    s.stop()


def provider(credential: str, server: Server) -> CredentialProvider:
    """Parses a v1 credential with the SDK, then points every endpoint at the server's plaintext
    port. The Python SDK has no secure/insecure switch: it uses TLS exactly when the port is 443."""
    p = CredentialProvider.from_string(credential)
    return dataclasses.replace(
        p,
        control_endpoint=server.host,
        cache_endpoint=server.host,
        token_endpoint=server.host,
        port=server.port,
    )


def auth_client(credential: str, server: Server) -> AuthClient:
    return AuthClient(AuthConfigurations.Laptop.latest(), provider(credential, server))


def cache_client(credential: str, server: Server) -> CacheClient:
    return CacheClient(Configurations.Laptop.latest(), provider(credential, server), timedelta(seconds=60))


def decode_envelope(envelope: str) -> dict:
    return json.loads(base64.b64decode(envelope))


def encode_envelope(endpoint: str, api_key: str) -> str:
    return base64.b64encode(json.dumps({"endpoint": endpoint, "api_key": api_key}).encode()).decode()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
