// Refresh-token rotation: grace replay, reuse revocation, lost answers, durability, races.
#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "server_test_util.hpp"

using namespace momento::test;
using grpc::StatusCode;

namespace {
bool authenticates(Stubs& s, const std::string& key) {
  return s.list_caches(key).error_code() != StatusCode::UNAUTHENTICATED;
}
}  // namespace

TEST_CASE("replaying the previous refresh token inside the grace window returns the same successor",
          "[live][rotation]") {
  ServerProcess server;
  Stubs s(server.address());
  auto k1 = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(k1.ok());
  auto k2 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(k2.ok());
  auto again = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(again.ok());
  CHECK(again.api_key == k2.api_key);
  CHECK(again.refresh_token == k2.refresh_token);
  CHECK(again.valid_until == k2.valid_until);
  // The successor still works normally afterwards.
  auto k3 = s.refresh(k2.api_key, k2.refresh_token);
  REQUIRE(k3.ok());
  CHECK(authenticates(s, k3.api_key));
}

TEST_CASE("a grace replay whose successor was revoked since is UNAUTHENTICATED", "[live][rotation]") {
  ServerProcess server;
  Stubs s(server.address());
  auto k1 = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(k1.ok());
  auto k2 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(k2.ok());
  std::string out;
  REQUIRE(server.admin({"revoke-key", key_id(k2.api_key)}, &out) == 0);
  // Inside the grace window, but the answer would be a dead key: the client must not store it.
  auto replay = s.refresh(k1.api_key, k1.refresh_token);
  CHECK(replay.status.error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(replay.api_key.empty());
  CHECK_FALSE(authenticates(s, k2.api_key));
}

TEST_CASE("reusing an older refresh token revokes the whole family", "[live][rotation]") {
  ServerProcess server;
  Stubs s(server.address());
  auto k1 = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(k1.ok());
  auto k2 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(k2.ok());
  auto k3 = s.refresh(k2.api_key, k2.refresh_token);
  REQUIRE(k3.ok());
  // k1's token is no longer the immediate predecessor of the current one: reuse.
  auto reuse = s.refresh(k1.api_key, k1.refresh_token);
  CHECK(reuse.status.error_code() == StatusCode::UNAUTHENTICATED);
  // Every key and refresh token of the family is dead now.
  CHECK_FALSE(authenticates(s, k1.api_key));
  CHECK_FALSE(authenticates(s, k2.api_key));
  CHECK_FALSE(authenticates(s, k3.api_key));
  CHECK(s.refresh(k3.api_key, k3.refresh_token).status.error_code() == StatusCode::UNAUTHENTICATED);
  // Other families are untouched.
  auto other = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(other.ok());
  CHECK(s.refresh(other.api_key, other.refresh_token).ok());
}

TEST_CASE("a replay after the grace window revokes the family", "[live][rotation]") {
  ServerProcess server(std::vector<std::string>{"--refresh-grace-seconds", "1"});
  Stubs s(server.address());
  auto k1 = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(k1.ok());
  auto k2 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(k2.ok());
  int64_t refreshed_at = epoch_now();
  // Wait (bounded) until the 1 s window has certainly passed on the server's clock.
  REQUIRE(eventually([&] { return epoch_now() >= refreshed_at + 3; }, std::chrono::seconds(6)));
  CHECK(s.refresh(k1.api_key, k1.refresh_token).status.error_code() == StatusCode::UNAUTHENTICATED);
  CHECK_FALSE(authenticates(s, k2.api_key));
}

TEST_CASE("a lost refresh answer is recovered by replaying the same request", "[live][rotation][faults]") {
  ServerProcess server(std::vector<std::string>{"--enable-faults"});
  Stubs s(server.address());
  auto k1 = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(k1.ok());
  auto lost = s.refresh(k1.api_key, k1.refresh_token, {{"commit-then-error", "unavailable"}});
  CHECK(lost.status.error_code() == StatusCode::UNAVAILABLE);
  CHECK(lost.api_key.empty());
  // The refresh was committed: the replay gets the successor, twice the same.
  auto r1 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(r1.ok());
  auto r2 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(r2.ok());
  CHECK(r1.api_key == r2.api_key);
  CHECK(r1.refresh_token == r2.refresh_token);
  CHECK(authenticates(s, r1.api_key));
  CHECK(s.refresh(r1.api_key, r1.refresh_token).ok());
}

TEST_CASE("a refresh whose caller gave up is not run late", "[live][rotation][faults]") {
  // No grace window: if the abandoned request committed, the caller's retry with the same token
  // would be reuse and revoke the family.
  ServerProcess server(std::vector<std::string>{"--refresh-grace-seconds", "0", "--enable-faults"});
  Stubs s(server.address());
  auto k1 = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(k1.ok());
  {
    // Held by an injected delay until long after the caller's 300 ms deadline.
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
    ctx.AddMetadata("request-id", "abandoned-refresh");
    ctx.AddMetadata("delay-ms", "1500");
    ctx.AddMetadata("delay-rpcs", "RefreshApiToken");
    ctx.AddMetadata("delay-count", "1");
    ::auth::_RefreshApiTokenRequest req;
    req.set_api_key(k1.api_key);
    req.set_refresh_token(k1.refresh_token);
    ::auth::_RefreshApiTokenResponse resp;
    CHECK(::auth::Auth::NewStub(s.channel())->RefreshApiToken(&ctx, req, &resp).error_code() ==
          StatusCode::DEADLINE_EXCEEDED);
  }
  // Let the server finish with the abandoned call (bounded: its delay ends at 1.5 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(1800));
  auto k2 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(k2.ok());
  CHECK(authenticates(s, k2.api_key));
  CHECK(authenticates(s, k1.api_key));
  CHECK(s.refresh(k2.api_key, k2.refresh_token).ok());
}

TEST_CASE("an answered refresh survives kill -9", "[live][rotation][durability]") {
  ServerProcess server;
  Answer k2;
  {
    Stubs s(server.address());
    auto k1 = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
    REQUIRE(k1.ok());
    k2 = s.refresh(k1.api_key, k1.refresh_token);
    REQUIRE(k2.ok());
  }
  server.kill9();
  CHECK(WIFSIGNALED(server.last_wait_status()));
  server.restart();
  Stubs s(server.address());
  CHECK(authenticates(s, k2.api_key));
  auto k3 = s.refresh(k2.api_key, k2.refresh_token);
  CHECK(k3.ok());
}

TEST_CASE("concurrent refreshes with one token all get the same successor", "[live][rotation][concurrency]") {
  ServerProcess server;
  Stubs s(server.address());
  auto k1 = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(k1.ok());
  constexpr int kThreads = 8;
  std::vector<Answer> answers(kThreads);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      Stubs mine(server.address());
      while (!go.load()) std::this_thread::yield();
      answers[i] = mine.refresh(k1.api_key, k1.refresh_token);
    });
  go = true;
  for (auto& t : threads) t.join();
  std::set<std::string> keys;
  for (const auto& a : answers) {
    REQUIRE(a.ok());
    keys.insert(a.api_key);
  }
  CHECK(keys.size() == 1);
}

