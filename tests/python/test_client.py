"""AuthClient against a real momento-auth-server on loopback: round trips, token files, and
every error class from real answers."""

from __future__ import annotations

import json
import stat
import time
from concurrent import futures

import pytest

import momento_auth as ma
from conftest import Server, envelope, unused_port


def test_generate_expiring_key(server: Server, admin: ma.AuthClient):
    before = int(time.time())
    key = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    assert isinstance(key, ma.ApiKeyResult)
    assert key.api_key and key.refresh_token and key.api_key != server.super_key
    assert key.endpoint and key.endpoint == server.provider().base_endpoint
    assert key.expires_at.does_expire()
    assert before + 3600 - 5 <= key.expires_at.epoch() <= int(time.time()) + 3600 + 5
    p = key.credential_provider(endpoint=server.address, secure=False)
    assert p.kind == "v1_envelope" and p.base_endpoint == key.endpoint


def test_generate_never_expiring_key(admin: ma.AuthClient):
    key = admin.generate_api_key(ma.PermissionScopes.cache_read_only("a"), ma.ExpiresIn.never())
    assert key.refresh_token == "" and not key.expires_at.does_expire()
    assert key.expires_at == ma.ExpiresAt.never()


def test_generate_accepts_timedelta_and_datetime(admin: ma.AuthClient):
    from datetime import datetime, timedelta, timezone

    a = admin.generate_api_key(ma.AllDataReadOnly, timedelta(minutes=10))
    assert a.expires_at.does_expire()
    b = admin.generate_api_key(ma.AllDataReadOnly, datetime.now(timezone.utc) + timedelta(hours=2))
    assert b.expires_at.epoch() > a.expires_at.epoch()


def test_refresh_round_trip(server: Server, admin: ma.AuthClient):
    k0 = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.minutes(30))
    with server.client(k0.api_key) as c0:
        k1 = c0.refresh_api_key(k0.refresh_token)
    assert k1.api_key != k0.api_key and k1.refresh_token != k0.refresh_token
    assert k1.refresh_token and k1.expires_at.does_expire()
    # The successor refreshes in turn.
    with server.client(k1.api_key) as c1:
        k2 = c1.refresh_api_key(k1.refresh_token)
    assert k2.api_key not in (k0.api_key, k1.api_key)
    # A refresh token that was never issued is refused by the service.
    with server.client(k2.api_key) as c2:
        with pytest.raises(ma.AuthenticationError) as e:
            c2.refresh_api_key("not-the-refresh-token")
    assert e.value.grpc_status == 16 and e.value.code == "AUTHENTICATION_ERROR"
    assert "not-the-refresh-token" not in str(e.value)


def test_refresh_replay_within_grace_gets_same_answer(server: Server, admin: ma.AuthClient):
    k0 = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.minutes(30))
    with server.client(k0.api_key) as c0:
        first = c0.refresh_api_key(k0.refresh_token)
        again = c0.refresh_api_key(k0.refresh_token)
    assert again.api_key == first.api_key and again.refresh_token == first.refresh_token


def test_download_json_file_round_trip(server: Server, admin: ma.AuthClient, tmp_path):
    key = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.minutes(30))
    path = tmp_path / "momento_token.info.json"
    key.write_download_json(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert set(data) == {"authToken", "refreshToken", "validUntil"}
    assert data["authToken"] == key.api_key and data["refreshToken"] == key.refresh_token
    assert data["validUntil"] == str(key.expires_at.epoch())
    assert json.loads(key.to_download_json()) == data
    # Read it back and refresh from the file, as a fleet would.
    p = ma.CredentialProvider.from_file(path, endpoint=server.address, secure=False)
    assert p.refresh_token == key.refresh_token
    assert p.expires_at == key.expires_at
    with ma.AuthClient(p) as c:
        fresh = c.refresh_api_key(p.refresh_token)
    fresh.write_download_json(path)  # replaces the file atomically
    assert json.loads(path.read_text())["authToken"] == fresh.api_key


def test_disposable_token_round_trip(server: Server, admin: ma.AuthClient):
    scope = ma.DisposableTokenScopes.cache_key_read_write("cache-a", "item-1") + \
        ma.DisposableTokenScopes.cache_key_prefix_read_only("cache-a", b"shared/")
    tok = admin.generate_disposable_token(scope, ma.ExpiresIn.minutes(5), token_id="worker-7")
    assert isinstance(tok, ma.DisposableTokenResult)
    assert tok.auth_token and tok.auth_token == tok.api_key and tok.refresh_token == ""
    assert tok.expires_at.does_expire()
    assert tok.expires_at.epoch() <= int(time.time()) + 300 + 5
    p = tok.credential_provider(endpoint=server.address, secure=False)
    assert p.kind == "v1_envelope"
    # A disposable token may not mint anything.
    with ma.AuthClient(p) as c:
        with pytest.raises(ma.PermissionDeniedError):
            c.generate_disposable_token(scope, ma.ExpiresIn.minutes(5))


def test_results_are_redacted(admin: ma.AuthClient):
    key = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.minutes(30))
    tok = admin.generate_disposable_token(ma.DisposableTokenScopes.cache_read_only("c"), ma.ExpiresIn.minutes(5))
    for obj, secrets in ((key, [key.api_key, key.refresh_token]), (tok, [tok.auth_token]),
                         (admin, []), (key.credential_provider(), [key.api_key])):
        for text in (repr(obj), str(obj), f"{obj!r}"):
            for s in secrets:
                assert s not in text
                assert s[8:40] not in text
    assert "\u2026#" in repr(key)


# ---- errors from real answers ---------------------------------------------------------------


