'use strict';
// momento-auth for Node.js: Momento API keys over libmomento_auth.so.1 (koffi, no compiler).
// Every rule (parsing, ranges, defaults, redaction, refresh policy) lives in the library; this
// file adapts types, errors, lifetimes and threads. Every call that may wait (the RPCs, store
// reads and writes, stopping threads), every Refresher/Watcher event and the library's log reach
// this thread through one completion queue of the library's, read on the event loop; promises
// settle there.
const { EventEmitter } = require('node:events');
const net = require('node:net');
const util = require('node:util');
const ffi = require('./ffi');
const errors = require('./errors');

const { C } = ffi;
const { fns: N, file: libraryFile, teardown } = ffi.load();
const { invalidArgument } = errors;

// ---- errors -------------------------------------------------------------------------------

function takeError(ptr) {
  try {
    return errors.errorFor(N.momento_status_str(N.momento_error_code(ptr)),
      N.momento_error_message(ptr), {
        retryable: N.momento_error_retryable(ptr) === 1,
        grpcStatus: N.momento_error_grpc_status(ptr),
      });
  } finally {
    N.momento_error_free(ptr);
  }
}

// Runs a fallible C call on this thread: the last argument is the error out-parameter.
function check(name, ...args) {
  const err = new BigUint64Array(1);
  const status = N[name](...args, err);
  if (status !== C.MOMENTO_OK) throw takeError(err[0]);
}

// ---- argument adaptation (a C string cannot carry NUL or lone surrogates) ------------------

function cstr(value, what, { optional = false } = {}) {
  if (value === undefined || value === null) {
    if (optional) return null;
    throw invalidArgument(`${what} is required`);
  }
  if (typeof value !== 'string') throw invalidArgument(`${what} must be a string, got ${typeName(value)}`);
  if (value.includes('\0')) throw invalidArgument(`${what} must not contain a NUL character`);
  if (!value.isWellFormed()) throw invalidArgument(`${what} is not valid Unicode (lone surrogate)`);
  return value;
}

function bytes(value, what) {
  if (typeof value === 'string') return Buffer.from(cstr(value, what), 'utf8');
  if (value instanceof Uint8Array) return value;
  throw invalidArgument(`${what} must be a string or a Uint8Array, got ${typeName(value)}`);
}

function integer(value, what, { optional = false } = {}) {
  if (value === undefined && optional) return undefined;
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) throw invalidArgument(`${what} must be an integer, got ${typeName(value)}`);
  return value;
}

function number(value, what) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw invalidArgument(`${what} must be a number, got ${typeName(value)}`);
  }
  return value;
}

function typeName(value) {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor ? value.constructor.name : 'object';
  return typeof value;
}

function instance(value, cls, what) {
  if (!(value instanceof cls)) throw invalidArgument(`${what} must be a ${cls.name}, got ${typeName(value)}`);
  return value;
}

function date(epochSeconds) {
  const s = Number(epochSeconds);
  return s === 0 ? null : new Date(s * 1000);
}

// ---- native handles: freed by close(), by the garbage collector as a safety net, and by -----
// ---- the end of the thread's environment -----------------------------------------------------

// One registry per handle type (named by its free function), holding the bare pointer. A
// finalizer removes the handle's cleanup hook, then frees it; refreshers and watchers are closed
// through the queue instead (dropFollower), since freeing one waits for a refresh in progress.
const registries = new Map();
function registry(free) {
  let r = registries.get(free);
  if (r === undefined) {
    r = new FinalizationRegistry(FOLLOWERS[free] ? dropFollower : ptr => { teardown.remove(free, ptr); N[free](ptr); });
    registries.set(free, r);
  }
  return r;
}

// Call results and lifetimes: the garbage collector frees them, or the end of this thread's
// environment (a terminated worker runs no finalizer): a Node-API cleanup hook that calls the
// library's free function. Registering without an unregister token costs about half as much,
// which matters for results.
function own(target, ptr, free) {
  teardown.add(free, ptr);
  target._ptr = ptr;
  registry(free).register(target, ptr);
}

// Clients, credentials, stores, refreshers and watchers: the same, and close() frees them.
// `held` is what the finalizer gets (a follower's: see dropFollower).
function ownLong(target, ptr, free, held = ptr) {
  teardown.add(free, ptr);
  target._ptr = ptr;
  registry(free).register(target, held, target);
}

// Forgets a long-lived handle (no hook, no finalizer) and returns it, or null when released.
function disown(target, free) {
  const ptr = target._ptr;
  if (!ptr) return null;
  registry(free).unregister(target);
  teardown.remove(free, ptr);
  target._ptr = null;
  return ptr;
}

function release(target, free) {
  const ptr = disown(target, free);
  if (ptr) N[free](ptr);
}

// An endpoint override for one call (copied by the library), or null.
function withOverride(opts, body) {
  if (opts === undefined || opts === null) return body(null);
  const o = opts;
  const endpoint = cstr(o.endpoint, 'endpoint', { optional: true });
  if (endpoint === null) return body(null);
  const secure = o.secure === undefined ? true : o.secure;
  if (typeof secure !== 'boolean') throw invalidArgument(`secure must be a boolean, got ${typeName(secure)}`);
  const out = new BigUint64Array(1);
  check('momento_endpoint_override_new_single', out, endpoint, secure ? 1 : 0);
  let result;
  try {
    result = body(out[0]);
  } catch (e) {
    N.momento_endpoint_override_free(out[0]);
    throw e;
  }
  // An async body keeps the override until its call has returned (or this thread's end).
  if (result instanceof Promise) {
    teardown.add('momento_endpoint_override_free', out[0]);
    return result.finally(() => {
      teardown.remove('momento_endpoint_override_free', out[0]);
      N.momento_endpoint_override_free(out[0]);
    });
  }
  N.momento_endpoint_override_free(out[0]);
  return result;
}

