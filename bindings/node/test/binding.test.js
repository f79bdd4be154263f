'use strict';
// momento-auth for Node.js against a local momento-auth-server (ctest label `bindings`; run with
// MOMENTO_SERVER_BIN and MOMENTO_AUTH_LIBRARY set, and --expose-gc for the leak test).
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const { once } = require('node:events');
const readline = require('node:readline');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { startServer, sleep } = require('../../../tests/support/server.js');
const m = require('..');

let server;
let tmp;
let admin; // an AuthClient with the server's SuperUser key

function cred(key, extra = {}) {
  return m.CredentialProvider.fromString(key, { endpoint: server.addr, secure: false, ...extra });
}

function client(key) {
  return new m.AuthClient({ credentialProvider: cred(key) });
}

async function rejectsWith(promise, cls, code) {
  await assert.rejects(promise, e => {
    assert.ok(e instanceof cls, `${e.name}: ${e.message}`);
    assert.ok(e instanceof m.MomentoError);
    if (code) assert.equal(e.code, code);
    return true;
  });
}

function throwsWith(fn, cls, pattern) {
  assert.throws(fn, e => {
    assert.ok(e instanceof cls, `${e.name}: ${e.message}`);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

before(async () => {
  server = await startServer();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'momento-node-binding-'));
  admin = client(server.superUserKey);
});

after(async () => {
  admin.close();
  if (server) await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('loading', () => {
  test('the library reports its version and the ABI matched', () => {
    assert.match(m.libraryVersion, /^\d+\.\d+\.\d+$/);
    assert.ok(fs.existsSync(m.libraryPath));
  });

  test('a library of another ABI version is refused at load with a clear message', t => {
    const stub = process.env.MOMENTO_ABI_STUB; // every symbol, the next ABI (tests/bindings)
    if (!stub) return t.skip('MOMENTO_ABI_STUB is not set (ctest sets it)');
    const r = spawnSync(process.execPath, ['-e', "require('momento-auth')"], {
      cwd: __dirname, env: { ...process.env, MOMENTO_AUTH_LIBRARY: stub }, encoding: 'utf8',
    });
    assert.notEqual(r.status, 0);
    const v = process.env.MOMENTO_ABI_STUB_VERSION;
    const abi = require('../lib/ffi').ABI_VERSION;
    assert.ok(r.stderr.includes(`momento-auth was written for libmomento_auth ABI ${abi}, but ${stub} ` +
      `(version ${v}.0.0) has ABI ${v}. Install a matching momento-auth.`), r.stderr);
  });

  test('MOMENTO_AUTH_LIBRARY pointing nowhere fails with a clear message', () => {
    const r = spawnSync(process.execPath, ['-e', "require('momento-auth')"], {
      cwd: __dirname,
      env: { ...process.env, MOMENTO_AUTH_LIBRARY: '/nonexistent/libmomento_auth.so.1' },
      encoding: 'utf8',
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot load libmomento_auth \(\/nonexistent\/libmomento_auth\.so\.1\)/);
  });

  test('ESM import gives the same classes', async () => {
    const esm = await import('momento-auth');
    assert.equal(esm.AuthClient, m.AuthClient);
    assert.equal(esm.default.MomentoError, m.MomentoError);
  });
});

describe('round trips', () => {
  test('generateApiKey then refreshApiKey from another client', async () => {
    const r = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(30));
    assert.ok(r instanceof m.ApiKeyResult);
    assert.ok(r.apiKey.length > 20);
    assert.ok(r.refreshToken.length > 0);
    assert.ok(r.expiresAt instanceof Date);
    const minutes = (r.expiresAt.getTime() - Date.now()) / 60000;
    assert.ok(minutes > 28 && minutes <= 30.1, `expires in ${minutes} minutes`);
    const other = client(r.apiKey);
    try {
      const r2 = await other.refreshApiKey(r.refreshToken);
      assert.notEqual(r2.apiKey, r.apiKey);
      assert.ok(r2.expiresAt instanceof Date);
    } finally {
      other.close();
    }
  });

  test('a never-expiring key has no refresh token and expiresAt null', async () => {
    const r = await admin.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.never());
    assert.equal(r.refreshToken, '');
    assert.equal(r.expiresAt, null);
  });

  test('fine-grained scopes: caches, topics, functions', async () => {
    const scope = {
      permissions: [
        { role: m.CacheRole.ReadOnly, cache: 'c1' },
        { role: m.CacheRole.ReadWrite, cache: m.AllCaches },
        { role: m.TopicRole.PublishSubscribe, cache: 'c1', topic: 't1' },
        { role: m.TopicRole.SubscribeOnly, cache: 'c1', topic: { namePrefix: 'news-' } },
        { role: m.FunctionRole.Invoke, cache: 'c1', func: m.AllFunctions },
      ],
    };
    const r = await admin.generateApiKey(scope, m.ExpiresIn.hours(1));
    assert.ok(r.apiKey.length > 0);
    const r2 = await admin.generateApiKey(m.PermissionScopes.topicPublishOnly('c2', m.AllTopics), m.ExpiresIn.days(1));
    assert.ok(r2.apiKey.length > 0);
  });

  test('disposable tokens with item scopes', async () => {
    const t = await admin.generateDisposableToken(m.DisposableTokenScopes.cacheKeyReadWrite('c1', 'k1'),
      m.ExpiresIn.minutes(5), { tokenId: 'node-test' });
    assert.ok(t instanceof m.DisposableTokenResult);
    assert.equal(t.authToken, t.apiKey);
    assert.equal(t.refreshToken, '');
    const scope = { permissions: [
      { role: m.CacheRole.ReadOnly, cache: 'c1', item: { keyPrefix: Buffer.from([0, 1, 2]) } },
      { role: m.CacheRole.WriteOnly, cache: 'c2', item: m.AllItems },
    ] };
    const t2 = await admin.generateDisposableToken(scope, m.ExpiresIn.seconds(60));
    const c = m.CredentialProvider.fromDisposableToken(t2.authToken, { endpoint: server.addr, secure: false });
    assert.equal(c.kind, 'v1_envelope');
    // A disposable token must expire: the library says so.
    await rejectsWith(admin.generateDisposableToken(scope, m.ExpiresIn.never()), m.InvalidArgumentError);
  });

  test('token file: write, read back as credential and through a store', async () => {
    const r = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(30));
    const file = path.join(tmp, 'token.json');
    await r.writeFile(file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(json.authToken, r.apiKey);
    assert.equal(json.refreshToken, r.refreshToken);
    assert.deepEqual(JSON.parse(r.toDownloadJson()), json);
    const c = m.CredentialProvider.fromFile(file, { endpoint: server.addr, secure: false });
    assert.equal(c.refreshToken, r.refreshToken);
    assert.equal(c.expiresAt.getTime(), r.expiresAt.getTime());
    const store = m.TokenStore.open(`file:${file}`);
    assert.equal(store.writable, true);
    const loaded = await store.load();
    assert.equal(loaded.apiKey, r.apiKey);
    store.close();
  });

  test('caFile makes a server with a self-signed certificate trusted over TLS', async t => {
    const cert = path.join(tmp, 'tls.pem');
    const key = path.join(tmp, 'tls.key');
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert]);
    if (gen.status !== 0) return t.skip('openssl cannot make a certificate');
    const tls = await startServer(['--tls-cert', cert, '--tls-key', key, '--log-format', 'off']);
    try {
      const port = tls.addr.slice(tls.addr.lastIndexOf(':') + 1);
      const c = m.CredentialProvider.fromString(tls.superUserKey, { endpoint: `localhost:${port}` });
      const trusted = new m.AuthClient({ credentialProvider: c, caFile: cert });
      const r = await trusted.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(5));
      assert.ok(r.apiKey);
      trusted.close();
      throwsWith(() => new m.AuthClient({ credentialProvider: c, caFile: path.join(tmp, 'missing.pem') }),
        m.InvalidArgumentError, /CA file cannot be read/);
    } finally {
      await tls.stop();
    }
  });

  test('an aws-sm: store with the AWS options, against a local Secrets Manager (moto)', async t => {
    const py = process.env.MOMENTO_TEST_PYTHON;
    const helper = process.env.MOMENTO_MOTO_HELPER;
    if (!py || !helper) return t.skip('MOMENTO_TEST_PYTHON / MOMENTO_MOTO_HELPER are not set (ctest sets them)');
    // The AWS region and endpoint come only from the options (ctest sets fixed test credentials
    // and no region, endpoint or config file).
    const moto = spawn(py, [helper, 'serve', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(moto, 'exit');  // listening from the start: the helper may end at once
    try {
      // Its address, or the end of its output when it cannot start (moto not installed).
      const lines = readline.createInterface({ input: moto.stdout });
      const line = await Promise.race([once(lines, 'line').then(([l]) => l), once(lines, 'close').then(() => null)]);
      assert.ok(line, 'the moto helper ended before printing its address (is moto installed?)');
      const endpoint = `http://${/^listening on (\S+)$/.exec(line)[1]}`;
      const opts = { awsRegion: 'us-east-1', awsEndpoint: endpoint };
      const store = m.TokenStore.open('aws-sm:node-binding-test', opts);
      const r = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(30));
      await store.store(r);
      assert.equal((await store.load()).apiKey, r.apiKey);
      store.close();
      // A named profile: its credentials, from a shared credentials file.
      const creds = path.join(tmp, 'aws-credentials');
      fs.writeFileSync(creds, '[binding-test]\naws_access_key_id = AKIDMOTOTEST\naws_secret_access_key = motosecret\n');
      const saved = process.env.AWS_SHARED_CREDENTIALS_FILE;
      process.env.AWS_SHARED_CREDENTIALS_FILE = creds;
      try {
        const named = m.TokenStore.open('aws-sm:node-binding-test', { ...opts, awsProfile: 'binding-test' });
        assert.equal((await named.load()).apiKey, r.apiKey);
        named.close();
        throwsWith(() => m.TokenStore.open('aws-sm:x', { ...opts, awsProfile: 'no-such-profile' }), m.MomentoError,
          /no-such-profile/);
      } finally {
        process.env.AWS_SHARED_CREDENTIALS_FILE = saved;
      }
      throwsWith(() => m.TokenStore.open('aws-sm:x', { awsEndpoint: 'ftp://127.0.0.1' }), m.InvalidArgumentError,
        /endpoint_url/);
      throwsWith(() => m.TokenStore.open('aws-sm:x', { awsRegion: 'us\0east' }), m.InvalidArgumentError, /awsRegion/);
    } finally {
      moto.kill('SIGTERM');
      await exited;
    }
  });

  test('every credential constructor', () => {
    const key = server.superUserKey;
    assert.equal(cred(key).kind, 'v1_envelope');
    process.env.NODE_BINDING_TEST_KEY = key;
    try {
      const e = m.CredentialProvider.fromEnvironmentVariable('NODE_BINDING_TEST_KEY', { endpoint: server.addr, secure: false });
      assert.equal(e.kind, 'v1_envelope');
    } finally {
      delete process.env.NODE_BINDING_TEST_KEY;
    }
    throwsWith(() => m.CredentialProvider.fromEnvironmentVariable('NODE_BINDING_UNSET_VARIABLE'), m.MomentoError, /NODE_BINDING_UNSET_VARIABLE/);
    throwsWith(() => m.CredentialProvider.fromApiKeyV2('not-a-v2-key', 'example.com'), m.InvalidArgumentError);
    const local = m.CredentialProvider.local({ host: '127.0.0.1', port: 9 });
    assert.equal(local.kind, 'local');
    throwsWith(() => m.CredentialProvider.fromFile(path.join(tmp, 'missing.json')), m.MomentoError);
  });
});

