// C ABI, data client module: argument validation for every function, and round trips against
// the local server (caches, items, ping, scope enforcement, a key validated with ListCaches).
#include <algorithm>
#include <cstring>

#include "capi_test_util.hpp"
#include "momento/auth.hpp"

using namespace capi_test;

namespace {

using DataClient = Owned<momento_data_client_t, momento_data_client_free>;
using StringList = Owned<momento_string_list_t, momento_string_list_free>;

DataClient data_client(const momento_credential_t *cred, int64_t deadline_ms = 10000) {
  Err err;
  Config cfg;
  REQUIRE_OK(err, momento_client_config_new(cfg.out(), err.out()));
  REQUIRE_OK(err, momento_client_config_set_deadline_ms(cfg.get(), deadline_ms, err.out()));
  DataClient c;
  REQUIRE_OK(err, momento_data_client_new(c.out(), cred, cfg.get(), err.out()));
  return c;
}

Credential file_credential(const std::string &file, const std::string &address) {
  Err err;
  Override ov;
  REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), address.c_str(), 0, err.out()));
  Credential cred;
  REQUIRE_OK(err, momento_credential_from_file(cred.out(), file.c_str(), ov.get(), err.out()));
  return cred;
}

Credential string_credential(const std::string &key, const std::string &address) {
  Err err;
  Override ov;
  REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), address.c_str(), 0, err.out()));
  Credential cred;
  REQUIRE_OK(err, momento_credential_from_string(cred.out(), key.c_str(), ov.get(), err.out()));
  return cred;
}

std::vector<std::string> names_of(const momento_string_list_t *list) {
  std::vector<std::string> v;
  for (size_t i = 0; i < momento_string_list_count(list); ++i)
    v.emplace_back(momento_string_list_get(list, i));
  return v;
}

}  // namespace

