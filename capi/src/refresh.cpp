// Token stores, the refresher and the watcher, with callbacks delivered on library threads.
#include <algorithm>
#include <functional>
#include <future>
#include <memory>

#include "internal.hpp"
#include "momento/auth/aws.hpp"
#include "momento/auth/refresher.hpp"
#include "momento/auth/store.hpp"
#include "momento/auth/watcher.hpp"

using namespace momento_capi;

struct momento_store_options {
  ma::StoreOptions value;
};

struct momento_store {
  std::shared_ptr<ma::TokenStore> store;
  std::string description;
  ma::StoreSpec spec;
};

struct momento_refresher_options {
  ma::RefreshPolicyBuilder value;
};

struct momento_refresh_event {
  int32_t kind = 0;
  momento_status_t error_code = MOMENTO_OK;
  std::string error_message;
  uint64_t valid_until = 0;
  std::string key;
  std::string fingerprint;
  std::string store;
  int32_t consecutive_failures = 0;
  int64_t next_attempt_ms = 0;
  int32_t replay = 0;
  int32_t retryable = 0;
};

struct momento_watched_key {
  std::shared_ptr<const ma::WatchedKey> key;
  momento_credential credential;
  explicit momento_watched_key(std::shared_ptr<const ma::WatchedKey> k)
      : key(std::move(k)), credential(key->credential) {}
};

namespace {

std::unique_ptr<momento_refresh_event> convert(const ma::RefreshEvent &e) {
  auto out = std::make_unique<momento_refresh_event>();
  switch (e.kind) {
    case ma::RefreshEventKind::Refreshed: out->kind = MOMENTO_REFRESH_REFRESHED; break;
    case ma::RefreshEventKind::Adopted: out->kind = MOMENTO_REFRESH_ADOPTED; break;
    case ma::RefreshEventKind::Failed: out->kind = MOMENTO_REFRESH_FAILED; break;
  }
  if (e.kind == ma::RefreshEventKind::Failed) {
    out->error_code = status_of(e.error_code);
    out->error_message = e.error_message;
    out->consecutive_failures = e.consecutive_failures;
    out->retryable = e.retryable ? 1 : 0;
    if (e.next_attempt)
      out->next_attempt_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 e.next_attempt->time_since_epoch())
                                 .count();
  }
  out->replay = e.replay ? 1 : 0;
  out->valid_until = e.valid_until.epoch();
  out->key = e.key;
  out->fingerprint = e.key_fingerprint;
  out->store = e.store;
  return out;
}

// The C destroy notifier as core's `removed` callback.
std::function<void()> removed_fn(momento_destroy_fn destroy, void *user_data) {
  if (!destroy) return nullptr;
  return [destroy, user_data] { destroy(user_data); };
}

// Options in effect: the ones set, defaults for NULL.
const ma::RefreshPolicy &policy_of(const momento_refresher_options_t *options) {
  static const ma::RefreshPolicy defaults{};
  return options ? options->value.values() : defaults;
}

}  // namespace

// Shared with the queued calls in flight on them, which keep the object until they end.
struct momento_refresher {
  std::shared_ptr<ma::Refresher> refresher;
};

struct momento_watcher {
  std::shared_ptr<ma::Watcher> watcher;
};

namespace {

// The store's key, shared by the blocking and the queued load.
std::unique_ptr<momento_token> load_token(const momento_store &store) {
  std::optional<ma::StoreSnapshot> t = store.store->load();
  if (!t) throw ma::Error(ma::ErrorCode::NotFound, "store " + store.description + " holds no key");
  return std::make_unique<momento_token>(std::move(t->token));
}

void save_token(const momento_store &store, const ma::Token &token) {
  if (!store.store->writable())
    throw ma::Error(ma::ErrorCode::FailedPrecondition, "store " + store.description + " is read-only");
  store.store->store(token);
}

// A copy of the store handle for a queued call (the caller may free its handle meanwhile).
ma::WatcherOptions watcher_options(int64_t period_ms, const momento_endpoint_override_t *override_) {
  ma::WatcherOptions o;
  o.period = std::chrono::milliseconds(period_ms);
  if (override_) o.endpoint = override_->value;
  return o;
}

std::unique_ptr<momento_watcher> make_watcher(const std::shared_ptr<ma::TokenStore> &store,
                                              ma::WatcherOptions o) {
  auto w = std::make_unique<momento_watcher>();
  w->watcher = std::make_shared<ma::Watcher>(store, std::move(o));
  w->watcher->start();
  return w;
}

std::shared_ptr<const momento_store> store_copy(const momento_store_t *store) {
  need_handle(store, "store");
  return std::make_shared<const momento_store>(*store);
}

}  // namespace

