// Background refresher: keeps the key in a TokenStore fresh (docs/refresh.md).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "momento/auth/client.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/delivery.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/store.hpp"

namespace momento::auth {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

// Time source, injectable for tests.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}
  TimePoint now() const override {
    std::lock_guard<std::mutex> g(m_);
    return now_;
  }
  void advance(Millis d) {
    std::lock_guard<std::mutex> g(m_);
    now_ += d;
  }
  void set(TimePoint t) {
    std::lock_guard<std::mutex> g(m_);
    now_ = t;
  }

 private:
  mutable std::mutex m_;
  TimePoint now_;
};

// Uniform random numbers in [0, 1). Must be callable from any thread.
using RandomSource = std::function<double()>;
// A thread-safe source seeded from std::random_device.
RandomSource default_random_source();

struct RefreshPolicy {
  double refresh_fraction = 0.75;  // of the lifetime, when the refresh is due
  double jitter_fraction = 0.05;   // up to this fraction of the lifetime earlier, at random
  Millis backoff_initial{1000};
  Millis backoff_max{300000};
  double backoff_jitter = 0.20;    // each delay is multiplied by 1 ± this, at random
  // The server's replay grace window for a consumed refresh token, and how much of it to keep
  // in reserve: after a possibly lost answer, retries come fast enough to land inside it.
  Millis replay_window{30000};
  Millis replay_margin{5000};
  // When a possibly committed refresh could not be replayed inside that window, sending its
  // refresh token again would look like reuse and revoke the key's family (the key in use
  // included). The key is kept instead, and one more attempt waits until this fraction of its
  // lifetime has passed: by then a revocation costs little, and if the lost request never
  // reached the server, the refresh still succeeds before expiry.
  double last_resort_fraction = 0.95;
  // Longest sleep between looks at the store (peers may rotate or replace the key).
  Millis recheck_interval{60000};

  // Checks the whole policy against every rule, in one fixed order, and throws InvalidArgument
  // naming the first rule broken ("refresh policy: jitter_fraction (0.8) must be below
  // refresh_fraction (0.75)"), so the answer never depends on how the values were set.
  void validate() const;
};

// Builds a RefreshPolicy from values given one at a time (the C ABI's setters, a binding's
// keyword arguments). A setter only records its value, so the result of a series of setter
// calls does not depend on their order; build() checks the whole policy and names the first
// rule broken, saying which of the values involved were defaults.
class RefreshPolicyBuilder {
 public:
  void set_refresh_fraction(double fraction);
  void set_jitter_fraction(double fraction);
  void set_backoff(Millis initial, Millis max);  // both at once
  void set_backoff_initial(Millis initial);
  void set_backoff_max(Millis max);
  void set_recheck_interval(Millis interval);

  // The values in effect: the ones set, defaults (RefreshPolicy{}) elsewhere. Not validated.
  const RefreshPolicy& values() const noexcept { return policy_; }
  // values(), validated (RefreshPolicy::validate()).
  RefreshPolicy build() const;

 private:
  template <class Set>
  void set(unsigned fields, Set&& assign);
  RefreshPolicy policy_;
  unsigned explicit_ = 0;  // which members were set (bits of the rule table in schedule.cpp)
};

// ---- Pure scheduling rules (unit-testable without a store or a network) ----

// When a key issued at `issued` and expiring at `valid_until` is due for refresh:
//   issued + refresh_fraction * L - jitter_unit * jitter_fraction * L,  L = valid_until - issued.
// `jitter_unit` in [0, 1). A non-positive lifetime (issued at or after expiry) gives `issued`.
TimePoint planned_refresh_time(TimePoint issued, TimePoint valid_until, double jitter_unit,
                               const RefreshPolicy& policy);

// When a key issued at `issued` and expiring at `valid_until` gets its last-resort attempt:
//   issued + max(last_resort_fraction, refresh_fraction) * L,  L = valid_until - issued
// (`issued` when L <= 0).
TimePoint last_resort_time(TimePoint issued, TimePoint valid_until, const RefreshPolicy& policy);

// Delay before the next attempt after `failures` consecutive failures (>= 1):
//   min(initial * 2^(failures-1), max) * (1 + backoff_jitter * (2 * jitter_unit - 1)).
Millis backoff_delay(int failures, double jitter_unit, const RefreshPolicy& policy);

// After an attempt whose answer may have been lost, the delay for the next replay: the normal
// backoff, shortened so that the replay still lands before started + replay_window - margin.
// std::nullopt when that point has passed already.
std::optional<Millis> replay_delay(int failures, double jitter_unit, TimePoint started,
                                   TimePoint now, const RefreshPolicy& policy);

// Whether a failure proves the server did not act on the request (so nothing was consumed):
// the server refused it. (Error::not_sent, a request that never left, is handled apart: it says
// nothing about an earlier attempt that a replay repeats.)
bool failure_is_definite(const Error& e) noexcept;
bool failure_is_definite(ErrorCode code) noexcept;

