"""Watcher from Python: follows a real file store, in this process and in another Python process,
while a Refresher rotates the key; the served credential works with AuthClient."""

from __future__ import annotations

import gc
import json
import os
import select
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from datetime import timedelta
from pathlib import Path

import pytest

import momento_auth as ma
from conftest import PYTHON, Server
from refresh_helpers import Recorder, mint_into, wait_until


def test_watcher_serves_the_stored_key(tmp_path: Path, server: Server, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    key = mint_into(admin, store, ma.ExpiresIn.hours(1))
    with ma.Watcher(store, interval=timedelta(seconds=30), endpoint=server.address, secure=False) as w:
        first = w.current_key
        cp = w.credential_provider
        assert isinstance(cp, ma.CredentialProvider) and w.current().kind == "v1_envelope"
        assert cp.endpoints_overridden and cp.control_endpoint == server.address
        assert w.current_key.expires_at == key.expires_at
        assert len(w.current_key.fingerprint) == 64
        assert w.poll() is False  # nothing changed
        w.notify_unauthenticated()
        for text in (repr(w), str(w), repr(w.current_key), repr(cp)):
            assert key.api_key not in text and key.refresh_token not in text
        # The served credential works with AuthClient: refresh the key with it.
        with ma.AuthClient(cp) as c:
            store.write(c.refresh_api_key(store.read().refresh_token))
        # The directory event of the write wakes the watcher at once; poll() is True only if it
        # gets there first. Either way the new key is served.
        w.poll()
        wait_until(lambda: w.current_key != first, 30, "the new key")
        assert w.current_key != first and w.current_key.fingerprint != first.fingerprint
    assert w.closed
    with pytest.raises(ma.FailedPreconditionError, match="Watcher is closed"):
        w.credential_provider
    with pytest.raises(ma.FailedPreconditionError):
        w.poll()
    w.close()  # idempotent
    assert repr(w).endswith("closed)")
    cp.kind  # a credential handed out before close stays valid


def test_watcher_and_refresher_in_one_process(tmp_path: Path, server: Server, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.seconds(40))
    changes = Recorder()
    with ma.Watcher(ma.FileTokenStore(tmp_path / "token.json"), interval=0.05,
                    endpoint=server.address, secure=False) as w:
        before = w.current_key
        old_provider = w.credential_provider
        w.on_change(changes)
        events = Recorder()
        with ma.Refresher(store, endpoint=server.address, secure=False, timeout=5,
                          refresh_fraction=0.05, jitter_fraction=0, recheck_interval=0.5) as r:
            r.subscribe(events)
            got = events.wait_for(
                lambda e: any(x.kind is ma.RefreshEventKind.REFRESHED for x in e), timeout=60)
        refreshed = [e for e in got if e.kind is ma.RefreshEventKind.REFRESHED]
        fingerprints = {e.key_fingerprint for e in refreshed}
        seen = changes.wait_for(lambda c: any(k.fingerprint in fingerprints for k in c))
        assert all(isinstance(k, ma.WatchedKey) for k in seen)
        assert before not in seen
        assert threading.get_ident() not in changes.threads
        # The watcher now serves the refreshed key; the old provider is unchanged.
        wait_until(lambda: w.current_key.fingerprint == store_fingerprint(w, store))
        assert w.credential_provider.expires_at.epoch() >= old_provider.expires_at.epoch()
        assert old_provider.kind == "v1_envelope"


def store_fingerprint(w: ma.Watcher, store: ma.TokenStore) -> str:
    # The fingerprint of what the store holds, through a second watcher.
    with ma.Watcher(store) as other:
        return other.current_key.fingerprint


CHILD = r"""
import json, sys, threading
import momento_auth as ma

store = ma.FileTokenStore(sys.argv[1])
changed = threading.Event()
def on_change(key):
    print(json.dumps({"changed": key.fingerprint, "key": key.redacted_key}), flush=True)
    changed.set()
with ma.Watcher(store, interval=0.05, endpoint=sys.argv[2], secure=False) as w:
    w.on_change(on_change)
    print(json.dumps({"ready": w.current_key.fingerprint}), flush=True)
    ok = changed.wait(60)
print(json.dumps({"done": ok}), flush=True)
"""


def read_json_line(proc: subprocess.Popen, timeout: float) -> dict:
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    if not r:
        proc.kill()
        pytest.fail("the child printed nothing in time")
    line = proc.stdout.readline()
    if not line:
        pytest.fail(f"the child ended early: {proc.wait(10)} {proc.stderr.read()}")
    return json.loads(line)


def test_watcher_in_another_process_sees_the_rotation(tmp_path: Path, server: Server,
                                                      admin: ma.AuthClient):
    path = tmp_path / "token.json"
    store = ma.FileTokenStore(path)
    key = mint_into(admin, store, ma.ExpiresIn.seconds(40))
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    proc = subprocess.Popen([PYTHON, str(script), str(path), server.address],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = read_json_line(proc, 60)["ready"]
        events = Recorder()
        with ma.Refresher(store, endpoint=server.address, secure=False, timeout=5,
                          refresh_fraction=0.05, jitter_fraction=0, recheck_interval=0.5) as r:
            r.subscribe(events)
            got = events.wait_for(
                lambda e: any(x.kind is ma.RefreshEventKind.REFRESHED for x in e), timeout=60)
            first_refresh = [e for e in got if e.kind is ma.RefreshEventKind.REFRESHED][0]
            seen = read_json_line(proc, 60)
            fingerprints = {e.key_fingerprint for e in events.snapshot()}
        assert seen["changed"] != ready
        assert seen["changed"] in fingerprints
        assert first_refresh.key_fingerprint != ready
        assert key.api_key not in json.dumps(seen)
        assert read_json_line(proc, 30) == {"done": True}
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_on_change_exceptions_are_reported(tmp_path: Path, server: Server, admin: ma.AuthClient,
                                           monkeypatch: pytest.MonkeyPatch):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    reported = Recorder()
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported((u.exc_type, u.object)))

    def bad(key: ma.WatchedKey) -> None:
        raise KeyError("on purpose")

    good = Recorder()
    with ma.Watcher(store, interval=0.05) as w:
        sub = w.on_change(bad)
        w.on_change(good)
        mint_into(admin, store, ma.ExpiresIn.hours(1))
        got = reported.wait_for(lambda items: len(items) >= 1)
        assert got[0] == (KeyError, bad)
        good.wait_for(lambda items: len(items) == 1)  # the other subscriber still gets it
        sub.cancel()
        assert not sub.active
        sub.cancel()  # idempotent
        mint_into(admin, store, ma.ExpiresIn.hours(1))
        good.wait_for(lambda items: len(items) == 2)
    assert len(reported.snapshot()) == 1  # nothing after cancel


def test_watcher_of_an_empty_store_fails(tmp_path: Path):
    with pytest.raises(ma.NotFoundError):
        ma.Watcher(ma.FileTokenStore(tmp_path / "missing.json"))


def test_watcher_garbage_collected_with_subscriptions(tmp_path: Path, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    w = ma.Watcher(store, interval=0.02)
    sub = w.on_change(Recorder())
    ref = weakref.ref(w)
    del w
    gc.collect()
    assert ref() is None
    assert not sub.active  # the subscription does not keep the watcher alive


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"interval": -1}, "interval must be positive"),
        ({"interval": 0}, "interval must be positive"),
        ({"interval": timedelta(seconds=-5)}, "interval must be positive"),
        ({"interval": "30"}, "interval must be a timedelta or a number of seconds"),
        ({"interval": None}, "interval must be a timedelta or a number of seconds"),
        ({"interval": timedelta(days=2)}, "must be at most one day"),
        ({"endpoint": 1}, "endpoint must be a str"),
        ({"secure": 1}, "secure must be a bool"),
    ],
)
def test_watcher_argument_validation(tmp_path: Path, admin: ma.AuthClient, kwargs, message):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    with pytest.raises(ma.InvalidArgumentError) as e:
        ma.Watcher(store, **kwargs)
    assert message in str(e.value), str(e.value)


