// token.Token, control_client.ScsControl, cache_client.Scs and Ping against the live server.
#include <catch2/catch.hpp>

#include "server_test_util.hpp"

using namespace momento::test;
using grpc::StatusCode;

namespace {
pm::PermissionsType item_entry(pm::CacheRole role, const std::string& cache, const std::string& key,
                               bool prefix) {
  auto e = cache_entry(role, cache);
  auto* sel = e.mutable_cache_permissions()->mutable_item_selector();
  if (prefix) sel->set_key_prefix(key);
  else sel->set_key(key);
  return e;
}
}  // namespace

TEST_CASE("disposable tokens: super-user only, must expire, validated", "[live][disposable]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  auto perms = explicit_perms({item_entry(pm::CacheReadWrite, "c1", "k1", false)});

  auto d = s.disposable(su, perms, 60, "publisher-1");
  REQUIRE(d.ok());
  CHECK(d.endpoint == "localhost");
  CHECK(static_cast<int64_t>(d.valid_until) >= epoch_now() + 55);

  CHECK(s.disposable(su, perms, 0).status.error_code() == StatusCode::INVALID_ARGUMENT);       // no expiry
  CHECK(s.disposable(su, perms, 90001).status.error_code() == StatusCode::INVALID_ARGUMENT);   // > max
  CHECK(s.disposable(su, perms, 90000).ok());
  CHECK(s.disposable(su, super_user_perms(), 60).status.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(s.disposable(su, perms, 60, std::string(65, 't')).status.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(s.disposable(su, explicit_perms({item_entry(pm::CacheReadWrite, "c1", "", false)}), 60)
            .status.error_code() == StatusCode::INVALID_ARGUMENT);  // empty key
  CHECK(s.disposable("", perms, 60).status.error_code() == StatusCode::UNAUTHENTICATED);

  auto explicit_key = s.generate(su, all_data_read_write(), 60);
  REQUIRE(explicit_key.ok());
  auto denied = s.disposable(explicit_key.api_key, perms, 60);
  CHECK(denied.status.error_code() == StatusCode::PERMISSION_DENIED);
  CHECK_THAT(denied.status.error_message(), Catch::Contains("Insufficient permissions"));
  // A disposable token cannot mint anything.
  CHECK(s.disposable(d.api_key, perms, 60).status.error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(s.generate(d.api_key, all_data_read_write(), 60).status.error_code() == StatusCode::PERMISSION_DENIED);
}

TEST_CASE("disposable item selectors restrict data access", "[live][disposable][data]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  REQUIRE(s.create_cache(su, "c1").ok());
  REQUIRE(s.create_cache(su, "c2").ok());
  auto key_only = s.disposable(su, explicit_perms({item_entry(pm::CacheReadWrite, "c1", "k1", false)}), 60);
  auto prefix_ro = s.disposable(su, explicit_perms({item_entry(pm::CacheReadOnly, "c1", "user-", true)}), 60);
  REQUIRE(key_only.ok());
  REQUIRE(prefix_ro.ok());

  CHECK(s.set(key_only.api_key, "c1", "k1", "v").ok());
  CHECK(s.get(key_only.api_key, "c1", "k1").ok());
  CHECK(s.set(key_only.api_key, "c1", "k2", "v").error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(s.set(key_only.api_key, "c2", "k1", "v").error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(s.get(key_only.api_key, "c1", "k10").error_code() == StatusCode::PERMISSION_DENIED);

  REQUIRE(s.set(su, "c1", "user-1", "alice").ok());
  cache_client::_GetResponse got;
  CHECK(s.get(prefix_ro.api_key, "c1", "user-1", &got).ok());
  CHECK(got.result() == cache_client::Hit);
  CHECK(got.cache_body() == "alice");
  CHECK(s.get(prefix_ro.api_key, "c1", "user-2", &got).ok());
  CHECK(got.result() == cache_client::Miss);
  CHECK(s.set(prefix_ro.api_key, "c1", "user-1", "x").error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(s.get(prefix_ro.api_key, "c1", "admin-1").error_code() == StatusCode::PERMISSION_DENIED);
  // Disposable tokens have no control-plane rights, not even ListCaches.
  CHECK(s.list_caches(prefix_ro.api_key).error_code() == StatusCode::PERMISSION_DENIED);
}

TEST_CASE("control plane: create, list, flush, delete", "[live][control]") {
  ServerProcess server(std::vector<std::string>{"--list-page-size", "2"});
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  for (const char* name : {"b", "a", "d", "c", "e"}) REQUIRE(s.create_cache(su, name).ok());
  CHECK(s.create_cache(su, "a").error_code() == StatusCode::ALREADY_EXISTS);
  CHECK(s.create_cache(su, "").error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(s.create_cache(su, std::string(256, 'n')).error_code() == StatusCode::INVALID_ARGUMENT);

  // Paged listing, sorted by name.
  std::vector<std::string> names;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    control_client::_ListCachesResponse resp;
    REQUIRE(s.list_caches(su, &resp, token).ok());
    CHECK(resp.cache_size() <= 2);
    for (const auto& c : resp.cache()) names.push_back(c.cache_name());
    token = resp.next_token();
    if (token.empty()) break;
  }
  CHECK(names == std::vector<std::string>{"a", "b", "c", "d", "e"});

  REQUIRE(s.set(su, "a", "k", "v").ok());
  CHECK(s.flush_cache(su, "a").ok());
  cache_client::_GetResponse got;
  REQUIRE(s.get(su, "a", "k", &got).ok());
  CHECK(got.result() == cache_client::Miss);
  CHECK(s.flush_cache(su, "zz").error_code() == StatusCode::NOT_FOUND);
  CHECK(s.delete_cache(su, "a").ok());
  CHECK(s.delete_cache(su, "a").error_code() == StatusCode::NOT_FOUND);
  CHECK(s.get(su, "a", "k").error_code() == StatusCode::NOT_FOUND);

  // Caches survive a restart (their items do not: the data plane is in memory).
  REQUIRE(s.set(su, "b", "k", "v").ok());
  server.restart();
  Stubs s2(server.address());
  REQUIRE(s2.get(su, "b", "k", &got).ok());
  CHECK(got.result() == cache_client::Miss);
  CHECK(s2.create_cache(su, "b").error_code() == StatusCode::ALREADY_EXISTS);
}

TEST_CASE("data plane: hits, misses, TTL, delete, validation", "[live][data]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  REQUIRE(s.create_cache(su, "c").ok());
  std::string binary_key("\x00\xff k", 4);
  REQUIRE(s.set(su, "c", binary_key, "value", 60000).ok());
  cache_client::_GetResponse got;
  REQUIRE(s.get(su, "c", binary_key, &got).ok());
  CHECK(got.result() == cache_client::Hit);
  CHECK(got.cache_body() == "value");
  REQUIRE(s.del(su, "c", binary_key).ok());
  REQUIRE(s.get(su, "c", binary_key, &got).ok());
  CHECK(got.result() == cache_client::Miss);
  CHECK(s.del(su, "c", "never-set").ok());

  REQUIRE(s.set(su, "c", "short", "lived", 300).ok());
  CHECK(eventually([&] {
    cache_client::_GetResponse r;
    return s.get(su, "c", "short", &r).ok() && r.result() == cache_client::Miss;
  }));

  CHECK(s.set(su, "c", "k", "v", 0).error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(s.set(su, "c", "", "v").error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(s.get(su, "", "k").error_code() == StatusCode::INVALID_ARGUMENT);  // no cache header
  CHECK(s.get(su, "missing", "k").error_code() == StatusCode::NOT_FOUND);
  CHECK(s.get("", "c", "k").error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(s.get("nope", "c", "k").error_code() == StatusCode::UNAUTHENTICATED);
  // Authentication comes before validation.
  CHECK(s.get("nope", "", "").error_code() == StatusCode::UNAUTHENTICATED);
}

TEST_CASE("Ping needs no credential", "[live]") {
  ServerProcess server;
  Stubs s(server.address());
  CHECK(s.ping().ok());
}

TEST_CASE("anonymous mode treats an empty authorization as super-user", "[live][anonymous]") {
  ServerProcess plain;
  Stubs p(plain.address());
  CHECK(p.create_cache("", "c").error_code() == StatusCode::UNAUTHENTICATED);

  ServerProcess anon(std::vector<std::string>{"--anonymous"});
  Stubs a(anon.address());
  CHECK(a.create_cache("", "c").ok());
  CHECK(a.set("", "c", "k", "v").ok());
  CHECK(a.get("", "c", "k").ok());
  // The body credential of Auth/Token calls is never anonymous.
  CHECK(a.generate("", all_data_read_write(), 60).status.error_code() == StatusCode::UNAUTHENTICATED);
}
