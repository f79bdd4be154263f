"""The package surface without a server: versions, ABI check, values, scopes, errors, redaction,
typing files and docstrings."""

from __future__ import annotations

import builtins
import inspect
import json
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import momento_auth as ma
from momento_auth import _abi, _errors


def test_version_and_abi():
    assert ma.__version__ == ma.library_version
    assert all(part.isdigit() for part in ma.__version__.split("."))
    assert ma._native.abi_version() == ma._native.HEADER_ABI_VERSION


def test_abi_mismatch_fails_with_clear_message():
    with pytest.raises(ImportError) as e:
        _abi.check(2, 1, "9.9.9")
    text = str(e.value)
    assert "ABI 1" in text and "ABI 2" in text and "9.9.9" in text and "Reinstall" in text
    _abi.check(1, 1, "0.1.0")  # equal: no error


def test_package_ships_typing_files():
    pkg = Path(ma.__file__).parent
    assert (pkg / "py.typed").is_file()
    assert (pkg / "_native.pyi").is_file()


def _public_members():
    for name in ma.__all__:
        if name.startswith("__") or name == "library_version":
            continue
        obj = getattr(ma, name)
        yield name, obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if callable(member) or isinstance(member, property):
                    yield f"{name}.{attr}", member


def test_every_public_name_has_a_docstring():
    missing = [n for n, obj in _public_members() if not (getattr(obj, "__doc__", None) or "").strip()]
    assert missing == []


# ---- lifetimes ---------------------------------------------------------------------------


def test_expires_in_units():
    assert ma.ExpiresIn.seconds(90).valid_for_seconds() == 90
    assert ma.ExpiresIn.minutes(2).valid_for_seconds() == 120
    assert ma.ExpiresIn.hours(1).valid_for_seconds() == 3600
    assert ma.ExpiresIn.days(2).valid_for_seconds() == 172800
    assert ma.ExpiresIn(timedelta(minutes=5)).valid_for_seconds() == 300
    assert ma.ExpiresIn(60).to_timedelta() == timedelta(seconds=60)
    assert ma.ExpiresIn.from_timedelta(timedelta(hours=2)) == ma.ExpiresIn.hours(2)
    never = ma.ExpiresIn.never()
    assert not never.does_expire() and never.to_timedelta() is None
    assert ma.ExpiresIn(None) == never
    assert repr(ma.ExpiresIn.days(3)) == "ExpiresIn.days(3)"


def test_expires_in_until_datetime():
    when = datetime.now(timezone.utc) + timedelta(hours=1)
    e = ma.ExpiresIn.until(when)
    assert e.does_expire()
    assert 3500 <= e.valid_for_seconds() <= 3600


@pytest.mark.parametrize(
    "make",
    [
        lambda: ma.ExpiresIn.seconds(0),
        lambda: ma.ExpiresIn.seconds(-5),
        lambda: ma.ExpiresIn.days(1_000_000),
        lambda: ma.ExpiresIn.seconds(1.5),
        lambda: ma.ExpiresIn.seconds(True),
        lambda: ma.ExpiresIn.seconds("10"),
        lambda: ma.ExpiresIn(timedelta(milliseconds=1500)),
        lambda: ma.ExpiresIn.epoch(datetime(2001, 1, 1, tzinfo=timezone.utc)),
        lambda: ma.ExpiresIn.until(12),
    ],
)
def test_expires_in_rejects_bad_values(make):
    with pytest.raises(ma.InvalidArgumentError) as e:
        make()
    assert isinstance(e.value, ValueError)
    assert e.value.code == "INVALID_ARGUMENT_ERROR" and e.value.grpc_status is None


def test_expires_at():
    at = ma.ExpiresAt.from_epoch(1_700_000_000)
    assert at.does_expire() and at.epoch() == 1_700_000_000
    assert at.to_datetime() == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert ma.ExpiresAt.from_datetime(at.to_datetime()) == at
    assert at.remaining(datetime(2023, 11, 14, 22, 13, 0, tzinfo=timezone.utc)) == timedelta(seconds=20)
    for never in (ma.ExpiresAt.from_epoch(0), ma.ExpiresAt.from_epoch(None), ma.ExpiresAt.never()):
        assert not never.does_expire() and never.to_datetime() is None and never.remaining() is None
    with pytest.raises(ValueError):
        ma.ExpiresAt.from_epoch(-1)


# ---- scopes --------------------------------------------------------------------------------


