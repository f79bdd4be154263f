// Unit tests of the CLI's argument parsing and exit-code mapping.
#include <catch2/catch.hpp>
#include <sstream>

#include "app.hpp"
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

  for (const char* bad : {"", "0d", "-5h", "5", "5w", "abc", "2027-02-30", "2027-13-01",
                          "2020-01-01", "99999999999d", "1.5h", "2027-01-31T25:00:00Z"}) {
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
}

TEST_CASE("cli parse: --timeout durations", "[cli][parse]") {
  CHECK(cli::parse_duration("15") == std::chrono::seconds(15));
  CHECK(cli::parse_duration("15s") == std::chrono::seconds(15));
  CHECK(cli::parse_duration("500ms") == std::chrono::milliseconds(500));
  CHECK(cli::parse_duration("2m") == std::chrono::minutes(2));
  for (const char* bad : {"", "0", "s", "-1s", "1h", "abc"}) {
    INFO(bad);
    CHECK(code_of([&] { cli::parse_duration(bad); }) == kInvalid);
  }
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
