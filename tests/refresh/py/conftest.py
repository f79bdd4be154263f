"""Fixtures for the refresh suites: the test driver, a moto Secrets Manager, the auth server."""
import inspect
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from scan_capture import keep_for_scan  # noqa: E402

TOOL = os.environ.get("MOMENTO_REFRESH_TOOL", "")
SERVER = os.environ.get("MOMENTO_SERVER_BIN", "")


def _need(path, what):
    if not path or not os.path.exists(path):
        pytest.skip(f"{what} not built ({path or 'path not set'})")


@pytest.fixture
def tool():
    _need(TOOL, "momento_refresh_tool")
    return Tool(TOOL)


class Tool:
    """Runs the refresh test driver; every call is bounded."""

    def __init__(self, path, env=None):
        self.path = path
        self.env = dict(os.environ, **(env or {}))

    def with_env(self, **env):
        return Tool(self.path, {k: v for k, v in dict(self.env, **env).items()})

    def run(self, *args, stdin=None, timeout=60, check=True):
        p = subprocess.run([self.path, *args], input=stdin, capture_output=True, text=True,
                           timeout=timeout, env=self.env)
        if check and p.returncode != 0:
            raise AssertionError(f"{args[0]} failed ({p.returncode}): {p.stdout} {p.stderr}")
        return p

    def json(self, *args, **kw):
        out = self.run(*args, **kw).stdout.strip().splitlines()
        return json.loads(out[-1])

    def spawn(self, *args):
        return Lines(subprocess.Popen([self.path, *args], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=self.env))


class Lines:
    """A child process whose stdout is read line by line with deadlines."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self._buf = ""

    def _pump(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 65536).decode()
        if not chunk:
            return None  # EOF
        self._buf += chunk
        while "\n" in self._buf:
            line, self._buf = self._buf.split("\n", 1)
            if line.strip():
                self.lines.append(json.loads(line))
        return True

    def wait_for(self, pred, timeout):
        """Reads until pred(lines) is true; returns the lines. Bounded by timeout."""
        deadline = time.monotonic() + timeout
        while not pred(self.lines):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; lines so far: {self.lines}")
            if self._pump(min(left, 0.5)) is None:
                if not pred(self.lines):
                    raise AssertionError(f"process ended early ({self.proc.wait()}): {self.lines} "
                                         f"{self.proc.stderr.read()}")
        return self.lines

    def drain(self, timeout=30):
        """Waits for the process to end and reads everything it printed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pump(0.5) is None:
                break
        try:
            return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        finally:
            self.kill()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def tmp_dir():
    d = tempfile.mkdtemp(prefix="momento-refresh-")
    yield d
    keep_for_scan(d, [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs if f.endswith(".log")])
    shutil.rmtree(d, ignore_errors=True)


class Server:
    """momento-auth-server on a free loopback port, with a bootstrap key and a JSON call log."""

    def __init__(self, data_dir, extra=()):
        self.data_dir = data_dir
        self.bootstrap = os.path.join(data_dir, "bootstrap.json")
        self.log_path = os.path.join(data_dir, "calls.log")
        self.extra = list(extra)
        self.address = None
        self.proc = None
        self._log = None

    def start(self, listen="127.0.0.1:0"):
        self._log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [SERVER, "--listen", listen, "--data-dir", self.data_dir, "--bootstrap", self.bootstrap,
             "--log-format", "json", *self.extra],
            stdout=subprocess.PIPE, stderr=self._log, text=True)
        r, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if r else ""
        if not line.startswith("listening on "):
            self.stop()
            raise AssertionError(f"server did not start: {line!r}")
        self.address = line.split()[-1]
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log:
            self._log.close()
            self._log = None

    def restart_same_port(self):
        self.stop()
        self.start(self.address)

    def calls(self, method_suffix):
        """The logged calls whose method ends with method_suffix."""
        out = []
        with open(self.log_path) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and str(rec.get("method", "")).endswith(method_suffix):
                    out.append(rec)
        return out

    def keys(self):
        p = subprocess.run([SERVER, "admin", "--data-dir", self.data_dir, "list-keys", "--json"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)


@pytest.fixture
def server(tmp_dir):
    _need(SERVER, "momento-auth-server")
    d = os.path.join(tmp_dir, "server")
    os.mkdir(d, 0o700)
    s = Server(d).start()
    yield s
    s.stop()


@pytest.fixture
def moto():
    """A moto server on a free loopback port, in this process; stopped after the test."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("moto[server] is not installed in the test venv")
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    yield f"http://{host}:{port}"
    srv.stop()


class SecretsManagerCalls:
    """Makes moto's Secrets Manager apply each API call atomically, as Secrets Manager does, so
    its server can run threaded: moto checks a ClientRequestToken and then inserts the version
    without a lock, which lets two concurrent PutSecretValue calls with one token both "win".
    Each backend call runs under one lock; HTTP parsing, signing checks and answers stay
    concurrent (a thread per request). `on_put`, when set, sees every PutSecretValue first:
    on_put(secret_string, apply) calls apply() to write it, or returns without (a write lost in
    flight); the test's hooks run inside the lock, between two calls."""

    lock = threading.RLock()
    on_put = None
    _installed = False

    @classmethod
    def install(cls):
        from moto.secretsmanager.models import SecretsManagerBackend
        if cls._installed:
            return
        for name, fn in list(vars(SecretsManagerBackend).items()):
            if name.startswith("_") or not inspect.isfunction(fn):
                continue

            def locked(self, *a, _fn=fn, _name=name, **kw):
                with cls.lock:
                    if _name == "put_secret_value" and cls.on_put is not None:
                        out = []
                        cls.on_put(kw.get("secret_string"), lambda: out.append(_fn(self, *a, **kw)))
                        if not out:
                            raise ConnectionAbortedError("write dropped by the test")
                        return out[0]
                    return _fn(self, *a, **kw)

            setattr(SecretsManagerBackend, name, locked)
        cls._installed = True


@pytest.fixture
def threaded_moto(tmp_dir):
    """moto's threaded server (a thread per request), its Secrets Manager calls atomic; yields
    (url, aws environment, SecretsManagerCalls)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("moto[server] is not installed in the test venv")
    SecretsManagerCalls.install()
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield url, aws_env_for(url, tmp_dir), SecretsManagerCalls
    finally:
        SecretsManagerCalls.on_put = None
        srv.stop()


def aws_env_for(url, tmp_dir):
    """Environment for talking to a moto server at url, with no real AWS configuration in reach."""
    return {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": url,
        "AWS_ACCESS_KEY_ID": "AKIDMOTOTEST",
        "AWS_SECRET_ACCESS_KEY": "motosecret",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.path.join(tmp_dir, "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp_dir, "no-credentials"),
        "HOME": tmp_dir,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture
def aws_env(moto, tmp_dir):
    return aws_env_for(moto, tmp_dir)


@pytest.fixture
def boto_sm(aws_env):
    import boto3
    return boto3.client("secretsmanager", endpoint_url=aws_env["AWS_ENDPOINT_URL_SECRETS_MANAGER"],
                        region_name="us-east-1", aws_access_key_id="AKIDMOTOTEST",
                        aws_secret_access_key="motosecret")
