// C ABI, error/version/logging module.
#include <atomic>
#include <chrono>
#include <thread>
#include <mutex>
#include <string>
#include <vector>

#include "capi_test_util.hpp"

using namespace capi_test;

TEST_CASE("every status code has its canonical name", "[capi][error]") {
  struct Row { momento_status_t st; const char *name; };
  const Row rows[] = {
      {MOMENTO_OK, "OK"},
      {MOMENTO_ERR_INVALID_ARGUMENT, "INVALID_ARGUMENT_ERROR"},
      {MOMENTO_ERR_AUTHENTICATION, "AUTHENTICATION_ERROR"},
      {MOMENTO_ERR_PERMISSION, "PERMISSION_ERROR"},
      {MOMENTO_ERR_NOT_FOUND, "NOT_FOUND_ERROR"},
      {MOMENTO_ERR_ALREADY_EXISTS, "ALREADY_EXISTS_ERROR"},
      {MOMENTO_ERR_LIMIT_EXCEEDED, "LIMIT_EXCEEDED_ERROR"},
      {MOMENTO_ERR_FAILED_PRECONDITION, "FAILED_PRECONDITION_ERROR"},
      {MOMENTO_ERR_CANCELLED, "CANCELLED_ERROR"},
      {MOMENTO_ERR_TIMEOUT, "TIMEOUT_ERROR"},
      {MOMENTO_ERR_SERVER_UNAVAILABLE, "SERVER_UNAVAILABLE"},
      {MOMENTO_ERR_INTERNAL_SERVER, "INTERNAL_SERVER_ERROR"},
      {MOMENTO_ERR_UNKNOWN_SERVICE, "UNKNOWN_SERVICE_ERROR"},
      {MOMENTO_ERR_BAD_REQUEST, "BAD_REQUEST_ERROR"},
      {MOMENTO_ERR_CONNECTION, "CONNECTION_ERROR"},
      {MOMENTO_ERR_CLIENT_RESOURCE_EXHAUSTED, "CLIENT_RESOURCE_EXHAUSTED"},
      {MOMENTO_ERR_UNKNOWN, "UNKNOWN_ERROR"},
  };
  for (const Row &r : rows) {
    INFO(r.st);
    CHECK(std::string(momento_status_str(r.st)) == r.name);
  }
  for (momento_status_t bad : {1, -17, 100, INT32_MIN, INT32_MAX})
    CHECK(std::string(momento_status_str(bad)) == "UNRECOGNIZED_STATUS");
}

TEST_CASE("error objects: contents, NULL handling, err == NULL", "[capi][error][validation]") {
  Err err;
  momento_expires_in_t *out = nullptr;
  CHECK(momento_expires_in_new(&out, MOMENTO_EXPIRES_SECONDS, -5, err.out()) ==
        MOMENTO_ERR_INVALID_ARGUMENT);
  REQUIRE(err.p != nullptr);
  CHECK(err.code() == MOMENTO_ERR_INVALID_ARGUMENT);
  CHECK_FALSE(err.message().empty());
  CHECK(err.grpc() == -1);
  CHECK_FALSE(err.retryable());

  // Without an error object the status alone comes back.
  CHECK(momento_expires_in_new(&out, MOMENTO_EXPIRES_SECONDS, -5, nullptr) ==
        MOMENTO_ERR_INVALID_ARGUMENT);
  CHECK(out == nullptr);

  // Success leaves *err alone.
  momento_error_t *untouched = reinterpret_cast<momento_error_t *>(0x1);
  REQUIRE(momento_expires_in_new(&out, MOMENTO_EXPIRES_SECONDS, 5, &untouched) == MOMENTO_OK);
  CHECK(untouched == reinterpret_cast<momento_error_t *>(0x1));
  momento_expires_in_free(out);

  CHECK(momento_error_code(nullptr) == MOMENTO_ERR_INVALID_ARGUMENT);
  CHECK(std::string(momento_error_message(nullptr)).empty());
  CHECK(momento_error_grpc_status(nullptr) == -1);
  CHECK(momento_error_retryable(nullptr) == 0);
  momento_error_free(nullptr);
  momento_free(nullptr);
}

