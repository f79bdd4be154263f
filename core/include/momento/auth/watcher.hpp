// Watcher: an application's view of a token store, swapped in atomically when it changes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "momento/auth/credential.hpp"
#include "momento/auth/delivery.hpp"
#include "momento/auth/store.hpp"

namespace momento::auth {

// One key as read from the store. Immutable once published.
struct WatchedKey {
  Credential credential;
  ExpiresAt valid_until = ExpiresAt::never();
  std::string version;      // StoredToken::version
  std::string fingerprint;  // token_fingerprint() of the authToken
};

struct WatcherOptions {
  // Re-read interval of the background thread. For a file: store, the thread also re-reads as
  // soon as the file's directory changes (inotify; Kubernetes volume swaps included), so the
  // period is only the fallback.
  std::chrono::milliseconds period{30000};
  // Minimum spacing of re-reads triggered by notify_unauthenticated(), so a burst of failing
  // calls costs one read.
  std::chrono::milliseconds min_notify_interval{1000};
  std::optional<EndpointOverride> endpoint;  // applied to every credential built
};

using WatchSubscriber = std::function<void(const std::shared_ptr<const WatchedKey>&)>;

// Thread-safe. current() copies a pointer under a mutex held for nothing else, so readers never
// wait for a store read or a refresh.
class Watcher {
 public:
  // Reads the store once; throws if it is empty or unreadable (nothing to serve).
  explicit Watcher(std::shared_ptr<TokenStore> store, WatcherOptions options = {});
  ~Watcher();  // stops the thread
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  std::shared_ptr<const WatchedKey> current() const;

  // Re-reads the store now on the calling thread. Returns true if a new key was published.
  // A failed read keeps the current key and rethrows.
  bool poll();
  // A call came back UNAUTHENTICATED: the background thread re-reads at once (rate-limited).
  void notify_unauthenticated();

  // Called with each new key after it is published (not for the initial one), on the
  // watcher's delivery thread (EventDelivery: in order, one at a time); `removed` runs once the
  // subscription has ended.
  uint64_t subscribe(WatchSubscriber subscriber, std::function<void()> removed = nullptr);
  // False for an unknown id; waits for a running callback (see EventDelivery).
  bool unsubscribe(uint64_t id);
  // Blocks until every new key published so far has reached the subscribers.
  void drain();

  void start();
  void stop();
  std::string describe() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace momento::auth
