"""Checks an installed momento-auth wheel against a momento-auth-server over loopback.

Run with the interpreter of a fresh venv that has only the wheel installed, from a directory
outside the source tree (scripts/check-wheels, tests/python/wheel_check.py). Either give the
address of a running server and its bootstrapped SuperUser key file (--endpoint, --superuser),
or let this script start one (--server-bin). Checks, each printed as it passes:

  cli        the console script `momento-auth --version` prints the package's version
  mint       a SuperUser client mints an AllDataReadWrite key that expires in an hour
  refresh    that key refreshes itself with its refresh token
  disposable a disposable token scoped to one cache item
  watcher    a Watcher on the key file swaps in the key the `momento-auth refresh` command wrote
  async      AuthClientAsync mints a key on an event loop
  aws-sm     with --aws-endpoint (a local Secrets Manager such as moto): the refreshed key written
             to a secret and read back, through the libcurl module the wheel carries

Exit status 0 when every check passed. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import momento_auth as ma


def start_server(server_bin: str, work: Path) -> tuple[subprocess.Popen, str, Path]:
    """Starts momento-auth-server on a free loopback port; returns it, its address, its key."""
    superuser = work / "superuser.json"
    out = open(work / "server.out", "w+")
    proc = subprocess.Popen([server_bin, "--listen", "127.0.0.1:0", "--data-dir", str(work / "data"),
                             "--bootstrap", str(superuser)],
                            stdout=out, stderr=subprocess.DEVNULL)
    for _ in range(200):  # the first stdout line is "listening on HOST:PORT"
        out.seek(0)
        line = out.readline()
        if line.startswith("listening on ") and superuser.exists():
            return proc, line.split()[-1], superuser
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("check_wheel: the server did not start")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint", help="HOST:PORT of a running momento-auth-server (plaintext)")
    ap.add_argument("--superuser", type=Path, help="its bootstrapped SuperUser key file")
    ap.add_argument("--server-bin", help="start this momento-auth-server instead")
    ap.add_argument("--aws-endpoint", help="URL of a local Secrets Manager (moto) for the aws-sm check")
    args = ap.parse_args()
    if not args.server_bin and not (args.endpoint and args.superuser):
        ap.error("give --endpoint and --superuser, or --server-bin")

    work = Path(tempfile.mkdtemp(prefix="momento-auth-check-"))
    server = None
    if args.server_bin:
        server, endpoint, superuser = start_server(args.server_bin, work)
    else:
        endpoint, superuser = args.endpoint, args.superuser
    cli = Path(sys.executable).parent / "momento-auth"  # the console script pip installed
    try:
        return run_checks(endpoint, superuser, work, cli, args.aws_endpoint)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def run_checks(endpoint: str, superuser: Path, work: Path, cli: Path, aws_endpoint: str | None) -> int:
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"

    def ok(name: str, detail: str) -> None:
        print(f"{tag} {name}: ok ({detail})", flush=True)

    # cli: the command the wheel carries, through its console script.
    version = subprocess.run([cli, "--version"], check=True, capture_output=True, text=True).stdout
    assert ma.__version__ in version, (version, ma.__version__)
    ok("cli", version.strip())

    admin = ma.CredentialProvider.from_file(superuser, endpoint=endpoint, secure=False)
    key_file = work / "key.json"
    with ma.AuthClient(admin) as client:
        # mint
        minted = client.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
        assert minted.refresh_token and minted.expires_at.does_expire()
        minted.write_download_json(key_file)
        assert key_file.stat().st_mode & 0o777 == 0o600
        ok("mint", f"expires {minted.expires_at!r}")

        # disposable
        token = client.generate_disposable_token(
            ma.DisposableTokenScopes.cache_key_read_write("check", "item"), ma.ExpiresIn.minutes(5))
        assert token.auth_token
        ok("disposable", f"expires {token.expires_at!r}")

    # refresh: the minted key refreshes itself.
    own = ma.CredentialProvider.from_file(key_file, endpoint=endpoint, secure=False)
    with ma.AuthClient(own) as client:
        refreshed = client.refresh_api_key(own.refresh_token)
    assert refreshed.api_key != minted.api_key
    refreshed.write_download_json(key_file)
    ok("refresh", "new key written")

    # aws-sm: the one store whose requests go through libcurl, loaded on first use. Fixed test
    # credentials (a local emulator accepts any) and no AWS configuration of the machine's.
    if aws_endpoint:
        for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
            os.environ.pop(k, None)
        os.environ.update(AWS_ACCESS_KEY_ID="AKIDMOTOTEST", AWS_SECRET_ACCESS_KEY="motosecret",
                          AWS_CONFIG_FILE=str(work / "no-aws-config"),
                          AWS_SHARED_CREDENTIALS_FILE=str(work / "no-aws-credentials"))
        secret = ma.AwsSecretsManagerTokenStore(f"momento/check-{tag}", region="us-east-1",
                                                endpoint_url=aws_endpoint)
        secret.write(refreshed)
        assert secret.read().api_key == refreshed.api_key
        ok("aws-sm", "the refreshed key written to a secret and read back")

    # watcher: the CLI refreshes the file; the watcher sees the new key.
    store = ma.FileTokenStore(str(key_file))
    with ma.Watcher(store, interval=3600, endpoint=endpoint, secure=False) as watcher:
        before = watcher.current_key.fingerprint
        seen = threading.Event()
        watcher.on_change(lambda key: seen.set())
        subprocess.run([cli, "--endpoint", endpoint, "--insecure", "refresh", "--file", key_file],
                       check=True, capture_output=True)
        # A file watcher may already have the new key from the directory event; poll() makes
        # sure either way.
        watcher.poll()
        assert seen.wait(10), "on_change was not called for the refreshed key"
        after = watcher.current_key.fingerprint
        assert after != before
        # The served key is the one the CLI wrote, and the server accepts it.
        with ma.AuthClient(watcher.credential_provider) as client:
            client.refresh_api_key(store.read().refresh_token)
    ok("watcher", f"key {before[:8]}… -> {after[:8]}… after `momento-auth refresh`")

    # async
    async def mint_async() -> ma.ApiKeyResult:
        async with ma.AuthClientAsync(admin) as client:
            return await client.generate_api_key(ma.AllDataReadOnly, ma.ExpiresIn.minutes(5))
    result = asyncio.run(mint_async())
    assert result.api_key
    ok("async", "AuthClientAsync.generate_api_key")

    # The key file stays in the console's Download-JSON shape.
    assert set(json.loads(key_file.read_text())) >= {"authToken", "refreshToken"}
    print(f"{tag}: all checks passed ({sys.executable}, {os.uname().sysname} "
          f"{os.confstr('CS_GNU_LIBC_VERSION')})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
