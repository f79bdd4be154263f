// Key lifetimes (docs/wire.md §6): relative lifetimes for requests, absolute expiry for results.
#pragma once

#include <cstdint>
#include <optional>

namespace momento::auth {

// Seconds since the Unix epoch, from the system clock.
int64_t now_epoch_seconds() noexcept;

// A requested lifetime: never, or a positive number of seconds that fits in uint32.
class ExpiresIn {
 public:
  static ExpiresIn never() { return ExpiresIn(); }
  static ExpiresIn seconds(int64_t n);
  static ExpiresIn minutes(int64_t n);
  static ExpiresIn hours(int64_t n);
  static ExpiresIn days(int64_t n);
  // Lifetime until an absolute epoch time, rounded to whole seconds; must lie in the future.
  static ExpiresIn at_epoch(int64_t epoch_seconds, int64_t now = now_epoch_seconds());

  bool does_expire() const noexcept { return seconds_.has_value(); }
  // Only valid when does_expire().
  uint32_t valid_for_seconds() const noexcept { return seconds_.value_or(0); }

 private:
  ExpiresIn() = default;
  explicit ExpiresIn(uint32_t s) : seconds_(s) {}
  std::optional<uint32_t> seconds_;
};

// An absolute expiry as returned by the service: 0 on the wire means never.
class ExpiresAt {
 public:
  static ExpiresAt never() { return ExpiresAt(0); }
  static ExpiresAt from_epoch(uint64_t epoch_seconds) { return ExpiresAt(epoch_seconds); }

  bool does_expire() const noexcept { return epoch_ != 0; }
  uint64_t epoch() const noexcept { return epoch_; }  // 0 = never
  bool expired(int64_t now = now_epoch_seconds()) const noexcept {
    return does_expire() && static_cast<uint64_t>(now) >= epoch_;
  }
  bool operator==(const ExpiresAt&) const = default;

 private:
  explicit ExpiresAt(uint64_t e) : epoch_(e) {}
  uint64_t epoch_ = 0;
};

}  // namespace momento::auth
