// Watcher: periodic and on-demand re-reads of a store, published by pointer swap.
#include "momento/auth/watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "../util/limits.hpp"
#include "loop_thread.hpp"

namespace momento::auth {
namespace {

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// inotify on the directories a file store's key lives in: the one holding the path (a rename over
// the file, or Kubernetes' atomic swap of the "..data" link in a projected volume) and, for a
// link, the one holding its target. A thread of its own calls `changed` for every batch of events.
class DirEvents {
 public:
  DirEvents(const std::string& path, std::function<void()> changed) : changed_(std::move(changed)) {
    ino_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ino_ < 0 || wake_ < 0) return;  // the period still picks changes up
    constexpr uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE |
                              IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
    bool any = ::inotify_add_watch(ino_, dir_of(path).c_str(), mask) >= 0;
    if (char* real = ::realpath(path.c_str(), nullptr)) {
      std::string d = dir_of(real);
      std::free(real);
      if (d != dir_of(path)) any = ::inotify_add_watch(ino_, d.c_str(), mask) >= 0 || any;
    }
    if (any) thread_ = std::thread([this] { run(); });
  }
  ~DirEvents() {
    if (thread_.joinable()) {
      uint64_t one = 1;
      (void)!::write(wake_, &one, sizeof one);
      thread_.join();
    }
    if (ino_ >= 0) ::close(ino_);
    if (wake_ >= 0) ::close(wake_);
  }
  DirEvents(const DirEvents&) = delete;
  DirEvents& operator=(const DirEvents&) = delete;

 private:
  void run() {
    alignas(inotify_event) char buf[16 * (sizeof(inotify_event) + NAME_MAX + 1)];
    for (;;) {
      pollfd p[2] = {{ino_, POLLIN, 0}, {wake_, POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) continue;  // EINTR
      if (p[1].revents) return;
      bool got = false;
      while (::read(ino_, buf, sizeof buf) > 0) got = true;  // drain the batch
      if (got) changed_();
    }
  }

  int ino_ = -1, wake_ = -1;
  std::function<void()> changed_;
  std::thread thread_;
};

}  // namespace

struct Watcher::Impl {
  std::shared_ptr<TokenStore> store;
  WatcherOptions opt;

  mutable std::mutex ptr_m;  // held only to copy or replace the pointer
  std::shared_ptr<const WatchedKey> current;

  std::mutex poll_m;  // one store read at a time

  detail::LoopThread loop;  // loop.m also guards `notified`, `changed` and `last_read`
  bool notified = false;
  bool changed = false;  // the store's directory changed: read now, no rate limit
  std::chrono::steady_clock::time_point last_read{};

  // File stores: directory events from start() on (declared after `loop`, so destroyed first).
  std::once_flag events_once;
  std::unique_ptr<DirEvents> events;

  // Last member: destroyed first, so no callback runs while the rest goes away.
  EventDelivery<std::shared_ptr<const WatchedKey>> delivery;

  std::shared_ptr<const WatchedKey> build(const StoreSnapshot& s) const {
    return std::make_shared<const WatchedKey>(WatchedKey{
        Credential::from_string(s.token.api_key.reveal(), opt.endpoint), s.token.valid_until, s.version,
        token_fingerprint(s.token.api_key.reveal())});
  }

  // Returns the newly published key, or null if nothing changed.
  std::shared_ptr<const WatchedKey> read() {
    std::lock_guard<std::mutex> g(poll_m);
    {
      std::lock_guard<std::mutex> r(loop.m);
      last_read = std::chrono::steady_clock::now();
    }
    auto s = store->load();
    if (!s) return nullptr;  // an emptied store keeps the key we have
    {
      std::lock_guard<std::mutex> p(ptr_m);
      if (current && current->version == s->version) return nullptr;
    }
    auto key = build(*s);  // a key that does not parse keeps the current one (throws)
    {
      std::lock_guard<std::mutex> p(ptr_m);
      if (current && current->fingerprint == key->fingerprint) {
        current = key;  // same key, new version id: publish quietly
        return nullptr;
      }
      current = key;
    }
    delivery.post(key);  // under poll_m: subscribers see new keys in the order they were read
    return key;
  }
};

Watcher::Watcher(std::shared_ptr<TokenStore> store, WatcherOptions options) : impl_(std::make_unique<Impl>()) {
  if (!store) throw_invalid("watcher: store is null");
  if (options.period.count() <= 0) throw_invalid("watcher: period must be positive");
  if (options.period > detail::kOneDay)
    throw_invalid("watcher: period must be at most one day (86400 seconds)");
  if (options.min_notify_interval.count() < 0) throw_invalid("watcher: min_notify_interval must not be negative");
  impl_->store = std::move(store);
  impl_->opt = std::move(options);
  auto s = impl_->store->load();
  if (!s) throw Error(ErrorCode::NotFound, "watcher: store " + impl_->store->describe() + " holds no key");
  impl_->current = impl_->build(*s);
  impl_->last_read = std::chrono::steady_clock::now();
}

Watcher::~Watcher() { impl_->loop.stop(); }  // from a callback too: see EventDelivery

std::shared_ptr<const WatchedKey> Watcher::current() const {
  std::lock_guard<std::mutex> g(impl_->ptr_m);
  return impl_->current;
}

bool Watcher::poll() {
  return impl_->read() != nullptr;
}

void Watcher::notify_unauthenticated() {
  {
    std::lock_guard<std::mutex> g(impl_->loop.m);
    impl_->notified = true;
  }
  impl_->loop.cv.notify_all();
}

uint64_t Watcher::subscribe(WatchSubscriber s, std::function<void()> removed) {
  return impl_->delivery.subscribe(std::move(s), std::move(removed));
}
bool Watcher::unsubscribe(uint64_t id) { return impl_->delivery.unsubscribe(id); }
void Watcher::drain() { impl_->delivery.drain(); }

std::string Watcher::describe() const { return impl_->store->describe(); }

void Watcher::start() {
  if (auto* fs = dynamic_cast<FileStore*>(impl_->store.get())) {
    std::call_once(impl_->events_once, [&] {
      Impl* im = impl_.get();
      im->events = std::make_unique<DirEvents>(fs->path(), [im] {
        {
          std::lock_guard<std::mutex> g(im->loop.m);
          im->changed = true;
        }
        im->loop.cv.notify_all();
      });
    });
  }
  impl_->loop.start([this] {
    Impl& im = *impl_;
    for (;;) {
      {
        std::unique_lock<std::mutex> g(im.loop.m);
        auto period_end = im.last_read + im.opt.period;
        // Wake for the period, or for a notification once the rate limit allows it.
        while (!im.loop.stopping) {
          auto now = std::chrono::steady_clock::now();
          if (now >= period_end || im.changed) break;
          if (im.notified && now >= im.last_read + im.opt.min_notify_interval) break;
          auto until = period_end;
          if (im.notified) until = std::min(until, im.last_read + im.opt.min_notify_interval);
          im.loop.cv.wait_until(g, until);
        }
        if (im.loop.stopping) return;
        im.notified = false;
        im.changed = false;
      }
      try {
        poll();
      } catch (const std::exception&) {
        // Keep serving the current key; the next period tries again.
        std::lock_guard<std::mutex> g(im.loop.m);
        im.last_read = std::chrono::steady_clock::now();
      }
    }
  });
}

void Watcher::stop() {
  if (impl_->delivery.on_delivery_thread())
    throw Error(ErrorCode::FailedPrecondition,
                "watcher: stop() called from its own callback; call it after the callback "
                "returns (releasing the watcher from there is allowed)");
  impl_->loop.stop();
}

}  // namespace momento::auth
