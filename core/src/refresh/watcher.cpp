// Watcher: periodic and on-demand re-reads of a store, published by pointer swap.
#include "momento/auth/watcher.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "loop_thread.hpp"

namespace momento::auth {

struct Watcher::Impl {
  std::shared_ptr<TokenStore> store;
  WatcherOptions opt;

  mutable std::mutex ptr_m;  // held only to copy or replace the pointer
  std::shared_ptr<const WatchedKey> current;

  std::mutex poll_m;  // one store read at a time

  detail::LoopThread loop;  // loop.m also guards `notified` and `last_read`
  bool notified = false;
  std::chrono::steady_clock::time_point last_read{};

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
  if (options.period > std::chrono::hours(24))
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
  impl_->loop.start([this] {
    Impl& im = *impl_;
    for (;;) {
      {
        std::unique_lock<std::mutex> g(im.loop.m);
        auto period_end = im.last_read + im.opt.period;
        // Wake for the period, or for a notification once the rate limit allows it.
        while (!im.loop.stopping) {
          auto now = std::chrono::steady_clock::now();
          if (now >= period_end) break;
          if (im.notified && now >= im.last_read + im.opt.min_notify_interval) break;
          auto until = period_end;
          if (im.notified) until = std::min(until, im.last_read + im.opt.min_notify_interval);
          im.loop.cv.wait_until(g, until);
        }
        if (im.loop.stopping) return;
        im.notified = false;
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
