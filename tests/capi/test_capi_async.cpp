// Asynchronous auth client calls: argument checks at the start, exactly one callback per started
// call on another thread, cancellation, freeing the client with calls in flight, and the
// completion queue of the queued forms.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capi_test_util.hpp"

using namespace capi_test;

namespace {

using CancelToken = Owned<momento_cancel_token_t, momento_cancel_token_free>;

// What one callback received (the handles are freed by the callback).
struct Outcome {
  momento_status_t status = MOMENTO_OK;
  std::string message;
  int32_t grpc = -1;
  std::string api_key;
  std::string refresh_token;
  std::thread::id thread;
};

// Collects callbacks; the user_data of every call started in a test.
struct Calls {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Outcome> done;
  std::thread::id starter = std::this_thread::get_id();
  std::atomic<bool> starting{false};  // set around a start
  std::atomic<int> inside_start{0};   // callbacks run by the starting thread inside the start

  static void on_done(momento_token_t *token, momento_error_t *error, void *user_data) {
    auto *self = static_cast<Calls *>(user_data);
    if (self->starting && std::this_thread::get_id() == self->starter) self->inside_start++;
    Outcome o;
    o.thread = std::this_thread::get_id();
    if (token) {
      o.api_key = momento_token_api_key(token);
      o.refresh_token = momento_token_refresh_token(token);
    }
    if (error) {
      o.status = momento_error_code(error);
      o.message = momento_error_message(error);
      o.grpc = momento_error_grpc_status(error);
    }
    // Exactly one of the two is set.
    if ((token == nullptr) == (error == nullptr)) o.status = 12345;
    momento_token_free(token);
    momento_error_free(error);
    std::lock_guard lock(self->mu);
    self->done.push_back(std::move(o));
    self->cv.notify_all();
  }

  // Waits (bounded) until n callbacks have arrived; returns them.
  std::vector<Outcome> wait(size_t n, int seconds = 30) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(seconds), [&] { return done.size() >= n; });
    return done;
  }
  size_t count() {
    std::lock_guard lock(mu);
    return done.size();
  }
};

// Starts a call with `starting` set, so a callback run inside the start (on the starting
// thread) is detected. On another thread a callback may well run before the start returns.
template <class F>
momento_status_t started(Calls &calls, F start) {
  calls.starting = true;
  momento_status_t st = start();
  calls.starting = false;
  return st;
}

bool wait_for_connection(const SilentSocket &s) {
  pollfd p{s.fd, POLLIN, 0};
  return poll(&p, 1, 20000) == 1;
}

}  // namespace

TEST_CASE("async calls refuse bad arguments at once and never call back",
          "[capi][async][validation]") {
  Server srv;
  Client client = client_from_file(srv.bootstrap_file(), srv.address());
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Expires never = expires(MOMENTO_EXPIRES_NEVER, 0);
  Calls calls;
  Err err;
  auto *fn = &Calls::on_done;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_auth_client_generate_api_key_async(nullptr, rw.get(), hour.get(),
                                                              nullptr, fn, &calls, err.out()));
  CHECK(err.message().find("client") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_auth_client_generate_api_key_async(client.get(), rw.get(), hour.get(),
                                                              nullptr, nullptr, &calls, err.out()));
  CHECK(err.message().find("fn") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_auth_client_generate_api_key_async(client.get(), nullptr, hour.get(),
                                                              nullptr, fn, &calls, err.out()));
  CHECK(err.message().find("scope") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_auth_client_refresh_api_key_async(client.get(), kBadUtf8, nullptr, fn,
                                                             &calls, err.out()));
  CHECK(err.message().find("refresh_token") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_auth_client_refresh_api_key_async(client.get(), "", nullptr, fn,
                                                             &calls, err.out()));
  // Core's checks (made before anything is sent) fail the start too.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_auth_client_generate_disposable_token_async(
                       client.get(), rw.get(), never.get(), nullptr, nullptr, fn, &calls,
                       err.out()));
  const std::string long_id(65, 'x');
  Scope key_scope;
  REQUIRE_OK(err, momento_scope_new(key_scope.out(), err.out()));
  REQUIRE_OK(err, momento_scope_add_cache_items(key_scope.get(), MOMENTO_CACHE_READ_ONLY, "c",
                                                MOMENTO_ITEMS_KEY, "k", 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_auth_client_generate_disposable_token_async(
                       client.get(), key_scope.get(), hour.get(), long_id.c_str(), nullptr, fn,
                       &calls, err.out()));
  CHECK(err.message().find("64") != std::string::npos);
  // An item-level scope is for disposable tokens only.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_auth_client_generate_api_key_async(client.get(), key_scope.get(),
                                                              hour.get(), nullptr, fn, &calls,
                                                              err.out()));
  // A started call afterwards is the first and only callback.
  REQUIRE_OK(err, momento_auth_client_generate_api_key_async(client.get(), rw.get(), hour.get(),
                                                             nullptr, fn, &calls, err.out()));
  auto got = calls.wait(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == MOMENTO_OK);
}

