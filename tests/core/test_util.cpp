// The shared helpers of core/src/util: hashing, MACs, hex, UTF-8 counting, canonical base64url,
// trimming and the gRPC tracing check.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "util/crypto.hpp"
#include "util/encoding.hpp"
#include "util/tracing.hpp"

using namespace momento::auth::detail;

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

TEST_CASE("sha256, hmac_sha256 and hex match published vectors", "[util]") {
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  CHECK(hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Several calls on one thread reuse the per-thread template without carrying a key over.
  CHECK(hmac_sha256("a", "x") == hmac_sha256("a", "x"));
  CHECK(hmac_sha256("a", "x") != hmac_sha256("b", "x"));
  CHECK(hex(std::string("\x00\xff\x10", 3)) == "00ff10");
}

TEST_CASE("a process exiting while another thread hashes exits cleanly", "[util]") {
  // OpenSSL frees its state in an exit handler; a thread still hashing then (a log line's
  // fingerprint during exit) must get an error, not crash the process.
  std::fflush(nullptr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::atomic<int> hashing{0};
    for (int t = 0; t < 4; ++t)
      std::thread([&hashing] {
        for (bool first = true;; first = false) {
          try {
            momento::auth::detail::sha256("a secret whose fingerprint is logged");
            momento::auth::detail::hmac_sha256("key", "data");
          } catch (...) {
          }
          if (first) ++hashing;
        }
      }).detach();
    while (hashing < 4) std::this_thread::yield();
    std::exit(7);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO("wait status " << status);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 7);
}

TEST_CASE("a child forked while other threads hash exits without waiting for them", "[util]") {
  // The exit handler above waits for running digests; those of threads that do not exist in a
  // forked child must not count there.
#ifdef UNDER_ASAN
  // The sanitizer's allocator (clang 14, gcc 12) takes no lock around fork(): a child forked
  // while a hashing thread holds it hangs in free() on its way out, in OpenSSL's exit handler,
  // before the code under test runs. The dev build runs this test.
  WARN("not run under AddressSanitizer");
  return;
#endif
  std::fflush(nullptr);
  const pid_t parent = ::fork();
  REQUIRE(parent >= 0);
  if (parent == 0) {
    std::atomic<bool> started{false};
    for (int t = 0; t < 4; ++t)
      std::thread([&started] {
        for (;;) {
          momento::auth::detail::sha256("a secret whose fingerprint is logged");
          started = true;
        }
      }).detach();
    while (!started) std::this_thread::yield();
    for (int i = 0; i < 50; ++i) {
      const pid_t child = ::fork();
      if (child == 0) {
        ::alarm(10);  // a hang ends as SIGALRM instead of blocking the test
        std::exit(5);
      }
      int status = 0;
      if (child < 0 || ::waitpid(child, &status, 0) != child) ::_exit(90);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 5) ::_exit(100 + i);
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(parent, &status, 0) == parent);
  INFO("wait status " << status << " (100 + n: the n-th forked child did not exit with 5)");
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

TEST_CASE("utf8_code_points counts well-formed UTF-8 only", "[util]") {
  CHECK(utf8_code_points("") == 0u);
  CHECK(utf8_code_points("abcdefghijklmnopq") == 17u);  // the 8-byte ASCII path and the tail
  CHECK(utf8_code_points("abcdefgh\xc3\xa9") == 9u);
  CHECK(utf8_code_points("\xc3\xa9t\xc3\xa9") == 3u);
  CHECK(utf8_code_points("\xf0\x9f\x98\x80") == 1u);
  CHECK_FALSE(utf8_code_points("\xff"));
  CHECK_FALSE(utf8_code_points("\xc0\xaf"));          // overlong: the old token_id counter took it
  CHECK_FALSE(utf8_code_points("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(utf8_code_points("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(utf8_code_points("\xc3"));
}

TEST_CASE("base64url_decode_canonical refuses stray bits", "[util]") {
  CHECK(base64url_decode_canonical("Zg").value() == "f");
  CHECK(base64url_decode_canonical("Zg==").value() == "f");
  CHECK_FALSE(base64url_decode_canonical("Zh"));
  CHECK(base64url_decode("Zh").value() == "f");  // the lenient decoder keeps its behaviour
  CHECK_FALSE(base64url_decode_canonical("a+b/"));
}

TEST_CASE("trim_ascii_whitespace", "[util]") {
  CHECK(trim_ascii_whitespace(" \t\r\nab c\n ") == "ab c");
  CHECK(trim_ascii_whitespace(" \n").empty());
  CHECK(trim_ascii_whitespace("\fx\v") == "\fx\v");  // form feed and vertical tab are kept
  static_assert(trim_ascii_whitespace("  x ") == "x");
}

namespace {
struct Env {
  const char* name;
  std::string old;
  bool had;
  Env(const char* n, const char* v) : name(n), had(std::getenv(n) != nullptr) {
    if (had) old = std::getenv(n);
    if (v) ::setenv(n, v, 1);
    else ::unsetenv(n);
  }
  ~Env() {
    if (had) ::setenv(name, old.c_str(), 1);
    else ::unsetenv(name);
  }
};
}  // namespace

TEST_CASE("grpc_tracing_warning names what turns tracing on", "[util]") {
  {
    Env t("GRPC_TRACE", nullptr), v("GRPC_VERBOSITY", nullptr);
    CHECK_FALSE(grpc_tracing_warning());
  }
  {
    Env t("GRPC_TRACE", "-all, none"), v("GRPC_VERBOSITY", "error");
    CHECK_FALSE(grpc_tracing_warning());
  }
  {
    Env t("GRPC_TRACE", "http,api"), v("GRPC_VERBOSITY", nullptr);
    auto w = grpc_tracing_warning();
    REQUIRE(w);
    CHECK(w->find("GRPC_TRACE") != std::string::npos);
    CHECK(w->find("API keys") != std::string::npos);
  }
  {
    Env t("GRPC_TRACE", ""), v("GRPC_VERBOSITY", "DEBUG");
    auto w = grpc_tracing_warning();
    REQUIRE(w);
    CHECK(w->find("GRPC_VERBOSITY=debug") != std::string::npos);
  }
}
