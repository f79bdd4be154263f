"""momento-auth keep-fresh as operators run it: Prometheus metrics on a loopback port and as a
node_exporter textfile, /healthz, JSON logs without secrets, SIGTERM; scraped while the auth
server is stopped and then restarted (the outage scenario)."""
import json
import os
import re
import select
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

CLI = os.environ.get("MOMENTO_CLI_BIN", "")


@pytest.fixture
def cli():
    if not CLI or not os.path.exists(CLI):
        pytest.skip("momento-auth not built")
    return CLI


class Daemon:
    """keep-fresh in the background; stdout and stderr read line by line with deadlines."""

    def __init__(self, args, env=None):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.out, self.err = [], []
        self._bufs = {self.proc.stdout.fileno(): "", self.proc.stderr.fileno(): ""}

    def pump(self, timeout):
        fds = [f for f in self._bufs if f is not None]
        r, _, _ = select.select(fds, [], [], timeout)
        for fd in r:
            chunk = os.read(fd, 65536).decode()
            if not chunk:
                continue
            self._bufs[fd] += chunk
            while "\n" in self._bufs[fd]:
                line, self._bufs[fd] = self._bufs[fd].split("\n", 1)
                (self.out if fd == self.proc.stdout.fileno() else self.err).append(line)

    def wait_for(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; out={self.out} err={self.err}")
            if self.proc.poll() is not None:
                self.pump(0.2)
                if not pred():
                    raise AssertionError(f"keep-fresh exited ({self.proc.returncode}) before {what}: "
                                         f"{self.out} {self.err}")
            self.pump(0.2)

    def events(self, name=None):
        ev = [json.loads(line) for line in self.out if line.strip()]
        return [e for e in ev if name is None or e.get("event") == name]

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.pump(0.2)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError("keep-fresh did not stop within 10 s of SIGTERM")
        for _ in range(20):
            self.pump(0.05)
        return self.proc.returncode


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(text, name, **labels):
    """The value of one sample in Prometheus text (None when absent)."""
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(\{[^}]*\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


def assert_no_secret(text, token_file):
    doc = json.load(open(token_file))
    for secret in (doc["authToken"], doc["refreshToken"]):
        assert secret not in text and secret[:12] not in text


def test_metrics_health_and_json_logs_through_an_outage(tool, server, tmp_dir, cli):
    path = os.path.join(tmp_dir, "token.json")
    prom = os.path.join(tmp_dir, "textfile", "momento_auth.prom")
    os.mkdir(os.path.dirname(prom))
    # 30 s key refreshed at a quarter of its life (no jitter): due ~7.5 s after minting.
    tool.json("mint", "--store", "file:" + path, "--server", server.address, "--bootstrap", server.bootstrap,
              "--expires-in", "30")
    first = json.load(open(path))
    server.stop()
    d = Daemon([cli, "--endpoint", server.address, "--insecure", "--timeout", "2s", "keep-fresh",
                "--store", "file:" + path, "--refresh-fraction", "0.25", "--json",
                "--metrics-listen", "127.0.0.1:0", "--metrics-file", prom])
    seen = []  # every textfile and scrape, for the secret check at the end
    try:
        d.wait_for(lambda: any("metrics on http://" in e for e in d.err), 20, "the metrics address")
        note = json.loads(next(e for e in d.err if "metrics on http://" in e))
        base = re.search(r"http://(\S+)/metrics", note["msg"]).group(1)
        assert re.match(r"^127\.0\.0\.1:\d+$", base)

        d.wait_for(lambda: d.events("adopted"), 20, "the adopted key")
        status, text = get(f"http://{base}/metrics")
        seen.append(text)
        assert status == 200
        assert 20 < metric(text, "momento_auth_key_expiry_seconds") <= 30
        assert metric(text, "momento_auth_refreshes_total", outcome="adopted") == 1
        assert metric(text, "momento_auth_refresh_consecutive_failures") == 0
        assert metric(text, "momento_auth_last_refresh_timestamp_seconds") == 0
        assert get(f"http://{base}/healthz")[0] == 200

        # The refresh is due while the server is down: failures, counted, the key still healthy
        # because the next attempt comes before it expires.
        d.wait_for(lambda: len(d.events("failed")) >= 2, 30, "two failed attempts")
        status, text = get(f"http://{base}/metrics")
        seen.append(text)
        assert metric(text, "momento_auth_refresh_consecutive_failures") >= 2
        assert metric(text, "momento_auth_refreshes_total", outcome="failed") >= 2
        code, body = get(f"http://{base}/healthz")
        assert code == 200 and "failures" in body, body
        # The textfile is rewritten just after each event is logged.
        d.wait_for(lambda: metric(open(prom).read(), "momento_auth_refresh_consecutive_failures") >= 2, 10,
                   "the textfile after the failures")
        with open(prom) as f:
            filetext = f.read()
        seen.append(filetext)
        assert filetext.endswith("\n") and "momento_auth_healthy" in filetext

        server.restart_same_port()
        d.wait_for(lambda: d.events("refreshed"), 30, "the refresh after the server returned")
        status, text = get(f"http://{base}/metrics")
        seen.append(text)
        assert metric(text, "momento_auth_refresh_consecutive_failures") == 0
        assert metric(text, "momento_auth_refreshes_total", outcome="refreshed") == 1
        assert abs(metric(text, "momento_auth_last_refresh_timestamp_seconds") - time.time()) < 30
        assert metric(text, "momento_auth_key_expiry_seconds") > 20
        assert metric(text, "momento_auth_healthy") == 1
        assert get(f"http://{base}/healthz")[0] == 200
        d.wait_for(lambda: metric(open(prom).read(), "momento_auth_refreshes_total", outcome="refreshed") == 1,
                   10, "the textfile after the refresh")
        seen.append(open(prom).read())
    finally:
        rc = d.stop()
    assert rc == 0
    assert d.events()[-1]["event"] == "stopped" and d.events()[-1]["signal"] == "SIGTERM"
    # Only the finished textfile is left: its temporary files never linger.
    assert os.listdir(os.path.dirname(prom)) == ["momento_auth.prom"]

    # JSON logs: every line of both streams is one object with a level; no secret anywhere.
    for line in d.out + d.err:
        obj = json.loads(line)
        assert obj["level"] in ("info", "warning", "error") and "time" in obj
    everything = "\n".join(d.out + d.err + seen)
    assert_no_secret(everything, path)
    for secret in (first["authToken"], first["refreshToken"]):
        assert secret not in everything and secret[:12] not in everything
    assert len([c for c in server.calls("/RefreshApiToken") if c["status"] == "OK"]) == 1


def test_health_turns_unhealthy_when_the_key_expires_before_the_next_retry(tool, server, tmp_dir, cli):
    path = os.path.join(tmp_dir, "token.json")
    # 12 s key due at 3 s; with the server gone the attempts back off 1, 2, 4, 8 s, so the key
    # expires before the attempt after the one at ~10 s.
    tool.json("mint", "--store", "file:" + path, "--server", server.address, "--bootstrap", server.bootstrap,
              "--expires-in", "12")
    server.stop()
    d = Daemon([cli, "--endpoint", server.address, "--insecure", "--timeout", "1s", "keep-fresh",
                "--store", "file:" + path, "--refresh-fraction", "0.25", "--json",
                "--metrics-listen", "127.0.0.1:0"])
    try:
        d.wait_for(lambda: any("metrics on http://" in e for e in d.err), 20, "the metrics address")
        base = re.search(r"http://(\S+)/metrics", next(e for e in d.err if "metrics on" in e)).group(1)
        d.wait_for(lambda: d.events("adopted"), 20, "the adopted key")
        assert get(f"http://{base}/healthz")[0] == 200
        deadline = time.monotonic() + 30
        while True:
            code, body = get(f"http://{base}/healthz")
            if code == 503:
                break
            assert time.monotonic() < deadline, "healthz never turned unhealthy"
            d.pump(0.2)
        assert body.startswith("unhealthy: ") and ("before the next attempt" in body or "expired" in body), body
        failed = d.events("failed")
        assert failed and failed[-1]["next_attempt_utc"]
        assert metric(get(f"http://{base}/metrics")[1], "momento_auth_healthy") == 0
    finally:
        assert d.stop() == 0


def test_metrics_options_are_checked(tool, server, tmp_dir, cli):
    path = os.path.join(tmp_dir, "token.json")
    tool.json("mint", "--store", "file:" + path, "--server", server.address, "--bootstrap", server.bootstrap,
              "--expires-in", "3600")
    base = [cli, "--endpoint", server.address, "--insecure", "keep-fresh", "--store", "file:" + path]
    remote = subprocess.run(base + ["--metrics-listen", "0.0.0.0:0"], capture_output=True, text=True, timeout=30)
    assert remote.returncode == 3 and "loopback" in remote.stderr
    once = subprocess.run(base + ["--once", "--metrics-listen", "127.0.0.1:0"], capture_output=True, text=True,
                          timeout=30)
    assert once.returncode == 3 and "--metrics-file" in once.stderr
    fmt = subprocess.run(base + ["--log-format", "xml"], capture_output=True, text=True, timeout=30)
    assert fmt.returncode == 2
    both = subprocess.run(base + ["--once", "--json", "--log-format", "text"], capture_output=True, text=True,
                          timeout=30)
    assert both.returncode == 3 and "contradict" in both.stderr, both.stderr
    # --once writes the textfile too (for the systemd timer), and logs JSON (through --log-format
    # json, the alias of --json kept for older units).
    prom = os.path.join(tmp_dir, "once.prom")
    ok = subprocess.run(base + ["--once", "--metrics-file", prom, "--log-format", "json"], capture_output=True,
                        text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["event"] == "current" and json.loads(ok.stdout)["level"] == "info"
    text = open(prom).read()
    assert metric(text, "momento_auth_refreshes_total", outcome="adopted") == 1
    assert 3500 < metric(text, "momento_auth_key_expiry_seconds") <= 3600
    # A textfile that cannot be written is a warning; the key's state decides the exit code.
    bad = subprocess.run(base + ["--once", "--metrics-file", os.path.join(tmp_dir, "no-such-dir", "m.prom"),
                                 "--log-format", "json"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 0, bad.stderr
    warning = json.loads(bad.stderr.strip().splitlines()[-1])
    assert warning["level"] == "warning" and "--metrics-file" in warning["msg"]
