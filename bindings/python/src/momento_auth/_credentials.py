"""CredentialProvider: a parsed Momento credential and the endpoints it talks to."""

from __future__ import annotations

import os
from typing import Optional, Tuple, Union

from . import _native
from ._errors import check_type, invalid_argument, wrong_type
from ._expiry import ExpiresAt

__all__ = ["CredentialProvider"]

PathLike = Union[str, "os.PathLike[str]"]


def _check_str(value: object, what: str) -> str:
    check_type(value, str, what, "a str")
    return value  # type: ignore[return-value]


def _check_endpoint(endpoint: Optional[str], secure: object) -> Optional[str]:
    check_type(secure, bool, "secure", "a bool")
    return None if endpoint is None else _check_str(endpoint, "endpoint")


def fspath(path: object, what: str) -> str:
    """A str or os.PathLike (bytes decoded as the file system does) as a str."""
    try:
        return os.fsdecode(os.fspath(path))  # type: ignore[arg-type]
    except TypeError:
        raise wrong_type(what, "a str or os.PathLike", path) from None


class CredentialProvider:
    """A Momento credential: the key, where to send each kind of request, and its expiry.

    Create one with :meth:`from_string`, :meth:`from_environment_variable` or :meth:`from_file`.
    Every constructor takes ``endpoint="host:port"`` to send control, cache and token requests
    to one address instead of the ones the credential names (for example a local
    momento-auth-server), and ``secure=False`` to use plaintext there. Immutable and safe to
    share between threads. ``repr()`` and ``str()`` never show the key.
    """

    __slots__ = ("_native", "__weakref__")

    def __init__(self, native: "_native.Credential") -> None:
        """Internal: use the ``from_*`` constructors."""
        if not isinstance(native, _native.Credential):
            raise invalid_argument("use CredentialProvider.from_string() and friends")
        self._native = native

    # ---- constructors ----

    @classmethod
    def from_string(
        cls, api_key: str, *, endpoint: Optional[str] = None, secure: bool = True
    ) -> "CredentialProvider":
        """Parses an API key: a v1 envelope, a legacy JWT, or a session token (needs endpoint)."""
        api_key = _check_str(api_key, "api_key")
        return cls(_native.Credential.from_string(api_key, _check_endpoint(endpoint, secure), secure))

    @classmethod
    def from_environment_variable(
        cls,
        env_var_name: Optional[str] = None,
        *,
        endpoint: Optional[str] = None,
        secure: bool = True,
    ) -> "CredentialProvider":
        """Reads the key from an environment variable (the library's default, ``MOMENTO_API_KEY``,
        when None)."""
        if env_var_name is not None:
            _check_str(env_var_name, "env_var_name")
        return cls(
            _native.Credential.from_env(env_var_name, None, _check_endpoint(endpoint, secure), secure)
        )

    @classmethod
    def from_file(
        cls, path: PathLike, *, endpoint: Optional[str] = None, secure: bool = True
    ) -> "CredentialProvider":
        """Reads a token file in the console's Download-JSON shape.

        The file holds ``{"authToken", "refreshToken", "validUntil"}``; the refresh token is
        kept and available as :attr:`refresh_token`.
        """
        path = fspath(path, "path")
        return cls(_native.Credential.from_file(path, _check_endpoint(endpoint, secure), secure))

    @classmethod
    def from_environment_variables_v2(
        cls,
        api_key_env_var: Optional[str] = None,
        endpoint_env_var: Optional[str] = None,
        *,
        endpoint: Optional[str] = None,
        secure: bool = True,
    ) -> "CredentialProvider":
        """A v2 API key and its base endpoint from two environment variables (None: the library's
        defaults, ``MOMENTO_API_KEY`` and ``MOMENTO_ENDPOINT``), as the Momento SDKs read them.
        A v1 key in the first variable works too: it names its own endpoint."""
        for name, what in ((api_key_env_var, "api_key_env_var"), (endpoint_env_var, "endpoint_env_var")):
            if name is not None:
                _check_str(name, what)
        return cls(_native.Credential.from_env(api_key_env_var, endpoint_env_var,
                                               _check_endpoint(endpoint, secure), secure))

    @classmethod
    def from_api_key_v2(
        cls, api_key: str, endpoint: str, *, override: Optional[str] = None, secure: bool = True
    ) -> "CredentialProvider":
        """A v2 API key with its base endpoint (e.g. ``"cell-4-us-west-2-1.prod.a.momentohq.com"``).

        ``override="host:port"`` sends every request there instead.
        """
        api_key = _check_str(api_key, "api_key")
        endpoint = _check_str(endpoint, "endpoint")
        return cls(
            _native.Credential.from_v2(api_key, endpoint, _check_endpoint(override, secure), secure)
        )

    @classmethod
    def from_disposable_token(
        cls, auth_token: str, *, endpoint: Optional[str] = None, secure: bool = True
    ) -> "CredentialProvider":
        """A disposable token (as returned by AuthClient.generate_disposable_token)."""
        auth_token = _check_str(auth_token, "auth_token")
        return cls(
            _native.Credential.from_disposable_token(
                auth_token, _check_endpoint(endpoint, secure), secure
            )
        )

    @classmethod
    def for_momento_local(cls, host: Optional[str] = None, port: Optional[int] = None) -> "CredentialProvider":
        """No key at all; every request goes to ``host:port`` in plaintext (a local emulator).

        Either left out is the library's local address (momento-auth-server's default).
        """
        if host is not None:
            _check_str(host, "host")
        if port is not None:
            check_type(port, int, "port", "an int")
            if not 0 < port < 65536:  # what fits the C ABI's port; there 0 means the default
                raise invalid_argument("port must be an int between 1 and 65535")
        return cls(_native.Credential.local(host, port or 0))

    # ---- inspection ----

    @property
    def kind(self) -> str:
        """``"v1_envelope"``, ``"v2_api_key"``, ``"legacy_jwt"``, ``"session_token"`` or ``"local"``."""
        return self._native.kind

    @staticmethod
    def _address(ep: Tuple[str, int, bool]) -> str:
        host, port, _secure = ep
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def control_endpoint(self) -> str:
        """``host:port`` of the control service (auth.Auth and cache management)."""
        return self._address(self._native.control)

    @property
    def cache_endpoint(self) -> str:
        """``host:port`` of the cache (data) service."""
        return self._address(self._native.cache)

    @property
    def token_endpoint(self) -> str:
        """``host:port`` of the token service (disposable tokens)."""
        return self._address(self._native.token)

    @property
    def secure(self) -> bool:
        """True when requests use TLS."""
        return bool(self._native.control[2])

    @property
    def base_endpoint(self) -> str:
        """The base endpoint the credential names ("" for legacy, session and local ones)."""
        return self._native.base_endpoint

    @property
    def endpoints_overridden(self) -> bool:
        """True when ``endpoint=`` replaced the credential's own endpoints."""
        return bool(self._native.endpoints_overridden)

    @property
    def expires_at(self) -> Optional[ExpiresAt]:
        """When the key expires (``ExpiresAt.never()`` if it does not), or None when unknown."""
        epoch = self._native.expiry()
        return None if epoch is None else ExpiresAt.from_epoch(epoch)  # 0: never

    @property
    def refresh_token(self) -> Optional[str]:
        """The refresh token read with :meth:`from_file`, or None. A secret: do not log it."""
        return self._native.refresh_token() or None

    def __repr__(self) -> str:
        rt = self._native.refresh_token()
        extra = f", refresh_token={_native.redact(rt)}" if rt else ""
        return f"CredentialProvider({self._native.redacted}{extra})"

    __str__ = __repr__
