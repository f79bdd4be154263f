// Unit tests of the CLI's argument parsing and exit-code mapping.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app.hpp"
#include "cli_test_util.hpp"
#include "momento/auth.hpp"
#include "parse.hpp"

using namespace momento;

namespace {
// The status a call fails with; MOMENTO_OK when it does not throw.
momento_status_t code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return MOMENTO_OK;
}
constexpr momento_status_t kInvalid = MOMENTO_ERR_INVALID_ARGUMENT;
}  // namespace

TEST_CASE("cli parse: --expires-in accepts durations, never and UTC dates", "[cli][parse]") {
  const int64_t now = 1700000000;
  CHECK(cli::parse_expires_in("30d", now).valid_for_seconds() == 30 * 86400);
  CHECK(cli::parse_expires_in("12h", now).valid_for_seconds() == 12 * 3600);
  CHECK(cli::parse_expires_in("90m", now).valid_for_seconds() == 90 * 60);
  CHECK(cli::parse_expires_in("45s", now).valid_for_seconds() == 45);
  CHECK_FALSE(cli::parse_expires_in("never", now).does_expire());
  // 2027-01-31T00:00:00Z = 1801353600
  CHECK(cli::parse_expires_in("2027-01-31", now).valid_for_seconds() == 1801353600 - now);
  CHECK(cli::parse_expires_in("2027-01-31T12:00:00Z", now).valid_for_seconds() ==
        1801353600 + 43200 - now);

  // Compound durations.
  CHECK(cli::parse_expires_in("1h30m", now).valid_for_seconds() == 5400);
  CHECK(cli::parse_expires_in("2d12h", now).valid_for_seconds() == 2 * 86400 + 12 * 3600);
  CHECK(cli::parse_expires_in("1m30s", now).valid_for_seconds() == 90);

  for (const char* bad : {"", "0d", "-5h", "5", "5w", "abc", "2027-02-30", "2027-13-01",
                          "2020-01-01", "99999999999d", "1.5h", "2027-01-31T25:00:00Z", "1500ms",
                          "30m1h", "1h1h", "1h 30m", "h", "0h0m", "99999999999999999999s"}) {
    INFO(bad);
    CHECK(code_of([&] { cli::parse_expires_in(bad, now); }) == kInvalid);
  }
}

TEST_CASE("cli parse: --scope names map to the predefined scopes", "[cli][parse]") {
  // Predefined scopes carry no explicit entries and are valid for API keys; which one a name
  // picks is checked end to end in the live CLI tests (minting and data calls).
  for (const char* name : {"super-user", "all-data-read-write", " all-data-read-only "}) {
    INFO(name);
    CHECK(code_of([&] {
            Scope s = cli::parse_scope(name);
            CHECK(s.entry_count() == 0);
            s.validate(ScopeUse::ApiKey);
          }) == MOMENTO_OK);
  }
  CHECK(code_of([] { cli::parse_scope("admin"); }) == kInvalid);
  CHECK(cli::predefined_scope_names(", ", " or ") == "super-user, all-data-read-write or all-data-read-only");
}

TEST_CASE("cli parse: durations, compound ones included", "[cli][parse]") {
  using namespace std::chrono;
  CHECK(cli::parse_duration("15") == seconds(15));
  CHECK(cli::parse_duration("15s") == seconds(15));
  CHECK(cli::parse_duration("500ms") == milliseconds(500));
  CHECK(cli::parse_duration("2m") == minutes(2));
  CHECK(cli::parse_duration("1h") == hours(1));
  CHECK(cli::parse_duration("1h30m") == minutes(90));
  CHECK(cli::parse_duration("2d12h") == hours(60));
  CHECK(cli::parse_duration("1m30s500ms") == milliseconds(90500));
  CHECK(cli::parse_duration("14d") == hours(14 * 24));
  for (const char* bad : {"", "0", "s", "-1s", "abc", "30m1h", "1s1s", "1ms1s", "1x", "1.5h",
                          "nan", "inf", "99999999999999999d", "9223372036854775807"}) {
    INFO(bad);
    CHECK(code_of([&] { cli::parse_duration(bad); }) == kInvalid);
  }
  // The option is named in the message.
  try {
    cli::parse_duration("soon", "--interval");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("--interval") != std::string::npos);
  }
}

TEST_CASE("cli parse: numbers are finite, and the option is named", "[cli][parse]") {
  CHECK(cli::parse_number("0.8", "--refresh-fraction") == 0.8);
  for (const char* bad : {"", "nan", "NaN", "inf", "-inf", "infinity", "0.5x", "1e999", "x"}) {
    INFO(bad);
    try {
      cli::parse_number(bad, "--refresh-fraction");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == kInvalid);
      CHECK(std::string(e.what()).find("--refresh-fraction") != std::string::npos);
    }
  }
}

