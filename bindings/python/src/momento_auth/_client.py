"""AuthClient and the results it returns."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Optional, Type, Union

from . import _native
from ._credentials import CredentialProvider, PathLike
from ._errors import FailedPreconditionError, invalid_argument
from ._expiry import ExpiresAt, ExpiresIn
from ._redact import redact
from ._scopes import AnyScope, PermissionScope, PredefinedScope

__all__ = ["AuthClient", "ApiKeyResult", "DisposableTokenResult"]

Lifetime = Union[ExpiresIn, timedelta, datetime]


def _lifetime(expires_in: object) -> "_native.ExpiresIn":
    if isinstance(expires_in, ExpiresIn):
        return expires_in._native
    if isinstance(expires_in, timedelta):
        return ExpiresIn.from_timedelta(expires_in)._native
    if isinstance(expires_in, datetime):
        return ExpiresIn.until(expires_in)._native
    raise invalid_argument(
        f"expires_in must be ExpiresIn, timedelta or datetime, got {type(expires_in).__name__}"
    )


def _scope(scope: object) -> "_native.Scope":
    if isinstance(scope, (PermissionScope, PredefinedScope)):
        return scope._native
    raise invalid_argument(
        f"scope must be a PermissionScope or a predefined scope, got {type(scope).__name__}"
    )


class _TokenResult(_native.Token):
    # The key lives in the native base; results are made by the native layer only.
    __slots__ = ()

    @property
    def endpoint(self) -> str:
        """The base endpoint the service reported for the new key."""
        return self._endpoint()

    @property
    def expires_at(self) -> ExpiresAt:
        """When the new key expires (``ExpiresAt.never()`` for a never-expiring key)."""
        return ExpiresAt.from_epoch(self._valid_until())

    def to_download_json(self) -> str:
        """The Download-JSON text ``{"authToken","refreshToken","validUntil"}``. Holds secrets."""
        return self._to_json()

    def write_download_json(self, path: PathLike) -> None:
        """Writes the Download-JSON file atomically with mode 0600 (replacing any old file).

        :meth:`CredentialProvider.from_file` reads it back.
        """
        try:
            p = os.fsdecode(os.fspath(path))
        except TypeError:
            raise invalid_argument(f"path must be a str or os.PathLike, got {type(path).__name__}") from None
        self._write_file(p)

    def credential_provider(
        self, *, endpoint: Optional[str] = None, secure: bool = True
    ) -> CredentialProvider:
        """A CredentialProvider for the new key (same ``endpoint``/``secure`` options)."""
        return CredentialProvider.from_string(self._api_key(), endpoint=endpoint, secure=secure)


class ApiKeyResult(_TokenResult):
    """A key minted by :meth:`AuthClient.generate_api_key` or :meth:`AuthClient.refresh_api_key`.

    ``api_key`` and ``refresh_token`` are secrets; ``repr()`` and ``str()`` redact them.
    """

    __slots__ = ()

    @property
    def api_key(self) -> str:
        """The new key (a v1 envelope). Secret."""
        return self._api_key()

    @property
    def refresh_token(self) -> str:
        """The refresh token ("" for a never-expiring key). Secret."""
        return self._refresh_token()

    def __repr__(self) -> str:
        rt = self._refresh_token()
        return (
            f"ApiKeyResult(api_key={redact(self._api_key())}, "
            f"refresh_token={redact(rt) if rt else ''!s}, endpoint={self.endpoint!r}, "
            f"expires_at={self.expires_at!r})"
        )

    __str__ = __repr__


class DisposableTokenResult(_TokenResult):
    """A token minted by :meth:`AuthClient.generate_disposable_token` (no refresh token).

    ``auth_token`` (also ``api_key``) is a secret; ``repr()`` and ``str()`` redact it.
    """

    __slots__ = ()

    @property
    def auth_token(self) -> str:
        """The disposable token (a v1 envelope). Secret."""
        return self._api_key()

    @property
    def api_key(self) -> str:
        """Same as :attr:`auth_token`."""
        return self._api_key()

    @property
    def refresh_token(self) -> str:
        """Always "" : disposable tokens cannot be refreshed."""
        return self._refresh_token()

    def credential_provider(
        self, *, endpoint: Optional[str] = None, secure: bool = True
    ) -> CredentialProvider:
        """A CredentialProvider for the token (same ``endpoint``/``secure`` options)."""
        return CredentialProvider.from_disposable_token(
            self._api_key(), endpoint=endpoint, secure=secure
        )

    def __repr__(self) -> str:
        return (
            f"DisposableTokenResult(auth_token={redact(self._api_key())}, "
            f"endpoint={self.endpoint!r}, expires_at={self.expires_at!r})"
        )

    __str__ = __repr__


class AuthClient(_native.Client):
    """Mints and refreshes Momento API keys and disposable tokens.

    One client is meant to be shared: every method is thread-safe and releases the GIL while it
    waits for the service. Use it as a context manager or call :meth:`close`. Failures raise
    subclasses of :class:`MomentoError`.

    Args:
        credential_provider: the caller's credential. Minting needs a super-user key;
            refreshing needs the key being refreshed.
        timeout: per-call deadline (a timedelta or seconds); 15 seconds by default.
        ca_file: PEM file of trusted roots for TLS instead of the system's.
        interruptible: when True (the default), Ctrl-C cancels a call made on the main
            thread at once (only that call: other threads' calls go on) and the SIGINT handler
            then runs (``KeyboardInterrupt``). False leaves SIGINT alone: Ctrl-C takes effect
            when the call ends (at most ``timeout``). Calls from other threads are never
            cancelled by Ctrl-C.
    """

    # The C++ client lives in the native base (weak references included).
    __slots__ = ()

    def __init__(
        self,
        credential_provider: CredentialProvider,
        *,
        timeout: Union[timedelta, float, None] = None,
        ca_file: Optional[PathLike] = None,
        interruptible: bool = True,
    ) -> None:
        """Connects lazily: no request is sent until the first call."""
        if not isinstance(credential_provider, CredentialProvider):
            raise invalid_argument(
                f"credential_provider must be a CredentialProvider, got {type(credential_provider).__name__}"
            )
        deadline_ms: Optional[int] = None
        if timeout is not None:
            if isinstance(timeout, timedelta):
                seconds = timeout.total_seconds()
            elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
                seconds = float(timeout)
            else:
                raise invalid_argument(f"timeout must be a timedelta or seconds, got {type(timeout).__name__}")
            deadline_ms = int(round(seconds * 1000))
            if not deadline_ms > 0:
                raise invalid_argument("timeout must be positive")
        ca: Optional[str] = None
        if ca_file is not None:
            try:
                ca = os.fsdecode(os.fspath(ca_file))
            except TypeError:
                raise invalid_argument("ca_file must be a str or os.PathLike") from None
        if not isinstance(interruptible, bool):
            raise invalid_argument("interruptible must be a bool")
        self._open(credential_provider._native, deadline_ms, ca, interruptible)

    def generate_api_key(self, scope: AnyScope, expires_in: Lifetime) -> ApiKeyResult:
        """Mints a new API key with ``scope`` that expires per ``expires_in``.

        ``expires_in`` is an :class:`ExpiresIn`, a timedelta, or a datetime to expire at.
        Requires a super-user key. Never retried automatically.
        """
        return self._generate_api_key(_scope(scope), _lifetime(expires_in), ApiKeyResult)

    if TYPE_CHECKING:
        # Implemented natively (installed below) to keep the per-call cost down.
        def refresh_api_key(self, refresh_token: str) -> ApiKeyResult: ...

    def generate_disposable_token(
        self, scope: AnyScope, expires_in: Lifetime, token_id: Optional[str] = None
    ) -> DisposableTokenResult:
        """Mints a disposable token with ``scope`` (which may name single cache items).

        ``expires_in`` must expire. ``token_id`` (at most 64 characters) is recorded with the
        token. Requires a super-user key. Never retried automatically.
        """
        if token_id is not None and not isinstance(token_id, str):
            raise invalid_argument(f"token_id must be a str or None, got {type(token_id).__name__}")
        return self._generate_disposable_token(
            _scope(scope), _lifetime(expires_in), token_id, DisposableTokenResult
        )

    def close(self) -> None:
        """Releases the connection. Idempotent; calls already in progress finish normally and
        later calls raise :class:`FailedPreconditionError`."""
        self._close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._closed()

    def __enter__(self) -> "AuthClient":
        if self._closed():
            raise FailedPreconditionError("the AuthClient is closed")
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._closed():
            return "AuthClient(closed)"
        try:
            return f"AuthClient({self._redacted_credential()})"
        except FailedPreconditionError:
            return "AuthClient(closed)"


_native.install_refresh_api_key(
    AuthClient,
    ApiKeyResult,
    """Trades the refresh token of this client's own key for a new key and refresh token.

Build the client from the key being refreshed. Refresh tokens rotate: each one is meant to be
used once. Never retried automatically. Returns an :class:`ApiKeyResult`.
""",
)
