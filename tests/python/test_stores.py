"""Token stores from Python: a real file store, the environment store, an exec: store running
real helper scripts, and the AWS Secrets Manager store against a moto server (skipped where moto
is not installed)."""

from __future__ import annotations

import gc
import json
import os
import stat
import weakref
from pathlib import Path

import pytest

import momento_auth as ma
from conftest import Server
from refresh_helpers import Recorder, boto_client, kinds, mint_into, moto, wait_until  # noqa: F401


def assert_no_secret(text: str, *secrets: str) -> None:
    for s in secrets:
        if s:
            assert s not in text
            assert s[:12] not in text


def test_file_store_round_trip(tmp_path: Path, admin: ma.AuthClient):
    path = tmp_path / "token.json"
    store = ma.FileTokenStore(path)
    assert store.writable and store.description == f"file:{path}"
    with pytest.raises(ma.NotFoundError):
        store.read()  # nothing stored yet
    key = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    store.write(key)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["authToken"] == key.api_key and doc["refreshToken"] == key.refresh_token
    assert int(doc["validUntil"]) == key.expires_at.epoch()

    got = store.read()
    assert isinstance(got, ma.StoredToken)
    assert got.api_key == key.api_key and got.refresh_token == key.refresh_token
    assert got.expires_at == key.expires_at == got.valid_until
    assert got.endpoint == key.endpoint
    # A stored token can go to another store, and parses as a credential.
    other = ma.TokenStore.file(tmp_path / "copy.json")
    other.write(got)
    assert other.read().api_key == key.api_key
    assert got.credential_provider().kind == "v1_envelope"


def test_results_are_native_tokens(tmp_path: Path, admin: ma.AuthClient):
    # Every result keeps its key in a native token: Python code can neither make one nor slip
    # another object past the layer that hands it to the library.
    key = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    assert isinstance(key._token, ma._native.Token) and not hasattr(key, "__dict__")
    for make in (ma._native.Token, ma.ApiKeyResult, ma.StoredToken, ma.DisposableTokenResult):
        with pytest.raises(TypeError):
            make()
    store = ma.FileTokenStore(tmp_path / "t.json")
    for bad in (object(), "key", None):
        with pytest.raises((TypeError, ma.InvalidArgumentError)):
            store._native.store(bad)
    for bad in (str, object(), "key"):
        for result_type in (ma.ApiKeyResult, ma.StoredToken, ma.DisposableTokenResult):
            with pytest.raises(TypeError, match="native token"):
                result_type(bad)
    store.write(key)
    assert type(store._native.load().join()) is ma._native.Token
    with pytest.raises(ma.InvalidArgumentError, match="NUL"):
        key._token.write_file("a\x00b")
    with pytest.raises(TypeError):
        key._token.write_file(b"t.json")
    ref = weakref.ref(key)
    assert ref() is key
    del key
    gc.collect()
    assert ref() is None


def test_repr_and_str_are_redacted(tmp_path: Path, admin: ma.AuthClient):
    store = ma.FileTokenStore(str(tmp_path / "t.json"))
    key = mint_into(admin, store, ma.ExpiresIn.hours(1))
    got = store.read()
    for text in (repr(got), str(got), repr(store), str(store)):
        assert_no_secret(text, key.api_key, key.refresh_token)
    assert repr(got).startswith("StoredToken(api_key=") and "#" in repr(got)
    assert repr(store) == f"FileTokenStore('file:{tmp_path / 't.json'}')"


def test_specs_and_factories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    f = ma.TokenStore.from_spec(f"file:{tmp_path}/a.json")
    assert isinstance(f, ma.FileTokenStore) and f.description == f"file:{tmp_path}/a.json"
    bare = ma.TokenStore.from_spec(f"{tmp_path}/b.json")
    assert isinstance(bare, ma.FileTokenStore) and bare.description.endswith("/b.json")
    e = ma.TokenStore.from_spec("env:SOME_VAR")
    assert isinstance(e, ma.EnvironmentTokenStore) and e.description == "env:SOME_VAR"
    # Opening a Secrets Manager store reads the AWS credentials (nothing is sent yet).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    a = ma.TokenStore.from_spec("aws-sm:prod/momento", region="eu-west-1")
    assert isinstance(a, ma.AwsSecretsManagerTokenStore)
    assert a.description == "aws-sm:prod/momento (eu-west-1)"
    assert isinstance(ma.TokenStore.environment(), ma.EnvironmentTokenStore)
    sm = ma.TokenStore.aws_secrets_manager("x")
    assert isinstance(sm, ma.AwsSecretsManagerTokenStore) and sm.description == "aws-sm:x (us-east-2)"


