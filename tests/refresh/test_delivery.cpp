// EventDelivery: the one delivery mechanism behind the refresher's and the watcher's callbacks.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "momento/auth/delivery.hpp"

using namespace momento::auth;
using namespace std::chrono_literals;

TEST_CASE("delivery: events arrive in order, on the delivery thread, never inside post()",
          "[delivery]") {
  EventDelivery<int> d;
  std::mutex m;
  std::vector<int> seen;
  std::vector<std::thread::id> threads;
  d.subscribe([&](const int& v) {
    std::lock_guard<std::mutex> g(m);
    seen.push_back(v);
    threads.push_back(std::this_thread::get_id());
  });
  for (int i = 0; i < 200; ++i) d.post(i);
  d.drain();
  std::lock_guard<std::mutex> g(m);
  REQUIRE(seen.size() == 200);
  for (int i = 0; i < 200; ++i) CHECK(seen[i] == i);
  for (auto t : threads) CHECK(t != std::this_thread::get_id());
}

TEST_CASE("delivery: unsubscribe waits for the running callback, then runs the notifier",
          "[delivery]") {
  EventDelivery<int> d;
  std::promise<void> entered;
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> removed{false}, removed_early{false};
  const uint64_t id = d.subscribe(
      [&](const int&) {
        entered.set_value();
        while (!release) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(20ms);
        finished = true;
      },
      [&] {
        if (!finished.load()) removed_early = true;  // must never run before the callback returned
        removed = true;
      });
  d.post(1);
  entered.get_future().wait();
  auto unsub = std::async(std::launch::async, [&] { return d.unsubscribe(id); });
  CHECK(unsub.wait_for(50ms) == std::future_status::timeout);  // blocked on the callback
  release = true;
  CHECK(unsub.get());
  CHECK(finished.load());
  CHECK(removed.load());
  CHECK_FALSE(removed_early.load());
  CHECK_FALSE(d.unsubscribe(id));  // unknown now
  d.post(2);
  d.drain();
}

TEST_CASE("delivery: unsubscribe from inside the callback returns at once", "[delivery]") {
  EventDelivery<int> d;
  std::atomic<int> calls{0};
  std::atomic<bool> removed{false};
  uint64_t id = 0;
  std::atomic<bool> removed_early{false};
  std::promise<bool> result;
  id = d.subscribe(
      [&](const int&) {
        if (calls++ == 0) result.set_value(d.unsubscribe(id));
        // The notifier waits for the callback to return. Checked on the test's thread: Catch2's
        // assertions are not thread-safe (TSan reports them).
        if (removed.load()) removed_early = true;
      },
      [&] { removed = true; });
  d.post(1);
  d.post(2);
  CHECK(result.get_future().get());
  d.drain();
  CHECK(calls.load() == 1);
  CHECK(removed.load());
  CHECK_FALSE(removed_early.load());
}

TEST_CASE("delivery: shutdown or drain from the own callback is an error, not a deadlock",
          "[delivery]") {
  EventDelivery<int> d;
  std::promise<std::string> shut, drained;
  d.subscribe([&](const int&) {
    try {
      d.shutdown();
      shut.set_value("returned");
    } catch (const Error& e) {
      shut.set_value(std::string(error_code_name(e.code())) + ": " + e.what());
    }
    try {
      d.drain();
      drained.set_value("returned");
    } catch (const Error& e) {
      drained.set_value(e.what());
    }
  });
  d.post(1);
  auto f = shut.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  const std::string shut_message = f.get();
  CHECK_THAT(shut_message, Catch::StartsWith("FAILED_PRECONDITION_ERROR: "));
  CHECK_THAT(shut_message, Catch::Contains("own event callback"));
  CHECK_THAT(drained.get_future().get(), Catch::Contains("event callback"));
  d.drain();
  d.post(2);  // still working after the refused calls
  d.drain();
}

TEST_CASE("delivery: destroyed from its own callback, it ends cleanly after the callback",
          "[delivery]") {
  auto d = std::make_unique<EventDelivery<int>>();
  std::promise<void> removed, posted;
  std::atomic<bool> callback_done{false}, done_before_removed{false};
  d->subscribe(
      [&](const int&) {
        // post() must have returned: destroying an object while another thread is still in one
        // of its calls is the caller's race (TSan reports it), not what this test is about.
        posted.get_future().wait();
        d.reset();  // the owner released from inside: no join of its own thread
        callback_done = true;
      },
      [&] {
        done_before_removed = callback_done.load();
        removed.set_value();
      });
  d->post(1);
  posted.set_value();
  auto f = removed.get_future();
  CHECK(f.wait_for(10s) == std::future_status::ready);
  CHECK(done_before_removed.load());
}

TEST_CASE("delivery: shutdown ends every subscription and refuses new events", "[delivery]") {
  std::atomic<int> removed{0};
  std::atomic<int> calls{0};
  {
    EventDelivery<int> d;
    d.subscribe([&](const int&) { ++calls; }, [&] { ++removed; });
    d.subscribe([&](const int&) { ++calls; }, [&] { ++removed; });
    CHECK_THROWS_AS(d.subscribe(nullptr), Error);
    d.shutdown();
    CHECK(removed.load() == 2);
    d.post(1);  // ignored after shutdown
    d.drain();
    d.shutdown();  // idempotent
  }
  CHECK(removed.load() == 2);
  CHECK(calls.load() == 0);
}

TEST_CASE("delivery: shutdown delivers what was posted before it", "[delivery]") {
  std::vector<int> seen;  // written on the delivery thread, read after the join
  {
    EventDelivery<int> d;
    d.subscribe([&](const int& v) {
      std::this_thread::sleep_for(1ms);
      seen.push_back(v);
    });
    for (int i = 0; i < 20; ++i) d.post(i);
    d.shutdown();
    CHECK(seen.size() == 20);
  }
  REQUIRE(seen.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(seen[i] == i);
}
