// Shared helpers for the refresh suite: tokens, an in-memory store and a rotating
// fake of RefreshApiToken (the real server is exercised by the Python suites).
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "momento/auth/refresher.hpp"
#include "momento/auth/store.hpp"
#include "temp_dir.hpp"

namespace refresh_test {

using namespace momento::auth;

using momento::test::TempDir;

inline Token make_token(const std::string& key, const std::string& refresh, uint64_t valid_until) {
  return Token{Secret(encode_envelope("localhost", key)), Secret(refresh),
               valid_until ? ExpiresAt::from_epoch(valid_until) : ExpiresAt::never(), {}};
}

inline TimePoint at(int64_t s) { return TimePoint(std::chrono::seconds(s)); }
inline int64_t epoch_s(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// A store in memory with an in-process lock and a hook run inside lock().
class MemoryStore final : public TokenStore {
 public:
  std::optional<StoreSnapshot> load() override {
    std::lock_guard<std::mutex> g(m_);
    ++loads;
    return value_;
  }
  void store(const Token& t) override {
    std::lock_guard<std::mutex> g(m_);
    ++stores;
    value_ = StoreSnapshot{t, "v" + std::to_string(++version_), written_at_ms};
  }
  void put(const Token& t, std::optional<int64_t> written_ms) {
    std::lock_guard<std::mutex> g(m_);
    value_ = StoreSnapshot{t, "v" + std::to_string(++version_), written_ms};
  }
  std::unique_ptr<StoreLock> lock() override {
    struct L : StoreLock {
      std::unique_lock<std::mutex> l;
      explicit L(std::mutex& m) : l(m) {}
    };
    if (on_lock) {  // a peer gets the lock first
      auto hook = std::move(on_lock);
      on_lock = nullptr;
      hook();
    }
    return std::make_unique<L>(lock_m_);
  }
  std::optional<PendingRefresh> load_pending() override {
    std::lock_guard<std::mutex> g(m_);
    return pending_;
  }
  void store_pending(const PendingRefresh& p) override {
    std::lock_guard<std::mutex> g(m_);
    pending_ = p;
  }
  void clear_pending() override {
    std::lock_guard<std::mutex> g(m_);
    pending_.reset();
  }
  bool writable() const noexcept override { return true; }
  std::string describe() const override { return "memory:test"; }

  std::function<void()> on_lock;  // runs once, just before the next lock() is granted
  std::optional<int64_t> written_at_ms;  // reported for values written by store()
  int loads = 0, stores = 0;

 private:
  std::mutex m_, lock_m_;
  std::optional<StoreSnapshot> value_;
  std::optional<PendingRefresh> pending_;
  int version_ = 0;
};

// RefreshApiToken with the server's rotation rules: the current refresh token rotates; the
// immediately previous one replays the same answer within the grace window; other reuse revokes.
class FakeAuthServer {
 public:
  FakeAuthServer(const Clock& clock, std::string key, std::string refresh, int64_t lifetime_s)
      : clock_(clock), key_(std::move(key)), rt_(std::move(refresh)), lifetime_(lifetime_s) {}

  Token token() const {
    return make_token(key_, rt_, static_cast<uint64_t>(epoch_s(clock_.now()) + lifetime_));
  }

  Token refresh(const Token& cur) {
    std::lock_guard<std::mutex> g(m_);
    ++calls;
    if (revoked) throw Error(ErrorCode::Authentication, "family revoked");
    const std::string& rt = cur.refresh_token.reveal();
    int64_t now = epoch_s(clock_.now());
    if (rt == rt_) {
      prev_rt_ = rt_;
      prev_at_ = now;
      ++n_;
      key_ = "key-" + std::to_string(n_);
      rt_ = "rt-" + std::to_string(n_);
      successor_ = make_token(key_, rt_, static_cast<uint64_t>(now + lifetime_));
      ++commits;
    } else if (rt == prev_rt_ && now - prev_at_ <= grace_s) {
      ++replays;
    } else {
      revoked = true;
      throw Error(ErrorCode::Authentication, "refresh token reuse: family revoked");
    }
    if (drop_next_answers > 0) {
      --drop_next_answers;
      throw Error(ErrorCode::Timeout, "answer lost");
    }
    return successor_;
  }

  RefreshFunction function() {
    return [this](const Token& t) { return refresh(t); };
  }

  int calls = 0, commits = 0, replays = 0;
  int drop_next_answers = 0;
  bool revoked = false;
  int64_t grace_s = 30;

 private:
  const Clock& clock_;
  std::mutex m_;
  std::string key_, rt_, prev_rt_;
  int64_t prev_at_ = 0, lifetime_;
  int n_ = 0;
  Token successor_;
};

}  // namespace refresh_test