def test_watcher_needs_a_store_and_callable(tmp_path: Path, admin: ma.AuthClient):
    with pytest.raises(ma.InvalidArgumentError, match="store must be a TokenStore"):
        ma.Watcher(str(tmp_path / "token.json"))  # type: ignore[arg-type]
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    with ma.Watcher(store) as w:
        with pytest.raises(ma.InvalidArgumentError, match="callback must be callable"):
            w.on_change(None)  # type: ignore[arg-type]


def test_many_threads_read_while_keys_change(tmp_path: Path, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    errors = Recorder()
    stop = threading.Event()
    with ma.Watcher(store, interval=0.01) as w:
        def reader() -> None:
            for _ in range(2000):  # bounded
                if stop.is_set():
                    return
                try:
                    assert w.credential_provider.kind == "v1_envelope"
                    assert len(w.current_key.fingerprint) == 64
                except Exception as e:  # noqa: BLE001
                    errors(e)

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for t in threads:
            t.start()
        for _ in range(5):
            mint_into(admin, store, ma.ExpiresIn.hours(1))
            w.poll()
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors.snapshot()


def test_close_while_threads_read_and_callbacks_run(tmp_path: Path, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    w = ma.Watcher(store, interval=0.01)
    calls = Recorder()

    def slow(key: ma.WatchedKey) -> None:
        calls(key)
        time.sleep(0.02)  # holds the delivery thread (not the GIL) for a while

    w.on_change(slow)
    outcomes = Recorder()

    def reader() -> None:
        for _ in range(100000):  # bounded; ends at the close
            try:
                w.credential_provider
                w.current_key
                w.notify_unauthenticated()
            except ma.FailedPreconditionError:
                outcomes("closed")
                return
        outcomes("never closed")

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(3):
        mint_into(admin, store, ma.ExpiresIn.hours(1))
        w.poll()
    calls.wait_for(lambda c: len(c) >= 1)
    w.close()  # while readers hold references and a callback may be running
    for t in threads:
        t.join(60)
    assert all(not t.is_alive() for t in threads)
    assert outcomes.snapshot() == ["closed"] * 4
