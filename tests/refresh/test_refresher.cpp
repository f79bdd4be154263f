// Refresher behaviour with a controllable clock: schedule, failures, replay, peers, single flight.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <fstream>
#include <thread>
#include <vector>

#include "refresh_test_util.hpp"

using namespace momento::auth;
using namespace refresh_test;
using namespace std::chrono_literals;

namespace {

constexpr int64_t T0 = 1'700'000'000;

// tick(), then wait until the subscribers have seen its events (they run on the delivery thread).
TimePoint tick(Refresher& r) {
  TimePoint next = r.tick().next;
  r.drain();
  return next;
}

struct Rig {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(at(T0));
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
  FakeAuthServer server{*clock, "key-0", "rt-0", 1000};
  std::vector<RefreshEvent> events;
  std::unique_ptr<Refresher> refresher;

  double unit;
  RefreshPolicy policy;

  explicit Rig(double unit = 0.5, RefreshPolicy policy = {}) : unit(unit), policy(policy) {
    store->put(server.token(), T0 * 1000);
    use(server.function());
  }
  // A fresh refresher (same store, clock, policy and jitter) calling `refresh`; events start over.
  void use(RefreshFunction refresh) {
    refresher = std::make_unique<Refresher>(store, std::move(refresh), policy, clock, [u = unit] { return u; });
    events.clear();
    refresher->subscribe([this](const RefreshEvent& e) { events.push_back(e); });
  }
  std::string stored_key() { return store->load()->token.api_key.reveal(); }
  int count(RefreshEventKind k) const {
    int n = 0;
    for (auto& e : events) n += e.kind == k;
    return n;
  }
};

}  // namespace

TEST_CASE("the refresher refreshes at the planned time and not before", "[refresher]") {
  Rig rig(0.0);  // no jitter: exactly 75% of the 1000 s lifetime
  tick(*rig.refresher);
  REQUIRE(rig.events.size() == 1);
  CHECK(rig.events[0].kind == RefreshEventKind::Adopted);
  REQUIRE(rig.refresher->next_refresh());
  CHECK(*rig.refresher->next_refresh() == at(T0 + 750));
  const std::string first = rig.stored_key();

  rig.clock->set(at(T0 + 749));
  TimePoint wake = tick(*rig.refresher);
  CHECK(rig.server.calls == 0);
  CHECK(wake == at(T0 + 750));
  CHECK(rig.stored_key() == first);

  rig.clock->set(at(T0 + 750));
  tick(*rig.refresher);
  CHECK(rig.server.calls == 1);
  CHECK(rig.stored_key() != first);
  REQUIRE(rig.events.back().kind == RefreshEventKind::Refreshed);
  CHECK(rig.events.back().valid_until == ExpiresAt::from_epoch(T0 + 750 + 1000));
  CHECK(rig.events.back().key.find("…") != std::string::npos);  // redacted form only
  // The new key's lifetime counts from the refresh.
  CHECK(*rig.refresher->next_refresh() == at(T0 + 750 + 750));
  CHECK_FALSE(rig.store->load_pending().has_value());
}

TEST_CASE("jitter moves the refresh earlier by at most 5% of the lifetime", "[refresher]") {
  Rig rig(0.999);
  tick(*rig.refresher);
  auto planned = *rig.refresher->next_refresh();
  CHECK(planned >= at(T0 + 700));
  CHECK(planned < at(T0 + 702));
}

TEST_CASE("the lifetime is estimated from when the store says the key was written", "[refresher]") {
  Rig rig(0.0);
  rig.store->put(rig.server.token(), (T0 - 400) * 1000);  // written 400 s ago, expires in 1000 s
  tick(*rig.refresher);
  // issued T0-400, expires T0+1000: lifetime 1400 s, due at 75% = T0-400+1050.
  CHECK(*rig.refresher->next_refresh() == at(T0 + 650));
}

TEST_CASE("never-expiring keys are never refreshed", "[refresher]") {
  Rig rig;
  rig.store->put(make_token("forever", "", 0), T0 * 1000);
  for (int i = 0; i < 50; ++i) {
    TimePoint wake = tick(*rig.refresher);
    CHECK(wake == rig.clock->now() + rig.refresher->policy().recheck_interval);
    rig.clock->advance(std::chrono::hours(24 * 30));
  }
  CHECK(rig.server.calls == 0);
  CHECK_FALSE(rig.refresher->next_refresh().has_value());
  CHECK(rig.count(RefreshEventKind::Failed) == 0);
  // An explicit request is refused without a call.
  auto ev = rig.refresher->refresh_now();
  CHECK(ev.kind == RefreshEventKind::Failed);
  CHECK(ev.error_code == ErrorCode::FailedPrecondition);
  CHECK(rig.server.calls == 0);
}

