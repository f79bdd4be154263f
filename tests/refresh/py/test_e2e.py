"""The refresher end to end against momento-auth-server: outage, lost answer, many processes,
kill -9 of writers, and the same flow through AWS Secrets Manager (moto)."""
import json
import os
import random
import time

import pytest


def store_file(tmp_dir):
    return "file:" + os.path.join(tmp_dir, "token.json")


def mint(tool, server, store, lifetime):
    return tool.json("mint", "--store", store, "--server", server.address, "--bootstrap", server.bootstrap,
                     "--expires-in", str(lifetime))


def kinds(lines, kind):
    return [x for x in lines if x.get("kind") == kind]


def assert_no_revocation(server):
    for k in server.keys():
        assert k["state"] != "revoked", k


def test_outage_keeps_the_old_key_and_refreshes_after_the_server_returns(tool, server, tmp_dir):
    store = store_file(tmp_dir)
    # 30 s key, refreshed at half its life (no jitter) so the test stays short.
    first = mint(tool, server, store, 30)
    server.stop()
    proc = tool.spawn("refresher", "--store", store, "--server", server.address, "--fraction", "0.5",
                      "--jitter", "0", "--duration-ms", "60000", "--until-refreshed", "1")
    try:
        # The refresh window opens while the server is down: the attempts fail...
        proc.wait_for(lambda ls: len(kinds(ls, "failed")) >= 2, 45)
        for f in kinds(proc.lines, "failed"):
            assert f["fingerprint"] == first["fingerprint"]
            assert f["code"] in ("SERVER_UNAVAILABLE", "CONNECTION_ERROR", "TIMEOUT_ERROR")
        # ...and the store still holds the old, unexpired key.
        held = tool.json("get", "--store", store)
        assert held["fingerprint"] == first["fingerprint"]
        assert held["validUntil"] > time.time()
        server.restart_same_port()
        # Applications keep working on the old key once the server is back.
        assert tool.json("check", "--store", store, "--server", server.address)["fingerprint"] == first["fingerprint"]
        proc.wait_for(lambda ls: len(kinds(ls, "refreshed")) >= 1, 40)
        refreshed = kinds(proc.lines, "refreshed")[0]
        assert time.time() < first["validUntil"], "the refresh must land before the old key expires"
        assert proc.drain(30) == 0
    finally:
        proc.kill()
    now_held = tool.json("get", "--store", store)
    assert now_held["fingerprint"] == refreshed["fingerprint"] != first["fingerprint"]
    assert now_held["validUntil"] > first["validUntil"] - 1
    assert tool.json("check", "--store", store, "--server", server.address)["ok"]
    assert len([c for c in server.calls("/RefreshApiToken") if c["status"] == "OK"]) == 1
    assert_no_revocation(server)


def test_lost_answer_is_replayed_and_the_family_survives(tool, server, tmp_dir):
    server.extra.append("--enable-faults")  # fault headers are ignored without it
    server.restart_same_port()
    store = store_file(tmp_dir)
    first = mint(tool, server, store, 8)
    # The first RefreshApiToken commits on the server, then its answer is replaced by UNAVAILABLE.
    proc = tool.spawn("refresher", "--store", store, "--server", server.address, "--fraction", "0.5",
                      "--jitter", "0", "--duration-ms", "30000", "--until-refreshed", "1",
                      "--fault", "commit-then-error=unavailable", "--fault", "error-rpcs=RefreshApiToken",
                      "--fault", "error-count=1", "--fault", "request-id=lost-answer-test")
    try:
        proc.wait_for(lambda ls: len(kinds(ls, "refreshed")) >= 1, 30)
        assert proc.drain(30) == 0
    finally:
        proc.kill()
    failed = kinds(proc.lines, "failed")
    assert len(failed) == 1 and failed[0]["code"] == "SERVER_UNAVAILABLE"
    refreshed = kinds(proc.lines, "refreshed")
    assert len(refreshed) == 1 and refreshed[0]["replay"] is True
    calls = server.calls("/RefreshApiToken")
    assert len(calls) == 2, calls  # the lost one and its replay, nothing else
    assert_no_revocation(server)
    held = tool.json("get", "--store", store)
    assert held["fingerprint"] == refreshed[0]["fingerprint"] != first["fingerprint"]
    assert not os.path.exists(os.path.join(tmp_dir, "token.json.inflight"))
    # The family lives on: the next rotation works without a replay.
    out = tool.run("refresher", "--store", store, "--server", server.address, "--loop", "1")
    ev = [json.loads(line) for line in out.stdout.splitlines()]
    assert kinds(ev, "refreshed")[-1]["replay"] is False
    assert tool.json("check", "--store", store, "--server", server.address)["ok"]
    assert_no_revocation(server)


