// C ABI, stores / refresher / watcher: argument validation, the callbacks' threading contract,
// a refresh cycle against the local server with a short-lived key, a watcher that sees a key
// rotated by another process, and the same with the key in a Secrets Manager secret on a local
// moto server (in this process, and from a C program).
#include <dlfcn.h>
#include <link.h>
#include <spawn.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "capi_test_util.hpp"
#include "momento/auth.hpp"
#include "moto_process.hpp"

extern char **environ;

using namespace capi_test;

namespace {

using DataClient = Owned<momento_data_client_t, momento_data_client_free>;

std::string slurp(const std::string &path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const std::string &path, const std::string &text) {
  std::ofstream(path) << text;
}

// Runs a program to completion; returns its exit status (-1 if it did not start).
int run(std::vector<std::string> args) {
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);  // the CLI bounds itself with --timeout
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string auth_token_of(const std::string &path) {
  return nlohmann::json::parse(slurp(path)).at("authToken").get<std::string>();
}

// Collects events delivered to a callback, with the thread each arrived on.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int32_t> kinds;
  std::vector<std::string> texts;  // redacted key / message / fingerprint seen
  std::set<std::thread::id> threads;
  std::atomic<int> calls{0};
  std::atomic<int> destroyed{0};
  std::atomic<bool> inside{false};

  static void on_refresh(const momento_refresh_event_t *e, void *ud) {
    auto *r = static_cast<Recorder *>(ud);
    r->inside = true;
    {
      std::lock_guard lock(r->mu);
      r->kinds.push_back(momento_refresh_event_kind(e));
      r->texts.push_back(momento_refresh_event_redacted_key(e));
      r->texts.push_back(momento_refresh_event_error_message(e));
      r->texts.push_back(momento_refresh_event_key_fingerprint(e));
      r->threads.insert(std::this_thread::get_id());
    }
    ++r->calls;
    r->inside = false;
    r->cv.notify_all();
  }
  static void on_watch(const momento_watched_key_t *k, void *ud) {
    auto *r = static_cast<Recorder *>(ud);
    {
      std::lock_guard lock(r->mu);
      r->texts.push_back(momento_watched_key_fingerprint(k));
      r->threads.insert(std::this_thread::get_id());
    }
    ++r->calls;
    r->cv.notify_all();
  }
  static void destroy(void *ud) { ++static_cast<Recorder *>(ud)->destroyed; }

  template <class Pred>
  bool wait(Pred p, std::chrono::seconds max = std::chrono::seconds(30)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, max, p);
  }
};

Override local_override(const Server &srv) {
  Err err;
  Override ov;
  REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), srv.address().c_str(), 0, err.out()));
  return ov;
}

}  // namespace

