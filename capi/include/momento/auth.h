/*
 * momento/auth.h - the stable C ABI of libmomento_auth (ABI version 1).
 *
 * C99, depends on <stddef.h> and <stdint.h> only. Conventions (docs/c-api.md):
 *  - Fallible calls return momento_status_t (MOMENTO_OK = 0, negative codes otherwise) and take a
 *    last `momento_error_t **err` (NULL allowed). On failure *err receives a new error object that
 *    the caller frees with momento_error_free(); on success *err is not touched.
 *  - Out-parameters come first and are left untouched when a call fails.
 *  - Free functions return void and accept NULL.
 *  - Input strings are NUL-terminated UTF-8, borrowed for the duration of the call.
 *  - `const char *` getters return borrowed pointers valid while the parent handle lives.
 *    Owned strings (char ** out-parameters) are released with momento_free().
 *  - Enumerations are passed as int32_t; out-of-range values are rejected with
 *    MOMENTO_ERR_INVALID_ARGUMENT.
 */
#ifndef MOMENTO_AUTH_H
#define MOMENTO_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define MOMENTO_AUTH_VERSION_MAJOR 0
#define MOMENTO_AUTH_VERSION_MINOR 1
#define MOMENTO_AUTH_VERSION_PATCH 0
#define MOMENTO_AUTH_VERSION_STRING "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH */
#define MOMENTO_AUTH_VERSION_NUMBER 100
/* Bumped only on incompatible changes; equals the SONAME number (libmomento_auth.so.1). */
#define MOMENTO_AUTH_ABI_VERSION 1

#ifndef MOMENTO_API
#if defined(_WIN32)
#define MOMENTO_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define MOMENTO_API __attribute__((visibility("default")))
#define MOMENTO_DEPRECATED __attribute__((deprecated))
#else
#define MOMENTO_API
#endif
#endif
/* Marks the old names kept for compatibility (end of this file). Left empty when the includer
 * defines MOMENTO_API itself, as FFI generators do to read the declarations. */
#ifndef MOMENTO_DEPRECATED
#define MOMENTO_DEPRECATED
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Status codes: the canonical error codes of docs/wire.md section 10.1, as fixed negative values.  */

typedef int32_t momento_status_t;

enum momento_status_code {
  MOMENTO_OK = 0,
  MOMENTO_ERR_INVALID_ARGUMENT = -1,         /* INVALID_ARGUMENT_ERROR */
  MOMENTO_ERR_AUTHENTICATION = -2,           /* AUTHENTICATION_ERROR */
  MOMENTO_ERR_PERMISSION = -3,               /* PERMISSION_ERROR */
  MOMENTO_ERR_NOT_FOUND = -4,                /* NOT_FOUND_ERROR */
  MOMENTO_ERR_ALREADY_EXISTS = -5,           /* ALREADY_EXISTS_ERROR */
  MOMENTO_ERR_LIMIT_EXCEEDED = -6,           /* LIMIT_EXCEEDED_ERROR */
  MOMENTO_ERR_FAILED_PRECONDITION = -7,      /* FAILED_PRECONDITION_ERROR */
  MOMENTO_ERR_CANCELLED = -8,                /* CANCELLED_ERROR */
  MOMENTO_ERR_TIMEOUT = -9,                  /* TIMEOUT_ERROR */
  MOMENTO_ERR_SERVER_UNAVAILABLE = -10,      /* SERVER_UNAVAILABLE */
  MOMENTO_ERR_INTERNAL_SERVER = -11,         /* INTERNAL_SERVER_ERROR */
  MOMENTO_ERR_UNKNOWN_SERVICE = -12,         /* UNKNOWN_SERVICE_ERROR */
  MOMENTO_ERR_BAD_REQUEST = -13,             /* BAD_REQUEST_ERROR */
  MOMENTO_ERR_CONNECTION = -14,              /* CONNECTION_ERROR */
  MOMENTO_ERR_CLIENT_RESOURCE_EXHAUSTED = -15, /* CLIENT_RESOURCE_EXHAUSTED (also out of memory) */
  MOMENTO_ERR_UNKNOWN = -16                  /* UNKNOWN_ERROR */
};

/* The canonical name of a status ("OK", "PERMISSION_ERROR", ...); "UNRECOGNIZED_STATUS" for a
 * value outside the table. Never NULL; the string is static. */
MOMENTO_API const char *momento_status_str(momento_status_t status);
/* 1 when a refresh that failed with `status` was certainly not acted on: the server answered and
 * refused it, so its refresh token was not consumed. 0 when it may have been committed and its
 * answer lost (timeouts, unavailability, transport failures, cancellation: docs/refresh.md,
 * "Lost answers"), and for MOMENTO_OK or a value outside the table. */
MOMENTO_API int32_t momento_status_definite(momento_status_t status);

/* ------------------------------------------------------------------------------------------ */
/* Error objects. One belongs to one call; not shared between threads without synchronisation. */

typedef struct momento_error momento_error_t;

/* The status code (a MOMENTO_ERR_* value); MOMENTO_ERR_INVALID_ARGUMENT for a NULL error. */
MOMENTO_API momento_status_t momento_error_code(const momento_error_t *error);
/* Human-readable message (never contains a secret); "" for a NULL error. */
MOMENTO_API const char *momento_error_message(const momento_error_t *error);
/* The gRPC status number when an RPC was made, otherwise -1 (also -1 for a NULL error). */
MOMENTO_API int32_t momento_error_grpc_status(const momento_error_t *error);
/* 1 when the same call may succeed later (transient failure), 0 otherwise or for NULL. */
MOMENTO_API int32_t momento_error_retryable(const momento_error_t *error);
/* Releases an error object (NULL is allowed). */
MOMENTO_API void momento_error_free(momento_error_t *error);

/* Releases an owned string returned by this library; wipes its bytes first. Accepts NULL. */
MOMENTO_API void momento_free(char *str);
/* Overwrites size bytes at data in a way the compiler does not optimise away, for secrets held
 * in the caller's own memory (a key read from a file, a copy of a refresh token). NULL is
 * accepted with any size and does nothing. */
MOMENTO_API void momento_wipe(void *data, size_t size);

/* The display form of a secret used everywhere in this library's messages: at most its first
 * 4 characters, an ellipsis and a short hash ("<empty>" for ""). Owned; release with
 * momento_free(). */
MOMENTO_API momento_status_t momento_redact(char **out, const char *secret, momento_error_t **err);
/* The redacted display of an API key as credentials and refresher events show it: of the key
 * inside a v1 envelope, otherwise of the text as it is (as momento_redact). Owned; release with
 * momento_free(). */
MOMENTO_API momento_status_t momento_redact_key(char **out, const char *key, momento_error_t **err);
/* Text made safe to show on a terminal or in a message, by the library's one escaping rule:
 * control characters, DEL and invalid UTF-8 become `\n`, `\r`, `\t`, `\e` or `\xNN` (and a
 * backslash becomes two); text longer than max_bytes is cut at a character boundary and ends in
 * "...". text is text_len bytes (NULL only with 0; NUL bytes allowed). Owned; release with
 * momento_free(). MOMENTO_ERR_INVALID_ARGUMENT for a NULL out or text with text_len > 0. */
MOMENTO_API momento_status_t momento_printable(char **out, const char *text, size_t text_len,
                                               size_t max_bytes, momento_error_t **err);

/* ------------------------------------------------------------------------------------------ */
/* Versions. */

/* "MAJOR.MINOR.PATCH" of the loaded library (static string). */
MOMENTO_API const char *momento_version_string(void);
/* MAJOR * 10000 + MINOR * 100 + PATCH of the loaded library. */
MOMENTO_API uint32_t momento_version_number(void);
/* ABI version of the loaded library; compare with MOMENTO_AUTH_ABI_VERSION at load time. */
MOMENTO_API uint32_t momento_abi_version(void);

/* ------------------------------------------------------------------------------------------ */
/* Logging. The library never prints; it reports through one optional process-wide callback
 * (or, while none is installed, to stderr or a file named by MOMENTO_AUTH_DEBUG_LOG, at DEBUG:
 * docs/c-api-threading.md). Secrets never appear in messages. The callback runs on the thread making the library call
 * (or a library thread), never inside momento_log_set_callback(). */

enum momento_log_level {
  MOMENTO_LOG_DEBUG = 0,
  MOMENTO_LOG_INFO = 1,
  MOMENTO_LOG_WARN = 2,
  MOMENTO_LOG_ERROR = 3
};

typedef void (*momento_log_fn)(int32_t level, const char *message, void *user_data);

/* The name of a log level ("debug", "info", "warn", "error"); NULL for any other value. Static:
 * do not free. */
