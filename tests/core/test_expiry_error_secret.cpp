// Lifetimes, error codes and secret helpers.
#include <climits>

#include "core_test_util.hpp"
#include "momento/auth/expiry.hpp"
#include "momento/auth/secret.hpp"

using namespace momento::auth;
using core_test::contains;
using core_test::expect_invalid;

TEST_CASE("ExpiresIn factories", "[expiry]") {
  CHECK_FALSE(ExpiresIn::never().does_expire());
  CHECK(ExpiresIn::seconds(1).valid_for_seconds() == 1u);
  CHECK(ExpiresIn::seconds(4294967295LL).valid_for_seconds() == 4294967295u);
  CHECK(ExpiresIn::minutes(2).valid_for_seconds() == 120u);
  CHECK(ExpiresIn::hours(3).valid_for_seconds() == 10800u);
  CHECK(ExpiresIn::days(30).valid_for_seconds() == 2592000u);
  CHECK(ExpiresIn::days(49710).valid_for_seconds() == 4294944000u);  // largest whole-day lifetime
  CHECK(ExpiresIn::seconds(5).does_expire());
}

TEST_CASE("ExpiresIn validation", "[expiry][negative]") {
  CHECK(contains(expect_invalid([] { ExpiresIn::seconds(0); }), "lifetime must be positive"));
  CHECK(contains(expect_invalid([] { ExpiresIn::seconds(-5); }), "lifetime must be positive"));
  CHECK(contains(expect_invalid([] { ExpiresIn::minutes(0); }), "lifetime must be positive"));
  CHECK(contains(expect_invalid([] { ExpiresIn::hours(-1); }), "lifetime must be positive"));
  CHECK(contains(expect_invalid([] { ExpiresIn::days(LLONG_MIN); }), "lifetime must be positive"));
  expect_invalid([] { ExpiresIn::seconds(4294967296LL); });
  expect_invalid([] { ExpiresIn::minutes(71582789); });  // 4294967340 s
  expect_invalid([] { ExpiresIn::hours(1193047); });
  expect_invalid([] { ExpiresIn::days(49711); });
  // Multiplication overflow must not wrap into a valid value.
  expect_invalid([] { ExpiresIn::days(LLONG_MAX); });
  expect_invalid([] { ExpiresIn::minutes(LLONG_MAX / 60 + 1); });
  expect_invalid([] { ExpiresIn::hours(LLONG_MAX); });
}

TEST_CASE("ExpiresIn::at_epoch", "[expiry]") {
  const int64_t now = 1700000000;
  CHECK(ExpiresIn::at_epoch(now + 1, now).valid_for_seconds() == 1u);
  CHECK(ExpiresIn::at_epoch(now + 86400, now).valid_for_seconds() == 86400u);
  CHECK(contains(expect_invalid([&] { ExpiresIn::at_epoch(now, now); }), "future"));
  CHECK(contains(expect_invalid([&] { ExpiresIn::at_epoch(now - 10, now); }), "future"));
  expect_invalid([&] { ExpiresIn::at_epoch(now + 4294967296LL, now); });
  expect_invalid([] { ExpiresIn::at_epoch(LLONG_MIN, 1); });
  expect_invalid([] { ExpiresIn::at_epoch(LLONG_MAX, -1); });
  // Default "now" is the system clock: a time far in the past is rejected, one an hour ahead is not.
  expect_invalid([] { ExpiresIn::at_epoch(1000); });
  CHECK(ExpiresIn::at_epoch(now_epoch_seconds() + 3600).does_expire());
}

TEST_CASE("ExpiresAt", "[expiry]") {
  CHECK_FALSE(ExpiresAt::never().does_expire());
  CHECK(ExpiresAt::from_epoch(0) == ExpiresAt::never());
  ExpiresAt e = ExpiresAt::from_epoch(1700000000);
  CHECK(e.does_expire());
  CHECK(e.epoch() == 1700000000u);
  CHECK_FALSE(e.expired(1699999999));
  CHECK(e.expired(1700000000));
  CHECK_FALSE(ExpiresAt::never().expired(INT64_MAX));
  CHECK(now_epoch_seconds() > 1600000000);
}

