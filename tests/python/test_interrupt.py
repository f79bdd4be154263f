"""Ctrl-C on the main thread: the call runs on a worker thread and is cancelled through the
library's cancel token. These check the cases around it: a Python SIGINT handler of the user's,
an ignored SIGINT, other threads sharing the client, and a forked child."""

from __future__ import annotations

import signal
import subprocess
import textwrap

import pytest

from conftest import PYTHON, Server

_PRELUDE = textwrap.dedent(
    """
    import os, signal, sys, threading, momento_auth as ma
    hole, real, key = sys.argv[1], sys.argv[2], sys.argv[3]
    def client(addr, **kw):
        return ma.AuthClient(ma.CredentialProvider.from_string(key, endpoint=addr, secure=False), **kw)
    def mint(c):
        return c.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    """
)


def _run_child(body: str, server: Server, blackhole, *, signal_after_connect: bool = True):
    """Runs `body` in a fresh interpreter; once it printed "calling <pid>" and its call reached
    the blackhole, sends SIGINT to that pid. Returns (stdout lines, stderr, returncode)."""
    proc = subprocess.Popen(
        [PYTHON, "-c", _PRELUDE + textwrap.dedent(body), blackhole.address, server.address, server.super_key],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline().split()
        assert first[:1] == ["calling"], (first, proc.stderr.read() if proc.poll() is not None else "")
        target = int(first[1])
        assert blackhole.connected.wait(20), "the call never reached the peer"
        import os

        os.kill(target, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out.split(), err, proc.returncode


def test_user_handler_runs_and_its_exception_ends_the_call(server: Server, blackhole):
    out, err, rc = _run_child(
        """
        class Stop(Exception):
            pass
        def handler(signum, frame):
            print("handler", flush=True)
            raise Stop()
        signal.signal(signal.SIGINT, handler)
        c = client(hole, timeout=120)
        print("calling", os.getpid(), flush=True)
        try:
            mint(c)
            print("returned", flush=True)
        except Stop:
            print("stopped", flush=True)
        # Both the interrupted client's library state and other clients still work.
        print("minted" if mint(client(real)).api_key else "empty", flush=True)
        """,
        server, blackhole,
    )
    assert out == ["handler", "stopped", "minted"], (out, err)
    assert rc == 0, err


@pytest.mark.parametrize("change", ["new", "same-again"])
def test_handler_set_between_calls_still_gets_ctrl_c(server: Server, blackhole, change):
    # Setting a handler displaces the library's own: a new handler object is noticed by the next
    # call; putting back the same object (as asyncio.run does on exit) within a second. Either
    # way Ctrl-C still cancels the call (without the library's handler it would run on until
    # the peer times out).
    out, err, rc = _run_child(
        f"""
        import time
        seen = []
        def handler(signum, frame):
            seen.append(signum)
        def other(signum, frame):
            seen.append(signum)
        signal.signal(signal.SIGINT, handler)
        mint(client(real))  # the first call puts the library's handler in front
        if {change!r} == "new":
            signal.signal(signal.SIGINT, other)
        else:
            signal.signal(signal.SIGINT, handler)
            time.sleep(1.2)
        c = client(hole, timeout=120)
        print("calling", os.getpid(), flush=True)
        try:
            mint(c)
            print("returned", flush=True)
        except ma.CancelledError:
            print("cancelled", flush=True)
        except ma.MomentoError as e:
            print(type(e).__name__, flush=True)
        print("handler-ran" if seen == [signal.SIGINT] else "handler-missing", flush=True)
        """,
        server, blackhole,
    )
    assert out == ["cancelled", "handler-ran"], (out, err)
    assert rc == 0, err


def test_user_handler_that_does_not_raise_leaves_a_cancelled_error(server: Server, blackhole):
    out, err, rc = _run_child(
        """
        seen = []
        signal.signal(signal.SIGINT, lambda s, f: seen.append(s))
        c = client(hole, timeout=120)
        print("calling", os.getpid(), flush=True)
        try:
            mint(c)
            print("returned", flush=True)
        except ma.CancelledError:
            print("cancelled", flush=True)
        print("handler-ran" if seen == [signal.SIGINT] else "handler-missing", flush=True)
        # The next call on the main thread is not affected by the earlier cancellation.
        print("minted" if mint(client(real)).api_key else "empty", flush=True)
        """,
        server, blackhole,
    )
    assert out == ["cancelled", "handler-ran", "minted"], (out, err)
    assert rc == 0, err


def test_ignored_sigint_does_not_cancel(server: Server, blackhole):
    out, err, rc = _run_child(
        """
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        c = client(hole, timeout=3)
        print("calling", os.getpid(), flush=True)
        try:
            mint(c)
        except ma.MomentoTimeoutError:
            print("timed-out", flush=True)
        except ma.CancelledError:
            print("cancelled", flush=True)
        """,
        server, blackhole,
    )
    assert out == ["timed-out"], (out, err)
    assert rc == 0, err


def test_other_threads_calls_on_the_same_client_are_not_cancelled(server: Server, blackhole):
    out, err, rc = _run_child(
        """
        c = client(hole, timeout=8)
        outcome = []
        def other():
            try:
                mint(c)
                outcome.append("returned")
            except ma.MomentoError as e:
                outcome.append(type(e).__name__)
        t = threading.Thread(target=other)
        t.start()
        try:
            # Inside the try: the peer may already hold the other thread's call, so the signal
            # can arrive before this thread's call starts.
            print("calling", os.getpid(), flush=True)
            mint(c)
            print("returned", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        t.join(60)
        print("thread", *outcome, flush=True)
        """,
        server, blackhole,
    )
    assert out == ["interrupted", "thread", "MomentoTimeoutError"], (out, err)
    assert rc == 0, err


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_forked_child_calls_stay_interruptible(server: Server, blackhole):
    out, err, rc = _run_child(
        """
        import warnings
        warnings.simplefilter("ignore")  # fork() with threads running warns on 3.12+
        # An interruptible main-thread call that fails before any RPC: it starts this process's
        # watcher and installs/restores the handler, but leaves gRPC untouched (gRPC itself does
        # not support being used on both sides of a fork).
        try:
            client(real).generate_disposable_token(ma.AllDataReadOnly, ma.ExpiresIn.hours(1), token_id="x" * 65)
        except ma.InvalidArgumentError:
            pass
        pid = os.fork()
        if pid == 0:
            try:
                c = client(hole, timeout=120)
                print("calling", os.getpid(), flush=True)
                try:
                    mint(c)
                    print("returned", flush=True)
                except KeyboardInterrupt:
                    print("child-interrupted", flush=True)
                print("child-minted" if mint(client(real)).api_key else "child-empty", flush=True)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        print("child-exit", os.waitstatus_to_exitcode(status), flush=True)
        """,
        server, blackhole,
    )
    assert out == ["child-interrupted", "child-minted", "child-exit", "0"], (out, err)
    assert rc == 0, err
