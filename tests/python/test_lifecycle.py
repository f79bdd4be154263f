"""Lifetimes and process behaviour: close during a call, garbage collection in any order,
Ctrl-C during a long call, and living in one process with grpcio and protobuf."""

from __future__ import annotations

import gc
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import weakref

import pytest

import momento_auth as ma
from conftest import PYTHON, Server


def test_close_while_another_thread_is_inside_a_call(server: Server, blackhole):
    p = ma.CredentialProvider.from_string(server.super_key, endpoint=blackhole.address, secure=False)
    client = ma.AuthClient(p, timeout=3)
    outcome = []

    def call():
        try:
            client.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
            outcome.append("ok")
        except ma.MomentoError as e:
            outcome.append(e)

    t = threading.Thread(target=call)
    t.start()
    assert blackhole.connected.wait(10), "the call never reached the peer"
    client.close()  # must neither crash nor free what the call still uses
    assert client.closed
    client.close()
    with pytest.raises(ma.FailedPreconditionError):
        client.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    t.join(30)
    assert not t.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ma.MomentoTimeoutError)


def test_close_while_many_calls_run(server: Server):
    client = server.client()
    stop = threading.Event()
    seen = {"ok": 0, "closed": 0}
    lock = threading.Lock()

    def loop():
        for _ in range(200):  # bounded
            if stop.is_set():
                return
            try:
                client.generate_api_key(ma.AllDataReadOnly, ma.ExpiresIn.minutes(5))
                kind = "ok"
            except ma.FailedPreconditionError:
                kind = "closed"
            with lock:
                seen[kind] += 1
            if kind == "closed":
                return

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(500):
        with lock:
            if seen["ok"] >= 8:
                break
        threading.Event().wait(0.01)
    client.close()
    stop_after = threading.Timer(30, stop.set)
    stop_after.start()
    for t in threads:
        t.join(60)
    stop_after.cancel()
    assert all(not t.is_alive() for t in threads)
    assert seen["ok"] >= 8 and seen["closed"] == 4


def _make_objects(server: Server):
    provider = server.provider()
    client = ma.AuthClient(provider)
    scope = ma.PermissionScopes.cache_read_write("gc") + ma.PermissionScopes.topic_publish_only("gc", "t")
    lifetime = ma.ExpiresIn.minutes(5)
    key = client.generate_api_key(scope, lifetime)
    return {"provider": provider, "client": client, "scope": scope, "lifetime": lifetime, "key": key}


def test_garbage_collection_in_any_order(server: Server):
    names = ["provider", "client", "scope", "lifetime", "key"]
    for order in itertools.permutations(names):
        objs = _make_objects(server)
        refs = {n: weakref.ref(objs[n]) for n in names if n != "key"}
        key_text = objs["key"].api_key
        for n in order:
            obj = objs.pop(n)
            if n == "key":
                # A result outlives the client that made it.
                assert obj.api_key == key_text and obj.expires_at.does_expire()
            del obj
            gc.collect()
            # Whatever is left still works.
            if "client" in objs and "scope" in objs and "lifetime" in objs:
                assert objs["client"].generate_api_key(objs["scope"], objs["lifetime"]).api_key
            if "provider" in objs:
                assert objs["provider"].kind == "v1_envelope"
        for n, r in refs.items():
            assert r() is None, f"{n} was not freed"


def test_client_that_was_never_opened_or_is_opened_twice(server: Server):
    # An AuthClient made without __init__ (copy, pickle protocols) acts closed; __init__ cannot
    # swap the connection under calls that other threads may be making.
    bare = ma.AuthClient.__new__(ma.AuthClient)
    assert bare.closed and repr(bare) == "AuthClient(closed)"
    for call in (lambda: bare.refresh_api_key("rt"),
                 lambda: bare.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))):
        with pytest.raises(ma.FailedPreconditionError, match="closed"):
            call()
    bare.close()
    with ma.AuthClient(server.provider()) as client:
        with pytest.raises(ma.FailedPreconditionError, match="already open"):
            client.__init__(server.provider())
        assert client.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1)).api_key


def test_objects_held_only_by_a_running_call(server: Server, blackhole):
    # The caller drops every reference while another thread is inside a call that uses them.
    p = ma.CredentialProvider.from_string(server.super_key, endpoint=blackhole.address, secure=False)
    holder = {"client": ma.AuthClient(p, timeout=2),
              "scope": ma.PermissionScopes.cache_read_only("x"), "life": ma.ExpiresIn.hours(1)}
    errors = []

    def call(c, s, l):
        try:
            c.generate_api_key(s, l)
        except ma.MomentoError as e:
            errors.append(e)

    t = threading.Thread(target=call, args=(holder["client"], holder["scope"], holder["life"]))
    t.start()
    del p
    holder.clear()
    gc.collect()
    t.join(30)
    assert not t.is_alive() and len(errors) == 1 and isinstance(errors[0], ma.MomentoTimeoutError)


