// momento-auth under hostile or careless input, against a real momento-auth-server: symbolic links,
// FIFOs, keys given where paths belong, signals, plaintext to remote hosts, terminal escapes.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_util.hpp"

using momento::test::ServerProcess;
using namespace momento::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  ServerProcess server;
  TempDir dir;

  CliResult cli(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::vector<std::string> all = {"--endpoint", server.address(), "--insecure"};
    all.insert(all.end(), args.begin(), args.end());
    return run_cli(dir, all, timeout);
  }
  void mint(const std::string& out, const std::string& expires_in = "12h") {
    CliResult r = cli({"--key-file", server.bootstrap_path(), "generate", "--scope",
                       "all-data-read-write", "--expires-in", expires_in, "--out", out, "--force"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
  }
};

json token_file(const std::string& path) { return json::parse(slurp(path)); }

// Names in `d` that look like our temp files.
std::vector<std::string> temp_files(const std::string& d) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(d))
    if (e.path().filename().string().find(".tmp") != std::string::npos) out.push_back(e.path());
  return out;
}

bool has_raw_escape(const std::string& s) {
  return s.find('\x1b') != std::string::npos || s.find('\r') != std::string::npos;
}

}  // namespace

TEST_CASE("cli: refresh through a symbolic link replaces the file it points to", "[live][cli][hardening]") {
  Fixture f;
  fs::create_directories(f.dir.file("real"));
  const std::string real = f.dir.file("real/token.json"), link = f.dir.file("token.json");
  f.mint(real);
  fs::create_symlink(real, link);
  const json before = token_file(real);

  SECTION("refresh --file") {
    CliResult r = f.cli({"refresh", "--file", link});
    INFO(r.err);
    REQUIRE(r.rc == 0);
  }
  SECTION("keep-fresh --once --force") {
    CliResult r = f.cli({"keep-fresh", "--store", "file:" + link, "--once", "--force"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
  }
  // The link is still a link to the same file; that file holds the new key and refresh token.
  CHECK(fs::is_symlink(link));
  CHECK(fs::read_symlink(link) == real);
  const json after = token_file(real);
  CHECK(after.at("authToken") != before.at("authToken"));
  CHECK(after.at("refreshToken") != before.at("refreshToken"));
  CHECK(file_mode(real) == 0600);
  CHECK(temp_files(f.dir.path.string()).empty());
  CHECK(temp_files(f.dir.file("real")).empty());
  // The family goes on: the file's refresh token is the current one.
  CliResult again = f.cli({"refresh", "--file", link});
  INFO(again.err);
  CHECK(again.rc == 0);
}

TEST_CASE("cli: links that are not ours, or lead nowhere, are refused before the refresh",
          "[live][cli][hardening]") {
  Fixture f;
  const std::string real = f.dir.file("real.json"), link = f.dir.file("link.json");
  f.mint(real);
  const std::string before = slurp(real);

  SECTION("a dangling link") {
    fs::create_symlink(f.dir.file("nowhere.json"), link);
    CliResult r = f.cli({"refresh", "--file", link});
    CHECK(r.rc == 3);
    CHECK(r.err.find("symbolic link") != std::string::npos);
    CHECK(fs::is_symlink(link));
  }
  SECTION("a link planted by another user") {
    if (::geteuid() != 0) {
    WARN("skipped: needs root to give the link to another user");
    return;
  }
    fs::create_symlink(real, link);
    REQUIRE(::lchown(link.c_str(), 65534, 65534) == 0);
    for (auto args : {std::vector<std::string>{"refresh", "--file", link},
                      std::vector<std::string>{"keep-fresh", "--store", "file:" + link, "--once", "--force"}}) {
      CliResult r = f.cli(args);
      INFO(r.err);
      CHECK(r.rc == 3);
      CHECK(r.err.find("owned by another user") != std::string::npos);
    }
    CHECK(fs::is_symlink(link));
  }
  SECTION("a link to a file of another user") {
    if (::geteuid() != 0) {
    WARN("skipped: needs root to give the file to another user");
    return;
  }
    const std::string theirs = f.dir.file("theirs.json");
    fs::copy_file(real, theirs);
    REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
    fs::create_symlink(theirs, link);
    CliResult r = f.cli({"refresh", "--file", link});
    CHECK(r.rc == 3);
    CHECK(r.err.find("another user") != std::string::npos);
    CHECK(slurp(theirs) == before);
  }
  // The refresh token was not spent: the real file still refreshes.
  CHECK(slurp(real) == before);
  CliResult ok = f.cli({"refresh", "--file", real});
  INFO(ok.err);
  CHECK(ok.rc == 0);
}

TEST_CASE("cli: a key given where a path belongs is never echoed", "[live][cli][hardening]") {
  Fixture f;
  const std::string key = f.server.bootstrap_envelope();
  const std::string raw = f.server.bootstrap_raw_key();
  for (auto args : {std::vector<std::string>{"--key-file", key, "inspect"},
                    std::vector<std::string>{"refresh", "--file", key},
                    std::vector<std::string>{"inspect", f.dir.file(key.substr(0, 100))},
                    std::vector<std::string>{"keep-fresh", "--store", "file:" + key, "--once"},
                    std::vector<std::string>{"watch", "--store", "file:" + f.dir.file(key), "--count", "1"},
                    std::vector<std::string>{"--json", "refresh", "--file", key}}) {
    INFO(args[0] + " " + args[1]);
    CliResult r = f.cli(args);
    CHECK(r.rc != 0);
    CHECK_FALSE(r.err.empty());
    CHECK(r.err.find(key.substr(0, 40)) == std::string::npos);
    CHECK(r.err.find(raw) == std::string::npos);
    CHECK(r.out.find(key.substr(0, 40)) == std::string::npos);
  }
  // A long path is not echoed whole.
  const std::string long_path = f.dir.file(std::string(100000, 'p') + ".json");
  CliResult r = f.cli({"refresh", "--file", long_path});
  CHECK(r.rc == 3);
  CHECK(r.err.size() < 2000);
}

TEST_CASE("cli: FIFOs are refused at once, not read", "[live][cli][hardening]") {
  Fixture f;
  const std::string fifo = f.dir.file("fifo.json");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Each would block forever opening the FIFO; a bounded timeout turns a hang into a failure.
  for (auto args : {std::vector<std::string>{"refresh", "--file", fifo},
                    std::vector<std::string>{"--key-file", fifo, "inspect"},
                    std::vector<std::string>{"inspect", fifo},
                    std::vector<std::string>{"keep-fresh", "--store", "file:" + fifo, "--once"},
                    std::vector<std::string>{"keep-fresh", "--store", "file:" + fifo},
                    std::vector<std::string>{"watch", "--store", "file:" + fifo}}) {
    INFO(args[0] + " " + args[1]);
    CliResult r = f.cli(args, std::chrono::seconds(10));
    CHECK(r.rc == 3);  // invalid input, not UNKNOWN_ERROR and not a hang (-1)
    CHECK((r.err.find("FIFO") != std::string::npos || r.err.find("regular file") != std::string::npos));
  }
}

TEST_CASE("cli: bad store paths get specific errors", "[live][cli][hardening]") {
  Fixture f;
  f.mint(f.dir.file("k.json"));
  // A directory, and a file below a missing directory: invalid input (3), not UNKNOWN_ERROR (1).
  for (auto args : {std::vector<std::string>{"--json", "keep-fresh", "--store", "file:" + f.dir.path.string(), "--once"},
                    std::vector<std::string>{"--json", "watch", "--store", "file:" + f.dir.path.string()},
                    std::vector<std::string>{"--json", "watch", "--store", "file:" + f.dir.file("k.json/x")}}) {
    INFO(args[args.size() - 1]);
    CliResult r = f.cli(args, std::chrono::seconds(10));
    INFO(r.err);
    CHECK(r.rc == 3);
    CHECK(json::parse(r.err).at("error").at("code") == "INVALID_ARGUMENT_ERROR");
  }
  // A missing file is an empty store: NOT_FOUND.
  for (auto args : {std::vector<std::string>{"--json", "watch", "--store", "file:" + f.dir.file("missing.json")},
                    std::vector<std::string>{"--json", "keep-fresh", "--store", "file:" + f.dir.file("no/dir/t.json"), "--once"}}) {
    INFO(args[args.size() - 1]);
    CliResult r = f.cli(args, std::chrono::seconds(10));
    INFO(r.err);
    CHECK(r.rc != 0);
    CHECK(r.err.find("UNKNOWN") == std::string::npos);
  }
}

TEST_CASE("cli: watch and keep-fresh stop within a second of SIGTERM or SIGINT", "[live][cli][hardening]") {
  Fixture f;
  const std::string store = f.dir.file("token.json");
  f.mint(store);
  const std::vector<std::string> global = {"--endpoint", f.server.address(), "--insecure"};
  for (int sig : {SIGTERM, SIGINT}) {
    for (auto cmd : {std::vector<std::string>{"watch", "--store", "file:" + store, "--interval", "1h"},
                     std::vector<std::string>{"keep-fresh", "--store", "file:" + store}}) {
      INFO(cmd[0] << " signal " << sig);
      std::vector<std::string> args = global;
      args.insert(args.end(), cmd.begin(), cmd.end());
      Background bg(f.dir, cmd[0] + std::to_string(sig), args);
      REQUIRE(bg.wait_lines(1, std::chrono::seconds(20)));  // running: it printed the key
      const auto sent = std::chrono::steady_clock::now();
      bg.signal(sig);
      const int rc = bg.wait_exit(std::chrono::seconds(5));
      const auto took = std::chrono::steady_clock::now() - sent;
      INFO(bg.err());
      CHECK(rc == 0);
      CHECK(took < std::chrono::seconds(1));
    }
  }
}

TEST_CASE("cli: plaintext only to loopback unless asked twice", "[live][cli][hardening]") {
  Fixture f;
  const std::string store = f.dir.file("token.json");
  f.mint(store);
  // The key names *.momento.localhost hosts: --insecure without --endpoint would send it there.
  for (auto args : {std::vector<std::string>{"--insecure", "--key-file", store, "cache", "list-caches"},
                    std::vector<std::string>{"--insecure", "refresh", "--file", store},
                    std::vector<std::string>{"--insecure", "keep-fresh", "--store", "file:" + store, "--once"},
                    std::vector<std::string>{"--endpoint", "", "--insecure", "--key-file", store, "cache", "list-caches"}}) {
    CliResult r = run_cli(f.dir, args);
    INFO(r.err);
    CHECK((r.rc == 3 || r.rc == 2));
    CHECK(r.err.find(json::parse(slurp(store)).at("authToken").get<std::string>().substr(0, 40)) ==
          std::string::npos);
  }
}

TEST_CASE("cli: fine-grained API keys and disposable tokens with item scopes", "[live][cli][scopes]") {
  Fixture f;
  const std::string su = f.server.bootstrap_path();
  REQUIRE(f.cli({"--key-file", su, "cache", "create-cache", "orders"}).rc == 0);
  REQUIRE(f.cli({"--key-file", su, "cache", "create-cache", "other"}).rc == 0);

  const std::string key = f.dir.file("orders.json");
  CliResult gen = f.cli({"--key-file", su, "generate", "--permit", "cache:read-write:orders",
                         "--permit", "topic:publish-only:orders:evt-*", "--expires-in", "1h30m", "--out", key});
  INFO(gen.err);
  REQUIRE(gen.rc == 0);
  const int64_t valid = std::stoll(token_file(key).at("validUntil").get<std::string>());
  CHECK(valid > now_epoch() + 5300);
  CHECK(valid <= now_epoch() + 5400 + 5);
  CHECK(f.cli({"--key-file", key, "cache", "set", "--cache", "orders", "a", "1"}).rc == 0);
  CHECK(f.cli({"--key-file", key, "cache", "set", "--cache", "other", "a", "1"}).rc == 4);

  // --scope and --permit together, or neither, are usage errors.
  CHECK(f.cli({"--key-file", su, "generate", "--scope", "super-user", "--permit", "cache:read-only",
               "--expires-in", "1h"}).rc == 2);
  CHECK(f.cli({"--key-file", su, "generate", "--expires-in", "1h"}).rc == 2);
  // Item entries are for disposable tokens.
  CHECK(f.cli({"--key-file", su, "generate", "--permit", "item:read-only:orders:key=a",
               "--expires-in", "1h"}).rc == 3);

  REQUIRE(f.cli({"--key-file", su, "cache", "set", "--cache", "orders", "user:42", "v42"}).rc == 0);
  REQUIRE(f.cli({"--key-file", su, "cache", "set", "--cache", "orders", "user:43", "v43"}).rc == 0);
  const std::string tok = f.dir.file("disposable.json");
  CliResult dis = f.cli({"--key-file", su, "generate-disposable-token", "--permit",
                         "item:read-only:orders:key=user:42", "--expires-in", "15m", "--token-id",
                         "job-7", "--out", tok});
  INFO(dis.err);
  REQUIRE(dis.rc == 0);
  CliResult got = f.cli({"--key-file", tok, "cache", "get", "--cache", "orders", "user:42"});
  INFO(got.err);
  CHECK(got.rc == 0);
  CHECK(got.out == "v42\n");
  CHECK(f.cli({"--key-file", tok, "cache", "get", "--cache", "orders", "user:43"}).rc == 4);
  CHECK(f.cli({"--key-file", tok, "cache", "set", "--cache", "orders", "user:42", "x"}).rc == 4);
}

TEST_CASE("cli: inspect --expires-within exits 6 when the key expires within that time",
          "[live][cli]") {
  Fixture f;
  const std::string key = f.dir.file("k.json");
  f.mint(key, "1h");
  CHECK(run_cli(f.dir, {"inspect", key, "--expires-within", "2h"}).rc == 6);
  CHECK(run_cli(f.dir, {"inspect", key, "--expires-within", "30m"}).rc == 0);
  CliResult j = run_cli(f.dir, {"--json", "inspect", key, "--expires-within", "1d"});
  CHECK(j.rc == 6);
  CHECK(json::parse(j.out).at("expires_within").at("expiring") == true);
  CHECK(json::parse(j.out).at("expires_at_utc").is_string());
  // A key that never expires is never "expiring".
  CHECK(run_cli(f.dir, {"inspect", f.server.bootstrap_path(), "--expires-within", "3650d"}).rc == 0);
}

TEST_CASE("cli: errors are JSON on stderr with --json", "[live][cli]") {
  Fixture f;
  const std::string bogus = make_envelope("localhost", "not-a-key");
  CliResult r = f.cli({"--json", "--key", bogus, "cache", "list-caches"});
  CHECK(r.rc == 4);
  const json e = json::parse(r.err).at("error");
  CHECK(e.at("code") == "AUTHENTICATION_ERROR");
  CHECK(e.at("exit_code") == 4);
  CHECK(e.at("hint").is_string());
}

TEST_CASE("cli: a warning when gRPC tracing is on", "[live][cli]") {
  Fixture f;
  ::setenv("GRPC_TRACE", "http", 1);
  CliResult r = run_cli(f.dir, {"inspect", f.server.bootstrap_path()});
  CliResult j = run_cli(f.dir, {"--json", "inspect", f.server.bootstrap_path()});
  ::unsetenv("GRPC_TRACE");
  CHECK(r.rc == 0);
  CHECK(r.err.find("warning: gRPC tracing is on (GRPC_TRACE)") != std::string::npos);
  CHECK(json::parse(j.err.substr(0, j.err.find('\n'))).at("warning").get<std::string>().find("gRPC tracing is on (GRPC_TRACE)") == 0);
  // The rule is the server's (util/tracing.hpp): tracers turned off, or none, do not warn.
  ::setenv("GRPC_TRACE", "-http,none", 1);
  CliResult off = run_cli(f.dir, {"inspect", f.server.bootstrap_path()});
  ::unsetenv("GRPC_TRACE");
  CHECK(off.err.find("gRPC tracing") == std::string::npos);
  CliResult quiet = run_cli(f.dir, {"inspect", f.server.bootstrap_path()});
  CHECK(quiet.err.find("gRPC tracing") == std::string::npos);
}

TEST_CASE("server admin list-keys: dates, and control characters escaped", "[live][cli][hardening]") {
  Fixture f;
  f.mint(f.dir.file("k.json"));
  f.server.stop();
  // A row written before descriptions were checked at mint: ESC, CR and LF in it.
  std::string ignored;
  REQUIRE(ServerProcess::run_capture(
              {"/usr/bin/sqlite3", f.server.data_dir() + "/state.db",
               "UPDATE keys SET description = 'x' || char(27) || '[2J' || char(13) || char(10) || "
               "'forged-row', token_id = char(27) || ']0;title' || char(7)"},
              &ignored, std::chrono::seconds(30), f.dir.file("sqlite.err")) == 0);
  std::string out;
  REQUIRE(f.server.admin({"list-keys"}, &out) == 0);
  CHECK_FALSE(has_raw_escape(out));
  CHECK(out.find('\x07') == std::string::npos);
  CHECK(out.find("\\e[2J\\r\\nforged-row") != std::string::npos);
  CHECK(out.find("created=20") != std::string::npos);  // a date, not epoch seconds
  REQUIRE(f.server.admin({"list-keys", "--json"}, &out) == 0);
  const json rows = json::parse(out);
  REQUIRE_FALSE(rows.empty());
  CHECK(rows[0].at("created_at").is_number());
  CHECK(rows[0].at("created_at_utc").get<std::string>().size() == 20);
}
