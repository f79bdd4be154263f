// momento/auth.hpp - header-only, move-only RAII C++ wrapper over the C ABI in momento/auth.h.
//
// Every call goes through libmomento_auth's C functions, so C++ users see exactly what C and FFI
// callers see. Failures throw momento::Error (code, message, gRPC status, retryable). Borrowed
// strings are returned as std::string_view and stay valid while the owning object lives.
#ifndef MOMENTO_AUTH_HPP
#define MOMENTO_AUTH_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "momento/auth.h"

namespace momento {

// ---- errors ---------------------------------------------------------------------------------

class Error : public std::runtime_error {
 public:
  Error(momento_status_t code, const std::string &message, int32_t grpc_status, bool retryable)
      : std::runtime_error(message),
        code_(code),
        grpc_status_(grpc_status),
        retryable_(retryable) {}

  // A MOMENTO_ERR_* value.
  momento_status_t code() const noexcept { return code_; }
  // The canonical name, e.g. "PERMISSION_ERROR".
  const char *code_name() const noexcept { return momento_status_str(code_); }
  // gRPC status number when an RPC was made, else -1.
  int32_t grpc_status() const noexcept { return grpc_status_; }
  bool retryable() const noexcept { return retryable_; }

 private:
  momento_status_t code_;
  int32_t grpc_status_;
  bool retryable_;
};

namespace detail {

template <class T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *p) const noexcept { Free(p); }
};
template <class T, void (*Free)(T *)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

// A failing status and its error object (owned, freed here; may be NULL) as a momento::Error.
inline Error error_from(momento_status_t st, momento_error_t *raw) {
  Handle<momento_error_t, momento_error_free> err(raw);
  if (!err) return Error(st, momento_status_str(st), -1, false);
  return Error(st, momento_error_message(err.get()), momento_error_grpc_status(err.get()),
               momento_error_retryable(err.get()) != 0);
}

// Runs f(&err); on failure turns the status and error object into a momento::Error.
template <class F>
void call(F &&f) {
  momento_error_t *raw = nullptr;
  momento_status_t st = f(&raw);
  if (st != MOMENTO_OK) throw error_from(st, raw);
}

inline std::string_view view(const char *s) { return s ? std::string_view(s) : std::string_view(); }

inline const char *c_str_or_null(const std::optional<std::string> &s) {
  return s ? s->c_str() : nullptr;
}

}  // namespace detail

// ---- versions -------------------------------------------------------------------------------

inline std::string_view version_string() { return momento_version_string(); }
inline uint32_t abi_version() { return momento_abi_version(); }
// Throws when the loaded library's ABI differs from the one this header was written for.
inline void check_abi() {
  if (momento_abi_version() != MOMENTO_AUTH_ABI_VERSION)
    throw Error(MOMENTO_ERR_FAILED_PRECONDITION,
                "libmomento_auth ABI " + std::to_string(momento_abi_version()) +
                    " loaded, header expects " + std::to_string(MOMENTO_AUTH_ABI_VERSION),
                -1, false);
}

// Overwrites a string that held a secret, its whole capacity included, and clears it
// (momento_wipe: the library's one wiping primitive).
inline void wipe(std::string &s) noexcept {
  s.resize(s.capacity());  // no reallocation: the capacity is already there
  momento_wipe(s.data(), s.size());
  s.clear();
}

// The library's redacted display of a secret (first characters and a short hash).
inline std::string redact(const std::string &secret) {
  char *raw = nullptr;
  detail::call([&](momento_error_t **e) { return momento_redact(&raw, secret.c_str(), e); });
  detail::Handle<char, momento_free> owned(raw);
  return std::string(owned.get());
}

// An API key's redacted display as a credential shows it (of the key inside a v1 envelope).
inline std::string redact_key(const std::string &key) {
  char *raw = nullptr;
  detail::call([&](momento_error_t **e) { return momento_redact_key(&raw, key.c_str(), e); });
  detail::Handle<char, momento_free> owned(raw);
  return std::string(owned.get());
}

// Text made safe to show (control characters and invalid UTF-8 escaped, cut at `max_bytes`).
inline std::string printable(std::string_view text, size_t max_bytes = 256) {
  char *raw = nullptr;
  detail::call([&](momento_error_t **e) {
    return momento_printable(&raw, text.data(), text.size(), max_bytes, e);
  });
  detail::Handle<char, momento_free> owned(raw);
  return std::string(owned.get());
}

// ---- logging --------------------------------------------------------------------------------

enum class LogLevel : int32_t {
  Debug = MOMENTO_LOG_DEBUG,
  Info = MOMENTO_LOG_INFO,
  Warn = MOMENTO_LOG_WARN,
  Error = MOMENTO_LOG_ERROR
};

// "debug", "info", "warn" or "error".
inline const char *log_level_name(LogLevel level) {
  const char *name = momento_log_level_str(static_cast<int32_t>(level));
  return name ? name : "debug";
}

using LogFunction = std::function<void(LogLevel, std::string_view)>;

// Installs a process-wide log callback (empty function = remove). Exceptions thrown by the
// callback are swallowed at the boundary.
inline void set_log_callback(LogLevel min_level, LogFunction fn) {
  if (!fn) {
    detail::call([&](momento_error_t **e) {
      return momento_log_set_callback(static_cast<int32_t>(min_level), nullptr, nullptr, nullptr,
                                      e);
    });
    return;
  }
  auto holder = std::make_unique<LogFunction>(std::move(fn));
  auto trampoline = [](int32_t level, const char *msg, void *ud) {
    try {
      (*static_cast<LogFunction *>(ud))(static_cast<LogLevel>(level), detail::view(msg));
    } catch (...) {
    }
  };
  auto destroy = [](void *ud) { delete static_cast<LogFunction *>(ud); };
  detail::call([&](momento_error_t **e) {
    return momento_log_set_callback(static_cast<int32_t>(min_level), trampoline, holder.get(),
                                    destroy, e);
  });
  holder.release();  // owned by the library now; freed through `destroy`
}