// ---- credentials ----------------------------------------------------------------------------

// Where the credential parsers write their handle or error (see ffi.js); read at once.
const PARSED = new BigUint64Array(1);
const PARSE_ERROR = new BigUint64Array(1);

class CredentialProvider {
  // A key given as a string is parsed (checked) at once and its native handle freed: the handle
  // is made again from the same string the first time something needs it, so a parse costs one
  // crossing and no finalizer. `source` is [C function, its arguments, opts].
  #source;

  constructor(ptr, source) {
    if (source !== undefined) {
      this._ptr = null;
      this.#source = source;
    } else if (ptr) {
      ownLong(this, ptr, 'momento_credential_free');
    } else {
      throw invalidArgument('use CredentialProvider.fromString() and the other factories');
    }
  }

  // The native handle (a pointer as a BigInt) of one parse; a failure throws with the library's
  // message. The first try goes without an error object: only a failure is parsed again to
  // fetch the message (parsing has no side effect). The arguments are spelled out, not spread:
  // a spread call cost a parse about 10% (bench/clients/node/RESULTS.md).
  static _native(name, opts, args) {
    const parse = N[name];
    const call = (override, err) => (args.length === 1 ? parse(PARSED, args[0], override, err)
      : parse(PARSED, args[0], args[1], override, err));
    return withOverride(opts, override => {
      if (call(override, null) !== C.MOMENTO_OK) {
        PARSE_ERROR[0] = 0n;
        call(override, PARSE_ERROR);
        throw takeError(PARSE_ERROR[0]);
      }
      return PARSED[0];
    });
  }

  static _make(name, opts, ...args) {
    return new CredentialProvider(CredentialProvider._native(name, opts, args));
  }

  // For the pure string parsers (the same input always gives the same credential).
  static _parse(name, opts, ...args) {
    N.momento_credential_free(CredentialProvider._native(name, opts, args));
    const kept = opts === undefined || opts === null ? undefined : { endpoint: opts.endpoint, secure: opts.secure };
    return new CredentialProvider(null, [name, args, kept]);
  }

  /** A v1 envelope, legacy JWT or session token. opts: { endpoint: 'host:port', secure }. */
  static fromString(key, opts) {
    return CredentialProvider._parse('momento_credential_from_string', opts, cstr(key, 'key'));
  }

  static fromDisposableToken(token, opts) {
    return CredentialProvider._parse('momento_credential_from_disposable_token', opts, cstr(token, 'token'));
  }

  /** A v2 API key with its base endpoint. */
  static fromApiKeyV2(apiKey, endpoint, opts) {
    return CredentialProvider._parse('momento_credential_from_v2', opts, cstr(apiKey, 'apiKey'),
      cstr(endpoint, 'endpoint'));
  }

  /** From environment variables (the library's defaults when the names are omitted). */
  static fromEnvironmentVariable(keyVariable, opts = {}) {
    return CredentialProvider._make('momento_credential_from_env', opts,
      cstr(keyVariable, 'keyVariable', { optional: true }),
      cstr(opts.endpointVariable, 'endpointVariable', { optional: true }));
  }

  /** A token file in the Download-JSON shape. */
  static fromFile(path, opts) {
    return CredentialProvider._make('momento_credential_from_file', opts, cstr(path, 'path'));
  }

  /** No key: every endpoint at host:port, plaintext (the library's defaults when omitted). */
  static local({ host, port } = {}) {
    const p = port === undefined ? 0 : integer(port, 'port');
    if (p < 0 || p > 65535) throw invalidArgument('port must be between 0 and 65535');
    const out = new BigUint64Array(1);
    check('momento_credential_new_local', out, cstr(host, 'host', { optional: true }), p);
    return new CredentialProvider(out[0]);
  }

  _live() {
    if (this._ptr) return this._ptr;
    if (this.#source === undefined) throw errors.errorFor('FAILED_PRECONDITION_ERROR', 'the credential provider was released');
    const [name, args, opts] = this.#source;
    ownLong(this, CredentialProvider._native(name, opts, args), 'momento_credential_free');
    this.#source = undefined;
    return this._ptr;
  }

  get kind() { return N.momento_credential_kind_str(N.momento_credential_kind(this._live())); }
  get baseEndpoint() { return N.momento_credential_base_endpoint(this._live()); }
  /** The refresh token that came with a token file ('' when none): a secret. */
  get refreshToken() { return N.momento_credential_refresh_token(this._live()); }
  /** Date of expiry, null when the key never expires, undefined when unknown. */
  get expiresAt() {
    const state = [0];
    const at = [0];
    check('momento_credential_expiry', state, at, this._live());
    if (state[0] === C.MOMENTO_EXPIRY_AT) return date(at[0]);
    return state[0] === C.MOMENTO_EXPIRY_NEVER ? null : undefined;
  }

  toString() { return N.momento_credential_redacted(this._live()); }
  toJSON() { return this.toString(); }
  [util.inspect.custom]() { return `CredentialProvider(${this.toString()})`; }
}

// ---- lifetimes and scopes -------------------------------------------------------------------

class ExpiresIn {
  constructor(unit, amount) {
    const out = new BigUint64Array(1);
    check('momento_expires_in_new', out, unit, integer(amount, 'amount'));
    own(this, out[0], 'momento_expires_in_free');
    this.unit = unit;
    this.amount = amount;
  }

