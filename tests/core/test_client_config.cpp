// The rules of a client configuration: one home in core, the same for the constructors and for
// callers that check one member at a time (the C setters name the C parameter).
#include <chrono>

#include "core_test_util.hpp"
#include "momento/auth/client.hpp"
#include "momento/auth/data_client.hpp"

using namespace momento::auth;
using namespace core_test;
using std::chrono::milliseconds;

TEST_CASE("client config: a deadline is positive and at most a day", "[client][config]") {
  CHECK_NOTHROW(check_deadline(milliseconds(1), "deadline_ms"));
  CHECK_NOTHROW(check_deadline(milliseconds(86'400'000), "deadline_ms"));
  CHECK(expect_invalid([] { check_deadline(milliseconds(0), "deadline_ms"); }) ==
        "deadline_ms must be positive");
  CHECK(expect_invalid([] { check_deadline(milliseconds(-1), "deadline"); }) ==
        "deadline must be positive");
  for (int64_t ms : {int64_t{86'400'001}, INT64_MAX})
    CHECK(expect_invalid([ms] { check_deadline(milliseconds(ms), "deadline_ms"); }) ==
          "deadline_ms must be at most one day (86400000 ms)");

  // The constructors apply the same rule to every deadline they are given.
  ClientConfig auth;
  auth.deadline = std::chrono::hours(25);
  CHECK(expect_invalid([&] { AuthClient(Credential::local(), auth); }) ==
        "deadline must be at most one day (86400000 ms)");
  DataClientConfig data;
  data.control_deadline = milliseconds(0);
  CHECK(expect_invalid([&] { DataClient(Credential::local(), data); }) ==
        "control_deadline must be positive");
}

TEST_CASE("client config: message size and CA file", "[client][config]") {
  CHECK_NOTHROW(check_max_message_bytes(1, "max_bytes"));
  CHECK(expect_invalid([] { check_max_message_bytes(0, "max_bytes"); }) ==
        "max_bytes must be positive");
  ClientConfig auth;
  auth.max_message_bytes = -1;
  CHECK(expect_invalid([&] { AuthClient(Credential::local(), auth); }) ==
        "max_message_bytes must be positive");

  CHECK_NOTHROW(check_ca_file(""));
  const std::string missing = "/nonexistent/momento/ca.pem";
  CHECK(contains(expect_invalid([&] { check_ca_file(missing); }), "CA file cannot be read"));
  // The constructors read the file: the same words when it is missing.
  ClientConfig with_ca;
  with_ca.ca_file = missing;
  CHECK(contains(expect_invalid([&] { AuthClient(Credential::local(), with_ca); }),
                 "CA file cannot be read"));
}

TEST_CASE("a local credential points at the default local address, in plaintext", "[credential]") {
  const Credential c = Credential::local();
  CHECK(c.endpoints().control.address() ==
        std::string(kLocalHost) + ":" + std::to_string(kLocalPort));
  CHECK_FALSE(c.endpoints().control.secure);
}