// ---- endpoint overrides ---------------------------------------------------------------------

class EndpointOverride {
 public:
  static EndpointOverride base(const std::string &base_endpoint,
                               const std::optional<std::string> &prefix = std::nullopt,
                               bool secure = true) {
    return make([&](momento_endpoint_override_t **o, momento_error_t **e) {
      return momento_endpoint_override_new_base(o, base_endpoint.c_str(), detail::c_str_or_null(prefix),
                                            secure ? 1 : 0, e);
    });
  }
  static EndpointOverride explicit_endpoints(const std::string &control, const std::string &cache,
                                             const std::string &token, bool secure = true) {
    return make([&](momento_endpoint_override_t **o, momento_error_t **e) {
      return momento_endpoint_override_new_explicit(o, control.c_str(), cache.c_str(), token.c_str(),
                                                secure ? 1 : 0, e);
    });
  }
  static EndpointOverride single(const std::string &host_port, bool secure = false) {
    return make([&](momento_endpoint_override_t **o, momento_error_t **e) {
      return momento_endpoint_override_new_single(o, host_port.c_str(), secure ? 1 : 0, e);
    });
  }

  const momento_endpoint_override_t *get() const noexcept { return h_.get(); }

 private:
  template <class F>
  static EndpointOverride make(F &&f) {
    momento_endpoint_override_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return f(&raw, e); });
    EndpointOverride r;
    r.h_.reset(raw);
    return r;
  }
  EndpointOverride() = default;
  detail::Handle<momento_endpoint_override_t, momento_endpoint_override_free> h_;
};

// ---- credentials ----------------------------------------------------------------------------

enum class CredentialKind : int32_t {
  V1Envelope = MOMENTO_CREDENTIAL_V1_ENVELOPE,
  V2ApiKey = MOMENTO_CREDENTIAL_V2_API_KEY,
  LegacyJwt = MOMENTO_CREDENTIAL_LEGACY_JWT,
  SessionToken = MOMENTO_CREDENTIAL_SESSION_TOKEN,
  Local = MOMENTO_CREDENTIAL_LOCAL
};

enum class Service : int32_t {
  Control = MOMENTO_SERVICE_CONTROL,
  Cache = MOMENTO_SERVICE_CACHE,
  Token = MOMENTO_SERVICE_TOKEN
};

struct Endpoint {
  std::string host;
  uint16_t port = 0;
  bool secure = true;
  std::string address() const { return host + ":" + std::to_string(port); }
};

struct Expiry {
  enum class State : int32_t {
    Unknown = MOMENTO_EXPIRY_UNKNOWN,
    Never = MOMENTO_EXPIRY_NEVER,
    At = MOMENTO_EXPIRY_AT
  };
  State state = State::Unknown;
  uint64_t epoch_seconds = 0;  // when state == At
};

namespace detail {
// Read-only accessors shared by Credential (owning) and CredentialView (borrowed).
template <class Derived>
class CredentialAccess {
 public:
  CredentialKind kind() const {
    return static_cast<CredentialKind>(momento_credential_kind(self()));
  }
  std::string_view kind_name() const {
    return view(momento_credential_kind_str(momento_credential_kind(self())));
  }
  Endpoint endpoint(Service service) const {
    const char *host = nullptr;
    uint16_t port = 0;
    int32_t secure = 0;
    call([&](momento_error_t **e) {
      return momento_credential_endpoint(&host, &port, &secure, self(),
                                         static_cast<int32_t>(service), e);
    });
    return Endpoint{host, port, secure != 0};
  }
  std::string_view base_endpoint() const { return view(momento_credential_base_endpoint(self())); }
  bool endpoints_overridden() const { return momento_credential_endpoints_overridden(self()) != 0; }
  Expiry expiry() const {
    int32_t state = 0;
    uint64_t epoch = 0;
    call([&](momento_error_t **e) { return momento_credential_expiry(&state, &epoch, self(), e); });
    return Expiry{static_cast<Expiry::State>(state), epoch};
  }
  // Safe for logs.
  std::string_view redacted() const { return view(momento_credential_redacted(self())); }
  // The key alone, redacted (first characters and a short hash). Safe for logs.
  std::string_view redacted_key() const { return view(momento_credential_redacted_key(self())); }
  // Secret: the refresh token that came with a token file ("" when none).
  std::string_view refresh_token() const { return view(momento_credential_refresh_token(self())); }

 private:
  const momento_credential_t *self() const { return static_cast<const Derived *>(this)->get(); }
};
}  // namespace detail

// A borrowed credential (e.g. the one inside an AuthClient); valid while its owner lives.
class CredentialView : public detail::CredentialAccess<CredentialView> {
 public:
  explicit CredentialView(const momento_credential_t *p) noexcept : p_(p) {}
  const momento_credential_t *get() const noexcept { return p_; }

 private:
  const momento_credential_t *p_;
};

