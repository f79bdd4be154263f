// Helpers for tests that run the client library and the CLI against a real momento-auth-server.
#pragma once

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "momento/auth/client.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/error.hpp"
#include "server_process.hpp"
#include "temp_dir.hpp"

namespace momento::testing {

#ifdef MOMENTO_CLI_BIN
inline constexpr const char* kCliBinary = MOMENTO_CLI_BIN;
#else
inline constexpr const char* kCliBinary = "momento-auth";
#endif

// A temporary directory removed at scope exit.
using momento::test::TempDir;

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline unsigned file_mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Plaintext override pointing every service at the test server.
inline auth::SingleEndpointOverride local_override(const test::ServerProcess& s) {
  return auth::SingleEndpointOverride{s.address(), false};
}

inline auth::Credential credential_for(const test::ServerProcess& s, const std::string& envelope) {
  return auth::Credential::from_string(envelope, local_override(s));
}

// Runs fn, expecting momento::auth::Error; returns it.
template <typename Fn>
auth::Error expect_error(Fn&& fn) {
  try {
    fn();
  } catch (const auth::Error& e) {
    return e;
  }
  FAIL("expected momento::auth::Error");
  return auth::Error(auth::ErrorCode::Unknown, "unreachable");
}

// Sleeps until the server clock (same machine) has passed `epoch`; bounded by `max`.
inline void wait_until_past(uint64_t epoch, std::chrono::seconds max = std::chrono::seconds(10)) {
  const auto stop = std::chrono::steady_clock::now() + max;
  while (static_cast<uint64_t>(auth::now_epoch_seconds()) < epoch + 1 &&
         std::chrono::steady_clock::now() < stop)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(static_cast<uint64_t>(auth::now_epoch_seconds()) >= epoch + 1);
}

// One CLI run: exit status, stdout and stderr.
struct CliResult {
  int rc = -1;
  std::string out, err;
};

inline CliResult run_cli(const TempDir& dir, std::vector<std::string> args) {
  static int counter = 0;
  const std::string err_file = dir.file("stderr-" + std::to_string(++counter));
  args.insert(args.begin(), kCliBinary);
  CliResult r;
  r.rc = test::ServerProcess::run_capture(args, &r.out, std::chrono::seconds(30), err_file);
  r.err = slurp(err_file);
  return r;
}

}  // namespace momento::testing
