'use strict';
// bench/run's driver for Node.js: Momento's official SDK (`node_sdk`) or our binding
// (`node_binding`, bindings/node). The request line on stdin, then batches on request
// (bench/clients/README.md). Exit code 77 = this contender is not available here.
const fs = require('node:fs');
const path = require('node:path');

function skip(why) {
  process.stdout.write(JSON.stringify({ skip: why }) + '\n');
  process.exit(77);
}

function load(which) {
  if (which === 'node_sdk') {
    try {
      return require('@gomomento/sdk');
    } catch (e) {
      skip(`@gomomento/sdk not installed (scripts/setup installs it): ${e.message}`);
    }
  }
  const dir = path.resolve(__dirname, '../../../bindings/node');
  if (!fs.existsSync(dir)) skip('bindings/node does not exist yet');
  try {
    return require(dir);
  } catch (e) {
    skip(`bindings/node does not load: ${e.message}`);
  }
}

// One batch of n calls: one at a time with each call's latency, or `threads` calls in flight
// on one client with only the totals.
async function batch(n, threads, parse, op) {
  const lat = [];
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  if (threads > 1) {
    let next = 0;
    const worker = async () => {
      while (next++ < n) await op();
    };
    await Promise.all(Array.from({ length: threads }, worker));
  } else if (parse) {
    for (let i = 0; i < n; i++) op();
  } else {
    for (let i = 0; i < n; i++) {
      const a = process.hrtime.bigint();
      await op();
      lat.push(Number(process.hrtime.bigint() - a));
    }
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const out = { n, threads, wall_s: wall, cpu_s: (c.user + c.system) / 1e6,
                rss_kib: Math.round(process.memoryUsage().rss / 1024) };
  if (lat.length) out.lat_ns = lat;
  return out;
}

const emit = out => new Promise(resolve => process.stdout.write(JSON.stringify(out) + '\n', resolve));

// Warms up, says it is ready, then answers each line of stdin (a count) with one batch.
async function serve(req, lines, op, version) {
  const parse = req.call.startsWith('parse');
  for (let i = 0; i < (req.warmup || 0); i++) await op();
  await emit({ ready: true, version });
  for (;;) {
    const { value, done } = await lines.next();
    if (done) return;
    if (value.trim()) await emit(await batch(parseInt(value, 10), req.threads || 1, parse, op));
  }
}

function check(resp, Success, what) {
  if (!(resp instanceof Success)) throw new Error(`${what}: ${resp.toString()}`);
}

// The official SDK answers with Success/Error objects; our binding returns results and throws.
function sdkCalls(sdk, req) {
  const CP = sdk.CredentialProvider;
  const provider = key => CP.fromString({
    apiKey: key,
    endpointOverrides: { controlEndpoint: req.address, cacheEndpoint: req.address,
                         tokenEndpoint: req.address, secureConnection: false },
  });
  const client = key => new sdk.AuthClient({
    configuration: sdk.AuthClientConfigurations.Default.latest(), credentialProvider: provider(key),
  });
  return {
    parse_v1: () => CP.fromString({ apiKey: req.v1 }),
    parse_v2: CP.fromApiKeyV2 && (() => CP.fromApiKeyV2({ apiKey: req.v2_key, endpoint: req.v2_endpoint })),
    parse_disposable: CP.fromDisposableToken && (() => CP.fromDisposableToken({ apiKey: req.disposable })),
    refresh: auth => async () =>
      check(await auth.refreshApiKey(req.refresh_token), sdk.RefreshApiKey.Success, 'refresh'),
    generate: auth => async () =>
      check(await auth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.hours(1)), sdk.GenerateApiKey.Success,
            'generate'),
    disposable: auth => {
      const scope = sdk.DisposableTokenScopes.cacheKeyReadWrite(req.cache, 'k');
      return async () => check(await auth.generateDisposableToken(scope, sdk.ExpiresIn.minutes(5)),
                               sdk.GenerateDisposableToken.Success, 'disposable');
    },
    client,
  };
}

function bindingCalls(m, req) {
  const CP = m.CredentialProvider;
  return {
    parse_v1: () => CP.fromString(req.v1),
    parse_v2: () => CP.fromApiKeyV2(req.v2_key, req.v2_endpoint),
    parse_disposable: () => CP.fromDisposableToken(req.disposable),
    refresh: auth => () => auth.refreshApiKey(req.refresh_token),
    generate: auth => () => auth.generateApiKey(m.AllDataReadWrite, m.ExpiresIn.hours(1)),
    disposable: auth => {
      const scope = m.DisposableTokenScopes.cacheKeyReadWrite(req.cache, 'k');
      return () => auth.generateDisposableToken(scope, m.ExpiresIn.minutes(5));
    },
    client: key => new m.AuthClient({
      credentialProvider: CP.fromString(key, { endpoint: req.address, secure: false }),
    }),
  };
}

async function main() {
  const lines = require('node:readline').createInterface({ input: process.stdin, crlfDelay: Infinity })
    [Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('no request line on stdin');
  const req = JSON.parse(first.value);
  const which = process.argv[2];
  const sdk = load(which);
  if (which === 'node_binding' && (!sdk.CredentialProvider || !sdk.AuthClient)) {
    skip('bindings/node exports no CredentialProvider/AuthClient');
  }
  const version = which === 'node_sdk'
    ? JSON.parse(fs.readFileSync(require.resolve('@gomomento/sdk/package.json'), 'utf8')).version
    : sdk.libraryVersion;
  const calls = which === 'node_sdk' ? sdkCalls(sdk, req) : bindingCalls(sdk, req);
  if (req.call.startsWith('parse')) {
    if (!calls[req.call]) skip(`no ${req.call}`);
    await serve(req, lines, calls[req.call], version);
  } else {
    const auth = calls.client(req.call === 'refresh' ? req.refresh_envelope : req.super_envelope);
    await serve(req, lines, calls[req.call](auth), version);
    if (auth.close) auth.close();
  }
  process.exit(0);
}

main().catch(e => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
