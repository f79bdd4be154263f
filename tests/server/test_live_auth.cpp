// auth.Auth against the live server: generate, refresh, expiry, permissions, restart, bootstrap.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "server_test_util.hpp"

using namespace momento::test;
using grpc::StatusCode;

namespace {

// A key authenticates iff a call with it is not UNAUTHENTICATED. ListCaches is allowed for
// every class except disposable tokens.
bool authenticates(Stubs& s, const std::string& key) {
  auto st = s.list_caches(key);
  return st.error_code() != StatusCode::UNAUTHENTICATED;
}

}  // namespace

TEST_CASE("bootstrap file is 0600 and has the Download-JSON shape", "[live][bootstrap]") {
  ServerProcess server;
  struct stat st {};
  REQUIRE(::stat(server.bootstrap_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto j = nlohmann::json::parse(server.bootstrap_json());
  REQUIRE(j.is_object());
  CHECK(j.size() == 3);
  CHECK(j.at("refreshToken") == "");
  CHECK(j.at("validUntil") == "0");
  std::string env = j.at("authToken").get<std::string>();
  // The envelope names the advertised endpoint (default localhost) and a JWT-shaped key.
  std::string raw = ServerProcess::envelope_raw_key(env);
  CHECK(std::count(raw.begin(), raw.end(), '.') == 2);
  Stubs s(server.address());
  // The bootstrap key is a SuperUser key: it can mint explicit keys.
  CHECK(s.generate(raw, all_data_read_write(), 0).ok());
}

TEST_CASE("bootstrap key is reused across restarts", "[live][bootstrap]") {
  ServerProcess server;
  std::string before = server.bootstrap_raw_key();
  server.restart();
  CHECK(server.bootstrap_raw_key() == before);
  Stubs s(server.address());
  CHECK(s.generate(before, all_data_read_write(), 60).ok());
}

TEST_CASE("advertised endpoint comes from --endpoint", "[live]") {
  ServerProcess server(std::vector<std::string>{"--endpoint", "example.test"});
  Stubs s(server.address());
  auto a = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 60);
  REQUIRE(a.ok());
  CHECK(a.endpoint == "example.test");
  auto j = nlohmann::json::parse(server.bootstrap_json());
  CHECK(j.at("authToken").get<std::string>().size() > 0);
}

TEST_CASE("generate, refresh, refresh again: the old key keeps working", "[live][refresh]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();

  auto k1 = s.generate(su, all_data_read_write(), 3600);
  REQUIRE(k1.ok());
  CHECK(!k1.api_key.empty());
  CHECK(k1.refresh_token.size() >= 22);  // >= 128 bits of base64url
  CHECK(k1.endpoint == "localhost");
  int64_t now = epoch_now();
  CHECK(static_cast<int64_t>(k1.valid_until) >= now + 3590);
  CHECK(static_cast<int64_t>(k1.valid_until) <= now + 3610);

  auto k2 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(k2.ok());
  CHECK(k2.api_key != k1.api_key);
  CHECK(k2.refresh_token != k1.refresh_token);
  CHECK(k2.valid_until >= k1.valid_until);
  CHECK(k2.endpoint == "localhost");

  auto k3 = s.refresh(k2.api_key, k2.refresh_token);
  REQUIRE(k3.ok());
  CHECK(k3.api_key != k2.api_key);
  CHECK(k3.refresh_token != k2.refresh_token);

  // Every key stays valid until its own expiry.
  CHECK(authenticates(s, k1.api_key));
  CHECK(authenticates(s, k2.api_key));
  CHECK(authenticates(s, k3.api_key));
  // The refreshed key keeps its class: still no right to mint.
  auto denied = s.generate(k3.api_key, all_data_read_write(), 60);
  CHECK(denied.status.error_code() == StatusCode::PERMISSION_DENIED);
}

TEST_CASE("refresh keeps the original lifetime counted from now", "[live][refresh]") {
  ServerProcess server;
  Stubs s(server.address());
  auto k1 = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 100);
  REQUIRE(k1.ok());
  auto k2 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(k2.ok());
  int64_t now = epoch_now();
  CHECK(static_cast<int64_t>(k2.valid_until) >= now + 95);
  CHECK(static_cast<int64_t>(k2.valid_until) <= now + 105);
}

