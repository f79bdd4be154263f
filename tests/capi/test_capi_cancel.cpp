// Cancel tokens: a thread tied to a token has its calls in flight cancelled from another thread;
// untied threads and the clients themselves are unaffected.
#include <atomic>
#include <future>
#include <string>
#include <thread>

#include "capi_test_util.hpp"
#include "momento/auth.hpp"

using namespace capi_test;

namespace {

using Token_ = Owned<momento_cancel_token_t, momento_cancel_token_free>;
using DataClient = Owned<momento_data_client_t, momento_data_client_free>;

// Waits (bounded, ~20 s) until a connection is pending on the silent listener, i.e. the call
// has been started and its context registered.
bool wait_for_connection(const SilentSocket &s) {
  pollfd p{s.fd, POLLIN, 0};
  return poll(&p, 1, 20000) == 1;
}

// Runs `body` on a new thread tied to `token`; returns the status it produced.
template <class F>
std::future<momento_status_t> tied(momento_cancel_token_t *token, F body) {
  return std::async(std::launch::async, [token, body]() -> momento_status_t {
    momento_cancel_token_t *prev = reinterpret_cast<momento_cancel_token_t *>(0x1);
    if (momento_cancel_token_bind_thread(&prev, token, nullptr) != MOMENTO_OK || prev != nullptr)
      return static_cast<momento_status_t>(MOMENTO_ERR_UNKNOWN);
    momento_status_t st = body();
    momento_cancel_token_bind_thread(nullptr, nullptr, nullptr);
    return st;
  });
}

}  // namespace

TEST_CASE("cancel token argument validation and state", "[capi][cancel][validation]") {
  Err err;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_cancel_token_new(nullptr, err.out()));
  CHECK(err.message().find("out") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_cancel_token_cancel(nullptr, err.out()));
  CHECK(err.message().find("token") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_cancel_token_reset(nullptr, err.out()));
  CHECK(err.message().find("token") != std::string::npos);
  CHECK(momento_cancel_token_is_cancelled(nullptr) == 0);
  momento_cancel_token_free(nullptr);

  Token_ t;
  REQUIRE_OK(err, momento_cancel_token_new(t.out(), err.out()));
  CHECK(momento_cancel_token_is_cancelled(t.get()) == 0);
  REQUIRE_OK(err, momento_cancel_token_cancel(t.get(), err.out()));
  REQUIRE_OK(err, momento_cancel_token_cancel(t.get(), err.out()));  // idempotent
  CHECK(momento_cancel_token_is_cancelled(t.get()) == 1);
  REQUIRE_OK(err, momento_cancel_token_reset(t.get(), err.out()));
  CHECK(momento_cancel_token_is_cancelled(t.get()) == 0);
}

TEST_CASE("cancel token bindings nest per thread", "[capi][cancel]") {
  Err err;
  Token_ a, b;
  REQUIRE_OK(err, momento_cancel_token_new(a.out(), err.out()));
  REQUIRE_OK(err, momento_cancel_token_new(b.out(), err.out()));
  momento_cancel_token_t *prev = a.get();
  REQUIRE_OK(err, momento_cancel_token_bind_thread(&prev, a.get(), err.out()));
  CHECK(prev == nullptr);
  REQUIRE_OK(err, momento_cancel_token_bind_thread(&prev, b.get(), err.out()));
  CHECK(prev == a.get());
  // Another thread has its own binding.
  std::thread([&] {
    momento_cancel_token_t *other = b.get();
    momento_cancel_token_bind_thread(&other, nullptr, nullptr);
    CHECK(other == nullptr);
  }).join();
  REQUIRE_OK(err, momento_cancel_token_bind_thread(&prev, a.get(), err.out()));
  CHECK(prev == b.get());
  REQUIRE_OK(err, momento_cancel_token_bind_thread(&prev, nullptr, err.out()));
  CHECK(prev == a.get());
  REQUIRE_OK(err, momento_cancel_token_bind_thread(nullptr, nullptr, err.out()));
}