// An owned, immutable credential; safe to share between threads.
class Credential : public detail::CredentialAccess<Credential> {
 public:
  static Credential from_string(const std::string &s, const EndpointOverride *o = nullptr) {
    return make([&](momento_credential_t **c, momento_error_t **e) {
      return momento_credential_from_string(c, s.c_str(), o ? o->get() : nullptr, e);
    });
  }
  static Credential from_disposable_token(const std::string &s,
                                          const EndpointOverride *o = nullptr) {
    return make([&](momento_credential_t **c, momento_error_t **e) {
      return momento_credential_from_disposable_token(c, s.c_str(), o ? o->get() : nullptr, e);
    });
  }
  static Credential from_v2(const std::string &key, const std::string &endpoint,
                            const EndpointOverride *o = nullptr) {
    return make([&](momento_credential_t **c, momento_error_t **e) {
      return momento_credential_from_v2(c, key.c_str(), endpoint.c_str(), o ? o->get() : nullptr,
                                        e);
    });
  }
  static Credential from_env(const std::optional<std::string> &key_var = std::nullopt,
                             const std::optional<std::string> &endpoint_var = std::nullopt,
                             const EndpointOverride *o = nullptr) {
    return make([&](momento_credential_t **c, momento_error_t **e) {
      return momento_credential_from_env(c, detail::c_str_or_null(key_var),
                                         detail::c_str_or_null(endpoint_var),
                                         o ? o->get() : nullptr, e);
    });
  }
  static Credential from_file(const std::string &path, const EndpointOverride *o = nullptr) {
    return make([&](momento_credential_t **c, momento_error_t **e) {
      return momento_credential_from_file(c, path.c_str(), o ? o->get() : nullptr, e);
    });
  }
  // A key in any format; a v2 key takes its endpoint from the variable endpoint_var
  // (the library's MOMENTO_ENDPOINT when omitted).
  static Credential from_key(const std::string &key,
                             const std::optional<std::string> &endpoint_var = std::nullopt,
                             const EndpointOverride *o = nullptr) {
    return make([&](momento_credential_t **c, momento_error_t **e) {
      return momento_credential_from_key(c, key.c_str(), detail::c_str_or_null(endpoint_var),
                                         o ? o->get() : nullptr, e);
    });
  }
  // A token file in the Download-JSON shape or a file holding a bare key (as from_key).
  static Credential from_key_file(const std::string &path,
                                  const std::optional<std::string> &endpoint_var = std::nullopt,
                                  const EndpointOverride *o = nullptr) {
    return make([&](momento_credential_t **c, momento_error_t **e) {
      return momento_credential_from_key_file(c, path.c_str(), detail::c_str_or_null(endpoint_var),
                                              o ? o->get() : nullptr, e);
    });
  }
  // A local server, plaintext. Without a host (or with port 0): the library's default address.
  static Credential local() { return new_local(nullptr, 0); }
  static Credential local(const std::string &host, uint16_t port = 0) {
    return new_local(host.c_str(), port);
  }

  // A copy with the endpoints replaced by the override.
  Credential with_override(const EndpointOverride &o) const {
    return make([&](momento_credential_t **c, momento_error_t **e) {
      return momento_credential_with_override(c, h_.get(), o.get(), e);
    });
  }

  // Takes ownership of a handle returned by the C API.
  static Credential adopt(momento_credential_t *owned) noexcept {
    Credential r;
    r.h_.reset(owned);
    return r;
  }

  const momento_credential_t *get() const noexcept { return h_.get(); }
  CredentialView view() const noexcept { return CredentialView(h_.get()); }

 private:
  template <class F>
  static Credential make(F &&f) {
    momento_credential_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return f(&raw, e); });
    Credential r;
    r.h_.reset(raw);
    return r;
  }
  static Credential new_local(const char *host, uint16_t port) {
    return make([&](momento_credential_t **c, momento_error_t **e) {
      return momento_credential_new_local(c, host, port, e);
    });
  }
  Credential() = default;
  detail::Handle<momento_credential_t, momento_credential_free> h_;
};

// ---- lifetimes ------------------------------------------------------------------------------

class ExpiresIn {
 public:
  static ExpiresIn never() { return make(MOMENTO_EXPIRES_NEVER, 0); }
  static ExpiresIn seconds(int64_t n) { return make(MOMENTO_EXPIRES_SECONDS, n); }
  static ExpiresIn minutes(int64_t n) { return make(MOMENTO_EXPIRES_MINUTES, n); }
  static ExpiresIn hours(int64_t n) { return make(MOMENTO_EXPIRES_HOURS, n); }
  static ExpiresIn days(int64_t n) { return make(MOMENTO_EXPIRES_DAYS, n); }
  static ExpiresIn at_epoch(int64_t epoch_seconds) {
    return make(MOMENTO_EXPIRES_AT_EPOCH, epoch_seconds);
  }
  template <class Rep, class Period>
  static ExpiresIn after(std::chrono::duration<Rep, Period> d) {
    return seconds(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  }

  bool does_expire() const { return momento_expires_in_does_expire(h_.get()) != 0; }
  uint32_t valid_for_seconds() const { return momento_expires_in_seconds(h_.get()); }
  const momento_expires_in_t *get() const noexcept { return h_.get(); }

 private:
  static ExpiresIn make(int32_t unit, int64_t amount) {
    momento_expires_in_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return momento_expires_in_new(&raw, unit, amount, e); });
    ExpiresIn r;
    r.h_.reset(raw);
    return r;
  }
  ExpiresIn() = default;
  detail::Handle<momento_expires_in_t, momento_expires_in_free> h_;
};

// ---- scopes ---------------------------------------------------------------------------------

enum class CacheRole : int32_t {
  PermitNone = MOMENTO_CACHE_PERMIT_NONE,
  ReadWrite = MOMENTO_CACHE_READ_WRITE,
  ReadOnly = MOMENTO_CACHE_READ_ONLY,
  WriteOnly = MOMENTO_CACHE_WRITE_ONLY
};
enum class TopicRole : int32_t {
  PermitNone = MOMENTO_TOPIC_PERMIT_NONE,
  PublishSubscribe = MOMENTO_TOPIC_PUBLISH_SUBSCRIBE,
  SubscribeOnly = MOMENTO_TOPIC_SUBSCRIBE_ONLY,
  PublishOnly = MOMENTO_TOPIC_PUBLISH_ONLY
};
enum class FunctionRole : int32_t {
  PermitNone = MOMENTO_FUNCTION_PERMIT_NONE,
  Invoke = MOMENTO_FUNCTION_INVOKE
};
enum class ScopeUse : int32_t {
  ApiKey = MOMENTO_SCOPE_USE_API_KEY,
  DisposableToken = MOMENTO_SCOPE_USE_DISPOSABLE_TOKEN
};

