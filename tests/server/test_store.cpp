// Store: grouped transactions (savepoint per closure, errors to their own caller), the
// revocation generation, reads while a batch runs, and the principal cache of the registry.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <future>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "registry.hpp"
#include "store.hpp"
#include "temp_dir.hpp"

using namespace momento::server;
namespace fs = std::filesystem;

namespace {
using momento::test::TempDir;

KeyRecord plain_key(const std::string& hash_seed) {
  KeyRecord k;
  k.key_hash = std::string(32, '\0');
  for (size_t i = 0; i < hash_seed.size() && i < 32; ++i) k.key_hash[i] = hash_seed[i];
  k.cls = KeyClass::Explicit;
  k.created_at = 1;
  k.endpoint = "localhost";
  return k;
}
}  // namespace

TEST_CASE("concurrent transactions: a failing closure undoes only its own changes", "[unit][store]") {
  TempDir dir;
  Store store(dir.path / "state.db");
  constexpr int kThreads = 16;
  constexpr int kRounds = 20;
  std::atomic<int> wrong_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        std::string name = "c" + std::to_string(t) + "-" + std::to_string(r);
        const bool fail = (t + r) % 3 == 0;
        try {
          store.transaction([&] {
            if (!store.insert_cache({name, 1})) throw std::logic_error("insert refused");
            // Reads inside the closure see its own uncommitted change.
            if (!store.cache_exists(name)) throw std::logic_error("own write not visible");
            if (fail) throw std::runtime_error("fail " + name);
          });
          if (fail) ++wrong_errors;
        } catch (const std::exception& e) {
          if (!fail || std::string(e.what()) != "fail " + name) ++wrong_errors;
        }
      }
    });
  for (auto& th : threads) th.join();
  CHECK(wrong_errors == 0);
  std::set<std::string> names;
  for (const auto& c : store.list_caches()) names.insert(c.name);
  for (int t = 0; t < kThreads; ++t)
    for (int r = 0; r < kRounds; ++r) {
      std::string name = "c" + std::to_string(t) + "-" + std::to_string(r);
      CHECK(names.count(name) == ((t + r) % 3 == 0 ? 0u : 1u));
    }
}

TEST_CASE("committed transactions survive reopening; nested calls join the outer one", "[unit][store]") {
  TempDir dir;
  {
    Store store(dir.path / "state.db");
    store.transaction([&] {
      store.insert_key(plain_key("a"));
      store.transaction([&] { store.insert_cache({"nested", 2}); });
    });
    CHECK_THROWS(store.transaction([&] {
      store.insert_cache({"rolled-back", 3});
      store.transaction([&] { throw std::runtime_error("inner"); });
    }));
  }
  Store again(dir.path / "state.db");
  CHECK(again.find_key(plain_key("a").key_hash).has_value());
  CHECK(again.cache_exists("nested"));
  CHECK_FALSE(again.cache_exists("rolled-back"));
}

TEST_CASE("the generation changes with own revocations and with other connections' commits",
          "[unit][store]") {
  TempDir dir;
  Store store(dir.path / "state.db");
  store.insert_key(plain_key("a"));
  store.insert_key(plain_key("b"));
  auto g0 = store.generation();
  store.insert_cache({"x", 1});  // not a revocation by this store
  CHECK(store.generation() == g0);
  CHECK(store.revoke_key(plain_key("a").key_hash));
  auto g1 = store.generation();
  CHECK_FALSE(g1 == g0);
  {
    // Another connection, as the admin command in another process uses.
    Store other(dir.path / "state.db");
    CHECK(other.revoke_key(plain_key("b").key_hash));
  }
  CHECK_FALSE(store.generation() == g1);
  CHECK(store.find_key(plain_key("b").key_hash)->revoked);
}

