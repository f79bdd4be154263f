"""Refresher from Python against a real momento-auth-server and a real file store: rotation in
the background, one-shot passes, failures while the server is down and recovery, callbacks
(threads, exceptions, closing from inside), close while running, and interpreter exit."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import textwrap
import threading
import weakref
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import momento_auth as ma
from conftest import PYTHON, Server
from refresh_helpers import OwnServer, Recorder, kinds, mint_into, own_server, wait_until  # noqa: F401


def make_refresher(store: ma.TokenStore, address: str, **kw) -> ma.Refresher:
    kw.setdefault("timeout", 5)
    return ma.Refresher(store, endpoint=address, secure=False, **kw)


def test_run_once_and_refresh_now(tmp_path: Path, server: Server, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    first = mint_into(admin, store, ma.ExpiresIn.hours(1))
    r = make_refresher(store, server.address)
    try:
        ev = r.run_once()  # first look: the key is adopted, not due
        assert ev is not None and ev.kind is ma.RefreshEventKind.ADOPTED
        assert r.run_once() is None  # nothing new, nothing due
        assert store.read().api_key == first.api_key

        ev = r.refresh_now()
        assert ev.kind is ma.RefreshEventKind.REFRESHED and not ev.failed and ev.error is None
        stored = store.read()
        assert stored.api_key != first.api_key and stored.refresh_token != first.refresh_token
        assert ev.store == store.description
        assert len(ev.key_fingerprint) == 64
        assert ev.expires_at.does_expire() and ev.expires_at == stored.expires_at
        assert ev.next_attempt is None and ev.consecutive_failures == 0
        assert not ev.replay and not ev.retryable
        # The refreshed key and refresh token are live: the next rotation uses them.
        assert r.refresh_now().kind is ma.RefreshEventKind.REFRESHED
        assert store.read().api_key != stored.api_key
        for text in (repr(ev), str(ev), repr(r)):
            assert stored.api_key not in text and stored.refresh_token not in text
            assert first.api_key not in text
    finally:
        r.close()


def test_background_rotation_of_a_short_lived_key(tmp_path: Path, server: Server,
                                                  admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    first = mint_into(admin, store, ma.ExpiresIn.seconds(40))
    events = Recorder()
    # Due after 5% of 40 s; re-checks the store often.
    with make_refresher(store, server.address, refresh_fraction=0.05, jitter_fraction=0.0,
                        recheck_interval=0.5) as r:
        assert r.running
        sub = r.subscribe(events)
        assert sub.active
        got = events.wait_for(lambda e: ma.RefreshEventKind.REFRESHED in kinds(e), timeout=60)
    assert r.closed and not r.running and not sub.active
    refreshed = [e for e in got if e.kind is ma.RefreshEventKind.REFRESHED][0]
    now = store.read()
    assert now.api_key != first.api_key
    assert threading.get_ident() not in events.threads  # delivered on a library thread
    assert all(isinstance(e, ma.RefreshEvent) for e in got)
    assert refreshed.expires_at.epoch() >= first.expires_at.epoch()


def test_failures_while_the_server_is_down_then_recovery(tmp_path: Path, own_server: OwnServer):
    store = ma.FileTokenStore(tmp_path / "token.json")
    with own_server.admin() as admin:
        first = mint_into(admin, store, ma.ExpiresIn.seconds(60))
    own_server.stop()
    events = Recorder()
    r = make_refresher(store, own_server.address, timeout=2, refresh_fraction=0.02,
                       jitter_fraction=0.0, backoff_initial=0.1, backoff_max=0.4,
                       recheck_interval=0.5)
    try:
        r.subscribe(events)
        ev = r.refresh_now()
        assert ev.failed and ev.kind is ma.RefreshEventKind.FAILED
        assert ev.error_code in ("SERVER_UNAVAILABLE", "TIMEOUT_ERROR", "CONNECTION_ERROR"), ev
        assert isinstance(ev.error, ma.MomentoError) and ev.error.code == ev.error_code
        # The server is down: a later attempt may work, and nothing reached it to replay.
        assert ev.retryable and ev.error.retryable and not ev.replay
        assert ev.error_message and ev.consecutive_failures >= 1
        assert ev.next_attempt is not None and ev.next_attempt > datetime.now(timezone.utc) - timedelta(seconds=5)
        assert "FAILED" not in repr(ev) and "failed" in repr(ev) and ev.error_code in repr(ev)
        assert store.read().api_key == first.api_key  # a failure never removes the key

        r.start()  # retries in the background while the server stays down
        events.wait_for(lambda e: sum(x.failed for x in e) >= 3, timeout=60)
        failures = [e for e in events.snapshot() if e.failed]
        assert max(e.consecutive_failures for e in failures) >= 2

        own_server.start()  # same port, same data: the key and refresh token are still known
        got = events.wait_for(lambda e: ma.RefreshEventKind.REFRESHED in kinds(e), timeout=60)
        assert store.read().api_key != first.api_key
        ok = [e for e in got if e.kind is ma.RefreshEventKind.REFRESHED][0]
        assert ok.error_code is None and ok.consecutive_failures == 0
    finally:
        r.close()


def test_callback_exceptions_are_reported_not_swallowed(tmp_path: Path, server: Server,
                                                         admin: ma.AuthClient,
                                                         monkeypatch: pytest.MonkeyPatch):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    reported = Recorder()
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported((u.exc_type, u.exc_value, u.object)))

    def bad(ev: ma.RefreshEvent) -> None:
        raise ValueError("callback failed on purpose")

    good = Recorder()
    with make_refresher(store, server.address) as r:
        r.subscribe(bad)
        r.subscribe(good)
        r.refresh_now()
        r.refresh_now()
        got = reported.wait_for(lambda items: len(items) >= 2)
        good.wait_for(lambda items: len(items) >= 2)  # the others still get every event
        assert r.refresh_now().kind is ma.RefreshEventKind.REFRESHED  # and it keeps working
    exc_type, exc_value, obj = got[0]
    assert exc_type is ValueError and "on purpose" in str(exc_value)
    assert obj is bad


def test_unsubscribe_and_close_from_inside_a_callback(tmp_path: Path, server: Server,
                                                      admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    r = make_refresher(store, server.address)
    once = Recorder()
    subs = []

    def only_once(ev: ma.RefreshEvent) -> None:
        once(ev)
        subs[0].cancel()

    subs.append(r.subscribe(only_once))
    stop_errors = Recorder()

    def closer(ev: ma.RefreshEvent) -> None:
        try:
            r.stop()  # not allowed from its own callback: a clear error, not a deadlock
        except ma.FailedPreconditionError as e:
            stop_errors(e)
        r.close()  # allowed: the refresher is freed on another thread

    r.refresh_now()
    once.wait_for(lambda items: len(items) == 1)
    wait_until(lambda: not subs[0].active, what="cancel from the callback")
    r.subscribe(closer)
    r.refresh_now()
    wait_until(lambda: r.closed, what="close from the callback")
    assert len(stop_errors.snapshot()) == 1
    assert "own callback" in str(stop_errors.snapshot()[0])
    assert len(once.snapshot()) == 1
    with pytest.raises(ma.FailedPreconditionError):
        r.run_once()


def test_close_while_running_and_during_a_call(tmp_path: Path, server: Server,
                                               admin: ma.AuthClient, blackhole):
    store = ma.FileTokenStore(tmp_path / "token.json")
    first = mint_into(admin, store, ma.ExpiresIn.hours(1))
    # The refresh goes to a peer that never answers: calls last until their deadline.
    r = ma.Refresher(store, endpoint=blackhole.address, secure=False, timeout=3)
    events = Recorder()
    r.subscribe(events)
    outcome = Recorder()
    t = threading.Thread(target=lambda: outcome(r.refresh_now()))
    t.start()
    assert blackhole.connected.wait(15), "the refresh never reached the peer"
    # This thread runs while the call waits: the call does not hold the GIL.
    assert t.is_alive() and not outcome.snapshot()
    r.start()
    r.close()  # while the background thread runs and another thread is inside a call
    assert r.closed and not r.running
    r.close()  # idempotent
    t.join(30)
    assert not t.is_alive()
    (ev,) = outcome.snapshot()
    assert ev.failed and ev.error_code == "TIMEOUT_ERROR"
    for call in (r.run_once, r.refresh_now, r.start, r.stop):
        with pytest.raises(ma.FailedPreconditionError, match="Refresher is closed"):
            call()
    with pytest.raises(ma.FailedPreconditionError):
        r.subscribe(print)
    with pytest.raises(ma.FailedPreconditionError):
        with r:
            pass
    assert repr(r).endswith("closed)")
    assert store.read().api_key == first.api_key


def test_many_threads_share_one_refresher(tmp_path: Path, server: Server, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    first = mint_into(admin, store, ma.ExpiresIn.hours(1))
    results = Recorder()
    with make_refresher(store, server.address) as r:
        def work() -> None:
            for _ in range(3):
                results(r.refresh_now())
                results(r.run_once())

        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert all(not t.is_alive() for t in threads)
    got = results.snapshot()
    assert len(got) == 36
    forced = [e for e in got if e is not None]
    assert all(not e.failed for e in forced), [e for e in forced if e.failed]
    # The chain of rotations stayed intact: the stored key still refreshes.
    final = store.read()
    assert final.api_key != first.api_key
    with ma.AuthClient(final.credential_provider(endpoint=server.address, secure=False)) as c:
        c.refresh_api_key(final.refresh_token)


def test_garbage_collected_while_running(tmp_path: Path, server: Server, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    events = Recorder()
    r = make_refresher(store, server.address, recheck_interval=0.05)
    r.subscribe(events)
    r.start()
    r.refresh_now()
    events.wait_for(lambda e: len(e) >= 1)
    ref = weakref.ref(r)
    del r
    gc.collect()
    assert ref() is None
    n = len(events.snapshot())
    # Closed with the object: no more events arrive and the store still reads.
    assert store.read().api_key
    assert len(events.snapshot()) == n


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"refresh_fraction": "0.5"}, "refresh_fraction must be a number"),
        ({"refresh_fraction": True}, "refresh_fraction must be a number"),
        ({"refresh_fraction": 1.5}, "refresh_fraction must be between 0 and 1 (exclusive), got 1.5"),
        ({"refresh_fraction": 0.0}, "refresh_fraction must be between 0 and 1"),
        ({"jitter_fraction": -0.1}, "jitter_fraction must be at least 0 and below refresh_fraction (0.75"),
        ({"refresh_fraction": 0.2, "jitter_fraction": 0.3}, "below refresh_fraction (0.2), got 0.3"),
        ({"refresh_fraction": 0.04}, "must exceed jitter_fraction (0.05 by default)"),
        ({"timeout": 0}, "deadline_ms must be positive"),  # the library's rule, by its name
        ({"timeout": -1}, "deadline_ms must be positive"),
        ({"timeout": "5"}, "timeout must be a timedelta or a number of seconds"),
        ({"backoff_initial": -0.5}, "backoff_initial must be positive"),
        ({"backoff_initial": 2, "backoff_max": 1}, "backoff_max must be at least backoff_initial"),
        ({"backoff_max": 0.5}, "backoff_max must be at least backoff_initial (1 second by default)"),
        ({"recheck_interval": timedelta(seconds=-1)}, "recheck_interval must be positive"),
        ({"recheck_interval": float("nan")}, "recheck_interval must be finite"),
        ({"endpoint": 8080}, "endpoint must be a str"),
        ({"secure": "no"}, "secure must be a bool"),
        ({"ca_file": 3}, "ca_file must be a str or os.PathLike"),
    ],
)
def test_refresher_argument_validation(tmp_path: Path, kwargs, message):
    store = ma.FileTokenStore(tmp_path / "token.json")
    with pytest.raises(ma.InvalidArgumentError) as e:
        ma.Refresher(store, **kwargs)
    assert message in str(e.value), str(e.value)


def test_refresher_needs_a_store_and_callable_callbacks(tmp_path: Path):
    with pytest.raises(ma.InvalidArgumentError, match="store must be a TokenStore"):
        ma.Refresher(str(tmp_path / "token.json"))  # type: ignore[arg-type]
    with pytest.raises(ma.InvalidArgumentError, match="store must be a TokenStore"):
        ma.Refresher(None)  # type: ignore[arg-type]
    r = ma.Refresher(ma.FileTokenStore(tmp_path / "token.json"))
    try:
        with pytest.raises(ma.InvalidArgumentError, match="callback must be callable"):
            r.subscribe("not callable")  # type: ignore[arg-type]
        # An empty store is a failure event, not an exception.
        ev = r.refresh_now()
        assert ev.failed and ev.error_code == "NOT_FOUND_ERROR"
        assert isinstance(ev.error, ma.NotFoundError)
    finally:
        r.close()


def test_read_only_store_is_a_failed_event(admin: ma.AuthClient, server: Server,
                                          monkeypatch: pytest.MonkeyPatch):
    key = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    monkeypatch.setenv("MA_TEST_RO_TOKEN", key.to_download_json())
    r = make_refresher(ma.EnvironmentTokenStore("MA_TEST_RO_TOKEN"), server.address)
    try:
        ev = r.refresh_now()
        assert ev.failed and ev.error_code == "FAILED_PRECONDITION_ERROR", ev
    finally:
        r.close()


EXIT_SCRIPT = r"""
import sys, threading, time
import momento_auth as ma

