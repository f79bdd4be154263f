'use strict';
// The npm tarball (pack.sh) installs into an empty project and runs the README's example against
// a local server with no MOMENTO_AUTH_LIBRARY and no NODE_PATH: the package carries its library.
// MOMENTO_NODE_TARBALL names the tarball; MOMENTO_SERVER_BIN the server.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer } = require('../../../tests/support/server.js');

let server;
let project;

before(async () => {
  server = await startServer();
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'momento-node-pack-'));
});

after(async () => {
  if (server) await server.stop();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

test('the tarball installs into an empty project and the README example runs', () => {
  const tarball = process.env.MOMENTO_NODE_TARBALL;
  assert.ok(tarball && fs.existsSync(tarball), 'MOMENTO_NODE_TARBALL names the packed tarball');
  fs.writeFileSync(path.join(project, 'package.json'), '{"name":"empty-project","private":true}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball],
    { cwd: project, stdio: 'inherit' });
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const example = /```js\n([\s\S]*?)```/.exec(readme)[1];
  fs.writeFileSync(path.join(project, 'example.js'), example);
  fs.copyFileSync(path.join(server.dir, 'bootstrap.json'), path.join(project, 'superuser.json'));
  const env = { ...process.env };
  delete env.MOMENTO_AUTH_LIBRARY;
  delete env.NODE_PATH;
  delete env.LD_LIBRARY_PATH;
  const r = spawnSync(process.execPath, ['example.js', server.addr], { cwd: project, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^minted ApiKeyResult\(/m);
  assert.match(r.stdout, /^refreshed, expires \d{4}-/m);
  const token = JSON.parse(fs.readFileSync(path.join(project, 'momento_token.json'), 'utf8'));
  assert.ok(!r.stdout.includes(token.authToken), 'the example prints no secret');
  const where = spawnSync(process.execPath, ['-e', "console.log(require('momento-auth').libraryPath)"],
    { cwd: project, env, encoding: 'utf8' });
  const prebuilds = path.join(project, 'node_modules', 'momento-auth', 'prebuilds', 'linux-x64');
  assert.equal(where.stdout.trim(), path.join(prebuilds, 'libmomento_auth.so.1'));
  // The libcurl module of the AWS stores, which the library loads from its own directory.
  assert.ok(fs.existsSync(path.join(prebuilds, 'libmomento_auth_http.so.1')));
});