MOMENTO_API const char *momento_log_level_str(int32_t level);
/* The MOMENTO_LOG_* value a name stands for; -1 for any other text (or NULL). */
MOMENTO_API int32_t momento_log_level_from_str(const char *name);
typedef void (*momento_destroy_fn)(void *user_data);

/* Installs `fn` for messages at or above `min_level`, replacing any previous callback; fn = NULL
 * removes it. When this returns, the previous callback is no longer running and will not be
 * called again, and its destroy notifier (if any) has run. Calling it from inside a log callback
 * fails with MOMENTO_ERR_FAILED_PRECONDITION. On failure the new user_data is not destroyed. */
MOMENTO_API momento_status_t momento_log_set_callback(int32_t min_level, momento_log_fn fn,
                                                      void *user_data, momento_destroy_fn destroy,
                                                      momento_error_t **err);

/* ------------------------------------------------------------------------------------------ */
/* Endpoint overrides (docs/wire.md section 5.2). Immutable once created; safe to share. */

typedef struct momento_endpoint_override momento_endpoint_override_t;

/* control.<base>, cache.<base>, token.<base>, each with the optional prefix (NULL = none). */
MOMENTO_API momento_status_t momento_endpoint_override_new_base(
    momento_endpoint_override_t **out, const char *base_endpoint, const char *endpoint_prefix,
    int32_t secure, momento_error_t **err);
/* Three explicit "host[:port]" endpoints. */
MOMENTO_API momento_status_t momento_endpoint_override_new_explicit(
    momento_endpoint_override_t **out, const char *control, const char *cache, const char *token,
    int32_t secure, momento_error_t **err);
/* One "host:port" for all three services (a local server). */
MOMENTO_API momento_status_t momento_endpoint_override_new_single(
    momento_endpoint_override_t **out, const char *host_port, int32_t secure,
    momento_error_t **err);
/* Releases an endpoint override (NULL is allowed); credentials and refreshers it was applied to
 * keep their own copy. */
MOMENTO_API void momento_endpoint_override_free(momento_endpoint_override_t *override_);

/* ------------------------------------------------------------------------------------------ */
/* Credentials (docs/wire.md section 4). Immutable; safe to share between threads. */

typedef struct momento_credential momento_credential_t;

enum momento_credential_kind {
  MOMENTO_CREDENTIAL_V1_ENVELOPE = 1,
  MOMENTO_CREDENTIAL_V2_API_KEY = 2,
  MOMENTO_CREDENTIAL_LEGACY_JWT = 3,
  MOMENTO_CREDENTIAL_SESSION_TOKEN = 4,
  MOMENTO_CREDENTIAL_LOCAL = 5
};

enum momento_service {
  MOMENTO_SERVICE_CONTROL = 0, /* auth.Auth, control_client.ScsControl */
  MOMENTO_SERVICE_CACHE = 1,   /* cache_client.Scs, cache_client.Ping */
  MOMENTO_SERVICE_TOKEN = 2    /* token.Token */
};

enum momento_expiry_state {
  MOMENTO_EXPIRY_UNKNOWN = 0, /* the credential carries no expiry information */
  MOMENTO_EXPIRY_NEVER = 1,
  MOMENTO_EXPIRY_AT = 2       /* expires at the given epoch second */
};

/* `override_` may be NULL (endpoints come from the credential) in every constructor below. */

/* v1 envelope, legacy JWT, or session token (the latter needs an override). */
MOMENTO_API momento_status_t momento_credential_from_string(
    momento_credential_t **out, const char *credential,
    const momento_endpoint_override_t *override_, momento_error_t **err);
/* A disposable token (a v1 envelope). */
MOMENTO_API momento_status_t momento_credential_from_disposable_token(
    momento_credential_t **out, const char *token, const momento_endpoint_override_t *override_,
    momento_error_t **err);
/* A v2 API key with its base endpoint. */
MOMENTO_API momento_status_t momento_credential_from_v2(momento_credential_t **out,
                                                        const char *api_key,
                                                        const char *endpoint,
                                                        const momento_endpoint_override_t *override_,
                                                        momento_error_t **err);
/* From environment variables; NULL names mean MOMENTO_API_KEY and MOMENTO_ENDPOINT. */
MOMENTO_API momento_status_t momento_credential_from_env(momento_credential_t **out,
                                                         const char *key_var,
                                                         const char *endpoint_var,
                                                         const momento_endpoint_override_t *override_,
                                                         momento_error_t **err);
/* A token file in the Download-JSON shape ({"authToken","refreshToken","validUntil"}). */
MOMENTO_API momento_status_t momento_credential_from_file(momento_credential_t **out,
                                                          const char *path,
                                                          const momento_endpoint_override_t *override_,
                                                          momento_error_t **err);
/* A key in any format, read as momento_credential_from_env reads its variable: a v1 envelope,
 * legacy JWT or session token as momento_credential_from_string, or a v2 API key with its base
 * endpoint from the environment variable endpoint_var (NULL means MOMENTO_ENDPOINT); a v2 key
 * with that variable unset is refused with an error naming it. */
MOMENTO_API momento_status_t momento_credential_from_key(momento_credential_t **out,
                                                         const char *key,
                                                         const char *endpoint_var,
                                                         const momento_endpoint_override_t *override_,
                                                         momento_error_t **err);
/* A key file (at most 64 KiB, a regular file): the Download-JSON shape as
 * momento_credential_from_file, or a bare key in any format as momento_credential_from_key
 * (endpoint_var likewise). Errors show the path only when it cannot be a key. */
MOMENTO_API momento_status_t momento_credential_from_key_file(momento_credential_t **out,
                                                              const char *path,
                                                              const char *endpoint_var,
                                                              const momento_endpoint_override_t *override_,
                                                              momento_error_t **err);
/* No key; all endpoints host:port, plaintext. host NULL = "127.0.0.1"; port 0 = 8080. */
MOMENTO_API momento_status_t momento_credential_new_local(momento_credential_t **out,
                                                          const char *host, uint16_t port,
                                                          momento_error_t **err);
/* Releases a credential and wipes its secrets (NULL is allowed). Objects made from it (clients,
 * copies) keep their own copy. */
MOMENTO_API void momento_credential_free(momento_credential_t *credential);

/* A MOMENTO_CREDENTIAL_* value; 0 for NULL. */
MOMENTO_API int32_t momento_credential_kind(const momento_credential_t *credential);
/* "v1_envelope", "v2_api_key", "legacy_jwt", "session_token", "local"; NULL if out of range. */
MOMENTO_API const char *momento_credential_kind_str(int32_t kind);
/* Host (borrowed), port and TLS flag of one service endpoint. */
MOMENTO_API momento_status_t momento_credential_endpoint(const char **host, uint16_t *port,
                                                         int32_t *secure,
                                                         const momento_credential_t *credential,
                                                         int32_t service, momento_error_t **err);
/* Base endpoint (borrowed; "" for legacy, session and local credentials or NULL input). */
MOMENTO_API const char *momento_credential_base_endpoint(const momento_credential_t *credential);
/* 1 when an override replaced the endpoints, else 0. */
MOMENTO_API int32_t momento_credential_endpoints_overridden(const momento_credential_t *credential);
/* Expiry where known: *state = MOMENTO_EXPIRY_*, *epoch_seconds = expiry (0 unless _AT). */
MOMENTO_API momento_status_t momento_credential_expiry(int32_t *state, uint64_t *epoch_seconds,
                                                       const momento_credential_t *credential,
                                                       momento_error_t **err);
/* A display safe for logs: kind, control endpoint and a redacted key (borrowed; "" for NULL). */
MOMENTO_API const char *momento_credential_redacted(const momento_credential_t *credential);
/* The key alone, redacted: its first characters and a short hash (borrowed; "" for NULL,
 * "<empty>" for a credential without a key). Safe for logs. */
MOMENTO_API const char *momento_credential_redacted_key(const momento_credential_t *credential);
/* A copy of the credential with its endpoints replaced by the override (e.g. plaintext to the
 * hosts the key names: momento_endpoint_override_new_base(base_endpoint, NULL, 0)). */
MOMENTO_API momento_status_t momento_credential_with_override(
    momento_credential_t **out, const momento_credential_t *credential,
    const momento_endpoint_override_t *override_, momento_error_t **err);
/* The refresh token that came with a token file (borrowed secret; "" when none or NULL). */
MOMENTO_API const char *momento_credential_refresh_token(const momento_credential_t *credential);

/* ------------------------------------------------------------------------------------------ */
/* Lifetimes (ExpiresIn). Immutable; safe to share. */

typedef struct momento_expires_in momento_expires_in_t;

