"""The Secrets Manager rotation function (momento_auth.aws_rotation) against a real moto server
and a real momento-auth-server: the four steps in order, each re-run, failures between steps
and between the refresh and its write. The server's own key list counts the refreshes (keys per
refresh family) and shows whether a family was revoked.

Stands in for AWS: moto server (Secrets Manager). Secrets Manager's invocation of the Lambda is
played by the tests calling the steps; moto cannot run a Lambda here (it needs Docker)."""

from __future__ import annotations

import json
import logging
import subprocess
import uuid
from pathlib import Path
from typing import Dict, List

import pytest

import momento_auth as ma
from conftest import server_bin
from refresh_helpers import boto_client, moto, own_server  # noqa: F401

rot = pytest.importorskip("momento_auth.aws_rotation")
pytest.importorskip("boto3")



@pytest.fixture
def secret() -> str:
    # moto keeps its state per process, across servers: every test has a secret of its own.
    return f"momento/authentication-token-{uuid.uuid4().hex[:8]}"


def families(server) -> Dict[str, List[dict]]:
    out = subprocess.run([server_bin(), "admin", "list-keys", "--json", "--data-dir", str(server.data)],
                         check=True, capture_output=True, text=True).stdout
    fams: Dict[str, List[dict]] = {}
    for k in json.loads(out):
        if k["family_id"]:
            fams.setdefault(k["family_id"], []).append(k)
    return fams


def only_family(server) -> List[dict]:
    fams = families(server)
    assert len(fams) == 1, fams
    keys = next(iter(fams.values()))
    assert all(k["state"] != "revoked" for k in keys), keys
    return keys


def seed(server, sm, name: str) -> ma.ApiKeyResult:
    """A refreshable key in the secret, in the shape Momento's refresh function writes
    (validUntil as a string), with a member of the user's own that must survive rotation."""
    with server.admin() as admin:
        key = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    doc = {"authToken": key.api_key, "refreshToken": key.refresh_token,
           "validUntil": str(key.expires_at.epoch()), "owner": "team-a"}
    sm.create_secret(Name=name, SecretString=json.dumps(doc))
    return key


def current(sm, name: str) -> dict:
    return json.loads(sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"])


def rotation(server, sm, **kw) -> "rot.Rotation":
    return rot.Rotation(sm, endpoint=server.address, secure=False, **kw)


@pytest.fixture
def rig(moto: str, own_server, secret: str):
    """A seeded secret, its key, a Rotation against the test's server, and a new rotation token."""
    sm = boto_client(moto)
    old = seed(own_server, sm, secret)
    return sm, old, rotation(own_server, sm), str(uuid.uuid4())


STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]


def test_four_steps_in_order_each_repeated(rig, own_server, secret: str, caplog):
    caplog.set_level(logging.DEBUG, logger="momento_auth.aws_rotation")
    sm, old, r, token = rig
    for step in STEPS:
        r.step(step, secret, token)
        r.step(step, secret, token)  # Secrets Manager may deliver any step twice
        if step != "finishSecret":
            assert current(sm, secret)["authToken"] == old.api_key  # readers keep the old key until the end

    doc = current(sm, secret)
    assert doc["authToken"] != old.api_key and doc["refreshToken"] != old.refresh_token
    assert isinstance(doc["validUntil"], str) and int(doc["validUntil"]) >= old.expires_at.epoch()
    assert doc["owner"] == "team-a"
    stages = sm.describe_secret(SecretId=secret)["VersionIdsToStages"]
    assert stages[token] == ["AWSCURRENT"]  # AWSPENDING removed: no rotation is left in progress
    assert len(only_family(own_server)) == 2  # exactly one refresh for all the repeats

    # The next rotation, as the scheduled function runs it, starts from the new refresh token:
    # the family is alive.
    again = r.rotate(secret)
    assert again != token and current(sm, secret)["authToken"] != doc["authToken"]
    assert len(only_family(own_server)) == 3

    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "refreshed" in logged
    for secret in (old.api_key, old.refresh_token, doc["authToken"], doc["refreshToken"]):
        assert secret not in logged and secret[:12] not in logged


