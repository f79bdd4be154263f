"""Refresher: keeps the key in one token store fresh, in the background or one pass at a time."""

from __future__ import annotations

import enum
import weakref
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from . import _native
from ._credentials import PathLike, fspath
from ._errors import FailedPreconditionError, MomentoError, check_type, make_error, wrong_type
from ._expiry import ExpiresAt, duration_ms
from ._stores import TokenStore

if TYPE_CHECKING:
    from ._async import EventStream

__all__ = ["Refresher", "RefreshEvent", "RefreshEventKind", "Subscription"]

Seconds = Union[timedelta, float, int]


def _fraction(value: object, what: str) -> Optional[float]:
    if value is None:
        return None
    check_type(value, (int, float), what, "a number")
    return float(value)  # type: ignore[arg-type]


class RefreshEventKind(enum.Enum):
    """What a refresh pass did (the values are the library's names)."""

    #: This refresher exchanged the key and stored the new one.
    REFRESHED = "refreshed"
    #: A new key appeared in the store (the first read, or a peer refreshed it).
    ADOPTED = "adopted"
    #: An attempt failed; the current key stays in service and a retry is planned.
    FAILED = "failed"


class RefreshEvent:
    """One outcome of the refresher. Holds no secret: the key is redacted.

    Attributes:
        kind: a :class:`RefreshEventKind`.
        store: the store's description (``"file:..."``).
        redacted_key: the key now in service, redacted (``"eyJl…#1a2b3c4d"``).
        key_fingerprint: hex SHA-256 of that key; stable, comparable, not secret.
        expires_at: when that key expires.
        error_code: for failures the canonical code (e.g. ``"SERVER_UNAVAILABLE"``), else None.
        error_message: for failures a description (never a secret), else "".
        consecutive_failures: failures in a row so far (0 unless failed).
        next_attempt: for failures, when the refresher tries again (aware UTC), else None.
        replay: True when the attempt repeated a refresh whose answer was lost. A failure with
            replay True and code ``"FAILED_PRECONDITION_ERROR"`` means the server's replay window
            has passed: the key is kept and one last attempt waits (see docs/refresh.md).
        retryable: for failures, True when a later attempt may succeed.
    """

    __slots__ = (
        "kind",
        "store",
        "redacted_key",
        "key_fingerprint",
        "expires_at",
        "error_code",
        "error_message",
        "consecutive_failures",
        "next_attempt",
        "replay",
        "retryable",
    )

    def __init__(self, native: "_native.RefreshEvent") -> None:
        """Internal: events come from :class:`Refresher`."""
        check_type(native, _native.RefreshEvent, "native", "a native event (events come from a Refresher)")
        self.kind = RefreshEventKind(native.kind)
        self.store = native.store
        self.redacted_key = native.redacted_key
        self.key_fingerprint = native.key_fingerprint
        self.expires_at = ExpiresAt.from_epoch(native.valid_until)
        self.error_code = native.error_code
        self.error_message = native.error_message
        self.consecutive_failures = native.consecutive_failures
        ms = native.next_attempt_ms
        self.next_attempt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc) if ms else None
        self.replay = native.replay
        self.retryable = native.retryable

    @property
    def failed(self) -> bool:
        """True for :attr:`RefreshEventKind.FAILED`."""
        return self.kind is RefreshEventKind.FAILED

    @property
    def error(self) -> Optional[MomentoError]:
        """For failures the matching :class:`MomentoError` subclass instance (not raised)."""
        if self.error_code is None:
            return None
        return make_error(self.error_code, self.error_message, -1, self.retryable)

    def __repr__(self) -> str:
        parts = [f"kind={self.kind.value!r}", f"store={self.store!r}", f"key={self.redacted_key}",
                 f"expires_at={self.expires_at!r}"]
        if self.replay:
            parts.append("replay=True")
        if self.error_code is not None:
            parts += [f"error_code={self.error_code!r}", f"error_message={self.error_message!r}",
                      f"consecutive_failures={self.consecutive_failures}", f"retryable={self.retryable}"]
            if self.next_attempt is not None:
                parts.append(f"next_attempt={self.next_attempt.isoformat()!r}")
        return f"RefreshEvent({', '.join(parts)})"

    __str__ = __repr__


class Subscription:
    """A callback registered with :meth:`Refresher.subscribe` or :meth:`Watcher.on_change`.

    :meth:`cancel` ends it: once it returns, the callback is not running (unless ``cancel`` is
    called from the callback itself) and is not called again. Also a context manager.
    """

    __slots__ = ("_owner", "_id", "_active", "__weakref__")

    def __init__(self, owner: object, sub_id: int) -> None:
        """Internal: returned by ``subscribe``/``on_change``."""
        # Weak: a subscription does not keep its refresher or watcher running.
        self._owner = weakref.ref(owner)
        self._id = sub_id
        self._active = True

    @property
    def active(self) -> bool:
        """False once cancelled, or once its refresher or watcher is closed."""
        owner = self._owner()
        return self._active and owner is not None and not owner.closed

    def cancel(self) -> None:
        """Ends the subscription. Idempotent."""
        if self._active:
            self._active = False
            owner = self._owner()
            if owner is not None:
                owner.unsubscribe(self._id)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()

    def __repr__(self) -> str:
        return f"Subscription(id={self._id}, active={self.active})"


