// Client configuration, the auth client and the tokens it returns.
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "internal.hpp"
#include "momento/auth/secret.hpp"

using namespace momento_capi;

namespace {

void log_ok(const char *what, const ma::Token &token) {
  if (log_enabled(MOMENTO_LOG_DEBUG))
    log(MOMENTO_LOG_DEBUG, std::string(what) + ": ok, key " + ma::redact(token.api_key.reveal()) +
                               ", valid until " + std::to_string(token.valid_until.epoch()));
}

void log_failed(const char *what, momento_status_t st) {
  if (log_enabled(MOMENTO_LOG_WARN))
    log(MOMENTO_LOG_WARN, std::string(what) + " failed: " + momento_status_str(st));
}

// Runs one RPC, wraps the result and reports it through the log callback.
momento_status_t call(momento_token_t **out, momento_auth_client_t *client, momento_error_t **err,
                      const char *what, auto &&rpc) {
  momento_status_t st = guard(err, what, [&] {
    need_out(out, "out");
    need_handle(client, "client");
    auto token = std::make_unique<momento_token>(rpc());
    log_ok(what, token->value);
    *out = token.release();
  });
  if (st != MOMENTO_OK) log_failed(what, st);
  return st;
}

// Hands an asynchronous call's outcome to `sink` as an owned token or error, logged as call()
// logs a blocking one.
ma::TokenCompletion deliver(const char *what, auto sink) {
  return [what, sink = std::move(sink)](ma::Token *token, const ma::Error *error) {
    momento_token_t *t = nullptr;
    momento_error_t *e = nullptr;
    momento_status_t st = guard(&e, what, [&] {
      if (error) throw *error;  // translated by guard like a blocking call's failure
      t = new momento_token(std::move(*token));
      log_ok(what, t->value);
    });
    if (st != MOMENTO_OK) log_failed(what, st);
    sink(t, e);
  };
}

ma::TokenCompletion deliver(momento_token_fn fn, void *user_data, const char *what) {
  return deliver(what, [fn, user_data](momento_token_t *t, momento_error_t *e) { fn(t, e, user_data); });
}

// Checks the arguments common to the asynchronous calls and starts one.
momento_status_t start(momento_auth_client_t *client, momento_cancel_token_t *cancel,
                       momento_token_fn fn, void *user_data, momento_error_t **err,
                       const char *what, auto &&begin) {
  return guard(err, what, [&] {
    need_handle(client, "client");
    if (fn == nullptr) invalid("fn must not be NULL");
    begin(cancel ? &cancel->value : nullptr, deliver(fn, user_data, what));
  });
}

// The same for a call whose outcome goes into a completion queue under `id`.
momento_status_t start(momento_auth_client_t *client, momento_cancel_token_t *cancel,
                       momento_completion_queue_t *queue, uint64_t id, momento_error_t **err,
                       const char *what, auto &&begin) {
  return guard(err, what, [&] {
    need_handle(client, "client");
    need_handle(queue, "queue");
    begin(cancel ? &cancel->value : nullptr,
          deliver(what, [q = queue->value, id](momento_token_t *t, momento_error_t *e) {
            q->push(id, t, &delete_as<momento_token>, e);
          }));
  });
}

// The scope of a new key or token; core checks it with the lifetime (and the token_id) before
// any call starts, blocking or not.
ma::PermissionScope scope_arg(const momento_scope_t *scope,
                              const momento_expires_in_t *expires_in) {
  need_handle(scope, "scope");
  need_handle(expires_in, "expires_in");
  return scope->to_core();
}

std::string_view token_id_arg(const char *token_id) {
  return token_id ? need_str(token_id, "token_id", true) : std::string_view{};
}

// How each asynchronous RPC starts, shared by its *_async and *_queued forms.
auto begin_generate(momento_auth_client_t *client, const momento_scope_t *scope,
                    const momento_expires_in_t *expires_in) {
  return [=](ma::CancelToken *c, ma::TokenCompletion done) {
    client->client.generate_api_key_async(scope_arg(scope, expires_in), expires_in->value, c,
                                          std::move(done));
  };
}

auto begin_refresh(momento_auth_client_t *client, const char *refresh_token) {
  return [=](ma::CancelToken *c, ma::TokenCompletion done) {
    client->client.refresh_api_key_async(need_str(refresh_token, "refresh_token", true), c,
                                         std::move(done));
  };
}

auto begin_disposable(momento_auth_client_t *client, const momento_scope_t *scope,
                      const momento_expires_in_t *expires_in, const char *token_id) {
  return [=](ma::CancelToken *c, ma::TokenCompletion done) {
    ma::PermissionScope s = scope_arg(scope, expires_in);
    client->client.generate_disposable_token_async(s, expires_in->value, token_id_arg(token_id),
                                                   c, std::move(done));
  };
}

}  // namespace