TEST_CASE("versions: compile time equals run time", "[capi][version]") {
  CHECK(std::string(momento_version_string()) == MOMENTO_AUTH_VERSION_STRING);
  CHECK(momento_version_number() == MOMENTO_AUTH_VERSION_NUMBER);
  CHECK(momento_version_number() == MOMENTO_AUTH_VERSION_MAJOR * 10000u +
                                        MOMENTO_AUTH_VERSION_MINOR * 100u +
                                        MOMENTO_AUTH_VERSION_PATCH);
  CHECK(momento_abi_version() == MOMENTO_AUTH_ABI_VERSION);
}

namespace {

struct LogSink {
  std::mutex mu;
  std::vector<std::pair<int32_t, std::string>> lines;
  std::atomic<int> destroyed{0};
  std::atomic<int> reentry_status{1};
  bool try_reentry = false;
};

void collect(int32_t level, const char *msg, void *ud) {
  auto *s = static_cast<LogSink *>(ud);
  if (s->try_reentry) {
    s->reentry_status = momento_log_set_callback(MOMENTO_LOG_DEBUG, nullptr, nullptr, nullptr,
                                                 nullptr);
  }
  std::lock_guard lock(s->mu);
  s->lines.emplace_back(level, msg);
}

void destroy_sink(void *ud) { ++static_cast<LogSink *>(ud)->destroyed; }

}  // namespace

TEST_CASE("log level names go both ways", "[capi][log]") {
  for (int32_t level = MOMENTO_LOG_DEBUG; level <= MOMENTO_LOG_ERROR; ++level) {
    const char *name = momento_log_level_str(level);
    REQUIRE(name != nullptr);
    CHECK(momento_log_level_from_str(name) == level);
  }
  CHECK(std::string(momento_log_level_str(MOMENTO_LOG_WARN)) == "warn");
  for (int32_t bad : {-1, 4}) CHECK(momento_log_level_str(bad) == nullptr);
  for (const char *bad : {"", "WARN", "warning", "debug ", static_cast<const char *>(nullptr)})
    CHECK(momento_log_level_from_str(bad) == -1);
}

TEST_CASE("log callback: levels, replacement, destroy notifier, no secrets",
          "[capi][log]") {
  Err err;
  LogSink a, b;
  SECTION("validation") {
    for (int32_t level : {-1, 4, 100})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_log_set_callback(level, collect, &a, destroy_sink, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_log_set_callback(MOMENTO_LOG_DEBUG, nullptr, &a, destroy_sink,
                                              err.out()));
    CHECK(a.destroyed == 0);  // a failed registration does not take ownership
  }
  SECTION("messages arrive, secrets do not; replacing runs the destroy notifier once") {
    REQUIRE_OK(err, momento_log_set_callback(MOMENTO_LOG_DEBUG, collect, &a, destroy_sink,
                                             err.out()));
    const std::string secret_key = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzb21lb25lIn0.c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ";
    momento_credential_t *c = nullptr;
    Override ov;
    REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), "127.0.0.1:1", 0, err.out()));
    REQUIRE_OK(err, momento_credential_from_string(&c, secret_key.c_str(), ov.get(), err.out()));
    momento_credential_free(c);
    // A failing parse logs at debug level too.
    momento_credential_from_string(&c, "not a credential", nullptr, nullptr);
    {
      std::lock_guard lock(a.mu);
      REQUIRE_FALSE(a.lines.empty());
      for (auto &[level, line] : a.lines) {
        CHECK(level >= MOMENTO_LOG_DEBUG);
        CHECK(level <= MOMENTO_LOG_ERROR);
        CHECK(line.find(secret_key) == std::string::npos);
        CHECK(line.find("c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ") == std::string::npos);
      }
    }
    CHECK(a.destroyed == 0);
    // Replace with a WARN-only sink: debug messages stop, and `a` is destroyed exactly once.
    REQUIRE_OK(err, momento_log_set_callback(MOMENTO_LOG_WARN, collect, &b, destroy_sink,
                                             err.out()));
    CHECK(a.destroyed == 1);
    size_t a_count = a.lines.size();
    momento_credential_from_string(&c, "not a credential", nullptr, nullptr);
    CHECK(a.lines.size() == a_count);
    CHECK(b.lines.empty());
    REQUIRE_OK(err, momento_log_set_callback(MOMENTO_LOG_DEBUG, nullptr, nullptr, nullptr,
                                             err.out()));
    CHECK(b.destroyed == 1);
    CHECK(a.destroyed == 1);
  }
  SECTION("re-registering from inside the callback is refused") {
    a.try_reentry = true;
    REQUIRE_OK(err, momento_log_set_callback(MOMENTO_LOG_DEBUG, collect, &a, destroy_sink,
                                             err.out()));
    momento_credential_t *c = nullptr;
    momento_credential_from_string(&c, "not a credential", nullptr, nullptr);
    CHECK(a.reentry_status == MOMENTO_ERR_FAILED_PRECONDITION);
    REQUIRE_OK(err, momento_log_set_callback(MOMENTO_LOG_DEBUG, nullptr, nullptr, nullptr,
                                             err.out()));
    CHECK(a.destroyed == 1);
  }
}

