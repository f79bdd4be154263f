"""The asyncio API: AuthClientAsync and async iteration over refresher and watcher events, against a
real momento-auth-server (and a peer that never answers, for cancellation)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import momento_auth as ma
from conftest import Blackhole, Server
from refresh_helpers import mint_into

pytestmark = pytest.mark.asyncio


async def test_mint_refresh_and_disposable_token(server: Server):
    async with ma.AuthClientAsync(server.provider()) as admin:
        key = await admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
        assert isinstance(key, ma.ApiKeyResult) and key.refresh_token and key.expires_at.does_expire()
        tok = await admin.generate_disposable_token(
            ma.DisposableTokenScopes.cache_key_read_only("c", "k"), ma.ExpiresIn.minutes(5), token_id="t1")
        assert isinstance(tok, ma.DisposableTokenResult) and tok.auth_token
        assert "AuthClientAsync(" in repr(admin) and key.api_key not in repr(key)
    assert admin.closed and repr(admin) == "AuthClientAsync(closed)"
    with pytest.raises(ma.FailedPreconditionError):
        await admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))

    own = ma.AuthClientAsync(key.credential_provider(endpoint=server.address, secure=False))
    fresh = await own.refresh_api_key(key.refresh_token)
    assert fresh.api_key != key.api_key and fresh.refresh_token != key.refresh_token
    own.close()


async def test_errors_and_argument_types(server: Server):
    async with ma.AuthClientAsync(server.provider()) as admin:
        with pytest.raises(TypeError):
            await admin.refresh_api_key(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await admin.generate_api_key("AllDataReadWrite", ma.ExpiresIn.hours(1))  # type: ignore[arg-type]
        with pytest.raises(ma.InvalidArgumentError):
            await admin.generate_disposable_token(ma.AllDataReadOnly, ma.ExpiresIn.hours(1), token_id="x" * 65)
        with pytest.raises(ma.AuthenticationError):
            await admin.refresh_api_key("not-a-refresh-token")


async def test_many_concurrent_calls_on_one_client(server: Server):
    # 20 at a time: the test server runs 32 handler threads.
    async with ma.AuthClientAsync(server.provider()) as admin:
        keys = []
        for _ in range(3):
            keys += await asyncio.gather(
                *(admin.generate_api_key(ma.AllDataReadOnly, ma.ExpiresIn.hours(1)) for _ in range(20)))
    assert len({k.api_key for k in keys}) == 60


async def test_cancelling_the_task_cancels_the_rpc(server: Server, blackhole: Blackhole):
    provider = ma.CredentialProvider.from_string(server.super_key, endpoint=blackhole.address, secure=False)
    client = ma.AuthClientAsync(provider, timeout=120)
    # The native call behind the coroutine, to see how it ended.
    call = client._sync._call_generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))
    task = asyncio.ensure_future(ma._async.wait_for_call(call))
    # The loop keeps running while the call waits for a peer that never answers.
    assert await asyncio.to_thread(blackhole.connected.wait, 20), "the call never reached the peer"
    assert not task.done() and not call.done
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The RPC itself was cancelled through the library's cancel token (its deadline is 120 s).
    with pytest.raises(ma.CancelledError):
        await asyncio.wait_for(asyncio.to_thread(call.join, False), 30)
    # The public coroutine too, and the client stays usable.
    pending = asyncio.ensure_future(client.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1)))
    await asyncio.sleep(0.2)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    client.close()
    async with ma.AuthClientAsync(server.provider()) as admin:
        assert (await admin.generate_api_key(ma.AllDataReadWrite, ma.ExpiresIn.hours(1))).api_key


async def test_refresher_events_and_watcher_changes(tmp_path: Path, server: Server, admin: ma.AuthClient):
    store = ma.FileTokenStore(tmp_path / "token.json")
    mint_into(admin, store, ma.ExpiresIn.hours(1))
    refresher = ma.Refresher(store, endpoint=server.address, secure=False)
    watcher = ma.Watcher(store, interval=3600)
    async with refresher.events() as events:
        changes = watcher.changes()
        event = await asyncio.to_thread(refresher.refresh_now)
        assert event.kind is ma.RefreshEventKind.REFRESHED
        got = await asyncio.wait_for(events.__anext__(), 30)
        while got.kind is not ma.RefreshEventKind.REFRESHED:  # the first read is an adoption
            got = await asyncio.wait_for(events.__anext__(), 30)
        assert got.key_fingerprint == event.key_fingerprint
        # The watcher may already have it from the file's directory event (poll is then False).
        await asyncio.to_thread(watcher.poll)
        key = await asyncio.wait_for(changes.__anext__(), 30)
        assert key.fingerprint == event.key_fingerprint
        # Closing the source ends the iteration.
        watcher.close()
        assert [k async for k in changes] == []
    # Leaving `async with` ended the subscription: iteration stops.
    assert await asyncio.wait_for(_drain(events), 30) is None
    refresher.close()


async def _drain(stream: ma.EventStream) -> None:
    async for _ in stream:
        pass