namespace momento_capi {

void CompletionQueue::Item::release() const noexcept {
  if (value) free(value);
  momento_error_free(error);
}

CompletionQueue::~CompletionQueue() {
  for (const Item &item : items_) item.release();
  if (write_fd_ >= 0) ::close(write_fd_);
}

void CompletionQueue::push(uint64_t id, void *value, Free free, momento_error_t *error) noexcept {
  const Item item{id, value, free, error};
  try {
    std::lock_guard lock(mu_);
    if (write_fd_ < 0) {  // the reader is gone: nobody will pop
      item.release();
      return;
    }
    const bool wake = items_.empty();
    items_.push_back(item);
    // A full buffer already holds a wake-up. A reader that has closed its end (a Node worker
    // that ended) will never pop: the socket is closed (no SIGPIPE) and the outcomes freed.
    const char byte = 1;
    if (wake && ::send(write_fd_, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN &&
        errno != EWOULDBLOCK && errno != EINTR) {
      ::close(write_fd_);
      write_fd_ = -1;
      for (const Item &i : items_) i.release();
      items_.clear();
    }
  } catch (...) {  // no memory: the outcome is lost, like a callback that cannot run
    item.release();
  }
}

bool CompletionQueue::pop(uint64_t *id, void **value, momento_error_t **error) noexcept {
  std::lock_guard lock(mu_);
  if (items_.empty()) return false;
  const Item &item = items_.front();
  *id = item.id;
  *value = item.value;
  *error = item.error;
  items_.pop_front();
  return true;
}

namespace {

// The queued jobs' threads are detached, so the process's exit would run static destructors
// under them: exit waits (up to kExitWait) until they have ended, and refuses new ones.
constexpr auto kExitWait = std::chrono::seconds(2);

struct Jobs {
  std::mutex mu;
  std::condition_variable ended;
  int running = 0;
  bool exiting = false;
};

// Never destroyed: a job that outlasts the wait still ends here. A forked child has none of the
// parent's job threads, and its copy of the mutex may be held by one of them: it starts afresh.
std::atomic<Jobs *> current_jobs{nullptr};

Jobs &jobs() {
  static const bool installed = [] {
    current_jobs = new Jobs;
    std::atexit([] {
      Jobs &js = *current_jobs;
      std::unique_lock lock(js.mu);
      js.exiting = true;
      js.ended.wait_for(lock, kExitWait, [&] { return js.running == 0; });
    });
    ::pthread_atfork(nullptr, nullptr, [] { current_jobs = new Jobs; });
    return true;
  }();
  (void)installed;
  return *current_jobs;
}

}  // namespace

void run_queued(momento_completion_queue_t *queue, uint64_t id, const char *what,
                std::function<Outcome()> job) {
  need_handle(queue, "queue");
  Jobs &js = jobs();
  {
    std::lock_guard lock(js.mu);
    if (js.exiting)
      throw ma::Error(ma::ErrorCode::FailedPrecondition,
                      std::string(what) + " cannot start: the process is exiting");
    ++js.running;
  }
  const auto finished = [&js] {
    {
      std::lock_guard lock(js.mu);
      --js.running;
    }
    js.ended.notify_all();
  };
  // One thread per call: these calls are rare (store reads and writes, stopping threads) and
  // may block for seconds, so they must not hold up one another or the RPCs' completions.
  try {
    std::thread([q = queue->value, id, what, job = std::move(job), finished]() mutable {
      Outcome out;
      momento_error_t *e = nullptr;
      if (guard(&e, what, [&] { out = job(); }) != MOMENTO_OK) out = {};
      job = nullptr;  // what the job held (maybe a refresher's last reference) goes first
      q->push(id, out.value, out.free, e);
      q.reset();
      finished();
    }).detach();
  } catch (...) {
    finished();
    throw;
  }
}

}  // namespace momento_capi

extern "C" {

momento_status_t momento_client_config_new(momento_client_config_t **out, momento_error_t **err) {
  return guard(err, "momento_client_config_new", [&] {
    need_out(out, "out");
    *out = new momento_client_config{};
  });
}

void momento_client_config_free(momento_client_config_t *config) { delete config; }

momento_status_t momento_client_config_set_deadline_ms(momento_client_config_t *config,
                                                       int64_t deadline_ms,
                                                       momento_error_t **err) {
  return guard(err, "momento_client_config_set_deadline_ms", [&] {
    need_handle(config, "config");
    ma::check_deadline(std::chrono::milliseconds(deadline_ms), "deadline_ms");
    config->value.deadline = std::chrono::milliseconds(deadline_ms);
    config->deadline_set = true;
  });
}

int64_t momento_client_config_deadline_ms(const momento_client_config_t *config) {
  return (config != nullptr ? config->value : ma::ClientConfig{}).deadline.count();
}

momento_status_t momento_client_config_set_ca_file(momento_client_config_t *config,
                                                   const char *path, momento_error_t **err) {
  return guard(err, "momento_client_config_set_ca_file", [&] {
    need_handle(config, "config");
    std::string p(opt_str(path, "path").value_or(""));
    ma::check_ca_file(p);
    config->value.ca_file = std::move(p);
  });
}

momento_status_t momento_client_config_set_max_message_bytes(momento_client_config_t *config,
                                                             int32_t max_bytes,
                                                             momento_error_t **err) {
  return guard(err, "momento_client_config_set_max_message_bytes", [&] {
    need_handle(config, "config");
    ma::check_max_message_bytes(max_bytes, "max_bytes");
    config->value.max_message_bytes = max_bytes;
  });
}

momento_status_t momento_auth_client_new(momento_auth_client_t **out,
                                         const momento_credential_t *credential,
                                         const momento_client_config_t *config,
                                         momento_error_t **err) {
  return guard(err, "momento_auth_client_new", [&] {
    need_out(out, "out");
    need_handle(credential, "credential");
    route_grpc_logs();
    ma::ClientConfig cfg = config ? config->value : ma::ClientConfig{};
    auto client = std::make_unique<momento_auth_client>(credential->value, std::move(cfg));
    if (log_enabled(MOMENTO_LOG_INFO))
      log(MOMENTO_LOG_INFO, "auth client created for " + client->credential.redacted());
    *out = client.release();
  });
}

void momento_auth_client_free(momento_auth_client_t *client) { delete client; }

const momento_credential_t *momento_auth_client_credential(const momento_auth_client_t *client) {
  return client ? &client->credential : nullptr;
}

momento_status_t momento_auth_client_generate_api_key(momento_token_t **out,
                                                      momento_auth_client_t *client,
                                                      const momento_scope_t *scope,
                                                      const momento_expires_in_t *expires_in,
                                                      momento_error_t **err) {
  return call(out, client, err, "momento_auth_client_generate_api_key", [&] {
    return client->client.generate_api_key(scope_arg(scope, expires_in), expires_in->value);
  });
}

momento_status_t momento_auth_client_refresh_api_key(momento_token_t **out,
                                                     momento_auth_client_t *client,
                                                     const char *refresh_token,
                                                     momento_error_t **err) {
  return call(out, client, err, "momento_auth_client_refresh_api_key", [&] {
    return client->client.refresh_api_key(need_str(refresh_token, "refresh_token", true));
  });
}

momento_status_t momento_auth_client_generate_disposable_token(
    momento_token_t **out, momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, const char *token_id, momento_error_t **err) {
  return call(out, client, err, "momento_auth_client_generate_disposable_token", [&] {
    ma::PermissionScope s = scope_arg(scope, expires_in);
    return client->client.generate_disposable_token(s, expires_in->value, token_id_arg(token_id));
  });
}

momento_status_t momento_auth_client_generate_api_key_async(
    momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, momento_cancel_token_t *cancel, momento_token_fn fn,
    void *user_data, momento_error_t **err) {
  return start(client, cancel, fn, user_data, err, "momento_auth_client_generate_api_key_async",
               begin_generate(client, scope, expires_in));
}

momento_status_t momento_auth_client_refresh_api_key_async(momento_auth_client_t *client,
                                                           const char *refresh_token,
                                                           momento_cancel_token_t *cancel,
                                                           momento_token_fn fn, void *user_data,
                                                           momento_error_t **err) {
  return start(client, cancel, fn, user_data, err, "momento_auth_client_refresh_api_key_async",
               begin_refresh(client, refresh_token));
}

momento_status_t momento_auth_client_generate_disposable_token_async(
    momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, const char *token_id, momento_cancel_token_t *cancel,
    momento_token_fn fn, void *user_data, momento_error_t **err) {
  return start(client, cancel, fn, user_data, err,
               "momento_auth_client_generate_disposable_token_async",
               begin_disposable(client, scope, expires_in, token_id));
}

momento_status_t momento_completion_queue_new(momento_completion_queue_t **out, int32_t *fd,
                                             momento_error_t **err) {
  return guard(err, "momento_completion_queue_new", [&] {
    need_out(out, "out");
    need_out(fd, "fd");
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
      throw ma::Error(ma::ErrorCode::ClientResourceExhausted,
                      std::string("cannot create the queue's socket pair: ") + std::strerror(errno));
    *out = new momento_completion_queue{std::make_shared<momento_capi::CompletionQueue>(fds[1])};
    *fd = fds[0];
  });
}

void momento_completion_queue_free(momento_completion_queue_t *queue) {
  if (queue == nullptr) return;
  momento_capi::forget_log_queue(queue->value.get());
  delete queue;
}

int32_t momento_completion_queue_pop(momento_completion_queue_t *queue, uint64_t *id,
                                     momento_token_t **token, momento_error_t **error) {
  void *value = nullptr;
  if (!token) return 0;
  const int32_t got = momento_completion_queue_pop_value(queue, id, &value, error);
  *token = static_cast<momento_token_t *>(value);
  return got;
}

int32_t momento_completion_queue_pop_value(momento_completion_queue_t *queue, uint64_t *id,
                                           void **value, momento_error_t **error) {
  if (!queue || !id || !value || !error) return 0;
  return queue->value->pop(id, value, error) ? 1 : 0;
}

momento_status_t momento_auth_client_generate_api_key_queued(
    momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, momento_cancel_token_t *cancel,
    momento_completion_queue_t *queue, uint64_t id, momento_error_t **err) {
  return start(client, cancel, queue, id, err, "momento_auth_client_generate_api_key_queued",
               begin_generate(client, scope, expires_in));
}

momento_status_t momento_auth_client_refresh_api_key_queued(momento_auth_client_t *client,
                                                            const char *refresh_token,
                                                            momento_cancel_token_t *cancel,
                                                            momento_completion_queue_t *queue,
                                                            uint64_t id, momento_error_t **err) {
  return start(client, cancel, queue, id, err, "momento_auth_client_refresh_api_key_queued",
               begin_refresh(client, refresh_token));
}

momento_status_t momento_auth_client_generate_disposable_token_queued(
    momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, const char *token_id, momento_cancel_token_t *cancel,
    momento_completion_queue_t *queue, uint64_t id, momento_error_t **err) {
  return start(client, cancel, queue, id, err,
               "momento_auth_client_generate_disposable_token_queued",
               begin_disposable(client, scope, expires_in, token_id));
}

const char *momento_token_api_key(const momento_token_t *token) {
  return token ? token->value.api_key.reveal().c_str() : "";
}

const char *momento_token_refresh_token(const momento_token_t *token) {
  return token ? token->value.refresh_token.reveal().c_str() : "";
}

const char *momento_token_endpoint(const momento_token_t *token) {
  return token ? token->endpoint().c_str() : "";
}

uint64_t momento_token_valid_until(const momento_token_t *token) {
  return token ? token->value.valid_until.epoch() : 0;
}

momento_status_t momento_token_to_json(char **out, const momento_token_t *token,
                                       momento_error_t **err) {
  return guard(err, "momento_token_to_json", [&] {
    need_out(out, "out");
    need_handle(token, "token");
    ma::Secret json(ma::token_file_json(token->value));  // wiped on scope exit
    *out = owned_copy(json.reveal());
  });
}

momento_status_t momento_token_write_file(const momento_token_t *token, const char *path,
                                          momento_error_t **err) {
  return guard(err, "momento_token_write_file", [&] {
    need_handle(token, "token");
    ma::write_token_file(std::string(need_str(path, "path", true)), token->value);
  });
}

momento_status_t momento_token_write_file_queued(const momento_token_t *token, const char *path,
                                                 momento_completion_queue_t *queue, uint64_t id,
                                                 momento_error_t **err) {
  return guard(err, "momento_token_write_file_queued", [&] {
    need_handle(token, "token");
    run_queued(queue, id, "momento_token_write_file_queued",
               [t = token->value, p = std::string(need_str(path, "path", true))] {
                 ma::write_token_file(p, t);
                 return Outcome{};
               });
  });
}

void momento_token_free(momento_token_t *token) { delete token; }

momento_status_t momento_token_new(momento_token_t **out, const char *api_key,
                                   const char *refresh_token, uint64_t valid_until,
                                   momento_error_t **err) {
  return guard(err, "momento_token_new", [&] {
    need_out(out, "out");
    ma::Token t;
    t.api_key = ma::Secret(std::string(need_str(api_key, "api_key", true)));
    t.refresh_token = ma::Secret(std::string(need_str(refresh_token, "refresh_token")));
    t.valid_until = ma::ExpiresAt::from_epoch(valid_until);
    *out = new momento_token(std::move(t));
  });
}

momento_status_t momento_token_json_parse(momento_token_json_t **json, momento_token_t **token,
                                          const char *text, momento_error_t **err) {
  return guard(err, "momento_token_json_parse", [&] {
    need_out(json, "json");
    need_out(token, "token");
    auto shape = std::make_unique<momento_token_json>();
    auto parsed = std::make_unique<momento_token>(
        ma::parse_token_file_json(need_cstr(text, "text"), &shape->value));
    *json = shape.release();
    *token = parsed.release();
  });
}

momento_status_t momento_token_json_render(char **out, const momento_token_json_t *json,
                                           const momento_token_t *token, momento_error_t **err) {
  return guard(err, "momento_token_json_render", [&] {
    need_out(out, "out");
    need_handle(json, "json");
    need_handle(token, "token");
    ma::Secret text(ma::token_file_json(token->value, json->value));  // wiped on scope exit
    *out = owned_copy(text.reveal());
  });
}

void momento_token_json_free(momento_token_json_t *json) { delete json; }

}  // extern "C"