namespace {
struct CountingSink {
  std::atomic<int> calls{0};
  std::atomic<int> destroyed{0};
  std::atomic<bool> retired{false};
  std::atomic<int> calls_after_retired{0};
};
void count_call(int32_t, const char *, void *ud) {
  auto *s = static_cast<CountingSink *>(ud);
  ++s->calls;
  if (s->retired) ++s->calls_after_retired;
}
void count_destroy(void *ud) { ++static_cast<CountingSink *>(ud)->destroyed; }
}  // namespace

TEST_CASE("log callback replaced while 8 threads log", "[capi][log][threads]") {
  constexpr int kSinks = 6;
  CountingSink sinks[kSinks];
  std::atomic<bool> stop{false};
  std::vector<std::thread> loggers;
  for (int i = 0; i < 8; ++i) {
    loggers.emplace_back([&] {
      for (int n = 0; n < 20000 && !stop; ++n) {  // bounded
        momento_credential_t *c = nullptr;
        momento_credential_from_string(&c, "not a credential", nullptr, nullptr);
      }
    });
  }
  Err err;
  for (int i = 0; i < kSinks; ++i) {
    REQUIRE_OK(err, momento_log_set_callback(MOMENTO_LOG_DEBUG, count_call, &sinks[i],
                                             count_destroy, err.out()));
    // Give the loggers time to reach the new sink (bounded wait).
    for (int spin = 0; spin < 2000 && sinks[i].calls == 0; ++spin)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (i > 0) {
      // The previous sink was retired by the call above: destroyed once, never called again.
      CHECK(sinks[i - 1].destroyed == 1);
      sinks[i - 1].retired = true;
    }
  }
  REQUIRE_OK(err, momento_log_set_callback(MOMENTO_LOG_DEBUG, nullptr, nullptr, nullptr,
                                           err.out()));
  sinks[kSinks - 1].retired = true;
  stop = true;
  for (auto &t : loggers) t.join();
  for (auto &s : sinks) {
    CHECK(s.destroyed == 1);
    CHECK(s.calls_after_retired == 0);
  }
  CHECK(sinks[0].calls > 0);
}

namespace {
using LogQueue = Owned<momento_completion_queue_t, momento_completion_queue_free>;

struct Record {
  uint64_t id;
  int32_t level;
  std::string message;
};

// Everything in the queue now (records freed), after emptying its socket.
std::vector<Record> take_records(int fd, momento_completion_queue_t *q) {
  char buf[64];
  while (read(fd, buf, sizeof buf) > 0) {
  }
  std::vector<Record> got;
  uint64_t id = 0;
  void *value = nullptr;
  momento_error_t *error = nullptr;
  while (momento_completion_queue_pop_value(q, &id, &value, &error) == 1) {
    CHECK(error == nullptr);
    auto *r = static_cast<momento_log_record_t *>(value);
    got.push_back({id, momento_log_record_level(r), momento_log_record_message(r)});
    momento_log_record_free(r);
  }
  return got;
}

void log_a_failed_parse() {
  momento_credential_t *c = nullptr;
  momento_credential_from_string(&c, "not a credential", nullptr, nullptr);
}
}  // namespace