TEST_CASE("never-expiring keys have valid_until 0 and no refresh token", "[live]") {
  ServerProcess server;
  Stubs s(server.address());
  auto k = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 0);
  REQUIRE(k.ok());
  CHECK(k.valid_until == 0);
  CHECK(k.refresh_token.empty());
  // Nothing to refresh with.
  CHECK(s.refresh(k.api_key, "anything").status.error_code() == StatusCode::UNAUTHENTICATED);
}

TEST_CASE("a 2 s key is rejected once expired and cannot be refreshed", "[live][expiry]") {
  ServerProcess server;
  Stubs s(server.address());
  auto k = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 2);
  REQUIRE(k.ok());
  CHECK(authenticates(s, k.api_key));
  // Wait (bounded) until the server considers the key expired.
  REQUIRE(eventually([&] { return !authenticates(s, k.api_key); }, std::chrono::seconds(10)));
  CHECK(s.list_caches(k.api_key).error_code() == StatusCode::UNAUTHENTICATED);
  auto r = s.refresh(k.api_key, k.refresh_token);
  CHECK((r.status.error_code() == StatusCode::UNAUTHENTICATED ||
         r.status.error_code() == StatusCode::INVALID_ARGUMENT));
  CHECK(r.status.error_code() == StatusCode::UNAUTHENTICATED);  // our server's choice
  // An expired key cannot generate either.
  CHECK(s.generate(k.api_key, all_data_read_write(), 60).status.error_code() ==
        StatusCode::UNAUTHENTICATED);
}

TEST_CASE("who may generate which keys", "[live][permissions]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();

  SECTION("AllDataReadWrite cannot generate keys") {
    auto k = s.generate(su, all_data_read_write(), 600);
    REQUIRE(k.ok());
    for (const auto& perms : {all_data_read_write(), super_user_perms()}) {
      auto a = s.generate(k.api_key, perms, 60);
      CHECK(a.status.error_code() == StatusCode::PERMISSION_DENIED);
      CHECK_THAT(a.status.error_message(), Catch::Contains("Insufficient permissions"));
    }
  }
  SECTION("a super-user key cannot mint super-user keys") {
    auto a = s.generate(su, super_user_perms(), 60);
    CHECK(a.status.error_code() == StatusCode::PERMISSION_DENIED);
    CHECK_THAT(a.status.error_message(), Catch::Contains("Insufficient permissions"));
  }
  SECTION("a super-user key may mint explicit keys, expiring or not") {
    CHECK(s.generate(su, all_data_read_write(), 60).ok());
    CHECK(s.generate(su, explicit_perms({cache_entry(pm::CacheReadOnly, "c1")}), 0).ok());
  }
  SECTION("empty, unknown and enveloped credentials are UNAUTHENTICATED") {
    CHECK(s.generate("", all_data_read_write(), 60).status.error_code() == StatusCode::UNAUTHENTICATED);
    CHECK(s.generate("not-a-key", all_data_read_write(), 60).status.error_code() ==
          StatusCode::UNAUTHENTICATED);
    CHECK(s.generate(server.bootstrap_envelope(), all_data_read_write(), 60).status.error_code() ==
          StatusCode::UNAUTHENTICATED);
    CHECK(s.generate("Bearer " + su, all_data_read_write(), 60).status.error_code() ==
          StatusCode::UNAUTHENTICATED);
  }
  SECTION("a key with a forged signature is UNAUTHENTICATED") {
    std::string forged = su;
    char& last = forged[forged.size() - 2];
    last = last == 'A' ? 'B' : 'A';
    CHECK(s.generate(forged, all_data_read_write(), 60).status.error_code() ==
          StatusCode::UNAUTHENTICATED);
  }
}