TEST_CASE("async generate, refresh and disposable token call back once on another thread",
          "[capi][async][server]") {
  Server srv;
  Client admin = client_from_file(srv.bootstrap_file(), srv.address());
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Calls calls;
  Err err;
  REQUIRE_OK(err, started(calls, [&] {
               return momento_auth_client_generate_api_key_async(
                   admin.get(), rw.get(), hour.get(), nullptr, &Calls::on_done, &calls,
                   err.out());
             }));
  auto got = calls.wait(1);
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].status == MOMENTO_OK);
  CHECK(got[0].thread != calls.starter);
  CHECK_FALSE(got[0].refresh_token.empty());

  // The new key refreshes itself through its own client; the scope and lifetime were copied,
  // so freeing them right after the start is fine.
  Client user = client_from_string(got[0].api_key, srv.address());
  REQUIRE_OK(err, started(calls, [&] {
               return momento_auth_client_refresh_api_key_async(
                   user.get(), got[0].refresh_token.c_str(), nullptr, &Calls::on_done, &calls,
                   err.out());
             }));
  {
    Scope items;
    REQUIRE_OK(err, momento_scope_new(items.out(), err.out()));
    REQUIRE_OK(err, momento_scope_add_cache_items(items.get(), MOMENTO_CACHE_READ_ONLY, "cache",
                                                  MOMENTO_ITEMS_KEY, "key", 3, err.out()));
    Expires minutes = expires(MOMENTO_EXPIRES_MINUTES, 5);
    REQUIRE_OK(err, started(calls, [&] {
                 return momento_auth_client_generate_disposable_token_async(
                     admin.get(), items.get(), minutes.get(), "id-1", nullptr, &Calls::on_done,
                     &calls, err.out());
               }));
  }
  got = calls.wait(3);
  REQUIRE(got.size() == 3);
  for (const Outcome &o : got) {
    INFO(o.message);
    CHECK(o.status == MOMENTO_OK);
    CHECK_FALSE(o.api_key.empty());
    CHECK(o.thread != calls.starter);
  }
  CHECK(calls.inside_start == 0);

  // A failure after the start arrives as an owned error: the old refresh token is spent.
  Client user2 = client_from_string(got[1].api_key, srv.address());
  REQUIRE_OK(err, momento_auth_client_refresh_api_key_async(user2.get(), "not-a-refresh-token",
                                                            nullptr, &Calls::on_done, &calls,
                                                            err.out()));
  got = calls.wait(4);
  REQUIRE(got.size() == 4);
  CHECK(got[3].status != MOMENTO_OK);
  CHECK(got[3].grpc > 0);
  CHECK(got[3].message.find("RefreshApiToken") != std::string::npos);
  CHECK(got[3].message.find("not-a-refresh-token") == std::string::npos);
}

