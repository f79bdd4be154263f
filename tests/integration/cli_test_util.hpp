// Helpers for the CLI tests. They link only the CLI library (which sits on libmomento_auth.so.1),
// so nothing here may use core: a process must not contain both.
#pragma once

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "temp_dir.hpp"

extern char** environ;

namespace momento::testing {

#ifdef MOMENTO_CLI_BIN
inline constexpr const char* kCliBinary = MOMENTO_CLI_BIN;
#else
inline constexpr const char* kCliBinary = "momento-auth";
#endif

inline int64_t now_epoch() { return static_cast<int64_t>(std::time(nullptr)); }

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

// A v1 envelope (docs/wire.md §4.4): base64 of {"endpoint":...,"api_key":...}.
inline std::string make_envelope(const std::string& endpoint, const std::string& api_key) {
  const std::string text = nlohmann::json{{"endpoint", endpoint}, {"api_key", api_key}}.dump();
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Sleeps until the clock (same machine as the server) has passed `epoch`; bounded by `max`.
inline void wait_until_past(uint64_t epoch, std::chrono::seconds max = std::chrono::seconds(10)) {
  const auto stop = std::chrono::steady_clock::now() + max;
  while (static_cast<uint64_t>(now_epoch()) < epoch + 1 && std::chrono::steady_clock::now() < stop)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(static_cast<uint64_t>(now_epoch()) >= epoch + 1);
}

// One CLI run: exit status, stdout and stderr.
struct CliResult {
  int rc = -1;
  std::string out, err;
};

inline CliResult run_cli(const TempDir& dir, std::vector<std::string> args,
                         std::chrono::seconds timeout = std::chrono::seconds(30)) {
  static int counter = 0;
  const std::string err_file = dir.file("stderr-" + std::to_string(++counter));
  args.insert(args.begin(), kCliBinary);
  CliResult r;
  r.rc = test::ServerProcess::run_capture(args, &r.out, timeout, err_file);
  r.err = slurp(err_file);
  test::keep_log_for_scan("cli-stderr", r.err);  // stdout may hold a key by design (generate)
  return r;
}

// A CLI process running in the background with stdout and stderr in files.
class Background {
 public:
  Background(const TempDir& dir, const std::string& name, std::vector<std::string> args)
      : out_(dir.file(name + ".out")), err_(dir.file(name + ".err")) {
    args.insert(args.begin(), kCliBinary);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
  }
  ~Background() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
    // Long-running commands (keep-fresh, watch) log to both.
    test::keep_log_for_scan("cli-background", out() + err());
  }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }
  void signal(int sig) const { ::kill(pid_, sig); }
  // Waits (bounded) for the exit; returns the exit status, or -1 on timeout or a signal death.
  int wait_exit(std::chrono::seconds max) {
    const auto stop = std::chrono::steady_clock::now() + max;
    while (std::chrono::steady_clock::now() < stop) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
  // Waits (bounded) until stdout has at least `n` lines.
  bool wait_lines(size_t n, std::chrono::seconds max) const {
    const auto stop = std::chrono::steady_clock::now() + max;
    while (std::chrono::steady_clock::now() < stop) {
      const std::string o = out();
      if (static_cast<size_t>(std::count(o.begin(), o.end(), '\n')) >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
};

inline std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  return v;
}

}  // namespace momento::testing
