// The header-only C++ wrapper (momento/auth.hpp): RAII handles and momento::Error.
#include <atomic>
#include <future>
#include <memory>
#include <type_traits>

#include "capi_test_util.hpp"
#include "momento/auth.hpp"

static_assert(!std::is_copy_constructible_v<momento::Credential>);
static_assert(std::is_nothrow_move_constructible_v<momento::Credential>);
static_assert(!std::is_copy_constructible_v<momento::AuthClient>);
static_assert(std::is_move_constructible_v<momento::AuthClient>);
static_assert(!std::is_copy_constructible_v<momento::Token>);
static_assert(!std::is_copy_constructible_v<momento::Scope>);

TEST_CASE("wrapper throws momento::Error with code and message", "[capi][cpp]") {
  momento::check_abi();
  CHECK(momento::version_string() == MOMENTO_AUTH_VERSION_STRING);
  try {
    (void)momento::Credential::from_string("not a credential");
    FAIL("expected an exception");
  } catch (const momento::Error &e) {
    CHECK(e.code() == MOMENTO_ERR_INVALID_ARGUMENT);
    CHECK(std::string(e.code_name()) == "INVALID_ARGUMENT_ERROR");
    CHECK(e.grpc_status() == -1);
    CHECK_FALSE(e.retryable());
    CHECK_FALSE(std::string(e.what()).empty());
  }
  CHECK_THROWS_AS(momento::ExpiresIn::seconds(0), momento::Error);
  momento::Scope s;
  s.add_cache(momento::CacheRole::ReadOnly, "c").add_topic(momento::TopicRole::PublishOnly,
                                                           std::nullopt,
                                                           momento::Select::prefix("t-"));
  CHECK(s.entry_count() == 2);
  CHECK_THROWS_AS(s.add_cache(momento::CacheRole::ReadOnly, std::string()), momento::Error);
  CHECK(s.entry_count() == 2);
}

// A client with the local server's bootstrap key and a 10 s deadline.
static std::unique_ptr<momento::AuthClient> admin_client(capi_test::Server &srv,
                                                         const momento::EndpointOverride &ov) {
  auto cred = momento::Credential::from_file(srv.bootstrap_file(), &ov);
  momento::ClientConfig cfg;
  cfg.deadline(std::chrono::seconds(10));
  return std::make_unique<momento::AuthClient>(cred, cfg);
}

TEST_CASE("wrapper: generate, refresh, inspect against the local server", "[capi][cpp][server]") {
  capi_test::Server srv;
  auto ov = momento::EndpointOverride::single(srv.address());
  auto admin = admin_client(srv, ov);
  CHECK(admin->credential().kind() == momento::CredentialKind::V1Envelope);
  CHECK(admin->credential().endpoint(momento::Service::Control).address() == srv.address());

  momento::Token t = admin->generate_api_key(momento::Scope::all_data_read_write(),
                                            momento::ExpiresIn::hours(1));
  CHECK_FALSE(t.refresh_token().empty());
  auto user_cred = momento::Credential::from_string(std::string(t.api_key()), &ov);
  momento::AuthClient user(user_cred);
  momento::AuthClient moved = std::move(user);
  momento::Token r = moved.refresh_api_key(t.refresh_token());  // the view, as returned
  CHECK(r.api_key() != t.api_key());
  CHECK(r.to_json().find("\"refreshToken\"") != std::string::npos);

  try {
    moved.generate_api_key(momento::Scope::all_data_read_write(), momento::ExpiresIn::never());
    FAIL("expected PERMISSION_ERROR");
  } catch (const momento::Error &e) {
    CHECK(e.code() == MOMENTO_ERR_PERMISSION);
    CHECK(e.grpc_status() == 7);
  }
}

TEST_CASE("wrapper: log callback owns its std::function and swallows its exceptions",
          "[capi][cpp][log]") {
  auto calls = std::make_shared<std::atomic<int>>(0);
  std::weak_ptr<std::atomic<int>> watch = calls;
  momento::set_log_callback(momento::LogLevel::Debug,
                            [calls](momento::LogLevel, std::string_view msg) {
                              ++*calls;
                              if (!msg.empty()) throw std::runtime_error("callback failure");
                            });
  int before = calls->load();
  CHECK_THROWS_AS(momento::Credential::from_string("not a credential"), momento::Error);
  CHECK(calls->load() > before);
  calls.reset();
  CHECK_FALSE(watch.expired());  // the library still holds the callback
  momento::set_log_callback(momento::LogLevel::Debug, nullptr);
  CHECK(watch.expired());        // removing it destroyed the std::function
}

