// Delivers events to C callbacks on a thread owned by the library, with the guarantees of
// docs/c-api.md: never inside the registering call, and no call after unsubscribe (or the
// owner's free) has returned. The owner posts copies of events; subscribers are called in order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "momento/auth.h"

namespace momento_capi {

template <class Event, class Fn>
class Dispatcher {
 public:
  Dispatcher() : thread_([this] { run(); }) {}
  ~Dispatcher() { shutdown(); }
  Dispatcher(const Dispatcher &) = delete;
  Dispatcher &operator=(const Dispatcher &) = delete;

  uint64_t subscribe(Fn fn, void *user_data, momento_destroy_fn destroy) {
    std::lock_guard lock(mu_);
    const uint64_t id = next_id_++;
    subs_.emplace(id, Sub{fn, user_data, destroy});
    return id;
  }

  // False when the id is unknown. When it returns true the callback is not running (unless the
  // caller is that very callback) and will not run again; destroy(user_data) has run or, when
  // called from inside the callback, runs as soon as the callback returns.
  bool unsubscribe(uint64_t id) {
    Sub sub;
    {
      std::unique_lock lock(mu_);
      auto it = subs_.find(id);
      if (it == subs_.end()) return false;
      sub = it->second;
      subs_.erase(it);
      if (std::this_thread::get_id() == thread_.get_id()) {
        if (running_ == id) {
          deferred_.push_back(sub);
          return true;
        }
      } else {
        idle_.wait(lock, [&] { return running_ != id; });
      }
    }
    if (sub.destroy) sub.destroy(sub.user_data);
    return true;
  }

  void post(std::shared_ptr<const Event> event) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || subs_.empty()) return;
      queue_.push_back(std::move(event));
    }
    wake_.notify_one();
  }

  // Stops delivery (pending events are dropped), joins the thread, destroys every user_data.
  // Must not be called from a callback.
  void shutdown() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    std::map<uint64_t, Sub> rest;
    {
      std::lock_guard lock(mu_);
      rest.swap(subs_);
    }
    for (auto &[id, s] : rest)
      if (s.destroy) s.destroy(s.user_data);
  }

  bool on_dispatch_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct Sub {
    Fn fn = nullptr;
    void *user_data = nullptr;
    momento_destroy_fn destroy = nullptr;
  };

  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      std::shared_ptr<const Event> ev = std::move(queue_.front());
      queue_.pop_front();
      std::vector<uint64_t> ids;
      for (auto &[id, s] : subs_) ids.push_back(id);
      for (uint64_t id : ids) {
        if (stopping_) return;
        auto it = subs_.find(id);
        if (it == subs_.end()) continue;  // unsubscribed meanwhile
        Sub s = it->second;
        running_ = id;
        lock.unlock();
        try {
          s.fn(ev->c_handle(), s.user_data);
        } catch (...) {
          // A callback must not throw; if a C++ one does, the exception stops here.
        }
        lock.lock();
        running_ = 0;
        std::vector<Sub> deferred;
        deferred.swap(deferred_);
        if (!deferred.empty()) {
          lock.unlock();
          for (auto &d : deferred)
            if (d.destroy) d.destroy(d.user_data);
          lock.lock();
        }
        idle_.notify_all();
      }
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<std::shared_ptr<const Event>> queue_;
  std::map<uint64_t, Sub> subs_;
  std::vector<Sub> deferred_;
  uint64_t next_id_ = 1;
  uint64_t running_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after every other member exists
};

}  // namespace momento_capi