TEST_CASE("data client: argument validation", "[capi][data]") {
  Err err;
  Credential cred;
  REQUIRE_OK(err, momento_credential_new_local(cred.out(), "127.0.0.1", 9, err.out()));
  DataClient c;

  // new
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_new(nullptr, cred.get(), nullptr, err.out()));
  CHECK(err.message().find("out") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_new(c.out(), nullptr, nullptr, err.out()));
  CHECK(err.message().find("credential") != std::string::npos);
  CHECK(c.get() == nullptr);  // untouched on failure
  REQUIRE_OK(err, momento_data_client_new(c.out(), cred.get(), nullptr, err.out()));
  CHECK(momento_data_client_credential(c.get()) != nullptr);
  CHECK(momento_credential_kind(momento_data_client_credential(c.get())) ==
        MOMENTO_CREDENTIAL_LOCAL);
  CHECK(momento_data_client_credential(nullptr) == nullptr);
  momento_data_client_free(nullptr);

  // Cache-name functions: NULL client, NULL / empty / non-UTF-8 names.
  using CacheFn = momento_status_t (*)(momento_data_client_t *, const char *, momento_error_t **);
  for (CacheFn fn : {momento_data_client_create_cache, momento_data_client_delete_cache,
                     momento_data_client_flush_cache}) {
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, fn(nullptr, "c", err.out()));
    CHECK(err.message().find("client") != std::string::npos);
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, fn(c.get(), nullptr, err.out()));
    CHECK(err.message().find("cache_name") != std::string::npos);
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, fn(c.get(), "", err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, fn(c.get(), kBadUtf8, err.out()));
    CHECK(err.message().find("UTF-8") != std::string::npos);
  }

  // list_caches
  StringList list;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_list_caches(nullptr, c.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_list_caches(list.out(), nullptr, err.out()));
  CHECK(list.get() == nullptr);

  // set
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_set(nullptr, "c", "k", 1, "v", 1, 1000, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_set(c.get(), nullptr, "k", 1, "v", 1, 1000, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_set(c.get(), kBadUtf8, "k", 1, "v", 1, 1000, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_set(c.get(), "c", nullptr, 1, "v", 1, 1000, err.out()));
  CHECK(err.message().find("key") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_set(c.get(), "c", "", 0, "v", 1, 1000, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_set(c.get(), "c", "k", 1, nullptr, 1, 1000, err.out()));
  CHECK(err.message().find("value") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_set(c.get(), "c", "k", 1, "v", 1, 0, err.out()));
  CHECK(err.message().find("ttl") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_set(c.get(), "c", "k", 1, "v", 1, -5, err.out()));

  // get: every out-parameter, and they stay untouched on failure.
  int32_t hit = 7;
  char *value = reinterpret_cast<char *>(0x1);
  size_t len = 99;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_get(nullptr, &value, &len, c.get(), "c", "k", 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_get(&hit, nullptr, &len, c.get(), "c", "k", 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_get(&hit, &value, nullptr, c.get(), "c", "k", 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_get(&hit, &value, &len, nullptr, "c", "k", 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_get(&hit, &value, &len, c.get(), nullptr, "k", 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_get(&hit, &value, &len, c.get(), "c", nullptr, 3, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_get(&hit, &value, &len, c.get(), "c", "", 0, err.out()));
  CHECK(hit == 7);
  CHECK(value == reinterpret_cast<char *>(0x1));
  CHECK(len == 99);

  // delete
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_delete(nullptr, "c", "k", 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_delete(c.get(), "", "k", 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_data_client_delete(c.get(), "c", nullptr, 1, err.out()));

  // ping
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_data_client_ping(nullptr, err.out()));

  // String lists are NULL-safe.
  CHECK(momento_string_list_count(nullptr) == 0);
  CHECK(momento_string_list_get(nullptr, 0) == nullptr);
  momento_string_list_free(nullptr);

  // err may be NULL: the status alone.
  CHECK(momento_data_client_ping(nullptr, nullptr) == MOMENTO_ERR_INVALID_ARGUMENT);
}

TEST_CASE("data client: an unreachable server is reported, not hung on", "[capi][data]") {
  Err err;
  const std::string addr = closed_port_address();
  Credential cred;
  REQUIRE_OK(err, momento_credential_new_local(cred.out(), "127.0.0.1",
                                           static_cast<uint16_t>(std::stoi(addr.substr(10))),
                                           err.out()));
  DataClient c = data_client(cred.get(), 3000);
  momento_status_t st = momento_data_client_ping(c.get(), err.out());
  CHECK((st == MOMENTO_ERR_SERVER_UNAVAILABLE || st == MOMENTO_ERR_CONNECTION ||
         st == MOMENTO_ERR_TIMEOUT));
  CHECK(err.retryable());
}

TEST_CASE("data client: caches, items and ping against the local server",
          "[capi][data][server]") {
  Server srv;
  Err err;
  Credential admin_cred = file_credential(srv.bootstrap_file(), srv.address());
  DataClient admin = data_client(admin_cred.get());

  REQUIRE_OK(err, momento_data_client_ping(admin.get(), err.out()));
  REQUIRE_OK(err, momento_data_client_create_cache(admin.get(), "capi-a", err.out()));
  REQUIRE_OK(err, momento_data_client_create_cache(admin.get(), "capi-b", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_ALREADY_EXISTS, err,
                   momento_data_client_create_cache(admin.get(), "capi-a", err.out()));
  CHECK(err.grpc() == 6);  // ALREADY_EXISTS

  StringList list;
  REQUIRE_OK(err, momento_data_client_list_caches(list.out(), admin.get(), err.out()));
  std::vector<std::string> names = names_of(list.get());
  CHECK(std::count(names.begin(), names.end(), "capi-a") == 1);
  CHECK(std::count(names.begin(), names.end(), "capi-b") == 1);
  CHECK(momento_string_list_get(list.get(), names.size()) == nullptr);

  // Binary keys and values survive the round trip, embedded NUL included.
  const char key[] = {'k', '\0', 'x'};
  const char val[] = {'v', '\0', '\xff', 'w'};
  REQUIRE_OK(err, momento_data_client_set(admin.get(), "capi-a", key, sizeof key, val, sizeof val,
                                          60000, err.out()));
  int32_t hit = -1;
  char *value = nullptr;
  size_t len = 0;
  REQUIRE_OK(err, momento_data_client_get(&hit, &value, &len, admin.get(), "capi-a", key,
                                          sizeof key, err.out()));
  CHECK(hit == 1);
  REQUIRE(len == sizeof val);
  CHECK(std::memcmp(value, val, len) == 0);
  CHECK(value[len] == '\0');
  momento_free(value);

  // A different key misses; NULL with length 0 is an empty value.
  value = reinterpret_cast<char *>(0x1);
  REQUIRE_OK(err, momento_data_client_get(&hit, &value, &len, admin.get(), "capi-a", "k", 1,
                                          err.out()));
  CHECK(hit == 0);
  CHECK(value == nullptr);
  CHECK(len == 0);
  REQUIRE_OK(err, momento_data_client_set(admin.get(), "capi-a", "empty", 5, nullptr, 0, 60000,
                                          err.out()));
  REQUIRE_OK(err, momento_data_client_get(&hit, &value, &len, admin.get(), "capi-a", "empty", 5,
                                          err.out()));
  CHECK(hit == 1);
  CHECK(len == 0);
  momento_free(value);

  // delete, then miss; flush empties the cache.
  REQUIRE_OK(err, momento_data_client_delete(admin.get(), "capi-a", key, sizeof key, err.out()));
  REQUIRE_OK(err, momento_data_client_get(&hit, &value, &len, admin.get(), "capi-a", key,
                                          sizeof key, err.out()));
  CHECK(hit == 0);
  REQUIRE_OK(err, momento_data_client_flush_cache(admin.get(), "capi-a", err.out()));
  REQUIRE_OK(err, momento_data_client_get(&hit, &value, &len, admin.get(), "capi-a", "empty", 5,
                                          err.out()));
  CHECK(hit == 0);

  // A missing cache is NOT_FOUND.
  CHECK_FAILS_WITH(MOMENTO_ERR_NOT_FOUND, err,
                   momento_data_client_get(&hit, &value, &len, admin.get(), "no-such-cache", "k",
                                           1, err.out()));

  REQUIRE_OK(err, momento_data_client_delete_cache(admin.get(), "capi-b", err.out()));
  REQUIRE_OK(err, momento_data_client_list_caches(list.out(), admin.get(), err.out()));
  names = names_of(list.get());
  CHECK(std::count(names.begin(), names.end(), "capi-b") == 0);
}

TEST_CASE("data client: scope enforcement and key validation with ListCaches",
          "[capi][data][server]") {
  Server srv;
  Err err;
  Credential admin_cred = file_credential(srv.bootstrap_file(), srv.address());
  DataClient admin = data_client(admin_cred.get());
  REQUIRE_OK(err, momento_data_client_create_cache(admin.get(), "scoped", err.out()));

  // A read-only key: reads work, writes and cache management are refused.
  Client auth = client_from_file(srv.bootstrap_file(), srv.address());
  Scope ro = predefined(MOMENTO_SCOPE_ALL_DATA_READ_ONLY);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Token t;
  REQUIRE_OK(err, momento_auth_client_generate_api_key(t.out(), auth.get(), ro.get(), hour.get(),
                                                       err.out()));
  Credential ro_cred = string_credential(momento_token_api_key(t.get()), srv.address());
  DataClient reader = data_client(ro_cred.get());
  int32_t hit = -1;
  char *value = nullptr;
  size_t len = 0;
  REQUIRE_OK(err, momento_data_client_get(&hit, &value, &len, reader.get(), "scoped", "k", 1,
                                          err.out()));
  CHECK(hit == 0);
  CHECK_FAILS_WITH(MOMENTO_ERR_PERMISSION, err,
                   momento_data_client_set(reader.get(), "scoped", "k", 1, "v", 1, 1000,
                                           err.out()));
  CHECK(err.grpc() == 7);  // PERMISSION_DENIED
  CHECK_FALSE(err.retryable());
  CHECK_FAILS_WITH(MOMENTO_ERR_PERMISSION, err,
                   momento_data_client_delete_cache(reader.get(), "scoped", err.out()));

  // Validating a key the way Momento's refresh tooling does: ListCaches succeeds for a live key
  // and fails with AUTHENTICATION for an unknown one.
  StringList list;
  REQUIRE_OK(err, momento_data_client_list_caches(list.out(), admin.get(), err.out()));
  CHECK(momento_string_list_count(list.get()) >= 1);
  Credential unknown;
  REQUIRE_OK(err, momento_credential_from_string(
                      unknown.out(),
                      // {"endpoint":"localhost","api_key":"not-a-key"} as a v1 envelope
                      "eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJub3QtYS1rZXkifQ==",
                      nullptr, err.out()));
  Override ov;
  REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), srv.address().c_str(), 0, err.out()));
  Credential unknown_local;
  REQUIRE_OK(err, momento_credential_from_string(
                      unknown_local.out(),
                      "eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJub3QtYS1rZXkifQ==", ov.get(),
                      err.out()));
  DataClient bogus = data_client(unknown_local.get());
  CHECK_FAILS_WITH(MOMENTO_ERR_AUTHENTICATION, err,
                   momento_data_client_list_caches(list.out(), bogus.get(), err.out()));
  CHECK(err.message().find("not-a-key") == std::string::npos);
  // Ping needs no key.
  REQUIRE_OK(err, momento_data_client_ping(bogus.get(), err.out()));
}

TEST_CASE("data client: C++ wrapper", "[capi][data][cpp][server]") {
  Server srv;
  auto ov = momento::EndpointOverride::single(srv.address());
  momento::DataClient c(momento::Credential::from_file(srv.bootstrap_file(), &ov),
                        momento::ClientConfig().deadline(std::chrono::seconds(10)));
  CHECK(c.credential().kind() == momento::CredentialKind::V1Envelope);
  c.ping();
  c.create_cache("wrapped");
  auto names = c.list_caches();
  CHECK(std::find(names.begin(), names.end(), "wrapped") != names.end());
  c.set("wrapped", std::string("a\0b", 3), "value", std::chrono::seconds(30));
  CHECK(c.get("wrapped", std::string("a\0b", 3)) == std::optional<std::string>("value"));
  CHECK(c.get("wrapped", "a") == std::nullopt);
  c.delete_key("wrapped", std::string("a\0b", 3));
  CHECK(c.get("wrapped", std::string("a\0b", 3)) == std::nullopt);
  c.flush_cache("wrapped");
  try {
    c.create_cache("wrapped");
    FAIL("expected ALREADY_EXISTS");
  } catch (const momento::Error &e) {
    CHECK(e.code() == MOMENTO_ERR_ALREADY_EXISTS);
  }
  CHECK_THROWS_AS(c.set("wrapped", "k", "v", std::chrono::milliseconds(0)), momento::Error);
  c.delete_cache("wrapped");
  CHECK_THROWS_AS(c.get("wrapped", "k"), momento::Error);
}
