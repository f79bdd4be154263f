// Included once by each wipe test program: it replaces the global operator new/delete so that,
// while a Watch is armed, every block handed back is searched for the secret's bytes before it is
// freed. Each program has a control case showing that an ordinary std::string holding the same
// text is caught, so the check cannot pass by not looking.
#pragma once
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>


namespace {

constexpr int kMaxMarkers = 4;
const char* g_markers[kMaxMarkers];
size_t g_marker_len[kMaxMarkers];
std::atomic<int> g_count{0};
std::atomic<bool> g_armed{false};
std::atomic<int> g_hits{0};
// Set while a Watch looks at one thread only (an in-process peer's threads hold the secret too).
std::atomic<bool> g_one_thread{false};
thread_local bool t_watched = false;

void scan(void* p) noexcept {
  if (!p || !g_armed.load(std::memory_order_acquire)) return;
  if (g_one_thread.load(std::memory_order_relaxed) && !t_watched) return;
  size_t n = malloc_usable_size(p);
  for (int i = 0; i < g_count.load(); ++i)
    if (memmem(p, n, g_markers[i], g_marker_len[i])) g_hits.fetch_add(1);
}

// Arms the check for the markers (which the caller keeps alive) for its lifetime.
class Watch {
 public:
  // The markers must outlive the Watch.
  // this_thread_only: blocks freed by other threads are not searched (a test's HTTP peer, whose
  // own buffers hold what it sends; the library's call runs on the test's thread).
  Watch(std::initializer_list<std::string_view> markers, bool this_thread_only = false) {
    int i = 0;
    for (auto m : markers) {
      g_markers[i] = m.data();
      g_marker_len[i] = m.size();
      ++i;
    }
    g_count = i;
    g_hits = 0;
    t_watched = true;
    g_one_thread = this_thread_only;
    g_armed.store(true, std::memory_order_release);
  }
  ~Watch() {
    g_armed = false;
    g_one_thread = false;
    t_watched = false;
  }
  int hits() const { return g_hits.load(); }
};

// A JWT-shaped key whose signature segment is the marker (base64url, unique to this file).
const std::string kSig = "HygieneMarkerSignature0123456789abcdefghijKLM";
const std::string kKey = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJoeWdpZW5lIn0." + kSig;

// An ordinary string freed while armed must be seen (the control case of each program).
inline int control_hits() {
  Watch w{kSig};
  {
    std::string copy = kKey;
    asm volatile("" : : "g"(copy.data()) : "memory");  // the copy must really exist
  }
  return w.hits();
}

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

