'use strict';
// Where a Node parse's CPU goes: the binding's CredentialProvider parsers against the same C
// calls made straight through koffi (no argument checks, no object), and koffi's cost of one call
// that passes the key (libc's strlen). CPU ns per operation, the median of 7 batches of 100,000
// after a warm-up of 50,000. Keys from spec/vectors.json.
//   NODE_PATH=build/bindings-node/node_modules MOMENTO_AUTH_LIBRARY=build/dev/capi/libmomento_auth.so.1 \
//     node bench/clients/node/parse_split.js
const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');
const { CredentialProvider } = require('../../../bindings/node');

const root = path.resolve(__dirname, '../../..');
const vectors = JSON.parse(fs.readFileSync(path.join(root, 'spec/vectors.json'), 'utf8')).vectors;
const input = id => vectors.find(v => v.id === id).input;
const v1 = input('cred-v1-envelope');
const v2 = input('cred-v2-api-key');

// The library again, declared with plain pointers (the binding's opaque type names are taken).
const lib = koffi.load(process.env.MOMENTO_AUTH_LIBRARY || 'libmomento_auth.so.1');
const fromString = lib.func('int momento_credential_from_string(uint64_t *out, const char *credential, void *o, void *e)');
const fromV2 = lib.func('int momento_credential_from_v2(uint64_t *out, const char *key, const char *endpoint, void *o, void *e)');
const free = lib.func('void momento_credential_free(uint64_t credential)');
const strlen = koffi.load('libc.so.6').func('size_t strlen(const char *s)');
const out = new BigUint64Array(1);

const ops = {
  'binding: CredentialProvider.fromString (v1)': () => CredentialProvider.fromString(v1),
  'binding: CredentialProvider.fromApiKeyV2': () => CredentialProvider.fromApiKeyV2(v2, 'cell-1.example.com'),
  'koffi: momento_credential_from_string + free': () => { fromString(out, v1, null, null); free(out[0]); },
  'koffi: momento_credential_from_v2 + free': () => { fromV2(out, v2, 'cell-1.example.com', null, null); free(out[0]); },
  'koffi: momento_credential_free(NULL)': () => free(0n),
  'koffi: strlen(v1 key)': () => strlen(v1),
};

function cpuNs(op, n) {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) op();
  const d = process.cpuUsage(t);
  return ((d.user + d.system) * 1000) / n;
}

// One operation at a time: interleaving them in one process made every figure swing by 50%.
for (const [name, op] of Object.entries(ops)) {
  cpuNs(op, 50000);
  const s = Array.from({ length: 7 }, () => cpuNs(op, 100000)).sort((a, b) => a - b);
  console.log(`${name.padEnd(48)} ${s[3].toFixed(0).padStart(6)} ns  (range ${s[0].toFixed(0)}-${s[6].toFixed(0)})`);
}
