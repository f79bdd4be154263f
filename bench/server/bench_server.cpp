// Server throughput benchmark: momento-auth-server against a bare gRPC
// echo server, measured side by side in one run.
//
// This process starts both servers as child processes on loopback (same --threads), prepares
// the subject (a cache with one item, a key scoped to that cache, one refresh chain per
// in-flight slot, each from GenerateApiToken with an expiry) and then drives phases with an
// asynchronous gRPC client: a fixed number of calls in flight, each completion immediately
// replaced, until the phase time is up or the request cap is reached. Each phase starts with
// an unrecorded warm-up. Every subject phase is paired with an echo phase right next to it; the
// order alternates between rounds (echo first, then subject first, ...) so slow drift of the
// machine hits both sides alike. The ratio of a pair is subject rps / echo rps.
//
// Workloads:
//   get       /cache_client.Scs/Get with `authorization` (key scoped to cache "bench") and
//             `cache` headers; the item is present and every answer must be a Hit.
//   refresh   /auth.Auth/RefreshApiToken; every slot owns a chain (key, refresh token) and
//             sends the successor pair it got back, so every call is a real rotation with a
//             committed transaction (no grace replays).
//   generate  /auth.Auth/GenerateApiToken by the SuperUser key: an explicit key with an
//             expiry (a new family, refresh token and key row per call).
//   echo      /bench.Echo/Echo on the baseline server with a payload of the Get request's size.
//
// Usage: momento_bench_server [--seconds S] [--warmup S] [--rounds N] [--inflight N]
//          [--client-threads N] [--max-requests N] [--threads N]
//          [--workloads get,refresh,generate] [--server-arg ARG]... [--subject-bin PATH]
// Columns: srv us / cli us = CPU time per successful call of the server / this process;
// srv cpu / cli cpu / others = CPU use during the phase (100% = one core) of the server, this
// process and everything else on the machine (others > 0 means the figures are disturbed).
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth.pb.h"
#include "cacheclient.pb.h"
#include "controlclient.pb.h"
#include "permissionmessages.pb.h"
#include "server_process.hpp"

#ifndef MOMENTO_ECHO_BIN
#define MOMENTO_ECHO_BIN "momento_bench_echo_server"
#endif

using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  double seconds = 5.0;
  double warmup = 1.0;
  int rounds = 3;
  int inflight = 16;
  int client_threads = 1;
  long max_requests = 2'000'000;
  int threads = 64;
  std::vector<std::string> workloads = {"get", "refresh", "generate"};
  std::vector<std::string> server_args;
  std::string subject_bin = MOMENTO_SERVER_BIN;
};

[[noreturn]] void die(const std::string& m) {
  std::fprintf(stderr, "momento_bench_server: %s\n", m.c_str());
  std::exit(1);
}

template <class M>
grpc::ByteBuffer to_buffer(const M& msg) {
  grpc::ByteBuffer bb;
  bool own = false;
  if (!grpc::SerializationTraits<M>::Serialize(msg, &bb, &own).ok()) die("serialize failed");
  return bb;
}

template <class M>
bool from_buffer(grpc::ByteBuffer& bb, M* msg) {
  return grpc::SerializationTraits<M>::Deserialize(&bb, msg).ok();
}

// One channel per client thread, each on its own TCP connection.
std::shared_ptr<grpc::Channel> make_channel(const std::string& addr, int id) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("momento.bench.channel", id);  // distinct args: no shared subchannel
  return grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
}

