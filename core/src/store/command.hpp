// Runs a helper command (exec: stores, AWS credential_process) without a shell: argv as given,
// secrets through stdin/stdout only, bounded in time and output. Internal.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace momento::auth::detail {

struct CommandResult {
  int exit_code = -1;     // valid when !signaled && !timed_out
  int signal = 0;         // the signal that ended it, or 0
  bool timed_out = false;  // killed (with its process group) at the deadline
  std::string out;        // stdout; may be a secret: the caller wipes it
  std::string err;        // stderr, at most 4 KiB kept
};

// Starts argv[0] (looked up in PATH) in its own process group, writes `input` to its stdin and
// closes it, and collects stdout (at most `out_limit` bytes; more is an error) and stderr until
// it exits or `timeout` passes. Throws Error(InvalidArgument) when the command cannot be started.
CommandResult run_command(const std::vector<std::string>& argv, std::string_view input,
                          std::chrono::milliseconds timeout, size_t out_limit = 64 * 1024);

// "exited with status 2: <last stderr line>" / "timed out after 5000 ms" / "was killed by signal 9".
// The stderr excerpt keeps printable ASCII only, at most 200 characters, and never shows any of
// `secrets` (replaced by "[redacted]").
std::string describe_failure(const CommandResult& r, std::chrono::milliseconds timeout,
                             const std::vector<std::string_view>& secrets = {});

// Splits a command line as POSIX shells split words (whitespace; '...' and "..." quoting;
// backslash escapes), with no expansion of any kind. For credential_process.
std::vector<std::string> split_command_line(std::string_view line);

}  // namespace momento::auth::detail
