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
  kExitExpiring = 6,     // inspect --expires-within: the key expires within that time
};

// Seconds since the Unix epoch (system clock).
int64_t now_epoch_seconds() noexcept;

// Throws momento::Error(MOMENTO_ERR_INVALID_ARGUMENT, message).
[[noreturn]] void throw_invalid(const std::string& message);

// Status (MOMENTO_ERR_*) -> exit code.
int exit_code_for(momento_status_t code) noexcept;

// A sentence telling the user what to do about an error of this code ("" when nothing useful).
std::string hint_for(momento_status_t code);

// A duration (see parse_duration), "never", or a date "2027-01-31" / "2027-01-31T12:00:00Z" (UTC).
// Throws Error(INVALID_ARGUMENT) naming the problem.
ExpiresIn parse_expires_in(std::string_view text, int64_t now = now_epoch_seconds(),
                           std::string_view option = "--expires-in");

// A predefined scope by the library's name for it ("super-user", ...).
Scope parse_scope(std::string_view text);
// The library's names of the predefined scopes, joined: "a, b or c" with (", ", " or ").
std::string predefined_scope_names(const char* separator, const char* last_separator);

// Adds one --permit entry to `scope`:
//   cache:ROLE[:CACHE]                 ROLE read-write | read-only | write-only
//   topic:ROLE[:CACHE[:TOPIC]]         ROLE publish-subscribe | subscribe-only | publish-only
//   function:ROLE[:CACHE[:FUNCTION]]   ROLE invoke
//   item:ROLE:CACHE:key=KEY | item:ROLE:CACHE:key-prefix=PREFIX   (disposable tokens only)
// CACHE, TOPIC and FUNCTION omitted or "*" mean all; "NAME*" selects a topic or function prefix.
// The library checks names and which entries suit an API key or a disposable token.
void add_permission(Scope& scope, std::string_view spec);

// A positive duration: "15" (seconds), or one or more NUMBER UNIT parts in decreasing units,
// UNIT one of d, h, m, s, ms: "500ms", "90s", "1h30m", "2d12h". `option` names the option in
// error messages.
std::chrono::milliseconds parse_duration(std::string_view text,
                                         std::string_view option = "--timeout");

// A duration as parse_duration reads it: "30s" in whole seconds, else "1500ms".
std::string format_duration(std::chrono::milliseconds d);

// A finite decimal number filling the whole text ("0.8"); NaN and infinities are refused.
// `option` names the option in error messages; ranges are the library's to check.
double parse_number(std::string_view text, std::string_view option);

// The library's escaping (momento::printable: control characters, invalid UTF-8 and '\'
// escaped, cut to `max_bytes`) with the CLI's default length: for text from a key, a server or a
// file shown on a terminal.
std::string printable(std::string_view s, size_t max_bytes = 512);

// True for localhost, 127.0.0.0/8 and ::1: hosts that plaintext may reach without
// --allow-insecure-remote.
bool is_loopback_host(std::string_view host) noexcept;

// Epoch seconds -> "2027-01-31T00:00:00Z".
std::string format_epoch_utc(uint64_t epoch);

// A short human description of an expiry given as epoch seconds (0 = never): "never",
// "2027-01-31T00:00:00Z (in 29d 23h)", "2024-01-01T00:00:00Z (expired)".
std::string describe_expiry(uint64_t epoch, int64_t now = now_epoch_seconds());

// ASCII-whitespace trim.
std::string_view trim(std::string_view s) noexcept;

}  // namespace momento::cli
