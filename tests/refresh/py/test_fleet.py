"""Several hosts, one secret: 8 `momento-auth keep-fresh` daemons that share nothing but one AWS
Secrets Manager secret (separate processes, no common file or lock) refresh once per rotation and
all pick the new key up, while daemons are killed with SIGKILL at random moments and replaced.
They coordinate through the secret (a claim version per AWSCURRENT version; see docs/refresh.md).

Stands in for AWS: moto's threaded server (a thread per request, so the daemons' calls really
interleave), with each Secrets Manager call applied atomically as Secrets Manager does (moto's own
check-then-insert of a ClientRequestToken is not; see conftest.SecretsManagerCalls). Two kills are
not left to chance: the test sees every write reach the store, so it kills the daemon holding the
claim (its pid is in the claim's owner id) right after its claim is written, and, on a later
rotation, kills the holder as it writes the refreshed key, dropping that write: the key the
server made is then only recoverable by a replay. The auth server is the real
momento-auth-server; its key list and call log count the refreshes.

MOMENTO_FLEET_SECONDS sets how long the random kills go on (20 by default, short for CI)."""
import json
import os
import random
import signal
import time
import uuid

from test_keep_fresh_ops import Daemon, cli  # noqa: F401

DAEMONS = 8
LIFETIME = 30  # s; refreshed at half its life, so a rotation every ~15 s
KILL_SECONDS = float(os.environ.get("MOMENTO_FLEET_SECONDS", "20"))


class HolderKiller:
    """Runs inside moto's Secrets Manager lock (SecretsManagerCalls.on_put): kills the claim's
    holder at a chosen point, once per armed plan step."""

    def __init__(self, pids):
        self.pids = pids  # pid -> Daemon, kept by the test thread
        self.plan = ["claim", "write"]
        self.holder = None  # the owner id of the latest claim written
        self.kills = []  # (step, pid)
        self.armed_at = 0.0

    def owner_pid(self, owner):
        """The pid in a claim's owner id (host:pid:random), when it is one of our live daemons."""
        parts = owner.split(":")
        pid = int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else None
        d = self.pids.get(pid)
        return pid if d is not None and d.proc.poll() is None else None

    def __call__(self, secret_string, apply):
        claim = None
        try:
            claim = json.loads(secret_string or "").get("momentoRefreshClaim")
        except (ValueError, AttributeError):
            pass
        step = self.plan[0] if self.plan and time.monotonic() >= self.armed_at else None
        if claim is not None:
            apply()
            self.holder = claim["owner"]
            pid = self.owner_pid(self.holder)
            if step == "claim" and pid is not None:
                os.kill(pid, signal.SIGKILL)  # holding the claim, before its refresh is sent
                self.kills.append(("claim", pid))
                self.plan.pop(0)
                self.armed_at = time.monotonic() + LIFETIME / 2  # the next step on a later rotation
            return
        pid = self.owner_pid(self.holder or "")
        if step == "write" and pid is not None:
            # The holder refreshed at the server and is writing the new key: it dies, and the
            # write never reaches the store. The claim stays as the journal of that refresh.
            os.kill(pid, signal.SIGKILL)
            self.kills.append(("write", pid))
            self.plan.pop(0)
            return
        apply()


def test_eight_daemons_one_secret_one_refresh_per_rotation_with_kills(tool, server, threaded_moto, cli):
    url, aws_env, calls = threaded_moto
    secret = f"momento/fleet-{uuid.uuid4().hex[:8]}"
    store = "aws-sm:" + secret
    t = tool.with_env(**aws_env)
    first = t.json("mint", "--store", store, "--server", server.address, "--bootstrap", server.bootstrap,
                   "--expires-in", str(LIFETIME))
    env = dict(os.environ, **aws_env)

    def spawn():
        d = Daemon([cli, "--endpoint", server.address, "--insecure", "--timeout", "5s", "keep-fresh",
                    "--store", store, "--refresh-fraction", "0.5", "--json"], env=env)
        pids[d.proc.pid] = d
        return d

    pids = {}
    killer = HolderKiller(pids)
    rng = random.Random(20261206)
    live = [spawn() for _ in range(DAEMONS)]
    dead = []
    kills = 0
    calls.on_put = killer
    try:
        def replace_dead():
            for d in list(live):
                if d.proc.poll() is not None:  # killed by the plan, inside moto
                    d.pump(0.1)
                    live.remove(d)
                    dead.append(d)
                    live.append(spawn())

        # Random kills for KILL_SECONDS, and on until both planned kills have happened.
        end = time.monotonic() + KILL_SECONDS
        give_up = end + 4 * LIFETIME
        while time.monotonic() < end or killer.plan:
            assert time.monotonic() < give_up, f"planned kills not reached: {killer.plan}"
            for d in live:
                d.pump(0)
            replace_dead()
            time.sleep(rng.uniform(0.5, 2.5))
            if time.monotonic() >= end:
                continue
            victim = live.pop(rng.randrange(len(live)))
            victim.proc.send_signal(signal.SIGKILL)  # wherever it is: claiming, refreshing, writing
            victim.proc.wait(10)
            victim.pump(0.1)
            dead.append(victim)
            kills += 1
            live.append(spawn())
        calls.on_put = None
        replace_dead()

        # Then no more kills: a rotation that every daemon picks up, then one more, with every
        # daemon alive from its start to its end. That one must cost exactly one refresh call.
        def ok_calls():
            return len([c for c in server.calls("/RefreshApiToken") if c["status"] == "OK"])

        def next_rotation(held):
            deadline = time.monotonic() + LIFETIME + 25
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
        calls.on_put = None
        for d in live + dead:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait(10)
    assert codes == [0] * DAEMONS, [d.err for d in live]
    assert quiet_calls == 1, f"{quiet_calls} refresh calls for one rotation among {DAEMONS} live daemons"
    assert [k[0] for k in killer.kills] == ["claim", "write"], killer.kills
    kills += len(killer.kills)

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
    assert len(new_keys) >= 3, "expected at least three rotations"
    calls_ok = [c for c in server.calls("/RefreshApiToken") if c["status"] == "OK"]
    replays = [e for e in refreshed if e["replay"]]
    # The write dropped with its holder: whoever took the claim over replayed that refresh.
    assert replays, "the refresh whose write was lost was not replayed"
    # A second call for one rotation is only ever a replay after a kill (same answer, no new key).
    assert len(calls_ok) <= len(new_keys) + kills, (len(calls_ok), len(new_keys), kills)
    assert len(replays) <= kills
    # No refresh token was refused or reused: nothing failed on authentication.
    assert not [e for e in events if e.get("event") == "failed" and e.get("error_code") == "AUTHENTICATION_ERROR"]
    # Every daemon ends with the stored key, and it has not expired.
    final = t.json("get", "--store", store)
    assert final["fingerprint"] in new_keys and final["fingerprint"] != first["fingerprint"]
    assert final["validUntil"] > time.time()
    assert t.json("check", "--store", store, "--server", server.address)["ok"]
    print(f"{len(new_keys)} rotations, {kills} kills ({len(killer.kills)} of a claim holder), "
          f"{len(calls_ok)} refresh calls, {len(replays)} replays")


def test_a_refresher_killed_holding_the_claim_is_taken_over_by_a_replay(tool, server, threaded_moto):
    # The holder dies after sending its refresh (the server holds the call 3 s): its claim stays
    # in the secret, and the next refresher, on another "host", waits for it to go stale, then
    # replays the same refresh token within the server's window: one new key, nothing revoked.
    server.extra.append("--enable-faults")
    server.restart_same_port()
    url, aws_env, _ = threaded_moto
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