TEST_CASE("stores: argument validation and a file round trip", "[capi][refresh]") {
  Err err;
  TempDir dir;
  StoreOptions so;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_store_options_new(nullptr, err.out()));
  REQUIRE_OK(err, momento_store_options_new(so.out(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_options_set_aws_region(nullptr, "us-west-2", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_options_set_aws_region(so.get(), "", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_options_set_aws_region(so.get(), kBadUtf8, err.out()));
  REQUIRE_OK(err, momento_store_options_set_aws_region(so.get(), "us-west-2", err.out()));
  REQUIRE_OK(err, momento_store_options_set_aws_region(so.get(), nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_options_set_aws_endpoint(nullptr, "http://x", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_options_set_aws_endpoint(so.get(), "ftp://x", err.out()));
  REQUIRE_OK(err, momento_store_options_set_aws_endpoint(so.get(), "http://127.0.0.1:1", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_options_set_aws_profile(nullptr, "p", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_options_set_aws_profile(so.get(), kBadUtf8, err.out()));
  momento_store_options_free(nullptr);

  Store st;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_new(nullptr, "file:/tmp/x", nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_new(st.out(), nullptr, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_new(st.out(), "", nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_new(st.out(), kBadUtf8, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_new(st.out(), "ftp:thing", nullptr, err.out()));
  CHECK(st.get() == nullptr);
  CHECK(std::string(momento_store_describe(nullptr)).empty());
  CHECK(momento_store_writable(nullptr) == 0);
  momento_store_free(nullptr);

  const std::string path = dir.file("token.json");
  const std::string spec = "file:" + path;
  REQUIRE_OK(err, momento_store_new(st.out(), spec.c_str(), so.get(), err.out()));
  CHECK(std::string(momento_store_describe(st.get())) == spec);
  CHECK(momento_store_writable(st.get()) == 1);
  Token t;
  CHECK_FAILS_WITH(MOMENTO_ERR_NOT_FOUND, err, momento_store_load(t.out(), st.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_store_load(nullptr, st.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_store_load(t.out(), nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_store_save(nullptr, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_store_save(st.get(), nullptr, err.out()));

  // A token file written elsewhere loads back with its fields; store() writes it atomically.
  const std::string env = "eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJub3QtYS1rZXkifQ==";
  write_text(path, R"({"authToken":")" + env + R"(","refreshToken":"rt-1","validUntil":"1900000000"})");
  REQUIRE_OK(err, momento_store_load(t.out(), st.get(), err.out()));
  CHECK(std::string(momento_token_api_key(t.get())) == env);
  CHECK(std::string(momento_token_refresh_token(t.get())) == "rt-1");
  CHECK(momento_token_valid_until(t.get()) == 1900000000);
  CHECK(std::string(momento_token_endpoint(t.get())) == "localhost");
  Store other;
  const std::string other_spec = "file:" + dir.file("copy.json");
  REQUIRE_OK(err, momento_store_new(other.out(), other_spec.c_str(), nullptr, err.out()));
  REQUIRE_OK(err, momento_store_save(other.get(), t.get(), err.out()));
  CHECK(nlohmann::json::parse(slurp(dir.file("copy.json"))).at("refreshToken") == "rt-1");

  // env: stores are read-only.
  ::setenv("MOMENTO_CAPI_TEST_KEY", env.c_str(), 1);
  Store envs;
  REQUIRE_OK(err, momento_store_new(envs.out(), "env:MOMENTO_CAPI_TEST_KEY", nullptr, err.out()));
  CHECK(momento_store_writable(envs.get()) == 0);
  Token e;
  REQUIRE_OK(err, momento_store_load(e.out(), envs.get(), err.out()));
  CHECK(std::string(momento_token_api_key(e.get())) == env);
  CHECK_FAILS_WITH(MOMENTO_ERR_FAILED_PRECONDITION, err,
                   momento_store_save(envs.get(), t.get(), err.out()));
  ::unsetenv("MOMENTO_CAPI_TEST_KEY");

  // aws-sm: opening resolves the region and AWS credentials (placeholders here: nothing is sent).
  Store aws;
  REQUIRE_OK(err, momento_store_options_set_aws_region(so.get(), "eu-west-1", err.out()));
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "placeholder-not-a-secret", 1);
  momento_status_t st_aws = momento_store_new(aws.out(), "aws-sm:team/momento", so.get(), err.out());
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  REQUIRE(st_aws == MOMENTO_OK);
  CHECK(std::string(momento_store_describe(aws.get())).find("team/momento") != std::string::npos);
  CHECK(std::string(momento_store_describe(aws.get())).find("eu-west-1") != std::string::npos);
  CHECK(momento_store_writable(aws.get()) == 1);
}

TEST_CASE("refresher and watcher: argument validation", "[capi][refresh]") {
  Err err;
  TempDir dir;
  RefOptions o;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_refresher_options_new(nullptr, err.out()));
  REQUIRE_OK(err, momento_refresher_options_new(o.out(), err.out()));
  // Setters only record values (a NULL handle is still refused); validation names the rule.
  auto refused = [&](const char *rule) {
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_refresher_options_validate(o.get(), err.out()));
    CHECK_THAT(err.message(), Catch::Contains(rule));
  };
  for (double bad : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    INFO(bad);
    REQUIRE_OK(err, momento_refresher_options_set_refresh_fraction(o.get(), bad, err.out()));
    refused("refresh_fraction must be between 0 and 1");
  }
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_set_refresh_fraction(nullptr, 0.5, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_refresh_fraction(o.get(), 0.5, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_jitter_fraction(o.get(), 0.5, err.out()));
  refused("below refresh_fraction (0.5), got 0.5");
  REQUIRE_OK(err, momento_refresher_options_set_jitter_fraction(o.get(), -0.1, err.out()));
  refused("jitter_fraction must be at least 0");
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_set_jitter_fraction(nullptr, 0.1, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_jitter_fraction(o.get(), 0.0, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_backoff_ms(o.get(), 0, 10, err.out()));
  refused("backoff_initial must be positive");
  REQUIRE_OK(err, momento_refresher_options_set_backoff_ms(o.get(), 100, 10, err.out()));
  refused("backoff_max must be at least backoff_initial (100 ms), got 10 ms");
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_set_backoff_ms(nullptr, 100, 1000, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_backoff_ms(o.get(), 100, 1000, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_recheck_interval_ms(o.get(), 0, err.out()));
  refused("recheck_interval must be positive");
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_set_recheck_interval_ms(nullptr, 10, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_recheck_interval_ms(o.get(), 10, err.out()));
  REQUIRE_OK(err, momento_refresher_options_validate(o.get(), err.out()));
  momento_refresher_options_free(nullptr);

  const std::string spec = "file:" + dir.file("t.json");
  Store st;
  REQUIRE_OK(err, momento_store_new(st.out(), spec.c_str(), nullptr, err.out()));
  Refresher r;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_new(nullptr, st.get(), nullptr, nullptr, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_new(r.out(), nullptr, nullptr, nullptr, nullptr, err.out()));
  CHECK(r.get() == nullptr);
  REQUIRE_OK(err, momento_refresher_new(r.out(), st.get(), nullptr, nullptr, o.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_refresher_start(nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_refresher_stop(nullptr, err.out()));
  Event ev;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_run_once(nullptr, r.get(), 0, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_run_once(ev.out(), nullptr, 0, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_run_once(ev.out(), r.get(), 2, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_refresh_now(nullptr, r.get(), err.out()));
  uint64_t id = 0;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_subscribe(nullptr, r.get(), Recorder::on_refresh, nullptr,
                                               nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_subscribe(&id, nullptr, Recorder::on_refresh, nullptr,
                                               nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_subscribe(&id, r.get(), nullptr, nullptr, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_unsubscribe(nullptr, 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_NOT_FOUND, err, momento_refresher_unsubscribe(r.get(), 12345, err.out()));

  // An empty store: a pass reports a failure event (the store holds no key), not a crash.
  REQUIRE_OK(err, momento_refresher_run_once(ev.out(), r.get(), 0, err.out()));
  REQUIRE(ev.get() != nullptr);
  CHECK(momento_refresh_event_kind(ev.get()) == MOMENTO_REFRESH_FAILED);
  CHECK(momento_refresh_event_error_code(ev.get()) == MOMENTO_ERR_NOT_FOUND);
  CHECK(momento_refresh_event_retryable(ev.get()) == 1);  // the store is read again later
  CHECK(momento_refresh_event_replay(ev.get()) == 0);

  // Event accessors are NULL-safe.
  CHECK(momento_refresh_event_kind(nullptr) == 0);
  CHECK(momento_refresh_event_kind_str(0) == nullptr);
  CHECK(std::string(momento_refresh_event_kind_str(MOMENTO_REFRESH_FAILED)) == "failed");
  CHECK(momento_refresh_event_error_code(nullptr) == MOMENTO_OK);
  CHECK(std::string(momento_refresh_event_error_message(nullptr)).empty());
  CHECK(momento_refresh_event_valid_until(nullptr) == 0);
  CHECK(std::string(momento_refresh_event_redacted_key(nullptr)).empty());
  CHECK(std::string(momento_refresh_event_key_fingerprint(nullptr)).empty());
  CHECK(std::string(momento_refresh_event_store(nullptr)).empty());
  CHECK(momento_refresh_event_consecutive_failures(nullptr) == 0);
  CHECK(momento_refresh_event_next_attempt_ms(nullptr) == 0);
  CHECK(momento_refresh_event_replay(nullptr) == 0);
  CHECK(momento_refresh_event_retryable(nullptr) == 0);
  momento_refresh_event_free(nullptr);
  momento_refresher_free(nullptr);

  // Watcher: an empty store cannot be watched (nothing to serve).
  Watcher w;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_watcher_new(nullptr, st.get(), 100, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_watcher_new(w.out(), nullptr, 100, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_watcher_new(w.out(), st.get(), 0, nullptr, err.out()));
  CHECK(momento_watcher_new(w.out(), st.get(), 100, nullptr, err.out()) != MOMENTO_OK);
  CHECK(w.get() == nullptr);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_watcher_current_credential(nullptr, nullptr, err.out()));
  Credential c;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_watcher_current_credential(c.out(), nullptr, err.out()));
  WatchedKey k;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_watcher_current_key(k.out(), nullptr, err.out()));
  int32_t changed = 0;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_watcher_poll(&changed, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_watcher_notify_unauthenticated(nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_watcher_subscribe(&id, nullptr, Recorder::on_watch, nullptr, nullptr,
                                             err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_watcher_unsubscribe(nullptr, 1, err.out()));
  CHECK(momento_watched_key_credential(nullptr) == nullptr);
  CHECK(momento_watched_key_valid_until(nullptr) == 0);
  CHECK(std::string(momento_watched_key_fingerprint(nullptr)).empty());
  momento_watched_key_free(nullptr);
  momento_watcher_free(nullptr);

  // With a key in the store: the remaining validation that needs a live watcher.
  write_text(dir.file("t.json"),
             R"({"authToken":"eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJub3QtYS1rZXkifQ==","refreshToken":"","validUntil":"0"})");
  REQUIRE_OK(err, momento_watcher_new(w.out(), st.get(), 60000, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_watcher_poll(nullptr, w.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_watcher_current_key(nullptr, w.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_watcher_subscribe(nullptr, w.get(), Recorder::on_watch, nullptr, nullptr,
                                             err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_watcher_subscribe(&id, w.get(), nullptr, nullptr, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_NOT_FOUND, err, momento_watcher_unsubscribe(w.get(), 999, err.out()));
}

TEST_CASE("refresher callbacks: library thread, never inside subscribe, none after unsubscribe",
          "[capi][refresh]") {
  Err err;
  TempDir dir;
  const std::string spec = "file:" + dir.file("t.json");
  Store st;
  REQUIRE_OK(err, momento_store_new(st.out(), spec.c_str(), nullptr, err.out()));
  Recorder a, b;  // before the refresher: they must outlive the subscriptions
  Refresher r;
  REQUIRE_OK(err, momento_refresher_new(r.out(), st.get(), nullptr, nullptr, nullptr, err.out()));

  uint64_t ida = 0, idb = 0;
  REQUIRE_OK(err, momento_refresher_subscribe(&ida, r.get(), Recorder::on_refresh, &a,
                                              Recorder::destroy, err.out()));
  CHECK(a.calls == 0);  // not inside the registering call
  REQUIRE_OK(err, momento_refresher_subscribe(&idb, r.get(), Recorder::on_refresh, &b,
                                              Recorder::destroy, err.out()));
  CHECK(ida != idb);

  // Each pass over the empty store fails; the event reaches both subscribers on a thread that
  // is not the caller's.
  Event ev;
  REQUIRE_OK(err, momento_refresher_run_once(ev.out(), r.get(), 0, err.out()));
  REQUIRE(a.wait([&] { return a.calls >= 1; }));
  REQUIRE(b.wait([&] { return b.calls >= 1; }));
  {
    std::lock_guard lock(a.mu);
    CHECK(a.kinds.front() == MOMENTO_REFRESH_FAILED);
    CHECK(a.threads.count(std::this_thread::get_id()) == 0);
  }

  // After unsubscribe returns: destroy ran once, and no further calls happen.
  REQUIRE_OK(err, momento_refresher_unsubscribe(r.get(), ida, err.out()));
  CHECK(a.destroyed == 1);
  CHECK_FALSE(a.inside);
  const int a_calls = a.calls;
  for (int i = 0; i < 3; ++i) REQUIRE_OK(err, momento_refresher_run_once(ev.out(), r.get(), 0, err.out()));
  REQUIRE(b.wait([&] { return b.calls >= 4; }));
  CHECK(a.calls == a_calls);
  CHECK_FAILS_WITH(MOMENTO_ERR_NOT_FOUND, err, momento_refresher_unsubscribe(r.get(), ida, err.out()));

  // Free ends the remaining subscription: its destroy notifier runs exactly once.
  momento_refresher_free(r.p);
  r.p = nullptr;
  CHECK(b.destroyed == 1);
  CHECK(a.destroyed == 1);
}

TEST_CASE("refresher: unsubscribe from inside the callback", "[capi][refresh]") {
  Err err;
  TempDir dir;
  const std::string spec = "file:" + dir.file("t.json");
  Store st;
  REQUIRE_OK(err, momento_store_new(st.out(), spec.c_str(), nullptr, err.out()));
  Refresher r;
  REQUIRE_OK(err, momento_refresher_new(r.out(), st.get(), nullptr, nullptr, nullptr, err.out()));
  struct Self {
    momento_refresher_t *r = nullptr;
    uint64_t id = 0;
    std::atomic<int> calls{0}, destroyed{0};
    std::atomic<int32_t> status{1};
    std::atomic<int> destroyed_inside{-1};
  } self;
  self.r = r.get();
  auto fn = [](const momento_refresh_event_t *, void *ud) {
    auto *s = static_cast<Self *>(ud);
    ++s->calls;
    s->status = momento_refresher_unsubscribe(s->r, s->id, nullptr);
    // destroy must not run yet: this callback still uses user_data (checked on the test thread).
    s->destroyed_inside = s->destroyed.load();
  };
  auto destroy = [](void *ud) { ++static_cast<Self *>(ud)->destroyed; };
  REQUIRE_OK(err, momento_refresher_subscribe(&self.id, r.get(), fn, &self, destroy, err.out()));
  Event ev;
  REQUIRE_OK(err, momento_refresher_run_once(ev.out(), r.get(), 0, err.out()));
  for (int i = 0; i < 200 && self.destroyed == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  CHECK(self.calls == 1);
  CHECK(self.status == MOMENTO_OK);
  CHECK(self.destroyed_inside == 0);
  CHECK(self.destroyed == 1);
  REQUIRE_OK(err, momento_refresher_run_once(ev.out(), r.get(), 0, err.out()));
  momento_refresher_free(r.p);  // joins the delivery thread: nothing more can arrive
  r.p = nullptr;
  CHECK(self.calls == 1);
}

TEST_CASE("refresher: a short-lived key is refreshed before it expires and the new key works",
          "[capi][refresh][server]") {
  Server srv;
  Err err;
  TempDir dir;
  const std::string path = dir.file("token.json");
  mint_file(srv, 8, path);
  const std::string first = auth_token_of(path);

  const std::string spec = "file:" + path;
  Store st;
  REQUIRE_OK(err, momento_store_new(st.out(), spec.c_str(), nullptr, err.out()));
  RefOptions o;
  REQUIRE_OK(err, momento_refresher_options_new(o.out(), err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_jitter_fraction(o.get(), 0.0, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_refresh_fraction(o.get(), 0.25, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_recheck_interval_ms(o.get(), 500, err.out()));
  Override ov = local_override(srv);
  Config cfg;
  REQUIRE_OK(err, momento_client_config_new(cfg.out(), err.out()));
  REQUIRE_OK(err, momento_client_config_set_deadline_ms(cfg.get(), 5000, err.out()));
  Recorder rec;  // before the refresher: it must outlive the subscription
  Refresher r;
  REQUIRE_OK(err, momento_refresher_new(r.out(), st.get(), cfg.get(), ov.get(), o.get(), err.out()));
  uint64_t id = 0;
  REQUIRE_OK(err, momento_refresher_subscribe(&id, r.get(), Recorder::on_refresh, &rec,
                                              Recorder::destroy, err.out()));
  REQUIRE_OK(err, momento_refresher_start(r.get(), err.out()));
  // Bounded: the key lives 8 s; a refresh is due after 2 s.
  REQUIRE(rec.wait([&] {
    return std::find(rec.kinds.begin(), rec.kinds.end(), MOMENTO_REFRESH_REFRESHED) != rec.kinds.end();
  }, std::chrono::seconds(20)));
  REQUIRE_OK(err, momento_refresher_stop(r.get(), err.out()));

  const std::string second = auth_token_of(path);
  CHECK(second != first);
  // Events never carry a secret.
  {
    std::lock_guard lock(rec.mu);
    for (const auto &t : rec.texts) {
      CHECK(t.find(first) == std::string::npos);
      CHECK(t.find(second) == std::string::npos);
      if (t.size() > 30) {
        CHECK(first.find(t) == std::string::npos);
      }
    }
  }
  // The stored key works: ListCaches with it.
  Credential cred;
  REQUIRE_OK(err, momento_credential_from_string(cred.out(), second.c_str(), ov.get(), err.out()));
  DataClient dc;
  REQUIRE_OK(err, momento_data_client_new(dc.out(), cred.get(), cfg.get(), err.out()));
  Owned<momento_string_list_t, momento_string_list_free> names;
  REQUIRE_OK(err, momento_data_client_list_caches(names.out(), dc.get(), err.out()));

  // refresh_now rotates again at once and says so.
  Event ev;
  REQUIRE_OK(err, momento_refresher_refresh_now(ev.out(), r.get(), err.out()));
  REQUIRE(ev.get() != nullptr);
  CHECK(momento_refresh_event_kind(ev.get()) == MOMENTO_REFRESH_REFRESHED);
  CHECK(momento_refresh_event_error_code(ev.get()) == MOMENTO_OK);
  CHECK(momento_refresh_event_valid_until(ev.get()) > 0);
  CHECK(std::string(momento_refresh_event_store(ev.get())) == spec);
  CHECK(std::string(momento_refresh_event_key_fingerprint(ev.get())).size() == 64);
  CHECK(auth_token_of(path) != second);
}

TEST_CASE("watcher: sees a key rotated by another process", "[capi][refresh][server]") {
  Server srv;
  Err err;
  TempDir dir;
  const std::string path = dir.file("token.json");
  mint_file(srv, 3600, path);
  const std::string first = auth_token_of(path);

  const std::string spec = "file:" + path;
  Store st;
  REQUIRE_OK(err, momento_store_new(st.out(), spec.c_str(), nullptr, err.out()));
  Override ov = local_override(srv);
  Recorder rec;  // before the watcher: it must outlive the subscription
  Watcher w;
  REQUIRE_OK(err, momento_watcher_new(w.out(), st.get(), 100, ov.get(), err.out()));
  Credential before;
  REQUIRE_OK(err, momento_watcher_current_credential(before.out(), w.get(), err.out()));
  WatchedKey k0;
  REQUIRE_OK(err, momento_watcher_current_key(k0.out(), w.get(), err.out()));
  const std::string fp0 = momento_watched_key_fingerprint(k0.get());
  CHECK(momento_watched_key_valid_until(k0.get()) > 0);
  const std::string red0 = momento_credential_redacted_key(before.get());

  uint64_t id = 0;
  REQUIRE_OK(err, momento_watcher_subscribe(&id, w.get(), Recorder::on_watch, &rec,
                                            Recorder::destroy, err.out()));
  CHECK(rec.calls == 0);

  // Another process (the CLI) refreshes the file.
  REQUIRE(run({MOMENTO_CLI_BIN, "--endpoint", srv.address(), "--insecure", "--timeout", "10s",
               "refresh", "--file", path}) == 0);
  REQUIRE(auth_token_of(path) != first);
  REQUIRE(rec.wait([&] { return rec.calls >= 1; }, std::chrono::seconds(20)));
  {
    std::lock_guard lock(rec.mu);
    CHECK(rec.texts.front() != fp0);
    CHECK(rec.threads.count(std::this_thread::get_id()) == 0);
  }
  Credential after;
  REQUIRE_OK(err, momento_watcher_current_credential(after.out(), w.get(), err.out()));
  CHECK(std::string(momento_credential_redacted_key(after.get())) != red0);
  // The handle taken before the swap is unchanged and still usable.
  CHECK(std::string(momento_credential_redacted_key(before.get())) == red0);
  // The new key works through the override the watcher applied.
  DataClient dc;
  REQUIRE_OK(err, momento_data_client_new(dc.out(), after.get(), nullptr, err.out()));
  Owned<momento_string_list_t, momento_string_list_free> names;
  REQUIRE_OK(err, momento_data_client_list_caches(names.out(), dc.get(), err.out()));

  // poll() after the swap: nothing new; notify is accepted.
  int32_t changed = 5;
  REQUIRE_OK(err, momento_watcher_poll(&changed, w.get(), err.out()));
  CHECK(changed == 0);
  REQUIRE_OK(err, momento_watcher_notify_unauthenticated(w.get(), err.out()));
  REQUIRE_OK(err, momento_watcher_unsubscribe(w.get(), id, err.out()));
  CHECK(rec.destroyed == 1);
}

TEST_CASE("refresher and watcher: C++ wrapper", "[capi][refresh][cpp][server]") {
  Server srv;
  TempDir dir;
  const std::string path = dir.file("token.json");
  mint_file(srv, 3600, path);
  momento::Store store("file:" + path);
  CHECK(store.writable());
  auto ov = momento::EndpointOverride::single(srv.address());
  // Before the watcher: the subscription uses them until the watcher is destroyed.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<momento::KeyChange> changes;
  momento::Watcher watcher(store, std::chrono::milliseconds(100), &ov);
  watcher.subscribe([&](const momento::KeyChange &c) {
    std::lock_guard lock(mu);
    changes.push_back(c);
    cv.notify_all();
  });
  momento::Refresher refresher(store, nullptr, &ov);
  const momento::RefreshEvent e = refresher.refresh_now();
  CHECK(e.kind == momento::RefreshEvent::Kind::Refreshed);
  CHECK(std::string(e.kind_name()) == "refreshed");
  std::unique_lock lock(mu);
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return !changes.empty(); }));
  CHECK(changes.front().fingerprint == e.key_fingerprint);
  CHECK(changes.front().valid_until == e.valid_until);
  CHECK(watcher.current().redacted_key() == changes.front().redacted_key);
  // Not due for an hour-long key just refreshed: a pass does nothing.
  lock.unlock();
  CHECK_FALSE(refresher.run_once().has_value());
}

namespace {

using momento::test::AwsTestEnv;
using momento::test::MotoServer;

// A Secrets Manager secret on moto holding a key minted by the local server.
struct AwsSecret {
  Server srv;
  MotoServer moto;
  TempDir dir;
  std::string id;
  std::string spec;

  explicit AwsSecret(const std::string &secret_id) : id(secret_id), spec("aws-sm:" + secret_id) {
    const std::string path = dir.file("seed.json");
    mint_file(srv, 3600, path);
    moto.put_secret(id, path);  // with boto3, as an existing secret would have been made
  }
  nlohmann::json secret(const std::string &which = "") const {
    return nlohmann::json::parse(moto.get_secret(which.empty() ? id : which));
  }
  Store open(const std::string &spec_) const {
    Err err;
    StoreOptions so;
    REQUIRE_OK(err, momento_store_options_new(so.out(), err.out()));
    REQUIRE_OK(err, momento_store_options_set_aws_region(so.get(), "us-east-1", err.out()));
    REQUIRE_OK(err, momento_store_options_set_aws_endpoint(so.get(), moto.endpoint().c_str(), err.out()));
    Store st;
    REQUIRE_OK(err, momento_store_new(st.out(), spec_.c_str(), so.get(), err.out()));
    return st;
  }
};

bool contains(const std::vector<std::string> &v, const std::string &x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

TEST_CASE("aws-sm store: refresher and watcher through the C ABI against moto",
          "[capi][refresh][server][aws]") {
  AwsSecret s("team/momento-capi");
  AwsTestEnv env(s.moto, false);  // credentials from the environment, the endpoint from options
  Err err;
  const nlohmann::json first = s.secret();

  Store st = s.open(s.spec);
  CHECK(momento_store_writable(st.get()) == 1);
  CHECK(std::string(momento_store_describe(st.get())) == s.spec + " (us-east-1)");
  Token loaded;
  REQUIRE_OK(err, momento_store_load(loaded.out(), st.get(), err.out()));
  CHECK(std::string(momento_token_api_key(loaded.get())) == first.at("authToken").get<std::string>());
  CHECK(std::string(momento_token_refresh_token(loaded.get())) == first.at("refreshToken").get<std::string>());
  CHECK(momento_token_valid_until(loaded.get()) == std::stoull(first.at("validUntil").get<std::string>()));

  // A watcher on its own store handle, as an application would have.
  Store wst = s.open(s.spec);
  Override ov = local_override(s.srv);
  Recorder watched, events;  // before the watcher and refresher: they outlive the subscriptions
  Watcher w;
  REQUIRE_OK(err, momento_watcher_new(w.out(), wst.get(), 100, ov.get(), err.out()));
  WatchedKey k0;
  REQUIRE_OK(err, momento_watcher_current_key(k0.out(), w.get(), err.out()));
  const std::string fp0 = momento_watched_key_fingerprint(k0.get());
  uint64_t wid = 0;
  REQUIRE_OK(err, momento_watcher_subscribe(&wid, w.get(), Recorder::on_watch, &watched,
                                            Recorder::destroy, err.out()));

  Config cfg;
  REQUIRE_OK(err, momento_client_config_new(cfg.out(), err.out()));
  REQUIRE_OK(err, momento_client_config_set_deadline_ms(cfg.get(), 10000, err.out()));
  Refresher r;
  REQUIRE_OK(err, momento_refresher_new(r.out(), st.get(), cfg.get(), ov.get(), nullptr, err.out()));
  uint64_t rid = 0;
  REQUIRE_OK(err, momento_refresher_subscribe(&rid, r.get(), Recorder::on_refresh, &events,
                                              Recorder::destroy, err.out()));

  // Not due for an hour-long key: the pass only reads, the secret keeps its version.
  Event ev;
  REQUIRE_OK(err, momento_refresher_run_once(ev.out(), r.get(), 0, err.out()));
  if (ev.get()) CHECK(momento_refresh_event_kind(ev.get()) == MOMENTO_REFRESH_ADOPTED);
  CHECK(s.secret() == first);

  REQUIRE_OK(err, momento_refresher_refresh_now(ev.out(), r.get(), err.out()));
  REQUIRE(ev.get() != nullptr);
  INFO(momento_refresh_event_error_message(ev.get()));
  REQUIRE(momento_refresh_event_kind(ev.get()) == MOMENTO_REFRESH_REFRESHED);
  CHECK(std::string(momento_refresh_event_store(ev.get())) == s.spec + " (us-east-1)");
  const std::string fp1 = momento_refresh_event_key_fingerprint(ev.get());
  CHECK(fp1 != fp0);

  // The secret (read with boto3) holds the new key and refresh token.
  const nlohmann::json second = s.secret();
  const std::string new_key = second.at("authToken");
  CHECK(new_key != first.at("authToken").get<std::string>());
  CHECK(second.at("refreshToken") != first.at("refreshToken"));
  CHECK(std::stoull(second.at("validUntil").get<std::string>()) == momento_refresh_event_valid_until(ev.get()));

  // The watcher's subscriber gets the new key on the watcher's thread; the credential works.
  REQUIRE(watched.wait([&] { return contains(watched.texts, fp1); }));
  {
    std::lock_guard lock(watched.mu);
    CHECK(watched.threads.count(std::this_thread::get_id()) == 0);
  }
  Credential cred;
  REQUIRE_OK(err, momento_watcher_current_credential(cred.out(), w.get(), err.out()));
  CHECK(std::string(momento_credential_redacted_key(cred.get())) == momento_refresh_event_redacted_key(ev.get()));
  DataClient dc;
  REQUIRE_OK(err, momento_data_client_new(dc.out(), cred.get(), cfg.get(), err.out()));
  Owned<momento_string_list_t, momento_string_list_free> names;
  REQUIRE_OK(err, momento_data_client_list_caches(names.out(), dc.get(), err.out()));

  // Events never carry the key or the refresh token.
  REQUIRE(events.wait([&] { return events.calls >= 2; }));
  {
    std::lock_guard lock(events.mu);
    CHECK(std::find(events.kinds.begin(), events.kinds.end(), MOMENTO_REFRESH_REFRESHED) != events.kinds.end());
    for (const auto &t : events.texts) {
      CHECK(t.find(new_key) == std::string::npos);
      CHECK(t.find(second.at("refreshToken").get<std::string>()) == std::string::npos);
    }
  }

  // store(): a secret that does not exist yet is created with the token's Download-JSON.
  Token now;
  REQUIRE_OK(err, momento_store_load(now.out(), st.get(), err.out()));
  CHECK(std::string(momento_token_api_key(now.get())) == new_key);
  Store copy = s.open("aws-sm:team/momento-copy");
  REQUIRE_OK(err, momento_store_save(copy.get(), now.get(), err.out()));
  const nlohmann::json copied = s.secret("team/momento-copy");
  CHECK(copied.at("authToken") == new_key);
  CHECK(copied.at("refreshToken") == second.at("refreshToken"));

  // A missing secret: load says NOT_FOUND; a watcher cannot start on it.
  Store absent = s.open("aws-sm:team/absent");
  Token none;
  CHECK_FAILS_WITH(MOMENTO_ERR_NOT_FOUND, err, momento_store_load(none.out(), absent.get(), err.out()));
  Watcher nw;
  CHECK(momento_watcher_new(nw.out(), absent.get(), 100, nullptr, err.out()) != MOMENTO_OK);

  REQUIRE_OK(err, momento_watcher_unsubscribe(w.get(), wid, err.out()));
  CHECK(watched.destroyed == 1);
}

namespace {

// Runs the C program (optionally under a wrapper such as valgrind) against a fresh secret and
// checks what it printed against the secret it left in moto.
void run_c_consumer(std::vector<std::string> wrapper, std::chrono::seconds timeout) {
  AwsSecret s("team/momento-c");
  AwsTestEnv env(s.moto, false);
  const nlohmann::json first = s.secret();
  std::vector<std::string> args = std::move(wrapper);
  // Due 0.36 s after the secret was written: the program's plain passes refresh it.
  for (const std::string &a : {std::string(MOMENTO_AWS_CONSUMER), s.spec, s.srv.address(),
                               s.moto.endpoint(), std::string("0.0001")})
    args.push_back(a);
  std::string out;
  const std::string err_file = s.dir.file("consumer.err");
  const int rc = momento::test::ServerProcess::run_capture(args, &out, timeout, err_file);
  INFO("stdout: " << out << "\nstderr: " << slurp(err_file));
  REQUIRE(rc == 0);
  std::istringstream in(out);
  std::string word, event_fp, watched_fp, redacted;
  uint64_t valid_until = 0;
  in >> word >> event_fp >> watched_fp >> valid_until >> redacted;
  CHECK(word == "refreshed");
  CHECK(event_fp.size() == 64);
  CHECK(watched_fp == event_fp);
  const nlohmann::json second = s.secret();
  const std::string new_key = second.at("authToken");
  CHECK(new_key != first.at("authToken").get<std::string>());
  CHECK(std::stoull(second.at("validUntil").get<std::string>()) == valid_until);
  CHECK(out.find(new_key) == std::string::npos);
  CHECK(out.find(second.at("refreshToken").get<std::string>()) == std::string::npos);
}

}  // namespace

TEST_CASE("aws-sm store: a C program refreshes the secret with plain passes and watches it",
          "[capi][refresh][server][aws]") {
  run_c_consumer({}, std::chrono::seconds(120));
}

namespace {
// The objects mapped in this process (the dynamic linker's list), by file name.
std::vector<std::string> loaded_objects() {
  std::vector<std::string> out;
  dl_iterate_phdr([](dl_phdr_info *info, size_t, void *v) {
    static_cast<std::vector<std::string> *>(v)->emplace_back(info->dlpi_name ? info->dlpi_name : "");
    return 0;
  }, &out);
  return out;
}
bool loaded(const std::string &name) {
  const auto all = loaded_objects();
  return std::any_of(all.begin(), all.end(),
                     [&](const std::string &p) { return p.find(name) != std::string::npos; });
}
}  // namespace

TEST_CASE("aws-sm store: libcurl is loaded by the first AWS request, not with the library",
          "[capi][refresh][aws]") {
  // Its module comes with libcurl, so libcurl may be there only once the module is.
  if (!loaded("libmomento_auth_http.so.1")) CHECK_FALSE(loaded("libcurl"));
  Err err;
  StoreOptions so;
  REQUIRE_OK(err, momento_store_options_new(so.out(), err.out()));
  REQUIRE_OK(err, momento_store_options_set_aws_region(so.get(), "eu-west-1", err.out()));
  // Nothing listens on port 1: the request fails to connect, after libcurl made it.
  REQUIRE_OK(err, momento_store_options_set_aws_endpoint(so.get(), "http://127.0.0.1:1", err.out()));
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "placeholder-not-a-secret", 1);
  Store aws;
  momento_status_t opened = momento_store_new(aws.out(), "aws-sm:team/momento", so.get(), err.out());
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  REQUIRE(opened == MOMENTO_OK);
  Token t;
  CHECK_FAILS_WITH(MOMENTO_ERR_CONNECTION, err, momento_store_load(t.out(), aws.get(), err.out()));
  // Loaded from the library's own directory.
  Dl_info lib{};
  REQUIRE(dladdr(reinterpret_cast<void *>(&momento_store_load), &lib) != 0);
  std::string dir(lib.dli_fname);
  dir.resize(dir.rfind('/') + 1);
  const auto all = loaded_objects();
  CHECK(std::find(all.begin(), all.end(), dir + "libmomento_auth_http.so.1") != all.end());
  CHECK(loaded("libcurl"));
}

#ifdef MOMENTO_VALGRIND_BIN
TEST_CASE("aws-sm store: the C program under valgrind", "[capi][refresh][server][aws][valgrind]") {
  // gRPC keeps process-lifetime singletons: "still reachable" is not a leak; definite and
  // indirect losses and memory errors are (exit 99).
  run_c_consumer({MOMENTO_VALGRIND_BIN, "--quiet", "--error-exitcode=99", "--leak-check=full",
                  "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect"},
                 std::chrono::seconds(280));
}
#endif

TEST_CASE("refresher and watcher: one of each shared by several threads at once",
          "[capi][refresh][server][threads]") {
  Server srv;
  Err err;
  TempDir dir;
  const std::string path = dir.file("token.json");
  mint_file(srv, 3600, path);
  const std::string spec = "file:" + path;
  Store st;
  REQUIRE_OK(err, momento_store_new(st.out(), spec.c_str(), nullptr, err.out()));
  Override ov = local_override(srv);
  Config cfg;
  REQUIRE_OK(err, momento_client_config_new(cfg.out(), err.out()));
  REQUIRE_OK(err, momento_client_config_set_deadline_ms(cfg.get(), 20000, err.out()));
  RefOptions o;
  REQUIRE_OK(err, momento_refresher_options_new(o.out(), err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_recheck_interval_ms(o.get(), 20, err.out()));
  Recorder events, keys;  // before the handles: they outlive the subscriptions
  Refresher r;
  REQUIRE_OK(err, momento_refresher_new(r.out(), st.get(), cfg.get(), ov.get(), o.get(), err.out()));
  Watcher w;
  REQUIRE_OK(err, momento_watcher_new(w.out(), st.get(), 10, ov.get(), err.out()));
  uint64_t rid = 0, wid = 0;
  REQUIRE_OK(err, momento_refresher_subscribe(&rid, r.get(), Recorder::on_refresh, &events,
                                              Recorder::destroy, err.out()));
  REQUIRE_OK(err, momento_watcher_subscribe(&wid, w.get(), Recorder::on_watch, &keys,
                                            Recorder::destroy, err.out()));

  // Every thread mixes daemon start/stop, forced and plain passes, reads of the watched key,
  // polls, notifications and short-lived subscriptions. Bounded: 4 threads x 3 rounds.
  std::atomic<int> bad_status{0}, refreshed{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        momento_error_t *e = nullptr;
        auto ok = [&](momento_status_t s) {
          if (s != MOMENTO_OK) ++bad_status;
          momento_error_free(e);
          e = nullptr;
        };
        if ((t + round) % 2 == 0) ok(momento_refresher_start(r.get(), &e));
        else ok(momento_refresher_stop(r.get(), &e));
        momento_refresh_event_t *ev = nullptr;
        ok(momento_refresher_run_once(&ev, r.get(), t == round ? 1 : 0, &e));
        if (ev && momento_refresh_event_kind(ev) == MOMENTO_REFRESH_REFRESHED) ++refreshed;
        if (ev && momento_refresh_event_kind(ev) == MOMENTO_REFRESH_FAILED) ++failed;
        momento_refresh_event_free(ev);
        momento_credential_t *c = nullptr;
        ok(momento_watcher_current_credential(&c, w.get(), &e));
        if (c && std::string(momento_credential_redacted_key(c)).empty()) ++bad_status;
        momento_credential_free(c);
        int32_t changed = 0;
        ok(momento_watcher_poll(&changed, w.get(), &e));
        ok(momento_watcher_notify_unauthenticated(w.get(), &e));
        Recorder brief;
        uint64_t id1 = 0, id2 = 0;
        ok(momento_refresher_subscribe(&id1, r.get(), Recorder::on_refresh, &brief, nullptr, &e));
        ok(momento_watcher_subscribe(&id2, w.get(), Recorder::on_watch, &brief, nullptr, &e));
        ok(momento_refresher_unsubscribe(r.get(), id1, &e));
        ok(momento_watcher_unsubscribe(w.get(), id2, &e));
      }
    });
  }
  for (auto &th : threads) th.join();
  REQUIRE_OK(err, momento_refresher_stop(r.get(), err.out()));
  CHECK(bad_status == 0);
  CHECK(failed == 0);
  CHECK(refreshed >= 1);  // the forced passes (t == round) rotated the key at least once

  // The store, the watcher and the server agree on the last key: it works.
  int32_t changed = 0;
  REQUIRE_OK(err, momento_watcher_poll(&changed, w.get(), err.out()));
  Token now;
  REQUIRE_OK(err, momento_store_load(now.out(), st.get(), err.out()));
  Credential cred;
  REQUIRE_OK(err, momento_watcher_current_credential(cred.out(), w.get(), err.out()));
  Credential stored;
  REQUIRE_OK(err, momento_credential_from_string(stored.out(), momento_token_api_key(now.get()),
                                                 ov.get(), err.out()));
  CHECK(std::string(momento_credential_redacted_key(cred.get())) ==
        momento_credential_redacted_key(stored.get()));
  DataClient dc;
  REQUIRE_OK(err, momento_data_client_new(dc.out(), cred.get(), cfg.get(), err.out()));
  Owned<momento_string_list_t, momento_string_list_free> names;
  REQUIRE_OK(err, momento_data_client_list_caches(names.out(), dc.get(), err.out()));
  {
    std::lock_guard lock(events.mu);
    CHECK(std::find(events.kinds.begin(), events.kinds.end(), MOMENTO_REFRESH_FAILED) == events.kinds.end());
  }
}

namespace {
using Queue = Owned<momento_completion_queue_t, momento_completion_queue_free>;

struct Popped {
  uint64_t id;
  void *value;
  momento_status_t status;
};

// Waits (bounded) on the queue's socket and pops until `n` outcomes have arrived; errors are
// freed (their status kept), values are the caller's.
std::vector<Popped> pop_until(int fd, momento_completion_queue_t *q, size_t n) {
  std::vector<Popped> got;
  for (int i = 0; i < 100 && got.size() < n; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 30000) != 1) break;
    char buf[64];
    CHECK(read(fd, buf, sizeof buf) >= 1);
    uint64_t id = 0;
    void *value = nullptr;
    momento_error_t *error = nullptr;
    while (momento_completion_queue_pop_value(q, &id, &value, &error) == 1) {
      CHECK((value == nullptr || error == nullptr));
      got.push_back({id, value, error ? momento_error_code(error) : MOMENTO_OK});
      momento_error_free(error);
    }
  }
  return got;
}

Popped only(int fd, momento_completion_queue_t *q, uint64_t id) {
  std::vector<Popped> got = pop_until(fd, q, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].id == id);
  return got[0];
}
}  // namespace

TEST_CASE("queued store, refresher and watcher calls and subscriptions use a completion queue",
          "[capi][refresh][queue][server]") {
  Server srv;
  Err err;
  TempDir dir;
  const std::string path = dir.file("token.json");
  mint_file(srv, 3600, path);
  const std::string spec = "file:" + path;
  Store st;
  REQUIRE_OK(err, momento_store_new(st.out(), spec.c_str(), nullptr, err.out()));
  Queue q;
  int32_t fd = -1;
  REQUIRE_OK(err, momento_completion_queue_new(q.out(), &fd, err.out()));
  Override ov = local_override(srv);
  Refresher r;
  REQUIRE_OK(err, momento_refresher_new(r.out(), st.get(), nullptr, ov.get(), nullptr, err.out()));

  // Bad arguments: a failing status, nothing queued.
  uint64_t sub = 0;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_store_load_queued(nullptr, q.get(), 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_store_load_queued(st.get(), nullptr, 1, err.out()));
  CHECK(err.message().find("queue") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_store_save_queued(st.get(), nullptr, q.get(), 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_write_file_queued(nullptr, "x", q.get(), 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_refresher_run_once_queued(r.get(), 2, q.get(), 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_refresher_stop_queued(nullptr, q.get(), 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_refresher_close_queued(r.get(), nullptr, 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_refresher_subscribe_queued(nullptr, r.get(), q.get(), 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_refresher_subscribe_queued(&sub, r.get(), nullptr, 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_watcher_new_queued(nullptr, 1000, nullptr, q.get(), 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_watcher_poll_queued(nullptr, q.get(), 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_watcher_close_queued(nullptr, q.get(), 1, err.out()));
  uint64_t id = 0;
  void *value = nullptr;
  momento_error_t *error = nullptr;
  CHECK(momento_completion_queue_pop_value(q.get(), &id, &value, &error) == 0);
  CHECK(momento_completion_queue_pop_value(q.get(), &id, nullptr, &error) == 0);

  // A load; a save and a token file written from a copy of its token (freed meanwhile).
  REQUIRE_OK(err, momento_store_load_queued(st.get(), q.get(), 1, err.out()));
  Popped loaded = only(fd, q.get(), 1);
  REQUIRE(loaded.status == MOMENTO_OK);
  REQUIRE(loaded.value != nullptr);
  auto *token = static_cast<momento_token_t *>(loaded.value);
  CHECK(std::string(momento_token_api_key(token)) == auth_token_of(path));
  const std::string copy_path = dir.file("copy.json"), written = dir.file("written.json");
  Store copy;
  REQUIRE_OK(err, momento_store_new(copy.out(), ("file:" + copy_path).c_str(), nullptr, err.out()));
  REQUIRE_OK(err, momento_store_save_queued(copy.get(), token, q.get(), 2, err.out()));
  REQUIRE_OK(err, momento_token_write_file_queued(token, written.c_str(), q.get(), 3, err.out()));
  momento_token_free(token);
  std::vector<Popped> saved = pop_until(fd, q.get(), 2);
  REQUIRE(saved.size() == 2);
  for (const Popped &p : saved) {
    CHECK((p.id == 2 || p.id == 3));
    CHECK(p.status == MOMENTO_OK);
    CHECK(p.value == nullptr);
  }
  CHECK(auth_token_of(copy_path) == auth_token_of(path));
  CHECK(auth_token_of(written) == auth_token_of(path));
  // A failure arrives as an error under its id.
  Store empty;
  REQUIRE_OK(err, momento_store_new(empty.out(), ("file:" + dir.file("none.json")).c_str(), nullptr, err.out()));
  REQUIRE_OK(err, momento_store_load_queued(empty.get(), q.get(), 4, err.out()));
  CHECK(only(fd, q.get(), 4).status == MOMENTO_ERR_NOT_FOUND);

  // A watcher made on a library thread (re-reading only when polled), subscribed to the queue.
  REQUIRE_OK(err, momento_watcher_new_queued(st.get(), 3600000, ov.get(), q.get(), 5, err.out()));
  Popped made = only(fd, q.get(), 5);
  REQUIRE(made.status == MOMENTO_OK);
  auto *watcher = static_cast<momento_watcher_t *>(made.value);
  REQUIRE(watcher != nullptr);
  uint64_t watch_sub = 0;
  REQUIRE_OK(err, momento_watcher_subscribe_queued(&watch_sub, watcher, q.get(), 6, err.out()));
  REQUIRE_OK(err, momento_watcher_poll_queued(watcher, q.get(), 7, err.out()));
  Popped unchanged = only(fd, q.get(), 7);
  CHECK(unchanged.status == MOMENTO_OK);
  CHECK(unchanged.value == nullptr);

  // The refresher's events reach the queue under the subscription's id, next to run_once's.
  // The watcher (id 6) may see the rotated file at once through its directory's events, or only
  // when polled (id 13): either way one key arrives under id 6.
  REQUIRE_OK(err, momento_refresher_subscribe_queued(&sub, r.get(), q.get(), 10, err.out()));
  REQUIRE_OK(err, momento_refresher_run_once_queued(r.get(), 1, q.get(), 11, err.out()));
  std::vector<Popped> got;
  auto seen = [&](uint64_t want) {
    return std::any_of(got.begin(), got.end(), [&](const Popped &p) { return p.id == want; });
  };
  for (int i = 0; i < 20 && !(seen(10) && seen(11)); ++i) {
    std::vector<Popped> more = pop_until(fd, q.get(), 1);
    got.insert(got.end(), more.begin(), more.end());
  }
  std::string fingerprint;
  for (const Popped &p : got) {
    if (p.id == 6) continue;
    CHECK((p.id == 10 || p.id == 11));
    REQUIRE(p.value != nullptr);
    auto *ev = static_cast<momento_refresh_event_t *>(p.value);
    CHECK(momento_refresh_event_kind(ev) == MOMENTO_REFRESH_REFRESHED);
    fingerprint = momento_refresh_event_key_fingerprint(ev);
    momento_refresh_event_free(ev);
  }
  CHECK(got.size() <= 3);
  // Unsubscribed: the next pass is queued for run_once alone.
  REQUIRE_OK(err, momento_refresher_unsubscribe(r.get(), sub, err.out()));
  REQUIRE_OK(err, momento_refresher_run_once_queued(r.get(), 0, q.get(), 12, err.out()));
  for (int i = 0; i < 20 && !seen(12); ++i) {
    std::vector<Popped> more = pop_until(fd, q.get(), 1);
    for (const Popped &p : more) CHECK((p.id == 12 || p.id == 6));
    got.insert(got.end(), more.begin(), more.end());
  }
  for (const Popped &p : got)
    if (p.id == 12) CHECK(p.value == nullptr);  // nothing was due

  // The watcher has the rotated key: as its event, and from the poll unless it had it already.
  REQUIRE_OK(err, momento_watcher_poll_queued(watcher, q.get(), 13, err.out()));
  for (int i = 0; i < 20 && !(seen(13) && seen(6)); ++i) {
    std::vector<Popped> more = pop_until(fd, q.get(), 1);
    got.insert(got.end(), more.begin(), more.end());
  }
  REQUIRE(seen(6));
  REQUIRE(seen(13));
  for (const Popped &p : got) {
    if (p.id != 6 && p.id != 13) continue;
    if (p.id == 13 && p.value == nullptr) continue;  // swapped in before the poll
    REQUIRE(p.value != nullptr);
    auto *key = static_cast<momento_watched_key_t *>(p.value);
    CHECK(std::string(momento_watched_key_fingerprint(key)) == fingerprint);
    momento_watched_key_free(key);
  }
  CHECK(std::count_if(got.begin(), got.end(), [](const Popped &p) { return p.id == 6; }) == 1);

  // Stopping and closing on library threads; the handles are gone once the close starts.
  REQUIRE_OK(err, momento_refresher_stop_queued(r.get(), q.get(), 14, err.out()));
  CHECK(only(fd, q.get(), 14).status == MOMENTO_OK);
  REQUIRE_OK(err, momento_refresher_close_queued(r.get(), q.get(), 15, err.out()));
  r.p = nullptr;
  CHECK(only(fd, q.get(), 15).status == MOMENTO_OK);
  REQUIRE_OK(err, momento_watcher_close_queued(watcher, q.get(), 16, err.out()));
  CHECK(only(fd, q.get(), 16).status == MOMENTO_OK);

  // Freeing the queue with a call in flight and an outcome never popped frees them both.
  Watcher w2;
  REQUIRE_OK(err, momento_watcher_new(w2.out(), st.get(), 3600000, nullptr, err.out()));
  REQUIRE_OK(err, momento_watcher_subscribe_queued(&watch_sub, w2.get(), q.get(), 20, err.out()));
  REQUIRE_OK(err, momento_store_load_queued(st.get(), q.get(), 21, err.out()));
  REQUIRE_OK(err, momento_watcher_new_queued(st.get(), 3600000, nullptr, q.get(), 22, err.out()));
  momento_completion_queue_free(q.p);
  q.p = nullptr;
  close(fd);
  // The two calls end on their own threads (their outcomes freed, unseen); let them finish
  // before the process does.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
}