describe('redaction', () => {
  test('inspect, String and JSON never show a secret', async () => {
    const r = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(30));
    const c = cred(r.apiKey);
    for (const shown of [util.inspect(r), String(r), JSON.stringify(r), util.inspect(c), String(c),
      JSON.stringify({ c }), util.inspect(r, { showHidden: true, depth: 5 })]) {
      assert.ok(!shown.includes(r.apiKey), shown);
      assert.ok(!shown.includes(r.refreshToken), shown);
    }
    assert.ok(util.inspect(r).includes(m.redact(r.apiKey)));
  });

  test('an error about a bad key does not echo it', () => {
    const secret = 'this-is-a-secret-value-that-must-not-leak';
    try {
      m.CredentialProvider.fromString(secret);
      assert.fail('parsed');
    } catch (e) {
      assert.ok(e instanceof m.InvalidArgumentError);
      assert.ok(!e.message.includes(secret) && !String(e.stack).includes(secret));
    }
  });
});

describe('errors', () => {
  test('every library status maps to its own MomentoError subclass', () => {
    const names = Object.keys(m).filter(k => k.endsWith('Error') && k !== 'MomentoError');
    assert.equal(names.length, 16);
    const codes = new Set(names.map(n => new m[n]('x').constructor.name));
    assert.equal(codes.size, 16);
  });

  test('PERMISSION_ERROR: a read-only key cannot mint', async () => {
    const ro = await admin.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(5));
    const c = client(ro.apiKey);
    try {
      await rejectsWith(c.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(5)), m.PermissionError, 'PERMISSION_ERROR');
    } finally {
      c.close();
    }
  });

  test('AUTHENTICATION_ERROR: a wrong refresh token', async () => {
    const r = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(5));
    const c = client(r.apiKey);
    try {
      await assert.rejects(c.refreshApiKey('not-the-refresh-token'), e => e instanceof m.MomentoError && e.code !== 'UNKNOWN_ERROR');
    } finally {
      c.close();
    }
  });

  test('a server that is not there: retryable connection-class error', async () => {
    const c = new m.AuthClient({
      credentialProvider: m.CredentialProvider.fromString(server.superUserKey, { endpoint: '127.0.0.1:1', secure: false }),
      deadlineMs: 2000,
    });
    try {
      await assert.rejects(c.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(5)), e => {
        assert.ok(['SERVER_UNAVAILABLE', 'CONNECTION_ERROR', 'TIMEOUT_ERROR'].includes(e.code), e.code);
        assert.equal(e.retryable, true);
        return true;
      });
    } finally {
      c.close();
    }
  });
});