enum momento_expires_unit {
  MOMENTO_EXPIRES_NEVER = 0,   /* amount must be 0 */
  MOMENTO_EXPIRES_SECONDS = 1,
  MOMENTO_EXPIRES_MINUTES = 2,
  MOMENTO_EXPIRES_HOURS = 3,
  MOMENTO_EXPIRES_DAYS = 4,
  MOMENTO_EXPIRES_AT_EPOCH = 5 /* amount = absolute epoch second in the future */
};

/* amount must be positive and the lifetime must fit in 32 bits of seconds. */
MOMENTO_API momento_status_t momento_expires_in_new(momento_expires_in_t **out, int32_t unit,
                                                    int64_t amount, momento_error_t **err);
/* Releases a lifetime (NULL is allowed). */
MOMENTO_API void momento_expires_in_free(momento_expires_in_t *expires_in);
/* 1 if the lifetime is finite, 0 for never (or NULL). */
MOMENTO_API int32_t momento_expires_in_does_expire(const momento_expires_in_t *expires_in);
/* Lifetime in seconds; 0 for never (or NULL). */
MOMENTO_API uint32_t momento_expires_in_seconds(const momento_expires_in_t *expires_in);

/* ------------------------------------------------------------------------------------------ */
/* Permission scopes (docs/wire.md section 7). A scope is mutable while being built: one thread may
 * modify it at a time; any number may read it (pass it to a client) while nobody modifies it. */

typedef struct momento_scope momento_scope_t;

enum momento_predefined_scope {
  MOMENTO_SCOPE_SUPER_USER = 1,
  MOMENTO_SCOPE_ALL_DATA_READ_WRITE = 2,
  MOMENTO_SCOPE_ALL_DATA_READ_ONLY = 3
};

enum momento_cache_role {
  MOMENTO_CACHE_PERMIT_NONE = 0,
  MOMENTO_CACHE_READ_WRITE = 1,
  MOMENTO_CACHE_READ_ONLY = 2,
  MOMENTO_CACHE_WRITE_ONLY = 3
};

enum momento_topic_role {
  MOMENTO_TOPIC_PERMIT_NONE = 0,
  MOMENTO_TOPIC_PUBLISH_SUBSCRIBE = 1,
  MOMENTO_TOPIC_SUBSCRIBE_ONLY = 2,
  MOMENTO_TOPIC_PUBLISH_ONLY = 3
};

enum momento_function_role {
  MOMENTO_FUNCTION_PERMIT_NONE = 0,
  MOMENTO_FUNCTION_INVOKE = 1
};

/* How a topic or function is selected. */
enum momento_name_select {
  MOMENTO_SELECT_ALL = 0,   /* name must be NULL */
  MOMENTO_SELECT_NAME = 1,
  MOMENTO_SELECT_PREFIX = 2
};

/* Item restriction of a cache entry (disposable tokens only). */
enum momento_item_select {
  MOMENTO_ITEMS_ALL = 1,       /* explicit "all items"; item must be NULL and item_len 0 */
  MOMENTO_ITEMS_KEY = 2,
  MOMENTO_ITEMS_KEY_PREFIX = 3
};

enum momento_scope_use {
  MOMENTO_SCOPE_USE_API_KEY = 0,
  MOMENTO_SCOPE_USE_DISPOSABLE_TOKEN = 1
};

/* An empty explicit scope; add entries below (at most 10). */
MOMENTO_API momento_status_t momento_scope_new(momento_scope_t **out, momento_error_t **err);
/* A predefined scope (MOMENTO_SCOPE_*); entries cannot be added to it. */
MOMENTO_API momento_status_t momento_scope_new_predefined(momento_scope_t **out, int32_t which,
                                                          momento_error_t **err);
/* Releases a scope (NULL is allowed). */
MOMENTO_API void momento_scope_free(momento_scope_t *scope);
/* The name of a predefined scope ("super-user", "all-data-read-write", "all-data-read-only"), as
 * the CLI's --scope takes it; NULL for any other value. Static: do not free. */
MOMENTO_API const char *momento_scope_predefined_str(int32_t which);
/* The MOMENTO_SCOPE_* value of a predefined scope's name; 0 for any other text (or NULL). */
MOMENTO_API int32_t momento_scope_predefined_from_str(const char *name);

/* In every add function, cache_name NULL means all caches; an empty name is an error. */
MOMENTO_API momento_status_t momento_scope_add_cache(momento_scope_t *scope, int32_t role,
                                                     const char *cache_name,
                                                     momento_error_t **err);
/* Adds a topic permission: role (MOMENTO_TOPIC_*) on the topics topic_select picks
 * (MOMENTO_SELECT_ALL with topic NULL, _NAME or _PREFIX with `topic`) in cache_name.
 * MOMENTO_ERR_INVALID_ARGUMENT for an unknown role or select, a bad name, or a predefined scope. */
MOMENTO_API momento_status_t momento_scope_add_topic(momento_scope_t *scope, int32_t role,
                                                     const char *cache_name, int32_t topic_select,
                                                     const char *topic, momento_error_t **err);
/* Adds a function permission: role (MOMENTO_FUNCTION_*) on the functions function_select picks
 * (MOMENTO_SELECT_ALL with function NULL, _NAME or _PREFIX with `function`) in cache_name.
 * MOMENTO_ERR_INVALID_ARGUMENT as for momento_scope_add_topic(). */
MOMENTO_API momento_status_t momento_scope_add_function(momento_scope_t *scope, int32_t role,
                                                        const char *cache_name,
                                                        int32_t function_select,
                                                        const char *function,
                                                        momento_error_t **err);
/* A cache entry restricted to items (disposable tokens only); the key is bytes. */
MOMENTO_API momento_status_t momento_scope_add_cache_items(momento_scope_t *scope, int32_t role,
                                                           const char *cache_name,
                                                           int32_t item_select, const void *item,
                                                           size_t item_len,
                                                           momento_error_t **err);
/* Number of explicit entries (0 for predefined scopes or NULL). */
MOMENTO_API size_t momento_scope_entry_count(const momento_scope_t *scope);
/* Runs the client-side checks for a use (MOMENTO_SCOPE_USE_*) without sending anything. */
MOMENTO_API momento_status_t momento_scope_validate(const momento_scope_t *scope, int32_t use,
                                                    momento_error_t **err);

/* ------------------------------------------------------------------------------------------ */
/* Client configuration. Mutable while being built (one writer at a time); copied by the client. */

typedef struct momento_client_config momento_client_config_t;

/* A new configuration with the library's defaults (owned; momento_client_config_free()). */
MOMENTO_API momento_status_t momento_client_config_new(momento_client_config_t **out,
                                                       momento_error_t **err);
/* Releases a configuration (NULL is allowed); clients made from it keep their own copy. */
MOMENTO_API void momento_client_config_free(momento_client_config_t *config);
/* Per-call deadline in milliseconds (> 0, at most 86400000 = one day; default 15000). */
MOMENTO_API momento_status_t momento_client_config_set_deadline_ms(momento_client_config_t *config,
                                                                   int64_t deadline_ms,
                                                                   momento_error_t **err);
/* PEM file of trusted roots for TLS (must be readable); NULL restores the system roots. */
MOMENTO_API momento_status_t momento_client_config_set_ca_file(momento_client_config_t *config,
                                                               const char *path,
                                                               momento_error_t **err);
/* The auth client's per-call deadline in effect, in milliseconds: the one set, else the
 * library's default; config NULL gives the default (15000). */
MOMENTO_API int64_t momento_client_config_deadline_ms(const momento_client_config_t *config);
/* Largest message accepted (> 0; default 4 MiB). */
MOMENTO_API momento_status_t momento_client_config_set_max_message_bytes(
    momento_client_config_t *config, int32_t max_bytes, momento_error_t **err);

/* ------------------------------------------------------------------------------------------ */
/* Tokens: a minted or refreshed key, or a disposable token. Immutable; safe to share. */

typedef struct momento_token momento_token_t;

/* The key as a v1 envelope (borrowed secret). */
MOMENTO_API const char *momento_token_api_key(const momento_token_t *token);
/* The refresh token (borrowed secret; "" for never-expiring keys and disposable tokens). */
MOMENTO_API const char *momento_token_refresh_token(const momento_token_t *token);
/* The base endpoint reported by the service (borrowed). */
MOMENTO_API const char *momento_token_endpoint(const momento_token_t *token);
/* Expiry in epoch seconds; 0 = never (or NULL). */
MOMENTO_API uint64_t momento_token_valid_until(const momento_token_t *token);
/* The Download-JSON text {"authToken","refreshToken","validUntil"} (owned; momento_free). */
MOMENTO_API momento_status_t momento_token_to_json(char **out, const momento_token_t *token,
                                                   momento_error_t **err);
