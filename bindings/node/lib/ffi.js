'use strict';
// The C declarations this package uses, written as in momento/auth.h (the drift check,
// bindings/check_drift.py, holds every prototype and constant here to the header). koffi parses
// them; `_Out_` marks out-parameters, `momento_owned_str *` stands for an owned `char **`
// that koffi copies into a JS string and releases with momento_free(). Handle and error
// out-parameters (`T **`) are not `_Out_`: the binding passes a BigUint64Array(1) that receives
// the pointer, so every handle is a BigInt, never one of koffi's pointer objects. That is cheaper
// than an out-array, and it matters for workers: koffi checks a pointer object's type tag
// through a Node-API call that fails once a worker is being terminated, and koffi turns that
// failure into a fatal error (the process aborts). A BigInt needs no such check.
const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');

// ABI version this package was written against (MOMENTO_AUTH_ABI_VERSION in auth.h).
const ABI_VERSION = 1;

// Enumerations of auth.h used by this package (same names and values).
const C = Object.freeze({
  MOMENTO_OK: 0,
  MOMENTO_ERR_INVALID_ARGUMENT: -1,
  MOMENTO_ERR_AUTHENTICATION: -2,
  MOMENTO_ERR_PERMISSION: -3,
  MOMENTO_ERR_NOT_FOUND: -4,
  MOMENTO_ERR_ALREADY_EXISTS: -5,
  MOMENTO_ERR_LIMIT_EXCEEDED: -6,
  MOMENTO_ERR_FAILED_PRECONDITION: -7,
  MOMENTO_ERR_CANCELLED: -8,
  MOMENTO_ERR_TIMEOUT: -9,
  MOMENTO_ERR_SERVER_UNAVAILABLE: -10,
  MOMENTO_ERR_INTERNAL_SERVER: -11,
  MOMENTO_ERR_UNKNOWN_SERVICE: -12,
  MOMENTO_ERR_BAD_REQUEST: -13,
  MOMENTO_ERR_CONNECTION: -14,
  MOMENTO_ERR_CLIENT_RESOURCE_EXHAUSTED: -15,
  MOMENTO_ERR_UNKNOWN: -16,
  MOMENTO_LOG_DEBUG: 0,
  MOMENTO_LOG_INFO: 1,
  MOMENTO_LOG_WARN: 2,
  MOMENTO_LOG_ERROR: 3,
  MOMENTO_EXPIRY_UNKNOWN: 0,
  MOMENTO_EXPIRY_NEVER: 1,
  MOMENTO_EXPIRY_AT: 2,
  MOMENTO_EXPIRES_NEVER: 0,
  MOMENTO_EXPIRES_SECONDS: 1,
  MOMENTO_EXPIRES_MINUTES: 2,
  MOMENTO_EXPIRES_HOURS: 3,
  MOMENTO_EXPIRES_DAYS: 4,
  MOMENTO_EXPIRES_AT_EPOCH: 5,
  MOMENTO_SCOPE_SUPER_USER: 1,
  MOMENTO_SCOPE_ALL_DATA_READ_WRITE: 2,
  MOMENTO_SCOPE_ALL_DATA_READ_ONLY: 3,
  MOMENTO_CACHE_PERMIT_NONE: 0,
  MOMENTO_CACHE_READ_WRITE: 1,
  MOMENTO_CACHE_READ_ONLY: 2,
  MOMENTO_CACHE_WRITE_ONLY: 3,
  MOMENTO_TOPIC_PERMIT_NONE: 0,
  MOMENTO_TOPIC_PUBLISH_SUBSCRIBE: 1,
  MOMENTO_TOPIC_SUBSCRIBE_ONLY: 2,
  MOMENTO_TOPIC_PUBLISH_ONLY: 3,
  MOMENTO_FUNCTION_PERMIT_NONE: 0,
  MOMENTO_FUNCTION_INVOKE: 1,
  MOMENTO_SELECT_ALL: 0,
  MOMENTO_SELECT_NAME: 1,
  MOMENTO_SELECT_PREFIX: 2,
  MOMENTO_ITEMS_ALL: 1,
  MOMENTO_ITEMS_KEY: 2,
  MOMENTO_ITEMS_KEY_PREFIX: 3,
  MOMENTO_REFRESH_REFRESHED: 1,
  MOMENTO_REFRESH_ADOPTED: 2,
  MOMENTO_REFRESH_FAILED: 3,
});

