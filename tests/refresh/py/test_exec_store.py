"""exec: stores for real: the key kept in Debian's `pass`, under a throwaway GPG key made here
(batch mode, no passphrase, in a temporary GNUPGHOME), plus failing and hanging helpers."""
import hashlib
import json
import os
import select
import shutil
import stat
import subprocess

import pytest

from conftest import Tool

pytestmark = pytest.mark.skipif(not (shutil.which("pass") and shutil.which("gpg")),
                                reason="pass and gnupg are not installed (scripts/setup installs them)")

ENVELOPE = "eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJrIn0="  # what `put --key k` builds


def fingerprint(s):
    return hashlib.sha256(s.encode()).hexdigest()


@pytest.fixture
def pass_env(tmp_dir):
    gnupg = os.path.join(tmp_dir, "gnupg")
    os.mkdir(gnupg, 0o700)
    env = dict(os.environ, GNUPGHOME=gnupg, PASSWORD_STORE_DIR=os.path.join(tmp_dir, "password-store"),
               HOME=tmp_dir)
    run = lambda *a, **kw: subprocess.run(a, env=env, capture_output=True, text=True, timeout=120, check=True, **kw)
    run("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
        "momento test <momento-test@example.invalid>", "future-default", "default", "never")
    run("pass", "init", "momento-test@example.invalid")
    yield env
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True, timeout=30)


def spec(read, write=None, **extra):
    d = {"read": read}
    if write:
        d["write"] = write
    d.update(extra)
    return "exec:" + json.dumps(d)


PASS_SPEC = spec(["pass", "show", "momento/key"], ["pass", "insert", "--multiline", "--force", "momento/key"])


def test_pass_keeps_the_key_and_a_watcher_follows_it(tool, pass_env, tmp_dir):
    t = Tool(tool.path, pass_env)
    put = t.json("put", "--store", PASS_SPEC, "--key", "k", "--refresh", "r1", "--valid-until", "1900000000")
    shown = subprocess.run(["pass", "show", "momento/key"], env=pass_env, capture_output=True, text=True,
                           timeout=60, check=True).stdout
    value = json.loads(shown)
    assert value["refreshToken"] == "r1" and put["fingerprint"] == fingerprint(value["authToken"])
    # The file on disk is GPG-encrypted, not the key in the clear.
    with open(os.path.join(pass_env["PASSWORD_STORE_DIR"], "momento", "key.gpg"), "rb") as f:
        assert b"r1" not in f.read()
    assert t.json("get", "--store", PASS_SPEC) == put

    reader = t.spawn("watch", "--store", PASS_SPEC, "--period-ms", "100", "--count", "2", "--timeout-ms", "60000")
    try:
        reader.wait_for(lambda ls: len(ls) >= 1, 60)
        second = t.json("put", "--store", PASS_SPEC, "--key", "k2", "--refresh", "r2", "--valid-until", "1900000100")
        lines = reader.wait_for(lambda ls: len(ls) >= 2, 60)
        assert lines[-1]["fingerprint"] == second["fingerprint"] != lines[0]["fingerprint"]
    finally:
        reader.kill()


def test_the_key_goes_through_stdin_and_stdout_only(tool, pass_env, tmp_dir):
    # A spy in front of pass records its arguments and environment.
    log = os.path.join(tmp_dir, "spy.log")
    spy = os.path.join(tmp_dir, "spy")
    with open(spy, "w") as f:
        f.write('#!/bin/sh\n{ printf "%%s\\n" "$@"; env; } >> "%s"\nexec pass "$@"\n' % log)
    os.chmod(spy, stat.S_IRWXU)
    s = spec([spy, "show", "momento/key"], [spy, "insert", "-m", "-f", "momento/key"])
    t = Tool(tool.path, pass_env)
    t.json("put", "--store", s, "--key", "k", "--refresh", "refresh-secret-xyz", "--valid-until", "1900000000")
    got = t.json("get", "--store", s)
    assert got["fingerprint"] == fingerprint(ENVELOPE)
    with open(log) as f:
        seen = f.read()
    assert "insert" in seen and "show" in seen  # the spy ran for both
    assert "refresh-secret-xyz" not in seen and ENVELOPE not in seen