TEST_CASE("failures keep the current key and back off exponentially", "[refresher]") {
  Rig rig(0.5);  // jitter unit 0.5: backoff without jitter, refresh at 72.5%
  tick(*rig.refresher);
  const std::string original = rig.stored_key();
  auto refuse = [&](const Token&) -> Token { throw Error(ErrorCode::Permission, "denied"); };
  rig.use(refuse);

  rig.clock->set(at(T0 + 725));
  std::vector<int64_t> delays_ms;
  for (int i = 0; i < 12; ++i) {
    TimePoint before = rig.clock->now();
    tick(*rig.refresher);
    REQUIRE(rig.events.back().kind == RefreshEventKind::Failed);
    REQUIRE(rig.events.back().next_attempt);
    CHECK(rig.events.back().consecutive_failures == i + 1);
    CHECK(rig.events.back().error_code == ErrorCode::Permission);
    delays_ms.push_back(std::chrono::duration_cast<Millis>(*rig.events.back().next_attempt - before).count());
    CHECK(rig.stored_key() == original);  // never dropped
    // Nothing happens before the retry time.
    size_t n = rig.events.size();
    rig.clock->set(*rig.events.back().next_attempt - 1ms);
    tick(*rig.refresher);
    CHECK(rig.events.size() == n);
    rig.clock->set(*rig.events.back().next_attempt);
  }
  std::vector<int64_t> expected = {1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 300000};
  CHECK(delays_ms == expected);
}

TEST_CASE("backoff jitter stays within 20%", "[refresher]") {
  for (double unit : {0.0, 0.25, 0.75, 0.999}) {
    auto clock = std::make_shared<ManualClock>(at(T0));
    auto store = std::make_shared<MemoryStore>();
    store->put(make_token("k", "r", T0 + 1000), T0 * 1000);
    auto refuse = [](const Token&) -> Token { throw Error(ErrorCode::Authentication, "no"); };
    Refresher r(store, refuse, {}, clock, [unit] { return unit; });
    std::optional<TimePoint> next;
    r.subscribe([&](const RefreshEvent& e) { next = e.next_attempt; });
    clock->set(at(T0 + 900));
    for (int f = 1; f <= 6; ++f) {
      TimePoint before = clock->now();
      tick(r);
      REQUIRE(next);
      double d = static_cast<double>(std::chrono::duration_cast<Millis>(*next - before).count());
      double base = 1000.0 * (1 << (f - 1));
      CHECK(d >= base * 0.8 - 1);
      CHECK(d <= base * 1.2 + 1);
      clock->set(*next);
    }
  }
}

TEST_CASE("after a lost answer the same refresh token is replayed within the grace window", "[refresher]") {
  Rig rig(0.5);
  tick(*rig.refresher);
  rig.server.drop_next_answers = 1;  // the server commits, the answer never arrives
  rig.clock->set(at(T0 + 725));
  tick(*rig.refresher);
  REQUIRE(rig.events.back().kind == RefreshEventKind::Failed);
  CHECK(rig.events.back().error_code == ErrorCode::Timeout);
  CHECK(rig.server.commits == 1);
  // The journal still names the key whose refresh is in flight.
  auto pending = rig.store->load_pending();
  REQUIRE(pending);
  CHECK(pending->key_fingerprint == token_fingerprint(rig.stored_key()));
  CHECK(pending->started_at_ms == (T0 + 725) * 1000);

  rig.clock->set(*rig.events.back().next_attempt);
  tick(*rig.refresher);
  REQUIRE(rig.events.back().kind == RefreshEventKind::Refreshed);
  CHECK(rig.events.back().replay);
  CHECK(rig.server.replays == 1);
  CHECK(rig.server.commits == 1);
  CHECK_FALSE(rig.server.revoked);
  CHECK_FALSE(rig.store->load_pending());
  // The family is alive: the next rotation works.
  rig.clock->set(*rig.refresher->next_refresh());
  tick(*rig.refresher);
  CHECK(rig.events.back().kind == RefreshEventKind::Refreshed);
  CHECK(rig.server.commits == 2);
  CHECK_FALSE(rig.server.revoked);
}

