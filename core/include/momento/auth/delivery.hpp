// Event delivery: the one way this library hands events to subscribers (refresher, watcher).
//
// Rules (docs/c-api.md "Callbacks"; every binding relies on them):
//  - Callbacks run on a thread the delivery owns, one at a time, in the order the events were
//    posted; never inside subscribe() or post().
//  - When unsubscribe() returns, the callback is not running and will not run again, and its
//    `removed` notifier has run. Called from inside that very callback, it returns at once and
//    the notifier runs right after the callback returns.
//  - shutdown() refuses new events, delivers those already posted, joins the thread and runs
//    every remaining notifier. Called from a callback it cannot join its own thread: it throws
//    FailedPrecondition instead of deadlocking.
//  - A callback that throws is isolated: the exception stops here.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "momento/auth/error.hpp"

namespace momento::auth {

template <class Event>
class EventDelivery {
 public:
  using Callback = std::function<void(const Event&)>;
  using Removed = std::function<void()>;

  EventDelivery() : s_(std::make_shared<State>()) {
    s_->thread = std::thread([s = s_] { s->run(); });
  }
  // From its own callback the thread cannot be joined: it is detached instead, finishes the
  // callback, runs the remaining notifiers and ends (it owns the shared state, so nothing dangles).
  ~EventDelivery() {
    if (on_delivery_thread()) {
      {
        std::lock_guard<std::mutex> lock(s_->mu);
        s_->stopping = true;
        s_->detached = true;
        s_->queue.clear();
      }
      s_->thread.detach();
      return;
    }
    shutdown();
  }
  EventDelivery(const EventDelivery&) = delete;
  EventDelivery& operator=(const EventDelivery&) = delete;

  uint64_t subscribe(Callback fn, Removed removed = nullptr) {
    if (!fn) throw_invalid("subscribe: callback is empty");
    std::lock_guard<std::mutex> lock(s_->mu);
    const uint64_t id = s_->next_id++;
    s_->subs.emplace(id, Sub{std::move(fn), std::move(removed)});
    return id;
  }

  // False when the id is unknown (or already removed).
  bool unsubscribe(uint64_t id) {
    State& s = *s_;
    Sub sub;
    {
      std::unique_lock<std::mutex> lock(s.mu);
      auto it = s.subs.find(id);
      if (it == s.subs.end()) return false;
      sub = std::move(it->second);
      s.subs.erase(it);
      if (on_delivery_thread()) {
        if (s.running == id) {
          s.deferred.push_back(std::move(sub));
          return true;
        }
      } else {
        s.idle.wait(lock, [&] { return s.running != id; });
      }
    }
    if (sub.removed) sub.removed();
    return true;
  }

  // Queues the event for every subscriber; costs nothing when nobody subscribed.
  void post(const Event& event) {
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      if (s_->stopping || s_->subs.empty()) return;
      s_->queue.push_back(event);
      ++s_->posted;
    }
    s_->wake.notify_one();
  }

  // Blocks until every event posted so far has been delivered.
  // FailedPrecondition from a callback, which would wait for itself.
  void drain() {
    if (on_delivery_thread())
      throw Error(ErrorCode::FailedPrecondition, "drain() called from an event callback");
    State& s = *s_;
    std::unique_lock<std::mutex> lock(s.mu);
    const uint64_t target = s.posted;
    s.idle.wait(lock, [&] { return s.delivered >= target || (s.stopping && s.queue.empty() && s.running == 0); });
  }

  // Refuses new events, delivers those already posted, joins the thread, runs every remaining
  // `removed` notifier. Idempotent.
  // FailedPrecondition from a callback, which would wait for itself.
  void shutdown() {
    if (on_delivery_thread())
      throw Error(ErrorCode::FailedPrecondition,
                  "stopped from its own event callback; do that after the callback returns");
    State& s = *s_;
    std::lock_guard<std::mutex> life(s.life);
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.stopping = true;
    }
    s.wake.notify_one();
    s.idle.notify_all();
    if (s.thread.joinable()) s.thread.join();
    s.end_subscriptions();
  }

  bool on_delivery_thread() const { return std::this_thread::get_id() == s_->thread_id.load(); }

 private:
  struct Sub {
    Callback fn;
    Removed removed;
  };

  struct State {
    std::mutex life;  // serialises shutdown()
    std::mutex mu;
    std::condition_variable wake, idle;
    std::deque<Event> queue;
    std::map<uint64_t, Sub> subs;
    std::vector<Sub> deferred;
    uint64_t next_id = 1;
    uint64_t running = 0;
    uint64_t posted = 0;     // events queued so far
    uint64_t delivered = 0;  // events whose callbacks have all returned (or were skipped)
    bool stopping = false;
    bool detached = false;  // see ~EventDelivery()
    std::atomic<std::thread::id> thread_id{};
    std::thread thread;

    void end_subscriptions() {
      std::map<uint64_t, Sub> rest;
      {
        std::lock_guard<std::mutex> lock(mu);
        rest.swap(subs);
        queue.clear();
      }
      for (auto& [id, sub] : rest)
        if (sub.removed) sub.removed();
    }

    void run() {
      thread_id = std::this_thread::get_id();
      deliver();
      bool alone;
      {
        std::lock_guard<std::mutex> lock(mu);
        alone = detached;
      }
      // Detached by a destructor called from a callback: nobody else ends the subscriptions.
      if (alone) end_subscriptions();
    }

    void deliver() {
      std::unique_lock<std::mutex> lock(mu);
      for (;;) {
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping, with everything posted delivered
        Event ev = std::move(queue.front());
        queue.pop_front();
        std::vector<uint64_t> ids;
        for (auto& [id, sub] : subs) ids.push_back(id);
        for (uint64_t id : ids) {
          if (detached) return;
          auto it = subs.find(id);
          if (it == subs.end()) continue;  // unsubscribed meanwhile
          Callback fn = it->second.fn;
          running = id;
          lock.unlock();
          try {
            fn(ev);
          } catch (...) {
            // A callback must not throw; if one does, the exception stops here.
          }
          lock.lock();
          running = 0;
          std::vector<Sub> done;
          done.swap(deferred);
          if (!done.empty()) {
            lock.unlock();
            for (auto& d : done)
              if (d.removed) d.removed();
            lock.lock();
          }
          idle.notify_all();
        }
        ++delivered;
        idle.notify_all();
      }
    }
  };

  std::shared_ptr<State> s_;
};

}  // namespace momento::auth
