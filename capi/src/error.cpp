// Error objects, status names, owned strings, versions and the log callback.
#include <fcntl.h>
#include <grpc/support/log.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "internal.hpp"
#include "util/encoding.hpp"
#include "momento/auth/display.hpp"
#include "momento/auth/secret.hpp"
#include "momento/auth/version.hpp"

// One message of the library's log, queued by momento_log_set_queue().
struct momento_log_record {
  int32_t level;
  std::string message;
};

namespace momento_capi {
namespace {

// Handed out when an error object cannot be allocated; momento_error_free ignores it.
momento_error oom_error{MOMENTO_ERR_CLIENT_RESOURCE_EXHAUSTED, {}, -1, 0};

}  // namespace

momento_status_t fail(momento_error_t **err, momento_status_t status, std::string_view message,
                      int32_t grpc_status) noexcept {
  if (err == nullptr) return status;
  try {
    int32_t retryable = 0;
    if (status < 0 && status >= MOMENTO_ERR_UNKNOWN)
      retryable = ma::error_code_retryable(static_cast<ma::ErrorCode>(-status - 1)) ? 1 : 0;
    *err = new momento_error{status, std::string(message), grpc_status, retryable};
  } catch (...) {
    *err = &oom_error;
  }
  return status;
}

std::string_view need_str(const char *s, const char *name, bool non_empty) {
  if (s == nullptr) invalid(std::string(name) + " must not be NULL");
  std::string_view v(s);
  if (!ma::detail::is_valid_utf8(v)) invalid(std::string(name) + " is not valid UTF-8");
  if (non_empty && v.empty()) invalid(std::string(name) + " must not be empty");
  return v;
}

std::optional<std::string_view> opt_str(const char *s, const char *name) {
  if (s == nullptr) return std::nullopt;
  return need_str(s, name, true);
}

char *owned_copy(std::string_view s) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

// ---- logging ---------------------------------------------------------------------------------
namespace {

struct Sink {
  momento_log_fn fn;
  void *user_data;
  momento_destroy_fn destroy;
  int32_t min_level;
  int in_flight = 0;  // guarded by LogState::mu
  // momento_log_set_queue(): records go into this queue under `id` instead of to `fn`.
  std::shared_ptr<CompletionQueue> queue = nullptr;
  uint64_t id = 0;
};

// MOMENTO_AUTH_DEBUG_LOG=stderr or =<file>: with no callback installed, every message at DEBUG and
// above goes there, one line per message with the process id (a file is appended to, so several
// processes can share one). Read once, at the first message or callback change.
constexpr const char *kDebugLogVariable = "MOMENTO_AUTH_DEBUG_LOG";

void write_debug_line(int32_t level, const char *message, void *fd) {
  const char *name = momento_log_level_str(level);
  std::string line = "momento-auth[" + std::to_string(::getpid()) + "] " + (name ? name : "debug") +
                     " " + message + "\n";
  // One write per line: appends from several threads or processes do not interleave.
  ssize_t n = ::write(static_cast<int>(reinterpret_cast<intptr_t>(fd)), line.data(), line.size());
  (void)n;
}

std::shared_ptr<Sink> debug_log_from_environment() {
  const char *target = std::getenv(kDebugLogVariable);
  if (target == nullptr || *target == '\0') return nullptr;
  int fd = std::strcmp(target, "stderr") == 0
               ? STDERR_FILENO
               : ::open(target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;  // nowhere to report it: the library never prints uninvited
  return std::make_shared<Sink>(
      Sink{write_debug_line, reinterpret_cast<void *>(static_cast<intptr_t>(fd)), nullptr, MOMENTO_LOG_DEBUG});
}

struct LogState {
  std::mutex mu;
  std::condition_variable idle;
  std::shared_ptr<Sink> fallback = debug_log_from_environment();  // used while no callback is set
  std::shared_ptr<Sink> sink = fallback;
  // Fast path: the lowest level anybody listens to, or INT32_MAX when nobody does.
  std::atomic<int32_t> threshold{fallback ? MOMENTO_LOG_DEBUG : INT32_MAX};
};

LogState &log_state() {
  static LogState *state = new LogState;  // never destroyed: logging may run during exit
  return *state;
}

thread_local bool in_log_callback = false;

}  // namespace

bool log_enabled(int32_t level) noexcept {
  return level >= log_state().threshold.load(std::memory_order_relaxed);
}

void log(int32_t level, std::string_view message) noexcept {
  if (!log_enabled(level) || in_log_callback) return;
  LogState &st = log_state();
  std::shared_ptr<Sink> sink;
  {
    std::lock_guard lock(st.mu);
    if (!st.sink || level < st.sink->min_level) return;
    sink = st.sink;
    ++sink->in_flight;
  }
  try {
    std::string text(message);
    in_log_callback = true;
    if (sink->queue)
      sink->queue->push(sink->id, new momento_log_record{level, std::move(text)},
                        &delete_as<momento_log_record>, nullptr);
    else
      sink->fn(level, text.c_str(), sink->user_data);
  } catch (...) {
    // A callback must not throw; if a C++ one does, the exception stops here.
  }
  in_log_callback = false;
  {
    std::lock_guard lock(st.mu);
    --sink->in_flight;
  }
  st.idle.notify_all();
}

namespace {

// Makes `fresh` (nullptr: the fallback) the sink, waits until the old one is no longer running and
// returns it. Refused from inside a log callback, whose sink may be the one waited for.
std::shared_ptr<Sink> install(std::shared_ptr<Sink> fresh, const char *what) {
  if (in_log_callback)
    throw ma::Error(ma::ErrorCode::FailedPrecondition,
                    std::string(what) + " cannot be called from inside a log callback");
  LogState &ls = log_state();
  if (!fresh) fresh = ls.fallback;
  std::unique_lock lock(ls.mu);
  std::shared_ptr<Sink> old = std::exchange(ls.sink, fresh);
  ls.threshold.store(fresh ? fresh->min_level : INT32_MAX, std::memory_order_relaxed);
  if (old) ls.idle.wait(lock, [&] { return old->in_flight == 0; });
  return old;
}

}  // namespace

void forget_log_queue(const CompletionQueue *queue) noexcept {
  LogState &ls = log_state();
  std::shared_ptr<Sink> old;  // released after the lock: it may hold the queue's last reference
  std::lock_guard lock(ls.mu);
  if (!ls.sink || ls.sink->queue.get() != queue) return;
  old = std::exchange(ls.sink, ls.fallback);
  ls.threshold.store(ls.sink ? ls.sink->min_level : INT32_MAX, std::memory_order_relaxed);
}

namespace {

// gRPC's own messages (e.g. a failed TLS handshake) go to the log callback, not to stderr.
void forward_grpc_log(gpr_log_func_args *args) {
  int32_t level = args->severity == GPR_LOG_SEVERITY_ERROR  ? MOMENTO_LOG_ERROR
                  : args->severity == GPR_LOG_SEVERITY_INFO ? MOMENTO_LOG_INFO
                                                            : MOMENTO_LOG_DEBUG;
  if (!log_enabled(level)) return;
  try {
    log(level, std::string("grpc: ") + (args->message ? args->message : ""));
  } catch (...) {
  }
}

}  // namespace

void route_grpc_logs() noexcept {
  static std::atomic<bool> done{false};
  if (!done.exchange(true)) gpr_set_log_function(forward_grpc_log);
}

}  // namespace momento_capi

using namespace momento_capi;

extern "C" {

const char *momento_status_str(momento_status_t status) {
  if (status == MOMENTO_OK) return "OK";
  if (status < 0 && status >= MOMENTO_ERR_UNKNOWN)
    return ma::error_code_name(static_cast<ma::ErrorCode>(-status - 1));
  return "UNRECOGNIZED_STATUS";
}

momento_status_t momento_error_code(const momento_error_t *error) {
  return error ? error->code : MOMENTO_ERR_INVALID_ARGUMENT;
}

const char *momento_error_message(const momento_error_t *error) {
  if (error == nullptr) return "";
  if (error == &oom_error) return "out of memory";
  return error->message.c_str();
}

int32_t momento_error_grpc_status(const momento_error_t *error) {
  return error ? error->grpc_status : -1;
}

int32_t momento_error_retryable(const momento_error_t *error) {
  return error ? error->retryable : 0;
}

void momento_error_free(momento_error_t *error) {
  if (error == nullptr || error == &oom_error) return;
  delete error;
}

void momento_free(char *str) {
  if (str == nullptr) return;
  ma::wipe(str, std::strlen(str));
  std::free(str);
}

void momento_wipe(void *data, size_t size) { ma::wipe(data, size); }

momento_status_t momento_redact(char **out, const char *secret, momento_error_t **err) {
  return guard(err, "momento_redact", [&] {
    need_out(out, "out");
    *out = owned_copy(ma::redact(need_str(secret, "secret")));
  });
}

momento_status_t momento_redact_key(char **out, const char *key, momento_error_t **err) {
  return guard(err, "momento_redact_key", [&] {
    need_out(out, "out");
    *out = owned_copy(ma::redacted_key(need_str(key, "key")));
  });
}

momento_status_t momento_printable(char **out, const char *text, size_t text_len,
                                   size_t max_bytes, momento_error_t **err) {
  return guard(err, "momento_printable", [&] {
    need_out(out, "out");
    *out = owned_copy(ma::printable(need_bytes(text, text_len, "text"), max_bytes));
  });
}

const char *momento_version_string(void) { return ma::library_version(); }

uint32_t momento_version_number(void) {
  return MOMENTO_AUTH_VERSION_MAJOR * 10000u + MOMENTO_AUTH_VERSION_MINOR * 100u +
         MOMENTO_AUTH_VERSION_PATCH;
}

uint32_t momento_abi_version(void) { return MOMENTO_AUTH_ABI_VERSION; }

namespace {
constexpr const char *kLogLevelNames[] = {"debug", "info", "warn", "error"};  // by MOMENTO_LOG_*
}

const char *momento_log_level_str(int32_t level) {
  return level >= MOMENTO_LOG_DEBUG && level <= MOMENTO_LOG_ERROR ? kLogLevelNames[level] : nullptr;
}

int32_t momento_log_level_from_str(const char *name) {
  if (name == nullptr) return -1;
  for (int32_t level = MOMENTO_LOG_DEBUG; level <= MOMENTO_LOG_ERROR; ++level)
    if (std::strcmp(name, kLogLevelNames[level]) == 0) return level;
  return -1;
}

momento_status_t momento_log_set_callback(int32_t min_level, momento_log_fn fn, void *user_data,
                                          momento_destroy_fn destroy, momento_error_t **err) {
  std::shared_ptr<Sink> old;
  momento_status_t st = guard(err, "momento_log_set_callback", [&] {
    need_range(min_level, MOMENTO_LOG_DEBUG, MOMENTO_LOG_ERROR, "log level");
    if (fn == nullptr && (user_data != nullptr || destroy != nullptr))
      invalid("user_data and destroy must be NULL when fn is NULL");
    std::shared_ptr<Sink> fresh;
    if (fn != nullptr) fresh = std::make_shared<Sink>(Sink{fn, user_data, destroy, min_level});
    old = install(std::move(fresh), "momento_log_set_callback");
  });
  if (st == MOMENTO_OK && old && old->destroy) old->destroy(old->user_data);
  return st;
}

momento_status_t momento_log_set_queue(int32_t min_level, momento_completion_queue_t *queue,
                                       uint64_t id, momento_error_t **err) {
  std::shared_ptr<Sink> old;
  momento_status_t st = guard(err, "momento_log_set_queue", [&] {
    need_range(min_level, MOMENTO_LOG_DEBUG, MOMENTO_LOG_ERROR, "log level");
    need_handle(queue, "queue");
    auto fresh = std::make_shared<Sink>(Sink{nullptr, nullptr, nullptr, min_level});
    fresh->queue = queue->value;
    fresh->id = id;
    old = install(std::move(fresh), "momento_log_set_queue");
  });
  if (st == MOMENTO_OK && old && old->destroy) old->destroy(old->user_data);
  return st;
}

int32_t momento_log_record_level(const momento_log_record_t *record) {
  return record ? record->level : MOMENTO_LOG_DEBUG;
}

const char *momento_log_record_message(const momento_log_record_t *record) {
  return record ? record->message.c_str() : "";
}

void momento_log_record_free(momento_log_record_t *record) { delete record; }

}  // extern "C"
