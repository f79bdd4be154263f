// Argument parsing and formatting helpers of momento-auth, kept free of I/O for unit tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "momento/auth/error.hpp"
#include "momento/auth/expiry.hpp"
#include "momento/auth/scope.hpp"

namespace momento::cli {

// Exit codes of momento-auth.
enum ExitCode : int {
  kExitOk = 0,
  kExitOther = 1,
  kExitUsage = 2,
  kExitInvalidInput = 3,
  kExitAuth = 4,         // authentication or permission error
  kExitUnreachable = 5,  // server unavailable or timeout
};

// Canonical error code -> exit code.
int exit_code_for(auth::ErrorCode code) noexcept;

// A sentence telling the user what to do about an error of this code ("" when nothing useful).
std::string hint_for(auth::ErrorCode code);

// "30d", "12h", "90m", "45s", "never", or a date "2027-01-31" / "2027-01-31T12:00:00Z" (UTC).
// Throws Error(InvalidArgument) naming the problem.
auth::ExpiresIn parse_expires_in(std::string_view text, int64_t now = auth::now_epoch_seconds());

// "super-user" | "all-data-read-write" | "all-data-read-only".
auth::PermissionScope parse_scope(std::string_view text);

// "15", "15s", "500ms", "2m": a positive duration (plain numbers are seconds).
std::chrono::milliseconds parse_duration(std::string_view text);

// Epoch seconds -> "2027-01-31T00:00:00Z".
std::string format_epoch_utc(uint64_t epoch);

// A short human description of an expiry: "never", "2027-01-31T00:00:00Z (in 29d 23h)",
// "2024-01-01T00:00:00Z (expired)".
std::string describe_expiry(const auth::ExpiresAt& at, int64_t now = auth::now_epoch_seconds());

// ASCII-whitespace trim.
std::string_view trim(std::string_view s) noexcept;

}  // namespace momento::cli