const PROTOTYPES = [
  'const char *momento_status_str(momento_status_t status)',
  'momento_status_t momento_error_code(const momento_error_t *error)',
  'const char *momento_error_message(const momento_error_t *error)',
  'int32_t momento_error_grpc_status(const momento_error_t *error)',
  'int32_t momento_error_retryable(const momento_error_t *error)',
  'void momento_error_free(momento_error_t *error)',
  'momento_status_t momento_redact(_Out_ momento_owned_str *out, const char *secret, momento_error_t **err)',
  'const char *momento_version_string(void)',
  'momento_status_t momento_log_set_callback(int32_t min_level, momento_log_fn fn, void *user_data, momento_destroy_fn destroy, momento_error_t **err)',
  'uint32_t momento_abi_version(void)',
  'momento_status_t momento_endpoint_override_new_single(momento_endpoint_override_t **out, const char *host_port, int32_t secure, momento_error_t **err)',
  'void momento_endpoint_override_free(momento_endpoint_override_t *override_)',
  'momento_status_t momento_credential_from_string(momento_credential_t **out, const char *credential, const momento_endpoint_override_t *override_, momento_error_t **err)',
  'momento_status_t momento_credential_from_disposable_token(momento_credential_t **out, const char *token, const momento_endpoint_override_t *override_, momento_error_t **err)',
  'momento_status_t momento_credential_from_v2(momento_credential_t **out, const char *api_key, const char *endpoint, const momento_endpoint_override_t *override_, momento_error_t **err)',
  'momento_status_t momento_credential_from_env(momento_credential_t **out, const char *key_var, const char *endpoint_var, const momento_endpoint_override_t *override_, momento_error_t **err)',
  'momento_status_t momento_credential_from_file(momento_credential_t **out, const char *path, const momento_endpoint_override_t *override_, momento_error_t **err)',
  'momento_status_t momento_credential_new_local(momento_credential_t **out, const char *host, uint16_t port, momento_error_t **err)',
  'void momento_credential_free(momento_credential_t *credential)',
  'int32_t momento_credential_kind(const momento_credential_t *credential)',
  'const char *momento_credential_kind_str(int32_t kind)',
  'const char *momento_credential_base_endpoint(const momento_credential_t *credential)',
  'momento_status_t momento_credential_expiry(_Out_ int32_t *state, _Out_ uint64_t *epoch_seconds, const momento_credential_t *credential, momento_error_t **err)',
  'const char *momento_credential_redacted(const momento_credential_t *credential)',
  'const char *momento_credential_refresh_token(const momento_credential_t *credential)',
  'momento_status_t momento_expires_in_new(momento_expires_in_t **out, int32_t unit, int64_t amount, momento_error_t **err)',
  'void momento_expires_in_free(momento_expires_in_t *expires_in)',
  'momento_status_t momento_scope_new(momento_scope_t **out, momento_error_t **err)',
  'momento_status_t momento_scope_new_predefined(momento_scope_t **out, int32_t which, momento_error_t **err)',
  'void momento_scope_free(momento_scope_t *scope)',
  'momento_status_t momento_scope_add_cache(momento_scope_t *scope, int32_t role, const char *cache_name, momento_error_t **err)',
  'momento_status_t momento_scope_add_topic(momento_scope_t *scope, int32_t role, const char *cache_name, int32_t topic_select, const char *topic, momento_error_t **err)',
  'momento_status_t momento_scope_add_function(momento_scope_t *scope, int32_t role, const char *cache_name, int32_t function_select, const char *function, momento_error_t **err)',
  'momento_status_t momento_scope_add_cache_items(momento_scope_t *scope, int32_t role, const char *cache_name, int32_t item_select, const void *item, size_t item_len, momento_error_t **err)',
  'momento_status_t momento_client_config_new(momento_client_config_t **out, momento_error_t **err)',
  'void momento_client_config_free(momento_client_config_t *config)',
  'momento_status_t momento_client_config_set_deadline_ms(momento_client_config_t *config, int64_t deadline_ms, momento_error_t **err)',
  'momento_status_t momento_client_config_set_ca_file(momento_client_config_t *config, const char *path, momento_error_t **err)',
  'const char *momento_token_api_key(const momento_token_t *token)',
  'const char *momento_token_refresh_token(const momento_token_t *token)',
  'const char *momento_token_endpoint(const momento_token_t *token)',
  'uint64_t momento_token_valid_until(const momento_token_t *token)',
  'momento_status_t momento_token_to_json(_Out_ momento_owned_str *out, const momento_token_t *token, momento_error_t **err)',
  'void momento_token_free(momento_token_t *token)',
  'momento_status_t momento_auth_client_new(momento_auth_client_t **out, const momento_credential_t *credential, const momento_client_config_t *config, momento_error_t **err)',
  'void momento_auth_client_free(momento_auth_client_t *client)',
  'momento_status_t momento_auth_client_generate_api_key(momento_token_t **out, momento_auth_client_t *client, const momento_scope_t *scope, const momento_expires_in_t *expires_in, momento_error_t **err)',
  'momento_status_t momento_auth_client_refresh_api_key(momento_token_t **out, momento_auth_client_t *client, const char *refresh_token, momento_error_t **err)',
  'momento_status_t momento_auth_client_generate_disposable_token(momento_token_t **out, momento_auth_client_t *client, const momento_scope_t *scope, const momento_expires_in_t *expires_in, const char *token_id, momento_error_t **err)',
  'momento_status_t momento_cancel_token_new(momento_cancel_token_t **out, momento_error_t **err)',
  'void momento_cancel_token_free(momento_cancel_token_t *token)',
  'momento_status_t momento_cancel_token_cancel(momento_cancel_token_t *token, momento_error_t **err)',
  'momento_status_t momento_completion_queue_new(momento_completion_queue_t **out, _Out_ int32_t *fd, momento_error_t **err)',
  'void momento_completion_queue_free(momento_completion_queue_t *queue)',
  'int32_t momento_completion_queue_pop(momento_completion_queue_t *queue, uint64_t *id, momento_token_t **token, momento_error_t **error)',
  'momento_status_t momento_auth_client_generate_api_key_queued(momento_auth_client_t *client, const momento_scope_t *scope, const momento_expires_in_t *expires_in, momento_cancel_token_t *cancel, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_auth_client_refresh_api_key_queued(momento_auth_client_t *client, const char *refresh_token, momento_cancel_token_t *cancel, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_auth_client_generate_disposable_token_queued(momento_auth_client_t *client, const momento_scope_t *scope, const momento_expires_in_t *expires_in, const char *token_id, momento_cancel_token_t *cancel, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'int32_t momento_completion_queue_pop_value(momento_completion_queue_t *queue, uint64_t *id, void **value, momento_error_t **error)',
  'momento_status_t momento_store_load_queued(momento_store_t *store, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_store_save_queued(momento_store_t *store, const momento_token_t *token, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_token_write_file_queued(const momento_token_t *token, const char *path, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_watcher_new_queued(momento_store_t *store, int64_t period_ms, const momento_endpoint_override_t *override_, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_watcher_poll_queued(momento_watcher_t *watcher, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_refresher_run_once_queued(momento_refresher_t *refresher, int32_t force, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_refresher_stop_queued(momento_refresher_t *refresher, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_refresher_close_queued(momento_refresher_t *refresher, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_watcher_close_queued(momento_watcher_t *watcher, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_refresher_subscribe_queued(uint64_t *subscription, momento_refresher_t *refresher, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'momento_status_t momento_watcher_subscribe_queued(uint64_t *subscription, momento_watcher_t *watcher, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'void momento_watched_key_free(momento_watched_key_t *key)',
  'const char *momento_log_level_str(int32_t level)',
  'momento_status_t momento_log_set_queue(int32_t min_level, momento_completion_queue_t *queue, uint64_t id, momento_error_t **err)',
  'int32_t momento_log_record_level(const momento_log_record_t *record)',
  'const char *momento_log_record_message(const momento_log_record_t *record)',
  'void momento_log_record_free(momento_log_record_t *record)',
  'momento_status_t momento_store_options_new(momento_store_options_t **out, momento_error_t **err)',
  'void momento_store_options_free(momento_store_options_t *options)',
  'momento_status_t momento_store_options_set_aws_region(momento_store_options_t *options, const char *region, momento_error_t **err)',
  'momento_status_t momento_store_options_set_aws_endpoint(momento_store_options_t *options, const char *endpoint_url, momento_error_t **err)',
  'momento_status_t momento_store_options_set_aws_profile(momento_store_options_t *options, const char *profile, momento_error_t **err)',
  'momento_status_t momento_store_new(momento_store_t **out, const char *spec, const momento_store_options_t *options, momento_error_t **err)',
  'void momento_store_free(momento_store_t *store)',
  'const char *momento_store_describe(const momento_store_t *store)',
  'const char *momento_store_kind_str(int32_t kind)',
  'int32_t momento_store_kind(const momento_store_t *store)',
  'const char *momento_store_location(const momento_store_t *store)',
  'int32_t momento_store_writable(const momento_store_t *store)',
  'momento_status_t momento_refresher_options_new(momento_refresher_options_t **out, momento_error_t **err)',
  'void momento_refresher_options_free(momento_refresher_options_t *options)',
  'momento_status_t momento_refresher_options_set_refresh_fraction(momento_refresher_options_t *options, double fraction, momento_error_t **err)',
  'momento_status_t momento_refresher_options_set_jitter_fraction(momento_refresher_options_t *options, double fraction, momento_error_t **err)',
  'momento_status_t momento_refresher_options_set_backoff_ms(momento_refresher_options_t *options, int64_t initial_ms, int64_t max_ms, momento_error_t **err)',
  'momento_status_t momento_refresher_options_set_recheck_interval_ms(momento_refresher_options_t *options, int64_t interval_ms, momento_error_t **err)',
  'momento_status_t momento_refresher_new(momento_refresher_t **out, momento_store_t *store, const momento_client_config_t *config, const momento_endpoint_override_t *override_, const momento_refresher_options_t *options, momento_error_t **err)',
  'void momento_refresher_free(momento_refresher_t *refresher)',
  'momento_status_t momento_refresher_start(momento_refresher_t *refresher, momento_error_t **err)',
  'momento_status_t momento_refresher_unsubscribe(momento_refresher_t *refresher, uint64_t id, momento_error_t **err)',
  'int32_t momento_refresh_event_kind(const momento_refresh_event_t *event)',
  'const char *momento_refresh_event_kind_str(int32_t kind)',
  'momento_status_t momento_refresh_event_error_code(const momento_refresh_event_t *event)',
  'const char *momento_refresh_event_error_message(const momento_refresh_event_t *event)',
  'uint64_t momento_refresh_event_valid_until(const momento_refresh_event_t *event)',
  'const char *momento_refresh_event_redacted_key(const momento_refresh_event_t *event)',
  'const char *momento_refresh_event_key_fingerprint(const momento_refresh_event_t *event)',
  'const char *momento_refresh_event_store(const momento_refresh_event_t *event)',
  'int32_t momento_refresh_event_consecutive_failures(const momento_refresh_event_t *event)',
  'int64_t momento_refresh_event_next_attempt_ms(const momento_refresh_event_t *event)',
  'int32_t momento_refresh_event_replay(const momento_refresh_event_t *event)',
  'int32_t momento_refresh_event_retryable(const momento_refresh_event_t *event)',
  'void momento_refresh_event_free(momento_refresh_event_t *event)',
  'int64_t momento_watcher_default_period_ms(void)',
  'void momento_watcher_free(momento_watcher_t *watcher)',
  'momento_status_t momento_watcher_current_credential(momento_credential_t **out, const momento_watcher_t *watcher, momento_error_t **err)',
  'momento_status_t momento_watcher_notify_unauthenticated(momento_watcher_t *watcher, momento_error_t **err)',
  'momento_status_t momento_watcher_unsubscribe(momento_watcher_t *watcher, uint64_t id, momento_error_t **err)',
  'const momento_credential_t *momento_watched_key_credential(const momento_watched_key_t *key)',
  'uint64_t momento_watched_key_valid_until(const momento_watched_key_t *key)',
  'const char *momento_watched_key_fingerprint(const momento_watched_key_t *key)',
];

const OPAQUE = [
  'momento_error_t', 'momento_endpoint_override_t', 'momento_credential_t', 'momento_expires_in_t',
  'momento_scope_t', 'momento_client_config_t', 'momento_token_t', 'momento_auth_client_t',
  'momento_store_options_t', 'momento_store_t', 'momento_refresher_options_t',
  'momento_refresher_t', 'momento_refresh_event_t', 'momento_watcher_t', 'momento_watched_key_t',
  'momento_cancel_token_t', 'momento_completion_queue_t', 'momento_log_record_t',
];

// The library carried by the package for this platform, unless MOMENTO_AUTH_LIBRARY names one;
// without either, the system's loader search path.
function libraryPath() {
  const override = process.env.MOMENTO_AUTH_LIBRARY;
  if (override) return override;
  const carried = path.join(__dirname, '..', 'prebuilds', `${process.platform}-${process.arch}`,
    'libmomento_auth.so.1');
  return fs.existsSync(carried) ? carried : 'libmomento_auth.so.1';
}

function load() {
  const file = libraryPath();
  let lib;
  try {
    lib = koffi.load(file);
  } catch (e) {
    throw new Error(`momento-auth: cannot load libmomento_auth (${file}): ${e.message}. ` +
      'Install the package for linux-x64, or set MOMENTO_AUTH_LIBRARY to the library path.');
  }
  koffi.alias('momento_status_t', 'int32_t');
  for (const name of OPAQUE) koffi.opaque(name);
  // The ABI first: a library of another ABI may lack (or have changed) the functions below.
  const abi = lib.func('uint32_t momento_abi_version(void)')();
  if (abi !== ABI_VERSION) {
    const version = lib.func('const char *momento_version_string(void)')();
    throw new Error(`momento-auth was written for libmomento_auth ABI ${ABI_VERSION}, but ${file} ` +
      `(version ${version}) has ABI ${abi}. Install a matching momento-auth.`);
  }
  const fns = {};
  fns.momento_free = lib.func('void momento_free(char *str)');
  koffi.disposable('momento_owned_str', 'str', fns.momento_free);
  koffi.pointer('momento_destroy_fn', koffi.proto('void momento_destroy_cb(void *user_data)'));
  koffi.pointer('momento_log_fn', koffi.proto(
    'void momento_log_cb(int32_t level, const char *message, void *user_data)'));
  for (const proto of PROTOTYPES) {
    const name = /([a-z0-9_]+)\(/.exec(proto)[1];
    fns[name] = lib.func(proto);
  }
  return { fns, file, teardown: teardownHooks(lib) };
}

// Handles that the environment's end must free (a worker's termination runs no JavaScript, so
// neither finalizers nor 'exit' listeners): Node-API's cleanup hooks, which the node executable
// exports, each calling the handle's own free function from the library.
const TEARDOWN_FREE = [
  'momento_completion_queue_free', 'momento_auth_client_free', 'momento_credential_free',
  'momento_store_free', 'momento_refresher_free', 'momento_watcher_free', 'momento_token_free',
  'momento_expires_in_free', 'momento_cancel_token_free', 'momento_endpoint_override_free',
];

function teardownHooks(lib) {
  const node = koffi.load(null);
  const add = node.func('int napi_add_env_cleanup_hook(void *env, void *fun, void *arg)');
  const remove = node.func('int napi_remove_env_cleanup_hook(void *env, void *fun, void *arg)');
  // As BigInts (see the top of this file), read once at load.
  const fn = Object.fromEntries(TEARDOWN_FREE.map(name => [name, koffi.address(lib.symbol(name, 'char'))]));
  const env = koffi.address(koffi.node.env);
  return {
    add(free, ptr) {
      if (add(env, fn[free], ptr) !== 0) throw new Error(`momento-auth: napi_add_env_cleanup_hook failed`);
    },
    remove(free, ptr) { remove(env, fn[free], ptr); },
  };
}

module.exports = { koffi, C, ABI_VERSION, PROTOTYPES, load };
