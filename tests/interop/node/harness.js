'use strict';
// Shared helpers for the Node.js SDK interop tests: start/stop a momento-auth-server on a free
// loopback port, read its bootstrap key, and build SDK clients that talk plaintext to it.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sdk = require('@gomomento/sdk');

const START_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 5000;

function serverBin() {
  const bin = process.env.MOMENTO_SERVER_BIN;
  if (!bin) throw new Error('MOMENTO_SERVER_BIN is not set (ctest sets it)');
  return bin;
}

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

// Starts a server with its own data directory; resolves once it has printed its address and
// written the bootstrap key file.
async function startServer(extraArgs = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interop-node-'));
  const bootstrapFile = path.join(dir, 'bootstrap.json');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  const child = spawn(
    serverBin(),
    ['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--bootstrap', bootstrapFile, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', d => {
    stderr += d.toString();
  });
  const addr = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      reject(new Error(`server did not report its address in time; stderr:\n${stderr}`));
    }, START_TIMEOUT_MS);
    const onData = d => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.resume(); // keep draining so the server never blocks on a full pipe
      const m = /^listening on (\S+)\s*$/.exec(out.slice(0, nl));
      if (m) resolve(m[1]);
      else reject(new Error(`unexpected first stdout line: ${JSON.stringify(out.slice(0, nl))}`));
    };
    child.stdout.on('data', onData);
    child.on('exit', code => {
      clearTimeout(timer);
      reject(new Error(`server exited early with code ${code}; stderr:\n${stderr}`));
    });
  });
  let bootstrap;
  for (let i = 0; i < 100 && bootstrap === undefined; i++) {
    try {
      bootstrap = JSON.parse(fs.readFileSync(bootstrapFile, 'utf8'));
    } catch {
      await sleep(100);
    }
  }
  if (bootstrap === undefined) {
    child.kill('SIGKILL');
    throw new Error('server did not write a readable bootstrap file');
  }
  return {
    addr,
    dir,
    bootstrap,
    superUserKey: bootstrap.authToken,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// All three endpoints point at the one plaintext port (docs/wire.md section 5.4).
function provider(envelope, addr) {
  return sdk.CredentialProvider.fromString({
    apiKey: envelope,
    endpointOverrides: {
      controlEndpoint: addr,
      cacheEndpoint: addr,
      tokenEndpoint: addr,
      secureConnection: false,
    },
  });
}

function authClient(envelope, addr) {
  return new sdk.AuthClient({
    configuration: sdk.AuthClientConfigurations.Default.latest(),
    credentialProvider: provider(envelope, addr),
  });
}

async function cacheClient(envelope, addr) {
  return sdk.CacheClient.create({
    configuration: sdk.Configurations.Laptop.v1(),
    credentialProvider: provider(envelope, addr),
    defaultTtlSeconds: 60,
  });
}

function decodeEnvelope(envelope) {
  return JSON.parse(Buffer.from(envelope, 'base64').toString('utf8'));
}

function encodeEnvelope(endpoint, apiKey) {
  return Buffer.from(JSON.stringify({ endpoint, api_key: apiKey })).toString('base64');
}

function uniqueName(prefix) {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

module.exports = {
  sdk,
  startServer,
  provider,
  authClient,
  cacheClient,
  decodeEnvelope,
  encodeEnvelope,
  uniqueName,
  sleep,
};
