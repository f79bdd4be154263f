// Catch2's main, plus one thing for the whole suite: with MOMENTO_TEST_LOG_DIR set (scripts/test
// sets it), a program linked with libmomento_auth sends the library's log, at DEBUG, to
// <dir>/lib-<program>-<pid>.log, for the final secret scan (tests/hygiene/scan_logs.py). Tests
// that install their own log callback replace this one.
#define CATCH_CONFIG_RUNNER
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

// Weak: programs over core alone do not have the C ABI, and then there is no library log.
extern "C" __attribute__((weak)) int32_t momento_log_set_callback(
    int32_t min_level, void (*fn)(int32_t, const char*, void*), void* user_data,
    void (*destroy)(void*), struct momento_error** err);

namespace {

std::string g_log_path;
std::mutex g_log_mu;
int g_log_fd = -1;

void write_log(int32_t level, const char* message, void*) {
  std::lock_guard<std::mutex> lock(g_log_mu);
  if (g_log_fd < 0) g_log_fd = ::open(g_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (g_log_fd < 0) return;
  std::string line = std::to_string(level) + " " + message + "\n";
  ssize_t n = ::write(g_log_fd, line.data(), line.size());
  (void)n;
}

void capture_library_log(const char* argv0) {
  const char* dir = std::getenv("MOMENTO_TEST_LOG_DIR");
  if (!dir || !*dir || !momento_log_set_callback) return;
  const char* base = std::strrchr(argv0, '/');
  g_log_path = std::string(dir) + "/lib-" + (base ? base + 1 : argv0) + "-" + std::to_string(::getpid()) + ".log";
  momento_log_set_callback(0 /* MOMENTO_LOG_DEBUG */, write_log, nullptr, nullptr, nullptr);
}

}  // namespace

int main(int argc, char* argv[]) {
  capture_library_log(argv[0]);
  return Catch::Session().run(argc, argv);
}