/* Writes the Download-JSON file atomically with mode 0600. */
MOMENTO_API momento_status_t momento_token_write_file(const momento_token_t *token,
                                                      const char *path, momento_error_t **err);
/* Releases a token and wipes its secrets (NULL is allowed). */
MOMENTO_API void momento_token_free(momento_token_t *token);
/* A token from its parts, e.g. ones a binding copied out of a token it has freed, for
   momento_token_to_json() and momento_token_write_file(): api_key (a v1 envelope; not empty),
   refresh_token ("" for none), valid_until in epoch seconds (0 = never). Its endpoint is the
   one api_key names. Free with momento_token_free(). */
MOMENTO_API momento_status_t momento_token_new(momento_token_t **out, const char *api_key,
                                               const char *refresh_token, uint64_t valid_until,
                                               momento_error_t **err);

/* The shape of a key's JSON text as it was read (a token file, a Secrets Manager secret): the
 * member that held the key, the type of validUntil and every other member, so that another key
 * is written back the same way. Immutable; safe to share. */
typedef struct momento_token_json momento_token_json_t;

/* Reads a key's JSON text, as the stores do: the key is the first of authToken, apiKey, apiToken
 * that is present and not null; refreshToken; validUntil in epoch seconds as a number or a
 * decimal string (absent, null or 0 = never). Commas right before a closing brace or bracket are
 * allowed. *json = the text's shape (owned; momento_token_json_free), *token = the key (owned;
 * momento_token_free). Errors never quote the text. */
MOMENTO_API momento_status_t momento_token_json_parse(momento_token_json_t **json,
                                                      momento_token_t **token, const char *text,
                                                      momento_error_t **err);
/* The JSON text in `json`'s shape holding the key, refresh token and expiry of `token`: the same
 * key member, validUntil of the same type (a string when it had none), the other members kept in
 * order (owned secret; momento_free). */
MOMENTO_API momento_status_t momento_token_json_render(char **out, const momento_token_json_t *json,
                                                       const momento_token_t *token,
                                                       momento_error_t **err);
/* Releases the shape and wipes the members it keeps (NULL is allowed). */
MOMENTO_API void momento_token_json_free(momento_token_json_t *json);

/* ------------------------------------------------------------------------------------------ */
/* Auth client. Thread-safe: create one and share it between threads. Calls block the calling
 * thread until the answer or the deadline (asynchronous forms: after the cancellation section).
 * Free it only after every blocking call on it has returned. */

typedef struct momento_auth_client momento_auth_client_t;

/* The credential and config are copied; config NULL = defaults. */
MOMENTO_API momento_status_t momento_auth_client_new(momento_auth_client_t **out,
                                                     const momento_credential_t *credential,
                                                     const momento_client_config_t *config,
                                                     momento_error_t **err);
/* Releases the client (NULL is allowed). Call it only after every blocking call on the client
 * has returned (asynchronous calls in flight are allowed); credentials and tokens it handed out
 * stay valid. */
MOMENTO_API void momento_auth_client_free(momento_auth_client_t *client);

/* The client's credential (borrowed; valid while the client lives). NULL for NULL. */
MOMENTO_API const momento_credential_t *momento_auth_client_credential(
    const momento_auth_client_t *client);

/* Mints a new API key with the given scope and lifetime (GenerateApiKey). On success *out is an
 * owned token (momento_token_free()) holding the key, its refresh token (empty for never-
 * expiring keys) and its expiry. Errors: MOMENTO_ERR_INVALID_ARGUMENT for bad arguments, else
 * the service's status (e.g. MOMENTO_ERR_PERMISSION_DENIED). */
MOMENTO_API momento_status_t momento_auth_client_generate_api_key(
    momento_token_t **out, momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, momento_error_t **err);
/* Refreshes the client's own credential (a v1 envelope) with its refresh token. */
MOMENTO_API momento_status_t momento_auth_client_refresh_api_key(momento_token_t **out,
                                                                 momento_auth_client_t *client,
                                                                 const char *refresh_token,
                                                                 momento_error_t **err);
/* token_id NULL = none; at most 64 code points. expires_in must expire. */
MOMENTO_API momento_status_t momento_auth_client_generate_disposable_token(
    momento_token_t **out, momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, const char *token_id, momento_error_t **err);

/* ------------------------------------------------------------------------------------------ */
/* Owned string lists (e.g. cache names). Immutable; freed with momento_string_list_free(). */

typedef struct momento_string_list momento_string_list_t;

/* Number of strings; 0 for NULL. */
MOMENTO_API size_t momento_string_list_count(const momento_string_list_t *list);
/* The string at `index` (borrowed; valid while the list lives); NULL for NULL or out of range. */
MOMENTO_API const char *momento_string_list_get(const momento_string_list_t *list, size_t index);
/* Releases a string list (NULL is allowed). */
MOMENTO_API void momento_string_list_free(momento_string_list_t *list);

/* ------------------------------------------------------------------------------------------ */
/* Data client: the control calls (create/delete/flush/list caches), the data calls (set, get,
 * delete) and Ping, enough to validate a key and to exercise its scope. Not a full cache SDK.
 * Thread-safe like the auth client; free it only after every call on it has returned.
 * Cache names are non-empty UTF-8; item keys and values are bytes (pointer + length, NULL only
 * with length 0). */

typedef struct momento_data_client momento_data_client_t;

/* The credential and config are copied; config NULL = defaults (60 s deadline for control calls,
 * 5 s for data calls and Ping). A deadline set with momento_client_config_set_deadline_ms()
 * applies to every call; the CA file and message size limit are used as for the auth client. */
MOMENTO_API momento_status_t momento_data_client_new(momento_data_client_t **out,
                                                     const momento_credential_t *credential,
                                                     const momento_client_config_t *config,
                                                     momento_error_t **err);
/* Releases the client (NULL is allowed). Call it only after every call on the client has
 * returned. */
MOMENTO_API void momento_data_client_free(momento_data_client_t *client);
/* The client's credential (borrowed; valid while the client lives). NULL for NULL. */
MOMENTO_API const momento_credential_t *momento_data_client_credential(
    const momento_data_client_t *client);

/* Creates the cache cache_name. Errors are the service's status (MOMENTO_ERR_ALREADY_EXISTS when
 * the cache exists). */
MOMENTO_API momento_status_t momento_data_client_create_cache(momento_data_client_t *client,
                                                              const char *cache_name,
                                                              momento_error_t **err);
/* Deletes the cache cache_name and everything in it. Errors are the service's status
 * (MOMENTO_ERR_NOT_FOUND when there is no such cache). */
MOMENTO_API momento_status_t momento_data_client_delete_cache(momento_data_client_t *client,
                                                              const char *cache_name,
                                                              momento_error_t **err);
/* Removes every item of the cache cache_name and keeps the cache. Errors are the service's
 * status (MOMENTO_ERR_NOT_FOUND when there is no such cache). */
MOMENTO_API momento_status_t momento_data_client_flush_cache(momento_data_client_t *client,
                                                             const char *cache_name,
                                                             momento_error_t **err);
/* The names of all caches (ListCaches; a cheap way to validate a key). */
MOMENTO_API momento_status_t momento_data_client_list_caches(momento_string_list_t **out,
                                                             momento_data_client_t *client,
                                                             momento_error_t **err);
/* Stores value under key for ttl_ms milliseconds (> 0). */
MOMENTO_API momento_status_t momento_data_client_set(momento_data_client_t *client,
                                                     const char *cache_name, const void *key,
                                                     size_t key_len, const void *value,
                                                     size_t value_len, int64_t ttl_ms,
                                                     momento_error_t **err);
/* On a hit: *hit = 1, *value = an owned copy of the value's *value_len bytes followed by a NUL
 * byte (release with momento_free()). On a miss: *hit = 0, *value = NULL, *value_len = 0. */
MOMENTO_API momento_status_t momento_data_client_get(int32_t *hit, char **value,
                                                     size_t *value_len,
                                                     momento_data_client_t *client,
                                                     const char *cache_name, const void *key,
                                                     size_t key_len, momento_error_t **err);
/* Removes the item under key; a missing item is not an error. */
MOMENTO_API momento_status_t momento_data_client_delete(momento_data_client_t *client,
                                                        const char *cache_name, const void *key,
                                                        size_t key_len, momento_error_t **err);
/* Unauthenticated liveness check of the cache endpoint. */
MOMENTO_API momento_status_t momento_data_client_ping(momento_data_client_t *client,
                                                      momento_error_t **err);

