'use strict';
// Shared helpers for the Node.js SDK interop tests: start/stop a momento-auth-server on a free
// loopback port, read its bootstrap key, and build SDK clients that talk plaintext to it.
const sdk = require('@gomomento/sdk');
const { startServer, sleep } = require('../../support/server.js');

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
