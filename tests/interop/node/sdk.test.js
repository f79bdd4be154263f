'use strict';
// Momento's official Node.js SDK (@gomomento/sdk, pinned in package.json) as a client of
// momento-auth-server: API keys, refresh, disposable tokens, caches, data calls and the errors the
// SDK reports for them.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const { sdk } = h;
// The SDK's own test suite mints super-user keys through this class; it is not re-exported by the
// package index, so it is loaded from sdk-core directly.
const { InternalSuperUserPermissions } = require('@gomomento/sdk-core/dist/src/internal/utils');

// Asserts that `resp` is the SDK's error variant with `code`; when the server's own text is
// expected, checks the gRPC details the SDK received (not the SDK's wrapper text).
function assertError(resp, ErrorClass, code, serverText) {
  assert.ok(resp instanceof ErrorClass, `expected ${ErrorClass.name}, got ${resp.toString()}`);
  assert.equal(resp.errorCode(), code, resp.message());
  if (serverText !== undefined) {
    assert.match(resp.innerException().message, new RegExp(serverText), resp.message());
  }
}

function assertPermissionDenied(resp, ErrorClass) {
  assertError(resp, ErrorClass, sdk.MomentoErrorCode.PERMISSION_ERROR, 'Insufficient permissions');
  assert.equal(resp.innerException().transportDetails().grpc.code, 7);
}

function assertUnauthenticated(resp, ErrorClass) {
  assertError(resp, ErrorClass, sdk.MomentoErrorCode.AUTHENTICATION_ERROR);
  assert.equal(resp.innerException().transportDetails().grpc.code, 16);
}

async function assertSetGet(cache, cacheName, key, value) {
  const set = await cache.set(cacheName, key, value);
  assert.ok(set instanceof sdk.CacheSet.Success, `set: ${set.toString()}`);
  const get = await cache.get(cacheName, key);
  assert.ok(get instanceof sdk.CacheGet.Hit, `get: ${get.toString()}`);
  assert.equal(get.valueString(), value);
}