def test_scope_builders_and_combination():
    s = ma.PermissionScopes.cache_read_write("a") + ma.PermissionScopes.topic_subscribe_only(
        ma.AllCaches(), ma.TopicNamePrefix("news-")
    )
    assert isinstance(s, ma.PermissionScope) and not isinstance(s, ma.DisposableTokenScope)
    assert len(s.permissions) == 2
    assert s.permissions[0] == ma.CachePermission(ma.CacheRole.READ_WRITE, "a")
    d = ma.DisposableTokenScopes.cache_key_read_only("a", b"\x00k") + s
    assert isinstance(d, ma.DisposableTokenScope) and len(d.permissions) == 3
    assert ma.PermissionScopes.all_data_read_write() is ma.AllDataReadWrite
    assert repr(ma.SuperUser) == "SuperUser"
    f = ma.PermissionScopes.function_invoke(ma.AllCaches, ma.FunctionName("fn"))
    assert f.permissions[0].role is ma.FunctionRole.INVOKE


@pytest.mark.parametrize(
    "make",
    [
        lambda: ma.PermissionScopes.cache_read_write(""),
        lambda: ma.PermissionScopes.cache_read_write(7),
        lambda: ma.PermissionScopes.topic_publish_only("c", ""),
        lambda: ma.PermissionScope([ma.CachePermission("read_write", "c")]),
        lambda: ma.PermissionScope(["not a permission"]),
        lambda: ma.PermissionScope("abc"),
        lambda: ma.DisposableTokenScopes.cache_key_read_write("c", ""),
        lambda: ma.PermissionScope([ma.CachePermission(ma.CacheRole.READ_ONLY, f"c{i}") for i in range(11)]),
    ],
)
def test_bad_scopes_are_rejected_when_built(make):
    with pytest.raises(ma.InvalidArgumentError):
        make()


# ---- credentials ---------------------------------------------------------------------------


def test_credential_parse_and_redaction():
    key = "secret-raw-key-0123456789"
    env = _env(key, "cell-1.example.com")
    p = ma.CredentialProvider.from_string(env)
    assert p.kind == "v1_envelope"
    assert p.base_endpoint == "cell-1.example.com"
    assert p.control_endpoint == "control.cell-1.example.com:443"
    assert p.cache_endpoint == "cache.cell-1.example.com:443"
    assert p.token_endpoint == "token.cell-1.example.com:443"
    assert p.secure and not p.endpoints_overridden
    for text in (repr(p), str(p), f"{p}"):
        assert key not in text and env not in text
    o = ma.CredentialProvider.from_string(env, endpoint="127.0.0.1:4000", secure=False)
    assert o.control_endpoint == o.cache_endpoint == o.token_endpoint == "127.0.0.1:4000"
    assert not o.secure and o.endpoints_overridden


def test_credential_from_environment(monkeypatch):
    env = _env("k-from-env", "env.example.com")
    monkeypatch.setenv("MY_MOMENTO_KEY", env + "\n")
    p = ma.CredentialProvider.from_environment_variable("MY_MOMENTO_KEY")
    assert p.base_endpoint == "env.example.com"
    monkeypatch.delenv("MY_MOMENTO_KEY")
    with pytest.raises(ma.InvalidArgumentError) as e:
        ma.CredentialProvider.from_environment_variable("MY_MOMENTO_KEY")
    assert "MY_MOMENTO_KEY" in str(e.value)


def test_credential_from_file(tmp_path):
    f = tmp_path / "token.json"
    f.write_text(json.dumps({"authToken": _env("k", "f.example.com"), "refreshToken": "rt-secret",
                             "validUntil": "1900000000", "other": 1}))
    p = ma.CredentialProvider.from_file(f)
    assert p.refresh_token == "rt-secret"
    assert p.expires_at == ma.ExpiresAt.from_epoch(1900000000)
    assert "rt-secret" not in repr(p)
    with pytest.raises(ma.InvalidArgumentError):
        ma.CredentialProvider.from_file(tmp_path / "missing.json")


@pytest.mark.parametrize("bad", ["", "   ", "not a key", "e30=", 42, None])
def test_credential_rejects_bad_input(bad):
    with pytest.raises(ma.InvalidArgumentError) as e:
        ma.CredentialProvider.from_string(bad)
    assert isinstance(e.value, ValueError)
    if isinstance(bad, str) and bad.strip():
        assert bad not in str(e.value) or len(bad) < 5