extern "C" {

// ---- store options and stores ------------------------------------------------------------------

momento_status_t momento_store_options_new(momento_store_options_t **out, momento_error_t **err) {
  return guard(err, "momento_store_options_new", [&] {
    need_out(out, "out");
    *out = new momento_store_options{};
  });
}

void momento_store_options_free(momento_store_options_t *options) { delete options; }

momento_status_t momento_store_options_set_aws_region(momento_store_options_t *options,
                                                      const char *region, momento_error_t **err) {
  return guard(err, "momento_store_options_set_aws_region", [&] {
    need_handle(options, "options");
    options->value.aws_region = std::string(opt_str(region, "region").value_or(""));
  });
}

momento_status_t momento_store_options_set_aws_endpoint(momento_store_options_t *options,
                                                        const char *endpoint_url,
                                                        momento_error_t **err) {
  return guard(err, "momento_store_options_set_aws_endpoint", [&] {
    need_handle(options, "options");
    std::string url(opt_str(endpoint_url, "endpoint_url").value_or(""));
    ma::aws::check_endpoint_url(url, "endpoint_url");
    options->value.aws_endpoint = std::move(url);
  });
}

momento_status_t momento_store_options_set_aws_profile(momento_store_options_t *options,
                                                       const char *profile, momento_error_t **err) {
  return guard(err, "momento_store_options_set_aws_profile", [&] {
    need_handle(options, "options");
    options->value.aws_profile = std::string(opt_str(profile, "profile").value_or(""));
  });
}

momento_status_t momento_store_new(momento_store_t **out, const char *spec,
                                    const momento_store_options_t *options,
                                    momento_error_t **err) {
  return guard(err, "momento_store_new", [&] {
    need_out(out, "out");
    std::string_view s = need_str(spec, "spec", true);
    ma::StoreSpec parsed = ma::parse_store_spec(s);
    std::shared_ptr<ma::TokenStore> store =
        ma::open_store(s, options ? options->value : ma::StoreOptions{});
    std::string d = store->describe();
    *out = new momento_store{std::move(store), std::move(d), std::move(parsed)};
  });
}

void momento_store_free(momento_store_t *store) { delete store; }

const char *momento_store_describe(const momento_store_t *store) {
  return store ? store->description.c_str() : "";
}

int32_t momento_store_kind(const momento_store_t *store) {
  return store ? static_cast<int32_t>(store->spec.kind) : 0;
}

const char *momento_store_location(const momento_store_t *store) {
  return store ? store->spec.location.c_str() : "";
}

const char *momento_store_kind_str(int32_t kind) {
  if (kind < MOMENTO_STORE_FILE || kind > MOMENTO_STORE_EXEC) return nullptr;
  return ma::store_kind_name(static_cast<ma::StoreKind>(kind));
}

momento_status_t momento_store_spec_parse(int32_t *kind, char **location, const char *spec,
                                          momento_error_t **err) {
  return guard(err, "momento_store_spec_parse", [&] {
    need_out(kind, "kind");
    need_out(location, "location");
    ma::StoreSpec parsed = ma::parse_store_spec(need_str(spec, "spec", true));
    char *loc = owned_copy(parsed.location);
    *kind = static_cast<int32_t>(parsed.kind);
    *location = loc;
  });
}

int32_t momento_store_writable(const momento_store_t *store) {
  return store && store->store->writable() ? 1 : 0;
}

momento_status_t momento_store_load(momento_token_t **out, momento_store_t *store,
                                    momento_error_t **err) {
  return guard(err, "momento_store_load", [&] {
    need_out(out, "out");
    need_handle(store, "store");
    *out = load_token(*store).release();
  });
}

momento_status_t momento_store_load_queued(momento_store_t *store,
                                           momento_completion_queue_t *queue, uint64_t id,
                                           momento_error_t **err) {
  return guard(err, "momento_store_load_queued", [&] {
    run_queued(queue, id, "momento_store_load_queued",
               [s = store_copy(store)] { return Outcome::of(load_token(*s)); });
  });
}

momento_status_t momento_store_save(momento_store_t *store, const momento_token_t *token,
                                     momento_error_t **err) {
  return guard(err, "momento_store_save", [&] {
    need_handle(store, "store");
    need_handle(token, "token");
    save_token(*store, token->value);
  });
}

momento_status_t momento_store_save_queued(momento_store_t *store, const momento_token_t *token,
                                           momento_completion_queue_t *queue, uint64_t id,
                                           momento_error_t **err) {
  return guard(err, "momento_store_save_queued", [&] {
    auto s = store_copy(store);
    need_handle(token, "token");
    run_queued(queue, id, "momento_store_save_queued", [s, t = token->value] {
      save_token(*s, t);
      return Outcome{};
    });
  });
}

// ---- refresher -----------------------------------------------------------------------------------

momento_status_t momento_refresher_options_new(momento_refresher_options_t **out,
                                               momento_error_t **err) {
  return guard(err, "momento_refresher_options_new", [&] {
    need_out(out, "out");
    *out = new momento_refresher_options{};
  });
}

void momento_refresher_options_free(momento_refresher_options_t *options) { delete options; }

momento_status_t momento_refresher_options_set_refresh_fraction(momento_refresher_options_t *options,
                                                                double fraction,
                                                                momento_error_t **err) {
  return guard(err, "momento_refresher_options_set_refresh_fraction", [&] {
    need_handle(options, "options");
    options->value.set_refresh_fraction(fraction);
  });
}

momento_status_t momento_refresher_options_set_jitter_fraction(momento_refresher_options_t *options,
                                                               double fraction,
                                                               momento_error_t **err) {
  return guard(err, "momento_refresher_options_set_jitter_fraction", [&] {
    need_handle(options, "options");
    options->value.set_jitter_fraction(fraction);
  });
}

momento_status_t momento_refresher_options_set_backoff_ms(momento_refresher_options_t *options,
                                                          int64_t initial_ms, int64_t max_ms,
                                                          momento_error_t **err) {
  return guard(err, "momento_refresher_options_set_backoff_ms", [&] {
    need_handle(options, "options");
    options->value.set_backoff(ma::Millis(initial_ms), ma::Millis(max_ms));
  });
}

momento_status_t momento_refresher_options_set_backoff_initial_ms(
    momento_refresher_options_t *options, int64_t initial_ms, momento_error_t **err) {
  return guard(err, "momento_refresher_options_set_backoff_initial_ms", [&] {
    need_handle(options, "options");
    options->value.set_backoff_initial(ma::Millis(initial_ms));
  });
}

momento_status_t momento_refresher_options_set_backoff_max_ms(momento_refresher_options_t *options,
                                                              int64_t max_ms,
                                                              momento_error_t **err) {
  return guard(err, "momento_refresher_options_set_backoff_max_ms", [&] {
    need_handle(options, "options");
    options->value.set_backoff_max(ma::Millis(max_ms));
  });
}

momento_status_t momento_refresher_options_set_recheck_interval_ms(
    momento_refresher_options_t *options, int64_t interval_ms, momento_error_t **err) {
  return guard(err, "momento_refresher_options_set_recheck_interval_ms", [&] {
    need_handle(options, "options");
    options->value.set_recheck_interval(ma::Millis(interval_ms));
  });
}

momento_status_t momento_refresher_options_validate(const momento_refresher_options_t *options,
                                                    momento_error_t **err) {
  return guard(err, "momento_refresher_options_validate", [&] {
    need_handle(options, "options");
    options->value.build();
  });
}

double momento_refresher_options_refresh_fraction(const momento_refresher_options_t *options) {
  return policy_of(options).refresh_fraction;
}

double momento_refresher_options_jitter_fraction(const momento_refresher_options_t *options) {
  return policy_of(options).jitter_fraction;
}

int64_t momento_refresher_options_backoff_initial_ms(const momento_refresher_options_t *options) {
  return policy_of(options).backoff_initial.count();
}

int64_t momento_refresher_options_backoff_max_ms(const momento_refresher_options_t *options) {
  return policy_of(options).backoff_max.count();
}

int64_t momento_refresher_options_recheck_interval_ms(const momento_refresher_options_t *options) {
  return policy_of(options).recheck_interval.count();
}

momento_status_t momento_refresher_options_replay_delay_ms(
    int64_t *delay_ms, const momento_refresher_options_t *options, int32_t failures,
    int64_t started_ms, int64_t now_ms, momento_error_t **err) {
  return guard(err, "momento_refresher_options_replay_delay_ms", [&] {
    need_out(delay_ms, "delay_ms");
    if (failures < 1) invalid("failures must be at least 1, got " + std::to_string(failures));
    if (started_ms < 0) invalid("started_ms must not be negative, got " + std::to_string(started_ms));
    if (now_ms < 0) invalid("now_ms must not be negative, got " + std::to_string(now_ms));
    const ma::RefreshPolicy policy = options ? options->value.build() : ma::RefreshPolicy{};
    static const ma::RandomSource random = ma::default_random_source();
    // Only the time since the first send matters; a day bounds it far past any replay window
    // (and keeps the clock's nanoseconds from overflowing).
    const int64_t day = 86400000, elapsed = std::clamp(now_ms - started_ms, -day, day);
    const ma::TimePoint started{};
    const auto d = ma::replay_delay(failures, random(), started, started + ma::Millis(elapsed), policy);
    *delay_ms = d ? d->count() : -1;
  });
}

int32_t momento_status_definite(momento_status_t status) {
  if (status >= 0 || status < MOMENTO_ERR_UNKNOWN) return 0;
  return ma::failure_is_definite(static_cast<ma::ErrorCode>(-status - 1)) ? 1 : 0;
}

momento_status_t momento_refresher_new(momento_refresher_t **out, momento_store_t *store,
                                       const momento_client_config_t *config,
                                       const momento_endpoint_override_t *override_,
                                       const momento_refresher_options_t *options,
                                       momento_error_t **err) {
  return guard(err, "momento_refresher_new", [&] {
    need_out(out, "out");
    need_handle(store, "store");
    route_grpc_logs();
    ma::RefreshPolicy policy = options ? options->value.build() : ma::RefreshPolicy{};
    std::optional<ma::EndpointOverride> o;
    if (override_) o = override_->value;
    auto r = std::make_unique<momento_refresher>();
    r->refresher = std::make_unique<ma::Refresher>(
        store->store,
        ma::auth_client_refresh_function(config ? config->value : ma::ClientConfig{}, o), policy);
    *out = r.release();
  });
}

void momento_refresher_free(momento_refresher_t *refresher) { delete refresher; }

momento_status_t momento_refresher_start(momento_refresher_t *refresher, momento_error_t **err) {
  return guard(err, "momento_refresher_start", [&] {
    need_handle(refresher, "refresher");
    refresher->refresher->start();
  });
}

momento_status_t momento_refresher_stop(momento_refresher_t *refresher, momento_error_t **err) {
  return guard(err, "momento_refresher_stop", [&] {
    need_handle(refresher, "refresher");
    refresher->refresher->stop();
  });
}

momento_status_t momento_refresher_run_once(momento_refresh_event_t **out,
                                            momento_refresher_t *refresher, int32_t force,
                                            momento_error_t **err) {
  return guard(err, "momento_refresher_run_once", [&] {
    need_out(out, "out");
    need_handle(refresher, "refresher");
    const bool f = need_bool(force, "force");
    std::optional<ma::RefreshEvent> e = refresher->refresher->run_once(f);
    *out = e ? convert(*e).release() : nullptr;
  });
}

momento_status_t momento_refresher_refresh_now(momento_refresh_event_t **out,
                                               momento_refresher_t *refresher,
                                               momento_error_t **err) {
  return momento_refresher_run_once(out, refresher, 1, err);
}

momento_status_t momento_refresher_subscribe(uint64_t *id, momento_refresher_t *refresher,
                                             momento_refresh_fn fn, void *user_data,
                                             momento_destroy_fn destroy, momento_error_t **err) {
  return guard(err, "momento_refresher_subscribe", [&] {
    need_out(id, "id");
    need_handle(refresher, "refresher");
    if (fn == nullptr) invalid("fn must not be NULL");
    *id = refresher->refresher->subscribe(
        [fn, user_data](const ma::RefreshEvent &e) { fn(convert(e).get(), user_data); },
        removed_fn(destroy, user_data));
  });
}

momento_status_t momento_refresher_unsubscribe(momento_refresher_t *refresher, uint64_t id,
                                               momento_error_t **err) {
  return guard(err, "momento_refresher_unsubscribe", [&] {
    need_handle(refresher, "refresher");
    if (!refresher->refresher->unsubscribe(id))
      throw ma::Error(ma::ErrorCode::NotFound, "no subscription " + std::to_string(id));
  });
}

momento_status_t momento_refresher_subscribe_queued(uint64_t *subscription,
                                                    momento_refresher_t *refresher,
                                                    momento_completion_queue_t *queue, uint64_t id,
                                                    momento_error_t **err) {
  return guard(err, "momento_refresher_subscribe_queued", [&] {
    need_out(subscription, "subscription");
    need_handle(refresher, "refresher");
    need_handle(queue, "queue");
    *subscription = refresher->refresher->subscribe([q = queue->value, id](const ma::RefreshEvent &e) {
      q->push(id, convert(e).release(), &delete_as<momento_refresh_event>, nullptr);
    });
  });
}

momento_status_t momento_refresher_run_once_queued(momento_refresher_t *refresher, int32_t force,
                                                   momento_completion_queue_t *queue, uint64_t id,
                                                   momento_error_t **err) {
  return guard(err, "momento_refresher_run_once_queued", [&] {
    need_handle(refresher, "refresher");
    run_queued(queue, id, "momento_refresher_run_once_queued",
               [r = refresher->refresher, f = need_bool(force, "force")] {
                 std::optional<ma::RefreshEvent> e = r->run_once(f);
                 return e ? Outcome::of(convert(*e)) : Outcome{};
               });
  });
}

momento_status_t momento_refresher_stop_queued(momento_refresher_t *refresher,
                                               momento_completion_queue_t *queue, uint64_t id,
                                               momento_error_t **err) {
  return guard(err, "momento_refresher_stop_queued", [&] {
    need_handle(refresher, "refresher");
    run_queued(queue, id, "momento_refresher_stop_queued", [r = refresher->refresher] {
      r->stop();
      return Outcome{};
    });
  });
}

momento_status_t momento_refresher_close_queued(momento_refresher_t *refresher,
                                                momento_completion_queue_t *queue, uint64_t id,
                                                momento_error_t **err) {
  return guard(err, "momento_refresher_close_queued", [&] {
    need_handle(refresher, "refresher");
    // The job waits until the handle is gone: were the caller's delete the last owner, the
    // caller would stop and join the threads itself (a refresh in progress, up to its deadline).
    std::promise<void> handed_over;
    run_queued(queue, id, "momento_refresher_close_queued",
               [r = refresher->refresher, f = handed_over.get_future().share()]() mutable {
                 f.wait();
                 r.reset();  // the last owner stops and joins the threads here
                 return Outcome{};
               });
    delete refresher;
    handed_over.set_value();
  });
}

int32_t momento_refresh_event_kind(const momento_refresh_event_t *event) {
  return event ? event->kind : 0;
}

const char *momento_refresh_event_kind_str(int32_t kind) {
  switch (kind) {
    case MOMENTO_REFRESH_REFRESHED: return "refreshed";
    case MOMENTO_REFRESH_ADOPTED: return "adopted";
    case MOMENTO_REFRESH_FAILED: return "failed";
    default: return nullptr;
  }
}

momento_status_t momento_refresh_event_error_code(const momento_refresh_event_t *event) {
  return event ? event->error_code : MOMENTO_OK;
}

const char *momento_refresh_event_error_message(const momento_refresh_event_t *event) {
  return event ? event->error_message.c_str() : "";
}

uint64_t momento_refresh_event_valid_until(const momento_refresh_event_t *event) {
  return event ? event->valid_until : 0;
}

const char *momento_refresh_event_redacted_key(const momento_refresh_event_t *event) {
  return event ? event->key.c_str() : "";
}

const char *momento_refresh_event_key_fingerprint(const momento_refresh_event_t *event) {
  return event ? event->fingerprint.c_str() : "";
}

const char *momento_refresh_event_store(const momento_refresh_event_t *event) {
  return event ? event->store.c_str() : "";
}

int32_t momento_refresh_event_consecutive_failures(const momento_refresh_event_t *event) {
  return event ? event->consecutive_failures : 0;
}

int64_t momento_refresh_event_next_attempt_ms(const momento_refresh_event_t *event) {
  return event ? event->next_attempt_ms : 0;
}

int32_t momento_refresh_event_replay(const momento_refresh_event_t *event) {
  return event ? event->replay : 0;
}

int32_t momento_refresh_event_retryable(const momento_refresh_event_t *event) {
  return event ? event->retryable : 0;
}

void momento_refresh_event_free(momento_refresh_event_t *event) { delete event; }

// ---- watcher -------------------------------------------------------------------------------------

momento_status_t momento_watcher_new(momento_watcher_t **out, momento_store_t *store,
                                     int64_t period_ms,
                                     const momento_endpoint_override_t *override_,
                                     momento_error_t **err) {
  return guard(err, "momento_watcher_new", [&] {
    need_out(out, "out");
    need_handle(store, "store");
    *out = make_watcher(store->store, watcher_options(period_ms, override_)).release();
  });
}

momento_status_t momento_watcher_new_queued(momento_store_t *store, int64_t period_ms,
                                            const momento_endpoint_override_t *override_,
                                            momento_completion_queue_t *queue, uint64_t id,
                                            momento_error_t **err) {
  return guard(err, "momento_watcher_new_queued", [&] {
    need_handle(store, "store");
    run_queued(queue, id, "momento_watcher_new_queued",
               [s = store->store, o = watcher_options(period_ms, override_)] {
                 return Outcome::of(make_watcher(s, o));
               });
  });
}

int64_t momento_watcher_default_period_ms(void) { return ma::WatcherOptions{}.period.count(); }

void momento_watcher_free(momento_watcher_t *watcher) { delete watcher; }

momento_status_t momento_watcher_current_credential(momento_credential_t **out,
                                         const momento_watcher_t *watcher, momento_error_t **err) {
  return guard(err, "momento_watcher_current_credential", [&] {
    need_out(out, "out");
    need_handle(watcher, "watcher");
    std::shared_ptr<const ma::WatchedKey> k = watcher->watcher->current();
    *out = new momento_credential(k->credential);
  });
}

momento_status_t momento_watcher_current_key(momento_watched_key_t **out,
                                             const momento_watcher_t *watcher,
                                             momento_error_t **err) {
  return guard(err, "momento_watcher_current_key", [&] {
    need_out(out, "out");
    need_handle(watcher, "watcher");
    *out = new momento_watched_key(watcher->watcher->current());
  });
}

momento_status_t momento_watcher_poll(int32_t *changed, momento_watcher_t *watcher,
                                      momento_error_t **err) {
  return guard(err, "momento_watcher_poll", [&] {
    need_out(changed, "changed");
    need_handle(watcher, "watcher");
    const bool c = watcher->watcher->poll();
    *changed = c ? 1 : 0;
  });
}

momento_status_t momento_watcher_notify_unauthenticated(momento_watcher_t *watcher,
                                                        momento_error_t **err) {
  return guard(err, "momento_watcher_notify_unauthenticated", [&] {
    need_handle(watcher, "watcher");
    watcher->watcher->notify_unauthenticated();
  });
}

momento_status_t momento_watcher_subscribe(uint64_t *id, momento_watcher_t *watcher,
                                           momento_watch_fn fn, void *user_data,
                                           momento_destroy_fn destroy, momento_error_t **err) {
  return guard(err, "momento_watcher_subscribe", [&] {
    need_out(id, "id");
    need_handle(watcher, "watcher");
    if (fn == nullptr) invalid("fn must not be NULL");
    *id = watcher->watcher->subscribe(
        [fn, user_data](const std::shared_ptr<const ma::WatchedKey> &k) {
          const momento_watched_key key(k);
          fn(&key, user_data);
        },
        removed_fn(destroy, user_data));
  });
}

momento_status_t momento_watcher_unsubscribe(momento_watcher_t *watcher, uint64_t id,
                                             momento_error_t **err) {
  return guard(err, "momento_watcher_unsubscribe", [&] {
    need_handle(watcher, "watcher");
    if (!watcher->watcher->unsubscribe(id))
      throw ma::Error(ma::ErrorCode::NotFound, "no subscription " + std::to_string(id));
  });
}

momento_status_t momento_watcher_subscribe_queued(uint64_t *subscription, momento_watcher_t *watcher,
                                                  momento_completion_queue_t *queue, uint64_t id,
                                                  momento_error_t **err) {
  return guard(err, "momento_watcher_subscribe_queued", [&] {
    need_out(subscription, "subscription");
    need_handle(watcher, "watcher");
    need_handle(queue, "queue");
    *subscription = watcher->watcher->subscribe(
        [q = queue->value, id](const std::shared_ptr<const ma::WatchedKey> &k) {
          q->push(id, new momento_watched_key(k), &delete_as<momento_watched_key>, nullptr);
        });
  });
}

momento_status_t momento_watcher_poll_queued(momento_watcher_t *watcher,
                                             momento_completion_queue_t *queue, uint64_t id,
                                             momento_error_t **err) {
  return guard(err, "momento_watcher_poll_queued", [&] {
    need_handle(watcher, "watcher");
    run_queued(queue, id, "momento_watcher_poll_queued", [w = watcher->watcher] {
      if (!w->poll()) return Outcome{};
      return Outcome::of(std::make_unique<momento_watched_key>(w->current()));
    });
  });
}

momento_status_t momento_watcher_close_queued(momento_watcher_t *watcher,
                                              momento_completion_queue_t *queue, uint64_t id,
                                              momento_error_t **err) {
  return guard(err, "momento_watcher_close_queued", [&] {
    need_handle(watcher, "watcher");
    std::promise<void> handed_over;  // as in momento_refresher_close_queued()
    run_queued(queue, id, "momento_watcher_close_queued",
               [w = watcher->watcher, f = handed_over.get_future().share()]() mutable {
                 f.wait();
                 w.reset();  // the last owner stops and joins the threads here
                 return Outcome{};
               });
    delete watcher;
    handed_over.set_value();
  });
}

const momento_credential_t *momento_watched_key_credential(const momento_watched_key_t *key) {
  return key ? &key->credential : nullptr;
}

uint64_t momento_watched_key_valid_until(const momento_watched_key_t *key) {
  return key ? key->key->valid_until.epoch() : 0;
}

const char *momento_watched_key_fingerprint(const momento_watched_key_t *key) {
  return key ? key->key->fingerprint.c_str() : "";
}

void momento_watched_key_free(momento_watched_key_t *key) { delete key; }

}  // extern "C"
