'use strict';
// Performs one call through Momento's Node.js SDK against a momento-auth-server and prints the
// outcome as one JSON object, so the cross-SDK tests can mix SDKs. Same interface as the Go
// sdktool:
//   node sdk_tool.js OP --addr HOST:PORT --key-file FILE [--cache C] [--item K] [--value V]
//                       [--scope all-data-rw|cache-ro:NAME|cache-rw:NAME] [--ttl N|never]
// OP: generate | refresh | disposable | create-cache | set | get. SDK errors are reported in the
// JSON (exit 0); bad usage exits 2.
const fs = require('node:fs');
const { parseArgs } = require('node:util');
const h = require('./harness');
const { sdk } = h;

function usage(msg) {
  process.stderr.write(`${msg}\n`);
  process.exit(2);
}

function expiresIn(ttl) {
  if (ttl === 'never') return sdk.ExpiresIn.never();
  const n = Number.parseInt(ttl, 10);
  if (!Number.isFinite(n)) usage(`bad --ttl ${ttl}`);
  return sdk.ExpiresIn.seconds(n);
}

function permissionScope(s) {
  if (s === 'all-data-rw') return sdk.AllDataReadWrite;
  if (s.startsWith('cache-ro:')) return sdk.PermissionScopes.cacheReadOnly(s.slice('cache-ro:'.length));
  if (s.startsWith('cache-rw:')) return sdk.PermissionScopes.cacheReadWrite(s.slice('cache-rw:'.length));
  return usage(`unknown --scope ${s}`);
}

function tokenFile(apiKey, refreshToken, expiresAt) {
  return {
    authToken: apiKey,
    refreshToken,
    validUntil: expiresAt.doesExpire() ? String(expiresAt.epoch()) : '0',
  };
}

function errorResult(resp) {
  const inner = resp.innerException();
  const grpc = inner.transportDetails ? inner.transportDetails().grpc : undefined;
  return {
    error: resp.errorCode(),
    grpc: grpc && typeof grpc.code === 'number' ? grpc.code : -1,
    details: inner.message,
  };
}

async function run(op, o, key) {
  if (['generate', 'refresh', 'disposable'].includes(op)) {
    const auth = h.authClient(key.authToken, o.addr);
    if (op === 'generate') {
      const r = await auth.generateApiKey(permissionScope(o.scope), expiresIn(o.ttl));
      return r instanceof sdk.GenerateApiKey.Success ? tokenFile(r.apiKey, r.refreshToken, r.expiresAt) : errorResult(r);
    }
    if (op === 'refresh') {
      const r = await auth.refreshApiKey(key.refreshToken);
      return r instanceof sdk.RefreshApiKey.Success ? tokenFile(r.apiKey, r.refreshToken, r.expiresAt) : errorResult(r);
    }
    const r = await auth.generateDisposableToken(
      sdk.DisposableTokenScopes.cacheKeyReadWrite(o.cache, o.item),
      expiresIn(o.ttl),
    );
    return r instanceof sdk.GenerateDisposableToken.Success
      ? { authToken: r.authToken, refreshToken: '', validUntil: String(r.expiresAt.epoch()) }
      : errorResult(r);
  }
  const cache = await h.cacheClient(key.authToken, o.addr);
  try {
    if (op === 'create-cache') {
      const r = await cache.createCache(o.cache);
      if (r instanceof sdk.CreateCache.Success) return { ok: true, alreadyExists: false };
      if (r instanceof sdk.CreateCache.AlreadyExists) return { ok: true, alreadyExists: true };
      return errorResult(r);
    }
    if (op === 'set') {
      const r = await cache.set(o.cache, o.item, o.value);
      return r instanceof sdk.CacheSet.Success ? { ok: true } : errorResult(r);
    }
    if (op === 'get') {
      const r = await cache.get(o.cache, o.item);
      if (r instanceof sdk.CacheGet.Hit) return { ok: true, hit: true, value: r.valueString() };
      if (r instanceof sdk.CacheGet.Miss) return { ok: true, hit: false };
      return errorResult(r);
    }
  } finally {
    cache.close();
  }
  return usage(`unknown operation ${op}`);
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      addr: { type: 'string' },
      'key-file': { type: 'string' },
      cache: { type: 'string', default: '' },
      item: { type: 'string', default: '' },
      value: { type: 'string', default: '' },
      scope: { type: 'string', default: 'all-data-rw' },
      ttl: { type: 'string', default: '3600' },
    },
  });
  if (positionals.length !== 1 || !values.addr || !values['key-file']) {
    usage('usage: node sdk_tool.js OP --addr HOST:PORT --key-file FILE ...');
  }
  const key = JSON.parse(fs.readFileSync(values['key-file'], 'utf8'));
  const out = await run(positionals[0], values, key);
  process.stdout.write(`${JSON.stringify(out)}\n`);
  // gRPC channels may keep the event loop alive; the answer is out, so leave now.
  process.exit(0);
}

main().catch(err => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