test.describe('Node.js SDK against momento-auth-server', () => {
  let server;
  let superAuth;
  let superCache;
  const clients = [];
  const cacheName = h.uniqueName('node-cache');

  async function track(clientPromise) {
    const c = await clientPromise;
    clients.push(c);
    return c;
  }

  test.before(async () => {
    server = await h.startServer();
    superAuth = h.authClient(server.superUserKey, server.addr);
    superCache = await track(h.cacheClient(server.superUserKey, server.addr));
    const created = await superCache.createCache(cacheName);
    assert.ok(created instanceof sdk.CreateCache.Success, `createCache: ${created.toString()}`);
  });

  test.after(async () => {
    for (const c of clients) c.close();
    if (server) await server.stop();
  });

  test('bootstrap file holds a never-expiring v1 envelope', () => {
    const env = h.decodeEnvelope(server.superUserKey);
    assert.equal(typeof env.endpoint, 'string');
    assert.ok(env.endpoint.length > 0);
    assert.equal(typeof env.api_key, 'string');
    assert.ok(env.api_key.length > 0);
    assert.ok(['0', 0, null, undefined].includes(server.bootstrap.validUntil));
  });

  test('createCache: a second create of the same name is AlreadyExists', async () => {
    const again = await superCache.createCache(cacheName);
    assert.ok(again instanceof sdk.CreateCache.AlreadyExists, again.toString());
  });

  test('set/get with the super-user key', async () => {
    await assertSetGet(superCache, cacheName, 'k-super', 'v-super');
    const miss = await superCache.get(cacheName, 'never-set');
    assert.ok(miss instanceof sdk.CacheGet.Miss, miss.toString());
  });

  test('listCaches: super-user and explicit keys list; a disposable token is denied', async () => {
    const list = await superCache.listCaches();
    assert.ok(list instanceof sdk.ListCaches.Success, list.toString());
    assert.ok(list.getCaches().some(c => c.getName() === cacheName));
    const minted = await superAuth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.hours(1));
    assert.ok(minted instanceof sdk.GenerateApiKey.Success, minted.toString());
    const rw = await track(h.cacheClient(minted.apiKey, server.addr));
    const rwList = await rw.listCaches();
    assert.ok(rwList instanceof sdk.ListCaches.Success, rwList.toString());
    const token = await superAuth.generateDisposableToken(
      sdk.DisposableTokenScopes.cacheReadWrite(cacheName),
      sdk.ExpiresIn.minutes(5),
    );
    assert.ok(token instanceof sdk.GenerateDisposableToken.Success, token.toString());
    const dc = await track(h.cacheClient(token.authToken, server.addr));
    assertPermissionDenied(await dc.listCaches(), sdk.ListCaches.Error);
  });

  test('get on an unknown cache is NOT_FOUND_ERROR', async () => {
    const get = await superCache.get(h.uniqueName('no-such-cache'), 'k');
    assertError(get, sdk.CacheGet.Error, sdk.MomentoErrorCode.NOT_FOUND_ERROR);
  });

  test('generateApiKey (AllDataReadWrite, expiring) returns an envelope and refresh token', async () => {
    const before = Math.floor(Date.now() / 1000);
    const resp = await superAuth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.hours(1));
    assert.ok(resp instanceof sdk.GenerateApiKey.Success, resp.toString());
    const env = h.decodeEnvelope(resp.apiKey);
    assert.equal(env.endpoint, resp.endpoint);
    assert.ok(env.api_key.length > 0);
    assert.notEqual(env.api_key, h.decodeEnvelope(server.superUserKey).api_key);
    assert.ok(resp.refreshToken.length > 0);
    assert.ok(resp.expiresAt.doesExpire());
    const until = resp.expiresAt.epoch();
    assert.ok(until >= before + 3600 - 5 && until <= Math.floor(Date.now() / 1000) + 3600 + 5, `${until}`);

    // The new key can use data calls but not control calls.
    const cache = await track(h.cacheClient(resp.apiKey, server.addr));
    await assertSetGet(cache, cacheName, 'k-rw', 'v-rw');
    assertPermissionDenied(await cache.createCache(h.uniqueName('denied')), sdk.CreateCache.Error);
    assertPermissionDenied(await cache.deleteCache(cacheName), sdk.DeleteCache.Error);
  });

  test('generateApiKey with ExpiresIn.never: no expiry, no refresh token', async () => {
    const resp = await superAuth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.never());
    assert.ok(resp instanceof sdk.GenerateApiKey.Success, resp.toString());
    assert.equal(resp.expiresAt.doesExpire(), false);
    assert.equal(resp.refreshToken, '');
  });

  test('a super-user key may not mint a super-user key: PERMISSION_ERROR', async () => {
    const resp = await superAuth.generateApiKey(new InternalSuperUserPermissions(), sdk.ExpiresIn.hours(1));
    assertPermissionDenied(resp, sdk.GenerateApiKey.Error);
  });

  test('an explicit (AllDataReadWrite) key may not mint keys or disposable tokens', async () => {
    const minted = await superAuth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.hours(1));
    assert.ok(minted instanceof sdk.GenerateApiKey.Success, minted.toString());
    const rwAuth = h.authClient(minted.apiKey, server.addr);
    assertPermissionDenied(
      await rwAuth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.hours(1)),
      sdk.GenerateApiKey.Error,
    );
    assertPermissionDenied(
      await rwAuth.generateDisposableToken(
        sdk.DisposableTokenScopes.cacheKeyReadWrite(cacheName, 'k'),
        sdk.ExpiresIn.minutes(5),
      ),
      sdk.GenerateDisposableToken.Error,
    );
  });

  test('read-only key: get allowed, set PERMISSION_ERROR', async () => {
    const minted = await superAuth.generateApiKey(
      sdk.PermissionScopes.cacheReadOnly(cacheName),
      sdk.ExpiresIn.hours(1),
    );
    assert.ok(minted instanceof sdk.GenerateApiKey.Success, minted.toString());
    await assertSetGet(superCache, cacheName, 'k-ro', 'v-ro');
    const cache = await track(h.cacheClient(minted.apiKey, server.addr));
    const get = await cache.get(cacheName, 'k-ro');
    assert.ok(get instanceof sdk.CacheGet.Hit, get.toString());
    assertPermissionDenied(await cache.set(cacheName, 'k-ro', 'x'), sdk.CacheSet.Error);
  });

  test('refreshApiKey: new key and refresh token; old and new key both work', async () => {
    const minted = await superAuth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.hours(1));
    assert.ok(minted instanceof sdk.GenerateApiKey.Success, minted.toString());
    const auth = h.authClient(minted.apiKey, server.addr);
    const refreshed = await auth.refreshApiKey(minted.refreshToken);
    assert.ok(refreshed instanceof sdk.RefreshApiKey.Success, refreshed.toString());
    assert.notEqual(refreshed.apiKey, minted.apiKey);
    assert.ok(refreshed.refreshToken.length > 0);
    assert.notEqual(refreshed.refreshToken, minted.refreshToken);
    assert.ok(refreshed.expiresAt.doesExpire());
    assert.ok(refreshed.expiresAt.epoch() >= minted.expiresAt.epoch());
    assert.equal(h.decodeEnvelope(refreshed.apiKey).endpoint, refreshed.endpoint);

    const newCache = await track(h.cacheClient(refreshed.apiKey, server.addr));
    await assertSetGet(newCache, cacheName, 'k-refreshed', 'v1');
    const oldCache = await track(h.cacheClient(minted.apiKey, server.addr));
    await assertSetGet(oldCache, cacheName, 'k-old', 'v2');

    // The refreshed key can itself be refreshed with its own new refresh token.
    const again = await h.authClient(refreshed.apiKey, server.addr).refreshApiKey(refreshed.refreshToken);
    assert.ok(again instanceof sdk.RefreshApiKey.Success, again.toString());
  });

  test('refreshApiKey: replaying the just-used refresh token returns the same successor', async () => {
    const minted = await superAuth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.hours(1));
    assert.ok(minted instanceof sdk.GenerateApiKey.Success, minted.toString());
    const auth = h.authClient(minted.apiKey, server.addr);
    const first = await auth.refreshApiKey(minted.refreshToken);
    assert.ok(first instanceof sdk.RefreshApiKey.Success, first.toString());
    const replay = await auth.refreshApiKey(minted.refreshToken);
    assert.ok(replay instanceof sdk.RefreshApiKey.Success, replay.toString());
    assert.equal(replay.apiKey, first.apiKey);
    assert.equal(replay.refreshToken, first.refreshToken);
  });

  test('refreshApiKey with a wrong refresh token: AUTHENTICATION_ERROR', async () => {
    const minted = await superAuth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.hours(1));
    assert.ok(minted instanceof sdk.GenerateApiKey.Success, minted.toString());
    const resp = await h.authClient(minted.apiKey, server.addr).refreshApiKey('not-the-refresh-token');
    assertUnauthenticated(resp, sdk.RefreshApiKey.Error);
  });

  test('refreshApiKey of a never-expiring key: AUTHENTICATION_ERROR', async () => {
    const resp = await superAuth.refreshApiKey('anything');
    assertUnauthenticated(resp, sdk.RefreshApiKey.Error);
  });

  test('generateDisposableToken: item-scoped token works only for its key', async () => {
    const before = Math.floor(Date.now() / 1000);
    const resp = await superAuth.generateDisposableToken(
      sdk.DisposableTokenScopes.cacheKeyReadWrite(cacheName, 'dk'),
      sdk.ExpiresIn.minutes(10),
      { tokenId: 'node-token-id' },
    );
    assert.ok(resp instanceof sdk.GenerateDisposableToken.Success, resp.toString());
    const env = h.decodeEnvelope(resp.authToken);
    assert.equal(env.endpoint, resp.endpoint);
    assert.ok(resp.expiresAt.doesExpire());
    const until = resp.expiresAt.epoch();
    assert.ok(until >= before + 600 - 5 && until <= Math.floor(Date.now() / 1000) + 600 + 5, `${until}`);

    const cache = await track(
      sdk.CacheClient.create({
        configuration: sdk.Configurations.Laptop.v1(),
        credentialProvider: sdk.CredentialProvider.fromDisposableToken({
          apiKey: resp.authToken,
          endpointOverrides: {
            controlEndpoint: server.addr,
            cacheEndpoint: server.addr,
            tokenEndpoint: server.addr,
            secureConnection: false,
          },
        }),
        defaultTtlSeconds: 60,
      }),
    );
    await assertSetGet(cache, cacheName, 'dk', 'disposable-value');
    assertPermissionDenied(await cache.get(cacheName, 'other-key'), sdk.CacheGet.Error);
    assertPermissionDenied(await cache.set(cacheName, 'other-key', 'x'), sdk.CacheSet.Error);
    assertPermissionDenied(await cache.createCache(h.uniqueName('denied')), sdk.CreateCache.Error);
    // A disposable token cannot mint anything.
    const tokenAuth = h.authClient(resp.authToken, server.addr);
    assertPermissionDenied(
      await tokenAuth.generateDisposableToken(
        sdk.DisposableTokenScopes.cacheKeyReadWrite(cacheName, 'dk'),
        sdk.ExpiresIn.minutes(5),
      ),
      sdk.GenerateDisposableToken.Error,
    );
    // ... and cannot be refreshed.
    assertUnauthenticated(await tokenAuth.refreshApiKey('anything'), sdk.RefreshApiKey.Error);
  });

  test('generateDisposableToken: key-prefix scope, write-only role', async () => {
    const resp = await superAuth.generateDisposableToken(
      sdk.DisposableTokenScopes.cacheKeyPrefixWriteOnly(cacheName, 'pre-'),
      sdk.ExpiresIn.minutes(10),
    );
    assert.ok(resp instanceof sdk.GenerateDisposableToken.Success, resp.toString());
    const cache = await track(h.cacheClient(resp.authToken, server.addr));
    const set = await cache.set(cacheName, 'pre-1', 'x');
    assert.ok(set instanceof sdk.CacheSet.Success, set.toString());
    assertPermissionDenied(await cache.get(cacheName, 'pre-1'), sdk.CacheGet.Error);
    assertPermissionDenied(await cache.set(cacheName, 'other', 'x'), sdk.CacheSet.Error);
  });

  test('generateDisposableToken: 25 h is accepted, beyond the server maximum is INVALID_ARGUMENT_ERROR', async () => {
    // The Node SDK no longer checks a maximum client-side; the server enforces 90000 s by default.
    const scope = sdk.DisposableTokenScopes.cacheKeyReadWrite(cacheName, 'k');
    const ok = await superAuth.generateDisposableToken(scope, sdk.ExpiresIn.hours(25));
    assert.ok(ok instanceof sdk.GenerateDisposableToken.Success, ok.toString());
    const tooLong = await superAuth.generateDisposableToken(scope, sdk.ExpiresIn.hours(26));
    assertError(tooLong, sdk.GenerateDisposableToken.Error, sdk.MomentoErrorCode.INVALID_ARGUMENT_ERROR);
    assert.equal(tooLong.innerException().transportDetails().grpc.code, 3);
  });

  test('unknown key: AUTHENTICATION_ERROR on data, control and auth calls', async () => {
    const env = h.decodeEnvelope(server.superUserKey);
    const forged = h.encodeEnvelope(env.endpoint, `${env.api_key}x`);
    const cache = await track(h.cacheClient(forged, server.addr));
    assertUnauthenticated(await cache.get(cacheName, 'k'), sdk.CacheGet.Error);
    assertUnauthenticated(await cache.set(cacheName, 'k', 'v'), sdk.CacheSet.Error);
    assertUnauthenticated(await cache.createCache(h.uniqueName('x')), sdk.CreateCache.Error);
    const auth = h.authClient(forged, server.addr);
    assertUnauthenticated(
      await auth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.hours(1)),
      sdk.GenerateApiKey.Error,
    );
    assertUnauthenticated(
      await auth.generateDisposableToken(
        sdk.DisposableTokenScopes.cacheKeyReadWrite(cacheName, 'k'),
        sdk.ExpiresIn.minutes(5),
      ),
      sdk.GenerateDisposableToken.Error,
    );
  });

  test('expired key: AUTHENTICATION_ERROR, and its refresh fails', async () => {
    const minted = await superAuth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.seconds(2));
    assert.ok(minted instanceof sdk.GenerateApiKey.Success, minted.toString());
    const cache = await track(h.cacheClient(minted.apiKey, server.addr));
    // Wait (bounded) until the server's clock has passed valid_until.
    let last;
    for (let i = 0; i < 40; i++) {
      last = await cache.get(cacheName, 'k');
      if (last instanceof sdk.CacheGet.Error) break;
      await h.sleep(250);
    }
    assertUnauthenticated(last, sdk.CacheGet.Error);
    const refresh = await h.authClient(minted.apiKey, server.addr).refreshApiKey(minted.refreshToken);
    assert.ok(refresh instanceof sdk.RefreshApiKey.Error, refresh.toString());
    // docs/wire.md section 6: UNAUTHENTICATED from our server; INVALID_ARGUMENT is also tolerated by clients.
    assert.equal(refresh.errorCode(), sdk.MomentoErrorCode.AUTHENTICATION_ERROR, refresh.message());
  });
});