/* ------------------------------------------------------------------------------------------ */
/* Cancellation of blocking calls from another thread.
 * A thread ties its calls to a token with momento_cancel_token_bind_thread(). While tied, every
 * RPC it makes on any auth or data client is registered with the token, and
 * momento_cancel_token_cancel() (from any thread) makes those in flight return
 * MOMENTO_ERR_CANCELLED promptly, without waiting for their deadline. The token stays cancelled:
 * calls the tied thread starts afterwards fail at once with MOMENTO_ERR_CANCELLED, sending
 * nothing, until momento_cancel_token_reset(). Calls of threads not tied to the token, and the
 * clients themselves, are unaffected; a client stays usable after a cancelled call.
 * A cancelled call may or may not have reached the server (a cancelled refresh may have spent its
 * refresh token).
 * Thread-safety: cancel, reset and is_cancelled may run concurrently with each other and with
 * calls under the token. Free a token only after every thread has untied it and no cancel or
 * reset is running on it (freeing it meanwhile is undefined behaviour). None of these functions
 * is async-signal-safe: a signal handler should wake a thread that calls cancel. */

typedef struct momento_cancel_token momento_cancel_token_t;

/* A new token, not cancelled, tied to no thread (owned; momento_cancel_token_free()). */
MOMENTO_API momento_status_t momento_cancel_token_new(momento_cancel_token_t **out,
                                                      momento_error_t **err);
/* Releases the token (NULL is allowed); see the thread-safety rule above. */
MOMENTO_API void momento_cancel_token_free(momento_cancel_token_t *token);
/* Cancels the calls in flight under the token and every later one until reset. Idempotent. */
MOMENTO_API momento_status_t momento_cancel_token_cancel(momento_cancel_token_t *token,
                                                         momento_error_t **err);
/* Clears the cancelled state; calls in flight that were already cancelled stay cancelled. */
MOMENTO_API momento_status_t momento_cancel_token_reset(momento_cancel_token_t *token,
                                                        momento_error_t **err);
/* 1 when cancelled and not reset since, 0 otherwise (and for NULL). */
MOMENTO_API int32_t momento_cancel_token_is_cancelled(const momento_cancel_token_t *token);
/* Ties the calling thread's calls to `token`; token NULL unties it. When `previous` is not NULL
 * it receives the token the thread was tied to before (NULL if none), so that bindings nest. */
MOMENTO_API momento_status_t momento_cancel_token_bind_thread(momento_cancel_token_t **previous,
                                                              momento_cancel_token_t *token,
                                                              momento_error_t **err);

/* ------------------------------------------------------------------------------------------ */
/* Asynchronous auth client calls, for event loops: the three calls above without blocking the
 * caller (docs/c-api-threading.md, "Asynchronous calls").
 *  - The arguments are checked as by the blocking form. A failing status means nothing was
 *    started and `fn` will never be called. MOMENTO_OK means `fn` will be called exactly once,
 *    on another thread (possibly before the starting call has returned: have `user_data` ready
 *    first), with an owned token or an owned error (the other one NULL)
 *    that the callback frees (momento_token_free(), momento_error_free()). Every outcome after
 *    the start (the answer, the deadline, a cancellation, no connection) arrives through `fn`.
 *  - Arguments are borrowed for the starting call only: the library copies what it keeps.
 *  - `cancel` cancels the call as a tied thread's token does a blocking one (NULL: the calling
 *    thread's token, if it is tied to one). It may be freed while the call is in flight.
 *  - `user_data` is handed to `fn` untouched; that call is its last use (no destroy notifier).
 *  - `fn` runs on the library's completion thread, which completes every asynchronous call of
 *    the process one at a time: keep it short. It may call any function of this library, start further calls and free the
 *    client; a blocking call from it holds up other completions until it returns.
 *  - The client may be freed while its asynchronous calls are in flight, from any thread and
 *    from `fn`: they run to their end (answer, deadline or cancellation), `fn` is still called,
 *    and the client's connections close after the last one. */

typedef void (*momento_token_fn)(momento_token_t *token, momento_error_t *error, void *user_data);

/* momento_auth_client_generate_api_key() without blocking. */
MOMENTO_API momento_status_t momento_auth_client_generate_api_key_async(
    momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, momento_cancel_token_t *cancel, momento_token_fn fn,
    void *user_data, momento_error_t **err);
/* momento_auth_client_refresh_api_key() without blocking. */
MOMENTO_API momento_status_t momento_auth_client_refresh_api_key_async(
    momento_auth_client_t *client, const char *refresh_token, momento_cancel_token_t *cancel,
    momento_token_fn fn, void *user_data, momento_error_t **err);
/* momento_auth_client_generate_disposable_token() without blocking. */
MOMENTO_API momento_status_t momento_auth_client_generate_disposable_token_async(
    momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, const char *token_id, momento_cancel_token_t *cancel,
    momento_token_fn fn, void *user_data, momento_error_t **err);

/* Completion queues, for event loops that watch file descriptors: the three calls above deliver
 * their outcome into a queue instead of calling back, and the loop is woken through a socket.
 *  - momento_completion_queue_new() gives the queue and, in *fd, the reading end of a
 *    non-blocking, close-on-exec socket that the caller owns (and closes). Each time the queue
 *    goes from empty to not empty, one byte is written to it: read what is there, then pop until
 *    momento_completion_queue_pop() returns 0.
 *  - The *_queued calls are the *_async calls with (`queue`, `id`) in place of (`fn`,
 *    `user_data`): a failing status means nothing was started and nothing will be queued;
 *    MOMENTO_OK means exactly one outcome will be queued under `id`.
 *  - momento_completion_queue_pop() returns 1 with the outcome's `id` and an owned token or an
 *    owned error (the other one NULL), or 0 when the queue is empty (or an argument is NULL).
 *    Pops and pushes may happen on any threads.
 *  - Freeing the queue is allowed with calls in flight: their outcomes, and those not popped,
 *    are freed by the library. So are the outcomes that arrive once the caller has closed its
 *    end of the socket. */

typedef struct momento_completion_queue momento_completion_queue_t;

/* A new, empty queue (owned; momento_completion_queue_free()) and its socket's reading end. */
MOMENTO_API momento_status_t momento_completion_queue_new(momento_completion_queue_t **out,
                                                          int32_t *fd, momento_error_t **err);
/* Frees the queue (NULL is a no-op); it does not close the caller's end of the socket. */
MOMENTO_API void momento_completion_queue_free(momento_completion_queue_t *queue);
/* Takes the oldest outcome: 1 with *id and an owned *token or *error, or 0 when empty. Only for
 * queues that receive nothing but the three calls below; others use _pop_value. */
MOMENTO_API int32_t momento_completion_queue_pop(momento_completion_queue_t *queue, uint64_t *id,
                                                 momento_token_t **token, momento_error_t **error);
/* Takes the oldest outcome of any queued call or subscription: 1 with *id and either an owned
 * *error or an owned *value (the type the call under `id` names; NULL for calls that name none,
 * and where a call says so), or 0 when empty (or an argument is NULL). */
MOMENTO_API int32_t momento_completion_queue_pop_value(momento_completion_queue_t *queue,
                                                       uint64_t *id, void **value,
                                                       momento_error_t **error);
/* momento_auth_client_generate_api_key_async() delivering into `queue` under `id`. */
MOMENTO_API momento_status_t momento_auth_client_generate_api_key_queued(
    momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, momento_cancel_token_t *cancel,
    momento_completion_queue_t *queue, uint64_t id, momento_error_t **err);
/* momento_auth_client_refresh_api_key_async() delivering into `queue` under `id`. */
MOMENTO_API momento_status_t momento_auth_client_refresh_api_key_queued(
    momento_auth_client_t *client, const char *refresh_token, momento_cancel_token_t *cancel,
    momento_completion_queue_t *queue, uint64_t id, momento_error_t **err);
/* momento_auth_client_generate_disposable_token_async() delivering into `queue` under `id`. */
MOMENTO_API momento_status_t momento_auth_client_generate_disposable_token_queued(
    momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, const char *token_id, momento_cancel_token_t *cancel,
    momento_completion_queue_t *queue, uint64_t id, momento_error_t **err);

/* ------------------------------------------------------------------------------------------ */
/* Token stores (docs/refresh.md): where a fleet keeps its current key, in the Download-JSON
 * shape {"authToken","refreshToken","validUntil"}. Thread-safe; refreshers and watchers keep
 * their own reference, so a store may be freed while they still use it. */

typedef struct momento_store_options momento_store_options_t;
typedef struct momento_store momento_store_t;

/* Options for momento_store_new(); a builder (one writer at a time), copied by the store. */
MOMENTO_API momento_status_t momento_store_options_new(momento_store_options_t **out,
                                                       momento_error_t **err);
/* Releases store options (NULL is allowed); stores opened with them keep their own copy. */
MOMENTO_API void momento_store_options_free(momento_store_options_t *options);
/* AWS Secrets Manager only. NULL restores the default (AWS_REGION, AWS_DEFAULT_REGION, the
 * shared config file). */