  static never() { return new ExpiresIn(C.MOMENTO_EXPIRES_NEVER, 0); }
  static seconds(n) { return new ExpiresIn(C.MOMENTO_EXPIRES_SECONDS, n); }
  static minutes(n) { return new ExpiresIn(C.MOMENTO_EXPIRES_MINUTES, n); }
  static hours(n) { return new ExpiresIn(C.MOMENTO_EXPIRES_HOURS, n); }
  static days(n) { return new ExpiresIn(C.MOMENTO_EXPIRES_DAYS, n); }
  /** An absolute expiry: a Date or epoch seconds. */
  static atEpoch(when) {
    const s = when instanceof Date ? Math.floor(when.getTime() / 1000) : when;
    return new ExpiresIn(C.MOMENTO_EXPIRES_AT_EPOCH, s);
  }

  [util.inspect.custom]() { return `ExpiresIn(unit=${this.unit}, amount=${this.amount})`; }
}

class PredefinedScope {
  constructor(which, name) {
    this._which = which;
    this.name = name;
    Object.freeze(this);
  }

  [util.inspect.custom]() { return this.name; }
}

const AllDataReadWrite = new PredefinedScope(C.MOMENTO_SCOPE_ALL_DATA_READ_WRITE, 'AllDataReadWrite');
const AllDataReadOnly = new PredefinedScope(C.MOMENTO_SCOPE_ALL_DATA_READ_ONLY, 'AllDataReadOnly');
const SuperUser = new PredefinedScope(C.MOMENTO_SCOPE_SUPER_USER, 'SuperUser');

// Selectors of "everything" in fine-grained permissions.
const AllCaches = Object.freeze({ all: 'caches' });
const AllTopics = Object.freeze({ all: 'topics' });
const AllFunctions = Object.freeze({ all: 'functions' });
const AllItems = Object.freeze({ all: 'items' });

const CacheRole = Object.freeze({ ReadWrite: 'readwrite', ReadOnly: 'readonly', WriteOnly: 'writeonly', PermitNone: 'permitnone' });
const TopicRole = Object.freeze({ PublishSubscribe: 'publishsubscribe', SubscribeOnly: 'subscribeonly', PublishOnly: 'publishonly', PermitNone: 'permitnone' });
const FunctionRole = Object.freeze({ Invoke: 'invoke', PermitNone: 'permitnone' });

const CACHE_ROLES = { readwrite: C.MOMENTO_CACHE_READ_WRITE, readonly: C.MOMENTO_CACHE_READ_ONLY, writeonly: C.MOMENTO_CACHE_WRITE_ONLY, permitnone: C.MOMENTO_CACHE_PERMIT_NONE };
const TOPIC_ROLES = { publishsubscribe: C.MOMENTO_TOPIC_PUBLISH_SUBSCRIBE, subscribeonly: C.MOMENTO_TOPIC_SUBSCRIBE_ONLY, publishonly: C.MOMENTO_TOPIC_PUBLISH_ONLY, permitnone: C.MOMENTO_TOPIC_PERMIT_NONE };
const FUNCTION_ROLES = { invoke: C.MOMENTO_FUNCTION_INVOKE, permitnone: C.MOMENTO_FUNCTION_PERMIT_NONE };

function role(table, value, what) {
  if (!Object.prototype.hasOwnProperty.call(table, value)) {
    throw invalidArgument(`${what} must be one of ${Object.keys(table).join(', ')}`);
  }
  return table[value];
}

function cacheName(p, i) {
  if (p.cache === AllCaches || p.cache === undefined) return null;
  return cstr(p.cache, `permissions[${i}].cache`);
}

// (select, name) of a topic or function selector: AllX, 'name' or { namePrefix }.
function nameSelect(value, all, what) {
  if (value === all || value === undefined) return [C.MOMENTO_SELECT_ALL, null];
  if (typeof value === 'string') return [C.MOMENTO_SELECT_NAME, cstr(value, what)];
  if (value && typeof value === 'object' && 'namePrefix' in value) {
    return [C.MOMENTO_SELECT_PREFIX, cstr(value.namePrefix, `${what}.namePrefix`)];
  }
  throw invalidArgument(`${what} must be a name, { namePrefix } or the "all" selector`);
}

function addPermission(scope, p, i) {
  const at = `permissions[${i}]`;
  if (!p || typeof p !== 'object') throw invalidArgument(`${at} must be an object`);
  if ('topic' in p) {
    const [sel, name] = nameSelect(p.topic, AllTopics, `${at}.topic`);
    check('momento_scope_add_topic', scope, role(TOPIC_ROLES, p.role, `${at}.role`), cacheName(p, i), sel, name);
  } else if ('func' in p) {
    const [sel, name] = nameSelect(p.func, AllFunctions, `${at}.func`);
    check('momento_scope_add_function', scope, role(FUNCTION_ROLES, p.role, `${at}.role`), cacheName(p, i), sel, name);
  } else if ('item' in p) {
    let sel = C.MOMENTO_ITEMS_ALL;
    let key = null;
    if (p.item !== AllItems) {
      if (p.item && typeof p.item === 'object' && 'key' in p.item) {
        sel = C.MOMENTO_ITEMS_KEY;
        key = bytes(p.item.key, `${at}.item.key`);
      } else if (p.item && typeof p.item === 'object' && 'keyPrefix' in p.item) {
        sel = C.MOMENTO_ITEMS_KEY_PREFIX;
        key = bytes(p.item.keyPrefix, `${at}.item.keyPrefix`);
      } else {
        throw invalidArgument(`${at}.item must be { key }, { keyPrefix } or AllItems`);
      }
    }
    check('momento_scope_add_cache_items', scope, role(CACHE_ROLES, p.role, `${at}.role`), cacheName(p, i),
      sel, key, key ? key.length : 0);
  } else {
    check('momento_scope_add_cache', scope, role(CACHE_ROLES, p.role, `${at}.role`), cacheName(p, i));
  }
}

// A native scope for one call; the caller frees it.
function nativeScope(scope) {
  const out = new BigUint64Array(1);
  if (scope instanceof PredefinedScope) {
    check('momento_scope_new_predefined', out, scope._which);
    return out[0];
  }
  if (!scope || typeof scope !== 'object' || !Array.isArray(scope.permissions)) {
    throw invalidArgument(`scope must be a predefined scope or { permissions: [...] }, got ${typeName(scope)}`);
  }
  check('momento_scope_new', out);
  try {
    scope.permissions.forEach((p, i) => addPermission(out[0], p, i));
  } catch (e) {
    N.momento_scope_free(out[0]);
    throw e;
  }
  return out[0];
}

const PermissionScopes = Object.freeze({
  cacheReadWrite: cache => ({ permissions: [{ role: CacheRole.ReadWrite, cache }] }),
  cacheReadOnly: cache => ({ permissions: [{ role: CacheRole.ReadOnly, cache }] }),
  cacheWriteOnly: cache => ({ permissions: [{ role: CacheRole.WriteOnly, cache }] }),
  topicPublishSubscribe: (cache, topic) => ({ permissions: [{ role: TopicRole.PublishSubscribe, cache, topic }] }),
  topicSubscribeOnly: (cache, topic) => ({ permissions: [{ role: TopicRole.SubscribeOnly, cache, topic }] }),
  topicPublishOnly: (cache, topic) => ({ permissions: [{ role: TopicRole.PublishOnly, cache, topic }] }),
});

const DisposableTokenScopes = Object.freeze({
  cacheKeyReadWrite: (cache, key) => ({ permissions: [{ role: CacheRole.ReadWrite, cache, item: { key } }] }),
  cacheKeyReadOnly: (cache, key) => ({ permissions: [{ role: CacheRole.ReadOnly, cache, item: { key } }] }),
  cacheKeyWriteOnly: (cache, key) => ({ permissions: [{ role: CacheRole.WriteOnly, cache, item: { key } }] }),
  cacheKeyPrefixReadWrite: (cache, keyPrefix) => ({ permissions: [{ role: CacheRole.ReadWrite, cache, item: { keyPrefix } }] }),
  cacheKeyPrefixReadOnly: (cache, keyPrefix) => ({ permissions: [{ role: CacheRole.ReadOnly, cache, item: { keyPrefix } }] }),
  cacheKeyPrefixWriteOnly: (cache, keyPrefix) => ({ permissions: [{ role: CacheRole.WriteOnly, cache, item: { keyPrefix } }] }),
});

// ---- tokens ---------------------------------------------------------------------------------

/** A minted or refreshed key (secrets are getters: JSON.stringify and inspect show them redacted). */
class ApiKeyResult {
  constructor(ptr) {
    own(this, ptr, 'momento_token_free');
  }