TEST_CASE("cli parse: printable escapes what could drive a terminal", "[cli][parse]") {
  CHECK(cli::printable("plain text") == "plain text");
  CHECK(cli::printable("\x1b[2Jgone") == "\\e[2Jgone");
  CHECK(cli::printable("row\r\nforged") == "row\\r\\nforged");
  CHECK(cli::printable("back\\slash") == "back\\\\slash");
  CHECK(cli::printable("caf\xC3\xA9") == "caf\xC3\xA9");                // UTF-8 kept
  CHECK(cli::printable("\xC2\x9B" "31m") == "\\xC2\\x9B31m");       // C1 CSI escaped
  CHECK(cli::printable("\xFF\x7F") == "\\xFF\\x7F");                  // invalid UTF-8, DEL
  CHECK(cli::printable(std::string(5000, 'a'), 100).size() == 103);  // cut, with "..."
}

TEST_CASE("cli parse: loopback hosts", "[cli][parse]") {
  for (const char* h : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"}) {
    INFO(h);
    CHECK(cli::is_loopback_host(h));
  }
  for (const char* h : {"", "example.com", "127.0.0.1.example.com", "localhost.evil", "10.0.0.1",
                        "127.0.0", "127.0.0.256", "128.0.0.1", "::2"}) {
    INFO(h);
    CHECK_FALSE(cli::is_loopback_host(h));
  }
}

TEST_CASE("cli parse: --permit builds fine-grained scopes", "[cli][parse]") {
  auto entries = [](std::vector<const char*> specs, ScopeUse use) {
    Scope s;
    for (const char* p : specs) cli::add_permission(s, p);
    s.validate(use);
    return s.entry_count();
  };
  CHECK(entries({"cache:read-write:orders"}, ScopeUse::ApiKey) == 1);
  CHECK(entries({"cache:read-only", "cache:write-only:*"}, ScopeUse::ApiKey) == 2);
  CHECK(entries({"topic:publish-subscribe:orders:events", "topic:subscribe-only:orders:evt-*",
                 "topic:publish-only"}, ScopeUse::ApiKey) == 3);
  CHECK(entries({"function:invoke:orders:resize", "function:invoke:*:img-*"}, ScopeUse::ApiKey) == 2);
  CHECK(entries({"item:read-only:orders:key=user:42", "item:read-write:orders:key-prefix=cart-"},
                ScopeUse::DisposableToken) == 2);
  for (const char* bad : {"", "cache", "cache:admin", "cache:read-write:a:b", "topic:read-write",
                          "function:call", "item:read-only:orders", "item:read-only:*:key=a",
                          "item:read-only:orders:value=a", "queue:read-write"}) {
    INFO(bad);
    CHECK(code_of([&] {
            Scope s;
            cli::add_permission(s, bad);
          }) == kInvalid);
  }
  // Item-level entries are for disposable tokens only: the library says so.
  CHECK(code_of([&] { entries({"item:read-only:orders:key=a"}, ScopeUse::ApiKey); }) == kInvalid);
}

TEST_CASE("cli: error codes map to the documented exit codes", "[cli]") {
  CHECK(cli::exit_code_for(kInvalid) == 3);
  CHECK(cli::exit_code_for(MOMENTO_ERR_AUTHENTICATION) == 4);
  CHECK(cli::exit_code_for(MOMENTO_ERR_PERMISSION) == 4);
  CHECK(cli::exit_code_for(MOMENTO_ERR_SERVER_UNAVAILABLE) == 5);
  CHECK(cli::exit_code_for(MOMENTO_ERR_TIMEOUT) == 5);
  CHECK(cli::exit_code_for(MOMENTO_ERR_CONNECTION) == 5);
  CHECK(cli::exit_code_for(MOMENTO_ERR_NOT_FOUND) == 1);
  CHECK(cli::exit_code_for(MOMENTO_ERR_INTERNAL_SERVER) == 1);
}

TEST_CASE("cli: expiry descriptions", "[cli]") {
  CHECK(cli::describe_expiry(0, 100) == "never");
  CHECK(cli::describe_expiry(1801353600, 1801353600 - 90000) == "2027-01-31T00:00:00Z (in 1d 1h)");
  CHECK(cli::describe_expiry(1801353600, 1801353600 - 59) == "2027-01-31T00:00:00Z (in 59s)");
  CHECK(cli::describe_expiry(1801353600, 1801353600) == "2027-01-31T00:00:00Z (expired)");
}