// Which topics or functions an entry covers.
struct Select {
  int32_t kind = MOMENTO_SELECT_ALL;
  std::optional<std::string> value;
  static Select all() { return {}; }
  static Select named(std::string n) { return {MOMENTO_SELECT_NAME, std::move(n)}; }
  static Select prefix(std::string p) { return {MOMENTO_SELECT_PREFIX, std::move(p)}; }
};

// Which items of a cache a disposable-token entry covers.
struct Items {
  int32_t kind = MOMENTO_ITEMS_ALL;
  std::string bytes;
  static Items all() { return {}; }
  static Items key(std::string k) { return {MOMENTO_ITEMS_KEY, std::move(k)}; }
  static Items key_prefix(std::string p) { return {MOMENTO_ITEMS_KEY_PREFIX, std::move(p)}; }
};

// Cache names: std::nullopt means all caches.
using CacheName = std::optional<std::string>;

class Scope {
 public:
  Scope() {
    momento_scope_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return momento_scope_new(&raw, e); });
    h_.reset(raw);
  }
  static Scope super_user() { return predefined(MOMENTO_SCOPE_SUPER_USER); }
  static Scope all_data_read_write() { return predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE); }
  static Scope all_data_read_only() { return predefined(MOMENTO_SCOPE_ALL_DATA_READ_ONLY); }

  Scope &add_cache(CacheRole role, const CacheName &cache = std::nullopt) {
    detail::call([&](momento_error_t **e) {
      return momento_scope_add_cache(h_.get(), static_cast<int32_t>(role),
                                     detail::c_str_or_null(cache), e);
    });
    return *this;
  }
  Scope &add_topic(TopicRole role, const CacheName &cache, const Select &topic) {
    detail::call([&](momento_error_t **e) {
      return momento_scope_add_topic(h_.get(), static_cast<int32_t>(role),
                                     detail::c_str_or_null(cache), topic.kind,
                                     detail::c_str_or_null(topic.value), e);
    });
    return *this;
  }
  Scope &add_function(FunctionRole role, const CacheName &cache, const Select &function) {
    detail::call([&](momento_error_t **e) {
      return momento_scope_add_function(h_.get(), static_cast<int32_t>(role),
                                        detail::c_str_or_null(cache), function.kind,
                                        detail::c_str_or_null(function.value), e);
    });
    return *this;
  }
  Scope &add_cache_items(CacheRole role, const CacheName &cache, const Items &items) {
    detail::call([&](momento_error_t **e) {
      bool all = items.kind == MOMENTO_ITEMS_ALL;
      return momento_scope_add_cache_items(h_.get(), static_cast<int32_t>(role),
                                           detail::c_str_or_null(cache), items.kind,
                                           all ? nullptr : items.bytes.data(),
                                           all ? 0 : items.bytes.size(), e);
    });
    return *this;
  }
  size_t entry_count() const { return momento_scope_entry_count(h_.get()); }
  void validate(ScopeUse use) const {
    detail::call([&](momento_error_t **e) {
      return momento_scope_validate(h_.get(), static_cast<int32_t>(use), e);
    });
  }
  const momento_scope_t *get() const noexcept { return h_.get(); }
  // A predefined scope by its MOMENTO_SCOPE_* value (momento_scope_predefined_from_str() gives
  // it for a name).
  static Scope predefined(int32_t which) {
    momento_scope_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return momento_scope_new_predefined(&raw, which, e); });
    Scope r{Empty{}};
    r.h_.reset(raw);
    return r;
  }

 private:
  struct Empty {};
  explicit Scope(Empty) {}
  detail::Handle<momento_scope_t, momento_scope_free> h_;
};

// ---- client configuration -------------------------------------------------------------------

class ClientConfig {
 public:
  ClientConfig() {
    momento_client_config_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return momento_client_config_new(&raw, e); });
    h_.reset(raw);
  }
  ClientConfig &deadline(std::chrono::milliseconds d) {
    detail::call([&](momento_error_t **e) {
      return momento_client_config_set_deadline_ms(h_.get(), static_cast<int64_t>(d.count()), e);
    });
    return *this;
  }
  ClientConfig &ca_file(const std::string &path) {
    detail::call([&](momento_error_t **e) {
      return momento_client_config_set_ca_file(h_.get(), path.empty() ? nullptr : path.c_str(), e);
    });
    return *this;
  }
  ClientConfig &max_message_bytes(int32_t n) {
    detail::call([&](momento_error_t **e) {
      return momento_client_config_set_max_message_bytes(h_.get(), n, e);
    });
    return *this;
  }
  const momento_client_config_t *get() const noexcept { return h_.get(); }

 private:
  detail::Handle<momento_client_config_t, momento_client_config_free> h_;
};

// ---- tokens ---------------------------------------------------------------------------------

// A minted or refreshed key, or a disposable token. Immutable; secrets wiped when destroyed.
class Token {
 public:
  explicit Token(momento_token_t *owned) noexcept : h_(owned) {}

  std::string_view api_key() const { return detail::view(momento_token_api_key(h_.get())); }
  std::string_view refresh_token() const {
    return detail::view(momento_token_refresh_token(h_.get()));
  }
  std::string_view endpoint() const { return detail::view(momento_token_endpoint(h_.get())); }
  uint64_t valid_until() const { return momento_token_valid_until(h_.get()); }  // 0 = never
  // The Download-JSON text. Holds secrets: wipe it when done if that matters to you.
  std::string to_json() const {
    char *raw = nullptr;
    detail::call([&](momento_error_t **e) { return momento_token_to_json(&raw, h_.get(), e); });
    detail::Handle<char, momento_free> owned(raw);
    return std::string(owned.get());
  }
  void write_file(const std::string &path) const {
    detail::call([&](momento_error_t **e) {
      return momento_token_write_file(h_.get(), path.c_str(), e);
    });
  }
  const momento_token_t *get() const noexcept { return h_.get(); }

 private:
  detail::Handle<momento_token_t, momento_token_free> h_;
};

// ---- cancellation ---------------------------------------------------------------------------