def test_error_messages_never_echo_a_secret():
    secret = "S3cr3t-Value-That-Must-Not-Leak"
    with pytest.raises(ma.InvalidArgumentError) as e:
        ma.CredentialProvider.from_string(secret + ".x.y")
    assert secret not in str(e.value) and secret not in repr(e.value)


# ---- errors --------------------------------------------------------------------------------

BUILTIN = {
    "INVALID_ARGUMENT_ERROR": ValueError,
    "AUTHENTICATION_ERROR": builtins.PermissionError,
    "PERMISSION_ERROR": builtins.PermissionError,
    "TIMEOUT_ERROR": builtins.TimeoutError,
    "SERVER_UNAVAILABLE": builtins.ConnectionError,
    "CONNECTION_ERROR": builtins.ConnectionError,
}


@pytest.mark.parametrize("code", sorted(_errors._BY_CODE))
def test_error_table(code):
    err = _errors.make_error(code, "boom", 7, True)
    assert isinstance(err, ma.MomentoError)
    assert type(err).CODE == code and err.code == code
    assert err.grpc_status == 7 and err.retryable is True
    assert str(err) == "boom" and code in repr(err)
    if code in BUILTIN:
        assert isinstance(err, BUILTIN[code])
    assert getattr(ma, type(err).__name__) is type(err)
    with pytest.raises(ma.MomentoError):
        raise err


def test_unknown_code_maps_to_unknown_error():
    err = _errors.make_error("SOMETHING_NEW", "x", -1, False)
    assert type(err) is ma.UnknownError and err.code == "SOMETHING_NEW" and err.grpc_status is None


def test_closed_client_and_bad_arguments():
    p = ma.CredentialProvider.from_string(_env("k", "localhost"), endpoint="127.0.0.1:1", secure=False)
    c = ma.AuthClient(p)
    with pytest.raises(ma.InvalidArgumentError):
        c.generate_api_key("AllDataReadWrite", ma.ExpiresIn.hours(1))
    with pytest.raises(ma.InvalidArgumentError):
        c.generate_api_key(ma.AllDataReadWrite, 3600)
    with pytest.raises(ma.InvalidArgumentError):
        c.refresh_api_key(None)
    with pytest.raises(ma.InvalidArgumentError):
        c.generate_disposable_token(ma.DisposableTokenScopes.cache_read_only("c"), ma.ExpiresIn.never())
    with pytest.raises(ma.InvalidArgumentError):
        c.generate_disposable_token(ma.DisposableTokenScopes.cache_read_only("c"), ma.ExpiresIn.hours(1),
                                    token_id="x" * 65)
    with pytest.raises(ma.InvalidArgumentError):
        c.generate_api_key(ma.DisposableTokenScopes.cache_key_read_only("c", "k"), ma.ExpiresIn.hours(1))
    with pytest.raises(ma.InvalidArgumentError):
        ma.AuthClient(p, timeout=0)
    with pytest.raises(ma.InvalidArgumentError):
        ma.AuthClient("not a provider")
    c.close()
    c.close()  # idempotent
    assert c.closed and repr(c) == "AuthClient(closed)"
    with pytest.raises(ma.FailedPreconditionError):
        c.refresh_api_key("rt")
    with pytest.raises(ma.FailedPreconditionError):
        with c:
            pass


def test_refresh_api_key_arguments():
    # refresh_api_key is a native method: it must check its argument like the rest of the API.
    p = ma.CredentialProvider.from_string(_env("k", "localhost"), endpoint="127.0.0.1:1", secure=False)
    with ma.AuthClient(p) as c:
        assert str(inspect.signature(ma.AuthClient.refresh_api_key)) == "(self, /, refresh_token)"
        assert "refresh token" in ma.AuthClient.refresh_api_key.__doc__
        for bad, why in ((None, "must be a str, got NoneType"), (b"rt", "must be a str, got bytes"),
                         ("r\x00t", "NUL"), ("\ud800", "not valid UTF-8")):
            with pytest.raises(ma.InvalidArgumentError, match=why) as info:
                c.refresh_api_key(bad)
            assert info.value.code == "INVALID_ARGUMENT_ERROR" and info.value.grpc_status is None
            assert "\ud800" not in str(info.value)
        for args, kwargs in (((), {}), (("a", "b"), {}), ((), {"token": "a"}), (("a",), {"refresh_token": "b"})):
            with pytest.raises(TypeError):
                c.refresh_api_key(*args, **kwargs)
        with pytest.raises(TypeError):
            ma.AuthClient.refresh_api_key(object(), "rt")
        # Reaching the (unreachable) server proves both spellings get that far.
        for call in (lambda: c.refresh_api_key("rt"), lambda: c.refresh_api_key(refresh_token="rt")):
            with pytest.raises(ma.MomentoError) as info:
                call()
            assert not isinstance(info.value, ma.InvalidArgumentError)