  // Read from the library when first asked (most callers of a refresh want the key alone).
  get endpoint() { return N.momento_token_endpoint(this._ptr); }
  get expiresAt() {
    if (this._expiresAt === undefined) this._expiresAt = date(N.momento_token_valid_until(this._ptr));
    return this._expiresAt;
  }
  get apiKey() { return N.momento_token_api_key(this._ptr); }
  get refreshToken() { return N.momento_token_refresh_token(this._ptr); }

  /** The Download-JSON text {"authToken","refreshToken","validUntil"} (contains secrets). */
  toDownloadJson() {
    const out = [null];
    check('momento_token_to_json', out, this._ptr);
    return out[0];
  }

  /** Writes the Download-JSON token file atomically with mode 0600. */
  writeFile(path) {
    return call('momento_token_write_file_queued', () => [this._ptr, cstr(path, 'path')], nothing);
  }

  /** A credential for this key (its own endpoints, or opts.endpoint). */
  credentialProvider(opts) {
    return CredentialProvider.fromString(this.apiKey, opts);
  }

  toJSON() { return { apiKey: redact(this.apiKey), endpoint: this.endpoint, expiresAt: this.expiresAt }; }
  toString() { return `${this.constructor.name}(${redact(this.apiKey)}, expiresAt=${this.expiresAt ? this.expiresAt.toISOString() : 'never'})`; }
  [util.inspect.custom]() { return this.toString(); }
}

class DisposableTokenResult extends ApiKeyResult {
  get authToken() { return this.apiKey; }
}

/** The library's display form of a secret: a few characters and a short hash. */
function redact(secret) {
  const out = [null];
  check('momento_redact', out, cstr(secret, 'secret'));
  return out[0];
}

// ---- auth client ----------------------------------------------------------------------------

// A client config for one constructor (copied by the library): { deadlineMs, caFile }.
function withConfig({ deadlineMs, caFile }, body) {
  const config = new BigUint64Array(1);
  check('momento_client_config_new', config);
  try {
    if (deadlineMs !== undefined) {
      check('momento_client_config_set_deadline_ms', config[0], integer(deadlineMs, 'deadlineMs'));
    }
    if (caFile !== undefined) check('momento_client_config_set_ca_file', config[0], cstr(caFile, 'caFile'));
    return body(config[0]);
  } finally {
    N.momento_client_config_free(config[0]);
  }
}

// ---- asynchronous calls and events --------------------------------------------------------

// Every call that may wait, and every Refresher/Watcher event, delivers into one completion
// queue of this thread's (the library's *_queued calls). The library writes a byte to a socket
// when the queue stops being empty; libuv watches that socket on this thread's event loop, and
// one pass pops every outcome. No JavaScript runs on a library thread and no library thread
// waits for ours, so a worker that ends with calls in flight leaves only outcomes, which the
// library frees with the queue (a cleanup hook of the worker's environment frees it).
const pending = new Map(); // call id -> settle(value, error), once
const streams = new Map(); // subscription id -> onValue(value), until unsubscribed
let nextCallId = 1;
let queue = null;
// The queue's pop and the starts write here (see ffi.js); each value is read at once.
const popped = { id: new BigUint64Array(1), value: new BigUint64Array(1), error: new BigUint64Array(1) };
const startError = new BigUint64Array(1);
const subscription = new BigUint64Array(1);

function completionQueue() {
  if (queue !== null) return queue;
  const out = new BigUint64Array(1);
  const fd = [0];
  check('momento_completion_queue_new', out, fd);
  teardown.add('momento_completion_queue_free', out[0]);
  // The socket owns (and closes) the reading end; the loop stays alive only while calls pend.
  // Its bytes go into one small buffer (`onread`): no allocation and no stream per wake-up.
  const socket = new net.Socket({
    fd: fd[0], readable: true, writable: false, onread: { buffer: Buffer.alloc(64), callback: drain },
  });
  socket.unref();
  queue = { ptr: out[0], socket };
  return queue;
}

function drain() {
  const { id, value, error } = popped;
  while (N.momento_completion_queue_pop_value(queue.ptr, id, value, error) === 1) {
    // Read before dispatching: a handler may drain again (a listener closing its Refresher).
    const key = Number(id[0]);
    const v = value[0];
    const e = error[0];
    const settle = pending.get(key);
    if (settle !== undefined) {
      pending.delete(key);
      settle(v, e);
    } else {
      streams.get(key)(v, e);
    }
  }
  if (pending.size === 0) queue.socket.unref();
}

// Starts one queued call: `args` precede the queue and the id. The library copies its arguments
// at the start; `settle(value, error)` runs on this thread when the outcome is popped. A start
// that fails throws and queues nothing.
function enqueue(name, args, settle) {
  const q = completionQueue();
  const id = nextCallId++;
  if (N[name](...args, q.ptr, id, startError) !== C.MOMENTO_OK) throw takeError(startError[0]);
  if (pending.size === 0) q.socket.ref();
  pending.set(id, settle);
}

// A queued call as a promise: `args()` gives the arguments (bad ones reject), `result(value)`
// the resolution.
function call(name, args, result) {
  // `args` runs here, outside the promise's closures: the pending outcome must not keep it (and
  // the object whose handle it reads) alive.
  let list;
  try {
    list = args();
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    enqueue(name, list, (value, error) => {
      if (error) reject(takeError(error));
      else {
        try {
          resolve(result(value));
        } catch (e) { // never out into drain(), which must pop on
          reject(e);
        }
      }
    });
  });
}

