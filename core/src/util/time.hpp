// The one way this project writes a moment for people and files: UTC to the second, RFC 3339
// with a Z (2027-01-31T12:00:00Z). Header-only: the CLI, built on the C ABI, uses it without
// linking core.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace momento::auth::detail {

// A time the C library cannot break down (beyond its years) is written as the number.
inline std::string format_utc(int64_t epoch_seconds) {
  const std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  char buf[32];
  if (gmtime_r(&t, &tm) == nullptr || std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    return std::to_string(epoch_seconds);
  return buf;
}

}  // namespace momento::auth::detail
