'use strict';
// bench/run's driver for Node.js: Momento's official SDK (`node_sdk`) or our binding
// (`node_binding`, bindings/node, when it exists). Request JSON on stdin, one JSON line out
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

async function measure(req, op) {
  const n = req.n;
  const parse = req.call.startsWith('parse');
  for (let i = 0; i < (req.warmup || 0); i++) await op();
  const lat = [];
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const threads = req.threads || 1;
  if (threads > 1) {
    // Concurrency on one client: `threads` calls in flight at a time.
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

function check(resp, Success, what) {
  if (!(resp instanceof Success)) throw new Error(`${what}: ${resp.toString()}`);
}

async function main() {
  const req = JSON.parse(fs.readFileSync(0, 'utf8'));
  const which = process.argv[2];
  const sdk = load(which);
  if (which === 'node_binding') {
    // Our binding follows Momento's names (CredentialProvider, AuthClient); calls it lacks skip.
    if (!sdk.CredentialProvider || !sdk.AuthClient) skip('bindings/node exports no CredentialProvider/AuthClient');
  }
  const CP = sdk.CredentialProvider;
  let out;
  if (req.call === 'parse_v1') {
    out = await measure(req, () => CP.fromString({ apiKey: req.v1 }));
  } else if (req.call === 'parse_v2') {
    if (!CP.fromApiKeyV2) skip('no fromApiKeyV2');
    out = await measure(req, () => CP.fromApiKeyV2({ apiKey: req.v2_key, endpoint: req.v2_endpoint }));
  } else if (req.call === 'parse_disposable') {
    if (!CP.fromDisposableToken) skip('no fromDisposableToken');
    out = await measure(req, () => CP.fromDisposableToken({ apiKey: req.disposable }));
  } else {
    const key = req.call === 'refresh' ? req.refresh_envelope : req.super_envelope;
    const provider = CP.fromString({
      apiKey: key,
      endpointOverrides: { controlEndpoint: req.address, cacheEndpoint: req.address,
                           tokenEndpoint: req.address, secureConnection: false },
    });
    const auth = new sdk.AuthClient({
      configuration: sdk.AuthClientConfigurations.Default.latest(),
      credentialProvider: provider,
    });
    if (req.call === 'refresh') {
      out = await measure(req, async () =>
        check(await auth.refreshApiKey(req.refresh_token), sdk.RefreshApiKey.Success, 'refresh'));
    } else if (req.call === 'generate') {
      out = await measure(req, async () =>
        check(await auth.generateApiKey(sdk.AllDataReadWrite, sdk.ExpiresIn.hours(1)),
              sdk.GenerateApiKey.Success, 'generate'));
    } else {
      const scope = sdk.DisposableTokenScopes.cacheKeyReadWrite(req.cache, 'k');
      out = await measure(req, async () =>
        check(await auth.generateDisposableToken(scope, sdk.ExpiresIn.minutes(5)),
              sdk.GenerateDisposableToken.Success, 'disposable'));
    }
    if (auth.close) auth.close();
  }
  out.version = which === 'node_sdk'
    ? JSON.parse(fs.readFileSync(require.resolve('@gomomento/sdk/package.json'), 'utf8')).version
    : 'bindings/node';
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

main().catch(e => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