// A blocking unary call for the set-up steps.
template <class Req, class Resp>
Resp call(grpc::Channel& ch, const std::string& method, const Req& req,
          const std::map<std::string, std::string>& md = {}) {
  grpc::GenericStub stub(std::shared_ptr<grpc::Channel>(&ch, [](grpc::Channel*) {}));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  for (const auto& [k, v] : md) ctx.AddMetadata(k, v);
  grpc::CompletionQueue cq;
  grpc::ByteBuffer out;
  grpc::Status st;
  auto r = stub.PrepareUnaryCall(&ctx, method, to_buffer(req), &cq);
  r->StartCall();
  r->Finish(&out, &st, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  if (!cq.Next(&tag, &ok) || !ok) die(method + ": completion queue failed");
  if (!st.ok()) die(method + " failed: " + std::to_string(st.error_code()) + " " + st.error_message());
  Resp resp;
  if (!from_buffer(out, &resp)) die(method + ": undecodable answer");
  return resp;
}

// ---- the workloads: how a slot builds its next request and checks the answer ----

struct Chain {
  std::string key, refresh_token;
};

struct Workload {
  std::string name, method;
  std::map<std::string, std::string> metadata;  // sent on every call
  grpc::ByteBuffer fixed;                        // request when it does not change
  std::vector<Chain>* chains = nullptr;          // refresh only: one per slot
  enum Kind { Echo, Get, Refresh, Generate } kind = Echo;

  grpc::ByteBuffer request(int slot) const {
    if (kind != Refresh) return fixed;
    ::auth::_RefreshApiTokenRequest r;
    r.set_api_key((*chains)[slot].key);
    r.set_refresh_token((*chains)[slot].refresh_token);
    return to_buffer(r);
  }
  // Returns false when the answer is wrong; a refresh answer advances the slot's chain.
  bool check(int slot, grpc::ByteBuffer& resp) const {
    switch (kind) {
      case Echo: return resp.Length() == fixed.Length();
      case Get: {
        cache_client::_GetResponse g;
        return from_buffer(resp, &g) && g.result() == cache_client::Hit && !g.cache_body().empty();
      }
      case Refresh: {
        ::auth::_RefreshApiTokenResponse r;
        if (!from_buffer(resp, &r) || r.api_key().empty() || r.refresh_token().empty()) return false;
        (*chains)[slot] = {r.api_key(), r.refresh_token()};
        return true;
      }
      case Generate: {
        ::auth::_GenerateApiTokenResponse g;
        return from_buffer(resp, &g) && !g.api_key().empty() && !g.refresh_token().empty();
      }
    }
    return false;
  }
};

// ---- the load generator ----

struct PhaseResult {
  long ok = 0, errors = 0;
  double seconds = 0;
  std::vector<int64_t> lat_ns;  // successful calls
  double rps() const { return seconds > 0 ? ok / seconds : 0; }
  double pct(double q) const {
    if (lat_ns.empty()) return 0;
    size_t i = std::min(lat_ns.size() - 1, static_cast<size_t>(q * lat_ns.size()));
    return lat_ns[i] / 1000.0;  // µs
  }
};

struct Slot {
  int index = 0;
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
  grpc::ByteBuffer resp;
  grpc::Status status;
  Clock::time_point start;
  bool dead = false;  // a refresh chain that failed cannot continue
};

class Load {
 public:
  Load(const std::string& addr, int threads) {
    for (int i = 0; i < threads; ++i) channels_.push_back(make_channel(addr, i));
  }

  PhaseResult run(const Workload& w, int inflight, double seconds, long max_requests,
                  bool record) {
    const int nthreads = static_cast<int>(channels_.size());
    std::atomic<long> issued{0};
    std::vector<PhaseResult> parts(nthreads);
    const auto t0 = Clock::now();
    const auto end = t0 + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(seconds));
    std::vector<std::thread> ts;
    for (int t = 0; t < nthreads; ++t) {
      ts.emplace_back([&, t] {
        grpc::GenericStub stub(channels_[t]);
        grpc::CompletionQueue cq;
        std::vector<Slot> slots;
        for (int s = t; s < inflight; s += nthreads) slots.emplace_back().index = s;
        if (record) parts[t].lat_ns.reserve(std::min<long>(max_requests, 1'000'000));
        int outstanding = 0;
        auto issue = [&](Slot& s) {
          if (s.dead || Clock::now() >= end || issued.fetch_add(1) >= max_requests) return;
          s.ctx = std::make_unique<grpc::ClientContext>();
          s.ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
          for (const auto& [k, v] : w.metadata) s.ctx->AddMetadata(k, v);
          s.resp.Clear();
          s.start = Clock::now();
          s.reader = stub.PrepareUnaryCall(s.ctx.get(), w.method, w.request(s.index), &cq);
          s.reader->StartCall();
          s.reader->Finish(&s.resp, &s.status, &s);
          ++outstanding;
        };
        for (auto& s : slots) issue(s);
        void* tag = nullptr;
        bool ok = false;
        // Bounded: every call has a 10 s deadline and no call starts after `end`.
        while (outstanding > 0 && cq.Next(&tag, &ok)) {
          --outstanding;
          auto& s = *static_cast<Slot*>(tag);
          const auto took = Clock::now() - s.start;
          if (ok && s.status.ok() && w.check(s.index, s.resp)) {
            ++parts[t].ok;
            if (record) parts[t].lat_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
          } else {
            ++parts[t].errors;
            if (parts[t].errors <= 3)
              std::fprintf(stderr, "  %s error: %d %s\n", w.name.c_str(), s.status.error_code(),
                           s.status.error_message().c_str());
            if (w.kind == Workload::Refresh) s.dead = true;
          }
          issue(s);
        }
        cq.Shutdown();
        while (cq.Next(&tag, &ok)) {
        }
      });
    }
    for (auto& th : ts) th.join();
    PhaseResult r;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& p : parts) {
      r.ok += p.ok;
      r.errors += p.errors;
      r.lat_ns.insert(r.lat_ns.end(), p.lat_ns.begin(), p.lat_ns.end());
    }
    std::sort(r.lat_ns.begin(), r.lat_ns.end());
    return r;
  }

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
};