def test_unknown_key_is_authentication_error(server: Server):
    with server.client(envelope("never-issued-key")) as c:
        with pytest.raises(ma.AuthenticationError) as e:
            c.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    err = e.value
    assert isinstance(err, PermissionError) and isinstance(err, ma.MomentoError)
    assert err.code == "AUTHENTICATION_ERROR" and err.grpc_status == 16 and not err.retryable


def test_insufficient_scope_is_permission_error(server: Server, admin: ma.AuthClient):
    rw = admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.never())
    with server.client(rw.api_key) as c:
        with pytest.raises(ma.PermissionDeniedError) as e:
            c.generate_api_key(ma.AllDataReadOnly, ma.ExpiresIn.hours(1))
    assert e.value.code == "PERMISSION_ERROR" and e.value.grpc_status == 7
    assert isinstance(e.value, PermissionError)
    assert "Insufficient permissions" in str(e.value)
    # A super-user key cannot mint another super-user key.
    with pytest.raises(ma.PermissionDeniedError):
        admin.generate_api_key(ma.SuperUser, ma.ExpiresIn.hours(1))


def test_service_side_validation_is_invalid_argument(admin: ma.AuthClient):
    # The client sets no maximum lifetime for disposable tokens; the service does (25 h).
    with pytest.raises(ma.InvalidArgumentError) as e:
        admin.generate_disposable_token(ma.DisposableTokenScopes.cache_read_only("c"), ma.ExpiresIn.days(30))
    assert e.value.grpc_status == 3 and isinstance(e.value, ValueError)


def test_deadline_is_timeout_error(server: Server, blackhole):
    p = ma.CredentialProvider.from_string(server.super_key, endpoint=blackhole.address, secure=False)
    with ma.AuthClient(p, timeout=0.5) as c:
        with pytest.raises(ma.MomentoTimeoutError) as e:
            c.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    assert isinstance(e.value, TimeoutError)
    assert e.value.code == "TIMEOUT_ERROR" and e.value.grpc_status == 4


def test_nobody_listening_is_server_unavailable(server: Server):
    p = ma.CredentialProvider.from_string(server.super_key, endpoint=f"127.0.0.1:{unused_port()}", secure=False)
    with ma.AuthClient(p, timeout=5) as c:
        with pytest.raises(ma.ServerUnavailableError) as e:
            c.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    assert isinstance(e.value, ConnectionError)
    assert e.value.code == "SERVER_UNAVAILABLE" and e.value.grpc_status == 14 and e.value.retryable


# Every gRPC status, answered by a real gRPC server (grpcio), maps to its class (docs/wire.md 10.1).
STATUS_TO_CLASS = {
    "CANCELLED": ma.CancelledError,
    "UNKNOWN": ma.UnknownServiceError,
    "INVALID_ARGUMENT": ma.InvalidArgumentError,
    "DEADLINE_EXCEEDED": ma.MomentoTimeoutError,
    "NOT_FOUND": ma.NotFoundError,
    "ALREADY_EXISTS": ma.AlreadyExistsError,
    "PERMISSION_DENIED": ma.PermissionDeniedError,
    "RESOURCE_EXHAUSTED": ma.LimitExceededError,
    "FAILED_PRECONDITION": ma.FailedPreconditionError,
    "ABORTED": ma.InternalServerError,
    "OUT_OF_RANGE": ma.BadRequestError,
    "UNIMPLEMENTED": ma.BadRequestError,
    "INTERNAL": ma.InternalServerError,
    "UNAVAILABLE": ma.ServerUnavailableError,
    "DATA_LOSS": ma.InternalServerError,
    "UNAUTHENTICATED": ma.AuthenticationError,
}


@pytest.fixture(scope="module")
def status_server():
    grpc = pytest.importorskip("grpc")
    from concurrent import futures as cf

    def handler(status_name):
        def answer(request, context):
            context.abort(getattr(grpc.StatusCode, status_name), f"answered {status_name}")

        return answer

    class Router(grpc.GenericRpcHandler):
        status = "INTERNAL"

        def service(self, details):
            if details.method.startswith("/auth.Auth/") or details.method.startswith("/token.Token/"):
                return grpc.unary_unary_rpc_method_handler(handler(Router.status))
            return None

    srv = grpc.server(cf.ThreadPoolExecutor(max_workers=2))
    srv.add_generic_rpc_handlers((Router(),))
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    try:
        yield Router, f"127.0.0.1:{port}"
    finally:
        srv.stop(None)


@pytest.mark.parametrize("status_name", sorted(STATUS_TO_CLASS))
def test_every_grpc_status_maps_to_its_class(status_server, status_name):
    router, address = status_server
    router.status = status_name
    p = ma.CredentialProvider.from_string(envelope("k"), endpoint=address, secure=False)
    with ma.AuthClient(p, timeout=10) as c:
        with pytest.raises(ma.MomentoError) as e:
            c.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    assert type(e.value) is STATUS_TO_CLASS[status_name]
    assert e.value.grpc_status is not None and e.value.grpc_status > 0


# ---- threads -------------------------------------------------------------------------------


def test_eight_threads_share_one_client(admin: ma.AuthClient):
    per_thread = 6

    def work(i):
        keys = []
        for j in range(per_thread):
            if j % 2:
                keys.append(admin.generate_disposable_token(
                    ma.DisposableTokenScopes.cache_key_read_only("c", f"t{i}-{j}"), ma.ExpiresIn.minutes(1)).auth_token)
            else:
                keys.append(admin.generate_api_key(ma.AllDataReadOnly, ma.ExpiresIn.minutes(10)).api_key)
        return keys

    with futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8), timeout=120))
    flat = [k for ks in results for k in ks]
    assert len(flat) == 8 * per_thread and len(set(flat)) == len(flat)
