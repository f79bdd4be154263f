"""Token stores: the one place a fleet keeps its current key (a file, an AWS Secrets Manager
secret, or, read-only, an environment variable), in the console's Download-JSON shape."""

from __future__ import annotations

import os
from typing import Optional

from . import _native
from ._client import ApiKeyResult, _TokenResult
from ._credentials import PathLike
from ._errors import invalid_argument
from ._expiry import ExpiresAt
from ._redact import redact

__all__ = [
    "TokenStore",
    "FileTokenStore",
    "AwsSecretsManagerTokenStore",
    "EnvironmentTokenStore",
    "StoredToken",
]


def _nonempty_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise invalid_argument(f"{what} must be a str, got {type(value).__name__}")
    if not value:
        raise invalid_argument(f"{what} must not be empty")
    return value


def _optional_str(value: object, what: str) -> Optional[str]:
    if value is None:
        return None
    return _nonempty_str(value, what)


def _path(path: object, what: str = "path") -> str:
    try:
        p = os.fsdecode(os.fspath(path))  # type: ignore[arg-type]
    except TypeError:
        raise invalid_argument(f"{what} must be a str or os.PathLike, got {type(path).__name__}") from None
    if not p:
        raise invalid_argument(f"{what} must not be empty")
    return p


class StoredToken(_TokenResult):
    """The key a store holds: ``api_key``, ``refresh_token`` and ``expires_at``.

    ``api_key`` and ``refresh_token`` are secrets; ``repr()`` and ``str()`` redact them. A
    StoredToken can be written to another store, or used through :meth:`credential_provider`.
    """

    __slots__ = ()

    @property
    def api_key(self) -> str:
        """The key. Secret."""
        return self._api_key()

    @property
    def refresh_token(self) -> str:
        """The refresh token ("" when the store has none, e.g. a bare key). Secret."""
        return self._refresh_token()

    @property
    def valid_until(self) -> ExpiresAt:
        """Same as :attr:`expires_at` (``validUntil`` in the stored JSON; 0 = never)."""
        return self.expires_at

    def __repr__(self) -> str:
        rt = self._refresh_token()
        return (
            f"StoredToken(api_key={redact(self._api_key())}, "
            f"refresh_token={redact(rt) if rt else ''!s}, expires_at={self.expires_at!r})"
        )

    __str__ = __repr__


