// Secrets are wiped before their memory is released. This program replaces the global operator
// new/delete: while a check is armed, every block handed back is searched for the secret's bytes
// before it is freed. A control case shows that an ordinary std::string holding the same text is
// caught, so the check cannot pass by not looking.
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <catch2/catch.hpp>

#include "momento/auth.h"
#include "momento/auth/credential.hpp"
#include "momento/auth/secret.hpp"
#include "util/encoding.hpp"

namespace {

constexpr int kMaxMarkers = 4;
const char* g_markers[kMaxMarkers];
size_t g_marker_len[kMaxMarkers];
std::atomic<int> g_count{0};
std::atomic<bool> g_armed{false};
std::atomic<int> g_hits{0};

void scan(void* p) noexcept {
  if (!p || !g_armed.load(std::memory_order_acquire)) return;
  size_t n = malloc_usable_size(p);
  for (int i = 0; i < g_count.load(); ++i)
    if (memmem(p, n, g_markers[i], g_marker_len[i])) g_hits.fetch_add(1);
}

// Arms the check for the markers (which the caller keeps alive) for its lifetime.
class Watch {
 public:
  Watch(std::initializer_list<std::string_view> markers) {
    int i = 0;
    for (auto m : markers) {
      g_markers[i] = m.data();
      g_marker_len[i] = m.size();
      ++i;
    }
    g_count = i;
    g_hits = 0;
    g_armed.store(true, std::memory_order_release);
  }
  ~Watch() { g_armed = false; }
  int hits() const { return g_hits.load(); }
};

// A JWT-shaped key whose signature segment is the marker (base64url, unique to this file).
const std::string kSig = "HygieneMarkerSignature0123456789abcdefghijKLM";
const std::string kKey = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJoeWdpZW5lIn0." + kSig;

}  // namespace

void* operator new(std::size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n ? n : 1); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n ? n : 1); }
void operator delete(void* p) noexcept { scan(p); std::free(p); }
void operator delete[](void* p) noexcept { scan(p); std::free(p); }
void operator delete(void* p, std::size_t) noexcept { scan(p); std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { scan(p); std::free(p); }

TEST_CASE("control: an ordinary string's bytes are seen when it is freed", "[hygiene][wipe]") {
  int hits;
  {
    Watch w{kSig};
    {
      std::string copy = kKey;
      asm volatile("" : : "g"(copy.data()) : "memory");  // the copy must really exist
    }
    hits = w.hits();
  }
  CHECK(hits == 1);
}

TEST_CASE("Secret wipes its buffer on destruction and on assignment", "[hygiene][wipe]") {
  int hits;
  {
    Watch w{kSig};
    { momento::auth::Secret s{std::string(kKey)}; }
    momento::auth::Secret t{std::string(kKey)};
    t = momento::auth::Secret(std::string("another value, long enough to be on the heap......"));
    std::string grown = kKey;
    grown.resize(8);  // shorter contents: wipe() still cleanses the whole capacity
    momento::auth::wipe(grown);
    hits = w.hits();
  }
  CHECK(hits == 0);
}

TEST_CASE("credentials wipe the key and envelope they hold", "[hygiene][wipe]") {
  using momento::auth::Credential;
  const std::string envelope = momento::auth::encode_envelope("cache.example.com", kKey);
  const std::string long_key = kKey + std::string(1500, 'A');  // the decoder's heap path
  const std::string long_envelope = momento::auth::encode_envelope("cache.example.com", long_key);
  int hits;
  {
    Watch w{kSig, envelope.substr(8, 40), long_envelope.substr(8, 40)};
    { Credential c = Credential::from_string(envelope); }
    { Credential c = Credential::from_string(long_envelope); }
    {
      Credential c = Credential::from_string(envelope);
      Credential copy = c;
      Credential moved = std::move(c);
    }
    hits = w.hits();
  }
  CHECK(hits == 0);
}

TEST_CASE("the C ABI's credential handles wipe on free", "[hygiene][wipe]") {
  const std::string envelope = momento::auth::encode_envelope("cache.example.com", kKey);
  int hits;
  {
    Watch w{kSig, envelope.substr(8, 40)};
    momento_credential_t* c = nullptr;
    momento_status_t st = momento_credential_from_string(&c, envelope.c_str(), nullptr, nullptr);
    momento_credential_free(c);
    hits = st == MOMENTO_OK ? w.hits() : -1;
  }
  CHECK(hits == 0);
}

TEST_CASE("token files wipe the key and refresh token they held", "[hygiene][wipe]") {
  const std::string refresh = "HygieneRefreshTokenMarker0123456789abcdefgh";
  const std::string envelope = momento::auth::encode_envelope("cache.example.com", kKey);
  const std::string json = "{\"authToken\":\"" + envelope + "\",\"refreshToken\":\"" + refresh +
                           "\",\"validUntil\":\"0\"}";
  int hits;
  {
    Watch w{envelope.substr(8, 40), refresh};
    { momento::auth::TokenFile t = momento::auth::parse_token_file_json(json); }
    hits = w.hits();
  }
  CHECK(hits == 0);
}