describe('bad input', () => {
  test('NUL characters, lone surrogates and wrong types are InvalidArgumentError naming the argument', () => {
    throwsWith(() => m.CredentialProvider.fromString('abc\0def'), m.InvalidArgumentError, /key must not contain a NUL/);
    throwsWith(() => m.CredentialProvider.fromString('abc\uD800'), m.InvalidArgumentError, /key is not valid Unicode/);
    throwsWith(() => m.CredentialProvider.fromString(42), m.InvalidArgumentError, /key must be a string, got number/);
    throwsWith(() => m.CredentialProvider.fromString(undefined), m.InvalidArgumentError, /key is required/);
    throwsWith(() => new m.AuthClient({ credentialProvider: 'key' }), m.InvalidArgumentError, /credentialProvider must be a CredentialProvider/);
    throwsWith(() => m.ExpiresIn.minutes('30'), m.InvalidArgumentError, /amount must be an integer/);
    throwsWith(() => m.ExpiresIn.minutes(1.5), m.InvalidArgumentError);
    throwsWith(() => cred(server.superUserKey, { secure: 'no' }), m.InvalidArgumentError, /secure must be a boolean/);
  });

  test('bad scopes are rejected before sending', async () => {
    await rejectsWith(admin.generateApiKey({ permissions: [{ role: 'owner', cache: 'c' }] }, m.ExpiresIn.minutes(1)), m.InvalidArgumentError);
    await assert.rejects(admin.generateApiKey('AllDataReadWrite', m.ExpiresIn.minutes(1)), m.InvalidArgumentError);
    await assert.rejects(admin.generateApiKey(m.AllDataReadWrite, 30), m.InvalidArgumentError);
    await assert.rejects(admin.generateApiKey({ permissions: [{ role: m.CacheRole.ReadWrite, cache: '' }] }, m.ExpiresIn.minutes(1)), m.InvalidArgumentError);
    const eleven = Array.from({ length: 11 }, (_, i) => ({ role: m.CacheRole.ReadOnly, cache: `c${i}` }));
    await assert.rejects(admin.generateApiKey({ permissions: eleven }, m.ExpiresIn.minutes(1)), m.InvalidArgumentError);
  });

  test('huge strings are refused cleanly', async () => {
    const huge = 'A'.repeat(8 * 1024 * 1024);
    throwsWith(() => m.CredentialProvider.fromString(huge), m.InvalidArgumentError);
    await assert.rejects(admin.refreshApiKey(huge), m.MomentoError);
  });

  test('a closed client refuses calls; close is idempotent', async () => {
    const c = client(server.superUserKey);
    c.close();
    c.close();
    await rejectsWith(c.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(1)), m.FailedPreconditionError);
  });

  test('close while calls are in flight: they finish, the client is freed after', async () => {
    const c = client(server.superUserKey);
    const calls = Array.from({ length: 4 }, () => c.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1)));
    c.close();
    const results = await Promise.all(calls);
    assert.equal(results.length, 4);
    assert.equal(c._ptr, null);
  });
});