TEST_CASE("repeated lost answers are retried fast enough to stay inside the grace window", "[refresher]") {
  Rig rig(0.5);
  tick(*rig.refresher);
  // Backoff 1, 2, 4, 8 s, then shortened to land at started + 25 s (window 30 s, margin 5 s).
  rig.server.drop_next_answers = 5;
  rig.clock->set(at(T0 + 725));
  const TimePoint started = rig.clock->now();
  for (int i = 0; i < 5; ++i) {
    tick(*rig.refresher);
    REQUIRE(rig.events.back().kind == RefreshEventKind::Failed);
    REQUIRE(rig.events.back().next_attempt);
    CHECK(*rig.events.back().next_attempt <= started + 25s);
    rig.clock->set(*rig.events.back().next_attempt);
  }
  CHECK(rig.clock->now() == started + 25s);
  tick(*rig.refresher);
  CHECK(rig.events.back().kind == RefreshEventKind::Refreshed);
  CHECK(rig.events.back().replay);
  CHECK(rig.server.commits == 1);
  CHECK(rig.server.replays == 5);
  CHECK_FALSE(rig.server.revoked);
}

TEST_CASE("past the grace window the key is kept and one last attempt waits until 95% of its life",
          "[refresher]") {
  Rig rig(0.5);  // key issued at T0, lifetime 1000 s: planned at +725, last resort at +950
  tick(*rig.refresher);
  const std::string original = rig.stored_key();
  rig.server.drop_next_answers = 6;
  rig.clock->set(at(T0 + 725));
  for (int i = 0; i < 6; ++i) {
    tick(*rig.refresher);
    REQUIRE(rig.events.back().kind == RefreshEventKind::Failed);
    CHECK(rig.events.back().error_code == ErrorCode::Timeout);
    rig.clock->set(*rig.events.back().next_attempt);
  }
  // Attempts at +0, +1, +3, +7, +15 and +25 s filled the window; the ordinary backoff (32 s)
  // brings the next one past it, so that one is not sent.
  CHECK(rig.clock->now() == at(T0 + 725 + 25 + 32));
  const int calls = rig.server.calls;
  tick(*rig.refresher);
  REQUIRE(rig.events.back().kind == RefreshEventKind::Failed);
  CHECK(rig.events.back().error_code == ErrorCode::FailedPrecondition);
  CHECK(rig.events.back().replay);
  CHECK(rig.events.back().retryable);
  CHECK_THAT(rig.events.back().error_message, Catch::Contains("replay window"));
  CHECK(rig.events.back().next_attempt == at(T0 + 950));
  CHECK(rig.server.calls == calls);
  CHECK(rig.stored_key() == original);  // still in use
  CHECK(rig.store->load_pending());    // and the journal still says why

  // Nothing is sent before the last resort, however often the loop looks.
  rig.clock->set(at(T0 + 949));
  tick(*rig.refresher);
  CHECK(rig.server.calls == calls);
  // The last resort is sent. This server did commit the lost request, so it revokes the family
  // now, 5% of the lifetime before expiry instead of 27% (and never while it could replay).
  rig.clock->set(at(T0 + 950));
  tick(*rig.refresher);
  CHECK(rig.server.calls == calls + 1);
  CHECK(rig.server.revoked);
  CHECK(rig.events.back().error_code == ErrorCode::Authentication);
}

TEST_CASE("a stale journal found at start waits for the last resort too", "[refresher]") {
  Rig rig(0.0);
  // A peer committed a refresh at T0+100 and died; this refresher starts a minute later.
  Token old = rig.store->load()->token;
  rig.clock->set(at(T0 + 100));
  rig.server.drop_next_answers = 1;
  REQUIRE_THROWS_AS(rig.server.refresh(old), Error);
  rig.store->store_pending({token_fingerprint(old.api_key.reveal()), (T0 + 100) * 1000});
  rig.clock->set(at(T0 + 160));
  tick(*rig.refresher);
  REQUIRE(rig.events.back().kind == RefreshEventKind::Failed);
  CHECK(rig.events.back().error_code == ErrorCode::FailedPrecondition);
  CHECK(rig.events.back().next_attempt == at(T0 + 950));
  CHECK_FALSE(rig.server.revoked);
  CHECK(rig.server.calls == 1);
}

