// Test helper: runs momento-auth-server as a child process on a free loopback port.
//
//   momento::test::ServerProcess server;            // starts it, waits for "listening on"
//   server.address();        // "127.0.0.1:PORT"
//   server.bootstrap_raw_key();  // the SuperUser key from <data_dir>/bootstrap.json
//   server.restart();        // stop + start on the same data dir (same port when possible)
//
// Every wait is bounded; the child is always reaped; the temporary directory is removed in
// the destructor (set MOMENTO_KEEP_TEST_DIRS=1 to keep it for debugging).
#pragma once

#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace momento::test {

#ifdef MOMENTO_SERVER_BIN
inline constexpr const char* kServerBinary = MOMENTO_SERVER_BIN;
#else
inline constexpr const char* kServerBinary = "momento-auth-server";
#endif

// With MOMENTO_TEST_LOG_DIR set (scripts/test), appends `text` (a program's log or error output)
// to <dir>/<name>-<pid>.log for the final secret scan (tests/hygiene/scan_logs.py).
inline void keep_log_for_scan(const std::string& name, const std::string& text) {
  const char* out = std::getenv("MOMENTO_TEST_LOG_DIR");
  if (!out || !*out || text.empty()) return;
  std::ofstream(std::string(out) + "/" + name + "-" + std::to_string(::getpid()) + ".log", std::ios::app) << text;
}

class ServerProcess {
 public:
  struct Options {
    std::vector<std::string> extra_args;  // appended to every start
    bool bootstrap = true;                // pass --bootstrap <data_dir>/bootstrap.json
    std::chrono::milliseconds start_timeout{20000};
    std::chrono::milliseconds stop_timeout{10000};
    std::string binary = kServerBinary;
    // Arguments placed right after the binary (an interpreter's script, a subcommand).
    std::vector<std::string> leading_args;
  };

