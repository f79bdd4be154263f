// Lifetimes (docs/wire.md §6): validation of requested lifetimes.
#include "momento/auth/expiry.hpp"

#include <chrono>
#include <limits>
#include <string>

#include "momento/auth/error.hpp"

namespace momento::auth {

int64_t now_epoch_seconds() noexcept {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

constexpr int64_t kMaxLifetime = std::numeric_limits<uint32_t>::max();

ExpiresIn scaled(int64_t n, int64_t unit, const char* unit_name);

}  // namespace

ExpiresIn ExpiresIn::seconds(int64_t n) {
  if (n <= 0) throw_invalid("lifetime must be positive (got " + std::to_string(n) + " seconds)");
  if (n > kMaxLifetime) {
    throw_invalid("lifetime must be at most 4294967295 seconds (got " + std::to_string(n) + ")");
  }
  return ExpiresIn(static_cast<uint32_t>(n));
}

ExpiresIn ExpiresIn::minutes(int64_t n) { return scaled(n, 60, "minutes"); }
ExpiresIn ExpiresIn::hours(int64_t n) { return scaled(n, 3600, "hours"); }
ExpiresIn ExpiresIn::days(int64_t n) { return scaled(n, 86400, "days"); }

ExpiresIn ExpiresIn::at_epoch(int64_t epoch_seconds, int64_t now) {
  int64_t diff = 0;
  if (__builtin_sub_overflow(epoch_seconds, now, &diff)) {
    throw_invalid("expiry time " + std::to_string(epoch_seconds) + " is out of range");
  }
  if (diff <= 0) {
    throw_invalid("expiry time " + std::to_string(epoch_seconds) +
                  " must lie in the future (now is " + std::to_string(now) + ")");
  }
  if (diff > kMaxLifetime) {
    throw_invalid("expiry time " + std::to_string(epoch_seconds) +
                  " is more than 4294967295 seconds away");
  }
  return ExpiresIn(static_cast<uint32_t>(diff));
}

namespace {

ExpiresIn scaled(int64_t n, int64_t unit, const char* unit_name) {
  if (n <= 0) {
    throw_invalid("lifetime must be positive (got " + std::to_string(n) + " " + unit_name + ")");
  }
  int64_t secs = 0;
  if (__builtin_mul_overflow(n, unit, &secs) || secs > kMaxLifetime) {
    throw_invalid("lifetime of " + std::to_string(n) + " " + unit_name +
                  " exceeds the maximum of 4294967295 seconds");
  }
  return ExpiresIn::seconds(secs);
}

}  // namespace

}  // namespace momento::auth
