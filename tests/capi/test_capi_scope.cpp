// C ABI, scope and lifetime modules: builders, typed setters, validation at build time.
#include <cstring>
#include <ctime>

#include "capi_test_util.hpp"

using namespace capi_test;

TEST_CASE("ExpiresIn units", "[capi][expiry]") {
  Err err;
  Expires e;
  REQUIRE_OK(err, momento_expires_in_new(e.out(), MOMENTO_EXPIRES_NEVER, 0, err.out()));
  CHECK(momento_expires_in_does_expire(e.get()) == 0);
  CHECK(momento_expires_in_seconds(e.get()) == 0);

  struct Case { int32_t unit; int64_t amount; uint32_t seconds; };
  for (Case c : {Case{MOMENTO_EXPIRES_SECONDS, 30, 30}, Case{MOMENTO_EXPIRES_MINUTES, 2, 120},
                 Case{MOMENTO_EXPIRES_HOURS, 3, 10800}, Case{MOMENTO_EXPIRES_DAYS, 1, 86400}}) {
    REQUIRE_OK(err, momento_expires_in_new(e.out(), c.unit, c.amount, err.out()));
    CHECK(momento_expires_in_does_expire(e.get()) == 1);
    CHECK(momento_expires_in_seconds(e.get()) == c.seconds);
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  REQUIRE_OK(err, momento_expires_in_new(e.out(), MOMENTO_EXPIRES_AT_EPOCH, now + 7200, err.out()));
  CHECK(momento_expires_in_does_expire(e.get()) == 1);
  // Rounded to whole seconds against the clock at the call: within a minute of two hours.
  CHECK(momento_expires_in_seconds(e.get()) <= 7200u);
  CHECK(momento_expires_in_seconds(e.get()) >= 7140u);
}

TEST_CASE("ExpiresIn argument validation", "[capi][expiry][validation]") {
  Err err;
  auto *sentinel = reinterpret_cast<momento_expires_in_t *>(0x1);
  momento_expires_in_t *out = sentinel;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  struct Bad { int32_t unit; int64_t amount; };
  for (Bad b : {Bad{MOMENTO_EXPIRES_NEVER, 5}, Bad{MOMENTO_EXPIRES_SECONDS, 0},
                Bad{MOMENTO_EXPIRES_SECONDS, -1}, Bad{MOMENTO_EXPIRES_SECONDS, 4294967296LL},
                Bad{MOMENTO_EXPIRES_DAYS, 1000000}, Bad{MOMENTO_EXPIRES_MINUTES, INT64_MAX},
                Bad{MOMENTO_EXPIRES_AT_EPOCH, now - 10}, Bad{-1, 1}, Bad{6, 1}, Bad{INT32_MIN, 1}}) {
    INFO("unit " << b.unit << " amount " << b.amount);
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_expires_in_new(&out, b.unit, b.amount, err.out()));
  }
  CHECK(out == sentinel);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_expires_in_new(nullptr, MOMENTO_EXPIRES_SECONDS, 1, err.out()));
  CHECK(momento_expires_in_does_expire(nullptr) == 0);
  CHECK(momento_expires_in_seconds(nullptr) == 0);
  momento_expires_in_free(nullptr);
}

TEST_CASE("predefined scopes validate for their uses", "[capi][scope]") {
  Err err;
  Scope su = predefined(MOMENTO_SCOPE_SUPER_USER);
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Scope ro = predefined(MOMENTO_SCOPE_ALL_DATA_READ_ONLY);
  for (auto *s : {su.get(), rw.get(), ro.get()}) {
    CHECK(momento_scope_entry_count(s) == 0);
    REQUIRE_OK(err, momento_scope_validate(s, MOMENTO_SCOPE_USE_API_KEY, err.out()));
  }
  REQUIRE_OK(err, momento_scope_validate(rw.get(), MOMENTO_SCOPE_USE_DISPOSABLE_TOKEN, err.out()));
  // SuperUser can never be a disposable token's scope.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_validate(su.get(), MOMENTO_SCOPE_USE_DISPOSABLE_TOKEN, err.out()));
  // Predefined scopes are closed.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_add_cache(rw.get(), MOMENTO_CACHE_READ_ONLY, nullptr, err.out()));
  CHECK(momento_scope_entry_count(rw.get()) == 0);
}

TEST_CASE("predefined scopes by name, as the CLI takes them", "[capi][scope]") {
  for (int32_t which : {MOMENTO_SCOPE_SUPER_USER, MOMENTO_SCOPE_ALL_DATA_READ_WRITE, MOMENTO_SCOPE_ALL_DATA_READ_ONLY}) {
    const char *name = momento_scope_predefined_str(which);
    REQUIRE(name != nullptr);
    CHECK(momento_scope_predefined_from_str(name) == which);
  }
  CHECK(std::string(momento_scope_predefined_str(MOMENTO_SCOPE_ALL_DATA_READ_ONLY)) == "all-data-read-only");
  for (int32_t bad : {0, 4, -1}) CHECK(momento_scope_predefined_str(bad) == nullptr);
  for (const char *bad : {"", "admin", "Super-User", " super-user"}) CHECK(momento_scope_predefined_from_str(bad) == 0);
  CHECK(momento_scope_predefined_from_str(nullptr) == 0);
}