path, address, mode = sys.argv[1], sys.argv[2], sys.argv[3]
store = ma.FileTokenStore(path)
seen = []
started = threading.Event()
def slow(ev):
    started.set()
    seen.append(ev)
    time.sleep(0.3 if mode in ("busy", "fork") else 0.01)
    if mode == "raise":
        raise RuntimeError("raised during shutdown")
r = ma.Refresher(store, endpoint=address, secure=False, timeout=5, recheck_interval=0.02)
w = ma.Watcher(store, interval=0.02, endpoint=address, secure=False)
r.subscribe(slow)
w.on_change(slow)
r.start()
r.refresh_now()          # events on their way to both callbacks
started.wait(30)
if mode not in ("busy", "fork"):
    time.sleep(0.2)      # "busy" exits (and "fork" forks) while a callback is still running
if mode == "fork":
    import os
    pid = os.fork()
    if pid == 0:         # the child exits normally (atexit runs) without the parent's threads
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    print("child", os.waitstatus_to_exitcode(status), flush=True)
print("exiting", len(seen) > 0, flush=True)
# No close(): the interpreter exits with both running and events in flight.
"""


@pytest.mark.parametrize("mode", ["plain", "raise", "busy", "fork"])
def test_interpreter_exit_with_everything_running(tmp_path: Path, server: Server,
                                                  admin: ma.AuthClient, mode: str):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    script = tmp_path / "exit_check.py"
    script.write_text(textwrap.dedent(EXIT_SCRIPT))
    p = subprocess.run([PYTHON, str(script), str(tmp_path / "token.json"), server.address, mode],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "exiting True" in p.stdout
    if mode == "raise":
        assert "raised during shutdown" in p.stderr  # reported, not swallowed
    if mode == "fork":
        assert "child 0" in p.stdout
    assert "Fatal Python error" not in p.stderr and "terminate called" not in p.stderr


CTRL_C_SCRIPT = r"""
import socket, sys, threading
import momento_auth as ma