TEST_CASE("an async call is cancelled by its token, which may be freed meanwhile",
          "[capi][async][cancel]") {
  Server srv;
  SilentSocket silent;
  // A 60 s deadline: a cancel that did not work would end in TIMEOUT instead.
  Client hung = client_from_file(srv.bootstrap_file(), silent.address(), 60000);
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Calls calls;
  Err err;
  {
    CancelToken token;
    REQUIRE_OK(err, momento_cancel_token_new(token.out(), err.out()));
    REQUIRE_OK(err, momento_auth_client_generate_api_key_async(hung.get(), rw.get(), hour.get(),
                                                               token.get(), &Calls::on_done,
                                                               &calls, err.out()));
    REQUIRE(wait_for_connection(silent));
    REQUIRE_OK(err, momento_cancel_token_cancel(token.get(), err.out()));
  }  // freed while the cancelled call may still be completing
  auto got = calls.wait(1, 50);
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == MOMENTO_ERR_CANCELLED);
  CHECK(got[0].grpc == 1);
  CHECK(got[0].message.find("GenerateApiToken") != std::string::npos);

  // A token cancelled before the start: the call is started (MOMENTO_OK) and ends CANCELLED
  // through the callback, like every outcome after the start.
  CancelToken cancelled;
  REQUIRE_OK(err, momento_cancel_token_new(cancelled.out(), err.out()));
  REQUIRE_OK(err, momento_cancel_token_cancel(cancelled.get(), err.out()));
  Client real = client_from_file(srv.bootstrap_file(), srv.address());
  REQUIRE_OK(err, started(calls, [&] {
               return momento_auth_client_generate_api_key_async(
                   real.get(), rw.get(), hour.get(), cancelled.get(), &Calls::on_done, &calls,
                   err.out());
             }));
  got = calls.wait(2, 50);
  REQUIRE(got.size() == 2);
  CHECK(got[1].status == MOMENTO_ERR_CANCELLED);
  CHECK(calls.inside_start == 0);

  // With no token given, the starting thread's tied token applies.
  REQUIRE_OK(err, momento_cancel_token_reset(cancelled.get(), err.out()));
  REQUIRE_OK(err, momento_cancel_token_bind_thread(nullptr, cancelled.get(), err.out()));
  REQUIRE_OK(err, momento_auth_client_refresh_api_key_async(hung.get(), "tok", nullptr,
                                                            &Calls::on_done, &calls, err.out()));
  REQUIRE_OK(err, momento_cancel_token_bind_thread(nullptr, nullptr, err.out()));
  REQUIRE_OK(err, momento_cancel_token_cancel(cancelled.get(), err.out()));
  got = calls.wait(3, 50);
  REQUIRE(got.size() == 3);
  CHECK(got[2].status == MOMENTO_ERR_CANCELLED);
  // The client is still usable after its calls were cancelled.
  REQUIRE_OK(err, momento_auth_client_generate_api_key_async(real.get(), rw.get(), hour.get(),
                                                             nullptr, &Calls::on_done, &calls,
                                                             err.out()));
  got = calls.wait(4);
  REQUIRE(got.size() == 4);
  CHECK(got[3].status == MOMENTO_OK);
}

TEST_CASE("freeing the client with async calls in flight loses no callback",
          "[capi][async][free]") {
  Server srv;
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Calls calls;
  Err err;
  // Freed right after starting: every call still completes with its key.
  {
    Client client = client_from_file(srv.bootstrap_file(), srv.address());
    for (int i = 0; i < 8; ++i)
      REQUIRE_OK(err, momento_auth_client_generate_api_key_async(
                          client.get(), rw.get(), hour.get(), nullptr, &Calls::on_done, &calls,
                          err.out()));
  }
  auto got = calls.wait(8);
  REQUIRE(got.size() == 8);
  for (const Outcome &o : got) CHECK(o.status == MOMENTO_OK);

  // Freed with calls that cannot finish before their deadline: they end with TIMEOUT.
  SilentSocket silent;
  {
    Client hung = client_from_file(srv.bootstrap_file(), silent.address(), 1000);
    for (int i = 0; i < 3; ++i)
      REQUIRE_OK(err, momento_auth_client_refresh_api_key_async(
                          hung.get(), "tok", nullptr, &Calls::on_done, &calls, err.out()));
  }
  got = calls.wait(11);
  REQUIRE(got.size() == 11);
  for (size_t i = 8; i < 11; ++i) CHECK(got[i].status == MOMENTO_ERR_TIMEOUT);
}