// Lets another thread cancel the calls of the threads tied to it (see auth.h): bind it with
// CancelToken::Binding on the calling thread, call cancel() from elsewhere. Cancelled calls throw
// momento::Error with MOMENTO_ERR_CANCELLED. Must outlive its bindings and any cancel() running.
class CancelToken {
 public:
  CancelToken() {
    momento_cancel_token_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return momento_cancel_token_new(&raw, e); });
    h_.reset(raw);
  }
  void cancel() {
    detail::call([&](momento_error_t **e) { return momento_cancel_token_cancel(h_.get(), e); });
  }
  void reset() {
    detail::call([&](momento_error_t **e) { return momento_cancel_token_reset(h_.get(), e); });
  }
  bool cancelled() const noexcept { return momento_cancel_token_is_cancelled(h_.get()) != 0; }
  momento_cancel_token_t *get() const noexcept { return h_.get(); }

  // Ties the constructing thread to a token (nullptr: to none) until destroyed, then restores
  // the previous binding. Create and destroy it on the same thread.
  class Binding {
   public:
    explicit Binding(CancelToken *token) {
      detail::call([&](momento_error_t **e) {
        return momento_cancel_token_bind_thread(&previous_, token ? token->get() : nullptr, e);
      });
    }
    ~Binding() { momento_cancel_token_bind_thread(nullptr, previous_, nullptr); }
    Binding(const Binding &) = delete;
    Binding &operator=(const Binding &) = delete;

   private:
    momento_cancel_token_t *previous_ = nullptr;
  };

 private:
  detail::Handle<momento_cancel_token_t, momento_cancel_token_free> h_;
};

// ---- auth client ----------------------------------------------------------------------------

// Thread-safe: share one between threads.
class AuthClient {
 public:
  explicit AuthClient(const Credential &credential) : AuthClient(credential, nullptr) {}
  AuthClient(const Credential &credential, const ClientConfig &config)
      : AuthClient(credential, config.get()) {}

  CredentialView credential() const noexcept {
    return CredentialView(momento_auth_client_credential(h_.get()));
  }

  Token generate_api_key(const Scope &scope, const ExpiresIn &expires_in) {
    return rpc([&](momento_token_t **t, momento_error_t **e) {
      return momento_auth_client_generate_api_key(t, h_.get(), scope.get(), expires_in.get(), e);
    });
  }
  Token refresh_api_key(const char *refresh_token) {
    return rpc([&](momento_token_t **t, momento_error_t **e) {
      return momento_auth_client_refresh_api_key(t, h_.get(), refresh_token, e);
    });
  }
  Token refresh_api_key(const std::string &refresh_token) { return refresh_api_key(refresh_token.c_str()); }
  // Takes what Token::refresh_token() and Credential::refresh_token() return. A view that is not
  // NUL-terminated is copied first; the copy is wiped afterwards.
  Token refresh_api_key(std::string_view refresh_token) {
    struct Copy {
      std::string s;
      ~Copy() { wipe(s); }
    } copy{std::string(refresh_token)};
    return refresh_api_key(copy.s.c_str());
  }
  Token generate_disposable_token(const Scope &scope, const ExpiresIn &expires_in,
                                  const std::optional<std::string> &token_id = std::nullopt) {
    return rpc([&](momento_token_t **t, momento_error_t **e) {
      return momento_auth_client_generate_disposable_token(
          t, h_.get(), scope.get(), expires_in.get(), detail::c_str_or_null(token_id), e);
    });
  }

  // The three calls without blocking the caller (momento_auth_client_*_async): the future holds
  // the Token or throws momento::Error. Arguments are copied by the library when the call
  // starts; bad arguments throw here and start nothing. `cancel` (optional) ends the call with
  // MOMENTO_ERR_CANCELLED and may be destroyed while it is in flight. The client may be
  // destroyed too: the call runs to its end. The library's completion thread fulfils the future.
  std::future<Token> generate_api_key_async(const Scope &scope, const ExpiresIn &expires_in,
                                            CancelToken *cancel = nullptr) {
    return start([&](momento_token_fn fn, void *ud, momento_error_t **e) {
      return momento_auth_client_generate_api_key_async(h_.get(), scope.get(), expires_in.get(),
                                                        token_of(cancel), fn, ud, e);
    });
  }
  std::future<Token> refresh_api_key_async(const std::string &refresh_token,
                                           CancelToken *cancel = nullptr) {
    return start([&](momento_token_fn fn, void *ud, momento_error_t **e) {
      return momento_auth_client_refresh_api_key_async(h_.get(), refresh_token.c_str(),
                                                       token_of(cancel), fn, ud, e);
    });
  }
  std::future<Token> generate_disposable_token_async(
      const Scope &scope, const ExpiresIn &expires_in,
      const std::optional<std::string> &token_id = std::nullopt, CancelToken *cancel = nullptr) {
    return start([&](momento_token_fn fn, void *ud, momento_error_t **e) {
      return momento_auth_client_generate_disposable_token_async(
          h_.get(), scope.get(), expires_in.get(), detail::c_str_or_null(token_id),
          token_of(cancel), fn, ud, e);
    });
  }
  const momento_auth_client_t *get() const noexcept { return h_.get(); }

 private:
  static momento_cancel_token_t *token_of(CancelToken *c) noexcept { return c ? c->get() : nullptr; }
  // The promise goes to the library as user_data; the completion settles and deletes it. When
  // the start fails the callback never runs and the promise is deleted here.
  template <class F>
  static std::future<Token> start(F &&f) {
    auto promise = std::make_unique<std::promise<Token>>();
    std::future<Token> result = promise->get_future();
    detail::call([&](momento_error_t **e) { return f(&settle, promise.get(), e); });
    promise.release();  // the completion owns it now (it may already have run)
    return result;
  }
  static void settle(momento_token_t *token, momento_error_t *error, void *user_data) noexcept {
    std::unique_ptr<std::promise<Token>> promise(static_cast<std::promise<Token> *>(user_data));
    try {
      if (!token) throw detail::error_from(momento_error_code(error), error);
      promise->set_value(Token(token));
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  }
  AuthClient(const Credential &credential, const momento_client_config_t *config) {
    momento_auth_client_t *raw = nullptr;
    detail::call([&](momento_error_t **e) {
      return momento_auth_client_new(&raw, credential.get(), config, e);
    });
    h_.reset(raw);
  }
  template <class F>
  Token rpc(F &&f) {
    momento_token_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return f(&raw, e); });
    return Token(raw);
  }
  detail::Handle<momento_auth_client_t, momento_auth_client_free> h_;
};

