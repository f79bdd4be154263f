// Shared plumbing of the C shim: handle layouts, argument checks, exception translation, logging.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "momento/auth.h"
#include "momento/auth/cancel.hpp"
#include "momento/auth/client.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/data_client.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/expiry.hpp"
#include "momento/auth/scope.hpp"
#include "momento/auth/secret.hpp"

namespace ma = momento::auth;

// ---- handle layouts (the opaque structs of auth.h) ------------------------------------------

struct momento_error {
  momento_status_t code;
  std::string message;
  int32_t grpc_status;
  int32_t retryable;
};

struct momento_endpoint_override {
  ma::EndpointOverride value;
};

struct momento_credential {
  ma::Credential value;
  explicit momento_credential(ma::Credential c) : value(std::move(c)) {}
  // Built straight from a parse's result (no move of the credential, no second destructor).
  template <class Parse>
  momento_credential(std::in_place_t, Parse &&parse) : value(parse()) {}
  // Computed on first use (it hashes the key, which parsing alone should not pay for) and then
  // kept, because the getter hands out a borrowed pointer. Thread-safe: handles are shared.
  const std::string &redacted() const {
    std::call_once(redacted_once_, [&] { redacted_ = value.redacted(); });
    return redacted_;
  }
  // redact() of the raw key alone, computed on first use for the same reason.
  const std::string &redacted_key() const {
    std::call_once(redacted_key_once_, [&] { redacted_key_ = ma::redact(value.raw_key()); });
    return redacted_key_;
  }

 private:
  mutable std::once_flag redacted_once_;
  mutable std::string redacted_;
  mutable std::once_flag redacted_key_once_;
  mutable std::string redacted_key_;
};

struct momento_expires_in {
  ma::ExpiresIn value;
};

struct momento_scope {
  int32_t predefined = 0;  // 0 = explicit entries, else MOMENTO_SCOPE_*
  std::vector<ma::Permission> entries;
  ma::PermissionScope to_core() const;
};

struct momento_client_config {
  ma::ClientConfig value;
  // Whether set_deadline_ms was called: the data client then uses that deadline for every call
  // instead of its own per-plane defaults.
  bool deadline_set = false;
};

struct momento_token_json {
  ma::TokenJson value;
};

// One handle for "a key with its refresh token and expiry", whether the service returned it or
// a store held it: core's Token, kept as is (a store read or write converts nothing).
struct momento_token {
  ma::Token value;
  explicit momento_token(ma::Token t) : value(std::move(t)) {}
  // Token::base_endpoint(), worked out once: a key read from a store is parsed for its
  // endpoint only when asked, and the string lives as long as the handle.
  const std::string &endpoint() const {
    std::call_once(endpoint_once_, [&] { endpoint_ = value.base_endpoint(); });
    return endpoint_;
  }

 private:
  mutable std::once_flag endpoint_once_;
  mutable std::string endpoint_;
};

struct momento_auth_client {
  momento_credential credential;  // what momento_auth_client_credential() lends out
  ma::AuthClient client;
  momento_auth_client(const ma::Credential &c, ma::ClientConfig cfg)
      : credential(c), client(credential.value, std::move(cfg)) {}
};

struct momento_data_client {
  momento_credential credential;  // what momento_data_client_credential() lends out
  ma::DataClient client;
  momento_data_client(const ma::Credential &c, ma::DataClientConfig cfg)
      : credential(c), client(credential.value, std::move(cfg)) {}
};

struct momento_cancel_token {
  ma::CancelToken value;
};

namespace momento_capi {
// Outcomes of queued calls and subscriptions, waiting for their owner's event loop. One byte goes
// to the caller's end of a socket pair each time the queue goes from empty to not empty, so a
// loop that watches that end wakes once per batch; outcomes nobody popped are freed with the
// queue. An outcome is an owned object of the type its call names (or nullptr) or an error.
class CompletionQueue {
 public:
  using Free = void (*)(void *);
  explicit CompletionQueue(int write_fd) : write_fd_(write_fd) {}
  CompletionQueue(const CompletionQueue &) = delete;
  CompletionQueue &operator=(const CompletionQueue &) = delete;
  ~CompletionQueue();
  void push(uint64_t id, void *value, Free free, momento_error_t *error) noexcept;
  bool pop(uint64_t *id, void **value, momento_error_t **error) noexcept;

 private:
  struct Item {
    uint64_t id;
    void *value;
    Free free;
    momento_error_t *error;
    void release() const noexcept;
  };
  std::mutex mu_;
  std::deque<Item> items_;
  int write_fd_;
};

// How a queue frees an owned T nobody popped (the T's own momento_*_free).
template <class T>
void delete_as(void *p) {
  delete static_cast<T *>(p);
}

// The result of a queued job: an owned object and how to free it, or nothing.
struct Outcome {
  void *value = nullptr;
  CompletionQueue::Free free = nullptr;
  template <class T>
  static Outcome of(std::unique_ptr<T> p) {
    return {p.release(), &delete_as<T>};
  }
};
}  // namespace momento_capi