TEST_CASE("cli: usage errors exit 2, help exits 0", "[cli]") {
  auto run = [](std::vector<const char*> args) {
    args.insert(args.begin(), "momento-auth");
    std::ostringstream out, err;
    return cli::run(static_cast<int>(args.size()), args.data(), out, err);
  };
  CHECK(run({}) == 2);
  CHECK(run({"--help"}) == 0);
  CHECK(run({"frobnicate"}) == 2);
  CHECK(run({"generate", "--scope", "super-user"}) == 2);  // --expires-in missing
  CHECK(run({"--key", "a", "--key-file", "b", "inspect"}) == 2);
  CHECK(run({"generate", "--scope", "nope", "--expires-in", "1d", "--key", "x"}) == 3);
  CHECK(run({"--timeout", "soon", "inspect", "x"}) == 3);
}

namespace {
struct Ran {
  int rc;
  std::string out, err;
};
Ran run_args(std::vector<const char*> args) {
  args.insert(args.begin(), "momento-auth");
  std::ostringstream out, err;
  const int rc = cli::run(static_cast<int>(args.size()), args.data(), out, err);
  return {rc, out.str(), err.str()};
}
}  // namespace

TEST_CASE("cli: the help states the library's defaults", "[cli]") {
  CHECK(cli::format_duration(std::chrono::milliseconds(15000)) == "15s");
  CHECK(cli::format_duration(std::chrono::milliseconds(1500)) == "1500ms");
  const Ran top = run_args({"--help"});
  CHECK(top.rc == 0);
  CHECK(top.out.find("(default " + cli::format_duration(std::chrono::milliseconds(momento_client_config_deadline_ms(nullptr))) +
                     " for key calls)") != std::string::npos);
  const Ran watch = run_args({"watch", "--help"});
  CHECK(watch.rc == 0);
  CHECK(watch.out.find("(default " + cli::format_duration(Watcher::default_period()) + ")") != std::string::npos);
  const Ran generate = run_args({"generate", "--help"});
  CHECK(generate.out.find("super-user | all-data-read-write | all-data-read-only") != std::string::npos);
}

TEST_CASE("cli: --endpoint \"\" is a usage error, not \"no endpoint\"", "[cli]") {
  const Ran r = run_args({"--endpoint", "", "--insecure", "inspect", "x"});
  CHECK(r.rc == 2);
  CHECK(r.err.find("--endpoint is empty") != std::string::npos);
  CHECK(run_args({"--endpoint", "  ", "inspect", "x"}).rc == 2);
}

TEST_CASE("cli: --insecure is refused for hosts that are not loopback", "[cli]") {
  // A v1 envelope for example.com: inspect makes no call, so this runs offline.
  const std::string key = momento::testing::make_envelope("example.com", "raw-key");
  Ran r = run_args({"--endpoint", "example.com:443", "--insecure", "inspect", key.c_str()});
  CHECK(r.rc == 3);
  CHECK(r.err.find("--allow-insecure-remote") != std::string::npos);
  CHECK(r.err.find("raw-key") == std::string::npos);
  // The key's own hosts (no --endpoint) count too.
  CHECK(run_args({"--insecure", "inspect", key.c_str()}).rc == 3);
  CHECK(run_args({"--insecure", "--allow-insecure-remote", "inspect", key.c_str()}).rc == 0);
  CHECK(run_args({"--endpoint", "127.0.0.1:9", "--insecure", "inspect", key.c_str()}).rc == 0);
  CHECK(run_args({"--endpoint", "localhost:9", "--insecure", "inspect", key.c_str()}).rc == 0);
  CHECK(run_args({"--allow-insecure-remote", "inspect", key.c_str()}).rc == 3);
}

TEST_CASE("cli: numeric options refuse NaN, infinities and out-of-range values", "[cli]") {
  for (const char* bad : {"nan", "0", "inf", "-0.5", "1", "1.5", "", "x"}) {
    INFO(bad);
    const Ran r = run_args({"keep-fresh", "--store", "file:/nonexistent/t.json", "--once",
                            "--refresh-fraction", bad});
    CHECK(r.rc == 3);
    CHECK(r.err.find("--refresh-fraction") != std::string::npos);
  }
  for (const char* bad : {"nan", "0", "-1s", "inf"}) {
    INFO(bad);
    Ran r = run_args({"watch", "--store", "env:NOPE", "--interval", bad});
    CHECK(r.rc == 3);
    CHECK(r.err.find("--interval") != std::string::npos);
    r = run_args({"inspect", "x", "--expires-within", bad});
    CHECK(r.rc == 3);
    CHECK(r.err.find("--expires-within") != std::string::npos);
    r = run_args({"--timeout", bad, "inspect", "x"});
    CHECK(r.rc == 3);
    CHECK(r.err.find("--timeout") != std::string::npos);
  }
  for (const char* bad : {"nan", "-1", "1e99", "99999999999"}) {
    INFO(bad);
    const Ran r = run_args({"watch", "--store", "env:NOPE", "--count", bad});
    CHECK((r.rc == 2 || r.rc == 3));
    CHECK(r.err.find("--count") != std::string::npos);
  }
}