# ---- Ctrl-C ---------------------------------------------------------------------------------

_INTERRUPT_CHILD = textwrap.dedent(
    """
    import sys, momento_auth as ma
    hole, real, key = sys.argv[1], sys.argv[2], sys.argv[3]
    c = ma.AuthClient(ma.CredentialProvider.from_string(key, endpoint=hole, secure=False), timeout=120)
    print("calling", flush=True)
    try:
        c.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
        print("returned", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    # The process stays usable after the interrupt.
    with ma.AuthClient(ma.CredentialProvider.from_string(key, endpoint=real, secure=False)) as ok:
        print("minted" if ok.generate_api_key(ma.AllDataReadOnly, ma.ExpiresIn.hours(1)).api_key else "empty", flush=True)
    c.close()
    """
)


def test_keyboard_interrupt_during_a_long_call(server: Server, blackhole):
    proc = subprocess.Popen(
        [PYTHON, "-c", _INTERRUPT_CHILD, blackhole.address, server.address, server.super_key],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "calling"
        assert blackhole.connected.wait(20), "the child's call never reached the peer"
        proc.send_signal(signal.SIGINT)
        # The call's deadline is 120 s: finishing well inside this bound means Ctrl-C worked and
        # the abandoned call did not hold the process at exit.
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.split() == ["interrupted", "minted"], (out, err)
    assert proc.returncode == 0, err


def test_uncaught_keyboard_interrupt_exits(server: Server, blackhole):
    child = textwrap.dedent(
        """
        import sys, momento_auth as ma
        c = ma.AuthClient(ma.CredentialProvider.from_string(sys.argv[2], endpoint=sys.argv[1], secure=False), timeout=120)
        print("calling", flush=True)
        c.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
        """
    )
    proc = subprocess.Popen([PYTHON, "-c", child, blackhole.address, server.super_key],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "calling"
        assert blackhole.connected.wait(20)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "KeyboardInterrupt" in err
    assert proc.returncode != 0 and proc.returncode != -signal.SIGSEGV and proc.returncode != -signal.SIGABRT


# ---- grpcio and protobuf in the same process -------------------------------------------------

_MIXED = textwrap.dedent(
    """
    import sys
    order, address, key = sys.argv[1], sys.argv[2], sys.argv[3]
    if order == "ours-first":
        import momento_auth as ma
        import grpc
        from google.protobuf import struct_pb2
    else:
        import grpc
        from google.protobuf import struct_pb2
        import momento_auth as ma
    # protobuf (PyPI) works
    s = struct_pb2.Struct(); s.update({"a": 1.5})
    assert struct_pb2.Struct.FromString(s.SerializeToString())["a"] == 1.5
    # grpcio (PyPI) talks to the server: Ping with an empty message
    with grpc.insecure_channel(address) as ch:
        ping = ch.unary_unary("/cache_client.Ping/Ping", request_serializer=None, response_deserializer=None)
        assert ping(b"", timeout=10) == b""
    # and so does momento_auth
    with ma.AuthClient(ma.CredentialProvider.from_string(key, endpoint=address, secure=False)) as c:
        assert c.generate_api_key(ma.AllDataReadOnly, ma.ExpiresIn.hours(1)).api_key
    print("ok", grpc.__version__)
    """
)


@pytest.mark.parametrize("order", ["ours-first", "theirs-first"])
def test_same_process_as_grpcio_and_protobuf(server: Server, order):
    pytest.importorskip("grpc")
    pytest.importorskip("google.protobuf")
    r = subprocess.run([PYTHON, "-c", _MIXED, order, server.address, server.super_key],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("ok"), (r.stdout, r.stderr)


def test_keyboard_interrupt_with_a_direct_client_waits_for_the_deadline(server: Server, blackhole):
    # interruptible=False: no SIGINT handler, no cancellation; Ctrl-C is seen once the call ends
    # at its 2 s deadline.
    child = textwrap.dedent(
        """
        import sys, momento_auth as ma
        c = ma.AuthClient(ma.CredentialProvider.from_string(sys.argv[2], endpoint=sys.argv[1], secure=False),
                          timeout=2, interruptible=False)
        print("calling", flush=True)
        try:
            c.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        except ma.MomentoTimeoutError:
            print("timed out", flush=True)
        """
    )
    proc = subprocess.Popen([PYTHON, "-c", child, blackhole.address, server.super_key],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "calling"
        assert blackhole.connected.wait(20)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The call ended by its deadline and the interrupt surfaced right after it.
    assert "KeyboardInterrupt" in err or "interrupted" in out, (out, err)
    assert proc.returncode not in (-signal.SIGSEGV, -signal.SIGABRT)
