// Pure scheduling rules: refresh time, jitter bounds, backoff growth, replay window.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <vector>

#include "momento/auth/refresher.hpp"

using namespace momento::auth;
using namespace std::chrono_literals;

namespace {
TimePoint at(int64_t s) { return TimePoint(std::chrono::seconds(s)); }
}  // namespace

TEST_CASE("refresh is planned at 75% of the lifetime minus up to 5% jitter", "[schedule]") {
  RefreshPolicy p;
  const TimePoint issued = at(1'000'000);
  const TimePoint expiry = at(1'000'000 + 10'000);  // 10 000 s lifetime
  CHECK(planned_refresh_time(issued, expiry, 0.0, p) == at(1'000'000 + 7'500));
  // jitter_unit just below 1 takes (almost) the whole 5% = 500 s off.
  auto latest_jitter = planned_refresh_time(issued, expiry, 0.999999, p);
  CHECK(latest_jitter >= at(1'000'000 + 7'000));
  CHECK(latest_jitter <= at(1'000'000 + 7'001));
  CHECK(planned_refresh_time(issued, expiry, 0.5, p) == at(1'000'000 + 7'250));
  // Every unit in [0,1) lands inside [70%, 75%] of the lifetime.
  for (int i = 0; i < 100; ++i) {
    auto t = planned_refresh_time(issued, expiry, i / 100.0, p);
    CHECK(t >= at(1'000'000 + 7'000));
    CHECK(t <= at(1'000'000 + 7'500));
  }
  // Out-of-range units are clamped, not extrapolated.
  CHECK(planned_refresh_time(issued, expiry, -3.0, p) == at(1'000'000 + 7'500));
  CHECK(planned_refresh_time(issued, expiry, 7.0, p) >= at(1'000'000 + 7'000));
}

TEST_CASE("refresh fraction and jitter are configurable", "[schedule]") {
  RefreshPolicy p;
  p.refresh_fraction = 0.5;
  p.jitter_fraction = 0.1;
  CHECK(planned_refresh_time(at(0), at(1000), 0.0, p) == at(500));
  CHECK(planned_refresh_time(at(0), at(1000), 0.5, p) == at(450));
  p.jitter_fraction = 0.0;
  CHECK(planned_refresh_time(at(0), at(1000), 0.9, p) == at(500));
}

TEST_CASE("a key issued at or after its expiry is due at once", "[schedule]") {
  RefreshPolicy p;
  CHECK(planned_refresh_time(at(100), at(100), 0.3, p) == at(100));
  CHECK(planned_refresh_time(at(200), at(100), 0.3, p) == at(200));
}

TEST_CASE("the last resort after a missed replay window comes at 95% of the lifetime", "[schedule]") {
  RefreshPolicy p;
  CHECK(last_resort_time(at(1000), at(2000), p) == at(1950));
  p.last_resort_fraction = 0.5;  // never before the planned refresh
  CHECK(last_resort_time(at(0), at(1000), p) == at(750));
  CHECK(last_resort_time(at(100), at(100), p) == at(100));
}

TEST_CASE("backoff doubles from 1 s to 5 min with +-20% jitter", "[schedule]") {
  RefreshPolicy p;
  // jitter_unit 0.5 = no jitter.
  CHECK(backoff_delay(1, 0.5, p) == 1000ms);
  CHECK(backoff_delay(2, 0.5, p) == 2000ms);
  CHECK(backoff_delay(3, 0.5, p) == 4000ms);
  CHECK(backoff_delay(9, 0.5, p) == 256000ms);
  CHECK(backoff_delay(10, 0.5, p) == 300000ms);  // capped
  CHECK(backoff_delay(1000, 0.5, p) == 300000ms);
  CHECK(backoff_delay(1, 0.0, p) == 800ms);
  CHECK(backoff_delay(1, 0.999999, p) >= 1199ms);
  CHECK(backoff_delay(1, 0.999999, p) <= 1200ms);
  CHECK(backoff_delay(20, 0.0, p) == 240000ms);
  CHECK(backoff_delay(20, 0.999999, p) <= 360000ms);
  // Growth is monotonic without jitter.
  for (int f = 1; f < 30; ++f) CHECK(backoff_delay(f + 1, 0.5, p) >= backoff_delay(f, 0.5, p));
  CHECK_THROWS_AS(backoff_delay(0, 0.5, p), Error);
}

TEST_CASE("a possibly lost answer is replayed inside the grace window", "[schedule]") {
  RefreshPolicy p;  // 30 s window, 5 s margin
  const TimePoint started = at(1000);
  // Early on: ordinary backoff.
  CHECK(replay_delay(1, 0.5, started, at(1000), p) == 1000ms);
  // Late: shortened to land by started + 25 s.
  CHECK(replay_delay(6, 0.5, started, at(1020), p) == 5000ms);
  // Past the usable window: no replay schedule (ordinary backoff applies).
  CHECK_FALSE(replay_delay(1, 0.5, started, at(1025), p).has_value());
  CHECK_FALSE(replay_delay(1, 0.5, started, at(2000), p).has_value());
}

TEST_CASE("definite refusals are told apart from possibly lost answers", "[schedule]") {
  CHECK(failure_is_definite(Error(ErrorCode::Authentication, "x")));
  CHECK(failure_is_definite(Error(ErrorCode::InvalidArgument, "x")));
  CHECK(failure_is_definite(Error(ErrorCode::Permission, "x")));
  CHECK_FALSE(failure_is_definite(Error(ErrorCode::Timeout, "x")));
  CHECK_FALSE(failure_is_definite(Error(ErrorCode::ServerUnavailable, "x")));
  CHECK_FALSE(failure_is_definite(Error(ErrorCode::InternalServer, "x")));
  CHECK_FALSE(failure_is_definite(Error(ErrorCode::Connection, "x")));
  CHECK_FALSE(failure_is_definite(Error(ErrorCode::Cancelled, "x")));
  // The same rule by code alone (what the C ABI's momento_status_definite asks).
  CHECK(failure_is_definite(ErrorCode::BadRequest));
  CHECK(failure_is_definite(ErrorCode::AlreadyExists));
  CHECK_FALSE(failure_is_definite(ErrorCode::Timeout));
  CHECK_FALSE(failure_is_definite(ErrorCode::Unknown));
}

TEST_CASE("refresh policy validation names the bad member", "[schedule]") {
  auto bad = [](auto mutate, const char* needle) {
    RefreshPolicy p;
    mutate(p);
    try {
      p.validate();
      FAIL("accepted a bad policy");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::InvalidArgument);
      CHECK(std::string(e.what()).find(needle) != std::string::npos);
    }
  };
  bad([](RefreshPolicy& p) { p.refresh_fraction = 1.0; }, "refresh_fraction");
  bad([](RefreshPolicy& p) { p.refresh_fraction = 0.0; }, "refresh_fraction");
  bad([](RefreshPolicy& p) { p.jitter_fraction = 0.9; }, "jitter_fraction");
  bad([](RefreshPolicy& p) { p.backoff_initial = 0ms; }, "backoff_initial");
  bad([](RefreshPolicy& p) { p.backoff_max = 10ms; }, "backoff_max");
  bad([](RefreshPolicy& p) { p.backoff_jitter = 1.0; }, "backoff_jitter");
  bad([](RefreshPolicy& p) { p.replay_margin = 40000ms; }, "replay_margin");
  bad([](RefreshPolicy& p) { p.recheck_interval = 0ms; }, "recheck_interval");
  bad([](RefreshPolicy& p) { p.last_resort_fraction = 1.0; }, "last_resort_fraction");
  RefreshPolicy ok;
  CHECK_NOTHROW(ok.validate());
}

TEST_CASE("a policy built value by value does not depend on the order of the setters",
          "[schedule][policy]") {
  using Step = std::function<void(RefreshPolicyBuilder&)>;
  const std::vector<Step> steps = {
      [](RefreshPolicyBuilder& b) { b.set_jitter_fraction(0.8); },
      [](RefreshPolicyBuilder& b) { b.set_refresh_fraction(0.9); },
      [](RefreshPolicyBuilder& b) { b.set_backoff_max(500'000ms); },
      [](RefreshPolicyBuilder& b) { b.set_backoff_initial(400'000ms); },
      [](RefreshPolicyBuilder& b) { b.set_recheck_interval(5ms); },
  };
  std::vector<size_t> order = {0, 1, 2, 3, 4};
  int permutations = 0;
  do {
    RefreshPolicyBuilder b;
    for (size_t i : order) CHECK_NOTHROW(steps[i](b));
    RefreshPolicy p = b.build();
    CHECK(p.refresh_fraction == 0.9);
    CHECK(p.jitter_fraction == 0.8);
    CHECK(p.backoff_initial == 400'000ms);
    CHECK(p.backoff_max == 500'000ms);
    CHECK(p.recheck_interval == 5ms);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(permutations == 120);
}

TEST_CASE("a policy builder only records values; build() names the first rule broken",
          "[schedule][policy]") {
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::InvalidArgument);
      return e.what();
    }
    return "";
  };
  RefreshPolicyBuilder b;
  b.set_jitter_fraction(0.8);  // recorded; only build() judges it
  CHECK(b.values().refresh_fraction == 0.75);  // the default, declared once in RefreshPolicy
  CHECK_THAT(message([&] { b.build(); }),
             Catch::Contains("jitter_fraction must be at least 0 and below refresh_fraction "
                             "(0.75 by default), got 0.8"));
  CHECK_NOTHROW(b.set_refresh_fraction(0.5));
  CHECK(b.values().refresh_fraction == 0.5);  // kept as given
  CHECK_THAT(message([&] { b.build(); }), Catch::Contains("below refresh_fraction (0.5), got 0.8"));
  CHECK_NOTHROW(b.set_refresh_fraction(1.5));
  CHECK_THAT(message([&] { b.build(); }),
             Catch::Contains("refresh_fraction must be between 0 and 1 (exclusive), got 1.5"));
  b.set_refresh_fraction(0.9);
  CHECK(b.build().jitter_fraction == 0.8);

  RefreshPolicyBuilder c;
  c.set_refresh_fraction(0.04);
  CHECK_THAT(message([&] { c.build(); }),
             Catch::Contains("refresh_fraction must exceed jitter_fraction (0.05 by default), got 0.04"));
  RefreshPolicyBuilder d;
  d.set_backoff_max(500ms);
  CHECK_THAT(message([&] { d.build(); }),
             Catch::Contains("backoff_max must be at least backoff_initial (1 second by default), "
                             "got 500 ms"));
  CHECK_NOTHROW(d.set_backoff_initial(-500ms));
  CHECK_THAT(message([&] { d.build(); }), Catch::Contains("backoff_initial must be positive"));
  CHECK_NOTHROW(d.set_backoff(2000ms, 1000ms));
  CHECK_THAT(message([&] { d.build(); }),
             Catch::Contains("backoff_max must be at least backoff_initial (2 seconds), got 1 second"));
  d.set_backoff(1000ms, 2000ms);
  CHECK_NOTHROW(d.set_recheck_interval(std::chrono::hours(25)));
  CHECK_THAT(message([&] { d.build(); }), Catch::Contains("recheck_interval must be at most one day"));
  // Several rules broken: the first in the fixed order is reported, whatever was set last.
  RefreshPolicy p;
  p.last_resort_fraction = 2.0;
  p.refresh_fraction = 0.0;
  CHECK_THAT(message([&] { p.validate(); }), Catch::Contains("refresh_fraction"));
}
