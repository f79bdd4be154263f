"""Momento's official Python SDK (PyPI `momento`, pinned in scripts/requirements-test.txt) as a
client of momento-auth-server.

The pinned Python SDK exposes no generate-API-key or refresh call (its AuthClient only has
generate_disposable_token), so API keys here are minted through the super-user bootstrap key's
disposable tokens, and the API-key paths are covered from Python in test_cross_sdk.py with keys
minted by the other SDKs and the CLI."""

from __future__ import annotations

import time

import grpc
import pytest
from conftest import auth_client, cache_client, decode_envelope, encode_envelope, unique
from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes
from momento.errors import MomentoErrorCode
from momento.responses import CacheGet, CacheSet, CreateCache, GenerateDisposableToken
from momento.utilities import ExpiresIn

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def assert_error(resp, error_cls, code: MomentoErrorCode, grpc_code: grpc.StatusCode, details: str | None = None):
    assert isinstance(resp, error_cls), f"expected {error_cls.__qualname__}, got {resp!r}"
    assert resp.error_code == code, resp.message
    td = resp.inner_exception.transport_details
    assert td is not None and td.grpc.code == grpc_code, repr(resp.inner_exception)
    if details is not None:
        assert details in td.grpc.details, td.grpc.details


def assert_denied(resp, error_cls):
    assert_error(
        resp, error_cls, MomentoErrorCode.PERMISSION_ERROR, grpc.StatusCode.PERMISSION_DENIED, "Insufficient permissions"
    )


def assert_unauthenticated(resp, error_cls):
    assert_error(resp, error_cls, MomentoErrorCode.AUTHENTICATION_ERROR, grpc.StatusCode.UNAUTHENTICATED)


def set_get(client, cache: str, key: str, value: str) -> None:
    s = client.set(cache, key, value)
    assert isinstance(s, CacheSet.Success), repr(s)
    g = client.get(cache, key)
    assert isinstance(g, CacheGet.Hit), repr(g)
    assert g.value_string == value


@pytest.fixture(scope="module")
def cache_name(server):
    name = unique("py-cache")
    with cache_client(server.super_key, server) as c:
        r = c.create_cache(name)
        assert isinstance(r, CreateCache.Success), repr(r)
    return name


@pytest.fixture(scope="module")
def super_cache(server, cache_name):
    with cache_client(server.super_key, server) as c:
        yield c


@pytest.fixture(scope="module")
def super_auth(server):
    with auth_client(server.super_key, server) as a:
        yield a


def test_create_cache_already_exists(super_cache, cache_name):
    r = super_cache.create_cache(cache_name)
    assert isinstance(r, CreateCache.CacheAlreadyExists), repr(r)


def test_set_get_with_super_user_key(super_cache, cache_name):
    set_get(super_cache, cache_name, "k", "v")
    miss = super_cache.get(cache_name, "missing")
    assert isinstance(miss, CacheGet.Miss), repr(miss)


def test_get_unknown_cache_is_not_found(super_cache):
    r = super_cache.get(unique("no-such-cache"), "k")
    assert_error(r, CacheGet.Error, MomentoErrorCode.NOT_FOUND_ERROR, grpc.StatusCode.NOT_FOUND)


def test_disposable_token_scoped_to_one_key(server, super_auth, cache_name):
    before = int(time.time())
    resp = super_auth.generate_disposable_token(
        DisposableTokenScopes.cache_key_read_write(cache_name, "dk"), ExpiresIn.minutes(10)
    )
    assert isinstance(resp, GenerateDisposableToken.Success), repr(resp)
    env = decode_envelope(resp.auth_token)
    assert env["endpoint"] == resp.endpoint and env["api_key"]
    assert resp.expires_at.does_expire()
    assert before + 600 - 5 <= resp.expires_at.epoch() <= int(time.time()) + 600 + 5

    with cache_client(resp.auth_token, server) as c:
        set_get(c, cache_name, "dk", "dv")
        assert_denied(c.get(cache_name, "other"), CacheGet.Error)
        assert_denied(c.set(cache_name, "other", "x"), CacheSet.Error)
        assert_denied(c.create_cache(unique("denied")), CreateCache.Error)
    with auth_client(resp.auth_token, server) as a:
        again = a.generate_disposable_token(
            DisposableTokenScopes.cache_key_read_write(cache_name, "dk"), ExpiresIn.minutes(5)
        )
        assert_denied(again, GenerateDisposableToken.Error)


def test_disposable_token_with_token_id_and_read_only_prefix(server, super_auth, super_cache, cache_name):
    from momento.auth.access_control.disposable_token_scope import DisposableTokenProps

    resp = super_auth.generate_disposable_token(
        DisposableTokenScopes.cache_key_prefix_read_only(cache_name, "ro-"),
        ExpiresIn.minutes(10),
        DisposableTokenProps(token_id="python-token"),
    )
    assert isinstance(resp, GenerateDisposableToken.Success), repr(resp)
    set_get(super_cache, cache_name, "ro-1", "x")
    with cache_client(resp.auth_token, server) as c:
        g = c.get(cache_name, "ro-1")
        assert isinstance(g, CacheGet.Hit), repr(g)
        assert_denied(c.set(cache_name, "ro-1", "y"), CacheSet.Error)
        assert_denied(c.get(cache_name, "outside"), CacheGet.Error)


def test_disposable_token_expires(server, super_auth, cache_name):
    resp = super_auth.generate_disposable_token(
        DisposableTokenScopes.cache_read_write(cache_name), ExpiresIn.seconds(2)
    )
    assert isinstance(resp, GenerateDisposableToken.Success), repr(resp)
    with cache_client(resp.auth_token, server) as c:
        r = None
        for _ in range(40):
            r = c.get(cache_name, "k")
            if isinstance(r, CacheGet.Error):
                break
            time.sleep(0.25)
        assert_unauthenticated(r, CacheGet.Error)


def test_unknown_key_is_authentication_error(server, cache_name):
    env = decode_envelope(server.super_key)
    forged = encode_envelope(env["endpoint"], env["api_key"] + "x")
    with cache_client(forged, server) as c:
        assert_unauthenticated(c.get(cache_name, "k"), CacheGet.Error)
        assert_unauthenticated(c.set(cache_name, "k", "v"), CacheSet.Error)
        assert_unauthenticated(c.create_cache(unique("x")), CreateCache.Error)
    with auth_client(forged, server) as a:
        r = a.generate_disposable_token(DisposableTokenScopes.cache_key_read_write(cache_name, "k"), ExpiresIn.minutes(5))
        assert_unauthenticated(r, GenerateDisposableToken.Error)