TEST_CASE("wrapper: momento::wipe clears a string's whole buffer", "[capi][cpp][secret]") {
  std::string s = "a secret that fills part of the buffer";
  s.reserve(128);
  s.resize(6);  // bytes past size() still hold the rest of the secret
  momento::wipe(s);
  CHECK(s.empty());
  CHECK(std::string(s.data(), s.capacity()).find_first_not_of('\0') == std::string::npos);
}

TEST_CASE("wrapper: Credential::from_key reads any key format", "[capi][cpp]") {
  // A legacy JWT (the wire vector) names its own endpoints; no endpoint variable is needed.
  const std::string legacy =
      "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJmb29Abm90LmEuZG9tYWluIiwiY3AiOiJjb250cm9sLXBsYW5lLWVuZHBvaW50Lm5vdC5hLmRvbWFpbiIsImMiOiJjYWNoZS1lbmRwb2ludC5ub3QuYS5kb21haW4ifQo."
      "rtxfu4miBHQ1uptWJ2x3UiAwwJYcMeYIkkpXxUno_wIavg4h6YJStcbxk32NDBbmJkJS7mUw6MsvJNWaxfdPOw";
  momento::Credential c = momento::Credential::from_key(legacy, std::string("CAPI_TEST_UNSET_VAR"));
  CHECK(c.kind() == momento::CredentialKind::LegacyJwt);
  CHECK_THROWS_AS(momento::Credential::from_key("not a key"), momento::Error);
  CHECK_THROWS_AS(momento::Credential::from_key_file("/nonexistent/key"), momento::Error);
}

TEST_CASE("wrapper: asynchronous calls settle std::futures", "[capi][cpp][server][async]") {
  capi_test::Server srv;
  auto ov = momento::EndpointOverride::single(srv.address());
  auto admin = admin_client(srv, ov);
  momento::Scope item;
  item.add_cache_items(momento::CacheRole::ReadWrite, std::string("c"), momento::Items::key("k"));

  // Two calls in flight at once; the client is destroyed before either is awaited.
  std::future<momento::Token> minted =
      admin->generate_api_key_async(momento::Scope::all_data_read_write(), momento::ExpiresIn::hours(1));
  std::future<momento::Token> disposable =
      admin->generate_disposable_token_async(item, momento::ExpiresIn::minutes(5), std::string("id-1"));
  admin.reset();
  momento::Token t = minted.get();
  CHECK_FALSE(t.refresh_token().empty());
  CHECK(t.valid_until() > 0);
  momento::Token d = disposable.get();
  CHECK_FALSE(d.api_key().empty());
  CHECK(d.refresh_token().empty());

  auto user_cred = momento::Credential::from_string(std::string(t.api_key()), &ov);
  momento::AuthClient user(user_cred);
  momento::Token r = user.refresh_api_key_async(std::string(t.refresh_token())).get();
  CHECK(r.api_key() != t.api_key());

  // An outcome after the start is the future's exception: the server refuses, or the token
  // cancels (before the start here, so the call starts and ends CANCELLED).
  auto refused = user.generate_api_key_async(momento::Scope::all_data_read_write(), momento::ExpiresIn::never());
  try {
    refused.get();
    FAIL("expected PERMISSION_ERROR");
  } catch (const momento::Error &e) {
    CHECK(e.code() == MOMENTO_ERR_PERMISSION);
    CHECK(e.grpc_status() == 7);
  }
  std::future<momento::Token> cancelled;
  {
    momento::CancelToken token;
    token.cancel();
    cancelled = user.refresh_api_key_async(std::string(r.refresh_token()), &token);
  }  // destroyed while the call may be in flight
  try {
    cancelled.get();
    FAIL("expected CANCELLED");
  } catch (const momento::Error &e) {
    CHECK(e.code() == MOMENTO_ERR_CANCELLED);
  }

  // Bad arguments throw at the start, and nothing is left to await.
  CHECK_THROWS_AS(user.refresh_api_key_async(std::string()), momento::Error);
  CHECK_THROWS_AS(user.generate_api_key_async(item, momento::ExpiresIn::hours(1)), momento::Error);
  CHECK_THROWS_AS(user.generate_disposable_token_async(item, momento::ExpiresIn::hours(1), std::string(65, 'x')),
                  momento::Error);
}