def test_failure_between_steps_keeps_the_current_key_and_resumes(rig, own_server, secret: str):
    sm, old, r, token = rig
    r.create_secret(secret, token)
    # The invocation for setSecret never comes (a crash, a timeout): readers still have the old
    # key, the new one waits in AWSPENDING, and the server knows both.
    assert current(sm, secret)["authToken"] == old.api_key
    pending = json.loads(sm.get_secret_value(SecretId=secret, VersionId=token,
                                             VersionStage="AWSPENDING")["SecretString"])
    assert len(only_family(own_server)) == 2
    # The next run resumes that rotation instead of refreshing again.
    assert r.rotate(secret) == token
    assert current(sm, secret)["authToken"] == pending["authToken"]
    assert len(only_family(own_server)) == 2


def test_lost_answer_between_refresh_and_write_is_replayed(rig, own_server, secret: str):
    sm, old, r, token = rig
    real_put = r._put_pending

    def crash(*a, **k):
        raise RuntimeError("killed after the refresh, before the write")

    r._put_pending = crash
    with pytest.raises(RuntimeError):
        r.create_secret(secret, token)
    assert len(only_family(own_server)) == 2  # the refresh was committed; its answer is gone
    assert current(sm, secret)["authToken"] == old.api_key
    r._put_pending = real_put
    for step in STEPS:  # Secrets Manager retries the rotation with the same token
        r.step(step, secret, token)
    keys = only_family(own_server)
    assert len(keys) == 2  # the retry replayed the same refresh: no new key, no revocation
    # The stored key is the one the server issued by that refresh (the newest of the family).
    with ma.AuthClient(ma.CredentialProvider.from_string(current(sm, secret)["authToken"], endpoint=own_server.address,
                                                         secure=False)) as c:
        c.refresh_api_key(current(sm, secret)["refreshToken"])  # works: the refresh token is live
    assert len(only_family(own_server)) == 3


def test_replay_window_passed_refuses_rather_than_revoke(moto: str, own_server, secret: str):
    sm = boto_client(moto)
    old = seed(own_server, sm, secret)
    now = [1.0e9]
    r = rotation(own_server, sm, clock=lambda: now[0])
    token = str(uuid.uuid4())
    r._put_pending = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash"))
    with pytest.raises(RuntimeError):
        r.create_secret(secret, token)
    now[0] += 3600  # Secrets Manager's retry comes long after the server's replay window
    r2 = rotation(own_server, sm, clock=lambda: now[0])
    with pytest.raises(rot.RotationError, match="replay window has passed") as e:
        r2.create_secret(secret, token)
    assert old.refresh_token not in str(e.value) and old.api_key[:12] not in str(e.value)
    assert current(sm, secret)["authToken"] == old.api_key
    assert len(only_family(own_server)) == 2  # nothing sent again, nothing revoked


def test_pending_key_of_an_abandoned_rotation_is_carried_over(moto: str, own_server, secret: str):
    sm = boto_client(moto)
    seed(own_server, sm, secret)
    r = rotation(own_server, sm)
    first = str(uuid.uuid4())
    r.create_secret(secret, first)
    first_doc = sm.get_secret_value(SecretId=secret, VersionId=first)["SecretString"]
    second = str(uuid.uuid4())  # a new rotation started before the first one finished
    r.create_secret(secret, second)
    assert sm.get_secret_value(SecretId=secret, VersionId=second)["SecretString"] == first_doc
    for step in STEPS[1:]:
        r.step(step, secret, second)
    assert current(sm, secret) == json.loads(first_doc)
    assert len(only_family(own_server)) == 2


def test_test_step_rejects_a_bad_pending_key(rig, own_server, secret: str):
    sm, old, r, token = rig
    bad = {"authToken": "not-a-key", "refreshToken": "x", "validUntil": "1"}
    sm.put_secret_value(SecretId=secret, ClientRequestToken=token, SecretString=json.dumps(bad),
                        VersionStages=["AWSPENDING"])
    with pytest.raises(ma.MomentoError):
        r.test_secret(secret, token)
    assert current(sm, secret)["authToken"] == old.api_key