TEST_CASE("gRPC status mapping (docs/wire.md 10.1)", "[error]") {
  struct Row { int status; ErrorCode code; const char* name; };
  const Row rows[] = {
      {3, ErrorCode::InvalidArgument, "INVALID_ARGUMENT_ERROR"},
      {16, ErrorCode::Authentication, "AUTHENTICATION_ERROR"},
      {7, ErrorCode::Permission, "PERMISSION_ERROR"},
      {5, ErrorCode::NotFound, "NOT_FOUND_ERROR"},
      {6, ErrorCode::AlreadyExists, "ALREADY_EXISTS_ERROR"},
      {8, ErrorCode::LimitExceeded, "LIMIT_EXCEEDED_ERROR"},
      {9, ErrorCode::FailedPrecondition, "FAILED_PRECONDITION_ERROR"},
      {1, ErrorCode::Cancelled, "CANCELLED_ERROR"},
      {4, ErrorCode::Timeout, "TIMEOUT_ERROR"},
      {14, ErrorCode::ServerUnavailable, "SERVER_UNAVAILABLE"},
      {13, ErrorCode::InternalServer, "INTERNAL_SERVER_ERROR"},
      {15, ErrorCode::InternalServer, "INTERNAL_SERVER_ERROR"},
      {10, ErrorCode::InternalServer, "INTERNAL_SERVER_ERROR"},
      {2, ErrorCode::UnknownService, "UNKNOWN_SERVICE_ERROR"},
      {11, ErrorCode::BadRequest, "BAD_REQUEST_ERROR"},
      {12, ErrorCode::BadRequest, "BAD_REQUEST_ERROR"},
      {0, ErrorCode::Unknown, "UNKNOWN_ERROR"},
      {17, ErrorCode::Unknown, "UNKNOWN_ERROR"},
      {-1, ErrorCode::Unknown, "UNKNOWN_ERROR"},
  };
  for (const auto& r : rows) {
    INFO("status " << r.status);
    CHECK(error_code_from_grpc(r.status) == r.code);
    CHECK(std::string(error_code_name(error_code_from_grpc(r.status))) == r.name);
  }
  CHECK(std::string(error_code_name(ErrorCode::Connection)) == "CONNECTION_ERROR");
  CHECK(std::string(error_code_name(ErrorCode::ClientResourceExhausted)) == "CLIENT_RESOURCE_EXHAUSTED");
}

TEST_CASE("retryable codes", "[error]") {
  for (auto c : {ErrorCode::Timeout, ErrorCode::ServerUnavailable, ErrorCode::Connection,
                 ErrorCode::InternalServer, ErrorCode::LimitExceeded, ErrorCode::Cancelled}) {
    INFO(error_code_name(c));
    CHECK(error_code_retryable(c));
  }
  for (auto c : {ErrorCode::InvalidArgument, ErrorCode::Authentication, ErrorCode::Permission,
                 ErrorCode::NotFound, ErrorCode::AlreadyExists, ErrorCode::FailedPrecondition,
                 ErrorCode::BadRequest, ErrorCode::UnknownService, ErrorCode::Unknown,
                 ErrorCode::ClientResourceExhausted}) {
    INFO(error_code_name(c));
    CHECK_FALSE(error_code_retryable(c));
  }
  Error e(ErrorCode::Timeout, "deadline", 4);
  CHECK(e.retryable());
  CHECK(e.grpc_status() == 4);
  CHECK(Error(ErrorCode::InvalidArgument, "x").grpc_status() == -1);
}

TEST_CASE("redact never reveals more than 4 characters", "[secret]") {
  CHECK(redact("") == "<empty>");
  const std::string key = "eyJhbGciOiJIUzI1NiJ9.payload.signature";
  std::string r = redact(key);
  CHECK(r.rfind("eyJh", 0) == 0);
  CHECK_FALSE(contains(r, "eyJhb"));
  CHECK(contains(r, "\xE2\x80\xA6#"));
  // 8 lowercase hex digits of SHA-256 after '#'.
  std::string fp = r.substr(r.find('#') + 1);
  CHECK(fp.size() == 8);
  CHECK(fp.find_first_not_of("0123456789abcdef") == std::string::npos);
  // Known value: SHA-256("abcdefgh") starts with 9c56cc51.
  CHECK(redact("abcdefgh") == "abcd\xE2\x80\xA6#9c56cc51");
  // Deterministic, and different secrets give different fingerprints.
  CHECK(redact(key) == r);
  CHECK(redact(key + "x") != r);
  // Short secrets: at most half shown.
  CHECK(redact("abc").rfind("a\xE2\x80\xA6", 0) == 0);
  CHECK(redact("k").rfind("\xE2\x80\xA6", 0) == 0);
  // Never splits a UTF-8 sequence.
  std::string u = redact("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
  CHECK(u.rfind("\xc3\xa9\xc3\xa9\xE2\x80\xA6", 0) == 0);
  std::string odd = redact("a\xc3\xa9\xc3\xa9xyz");
  CHECK(odd.rfind("a\xc3\xa9\xE2\x80\xA6", 0) == 0);
  // For many lengths, no window of 5 consecutive secret characters appears.
  std::string secret = "Zq8Xv2Lm9Tr4Wp7Ks1Hd";
  for (size_t n = 1; n <= secret.size(); ++n) {
    std::string s = secret.substr(0, n);
    std::string out = redact(s);
    for (size_t i = 0; i + 5 <= s.size(); ++i) CHECK_FALSE(contains(out, s.substr(i, 5)));
  }
}

TEST_CASE("constant_time_equal and wipe", "[secret]") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
  CHECK_FALSE(constant_time_equal("", "a"));
  CHECK(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  CHECK_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));

  std::string s = "a rather long secret value that is heap allocated";
  wipe(s);
  CHECK(s.empty());
  std::string empty;
  wipe(empty);
  CHECK(empty.empty());

  Secret a("top-secret");
  Secret b = a;
  CHECK(b.reveal() == "top-secret");
  Secret c = std::move(a);
  CHECK(c.reveal() == "top-secret");
  CHECK(a.empty());
  b = c;
  CHECK(b.reveal() == "top-secret");
  Secret d;
  d = std::move(b);
  CHECK(d.reveal() == "top-secret");
  CHECK(b.empty());
}
