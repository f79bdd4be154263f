// C ABI over rules that core decides: the refresh policy (defaults, order-independent setters,
// the first broken rule by name), store specifications, and the event delivery contract
// (order, unsubscribe from a callback, stop refused and free allowed from a callback).
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capi_test_util.hpp"

using namespace capi_test;

namespace {

struct OwnedStr {
  char *p = nullptr;
  ~OwnedStr() { momento_free(p); }
};

// A file store over a file that does not exist yet: every refresher pass fails (NOT_FOUND).
struct EmptyFileStore {
  TempDir dir;
  Store store;
  EmptyFileStore() {
    Err err;
    const std::string spec = "file:" + dir.file("t.json");
    REQUIRE_OK(err, momento_store_new(store.out(), spec.c_str(), nullptr, err.out()));
  }
  momento_store_t *get() const { return store.get(); }
};

using Setter = std::function<momento_status_t(momento_refresher_options_t *, momento_error_t **)>;

// Applies two setters to new options in both orders; each order must be accepted and validate.
void check_both_orders(const Setter &first, const Setter &second) {
  for (bool swapped : {false, true}) {
    INFO("swapped: " << swapped);
    Err err;
    RefOptions o;
    REQUIRE_OK(err, momento_refresher_options_new(o.out(), err.out()));
    REQUIRE_OK(err, (swapped ? second : first)(o.get(), err.out()));
    REQUIRE_OK(err, (swapped ? first : second)(o.get(), err.out()));
    REQUIRE_OK(err, momento_refresher_options_validate(o.get(), err.out()));
  }
}

}  // namespace