class TokenStore:
    """Base class of the token stores; thread-safe, and shareable by refreshers and watchers.

    Build one with :class:`FileTokenStore`, :class:`AwsSecretsManagerTokenStore`,
    :class:`EnvironmentTokenStore`, or from a specification with :meth:`from_spec`. Opening a
    store reads nothing; :meth:`read` and :meth:`write` do the I/O (without the GIL).
    """

    __slots__ = ("_native", "__weakref__")

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Internal: use a subclass or :meth:`from_spec`."""
        raise invalid_argument(
            "TokenStore is abstract: use FileTokenStore, AwsSecretsManagerTokenStore, "
            "EnvironmentTokenStore or TokenStore.from_spec()"
        )

    def _open(self, spec: str, **aws: Optional[str]) -> None:
        self._native = _native.Store(
            spec, aws.get("region"), aws.get("endpoint_url"), aws.get("profile")
        )

    @staticmethod
    def from_spec(
        spec: str,
        *,
        region: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        profile: Optional[str] = None,
    ) -> "TokenStore":
        """A store from its specification: ``"file:PATH"`` (or a bare path),
        ``"aws-sm:SECRET-ID"`` or ``"env:VARIABLE"``. The AWS options apply to ``aws-sm:``."""
        spec = _nonempty_str(spec, "spec")
        if spec.startswith("aws-sm:"):
            return AwsSecretsManagerTokenStore(
                spec[len("aws-sm:"):], region=region, endpoint_url=endpoint_url, profile=profile
            )
        if spec.startswith("env:"):
            return EnvironmentTokenStore(spec[len("env:"):])
        return FileTokenStore(spec[len("file:"):] if spec.startswith("file:") else spec)

    # Convenience constructors, for those who prefer a factory to the subclasses.

    @staticmethod
    def file(path: PathLike) -> "FileTokenStore":
        """Same as :class:`FileTokenStore`\\ ``(path)``."""
        return FileTokenStore(path)

    @staticmethod
    def aws_secrets_manager(
        secret_id: str,
        *,
        region: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        profile: Optional[str] = None,
    ) -> "AwsSecretsManagerTokenStore":
        """Same as :class:`AwsSecretsManagerTokenStore`\\ ``(secret_id, ...)``."""
        return AwsSecretsManagerTokenStore(
            secret_id, region=region, endpoint_url=endpoint_url, profile=profile
        )

    @staticmethod
    def environment(var: str = "MOMENTO_API_KEY") -> "EnvironmentTokenStore":
        """Same as :class:`EnvironmentTokenStore`\\ ``(var)``."""
        return EnvironmentTokenStore(var)

    @property
    def description(self) -> str:
        """The store's specification, e.g. ``"file:/etc/momento/token.json"`` (never a secret)."""
        return self._native.description

    @property
    def writable(self) -> bool:
        """False for read-only stores (the environment)."""
        return bool(self._native.writable)

    def read(self) -> StoredToken:
        """The key in the store. Raises :class:`NotFoundError` when the store holds none yet."""
        return self._native.load(StoredToken)

    def write(self, token: _TokenResult) -> None:
        """Replaces the stored key atomically (readers see the old or the new one, never a mix).

        ``token`` is an :class:`ApiKeyResult` (from ``generate_api_key``/``refresh_api_key``) or
        a :class:`StoredToken` read from another store. Read-only stores raise
        :class:`FailedPreconditionError`.
        """
        if not isinstance(token, (ApiKeyResult, StoredToken)):
            raise invalid_argument(
                f"token must be an ApiKeyResult or a StoredToken, got {type(token).__name__}"
            )
        self._native.store(token)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r})"

    __str__ = __repr__


class FileTokenStore(TokenStore):
    """A Download-JSON file: atomic writes (mode 0600), a cross-process lock for refreshers.

    Keep it on a local file system.
    """

    __slots__ = ()

    def __init__(self, path: PathLike) -> None:
        """The file at ``path`` (it need not exist until the first :meth:`write`)."""
        self._open("file:" + _path(path))


class AwsSecretsManagerTokenStore(TokenStore):
    """An AWS Secrets Manager secret (``AWSCURRENT`` stage), created by the first write.

    Credentials come from the environment or the shared config files, as the AWS CLI reads
    them. ``region`` defaults to ``AWS_REGION``/``AWS_DEFAULT_REGION``/the profile;
    ``endpoint_url`` (e.g. a VPC endpoint or a local emulator) to
    ``AWS_ENDPOINT_URL_SECRETS_MANAGER``/``AWS_ENDPOINT_URL``; ``profile`` to ``AWS_PROFILE``.
    """

    __slots__ = ()

    def __init__(
        self,
        secret_id: str,
        *,
        region: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        profile: Optional[str] = None,
    ) -> None:
        """The secret with this name or ARN."""
        secret_id = _nonempty_str(secret_id, "secret_id")
        self._open(
            "aws-sm:" + secret_id,
            region=_optional_str(region, "region"),
            endpoint_url=_optional_str(endpoint_url, "endpoint_url"),
            profile=_optional_str(profile, "profile"),
        )


class EnvironmentTokenStore(TokenStore):
    """An environment variable holding the Download-JSON object or a bare key. Read-only."""

    __slots__ = ()

    def __init__(self, var: str = "MOMENTO_API_KEY") -> None:
        """The variable named ``var`` (read at every :meth:`read`)."""
        self._open("env:" + _nonempty_str(var, "var"))
