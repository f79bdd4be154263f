// Refresher: schedule, single-flight, cross-process lock, journal-backed replay, events.
#include "momento/auth/refresher.hpp"

#include <thread>
#include <vector>

#include "loop_thread.hpp"

namespace momento::auth {
namespace {

int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}
TimePoint from_ms(int64_t ms) { return TimePoint(Millis(ms)); }
TimePoint from_epoch_s(uint64_t s) { return TimePoint(std::chrono::seconds(s)); }

bool refreshable(const Token& t) {
  return t.valid_until.does_expire() && !t.refresh_token.empty();
}

}  // namespace

struct Refresher::State {
  std::mutex flight;  // one attempt at a time in this object

  mutable std::mutex m;  // guards the fields below; never held across I/O
  std::string fingerprint;
  std::string key_redacted;
  ExpiresAt valid_until = ExpiresAt::never();
  std::optional<TimePoint> planned;   // refresh time of the current key
  std::optional<TimePoint> last_resort;  // see RefreshPolicy::last_resort_fraction
  int failures = 0;                   // consecutive failed refresh attempts
  std::optional<TimePoint> retry_at;  // after a failure
  int load_failures = 0;              // consecutive failed store reads in tick()
  std::optional<TimePoint> next;      // what next_refresh() reports
  uint64_t generation = 0;            // bumped on every event
  RefreshEvent last_event;

  detail::LoopThread loop;  // loop.m also guards `woken`
  bool woken = false;

  // Last member: destroyed first, so no callback runs while the rest of the state goes away.
  EventDelivery<RefreshEvent> delivery;
};

Refresher::Refresher(std::shared_ptr<TokenStore> store, RefreshFunction refresh, RefreshPolicy policy,
                     std::shared_ptr<const Clock> clock, RandomSource random)
    : store_(std::move(store)),
      refresh_(std::move(refresh)),
      policy_(policy),
      clock_(clock ? std::move(clock) : std::make_shared<SystemClock>()),
      random_(random ? std::move(random) : default_random_source()),
      state_(std::make_unique<State>()) {
  if (!store_) throw_invalid("refresher: store is null");
  if (!refresh_) throw_invalid("refresher: refresh function is empty");
  policy_.validate();
}

Refresher::~Refresher() { state_->loop.stop(); }  // from a callback too: see EventDelivery

uint64_t Refresher::subscribe(RefreshSubscriber s, std::function<void()> removed) {
  return state_->delivery.subscribe(std::move(s), std::move(removed));
}
bool Refresher::unsubscribe(uint64_t id) { return state_->delivery.unsubscribe(id); }
void Refresher::drain() { state_->delivery.drain(); }
bool Refresher::in_callback() const { return state_->delivery.on_delivery_thread(); }

const RefreshEvent* most_telling(const std::vector<RefreshEvent>& events) noexcept {
  auto rank = [](RefreshEventKind k) { return k == RefreshEventKind::Adopted ? 0 : 1; };
  const RefreshEvent* best = nullptr;
  for (const auto& e : events)
    if (!best || rank(e.kind) >= rank(best->kind)) best = &e;
  return best;
}

std::optional<RefreshEvent> Refresher::run_once(bool force) {
  if (force) return refresh_now();
  TickResult r = tick();
  if (const RefreshEvent* e = most_telling(r.events)) return *e;
  return std::nullopt;
}

std::optional<TimePoint> Refresher::next_refresh() const {
  std::lock_guard<std::mutex> g(state_->m);
  return state_->next;
}

int Refresher::consecutive_failures() const {
  std::lock_guard<std::mutex> g(state_->m);
  return std::max(state_->failures, state_->load_failures);
}

// ---- helpers on State (called with `flight` held) ----