TEST_CASE("a first attempt that never reached the server leaves no journal behind", "[refresher]") {
  // The server is down through the whole grace window: every attempt fails to connect. The
  // journal is dropped each time, so the attempt after the outage is an ordinary refresh.
  Rig rig(0.5);
  tick(*rig.refresher);
  int down = 8;
  auto outage = [&](const Token& t) -> Token {
    if (down > 0) {
      --down;
      throw Error(ErrorCode::ServerUnavailable, "unavailable (could not connect)", 14, true);
    }
    return rig.server.refresh(t);
  };
  rig.use(outage);
  rig.clock->set(at(T0 + 725));
  for (int i = 0; i < 8; ++i) {
    tick(*rig.refresher);
    REQUIRE(rig.events.back().kind == RefreshEventKind::Failed);
    CHECK(rig.events.back().error_code == ErrorCode::ServerUnavailable);
    CHECK_FALSE(rig.events.back().replay);
    CHECK_FALSE(rig.store->load_pending());
    rig.clock->set(*rig.events.back().next_attempt);
  }
  CHECK(rig.clock->now() > at(T0 + 725 + 30));  // well past any grace window
  tick(*rig.refresher);
  REQUIRE(rig.events.back().kind == RefreshEventKind::Refreshed);
  CHECK_FALSE(rig.events.back().replay);
  CHECK(rig.server.commits == 1);
  CHECK_FALSE(rig.server.revoked);
}

TEST_CASE("a replay that never reached the server keeps the journal and its window", "[refresher]") {
  Rig rig(0.5);
  tick(*rig.refresher);
  bool unreachable = false;
  auto flaky = [&](const Token& t) -> Token {
    if (unreachable) throw Error(ErrorCode::ServerUnavailable, "unavailable (could not connect)", 14, true);
    return rig.server.refresh(t);
  };
  rig.use(flaky);
  rig.server.drop_next_answers = 1;  // committed, answer lost
  rig.clock->set(at(T0 + 725));
  tick(*rig.refresher);
  REQUIRE(rig.events.back().kind == RefreshEventKind::Failed);
  unreachable = true;  // then the server cannot be reached for the replay
  rig.clock->set(*rig.events.back().next_attempt);
  tick(*rig.refresher);
  REQUIRE(rig.events.back().kind == RefreshEventKind::Failed);
  CHECK(rig.events.back().replay);
  auto pending = rig.store->load_pending();
  REQUIRE(pending);
  CHECK(pending->started_at_ms == (T0 + 725) * 1000);  // still the committed attempt's time
  CHECK(*rig.events.back().next_attempt <= at(T0 + 725 + 25));
  unreachable = false;
  rig.clock->set(*rig.events.back().next_attempt);
  tick(*rig.refresher);
  REQUIRE(rig.events.back().kind == RefreshEventKind::Refreshed);
  CHECK(rig.events.back().replay);
  CHECK_FALSE(rig.server.revoked);
}

TEST_CASE("a journal left by a crashed writer triggers an immediate replay", "[refresher]") {
  Rig rig(0.0);
  // A peer committed a refresh for the stored key and died before storing the answer.
  Token old = rig.store->load()->token;
  REQUIRE_THROWS_AS(([&] {
                      rig.server.drop_next_answers = 1;
                      rig.server.refresh(old);
                    }()),
                    Error);
  rig.store->store_pending({token_fingerprint(old.api_key.reveal()), T0 * 1000});
  rig.clock->set(at(T0 + 3));  // long before the planned refresh at T0+750
  tick(*rig.refresher);
  REQUIRE(rig.events.back().kind == RefreshEventKind::Refreshed);
  CHECK(rig.events.back().replay);
  CHECK(rig.server.commits == 1);
  CHECK(rig.server.replays == 1);
  CHECK_FALSE(rig.server.revoked);
}

TEST_CASE("a key a peer rotated inside the lock is adopted, not refreshed again", "[refresher]") {
  Rig rig(0.0);
  tick(*rig.refresher);
  auto peer = std::make_unique<Refresher>(rig.store, rig.server.function(), RefreshPolicy{}, rig.clock,
                                          [] { return 0.0; });
  rig.clock->set(at(T0 + 750));
  // Just before this refresher gets the lock, the peer refreshes.
  rig.store->on_lock = [&] { peer->refresh_now(); };
  tick(*rig.refresher);
  CHECK(rig.server.calls == 1);
  CHECK(rig.events.back().kind == RefreshEventKind::Adopted);
  CHECK(rig.events.back().key_fingerprint == token_fingerprint(rig.stored_key()));
  CHECK(*rig.refresher->next_refresh() == at(T0 + 750 + 750));
}