// ---- data client ----------------------------------------------------------------------------

// Control calls, data calls and Ping; enough to validate a key. Thread-safe: share one.
class DataClient {
 public:
  explicit DataClient(const Credential &credential) : DataClient(credential, nullptr) {}
  DataClient(const Credential &credential, const ClientConfig &config)
      : DataClient(credential, config.get()) {}

  CredentialView credential() const noexcept {
    return CredentialView(momento_data_client_credential(h_.get()));
  }

  void create_cache(const std::string &cache) {
    detail::call([&](momento_error_t **e) {
      return momento_data_client_create_cache(h_.get(), cache.c_str(), e);
    });
  }
  void delete_cache(const std::string &cache) {
    detail::call([&](momento_error_t **e) {
      return momento_data_client_delete_cache(h_.get(), cache.c_str(), e);
    });
  }
  void flush_cache(const std::string &cache) {
    detail::call([&](momento_error_t **e) {
      return momento_data_client_flush_cache(h_.get(), cache.c_str(), e);
    });
  }
  std::vector<std::string> list_caches() {
    momento_string_list_t *raw = nullptr;
    detail::call([&](momento_error_t **e) {
      return momento_data_client_list_caches(&raw, h_.get(), e);
    });
    detail::Handle<momento_string_list_t, momento_string_list_free> list(raw);
    std::vector<std::string> names;
    const size_t n = momento_string_list_count(list.get());
    names.reserve(n);
    for (size_t i = 0; i < n; ++i) names.emplace_back(momento_string_list_get(list.get(), i));
    return names;
  }
  template <class Rep, class Period>
  void set(const std::string &cache, std::string_view key, std::string_view value,
           std::chrono::duration<Rep, Period> ttl) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
    detail::call([&](momento_error_t **e) {
      return momento_data_client_set(h_.get(), cache.c_str(), key.data(), key.size(), value.data(),
                                     value.size(), static_cast<int64_t>(ms), e);
    });
  }
  void set(const std::string &cache, std::string_view key, std::string_view value) {
    set(cache, key, value, std::chrono::minutes(1));
  }
  // The value on a hit, std::nullopt on a miss.
  std::optional<std::string> get(const std::string &cache, std::string_view key) {
    int32_t hit = 0;
    char *raw = nullptr;
    size_t len = 0;
    detail::call([&](momento_error_t **e) {
      return momento_data_client_get(&hit, &raw, &len, h_.get(), cache.c_str(), key.data(),
                                     key.size(), e);
    });
    detail::Handle<char, momento_free> owned(raw);
    if (!hit) return std::nullopt;
    return std::string(owned.get(), len);
  }
  void delete_key(const std::string &cache, std::string_view key) {
    detail::call([&](momento_error_t **e) {
      return momento_data_client_delete(h_.get(), cache.c_str(), key.data(), key.size(), e);
    });
  }
  void ping() {
    detail::call([&](momento_error_t **e) { return momento_data_client_ping(h_.get(), e); });
  }
  const momento_data_client_t *get() const noexcept { return h_.get(); }

 private:
  DataClient(const Credential &credential, const momento_client_config_t *config) {
    momento_data_client_t *raw = nullptr;
    detail::call([&](momento_error_t **e) {
      return momento_data_client_new(&raw, credential.get(), config, e);
    });
    h_.reset(raw);
  }
  detail::Handle<momento_data_client_t, momento_data_client_free> h_;
};

// ---- stores, refresher, watcher -------------------------------------------------------------

class StoreOptions {
 public:
  StoreOptions() {
    momento_store_options_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return momento_store_options_new(&raw, e); });
    h_.reset(raw);
  }
  StoreOptions &aws_region(const std::optional<std::string> &r) {
    detail::call([&](momento_error_t **e) {
      return momento_store_options_set_aws_region(h_.get(), detail::c_str_or_null(r), e);
    });
    return *this;
  }
  StoreOptions &aws_endpoint(const std::optional<std::string> &url) {
    detail::call([&](momento_error_t **e) {
      return momento_store_options_set_aws_endpoint(h_.get(), detail::c_str_or_null(url), e);
    });
    return *this;
  }
  StoreOptions &aws_profile(const std::optional<std::string> &p) {
    detail::call([&](momento_error_t **e) {
      return momento_store_options_set_aws_profile(h_.get(), detail::c_str_or_null(p), e);
    });
    return *this;
  }
  const momento_store_options_t *get() const noexcept { return h_.get(); }

 private:
  detail::Handle<momento_store_options_t, momento_store_options_free> h_;
};

// A store specification as the library reads it: a MOMENTO_STORE_* kind and a location.
struct StoreSpec {
  int32_t kind = 0;
  std::string location;
  static StoreSpec parse(const std::string &spec) {
    int32_t kind = 0;
    char *loc = nullptr;
    detail::call([&](momento_error_t **e) {
      return momento_store_spec_parse(&kind, &loc, spec.c_str(), e);
    });
    StoreSpec out{kind, loc};
    momento_free(loc);
    return out;
  }
};

