#include "crypto.hpp"

#include <openssl/evp.h>
#include <openssl/opensslv.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/core_names.h>
#include <openssl/params.h>
#else
#include <openssl/hmac.h>
#endif

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "momento/auth/error.hpp"
#include "momento/auth/secret.hpp"

namespace momento::auth::detail {

namespace {
// OpenSSL frees its state in an exit handler. A library thread still hashing then (the fingerprint
// in a log line, as a process exits with calls in flight) would crash the exiting process. An
// exit handler of ours, registered once OpenSSL has registered its own and so run before it,
// refuses new digests and waits for the running ones (each takes microseconds).
std::atomic<int> digests_running{0};
std::atomic<bool> process_exiting{false};

// A forked child has only the forking thread: digests other threads were running at the fork
// never finish there, and the exit handler must not wait for them.
[[maybe_unused]] const int forget_digests_in_child =
    ::pthread_atfork(nullptr, nullptr, [] { digests_running = 0; });

void stop_digests_at_exit() {
  process_exiting = true;
  while (digests_running.load() != 0) std::this_thread::yield();
}

class DigestUse {
 public:
  explicit DigestUse(const char* what) {
    ++digests_running;
    if (process_exiting) {
      --digests_running;
      throw Error(ErrorCode::Unknown, std::string(what) + " is unavailable: the process is exiting");
    }
  }
  ~DigestUse() {
    static std::once_flag registered;  // after the first digest OpenSSL's handler is in place
    std::call_once(registered, [] { std::atexit(stop_digests_at_exit); });
    --digests_running;
  }
  DigestUse(const DigestUse&) = delete;
  DigestUse& operator=(const DigestUse&) = delete;
};
}  // namespace

std::string sha256(std::string_view data) {
  DigestUse use("SHA-256");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw Error(ErrorCode::Unknown, "SHA-256 failed");
  return std::string(reinterpret_cast<char*>(md), len);
}

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
namespace {
struct MacFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
// A keyless HMAC-SHA256 context per thread, duplicated for each MAC: saves fetching the MAC and
// the digest from the provider on every call (the one-shot HMAC() does both; the server signs
// and verifies a key on every call), and no key stays behind in it.
EVP_MAC_CTX* hmac_template() {
  thread_local std::unique_ptr<EVP_MAC_CTX, MacFree> tmpl = [] {
    std::unique_ptr<EVP_MAC_CTX, MacFree> c;
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!mac) return c;
    c.reset(EVP_MAC_CTX_new(mac));
    EVP_MAC_free(mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (c && EVP_MAC_CTX_set_params(c.get(), params) != 1) c.reset();
    return c;
  }();
  return tmpl.get();
}
}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  DigestUse use("HMAC-SHA256");
  EVP_MAC_CTX* tmpl = hmac_template();
  std::unique_ptr<EVP_MAC_CTX, MacFree> ctx(tmpl ? EVP_MAC_CTX_dup(tmpl) : nullptr);
  std::string out(EVP_MAX_MD_SIZE, '\0');
  size_t len = 0;
  if (!ctx ||
      EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   nullptr) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1)
    throw Error(ErrorCode::Unknown, "HMAC-SHA256 failed");
  out.resize(len);
  return out;
}
#else
// OpenSSL 1.1 (Debian 11, where the manylinux_2_31 wheels are built: docs/wheels.md) has no
// EVP_MAC: the one-shot HMAC() there.
std::string hmac_sha256(std::string_view key, std::string_view data) {
  DigestUse use("HMAC-SHA256");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (key.size() > static_cast<size_t>(INT_MAX) ||
      !HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len))
    throw Error(ErrorCode::Unknown, "HMAC-SHA256 failed");
  return std::string(reinterpret_cast<char*>(md), len);
}
#endif

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

void append_wiped(std::string& buffer, std::string_view more) {
  if (buffer.size() + more.size() > buffer.capacity()) {
    std::string bigger;
    bigger.reserve(std::max(2 * buffer.capacity(), buffer.size() + more.size()));
    bigger.append(buffer);
    wipe(buffer);
    buffer.swap(bigger);
  }
  buffer.append(more);
}

}  // namespace momento::auth::detail
