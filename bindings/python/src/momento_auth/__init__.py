"""momento_auth: Momento API keys for Python — parse, mint, refresh and store them.

A thin, typed layer over libmomento_auth's C ABI::

    from momento_auth import AuthClient, CredentialProvider, ExpiresIn, AllDataReadWrite

    provider = CredentialProvider.from_environment_variables_v2()  # MOMENTO_API_KEY (+ _ENDPOINT)
    with AuthClient(provider) as client:  # or: async with AuthClientAsync(provider)
        key = client.generate_api_key(AllDataReadWrite, ExpiresIn.days(30))
        key.write_download_json("momento_token.json")

    # Keep it fresh (one refresher per store) and follow it in every application:
    store = FileTokenStore("momento_token.json")
    with Refresher(store), Watcher(store) as watcher:
        client = AuthClient(watcher.credential_provider)

Every failure raises a subclass of :class:`MomentoError`; secrets never appear in ``repr()``.
"""

from __future__ import annotations

from ._abi import load as _load

_load()
from . import _native  # noqa: E402  (loaded and checked just above)

from ._async import AuthClientAsync, EventStream  # noqa: E402
from ._client import ApiKeyResult, AuthClient, DisposableTokenResult  # noqa: E402
from ._credentials import CredentialProvider  # noqa: E402
from ._errors import (  # noqa: E402
    AlreadyExistsError,
    AuthenticationError,
    BadRequestError,
    CancelledError,
    ClientResourceExhaustedError,
    FailedPreconditionError,
    InternalServerError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    LimitExceededError,
    MomentoConnectionError,
    MomentoError,
    MomentoTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    ServerUnavailableError,
    UnknownError,
    UnknownServiceError,
)
from ._expiry import ExpiresAt, ExpiresIn  # noqa: E402
from ._refresh import Refresher, RefreshEvent, RefreshEventKind, Subscription  # noqa: E402
from ._scopes import (  # noqa: E402
    AllCacheItems,
    AllCaches,
    AllDataReadOnly,
    AllDataReadWrite,
    AllFunctions,
    AllTopics,
    CacheItemKey,
    CacheItemKeyPrefix,
    CacheName,
    CachePermission,
    CacheRole,
    DisposableTokenCachePermission,
    DisposableTokenScope,
    DisposableTokenScopes,
    FunctionName,
    FunctionNamePrefix,
    FunctionPermission,
    FunctionRole,
    PermissionScope,
    PermissionScopes,
    PredefinedScope,
    SuperUser,
    TopicName,
    TopicNamePrefix,
    TopicPermission,
    TopicRole,
)
from ._stores import (  # noqa: E402
    AwsSecretsManagerTokenStore,
    EnvironmentTokenStore,
    ExecTokenStore,
    FileTokenStore,
    StoredToken,
    TokenStore,
)
from ._watcher import WatchedKey, Watcher  # noqa: E402

#: Version of this package (the same as the bundled libmomento_auth's).
__version__: str = _native.HEADER_VERSION
#: Version of the libmomento_auth actually loaded.
library_version: str = _native.library_version()

__all__ = [
    "__version__",
    "library_version",
    "AuthClient",
    "AuthClientAsync",
    "EventStream",
    "ApiKeyResult",
    "DisposableTokenResult",
    "CredentialProvider",
    "ExpiresIn",
    "ExpiresAt",
    "PermissionScope",
    "DisposableTokenScope",
    "PredefinedScope",
    "PermissionScopes",
    "DisposableTokenScopes",
    "SuperUser",
    "AllDataReadWrite",
    "AllDataReadOnly",
    "AllCaches",
    "CacheName",
    "AllTopics",
    "TopicName",
    "TopicNamePrefix",
    "AllFunctions",
    "FunctionName",
    "FunctionNamePrefix",
    "AllCacheItems",
    "CacheItemKey",
    "CacheItemKeyPrefix",
    "CacheRole",
    "TopicRole",
    "FunctionRole",
    "CachePermission",
    "TopicPermission",
    "FunctionPermission",
    "DisposableTokenCachePermission",
    "TokenStore",
    "FileTokenStore",
    "AwsSecretsManagerTokenStore",
    "EnvironmentTokenStore",
    "ExecTokenStore",
    "StoredToken",
    "Refresher",
    "RefreshEvent",
    "RefreshEventKind",
    "Subscription",
    "Watcher",
    "WatchedKey",
    "MomentoError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "AlreadyExistsError",
    "LimitExceededError",
    "FailedPreconditionError",
    "CancelledError",
    "MomentoTimeoutError",
    "ServerUnavailableError",
    "InternalServerError",
    "UnknownServiceError",
    "BadRequestError",
    "MomentoConnectionError",
    "ClientResourceExhaustedError",
    "UnknownError",
]