MOMENTO_API momento_status_t momento_store_options_set_aws_region(momento_store_options_t *options,
                                                                  const char *region,
                                                                  momento_error_t **err);
/* AWS Secrets Manager only: endpoint URL override (e.g. "http://127.0.0.1:5000"; a bare host
 * means https); NULL restores the default (AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL,
 * the regional endpoint). */
MOMENTO_API momento_status_t momento_store_options_set_aws_endpoint(
    momento_store_options_t *options, const char *endpoint_url, momento_error_t **err);
/* AWS Secrets Manager only: shared-config profile; NULL restores AWS_PROFILE / "default". */
MOMENTO_API momento_status_t momento_store_options_set_aws_profile(momento_store_options_t *options,
                                                                   const char *profile,
                                                                   momento_error_t **err);

/* spec: "file:PATH" (read-write), "aws-sm:SECRET-ID" (read-write), "env:VARIABLE" (read-only;
 * the Download-JSON object or a bare key; "env:" alone is MOMENTO_API_KEY) or "exec:{JSON}" (helper commands; read-write when it
 * names a write command). options NULL = defaults. Nothing is read yet. */
MOMENTO_API momento_status_t momento_store_new(momento_store_t **out, const char *spec,
                                               const momento_store_options_t *options,
                                               momento_error_t **err);
/* Releases the handle (NULL is allowed). Refreshers and watchers using the store keep it open
 * until they are freed. */
MOMENTO_API void momento_store_free(momento_store_t *store);
/* e.g. "file:/etc/momento/token.json"; never a secret (borrowed; "" for NULL). */
MOMENTO_API const char *momento_store_describe(const momento_store_t *store);
enum momento_store_kind {
  MOMENTO_STORE_FILE = 1,                /* "file:PATH" (or a bare path) */
  MOMENTO_STORE_AWS_SECRETS_MANAGER = 2, /* "aws-sm:SECRET-ID" */
  MOMENTO_STORE_ENV = 3,                 /* "env:VARIABLE" */
  MOMENTO_STORE_EXEC = 4                 /* "exec:{JSON}": helper commands (docs/stores.md) */
};
/* Parses a store specification without opening anything: *kind = MOMENTO_STORE_*, *location =
 * the path, secret id or variable it names (owned; momento_free). The same rules as
 * momento_store_new(), which bindings use instead of parsing specifications themselves. */
MOMENTO_API momento_status_t momento_store_spec_parse(int32_t *kind, char **location,
                                                      const char *spec, momento_error_t **err);
/* "file", "aws-sm", "env", "exec"; NULL if out of range. */
MOMENTO_API const char *momento_store_kind_str(int32_t kind);
/* The store's MOMENTO_STORE_* kind; 0 for NULL. */
MOMENTO_API int32_t momento_store_kind(const momento_store_t *store);
/* What the specification names: path, secret id or variable (borrowed; "" for NULL). */
MOMENTO_API const char *momento_store_location(const momento_store_t *store);
/* 1 when momento_store_save() is allowed, else 0 (also for NULL). */
MOMENTO_API int32_t momento_store_writable(const momento_store_t *store);
/* The stored key as a token (api key, refresh token, valid-until; endpoint from the key).
 * MOMENTO_ERR_NOT_FOUND when the store holds nothing yet. */
MOMENTO_API momento_status_t momento_store_load(momento_token_t **out, momento_store_t *store,
                                                momento_error_t **err);
/* Replaces the content atomically (readers see the old or the new key, never a mix).
 * MOMENTO_ERR_FAILED_PRECONDITION on read-only stores. */
MOMENTO_API momento_status_t momento_store_save(momento_store_t *store,
                                                const momento_token_t *token,
                                                momento_error_t **err);

/* ------------------------------------------------------------------------------------------ */
/* Refresher: keeps one store's key fresh (docs/refresh.md). Thread-safe.
 * Subscriber callbacks run on a thread owned by the refresher, one at a time, in event order;
 * never inside momento_refresher_subscribe() nor on the thread that produced the event. When
 * momento_refresher_unsubscribe() or momento_refresher_free() returns, the callback is not
 * running and will not be called again, and its destroy notifier has run. From inside a callback:
 * unsubscribing that callback returns at once (its destroy runs right after the callback
 * returns); momento_refresher_stop() fails with MOMENTO_ERR_FAILED_PRECONDITION (it would wait
 * for itself); momento_refresher_free() returns at once and the refresher ends once the callback
 * returns (the remaining destroy notifiers run then, on the callback's thread). */

typedef struct momento_refresher_options momento_refresher_options_t;
typedef struct momento_refresher momento_refresher_t;
typedef struct momento_refresh_event momento_refresh_event_t;

enum momento_refresh_event_kind {
  MOMENTO_REFRESH_REFRESHED = 1, /* this refresher exchanged the key and stored the result */
  MOMENTO_REFRESH_ADOPTED = 2,   /* a new key appeared in the store (first read, or a peer) */
  MOMENTO_REFRESH_FAILED = 3     /* an attempt failed; the current key stays in service */
};

typedef void (*momento_refresh_fn)(const momento_refresh_event_t *event, void *user_data);

/* Refresh policy. The setters only record values (they fail only for a NULL handle), so the
 * order of the calls does not matter. momento_refresher_options_validate() and
 * momento_refresher_new() check the whole policy and name the first rule it breaks. Defaults and
 * rules are the library's: read the values in effect with the getters below. The ranges noted
 * at each setter are checked there, not by the setter. */
MOMENTO_API momento_status_t momento_refresher_options_new(momento_refresher_options_t **out,
                                                           momento_error_t **err);
/* Releases refresher options (NULL is allowed); refreshers made from them keep their own copy. */
MOMENTO_API void momento_refresher_options_free(momento_refresher_options_t *options);
/* Refresh when this fraction of the lifetime has elapsed (0 < f < 1). */
MOMENTO_API momento_status_t momento_refresher_options_set_refresh_fraction(
    momento_refresher_options_t *options, double fraction, momento_error_t **err);
/* Up to this fraction of the lifetime earlier, at random (0 <= j < refresh fraction). */
MOMENTO_API momento_status_t momento_refresher_options_set_jitter_fraction(
    momento_refresher_options_t *options, double fraction, momento_error_t **err);
/* Retry delays after failures: initial_ms doubling up to max_ms (max_ms at most one day). */
MOMENTO_API momento_status_t momento_refresher_options_set_backoff_ms(
    momento_refresher_options_t *options, int64_t initial_ms, int64_t max_ms,
    momento_error_t **err);
/* The first retry delay alone (> 0). */
MOMENTO_API momento_status_t momento_refresher_options_set_backoff_initial_ms(
    momento_refresher_options_t *options, int64_t initial_ms, momento_error_t **err);
/* The longest retry delay alone (>= the initial delay, at most one day). */
MOMENTO_API momento_status_t momento_refresher_options_set_backoff_max_ms(
    momento_refresher_options_t *options, int64_t max_ms, momento_error_t **err);
/* Longest sleep between looks at the store (> 0, at most one day). */
MOMENTO_API momento_status_t momento_refresher_options_set_recheck_interval_ms(
    momento_refresher_options_t *options, int64_t interval_ms, momento_error_t **err);
/* Checks the whole policy: MOMENTO_ERR_INVALID_ARGUMENT naming the first rule it breaks. */
MOMENTO_API momento_status_t momento_refresher_options_validate(
    const momento_refresher_options_t *options, momento_error_t **err);
/* The values in effect: the ones set, the library's defaults elsewhere; options NULL gives the
 * defaults (0.75, 0.05, 1000 ms, 300000 ms, 60000 ms). */
MOMENTO_API double momento_refresher_options_refresh_fraction(
    const momento_refresher_options_t *options);
/* The jitter fraction in effect (the library's default 0.05 when not set or options is NULL). */
MOMENTO_API double momento_refresher_options_jitter_fraction(
    const momento_refresher_options_t *options);
/* The first retry delay in effect, in milliseconds (default 1000). */
MOMENTO_API int64_t momento_refresher_options_backoff_initial_ms(
    const momento_refresher_options_t *options);
/* The longest retry delay in effect, in milliseconds (default 300000). */
MOMENTO_API int64_t momento_refresher_options_backoff_max_ms(
    const momento_refresher_options_t *options);
/* The longest sleep between looks at the store in effect, in milliseconds (default 60000). */
MOMENTO_API int64_t momento_refresher_options_recheck_interval_ms(
    const momento_refresher_options_t *options);

