// The authorization matrix: every caller scope x every RPC, with the status each must get
// (docs/wire.md §9.2-§9.4). One live server; each row is one (scope, RPC) case.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server_test_util.hpp"

using namespace momento::test;
using grpc::StatusCode;

namespace {

constexpr StatusCode O = StatusCode::OK;
constexpr StatusCode P = StatusCode::PERMISSION_DENIED;
constexpr StatusCode U = StatusCode::UNAUTHENTICATED;
constexpr StatusCode N = StatusCode::NOT_FOUND;

enum Rpc { GenSuper, GenExplicit, GenDisposable, Create, DeleteMissing, Flush, List, GetC1, SetC1, DelC1, GetC2, SetC2, kRpcs };
const char* kRpcNames[kRpcs] = {"GenerateApiToken(super_user)", "GenerateApiToken(explicit)",
                                "GenerateDisposableToken", "CreateCache", "DeleteCache(missing)",
                                "FlushCache(c1)", "ListCaches", "Get(c1,k1)", "Set(c1,k1)",
                                "Delete(c1,k1)", "Get(c2,k1)", "Set(c2,k1)"};

struct Row {
  const char* scope;
  StatusCode expect[kRpcs];
};

// clang-format off
const Row kMatrix[] = {
  //                         GenS GenE GenD Crt  DelM Fls  Lst  GetC1 SetC1 DelC1 GetC2 SetC2
  {"session",               {O,   O,   O,   O,   N,   O,   O,   O,    O,    O,    O,    O}},
  {"super_user",            {P,   O,   O,   O,   N,   O,   O,   O,    O,    O,    O,    O}},
  {"all_data_read_write",   {P,   P,   P,   P,   P,   P,   O,   O,    O,    O,    O,    O}},
  {"all_data_read_only",    {P,   P,   P,   P,   P,   P,   O,   O,    P,    P,    O,    P}},
  {"cache_read_only_c1",    {P,   P,   P,   P,   P,   P,   O,   O,    P,    P,    P,    P}},
  {"cache_write_only_c1",   {P,   P,   P,   P,   P,   P,   O,   P,    O,    O,    P,    P}},
  {"topic_only",            {P,   P,   P,   P,   P,   P,   O,   P,    P,    P,    P,    P}},
  {"permit_none_all",       {P,   P,   P,   P,   P,   P,   O,   P,    P,    P,    P,    P}},
  {"disposable_key_k1",     {P,   P,   P,   P,   P,   P,   P,   O,    O,    O,    P,    P}},
  {"disposable_prefix_ro",  {P,   P,   P,   P,   P,   P,   P,   O,    P,    P,    P,    P}},
  {"disposable_other_key",  {P,   P,   P,   P,   P,   P,   P,   P,    P,    P,    P,    P}},
  {"expired",               {U,   U,   U,   U,   U,   U,   U,   U,    U,    U,    U,    U}},
  {"revoked",               {U,   U,   U,   U,   U,   U,   U,   U,    U,    U,    U,    U}},
  {"unknown",               {U,   U,   U,   U,   U,   U,   U,   U,    U,    U,    U,    U}},
  {"empty",                 {U,   U,   U,   U,   U,   U,   U,   U,    U,    U,    U,    U}},
};
// clang-format on

pm::PermissionsType topic_entry() {
  pm::PermissionsType e;
  auto* t = e.mutable_topic_permissions();
  t->set_role(pm::TopicReadWrite);
  t->mutable_all_caches();
  t->mutable_all_topics();
  return e;
}

pm::PermissionsType item_entry(pm::CacheRole role, const std::string& key, bool prefix) {
  auto e = cache_entry(role, "c1");
  auto* sel = e.mutable_cache_permissions()->mutable_item_selector();
  if (prefix) sel->set_key_prefix(key);
  else sel->set_key(key);
  return e;
}

}  // namespace