namespace {
// Frees its client from the callback, then starts nothing more.
struct FreeInCallback {
  momento_auth_client_t *client = nullptr;
  Calls calls;
  static void on_done(momento_token_t *token, momento_error_t *error, void *user_data) {
    auto *self = static_cast<FreeInCallback *>(user_data);
    momento_auth_client_free(self->client);
    self->client = nullptr;
    Calls::on_done(token, error, &self->calls);
  }
};

// Chains calls: each callback starts the next one on the same client until `left` runs out.
struct Chain {
  momento_auth_client_t *client = nullptr;
  const momento_scope_t *scope = nullptr;
  const momento_expires_in_t *expires = nullptr;
  int left = 0;
  Calls calls;
  static void on_done(momento_token_t *token, momento_error_t *error, void *user_data) {
    auto *self = static_cast<Chain *>(user_data);
    if (--self->left > 0) {
      momento_status_t st = momento_auth_client_generate_api_key_async(
          self->client, self->scope, self->expires, nullptr, &Chain::on_done, self, nullptr);
      if (st != MOMENTO_OK) self->left = -100;
    }
    Calls::on_done(token, error, &self->calls);
  }
};
}  // namespace

TEST_CASE("an async callback may free the client and start further calls",
          "[capi][async][free]") {
  Server srv;
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Err err;
  {
    FreeInCallback f;
    Client c = client_from_file(srv.bootstrap_file(), srv.address());
    f.client = c.p;
    c.p = nullptr;  // the callback frees it
    REQUIRE_OK(err, momento_auth_client_generate_api_key_async(
                        f.client, rw.get(), hour.get(), nullptr, &FreeInCallback::on_done, &f,
                        err.out()));
    auto got = f.calls.wait(1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].status == MOMENTO_OK);
    CHECK(f.client == nullptr);
  }
  {
    Chain chain;
    Client c = client_from_file(srv.bootstrap_file(), srv.address());
    chain.client = c.get();
    chain.scope = rw.get();
    chain.expires = hour.get();
    chain.left = 5;
    REQUIRE_OK(err, momento_auth_client_generate_api_key_async(
                        c.get(), rw.get(), hour.get(), nullptr, &Chain::on_done, &chain,
                        err.out()));
    auto got = chain.calls.wait(5);
    REQUIRE(got.size() == 5);
    for (const Outcome &o : got) CHECK(o.status == MOMENTO_OK);
    CHECK(chain.left == 0);
  }
}

namespace {
using Queue = Owned<momento_completion_queue_t, momento_completion_queue_free>;

// Waits (bounded) for the queue's socket, reads its bytes and pops every outcome into `got`
// (id -> status), freeing them. Returns how many bytes were read.
int drain(int fd, Queue &q, std::vector<std::pair<uint64_t, momento_status_t>> &got) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 30000) != 1) return 0;
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf);
  uint64_t id = 0;
  momento_token_t *token = nullptr;
  momento_error_t *error = nullptr;
  while (momento_completion_queue_pop(q.get(), &id, &token, &error) == 1) {
    // Exactly one of the two is set.
    got.emplace_back(id, (token == nullptr) == (error == nullptr) ? momento_status_t(12345)
                         : error                                 ? momento_error_code(error)
                                                                 : MOMENTO_OK);
    momento_token_free(token);
    momento_error_free(error);
  }
  return static_cast<int>(n);
}
}  // namespace

