// Pure scheduling rules of the refresher.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <mutex>
#include <random>

#include "momento/auth/refresher.hpp"
#include "../util/limits.hpp"

namespace momento::auth {

namespace {

// Members of RefreshPolicy, as bits: which ones a rule reads, which ones a caller set.
enum : unsigned {
  kRefresh = 1u << 0,
  kJitter = 1u << 1,
  kBackoffInitial = 1u << 2,
  kBackoffMax = 1u << 3,
  kRecheck = 1u << 4,
  kBackoffJitter = 1u << 5,
  kReplayWindow = 1u << 6,
  kReplayMargin = 1u << 7,
  kLastResort = 1u << 8,
  kAllFields = (1u << 9) - 1,
};

using detail::kOneDay;

std::string fraction(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string duration(Millis d) {
  const int64_t ms = d.count();
  if (ms % 1000 != 0) return std::to_string(ms) + " ms";
  return std::to_string(ms / 1000) + (ms == 1000 ? " second" : " seconds");
}

// "(0.75)" for a value the caller gave, "(0.75 by default)" for one they did not.
std::string other(const std::string& v, unsigned field, unsigned given) {
  return "(" + v + ((given & field) ? ")" : " by default)");
}

// The rules of a refresh policy, in the order they are checked. Each reads `fields` and returns
// the message for a policy that breaks it ("" when it holds). `given` says which members the
// caller set, so a message can say which value was a default.
struct Rule {
  unsigned fields;
  std::string (*broken)(const RefreshPolicy& p, unsigned given);
};

const Rule kRules[] = {
    {kRefresh,
     [](const RefreshPolicy& p, unsigned) -> std::string {
       if (p.refresh_fraction > 0.0 && p.refresh_fraction < 1.0) return "";
       return "refresh_fraction must be between 0 and 1 (exclusive), got " +
              fraction(p.refresh_fraction);
     }},
    {kJitter,
     [](const RefreshPolicy& p, unsigned given) -> std::string {
       if (p.jitter_fraction >= 0.0 && p.jitter_fraction < 1.0) return "";
       return "jitter_fraction must be at least 0 and below refresh_fraction " +
              other(fraction(p.refresh_fraction), kRefresh, given) + ", got " +
              fraction(p.jitter_fraction);
     }},
    {kRefresh | kJitter,
     [](const RefreshPolicy& p, unsigned given) -> std::string {
       if (p.jitter_fraction < p.refresh_fraction) return "";
       if ((given & kRefresh) && !(given & kJitter))
         return "refresh_fraction must exceed jitter_fraction " +
                other(fraction(p.jitter_fraction), kJitter, given) + ", got " +
                fraction(p.refresh_fraction);
       return "jitter_fraction must be at least 0 and below refresh_fraction " +
              other(fraction(p.refresh_fraction), kRefresh, given) + ", got " +
              fraction(p.jitter_fraction);
     }},
    {kBackoffInitial,
     [](const RefreshPolicy& p, unsigned) -> std::string {
       if (p.backoff_initial.count() > 0) return "";
       return "backoff_initial must be positive, got " + duration(p.backoff_initial);
     }},
    {kBackoffInitial | kBackoffMax,
     [](const RefreshPolicy& p, unsigned given) -> std::string {
       if (p.backoff_max >= p.backoff_initial) return "";
       return "backoff_max must be at least backoff_initial " +
              other(duration(p.backoff_initial), kBackoffInitial, given) + ", got " +
              duration(p.backoff_max);
     }},
    {kBackoffMax,
     [](const RefreshPolicy& p, unsigned) -> std::string {
       if (p.backoff_max <= kOneDay) return "";
       return "backoff_max must be at most one day (86400 seconds), got " + duration(p.backoff_max);
     }},
    {kBackoffJitter,
     [](const RefreshPolicy& p, unsigned) -> std::string {
       if (p.backoff_jitter >= 0.0 && p.backoff_jitter < 1.0) return "";
       return "backoff_jitter must be at least 0 and below 1, got " + fraction(p.backoff_jitter);
     }},
    {kReplayWindow,
     [](const RefreshPolicy& p, unsigned) -> std::string {
       if (p.replay_window.count() >= 0) return "";
       return "replay_window must not be negative, got " + duration(p.replay_window);
     }},
    {kReplayWindow | kReplayMargin,
     [](const RefreshPolicy& p, unsigned given) -> std::string {
       if (p.replay_margin.count() >= 0 && p.replay_margin <= p.replay_window) return "";
       return "replay_margin must be at least 0 and at most replay_window " +
              other(duration(p.replay_window), kReplayWindow, given) + ", got " +
              duration(p.replay_margin);
     }},
    {kRecheck,
     [](const RefreshPolicy& p, unsigned) -> std::string {
       if (p.recheck_interval.count() > 0) return "";
       return "recheck_interval must be positive, got " + duration(p.recheck_interval);
     }},
    {kRecheck,
     [](const RefreshPolicy& p, unsigned) -> std::string {
       if (p.recheck_interval <= kOneDay) return "";
       return "recheck_interval must be at most one day (86400 seconds), got " +
              duration(p.recheck_interval);
     }},
    {kLastResort,
     [](const RefreshPolicy& p, unsigned) -> std::string {
       if (p.last_resort_fraction > 0.0 && p.last_resort_fraction < 1.0) return "";
       return "last_resort_fraction must be between 0 and 1 (exclusive), got " +
              fraction(p.last_resort_fraction);
     }},
};

// Throws for the first rule that `p` breaks.
void check(const RefreshPolicy& p, unsigned given) {
  for (const Rule& r : kRules) {
    std::string why = r.broken(p, given);
    if (!why.empty()) throw_invalid("refresh policy: " + why);
  }
}

}  // namespace

void RefreshPolicy::validate() const { check(*this, kAllFields); }

template <class Set>
void RefreshPolicyBuilder::set(unsigned fields, Set&& assign) {
  assign(policy_);  // recorded as given: build() checks the whole policy
  explicit_ |= fields;
}

void RefreshPolicyBuilder::set_refresh_fraction(double f) {
  set(kRefresh, [&](RefreshPolicy& p) { p.refresh_fraction = f; });
}
void RefreshPolicyBuilder::set_jitter_fraction(double f) {
  set(kJitter, [&](RefreshPolicy& p) { p.jitter_fraction = f; });
}
void RefreshPolicyBuilder::set_backoff(Millis initial, Millis max) {
  set(kBackoffInitial | kBackoffMax, [&](RefreshPolicy& p) {
    p.backoff_initial = initial;
    p.backoff_max = max;
  });
}
void RefreshPolicyBuilder::set_backoff_initial(Millis initial) {
  set(kBackoffInitial, [&](RefreshPolicy& p) { p.backoff_initial = initial; });
}
void RefreshPolicyBuilder::set_backoff_max(Millis max) {
  set(kBackoffMax, [&](RefreshPolicy& p) { p.backoff_max = max; });
}
void RefreshPolicyBuilder::set_recheck_interval(Millis interval) {
  set(kRecheck, [&](RefreshPolicy& p) { p.recheck_interval = interval; });
}

RefreshPolicy RefreshPolicyBuilder::build() const {
  check(policy_, explicit_);
  return policy_;
}

static double clamp_unit(double u) {
  if (!(u >= 0.0)) return 0.0;  // also catches NaN
  return u >= 1.0 ? std::nextafter(1.0, 0.0) : u;
}

TimePoint planned_refresh_time(TimePoint issued, TimePoint valid_until, double jitter_unit,
                               const RefreshPolicy& policy) {
  auto lifetime = std::chrono::duration_cast<Millis>(valid_until - issued);
  if (lifetime.count() <= 0) return issued;
  double l = static_cast<double>(lifetime.count());
  double offset = policy.refresh_fraction * l - clamp_unit(jitter_unit) * policy.jitter_fraction * l;
  return issued + Millis(static_cast<int64_t>(std::floor(offset)));
}

Millis backoff_delay(int failures, double jitter_unit, const RefreshPolicy& policy) {
  if (failures < 1) throw_invalid("backoff_delay: failures must be >= 1");
  double base = static_cast<double>(policy.backoff_initial.count());
  double cap = static_cast<double>(policy.backoff_max.count());
  // 2^(failures-1) overflows nothing once capped: stop doubling at the cap.
  for (int i = 1; i < failures && base < cap; ++i) base *= 2.0;
  base = std::min(base, cap);
  double factor = 1.0 + policy.backoff_jitter * (2.0 * clamp_unit(jitter_unit) - 1.0);
  return Millis(std::max<int64_t>(1, static_cast<int64_t>(std::llround(base * factor))));
}

TimePoint last_resort_time(TimePoint issued, TimePoint valid_until, const RefreshPolicy& policy) {
  auto lifetime = std::chrono::duration_cast<Millis>(valid_until - issued);
  if (lifetime.count() <= 0) return issued;
  const double f = std::max(policy.last_resort_fraction, policy.refresh_fraction);
  return issued + Millis(static_cast<int64_t>(f * static_cast<double>(lifetime.count())));
}

std::optional<Millis> replay_delay(int failures, double jitter_unit, TimePoint started, TimePoint now,
                                   const RefreshPolicy& policy) {
  TimePoint deadline = started + policy.replay_window - policy.replay_margin;
  if (now >= deadline) return std::nullopt;
  Millis d = backoff_delay(failures, jitter_unit, policy);
  Millis remaining = std::chrono::duration_cast<Millis>(deadline - now);
  return std::min(d, remaining);
}

bool failure_is_definite(const Error& e) noexcept { return failure_is_definite(e.code()); }

bool failure_is_definite(ErrorCode code) noexcept {
  switch (code) {
    // The server answered and said no: nothing was committed.
    case ErrorCode::InvalidArgument:
    case ErrorCode::Authentication:
    case ErrorCode::Permission:
    case ErrorCode::NotFound:
    case ErrorCode::AlreadyExists:
    case ErrorCode::FailedPrecondition:
    case ErrorCode::LimitExceeded:
    case ErrorCode::BadRequest:
      return true;
    // Timeouts, unavailability, internal errors, cancellations, transport failures: the request
    // may have been committed and its answer lost.
    default:
      return false;
  }
}

RandomSource default_random_source() {
  struct Shared {
    std::mutex m;
    std::mt19937_64 gen{std::random_device{}()};
    std::uniform_real_distribution<double> dist{0.0, 1.0};
  };
  auto s = std::make_shared<Shared>();
  return [s] {
    std::lock_guard<std::mutex> g(s->m);
    return s->dist(s->gen);
  };
}

const char* refresh_event_kind_name(RefreshEventKind k) noexcept {
  switch (k) {
    case RefreshEventKind::Refreshed: return "refreshed";
    case RefreshEventKind::Adopted: return "adopted";
    case RefreshEventKind::Failed: return "failed";
  }
  return "unknown";
}

}  // namespace momento::auth