TEST_CASE("GenerateApiToken validation", "[live][validation]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  auto code = [&](const ::auth::_GenerateApiTokenRequest& r) { return s.generate_raw(r).status.error_code(); };
  ::auth::_GenerateApiTokenRequest base;
  base.set_auth_token(su);
  *base.mutable_permissions() = all_data_read_write();
  base.mutable_expires()->set_valid_for_seconds(60);
  REQUIRE(code(base) == StatusCode::OK);

  auto r = base;
  r.clear_expiry();
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);
  r = base;
  r.mutable_expires()->set_valid_for_seconds(0);
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);
  r = base;
  r.clear_permissions();
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);
  r = base;
  r.mutable_permissions()->Clear();  // present, kind unset
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);
  r = base;
  r.mutable_permissions()->mutable_explicit_()->clear_permissions();
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);
  r = base;
  for (int i = 0; i < 8; ++i)
    *r.mutable_permissions()->mutable_explicit_()->add_permissions() = cache_entry(pm::CacheReadOnly);
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);  // 11 entries
  r = base;
  r.set_token_id(std::string(65, 'x'));
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);
  r = base;
  r.set_token_id(std::string(64, 'x'));
  CHECK(code(r) == StatusCode::OK);
  r = base;
  r.mutable_permissions()->mutable_explicit_()->mutable_permissions(0)->mutable_cache_permissions()->set_role(
      static_cast<pm::CacheRole>(9));
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);  // undefined enum value
  r = base;
  r.mutable_permissions()->mutable_explicit_()->mutable_permissions(0)->mutable_cache_permissions()
      ->mutable_cache_selector()->set_cache_name("");
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);  // empty selector
  r = base;
  r.mutable_permissions()->mutable_explicit_()->mutable_permissions(0)->mutable_cache_permissions()
      ->mutable_item_selector()->set_key("k");
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);  // item selectors are for disposable tokens
  // Authentication comes before validation.
  r = base;
  r.set_auth_token("unknown");
  r.clear_expiry();
  CHECK(code(r) == StatusCode::UNAUTHENTICATED);
  // Validation comes before authorization: an explicit key with a bad request sees INVALID_ARGUMENT.
  auto k = s.generate(su, all_data_read_write(), 60);
  REQUIRE(k.ok());
  r = base;
  r.set_auth_token(k.api_key);
  r.clear_expiry();
  CHECK(code(r) == StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("control characters in token_id or description are refused at mint", "[live][validation]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  for (const std::string bad : {"a\x1b[2Jb", "two\nlines", "cr\rhere", "c1\xc2\x9b" "csi", "del\x7f"}) {
    INFO(bad);
    auto by_id = s.generate(su, all_data_read_write(), 600, bad);
    CHECK(by_id.status.error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(by_id.status.error_message() == "token_id must not contain control characters");
    ::auth::_GenerateApiTokenRequest req;
    req.set_auth_token(su);
    *req.mutable_permissions() = all_data_read_write();
    req.mutable_expires()->set_valid_for_seconds(600);
    req.set_description(bad);
    auto by_description = s.generate_raw(req);
    CHECK(by_description.status.error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(by_description.status.error_message() == "description must not contain control characters");
    CHECK(s.disposable(su, explicit_perms({cache_entry(pm::CacheReadOnly, "c")}), 60, bad).status.error_code() ==
          StatusCode::INVALID_ARGUMENT);
  }
  std::string out;
  REQUIRE(server.admin({"list-keys", "--json"}, &out) == 0);
  CHECK(nlohmann::json::parse(out).size() == 1);  // only the bootstrap key
  CHECK(s.generate(su, all_data_read_write(), 600, "plain id \xc3\xa9t\xc3\xa9").ok());
}

TEST_CASE("names inside scopes are bounded", "[live][validation]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  auto topic = [](const std::string& name) {
    pm::PermissionsType e;
    auto* t = e.mutable_topic_permissions();
    t->set_role(pm::TopicReadWrite);
    t->mutable_all_caches();
    t->mutable_topic_selector()->set_topic_name(name);
    return e;
  };
  auto function_prefix = [](const std::string& prefix) {
    pm::PermissionsType e;
    auto* f = e.mutable_function_permissions();
    f->set_role(pm::FunctionInvoke);
    f->mutable_all_caches();
    f->mutable_function_selector()->set_function_name_prefix(prefix);
    return e;
  };
  CHECK(s.generate(su, explicit_perms({cache_entry(pm::CacheReadWrite, std::string(255, 'c'))}), 600).ok());
  CHECK(s.generate(su, explicit_perms({topic(std::string(255, 't'))}), 600).ok());
  const std::vector<std::pair<pm::PermissionsType, std::string>> bad = {
      {cache_entry(pm::CacheReadWrite, std::string(256, 'c')), "cache name must be at most 255 bytes"},
      {cache_entry(pm::CacheReadWrite, std::string(1 << 20, 'c')), "cache name must be at most 255 bytes"},
      {cache_entry(pm::CacheReadWrite, "bell\x07"), "cache name must not contain control characters"},
      {topic(std::string(256, 't')), "topic name must be at most 255 bytes"},
      {function_prefix(std::string(300, 'f')), "function name prefix must be at most 255 bytes"},
  };
  for (const auto& [entry, message] : bad) {
    INFO(message);
    auto key = s.generate(su, explicit_perms({entry}), 600);
    CHECK(key.status.error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(key.status.error_message() == "permission 1: " + message);
    CHECK(s.disposable(su, explicit_perms({entry}), 60).status.error_code() == StatusCode::INVALID_ARGUMENT);
  }
  // Item keys in disposable-token scopes: at most 64 KiB, like cache keys.
  pm::PermissionsType big_key = cache_entry(pm::CacheReadOnly, "c");
  big_key.mutable_cache_permissions()->mutable_item_selector()->set_key(std::string(64 * 1024 + 1, 'k'));
  CHECK(s.disposable(su, explicit_perms({big_key}), 60).status.error_code() == StatusCode::INVALID_ARGUMENT);
  // Cache names in control calls follow the same rule.
  CHECK(s.create_cache(su, std::string(256, 'c')).error_code() == StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("RefreshApiToken errors", "[live][refresh]") {
  ServerProcess server;
  Stubs s(server.address());
  auto k = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(k.ok());
  CHECK(s.refresh("", k.refresh_token).status.error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(s.refresh("garbage", k.refresh_token).status.error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(s.refresh(k.api_key, "").status.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(s.refresh(k.api_key, "wrong").status.error_code() == StatusCode::UNAUTHENTICATED);
  // A refresh token belongs to its key only.
  auto other = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(other.ok());
  CHECK(s.refresh(other.api_key, k.refresh_token).status.error_code() == StatusCode::UNAUTHENTICATED);
  // The failures above did not burn the real token.
  CHECK(s.refresh(k.api_key, k.refresh_token).ok());
}

TEST_CASE("Login is UNIMPLEMENTED", "[live]") {
  ServerProcess server;
  Stubs s(server.address());
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline());
  ::auth::_LoginRequest req;
  auto reader = s.auth().Login(&ctx, req);
  ::auth::_LoginResponse resp;
  while (reader->Read(&resp)) {
  }
  CHECK(reader->Finish().error_code() == StatusCode::UNIMPLEMENTED);
}

TEST_CASE("a restart keeps keys and refresh tokens valid", "[live][restart]") {
  ServerProcess server;
  const std::string su = server.bootstrap_raw_key();
  Answer k1, never;
  {
    Stubs s(server.address());
    k1 = s.generate(su, all_data_read_write(), 3600);
    never = s.generate(su, all_data_read_write(), 0);
    REQUIRE(k1.ok());
    REQUIRE(never.ok());
  }
  server.restart();
  Stubs s(server.address());
  CHECK(authenticates(s, k1.api_key));
  CHECK(authenticates(s, never.api_key));
  CHECK(s.generate(su, all_data_read_write(), 60).ok());
  auto k2 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(k2.ok());
  server.restart();
  Stubs s2(server.address());
  CHECK(authenticates(s2, k2.api_key));
  CHECK(s2.refresh(k2.api_key, k2.refresh_token).ok());
}