TEST_CASE("registry: a cached principal is refused once revoked", "[unit][store][cache]") {
  TempDir dir;
  RegistryOptions ro;
  Registry reg(dir.path, ro);
  permission_messages::Permissions su;
  su.set_super_user(permission_messages::SuperUser);
  Minted a = reg.mint(KeyClass::SuperUser, su, 600);
  Minted b = reg.mint(KeyClass::SuperUser, su, 600);
  // Cached by the first call: the second returns the same object.
  auto p1 = reg.authenticate(a.api_key);
  auto p2 = reg.authenticate(a.api_key);
  CHECK(p1.get() == p2.get());
  reg.authenticate(b.api_key);

  auto revoked = [&](const std::string& key) {
    try {
      reg.authenticate(key);
      return false;
    } catch (const ServiceError& e) {
      return e.code() == grpc::StatusCode::UNAUTHENTICATED;
    }
  };
  // Revoked by this process.
  auto found = reg.store().find_key(p1->key.key_hash);
  REQUIRE(found);
  reg.store().revoke_key(found->key_hash);
  CHECK(revoked(a.api_key));
  // Revoked through another connection.
  CHECK_FALSE(revoked(b.api_key));
  {
    Store other(dir.path / "state.db");
    REQUIRE(other.revoke_key(reg.authenticate(b.api_key)->key.key_hash));
  }
  CHECK(revoked(b.api_key));

  // Keys are cached when minted, before any use: revoked ones are refused all the same.
  Minted c = reg.mint(KeyClass::SuperUser, su, 600);
  Minted d = reg.mint(KeyClass::SuperUser, su, 600);
  {
    Store other(dir.path / "state.db");
    REQUIRE(other.revoke_key(other.find_key_by_id(c.key_id)->key_hash));
  }
  CHECK(revoked(c.api_key));
  REQUIRE(reg.store().revoke_key(reg.store().find_key_by_id(d.key_id)->key_hash));
  CHECK(revoked(d.api_key));
  // The cached copy of a fresh key carries its class and permissions.
  Minted e = reg.mint(KeyClass::SuperUser, su, 600);
  auto pe = reg.authenticate(e.api_key);
  CHECK(pe->key.cls == KeyClass::SuperUser);
  CHECK(pe->permissions.has_super_user());
  CHECK(pe->key_id == e.key_id);
}