TEST_CASE("queued calls deliver into a completion queue that wakes a socket",
          "[capi][async][queue]") {
  Server srv;
  Client admin = client_from_file(srv.bootstrap_file(), srv.address());
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Err err;
  Queue q;
  int32_t fd = -1;
  REQUIRE_OK(err, momento_completion_queue_new(q.out(), &fd, err.out()));
  REQUIRE(fd >= 0);
  CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
  uint64_t id = 0;
  momento_token_t *token = nullptr;
  momento_error_t *error = nullptr;
  CHECK(momento_completion_queue_pop(q.get(), &id, &token, &error) == 0);
  CHECK(momento_completion_queue_pop(nullptr, &id, &token, &error) == 0);

  // Bad arguments: nothing started, nothing queued.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_auth_client_refresh_api_key_queued(admin.get(), "tok", nullptr,
                                                              nullptr, 1, err.out()));
  CHECK(err.message().find("queue") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_auth_client_refresh_api_key_queued(admin.get(), "", nullptr, q.get(),
                                                              1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_completion_queue_new(nullptr, &fd, err.out()));

  // All three calls (and a failure) arrive under their ids.
  REQUIRE_OK(err, momento_auth_client_generate_api_key_queued(admin.get(), rw.get(), hour.get(),
                                                              nullptr, q.get(), 7, err.out()));
  {
    Scope items;
    REQUIRE_OK(err, momento_scope_new(items.out(), err.out()));
    REQUIRE_OK(err, momento_scope_add_cache_items(items.get(), MOMENTO_CACHE_READ_ONLY, "cache",
                                                  MOMENTO_ITEMS_KEY, "key", 3, err.out()));
    REQUIRE_OK(err, momento_auth_client_generate_disposable_token_queued(
                        admin.get(), items.get(), hour.get(), nullptr, nullptr, q.get(), 8,
                        err.out()));
  }
  REQUIRE_OK(err, momento_auth_client_refresh_api_key_queued(admin.get(), "not-a-refresh-token",
                                                             nullptr, q.get(), 1ULL << 40,
                                                             err.out()));
  std::vector<std::pair<uint64_t, momento_status_t>> got;
  for (int i = 0; i < 10 && got.size() < 3; ++i) CHECK(drain(fd, q, got) > 0);
  REQUIRE(got.size() == 3);
  std::sort(got.begin(), got.end());
  CHECK(got[0].first == 7);
  CHECK(got[0].second == MOMENTO_OK);
  CHECK(got[1].first == 8);
  CHECK(got[1].second == MOMENTO_OK);
  CHECK(got[2].first == (1ULL << 40));
  CHECK(got[2].second != MOMENTO_OK);

  // The reader closes its end with calls in flight: their outcomes are freed, none is queued.
  SilentSocket silent;
  {
    Client hung = client_from_file(srv.bootstrap_file(), silent.address(), 300);
    for (uint64_t i = 0; i < 3; ++i)
      REQUIRE_OK(err, momento_auth_client_refresh_api_key_queued(hung.get(), "tok", nullptr,
                                                                 q.get(), i, err.out()));
  }
  close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // their deadlines pass
  CHECK(momento_completion_queue_pop(q.get(), &id, &token, &error) == 0);

  // Freed with calls in flight (the client too): the library frees their outcomes.
  Queue q2;
  REQUIRE_OK(err, momento_completion_queue_new(q2.out(), &fd, err.out()));
  {
    Client hung = client_from_file(srv.bootstrap_file(), silent.address(), 300);
    for (uint64_t i = 0; i < 3; ++i)
      REQUIRE_OK(err, momento_auth_client_refresh_api_key_queued(hung.get(), "tok", nullptr,
                                                                 q2.get(), i, err.out()));
  }
  q2.out();  // frees the queue
  close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // their deadlines pass
}