function nothing() {
  return undefined;
}

// A Refresher's or Watcher's events, delivered through the queue. `onValue(owner, value)` gets
// each event's native value (freed here after it returns); once close() has returned it is not
// called again. The owner is held weakly, so the subscription alone does not keep it alive.
class Subscription {
  constructor(owner, kind, onValue, free) {
    this.kind = kind;
    this.closed = false;
    this.id = nextCallId++;
    const ref = new WeakRef(owner);
    streams.set(this.id, value => {
      try {
        const o = ref.deref();
        if (!this.closed && o !== undefined) onValue(o, value);
      } catch (e) {
        process.nextTick(() => { throw e; }); // a listener's exception, as EventEmitter reports it
      } finally {
        N[free](value);
      }
    });
    try {
      check(`${kind}_subscribe_queued`, subscription, owner._ptr, completionQueue().ptr, this.id);
    } catch (e) {
      streams.delete(this.id);
      throw e;
    }
    this.subscription = subscription[0];
  }

  // The library's unsubscribe returns at once (its thread only appends to the queue); the events
  // queued before it are popped now and dropped.
  close(owner) {
    if (this.closed) return;
    this.closed = true;
    check(`${this.kind}_unsubscribe`, owner._ptr, this.subscription);
    drain();
    streams.delete(this.id);
  }
}

// A cancel token for one call, cancelled when `signal` aborts; release() frees it.
function abortToken(signal) {
  if (!(signal instanceof AbortSignal)) throw invalidArgument(`signal must be an AbortSignal, got ${typeName(signal)}`);
  const out = new BigUint64Array(1);
  check('momento_cancel_token_new', out);
  const ptr = out[0];
  teardown.add('momento_cancel_token_free', ptr); // a worker may end with the call in flight
  const onAbort = () => N.momento_cancel_token_cancel(ptr, null);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    ptr,
    release() {
      signal.removeEventListener('abort', onAbort);
      teardown.remove('momento_cancel_token_free', ptr);
      N.momento_cancel_token_free(ptr);
    },
  };
}

// Starts one RPC: `args` go between the client and the cancel token.
function start(client, name, cls, args, signal) {
  const cancel = signal === undefined ? null : abortToken(signal);
  return new Promise((resolve, reject) => {
    try {
      // The client itself may go (close, or its finalizer): the library finishes the call anyway.
      enqueue(name, [client._ptr, ...args, cancel && cancel.ptr], (token, error) => {
        if (cancel) cancel.release();
        if (error) {
          const e = takeError(error);
          if (signal !== undefined && signal.aborted && e.code === 'CANCELLED_ERROR') e.cause = signal.reason;
          reject(e);
        } else {
          resolve(new cls(token));
        }
      });
    } catch (e) {
      if (cancel) cancel.release();
      reject(e);
    }
  });
}

