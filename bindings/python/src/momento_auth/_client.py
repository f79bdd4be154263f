"""AuthClient and the results it returns."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Optional, Type, Union

from . import _native
from ._credentials import CredentialProvider, PathLike, fspath
from ._errors import FailedPreconditionError, check_type, wrong_type
from ._expiry import ExpiresAt, ExpiresIn, duration_ms
from ._scopes import AnyScope, PermissionScope, PredefinedScope

__all__ = ["AuthClient", "ApiKeyResult", "DisposableTokenResult"]

Lifetime = Union[ExpiresIn, timedelta, datetime]
redact = _native.redact
_new_result = object.__new__  # a result around a token from the library (no check needed)


def _lifetime(expires_in: object) -> "_native.ExpiresIn":
    if isinstance(expires_in, ExpiresIn):
        return expires_in._native
    if isinstance(expires_in, timedelta):
        return ExpiresIn.from_timedelta(expires_in)._native
    if isinstance(expires_in, datetime):
        return ExpiresIn.until(expires_in)._native
    raise wrong_type("expires_in", "ExpiresIn, timedelta or datetime", expires_in)


def _scope(scope: object) -> "_native.Scope":
    check_type(scope, (PermissionScope, PredefinedScope), "scope", "a PermissionScope or a predefined scope")
    return scope._native  # type: ignore[union-attr]


class _TokenResult:
    # The one class behind every result that holds a key (the library's one token type, which
    # the native token holds as is); the public names below only say where a token came from.
    # Results are made by this package only.
    __slots__ = ("_token", "__weakref__")

    def __init__(self, token: "_native.Token") -> None:
        """Internal: results come from the client and the stores."""
        check_type(token, _native.Token, "token", "a native token (results come from the library)")
        self._token = token

    @property
    def endpoint(self) -> str:
        """The base endpoint the service reported for the key (for a stored key, the one the key
        names)."""
        return self._token.endpoint

    @property
    def expires_at(self) -> ExpiresAt:
        """When the new key expires (``ExpiresAt.never()`` for a never-expiring key)."""
        return ExpiresAt.from_epoch(self._token.valid_until)

    @property
    def valid_until(self) -> ExpiresAt:
        """Same as :attr:`expires_at` (``validUntil`` in the Download-JSON; 0 = never)."""
        return self.expires_at

    @property
    def api_key(self) -> str:
        """The key (a v1 envelope). Secret."""
        return self._token.api_key

    @property
    def refresh_token(self) -> str:
        """The refresh token ("" when there is none). Secret."""
        return self._token.refresh_token

    def to_download_json(self) -> str:
        """The Download-JSON text ``{"authToken","refreshToken","validUntil"}``. Holds secrets."""
        return self._token.to_json()

    def write_download_json(self, path: PathLike) -> None:
        """Writes the Download-JSON file atomically with mode 0600 (replacing any old file).

        :meth:`CredentialProvider.from_file` reads it back.
        """
        self._token.write_file(fspath(path, "path"))

    def credential_provider(self, *, endpoint: Optional[str] = None, secure: bool = True) -> CredentialProvider:
        """A CredentialProvider for the new key (same ``endpoint``/``secure`` options)."""
        return CredentialProvider.from_string(self.api_key, endpoint=endpoint, secure=secure)

    def _fields(self) -> str:
        rt = self.refresh_token
        return f"api_key={redact(self.api_key)}, refresh_token={redact(rt) if rt else ''!s}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._fields()}, endpoint={self.endpoint!r}, expires_at={self.expires_at!r})"

    __str__ = __repr__


class ApiKeyResult(_TokenResult):
    """A key minted by :meth:`AuthClient.generate_api_key` or :meth:`AuthClient.refresh_api_key`.

    ``api_key`` and ``refresh_token`` are secrets; ``repr()`` and ``str()`` redact them.
    """

    __slots__ = ()


class DisposableTokenResult(_TokenResult):
    """A token minted by :meth:`AuthClient.generate_disposable_token` (no refresh token).

    ``auth_token`` (also ``api_key``) is a secret; ``repr()`` and ``str()`` redact it.
    """

    __slots__ = ()

    @property
    def auth_token(self) -> str:
        """The disposable token (a v1 envelope). Secret."""
        return self._token.api_key

    def credential_provider(self, *, endpoint: Optional[str] = None, secure: bool = True) -> CredentialProvider:
        """A CredentialProvider for the token (same ``endpoint``/``secure`` options)."""
        return CredentialProvider.from_disposable_token(self.api_key, endpoint=endpoint, secure=secure)

    def _fields(self) -> str:
        return f"auth_token={redact(self.api_key)}"


class AuthClient:
    """Mints and refreshes Momento API keys and disposable tokens.

    One client is meant to be shared: every method is thread-safe and releases the GIL while it
    waits for the service. Use it as a context manager or call :meth:`close`. Failures raise
    subclasses of :class:`MomentoError`. :class:`AuthClientAsync` is the asyncio version.

    Args:
        credential_provider: the caller's credential. Minting needs a super-user key;
            refreshing needs the key being refreshed.
        timeout: per-call deadline (a timedelta or seconds); 15 seconds by default.
        ca_file: PEM file of trusted roots for TLS instead of the system's.
        interruptible: when True (the default), Ctrl-C cancels a call made on the main
            thread at once (only that call: other threads' calls go on) and the SIGINT handler
            then runs (``KeyboardInterrupt``). False leaves the call alone: Ctrl-C takes effect
            when the call ends (at most ``timeout``).
    """

    __slots__ = ("_native", "_interruptible", "__weakref__")

    def __init__(
        self,
        credential_provider: CredentialProvider,
        *,
        timeout: Union[timedelta, float, None] = None,
        ca_file: Optional[PathLike] = None,
        interruptible: bool = True,
    ) -> None:
        """Connects lazily: no request is sent until the first call."""
        if getattr(self, "_native", None) is not None:
            raise FailedPreconditionError("the AuthClient is already open")
        check_type(credential_provider, CredentialProvider, "credential_provider", "a CredentialProvider")
        deadline_ms = None if timeout is None else duration_ms(timeout, "timeout")
        ca = None if ca_file is None else fspath(ca_file, "ca_file")
        check_type(interruptible, bool, "interruptible", "a bool")
        self._interruptible = interruptible
        self._native = _native.Client(credential_provider._native, deadline_ms, ca)

    def _client(self) -> "_native.Client":
        native = getattr(self, "_native", None)
        if native is None:  # made without __init__: as unusable as a closed client
            raise FailedPreconditionError("the AuthClient is closed")
        return native

    # The native calls, after the argument checks (nothing is sent yet): run now when `sync`,
    # else returned as calls for AuthClientAsync to await.
    def _join(self, sync: bool) -> Optional[bool]:
        return self._interruptible if sync else None  # None: a call to await

    def _call_generate_api_key(self, scope: object, expires_in: object, sync: bool = False) -> Any:
        return self._client().generate_api_key(_scope(scope), _lifetime(expires_in), self._join(sync))

    def _call_refresh_api_key(self, refresh_token: object, sync: bool = False) -> Any:
        check_type(refresh_token, str, "refresh_token", "a str")
        return self._client().refresh_api_key(refresh_token, self._join(sync))

    def _call_generate_disposable_token(self, scope: object, expires_in: object, token_id: object,
                                        sync: bool = False) -> Any:
        if token_id is not None:
            check_type(token_id, str, "token_id", "a str or None")
        return self._client().generate_disposable_token(_scope(scope), _lifetime(expires_in), token_id,
                                                        self._join(sync))

    def generate_api_key(self, scope: AnyScope, expires_in: Lifetime) -> ApiKeyResult:
        """Mints a new API key with ``scope`` that expires per ``expires_in``.

        ``expires_in`` is an :class:`ExpiresIn`, a timedelta, or a datetime to expire at.
        Requires a super-user key. Never retried automatically.
        """
        return ApiKeyResult(self._call_generate_api_key(scope, expires_in, sync=True))

    if TYPE_CHECKING:
        def refresh_api_key(self, refresh_token: str) -> ApiKeyResult: ...
    else:
        def refresh_api_key(self, /, refresh_token):  # signature: (self, /, refresh_token)
            """Trades the refresh token of this client's own key for a new key and refresh token.

            Build the client from the key being refreshed. Refresh tokens rotate: each one is
            meant to be used once. Never retried automatically. Returns an :class:`ApiKeyResult`.
            """
            if not (isinstance(self, AuthClient) and isinstance(refresh_token, str)):  # the rare case
                check_type(self, AuthClient, "self", "an AuthClient")
                check_type(refresh_token, str, "refresh_token", "a str")
            try:  # the hot path makes no Python call: each costs a microsecond after a round trip
                native = self._native
            except AttributeError:
                native = self._client()  # raises: made without __init__
            result = _new_result(ApiKeyResult)
            result._token = native.refresh_api_key(refresh_token, self._interruptible)
            return result

    def generate_disposable_token(
        self, scope: AnyScope, expires_in: Lifetime, token_id: Optional[str] = None
    ) -> DisposableTokenResult:
        """Mints a disposable token with ``scope`` (which may name single cache items).

        ``expires_in`` must expire. ``token_id`` (at most 64 characters) is recorded with the
        token. Requires a super-user key. Never retried automatically.
        """
        return DisposableTokenResult(self._call_generate_disposable_token(scope, expires_in, token_id, sync=True))

    def close(self) -> None:
        """Releases the connection. Idempotent; calls already in progress finish normally and
        later calls raise :class:`FailedPreconditionError`."""
        native = getattr(self, "_native", None)
        if native is not None:
            native.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        native = getattr(self, "_native", None)
        return native is None or native.closed

    def __enter__(self) -> "AuthClient":
        if self.closed:
            raise FailedPreconditionError("the AuthClient is closed")
        return self

    def __exit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        try:
            return f"AuthClient({self._client().redacted_credential()})"
        except FailedPreconditionError:
            return "AuthClient(closed)"