def test_eight_processes_four_threads_one_refresh_per_rotation(tool, server, tmp_dir):
    store = store_file(tmp_dir)
    first = mint(tool, server, store, 4)  # due every ~2 s at fraction 0.5
    procs = [tool.spawn("refresher", "--store", store, "--server", server.address, "--threads", "4",
                        "--refreshers", "2", "--fraction", "0.5", "--jitter", "0.05", "--duration-ms", "14000")
             for _ in range(8)]
    try:
        codes = [p.drain(60) for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert codes == [0] * 8
    lines = [x for p in procs for x in p.lines]
    assert not kinds(lines, "failed"), kinds(lines, "failed")
    refreshed = kinds(lines, "refreshed")
    fps = [x["fingerprint"] for x in refreshed]
    assert len(fps) >= 3, "expected several rotations in 14 s"
    assert len(set(fps)) == len(fps), "one key was produced twice: a rotation was refreshed twice"
    ok_calls = [c for c in server.calls("/RefreshApiToken") if c["status"] == "OK"]
    assert len(server.calls("/RefreshApiToken")) == len(ok_calls) == len(refreshed)
    assert all(x["replay"] is False for x in refreshed)
    # Every process saw the rotations as adoptions: the final key is everyone's.
    final = tool.json("get", "--store", store)
    assert final["fingerprint"] in fps and final["fingerprint"] != first["fingerprint"]
    assert tool.json("check", "--store", store, "--server", server.address)["ok"]
    assert_no_revocation(server)


def test_kill_9_of_writers_never_breaks_the_store(tool, server, tmp_dir):
    store = store_file(tmp_dir)
    mint(tool, server, store, 3600)
    rng = random.Random(20261128)
    writes = rounds = 0
    replays = 0
    deadline = time.monotonic() + 420  # a sanitizer build needs minutes; a plain one seconds
    while (writes < 200 or rounds < 40) and time.monotonic() < deadline:
        rounds += 1
        proc = tool.spawn("refresher", "--store", store, "--server", server.address, "--loop", "100000")
        # Once its first refresh (a replay, when the previous writer died mid-flight) is done:
        # a build that starts slowly (sanitizers) must not be killed before it can replay inside
        # the server's grace window, or each round would only age the journal.
        proc.wait_for(lambda ls: len(ls) >= 1, 60)
        time.sleep(rng.uniform(0.02, 0.35))
        proc.kill()  # SIGKILL, wherever it is: in the RPC, the journal, the rename or the fsync
        proc.drain(10)
        done = kinds(proc.lines, "refreshed")
        writes += len(done)
        replays += sum(1 for x in done if x["replay"])
        assert not [x for x in kinds(proc.lines, "failed") if x["code"] == "AUTHENTICATION_ERROR"], proc.lines
        held = tool.json("get", "--store", store)  # always parses
        assert held["validUntil"] > time.time()
        assert tool.json("check", "--store", store, "--server", server.address)["fingerprint"] == held["fingerprint"]
    assert writes >= 200 and rounds >= 40, f"only {writes} writes in {rounds} rounds"
    # The refresh token in the store still works (by replay if a refresh was in flight).
    tool.run("refresher", "--store", store, "--server", server.address, "--loop", "1")
    assert tool.json("check", "--store", store, "--server", server.address)["ok"]
    assert_no_revocation(server)
    print(f"{writes} writes over {rounds} kills, {replays} recovered by replay")


def test_secrets_manager_flow_with_a_reader_in_another_process(tool, server, aws_env, boto_sm):
    t = tool.with_env(**aws_env)
    store = "aws-sm:momento/fleet"
    first = mint(t, server, store, 6)
    reader = t.spawn("watch", "--store", store, "--period-ms", "100", "--count", "3", "--timeout-ms", "60000")
    proc = t.spawn("refresher", "--store", store, "--server", server.address, "--fraction", "0.5",
                   "--jitter", "0", "--duration-ms", "45000", "--until-refreshed", "2")
    try:
        assert proc.drain(60) == 0
        assert reader.drain(30) == 0
    finally:
        proc.kill()
        reader.kill()
    refreshed = [x["fingerprint"] for x in kinds(proc.lines, "refreshed")]
    assert len(refreshed) == 2
    assert [x["fingerprint"] for x in reader.lines] == [first["fingerprint"], *refreshed]
    value = json.loads(boto_sm.get_secret_value(SecretId="momento/fleet")["SecretString"])
    assert set(value) == {"authToken", "refreshToken", "validUntil"}
    versions = boto_sm.describe_secret(SecretId="momento/fleet")["VersionIdsToStages"]
    assert sorted(s for st in versions.values() for s in st) == ["AWSCURRENT", "AWSPREVIOUS"]
    assert t.json("check", "--store", store, "--server", server.address)["ok"]
    assert_no_revocation(server)