def test_environment_store_is_read_only(admin: ma.AuthClient, monkeypatch: pytest.MonkeyPatch):
    key = admin.generate_api_key(ma.AllDataReadOnly, ma.ExpiresIn.hours(1))
    monkeypatch.setenv("MA_TEST_TOKEN", key.to_download_json())
    store = ma.EnvironmentTokenStore("MA_TEST_TOKEN")
    assert not store.writable
    got = store.read()
    assert got.api_key == key.api_key and got.refresh_token == key.refresh_token
    with pytest.raises(ma.FailedPreconditionError):
        store.write(got)
    # A bare key works too (no refresh token then).
    monkeypatch.setenv("MA_TEST_TOKEN", key.api_key)
    bare = store.read()
    assert bare.api_key == key.api_key and bare.refresh_token == ""
    monkeypatch.delenv("MA_TEST_TOKEN")
    with pytest.raises(ma.MomentoError) as e:
        store.read()
    assert key.api_key not in str(e.value)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ma.FileTokenStore(""), "path must not be empty"),
        (lambda: ma.FileTokenStore(42), "path must be a str or os.PathLike"),
        (lambda: ma.FileTokenStore(None), "path must be a str or os.PathLike"),
        (lambda: ma.AwsSecretsManagerTokenStore(""), "secret_id must not be empty"),
        (lambda: ma.AwsSecretsManagerTokenStore(b"x"), "secret_id must be a str"),
        (lambda: ma.AwsSecretsManagerTokenStore("x", region=3), "region must be a str"),
        (lambda: ma.AwsSecretsManagerTokenStore("x", endpoint_url=""), "endpoint_url must not be empty"),
        (lambda: ma.EnvironmentTokenStore(""), "var must not be empty"),
        (lambda: ma.TokenStore.from_spec(""), "spec must not be empty"),
        (lambda: ma.TokenStore(), "TokenStore is abstract"),
    ],
)
def test_store_argument_validation(make, message):
    with pytest.raises(ma.InvalidArgumentError) as e:
        make()
    assert message in str(e.value)
    assert isinstance(e.value, ValueError)


def test_write_rejects_what_is_not_a_key(tmp_path: Path, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "t.json")
    with pytest.raises(ma.InvalidArgumentError, match="ApiKeyResult or a StoredToken"):
        store.write("a key")  # type: ignore[arg-type]
    tok = admin.generate_disposable_token(
        ma.DisposableTokenScopes.cache_read_only("c"), ma.ExpiresIn.minutes(5))
    with pytest.raises(ma.InvalidArgumentError):
        store.write(tok)  # type: ignore[arg-type]


def test_corrupt_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "t.json"
    path.write_text("{not json")
    with pytest.raises(ma.MomentoError) as e:
        ma.FileTokenStore(path).read()
    assert str(e.value)


# ---- exec: stores ----------------------------------------------------------------------------


def test_exec_store_runs_the_helpers(tmp_path: Path, admin: ma.AuthClient):
    # Helpers that keep the key in a file of their own: the library sees only their stdin/stdout.
    kept = tmp_path / "kept.json"
    read = tmp_path / "read.sh"
    read.write_text(f"#!/bin/sh\n[ -f '{kept}' ] && cat '{kept}'\nexit 0\n")
    write = tmp_path / "write.sh"
    write.write_text(f"#!/bin/sh\ncat > '{kept}.tmp' && mv '{kept}.tmp' '{kept}'\n")
    for f in (read, write):
        f.chmod(0o700)
    store = ma.ExecTokenStore([str(read)], [str(write)], timeout_ms=20000)
    assert store.writable and store.description == f"exec:{read}"
    with pytest.raises(ma.NotFoundError):
        store.read()  # nothing printed: an empty store
    key = mint_into(admin, store, ma.ExpiresIn.hours(1))
    got = store.read()
    assert got.api_key == key.api_key and got.refresh_token == key.refresh_token
    assert json.loads(kept.read_text())["authToken"] == key.api_key
    same = ma.TokenStore.from_spec("exec:" + json.dumps({"read": [str(read)]}))
    assert isinstance(same, ma.ExecTokenStore) and not same.writable
    assert same.read().api_key == key.api_key
    with pytest.raises(ma.FailedPreconditionError):
        same.write(got)


def test_exec_store_failures_keep_secrets_out(tmp_path: Path, admin: ma.AuthClient):
    key = admin.generate_api_key(ma.AllDataReadOnly, ma.ExpiresIn.hours(1))
    store = ma.ExecTokenStore(["true"], ["sh", "-c", "cat >&2; exit 9"])
    with pytest.raises(ma.MomentoError) as e:
        store.write(key)
    assert "exited with status 9" in str(e.value)
    assert_no_secret(str(e.value), key.api_key, key.refresh_token)
    with pytest.raises(ma.InvalidArgumentError, match='"read" must be a non-empty list'):
        ma.ExecTokenStore([])
    with pytest.raises(ma.InvalidArgumentError, match="timeoutMs"):
        ma.ExecTokenStore(["true"], timeout_ms=0)
    with pytest.raises(ma.InvalidArgumentError, match="read must be a list of arguments"):
        ma.ExecTokenStore("pass show momento/key")  # type: ignore[arg-type]


# ---- AWS Secrets Manager (moto) --------------------------------------------------------------