// "file:PATH", "aws-sm:SECRET-ID" or "env:VARIABLE".
class Store {
 public:
  explicit Store(const std::string &spec, const StoreOptions *options = nullptr) {
    momento_store_t *raw = nullptr;
    detail::call([&](momento_error_t **e) {
      return momento_store_new(&raw, spec.c_str(), options ? options->get() : nullptr, e);
    });
    h_.reset(raw);
  }
  std::string_view describe() const { return detail::view(momento_store_describe(h_.get())); }
  bool writable() const { return momento_store_writable(h_.get()) != 0; }
  // MOMENTO_STORE_FILE, _AWS_SECRETS_MANAGER or _ENV, and what the specification names.
  int32_t kind() const noexcept { return momento_store_kind(h_.get()); }
  std::string_view location() const { return detail::view(momento_store_location(h_.get())); }
  // Throws Error(MOMENTO_ERR_NOT_FOUND) when the store is empty.
  Token load() {
    momento_token_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return momento_store_load(&raw, h_.get(), e); });
    return Token(raw);
  }
  void store(const Token &token) {
    detail::call([&](momento_error_t **e) {
      return momento_store_save(h_.get(), token.get(), e);
    });
  }
  momento_store_t *get() const noexcept { return h_.get(); }

 private:
  detail::Handle<momento_store_t, momento_store_free> h_;
};

// A refresh event copied out of the library (no secret in it).
struct RefreshEvent {
  enum class Kind : int32_t {
    Refreshed = MOMENTO_REFRESH_REFRESHED,
    Adopted = MOMENTO_REFRESH_ADOPTED,
    Failed = MOMENTO_REFRESH_FAILED
  };
  Kind kind = Kind::Adopted;
  momento_status_t error_code = MOMENTO_OK;
  std::string error_message;
  uint64_t valid_until = 0;  // 0 = never
  std::string key;           // redacted
  std::string key_fingerprint;
  std::string store;
  int32_t consecutive_failures = 0;
  int64_t next_attempt_ms = 0;  // epoch ms, 0 = none
  bool replay = false;          // repeated a refresh whose answer was lost
  bool retryable = false;       // failures: a later attempt may succeed

  const char *kind_name() const noexcept {
    return momento_refresh_event_kind_str(static_cast<int32_t>(kind));
  }
  static RefreshEvent from(const momento_refresh_event_t *e) {
    RefreshEvent r;
    r.kind = static_cast<Kind>(momento_refresh_event_kind(e));
    r.error_code = momento_refresh_event_error_code(e);
    r.error_message = momento_refresh_event_error_message(e);
    r.valid_until = momento_refresh_event_valid_until(e);
    r.key = momento_refresh_event_redacted_key(e);
    r.key_fingerprint = momento_refresh_event_key_fingerprint(e);
    r.store = momento_refresh_event_store(e);
    r.consecutive_failures = momento_refresh_event_consecutive_failures(e);
    r.next_attempt_ms = momento_refresh_event_next_attempt_ms(e);
    r.replay = momento_refresh_event_replay(e) != 0;
    r.retryable = momento_refresh_event_retryable(e) != 0;
    return r;
  }
};

class RefresherOptions {
 public:
  RefresherOptions() {
    momento_refresher_options_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return momento_refresher_options_new(&raw, e); });
    h_.reset(raw);
  }
  RefresherOptions &jitter_fraction(double f) {
    detail::call([&](momento_error_t **e) {
      return momento_refresher_options_set_jitter_fraction(h_.get(), f, e);
    });
    return *this;
  }
  RefresherOptions &refresh_fraction(double f) {
    detail::call([&](momento_error_t **e) {
      return momento_refresher_options_set_refresh_fraction(h_.get(), f, e);
    });
    return *this;
  }
  RefresherOptions &backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) {
    detail::call([&](momento_error_t **e) {
      return momento_refresher_options_set_backoff_ms(h_.get(), initial.count(), max.count(), e);
    });
    return *this;
  }
  RefresherOptions &recheck_interval(std::chrono::milliseconds d) {
    detail::call([&](momento_error_t **e) {
      return momento_refresher_options_set_recheck_interval_ms(h_.get(), d.count(), e);
    });
    return *this;
  }
  RefresherOptions &backoff_initial(std::chrono::milliseconds d) {
    detail::call([&](momento_error_t **e) {
      return momento_refresher_options_set_backoff_initial_ms(h_.get(), d.count(), e);
    });
    return *this;
  }
  RefresherOptions &backoff_max(std::chrono::milliseconds d) {
    detail::call([&](momento_error_t **e) {
      return momento_refresher_options_set_backoff_max_ms(h_.get(), d.count(), e);
    });
    return *this;
  }
  // Throws Error naming the first rule the whole policy breaks.
  void validate() const {
    detail::call([&](momento_error_t **e) { return momento_refresher_options_validate(h_.get(), e); });
  }
  // The values in effect (set or the library's defaults).
  double refresh_fraction() const { return momento_refresher_options_refresh_fraction(h_.get()); }
  double jitter_fraction() const { return momento_refresher_options_jitter_fraction(h_.get()); }
  std::chrono::milliseconds backoff_initial() const {
    return std::chrono::milliseconds(momento_refresher_options_backoff_initial_ms(h_.get()));
  }
  std::chrono::milliseconds backoff_max() const {
    return std::chrono::milliseconds(momento_refresher_options_backoff_max_ms(h_.get()));
  }
  std::chrono::milliseconds recheck_interval() const {
    return std::chrono::milliseconds(momento_refresher_options_recheck_interval_ms(h_.get()));
  }
  const momento_refresher_options_t *get() const noexcept { return h_.get(); }

 private:
  detail::Handle<momento_refresher_options_t, momento_refresher_options_free> h_;
};

namespace detail {
// Owns a std::function for a C callback: trampoline + destroy notifier.
template <class Arg, class CArg>
struct Callback {
  std::function<void(const Arg &)> fn;
  static void destroy(void *ud) { delete static_cast<Callback *>(ud); }
};
}  // namespace detail

// Thread-safe. Callbacks run on a library thread; exceptions they throw are swallowed.
class Refresher {
 public:
  using Subscriber = std::function<void(const RefreshEvent &)>;