TEST_CASE("refresh policy: the library's defaults are readable, with or without options",
          "[capi][policy]") {
  CHECK(momento_refresher_options_refresh_fraction(nullptr) == 0.75);
  CHECK(momento_refresher_options_jitter_fraction(nullptr) == 0.05);
  CHECK(momento_refresher_options_backoff_initial_ms(nullptr) == 1000);
  CHECK(momento_refresher_options_backoff_max_ms(nullptr) == 300000);
  CHECK(momento_refresher_options_recheck_interval_ms(nullptr) == 60000);
  Err err;
  RefOptions o;
  REQUIRE_OK(err, momento_refresher_options_new(o.out(), err.out()));
  CHECK(momento_refresher_options_refresh_fraction(o.get()) == 0.75);
  REQUIRE_OK(err, momento_refresher_options_set_refresh_fraction(o.get(), 0.5, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_backoff_max_ms(o.get(), 2000, err.out()));
  CHECK(momento_refresher_options_refresh_fraction(o.get()) == 0.5);
  CHECK(momento_refresher_options_jitter_fraction(o.get()) == 0.05);  // still the default
  CHECK(momento_refresher_options_backoff_initial_ms(o.get()) == 1000);
  CHECK(momento_refresher_options_backoff_max_ms(o.get()) == 2000);
  REQUIRE_OK(err, momento_refresher_options_validate(o.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_validate(nullptr, err.out()));
}

TEST_CASE("watcher: the default period is the library's, and its range is checked there",
          "[capi][policy]") {
  CHECK(momento_watcher_default_period_ms() == 30000);
  Err err;
  TempDir dir;
  const std::string path = dir.file("t.json");
  {
    std::FILE *f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("{\"authToken\":\"eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJub3QtYS1rZXkifQ==\","
               "\"refreshToken\":\"rt\",\"validUntil\":\"0\"}", f);
    std::fclose(f);
  }
  Store st;
  REQUIRE_OK(err, momento_store_new(st.out(), ("file:" + path).c_str(), nullptr, err.out()));
  for (int64_t bad : {int64_t{0}, int64_t{-1}, int64_t{86400001}}) {
    INFO(bad);
    momento_watcher_t *w = nullptr;
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_watcher_new(&w, st.get(), bad, nullptr, err.out()));
    CHECK_THAT(err.message(), Catch::Contains("watcher: period must be"));
    CHECK(w == nullptr);
  }
  momento_watcher_t *w = nullptr;
  REQUIRE_OK(err, momento_watcher_new(&w, st.get(), momento_watcher_default_period_ms(), nullptr,
                                      err.out()));
  momento_watcher_free(w);
}

TEST_CASE("refresh policy: the result does not depend on the order of the setters",
          "[capi][policy]") {
  // jitter 0.8 and refresh 0.9 are valid together, whichever comes first (0.8 alone is not:
  // the default refresh fraction is 0.75). The same for the backoff bounds one at a time.
  const Setter jitter = [](auto *o, auto **e) {
    return momento_refresher_options_set_jitter_fraction(o, 0.8, e);
  };
  const Setter refresh = [](auto *o, auto **e) {
    return momento_refresher_options_set_refresh_fraction(o, 0.9, e);
  };
  const Setter backoff_max = [](auto *o, auto **e) {
    return momento_refresher_options_set_backoff_max_ms(o, 500000, e);
  };
  const Setter backoff_initial = [](auto *o, auto **e) {
    return momento_refresher_options_set_backoff_initial_ms(o, 400000, e);
  };
  check_both_orders(jitter, refresh);
  check_both_orders(backoff_max, backoff_initial);
}

TEST_CASE("refresh policy: setters only record values, validation names the first rule broken",
          "[capi][policy]") {
  Err err;
  RefOptions o;
  REQUIRE_OK(err, momento_refresher_options_new(o.out(), err.out()));
  // Alone, 0.8 breaks no rule among the values set; against the default refresh fraction it does.
  REQUIRE_OK(err, momento_refresher_options_set_jitter_fraction(o.get(), 0.8, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_validate(o.get(), err.out()));
  CHECK_THAT(err.message(), Catch::Contains("jitter_fraction") &&
                                Catch::Contains("refresh_fraction (0.75 by default)"));
  EmptyFileStore st;
  Refresher r;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_new(r.out(), st.get(), nullptr, nullptr, o.get(), err.out()));
  CHECK_THAT(err.message(), Catch::Contains("jitter_fraction"));
  CHECK(r.get() == nullptr);

  // A setter keeps what it is given, whatever rule it breaks; the getters show it.
  REQUIRE_OK(err, momento_refresher_options_set_refresh_fraction(o.get(), 0.5, err.out()));
  CHECK(momento_refresher_options_refresh_fraction(o.get()) == 0.5);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_validate(o.get(), err.out()));
  CHECK_THAT(err.message(), Catch::Contains("below refresh_fraction (0.5), got 0.8"));
  REQUIRE_OK(err, momento_refresher_options_set_refresh_fraction(o.get(), std::nan(""), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_validate(o.get(), err.out()));
  CHECK_THAT(err.message(), Catch::Contains("refresh_fraction must be between 0 and 1"));
  REQUIRE_OK(err, momento_refresher_options_set_refresh_fraction(o.get(), 0.9, err.out()));
  REQUIRE_OK(err, momento_refresher_options_validate(o.get(), err.out()));

  // The first rule in the library's order is reported, not the last value set.
  RefOptions p;
  REQUIRE_OK(err, momento_refresher_options_new(p.out(), err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_backoff_max_ms(p.get(), 10, err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_refresh_fraction(p.get(), 0.01, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_validate(p.get(), err.out()));
  CHECK_THAT(err.message(), Catch::Contains("refresh_fraction must exceed jitter_fraction "
                                            "(0.05 by default), got 0.01"));
  // Limits that used to live in the C layer are the library's rules too.
  RefOptions q;
  REQUIRE_OK(err, momento_refresher_options_new(q.out(), err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_recheck_interval_ms(q.get(), 86400001, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_validate(q.get(), err.out()));
  CHECK_THAT(err.message(), Catch::Contains("recheck_interval must be at most one day"));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_set_backoff_initial_ms(nullptr, 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_set_backoff_max_ms(nullptr, 1, err.out()));
}

TEST_CASE("client config: the setters report core's rules under the C parameter's name",
          "[capi][client]") {
  Err err;
  Config cfg;
  REQUIRE_OK(err, momento_client_config_new(cfg.out(), err.out()));
  REQUIRE_OK(err, momento_client_config_set_deadline_ms(cfg.get(), 86400000, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_client_config_set_deadline_ms(cfg.get(), 0, err.out()));
  CHECK(err.message() == "deadline_ms must be positive");
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_client_config_set_deadline_ms(cfg.get(), 86400001, err.out()));
  CHECK(err.message() == "deadline_ms must be at most one day (86400000 ms)");
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_client_config_set_max_message_bytes(cfg.get(), 0, err.out()));
  CHECK(err.message() == "max_bytes must be positive");
}

TEST_CASE("store options: an AWS endpoint is http(s) or a bare host, as the library resolves it",
          "[capi][store]") {
  Err err;
  StoreOptions so;
  REQUIRE_OK(err, momento_store_options_new(so.out(), err.out()));
  REQUIRE_OK(err, momento_store_options_set_aws_endpoint(so.get(), "sm.internal", err.out()));
  REQUIRE_OK(err, momento_store_options_set_aws_endpoint(so.get(), "https://sm.internal", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_options_set_aws_endpoint(so.get(), "ftp://x", err.out()));
  CHECK(err.message() == "endpoint_url must start with http:// or https://");
}

TEST_CASE("scope: an item key added is held to the library's item key rule at once",
          "[capi][scope]") {
  Err err;
  Scope s;
  REQUIRE_OK(err, momento_scope_new(s.out(), err.out()));
  const std::string largest(64 * 1024, 'k'), larger(64 * 1024 + 1, 'k');
  REQUIRE_OK(err, momento_scope_add_cache_items(s.get(), MOMENTO_CACHE_READ_ONLY, "c",
                                                MOMENTO_ITEMS_KEY, largest.data(), largest.size(),
                                                err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_add_cache_items(s.get(), MOMENTO_CACHE_READ_ONLY, "c",
                                                 MOMENTO_ITEMS_KEY, larger.data(), larger.size(),
                                                 err.out()));
  CHECK(err.message() == "item key must be at most 64 KiB");
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_add_cache_items(s.get(), MOMENTO_CACHE_READ_ONLY, "c",
                                                 MOMENTO_ITEMS_KEY_PREFIX, " \v", 2, err.out()));
  CHECK(err.message() == "item key prefix cannot be empty or whitespace");
  CHECK(momento_scope_entry_count(s.get()) == 1);
}

TEST_CASE("store specifications are parsed by the library", "[capi][store]") {
  Err err;
  struct Case {
    const char *spec;
    int32_t kind;
    const char *location;
  } cases[] = {
      {"file:/tmp/t.json", MOMENTO_STORE_FILE, "/tmp/t.json"},
      {"./relative/t.json", MOMENTO_STORE_FILE, "./relative/t.json"},
      {"./a:b.json", MOMENTO_STORE_FILE, "./a:b.json"},
      {"aws-sm:prod/momento", MOMENTO_STORE_AWS_SECRETS_MANAGER, "prod/momento"},
      {"env:MOMENTO_API_KEY", MOMENTO_STORE_ENV, "MOMENTO_API_KEY"},
      {"env:", MOMENTO_STORE_ENV, "MOMENTO_API_KEY"},  // the library's default variable
      {"exec:{\"read\":[\"pass\",\"show\",\"k\"]}", MOMENTO_STORE_EXEC, "{\"read\":[\"pass\",\"show\",\"k\"]}"},
      {"t\xC3\xA9.json", MOMENTO_STORE_FILE, "t\xC3\xA9.json"},
  };
  for (const Case &c : cases) {
    INFO(c.spec);
    int32_t kind = 0;
    OwnedStr loc;
    REQUIRE_OK(err, momento_store_spec_parse(&kind, &loc.p, c.spec, err.out()));
    CHECK(kind == c.kind);
    CHECK(std::string(loc.p) == c.location);
  }
  int32_t kind = 7;
  OwnedStr loc;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_spec_parse(&kind, &loc.p, "s3:bucket/key", err.out()));
  CHECK_THAT(err.message(), Catch::Contains("unknown kind in 's3:'"));
  CHECK(kind == 7);
  CHECK(loc.p == nullptr);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_spec_parse(&kind, &loc.p, "", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_spec_parse(nullptr, &loc.p, "env:X", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_spec_parse(&kind, nullptr, "env:X", err.out()));
  CHECK(std::string(momento_store_kind_str(MOMENTO_STORE_AWS_SECRETS_MANAGER)) == "aws-sm");
  CHECK(std::string(momento_store_kind_str(MOMENTO_STORE_FILE)) == "file");
  CHECK(std::string(momento_store_kind_str(MOMENTO_STORE_ENV)) == "env");
  CHECK(std::string(momento_store_kind_str(MOMENTO_STORE_EXEC)) == "exec");
  CHECK(momento_store_kind_str(0) == nullptr);
  CHECK(momento_store_kind_str(5) == nullptr);
  // An exec: specification is all syntax, so it is checked by the parse itself.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_store_spec_parse(&kind, &loc.p, "exec:{\"read\":\"pass show k\"}", err.out()));
  CHECK_THAT(err.message(), Catch::Contains("\"read\" must be a non-empty list"));

  // An opened store says the same.
  Store st;
  REQUIRE_OK(err, momento_store_new(st.out(), "env:MOMENTO_RULES_TEST", nullptr, err.out()));
  CHECK(momento_store_kind(st.get()) == MOMENTO_STORE_ENV);
  CHECK(std::string(momento_store_location(st.get())) == "MOMENTO_RULES_TEST");
  CHECK(momento_store_kind(nullptr) == 0);
  CHECK(std::string(momento_store_location(nullptr)).empty());
}

namespace {

// Events of one refresher as its subscribers see them, in arrival order.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> order;  // "<tag>:<kind>:<consecutive failures>"
  void add(const std::string &s) {
    std::lock_guard<std::mutex> g(mu);
    order.push_back(s);
    cv.notify_all();
  }
  bool wait_for(size_t n) {
    std::unique_lock<std::mutex> g(mu);
    return cv.wait_for(g, std::chrono::seconds(30), [&] { return order.size() >= n; });
  }
};

}  // namespace

TEST_CASE("refresher events reach every subscriber in the order they happened",
          "[capi][events]") {
  Err err;
  EmptyFileStore st;
  Seen a, b;
  Refresher r;
  REQUIRE_OK(err, momento_refresher_new(r.out(), st.get(), nullptr, nullptr, nullptr, err.out()));
  auto fn = [](const momento_refresh_event_t *e, void *ud) {
    static_cast<Seen *>(ud)->add(std::to_string(momento_refresh_event_consecutive_failures(e)));
  };
  uint64_t id = 0;
  REQUIRE_OK(err, momento_refresher_subscribe(&id, r.get(), fn, &a, nullptr, err.out()));
  REQUIRE_OK(err, momento_refresher_subscribe(&id, r.get(), fn, &b, nullptr, err.out()));
  // Each pass over the empty store fails once more: the failure count orders the events.
  std::vector<int32_t> returned;
  for (int i = 0; i < 30; ++i) {
    Event ev;
    REQUIRE_OK(err, momento_refresher_run_once(ev.out(), r.get(), 0, err.out()));
    REQUIRE(ev.get() != nullptr);
    returned.push_back(momento_refresh_event_consecutive_failures(ev.get()));
  }
  REQUIRE(a.wait_for(30));
  REQUIRE(b.wait_for(30));
  std::lock_guard<std::mutex> ga(a.mu), gb(b.mu);
  for (int i = 0; i < 30; ++i) {
    CHECK(returned[i] == i + 1);
    CHECK(a.order[i] == std::to_string(i + 1));
  }
  CHECK(a.order == b.order);
}

TEST_CASE("refresher stop from its own callback is an error; free from there ends it after the callback",
          "[capi][events]") {
  Err err;
  EmptyFileStore st;
  struct Self {
    momento_refresher_t *r = nullptr;
    std::atomic<int> calls{0};
    std::atomic<int32_t> stop_status{1};
    std::string stop_message;
    std::atomic<bool> freed{false};
    std::atomic<int> destroyed{0};
    std::atomic<bool> destroyed_after_free{false};
  } self;
  momento_refresher_t *r = nullptr;
  REQUIRE_OK(err, momento_refresher_new(&r, st.get(), nullptr, nullptr, nullptr, err.out()));
  self.r = r;
  auto fn = [](const momento_refresh_event_t *, void *ud) {
    auto *s = static_cast<Self *>(ud);
    if (s->calls++ > 0) return;
    momento_error_t *e = nullptr;
    s->stop_status = momento_refresher_stop(s->r, &e);  // refused: it would wait for itself
    if (e) s->stop_message = momento_error_message(e);
    momento_error_free(e);
    momento_refresher_free(s->r);  // returns at once; the refresher ends after this callback
    s->freed = true;
  };
  auto destroy = [](void *ud) {
    auto *s = static_cast<Self *>(ud);
    s->destroyed_after_free = s->freed.load();
    ++s->destroyed;
  };
  uint64_t id = 0;
  REQUIRE_OK(err, momento_refresher_subscribe(&id, r, fn, &self, destroy, err.out()));
  REQUIRE_OK(err, momento_refresher_start(r, err.out()));  // the loop's first pass fails: empty
  for (int i = 0; i < 400 && self.destroyed == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  CHECK(self.stop_status == MOMENTO_ERR_FAILED_PRECONDITION);
  CHECK_THAT(self.stop_message, Catch::Contains("own callback"));
  CHECK(self.freed);
  CHECK(self.destroyed == 1);
  CHECK(self.destroyed_after_free);
  CHECK(self.calls == 1);
}

TEST_CASE("a stored key passes through load and save as it is, its endpoint read on demand",
          "[capi][token]") {
  Err err;
  TempDir dir;
  const std::string envelope =
      "eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJub3QtYS1rZXkifQ==";  // endpoint localhost
  for (const std::string &key : {envelope, std::string("not-a-key-at-all")}) {
    INFO(key);
    const std::string src = dir.file("src.json"), dst = dir.file("dst.json");
    {
      std::FILE *f = std::fopen(src.c_str(), "w");
      REQUIRE(f != nullptr);
      std::fputs(("{\"authToken\":\"" + key + "\",\"refreshToken\":\"rt\",\"validUntil\":\"1900000000\"}")
                     .c_str(), f);
      std::fclose(f);
    }
    Store a, b;
    REQUIRE_OK(err, momento_store_new(a.out(), ("file:" + src).c_str(), nullptr, err.out()));
    REQUIRE_OK(err, momento_store_new(b.out(), ("file:" + dst).c_str(), nullptr, err.out()));
    momento_token_t *t = nullptr;
    REQUIRE_OK(err, momento_store_load(&t, a.get(), err.out()));
    REQUIRE_OK(err, momento_store_save(b.get(), t, err.out()));
    momento_token_t *u = nullptr;
    REQUIRE_OK(err, momento_store_load(&u, b.get(), err.out()));
    CHECK(std::string(momento_token_api_key(u)) == key);
    CHECK(std::string(momento_token_refresh_token(u)) == "rt");
    CHECK(momento_token_valid_until(u) == 1900000000);
    CHECK(std::string(momento_token_endpoint(t)) == (key == envelope ? "localhost" : ""));
    CHECK(std::string(momento_token_endpoint(u)) == momento_token_endpoint(t));
    momento_token_free(t);
    momento_token_free(u);
  }
}

TEST_CASE("refresh policy: which failures were definite, as core decides", "[capi][rules]") {
  // The server answered and refused: nothing was consumed.
  for (momento_status_t st : std::vector<momento_status_t>{MOMENTO_ERR_INVALID_ARGUMENT, MOMENTO_ERR_AUTHENTICATION, MOMENTO_ERR_PERMISSION,
                              MOMENTO_ERR_NOT_FOUND, MOMENTO_ERR_ALREADY_EXISTS, MOMENTO_ERR_LIMIT_EXCEEDED,
                              MOMENTO_ERR_FAILED_PRECONDITION, MOMENTO_ERR_BAD_REQUEST}) {
    INFO(momento_status_str(st));
    CHECK(momento_status_definite(st) == 1);
  }
  // The request may have been committed and its answer lost.
  for (momento_status_t st : std::vector<momento_status_t>{MOMENTO_ERR_CANCELLED, MOMENTO_ERR_TIMEOUT, MOMENTO_ERR_SERVER_UNAVAILABLE,
                              MOMENTO_ERR_INTERNAL_SERVER, MOMENTO_ERR_UNKNOWN_SERVICE, MOMENTO_ERR_CONNECTION,
                              MOMENTO_ERR_CLIENT_RESOURCE_EXHAUSTED, MOMENTO_ERR_UNKNOWN}) {
    INFO(momento_status_str(st));
    CHECK(momento_status_definite(st) == 0);
  }
  for (momento_status_t st : std::vector<momento_status_t>{MOMENTO_OK, 1, -17, INT32_MIN, INT32_MAX}) CHECK(momento_status_definite(st) == 0);
}

TEST_CASE("refresh policy: replay timing after a lost answer", "[capi][rules]") {
  Err err;
  int64_t d = 0;
  const int64_t t0 = 1700000000000;
  // The defaults: 1 s doubling, jitter ±20%, inside 30 s less a 5 s margin.
  REQUIRE_OK(err, momento_refresher_options_replay_delay_ms(&d, nullptr, 1, t0, t0, err.out()));
  CHECK((d >= 800 && d <= 1200));
  REQUIRE_OK(err, momento_refresher_options_replay_delay_ms(&d, nullptr, 3, t0, t0 + 1000, err.out()));
  CHECK((d >= 3200 && d <= 4800));
  // Cut short to land before the deadline, then none at all.
  REQUIRE_OK(err, momento_refresher_options_replay_delay_ms(&d, nullptr, 6, t0, t0 + 24700, err.out()));
  CHECK((d > 0 && d <= 300));
  REQUIRE_OK(err, momento_refresher_options_replay_delay_ms(&d, nullptr, 1, t0, t0 + 25000, err.out()));
  CHECK(d == -1);
  REQUIRE_OK(err, momento_refresher_options_replay_delay_ms(&d, nullptr, 1, 0, INT64_MAX, err.out()));
  CHECK(d == -1);
  // A clock that went back: a normal delay.
  REQUIRE_OK(err, momento_refresher_options_replay_delay_ms(&d, nullptr, 1, INT64_MAX, 0, err.out()));
  CHECK((d >= 800 && d <= 1200));

  // The options' backoff is used; a broken policy is named.
  RefOptions o;
  REQUIRE_OK(err, momento_refresher_options_new(o.out(), err.out()));
  REQUIRE_OK(err, momento_refresher_options_set_backoff_initial_ms(o.get(), 2000, err.out()));
  REQUIRE_OK(err, momento_refresher_options_replay_delay_ms(&d, o.get(), 1, t0, t0, err.out()));
  CHECK((d >= 1600 && d <= 2400));
  REQUIRE_OK(err, momento_refresher_options_set_backoff_max_ms(o.get(), 1000, err.out()));
  d = 7;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_replay_delay_ms(&d, o.get(), 1, t0, t0, err.out()));
  CHECK(err.message().find("backoff_max") != std::string::npos);
  CHECK(d == 7);

  // Argument checks, naming the parameter.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_replay_delay_ms(nullptr, nullptr, 1, t0, t0, err.out()));
  CHECK(err.message().find("delay_ms") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_replay_delay_ms(&d, nullptr, 0, t0, t0, err.out()));
  CHECK(err.message().find("failures") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_replay_delay_ms(&d, nullptr, 1, -1, t0, err.out()));
  CHECK(err.message().find("started_ms") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_refresher_options_replay_delay_ms(&d, nullptr, 1, t0, -5, err.out()));
  CHECK(err.message().find("now_ms") != std::string::npos);
  CHECK(d == 7);
}
