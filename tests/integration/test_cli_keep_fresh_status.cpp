// Unit tests of keep-fresh's status: the health verdict and the Prometheus text, from events.
#include <catch2/catch.hpp>
#include <string>

#include "keep_fresh_status.hpp"

using namespace momento;
using momento::cli::KeepFreshStatus;

namespace {

constexpr int64_t kNowMs = 1'800'000'000'000;  // a fixed wall clock
constexpr uint64_t kNow = kNowMs / 1000;

RefreshEvent event(RefreshEvent::Kind kind, uint64_t valid_until, int failures = 0, int64_t next_ms = 0) {
  RefreshEvent e;
  e.kind = kind;
  e.valid_until = valid_until;
  e.key = "eyJh…#0001";
  e.key_fingerprint = "f00d";
  e.store = "file:/k.json";
  e.consecutive_failures = failures;
  e.next_attempt_ms = next_ms;
  if (kind == RefreshEvent::Kind::Failed) e.error_code = MOMENTO_ERR_SERVER_UNAVAILABLE;
  return e;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

}  // namespace

TEST_CASE("keep-fresh status: no key yet is unhealthy and shows no expiry", "[cli][keep-fresh][metrics]") {
  KeepFreshStatus s("file:/k.json");
  CHECK_FALSE(s.health(kNowMs).healthy);
  const std::string m = s.metrics(kNowMs);
  CHECK(m.find("momento_auth_key_expiry_seconds") == std::string::npos);
  CHECK(has_line(m, "momento_auth_healthy{store=\"file:/k.json\"} 0"));
  CHECK(has_line(m, "momento_auth_refreshes_total{store=\"file:/k.json\",outcome=\"failed\"} 0"));
}

TEST_CASE("keep-fresh status: failures stay healthy while a retry comes before expiry", "[cli][keep-fresh][metrics]") {
  KeepFreshStatus s("file:/k.json");
  s.record(event(RefreshEvent::Kind::Adopted, kNow + 100), kNowMs);
  CHECK(s.health(kNowMs).healthy);
  CHECK(has_line(s.metrics(kNowMs), "momento_auth_key_expiry_seconds{store=\"file:/k.json\"} 100.0"));

  s.record(event(RefreshEvent::Kind::Failed, kNow + 100, 3, kNowMs + 8000), kNowMs);
  auto h = s.health(kNowMs);
  CHECK(h.healthy);
  CHECK(h.reason.find("3 failures") != std::string::npos);
  // The next attempt is planned after the key expires: unhealthy, and the reason says why.
  s.record(event(RefreshEvent::Kind::Failed, kNow + 100, 4, kNowMs + 100'000), kNowMs);
  h = s.health(kNowMs);
  CHECK_FALSE(h.healthy);
  CHECK(h.reason.find("before the next attempt") != std::string::npos);
  CHECK(h.reason.find("SERVER_UNAVAILABLE") != std::string::npos);
  const std::string m = s.metrics(kNowMs);
  CHECK(has_line(m, "momento_auth_refresh_consecutive_failures{store=\"file:/k.json\"} 4"));
  CHECK(has_line(m, "momento_auth_refreshes_total{store=\"file:/k.json\",outcome=\"failed\"} 2"));
  CHECK(has_line(m, "momento_auth_healthy{store=\"file:/k.json\"} 0"));

  // A refresh resets the failures and records its time.
  s.record(event(RefreshEvent::Kind::Refreshed, kNow + 500), kNowMs + 1500);
  CHECK(s.health(kNowMs + 1500).healthy);
  const std::string after = s.metrics(kNowMs + 1500);
  CHECK(has_line(after, "momento_auth_refresh_consecutive_failures{store=\"file:/k.json\"} 0"));
  CHECK(has_line(after, "momento_auth_last_refresh_timestamp_seconds{store=\"file:/k.json\"} 1800000001.5"));
  CHECK(has_line(after, "momento_auth_refreshes_total{store=\"file:/k.json\",outcome=\"refreshed\"} 1"));
}

TEST_CASE("keep-fresh status: an expired key is unhealthy; a never-expiring one is +Inf", "[cli][keep-fresh][metrics]") {
  KeepFreshStatus s("file:/k.json");
  s.record(event(RefreshEvent::Kind::Adopted, kNow - 1), kNowMs);
  CHECK_FALSE(s.health(kNowMs).healthy);
  CHECK(s.health(kNowMs).reason.find("expired") != std::string::npos);
  CHECK(has_line(s.metrics(kNowMs + 500), "momento_auth_key_expiry_seconds{store=\"file:/k.json\"} -1.5"));

  KeepFreshStatus never("file:/k.json");
  never.record(event(RefreshEvent::Kind::Adopted, 0), kNowMs);
  CHECK(never.health(kNowMs).healthy);
  const std::string m = never.metrics(kNowMs);
  CHECK(has_line(m, "momento_auth_key_expiry_seconds{store=\"file:/k.json\"} +Inf"));
  CHECK(has_line(m, "momento_auth_key_valid_until_timestamp_seconds{store=\"file:/k.json\"} 0"));
}

TEST_CASE("keep-fresh status: label values are escaped", "[cli][keep-fresh][metrics]") {
  KeepFreshStatus s("file:/a\"b\\c\nd");
  const std::string m = s.metrics(kNowMs);
  CHECK(has_line(m, "momento_auth_healthy{store=\"file:/a\\\"b\\\\c\\nd\"} 0"));
}