TEST_CASE("cli: --json makes errors JSON on stderr", "[cli]") {
  Ran r = run_args({"--json", "inspect", "not a key"});
  CHECK(r.rc == 3);
  CHECK(r.out.empty());
  auto j = nlohmann::json::parse(r.err);
  CHECK(j.at("error").at("code") == "INVALID_ARGUMENT_ERROR");
  CHECK(j.at("error").at("exit_code") == 3);
  CHECK_FALSE(j.at("error").at("message").get<std::string>().empty());
  // Usage errors too, even when parsing stops before --json is read.
  r = run_args({"--json", "frobnicate"});
  CHECK(r.rc == 2);
  j = nlohmann::json::parse(r.err);
  CHECK(j.at("error").at("code") == "USAGE");
  r = run_args({"frobnicate", "--json"});
  CHECK(nlohmann::json::parse(r.err).at("error").at("exit_code") == 2);
}

TEST_CASE("cli: completion scripts cover every subcommand and option", "[cli][completion]") {
  for (const char* shell : {"bash", "zsh", "fish"}) {
    INFO(shell);
    const Ran r = run_args({"completion", shell});
    REQUIRE(r.rc == 0);
    for (const char* word : {"generate", "generate-disposable-token", "refresh", "inspect", "cache",
                             "create-cache", "list-caches", "keep-fresh", "watch", "completion",
                             "permit", "expires-within", "refresh-fraction", "key-file",
                             "allow-insecure-remote", "super-user"})
      CHECK(r.out.find(word) != std::string::npos);
  }
  CHECK(run_args({"completion", "tcsh"}).rc == 3);
}

TEST_CASE("cli: the caller's key from MOMENTO_API_KEY, a v2 key with MOMENTO_ENDPOINT", "[cli]") {
  // The wire vector cred-v2-api-key (claim t == "g"); inspect makes no call, so this runs offline.
  const std::string v2 =
      "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0IjoiZyIsImp0aSI6InNvbWUtaWQifQ."
      "GMr9nA6HE0ttB6llXct_2Sg5-fOKGFbJCdACZFgNbN1fhT6OPg_hVc8ThGzBrWC_RlsBpLA1nzqK3SOJDXYxAw";
  struct Env {  // restores both variables whatever the outcome
    ~Env() {
      ::unsetenv("MOMENTO_API_KEY");
      ::unsetenv("MOMENTO_ENDPOINT");
    }
  } restore;
  ::unsetenv("MOMENTO_API_KEY");
  ::unsetenv("MOMENTO_ENDPOINT");
  Ran r = run_args({"inspect"});
  CHECK(r.rc == 3);
  CHECK(r.err.find("no key given") != std::string::npos);

  ::setenv("MOMENTO_API_KEY", v2.c_str(), 1);
  r = run_args({"inspect"});
  CHECK(r.rc == 3);
  CHECK(r.err.find("MOMENTO_ENDPOINT") != std::string::npos);  // what to set, not a parse error
  CHECK(r.err.find(v2.substr(0, 40)) == std::string::npos);

  ::setenv("MOMENTO_ENDPOINT", "cell-1.example.com", 1);
  r = run_args({"--json", "inspect"});
  REQUIRE(r.rc == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("base_endpoint") == "cell-1.example.com");
  CHECK(j.at("endpoints").at("cache").at("host") == "cache.cell-1.example.com");
  // --key and --key-file read a v2 key the same way.
  ::unsetenv("MOMENTO_API_KEY");
  r = run_args({"--json", "--key", v2.c_str(), "inspect"});
  REQUIRE(r.rc == 0);
  CHECK(nlohmann::json::parse(r.out).at("base_endpoint") == "cell-1.example.com");
  momento::testing::TempDir dir;
  const std::string file = dir.file("v2.key");
  std::ofstream(file) << v2 << "\n";
  r = run_args({"--json", "--key-file", file.c_str(), "inspect"});
  REQUIRE(r.rc == 0);
  CHECK(nlohmann::json::parse(r.out).at("endpoints").at("token").at("host") == "token.cell-1.example.com");
  ::unsetenv("MOMENTO_ENDPOINT");
  r = run_args({"--key-file", file.c_str(), "inspect"});
  CHECK(r.rc == 3);
  CHECK(r.err.find("--key-file") != std::string::npos);
  CHECK(r.err.find("MOMENTO_ENDPOINT") != std::string::npos);
}