/* After `failures` (>= 1) failed attempts of a refresh first sent at `started_ms` whose answer may
 * have been lost, how long to wait at `now_ms` (both epoch milliseconds, >= 0) before sending the
 * same refresh token again: the policy's backoff with its jitter, cut short so that the replay
 * lands inside the server's replay window (30 s) less the library's margin (5 s). *delay_ms = -1
 * once that point has passed: the refresh token must not be sent again then (the server would
 * take it for reuse and revoke the key's family). options NULL = the defaults; otherwise the
 * whole policy is checked first, as by momento_refresher_options_validate(). */
MOMENTO_API momento_status_t momento_refresher_options_replay_delay_ms(
    int64_t *delay_ms, const momento_refresher_options_t *options, int32_t failures,
    int64_t started_ms, int64_t now_ms, momento_error_t **err);

/* Refreshes through AuthClient with `config` (NULL = defaults) and `override_` applied to each
 * stored key (NULL = the key's own endpoints). options NULL = defaults; otherwise the whole
 * policy is checked as by momento_refresher_options_validate(). Does not start a thread. */
MOMENTO_API momento_status_t momento_refresher_new(momento_refresher_t **out,
                                                   momento_store_t *store,
                                                   const momento_client_config_t *config,
                                                   const momento_endpoint_override_t *override_,
                                                   const momento_refresher_options_t *options,
                                                   momento_error_t **err);
/* Stops the thread, waits for it, then ends every subscription (destroy notifiers run).
 * From a callback of this refresher see the rules above. */
MOMENTO_API void momento_refresher_free(momento_refresher_t *refresher);
/* Starts the background thread (idempotent). */
MOMENTO_API momento_status_t momento_refresher_start(momento_refresher_t *refresher,
                                                     momento_error_t **err);
/* Stops the background thread and waits for it (idempotent). */
MOMENTO_API momento_status_t momento_refresher_stop(momento_refresher_t *refresher,
                                                    momento_error_t **err);
/* One look at the store on the calling thread: refreshes when due (force = 1: regardless of the
 * schedule; a key a peer already rotated is adopted instead). *out = the most telling event of
 * the pass (failed or refreshed over adopted; owned, momento_refresh_event_free), or NULL when
 * nothing happened (not due). A failed refresh is an event, not an error status; errors are
 * reserved for bad arguments. Subscribers see the same events. */
MOMENTO_API momento_status_t momento_refresher_run_once(momento_refresh_event_t **out,
                                                        momento_refresher_t *refresher,
                                                        int32_t force, momento_error_t **err);
/* Same as run_once with force = 1; *out is never NULL on success. */
MOMENTO_API momento_status_t momento_refresher_refresh_now(momento_refresh_event_t **out,
                                                           momento_refresher_t *refresher,
                                                           momento_error_t **err);
/* *id receives the subscription id for momento_refresher_unsubscribe(). */
MOMENTO_API momento_status_t momento_refresher_subscribe(uint64_t *id,
                                                         momento_refresher_t *refresher,
                                                         momento_refresh_fn fn, void *user_data,
                                                         momento_destroy_fn destroy,
                                                         momento_error_t **err);
/* MOMENTO_ERR_NOT_FOUND for an unknown (or already removed) id. */
MOMENTO_API momento_status_t momento_refresher_unsubscribe(momento_refresher_t *refresher,
                                                           uint64_t id, momento_error_t **err);

/* Event accessors. An event passed to a callback is borrowed for the duration of the call.
 * None of them returns a secret. */
MOMENTO_API int32_t momento_refresh_event_kind(const momento_refresh_event_t *event); /* 0 NULL */
/* "refreshed", "adopted", "failed"; NULL if out of range. */
MOMENTO_API const char *momento_refresh_event_kind_str(int32_t kind);
/* For MOMENTO_REFRESH_FAILED the failure's MOMENTO_ERR_* code, else MOMENTO_OK. */
MOMENTO_API momento_status_t momento_refresh_event_error_code(const momento_refresh_event_t *event);
/* For failures the message (never a secret), else "" (borrowed). */
MOMENTO_API const char *momento_refresh_event_error_message(const momento_refresh_event_t *event);
/* Expiry of the key now in service, epoch seconds; 0 = never (or NULL). */
MOMENTO_API uint64_t momento_refresh_event_valid_until(const momento_refresh_event_t *event);
/* The key now in service, redacted (borrowed; "" when none). */
MOMENTO_API const char *momento_refresh_event_redacted_key(const momento_refresh_event_t *event);
/* Hex SHA-256 of the key now in service: stable, not secret (borrowed). */
MOMENTO_API const char *momento_refresh_event_key_fingerprint(const momento_refresh_event_t *event);
/* The store's description (borrowed). */
MOMENTO_API const char *momento_refresh_event_store(const momento_refresh_event_t *event);
/* Consecutive failures so far (failures only; else 0). */
MOMENTO_API int32_t momento_refresh_event_consecutive_failures(
    const momento_refresh_event_t *event);
/* When the refresher tries again after a failure, epoch milliseconds; 0 when not planned. */
MOMENTO_API int64_t momento_refresh_event_next_attempt_ms(const momento_refresh_event_t *event);
/* 1 when the refresh repeated one whose answer was lost (its journal entry was found), else 0.
 * A failure with replay 1 and MOMENTO_ERR_FAILED_PRECONDITION means the replay window has
 * passed: the key is kept and one last attempt waits (docs/refresh.md, "Lost answers"). */
MOMENTO_API int32_t momento_refresh_event_replay(const momento_refresh_event_t *event);
/* Failures only: 1 when a later attempt may succeed (transient, or the outcome is unknown). */
MOMENTO_API int32_t momento_refresh_event_retryable(const momento_refresh_event_t *event);
/* Releases an event returned by momento_refresher_run_once() or _refresh_now() (NULL is
 * allowed). Events passed to a callback are the library's: do not free them. */
MOMENTO_API void momento_refresh_event_free(momento_refresh_event_t *event);

/* ------------------------------------------------------------------------------------------ */
/* Watcher: an application's view of a store. Re-reads it every period and at once after
 * momento_watcher_notify_unauthenticated(); swaps the key in atomically. Readers never block on a
 * store read or a refresh. Thread-safe. Callbacks follow the refresher's rules above. */

typedef struct momento_watcher momento_watcher_t;
typedef struct momento_watched_key momento_watched_key_t;

typedef void (*momento_watch_fn)(const momento_watched_key_t *key, void *user_data);

/* Reads the store once (fails if it is empty or unreadable), then starts re-reading every
 * period_ms (> 0, at most one day; MOMENTO_ERR_INVALID_ARGUMENT naming the rule otherwise) on a
 * library thread. override_ NULL = each key's own endpoints. */
MOMENTO_API momento_status_t momento_watcher_new(momento_watcher_t **out, momento_store_t *store,
                                                 int64_t period_ms,
                                                 const momento_endpoint_override_t *override_,
                                                 momento_error_t **err);
/* The library's default re-read period in milliseconds (30000), for bindings whose period
 * argument is optional. */
MOMENTO_API int64_t momento_watcher_default_period_ms(void);
/* Stops the thread, then ends every subscription (destroy notifiers run). */
MOMENTO_API void momento_watcher_free(momento_watcher_t *watcher);
/* The credential in service now: an owned handle (momento_credential_free) that stays valid and
 * unchanged when the watcher swaps in a newer key. */
MOMENTO_API momento_status_t momento_watcher_current_credential(momento_credential_t **out,
                                                                const momento_watcher_t *watcher,
                                                                momento_error_t **err);
/* The key in service now with its store metadata (owned; momento_watched_key_free). */
MOMENTO_API momento_status_t momento_watcher_current_key(momento_watched_key_t **out,
                                                         const momento_watcher_t *watcher,
                                                         momento_error_t **err);
/* Re-reads the store on the calling thread; *changed = 1 when a new key was swapped in. */
MOMENTO_API momento_status_t momento_watcher_poll(int32_t *changed, momento_watcher_t *watcher,
                                                  momento_error_t **err);
/* A call came back UNAUTHENTICATED: the watcher re-reads soon (rate-limited). Never blocks. */
MOMENTO_API momento_status_t momento_watcher_notify_unauthenticated(momento_watcher_t *watcher,
                                                                    momento_error_t **err);
/* Called with each new key after it is swapped in (not for the first one). */
MOMENTO_API momento_status_t momento_watcher_subscribe(uint64_t *id, momento_watcher_t *watcher,
                                                       momento_watch_fn fn, void *user_data,
                                                       momento_destroy_fn destroy,
                                                       momento_error_t **err);
/* Ends a subscription; when it returns the callback is not running (unless called from that
 * very callback) and its destroy notifier has run. MOMENTO_ERR_NOT_FOUND for an unknown id. */
MOMENTO_API momento_status_t momento_watcher_unsubscribe(momento_watcher_t *watcher, uint64_t id,
                                                         momento_error_t **err);