class _OnStore:
    # What Refresher and Watcher share: a native object over one store, closed once, whose
    # callbacks get its events as Python objects.
    __slots__ = ("_native", "_store", "__weakref__")

    @property
    def store(self) -> TokenStore:
        """The store this refresher keeps fresh, or this watcher follows."""
        return self._store

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return bool(self._native.closed)

    def close(self) -> None:
        self._native.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _subscribe(self, callback: object, wrap: Callable[[Any], object]) -> Subscription:
        if not callable(callback):
            raise wrong_type("callback", "callable", callback)

        def deliver(native: object) -> None:
            callback(wrap(native))

        return Subscription(self._native, self._native.subscribe(deliver, callback))

    @staticmethod
    def _stream(subscribe: Callable[[Callable[[Any], object]], Subscription]) -> "EventStream[Any]":
        from ._async import EventStream

        return EventStream(subscribe)


class Refresher(_OnStore):
    """Keeps the key in ``store`` fresh: refreshes it with its refresh token before it expires
    and writes the new key back, so every watcher of the store picks it up.

    Run **one** refresher per store. Either in the background (:meth:`start`/:meth:`stop`, or
    ``with Refresher(store) as r:``, which starts it and closes it on exit), or one pass at a
    time (:meth:`run_once`, :meth:`refresh_now`) from a scheduled job. Failures never remove the
    current key; they are reported as events with a planned retry.

    Every method is thread-safe and releases the GIL while it waits. Callbacks registered with
    :meth:`subscribe` run on a thread owned by the library, one at a time and in order, with the
    GIL held; an exception a callback raises goes to :func:`sys.unraisablehook`.

    Args:
        store: the :class:`TokenStore` to keep fresh (it must be writable).
        endpoint: ``"host:port"`` to send the refresh to instead of the key's own endpoint
            (a local momento-auth-server); ``secure=False`` uses plaintext there.
        timeout: deadline of each refresh call (timedelta or seconds; 15 s by default).
        ca_file: PEM file of trusted roots for TLS instead of the system's.
        refresh_fraction: refresh once this fraction of the key's lifetime has elapsed.
        jitter_fraction: refresh up to this fraction of the lifetime earlier, at random, so a
            fleet does not refresh all at once.
        backoff_initial, backoff_max: retry delays after failures, doubling from the first to
            the second.
        recheck_interval: longest time between two looks at the store.

    Options left unset take the library's defaults (docs/refresh.md); the library checks the
    policy as a whole and names the first rule a combination breaks.
    """

    __slots__ = ()

    def __init__(
        self,
        store: TokenStore,
        *,
        endpoint: Optional[str] = None,
        secure: bool = True,
        timeout: Optional[Seconds] = None,
        ca_file: Optional[PathLike] = None,
        refresh_fraction: Optional[float] = None,
        jitter_fraction: Optional[float] = None,
        backoff_initial: Optional[Seconds] = None,
        backoff_max: Optional[Seconds] = None,
        recheck_interval: Optional[Seconds] = None,
    ) -> None:
        """Nothing runs until :meth:`start`, :meth:`run_once` or :meth:`refresh_now`."""
        check_type(store, TokenStore, "store", "a TokenStore")
        if endpoint is not None:
            check_type(endpoint, str, "endpoint", "a str")
        check_type(secure, bool, "secure", "a bool")
        ca = None if ca_file is None else fspath(ca_file, "ca_file")
        # The library checks the whole policy and keeps its defaults; here only the types.
        def ms(value: object, what: str) -> Optional[int]:
            return None if value is None else duration_ms(value, what)

        self._store = store
        self._native = _native.Refresher(
            store._native,
            ms(timeout, "timeout"),
            ca,
            endpoint,
            secure,
            _fraction(refresh_fraction, "refresh_fraction"),
            _fraction(jitter_fraction, "jitter_fraction"),
            ms(backoff_initial, "backoff_initial"),
            ms(backoff_max, "backoff_max"),
            ms(recheck_interval, "recheck_interval"),
        )

    def start(self) -> None:
        """Starts refreshing in the background (idempotent)."""
        self._native.start()

    def stop(self) -> None:
        """Stops the background thread and waits for it (idempotent; at most one refresh call's
        deadline). Subscriptions stay; :meth:`start` resumes."""
        self._native.stop()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`/:meth:`close`."""
        return bool(self._native.running)

    def run_once(self) -> Optional[RefreshEvent]:
        """One pass on the calling thread: refreshes if the key is due.

        Returns the most telling event of the pass (a failure or a refresh over an adoption), or
        None when nothing was due. A failed refresh is an event, not an exception.
        """
        ev = self._native.run_once(False)
        return None if ev is None else RefreshEvent(ev)

    def refresh_now(self) -> RefreshEvent:
        """Refreshes at once, whatever the schedule (a key a peer already rotated is adopted)."""
        return RefreshEvent(self._native.run_once(True))

    def subscribe(self, callback: Callable[[RefreshEvent], object]) -> Subscription:
        """Calls ``callback(event)`` for every event, from the library's delivery thread.

        Never called from inside ``subscribe``. Events are delivered in order, including those
        of :meth:`run_once` and :meth:`refresh_now` (possibly after they returned).
        """
        return self._subscribe(callback, RefreshEvent)

    def events(self) -> "EventStream[RefreshEvent]":
        """The events as an async iterator (``async for event in refresher.events():``), made
        inside the running event loop; ``async with`` ends the subscription."""
        return self._stream(self.subscribe)

    def close(self) -> None:
        """Stops the background thread and ends every subscription; events not yet delivered
        are dropped. Idempotent; later calls raise :class:`FailedPreconditionError`. Calls in
        progress on other threads finish first. May be called from a callback."""
        self._native.close()

    def __enter__(self) -> "Refresher":
        if self._native.closed:
            raise FailedPreconditionError("the Refresher is closed")
        self.start()
        return self

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("running" if self.running else "stopped")
        return f"Refresher({self._store.description!r}, {state})"
