// The background thread of a Refresher or a Watcher.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace momento::auth::detail {

// start() and stop() may be called from any thread, concurrently (they take turns, so the thread
// object is never assigned while another caller reads or joins it), and from a subscriber running
// on the loop itself, where they only set the flag: joining one's own thread would deadlock.
// The loop body waits on `cv` under `m` and returns once it sees `stopping`.
class LoopThread {
 public:
  std::mutex m;  // guards `stopping` and whatever loop state the owner keeps with it
  std::condition_variable cv;
  bool stopping = false;

  bool on_this_thread() const { return current_ == this; }

  template <typename Body>
  void start(Body body) {
    if (on_this_thread()) {  // from a subscriber on the loop: keep the loop going
      std::lock_guard<std::mutex> g(m);
      stopping = false;
      return;
    }
    std::lock_guard<std::mutex> life(life_m_);
    {
      std::lock_guard<std::mutex> g(m);
      if (thread_.joinable() && !stopping) return;  // already running
    }
    if (thread_.joinable()) thread_.join();  // a loop that a subscriber stopped: let it end
    std::lock_guard<std::mutex> g(m);
    stopping = false;
    thread_ = std::thread([this, body = std::move(body)]() mutable {
      current_ = this;
      body();
    });
  }

  void stop() {
    if (on_this_thread()) {  // from a subscriber on the loop: it ends after the callback
      std::lock_guard<std::mutex> g(m);
      stopping = true;
      return;
    }
    std::lock_guard<std::mutex> life(life_m_);
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> g(m);
      stopping = true;
    }
    cv.notify_all();
    thread_.join();
  }

 private:
  static inline thread_local const LoopThread* current_ = nullptr;
  std::mutex life_m_;  // serialises start() and stop(): only they touch `thread_`
  std::thread thread_;
};

}  // namespace momento::auth::detail