namespace {

struct Ctx {
  const RefreshPolicy& policy;
  const Clock& clock;
  const RandomSource& random;
  const std::string& store_name;
};

// Takes a key into the state; true if it differs from the one we knew.
bool observe(Refresher* /*unused*/, auto& st, const Ctx& c, const StoreSnapshot& s, TimePoint now,
             std::optional<TimePoint> issued_exact) {
  std::string fp = token_fingerprint(s.token.api_key.reveal());
  {
    std::lock_guard<std::mutex> g(st.m);
    if (fp == st.fingerprint) return false;
  }
  std::string redacted = redacted_key(s.token.api_key.reveal());  // parses: not under st.m
  std::lock_guard<std::mutex> g(st.m);
  st.fingerprint = fp;
  st.key_redacted = std::move(redacted);
  st.valid_until = s.token.valid_until;
  st.failures = 0;
  st.retry_at.reset();
  if (refreshable(s.token)) {
    TimePoint expiry = from_epoch_s(s.token.valid_until.epoch());
    // Issue time: exact after our own refresh; otherwise when the store says it was written.
    TimePoint issued = now;
    if (issued_exact) issued = *issued_exact;
    else if (s.written_at_ms && from_ms(*s.written_at_ms) <= now && from_ms(*s.written_at_ms) < expiry)
      issued = from_ms(*s.written_at_ms);
    st.planned = planned_refresh_time(issued, expiry, c.random(), c.policy);
    st.last_resort = last_resort_time(issued, expiry, c.policy);
  } else {
    st.planned.reset();  // never-expiring or not refreshable: nothing to schedule
    st.last_resort.reset();
  }
  return true;
}

RefreshEvent base_event(auto& st, RefreshEventKind kind, const std::string& store_name) {
  RefreshEvent e;
  e.kind = kind;
  e.store = store_name;
  std::lock_guard<std::mutex> g(st.m);
  e.key = st.key_redacted;
  e.key_fingerprint = st.fingerprint;
  e.valid_until = st.valid_until;
  e.consecutive_failures = st.failures;
  return e;
}

}  // namespace