TEST_CASE("authorization matrix: every scope x every RPC", "[live][matrix]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  REQUIRE(s.create_cache(su, "c1").ok());
  REQUIRE(s.create_cache(su, "c2").ok());

  std::map<std::string, std::string> keys;
  auto mint = [&](const std::string& name, const pm::Permissions& p) {
    auto a = s.generate(su, p, 3600);
    REQUIRE(a.ok());
    keys[name] = a.api_key;
  };
  auto mint_disposable = [&](const std::string& name, const pm::Permissions& p) {
    auto a = s.disposable(su, p, 3600);
    REQUIRE(a.ok());
    keys[name] = a.api_key;
  };

  std::string session_file = server.data_dir() + "/session.json";
  REQUIRE(server.admin({"mint", "--class", "session", "--expires-in", "3600", "--out", session_file}) == 0);
  {
    std::ifstream in(session_file);
    std::stringstream ss;
    ss << in.rdbuf();
    keys["session"] = ServerProcess::envelope_raw_key(nlohmann::json::parse(ss.str()).at("authToken"));
  }
  keys["super_user"] = su;
  mint("all_data_read_write", all_data_read_write());
  {
    pm::PermissionsType t = topic_entry();
    t.mutable_topic_permissions()->set_role(pm::TopicReadOnly);
    mint("all_data_read_only", explicit_perms({cache_entry(pm::CacheReadOnly), t}));
  }
  mint("cache_read_only_c1", explicit_perms({cache_entry(pm::CacheReadOnly, "c1")}));
  mint("cache_write_only_c1", explicit_perms({cache_entry(pm::CacheWriteOnly, "c1")}));
  mint("topic_only", explicit_perms({topic_entry()}));
  mint("permit_none_all", explicit_perms({cache_entry(pm::CachePermitNone)}));
  mint_disposable("disposable_key_k1", explicit_perms({item_entry(pm::CacheReadWrite, "k1", false)}));
  mint_disposable("disposable_prefix_ro", explicit_perms({item_entry(pm::CacheReadOnly, "k", true)}));
  mint_disposable("disposable_other_key", explicit_perms({item_entry(pm::CacheReadWrite, "k2", false)}));
  {
    auto a = s.generate(su, all_data_read_write(), 2);
    REQUIRE(a.ok());
    keys["expired"] = a.api_key;
    auto r = s.generate(su, all_data_read_write(), 3600);
    REQUIRE(r.ok());
    keys["revoked"] = r.api_key;
    REQUIRE(server.admin({"revoke-key", key_id(r.api_key)}) == 0);
  }
  keys["unknown"] = "eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln";
  keys["empty"] = "";
  REQUIRE(eventually([&] { return s.list_caches(keys["expired"]).error_code() == U; }, std::chrono::seconds(10)));

  int n_create = 0, cases = 0;
  auto run = [&](const std::string& key, Rpc rpc) -> StatusCode {
    switch (rpc) {
      case GenSuper: return s.generate(key, super_user_perms(), 60).status.error_code();
      case GenExplicit: return s.generate(key, all_data_read_write(), 60).status.error_code();
      case GenDisposable:
        return s.disposable(key, explicit_perms({cache_entry(pm::CacheReadOnly, "c1")}), 60).status.error_code();
      case Create: return s.create_cache(key, "new-" + std::to_string(n_create++)).error_code();
      case DeleteMissing: return s.delete_cache(key, "missing").error_code();
      case Flush: return s.flush_cache(key, "c1").error_code();
      case List: return s.list_caches(key).error_code();
      case GetC1: return s.get(key, "c1", "k1").error_code();
      case SetC1: return s.set(key, "c1", "k1", "v").error_code();
      case DelC1: return s.del(key, "c1", "k1").error_code();
      case GetC2: return s.get(key, "c2", "k1").error_code();
      case SetC2: return s.set(key, "c2", "k1", "v").error_code();
      default: return StatusCode::UNKNOWN;
    }
  };
  for (const auto& row : kMatrix) {
    REQUIRE(keys.count(row.scope));
    for (int r = 0; r < kRpcs; ++r) {
      INFO("scope " << row.scope << ", rpc " << kRpcNames[r]);
      CHECK(static_cast<int>(run(keys[row.scope], static_cast<Rpc>(r))) == static_cast<int>(row.expect[r]));
      ++cases;
    }
  }
  CHECK(cases >= 40);
}
