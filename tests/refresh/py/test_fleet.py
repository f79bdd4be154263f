"""Several hosts, one secret: 8 `momento-auth keep-fresh` daemons that share nothing but one AWS
Secrets Manager secret (separate processes, no common file or lock) refresh once per rotation and
all pick the new key up, while daemons are killed with SIGKILL at random moments and replaced.
They coordinate through the secret (a claim version per AWSCURRENT version; see docs/refresh.md).

Stands in for AWS: moto server, served one request at a time as Secrets Manager applies one
write per ClientRequestToken atomically (moto's threaded server checks and inserts without a
lock). The auth server is the real momento-auth-server; its key list and call log count the
refreshes.

MOMENTO_FLEET_SECONDS sets how long the kills go on (20 by default, short for CI)."""
import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid

import pytest

from conftest import aws_env_for
from test_keep_fresh_ops import Daemon, cli  # noqa: F401

DAEMONS = 8
LIFETIME = 24  # s; refreshed at half its life, so a rotation every ~12 s
KILL_SECONDS = float(os.environ.get("MOMENTO_FLEET_SECONDS", "20"))


@pytest.fixture
def serial_moto(tmp_dir):
    try:
        from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server
    except ImportError:
        pytest.skip("moto[server] is not installed in the test venv")
    srv = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=False,
                      request_handler=MotoRequestHandler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{srv.server_port}"
    yield url, aws_env_for(url, tmp_dir)
    srv.shutdown()
    thread.join(10)


def test_eight_daemons_one_secret_one_refresh_per_rotation_with_kills(tool, server, serial_moto, cli):
    url, aws_env = serial_moto
    secret = f"momento/fleet-{uuid.uuid4().hex[:8]}"
    store = "aws-sm:" + secret
    t = tool.with_env(**aws_env)
    first = t.json("mint", "--store", store, "--server", server.address, "--bootstrap", server.bootstrap,
                   "--expires-in", str(LIFETIME))
    env = dict(os.environ, **aws_env)

    def spawn():
        d = Daemon([cli, "--endpoint", server.address, "--insecure", "--timeout", "5s", "keep-fresh",
                    "--store", store, "--refresh-fraction", "0.5", "--log-format", "json"], env=env)
        return d

    rng = random.Random(20261206)
    live = [spawn() for _ in range(DAEMONS)]
    dead = []
    kills = 0
    try:
        end = time.monotonic() + KILL_SECONDS
        while time.monotonic() < end:
            for d in live:
                d.pump(0)
            time.sleep(rng.uniform(0.5, 2.5))
            victim = live.pop(rng.randrange(len(live)))
            victim.proc.send_signal(signal.SIGKILL)  # wherever it is: claiming, refreshing, writing
            victim.proc.wait(10)
            victim.pump(0.1)
            dead.append(victim)
            kills += 1
            live.append(spawn())
        # Then no more kills: a rotation that every daemon picks up, then one more, with every
        # daemon alive from its start to its end. That one must cost exactly one refresh call.
        def ok_calls():
            return len([c for c in server.calls("/RefreshApiToken") if c["status"] == "OK"])

        def next_rotation(held):
            deadline = time.monotonic() + LIFETIME + 20
            while True:
                cur = t.json("get", "--store", store)
                last = []
                for d in live:
                    d.pump(0)
                    ok = [e for e in d.events() if e.get("event") in ("adopted", "refreshed")]
                    last.append(ok[-1]["fingerprint"] if ok else None)
                if cur["fingerprint"] != held and all(fp == cur["fingerprint"] for fp in last):
                    return cur["fingerprint"]
                assert time.monotonic() < deadline, f"no rotation picked up by every daemon: {last}"
                time.sleep(0.3)

        settled = next_rotation(t.json("get", "--store", store)["fingerprint"])
        before = ok_calls()
        next_rotation(settled)
        quiet_calls = ok_calls() - before
        codes = [d.stop() for d in live]
    finally:
        for d in live + dead:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait(10)
    assert codes == [0] * DAEMONS, [d.err for d in live]
    assert quiet_calls == 1, f"{quiet_calls} refresh calls for one rotation among {DAEMONS} live daemons"

    events = [e for d in live + dead for e in d.events()]
    refreshed = [e for e in events if e.get("event") == "refreshed"]
    new_keys = {e["fingerprint"] for e in refreshed}
    # Every rotation happened once: the server made exactly one key per rotation, in one
    # family that nobody revoked, and each refreshed key shows up in the store's history.
    keys = server.keys()
    assert all(k["state"] != "revoked" for k in keys), keys
    families = {k["family_id"] for k in keys if k["family_id"]}
    assert len(families) == 1
    family_keys = [k for k in keys if k["family_id"] in families]
    assert len(family_keys) == len(new_keys) + 1, (len(family_keys), len(new_keys))
    assert len(new_keys) >= 2, "expected at least two rotations"
    calls = [c for c in server.calls("/RefreshApiToken") if c["status"] == "OK"]
    replays = [e for e in refreshed if e["replay"]]
    # A second call for one rotation is only ever a replay after a kill (same answer, no new key).
    assert len(calls) <= len(new_keys) + kills, (len(calls), len(new_keys), kills)
    assert len(replays) <= kills
    # No refresh token was refused or reused: nothing failed on authentication.
    assert not [e for e in events if e.get("event") == "failed" and e.get("error_code") == "AUTHENTICATION_ERROR"]
    # Every daemon ends with the stored key, and it has not expired.
    final = t.json("get", "--store", store)
    assert final["fingerprint"] in new_keys and final["fingerprint"] != first["fingerprint"]
    assert final["validUntil"] > time.time()
    assert t.json("check", "--store", store, "--server", server.address)["ok"]
    print(f"{len(new_keys)} rotations, {kills} kills, {len(calls)} refresh calls, {len(replays)} replays")


