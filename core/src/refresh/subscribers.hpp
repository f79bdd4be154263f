// A subscriber list with the guarantee the C API documents for callbacks (docs/c-api.md): once unsubscribe() returns,
// the callback is not running and will not run again (unless unsubscribe is called from inside
// that very callback).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "momento/auth/error.hpp"

namespace momento::auth::detail {

template <typename... Args>
class SubscriberList {
 public:
  using Fn = std::function<void(Args...)>;

  uint64_t add(Fn fn) {
    if (!fn) throw_invalid("subscribe: callback is empty");
    std::lock_guard<std::mutex> g(m_);
    uint64_t id = next_id_++;
    subs_.emplace(id, std::make_shared<Fn>(std::move(fn)));
    return id;
  }

  void remove(uint64_t id) {
    std::unique_lock<std::mutex> g(m_);
    subs_.erase(id);
    // Wait for calls in progress on other threads; a call on this thread is our caller.
    cv_.wait(g, [&] {
      for (auto& [tid, sid] : running_)
        if (sid == id && tid != std::this_thread::get_id()) return false;
      return true;
    });
  }

  void call(Args... args) {
    std::vector<std::pair<uint64_t, std::shared_ptr<Fn>>> snapshot;
    {
      std::lock_guard<std::mutex> g(m_);
      snapshot.assign(subs_.begin(), subs_.end());
    }
    for (auto& [id, fn] : snapshot) {
      {
        std::lock_guard<std::mutex> g(m_);
        if (!subs_.count(id)) continue;  // removed meanwhile
        running_.emplace_back(std::this_thread::get_id(), id);
      }
      try {
        (*fn)(args...);
      } catch (...) {
        // A subscriber's failure must not break the refresher or other subscribers.
      }
      {
        std::lock_guard<std::mutex> g(m_);
        for (auto it = running_.begin(); it != running_.end(); ++it)
          if (it->first == std::this_thread::get_id() && it->second == id) {
            running_.erase(it);
            break;
          }
      }
      cv_.notify_all();
    }
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::map<uint64_t, std::shared_ptr<Fn>> subs_;
  std::vector<std::pair<std::thread::id, uint64_t>> running_;
  uint64_t next_id_ = 1;
};

}  // namespace momento::auth::detail
