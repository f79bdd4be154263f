"""Token stores: the one place a fleet keeps its current key (a file, an AWS Secrets Manager
secret, any secret manager with a command-line tool, or, read-only, an environment variable), in
the console's Download-JSON shape."""

from __future__ import annotations

from typing import Optional, Sequence

from . import _native
from ._client import ApiKeyResult, _TokenResult
from ._credentials import PathLike, fspath
from ._errors import check_type, invalid_argument

__all__ = [
    "TokenStore",
    "FileTokenStore",
    "AwsSecretsManagerTokenStore",
    "EnvironmentTokenStore",
    "ExecTokenStore",
    "StoredToken",
]


def _nonempty(value: object, what: str) -> str:
    check_type(value, str, what, "a str")
    if not value:
        raise invalid_argument(f"{what} must not be empty")
    return value  # type: ignore[return-value]


def _optional(value: object, what: str) -> Optional[str]:
    return None if value is None else _nonempty(value, what)


class StoredToken(_TokenResult):
    """The key a store holds: ``api_key``, ``refresh_token`` and ``expires_at``.

    ``api_key`` and ``refresh_token`` are secrets; ``repr()`` and ``str()`` redact them. A
    StoredToken can be written to another store, or used through :meth:`credential_provider`.
    """

    __slots__ = ()


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

    def _open(self, spec: str, region: Optional[str] = None, endpoint_url: Optional[str] = None,
              profile: Optional[str] = None) -> None:
        self._native = _native.Store(spec, _optional(region, "region"), _optional(endpoint_url, "endpoint_url"),
                                     _optional(profile, "profile"))

    @staticmethod
    def from_spec(
        spec: str,
        *,
        region: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        profile: Optional[str] = None,
    ) -> "TokenStore":
        """A store from its specification: ``"file:PATH"`` (or a bare path),
        ``"aws-sm:SECRET-ID"``, ``"env:VARIABLE"`` or ``"exec:{JSON}"``. The AWS options apply to
        ``aws-sm:``."""
        store = TokenStore.__new__(TokenStore)
        store._open(_nonempty(spec, "spec"), region, endpoint_url, profile)  # the library reads the spec
        store.__class__ = _KINDS[store._native.kind]  # the class of the kind of store it opened
        return store

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
    def environment(var: Optional[str] = None) -> "EnvironmentTokenStore":
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
        return StoredToken(self._native.load().join())

    def write(self, token: _TokenResult) -> None:
        """Replaces the stored key atomically (readers see the old or the new one, never a mix).

        ``token`` is an :class:`ApiKeyResult` (from ``generate_api_key``/``refresh_api_key``) or
        a :class:`StoredToken` read from another store. Read-only stores raise
        :class:`FailedPreconditionError`.
        """
        check_type(token, (ApiKeyResult, StoredToken), "token", "an ApiKeyResult or a StoredToken")
        self._native.store(token._token).join()

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
        path = fspath(path, "path")
        if not path:
            raise invalid_argument("path must not be empty")
        self._open("file:" + path)


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
        self._open("aws-sm:" + _nonempty(secret_id, "secret_id"), region, endpoint_url, profile)


class ExecTokenStore(TokenStore):
    """A key kept by a secret manager's command-line tool (``pass``, ``gcloud``, ``vault``, ``op``...).

    ``read`` prints the key (the Download-JSON object or a bare key); ``write``, when given, reads
    the Download-JSON object on its standard input. Both are argument lists run without a shell;
    the key never appears in their arguments or environment. ``timeout_ms`` bounds each run.
    Same as ``TokenStore.from_spec("exec:" + json)``; see docs/stores.md for the syntax.
    """

    __slots__ = ()

    def __init__(
        self,
        read: Sequence[str],
        write: Optional[Sequence[str]] = None,
        *,
        timeout_ms: Optional[int] = None,
    ) -> None:
        """The helper commands ``read`` and (optionally) ``write``."""
        for name, argv in (("read", read), ("write", write)):
            if isinstance(argv, (str, bytes)):  # list("pass show x") would be one letter per argument
                raise invalid_argument(f"{name} must be a list of arguments, not a str")
        spec: dict = {"read": list(read)}
        if write is not None:
            spec["write"] = list(write)
        if timeout_ms is not None:
            spec["timeoutMs"] = timeout_ms
        import json  # here: most programs never need it at import

        self._open("exec:" + json.dumps(spec))  # the library checks every member


class EnvironmentTokenStore(TokenStore):
    """An environment variable holding the Download-JSON object or a bare key. Read-only."""

    __slots__ = ()

    def __init__(self, var: Optional[str] = None) -> None:
        """The variable named ``var`` (the library's default, ``MOMENTO_API_KEY``, when None), read
        at every :meth:`read`."""
        self._open("env:" + ("" if var is None else _nonempty(var, "var")))


_KINDS = {  # by the library's names of the kinds of store
    "file": FileTokenStore,
    "aws-sm": AwsSecretsManagerTokenStore,
    "env": EnvironmentTokenStore,
    "exec": ExecTokenStore,
}