  Refresher(const Store &store, const ClientConfig *config = nullptr,
            const EndpointOverride *endpoint = nullptr, const RefresherOptions *options = nullptr) {
    momento_refresher_t *raw = nullptr;
    detail::call([&](momento_error_t **e) {
      return momento_refresher_new(&raw, store.get(), config ? config->get() : nullptr,
                                   endpoint ? endpoint->get() : nullptr,
                                   options ? options->get() : nullptr, e);
    });
    h_.reset(raw);
  }
  void start() {
    detail::call([&](momento_error_t **e) { return momento_refresher_start(h_.get(), e); });
  }
  void stop() {
    detail::call([&](momento_error_t **e) { return momento_refresher_stop(h_.get(), e); });
  }
  // The most telling event of one pass, or nullopt when nothing was due.
  std::optional<RefreshEvent> run_once(bool force = false) {
    momento_refresh_event_t *raw = nullptr;
    detail::call([&](momento_error_t **e) {
      return momento_refresher_run_once(&raw, h_.get(), force ? 1 : 0, e);
    });
    detail::Handle<momento_refresh_event_t, momento_refresh_event_free> ev(raw);
    if (!ev) return std::nullopt;
    return RefreshEvent::from(ev.get());
  }
  RefreshEvent refresh_now() { return *run_once(true); }
  uint64_t subscribe(Subscriber fn) {
    using Cb = detail::Callback<RefreshEvent, momento_refresh_event_t>;
    auto holder = std::make_unique<Cb>(Cb{std::move(fn)});
    auto trampoline = [](const momento_refresh_event_t *ev, void *ud) {
      try {
        static_cast<Cb *>(ud)->fn(RefreshEvent::from(ev));
      } catch (...) {
      }
    };
    uint64_t id = 0;
    detail::call([&](momento_error_t **e) {
      return momento_refresher_subscribe(&id, h_.get(), trampoline, holder.get(), &Cb::destroy, e);
    });
    holder.release();  // owned by the library now
    return id;
  }
  void unsubscribe(uint64_t id) {
    detail::call([&](momento_error_t **e) { return momento_refresher_unsubscribe(h_.get(), id, e); });
  }
  momento_refresher_t *get() const noexcept { return h_.get(); }

 private:
  detail::Handle<momento_refresher_t, momento_refresher_free> h_;
};

// The key a watcher serves, with its store metadata. Immutable.
class WatchedKey {
 public:
  explicit WatchedKey(momento_watched_key_t *owned) noexcept : h_(owned) {}
  CredentialView credential() const noexcept {
    return CredentialView(momento_watched_key_credential(h_.get()));
  }
  uint64_t valid_until() const { return momento_watched_key_valid_until(h_.get()); }
  std::string_view fingerprint() const {
    return detail::view(momento_watched_key_fingerprint(h_.get()));
  }

 private:
  detail::Handle<momento_watched_key_t, momento_watched_key_free> h_;
};

// What a watch subscriber receives (copied; no secret in it).
struct KeyChange {
  std::string redacted_key;
  std::string fingerprint;
  uint64_t valid_until = 0;  // 0 = never
};

class Watcher {
 public:
  using Subscriber = std::function<void(const KeyChange &)>;

  // The library's default period, for callers whose period is optional.
  static std::chrono::milliseconds default_period() {
    return std::chrono::milliseconds(momento_watcher_default_period_ms());
  }
  Watcher(const Store &store, std::chrono::milliseconds period,
          const EndpointOverride *endpoint = nullptr) {
    momento_watcher_t *raw = nullptr;
    detail::call([&](momento_error_t **e) {
      return momento_watcher_new(&raw, store.get(), period.count(),
                                 endpoint ? endpoint->get() : nullptr, e);
    });
    h_.reset(raw);
  }
  Credential current() const {
    momento_credential_t *raw = nullptr;
    detail::call([&](momento_error_t **e) { return momento_watcher_current_credential(&raw, h_.get(), e); });
    return Credential::adopt(raw);
  }
  WatchedKey current_key() const {
    momento_watched_key_t *raw = nullptr;
    detail::call([&](momento_error_t **e) {
      return momento_watcher_current_key(&raw, h_.get(), e);
    });
    return WatchedKey(raw);
  }
  bool poll() {
    int32_t changed = 0;
    detail::call([&](momento_error_t **e) { return momento_watcher_poll(&changed, h_.get(), e); });
    return changed != 0;
  }
  void notify_unauthenticated() {
    detail::call([&](momento_error_t **e) {
      return momento_watcher_notify_unauthenticated(h_.get(), e);
    });
  }
  uint64_t subscribe(Subscriber fn) {
    using Cb = detail::Callback<KeyChange, momento_watched_key_t>;
    auto holder = std::make_unique<Cb>(Cb{std::move(fn)});
    auto trampoline = [](const momento_watched_key_t *k, void *ud) {
      try {
        KeyChange c;
        c.redacted_key = momento_credential_redacted_key(momento_watched_key_credential(k));
        c.fingerprint = momento_watched_key_fingerprint(k);
        c.valid_until = momento_watched_key_valid_until(k);
        static_cast<Cb *>(ud)->fn(c);
      } catch (...) {
      }
    };
    uint64_t id = 0;
    detail::call([&](momento_error_t **e) {
      return momento_watcher_subscribe(&id, h_.get(), trampoline, holder.get(), &Cb::destroy, e);
    });
    holder.release();
    return id;
  }
  void unsubscribe(uint64_t id) {
    detail::call([&](momento_error_t **e) { return momento_watcher_unsubscribe(h_.get(), id, e); });
  }
  momento_watcher_t *get() const noexcept { return h_.get(); }

 private:
  detail::Handle<momento_watcher_t, momento_watcher_free> h_;
};

using Client = AuthClient;

}  // namespace momento

#endif  // MOMENTO_AUTH_HPP
