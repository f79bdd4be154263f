// The deprecated names of auth.h stay exported and behave exactly like their new names.
#include <cstring>

#include "capi_test_util.hpp"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using capi_test::Err;

TEST_CASE("deprecated kind names equal the new _str functions", "[capi][deprecated]") {
  for (int32_t k = -1; k <= 6; ++k) {
    const char *a = momento_credential_kind_name(k);
    const char *b = momento_credential_kind_str(k);
    CHECK((a == nullptr) == (b == nullptr));
    if (a && b) CHECK(std::string(a) == b);
    const char *c = momento_refresh_event_kind_name(k);
    const char *d = momento_refresh_event_kind_str(k);
    CHECK((c == nullptr) == (d == nullptr));
    if (c && d) CHECK(std::string(c) == d);
  }
  CHECK(std::string(momento_credential_kind_str(MOMENTO_CREDENTIAL_LOCAL)) == "local");
  CHECK(std::string(momento_refresh_event_kind_str(MOMENTO_REFRESH_FAILED)) == "failed");
}

TEST_CASE("deprecated endpoint override and local credential names build the same values",
          "[capi][deprecated]") {
  Err err;
  momento_endpoint_override_t *a = nullptr, *b = nullptr;
  REQUIRE_OK(err, momento_endpoint_override_single(&a, "127.0.0.1:9", 0, err.out()));
  REQUIRE_OK(err, momento_endpoint_override_new_single(&b, "127.0.0.1:9", 0, err.out()));
  momento_credential_t *ca = nullptr, *cb = nullptr;
  REQUIRE_OK(err, momento_credential_local(&ca, "127.0.0.1", 9, err.out()));
  REQUIRE_OK(err, momento_credential_new_local(&cb, "127.0.0.1", 9, err.out()));
  CHECK(std::string(momento_credential_redacted(ca)) == momento_credential_redacted(cb));
  momento_credential_t *wa = nullptr, *wb = nullptr;
  REQUIRE_OK(err, momento_credential_with_override(&wa, ca, a, err.out()));
  REQUIRE_OK(err, momento_credential_with_override(&wb, cb, b, err.out()));
  CHECK(std::string(momento_credential_redacted(wa)) == momento_credential_redacted(wb));
  momento_credential_free(wa);
  momento_credential_free(wb);
  momento_credential_free(ca);
  momento_credential_free(cb);
  momento_endpoint_override_free(a);
  momento_endpoint_override_free(b);

  momento_endpoint_override_t *o = nullptr;
  REQUIRE_OK(err, momento_endpoint_override_base(&o, "example.com", "p", 1, err.out()));
  momento_endpoint_override_free(o);
  o = nullptr;
  REQUIRE_OK(err, momento_endpoint_override_explicit(&o, "a:1", "b:2", "c:3", 1, err.out()));
  momento_endpoint_override_free(o);
  o = nullptr;
  // Same argument checks as the new names.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_endpoint_override_base(&o, nullptr, nullptr, 1, err.out()));
  CHECK(o == nullptr);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_credential_local(nullptr, nullptr, 0, err.out()));
}

TEST_CASE("deprecated store and watcher names open, save, load and watch the same store",
          "[capi][deprecated]") {
  capi_test::TempDir dir;
  const std::string path = dir.file("token.json");
  const std::string spec = "file:" + path;
  const std::string env = "eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJub3QtYS1rZXkifQ==";
  {
    std::FILE *f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs((R"({"authToken":")" + env + R"(","refreshToken":"rt-1","validUntil":"1900000000"})").c_str(), f);
    std::fclose(f);
  }
  Err err;
  momento_store_t *store = nullptr;
  REQUIRE_OK(err, momento_store_open(&store, spec.c_str(), nullptr, err.out()));
  CHECK(std::string(momento_store_describe(store)) == spec);
  momento_token_t *t = nullptr;
  REQUIRE_OK(err, momento_store_load(&t, store, err.out()));
  momento_store_t *copy = nullptr;
  const std::string copy_spec = "file:" + dir.file("copy.json");
  REQUIRE_OK(err, momento_store_open(&copy, copy_spec.c_str(), nullptr, err.out()));
  REQUIRE_OK(err, momento_store_store(copy, t, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_store_store(copy, nullptr, err.out()));

  momento_watcher_t *w = nullptr;
  REQUIRE_OK(err, momento_watcher_new(&w, copy, 60000, nullptr, err.out()));
  momento_credential_t *c = nullptr;
  REQUIRE_OK(err, momento_watcher_current(&c, w, err.out()));
  momento_credential_t *c2 = nullptr;
  REQUIRE_OK(err, momento_watcher_current_credential(&c2, w, err.out()));
  CHECK(std::string(momento_credential_redacted(c)) == momento_credential_redacted(c2));
  CHECK(std::string(momento_credential_base_endpoint(c)) == "localhost");
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_watcher_current(nullptr, w, err.out()));
  momento_credential_free(c);
  momento_credential_free(c2);
  momento_watcher_free(w);
  momento_token_free(t);
  momento_store_free(copy);
  momento_store_free(store);
}
