// One client shared by 16 threads doing generate / refresh / inspect for a bounded number of
// rounds. Run it under the tsan preset to check the library's locking.
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capi_test_util.hpp"

using namespace capi_test;

TEST_CASE("16 threads share one client", "[capi][threads][server]") {
  // Enough handler threads that 16 concurrent callers are never turned away by the server.
  Server srv({"--threads", "32"});
  Client admin = client_from_file(srv.bootstrap_file(), srv.address(), 30000);
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Override ov;
  {
    Err err;
    REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), srv.address().c_str(), 0, err.out()));
  }
  constexpr int kThreads = 16;
  constexpr int kRounds = 4;
  std::atomic<int> generated{0}, refreshed{0}, inspected{0}, failures{0};
  std::mutex mu;
  std::vector<std::string> errors;  // first few failures, for the report
  auto record = [&](momento_error_t *e) {
    std::lock_guard lock(mu);
    if (e && errors.size() < 5)
      errors.push_back(std::string(momento_status_str(momento_error_code(e))) + ": " +
                       momento_error_message(e));
    momento_error_free(e);
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        momento_token_t *t = nullptr;
        // Shared: admin client, scope, lifetime and override are only read here.
        momento_error_t *gen_err = nullptr;
        if (momento_auth_client_generate_api_key(&t, admin.get(), rw.get(), hour.get(),
                                                 &gen_err) != MOMENTO_OK) {
          record(gen_err);
          ++failures;
          continue;
        }
        ++generated;
        momento_credential_t *c = nullptr;
        momento_auth_client_t *user = nullptr;
        momento_token_t *nt = nullptr;
        if (momento_credential_from_string(&c, momento_token_api_key(t), ov.get(), nullptr) ==
                MOMENTO_OK &&
            momento_credential_kind(c) == MOMENTO_CREDENTIAL_V1_ENVELOPE &&
            momento_credential_redacted(c)[0] != '\0') {
          ++inspected;
          momento_error_t *ref_err = nullptr;
          if (momento_auth_client_new(&user, c, nullptr, &ref_err) == MOMENTO_OK &&
              momento_auth_client_refresh_api_key(&nt, user, momento_token_refresh_token(t),
                                                  &ref_err) == MOMENTO_OK &&
              std::string(momento_token_api_key(nt)) != momento_token_api_key(t))
            ++refreshed;
          else {
            record(ref_err);
            ++failures;
          }
        } else {
          ++failures;
        }
        momento_token_free(nt);
        momento_auth_client_free(user);
        momento_credential_free(c);
        momento_token_free(t);
      }
    });
  }
  for (auto &t : threads) t.join();
  for (auto &e : errors) UNSCOPED_INFO(e);
  CHECK(failures == 0);
  CHECK(generated == kThreads * kRounds);
  CHECK(inspected == kThreads * kRounds);
  CHECK(refreshed == kThreads * kRounds);
}