// CPU time (user + system) of a process, in seconds.
double process_cpu(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto p = s.rfind(')');
  if (p == std::string::npos) return 0;
  std::istringstream f(s.substr(p + 2));
  std::string field;
  double ut = 0, st = 0;
  for (int i = 3; i <= 15 && f >> field; ++i) {  // fields 14 and 15: utime, stime
    if (i == 14) ut = std::stod(field);
    if (i == 15) st = std::stod(field);
  }
  return (ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

// Busy CPU seconds of the whole machine (all CPUs) from /proc/stat.
double machine_busy() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> sys >> idle >> iowait >> irq >> softirq >> steal;
  return (user + nice + sys + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

struct Row {
  std::string target, workload;
  PhaseResult r;
  double server_cpu = 0, client_cpu = 0;  // seconds during the measured part
  double other_cpu = 0;  // busy CPU seconds of every other process in the same time
};

Row measure(Load& load, pid_t pid, const std::string& target, const Workload& w,
            const Options& o) {
  load.run(w, o.inflight, o.warmup, o.max_requests, false);
  Row row{target, w.name, {}, 0, 0, 0};
  const double s0 = process_cpu(pid), c0 = self_cpu(), m0 = machine_busy();
  row.r = load.run(w, o.inflight, o.seconds, o.max_requests, true);
  row.server_cpu = process_cpu(pid) - s0;
  row.client_cpu = self_cpu() - c0;
  row.other_cpu = std::max(0.0, machine_busy() - m0 - row.server_cpu - row.client_cpu);
  std::printf("%-8s %-9s %9ld %6ld %6.2f %10.0f %9.0f %9.0f %8.1f %8.1f %7.0f%% %7.0f%% %7.0f%%\n",
              target.c_str(), w.name.c_str(), row.r.ok, row.r.errors, row.r.seconds, row.r.rps(),
              row.r.pct(0.50), row.r.pct(0.99),
              row.r.ok ? row.server_cpu / row.r.ok * 1e6 : 0.0,
              row.r.ok ? row.client_cpu / row.r.ok * 1e6 : 0.0,
              100 * row.server_cpu / row.r.seconds, 100 * row.client_cpu / row.r.seconds,
              100 * row.other_cpu / row.r.seconds);
  std::fflush(stdout);
  return row;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) if (!x.empty()) out.push_back(x);
  return out;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--seconds") o.seconds = std::stod(value());
    else if (a == "--warmup") o.warmup = std::stod(value());
    else if (a == "--rounds") o.rounds = std::stoi(value());
    else if (a == "--inflight") o.inflight = std::stoi(value());
    else if (a == "--client-threads") o.client_threads = std::stoi(value());
    else if (a == "--max-requests") o.max_requests = std::stol(value());
    else if (a == "--threads") o.threads = std::stoi(value());
    else if (a == "--workloads") o.workloads = split(value());
    else if (a == "--server-arg") o.server_args.push_back(value());
    else if (a == "--subject-bin") o.subject_bin = value();
    else die("unknown argument " + a);
  }
  if (o.seconds <= 0 || o.seconds > 600) die("--seconds must be in (0, 600]");
  if (o.warmup < 0 || o.warmup > 60) die("--warmup must be in [0, 60]");
  if (o.rounds < 1 || o.rounds > 100) die("--rounds must be in [1, 100]");
  if (o.inflight < 1 || o.inflight > 4096) die("--inflight must be in [1, 4096]");
  if (o.client_threads < 1 || o.client_threads > o.inflight) die("--client-threads must be in [1, inflight]");
  if (o.max_requests < 1) die("--max-requests must be positive");
  for (const auto& w : o.workloads)
    if (w != "get" && w != "refresh" && w != "generate") die("unknown workload " + w);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  const std::string threads = std::to_string(o.threads);

  std::vector<std::string> subject_args = {"--threads", threads, "--log-format", "off"};
  subject_args.insert(subject_args.end(), o.server_args.begin(), o.server_args.end());
  momento::test::ServerProcess::Options so;
  so.binary = o.subject_bin;
  so.extra_args = subject_args;
  momento::test::ServerProcess subject(so);
  momento::test::ServerProcess::Options eo;
  eo.binary = MOMENTO_ECHO_BIN;
  eo.bootstrap = false;
  eo.extra_args = {"--threads", threads};
  momento::test::ServerProcess echo(eo);

  // ---- set-up on the subject ----
  auto setup = make_channel(subject.address(), 1000);
  const std::string su = subject.bootstrap_raw_key();
  {
    control_client::_CreateCacheRequest c;
    c.set_cache_name("bench");
    call<control_client::_CreateCacheRequest, control_client::_CreateCacheResponse>(
        *setup, "/control_client.ScsControl/CreateCache", c, {{"authorization", su}});
  }
  // A key scoped to the cache "bench" (explicit ReadWrite), never expiring.
  std::string get_key;
  {
    ::auth::_GenerateApiTokenRequest g;
    g.mutable_never();
    g.set_auth_token(su);
    auto* cp = g.mutable_permissions()->mutable_explicit_()->add_permissions()->mutable_cache_permissions();
    cp->set_role(permission_messages::CacheReadWrite);
    cp->mutable_cache_selector()->set_cache_name("bench");
    get_key = call<::auth::_GenerateApiTokenRequest, ::auth::_GenerateApiTokenResponse>(
                  *setup, "/auth.Auth/GenerateApiToken", g).api_key();
  }
  const std::string item_key = "bench-item";
  {
    cache_client::_SetRequest s;
    s.set_cache_key(item_key);
    s.set_cache_body(std::string(100, 'v'));
    s.set_ttl_milliseconds(3'600'000);
    call<cache_client::_SetRequest, cache_client::_SetResponse>(
        *setup, "/cache_client.Scs/Set", s, {{"authorization", get_key}, {"cache", "bench"}});
  }
  // Refresh chains: one family per in-flight slot.
  ::auth::_GenerateApiTokenRequest gen;
  gen.mutable_expires()->set_valid_for_seconds(3600);
  gen.set_auth_token(su);
  {
    auto* cp = gen.mutable_permissions()->mutable_explicit_()->add_permissions()->mutable_cache_permissions();
    cp->set_role(permission_messages::CacheReadWrite);
    cp->mutable_all_caches();
  }
  std::vector<Chain> chains;
  for (int i = 0; i < o.inflight; ++i) {
    auto r = call<::auth::_GenerateApiTokenRequest, ::auth::_GenerateApiTokenResponse>(
        *setup, "/auth.Auth/GenerateApiToken", gen);
    chains.push_back({r.api_key(), r.refresh_token()});
  }

  cache_client::_GetRequest get_req;
  get_req.set_cache_key(item_key);

  std::map<std::string, Workload> subject_w;
  subject_w["get"] = {"get", "/cache_client.Scs/Get", {{"authorization", get_key}, {"cache", "bench"}},
                      to_buffer(get_req), nullptr, Workload::Get};
  subject_w["refresh"] = {"refresh", "/auth.Auth/RefreshApiToken", {}, {}, &chains, Workload::Refresh};
  subject_w["generate"] = {"generate", "/auth.Auth/GenerateApiToken", {}, to_buffer(gen), nullptr,
                           Workload::Generate};
  // The echo payload has the Get request's size; the Get's two headers are sent too, so the
  // baseline moves the same bytes as an authorised Get.
  Workload echo_w{"echo", "/bench.Echo/Echo", {{"authorization", get_key}, {"cache", "bench"}},
                  to_buffer(get_req), nullptr, Workload::Echo};

  Load subject_load(subject.address(), o.client_threads);
  Load echo_load(echo.address(), o.client_threads);

  std::printf("momento-auth-server benchmark: %d rounds, %.1f s per phase (+%.1f s warm-up), "
              "%d calls in flight, %d client thread(s), server --threads %d, subject args:",
              o.rounds, o.seconds, o.warmup, o.inflight, o.client_threads, o.threads);
  for (const auto& a : subject_args) std::printf(" %s", a.c_str());
  std::printf("\n%ld CPUs online; load average before: %s\n\n", sysconf(_SC_NPROCESSORS_ONLN),
              loadavg().c_str());
  std::printf("%-8s %-9s %9s %6s %6s %10s %9s %9s %8s %8s %8s %8s %8s\n", "target", "workload",
              "ok", "errors", "secs", "req/s", "p50 us", "p99 us", "srv us", "cli us", "srv cpu",
              "cli cpu", "others");

  std::map<std::string, std::vector<double>> ratios, rps, p50, p99, erps, ep50, ep99;
  double other_max = 0;
  long total_errors = 0;
  for (int round = 0; round < o.rounds; ++round) {
    for (const auto& name : o.workloads) {
      const bool echo_first = round % 2 == 0;
      Row a, b;
      if (echo_first) {
        a = measure(echo_load, echo.pid(), "echo", echo_w, o);
        b = measure(subject_load, subject.pid(), "subject", subject_w[name], o);
      } else {
        b = measure(subject_load, subject.pid(), "subject", subject_w[name], o);
        a = measure(echo_load, echo.pid(), "echo", echo_w, o);
      }
      total_errors += a.r.errors + b.r.errors;
      other_max = std::max({other_max, a.other_cpu / a.r.seconds, b.other_cpu / b.r.seconds});
      ratios[name].push_back(a.r.rps() > 0 ? b.r.rps() / a.r.rps() : 0);
      rps[name].push_back(b.r.rps());
      p50[name].push_back(b.r.pct(0.5));
      p99[name].push_back(b.r.pct(0.99));
      erps[name].push_back(a.r.rps());
      ep50[name].push_back(a.r.pct(0.5));
      ep99[name].push_back(a.r.pct(0.99));
    }
  }

  std::printf("\nload average after: %s\n\n", loadavg().c_str());
  std::printf("median over %d rounds (ratio = subject req/s / echo req/s of the adjacent phase)\n",
              o.rounds);
  std::printf("%-9s %10s %9s %9s %10s %9s %9s %7s %7s %7s\n", "workload", "req/s", "p50 us",
              "p99 us", "echo req/s", "echo p50", "echo p99", "ratio", "min", "max");
  for (const auto& name : o.workloads) {
    auto& r = ratios[name];
    std::printf("%-9s %10.0f %9.0f %9.0f %10.0f %9.0f %9.0f %7.2f %7.2f %7.2f\n", name.c_str(),
                median(rps[name]), median(p50[name]), median(p99[name]), median(erps[name]),
                median(ep50[name]), median(ep99[name]), median(r),
                *std::min_element(r.begin(), r.end()), *std::max_element(r.begin(), r.end()));
  }
  std::printf("errors: %ld; largest CPU share of other processes in a phase: %.0f%%\n",
              total_errors, 100 * other_max);
  return total_errors == 0 ? 0 : 1;
}