TEST_CASE("log queue: records go into a completion queue until replaced, removed or the queue is freed",
          "[capi][log][queue]") {
  Err err;
  LogQueue q;
  int32_t fd = -1;
  REQUIRE_OK(err, momento_completion_queue_new(q.out(), &fd, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_log_set_queue(MOMENTO_LOG_DEBUG, nullptr, 1, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_log_set_queue(9, q.get(), 1, err.out()));
  CHECK(momento_log_record_level(nullptr) == MOMENTO_LOG_DEBUG);
  CHECK(std::string(momento_log_record_message(nullptr)).empty());
  momento_log_record_free(nullptr);

  // Records arrive under the id, at their level, as redacted as the callback's messages.
  REQUIRE_OK(err, momento_log_set_queue(MOMENTO_LOG_DEBUG, q.get(), 7, err.out()));
  const std::string secret_key = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzb21lb25lIn0.c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ";
  momento_credential_t *c = nullptr;
  momento_credential_from_string(&c, secret_key.c_str(), nullptr, nullptr);
  momento_credential_free(c);
  log_a_failed_parse();
  std::vector<Record> got = take_records(fd, q.get());
  REQUIRE_FALSE(got.empty());
  for (const Record &r : got) {
    CHECK(r.id == 7);
    CHECK(r.level >= MOMENTO_LOG_DEBUG);
    CHECK(r.level <= MOMENTO_LOG_ERROR);
    CHECK_FALSE(r.message.empty());
    CHECK(r.message.find("c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ") == std::string::npos);
  }

  // Replaced by a WARN-only queue: the debug message is not made at all.
  REQUIRE_OK(err, momento_log_set_queue(MOMENTO_LOG_WARN, q.get(), 8, err.out()));
  log_a_failed_parse();
  CHECK(take_records(fd, q.get()).empty());

  // A callback replaces the queue, and the queue replaces the callback (its notifier runs).
  LogSink a;
  REQUIRE_OK(err, momento_log_set_queue(MOMENTO_LOG_DEBUG, q.get(), 9, err.out()));
  REQUIRE_OK(err, momento_log_set_callback(MOMENTO_LOG_DEBUG, collect, &a, destroy_sink, err.out()));
  log_a_failed_parse();
  CHECK(take_records(fd, q.get()).empty());
  CHECK_FALSE(a.lines.empty());
  REQUIRE_OK(err, momento_log_set_queue(MOMENTO_LOG_DEBUG, q.get(), 10, err.out()));
  CHECK(a.destroyed == 1);
  log_a_failed_parse();
  got = take_records(fd, q.get());
  REQUIRE_FALSE(got.empty());
  CHECK(got.front().id == 10);

  // Removed: nothing more is queued.
  REQUIRE_OK(err, momento_log_set_callback(MOMENTO_LOG_DEBUG, nullptr, nullptr, nullptr, err.out()));
  log_a_failed_parse();
  CHECK(take_records(fd, q.get()).empty());

  // Freeing the queue removes its sink, which held the last reference: the queue is gone with
  // its end of the socket (end of file here), and the next message goes nowhere.
  REQUIRE_OK(err, momento_log_set_queue(MOMENTO_LOG_DEBUG, q.get(), 11, err.out()));
  momento_completion_queue_free(q.p);
  q.p = nullptr;
  log_a_failed_parse();
  char byte = 0;
  CHECK(read(fd, &byte, 1) == 0);
  close(fd);
}

TEST_CASE("log queue replaced while 4 threads log: nothing under the old id once it returns",
          "[capi][log][queue][threads]") {
  Err err;
  LogQueue q;
  int32_t fd = -1;
  REQUIRE_OK(err, momento_completion_queue_new(q.out(), &fd, err.out()));
  REQUIRE_OK(err, momento_log_set_queue(MOMENTO_LOG_DEBUG, q.get(), 1, err.out()));
  std::atomic<bool> stop{false};
  std::vector<std::thread> loggers;
  for (int i = 0; i < 4; ++i) {
    loggers.emplace_back([&] {
      for (int n = 0; n < 20000 && !stop; ++n) log_a_failed_parse();  // bounded
    });
  }
  size_t old_records = 0;
  for (int spin = 0; spin < 2000 && old_records == 0; ++spin) {
    old_records += take_records(fd, q.get()).size();
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  REQUIRE_OK(err, momento_log_set_queue(MOMENTO_LOG_DEBUG, q.get(), 2, err.out()));
  take_records(fd, q.get());  // may still hold both ids
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::vector<Record> after = take_records(fd, q.get());
  REQUIRE_OK(err, momento_log_set_callback(MOMENTO_LOG_DEBUG, nullptr, nullptr, nullptr, err.out()));
  stop = true;
  for (auto &t : loggers) t.join();
  CHECK(old_records > 0);
  for (const Record &r : after) CHECK(r.id == 2);
  close(fd);
}