def test_secrets_manager_round_trip(moto: str, admin: ma.AuthClient):
    store = ma.AwsSecretsManagerTokenStore("momento/py-round-trip", endpoint_url=moto)
    with pytest.raises(ma.NotFoundError):
        store.read()
    key = mint_into(admin, store, ma.ExpiresIn.hours(1))  # creates the secret
    got = store.read()
    assert got.api_key == key.api_key and got.refresh_token == key.refresh_token
    assert got.expires_at == key.expires_at
    # The secret has the shape Momento's own tools write and read.
    sm = boto_client(moto)
    doc = json.loads(sm.get_secret_value(SecretId="momento/py-round-trip")["SecretString"])
    assert doc["authToken"] == key.api_key and doc["refreshToken"] == key.refresh_token
    assert_no_secret(repr(store) + repr(got), key.api_key, key.refresh_token)


def test_secrets_manager_refresh_keeps_the_secret_s_own_shape(moto: str, server: Server, admin: ma.AuthClient):
    # A secret another tool wrote: the key under apiKey, validUntil a number, members of its own.
    secret = "momento/py-shape"
    key = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    valid_until = int(key.expires_at.epoch())
    sm = boto_client(moto)
    sm.create_secret(Name=secret, SecretString=json.dumps(
        {"team": "payments", "apiKey": key.api_key, "refreshToken": key.refresh_token,
         "validUntil": valid_until, "rotation": {"days": 7}}))
    store = ma.AwsSecretsManagerTokenStore(secret, endpoint_url=moto, region="us-east-1")
    refresher = ma.Refresher(store, endpoint=server.address, secure=False, timeout=10)
    try:
        ev = refresher.refresh_now()
        assert ev.kind is ma.RefreshEventKind.REFRESHED, ev
    finally:
        refresher.close()
    now = store.read()
    assert now.api_key != key.api_key
    doc = json.loads(sm.get_secret_value(SecretId=secret)["SecretString"])
    # The same members in the same order, the new key where the old one was, validUntil a number.
    assert list(doc) == ["team", "apiKey", "refreshToken", "validUntil", "rotation"]
    assert doc["team"] == "payments" and doc["rotation"] == {"days": 7}
    assert doc["apiKey"] == now.api_key and doc["refreshToken"] == now.refresh_token
    assert isinstance(doc["validUntil"], int) and doc["validUntil"] == int(now.expires_at.epoch())


def test_secrets_manager_wrong_credentials_fail_cleanly(moto: str, monkeypatch: pytest.MonkeyPatch,
                                                        admin: ma.AuthClient):
    store = ma.AwsSecretsManagerTokenStore("momento/py-creds", endpoint_url=moto)
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ma.MomentoError) as e:
        ma.AwsSecretsManagerTokenStore("momento/py-creds", endpoint_url=moto).read()
    assert "motosecret" not in str(e.value)


def test_secrets_manager_refresher_rotation_seen_by_readers(moto: str, server: Server,
                                                            admin: ma.AuthClient):
    secret = "momento/py-rotation"
    store = ma.AwsSecretsManagerTokenStore(secret, endpoint_url=moto, region="us-east-1")
    first = mint_into(admin, store, ma.ExpiresIn.hours(1))
    reader = ma.TokenStore.from_spec(f"aws-sm:{secret}", endpoint_url=moto)
    with ma.Watcher(reader, interval=0.1, endpoint=server.address, secure=False) as watcher:
        before = watcher.current_key
        changes = Recorder()
        watcher.on_change(changes)
        refresher = ma.Refresher(store, endpoint=server.address, secure=False, timeout=10)
        try:
            ev = refresher.refresh_now()
            assert ev.kind is ma.RefreshEventKind.REFRESHED, ev
            assert ev.store == store.description == f"aws-sm:{secret} (us-east-1)"
            assert ev.error_code is None
        finally:
            refresher.close()
        # A second reader (another store object) sees the new version at once ...
        now = reader.read()
        assert now.api_key != first.api_key and now.refresh_token != first.refresh_token
        # ... the watcher swaps it in ...
        got = changes.wait_for(lambda items: len(items) >= 1)
        assert got[-1].fingerprint == ev.key_fingerprint != before.fingerprint
        assert watcher.current_key.fingerprint == ev.key_fingerprint
    # ... and Secrets Manager keeps the previous version as AWSPREVIOUS.
    sm = boto_client(moto)
    prev = json.loads(sm.get_secret_value(SecretId=secret, VersionStage="AWSPREVIOUS")["SecretString"])
    assert prev["authToken"] == first.api_key
    cur = json.loads(sm.get_secret_value(SecretId=secret)["SecretString"])
    assert cur["authToken"] == now.api_key
    # The new key refreshes in turn: it and its refresh token are live.
    with ma.AuthClient(now.credential_provider(endpoint=server.address, secure=False)) as c:
        assert c.refresh_api_key(now.refresh_token).api_key != now.api_key