// Shared with the calls in flight, which deliver into it after the handle is freed.
struct momento_completion_queue {
  std::shared_ptr<momento_capi::CompletionQueue> value;
};

namespace momento_capi {
// Runs `job` (returning an Outcome) on a new library thread and queues what it returns, or the
// error it throws, under `id`; `what` names the entry point in errors and the log. Throws (so
// the caller's guard reports it and nothing is queued) when the thread cannot start.
void run_queued(momento_completion_queue_t *queue, uint64_t id, const char *what,
                std::function<Outcome()> job);
// Removes the log sink that queues into `queue` (momento_log_set_queue()), if it is the one
// installed: a freed queue's reader is gone.
void forget_log_queue(const CompletionQueue *queue) noexcept;
}  // namespace momento_capi

struct momento_string_list {
  std::vector<std::string> items;
};

namespace momento_capi {

// ---- status / error translation -------------------------------------------------------------

inline momento_status_t status_of(ma::ErrorCode code) noexcept {
  // ErrorCode enumerators are declared in the order of the MOMENTO_ERR_* values.
  return -(static_cast<momento_status_t>(code) + 1);
}

// Thrown by the shim's own checks; converted like ma::Error.
[[noreturn]] inline void invalid(std::string message) {
  throw ma::Error(ma::ErrorCode::InvalidArgument, std::move(message));
}

// Fills *err (when err is non-NULL) and returns the status. Never throws.
momento_status_t fail(momento_error_t **err, momento_status_t status, std::string_view message,
                      int32_t grpc_status = -1) noexcept;

void log(int32_t level, std::string_view message) noexcept;
bool log_enabled(int32_t level) noexcept;
// Sends gRPC's process-wide logging through log() instead of stderr (idempotent).
void route_grpc_logs() noexcept;

// Runs `body`, translating every exception into a status and an error object. `what` names
// the entry point in the log.
template <class F>
momento_status_t guard(momento_error_t **err, const char *what, F &&body) noexcept {
  try {
    body();
    return MOMENTO_OK;
  } catch (const ma::Error &e) {
    momento_status_t st = status_of(e.code());
    if (log_enabled(MOMENTO_LOG_DEBUG)) {
      try {
        log(MOMENTO_LOG_DEBUG, std::string(what) + " failed: " + momento_status_str(st) + ": " +
                                   e.what());
      } catch (...) {
      }
    }
    return fail(err, st, e.what(), e.grpc_status());
  } catch (const std::bad_alloc &) {
    return fail(err, MOMENTO_ERR_CLIENT_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::exception &) {
    // Foreign exception texts (JSON parser, standard library) may quote their input, which can
    // be a secret, so only the entry point is reported.
    log(MOMENTO_LOG_ERROR, std::string(what) + ": unexpected internal exception");
    return fail(err, MOMENTO_ERR_UNKNOWN, std::string("internal error in ") + what);
  } catch (...) {
    return fail(err, MOMENTO_ERR_UNKNOWN, std::string("internal error in ") + what);
  }
}

// ---- argument checks (all throw InvalidArgument naming the parameter) -----------------------

// A required string: non-NULL, valid UTF-8. Empty allowed unless `non_empty`.
std::string_view need_str(const char *s, const char *name, bool non_empty = false);
// A required string that core checks itself (length, UTF-8, naming it in the error): only
// NULL is refused here, so a parse does not scan its input twice.
inline std::string_view need_cstr(const char *s, const char *name) {
  if (s == nullptr) invalid(std::string(name) + " must not be NULL");
  return s;
}
// An optional string: NULL gives nullopt; otherwise like need_str with non_empty = true.
std::optional<std::string_view> opt_str(const char *s, const char *name);
// Bytes as a pointer and a length. NULL is accepted only with length 0.
inline std::string_view need_bytes(const void *p, size_t len, const char *name) {
  if (p == nullptr && len != 0) invalid(std::string(name) + " must not be NULL");
  if (p == nullptr) return {};
  return std::string_view(static_cast<const char *>(p), len);
}

inline void need_out(const void *out, const char *name) {
  if (out == nullptr) invalid(std::string(name) + " (out-parameter) must not be NULL");
}
template <class T>
void need_handle(const T *h, const char *name) {
  if (h == nullptr) invalid(std::string(name) + " must not be NULL");
}
inline void need_range(int32_t v, int32_t lo, int32_t hi, const char *name) {
  if (v < lo || v > hi) invalid(std::string("unknown ") + name + " value " + std::to_string(v));
}
inline bool need_bool(int32_t v, const char *name) {
  if (v != 0 && v != 1) invalid(std::string(name) + " must be 0 or 1, got " + std::to_string(v));
  return v == 1;
}

// A malloc'ed copy for char ** out-parameters (released by momento_free, which wipes it).
char *owned_copy(std::string_view s);

}  // namespace momento_capi