RefreshEvent Refresher::attempt(bool force) {
  // Caller holds state_->flight.
  State& st = *state_;
  const std::string store_name = store_->describe();
  Ctx ctx{policy_, *clock_, random_, store_name};

  // A failed attempt, retried at `retry_at` (with st.m held).
  auto failed = [&](const Error& err, bool retryable, bool replay, TimePoint retry_at) {
    st.retry_at = retry_at;
    st.next = retry_at;
    RefreshEvent e;
    e.kind = RefreshEventKind::Failed;
    e.store = store_name;
    e.key = st.key_redacted;
    e.key_fingerprint = st.fingerprint;
    e.valid_until = st.valid_until;
    e.replay = replay;
    e.error_code = err.code();
    e.error_message = err.what();
    e.retryable = retryable;
    e.consecutive_failures = st.failures;
    e.next_attempt = retry_at;
    return e;
  };
  auto fail = [&](const Error& err, bool definite, std::optional<TimePoint> started, bool replay) {
    TimePoint now = clock_->now();
    std::lock_guard<std::mutex> g(st.m);
    st.failures += 1;
    Millis delay = backoff_delay(st.failures, random_(), policy_);
    if (!definite && started) {
      if (auto r = replay_delay(st.failures, random_(), *started, now, policy_)) delay = *r;
    }
    return failed(err, err.retryable() || !definite, replay, now + delay);
  };

  std::unique_ptr<StoreLock> lock;
  std::optional<StoreSnapshot> current;
  try {
    lock = store_->lock();
    current = store_->load();  // re-read inside the lock: a peer may have rotated meanwhile
  } catch (const Error& e) {
    return fail(e, true, std::nullopt, false);
  }
  if (!current)
    return fail(Error(ErrorCode::NotFound, "store " + store_name + " holds no key"), true, std::nullopt, false);

  TimePoint now = clock_->now();
  bool known_before;
  {
    std::lock_guard<std::mutex> g(st.m);
    known_before = !st.fingerprint.empty();
  }
  if (observe(this, st, ctx, *current, now, std::nullopt)) {
    bool due = false;
    {
      std::lock_guard<std::mutex> g(st.m);
      due = st.planned && now >= *st.planned;
      st.next = st.planned;
    }
    // A peer stored a new key since we last looked: adopt it instead of refreshing, unless it is
    // itself due already. A first look (nothing known before) is no reason to skip a forced refresh.
    if (!due && (known_before || !force)) return base_event(st, RefreshEventKind::Adopted, store_name);
  }

  const Token& tok = current->token;
  if (!tok.valid_until.does_expire())
    return fail(Error(ErrorCode::FailedPrecondition, "the key in " + store_name + " never expires; nothing to refresh"),
                true, std::nullopt, false);
  if (tok.refresh_token.empty())
    return fail(Error(ErrorCode::FailedPrecondition, "the key in " + store_name + " has no refresh token"), true,
                std::nullopt, false);
  if (!store_->writable())
    return fail(Error(ErrorCode::FailedPrecondition, "store " + store_name + " is read-only"), true, std::nullopt,
                false);

  const std::string fp = token_fingerprint(tok.api_key.reveal());
  std::optional<PendingRefresh> pending;
  try {
    pending = store_->load_pending();
  } catch (const Error&) {
    pending.reset();  // an unreadable journal proves nothing; the request below is the same anyway
  }
  bool replay = pending && pending->key_fingerprint == fp;
  TimePoint started = replay ? from_ms(pending->started_at_ms) : now;
  if (replay && now > started + policy_.replay_window - policy_.replay_margin) {
    // The server's replay window for that request has passed. Until the last resort, keep the
    // key rather than risk revoking it.
    std::lock_guard<std::mutex> g(st.m);
    if (st.last_resort && now < *st.last_resort) {
      st.failures += 1;
      return failed(Error(ErrorCode::FailedPrecondition,
                          "a refresh of this key may have been committed with its answer lost, and "
                          "the server's replay window for it has passed: sending its refresh token "
                          "again could revoke the key's family, so the key stays in use until the "
                          "last-resort attempt"),
                    true, true, *st.last_resort);
    }
  }
  try {
    // Record the refresh before sending it, so a lost answer or a crash is recognised later.
    if (!replay) store_->store_pending(PendingRefresh{fp, to_ms(now)});
  } catch (const Error& e) {
    return fail(e, true, std::nullopt, false);
  }

  Token fresh;
  try {
    fresh = refresh_(tok);
  } catch (const Error& e) {
    // Nothing was consumed when the server refused, nor by a first attempt that never left. A
    // replay that never left keeps the journal: the attempt it repeats may have been committed.
    bool definite = failure_is_definite(e) || (e.not_sent() && !replay);
    if (definite) {
      try {
        store_->clear_pending();
      } catch (const Error&) {
      }
    }
    return fail(e, definite, started, replay);
  } catch (const std::exception& e) {
    return fail(Error(ErrorCode::Unknown, std::string("refresh function failed: ") + e.what()), false, started,
                replay);
  }
  if (fresh.api_key.empty())
    return fail(Error(ErrorCode::Unknown, "refresh returned an empty key"), false, started, replay);

  try {
    store_->store(fresh);
  } catch (const Error& e) {
    // The journal stays: the next attempt replays the same token and gets this answer again.
    return fail(e, false, started, replay);
  }
  try {
    store_->clear_pending();
  } catch (const Error&) {
    // A leftover journal names the old key's fingerprint and is ignored from now on.
  }
  lock.reset();

  StoreSnapshot stored{fresh, {}, std::nullopt};
  TimePoint done = clock_->now();
  observe(this, st, ctx, stored, done, now);
  {
    std::lock_guard<std::mutex> g(st.m);
    st.failures = 0;
    st.retry_at.reset();
    st.next = st.planned;
  }
  RefreshEvent e = base_event(st, RefreshEventKind::Refreshed, store_name);
  e.replay = replay;
  return e;
}

