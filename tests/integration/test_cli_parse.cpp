// Unit tests of the CLI's argument parsing and exit-code mapping.
#include <catch2/catch.hpp>
#include <sstream>

#include "app.hpp"
#include "momento/auth/error.hpp"
#include "parse.hpp"

using namespace momento;
using auth::ErrorCode;

namespace {
ErrorCode code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const auth::Error& e) {
    return e.code();
  }
  return ErrorCode::Unknown;
}
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
    CHECK(code_of([&] { cli::parse_expires_in(bad, now); }) == ErrorCode::InvalidArgument);
  }
}

TEST_CASE("cli parse: --scope names map to the predefined scopes", "[cli][parse]") {
  CHECK(cli::parse_scope("super-user").is_super_user());
  CHECK(cli::parse_scope("all-data-read-write") == auth::PermissionScope::all_data_read_write());
  CHECK(cli::parse_scope("all-data-read-only") == auth::PermissionScope::all_data_read_only());
  CHECK(code_of([] { cli::parse_scope("admin"); }) == ErrorCode::InvalidArgument);
}

TEST_CASE("cli parse: --timeout durations", "[cli][parse]") {
  CHECK(cli::parse_duration("15") == std::chrono::seconds(15));
  CHECK(cli::parse_duration("15s") == std::chrono::seconds(15));
  CHECK(cli::parse_duration("500ms") == std::chrono::milliseconds(500));
  CHECK(cli::parse_duration("2m") == std::chrono::minutes(2));
  for (const char* bad : {"", "0", "s", "-1s", "1h", "abc"}) {
    INFO(bad);
    CHECK(code_of([&] { cli::parse_duration(bad); }) == ErrorCode::InvalidArgument);
  }
}

TEST_CASE("cli: error codes map to the documented exit codes", "[cli]") {
  CHECK(cli::exit_code_for(ErrorCode::InvalidArgument) == 3);
  CHECK(cli::exit_code_for(ErrorCode::Authentication) == 4);
  CHECK(cli::exit_code_for(ErrorCode::Permission) == 4);
  CHECK(cli::exit_code_for(ErrorCode::ServerUnavailable) == 5);
  CHECK(cli::exit_code_for(ErrorCode::Timeout) == 5);
  CHECK(cli::exit_code_for(ErrorCode::NotFound) == 1);
  CHECK(cli::exit_code_for(ErrorCode::InternalServer) == 1);
}

TEST_CASE("cli: expiry descriptions", "[cli]") {
  CHECK(cli::describe_expiry(auth::ExpiresAt::never(), 100) == "never");
  CHECK(cli::describe_expiry(auth::ExpiresAt::from_epoch(1801353600), 1801353600 - 90000) ==
        "2027-01-31T00:00:00Z (in 1d 1h)");
  CHECK(cli::describe_expiry(auth::ExpiresAt::from_epoch(1801353600), 1801353600) ==
        "2027-01-31T00:00:00Z (expired)");
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
