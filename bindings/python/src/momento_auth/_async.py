"""asyncio: AuthClientAsync, and async iteration over refresher and watcher events.

Calls run on the library's worker threads, so the event loop never blocks; cancelling the task
that awaits one cancels the RPC through the library's cancel token.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import TracebackType
from typing import Any, AsyncIterator, Callable, Generic, Optional, Type, TypeVar, Union

from . import _native
from ._client import ApiKeyResult, AuthClient, DisposableTokenResult, Lifetime
from ._credentials import CredentialProvider, PathLike
from ._scopes import AnyScope

__all__ = ["AuthClientAsync", "EventStream"]  # momento_auth imports this module on first use

T = TypeVar("T")


async def wait_for_call(call: "_native.Call") -> Any:
    """The result of a native call, awaited without blocking the loop; cancellable."""
    loop = asyncio.get_running_loop()
    done: "asyncio.Future[None]" = loop.create_future()

    def settle() -> None:
        if not done.done():
            done.set_result(None)

    def on_done() -> None:  # on a worker thread
        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    call.on_done(on_done)
    call.start()
    try:
        await done
    except asyncio.CancelledError:
        call.cancel()  # the RPC ends at once with CANCELLED; its result is dropped
        raise
    return call.result()


class AuthClientAsync:
    """The asyncio version of :class:`AuthClient`: the same arguments and results, with
    :meth:`generate_api_key`, :meth:`refresh_api_key` and :meth:`generate_disposable_token` as
    coroutines. One client serves any number of concurrent calls. Use ``async with`` or call
    :meth:`close`.
    """

    __slots__ = ("_sync", "__weakref__")

    def __init__(
        self,
        credential_provider: CredentialProvider,
        *,
        timeout: Union[timedelta, float, None] = None,
        ca_file: Optional[PathLike] = None,
    ) -> None:
        """Connects lazily: no request is sent until the first call."""
        self._sync = AuthClient(credential_provider, timeout=timeout, ca_file=ca_file)

    async def generate_api_key(self, scope: AnyScope, expires_in: Lifetime) -> ApiKeyResult:
        """Mints a new API key; see :meth:`AuthClient.generate_api_key`."""
        return ApiKeyResult(await wait_for_call(self._sync._call_generate_api_key(scope, expires_in)))

    async def refresh_api_key(self, refresh_token: str) -> ApiKeyResult:
        """Trades this client's refresh token for a new key; see :meth:`AuthClient.refresh_api_key`."""
        return ApiKeyResult(await wait_for_call(self._sync._call_refresh_api_key(refresh_token)))

    async def generate_disposable_token(
        self, scope: AnyScope, expires_in: Lifetime, token_id: Optional[str] = None
    ) -> DisposableTokenResult:
        """Mints a disposable token; see :meth:`AuthClient.generate_disposable_token`."""
        call = self._sync._call_generate_disposable_token(scope, expires_in, token_id)
        return DisposableTokenResult(await wait_for_call(call))

    def close(self) -> None:
        """Releases the connection (idempotent); calls under way finish first."""
        self._sync.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._sync.closed

    async def __aenter__(self) -> "AuthClientAsync":
        self._sync.__enter__()
        return self

    async def __aexit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return "AuthClientAsync" + repr(self._sync)[len("AuthClient"):]


_END = object()


class _Sink:
    # The callback the library holds. When the subscription ends (cancelled, or its refresher or
    # watcher closed) the library drops it, and the stream learns that iteration is over.
    __slots__ = ("put",)

    def __init__(self, put: Callable[[object], None]) -> None:
        self.put = put

    def __call__(self, item: object) -> None:
        self.put(item)

    def __del__(self) -> None:
        self.put(_END)


class EventStream(Generic[T]):
    """Events of a :class:`Refresher` (:meth:`Refresher.events`) or new keys of a
    :class:`Watcher` (:meth:`Watcher.changes`) as an async iterator, in order. Iteration ends
    when the stream is closed (:meth:`aclose`, or leaving ``async with``) or its source is.
    Make it inside the running event loop that iterates it.
    """

    def __init__(self, subscribe: Callable[[Callable[[T], object]], Any]) -> None:
        """Internal: use :meth:`Refresher.events` or :meth:`Watcher.changes`."""
        loop = asyncio.get_running_loop()
        self._queue: "asyncio.Queue[object]" = asyncio.Queue()
        queue = self._queue

        def put(item: object) -> None:  # on a library thread
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed
                pass

        self._ended = False
        self._subscription = subscribe(_Sink(put))

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        if not self._ended:
            item = await self._queue.get()
            if item is not _END:
                return item  # type: ignore[return-value]
            self._ended = True
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Ends the subscription; iteration stops after the events already received."""
        self._subscription.cancel()

    async def __aenter__(self) -> "EventStream[T]":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