TEST_CASE("a call in flight is cancelled from another thread", "[capi][cancel][server]") {
  Server srv;
  SilentSocket silent;
  // A 60 s deadline: a cancel that did not work would end in TIMEOUT instead.
  Client hung = client_from_file(srv.bootstrap_file(), silent.address(), 60000);
  Client real = client_from_file(srv.bootstrap_file(), srv.address(), 30000);
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Token_ token;
  Err err;
  REQUIRE_OK(err, momento_cancel_token_new(token.out(), err.out()));

  std::string message;
  int32_t grpc = 0;
  auto call = tied(token.get(), [&]() -> momento_status_t {
    momento_token_t *out = nullptr;
    momento_error_t *e = nullptr;
    momento_status_t st =
        momento_auth_client_generate_api_key(&out, hung.get(), rw.get(), hour.get(), &e);
    message = momento_error_message(e);
    grpc = momento_error_grpc_status(e);
    momento_error_free(e);
    momento_token_free(out);
    return st;
  });
  REQUIRE(wait_for_connection(silent));
  REQUIRE_OK(err, momento_cancel_token_cancel(token.get(), err.out()));
  REQUIRE(call.wait_for(std::chrono::seconds(50)) == std::future_status::ready);
  CHECK(call.get() == MOMENTO_ERR_CANCELLED);
  CHECK(grpc == 1);
  CHECK(message.find("GenerateApiToken") != std::string::npos);

  // The token stays cancelled: a tied call fails at once, without reaching the server...
  Token out_tok;
  momento_token_t *sentinel = reinterpret_cast<momento_token_t *>(0x1);
  momento_token_t *out = sentinel;
  REQUIRE_OK(err, momento_cancel_token_bind_thread(nullptr, token.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_CANCELLED, err,
                   momento_auth_client_generate_api_key(&out, real.get(), rw.get(), hour.get(),
                                                        err.out()));
  CHECK(out == sentinel);
  CHECK(err.message().find("before it started") != std::string::npos);
  // ...until reset; then the same clients work again.
  REQUIRE_OK(err, momento_cancel_token_reset(token.get(), err.out()));
  REQUIRE_OK(err, momento_auth_client_generate_api_key(out_tok.out(), real.get(), rw.get(),
                                                       hour.get(), err.out()));
  CHECK(std::string(momento_token_api_key(out_tok.get())).size() > 0);
  REQUIRE_OK(err, momento_cancel_token_bind_thread(nullptr, nullptr, err.out()));
  // An untied thread ignores the token entirely.
  REQUIRE_OK(err, momento_cancel_token_cancel(token.get(), err.out()));
  REQUIRE_OK(err, momento_auth_client_generate_api_key(out_tok.out(), real.get(), rw.get(),
                                                       hour.get(), err.out()));
}

TEST_CASE("cancelling one thread's calls leaves other threads' calls alone",
          "[capi][cancel][server]") {
  Server srv;
  SilentSocket silent;
  // One client, two threads: the tied call is cancelled, the untied one runs to its deadline.
  Client hung = client_from_file(srv.bootstrap_file(), silent.address(), 8000);
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Token_ token;
  Err err;
  REQUIRE_OK(err, momento_cancel_token_new(token.out(), err.out()));
  auto generate = [&]() -> momento_status_t {
    momento_token_t *out = nullptr;
    momento_error_t *e = nullptr;
    momento_status_t st =
        momento_auth_client_generate_api_key(&out, hung.get(), rw.get(), hour.get(), &e);
    momento_error_free(e);
    momento_token_free(out);
    return st;
  };
  auto untied = std::async(std::launch::async, generate);
  auto cancelled = tied(token.get(), generate);
  REQUIRE(wait_for_connection(silent));
  REQUIRE_OK(err, momento_cancel_token_cancel(token.get(), err.out()));
  REQUIRE(cancelled.wait_for(std::chrono::seconds(50)) == std::future_status::ready);
  CHECK(cancelled.get() == MOMENTO_ERR_CANCELLED);
  REQUIRE(untied.wait_for(std::chrono::seconds(50)) == std::future_status::ready);
  CHECK(untied.get() == MOMENTO_ERR_TIMEOUT);
}

TEST_CASE("data client calls are cancelled too", "[capi][cancel]") {
  SilentSocket silent;
  Err err;
  Credential cred;
  REQUIRE_OK(err, momento_credential_new_local(cred.out(), "127.0.0.1", silent.port, err.out()));
  Config cfg;
  REQUIRE_OK(err, momento_client_config_new(cfg.out(), err.out()));
  REQUIRE_OK(err, momento_client_config_set_deadline_ms(cfg.get(), 60000, err.out()));
  DataClient dc;
  REQUIRE_OK(err, momento_data_client_new(dc.out(), cred.get(), cfg.get(), err.out()));
  Token_ token;
  REQUIRE_OK(err, momento_cancel_token_new(token.out(), err.out()));
  auto ping = tied(token.get(), [&]() -> momento_status_t { return momento_data_client_ping(dc.get(), nullptr); });
  REQUIRE(wait_for_connection(silent));
  REQUIRE_OK(err, momento_cancel_token_cancel(token.get(), err.out()));
  REQUIRE(ping.wait_for(std::chrono::seconds(50)) == std::future_status::ready);
  CHECK(ping.get() == MOMENTO_ERR_CANCELLED);
}

TEST_CASE("C++ CancelToken and Binding", "[capi][cancel][cpp]") {
  SilentSocket silent;
  momento::Credential cred = momento::Credential::local("127.0.0.1", silent.port);
  momento::ClientConfig cfg;
  cfg.deadline(std::chrono::milliseconds(60000));
  momento::DataClient dc(cred, cfg);
  momento::CancelToken token;
  CHECK_FALSE(token.cancelled());
  auto ping = std::async(std::launch::async, [&]() -> momento_status_t {
    momento::CancelToken::Binding bind(&token);
    try {
      dc.ping();
      return MOMENTO_OK;
    } catch (const momento::Error &e) {
      return e.code();
    }
  });
  REQUIRE(wait_for_connection(silent));
  token.cancel();
  CHECK(token.cancelled());
  REQUIRE(ping.wait_for(std::chrono::seconds(50)) == std::future_status::ready);
  CHECK(ping.get() == MOMENTO_ERR_CANCELLED);
  token.reset();
  CHECK_FALSE(token.cancelled());
  {
    momento::CancelToken other;
    momento::CancelToken::Binding outer(&token);
    {
      momento::CancelToken::Binding inner(&other);
      momento_cancel_token_t *now = nullptr;
      momento_cancel_token_bind_thread(&now, other.get(), nullptr);
      CHECK(now == other.get());
    }
    momento_cancel_token_t *now = nullptr;
    momento_cancel_token_bind_thread(&now, token.get(), nullptr);
    CHECK(now == token.get());  // inner restored the outer binding
  }
}
