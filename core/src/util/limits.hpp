// Limits shared by several parts of core.
#pragma once

#include <chrono>

namespace momento::auth::detail {

// The longest deadline, period or backoff the library accepts anywhere: one day.
inline constexpr std::chrono::milliseconds kOneDay{std::chrono::hours(24)};

}  // namespace momento::auth::detail