  ServerProcess() : ServerProcess(Options{}) {}
  explicit ServerProcess(std::vector<std::string> extra_args)
      : ServerProcess(make_options(std::move(extra_args))) {}
  explicit ServerProcess(Options opts) : opts_(std::move(opts)) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "momento-server-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    start("127.0.0.1:0");
  }

  ~ServerProcess() {
    try {
      stop();
    } catch (...) {
    }
    keep_for_scan();
    const char* keep = std::getenv("MOMENTO_KEEP_TEST_DIRS");
    if (!keep || !*keep) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& address() const { return address_; }  // "127.0.0.1:PORT"
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  std::string data_dir() const { return dir_; }
  std::string bootstrap_path() const { return dir_ + "/bootstrap.json"; }
  std::string log_path() const { return dir_ + "/server.log"; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Exit status of the last stopped process (waitpid status), -1 if none yet.
  int last_wait_status() const { return last_status_; }

  // Everything the server wrote to stderr so far (one line per call).
  std::string log() const { return read_file(log_path()); }

  // The bootstrap file's text (Download-JSON shape).
  std::string bootstrap_json() const { return read_file(bootstrap_path()); }

  // The envelope ("authToken") and the raw key inside it.
  std::string bootstrap_envelope() const {
    auto j = nlohmann::json::parse(bootstrap_json());
    return j.at("authToken").get<std::string>();
  }
  std::string bootstrap_raw_key() const { return envelope_raw_key(bootstrap_envelope()); }

  // Inner api_key of a v1 envelope (standard base64 with padding, as the server writes it).
  static std::string envelope_raw_key(const std::string& envelope) {
    std::string out(envelope.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(envelope.data()),
                            static_cast<int>(envelope.size()));
    if (n < 0) throw std::runtime_error("envelope is not base64");
    out.resize(static_cast<size_t>(n));
    while (!out.empty() && out.back() == '\0') out.pop_back();  // padding bytes
    return nlohmann::json::parse(out).at("api_key").get<std::string>();
  }

  // SIGTERM, then wait (bounded); SIGKILL if it does not exit in time.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!wait_exit(opts_.stop_timeout)) {
      ::kill(pid_, SIGKILL);
      wait_exit(std::chrono::milliseconds(10000));
    }
  }

  // SIGKILL: no chance to clean up (crash simulation).
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::milliseconds(10000));
  }

  // Start again on the same data directory, on the same port when it is free again
  // (falls back to a new free port). Extra args replace the original ones when given.
  void restart() { restart_with(opts_.extra_args); }
  void restart_with(std::vector<std::string> extra_args) {
    stop();
    opts_.extra_args = std::move(extra_args);
    std::string same = host_ + ":" + std::to_string(port_);
    for (int attempt = 0; attempt < 20; ++attempt) {
      try {
        start(same);
        return;
      } catch (const std::runtime_error&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    start("127.0.0.1:0");
  }

  // Run `momento-auth-server admin ...` against this data directory; returns exit status and
  // captures stdout into *out.
  int admin(const std::vector<std::string>& args, std::string* out = nullptr) const {
    std::vector<std::string> argv = {opts_.binary, "admin"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--data-dir");
    argv.push_back(dir_);
    return run_capture(argv, out, opts_.stop_timeout);
  }

  // Runs a program to completion (bounded), capturing stdout; stderr goes to the log file.
  static int run_capture(const std::vector<std::string>& argv, std::string* out,
                         std::chrono::milliseconds timeout, const std::string& err_file = "") {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    if (!err_file.empty())
      posix_spawn_file_actions_addopen(&fa, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    std::string buf;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fds[0], POLLIN, 0};
      int pr = ::poll(&p, 1, static_cast<int>(left.count()));
      if (pr < 0 && errno == EINTR) continue;
      if (pr <= 0) break;
      char chunk[4096];
      ssize_t n = ::read(fds[0], chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    if (!reap(pid, &status, deadline)) {
      ::kill(pid, SIGKILL);
      reap(pid, &status, std::chrono::steady_clock::now() + std::chrono::seconds(10));
      if (out) *out = buf;
      return -1;
    }
    if (out) *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  static Options make_options(std::vector<std::string> extra) {
    Options o;
    o.extra_args = std::move(extra);
    return o;
  }

  static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // waitpid with a deadline (polling; no SIGCHLD handler needed).
  static bool reap(pid_t pid, int* status, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      pid_t r = ::waitpid(pid, status, WNOHANG);
      if (r == pid) return true;
      if (r < 0 && errno != EINTR) return true;  // not our child any more
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  bool wait_exit(std::chrono::milliseconds timeout) {
    int status = 0;
    if (!reap(pid_, &status, std::chrono::steady_clock::now() + timeout)) return false;
    last_status_ = status;
    pid_ = -1;
    return true;
  }

  // With MOMENTO_TEST_LOG_DIR set (scripts/test): the server's log goes there for the final
  // secret scan (tests/hygiene/scan_logs.py), and its database and signing keys under known/,
  // so that the scan can recognise this server's refresh tokens and signing keys.
  void keep_for_scan() const {
    const char* out = std::getenv("MOMENTO_TEST_LOG_DIR");
    if (!out || !*out) return;
    namespace fs = std::filesystem;
    const std::string name = "server-" + std::to_string(::getpid()) + "-" + fs::path(dir_).filename().string();
    std::error_code ec;
    fs::copy_file(log_path(), fs::path(out) / (name + ".log"), ec);
    const fs::path known = fs::path(out) / "known" / name;
    fs::create_directories(known, ec);
    for (const char* f : {"state.db", "state.db-wal", "signing-keys.json"})
      if (fs::exists(fs::path(dir_) / f, ec)) fs::copy_file(fs::path(dir_) / f, known / f, ec);
  }

  void start(const std::string& listen) {
    std::vector<std::string> argv = {opts_.binary};
    argv.insert(argv.end(), opts_.leading_args.begin(), opts_.leading_args.end());
    for (const std::string& a : {std::string("--listen"), listen, std::string("--data-dir"), dir_})
      argv.push_back(a);
    if (opts_.bootstrap) {
      argv.push_back("--bootstrap");
      argv.push_back(bootstrap_path());
    }
    argv.insert(argv.end(), opts_.extra_args.begin(), opts_.extra_args.end());

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      throw std::runtime_error("cannot start " + opts_.binary + ": " + std::strerror(rc));
    }
    pid_ = pid;

    // Read the first stdout line within the deadline.
    std::string line;
    bool got = false;
    auto deadline = std::chrono::steady_clock::now() + opts_.start_timeout;
    while (!got) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fds[0], POLLIN, 0};
      int pr = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
      if (pr < 0 && errno == EINTR) continue;
      if (pr == 0) continue;
      if (pr < 0) break;
      char c;
      ssize_t n = ::read(fds[0], &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EOF: the server exited
      if (c == '\n') got = true;
      else if (line.size() < 1024) line.push_back(c);
    }
    ::close(fds[0]);

    const std::string prefix = "listening on ";
    if (!got || line.rfind(prefix, 0) != 0) {
      kill9();
      throw std::runtime_error(opts_.binary + " did not start (first line: '" + line +
                               "'); log:\n" + log());
    }
    address_ = line.substr(prefix.size());
    auto colon = address_.rfind(':');
    host_ = address_.substr(0, colon);
    port_ = static_cast<uint16_t>(std::stoi(address_.substr(colon + 1)));
  }

  Options opts_;
  std::string dir_;
  std::string address_, host_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  int last_status_ = -1;
};

}  // namespace momento::test
