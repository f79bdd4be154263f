"""No secret in a repr, str, exception or CLI message: the Python package and momento-auth run
their flows against a real momento-auth-server (mint, refresh, a wrong and a replayed refresh
token, disposable tokens, bad credentials made from real ones, a key where a path belongs), and
every string they produce is searched for every key and refresh token of the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import momento_auth as ma

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from scan_capture import keep_for_scan  # noqa: E402


@pytest.fixture
def server(tmp_path):
    proc = subprocess.Popen(
        [os.environ["MOMENTO_SERVER_BIN"], "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data"),
         "--bootstrap", str(tmp_path / "boot.json"), "--log-format", "json"],
        stdout=subprocess.PIPE, stderr=open(tmp_path / "server.log", "w"), stdin=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line
        yield line.split()[-1], json.loads((tmp_path / "boot.json").read_text())["authToken"], tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        keep_for_scan(str(tmp_path / "data"), [str(tmp_path / "server.log")])


def pieces(secret: str):
    return [secret[i:i + 16] for i in range(0, max(1, len(secret) - 15), 8)] if len(secret) >= 16 else []


def test_no_secret_in_python_or_cli_output(server):
    address, boot, tmp = server
    seen: list[str] = []   # every string the package or the CLI produced
    secrets: list[str] = [boot]

    def keep(x):
        seen.append(repr(x))
        seen.append(str(x))

    admin_provider = ma.CredentialProvider.from_string(boot, endpoint=address, secure=False)
    admin = ma.AuthClient(admin_provider)
    keep(admin_provider)
    keep(admin)
    key = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    secrets += [key.api_key, key.refresh_token]
    keep(key)
    user = ma.AuthClient(key.credential_provider(endpoint=address, secure=False))
    keep(user)
    nxt = user.refresh_api_key(key.refresh_token)
    secrets += [nxt.api_key, nxt.refresh_token]
    keep(nxt)
    disp = admin.generate_disposable_token(ma.DisposableTokenScopes.cache_key_read_write("c", "k"),
                                           ma.ExpiresIn.minutes(5), token_id="hygiene")
    secrets.append(disp.auth_token)
    keep(disp)

    wrong = key.refresh_token[:-2] + ("AA" if not key.refresh_token.endswith("AA") else "BB")
    bad_inputs = [
        lambda: user.refresh_api_key(wrong),
        lambda: ma.CredentialProvider.from_string(key.api_key + "x", endpoint=address, secure=False),
        lambda: ma.CredentialProvider.from_string(key.api_key[:-5]),
        lambda: ma.CredentialProvider.from_api_key_v2(key.api_key, endpoint="e.example.com"),
        lambda: ma.CredentialProvider.from_file(key.api_key),
        lambda: ma.CredentialProvider.from_file(key.refresh_token),
        lambda: ma.CredentialProvider.from_disposable_token(nxt.refresh_token),
        lambda: ma.AuthClient(ma.CredentialProvider.from_string(
            key.api_key[:-4] + "AAAA", endpoint=address, secure=False)).generate_api_key(
                ma.AllDataReadWrite, ma.ExpiresIn.hours(1)),
    ]
    for call in bad_inputs:
        with pytest.raises(ma.MomentoError) as info:
            call()
        keep(info.value)
        seen.append(info.value.message)

    # The CLI: inspect, refresh a file, and a key given where a path belongs, text and JSON.
    cli = os.environ["MOMENTO_CLI_BIN"]
    token = tmp / "token.json"
    token.write_text(nxt.to_download_json())
    token.chmod(0o600)
    runs = [
        ["inspect", str(token)],
        ["--json", "inspect", str(token)],
        ["--endpoint", address, "--insecure", "refresh", "--file", str(token)],
        ["--debug", "--endpoint", address, "--insecure", "refresh", "--file", str(token)],
        ["--debug", "--json", "--endpoint", address, "--insecure", "--key-file", str(token), "cache", "list-caches"],
        ["--endpoint", address, "--insecure", "--key-file", nxt.api_key, "cache", "list-caches"],
        ["--json", "--endpoint", address, "--insecure", "--key-file", nxt.refresh_token, "cache", "list-caches"],
        ["--endpoint", address, "--insecure", "refresh", "--file", key.api_key],
    ]
    for args in runs:
        r = subprocess.run([cli] + args, capture_output=True, text=True, timeout=60)
        seen += [r.stdout, r.stderr]
        now = json.loads(token.read_text())  # each refresh's key and refresh token, too
        secrets += [now["authToken"], now["refreshToken"]]
    refreshed = json.loads(token.read_text())
    secrets += [refreshed["authToken"], refreshed["refreshToken"]]
    seen.append((tmp / "server.log").read_text())

    text = "\n".join(seen)
    assert "CredentialProvider(" in text and "AuthenticationError" in text  # the output was captured
    assert "log debug: " in text and '"log":{"level":"debug"' in text  # --debug showed the library's log
    for s in secrets:
        for p in pieces(s):
            assert p not in text, f"a piece of a secret ({p[:4]}...) appears in the output"
