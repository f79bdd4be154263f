// Argument parsing and formatting helpers of momento-auth, kept free of I/O for unit tests.
// Everything goes through the public C ABI (momento/auth.hpp); the CLI never sees core.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "momento/auth.hpp"

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

// Seconds since the Unix epoch (system clock).
int64_t now_epoch_seconds() noexcept;

// Throws momento::Error(MOMENTO_ERR_INVALID_ARGUMENT, message).
[[noreturn]] void throw_invalid(const std::string& message);

// Status (MOMENTO_ERR_*) -> exit code.
int exit_code_for(momento_status_t code) noexcept;

// A sentence telling the user what to do about an error of this code ("" when nothing useful).
std::string hint_for(momento_status_t code);

// "30d", "12h", "90m", "45s", "never", or a date "2027-01-31" / "2027-01-31T12:00:00Z" (UTC).
// Throws Error(INVALID_ARGUMENT) naming the problem.
ExpiresIn parse_expires_in(std::string_view text, int64_t now = now_epoch_seconds());

// "super-user" | "all-data-read-write" | "all-data-read-only".
Scope parse_scope(std::string_view text);

// "15", "15s", "500ms", "2m": a positive duration (plain numbers are seconds).
// `option` names the option in error messages.
std::chrono::milliseconds parse_duration(std::string_view text,
                                         std::string_view option = "--timeout");

// Epoch seconds -> "2027-01-31T00:00:00Z".
std::string format_epoch_utc(uint64_t epoch);

// A short human description of an expiry given as epoch seconds (0 = never): "never",
// "2027-01-31T00:00:00Z (in 29d 23h)", "2024-01-01T00:00:00Z (expired)".
std::string describe_expiry(uint64_t epoch, int64_t now = now_epoch_seconds());

// ASCII-whitespace trim.
std::string_view trim(std::string_view s) noexcept;

}  // namespace momento::cli