describe('concurrency', () => {
  test('many calls in flight on one client', async () => {
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) =>
      admin.generateApiKey(i % 2 ? m.AllDataReadOnly : m.AllDataReadWrite, m.ExpiresIn.minutes(10))));
    assert.equal(new Set(results.map(r => r.apiKey)).size, 24);
  });

  test('worker threads each load the library and mint', async () => {
    const { Worker } = require('node:worker_threads');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const m = require(workerData.pkg);
      const c = new m.AuthClient({ credentialProvider: m.CredentialProvider.fromString(workerData.key, { endpoint: workerData.addr, secure: false }) });
      c.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1)).then(r => { c.close(); parentPort.postMessage(r.apiKey.length); },
        e => { c.close(); parentPort.postMessage(e.message); });`;
    const lengths = await Promise.all([0, 1, 2].map(() => new Promise((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { pkg: path.join(__dirname, '..'), key: server.superUserKey, addr: server.addr } });
      w.once('message', resolve);
      w.once('error', reject);
    })));
    for (const n of lengths) assert.ok(typeof n === 'number' && n > 20, String(n));
  });
});

describe('refresher and watcher', () => {
  async function tokenFile(name) {
    const r = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(30));
    const file = path.join(tmp, name);
    await r.writeFile(file);
    return { r, store: m.TokenStore.open(`file:${file}`) };
  }

  test('a watcher picks up the key a refresher wrote, as an event', async () => {
    const { r, store } = await tokenFile('watched.json');
    const watcher = await m.Watcher.open(store, { periodMs: 3600000, endpoint: server.addr, secure: false });
    const refresher = new m.Refresher(store, { endpoint: server.addr, secure: false });
    try {
      const before = String(watcher.credentialProvider);
      // One pass: the first look adopts the stored key, which is not due; the next does nothing.
      assert.equal((await refresher.runOnce()).kind, 'adopted');
      assert.equal(await refresher.runOnce(), null);
      assert.equal(store.kind, 'file');
      assert.equal(store.location, store.description.slice('file:'.length));
      const seen = [];
      refresher.on('event', e => seen.push(e));
      const keys = [];
      const gotKey = new Promise(resolve => watcher.once('key', k => { keys.push(k); resolve(); }));
      const ev = await refresher.refreshNow();
      assert.equal(ev.kind, 'refreshed', ev.error && ev.error.message);
      assert.equal(ev.nextAttempt, null);
      assert.equal(ev.replay, false);
      assert.ok(ev.expiresAt instanceof Date);
      assert.ok(!ev.redactedKey.includes(r.apiKey));
      // The watcher may already have the new key from the file's directory event (poll() is then
      // false); the key must arrive either way.
      await watcher.poll();
      await gotKey;
      assert.equal(keys[0].fingerprint, ev.keyFingerprint);
      assert.notEqual(String(watcher.credentialProvider), before);
      // The new key works against the server.
      const c = new m.AuthClient({ credentialProvider: watcher.credentialProvider });
      const stored = m.CredentialProvider.fromFile(store.description.slice('file:'.length));
      await c.refreshApiKey(stored.refreshToken);
      c.close();
      // The adoption of the runOnce() above may be delivered after the listener was added.
      const refreshedSeen = () => seen.some(e => e.kind === 'refreshed');
      for (let i = 0; i < 50 && !refreshedSeen(); i++) await sleep(20);
      assert.ok(refreshedSeen(), JSON.stringify(seen.map(e => e.kind)));
    } finally {
      await refresher.close();
      await watcher.close();
      store.close();
    }
  });

  test('a failed refresh is an event with a MomentoError, not a rejection', async () => {
    const { store } = await tokenFile('failing.json');
    const refresher = new m.Refresher(store, { endpoint: '127.0.0.1:1', secure: false, deadlineMs: 1000 });
    try {
      const ev = await refresher.refreshNow();
      assert.equal(ev.kind, 'failed');
      assert.ok(ev.error instanceof m.MomentoError);
      assert.equal(ev.error.retryable, true);
      assert.equal(ev.consecutiveFailures, 1);
      assert.ok(ev.nextAttempt instanceof Date);
      assert.equal(ev.replay, false);
    } finally {
      await refresher.close();
    }
  });

  test('refresh policy values are checked by the library', () => {
    const store = m.TokenStore.open(`file:${path.join(tmp, 'policy.json')}`);
    throwsWith(() => new m.Refresher(store, { refreshFraction: 1.5 }), m.InvalidArgumentError);
    throwsWith(() => new m.Refresher(store, { refreshFraction: 'x' }), m.InvalidArgumentError);
    store.close();
  });

  test('after close no listener is called', async () => {
    const { store } = await tokenFile('closing.json');
    const watcher = await m.Watcher.open(store, { periodMs: 50, endpoint: server.addr, secure: false });
    const refresher = new m.Refresher(store, { endpoint: server.addr, secure: false });
    let count = 0;
    watcher.on('key', () => count++);
    try {
      await refresher.refreshNow();
      for (let i = 0; i < 100 && count === 0; i++) await sleep(20);
      assert.equal(count, 1, 'the periodic re-read delivered the new key');
      await watcher.close();
      await assert.rejects(watcher.poll(), m.FailedPreconditionError);
      await refresher.refreshNow();
      await sleep(400);
      assert.equal(count, 1);
    } finally {
      await refresher.close();
      await watcher.close();
      store.close();
    }
  });
});

describe('cancellation and the log', () => {
  // A loopback listener that accepts connections and never answers.
  async function silentServer() {
    const net = require('node:net');
    const sockets = new Set();
    const srv = net.createServer(sock => sockets.add(sock));
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const connected = once(srv, 'connection');
    return {
      addr: `127.0.0.1:${srv.address().port}`,
      connected,
      close() { for (const sock of sockets) sock.destroy(); srv.close(); },
    };
  }

  test('an AbortSignal cancels a call in flight: CancelledError with the reason as cause', async () => {
    const silent = await silentServer();
    // A long deadline: a cancel that did not work would end in TIMEOUT_ERROR much later.
    const c = new m.AuthClient({ credentialProvider: cred(server.superUserKey, { endpoint: silent.addr }), deadlineMs: 60000 });
    try {
      const ac = new AbortController();
      const call = c.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(5), { signal: ac.signal });
      await silent.connected;
      const reason = new Error('user gave up');
      ac.abort(reason);
      await rejectsWith(call, m.CancelledError, 'CANCELLED_ERROR');
      await call.catch(e => assert.equal(e.cause, reason));
    } finally {
      c.close();
      silent.close();
    }
  });

  test('terminating a worker with calls in flight leaves the process and other calls unharmed', async () => {
    const { Worker } = require('node:worker_threads');
    const silent = await silentServer();
    // The worker's calls wait on a listener that never answers (deadline 300 ms) when it ends:
    // their outcomes reach the library's queue, never the gone worker's JavaScript.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const m = require(workerData.pkg);
      const c = new m.AuthClient({ credentialProvider: m.CredentialProvider.fromString(workerData.key,
        { endpoint: workerData.addr, secure: false }), deadlineMs: 300 });
      for (let i = 0; i < 3; i++) c.refreshApiKey('tok').catch(() => {});
      parentPort.postMessage('started');`;
    try {
      const w = new Worker(code, { eval: true, workerData: { pkg: path.join(__dirname, '..'), key: server.superUserKey, addr: silent.addr } });
      await once(w, 'message');
      await silent.connected;
      await w.terminate();
      await new Promise(resolve => setTimeout(resolve, 600)); // their deadlines pass
      const r = await admin.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1));
      assert.ok(r.apiKey.length > 20);
    } finally {
      silent.close();
    }
  });

  test('an already aborted signal cancels before anything is sent; other calls are unaffected', async () => {
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(admin.refreshApiKey('tok', { signal: ac.signal }), m.CancelledError);
    await rejectsWith(admin.generateDisposableToken(m.DisposableTokenScopes.cacheKeyReadOnly('c', 'k'),
      m.ExpiresIn.minutes(1), { tokenId: 'x', signal: ac.signal }), m.CancelledError);
    const live = new AbortController();
    const r = await admin.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1), { signal: live.signal });
    assert.ok(r.apiKey.length > 20);
    live.abort(); // after the call: nothing happens
  });

  test('a signal that is not an AbortSignal is an InvalidArgumentError', async () => {
    await rejectsWith(admin.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1), { signal: {} }), m.InvalidArgumentError);
    await rejectsWith(admin.refreshApiKey('tok', { signal: 'abort' }), m.InvalidArgumentError);
    await rejectsWith(admin.refreshApiKey('tok', 5), m.InvalidArgumentError);
  });

  test('a pending call keeps the process alive; exiting with calls in flight does not hang', () => {
    const pkg = JSON.stringify(path.join(__dirname, '..'));
    const run = code => spawnSync(process.execPath, ['-e', code], {
      env: process.env, encoding: 'utf8', timeout: 60000,
      input: JSON.stringify({ key: server.superUserKey, addr: server.addr }),
    });
    const prelude = `const m = require(${pkg}); const a = JSON.parse(require('fs').readFileSync(0, 'utf8'));
      const c = new m.AuthClient({ credentialProvider: m.CredentialProvider.fromString(a.key, { endpoint: a.addr, secure: false }) });`;
    // Nothing but the call's promise is pending: the answer must still arrive.
    const alive = run(`${prelude} c.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1)).then(r => console.log('minted', r.apiKey.length > 20));`);
    assert.equal(alive.status, 0, alive.stderr);
    assert.match(alive.stdout, /minted true/);
    const quit = run(`${prelude} for (let i = 0; i < 4; i++) c.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1)); process.exit(3);`);
    assert.equal(quit.status, 3, quit.stderr);
  });

  test('process.exit() with store writes in flight: the exit waits for the library threads', { timeout: 60000 }, async () => {
    const src = path.join(tmp, 'exit-src.json');
    await (await admin.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(5))).writeFile(src);
    const pkg = JSON.stringify(path.join(__dirname, '..'));
    for (let i = 0; i < 5; i++) {
      const target = path.join(tmp, `exit-save-${i}.json`);
      // The writes run on detached library threads; the process exits right after starting them.
      const code = `const m = require(${pkg});
        m.TokenStore.open(${JSON.stringify(`file:${src}`)}).load().then(r => {
          for (let k = 0; k < 4; k++) m.TokenStore.open(${JSON.stringify(`file:${target}`)} + k).store(r);
          process.exit(0);
        });`;
      const run = spawnSync(process.execPath, ['-e', code], { env: process.env, encoding: 'utf8', timeout: 30000 });
      assert.equal(run.status, 0, run.stderr);
      for (let k = 0; k < 4; k++) assert.ok(fs.existsSync(target + k), `write ${k} of round ${i} did not finish before the exit`);
    }
  });

  test('the library log reaches setLogHandler (no secret in it); null removes the handler', async () => {
    const lines = [];
    await m.setLogHandler((level, message) => lines.push([level, message]), { minLevel: 'debug' });
    let r;
    try {
      const c = client(server.superUserKey); // logged on this thread
      r = await c.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1)); // logged on the library's thread
      c.close();
    } finally {
      await m.setLogHandler(null);
    }
    assert.ok(lines.some(([level, msg]) => level === 'info' && /auth client created/.test(msg)), JSON.stringify(lines));
    assert.ok(lines.some(([level, msg]) => level === 'debug' && /generate_api_key_queued: ok/.test(msg)), JSON.stringify(lines));
    for (const [, msg] of lines) {
      assert.ok(!msg.includes(r.apiKey) && !msg.includes(server.superUserKey), 'a secret in the log');
    }
    const count = lines.length;
    const c = client(server.superUserKey);
    await c.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1));
    c.close();
    assert.equal(lines.length, count, 'no message after the handler was removed');
    await assert.rejects(m.setLogHandler(() => {}, { minLevel: 'loud' }), m.InvalidArgumentError);
    await assert.rejects(m.setLogHandler('x'), m.InvalidArgumentError);
  });

  test('replacing the handler: the old one gets nothing more, not even records already queued', { timeout: 60000 }, async () => {
    const a = [];
    const b = [];
    const failParse = () => assert.throws(() => m.CredentialProvider.fromString('not a credential'));
    await m.setLogHandler((level, msg) => a.push(msg), { minLevel: 'debug' });
    try {
      failParse(); // queued, not yet popped: dropped by the replacement
      await m.setLogHandler((level, msg) => b.push(msg), { minLevel: 'debug' });
      failParse();
      await sleep(50);
      assert.deepEqual(a, []);
      assert.ok(b.some(msg => /momento_credential_from_string failed/.test(msg)), JSON.stringify(b));
      // A handler may replace itself from inside (it runs on the event loop, not the library's thread).
      const c = [];
      await m.setLogHandler(() => {
        m.setLogHandler(msg => c.push(msg), { minLevel: 'debug' });
      }, { minLevel: 'debug' });
      failParse();
      await sleep(50);
      failParse();
      await sleep(50);
      assert.ok(c.length > 0);
    } finally {
      await m.setLogHandler(null);
    }
  });

  test('a worker sets the handler and gets the log on its own loop; terminating it while it logs is safe', { timeout: 60000 }, async () => {
    const { Worker } = require('node:worker_threads');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const m = require(workerData.pkg);
      setInterval(() => {}, 1000); // a log handler alone does not keep the worker alive
      let sent = false;
      const logAway = () => { try { m.CredentialProvider.fromString('not a credential'); } catch {} };
      m.setLogHandler((level, message) => {
        if (sent) return;
        sent = true;
        parentPort.postMessage([level, message]);
        // Then logs without pause (its queue fills, never drained) until terminated (bounded).
        setImmediate(() => {
          const until = Date.now() + 10000;
          while (Date.now() < until) logAway();
        });
      }, { minLevel: 'debug' }).then(logAway);`;
    for (let round = 0; round < 3; round++) {
      const w = new Worker(code, { eval: true, workerData: { pkg: path.join(__dirname, '..') } });
      const errors = [];
      w.on('error', e => errors.push(e));
      const [[level, message]] = await Promise.race([once(w, 'message'),
        once(w, 'exit').then(() => { throw new Error('the worker ended without a log message'); })]);
      assert.equal(level, 'debug');
      assert.match(message, /momento_credential_from_string failed/);
      await sleep(50);
      await w.terminate();
      assert.deepEqual(errors, []);
    }
    // The worker's queue went with it; this thread's handler works as before.
    const lines = [];
    await m.setLogHandler((level, msg) => lines.push(msg), { minLevel: 'debug' });
    try {
      assert.throws(() => m.CredentialProvider.fromString('not a credential'));
      await sleep(50);
      assert.ok(lines.some(msg => /momento_credential_from_string failed/.test(msg)), JSON.stringify(lines));
    } finally {
      await m.setLogHandler(null);
    }
  });

  test('a log handler that throws does not disturb the calls', async () => {
    await m.setLogHandler(() => { throw new Error('handler bug'); }, { minLevel: 'debug' });
    try {
      const r = await admin.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1));
      assert.ok(r.apiKey.length > 20);
    } finally {
      await m.setLogHandler(null);
    }
  });
});

describe('workers and teardown', () => {
  // A loopback listener that accepts connections and never answers.
  async function silentListener() {
    const net = require('node:net');
    const sockets = new Set();
    const srv = net.createServer(sock => sockets.add(sock));
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    return {
      addr: `127.0.0.1:${srv.address().port}`,
      close() { for (const sock of sockets) sock.destroy(); srv.close(); },
    };
  }

  function threads() {
    return Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  }

  // Each kind of call or subscription, started in a worker that is terminated while it is out
  // (or its outcome or events wait in the worker's queue). The worker's clients, stores,
  // refreshers, watchers and queue are freed by its environment's end.
  const KINDS = {
    rpc: 'for (let i = 0; i < 3; i++) silentClient.refreshApiKey("tok").catch(() => {});',
    load: 'for (let i = 0; i < 20; i++) store.load().catch(() => {});',
    save: 'store.load().then(r => { for (let i = 0; i < 20; i++) store.store(r).catch(() => {}); ready(); }); return;',
    writeFile: 'store.load().then(r => { for (let i = 0; i < 20; i++) r.writeFile(file + ".w" + i).catch(() => {}); ready(); }); return;',
    watcherOpen: 'for (let i = 0; i < 5; i++) m.Watcher.open(store, { periodMs: 3600000 }).catch(() => {});',
    poll: 'm.Watcher.open(store, { periodMs: 3600000 }).then(w => { for (let i = 0; i < 10; i++) w.poll().catch(() => {}); ready(); }); return;',
    refreshNow: 'silentRefresher.refreshNow().catch(() => {}); silentRefresher.runOnce().catch(() => {});',
    stop: 'silentRefresher.start(); silentRefresher.refreshNow().catch(() => {}); silentRefresher.stop().catch(() => {});',
    close: 'silentRefresher.refreshNow().catch(() => {}); silentRefresher.close().catch(() => {});',
    // Terminated in the middle of synchronous calls: koffi must never see a pointer object here
    // (see lib/ffi.js), or the process aborts.
    busy: `ready(); const c = m.CredentialProvider.fromString(d.key, { endpoint: d.addr, secure: false });
      for (;;) { store.writable; c.kind; m.ExpiresIn.minutes(1); }`,
    log: `await m.setLogHandler(() => {}, { minLevel: 'debug' }); ready();
      for (;;) { try { m.CredentialProvider.fromString('not a credential'); } catch {} }`,
    events: `const w = await m.Watcher.open(store, { periodMs: 20 }); w.on('key', () => {});
      refresher.on('event', () => {}); refresher.start();
      for (let i = 0; i < 3; i++) await refresher.refreshNow();`,
  };

  async function terminateWith(kind, file, silent) {
    const { Worker } = require('node:worker_threads');
    const code = `
      const { parentPort, workerData: d } = require('node:worker_threads');
      const m = require(d.pkg);
      const ready = () => parentPort.postMessage('started');
      (async () => {
        const file = d.file;
        const store = m.TokenStore.open('file:' + file);
        const refresher = new m.Refresher(store, { endpoint: d.addr, secure: false });
        const silentRefresher = new m.Refresher(store, { endpoint: d.silent, secure: false, deadlineMs: 300 });
        const silentClient = new m.AuthClient({ credentialProvider: m.CredentialProvider.fromString(d.key,
          { endpoint: d.silent, secure: false }), deadlineMs: 300 });
        ${KINDS[kind]}
        ready();
      })();`;
    const w = new Worker(code, { eval: true, workerData: { pkg: path.join(__dirname, '..'), key: server.superUserKey, addr: server.addr, silent, file } });
    const errors = [];
    w.on('error', e => errors.push(e));
    await once(w, 'message');
    await w.terminate();
    assert.deepEqual(errors, [], `${kind}: ${errors.join('; ')}`);
  }

  test('a worker terminated with each kind of call or subscription out: no crash, nothing left behind', async () => {
    const silent = await silentListener();
    try {
      const r = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(30));
      const round = async () => {
        for (const kind of Object.keys(KINDS)) {
          const file = path.join(tmp, `worker-${kind}.json`);
          await r.writeFile(file);
          await terminateWith(kind, file, silent.addr);
        }
        await sleep(700); // the calls' 300 ms deadlines pass; their threads end
        return threads();
      };
      const base = await round();
      let end = 0;
      for (let i = 0; i < 2; i++) end = await round();
      // Every refresher and watcher has its own threads: leaked ones would add dozens per round
      // (gRPC's own pool varies by a few).
      assert.ok(end <= base + 10, `threads ${base} -> ${end}`);
      // The process and this thread's calls are unharmed.
      const fresh = await admin.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1));
      assert.ok(fresh.apiKey.length > 20);
    } finally {
      silent.close();
    }
  });

  test('a terminated worker frees its results and lifetimes: the heap stays flat over 10 workers', { timeout: 60000 }, async () => {
    // The C heap in use (glibc's mallinfo2, every arena), not RSS: each worker below holds about
    // 1 MiB of the library's small handles, which would stay allocated if the worker's end
    // did not free them (its finalizers never run).
    const koffi = require('koffi');
    const info = koffi.struct('momento_test_mallinfo2', Object.fromEntries(['arena', 'ordblks', 'smblks',
      'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost'].map(k => [k, 'size_t'])));
    const mallinfo2 = koffi.load('libc.so.6').func('momento_test_mallinfo2 mallinfo2(void)');
    const heap = () => { const i = mallinfo2(); return Number(i.uordblks) + Number(i.hblkhd); };
    const r = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(30));
    const file = path.join(tmp, 'small-handles.json');
    await r.writeFile(file);
    const { Worker } = require('node:worker_threads');
    const code = `
      const { parentPort, workerData: d } = require('node:worker_threads');
      const m = require(d.pkg);
      const keep = [];
      (async () => {
        for (let i = 0; i < 20000; i++) keep.push(m.ExpiresIn.minutes(5));
        const store = m.TokenStore.open('file:' + d.file);
        for (let i = 0; i < 500; i++) keep.push(await store.load());
        parentPort.postMessage('holding');
      })();`;
    const round = async () => {
      const w = new Worker(code, { eval: true, workerData: { pkg: path.join(__dirname, '..'), file } });
      const errors = [];
      w.on('error', e => errors.push(e));
      await once(w, 'message');
      await w.terminate();
      assert.deepEqual(errors, []);
    };
    for (let i = 0; i < 3; i++) await round();
    global.gc?.();
    const base = heap();
    for (let i = 0; i < 10; i++) await round();
    global.gc?.();
    const grownMb = (heap() - base) / (1 << 20);
    // Without the cleanup hooks: 9.7 MiB; with them: 0.2 MiB.
    assert.ok(grownMb < 3, `the C heap grew ${grownMb.toFixed(2)} MiB over 10 workers`);
  });

  test('a dropped Refresher, never closed, in the middle of a slow refresh is freed without stalling the event loop', { timeout: 60000, skip: typeof global.gc !== 'function' && 'needs --expose-gc' }, async () => {
    const silent = await silentListener();
    const minted = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(30));
    const file = path.join(tmp, 'dropped-refresher.json');
    await minted.writeFile(file);
    const store = m.TokenStore.open(`file:${file}`);
    let collected = false;
    const watch = new FinalizationRegistry(() => { collected = true; });
    (() => {
      // Its thread starts a refresh at once (due 0.01% into the key's life) that
      // waits for its 4 s deadline; a blocking free would wait for it too.
      const refresher = new m.Refresher(store, { endpoint: silent.addr, secure: false, deadlineMs: 4000,
        refreshFraction: 0.0001, jitterFraction: 0 });
      refresher.on('event', () => {});
      refresher.start();
      watch.register(refresher, 0);
    })();
    // The longest gap between the ticks of a 10 ms timer while the Refresher is collected, freed,
    // and its refresh runs out.
    let last = Date.now();
    let worst = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 10);
    try {
      await sleep(500); // the refresh is under way
      for (let i = 0; i < 50 && !collected; i++) {
        global.gc();
        await sleep(20);
      }
      assert.ok(collected, 'the dropped Refresher was not collected');
      const gcGap = worst; // the collections themselves
      await sleep(4500); // past the refresh's deadline
      assert.ok(worst < 1500, `the event loop stalled ${worst} ms (${gcGap} ms during the collections)`);
    } finally {
      clearInterval(timer);
      store.close();
      silent.close();
    }
  });

  test('a listener that closes its refresher gets no further event, even one already queued', async () => {
    const r = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(30));
    const file = path.join(tmp, 'self-closing.json');
    await r.writeFile(file);
    const store = m.TokenStore.open(`file:${file}`);
    const refresher = new m.Refresher(store, { endpoint: server.addr, secure: false });
    let seen = 0;
    let closed;
    refresher.on('event', () => { seen++; closed = refresher.close(); });
    // Two passes whose events may arrive in one batch.
    const passes = await Promise.allSettled([refresher.refreshNow(), refresher.refreshNow()]);
    await closed;
    await sleep(100);
    assert.equal(seen, 1, JSON.stringify(passes.map(p => p.status)));
    store.close();
  });
});

describe('resources', () => {
  // RSS growth in MiB over `n` rounds of `body`, after `m` rounds to warm up and `m` for the base.
  async function rssGrowth(body, m, n) {
    const rounds = async k => {
      for (let i = 0; i < k; i++) await body();
      global.gc();
      await sleep(50);
      global.gc();
      return process.memoryUsage().rss;
    };
    await rounds(m);
    const base = await rounds(m);
    return ((await rounds(n)) - base) / (1 << 20);
  }

  test('RSS stays flat over a bounded loop of parses, mints and closes', { skip: typeof global.gc !== 'function' && 'needs --expose-gc' }, async () => {
    const growthMb = await rssGrowth(async () => {
      const c = client(server.superUserKey);
      const r = await c.generateApiKey(m.AllDataReadOnly, m.ExpiresIn.minutes(1));
      util.inspect(r);
      try { m.CredentialProvider.fromString('bad\0'); } catch { /* expected */ }
      c.close();
    }, 300, 900);
    assert.ok(growthMb < 12, `RSS grew ${growthMb.toFixed(1)} MiB over 900 rounds`);
  });

  test('RSS stays flat over a bounded loop of store, refresher and watcher calls', { skip: typeof global.gc !== 'function' && 'needs --expose-gc' }, async () => {
    const minted = await admin.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.minutes(30));
    const file = path.join(tmp, 'rss-store.json');
    await minted.writeFile(file);
    const growthMb = await rssGrowth(async () => {
      const store = m.TokenStore.open(`file:${file}`);
      const r = await store.load();
      await store.store(r);
      await r.writeFile(`${file}.copy`);
      const w = await m.Watcher.open(store, { periodMs: 3600000 });
      w.on('key', () => {});
      await w.poll();
      await w.close();
      const refresher = new m.Refresher(store, { endpoint: server.addr, secure: false });
      await refresher.runOnce();
      await refresher.close();
      store.close();
    }, 150, 450);
    assert.ok(growthMb < 8, `RSS grew ${growthMb.toFixed(1)} MiB over 450 rounds`);
  });
});