// ---- Refresh function ----

// Exchanges the current key for a new one. Must throw momento::auth::Error on failure.
using RefreshFunction = std::function<Token(const Token& current)>;

// The real one: Credential::from_string(current.api_key, override) -> AuthClient ->
// refresh_api_key(current.refresh_token). Never retried inside.
RefreshFunction auth_client_refresh_function(ClientConfig config = {},
                                             std::optional<EndpointOverride> endpoint = std::nullopt);

// ---- Events ----

enum class RefreshEventKind {
  Refreshed,  // this refresher exchanged the key and stored the result
  Adopted,    // a new key appeared in the store (first load, or a peer rotated it)
  Failed,     // an attempt failed; the current key stays in service
};
const char* refresh_event_kind_name(RefreshEventKind k) noexcept;  // "refreshed", ...

struct RefreshEvent {
  RefreshEventKind kind = RefreshEventKind::Adopted;
  std::string store;             // TokenStore::describe()
  std::string key;               // redacted current key (redact()), "" when none
  std::string key_fingerprint;   // token_fingerprint() of the current key
  ExpiresAt valid_until = ExpiresAt::never();  // of the current key
  bool replay = false;           // the attempt replayed a refresh that was in flight
  // Failed only:
  ErrorCode error_code = ErrorCode::Unknown;
  std::string error_message;     // never contains a secret
  bool retryable = false;
  int consecutive_failures = 0;
  std::optional<TimePoint> next_attempt;  // when the refresher will try again
};

using RefreshSubscriber = std::function<void(const RefreshEvent&)>;

// What one tick() did.
struct TickResult {
  TimePoint next;                    // when to look again
  std::vector<RefreshEvent> events;  // in the order they happened; subscribers get the same
};

// The most telling of a pass's events: a failure or a refresh over an adoption, the later one
// among equals. nullptr for none.
const RefreshEvent* most_telling(const std::vector<RefreshEvent>& events) noexcept;

// ---- Refresher ----

// Keeps one store's key fresh. Thread-safe. Either drive it yourself with tick() (tests, cron
// style) or start() its own thread.
//
// One attempt, single-flight within the object:
//   lock the store -> re-read it -> adopt a key a peer already rotated -> record the refresh in
//   flight (journal) -> RefreshFunction -> store the new key -> clear the journal -> unlock.
// A journal entry left by a lost answer or a crashed writer makes the next attempt a replay of the
// same refresh token, at once, within the server's grace window.
class Refresher {
 public:
  Refresher(std::shared_ptr<TokenStore> store, RefreshFunction refresh,
            RefreshPolicy policy = {}, std::shared_ptr<const Clock> clock = nullptr,
            RandomSource random = nullptr);
  ~Refresher();  // stops the thread
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  // Returns an id for unsubscribe(). Callbacks run on the refresher's delivery thread
  // (EventDelivery: one at a time, in event order, never on the thread doing the work);
  // `removed` runs once the subscription has ended.
  uint64_t subscribe(RefreshSubscriber subscriber, std::function<void()> removed = nullptr);
  // False for an unknown id. When it returns the callback is not running and will not run again
  // (from inside that very callback it returns at once; `removed` runs after the callback).
  bool unsubscribe(uint64_t id);
  // Blocks until every event produced so far has reached the subscribers.
  void drain();
  // True on the delivery thread, i.e. inside a subscriber's callback.
  bool in_callback() const;

  // Looks at the store and refreshes if due (or a retry is due). Returns when to look again
  // and the events it produced.
  TickResult tick();
  // Refreshes now regardless of the schedule (still adopts a peer's newer key instead). Returns
  // the event it produced. Does not throw for refresh failures: they are the event.
  RefreshEvent refresh_now();
  // One look on the calling thread: refresh_now() when `force`, else tick(). Returns the most
  // telling event of the pass (most_telling()), or none when nothing happened.
  std::optional<RefreshEvent> run_once(bool force);

  // Background thread: tick(), sleep until the returned time (or wake()/stop()). Real time.
  void start();
  // Idempotent; waits for the thread. From a subscriber's callback it throws FailedPrecondition
  // (the one rule for stop() from inside, the watcher's too); destroying the refresher there is
  // allowed: it ends once the callback returns.
  void stop();
  void wake();  // re-run tick() now

  // When the next attempt is planned (none before the first tick or for never-expiring keys).
  std::optional<TimePoint> next_refresh() const;
  int consecutive_failures() const;
  const RefreshPolicy& policy() const noexcept { return policy_; }

 private:
  struct State;
  RefreshEvent attempt(bool force);
  void run();

  std::shared_ptr<TokenStore> store_;
  RefreshFunction refresh_;
  RefreshPolicy policy_;
  std::shared_ptr<const Clock> clock_;
  RandomSource random_;
  std::unique_ptr<State> state_;
};

}  // namespace momento::auth
