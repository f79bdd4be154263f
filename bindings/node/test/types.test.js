'use strict';
// The TypeScript declarations name exactly what the module exports.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const m = require('..');

test('index.d.ts declares every export and nothing else', () => {
  const dts = fs.readFileSync(path.join(__dirname, '..', 'lib', 'index.d.ts'), 'utf8');
  const declared = new Set([...dts.matchAll(/^export declare (?:class|const|function) (\w+)/gm)].map(x => x[1]));
  declared.add('default');
  assert.deepEqual([...declared].sort(), Object.keys(m).sort());
});

test('the ESM entry re-exports every name', () => {
  const mjs = fs.readFileSync(path.join(__dirname, '..', 'lib', 'index.mjs'), 'utf8');
  const names = new Set([...mjs.matchAll(/^ {2}(\w+),$/gm)].map(x => x[1]));
  names.add('default');
  assert.deepEqual([...names].sort(), Object.keys(m).sort());
});