TEST_CASE("disposable and never-expiring keys cannot be refreshed", "[live][rotation]") {
  ServerProcess server;
  Stubs s(server.address());
  auto d = s.disposable(server.bootstrap_raw_key(), explicit_perms({cache_entry(pm::CacheReadOnly)}), 60);
  REQUIRE(d.ok());
  CHECK(s.refresh(d.api_key, "x").status.error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(s.refresh(server.bootstrap_raw_key(), "x").status.error_code() == StatusCode::UNAUTHENTICATED);
}

TEST_CASE("keys used just before a reuse revocation are refused on the very next call",
          "[live][rotation][cache]") {
  ServerProcess server;
  Stubs s(server.address());
  auto k1 = s.generate(server.bootstrap_raw_key(), all_data_read_write(), 600);
  REQUIRE(k1.ok());
  auto k2 = s.refresh(k1.api_key, k1.refresh_token);
  REQUIRE(k2.ok());
  auto k3 = s.refresh(k2.api_key, k2.refresh_token);
  REQUIRE(k3.ok());
  // Used repeatedly, so the server has them cached.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(authenticates(s, k2.api_key));
    REQUIRE(authenticates(s, k3.api_key));
  }
  CHECK(s.refresh(k1.api_key, k1.refresh_token).status.error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(s.list_caches(k3.api_key).error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(s.list_caches(k2.api_key).error_code() == StatusCode::UNAUTHENTICATED);
}
