// Pure scheduling rules of the refresher.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>

#include "momento/auth/refresher.hpp"

namespace momento::auth {

void RefreshPolicy::validate() const {
  if (!(refresh_fraction > 0.0 && refresh_fraction < 1.0))
    throw_invalid("refresh policy: refresh_fraction must be in (0, 1)");
  if (!(jitter_fraction >= 0.0 && jitter_fraction < refresh_fraction))
    throw_invalid("refresh policy: jitter_fraction must be in [0, refresh_fraction)");
  if (backoff_initial.count() <= 0) throw_invalid("refresh policy: backoff_initial must be positive");
  if (backoff_max < backoff_initial) throw_invalid("refresh policy: backoff_max must be >= backoff_initial");
  if (!(backoff_jitter >= 0.0 && backoff_jitter < 1.0))
    throw_invalid("refresh policy: backoff_jitter must be in [0, 1)");
  if (replay_window.count() < 0) throw_invalid("refresh policy: replay_window must not be negative");
  if (replay_margin.count() < 0 || replay_margin > replay_window)
    throw_invalid("refresh policy: replay_margin must be in [0, replay_window]");
  if (recheck_interval.count() <= 0) throw_invalid("refresh policy: recheck_interval must be positive");
  if (!(last_resort_fraction > 0.0 && last_resort_fraction < 1.0))
    throw_invalid("refresh policy: last_resort_fraction must be in (0, 1)");
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

bool failure_is_definite(const Error& e) noexcept {
  switch (e.code()) {
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