def test_a_refresher_killed_holding_the_claim_is_taken_over_by_a_replay(tool, server, serial_moto):
    # The holder dies after sending its refresh (the server holds the call 3 s): its claim stays
    # in the secret, and the next refresher, on another "host", waits for it to go stale, then
    # replays the same refresh token within the server's window: one new key, nothing revoked.
    server.extra.append("--enable-faults")
    server.restart_same_port()
    url, aws_env = serial_moto
    secret = f"momento/takeover-{uuid.uuid4().hex[:8]}"
    store = "aws-sm:" + secret
    t = tool.with_env(**aws_env)
    first = t.json("mint", "--store", store, "--server", server.address, "--bootstrap", server.bootstrap,
                   "--expires-in", "3600")
    holder = t.spawn("refresher", "--store", store, "--server", server.address, "--loop", "1",
                     "--fault", "delay-ms=3000", "--fault", "delay-rpcs=RefreshApiToken")
    deadline = time.monotonic() + 30
    # The claim shows in the secret before the refresh is sent.
    while not any("MOMENTO_REFRESH_CLAIM" in st for st in t.json("versions", "--store", store).values()):
        assert time.monotonic() < deadline, "the holder never claimed"
        time.sleep(0.05)
    time.sleep(0.5)  # inside the delayed RefreshApiToken
    holder.kill()
    taker = t.spawn("refresher", "--store", store, "--server", server.address, "--loop", "1")
    assert taker.drain(60) == 0
    refreshed = kinds_of(taker.lines, "refreshed")
    assert len(refreshed) == 1 and refreshed[0]["replay"] is True, taker.lines
    held = t.json("get", "--store", store)
    assert held["fingerprint"] == refreshed[0]["fingerprint"] != first["fingerprint"]
    keys = server.keys()
    assert all(k["state"] != "revoked" for k in keys), keys
    family = [k for k in keys if k["family_id"]]
    assert len(family) == 2, family  # one rotation, whether or not the dead holder's call committed
    assert t.json("check", "--store", store, "--server", server.address)["ok"]


def kinds_of(lines, kind):
    return [x for x in lines if x.get("kind") == kind]
