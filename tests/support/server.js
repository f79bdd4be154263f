'use strict';
// Starts and stops a momento-auth-server (MOMENTO_SERVER_BIN) on a free loopback port for Node
// tests (the SDK interop suite and bindings/node): resolves once it has printed its address and
// written the bootstrap key file.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'momento-node-'));
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

module.exports = { startServer, sleep };
