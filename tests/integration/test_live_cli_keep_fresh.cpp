// momento-auth keep-fresh and watch against a real momento-auth-server, in separate processes.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_test_util.hpp"

using momento::test::ServerProcess;
using namespace momento::testing;
using nlohmann::json;

extern char** environ;

namespace {

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

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) v.push_back(json::parse(line));
  return v;
}

struct Fixture {
  ServerProcess server;
  TempDir dir;
  std::string store = dir.file("token.json");

  std::vector<std::string> global() const { return {"--endpoint", server.address(), "--insecure"}; }
  CliResult cli(std::vector<std::string> args) {
    std::vector<std::string> all = global();
    all.insert(all.end(), args.begin(), args.end());
    return run_cli(dir, all);
  }
  void mint(const std::string& expires_in) {
    CliResult r = cli({"--key-file", server.bootstrap_path(), "generate", "--scope",
                       "all-data-read-write", "--expires-in", expires_in, "--out", store, "--force"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
  }
  std::string auth_token() const { return json::parse(slurp(store)).at("authToken"); }
};

}  // namespace

TEST_CASE("cli keep-fresh --once: not due, forced rotation, and failures", "[live][cli][keep-fresh]") {
  Fixture f;
  f.mint("12h");
  const std::string first = f.auth_token();

  // Not due for a 12 h key: exit 0, the store is unchanged.
  CliResult idle = f.cli({"--json", "keep-fresh", "--store", "file:" + f.store, "--once"});
  INFO(idle.err);
  REQUIRE(idle.rc == 0);
  auto ev = json_lines(idle.out);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "current");
  CHECK(f.auth_token() == first);

  // --force rotates: new key and refresh token in the store, file mode kept, the new key works.
  CliResult forced = f.cli({"--json", "keep-fresh", "--store", "file:" + f.store, "--once", "--force"});
  INFO(forced.err);
  REQUIRE(forced.rc == 0);
  ev = json_lines(forced.out);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "refreshed");
  CHECK(ev[0].at("store") == "file:" + f.store);
  CHECK(ev[0].at("expires") == true);
  const std::string second = f.auth_token();
  CHECK(second != first);
  CHECK(file_mode(f.store) == 0600);
  CHECK(forced.out.find(second) == std::string::npos);
  CHECK(forced.out.find(ServerProcess::envelope_raw_key(second)) == std::string::npos);
  CHECK(f.cli({"--key-file", f.store, "cache", "list-caches"}).rc == 0);
  // The old key's refresh token was consumed; the new one refreshes again (text output).
  CliResult text = f.cli({"keep-fresh", "--store", "file:" + f.store, "--once", "--force"});
  REQUIRE(text.rc == 0);
  CHECK(text.out.find(" refreshed file:" + f.store) != std::string::npos);
  CHECK(f.auth_token() != second);

  // Usage and input errors.
  CHECK(f.cli({"keep-fresh", "--store", "file:" + f.store, "--force"}).rc == 3);
  CHECK(f.cli({"keep-fresh"}).rc == 2);
  CHECK(f.cli({"keep-fresh", "--store", "env:MOMENTO_API_KEY", "--once"}).rc == 3);

  // The server down: exit 5, the store keeps its key.
  const std::string kept = f.auth_token();
  const std::string addr = f.server.address();
  f.server.stop();
  CliResult down = run_cli(f.dir, {"--endpoint", addr, "--insecure", "--timeout", "3s", "--json",
                                   "keep-fresh", "--store", "file:" + f.store, "--once", "--force"});
  CHECK(down.rc == 5);
  ev = json_lines(down.out);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "failed");
  CHECK(ev[0].at("error_code") == "SERVER_UNAVAILABLE");
  CHECK(f.auth_token() == kept);
}

TEST_CASE("cli keep-fresh daemon: refreshes a short-lived key and stops on SIGTERM",
          "[live][cli][keep-fresh]") {
  Fixture f;
  f.mint("8s");
  const std::string first = f.auth_token();
  std::vector<std::string> args = f.global();
  for (const char* a : {"--json", "keep-fresh", "--refresh-fraction", "0.25", "--store"})
    args.push_back(a);
  args.push_back("file:" + f.store);
  Background daemon(f.dir, "daemon", args);
  // First line: the key adopted from the store; then a refresh after 2 s of the 8 s lifetime.
  REQUIRE(daemon.wait_lines(2, std::chrono::seconds(20)));
  daemon.signal(SIGTERM);
  CHECK(daemon.wait_exit(std::chrono::seconds(10)) == 0);
  INFO(daemon.err());
  auto ev = json_lines(daemon.out());
  REQUIRE(ev.size() >= 3);
  CHECK(ev.front().at("event") == "adopted");
  CHECK(ev[1].at("event") == "refreshed");
  CHECK(ev.back().at("event") == "stopped");
  CHECK(ev.back().at("signal") == "SIGTERM");
  CHECK(f.auth_token() != first);
  CHECK(daemon.out().find(f.auth_token()) == std::string::npos);
  CHECK(f.cli({"--key-file", f.store, "cache", "list-caches"}).rc == 0);
}

TEST_CASE("cli keep-fresh daemon: SIGINT also stops it cleanly (text output)",
          "[live][cli][keep-fresh]") {
  Fixture f;
  f.mint("1h");
  std::vector<std::string> args = f.global();
  args.insert(args.end(), {"keep-fresh", "--store", "file:" + f.store});
  Background daemon(f.dir, "daemon", args);
  REQUIRE(daemon.wait_lines(1, std::chrono::seconds(20)));  // the adopted key
  daemon.signal(SIGINT);
  CHECK(daemon.wait_exit(std::chrono::seconds(10)) == 0);
  CHECK(daemon.out().find("stopped (SIGINT)") != std::string::npos);
  CHECK(daemon.err().find("keep-fresh: keeping file:") != std::string::npos);
}

TEST_CASE("cli watch: sees a rotation made by keep-fresh in another process",
          "[live][cli][keep-fresh][watch]") {
  Fixture f;
  f.mint("1h");
  Background watch(f.dir, "watch",
                   {"--json", "watch", "--store", "file:" + f.store, "--interval", "200ms",
                    "--count", "1"});
  REQUIRE(watch.wait_lines(1, std::chrono::seconds(20)));
  auto ev = json_lines(watch.out());
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "current");
  const std::string fp0 = ev[0].at("fingerprint");

  CliResult kf = f.cli({"keep-fresh", "--store", "file:" + f.store, "--once", "--force"});
  INFO(kf.err);
  REQUIRE(kf.rc == 0);
  // --count 1: it exits by itself after the change.
  CHECK(watch.wait_exit(std::chrono::seconds(20)) == 0);
  INFO(watch.err());
  ev = json_lines(watch.out());
  REQUIRE(ev.size() == 2);
  CHECK(ev[1].at("event") == "changed");
  CHECK(ev[1].at("fingerprint") != fp0);
  CHECK(ev[1].at("expires") == true);
  CHECK(watch.out().find(f.auth_token()) == std::string::npos);
  CHECK(watch.out().find(ServerProcess::envelope_raw_key(f.auth_token())) == std::string::npos);

  // Text form; an empty store cannot be watched.
  CliResult empty = f.cli({"watch", "--store", "file:" + f.dir.file("none.json"), "--count", "1"});
  CHECK(empty.rc != 0);
  CHECK(f.cli({"watch", "--store", "file:" + f.store, "--interval", "soon", "--count", "1"}).rc == 3);
}