TEST_CASE("registry: expiry is checked on cached principals", "[unit][store][cache]") {
  TempDir dir;
  std::atomic<int64_t> clock{1'800'000'000};
  RegistryOptions ro;
  ro.clock = [&] { return clock.load(); };
  Registry reg(dir.path, ro);
  permission_messages::Permissions su;
  su.set_super_user(permission_messages::SuperUser);
  Minted m = reg.mint(KeyClass::SuperUser, su, 60);
  reg.authenticate(m.api_key);
  reg.authenticate(m.api_key);
  clock += 60;
  try {
    reg.authenticate(m.api_key);
    FAIL("an expired key was accepted");
  } catch (const ServiceError& e) {
    CHECK(e.code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(std::string(e.what()) == "Token has expired");
  }
}

TEST_CASE("a database of the first schema version is migrated on open", "[unit][store][migration]") {
  TempDir dir;
  const fs::path file = dir.path / "state.db";
  {
    // The layout and rows as the first version of the server wrote them.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    const char* sql = R"sql(
PRAGMA journal_mode=WAL;
CREATE TABLE keys(key_hash BLOB PRIMARY KEY, class TEXT NOT NULL, permissions BLOB,
  created_at INTEGER NOT NULL, valid_until INTEGER NOT NULL, lifetime INTEGER NOT NULL,
  endpoint TEXT NOT NULL, token_id TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
  family_id TEXT, refresh_hash BLOB, kid TEXT NOT NULL DEFAULT '', revoked INTEGER NOT NULL DEFAULT 0,
  bootstrap INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE INDEX keys_family ON keys(family_id);
CREATE TABLE families(family_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0, revoked_reason TEXT NOT NULL DEFAULT '');
CREATE TABLE refresh_tokens(token_hash BLOB PRIMARY KEY, family_id TEXT NOT NULL,
  key_hash BLOB NOT NULL, issued_at INTEGER NOT NULL, consumed_at INTEGER NOT NULL DEFAULT 0,
  successor_hash BLOB, sealed_answer BLOB) WITHOUT ROWID;
CREATE INDEX refresh_family ON refresh_tokens(family_id);
CREATE INDEX refresh_sealed ON refresh_tokens(consumed_at) WHERE sealed_answer IS NOT NULL;
CREATE TABLE caches(name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
INSERT INTO families VALUES('fam', 1, 0, '');
INSERT INTO keys VALUES(x'01', 'explicit', NULL, 1, 100, 99, 'localhost', '', '', 'fam', NULL, 'k', 0, 0);
INSERT INTO keys VALUES(x'02', 'explicit', NULL, 2, 101, 99, 'localhost', '', '', 'fam', x'b2', 'k', 0, 0);
INSERT INTO refresh_tokens VALUES(x'a1', 'fam', x'01', 1, 2, x'b2', x'5ea1ed');
INSERT INTO refresh_tokens VALUES(x'b2', 'fam', x'02', 2, 0, NULL, NULL);
INSERT INTO caches VALUES('kept', 1);
)sql";
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    INFO((err ? err : ""));
    REQUIRE(rc == SQLITE_OK);
    sqlite3_close(db);
  }
  {
    Store store(file);
    // Each key reaches the token issued with it, and a consumed token its successor.
    auto first = store.find_key(std::string("\x01", 1));
    auto second = store.find_key(std::string("\x02", 1));
    REQUIRE(first);
    REQUIRE(second);
    auto consumed = store.find_refresh(first->refresh_id);
    REQUIRE(consumed);
    CHECK(consumed->token_hash == std::string("\xa1", 1));
    CHECK(consumed->consumed_at == 2);
    CHECK(consumed->sealed_answer == std::string("\x5e\xa1\xed", 3));
    CHECK(consumed->successor_id == second->refresh_id);
    auto current = store.find_refresh(second->refresh_id);
    REQUIRE(current);
    CHECK(current->token_hash == std::string("\xb2", 1));
    CHECK(current->consumed_at == 0);
    CHECK(current->successor_id == 0);
    CHECK(store.cache_exists("kept"));
    auto keys = store.list_keys();
    REQUIRE(keys.size() == 2);
    CHECK(keys[0].refresh_hash.empty());                   // its token is consumed
    CHECK(keys[1].refresh_hash == std::string("\xb2", 1));  // holds the current one
    // Revoking the family reaches both keys and drops the sealed answer.
    REQUIRE(store.revoke_family("fam", "test"));
    CHECK(store.find_key(std::string("\x01", 1))->revoked);
    CHECK(store.find_key(std::string("\x02", 1))->revoked);
    CHECK(store.find_refresh(first->refresh_id)->sealed_answer.empty());
  }
  Store reopened(file);  // already migrated: opens as is
  CHECK(reopened.find_key(std::string("\x02", 1))->revoked);
}

TEST_CASE("sealed answers are forgotten from the oldest on", "[unit][store]") {
  TempDir dir;
  Store store(dir.path / "state.db");
  std::vector<int64_t> ids;
  store.transaction([&] {
    store.insert_family({"f", 1, false, ""});
    for (int i = 0; i < 5; ++i) {
      std::string h(1, static_cast<char>('a' + i));
      ids.push_back(store.insert_refresh({0, h, "f", "k" + h, 1, 0, 0, ""}));
      store.consume_refresh(ids.back(), 10 + i, 0, "sealed" + h);
    }
  });
  // Ids follow issue order.
  for (size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] > ids[i - 1]);
  store.forget_sealed_before(12);
  CHECK(store.find_refresh(ids[0])->sealed_answer.empty());
  CHECK(store.find_refresh(ids[1])->sealed_answer.empty());
  CHECK(store.find_refresh(ids[2])->sealed_answer == "sealedc");
  CHECK(store.find_refresh(ids[4])->sealed_answer == "sealede");
  store.forget_sealed_before(100);
  CHECK(store.find_refresh(ids[4])->sealed_answer.empty());
  CHECK(store.find_refresh(ids[4])->consumed_at == 14);
}