def test_a_failing_write_is_a_clear_error_and_the_old_key_stays(tool, pass_env, tmp_dir):
    t = Tool(tool.path, pass_env)
    first = t.json("put", "--store", PASS_SPEC, "--key", "k", "--refresh", "keep-me", "--valid-until", "1900000000")
    # A helper that echoes what it was given to stderr, then fails.
    bad = spec(["pass", "show", "momento/key"], ["sh", "-c", "cat >&2; echo 'vault: permission denied' >&2; exit 4"])
    p = t.run("put", "--store", bad, "--key", "k2", "--refresh", "leak-me-not", "--valid-until", "1900000100",
              check=False)
    assert p.returncode == 2
    err = json.loads(p.stdout.strip().splitlines()[-1])
    assert "write command 'sh' exited with status 4: vault: permission denied" in err["message"]
    assert "leak-me-not" not in p.stdout + p.stderr
    assert t.json("get", "--store", PASS_SPEC) == first
    # A hanging helper is killed at the timeout.
    hang = spec(["pass", "show", "momento/key"], ["sleep", "60"], timeoutMs=300)
    p = t.run("put", "--store", hang, "--key", "k3", "--refresh", "r3", "--valid-until", "1900000200", check=False)
    err = json.loads(p.stdout.strip().splitlines()[-1])
    assert err["error"] == "TIMEOUT_ERROR" and "timed out after 300 ms" in err["message"]
    assert t.json("get", "--store", PASS_SPEC) == first
    # A missing entry read by a failing `pass show` is an error, not an empty store.
    p = t.run("get", "--store", spec(["pass", "show", "no/such"]), check=False)
    err = json.loads(p.stdout.strip().splitlines()[-1])
    assert "read command 'pass' exited with status 1" in err["message"]


@pytest.mark.parametrize("bad,needle", [
    ('exec:["pass"]', "JSON object"),
    ('exec:{"read": "pass show x"}', '"read" must be a non-empty list'),
    ('exec:{"read": []}', '"read" must be a non-empty list'),
    ('exec:{"write": ["x"]}', '"read" (an argument list) is required'),
    ('exec:{"read": ["x"], "timeoutMs": 0}', '"timeoutMs"'),
    ('exec:{"read": ["x"], "shell": true}', 'unknown member "shell"'),
    ('exec:{"read": ["/nonexistent/helper"]}', "cannot run command '/nonexistent/helper'"),
])
def test_bad_specifications_name_the_problem(tool, bad, needle):
    p = tool.run("get", "--store", bad, check=False)
    assert p.returncode == 2
    err = json.loads(p.stdout.strip().splitlines()[-1])
    assert err["error"] == "INVALID_ARGUMENT_ERROR" and needle in err["message"], err


def test_the_cli_takes_exec_specifications(tool, tmp_dir):
    cli = os.environ.get("MOMENTO_CLI_BIN", "")
    if not cli or not os.path.exists(cli):
        pytest.skip("momento-auth not built")
    kept = os.path.join(tmp_dir, "kept.json")
    Tool(tool.path).json("put", "--store", "file:" + kept, "--key", "k", "--refresh", "r", "--valid-until",
                         "1900000000")
    read_only = spec(["cat", kept])
    p = subprocess.run([cli, "keep-fresh", "--once", "--store", read_only], capture_output=True, text=True, timeout=60)
    assert p.returncode == 3 and "exec:cat is read-only" in p.stderr
    # watch prints the key the read command gives (as it prints the same file's), then waits for a
    # change (stopped here).
    def first_line(store):
        w = subprocess.Popen([cli, "watch", "--store", store], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            ready, _, _ = select.select([w.stdout], [], [], 30)  # bounded
            assert ready, "watch printed nothing"
            return w.stdout.readline().split(" ", 1)[1]  # without the timestamp
        finally:
            w.kill()
            w.wait(timeout=10)

    line = first_line(read_only)
    assert line.startswith("current key ") and line == first_line("file:" + kept)