# A peer that accepts and never answers: the refresh lasts until its deadline.
peer = socket.socket()
peer.bind(("127.0.0.1", 0))
peer.listen(4)
conns = []
def accept():
    conn, _ = peer.accept()
    conns.append(conn)
    print("connected", flush=True)
threading.Thread(target=accept, daemon=True).start()

store = ma.FileTokenStore(sys.argv[1])
r = ma.Refresher(store, endpoint="127.0.0.1:%d" % peer.getsockname()[1], secure=False, timeout=5)
events = []
r.subscribe(events.append)
try:
    r.refresh_now()
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    # Raised while the refresh was still in flight: its failure is not known yet.
    print("interrupted", len(events), flush=True)
# The abandoned refresh ends on its own; the interpreter exits normally after it.
"""


def test_ctrl_c_interrupts_refresh_now_on_the_main_thread(tmp_path: Path, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    first = mint_into(admin, store, ma.ExpiresIn.hours(1))
    script = tmp_path / "ctrl_c.py"
    script.write_text(textwrap.dedent(CTRL_C_SCRIPT))
    p = subprocess.Popen([PYTHON, str(script), str(tmp_path / "token.json")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()  # bounded: the child's refresh deadline ends it anyway
        assert line.strip() == "connected", line + p.stderr.read()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    assert p.returncode == 0, err
    assert out.strip() == "interrupted 0", out + err
    assert store.read().api_key == first.api_key