def test_test_step_makes_a_real_call_with_the_pending_key(rig, own_server, secret: str):
    # A key that passes every offline check (it parses, has a refresh token, expires later than
    # the current one) but that the server no longer accepts: revoked by its admin.
    sm, old, r, token = rig
    before = set(families(own_server))
    with own_server.admin() as admin:
        other = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(2))
    (family,) = set(families(own_server)) - before
    subprocess.run([server_bin(), "admin", "--data-dir", str(own_server.data), "revoke-family", family],
                   check=True, capture_output=True, text=True)
    doc = {"authToken": other.api_key, "refreshToken": other.refresh_token,
           "validUntil": str(other.expires_at.epoch()), "owner": "team-a"}
    sm.put_secret_value(SecretId=secret, ClientRequestToken=token, SecretString=json.dumps(doc),
                        VersionStages=["AWSPENDING"])
    with pytest.raises(rot.RotationError, match="did not accept the new key") as e:
        r.test_secret(secret, token)
    assert other.api_key not in str(e.value) and other.api_key[:12] not in str(e.value)
    assert current(sm, secret)["authToken"] == old.api_key


def test_handler_rotates_comma_separated_names(moto: str, own_server, secret: str, monkeypatch):
    sm = boto_client(moto)
    n0, n1 = secret + "-0", secret + "-1"
    a = seed(own_server, sm, n0)
    b = seed(own_server, sm, n1)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto)
    monkeypatch.setenv("MOMENTO_AUTH_TOKEN_SECRET_NAME", f"{n0}, {n1}")
    monkeypatch.setenv("MOMENTO_AUTH_ENDPOINT", own_server.address)
    monkeypatch.setenv("MOMENTO_AUTH_INSECURE", "1")
    out = rot.handler({"source": "aws.events"}, None)  # a scheduled invocation
    assert sorted(out["rotated"]) == [n0, n1]
    assert current(sm, n0)["authToken"] != a.api_key
    assert current(sm, n1)["authToken"] != b.api_key
    # Momento's manual event names one secret; Secrets Manager's events name one step.
    rot.handler({"momento_auth_token_secret_name": n1}, None)
    token = str(uuid.uuid4())
    for step in STEPS:
        rot.handler({"SecretId": n0, "ClientRequestToken": token, "Step": step}, None)
    assert sm.describe_secret(SecretId=n0)["VersionIdsToStages"][token] == ["AWSCURRENT"]
    assert sorted(len(v) for v in families(own_server).values()) == [3, 3]
    with pytest.raises(rot.RotationError, match="momento/missing"):
        rot.handler({"momento_auth_token_secret_name": "momento/missing"}, None)


def test_refusal_is_not_replayed_and_lost_answers_stop_at_the_window(rig, own_server, secret: str, caplog):
    # Which failures are refusals and when a replay may still go out are the library's rules
    # (momento_status_definite, momento_refresher_options_replay_delay_ms).
    caplog.set_level(logging.DEBUG, logger="momento_auth.aws_rotation")
    sm, _, _, token = rig
    doc = current(sm, secret)
    doc["refreshToken"] = "not-the-refresh-token"
    sm.put_secret_value(SecretId=secret, SecretString=json.dumps(doc))
    with pytest.raises(rot.RotationError, match="the refresh was refused"):
        rotation(own_server, sm).create_secret(secret, token)
    assert "replaying" not in caplog.text

    # Nothing listens there: each attempt may have been lost. The clock jumps 10 s per look, so
    # the library allows two replays before the server's window (less its margin) closes.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{s.getsockname()[1]}"
    lost = secret + "-lost"
    key = seed(own_server, sm, lost)
    keys = sum(len(v) for v in families(own_server).values())
    ticks = iter(range(1_000_000_000, 1_000_001_000, 10))
    r = rot.Rotation(sm, endpoint=closed, secure=False, timeout=2, clock=lambda: float(next(ticks)))
    with pytest.raises(rot.RotationError, match="window is open") as e:
        r.create_secret(lost, str(uuid.uuid4()))
    assert caplog.text.count("replaying in") == 2
    assert key.refresh_token not in str(e.value) and key.api_key[:12] not in str(e.value)
    assert current(sm, lost)["authToken"] == key.api_key
    assert sum(len(v) for v in families(own_server).values()) == keys  # nothing reached the server