function closedClient() {
  return Promise.reject(errors.errorFor('FAILED_PRECONDITION_ERROR', 'the AuthClient is closed'));
}

function signalOf(opts) {
  if (opts === undefined || opts === null) return undefined;
  if (typeof opts !== 'object') throw invalidArgument(`options must be an object, got ${typeName(opts)}`);
  return opts.signal;
}

class AuthClient {
  /** opts: { credentialProvider, deadlineMs, caFile (PEM certificates to trust for TLS) } */
  constructor({ credentialProvider, ...opts } = {}) {
    instance(credentialProvider, CredentialProvider, 'credentialProvider');
    withConfig(opts, config => {
      const out = new BigUint64Array(1);
      check('momento_auth_client_new', out, credentialProvider._live(), config);
      ownLong(this, out[0], 'momento_auth_client_free');
    });
  }

  // Promise-returning methods report every failure, bad arguments included, as a rejection.
  _mint(name, cls, scope, expiresIn, opts, extra) {
    if (!this._ptr) return closedClient();
    let s = null;
    try {
      instance(expiresIn, ExpiresIn, 'expiresIn');
      const rest = extra ? extra(opts || {}) : [];
      const signal = signalOf(opts);
      s = nativeScope(scope);
      return start(this, name, cls, [s, expiresIn._ptr, ...rest], signal);
    } catch (e) {
      return Promise.reject(e);
    } finally {
      if (s) N.momento_scope_free(s);
    }
  }

  /** opts: { signal } (an AbortSignal that cancels the call). */
  generateApiKey(scope, expiresIn, opts) {
    return this._mint('momento_auth_client_generate_api_key_queued', ApiKeyResult, scope, expiresIn, opts);
  }

  /** opts: { tokenId, signal } */
  generateDisposableToken(scope, expiresIn, opts) {
    return this._mint('momento_auth_client_generate_disposable_token_queued', DisposableTokenResult, scope,
      expiresIn, opts, o => [cstr(o.tokenId, 'tokenId', { optional: true })]);
  }

