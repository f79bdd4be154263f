// A bounded load test of the real momento-auth-server over real gRPC on loopback: worker threads
// mix valid callers (super-user and scoped keys, refresh chains) with expired, revoked, malformed
// and unauthenticated ones, wrong-permission calls and fault headers (from callers the server
// must not trust, and bounded delays from ones it does). It fails when a call gets a status its
// caller class does not allow, when a valid call is not served, when the server dies, or when its
// resident memory keeps growing after warm-up.
// Usage: momento_load_test [seconds=10] [threads=6]
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server_test_util.hpp"

using namespace momento::test;
using grpc::StatusCode;

namespace {

long rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

struct Tally {
  std::mutex mu;
  std::map<std::string, std::map<int, long>> seen;  // class -> status -> count
  std::vector<std::string> wrong;                   // the first few wrong answers
  std::atomic<long> calls{0};

  void record(const std::string& cls, const grpc::Status& st, std::set<StatusCode> allowed) {
    calls.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> g(mu);
    seen[cls][st.error_code()]++;
    if (!allowed.count(st.error_code()) && wrong.size() < 20)
      wrong.push_back(cls + ": status " + std::to_string(st.error_code()) + " (" + st.error_message() + ")");
  }
};

}  // namespace

int main(int argc, char** argv) {
  int seconds = argc > 1 ? std::atoi(argv[1]) : 10;
  int threads = argc > 2 ? std::atoi(argv[2]) : 6;
  if (seconds < 2 || seconds > 3600 || threads < 1 || threads > 8) {
    std::fprintf(stderr, "usage: momento_load_test [seconds 2..3600] [threads 1..8] (the server has 12 handler threads)\n");
    return 2;
  }

  // A small handler pool (12 threads: at most 3 delayed calls at a time) so the delay cap is hit
  // by the 4 delaying workers, with room left for the 6 workers' ordinary calls.
  ServerProcess server(std::vector<std::string>{"--enable-faults", "--threads", "12"});
  Stubs setup(server.address());
  const std::string su = server.bootstrap_raw_key();
  if (!setup.create_cache(su, "load").ok()) return std::fprintf(stderr, "cannot create the cache\n"), 1;
  auto rw = setup.generate(su, explicit_perms({cache_entry(permission_messages::CacheReadWrite, "load")}), 3600);
  auto ro = setup.generate(su, explicit_perms({cache_entry(permission_messages::CacheReadOnly, "load")}), 3600);
  auto expiring = setup.generate(su, all_data_read_write(), 1);
  auto revoked = setup.generate(su, all_data_read_write(), 3600);
  auto chain = setup.generate(su, all_data_read_write(), 3600);
  if (!rw.ok() || !ro.ok() || !expiring.ok() || !revoked.ok() || !chain.ok())
    return std::fprintf(stderr, "cannot mint the load keys\n"), 1;
  std::string out;
  if (server.admin({"revoke-key", key_id(revoked.api_key)}, &out) != 0)
    return std::fprintf(stderr, "cannot revoke a key\n"), 1;
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // the 1 s key is now expired
  const std::string bogus_jwt = rw.api_key.substr(0, rw.api_key.rfind('.') + 1) + "AAAA";
  const std::string huge(4000, 'k');

  Tally tally;
  std::atomic<bool> stop{false};
  std::mutex chain_mu;
  std::string chain_key = chain.api_key, chain_refresh = chain.refresh_token;
  using MD = std::multimap<std::string, std::string>;
  const MD evil_faults = {{"delay-ms", "600000"}, {"return-error", "internal"}};
  const MD short_delay = {{"delay-ms", "300"}};
  const MD injected_error = {{"return-error", "unavailable"}};

  auto worker = [&](int id) {
    Stubs s(server.address());
    for (long i = id; !stop.load(); ++i) {
      std::string item = "k" + std::to_string(i % 97);
      switch (i % 14) {
        case 0: tally.record("valid super-user get", s.get(su, "load", item), {StatusCode::OK}); break;
        case 1: tally.record("valid scoped set", s.set(rw.api_key, "load", item, "v"), {StatusCode::OK}); break;
        case 2: tally.record("valid scoped get", s.get(rw.api_key, "load", item), {StatusCode::OK}); break;
        case 3: tally.record("read-only key writes", s.set(ro.api_key, "load", item, "v"), {StatusCode::PERMISSION_DENIED}); break;
        case 4: tally.record("expired key", s.get(expiring.api_key, "load", item), {StatusCode::UNAUTHENTICATED}); break;
        case 5: tally.record("revoked key", s.get(revoked.api_key, "load", item), {StatusCode::UNAUTHENTICATED}); break;
        case 6: tally.record("malformed key", s.get(i % 2 ? "garbage" : bogus_jwt, "load", item), {StatusCode::UNAUTHENTICATED}); break;
        case 7: tally.record("oversized key", s.get(huge, "load", item), {StatusCode::UNAUTHENTICATED}); break;
        case 8: tally.record("no key", s.get("", "load", item), {StatusCode::UNAUTHENTICATED}); break;
        case 9:  // fault headers from a caller the server cannot authenticate: no delay, no fault
          tally.record("faults without a key", s.get("garbage", "load", item, nullptr, evil_faults), {StatusCode::UNAUTHENTICATED});
          tally.record("faults on ping without a key", s.ping(evil_faults), {StatusCode::OK, StatusCode::UNAUTHENTICATED});
          break;
        case 10:  // an authenticated caller asks for an error: that error
          tally.record("injected error", s.get(su, "load", item, nullptr, injected_error), {StatusCode::UNAVAILABLE});
          break;
        case 11:  // authenticated delays: served late, or refused when too many are in flight
          if (id < 4)
            tally.record("delayed", s.get(su, "load", item, nullptr, short_delay), {StatusCode::OK, StatusCode::RESOURCE_EXHAUSTED});
          else
            tally.record("valid super-user get", s.get(su, "load", item), {StatusCode::OK});
          break;
        case 12: {  // a refresh chain: each refresh succeeds and its new key works
          if (id != 1) {
            tally.record("valid scoped get", s.get(rw.api_key, "load", item), {StatusCode::OK});
            break;
          }
          std::lock_guard<std::mutex> g(chain_mu);
          Answer a = s.refresh(chain_key, chain_refresh);
          tally.record("refresh", a.status, {StatusCode::OK});
          if (a.ok()) {
            chain_key = a.api_key;
            chain_refresh = a.refresh_token;
            tally.record("refreshed key", s.get(chain_key, "load", item), {StatusCode::OK});
          }
          break;
        }
        default: tally.record("ping", s.ping(), {StatusCode::OK}); break;
      }
    }
  };

  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  // RSS after a warm-up of a fifth of the run, and at the end.
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(seconds * 200));
  long warm = rss_kb(server.pid()), peak = warm;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(seconds)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    peak = std::max(peak, rss_kb(server.pid()));
  }
  stop = true;
  for (auto& t : pool) t.join();
  long end = rss_kb(server.pid());
  bool alive = ::kill(server.pid(), 0) == 0 && end > 0;

  std::printf("%ld calls in %d s with %d threads; server RSS %ld kB after warm-up, %ld kB at the end, peak %ld kB\n",
              tally.calls.load(), seconds, threads, warm, end, peak);
  for (auto& [cls, by] : tally.seen) {
    std::printf("  %-30s", cls.c_str());
    for (auto& [code, n] : by) std::printf(" status %d x%ld", code, n);
    std::printf("\n");
  }
  int rc = 0;
  if (!alive) std::printf("FAIL: the server is gone\n"), rc = 1;
  for (auto& w : tally.wrong) std::printf("FAIL: wrong answer: %s\n", w.c_str()), rc = 1;
  for (const char* must : {"valid super-user get", "valid scoped get", "valid scoped set", "refresh"})
    if (!tally.seen.count(must) || tally.seen[must][0] == 0) std::printf("FAIL: no %s served\n", must), rc = 1;
  // Stable: growth after warm-up bounded by a quarter of the warm size plus 16 MB of allocator slack.
  if (alive && end > warm + warm / 4 + 16 * 1024)
    std::printf("FAIL: RSS grew from %ld kB to %ld kB\n", warm, end), rc = 1;
  std::printf(rc == 0 ? "load: ok\n" : "load: FAILED\n");
  return rc;
}
