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

from . import _client, _credentials, _errors, _expiry, _refresh, _scopes, _stores, _watcher  # noqa: E402
from ._client import *  # noqa: E402,F401,F403  (each module's __all__ is the public API)
from ._credentials import *  # noqa: E402,F401,F403
from ._errors import *  # noqa: E402,F401,F403
from ._expiry import *  # noqa: E402,F401,F403
from ._refresh import *  # noqa: E402,F401,F403
from ._scopes import *  # noqa: E402,F401,F403
from ._stores import *  # noqa: E402,F401,F403
from ._watcher import *  # noqa: E402,F401,F403

#: Version of this package (the same as the bundled libmomento_auth's).
__version__: str = _native.HEADER_VERSION
#: Version of the libmomento_auth actually loaded.
library_version: str = _native.library_version()
# The asyncio API (and asyncio itself) is imported on first use: most programs never need it.
_ASYNC = ("AuthClientAsync", "EventStream")


def __getattr__(name: str) -> object:
    if name in _ASYNC:
        from . import _async

        return getattr(_async, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "__version__",
    "library_version",
    *_client.__all__,
    *_ASYNC,
    *_credentials.__all__,
    *_expiry.__all__,
    *_scopes.__all__,
    *_stores.__all__,
    *_refresh.__all__,
    *_watcher.__all__,
    *_errors.__all__,
]