/* The key's credential (borrowed; valid while the watched key lives). */
MOMENTO_API const momento_credential_t *momento_watched_key_credential(
    const momento_watched_key_t *key);
/* validUntil from the store, epoch seconds; 0 = never (or NULL). */
MOMENTO_API uint64_t momento_watched_key_valid_until(const momento_watched_key_t *key);
/* Hex SHA-256 of the key (borrowed; not secret). */
MOMENTO_API const char *momento_watched_key_fingerprint(const momento_watched_key_t *key);
/* Releases a watched key (NULL is allowed); the credential momento_watched_key_credential()
 * lent out ends with it. */
MOMENTO_API void momento_watched_key_free(momento_watched_key_t *key);

/* ------------------------------------------------------------------------------------------ */
/* Queued forms of the calls above that block or call back, for event loops (docs/c-api-threading.md,
 * "Completion queues"). Each *_queued call checks its arguments and copies what it needs like
 * the blocking form; a failing status means nothing started and nothing will be queued, and
 * MOMENTO_OK means exactly one outcome will be queued under `id` (read it with
 * momento_completion_queue_pop_value()): an owned error, or the value named below. The work runs
 * on a library thread; the handles may be freed meanwhile (the call keeps what it uses). The
 * process's exit waits (at most 2 s) for the threads still running, and once it has begun a
 * *_queued call fails with MOMENTO_ERR_FAILED_PRECONDITION. */

/* momento_store_load(): value = momento_token_t * (momento_token_free). */
MOMENTO_API momento_status_t momento_store_load_queued(momento_store_t *store,
                                                       momento_completion_queue_t *queue,
                                                       uint64_t id, momento_error_t **err);
/* momento_store_save() with a copy of `token`: value = NULL. */
MOMENTO_API momento_status_t momento_store_save_queued(momento_store_t *store,
                                                       const momento_token_t *token,
                                                       momento_completion_queue_t *queue,
                                                       uint64_t id, momento_error_t **err);
/* momento_token_write_file() with a copy of `token`: value = NULL. */
MOMENTO_API momento_status_t momento_token_write_file_queued(const momento_token_t *token,
                                                             const char *path,
                                                             momento_completion_queue_t *queue,
                                                             uint64_t id, momento_error_t **err);
/* momento_watcher_new(): value = momento_watcher_t * (momento_watcher_free). */
MOMENTO_API momento_status_t momento_watcher_new_queued(momento_store_t *store, int64_t period_ms,
                                                        const momento_endpoint_override_t *override_,
                                                        momento_completion_queue_t *queue,
                                                        uint64_t id, momento_error_t **err);
/* momento_watcher_poll(): value = the new key (momento_watched_key_t *, momento_watched_key_free)
 * when one was swapped in, else NULL. */
MOMENTO_API momento_status_t momento_watcher_poll_queued(momento_watcher_t *watcher,
                                                         momento_completion_queue_t *queue,
                                                         uint64_t id, momento_error_t **err);
/* momento_refresher_run_once(): value = the event (momento_refresh_event_t *,
 * momento_refresh_event_free) or NULL when nothing happened. */
MOMENTO_API momento_status_t momento_refresher_run_once_queued(momento_refresher_t *refresher,
                                                               int32_t force,
                                                               momento_completion_queue_t *queue,
                                                               uint64_t id, momento_error_t **err);
/* momento_refresher_stop(): value = NULL once the thread has stopped. */
MOMENTO_API momento_status_t momento_refresher_stop_queued(momento_refresher_t *refresher,
                                                           momento_completion_queue_t *queue,
                                                           uint64_t id, momento_error_t **err);
/* momento_refresher_free() without waiting: on MOMENTO_OK the handle is freed at once, and
 * value = NULL is queued once its threads have stopped (after any queued call still using it
 * has ended). On a failing status nothing is freed. */
MOMENTO_API momento_status_t momento_refresher_close_queued(momento_refresher_t *refresher,
                                                            momento_completion_queue_t *queue,
                                                            uint64_t id, momento_error_t **err);
/* momento_watcher_free() without waiting, as momento_refresher_close_queued(). */
MOMENTO_API momento_status_t momento_watcher_close_queued(momento_watcher_t *watcher,
                                                          momento_completion_queue_t *queue,
                                                          uint64_t id, momento_error_t **err);
/* Subscriptions whose events go into `queue` under `id`, each an owned value: for a refresher
 * a momento_refresh_event_t * (momento_refresh_event_free), for a watcher a
 * momento_watched_key_t * (momento_watched_key_free). The library's thread only appends to the
 * queue, never waits for the reader. *subscription is for momento_*_unsubscribe(), which then
 * returns at once; events queued before it are still popped (the caller drops them). */
MOMENTO_API momento_status_t momento_refresher_subscribe_queued(uint64_t *subscription,
                                                                momento_refresher_t *refresher,
                                                                momento_completion_queue_t *queue,
                                                                uint64_t id, momento_error_t **err);
/* The watcher's form of momento_refresher_subscribe_queued(): each new key as an owned
 * momento_watched_key_t *. */
MOMENTO_API momento_status_t momento_watcher_subscribe_queued(uint64_t *subscription,
                                                              momento_watcher_t *watcher,
                                                              momento_completion_queue_t *queue,
                                                              uint64_t id, momento_error_t **err);

typedef struct momento_log_record momento_log_record_t;

/* The library's log into `queue` under `id`, for event loops (the queued form of
 * momento_log_set_callback(), which it replaces, and which replaces it; fn = NULL there removes
 * it): each message at or above `min_level` is queued as an owned momento_log_record_t *
 * (momento_log_record_free). The logging thread only appends to the queue, never waits for the
 * reader. Once a replacement or removal returns, nothing more is queued under `id`; records
 * queued before are still popped (the caller drops them). Freeing the queue removes it too. */
MOMENTO_API momento_status_t momento_log_set_queue(int32_t min_level,
                                                   momento_completion_queue_t *queue, uint64_t id,
                                                   momento_error_t **err);
/* The record's level (a momento_log_level; MOMENTO_LOG_DEBUG for NULL). */
MOMENTO_API int32_t momento_log_record_level(const momento_log_record_t *record);
/* The record's message (borrowed; valid while the record lives; "" for NULL). */
MOMENTO_API const char *momento_log_record_message(const momento_log_record_t *record);
/* NULL is a no-op. */
MOMENTO_API void momento_log_record_free(momento_log_record_t *record);

/* ------------------------------------------------------------------------------------------ */
/* Deprecated names. The ABI only grows: these earlier names stay exported from
 * libmomento_auth.so.1 and behave exactly like the function named in each comment. New code
 * uses the new names; the old ones are removed only with a new ABI version (docs/c-api.md). */

/* = momento_endpoint_override_new_base() */
MOMENTO_API MOMENTO_DEPRECATED momento_status_t momento_endpoint_override_base(
    momento_endpoint_override_t **out, const char *base_endpoint, const char *endpoint_prefix,
    int32_t secure, momento_error_t **err);
/* = momento_endpoint_override_new_explicit() */
MOMENTO_API MOMENTO_DEPRECATED momento_status_t momento_endpoint_override_explicit(
    momento_endpoint_override_t **out, const char *control, const char *cache, const char *token,
    int32_t secure, momento_error_t **err);
/* = momento_endpoint_override_new_single() */
MOMENTO_API MOMENTO_DEPRECATED momento_status_t momento_endpoint_override_single(
    momento_endpoint_override_t **out, const char *host_port, int32_t secure,
    momento_error_t **err);
/* = momento_credential_new_local() */
MOMENTO_API MOMENTO_DEPRECATED momento_status_t momento_credential_local(
    momento_credential_t **out, const char *host, uint16_t port, momento_error_t **err);
/* = momento_credential_kind_str() */
MOMENTO_API MOMENTO_DEPRECATED const char *momento_credential_kind_name(int32_t kind);
/* = momento_store_new() */
MOMENTO_API MOMENTO_DEPRECATED momento_status_t momento_store_open(
    momento_store_t **out, const char *spec, const momento_store_options_t *options,
    momento_error_t **err);
/* = momento_store_save() */
MOMENTO_API MOMENTO_DEPRECATED momento_status_t momento_store_store(
    momento_store_t *store, const momento_token_t *token, momento_error_t **err);
/* = momento_refresh_event_kind_str() */
MOMENTO_API MOMENTO_DEPRECATED const char *momento_refresh_event_kind_name(int32_t kind);
/* = momento_watcher_current_credential() */
MOMENTO_API MOMENTO_DEPRECATED momento_status_t momento_watcher_current(
    momento_credential_t **out, const momento_watcher_t *watcher, momento_error_t **err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MOMENTO_AUTH_H */