  /** opts: { signal } */
  refreshApiKey(refreshToken, opts) {
    if (!this._ptr) return closedClient();
    try {
      return start(this, 'momento_auth_client_refresh_api_key_queued', ApiKeyResult,
        [cstr(refreshToken, 'refreshToken')], signalOf(opts));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Frees the client; calls in flight still finish. Later calls fail. Idempotent. */
  close() { release(this, 'momento_auth_client_free'); }

  [util.inspect.custom]() { return `AuthClient(${this._ptr ? 'open' : 'closed'})`; }
}

// ---- the library's log --------------------------------------------------------------------

// The level names are the library's ('debug', 'info', 'warn', 'error').
const LOG_LEVELS = Object.fromEntries([C.MOMENTO_LOG_DEBUG, C.MOMENTO_LOG_INFO, C.MOMENTO_LOG_WARN,
  C.MOMENTO_LOG_ERROR].map(level => [N.momento_log_level_str(level), level]));
const LOG_NAMES = Object.fromEntries(Object.entries(LOG_LEVELS).map(([k, v]) => [v, k]));
let logStream = null; // this thread's log subscription id, while it has the handler

/**
 * Sends the library's log messages (never a secret) to handler(level, message), level one of
 * 'debug', 'info', 'warn', 'error'; messages below opts.minLevel (default 'info') are not made.
 * null removes the handler. Process-wide: one handler for every thread and worker, the last one
 * set. The messages go into this thread's completion queue (a library thread only appends) and
 * reach the handler on this thread's event loop. Once the returned promise resolves, the
 * previous handler is not called again.
 */
async function setLogHandler(handler, { minLevel = 'info' } = {}) {
  if (handler !== null && typeof handler !== 'function') {
    throw invalidArgument(`handler must be a function or null, got ${typeName(handler)}`);
  }
  const level = role(LOG_LEVELS, minLevel, 'minLevel');
  const previous = logStream;
  logStream = null; // from here on, records of the previous handler are dropped
  if (handler === null) {
    check('momento_log_set_callback', level, null, null, null);
  } else {
    const id = nextCallId++;
    streams.set(id, record => {
      try {
        if (logStream === id) handler(LOG_NAMES[N.momento_log_record_level(record)], N.momento_log_record_message(record));
      } catch {
        // A throwing handler must not stop the queue's other outcomes.
      } finally {
        N.momento_log_record_free(record);
      }
    });
    try {
      check('momento_log_set_queue', level, completionQueue().ptr, id);
    } catch (e) {
      streams.delete(id);
      throw e;
    }
    logStream = id;
  }
  // Nothing more comes under the previous id: pop what did (dropped above) and forget it.
  if (previous !== null) {
    drain();
    streams.delete(previous);
  }
}

// ---- stores, refresher, watcher -------------------------------------------------------------

const STORE_SETTERS = {
  awsRegion: 'momento_store_options_set_aws_region',
  awsEndpoint: 'momento_store_options_set_aws_endpoint',
  awsProfile: 'momento_store_options_set_aws_profile',
};

class TokenStore {
  constructor(ptr) { ownLong(this, ptr, 'momento_store_free'); }

  /**
   * spec: "file:PATH", "aws-sm:SECRET-ID" or "env:VARIABLE" (parsed by the library).
   * opts (aws-sm: stores): { awsRegion, awsEndpoint, awsProfile }; omitted: the library's defaults.
   */
  static open(spec, opts = {}) {
    const out = new BigUint64Array(1);
    const given = Object.keys(STORE_SETTERS).filter(k => opts[k] !== undefined);
    if (given.length === 0) {
      check('momento_store_new', out, cstr(spec, 'spec'), null);
      return new TokenStore(out[0]);
    }
    const options = new BigUint64Array(1);
    check('momento_store_options_new', options);
    try {
      for (const k of given) check(STORE_SETTERS[k], options[0], cstr(opts[k], k));
      check('momento_store_new', out, cstr(spec, 'spec'), options[0]);
    } finally {
      N.momento_store_options_free(options[0]);
    }
    return new TokenStore(out[0]);
  }

  get description() { return N.momento_store_describe(this._ptr); }
  /** 'file', 'aws-sm' or 'env'. */
  get kind() { return N.momento_store_kind_str(N.momento_store_kind(this._ptr)); }
  /** The path, secret id or variable the spec names. */
  get location() { return N.momento_store_location(this._ptr); }
  get writable() { return N.momento_store_writable(this._ptr) === 1; }

  load() {
    return call('momento_store_load_queued', () => [this._ptr], token => new ApiKeyResult(token));
  }

  store(result) {
    return call('momento_store_save_queued', () => [this._ptr, instance(result, ApiKeyResult, 'result')._ptr], nothing);
  }

  close() { release(this, 'momento_store_free'); }
  toString() { return `TokenStore(${this.description})`; }
  [util.inspect.custom]() { return this.toString(); }
}

const FOLLOWERS = { momento_refresher_free: 'momento_refresher', momento_watcher_free: 'momento_watcher' };

// A follower's ownLong: the finalizer gets { kind, ptr, subs } (never the object itself).
function ownFollower(target, ptr, kind) {
  const held = { kind, ptr, subs: null };
  ownLong(target, ptr, `${kind}_free`, held);
  return held;
}

// The finalizer of a Refresher or Watcher nobody closed: the queued close frees the handle at
// once and stops its threads on a library thread (a blocking free would hold up the event loop
// until a refresh in progress ended). Its events still queued are freed unread; the close's
// outcome ends the subscription.
function dropFollower({ kind, ptr, subs }) {
  teardown.remove(`${kind}_free`, ptr);
  if (subs !== null) {
    // Returns at once; nothing is queued under subs.id after it, so before the close's outcome.
    subs.closed = true;
    N[`${kind}_unsubscribe`](ptr, subs.subscription, null);
  }
  const id = nextCallId++;
  const end = () => {
    streams.delete(id);
    if (subs !== null) streams.delete(subs.id);
  };
  streams.set(id, (value, error) => {
    if (error) N.momento_error_free(error);
    end();
  });
  if (N[`${kind}_close_queued`](ptr, completionQueue().ptr, id, null) !== C.MOMENTO_OK) {
    end(); // only without memory: free it here rather than never
    N[`${kind}_free`](ptr);
  }
}

// Closes a Refresher or Watcher: no listener runs from now on; the library stops and joins its
// threads on a thread of its own and queues the end, which resolves the promise.
function closeFollower(target, kind) {
  if (!target._ptr) return Promise.resolve();
  target._subs.close(target);
  const ptr = disown(target, `${kind}_free`);
  return call(`${kind}_close_queued`, () => [ptr], nothing);
}

class RefreshEvent {
  constructor(ev) {
    this.kind = N.momento_refresh_event_kind_str(N.momento_refresh_event_kind(ev));
    this.store = N.momento_refresh_event_store(ev);
    this.expiresAt = date(N.momento_refresh_event_valid_until(ev));
    this.redactedKey = N.momento_refresh_event_redacted_key(ev);
    this.keyFingerprint = N.momento_refresh_event_key_fingerprint(ev);
    /** When the refresher tries again after a failure; null when not planned. */
    const next = Number(N.momento_refresh_event_next_attempt_ms(ev));
    this.nextAttempt = next === 0 ? null : new Date(next);
    /** The pass repeated a refresh whose answer was lost (docs/refresh.md, "Lost answers"). */
    this.replay = N.momento_refresh_event_replay(ev) === 1;
    this.error = null;
    if (N.momento_refresh_event_kind(ev) === C.MOMENTO_REFRESH_FAILED) {
      this.error = errors.errorFor(N.momento_status_str(N.momento_refresh_event_error_code(ev)),
        N.momento_refresh_event_error_message(ev), { retryable: N.momento_refresh_event_retryable(ev) === 1 });
      this.consecutiveFailures = N.momento_refresh_event_consecutive_failures(ev);
    }
  }
}

const POLICY_SETTERS = {
  refreshFraction: (o, v) => check('momento_refresher_options_set_refresh_fraction', o, number(v, 'refreshFraction')),
  jitterFraction: (o, v) => check('momento_refresher_options_set_jitter_fraction', o, number(v, 'jitterFraction')),
  recheckIntervalMs: (o, v) => check('momento_refresher_options_set_recheck_interval_ms', o, integer(v, 'recheckIntervalMs')),
};

/**
 * Keeps one store's key fresh on a library thread. Emits 'refreshed', 'adopted' and 'failed'
 * (each with a RefreshEvent) and 'event' for all three.
 * opts: { endpoint, secure, deadlineMs, caFile, refreshFraction, jitterFraction, backoff: { initialMs,
 * maxMs }, recheckIntervalMs } — omitted values take the library's defaults.
 */
class Refresher extends EventEmitter {
  constructor(store, opts = {}) {
    super();
    instance(store, TokenStore, 'store');
    let held;
    const options = new BigUint64Array(1);
    check('momento_refresher_options_new', options);
    try {
      for (const [key, set] of Object.entries(POLICY_SETTERS)) {
        if (opts[key] !== undefined) set(options[0], opts[key]);
      }
      if (opts.backoff !== undefined) {
        check('momento_refresher_options_set_backoff_ms', options[0],
          integer(opts.backoff.initialMs, 'backoff.initialMs'), integer(opts.backoff.maxMs, 'backoff.maxMs'));
      }
      withConfig(opts, config => withOverride(opts, override => {
        const out = new BigUint64Array(1);
        check('momento_refresher_new', out, store._ptr, config, override, options[0]);
        held = ownFollower(this, out[0], 'momento_refresher');
      }));
    } finally {
      N.momento_refresher_options_free(options[0]);
    }
    this.store = store;
    held.subs = this._subs = new Subscription(this, 'momento_refresher', emitRefreshEvent,
      'momento_refresh_event_free');
  }

  _live() {
    if (!this._ptr || this._subs.closed) throw errors.errorFor('FAILED_PRECONDITION_ERROR', 'the Refresher is closed');
    return this._ptr;
  }

  start() { check('momento_refresher_start', this._live()); return this; }
  stop() { return call('momento_refresher_stop_queued', () => [this._live()], nothing); }

  /** One pass of the refresher's loop: a refresh when due (or with force), else null. */
  runOnce({ force = false } = {}) {
    return call('momento_refresher_run_once_queued', () => {
      if (typeof force !== 'boolean') throw invalidArgument(`force must be a boolean, got ${typeName(force)}`);
      return [this._live(), force ? 1 : 0];
    }, takeEvent);
  }

  /** Refreshes now (a key a peer already rotated is adopted instead); resolves with the event. */
  refreshNow() {
    return call('momento_refresher_run_once_queued', () => [this._live(), 1], takeEvent);
  }

  /** No event is emitted once this is called; resolves when the threads have stopped. */
  close() { return closeFollower(this, 'momento_refresher'); }
}

// The subscriptions' handlers. Not closures in the constructors: those share a context with the
// constructors' other closures, which hold `this`, and the finalizer's held value must not.
function emitRefreshEvent(refresher, ev) {
  const event = new RefreshEvent(ev);
  refresher.emit(event.kind, event);
  refresher.emit('event', event);
}

function emitKey(watcher, key) {
  watcher.emit('key', new WatchedKey(key));
}

// An owned event from the queue (or null), read and freed.
function takeEvent(ev) {
  if (!ev) return null;
  try {
    return new RefreshEvent(ev);
  } finally {
    N.momento_refresh_event_free(ev);
  }
}

class WatchedKey {
  constructor(key) {
    this.expiresAt = date(N.momento_watched_key_valid_until(key));
    this.fingerprint = N.momento_watched_key_fingerprint(key);
  }
}

/**
 * An application's view of a store: re-reads it every periodMs on a library thread and swaps a
 * new key in. Emits 'key' (a WatchedKey) for each new one. Create with Watcher.open().
 */
class Watcher extends EventEmitter {
  /** opts: { periodMs, endpoint, secure }; periodMs omitted: the library's default. */
  static async open(store, opts = {}) {
    instance(store, TokenStore, 'store');
    const periodMs = integer(opts.periodMs, 'periodMs', { optional: true }) ?? N.momento_watcher_default_period_ms();
    // The library copies the override at the start.
    const ptr = await withOverride(opts, override =>
      call('momento_watcher_new_queued', () => [store._ptr, periodMs, override], watcher => watcher));
    return new Watcher(ptr, store);
  }

  constructor(ptr, store) {
    super();
    if (!ptr) throw invalidArgument('use Watcher.open()');
    const held = ownFollower(this, ptr, 'momento_watcher');
    this.store = store;
    held.subs = this._subs = new Subscription(this, 'momento_watcher', emitKey, 'momento_watched_key_free');
  }

  _live() {
    if (!this._ptr || this._subs.closed) throw errors.errorFor('FAILED_PRECONDITION_ERROR', 'the Watcher is closed');
    return this._ptr;
  }

  /** The credential in service now (a snapshot that a later swap leaves unchanged). */
  get credentialProvider() {
    const out = new BigUint64Array(1);
    check('momento_watcher_current_credential', out, this._live());
    return new CredentialProvider(out[0]);
  }

  /** Re-reads the store now; resolves true when a new key was swapped in. */
  poll() {
    return call('momento_watcher_poll_queued', () => [this._live()], key => {
      if (!key) return false;
      N.momento_watched_key_free(key);
      return true;
    });
  }

  /** A call came back with AuthenticationError: the watcher re-reads soon. */
  notifyUnauthenticated() { check('momento_watcher_notify_unauthenticated', this._live()); }

  close() { return closeFollower(this, 'momento_watcher'); }
}

module.exports = {
  AuthClient, CredentialProvider, ExpiresIn, ApiKeyResult, DisposableTokenResult,
  AllDataReadWrite, AllDataReadOnly, SuperUser, PredefinedScope,
  AllCaches, AllTopics, AllFunctions, AllItems, CacheRole, TopicRole, FunctionRole,
  PermissionScopes, DisposableTokenScopes,
  TokenStore, Refresher, RefreshEvent, Watcher, WatchedKey, redact, setLogHandler,
  libraryVersion: N.momento_version_string(),
  libraryPath: libraryFile,
  ...Object.fromEntries(Object.entries(errors).filter(([k]) => /Error$/.test(k))),
};
module.exports.default = module.exports; // `import m from` in TypeScript with CommonJS output