TEST_CASE("many threads ticking one refresher make one call per rotation", "[refresher]") {
  Rig rig(0.3);
  tick(*rig.refresher);
  for (int rotation = 1; rotation <= 5; ++rotation) {
    rig.clock->set(*rig.refresher->next_refresh());
    std::vector<std::thread> threads;
    std::atomic<bool> go{false};
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 20; ++i) tick(*rig.refresher);
      });
    go = true;
    for (auto& t : threads) t.join();
    CHECK(rig.server.calls == rotation);
  }
  CHECK_FALSE(rig.server.revoked);
}

TEST_CASE("refresh_now callers that wait share the outcome", "[refresher]") {
  Rig rig;
  tick(*rig.refresher);
  std::atomic<int> inside{0};
  std::atomic<bool> release{false};
  auto slow = [&](const Token& t) {
    inside++;
    for (int i = 0; i < 2000 && !release.load(); ++i) std::this_thread::sleep_for(1ms);
    return rig.server.refresh(t);
  };
  Refresher r(rig.store, slow, {}, rig.clock, [] { return 0.5; });
  std::thread first([&] { r.refresh_now(); });
  for (int i = 0; i < 2000 && inside.load() == 0; ++i) std::this_thread::sleep_for(1ms);
  REQUIRE(inside.load() == 1);
  std::vector<std::thread> waiters;
  std::atomic<int> refreshed{0}, queued{0};
  for (int t = 0; t < 4; ++t)
    waiters.emplace_back([&] {
      queued++;
      refreshed += r.refresh_now().kind == RefreshEventKind::Refreshed;
    });
  for (int i = 0; i < 2000 && queued.load() < 4; ++i) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(50ms);  // the waiters are now blocked behind the flight
  release = true;
  first.join();
  for (auto& w : waiters) w.join();
  CHECK(rig.server.calls == 1);
  CHECK(refreshed.load() == 4);
}

TEST_CASE("an empty store is reported and retried with backoff", "[refresher]") {
  auto clock = std::make_shared<ManualClock>(at(T0));
  auto store = std::make_shared<MemoryStore>();
  int calls = 0;
  Refresher r(store, [&](const Token& t) { ++calls; return t; }, {}, clock, [] { return 0.5; });
  std::vector<RefreshEvent> ev;
  r.subscribe([&](const RefreshEvent& e) { ev.push_back(e); });
  tick(r);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == RefreshEventKind::Failed);
  CHECK(ev[0].error_code == ErrorCode::NotFound);
  CHECK(*ev[0].next_attempt == at(T0) + 1000ms);
  CHECK(calls == 0);
}

TEST_CASE("a store that cannot be read for a while does not disturb the schedule", "[refresher]") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(at(T0));
  auto store = std::make_shared<FileStore>(dir.file("t.json"));
  store->store(make_token("key-0", "rt-0", T0 + 1000));
  int calls = 0;
  Refresher r(store, [&](const Token&) { ++calls; return make_token("key-1", "rt-1", T0 + 5000); }, {}, clock,
              [] { return 0.5; });
  std::vector<RefreshEvent> ev;
  r.subscribe([&](const RefreshEvent& e) { ev.push_back(e); });
  tick(r);
  REQUIRE(r.next_refresh());
  const TimePoint planned = *r.next_refresh();
  CHECK(planned > at(T0 + 500));
  { std::ofstream(store->path(), std::ios::trunc) << "{torn"; }
  clock->set(at(T0 + 10));
  TimePoint wake = tick(r);
  REQUIRE(ev.back().kind == RefreshEventKind::Failed);
  CHECK(ev.back().consecutive_failures == 1);
  CHECK(wake == at(T0 + 11));  // read again after the backoff
  store->store(make_token("key-0", "rt-0", T0 + 1000));
  clock->set(at(T0 + 11));
  tick(r);
  CHECK(calls == 0);  // not refreshed early because of the read failure
  CHECK(*r.next_refresh() == planned);
  CHECK(r.consecutive_failures() == 0);
}

