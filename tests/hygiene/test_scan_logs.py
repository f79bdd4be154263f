"""scan_logs.py, the suite's final secret scan, finds each kind of secret a real server mints when
one is planted in a log, and stays quiet on the things logs legitimately hold (key ids, redacted
keys, hashes, public-looking JWTs without a signature)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import momento_auth as ma

SCAN = Path(__file__).with_name("scan_logs.py")


@pytest.fixture(scope="module")
def minted(tmp_path_factory):
    """A key with its refresh token, its envelope and the signing key, minted by a real server,
    and a copy of that server's data directory (as the harnesses leave under known/)."""
    tmp = tmp_path_factory.mktemp("scan")
    data = tmp / "data"
    proc = subprocess.Popen(
        [os.environ["MOMENTO_SERVER_BIN"], "--listen", "127.0.0.1:0", "--data-dir", str(data),
         "--bootstrap", str(tmp / "boot.json"), "--log-format", "off"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line
        address = line.split()[-1]
        boot = json.loads((tmp / "boot.json").read_text())["authToken"]
        admin = ma.AuthClient(ma.CredentialProvider.from_string(boot, endpoint=address, secure=False))
        key = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
        result = {"envelope": key.api_key, "refresh": key.refresh_token}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    inner = json.loads(base64.b64decode(result["envelope"]))["api_key"]
    signing = json.loads((data / "signing-keys.json").read_text())["keys"][0]["secret"]
    known = tmp / "known" / "server-1"
    known.mkdir(parents=True)
    for f in ("state.db", "state.db-wal", "signing-keys.json"):
        if (data / f).exists():
            shutil.copy(data / f, known / f)
    return dict(result, inner=inner, signing=signing, tmp=tmp)


def scan(minted, name: str, text: str):
    logs = minted["tmp"] / ("logs-" + name)
    logs.mkdir()
    (logs / "lib-test-1.log").write_text("0 call GenerateApiToken ok\n" + text + "\n1 done\n")
    p = subprocess.run([sys.executable, str(SCAN), "--known", str(minted["tmp"] / "known"), str(logs)],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout


def test_a_clean_log_passes(minted):
    inner = minted["inner"]
    header, payload, _ = inner.split(".")
    harmless = "\n".join([
        "key id 0a1b2c3d4e5f, fingerprint " + hashlib.sha256(inner.encode()).hexdigest(),
        "redacted " + inner[:12] + "...",
        "claims only " + header + "." + payload + ".",
        "a hash " + base64.urlsafe_b64encode(hashlib.sha256(b"x").digest()).decode().rstrip("="),
    ])
    rc, out = scan(minted, "clean", harmless)
    assert rc == 0, out
    assert "0 secrets found" in out and "1 signing keys" in out, out


@pytest.mark.parametrize("what,kind", [
    ("inner", "JWT (API key)"),
    ("envelope", "v1 envelope"),
    ("refresh", "refresh token"),
    ("signing", "signing key"),
])
def test_each_planted_secret_is_found(minted, what, kind):
    rc, out = scan(minted, what, "refreshed with " + minted[what] + " (oops)")
    assert rc == 1, out
    assert kind in out, out
    assert minted[what] not in out  # the report shows a prefix only


def test_pem_and_jwk_private_keys_are_found(minted):
    rc, out = scan(minted, "pem", "-----BEGIN PRIVATE KEY-----\nMIIE...\n"
                   '{"kty":"oct","k":"GawgguFyGrWKav7AX4VKUg","kid":"x"}')
    assert rc == 1, out
    assert "PEM private key" in out and "symmetric JWK" in out, out


def run_scan(logs, known):
    p = subprocess.run([sys.executable, str(SCAN), "--known", str(known), str(logs)],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout


def start_server(binary, data, boot, env):
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--data-dir", str(data), "--bootstrap", str(boot)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            text=True, env=env)
    line = proc.stdout.readline()
    assert line.startswith("listening on "), line
    return proc, line.split()[-1]


def test_the_library_debug_log_of_any_process_is_written_and_scanned(minted, tmp_path):
    """MOMENTO_AUTH_DEBUG_LOG (read by the library itself, no callback) in a process of its own:
    its real DEBUG lines from a refresh against a live server hold no secret; a key planted
    among them is found."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "lib-debug-env.log"
    data = tmp_path / "data"
    env = dict(os.environ)
    env.pop("MOMENTO_TEST_LOG_DIR", None)
    proc, address = start_server(os.environ["MOMENTO_SERVER_BIN"], data, tmp_path / "boot.json", env)
    try:
        boot = json.loads((tmp_path / "boot.json").read_text())["authToken"]
        code = ("import momento_auth as ma, sys\n"
                "c = ma.AuthClient(ma.CredentialProvider.from_string(sys.argv[1], endpoint=sys.argv[2], secure=False))\n"
                "k = c.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))\n"
                "c2 = ma.AuthClient(ma.CredentialProvider.from_string(k.api_key, endpoint=sys.argv[2], secure=False))\n"
                "c2.refresh_api_key(k.refresh_token)\n")
        subprocess.run([sys.executable, "-c", code, boot, address], check=True, timeout=60,
                       env=dict(env, MOMENTO_AUTH_DEBUG_LOG=str(log)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    known = tmp_path / "known" / "server"
    known.mkdir(parents=True)
    for f in ("state.db", "state.db-wal", "signing-keys.json"):
        if (data / f).exists():
            shutil.copy(data / f, known / f)
    lines = log.read_text().splitlines()
    assert any(" debug " in line for line in lines), lines[:5]
    assert all(line.startswith("momento-auth[") for line in lines), lines[:5]
    rc, out = run_scan(logs, tmp_path / "known")
    assert rc == 0, out
    with log.open("a") as f:
        f.write("momento-auth[1] debug refreshed with " + minted["inner"] + "\n")
    rc, out = run_scan(logs, tmp_path / "known")
    assert rc == 1 and "lib-debug-env.log" in out and "JWT (API key)" in out, out


def test_a_server_run_through_server_for_scan_leaves_what_the_scan_needs(tmp_path):
    """The bindings' and interop harnesses start the server through server_for_scan.py: its
    database and signing keys reach known/ even when the data directory is deleted while it runs,
    so a refresh token or signing key of that server found in a log is confirmed."""
    logs = tmp_path / "logs"
    logs.mkdir()
    data = tmp_path / "data"
    env = dict(os.environ, MOMENTO_TEST_LOG_DIR=str(logs))
    proc, address = start_server(os.environ["MOMENTO_SERVER_FOR_SCAN"], data, tmp_path / "boot.json", env)
    try:
        boot = json.loads((tmp_path / "boot.json").read_text())["authToken"]
        admin = ma.AuthClient(ma.CredentialProvider.from_string(boot, endpoint=address, secure=False))
        refresh = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1)).refresh_token
        signing = json.loads((data / "signing-keys.json").read_text())["keys"][0]["secret"]
        shutil.rmtree(data)  # as a harness may, before the server has stopped
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # The watcher saves once the server's stderr closes.
    saved = lambda: [p for p in (logs / "known").rglob("*") if p.suffix in (".db", ".json")]
    for _ in range(100):
        if len(saved()) >= 2:
            break
        time.sleep(0.1)
    assert len(saved()) >= 2, list((logs / "known").rglob("*")) if (logs / "known").exists() else "no known/"
    assert list(logs.glob("server-for-scan-*.log")), list(logs.iterdir())
    rc, out = run_scan(logs, logs / "known")
    assert rc == 0, out
    (logs / "binding-test.log").write_text("token " + refresh + "\nkey " + signing + "\n")
    rc, out = run_scan(logs, logs / "known")
    assert rc == 1 and "refresh token" in out and "signing key" in out, out