TEST_CASE("fine-grained entries and item selectors", "[capi][scope]") {
  Err err;
  Scope s;
  REQUIRE_OK(err, momento_scope_new(s.out(), err.out()));
  // Empty scope: rejected for both uses.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_validate(s.get(), MOMENTO_SCOPE_USE_API_KEY, err.out()));

  REQUIRE_OK(err, momento_scope_add_cache(s.get(), MOMENTO_CACHE_READ_WRITE, "orders", err.out()));
  REQUIRE_OK(err, momento_scope_add_cache(s.get(), MOMENTO_CACHE_READ_ONLY, nullptr, err.out()));
  REQUIRE_OK(err, momento_scope_add_topic(s.get(), MOMENTO_TOPIC_SUBSCRIBE_ONLY, "orders",
                                          MOMENTO_SELECT_PREFIX, "news-", err.out()));
  REQUIRE_OK(err, momento_scope_add_topic(s.get(), MOMENTO_TOPIC_PUBLISH_ONLY, nullptr,
                                          MOMENTO_SELECT_ALL, nullptr, err.out()));
  REQUIRE_OK(err, momento_scope_add_function(s.get(), MOMENTO_FUNCTION_INVOKE, "orders",
                                             MOMENTO_SELECT_NAME, "resize", err.out()));
  CHECK(momento_scope_entry_count(s.get()) == 5);
  REQUIRE_OK(err, momento_scope_validate(s.get(), MOMENTO_SCOPE_USE_API_KEY, err.out()));
  REQUIRE_OK(err, momento_scope_validate(s.get(), MOMENTO_SCOPE_USE_DISPOSABLE_TOKEN, err.out()));

  // Item restrictions: fine for disposable tokens, refused for API keys.
  const char key[] = {'k', '\0', 'y'};  // keys are bytes and may hold NUL
  REQUIRE_OK(err, momento_scope_add_cache_items(s.get(), MOMENTO_CACHE_READ_ONLY, "orders",
                                                MOMENTO_ITEMS_KEY, key, sizeof key, err.out()));
  REQUIRE_OK(err, momento_scope_add_cache_items(s.get(), MOMENTO_CACHE_WRITE_ONLY, "orders",
                                                MOMENTO_ITEMS_KEY_PREFIX, "user-", 5, err.out()));
  REQUIRE_OK(err, momento_scope_add_cache_items(s.get(), MOMENTO_CACHE_READ_WRITE, "carts",
                                                MOMENTO_ITEMS_ALL, nullptr, 0, err.out()));
  CHECK(momento_scope_entry_count(s.get()) == 8);
  REQUIRE_OK(err, momento_scope_validate(s.get(), MOMENTO_SCOPE_USE_DISPOSABLE_TOKEN, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_validate(s.get(), MOMENTO_SCOPE_USE_API_KEY, err.out()));

  // At most ten entries; the eleventh is refused and nothing changes.
  REQUIRE_OK(err, momento_scope_add_cache(s.get(), MOMENTO_CACHE_READ_WRITE, "c9", err.out()));
  REQUIRE_OK(err, momento_scope_add_cache(s.get(), MOMENTO_CACHE_READ_WRITE, "c10", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_add_cache(s.get(), MOMENTO_CACHE_READ_WRITE, "c11", err.out()));
  CHECK(momento_scope_entry_count(s.get()) == 10);
}

TEST_CASE("scope argument validation", "[capi][scope][validation]") {
  Err err;
  auto *sentinel = reinterpret_cast<momento_scope_t *>(0x1);
  momento_scope_t *out = sentinel;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_scope_new(nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_new_predefined(nullptr, MOMENTO_SCOPE_SUPER_USER, err.out()));
  for (int32_t which : {0, 4, -1, 99})
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_scope_new_predefined(&out, which, err.out()));
  CHECK(out == sentinel);

  // NULL scope handle for every function taking one.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_add_cache(nullptr, MOMENTO_CACHE_READ_WRITE, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_add_topic(nullptr, MOMENTO_TOPIC_PUBLISH_SUBSCRIBE, nullptr,
                                           MOMENTO_SELECT_ALL, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_add_function(nullptr, MOMENTO_FUNCTION_INVOKE, nullptr,
                                              MOMENTO_SELECT_ALL, nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_add_cache_items(nullptr, MOMENTO_CACHE_READ_WRITE, nullptr,
                                                 MOMENTO_ITEMS_ALL, nullptr, 0, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_scope_validate(nullptr, MOMENTO_SCOPE_USE_API_KEY, err.out()));
  CHECK(momento_scope_entry_count(nullptr) == 0);
  momento_scope_free(nullptr);

  Scope s;
  REQUIRE_OK(err, momento_scope_new(s.out(), err.out()));
  auto *sp = s.get();

  SECTION("unknown roles, selectors and uses") {
    for (int32_t role : {-1, 4, 100})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_cache(sp, role, nullptr, err.out()));
    for (int32_t role : {-1, 4})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_topic(sp, role, nullptr, MOMENTO_SELECT_ALL, nullptr,
                                               err.out()));
    for (int32_t role : {-1, 2})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_function(sp, role, nullptr, MOMENTO_SELECT_ALL, nullptr,
                                                  err.out()));
    for (int32_t sel : {-1, 3})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_topic(sp, MOMENTO_TOPIC_PUBLISH_SUBSCRIBE, nullptr, sel,
                                               "t", err.out()));
    for (int32_t sel : {0, 4, -1})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_cache_items(sp, MOMENTO_CACHE_READ_WRITE, nullptr, sel,
                                                     "k", 1, err.out()));
    for (int32_t use : {-1, 2})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_validate(sp, use, err.out()));
  }
  SECTION("empty and non-UTF-8 names") {
    for (const char *bad : {"", kBadUtf8}) {
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_cache(sp, MOMENTO_CACHE_READ_WRITE, bad, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_topic(sp, MOMENTO_TOPIC_PUBLISH_SUBSCRIBE, bad,
                                               MOMENTO_SELECT_ALL, nullptr, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_topic(sp, MOMENTO_TOPIC_PUBLISH_SUBSCRIBE, nullptr,
                                               MOMENTO_SELECT_NAME, bad, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_function(sp, MOMENTO_FUNCTION_INVOKE, nullptr,
                                                  MOMENTO_SELECT_PREFIX, bad, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_cache_items(sp, MOMENTO_CACHE_READ_WRITE, bad,
                                                     MOMENTO_ITEMS_ALL, nullptr, 0, err.out()));
    }
  }
  SECTION("selector/value mismatches") {
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_scope_add_topic(sp, MOMENTO_TOPIC_PUBLISH_SUBSCRIBE, nullptr,
                                             MOMENTO_SELECT_ALL, "t", err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_scope_add_topic(sp, MOMENTO_TOPIC_PUBLISH_SUBSCRIBE, nullptr,
                                             MOMENTO_SELECT_NAME, nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_scope_add_function(sp, MOMENTO_FUNCTION_INVOKE, nullptr,
                                                MOMENTO_SELECT_PREFIX, nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_scope_add_cache_items(sp, MOMENTO_CACHE_READ_WRITE, nullptr,
                                                   MOMENTO_ITEMS_ALL, "k", 1, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_scope_add_cache_items(sp, MOMENTO_CACHE_READ_WRITE, nullptr,
                                                   MOMENTO_ITEMS_KEY, nullptr, 3, err.out()));
    for (const char *blank : {"", "  ", "\t\n"})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_scope_add_cache_items(sp, MOMENTO_CACHE_READ_WRITE, nullptr,
                                                     MOMENTO_ITEMS_KEY_PREFIX, blank,
                                                     std::strlen(blank), err.out()));
  }
  // Nothing was added by any failing call.
  CHECK(momento_scope_entry_count(sp) == 0);
}

TEST_CASE("UTF-8 checking accepts multi-byte text and rejects malformed sequences",
          "[capi][validation][utf8]") {
  Err err;
  Scope s;
  REQUIRE_OK(err, momento_scope_new(s.out(), err.out()));
  // Long enough to exercise the 8-byte ASCII fast path before and after the multi-byte parts.
  REQUIRE_OK(err, momento_scope_add_cache(s.get(), MOMENTO_CACHE_READ_WRITE,
                                          "cache-name-caf\xc3\xa9-\xe5\x90\x8d\xe5\x89\x8d-"
                                          "\xf0\x9f\x98\x80-tail-tail-tail",
                                          err.out()));
  const char *bad[] = {
      "\xc0\x80",                      // overlong NUL
      "\xe0\x80\xaf",                  // overlong '/'
      "\xed\xa0\x80",                  // UTF-16 surrogate
      "\xf4\x90\x80\x80",              // above U+10FFFF
      "\xe2\x82",                      // truncated
      "abcdefgh\xff",                  // invalid byte after the fast path
      "abcdefghijklmnop\x80qrstuvwx",  // stray continuation byte mid-string
  };
  for (const char *b : bad) {
    INFO(b);
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_scope_add_cache(s.get(), MOMENTO_CACHE_READ_WRITE, b, err.out()));
    CHECK(err.message().find("UTF-8") != std::string::npos);
  }
  CHECK(momento_scope_entry_count(s.get()) == 1);
}