TEST_CASE("subscribers: unsubscribe stops delivery and a throwing subscriber is isolated", "[refresher]") {
  Rig rig(0.0);
  int a = 0, b = 0;
  auto ida = rig.refresher->subscribe([&](const RefreshEvent&) { ++a; throw std::runtime_error("boom"); });
  rig.refresher->subscribe([&](const RefreshEvent&) { ++b; });
  tick(*rig.refresher);
  CHECK(a == 1);
  CHECK(b == 1);
  rig.refresher->unsubscribe(ida);
  rig.clock->set(at(T0 + 750));
  tick(*rig.refresher);
  CHECK(a == 1);
  CHECK(b == 2);
  CHECK_THROWS_AS(rig.refresher->subscribe(nullptr), Error);
}

TEST_CASE("the refresher validates its arguments", "[refresher]") {
  auto store = std::make_shared<MemoryStore>();
  RefreshFunction f = [](const Token& t) { return t; };
  CHECK_THROWS_AS(Refresher(nullptr, f), Error);
  CHECK_THROWS_AS(Refresher(store, nullptr), Error);
  RefreshPolicy bad;
  bad.refresh_fraction = 2;
  CHECK_THROWS_AS(Refresher(store, f, bad), Error);
}

TEST_CASE("the background thread refreshes on its own and stops cleanly", "[refresher]") {
  TempDir dir;
  auto store = std::make_shared<FileStore>(dir.file("token.json"));
  SystemClock sys;
  const int64_t now = epoch_s(sys.now());
  store->store(make_token("k0", "r0", static_cast<uint64_t>(now + 2)));  // due almost at once
  std::atomic<int> calls{0};
  RefreshPolicy p;
  p.recheck_interval = 50ms;
  Refresher r(store, [&](const Token&) {
    ++calls;
    return make_token("k1", "r1", static_cast<uint64_t>(now + 3600));
  }, p);
  std::mutex m;
  std::condition_variable cv;
  bool refreshed = false;
  r.subscribe([&](const RefreshEvent& e) {
    if (e.kind != RefreshEventKind::Refreshed) return;
    std::lock_guard<std::mutex> g(m);
    refreshed = true;
    cv.notify_all();
  });
  r.start();
  {
    std::unique_lock<std::mutex> g(m);
    cv.wait_for(g, 10s, [&] { return refreshed; });
  }
  r.stop();
  CHECK(refreshed);
  CHECK(calls.load() == 1);
  CHECK(store->load()->token.api_key.reveal() == encode_envelope("localhost", "k1"));
}

TEST_CASE("start() and stop() from several threads at once; stop() from a subscriber is an error",
          "[refresher][threads]") {
  Rig rig(0.5);
  // The first load adopts the key here: a loop that start() begins may be stopped before its
  // first tick, so the racing loops below need not load the store at all.
  tick(*rig.refresher);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if ((t + i) % 2 == 0) rig.refresher->start();
        else rig.refresher->stop();
      }
    });
  for (auto& th : threads) th.join();
  rig.refresher->stop();
  CHECK(rig.count(RefreshEventKind::Adopted) == 1);  // no loop saw a new key
  CHECK(rig.server.calls == 0);                      // nothing was due

  // stop() from a subscriber (the delivery thread) is refused with a clear error instead of
  // waiting for itself; stop() from outside returns, and start() runs a new loop.
  std::mutex m;
  std::condition_variable cv;
  int stops = 0;
  std::string refused;
  rig.refresher->subscribe([&](const RefreshEvent& e) {
    if (e.kind != RefreshEventKind::Refreshed) return;
    std::string why;
    try {
      rig.refresher->stop();
    } catch (const Error& err) {
      if (err.code() == ErrorCode::FailedPrecondition) why = err.what();
    }
    std::lock_guard<std::mutex> g(m);
    refused = why;
    ++stops;
    cv.notify_all();
  });
  rig.clock->set(at(T0 + 800));  // due
  rig.refresher->start();
  {
    std::unique_lock<std::mutex> g(m);
    REQUIRE(cv.wait_for(g, 30s, [&] { return stops == 1; }));
  }
  CHECK_THAT(refused, Catch::Contains("own callback"));
  rig.refresher->stop();
  CHECK(rig.server.calls == 1);
  rig.refresher->start();
  rig.refresher->wake();
  rig.refresher->stop();
  CHECK(rig.server.calls == 1);  // the new key is not due yet
}
