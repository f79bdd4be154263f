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