def _env(key: str, endpoint: str) -> str:
    import base64

    return base64.b64encode(json.dumps({"endpoint": endpoint, "api_key": key}).encode()).decode()


# ---- additions: v2 keys from the environment, apiKey files, messages, types -----------------

_V2 = ("eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0IjoiZyIsImp0aSI6InNvbWUtaWQifQ.GMr9nA6HE0ttB6llXct_2Sg5-"
       "fOKGFbJCdACZFgNbN1fhT6OPg_hVc8ThGzBrWC_RlsBpLA1nzqK3SOJDXYxAw")


def test_from_environment_variables_v2(monkeypatch):
    monkeypatch.setenv("MOMENTO_API_KEY", _V2)
    monkeypatch.setenv("MOMENTO_ENDPOINT", "testEndpoint")
    p = ma.CredentialProvider.from_environment_variables_v2()
    assert p.kind == "v2_api_key" and p.base_endpoint == "testEndpoint"
    assert p.control_endpoint == "control.testEndpoint:443" and _V2 not in repr(p)
    monkeypatch.setenv("OTHER_KEY", _V2)
    monkeypatch.setenv("OTHER_ENDPOINT", "e2")
    assert ma.CredentialProvider.from_environment_variables_v2("OTHER_KEY", "OTHER_ENDPOINT").base_endpoint == "e2"
    monkeypatch.delenv("MOMENTO_ENDPOINT")
    with pytest.raises(ma.InvalidArgumentError, match="MOMENTO_ENDPOINT"):
        ma.CredentialProvider.from_environment_variables_v2()
    with pytest.raises(TypeError):
        ma.CredentialProvider.from_environment_variables_v2(3)  # type: ignore[arg-type]


def test_token_file_with_api_key_member(tmp_path):
    f = tmp_path / "sdk.json"
    f.write_text(json.dumps({"apiKey": _env("k", "f.example.com"), "refreshToken": "rt", "validUntil": 1900000000}))
    p = ma.CredentialProvider.from_file(f)
    assert p.kind == "v1_envelope" and p.refresh_token == "rt"
    # Written files keep the console's shape.
    store = ma.FileTokenStore(f)
    copy = ma.FileTokenStore(tmp_path / "copy.json")
    copy.write(store.read())
    assert set(json.loads((tmp_path / "copy.json").read_text())) == {"authToken", "refreshToken", "validUntil"}


def test_missing_file_says_so(tmp_path):
    with pytest.raises(ma.InvalidArgumentError, match="missing") as e:
        ma.CredentialProvider.from_file(tmp_path / "nope.json")
    assert str(tmp_path / "nope.json") in str(e.value)


def test_expires_at_repr_shows_a_date():
    assert repr(ma.ExpiresAt.from_epoch(1_700_000_000)) == "ExpiresAt(2023-11-14T22:13:20Z epoch=1700000000)"
    assert repr(ma.ExpiresAt.never()) == "ExpiresAt.never()"
    assert "epoch=18446744073709551615" in repr(ma.ExpiresAt.from_epoch(18446744073709551615))


@pytest.mark.parametrize(
    "call",
    [
        lambda: ma.CredentialProvider.from_string(42),
        lambda: ma.CredentialProvider.from_file(3.5),
        lambda: ma.ExpiresIn.seconds("10"),
        lambda: ma.ExpiresAt.from_datetime(5),
        lambda: ma.PermissionScopes.cache_read_write(7),
        lambda: ma.FileTokenStore(None),
        lambda: ma.AuthClient("key"),
        lambda: ma.AuthClientAsync(ma.CredentialProvider.for_momento_local(), timeout="5"),
        lambda: ma.Refresher("file:x"),
    ],
)
def test_wrong_argument_types_raise_type_error(call):
    with pytest.raises(TypeError) as e:
        call()
    assert isinstance(e.value, ma.InvalidArgumentError)  # as before, for code that catches it