TickResult Refresher::tick() {
  State& st = *state_;
  std::vector<RefreshEvent> events;
  TimePoint wake;
  {
    std::lock_guard<std::mutex> flight(st.flight);
    const std::string store_name = store_->describe();
    Ctx ctx{policy_, *clock_, random_, store_name};
    TimePoint now = clock_->now();
    bool attempt_now = false;
    try {
      auto current = store_->load();
      if (!current) throw Error(ErrorCode::NotFound, "store " + store_name + " holds no key");
      if (observe(this, st, ctx, *current, now, std::nullopt))
        events.push_back(base_event(st, RefreshEventKind::Adopted, store_name));
      std::optional<TimePoint> due;
      {
        std::lock_guard<std::mutex> g(st.m);
        st.load_failures = 0;
        if (!refreshable(current->token)) {
          st.failures = 0;  // nothing to retry for a key that is never refreshed
          st.retry_at.reset();
        }
        due = st.failures > 0 ? st.retry_at : st.planned;
      }
      // A journal entry for this very key: a refresh was in flight when its answer was lost or
      // its writer died. Replay it now, while the server's grace window may still be open.
      if (refreshable(current->token) && store_->writable()) {
        std::optional<PendingRefresh> p;
        try {
          p = store_->load_pending();
        } catch (const Error&) {
        }
        std::lock_guard<std::mutex> g(st.m);
        if (p && p->key_fingerprint == st.fingerprint && st.failures == 0) due = now;
      }
      attempt_now = due && now >= *due;
      if (!attempt_now) {
        std::lock_guard<std::mutex> g(st.m);
        st.next = due;
      }
    } catch (const Error& e) {
      // The store could not be read: back off on its own counter, the refresh schedule stays.
      std::lock_guard<std::mutex> g(st.m);
      st.load_failures += 1;
      st.next = now + backoff_delay(st.load_failures, random_(), policy_);
      RefreshEvent ev;
      ev.kind = RefreshEventKind::Failed;
      ev.store = store_name;
      ev.key = st.key_redacted;
      ev.key_fingerprint = st.fingerprint;
      ev.valid_until = st.valid_until;
      ev.error_code = e.code();
      ev.error_message = e.what();
      ev.retryable = true;
      ev.consecutive_failures = st.load_failures;
      ev.next_attempt = st.next;
      events.push_back(ev);
    }
    if (attempt_now) {
      RefreshEvent ev = attempt(false);
      // attempt() reports a first-seen key as Adopted; tick() already did.
      if (!(ev.kind == RefreshEventKind::Adopted && !events.empty() &&
            events.back().key_fingerprint == ev.key_fingerprint))
        events.push_back(ev);
    }
    now = clock_->now();
    std::lock_guard<std::mutex> g(st.m);
    wake = now + policy_.recheck_interval;
    if (st.next && *st.next < wake) wake = std::max(*st.next, now);
    st.generation += events.size();
    if (!events.empty()) st.last_event = events.back();
    // Posted under the flight lock, so subscribers see the events of concurrent passes in order.
    for (const auto& e : events) st.delivery.post(e);
  }
  return TickResult{wake, std::move(events)};
}

RefreshEvent Refresher::refresh_now() {
  State& st = *state_;
  uint64_t gen;
  {
    std::lock_guard<std::mutex> g(st.m);
    gen = st.generation;
  }
  RefreshEvent ev;
  {
    std::lock_guard<std::mutex> flight(st.flight);
    {
      // Single flight: a caller that waited while another finished gets that outcome.
      std::lock_guard<std::mutex> g(st.m);
      if (st.generation != gen) return st.last_event;
    }
    ev = attempt(true);
    {
      std::lock_guard<std::mutex> g(st.m);
      st.generation += 1;
      st.last_event = ev;
    }
    st.delivery.post(ev);
  }
  return ev;
}

void Refresher::start() { state_->loop.start([this] { run(); }); }

void Refresher::stop() {
  if (in_callback())
    throw Error(ErrorCode::FailedPrecondition,
                "refresher: stop() called from its own callback; call it after the callback "
                "returns (releasing the refresher from there is allowed)");
  state_->loop.stop();
}

void Refresher::wake() {
  {
    std::lock_guard<std::mutex> g(state_->loop.m);
    state_->woken = true;
  }
  state_->loop.cv.notify_all();
}

void Refresher::run() {
  for (;;) {
    {
      std::lock_guard<std::mutex> g(state_->loop.m);
      if (state_->loop.stopping) return;
      state_->woken = false;
    }
    TimePoint next = tick().next;
    auto delay = next - clock_->now();
    if (delay < Millis(0)) delay = Millis(0);
    std::unique_lock<std::mutex> g(state_->loop.m);
    state_->loop.cv.wait_for(g, delay, [&] { return state_->loop.stopping || state_->woken; });
    if (state_->loop.stopping) return;
  }
}

// ---- the real refresh function ----

RefreshFunction auth_client_refresh_function(ClientConfig config, std::optional<EndpointOverride> endpoint) {
  return [config, endpoint](const Token& current) -> Token {
    if (current.refresh_token.empty()) throw_invalid("refresh: the key has no refresh token");
    AuthClient client(Credential::from_string(current.api_key.reveal(), endpoint), config);
    return client.refresh_api_key(current.refresh_token.reveal());
  };
}

}  // namespace momento::auth
