"""Watcher: an application's view of a token store, swapping a new key in without a restart."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Callable, Optional, Union

from . import _native
from ._credentials import CredentialProvider
from ._errors import FailedPreconditionError, check_type
from ._expiry import ExpiresAt, duration_ms
from ._refresh import Subscription, _OnStore
from ._stores import TokenStore

if TYPE_CHECKING:
    from ._async import EventStream

__all__ = ["Watcher", "WatchedKey"]


class WatchedKey:
    """The key a watcher serves, without the secret.

    Attributes:
        redacted_key: the key, redacted (``"eyJl…#1a2b3c4d"``).
        fingerprint: hex SHA-256 of the key; stable, comparable with
            :attr:`RefreshEvent.key_fingerprint`, not secret.
        expires_at: ``validUntil`` from the store.
    """

    __slots__ = ("redacted_key", "fingerprint", "expires_at")

    def __init__(self, native: "_native.WatchedKey") -> None:
        """Internal: from :attr:`Watcher.current_key` and :meth:`Watcher.on_change`."""
        check_type(native, _native.WatchedKey, "native", "a native key (keys come from a Watcher)")
        self.redacted_key = native.redacted_key
        self.fingerprint = native.fingerprint
        self.expires_at = ExpiresAt.from_epoch(native.valid_until)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WatchedKey):
            return NotImplemented
        return self.fingerprint == other.fingerprint

    def __hash__(self) -> int:
        return hash(("WatchedKey", self.fingerprint))

    def __repr__(self) -> str:
        return f"WatchedKey({self.redacted_key}, expires_at={self.expires_at!r})"

    __str__ = __repr__


class Watcher(_OnStore):
    """Follows the key in ``store``: reads it now, then re-reads it every ``interval`` on a
    library thread and swaps a new key in atomically.

    Use :attr:`credential_provider` for each new client (it never waits for I/O), register
    :meth:`on_change` to rebuild long-lived clients, and call :meth:`notify_unauthenticated`
    when a call fails with :class:`AuthenticationError` to re-read at once. Thread-safe; a
    context manager (closing on exit).

    Args:
        store: the :class:`TokenStore` to follow. It must hold a key now (else
            :class:`NotFoundError`).
        interval: re-read period (timedelta or seconds). None takes the library's default
            (30 s); the library checks the range (> 0, at most a day).
        endpoint: ``"host:port"`` to send requests made with the served credentials to, instead
            of the key's own endpoints; ``secure=False`` uses plaintext there.
    """

    __slots__ = ()

    def __init__(
        self,
        store: TokenStore,
        *,
        interval: Optional[Union[timedelta, float, int]] = None,
        endpoint: Optional[str] = None,
        secure: bool = True,
    ) -> None:
        """Reads the store once (without the GIL) and starts following it."""
        check_type(store, TokenStore, "store", "a TokenStore")
        period_ms = None if interval is None else duration_ms(interval, "interval")
        if endpoint is not None:
            check_type(endpoint, str, "endpoint", "a str")
        check_type(secure, bool, "secure", "a bool")
        self._store = store
        self._native = _native.Watcher.open(store._native, period_ms, endpoint, secure)

    @property
    def credential_provider(self) -> CredentialProvider:
        """The credential in service now, for an :class:`AuthClient` (or any client). It is a
        snapshot: it stays valid and unchanged when a newer key is swapped in."""
        return CredentialProvider(self._native.current())

    def current(self) -> CredentialProvider:
        """Same as :attr:`credential_provider`."""
        return self.credential_provider

    @property
    def current_key(self) -> WatchedKey:
        """The key in service now (redacted, fingerprint, expiry)."""
        return WatchedKey(self._native.current_key())

    def poll(self) -> bool:
        """Re-reads the store on the calling thread; True when a new key was swapped in."""
        return bool(self._native.poll())

    def notify_unauthenticated(self) -> None:
        """Reports that a call was refused as unauthenticated: the store is re-read soon
        (repeated reports within a second cost one read). Never blocks."""
        self._native.notify_unauthenticated()

    def on_change(self, callback: Callable[[WatchedKey], object]) -> Subscription:
        """Calls ``callback(key)`` with each new key after it is swapped in (not for the first
        one), from the library's delivery thread with the GIL held. An exception the callback
        raises goes to :func:`sys.unraisablehook`."""
        return self._subscribe(callback, WatchedKey)

    def changes(self) -> "EventStream[WatchedKey]":
        """New keys as an async iterator (``async for key in watcher.changes():``), made inside
        the running event loop; ``async with`` ends the subscription."""
        return self._stream(self.on_change)

    def close(self) -> None:
        """Stops following the store and ends every subscription. Idempotent; afterwards
        :attr:`credential_provider` raises :class:`FailedPreconditionError`. Credentials
        already handed out stay valid."""
        self._native.close()

    def __enter__(self) -> "Watcher":
        if self._native.closed:
            raise FailedPreconditionError("the Watcher is closed")
        return self

    def __repr__(self) -> str:
        if self.closed:
            return f"Watcher({self._store.description!r}, closed)"
        try:
            key = self.current_key
        except FailedPreconditionError:
            return f"Watcher({self._store.description!r}, closed)"
        return f"Watcher({self._store.description!r}, key={key.redacted_key})"
